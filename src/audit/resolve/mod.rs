//! Shared-library resolution: which file a `DT_NEEDED` name loads.
//!
//! Two models share one implementation:
//!
//! * [`ResolverMode::Ldso`] (default) follows glibc's loader: the `DT_RPATH` of the requesting
//!   object and of every object above it in the loading chain (only while the object has no
//!   `DT_RUNPATH`), then `LD_LIBRARY_PATH`, then the requesting object's own `DT_RUNPATH`
//!   (not inherited), then the `ld.so.conf` directories and the default directories.
//! * [`ResolverMode::Auditwheel`] reproduces auditwheel 6.8's `lddtree`: the root's RPATH, the
//!   object's RPATH and RUNPATH, the environment, the root's RUNPATH (applied to every level),
//!   then the configuration directories.
//!
//! Files are looked up in two places: inside the wheel being audited ([`Location::Wheel`],
//! never extracted) and in a filesystem root ([`Location::Host`], `/` or a `--root` sysroot;
//! symbolic links are followed inside that root). A candidate is accepted only if it is an ELF
//! file of a compatible class, byte order, machine and OS ABI; otherwise the search goes on.

use std::collections::{BTreeMap, HashMap};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use tracing::warn;

use crate::elf::ElfInfo;
use crate::platform::Libc;

mod search;
mod tree;

/// Which loader model to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ResolverMode {
    /// glibc's `ld.so`: RPATH of the loading chain, LD_LIBRARY_PATH, own RUNPATH, system dirs.
    #[default]
    Ldso,
    /// auditwheel 6.8's search order, for side-by-side comparison.
    Auditwheel,
}

/// Where a file lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Location {
    /// A path inside the wheel, relative to its root, `/`-separated. Ex) `pkg/_core.so`
    Wheel(String),
    /// An absolute path inside the filesystem root. Ex) `/usr/lib/libfoo.so.1`
    Host(PathBuf),
}

impl Location {
    /// The directory containing this file.
    #[must_use]
    pub fn parent(&self) -> Location {
        match self {
            Location::Wheel(path) => {
                Location::Wheel(path.rsplit_once('/').map_or("", |(d, _)| d).to_owned())
            }
            Location::Host(path) => Location::Host(
                path.parent()
                    .map_or_else(|| PathBuf::from("/"), Path::to_path_buf),
            ),
        }
    }

    /// The file name.
    #[must_use]
    pub fn file_name(&self) -> &str {
        match self {
            Location::Wheel(path) => path.rsplit_once('/').map_or(path.as_str(), |(_, f)| f),
            Location::Host(path) => path
                .file_name()
                .and_then(|f| f.to_str())
                .unwrap_or_default(),
        }
    }

    /// Whether the file is part of the wheel.
    #[must_use]
    pub fn is_internal(&self) -> bool {
        matches!(self, Location::Wheel(_))
    }

    fn join(&self, name: &str) -> Option<Location> {
        match self {
            Location::Wheel(dir) => {
                let joined = if dir.is_empty() {
                    name.to_owned()
                } else {
                    format!("{dir}/{name}")
                };
                normalize_wheel_path(&joined).map(Location::Wheel)
            }
            Location::Host(dir) => Some(Location::Host(normalize_host_path(&dir.join(name)))),
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Wheel(path) => write!(f, "{path}"),
            Location::Host(path) => write!(f, "{}", path.display()),
        }
    }
}

/// How a library was found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FoundVia {
    /// A `DT_RPATH` entry of `owner` (the requesting object or one above it).
    Rpath {
        /// The object whose RPATH matched.
        owner: String,
        /// The unexpanded entry.
        entry: String,
    },
    /// A `DT_RUNPATH` entry of `owner`.
    Runpath {
        /// The object whose RUNPATH matched.
        owner: String,
        /// The unexpanded entry.
        entry: String,
    },
    /// `LD_LIBRARY_PATH` or `AUDITWHEEL_LD_LIBRARY_PATH`.
    LdLibraryPath,
    /// A directory from `/etc/ld.so.conf` (or musl's `/etc/ld-musl-*.path`).
    LdSoConf,
    /// A default system directory.
    DefaultDir,
    /// The directory of the program interpreter.
    Interpreter,
}

/// One resolved (or unresolved) dependency in a tree.
#[derive(Debug, Clone)]
pub struct Library {
    /// The `DT_NEEDED` name.
    pub soname: String,
    /// The search-path candidate that matched (before following links).
    pub path: Option<Location>,
    /// The file it is (links followed).
    pub realpath: Option<Location>,
    /// Which search step found it.
    pub found_via: Option<FoundVia>,
    /// The library's own ELF facts.
    pub info: Option<Arc<ElfInfo>>,
    /// Its `DT_NEEDED` names that were not excluded.
    pub needed: Vec<String>,
    /// The directories searched, when it was not found.
    pub searched: Vec<String>,
}

/// The dependency tree of one ELF file in the wheel.
#[derive(Debug, Clone)]
pub struct ElfTree {
    /// The file.
    pub location: Location,
    /// Its ELF facts.
    pub info: Arc<ElfInfo>,
    /// The libc detected from the file (interpreter, `DT_NEEDED`, file name).
    pub libc: Option<Libc>,
    /// Its `DT_NEEDED` names that were not excluded.
    pub needed: Vec<String>,
    /// Every library reached from it, by `DT_NEEDED` name: the first resolution of a name wins.
    pub libraries: BTreeMap<String, Library>,
}

