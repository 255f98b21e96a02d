//! The platform vocabulary: architectures, C libraries and platform tags (PEP 425,
//! PEP 513/571/599/600, PEP 656), parsed once here and used typed everywhere else.
//!
//! [`Arch`] is the closed set of machines wheelwright knows (ELF files, images, interpreters and
//! tags all map onto it); [`Libc`] is glibc or musl. A [`PlatformTag`] is one member of a wheel's
//! platform tag set. Linux tags are modelled precisely (plain `linux`, PEP 600 `manylinux_X_Y`,
//! the legacy `manylinux1/2010/2014` aliases, PEP 656 `musllinux_X_Y`); everything else, and a
//! Linux tag for an architecture outside [`Arch`], is kept verbatim as [`PlatformTag::Other`].
//! Every accepted tag's [`Display`](fmt::Display) output equals the parsed input.
//!
//! A leaf module: it imports nothing from the crate.

use std::fmt;
use std::str::FromStr;

/// A CPU architecture wheelwright knows, spelled as in wheel platform tags and policy files.
///
/// The set is closed: these are the machines an ELF file, an image or an interpreter can be
/// for. A platform tag naming another architecture is kept verbatim as [`PlatformTag::Other`].
///
/// Ex) `x86_64`, `i686`, `aarch64`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// Ex) `x86_64`
    X86_64,
    /// Ex) `i686`
    I686,
    /// Ex) `aarch64`
    Aarch64,
    /// Ex) `armv7l` (EABI5, hard-float)
    Armv7l,
    /// Ex) `ppc64` (big endian)
    Ppc64,
    /// Ex) `ppc64le`
    Ppc64le,
    /// Ex) `s390x`
    S390x,
    /// Ex) `riscv64`
    Riscv64,
    /// Ex) `loongarch64`
    Loongarch64,
}

impl Arch {
    /// All architectures, in the order they are tried when matching a platform tag suffix.
    pub const ALL: [Arch; 9] = [
        Arch::X86_64,
        Arch::I686,
        Arch::Aarch64,
        Arch::Armv7l,
        Arch::Ppc64,
        Arch::Ppc64le,
        Arch::S390x,
        Arch::Riscv64,
        Arch::Loongarch64,
    ];

    /// The wheel spelling. Ex) `x86_64`
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::X86_64 => "x86_64",
            Self::I686 => "i686",
            Self::Aarch64 => "aarch64",
            Self::Armv7l => "armv7l",
            Self::Ppc64 => "ppc64",
            Self::Ppc64le => "ppc64le",
            Self::S390x => "s390x",
            Self::Riscv64 => "riscv64",
            Self::Loongarch64 => "loongarch64",
        }
    }

    /// The architecture a platform tag ends with (`_<arch>`), or `None`.
    ///
    /// A bare architecture (`x86_64`) is accepted too.
    ///
    /// Ex) `manylinux_2_17_x86_64` -> `Some(Arch::X86_64)`, `macosx_11_0_arm64` -> `None`
    #[must_use]
    pub fn from_platform_suffix(tag: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|arch| {
            tag.strip_suffix(arch.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.ends_with('_'))
        })
    }

    /// Splits `<prefix>_<arch>` at a known architecture. Ex) `manylinux2014_x86_64` ->
    /// `Some(("manylinux2014", Arch::X86_64))`, `auto` -> `None`
    #[must_use]
    pub fn split_platform(tag: &str) -> Option<(&str, Self)> {
        Self::ALL.into_iter().find_map(|arch| {
            let prefix = tag.strip_suffix(arch.as_str())?.strip_suffix('_')?;
            Some((prefix, arch))
        })
    }

    /// The architecture `uname -m` reports (`i386`…`i686`, `arm64`, `armv7l`/`armv8l` mapped),
    /// or `None` for a machine wheelwright does not know.
    ///
    /// Ex) `i586` -> `Some(Arch::I686)`, `arm64` -> `Some(Arch::Aarch64)`
    #[must_use]
    pub fn from_machine(machine: &str) -> Option<Self> {
        match machine.trim() {
            "i386" | "i486" | "i586" | "i686" => Some(Self::I686),
            "arm64" => Some(Self::Aarch64),
            "armv7l" | "armv8l" => Some(Self::Armv7l),
            other => other.parse().ok(),
        }
    }

    /// The architecture this process runs on, as a Linux wheel architecture (`x86` is `i686`;
    /// an unknown target falls back to `x86_64`).
    #[must_use]
    pub fn host() -> Self {
        match std::env::consts::ARCH {
            "x86" => Self::I686,
            "arm" => Self::Armv7l,
            "powerpc64" if cfg!(target_endian = "little") => Self::Ppc64le,
            other => other.parse().unwrap_or(Self::X86_64),
        }
    }
}

