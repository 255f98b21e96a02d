//! Planning `strip -s` (what is kept, where the copy of the original stops).

use super::*;

/// What `strip` keeps ([`Planner::plan_strip`]).
#[derive(Debug, Clone)]
pub(super) struct StripLayout {
    /// The original is kept up to here.
    pub(super) truncate_at: u64,
    /// Per original section header.
    pub(super) fates: Vec<Fate>,
    /// Per original section header.
    pub(super) names: Vec<String>,
    /// Kept non-allocated sections that move behind the kept part, in file order.
    pub(super) moved: Vec<usize>,
    /// Index of the section name table, which is written anew.
    pub(super) shstrndx: usize,
}

impl<R: ReadAt + ?Sized> Planner<'_, R> {
    /// What `strip` keeps and where (module docs, *Stripping*); `None` when there is nothing
    /// to strip.
    pub(super) fn plan_strip(&self) -> Result<Option<StripLayout>, ElfEditError> {
        let headers = self.headers;
        if headers.sections.is_empty() {
            return Ok(None);
        }
        if headers.shnum_field == 0 || headers.shstrndx_field == SHN_XINDEX {
            return Err(ElfEditError::Unsupported(
                "cannot strip a file with extended section numbering".into(),
            ));
        }
        let table = read_section_table(self.file, headers)?
            .ok_or_else(|| malformed("cannot strip: the section names cannot be read"))?;
        let fates = table
            .strip_fates()
            .map_err(|why| ElfEditError::Unsupported(format!("cannot strip: {why}")))?;
        if fates.iter().all(|&f| f == Fate::Keep) {
            return Ok(None);
        }
        let shstrndx = usize::try_from(table.shstrndx).unwrap_or(usize::MAX);
        let codec = headers.codec;
        let file_len = self.file.len();
        let end_of = |offset: u64, len: u64, what: &str| {
            offset
                .checked_add(len)
                .filter(|&end| end <= file_len)
                .ok_or_else(|| malformed(format!("{what} extends past the end of the file")))
        };
        // Everything a program header covers and every kept allocated section stays in place.
        let mut end = end_of(
            headers.phoff,
            headers.phdrs.len() as u64 * codec.phdr_size(),
            "program header table",
        )?
        .max(codec.ehdr_size());
        for phdr in &headers.phdrs {
            if phdr.p_filesz > 0 {
                end = end.max(end_of(phdr.p_offset, phdr.p_filesz, "a segment")?);
            }
        }
        let kept = |shdr: &Shdr| {
            usize::try_from(shdr.index)
                .ok()
                .and_then(|i| fates.get(i))
                .is_some_and(|&f| f == Fate::Keep)
        };
        for shdr in &headers.sections {
            if kept(shdr) && shdr.sh_flags & SHF_ALLOC != 0 && shdr.has_file_bytes() {
                end = end.max(end_of(shdr.sh_offset, shdr.sh_size, "a section")?);
            }
        }
        // Kept non-allocated sections stay where they are while no removed bytes precede
        // them; the others move behind the kept part.
        let removed: Vec<(u64, u64)> = headers
            .sections
            .iter()
            .filter(|s| !kept(s) && s.has_file_bytes())
            .map(|s| (s.sh_offset, s.sh_offset.saturating_add(s.sh_size)))
            .collect();
        let mut rest: Vec<&Shdr> = headers
            .sections
            .iter()
            .filter(|s| {
                s.index != 0
                    && usize::try_from(s.index).ok() != Some(shstrndx)
                    && s.sh_flags & SHF_ALLOC == 0
                    && kept(s)
            })
            .collect();
        rest.sort_by_key(|s| (s.sh_offset, s.index));
        let mut moved = Vec::new();
        for shdr in rest {
            let index = usize::try_from(shdr.index).unwrap_or(usize::MAX);
            if !shdr.has_file_bytes() {
                if shdr.sh_offset > end {
                    moved.push(index);
                }
                continue;
            }
            let shdr_end = end_of(shdr.sh_offset, shdr.sh_size, "a section")?;
            let removed_before = removed.iter().any(|&(a, b)| a < shdr_end && b > end);
            if shdr_end <= end {
                continue;
            }
            if shdr.sh_offset < end || !removed_before {
                end = shdr_end;
            } else {
                moved.push(index);
            }
        }
        Ok(Some(StripLayout {
            truncate_at: end,
            fates,
            names: table.sections.into_iter().map(|s| s.name).collect(),
            moved,
            shstrndx,
        }))
    }
}
