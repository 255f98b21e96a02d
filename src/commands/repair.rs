//! `wheelwright repair`: graft external libraries, patch ELF files natively, retag.

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::RepairArgs;
use crate::commands::common::{each_input, search_env};
use crate::engine::process::rpm_owner;
use crate::repair::wheel::{Request, repair_wheel};
use crate::ui;

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
    let request = Request {
        wheel_dir: &args.wheel_dir,
        plat: &args.plat,
        only_plat: args.only_plat,
        exclude: &args.exclude,
        lib_sdir: &args.lib_sdir,
        compression_level: args.compression_level,
        no_update_tags: args.no_update_tags,
        strip: args.strip,
        no_sbom: args.no_sbom,
        allow_pure_python_wheel: args.allow_pure_python_wheel,
        no_abi3_audit: args.resolve.no_abi3_audit,
        disable_isa_ext_check: args.resolve.disable_isa_ext_check,
        env: &env,
        rpm_owner: &rpm_owner,
    };
    Ok(each_input(&args.wheels, |path| {
        let report = repair_wheel(path, &request)?;
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
        Ok(())
    }))
}
