//! Measurement knobs for the benchmarks in `benches/`; not part of the supported API.

use crate::archive::{ArchiveError, EntryInfo, WheelArchive};

/// [`WheelArchive::verify_and_read`] on exactly `threads` worker threads (the product picks the
/// count itself), so the benchmark can compare 1, 2 and 4 threads.
pub fn verify_and_read_on(
    archive: &WheelArchive,
    threads: usize,
    want: &(dyn Fn(&EntryInfo, &[u8]) -> bool + Sync),
) -> Result<Vec<(usize, Vec<u8>)>, ArchiveError> {
    archive.verify_and_read_on(Some(threads), want, &|_, content| content)
}
