//! Temporary files and directories that wheelwright keeps next to what it writes (a wheel being
//! copied out of a container or rewritten by the repair, the results manifest, a file extracted
//! from an artifact, the repair's scratch directory, the host engine's work directory).
//!
//! Every one is named `.wheelwright-<owner>-<random><suffix>`, where `<owner>` is this process:
//! `<host>-<pid>-<start>` (a hash of the boot id and the PID namespace, the PID, and the process's
//! start time in clock ticks since boot — together they never name two processes). The name
//! lets
//! 1. a run that is interrupted (SIGINT, SIGTERM, SIGHUP) or panics remove its own temporaries on
//!    the way out, whichever thread created them ([`remove_ours`]), while every other exit path
//!    removes them through the owners' `Drop`;
//! 2. a later run remove the temporaries of a run that was killed outright (SIGKILL, a lost
//!    machine): an entry whose owner is no live process of this machine is stale, and the first
//!    use of a directory removes its stale entries ([`sweep`]).
//!
//! Entries of another machine or PID namespace (a shared directory) are left alone: whether
//! their owner lives cannot be told from here. The same owner identity labels containers
//! (`engine`), so that a start removes the containers of runs that are gone.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, RwLock};

use sha2::Digest as _;

/// How every temporary name starts.
pub(crate) const PREFIX: &str = ".wheelwright-";

/// A process that owns temporaries or containers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// 8 hex digits: the boot id and PID namespace the PID belongs to.
    pub host: String,
    /// The process id.
    pub pid: u32,
    /// Its start time (clock ticks since boot, `/proc/<pid>/stat` field 22).
    pub start: u64,
}

impl Owner {
    /// `<host>-<pid>-<start>`.
    #[must_use]
    pub fn token(&self) -> String {
        format!("{}-{}-{}", self.host, self.pid, self.start)
    }

    /// Parses the start of `text` as a token (what follows it is ignored if it starts with `-`).
    #[must_use]
    pub fn parse(text: &str) -> Option<Owner> {
        let mut parts = text.splitn(4, '-');
        let host = parts.next()?;
        if host.len() != 8 || !host.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let pid = parts.next()?.parse().ok()?;
        let start = parts.next()?.parse().ok()?;
        Some(Owner {
            host: host.to_owned(),
            pid,
            start,
        })
    }

    /// Whether this owner is a live process: `Some(false)` only when it certainly is not (same
    /// machine and PID namespace, and no process with its PID and start time); `None` when that
    /// cannot be told (another machine or namespace, or no `/proc` here).
    #[must_use]
    pub fn is_alive(&self) -> Option<bool> {
        let me = current()?;
        if self.host != me.host {
            return None;
        }
        Some(start_time(self.pid) == Some(self.start))
    }
}

/// The start time of process `pid` (field 22 of `/proc/<pid>/stat`), if it exists.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces and parentheses: count from its end.
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// This process, when `/proc` tells who it is.
#[must_use]
pub fn current() -> Option<&'static Owner> {
    static OWNER: OnceLock<Option<Owner>> = OnceLock::new();
    OWNER
        .get_or_init(|| {
            let pid = std::process::id();
            let start = start_time(pid)?;
            let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
            let namespace = std::fs::read_link("/proc/self/ns/pid").ok()?;
            let mut hasher = sha2::Sha256::new();
            hasher.update(boot.trim().as_bytes());
            hasher.update(b"\0");
            hasher.update(namespace.as_os_str().as_encoded_bytes());
            let host = hasher.finalize()[..4]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            Some(Owner { host, pid, start })
        })
        .as_ref()
}

/// The name prefix of this process's temporaries.
fn our_prefix() -> String {
    match current() {
        Some(owner) => format!("{PREFIX}{}-", owner.token()),
        // Without /proc nothing is recognisable as ours later; the name still says whose.
        None => format!("{PREFIX}{}-", std::process::id()),
    }
}

/// Directories this process keeps temporaries in (each swept when first used).
static ROOTS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Set by [`remove_ours`]: no temporary is created after it (a creation holds the read side
/// from its check to its end, so it either finishes before the removal or does not start).
static CLOSED: RwLock<bool> = RwLock::new(false);

/// Runs `create` unless the process is on its way out.
fn unless_closed<T>(create: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
    let closed = CLOSED
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if *closed {
        return Err(io::Error::other(
            "the process is ending (interrupted): no new temporary files",
        ));
    }
    create()
}

/// Notes `dir` as a place with temporaries of ours; the first time, removes stale ones there.
fn watch(dir: &Path) {
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let first = match ROOTS.lock() {
        Ok(mut roots) if !roots.contains(&dir) => {
            roots.push(dir.clone());
            true
        }
        _ => false,
    };
    if first {
        sweep(&dir);
    }
}

fn builder<'a>(prefix: &'a str, suffix: &'a str) -> tempfile::Builder<'a, 'a> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(prefix).suffix(suffix).rand_bytes(6);
    builder
}

/// A temporary file in `dir` named for this process (`.wheelwright-<owner>-XXXXXX<suffix>`),
/// created with `mode` (before the umask); removed when dropped unless persisted.
pub fn file_in(dir: &Path, suffix: &str, mode: u32) -> io::Result<tempfile::NamedTempFile> {
    watch(dir);
    let prefix = our_prefix();
    unless_closed(|| {
        builder(&prefix, suffix)
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(mode))
            .tempfile_in(dir)
    })
}

