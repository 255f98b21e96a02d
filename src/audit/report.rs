//! The audit report: a stable JSON document and the human rendering of `wheelwright show`.
//!
//! The JSON object is a superset of `auditwheel show --json` (format version 1): the fields
//! `version`, `wheel`, `pure`, `overall_tag`, `sym_tag`, `pyfpe`, `ucs2`, `unsupported_isa`,
//! `versioned_symbols`, `external_libs` and `policy_upgrades` mean exactly what they mean there;
//! wheelwright adds `arch`, `libc`, `tags`, `constraints`, `too_new_symbols`, `isa` and
//! `elf_files`. The schema is documented in `docs/show-json.md`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::audit::resolve::{FoundVia, Location};
use crate::audit::{Audit, SymbolVersionUse};

/// A `policy_upgrades` entry: what stands between the wheel and a better tag.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct PolicyUpgrade {
    /// Libraries that would have to be grafted or removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub libs_to_eliminate: Option<Vec<String>>,
    /// Blacklisted symbols per library.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blacklisted_symbols: Option<BTreeMap<String, Vec<String>>>,
}

/// Which policy each check allows.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct Constraints {
    /// Best tag by symbol versions (including those of libraries that would be grafted).
    pub symbol_versions: String,
    /// Best tag without external libraries.
    pub external_libraries: String,
    /// Best tag without blacklisted symbols.
    pub blacklisted_symbols: String,
    /// Best tag by instruction-set level.
    pub isa: String,
    /// Best tag by the UCS2 check.
    pub ucs2: String,
    /// Best tag by the PyFPE check.
    pub pyfpe: String,
}

/// A symbol version that keeps the wheel from the next more compatible tag.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct TooNewSymbol {
    /// The version. Ex) `GLIBC_2.34`
    pub version: String,
    /// The library providing it. Ex) `libc.so.6`
    pub library: String,
    /// The ELF file needing it.
    pub file: String,
    /// Symbols bound to the version.
    pub symbols: Vec<String>,
    /// The more compatible tag it blocks.
    pub blocks: String,
}

/// One dependency as reported.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct ReportedLibrary {
    /// `DT_NEEDED` name.
    pub soname: String,
    /// The file it resolved to (links followed), if found.
    pub path: Option<String>,
    /// Whether the file is inside the wheel.
    pub internal: bool,
    /// How it was found.
    pub found_via: Option<FoundVia>,
}

/// One ELF file of the wheel.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct ReportedElf {
    /// Path inside the wheel.
    pub path: String,
    /// Whether it defines a Python module initialiser.
    pub python_extension: bool,
    /// Whether it counts as a root of the dependency forest.
    pub root: bool,
    /// `DT_NEEDED`.
    pub needed: Vec<String>,
    /// `DT_RPATH`.
    pub rpath: Option<String>,
    /// `DT_RUNPATH`.
    pub runpath: Option<String>,
    /// Every library reached from this file.
    pub libraries: Vec<ReportedLibrary>,
}

/// A file that needs more than baseline x86-64.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct IsaUse {
    /// The file.
    pub file: String,
    /// Ex) `x86_64_v3`
    pub level: crate::elf::IsaLevel,
}

/// The `show` document.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct ShowReport {
    /// Format version (1).
    pub version: u32,
    /// Wheel file name.
    pub wheel: String,
    /// Always `false` here (pure wheels are reported by the caller).
    pub pure: bool,
    /// The tag the wheel is consistent with.
    pub overall_tag: String,
    /// The tag symbol versions allow.
    pub sym_tag: String,
    /// Whether `PyFPE_jbuf` is used.
    pub pyfpe: bool,
    /// Whether UCS2 symbols are used.
    pub ucs2: bool,
    /// Whether an unsupported ISA extension is needed.
    pub unsupported_isa: bool,
    /// `{soname: [versions]}`.
    pub versioned_symbols: BTreeMap<String, Vec<String>>,
    /// External libraries for the most compatible policy: `{soname: path or null}`.
    pub external_libs: BTreeMap<String, Option<String>>,
    /// Per more compatible policy, what would have to go.
    pub policy_upgrades: BTreeMap<String, PolicyUpgrade>,
    /// The wheel's architecture.
    pub arch: String,
    /// `glibc` or `musl`.
    pub libc: String,
    /// `overall_tag` and its aliases.
    pub tags: Vec<String>,
    /// Which tag each check allows.
    pub constraints: Constraints,
    /// Versions that block the next more compatible tag, with their symbols.
    pub too_new_symbols: Vec<TooNewSymbol>,
    /// Files that need more than baseline x86-64.
    pub isa: Vec<IsaUse>,
    /// Every ELF file analysed.
    pub elf_files: Vec<ReportedElf>,
    /// External library names that resolve to different files for different ELF files of the
    /// wheel; `repair` grafts one copy of each file under its own hashed name.
    pub same_soname: Vec<crate::audit::SameSoname>,
    /// The abi3 audit of a `cpXY-abi3` wheel (absent for other wheels or with
    /// `--no-abi3-audit`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abi3: Option<crate::audit::abi3::Abi3Report>,
}

