//! Unit tests of the ELF editor: edits checked against readelf and strip where they are
//! installed, and against the fixtures.

use std::io;

use super::*;
use crate::analyze;

fn fixture(path: &str) -> Vec<u8> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/elf");
    fs_err::read(root.join(path)).expect("fixture")
}

fn set(soname: Option<&str>, rpath: RpathEdit) -> ElfEdits {
    ElfEdits {
        soname: soname.map(str::to_owned),
        rpath,
        ..ElfEdits::default()
    }
}

fn rpath(value: &str) -> RpathEdit {
    RpathEdit::Set(value.to_owned())
}

/// Plans with `options`, checks that every way of applying the patch gives the same bytes,
/// re-verifies and re-analyses the result.
fn edit(data: &[u8], edits: &ElfEdits) -> (Patch, Vec<u8>, ElfInfo) {
    let patch = plan(data, edits).expect("plan");
    let output = patch.apply_to_vec(data);
    assert_eq!(output.len() as u64, patch.new_len());
    let mut streamed = Vec::new();
    let written = patch
        .write_to(&mut std::io::Cursor::new(data), &mut streamed)
        .expect("write_to");
    assert_eq!(written, patch.new_len());
    assert_eq!(streamed, output, "write_to differs from apply_to_vec");
    let view = PatchedView::new(data, &patch);
    let mut viewed = vec![0u8; output.len()];
    view.read_exact_at(0, &mut viewed).expect("view");
    assert_eq!(viewed, output, "PatchedView differs from apply_to_vec");
    let mut from = Vec::new();
    patch.write_from(data, &mut from).expect("write_from");
    assert_eq!(from, output, "write_from differs from apply_to_vec");
    for (offset, len) in [(1u64, 7usize), (60, 300), (output.len() as u64 - 5, 5)] {
        let mut part = vec![0u8; len];
        view.read_exact_at(offset, &mut part).expect("view part");
        let start = usize::try_from(offset).expect("offset");
        assert_eq!(part, output[start..start + len]);
    }
    let expected = Expected::read(data).expect("read").with_edits(edits);
    verify(&output, &expected).expect("verify");
    let info = analyze(&output).expect("analyze");
    // The convenience path gives the same bytes and also passes its analysis comparison.
    assert_eq!(edit_in_memory(data, edits).expect("edit_in_memory"), output);
    (patch, output, info)
}

fn program_headers(data: &[u8]) -> Vec<goblin::elf::ProgramHeader> {
    goblin::elf::Elf::parse(data)
        .expect("goblin")
        .program_headers
}

const ROOTS: [&str; 2] = ["root64", "root32"];

#[test]
fn soname_longer_shorter_and_existing() {
    for root in ROOTS {
        let data = fixture(&format!("{root}/usr/lib/libbase.so.1"));
        let (patch, _, info) = edit(&data, &set(Some("libbase-0123abcd.so.1"), RpathEdit::Keep));
        assert_eq!(info.soname.as_deref(), Some("libbase-0123abcd.so.1"));
        assert!(!patch.appended.is_empty());

        let (_, _, info) = edit(&data, &set(Some("lb.so"), RpathEdit::Keep));
        assert_eq!(info.soname.as_deref(), Some("lb.so"));

        // A tail of an existing string: only the offset changes.
        let (patch, output, info) = edit(&data, &set(Some("base.so.1"), RpathEdit::Keep));
        assert_eq!(info.soname.as_deref(), Some("base.so.1"));
        assert!(patch.appended.is_empty());
        assert_eq!(output.len(), data.len());
    }
}

#[test]
fn replace_needed_with_longer_name_keeps_order() {
    for root in ROOTS {
        let data = fixture(&format!("{root}/app/basic.so"));
        let before = analyze(&data).expect("analyze");
        let edits = ElfEdits {
            replace_needed: vec![("libextra.so.1".into(), "libextra-aaaaaaaa.so.1".into())],
            ..ElfEdits::default()
        };
        let (_, _, info) = edit(&data, &edits);
        let want: Vec<String> = before
            .needed
            .iter()
            .map(|n| {
                if n == "libextra.so.1" {
                    "libextra-aaaaaaaa.so.1".to_owned()
                } else {
                    n.clone()
                }
            })
            .collect();
        assert_eq!(info.needed, want);
        assert_eq!(info.needed.len(), 4);
    }
}

#[test]
fn remove_needed_in_place() {
    for root in ROOTS {
        let data = fixture(&format!("{root}/app/basic.so"));
        let before = analyze(&data).expect("analyze");
        let edits = ElfEdits {
            remove_needed: vec!["libextra.so.1".into(), "libnot-there.so".into()],
            ..ElfEdits::default()
        };
        let (patch, output, info) = edit(&data, &edits);
        let want: Vec<String> = before
            .needed
            .iter()
            .filter(|n| *n != "libextra.so.1")
            .cloned()
            .collect();
        assert_eq!(info.needed, want);
        assert!(patch.appended.is_empty());
        assert_eq!(output.len(), data.len());
    }
}

