//! Auditing a wheel: which libraries its ELF files load, which policies allow them, and the
//! platform tag the wheel can honestly carry.
//!
//! The decision reproduces auditwheel 6.8's `analyze_wheel_abi` step by step (symbol policy,
//! blacklist policy, machine (ISA) policy, UCS2/PyFPE checks, reference policy), so that
//! wheelwright and auditwheel agree on the tag; everything else (resolution reasons, the
//! symbols behind each too-new version) is extra information for the report.
//!
//! This module is synchronous and does no I/O except reading library files in the filesystem
//! root through [`resolve::Resolver`].

pub(crate) mod abi3;
pub(crate) mod policy;
pub(crate) mod report;
pub mod resolve;
pub(crate) mod wheel;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use tracing::{debug, warn};

use crate::elf::{ElfInfo, IsaLevel};
use crate::platform::Arch;
use crate::platform::Libc;
use policy::{PolicyId, PolicySet};
use resolve::{ElfTree, Library, Location, Resolver, SearchEnv, WheelFiles};

/// Why a wheel could not be audited.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AuditError {
    /// ELF files under `*.data/purelib/`.
    #[error("shared libraries in the purelib folder (the wheel must be platlib compliant): {}", .0.join(", "))]
    SharedLibraryInPurelib(Vec<String>),
    /// No ELF file for the wheel's architecture.
    #[error("{}", non_platform_message(.arch.as_ref(), .ignored))]
    NonPlatformWheel {
        /// The wheel's architecture, if known.
        arch: Option<Arch>,
        /// ELF files that were ignored for their architecture.
        ignored: Vec<String>,
    },
    /// A Python extension whose libc could not be told.
    #[error("cannot detect the libc of the Python extension `{0}`")]
    UnknownLibc(String),
    /// The policy data could not be used.
    #[error(transparent)]
    Policy(#[from] policy::PolicyError),
}

fn non_platform_message(arch: Option<&Arch>, ignored: &[String]) -> String {
    match arch {
        Some(arch) if !ignored.is_empty() => format!(
            "no ELF file for {arch} in the wheel; ignored for their architecture: {}",
            ignored.join(", ")
        ),
        _ => "not a platform wheel: no ELF executable or shared library in it".to_owned(),
    }
}

/// What the caller knows before looking at the ELF files.
#[derive(Debug, Clone, Default)]
pub(crate) struct AuditOptions {
    /// Architecture from the wheel filename.
    pub arch: Option<Arch>,
    /// libc from the wheel filename.
    pub libc: Option<Libc>,
    /// The musllinux policy to use. Ex) `musllinux_1_2`
    pub musl_policy: Option<String>,
    /// Skip the x86-64 ISA level check.
    pub disable_isa_ext_check: bool,
    /// Libraries (SONAME or path globs) that are neither followed nor counted.
    pub exclude: Vec<glob::Pattern>,
    /// Whether grafting is allowed (repair) or not (show).
    pub allow_graft: bool,
    /// The requested policy base name for repair (`auto` or a name without arch).
    pub requested: Option<String>,
}

/// One ELF file of the wheel, in RECORD order.
#[derive(Debug, Clone)]
pub(crate) struct WheelElf {
    /// Path inside the wheel.
    pub path: String,
    /// Its facts.
    pub info: Arc<ElfInfo>,
}

/// External libraries and blacklisted symbols of one policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ExternalReference {
    /// `{soname: realpath or unresolved}`.
    pub libs: BTreeMap<String, Option<Location>>,
    /// `{library: [symbols]}`.
    pub blacklist: BTreeMap<String, BTreeSet<String>>,
}

/// A too-new (or unknown) symbol version and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct SymbolVersionUse {
    /// The version. Ex) `GLIBC_2.34`
    pub version: String,
    /// The library that provides it (`vn_file`). Ex) `libc.so.6`
    pub library: String,
    /// The ELF file that needs it (a wheel path or an external library path).
    pub file: String,
    /// The symbols bound to that version.
    pub symbols: Vec<String>,
}

