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
use std::time::{Duration, Instant};

use sha2::Digest as _;
use tracing::debug;

use super::process::{self, CommandError, display_command, shell_quote};
use super::{EngineError, EngineKind};
use crate::interrupt::{self, Registration};
use crate::platform::Arch;

/// The longest line handed to an [`OutputSink`]: longer output without a line break is handed
/// over in pieces of at most this size, so memory stays bounded whatever a command prints.
pub const MAX_LINE: usize = 64 * 1024;

/// How many bytes of a helper command's stderr are kept for its error message.
const STDERR_KEPT: usize = 64 * 1024;

/// How long a timed-out command gets to end after its process tree was killed, before its
/// engine client is killed too.
const KILL_GRACE: Duration = Duration::from_secs(10);

/// A time limit for [`Container::run_bounded`].
#[derive(Debug, Clone, Copy)]
pub struct Deadline<'a> {
    /// How long the command may run.
    pub limit: Duration,
    /// A file in the environment where the command's shell records its PID, so that its process
    /// tree can be killed there (found through `/proc`, which works in any container and on the
    /// host).
    pub pidfile: &'a str,
}

/// How a bounded command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    /// It exited (successfully or not).
    Exited(ExitStatus),
    /// It ran past its deadline; its process tree was killed.
    TimedOut,
}

/// A file streamed out of an environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopiedFile {
    /// Its size in bytes.
    pub size: u64,
    /// The sha256 (hex) of what was written.
    pub sha256: String,
}

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
    arch: Arch,
    image: String,
    work_root: String,
    wrapper: Vec<String>,
    finished: AtomicBool,
    /// Removes it on an interrupt until it is finished.
    on_interrupt: std::sync::Mutex<Option<Registration>>,
}

impl Container {
    pub(crate) fn new(
        backend: Box<dyn Backend>,
        arch: Arch,
        image: String,
        work_root: String,
        on_interrupt: Registration,
    ) -> Self {
        Container {
            backend,
            arch,
            image,
            work_root,
            wrapper: Vec::new(),
            finished: AtomicBool::new(false),
            on_interrupt: std::sync::Mutex::new(Some(on_interrupt)),
        }
    }

