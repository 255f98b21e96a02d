//! Per-build logs: every line goes to the build's own log file and, when streaming, to stderr
//! with a `[identifier]` prefix. On GitHub Actions parallel builds are not streamed (their lines
//! would interleave inside one log group); each finished build's log is replayed in its own
//! collapsible group instead.

use std::io::{BufRead as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::engine::OutputSink;
use crate::ui;
use crate::ui::github::Group;

/// Serialises group replays so that groups never interleave.
static REPLAY: Mutex<()> = Mutex::new(());

/// One log file with its stderr prefix.
pub struct Log {
    prefix: String,
    path: PathBuf,
    file: Mutex<Option<std::fs::File>>,
    live: bool,
}

impl Log {
    /// Creates (truncates) `path`. `live` streams lines to stderr as they come.
    pub fn create(path: &Path, prefix: &str, live: bool) -> std::io::Result<Self> {
        let file = fs_err::File::create(path)?.into_parts().0;
        Ok(Log {
            prefix: prefix.to_owned(),
            path: path.to_path_buf(),
            file: Mutex::new(Some(file)),
            live,
        })
    }

    /// The log file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A line of wheelwright's own (a step starting, a result): `==> text`.
    pub fn note(&self, text: &str) {
        self.line(&format!("==> {text}"));
    }

    /// Flushes and closes the file.
    pub fn close(&self) {
        if let Ok(mut file) = self.file.lock() {
            if let Some(f) = file.as_mut() {
                let _ = f.flush();
            }
            *file = None;
        }
    }

    /// The last `n` lines of the log file (read from its end: a huge log costs no memory).
    #[must_use]
    pub fn tail(&self, n: usize) -> Vec<String> {
        tail_of(&self.path, n)
    }

    /// Prints the whole log inside a log group titled `title` (for builds that were not streamed).
    pub fn replay(&self, title: &str) {
        if self.live {
            return;
        }
        let _guard = REPLAY.lock();
        let _group = Group::start(title);
        if let Ok(file) = std::fs::File::open(&self.path) {
            for line in std::io::BufReader::new(file).lines().map_while(Result::ok) {
                ui::message(&line);
            }
        }
    }
}

/// How much of a log's end [`Log::tail`] reads.
const TAIL_BYTES: u64 = 256 * 1024;

/// The last `n` lines within the last [`TAIL_BYTES`] of the file at `path`.
fn tail_of(path: &Path, n: usize) -> Vec<String> {
    use std::io::{Read as _, Seek as _};
    let Ok(mut file) = std::fs::File::open(path) else {
        return Vec::new();
    };
    let len = file.metadata().map_or(0, |m| m.len());
    let start = len.saturating_sub(TAIL_BYTES);
    let mut bytes = Vec::new();
    if file.seek(std::io::SeekFrom::Start(start)).is_err()
        || file.take(TAIL_BYTES).read_to_end(&mut bytes).is_err()
    {
        return Vec::new();
    }
    let text = String::from_utf8_lossy(&bytes);
    let mut lines: Vec<&str> = text.lines().collect();
    if start > 0 && !lines.is_empty() {
        // The first line is cut.
        lines.remove(0);
    }
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| (*l).to_owned())
        .collect()
}

impl OutputSink for Log {
    fn line(&self, line: &str) {
        if let Ok(mut file) = self.file.lock() {
            if let Some(f) = file.as_mut() {
                let _ = writeln!(f, "{line}");
            }
        }
        if self.live {
            ui::message(&format!("{} {line}", self.prefix));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tails_read_only_the_end() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.log");
        let log = Log::create(&path, "[a]", false).expect("log");
        for i in 0..10 {
            log.line(&format!("line {i}"));
        }
        assert_eq!(log.tail(2), ["line 8", "line 9"]);
        log.line(&"x".repeat(300 * 1024));
        log.line("end");
        log.close();
        assert_eq!(tail_of(&path, 5), ["end"], "the cut line is dropped");
    }
}
