//! The dependency tree: walking `DT_NEEDED` from an ELF file through the loading chain, each
//! name resolved in the search order of the resolver's mode.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tracing::debug;

use crate::elf::ElfInfo;
use crate::platform::Libc;

use super::{
    ElfTree, FoundVia, Library, Location, Resolver, ResolverMode, SearchDir, is_libpython,
    libc_from_file_name, normalize_host_path,
};

impl Library {
    /// A library that was not found (or, libpython, not looked for), with the directories
    /// searched.
    fn unresolved(soname: &str, searched: Vec<String>) -> Self {
        Library {
            soname: soname.to_owned(),
            path: None,
            realpath: None,
            found_via: None,
            info: None,
            needed: Vec::new(),
            searched,
        }
    }
}

impl Resolver<'_> {
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
        // One list's directories, each found via `via(owner, entry)`.
        let dirs = |list: Option<&str>, via: fn(String, String) -> FoundVia| -> Vec<SearchDir> {
            list.map(|list| self.expand_path_list(list, location, real))
                .unwrap_or_default()
                .into_iter()
                .map(|(dir, entry)| SearchDir {
                    dir,
                    via: via(owner.clone(), entry),
                })
                .collect()
        };
        let runpath = dirs(info.runpath.as_deref(), |owner, entry| FoundVia::Runpath {
            owner,
            entry,
        });
        let rpath = if info.runpath.is_some() {
            Vec::new()
        } else {
            dirs(info.rpath.as_deref(), |owner, entry| FoundVia::Rpath {
                owner,
                entry,
            })
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
                libraries.insert(soname.clone(), Library::unresolved(soname, Vec::new()));
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
                libraries.insert(soname.clone(), Library::unresolved(soname, searched));
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
