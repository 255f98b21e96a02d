//! Streaming rewrite of a wheel archive: a new `.whl` from an opened [`WheelArchive`] and a
//! [`RewritePlan`], without unpacking or re-zipping the unchanged contents.
//!
//! Design notes:
//!
//! * **Raw copies.** Unchanged entries are copied as compressed bytes (no inflate, no deflate),
//!   read with positional reads from the input and written after a fresh local header carrying
//!   the input's method, CRC-32, sizes, timestamp, `version made by` and external attributes.
//!   Their `RECORD` rows come from the input `RECORD` (no re-hash), cross-checked against the
//!   zip directory's sizes.
//! * **Own zip writer.** The output's headers are written here (`ZipSink`) rather than with
//!   `zip::ZipWriter::raw_copy_file`: the latter carries the input's extra fields over and, for
//!   ZIP64 entries, writes the ZIP64 extra field twice (once copied, once its own), measured
//!   with zip 9.4.1. Writing the headers directly gives exactly the rules the output needs: no
//!   extra fields except ZIP64 where a size or offset requires it, no data descriptors, no
//!   comments, and the same bytes for the same input and plan.
//! * **New and changed entries** come from [`Producer`]s run on two worker
//!   threads, in output order and at most a few entries ahead of the writer. A producer
//!   writes into a tee (sha256 and byte count for the `RECORD` row) in front of an encoder
//!   (`EntryEncoder`: CRC-32, then zlib-rs raw deflate through `flate2::Compress`) that writes
//!   the entry's zip data into an anonymous temporary file next to the output, so memory stays
//!   bounded whatever the entry size; the main thread then copies those bytes into the output
//!   after a local header with the encoder's method, CRC-32 and sizes. `WHEEL` and `RECORD`
//!   take the same path in memory.
//! * **Incompressible data is stored, not deflated.** The encoder classifies each 64 KiB chunk
//!   of an entry by its content (a byte histogram as flat as random data's and no repeated
//!   strings): random-looking chunks (compressed or encrypted payloads) go into the deflate
//!   stream as stored blocks, at copy speed, the rest is deflated at the plan's level. Level-6
//!   deflate of such data costs about 20 ms per MB for no gain. Level 0 still stores the
//!   whole entry (zip method stored); any other level gives zip method deflate.
//! * **Atomic output.** Everything is written to a temporary file in the output directory,
//!   synced and renamed into place; on any error the temporary files are removed and nothing is
//!   left behind. The input is never written to.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::{self, BufWriter, Cursor, Read, Seek, Write};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use flate2::{Compress, Compression, Crc, FlushCompress, Status};
use zip::{CompressionMethod, DateTime, ZipArchive};

use super::archive::{EntryInfo, WheelArchive, check_entry_name, file_name};
use super::filename::WheelFilename;
use super::metadata::WheelInfo;
use super::record::{HashAlgorithm, Hasher, Record, RecordEntry, RecordHash};

/// Produces the bytes of one new or changed entry by writing them to `out`.
///
/// Called once, on a worker thread. An error (or a panic) fails the rewrite; writes to `out`
/// fail once the rewrite has failed elsewhere, so a producer that propagates write errors stops
/// early.
pub type Producer = Box<dyn FnOnce(&mut dyn Write) -> io::Result<()> + Send>;

/// The deflate level used when the plan does not give one (zlib's default, auditwheel's too).
pub const DEFAULT_COMPRESSION_LEVEL: i64 = 6;

/// How many producers run at once.
const WORKER_THREADS: usize = 2;

/// How many entries past the one the writer is waiting for may be produced ahead of time (each
/// one held in a temporary file until it is copied).
const MAX_AHEAD: usize = 4;

/// Size of the copy buffer and of the buffers in front of the compressors and the output.
const CHUNK_LEN: usize = 256 * 1024;

/// Mode of new entries that do not give one: a regular file, `rw-r--r--`.
const DEFAULT_MODE: u32 = 0o100_644;

/// The file type bits of a Unix mode, and the regular-file type.
const S_IFMT: u32 = 0o170_000;
const S_IFREG: u32 = 0o100_000;

/// Sizes and offsets at or above this need ZIP64 fields (the 32-bit field then holds
/// `0xFFFF_FFFF`).
const ZIP64_LIMIT: u64 = 0xFFFF_FFFF;

/// Entry counts at or above this need the ZIP64 end of central directory record.
const ZIP64_ENTRY_LIMIT: usize = 0xFFFF;

/// `version made by` of the entries written here: Unix (3), zip specification 4.5.
const MADE_BY: u16 = (3 << 8) | 45;

/// Seconds from the Unix epoch to 1980-01-01 00:00:00 UTC, the earliest zip timestamp.
const DOS_EPOCH: u64 = 315_532_800;

/// One new or changed entry of a [`RewritePlan`].
pub struct NewEntry {
    /// The entry name, `/`-separated. Ex) `foo.libs/libz-a1b2c3d4.so.1.3`
    pub name: String,
    /// The Unix mode. Ex) `0o100755`. A mode without file type bits is a regular file. `0`
    /// means: keep the replaced entry's mode (for a replaced entry) or `0o100644` (for an added
    /// entry).
    pub unix_mode: u32,
    /// Writes the contents.
    pub producer: Producer,
}

impl NewEntry {
    /// An entry whose contents `producer` writes.
    pub fn new(
        name: impl Into<String>,
        unix_mode: u32,
        producer: impl FnOnce(&mut dyn Write) -> io::Result<()> + Send + 'static,
    ) -> Self {
        Self {
            name: name.into(),
            unix_mode,
            producer: Box::new(producer),
        }
    }

    /// An entry with contents already in memory (small files: launcher scripts, an SBOM).
    pub fn from_bytes(name: impl Into<String>, unix_mode: u32, contents: Vec<u8>) -> Self {
        Self::new(name, unix_mode, move |out| out.write_all(&contents))
    }
}

impl fmt::Debug for NewEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewEntry")
            .field("name", &self.name)
            .field("unix_mode", &format_args!("{:#o}", self.unix_mode))
            .finish_non_exhaustive()
    }
}

/// What [`rewrite`] changes.
#[derive(Debug)]
pub struct RewritePlan {
    /// The output file name (usually the input's with other platform tags). Its distribution
    /// name and version must be the input's, so that the `.dist-info` directory still matches.
    pub filename: WheelFilename,
    /// The new `WHEEL` contents, written in place of the old `WHEEL`.
    pub wheel_info: WheelInfo,
    /// Existing entries whose contents change (`name` is the existing entry); they keep their
    /// position, and their mode unless `unix_mode` is non-zero.
    pub replace: Vec<NewEntry>,
    /// New entries (grafted libraries, launcher scripts). They go just before the `.dist-info`
    /// entries, or after the existing `.dist-info` entries if they are inside `.dist-info`.
    pub add: Vec<NewEntry>,
    /// Entries to drop (e.g. moved scripts). `WHEEL`, `METADATA` and `RECORD` cannot be dropped.
    pub remove: Vec<String>,
    /// The deflate level (0 to 9) for new and changed entries; `None` means
    /// [`DEFAULT_COMPRESSION_LEVEL`], 0 means stored.
    pub compression_level: Option<i64>,
    /// `SOURCE_DATE_EPOCH`: when set, the timestamp of every written (not raw-copied) entry.
    pub source_date_epoch: Option<u64>,
}

