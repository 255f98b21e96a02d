//! `wheelwright check`: everything an index would reject that can be known locally, for every
//! file, before anything is uploaded. Pure: no network, no subprocess.
//!
//! Every finding has a **severity** for the index the files are meant for:
//!
//! * an error when the file is broken (RECORD, ZIP structure that readers may see differently,
//!   metadata that does not parse or breaks the core-metadata spec) or the target will refuse it;
//! * PyPI's own rules (Warehouse: the platform-tag allow-list, its metadata limits, local
//!   versions, direct URL dependencies, descriptions that must render, its stricter ZIP rules,
//!   PEP 625 sdist names, one sdist per release) are errors when the target is PyPI or TestPyPI
//!   ([`Target::Pypi`]) and warnings elsewhere ([`Scope::Pypi`]);
//! * a warning for what PyPI only warns about or is bad practice (wheel names that are not
//!   normalized, ELF files in a pure `py3-none-any` wheel).
//!
//! `strict` turns every warning into an error. Each module names its fact source:
//!
//! * [`platform`]: the wheel platform tags PyPI accepts (`linux_x86_64` is not one of them);
//! * [`metadata`]: `Metadata-Version`, required fields, name and PEP 440 version, local
//!   versions, fields newer than the declared metadata version, `License` with
//!   `License-Expression`, `License-File` paths, summary, `Requires-Python`, direct URL
//!   dependencies, extras, `Dynamic`, URLs, emails, `Description-Content-Type`, and whether the
//!   description renders ([`rst`] for reStructuredText, the default);
//! * `wheel`: the file name (syntax, normalized project name, version and name against
//!   METADATA), PyPI's ZIP structure rules (`zipcheck`), `WHEEL`/`RECORD`/`METADATA` where
//!   PyPI looks for them, license files, every `RECORD` hash and size, and ELF files in pure
//!   wheels;
//! * `sdist`: gzip tar with one top-level prefix holding `PKG-INFO`, the PEP 625 file name;
//! * across files: size over the limit, the same file name twice, two sdists of one release,
//!   files of other types.
//!
//! This is the interface `publish` calls: [`check_files`] returns every finding of every file
//! and never stops at the first one.

pub(crate) mod metadata;
pub(crate) mod platform;
pub(crate) use wheelwright_rst as rst;
mod sdist;
mod wheel;
mod zipcheck;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The index the files are checked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Target {
    /// PyPI or TestPyPI: PyPI's own rules are errors.
    Pypi,
    /// Any other index (or none named): PyPI's own rules are warnings.
    #[default]
    AnyIndex,
}

/// What to check against.
#[derive(Debug, Clone, Default)]
pub(crate) struct CheckOptions {
    /// The index the files are for.
    pub target: Target,
    /// The target's per-file size limit in bytes, when known (given, or PyPI's). Without one,
    /// a file over PyPI's default limit is one of PyPI's rules.
    pub max_file_size: Option<u64>,
    /// Warnings count as errors.
    pub strict: bool,
}

/// PyPI's default per-file limit (`MAX_FILESIZE`, 100 MiB).
pub(crate) const DEFAULT_MAX_FILE_SIZE: u64 = 100 * 1024 * 1024;

/// How bad a finding is for the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Severity {
    /// Worth knowing; the file can still be uploaded.
    Warning,
    /// The target will refuse the file, or the file is broken: nothing is uploaded.
    Error,
}

impl Severity {
    /// The word in messages. Ex) `error`
    #[must_use]
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }
}

/// Whose rule a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Scope {
    /// Every index: the file is broken, or it is a general rule or piece of advice.
    All,
    /// PyPI's (and TestPyPI's) own rule: an error only when publishing there.
    Pypi,
}

/// A rule's class, before the target decides the severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Broken, or refused whatever the index: always an error.
    Error,
    /// PyPI's own rule: an error for [`Target::Pypi`], a warning elsewhere.
    Pypi,
    /// PyPI only warns, or it is bad practice: a warning.
    Warning,
}

