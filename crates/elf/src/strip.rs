//! What stripping (`strip -s`) removes: the section header table as [`super::edit::verify`]
//! compares it, and the fate of each section. The analysis asks it whether a file has anything to
//! strip ([`strip_would_remove`]); the editor plans the strip with it.

use super::read::*;

/// The section header table as [`verify`](super::edit::verify) compares it: names, types, flags and the section
/// indices in `sh_link`/`sh_info`, not addresses, offsets or sizes (edits move `.dynstr`,
/// `.dynamic` and the sections in the way of the program headers).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SectionTable {
    /// Index of the section name table (`e_shstrndx`).
    pub shstrndx: u64,
    /// Every section header in order, including the null header 0.
    pub sections: Vec<SectionFact>,
}

/// One section header, as [`SectionTable`] compares it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SectionFact {
    /// Name. Ex) `.symtab`
    pub name: String,
    /// `sh_type`.
    pub sh_type: u32,
    /// `sh_flags`.
    pub sh_flags: u64,
    /// `sh_link`.
    pub sh_link: u32,
    /// `sh_info`.
    pub sh_info: u32,
}

impl SectionFact {
    /// The section indices this header refers to: `sh_link`, and `sh_info` for relocation
    /// sections and `SHF_INFO_LINK` (otherwise it is a count or a symbol index).
    pub(super) fn references(&self) -> impl Iterator<Item = u32> {
        let info = info_is_index(self.sh_type, self.sh_flags).then_some(self.sh_info);
        [Some(self.sh_link), info]
            .into_iter()
            .flatten()
            .filter(|&i| i != 0)
    }

    pub(super) fn is_alloc(&self) -> bool {
        self.sh_flags & SHF_ALLOC != 0
    }
}

/// Whether `sh_info` holds a section index: for relocation sections and with `SHF_INFO_LINK`
/// (otherwise it is a count or a symbol index).
pub(super) fn info_is_index(sh_type: u32, sh_flags: u64) -> bool {
    sh_type == SHT_REL || sh_type == SHT_RELA || sh_flags & SHF_INFO_LINK != 0
}

/// What `strip` does to one section header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fate {
    Keep,
    /// Removed, but its header stays as an inactive `SHT_NULL` entry so that the allocated
    /// sections after it keep their indices (dynamic symbols' `st_shndx` name them).
    Placeholder,
    Drop,
}

/// Names of the sections BFD treats as debugging information (`SEC_DEBUGGING`) when they are
/// not allocated (`_bfd_elf_make_section_from_shdr`); `strip -s` removes them.
pub(super) fn is_debug_section(name: &str) -> bool {
    [
        ".debug",
        ".zdebug",
        ".gnu.debuglto_.debug_",
        ".gnu.linkonce.wi.",
        ".line",
        ".stab",
    ]
    .iter()
    .any(|prefix| name.starts_with(prefix))
        || name == ".gdb_index"
}