/// Whether `arch` has the syntax of an architecture: lowercase ASCII letters, digits and `_`.
fn arch_syntax(arch: &str) -> bool {
    !arch.is_empty()
        && arch
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl FromStr for Arch {
    type Err = PlatformTagError;

    fn from_str(arch: &str) -> Result<Self, Self::Err> {
        if let Some(known) = Self::ALL.into_iter().find(|known| known.as_str() == arch) {
            return Ok(known);
        }
        if arch_syntax(arch) {
            Err(PlatformTagError::UnknownArch {
                arch: arch.to_string(),
            })
        } else {
            Err(PlatformTagError::InvalidArch {
                arch: arch.to_string(),
            })
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The C library a Linux wheel links against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Libc {
    /// GNU libc: manylinux tags.
    Glibc,
    /// musl: musllinux tags.
    Musl,
}

impl Libc {
    /// The platform tag prefix. Ex) `manylinux`
    #[must_use]
    pub fn tag_prefix(self) -> &'static str {
        match self {
            Libc::Glibc => "manylinux",
            Libc::Musl => "musllinux",
        }
    }
}

impl fmt::Display for Libc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Libc::Glibc => "glibc",
            Libc::Musl => "musl",
        })
    }
}

/// A legacy manylinux policy name (PEP 513, 571, 599), an alias of a PEP 600 tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LegacyManylinux {
    /// Ex) `manylinux1_x86_64`, alias of `manylinux_2_5_x86_64`
    Manylinux1,
    /// Ex) `manylinux2010_x86_64`, alias of `manylinux_2_12_x86_64`
    Manylinux2010,
    /// Ex) `manylinux2014_x86_64`, alias of `manylinux_2_17_x86_64`
    Manylinux2014,
}

impl LegacyManylinux {
    /// The tag prefix without the `_<arch>`. Ex) `manylinux2014`
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manylinux1 => "manylinux1",
            Self::Manylinux2010 => "manylinux2010",
            Self::Manylinux2014 => "manylinux2014",
        }
    }

    /// The glibc version the alias stands for. Ex) `manylinux2014` -> `(2, 17)`
    #[must_use]
    pub fn glibc_version(self) -> (u16, u16) {
        match self {
            Self::Manylinux1 => (2, 5),
            Self::Manylinux2010 => (2, 12),
            Self::Manylinux2014 => (2, 17),
        }
    }

    /// The alias for a glibc version, if one exists. Ex) `(2, 17)` -> `Manylinux2014`
    #[must_use]
    pub fn from_glibc_version(major: u16, minor: u16) -> Option<Self> {
        match (major, minor) {
            (2, 5) => Some(Self::Manylinux1),
            (2, 12) => Some(Self::Manylinux2010),
            (2, 17) => Some(Self::Manylinux2014),
            _ => None,
        }
    }

    /// Whether the legacy policy was defined for `arch` (manylinux1 and manylinux2010 only for
    /// `x86_64`/`i686`; manylinux2014 also for `aarch64`, `armv7l`, `ppc64`, `ppc64le`, `s390x`).
    #[must_use]
    pub fn supports(self, arch: Arch) -> bool {
        match self {
            Self::Manylinux1 | Self::Manylinux2010 => matches!(arch, Arch::X86_64 | Arch::I686),
            Self::Manylinux2014 => matches!(
                arch,
                Arch::X86_64
                    | Arch::I686
                    | Arch::Aarch64
                    | Arch::Armv7l
                    | Arch::Ppc64
                    | Arch::Ppc64le
                    | Arch::S390x
            ),
        }
    }
}

