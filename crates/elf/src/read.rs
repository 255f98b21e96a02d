//! The ELF reader under the editor and the strip planner: random access to a file's bytes
//! ([`ReadAt`]), the errors, the constants and field encoding, and the headers (ELF header,
//! program and section header tables) read without loading the file.

use std::io;

// ---------------------------------------------------------------------------------------------
// Random access
// ---------------------------------------------------------------------------------------------

/// Random read access to the bytes of a file, without a shared cursor.
pub trait ReadAt {
    /// The length of the data in bytes.
    fn len(&self) -> u64;

    /// Whether the data is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Fills `buf` with the bytes starting at `offset`; fails with
    /// [`io::ErrorKind::UnexpectedEof`] if the data ends first.
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()>;
}

pub(super) fn eof() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "read past the end of the data",
    )
}

impl ReadAt for [u8] {
    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let source = usize::try_from(offset).ok().and_then(|start| {
            let end = start.checked_add(buf.len())?;
            self.get(start..end)
        });
        let source = source.ok_or_else(eof)?;
        buf.copy_from_slice(source);
        Ok(())
    }
}

impl ReadAt for Vec<u8> {
    fn len(&self) -> u64 {
        self.as_slice().len() as u64
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.as_slice().read_exact_at(offset, buf)
    }
}

impl ReadAt for std::fs::File {
    /// The file's current length; 0 if its metadata cannot be read (every read then fails).
    fn len(&self) -> u64 {
        self.metadata().map_or(0, |m| m.len())
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        std::os::unix::fs::FileExt::read_exact_at(self, buf, offset)
    }
}

impl ReadAt for fs_err::File {
    fn len(&self) -> u64 {
        ReadAt::len(self.file())
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        ReadAt::read_exact_at(self.file(), offset, buf)
    }
}

