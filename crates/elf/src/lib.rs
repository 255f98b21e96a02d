//! ELF analysis: the facts about one ELF file that auditing needs.
//!
//! The reader is deliberately lean: it parses the ELF header, the program headers (for
//! `PT_INTERP` and `PT_DYNAMIC`), the section headers (for `.dynsym`, `.gnu.version`,
//! `.gnu.version_r` and note sections) and nothing else, so that multi-megabyte extension
//! modules and system libraries are analysed without walking relocations or `.symtab`.
//! Section look-ups follow pyelftools (by name), which is what auditwheel uses, so that both
//! tools read the same tables.
//!
//! The editor's parts: `read` (random access, errors, encoding, headers), [`strip`] (what
//! `strip -s` removes; the analysis asks it whether a file has anything to strip), `patch` (the
//! planned bytes and their streaming) and [`edit`] (planning and verifying edits). The analysis
//! here uses `read` and [`strip`], never [`edit`].

pub mod edit;
mod patch;
mod read;
pub mod strip;

pub use read::ElfError;

use goblin::container::{Container, Ctx, Endian};
use goblin::elf::dynamic::Dynamic;
use goblin::elf::header::{self, Header};
use goblin::elf::program_header::{self, ProgramHeader};
use goblin::elf::section_header::{self, SectionHeader};
use goblin::elf::sym::{self, Symtab};
use goblin::elf::symver::{VerneedSection, VersymSection};
use goblin::strtab::Strtab;

use wheelwright_platform::Arch;

/// `NT_GNU_PROPERTY_TYPE_0`: the note type that carries GNU properties.
const NT_GNU_PROPERTY_TYPE_0: u32 = 5;
/// `GNU_PROPERTY_X86_ISA_1_NEEDED`: the x86 ISA levels a file needs.
const GNU_PROPERTY_X86_ISA_1_NEEDED: u32 = 0xc000_8002;
/// `ELFOSABI_NONE` (System V).
const ELFOSABI_NONE: u8 = 0;
/// `ELFOSABI_GNU` (also known as `ELFOSABI_LINUX`).
const ELFOSABI_GNU: u8 = 3;
/// ARM EABI version mask and value for version 5.
const EF_ARM_EABIMASK: u32 = 0xFF00_0000;
const EF_ARM_EABI_VER5: u32 = 0x0500_0000;
/// ARM hard-float ABI flag.
const EF_ARM_ABI_FLOAT_HARD: u32 = 0x0000_0400;

/// The x86-64 micro-architecture level an ELF file declares it needs
/// (`GNU_PROPERTY_X86_ISA_1_NEEDED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum IsaLevel {
    /// Ex) `x86-64-v2`
    #[serde(rename = "x86_64_v2")]
    V2,
    /// Ex) `x86-64-v3`
    #[serde(rename = "x86_64_v3")]
    V3,
    /// Ex) `x86-64-v4`
    #[serde(rename = "x86_64_v4")]
    V4,
}

impl std::fmt::Display for IsaLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            IsaLevel::V2 => "x86-64-v2",
            IsaLevel::V3 => "x86-64-v3",
            IsaLevel::V4 => "x86-64-v4",
        })
    }
}

/// The identity used to decide whether a library may satisfy a dependency of another ELF:
/// class, byte order, machine and OS ABI must be compatible (ld.so's and auditwheel's rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ElfPlatform {
    /// `true` for ELFCLASS64.
    pub is_64: bool,
    /// `true` for little-endian.
    pub little_endian: bool,
    /// `e_machine`.
    pub machine: u16,
    /// `EI_OSABI`.
    pub osabi: u8,
}

impl ElfPlatform {
    /// Whether an object of platform `other` can be loaded next to one of this platform.
    #[must_use]
    pub fn is_compatible(&self, other: &ElfPlatform) -> bool {
        let osabi_ok = self.osabi == other.osabi
            || (matches!(self.osabi, ELFOSABI_NONE | ELFOSABI_GNU)
                && matches!(other.osabi, ELFOSABI_NONE | ELFOSABI_GNU));
        osabi_ok
            && self.is_64 == other.is_64
            && self.little_endian == other.little_endian
            && self.machine == other.machine
    }
}

