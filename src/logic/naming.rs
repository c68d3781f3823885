//! Host object names derived from Kubernetes names: the zone that runs a pod and the VNIC
//! that connects it. Both are deterministic functions of (namespace, pod name), so a
//! respawned actor finds the same objects again, and both obey the illumos rules
//! (reference §12.5): zone names `[A-Za-z0-9][A-Za-z0-9_.-]*`, at most 63 characters, not
//! `global`, not `SUNW*`; link names `[A-Za-z][A-Za-z0-9_]*[0-9]`, at most 31 characters,
//! trailing number without a leading zero. Pure: no IO.

use sha2::{Digest, Sha256};

/// The longest zone name: ZONENAME_MAX (64) minus the terminating NUL. `[verify]` against
/// `sys/zone.h` on the target release (the platform profile copies this value).
pub const ZONE_NAME_MAX: usize = 63;

/// The longest datalink name: MAXLINKNAMELEN (32) minus the NUL.
pub const LINK_NAME_MAX: usize = 31;

/// The largest link PPA (the trailing number of a link name).
const PPA_MAX: u64 = 4_294_967_294;

/// Hex digits of the hash suffix that makes a shortened zone name unique (48 bits).
const ZONE_HASH_DIGITS: usize = 12;

/// Marks a shortened zone name. Kubernetes names never contain `_`, so a full name
/// `NAMESPACE_POD` holds exactly one underscore and never two in a row: a shortened name
/// can therefore never equal a full one.
const SHORTENED_MARK: &str = "__";

/// VNIC names start with this, so `dladm show-vnic` shows at a glance which links are ours.
const VNIC_PREFIX: &str = "rd";

/// How many characters of the pod name appear in a VNIC name, for humans.
const VNIC_READABLE: usize = 12;

/// Hex digits of the hash in a VNIC name (40 bits).
const VNIC_HASH_DIGITS: usize = 10;

/// Why a name is not acceptable to the host.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// A zone name breaks the zonecfg rules.
    #[error("invalid zone name '{name}': {reason}")]
    Zone {
        /// The rejected name.
        name: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// A datalink name breaks the dladm rules.
    #[error("invalid link name '{name}': {reason}")]
    Link {
        /// The rejected name.
        name: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
}

/// The zone name of a pod: `NAMESPACE_POD` when that fits, otherwise a prefix of it, `__`
/// and a 12-digit hash of both names. Different (namespace, pod) pairs give different names
/// (shortened ones up to a 48-bit hash collision).
pub fn zone_name(namespace: &str, pod_name: &str) -> String {
    let full = format!("{namespace}_{pod_name}");
    if check_zone_name(&full).is_ok() && !full.contains(SHORTENED_MARK) && full.matches('_').count() == 1 {
        return full;
    }
    let hash = short_hash("zone", namespace, pod_name, ZONE_HASH_DIGITS);
    let keep = ZONE_NAME_MAX - SHORTENED_MARK.len() - hash.len();
    let mut prefix: String = full
        .chars()
        .take(keep)
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') { c.to_ascii_lowercase() } else { '-' })
        .collect();
    if !prefix.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        prefix.replace_range(..prefix.chars().next().map_or(0, char::len_utf8), "z");
    }
    format!("{prefix}{SHORTENED_MARK}{hash}")
}

/// The VNIC name of a pod: `rd`, up to 12 characters of the pod name (with `-` and `.` as
/// `_`), `_`, a 10-digit hash of (namespace, pod) and `x0`. At most 27 characters; it always
/// ends in the PPA `0` after a letter, as dladm requires.
pub fn vnic_name(namespace: &str, pod_name: &str) -> String {
    let readable: String = pod_name
        .chars()
        .take(VNIC_READABLE)
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
        .collect();
    let hash = short_hash("vnic", namespace, pod_name, VNIC_HASH_DIGITS);
    format!("{VNIC_PREFIX}{readable}_{hash}x0")
}

/// Checks a zone name against the zonecfg rules.
pub fn check_zone_name(name: &str) -> Result<(), NameError> {
    let fail = |reason| Err(NameError::Zone { name: name.to_string(), reason });
    if name.is_empty() {
        return fail("must not be empty");
    }
    if name.len() > ZONE_NAME_MAX {
        return fail("longer than 63 characters");
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return fail("must start with a letter or digit");
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) {
        return fail("may contain only letters, digits, '_', '-' and '.'");
    }
    if name == "global" || name.starts_with("SUNW") {
        return fail("'global' and names starting with 'SUNW' are reserved");
    }
    Ok(())
}

/// Checks a datalink (VNIC, etherstub) name against the dladm rules.
pub fn check_link_name(name: &str) -> Result<(), NameError> {
    let fail = |reason| Err(NameError::Link { name: name.to_string(), reason });
    if name.len() > LINK_NAME_MAX {
        return fail("longer than 31 characters");
    }
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return fail("must start with a letter");
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return fail("may contain only letters, digits and '_'");
    }
    let stem = name.trim_end_matches(|c: char| c.is_ascii_digit());
    let ppa = &name[stem.len()..];
    if ppa.is_empty() {
        return fail("must end with a digit");
    }
    if ppa.len() > 1 && ppa.starts_with('0') {
        return fail("its trailing number must not have a leading zero");
    }
    if ppa.parse::<u64>().map_or(true, |n| n > PPA_MAX) {
        return fail("its trailing number is larger than 4294967294");
    }
    Ok(())
}

