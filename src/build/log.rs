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

    /// The last `n` lines of the log file.
    #[must_use]
    pub fn tail(&self, n: usize) -> Vec<String> {
        let Ok(file) = std::fs::File::open(&self.path) else {
            return Vec::new();
        };
        let lines: Vec<String> = std::io::BufReader::new(file)
            .lines()
            .map_while(Result::ok)
            .collect();
        lines[lines.len().saturating_sub(n)..].to_vec()
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
