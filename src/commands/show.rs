//! `wheelwright show`: audit wheels and explain the tag they can carry.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};

use crate::audit::policy::Libc;
use crate::audit::report::ShowReport;
use crate::audit::resolve::SearchEnv;
use crate::audit::{self, AuditOptions, WheelElf};
use crate::cli::ShowArgs;
use crate::elf::{self, ElfArch, ElfError, ElfInfo};
use crate::ui;
use crate::wheel::{Kept, Verification, WheelArchive};

/// What a wheel's filename says about its platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilenamePlatform {
    pub pure: bool,
    pub arch: Option<ElfArch>,
    pub libc: Option<Libc>,
}

/// Reads the architecture and libc from platform tags, like auditwheel's `get_wheel_architecture`
/// and `get_wheel_libc`; a wheel mixing architectures or libcs is an error.
pub fn filename_platform(
    platform_tags: &[String],
) -> std::result::Result<FilenamePlatform, String> {
    let mut arches: Vec<ElfArch> = Vec::new();
    let mut libcs: Vec<Libc> = Vec::new();
    let mut pure = true;
    let mut unknown = Vec::new();
    for tag in platform_tags {
        if tag == "any" {
            continue;
        }
        pure = false;
        match ElfArch::ALL
            .iter()
            .find(|a| tag.ends_with(&format!("_{}", a.as_str())))
        {
            Some(a) => {
                if !arches.contains(a) {
                    arches.push(*a);
                }
            }
            None => unknown.push(tag.clone()),
        }
        for libc in [Libc::Glibc, Libc::Musl] {
            if tag.starts_with(libc.tag_prefix()) && !libcs.contains(&libc) {
                libcs.push(libc);
            }
        }
    }
    if pure {
        return Ok(FilenamePlatform {
            pure: true,
            arch: None,
            libc: None,
        });
    }
    if !unknown.is_empty() {
        return Err(format!(
            "unknown architecture in platform tag `{}`",
            unknown.join("`, `")
        ));
    }
    if arches.len() > 1 {
        let names: Vec<&str> = arches.iter().map(|a| a.as_str()).collect();
        return Err(format!(
            "the platform tags name several architectures ({})",
            names.join(", ")
        ));
    }
    if libcs.len() > 1 {
        return Err("the platform tags name both manylinux and musllinux".to_owned());
    }
    Ok(FilenamePlatform {
        pure: false,
        arch: arches.first().copied(),
        libc: libcs.first().copied(),
    })
}

