//! Native ELF editing: SONAME, DT_NEEDED (with the verneed file names), RPATH/RUNPATH, and
//! stripping symbols like `strip -s`, all in one pass.
//!
//! This replaces `patchelf` for the edits a wheel repair makes (repair.md §6.3). It never loads
//! the whole file: [`plan`] reads the ELF header, the program and section header tables, the
//! dynamic array, the strings those entries name and the `.gnu.version_r` entries through
//! [`ReadAt`] (and scans `.dynstr` in 256 KiB windows for strings it can reuse), and returns a
//! [`Patch`]: byte ranges to overwrite, where copying the original stops (when stripping) and
//! pieces to append, where a copied `.dynstr` is a reference to the original bytes, not a
//! buffer. The caller streams the original through
//! [`Patch::write_to`] (into a zip entry, a temporary file, …) or [`Patch::write_from`];
//! [`PatchedView`] reads the result without materialising it. Memory stays in the kilobytes
//! plus at most 1 MiB of moved sections in the patch and 4 MiB of spooled copies in
//! `write_to`, whatever the file size (measured: 6 MB peak RSS for a 117 MB libLLVM).
//!
//! # Layout strategy
//!
//! Strings (`DT_NEEDED`, `DT_SONAME`, `DT_RPATH`, `vn_file`) are offsets into the dynamic string
//! table, so most edits only change offsets:
//!
//! 1. **In place.** A string that already exists in `.dynstr` (also as the tail of a longer
//!    string) is reused. A RUNPATH→RPATH conversion is a tag change. Removed entries shift the
//!    following dynamic entries up and the freed slots become `DT_NULL`. If no new string is
//!    needed and the new dynamic array fits into the old one (GNU ld usually leaves spare
//!    `DT_NULL` slots), only overwrites are produced and the file keeps its size.
//! 2. **New segment.** Otherwise one new `PT_LOAD` is appended after the end of the file,
//!    holding (in this order, each only if needed): the sections moved out of the way of the
//!    program header table (below), the dynamic array if it no longer fits (with 4 spare
//!    `DT_NULL` slots; the segment is then `RW`, because glibc before 2.35 relocates `d_ptr`
//!    values in place), and a copy of `.dynstr` followed by the new strings. `DT_STRTAB`/
//!    `DT_STRSZ` and the `.dynstr` section header point at the copy, so every old offset
//!    (symbol and version names) stays valid; the old table stays behind as dead bytes.
//!
//!    The new `PT_LOAD` needs one more program header. Like patchelf, the table **grows in
//!    place** (`e_phoff` and `PT_PHDR`'s address stay, sizes grow): the bytes it grows into are
//!    either free, or hold metadata sections (GNU ld: `.interp`, `.note.*`, `.gnu.hash`; LLD:
//!    `.dynsym`, `.gnu.version*`) that move verbatim, as one block keeping their relative
//!    layout and alignment, into the new segment. The tables and segments that point at them
//!    follow: `DT_HASH`, `DT_GNU_HASH`, `DT_SYMTAB`, `DT_STRTAB`, `DT_VERSYM`, `DT_VERDEF`,
//!    `DT_VERNEED`, `PT_NOTE`, `PT_GNU_PROPERTY`, `PT_INTERP` and the section headers; a vn_file
//!    rename inside the block is applied to the moved copy. The block is taken only if it holds
//!    nothing but those section types (read-only, not code; relocations are not scanned, as
//!    linkers do not point them at these tables), overlaps no other segment, and no other
//!    dynamic address tag points into it. This layout keeps every byte of the new segment
//!    covered by a section, which binutils `strip`/`objcopy` need to rewrite the file
//!    correctly (a table at the start of a later segment makes them move that segment onto the
//!    data segment). **Fallback** (no section headers, code right after the table as in
//!    code-first layouts, anything unexpected): the table moves to the start of the new
//!    segment, `e_phoff` and `PT_PHDR` follow it, and the old table stays behind as dead bytes.
//!
//!    The new `PT_LOAD` goes right after the last existing `PT_LOAD` in the table (so `PT_PHDR`
//!    and `PT_INTERP` stay first and loads stay sorted by address). Its `p_align` is the page
//!    size (the file's largest `p_align`, capped at 4 KiB on x86 and 64 KiB elsewhere; glibc
//!    checks `p_vaddr ≡ p_offset` modulo each segment's own `p_align`). Its file offset is the
//!    old file length rounded up to 8, and its address is the first page above every
//!    segment's end plus that offset modulo the page size, so `p_offset ≡ p_vaddr (mod
//!    p_align)` holds with a gap of at most 7 bytes: the segment starts mid-page in both file
//!    and memory, which the kernel and ld.so map like any other segment (a page-aligned start
//!    costs up to a page per file and changes nothing else). In the fallback, executables
//!    (`ET_EXEC`, or anything with `PT_INTERP`) instead keep the first `PT_LOAD`'s `p_vaddr -
//!    p_offset` for the new segment, because kernels before 5.18 compute `AT_PHDR` as that
//!    delta plus `e_phoff`; the file then gets a zero gap up to that address.
//!
//! An alternative that avoids the copy, keeping `DT_STRTAB` and growing `DT_STRSZ` until it
//! reaches strings in the new segment, was tried and rejected: the grown range spans code and
//! data, and goblin (our own `analyze`, lddtree) rejects a string table that is not valid UTF-8
//! throughout.
//!
//! When the dynamic array moves, the old one is left intact (code may still refer to
//! `_DYNAMIC`), `PT_DYNAMIC` and the `.dynamic` section header point at the new one. No section
//! headers are added; the moved sections' headers are updated. The bytes of a moved block that
//! the grown table overwrites are dead (a program that reads its build-id note through a
//! linker symbol instead of `PT_NOTE` would see them; patchelf has the same effect).
//!
//! `GOT[0]` is not updated. It holds the link-time address of `_DYNAMIC` on x86_64, i386 and
//! aarch64, and glibc reads it only in the dynamic linker's own bootstrap
//! (`elf_machine_dynamic` in `dl-machine.h`), i.e. when the object *is* `ld.so`; the lazy
//! binding trampolines use `GOT[1]`/`GOT[2]`, which ld.so fills in. The old dynamic array it
//! points at also stays valid. The `_DYNAMIC` symbol in `.symtab` is not touched either (it is
//! gone from stripped files and the loader does not use it), nor is `PT_GNU_RELRO` (a moved
//! dynamic array is simply not write-protected after relocation).
//!
//! # Stripping
//!
//! [`ElfEdits::strip`] does to a linked file what binutils `strip -s` (`--strip-all`) does, in
//! the same pass as the other edits (auditwheel ran `strip` after patchelf and produced
//! unimportable wheels, auditwheel #716). It removes the non-allocated symbol tables
//! (`.symtab`, `SHT_SYMTAB_SHNDX`), the non-allocated sections BFD treats as debugging
//! information by their names (`.debug*`, `.zdebug*`, `.line*`, `.stab*`, `.gdb_index`,
//! `.gnu.linkonce.wi.*`, `.gnu.debuglto_.debug_*`), every non-allocated section that refers to
//! a removed one (`.rela.debug_*`, `--emit-relocs` relocations) and the string tables that only
//! removed sections use (`.strtab`). Everything else stays, as with binutils: `.comment`,
//! `.gnu_debuglink`, `.gnu_debugaltlink`, non-allocated notes, `.GCC.command.line`. Allocated
//! sections never go, and an allocated section that refers to a removed one is an error.
//!
//! The original is kept up to the end of everything a program header covers and of every
//! allocated section ([`Patch::truncate_at`]). A kept non-allocated section after that stays
//! in place while no removed bytes precede it (`.comment` right after the last segment);
//! otherwise it is appended as a copy (`.gnu_debuglink` after the DWARF). Removed sections
//! inside the kept part stay as dead bytes. A new segment, when the other edits need one,
//! starts at the kept length rounded up to 8; then come the moved sections, a new `.shstrtab`
//! with only the kept names and a new section header table (`e_shoff`, `e_shnum`,
//! `e_shstrndx`, `sh_link`/`sh_info` renumbered). A removed header that precedes an allocated
//! section becomes an inactive `SHT_NULL` entry, so allocated sections keep their indices:
//! dynamic symbols name them in `st_shndx` (binutils renumbers them and leaves `.dynsym`
//! stale). The result is within a few hundred bytes of binutils' (the placeholders and
//! alignment padding differ). When removed sections lie before a segment (a file edited
//! without strip before, by patchelf or an earlier repair, has its new segment after the
//! DWARF), their bytes stay and the new `.shstrtab` and section header table overwrite the old
//! ones, so the file keeps its size; binutils would move the segment down instead. A file with
//! nothing to remove is left alone; files with extended section numbering are refused.
//!
//! # Verneed
//!
//! Renaming a needed library renames every `.gnu.version_r` entry whose `vn_file` equals the old
//! name (mandatory: ld.so's `_dl_check_map_versions` looks the file up among loaded objects by
//! that name and asserts it is found). Only `vn_file` changes: `vna_hash` hashes the version name
//! (`vna_name`), which stays, and `vn_aux`/`vn_next` are relative offsets. `.gnu.version_d` of a
//! library whose SONAME changes keeps its base entry (the old SONAME); glibc never matches the
//! base version. Removing a `DT_NEEDED` (libpython) leaves its verneed entries, as patchelf
//! does.
//!
//! # Not supported
//!
//! MIPS (its ABI fixes `.dynamic` and `DT_MIPS_RLD_MAP*`), files without `PT_DYNAMIC`, 65535 or
//! more program headers, `ET_REL`/`ET_CORE`. Each edit of a file that needs a new segment adds
//! one more `PT_LOAD` and copies `.dynstr` again; a segment added by an earlier edit is not
//! reused or extended. New strings are never written into slack inside `.dynstr`, and an old
//! string is never overwritten in place (tail-merged strings may share its bytes). Only x86_64
//! and i386 (little-endian) are tested; the code is endian- and class-generic.