/// What [`rewrite`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RewriteOutcome {
    /// The output wheel. Ex) `dist/foo-1.0-cp312-cp312-manylinux_2_17_x86_64.whl`
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// How many entries were copied without recompression (directories included).
    pub entries_copied_raw: usize,
    /// How many entries were (re)compressed: replaced and added entries, `WHEEL` and `RECORD`.
    pub entries_compressed: usize,
}

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

/// Writes a new wheel to `out_dir/<plan.filename>` from `archive` and `plan`, atomically.
///
/// Unchanged entries are copied raw with their `RECORD` rows; replaced and added entries are
/// produced and compressed on worker threads; `WHEEL` is rewritten in place, `RECORD.jws` and
/// `RECORD.p7s` are dropped and a new `RECORD` is written last. An existing file at the output
/// path is replaced (unless it is the input). The input is never modified, and on error no
/// output (and no temporary file) is left behind. The caller is expected to have
/// verified the input (e.g. [`WheelArchive::verify_all`]): `RECORD` rows are carried over
/// without re-hashing.
#[tracing::instrument(skip_all, fields(wheel = %plan.filename))]
pub fn rewrite(
    archive: &WheelArchive,
    plan: RewritePlan,
    out_dir: &Path,
) -> Result<RewriteOutcome, RewriteError> {
    let output = out_dir.join(plan.filename.to_string());
    let same_file = match (
        fs_err::canonicalize(&output),
        fs_err::canonicalize(archive.path()),
    ) {
        (Ok(output), Ok(input)) => output == input,
        _ => false,
    };
    if same_file {
        return Err(RewriteError::SameAsInput { output });
    }
    let input_name = archive.filename();
    if plan.filename.name != input_name.name || plan.filename.version != input_name.version {
        return Err(RewriteError::FilenameMismatch {
            output,
            expected: format!("{}-{}", input_name.name, input_name.version),
        });
    }
    let level = plan.compression_level.unwrap_or(DEFAULT_COMPRESSION_LEVEL);
    if !(0..=9).contains(&level) {
        return Err(RewriteError::CompressionLevel { output, level });
    }
    let context = Context {
        output,
        dir: out_dir.to_path_buf(),
        level,
    };
    let source_date = plan.source_date_epoch.map(dos_time_from_epoch);
    let layout = Layout::new(
        archive,
        &context,
        plan.replace,
        plan.add,
        &plan.remove,
        source_date,
    )?;
    let wheel_bytes = plan.wheel_info.to_bytes();

    // Named for this process: removed on an interrupt, and by a later run if this one is killed.
    let temp = wheelwright_scratch::file_in(out_dir, ".whl.part", 0o600)
        .map_err(|source| context.create_temporary(source))?;
    let mut sink = ZipSink::new(BufWriter::with_capacity(CHUNK_LEN, temp.as_file()));
    let counts = write_entries(archive, &context, layout, &wheel_bytes, &mut sink)?;
    let write_error = |source| RewriteError::Write {
        output: context.output.clone(),
        source,
    };
    let (writer, size) = sink.finish().map_err(write_error)?;
    let file = writer
        .into_inner()
        .map_err(|err| write_error(err.into_error()))?;
    // Temporary files are created `rw-------`; the output keeps the input wheel's mode.
    super::mode::set_mode(file, super::mode::mode_of(archive.path())).map_err(write_error)?;
    file.sync_all().map_err(write_error)?;
    temp.persist(&context.output)
        .map_err(|err| RewriteError::Persist {
            output: context.output.clone(),
            source: err.error,
        })?;
    tracing::debug!(
        size,
        copied_raw = counts.copied_raw,
        compressed = counts.compressed,
        "rewrote `{}`",
        context.output.display()
    );
    Ok(RewriteOutcome {
        path: context.output,
        size,
        entries_copied_raw: counts.copied_raw,
        entries_compressed: counts.compressed,
    })
}

/// What every step needs to know about the output.
struct Context {
    output: PathBuf,
    dir: PathBuf,
    level: i64,
}

impl Context {
    fn create_temporary(&self, source: io::Error) -> RewriteError {
        RewriteError::CreateTemporary {
            output: self.output.clone(),
            dir: self.dir.clone(),
            source,
        }
    }

    fn write(&self, source: io::Error) -> RewriteError {
        RewriteError::Write {
            output: self.output.clone(),
            source,
        }
    }

    /// The error for a failed producer or compressor of `entry`.
    fn stage(&self, entry: &str, error: StageError) -> RewriteError {
        let output = self.output.clone();
        let entry = entry.to_string();
        match error {
            StageError::Temporary(source) => self.create_temporary(source),
            StageError::Produce(source) => RewriteError::Produce {
                output,
                entry,
                source,
            },
            StageError::Compress(source) => RewriteError::Compress {
                output,
                entry,
                source,
            },
            StageError::Write(source) => RewriteError::Write { output, source },
        }
    }
}

/// One output entry, in output order.
enum Slot<'a> {
    /// An unchanged entry, copied raw.
    Copy(&'a EntryInfo),
    /// A replaced or added entry: the `job`-th producer.
    Job {
        job: usize,
        name: String,
        mode: u32,
        time: DateTime,
    },
    /// The new `WHEEL`.
    Wheel {
        name: String,
        mode: u32,
        time: DateTime,
    },
    /// The new `RECORD`.
    Record {
        name: String,
        mode: u32,
        time: DateTime,
    },
}

/// The output's entries in order, and the producers of the new ones (in output order).
struct Layout<'a> {
    slots: Vec<Slot<'a>>,
    producers: Vec<Producer>,
    /// The input `RECORD` rows by path.
    rows: HashMap<&'a str, &'a RecordEntry>,
}

