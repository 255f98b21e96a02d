//! The results manifest next to the wheels (`<output-dir>/.wheelwright/results.json`): what the
//! build's test stage found for each wheel, so that a later `wheelwright publish` of the same
//! directory refuses wheels whose tests failed (or could not run) unless forced.
//!
//! One entry per wheel file name, with the sha256 of the file it describes: an entry whose hash
//! differs from the file on disk describes an older file. A wheel in a directory with a manifest
//! but without a current entry has no known result, and `publish` refuses it like a failed one.
//!
//! Several runs may write into one directory at once: every change is a read-merge-write under an
//! exclusive lock (`flock` on `.wheelwright/results.lock`), so no run drops another's entries.
//! The file is written to a temporary name and renamed, so readers (which take no lock) see the
//! old or the new manifest, never a mix.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

/// The manifest's path relative to the wheel directory.
pub const MANIFEST_PATH: &str = ".wheelwright/results.json";

/// The lock file that serialises writers, next to the manifest.
pub const LOCK_PATH: &str = ".wheelwright/results.lock";

/// The manifest format version.
pub const VERSION: u32 = 1;

/// What the test stage found for a wheel (or for one identifier's test of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TestState {
    /// The test command passed.
    Passed,
    /// `test-skip` matched, or no test command is configured: publishable.
    Skipped,
    /// The test is about to run (a run that died in between leaves this): not publishable.
    Pending,
    /// The run was interrupted before the test finished: not publishable.
    Interrupted,
    /// The wheel could not be tested (environment, installation, no interpreter): not
    /// publishable.
    Error,
    /// The test command failed or timed out: not publishable.
    Failed,
}

impl TestState {
    /// Whether `publish` refuses a wheel in this state (without `--force`).
    #[must_use]
    pub fn blocks_publish(self) -> bool {
        matches!(
            self,
            TestState::Pending | TestState::Interrupted | TestState::Error | TestState::Failed
        )
    }

    /// Ex) `failed`
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            TestState::Passed => "passed",
            TestState::Skipped => "skipped",
            TestState::Pending => "pending",
            TestState::Interrupted => "interrupted",
            TestState::Error => "error",
            TestState::Failed => "failed",
        }
    }
}

/// One identifier's test of a wheel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentifierRecord {
    /// The result.
    pub state: TestState,
    /// Why (for anything but `passed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The test log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<PathBuf>,
}

/// One wheel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WheelRecord {
    /// The sha256 (hex) of the file this entry describes.
    pub sha256: String,
    /// The worst state over its identifiers.
    pub state: TestState,
    /// Per identifier (an abi3 or pure wheel is tested by several).
    pub identifiers: BTreeMap<String, IdentifierRecord>,
}

/// The whole manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`VERSION`].
    pub version: u32,
    /// By wheel file name.
    pub wheels: BTreeMap<String, WheelRecord>,
}

impl Default for Manifest {
    fn default() -> Self {
        Manifest {
            version: VERSION,
            wheels: BTreeMap::new(),
        }
    }
}

/// Why the manifest could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// Reading or writing failed.
    #[error("`{}`: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a manifest.
    #[error("`{}` is not a wheelwright results manifest: {reason}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        reason: String,
    },
}

/// The manifest of the wheels in `dir`.
#[must_use]
pub fn path_in(dir: &Path) -> PathBuf {
    dir.join(MANIFEST_PATH)
}

/// Reads the manifest of `dir`; `None` when there is none.
pub fn read(dir: &Path) -> Result<Option<Manifest>, ManifestError> {
    let path = path_in(dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(ManifestError::Io { path, source }),
    };
    let manifest: Manifest =
        serde_json::from_str(&text).map_err(|err| ManifestError::Malformed {
            path: path.clone(),
            reason: err.to_string(),
        })?;
    if manifest.version != VERSION {
        return Err(ManifestError::Malformed {
            path,
            reason: format!(
                "version {} (this wheelwright reads version {VERSION})",
                manifest.version
            ),
        });
    }
    Ok(Some(manifest))
}

/// Changes the manifest of `dir` under its lock: reads the current one (or starts an empty
/// one), applies `change`, writes it back. Concurrent runs therefore add to each other's entries
/// instead of replacing them.
pub fn update(dir: &Path, change: impl FnOnce(&mut Manifest)) -> Result<(), ManifestError> {
    let lock_path = dir.join(LOCK_PATH);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ManifestError::Io { path, source }
    };
    let parent = lock_path.parent().unwrap_or(dir);
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(io(&lock_path))?;
    // Released when `lock` is closed (also when the process dies).
    rustix::fs::flock(&lock, rustix::fs::FlockOperation::LockExclusive)
        .map_err(|e| io(&lock_path)(e.into()))?;
    let mut manifest = read(dir)?.unwrap_or_default();
    change(&mut manifest);
    write(dir, &manifest)
}

