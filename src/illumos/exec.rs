//! The one door through which Reddwarf runs host commands. A command is data
//! ([`CommandSpec`]: program, argv, stdin, timeout) so tests can compare it; an
//! [`Executor`] runs it. [`ProcessExecutor`] is the only code in the crate that spawns a
//! process: argv is passed as-is (never through a shell), the environment is cleared except
//! `LC_ALL=C` and `PATH`, and a command that outlives its timeout is killed and reaped.
//! The in-memory `FakeHost` is the other implementation. This module knows nothing about
//! zones.

use std::fmt;
use std::process::Stdio;
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long a command may run when its builder sets no timeout of its own.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The `PATH` given to every child: the illumos administration directories first.
pub const DEFAULT_PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin";

/// One command to run: an absolute program path, its arguments, optional stdin bytes and a
/// deadline after which it is killed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandSpec {
    /// The program, normally an absolute path.
    pub program: String,
    /// The arguments after the program name.
    pub args: Vec<String>,
    /// Bytes written to the child's stdin, which is then closed. `None` gives `/dev/null`.
    pub stdin: Option<Vec<u8>>,
    /// How long the command may run before it is killed.
    pub timeout: Duration,
}

impl CommandSpec {
    /// A command with no arguments, no stdin and [`DEFAULT_TIMEOUT`].
    pub fn new(program: impl Into<String>) -> Self {
        Self { program: program.into(), args: Vec::new(), stdin: None, timeout: DEFAULT_TIMEOUT }
    }

    /// Appends one argument.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Appends several arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets the bytes written to stdin.
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// Sets the timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The program and arguments as one vector.
    pub fn argv(&self) -> Vec<&str> {
        std::iter::once(self.program.as_str()).chain(self.args.iter().map(String::as_str)).collect()
    }
}

/// Shows the command as a POSIX-shell-quoted line, for logs and error messages only; it is
/// never executed by a shell.
impl fmt::Display for CommandSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words: Vec<String> = self.argv().into_iter().map(display_word).collect();
        f.write_str(&words.join(" "))
    }
}

fn display_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.' | ',' | ':' | '=' | '@'));
    if plain { word.to_string() } else { format!("'{}'", word.replace('\'', r"'\''")) }
}

/// What a finished command produced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommandOutput {
    /// The exit status; a child killed by signal N reports 128 + N, as a shell would.
    pub exit_code: i32,
    /// Standard output, decoded lossily as UTF-8.
    pub stdout: String,
    /// Standard error, decoded lossily as UTF-8.
    pub stderr: String,
}

impl CommandOutput {
    /// Exit status 0.
    pub fn success(&self) -> bool {
        self.exit_code == 0
    }
}

/// Why a command could not produce a [`CommandOutput`]. A command that ran and exited
/// non-zero is not an error here; callers judge exit codes.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The program could not be started (missing, not executable).
    #[error("could not start `{command}`: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The command ran past its timeout and was killed.
    #[error("`{command}` did not finish within {after:?} and was killed")]
    Timeout {
        /// The command line.
        command: String,
        /// The timeout that expired.
        after: Duration,
    },
    /// Reading the child's output or waiting for it failed.
    #[error("i/o with `{command}` failed: {source}")]
    Io {
        /// The command line.
        command: String,
        /// The operating system's reason.
        source: std::io::Error,
    },
}

/// Runs commands. Object-safe, so the runtime holds an `Arc<dyn Executor>` and tests inject
/// the `FakeHost`. The returned future owns everything it needs.
pub trait Executor: Send + Sync {
    /// Runs one command to completion or until its timeout.
    fn run(&self, spec: CommandSpec) -> BoxFuture<'static, Result<CommandOutput, ExecError>>;
}

/// Runs commands as real child processes.
#[derive(Clone, Debug)]
pub struct ProcessExecutor {
    path: String,
}

impl Default for ProcessExecutor {
    fn default() -> Self {
        Self { path: DEFAULT_PATH.to_string() }
    }
}

impl ProcessExecutor {
    /// An executor whose children see `path` as their `PATH`.
    pub fn with_path(path: impl Into<String>) -> Self {
        Self { path: path.into() }
    }
}

impl Executor for ProcessExecutor {
    fn run(&self, spec: CommandSpec) -> BoxFuture<'static, Result<CommandOutput, ExecError>> {
        let path = self.path.clone();
        Box::pin(run_process(spec, path))
    }
}

