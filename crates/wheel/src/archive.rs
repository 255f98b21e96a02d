//! A validated, read-only view of a wheel file that never extracts to disk.
//!
//! [`WheelArchive::open`] parses the file name, reads the zip central directory, rejects unsafe or
//! duplicate entry names, finds the `.dist-info` directory and parses `RECORD`, `WHEEL` and
//! `METADATA`. Contents are read lazily and every full read is checked against `RECORD` (hash and
//! size), so a caller can never act on bytes the wheel's own manifest does not vouch for.
//!
//! Design notes:
//!
//! * The file is read with positional reads (`pread`) through a small buffered cursor
//!   (`SharedFile`). Cloning the cursor gives an independent position over the same file
//!   descriptor, so [`WheelArchive::verify_and_read`] runs several workers over one open file,
//!   each with its own cloned `ZipArchive` (the central directory is shared behind an `Arc`).
//! * Entries are hashed while they are inflated, in chunks of `CHUNK_LEN` (256 KiB), so every byte is
//!   inflated once and hashed while still in cache; memory stays bounded by a few chunk buffers
//!   per worker plus whatever contents the caller asks to keep.
//! * The zip CRC-32 check is skipped for entries that are verified against a `RECORD` hash: the
//!   sha256 check is strictly stronger and a mismatch then surfaces as the more useful
//!   [`ArchiveError::HashMismatch`]. Entries that `RECORD` cannot cover (`RECORD` itself and its
//!   signatures) keep the CRC-32 check.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::str::FromStr as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use zip::result::ZipError;
use zip::{CompressionMethod, ZipArchive, ZipReadOptions};

use super::filename::{WheelFilename, WheelFilenameError, normalize_name};
use super::metadata::{Metadata, MetadataError, WheelInfo};
use super::record::{Record, RecordError, RecordHash};

/// How many leading bytes [`WheelArchive::verify_and_read`] shows its `want` callback: the first
/// `min(size, PROBE_LEN)` bytes of the entry.
pub const PROBE_LEN: usize = 4096;

/// Size of the inflate/hash chunks and of each worker's read buffer.
const CHUNK_LEN: usize = 256 * 1024;

/// The most worker threads [`WheelArchive::verify_and_read`] starts.
const MAX_THREADS: usize = 4;

/// Below this much uncompressed data, [`WheelArchive::verify_and_read`] stays on one thread.
const PARALLEL_THRESHOLD: u64 = 4 * 1024 * 1024;

/// Upper bound for the metadata files read at open (`RECORD`, `WHEEL`, `METADATA`).
const METADATA_LIMIT: u64 = 64 * 1024 * 1024;

/// Upper bound for the up-front allocation of kept contents (the declared size can lie).
/// Tiny in tests, so that the growth path is exercised.
const MAX_PREALLOCATION: u64 = if cfg!(test) {
    16 * 1024
} else {
    256 * 1024 * 1024
};

/// How an entry is stored in the zip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compression {
    /// No compression (method 0).
    Stored,
    /// Deflate (method 8).
    Deflated,
}

/// One entry of the zip central directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryInfo {
    /// The entry name, `/`-separated, validated (relative, no `..`, `.`, empty components,
    /// backslashes or NUL). Directories end with `/`. Ex) `foo/_core.so`
    pub name: String,
    /// The position in the central directory (and in [`WheelArchive::entries`]).
    pub index: usize,
    /// The stored (compressed) size in bytes, as declared by the central directory.
    pub compressed_size: u64,
    /// The uncompressed size in bytes, as declared by the central directory.
    pub size: u64,
    /// The compression method.
    pub compression: Compression,
    /// The Unix mode from the external attributes, if the producer recorded one.
    pub unix_mode: Option<u32>,
    /// Whether this is a directory entry (name ends with `/`).
    pub is_dir: bool,
    /// Whether the Unix mode marks a symbolic link.
    pub is_symlink: bool,
}

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
pub(super) fn file_name(path: &Path) -> Cow<'_, str> {
    path.file_name()
        .unwrap_or(path.as_os_str())
        .to_string_lossy()
}

/// A buffered cursor over a shared file using positional reads.
///
/// `Clone` gives an independent cursor (and buffer) over the same file descriptor, which is what
/// lets several `ZipArchive`s read one wheel concurrently. Seeking is free: it only moves the
/// position, and the buffer is reused when the position lands inside it.
#[derive(Debug)]
pub(super) struct SharedFile {
    file: Arc<std::fs::File>,
    len: u64,
    pos: u64,
    buf: Vec<u8>,
    buf_start: u64,
    buf_filled: usize,
}

impl SharedFile {
    fn new(file: std::fs::File, len: u64) -> Self {
        Self {
            file: Arc::new(file),
            len,
            pos: 0,
            buf: Vec::new(),
            buf_start: 0,
            buf_filled: 0,
        }
    }

    #[cfg(unix)]
    fn read_at(&self, out: &mut [u8], offset: u64) -> io::Result<usize> {
        std::os::unix::fs::FileExt::read_at(&*self.file, out, offset)
    }

    #[cfg(windows)]
    fn read_at(&self, out: &mut [u8], offset: u64) -> io::Result<usize> {
        // `seek_read` moves the shared cursor, but every read here passes its own offset.
        std::os::windows::fs::FileExt::seek_read(&*self.file, out, offset)
    }
}

impl Clone for SharedFile {
    fn clone(&self) -> Self {
        Self {
            file: Arc::clone(&self.file),
            len: self.len,
            pos: self.pos,
            buf: Vec::new(),
            buf_start: 0,
            buf_filled: 0,
        }
    }
}

impl Read for SharedFile {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() || self.pos >= self.len {
            return Ok(0);
        }
        let buffered =
            self.pos >= self.buf_start && self.pos - self.buf_start < self.buf_filled as u64;
        if !buffered {
            if out.len() >= CHUNK_LEN {
                // Large reads bypass the buffer.
                let n = self.read_at(out, self.pos)?;
                self.pos += n as u64;
                return Ok(n);
            }
            if self.buf.len() < CHUNK_LEN {
                self.buf.resize(CHUNK_LEN, 0);
            }
            let mut buf = std::mem::take(&mut self.buf);
            let result = self.read_at(&mut buf, self.pos);
            self.buf = buf;
            self.buf_start = self.pos;
            self.buf_filled = 0;
            self.buf_filled = result?;
            if self.buf_filled == 0 {
                return Ok(0);
            }
        }
        // In range: `pos - buf_start < buf_filled <= buf.len()`.
        let start = usize::try_from(self.pos - self.buf_start).unwrap_or(usize::MAX);
        let available = self.buf.get(start..self.buf_filled).unwrap_or_default();
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for SharedFile {
    fn seek(&mut self, position: SeekFrom) -> io::Result<u64> {
        let new = match position {
            SeekFrom::Start(offset) => Some(offset),
            SeekFrom::End(delta) => self.len.checked_add_signed(delta),
            SeekFrom::Current(delta) => self.pos.checked_add_signed(delta),
        };
        let Some(new) = new else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek to a negative or overflowing position",
            ));
        };
        self.pos = new;
        Ok(new)
    }
}

/// What `RECORD` says an entry must hash to.
#[derive(Debug, Clone, Copy)]
struct Expected<'a> {
    hash: &'a RecordHash,
    size: Option<u64>,
}

/// `RECORD` with the lookups verification needs.
#[derive(Debug)]
struct Manifest {
    dist_info_dir: String,
    record: Record,
    /// Path -> row in `record.entries`.
    rows: HashMap<String, usize>,
}

impl Manifest {
    fn new(dist_info_dir: String, record: Record) -> Self {
        let rows = record
            .entries
            .iter()
            .enumerate()
            .map(|(row, entry)| (entry.path.clone(), row))
            .collect();
        Self {
            dist_info_dir,
            record,
            rows,
        }
    }

    /// Whether `path` is `RECORD` or one of its signatures, which `RECORD` cannot hash.
    fn is_unverifiable(&self, path: &str) -> bool {
        path.strip_prefix(self.dist_info_dir.as_str())
            .and_then(|rest| rest.strip_prefix('/'))
            .is_some_and(|rest| matches!(rest, "RECORD" | "RECORD.jws" | "RECORD.p7s"))
    }

    /// What `RECORD` requires of a file entry; `None` for `RECORD` and its signatures.
    fn expected(
        &self,
        wheel: &Path,
        entry: &EntryInfo,
    ) -> Result<Option<Expected<'_>>, ArchiveError> {
        if self.is_unverifiable(&entry.name) {
            return Ok(None);
        }
        let Some(row) = self
            .rows
            .get(&entry.name)
            .and_then(|&row| self.record.entries.get(row))
        else {
            return Err(ArchiveError::NotInRecord {
                wheel: wheel.to_path_buf(),
                entry: entry.name.clone(),
            });
        };
        let Some(hash) = &row.hash else {
            return Err(ArchiveError::MissingHash {
                wheel: wheel.to_path_buf(),
                entry: entry.name.clone(),
            });
        };
        Ok(Some(Expected {
            hash,
            size: row.size,
        }))
    }
}

/// A wheel file opened for reading, with its metadata parsed.
#[derive(Debug)]
pub struct WheelArchive {
    path: PathBuf,
    filename: WheelFilename,
    zip: ZipArchive<SharedFile>,
    entries: Vec<EntryInfo>,
    by_name: HashMap<String, usize>,
    manifest: Manifest,
    wheel_info: WheelInfo,
    metadata: Metadata,
}

