//! Where a configuration value came from, and values that carry it.

use std::fmt;
use std::path::PathBuf;

/// The origin of one value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Source {
    /// wheelwright's built-in default.
    Default,
    /// A key in `pyproject.toml`.
    Pyproject {
        /// The file.
        file: PathBuf,
        /// The table. Ex) `tool.cibuildwheel.linux`
        table: String,
        /// 1-based line of the key.
        line: usize,
    },
    /// A key in one `[[tool.<name>.overrides]]` entry.
    Override {
        /// The file.
        file: PathBuf,
        /// Ex) `tool.cibuildwheel`
        tool: String,
        /// 1-based position among that tool's overrides.
        index: usize,
        /// The override's `select`.
        select: String,
        /// 1-based line of the key.
        line: usize,
    },
    /// A `CIBW_*` or `WHEELWRIGHT_*` environment variable.
    Env {
        /// Ex) `CIBW_ARCHS_LINUX`
        name: String,
    },
    /// A GitHub Action input (`INPUT_*`).
    ActionInput {
        /// Ex) `INPUT_ARCHS`
        name: String,
    },
    /// A command-line flag.
    CommandLine {
        /// Ex) `--archs`
        flag: String,
    },
    /// `setup.cfg` or `setup.py` (where cibuildwheel also reads `python_requires`).
    ProjectFile {
        /// The file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
    },
}

impl Source {
    /// Where to point a user in an error message (`pyproject.toml:12`, ``environment variable
    /// `CIBW_ARCHS` ``, …).
    #[must_use]
    pub fn location(&self) -> String {
        match self {
            Source::Default => "the built-in default".to_owned(),
            Source::Pyproject { file, line, .. }
            | Source::Override { file, line, .. }
            | Source::ProjectFile { file, line } => {
                format!("`{}`:{line}", file.display())
            }
            Source::Env { name } => format!("environment variable `{name}`"),
            Source::ActionInput { name } => format!("Action input `{name}`"),
            Source::CommandLine { flag } => format!("`{flag}`"),
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::Pyproject { file, table, line } => {
                write!(f, "{}:{line} [{table}]", file.display())
            }
            Source::Override {
                file,
                tool,
                index,
                select,
                line,
            } => write!(
                f,
                "{}:{line} [[{tool}.overrides]] #{index} (select `{select}`)",
                file.display()
            ),
            Source::Env { name } => write!(f, "env {name}"),
            Source::ActionInput { name } => write!(f, "Action input {name}"),
            Source::CommandLine { flag } => write!(f, "command line {flag}"),
            Source::ProjectFile { file, line } => write!(f, "{}:{line}", file.display()),
        }
    }
}

/// A resolved value and where it came from. When an override inherited (appended or prepended
/// to) an earlier value, `inherited` lists the earlier sources, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Sourced<T> {
    /// The value.
    pub value: T,
    /// The layer that set it last.
    pub source: Source,
    /// Earlier layers merged into it (`inherit = append|prepend`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub inherited: Vec<Source>,
}

impl<T> Sourced<T> {
    /// A value from one source.
    pub fn new(value: T, source: Source) -> Self {
        Sourced {
            value,
            source,
            inherited: Vec::new(),
        }
    }

    /// Applies `f` to the value, keeping the sources.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Sourced<U> {
        Sourced {
            value: f(self.value),
            source: self.source,
            inherited: self.inherited,
        }
    }
}

impl<T> std::ops::Deref for Sourced<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}