#[test]
fn set_rpath_where_none_exists() {
    for root in ROOTS {
        let data = fixture(&format!("{root}/app/basic.so"));
        let value = "$ORIGIN/../some.libs:$ORIGIN/another/long/dir";
        let (_, _, info) = edit(&data, &set(None, rpath(value)));
        assert_eq!(info.rpath.as_deref(), Some(value));
        assert_eq!(info.runpath, None);
    }
}

#[test]
fn runpath_becomes_rpath() {
    for root in ROOTS {
        let data = fixture(&format!("{root}/app/bin/runpath.so"));
        // Same value: a tag change, nothing appended.
        let (patch, _, info) = edit(&data, &set(None, rpath("$ORIGIN/../run")));
        assert_eq!(info.rpath.as_deref(), Some("$ORIGIN/../run"));
        assert_eq!(info.runpath, None);
        assert!(patch.appended.is_empty());
        assert_eq!(patch.overwrites.len(), 1, "only the dynamic array changes");
        // New value.
        let (_, _, info) = edit(&data, &set(None, rpath("$ORIGIN/../run:$ORIGIN/../x.libs")));
        assert_eq!(
            info.rpath.as_deref(),
            Some("$ORIGIN/../run:$ORIGIN/../x.libs")
        );
        assert_eq!(info.runpath, None);
    }
}

#[test]
fn both_tags_leave_one_rpath() {
    for root in ROOTS {
        let data = fixture(&format!("{root}/app/bin/both.so"));
        let (_, _, info) = edit(&data, &set(None, rpath("$ORIGIN/../lib")));
        assert_eq!(info.rpath.as_deref(), Some("$ORIGIN/../lib"));
        assert_eq!(info.runpath, None);
        let (_, output, info) = edit(&data, &set(None, RpathEdit::Remove));
        assert_eq!((info.rpath, info.runpath), (None, None));
        assert_eq!(output.len(), data.len());
    }
}

#[test]
fn remove_rpath() {
    for root in ROOTS {
        let data = fixture(&format!("{root}/app/bin/rpath.so"));
        let (patch, _, info) = edit(&data, &set(None, RpathEdit::Remove));
        assert_eq!(info.rpath, None);
        assert!(patch.appended.is_empty());
    }
}

fn combined(old: &str, new: &str) -> ElfEdits {
    ElfEdits {
        soname: Some("libcombined-0123abcd.so.1.2.3".into()),
        replace_needed: vec![(old.into(), new.into())],
        remove_needed: vec!["libbase.so.1".into()],
        rpath: rpath("$ORIGIN/../combined.libs:$ORIGIN"),
        strip: false,
    }
}

#[test]
fn combined_edits() {
    let files = [
        "root64/app/fake.cpython-311-x86_64-linux-gnu.so",
        "root32/app/fake.cpython-311-i386-linux-gnu.so",
        "root64/app/libglibc234.so",
        "root32/app/libglibc234.so",
        "root64/app/libsyms.so",
        "root32/app/libsyms.so",
    ];
    for file in files {
        let data = fixture(file);
        let before = analyze(&data).expect("analyze");
        let edits = combined("libc.so.6", "libc-aaaaaaaa.so.6");
        let (patch, output, info) = edit(&data, &edits);
        assert_eq!(
            info.soname.as_deref(),
            Some("libcombined-0123abcd.so.1.2.3"),
            "{file}"
        );
        let renamed = info.needed.contains(&"libc-aaaaaaaa.so.6".to_owned());
        assert_eq!(
            renamed,
            before.needed.contains(&"libc.so.6".to_owned()),
            "{file}"
        );
        assert!(
            !info
                .needed
                .iter()
                .any(|n| n == "libc.so.6" || n == "libbase.so.1")
        );
        assert_eq!(
            info.rpath.as_deref(),
            Some("$ORIGIN/../combined.libs:$ORIGIN")
        );
        assert_eq!(
            before.version_requirements.len(),
            info.version_requirements.len()
        );
        for (old, new) in before
            .version_requirements
            .iter()
            .zip(&info.version_requirements)
        {
            let want = if old.file == "libc.so.6" {
                "libc-aaaaaaaa.so.6"
            } else {
                &old.file
            };
            assert_eq!(new.file, want, "{file}: verneed file not renamed");
            assert_eq!((&new.version, &new.symbols), (&old.version, &old.symbols));
        }
        // The new PT_LOAD follows the last old one, right after the old end of the file.
        let phdrs = program_headers(&output);
        assert_eq!(phdrs.len(), program_headers(&data).len() + 1);
        let last = phdrs.iter().rfind(|p| p.p_type == PT_LOAD).expect("load");
        assert_eq!(last.p_offset, patch.append_at, "{file}");
        assert!(patch.append_at - patch.original_len < 8, "{file}: gap");
        assert_eq!(last.p_vaddr % 0x1000, last.p_offset % 0x1000);
        assert_eq!(last.p_align, 0x1000);
        // `.dynstr` is copied, not held in the patch.
        assert!(
            patch
                .appended
                .iter()
                .any(|p| matches!(p, Appended::Copy { .. }))
        );
    }
}

