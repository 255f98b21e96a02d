//! Repair planning: which libraries to graft, under which names, and what to change in every
//! ELF file, following auditwheel 6.8's `repair_wheel` rule by rule so that the results match.
//!
//! The plan is pure data computed from an [`Audit`]; applying it streams the archive and
//! patches ELF files. Host files are read only to hash the libraries to graft.

pub(crate) mod apply;
pub(crate) mod sbom;
pub(crate) mod wheel;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::Digest as _;

use crate::audit::policy::{PolicyId, PolicySet};
use crate::audit::resolve::{Location, is_libpython};
use crate::audit::{Audit, SymbolVersionUse};
use crate::platform::PlatformTag;
use crate::wheel::{WheelFilename, WheelInfo};

/// Why a wheel cannot be repaired to the requested tag.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RepairError {
    /// `--plat` names no known policy for the wheel's architecture and libc.
    #[error("unknown platform tag `{requested}` for {arch} ({libc}); known: {known}")]
    UnknownPlatform {
        /// The request.
        requested: String,
        /// The wheel's architecture.
        arch: String,
        /// The wheel's libc.
        libc: String,
        /// The known tags.
        known: String,
    },
    /// Symbol versions newer than the requested policy allows.
    #[error("cannot repair to `{requested}`: {}; the symbol versions allow `{best}` at best, so build in an older image (older glibc) to reach `{requested}`", describe_symbols(.uses))]
    TooNewSymbols {
        /// The requested tag.
        requested: String,
        /// The best tag the symbol versions allow.
        best: String,
        /// The offending versions and where they are used.
        uses: Vec<SymbolVersionUse>,
    },
    /// Blacklisted symbols.
    #[error("cannot repair to `{requested}`: it uses symbols that policy forbids: {symbols}")]
    Blacklisted {
        /// The requested tag.
        requested: String,
        /// `lib: symbol, …`.
        symbols: String,
    },
    /// An instruction-set level above baseline.
    #[error("cannot repair to `{requested}`: {files} need(s) instruction-set extensions")]
    UnsupportedIsa {
        /// The requested tag.
        requested: String,
        /// The files.
        files: String,
    },
    /// A narrow-unicode (UCS2) build.
    #[error(
        "cannot repair to `{requested}`: the extension was compiled against a UCS2 build of Python"
    )]
    Ucs2 {
        /// The requested tag.
        requested: String,
    },
    /// A library to graft was not found.
    #[error("cannot repair: `{soname}` (needed by `{needed_by}`) could not be located{}; make it findable (LD_LIBRARY_PATH, --root, --ldpaths) or leave it out with --exclude", search_hint(.searched))]
    LibraryNotFound {
        /// The missing library.
        soname: String,
        /// The wheel file that needs it.
        needed_by: String,
        /// Where it was searched, for the message.
        searched: Vec<String>,
    },
    /// Two different files would be grafted under one name (same file name, same short hash,
    /// different contents).
    #[error(
        "cannot repair: `{name}` would be grafted from both `{first}` and `{second}`, which differ; rename one of them"
    )]
    GraftCollision {
        /// The grafted name.
        name: String,
        /// First source.
        first: String,
        /// Second source.
        second: String,
    },
    /// Reading a library to graft failed.
    #[error("cannot read `{path}`")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

fn describe_symbols(uses: &[SymbolVersionUse]) -> String {
    let mut parts: Vec<String> = Vec::new();
    for usage in uses.iter().take(4) {
        let symbols = if usage.symbols.is_empty() {
            String::new()
        } else {
            let shown: Vec<&str> = usage.symbols.iter().take(3).map(String::as_str).collect();
            format!(" for `{}`", shown.join("`, `"))
        };
        parts.push(format!(
            "`{}` needs {} from {}{symbols}",
            usage.file, usage.version, usage.library
        ));
    }
    if uses.len() > 4 {
        parts.push(format!("and {} more", uses.len() - 4));
    }
    parts.join("; ")
}

fn search_hint(searched: &[String]) -> String {
    if searched.is_empty() {
        String::new()
    } else {
        format!(" (searched {})", searched.join(":"))
    }
}

