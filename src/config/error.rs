//! Configuration errors: one line each, naming the file (and line), the key and what is
//! accepted.

use std::path::PathBuf;

/// Why the configuration could not be resolved.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// The project directory or `pyproject.toml` could not be read.
    #[error("cannot read `{}`: {message}", path.display())]
    Read {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        message: String,
    },
    /// `pyproject.toml` is not valid TOML.
    #[error("`{}`:{line}:{column}: invalid TOML: {message}", file.display())]
    Syntax {
        /// The file.
        file: PathBuf,
        /// 1-based.
        line: usize,
        /// 1-based, in characters.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// A key no table accepts.
    #[error("`{}`:{line}:{column}: unknown key `{key}` in [{table}]{}", file.display(), note.as_ref().map(|n| format!(" ({n})")).unwrap_or_default())]
    UnknownKey {
        /// The file.
        file: PathBuf,
        /// 1-based.
        line: usize,
        /// 1-based.
        column: usize,
        /// Ex) `tool.cibuildwheel`
        table: String,
        /// The key as written.
        key: String,
        /// The nearest valid key (``did you mean `x`?``) or where the key belongs.
        note: Option<String>,
    },
    /// A value of the wrong TOML type.
    #[error("`{}`:{line}:{column}: `{key}` in [{table}] must be {expected}, not {found}", file.display())]
    WrongType {
        /// The file.
        file: PathBuf,
        /// 1-based.
        line: usize,
        /// 1-based.
        column: usize,
        /// Ex) `tool.cibuildwheel`
        table: String,
        /// Ex) `environment.CFLAGS`
        key: String,
        /// Ex) `a string or an array of strings`
        expected: &'static str,
        /// Ex) `an integer`
        found: &'static str,
    },
    /// A value of the right type that is not valid (an unknown architecture, an image
    /// reference with shell characters, …).
    #[error("{location}: invalid `{key}`: {message}")]
    Invalid {
        /// Ex) `` `pyproject.toml`:12:8 `` or ``environment variable `CIBW_ARCHS` ``.
        location: String,
        /// The option.
        key: String,
        /// What is wrong and what is accepted.
        message: String,
    },
    /// Nothing is selected; the message says what exists.
    #[error("nothing to build: {0}")]
    EmptySelection(String),
    /// More jobs than one GitHub matrix may hold.
    #[error(
        "the matrix would have {jobs} jobs, more than the 256 GitHub allows in one matrix (use `--split arch`)"
    )]
    MatrixTooLarge {
        /// The number of entries.
        jobs: usize,
    },
}