impl<'a> Layout<'a> {
    /// Validates the plan against the input and orders the output: input order with the
    /// non-`.dist-info` entries first, then the added entries, then the `.dist-info` entries
    /// (with additions inside `.dist-info` after them), then `RECORD`.
    fn new(
        archive: &'a WheelArchive,
        context: &Context,
        replace: Vec<NewEntry>,
        add: Vec<NewEntry>,
        remove: &[String],
        source_date: Option<DateTime>,
    ) -> Result<Self, RewriteError> {
        let output = || context.output.clone();
        let dist_info = archive.dist_info_dir();
        let prefix = format!("{dist_info}/");
        let wheel_name = format!("{prefix}WHEEL");
        let record_name = format!("{prefix}RECORD");
        let metadata_name = format!("{prefix}METADATA");
        let signatures = [format!("{prefix}RECORD.jws"), format!("{prefix}RECORD.p7s")];
        let generated = |name: &str| {
            name == wheel_name || name == record_name || signatures.iter().any(|s| s == name)
        };
        let zip = archive.zip_reader();
        let time_of = |entry: &EntryInfo| {
            zip.by_index_data(entry.index)
                .ok()
                .and_then(|data| data.last_modified())
                .filter(DateTime::is_valid)
                .unwrap_or(DateTime::DEFAULT)
        };

        let mut removed = HashSet::new();
        for name in remove {
            if name == &wheel_name || name == &record_name || name == &metadata_name {
                return Err(RewriteError::ProtectedEntry {
                    output: output(),
                    action: "remove",
                    entry: name.clone(),
                });
            }
            if archive.entry(name).is_none() {
                return Err(RewriteError::UnknownEntry {
                    output: output(),
                    action: "remove",
                    entry: name.clone(),
                });
            }
            removed.insert(name.as_str());
        }

        let mut replaced: HashMap<String, (u32, Producer)> = HashMap::new();
        for entry in replace {
            if generated(&entry.name) {
                return Err(RewriteError::ProtectedEntry {
                    output: output(),
                    action: "replace",
                    entry: entry.name,
                });
            }
            if archive.entry(&entry.name).is_none_or(|info| info.is_dir) {
                return Err(RewriteError::UnknownEntry {
                    output: output(),
                    action: "replace",
                    entry: entry.name,
                });
            }
            if removed.contains(entry.name.as_str()) || replaced.contains_key(&entry.name) {
                return Err(RewriteError::DuplicateEntry {
                    output: output(),
                    entry: entry.name,
                });
            }
            replaced.insert(entry.name, (entry.unix_mode, entry.producer));
        }

        let mut added_names = HashSet::new();
        for entry in &add {
            let name = entry.name.as_str();
            let invalid = |reason| RewriteError::InvalidEntryName {
                output: output(),
                entry: name.to_string(),
                reason,
            };
            check_entry_name(name).map_err(invalid)?;
            if name.ends_with('/') {
                return Err(invalid("is a directory name"));
            }
            if name.len() > usize::from(u16::MAX) {
                return Err(invalid("is longer than 65535 bytes"));
            }
            if generated(name) {
                return Err(RewriteError::ProtectedEntry {
                    output: output(),
                    action: "add",
                    entry: name.to_string(),
                });
            }
            let kept = |candidate: &str| {
                archive.entry(candidate).is_some() && !removed.contains(candidate)
            };
            if kept(name) || kept(&format!("{name}/")) || !added_names.insert(name) {
                return Err(RewriteError::DuplicateEntry {
                    output: output(),
                    entry: name.to_string(),
                });
            }
            let mut parents = name.match_indices('/').map(|(end, _)| &name[..end]);
            if parents.any(|parent| kept(parent) || added_names.contains(parent)) {
                return Err(invalid("a parent path is a file"));
            }
        }

        // Slots before job numbers: jobs are numbered in output order at the end.
        let mut outside = Vec::new();
        let mut inside = Vec::new();
        let mut pending_producers: Vec<Option<Producer>> = Vec::new();
        let mut new_job = |producer: Producer| {
            pending_producers.push(Some(producer));
            pending_producers.len() - 1
        };
        let mut record_slot = None;
        for entry in archive.entries() {
            let name = entry.name.as_str();
            if removed.contains(name) || signatures.iter().any(|s| s == name) {
                continue;
            }
            let slot = if name == record_name {
                record_slot = Some(Slot::Record {
                    name: record_name.clone(),
                    mode: entry.unix_mode.unwrap_or(DEFAULT_MODE),
                    time: source_date.unwrap_or_else(|| time_of(entry)),
                });
                continue;
            } else if name == wheel_name {
                Slot::Wheel {
                    name: wheel_name.clone(),
                    mode: entry.unix_mode.unwrap_or(DEFAULT_MODE),
                    time: source_date.unwrap_or_else(|| time_of(entry)),
                }
            } else if let Some((mode, producer)) = replaced.remove(name) {
                let mode = if mode == 0 {
                    entry.unix_mode.unwrap_or(DEFAULT_MODE)
                } else {
                    mode
                };
                Slot::Job {
                    job: new_job(producer),
                    name: name.to_string(),
                    mode: with_file_type(mode),
                    time: source_date.unwrap_or_else(|| time_of(entry)),
                }
            } else {
                Slot::Copy(entry)
            };
            if name.starts_with(&prefix) {
                inside.push(slot);
            } else {
                outside.push(slot);
            }
        }
        for entry in add {
            let mode = if entry.unix_mode == 0 {
                DEFAULT_MODE
            } else {
                entry.unix_mode
            };
            let inside_dist_info = entry.name.starts_with(&prefix);
            let slot = Slot::Job {
                job: new_job(entry.producer),
                name: entry.name,
                mode: with_file_type(mode),
                time: source_date.unwrap_or(DateTime::DEFAULT),
            };
            if inside_dist_info {
                inside.push(slot);
            } else {
                outside.push(slot);
            }
        }
        let record_slot = record_slot.unwrap_or_else(|| Slot::Record {
            name: record_name.clone(),
            mode: DEFAULT_MODE,
            time: source_date.unwrap_or(DateTime::DEFAULT),
        });
        let mut slots = outside;
        slots.append(&mut inside);
        slots.push(record_slot);

        // Renumber the jobs in output order, so that the workers produce them in that order.
        let mut producers = Vec::with_capacity(pending_producers.len());
        for slot in &mut slots {
            if let Slot::Job { job, .. } = slot
                && let Some(producer) = pending_producers.get_mut(*job).and_then(Option::take)
            {
                *job = producers.len();
                producers.push(producer);
            }
        }

        let rows = archive
            .record()
            .entries
            .iter()
            .map(|row| (row.path.as_str(), row))
            .collect();
        Ok(Self {
            slots,
            producers,
            rows,
        })
    }
}

/// A mode with the regular-file type added when it has no file type bits.
fn with_file_type(mode: u32) -> u32 {
    if mode & S_IFMT == 0 {
        mode | S_IFREG
    } else {
        mode
    }
}

/// The zip timestamp for a `SOURCE_DATE_EPOCH` (UTC), clamped to what zip can represent
/// (1980-01-01 00:00:00 to 2107-12-31 23:59:58, even seconds).
fn dos_time_from_epoch(seconds: u64) -> DateTime {
    if seconds < DOS_EPOCH {
        return DateTime::DEFAULT;
    }
    let (year, month, day) = civil_from_days(seconds / 86_400);
    let of_day = seconds % 86_400;
    let latest = || DateTime::from_date_and_time(2107, 12, 31, 23, 59, 58);
    let time = match u16::try_from(year) {
        Ok(year) if year <= 2107 => DateTime::from_date_and_time(
            year,
            month,
            day,
            // In range: below 24, 60 and 60.
            u8::try_from(of_day / 3600).unwrap_or(0),
            u8::try_from(of_day / 60 % 60).unwrap_or(0),
            u8::try_from(of_day % 60).unwrap_or(0),
        ),
        _ => latest(),
    };
    time.unwrap_or(DateTime::DEFAULT)
}

/// The proleptic Gregorian `(year, month, day)` of a day count since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`, for non-negative days).
fn civil_from_days(days: u64) -> (u64, u8, u8) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    // In range: day is 1..=31 and month 1..=12.
    (
        year,
        u8::try_from(month).unwrap_or(1),
        u8::try_from(day).unwrap_or(1),
    )
}

/// How many entries [`write_entries`] copied and compressed.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    copied_raw: usize,
    compressed: usize,
}

