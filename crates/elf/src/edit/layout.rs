//! Where new bytes go: growing the program header table in place, the new `PT_LOAD` segment,
//! moved sections and the rewritten dynamic array.

use super::*;

/// How the program header table grows in place.
#[derive(Debug, Clone, Copy)]
pub(super) struct Growth {
    /// The sections (and note/interp segments) after the table that move out of its way.
    pub(super) block: Option<Block>,
}

/// A contiguous range of the first segment that moves verbatim into the new segment.
#[derive(Debug, Clone, Copy)]
pub(super) struct Block {
    pub(super) offset: u64,
    pub(super) vaddr: u64,
    pub(super) len: u64,
    /// Largest alignment inside: the new address keeps the old one modulo this.
    pub(super) align: u64,
}

/// The move of a [`Block`]: old and new file offset and address.
#[derive(Debug, Clone, Copy)]
pub(super) struct Shift {
    pub(super) offset: u64,
    pub(super) vaddr: u64,
    pub(super) len: u64,
    pub(super) to_offset: u64,
    pub(super) to_vaddr: u64,
}

impl Shift {
    /// Whether the file range `[offset, offset + len)` (non-empty) lies inside the block.
    pub(super) fn covers(&self, offset: u64, len: u64) -> bool {
        len > 0 && offset >= self.offset && offset.saturating_add(len) <= self.offset + self.len
    }

    pub(super) fn new_offset(&self, offset: u64) -> u64 {
        offset - self.offset + self.to_offset
    }

    pub(super) fn new_vaddr(&self, vaddr: u64) -> u64 {
        vaddr.wrapping_sub(self.vaddr).wrapping_add(self.to_vaddr)
    }

    /// Whether the address `vaddr` lies inside the block.
    pub(super) fn contains_vaddr(&self, vaddr: u64) -> bool {
        vaddr >= self.vaddr && vaddr - self.vaddr < self.len
    }
}

/// The appended pieces of the new segment, built front to back.
#[derive(Debug, Default)]
pub(super) struct Pieces {
    pub(super) pieces: Vec<Appended>,
    pub(super) pos: u64,
}

impl Pieces {
    pub(super) fn bytes(&mut self, bytes: &[u8]) {
        if let Some(Appended::Bytes(last)) = self.pieces.last_mut() {
            last.extend_from_slice(bytes);
        } else {
            self.pieces.push(Appended::Bytes(bytes.to_vec()));
        }
        self.pos += bytes.len() as u64;
    }

    pub(super) fn pad_to(&mut self, at: u64) {
        if at > self.pos {
            let zeros = vec![0u8; usize::try_from(at - self.pos).unwrap_or(0)];
            self.bytes(&zeros);
        }
    }

    pub(super) fn copy(&mut self, offset: u64, len: u64) {
        self.pieces.push(Appended::Copy { offset, len });
        self.pos += len;
    }
}

/// The smallest position `>= pos` at which `base + position ≡ want (mod align)`.
pub(super) fn congruent_position(pos: u64, base: u64, want: u64, align: u64) -> u64 {
    if align <= 1 {
        return pos;
    }
    let mask = align - 1;
    pos + (want.wrapping_sub(base.wrapping_add(pos)) & mask)
}

/// Dynamic tags whose value is not an address (sizes, counts, flags, string offsets).
pub(super) fn is_value_tag(tag: u64) -> bool {
    matches!(
        tag,
        1 | 2 | 8 | 9 | 10 | 11 | 14 | 15 | 16 | 18 | 19 | 20 | 21 | 22 | 24 | 27 | 28 | 29 | 30
            | 33 | 35 | 37
            | 0x6fff_fd00..=0x6fff_fdff
            | 0x6fff_fff9..=0x6fff_fffb
            | DT_VERDEFNUM
            | DT_VERNEEDNUM
            | 0x7fff_fffd
            | 0x7fff_ffff
    )
}

/// Address tags of the tables a moved block may hold; [`DynUpdate`] rewrites them.
pub(super) fn is_movable_pointer_tag(tag: u64) -> bool {
    matches!(
        tag,
        DT_HASH | DT_STRTAB | DT_SYMTAB | DT_GNU_HASH | DT_VERSYM | DT_VERDEF | DT_VERNEED
    )
}