/// The outcome of an audit.
#[derive(Debug, Clone)]
pub(crate) struct Audit {
    /// The policies that applied.
    pub policies: PolicySet,
    /// Dependency tree per ELF file of the wheel (roots and non-roots).
    pub trees: Vec<ElfTree>,
    /// Paths of the trees that count as roots (extensions and unreferenced libraries).
    pub roots: Vec<String>,
    /// Per ELF file, external references per policy id (used by repair).
    pub external_refs_by_file: BTreeMap<String, Vec<ExternalReference>>,
    /// External references per policy id, over all roots.
    pub external_refs: Vec<ExternalReference>,
    /// The versioned symbols the decision used (`{soname: {version}}`).
    pub versioned_symbols: BTreeMap<String, BTreeSet<String>>,
    /// Every use of a versioned symbol, with the file and symbols.
    pub version_uses: Vec<SymbolVersionUse>,
    /// The best tag overall.
    pub overall_policy: PolicyId,
    /// Best policy without external libraries.
    pub ref_policy: PolicyId,
    /// Best policy by symbol versions.
    pub sym_policy: PolicyId,
    /// `linux` if UCS2 symbols are used, else the highest.
    pub ucs_policy: PolicyId,
    /// `linux` if PyFPE_jbuf is used, else the highest.
    pub pyfpe_policy: PolicyId,
    /// Best policy without blacklisted symbols.
    pub blacklist_policy: PolicyId,
    /// Best policy allowed by ISA levels.
    pub machine_policy: PolicyId,
    /// Files that need more than baseline x86-64, with their level.
    pub isa_files: Vec<(String, IsaLevel)>,
    /// External libraries whose name resolved to different files for different ELF files
    /// (repair grafts one copy of each, auditwheel 6.8's behaviour).
    pub same_soname: Vec<SameSoname>,
}

/// One `DT_NEEDED` name that resolved to different files for different ELF files of the wheel.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct SameSoname {
    /// The name. Ex) `libfoo.so.1`
    pub soname: String,
    /// The files, in the order they were first reached.
    pub libraries: Vec<String>,
}