impl<T: ReadAt + ?Sized> ReadAt for &T {
    fn len(&self) -> u64 {
        (**self).len()
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        (**self).read_exact_at(offset, buf)
    }
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Why an ELF file could not be analysed.
#[derive(Debug, thiserror::Error)]
pub enum ElfError {
    /// The data does not start with the ELF magic.
    #[error("not an ELF file")]
    NotElf,
    /// The file is cut short or a table points outside of it.
    #[error("malformed ELF file: {0}")]
    Malformed(String),
    /// Reading the file failed.
    #[error("cannot read the ELF file")]
    Io(#[source] std::io::Error),
}

impl From<goblin::error::Error> for ElfError {
    fn from(err: goblin::error::Error) -> Self {
        ElfError::Malformed(err.to_string())
    }
}

/// Why an ELF file could not be edited.
#[derive(Debug, thiserror::Error)]
pub enum ElfEditError {
    /// The data does not start with the ELF magic.
    #[error("not an ELF file")]
    NotElf,
    /// A header, table or string is cut short or points outside the file.
    #[error("malformed ELF file: {0}")]
    Malformed(String),
    /// A valid file this editor does not handle. Ex) `unsupported ELF file: machine MIPS`
    #[error("unsupported ELF file: {0}")]
    Unsupported(String),
    /// Reading the input failed.
    #[error("cannot read the ELF file")]
    Io(#[source] io::Error),
    /// The patched file does not have the intended contents or layout.
    #[error("the patched ELF file failed verification: {0}")]
    Verification(String),
    /// The patched file could not be analysed by [`crate::analyze`].
    #[error("the patched ELF file cannot be analysed")]
    Analysis(#[source] ElfError),
}

// ---------------------------------------------------------------------------------------------
// ELF constants and encoding
// ---------------------------------------------------------------------------------------------

pub(super) const ET_EXEC: u16 = 2;
pub(super) const ET_DYN: u16 = 3;
pub(super) const EM_MIPS: u16 = 8;
pub(super) const EM_MIPS_RS3_LE: u16 = 10;
pub(super) const EM_386: u16 = 3;
pub(super) const EM_X86_64: u16 = 62;
pub(super) const PT_LOAD: u32 = 1;
pub(super) const PT_DYNAMIC: u32 = 2;
pub(super) const PT_INTERP: u32 = 3;
pub(super) const PT_NOTE: u32 = 4;
pub(super) const PT_PHDR: u32 = 6;
pub(super) const PT_GNU_PROPERTY: u32 = 0x6474_e553;
pub(super) const PF_W: u32 = 2;
pub(super) const PF_R: u32 = 4;
pub(super) const SHT_NULL: u32 = 0;
pub(super) const SHT_PROGBITS: u32 = 1;
pub(super) const SHT_SYMTAB: u32 = 2;
pub(super) const SHT_STRTAB: u32 = 3;
pub(super) const SHT_HASH: u32 = 5;
pub(super) const SHT_DYNAMIC: u32 = 6;
pub(super) const SHT_NOTE: u32 = 7;
pub(super) const SHT_NOBITS: u32 = 8;
pub(super) const SHT_REL: u32 = 9;
pub(super) const SHT_RELA: u32 = 4;
pub(super) const SHT_DYNSYM: u32 = 11;
pub(super) const SHT_SYMTAB_SHNDX: u32 = 18;
pub(super) const SHT_GNU_HASH: u32 = 0x6fff_fff6;
pub(super) const SHT_GNU_VERDEF: u32 = 0x6fff_fffd;
pub(super) const SHT_GNU_VERNEED: u32 = 0x6fff_fffe;
pub(super) const SHT_GNU_VERSYM: u32 = 0x6fff_ffff;
pub(super) const SHF_WRITE: u64 = 1;
pub(super) const SHF_ALLOC: u64 = 2;
pub(super) const SHF_EXECINSTR: u64 = 4;
pub(super) const SHF_INFO_LINK: u64 = 0x40;
/// `e_shstrndx` escape: the index is in section 0's `sh_link`.
pub(super) const SHN_XINDEX: u16 = 0xffff;
/// Section indices from here on are reserved (`SHN_LORESERVE`).
pub(super) const SHN_LORESERVE: u64 = 0xff00;
pub(super) const DT_NULL: u64 = 0;
pub(super) const DT_NEEDED: u64 = 1;
pub(super) const DT_HASH: u64 = 4;
pub(super) const DT_STRTAB: u64 = 5;
pub(super) const DT_SYMTAB: u64 = 6;
pub(super) const DT_STRSZ: u64 = 10;
pub(super) const DT_SONAME: u64 = 14;
pub(super) const DT_RPATH: u64 = 15;
pub(super) const DT_RUNPATH: u64 = 29;
pub(super) const DT_GNU_HASH: u64 = 0x6fff_fef5;
pub(super) const DT_VERSYM: u64 = 0x6fff_fff0;
pub(super) const DT_VERDEF: u64 = 0x6fff_fffc;
pub(super) const DT_VERDEFNUM: u64 = 0x6fff_fffd;
pub(super) const DT_VERNEED: u64 = 0x6fff_fffe;
pub(super) const DT_VERNEEDNUM: u64 = 0x6fff_ffff;
/// `PN_XNUM`: the real program header count is stored in section 0.
pub(super) const PN_XNUM: u16 = 0xffff;
/// Spare `DT_NULL` slots left in a moved dynamic array, so later edits fit in place.
pub(super) const SPARE_DYNAMIC_SLOTS: usize = 4;
/// Longest string read from a string table.
pub(super) const MAX_STRING: u64 = 64 << 10;
/// Largest program header table, dynamic array and section header table read.
pub(super) const MAX_TABLE: u64 = 16 << 20;
/// Most verneed entries walked.
pub(super) const MAX_VERNEED: usize = 1 << 16;
/// A moved block up to this size is held in the patch; a larger one is an [`Appended::Copy`].
pub(super) const MAX_BLOCK_IN_MEMORY: u64 = 1 << 20;

/// Class and byte order of a file: how its words are encoded.
#[derive(Debug, Clone, Copy)]
pub(super) struct Codec {
    pub(super) is_64: bool,
    pub(super) big_endian: bool,
}

/// Reads `N` bytes at `at`, or zeros if `bytes` is too short. Every caller passes a buffer sized
/// for the record it decodes, so the zero fallback never applies; it only avoids a panic path.
pub(super) fn field<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(source) = at.checked_add(N).and_then(|end| bytes.get(at..end)) {
        out.copy_from_slice(source);
    }
    out
}

impl Codec {
    pub(super) fn u16(self, bytes: &[u8], at: usize) -> u16 {
        let raw = field::<2>(bytes, at);
        if self.big_endian {
            u16::from_be_bytes(raw)
        } else {
            u16::from_le_bytes(raw)
        }
    }