/// Writes every slot of `layout` to `sink`, running the producers on worker threads.
fn write_entries<W: Write>(
    archive: &WheelArchive,
    context: &Context,
    layout: Layout<'_>,
    wheel_bytes: &[u8],
    sink: &mut ZipSink<W>,
) -> Result<Counts, RewriteError> {
    let Layout {
        slots,
        producers,
        rows,
    } = layout;
    let jobs: Vec<Mutex<Option<Producer>>> = producers
        .into_iter()
        .map(|producer| Mutex::new(Some(producer)))
        .collect();
    let dispatch = Dispatch::default();
    let threads = WORKER_THREADS.min(jobs.len());
    std::thread::scope(|scope| {
        let (sender, receiver) = mpsc::channel();
        for _ in 0..threads {
            let sender = sender.clone();
            let (dispatch, jobs) = (&dispatch, &jobs);
            scope.spawn(move || work(dispatch, jobs, context, &sender));
        }
        drop(sender);
        let job_names = slots
            .iter()
            .filter_map(|slot| match slot {
                Slot::Job { name, .. } => Some(name.as_str()),
                _ => None,
            })
            .collect();
        let mut writer = Writer {
            archive,
            context,
            rows: &rows,
            dispatch: &dispatch,
            receiver,
            job_names,
            done: HashMap::new(),
            record: Vec::new(),
            buffer: vec![0; CHUNK_LEN],
            counts: Counts::default(),
        };
        let result = writer
            .write_all(&slots, wheel_bytes, sink)
            .map(|()| writer.counts);
        // Stops the workers: on success there is nothing left, on error they give up (and a
        // running producer's writes fail).
        dispatch.cancel();
        drop(writer);
        result
    })
}

/// The main thread's side of [`write_entries`].
struct Writer<'a> {
    archive: &'a WheelArchive,
    context: &'a Context,
    rows: &'a HashMap<&'a str, &'a RecordEntry>,
    dispatch: &'a Dispatch,
    receiver: mpsc::Receiver<JobResult>,
    /// The entry name of each job, for messages.
    job_names: Vec<&'a str>,
    /// Finished jobs that arrived before the writer needed them.
    done: HashMap<usize, Produced<std::fs::File>>,
    /// The new `RECORD` rows, in output order.
    record: Vec<RecordEntry>,
    buffer: Vec<u8>,
    counts: Counts,
}

impl Writer<'_> {
    fn write_all<W: Write>(
        &mut self,
        slots: &[Slot<'_>],
        wheel_bytes: &[u8],
        sink: &mut ZipSink<W>,
    ) -> Result<(), RewriteError> {
        let mut zip = self.archive.zip_reader();
        for slot in slots {
            match slot {
                Slot::Copy(entry) => {
                    self.collect_finished()?;
                    self.copy_raw(&mut zip, entry, sink)?;
                }
                Slot::Job {
                    job,
                    name,
                    mode,
                    time,
                } => {
                    let produced = self.wait_for(*job)?;
                    self.add_produced(produced, name, *mode, *time, sink)?;
                    self.dispatch.consumed(*job);
                }
                Slot::Wheel { name, mode, time } => {
                    let produced = compress_in_memory(self.context.level, wheel_bytes)
                        .map_err(|err| self.context.stage(name, err))?;
                    self.add_produced(produced, name, *mode, *time, sink)?;
                }
                Slot::Record { name, mode, time } => {
                    let mut record = Record {
                        entries: std::mem::take(&mut self.record),
                    };
                    record.entries.push(RecordEntry {
                        path: name.clone(),
                        hash: None,
                        size: None,
                    });
                    let produced = compress_in_memory(self.context.level, &record.to_csv_bytes())
                        .map_err(|err| self.context.stage(name, err))?;
                    self.add_produced(produced, name, *mode, *time, sink)?;
                    // RECORD lists itself without hash and size: drop the row just added.
                    self.record.clear();
                }
            }
        }
        Ok(())
    }

    /// Copies an unchanged entry's compressed bytes and carries its `RECORD` row over.
    fn copy_raw<W: Write>(
        &mut self,
        zip: &mut ZipArchive<impl Read + Seek>,
        entry: &EntryInfo,
        sink: &mut ZipSink<W>,
    ) -> Result<(), RewriteError> {
        let output = || self.context.output.clone();
        if !entry.is_dir {
            let row = self
                .rows
                .get(entry.name.as_str())
                .filter(|row| row.hash.is_some())
                .ok_or_else(|| RewriteError::NotInRecord {
                    output: output(),
                    entry: entry.name.clone(),
                })?;
            if let Some(size) = row.size
                && size != entry.size
            {
                return Err(RewriteError::RecordSizeMismatch {
                    output: output(),
                    entry: entry.name.clone(),
                    record: size,
                    zip: entry.size,
                });
            }
            self.record.push(RecordEntry {
                // A missing size is known from the zip directory (checked equal when present).
                size: Some(entry.size),
                ..(*row).clone()
            });
        }
        let read_error = |source: io::Error| RewriteError::ReadInput {
            output: output(),
            entry: entry.name.clone(),
            source,
        };
        let mut file = zip
            .by_index_raw(entry.index)
            .map_err(|err| read_error(err.into()))?;
        let (major, minor) = file.version_made_by();
        let header = EntryHeader {
            name: entry.name.clone(),
            version_made_by: (u16::from(u8::from(file.system())) << 8)
                | u16::from(major * 10 + minor),
            method: method_code(file.compression()).map_err(read_error)?,
            time: file
                .last_modified()
                .filter(DateTime::is_valid)
                .unwrap_or(DateTime::DEFAULT),
            crc32: file.crc32(),
            compressed_size: file.compressed_size(),
            size: file.size(),
            external_attributes: file.external_attributes(),
        };
        sink.add(header, &mut file, &mut self.buffer)
            .map_err(|err| match err {
                CopyError::Read(source) => read_error(source),
                CopyError::Write(source) => self.context.write(source),
            })?;
        self.counts.copied_raw += 1;
        Ok(())
    }

    /// Copies a produced entry's compressed bytes into the output and records its row.
    fn add_produced<W: Write, R: Read>(
        &mut self,
        produced: Produced<R>,
        name: &str,
        mode: u32,
        time: DateTime,
        sink: &mut ZipSink<W>,
    ) -> Result<(), RewriteError> {
        let Produced {
            mut storage,
            hash,
            size,
            method,
            crc32,
            compressed_size,
        } = produced;
        let header = EntryHeader {
            name: name.to_string(),
            version_made_by: MADE_BY,
            method,
            time,
            crc32,
            compressed_size,
            size,
            external_attributes: mode << 16,
        };
        sink.add(header, &mut storage, &mut self.buffer)
            .map_err(|err| match err {
                CopyError::Read(source) => RewriteError::Compress {
                    output: self.context.output.clone(),
                    entry: name.to_string(),
                    source,
                },
                CopyError::Write(source) => self.context.write(source),
            })?;
        self.record.push(RecordEntry {
            path: name.to_string(),
            hash: Some(hash),
            size: Some(size),
        });
        self.counts.compressed += 1;
        Ok(())
    }

    /// Takes the finished jobs that have arrived, failing fast on a failed one.
    fn collect_finished(&mut self) -> Result<(), RewriteError> {
        while let Ok((job, result)) = self.receiver.try_recv() {
            self.store(job, result)?;
        }
        Ok(())
    }

    /// Blocks until job `job` is finished and returns it.
    fn wait_for(&mut self, job: usize) -> Result<Produced<std::fs::File>, RewriteError> {
        loop {
            if let Some(produced) = self.done.remove(&job) {
                return Ok(produced);
            }
            match self.receiver.recv() {
                Ok((finished, result)) => self.store(finished, result)?,
                // Workers only exit early after a cancellation, which comes after the writer
                // has stopped; kept as an error rather than a hang.
                Err(_) => {
                    return Err(self.context.write(io::Error::other(
                        "the compression workers stopped unexpectedly",
                    )));
                }
            }
        }
    }

    /// Keeps a finished job for later, or turns a failed one into the rewrite's error.
    fn store(
        &mut self,
        job: usize,
        result: Result<Produced<std::fs::File>, StageError>,
    ) -> Result<(), RewriteError> {
        match result {
            Ok(produced) => {
                self.done.insert(job, produced);
                Ok(())
            }
            Err(err) => {
                let name = self.job_names.get(job).copied().unwrap_or("?");
                Err(self.context.stage(name, err))
            }
        }
    }
}