/// Audits the ELF files of a wheel.
///
/// `elfs` are the wheel's ELF files in RECORD order; `files` every file path in the wheel.
pub(crate) fn audit(
    elfs: &[WheelElf],
    files: std::collections::HashSet<String>,
    env: &SearchEnv,
    options: &AuditOptions,
) -> Result<Audit, AuditError> {
    let wheel_files = WheelFiles {
        files,
        elfs: elfs
            .iter()
            .map(|e| (e.path.clone(), Arc::clone(&e.info)))
            .collect(),
    };
    let mut resolver = Resolver::new(env, &wheel_files);

    let in_purelib: Vec<String> = elfs
        .iter()
        .filter(|e| {
            e.path
                .split('/')
                .rev()
                .skip(1)
                .any(|part| part == "purelib")
        })
        .map(|e| e.path.clone())
        .collect();
    if !in_purelib.is_empty() {
        return Err(AuditError::SharedLibraryInPurelib(in_purelib));
    }

    let mut arch = options.arch;
    let mut libc = options.libc;
    let mut policies: Option<PolicySet> = None;
    let mut ignored = Vec::new();
    let mut versioned_symbols: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut version_uses = Vec::new();
    let mut py_trees: Vec<ElfTree> = Vec::new();
    let mut nonpy_trees: Vec<ElfTree> = Vec::new();
    let mut uses_ucs2 = false;
    let mut uses_pyfpe = false;
    let mut platform_wheel = false;

    for elf in elfs {
        let file_name = elf.path.rsplit('/').next().unwrap_or(&elf.path);
        if file_name.ends_with(".py") {
            continue;
        }
        let tree = resolver.tree(&elf.path, &elf.info, &options.exclude);
        let elf_arch = match elf.info.arch() {
            Ok(a) => a,
            Err(why) => {
                warn!("ignoring `{}`: {why}", elf.path);
                ignored.push(elf.path.clone());
                continue;
            }
        };
        match arch {
            None => arch = Some(elf_arch),
            Some(a) if a != elf_arch => {
                warn!("ignoring `{}`: built for {elf_arch}, not {a}", elf.path);
                ignored.push(elf.path.clone());
                continue;
            }
            Some(_) => {}
        }
        if let Some(tree_libc) = tree.libc {
            match libc {
                None => libc = Some(tree_libc),
                Some(l) if l != tree_libc => {
                    warn!(
                        "ignoring `{}`: linked against {tree_libc}, not {l}",
                        elf.path
                    );
                    ignored.push(elf.path.clone());
                    continue;
                }
                Some(_) => {}
            }
        }
        if policies.is_none() {
            if let (Some(l), Some(a)) = (libc, arch) {
                policies = Some(PolicySet::new(l, a, options.musl_policy.as_deref())?);
            }
        }
        platform_wheel = true;
        for (file, version) in elf.info.versioned_symbols() {
            versioned_symbols
                .entry(file.to_owned())
                .or_default()
                .insert(version.to_owned());
        }
        collect_version_uses(&elf.path, &elf.info, &mut version_uses);

        let module = file_name.split('.').next().unwrap_or_default();
        if let Some(py_version) = elf.info.python_extension_version(module) {
            if policies.is_none() {
                return Err(AuditError::UnknownLibc(elf.path.clone()));
            }
            uses_pyfpe |= elf.info.uses_pyfpe_jbuf;
            if py_version == 2 {
                uses_ucs2 |= elf.info.uses_ucs2_symbols;
            }
            py_trees.push(tree);
        } else {
            nonpy_trees.push(tree);
        }
    }

    if !platform_wheel {
        return Err(AuditError::NonPlatformWheel { arch, ignored });
    }

    fixup_trees(&py_trees, &mut nonpy_trees);

    let needed_libs: BTreeSet<&str> = py_trees
        .iter()
        .chain(&nonpy_trees)
        .flat_map(|t| t.needed.iter().map(String::as_str))
        .collect();

    let policies = match policies {
        Some(p) => p,
        None => {
            // No extension told us the libc: fall back to the root's libc.
            let libc = detect_root_libc(env);
            warn!("cannot detect the wheel's libc, assuming {libc}");
            let arch = arch.ok_or_else(|| AuditError::NonPlatformWheel {
                arch: None,
                ignored: ignored.clone(),
            })?;
            PolicySet::new(libc, arch, options.musl_policy.as_deref())?
        }
    };

    let mut external_refs_by_file: BTreeMap<String, Vec<ExternalReference>> = BTreeMap::new();
    let mut roots: Vec<String> = Vec::new();
    for tree in &py_trees {
        external_refs_by_file.insert(tree_path(tree), external_references(&policies, tree));
        roots.push(tree_path(tree));
    }
    for tree in &nonpy_trees {
        if !needed_libs.contains(tree.location.file_name()) {
            roots.push(tree_path(tree));
        }
        external_refs_by_file.insert(tree_path(tree), external_references(&policies, tree));
    }

    let n = policies.policies().len();
    let mut same_soname: Vec<SameSoname> = Vec::new();
    let mut external_refs: Vec<ExternalReference> = vec![ExternalReference::default(); n];
    for root in &roots {
        if let Some(refs) = external_refs_by_file.get(root) {
            for (id, reference) in refs.iter().enumerate() {
                let target = &mut external_refs[id];
                for (lib, symbols) in &reference.blacklist {
                    target
                        .blacklist
                        .entry(lib.clone())
                        .or_default()
                        .extend(symbols.iter().cloned());
                }
                for (lib, path) in &reference.libs {
                    if let Some(Some(previous)) = target.libs.insert(lib.clone(), path.clone()) {
                        if let Some(path) = path.as_ref().filter(|p| **p != previous) {
                            note_same_soname(&mut same_soname, lib, &previous, path);
                        }
                    }
                }
            }
        }
    }

    // {realpath: soname} of external libraries of every non-linux policy (first occurrence),
    // over every root: one name may stand for several files (`same_soname`), all grafted.
    let mut external_libs: Vec<(Location, String)> = Vec::new();
    for refs in roots.iter().filter_map(|r| external_refs_by_file.get(r)) {
        for reference in refs.iter().skip(1) {
            for (soname, path) in &reference.libs {
                if let Some(path) = path {
                    if !external_libs.iter().any(|(p, _)| p == path) {
                        external_libs.push((path.clone(), soname.clone()));
                    }
                }
            }
        }
    }
    let all_trees: Vec<&ElfTree> = py_trees.iter().chain(&nonpy_trees).collect();
    let mut external_versioned: HashMap<String, BTreeMap<String, BTreeSet<String>>> =
        HashMap::new();
    for (path, soname) in &external_libs {
        if let Some(info) = find_library_info(&all_trees, path) {
            let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for (file, version) in info.versioned_symbols() {
                map.entry(file.to_owned())
                    .or_default()
                    .insert(version.to_owned());
            }
            collect_version_uses(&path.to_string(), &info, &mut version_uses);
            let merged = external_versioned.entry(soname.clone()).or_default();
            for (file, versions) in map {
                merged.entry(file).or_default().extend(versions);
            }
        }
    }

    // Symbol policy: per policy, the wheel's versions plus those of the libraries it would graft.
    let base_sym_policy = policies.versioned_symbols_policy(&versioned_symbols);
    let mut best: Option<(PolicyId, BTreeMap<String, BTreeSet<String>>)> = None;
    for (id, reference) in external_refs.iter().enumerate().skip(1) {
        let mut policy_symbols = versioned_symbols.clone();
        for soname in reference.libs.keys() {
            if let Some(ext) = external_versioned.get(soname) {
                for (k, v) in ext {
                    policy_symbols
                        .entry(k.clone())
                        .or_default()
                        .extend(v.iter().cloned());
                }
            }
        }
        let found = id.min(policies.versioned_symbols_policy(&policy_symbols));
        if best.as_ref().is_none_or(|(b, _)| found > *b) {
            best = Some((found, policy_symbols));
        }
    }
    let (sym_policy, versioned_symbols) = best.unwrap_or((base_sym_policy, versioned_symbols));

    let ref_policy = (0..n)
        .rev()
        .find(|&id| external_refs[id].libs.is_empty())
        .unwrap_or(0);
    let blacklist_policy = (0..n)
        .rev()
        .find(|&id| external_refs[id].blacklist.is_empty())
        .unwrap_or(0);

    let graft_lib_count = match options.requested.as_deref() {
        None | Some("auto") => (1..n)
            .map(|id| external_refs[id].libs.len())
            .min()
            .unwrap_or(0),
        Some(base) => (0..n)
            .filter(|&id| policies.get(id).name.starts_with(&format!("{base}_")))
            .map(|id| external_refs[id].libs.len())
            .min()
            .unwrap_or(0),
    };
    let graft_policy = (0..n)
        .rev()
        .find(|&id| external_refs[id].libs.len() <= graft_lib_count)
        .unwrap_or(0);

    let external_sonames: BTreeSet<&str> = external_libs.iter().map(|(_, s)| s.as_str()).collect();
    let mut isa_files = Vec::new();
    let machine_policy = if options.disable_isa_ext_check {
        policies.highest()
    } else {
        machine_policy(
            &policies,
            &all_trees,
            &roots,
            &external_sonames,
            &mut isa_files,
        )
    };

    let ucs_policy = if uses_ucs2 {
        policies.linux()
    } else {
        policies.highest()
    };
    let pyfpe_policy = if uses_pyfpe {
        policies.linux()
    } else {
        policies.highest()
    };

    let mut overall_policy = sym_policy
        .min(ucs_policy)
        .min(pyfpe_policy)
        .min(blacklist_policy)
        .min(machine_policy);
    if options.requested.is_some() {
        overall_policy = overall_policy.min(graft_policy);
    }
    if !options.allow_graft {
        overall_policy = overall_policy.min(ref_policy);
    }
    debug!(
        "policies: overall={} sym={} ref={} blacklist={} machine={}",
        policies.get(overall_policy).name,
        policies.get(sym_policy).name,
        policies.get(ref_policy).name,
        policies.get(blacklist_policy).name,
        policies.get(machine_policy).name
    );

    let mut trees = py_trees;
    trees.extend(nonpy_trees);
    Ok(Audit {
        policies,
        trees,
        roots,
        external_refs_by_file,
        external_refs,
        versioned_symbols,
        version_uses,
        overall_policy,
        ref_policy,
        sym_policy,
        ucs_policy,
        pyfpe_policy,
        blacklist_policy,
        machine_policy,
        isa_files,
        same_soname,
    })
}