/// The section header describing the dynamic string table, if any: the one `.dynamic` links
/// to, or else an allocated string table at `DT_STRTAB`.
pub(super) fn dynstr_section(headers: &Headers, table: StrTab) -> Option<&Shdr> {
    let sections = &headers.sections;
    let linked = sections
        .iter()
        .find(|s| s.sh_type == SHT_DYNAMIC)
        .and_then(|d| sections.get(usize::try_from(d.sh_link).ok()?))
        .filter(|s| s.sh_type == SHT_STRTAB && s.sh_addr == table.vaddr);
    linked.or_else(|| {
        sections.iter().find(|s| {
            s.sh_type == SHT_STRTAB && s.sh_flags & SHF_ALLOC != 0 && s.sh_addr == table.vaddr
        })
    })
}

/// Changes to the values of the dynamic array besides string offsets.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct DynUpdate {
    /// New `DT_STRTAB` (the copied table).
    pub(super) strtab: Option<u64>,
    /// New `DT_STRSZ`.
    pub(super) strsz: Option<u64>,
    /// The moved block: movable pointer tags into it follow it.
    pub(super) shift: Option<Shift>,
}

pub(super) fn first_load_delta(headers: &Headers) -> Option<i128> {
    headers
        .loads()
        .next()
        .map(|p| i128::from(p.p_vaddr) - i128::from(p.p_offset))
}

pub(super) fn align_up(value: u64, align: u64) -> u64 {
    if align <= 1 {
        return value;
    }
    value.div_ceil(align).saturating_mul(align)
}

/// Encodes the dynamic array: `entries`, then `DT_NULL` up to `slots` entries.
pub(super) fn encode_dynamic(
    codec: Codec,
    entries: &[(u64, Value)],
    slots: usize,
    resolve: &dyn Fn(usize) -> Result<u64, ElfEditError>,
    update: &DynUpdate,
) -> Result<Vec<u8>, ElfEditError> {
    let mut out = Vec::with_capacity(slots * usize::try_from(codec.dyn_size()).unwrap_or(16));
    for &(tag, value) in entries {
        let mut val = match value {
            Value::Raw(raw) => raw,
            Value::Str(id) => resolve(id)?,
        };
        if let Some(shift) = update.shift {
            if is_movable_pointer_tag(tag) && shift.contains_vaddr(val) {
                val = shift.new_vaddr(val);
            }
        }
        match (tag, update.strtab, update.strsz) {
            (DT_STRTAB, Some(strtab), _) => val = strtab,
            (DT_STRSZ, _, Some(strsz)) => val = strsz,
            _ => {}
        }
        codec.put_word(&mut out, tag, "dynamic tag")?;
        codec.put_word(&mut out, val, "dynamic value")?;
    }
    for _ in entries.len()..slots {
        codec.put_word(&mut out, DT_NULL, "dynamic tag")?;
        codec.put_word(&mut out, 0, "dynamic value")?;
    }
    Ok(out)
}

