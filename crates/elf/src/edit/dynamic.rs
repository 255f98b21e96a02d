//! The dynamic section as the planner sees it: entries, verneed names, string tables, the
//! strings `.dynstr` already holds, and the overwrites that collect the result.

use super::*;

/// One dynamic entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Dyn {
    pub(super) tag: u64,
    pub(super) val: u64,
}

/// One `.gnu.version_r` entry.
#[derive(Debug, Clone)]
pub(super) struct VerneedEntry {
    /// File offset of the entry (`vn_file` is at +4).
    pub(super) offset: u64,
    pub(super) name: String,
}

/// The dynamic array and what it names.
#[derive(Debug, Clone)]
pub(super) struct DynState {
    /// Index of `PT_DYNAMIC` in the program header table.
    pub(super) phdr_index: usize,
    /// File offset of the dynamic array.
    pub(super) offset: u64,
    /// Number of entries the array has room for.
    pub(super) capacity: u64,
    /// Entries before the first `DT_NULL`.
    pub(super) entries: Vec<Dyn>,
    /// Strings of `DT_NEEDED`, `DT_SONAME`, `DT_RPATH`, `DT_RUNPATH` (per entry).
    pub(super) names: Vec<Option<String>>,
    pub(super) strtab: Option<StrTab>,
    pub(super) verneed: Vec<VerneedEntry>,
}

/// Where the dynamic string table is.
#[derive(Debug, Clone, Copy)]
pub(super) struct StrTab {
    pub(super) vaddr: u64,
    pub(super) size: u64,
    /// File offset of `vaddr` (through its `PT_LOAD`).
    pub(super) offset: u64,
}