/// A temporary directory in `dir` named for this process; removed when dropped.
pub fn dir_in(dir: &Path, suffix: &str) -> io::Result<tempfile::TempDir> {
    watch(dir);
    let prefix = our_prefix();
    unless_closed(|| builder(&prefix, suffix).tempdir_in(dir))
}

/// Removes the stale temporaries in `dir`: entries named by [`file_in`]/[`dir_in`] whose owner is
/// certainly gone. Returns what was removed. Errors (a directory that cannot be read, an entry
/// that cannot be removed) are not fatal: the entry stays.
pub fn sweep(dir: &Path) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return removed;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(owner) = name
            .to_str()
            .and_then(|n| n.strip_prefix(PREFIX))
            .and_then(Owner::parse)
        else {
            continue;
        };
        if owner.is_alive() != Some(false) {
            continue;
        }
        let path = entry.path();
        if remove(&path).is_ok() {
            tracing::debug!("removed `{}`, left by a run that is gone", path.display());
            removed.push(path);
        }
    }
    removed
}

/// Removes every temporary of this process in the directories it used, and lets no new one be
/// created (for exits that skip destructors: a signal, a panic with `panic = "abort"`). Other
/// threads may still be writing into a temporary directory: its removal is retried.
pub fn remove_ours() {
    let mut closed = CLOSED
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    *closed = true;
    let roots = ROOTS.lock().map(|r| r.clone()).unwrap_or_default();
    remove_prefixed(&roots, &our_prefix());
}

/// Removes the entries of `roots` whose names start with `prefix`.
fn remove_prefixed(roots: &[PathBuf], prefix: &str) {
    for root in roots {
        let Ok(entries) = std::fs::read_dir(root) else {
            continue;
        };
        for entry in entries.flatten() {
            if entry
                .file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(prefix))
            {
                for _ in 0..5 {
                    match remove(&entry.path()) {
                        Err(err) if err.kind() != io::ErrorKind::NotFound => {
                            std::thread::sleep(std::time::Duration::from_millis(10));
                        }
                        _ => break,
                    }
                }
            }
        }
    }
}

fn remove(path: &Path) -> io::Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    if meta.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_named_in_its_temporaries() {
        let me = current().expect("/proc is there");
        assert_eq!(me.pid, std::process::id());
        assert_eq!(me.is_alive(), Some(true));
        assert_eq!(Owner::parse(&me.token()).as_ref(), Some(me));
        let dir = tempfile::tempdir().expect("tempdir");
        let file = file_in(dir.path(), ".whl.part", 0o600).expect("temp");
        let name = file.path().file_name().expect("name").to_string_lossy();
        assert!(
            name.starts_with(&format!(".wheelwright-{}-", me.token()))
                && name.ends_with(".whl.part"),
            "{name}"
        );
        assert!(sweep(dir.path()).is_empty(), "a live owner's file stays");
        assert!(file.path().exists());
    }

    #[test]
    fn stale_temporaries_are_swept_and_others_kept() {
        let me = current().expect("/proc is there");
        let dir = tempfile::tempdir().expect("tempdir");
        let gone = Owner {
            start: me.start + 1,
            ..me.clone()
        };
        let foreign = Owner {
            host: "00000000".to_owned(),
            ..gone.clone()
        };
        let stale_file = dir
            .path()
            .join(format!("{PREFIX}{}-abcdef.tmp", gone.token()));
        let stale_dir = dir
            .path()
            .join(format!("{PREFIX}{}-abcdef.repair", gone.token()));
        let other = dir
            .path()
            .join(format!("{PREFIX}{}-abcdef.tmp", foreign.token()));
        let unrelated = dir.path().join(".wheelwright-old.tmp");
        std::fs::write(&stale_file, b"x").expect("write");
        std::fs::create_dir(&stale_dir).expect("mkdir");
        std::fs::write(stale_dir.join("elf-0"), b"x").expect("write");
        std::fs::write(&other, b"x").expect("write");
        std::fs::write(&unrelated, b"x").expect("write");
        let mut removed = sweep(dir.path());
        removed.sort();
        let mut expected = vec![stale_file, stale_dir];
        expected.sort();
        assert_eq!(removed, expected);
        assert!(other.exists() && unrelated.exists());
    }

    #[test]
    fn our_own_temporaries_are_removed_on_the_way_out() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = file_in(dir.path(), ".tmp", 0o600).expect("temp");
        let scratch = dir_in(dir.path(), ".repair").expect("temp dir");
        std::fs::write(scratch.path().join("elf-0"), b"x").expect("write");
        let kept = dir.path().join("done.whl");
        std::fs::write(&kept, b"x").expect("write");
        // What `remove_ours` does after closing (which would end this test process's use of
        // temporaries), limited to this test's directory.
        remove_prefixed(&[dir.path().to_path_buf()], &our_prefix());
        assert!(!file.path().exists() && !scratch.path().exists());
        assert!(kept.exists());
    }

    #[test]
    fn tokens_are_checked() {
        assert_eq!(Owner::parse("0123abcd-12-34-rest").map(|o| o.pid), Some(12));
        for bad in [
            "",
            "0123abc-1-2",
            "0123abcd-x-2",
            "0123abcd-1",
            "zzzzzzzz-1-2",
        ] {
            assert_eq!(Owner::parse(bad), None, "{bad}");
        }
    }
}