impl WheelArchive {
    /// Opens and validates a wheel: file name, zip structure, entry names, `.dist-info`
    /// directory, `RECORD`, `WHEEL` and `METADATA` (the latter two verified against `RECORD`).
    ///
    /// Nothing else is read; use [`Self::verify_all`] or [`Self::verify_and_read`] to check all
    /// contents.
    pub fn open(path: &Path) -> Result<Self, ArchiveError> {
        let wheel = || path.to_path_buf();
        let filename = WheelFilename::from_path(path).map_err(|source| ArchiveError::Filename {
            wheel: wheel(),
            source,
        })?;
        let open_error = |source| ArchiveError::Open {
            wheel: wheel(),
            source,
        };
        let file = fs_err::File::open(path).map_err(open_error)?;
        let len = file.metadata().map_err(open_error)?.len();
        let (file, _) = file.into_parts();
        let mut zip =
            ZipArchive::new(SharedFile::new(file, len)).map_err(|source| ArchiveError::Zip {
                wheel: wheel(),
                source,
            })?;
        if zip.has_duplicate_names() {
            return Err(ArchiveError::DuplicateEntries { wheel: wheel() });
        }

        let entries = list_entries(&zip, path)?;
        let mut by_name = HashMap::with_capacity(entries.len());
        let mut paths = HashSet::with_capacity(entries.len());
        for entry in &entries {
            by_name.insert(entry.name.clone(), entry.index);
            let bare = entry.name.strip_suffix('/').unwrap_or(&entry.name);
            if !paths.insert(bare) {
                return Err(ArchiveError::DuplicateEntry {
                    wheel: wheel(),
                    entry: bare.to_string(),
                });
            }
        }
        let dist_info_dir = find_dist_info(&entries, &filename, path)?;

        // RECORD first (it cannot vouch for itself), then WHEEL and METADATA checked against it.
        let metadata_entry = |name: &str| {
            let entry = by_name
                .get(name)
                .and_then(|&index| entries.get(index))
                .filter(|entry| !entry.is_dir)
                .ok_or_else(|| ArchiveError::MissingFile {
                    wheel: wheel(),
                    file: name.to_string(),
                })?;
            if entry.size > METADATA_LIMIT {
                return Err(ArchiveError::ReadEntry {
                    wheel: wheel(),
                    entry: entry.name.clone(),
                    source: io::Error::other(format!(
                        "declared size {} exceeds the {METADATA_LIMIT} byte limit for metadata files",
                        entry.size
                    )),
                });
            }
            Ok(entry)
        };
        let record_path = format!("{dist_info_dir}/RECORD");
        let record_entry = metadata_entry(&record_path)?;
        let record_bytes = read_full(&mut zip, path, record_entry, None)?;
        let record = Record::from_bytes(&record_bytes).map_err(|source| ArchiveError::Record {
            wheel: wheel(),
            file: record_path.clone(),
            source: Box::new(source),
        })?;
        let manifest = Manifest::new(dist_info_dir, record);

        let mut read_metadata_file = |name: &str| {
            let entry = metadata_entry(name)?;
            let expected = manifest.expected(path, entry)?;
            read_full(&mut zip, path, entry, expected)
        };
        let wheel_path = format!("{}/WHEEL", manifest.dist_info_dir);
        let wheel_info = WheelInfo::parse(&read_metadata_file(&wheel_path)?).map_err(|source| {
            ArchiveError::Metadata {
                wheel: wheel(),
                file: wheel_path.clone(),
                source,
            }
        })?;
        if wheel_info.major_version() != Some(1) {
            return Err(ArchiveError::UnsupportedWheelVersion {
                wheel: wheel(),
                file: wheel_path,
                version: wheel_info.wheel_version.clone(),
            });
        }
        let metadata_path = format!("{}/METADATA", manifest.dist_info_dir);
        let metadata = Metadata::parse(&read_metadata_file(&metadata_path)?).map_err(|source| {
            ArchiveError::Metadata {
                wheel: wheel(),
                file: metadata_path,
                source,
            }
        })?;

        Ok(Self {
            path: path.to_path_buf(),
            filename,
            zip,
            entries,
            by_name,
            manifest,
            wheel_info,
            metadata,
        })
    }

    /// The parsed file name.
    #[must_use]
    pub fn filename(&self) -> &WheelFilename {
        &self.filename
    }

    /// The path the wheel was opened from.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The parsed `WHEEL` file.
    #[must_use]
    pub fn wheel_info(&self) -> &WheelInfo {
        &self.wheel_info
    }

    /// The parsed `METADATA` file.
    #[must_use]
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The parsed `RECORD` file.
    #[must_use]
    pub fn record(&self) -> &Record {
        &self.manifest.record
    }

    /// The `.dist-info` directory name as found in the archive (no trailing `/`).
    /// Ex) `foo-1.0.dist-info`
    #[must_use]
    pub fn dist_info_dir(&self) -> &str {
        &self.manifest.dist_info_dir
    }

    /// All entries in central directory order (`entries()[i].index == i`), directories
    /// included.
    #[must_use]
    pub fn entries(&self) -> &[EntryInfo] {
        &self.entries
    }

    /// The entry called `name`, if any.
    #[must_use]
    pub fn entry(&self, name: &str) -> Option<&EntryInfo> {
        self.by_name
            .get(name)
            .and_then(|&index| self.entries.get(index))
    }

    /// Reads an entry fully and verifies it against its `RECORD` hash and size.
    ///
    /// `RECORD` itself and its signatures (`RECORD.jws`, `RECORD.p7s`) are read without
    /// verification (their zip CRC-32 is still checked); a directory reads as empty.
    pub fn read_entry(&mut self, name: &str) -> Result<Vec<u8>, ArchiveError> {
        // Field-level borrows: the entry and manifest are read while the zip cursor moves.
        let Some(entry) = self.by_name.get(name).and_then(|&i| self.entries.get(i)) else {
            return Err(self.not_found(name));
        };
        if entry.is_dir {
            return Ok(Vec::new());
        }
        let expected = self.manifest.expected(&self.path, entry)?;
        read_full(&mut self.zip, &self.path, entry, expected)
    }

    /// Streams an entry's content into `out`, verifying its RECORD hash and size on the way
    /// (memory stays bounded by one buffer). On a mismatch the error is returned after the
    /// bytes were written, so callers write to a scratch file they discard on error.
    pub fn extract_entry_to(
        &self,
        name: &str,
        out: &mut dyn io::Write,
    ) -> Result<u64, ArchiveError> {
        self.extract_entry_with(name, out, Verification::Hashes)
    }

    /// Like [`Self::extract_entry_to`], choosing how much to check. With
    /// [`Verification::SizesOnly`] no hash is computed: the zip CRC-32 and the RECORD size are
    /// checked, which is enough for an entry whose hash was verified in an earlier pass over the
    /// same file (a changed file shows up as a CRC or size mismatch).
    pub fn extract_entry_with(
        &self,
        name: &str,
        out: &mut dyn io::Write,
        verification: Verification,
    ) -> Result<u64, ArchiveError> {
        let Some(entry) = self.by_name.get(name).and_then(|&i| self.entries.get(i)) else {
            return Err(self.not_found(name));
        };
        if entry.is_dir {
            return Ok(0);
        }
        let expected = match verification {
            Verification::Hashes => self.manifest.expected(&self.path, entry)?,
            Verification::SizesOnly => None,
        };
        let read_error = |source: io::Error| ArchiveError::ReadEntry {
            wheel: self.path.clone(),
            entry: entry.name.clone(),
            source,
        };
        let mut zip = self.zip.clone();
        let options = ZipReadOptions::new().ignore_crc32(expected.is_some());
        let mut file = zip
            .by_index_with_options(entry.index, options)
            .map_err(|source| read_error(source.into()))?;
        let mut hasher = expected.map(|e| e.hash.algorithm.hasher());
        let mut buffer = vec![0; CHUNK_LEN];
        let mut total = 0u64;
        loop {
            let n = read_retrying(&mut file, &mut buffer).map_err(read_error)?;
            if n == 0 {
                break;
            }
            if let Some(hasher) = &mut hasher {
                hasher.update(&buffer[..n]);
            }
            out.write_all(&buffer[..n]).map_err(read_error)?;
            total += n as u64;
        }
        if expected.is_none() && total != entry.size {
            return Err(ArchiveError::SizeMismatch {
                wheel: self.path.clone(),
                entry: entry.name.clone(),
                expected: entry.size,
                actual: total,
            });
        }
        if let (Some(expected), Some(hasher)) = (expected, hasher) {
            if let Some(size) = expected.size
                && size != total
            {
                return Err(ArchiveError::SizeMismatch {
                    wheel: self.path.clone(),
                    entry: entry.name.clone(),
                    expected: size,
                    actual: total,
                });
            }
            let actual = hasher.finish();
            if actual.digest != expected.hash.digest {
                return Err(ArchiveError::HashMismatch {
                    wheel: self.path.clone(),
                    entry: entry.name.clone(),
                    expected: expected.hash.encode(),
                    actual: actual.encode(),
                });
            }
        }
        Ok(total)
    }

    /// Reads at most `max_len` leading bytes of an entry, without any verification (for probing
    /// file types, e.g. the ELF magic). Inflates only as much as needed.
    pub fn read_prefix(&mut self, name: &str, max_len: usize) -> Result<Vec<u8>, ArchiveError> {
        let Some(entry) = self.by_name.get(name).and_then(|&i| self.entries.get(i)) else {
            return Err(self.not_found(name));
        };
        if entry.is_dir {
            return Ok(Vec::new());
        }
        let read_error = |source| ArchiveError::ReadEntry {
            wheel: self.path.clone(),
            entry: entry.name.clone(),
            source,
        };
        let options = ZipReadOptions::new().ignore_crc32(true);
        let file = self
            .zip
            .by_index_with_options(entry.index, options)
            .map_err(|source| read_error(source.into()))?;
        let limit = u64::try_from(max_len).unwrap_or(u64::MAX);
        let mut prefix = Vec::with_capacity(usize::try_from(entry.size.min(limit)).unwrap_or(0));
        file.take(limit)
            .read_to_end(&mut prefix)
            .map_err(read_error)?;
        Ok(prefix)
    }

    /// Verifies the whole wheel against `RECORD`: every file entry is listed and matches its
    /// hash and size, and every `RECORD` row (except `RECORD` itself and signatures) is a file in
    /// the archive.
    pub fn verify_all(&self) -> Result<(), ArchiveError> {
        self.verify_and_read(|_, _| false).map(|_| ())
    }

