//! The `.pypirc`-style credentials file: its sections and the reader, as strict as twine's.

use std::path::{Path, PathBuf};

use reqwest::Url;

use super::CredentialError;
use crate::net::secret::Secret;

/// One `[section]` of a `.pypirc`-style file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PypircSection {
    /// The section name. Ex) `testpypi`
    pub name: String,
    /// `repository`: the upload URL.
    pub repository: Option<String>,
    /// `username`.
    pub username: Option<String>,
    /// `password`.
    pub password: Option<Secret>,
}

/// A parsed `.pypirc`-style file (INI: `[section]`, `key = value` or `key: value`, `#`/`;`
/// comments; keys are case-insensitive; indented lines continue the previous value). As strict
/// as twine's reader (Python's `configparser`): a line that is none of these, a key outside any
/// section, a repeated section or key is an error naming the file and line. Errors never quote
/// the line: it may hold a password.
#[derive(Debug, Clone, Default)]
pub struct Pypirc {
    /// The file it was read from.
    pub path: PathBuf,
    /// Its sections in file order.
    pub sections: Vec<PypircSection>,
}

/// The problem of a `.pypirc` line and what to do about it.
fn pypirc_problem(
    path: &Path,
    line: usize,
    problem: String,
    hint: &'static str,
) -> CredentialError {
    CredentialError::ConfigSyntax {
        path: path.to_owned(),
        line,
        problem,
        hint,
    }
}

impl Pypirc {
    /// Parses the text of a `.pypirc` file.
    pub fn parse(path: &Path, text: &str) -> Result<Self, CredentialError> {
        let mut sections: Vec<PypircSection> = Vec::new();
        // Per section: its first line and the keys seen (with their lines).
        let mut seen: Vec<(usize, Vec<(String, usize)>)> = Vec::new();
        let mut last_key: Option<String> = None;
        for (index, raw) in text.lines().enumerate() {
            let number = index + 1;
            let line = raw.trim_end();
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            if line.starts_with([' ', '\t']) && last_key.is_some() {
                // A continuation line (used by `index-servers`); not part of the keys we read,
                // except a continued password, which we refuse to guess at.
                if last_key.as_deref() == Some("password") {
                    if let Some(section) = sections.last_mut() {
                        section.password = None;
                    }
                }
                continue;
            }
            if let Some(rest) = trimmed.strip_prefix('[') {
                let Some(close) = rest.rfind(']') else {
                    return Err(pypirc_problem(
                        path,
                        number,
                        "the section header has no closing `]`".to_owned(),
                        "write section headers as `[name]`, e.g. `[pypi]`",
                    ));
                };
                let name = rest[..close].trim();
                if name.is_empty() {
                    return Err(pypirc_problem(
                        path,
                        number,
                        "the section header `[]` has no name".to_owned(),
                        "name the section after the repository, e.g. `[testpypi]`",
                    ));
                }
                if let Some(first) = sections.iter().position(|s| s.name == name) {
                    return Err(pypirc_problem(
                        path,
                        number,
                        format!(
                            "section `[{}]` appears a second time (first on line {})",
                            crate::ui::untrusted(name),
                            seen[first].0
                        ),
                        "keep one section per repository and merge the two",
                    ));
                }
                sections.push(PypircSection {
                    name: name.to_owned(),
                    ..PypircSection::default()
                });
                seen.push((number, Vec::new()));
                last_key = None;
                continue;
            }
            let Some(split) = trimmed.find(['=', ':']) else {
                return Err(pypirc_problem(
                    path,
                    number,
                    "the line is not `key = value`, a `[section]` header or a comment".to_owned(),
                    "write `key = value` (or `key: value`); a value continued on the next line is indented",
                ));
            };
            let key = trimmed[..split].trim().to_ascii_lowercase();
            if key.is_empty() {
                return Err(pypirc_problem(
                    path,
                    number,
                    "a value without a key (the line starts with `=` or `:`)".to_owned(),
                    "write `key = value`, e.g. `username = __token__`",
                ));
            }
            let shown = crate::ui::untrusted(&key).into_owned();
            let (Some(section), Some((_, keys))) = (sections.last_mut(), seen.last_mut()) else {
                return Err(pypirc_problem(
                    path,
                    number,
                    format!("`{shown}` is outside any section"),
                    "put the keys under the header of their repository, e.g. `[pypi]` on a line before them",
                ));
            };
            if let Some((_, first)) = keys.iter().find(|(k, _)| *k == key) {
                return Err(pypirc_problem(
                    path,
                    number,
                    format!(
                        "`{shown}` appears a second time in `[{}]` (first on line {first})",
                        crate::ui::untrusted(&section.name)
                    ),
                    "keep one of the two lines",
                ));
            }
            keys.push((key.clone(), number));
            let value = trimmed[split + 1..].trim().to_owned();
            match key.as_str() {
                "repository" => section.repository = Some(value),
                "username" => section.username = Some(value),
                "password" => section.password = Some(Secret::new(value)),
                _ => {}
            }
            last_key = Some(key);
        }
        Ok(Self {
            path: path.to_owned(),
            sections,
        })
    }

    /// Reads `path`. A missing file is `None` unless `explicit` (given with `--config-file`).
    pub fn load(path: &Path, explicit: bool) -> Result<Option<Self>, CredentialError> {
        match fs_err::read_to_string(path) {
            Ok(text) => Self::parse(path, &text).map(Some),
            Err(e) if !explicit && e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(CredentialError::Config {
                path: path.to_owned(),
                reason: crate::publish::dist::root_cause(&source),
            }),
        }
    }

    /// The section called `name` (case-sensitive, like twine).
    #[must_use]
    pub fn section(&self, name: &str) -> Option<&PypircSection> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// The section whose `repository` is `url` (ignoring a trailing slash).
    #[must_use]
    pub fn section_for_url(&self, url: &Url) -> Option<&PypircSection> {
        self.sections.iter().find(|s| {
            s.repository
                .as_deref()
                .and_then(|r| Url::parse(r).ok())
                .is_some_and(|r| {
                    r.as_str().trim_end_matches('/') == url.as_str().trim_end_matches('/')
                })
        })
    }
}

/// The default `.pypirc` path (`$HOME/.pypirc`).
#[must_use]
pub fn default_pypirc() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".pypirc"))
}