/// One required symbol version from `.gnu.version_r`, with the symbols that use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRequirement {
    /// `vn_file`: the SONAME of the library that provides the version. Ex) `libc.so.6`
    pub file: String,
    /// `vna_name`. Ex) `GLIBC_2.17`
    pub version: String,
    /// Undefined dynamic symbols bound to this version. Ex) `memcpy`
    pub symbols: Vec<String>,
}

/// Everything auditing needs to know about one ELF file.
#[derive(Debug, Clone)]
pub struct ElfInfo {
    /// Class, byte order, machine, OS ABI.
    pub platform: ElfPlatform,
    /// `e_type` (`ET_DYN`, `ET_EXEC`, …).
    pub e_type: u16,
    /// `e_flags`.
    pub e_flags: u32,
    /// The `PT_INTERP` path, if any. Ex) `/lib64/ld-linux-x86-64.so.2`
    pub interpreter: Option<String>,
    /// `DT_SONAME`.
    pub soname: Option<String>,
    /// `DT_NEEDED` entries in order.
    pub needed: Vec<String>,
    /// `DT_RPATH` (the last one wins, like pyelftools-based lddtree), unexpanded.
    pub rpath: Option<String>,
    /// `DT_RUNPATH`, unexpanded.
    pub runpath: Option<String>,
    /// `.gnu.version_r` requirements in file order.
    pub version_requirements: Vec<VersionRequirement>,
    /// Undefined, non-weak dynamic symbols (the blacklist check).
    pub undefined_symbols: Vec<String>,
    /// Non-local dynamic symbols named `Py*` or `_Py*`, defined or not, in `.dynsym` order (the
    /// abi3 audit).
    pub python_symbols: Vec<String>,
    /// Defined `STT_FUNC` dynamic symbols that look like module initialisers
    /// (`PyInit_*`, `init*`, `_cffi_pypyinit_*`).
    pub init_functions: Vec<String>,
    /// Whether an undefined `PyFPE_jbuf`/`PyFPE_dummy`/`PyFPE_counter` is referenced.
    pub uses_pyfpe_jbuf: bool,
    /// Whether an undefined `PyUnicodeUCS2_*` function is referenced.
    pub uses_ucs2_symbols: bool,
    /// The declared x86-64 ISA level above baseline, if any.
    pub isa_level: Option<IsaLevel>,
    /// Set when the ISA note carries bits wheelwright does not know.
    pub unknown_isa: bool,
    /// Whether `strip -s` would remove sections: a symbol table or debugging information
    /// ([`strip::strip_would_remove`]).
    pub strippable: bool,
}