#[test]
fn verneed_file_is_renamed() {
    for bits in ["64", "32"] {
        let data = fixture(&format!("edit/{bits}/libvuser.so"));
        let edits = ElfEdits {
            replace_needed: vec![("libvdep.so.1".into(), "libvdep-aaaaaaaa.so.1".into())],
            ..ElfEdits::default()
        };
        let (_, _, info) = edit(&data, &edits);
        assert_eq!(info.needed, ["libvdep-aaaaaaaa.so.1"]);
        let files: Vec<&str> = info
            .version_requirements
            .iter()
            .map(|r| r.file.as_str())
            .collect();
        assert_eq!(files, ["libvdep-aaaaaaaa.so.1"]);
        assert_eq!(info.version_requirements[0].version, "VDEP_1.0");
    }
}

#[test]
fn lld_layout_moves_the_dynamic_array() {
    for bits in ["64", "32"] {
        let data = fixture(&format!("edit/{bits}/liblld.so"));
        let old_dynamic = program_headers(&data)
            .into_iter()
            .find(|p| p.p_type == PT_DYNAMIC)
            .expect("PT_DYNAMIC");
        let edits = ElfEdits {
            soname: Some("liblld-0123abcd.so".into()),
            replace_needed: vec![("libvdep.so.1".into(), "libvdep-aaaaaaaa.so.1".into())],
            remove_needed: Vec::new(),
            rpath: rpath("$ORIGIN/../lld.libs"),
            strip: false,
        };
        let (patch, output, info) = edit(&data, &edits);
        assert_eq!(info.soname.as_deref(), Some("liblld-0123abcd.so"));
        assert_eq!(info.rpath.as_deref(), Some("$ORIGIN/../lld.libs"));
        assert_eq!(info.version_requirements[0].file, "libvdep-aaaaaaaa.so.1");
        let phdrs = program_headers(&output);
        let dynamic = phdrs
            .iter()
            .find(|p| p.p_type == PT_DYNAMIC)
            .expect("PT_DYNAMIC");
        assert!(
            dynamic.p_offset >= patch.original_len,
            "dynamic array moved"
        );
        let new_load = phdrs.iter().rfind(|p| p.p_type == PT_LOAD).expect("load");
        assert_eq!(new_load.p_flags, PF_R | PF_W);
        // The table grew in place (PT_PHDR stays first and covers it); `.dynsym`, which
        // followed it, moved into the new segment.
        assert_eq!(phdrs[0].p_type, PT_PHDR);
        assert_eq!(phdrs[0].p_offset, program_headers(&data)[0].p_offset);
        assert_eq!(
            phdrs[0].p_filesz,
            phdrs.len() as u64 * if bits == "64" { 56 } else { 32 }
        );
        let sections = goblin::elf::Elf::parse(&output)
            .expect("goblin")
            .section_headers;
        let dynsym = sections
            .iter()
            .find(|s| s.sh_type == goblin::elf::section_header::SHT_DYNSYM)
            .expect(".dynsym");
        assert!(dynsym.sh_offset >= patch.original_len, ".dynsym moved");
        // The old array is left intact for code that still refers to `_DYNAMIC`.
        let start = usize::try_from(old_dynamic.p_offset).expect("offset");
        let end = start + usize::try_from(old_dynamic.p_filesz).expect("size");
        assert_eq!(output[start..end], data[start..end]);
    }
}