/// What the user asked for.
#[derive(Debug, Clone, Default)]
pub(crate) struct RepairOptions {
    /// Write only the requested tag (and its aliases).
    pub only_plat: bool,
    /// Suffix of the libs directory. Ex) `.libs`
    pub lib_sdir: String,
    /// Keep the original tags and filename.
    pub no_update_tags: bool,
    /// `--strip`: remove symbol tables and debugging information from the grafted libraries
    /// and the wheel's ELF files.
    pub strip: bool,
}

/// One library copied into the wheel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Graft {
    /// The `DT_NEEDED` name it replaces. Ex) `libdemo.so.1`
    pub soname: String,
    /// The file it is copied from (inside the resolution root).
    pub source: Location,
    /// The sha256 of that file (lowercase hex), before any change.
    pub sha256: String,
    /// The new file name, also its new SONAME. Ex) `libdemo-d7957a7f.so.1.0`
    pub new_name: String,
    /// Its path inside the wheel. Ex) `democext.libs/libdemo-d7957a7f.so.1.0`
    pub path: String,
    /// `DT_NEEDED` replacements (other grafted libraries).
    pub replace_needed: Vec<(String, String)>,
    /// `$ORIGIN` when it needs another grafted library, else no RPATH at all.
    pub rpath: Option<String>,
}

/// The changes to one ELF file of the wheel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileEdit {
    /// Path inside the input wheel.
    pub path: String,
    /// Path inside the output wheel (differs for executables moved out of `.data/scripts`).
    pub new_path: String,
    /// `DT_NEEDED` old → new.
    pub replace_needed: Vec<(String, String)>,
    /// `DT_NEEDED` entries to drop (libpython).
    pub remove_needed: Vec<String>,
    /// The new `DT_RPATH`, if it changes.
    pub rpath: Option<String>,
    /// RPATH entries that pointed outside the wheel and were dropped.
    pub dropped_rpath: Vec<String>,
}

/// Everything a repair will do.
#[derive(Debug, Clone)]
pub(crate) struct RepairPlan {
    /// Libraries to copy in.
    pub grafts: Vec<Graft>,
    /// ELF files to patch.
    pub edits: Vec<FileEdit>,
    /// Output file name.
    pub filename: WheelFilename,
    /// Output WHEEL contents.
    pub wheel_info: WheelInfo,
    /// Strip the files in `edits` and the grafted libraries (`strip -s`, in the same pass as
    /// the other edits). With it, `edits` also lists the wheel's ELF files that need no other
    /// change but have something to strip, as auditwheel strips every ELF file it analysed.
    pub strip: bool,
}

impl RepairPlan {
    /// Whether applying the plan changes nothing but (possibly) the tags.
    #[must_use]
    pub(crate) fn changes_files(&self) -> bool {
        !self.grafts.is_empty() || !self.edits.is_empty()
    }
}