use super::ElfInfo;
pub use super::patch::{Appended, Patch, PatchedView};
use super::read::*;
pub use super::read::{ElfEditError, ReadAt};
pub use super::strip::SectionTable;
use super::strip::*;

// ---------------------------------------------------------------------------------------------
// Errors and public edit types
// ---------------------------------------------------------------------------------------------

/// What to do with `DT_RPATH`/`DT_RUNPATH`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum RpathEdit {
    /// Leave both tags as they are.
    #[default]
    Keep,
    /// Write this value as the only `DT_RPATH`; any `DT_RUNPATH` is converted or removed.
    /// Ex) `$ORIGIN/../foo.libs`
    Set(String),
    /// Remove every `DT_RPATH` and `DT_RUNPATH`.
    Remove,
}

/// The edits to make to one ELF file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ElfEdits {
    /// New `DT_SONAME` (added when absent). Ex) `libfoo-1a2b3c4d.so.1.2.3`
    pub soname: Option<String>,
    /// `DT_NEEDED` renames `(old, new)`; every verneed `vn_file` equal to `old` is renamed too.
    pub replace_needed: Vec<(String, String)>,
    /// `DT_NEEDED` entries to drop (this wins over a rename of the same name).
    /// Ex) `libpython3.11.so.1.0`
    pub remove_needed: Vec<String>,
    /// `DT_RPATH`/`DT_RUNPATH` edit.
    pub rpath: RpathEdit,
    /// Remove the symbol table and debugging information like binutils' `strip -s`
    /// (`--strip-all`), in the same pass as the other edits (module docs, *Stripping*).
    pub strip: bool,
}

/// The dynamic-section facts [`verify`] checks, as the loader reads them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    /// `DT_SONAME` (the first one, if a file has several).
    pub soname: Option<String>,
    /// `DT_NEEDED` in order.
    pub needed: Vec<String>,
    /// Every `DT_RPATH` value in order.
    pub rpath: Vec<String>,
    /// Every `DT_RUNPATH` value in order.
    pub runpath: Vec<String>,
    /// `vn_file` of every `.gnu.version_r` entry in order.
    pub verneed_files: Vec<String>,
    /// The section header table; `None` when its names cannot be read (then it is not
    /// checked).
    pub sections: Option<SectionTable>,
}