impl ElfInfo {
    /// The baseline architecture, or an explanation why there is none.
    pub fn arch(&self) -> Result<Arch, &'static str> {
        let p = &self.platform;
        let arch = match (p.machine, p.is_64, p.little_endian) {
            (header::EM_386, false, true) => Arch::I686,
            (header::EM_X86_64, true, true) => Arch::X86_64,
            (header::EM_PPC64, true, true) => Arch::Ppc64le,
            (header::EM_PPC64, true, false) => Arch::Ppc64,
            (header::EM_RISCV, true, true) => Arch::Riscv64,
            (header::EM_AARCH64, true, true) => Arch::Aarch64,
            (header::EM_S390, true, false) => Arch::S390x,
            (header::EM_ARM, false, true) => {
                if self.e_flags & EF_ARM_EABIMASK != EF_ARM_EABI_VER5 {
                    return Err("invalid ARM EABI version for armv7l");
                }
                if self.e_flags & EF_ARM_ABI_FLOAT_HARD != EF_ARM_ABI_FLOAT_HARD {
                    return Err("armv7l shall use hard-float");
                }
                Arch::Armv7l
            }
            (header::EM_LOONGARCH, true, true) => Arch::Loongarch64,
            _ => return Err("unknown architecture"),
        };
        Ok(arch)
    }

    /// Whether this file defines the initialiser of the Python module `module`
    /// (the file name up to the first dot). Returns the Python major version it implies.
    #[must_use]
    pub fn python_extension_version(&self, module: &str) -> Option<u8> {
        self.init_functions.iter().find_map(|name| {
            if name.strip_prefix("PyInit_") == Some(module) {
                Some(3)
            } else if name.strip_prefix("init") == Some(module)
                || name.strip_prefix("_cffi_pypyinit_") == Some(module)
            {
                Some(2)
            } else {
                None
            }
        })
    }

    /// `(vn_file, version)` pairs, skipping the dynamic loader's own entries.
    pub fn versioned_symbols(&self) -> impl Iterator<Item = (&str, &str)> {
        self.version_requirements
            .iter()
            .filter(|r| !is_loader_name(&r.file))
            .map(|r| (r.file.as_str(), r.version.as_str()))
    }
}

/// Whether `name` is the dynamic loader (`ld-linux*`, `ld64.so.1`, `ld64.so.2`).
#[must_use]
pub fn is_loader_name(name: &str) -> bool {
    name.starts_with("ld-linux") || name == "ld64.so.2" || name == "ld64.so.1"
}

/// Whether `data` starts with the ELF magic.
#[must_use]
pub fn is_elf(data: &[u8]) -> bool {
    data.starts_with(b"\x7fELF")
}

/// Reads only the identity of an ELF file from its first bytes (at least 64).
pub fn read_platform(data: &[u8]) -> Result<(ElfPlatform, u32), ElfError> {
    if !is_elf(data) {
        return Err(ElfError::NotElf);
    }
    let header = parse_header(data)?;
    Ok((platform_of(&header), header.e_flags))
}

fn parse_header(data: &[u8]) -> Result<Header, ElfError> {
    if data.len() < header::header32::SIZEOF_EHDR {
        return Err(ElfError::Malformed(
            "file is shorter than an ELF header".into(),
        ));
    }
    let class = data[header::EI_CLASS];
    if class != header::ELFCLASS32 && class != header::ELFCLASS64 {
        return Err(ElfError::Malformed(format!("unknown ELF class {class}")));
    }
    if class == header::ELFCLASS64 && data.len() < header::header64::SIZEOF_EHDR {
        return Err(ElfError::Malformed(
            "file is shorter than an ELF header".into(),
        ));
    }
    let endian = data[header::EI_DATA];
    if endian != header::ELFDATA2LSB && endian != header::ELFDATA2MSB {
        return Err(ElfError::Malformed(format!(
            "unknown ELF byte order {endian}"
        )));
    }
    Ok(goblin::elf::Elf::parse_header(data)?)
}

fn platform_of(header: &Header) -> ElfPlatform {
    ElfPlatform {
        is_64: header.e_ident[header::EI_CLASS] == header::ELFCLASS64,
        little_endian: header.e_ident[header::EI_DATA] == header::ELFDATA2LSB,
        machine: header.e_machine,
        osabi: header.e_ident[header::EI_OSABI],
    }
}

fn ctx_of(platform: &ElfPlatform) -> Ctx {
    let container = if platform.is_64 {
        Container::Big
    } else {
        Container::Little
    };
    let endian = if platform.little_endian {
        Endian::Little
    } else {
        Endian::Big
    };
    Ctx::new(container, endian)
}