/// Writes the manifest of `dir` (temporary file, then rename). Concurrent writers go through
/// [`update`].
pub fn write(dir: &Path, manifest: &Manifest) -> Result<(), ManifestError> {
    let path = path_in(dir);
    let io = |source| ManifestError::Io {
        path: path.clone(),
        source,
    };
    let parent = path.parent().unwrap_or(dir);
    std::fs::create_dir_all(parent).map_err(io)?;
    let mut temp = crate::scratch::file_in(parent, ".json.tmp", 0o666).map_err(io)?;
    let text = serde_json::to_string_pretty(manifest).map_err(|err| ManifestError::Malformed {
        path: path.clone(),
        reason: err.to_string(),
    })?;
    std::io::Write::write_all(temp.as_file_mut(), format!("{text}\n").as_bytes()).map_err(io)?;
    temp.as_file().sync_all().map_err(io)?;
    temp.persist(&path).map_err(|e| io(e.error))?;
    Ok(())
}

/// The sha256 (hex) of a file.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            use std::fmt::Write as _;
            let _ = write!(s, "{b:02x}");
            s
        }))
}

impl Manifest {
    /// Records `identifier`'s result for the wheel `name` with content `sha256`. An entry for
    /// other content is replaced; otherwise the identifier's record is replaced and the wheel's
    /// state recomputed (the worst of its identifiers).
    pub fn record(&mut self, name: &str, sha256: &str, identifier: &str, record: IdentifierRecord) {
        let entry = self
            .wheels
            .entry(name.to_owned())
            .or_insert_with(|| WheelRecord {
                sha256: sha256.to_owned(),
                state: record.state,
                identifiers: BTreeMap::new(),
            });
        if entry.sha256 != sha256 {
            entry.sha256 = sha256.to_owned();
            entry.identifiers.clear();
        }
        entry.identifiers.insert(identifier.to_owned(), record);
        entry.state = entry
            .identifiers
            .values()
            .map(|r| r.state)
            .max()
            .unwrap_or(TestState::Skipped);
    }

    /// The entry for `name` if it describes content `sha256`.
    #[must_use]
    pub fn lookup(&self, name: &str, sha256: &str) -> Option<&WheelRecord> {
        self.wheels.get(name).filter(|r| r.sha256 == sha256)
    }
}