/// The zip method code of an entry (only stored and deflate are written).
fn method_code(method: CompressionMethod) -> io::Result<u16> {
    match method {
        CompressionMethod::Stored => Ok(0),
        CompressionMethod::Deflated => Ok(8),
        other => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!("unsupported compression method `{other}`"),
        )),
    }
}

/// A job's outcome, sent from a worker to the writer: (job number, result).
type JobResult = (usize, Result<Produced<std::fs::File>, StageError>);

/// A compressed entry: its zip data, the header facts and the `RECORD` facts of its contents.
struct Produced<R> {
    /// The entry's zip data, read from the start (an anonymous temporary file, or memory for
    /// `WHEEL` and `RECORD`).
    storage: R,
    /// The sha256 of the contents.
    hash: RecordHash,
    /// The size of the contents.
    size: u64,
    /// The zip method: 0 (stored) or 8 (deflate).
    method: u16,
    /// The CRC-32 of the contents.
    crc32: u32,
    /// The size of the zip data.
    compressed_size: u64,
}

/// Why a job failed, before the entry name and output are attached.
#[derive(Debug)]
enum StageError {
    /// The temporary file could not be created.
    Temporary(io::Error),
    /// The producer failed or panicked.
    Produce(io::Error),
    /// The compressor (or its temporary file) failed.
    Compress(io::Error),
    /// The output could not be written.
    Write(io::Error),
}

/// Hands out job numbers in order, at most [`MAX_AHEAD`] past the one the writer waits for.
#[derive(Default)]
struct Dispatch {
    state: Mutex<DispatchState>,
    wake: Condvar,
    /// Set once the rewrite stops; checked on every producer write.
    cancelled: AtomicBool,
}

#[derive(Default)]
struct DispatchState {
    next: usize,
    consumed: usize,
}