#[test]
fn verneed_inside_the_moved_block_is_renamed() {
    for bits in ["64", "32"] {
        let data = fixture(&format!("edit/{bits}/liblldmin.so"));
        let sections = |data: &[u8]| {
            goblin::elf::Elf::parse(data)
                .expect("goblin")
                .section_headers
        };
        let offset_of = |data: &[u8], kind: u32| {
            sections(data)
                .iter()
                .find(|s| s.sh_type == kind)
                .map(|s| s.sh_offset)
                .expect("section")
        };
        // First edit: LLD left room for one more program header; nothing moves.
        let first = ElfEdits {
            soname: Some("liblldmin-0123abcd.so".into()),
            ..ElfEdits::default()
        };
        let (_, once, _) = edit(&data, &first);
        let verneed = goblin::elf::section_header::SHT_GNU_VERNEED;
        assert_eq!(
            offset_of(&once, verneed),
            offset_of(&data, verneed),
            "{bits}"
        );
        // Second edit: the table grows into .dynsym, .gnu.version and .gnu.version_r, which
        // move together; the vn_file rename goes with the moved copy.
        let second = ElfEdits {
            replace_needed: vec![("libvdep.so.1".into(), "libvdep-aaaaaaaa.so.1".into())],
            rpath: rpath("$ORIGIN/../lldmin.libs"),
            ..ElfEdits::default()
        };
        let (patch, twice, info) = edit(&once, &second);
        if bits == "64" {
            assert!(
                offset_of(&twice, verneed) >= patch.original_len,
                "verneed moved"
            );
        }
        assert_eq!(info.needed, ["libvdep-aaaaaaaa.so.1"]);
        assert_eq!(info.version_requirements[0].file, "libvdep-aaaaaaaa.so.1");
        assert_eq!(info.version_requirements[0].symbols, ["vdep_fn"]);
    }
}

/// Removes the section header table reference, so nothing tells what follows the program
/// header table.
fn without_section_headers(mut data: Vec<u8>) -> Vec<u8> {
    if data[4] == 2 {
        data[40..48].fill(0);
        data[60..64].fill(0);
    } else {
        data[32..36].fill(0);
        data[48..52].fill(0);
    }
    data
}

#[test]
fn program_headers_grow_in_place_in_executables() {
    for bits in ["64", "32"] {
        for name in ["exe", "pie"] {
            let data = fixture(&format!("edit/{bits}/{name}"));
            let edits = ElfEdits {
                replace_needed: vec![("libvdep.so.1".into(), "libvdep-aaaaaaaa.so.1".into())],
                rpath: rpath("$ORIGIN/../exe.libs"),
                ..ElfEdits::default()
            };
            let (patch, output, info) = edit(&data, &edits);
            assert_eq!(info.needed, ["libvdep-aaaaaaaa.so.1"]);
            let before = program_headers(&data);
            let phdrs = program_headers(&output);
            assert_eq!(phdrs[0].p_type, PT_PHDR);
            assert_eq!(phdrs[0].p_offset, before[0].p_offset, "{bits}/{name}");
            // .interp followed the table: PT_INTERP moved with it.
            let interp = |p: &[goblin::elf::ProgramHeader]| {
                p.iter()
                    .find(|p| p.p_type == PT_INTERP)
                    .map(|p| p.p_offset)
                    .expect("interp")
            };
            assert!(interp(&phdrs) >= patch.original_len, "{bits}/{name}");
            assert_eq!(
                goblin::elf::Elf::parse(&output)
                    .expect("goblin")
                    .interpreter,
                goblin::elf::Elf::parse(&data).expect("goblin").interpreter
            );
        }
    }
}

#[test]
fn without_section_headers_the_table_moves() {
    let files = [
        "edit/64/exe",
        "edit/32/exe",
        "edit/64/pie",
        "edit/32/pie",
        "edit/64/liblld.so",
        "root64/app/libglibc234.so",
        "root32/app/fake.cpython-311-i386-linux-gnu.so",
    ];
    for file in files {
        let data = without_section_headers(fixture(file));
        let edits = ElfEdits {
            soname: Some("libnosections-0123456789.so".into()),
            rpath: rpath("$ORIGIN/../exe.libs"),
            ..ElfEdits::default()
        };
        let (patch, output, info) = edit(&data, &edits);
        assert_eq!(info.soname, edits.soname);
        let phdrs = program_headers(&output);
        let loads: Vec<_> = phdrs.iter().filter(|p| p.p_type == PT_LOAD).collect();
        let new_load = loads[loads.len() - 1];
        assert_eq!(new_load.p_offset, patch.append_at, "{file}");
        let e_phoff = goblin::elf::Elf::parse(&output)
            .expect("goblin")
            .header
            .e_phoff;
        assert_eq!(e_phoff, patch.append_at, "{file}: the table moved");
        if let Some(phdr) = phdrs.iter().find(|p| p.p_type == PT_PHDR) {
            assert_eq!(phdr.p_offset, e_phoff);
        }
        // Executables: the new segment keeps the first PT_LOAD's address/offset delta
        // (AT_PHDR on kernels before 5.18).
        if phdrs.iter().any(|p| p.p_type == PT_INTERP) {
            let delta = |p: &goblin::elf::ProgramHeader| p.p_vaddr.wrapping_sub(p.p_offset);
            assert_eq!(delta(loads[0]), delta(new_load), "{file}");
        }
    }
}

