//! The libofmt parsable format shared by `dladm show-* -p -o …` and `ipadm show-* -p -o …`
//! (reference §4.4): fields joined by `:`; when more than one field is requested, `:` and
//! `\` inside values are escaped with `\`; with a single field the value is raw. Pure.

/// Splits parsable output into rows of exactly `fields` values. Lines with a different
/// number of fields are reported by their 1-based number.
pub fn parse_rows(text: &str, fields: usize) -> Result<Vec<Vec<String>>, usize> {
    let mut rows = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.is_empty() {
            continue;
        }
        let row = if fields == 1 { vec![line.to_string()] } else { split_escaped(line) };
        if row.len() != fields {
            return Err(index + 1);
        }
        rows.push(row);
    }
    Ok(rows)
}

fn split_escaped(line: &str) -> Vec<String> {
    let mut row = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    row.last_mut().expect("never empty").push(next);
                }
            }
            ':' => row.push(String::new()),
            c => row.last_mut().expect("never empty").push(c),
        }
    }
    row
}

/// A value that means "none" in ofmt output: empty, `--` or `?`.
pub fn none_if_blank(value: &str) -> Option<String> {
    (!matches!(value, "" | "--" | "?")).then(|| value.to_string())
}

/// Renders rows the way libofmt does (used by the fake, and to test the parser).
pub fn render_rows(rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    for row in rows {
        if row.len() == 1 {
            out.push_str(&row[0]);
        } else {
            let escaped: Vec<String> = row.iter().map(|v| v.replace('\\', "\\\\").replace(':', "\\:")).collect();
            out.push_str(&escaped.join(":"));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_applies_only_to_multi_field_output() {
        // From the reference (§4.4): MAC addresses are escaped with several fields, raw alone.
        let rows = parse_rows("pod1x0:2\\:8\\:20\\:aa\\:bb\\:1:web-1\n", 3).unwrap();
        assert_eq!(rows, [["pod1x0", "2:8:20:aa:bb:1", "web-1"]]);
        assert_eq!(parse_rows("2:8:20:aa:bb:1\n", 1).unwrap(), [["2:8:20:aa:bb:1"]]);
        let v6 = parse_rows("net0/v6ll:addrconf:ok:fe80\\:\\:8\\:20ff\\:fe12\\:3456%net0/10\n", 4).unwrap();
        assert_eq!(v6[0][3], "fe80::8:20ff:fe12:3456%net0/10");
        assert_eq!(parse_rows("a:b\n", 3), Err(1));
    }

    #[test]
    fn render_and_parse_round_trip() {
        let rows =
            vec![vec!["a:b".to_string(), "c\\d".to_string(), String::new()], vec!["x".into(), "y".into(), "z".into()]];
        assert_eq!(parse_rows(&render_rows(&rows), 3).unwrap(), rows);
        let single = vec![vec!["a:b".to_string()]];
        assert_eq!(render_rows(&single), "a:b\n");
        assert_eq!(parse_rows(&render_rows(&single), 1).unwrap(), single);
    }

    #[test]
    fn blanks() {
        assert_eq!(none_if_blank("--"), None);
        assert_eq!(none_if_blank(""), None);
        assert_eq!(none_if_blank("?"), None);
        assert_eq!(none_if_blank("web-1").as_deref(), Some("web-1"));
    }
}