    pub(super) fn u32(self, bytes: &[u8], at: usize) -> u32 {
        let raw = field::<4>(bytes, at);
        if self.big_endian {
            u32::from_be_bytes(raw)
        } else {
            u32::from_le_bytes(raw)
        }
    }

    pub(super) fn u64(self, bytes: &[u8], at: usize) -> u64 {
        let raw = field::<8>(bytes, at);
        if self.big_endian {
            u64::from_be_bytes(raw)
        } else {
            u64::from_le_bytes(raw)
        }
    }

    /// An address-sized word (`Elf32_Addr`/`Elf64_Addr`, `Off`, `Xword`…).
    pub(super) fn word(self, bytes: &[u8], at: usize) -> u64 {
        if self.is_64 {
            self.u64(bytes, at)
        } else {
            u64::from(self.u32(bytes, at))
        }
    }

    pub(super) fn put_u16(self, out: &mut Vec<u8>, value: u16) {
        out.extend_from_slice(&if self.big_endian {
            value.to_be_bytes()
        } else {
            value.to_le_bytes()
        });
    }

    pub(super) fn put_u32(self, out: &mut Vec<u8>, value: u32) {
        out.extend_from_slice(&if self.big_endian {
            value.to_be_bytes()
        } else {
            value.to_le_bytes()
        });
    }

    pub(super) fn put_u64(self, out: &mut Vec<u8>, value: u64) {
        out.extend_from_slice(&if self.big_endian {
            value.to_be_bytes()
        } else {
            value.to_le_bytes()
        });
    }

    /// Appends an address-sized word; fails if it does not fit a 32-bit file.
    pub(super) fn put_word(
        self,
        out: &mut Vec<u8>,
        value: u64,
        what: &str,
    ) -> Result<(), ElfEditError> {
        if self.is_64 {
            self.put_u64(out, value);
        } else {
            let value = u32::try_from(value).map_err(|_| {
                ElfEditError::Unsupported(format!(
                    "{what} {value:#x} does not fit a 32-bit ELF file"
                ))
            })?;
            self.put_u32(out, value);
        }
        Ok(())
    }

    pub(super) fn ehdr_size(self) -> u64 {
        if self.is_64 { 64 } else { 52 }
    }

    pub(super) fn phdr_size(self) -> u64 {
        if self.is_64 { 56 } else { 32 }
    }

    pub(super) fn shdr_size(self) -> u64 {
        if self.is_64 { 64 } else { 40 }
    }

    pub(super) fn dyn_size(self) -> u64 {
        if self.is_64 { 16 } else { 8 }
    }

    /// Largest value of an address-sized word.
    pub(super) fn word_max(self) -> u64 {
        if self.is_64 {
            u64::MAX
        } else {
            u64::from(u32::MAX)
        }
    }
}

/// One program header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Phdr {
    pub(super) p_type: u32,
    pub(super) p_flags: u32,
    pub(super) p_offset: u64,
    pub(super) p_vaddr: u64,
    pub(super) p_paddr: u64,
    pub(super) p_filesz: u64,
    pub(super) p_memsz: u64,
    pub(super) p_align: u64,
}

impl Phdr {
    pub(super) fn decode(codec: Codec, b: &[u8]) -> Self {
        if codec.is_64 {
            Self {
                p_type: codec.u32(b, 0),
                p_flags: codec.u32(b, 4),
                p_offset: codec.u64(b, 8),
                p_vaddr: codec.u64(b, 16),
                p_paddr: codec.u64(b, 24),
                p_filesz: codec.u64(b, 32),
                p_memsz: codec.u64(b, 40),
                p_align: codec.u64(b, 48),
            }
        } else {
            Self {
                p_type: codec.u32(b, 0),
                p_offset: codec.word(b, 4),
                p_vaddr: codec.word(b, 8),
                p_paddr: codec.word(b, 12),
                p_filesz: codec.word(b, 16),
                p_memsz: codec.word(b, 20),
                p_flags: codec.u32(b, 24),
                p_align: codec.word(b, 28),
            }
        }
    }

