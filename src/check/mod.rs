//! `wheelwright check`: everything an index would reject that can be known locally, for every
//! file, before anything is uploaded. Pure: no network, no subprocess.
//!
//! The rules are PyPI's (Warehouse's upload endpoint); each module names its fact source:
//!
//! * [`platform`]: the wheel platform tags PyPI accepts (`linux_x86_64` is not one of them);
//! * [`metadata`]: `Metadata-Version`, required fields, name and PEP 440 version, local
//!   versions, fields newer than the declared metadata version, `License` with
//!   `License-Expression`, `License-File` paths, summary, `Requires-Python`, direct URL
//!   dependencies, extras, `Dynamic`, URLs, emails, `Description-Content-Type`, and whether the
//!   description renders ([`rst`] for reStructuredText, the default);
//! * `wheel`: the file name (syntax, normalized project name, version and name against
//!   METADATA), PyPI's ZIP structure rules (`zipcheck`), `WHEEL`/`RECORD`/`METADATA` where
//!   PyPI looks for them, license files, and every `RECORD` hash and size;
//! * `sdist`: gzip tar with one top-level prefix holding `PKG-INFO`, the PEP 625 file name;
//! * across files: size over the limit, the same file name twice, two sdists of one release,
//!   files of other types.
//!
//! This is the interface `publish` calls: [`check_files`] returns every problem of every file
//! and never stops at the first one.

pub mod metadata;
pub mod platform;
pub mod rst;
mod sdist;
mod wheel;
mod zipcheck;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Limits that depend on the index.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// Largest file the index accepts in bytes (PyPI's default is 100 MiB; a project can be
    /// granted more).
    pub max_file_size: u64,
}

/// PyPI's default per-file limit (`MAX_FILESIZE`, 100 MiB).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 100 * 1024 * 1024;

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            max_file_size: DEFAULT_MAX_FILE_SIZE,
        }
    }
}

/// One reason a file would be rejected.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// The distribution file.
    pub file: PathBuf,
    /// A stable short code, e.g. `record`, `platform-tag`.
    pub code: &'static str,
    /// One line saying what is wrong and what is accepted.
    pub message: String,
}

/// Why the files to check could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// A path given does not exist or cannot be read.
    #[error("`{}`: {reason}", path.display())]
    Unreadable {
        /// The path as given.
        path: PathBuf,
        /// What went wrong. Ex) `no such file or directory`
        reason: String,
    },
}

/// Whether a file name looks like a distribution (what a directory contributes).
fn is_distribution_name(name: &str) -> bool {
    name.ends_with(".whl") || name.ends_with(".tar.gz") || name.ends_with(".zip")
}

/// Expands the inputs: files are taken as given, a directory contributes its `.whl`,
/// `.tar.gz` and `.zip` files (not recursively; attestations and other files are left out).
/// Sdists come first, then wheels, each sorted by name; a path given twice is listed once.
pub fn collect_files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, CollectError> {
    let mut files = Vec::new();
    for input in inputs {
        let unreadable = |err: std::io::Error| CollectError::Unreadable {
            path: input.clone(),
            reason: match err.kind() {
                std::io::ErrorKind::NotFound => "no such file or directory".to_owned(),
                kind => kind.to_string(),
            },
        };
        let metadata = std::fs::metadata(input).map_err(unreadable)?;
        if metadata.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(input)
                .map_err(unreadable)?
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|path| {
                    path.is_file()
                        && path
                            .file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(is_distribution_name)
                })
                .collect();
            found.sort_by_key(|path| (!is_sdist(path), path.clone()));
            files.extend(found);
        } else {
            files.push(input.clone());
        }
    }
    let mut seen = std::collections::HashSet::new();
    files.retain(|path| seen.insert(fs_err::canonicalize(path).unwrap_or_else(|_| path.clone())));
    Ok(files)
}

