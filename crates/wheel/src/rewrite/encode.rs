//! One entry's deflate stream: incompressible chunks stored, the rest deflated with zlib-rs,
//! hashed and counted on the way in.

use super::*;

/// How much input [`EntryEncoder`] classifies at a time: large enough for a reliable byte
/// histogram, and at least deflate's 32 KiB window, so that a stored chunk leaves nothing in
/// the window the compressor could still have matched against.
pub(super) const DEFLATE_CHUNK_LEN: usize = 64 * 1024;

/// Chunks shorter than this (only an entry's last one can be) are always deflated: too short
/// for a reliable histogram, and cheap anyway.
pub(super) const MIN_CLASSIFIED_LEN: usize = 4096;

/// The largest Pearson χ² statistic of a chunk's byte histogram against the uniform
/// distribution for which the chunk can count as random. Random bytes give 255 ± 23 (255 degrees
/// of freedom) whatever the chunk length; for a 64 KiB chunk, 900 is a Shannon entropy of about
/// 7.99 bits/byte. Measured on 64 KiB chunks: random data 183 to 335 (5,000 chunks), gzip data
/// 303 to 663, woff2 fonts 260 to 622. Of the 12,767 chunks of the shared objects of a Debian
/// `/usr/lib/x86_64-linux-gnu`, 59 are at or below 900 (embedded compressed data; 58 of them
/// are stored, which level-6 deflate would have shrunk by at most 0.13%), while their chunks
/// between 7.9 and 7.99 bits/byte still deflate by 3 to 6%: hence no looser bound.
pub(super) const MAX_CHI_SQUARED: u64 = 900;

/// The largest stored block (its length is a 16-bit field).
pub(super) const MAX_STORED_BLOCK: usize = 0xFFFF;

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
pub(super) struct EntryEncoder<S: Write> {
    pub(super) out: S,
    /// The deflate state, `None` for the stored method.
    pub(super) deflate: Option<DeflateState>,
    pub(super) crc: Crc,
    /// Input bytes not encoded yet (at most one chunk, which is held until more input shows
    /// that it is not the last).
    pub(super) pending: Vec<u8>,
    pub(super) size: u64,
    pub(super) compressed_size: u64,
}

pub(super) struct DeflateState {
    pub(super) compress: Compress,
    /// Whether the compressor has taken input since its last flush.
    pub(super) unflushed: bool,
    /// The compressor's output buffer.
    pub(super) buffer: Vec<u8>,
    /// Scratch for [`looks_random`].
    pub(super) keys: Vec<u64>,
}

/// What an [`EntryEncoder`] wrote.
pub(super) struct Encoded<S> {
    pub(super) out: S,
    /// The zip method: 0 (stored) or 8 (deflate).
    pub(super) method: u16,
    pub(super) crc32: u32,
    pub(super) size: u64,
    pub(super) compressed_size: u64,
}

impl<S: Write> EntryEncoder<S> {
    /// An encoder for `level` 0 (stored) to 9.
    pub(super) fn new(out: S, level: i64) -> Self {
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
    pub(super) fn finish(mut self) -> io::Result<Encoded<S>> {
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
    pub(super) fn encode(&mut self, chunk: &[u8], last: bool) -> io::Result<()> {
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
    pub(super) fn run(
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
pub(super) fn write_stored(out: &mut impl Write, data: &[u8], last: bool) -> io::Result<u64> {
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
pub(super) fn looks_random(chunk: &[u8], keys: &mut Vec<u64>) -> bool {
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

/// Hashes and counts what passes through to the compressor; fails every write once the rewrite
/// has stopped.
pub(super) struct Tee<'a, W: Write> {
    pub(super) inner: &'a mut W,
    pub(super) hasher: Hasher,
    pub(super) size: u64,
    pub(super) cancelled: &'a AtomicBool,
    /// The compressor's own error, kept so that it is reported as such (the producer sees a
    /// copy).
    pub(super) error: Option<io::Error>,
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
