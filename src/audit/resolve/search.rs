//! Where the resolver looks: paths inside the root (symbolic links followed inside it), the
//! ELF files it accepts there, `LD_LIBRARY_PATH`-style lists with `$ORIGIN`, `ld.so.conf` and
//! the default directories.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use tracing::debug;

use crate::elf::{self, ElfInfo, ElfPlatform};
use crate::platform::Libc;

use super::{Location, Resolver, ResolverMode, normalize_host_path};

impl Resolver<'_> {
    fn host_path(&self, inside: &Path) -> PathBuf {
        let relative = inside.strip_prefix("/").unwrap_or(inside);
        self.env.root.join(relative)
    }

    /// Follows symbolic links of an absolute path inside the root; `None` if it does not exist.
    pub(super) fn realpath_in_root(&self, inside: &Path) -> Option<PathBuf> {
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

    pub(super) fn is_dir(&self, dir: &Location) -> bool {
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
    pub(super) fn probe(
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
    pub(super) fn expand_path_list(
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

    pub(super) fn path_list_dirs(&self, entries: &[String]) -> Vec<Location> {
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
    pub(super) fn conf_dirs(&mut self, libc: Libc) -> Vec<Location> {
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

    pub(super) fn default_dirs(libc: Libc) -> Vec<Location> {
        match libc {
            Libc::Glibc => ["/lib", "/lib64", "/usr/lib", "/usr/lib64"]
                .into_iter()
                .map(|s| Location::Host(PathBuf::from(s)))
                .collect(),
            Libc::Musl => Vec::new(),
        }
    }
}
