//! Running engine commands (`docker info`, `podman image inspect`, …) and turning failures into
//! errors that show the command line and the tail of its stderr, never environment values.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tracing::debug;

/// How many stderr lines an error keeps.
const STDERR_TAIL_LINES: usize = 12;

/// A command that ran and failed.
#[derive(Debug, Clone)]
pub struct CommandError {
    /// The command line (program and arguments; never environment values).
    pub command: String,
    /// `exit status: 1`, `signal: 9 (SIGKILL)`.
    pub status: String,
    /// The last lines of stderr.
    pub stderr_tail: Vec<String>,
}

impl CommandError {
    /// The last non-empty stderr line, for one-line messages.
    #[must_use]
    pub fn last_line(&self) -> Option<&str> {
        self.stderr_tail
            .iter()
            .rev()
            .map(|l| l.trim())
            .find(|l| !l.is_empty())
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` failed ({})", self.command, self.status)?;
        if let Some(line) = self.last_line() {
            write!(f, ": {line}")?;
        }
        Ok(())
    }
}

impl std::error::Error for CommandError {}

/// The command line of `cmd` for messages and logs.
#[must_use]
pub fn display_command(cmd: &Command) -> String {
    let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
    parts.extend(cmd.get_args().map(|a| shell_quote(&a.to_string_lossy())));
    parts.join(" ")
}

/// Quotes `text` for a POSIX shell when it needs quoting.
#[must_use]
pub fn shell_quote(text: &str) -> String {
    if !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&b))
    {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// Runs `cmd` to completion with stdin closed, capturing stdout and stderr (in a process group
/// of its own, killed on an interrupt).
pub fn output(cmd: &mut Command) -> std::io::Result<Output> {
    debug!("running {}", display_command(cmd));
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = crate::interrupt::Child::spawn(cmd)?;
    child.child.wait_with_output()
}

/// Reads `reader` to its end and keeps the last `limit` bytes (a stderr tail that stays small
/// whatever the process writes).
pub fn read_tail(mut reader: impl std::io::Read, limit: usize) -> Vec<u8> {
    let mut kept: Vec<u8> = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                kept.extend_from_slice(&buf[..n]);
                if kept.len() > 2 * limit {
                    kept.drain(..kept.len() - limit);
                }
            }
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    if kept.len() > limit {
        kept.drain(..kept.len() - limit);
    }
    kept
}

/// Runs `cmd` and returns its stdout, or a [`CommandError`] when it cannot start or fails.
pub fn checked_stdout(cmd: &mut Command) -> Result<String, CommandError> {
    let line = display_command(cmd);
    let out = output(cmd).map_err(|e| CommandError {
        command: line.clone(),
        status: "could not start".to_owned(),
        stderr_tail: vec![e.to_string()],
    })?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(CommandError {
            command: line,
            status: out.status.to_string(),
            stderr_tail: tail(&out.stderr, STDERR_TAIL_LINES),
        })
    }
}

/// The last `lines` lines of `bytes`.
#[must_use]
pub fn tail(bytes: &[u8], lines: usize) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..]
        .iter()
        .map(|l| (*l).to_owned())
        .collect()
}

/// Finds `program` on `PATH` (or checks it when it contains a `/`).
#[must_use]
pub fn find_program(program: &str) -> Option<PathBuf> {
    let is_exe = |p: &Path| {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        let path = PathBuf::from(program);
        return is_exe(&path).then_some(path);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| is_exe(candidate))
}

/// Asks `rpm --root <root> -qf` which package owns `path`, with a query format; `None` when rpm
/// is missing or has no answer.
#[must_use]
pub fn rpm_owner(root: &Path, path: &Path, query_format: &str) -> Option<String> {
    let answer = Command::new("rpm")
        .arg("--root")
        .arg(root)
        .args(["-qf", "--queryformat", query_format])
        .arg(path)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output();
    let output = answer.ok().filter(|o| o.status.success())?;
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(
            shell_quote("/opt/python/cp39-cp39/bin"),
            "/opt/python/cp39-cp39/bin"
        );
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("$HOME"), "'$HOME'");
    }

    #[test]
    fn tails_keep_the_last_lines() {
        assert_eq!(tail(b"a\nb\nc\n", 2), vec!["b", "c"]);
        assert_eq!(tail(b"", 2), Vec::<String>::new());
        let long: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        assert_eq!(read_tail(long.as_slice(), 1000), long[long.len() - 1000..]);
        assert_eq!(read_tail(&b"short"[..], 1000), b"short");
    }

    #[test]
    fn failing_commands_show_the_command_and_stderr() {
        let err = checked_stdout(Command::new("sh").args(["-c", "echo oops >&2; exit 3"]))
            .expect_err("fails");
        assert_eq!(err.last_line(), Some("oops"));
        let text = err.to_string();
        assert!(
            text.starts_with("`sh -c 'echo oops >&2; exit 3'` failed (exit status: 3)"),
            "{text}"
        );
        assert!(find_program("sh").is_some());
        assert!(find_program("wheelwright-no-such-program").is_none());
    }
}