/// The program and section header tables (either may be empty).
fn header_tables(
    data: &[u8],
    header: &Header,
    ctx: Ctx,
) -> Result<(Vec<ProgramHeader>, Vec<SectionHeader>), ElfError> {
    let program_headers = if header.e_phnum == 0 {
        Vec::new()
    } else {
        let phoff = usize::try_from(header.e_phoff)
            .map_err(|_| ElfError::Malformed("program header offset out of range".into()))?;
        ProgramHeader::parse(data, phoff, usize::from(header.e_phnum), ctx)?
    };
    let section_headers = if header.e_shoff == 0 || header.e_shnum == 0 {
        Vec::new()
    } else {
        let shoff = usize::try_from(header.e_shoff)
            .map_err(|_| ElfError::Malformed("section header offset out of range".into()))?;
        SectionHeader::parse(data, shoff, usize::from(header.e_shnum), ctx)?
    };
    Ok((program_headers, section_headers))
}

fn section_name<'a>(shstrtab: &Strtab<'a>, shdr: &SectionHeader) -> Option<&'a str> {
    shstrtab.get_at(shdr.sh_name)
}

fn slice_of<'a>(data: &'a [u8], offset: u64, size: u64, what: &str) -> Result<&'a [u8], ElfError> {
    let start = usize::try_from(offset)
        .map_err(|_| ElfError::Malformed(format!("{what} offset out of range")))?;
    let len = usize::try_from(size)
        .map_err(|_| ElfError::Malformed(format!("{what} size out of range")))?;
    let end = start
        .checked_add(len)
        .ok_or_else(|| ElfError::Malformed(format!("{what} extends past the end of the file")))?;
    data.get(start..end)
        .ok_or_else(|| ElfError::Malformed(format!("{what} extends past the end of the file")))
}

