//! Small helpers shared by the emulated tools: POSIX-style option parsing and output
//! construction.

use crate::illumos::exec::CommandOutput;

/// Parsed options: `(letter, argument)` in order, then the operands.
pub(crate) type Parsed = (Vec<(char, Option<String>)>, Vec<String>);

/// POSIX getopt: `spec` lists the letters, a `:` after a letter means it takes an
/// argument. Parsing stops at the first operand or at `--`.
pub(crate) fn getopt(args: &[String], spec: &str) -> Result<Parsed, String> {
    let mut options = Vec::new();
    let mut index = 0;
    while index < args.len() {
        let arg = &args[index];
        if arg == "--" {
            index += 1;
            break;
        }
        if !arg.starts_with('-') || arg.len() < 2 {
            break;
        }
        let letters: Vec<char> = arg[1..].chars().collect();
        let mut at = 0;
        while at < letters.len() {
            let letter = letters[at];
            let position =
                spec.find(letter).filter(|_| letter != ':').ok_or_else(|| format!("illegal option -- {letter}"))?;
            if spec[position + 1..].starts_with(':') {
                let rest: String = letters[at + 1..].iter().collect();
                let value = if !rest.is_empty() {
                    rest
                } else {
                    index += 1;
                    args.get(index).cloned().ok_or_else(|| format!("option requires an argument -- {letter}"))?
                };
                options.push((letter, Some(value)));
                break;
            }
            options.push((letter, None));
            at += 1;
        }
        index += 1;
    }
    Ok((options, args[index..].to_vec()))
}

/// True when `letter` was given.
pub(crate) fn has(options: &[(char, Option<String>)], letter: char) -> bool {
    options.iter().any(|(l, _)| *l == letter)
}

/// The last argument given to `letter`.
pub(crate) fn value(options: &[(char, Option<String>)], letter: char) -> Option<&str> {
    options.iter().rev().find(|(l, _)| *l == letter).and_then(|(_, v)| v.as_deref())
}

/// Every argument given to `letter`, in order.
pub(crate) fn values(options: &[(char, Option<String>)], letter: char) -> Vec<&str> {
    options.iter().filter(|(l, _)| *l == letter).filter_map(|(_, v)| v.as_deref()).collect()
}

/// Exit 0 with `stdout`.
pub(crate) fn ok(stdout: impl Into<String>) -> CommandOutput {
    CommandOutput { exit_code: 0, stdout: stdout.into(), stderr: String::new() }
}

/// Exit `code` with `message` (a newline is added) on stderr.
pub(crate) fn fail(code: i32, message: impl AsRef<str>) -> CommandOutput {
    CommandOutput { exit_code: code, stdout: String::new(), stderr: format!("{}\n", message.as_ref()) }
}

/// Renders rows as a human table: upper-case headers, columns padded to their widest
/// value, `--` for empty values.
pub(crate) fn human_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|v| if v.is_empty() { "--".to_string() } else { v.clone() }).collect())
        .collect();
    let widths: Vec<usize> = (0..headers.len())
        .map(|i| cells.iter().map(|r| r[i].len()).chain(std::iter::once(headers[i].len())).max().unwrap_or(0))
        .collect();
    let line = |values: Vec<String>| {
        let padded: Vec<String> =
            values.iter().enumerate().map(|(i, v)| format!("{v:<width$}", width = widths[i])).collect();
        format!("{}\n", padded.join(" ").trim_end())
    };
    let mut out = line(headers.iter().map(|h| h.to_uppercase()).collect());
    for row in cells {
        out.push_str(&line(row));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn getopt_like_posix() {
        let (options, operands) = getopt(&strings(&["-cip", "-o", "a,b", "-ovalue", "rest", "-x"]), "cipo:").unwrap();
        assert_eq!(
            options,
            [('c', None), ('i', None), ('p', None), ('o', Some("a,b".into())), ('o', Some("value".into()))]
        );
        assert_eq!(operands, ["rest", "-x"]);
        assert_eq!(value(&options, 'o'), Some("value"));
        assert_eq!(values(&options, 'o'), ["a,b", "value"]);
        assert!(getopt(&strings(&["-q"]), "cip").is_err());
        assert!(getopt(&strings(&["-o"]), "o:").is_err());
        let (_, operands) = getopt(&strings(&["--", "-c"]), "c").unwrap();
        assert_eq!(operands, ["-c"]);
    }

    #[test]
    fn human_tables_pad_columns() {
        let table = human_table(&["link", "zone"], &[vec!["pod1x0".into(), String::new()]]);
        assert_eq!(table, "LINK   ZONE\npod1x0 --\n");
    }
}