impl ElfTree {
    /// Whether every library in the tree was located.
    #[must_use]
    pub fn fully_resolved(&self) -> bool {
        self.libraries.values().all(|l| l.realpath.is_some())
    }
}

/// The ELF files of the wheel being audited, by path inside the wheel.
#[derive(Debug, Default)]
pub struct WheelFiles {
    /// Every regular file in the wheel (ELF or not).
    pub files: std::collections::HashSet<String>,
    /// The ELF files among them, analysed.
    pub elfs: HashMap<String, Arc<ElfInfo>>,
}

/// The environment libraries are searched in.
#[derive(Debug, Clone)]
pub struct SearchEnv {
    /// The filesystem root (`/` or a sysroot).
    pub root: PathBuf,
    /// Loader model.
    pub mode: ResolverMode,
    /// `AUDITWHEEL_LD_LIBRARY_PATH` then `LD_LIBRARY_PATH` (the latter only when root is `/`).
    pub library_path: Vec<String>,
    /// Replaces the configured directories when set (`--ldpaths`).
    pub ldpaths: Option<Vec<String>>,
}

impl SearchEnv {
    /// Reads the search environment from the process environment.
    #[must_use]
    pub fn from_env(root: Option<&Path>, mode: ResolverMode, ldpaths: Option<&str>) -> Self {
        let root = root.map_or_else(|| PathBuf::from("/"), Path::to_path_buf);
        let is_host_root = root == Path::new("/");
        let mut library_path = Vec::new();
        for (var, allowed) in [
            ("AUDITWHEEL_LD_LIBRARY_PATH", true),
            ("LD_LIBRARY_PATH", is_host_root),
        ] {
            if let Some(value) = std::env::var_os(var) {
                if !allowed {
                    warn!("ignoring {var} because --root is set");
                    continue;
                }
                let value = value.to_string_lossy().into_owned();
                library_path.extend(value.split(':').map(str::to_owned));
            }
        }
        SearchEnv {
            root,
            mode,
            library_path,
            ldpaths: ldpaths.map(|p| p.split(':').map(str::to_owned).collect()),
        }
    }
}

#[derive(Debug, Clone)]
struct SearchDir {
    dir: Location,
    via: FoundVia,
}

/// Resolves dependencies against a wheel and a filesystem root, caching file look-ups.
pub struct Resolver<'a> {
    env: &'a SearchEnv,
    wheel: &'a WheelFiles,
    conf_dirs: HashMap<Libc, Vec<Location>>,
    host_cache: HashMap<PathBuf, Option<(PathBuf, Arc<ElfInfo>)>>,
}

/// `libpython3.11.so.1.0` and the like: recorded, never followed.
#[must_use]
pub fn is_libpython(name: &str) -> bool {
    // ^libpython\d+\.\d+m?.so(\.\d)*$
    let Some(rest) = name.strip_prefix("libpython") else {
        return false;
    };
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let n = digits(rest);
    if n == 0 || rest.as_bytes().get(n) != Some(&b'.') {
        return false;
    }
    let rest = &rest[n + 1..];
    let m = digits(rest);
    if m == 0 {
        return false;
    }
    let mut rest = &rest[m..];
    rest = rest.strip_prefix('m').unwrap_or(rest);
    // `.so` where the dot is any character in the regex.
    if rest.len() < 3 || &rest.as_bytes()[1..3] != b"so" {
        return false;
    }
    let mut rest = &rest[3..];
    while !rest.is_empty() {
        let Some(after) = rest.strip_prefix('.') else {
            return false;
        };
        let Some(c) = after.bytes().next() else {
            return false;
        };
        if !c.is_ascii_digit() {
            return false;
        }
        rest = &after[1..];
    }
    true
}

fn normalize_wheel_path(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

fn normalize_host_path(path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(part) => out.push(part),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

impl<'a> Resolver<'a> {
    /// A resolver over `wheel` and the root in `env`.
    #[must_use]
    pub fn new(env: &'a SearchEnv, wheel: &'a WheelFiles) -> Self {
        Resolver {
            env,
            wheel,
            conf_dirs: HashMap::new(),
            host_cache: HashMap::new(),
        }
    }

    /// The filesystem root.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.env.root
    }
}

/// The libc implied by an extension's file name, as a last resort.
fn libc_from_file_name(name: &str) -> Option<Libc> {
    if name.ends_with("-arm-linux-musleabihf.so") || name.ends_with("-linux-musl.so") {
        return Some(Libc::Musl);
    }
    if name.ends_with("-arm-linux-gnueabihf.so") || name.ends_with("-linux-gnu.so") {
        // Before Python 3.11 musl builds also used the gnu suffix.
        let stem = name.strip_suffix(".so").unwrap_or(name);
        let soabi = stem.rsplit('.').next().unwrap_or_default();
        let mut parts = soabi.split('-');
        if parts.next() == Some("cpython") {
            if let Some(version) = parts.next() {
                if let Some(minor) = version.strip_prefix('3') {
                    let digits: String = minor.chars().take_while(char::is_ascii_digit).collect();
                    if digits.len() == 2 && digits.parse::<u32>().is_ok_and(|m| m >= 11) {
                        return Some(Libc::Glibc);
                    }
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests;