/// Analyses an ELF file held in memory.
pub fn analyze(data: &[u8]) -> Result<ElfInfo, ElfError> {
    if !is_elf(data) {
        return Err(ElfError::NotElf);
    }
    let header = parse_header(data)?;
    let platform = platform_of(&header);
    let ctx = ctx_of(&platform);

    let (program_headers, section_headers) = header_tables(data, &header, ctx)?;
    let shstrtab = match section_headers.get(usize::from(header.e_shstrndx)) {
        Some(sh) if sh.sh_type == section_header::SHT_STRTAB => {
            let bytes = slice_of(data, sh.sh_offset, sh.sh_size, "section name table")?;
            Strtab::parse(bytes, 0, bytes.len(), 0)?
        }
        _ => Strtab::default(),
    };
    let find_section = |name: &str| {
        section_headers
            .iter()
            .find(|sh| section_name(&shstrtab, sh) == Some(name))
    };

    let mut interpreter = None;
    for ph in &program_headers {
        if ph.p_type == program_header::PT_INTERP && ph.p_filesz != 0 {
            let bytes = slice_of(data, ph.p_offset, ph.p_filesz, "PT_INTERP")?;
            let end = memchr::memchr(0, bytes).unwrap_or(bytes.len());
            interpreter = Some(String::from_utf8_lossy(&bytes[..end]).into_owned());
            break;
        }
    }

    // Dynamic tags come from PT_DYNAMIC, like the loader (and lddtree) read them.
    let mut soname = None;
    let mut needed = Vec::new();
    let mut rpath = None;
    let mut runpath = None;
    if let Some(dynamic) = Dynamic::parse(data, &program_headers, ctx)? {
        let info = &dynamic.info;
        let dynstr = if info.strsz == 0 {
            Strtab::default()
        } else {
            let bytes = slice_of(
                data,
                info.strtab as u64,
                info.strsz as u64,
                "dynamic string table",
            )?;
            Strtab::parse(bytes, 0, bytes.len(), 0)?
        };
        let get = |offset: u64| -> Result<String, ElfError> {
            usize::try_from(offset)
                .ok()
                .and_then(|o| dynstr.get_at(o))
                .map(str::to_owned)
                .ok_or_else(|| {
                    ElfError::Malformed("dynamic entry points outside the string table".into())
                })
        };
        for entry in &dynamic.dyns {
            match entry.d_tag {
                goblin::elf::dynamic::DT_NEEDED => needed.push(get(entry.d_val)?),
                goblin::elf::dynamic::DT_SONAME => soname = Some(get(entry.d_val)?),
                goblin::elf::dynamic::DT_RPATH => rpath = Some(get(entry.d_val)?),
                goblin::elf::dynamic::DT_RUNPATH => runpath = Some(get(entry.d_val)?),
                _ => {}
            }
        }
    }

    // Version requirements (`.gnu.version_r`), resolved against their linked string table.
    let mut version_requirements = Vec::new();
    let mut version_index: Vec<(u16, usize)> = Vec::new(); // (vna_other, index into version_requirements)
    if let Some(sh) = find_section(".gnu.version_r") {
        let linked = linked_strtab(data, &section_headers, sh)?;
        // goblin finds the section by type; hand it just this header.
        let mut shdr = sh.clone();
        shdr.sh_type = section_header::SHT_GNU_VERNEED;
        if let Some(verneed) = VerneedSection::parse(data, std::slice::from_ref(&shdr), ctx)? {
            for need in verneed.iter() {
                let file = linked
                    .get_at(need.vn_file)
                    .ok_or_else(|| {
                        ElfError::Malformed("version requirement file name out of range".into())
                    })?
                    .to_owned();
                for aux in need.iter() {
                    let version = linked
                        .get_at(aux.vna_name)
                        .ok_or_else(|| {
                            ElfError::Malformed("version requirement name out of range".into())
                        })?
                        .to_owned();
                    version_index.push((aux.vna_other, version_requirements.len()));
                    version_requirements.push(VersionRequirement {
                        file: file.clone(),
                        version,
                        symbols: Vec::new(),
                    });
                }
            }
        }
    }

    // Dynamic symbols (`.dynsym`), with their versions from `.gnu.version`.
    let mut undefined_symbols = Vec::new();
    let mut python_symbols = Vec::new();
    let mut init_functions = Vec::new();
    let mut uses_pyfpe_jbuf = false;
    let mut uses_ucs2_symbols = false;
    if let Some(sh) = find_section(".dynsym") {
        let entsize = if sh.sh_entsize == 0 {
            sym::Sym::size(ctx.container) as u64
        } else {
            sh.sh_entsize
        };
        let count = usize::try_from(sh.sh_size / entsize).unwrap_or(0);
        let bytes = slice_of(data, sh.sh_offset, count as u64 * entsize, ".dynsym")?;
        let symtab = Symtab::parse(bytes, 0, count, ctx)?;
        let strtab = linked_strtab(data, &section_headers, sh)?;
        let versym = match find_section(".gnu.version") {
            Some(vsh) => {
                let mut shdr = vsh.clone();
                shdr.sh_type = section_header::SHT_GNU_VERSYM;
                VersymSection::parse(data, std::slice::from_ref(&shdr), ctx)?
            }
            None => None,
        };
        for (index, symbol) in symtab.iter().enumerate() {
            let Some(name) = strtab.get_at(symbol.st_name) else {
                continue;
            };
            let undefined = symbol.st_shndx == section_header::SHN_UNDEF as usize;
            let kind = symbol.st_type();
            // Local and STB_GNU_UNIQUE (10) bindings are not part of the interface.
            if (name.starts_with("Py") || name.starts_with("_Py"))
                && !matches!(symbol.st_bind(), sym::STB_LOCAL | 10)
            {
                python_symbols.push(name.to_owned());
            }
            if undefined {
                if symbol.st_bind() != sym::STB_WEAK {
                    undefined_symbols.push(name.to_owned());
                }
                if matches!(name, "PyFPE_jbuf" | "PyFPE_dummy" | "PyFPE_counter")
                    && matches!(kind, sym::STT_FUNC | sym::STT_NOTYPE)
                {
                    uses_pyfpe_jbuf = true;
                }
                if name.contains("PyUnicodeUCS2_") && kind == sym::STT_FUNC {
                    uses_ucs2_symbols = true;
                }
                if let Some(vs) = versym.as_ref().and_then(|v| v.get_at(index)) {
                    let version = vs.version();
                    if version > 1 {
                        if let Some(&(_, req)) =
                            version_index.iter().find(|(other, _)| *other == version)
                        {
                            version_requirements[req].symbols.push(name.to_owned());
                        }
                    }
                }
            } else if kind == sym::STT_FUNC
                && (name.starts_with("PyInit_")
                    || name.starts_with("init")
                    || name.starts_with("_cffi_pypyinit_"))
            {
                init_functions.push(name.to_owned());
            }
        }
    }

    // x86-64 ISA level from GNU property notes in note sections (as auditwheel reads them).
    let mut isa_level = None;
    let mut unknown_isa = false;
    if header.e_machine == header::EM_X86_64 && platform.is_64 {
        for sh in section_headers
            .iter()
            .filter(|sh| sh.sh_type == section_header::SHT_NOTE)
        {
            let Ok(bytes) = slice_of(data, sh.sh_offset, sh.sh_size, "note section") else {
                continue;
            };
            if let Some((level, unknown)) =
                gnu_isa_needed(bytes, platform.little_endian, platform.is_64)
            {
                if let Some(level) = level {
                    isa_level = Some(level);
                }
                unknown_isa |= unknown;
            }
        }
    }

    Ok(ElfInfo {
        platform,
        e_type: header.e_type,
        e_flags: header.e_flags,
        interpreter,
        soname,
        needed,
        rpath,
        runpath,
        version_requirements,
        undefined_symbols,
        python_symbols,
        init_functions,
        uses_pyfpe_jbuf,
        uses_ucs2_symbols,
        isa_level,
        unknown_isa,
        strippable: strip::strip_would_remove(data),
    })
}