#[test]
fn noop_edits_give_an_empty_patch() {
    let data = fixture("root64/app/bin/rpath.so");
    let info = analyze(&data).expect("analyze");
    let edits = ElfEdits {
        soname: None,
        replace_needed: vec![("libnothere.so".into(), "x".into())],
        remove_needed: vec!["libnothere.so".into()],
        rpath: RpathEdit::Set(info.rpath.clone().expect("rpath")),
        strip: false,
    };
    let patch = plan(&data, &edits).expect("plan");
    assert!(patch.is_empty(), "{patch:?}");
    assert_eq!(patch.apply_to_vec(&data), data);
}

#[test]
fn edits_stack_on_an_edited_file() {
    for file in [
        "root64/app/libglibc234.so",
        "edit/32/liblld.so",
        "edit/64/pie",
    ] {
        let data = fixture(file);
        let mut current = data.clone();
        for round in 0..3 {
            let edits = ElfEdits {
                soname: Some(format!("libround{round}-0123456789.so")),
                rpath: rpath(&format!("$ORIGIN/round{round}/lib")),
                ..ElfEdits::default()
            };
            let (_, output, info) = edit(&current, &edits);
            assert_eq!(info.soname, edits.soname);
            current = output;
        }
    }
}

#[test]
fn reads_through_a_file() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/elf");
    let file = fs_err::File::open(root.join("root64/app/libglibc234.so")).expect("open");
    let edits = combined("libc.so.6", "libc-aaaaaaaa.so.6");
    let patch = plan(&file, &edits).expect("plan");
    let data = fixture("root64/app/libglibc234.so");
    assert_eq!(patch, plan(&data, &edits).expect("plan"));
    let mut out = Vec::new();
    let mut reader = fs_err::File::open(root.join("root64/app/libglibc234.so")).expect("open");
    patch.write_to(&mut reader, &mut out).expect("write");
    assert_eq!(out, patch.apply_to_vec(&data));
}

#[test]
fn short_source_is_an_error() {
    let data = fixture("root64/usr/lib/libbase.so.1");
    let patch = plan(&data, &set(Some("libbase-0123abcd.so.1"), RpathEdit::Keep)).expect("plan");
    let mut out = Vec::new();
    let err = patch
        .write_to(&mut &data[..100], &mut out)
        .expect_err("short input");
    assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
}

#[test]
fn error_messages() {
    let edits = set(Some("x"), RpathEdit::Keep);
    let err = plan(b"#!/bin/sh\n".as_slice(), &edits).expect_err("not elf");
    insta::assert_snapshot!(err, @"not an ELF file");
    let err = plan(&fixture("root64/app/truncated.so"), &edits).expect_err("truncated");
    insta::assert_snapshot!(err, @"malformed ELF file: program header table extends past the end of the file");
    let mut data = fixture("root64/usr/lib/libbase.so.1");
    data[16] = 1; // ET_REL
    let err = plan(&data, &edits).expect_err("relocatable");
    insta::assert_snapshot!(err, @"unsupported ELF file: ELF type 1 (only shared objects and executables are edited)");
    let mut data = fixture("root64/usr/lib/libbase.so.1");
    for phdr in 0..4 {
        // Turn PT_DYNAMIC into PT_NULL: a static file.
        let at = 64 + phdr * 56;
        if data[at] == 2 {
            data[at] = 0;
        }
    }
    let err = plan(&data, &edits).expect_err("static");
    insta::assert_snapshot!(err, @"unsupported ELF file: no PT_DYNAMIC (statically linked)");
}

// -----------------------------------------------------------------------------------------
// strip
// -----------------------------------------------------------------------------------------

/// Unstripped fixtures: GNU ld with a `.gnu_debuglink` after the debug sections; GNU ld
/// `-q` (relocation sections between the allocated ones); LLD `-q`.
const DEBUG_FILES: [&str; 6] = [
    "edit/64/libdebug.so",
    "edit/32/libdebug.so",
    "edit/64/libdebugq.so",
    "edit/32/libdebugq.so",
    "edit/64/libdebuglld.so",
    "edit/32/libdebuglld.so",
];

fn strip_only() -> ElfEdits {
    ElfEdits {
        strip: true,
        ..ElfEdits::default()
    }
}

/// One section as goblin reads it.
#[derive(Debug)]
struct Section {
    index: usize,
    name: String,
    sh_type: u32,
    alloc: bool,
    bytes: Vec<u8>,
}

fn sections_of(data: &[u8]) -> Vec<Section> {
    let elf = goblin::elf::Elf::parse(data).expect("goblin");
    elf.section_headers
        .iter()
        .enumerate()
        .map(|(index, sh)| {
            let bytes = if sh.sh_type == SHT_NOBITS {
                Vec::new()
            } else {
                let start = usize::try_from(sh.sh_offset).expect("offset");
                data[start..start + usize::try_from(sh.sh_size).expect("size")].to_vec()
            };
            Section {
                index,
                name: elf.shdr_strtab.get_at(sh.sh_name).unwrap_or("").to_owned(),
                sh_type: sh.sh_type,
                alloc: sh.sh_flags & SHF_ALLOC != 0,
                bytes,
            }
        })
        .collect()
}