fn note_same_soname(found: &mut Vec<SameSoname>, soname: &str, first: &Location, other: &Location) {
    let index = match found.iter().position(|s| s.soname == soname) {
        Some(index) => index,
        None => {
            found.push(SameSoname {
                soname: soname.to_owned(),
                libraries: Vec::new(),
            });
            found.len() - 1
        }
    };
    for path in [first, other] {
        let path = path.to_string();
        if !found[index].libraries.contains(&path) {
            found[index].libraries.push(path);
        }
    }
}

fn tree_path(tree: &ElfTree) -> String {
    tree.location.to_string()
}

fn collect_version_uses(file: &str, info: &ElfInfo, out: &mut Vec<SymbolVersionUse>) {
    for req in &info.version_requirements {
        if crate::elf::is_loader_name(&req.file) {
            continue;
        }
        out.push(SymbolVersionUse {
            version: req.version.clone(),
            library: req.file.clone(),
            file: file.to_owned(),
            symbols: req.symbols.clone(),
        });
    }
}

fn find_library_info(trees: &[&ElfTree], path: &Location) -> Option<Arc<ElfInfo>> {
    trees
        .iter()
        .flat_map(|t| t.libraries.values())
        .find(|l| l.realpath.as_ref() == Some(path))
        .and_then(|l| l.info.clone())
}