impl Dispatch {
    fn lock(&self) -> MutexGuard<'_, DispatchState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next job to run, waiting while the workers are too far ahead; `None` when there is
    /// nothing left or the rewrite stopped.
    fn take(&self, total: usize) -> Option<usize> {
        let mut state = self.lock();
        loop {
            if self.cancelled.load(Ordering::Relaxed) || state.next >= total {
                return None;
            }
            if state.next < state.consumed + MAX_AHEAD {
                state.next += 1;
                return Some(state.next - 1);
            }
            state = self
                .wake
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// The writer has copied job `job`.
    fn consumed(&self, job: usize) {
        let mut state = self.lock();
        state.consumed = state.consumed.max(job + 1);
        drop(state);
        self.wake.notify_all();
    }

    /// Stops handing out jobs and fails running producers' writes.
    fn cancel(&self) {
        let state = self.lock();
        self.cancelled.store(true, Ordering::Relaxed);
        drop(state);
        self.wake.notify_all();
    }
}

/// A worker thread: runs jobs until none are left, one fails or the rewrite stops.
fn work(
    dispatch: &Dispatch,
    jobs: &[Mutex<Option<Producer>>],
    context: &Context,
    sender: &mpsc::Sender<JobResult>,
) {
    while let Some(job) = dispatch.take(jobs.len()) {
        let producer = jobs
            .get(job)
            .and_then(|slot| slot.lock().unwrap_or_else(PoisonError::into_inner).take());
        let Some(producer) = producer else {
            continue;
        };
        let result = tempfile::tempfile_in(&context.dir)
            .map_err(StageError::Temporary)
            .and_then(|file| {
                let storage = BufWriter::with_capacity(CHUNK_LEN, file);
                let produced = compress(storage, context.level, &dispatch.cancelled, producer)?;
                let storage = produced
                    .storage
                    .into_inner()
                    .map_err(|err| StageError::Compress(err.into_error()))?;
                Ok(Produced {
                    storage,
                    hash: produced.hash,
                    size: produced.size,
                    method: produced.method,
                    crc32: produced.crc32,
                    compressed_size: produced.compressed_size,
                })
            });
        let failed = result.is_err();
        if sender.send((job, result)).is_err() || failed {
            break;
        }
    }
}

/// Compresses `contents` (small, in memory) into in-memory zip data.
fn compress_in_memory(
    level: i64,
    contents: &[u8],
) -> Result<Produced<Cursor<Vec<u8>>>, StageError> {
    let contents = contents.to_vec();
    let storage = Cursor::new(Vec::with_capacity(contents.len() / 2 + 256));
    let cancelled = AtomicBool::new(false);
    compress(
        storage,
        level,
        &cancelled,
        Box::new(move |out| out.write_all(&contents)),
    )
}

/// Runs `producer` into an entry's zip data written to `storage` (see [`EntryEncoder`]),
/// hashing and counting the uncompressed bytes on the way; `storage` is rewound at the end.
fn compress<S: Write + Seek>(
    storage: S,
    level: i64,
    cancelled: &AtomicBool,
    producer: Producer,
) -> Result<Produced<S>, StageError> {
    let mut encoder = EntryEncoder::new(storage, level);
    let mut tee = Tee {
        inner: &mut encoder,
        hasher: HashAlgorithm::Sha256.hasher(),
        size: 0,
        cancelled,
        error: None,
    };
    let result = {
        let mut buffered = BufWriter::with_capacity(CHUNK_LEN, &mut tee);
        let produced = panic::catch_unwind(AssertUnwindSafe(|| producer(&mut buffered)))
            .unwrap_or_else(|payload| Err(io::Error::other(panic_message(&*payload))));
        let flushed = produced.and_then(|()| buffered.flush());
        if flushed.is_err() {
            // Drop the buffered rest without writing it: nothing more goes in after a failure.
            let _unwritten = buffered.into_parts();
        }
        flushed
    };
    let Tee {
        hasher,
        size,
        error,
        ..
    } = tee;
    if let Some(error) = error {
        return Err(StageError::Compress(error));
    }
    if cancelled.load(Ordering::Relaxed) {
        return Err(StageError::Write(io::Error::other(
            "the rewrite was stopped",
        )));
    }
    result.map_err(StageError::Produce)?;
    let encoded = encoder.finish().map_err(StageError::Compress)?;
    if encoded.size != size {
        return Err(StageError::Compress(io::Error::other(format!(
            "the compressor took {} bytes, the producer wrote {size}",
            encoded.size
        ))));
    }
    let mut storage = encoded.out;
    storage.rewind().map_err(StageError::Compress)?;
    Ok(Produced {
        storage,
        hash: hasher.finish(),
        size,
        method: encoded.method,
        crc32: encoded.crc32,
        compressed_size: encoded.compressed_size,
    })
}

/// How much input [`EntryEncoder`] classifies at a time: large enough for a reliable byte
/// histogram, and at least deflate's 32 KiB window, so that a stored chunk leaves nothing in
/// the window the compressor could still have matched against.
const DEFLATE_CHUNK_LEN: usize = 64 * 1024;

/// Chunks shorter than this (only an entry's last one can be) are always deflated: too short
/// for a reliable histogram, and cheap anyway.
const MIN_CLASSIFIED_LEN: usize = 4096;

/// The largest Pearson χ² statistic of a chunk's byte histogram against the uniform
/// distribution for which the chunk can count as random. Random bytes give 255 ± 23 (255 degrees
/// of freedom) whatever the chunk length; for a 64 KiB chunk, 900 is a Shannon entropy of about
/// 7.99 bits/byte. Measured on 64 KiB chunks: random data 183 to 335 (5,000 chunks), gzip data
/// 303 to 663, woff2 fonts 260 to 622. Of the 12,767 chunks of the shared objects of a Debian
/// `/usr/lib/x86_64-linux-gnu`, 59 are at or below 900 (embedded compressed data; 58 of them
/// are stored, which level-6 deflate would have shrunk by at most 0.13%), while their chunks
/// between 7.9 and 7.99 bits/byte still deflate by 3 to 6%: hence no looser bound.
const MAX_CHI_SQUARED: u64 = 900;

/// The largest stored block (its length is a 16-bit field).
const MAX_STORED_BLOCK: usize = 0xFFFF;

/// Streams an entry's contents into its zip data: as is (`level` 0, the zip method stored), or
/// as one raw deflate stream (zip method deflate) in which random-looking data is written as
/// stored blocks and the rest is deflated at `level`.
///
/// Deflating incompressible data costs as much CPU as deflating anything else (about 50 MB/s
/// per thread at level 6) for no gain. So the input is cut into [`DEFLATE_CHUNK_LEN`] chunks at
/// fixed offsets, and each is classified by its content alone ([`looks_random`]): a random chunk
/// becomes stored blocks (a copy), any other is fed to one zlib-rs compressor, whose state
/// carries over between consecutive compressed chunks (so compressible data deflates exactly as
/// in one plain level-`level` stream). Before the first stored chunk after compressed ones the
/// compressor is flushed with `Z_FULL_FLUSH`: that ends its block, aligns the output to a byte
/// boundary (where a stored block may start) and makes it forget its history, so its later
/// matches never reach back across the stored bytes it has not seen. The output depends only on
/// the input bytes (not on how the producer split its writes), so it is deterministic.
struct EntryEncoder<S: Write> {
    out: S,
    /// The deflate state, `None` for the stored method.
    deflate: Option<DeflateState>,
    crc: Crc,
    /// Input bytes not encoded yet (at most one chunk, which is held until more input shows
    /// that it is not the last).
    pending: Vec<u8>,
    size: u64,
    compressed_size: u64,
}

struct DeflateState {
    compress: Compress,
    /// Whether the compressor has taken input since its last flush.
    unflushed: bool,
    /// The compressor's output buffer.
    buffer: Vec<u8>,
    /// Scratch for [`looks_random`].
    keys: Vec<u64>,
}

/// What an [`EntryEncoder`] wrote.
struct Encoded<S> {
    out: S,
    /// The zip method: 0 (stored) or 8 (deflate).
    method: u16,
    crc32: u32,
    size: u64,
    compressed_size: u64,
}

impl<S: Write> EntryEncoder<S> {
    /// An encoder for `level` 0 (stored) to 9.
    fn new(out: S, level: i64) -> Self {
        let deflate = u32::try_from(level)
            .ok()
            .filter(|&level| level > 0)
            .map(|level| DeflateState {
                compress: Compress::new(Compression::new(level.min(9)), false),
                unflushed: false,
                buffer: vec![0; DEFLATE_CHUNK_LEN + 1024],
                keys: Vec::new(),
            });
        Self {
            out,
            pending: Vec::with_capacity(if deflate.is_some() {
                DEFLATE_CHUNK_LEN
            } else {
                0
            }),
            deflate,
            crc: Crc::new(),
            size: 0,
            compressed_size: 0,
        }
    }

    /// Encodes what is left and ends the stream.
    fn finish(mut self) -> io::Result<Encoded<S>> {
        let method = if self.deflate.is_some() {
            let pending = std::mem::take(&mut self.pending);
            self.encode(&pending, true)?;
            8
        } else {
            0
        };
        self.out.flush()?;
        Ok(Encoded {
            out: self.out,
            method,
            crc32: self.crc.sum(),
            size: self.size,
            compressed_size: self.compressed_size,
        })
    }

    /// Encodes one chunk (the last one when `last`, possibly empty).
    fn encode(&mut self, chunk: &[u8], last: bool) -> io::Result<()> {
        let Some(state) = &mut self.deflate else {
            return Ok(());
        };
        let stored = chunk.len() >= MIN_CLASSIFIED_LEN && looks_random(chunk, &mut state.keys);
        if stored {
            if state.unflushed {
                self.compressed_size += state.run(&mut self.out, &[], FlushCompress::Full)?;
                state.unflushed = false;
            }
            self.compressed_size += write_stored(&mut self.out, chunk, last)?;
        } else {
            let flush = if last {
                FlushCompress::Finish
            } else {
                FlushCompress::None
            };
            self.compressed_size += state.run(&mut self.out, chunk, flush)?;
            state.unflushed = !last;
        }
        Ok(())
    }
}

impl<S: Write> Write for EntryEncoder<S> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.crc.update(bytes);
        self.size += bytes.len() as u64;
        if self.deflate.is_none() {
            self.out.write_all(bytes)?;
            self.compressed_size += bytes.len() as u64;
            return Ok(bytes.len());
        }
        // Chunks start at multiples of `DEFLATE_CHUNK_LEN` in the input, whatever the writes.
        let mut rest = bytes;
        while !rest.is_empty() {
            if self.pending.len() == DEFLATE_CHUNK_LEN {
                let mut pending = std::mem::take(&mut self.pending);
                let encoded = self.encode(&pending, false);
                pending.clear();
                self.pending = pending;
                encoded?;
            }
            if self.pending.is_empty() && rest.len() > DEFLATE_CHUNK_LEN {
                let (chunk, after) = rest.split_at(DEFLATE_CHUNK_LEN);
                self.encode(chunk, false)?;
                rest = after;
                continue;
            }
            let n = rest.len().min(DEFLATE_CHUNK_LEN - self.pending.len());
            let (taken, after) = rest.split_at(n);
            self.pending.extend_from_slice(taken);
            rest = after;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl DeflateState {
    /// Runs the compressor over `input` with `flush`, writing its output to `out` until it
    /// has taken all the input and (for a flush) written everything; returns the bytes written.
    fn run(
        &mut self,
        out: &mut impl Write,
        mut input: &[u8],
        flush: FlushCompress,
    ) -> io::Result<u64> {
        let mut written = 0;
        loop {
            let (before_in, before_out) = (self.compress.total_in(), self.compress.total_out());
            let status = self
                .compress
                .compress(input, &mut self.buffer, flush)
                .map_err(io::Error::other)?;
            let consumed = usize::try_from(self.compress.total_in() - before_in)
                .unwrap_or(usize::MAX)
                .min(input.len());
            let produced = usize::try_from(self.compress.total_out() - before_out)
                .unwrap_or(usize::MAX)
                .min(self.buffer.len());
            input = input.get(consumed..).unwrap_or_default();
            out.write_all(self.buffer.get(..produced).unwrap_or_default())?;
            written += produced as u64;
            let done = if flush == FlushCompress::Finish {
                status == Status::StreamEnd
            } else {
                input.is_empty() && produced < self.buffer.len()
            };
            if done {
                return Ok(written);
            }
            if consumed == 0 && produced == 0 {
                return Err(io::Error::other("the compressor made no progress"));
            }
        }
    }
}

/// Writes `data` as stored deflate blocks (the last one final when `last`), starting at a byte
/// boundary; returns the bytes written.
fn write_stored(out: &mut impl Write, data: &[u8], last: bool) -> io::Result<u64> {
    // Equal blocks (two of 32 KiB for a chunk), at least one (an empty one for no data).
    let blocks = data.len().div_ceil(MAX_STORED_BLOCK).max(1);
    let block_len = data.len().div_ceil(blocks);
    let mut written = 0;
    for block in 0..blocks {
        let start = (block * block_len).min(data.len());
        let piece = data
            .get(start..(start + block_len).min(data.len()))
            .unwrap_or_default();
        let len = u16::try_from(piece.len()).unwrap_or(u16::MAX);
        // BFINAL, then BTYPE 00 (stored), padded to the byte boundary; then LEN and NLEN.
        let mut header = [u8::from(last && block + 1 == blocks), 0, 0, 0, 0];
        header[1..3].copy_from_slice(&len.to_le_bytes());
        header[3..5].copy_from_slice(&(!len).to_le_bytes());
        out.write_all(&header)?;
        out.write_all(piece)?;
        written += (header.len() + piece.len()) as u64;
    }
    Ok(written)
}

/// Whether `chunk` looks like random (incompressible) data: its byte histogram is as flat as
/// random data's (Pearson's χ² at most [`MAX_CHI_SQUARED`]) and a sample of its 8-byte strings
/// has no more repeats than chance (deflate would find repeats as matches: a random block that
/// occurs twice has a flat histogram but deflates to half). The sample is content-defined (the
/// 8 bytes after each run of `0x00` or `0xFF`), so repeats are found at any distance and
/// alignment; a chunk counts as repetitive when at least 3 and at least 1% of the sampled
/// strings repeat an earlier one. `keys` is scratch space.
fn looks_random(chunk: &[u8], keys: &mut Vec<u64>) -> bool {
    let n = chunk.len() as u64;
    // Four histograms, so that runs of one byte value do not serialize on one counter.
    let mut counts = [[0u32; 256]; 4];
    let mut words = chunk.chunks_exact(4);
    for word in &mut words {
        for (histogram, &byte) in counts.iter_mut().zip(word) {
            histogram[usize::from(byte)] += 1;
        }
    }
    for &byte in words.remainder() {
        counts[0][usize::from(byte)] += 1;
    }
    let sum_of_squares: u64 = (0..256)
        .map(|value| {
            let count = u64::from(counts.iter().map(|histogram| histogram[value]).sum::<u32>());
            count * count
        })
        .sum();
    // χ² = 256 · Σ count² / n − n ≤ MAX_CHI_SQUARED, in integers (no rounding, no libm).
    if 256 * sum_of_squares > (MAX_CHI_SQUARED + n) * n {
        return false;
    }
    keys.clear();
    for at in memchr::memchr2_iter(0x00, 0xFF, chunk) {
        let Some(key) = chunk.get(at + 1..at + 9) else {
            break;
        };
        // Only the end of a run: a run of zeros is one sample, not many equal ones.
        if key.first() != chunk.get(at) {
            let mut bytes = [0; 8];
            bytes.copy_from_slice(key);
            keys.push(u64::from_le_bytes(bytes));
        }
    }
    keys.sort_unstable();
    let repeats = keys.windows(2).filter(|pair| pair[0] == pair[1]).count();
    !(repeats >= 3 && repeats * 100 >= keys.len())
}

/// The message of a caught panic.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message");
    format!("the producer panicked: {message}")
}

/// Hashes and counts what passes through to the compressor; fails every write once the rewrite
/// has stopped.
struct Tee<'a, W: Write> {
    inner: &'a mut W,
    hasher: Hasher,
    size: u64,
    cancelled: &'a AtomicBool,
    /// The compressor's own error, kept so that it is reported as such (the producer sees a
    /// copy).
    error: Option<io::Error>,
}

impl<W: Write> Write for Tee<'_, W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if self.cancelled.load(Ordering::Relaxed) {
            return Err(io::Error::other("the rewrite was stopped"));
        }
        if let Some(error) = &self.error {
            return Err(io::Error::new(error.kind(), error.to_string()));
        }
        match self.inner.write(bytes) {
            Ok(n) => {
                let written = bytes.get(..n).unwrap_or(bytes);
                self.hasher.update(written);
                self.size += written.len() as u64;
                Ok(n)
            }
            Err(error) if error.kind() == io::ErrorKind::Interrupted => Err(error),
            Err(error) => {
                let copy = io::Error::new(error.kind(), error.to_string());
                self.error = Some(error);
                Err(copy)
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The header fields of one output entry.
struct EntryHeader {
    name: String,
    version_made_by: u16,
    /// 0 (stored) or 8 (deflate).
    method: u16,
    time: DateTime,
    crc32: u32,
    compressed_size: u64,
    size: u64,
    external_attributes: u32,
}

impl EntryHeader {
    /// Whether the sizes need ZIP64 fields.
    fn sizes_need_zip64(&self) -> bool {
        self.size >= ZIP64_LIMIT || self.compressed_size >= ZIP64_LIMIT
    }

    /// General purpose flags: only the UTF-8 name bit, for non-ASCII names.
    fn flags(&self) -> u16 {
        if self.name.is_ascii() { 0 } else { 1 << 11 }
    }
}

/// Why copying an entry's data failed: reading its source or writing the output.
enum CopyError {
    Read(io::Error),
    Write(io::Error),
}

/// A minimal sequential zip writer: local headers with known sizes (no data descriptors),
/// no extra fields but ZIP64 where needed, no comments.
struct ZipSink<W: Write> {
    out: W,
    /// Bytes written so far (the next local header's offset).
    offset: u64,
    /// The central directory, written at the end: each header and its local header's offset.
    central: Vec<(EntryHeader, u64)>,
}

impl<W: Write> ZipSink<W> {
    fn new(out: W) -> Self {
        Self {
            out,
            offset: 0,
            central: Vec::new(),
        }
    }

    /// Writes one entry: its local header, then exactly `header.compressed_size` bytes of
    /// compressed data from `data`.
    fn add(
        &mut self,
        header: EntryHeader,
        data: &mut dyn Read,
        buffer: &mut [u8],
    ) -> Result<(), CopyError> {
        let zip64 = header.sizes_need_zip64();
        let name = header.name.as_bytes();
        let name_len = u16::try_from(name.len()).map_err(|_| {
            CopyError::Write(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("entry name `{}` is longer than 65535 bytes", header.name),
            ))
        })?;
        let mut local = Vec::with_capacity(30 + name.len() + 20);
        put_u32(&mut local, 0x0403_4b50);
        put_u16(&mut local, version_needed(zip64));
        put_u16(&mut local, header.flags());
        put_u16(&mut local, header.method);
        put_u16(&mut local, header.time.timepart());
        put_u16(&mut local, header.time.datepart());
        put_u32(&mut local, header.crc32);
        put_u32(&mut local, clamp32(header.compressed_size, zip64));
        put_u32(&mut local, clamp32(header.size, zip64));
        put_u16(&mut local, name_len);
        put_u16(&mut local, if zip64 { 20 } else { 0 });
        local.extend_from_slice(name);
        if zip64 {
            // The local ZIP64 field holds both sizes (APPNOTE 4.5.3).
            put_u16(&mut local, 0x0001);
            put_u16(&mut local, 16);
            put_u64(&mut local, header.size);
            put_u64(&mut local, header.compressed_size);
        }
        self.out.write_all(&local).map_err(CopyError::Write)?;

        let mut remaining = header.compressed_size;
        while remaining > 0 {
            let want = usize::try_from(remaining).map_or(buffer.len(), |r| r.min(buffer.len()));
            let chunk = buffer.get_mut(..want).unwrap_or_default();
            let n = match data.read(chunk) {
                Ok(0) => {
                    return Err(CopyError::Read(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!(
                            "compressed data ends {remaining} bytes early (expected {})",
                            header.compressed_size
                        ),
                    )));
                }
                Ok(n) => n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(CopyError::Read(err)),
            };
            self.out
                .write_all(chunk.get(..n).unwrap_or_default())
                .map_err(CopyError::Write)?;
            remaining -= n as u64;
        }

        let start = self.offset;
        self.offset += local.len() as u64 + header.compressed_size;
        self.central.push((header, start));
        Ok(())
    }

    /// Writes the central directory and the end records; returns the writer and the archive
    /// size.
    fn finish(mut self) -> io::Result<(W, u64)> {
        let directory_start = self.offset;
        let mut record = Vec::with_capacity(128);
        for (header, offset) in &self.central {
            let sizes_zip64 = header.sizes_need_zip64();
            let offset_zip64 = *offset >= ZIP64_LIMIT;
            let mut extra = Vec::with_capacity(28);
            if sizes_zip64 || offset_zip64 {
                // Only the fields whose 32-bit slot overflows, in this order (APPNOTE 4.5.3).
                let len = 8 * (2 * u16::from(sizes_zip64) + u16::from(offset_zip64));
                put_u16(&mut extra, 0x0001);
                put_u16(&mut extra, len);
                if sizes_zip64 {
                    put_u64(&mut extra, header.size);
                    put_u64(&mut extra, header.compressed_size);
                }
                if offset_zip64 {
                    put_u64(&mut extra, *offset);
                }
            }
            let name = header.name.as_bytes();
            record.clear();
            put_u32(&mut record, 0x0201_4b50);
            put_u16(&mut record, header.version_made_by);
            put_u16(&mut record, version_needed(sizes_zip64 || offset_zip64));
            put_u16(&mut record, header.flags());
            put_u16(&mut record, header.method);
            put_u16(&mut record, header.time.timepart());
            put_u16(&mut record, header.time.datepart());
            put_u32(&mut record, header.crc32);
            put_u32(&mut record, clamp32(header.compressed_size, sizes_zip64));
            put_u32(&mut record, clamp32(header.size, sizes_zip64));
            // Checked in `add`.
            put_u16(&mut record, u16::try_from(name.len()).unwrap_or(u16::MAX));
            put_u16(&mut record, u16::try_from(extra.len()).unwrap_or(0));
            put_u16(&mut record, 0); // comment length
            put_u16(&mut record, 0); // disk number start
            put_u16(&mut record, 0); // internal attributes
            put_u32(&mut record, header.external_attributes);
            put_u32(&mut record, clamp32(*offset, offset_zip64));
            record.extend_from_slice(name);
            record.extend_from_slice(&extra);
            self.out.write_all(&record)?;
            self.offset += record.len() as u64;
        }
        let directory_size = self.offset - directory_start;
        let count = self.central.len();
        let zip64 = count >= ZIP64_ENTRY_LIMIT
            || directory_size >= ZIP64_LIMIT
            || directory_start >= ZIP64_LIMIT;
        let mut end = Vec::with_capacity(98);
        if zip64 {
            let end64_offset = self.offset;
            put_u32(&mut end, 0x0606_4b50);
            put_u64(&mut end, 44); // size of the rest of this record
            put_u16(&mut end, MADE_BY);
            put_u16(&mut end, version_needed(true));
            put_u32(&mut end, 0); // this disk
            put_u32(&mut end, 0); // disk with the central directory
            put_u64(&mut end, count as u64);
            put_u64(&mut end, count as u64);
            put_u64(&mut end, directory_size);
            put_u64(&mut end, directory_start);
            // Locator.
            put_u32(&mut end, 0x0706_4b50);
            put_u32(&mut end, 0);
            put_u64(&mut end, end64_offset);
            put_u32(&mut end, 1);
        }
        let count16 = u16::try_from(count)
            .ok()
            .filter(|&count| usize::from(count) < ZIP64_ENTRY_LIMIT)
            .unwrap_or(u16::MAX);
        put_u32(&mut end, 0x0605_4b50);
        put_u16(&mut end, 0);
        put_u16(&mut end, 0);
        put_u16(&mut end, count16);
        put_u16(&mut end, count16);
        put_u32(&mut end, clamp32(directory_size, zip64));
        put_u32(&mut end, clamp32(directory_start, zip64));
        put_u16(&mut end, 0); // comment length
        self.out.write_all(&end)?;
        self.offset += end.len() as u64;
        self.out.flush()?;
        Ok((self.out, self.offset))
    }
}

/// `version needed to extract`: 2.0 (deflate, directories), 4.5 with ZIP64 fields.
fn version_needed(zip64: bool) -> u16 {
    if zip64 { 45 } else { 20 }
}

/// A 32-bit header field: the value, or `0xFFFF_FFFF` when it lives in a ZIP64 field.
fn clamp32(value: u64, zip64: bool) -> u32 {
    if zip64 {
        u32::MAX
    } else {
        // In range: callers set `zip64` whenever `value >= ZIP64_LIMIT`.
        u32::try_from(value).unwrap_or(u32::MAX)
    }
}

fn put_u16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put_u32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put_u64(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(&value.to_le_bytes());
}

#[cfg(test)]
mod tests;
