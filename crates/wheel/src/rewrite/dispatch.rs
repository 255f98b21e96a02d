//! Compression jobs handed to worker threads and their results collected in output order,
//! with bounded read-ahead; a panicking producer becomes an error.

use super::*;

/// A job's outcome, sent from a worker to the writer: (job number, result).
pub(super) type JobResult = (usize, Result<Produced<std::fs::File>, StageError>);

/// A compressed entry: its zip data, the header facts and the `RECORD` facts of its contents.
pub(super) struct Produced<R> {
    /// The entry's zip data, read from the start (an anonymous temporary file, or memory for
    /// `WHEEL` and `RECORD`).
    pub(super) storage: R,
    /// The sha256 of the contents.
    pub(super) hash: RecordHash,
    /// The size of the contents.
    pub(super) size: u64,
    /// The zip method: 0 (stored) or 8 (deflate).
    pub(super) method: u16,
    /// The CRC-32 of the contents.
    pub(super) crc32: u32,
    /// The size of the zip data.
    pub(super) compressed_size: u64,
}

/// Why a job failed, before the entry name and output are attached.
#[derive(Debug)]
pub(super) enum StageError {
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
pub(super) struct Dispatch {
    pub(super) state: Mutex<DispatchState>,
    pub(super) wake: Condvar,
    /// Set once the rewrite stops; checked on every producer write.
    pub(super) cancelled: AtomicBool,
}

#[derive(Default)]
pub(super) struct DispatchState {
    pub(super) next: usize,
    pub(super) consumed: usize,
}

impl Dispatch {
    pub(super) fn lock(&self) -> MutexGuard<'_, DispatchState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next job to run, waiting while the workers are too far ahead; `None` when there is
    /// nothing left or the rewrite stopped.
    pub(super) fn take(&self, total: usize) -> Option<usize> {
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
    pub(super) fn consumed(&self, job: usize) {
        let mut state = self.lock();
        state.consumed = state.consumed.max(job + 1);
        drop(state);
        self.wake.notify_all();
    }

    /// Stops handing out jobs and fails running producers' writes.
    pub(super) fn cancel(&self) {
        let state = self.lock();
        self.cancelled.store(true, Ordering::Relaxed);
        drop(state);
        self.wake.notify_all();
    }
}

/// A worker thread: runs jobs until none are left, one fails or the rewrite stops.
pub(super) fn work(
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
pub(super) fn compress_in_memory(
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
pub(super) fn compress<S: Write + Seek>(
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

/// The message of a caught panic.
pub(super) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message");
    format!("the producer panicked: {message}")
}
