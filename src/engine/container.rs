//! A running build environment: a long-lived container (or, for the host engine, a work
//! directory on this machine) that commands are executed in, files are streamed into as a tar
//! archive and wheels are streamed out of.
//!
//! Every operation is a process the backend builds (`docker exec …`, or the command itself for the
//! host), so copy-in and copy-out work the same everywhere: `tar -x` reading our stdin, `cat`
//! writing to our stdout. Files therefore reach the host through our own process and are owned
//! by the invoking user, and nothing needs a bind mount of the output directory.

use std::io::{BufRead as _, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};

use tracing::debug;

use super::process::{self, CommandError, display_command};
use super::{EngineError, EngineKind};
use crate::elf::ElfArch;

/// Receives the output of a command, line by line (stdout and stderr interleaved as they come).
pub trait OutputSink: Sync {
    /// One line, without its line terminator.
    fn line(&self, line: &str);
}

/// An [`OutputSink`] that drops everything.
pub struct Discard;

impl OutputSink for Discard {
    fn line(&self, _line: &str) {}
}

/// What an engine provides for one container: how to run a process in it and how to remove it.
pub trait Backend: Send + Sync {
    /// The engine.
    fn kind(&self) -> EngineKind;
    /// The container's name (or the host work directory).
    fn name(&self) -> &str;
    /// A process running `argv` inside the container. `env` names host variables to pass
    /// through by name (their values stay in the environment, never on a command line);
    /// `stdin` attaches our stdin pipe.
    fn command(&self, argv: &[String], env: &[String], stdin: bool) -> Command;
    /// Removes the container.
    fn remove(&self) -> Result<(), EngineError>;
    /// The shell command a person runs to enter the container in `workdir`.
    fn enter_command(&self, wrapper: &[String], workdir: &str) -> String;
}

/// A running container (or host work directory).
pub struct Container {
    backend: Box<dyn Backend>,
    arch: ElfArch,
    image: String,
    work_root: String,
    wrapper: Vec<String>,
    finished: AtomicBool,
}

impl Container {
    pub(crate) fn new(
        backend: Box<dyn Backend>,
        arch: ElfArch,
        image: String,
        work_root: String,
    ) -> Self {
        Container {
            backend,
            arch,
            image,
            work_root,
            wrapper: Vec::new(),
            finished: AtomicBool::new(false),
        }
    }

    /// The engine running it.
    #[must_use]
    pub fn kind(&self) -> EngineKind {
        self.backend.kind()
    }

    /// The container name (`wheelwright-…`) or the host work directory.
    #[must_use]
    pub fn name(&self) -> &str {
        self.backend.name()
    }

    /// The architecture it builds for.
    #[must_use]
    pub fn arch(&self) -> ElfArch {
        self.arch
    }

    /// The image (`host` for the host engine).
    #[must_use]
    pub fn image(&self) -> &str {
        &self.image
    }

    /// The directory (inside the container) that wheelwright works in.
    #[must_use]
    pub fn work_root(&self) -> &str {
        &self.work_root
    }

    /// Runs every later command under `wrapper` (e.g. `linux32`, so that `uname -m` says i686).
    pub fn set_wrapper(&mut self, wrapper: Vec<String>) {
        self.wrapper = wrapper;
    }

    /// The wrapper commands run under.
    #[must_use]
    pub fn wrapper(&self) -> &[String] {
        &self.wrapper
    }

    fn shell(&self, script: &str) -> Vec<String> {
        let mut argv = self.wrapper.clone();
        argv.extend(["/bin/sh".to_owned(), "-c".to_owned(), script.to_owned()]);
        argv
    }

