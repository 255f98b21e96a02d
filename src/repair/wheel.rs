//! Repairing one wheel file: the library entry point of `wheelwright repair`.
//!
//! [`repair_wheel`] reads the wheel, checks its platform against the request, audits it, plans
//! the repair and applies it (or copies the wheel through when it needs nothing). The caller
//! maps its arguments into a [`Request`] and prints the [`RepairReport`].

use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::audit::resolve::SearchEnv;
use crate::audit::wheel::{
    WheelError, check_architectures, display_name, filename_platform, load_wheel,
    musl_policy_from_env,
};
use crate::audit::{self, AuditOptions};
use crate::platform::{Arch, Libc, PlatformTag};
use crate::repair::apply::{ApplyOptions, apply};
use crate::repair::{RepairError, RepairOptions, plan, requested_policy};
use crate::wheel::Verification;

/// Asks the rpm database under a root which package owns a file, with a query format; `None`
/// when there is no answer. A subprocess, so the caller supplies it.
pub(crate) type RpmOwner<'a> = &'a dyn Fn(&Path, &Path, &str) -> Option<String>;

/// Why a wheel could not be repaired.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RepairWheelError {
    /// The wheel cannot be read or is refused as it is.
    #[error(transparent)]
    Wheel(#[from] WheelError),
    /// An `--exclude` glob does not parse.
    #[error("--exclude `{glob}`: {error}")]
    Exclude {
        /// The glob.
        glob: String,
        /// Why.
        error: glob::PatternError,
    },
    /// The request cannot be met (policy, symbols, libraries).
    #[error("`{wheel}`: {error}")]
    Repair {
        /// The wheel's file name.
        wheel: String,
        /// Why.
        error: RepairError,
    },
    /// Applying the plan failed.
    #[error("cannot repair `{wheel}`")]
    Apply {
        /// The wheel's file name.
        wheel: String,
        /// Why, with its causes.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The output directory cannot take a new file.
    #[error("cannot write in `{}`", .dir.display())]
    WriteIn {
        /// The directory.
        dir: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// An output file cannot be written.
    #[error("cannot write `{}`", .path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A file operation failed (the message names the path).
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// What to repair a wheel to, and how.
pub(crate) struct Request<'a> {
    /// The output directory.
    pub wheel_dir: &'a Path,
    /// `auto`, a platform tag or alias, or a tag without its architecture.
    pub plat: &'a str,
    /// Add only the requested tag, not the best one the wheel can carry.
    pub only_plat: bool,
    /// `--exclude` globs: libraries never grafted.
    pub exclude: &'a [String],
    /// The libs directory suffix. Ex) `.libs`
    pub lib_sdir: &'a str,
    /// The deflate level of the output.
    pub compression_level: Option<i64>,
    /// Keep the file name and `WHEEL` tags.
    pub no_update_tags: bool,
    /// Strip the patched and grafted ELF files.
    pub strip: bool,
    /// Write no SBOM of the grafted libraries.
    pub no_sbom: bool,
    /// Copy a pure wheel through instead of refusing it.
    pub allow_pure_python_wheel: bool,
    /// Skip the abi3 (Limited API) audit.
    pub no_abi3_audit: bool,
    /// Skip the instruction-set extension check.
    pub disable_isa_ext_check: bool,
    /// Where libraries are looked up.
    pub env: &'a SearchEnv,
    /// The rpm owner query (for the SBOM).
    pub rpm_owner: RpmOwner<'a>,
}

/// What one repair did, for `--json` and the summary line.
#[derive(Debug, Serialize)]
pub(crate) struct RepairReport {
    /// Input wheel.
    pub wheel: String,
    /// Output wheel path.
    pub output: String,
    /// Platform tags of the output.
    pub tags: Vec<String>,
    /// `[{soname, source, path}]`.
    pub grafted: Vec<GraftedReport>,
    /// Wheel files that were patched.
    pub patched: Vec<String>,
    /// RPATH entries dropped because they pointed outside the wheel.
    pub dropped_rpath: Vec<String>,
    /// Whether anything but the tags changed.
    pub changed: bool,
    /// Output size in bytes.
    pub size: u64,
    /// The SBOM written into the wheel (`<dist-info>/sboms/wheelwright.cdx.json`), if any.
    pub sbom: Option<String>,
}

/// One grafted library.
#[derive(Debug, Serialize)]
pub(crate) struct GraftedReport {
    /// The `DT_NEEDED` name.
    pub soname: String,
    /// Where it came from.
    pub source: String,
    /// Where it is in the wheel.
    pub path: String,
}

/// The spellings of platform tags.
fn tag_names(tags: &[PlatformTag]) -> Vec<String> {
    tags.iter().map(ToString::to_string).collect()
}

/// `SOURCE_DATE_EPOCH`, when set to a number.
fn source_date_epoch() -> Option<u64> {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse().ok())
}

/// Repairs one wheel into [`Request::wheel_dir`] (`wheelwright repair`): audits it, grafts the
/// libraries its policy does not allow, patches its ELF files and retags it; a wheel that needs
/// nothing is copied unchanged.
pub(crate) fn repair_wheel(
    path: &Path,
    args: &Request<'_>,
) -> Result<RepairReport, RepairWheelError> {
    let env = args.env;
    let wheel_name = display_name(path);
    if !path.is_file() {
        return Err(WheelError::NoSuchFile(path.to_path_buf()).into());
    }
    let (archive, elfs, files) = load_wheel(path, Verification::Hashes)?;
    let platform = filename_platform(&archive.filename().platform_tags)
        .map_err(|why| WheelError::refused(&wheel_name, why))?;
    check_architectures(&wheel_name, platform.arch, &elfs)?;

    // The request: `auto`, a full tag or alias; its architecture must be the wheel's.
    let plat = args.plat.trim().to_owned();
    let (plat_base, plat_arch) = match Arch::split_platform(&plat) {
        Some((base, arch)) => (base.to_owned(), Some(arch)),
        None => (plat.clone(), None),
    };
    if let (Some(want), Some(have)) = (plat_arch, platform.arch) {
        if want != have {
            return Err(WheelError::refused(
                &wheel_name,
                format!("cannot repair a {have} wheel to `{plat}`"),
            )
            .into());
        }
    }
    if platform.pure {
        if args.allow_pure_python_wheel {
            let dest = args.wheel_dir.join(&wheel_name);
            copy_atomically(path, &dest)?;
            return Ok(RepairReport {
                wheel: wheel_name,
                output: dest.display().to_string(),
                tags: tag_names(&archive.filename().platform_tags),
                grafted: Vec::new(),
                patched: Vec::new(),
                dropped_rpath: Vec::new(),
                changed: false,
                size: std::fs::metadata(&dest).map(|m| m.len()).unwrap_or(0),
                sbom: None,
            });
        }
        return Err(WheelError::refused(
            &wheel_name,
            "not a platform wheel (its platform tag is `any`); use --allow-pure-python-wheel to copy it through",
        )
        .into());
    }
    // An abi3 wheel that uses more than the Limited API it claims is refused before anything
    // is written (what cibuildwheel's `abi3audit --strict` does).
    if !args.no_abi3_audit {
        if let Some(abi3) = crate::audit::abi3::audit(archive.filename(), &elfs) {
            if !abi3.ok() {
                let retag = if abi3.computed > abi3.claimed {
                    format!(", tag the wheel for Python {}", abi3.computed)
                } else {
                    String::new()
                };
                return Err(WheelError::refused(
                    &wheel_name,
                    format!(
                        "tagged abi3 for Python {} but {}; build against the Limited API of Python {} (Py_LIMITED_API){retag}, or skip this check with --no-abi3-audit",
                        abi3.claimed,
                        abi3.describe_violations(),
                        abi3.claimed,
                    ),
                )
                .into());
            }
        }
    }
    let mut libc = platform.libc;
    for candidate in [Libc::Glibc, Libc::Musl] {
        if plat_base.starts_with(candidate.tag_prefix()) {
            match libc {
                None => libc = Some(candidate),
                Some(l) if l != candidate => {
                    return Err(WheelError::refused(
                        &wheel_name,
                        format!("cannot repair a {l} wheel to `{plat}`"),
                    )
                    .into());
                }
                Some(_) => {}
            }
        }
    }
    let arch = platform.arch.or(plat_arch);
    let musl_policy = if plat_base.starts_with("musllinux_") {
        Some(plat_base.clone())
    } else {
        musl_policy_from_env(arch)
    };
    let exclude = args
        .exclude
        .iter()
        .map(|g| {
            glob::Pattern::new(g).map_err(|error| RepairWheelError::Exclude {
                glob: g.clone(),
                error,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let options = AuditOptions {
        arch,
        libc,
        musl_policy,
        disable_isa_ext_check: args.disable_isa_ext_check,
        exclude,
        allow_graft: true,
        requested: Some(plat_base.clone()),
    };
    let audit = audit::audit(&elfs, files, env, &options).map_err(|error| WheelError::Audit {
        wheel: wheel_name.clone(),
        error,
    })?;
    let plat_full = if plat_base == "auto" {
        "auto".to_owned()
    } else {
        format!("{plat_base}_{}", audit.policies.arch)
    };
    let requested =
        requested_policy(&audit, &plat_full).map_err(|error| RepairWheelError::Repair {
            wheel: wheel_name.clone(),
            error,
        })?;
    let repair_options = RepairOptions {
        only_plat: args.only_plat,
        lib_sdir: args.lib_sdir.to_owned(),
        no_update_tags: args.no_update_tags,
        strip: args.strip,
    };
    let root = env.root.clone();
    let the_plan = plan(
        &audit,
        requested,
        archive.filename(),
        archive.wheel_info(),
        &repair_options,
        |inside| root.join(inside.strip_prefix("/").unwrap_or(inside)),
    )
    .map_err(|error| RepairWheelError::Repair {
        wheel: wheel_name.clone(),
        error,
    })?;

    fs_err::create_dir_all(args.wheel_dir)?;
    let unchanged = !the_plan.changes_files()
        && the_plan.filename == *archive.filename()
        && the_plan.wheel_info == *archive.wheel_info();
    let mut sbom_path = None;
    let (output, size) = if unchanged {
        let dest = args.wheel_dir.join(&wheel_name);
        copy_atomically(path, &dest)?;
        let size = std::fs::metadata(&dest).map(|m| m.len()).unwrap_or(0);
        (dest, size)
    } else {
        // The SBOM names the libraries grafted in, with the package owning each file where the
        // root has a package database.
        let sbom = (!args.no_sbom && !the_plan.grafts.is_empty()).then(|| {
            let sources: Vec<std::path::PathBuf> = the_plan
                .grafts
                .iter()
                .map(|g| std::path::PathBuf::from(g.source.to_string()))
                .collect();
            let owners = package_owners(&env.root, &sources, args.rpm_owner);
            crate::repair::sbom::document(
                &the_plan.filename.to_string(),
                &the_plan.filename.name,
                &the_plan.filename.version,
                &the_plan.grafts,
                &owners,
            )
        });
        sbom_path = sbom.as_ref().map(|_| {
            format!(
                "{}/sboms/{}",
                archive.dist_info_dir(),
                crate::repair::sbom::SBOM_FILE
            )
        });
        let outcome = apply(
            &archive,
            &the_plan,
            &ApplyOptions {
                out_dir: args.wheel_dir.to_path_buf(),
                root: env.root.clone(),
                compression_level: args.compression_level,
                source_date_epoch: source_date_epoch(),
                sbom,
            },
        )
        .map_err(|error| RepairWheelError::Apply {
            wheel: wheel_name.clone(),
            source: error.into(),
        })?;
        (outcome.path, outcome.size)
    };
    Ok(RepairReport {
        wheel: wheel_name,
        output: output.display().to_string(),
        tags: tag_names(&the_plan.filename.platform_tags),
        grafted: the_plan
            .grafts
            .iter()
            .map(|g| GraftedReport {
                soname: g.soname.clone(),
                source: g.source.to_string(),
                path: g.path.clone(),
            })
            .collect(),
        patched: the_plan.edits.iter().map(|e| e.path.clone()).collect(),
        dropped_rpath: the_plan
            .edits
            .iter()
            .flat_map(|e| e.dropped_rpath.iter().cloned())
            .collect(),
        changed: !unchanged,
        size,
        sbom: sbom_path,
    })
}

/// The package owning each grafted file: dpkg's and apk's databases are read under `root`; for
/// an rpm database the `rpm` program is asked (when it exists).
fn package_owners(
    root: &Path,
    sources: &[std::path::PathBuf],
    rpm_owner: RpmOwner<'_>,
) -> Vec<Option<crate::repair::sbom::Owner>> {
    use crate::repair::sbom::{PackageDb, RPM_QUERY_FORMAT};
    let db = PackageDb::open(root);
    let mut owners = db.owners(&sources.iter().map(|p| p.as_path()).collect::<Vec<_>>());
    if db.has_rpm_db() {
        for (slot, path) in owners.iter_mut().zip(sources) {
            if slot.is_some() {
                continue;
            }
            if let Some(answer) = rpm_owner(root, path, RPM_QUERY_FORMAT) {
                *slot = db.rpm_owner(&answer);
            }
        }
    }
    owners
}

/// Copies a file to `dest` through a temporary file in the same directory.
fn copy_atomically(source: &Path, dest: &Path) -> Result<(), RepairWheelError> {
    if let (Ok(a), Ok(b)) = (std::fs::canonicalize(source), std::fs::canonicalize(dest)) {
        if a == b {
            return Ok(());
        }
    }
    let dir = dest.parent().unwrap_or(Path::new("."));
    fs_err::create_dir_all(dir)?;
    let mut temp = crate::scratch::file_in(dir, ".whl.part", 0o666).map_err(|source| {
        RepairWheelError::WriteIn {
            dir: dir.to_path_buf(),
            source,
        }
    })?;
    let write = |source| RepairWheelError::Write {
        path: dest.to_path_buf(),
        source,
    };
    let mut input = fs_err::File::open(source)?;
    std::io::copy(&mut input, &mut temp).map_err(write)?;
    // The copy keeps the input's mode (the temporary file was created `rw-------`).
    crate::wheel::mode::set_mode(temp.as_file(), crate::wheel::mode::mode_of(source))
        .map_err(write)?;
    temp.as_file().sync_all().map_err(write)?;
    temp.persist(dest).map_err(|e| write(e.error))?;
    Ok(())
}