impl DynState {
    pub(super) fn read<R: ReadAt + ?Sized>(
        file: &R,
        headers: &Headers,
    ) -> Result<Self, ElfEditError> {
        let codec = headers.codec;
        let (phdr_index, dynamic) = headers
            .phdrs
            .iter()
            .enumerate()
            .find(|(_, p)| p.p_type == PT_DYNAMIC)
            .ok_or_else(|| ElfEditError::Unsupported("no PT_DYNAMIC (statically linked)".into()))?;
        if dynamic.p_filesz > MAX_TABLE {
            return Err(ElfEditError::Unsupported(format!(
                "dynamic array of {} bytes",
                dynamic.p_filesz
            )));
        }
        // The loader reads the array at p_vaddr; it must be the bytes at p_offset.
        let offset = headers
            .vaddr_to_offset(dynamic.p_vaddr, dynamic.p_filesz)
            .ok_or_else(|| malformed("PT_DYNAMIC is outside every loadable segment"))?;
        if offset != dynamic.p_offset {
            return Err(ElfEditError::Unsupported(
                "PT_DYNAMIC file offset disagrees with its PT_LOAD".into(),
            ));
        }
        let bytes = read_bytes(file, offset, dynamic.p_filesz, "dynamic array")?;
        let entry_size = codec.dyn_size();
        let capacity = dynamic.p_filesz / entry_size;
        let mut entries = Vec::new();
        let mut terminated = false;
        for raw in bytes.chunks_exact(usize::try_from(entry_size).unwrap_or(16)) {
            let half = raw.len() / 2;
            let entry = Dyn {
                tag: codec.word(raw, 0),
                val: codec.word(raw, half),
            };
            if entry.tag == DT_NULL {
                terminated = true;
                break;
            }
            entries.push(entry);
        }
        if !terminated {
            return Err(malformed("dynamic array has no DT_NULL terminator"));
        }

        let find = |tag: u64| entries.iter().find(|e| e.tag == tag).map(|e| e.val);
        let strtab = match find(DT_STRTAB) {
            None => None,
            Some(vaddr) => {
                let size = find(DT_STRSZ).unwrap_or(0);
                let segment = headers.load_containing(vaddr).ok_or_else(|| {
                    malformed("dynamic string table is outside every loadable segment")
                })?;
                let offset = segment.p_offset + (vaddr - segment.p_vaddr);
                if offset.checked_add(size).is_none_or(|end| end > file.len()) {
                    return Err(malformed(
                        "dynamic string table extends past the end of the file",
                    ));
                }
                Some(StrTab {
                    vaddr,
                    size,
                    offset,
                })
            }
        };
        let string = |offset: u64, what: &str| -> Result<String, ElfEditError> {
            let table = strtab
                .ok_or_else(|| malformed(format!("{what} without a dynamic string table")))?;
            let vaddr = table
                .vaddr
                .checked_add(offset)
                .ok_or_else(|| malformed(format!("{what} is outside the string table")))?;
            Ok(lossy(&headers.read_string_at_vaddr(file, vaddr, what)?))
        };
        let mut names = Vec::with_capacity(entries.len());
        for entry in &entries {
            names.push(match entry.tag {
                DT_NEEDED => Some(string(entry.val, "DT_NEEDED")?),
                DT_SONAME => Some(string(entry.val, "DT_SONAME")?),
                DT_RPATH => Some(string(entry.val, "DT_RPATH")?),
                DT_RUNPATH => Some(string(entry.val, "DT_RUNPATH")?),
                _ => None,
            });
        }

        let mut verneed = Vec::new();
        if let Some(start) = find(DT_VERNEED) {
            let count = find(DT_VERNEEDNUM).map_or(MAX_VERNEED, |n| {
                usize::try_from(n).unwrap_or(MAX_VERNEED).min(MAX_VERNEED)
            });
            let mut vaddr = start;
            for _ in 0..count {
                let offset = headers.vaddr_to_offset(vaddr, 16).ok_or_else(|| {
                    malformed("version requirement is outside every loadable segment")
                })?;
                let raw = read_bytes(file, offset, 16, "version requirement")?;
                let vn_file = codec.u32(&raw, 4);
                let vn_next = codec.u32(&raw, 12);
                verneed.push(VerneedEntry {
                    offset,
                    name: string(u64::from(vn_file), "version requirement file name")?,
                });
                if vn_next == 0 {
                    break;
                }
                vaddr = vaddr
                    .checked_add(u64::from(vn_next))
                    .ok_or_else(|| malformed("version requirement chain overflows"))?;
            }
        }

        Ok(Self {
            phdr_index,
            offset,
            capacity,
            entries,
            names,
            strtab,
            verneed,
        })
    }

    pub(super) fn names_with_tag(&self, tag: u64) -> impl Iterator<Item = &String> {
        self.entries
            .iter()
            .zip(&self.names)
            .filter(move |(e, _)| e.tag == tag)
            .filter_map(|(_, n)| n.as_ref())
    }

    pub(super) fn facts(&self) -> Expected {
        Expected {
            soname: self.names_with_tag(DT_SONAME).next().cloned(),
            needed: self.names_with_tag(DT_NEEDED).cloned().collect(),
            rpath: self.names_with_tag(DT_RPATH).cloned().collect(),
            runpath: self.names_with_tag(DT_RUNPATH).cloned().collect(),
            verneed_files: self.verneed.iter().map(|v| v.name.clone()).collect(),
            sections: None,
        }
    }
}

/// Finds `needle\0` in the file range `[start, start + len)` for each needle, reading in chunks.
/// Returns offsets relative to `start`.
pub(super) fn find_strings<R: ReadAt + ?Sized>(
    file: &R,
    start: u64,
    len: u64,
    needles: &[&str],
) -> Result<Vec<Option<u64>>, ElfEditError> {
    let patterns: Vec<Vec<u8>> = needles
        .iter()
        .map(|s| {
            let mut p = s.as_bytes().to_vec();
            p.push(0);
            p
        })
        .collect();
    let mut found = vec![None; needles.len()];
    let longest = patterns.iter().map(Vec::len).max().unwrap_or(1) as u64;
    let chunk = (256u64 << 10).max(longest * 2);
    let mut pos = 0u64;
    while pos < len && found.iter().any(Option::is_none) {
        let n = (len - pos).min(chunk);
        let bytes = read_bytes(file, start + pos, n, "dynamic string table")?;
        for (slot, pattern) in found.iter_mut().zip(&patterns) {
            if slot.is_none() {
                if let Some(at) = memchr::memmem::find(&bytes, pattern) {
                    *slot = Some(pos + at as u64);
                }
            }
        }
        if pos + n >= len {
            break;
        }
        pos += n - (longest - 1);
    }
    Ok(found)
}

