//! What several commands share to map their arguments: loading [`Settings`] from the process
//! environment (the one place that does), and the library search environment of `show` and
//! `repair`. Not a command; no command imports another.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::audit::resolve::SearchEnv;
use crate::config::{CliValue, ResolveInputs, Settings};
use crate::ui;

/// The variables the resolver reads: `CIBW_*`, `WHEELWRIGHT_*` and `INPUT_*` (names and
/// values that are not UTF-8 are skipped). Other variables never reach the configuration.
#[must_use]
pub fn process_env() -> BTreeMap<String, String> {
    std::env::vars_os()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
        .filter(|(name, _)| {
            ["CIBW_", "WHEELWRIGHT_", "INPUT_"]
                .iter()
                .any(|prefix| name.starts_with(prefix))
        })
        .collect()
}

/// Resolves the settings for a project from the process environment, the configuration file
/// (`--config-file`; `None` or empty: the project's pyproject.toml) and the given command-line
/// values, and prints the configuration warnings. A directory that is not a Python project is
/// refused, as `build` refuses it (cibuildwheel does too).
pub fn load(project_dir: &Path, config_file: Option<&str>, cli: Vec<CliValue>) -> Result<Settings> {
    crate::build::check_project(project_dir)?;
    let inputs = ResolveInputs {
        env: process_env(),
        cli,
        config_file: config_file_path(project_dir, config_file),
        ..ResolveInputs::new(project_dir)
    };
    let settings = Settings::resolve(&inputs)?;
    for warning in &settings.warnings {
        ui::message(&format!("warning: {warning}"));
        ui::github::annotation(
            ui::github::Level::Warning,
            Some("wheelwright configuration"),
            None,
            warning,
        );
    }
    Ok(settings)
}

/// The path of `--config-file` with `{package}` replaced by the project directory; `None` for
/// no value or an empty one (cibuildwheel's default: the project's pyproject.toml).
#[must_use]
pub fn config_file_path(project_dir: &Path, config_file: Option<&str>) -> Option<PathBuf> {
    let text = config_file.map(str::trim).filter(|t| !t.is_empty())?;
    Some(PathBuf::from(
        text.replace("{package}", &project_dir.display().to_string()),
    ))
}

/// The `--archs` flag as a command-line value.
#[must_use]
pub fn archs_flag(archs: Option<&String>) -> Vec<CliValue> {
    archs
        .map(|value| CliValue {
            option: "archs".to_owned(),
            value: value.clone(),
            flag: "--archs".to_owned(),
        })
        .into_iter()
        .collect()
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

/// Runs `each` on every input in turn: a failure is printed as one `error:` line and the rest
/// still run. Exit status 1 when any failed.
pub fn each_input<T>(
    inputs: impl IntoIterator<Item = T>,
    mut each: impl FnMut(T) -> Result<()>,
) -> ExitCode {
    let mut failed = false;
    for input in inputs {
        if let Err(err) = each(input) {
            ui::error(&format!("{err:#}"));
            failed = true;
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
