//! The uv that wheelwright provides to build and test environments whose image has none.
//!
//! pypa's images ship `uv` on PATH; others (a distribution's image, an older manylinux) do not.
//! For those, wheelwright fetches the `uv` wheel pinned in `uv-pins.lock` (a statically linked
//! musllinux build, so it runs in any Linux userland of its architecture) from an index (PyPI
//! by default, [`INDEX_ENV`] or `--uv-index-url` to override), checks its sha256 against the
//! pin, extracts the `uv` executable into `<cache>/uv-binaries/<digest>/uv` (written under a
//! temporary name and renamed, so a half-written file is never used) and the containers see
//! that directory read-only at [`inside_root`]. A digest that differs from the pin is an error
//! and nothing of the download is kept.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use reqwest::Url;

use crate::engine::CONTAINER_WORK_ROOT;
use crate::platform::Arch;
use crate::publish::simple::{self, SimpleError, SimpleIndex};

/// The pins: `<wheel file name> <sha256>` per line, `#` comments (the format of the corpus
/// locks, so `scripts/fetch-corpus.sh` fetches them for the tests).
pub const PINS: &str = include_str!("uv-pins.lock");

/// The variable that overrides the index the pinned uv is fetched from (a Simple API root).
pub const INDEX_ENV: &str = "WHEELWRIGHT_UV_INDEX_URL";

/// The largest wheel accepted (the pinned ones are about 20 MB).
const MAX_WHEEL: u64 = 200 * 1024 * 1024;

/// One pinned wheel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pin {
    /// Ex) `uv-0.13.8-py3-none-musllinux_1_1_x86_64.whl`
    pub filename: &'static str,
    /// Hex SHA-256 of the file.
    pub sha256: &'static str,
    /// Ex) `0.13.8`
    pub version: &'static str,
}

/// The pinned wheel for `arch`, if there is one.
#[must_use]
pub fn pin(arch: Arch) -> Option<Pin> {
    PINS.lines()
        .map(|line| line.split('#').next().unwrap_or_default())
        .filter_map(|line| line.split_once(' '))
        .map(|(filename, sha256)| (filename.trim(), sha256.trim()))
        .find(|(filename, _)| {
            filename
                .strip_suffix(".whl")
                .and_then(|stem| stem.rsplit('-').next())
                .is_some_and(|platform| {
                    platform.starts_with("musllinux_")
                        && platform.ends_with(&format!("_{}", arch.as_str()))
                })
        })
        .and_then(|(filename, sha256)| {
            Some(Pin {
                filename,
                sha256,
                version: filename.split('-').nth(1)?,
            })
        })
}

/// The oldest Python uv supports (its interpreter discovery and tags: PyPy 3.7's ABI tag
/// `pypy37_pp73` is not one uv knows).
pub const OLDEST_PYTHON: (u32, u32) = (3, 8);

/// Whether uv serves `python`.
#[must_use]
pub fn supports(python: &crate::config::identifier::PythonTag) -> bool {
    (python.major, python.minor) >= OLDEST_PYTHON
}

/// Where the cache's uv directory is mounted in containers (read-only).
#[must_use]
pub fn inside_root() -> String {
    format!("{CONTAINER_WORK_ROOT}/uv-binaries")
}