/// The value of a dynamic entry in the new array.
#[derive(Debug, Clone, Copy)]
pub(super) enum Value {
    /// Unchanged raw value.
    Raw(u64),
    /// Offset of the string with this index in `Planner::strings`.
    Str(usize),
}

/// Where a requested string ends up.
#[derive(Debug, Clone, Copy)]
pub(super) enum StrLoc {
    /// Already in `.dynstr` at this offset.
    Existing(u64),
    /// At this offset in the block of new strings.
    New(u64),
}

/// Collects overwrites and turns them into sorted, non-overlapping ranges (later writes win),
/// dropping ranges whose bytes do not change.
#[derive(Debug, Default)]
pub(super) struct Writes {
    pub(super) writes: Vec<(u64, Vec<u8>)>,
}

impl Writes {
    pub(super) fn put(&mut self, offset: u64, bytes: Vec<u8>) {
        if !bytes.is_empty() {
            self.writes.push((offset, bytes));
        }
    }

    /// Removes and returns the writes inside `[start, end)`; a write straddling the range is an
    /// error.
    pub(super) fn take_within(
        &mut self,
        start: u64,
        end: u64,
    ) -> Result<Vec<(u64, Vec<u8>)>, ElfEditError> {
        let mut taken = Vec::new();
        let mut kept = Vec::new();
        for (offset, bytes) in self.writes.drain(..) {
            let write_end = offset + bytes.len() as u64;
            if offset >= start && write_end <= end {
                taken.push((offset, bytes));
            } else if offset < end && write_end > start {
                return Err(ElfEditError::Unsupported(
                    "a patched structure straddles the moved sections".into(),
                ));
            } else {
                kept.push((offset, bytes));
            }
        }
        self.writes = kept;
        Ok(taken)
    }

    /// The merged writes; every one must end by `limit` (the kept part of the file).
    pub(super) fn finish<R: ReadAt + ?Sized>(
        self,
        file: &R,
        limit: u64,
    ) -> Result<Vec<(u64, Vec<u8>)>, ElfEditError> {
        let mut ranges: Vec<(u64, u64)> = Vec::new();
        for (offset, bytes) in &self.writes {
            let end = offset
                .checked_add(bytes.len() as u64)
                .filter(|&end| end <= limit && end <= file.len())
                .ok_or_else(|| malformed("a patched structure extends past the end of the file"))?;
            ranges.push((*offset, end));
        }
        ranges.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::new();
        for (start, end) in ranges {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        let mut out = Vec::with_capacity(merged.len());
        for (start, end) in merged {
            out.push((
                start,
                read_bytes(file, start, end - start, "patched structure")?,
            ));
        }
        let originals = out.clone();
        for (offset, bytes) in self.writes {
            // Every write lies inside the merged range that starts at or before it.
            let target = out
                .partition_point(|(start, _)| *start <= offset)
                .checked_sub(1)
                .and_then(|index| out.get_mut(index))
                .and_then(|(start, buf)| {
                    let at = usize::try_from(offset - *start).ok()?;
                    buf.get_mut(at..at.checked_add(bytes.len())?)
                })
                .ok_or_else(|| malformed("internal error: overwrite outside its range"))?;
            target.copy_from_slice(&bytes);
        }
        Ok(out
            .into_iter()
            .zip(originals)
            .filter(|(new, old)| new.1 != old.1)
            .map(|(new, _)| new)
            .collect())
    }
}
