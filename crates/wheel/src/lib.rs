//! The wheel domain: file names, `RECORD`, `WHEEL`/`METADATA` and the archive.
//!
//! Everything here is synchronous and pure: no network, no subprocesses, no async runtime. The
//! archive reader works on the zip file in place (never extracting to disk) and verifies every
//! entry it hands out against `RECORD`.
//!
//! Layout:
//!
//! * [`filename`]: [`WheelFilename`], PEP 427 file names with compressed tag sets (platform tags
//!   typed as [`wheelwright_platform::PlatformTag`]).
//! * [`record`]: [`Record`], the `RECORD` CSV file with its sha256 hashes.
//! * [`metadata`]: the email-header format of `WHEEL` ([`WheelInfo`]) and `METADATA` ([`Metadata`]).
//! * [`archive`]: [`WheelArchive`], a validated, hash-verified read-only view of a `.whl` file.
//! * [`rewrite`](mod@rewrite): [`rewrite()`], a streaming rewrite of a wheel into a new `.whl`
//!   (raw copies of unchanged entries, new `WHEEL`/`RECORD`, atomic output).
//!
//! The benchmarks are in `benches/` (`cargo bench -p wheelwright-wheel --bench <name>`); the one
//! knob they need beyond the public API is in the hidden `bench` module.

pub mod archive;
#[doc(hidden)]
pub mod bench;
pub mod filename;
pub mod metadata;
pub mod mode;
pub mod record;
pub mod rewrite;

pub use archive::{
    ArchiveError, Compression, EntryInfo, Kept, PROBE_LEN, SPILL_THRESHOLD, Verification,
    WheelArchive,
};
pub use filename::{WheelFilename, WheelFilenameError, normalize_name};
pub use metadata::{HeaderFile, Metadata, MetadataError, WheelInfo};
pub use record::{
    HashAlgorithm, Hasher, Record, RecordEntry, RecordError, RecordHash, RecordHashError,
};
pub use rewrite::{
    DEFAULT_COMPRESSION_LEVEL, NewEntry, Producer, RewriteError, RewriteOutcome, RewritePlan,
    rewrite,
};