/// What one rule found, before the target decides its severity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finding {
    code: &'static str,
    kind: Kind,
    message: String,
}

impl Finding {
    /// A broken file, or one every index refuses.
    pub(crate) fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            kind: Kind::Error,
            message: message.into(),
        }
    }

    /// One of PyPI's own rules.
    pub(crate) fn pypi(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            kind: Kind::Pypi,
            message: message.into(),
        }
    }

    /// Something PyPI only warns about, or bad practice.
    pub(crate) fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            kind: Kind::Warning,
            message: message.into(),
        }
    }

    /// The parsed file name, or `None` with a `filename` error added to `problems`.
    pub(crate) fn parsed_filename<T>(
        parsed: Result<T, String>,
        problems: &mut Vec<Finding>,
    ) -> Option<T> {
        parsed
            .map_err(|message| problems.push(Finding::error("filename", message)))
            .ok()
    }

    /// The stable code. Ex) `platform-tag`
    #[cfg(test)]
    pub(crate) fn code(&self) -> &'static str {
        self.code
    }

    /// The message.
    #[cfg(test)]
    pub(crate) fn message(&self) -> &str {
        &self.message
    }
}

/// One finding about one file, with its severity for the target.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Problem {
    /// The distribution file.
    pub file: PathBuf,
    /// A stable short code, e.g. `record`, `platform-tag`.
    pub code: &'static str,
    /// `error` or `warning` for this target (after `strict`).
    pub severity: Severity,
    /// `pypi` for PyPI's own rules, `all` for the others.
    pub scope: Scope,
    /// One line saying what is wrong and what is accepted.
    pub message: String,
}

impl Problem {
    fn new(file: &Path, finding: Finding, options: &CheckOptions) -> Self {
        let (severity, scope) = match finding.kind {
            Kind::Error => (Severity::Error, Scope::All),
            Kind::Warning => (Severity::Warning, Scope::All),
            Kind::Pypi if options.target == Target::Pypi => (Severity::Error, Scope::Pypi),
            Kind::Pypi => (Severity::Warning, Scope::Pypi),
        };
        Self {
            file: file.to_owned(),
            code: finding.code,
            severity: if options.strict {
                Severity::Error
            } else {
                severity
            },
            scope,
            message: finding.message,
        }
    }

