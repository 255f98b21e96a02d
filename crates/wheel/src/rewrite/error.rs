//! Why a wheel could not be rewritten.

use super::*;

/// Why a wheel could not be rewritten. Every variant names the output wheel and renders as one
/// line; underlying errors are in [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
pub enum RewriteError {
    /// The output path is the input wheel itself.
    #[error("`{}`: the output would overwrite the input wheel", file_name(output))]
    SameAsInput {
        /// The output path.
        output: PathBuf,
    },
    /// The output file name changes the distribution name or version.
    #[error(
        "`{}`: the output name must keep the input's distribution name and version `{expected}`",
        file_name(output)
    )]
    FilenameMismatch {
        /// The output path.
        output: PathBuf,
        /// The input's `name-version`. Ex) `foo-1.0`
        expected: String,
    },
    /// The compression level is outside 0 to 9.
    #[error(
        "`{}`: invalid compression level {level} (expected 0 to 9)",
        file_name(output)
    )]
    CompressionLevel {
        /// The output path.
        output: PathBuf,
        /// The level given.
        level: i64,
    },
    /// The plan replaces or removes an entry the input does not have.
    #[error(
        "`{}`: cannot {action} `{entry}`: no such file in the input wheel",
        file_name(output)
    )]
    UnknownEntry {
        /// The output path.
        output: PathBuf,
        /// `replace` or `remove`.
        action: &'static str,
        /// The entry name.
        entry: String,
    },
    /// The plan touches an entry the rewrite writes itself (`WHEEL`, `RECORD`, its signatures)
    /// or one a wheel cannot do without (`METADATA`).
    #[error(
        "`{}`: cannot {action} `{entry}`: the rewrite manages it",
        file_name(output)
    )]
    ProtectedEntry {
        /// The output path.
        output: PathBuf,
        /// `replace`, `add` or `remove`.
        action: &'static str,
        /// The entry name.
        entry: String,
    },
    /// The plan would write one name twice (an addition that exists, a name replaced twice, an
    /// entry both replaced and removed).
    #[error("`{}`: `{entry}` would be written twice", file_name(output))]
    DuplicateEntry {
        /// The output path.
        output: PathBuf,
        /// The entry name.
        entry: String,
    },
    /// An added entry's name is unsafe or unusable.
    #[error(
        "`{}`: cannot add `{}`: {reason}",
        file_name(output),
        entry.escape_debug()
    )]
    InvalidEntryName {
        /// The output path.
        output: PathBuf,
        /// The entry name.
        entry: String,
        /// What is wrong. Ex) "has a `..` component"
        reason: &'static str,
    },
    /// An unchanged file has no row in the input `RECORD`, or its row has no hash.
    #[error(
        "`{}`: `{entry}` has no hashed row in the input RECORD",
        file_name(output)
    )]
    NotInRecord {
        /// The output path.
        output: PathBuf,
        /// The entry name.
        entry: String,
    },
    /// An unchanged file's `RECORD` size differs from the zip directory's.
    #[error(
        "`{}`: the input RECORD gives `{entry}` {record} bytes, the zip directory {zip}",
        file_name(output)
    )]
    RecordSizeMismatch {
        /// The output path.
        output: PathBuf,
        /// The entry name.
        entry: String,
        /// The size in `RECORD`.
        record: u64,
        /// The size in the zip directory.
        zip: u64,
    },
    /// A temporary file could not be created in the output directory.
    #[error(
        "`{}`: failed to create a temporary file in `{}`",
        file_name(output),
        dir.display()
    )]
    CreateTemporary {
        /// The output path.
        output: PathBuf,
        /// The output directory.
        dir: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// An unchanged entry could not be read from the input.
    #[error(
        "`{}`: failed to read `{entry}` from the input wheel",
        file_name(output)
    )]
    ReadInput {
        /// The output path.
        output: PathBuf,
        /// The entry name.
        entry: String,
        /// The I/O or zip error.
        #[source]
        source: io::Error,
    },
    /// A producer failed (or panicked).
    #[error("`{}`: failed to produce `{entry}`", file_name(output))]
    Produce {
        /// The output path.
        output: PathBuf,
        /// The entry name.
        entry: String,
        /// The producer's error.
        #[source]
        source: io::Error,
    },
    /// A new entry could not be compressed (temporary file I/O in the output directory).
    #[error(
        "`{}`: failed to compress `{entry}` (temporary files in `{}`)",
        file_name(output),
        output.parent().unwrap_or(Path::new(".")).display()
    )]
    Compress {
        /// The output path.
        output: PathBuf,
        /// The entry name.
        entry: String,
        /// The I/O or zip error.
        #[source]
        source: io::Error,
    },
    /// The output could not be written or synced (a full disk).
    #[error("`{}`: failed to write the output wheel `{}`", file_name(output), output.display())]
    Write {
        /// The output path.
        output: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The finished output could not be renamed into place.
    #[error(
        "`{}`: failed to move the finished wheel into place",
        file_name(output)
    )]
    Persist {
        /// The output path.
        output: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
}