impl Expected {
    /// Reads the current facts of `file`.
    pub fn read(file: &(impl ReadAt + ?Sized)) -> Result<Self, ElfEditError> {
        let headers = Headers::read(file)?;
        let state = DynState::read(file, &headers)?;
        let mut facts = state.facts();
        facts.sections = read_section_table(file, &headers)?;
        Ok(facts)
    }

    /// The facts after applying `edits` (the rules of [`plan`]).
    #[must_use]
    pub fn with_edits(&self, edits: &ElfEdits) -> Self {
        let rename = |name: &String| {
            edits
                .replace_needed
                .iter()
                .find(|(old, _)| old == name)
                .map_or_else(|| name.clone(), |(_, new)| new.clone())
        };
        let (rpath, runpath) = match &edits.rpath {
            RpathEdit::Keep => (self.rpath.clone(), self.runpath.clone()),
            RpathEdit::Set(value) => (vec![value.clone()], Vec::new()),
            RpathEdit::Remove => (Vec::new(), Vec::new()),
        };
        Self {
            soname: edits.soname.clone().or_else(|| self.soname.clone()),
            needed: self
                .needed
                .iter()
                .filter(|name| !edits.remove_needed.contains(name))
                .map(rename)
                .collect(),
            rpath,
            runpath,
            verneed_files: self.verneed_files.iter().map(rename).collect(),
            sections: match &self.sections {
                Some(table) if edits.strip => {
                    table.stripped().ok().flatten().or(Some(table.clone()))
                }
                other => other.clone(),
            },
        }
    }
}

/// One dynamic entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Dyn {
    tag: u64,
    val: u64,
}

/// One `.gnu.version_r` entry.
#[derive(Debug, Clone)]
struct VerneedEntry {
    /// File offset of the entry (`vn_file` is at +4).
    offset: u64,
    name: String,
}

/// The dynamic array and what it names.
#[derive(Debug, Clone)]
struct DynState {
    /// Index of `PT_DYNAMIC` in the program header table.
    phdr_index: usize,
    /// File offset of the dynamic array.
    offset: u64,
    /// Number of entries the array has room for.
    capacity: u64,
    /// Entries before the first `DT_NULL`.
    entries: Vec<Dyn>,
    /// Strings of `DT_NEEDED`, `DT_SONAME`, `DT_RPATH`, `DT_RUNPATH` (per entry).
    names: Vec<Option<String>>,
    strtab: Option<StrTab>,
    verneed: Vec<VerneedEntry>,
}

/// Where the dynamic string table is.
#[derive(Debug, Clone, Copy)]
struct StrTab {
    vaddr: u64,
    size: u64,
    /// File offset of `vaddr` (through its `PT_LOAD`).
    offset: u64,
}