/// What `strip -s` removes from the fixtures: symbol and string tables, DWARF and the
/// non-allocated relocation sections.
fn removed_by_strip(section: &Section) -> bool {
    !section.alloc
        && (matches!(section.sh_type, SHT_SYMTAB | SHT_REL | SHT_RELA)
            || section.name == ".strtab"
            || section.name.starts_with(".debug"))
}

/// `readelf -S -l -d -W` of `data` when binutils is installed (`None` otherwise); it must
/// not warn.
#[allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "tests may run binutils as an oracle"
)]
fn readelf(data: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("file.so");
    fs_err::write(&path, data).expect("write");
    let output = std::process::Command::new("readelf")
        .args(["-S", "-l", "-d", "-W"])
        .arg(&path)
        .output()
        .ok()?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stderr.trim().is_empty(),
        "readelf: {stderr}"
    );
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Length of the file binutils `strip -s` makes of `data`, when binutils is installed.
#[allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "tests may run binutils as an oracle"
)]
fn binutils_strip_len(data: &[u8]) -> Option<u64> {
    let dir = tempfile::tempdir().expect("tempdir");
    let (input, output) = (dir.path().join("in.so"), dir.path().join("out.so"));
    fs_err::write(&input, data).expect("write");
    let status = std::process::Command::new("strip")
        .args(["-s", "-o"])
        .arg(&output)
        .arg(&input)
        .status()
        .ok()?;
    assert!(status.success(), "binutils strip failed");
    Some(fs_err::metadata(&output).expect("stripped").len())
}

/// `output` has none of the sections `strip -s` removes and every other section of
/// `original` under the same name and type, allocated ones at the same index (dynamic
/// symbols name them), non-allocated ones with the same bytes (allocated ones too unless
/// `edited`).
fn check_stripped(original: &[u8], output: &[u8], edited: bool, file: &str) {
    let before = sections_of(original);
    let after = sections_of(output);
    for section in &after {
        assert!(
            !removed_by_strip(section),
            "{file}: {} survived",
            section.name
        );
    }
    for old in before
        .iter()
        .filter(|s| !removed_by_strip(s) && s.index != 0)
    {
        let new = after
            .iter()
            .find(|s| s.name == old.name)
            .unwrap_or_else(|| panic!("{file}: {} was removed", old.name));
        assert_eq!((new.sh_type, new.alloc), (old.sh_type, old.alloc), "{file}");
        if old.alloc {
            assert_eq!(new.index, old.index, "{file}: {} renumbered", old.name);
        }
        if old.name != ".shstrtab" && !(edited && old.alloc) {
            assert_eq!(new.bytes, old.bytes, "{file}: {} changed", old.name);
        }
    }
    // Removed headers before the last allocated section stay as inactive entries.
    let last_alloc = before.iter().rposition(|s| s.alloc).expect("alloc");
    for old in &before[..last_alloc] {
        if removed_by_strip(old) {
            assert_eq!(after[old.index].sh_type, SHT_NULL, "{file}: placeholder");
        }
    }
    if let Some(text) = readelf(output) {
        assert!(
            !text.contains(".symtab") && !text.contains(".debug"),
            "{file}:\n{text}"
        );
        assert!(text.contains(".comment"), "{file}:\n{text}");
    }
}

#[test]
fn strip_removes_symbols_and_debug_information() {
    for file in DEBUG_FILES {
        let data = fixture(file);
        let before = analyze(&data).expect("analyze");
        let (patch, output, info) = edit(&data, &strip_only());
        check_stripped(&data, &output, false, file);
        assert_eq!(
            (&info.soname, &info.needed, &info.rpath, &info.runpath),
            (
                &before.soname,
                &before.needed,
                &before.rpath,
                &before.runpath
            ),
            "{file}"
        );
        assert_eq!(info.version_requirements, before.version_requirements);
        assert!(!info.strippable && before.strippable, "{file}");
        assert!(patch.truncate_at.is_some(), "{file}");
        // The file shrinks by (nearly) the bytes of the removed sections.
        let removed: usize = sections_of(&data)
            .iter()
            .filter(|s| removed_by_strip(s))
            .map(|s| s.bytes.len())
            .sum();
        assert!(
            (data.len() - output.len()) * 10 >= removed * 9,
            "{file}: {} -> {} bytes, {removed} bytes removed",
            data.len(),
            output.len()
        );
        // Within a few hundred bytes of binutils (placeholders and alignment differ).
        if let Some(theirs) = binutils_strip_len(&data) {
            let ours = output.len() as u64;
            assert!(
                ours.abs_diff(theirs) <= 512,
                "{file}: {ours} bytes, binutils strip {theirs}"
            );
        }
        // Stripping again changes nothing.
        assert!(plan(&output, &strip_only()).expect("plan").is_empty());
    }
    // The debug link survives, moved in front of the new tables.
    let output = edit_in_memory(&fixture("edit/64/libdebug.so"), &strip_only()).expect("edit");
    let sections = sections_of(&output);
    let link = sections
        .iter()
        .find(|s| s.name == ".gnu_debuglink")
        .expect(".gnu_debuglink");
    assert!(link.bytes.starts_with(b"libdebug.debug\0"));
}