impl<R: ReadAt + ?Sized> Planner<'_, R> {
    /// How the program header table can grow in place: `None` if it cannot (then it moves).
    /// The bytes after the table must be free, or hold only metadata sections (and the
    /// `PT_NOTE`/`PT_GNU_PROPERTY`/`PT_INTERP` segments made of them) that can move as one
    /// block: nothing else may refer to their addresses except the dynamic tags that
    /// [`DynUpdate`] rewrites.
    pub(super) fn plan_growth(&self, new_size: u64) -> Option<Growth> {
        let headers = self.headers;
        let state = self.state;
        if headers.sections.is_empty() {
            return None;
        }
        let old_end = headers.phoff + headers.phdrs.len() as u64 * headers.codec.phdr_size();
        let new_end = headers.phoff.checked_add(new_size)?;
        let load = headers.loads().find(|p| {
            p.p_offset <= headers.phoff
                && p.p_offset
                    .checked_add(p.p_filesz)
                    .is_some_and(|end| new_end <= end)
        })?;
        let pht_vaddr = load.p_vaddr.checked_add(headers.phoff - load.p_offset)?;
        let phdr_ok = headers
            .phdrs
            .iter()
            .filter(|p| p.p_type == PT_PHDR)
            .all(|p| p.p_offset == headers.phoff && p.p_vaddr == pht_vaddr);
        if !phdr_ok {
            return None;
        }

        // Closure: everything overlapping the range the table grows into, then everything
        // overlapping what was collected.
        let overlaps = |start: u64, len: u64, lo: u64, hi: u64| {
            len > 0 && start < hi && start.saturating_add(len) > lo
        };
        let mut block: Option<(u64, u64)> = None;
        loop {
            let (lo, hi) = block.map_or((old_end, new_end), |(s, e)| {
                (s.min(old_end), e.max(new_end))
            });
            let mut changed = false;
            let mut grow = |start: u64, len: u64| {
                let end = start.saturating_add(len);
                let next = block.map_or((start, end), |(s, e)| (s.min(start), e.max(end)));
                if block != Some(next) {
                    block = Some(next);
                    changed = true;
                }
            };
            for s in &headers.sections {
                if s.sh_type != SHT_NOBITS
                    && s.sh_type != 0
                    && overlaps(s.sh_offset, s.sh_size, lo, hi)
                {
                    grow(s.sh_offset, s.sh_size);
                }
            }
            for p in &headers.phdrs {
                if !matches!(p.p_type, PT_LOAD | PT_PHDR)
                    && overlaps(p.p_offset, p.p_filesz, lo, hi)
                {
                    grow(p.p_offset, p.p_filesz);
                }
            }
            if !changed {
                break;
            }
        }
        let Some((start, end)) = block else {
            return Some(Growth { block: None }); // free bytes after the table
        };
        if start < old_end || end > load.p_offset.checked_add(load.p_filesz)? {
            return None;
        }
        let vaddr = load.p_vaddr.checked_add(start - load.p_offset)?;
        let vend = vaddr.checked_add(end - start)?;
        let interp = headers.phdrs.iter().find(|p| p.p_type == PT_INTERP);
        let mut align = 1u64;
        for s in &headers.sections {
            if s.sh_type == SHT_NOBITS
                || s.sh_type == 0
                || !overlaps(s.sh_offset, s.sh_size.max(1), start, end)
            {
                continue;
            }
            let movable = s.sh_flags & SHF_ALLOC != 0
                && s.sh_flags & (SHF_WRITE | SHF_EXECINSTR) == 0
                && match s.sh_type {
                    SHT_NOTE | SHT_HASH | SHT_GNU_HASH | SHT_DYNSYM | SHT_GNU_VERSYM
                    | SHT_GNU_VERDEF | SHT_GNU_VERNEED => true,
                    SHT_STRTAB => state.strtab.is_some_and(|t| t.vaddr == s.sh_addr),
                    SHT_PROGBITS => {
                        interp.is_some_and(|p| p.p_offset == s.sh_offset && p.p_filesz == s.sh_size)
                    }
                    _ => false,
                };
            if !movable || Some(s.sh_addr) != load.p_vaddr.checked_add(s.sh_offset - load.p_offset)
            {
                return None;
            }
            align = align.max(s.sh_addralign);
        }
        for p in &headers.phdrs {
            if matches!(p.p_type, PT_LOAD | PT_PHDR)
                || !overlaps(p.p_offset, p.p_filesz, start, end)
            {
                continue;
            }
            if !matches!(p.p_type, PT_NOTE | PT_GNU_PROPERTY | PT_INTERP) {
                return None;
            }
            align = align.max(p.p_align);
        }
        // Only the dynamic tags DynUpdate rewrites may point into the block.
        for entry in &state.entries {
            let inside = entry.val >= vaddr && entry.val < vend;
            if inside && !is_value_tag(entry.tag) && !is_movable_pointer_tag(entry.tag) {
                return None;
            }
        }
        if !align.is_power_of_two() || align > headers.page_size() {
            return None;
        }
        Some(Growth {
            block: Some(Block {
                offset: start,
                vaddr,
                len: end - start,
                align,
            }),
        })
    }

    pub(super) fn put_verneed(
        &self,
        writes: &mut Writes,
        renames: &[(u64, usize)],
        resolve: &dyn Fn(usize) -> Result<u64, ElfEditError>,
    ) -> Result<(), ElfEditError> {
        for &(offset, id) in renames {
            let value = u32::try_from(resolve(id)?).map_err(|_| {
                ElfEditError::Unsupported(
                    "version requirement file name offset exceeds 32 bits".into(),
                )
            })?;
            let mut bytes = Vec::new();
            self.headers.codec.put_u32(&mut bytes, value);
            writes.put(offset + 4, bytes);
        }
        Ok(())
    }

    /// The new `(sh_addr, sh_offset, sh_size)` of the section headers of the moved block,
    /// `.dynamic` and `.dynstr` (`(position in the segment, size)` for the last two), by index.
    pub(super) fn section_updates(
        &self,
        placement: Placement,
        shift: Option<Shift>,
        moved_dynamic: Option<(u64, u64)>,
        moved_strings: Option<(u64, u64)>,
    ) -> Vec<(u64, (u64, u64, u64))> {
        let headers = self.headers;
        let dynstr = self
            .state
            .strtab
            .and_then(|table| dynstr_section(headers, table))
            .map(|s| s.index);
        let mut updates = Vec::new();
        for shdr in &headers.sections {
            let mut new = (shdr.sh_addr, shdr.sh_offset, shdr.sh_size);
            if let Some(shift) = shift {
                let inside = if shdr.sh_size == 0 {
                    shift.covers(shdr.sh_offset, 1)
                } else {
                    shift.covers(shdr.sh_offset, shdr.sh_size)
                };
                if inside && shdr.sh_type != SHT_NOBITS && shdr.sh_flags & SHF_ALLOC != 0 {
                    new = (
                        shift.new_vaddr(shdr.sh_addr),
                        shift.new_offset(shdr.sh_offset),
                        shdr.sh_size,
                    );
                }
            }
            if let (SHT_DYNAMIC, Some((at, size))) = (shdr.sh_type, moved_dynamic) {
                new = (placement.vaddr + at, placement.offset + at, size);
            }
            if let (true, Some((at, size))) = (Some(shdr.index) == dynstr, moved_strings) {
                new = (placement.vaddr + at, placement.offset + at, size);
            }
            if new != (shdr.sh_addr, shdr.sh_offset, shdr.sh_size) {
                updates.push((shdr.index, new));
            }
        }
        updates
    }

    /// Applies `updates` to the section headers: as overwrites of the old table, or, when
    /// stripping, by appending to `pieces` (which start at file offset `base`) the kept
    /// non-allocated sections that move, a new section name table and a new section header
    /// table with only the kept sections, and pointing the ELF header at them.
    pub(super) fn put_sections(
        &self,
        writes: &mut Writes,
        pieces: &mut Pieces,
        base: u64,
        updates: &[(u64, (u64, u64, u64))],
        strip: Option<&StripLayout>,
    ) -> Result<(), ElfEditError> {
        let headers = self.headers;
        let codec = headers.codec;
        let Some(layout) = strip else {
            let field_at = if codec.is_64 { 16 } else { 12 };
            for &(index, (addr, offset, size)) in updates {
                let mut bytes = Vec::new();
                codec.put_word(&mut bytes, addr, "section address")?;
                codec.put_word(&mut bytes, offset, "section offset")?;
                codec.put_word(&mut bytes, size, "section size")?;
                writes.put(headers.shoff + index * codec.shdr_size() + field_at, bytes);
            }
            return Ok(());
        };
        let sections = &headers.sections;
        let mut shdrs: Vec<Shdr> = sections.clone();
        for &(index, (addr, offset, size)) in updates {
            if let Some(shdr) = usize::try_from(index).ok().and_then(|i| shdrs.get_mut(i)) {
                (shdr.sh_addr, shdr.sh_offset, shdr.sh_size) = (addr, offset, size);
            }
        }
        // Moved sections, in file order, each at its alignment.
        for &index in &layout.moved {
            let Some(shdr) = shdrs.get_mut(index) else {
                continue;
            };
            let align = if shdr.sh_addralign.is_power_of_two() {
                shdr.sh_addralign.min(headers.page_size())
            } else {
                1
            };
            let at = align_up(base + pieces.pos, align);
            pieces.pad_to(at - base);
            if shdr.has_file_bytes() {
                pieces.copy(shdr.sh_offset, shdr.sh_size);
            }
            shdr.sh_offset = at;
        }
        // The name table: the names of the kept sections, each once.
        let mut names: Vec<u8> = vec![0];
        let mut placed: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
        for ((shdr, name), fate) in shdrs.iter_mut().zip(&layout.names).zip(&layout.fates) {
            if *fate != Fate::Keep || name.is_empty() {
                shdr.sh_name = 0;
                continue;
            }
            let offset = match placed.get(name.as_str()) {
                Some(&offset) => offset,
                None => {
                    let offset = u32::try_from(names.len()).map_err(|_| {
                        ElfEditError::Unsupported("section name table exceeds 4 GiB".into())
                    })?;
                    names.extend_from_slice(name.as_bytes());
                    names.push(0);
                    placed.insert(name, offset);
                    offset
                }
            };
            shdr.sh_name = offset;
        }
        // The new name table and section header table overwrite the old ones when those lie
        // inside the kept part (removed sections before a segment, as in a file edited
        // without strip before) and are large enough; otherwise they are appended.
        let reusable = |offset: u64, len: u64, need: u64| {
            need <= len && offset.checked_add(len).is_some_and(|end| end <= self.end)
        };
        let old_names = sections.get(layout.shstrndx);
        let names_at = match old_names {
            Some(old)
                if old.has_file_bytes()
                    && reusable(old.sh_offset, old.sh_size, names.len() as u64) =>
            {
                writes.put(old.sh_offset, names.clone());
                old.sh_offset
            }
            _ => {
                let at = base + pieces.pos;
                pieces.bytes(&names);
                at
            }
        };
        if let Some(shdr) = shdrs.get_mut(layout.shstrndx) {
            shdr.sh_offset = names_at;
            shdr.sh_size = names.len() as u64;
        }
        // The section header table, renumbered.
        let map = new_indices(&layout.fates);
        let renumber = |index: u32| -> u32 {
            usize::try_from(index)
                .ok()
                .and_then(|i| map.get(i).copied().flatten())
                .unwrap_or(0)
        };
        let mut table = Vec::new();
        let mut count = 0u64;
        for (shdr, fate) in shdrs.iter().zip(&layout.fates) {
            match fate {
                Fate::Drop => continue,
                Fate::Placeholder => {
                    table.resize(
                        table.len() + usize::try_from(codec.shdr_size()).unwrap_or(64),
                        0,
                    );
                }
                Fate::Keep => {
                    let mut out = *shdr;
                    out.sh_link = renumber(shdr.sh_link);
                    if info_is_index(shdr.sh_type, shdr.sh_flags) {
                        out.sh_info = renumber(shdr.sh_info);
                    }
                    out.encode(codec, &mut table)?;
                }
            }
            count += 1;
        }
        let old_table_len = sections.len() as u64 * codec.shdr_size();
        let table_at = if reusable(headers.shoff, old_table_len, table.len() as u64) {
            writes.put(headers.shoff, table);
            headers.shoff
        } else {
            let at = align_up(base + pieces.pos, if codec.is_64 { 8 } else { 4 });
            pieces.pad_to(at - base);
            pieces.bytes(&table);
            at
        };
        if count >= SHN_LORESERVE {
            return Err(ElfEditError::Unsupported(format!(
                "{count} section headers"
            )));
        }
        let shstrndx = map.get(layout.shstrndx).copied().flatten().unwrap_or(0);
        let (shoff_at, shnum_at) = if codec.is_64 { (40, 60) } else { (32, 48) };
        let mut bytes = Vec::new();
        codec.put_word(&mut bytes, table_at, "section header table offset")?;
        writes.put(shoff_at, bytes);
        let mut bytes = Vec::new();
        codec.put_u16(&mut bytes, u16::try_from(count).unwrap_or(0));
        codec.put_u16(&mut bytes, u16::try_from(shstrndx).unwrap_or(0));
        writes.put(shnum_at, bytes);
        Ok(())
    }
}