    pub(super) fn encode(&self, codec: Codec, out: &mut Vec<u8>) -> Result<(), ElfEditError> {
        codec.put_u32(out, self.p_type);
        if codec.is_64 {
            codec.put_u32(out, self.p_flags);
        }
        codec.put_word(out, self.p_offset, "segment offset")?;
        codec.put_word(out, self.p_vaddr, "segment address")?;
        codec.put_word(out, self.p_paddr, "segment address")?;
        codec.put_word(out, self.p_filesz, "segment size")?;
        codec.put_word(out, self.p_memsz, "segment size")?;
        if !codec.is_64 {
            codec.put_u32(out, self.p_flags);
        }
        codec.put_word(out, self.p_align, "segment alignment")
    }

    /// `p_vaddr + p_memsz`, if it does not overflow.
    pub(super) fn mem_end(&self) -> Option<u64> {
        self.p_vaddr.checked_add(self.p_memsz)
    }

    /// The file offset of `len` bytes at `vaddr` if this segment maps all of them from the file.
    pub(super) fn file_offset(&self, vaddr: u64, len: u64) -> Option<u64> {
        if self.p_type != PT_LOAD || vaddr < self.p_vaddr {
            return None;
        }
        let rel = vaddr - self.p_vaddr;
        if rel.checked_add(len)? > self.p_filesz {
            return None;
        }
        self.p_offset.checked_add(rel)
    }
}

/// One section header.
#[derive(Debug, Clone, Copy)]
pub(super) struct Shdr {
    pub(super) index: u64,
    pub(super) sh_name: u32,
    pub(super) sh_type: u32,
    pub(super) sh_flags: u64,
    pub(super) sh_addr: u64,
    pub(super) sh_offset: u64,
    pub(super) sh_size: u64,
    pub(super) sh_link: u32,
    pub(super) sh_info: u32,
    pub(super) sh_addralign: u64,
    pub(super) sh_entsize: u64,
}

impl Shdr {
    pub(super) fn decode(codec: Codec, index: u64, b: &[u8]) -> Self {
        if codec.is_64 {
            Self {
                index,
                sh_name: codec.u32(b, 0),
                sh_type: codec.u32(b, 4),
                sh_flags: codec.u64(b, 8),
                sh_addr: codec.u64(b, 16),
                sh_offset: codec.u64(b, 24),
                sh_size: codec.u64(b, 32),
                sh_link: codec.u32(b, 40),
                sh_info: codec.u32(b, 44),
                sh_addralign: codec.u64(b, 48),
                sh_entsize: codec.u64(b, 56),
            }
        } else {
            Self {
                index,
                sh_name: codec.u32(b, 0),
                sh_type: codec.u32(b, 4),
                sh_flags: codec.word(b, 8),
                sh_addr: codec.word(b, 12),
                sh_offset: codec.word(b, 16),
                sh_size: codec.word(b, 20),
                sh_link: codec.u32(b, 24),
                sh_info: codec.u32(b, 28),
                sh_addralign: codec.word(b, 32),
                sh_entsize: codec.word(b, 36),
            }
        }
    }

    pub(super) fn encode(&self, codec: Codec, out: &mut Vec<u8>) -> Result<(), ElfEditError> {
        codec.put_u32(out, self.sh_name);
        codec.put_u32(out, self.sh_type);
        codec.put_word(out, self.sh_flags, "section flags")?;
        codec.put_word(out, self.sh_addr, "section address")?;
        codec.put_word(out, self.sh_offset, "section offset")?;
        codec.put_word(out, self.sh_size, "section size")?;
        codec.put_u32(out, self.sh_link);
        codec.put_u32(out, self.sh_info);
        codec.put_word(out, self.sh_addralign, "section alignment")?;
        codec.put_word(out, self.sh_entsize, "section entry size")
    }