#[test]
fn strip_combines_with_every_edit() {
    for file in DEBUG_FILES {
        let data = fixture(file);
        let before = analyze(&data).expect("analyze");
        let mut edits = combined("libvdep.so.1", "libvdep-aaaaaaaa.so.1");
        edits.strip = true;
        let (patch, output, info) = edit(&data, &edits);
        check_stripped(&data, &output, true, file);
        assert_eq!(
            info.soname.as_deref(),
            Some("libcombined-0123abcd.so.1.2.3")
        );
        assert_eq!(info.needed[0], "libvdep-aaaaaaaa.so.1", "{file}");
        let removed = usize::from(before.needed.iter().any(|n| n == "libbase.so.1"));
        assert_eq!(info.needed.len(), before.needed.len() - removed);
        assert_eq!(
            info.rpath.as_deref(),
            Some("$ORIGIN/../combined.libs:$ORIGIN")
        );
        assert_eq!(info.runpath, None);
        let vdep = |info: &ElfInfo| {
            info.version_requirements
                .iter()
                .find(|r| r.version == "VDEP_1.0")
                .cloned()
                .expect("VDEP_1.0")
        };
        assert_eq!(vdep(&info).file, "libvdep-aaaaaaaa.so.1", "{file}");
        assert_eq!(vdep(&info).symbols, vdep(&before).symbols);
        // The new segment starts right after the kept part and lies inside the file.
        let phdrs = program_headers(&output);
        let last = phdrs.iter().rfind(|p| p.p_type == PT_LOAD).expect("load");
        let kept = patch.truncate_at.expect("truncated");
        assert_eq!(last.p_offset, patch.append_at, "{file}");
        assert_eq!(patch.append_at, align_up(kept, 8), "{file}");
        assert!(last.p_offset + last.p_filesz <= output.len() as u64);
        // Smaller than the same edits without strip, and no larger than what binutils
        // strip makes of that (the edit's new segment is in both; binutils sometimes
        // page-aligns it).
        let mut unstripped = edits.clone();
        unstripped.strip = false;
        let (_, edited, _) = edit(&data, &unstripped);
        assert!(output.len() < edited.len(), "{file}");
        // Stripping that file afterwards cannot cut off the debug sections in front of its
        // new segment: they stay as dead bytes and the new tables overwrite the old ones.
        let (patch, restripped, _) = edit(&edited, &strip_only());
        check_stripped(&edited, &restripped, false, file);
        assert_eq!(restripped.len(), edited.len(), "{file}");
        assert!(patch.appended.is_empty(), "{file}");
        if let Some(theirs) = binutils_strip_len(&edited) {
            let ours = output.len() as u64;
            assert!(
                ours <= theirs + 512,
                "{file}: {ours} bytes, edit + binutils strip {theirs}"
            );
        }
        // Another round of edits on the stripped file.
        let again = ElfEdits {
            soname: Some("libagain-0123456789abcdef.so".into()),
            rpath: rpath("$ORIGIN/again/and/again"),
            strip: true,
            ..ElfEdits::default()
        };
        let (patch, _, info) = edit(&output, &again);
        assert_eq!(info.soname, again.soname);
        assert_eq!(patch.truncate_at, None, "nothing left to strip");
    }
}

#[test]
fn strip_of_a_stripped_file_changes_nothing() {
    let files = [
        "root64/app/fake.cpython-311-x86_64-linux-gnu.so",
        "root32/app/libglibc234.so",
        "edit/64/liblld.so",
        "edit/32/liblldmin.so",
        "edit/64/pie",
    ];
    for file in files {
        let data = fixture(file);
        assert!(!analyze(&data).expect("analyze").strippable);
        assert!(
            plan(&data, &strip_only()).expect("plan").is_empty(),
            "{file}"
        );
        let mut edits = combined("libc.so.6", "libc-aaaaaaaa.so.6");
        let without = plan(&data, &edits).expect("plan");
        edits.strip = true;
        assert_eq!(plan(&data, &edits).expect("plan"), without, "{file}");
    }
    // No section headers at all: nothing to strip either.
    let data = without_section_headers(fixture("edit/64/libdebug.so"));
    assert!(plan(&data, &strip_only()).expect("plan").is_empty());
}

