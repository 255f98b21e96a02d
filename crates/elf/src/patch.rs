//! The result of planning an edit: a [`Patch`] (byte ranges to overwrite, where copying stops,
//! pieces to append) streamed over the original ([`Patch::write_to`], [`Patch::write_from`]) or
//! read without materialising it ([`PatchedView`]).

use std::io::{self, Read, Write};

use super::read::*;

/// One piece of the bytes a [`Patch`] appends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Appended {
    /// Literal bytes (program headers, a moved dynamic array, new strings).
    Bytes(Vec<u8>),
    /// A copy of the *original* bytes `[offset, offset + len)` (before any overwrite): the old
    /// `.dynstr`, or large moved sections.
    Copy {
        /// Source offset in the original file.
        offset: u64,
        /// Number of bytes.
        len: u64,
    },
}

impl Appended {
    /// Number of bytes this piece adds.
    #[must_use]
    pub fn len(&self) -> u64 {
        match self {
            Self::Bytes(bytes) => bytes.len() as u64,
            Self::Copy { len, .. } => *len,
        }
    }

    /// Whether this piece adds nothing.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The difference between an ELF file and its edited version: the original up to
/// [`Self::kept_len`] with the overwrites applied, zeros up to `append_at`, then the appended
/// pieces.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Patch {
    /// Length of the original file.
    pub original_len: u64,
    /// The original's bytes from this offset on are not copied (the sections `strip` removes);
    /// `None` copies the whole original. Appended copies may still read from there.
    pub truncate_at: Option<u64>,
    /// `(offset, bytes)` to overwrite: sorted, non-overlapping, inside [`Self::kept_len`].
    pub overwrites: Vec<(u64, Vec<u8>)>,
    /// Where `appended` starts (`>=` [`Self::kept_len`]); the gap in between is zero-filled.
    pub append_at: u64,
    /// What follows, in order. A copied `.dynstr` is a [`Appended::Copy`] so that the patch
    /// itself stays small for any file size.
    pub appended: Vec<Appended>,
}

/// Copied ranges up to this total are buffered in memory by [`Patch::write_to`]; larger ones go
/// to an anonymous temporary file.
pub(super) const SPOOL_IN_MEMORY: u64 = 4 << 20;
pub(super) const STREAM_CHUNK: usize = 64 << 10;

impl Patch {
    /// Length of the patched file.
    #[must_use]
    pub fn new_len(&self) -> u64 {
        self.append_at + self.appended_len()
    }

    /// Number of bytes appended after the zero gap.
    #[must_use]
    pub(crate) fn appended_len(&self) -> u64 {
        self.appended.iter().map(Appended::len).sum()
    }

    /// Number of bytes of the original that are copied (all of it unless truncated).
    #[must_use]
    pub fn kept_len(&self) -> u64 {
        self.truncate_at
            .map_or(self.original_len, |at| at.min(self.original_len))
    }

    /// Number of bytes of the original that [`Self::write_to`] reads: the kept part and every
    /// range an appended piece copies.
    #[must_use]
    pub fn read_len(&self) -> u64 {
        self.appended
            .iter()
            .filter_map(|piece| match piece {
                Appended::Copy { offset, len } if *len > 0 => Some(offset.saturating_add(*len)),
                _ => None,
            })
            .fold(self.kept_len(), u64::max)
    }