impl ShowReport {
    /// Builds the report for `wheel` from an audit.
    #[must_use]
    pub(crate) fn new(wheel: &str, audit: &Audit) -> Self {
        let policies = &audit.policies;
        let name = |id| policies.get(id).name.clone();
        let highest = policies.highest();
        let overall = audit.overall_policy;

        let external_libs = audit.external_refs[highest]
            .libs
            .iter()
            .map(|(k, v)| (k.clone(), v.as_ref().map(Location::to_string)))
            .collect();

        let mut policy_upgrades = BTreeMap::new();
        for id in (overall + 1)..policies.policies().len() {
            let reference = &audit.external_refs[id];
            let libs = (!reference.libs.is_empty())
                .then(|| reference.libs.keys().cloned().collect::<Vec<_>>());
            let blacklisted = (!reference.blacklist.is_empty()).then(|| {
                reference
                    .blacklist
                    .iter()
                    .map(|(k, v)| (k.clone(), v.iter().cloned().collect()))
                    .collect()
            });
            if libs.is_some() || blacklisted.is_some() {
                policy_upgrades.insert(
                    name(id),
                    PolicyUpgrade {
                        libs_to_eliminate: libs,
                        blacklisted_symbols: blacklisted,
                    },
                );
            }
        }

        let mut too_new_symbols = Vec::new();
        if audit.sym_policy < highest {
            let next = audit.sym_policy + 1;
            let required = crate::audit::policy::required_by_prefix(&audit.versioned_symbols);
            let blocked = policies.blocking_versions(next, &required);
            let mut seen: Vec<&SymbolVersionUse> = Vec::new();
            for usage in &audit.version_uses {
                if blocked.contains(&usage.version)
                    && audit
                        .versioned_symbols
                        .get(&usage.library)
                        .is_some_and(|v| v.contains(&usage.version))
                    && !seen.contains(&usage)
                {
                    seen.push(usage);
                    too_new_symbols.push(TooNewSymbol {
                        version: usage.version.clone(),
                        library: usage.library.clone(),
                        file: usage.file.clone(),
                        symbols: usage.symbols.clone(),
                        blocks: name(next),
                    });
                }
            }
        }

        let elf_files = audit
            .trees
            .iter()
            .map(|tree| {
                let path = tree.location.to_string();
                let module = tree
                    .location
                    .file_name()
                    .split('.')
                    .next()
                    .unwrap_or_default();
                ReportedElf {
                    root: audit.roots.contains(&path),
                    path,
                    python_extension: tree.info.python_extension_version(module).is_some(),
                    needed: tree.info.needed.clone(),
                    rpath: tree.info.rpath.clone(),
                    runpath: tree.info.runpath.clone(),
                    libraries: tree
                        .libraries
                        .values()
                        .map(|lib| ReportedLibrary {
                            soname: lib.soname.clone(),
                            path: lib.realpath.as_ref().map(Location::to_string),
                            internal: lib.realpath.as_ref().is_some_and(Location::is_internal),
                            found_via: lib.found_via.clone(),
                        })
                        .collect(),
                }
            })
            .collect();

        ShowReport {
            version: 1,
            wheel: wheel.to_owned(),
            pure: false,
            overall_tag: name(overall),
            sym_tag: name(audit.sym_policy),
            pyfpe: audit.pyfpe_policy == policies.linux(),
            ucs2: audit.ucs_policy == policies.linux(),
            unsupported_isa: audit.machine_policy == policies.linux(),
            versioned_symbols: audit
                .versioned_symbols
                .iter()
                .map(|(k, v)| (k.clone(), v.iter().cloned().collect()))
                .collect(),
            external_libs,
            policy_upgrades,
            arch: policies.arch.to_string(),
            libc: policies.libc.to_string(),
            tags: policies.get(overall).tags().map(str::to_owned).collect(),
            constraints: Constraints {
                symbol_versions: name(audit.sym_policy),
                external_libraries: name(audit.ref_policy),
                blacklisted_symbols: name(audit.blacklist_policy),
                isa: name(audit.machine_policy),
                ucs2: name(audit.ucs_policy),
                pyfpe: name(audit.pyfpe_policy),
            },
            too_new_symbols,
            isa: audit
                .isa_files
                .iter()
                .map(|(file, level)| IsaUse {
                    file: file.clone(),
                    level: *level,
                })
                .collect(),
            elf_files,
            same_soname: audit.same_soname.clone(),
            abi3: None,
        }
    }