/// Why `publish` should not upload a file: the manifest next to it marks it failed (or
/// untestable, interrupted, pending), or, for a wheel, has no result for its current content
/// (a lost or stale entry). `None` when there is no manifest, for other files (sdists), and for
/// publishable entries.
pub fn publish_blocker(path: &Path, sha256: &str) -> Result<Option<String>, ManifestError> {
    let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Ok(None);
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let Some(manifest) = read(dir)? else {
        return Ok(None);
    };
    let Some(entry) = manifest.lookup(&name, sha256) else {
        if !name.ends_with(".whl") {
            return Ok(None);
        }
        let why = if manifest.wheels.contains_key(&name) {
            "the recorded result is for other content"
        } else {
            "no result is recorded for it"
        };
        return Ok(Some(format!(
            "tests unknown ({why} in `{}`)",
            path_in(dir).display()
        )));
    };
    if !entry.state.blocks_publish() {
        return Ok(None);
    }
    let details: Vec<String> = entry
        .identifiers
        .iter()
        .filter(|(_, r)| r.state.blocks_publish())
        .map(|(id, r)| match &r.message {
            Some(message) => format!("{id}: {message}"),
            None => format!("{id}: {}", r.state.as_str()),
        })
        .collect();
    Ok(Some(format!(
        "tests {} ({}; recorded in `{}`)",
        match entry.state {
            TestState::Failed => "failed",
            TestState::Pending => "did not finish",
            TestState::Interrupted => "were interrupted",
            _ => "could not run",
        },
        details.join("; "),
        path_in(dir).display()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(state: TestState, message: Option<&str>) -> IdentifierRecord {
        IdentifierRecord {
            state,
            message: message.map(str::to_owned),
            log: None,
        }
    }

    #[test]
    fn the_worst_identifier_decides_and_new_content_resets() {
        let mut m = Manifest::default();
        m.record(
            "a.whl",
            "h1",
            "cp39-manylinux_x86_64",
            rec(TestState::Passed, None),
        );
        m.record(
            "a.whl",
            "h1",
            "cp310-manylinux_x86_64",
            rec(TestState::Failed, Some("exit status: 1")),
        );
        assert_eq!(m.wheels["a.whl"].state, TestState::Failed);
        m.record(
            "a.whl",
            "h1",
            "cp310-manylinux_x86_64",
            rec(TestState::Passed, None),
        );
        assert_eq!(m.wheels["a.whl"].state, TestState::Passed);
        m.record(
            "a.whl",
            "h2",
            "cp39-manylinux_x86_64",
            rec(TestState::Error, None),
        );
        assert_eq!(m.wheels["a.whl"].identifiers.len(), 1);
        assert_eq!(m.wheels["a.whl"].state, TestState::Error);
        assert!(m.lookup("a.whl", "h1").is_none());
        assert!(m.lookup("a.whl", "h2").is_some());
    }

    #[test]
    fn written_atomically_read_back_and_consulted_by_publish() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(read(dir.path()).expect("read").is_none());
        let wheel = dir.path().join("demo-1-py3-none-any.whl");
        std::fs::write(&wheel, b"wheel bytes").expect("write");
        let sha = sha256_file(&wheel).expect("hash");
        assert_eq!(sha.len(), 64);
        assert_eq!(publish_blocker(&wheel, &sha).expect("no manifest"), None);
        let mut m = Manifest::default();
        m.record(
            "demo-1-py3-none-any.whl",
            &sha,
            "cp39-manylinux_x86_64",
            rec(
                TestState::Failed,
                Some("test-command failed (exit status: 1)"),
            ),
        );
        update(dir.path(), |current| *current = m.clone()).expect("write");
        assert_eq!(read(dir.path()).expect("read"), Some(m.clone()));
        let mut leftovers: Vec<_> = std::fs::read_dir(dir.path().join(".wheelwright"))
            .expect("dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        leftovers.sort();
        assert_eq!(leftovers, ["results.json", "results.lock"]);
        let why = publish_blocker(&wheel, &sha)
            .expect("read")
            .expect("blocked");
        assert!(
            why.starts_with("tests failed (cp39-manylinux_x86_64: test-command failed (exit status: 1); recorded in `"),
            "{why}"
        );
        // Other content: the entry is stale, the file's result unknown.
        let why = publish_blocker(&wheel, "0".repeat(64).as_str())
            .expect("read")
            .expect("blocked");
        assert!(
            why.starts_with("tests unknown (the recorded result is for other content in `"),
            "{why}"
        );
        // A wheel without an entry: unknown too; other files are not the manifest's business.
        let other = dir.path().join("other-1-py3-none-any.whl");
        std::fs::write(&other, b"x").expect("write");
        let why = publish_blocker(&other, "1".repeat(64).as_str())
            .expect("read")
            .expect("blocked");
        assert!(
            why.starts_with("tests unknown (no result is recorded for it in `"),
            "{why}"
        );
        let sdist = dir.path().join("demo-1.tar.gz");
        assert_eq!(
            publish_blocker(&sdist, "2".repeat(64).as_str()).expect("read"),
            None
        );
        // Passed and skipped wheels are publishable.
        m.record(
            "demo-1-py3-none-any.whl",
            &sha,
            "cp39-manylinux_x86_64",
            rec(TestState::Skipped, None),
        );
        write(dir.path(), &m).expect("write");
        assert_eq!(publish_blocker(&wheel, &sha).expect("read"), None);
    }

    #[test]
    fn concurrent_updates_keep_every_entry() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::thread::scope(|scope| {
            for t in 0..4 {
                let dir = dir.path();
                scope.spawn(move || {
                    for i in 0..25 {
                        update(dir, |m| {
                            m.record(
                                &format!("w{t}-{i}.whl"),
                                "h",
                                "cp39-manylinux_x86_64",
                                rec(TestState::Passed, None),
                            );
                        })
                        .expect("update");
                    }
                });
            }
        });
        let m = read(dir.path()).expect("read").expect("manifest");
        assert_eq!(m.wheels.len(), 100);
    }

    #[test]
    fn a_broken_manifest_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join(".wheelwright")).expect("mkdir");
        std::fs::write(path_in(dir.path()), "{").expect("write");
        let err = read(dir.path()).expect_err("malformed");
        assert!(
            err.to_string()
                .contains("is not a wheelwright results manifest"),
            "{err}"
        );
    }
}
