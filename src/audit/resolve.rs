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

use tracing::{debug, warn};

use crate::elf::{self, ElfInfo, ElfPlatform};
use crate::platform::Libc;

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

    fn host_path(&self, inside: &Path) -> PathBuf {
        let relative = inside.strip_prefix("/").unwrap_or(inside);
        self.env.root.join(relative)
    }

    /// Follows symbolic links of an absolute path inside the root; `None` if it does not exist.
    fn realpath_in_root(&self, inside: &Path) -> Option<PathBuf> {
        let mut resolved = PathBuf::from("/");
        let mut pending: Vec<std::ffi::OsString> = inside
            .components()
            .filter_map(|c| match c {
                Component::Normal(p) => Some(p.to_os_string()),
                Component::ParentDir => Some("..".into()),
                _ => None,
            })
            .rev()
            .collect();
        let mut hops = 0;
        while let Some(part) = pending.pop() {
            if part == ".." {
                resolved.pop();
                continue;
            }
            let candidate = resolved.join(&part);
            let on_disk = self.host_path(&candidate);
            match std::fs::symlink_metadata(&on_disk) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    hops += 1;
                    if hops > 40 {
                        return None;
                    }
                    let target = std::fs::read_link(&on_disk).ok()?;
                    if target.is_absolute() {
                        resolved = PathBuf::from("/");
                    }
                    for c in target.components().rev() {
                        match c {
                            Component::Normal(p) => pending.push(p.to_os_string()),
                            Component::ParentDir => pending.push("..".into()),
                            _ => {}
                        }
                    }
                }
                Ok(_) => resolved = candidate,
                Err(_) => return None,
            }
        }
        Some(resolved)
    }

    fn is_dir(&self, dir: &Location) -> bool {
        match dir {
            Location::Wheel(_) => true,
            Location::Host(path) => self.host_path(path).is_dir(),
        }
    }

    /// Reads and analyses a host file (cached by its path inside the root).
    fn host_elf(&mut self, inside: &Path) -> Option<(PathBuf, Arc<ElfInfo>)> {
        if let Some(hit) = self.host_cache.get(inside) {
            return hit.clone();
        }
        let result = self.realpath_in_root(inside).and_then(|real| {
            let on_disk = self.host_path(&real);
            if !on_disk.is_file() {
                return None;
            }
            let data = match std::fs::read(&on_disk) {
                Ok(data) => data,
                Err(err) => {
                    debug!("cannot read {}: {err}", on_disk.display());
                    return None;
                }
            };
            match elf::analyze(&data) {
                Ok(info) => Some((real, Arc::new(info))),
                Err(err) => {
                    debug!("skipping {}: {err}", on_disk.display());
                    None
                }
            }
        });
        self.host_cache.insert(inside.to_path_buf(), result.clone());
        result
    }

    /// Looks for `name` in `dir`; accepts only a compatible ELF file.
    fn probe(
        &mut self,
        dir: &Location,
        name: &str,
        platform: &ElfPlatform,
    ) -> Option<(Location, Location, Arc<ElfInfo>)> {
        let candidate = dir.join(name)?;
        match &candidate {
            Location::Wheel(path) => {
                let info = self.wheel.elfs.get(path)?;
                platform
                    .is_compatible(&info.platform)
                    .then(|| (candidate.clone(), candidate.clone(), Arc::clone(info)))
            }
            Location::Host(path) => {
                let (real, info) = self.host_elf(path)?;
                platform
                    .is_compatible(&info.platform)
                    .then(|| (candidate.clone(), Location::Host(real), info))
            }
        }
    }

    /// Expands one RPATH/RUNPATH string of the object at `owner`.
    fn expand_path_list(
        &self,
        list: &str,
        owner: &Location,
        owner_real: &Location,
    ) -> Vec<(Location, String)> {
        let mut out: Vec<(Location, String)> = Vec::new();
        for entry in list.split(':') {
            let origin = match self.env.mode {
                ResolverMode::Ldso => owner.parent(),
                ResolverMode::Auditwheel => owner_real.parent(),
            };
            let dir = if entry.is_empty() {
                match self.env.mode {
                    // The current directory of the auditing process: the extracted wheel.
                    ResolverMode::Auditwheel => Some(Location::Wheel(String::new())),
                    // Depends on the importing process; cannot be known.
                    ResolverMode::Ldso => None,
                }
            } else if entry.contains("$ORIGIN") || entry.contains("${ORIGIN}") {
                let rest = entry
                    .replace("${ORIGIN}", "\u{0}")
                    .replace("$ORIGIN", "\u{0}");
                // Only a leading $ORIGIN is meaningful; elsewhere it is expanded textually.
                match rest.split_once('\u{0}') {
                    Some(("", tail)) if !tail.contains('\u{0}') => {
                        origin.join(tail.trim_start_matches('/'))
                    }
                    _ => match &origin {
                        Location::Host(dir) => {
                            let text = rest.replace('\u{0}', &dir.to_string_lossy());
                            Some(Location::Host(normalize_host_path(Path::new(&text))))
                        }
                        Location::Wheel(_) => None,
                    },
                }
            } else if entry.starts_with('/') {
                Some(Location::Host(normalize_host_path(Path::new(entry))))
            } else {
                match self.env.mode {
                    ResolverMode::Auditwheel => Some(Location::Host(normalize_host_path(
                        &Path::new("/").join(entry),
                    ))),
                    ResolverMode::Ldso => None,
                }
            };
            if let Some(dir) = dir {
                if !out.iter().any(|(d, _)| d == &dir) && self.is_dir(&dir) {
                    out.push((dir, entry.to_owned()));
                }
            }
        }
        out
    }

    fn path_list_dirs(&self, entries: &[String]) -> Vec<Location> {
        let mut out = Vec::new();
        for entry in entries {
            let dir = if entry.is_empty() {
                match self.env.mode {
                    ResolverMode::Auditwheel => Location::Wheel(String::new()),
                    ResolverMode::Ldso => continue,
                }
            } else if entry.starts_with('/') {
                Location::Host(normalize_host_path(Path::new(entry)))
            } else {
                continue;
            };
            if !out.contains(&dir) && self.is_dir(&dir) {
                out.push(dir);
            }
        }
        out
    }

    /// The configured directories: `ld.so.conf` (+ defaults) for glibc, the musl path file for musl.
    fn conf_dirs(&mut self, libc: Libc) -> Vec<Location> {
        if let Some(dirs) = self.conf_dirs.get(&libc) {
            return dirs.clone();
        }
        let dirs = if let Some(ldpaths) = &self.env.ldpaths {
            self.path_list_dirs(ldpaths)
        } else {
            match libc {
                Libc::Glibc => {
                    let mut dirs = Vec::new();
                    let mut seen = std::collections::HashSet::new();
                    self.parse_ld_so_conf(Path::new("/etc/ld.so.conf"), &mut dirs, &mut seen, 0);
                    let mut out: Vec<Location> = Vec::new();
                    for dir in dirs {
                        let loc = Location::Host(dir);
                        if !out.contains(&loc) && self.is_dir(&loc) {
                            out.push(loc);
                        }
                    }
                    out
                }
                Libc::Musl => {
                    let etc = self.host_path(Path::new("/etc"));
                    let mut files: Vec<PathBuf> = std::fs::read_dir(&etc)
                        .into_iter()
                        .flatten()
                        .flatten()
                        .map(|e| e.path())
                        .filter(|p| {
                            p.file_name()
                                .and_then(|f| f.to_str())
                                .is_some_and(|f| f.starts_with("ld-musl-") && f.ends_with(".path"))
                        })
                        .collect();
                    files.sort();
                    match files.first().and_then(|f| std::fs::read_to_string(f).ok()) {
                        Some(text) => text
                            .split([':', '\n'])
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(|s| Location::Host(normalize_host_path(Path::new(s))))
                            .collect(),
                        None => ["/lib", "/usr/local/lib", "/usr/lib"]
                            .into_iter()
                            .map(|s| Location::Host(PathBuf::from(s)))
                            .collect(),
                    }
                }
            }
        };
        self.conf_dirs.insert(libc, dirs.clone());
        dirs
    }

    fn parse_ld_so_conf(
        &self,
        file: &Path,
        out: &mut Vec<PathBuf>,
        seen: &mut std::collections::HashSet<PathBuf>,
        depth: usize,
    ) {
        if depth > 16 || !seen.insert(file.to_path_buf()) {
            return;
        }
        let Ok(text) = std::fs::read_to_string(self.host_path(file)) else {
            return;
        };
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            if let Some(pattern) = line.strip_prefix("include") {
                if !pattern.starts_with(char::is_whitespace) {
                    out.push(normalize_host_path(Path::new("/").join(line).as_path()));
                    continue;
                }
                for pattern in pattern.split_whitespace() {
                    let inside = if pattern.starts_with('/') {
                        PathBuf::from(pattern)
                    } else {
                        file.parent().unwrap_or(Path::new("/")).join(pattern)
                    };
                    let on_disk = self.host_path(&inside);
                    let Ok(paths) = glob::glob(&on_disk.to_string_lossy()) else {
                        continue;
                    };
                    let mut matches: Vec<PathBuf> = paths.flatten().collect();
                    matches.sort();
                    for matched in matches {
                        let inside = match matched.strip_prefix(&self.env.root) {
                            Ok(rel) => Path::new("/").join(rel),
                            Err(_) => matched,
                        };
                        self.parse_ld_so_conf(&inside, out, seen, depth + 1);
                    }
                }
            } else if line.starts_with("hwcap ") {
                continue;
            } else {
                out.push(normalize_host_path(&Path::new("/").join(line)));
            }
        }
    }

    fn default_dirs(libc: Libc) -> Vec<Location> {
        match libc {
            Libc::Glibc => ["/lib", "/lib64", "/usr/lib", "/usr/lib64"]
                .into_iter()
                .map(|s| Location::Host(PathBuf::from(s)))
                .collect(),
            Libc::Musl => Vec::new(),
        }
    }

    /// Builds the dependency tree of the wheel file at `path`.
    pub fn tree(&mut self, path: &str, info: &Arc<ElfInfo>, exclude: &[glob::Pattern]) -> ElfTree {
        self.tree_at(Location::Wheel(path.to_owned()), info, exclude)
    }

    /// Builds the dependency tree of the ELF file at `location` (in the wheel or the root).
    pub fn tree_at(
        &mut self,
        location: Location,
        info: &Arc<ElfInfo>,
        exclude: &[glob::Pattern],
    ) -> ElfTree {
        let mut libraries: BTreeMap<String, Library> = BTreeMap::new();

        // The interpreter and the libc, from the root file.
        let mut libc = None;
        let mut interp_dirs = Vec::new();
        if let Some(interp) = &info.interpreter {
            let interp_path = normalize_host_path(Path::new(interp));
            let name = interp_path
                .file_name()
                .and_then(|f| f.to_str())
                .unwrap_or_default()
                .to_owned();
            let real = self.realpath_in_root(&interp_path).map(Location::Host);
            libraries.insert(
                name.clone(),
                Library {
                    soname: name.clone(),
                    path: Some(Location::Host(interp_path.clone())),
                    realpath: real,
                    found_via: Some(FoundVia::Interpreter),
                    info: None,
                    needed: Vec::new(),
                    searched: Vec::new(),
                },
            );
            libc = Some(if name.starts_with("ld-musl-") {
                Libc::Musl
            } else {
                Libc::Glibc
            });
            let dir = interp_path
                .parent()
                .map_or_else(|| PathBuf::from("/"), Path::to_path_buf);
            interp_dirs.push(Location::Host(dir.clone()));
            interp_dirs.push(Location::Host(normalize_host_path(
                &Path::new("/usr").join(dir.strip_prefix("/").unwrap_or(&dir)),
            )));
        }
        for soname in &info.needed {
            if soname.starts_with("libc.musl-") || soname.starts_with("ld-musl-") {
                libc.get_or_insert(Libc::Musl);
            } else if soname == "libc.so.6"
                || soname.starts_with("ld-linux-")
                || soname.starts_with("ld64.so.")
            {
                libc.get_or_insert(Libc::Glibc);
            }
        }
        if libc.is_none() {
            libc = libc_from_file_name(location.file_name());
        }

        let search_libc = libc.unwrap_or(Libc::Glibc);
        let mut common = Vec::new();
        for dir in self.conf_dirs(search_libc) {
            common.push(SearchDir {
                dir,
                via: FoundVia::LdSoConf,
            });
        }
        if self.env.ldpaths.is_none() {
            for dir in Self::default_dirs(search_libc) {
                common.push(SearchDir {
                    dir,
                    via: FoundVia::DefaultDir,
                });
            }
        }
        for dir in interp_dirs {
            common.push(SearchDir {
                dir,
                via: FoundVia::Interpreter,
            });
        }
        let env_dirs: Vec<SearchDir> = self
            .path_list_dirs(&self.env.library_path.clone())
            .into_iter()
            .map(|dir| SearchDir {
                dir,
                via: FoundVia::LdLibraryPath,
            })
            .collect();

        let root_paths = self.object_paths(&location, &location, info);
        let ctx = TreeContext {
            exclude,
            common,
            env_dirs,
            root_rpath: root_paths.0,
            root_runpath: root_paths.1,
        };
        let chain = vec![ChainLink {
            location: location.clone(),
            info: Arc::clone(info),
        }];
        let needed = self.walk(&ctx, &chain, &location, info, &mut libraries);
        ElfTree {
            location,
            info: Arc::clone(info),
            libc,
            needed,
            libraries,
        }
    }

    /// The expanded RPATH and RUNPATH of one object (RPATH dropped when RUNPATH is present).
    fn object_paths(
        &self,
        location: &Location,
        real: &Location,
        info: &ElfInfo,
    ) -> (Vec<SearchDir>, Vec<SearchDir>) {
        let owner = location.to_string();
        let runpath: Vec<SearchDir> = info
            .runpath
            .as_deref()
            .map(|list| self.expand_path_list(list, location, real))
            .unwrap_or_default()
            .into_iter()
            .map(|(dir, entry)| SearchDir {
                dir,
                via: FoundVia::Runpath {
                    owner: owner.clone(),
                    entry,
                },
            })
            .collect();
        let rpath = if info.runpath.is_some() {
            Vec::new()
        } else {
            info.rpath
                .as_deref()
                .map(|list| self.expand_path_list(list, location, real))
                .unwrap_or_default()
                .into_iter()
                .map(|(dir, entry)| SearchDir {
                    dir,
                    via: FoundVia::Rpath {
                        owner: owner.clone(),
                        entry,
                    },
                })
                .collect()
        };
        (rpath, runpath)
    }

    fn walk(
        &mut self,
        ctx: &TreeContext<'_>,
        chain: &[ChainLink],
        location: &Location,
        info: &Arc<ElfInfo>,
        libraries: &mut BTreeMap<String, Library>,
    ) -> Vec<String> {
        let real = location.clone();
        let (own_rpath, own_runpath) = self.object_paths(location, &real, info);
        let mut search: Vec<SearchDir> = Vec::new();
        match self.env.mode {
            ResolverMode::Auditwheel => {
                search.extend(ctx.root_rpath.iter().cloned());
                search.extend(own_rpath);
                search.extend(own_runpath);
                search.extend(ctx.env_dirs.iter().cloned());
                search.extend(ctx.root_runpath.iter().cloned());
                search.extend(ctx.common.iter().cloned());
            }
            ResolverMode::Ldso => {
                if info.runpath.is_none() {
                    // RPATH of this object, then of every object that loaded it.
                    search.extend(own_rpath);
                    for link in chain.iter().rev().skip(1) {
                        let (rpath, _) =
                            self.object_paths(&link.location, &link.location, &link.info);
                        search.extend(rpath);
                    }
                }
                search.extend(ctx.env_dirs.iter().cloned());
                search.extend(own_runpath);
                search.extend(ctx.common.iter().cloned());
            }
        }

        let mut kept = Vec::new();
        for soname in &info.needed {
            if libraries.contains_key(soname) {
                kept.push(soname.clone());
                continue;
            }
            if ctx.exclude.iter().any(|p| p.matches(soname)) {
                debug!("excluding {soname}");
                continue;
            }
            if is_libpython(soname) {
                libraries.insert(
                    soname.clone(),
                    Library {
                        soname: soname.clone(),
                        path: None,
                        realpath: None,
                        found_via: None,
                        info: None,
                        needed: Vec::new(),
                        searched: Vec::new(),
                    },
                );
                kept.push(soname.clone());
                continue;
            }
            let mut found = None;
            if soname.contains('/') {
                // A name with a slash is a path: no search (ld.so); auditwheel joins it onto
                // every directory, which for an absolute name is the same file.
                if soname.starts_with('/') {
                    let path = normalize_host_path(Path::new(soname));
                    let dir = Location::Host(
                        path.parent()
                            .map_or_else(|| PathBuf::from("/"), Path::to_path_buf),
                    );
                    let name = path
                        .file_name()
                        .and_then(|f| f.to_str())
                        .unwrap_or_default()
                        .to_owned();
                    if let Some(hit) = self.probe(&dir, &name, &info.platform) {
                        found = Some((hit, FoundVia::DefaultDir));
                    }
                }
            }
            for dir in search.iter().filter(|_| !soname.contains('/')) {
                if let Some(hit) = self.probe(&dir.dir, soname, &info.platform) {
                    found = Some((hit, dir.via.clone()));
                    break;
                }
            }
            let Some(((path, realpath, dep_info), via)) = found else {
                let mut searched: Vec<String> = Vec::new();
                for dir in &search {
                    let text = match &dir.dir {
                        Location::Wheel(d) => format!("<wheel>/{d}"),
                        Location::Host(d) => d.display().to_string(),
                    };
                    if !searched.contains(&text) {
                        searched.push(text);
                    }
                }
                libraries.insert(
                    soname.clone(),
                    Library {
                        soname: soname.clone(),
                        path: None,
                        realpath: None,
                        found_via: None,
                        info: None,
                        needed: Vec::new(),
                        searched,
                    },
                );
                kept.push(soname.clone());
                continue;
            };
            if ctx.exclude.iter().any(|p| p.matches(&realpath.to_string())) {
                debug!("excluding {realpath}");
                continue;
            }
            libraries.insert(
                soname.clone(),
                Library {
                    soname: soname.clone(),
                    path: Some(path.clone()),
                    realpath: Some(realpath.clone()),
                    found_via: Some(via.clone()),
                    info: Some(Arc::clone(&dep_info)),
                    needed: Vec::new(),
                    searched: Vec::new(),
                },
            );
            kept.push(soname.clone());
            let mut next_chain = chain.to_vec();
            let child_location = match self.env.mode {
                ResolverMode::Ldso => path.clone(),
                ResolverMode::Auditwheel => realpath.clone(),
            };
            next_chain.push(ChainLink {
                location: child_location.clone(),
                info: Arc::clone(&dep_info),
            });
            let child_needed = self.walk(ctx, &next_chain, &child_location, &dep_info, libraries);
            if let Some(lib) = libraries.get_mut(soname) {
                lib.needed = child_needed;
            }
        }
        kept
    }
}