    /// The human-readable rendering.
    #[must_use]
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}", self.wheel);
        let aliases: Vec<&str> = self.tags.iter().skip(1).map(String::as_str).collect();
        let alias_note = if aliases.is_empty() {
            String::new()
        } else {
            format!(" (also {})", aliases.join(", "))
        };
        let _ = writeln!(out, "  platform tag:  {}{alias_note}", self.overall_tag);
        let roots = self.elf_files.iter().filter(|e| e.python_extension).count();
        let _ = writeln!(
            out,
            "  contents:      {} ELF file(s) for {} ({}), {roots} Python extension(s)",
            self.elf_files.len(),
            self.arch,
            self.libc
        );

        let c = &self.constraints;
        let _ = writeln!(out, "  limits:");
        let _ = writeln!(out, "    symbol versions      {}", c.symbol_versions);
        let _ = writeln!(out, "    external libraries   {}", c.external_libraries);
        if c.blacklisted_symbols != c.symbol_versions
            || self
                .policy_upgrades
                .values()
                .any(|u| u.blacklisted_symbols.is_some())
        {
            let _ = writeln!(out, "    blacklisted symbols  {}", c.blacklisted_symbols);
        }
        let _ = writeln!(out, "    instruction set      {}", c.isa);
        if self.ucs2 {
            let _ = writeln!(
                out,
                "    UCS2 (narrow unicode) build: not allowed by any manylinux/musllinux tag"
            );
        }
        if self.pyfpe {
            let _ = writeln!(
                out,
                "    uses PyFPE_jbuf: not allowed by any manylinux/musllinux tag"
            );
        }

        if !self.versioned_symbols.is_empty() {
            let _ = writeln!(out, "  versioned symbols:");
            for (lib, versions) in &self.versioned_symbols {
                let _ = writeln!(out, "    {lib}: {}", versions.join(", "));
            }
        }

        if !self.too_new_symbols.is_empty() {
            let blocks = &self.too_new_symbols[0].blocks;
            let _ = writeln!(out, "  symbol versions that rule out `{blocks}`:");
            // One line per version: the symbols bound to it, then the files that need it.
            let mut groups: Vec<(&str, &str, Vec<&str>, Vec<&str>)> = Vec::new();
            for s in &self.too_new_symbols {
                let index = match groups
                    .iter()
                    .position(|g| g.0 == s.version && g.1 == s.library)
                {
                    Some(i) => i,
                    None => {
                        groups.push((&s.version, &s.library, Vec::new(), Vec::new()));
                        groups.len() - 1
                    }
                };
                let group = &mut groups[index];
                for symbol in &s.symbols {
                    if !group.2.contains(&symbol.as_str()) {
                        group.2.push(symbol);
                    }
                }
                group.3.push(&s.file);
            }
            for (version, library, symbols, files) in groups {
                let symbols = if symbols.is_empty() {
                    "no symbol bound to it".to_owned()
                } else {
                    abbreviate(&symbols, 6, |s| format!("`{s}`"))
                };
                let _ = writeln!(out, "    {version} ({library}): {symbols}");
                let _ = writeln!(
                    out,
                    "      needed by {}",
                    abbreviate(&files, 3, |f| format!("`{f}`"))
                );
            }
            let _ = writeln!(
                out,
                "    hint: rebuild in an older image (an older glibc) to reach `{blocks}`"
            );
        }

        let external: Vec<(&String, &Option<String>)> = self.external_libs.iter().collect();
        if external.is_empty() {
            let _ = writeln!(
                out,
                "  external libraries: none needed outside the policy whitelist"
            );
        } else {
            let _ = writeln!(
                out,
                "  external libraries (outside every policy whitelist):"
            );
            for (soname, path) in external {
                let via = self.via_for(soname);
                let users = self.users_of(soname);
                match path {
                    Some(path) => {
                        let _ = writeln!(out, "    {soname} => {path}{via}");
                    }
                    None => {
                        let _ = writeln!(out, "    {soname} => not found");
                    }
                }
                if !users.is_empty() {
                    let _ = writeln!(out, "      needed by {}", users.join(", "));
                }
            }
            let _ = writeln!(
                out,
                "    hint: `wheelwright repair` grafts these libraries into the wheel"
            );
        }
        for same in &self.same_soname {
            let _ = writeln!(
                out,
                "  `{}` resolves to {} different files: {}",
                same.soname,
                same.libraries.len(),
                abbreviate(
                    &same
                        .libraries
                        .iter()
                        .map(String::as_str)
                        .collect::<Vec<_>>(),
                    4,
                    |f| format!("`{f}`")
                )
            );
            let _ = writeln!(
                out,
                "    repair grafts each one under its own hashed name; every file that needs `{}` gets the copy it resolved to",
                same.soname
            );
        }
        for isa in &self.isa {
            let _ = writeln!(out, "  `{}` requires {}", isa.file, isa.level);
        }
        if let Some(abi3) = &self.abi3 {
            render_abi3(&mut out, abi3);
        }
        out
    }

    fn via_for(&self, soname: &str) -> String {
        for elf in &self.elf_files {
            for lib in &elf.libraries {
                if lib.soname == soname {
                    return match &lib.found_via {
                        Some(FoundVia::Rpath { owner, entry }) => {
                            format!(" (RPATH `{entry}` of {owner})")
                        }
                        Some(FoundVia::Runpath { owner, entry }) => {
                            format!(" (RUNPATH `{entry}` of {owner})")
                        }
                        Some(FoundVia::LdLibraryPath) => " (LD_LIBRARY_PATH)".to_owned(),
                        Some(FoundVia::LdSoConf) => " (ld.so.conf)".to_owned(),
                        Some(FoundVia::DefaultDir) => " (default directory)".to_owned(),
                        Some(FoundVia::Interpreter) => " (interpreter directory)".to_owned(),
                        None => String::new(),
                    };
                }
            }
        }
        String::new()
    }

    fn users_of(&self, soname: &str) -> Vec<String> {
        self.elf_files
            .iter()
            .filter(|e| e.needed.iter().any(|n| n == soname))
            .map(|e| format!("`{}`", e.path))
            .collect()
    }
}

