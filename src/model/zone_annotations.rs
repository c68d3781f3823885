//! Pod annotations that reach a zone's configuration (`zone-attr.reddwarf.io/NAME: VALUE`
//! becomes a zonecfg `attr`), and the rules that keep them harmless: zonecfg re-parses
//! its input, so an attribute name is a plain identifier and a value may hold nothing that
//! ends a quoted string or a command. The API refuses a pod that breaks them (422), and
//! the zone planner checks again before anything is rendered.

/// The annotation prefix whose entries become zone `attr`s.
pub const ATTR_ANNOTATION_PREFIX: &str = "zone-attr.reddwarf.io/";
/// Attributes the agent writes itself (ownership); a pod may not set them.
pub const OWN_ATTR_PREFIX: &str = "reddwarf-";

/// Why `name` cannot be a zone attribute name, if it cannot.
pub fn attr_name_problem(name: &str) -> Option<&'static str> {
    let valid = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        && !name.starts_with("zone")
        && !name.starts_with(OWN_ATTR_PREFIX);
    (!valid).then_some(
        "must start with a letter or digit, hold only letters, digits, '-', '.' and '_', and not start with 'zone' or 'reddwarf-'",
    )
}

/// Why `value` cannot be written as a double-quoted zonecfg value, if it cannot. zonecfg's
/// lexer has no escapes: a double quote or backslash would end or bend the string, and a
/// control character such as a newline would end the command.
pub fn quotable_problem(value: &str) -> Option<&'static str> {
    if value.contains('"') {
        Some("must not contain a double quote")
    } else if value.contains('\\') {
        Some("must not contain a backslash")
    } else if value.chars().any(char::is_control) {
        Some("must not contain control characters (such as newlines)")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_values() {
        for (name, ok) in [
            ("note", true),
            ("a.b-c_9", true),
            ("zonename", false),
            ("reddwarf-pod", false),
            ("a b", false),
            ("a;b", false),
            ("", false),
            ("-x", false),
        ] {
            assert_eq!(attr_name_problem(name).is_none(), ok, "{name:?}");
        }
        for (value, ok) in [
            ("a; b", true),
            ("plain", true),
            ("", true),
            ("x\"; delete -F; \"", false),
            ("line\nadd attr", false),
            ("back\\slash", false),
            ("tab\there", false),
        ] {
            assert_eq!(quotable_problem(value).is_none(), ok, "{value:?}");
        }
    }
}