#[derive(Debug, Clone)]
struct ChainLink {
    location: Location,
    info: Arc<ElfInfo>,
}

struct TreeContext<'p> {
    exclude: &'p [glob::Pattern],
    common: Vec<SearchDir>,
    env_dirs: Vec<SearchDir>,
    root_rpath: Vec<SearchDir>,
    root_runpath: Vec<SearchDir>,
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
mod tests {
    use super::*;

    #[test]
    fn libpython_names() {
        assert!(is_libpython("libpython3.11.so.1.0"));
        assert!(is_libpython("libpython2.7m.so.1"));
        assert!(is_libpython("libpython3.12.so"));
        assert!(!is_libpython("libpython3.so"));
        assert!(!is_libpython("libpython3.11.so.1a"));
        assert!(!is_libpython("libpythonX.so"));
    }

    #[test]
    fn wheel_paths_normalize_and_cannot_escape() {
        let dir = Location::Wheel("pkg/sub".into());
        assert_eq!(
            dir.join("../pkg.libs"),
            Some(Location::Wheel("pkg/pkg.libs".into()))
        );
        assert_eq!(Location::Wheel("pkg".into()).join("../../x"), None);
        assert_eq!(
            Location::Wheel(String::new()).join("a.so"),
            Some(Location::Wheel("a.so".into()))
        );
    }