/// Why the pinned uv could not be provided.
#[derive(Debug, thiserror::Error)]
pub enum UvError {
    /// No pin for the architecture.
    #[error("wheelwright pins no uv for {0}")]
    NoPin(Arch),
    /// The index URL does not parse.
    #[error(
        "the uv index URL `{url}` is invalid ({detail}); set {INDEX_ENV} or --uv-index-url to a Simple index root such as `http://127.0.0.1:8080/simple/`"
    )]
    BadIndex {
        /// The URL.
        url: String,
        /// Why.
        detail: String,
    },
    /// The index could not be read.
    #[error("cannot fetch uv from `{index}`: {source}")]
    Index {
        /// The index.
        index: String,
        /// The cause.
        #[source]
        source: SimpleError,
    },
    /// The index does not list the pinned file.
    #[error("`{filename}` is not on the index `{index}`")]
    NotListed {
        /// The file.
        filename: String,
        /// The index.
        index: String,
    },
    /// The download is not the pinned file.
    #[error("`{filename}` from `{url}` has sha256 {got}, not the pinned {want}: not used")]
    Digest {
        /// The file.
        filename: String,
        /// Where it came from.
        url: String,
        /// What the pin says.
        want: String,
        /// What was downloaded.
        got: String,
    },
    /// The wheel lacks the executable.
    #[error("`{filename}` has no `{member}`: {detail}")]
    Member {
        /// The file.
        filename: String,
        /// The member looked for.
        member: String,
        /// Why.
        detail: String,
    },
    /// The cache could not be written.
    #[error("cannot write `{path}`: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl UvError {
    /// Whether nothing can make this uv usable short of fixing the index (a wrong file): such
    /// an error stops the run instead of falling back to pip.
    #[must_use]
    pub fn is_integrity(&self) -> bool {
        matches!(self, UvError::Digest { .. } | UvError::Member { .. })
    }
}

/// A uv binary on the host and where containers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provided {
    /// The executable on the host.
    pub host: PathBuf,
    /// Its path inside containers.
    pub inside: String,
    /// Its version.
    pub version: &'static str,
}

/// Why uv is not provided, as said once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The one-line message.
    pub message: String,
    /// Whether it is [`UvError::is_integrity`] (the run stops rather than fall back).
    pub integrity: bool,
}

/// Fetches (once per architecture and run) and caches the pinned uv.
pub struct Provider {
    root: PathBuf,
    index: String,
    fetched: Mutex<BTreeMap<Arch, Result<Provided, Failure>>>,
}

impl Provider {
    /// A provider caching under `root` (created) and fetching from `index` (`None`: the
    /// variable, else PyPI).
    pub fn new(root: PathBuf, index: Option<&str>) -> Result<Self, UvError> {
        let index = index
            .map(str::to_owned)
            .or_else(|| {
                std::env::var(INDEX_ENV)
                    .ok()
                    .filter(|v| !v.trim().is_empty())
            })
            .unwrap_or_else(|| crate::publish::endpoints::PYPI.simple_url.to_owned());
        Url::parse(&index).map_err(|e| UvError::BadIndex {
            url: index.clone(),
            detail: e.to_string(),
        })?;
        fs_err::create_dir_all(&root).map_err(|source| UvError::Io {
            path: root.clone(),
            source,
        })?;
        // What a killed run left half-fetched.
        for stale in crate::scratch::sweep(&root) {
            tracing::debug!(
                "removed `{}`, left by a run that was killed",
                stale.display()
            );
        }
        Ok(Provider {
            root,
            index,
            fetched: Mutex::new(BTreeMap::new()),
        })
    }

    /// The host directory mounted at [`inside_root`].
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The index it fetches from.
    #[must_use]
    pub fn index(&self) -> &str {
        &self.index
    }

    /// The uv for `arch`: from the cache, else fetched and checked. The outcome is kept for
    /// the run, so another container of the architecture does not fetch again.
    pub fn get(&self, arch: Arch) -> Result<Provided, Failure> {
        let mut fetched = self.fetched.lock().unwrap_or_else(|e| e.into_inner());
        fetched
            .entry(arch)
            .or_insert_with(|| {
                self.provide(arch).map_err(|err| Failure {
                    integrity: err.is_integrity(),
                    message: err.to_string(),
                })
            })
            .clone()
    }

