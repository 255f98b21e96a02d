//! Verification of an edited file: the headers, segments, sections, dynamic array, strings and
//! verneed entries re-read and compared with what the edits promised.

use super::*;

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
pub(super) fn check_section_table<R: ReadAt + ?Sized>(
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

pub(super) fn check_segments(headers: &Headers, file_len: u64) -> Result<(), ElfEditError> {
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
pub(super) fn check_file_view<R: ReadAt + ?Sized>(
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

pub(super) fn check_sections(headers: &Headers, state: &DynState) -> Result<(), ElfEditError> {
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

pub(super) fn compare_analysis(
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