impl fmt::Display for LegacyManylinux {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One platform tag of a wheel.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PlatformTag {
    /// Platform independent. Ex) `any`
    Any,
    /// A plain Linux tag, which package indexes reject. Ex) `linux_x86_64`
    Linux {
        /// The architecture.
        arch: Arch,
    },
    /// A PEP 600 manylinux tag. Ex) `manylinux_2_17_x86_64`
    Manylinux {
        /// The glibc major version. Ex) `2`
        major: u16,
        /// The glibc minor version. Ex) `17`
        minor: u16,
        /// The architecture.
        arch: Arch,
    },
    /// A legacy manylinux alias, kept apart so that it displays as spelled.
    /// Ex) `manylinux2014_aarch64`
    ManylinuxLegacy {
        /// Which alias.
        name: LegacyManylinux,
        /// The architecture.
        arch: Arch,
    },
    /// A PEP 656 musllinux tag. Ex) `musllinux_1_2_x86_64`
    Musllinux {
        /// The musl major version. Ex) `1`
        major: u16,
        /// The musl minor version. Ex) `2`
        minor: u16,
        /// The architecture.
        arch: Arch,
    },
    /// Any other platform, kept verbatim; never one of the shapes above.
    /// Ex) `macosx_11_0_arm64`, `win_amd64`
    Other(String),
}

/// Why a platform tag or architecture could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlatformTagError {
    /// The tag is empty.
    #[error("empty platform tag")]
    Empty,
    /// The tag has characters other than ASCII letters, digits and `_`. Ex) `linux-x86_64`
    #[error("invalid platform tag `{tag}`: only ASCII letters, digits and `_` are allowed")]
    InvalidCharacters {
        /// The offending tag.
        tag: String,
    },
    /// A Linux tag does not have the expected shape. Ex) `manylinux_2_x86_64`
    #[error("invalid platform tag `{tag}`: expected {expected}")]
    Malformed {
        /// The offending tag.
        tag: String,
        /// The expected shape, with backticks. Ex) ``"`manylinux_<major>_<minor>_<arch>`"``
        expected: &'static str,
    },
    /// An architecture is empty or has characters other than lowercase ASCII letters, digits and
    /// `_`. Ex) `X86-64`
    #[error("invalid architecture `{arch}`: expected lowercase ASCII letters, digits and `_`")]
    InvalidArch {
        /// The offending architecture.
        arch: String,
    },
    /// An architecture is well formed but not one wheelwright knows. Ex) `armv6l`
    #[error(
        "unknown architecture `{arch}`: expected one of x86_64, i686, aarch64, armv7l, ppc64, \
         ppc64le, s390x, riscv64, loongarch64"
    )]
    UnknownArch {
        /// The offending architecture.
        arch: String,
    },
}

impl PlatformTag {
    /// The architecture, for Linux tags (`linux`, `manylinux*`, `musllinux*`).
    #[must_use]
    pub fn arch(&self) -> Option<Arch> {
        match self {
            Self::Linux { arch }
            | Self::Manylinux { arch, .. }
            | Self::ManylinuxLegacy { arch, .. }
            | Self::Musllinux { arch, .. } => Some(*arch),
            Self::Any | Self::Other(_) => None,
        }
    }

    /// The architecture the tag ends with (`_<arch>`), for any platform: a Linux tag's, or the
    /// known architecture another tag's spelling ends with (what auditwheel reads from a wheel
    /// file name). Ex) `macosx_11_0_x86_64` -> `Some(Arch::X86_64)`, `any` -> `None`
    #[must_use]
    pub fn suffix_arch(&self) -> Option<Arch> {
        match self {
            Self::Other(tag) => Arch::split_platform(tag)
                .filter(|(prefix, _)| !prefix.is_empty())
                .map(|(_, arch)| arch),
            _ => self.arch(),
        }
    }

    /// Whether this is a musllinux tag.
    #[must_use]
    pub fn is_musl(&self) -> bool {
        matches!(self, Self::Musllinux { .. })
    }

    /// Whether this is a manylinux tag (PEP 600 or legacy).
    #[must_use]
    pub fn is_manylinux(&self) -> bool {
        matches!(self, Self::Manylinux { .. } | Self::ManylinuxLegacy { .. })
    }

