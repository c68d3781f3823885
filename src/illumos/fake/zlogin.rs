//! The FakeHost's zlogin: option parsing, the zone-state checks and errors of reference
//! §3.2, and execution "inside" the zone. Like the real tool it joins the words after the
//! zone name with spaces and lets the zone's shell re-split them, so lost quoting shows up
//! in tests: the line is split into simple commands at unquoted `;`, `&`, `|`, `&&`, `||`
//! and newlines, and each command is answered from the per-zone script a test set, or by a
//! few built-ins (`hostname`, `zonename`, `true`, `false`, `echo`, `cat`, `ipadm
//! show-addr`, `svcs` for the multi-user milestone). Redirections and `$` expansion are not
//! emulated (they are kept as literal words).

use super::args::{fail, getopt, has, value};
use super::control::strip_env;
use super::ipadm::{render_addresses, zone_addresses};
use super::messages as msg;
use super::{HostState, Outcome};
use crate::illumos::exec::CommandOutput;
use crate::illumos::zoneadm::ZoneState;

/// How one simple command is joined to the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Joiner {
    /// `;`, `&`, `|` or a newline: run the next one regardless.
    Always,
    /// `&&`.
    IfSuccess,
    /// `||`.
    IfFailure,
}

/// Splits a shell line into simple commands (argv) with how each follows the previous.
/// POSIX quoting: `'…'` is literal, `"…"` honours `\"`, `\\`, `\$`, `` \` ``, and a
/// backslash outside quotes escapes the next character.
pub(crate) fn split_shell(line: &str) -> Result<Vec<(Joiner, Vec<String>)>, String> {
    let mut commands = Vec::new();
    let (mut words, mut word, mut in_word) = (Vec::new(), String::new(), false);
    let mut joiner = Joiner::Always;
    let mut chars = line.chars().peekable();
    let end_word = |words: &mut Vec<String>, word: &mut String, in_word: &mut bool| {
        if *in_word {
            words.push(std::mem::take(word));
            *in_word = false;
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => word.push(ch),
                        None => return Err("unterminated single quote".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(ch @ ('"' | '\\' | '$' | '`')) => word.push(ch),
                            Some('\n') => {}
                            Some(ch) => {
                                word.push('\\');
                                word.push(ch);
                            }
                            None => return Err("unterminated double quote".into()),
                        },
                        Some(ch) => word.push(ch),
                        None => return Err("unterminated double quote".into()),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') => {}
                Some(ch) => {
                    in_word = true;
                    word.push(ch);
                }
                None => {}
            },
            ';' | '&' | '|' | '\n' => {
                end_word(&mut words, &mut word, &mut in_word);
                let next = match (c, chars.peek()) {
                    ('&', Some('&')) => {
                        chars.next();
                        Joiner::IfSuccess
                    }
                    ('|', Some('|')) => {
                        chars.next();
                        Joiner::IfFailure
                    }
                    _ => Joiner::Always,
                };
                if !words.is_empty() {
                    commands.push((joiner, std::mem::take(&mut words)));
                }
                joiner = next;
            }
            c if c.is_whitespace() => end_word(&mut words, &mut word, &mut in_word),
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    end_word(&mut words, &mut word, &mut in_word);
    if !words.is_empty() {
        commands.push((joiner, words));
    }
    Ok(commands)
}

/// Runs `zlogin ARGS…`; `seq` is the event to annotate with the in-zone commands. A
/// command scripted to hang ([`ZloginReply::hang`](super::ZloginReply::hang)) never
/// finishes: the caller's timeout kills it.
pub(crate) fn zlogin(host: &mut HostState, args: &[String], stdin: Option<&[u8]>, seq: u64) -> Outcome {
    let mut hangs = false;
    let output = run(host, args, stdin, seq, &mut hangs);
    if hangs { Outcome::Hang } else { Outcome::Done(output) }
}

fn run(host: &mut HostState, args: &[String], stdin: Option<&[u8]>, seq: u64, hangs: &mut bool) -> CommandOutput {
    let (options, operands) = match getopt(args, "QESNindCIl:e:") {
        Ok(parsed) => parsed,
        Err(_) => return fail(2, msg::zlogin_usage()),
    };
    let Some((zone, utility)) = operands.split_first() else { return fail(2, msg::zlogin_usage()) };
    if utility.is_empty() || has(&options, 'C') || has(&options, 'I') || has(&options, 'i') {
        // Interactive, console and zfd modes need a terminal; the fake has none.
        return fail(2, msg::zlogin_usage());
    }
    if has(&options, 'S') && value(&options, 'l').is_some() {
        return fail(2, msg::zlogin_usage());
    }
    if zone == "global" {
        return fail(1, msg::zlogin_global());
    }
    let Some(z) = host.zones.map.get(zone) else { return fail(1, msg::zlogin_unknown(zone)) };
    match z.state {
        ZoneState::Running => {}
        ZoneState::Configured | ZoneState::Incomplete => return fail(1, msg::zlogin_not_installed(z.state.as_str())),
        other => return fail(1, msg::zlogin_not_running(zone, other.as_str())),
    }
    let allowed: Vec<(String, String)> = z
        .config
        .nets()
        .filter_map(|n| Some((n.prop("physical")?.to_string(), n.prop("allowed-address")?.to_string())))
        .collect();
    let line = utility.join(" ");
    let commands = match split_shell(&line) {
        Ok(commands) => commands,
        Err(error) => return fail(2, format!("sh: syntax error: {error}")),
    };
    if let Some(event) = host.control.event_mut(seq) {
        event.in_zone = commands.iter().map(|(_, argv)| argv.clone()).collect();
    }
    let input = if has(&options, 'n') { Vec::new() } else { stdin.unwrap_or_default().to_vec() };
    let mut output = CommandOutput::default();
    for (joiner, argv) in &commands {
        let run = match joiner {
            Joiner::Always => true,
            Joiner::IfSuccess => output.exit_code == 0,
            Joiner::IfFailure => output.exit_code != 0,
        };
        if !run {
            continue;
        }
        let reply = host.control.zlogin_reply(zone, argv);
        if reply.as_ref().is_some_and(|r| r.hang) {
            *hangs = true;
            return output;
        }
        let reply = reply.map(|r| CommandOutput { exit_code: r.exit_code, stdout: r.stdout, stderr: r.stderr });
        let result = reply.unwrap_or_else(|| builtin(zone, strip_env(argv), &input, &allowed));
        output.exit_code = result.exit_code;
        output.stdout.push_str(&result.stdout);
        output.stderr.push_str(&result.stderr);
    }
    output
}

fn builtin(zone: &str, argv: &[String], stdin: &[u8], allowed: &[(String, String)]) -> CommandOutput {
    let words: Vec<&str> = argv.iter().map(String::as_str).collect();
    let ok = |stdout: String| CommandOutput { exit_code: 0, stdout, stderr: String::new() };
    match words.as_slice() {
        ["hostname"] | ["zonename"] | ["/usr/bin/hostname"] | ["/usr/bin/zonename"] => ok(format!("{zone}\n")),
        ["true"] => ok(String::new()),
        ["false"] => CommandOutput { exit_code: 1, ..CommandOutput::default() },
        ["echo", rest @ ..] => ok(format!("{}\n", rest.join(" "))),
        ["cat"] => ok(String::from_utf8_lossy(stdin).into_owned()),
        ["svcs", "-H", "-o", "state", "svc:/milestone/multi-user:default"] => ok("online\n".into()),
        ["ipadm", "show-addr", rest @ ..] => {
            let strings: Vec<String> = rest.iter().map(|s| s.to_string()).collect();
            let Ok((options, _)) = getopt(&strings, "po:") else { return fail(2, "ipadm: usage") };
            let fields: Vec<String> =
                value(&options, 'o').unwrap_or("addrobj,type,state,addr").split(',').map(str::to_string).collect();
            match render_addresses(&zone_addresses(allowed), &fields, has(&options, 'p')) {
                Ok(text) => ok(text),
                Err(field) => fail(1, format!("ipadm: unknown output field: `{field}'")),
            }
        }
        [command, ..] => fail(127, msg::zlogin_not_found(command)),
        [] => ok(String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(commands: &[(Joiner, Vec<String>)]) -> Vec<Vec<&str>> {
        commands.iter().map(|(_, argv)| argv.iter().map(String::as_str).collect()).collect()
    }

    #[test]
    fn splits_like_a_posix_shell() {
        let table: &[(&str, &[&[&str]])] = &[
            ("echo a b", &[&["echo", "a", "b"]]),
            ("'echo' 'a b'", &[&["echo", "a b"]]),
            (r#"echo "a \"b\" \$x" c\ d"#, &[&["echo", "a \"b\" $x", "c d"]]),
            ("echo 'it'\\''s'", &[&["echo", "it's"]]),
            ("echo a; rm -rf /", &[&["echo", "a"], &["rm", "-rf", "/"]]),
            ("'echo' 'a; rm -rf /'", &[&["echo", "a; rm -rf /"]]),
            ("a && b || c | d & e\nf", &[&["a"], &["b"], &["c"], &["d"], &["e"], &["f"]]),
            ("echo ''", &[&["echo", ""]]),
            ("  ", &[]),
        ];
        for (line, expected) in table {
            let split = split_shell(line).unwrap();
            let expected: Vec<Vec<&str>> = expected.iter().map(|c| c.to_vec()).collect();
            assert_eq!(words(&split), expected, "{line}");
        }
        let joiners: Vec<Joiner> = split_shell("a && b || c; d").unwrap().into_iter().map(|(j, _)| j).collect();
        assert_eq!(joiners, [Joiner::Always, Joiner::IfSuccess, Joiner::IfFailure, Joiner::Always]);
        assert!(split_shell("echo 'open").is_err());
        assert!(split_shell("echo \"open").is_err());
    }

    #[test]
    fn quoting_by_the_builder_survives_the_round_trip() {
        use crate::illumos::zlogin::command_line;
        let argv: Vec<String> =
            ["printf", "%s\n", "a b", "it's", "$HOME;`id`|x&&y", "\"q\"", "back\\slash", "new\nline", ""]
                .map(String::from)
                .to_vec();
        let env = vec![("V".to_string(), "x; y".to_string())];
        let line = command_line("z", &argv, &env).unwrap();
        let split = split_shell(&line).unwrap();
        assert_eq!(split.len(), 1, "{line}");
        let mut expected = vec!["env".to_string(), "V=x; y".to_string()];
        expected.extend(argv);
        assert_eq!(split[0].1, expected);
    }
}