/// Chooses the requested policy (`auto` = the best, or the least compatible if that is `linux`)
/// and checks it against every constraint of the audit.
pub(crate) fn requested_policy(audit: &Audit, plat: &str) -> Result<PolicyId, RepairError> {
    let policies = &audit.policies;
    let id = if plat == "auto" {
        if audit.overall_policy == policies.linux() {
            policies.lowest()
        } else {
            audit.overall_policy
        }
    } else {
        policies
            .by_name(plat)
            .ok_or_else(|| unknown_platform(policies, plat))?
    };
    let name = policies.get(id).name.clone();
    if id > audit.sym_policy {
        let required = crate::audit::policy::required_by_prefix(&audit.versioned_symbols);
        let blocked = policies.blocking_versions(id, &required);
        let uses = audit
            .version_uses
            .iter()
            .filter(|u| blocked.contains(&u.version))
            .cloned()
            .collect();
        return Err(RepairError::TooNewSymbols {
            requested: name,
            best: policies.get(audit.sym_policy).name.clone(),
            uses,
        });
    }
    if id > audit.ucs_policy {
        return Err(RepairError::Ucs2 { requested: name });
    }
    if id > audit.blacklist_policy {
        let reference = &audit.external_refs[id];
        let symbols = reference
            .blacklist
            .iter()
            .map(|(lib, syms)| {
                format!(
                    "{lib}: {}",
                    syms.iter().cloned().collect::<Vec<_>>().join(", ")
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        return Err(RepairError::Blacklisted {
            requested: name,
            symbols,
        });
    }
    if id > audit.machine_policy {
        let files = audit
            .isa_files
            .iter()
            .map(|(f, level)| format!("`{f}` ({level})"))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(RepairError::UnsupportedIsa {
            requested: name,
            files,
        });
    }
    Ok(id)
}

fn unknown_platform(policies: &PolicySet, plat: &str) -> RepairError {
    let known: Vec<&str> = policies
        .policies()
        .iter()
        .skip(1)
        .flat_map(|p| p.tags())
        .collect();
    RepairError::UnknownPlatform {
        requested: plat.to_owned(),
        arch: policies.arch.to_string(),
        libc: policies.libc.to_string(),
        known: known.join(", "),
    }
}

/// The grafted name: the source file name with the first 8 hex digits of its sha256 inserted
/// after the first dot's stem (`libfoo.so.1.2` → `libfoo-1a2b3c4d.so.1.2`); a stem that already
/// ends in `-<hash>` is kept.
#[must_use]
pub(crate) fn hashed_name(file_name: &str, short_hash: &str) -> String {
    match file_name.split_once('.') {
        Some((stem, rest)) => {
            if stem.ends_with(&format!("-{short_hash}")) {
                file_name.to_owned()
            } else {
                format!("{stem}-{short_hash}.{rest}")
            }
        }
        None => {
            if file_name.ends_with(&format!("-{short_hash}")) {
                file_name.to_owned()
            } else {
                format!("{file_name}-{short_hash}")
            }
        }
    }
}

/// `dir` relative to `from` (both wheel paths, `/`-separated, `""` = the root).
#[must_use]
pub(crate) fn relative_path(dir: &str, from: &str) -> String {
    let a: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
    let b: Vec<&str> = from.split('/').filter(|s| !s.is_empty()).collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<&str> = vec![".."; b.len() - common];
    parts.extend(&a[common..]);
    if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    }
}

/// Keeps the RPATH entries of `file` that point inside the wheel, then appends `new_entry`
/// (auditwheel's `append_rpath_within_wheel`). Returns the new value and the dropped entries.
#[must_use]
pub(crate) fn merge_rpath(
    old: Option<&str>,
    file: &str,
    new_entry: &str,
    is_64: bool,
    machine: &str,
) -> (String, Vec<String>) {
    let dir = file.rsplit_once('/').map_or("", |(d, _)| d);
    let mut kept: Vec<String> = Vec::new();
    let mut dropped = Vec::new();
    for entry in old.unwrap_or_default().split(':') {
        if entry.is_empty() {
            continue;
        }
        let mut expanded = entry.to_owned();
        for (token, value) in [
            ("ORIGIN", "\u{0}"),
            ("LIB", if is_64 { "lib64" } else { "lib" }),
            ("PLATFORM", machine),
        ] {
            expanded = expanded
                .replace(&format!("${{{token}}}"), value)
                .replace(&format!("${token}"), value);
        }
        // Inside the wheel only when it starts at $ORIGIN and never climbs above the root.
        let inside = expanded.strip_prefix('\u{0}').is_some_and(|rest| {
            !rest.contains('\u{0}') && {
                let joined = if dir.is_empty() {
                    rest.trim_start_matches('/').to_owned()
                } else {
                    format!("{dir}/{}", rest.trim_start_matches('/'))
                };
                normalize_inside(&joined)
            }
        });
        if inside {
            if !kept.contains(&entry.to_owned()) {
                kept.push(entry.to_owned());
            }
        } else {
            dropped.push(entry.to_owned());
        }
    }
    if !kept.iter().any(|e| e == new_entry) {
        kept.push(new_entry.to_owned());
    }
    (kept.join(":"), dropped)
}

fn normalize_inside(path: &str) -> bool {
    let mut depth: i64 = 0;
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => depth += 1,
        }
    }
    true
}

/// Whether `path` is an executable in `<name>.data/scripts/` (moved out during repair).
#[must_use]
pub(crate) fn is_script(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    parts.len() == 3 && parts[0].ends_with(".data") && parts[1] == "scripts"
}