fn is_sdist(path: &Path) -> bool {
    file_name(path).ends_with(".tar.gz")
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Checks every file and returns all problems of all files (empty = all good).
#[must_use]
pub fn check_files(files: &[PathBuf], options: &CheckOptions) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut names: HashMap<String, &Path> = HashMap::new();
    // Releases are compared like PyPI does: canonical name, PEP 440 equal versions.
    let mut releases: Vec<(String, pep440_rs::Version, &Path)> = Vec::new();
    for file in files {
        let mut report = |code: &'static str, message: String| {
            problems.push(Problem {
                file: file.clone(),
                code,
                message,
            });
        };
        let name = file_name(file);
        if let Some(first) = names.get(&name) {
            report(
                "duplicate-file",
                format!(
                    "`{}` has the same file name; an index stores one file per name",
                    first.display()
                ),
            );
            continue;
        }
        names.insert(name.clone(), file);
        match fs_err::metadata(file) {
            Ok(meta) if !meta.is_file() => {
                report("unreadable", "not a regular file".to_owned());
                continue;
            }
            Ok(meta) if meta.len() > options.max_file_size => report(
                "file-size",
                format!(
                    "{} bytes is over the index's limit of {} bytes ({} MiB)",
                    meta.len(),
                    options.max_file_size,
                    options.max_file_size / (1024 * 1024)
                ),
            ),
            Ok(_) => {}
            Err(err) => {
                report("unreadable", err.to_string());
                continue;
            }
        }
        if name.chars().any(|c| c.is_control()) || name.contains('\\') {
            report(
                "filename",
                "the file name contains control characters or `\\`, which PyPI refuses".to_owned(),
            );
        }
        let found: Vec<(&'static str, String)> = if name.ends_with(".whl") {
            wheel::check(file, &name)
        } else if name.ends_with(".tar.gz") {
            let (found, release) = sdist::check(file, &name);
            if let Some((project, version)) = release {
                if let Some((_, _, first)) = releases
                    .iter()
                    .find(|(p, v, _)| *p == project && *v == version)
                {
                    report(
                        "duplicate-sdist",
                        format!(
                            "`{}` is already an sdist of {project} {version}; PyPI accepts one \
                             sdist per release",
                            first.display()
                        ),
                    );
                } else {
                    releases.push((project, version, file));
                }
            }
            found
        } else if name.ends_with(".zip") {
            vec![(
                "file-type",
                "`.zip` sdists are no longer accepted by PyPI: build a `.tar.gz` sdist \
                 (PEP 625)"
                    .to_owned(),
            )]
        } else {
            vec![(
                "file-type",
                "not a wheel (`.whl`) or an sdist (`.tar.gz`)".to_owned(),
            )]
        };
        for (code, message) in found {
            report(code, message);
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_types_size_and_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        let egg = dir.path().join("demo-1.0-py3.egg");
        fs_err::write(&egg, b"x").unwrap();
        let zip = dir.path().join("demo-1.0.zip");
        fs_err::write(&zip, b"x").unwrap();
        let other = dir.path().join("other");
        fs_err::create_dir(&other).unwrap();
        let copy = other.join("demo-1.0-py3.egg");
        fs_err::write(&copy, b"xx").unwrap();
        let options = CheckOptions { max_file_size: 1 };
        let problems = check_files(&[egg.clone(), zip.clone(), copy.clone()], &options);
        let codes: Vec<_> = problems.iter().map(|p| (p.file.clone(), p.code)).collect();
        assert_eq!(
            codes,
            [
                (egg, "file-type"),
                (zip, "file-type"),
                (copy, "duplicate-file")
            ]
        );
        let big = dir.path().join("big.txt");
        fs_err::write(&big, b"xx").unwrap();
        let problems = check_files(&[big], &options);
        insta::assert_snapshot!(problems[0].message, @"2 bytes is over the index's limit of 1 bytes (0 MiB)");
    }

    #[test]
    fn collects_distributions_from_directories() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "b-1.0-py3-none-any.whl",
            "a-1.0-py3-none-any.whl",
            "a-1.0.tar.gz",
            "a-1.0-py3-none-any.whl.publish.attestation",
            "notes.txt",
        ] {
            fs_err::write(dir.path().join(name), b"").unwrap();
        }
        let files =
            collect_files(&[dir.path().to_owned(), dir.path().join("a-1.0.tar.gz")]).unwrap();
        let names: Vec<String> = files.iter().map(|f| file_name(f)).collect();
        assert_eq!(
            names,
            [
                "a-1.0.tar.gz",
                "a-1.0-py3-none-any.whl",
                "b-1.0-py3-none-any.whl"
            ]
        );
        let err = collect_files(&[dir.path().join("missing")]).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("missing`: no such file or directory")
        );
    }
}
