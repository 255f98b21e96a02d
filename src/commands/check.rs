//! `wheelwright check`: every problem an index would reject, and what is worth a warning, for
//! every file, before uploading.
//!
//! Findings are the command's output: one `file: severity: code: message` line each on stdout
//! (or one JSON object with `--json`), an annotation each on GitHub Actions, and a summary line
//! on stderr. PyPI's own rules are errors with `--repository pypi` (or `testpypi`) and warnings
//! otherwise; `--strict` makes every warning an error. Exit 1 when there is an error or nothing
//! to check.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::check::{self, CheckOptions, Problem, Scope, Target};
use crate::cli::CheckArgs;
use crate::publish::credentials::{self, Pypirc, resolve_repository};
use crate::ui;

pub fn run(args: &CheckArgs) -> Result<ExitCode> {
    let files = check::collect_files(&args.files)?;
    if files.is_empty() {
        let inputs: Vec<String> = args
            .files
            .iter()
            .map(|p| format!("`{}`", p.display()))
            .collect();
        bail!(
            "no distributions (`.whl`, `.tar.gz`) in {}",
            inputs.join(", ")
        );
    }
    let options = options(args)?;
    let problems = check::check_files(&files, &options);
    if args.json {
        let report = serde_json::json!({
            "files": files,
            "target": options.target,
            "strict": options.strict,
            "problems": problems,
        });
        ui::data(&format!("{report}\n"));
    } else {
        let mut text = String::new();
        for problem in &problems {
            let _ = writeln!(
                text,
                "{}: {}: {}: {}",
                problem.file.display(),
                problem.severity.as_str(),
                problem.code,
                problem.message
            );
        }
        ui::data(&text);
    }
    for problem in &problems {
        let level = if problem.is_error() {
            ui::github::Level::Error
        } else {
            ui::github::Level::Warning
        };
        ui::github::annotation(
            level,
            Some(&format!("wheelwright check: {}", problem.code)),
            Some(&problem.file),
            &problem.message,
        );
    }
    let (summary, failed) = summary(&problems, files.len(), options.target);
    if failed {
        ui::error(&summary);
        Ok(ExitCode::from(1))
    } else {
        ui::message(&summary);
        Ok(ExitCode::SUCCESS)
    }
}

/// The target and limits from `--repository`, `--max-size` and `--strict`.
fn options(args: &CheckArgs) -> Result<CheckOptions> {
    let known = match &args.repository {
        None => None,
        Some(name) => {
            // A `.pypirc` section may name PyPI's URL; only its `repository` key is used.
            let pypirc = match credentials::default_pypirc() {
                Some(path) => Pypirc::load(&path, false)?,
                None => None,
            };
            resolve_repository(Some(name), None, None, pypirc.as_ref())?.known
        }
    };
    Ok(CheckOptions {
        target: if known.is_some() {
            Target::Pypi
        } else {
            Target::AnyIndex
        },
        max_file_size: args.max_size.or(known.map(|index| index.max_file_size)),
        strict: args.strict,
    })
}

/// The summary line and whether the run failed (any error).
fn summary(problems: &[Problem], checked: usize, target: Target) -> (String, bool) {
    let count = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let errors: Vec<&Problem> = problems.iter().filter(|p| p.is_error()).collect();
    let warnings = problems.len() - errors.len();
    if problems.is_empty() {
        return (
            format!("Checked {}: no problems found", count(checked, "file")),
            false,
        );
    }
    let pypi_warnings = problems
        .iter()
        .filter(|p| !p.is_error() && p.scope == Scope::Pypi)
        .count();
    let hint = if pypi_warnings > 0 && target == Target::AnyIndex {
        format!(
            "\nhint: {} of PyPI's own rules, which are errors with `--repository pypi` and when \
             publishing to PyPI or TestPyPI",
            if pypi_warnings == 1 {
                "1 warning is one".to_owned()
            } else {
                format!("{pypi_warnings} warnings are")
            }
        )
    } else {
        String::new()
    };
    if errors.is_empty() {
        return (
            format!(
                "Checked {}: no errors, {}{hint}",
                count(checked, "file"),
                count(warnings, "warning")
            ),
            false,
        );
    }
    let mut with_errors: Vec<_> = errors.iter().map(|p| &p.file).collect();
    with_errors.dedup();
    let also = if warnings > 0 {
        format!(" (and {})", count(warnings, "warning"))
    } else {
        String::new()
    };
    (
        format!(
            "{} in {} of {checked} checked{also}{hint}",
            count(errors.len(), "error"),
            count(with_errors.len(), "file"),
        ),
        true,
    )
}
