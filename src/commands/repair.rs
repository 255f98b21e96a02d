//! `wheelwright repair`: graft external libraries, patch ELF files natively, retag.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, Result, anyhow, bail};
use serde::Serialize;

use crate::audit::resolve::SearchEnv;
use crate::audit::{self, AuditOptions};
use crate::cli::RepairArgs;
use crate::commands::show::{
    check_architectures, display_name, filename_platform, load_wheel, musl_policy_from_env,
    search_env,
};
use crate::elf::ElfArch;
use crate::repair::apply::{ApplyOptions, apply};
use crate::repair::{RepairOptions, plan, requested_policy};
use crate::ui;
use crate::wheel::Verification;

/// What one repair did, for `--json` and the summary line.
#[derive(Debug, Serialize)]
pub struct RepairReport {
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
pub struct GraftedReport {
    /// The `DT_NEEDED` name.
    pub soname: String,
    /// Where it came from.
    pub source: String,
    /// Where it is in the wheel.
    pub path: String,
}

fn source_date_epoch() -> Option<u64> {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse().ok())
}

fn repair_one(path: &Path, args: &RepairArgs, env: &SearchEnv) -> Result<RepairReport> {
    let wheel_name = display_name(path);
    if !path.is_file() {
        bail!("`{}`: no such file", path.display());
    }
    let (archive, elfs, files) = load_wheel(path, Verification::Hashes)?;
    let platform = filename_platform(&archive.filename().platform_tags)
        .map_err(|why| anyhow!("`{wheel_name}`: {why}"))?;
    check_architectures(&wheel_name, platform.arch, &elfs)?;

    // The request: `auto`, a full tag or alias; its architecture must be the wheel's.
    let plat = args.plat.trim().to_owned();
    let (plat_base, plat_arch) = match ElfArch::ALL
        .iter()
        .find(|a| plat.ends_with(&format!("_{}", a.as_str())))
    {
        Some(a) => (
            plat[..plat.len() - a.as_str().len() - 1].to_owned(),
            Some(*a),
        ),
        None => (plat.clone(), None),
    };
    if let (Some(want), Some(have)) = (plat_arch, platform.arch) {
        if want != have {
            bail!("`{wheel_name}`: cannot repair a {have} wheel to `{plat}`");
        }
    }
    if platform.pure {
        if args.allow_pure_python_wheel {
            let dest = args.wheel_dir.join(&wheel_name);
            copy_atomically(path, &dest)?;
            return Ok(RepairReport {
                wheel: wheel_name,
                output: dest.display().to_string(),
                tags: archive.filename().platform_tags.clone(),
                grafted: Vec::new(),
                patched: Vec::new(),
                dropped_rpath: Vec::new(),
                changed: false,
                size: std::fs::metadata(&dest).map(|m| m.len()).unwrap_or(0),
                sbom: None,
            });
        }
        bail!(
            "`{wheel_name}`: not a platform wheel (its platform tag is `any`); use --allow-pure-python-wheel to copy it through"
        );
    }
    // An abi3 wheel that uses more than the Limited API it claims is refused before anything
    // is written (what cibuildwheel's `abi3audit --strict` does).
    if !args.resolve.no_abi3_audit {
        if let Some(abi3) = crate::audit::abi3::audit(archive.filename(), &elfs) {
            if !abi3.ok() {
                let retag = if abi3.computed > abi3.claimed {
                    format!(", tag the wheel for Python {}", abi3.computed)
                } else {
                    String::new()
                };
                bail!(
                    "`{wheel_name}`: tagged abi3 for Python {} but {}; build against the Limited API of Python {} (Py_LIMITED_API){retag}, or skip this check with --no-abi3-audit",
                    abi3.claimed,
                    abi3.describe_violations(),
                    abi3.claimed,
                );
            }
        }
    }
    let mut libc = platform.libc;
    for candidate in [
        crate::audit::policy::Libc::Glibc,
        crate::audit::policy::Libc::Musl,
    ] {
        if plat_base.starts_with(candidate.tag_prefix()) {
            match libc {
                None => libc = Some(candidate),
                Some(l) if l != candidate => {
                    bail!("`{wheel_name}`: cannot repair a {l} wheel to `{plat}`")
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
        .map(|g| glob::Pattern::new(g).map_err(|e| anyhow!("--exclude `{g}`: {e}")))
        .collect::<Result<Vec<_>>>()?;
    let options = AuditOptions {
        arch,
        libc,
        musl_policy,
        disable_isa_ext_check: args.resolve.disable_isa_ext_check,
        exclude,
        allow_graft: true,
        requested: Some(plat_base.clone()),
    };
    let audit =
        audit::audit(&elfs, files, env, &options).map_err(|e| anyhow!("`{wheel_name}`: {e}"))?;
    let plat_full = if plat_base == "auto" {
        "auto".to_owned()
    } else {
        format!("{plat_base}_{}", audit.policies.arch)
    };
    let requested =
        requested_policy(&audit, &plat_full).map_err(|e| anyhow!("`{wheel_name}`: {e}"))?;
    let repair_options = RepairOptions {
        plat: Some(plat_full),
        only_plat: args.only_plat,
        lib_sdir: args.lib_sdir.clone(),
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
    .map_err(|e| anyhow!("`{wheel_name}`: {e}"))?;

    fs_err::create_dir_all(&args.wheel_dir)?;
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
            let owners = package_owners(&env.root, &sources);
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
                out_dir: args.wheel_dir.clone(),
                root: env.root.clone(),
                compression_level: args.compression_level,
                source_date_epoch: source_date_epoch(),
                sbom,
            },
        )
        .with_context(|| format!("cannot repair `{wheel_name}`"))?;
        (outcome.path, outcome.size)
    };
    Ok(RepairReport {
        wheel: wheel_name,
        output: output.display().to_string(),
        tags: the_plan.filename.platform_tags.clone(),
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
) -> Vec<Option<crate::repair::sbom::Owner>> {
    use crate::repair::sbom::{PackageDb, RPM_QUERY_FORMAT};
    let db = PackageDb::open(root);
    let mut owners = db.owners(&sources.iter().map(|p| p.as_path()).collect::<Vec<_>>());
    if db.has_rpm_db() {
        for (slot, path) in owners.iter_mut().zip(sources) {
            if slot.is_some() {
                continue;
            }
            let answer = std::process::Command::new("rpm")
                .arg("--root")
                .arg(root)
                .args(["-qf", "--queryformat", RPM_QUERY_FORMAT])
                .arg(path)
                .stdin(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .output();
            if let Some(output) = answer.ok().filter(|o| o.status.success()) {
                *slot = db.rpm_owner(&String::from_utf8_lossy(&output.stdout));
            }
        }
    }
    owners
}

/// Copies a file to `dest` through a temporary file in the same directory.
fn copy_atomically(source: &Path, dest: &Path) -> Result<()> {
    if let (Ok(a), Ok(b)) = (std::fs::canonicalize(source), std::fs::canonicalize(dest)) {
        if a == b {
            return Ok(());
        }
    }
    let dir = dest.parent().unwrap_or(Path::new("."));
    fs_err::create_dir_all(dir)?;
    let mut temp = crate::scratch::file_in(dir, ".whl.part", 0o666)
        .with_context(|| format!("cannot write in `{}`", dir.display()))?;
    let mut input = fs_err::File::open(source)?;
    std::io::copy(&mut input, &mut temp)
        .with_context(|| format!("cannot write `{}`", dest.display()))?;
    // The copy keeps the input's mode (the temporary file was created `rw-------`).
    crate::wheel::mode::set_mode(temp.as_file(), crate::wheel::mode::mode_of(source))
        .with_context(|| format!("cannot write `{}`", dest.display()))?;
    temp.as_file()
        .sync_all()
        .with_context(|| format!("cannot write `{}`", dest.display()))?;
    temp.persist(dest)
        .map_err(|e| anyhow!("cannot write `{}`: {}", dest.display(), e.error))?;
    Ok(())
}

/// Runs `wheelwright repair`.
pub fn run(args: &RepairArgs) -> Result<ExitCode> {
    let env = search_env(&args.resolve)?;
    // What a killed repair left in the output directory (a `.whl.part`, a scratch directory).
    for stale in crate::scratch::sweep(&args.wheel_dir) {
        ui::message(&format!(
            "removed `{}`, left by a run that was killed",
            stale.display()
        ));
    }
    let mut failed = false;
    for path in &args.wheels {
        match repair_one(path, args, &env) {
            Ok(report) => {
                if args.json {
                    ui::data(&format!("{}\n", serde_json::to_string(&report)?));
                } else if report.changed {
                    let grafted: Vec<String> = report
                        .grafted
                        .iter()
                        .map(|g| format!("{} ({})", g.soname, g.source))
                        .collect();
                    ui::message(&format!(
                        "Repaired `{}` -> `{}`{}",
                        report.wheel,
                        report.output,
                        if grafted.is_empty() {
                            String::new()
                        } else {
                            format!("; grafted {}", grafted.join(", "))
                        }
                    ));
                    ui::data(&format!("{}\n", report.output));
                } else {
                    ui::message(&format!(
                        "`{}` needs no repair; copied unchanged to `{}`",
                        report.wheel, report.output
                    ));
                    ui::data(&format!("{}\n", report.output));
                }
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
