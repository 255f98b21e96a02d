//! `wheelwright check`: everything an index would reject that can be known locally, for every
//! file, before anything is uploaded. Pure: no network, no subprocess.
//!
//! This is the interface `publish` calls; the checks themselves grow behind it.

pub mod rst;

use std::path::{Path, PathBuf};

use crate::wheel::archive::WheelArchive;

/// Limits that depend on the index.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// Largest file the index accepts (PyPI's default is 100 MB).
    pub max_file_size: u64,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            max_file_size: 100 * 1000 * 1000,
        }
    }
}

/// One reason a file would be rejected.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// The distribution file.
    pub file: PathBuf,
    /// A stable short code, e.g. `record-hash`, `platform-tag`.
    pub code: &'static str,
    /// One line saying what is wrong and what is accepted.
    pub message: String,
}

/// Checks every file and returns all problems of all files (empty = all good).
#[must_use]
pub fn check_files(files: &[PathBuf], options: &CheckOptions) -> Vec<Problem> {
    let mut problems = Vec::new();
    for file in files {
        check_file(file, options, &mut problems);
    }
    problems
}

fn check_file(file: &Path, options: &CheckOptions, problems: &mut Vec<Problem>) {
    let mut problem = |code, message: String| {
        problems.push(Problem {
            file: file.to_owned(),
            code,
            message,
        });
    };
    match fs_err::metadata(file) {
        Ok(meta) if meta.len() > options.max_file_size => problem(
            "file-size",
            format!(
                "{} bytes is over the index's limit of {} bytes",
                meta.len(),
                options.max_file_size
            ),
        ),
        Ok(_) => {}
        Err(err) => {
            problem("unreadable", err.to_string());
            return;
        }
    }
    let name = file.file_name().unwrap_or_default().to_string_lossy();
    if name.ends_with(".whl") {
        match WheelArchive::open(file) {
            Ok(archive) => {
                if let Err(err) = archive.verify_all() {
                    problem("record", err.to_string());
                }
            }
            Err(err) => problem("wheel", err.to_string()),
        }
    } else if !name.ends_with(".tar.gz") {
        problem(
            "file-type",
            "not a wheel (.whl) or an sdist (.tar.gz)".to_owned(),
        );
    }
}
