//! `wheelwright plan`: the identifiers to build, cut into a GitHub Actions matrix.

use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};

use crate::cli::{PlanArgs, PlanFormat};
use crate::commands::common::{archs_flag, load};
use crate::config::matrix;
use crate::ui;

pub fn run(args: &PlanArgs) -> Result<ExitCode> {
    let settings = load(
        &args.project_dir,
        args.config_file.as_deref(),
        archs_flag(args.archs.as_ref()),
    )?;
    if args.print_identifiers {
        let identifiers = settings.selected_identifiers()?;
        let text: String = identifiers.iter().map(|id| format!("{id}\n")).collect();
        ui::data(&text);
        return Ok(ExitCode::SUCCESS);
    }
    let matrix = matrix::plan(&settings, args.split)?;
    let json = serde_json::to_string(&matrix).context("cannot serialise the matrix")?;
    if args.format == PlanFormat::Github {
        let written =
            ui::github::set_output("matrix", &json).context("cannot append to `$GITHUB_OUTPUT`")?;
        if !written {
            bail!(
                "`--format github` writes `matrix` to `$GITHUB_OUTPUT`, which is not set (run it in a GitHub Actions step or use `--format json`)"
            );
        }
    }
    let identifiers: usize = matrix.include.iter().map(|e| e.identifiers.len()).sum();
    ui::message(&format!(
        "{} job{} (split by {}) for {identifiers} identifier{}",
        matrix.include.len(),
        if matrix.include.len() == 1 { "" } else { "s" },
        args.split,
        if identifiers == 1 { "" } else { "s" },
    ));
    ui::data(&format!("{json}\n"));
    Ok(ExitCode::SUCCESS)
}