/// The first `digits` hex digits of SHA-256 over a length-prefixed encoding of the inputs,
/// so `("a-b", "c")` and `("a", "b-c")` hash differently.
fn short_hash(purpose: &str, namespace: &str, pod_name: &str, digits: usize) -> String {
    let input = format!("{purpose}:{}:{namespace}:{}:{pod_name}", namespace.len(), pod_name.len());
    let mut text = hex::encode(Sha256::digest(input.as_bytes()));
    text.truncate(digits);
    text
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    /// A tiny deterministic generator (xorshift), so property tests need no extra crate.
    struct Generator(u64);

    impl Generator {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        /// A DNS-1123 label (namespaces) or subdomain (pod names) of length 1..=max.
        fn dns_name(&mut self, max: usize, dots: bool) -> String {
            const EDGE: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
            let len = 1 + self.below(max);
            (0..len)
                .map(|i| {
                    let inner = i > 0 && i + 1 < len;
                    match self.below(10) {
                        0 if inner => '-',
                        1 if inner && dots => '.',
                        _ => EDGE[self.below(EDGE.len())] as char,
                    }
                })
                .collect()
        }
    }

    #[test]
    fn short_names_are_readable() {
        let cases = [
            ("default", "web-1", "default_web-1"),
            ("kube-system", "coredns-5d78c9869d-abcde", "kube-system_coredns-5d78c9869d-abcde"),
            ("a", "b.c", "a_b.c"),
        ];
        for (namespace, pod, expected) in cases {
            assert_eq!(zone_name(namespace, pod), expected);
        }
    }

    #[test]
    fn long_names_are_shortened_with_a_hash() {
        let pod = "x".repeat(200);
        let name = zone_name("default", &pod);
        assert_eq!(name.len(), ZONE_NAME_MAX);
        assert!(name.starts_with("default_xxxx"), "{name}");
        assert!(name.contains("__"));
        assert_ne!(name, zone_name("default", &"x".repeat(199)));
        // Exactly at the limit the full name is kept; one more character shortens it.
        let fits = "p".repeat(ZONE_NAME_MAX - "ns_".len());
        assert_eq!(zone_name("ns", &fits), format!("ns_{fits}"));
        assert!(zone_name("ns", &format!("{fits}p")).contains("__"));
    }

    #[test]
    fn hostile_inputs_still_give_valid_names() {
        for (namespace, pod) in [("", ""), ("-x", "y"), ("SUNWfoo", "bar"), ("a b", "c;d"), ("ns", "a__b"), ("ä", "ö")]
        {
            let name = zone_name(namespace, pod);
            assert_eq!(check_zone_name(&name), Ok(()), "{namespace:?}/{pod:?} gave {name:?}");
            assert_eq!(check_link_name(&vnic_name(namespace, pod)), Ok(()));
        }
    }

    #[test]
    fn zone_names_obey_the_rules_and_are_unique() {
        let mut generator = Generator(0x9e37_79b9_7f4a_7c15);
        let mut seen_inputs = HashSet::new();
        let mut zone_names = HashSet::new();
        let mut vnic_names = HashSet::new();
        for _ in 0..20_000 {
            let namespace = generator.dns_name(63, false);
            let max = if generator.below(4) == 0 { 253 } else { 40 };
            let pod = generator.dns_name(max, true);
            if !seen_inputs.insert((namespace.clone(), pod.clone())) {
                continue;
            }
            let zone = zone_name(&namespace, &pod);
            assert_eq!(check_zone_name(&zone), Ok(()), "{namespace}/{pod}");
            assert_eq!(zone, zone_name(&namespace, &pod), "deterministic");
            assert!(zone_names.insert(zone.clone()), "zone name collision: {zone}");
            let vnic = vnic_name(&namespace, &pod);
            assert_eq!(check_link_name(&vnic), Ok(()), "{namespace}/{pod}");
            assert!(vnic.len() <= 27);
            assert!(vnic_names.insert(vnic.clone()), "vnic name collision: {vnic}");
        }
        assert!(seen_inputs.len() > 19_000);
    }

    #[test]
    fn separators_cannot_be_confused() {
        // Moving a '-' or '.' across the namespace/pod boundary changes the name.
        let pairs = [(("a-b", "c"), ("a", "b-c")), (("a", "b.c"), ("a.b", "c")), (("ab", "c"), ("a", "bc"))];
        for ((n1, p1), (n2, p2)) in pairs {
            assert_ne!(zone_name(n1, p1), zone_name(n2, p2));
            assert_ne!(vnic_name(n1, p1), vnic_name(n2, p2));
        }
        // Long names that differ only in their last character are still told apart.
        let base = "n".repeat(63);
        let (left, right) = (format!("{}a", "p".repeat(100)), format!("{}b", "p".repeat(100)));
        assert_ne!(zone_name(&base, &left), zone_name(&base, &right));
        assert_ne!(vnic_name(&base, &left), vnic_name(&base, &right));
    }

    #[test]
    fn link_name_rules() {
        let table = [
            ("x0", true),
            ("net10", true),
            ("stub0", true),
            ("a_b9", true),
            ("net01", false),
            ("x00", false),
            ("0net", false),
            ("_x1", false),
            ("net", false),
            ("ne-t0", false),
            ("", false),
            ("a4294967294", true),
            ("a4294967295", false),
            (&*format!("{}1", "a".repeat(30)), true),
            (&*format!("{}1", "a".repeat(31)), false),
        ];
        for (name, ok) in table {
            assert_eq!(check_link_name(name).is_ok(), ok, "{name}");
        }
    }

    #[test]
    fn zone_name_rules() {
        let table = [
            ("web-1", true),
            ("A.b_c-9", true),
            ("9lives", true),
            ("global", false),
            ("SUNWdefault", false),
            ("-web", false),
            ("web/1", false),
            ("", false),
            (&*"z".repeat(63), true),
            (&*"z".repeat(64), false),
        ];
        for (name, ok) in table {
            assert_eq!(check_zone_name(name).is_ok(), ok, "{name}");
        }
    }
}