    /// The minimum glibc version of a manylinux tag (legacy aliases mapped). Ex) `(2, 17)`
    #[must_use]
    pub fn glibc_version(&self) -> Option<(u16, u16)> {
        match self {
            Self::Manylinux { major, minor, .. } => Some((*major, *minor)),
            Self::ManylinuxLegacy { name, .. } => Some(name.glibc_version()),
            _ => None,
        }
    }

    /// The minimum musl version of a musllinux tag. Ex) `(1, 2)`
    #[must_use]
    pub fn musl_version(&self) -> Option<(u16, u16)> {
        match self {
            Self::Musllinux { major, minor, .. } => Some((*major, *minor)),
            _ => None,
        }
    }

    /// The PEP 600 spelling of a legacy alias; other tags are returned unchanged.
    ///
    /// Ex) `manylinux2014_x86_64` -> `manylinux_2_17_x86_64`
    #[must_use]
    pub fn to_pep600(&self) -> Self {
        match self {
            Self::ManylinuxLegacy { name, arch } => {
                let (major, minor) = name.glibc_version();
                Self::Manylinux {
                    major,
                    minor,
                    arch: *arch,
                }
            }
            other => other.clone(),
        }
    }

    /// The legacy alias of a PEP 600 tag, when the legacy policy exists for its architecture.
    ///
    /// Ex) `manylinux_2_17_x86_64` -> `manylinux2014_x86_64`; `manylinux_2_28_x86_64` -> `None`
    #[must_use]
    pub fn legacy_alias(&self) -> Option<Self> {
        let Self::Manylinux { major, minor, arch } = self else {
            return None;
        };
        let name = LegacyManylinux::from_glibc_version(*major, *minor)?;
        name.supports(*arch)
            .then_some(Self::ManylinuxLegacy { name, arch: *arch })
    }
}

/// Parses a canonical decimal `u16`: digits only, no leading zero except `0` itself, so that
/// displaying the number gives back the input.
fn canonical_u16(text: &str) -> Option<u16> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    if canonical { text.parse().ok() } else { None }
}

/// The architecture of a Linux tag: `Ok(Some)` for a known one, `Ok(None)` for a well-formed
/// unknown one (the tag is then kept as [`PlatformTag::Other`]), `Err` for a malformed one.
fn tag_arch(arch: &str) -> Result<Option<Arch>, ()> {
    match arch.parse() {
        Ok(arch) => Ok(Some(arch)),
        Err(PlatformTagError::UnknownArch { .. }) => Ok(None),
        Err(_) => Err(()),
    }
}

/// Parses `<major>_<minor>_<arch>`; the architecture as [`tag_arch`] reads it.
fn versioned_arch(rest: &str) -> Option<(u16, u16, Option<Arch>)> {
    let (major, rest) = rest.split_once('_')?;
    let (minor, arch) = rest.split_once('_')?;
    Some((
        canonical_u16(major)?,
        canonical_u16(minor)?,
        tag_arch(arch).ok()?,
    ))
}

impl FromStr for PlatformTag {
    type Err = PlatformTagError;

    fn from_str(tag: &str) -> Result<Self, Self::Err> {
        if tag.is_empty() {
            return Err(PlatformTagError::Empty);
        }
        if !tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(PlatformTagError::InvalidCharacters {
                tag: tag.to_string(),
            });
        }
        let malformed = |expected| PlatformTagError::Malformed {
            tag: tag.to_string(),
            expected,
        };
        let other = || Self::Other(tag.to_string());
        if tag == "any" {
            return Ok(Self::Any);
        }
        if let Some(arch) = tag.strip_prefix("linux_") {
            let arch = tag_arch(arch).map_err(|()| malformed("`linux_<arch>`"))?;
            return Ok(arch.map_or_else(other, |arch| Self::Linux { arch }));
        }
        if let Some(rest) = tag.strip_prefix("manylinux_") {
            let (major, minor, arch) = versioned_arch(rest)
                .ok_or_else(|| malformed("`manylinux_<major>_<minor>_<arch>`"))?;
            return Ok(arch.map_or_else(other, |arch| Self::Manylinux { major, minor, arch }));
        }
        if let Some(rest) = tag.strip_prefix("musllinux_") {
            let (major, minor, arch) = versioned_arch(rest)
                .ok_or_else(|| malformed("`musllinux_<major>_<minor>_<arch>`"))?;
            return Ok(arch.map_or_else(other, |arch| Self::Musllinux { major, minor, arch }));
        }
        if tag.starts_with("manylinux") {
            for name in [
                LegacyManylinux::Manylinux1,
                LegacyManylinux::Manylinux2010,
                LegacyManylinux::Manylinux2014,
            ] {
                if let Some(arch) = tag
                    .strip_prefix(name.as_str())
                    .and_then(|rest| rest.strip_prefix('_'))
                {
                    let arch = tag_arch(arch).map_err(|()| {
                        malformed(
                            "`manylinux1_<arch>`, `manylinux2010_<arch>` or `manylinux2014_<arch>`",
                        )
                    })?;
                    return Ok(arch.map_or_else(other, |arch| Self::ManylinuxLegacy { name, arch }));
                }
            }
            return Err(malformed(
                "`manylinux_<major>_<minor>_<arch>` or a legacy `manylinux1/2010/2014` tag",
            ));
        }
        if tag.starts_with("musllinux") {
            return Err(malformed("`musllinux_<major>_<minor>_<arch>`"));
        }
        Ok(other())
    }
}