/// Computes the repair plan for `requested` (auditwheel's `repair_wheel`).
pub(crate) fn plan(
    audit: &Audit,
    requested: PolicyId,
    filename: &WheelFilename,
    wheel_info: &WheelInfo,
    options: &RepairOptions,
    host_path: impl Fn(&Path) -> PathBuf,
) -> Result<RepairPlan, RepairError> {
    let policies = &audit.policies;
    let requested_policy = policies.get(requested);
    let mut platform_tags = requested_policy.platform_tags.clone();
    if !options.only_plat && requested < audit.overall_policy {
        let overall = policies.get(audit.overall_policy);
        let mut tags = overall.platform_tags.clone();
        tags.extend(platform_tags);
        platform_tags = tags;
    }
    let graft_id = platform_tags
        .first()
        .and_then(|first| policies.by_name(&first.to_string()))
        .unwrap_or(requested);
    let libs_dir = format!("{}{}", filename.name, options.lib_sdir);

    let mut grafts: Vec<Graft> = Vec::new();
    let mut soname_map: BTreeMap<String, (String, String)> = BTreeMap::new(); // soname -> (new name, wheel path)
    let mut edits: Vec<FileEdit> = Vec::new();
    let info_of = |path: &str| {
        audit
            .trees
            .iter()
            .find(|t| t.location.to_string() == path)
            .map(|t| &t.info)
    };

    for (path, refs) in &audit.external_refs_by_file {
        let Some(reference) = refs.get(graft_id) else {
            continue;
        };
        let mut replace_needed = Vec::new();
        let mut remove_needed = Vec::new();
        for (soname, source) in &reference.libs {
            if is_libpython(soname) {
                remove_needed.push(soname.clone());
                continue;
            }
            let Some(source) = source else {
                let searched = audit
                    .trees
                    .iter()
                    .find(|t| t.location.to_string() == *path)
                    .and_then(|t| t.libraries.get(soname))
                    .map(|l| l.searched.clone())
                    .unwrap_or_default();
                return Err(RepairError::LibraryNotFound {
                    soname: soname.clone(),
                    needed_by: path.clone(),
                    searched,
                });
            };
            // One copy per distinct file: a name that resolves to different files for
            // different requesters is grafted once per file, each under its own hashed name
            // (auditwheel 6.8), and each requester is pointed at its own copy.
            let (new_name, dest) = match grafts.iter().find(|g| &g.source == source) {
                Some(g) => (g.new_name.clone(), g.path.clone()),
                None => {
                    let on_disk = match source {
                        Location::Host(p) => host_path(p),
                        Location::Wheel(_) => continue,
                    };
                    let data = std::fs::read(&on_disk).map_err(|e| RepairError::Read {
                        path: on_disk.clone(),
                        source: e,
                    })?;
                    let sha256 = crate::publish::dist::hex(&sha2::Sha256::digest(&data));
                    let new_name = hashed_name(source.file_name(), &sha256[..8]);
                    let dest = format!("{libs_dir}/{new_name}");
                    match grafts.iter().find(|g| g.path == dest) {
                        // The same bytes under another path (auditwheel keeps the first copy).
                        Some(other) if other.sha256 == sha256 => {}
                        Some(other) => {
                            return Err(RepairError::GraftCollision {
                                name: dest,
                                first: other.source.to_string(),
                                second: source.to_string(),
                            });
                        }
                        None => grafts.push(Graft {
                            soname: soname.clone(),
                            source: source.clone(),
                            sha256,
                            new_name: new_name.clone(),
                            path: dest.clone(),
                            replace_needed: Vec::new(),
                            rpath: None,
                        }),
                    }
                    (new_name, dest)
                }
            };
            soname_map.insert(soname.clone(), (new_name.clone(), dest));
            replace_needed.push((soname.clone(), new_name));
        }
        if reference.libs.is_empty() {
            // auditwheel's --strip also strips the wheel's ELF files that need nothing.
            if options.strip && info_of(path).is_some_and(|i| i.strippable) {
                edits.push(FileEdit {
                    path: path.clone(),
                    new_path: path.clone(),
                    replace_needed: Vec::new(),
                    remove_needed: Vec::new(),
                    rpath: None,
                    dropped_rpath: Vec::new(),
                });
            }
            continue;
        }
        let new_path = if is_script(path) {
            let file = path.rsplit('/').next().unwrap_or(path);
            format!("{}.scripts/{file}", filename.name)
        } else {
            path.clone()
        };
        let new_dir = new_path.rsplit_once('/').map_or("", |(d, _)| d);
        let new_entry = format!("$ORIGIN/{}", relative_path(&libs_dir, new_dir));
        let info = info_of(path);
        let old = info.and_then(|i| i.runpath.as_deref().or(i.rpath.as_deref()));
        let is_64 = info.is_some_and(|i| i.platform.is_64);
        let machine = policies.arch.as_str();
        let (rpath, dropped_rpath) = merge_rpath(old, &new_path, &new_entry, is_64, machine);
        edits.push(FileEdit {
            path: path.clone(),
            new_path,
            replace_needed,
            remove_needed,
            rpath: Some(rpath),
            dropped_rpath,
        });
    }

    // Grafted libraries: rewrite their references to each other; `$ORIGIN` only if they have any.
    // A name is mapped to the copy of the file it resolved to in the tree the library was
    // found in (a name grafted from several files has several copies), else to the last graft
    // of that name (auditwheel's `soname_map`).
    let copies: Vec<(Location, String)> = grafts
        .iter()
        .map(|g| (g.source.clone(), g.new_name.clone()))
        .collect();
    for graft in &mut grafts {
        let found = audit.trees.iter().find_map(|tree| {
            tree.libraries
                .values()
                .find(|l| l.realpath.as_ref() == Some(&graft.source))
                .map(|l| (tree, l.info.clone()))
        });
        let Some((tree, info)) = found else {
            continue;
        };
        let needed = info.map(|i| i.needed.clone()).unwrap_or_default();
        graft.replace_needed = needed
            .iter()
            .filter_map(|n| {
                let own_copy = tree
                    .libraries
                    .get(n)
                    .and_then(|l| l.realpath.as_ref())
                    .and_then(|p| copies.iter().find(|(source, _)| source == p))
                    .map(|(_, new)| new.clone());
                own_copy
                    .or_else(|| soname_map.get(n).map(|(new, _)| new.clone()))
                    .map(|new| (n.clone(), new))
            })
            .collect();
        graft.rpath = (!graft.replace_needed.is_empty()).then(|| "$ORIGIN".to_owned());
    }

    let (filename, wheel_info) = if options.no_update_tags {
        (filename.clone(), wheel_info.clone())
    } else {
        retag(filename, wheel_info, &platform_tags)
    };
    Ok(RepairPlan {
        grafts,
        edits,
        filename,
        wheel_info,
        strip: options.strip,
    })
}

