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
//!
//! Parts: this file opens the archive and reads single entries; `listing` validates the central
//! directory, `verify` checks entries against `RECORD` (in parallel), `shared_file` is the
//! positional reader, `error` the error type.

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

mod error;
mod listing;
mod shared_file;
mod verify;

pub use error::ArchiveError;
pub(super) use error::file_name;
pub(super) use listing::check_entry_name;
use listing::{find_dist_info, list_entries};
pub(super) use shared_file::SharedFile;
pub use verify::{Kept, SPILL_THRESHOLD, Verification};
use verify::{Manifest, check_expected, read_full, read_retrying};

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
        check_expected(&self.path, entry, expected, hasher, total)?;
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

#[cfg(test)]
mod tests;