/// Analyses an ELF file on disk without reading it whole: only the headers and the tables the
/// analysis needs are read into an otherwise untouched zero buffer (whose pages the kernel does
/// not back until written), so a file of hundreds of megabytes costs a few pages of memory.
pub fn analyze_file(file: &std::fs::File) -> Result<ElfInfo, ElfError> {
    use std::os::unix::fs::FileExt as _;
    let len = file.metadata().map_err(ElfError::Io)?.len();
    let size = usize::try_from(len).map_err(|_| ElfError::Malformed("file too large".into()))?;
    let mut buf = vec![0u8; size];
    let fill = |buf: &mut [u8], offset: u64, count: u64| -> Result<(), ElfError> {
        let start = offset.min(len);
        let end = offset.saturating_add(count).min(len);
        if end > start {
            let (s, e) = (
                usize::try_from(start).unwrap_or(size),
                usize::try_from(end).unwrap_or(size),
            );
            file.read_exact_at(&mut buf[s..e], start)
                .map_err(ElfError::Io)?;
        }
        Ok(())
    };
    fill(&mut buf, 0, 64)?;
    if !is_elf(&buf) {
        return Err(ElfError::NotElf);
    }
    let header = parse_header(&buf)?;
    let platform = platform_of(&header);
    let ctx = ctx_of(&platform);
    fill(
        &mut buf,
        header.e_phoff,
        u64::from(header.e_phnum) * u64::from(header.e_phentsize),
    )?;
    fill(
        &mut buf,
        header.e_shoff,
        u64::from(header.e_shnum) * u64::from(header.e_shentsize),
    )?;
    let (program_headers, section_headers) = header_tables(&buf, &header, ctx)?;
    let mut wanted_strtabs: Vec<usize> = vec![usize::from(header.e_shstrndx)];
    for sh in &section_headers {
        match sh.sh_type {
            section_header::SHT_DYNSYM
            | section_header::SHT_DYNAMIC
            | section_header::SHT_NOTE
            | section_header::SHT_GNU_VERSYM
            | section_header::SHT_GNU_VERNEED
            | section_header::SHT_GNU_VERDEF
            | section_header::SHT_HASH
            | section_header::SHT_GNU_HASH => {
                fill(&mut buf, sh.sh_offset, sh.sh_size)?;
                wanted_strtabs.push(sh.sh_link as usize);
            }
            _ => {}
        }
    }
    for index in wanted_strtabs {
        if let Some(sh) = section_headers.get(index) {
            if sh.sh_type == section_header::SHT_STRTAB {
                fill(&mut buf, sh.sh_offset, sh.sh_size)?;
            }
        }
    }
    for ph in &program_headers {
        if matches!(
            ph.p_type,
            program_header::PT_INTERP
                | program_header::PT_DYNAMIC
                | program_header::PT_NOTE
                | program_header::PT_GNU_PROPERTY
        ) {
            fill(&mut buf, ph.p_offset, ph.p_filesz)?;
        }
    }
    if let Ok(Some(dynamic)) = Dynamic::parse(&buf, &program_headers, ctx) {
        fill(
            &mut buf,
            dynamic.info.strtab as u64,
            dynamic.info.strsz as u64,
        )?;
    }
    analyze(&buf)
}