    #[test]
    fn libc_from_extension_suffix() {
        assert_eq!(
            libc_from_file_name("_core.cpython-311-x86_64-linux-gnu.so"),
            Some(Libc::Glibc)
        );
        assert_eq!(
            libc_from_file_name("_core.cpython-310-x86_64-linux-gnu.so"),
            None
        );
        assert_eq!(
            libc_from_file_name("_core.cpython-312-x86_64-linux-musl.so"),
            Some(Libc::Musl)
        );
        assert_eq!(libc_from_file_name("_core.abi3.so"), None);
    }
}

/// Resolution over the committed fixture roots, checked against `tests/fixtures/elf/EXPECTED.md`:
/// what the real glibc loader and auditwheel 6.8.2's `lddtree` resolve for every ELF file of both
/// roots. The real suite (`tests/real/resolver.rs`) generates that file from the oracles and
/// compares this resolver with them live on every run.
#[cfg(test)]
mod fixture_tests {
    use super::*;

    const EXPECTED_MD: &str = "tests/fixtures/elf/EXPECTED.md";

    fn root(bits: u32) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/elf/root{bits}"))
    }

    /// One oracle's answer for one name.
    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Answer {
        /// Found: (path, realpath); the loader prints only the path, used for both.
        Found(String, String),
        NotFound,
        /// The name is not in this oracle's tree.
        NotReached,
        /// The oracle failed on the whole object.
        Error,
    }

    impl Answer {
        fn parse(cell: &str) -> Self {
            match cell.trim() {
                "not found" => Answer::NotFound,
                "(not reached)" => Answer::NotReached,
                error if error.starts_with("error: ") => Answer::Error,
                found => {
                    let mut parts = found.split(" → ").map(|p| p.trim_matches('`').to_owned());
                    let path = parts.next().unwrap_or_default();
                    let realpath = parts.next().unwrap_or_else(|| path.clone());
                    Answer::Found(path, realpath)
                }
            }
        }
    }

    /// One table row: `object` in root `bits` needs `needed` (`None`: no dependencies).
    #[derive(Debug, Clone)]
    struct Row {
        bits: u32,
        object: String,
        needed: Option<String>,
        loader: Answer,
        auditwheel: Answer,
    }

    /// The rows of EXPECTED.md: (without LD_LIBRARY_PATH, with it).
    fn expected() -> (Vec<Row>, Vec<Row>) {
        let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(EXPECTED_MD))
            .expect("EXPECTED.md");
        let (mut plain, mut with_ldlp) = (Vec::new(), Vec::new());
        let mut section = None;
        for line in text.lines() {
            if line.starts_with("## ") {
                section = match line {
                    "## Without LD_LIBRARY_PATH" => Some(false),
                    "## With LD_LIBRARY_PATH=/ldlp" => Some(true),
                    _ => None,
                };
            }
            let Some(ldlp) = section else { continue };
            let Some(line) = line.strip_prefix("| ").and_then(|l| l.strip_suffix(" |")) else {
                continue;
            };
            let cells: Vec<&str> = line.split(" | ").collect();
            if cells.len() != 6 || !cells[0].starts_with(|c: char| c.is_ascii_digit()) {
                continue;
            }
            let needed = cells[2].trim_matches('`');
            for bits in cells[0].split(", ") {
                let row = Row {
                    bits: bits.parse().expect("root"),
                    object: cells[1].trim_matches('`').to_owned(),
                    needed: (needed != "(none)").then(|| needed.to_owned()),
                    loader: Answer::parse(cells[3]),
                    auditwheel: Answer::parse(cells[4]),
                };
                if ldlp {
                    with_ldlp.push(row);
                } else {
                    plain.push(row);
                }
            }
        }
        (plain, with_ldlp)
    }

    /// `{name: answer}` of wheelwright's tree of `object`.
    fn resolve(
        bits: u32,
        mode: ResolverMode,
        library_path: &[&str],
        object: &str,
    ) -> BTreeMap<String, Answer> {
        let env = SearchEnv {
            root: root(bits),
            mode,
            library_path: library_path.iter().map(|s| (*s).to_owned()).collect(),
            ldpaths: None,
        };
        let wheel = WheelFiles::default();
        let mut resolver = Resolver::new(&env, &wheel);
        let data = std::fs::read(root(bits).join(object.trim_start_matches('/'))).expect("fixture");
        let info = Arc::new(elf::analyze(&data).expect("elf"));
        let tree = resolver.tree_at(Location::Host(PathBuf::from(object)), &info, &[]);
        tree.libraries
            .into_iter()
            .map(|(name, lib)| {
                let answer = match (lib.path, lib.realpath) {
                    (Some(path), Some(realpath)) => {
                        Answer::Found(path.to_string(), realpath.to_string())
                    }
                    _ => Answer::NotFound,
                };
                (name, answer)
            })
            .collect()
    }

    /// What `rows` expect of one mode: the loader's paths for ldso; auditwheel's answers, or the
    /// loader's paths where auditwheel fails on the object (a `DT_NEEDED` path under a root).
    fn wanted(rows: &[&Row], mode: ResolverMode) -> BTreeMap<String, Answer> {
        let auditwheel_failed = rows.iter().any(|r| r.auditwheel == Answer::Error);
        rows.iter()
            .filter_map(|row| {
                let name = row.needed.clone()?;
                let answer = match mode {
                    ResolverMode::Auditwheel if !auditwheel_failed => row.auditwheel.clone(),
                    _ => row.loader.clone(),
                };
                (answer != Answer::NotReached).then_some((name, answer))
            })
            .collect()
    }

    /// Checks every object of `rows` in both modes; returns the number of names compared.
    fn check(rows: &[Row], library_path: &[&str]) -> usize {
        let mut objects: BTreeMap<(u32, &str), Vec<&Row>> = BTreeMap::new();
        for row in rows {
            objects
                .entry((row.bits, &row.object))
                .or_default()
                .push(row);
        }
        let mut compared = 0;
        for ((bits, object), rows) in objects {
            let auditwheel_failed = rows.iter().any(|r| r.auditwheel == Answer::Error);
            for mode in [ResolverMode::Ldso, ResolverMode::Auditwheel] {
                let mut ours = resolve(bits, mode, library_path, object);
                let want = wanted(&rows, mode);
                if mode == ResolverMode::Ldso || auditwheel_failed {
                    // The loader prints only the path.
                    for answer in ours.values_mut() {
                        if let Answer::Found(path, realpath) = answer {
                            realpath.clone_from(path);
                        }
                    }
                }
                assert_eq!(
                    ours, want,
                    "root{bits} {object} {library_path:?} --resolver {mode:?}"
                );
                compared += want.len();
            }
        }
        compared
    }

    #[test]
    fn every_fixture_object_resolves_as_the_loader_and_auditwheel_do() {
        let (plain, with_ldlp) = expected();
        // Every ELF file of each root's class has rows, so no fixture goes unchecked.
        for bits in [64, 32] {
            let mut files = Vec::new();
            let mut pending = vec![root(bits)];
            while let Some(dir) = pending.pop() {
                for entry in std::fs::read_dir(&dir).expect("read_dir").flatten() {
                    let path = entry.path();
                    let meta = std::fs::symlink_metadata(&path).expect("metadata");
                    if meta.is_dir() {
                        pending.push(path);
                    } else if meta.is_file() {
                        let data = std::fs::read(&path).expect("read");
                        if elf::analyze(&data).is_ok_and(|i| i.platform.is_64 == (bits == 64)) {
                            files.push(format!(
                                "/{}",
                                path.strip_prefix(root(bits)).expect("in root").display()
                            ));
                        }
                    }
                }
            }
            assert!(files.len() >= 20, "root{bits}: {} objects", files.len());
            for file in &files {
                assert!(
                    plain.iter().any(|r| r.bits == bits && &r.object == file),
                    "{EXPECTED_MD} has no row for root{bits} {file}: regenerate it (tests/real/resolver.rs)"
                );
            }
        }
        let compared = check(&plain, &[]);
        assert!(compared >= 100, "only {compared} names compared");
        // With LD_LIBRARY_PATH the file lists only the objects whose answers change.
        let compared = check(&with_ldlp, &["/ldlp"]);
        assert!(
            compared >= 8,
            "only {compared} names compared with LD_LIBRARY_PATH"
        );
    }
}