/// Per policy (by id), the external libraries and blacklisted symbols of one tree.
fn external_references(policies: &PolicySet, tree: &ElfTree) -> Vec<ExternalReference> {
    let mut out = Vec::with_capacity(policies.policies().len());
    for (id, policy) in policies.policies().iter().enumerate() {
        if id == policies.linux() {
            out.push(ExternalReference::default());
            continue;
        }
        let keep = |lib: &str| {
            !(lib.contains("ld-linux")
                || lib == "ld64.so.2"
                || lib == "ld64.so.1"
                || policy.whitelist.contains(lib))
        };

        let mut blacklist = BTreeMap::new();
        for lib in tree
            .needed
            .iter()
            .filter(|l| policy.blacklist.contains_key(l.as_str()))
        {
            let banned = &policy.blacklist[lib.as_str()];
            let hits: BTreeSet<String> = banned
                .iter()
                .filter(|s| {
                    s.as_str() == "*" || tree.info.undefined_symbols.iter().any(|u| u == *s)
                })
                .cloned()
                .collect();
            if !hits.is_empty() {
                blacklist.insert(lib.clone(), hits);
            }
        }

        let mut pending: Vec<String> = tree.needed.iter().filter(|l| keep(l)).cloned().collect();
        let mut required: BTreeSet<String> = BTreeSet::new();
        while let Some(lib) = pending.pop() {
            if !required.insert(lib.clone()) {
                continue;
            }
            if let Some(entry) = tree.libraries.get(&lib) {
                for dep in entry.needed.iter().filter(|d| keep(d)) {
                    if !required.contains(dep) {
                        pending.push(dep.clone());
                    }
                }
            }
        }
        let mut libs = BTreeMap::new();
        for lib in required {
            let realpath = tree.libraries.get(&lib).and_then(|l| l.realpath.clone());
            if realpath.as_ref().is_some_and(Location::is_internal) {
                debug!("RPATH FTW: {lib}");
                continue;
            }
            libs.insert(lib, realpath);
        }
        out.push(ExternalReference { libs, blacklist });
    }
    out
}

