//! One wheel on disk, read for auditing: its file name's platform, its ELF files (verified
//! against `RECORD` and analysed in place), and the `show` analysis built on them.
//!
//! The entry point for `wheelwright show` is [`show_wheel`]; `repair` loads wheels through
//! [`load_wheel`] and the checks here too.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::audit::report::ShowReport;
use crate::audit::resolve::SearchEnv;
use crate::audit::{self, AuditError, AuditOptions, WheelElf};
use crate::elf::{self, ElfError, ElfInfo};
use crate::platform::{Arch, Libc, PlatformTag};
use crate::ui;
use crate::wheel::{ArchiveError, Kept, Verification, WheelArchive};

/// Why a wheel could not be read, shown or accepted.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WheelError {
    /// The path is not a file.
    #[error("`{}`: no such file", .0.display())]
    NoSuchFile(PathBuf),
    /// The archive cannot be read or does not match its `RECORD`.
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    /// An ELF file of the wheel does not parse.
    #[error("`{wheel}`: `{path}` is not a valid ELF file")]
    InvalidElf {
        /// The wheel's file name.
        wheel: String,
        /// The file in the wheel.
        path: String,
        /// Why it does not parse.
        source: ElfError,
    },
    /// The wheel does not fit what is asked of it (its platform tags, its files'
    /// architectures, a pure wheel, an abi3 claim), said in one line.
    #[error("`{wheel}`: {reason}")]
    Refused {
        /// The wheel's file name.
        wheel: String,
        /// Why, with the fix where there is one.
        reason: String,
    },
    /// The audit failed.
    #[error("`{wheel}`: {error}")]
    Audit {
        /// The wheel's file name.
        wheel: String,
        /// Why.
        error: AuditError,
    },
}

impl WheelError {
    /// A refusal of `wheel`, for `reason`.
    pub(crate) fn refused(wheel: &str, reason: impl Into<String>) -> Self {
        Self::Refused {
            wheel: wheel.to_owned(),
            reason: reason.into(),
        }
    }
}

/// What a wheel's filename says about its platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FilenamePlatform {
    /// Every platform tag is `any`.
    pub pure: bool,
    /// The one architecture the tags name.
    pub arch: Option<Arch>,
    /// The one libc the tags name (none for `linux_*` tags).
    pub libc: Option<Libc>,
}