impl fmt::Display for PlatformTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => f.write_str("any"),
            Self::Linux { arch } => write!(f, "linux_{arch}"),
            Self::Manylinux { major, minor, arch } => write!(f, "manylinux_{major}_{minor}_{arch}"),
            Self::ManylinuxLegacy { name, arch } => write!(f, "{name}_{arch}"),
            Self::Musllinux { major, minor, arch } => write!(f, "musllinux_{major}_{minor}_{arch}"),
            Self::Other(tag) => f.write_str(tag),
        }
    }
}

/// A tag equals the text it displays as. Ex) `PlatformTag::Any == "any"`
impl PartialEq<str> for PlatformTag {
    fn eq(&self, other: &str) -> bool {
        // Display round-trips what parses, and what does not parse is no tag's spelling.
        other.parse::<Self>().is_ok_and(|tag| tag == *self)
    }
}

impl PartialEq<&str> for PlatformTag {
    fn eq(&self, other: &&str) -> bool {
        *self == **other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_table() {
        let table = [
            ("any", PlatformTag::Any),
            ("linux_x86_64", PlatformTag::Linux { arch: Arch::X86_64 }),
            ("linux_i686", PlatformTag::Linux { arch: Arch::I686 }),
            (
                "linux_aarch64",
                PlatformTag::Linux {
                    arch: Arch::Aarch64,
                },
            ),
            ("linux_armv7l", PlatformTag::Linux { arch: Arch::Armv7l }),
            (
                "linux_ppc64le",
                PlatformTag::Linux {
                    arch: Arch::Ppc64le,
                },
            ),
            ("linux_ppc64", PlatformTag::Linux { arch: Arch::Ppc64 }),
            ("linux_s390x", PlatformTag::Linux { arch: Arch::S390x }),
            (
                "linux_riscv64",
                PlatformTag::Linux {
                    arch: Arch::Riscv64,
                },
            ),
            (
                "linux_loongarch64",
                PlatformTag::Linux {
                    arch: Arch::Loongarch64,
                },
            ),
            (
                "linux_armv6l",
                PlatformTag::Other("linux_armv6l".to_string()),
            ),
            (
                "manylinux_2_17_armv6l",
                PlatformTag::Other("manylinux_2_17_armv6l".to_string()),
            ),
            (
                "manylinux1_x86_64",
                PlatformTag::ManylinuxLegacy {
                    name: LegacyManylinux::Manylinux1,
                    arch: Arch::X86_64,
                },
            ),
            (
                "manylinux2010_i686",
                PlatformTag::ManylinuxLegacy {
                    name: LegacyManylinux::Manylinux2010,
                    arch: Arch::I686,
                },
            ),
            (
                "manylinux2014_aarch64",
                PlatformTag::ManylinuxLegacy {
                    name: LegacyManylinux::Manylinux2014,
                    arch: Arch::Aarch64,
                },
            ),
            (
                "manylinux_2_17_x86_64",
                PlatformTag::Manylinux {
                    major: 2,
                    minor: 17,
                    arch: Arch::X86_64,
                },
            ),
            (
                "manylinux_2_28_ppc64le",
                PlatformTag::Manylinux {
                    major: 2,
                    minor: 28,
                    arch: Arch::Ppc64le,
                },
            ),
            (
                "manylinux_2_0_x86_64",
                PlatformTag::Manylinux {
                    major: 2,
                    minor: 0,
                    arch: Arch::X86_64,
                },
            ),
            (
                "musllinux_1_2_x86_64",
                PlatformTag::Musllinux {
                    major: 1,
                    minor: 2,
                    arch: Arch::X86_64,
                },
            ),
            (
                "macosx_11_0_arm64",
                PlatformTag::Other("macosx_11_0_arm64".to_string()),
            ),
            ("win_amd64", PlatformTag::Other("win_amd64".to_string())),
            ("linux", PlatformTag::Other("linux".to_string())),
        ];
        for (text, expected) in table {
            let parsed: PlatformTag = text.parse().unwrap();
            assert_eq!(parsed, expected, "{text}");
            assert_eq!(parsed.to_string(), text);
        }
    }

    #[test]
    fn arch_round_trip() {
        for text in [
            "x86_64",
            "i686",
            "aarch64",
            "armv7l",
            "ppc64",
            "ppc64le",
            "s390x",
            "riscv64",
            "loongarch64",
        ] {
            let arch: Arch = text.parse().unwrap();
            assert_eq!(arch.to_string(), text);
        }
        assert_eq!("ppc64le".parse::<Arch>().unwrap(), Arch::Ppc64le);
        insta::assert_snapshot!("X86-64".parse::<Arch>().unwrap_err(), @"invalid architecture `X86-64`: expected lowercase ASCII letters, digits and `_`");
        insta::assert_snapshot!("".parse::<Arch>().unwrap_err(), @"invalid architecture ``: expected lowercase ASCII letters, digits and `_`");
        insta::assert_snapshot!("armv6l".parse::<Arch>().unwrap_err(), @"unknown architecture `armv6l`: expected one of x86_64, i686, aarch64, armv7l, ppc64, ppc64le, s390x, riscv64, loongarch64");
    }

    #[test]
    fn arch_from_platform_suffix() {
        let cases = [
            ("manylinux_2_17_x86_64", Some(Arch::X86_64)),
            ("manylinux2014_ppc64le", Some(Arch::Ppc64le)),
            ("linux_ppc64", Some(Arch::Ppc64)),
            ("musllinux_1_1_i686", Some(Arch::I686)),
            ("x86_64", Some(Arch::X86_64)),
            ("macosx_11_0_arm64", None),
            ("win_amd64", None),
            ("linux_foox86_64", None),
            ("linux_ppc64le", Some(Arch::Ppc64le)),
        ];
        for (tag, expected) in cases {
            assert_eq!(Arch::from_platform_suffix(tag), expected, "{tag}");
        }
    }

    #[test]
    fn arch_from_machine() {
        let cases = [
            ("x86_64", Some(Arch::X86_64)),
            ("i386", Some(Arch::I686)),
            ("i586", Some(Arch::I686)),
            ("arm64", Some(Arch::Aarch64)),
            ("armv8l", Some(Arch::Armv7l)),
            ("ppc64le\n", Some(Arch::Ppc64le)),
            ("sparc64", None),
        ];
        for (machine, expected) in cases {
            assert_eq!(Arch::from_machine(machine), expected, "{machine}");
        }
    }

    #[test]
    fn split_platforms() {
        assert_eq!(
            Arch::split_platform("manylinux2014_x86_64"),
            Some(("manylinux2014", Arch::X86_64))
        );
        assert_eq!(
            Arch::split_platform("musllinux_1_2_ppc64le"),
            Some(("musllinux_1_2", Arch::Ppc64le))
        );
        assert_eq!(Arch::split_platform("auto"), None);
        assert_eq!(Arch::split_platform("manylinux_2_17"), None);
    }

    #[test]
    fn machines() {
        assert_eq!(Arch::from_machine("i686"), Some(Arch::I686));
        assert_eq!(Arch::from_machine("x86_64"), Some(Arch::X86_64));
        assert_eq!(Arch::from_machine("arm64"), Some(Arch::Aarch64));
    }

    #[test]
    fn architectures_of_platform_tags() {
        let tag_arch = |tag: &str| tag.parse::<PlatformTag>().expect(tag).suffix_arch();
        assert_eq!(tag_arch("manylinux_2_5_x86_64"), Some(Arch::X86_64));
        assert_eq!(tag_arch("manylinux2014_i686"), Some(Arch::I686));
        assert_eq!(tag_arch("musllinux_1_2_ppc64le"), Some(Arch::Ppc64le));
        assert_eq!(tag_arch("linux_ppc64"), Some(Arch::Ppc64));
        assert_eq!(tag_arch("any"), None);
    }

    #[test]
    fn accessors() {
        let tag: PlatformTag = "manylinux2014_aarch64".parse().unwrap();
        assert_eq!(tag.arch(), Some(Arch::Aarch64));
        assert_eq!(tag.glibc_version(), Some((2, 17)));
        assert!(tag.is_manylinux());
        assert!(!tag.is_musl());
        assert_eq!(tag.to_pep600().to_string(), "manylinux_2_17_aarch64");

        let tag: PlatformTag = "manylinux_2_5_i686".parse().unwrap();
        assert_eq!(
            tag.legacy_alias().map(|t| t.to_string()).as_deref(),
            Some("manylinux1_i686")
        );
        let tag: PlatformTag = "manylinux_2_12_aarch64".parse().unwrap();
        assert_eq!(tag.legacy_alias(), None);
        let tag: PlatformTag = "manylinux_2_28_x86_64".parse().unwrap();
        assert_eq!(tag.legacy_alias(), None);

        let tag: PlatformTag = "musllinux_1_2_armv7l".parse().unwrap();
        assert!(tag.is_musl());
        assert_eq!(tag.glibc_version(), None);
        assert_eq!(tag.musl_version(), Some((1, 2)));
        assert_eq!(tag.arch(), Some(Arch::Armv7l));

        assert_eq!(PlatformTag::Any.arch(), None);
        assert_eq!(PlatformTag::Any.suffix_arch(), None);
        let mac: PlatformTag = "macosx_11_0_x86_64".parse().unwrap();
        assert_eq!((mac.arch(), mac.suffix_arch()), (None, Some(Arch::X86_64)));
        assert_eq!(tag.suffix_arch(), Some(Arch::Armv7l));
        assert_eq!("win_amd64".parse::<PlatformTag>().unwrap().arch(), None);
    }

    #[test]
    fn rejections() {
        let err = |tag: &str| tag.parse::<PlatformTag>().unwrap_err();
        insta::assert_snapshot!(err(""), @"empty platform tag");
        insta::assert_snapshot!(err("linux-x86_64"), @"invalid platform tag `linux-x86_64`: only ASCII letters, digits and `_` are allowed");
        insta::assert_snapshot!(err("linux_"), @"invalid platform tag `linux_`: expected `linux_<arch>`");
        insta::assert_snapshot!(err("manylinux_2_x86_64"), @"invalid platform tag `manylinux_2_x86_64`: expected `manylinux_<major>_<minor>_<arch>`");
        insta::assert_snapshot!(err("manylinux_2_017_x86_64"), @"invalid platform tag `manylinux_2_017_x86_64`: expected `manylinux_<major>_<minor>_<arch>`");
        insta::assert_snapshot!(err("manylinux_2_99999_x86_64"), @"invalid platform tag `manylinux_2_99999_x86_64`: expected `manylinux_<major>_<minor>_<arch>`");
        insta::assert_snapshot!(err("manylinux_2_17_"), @"invalid platform tag `manylinux_2_17_`: expected `manylinux_<major>_<minor>_<arch>`");
        insta::assert_snapshot!(err("manylinux2_x86_64"), @"invalid platform tag `manylinux2_x86_64`: expected `manylinux_<major>_<minor>_<arch>` or a legacy `manylinux1/2010/2014` tag");
        insta::assert_snapshot!(err("manylinux2014_"), @"invalid platform tag `manylinux2014_`: expected `manylinux1_<arch>`, `manylinux2010_<arch>` or `manylinux2014_<arch>`");
        insta::assert_snapshot!(err("musllinux_1_x86_64"), @"invalid platform tag `musllinux_1_x86_64`: expected `musllinux_<major>_<minor>_<arch>`");
    }
}