impl SectionTable {
    /// What `strip -s` does with each section: drops the non-allocated symbol tables
    /// (`SHT_SYMTAB`, `SHT_SYMTAB_SHNDX`) and debugging sections, then every non-allocated
    /// section that refers to a dropped one (relocations for them, `--emit-relocs`
    /// relocations), then the string tables only dropped sections used (`.strtab`). Everything
    /// else stays, like `.comment`, `.gnu_debuglink` and non-allocated notes. Fails if an
    /// allocated section would refer to a dropped one, or a reference is out of range.
    pub(super) fn strip_fates(&self) -> Result<Vec<Fate>, String> {
        let sections = &self.sections;
        let count = sections.len();
        let names = usize::try_from(self.shstrndx).unwrap_or(usize::MAX);
        for (index, section) in sections.iter().enumerate() {
            if let Some(target) = section
                .references()
                .find(|&r| usize::try_from(r).map_or(true, |r| r >= count))
            {
                return Err(format!(
                    "section {index} `{}` refers to section {target}, which does not exist",
                    section.name
                ));
            }
        }
        let mut dropped: Vec<bool> = sections
            .iter()
            .enumerate()
            .map(|(index, s)| {
                index != 0
                    && index != names
                    && !s.is_alloc()
                    && (s.sh_type == SHT_SYMTAB
                        || s.sh_type == SHT_SYMTAB_SHNDX
                        || is_debug_section(&s.name))
            })
            .collect();
        loop {
            let mut changed = false;
            for (index, section) in sections.iter().enumerate() {
                if index == 0 || index == names || dropped[index] || section.is_alloc() {
                    continue;
                }
                if section
                    .references()
                    .any(|r| usize::try_from(r).is_ok_and(|r| dropped[r]))
                {
                    dropped[index] = true;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        // (used by a dropped section, used by a kept one) per section.
        let mut users = vec![(false, false); count];
        for (user, section) in sections.iter().enumerate() {
            for target in section.references() {
                if let Some(entry) = usize::try_from(target)
                    .ok()
                    .filter(|&t| t != user)
                    .and_then(|t| users.get_mut(t))
                {
                    if dropped[user] {
                        entry.0 = true;
                    } else {
                        entry.1 = true;
                    }
                }
            }
        }
        for (index, section) in sections.iter().enumerate() {
            if index != 0
                && index != names
                && !section.is_alloc()
                && section.sh_type == SHT_STRTAB
                && users[index] == (true, false)
            {
                dropped[index] = true;
            }
        }
        for (index, section) in sections.iter().enumerate() {
            if dropped[index] {
                continue;
            }
            if let Some(target) = section
                .references()
                .find(|&r| usize::try_from(r).is_ok_and(|r| dropped[r]))
            {
                let target_name = usize::try_from(target)
                    .ok()
                    .and_then(|t| sections.get(t))
                    .map_or("", |t| t.name.as_str());
                return Err(format!(
                    "the allocated section `{}` refers to `{target_name}`, which strip removes",
                    section.name
                ));
            }
        }
        let last_alloc = sections
            .iter()
            .rposition(SectionFact::is_alloc)
            .unwrap_or(0);
        Ok(dropped
            .iter()
            .enumerate()
            .map(|(index, &drop)| match (drop, index < last_alloc) {
                (false, _) => Fate::Keep,
                (true, true) => Fate::Placeholder,
                (true, false) => Fate::Drop,
            })
            .collect())
    }

    /// The table after `strip -s` ([`Self::strip_fates`]), with `sh_link`/`sh_info` and
    /// `e_shstrndx` renumbered; `Ok(None)` if nothing would be removed.
    pub(super) fn stripped(&self) -> Result<Option<Self>, String> {
        let fates = self.strip_fates()?;
        if fates.iter().all(|&f| f == Fate::Keep) {
            return Ok(None);
        }
        let map = new_indices(&fates);
        let renumber = |index: u32| -> u32 {
            usize::try_from(index)
                .ok()
                .and_then(|i| map.get(i).copied().flatten())
                .unwrap_or(0)
        };
        let mut sections = Vec::with_capacity(map.len());
        for (section, fate) in self.sections.iter().zip(&fates) {
            match fate {
                Fate::Drop => {}
                Fate::Placeholder => sections.push(SectionFact::default()),
                Fate::Keep => {
                    let mut kept = section.clone();
                    kept.sh_link = renumber(section.sh_link);
                    if info_is_index(section.sh_type, section.sh_flags) {
                        kept.sh_info = renumber(section.sh_info);
                    }
                    sections.push(kept);
                }
            }
        }
        Ok(Some(Self {
            shstrndx: u64::from(renumber(u32::try_from(self.shstrndx).unwrap_or(0))),
            sections,
        }))
    }
}

/// The new index of every section header that stays (also as a placeholder).
pub(super) fn new_indices(fates: &[Fate]) -> Vec<Option<u32>> {
    let mut next = 0u32;
    fates
        .iter()
        .map(|fate| {
            (*fate != Fate::Drop).then(|| {
                next += 1;
                next - 1
            })
        })
        .collect()
}

/// Whether stripping `file` ([`ElfEdits::strip`](super::edit::ElfEdits::strip)) would remove any section: `false` for files
/// without a symbol table or debugging information, and for files that cannot be read or
/// edited.
pub fn strip_would_remove(file: &(impl ReadAt + ?Sized)) -> bool {
    let Ok(headers) = Headers::read(file) else {
        return false;
    };
    match read_section_table(file, &headers) {
        Ok(Some(table)) => table
            .strip_fates()
            .is_ok_and(|fates| fates.iter().any(|&f| f != Fate::Keep)),
        _ => false,
    }
}

/// Reads the section names: `Ok(None)` when the name table or a name cannot be read.
pub(super) fn read_section_table<R: ReadAt + ?Sized>(
    file: &R,
    headers: &Headers,
) -> Result<Option<SectionTable>, ElfEditError> {
    if headers.sections.is_empty() {
        return Ok(Some(SectionTable::default()));
    }
    let shstrndx = headers.shstrndx();
    let Some(table) = usize::try_from(shstrndx)
        .ok()
        .and_then(|i| headers.sections.get(i))
    else {
        return Ok(None);
    };
    if shstrndx == 0 || table.sh_type == SHT_NOBITS || table.sh_size > MAX_TABLE {
        return Ok(None);
    }
    let bytes = match read_bytes(file, table.sh_offset, table.sh_size, "section name table") {
        Ok(bytes) => bytes,
        Err(ElfEditError::Malformed(_)) => return Ok(None),
        Err(err) => return Err(err),
    };
    let mut sections = Vec::with_capacity(headers.sections.len());
    for shdr in &headers.sections {
        let rest = usize::try_from(shdr.sh_name)
            .ok()
            .and_then(|start| bytes.get(start..));
        let Some(name) = rest.and_then(|rest| Some(&rest[..memchr::memchr(0, rest)?])) else {
            return Ok(None);
        };
        sections.push(SectionFact {
            name: lossy(name),
            sh_type: shdr.sh_type,
            sh_flags: shdr.sh_flags,
            sh_link: shdr.sh_link,
            sh_info: shdr.sh_info,
        });
    }
    Ok(Some(SectionTable { shstrndx, sections }))
}