fn linked_strtab<'a>(
    data: &'a [u8],
    section_headers: &[SectionHeader],
    sh: &SectionHeader,
) -> Result<Strtab<'a>, ElfError> {
    let Some(link) = section_headers.get(sh.sh_link as usize) else {
        return Err(ElfError::Malformed(
            "section links to a missing string table".into(),
        ));
    };
    let bytes = slice_of(data, link.sh_offset, link.sh_size, "string table")?;
    Ok(Strtab::parse(bytes, 0, bytes.len(), 0)?)
}

/// Finds the first `NT_GNU_PROPERTY_TYPE_0` note named `GNU` in a note section and reads
/// its `GNU_PROPERTY_X86_ISA_1_NEEDED` property. Returns `(level, unknown bits seen)`.
fn gnu_isa_needed(
    section: &[u8],
    little_endian: bool,
    is_64: bool,
) -> Option<(Option<IsaLevel>, bool)> {
    let read_u32 = |bytes: &[u8], at: usize| -> Option<u32> {
        let raw: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
        Some(if little_endian {
            u32::from_le_bytes(raw)
        } else {
            u32::from_be_bytes(raw)
        })
    };
    let align4 = |n: usize| n.div_ceil(4) * 4;
    let mut offset = 0usize;
    while offset + 12 < section.len() {
        let namesz = read_u32(section, offset)? as usize;
        let descsz = read_u32(section, offset + 4)? as usize;
        let n_type = read_u32(section, offset + 8)?;
        let name_start = offset + 12;
        let name = section.get(name_start..name_start.checked_add(namesz)?)?;
        let desc_start = name_start + align4(namesz);
        let desc = section.get(desc_start..desc_start.checked_add(descsz)?)?;
        let name = name.split(|&b| b == 0).next().unwrap_or_default();
        if n_type == NT_GNU_PROPERTY_TYPE_0 && name == b"GNU" {
            let pad = if is_64 { 8 } else { 4 };
            let mut at = 0usize;
            while at + 8 <= desc.len() {
                let pr_type = read_u32(desc, at)?;
                let pr_datasz = read_u32(desc, at + 4)? as usize;
                if pr_type == GNU_PROPERTY_X86_ISA_1_NEEDED && pr_datasz == 4 {
                    let mut bits = read_u32(desc, at + 8)?;
                    bits &= !1; // baseline
                    let level = if bits & 8 == 8 {
                        Some(IsaLevel::V4)
                    } else if bits & 4 == 4 {
                        Some(IsaLevel::V3)
                    } else if bits & 2 == 2 {
                        Some(IsaLevel::V2)
                    } else {
                        None
                    };
                    return Some((level, level.is_none() && bits != 0));
                }
                at += 8 + pr_datasz.div_ceil(pad) * pad;
            }
            return Some((None, false));
        }
        offset = desc_start + align4(descsz);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_non_elf() {
        assert!(matches!(analyze(b"#!/bin/sh\n"), Err(ElfError::NotElf)));
    }

    #[test]
    fn truncated_header_is_an_error_not_a_panic() {
        let mut data = b"\x7fELF\x02\x01\x01".to_vec();
        data.resize(20, 0);
        assert!(matches!(analyze(&data), Err(ElfError::Malformed(_))));
    }

    #[test]
    fn reads_own_test_binary() {
        // The test binary itself is an ELF file for the host architecture.
        let exe = std::env::current_exe().expect("current exe");
        let data = fs_err::read(exe).expect("read exe");
        let info = analyze(&data).expect("analyze");
        assert!(info.needed.iter().any(|n| n.starts_with("libc.so")));
        assert!(
            info.versioned_symbols()
                .any(|(file, v)| file == "libc.so.6" && v.starts_with("GLIBC_"))
        );
        let req = info
            .version_requirements
            .iter()
            .find(|r| r.file == "libc.so.6")
            .expect("libc requirement");
        assert!(
            !req.symbols.is_empty()
                || info
                    .version_requirements
                    .iter()
                    .any(|r| !r.symbols.is_empty())
        );
    }

    #[test]
    fn osabi_compatibility() {
        let a = ElfPlatform {
            is_64: true,
            little_endian: true,
            machine: header::EM_X86_64,
            osabi: 0,
        };
        let b = ElfPlatform { osabi: 3, ..a };
        let c = ElfPlatform { osabi: 9, ..a };
        let d = ElfPlatform { is_64: false, ..a };
        assert!(a.is_compatible(&b));
        assert!(!a.is_compatible(&c));
        assert!(!a.is_compatible(&d));
    }
}

#[cfg(test)]
mod robustness {
    use super::*;

    /// Flips bytes of real fixture files and truncates them: `analyze` must return, never panic.
    #[test]
    fn damaged_elf_files_do_not_panic() {
        let root =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/elf");
        let files = [
            "root64/app/fake.cpython-311-x86_64-linux-gnu.so",
            "root64/app/libglibc234.so",
            "root32/app/libsyms.so",
            "root64/app/libisa_v3.so",
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for file in files {
            let original = fs_err::read(root.join(file)).expect("fixture");
            for round in 0..2000 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let mut data = original.clone();
                let at = usize::try_from(state % data.len() as u64).expect("index");
                if round % 5 == 0 {
                    data.truncate(at);
                } else {
                    data[at] = data[at].wrapping_add(u8::try_from(state >> 56).expect("byte") | 1);
                }
                let _ = analyze(&data);
            }
        }
    }
}

#[cfg(test)]
mod file_tests {
    use super::*;

    /// The sparse file reader sees exactly what the in-memory reader sees.
    #[test]
    fn analyze_file_matches_analyze() {
        let root =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/elf");
        let mut checked = 0;
        for dir in [
            "root64/app",
            "root32/app",
            "root64/usr/lib",
            "root64/opt/extra/lib",
            "edit",
        ] {
            let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if !path.is_file() {
                    continue;
                }
                let data = fs_err::read(&path).expect("read");
                let in_memory = analyze(&data);
                let file = std::fs::File::open(&path).expect("open");
                let sparse = analyze_file(&file);
                assert_eq!(
                    format!("{in_memory:?}"),
                    format!("{sparse:?}"),
                    "{}",
                    path.display()
                );
                checked += 1;
            }
        }
        let exe = std::env::current_exe().expect("exe");
        let data = fs_err::read(&exe).expect("read");
        let file = std::fs::File::open(&exe).expect("open");
        assert_eq!(
            format!("{:?}", analyze(&data)),
            format!("{:?}", analyze_file(&file))
        );
        assert!(checked > 20, "{checked}");
    }
}