    /// [`Self::verify_all`] in one pass that also returns the full contents of the entries
    /// `want` selects, as `(entry index, contents)` sorted by index.
    ///
    /// `want` sees the entry and its first `min(size, PROBE_LEN)` bytes; it may be called from
    /// several threads at once. Entries are processed on up to `MAX_THREADS` threads (largest
    /// first); on failure the error for the lowest-index failing entry seen is returned. Memory is
    /// bounded by a few 256 KiB buffers per thread plus the kept contents.
    pub fn verify_and_read(
        &self,
        want: impl Fn(&EntryInfo, &[u8]) -> bool + Sync,
    ) -> Result<Vec<(usize, Vec<u8>)>, ArchiveError> {
        self.verify_and_read_on(None, &want, &|_, content| content)
    }

    /// Reads a kept content back into memory (never spilled here: no threshold is set).
    fn kept_vec(kept: Kept) -> Vec<u8> {
        kept.into_vec().unwrap_or_default()
    }

    /// Like [`Self::verify_and_read`], but hands each wanted entry's verified content to `visit`
    /// on the worker thread that read it and keeps only what `visit` returns. Analysing large
    /// entries this way runs the analysis in parallel and never holds every content at once.
    ///
    /// With [`Verification::SizesOnly`] no hash is computed: every entry's RECORD size is
    /// compared with the size in the zip directory, and entries that are not wanted are not
    /// inflated past their first bytes.
    ///
    /// Wanted entries larger than [`SPILL_THRESHOLD`] are handed over as [`Kept::File`].
    pub fn verify_and_visit<T: Send>(
        &self,
        verification: Verification,
        want: impl Fn(&EntryInfo, &[u8]) -> bool + Sync,
        visit: impl Fn(&EntryInfo, Kept) -> T + Sync,
    ) -> Result<Vec<(usize, T)>, ArchiveError> {
        self.verify_and_read_on_with(None, verification, Some(SPILL_THRESHOLD), &want, &visit)
    }

    /// [`Self::verify_and_read`] with the thread count fixed (for measurements) or automatic.
    fn verify_and_read_on<T: Send>(
        &self,
        threads: Option<usize>,
        want: &(dyn Fn(&EntryInfo, &[u8]) -> bool + Sync),
        visit: &(dyn Fn(&EntryInfo, Vec<u8>) -> T + Sync),
    ) -> Result<Vec<(usize, T)>, ArchiveError> {
        let visit_kept = |entry: &EntryInfo, kept: Kept| visit(entry, Self::kept_vec(kept));
        self.verify_and_read_on_with(threads, Verification::Hashes, None, want, &visit_kept)
    }

    fn verify_and_read_on_with<T: Send>(
        &self,
        threads: Option<usize>,
        verification: Verification,
        spill: Option<u64>,
        want: &(dyn Fn(&EntryInfo, &[u8]) -> bool + Sync),
        visit: &(dyn Fn(&EntryInfo, Kept) -> T + Sync),
    ) -> Result<Vec<(usize, T)>, ArchiveError> {
        // Structural checks first, in a deterministic order, before any inflating.
        let mut jobs = Vec::with_capacity(self.entries.len());
        for entry in self.entries.iter().filter(|entry| !entry.is_dir) {
            let expected = self.manifest.expected(&self.path, entry)?;
            let expected = match verification {
                Verification::Hashes => expected,
                Verification::SizesOnly => {
                    if let Some(size) = expected.and_then(|e| e.size)
                        && size != entry.size
                    {
                        return Err(ArchiveError::SizeMismatch {
                            wheel: self.path.clone(),
                            entry: entry.name.clone(),
                            expected: size,
                            actual: entry.size,
                        });
                    }
                    None
                }
            };
            jobs.push((entry, expected));
        }
        for row in &self.manifest.record.entries {
            if self.manifest.is_unverifiable(&row.path) {
                continue;
            }
            let present = self.entry(&row.path).is_some_and(|entry| !entry.is_dir);
            if !present {
                return Err(ArchiveError::MissingFromArchive {
                    wheel: self.path.clone(),
                    entry: row.path.clone(),
                });
            }
        }
        // Large entries first, largest first, so that the threads finish together; then the
        // small ones in archive order, so that consecutive entries come from one buffered read
        // instead of one read per entry.
        jobs.sort_by_key(|(entry, _)| {
            if entry.size > CHUNK_LEN as u64 {
                (false, std::cmp::Reverse(entry.size), entry.index)
            } else {
                (true, std::cmp::Reverse(0), entry.index)
            }
        });
        let total: u64 = jobs.iter().map(|(entry, _)| entry.size).sum();
        let threads = match threads {
            Some(threads) => threads.clamp(1, jobs.len().max(1)),
            None if total < PARALLEL_THRESHOLD => 1,
            None => std::thread::available_parallelism()
                .map_or(1, std::num::NonZero::get)
                .min(MAX_THREADS)
                .min(jobs.len())
                .max(1),
        };

        let next = AtomicUsize::new(0);
        let failed = AtomicBool::new(false);
        let worker = |mut zip: ZipArchive<SharedFile>| -> Worker<T> {
            let mut scratch = vec![0; CHUNK_LEN];
            let mut kept = Vec::new();
            while !failed.load(Ordering::Relaxed) {
                let Some(&(entry, expected)) = jobs.get(next.fetch_add(1, Ordering::Relaxed))
                else {
                    break;
                };
                let keep = |prefix: &[u8]| want(entry, prefix);
                match stream_entry(
                    &mut zip,
                    &self.path,
                    entry,
                    expected,
                    &keep,
                    &mut scratch,
                    verification == Verification::SizesOnly,
                    spill,
                ) {
                    Ok(Some(content)) => kept.push((entry.index, visit(entry, content))),
                    Ok(None) => {}
                    Err(err) => {
                        failed.store(true, Ordering::Relaxed);
                        return Worker {
                            kept,
                            error: Some((entry.index, err)),
                        };
                    }
                }
            }
            Worker { kept, error: None }
        };

        let results: Vec<Worker<T>> = if threads == 1 {
            vec![worker(self.zip.clone())]
        } else {
            std::thread::scope(|scope| {
                let worker = &worker;
                let handles: Vec<_> = (1..threads)
                    .map(|_| {
                        let zip = self.zip.clone();
                        scope.spawn(move || worker(zip))
                    })
                    .collect();
                let mut results = vec![worker(self.zip.clone())];
                for handle in handles {
                    match handle.join() {
                        Ok(result) => results.push(result),
                        // A worker only panics on a bug; keep the panic, do not hide it.
                        Err(payload) => std::panic::resume_unwind(payload),
                    }
                }
                results
            })
        };

        let mut kept = Vec::new();
        let mut first_error: Option<(usize, ArchiveError)> = None;
        for result in results {
            kept.extend(result.kept);
            if let Some((index, err)) = result.error
                && first_error.as_ref().is_none_or(|(first, _)| index < *first)
            {
                first_error = Some((index, err));
            }
        }
        if let Some((_, err)) = first_error {
            return Err(err);
        }
        kept.sort_unstable_by_key(|(index, _)| *index);
        Ok(kept)
    }

    /// An independent reader over the zip (own cursor, shared file descriptor and central
    /// directory), for the rewriter's raw copies.
    pub(super) fn zip_reader(&self) -> ZipArchive<SharedFile> {
        self.zip.clone()
    }

    fn not_found(&self, name: &str) -> ArchiveError {
        ArchiveError::EntryNotFound {
            wheel: self.path.clone(),
            entry: name.to_string(),
        }
    }
}

/// Reads a whole file entry, verified when `expected` is given.
fn read_full(
    zip: &mut ZipArchive<SharedFile>,
    wheel: &Path,
    entry: &EntryInfo,
    expected: Option<Expected<'_>>,
) -> Result<Vec<u8>, ArchiveError> {
    let scratch_len = usize::try_from(entry.size)
        .unwrap_or(CHUNK_LEN)
        .clamp(PROBE_LEN, CHUNK_LEN);
    let mut scratch = vec![0; scratch_len];
    let content = stream_entry(
        zip,
        wheel,
        entry,
        expected,
        &|_: &[u8]| true,
        &mut scratch,
        false,
        None,
    )?;
    match content {
        Some(kept) => kept.into_vec().map_err(|source| ArchiveError::ReadEntry {
            wheel: wheel.to_path_buf(),
            entry: entry.name.clone(),
            source,
        }),
        None => Ok(Vec::new()),
    }
}

/// The verified content of a wanted entry: in memory, or — for entries larger than the spill
/// threshold — in an anonymous temporary file, so that huge files never sit in memory.
#[derive(Debug)]
pub enum Kept {
    /// The whole content.
    Memory(Vec<u8>),
    /// An unnamed temporary file holding the content (deleted when dropped).
    File(std::fs::File),
}

impl Kept {
    /// The content in memory (reads a spilled file back; for small entries only).
    pub(crate) fn into_vec(self) -> io::Result<Vec<u8>> {
        match self {
            Kept::Memory(data) => Ok(data),
            Kept::File(mut file) => {
                use io::Seek as _;
                let mut data = Vec::new();
                file.seek(io::SeekFrom::Start(0))?;
                file.read_to_end(&mut data)?;
                Ok(data)
            }
        }
    }
}

/// Entries larger than this are kept in a temporary file by [`WheelArchive::verify_and_visit`].
pub const SPILL_THRESHOLD: u64 = 16 * 1024 * 1024;

/// How much of each entry [`WheelArchive::verify_and_visit`] checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// Every entry's sha256 (or stronger) hash and size against RECORD.
    Hashes,
    /// Only RECORD sizes against the zip directory; no hashing.
    SizesOnly,
}

/// One worker's share of [`WheelArchive::verify_and_read`].
struct Worker<T> {
    kept: Vec<(usize, T)>,
    error: Option<(usize, ArchiveError)>,
}

