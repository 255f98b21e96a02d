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
//!
//! Parts: this file holds the edit types, [`plan`] and the planner's core; `dynamic` reads the
//! dynamic section state and collects writes, `layout` places new bytes (program header growth, the
//! new segment, moved sections), `strip_plan` plans `strip -s`, `check` verifies the edited file
//! ([`verify`]).

use super::ElfInfo;
pub use super::patch::{Appended, Patch, PatchedView};
use super::read::*;
pub use super::read::{ElfEditError, ReadAt};
pub use super::strip::SectionTable;
use super::strip::*;

mod check;
mod dynamic;
mod layout;
mod strip_plan;

use check::compare_analysis;
pub use check::verify;
use dynamic::{DynState, StrLoc, StrTab, Value, Writes, find_strings};
use layout::{
    DynUpdate, Pieces, Shift, align_up, congruent_position, encode_dynamic, first_load_delta,
};
use strip_plan::StripLayout;

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
}

fn failed(message: impl Into<String>) -> ElfEditError {
    ElfEditError::Verification(message.into())
}

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

#[cfg(test)]
mod tests;