    /// Whether the patch changes nothing.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.overwrites.is_empty()
            && self.appended_len() == 0
            && self.append_at == self.original_len
            && self.kept_len() == self.original_len
    }

    /// Streams the patched file to `dst`, reading the original sequentially from `src`
    /// (positioned at offset 0; exactly [`Self::read_len`] bytes are read, which is less than
    /// `original_len` when stripped sections end the file). Copied ranges are kept while they
    /// stream past: in memory up to 4 MiB, beyond that in an anonymous temporary file. Returns
    /// the number of bytes written.
    pub fn write_to(&self, src: &mut impl Read, dst: &mut impl Write) -> io::Result<u64> {
        let mut spool = Spool::new(self)?;
        let mut buf = vec![0u8; STREAM_CHUNK];
        let mut pos = 0u64;
        let mut next = 0usize;
        let kept = self.kept_len();
        let read_len = self.read_len();
        while pos < read_len {
            let want = chunk_len(read_len - pos);
            let chunk = &mut buf[..want]; // want <= STREAM_CHUNK
            src.read_exact(chunk)?;
            spool.capture(pos, chunk)?;
            if pos < kept {
                let n = chunk_len_usize(kept - pos, want);
                let part = &mut chunk[..n]; // n <= want
                next = overlay(&self.overwrites, next, pos, part);
                dst.write_all(part)?;
            }
            pos += want as u64;
        }
        write_zeros(dst, self.append_at.saturating_sub(kept))?;
        for piece in &self.appended {
            match piece {
                Appended::Bytes(bytes) => dst.write_all(bytes)?,
                Appended::Copy { offset, len } => spool.replay(*offset, *len, dst)?,
            }
        }
        Ok(self.new_len())
    }

    /// Like [`Self::write_to`], with random access to the original (nothing is buffered).
    pub fn write_from(
        &self,
        src: &(impl ReadAt + ?Sized),
        dst: &mut impl Write,
    ) -> io::Result<u64> {
        let view = PatchedView::new(src, self);
        let mut buf = vec![0u8; STREAM_CHUNK];
        let mut pos = 0u64;
        let len = self.new_len();
        while pos < len {
            let want = chunk_len(len - pos);
            let chunk = &mut buf[..want]; // want <= STREAM_CHUNK
            view.read_exact_at(pos, chunk)?;
            dst.write_all(chunk)?;
            pos += want as u64;
        }
        Ok(len)
    }

    /// The patched file as one vector (for small files and tests). `original` must be the file
    /// the patch was planned for; missing bytes read as zeros.
    #[must_use]
    pub(crate) fn apply_to_vec(&self, original: &[u8]) -> Vec<u8> {
        let kept_len = usize::try_from(self.kept_len()).unwrap_or(usize::MAX);
        let keep = kept_len.min(original.len());
        let mut out = Vec::with_capacity(usize::try_from(self.new_len()).unwrap_or(0));
        out.extend_from_slice(&original[..keep]); // keep <= original.len()
        out.resize(kept_len, 0);
        overlay(&self.overwrites, 0, 0, &mut out);
        out.resize(usize::try_from(self.append_at).unwrap_or(out.len()), 0);
        for piece in &self.appended {
            match piece {
                Appended::Bytes(bytes) => out.extend_from_slice(bytes),
                Appended::Copy { offset, len } => {
                    let source = usize::try_from(*offset).ok().and_then(|start| {
                        let end = start.checked_add(usize::try_from(*len).ok()?)?;
                        original.get(start..end)
                    });
                    match source {
                        Some(source) => out.extend_from_slice(source),
                        None => out.resize(out.len() + usize::try_from(*len).unwrap_or(0), 0),
                    }
                }
            }
        }
        out
    }
}

pub(super) fn chunk_len(remaining: u64) -> usize {
    usize::try_from(remaining.min(STREAM_CHUNK as u64)).unwrap_or(STREAM_CHUNK)
}

pub(super) fn write_zeros(dst: &mut impl Write, mut count: u64) -> io::Result<()> {
    let zeros = [0u8; 4096];
    while count > 0 {
        let n = usize::try_from(count.min(zeros.len() as u64)).unwrap_or(zeros.len());
        dst.write_all(&zeros[..n])?; // n <= zeros.len()
        count -= n as u64;
    }
    Ok(())
}

/// Keeps the original bytes of the copied ranges while the original streams past.
pub(super) struct Spool {
    /// Sorted, disjoint source ranges `(offset, len, position in the store)`.
    pub(super) ranges: Vec<(u64, u64, u64)>,
    pub(super) store: SpoolStore,
}

pub(super) enum SpoolStore {
    Memory(Vec<u8>),
    File(std::fs::File),
}