    /// Whether it stops an upload.
    #[must_use]
    pub(crate) fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Why the files to check could not be listed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CollectError {
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
pub(crate) fn collect_files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, CollectError> {
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

/// Checks every file and returns every finding of every file, with its severity for
/// `options.target` (empty = all good).
#[must_use]
pub(crate) fn check_files(files: &[PathBuf], options: &CheckOptions) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut names: HashMap<String, &Path> = HashMap::new();
    // Releases are compared like PyPI does: canonical name, PEP 440 equal versions.
    let mut releases: Vec<(String, pep440_rs::Version, &Path)> = Vec::new();
    for file in files {
        let mut report = |finding: Finding| problems.push(Problem::new(file, finding, options));
        let name = file_name(file);
        if let Some(first) = names.get(&name) {
            report(Finding::error(
                "duplicate-file",
                format!(
                    "`{}` has the same file name; an index stores one file per name",
                    first.display()
                ),
            ));
            continue;
        }
        names.insert(name.clone(), file);
        match fs_err::metadata(file) {
            Ok(meta) if !meta.is_file() => {
                report(Finding::error("unreadable", "not a regular file"));
                continue;
            }
            Ok(meta) => {
                if let Some(finding) = size_finding(meta.len(), options.max_file_size) {
                    report(finding);
                }
            }
            Err(err) => {
                report(Finding::error("unreadable", err.to_string()));
                continue;
            }
        }
        if name.chars().any(|c| c.is_control()) || name.contains('\\') {
            report(Finding::error(
                "filename",
                "the file name contains control characters or `\\`, which PyPI refuses",
            ));
        }
        let found: Vec<Finding> = if name.ends_with(".whl") {
            wheel::check(file, &name)
        } else if name.ends_with(".tar.gz") {
            let (found, release) = sdist::check(file, &name);
            if let Some((project, version)) = release {
                if let Some((_, _, first)) = releases
                    .iter()
                    .find(|(p, v, _)| *p == project && *v == version)
                {
                    report(Finding::pypi(
                        "duplicate-sdist",
                        format!(
                            "`{}` is already an sdist of {project} {version}; PyPI accepts one \
                             sdist per release",
                            first.display()
                        ),
                    ));
                } else {
                    releases.push((project, version, file));
                }
            }
            found
        } else if name.ends_with(".zip") {
            vec![Finding::pypi(
                "file-type",
                "`.zip` sdists are no longer accepted by PyPI: build a `.tar.gz` sdist (PEP 625)",
            )]
        } else {
            vec![Finding::error(
                "file-type",
                "not a wheel (`.whl`) or an sdist (`.tar.gz`)",
            )]
        };
        for finding in found {
            report(finding);
        }
    }
    problems
}

/// A file over the target's known limit is an error; without a known limit, one over PyPI's
/// default limit is one of PyPI's rules.
fn size_finding(size: u64, limit: Option<u64>) -> Option<Finding> {
    let mib = |bytes: u64| bytes / (1024 * 1024);
    match limit {
        Some(limit) if size > limit => Some(Finding::error(
            "file-size",
            format!(
                "{size} bytes is over the index's limit of {limit} bytes ({} MiB)",
                mib(limit)
            ),
        )),
        None if size > DEFAULT_MAX_FILE_SIZE => Some(Finding::pypi(
            "file-size",
            format!(
                "{size} bytes is over PyPI's default limit of {DEFAULT_MAX_FILE_SIZE} bytes ({} \
                 MiB; a project can ask PyPI for more)",
                mib(DEFAULT_MAX_FILE_SIZE)
            ),
        )),
        _ => None,
    }
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
        let options = CheckOptions {
            max_file_size: Some(1),
            ..CheckOptions::default()
        };
        let problems = check_files(&[egg.clone(), zip.clone(), copy.clone()], &options);
        let codes: Vec<_> = problems
            .iter()
            .map(|p| (p.file.clone(), p.code, p.severity))
            .collect();
        assert_eq!(
            codes,
            [
                (egg.clone(), "file-type", Severity::Error),
                (zip.clone(), "file-type", Severity::Warning),
                (copy.clone(), "duplicate-file", Severity::Error)
            ]
        );
        // PyPI refuses `.zip` sdists: an error only when publishing there, or with `strict`.
        let pypi = CheckOptions {
            target: Target::Pypi,
            ..options.clone()
        };
        assert_eq!(
            check_files(std::slice::from_ref(&zip), &pypi)[0].severity,
            Severity::Error
        );
        let strict = CheckOptions {
            strict: true,
            ..options.clone()
        };
        let problem = &check_files(&[zip], &strict)[0];
        assert_eq!(
            (problem.severity, problem.scope),
            (Severity::Error, Scope::Pypi)
        );
        let big = dir.path().join("big.txt");
        fs_err::write(&big, b"xx").unwrap();
        let problems = check_files(&[big], &options);
        insta::assert_snapshot!(problems[0].message, @"2 bytes is over the index's limit of 1 bytes (0 MiB)");
        assert_eq!(size_finding(DEFAULT_MAX_FILE_SIZE, None), None);
        let over = size_finding(DEFAULT_MAX_FILE_SIZE + 1, None).unwrap();
        assert_eq!(over.kind, Kind::Pypi);
        insta::assert_snapshot!(over.message, @"104857601 bytes is over PyPI's default limit of 104857600 bytes (100 MiB; a project can ask PyPI for more)");
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
