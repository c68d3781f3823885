//! zlogin(1) for non-interactive commands. zlogin joins every word after the zone name
//! with spaces and hands the result to `su root -c` inside the zone, whose shell re-parses
//! it (reference §3.2). So the exact argv is preserved only if each word is shell-quoted by
//! us: the builder quotes every word (and every environment value) with POSIX single
//! quotes and passes the whole line as one argv word after `zlogin -Q -E ZONE`. Pure.

use crate::illumos::exec::CommandSpec;
use crate::illumos::profile::{PlatformProfile, Tool};
use crate::logic::naming;

/// Why a zlogin command could not be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ZloginError {
    /// The zone name breaks the zonecfg rules.
    #[error(transparent)]
    InvalidName(#[from] naming::NameError),
    /// No command was given.
    #[error("zone {zone}: empty command")]
    EmptyCommand {
        /// The zone.
        zone: String,
    },
    /// An environment variable name is not a shell identifier.
    #[error("zone {zone}: invalid environment variable name '{name}'")]
    InvalidEnvName {
        /// The zone.
        zone: String,
        /// The name, escaped for display.
        name: String,
    },
    /// A word contains a NUL byte, which no argv can carry.
    #[error("zone {zone}: argument '{word}' contains a NUL byte")]
    NulByte {
        /// The zone.
        zone: String,
        /// The word, escaped for display.
        word: String,
    },
}

/// Quotes one word for a POSIX shell: `'…'`, with `'` written as `'\''`. Every byte
/// except NUL survives, newlines and `;` included.
pub fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// The one shell line that runs `argv` with `env` set: `env 'K=V' … 'arg0' 'arg1' …`.
pub fn command_line(zone: &str, argv: &[String], env: &[(String, String)]) -> Result<String, ZloginError> {
    if argv.is_empty() {
        return Err(ZloginError::EmptyCommand { zone: zone.to_string() });
    }
    let mut words = Vec::with_capacity(argv.len() + env.len() + 1);
    if !env.is_empty() {
        words.push("env".to_string());
    }
    for (name, value) in env {
        let identifier = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !identifier {
            return Err(ZloginError::InvalidEnvName { zone: zone.to_string(), name: name.escape_debug().to_string() });
        }
        words.push(shell_quote(&format!("{name}={}", checked(zone, value)?)));
    }
    for word in argv {
        words.push(shell_quote(checked(zone, word)?));
    }
    Ok(words.join(" "))
}

fn checked<'a>(zone: &str, word: &'a str) -> Result<&'a str, ZloginError> {
    if word.contains('\0') {
        return Err(ZloginError::NulByte { zone: zone.to_string(), word: word.escape_debug().to_string() });
    }
    Ok(word)
}

/// `zlogin -Q -E ZONE 'LINE'`: runs `argv` (with `env`) as root in a running zone, without
/// banners (`-Q`) and with the `~.` escape disabled (`-E`), so binary streams pass intact.
pub fn run(
    profile: &PlatformProfile,
    zone: &str,
    argv: &[String],
    env: &[(String, String)],
) -> Result<CommandSpec, ZloginError> {
    naming::check_zone_name(zone)?;
    let line = command_line(zone, argv, env)?;
    Ok(profile.command(Tool::Zlogin).args(["-Q", "-E", zone]).arg(line))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn every_word_is_quoted() {
        let table: [(&[&str], &str); 5] = [
            (&["hostname"], "'hostname'"),
            (&["echo", "a b"], "'echo' 'a b'"),
            (&["sh", "-c", "cat /etc/release"], "'sh' '-c' 'cat /etc/release'"),
            (&["echo", "it's"], r"'echo' 'it'\''s'"),
            (&["printf", "%s\n", "$HOME;`id`|x&"], "'printf' '%s\n' '$HOME;`id`|x&'"),
        ];
        for (argv, expected) in table {
            assert_eq!(command_line("z", &strings(argv), &[]).unwrap(), expected);
        }
    }

    #[test]
    fn environment_values_cannot_inject_commands() {
        let env = vec![("GREETING".to_string(), "hi; rm -rf / #".to_string()), ("Q".to_string(), "'\"\n".to_string())];
        let line = command_line("z", &strings(&["app"]), &env).unwrap();
        assert_eq!(line, "env 'GREETING=hi; rm -rf / #' 'Q='\\''\"\n' 'app'");
        for bad in ["1X", "A-B", "A B", "", "X;Y"] {
            let env = vec![(bad.to_string(), "v".to_string())];
            assert!(matches!(command_line("z", &strings(&["app"]), &env), Err(ZloginError::InvalidEnvName { .. })));
        }
        assert!(matches!(command_line("z", &strings(&["a\0b"]), &[]), Err(ZloginError::NulByte { .. })));
        assert!(matches!(command_line("z", &[], &[]), Err(ZloginError::EmptyCommand { .. })));
    }

    #[test]
    fn builds_one_argv_word_after_the_zone() {
        let spec = run(&PlatformProfile::omnios(), "web-1", &strings(&["cat", "/etc/release"]), &[]).unwrap();
        assert_eq!(spec.argv(), ["/usr/sbin/zlogin", "-Q", "-E", "web-1", "'cat' '/etc/release'"]);
        assert!(run(&PlatformProfile::omnios(), "global", &strings(&["id"]), &[]).is_err());
    }
}