async fn run_process(spec: CommandSpec, path: String) -> Result<CommandOutput, ExecError> {
    let command = spec.to_string();
    #[allow(clippy::disallowed_methods, reason = "ProcessExecutor is the one place a process is spawned")]
    let mut builder = tokio::process::Command::new(&spec.program);
    builder
        .args(&spec.args)
        .env_clear()
        .env("LC_ALL", "C")
        .env("PATH", path)
        .stdin(if spec.stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // If this future is dropped (for example its caller timed out), the child dies too.
        .kill_on_drop(true);
    let mut child = builder.spawn().map_err(|source| ExecError::Spawn { command: command.clone(), source })?;
    let stdin_pipe = child.stdin.take();
    let mut stdout_pipe = child.stdout.take();
    let mut stderr_pipe = child.stderr.take();
    let input = spec.stdin.unwrap_or_default();
    let io_error = |source| ExecError::Io { command: command.clone(), source };

    let finished = tokio::time::timeout(spec.timeout, async {
        // Write stdin while draining stdout and stderr, so a chatty child cannot deadlock us.
        let write = async {
            if let Some(mut pipe) = stdin_pipe {
                match pipe.write_all(&input).await {
                    // A child that exits without reading its input is not our failure.
                    Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e),
                    _ => {}
                }
            }
            Ok(())
        };
        let (written, stdout, stderr) =
            tokio::join!(write, read_all(stdout_pipe.as_mut()), read_all(stderr_pipe.as_mut()));
        written?;
        let (stdout, stderr) = (stdout?, stderr?);
        let status = child.wait().await?;
        Ok::<_, std::io::Error>((status, stdout, stderr))
    })
    .await;

    match finished {
        Ok(Ok((status, stdout, stderr))) => Ok(CommandOutput {
            exit_code: exit_code(status),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }),
        Ok(Err(source)) => Err(io_error(source)),
        Err(_elapsed) => {
            // `kill` sends SIGKILL and then waits, so the child is reaped, not left a zombie.
            child.kill().await.map_err(io_error)?;
            Err(ExecError::Timeout { command, after: spec.timeout })
        }
    }
}

async fn read_all<R: tokio::io::AsyncRead + Unpin>(pipe: Option<&mut R>) -> std::io::Result<Vec<u8>> {
    let mut buffer = Vec::new();
    if let Some(pipe) = pipe {
        pipe.read_to_end(&mut buffer).await?;
    }
    Ok(buffer)
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_argv_without_a_shell() {
        let spec = CommandSpec::new("/bin/echo").args(["a b", "$HOME", ";", "ls"]);
        let output = ProcessExecutor::default().run(spec).await.unwrap();
        assert_eq!(output, CommandOutput { exit_code: 0, stdout: "a b $HOME ; ls\n".into(), stderr: String::new() });
    }

    #[tokio::test]
    async fn writes_stdin_and_closes_it() {
        let spec = CommandSpec::new("/bin/cat").stdin(b"line one\nline two\n".to_vec());
        let output = ProcessExecutor::default().run(spec).await.unwrap();
        assert_eq!(output.stdout, "line one\nline two\n");
        assert!(output.success());
    }

    #[tokio::test]
    async fn without_stdin_the_child_reads_eof() {
        let output = ProcessExecutor::default().run(CommandSpec::new("/bin/cat")).await.unwrap();
        assert_eq!(output.stdout, "");
    }

    #[tokio::test]
    async fn environment_is_cleared_except_locale_and_path() {
        let spec = CommandSpec::new("/usr/bin/env");
        let output = ProcessExecutor::with_path("/usr/bin:/bin").run(spec).await.unwrap();
        let mut lines: Vec<&str> = output.stdout.lines().collect();
        lines.sort_unstable();
        assert_eq!(lines, ["LC_ALL=C", "PATH=/usr/bin:/bin"]);
    }

    #[tokio::test]
    async fn reports_exit_codes_and_stderr() {
        let spec = CommandSpec::new("/bin/sh").args(["-c", "echo oops >&2; exit 3"]);
        let output = ProcessExecutor::default().run(spec).await.unwrap();
        assert_eq!((output.exit_code, output.stderr.as_str()), (3, "oops\n"));
    }

    #[tokio::test]
    async fn a_missing_program_is_a_spawn_error() {
        let error = ProcessExecutor::default().run(CommandSpec::new("/nonexistent/zoneadm")).await.unwrap_err();
        assert!(matches!(error, ExecError::Spawn { .. }), "{error:?}");
    }

    // A real (short) timeout: this is the one test that must see a real process killed.
    #[tokio::test]
    async fn a_command_past_its_timeout_is_killed_and_reaped() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        let script = format!("echo $$ > {}; exec /bin/sleep 30", pid_file.display());
        let spec = CommandSpec::new("/bin/sh").args(["-c", script.as_str()]).timeout(Duration::from_millis(200));
        let started = tokio::time::Instant::now();
        let error = ProcessExecutor::default().run(spec).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(10));
        match &error {
            ExecError::Timeout { command, after } => {
                assert!(command.starts_with("/bin/sh -c "), "{command}");
                assert_eq!(*after, Duration::from_millis(200));
            }
            other => panic!("expected a timeout, got {other:?}"),
        }
        assert!(error.to_string().contains("killed"), "{error}");
        // Killed and reaped: no process (not even a zombie) is left with that pid.
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        assert!(!std::path::Path::new(&format!("/proc/{}", pid.trim())).exists(), "pid {pid} still exists");
    }

    #[test]
    fn display_quotes_for_humans_only() {
        let spec = CommandSpec::new("/usr/sbin/zlogin").args(["-Q", "web-1", "echo 'hi' there"]);
        assert_eq!(spec.to_string(), r"/usr/sbin/zlogin -Q web-1 'echo '\''hi'\'' there'");
        assert_eq!(spec.argv(), ["/usr/sbin/zlogin", "-Q", "web-1", "echo 'hi' there"]);
    }
}
