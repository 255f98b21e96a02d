//! `wheelwright check`: every problem PyPI would reject, for every file, before uploading.
//!
//! Problems are the command's output: one `file: code: message` line each on stdout (or one
//! JSON object with `--json`), an error annotation each on GitHub Actions, and a summary line
//! on stderr. Exit 1 when there is a problem or nothing to check.

use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::check::{self, CheckOptions, DEFAULT_MAX_FILE_SIZE};
use crate::cli::CheckArgs;
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
    let options = CheckOptions {
        max_file_size: args.max_size.unwrap_or(DEFAULT_MAX_FILE_SIZE),
    };
    let problems = check::check_files(&files, &options);
    if args.json {
        let report = serde_json::json!({ "files": files, "problems": problems });
        ui::data(&format!("{report}\n"));
    } else {
        let mut text = String::new();
        for problem in &problems {
            text.push_str(&format!(
                "{}: {}: {}\n",
                problem.file.display(),
                problem.code,
                problem.message
            ));
        }
        ui::data(&text);
    }
    for problem in &problems {
        ui::github::annotation(
            ui::github::Level::Error,
            Some(&format!("wheelwright check: {}", problem.code)),
            Some(&problem.file),
            &problem.message,
        );
    }
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    if problems.is_empty() {
        ui::message(&format!(
            "Checked {}: no problems found",
            plural(files.len(), "file")
        ));
        Ok(ExitCode::SUCCESS)
    } else {
        let mut with_problems: Vec<_> = problems.iter().map(|p| &p.file).collect();
        with_problems.dedup();
        ui::error(&format!(
            "{} in {} of {} checked",
            plural(problems.len(), "problem"),
            plural(with_problems.len(), "file"),
            files.len()
        ));
        Ok(ExitCode::from(1))
    }
}