fn fact(name: &str, sh_type: u32, sh_flags: u64, sh_link: u32, sh_info: u32) -> SectionFact {
    SectionFact {
        name: name.into(),
        sh_type,
        sh_flags,
        sh_link,
        sh_info,
    }
}

#[test]
fn strip_rules() {
    let table = SectionTable {
        shstrndx: 9,
        sections: vec![
            SectionFact::default(),
            fact(".dynsym", SHT_DYNSYM, SHF_ALLOC, 2, 1),
            fact(".dynstr", SHT_STRTAB, SHF_ALLOC, 0, 0),
            fact(".rela.text", SHT_RELA, SHF_INFO_LINK, 7, 4),
            fact(".text", SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, 0, 0),
            fact(".comment", SHT_PROGBITS, 0, 0, 0),
            fact(".zdebug_info", SHT_PROGBITS, 0, 0, 0),
            fact(".symtab", SHT_SYMTAB, 0, 8, 3),
            fact(".strtab", SHT_STRTAB, 0, 0, 0),
            fact(".shstrtab", SHT_STRTAB, 0, 0, 0),
            fact(".rela.zdebug_info", SHT_RELA, 0, 0, 6),
            fact(".gnu_debuglink", SHT_PROGBITS, 0, 0, 0),
            fact(".gdb_index", SHT_PROGBITS, 0, 0, 0),
            fact(".note.kept", SHT_NOTE, 0, 0, 0),
        ],
    };
    use Fate::{Drop, Keep, Placeholder};
    assert_eq!(
        table.strip_fates().expect("fates"),
        [
            Keep,
            Keep,
            Keep,
            Placeholder,
            Keep,
            Keep,
            Drop,
            Drop,
            Drop,
            Keep,
            Drop,
            Keep,
            Drop,
            Keep
        ]
    );
    let stripped = table.stripped().expect("ok").expect("changed");
    assert_eq!(stripped.shstrndx, 6);
    let names: Vec<&str> = stripped.sections.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "",
            ".dynsym",
            ".dynstr",
            "",
            ".text",
            ".comment",
            ".shstrtab",
            ".gnu_debuglink",
            ".note.kept"
        ]
    );
    assert_eq!(stripped.sections[3], SectionFact::default());
    assert_eq!(stripped.sections[1].sh_link, 2);
    // An allocated section that refers to the symbol table: refused.
    let mut bad = table.clone();
    bad.sections[4].sh_link = 7;
    insta::assert_snapshot!(bad.strip_fates().expect_err("refused"), @"the allocated section `.text` refers to `.symtab`, which strip removes");
    // A string table that a kept section also uses stays.
    let mut shared = table.clone();
    shared.sections[5].sh_link = 8;
    assert_eq!(shared.strip_fates().expect("fates")[8], Keep);
    // Nothing to strip.
    let mut clean = table;
    clean.sections.truncate(6);
    clean.shstrndx = 5;
    clean.sections[3] = fact(".rela.dyn", SHT_RELA, SHF_ALLOC, 1, 0);
    assert_eq!(clean.stripped(), Ok(None));
}

/// Flips bytes of real fixtures and truncates them: planning must return, never panic.
#[test]
fn damaged_files_do_not_panic() {
    let files = [
        "root64/app/libglibc234.so",
        "root32/app/libsyms.so",
        "edit/64/liblld.so",
        "edit/32/libvuser.so",
        "edit/64/liblldmin.so",
        "edit/32/pie",
        "edit/64/exe",
        "edit/64/libdebug.so",
        "edit/32/libdebugq.so",
        "edit/64/libdebuglld.so",
    ];
    let mut edits = combined("libvdep.so.1", "libvdep-aaaaaaaa.so.1");
    edits
        .replace_needed
        .push(("libc.so.6".into(), "libc-aaaaaaaa.so.6".into()));
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    for file in files {
        let original = fixture(file);
        for round in 0..1500 {
            edits.strip = round % 3 != 0;
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mut data = original.clone();
            let at = usize::try_from(state % data.len() as u64).expect("index");
            if round % 7 == 0 {
                data.truncate(at);
            } else {
                // Damage the headers and tables more often than code.
                let at = if round % 2 == 0 {
                    at % 1024.min(data.len())
                } else {
                    at
                };
                data[at] ^= u8::try_from(state >> 56).expect("byte") | 1;
            }
            if let Ok(patch) = plan(&data, &edits) {
                let output = patch.apply_to_vec(&data);
                let mut streamed = Vec::new();
                patch
                    .write_to(&mut std::io::Cursor::new(&data), &mut streamed)
                    .expect("write_to");
                assert_eq!(streamed, output);
                let mut viewed = vec![0u8; output.len()];
                PatchedView::new(&data, &patch)
                    .read_exact_at(0, &mut viewed)
                    .expect("view");
                assert_eq!(viewed, output);
            }
        }
    }
}