/// Lists and validates the central directory.
fn list_entries(
    zip: &ZipArchive<SharedFile>,
    wheel: &Path,
) -> Result<Vec<EntryInfo>, ArchiveError> {
    let mut entries = Vec::with_capacity(zip.len());
    for index in 0..zip.len() {
        let data = zip
            .by_index_data(index)
            .map_err(|source| ArchiveError::Zip {
                wheel: wheel.to_path_buf(),
                source,
            })?;
        let name = data
            .name()
            .map_err(|source| ArchiveError::EntryName {
                wheel: wheel.to_path_buf(),
                index,
                source,
            })?
            .into_owned();
        if let Err(reason) = check_entry_name(&name) {
            return Err(ArchiveError::UnsafeEntryName {
                wheel: wheel.to_path_buf(),
                entry: name,
                reason,
            });
        }
        if data.encrypted() {
            return Err(ArchiveError::EncryptedEntry {
                wheel: wheel.to_path_buf(),
                entry: name,
            });
        }
        let compression = match data.compression() {
            CompressionMethod::Stored => Compression::Stored,
            CompressionMethod::Deflated => Compression::Deflated,
            other => {
                return Err(ArchiveError::UnsupportedCompression {
                    wheel: wheel.to_path_buf(),
                    entry: name,
                    method: other.to_string(),
                });
            }
        };
        entries.push(EntryInfo {
            is_dir: name.ends_with('/'),
            is_symlink: data.is_symlink(),
            name,
            index,
            compressed_size: data.compressed_size(),
            size: data.size(),
            compression,
            unix_mode: data.unix_mode(),
        });
    }
    Ok(entries)
}

/// Checks that an entry name is a safe relative path; the error is the reason.
pub(super) fn check_entry_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("the name is empty");
    }
    if name.contains('\0') {
        return Err("contains a NUL byte");
    }
    if name.contains('\\') {
        return Err("contains a backslash");
    }
    if name.starts_with('/') {
        return Err("is an absolute path");
    }
    let path = name.strip_suffix('/').unwrap_or(name);
    for (position, component) in path.split('/').enumerate() {
        match component {
            "" => return Err("has an empty path component"),
            "." => return Err("has a `.` component"),
            ".." => return Err("has a `..` component"),
            _ => {}
        }
        let bytes = component.as_bytes();
        if position == 0 && bytes.len() == 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
            return Err("starts with a drive letter");
        }
    }
    Ok(())
}

/// Finds the one `.dist-info` directory at the top of the archive and checks that its name and
/// version are the file name's (names compared after PEP 503 normalisation, versions as PEP 440
/// versions). Several `.dist-info` directories are an error, as for installers.
fn find_dist_info(
    entries: &[EntryInfo],
    filename: &WheelFilename,
    wheel: &Path,
) -> Result<String, ArchiveError> {
    let expected = filename.dist_info_dir();
    let mut dirs: Vec<&str> = entries
        .iter()
        .filter_map(|entry| entry.name.split_once('/').map(|(top, _)| top))
        .filter(|top| top.ends_with(".dist-info"))
        .collect();
    dirs.sort_unstable();
    dirs.dedup();
    match dirs.as_slice() {
        [] => Err(ArchiveError::MissingDistInfo {
            wheel: wheel.to_path_buf(),
            expected,
        }),
        [dir] if *dir == expected || dist_info_matches(dir, filename) => Ok((*dir).to_owned()),
        [dir] => Err(ArchiveError::DistInfoMismatch {
            wheel: wheel.to_path_buf(),
            found: (*dir).to_owned(),
            expected,
        }),
        _ => Err(ArchiveError::SeveralDistInfo {
            wheel: wheel.to_path_buf(),
            dirs: dirs.iter().map(|d| (*d).to_owned()).collect(),
        }),
    }
}

/// Whether `dir` (`name-version.dist-info`) names the file name's distribution and version.
fn dist_info_matches(dir: &str, filename: &WheelFilename) -> bool {
    let Some((name, version)) = dir
        .strip_suffix(".dist-info")
        .and_then(|stem| stem.rsplit_once('-'))
    else {
        return false;
    };
    if normalize_name(name) != normalize_name(&filename.name) {
        return false;
    }
    match (
        pep440_rs::Version::from_str(version),
        pep440_rs::Version::from_str(&filename.version),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => version == filename.version,
    }
}

/// Reads one entry once, hashing while inflating, and checks it against `expected`.
///
/// `keep` sees the first `min(size, PROBE_LEN)` bytes and decides whether the full contents are
/// returned. `scratch` is the chunk buffer (at least [`PROBE_LEN`] bytes).
#[expect(
    clippy::too_many_arguments,
    reason = "one private streaming routine shared by every read mode"
)]
fn stream_entry(
    zip: &mut ZipArchive<SharedFile>,
    wheel: &Path,
    entry: &EntryInfo,
    expected: Option<Expected<'_>>,
    keep: &dyn Fn(&[u8]) -> bool,
    scratch: &mut Vec<u8>,
    skip_unverified: bool,
    spill: Option<u64>,
) -> Result<Option<Kept>, ArchiveError> {
    let read_error = |source: io::Error| ArchiveError::ReadEntry {
        wheel: wheel.to_path_buf(),
        entry: entry.name.clone(),
        source,
    };
    if scratch.len() < PROBE_LEN {
        scratch.resize(PROBE_LEN, 0);
    }
    let options = ZipReadOptions::new().ignore_crc32(expected.is_some());
    let mut file = zip
        .by_index_with_options(entry.index, options)
        .map_err(|source| read_error(source.into()))?;
    let mut hasher = expected.map(|expected| expected.hash.algorithm.hasher());

    // Probe: fill the first PROBE_LEN bytes (or hit the end).
    let mut filled = 0;
    let mut at_end = false;
    while filled < PROBE_LEN {
        let n = read_retrying(&mut file, &mut scratch[filled..]).map_err(read_error)?;
        if n == 0 {
            at_end = true;
            break;
        }
        filled += n;
    }
    let head = &scratch[..filled];
    if let Some(hasher) = &mut hasher {
        hasher.update(head);
    }
    let mut total = filled as u64;
    // Kept contents are read straight into a zeroed buffer of the declared size: a large
    // zeroed allocation comes fresh from the kernel, so no user-space memset is paid.
    // `filled_to` is the end of the real data; the rest is trimmed at the end.
    let wanted = keep(&head[..filled.min(PROBE_LEN)]);
    if !wanted && hasher.is_none() && skip_unverified {
        return Ok(None);
    }
    if wanted && spill.is_some_and(|threshold| entry.size > threshold) {
        // Large: stream into an unnamed temporary file instead of memory.
        let mut spilled = tempfile::tempfile().map_err(read_error)?;
        let head = scratch[..filled].to_vec();
        io::Write::write_all(&mut spilled, &head).map_err(read_error)?;
        if !at_end {
            loop {
                let n = read_retrying(&mut file, scratch).map_err(read_error)?;
                if n == 0 {
                    break;
                }
                if let Some(hasher) = &mut hasher {
                    hasher.update(&scratch[..n]);
                }
                io::Write::write_all(&mut spilled, &scratch[..n]).map_err(read_error)?;
                total += n as u64;
            }
        }
        drop(file);
        check_expected(wheel, entry, expected, hasher, total)?;
        return Ok(Some(Kept::File(spilled)));
    }
    let mut content = wanted.then(|| {
        let declared = usize::try_from(entry.size.min(MAX_PREALLOCATION)).unwrap_or(filled);
        let mut content = vec![0; declared.max(filled)];
        content[..filled].copy_from_slice(head);
        (content, filled)
    });

    if !at_end {
        match &mut content {
            Some((content, filled_to)) => loop {
                // Hash each chunk right after it is inflated, while it is still in cache.
                let start = *filled_to;
                let n = if start == content.len() {
                    // The declared size is used up: probe with a small read, and grow the
                    // buffer only if there is more.
                    let mut probe = [0; 64];
                    let n = read_retrying(&mut file, &mut probe).map_err(read_error)?;
                    content.extend_from_slice(&probe[..n]);
                    if n > 0 {
                        // Double, in steps of at most `MAX_PREALLOCATION`.
                        let limit = usize::try_from(MAX_PREALLOCATION).unwrap_or(usize::MAX);
                        let grow = content.len().min(limit).max(PROBE_LEN);
                        content.resize(content.len() + grow, 0);
                    }
                    n
                } else {
                    let end = content.len().min(start + CHUNK_LEN);
                    read_retrying(&mut file, &mut content[start..end]).map_err(read_error)?
                };
                if n == 0 {
                    break;
                }
                *filled_to = start + n;
                if let Some(hasher) = &mut hasher {
                    hasher.update(&content[start..start + n]);
                }
                total += n as u64;
            },
            None => loop {
                let n = read_retrying(&mut file, scratch).map_err(read_error)?;
                if n == 0 {
                    break;
                }
                if let Some(hasher) = &mut hasher {
                    hasher.update(&scratch[..n]);
                }
                total += n as u64;
            },
        }
    }
    drop(file);

    check_expected(wheel, entry, expected, hasher, total)?;
    Ok(content.map(|(mut content, filled_to)| {
        content.truncate(filled_to);
        Kept::Memory(content)
    }))
}

/// Compares what was read with the RECORD row.
fn check_expected(
    wheel: &Path,
    entry: &EntryInfo,
    expected: Option<Expected<'_>>,
    hasher: Option<super::record::Hasher>,
    total: u64,
) -> Result<(), ArchiveError> {
    if let (Some(expected), Some(hasher)) = (expected, hasher) {
        if let Some(size) = expected.size
            && size != total
        {
            return Err(ArchiveError::SizeMismatch {
                wheel: wheel.to_path_buf(),
                entry: entry.name.clone(),
                expected: size,
                actual: total,
            });
        }
        let actual = hasher.finish();
        if actual.digest != expected.hash.digest {
            return Err(ArchiveError::HashMismatch {
                wheel: wheel.to_path_buf(),
                entry: entry.name.clone(),
                expected: expected.hash.encode(),
                actual: actual.encode(),
            });
        }
    }
    Ok(())
}