/// Reads the architecture and libc from platform tags, like auditwheel's `get_wheel_architecture`
/// and `get_wheel_libc`; a wheel mixing architectures or libcs is an error.
pub(crate) fn filename_platform(
    platform_tags: &[PlatformTag],
) -> std::result::Result<FilenamePlatform, String> {
    let mut arches: Vec<Arch> = Vec::new();
    let mut libcs: Vec<Libc> = Vec::new();
    let mut pure = true;
    let mut unknown = Vec::new();
    for tag in platform_tags {
        if *tag == PlatformTag::Any {
            continue;
        }
        pure = false;
        match tag.suffix_arch() {
            Some(a) => {
                if !arches.contains(&a) {
                    arches.push(a);
                }
            }
            None => unknown.push(tag.to_string()),
        }
        let libc = if tag.is_manylinux() {
            Some(Libc::Glibc)
        } else if tag.is_musl() {
            Some(Libc::Musl)
        } else {
            None
        };
        if let Some(libc) = libc.filter(|l| !libcs.contains(l)) {
            libcs.push(libc);
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
pub(crate) fn check_architectures(
    wheel_name: &str,
    tagged: Option<Arch>,
    elfs: &[WheelElf],
) -> Result<(), WheelError> {
    let mut reference: Option<(Arch, String)> =
        tagged.map(|a| (a, "the wheel is tagged for".to_owned()));
    for elf in elfs {
        let Ok(arch) = elf.info.arch() else { continue };
        match &reference {
            None => reference = Some((arch, format!("`{}` is built for", elf.path))),
            Some((expected, what)) if *expected != arch => {
                return Err(WheelError::refused(
                    wheel_name,
                    format!("`{}` is built for {arch}, but {what} {expected}", elf.path),
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// The musllinux policy from `AUDITWHEEL_PLAT` (set in musllinux images), if it matches `arch`.
#[must_use]
pub(crate) fn musl_policy_from_env(arch: Option<Arch>) -> Option<String> {
    let plat = std::env::var("AUDITWHEEL_PLAT").ok()?;
    let arch = arch?;
    let base = plat.strip_suffix(&format!("_{arch}"))?;
    base.starts_with("musllinux_").then(|| base.to_owned())
}

/// Reads a wheel, checks it against its RECORD and analyses its ELF files (in RECORD order).
pub(crate) fn load_wheel(
    path: &Path,
    verification: Verification,
) -> Result<(WheelArchive, Vec<WheelElf>, HashSet<String>), WheelError> {
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
        let info = result.map_err(|source| WheelError::InvalidElf {
            wheel: wheel_name.clone(),
            path: entry.path.clone(),
            source,
        })?;
        elfs.push(WheelElf {
            path: entry.path.clone(),
            info: Arc::new(info),
        });
    }
    Ok((archive, elfs, files))
}

/// The file name of a wheel path, for messages. Ex) `demo-1.0-py3-none-any.whl`
#[must_use]
pub(crate) fn display_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |f| f.to_string_lossy().into_owned(),
    )
}

/// What `show` is asked to do with one wheel.
#[derive(Debug, Clone, Default)]
pub(crate) struct ShowRequest {
    /// Check sizes only, not the `RECORD` hashes.
    pub no_verify: bool,
    /// Report a pure wheel instead of refusing it.
    pub allow_pure_python_wheel: bool,
    /// Skip the instruction-set extension check.
    pub disable_isa_ext_check: bool,
    /// Skip the abi3 (Limited API) audit.
    pub no_abi3_audit: bool,
}

/// What `show` found in one wheel.
#[derive(Debug)]
pub(crate) enum Shown {
    /// A pure wheel, accepted with [`ShowRequest::allow_pure_python_wheel`].
    Pure {
        /// The wheel's file name.
        wheel: String,
    },
    /// A platform wheel's audit.
    Report(Box<ShowReport>),
}

/// Audits one wheel and explains the tag it can carry (`wheelwright show`).
pub(crate) fn show_wheel(
    path: &Path,
    request: &ShowRequest,
    env: &SearchEnv,
) -> Result<Shown, WheelError> {
    let wheel_name = display_name(path);
    if !path.is_file() {
        return Err(WheelError::NoSuchFile(path.to_path_buf()));
    }
    let verification = if request.no_verify {
        Verification::SizesOnly
    } else {
        Verification::Hashes
    };
    let (archive, elfs, files) = load_wheel(path, verification)?;
    let platform = filename_platform(&archive.filename().platform_tags)
        .map_err(|why| WheelError::refused(&wheel_name, why))?;
    if platform.pure {
        if request.allow_pure_python_wheel {
            return Ok(Shown::Pure { wheel: wheel_name });
        }
        return Err(WheelError::refused(
            &wheel_name,
            "not a platform wheel (its platform tag is `any`); use --allow-pure-python-wheel to accept it",
        ));
    }
    check_architectures(&wheel_name, platform.arch, &elfs)?;
    let options = AuditOptions {
        arch: platform.arch,
        libc: platform.libc,
        musl_policy: musl_policy_from_env(platform.arch),
        disable_isa_ext_check: request.disable_isa_ext_check,
        exclude: Vec::new(),
        allow_graft: false,
        requested: None,
    };
    let audit = audit::audit(&elfs, files, env, &options).map_err(|error| WheelError::Audit {
        wheel: wheel_name.clone(),
        error,
    })?;
    let mut report = ShowReport::new(&wheel_name, &audit);
    if !request.no_abi3_audit {
        report.abi3 = crate::audit::abi3::audit(archive.filename(), &elfs);
    }
    Ok(Shown::Report(Box::new(report)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(list: &[&str]) -> Vec<PlatformTag> {
        list.iter().map(|s| s.parse().expect(s)).collect()
    }

    #[test]
    fn platform_from_tags() {
        let p = filename_platform(&tags(&["manylinux_2_17_x86_64", "manylinux2014_x86_64"]))
            .expect("ok");
        assert_eq!(
            p,
            FilenamePlatform {
                pure: false,
                arch: Some(Arch::X86_64),
                libc: Some(Libc::Glibc)
            }
        );
        let p = filename_platform(&tags(&["linux_i686"])).expect("ok");
        assert_eq!(p.libc, None);
        assert_eq!(p.arch, Some(Arch::I686));
        let p = filename_platform(&tags(&["musllinux_1_2_aarch64"])).expect("ok");
        assert_eq!(p.libc, Some(Libc::Musl));
        assert!(filename_platform(&tags(&["any"])).expect("ok").pure);
        assert!(filename_platform(&tags(&["manylinux1_x86_64", "manylinux1_i686"])).is_err());
        assert!(filename_platform(&tags(&["win_amd64"])).is_err());
    }
}