/// The abi3 section of the human report.
fn render_abi3(out: &mut String, abi3: &crate::audit::abi3::Abi3Report) {
    let files = abi3.files.len();
    if abi3.ok() {
        let _ = writeln!(
            out,
            "  abi3: {files} file(s) use only the Limited API of Python {}",
            abi3.claimed
        );
        return;
    }
    let _ = writeln!(
        out,
        "  abi3: tagged for Python {} and later, but the extensions break that promise:",
        abi3.claimed
    );
    for file in abi3.files.iter().filter(|f| !f.ok()) {
        let _ = writeln!(out, "    `{}`:", file.path);
        for newer in &file.newer_symbols {
            let _ = writeln!(
                out,
                "      `{}` is in the Limited API from Python {} only",
                newer.symbol, newer.added
            );
        }
        let names: Vec<&str> = file.non_abi3_symbols.iter().map(String::as_str).collect();
        if !names.is_empty() {
            let _ = writeln!(
                out,
                "      not in the Limited API: {}",
                abbreviate(&names, 8, |s| format!("`{s}`"))
            );
        }
    }
    let _ = writeln!(
        out,
        "    hint: build with `Py_LIMITED_API` set for Python {} and use only what it declares",
        abi3.claimed
    );
    if abi3.computed > abi3.claimed {
        let _ = writeln!(
            out,
            "    hint: or tag the wheel `cp{}{}-abi3` if it needs Python {} anyway",
            abi3.computed.major, abi3.computed.minor, abi3.computed
        );
    }
}

/// Joins at most `max` items, then `(+N more)`.
fn abbreviate(items: &[&str], max: usize, show: impl Fn(&str) -> String) -> String {
    let mut text: Vec<String> = items.iter().take(max).map(|i| show(i)).collect();
    if items.len() > max {
        text.push(format!("(+{} more)", items.len() - max));
    }
    text.join(", ")
}
