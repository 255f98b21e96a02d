//! The wheel domain: file names, platform tags, `RECORD`, `WHEEL`/`METADATA` and the archive.
//!
//! Everything here is synchronous and pure: no network, no subprocesses, no async runtime. The
//! archive reader works on the zip file in place (never extracting to disk) and verifies every
//! entry it hands out against `RECORD`.
//!
//! Layout:
//!
//! * [`filename`]: [`WheelFilename`], PEP 427 file names with compressed tag sets.
//! * [`tags`]: [`PlatformTag`] and [`Arch`], the Linux platform tag model (manylinux, musllinux).
//! * [`record`]: [`Record`], the `RECORD` CSV file with its sha256 hashes.
//! * [`metadata`]: the email-header format of `WHEEL` ([`WheelInfo`]) and `METADATA` ([`Metadata`]).
//! * [`archive`]: [`WheelArchive`], a validated, hash-verified read-only view of a `.whl` file.

pub mod archive;
pub mod filename;
pub mod metadata;
pub mod record;
pub mod tags;

pub use archive::{ArchiveError, Compression, EntryInfo, PROBE_LEN, WheelArchive};
pub use filename::{WheelFilename, WheelFilenameError, normalize_name};
pub use metadata::{HeaderFile, Metadata, MetadataError, WheelInfo};
pub use record::{
    HashAlgorithm, Hasher, Record, RecordEntry, RecordError, RecordHash, RecordHashError,
};
pub use tags::{Arch, LegacyManylinux, PlatformTag, PlatformTagError};
