//! Field selectors: the `fieldSelector` query syntax (`a=b`, `a==b`, `a!=b`, joined by
//! commas, with `\` escaping `,`, `=`, `!` and `\`). Which fields a resource supports is the
//! API registry's business; this module parses and matches.

/// A parsed field selector: the conjunction of its terms.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSelector {
    terms: Vec<FieldTerm>,
}

/// One `field=value` or `field!=value` term.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldTerm {
    /// The field path, e.g. `spec.nodeName`.
    pub field: String,
    /// The value compared against.
    pub value: String,
    /// True for `!=`.
    pub negated: bool,
}

/// Why a field selector could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid field selector: {0}")]
pub struct FieldSelectorError(pub String);

impl FieldSelector {
    /// True when there are no terms.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The terms, in the order given.
    pub fn terms(&self) -> &[FieldTerm] {
        &self.terms
    }

    /// The value a term requires with `=` for `field`, if any: lets a caller narrow a scan
    /// (for example `metadata.name` to one key).
    pub fn required_value(&self, field: &str) -> Option<&str> {
        self.terms.iter().find(|t| t.field == field && !t.negated).map(|t| t.value.as_str())
    }

    /// The same selector with every field renamed by `rename`.
    pub fn map_fields(self, rename: impl Fn(&str) -> String) -> Self {
        Self { terms: self.terms.into_iter().map(|t| FieldTerm { field: rename(&t.field), ..t }).collect() }
    }

    /// Parses the query-string form.
    pub fn parse(text: &str) -> Result<Self, FieldSelectorError> {
        let mut terms = Vec::new();
        for raw in split_unescaped(text, ',') {
            if raw.trim().is_empty() {
                continue;
            }
            let (field, value, negated) = split_operator(&raw)
                .ok_or_else(|| FieldSelectorError(format!("invalid selector: '{text}'; can't understand '{raw}'")))?;
            let field = field.trim().to_string();
            if field.is_empty() {
                return Err(FieldSelectorError(format!("invalid selector: '{text}'; empty field name")));
            }
            terms.push(FieldTerm { field, value: unescape(value.trim()), negated });
        }
        Ok(Self { terms })
    }

    /// True when every term holds; `lookup(field)` gives the object's value for a field.
    pub fn matches<'a>(&self, lookup: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.terms.iter().all(|t| {
            let actual = lookup(&t.field).unwrap_or("");
            (actual == t.value) != t.negated
        })
    }
}

/// Splits at `sep` where it is not preceded by an escaping backslash; keeps escapes.
fn split_unescaped(text: &str, sep: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut escaped = false;
    for c in text.chars() {
        if escaped {
            parts.last_mut().expect("never empty").push(c);
            escaped = false;
        } else if c == '\\' {
            parts.last_mut().expect("never empty").push(c);
            escaped = true;
        } else if c == sep {
            parts.push(String::new());
        } else {
            parts.last_mut().expect("never empty").push(c);
        }
    }
    parts
}

/// Finds the first unescaped operator: returns (field, value, negated).
fn split_operator(term: &str) -> Option<(&str, &str, bool)> {
    let bytes = term.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'!' if bytes.get(i + 1) == Some(&b'=') => return Some((&term[..i], &term[i + 2..], true)),
            b'=' if bytes.get(i + 1) == Some(&b'=') => return Some((&term[..i], &term[i + 2..], false)),
            b'=' => return Some((&term[..i], &term[i + 1..], false)),
            _ => i += 1,
        }
    }
    None
}

fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut escaped = false;
    for c in value.chars() {
        if escaped || c != '\\' {
            out.push(c);
            escaped = false;
        } else {
            escaped = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_matches() {
        let sel =
            FieldSelector::parse("involvedObject.name=nginx,involvedObject.namespace=default,involvedObject.uid=u1")
                .unwrap();
        assert_eq!(sel.terms().len(), 3);
        let lookup = |f: &str| match f {
            "involvedObject.name" => Some("nginx"),
            "involvedObject.namespace" => Some("default"),
            "involvedObject.uid" => Some("u1"),
            _ => None,
        };
        assert!(sel.matches(lookup));
        assert!(!FieldSelector::parse("involvedObject.name!=nginx").unwrap().matches(lookup));
        assert!(FieldSelector::parse("status.phase==").unwrap().matches(|_| None));
        assert_eq!(sel.required_value("involvedObject.uid"), Some("u1"));
    }

    #[test]
    fn escapes() {
        let sel = FieldSelector::parse(r"metadata.name=a\,b,spec.nodeName!=x\=y").unwrap();
        assert_eq!(sel.terms()[0].value, "a,b");
        assert_eq!(sel.terms()[1].value, "x=y");
        assert!(sel.terms()[1].negated);
    }

    #[test]
    fn rejects() {
        assert!(FieldSelector::parse("nonsense").is_err());
        assert!(FieldSelector::parse("=x").is_err());
        assert!(FieldSelector::parse("").unwrap().is_empty());
    }
}