/// Every ELF file must be built for the wheel's architecture: the one its platform tags name, or
/// (for tags without one) the first ELF file's.
pub fn check_architectures(
    wheel_name: &str,
    tagged: Option<ElfArch>,
    elfs: &[WheelElf],
) -> Result<()> {
    let mut reference: Option<(ElfArch, String)> =
        tagged.map(|a| (a, "the wheel is tagged for".to_owned()));
    for elf in elfs {
        let Ok(arch) = elf.info.arch() else { continue };
        match &reference {
            None => reference = Some((arch, format!("`{}` is built for", elf.path))),
            Some((expected, what)) if *expected != arch => {
                bail!(
                    "`{wheel_name}`: `{}` is built for {arch}, but {what} {expected}",
                    elf.path
                );
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// The musllinux policy from `AUDITWHEEL_PLAT` (set in musllinux images), if it matches `arch`.
pub fn musl_policy_from_env(arch: Option<ElfArch>) -> Option<String> {
    let plat = std::env::var("AUDITWHEEL_PLAT").ok()?;
    let arch = arch?;
    let base = plat.strip_suffix(&format!("_{arch}"))?;
    base.starts_with("musllinux_").then(|| base.to_owned())
}

/// Reads a wheel, checks it against its RECORD and analyses its ELF files (in RECORD order).
pub fn load_wheel(
    path: &Path,
    verification: Verification,
) -> Result<(WheelArchive, Vec<WheelElf>, HashSet<String>)> {
    let archive = WheelArchive::open(path)?;
    let wheel_name = display_name(path);
    if let Some(warning) = archive.wheel_info().version_warning() {
        ui::message(&format!("warning: `{wheel_name}`: {warning}"));
    }
    // Each ELF file is analysed on the thread that inflated and verified it; its bytes are
    // dropped right after, so memory stays bounded by the threads' buffers.
    let analysed = archive.verify_and_visit(
        verification,
        |_, prefix| elf::is_elf(prefix),
        |_, kept| match kept {
            Kept::Memory(data) => elf::analyze(&data),
            Kept::File(file) => elf::analyze_file(&file),
        },
    )?;
    let mut by_name: HashMap<String, Result<ElfInfo, ElfError>> = HashMap::new();
    for (index, result) in analysed {
        if let Some(entry) = archive.entries().get(index) {
            by_name.insert(entry.name.clone(), result);
        }
    }
    let files: HashSet<String> = archive
        .entries()
        .iter()
        .filter(|e| !e.is_dir)
        .map(|e| e.name.clone())
        .collect();
    let mut elfs = Vec::new();
    for entry in &archive.record().entries {
        let Some(result) = by_name.remove(&entry.path) else {
            continue;
        };
        let info = result
            .with_context(|| format!("`{wheel_name}`: `{}` is not a valid ELF file", entry.path))?;
        elfs.push(WheelElf {
            path: entry.path.clone(),
            info: Arc::new(info),
        });
    }
    Ok((archive, elfs, files))
}

pub fn display_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |f| f.to_string_lossy().into_owned(),
    )
}

fn show_one(path: &Path, args: &ShowArgs, env: &SearchEnv) -> Result<String> {
    let wheel_name = display_name(path);
    if !path.is_file() {
        bail!("`{}`: no such file", path.display());
    }
    let verification = if args.no_verify {
        Verification::SizesOnly
    } else {
        Verification::Hashes
    };
    let (archive, elfs, files) = load_wheel(path, verification)?;
    let platform = filename_platform(&archive.filename().platform_tags)
        .map_err(|why| anyhow::anyhow!("`{wheel_name}`: {why}"))?;
    if platform.pure {
        if args.allow_pure_python_wheel {
            return Ok(if args.json {
                format!(
                    "{}\n",
                    serde_json::json!({"version": 1, "wheel": wheel_name, "pure": true})
                )
            } else {
                format!("{wheel_name}\n  pure Python wheel: no platform tag needed\n")
            });
        }
        bail!(
            "`{wheel_name}`: not a platform wheel (its platform tag is `any`); use --allow-pure-python-wheel to accept it"
        );
    }
    check_architectures(&wheel_name, platform.arch, &elfs)?;
    let options = AuditOptions {
        arch: platform.arch,
        libc: platform.libc,
        musl_policy: musl_policy_from_env(platform.arch),
        disable_isa_ext_check: args.resolve.disable_isa_ext_check,
        exclude: Vec::new(),
        allow_graft: false,
        requested: None,
    };
    let audit = audit::audit(&elfs, files, env, &options)
        .map_err(|e| anyhow::anyhow!("`{wheel_name}`: {e}"))?;
    let mut report = ShowReport::new(&wheel_name, &audit);
    if !args.resolve.no_abi3_audit {
        report.abi3 = crate::audit::abi3::audit(archive.filename(), &elfs);
    }
    Ok(if args.json {
        let mut line = serde_json::to_string(&report).context("serialising the report")?;
        line.push('\n');
        line
    } else {
        report.render()
    })
}

/// The library search environment from the shared resolution options.
pub fn search_env(args: &crate::cli::ResolveArgs) -> Result<SearchEnv> {
    if let Some(root) = &args.root {
        if !root.is_dir() {
            bail!("--root `{}` is not a directory", root.display());
        }
    }
    Ok(SearchEnv::from_env(
        args.root.as_deref(),
        args.resolver,
        args.ldpaths.as_deref(),
    ))
}

/// Runs `wheelwright show`.
pub fn run(args: &ShowArgs) -> Result<ExitCode> {
    let env = search_env(&args.resolve)?;
    let mut failed = false;
    for (i, path) in args.wheels.iter().enumerate() {
        match show_one(path, args, &env) {
            Ok(text) => {
                if i > 0 && !args.json {
                    ui::data("\n");
                }
                ui::data(&text);
            }
            Err(err) => {
                ui::error(&format!("{err:#}"));
                failed = true;
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn platform_from_tags() {
        let p = filename_platform(&tags(&["manylinux_2_17_x86_64", "manylinux2014_x86_64"]))
            .expect("ok");
        assert_eq!(
            p,
            FilenamePlatform {
                pure: false,
                arch: Some(ElfArch::X86_64),
                libc: Some(Libc::Glibc)
            }
        );
        let p = filename_platform(&tags(&["linux_i686"])).expect("ok");
        assert_eq!(p.libc, None);
        assert_eq!(p.arch, Some(ElfArch::I686));
        let p = filename_platform(&tags(&["musllinux_1_2_aarch64"])).expect("ok");
        assert_eq!(p.libc, Some(Libc::Musl));
        assert!(filename_platform(&tags(&["any"])).expect("ok").pure);
        assert!(filename_platform(&tags(&["manylinux1_x86_64", "manylinux1_i686"])).is_err());
        assert!(filename_platform(&tags(&["win_amd64"])).is_err());
    }
}
