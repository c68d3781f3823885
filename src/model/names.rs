//! Object-name and label-syntax rules, as the Kubernetes apimachinery validation defines
//! them. Each check returns the upstream wording, so users see the messages they already know.

/// Maximum length of a DNS-1123 label (and of a label name or value).
pub const DNS1123_LABEL_MAX: usize = 63;
/// Maximum length of a DNS-1123 subdomain.
pub const DNS1123_SUBDOMAIN_MAX: usize = 253;

const LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric \
characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  \
or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case \
alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character \
(e.g. 'example.com', regex used for validation is \
'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const DNS1035_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters \
or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. \
'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const QUALIFIED_NAME_MSG: &str = "name part must consist of alphanumeric characters, '-', '_' \
or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  \
or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric \
characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. \
'MyValue',  or 'my_value',  or '12345', regex used for validation is \
'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

/// Which rule a resource applies to the names of its objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameRule {
    /// RFC 1123 label: namespaces.
    Dns1123Label,
    /// RFC 1123 subdomain: pods, nodes, configmaps, secrets and most others.
    Dns1123Subdomain,
    /// RFC 1035 label: services.
    Dns1035Label,
}

impl NameRule {
    /// Checks `name`; on failure returns every reason, in upstream wording.
    pub fn check(self, name: &str) -> Result<(), Vec<String>> {
        let errors = match self {
            NameRule::Dns1123Label => dns1123_label(name),
            NameRule::Dns1123Subdomain => dns1123_subdomain(name),
            NameRule::Dns1035Label => dns1035_label(name),
        };
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }
}

fn is_lower_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

fn is_label_shaped(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && is_lower_alnum(b[0])
        && is_lower_alnum(b[b.len() - 1])
        && b.iter().all(|&c| is_lower_alnum(c) || c == b'-')
}

/// Errors for `name` as an RFC 1123 label (empty when valid).
pub fn dns1123_label(name: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if name.len() > DNS1123_LABEL_MAX {
        errors.push(format!("must be no more than {DNS1123_LABEL_MAX} characters"));
    }
    if !is_label_shaped(name) {
        errors.push(LABEL_MSG.to_string());
    }
    errors
}

/// Errors for `name` as an RFC 1123 subdomain (empty when valid).
pub fn dns1123_subdomain(name: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if name.len() > DNS1123_SUBDOMAIN_MAX {
        errors.push(format!("must be no more than {DNS1123_SUBDOMAIN_MAX} characters"));
    }
    if name.is_empty() || !name.split('.').all(is_label_shaped) {
        errors.push(SUBDOMAIN_MSG.to_string());
    }
    errors
}

/// Errors for `name` as an RFC 1035 label (empty when valid).
pub fn dns1035_label(name: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if name.len() > DNS1123_LABEL_MAX {
        errors.push(format!("must be no more than {DNS1123_LABEL_MAX} characters"));
    }
    if !is_label_shaped(name) || !name.as_bytes()[0].is_ascii_lowercase() {
        errors.push(DNS1035_MSG.to_string());
    }
    errors
}

fn is_qualified_part(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// Errors for a label or annotation key: an optional DNS subdomain prefix and a `/`, then a
/// name of at most 63 characters.
pub fn qualified_name(key: &str) -> Vec<String> {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let mut errors = Vec::new();
    if let Some(prefix) = prefix {
        if prefix.is_empty() {
            errors.push("prefix part must be non-empty".to_string());
        } else {
            errors.extend(dns1123_subdomain(prefix).into_iter().map(|e| format!("prefix part {e}")));
        }
    }
    if name.is_empty() {
        errors.push("name part must be non-empty".to_string());
    } else {
        if name.len() > DNS1123_LABEL_MAX {
            errors.push(format!("name part must be no more than {DNS1123_LABEL_MAX} characters"));
        }
        if !is_qualified_part(name) {
            errors.push(QUALIFIED_NAME_MSG.to_string());
        }
    }
    errors
}

/// Errors for a label value (empty when valid; the empty string is a valid value).
pub fn label_value(value: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if value.len() > DNS1123_LABEL_MAX {
        errors.push(format!("must be no more than {DNS1123_LABEL_MAX} characters"));
    }
    if !value.is_empty() && !is_qualified_part(value) {
        errors.push(LABEL_VALUE_MSG.to_string());
    }
    errors
}

/// The random suffix alphabet upstream uses for `generateName`: no vowels (no words) and no
/// look-alike characters.
pub const GENERATE_NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
/// Length of the random `generateName` suffix.
pub const GENERATE_NAME_SUFFIX_LEN: usize = 5;
/// Longest prefix kept from `generateName`, so the result still fits a 63-character label.
const GENERATE_NAME_PREFIX_MAX: usize = DNS1123_LABEL_MAX - GENERATE_NAME_SUFFIX_LEN;

/// Builds a name from `generateName` and a random source; `pick(n)` returns an index below `n`.
pub fn generate_name(prefix: &str, mut pick: impl FnMut(usize) -> usize) -> String {
    let mut cut = prefix.len().min(GENERATE_NAME_PREFIX_MAX);
    while !prefix.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut name = prefix[..cut].to_string();
    for _ in 0..GENERATE_NAME_SUFFIX_LEN {
        name.push(GENERATE_NAME_ALPHABET[pick(GENERATE_NAME_ALPHABET.len())] as char);
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        for ok in ["a", "abc", "a-b", "0", "web-1", &"a".repeat(63)] {
            assert!(dns1123_label(ok).is_empty(), "{ok}");
        }
        for bad in ["", "-a", "a-", "A", "a.b", "a_b", "a;b", &"a".repeat(64), "a\nb"] {
            assert!(!dns1123_label(bad).is_empty(), "{bad:?}");
        }
        assert_eq!(dns1123_label(&"a".repeat(64)), vec!["must be no more than 63 characters"]);
    }

    #[test]
    fn subdomains() {
        for ok in ["a.b", "example.com", "web-1", "x"] {
            assert!(dns1123_subdomain(ok).is_empty(), "{ok}");
        }
        for bad in ["", ".", "..", "a..b", "a.", "Web", "a/b", "a%2f", "$(reboot)"] {
            assert!(!dns1123_subdomain(bad).is_empty(), "{bad:?}");
        }
    }

    #[test]
    fn dns1035() {
        assert!(dns1035_label("web").is_empty());
        assert!(!dns1035_label("1web").is_empty());
        assert!(!dns1035_label("").is_empty());
    }

    #[test]
    fn qualified_names_and_values() {
        for ok in ["app", "app.kubernetes.io/name", "A_b.c", "reddwarf.io/zone-brand"] {
            assert!(qualified_name(ok).is_empty(), "{ok}");
        }
        for bad in ["", "/a", "a/", "-a", "a b", "Example.com/a", &"a".repeat(64)] {
            assert!(!qualified_name(bad).is_empty(), "{bad:?}");
        }
        assert!(label_value("").is_empty());
        assert!(label_value("v1.2_x").is_empty());
        assert!(!label_value("a b").is_empty());
        assert!(!label_value(&"v".repeat(64)).is_empty());
    }

    #[test]
    fn generated_names_fit_and_use_the_alphabet() {
        let name = generate_name(&"p".repeat(80), |_| 0);
        assert_eq!(name.len(), 63);
        assert!(name.ends_with("bbbbb"));
        let mut i = 0;
        let name = generate_name("web-", |n| {
            i += 1;
            i % n
        });
        assert_eq!(name, "web-cdfgh");
    }
}
