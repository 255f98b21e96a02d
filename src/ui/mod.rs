//! Terminal output: the only place that prints. Data goes to stdout, messages to stderr.
//!
//! Everything printed here passes through [`safe`]: no raw control characters anywhere, and on
//! GitHub Actions no line that the runner would take for a workflow command (only
//! [`github`] writes those). Log lines (`tracing`) get the same treatment, and are coloured only
//! on a terminal and never with `NO_COLOR`.

pub mod github;
pub mod progress;
pub mod safe;

use std::io::{IsTerminal as _, Write as _};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

pub use safe::{path, untrusted};

/// Whether we run inside GitHub Actions (`GITHUB_ACTIONS=true`): what the messages are escaped
/// for ([`safe`]) and whether workflow commands are written ([`github`]).
#[must_use]
pub fn on_actions() -> bool {
    std::env::var_os("GITHUB_ACTIONS").is_some_and(|v| v == "true")
}

static QUIET: AtomicBool = AtomicBool::new(false);

/// Whether colour may be used on a stream: it is a terminal and `NO_COLOR` is unset or empty
/// (<https://no-color.org>).
#[must_use]
pub fn colour(stream_is_terminal: bool) -> bool {
    stream_is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Sets up `tracing` on stderr: warnings by default, `-v` debug, `-vv` trace; `RUST_LOG` wins.
/// Colour only on a terminal without `NO_COLOR`; field values are printed with control
/// characters escaped, and whole lines pass through [`safe`] unless they carry our own colour.
pub fn init_logging(verbose: u8, quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
    let default = match (quiet, verbose) {
        (true, _) => "wheelwright=error",
        (false, 0) => "wheelwright=warn",
        (false, 1) => "wheelwright=debug",
        (false, 2) => "wheelwright=trace",
        (false, _) => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let ansi = colour(std::io::stderr().is_terminal());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(LogWriter { raw: ansi })
        .with_ansi(ansi)
        .fmt_fields(SafeFields)
        .without_time()
        .with_target(false)
        .try_init();
}

/// Formats the fields of log events and spans with control characters escaped (values may be
/// file names or index replies); `log.*` fields of events from the `log` crate are left out, as
/// the default formatter does.
struct SafeFields;

impl<'writer> tracing_subscriber::fmt::FormatFields<'writer> for SafeFields {
    fn format_fields<R: tracing_subscriber::field::RecordFields>(
        &self,
        writer: tracing_subscriber::fmt::format::Writer<'writer>,
        fields: R,
    ) -> std::fmt::Result {
        let mut visitor = SafeVisitor {
            writer,
            first: true,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result
    }
}

struct SafeVisitor<'writer> {
    writer: tracing_subscriber::fmt::format::Writer<'writer>,
    first: bool,
    result: std::fmt::Result,
}

impl tracing::field::Visit for SafeVisitor<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if self.result.is_err() || field.name().starts_with("log.") {
            return;
        }
        let text = format!("{value:?}");
        let text = safe::untrusted_text(&text, false);
        let separator = if self.first { "" } else { " " };
        self.first = false;
        self.result = if field.name() == "message" {
            write!(self.writer, "{separator}{text}")
        } else {
            write!(self.writer, "{separator}{}={text}", field.name())
        };
    }
}

/// Where log lines go: stderr, through [`safe`] unless they carry our own colour codes (their
/// field values are escaped already).
struct LogWriter {
    raw: bool,
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogLine;

    fn make_writer(&'a self) -> LogLine {
        LogLine { raw: self.raw }
    }
}

/// One formatted event (the formatter writes each event with one `write_all`).
struct LogLine {
    raw: bool,
}

impl std::io::Write for LogLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut stderr = std::io::stderr().lock();
        if self.raw {
            stderr.write_all(buf)?;
        } else {
            let text = String::from_utf8_lossy(buf);
            stderr.write_all(safe::safe_text(&text, github::on_actions()).as_bytes())?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// Writes `text` (lines made safe) and a newline to stderr.
fn print_stderr(text: &str) {
    let text = safe::safe_text(text, github::on_actions());
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{text}");
}

/// Prints `error: <message>` on stderr (and a GitHub annotation on Actions).
pub fn error(message: &str) {
    print_stderr(&format!("error: {message}"));
    github::annotation(github::Level::Error, Some("wheelwright"), None, message);
}

/// Prints an informational message on stderr (suppressed by `--quiet`).
pub fn message(text: &str) {
    if is_quiet() {
        return;
    }
    print_stderr(text);
}

/// Whether `--quiet` was given.
#[must_use]
pub fn is_quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Writes data to stdout (lines made safe; JSON keeps its meaning); a closed pipe is not an
/// error.
pub fn data(text: &str) {
    let text = safe::safe_text(text, github::on_actions());
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// Writes bytes that a program reads, not a person or a log (NUL-separated words for a
/// `mapfile -d ''`), to stdout as they are. Never for text that can reach a log.
pub fn machine_data(bytes: &[u8]) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(bytes);
    let _ = stdout.flush();
}

/// Prints a command-line parsing outcome (help and `--version` on stdout, usage errors on
/// stderr, coloured only on a terminal without `NO_COLOR`) and returns its exit code: 0 for
/// help, 2 for usage errors.
#[must_use]
pub fn command_line_error(err: &clap::Error) -> ExitCode {
    let to_stdout = !err.use_stderr();
    let terminal = if to_stdout {
        std::io::stdout().is_terminal()
    } else {
        std::io::stderr().is_terminal()
    };
    let rendered = err.render();
    let text = if colour(terminal) {
        rendered.ansi().to_string()
    } else {
        safe::safe_text(&rendered.to_string(), github::on_actions())
    };
    let _ = if to_stdout {
        std::io::stdout().lock().write_all(text.as_bytes())
    } else {
        std::io::stderr().lock().write_all(text.as_bytes())
    };
    ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2))
}

/// Escapes a workflow-command message (`%`, CR, LF).
#[must_use]
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A text table: the header and the rows in columns two spaces apart, each column as wide as its
/// widest cell, left-aligned unless `right` says otherwise; one line per row, trailing spaces cut.
#[must_use]
pub fn text_table<const N: usize>(
    header: &[String; N],
    rows: &[[String; N]],
    right: [bool; N],
) -> String {
    let mut widths = [0usize; N];
    for row in std::iter::once(header).chain(rows) {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(header).chain(rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            let pad = " ".repeat(widths[i] - cell.chars().count());
            if right[i] {
                line.push_str(&pad);
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.push_str(&pad);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_workflow_command_data() {
        assert_eq!(super::escape_data("a%b\nc\rd"), "a%25b%0Ac%0Dd");
    }
}
