//! Why a wheel could not be opened, read or verified.

use super::*;

/// Why a wheel could not be opened, read or verified. Every variant names the wheel file and
/// renders as one line; underlying I/O, zip and parse errors are in [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The file name is not a valid wheel file name.
    #[error("`{}`: invalid wheel filename", file_name(wheel))]
    Filename {
        /// The wheel path.
        wheel: PathBuf,
        /// What is wrong with the name.
        #[source]
        source: WheelFilenameError,
    },
    /// The file could not be opened.
    #[error("`{}`: failed to open the wheel", file_name(wheel))]
    Open {
        /// The wheel path.
        wheel: PathBuf,
        /// The I/O error (names the path).
        #[source]
        source: io::Error,
    },
    /// The file is not a readable zip archive (or it is truncated).
    #[error("`{}`: not a valid zip archive", file_name(wheel))]
    Zip {
        /// The wheel path.
        wheel: PathBuf,
        /// The zip reader's complaint.
        #[source]
        source: ZipError,
    },
    /// An entry name could not be decoded.
    #[error("`{}`: zip entry #{index} has an undecodable name", file_name(wheel))]
    EntryName {
        /// The wheel path.
        wheel: PathBuf,
        /// The entry's position in the central directory.
        index: usize,
        /// The zip reader's complaint.
        #[source]
        source: ZipError,
    },
    /// An entry name could escape the extraction root or is otherwise unsafe.
    #[error("`{}`: unsafe entry name `{}`: {reason}", file_name(wheel), entry.escape_debug())]
    UnsafeEntryName {
        /// The wheel path.
        wheel: PathBuf,
        /// The entry name as found.
        entry: String,
        /// What is wrong. Ex) "has a `..` component"
        reason: &'static str,
    },
    /// The central directory lists the same name twice.
    #[error(
        "`{}`: the zip central directory lists an entry name more than once",
        file_name(wheel)
    )]
    DuplicateEntries {
        /// The wheel path.
        wheel: PathBuf,
    },
    /// A file and a directory entry have the same path.
    #[error(
        "`{}`: `{entry}` is both a file and a directory entry",
        file_name(wheel)
    )]
    DuplicateEntry {
        /// The wheel path.
        wheel: PathBuf,
        /// The path without trailing `/`.
        entry: String,
    },
    /// An entry uses a compression method other than stored or deflate.
    #[error(
        "`{}`: entry `{entry}` uses unsupported compression method `{method}`",
        file_name(wheel)
    )]
    UnsupportedCompression {
        /// The wheel path.
        wheel: PathBuf,
        /// The entry name.
        entry: String,
        /// The method's name. Ex) `Bzip2`
        method: String,
    },
    /// An entry is encrypted.
    #[error("`{}`: entry `{entry}` is encrypted", file_name(wheel))]
    EncryptedEntry {
        /// The wheel path.
        wheel: PathBuf,
        /// The entry name.
        entry: String,
    },
    /// No `.dist-info` directory matches the file name.
    #[error("`{}`: no `{expected}` directory", file_name(wheel))]
    MissingDistInfo {
        /// The wheel path.
        wheel: PathBuf,
        /// The directory expected from the file name. Ex) `foo-1.0.dist-info`
        expected: String,
    },
    /// More than one top-level `.dist-info` directory (a wheel has exactly one).
    #[error(
        "`{}`: more than one `.dist-info` directory (`{}`); a wheel has exactly one, so rebuild it from a clean build directory",
        file_name(wheel),
        dirs.join("`, `")
    )]
    SeveralDistInfo {
        /// The wheel path.
        wheel: PathBuf,
        /// The directories, sorted.
        dirs: Vec<String>,
    },
    /// The `.dist-info` directory names another distribution or version than the file name.
    #[error(
        "`{}`: the `.dist-info` directory `{found}` does not match the file name (expected `{expected}`); rename the wheel or rebuild it",
        file_name(wheel)
    )]
    DistInfoMismatch {
        /// The wheel path.
        wheel: PathBuf,
        /// The directory in the wheel. Ex) `bar-2.0.dist-info`
        found: String,
        /// The directory the file name calls for. Ex) `foo-1.0.dist-info`
        expected: String,
    },
    /// `Wheel-Version` has a major version other than 1: installers must refuse the wheel.
    #[error(
        "`{}`: `{file}` says `Wheel-Version: {version}`, a format this tool does not understand (only major version 1 exists); installers refuse such a wheel, so rebuild it with a standard build backend",
        file_name(wheel)
    )]
    UnsupportedWheelVersion {
        /// The wheel path.
        wheel: PathBuf,
        /// The `WHEEL` path inside the wheel.
        file: String,
        /// The version. Ex) `9.0`
        version: String,
    },
    /// A required metadata file is absent. Ex) `foo-1.0.dist-info/WHEEL`
    #[error("`{}`: missing `{file}`", file_name(wheel))]
    MissingFile {
        /// The wheel path.
        wheel: PathBuf,
        /// The missing path inside the wheel.
        file: String,
    },
    /// `RECORD` could not be parsed.
    #[error("`{}`: invalid `{file}`", file_name(wheel))]
    Record {
        /// The wheel path.
        wheel: PathBuf,
        /// The `RECORD` path inside the wheel.
        file: String,
        /// What is wrong.
        #[source]
        source: Box<RecordError>,
    },
    /// `WHEEL` or `METADATA` could not be parsed.
    #[error("`{}`: invalid `{file}`", file_name(wheel))]
    Metadata {
        /// The wheel path.
        wheel: PathBuf,
        /// The file's path inside the wheel.
        file: String,
        /// What is wrong.
        #[source]
        source: MetadataError,
    },
    /// The requested entry does not exist.
    #[error("`{}`: no entry `{entry}`", file_name(wheel))]
    EntryNotFound {
        /// The wheel path.
        wheel: PathBuf,
        /// The requested name.
        entry: String,
    },
    /// A file entry is not listed in `RECORD`.
    #[error("`{}`: `{entry}` is not listed in RECORD", file_name(wheel))]
    NotInRecord {
        /// The wheel path.
        wheel: PathBuf,
        /// The entry name.
        entry: String,
    },
    /// `RECORD` lists a file without a hash (only `RECORD` itself may lack one).
    #[error("`{}`: RECORD has no hash for `{entry}`", file_name(wheel))]
    MissingHash {
        /// The wheel path.
        wheel: PathBuf,
        /// The entry name.
        entry: String,
    },
    /// `RECORD` lists a path that is not a file in the archive.
    #[error(
        "`{}`: `{entry}` is listed in RECORD but missing from the archive",
        file_name(wheel)
    )]
    MissingFromArchive {
        /// The wheel path.
        wheel: PathBuf,
        /// The path from `RECORD`.
        entry: String,
    },
    /// An entry's contents do not match its `RECORD` hash.
    #[error(
        "`{}`: RECORD hash mismatch for `{entry}` (expected `{expected}`, found `{actual}`)",
        file_name(wheel)
    )]
    HashMismatch {
        /// The wheel path.
        wheel: PathBuf,
        /// The entry name.
        entry: String,
        /// The hash from `RECORD`. Ex) `sha256=…`
        expected: String,
        /// The hash of the contents.
        actual: String,
    },
    /// An entry's size does not match its `RECORD` size.
    #[error(
        "`{}`: RECORD size mismatch for `{entry}` (expected {expected} bytes, found {actual})",
        file_name(wheel)
    )]
    SizeMismatch {
        /// The wheel path.
        wheel: PathBuf,
        /// The entry name.
        entry: String,
        /// The size from `RECORD`.
        expected: u64,
        /// The size of the contents.
        actual: u64,
    },
    /// An entry could not be read or inflated (truncated data, corrupt deflate stream, CRC
    /// mismatch, I/O error).
    #[error("`{}`: failed to read `{entry}`", file_name(wheel))]
    ReadEntry {
        /// The wheel path.
        wheel: PathBuf,
        /// The entry name.
        entry: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

/// The last component of `path` for messages (the whole path if it has none).
pub(crate) fn file_name(path: &Path) -> Cow<'_, str> {
    path.file_name()
        .unwrap_or(path.as_os_str())
        .to_string_lossy()
}