/// Adds `platforms` to the filename and WHEEL tags, removing `linux_<arch>` (and `any`), like
/// auditwheel's `add_platforms`.
#[must_use]
pub(crate) fn retag(
    filename: &WheelFilename,
    info: &WheelInfo,
    platforms: &[PlatformTag],
) -> (WheelFilename, WheelInfo) {
    let mut to_remove: Vec<PlatformTag> = Vec::new();
    if let Some(first) = platforms.first() {
        if let (false, Some(arch)) = (matches!(first, PlatformTag::Linux { .. }), first.arch()) {
            to_remove.push(PlatformTag::Linux { arch });
        }
    }
    // auditwheel works on the spellings: sorted and compared as text.
    let mut original: Vec<PlatformTag> = filename.platform_tags.clone();
    original.sort_by_cached_key(ToString::to_string);
    original.dedup();
    let mut tags: Vec<PlatformTag> = original
        .iter()
        .filter(|t| !to_remove.contains(t))
        .cloned()
        .collect();
    for p in platforms {
        if !tags.contains(p) {
            tags.push(p.clone());
        }
    }
    let mut not_purelib = false;
    if tags.contains(&PlatformTag::Any) && tags.len() > 1 {
        tags.retain(|t| *t != PlatformTag::Any);
        to_remove.push(PlatformTag::Any);
        not_purelib = true;
    }
    let mut sorted = tags.clone();
    sorted.sort_by_cached_key(ToString::to_string);
    let new_filename = filename.with_platform_tags(sorted);

    let mut pyc_apis: Vec<String> = Vec::new();
    for tag in &info.tags {
        let api: Vec<&str> = tag.splitn(3, '-').take(2).collect();
        let api = api.join("-");
        if !pyc_apis.contains(&api) {
            pyc_apis.push(api);
        }
    }
    let wanted: Vec<String> = pyc_apis
        .iter()
        .flat_map(|a| platforms.iter().map(move |p| format!("{a}-{p}")))
        .collect();
    let unwanted: Vec<String> = pyc_apis
        .iter()
        .flat_map(|a| to_remove.iter().map(move |p| format!("{a}-{p}")))
        .collect();
    let mut new_tags: Vec<String> = info
        .tags
        .iter()
        .filter(|t| !unwanted.contains(t))
        .cloned()
        .collect();
    for tag in wanted {
        if !info.tags.contains(&tag) {
            new_tags.push(tag);
        }
    }
    let mut new_info = info.clone();
    new_info.tags = new_tags;
    if not_purelib {
        new_info.root_is_purelib = false;
    }
    (new_filename, new_info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names() {
        assert_eq!(
            hashed_name("libdemo.so.1.0", "d7957a7f"),
            "libdemo-d7957a7f.so.1.0"
        );
        assert_eq!(
            hashed_name("libdemo-d7957a7f.so.1.0", "d7957a7f"),
            "libdemo-d7957a7f.so.1.0"
        );
        assert_eq!(hashed_name("libfoo", "12345678"), "libfoo-12345678");
    }

    #[test]
    fn relative_paths() {
        assert_eq!(relative_path("pkg.libs", "pkg"), "../pkg.libs");
        assert_eq!(relative_path("pkg.libs", ""), "pkg.libs");
        assert_eq!(
            relative_path("pkg.libs", "pkg/sub/deeper"),
            "../../../pkg.libs"
        );
        assert_eq!(relative_path("pkg.libs", "pkg.libs"), ".");
    }

    #[test]
    fn klayout_rpath_is_appended_not_replaced() {
        // repair.md §6.4: dbcore.so had RPATH=$ORIGIN to find the package's own lib_tl.so.
        let (rpath, dropped) = merge_rpath(
            Some("$ORIGIN"),
            "klayout/dbcore.so",
            "$ORIGIN/../klayout.libs",
            true,
            "x86_64",
        );
        assert_eq!(rpath, "$ORIGIN:$ORIGIN/../klayout.libs");
        assert!(dropped.is_empty());
        // Plugins one level down keep `$ORIGIN/..`.
        let (rpath, _) = merge_rpath(
            Some("$ORIGIN/.."),
            "klayout/db_plugins/x.so",
            "$ORIGIN/../../klayout.libs",
            true,
            "x86_64",
        );
        assert_eq!(rpath, "$ORIGIN/..:$ORIGIN/../../klayout.libs");
    }

    #[test]
    fn rpath_entries_outside_the_wheel_are_dropped() {
        let (rpath, dropped) = merge_rpath(
            Some("/opt/build-python/lib:$ORIGIN/../../escape:${ORIGIN}/lib:$ORIGIN/lib"),
            "pkg/_core.so",
            "$ORIGIN/../pkg.libs",
            true,
            "x86_64",
        );
        assert_eq!(rpath, "${ORIGIN}/lib:$ORIGIN/lib:$ORIGIN/../pkg.libs");
        assert_eq!(
            dropped,
            vec!["/opt/build-python/lib", "$ORIGIN/../../escape"]
        );
    }

    #[test]
    fn scripts() {
        assert!(is_script("neuron-8.2.data/scripts/nrniv"));
        assert!(!is_script("neuron-8.2.data/purelib/x"));
        assert!(!is_script("neuron/.data/scripts/x/y"));
    }

    #[test]
    fn retag_like_auditwheel() {
        let filename: WheelFilename = "democext-0.1.0-cp311-cp311-linux_x86_64.whl"
            .parse()
            .expect("filename");
        let info = WheelInfo {
            wheel_version: "1.0".into(),
            generator: None,
            root_is_purelib: false,
            tags: vec!["cp311-cp311-linux_x86_64".into()],
            build: None,
        };
        let platforms: Vec<PlatformTag> = [
            "manylinux_2_5_x86_64",
            "manylinux1_x86_64",
            "manylinux_2_36_x86_64",
        ]
        .iter()
        .map(|s| s.parse().expect("tag"))
        .collect();
        let (name, info) = retag(&filename, &info, &platforms);
        assert_eq!(
            name.to_string(),
            "democext-0.1.0-cp311-cp311-manylinux1_x86_64.manylinux_2_36_x86_64.manylinux_2_5_x86_64.whl"
        );
        assert_eq!(
            info.tags,
            vec![
                "cp311-cp311-manylinux_2_5_x86_64",
                "cp311-cp311-manylinux1_x86_64",
                "cp311-cp311-manylinux_2_36_x86_64"
            ]
        );
    }
}