    /// Whether the section occupies bytes in the file.
    pub(super) fn has_file_bytes(&self) -> bool {
        self.sh_type != SHT_NOBITS && self.sh_type != SHT_NULL && self.sh_size > 0
    }
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

pub(super) fn malformed(message: impl Into<String>) -> ElfEditError {
    ElfEditError::Malformed(message.into())
}

/// Reads `len` bytes at `offset`, checking the range against the file length first so that a
/// corrupt size never turns into a huge allocation.
pub(super) fn read_bytes<R: ReadAt + ?Sized>(
    file: &R,
    offset: u64,
    len: u64,
    what: &str,
) -> Result<Vec<u8>, ElfEditError> {
    let end = offset
        .checked_add(len)
        .ok_or_else(|| malformed(format!("{what} extends past the end of the file")))?;
    if end > file.len() {
        return Err(malformed(format!(
            "{what} extends past the end of the file"
        )));
    }
    let len = usize::try_from(len).map_err(|_| malformed(format!("{what} is too large")))?;
    let mut buf = vec![0u8; len];
    file.read_exact_at(offset, &mut buf).map_err(|err| {
        if err.kind() == io::ErrorKind::UnexpectedEof {
            malformed(format!("{what} extends past the end of the file"))
        } else {
            ElfEditError::Io(err)
        }
    })?;
    Ok(buf)
}

/// Reads a NUL-terminated string at file offset `offset` that must end before `limit`.
pub(super) fn read_cstr<R: ReadAt + ?Sized>(
    file: &R,
    offset: u64,
    limit: u64,
    what: &str,
) -> Result<Vec<u8>, ElfEditError> {
    let limit = limit.min(file.len()).min(offset.saturating_add(MAX_STRING));
    let mut out = Vec::new();
    let mut pos = offset;
    while pos < limit {
        let n = (limit - pos).min(256);
        let chunk = read_bytes(file, pos, n, what)?;
        if let Some(end) = memchr::memchr(0, &chunk) {
            out.extend_from_slice(&chunk[..end]);
            return Ok(out);
        }
        out.extend_from_slice(&chunk);
        pos += n;
    }
    Err(malformed(format!("{what} is not NUL-terminated")))
}

/// The ELF header fields, program headers and section headers.
#[derive(Debug, Clone)]
pub(super) struct Headers {
    pub(super) codec: Codec,
    pub(super) e_type: u16,
    pub(super) machine: u16,
    pub(super) phoff: u64,
    pub(super) phdrs: Vec<Phdr>,
    pub(super) shoff: u64,
    pub(super) sections: Vec<Shdr>,
    /// `e_shnum` as stored (0 with extended section numbering).
    pub(super) shnum_field: u16,
    /// `e_shstrndx` as stored (`SHN_XINDEX` with extended section numbering).
    pub(super) shstrndx_field: u16,
}

impl Headers {
    pub(super) fn read<R: ReadAt + ?Sized>(file: &R) -> Result<Self, ElfEditError> {
        let ident = read_bytes(file, 0, 16.min(file.len()), "ELF identification")?;
        if !ident.starts_with(b"\x7fELF") {
            return Err(ElfEditError::NotElf);
        }
        let is_64 = match ident.get(4) {
            Some(1) => false,
            Some(2) => true,
            Some(class) => return Err(malformed(format!("unknown ELF class {class}"))),
            None => return Err(malformed("file is shorter than an ELF header")),
        };
        let big_endian = match ident.get(5) {
            Some(1) => false,
            Some(2) => true,
            Some(data) => return Err(malformed(format!("unknown ELF byte order {data}"))),
            None => return Err(malformed("file is shorter than an ELF header")),
        };
        let codec = Codec { is_64, big_endian };
        let ehdr = read_bytes(file, 0, codec.ehdr_size(), "ELF header")?;
        let e_type = codec.u16(&ehdr, 16);
        let machine = codec.u16(&ehdr, 18);
        let (phoff, shoff, rest) = if is_64 {
            (codec.u64(&ehdr, 32), codec.u64(&ehdr, 40), 52)
        } else {
            (codec.word(&ehdr, 28), codec.word(&ehdr, 32), 40)
        };
        let phentsize = codec.u16(&ehdr, rest + 2);
        let phnum = codec.u16(&ehdr, rest + 4);
        let shentsize = codec.u16(&ehdr, rest + 6);
        let shnum = codec.u16(&ehdr, rest + 8);
        let shstrndx = codec.u16(&ehdr, rest + 10);

        if e_type != ET_DYN && e_type != ET_EXEC {
            return Err(ElfEditError::Unsupported(format!(
                "ELF type {e_type} (only shared objects and executables are edited)"
            )));
        }
        if machine == EM_MIPS || machine == EM_MIPS_RS3_LE {
            return Err(ElfEditError::Unsupported("machine MIPS".into()));
        }
        if phnum == PN_XNUM {
            return Err(ElfEditError::Unsupported(
                "extended program header numbering (PN_XNUM)".into(),
            ));
        }
        if phnum == 0 {
            return Err(ElfEditError::Unsupported(
                "no program headers (not a linked object)".into(),
            ));
        }
        if u64::from(phentsize) != codec.phdr_size() {
            return Err(malformed(format!("program header size {phentsize}")));
        }
        let pht = read_bytes(
            file,
            phoff,
            u64::from(phnum) * codec.phdr_size(),
            "program header table",
        )?;
        let phdrs = pht
            .chunks_exact(usize::from(phentsize))
            .map(|b| Phdr::decode(codec, b))
            .collect();

        let mut sections = Vec::new();
        if shoff != 0 {
            if u64::from(shentsize) != codec.shdr_size() {
                return Err(malformed(format!("section header size {shentsize}")));
            }
            let mut count = u64::from(shnum);
            if count == 0 {
                // Extended section numbering: the count is in section 0's sh_size.
                let first = read_bytes(file, shoff, codec.shdr_size(), "section header table")?;
                count = Shdr::decode(codec, 0, &first).sh_size;
            }
            let size = count.saturating_mul(codec.shdr_size());
            if size > MAX_TABLE {
                return Err(ElfEditError::Unsupported(format!(
                    "{count} section headers"
                )));
            }
            let sht = read_bytes(file, shoff, size, "section header table")?;
            sections = sht
                .chunks_exact(usize::from(shentsize))
                .zip(0u64..)
                .map(|(b, index)| Shdr::decode(codec, index, b))
                .collect();
        }
        Ok(Self {
            codec,
            e_type,
            machine,
            phoff,
            phdrs,
            shoff,
            sections,
            shnum_field: shnum,
            shstrndx_field: shstrndx,
        })
    }