    fn provide(&self, arch: Arch) -> Result<Provided, UvError> {
        let pin = pin(arch).ok_or(UvError::NoPin(arch))?;
        let dir_name = format!("{}-{}", &pin.sha256[..16], arch.as_str());
        let dir = self.root.join(&dir_name);
        let provided = Provided {
            host: dir.join("uv"),
            inside: format!("{}/{dir_name}/uv", inside_root()),
            version: pin.version,
        };
        if provided.host.is_file() {
            return Ok(provided);
        }
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source: std::io::Error| UvError::Io { path, source }
        };
        let scratch = crate::scratch::dir_in(&self.root, ".fetch").map_err(io(&self.root))?;
        let wheel_path = scratch.path().join(pin.filename);
        self.fetch(&pin, &wheel_path)?;
        let member = format!("uv-{}.data/scripts/uv", pin.version);
        let missing = |detail: String| UvError::Member {
            filename: pin.filename.to_owned(),
            member: member.clone(),
            detail,
        };
        let file = std::fs::File::open(&wheel_path).map_err(io(&wheel_path))?;
        let mut archive = zip::ZipArchive::new(file).map_err(|e| missing(e.to_string()))?;
        let mut entry = archive
            .by_name(&member)
            .map_err(|e| missing(e.to_string()))?;
        let staged = scratch.path().join("dir");
        fs_err::create_dir_all(&staged).map_err(io(&staged))?;
        let exe = staged.join("uv");
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            let mut out = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o755)
                .open(&exe)
                .map_err(io(&exe))?;
            std::io::copy(&mut entry, &mut out).map_err(io(&exe))?;
            out.flush().map_err(io(&exe))?;
        }
        match std::fs::rename(&staged, &dir) {
            Ok(()) => {}
            // Another run put it there first: theirs is the same pinned file.
            Err(_) if provided.host.is_file() => {}
            Err(e) => return Err(io(&dir)(e)),
        }
        Ok(provided)
    }

    /// Downloads the pinned file into `dest` and checks its digest.
    fn fetch(&self, pin: &Pin, dest: &Path) -> Result<(), UvError> {
        let index_error = |source| UvError::Index {
            index: self.index.clone(),
            source,
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| UvError::Io {
                path: dest.to_path_buf(),
                source,
            })?;
        let client = simple::client(Duration::from_secs(300)).map_err(|e| UvError::BadIndex {
            url: self.index.clone(),
            detail: e.to_string(),
        })?;
        let base = Url::parse(&self.index).map_err(|e| UvError::BadIndex {
            url: self.index.clone(),
            detail: e.to_string(),
        })?;
        let index = SimpleIndex::new(client, base, None, crate::net::secret::Redactor::default());
        let files = runtime
            .block_on(index.project_files("uv"))
            .map_err(index_error)?;
        let file = files
            .into_iter()
            .find(|f| f.filename == pin.filename)
            .ok_or_else(|| UvError::NotListed {
                filename: pin.filename.to_owned(),
                index: self.index.clone(),
            })?;
        let mut out = std::fs::File::create(dest).map_err(|source| UvError::Io {
            path: dest.to_path_buf(),
            source,
        })?;
        let got = runtime
            .block_on(index.download(&file, &mut out, MAX_WHEEL))
            .map_err(index_error)?;
        if !got.eq_ignore_ascii_case(pin.sha256) {
            return Err(UvError::Digest {
                filename: pin.filename.to_owned(),
                url: crate::net::secret::display_url(&file.url),
                want: pin.sha256.to_owned(),
                got,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::identifier::PythonTag;

    #[test]
    fn uv_serves_python_3_8_and_newer() {
        for (tag, served) in [
            ("cp37", false),
            ("pp37", false),
            ("cp38", true),
            ("pp311", true),
        ] {
            assert_eq!(
                supports(&PythonTag::parse(tag).expect(tag)),
                served,
                "{tag}"
            );
        }
    }

    #[test]
    fn every_architecture_with_containers_has_a_pin() {
        for arch in [Arch::X86_64, Arch::I686] {
            let pin = pin(arch).expect("pinned");
            assert!(pin.filename.starts_with(&format!("uv-{}-", pin.version)));
            assert!(pin.filename.ends_with(&format!("_{}.whl", arch.as_str())));
            assert_eq!(pin.sha256.len(), 64);
            assert!(pin.sha256.bytes().all(|b| b.is_ascii_hexdigit()));
        }
    }
}
