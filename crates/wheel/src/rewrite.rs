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
//!
//! Parts: this file holds the plan, the entry point and the writer loop; `layout` decides the
//! output entries and their order, `dispatch` runs the producers on worker threads, `encode` is
//! the entry encoder, `zip_sink` writes the zip structure, `error` the error type.

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

mod dispatch;
mod encode;
mod error;
mod layout;
mod zip_sink;

use dispatch::{Dispatch, JobResult, Produced, StageError, compress_in_memory, work};
use encode::{EntryEncoder, Tee};
pub use error::RewriteError;
use layout::{Layout, Slot, dos_time_from_epoch};
use zip_sink::{CopyError, EntryHeader, ZipSink};

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

#[cfg(test)]
mod tests;
