//! Verification against `RECORD`: one streaming read per entry, hashing while inflating, on up
//! to `MAX_THREADS` workers; wanted contents kept in memory or spilled to a file.

use super::*;

/// What `RECORD` says an entry must hash to.
#[derive(Debug, Clone, Copy)]
pub(super) struct Expected<'a> {
    pub(super) hash: &'a RecordHash,
    pub(super) size: Option<u64>,
}

/// `RECORD` with the lookups verification needs.
#[derive(Debug)]
pub(super) struct Manifest {
    pub(super) dist_info_dir: String,
    pub(super) record: Record,
    /// Path -> row in `record.entries`.
    pub(super) rows: HashMap<String, usize>,
}

impl Manifest {
    pub(super) fn new(dist_info_dir: String, record: Record) -> Self {
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
    pub(super) fn is_unverifiable(&self, path: &str) -> bool {
        path.strip_prefix(self.dist_info_dir.as_str())
            .and_then(|rest| rest.strip_prefix('/'))
            .is_some_and(|rest| matches!(rest, "RECORD" | "RECORD.jws" | "RECORD.p7s"))
    }

    /// What `RECORD` requires of a file entry; `None` for `RECORD` and its signatures.
    pub(super) fn expected(
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

/// Reads a whole file entry, verified when `expected` is given.
pub(super) fn read_full(
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
pub(super) struct Worker<T> {
    kept: Vec<(usize, T)>,
    error: Option<(usize, ArchiveError)>,
}

/// Reads one entry once, hashing while inflating, and checks it against `expected`.
///
/// `keep` sees the first `min(size, PROBE_LEN)` bytes and decides whether the full contents are
/// returned. `scratch` is the chunk buffer (at least [`PROBE_LEN`] bytes).
#[expect(
    clippy::too_many_arguments,
    reason = "one private streaming routine shared by every read mode"
)]
pub(super) fn stream_entry(
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
pub(super) fn check_expected(
    wheel: &Path,
    entry: &EntryInfo,
    expected: Option<Expected<'_>>,
    hasher: Option<crate::record::Hasher>,
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
pub(super) fn read_retrying(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match reader.read(buf) {
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            result => return result,
        }
    }
}

impl WheelArchive {
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
    pub(super) fn kept_vec(kept: Kept) -> Vec<u8> {
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
    pub(crate) fn verify_and_read_on<T: Send>(
        &self,
        threads: Option<usize>,
        want: &(dyn Fn(&EntryInfo, &[u8]) -> bool + Sync),
        visit: &(dyn Fn(&EntryInfo, Vec<u8>) -> T + Sync),
    ) -> Result<Vec<(usize, T)>, ArchiveError> {
        let visit_kept = |entry: &EntryInfo, kept: Kept| visit(entry, Self::kept_vec(kept));
        self.verify_and_read_on_with(threads, Verification::Hashes, None, want, &visit_kept)
    }

    pub(super) fn verify_and_read_on_with<T: Send>(
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
}