    /// Runs `script` with `/bin/sh -c`, streaming its output to `sink`; returns its exit status.
    pub fn run(
        &self,
        script: &str,
        env: &[String],
        sink: &dyn OutputSink,
    ) -> Result<ExitStatus, EngineError> {
        let mut cmd = self.backend.command(&self.shell(script), env, false);
        debug!("running {}", display_command(&cmd));
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|source| EngineError::Spawn {
            command: display_command(&cmd),
            source,
        })?;
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        std::thread::scope(|scope| {
            if let Some(err) = stderr {
                scope.spawn(move || pump(err, sink));
            }
            if let Some(out) = stdout {
                pump(out, sink);
            }
        });
        child.wait().map_err(|source| EngineError::Spawn {
            command: display_command(&cmd),
            source,
        })
    }

    /// Runs `script` with `/bin/sh -c` and returns its stdout; a non-zero exit is an error that
    /// carries the tail of its stderr.
    pub fn capture(&self, script: &str) -> Result<String, EngineError> {
        let mut cmd = self.backend.command(&self.shell(script), &[], false);
        debug!("running {}", display_command(&cmd));
        process::checked_stdout(&mut cmd).map_err(|err| EngineError::Exec {
            container: self.name().to_owned(),
            error: err,
        })
    }

    /// Creates `dest` and extracts the tar stream that `write` produces into it.
    pub fn copy_in(
        &self,
        dest: &str,
        write: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<(), EngineError> {
        let script = format!(
            "mkdir -p {dest} && exec tar -x -o -f - -C {dest}",
            dest = process::shell_quote(dest)
        );
        let mut cmd = self.backend.command(&self.shell(&script), &[], true);
        let line = display_command(&cmd);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|source| EngineError::Spawn {
            command: line.clone(),
            source,
        })?;
        let stdin = child.stdin.take();
        let stderr = child.stderr.take();
        let (written, stderr_bytes) = std::thread::scope(|scope| {
            let reader = scope.spawn(move || {
                let mut buf = Vec::new();
                if let Some(mut err) = stderr {
                    let _ = err.read_to_end(&mut buf);
                }
                buf
            });
            let written = match stdin {
                Some(mut input) => {
                    let result = write(&mut input);
                    drop(input);
                    result
                }
                None => Ok(()),
            };
            (written, reader.join().unwrap_or_default())
        });
        let status = child.wait().map_err(|source| EngineError::Spawn {
            command: line.clone(),
            source,
        })?;
        if !status.success() {
            return Err(EngineError::CopyIn {
                container: self.name().to_owned(),
                dest: dest.to_owned(),
                reason: process::tail(&stderr_bytes, 1)
                    .pop()
                    .unwrap_or_else(|| status.to_string()),
            });
        }
        written.map_err(|err| EngineError::CopyIn {
            container: self.name().to_owned(),
            dest: dest.to_owned(),
            reason: err.to_string(),
        })
    }

    /// Streams the file `source` (inside the container) to `dest` on the host: written to a
    /// temporary file next to `dest`, then renamed, so `dest` is either complete or absent.
    /// Returns the size.
    pub fn copy_out(&self, source: &str, dest: &Path) -> Result<u64, EngineError> {
        let argv: Vec<String> = vec!["cat".to_owned(), source.to_owned()];
        let mut cmd = self.backend.command(&argv, &[], false);
        let line = display_command(&cmd);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let dir = dest.parent().unwrap_or(Path::new("."));
        let io_err = |error: std::io::Error| EngineError::CopyOut {
            path: source.to_owned(),
            dest: dest.to_path_buf(),
            error,
        };
        // 0o666 minus the umask, like any file the user creates (tempfile's default is 0o600).
        let mut temp = tempfile::Builder::new()
            .prefix(".wheelwright-")
            .suffix(".tmp")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
            .tempfile_in(dir)
            .map_err(io_err)?;
        let mut child = cmd.spawn().map_err(|source| EngineError::Spawn {
            command: line.clone(),
            source,
        })?;
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let (copied, stderr_bytes) = std::thread::scope(|scope| {
            let reader = scope.spawn(move || {
                let mut buf = Vec::new();
                if let Some(mut err) = stderr {
                    let _ = err.read_to_end(&mut buf);
                }
                buf
            });
            let copied = match stdout {
                Some(mut out) => std::io::copy(&mut out, temp.as_file_mut()),
                None => Ok(0),
            };
            (copied, reader.join().unwrap_or_default())
        });
        let status = child.wait().map_err(|source| EngineError::Spawn {
            command: line.clone(),
            source,
        })?;
        if !status.success() {
            return Err(EngineError::Exec {
                container: self.name().to_owned(),
                error: CommandError {
                    command: line,
                    status: status.to_string(),
                    stderr_tail: process::tail(&stderr_bytes, 4),
                },
            });
        }
        let size = copied.map_err(io_err)?;
        temp.as_file().sync_all().map_err(io_err)?;
        temp.persist(dest).map_err(|e| io_err(e.error))?;
        Ok(size)
    }

    /// The shell command that enters the container in `workdir`.
    #[must_use]
    pub fn enter_command(&self, workdir: &str) -> String {
        self.backend.enter_command(&self.wrapper, workdir)
    }

    /// Removes the container, or keeps it (`keep`) and returns how to enter and remove it.
    pub fn finish(&self, keep: bool) -> Result<Option<String>, EngineError> {
        if self.finished.swap(true, Ordering::SeqCst) {
            return Ok(None);
        }
        if keep {
            super::forget(self.name());
            return Ok(Some(self.backend.name().to_owned()));
        }
        let result = self.backend.remove();
        super::forget(self.name());
        result.map(|()| None)
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        if !self.finished.swap(true, Ordering::SeqCst) {
            if let Err(err) = self.backend.remove() {
                debug!("removing {}: {err}", self.name());
            }
            super::forget(self.name());
        }
    }
}

/// Forwards `reader` to `sink` line by line (lossy UTF-8, `\r\n` and `\n` terminators).
fn pump(reader: impl Read, sink: &dyn OutputSink) {
    let mut reader = BufReader::new(reader);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                    buf.pop();
                }
                sink.line(&String::from_utf8_lossy(&buf));
            }
        }
    }
}

/// Writes `text` to a writer, mapping errors to io errors (helper for sinks writing logs).
pub fn write_line(out: &mut dyn Write, text: &str) -> std::io::Result<()> {
    out.write_all(text.as_bytes())?;
    out.write_all(b"\n")
}