/// `Read::read`, retried on `Interrupted`.
fn read_retrying(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match reader.read(buf) {
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            result => return result,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use zip::write::SimpleFileOptions;

    use super::*;

    const WHEEL_NAME: &str = "foo-1.0-cp312-cp312-linux_x86_64.whl";
    const DIST_INFO: &str = "foo-1.0.dist-info";

    /// The contents of a small valid wheel, `RECORD` excluded.
    fn good_files() -> Vec<(String, Vec<u8>)> {
        let mut elf = b"\x7fELF\x02\x01\x01".to_vec();
        elf.extend((0..20_000u32).map(|i| (i % 251) as u8));
        vec![
            ("foo/".to_string(), Vec::new()),
            ("foo/__init__.py".to_string(), b"from ._core import *\n".to_vec()),
            ("foo/_core.so".to_string(), elf),
            ("foo/data, with comma.txt".to_string(), b"a,b\n".to_vec()),
            (
                format!("{DIST_INFO}/METADATA"),
                b"Metadata-Version: 2.1\nName: foo\nVersion: 1.0\n\nA description\n".to_vec(),
            ),
            (
                format!("{DIST_INFO}/WHEEL"),
                b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: false\nTag: cp312-cp312-linux_x86_64\n"
                    .to_vec(),
            ),
        ]
    }

    /// A `RECORD` for `files` (directories skipped), listing `record_path` last.
    fn record_for(files: &[(String, Vec<u8>)], record_path: &str) -> Vec<u8> {
        let mut record = Record::default();
        for (name, content) in files {
            if name.ends_with('/') {
                continue;
            }
            record.entries.push(super::super::record::RecordEntry {
                path: name.clone(),
                hash: Some(RecordHash::sha256_of(content)),
                size: Some(content.len() as u64),
            });
        }
        record.entries.push(super::super::record::RecordEntry {
            path: record_path.to_string(),
            hash: None,
            size: None,
        });
        record.to_csv_bytes()
    }

    /// `good_files` plus a matching `RECORD`.
    fn good_wheel_files() -> Vec<(String, Vec<u8>)> {
        let mut files = good_files();
        let record_path = format!("{DIST_INFO}/RECORD");
        let record = record_for(&files, &record_path);
        files.push((record_path, record));
        files
    }

    /// Writes `files` as a zip (deflated) and returns its bytes.
    fn zip_bytes(files: &[(String, Vec<u8>)], method: CompressionMethod) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        let options = SimpleFileOptions::default()
            .compression_method(method)
            .unix_permissions(0o644);
        for (name, content) in files {
            if name.ends_with('/') {
                writer.add_directory(name.as_str(), options).unwrap();
            } else {
                writer.start_file(name.as_str(), options).unwrap();
                writer.write_all(content).unwrap();
            }
        }
        writer.finish().unwrap().into_inner()
    }

    /// Replaces every occurrence of `from` with `to` (same length) in zip bytes: this renames
    /// entries in both the local headers and the central directory, producing names no writer
    /// would produce.
    fn patch(mut bytes: Vec<u8>, from: &str, to: &str) -> Vec<u8> {
        assert_eq!(from.len(), to.len());
        let mut found = false;
        let mut start = 0;
        while let Some(offset) = bytes[start..]
            .windows(from.len())
            .position(|window| window == from.as_bytes())
        {
            let at = start + offset;
            bytes[at..at + to.len()].copy_from_slice(to.as_bytes());
            start = at + to.len();
            found = true;
        }
        assert!(found, "`{from}` not found");
        bytes
    }

    fn write_wheel(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.join(name);
        fs_err::write(&path, bytes).unwrap();
        path
    }

    fn open_bytes(bytes: &[u8]) -> Result<WheelArchive, ArchiveError> {
        let dir = tempfile::tempdir().unwrap();
        WheelArchive::open(&write_wheel(dir.path(), WHEEL_NAME, bytes))
    }

    fn open_files(files: &[(String, Vec<u8>)]) -> Result<WheelArchive, ArchiveError> {
        open_bytes(&zip_bytes(files, CompressionMethod::Deflated))
    }

    /// The error's top line, checked to be a single line naming the wheel.
    fn message(err: &ArchiveError) -> String {
        let message = err.to_string();
        assert!(!message.contains('\n'), "multi-line error: {message}");
        assert!(
            message.contains("foo"),
            "error does not name the wheel: {message}"
        );
        message
    }

    fn source(err: &ArchiveError) -> String {
        std::error::Error::source(err)
            .map(ToString::to_string)
            .unwrap_or_default()
    }

    fn replace_file(files: &mut [(String, Vec<u8>)], name: &str, content: &[u8]) {
        let file = files.iter_mut().find(|(n, _)| n == name).unwrap();
        file.1 = content.to_vec();
    }

    #[test]
    fn good_wheel() {
        for method in [CompressionMethod::Deflated, CompressionMethod::Stored] {
            let mut archive = open_bytes(&zip_bytes(&good_wheel_files(), method)).unwrap();
            assert_eq!(archive.filename().to_string(), WHEEL_NAME);
            assert_eq!(archive.path().file_name().unwrap(), WHEEL_NAME);
            assert_eq!(archive.dist_info_dir(), DIST_INFO);
            assert_eq!(archive.metadata().name, "foo");
            assert_eq!(
                archive.metadata().headers.body.as_deref(),
                Some("A description\n")
            );
            assert_eq!(archive.wheel_info().tags, ["cp312-cp312-linux_x86_64"]);
            assert!(!archive.wheel_info().root_is_purelib);
            assert_eq!(archive.record().entries.len(), 6);

            let names: Vec<&str> = archive.entries().iter().map(|e| e.name.as_str()).collect();
            assert_eq!(
                names,
                [
                    "foo/",
                    "foo/__init__.py",
                    "foo/_core.so",
                    "foo/data, with comma.txt",
                    "foo-1.0.dist-info/METADATA",
                    "foo-1.0.dist-info/WHEEL",
                    "foo-1.0.dist-info/RECORD",
                ]
            );
            let dir = &archive.entries()[0];
            assert!(dir.is_dir);
            let so = archive.entry("foo/_core.so").unwrap().clone();
            assert_eq!(so.index, 2);
            assert_eq!(so.size, 20_007);
            assert!(!so.is_dir && !so.is_symlink);
            assert_eq!(so.unix_mode.map(|mode| mode & 0o777), Some(0o644));
            let expected_compression = if method == CompressionMethod::Stored {
                Compression::Stored
            } else {
                Compression::Deflated
            };
            assert_eq!(so.compression, expected_compression);

            assert_eq!(
                archive.read_entry("foo/__init__.py").unwrap(),
                b"from ._core import *\n"
            );
            assert_eq!(archive.read_entry("foo/").unwrap(), b"");
            assert!(
                archive
                    .read_entry("foo-1.0.dist-info/RECORD")
                    .unwrap()
                    .ends_with(b"foo-1.0.dist-info/RECORD,,\n")
            );
            assert_eq!(archive.read_prefix("foo/_core.so", 4).unwrap(), b"\x7fELF");
            assert_eq!(
                archive.read_prefix("foo/__init__.py", 1000).unwrap().len(),
                21
            );
            assert!(matches!(
                archive.read_entry("foo/missing.py").unwrap_err(),
                ArchiveError::EntryNotFound { .. }
            ));

            archive.verify_all().unwrap();
            let kept = archive
                .verify_and_read(|_, prefix| prefix.starts_with(b"\x7fELF"))
                .unwrap();
            assert_eq!(kept.len(), 1);
            assert_eq!(kept[0].0, so.index);
            assert_eq!(kept[0].1, archive.read_entry("foo/_core.so").unwrap());
        }
    }

    #[test]
    fn thread_safe_types() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<WheelArchive>();
        assert_send_sync::<ArchiveError>();
    }

    #[test]
    fn entry_not_found() {
        let mut archive = open_files(&good_wheel_files()).unwrap();
        let err = archive.read_entry("foo/missing.py").unwrap_err();
        insta::assert_snapshot!(message(&err), @"`foo-1.0-cp312-cp312-linux_x86_64.whl`: no entry `foo/missing.py`");
        let err = archive.read_prefix("foo/missing.py", 4).unwrap_err();
        assert!(matches!(err, ArchiveError::EntryNotFound { .. }));
    }

    #[test]
    fn want_sees_the_probe_prefix() {
        let archive = open_files(&good_wheel_files()).unwrap();
        let kept = archive
            .verify_and_read(|entry, prefix| {
                let expected = usize::try_from(entry.size).unwrap().min(PROBE_LEN);
                assert_eq!(prefix.len(), expected, "{}", entry.name);
                true
            })
            .unwrap();
        // Every file entry, directories excluded, in index order.
        let indices: Vec<usize> = kept.iter().map(|(index, _)| *index).collect();
        assert_eq!(indices, [1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn not_a_zip() {
        let err = open_bytes(b"this is not a zip file").unwrap_err();
        insta::assert_snapshot!(message(&err), @"`foo-1.0-cp312-cp312-linux_x86_64.whl`: not a valid zip archive");
        assert!(matches!(err, ArchiveError::Zip { .. }));
    }

    #[test]
    fn truncated_zip() {
        let bytes = zip_bytes(&good_wheel_files(), CompressionMethod::Deflated);
        for len in [0, 10, bytes.len() / 2, bytes.len() - 10] {
            let err = open_bytes(&bytes[..len]).unwrap_err();
            assert!(matches!(err, ArchiveError::Zip { .. }), "{len}: {err:?}");
            message(&err);
        }
    }

    #[test]
    fn corrupt_entry_data() {
        // Flip a byte inside the stored `_core.so` data: the hash differs.
        let bytes = zip_bytes(&good_wheel_files(), CompressionMethod::Stored);
        let at = bytes
            .windows(4)
            .position(|window| window == b"\x7fELF")
            .unwrap();
        let mut corrupt = bytes.clone();
        corrupt[at + 100] ^= 0xff;
        let archive = open_bytes(&corrupt).unwrap();
        let err = archive.verify_all().unwrap_err();
        insta::assert_snapshot!(message(&err), @"`foo-1.0-cp312-cp312-linux_x86_64.whl`: RECORD hash mismatch for `foo/_core.so` (expected `sha256=yOAQZZZhGlX6k-PSl6uGUL83Awldcsnt-mXZyvURZb4`, found `sha256=7CxhOL4snffR1F7HQKEgOgILWqOAvZs4UnxWtcBE70U`)");
    }

    #[test]
    fn extract_without_hashing_still_catches_changed_bytes() {
        let bytes = zip_bytes(&good_wheel_files(), CompressionMethod::Stored);
        let good = open_bytes(&bytes).unwrap();
        let mut out = Vec::new();
        good.extract_entry_with("foo/_core.so", &mut out, Verification::SizesOnly)
            .unwrap();
        let mut hashed = Vec::new();
        good.extract_entry_to("foo/_core.so", &mut hashed).unwrap();
        assert_eq!(out, hashed);

        // The same corruption as above: without hashing, the zip CRC-32 rejects it.
        let at = bytes
            .windows(4)
            .position(|window| window == b"\x7fELF")
            .unwrap();
        let mut corrupt = bytes.clone();
        corrupt[at + 100] ^= 0xff;
        let archive = open_bytes(&corrupt).unwrap();
        let err = archive
            .extract_entry_with("foo/_core.so", &mut Vec::new(), Verification::SizesOnly)
            .unwrap_err();
        assert!(message(&err).contains("foo/_core.so"), "{}", message(&err));
    }

    #[test]
    fn corrupt_deflate_stream() {
        let files = good_wheel_files();
        let bytes = zip_bytes(&files, CompressionMethod::Deflated);
        let archive = open_bytes(&bytes).unwrap();
        let so = archive.entry("foo/_core.so").unwrap().clone();
        let mut zip = archive.zip.clone();
        let start = zip.by_index_raw(so.index).unwrap().data_start().unwrap();
        let start = usize::try_from(start).unwrap();
        for offset in [0, 1, 7, 50] {
            let mut corrupt = bytes.clone();
            corrupt[start + offset] ^= 0x55;
            let archive = open_bytes(&corrupt).unwrap();
            let err = archive.verify_all().unwrap_err();
            assert!(
                matches!(
                    err,
                    ArchiveError::ReadEntry { .. }
                        | ArchiveError::HashMismatch { .. }
                        | ArchiveError::SizeMismatch { .. }
                ),
                "{err:?}"
            );
            assert!(message(&err).contains("foo/_core.so"));
        }
    }

    #[test]
    fn symlink_entry() {
        let mut writer = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        let mut files = good_files();
        files.retain(|(name, _)| !name.ends_with('/'));
        files.push(("foo/link.so".to_string(), b"_core.so".to_vec()));
        let record_path = format!("{DIST_INFO}/RECORD");
        let record = record_for(&files, &record_path);
        files.push((record_path, record));
        for (name, content) in &files {
            if name == "foo/link.so" {
                writer
                    .add_symlink(name.as_str(), "_core.so", SimpleFileOptions::default())
                    .unwrap();
            } else {
                writer
                    .start_file(name.as_str(), SimpleFileOptions::default())
                    .unwrap();
                writer.write_all(content).unwrap();
            }
        }
        let bytes = writer.finish().unwrap().into_inner();
        let mut archive = open_bytes(&bytes).unwrap();
        let link = archive.entry("foo/link.so").unwrap();
        assert!(link.is_symlink && !link.is_dir);
        assert_eq!(archive.read_entry("foo/link.so").unwrap(), b"_core.so");
        archive.verify_all().unwrap();
    }

    #[test]
    fn missing_wheel_file() {
        let mut files = good_files();
        files.retain(|(name, _)| !name.ends_with("/WHEEL"));
        let record_path = format!("{DIST_INFO}/RECORD");
        let record = record_for(&files, &record_path);
        files.push((record_path, record));
        let err = open_files(&files).unwrap_err();
        insta::assert_snapshot!(message(&err), @"`foo-1.0-cp312-cp312-linux_x86_64.whl`: missing `foo-1.0.dist-info/WHEEL`");
    }

    #[test]
    fn missing_record() {
        let err = open_files(&good_files()).unwrap_err();
        insta::assert_snapshot!(message(&err), @"`foo-1.0-cp312-cp312-linux_x86_64.whl`: missing `foo-1.0.dist-info/RECORD`");
    }

    #[test]
    fn corrupt_record() {
        let mut files = good_wheel_files();
        replace_file(
            &mut files,
            "foo-1.0.dist-info/RECORD",
            b"foo/__init__.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,12x\n",
        );
        let err = open_files(&files).unwrap_err();
        insta::assert_snapshot!(message(&err), @"`foo-1.0-cp312-cp312-linux_x86_64.whl`: invalid `foo-1.0.dist-info/RECORD`");
        insta::assert_snapshot!(source(&err), @"RECORD row 1 (`foo/__init__.py`) has an invalid size `12x`");

        replace_file(
            &mut files,
            "foo-1.0.dist-info/RECORD",
            b"\"unterminated,,\n",
        );
        let err = open_files(&files).unwrap_err();
        assert!(matches!(err, ArchiveError::Record { .. }), "{err:?}");
    }

    #[test]
    fn invalid_wheel_and_metadata() {
        let mut files = good_files();
        replace_file(
            &mut files,
            "foo-1.0.dist-info/WHEEL",
            b"Wheel-Version: 1.0\n",
        );
        let record_path = format!("{DIST_INFO}/RECORD");
        let record = record_for(&files, &record_path);
        files.push((record_path.clone(), record));
        let err = open_files(&files).unwrap_err();
        insta::assert_snapshot!(message(&err), @"`foo-1.0-cp312-cp312-linux_x86_64.whl`: invalid `foo-1.0.dist-info/WHEEL`");
        insta::assert_snapshot!(source(&err), @"missing required field `Root-Is-Purelib`");

        let mut files = good_files();
        replace_file(&mut files, "foo-1.0.dist-info/METADATA", b"Name: foo\n");
        let record = record_for(&files, &record_path);
        files.push((record_path, record));
        let err = open_files(&files).unwrap_err();
        insta::assert_snapshot!(message(&err), @"`foo-1.0-cp312-cp312-linux_x86_64.whl`: invalid `foo-1.0.dist-info/METADATA`");
    }

    #[test]
    fn hash_mismatch() {
        let mut files = good_files();
        let record_path = format!("{DIST_INFO}/RECORD");
        let record = record_for(&files, &record_path);
        files.push((record_path, record));
        // Same size, different bytes.
        replace_file(&mut files, "foo/__init__.py", b"from ._core import #\n");
        let mut archive = open_files(&files).unwrap();
        let err = archive.read_entry("foo/__init__.py").unwrap_err();
        insta::assert_snapshot!(message(&err), @"`foo-1.0-cp312-cp312-linux_x86_64.whl`: RECORD hash mismatch for `foo/__init__.py` (expected `sha256=0zpBfzO64sy3FMVSKxe4TzTdDEXGpDaPHgG23YWlvts`, found `sha256=FyUL3Z1LlzxZxW5ZxDDXW01YV7WWoa1scYGclMaj89M`)");
        let err = archive.verify_all().unwrap_err();
        assert!(matches!(err, ArchiveError::HashMismatch { .. }), "{err:?}");
        // The prefix read does not verify.
        assert_eq!(archive.read_prefix("foo/__init__.py", 4).unwrap(), b"from");
    }

    #[test]
    fn hash_mismatch_in_wheel_file_fails_open() {
        let mut files = good_wheel_files();
        replace_file(
            &mut files,
            "foo-1.0.dist-info/WHEEL",
            b"Wheel-Version: 1.0\nGenerator: TEST\nRoot-Is-Purelib: false\nTag: cp312-cp312-linux_x86_64\n",
        );
        let err = open_files(&files).unwrap_err();
        assert!(matches!(err, ArchiveError::HashMismatch { .. }), "{err:?}");
    }

    #[test]
    fn size_mismatch() {
        let mut files = good_files();
        let record_path = format!("{DIST_INFO}/RECORD");
        let record = String::from_utf8(record_for(&files, &record_path)).unwrap();
        let record = record.replace(",21\n", ",22\n");
        files.push((record_path, record.into_bytes()));
        let mut archive = open_files(&files).unwrap();
        let err = archive.read_entry("foo/__init__.py").unwrap_err();
        insta::assert_snapshot!(message(&err), @"`foo-1.0-cp312-cp312-linux_x86_64.whl`: RECORD size mismatch for `foo/__init__.py` (expected 22 bytes, found 21)");
        assert!(matches!(
            archive.verify_all().unwrap_err(),
            ArchiveError::SizeMismatch { .. }
        ));
    }

    #[test]
    fn unsafe_entry_names() {
        let cases = [
            ("aaaaaaa", "../evil"),
            ("aaaaaaaaaaa", "/etc/passwd"),
            ("aaaaaaaaaa", "foo/../bar"),
            ("aaaaaaa", "foo\\bar"),
            ("aaaaaaa", "foo\0bar"),
            ("aaaaaaa", "foo//ba"),
            ("aaaaaaa", "./fooba"),
            ("aaaaaaaa", "C:/win.x"),
        ];
        let mut messages = Vec::new();
        for (placeholder, name) in cases {
            let mut files = good_wheel_files();
            files.insert(1, (placeholder.to_string(), b"x".to_vec()));
            let bytes = patch(
                zip_bytes(&files, CompressionMethod::Deflated),
                placeholder,
                name,
            );
            let err = open_bytes(&bytes).unwrap_err();
            assert!(
                matches!(err, ArchiveError::UnsafeEntryName { .. }),
                "{err:?}"
            );
            messages.push(message(&err));
        }
        insta::assert_snapshot!(messages.join("\n"), @r"
        `foo-1.0-cp312-cp312-linux_x86_64.whl`: unsafe entry name `../evil`: has a `..` component
        `foo-1.0-cp312-cp312-linux_x86_64.whl`: unsafe entry name `/etc/passwd`: is an absolute path
        `foo-1.0-cp312-cp312-linux_x86_64.whl`: unsafe entry name `foo/../bar`: has a `..` component
        `foo-1.0-cp312-cp312-linux_x86_64.whl`: unsafe entry name `foo\\bar`: contains a backslash
        `foo-1.0-cp312-cp312-linux_x86_64.whl`: unsafe entry name `foo\0bar`: contains a NUL byte
        `foo-1.0-cp312-cp312-linux_x86_64.whl`: unsafe entry name `foo//ba`: has an empty path component
        `foo-1.0-cp312-cp312-linux_x86_64.whl`: unsafe entry name `./fooba`: has a `.` component
        `foo-1.0-cp312-cp312-linux_x86_64.whl`: unsafe entry name `C:/win.x`: starts with a drive letter
        ");
    }

    #[test]
    fn duplicate_entries() {
        let mut files = good_wheel_files();
        files.insert(1, ("foo/aaaaaaa.py".to_string(), b"x".to_vec()));
        files.insert(1, ("foo/bbbbbbb.py".to_string(), b"y".to_vec()));
        let bytes = patch(
            zip_bytes(&files, CompressionMethod::Deflated),
            "foo/bbbbbbb.py",
            "foo/aaaaaaa.py",
        );
        let err = open_bytes(&bytes).unwrap_err();
        insta::assert_snapshot!(message(&err), @"`foo-1.0-cp312-cp312-linux_x86_64.whl`: the zip central directory lists an entry name more than once");

        let mut files = good_wheel_files();
        files.insert(1, ("foo/sub".to_string(), b"x".to_vec()));
        files.insert(1, ("foo/sub/".to_string(), Vec::new()));
        let err = open_files(&files).unwrap_err();
        insta::assert_snapshot!(message(&err), @"`foo-1.0-cp312-cp312-linux_x86_64.whl`: `foo/sub` is both a file and a directory entry");
    }

    #[test]
    fn file_missing_from_record() {
        let mut files = good_wheel_files();
        files.insert(1, ("foo/extra.py".to_string(), b"x = 1\n".to_vec()));
        let mut archive = open_files(&files).unwrap();
        let err = archive.read_entry("foo/extra.py").unwrap_err();
        insta::assert_snapshot!(message(&err), @"`foo-1.0-cp312-cp312-linux_x86_64.whl`: `foo/extra.py` is not listed in RECORD");
        let err = archive.verify_all().unwrap_err();
        assert!(matches!(err, ArchiveError::NotInRecord { .. }), "{err:?}");
        // Signatures need no RECORD row.
        let mut files = good_wheel_files();
        files.push((format!("{DIST_INFO}/RECORD.jws"), b"{}".to_vec()));
        open_files(&files).unwrap().verify_all().unwrap();
    }

    #[test]
    fn record_row_without_file() {
        let mut files = good_files();
        let record_path = format!("{DIST_INFO}/RECORD");
        let record = record_for(&files, &record_path);
        files.retain(|(name, _)| name != "foo/__init__.py");
        files.push((record_path, record));
        let archive = open_files(&files).unwrap();
        let err = archive.verify_all().unwrap_err();
        insta::assert_snapshot!(message(&err), @"`foo-1.0-cp312-cp312-linux_x86_64.whl`: `foo/__init__.py` is listed in RECORD but missing from the archive");
    }

    #[test]
    fn record_row_without_hash() {
        let mut files = good_wheel_files();
        let record = format!(
            "foo/__init__.py,,\n{}",
            String::from_utf8(files.last().unwrap().1.clone())
                .unwrap()
                .split_once('\n')
                .unwrap()
                .1
        );
        replace_file(&mut files, "foo-1.0.dist-info/RECORD", record.as_bytes());
        let mut archive = open_files(&files).unwrap();
        let err = archive.read_entry("foo/__init__.py").unwrap_err();
        insta::assert_snapshot!(message(&err), @"`foo-1.0-cp312-cp312-linux_x86_64.whl`: RECORD has no hash for `foo/__init__.py`");
    }

    #[test]
    fn dist_info_discovery() {
        // Normalised name match: the file name says `Foo`, the directory says `foo`.
        let dir = tempfile::tempdir().unwrap();
        let bytes = zip_bytes(&good_wheel_files(), CompressionMethod::Deflated);
        let path = write_wheel(dir.path(), "Foo-1.0-cp312-cp312-linux_x86_64.whl", &bytes);
        let archive = WheelArchive::open(&path).unwrap();
        assert_eq!(archive.dist_info_dir(), DIST_INFO);

        // A PEP 440-equal version matches too.
        let path = write_wheel(dir.path(), "foo-1.0.0-cp312-cp312-linux_x86_64.whl", &bytes);
        assert_eq!(
            WheelArchive::open(&path).unwrap().dist_info_dir(),
            DIST_INFO
        );

        // Another name, another version.
        let path = write_wheel(dir.path(), "bar-1.0-cp312-cp312-linux_x86_64.whl", &bytes);
        let err = WheelArchive::open(&path).unwrap_err();
        insta::assert_snapshot!(err, @"`bar-1.0-cp312-cp312-linux_x86_64.whl`: the `.dist-info` directory `foo-1.0.dist-info` does not match the file name (expected `bar-1.0.dist-info`); rename the wheel or rebuild it");
        let path = write_wheel(dir.path(), "foo-2.0-cp312-cp312-linux_x86_64.whl", &bytes);
        let err = WheelArchive::open(&path).unwrap_err();
        assert!(
            matches!(err, ArchiveError::DistInfoMismatch { .. }),
            "{err}"
        );

        // Two `.dist-info` directories, whatever their names.
        for other in ["FOO-2.0.dist-info/METADATA", "other-1.0.dist-info/METADATA"] {
            let mut files = good_wheel_files();
            files.push((other.to_string(), Vec::new()));
            let bytes = zip_bytes(&files, CompressionMethod::Deflated);
            let path = write_wheel(dir.path(), WHEEL_NAME, &bytes);
            let err = WheelArchive::open(&path).unwrap_err();
            assert!(matches!(err, ArchiveError::SeveralDistInfo { .. }), "{err}");
            if other.starts_with("other") {
                insta::assert_snapshot!(err, @"`foo-1.0-cp312-cp312-linux_x86_64.whl`: more than one `.dist-info` directory (`foo-1.0.dist-info`, `other-1.0.dist-info`); a wheel has exactly one, so rebuild it from a clean build directory");
            }
        }
    }

    #[test]
    fn wheel_version_major_must_be_1() {
        for (version, ok) in [("1.0", true), ("1.9", true), ("9.0", false), ("2.0", false)] {
            let mut files = good_files();
            let wheel = format!(
                "Wheel-Version: {version}\nRoot-Is-Purelib: false\nTag: cp312-cp312-linux_x86_64\n"
            );
            replace_file(&mut files, "foo-1.0.dist-info/WHEEL", wheel.as_bytes());
            let record_path = format!("{DIST_INFO}/RECORD");
            let record = record_for(&files, &record_path);
            files.push((record_path, record));
            let result = open_files(&files);
            assert_eq!(result.is_ok(), ok, "{version}");
            if let Ok(archive) = result {
                assert_eq!(
                    archive.wheel_info().version_warning().is_some(),
                    version != "1.0"
                );
            } else if let Err(err) = result {
                assert!(
                    matches!(err, ArchiveError::UnsupportedWheelVersion { .. }),
                    "{err}"
                );
                if version == "9.0" {
                    insta::assert_snapshot!(err, @"`foo-1.0-cp312-cp312-linux_x86_64.whl`: `foo-1.0.dist-info/WHEEL` says `Wheel-Version: 9.0`, a format this tool does not understand (only major version 1 exists); installers refuse such a wheel, so rebuild it with a standard build backend");
                }
            }
        }
    }

    #[test]
    fn bad_filename_and_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = WheelArchive::open(&dir.path().join("foo.zip")).unwrap_err();
        insta::assert_snapshot!(err, @"`foo.zip`: invalid wheel filename");
        insta::assert_snapshot!(source(&err), @"invalid wheel filename `foo.zip`: must end with `.whl`");
        let err = WheelArchive::open(&dir.path().join(WHEEL_NAME)).unwrap_err();
        insta::assert_snapshot!(message(&err), @"`foo-1.0-cp312-cp312-linux_x86_64.whl`: failed to open the wheel");
    }

    /// Exercises the multi-threaded path (more than `PARALLEL_THRESHOLD` bytes) and its error
    /// selection.
    #[test]
    fn parallel_verify() {
        let mut files = good_files();
        let mut state = 0x1234_5678_9abc_def0_u64;
        for i in 0..12 {
            let mut content = if i % 3 == 0 {
                b"\x7fELF".to_vec()
            } else {
                Vec::new()
            };
            content.extend(pseudo_random(&mut state, 600_000 + i * 1000));
            files.push((format!("foo/lib{i}.so"), content));
        }
        let record_path = format!("{DIST_INFO}/RECORD");
        let record = record_for(&files, &record_path);
        files.push((record_path, record));
        let bytes = zip_bytes(&files, CompressionMethod::Stored);
        let archive = open_bytes(&bytes).unwrap();
        let kept = archive
            .verify_and_read(|_, prefix| prefix.starts_with(b"\x7fELF"))
            .unwrap();
        let names: Vec<&str> = kept
            .iter()
            .map(|(index, _)| archive.entries()[*index].name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "foo/_core.so",
                "foo/lib0.so",
                "foo/lib3.so",
                "foo/lib6.so",
                "foo/lib9.so"
            ]
        );
        for (index, content) in &kept {
            let name = &archive.entries()[*index].name;
            let original = &files.iter().find(|(n, _)| n == name).unwrap().1;
            assert_eq!(content, original);
        }

        // Corrupt two entries: the lower-index one is reported, whichever thread saw it.
        let mut corrupt = bytes;
        for name in ["foo/lib4.so", "foo/lib10.so"] {
            let content = &files.iter().find(|(n, _)| n == name).unwrap().1;
            let at = corrupt
                .windows(64)
                .position(|window| window == &content[1000..1064])
                .unwrap();
            corrupt[at] ^= 1;
        }
        let archive = open_bytes(&corrupt).unwrap();
        for _ in 0..5 {
            match archive.verify_all().unwrap_err() {
                ArchiveError::HashMismatch { entry, .. } => {
                    assert!(entry == "foo/lib4.so" || entry == "foo/lib10.so", "{entry}");
                }
                other => panic!("{other:?}"),
            }
        }
    }

    /// xorshift64 bytes.
    fn pseudo_random(state: &mut u64, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            *state ^= *state << 13;
            *state ^= *state >> 7;
            *state ^= *state << 17;
            out.extend_from_slice(&state.to_le_bytes());
        }
        out.truncate(len);
        out
    }

    #[test]
    fn shared_file_reads_and_seeks() {
        let dir = tempfile::tempdir().unwrap();
        let content: Vec<u8> = (0..(CHUNK_LEN * 3)).map(|i| (i % 253) as u8).collect();
        let path = write_wheel(dir.path(), "data.bin", &content);
        let file = std::fs::File::open(&path).unwrap();
        let mut reader = SharedFile::new(file, content.len() as u64);
        let mut all = Vec::new();
        reader.read_to_end(&mut all).unwrap();
        assert_eq!(all, content);
        reader.seek(SeekFrom::Start(10)).unwrap();
        let mut small = [0; 5];
        reader.read_exact(&mut small).unwrap();
        assert_eq!(small, content[10..15]);
        let mut clone = reader.clone();
        clone.seek(SeekFrom::Current(-5)).unwrap();
        clone.read_exact(&mut small).unwrap();
        assert_eq!(small, content[10..15]);
        let mut big = vec![0; CHUNK_LEN + 7];
        reader.read_exact(&mut big).unwrap();
        assert_eq!(big, content[15..15 + CHUNK_LEN + 7]);
        assert_eq!(
            reader.seek(SeekFrom::End(-1)).unwrap(),
            content.len() as u64 - 1
        );
        assert!(
            reader
                .seek(SeekFrom::Current(-(content.len() as i64)))
                .is_err()
        );
        reader.seek(SeekFrom::End(100)).unwrap();
        assert_eq!(reader.read(&mut small).unwrap(), 0);
    }

    /// Content that deflates roughly like shared objects (about 2.5x): runs of low-entropy
    /// literals mixed with copies of earlier data.
    fn binary_like(state: &mut u64, len: usize) -> Vec<u8> {
        let mut out = b"\x7fELF\x02\x01\x01\0".to_vec();
        let next = |state: &mut u64| {
            *state ^= *state << 13;
            *state ^= *state >> 7;
            *state ^= *state << 17;
            *state
        };
        while out.len() < len {
            let r = next(state);
            let run = 8 + (r % 120) as usize;
            if r & (1 << 40) != 0 && out.len() > 4096 {
                let distance = 1 + ((r >> 8) % 4000) as usize;
                let start = out.len() - distance;
                for i in 0..run {
                    out.push(out[start + i]);
                }
            } else {
                for _ in 0..run {
                    let r = next(state);
                    // Skewed byte distribution: mostly small values, like opcodes and offsets.
                    out.push(if r & 3 == 0 {
                        (r >> 8) as u8
                    } else {
                        ((r >> 8) & 0x1f) as u8
                    });
                }
            }
        }
        out.truncate(len);
        out
    }

    /// Builds a wheel shaped like a large binary wheel: 30 extension modules, 2000 small Python
    /// files, one data file.
    fn bench_wheel(dir: &Path, name: &str, compressible: bool) -> PathBuf {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut files = good_files();
        for i in 0..30 {
            let len = if compressible { 8_000_000 } else { 3_100_000 } + i * 4096;
            let content = if compressible {
                binary_like(&mut state, len)
            } else {
                let mut content = b"\x7fELF\x02\x01\x01\0".to_vec();
                content.extend(pseudo_random(&mut state, len));
                content
            };
            files.push((
                format!("foo/_ext{i}.cpython-312-x86_64-linux-gnu.so"),
                content,
            ));
        }
        for i in 0..2000 {
            let line = format!("def function_{i}(x):\n    return x * {i} + 1\n\n");
            files.push((
                format!("foo/pkg{}/mod{i}.py", i % 40),
                line.repeat(20).into_bytes(),
            ));
        }
        let data = if compressible {
            binary_like(&mut state, 4_000_000)
        } else {
            pseudo_random(&mut state, 4_000_000)
        };
        files.push(("foo/data.bin".to_string(), data));
        let record_path = format!("{DIST_INFO}/RECORD");
        let record = record_for(&files, &record_path);
        files.push((record_path, record));

        let path = dir.join(name);
        let file = fs_err::File::create(&path).unwrap();
        let mut writer = zip::ZipWriter::new(io::BufWriter::new(file));
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .compression_level(Some(6));
        for (name, content) in &files {
            if name.ends_with('/') {
                writer.add_directory(name.as_str(), options).unwrap();
            } else {
                writer.start_file(name.as_str(), options).unwrap();
                writer.write_all(content).unwrap();
            }
        }
        writer.finish().unwrap();
        path
    }

    /// CPU time (user + system) of the whole process so far, in milliseconds (10 ms
    /// resolution), from `/proc/self/stat`; 0 where unavailable.
    fn cpu_ms() -> f64 {
        let stat = fs_err::read_to_string("/proc/self/stat").unwrap_or_default();
        // Fields after the `(comm)`: state is field 3, utime 14, stime 15.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        (ticks(11) + ticks(12)) * 10.0
    }

    /// The best of `runs` wall-clock timings of `f` and the mean CPU time per run, in
    /// milliseconds. The machine may be shared, so CPU time is the steadier figure.
    fn best_ms(runs: usize, mut f: impl FnMut()) -> (f64, f64) {
        let cpu_start = cpu_ms();
        let wall = (0..runs)
            .map(|_| {
                let start = std::time::Instant::now();
                f();
                start.elapsed().as_secs_f64() * 1000.0
            })
            .fold(f64::INFINITY, f64::min);
        (wall, (cpu_ms() - cpu_start) / runs as f64)
    }

    /// Throughput figures for tuning; run with
    /// `cargo test --release -- --ignored --nocapture bench_verify_and_read`.
    /// Set `WHEELWRIGHT_BENCH_DIR` to keep the generated wheels.
    #[test]
    #[ignore = "benchmark: builds ~200 MB of wheels"]
    #[expect(clippy::print_stderr, reason = "benchmark output")]
    fn bench_verify_and_read() {
        let temp = tempfile::tempdir().unwrap();
        let dir = std::env::var_os("WHEELWRIGHT_BENCH_DIR")
            .map_or_else(|| temp.path().to_path_buf(), PathBuf::from);
        let is_elf = |_: &EntryInfo, prefix: &[u8]| prefix.starts_with(b"\x7fELF");
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        for (label, compressible) in [("random", false), ("binary-like", true)] {
            let name = format!("foo-1.0-cp312-cp312-linux_x86_64.{label}.whl")
                .replace(".random", "")
                .replace(".binary-like", "");
            let sub = dir.join(label);
            fs_err::create_dir_all(&sub).unwrap();
            let path = bench_wheel(&sub, &name, compressible);
            let archive = WheelArchive::open(&path).unwrap();
            let compressed = fs_err::metadata(&path).unwrap().len() as f64 / 1e6;
            let uncompressed = archive.entries().iter().map(|e| e.size).sum::<u64>() as f64 / 1e6;
            eprintln!(
                "{label}: {compressed:.1} MB wheel, {uncompressed:.1} MB uncompressed, {} entries, {cores} cores",
                archive.entries().len()
            );

            let (open, _) = best_ms(5, || {
                WheelArchive::open(&path).unwrap();
            });
            eprintln!("  open (central directory, RECORD/WHEEL/METADATA): {open:.1} ms");
            let mut buffer = Vec::new();
            for entry in archive.entries() {
                buffer.extend_from_slice(&archive.clone_read(entry.index));
            }
            let (sha, _) = best_ms(3, || {
                std::hint::black_box(RecordHash::sha256_of(&buffer));
            });
            eprintln!(
                "  ceiling: sha256 alone over the uncompressed bytes: {sha:.1} ms ({:.0} MB/s)",
                uncompressed / sha * 1000.0
            );
            let (inflate, _) = best_ms(3, || {
                let mut zip = archive.zip.clone();
                let mut sink = vec![0; CHUNK_LEN];
                for index in 0..zip.len() {
                    let mut file = zip
                        .by_index_with_options(index, ZipReadOptions::new().ignore_crc32(true))
                        .unwrap();
                    while file.read(&mut sink).unwrap() > 0 {}
                }
            });
            eprintln!(
                "  ceiling: inflate alone, 1 thread: {inflate:.1} ms ({:.0} MB/s)",
                uncompressed / inflate * 1000.0
            );
            for threads in [1, 2, 4] {
                let (ms, cpu) = best_ms(5, || {
                    archive
                        .verify_and_read_on(Some(threads), &|_, _| false, &|_, c| c)
                        .unwrap();
                });
                eprintln!(
                    "  verify_all, {threads} thread(s): {ms:.1} ms ({:.0} MB/s uncompressed), CPU {cpu:.0} ms",
                    uncompressed / ms * 1000.0
                );
            }
            for threads in [1, 2] {
                let mut kept = 0;
                let (ms, cpu) = best_ms(5, || {
                    kept = archive
                        .verify_and_read_on(Some(threads), &is_elf, &|_, c| c)
                        .unwrap()
                        .len();
                });
                eprintln!(
                    "  verify_and_read(ELF), {threads} thread(s): {ms:.1} ms, CPU {cpu:.0} ms, kept {kept} entries"
                );
            }
            let kept_bytes: u64 = archive
                .entries()
                .iter()
                .filter(|e| e.name.ends_with(".so"))
                .map(|e| e.size)
                .sum();
            let (alloc, _) = best_ms(3, || {
                let buffers: Vec<Vec<u8>> = archive
                    .entries()
                    .iter()
                    .filter(|e| e.name.ends_with(".so"))
                    .map(|e| vec![1u8; usize::try_from(e.size).unwrap()])
                    .collect();
                std::hint::black_box(buffers);
            });
            eprintln!(
                "  ceiling: allocating and touching the {:.0} MB kept, 1 thread: {alloc:.1} ms",
                kept_bytes as f64 / 1e6
            );
            let (ms, _) = best_ms(5, || {
                WheelArchive::open(&path)
                    .unwrap()
                    .verify_and_read(is_elf)
                    .unwrap();
            });
            eprintln!("  open + verify_and_read(ELF): {ms:.1} ms");
        }
    }

    impl WheelArchive {
        /// Unverified full read by index, for the benchmark's ceilings.
        fn clone_read(&self, index: usize) -> Vec<u8> {
            let mut zip = self.zip.clone();
            let mut content = Vec::new();
            zip.by_index(index)
                .unwrap()
                .read_to_end(&mut content)
                .unwrap();
            content
        }
    }
}