/// Fills unresolved dependencies of non-extension ELF files from a fully resolved tree that
/// loads them (auditwheel 6.7's rule: what one tree finds, a library it loads can find).
fn fixup_trees(py_trees: &[ElfTree], nonpy_trees: &mut [ElfTree]) {
    let resolved: Vec<ElfTree> = py_trees
        .iter()
        .chain(nonpy_trees.iter())
        .filter(|t| t.fully_resolved())
        .cloned()
        .collect();
    for tree in nonpy_trees.iter_mut() {
        if tree.fully_resolved() {
            continue;
        }
        let Some(reference) = resolved.iter().find(|c| {
            c.libraries
                .values()
                .any(|l| l.realpath.as_ref() == Some(&tree.location))
        }) else {
            continue;
        };
        let mut libraries_new: BTreeMap<String, Library> = BTreeMap::new();
        let mut all: BTreeSet<String> = tree.libraries.keys().cloned().collect();
        for (soname, lib) in &tree.libraries {
            if lib.realpath.is_none() {
                if let Some(found) = reference.libraries.get(soname) {
                    libraries_new.insert(soname.clone(), found.clone());
                    let mut new_needed: BTreeSet<String> = found
                        .needed
                        .iter()
                        .filter(|n| !all.contains(*n))
                        .cloned()
                        .collect();
                    while !new_needed.is_empty() {
                        let batch = new_needed.clone();
                        all.extend(batch.iter().cloned());
                        for name in &batch {
                            if let Some(dep) = reference.libraries.get(name) {
                                libraries_new.insert(name.clone(), dep.clone());
                                new_needed.extend(dep.needed.iter().cloned());
                            } else {
                                warn!("{name} not found in the tree of `{}`", reference.location);
                            }
                        }
                        new_needed.retain(|n| !all.contains(n));
                    }
                    continue;
                }
                warn!("{soname} not found in the tree of `{}`", reference.location);
            }
            libraries_new.insert(soname.clone(), lib.clone());
        }
        tree.libraries = libraries_new;
    }
}

fn machine_policy(
    policies: &PolicySet,
    trees: &[&ElfTree],
    roots: &[String],
    external_sonames: &BTreeSet<&str>,
    isa_files: &mut Vec<(String, IsaLevel)>,
) -> PolicyId {
    let mut result = policies.highest();
    let mut checked: Vec<(String, Option<String>, Option<IsaLevel>)> = Vec::new();
    for tree in trees.iter().filter(|t| roots.contains(&tree_path(t))) {
        let key = tree_path(tree);
        if checked.iter().any(|(k, _, _)| *k == key) {
            continue;
        }
        checked.push((key, None, tree.info.isa_level));
        for dep in tree.libraries.values() {
            if !external_sonames.contains(dep.soname.as_str()) {
                continue;
            }
            let (Some(real), Some(info)) = (&dep.realpath, &dep.info) else {
                continue;
            };
            let key = real.to_string();
            if checked.iter().any(|(k, _, _)| *k == key) {
                continue;
            }
            checked.push((key, Some(dep.soname.clone()), info.isa_level));
        }
    }
    for (file, soname, level) in checked {
        let Some(level) = level else { continue };
        if policies.arch != Arch::X86_64 {
            continue;
        }
        isa_files.push((file.clone(), level));
        if let Some(soname) = soname {
            let best = (0..policies.policies().len())
                .rev()
                .find(|&id| policies.get(id).whitelist.contains(&soname))
                .unwrap_or(policies.linux());
            if best > policies.linux() {
                result = result.min(best);
                continue;
            }
        }
        warn!("`{file}` requires the {level} instruction set");
        result = policies.linux();
    }
    result
}

/// musl if the root has a musl loader or libc, else glibc.
fn detect_root_libc(env: &SearchEnv) -> Libc {
    let lib = env.root.join("lib");
    let musl = std::fs::read_dir(lib)
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.starts_with("libc.musl-") && n.ends_with(".so.1"))
        });
    if musl { Libc::Musl } else { Libc::Glibc }
}