impl<R: ReadAt + ?Sized> Planner<'_, R> {
    /// Where a new segment goes: after the end of the file and above every segment. With
    /// `delta`, `p_vaddr - p_offset` must equal it; otherwise the file offset is the file length
    /// rounded up to 8 and the address is congruent to it modulo the page size.
    pub(super) fn place(&self, delta: Option<i128>) -> Result<Placement, ElfEditError> {
        let headers = self.headers;
        let page = headers.page_size();
        let mut max_end = 0u64;
        for load in headers.loads() {
            let end = load
                .mem_end()
                .ok_or_else(|| malformed("segment end overflows"))?;
            max_end = max_end.max(end);
        }
        let floor = i128::from(align_up(max_end, page));
        let file_end = i128::from(align_up(self.end, 8));
        let page = i128::from(page);
        let (offset, vaddr) = match delta {
            Some(delta) => {
                if delta.rem_euclid(page) != 0 {
                    return Err(ElfEditError::Unsupported(
                        "first PT_LOAD address/offset delta is not page aligned".into(),
                    ));
                }
                let vaddr = floor.max(file_end + delta);
                (vaddr - delta, vaddr)
            }
            None => (file_end, floor + file_end.rem_euclid(page)),
        };
        let too_big =
            || ElfEditError::Unsupported("new segment does not fit the address space".into());
        Ok(Placement {
            offset: u64::try_from(offset).map_err(|_| too_big())?,
            vaddr: u64::try_from(vaddr).map_err(|_| too_big())?,
        })
    }

    /// Fails if a segment of `size` bytes at `placement` does not fit the file's word size.
    pub(super) fn check_fits(&self, placement: Placement, size: u64) -> Result<(), ElfEditError> {
        let word_max = self.headers.codec.word_max();
        if placement
            .offset
            .checked_add(size)
            .is_none_or(|e| e > word_max)
            || placement
                .vaddr
                .checked_add(size)
                .is_none_or(|e| e > word_max)
        {
            return Err(ElfEditError::Unsupported(
                "new segment does not fit the address space".into(),
            ));
        }
        Ok(())
    }
}