    fn forget(&self) {
        if let Ok(mut registration) = self.on_interrupt.lock() {
            registration.take();
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
    pub fn arch(&self) -> Arch {
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
        match self.run_bounded(script, env, sink, None)? {
            RunEnd::Exited(status) => Ok(status),
            RunEnd::TimedOut => unreachable!("no deadline was given"),
        }
    }

    /// Runs `script` like [`Container::run`]; with a deadline, a script still running when it
    /// passes is stopped and killed with all its processes (inside the environment) and the
    /// result is [`RunEnd::TimedOut`].
    pub fn run_bounded(
        &self,
        script: &str,
        env: &[String],
        sink: &dyn OutputSink,
        deadline: Option<Deadline<'_>>,
    ) -> Result<RunEnd, EngineError> {
        match deadline {
            Some(deadline) => {
                let script = with_pidfile(deadline.pidfile, script);
                self.supervise(&script, env, sink, Some(deadline.pidfile), &|spawned| {
                    Some(spawned + deadline.limit)
                })
            }
            None => self.supervise(script, env, sink, None, &|_| None),
        }
    }

    /// Runs `script` with `/bin/sh -c`, streaming its output to `sink`. `due` says, from the
    /// moment the process was spawned, when it must have ended (asked again while it runs, so
    /// the limit may move); past it the process tree recorded in `pidfile` is killed.
    pub(super) fn supervise(
        &self,
        script: &str,
        env: &[String],
        sink: &dyn OutputSink,
        pidfile: Option<&str>,
        due: &(dyn Fn(Instant) -> Option<Instant> + Sync),
    ) -> Result<RunEnd, EngineError> {
        let mut cmd = self.backend.command(&self.shell(script), env, false);
        debug!("running {}", display_command(&cmd));
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let spawn_error = |cmd: &Command, source| EngineError::Spawn {
            command: display_command(cmd),
            source,
        };
        let mut child = interrupt::Child::spawn(&mut cmd).map_err(|e| spawn_error(&cmd, e))?;
        let stdout = child.child.stdout.take();
        let stderr = child.child.stderr.take();
        let spawned = Instant::now();
        let mut timed_out = false;
        let status = std::thread::scope(|scope| {
            if let Some(err) = stderr {
                scope.spawn(move || pump(err, sink));
            }
            if let Some(out) = stdout {
                scope.spawn(move || pump(out, sink));
            }
            let mut killed_at: Option<Instant> = None;
            // Short commands are common (a listing, a copy): look often at first, then less.
            let mut pause = Duration::from_millis(2);
            loop {
                if let Some(status) = child.child.try_wait()? {
                    return Ok(status);
                }
                match (pidfile, killed_at) {
                    (Some(pidfile), None) if due(spawned).is_some_and(|d| Instant::now() >= d) => {
                        timed_out = true;
                        if let Err(err) = self.capture(&kill_script(pidfile)) {
                            debug!("killing the timed-out command: {err}");
                        }
                        killed_at = Some(Instant::now());
                    }
                    (_, Some(at)) if at.elapsed() >= KILL_GRACE => {
                        // The tree did not end (no /proc, no pid file yet): end the client.
                        child.kill_group();
                        return child.child.wait();
                    }
                    _ => {}
                }
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
        })
        .map_err(|e| spawn_error(&cmd, e))?;
        Ok(if timed_out {
            RunEnd::TimedOut
        } else {
            RunEnd::Exited(status)
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
        let mut child = interrupt::Child::spawn(&mut cmd).map_err(|source| EngineError::Spawn {
            command: line.clone(),
            source,
        })?;
        let stdin = child.child.stdin.take();
        let stderr = child.child.stderr.take();
        let (written, stderr_bytes) = std::thread::scope(|scope| {
            let reader = scope.spawn(move || {
                stderr.map_or_else(Vec::new, |err| process::read_tail(err, STDERR_KEPT))
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
        let status = child.child.wait().map_err(|source| EngineError::Spawn {
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
    /// temporary file next to `dest` (named for this process, see [`crate::scratch`]), then
    /// renamed, so `dest` is either complete or absent. Returns its size and sha256. A failed
    /// write (a full disk) is reported as such, naming `dest`.
    pub fn copy_out(&self, source: &str, dest: &Path) -> Result<CopiedFile, EngineError> {
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
        let mut temp = crate::scratch::file_in(dir, ".tmp", 0o666).map_err(io_err)?;
        let mut child = interrupt::Child::spawn(&mut cmd).map_err(|source| EngineError::Spawn {
            command: line.clone(),
            source,
        })?;
        let stdout = child.child.stdout.take();
        let stderr = child.child.stderr.take();
        let (copied, stderr_bytes) = std::thread::scope(|scope| {
            let reader = scope.spawn(move || {
                stderr.map_or_else(Vec::new, |err| process::read_tail(err, STDERR_KEPT))
            });
            let copied = match stdout {
                Some(out) => copy_hashed(out, temp.as_file_mut()),
                None => Ok((0, String::new())),
            };
            if copied.is_err() {
                // Nothing more can be written: stop the reader's source instead of leaving it
                // blocked on a full pipe.
                child.kill_group();
            }
            (copied, reader.join().unwrap_or_default())
        });
        let status = child.child.wait().map_err(|source| EngineError::Spawn {
            command: line.clone(),
            source,
        })?;
        // A failed write is the cause; the client's death by SIGPIPE or SIGKILL its consequence.
        let (size, sha256) = copied.map_err(io_err)?;
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
        temp.as_file().sync_all().map_err(io_err)?;
        temp.persist(dest).map_err(|e| io_err(e.error))?;
        Ok(CopiedFile { size, sha256 })
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
            self.forget();
            return Ok(Some(self.backend.name().to_owned()));
        }
        let result = self.backend.remove();
        self.forget();
        match result {
            // An interrupt removed it already.
            Err(_) if interrupt::requested() => Ok(None),
            other => other.map(|()| None),
        }
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        if !self.finished.swap(true, Ordering::SeqCst) {
            if let Err(err) = self.backend.remove() {
                debug!("removing {}: {err}", self.name());
            }
            self.forget();
        }
    }
}

/// Forwards `reader` to `sink` line by line (lossy UTF-8, `\r\n` and `\n` terminators). A line
/// longer than [`MAX_LINE`] is handed over in pieces (cut at a character boundary), so memory
/// stays bounded whatever the command prints.
fn pump(reader: impl Read, sink: &dyn OutputSink) {
    let mut reader = BufReader::with_capacity(MAX_LINE, reader);
    let mut line: Vec<u8> = Vec::new();
    let emit = |line: &mut Vec<u8>| {
        while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            line.pop();
        }
        sink.line(&String::from_utf8_lossy(line));
        line.clear();
    };
    loop {
        let buf = match reader.fill_buf() {
            Ok([]) => break,
            Ok(buf) => buf,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let room = MAX_LINE - line.len();
        match memchr::memchr(b'\n', &buf[..buf.len().min(room)]) {
            Some(end) => {
                line.extend_from_slice(&buf[..=end]);
                reader.consume(end + 1);
                emit(&mut line);
            }
            None => {
                let take = buf.len().min(room);
                line.extend_from_slice(&buf[..take]);
                reader.consume(take);
                if line.len() >= MAX_LINE {
                    // Cut before a character that the next piece continues.
                    let cut = utf8_cut(&line);
                    let rest = line.split_off(cut);
                    emit(&mut line);
                    line = rest;
                }
            }
        }
    }
    if !line.is_empty() {
        emit(&mut line);
    }
}

/// Where to cut `bytes` so that no UTF-8 sequence is split: before a trailing incomplete
/// sequence (at most 3 bytes back), else at the end.
fn utf8_cut(bytes: &[u8]) -> usize {
    let len = bytes.len();
    for back in 1..=3.min(len) {
        let b = bytes[len - back];
        if b & 0xC0 == 0x80 {
            continue;
        }
        let needed = match b {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => 1,
        };
        return if needed > back { len - back } else { len };
    }
    len
}

/// Copies `reader` to `out`, returning the size and the sha256 (hex) of the bytes.
fn copy_hashed(mut reader: impl Read, out: &mut impl Write) -> std::io::Result<(u64, String)> {
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        out.write_all(&buf[..n])?;
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    out.flush()?;
    let hex = hasher.finalize().iter().fold(String::new(), |mut s, b| {
        use std::fmt::Write as _;
        let _ = write!(s, "{b:02x}");
        s
    });
    Ok((size, hex))
}

/// A shell script that stops and kills the process whose PID is in `pidfile` and all its
/// descendants (found through `/proc/*/status`, so no `pkill` or process groups are needed).
#[must_use]
pub fn kill_script(pidfile: &str) -> String {
    format!(
        r#"pid=$(cat {pidfile} 2>/dev/null) || exit 0
[ -n "$pid" ] || exit 0
children() {{
  for s in /proc/[0-9]*/status; do
    {{ while read -r k v; do
        if [ "$k" = PPid: ]; then
          if [ "$v" = "$1" ]; then p=${{s#/proc/}}; echo "${{p%/status}}"; fi
          break
        fi
      done < "$s"; }} 2>/dev/null
  done
}}
kill_tree() {{
  kill -STOP "$1" 2>/dev/null
  for c in $(children "$1"); do kill_tree "$c"; done
  kill -KILL "$1" 2>/dev/null
}}
kill_tree "$pid"
"#,
        pidfile = shell_quote(pidfile)
    )
}

/// `script` preceded by the line that records its shell's PID in `pidfile` (for
/// [`kill_script`]).
pub(super) fn with_pidfile(pidfile: &str, script: &str) -> String {
    let parent = pidfile.rsplit_once('/').map_or(".", |(p, _)| p);
    format!(
        "mkdir -p {} 2>/dev/null; echo $$ > {}\n{script}",
        shell_quote(parent),
        shell_quote(pidfile)
    )
}

/// Writes `text` to a writer, mapping errors to io errors (helper for sinks writing logs).
pub fn write_line(out: &mut dyn Write, text: &str) -> std::io::Result<()> {
    out.write_all(text.as_bytes())?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Lines(std::sync::Mutex<Vec<String>>);

    impl OutputSink for Lines {
        fn line(&self, line: &str) {
            self.0.lock().expect("lock").push(line.to_owned());
        }
    }

    #[test]
    fn output_is_split_into_lines_of_bounded_length() {
        let sink = Lines(std::sync::Mutex::new(Vec::new()));
        let mut input = b"one\r\ntwo\n".to_vec();
        // A line of 2.5 pieces with a 3-byte character straddling the first cut.
        let mut long = vec![b'x'; MAX_LINE - 1];
        long.extend_from_slice("€".as_bytes());
        long.extend(std::iter::repeat_n(b'y', MAX_LINE + MAX_LINE / 2));
        input.extend_from_slice(&long);
        input.extend_from_slice(b"\nlast");
        pump(input.as_slice(), &sink);
        let lines = sink.0.into_inner().expect("lines");
        assert_eq!(lines[..2], ["one", "two"]);
        assert_eq!(lines.last().map(String::as_str), Some("last"));
        let pieces = &lines[2..lines.len() - 1];
        assert!(pieces.iter().all(|p| p.len() <= MAX_LINE), "bounded");
        assert_eq!(
            pieces.concat().into_bytes(),
            long,
            "nothing lost or mangled"
        );
        assert!(!pieces.concat().contains('\u{fffd}'));
    }

    #[test]
    fn cuts_fall_between_characters() {
        assert_eq!(utf8_cut(b"abc"), 3);
        let euro = "a€".as_bytes();
        assert_eq!(utf8_cut(euro), euro.len());
        assert_eq!(utf8_cut(&euro[..2]), 1);
        assert_eq!(utf8_cut(&euro[..3]), 1);
    }

    #[test]
    fn copies_are_hashed() {
        let mut out = Vec::new();
        let (size, sha) = copy_hashed(&b"abc"[..], &mut out).expect("copy");
        assert_eq!((size, out.as_slice()), (3, &b"abc"[..]));
        assert_eq!(
            sha,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn the_kill_script_kills_a_process_tree() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pidfile = dir.path().join("pid");
        // A shell with a child and a grandchild, all sleeping.
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "echo $$ > {}; sh -c 'sleep 300 & sleep 300; wait' & wait",
                pidfile.display()
            ))
            .spawn()
            .expect("sh");
        let started = Instant::now();
        while !pidfile.exists()
            || std::fs::read_to_string(&pidfile)
                .unwrap_or_default()
                .is_empty()
        {
            assert!(started.elapsed() < Duration::from_secs(10), "no pid file");
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(200));
        let root: u32 = std::fs::read_to_string(&pidfile)
            .expect("pid")
            .trim()
            .parse()
            .expect("number");
        let descendants = |root: u32| -> Vec<u32> {
            let mut all = vec![root];
            let mut i = 0;
            while i < all.len() {
                let parent = all[i];
                for entry in std::fs::read_dir("/proc").expect("proc").flatten() {
                    let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                        continue;
                    };
                    let status =
                        std::fs::read_to_string(entry.path().join("status")).unwrap_or_default();
                    let ppid = status
                        .lines()
                        .find_map(|l| l.strip_prefix("PPid:"))
                        .and_then(|v| v.trim().parse::<u32>().ok());
                    if ppid == Some(parent) && !all.contains(&pid) {
                        all.push(pid);
                    }
                }
                i += 1;
            }
            all
        };
        let before = descendants(root);
        assert!(before.len() >= 4, "{before:?}");
        let out = std::process::Command::new("sh")
            .args(["-c", &kill_script(&pidfile.display().to_string())])
            .output()
            .expect("kill");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let status = child.wait().expect("wait");
        assert!(!status.success());
        // Every process of the tree is gone (zombies of reaped parents included).
        std::thread::sleep(Duration::from_millis(200));
        for pid in &before[1..] {
            let state = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            assert!(
                state.is_empty() || state.contains("State:\tZ"),
                "{pid} survived: {state}"
            );
        }
    }
}