    /// Index of the section name table (`SHN_XINDEX` resolved through section 0); 0 if none.
    pub(super) fn shstrndx(&self) -> u64 {
        if self.shstrndx_field == SHN_XINDEX {
            self.sections.first().map_or(0, |s| u64::from(s.sh_link))
        } else {
            u64::from(self.shstrndx_field)
        }
    }

    pub(super) fn loads(&self) -> impl Iterator<Item = &Phdr> {
        self.phdrs.iter().filter(|p| p.p_type == PT_LOAD)
    }

    /// The file offset of `len` bytes at `vaddr`, as the loader maps them.
    pub(super) fn vaddr_to_offset(&self, vaddr: u64, len: u64) -> Option<u64> {
        self.loads().find_map(|p| p.file_offset(vaddr, len))
    }

    /// The `PT_LOAD` that maps `vaddr` from the file.
    pub(super) fn load_containing(&self, vaddr: u64) -> Option<&Phdr> {
        self.loads().find(|p| p.file_offset(vaddr, 1).is_some())
    }

    /// Reads a string the loader finds at `vaddr`: it must end inside the same `PT_LOAD`.
    pub(super) fn read_string_at_vaddr<R: ReadAt + ?Sized>(
        &self,
        file: &R,
        vaddr: u64,
        what: &str,
    ) -> Result<Vec<u8>, ElfEditError> {
        let segment = self
            .load_containing(vaddr)
            .ok_or_else(|| malformed(format!("{what} is outside every loadable segment")))?;
        let offset = segment.p_offset + (vaddr - segment.p_vaddr);
        read_cstr(
            file,
            offset,
            segment.p_offset.saturating_add(segment.p_filesz),
            what,
        )
    }

    /// Whether the file is started by the kernel (and so `AT_PHDR` matters).
    pub(super) fn is_executable(&self) -> bool {
        self.e_type == ET_EXEC || self.phdrs.iter().any(|p| p.p_type == PT_INTERP)
    }

    /// Page size used for the new segment's alignment.
    pub(super) fn page_size(&self) -> u64 {
        let arch_max: u64 = if matches!(self.machine, EM_X86_64 | EM_386) {
            0x1000
        } else {
            0x1_0000
        };
        let file_max = self
            .loads()
            .map(|p| p.p_align)
            .filter(|a| a.is_power_of_two())
            .max()
            .unwrap_or(0);
        file_max.clamp(0x1000, arch_max.max(0x1000))
    }
}

/// Bytes as text, invalid UTF-8 replaced.
pub(super) fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
