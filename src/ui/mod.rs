//! Terminal output: the only place that prints. Data goes to stdout, messages to stderr.

pub mod github;
pub mod progress;

use std::io::Write as _;

/// Sets up `tracing` on stderr: warnings by default, `-v` debug, `-vv` trace; `RUST_LOG` wins.
pub fn init_logging(verbose: u8, quiet: bool) {
    QUIET.store(quiet, std::sync::atomic::Ordering::Relaxed);
    let default = match (quiet, verbose) {
        (true, _) => "wheelwright=error",
        (false, 0) => "wheelwright=warn",
        (false, 1) => "wheelwright=debug",
        (false, 2) => "wheelwright=trace",
        (false, _) => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .with_target(false)
        .try_init();
}

/// Prints `error: <message>` on stderr (and a GitHub annotation on Actions).
pub fn error(message: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "error: {message}");
    if std::env::var_os("GITHUB_ACTIONS").is_some_and(|v| v == "true") {
        let _ = writeln!(
            stderr,
            "::error title=wheelwright::{}",
            escape_data(message)
        );
    }
}

/// Prints an informational message on stderr (suppressed by `--quiet`).
pub fn message(text: &str) {
    if QUIET.load(std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{text}");
}

static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether `--quiet` was given.
#[must_use]
pub fn is_quiet() -> bool {
    QUIET.load(std::sync::atomic::Ordering::Relaxed)
}

/// Writes data to stdout; a closed pipe is not an error.
pub fn data(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// Escapes a workflow-command message (`%`, CR, LF).
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_workflow_command_data() {
        assert_eq!(super::escape_data("a%b\nc\rd"), "a%25b%0Ac%0Dd");
    }
}