impl DynState {
    fn read<R: ReadAt + ?Sized>(file: &R, headers: &Headers) -> Result<Self, ElfEditError> {
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

    fn names_with_tag(&self, tag: u64) -> impl Iterator<Item = &String> {
        self.entries
            .iter()
            .zip(&self.names)
            .filter(move |(e, _)| e.tag == tag)
            .filter_map(|(_, n)| n.as_ref())
    }

    fn facts(&self) -> Expected {
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
fn find_strings<R: ReadAt + ?Sized>(
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

// ---------------------------------------------------------------------------------------------
// Planning
// ---------------------------------------------------------------------------------------------

/// The value of a dynamic entry in the new array.
#[derive(Debug, Clone, Copy)]
enum Value {
    /// Unchanged raw value.
    Raw(u64),
    /// Offset of the string with this index in `Planner::strings`.
    Str(usize),
}

/// Where a requested string ends up.
#[derive(Debug, Clone, Copy)]
enum StrLoc {
    /// Already in `.dynstr` at this offset.
    Existing(u64),
    /// At this offset in the block of new strings.
    New(u64),
}

/// Collects overwrites and turns them into sorted, non-overlapping ranges (later writes win),
/// dropping ranges whose bytes do not change.
#[derive(Debug, Default)]
struct Writes {
    writes: Vec<(u64, Vec<u8>)>,
}

impl Writes {
    fn put(&mut self, offset: u64, bytes: Vec<u8>) {
        if !bytes.is_empty() {
            self.writes.push((offset, bytes));
        }
    }

    /// Removes and returns the writes inside `[start, end)`; a write straddling the range is an
    /// error.
    fn take_within(&mut self, start: u64, end: u64) -> Result<Vec<(u64, Vec<u8>)>, ElfEditError> {
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
    fn finish<R: ReadAt + ?Sized>(
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

/// Plans `edits` on `file`: reads the headers and dynamic structures, chooses the layout (module
/// docs) and returns the patch after checking it with [`verify`] on a [`PatchedView`].
pub fn plan(file: &(impl ReadAt + ?Sized), edits: &ElfEdits) -> Result<Patch, ElfEditError> {
    let headers = Headers::read(file)?;
    let state = DynState::read(file, &headers)?;
    let expected = state.facts().with_edits(edits);
    let patch = Planner {
        file,
        headers: &headers,
        state: &state,
        strings: Vec::new(),
        end: file.len(),
    }
    .build(edits)?;
    verify(&PatchedView::new(file, &patch), &expected).map_err(|err| match err {
        ElfEditError::Verification(_) => err,
        other => ElfEditError::Verification(other.to_string()),
    })?;
    Ok(patch)
}

struct Planner<'a, R: ReadAt + ?Sized> {
    file: &'a R,
    headers: &'a Headers,
    state: &'a DynState,
    /// Strings the new dynamic array and verneed entries refer to.
    strings: Vec<String>,
    /// Length of the part of the original that is kept (the file length unless stripping).
    end: u64,
}

/// The new segment's placement.
#[derive(Debug, Clone, Copy)]
struct Placement {
    offset: u64,
    vaddr: u64,
}

impl<R: ReadAt + ?Sized> Planner<'_, R> {
    fn intern(&mut self, value: &str) -> usize {
        if let Some(index) = self.strings.iter().position(|s| s == value) {
            return index;
        }
        self.strings.push(value.to_owned());
        self.strings.len() - 1
    }

    /// The new dynamic entries (without the terminating `DT_NULL`).
    fn new_entries(&mut self, edits: &ElfEdits) -> Vec<(u64, Value)> {
        let state = self.state;
        let mut out = Vec::with_capacity(state.entries.len() + 2);
        let had_soname = state.entries.iter().any(|e| e.tag == DT_SONAME);
        let had_rpath = state.entries.iter().any(|e| e.tag == DT_RPATH);
        let had_runpath = state.entries.iter().any(|e| e.tag == DT_RUNPATH);
        let mut rpath_written = false;
        for (entry, name) in state.entries.iter().zip(&state.names) {
            let keep = (entry.tag, Value::Raw(entry.val));
            let name = name.as_deref().unwrap_or_default();
            match entry.tag {
                DT_NEEDED => {
                    if edits.remove_needed.iter().any(|n| n == name) {
                        continue;
                    }
                    match edits.replace_needed.iter().find(|(old, _)| old == name) {
                        Some((_, new)) if new != name => {
                            let id = self.intern(new);
                            out.push((DT_NEEDED, Value::Str(id)));
                        }
                        _ => out.push(keep),
                    }
                }
                DT_SONAME => match &edits.soname {
                    Some(soname) if soname != name => {
                        let id = self.intern(soname);
                        out.push((DT_SONAME, Value::Str(id)));
                    }
                    _ => out.push(keep),
                },
                DT_RPATH | DT_RUNPATH => match &edits.rpath {
                    RpathEdit::Keep => out.push(keep),
                    RpathEdit::Remove => {}
                    RpathEdit::Set(value) => {
                        // One DT_RPATH: the first RPATH, or else the first RUNPATH converted.
                        let target = if had_rpath { DT_RPATH } else { DT_RUNPATH };
                        if entry.tag == target && !rpath_written {
                            rpath_written = true;
                            if value == name {
                                out.push((DT_RPATH, Value::Raw(entry.val)));
                            } else {
                                let id = self.intern(value);
                                out.push((DT_RPATH, Value::Str(id)));
                            }
                        }
                    }
                },
                _ => out.push(keep),
            }
        }
        if let (Some(soname), false) = (&edits.soname, had_soname) {
            let id = self.intern(soname);
            out.push((DT_SONAME, Value::Str(id)));
        }
        if let (RpathEdit::Set(value), false) = (&edits.rpath, had_rpath || had_runpath) {
            let id = self.intern(value);
            out.push((DT_RPATH, Value::Str(id)));
        }
        out
    }

    fn build(mut self, edits: &ElfEdits) -> Result<Patch, ElfEditError> {
        let headers = self.headers;
        let state = self.state;
        let codec = headers.codec;
        let original_len = self.file.len();
        let entries = self.new_entries(edits);
        let strip = if edits.strip {
            self.plan_strip()?
        } else {
            None
        };
        if let Some(layout) = &strip {
            self.end = layout.truncate_at;
        }
        let truncate_at = strip.as_ref().map(|layout| layout.truncate_at);

        // Verneed entries to rename.
        let mut verneed_renames: Vec<(u64, usize)> = Vec::new();
        for entry in &state.verneed {
            if let Some((_, new)) = edits
                .replace_needed
                .iter()
                .find(|(old, new)| *old == entry.name && *new != entry.name)
            {
                let id = self.intern(new);
                verneed_renames.push((entry.offset, id));
            }
        }

        // Locate the requested strings: reuse existing ones, collect the rest as a new block.
        let mut locations = Vec::with_capacity(self.strings.len());
        let mut new_strings: Vec<u8> = Vec::new();
        if !self.strings.is_empty() {
            let table = state
                .strtab
                .ok_or_else(|| malformed("dynamic string table (DT_STRTAB) is missing"))?;
            let needles: Vec<&str> = self.strings.iter().map(String::as_str).collect();
            let found = find_strings(self.file, table.offset, table.size, &needles)?;
            for (string, existing) in self.strings.iter().zip(found) {
                locations.push(match existing {
                    Some(offset) => StrLoc::Existing(offset),
                    None => {
                        let at = new_strings.len() as u64;
                        new_strings.extend_from_slice(string.as_bytes());
                        new_strings.push(0);
                        StrLoc::New(at)
                    }
                });
            }
        }

        let entry_size = codec.dyn_size();
        let dynamic_fits = (entries.len() as u64) < state.capacity;
        let mut writes = Writes::default();

        if new_strings.is_empty() && dynamic_fits {
            // Everything in place.
            let resolve = |id: usize| match locations.get(id) {
                Some(StrLoc::Existing(offset)) => Ok(*offset),
                _ => Err(malformed("internal error: unplaced string")),
            };
            let slots = state.entries.len().max(entries.len()) + 1;
            let array = encode_dynamic(codec, &entries, slots, &resolve, &DynUpdate::default())?;
            writes.put(state.offset, array);
            self.put_verneed(&mut writes, &verneed_renames, &resolve)?;
            let mut tail = Pieces::default();
            self.put_sections(&mut writes, &mut tail, self.end, &[], strip.as_ref())?;
            return Ok(Patch {
                original_len,
                truncate_at,
                overwrites: writes.finish(self.file, self.end)?,
                append_at: self.end,
                appended: tail.pieces,
            });
        }

        // A new segment is needed. The program header table gets one more slot: it grows in
        // place when the metadata sections after it can move into the new segment (patchelf's
        // layout, which strip/objcopy understand); otherwise it moves into the new segment.
        let phnum = headers.phdrs.len() as u64 + 1;
        if phnum >= u64::from(PN_XNUM) {
            return Err(ElfEditError::Unsupported(format!(
                "{phnum} program headers"
            )));
        }
        let pht_size = phnum * codec.phdr_size();
        let growth = self.plan_growth(pht_size);
        let delta = match growth {
            None if headers.is_executable() => first_load_delta(headers),
            _ => None,
        };
        let placement = self.place(delta)?;

        // (string table, whether a NUL must separate it from the new strings)
        let copied = match state.strtab {
            Some(table) if !new_strings.is_empty() => {
                let last = read_bytes(
                    self.file,
                    (table.offset + table.size).saturating_sub(1),
                    u64::from(table.size > 0),
                    "dynamic string table",
                )?;
                Some((table, last.first().is_some_and(|&b| b != 0)))
            }
            _ => None,
        };
        let strings_len = copied.map_or(0, |(table, needs_nul)| {
            table.size + u64::from(needs_nul) + new_strings.len() as u64
        });

        // Segment layout: [program headers] [moved block] [dynamic array] [string table].
        let mut size = if growth.is_none() { pht_size } else { 0 };
        let moved = match growth.and_then(|g| g.block) {
            Some(block) => {
                let at = congruent_position(size, placement.vaddr, block.vaddr, block.align);
                size = at + block.len;
                Some((block, at))
            }
            None => None,
        };
        let dynamic_slots = if dynamic_fits {
            0
        } else {
            entries.len() as u64 + 1 + SPARE_DYNAMIC_SLOTS as u64
        };
        let dynamic_at = align_up(size, 8);
        if !dynamic_fits {
            size = dynamic_at + dynamic_slots * entry_size;
        }
        let strings_at = size;
        let segment_size = strings_at + strings_len;
        self.check_fits(placement, segment_size)?;

        let strings_base = copied.map_or(0, |(table, needs_nul)| table.size + u64::from(needs_nul));
        let resolve = |id: usize| match locations.get(id) {
            Some(StrLoc::Existing(offset)) => Ok(*offset),
            Some(StrLoc::New(at)) => Ok(strings_base + at),
            None => Err(malformed("internal error: unplaced string")),
        };
        let shift = moved.map(|(block, at)| Shift {
            offset: block.offset,
            vaddr: block.vaddr,
            len: block.len,
            to_offset: placement.offset + at,
            to_vaddr: placement.vaddr + at,
        });
        let dyn_update = DynUpdate {
            strtab: copied.map(|_| placement.vaddr + strings_at),
            strsz: copied.map(|_| strings_len),
            shift,
        };

        // Program headers.
        let new_load = Phdr {
            p_type: PT_LOAD,
            p_flags: if dynamic_fits { PF_R } else { PF_R | PF_W },
            p_offset: placement.offset,
            p_vaddr: placement.vaddr,
            p_paddr: placement.vaddr,
            p_filesz: segment_size,
            p_memsz: segment_size,
            p_align: headers.page_size(),
        };
        let last_load = headers
            .phdrs
            .iter()
            .rposition(|p| p.p_type == PT_LOAD)
            .ok_or_else(|| malformed("no PT_LOAD segment"))?;
        let mut table = Vec::with_capacity(usize::try_from(pht_size).unwrap_or(0));
        for (index, phdr) in headers.phdrs.iter().enumerate() {
            let mut phdr = *phdr;
            if phdr.p_type == PT_PHDR {
                if growth.is_none() {
                    phdr.p_offset = placement.offset;
                    phdr.p_vaddr = placement.vaddr;
                    phdr.p_paddr = placement.vaddr;
                }
                phdr.p_filesz = pht_size;
                phdr.p_memsz = pht_size;
            } else if index == state.phdr_index && !dynamic_fits {
                phdr.p_offset = placement.offset + dynamic_at;
                phdr.p_vaddr = placement.vaddr + dynamic_at;
                phdr.p_paddr = phdr.p_vaddr;
                phdr.p_filesz = dynamic_slots * entry_size;
                phdr.p_memsz = phdr.p_filesz;
                phdr.p_flags |= PF_R | PF_W;
            } else if let Some(shift) = shift {
                if phdr.p_type != PT_LOAD && shift.covers(phdr.p_offset, phdr.p_filesz) {
                    let paddr_delta = phdr.p_paddr.wrapping_sub(phdr.p_vaddr);
                    phdr.p_offset = shift.new_offset(phdr.p_offset);
                    phdr.p_vaddr = shift.new_vaddr(phdr.p_vaddr);
                    phdr.p_paddr = phdr.p_vaddr.wrapping_add(paddr_delta);
                }
            }
            phdr.encode(codec, &mut table)?;
            if index == last_load {
                new_load.encode(codec, &mut table)?;
            }
        }

        // Overwrites at their original offsets; those inside the moved block go with it.
        self.put_verneed(&mut writes, &verneed_renames, &resolve)?;
        let mut segment = Pieces::default();
        if growth.is_none() {
            segment.bytes(&table);
        }
        if let Some((block, at)) = moved {
            let inside = writes.take_within(block.offset, block.offset + block.len)?;
            segment.pad_to(at);
            if inside.is_empty() && block.len > MAX_BLOCK_IN_MEMORY {
                segment.copy(block.offset, block.len);
            } else {
                let mut bytes = read_bytes(self.file, block.offset, block.len, "moved sections")?;
                for (offset, patch) in inside {
                    let at = usize::try_from(offset - block.offset).unwrap_or(usize::MAX);
                    let target = at
                        .checked_add(patch.len())
                        .and_then(|end| bytes.get_mut(at..end))
                        .ok_or_else(|| malformed("internal error: overwrite outside its block"))?;
                    target.copy_from_slice(&patch);
                }
                segment.bytes(&bytes);
            }
        }
        if dynamic_fits {
            let slots = state.entries.len().max(entries.len()) + 1;
            let array = encode_dynamic(codec, &entries, slots, &resolve, &dyn_update)?;
            writes.put(state.offset, array);
        } else {
            let slots = usize::try_from(dynamic_slots).unwrap_or(0);
            let array = encode_dynamic(codec, &entries, slots, &resolve, &dyn_update)?;
            segment.pad_to(dynamic_at);
            segment.bytes(&array);
        }
        if let Some((table, needs_nul)) = copied {
            segment.pad_to(strings_at);
            segment.copy(table.offset, table.size);
            if needs_nul {
                segment.bytes(&[0]);
            }
            segment.bytes(&new_strings);
        }
        if segment.pos != segment_size {
            return Err(malformed("internal error: segment size mismatch"));
        }

        // Section headers (with `strip`: the moved sections and the new tables after the
        // segment), then the ELF header and the program header table (last, so that it wins
        // over anything it grows into).
        let updates = self.section_updates(
            placement,
            shift,
            (!dynamic_fits).then_some((dynamic_at, dynamic_slots * entry_size)),
            copied.map(|_| (strings_at, strings_len)),
        );
        self.put_sections(
            &mut writes,
            &mut segment,
            placement.offset,
            &updates,
            strip.as_ref(),
        )?;
        let (phoff_at, phnum_at) = if codec.is_64 { (32, 56) } else { (28, 44) };
        let mut bytes = Vec::new();
        codec.put_u16(&mut bytes, u16::try_from(phnum).unwrap_or(PN_XNUM));
        writes.put(phnum_at, bytes);
        if growth.is_some() {
            writes.put(headers.phoff, table);
        } else {
            let mut bytes = Vec::new();
            codec.put_word(&mut bytes, placement.offset, "program header offset")?;
            writes.put(phoff_at, bytes);
        }
        let overwrites = writes.finish(self.file, self.end)?;
        // Copies read original bytes, so overwrites in their source ranges do not matter.
        Ok(Patch {
            original_len,
            truncate_at,
            overwrites,
            append_at: placement.offset,
            appended: segment.pieces,
        })
    }

    /// How the program header table can grow in place: `None` if it cannot (then it moves).
    /// The bytes after the table must be free, or hold only metadata sections (and the
    /// `PT_NOTE`/`PT_GNU_PROPERTY`/`PT_INTERP` segments made of them) that can move as one
    /// block: nothing else may refer to their addresses except the dynamic tags that
    /// [`DynUpdate`] rewrites.
    fn plan_growth(&self, new_size: u64) -> Option<Growth> {
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

    fn put_verneed(
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
    fn section_updates(
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
    fn put_sections(
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

    /// What `strip` keeps and where (module docs, *Stripping*); `None` when there is nothing
    /// to strip.
    fn plan_strip(&self) -> Result<Option<StripLayout>, ElfEditError> {
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

    /// Where a new segment goes: after the end of the file and above every segment. With
    /// `delta`, `p_vaddr - p_offset` must equal it; otherwise the file offset is the file length
    /// rounded up to 8 and the address is congruent to it modulo the page size.
    fn place(&self, delta: Option<i128>) -> Result<Placement, ElfEditError> {
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
    fn check_fits(&self, placement: Placement, size: u64) -> Result<(), ElfEditError> {
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

/// What `strip` keeps ([`Planner::plan_strip`]).
#[derive(Debug, Clone)]
struct StripLayout {
    /// The original is kept up to here.
    truncate_at: u64,
    /// Per original section header.
    fates: Vec<Fate>,
    /// Per original section header.
    names: Vec<String>,
    /// Kept non-allocated sections that move behind the kept part, in file order.
    moved: Vec<usize>,
    /// Index of the section name table, which is written anew.
    shstrndx: usize,
}

/// How the program header table grows in place.
#[derive(Debug, Clone, Copy)]
struct Growth {
    /// The sections (and note/interp segments) after the table that move out of its way.
    block: Option<Block>,
}

/// A contiguous range of the first segment that moves verbatim into the new segment.
#[derive(Debug, Clone, Copy)]
struct Block {
    offset: u64,
    vaddr: u64,
    len: u64,
    /// Largest alignment inside: the new address keeps the old one modulo this.
    align: u64,
}

/// The move of a [`Block`]: old and new file offset and address.
#[derive(Debug, Clone, Copy)]
struct Shift {
    offset: u64,
    vaddr: u64,
    len: u64,
    to_offset: u64,
    to_vaddr: u64,
}

impl Shift {
    /// Whether the file range `[offset, offset + len)` (non-empty) lies inside the block.
    fn covers(&self, offset: u64, len: u64) -> bool {
        len > 0 && offset >= self.offset && offset.saturating_add(len) <= self.offset + self.len
    }

    fn new_offset(&self, offset: u64) -> u64 {
        offset - self.offset + self.to_offset
    }

    fn new_vaddr(&self, vaddr: u64) -> u64 {
        vaddr.wrapping_sub(self.vaddr).wrapping_add(self.to_vaddr)
    }

    /// Whether the address `vaddr` lies inside the block.
    fn contains_vaddr(&self, vaddr: u64) -> bool {
        vaddr >= self.vaddr && vaddr - self.vaddr < self.len
    }
}

/// The appended pieces of the new segment, built front to back.
#[derive(Debug, Default)]
struct Pieces {
    pieces: Vec<Appended>,
    pos: u64,
}

impl Pieces {
    fn bytes(&mut self, bytes: &[u8]) {
        if let Some(Appended::Bytes(last)) = self.pieces.last_mut() {
            last.extend_from_slice(bytes);
        } else {
            self.pieces.push(Appended::Bytes(bytes.to_vec()));
        }
        self.pos += bytes.len() as u64;
    }

    fn pad_to(&mut self, at: u64) {
        if at > self.pos {
            let zeros = vec![0u8; usize::try_from(at - self.pos).unwrap_or(0)];
            self.bytes(&zeros);
        }
    }

    fn copy(&mut self, offset: u64, len: u64) {
        self.pieces.push(Appended::Copy { offset, len });
        self.pos += len;
    }
}

/// The smallest position `>= pos` at which `base + position ≡ want (mod align)`.
fn congruent_position(pos: u64, base: u64, want: u64, align: u64) -> u64 {
    if align <= 1 {
        return pos;
    }
    let mask = align - 1;
    pos + (want.wrapping_sub(base.wrapping_add(pos)) & mask)
}

/// Dynamic tags whose value is not an address (sizes, counts, flags, string offsets).
fn is_value_tag(tag: u64) -> bool {
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
fn is_movable_pointer_tag(tag: u64) -> bool {
    matches!(
        tag,
        DT_HASH | DT_STRTAB | DT_SYMTAB | DT_GNU_HASH | DT_VERSYM | DT_VERDEF | DT_VERNEED
    )
}

/// The section header describing the dynamic string table, if any: the one `.dynamic` links
/// to, or else an allocated string table at `DT_STRTAB`.
fn dynstr_section(headers: &Headers, table: StrTab) -> Option<&Shdr> {
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
struct DynUpdate {
    /// New `DT_STRTAB` (the copied table).
    strtab: Option<u64>,
    /// New `DT_STRSZ`.
    strsz: Option<u64>,
    /// The moved block: movable pointer tags into it follow it.
    shift: Option<Shift>,
}

fn first_load_delta(headers: &Headers) -> Option<i128> {
    headers
        .loads()
        .next()
        .map(|p| i128::from(p.p_vaddr) - i128::from(p.p_offset))
}

fn align_up(value: u64, align: u64) -> u64 {
    if align <= 1 {
        return value;
    }
    value.div_ceil(align).saturating_mul(align)
}

/// Encodes the dynamic array: `entries`, then `DT_NULL` up to `slots` entries.
fn encode_dynamic(
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

// ---------------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------------

fn failed(message: impl Into<String>) -> ElfEditError {
    ElfEditError::Verification(message.into())
}

/// Re-reads the headers, dynamic array, strings and verneed entries of `view` (only those
/// regions) and checks them against `expected` and the loader's layout rules: `PT_LOAD`s sorted
/// and disjoint in memory, `p_offset ≡ p_vaddr (mod p_align)`, `PT_DYNAMIC` and `PT_PHDR` inside
/// a `PT_LOAD` (`PT_PHDR` covering the program header table), every string the same through the
/// loader's view (`DT_STRTAB` + offset, mapped by `PT_LOAD`) and through the file view
/// (`.dynstr`'s file offset + offset), the `.dynstr`/`.dynamic` section headers, if any,
/// agreeing with the dynamic array, every section inside the file, and the section names,
/// types, flags and `sh_link`/`sh_info` references as `expected` says (after `strip`: the kept
/// sections, renumbered, so no kept section refers to a removed one).
pub fn verify(view: &(impl ReadAt + ?Sized), expected: &Expected) -> Result<(), ElfEditError> {
    let headers = Headers::read(view)?;
    check_segments(&headers, view.len())?;
    let state = DynState::read(view, &headers)?;
    let facts = state.facts();
    let compare = |what: &str, got: &dyn std::fmt::Debug, want: &dyn std::fmt::Debug| {
        let (got, want) = (format!("{got:?}"), format!("{want:?}"));
        if got == want {
            Ok(())
        } else {
            Err(failed(format!("{what} is {got}, expected {want}")))
        }
    };
    compare("DT_SONAME", &facts.soname, &expected.soname)?;
    compare("DT_NEEDED", &facts.needed, &expected.needed)?;
    compare("DT_RPATH", &facts.rpath, &expected.rpath)?;
    compare("DT_RUNPATH", &facts.runpath, &expected.runpath)?;
    compare(
        "verneed vn_file",
        &facts.verneed_files,
        &expected.verneed_files,
    )?;
    check_file_view(view, &headers, &state)?;
    check_sections(&headers, &state)?;
    check_section_table(view, &headers, expected.sections.as_ref())?;
    Ok(())
}

/// Every section's bytes lie inside the file, and the names, types, flags and `sh_link`/
/// `sh_info` references are the expected ones: after `strip`, no kept section refers to a
/// removed one (it would have to refer to another index).
fn check_section_table<R: ReadAt + ?Sized>(
    view: &R,
    headers: &Headers,
    expected: Option<&SectionTable>,
) -> Result<(), ElfEditError> {
    for shdr in &headers.sections {
        if shdr.has_file_bytes()
            && shdr
                .sh_offset
                .checked_add(shdr.sh_size)
                .is_none_or(|end| end > view.len())
        {
            return Err(failed(format!(
                "section {} extends past the end of the file",
                shdr.index
            )));
        }
    }
    let Some(want) = expected else {
        return Ok(());
    };
    let got = read_section_table(view, headers)?
        .ok_or_else(|| failed("the section names cannot be read"))?;
    if got.shstrndx != want.shstrndx {
        return Err(failed(format!(
            "e_shstrndx is {}, expected {}",
            got.shstrndx, want.shstrndx
        )));
    }
    if got.sections.len() != want.sections.len() {
        return Err(failed(format!(
            "{} section headers, expected {}",
            got.sections.len(),
            want.sections.len()
        )));
    }
    for (index, (got, want)) in got.sections.iter().zip(&want.sections).enumerate() {
        if got != want {
            return Err(failed(format!(
                "section header {index} is {got:?}, expected {want:?}"
            )));
        }
    }
    Ok(())
}

fn check_segments(headers: &Headers, file_len: u64) -> Result<(), ElfEditError> {
    let mut previous: Option<&Phdr> = None;
    for load in headers.loads() {
        let end = load
            .p_offset
            .checked_add(load.p_filesz)
            .ok_or_else(|| failed("PT_LOAD file range overflows"))?;
        if end > file_len {
            return Err(failed(format!(
                "PT_LOAD at offset {:#x} extends past the end of the file",
                load.p_offset
            )));
        }
        if load.p_filesz > load.p_memsz {
            return Err(failed(format!(
                "PT_LOAD at {:#x} has p_filesz > p_memsz",
                load.p_vaddr
            )));
        }
        if load.p_align > 1 && load.p_vaddr.wrapping_sub(load.p_offset) % load.p_align != 0 {
            return Err(failed(format!(
                "PT_LOAD at {:#x}: p_offset {:#x} is not congruent to p_vaddr modulo p_align {:#x}",
                load.p_vaddr, load.p_offset, load.p_align
            )));
        }
        if load.mem_end().is_none() {
            return Err(failed("PT_LOAD memory range overflows"));
        }
        if let Some(prev) = previous {
            if load.p_vaddr < prev.p_vaddr {
                return Err(failed("PT_LOAD segments are not sorted by address"));
            }
            if prev
                .mem_end()
                .is_none_or(|prev_end| prev_end > load.p_vaddr)
            {
                return Err(failed(format!(
                    "PT_LOAD segments at {:#x} and {:#x} overlap in memory",
                    prev.p_vaddr, load.p_vaddr
                )));
            }
        }
        previous = Some(load);
    }
    let mapped = |p: &Phdr| {
        headers
            .vaddr_to_offset(p.p_vaddr, p.p_filesz)
            .is_some_and(|offset| offset == p.p_offset)
    };
    for phdr in &headers.phdrs {
        match phdr.p_type {
            PT_DYNAMIC if !mapped(phdr) => {
                return Err(failed("PT_DYNAMIC is not inside a PT_LOAD"));
            }
            PT_PHDR => {
                let size = headers.phdrs.len() as u64 * headers.codec.phdr_size();
                if phdr.p_offset != headers.phoff || phdr.p_filesz < size {
                    return Err(failed("PT_PHDR does not cover the program header table"));
                }
                if !mapped(phdr) {
                    return Err(failed("PT_PHDR is not inside a PT_LOAD"));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Every string read through the loader's view must read the same at `.dynstr`'s file offset +
/// the string offset, and lie inside `DT_STRSZ`.
fn check_file_view<R: ReadAt + ?Sized>(
    view: &R,
    headers: &Headers,
    state: &DynState,
) -> Result<(), ElfEditError> {
    let Some(table) = state.strtab else {
        return Ok(());
    };
    let mut offsets: Vec<(u64, &str)> = state
        .entries
        .iter()
        .zip(&state.names)
        .filter_map(|(e, n)| n.as_ref().map(|n| (e.val, n.as_str())))
        .collect();
    for entry in &state.verneed {
        let raw = read_bytes(view, entry.offset, 16, "version requirement")?;
        offsets.push((u64::from(headers.codec.u32(&raw, 4)), entry.name.as_str()));
    }
    for (offset, name) in offsets {
        if offset >= table.size {
            return Err(failed(format!(
                "string `{name}` at offset {offset:#x} is outside DT_STRSZ {:#x}",
                table.size
            )));
        }
        let bytes = read_cstr(
            view,
            table.offset + offset,
            table.offset + table.size,
            "string",
        )
        .map_err(|err| failed(format!("file view of `{name}`: {err}")))?;
        if lossy(&bytes) != name {
            return Err(failed(format!(
                "string `{name}` reads differently through the file offset of .dynstr"
            )));
        }
    }
    Ok(())
}

fn check_sections(headers: &Headers, state: &DynState) -> Result<(), ElfEditError> {
    let sections = &headers.sections;
    let Some(dynamic) = sections.iter().find(|s| s.sh_type == SHT_DYNAMIC) else {
        return Ok(());
    };
    let phdr = headers.phdrs.get(state.phdr_index).copied();
    if let Some(phdr) = phdr {
        if dynamic.sh_addr != phdr.p_vaddr || dynamic.sh_offset != phdr.p_offset {
            return Err(failed(".dynamic section header disagrees with PT_DYNAMIC"));
        }
    }
    let (Some(table), Some(dynstr)) = (
        state.strtab,
        sections.get(usize::try_from(dynamic.sh_link).unwrap_or(usize::MAX)),
    ) else {
        return Ok(());
    };
    if dynstr.sh_type == SHT_STRTAB
        && (dynstr.sh_addr != table.vaddr
            || dynstr.sh_offset != table.offset
            || dynstr.sh_size != table.size)
    {
        return Err(failed(
            ".dynstr section header disagrees with DT_STRTAB/DT_STRSZ",
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// In-memory convenience
// ---------------------------------------------------------------------------------------------

/// Plans, applies and verifies `edits` on an ELF file held in memory, then checks the result with
/// [`crate::analyze`]: the edited facts must read as intended and everything else (versions,
/// symbols, platform) as before.
pub fn edit_in_memory(data: &[u8], edits: &ElfEdits) -> Result<Vec<u8>, ElfEditError> {
    let expected = Expected::read(data)?.with_edits(edits);
    let patch = plan(data, edits)?;
    let output = patch.apply_to_vec(data);
    verify(&output, &expected)?;
    let before = super::analyze(data).map_err(ElfEditError::Analysis)?;
    let after = super::analyze(&output).map_err(ElfEditError::Analysis)?;
    compare_analysis(&before, &after, &expected, edits)?;
    Ok(output)
}

fn compare_analysis(
    before: &ElfInfo,
    after: &ElfInfo,
    expected: &Expected,
    edits: &ElfEdits,
) -> Result<(), ElfEditError> {
    let check = |ok: bool, what: &str| {
        if ok {
            Ok(())
        } else {
            Err(failed(format!("analysis of the result: {what} differs")))
        }
    };
    check(after.soname == expected.soname, "SONAME")?;
    check(after.needed == expected.needed, "NEEDED")?;
    check(after.rpath.as_ref() == expected.rpath.last(), "RPATH")?;
    check(after.runpath.as_ref() == expected.runpath.last(), "RUNPATH")?;
    // Version requirements: same versions and symbols, files renamed like DT_NEEDED.
    let rename = |file: &str| {
        edits
            .replace_needed
            .iter()
            .find(|(old, _)| old == file)
            .map_or_else(|| file.to_owned(), |(_, new)| new.clone())
    };
    let want: Vec<(String, &str, &[String])> = before
        .version_requirements
        .iter()
        .map(|r| (rename(&r.file), r.version.as_str(), r.symbols.as_slice()))
        .collect();
    let got: Vec<(String, &str, &[String])> = after
        .version_requirements
        .iter()
        .map(|r| (r.file.clone(), r.version.as_str(), r.symbols.as_slice()))
        .collect();
    check(want == got, "version requirements")?;
    check(before.platform == after.platform, "platform")?;
    check(before.interpreter == after.interpreter, "interpreter")?;
    check(
        before.undefined_symbols == after.undefined_symbols,
        "undefined symbols",
    )?;
    check(
        before.init_functions == after.init_functions,
        "init functions",
    )?;
    Ok(())
}

#[cfg(test)]
mod tests;