impl Spool {
    pub(super) fn new(patch: &Patch) -> io::Result<Self> {
        let mut sources: Vec<(u64, u64)> = patch
            .appended
            .iter()
            .filter_map(|piece| match piece {
                Appended::Copy { offset, len } if *len > 0 => Some((*offset, offset + len)),
                _ => None,
            })
            .collect();
        sources.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::new();
        for (start, end) in sources {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        let mut ranges = Vec::with_capacity(merged.len());
        let mut total = 0u64;
        for (start, end) in merged {
            ranges.push((start, end - start, total));
            total += end - start;
        }
        let store = if total <= SPOOL_IN_MEMORY {
            SpoolStore::Memory(Vec::with_capacity(usize::try_from(total).unwrap_or(0)))
        } else {
            SpoolStore::File(tempfile::tempfile()?)
        };
        Ok(Self { ranges, store })
    }

    /// Records the parts of `chunk` (original bytes at `pos`) that fall into a copied range.
    /// Chunks arrive in order, so the store is filled sequentially.
    pub(super) fn capture(&mut self, pos: u64, chunk: &[u8]) -> io::Result<()> {
        let end = pos + chunk.len() as u64;
        for &(start, len, _) in &self.ranges {
            let (from, to) = (start.max(pos), (start + len).min(end));
            if from < to {
                // Clipped to the chunk, so the indices are in bounds.
                let part = &chunk[(from - pos) as usize..(to - pos) as usize];
                match &mut self.store {
                    SpoolStore::Memory(bytes) => bytes.extend_from_slice(part),
                    SpoolStore::File(file) => file.write_all(part)?,
                }
            }
        }
        Ok(())
    }

    /// Writes the original bytes `[offset, offset + len)` to `dst`.
    pub(super) fn replay(&mut self, offset: u64, len: u64, dst: &mut impl Write) -> io::Result<()> {
        let &(start, _, at) = self
            .ranges
            .iter()
            .find(|(start, range_len, _)| *start <= offset && offset + len <= start + range_len)
            .ok_or_else(eof)?;
        let from = at + (offset - start);
        match &mut self.store {
            SpoolStore::Memory(bytes) => {
                let source = usize::try_from(from).ok().and_then(|s| {
                    let e = s.checked_add(usize::try_from(len).ok()?)?;
                    bytes.get(s..e)
                });
                dst.write_all(source.ok_or_else(eof)?)
            }
            SpoolStore::File(file) => {
                use std::io::{Seek, SeekFrom};
                file.seek(SeekFrom::Start(from))?;
                let copied = io::copy(&mut Read::by_ref(file).take(len), dst)?;
                if copied == len { Ok(()) } else { Err(eof()) }
            }
        }
    }
}

/// Copies the parts of `overwrites` (sorted, starting the search at index `from`) that intersect
/// `[pos, pos + chunk.len())` into `chunk`. Returns the index to start from for the next chunk.
pub(super) fn overlay(
    overwrites: &[(u64, Vec<u8>)],
    from: usize,
    pos: u64,
    chunk: &mut [u8],
) -> usize {
    let end = pos + chunk.len() as u64;
    let mut next = from;
    // Skip writes that end before this chunk.
    while let Some((offset, bytes)) = overwrites.get(next) {
        if offset + bytes.len() as u64 <= pos {
            next += 1;
        } else {
            break;
        }
    }
    let mut index = next;
    while let Some((offset, bytes)) = overwrites.get(index) {
        if *offset >= end {
            break;
        }
        let start = (*offset).max(pos);
        let stop = (offset + bytes.len() as u64).min(end);
        // Both ranges are clipped to the chunk and to the write, so the indices are in bounds.
        let dst = &mut chunk[(start - pos) as usize..(stop - pos) as usize];
        dst.copy_from_slice(&bytes[(start - offset) as usize..(stop - offset) as usize]);
        if offset + bytes.len() as u64 > end {
            break; // continues into the next chunk
        }
        index += 1;
    }
    next
}

/// The patched file, read on demand from the original and the patch.
#[derive(Debug)]
pub struct PatchedView<'a, R: ReadAt + ?Sized> {
    pub(super) original: &'a R,
    pub(super) patch: &'a Patch,
}

impl<'a, R: ReadAt + ?Sized> PatchedView<'a, R> {
    /// A view of `original` with `patch` applied.
    pub fn new(original: &'a R, patch: &'a Patch) -> Self {
        Self { original, patch }
    }

    /// Reads original bytes with the overwrites applied.
    pub(super) fn read_original(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.original.read_exact_at(offset, buf)?;
        let first = self
            .patch
            .overwrites
            .partition_point(|(at, bytes)| at + bytes.len() as u64 <= offset);
        overlay(&self.patch.overwrites, first, offset, buf);
        Ok(())
    }
}

impl<R: ReadAt + ?Sized> ReadAt for PatchedView<'_, R> {
    fn len(&self) -> u64 {
        self.patch.new_len()
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let end = offset.checked_add(buf.len() as u64).ok_or_else(eof)?;
        if end > self.len() {
            return Err(eof());
        }
        let patch = self.patch;
        let kept = patch.kept_len();
        let mut done = 0usize;
        // `at` is the file offset of buf[done]; every step advances `done` by at least one byte
        // and never past buf.len(), since `end` is inside the file.
        while done < buf.len() {
            let at = offset + done as u64;
            let rest = &mut buf[done..];
            let step = if at < kept {
                let n = chunk_len_usize(kept - at, rest.len());
                self.read_original(at, &mut rest[..n])?;
                n
            } else if at < patch.append_at {
                let n = chunk_len_usize(patch.append_at - at, rest.len());
                rest[..n].fill(0);
                n
            } else {
                let mut piece_start = patch.append_at;
                let mut step = 0;
                for piece in &patch.appended {
                    let piece_end = piece_start + piece.len();
                    if at < piece_end {
                        let within = at - piece_start;
                        let n = chunk_len_usize(piece_end - at, rest.len());
                        match piece {
                            Appended::Bytes(bytes) => {
                                let s = usize::try_from(within).map_err(|_| eof())?;
                                rest[..n].copy_from_slice(bytes.get(s..s + n).ok_or_else(eof)?);
                            }
                            Appended::Copy { offset: source, .. } => {
                                self.original
                                    .read_exact_at(source + within, &mut rest[..n])?;
                            }
                        }
                        step = n;
                        break;
                    }
                    piece_start = piece_end;
                }
                step
            };
            if step == 0 {
                return Err(eof());
            }
            done += step;
        }
        Ok(())
    }
}

/// `min(remaining, available)` as a `usize`.
pub(super) fn chunk_len_usize(remaining: u64, available: usize) -> usize {
    usize::try_from(remaining).map_or(available, |r| r.min(available))
}
