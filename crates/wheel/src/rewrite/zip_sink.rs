//! The zip writer: local headers, raw copies of unchanged entries, data descriptors, the
//! central directory and the ZIP64 records when needed.

use super::*;

/// The header fields of one output entry.
pub(super) struct EntryHeader {
    pub(super) name: String,
    pub(super) version_made_by: u16,
    /// 0 (stored) or 8 (deflate).
    pub(super) method: u16,
    pub(super) time: DateTime,
    pub(super) crc32: u32,
    pub(super) compressed_size: u64,
    pub(super) size: u64,
    pub(super) external_attributes: u32,
}

impl EntryHeader {
    /// Whether the sizes need ZIP64 fields.
    pub(super) fn sizes_need_zip64(&self) -> bool {
        self.size >= ZIP64_LIMIT || self.compressed_size >= ZIP64_LIMIT
    }

    /// General purpose flags: only the UTF-8 name bit, for non-ASCII names.
    pub(super) fn flags(&self) -> u16 {
        if self.name.is_ascii() { 0 } else { 1 << 11 }
    }
}

/// Why copying an entry's data failed: reading its source or writing the output.
pub(super) enum CopyError {
    Read(io::Error),
    Write(io::Error),
}

/// A minimal sequential zip writer: local headers with known sizes (no data descriptors),
/// no extra fields but ZIP64 where needed, no comments.
pub(super) struct ZipSink<W: Write> {
    pub(super) out: W,
    /// Bytes written so far (the next local header's offset).
    pub(super) offset: u64,
    /// The central directory, written at the end: each header and its local header's offset.
    pub(super) central: Vec<(EntryHeader, u64)>,
}

impl<W: Write> ZipSink<W> {
    pub(super) fn new(out: W) -> Self {
        Self {
            out,
            offset: 0,
            central: Vec::new(),
        }
    }

    /// Writes one entry: its local header, then exactly `header.compressed_size` bytes of
    /// compressed data from `data`.
    pub(super) fn add(
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
    pub(super) fn finish(mut self) -> io::Result<(W, u64)> {
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
pub(super) fn version_needed(zip64: bool) -> u16 {
    if zip64 { 45 } else { 20 }
}

/// A 32-bit header field: the value, or `0xFFFF_FFFF` when it lives in a ZIP64 field.
pub(super) fn clamp32(value: u64, zip64: bool) -> u32 {
    if zip64 {
        u32::MAX
    } else {
        // In range: callers set `zip64` whenever `value >= ZIP64_LIMIT`.
        u32::try_from(value).unwrap_or(u32::MAX)
    }
}

pub(super) fn put_u16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_le_bytes());
}

pub(super) fn put_u32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

pub(super) fn put_u64(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(&value.to_le_bytes());
}
