//! Positional reads through a buffered cursor that clones into independent cursors over one
//! file descriptor (several workers read one wheel at once).

use super::*;

/// A buffered cursor over a shared file using positional reads.
///
/// `Clone` gives an independent cursor (and buffer) over the same file descriptor, which is what
/// lets several `ZipArchive`s read one wheel concurrently. Seeking is free: it only moves the
/// position, and the buffer is reused when the position lands inside it.
#[derive(Debug)]
pub(crate) struct SharedFile {
    file: Arc<std::fs::File>,
    len: u64,
    pos: u64,
    buf: Vec<u8>,
    buf_start: u64,
    buf_filled: usize,
}

impl SharedFile {
    pub(super) fn new(file: std::fs::File, len: u64) -> Self {
        Self {
            file: Arc::new(file),
            len,
            pos: 0,
            buf: Vec::new(),
            buf_start: 0,
            buf_filled: 0,
        }
    }

    #[cfg(unix)]
    fn read_at(&self, out: &mut [u8], offset: u64) -> io::Result<usize> {
        std::os::unix::fs::FileExt::read_at(&*self.file, out, offset)
    }

    #[cfg(windows)]
    fn read_at(&self, out: &mut [u8], offset: u64) -> io::Result<usize> {
        // `seek_read` moves the shared cursor, but every read here passes its own offset.
        std::os::windows::fs::FileExt::seek_read(&*self.file, out, offset)
    }
}

impl Clone for SharedFile {
    fn clone(&self) -> Self {
        Self {
            file: Arc::clone(&self.file),
            len: self.len,
            pos: self.pos,
            buf: Vec::new(),
            buf_start: 0,
            buf_filled: 0,
        }
    }
}

impl Read for SharedFile {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() || self.pos >= self.len {
            return Ok(0);
        }
        let buffered =
            self.pos >= self.buf_start && self.pos - self.buf_start < self.buf_filled as u64;
        if !buffered {
            if out.len() >= CHUNK_LEN {
                // Large reads bypass the buffer.
                let n = self.read_at(out, self.pos)?;
                self.pos += n as u64;
                return Ok(n);
            }
            if self.buf.len() < CHUNK_LEN {
                self.buf.resize(CHUNK_LEN, 0);
            }
            let mut buf = std::mem::take(&mut self.buf);
            let result = self.read_at(&mut buf, self.pos);
            self.buf = buf;
            self.buf_start = self.pos;
            self.buf_filled = 0;
            self.buf_filled = result?;
            if self.buf_filled == 0 {
                return Ok(0);
            }
        }
        // In range: `pos - buf_start < buf_filled <= buf.len()`.
        let start = usize::try_from(self.pos - self.buf_start).unwrap_or(usize::MAX);
        let available = self.buf.get(start..self.buf_filled).unwrap_or_default();
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for SharedFile {
    fn seek(&mut self, position: SeekFrom) -> io::Result<u64> {
        let new = match position {
            SeekFrom::Start(offset) => Some(offset),
            SeekFrom::End(delta) => self.len.checked_add_signed(delta),
            SeekFrom::Current(delta) => self.pos.checked_add_signed(delta),
        };
        let Some(new) = new else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek to a negative or overflowing position",
            ));
        };
        self.pos = new;
        Ok(new)
    }
}
