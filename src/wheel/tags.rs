//! Platform tags and architectures (PEP 425, PEP 513/571/599/600, PEP 656).
//!
//! A [`PlatformTag`] is one member of a wheel's platform tag set. Linux tags are modelled
//! precisely (plain `linux`, PEP 600 `manylinux_X_Y`, the legacy `manylinux1/2010/2014` aliases,
//! PEP 656 `musllinux_X_Y`); everything else is kept verbatim as [`PlatformTag::Other`]. Every
//! accepted tag's [`Display`](fmt::Display) output equals the parsed input.

use std::fmt;
use std::str::FromStr;

/// A CPU architecture, spelled as in wheel platform tags.
///
/// Ex) `x86_64`, `i686`, `aarch64`
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Arch {
    /// Ex) `x86_64`
    X86_64,
    /// Ex) `i686`
    I686,
    /// Ex) `aarch64`
    Aarch64,
    /// Ex) `armv7l`
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
    /// Any other architecture, kept verbatim (lowercase ASCII letters, digits and `_`).
    /// Ex) `armv6l`
    Other(String),
}

/// The known architectures with their wheel spelling.
const KNOWN_ARCHES: [(Arch, &str); 9] = [
    (Arch::X86_64, "x86_64"),
    (Arch::I686, "i686"),
    (Arch::Aarch64, "aarch64"),
    (Arch::Armv7l, "armv7l"),
    (Arch::Ppc64, "ppc64"),
    (Arch::Ppc64le, "ppc64le"),
    (Arch::S390x, "s390x"),
    (Arch::Riscv64, "riscv64"),
    (Arch::Loongarch64, "loongarch64"),
];

impl Arch {
    /// The wheel spelling. Ex) `x86_64`
    #[must_use]
    pub fn as_str(&self) -> &str {
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
            Self::Other(arch) => arch,
        }
    }

    /// The known architecture a platform tag ends with (`_<arch>`), or `None`.
    ///
    /// Only the known architectures are recognised, because an unknown one cannot be told apart
    /// from the rest of the tag. A bare architecture (`x86_64`) is accepted too.
    ///
    /// Ex) `manylinux_2_17_x86_64` -> `Some(Arch::X86_64)`, `macosx_11_0_arm64` -> `None`
    #[must_use]
    pub fn from_platform_suffix(tag: &str) -> Option<Self> {
        KNOWN_ARCHES.iter().find_map(|(arch, spelling)| {
            let rest = tag.strip_suffix(spelling)?;
            (rest.is_empty() || rest.ends_with('_')).then(|| arch.clone())
        })
    }
}

impl FromStr for Arch {
    type Err = PlatformTagError;

    fn from_str(arch: &str) -> Result<Self, Self::Err> {
        if let Some((known, _)) = KNOWN_ARCHES.iter().find(|(_, spelling)| *spelling == arch) {
            return Ok(known.clone());
        }
        let valid = !arch.is_empty()
            && arch
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if valid {
            Ok(Self::Other(arch.to_string()))
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
    pub fn supports(self, arch: &Arch) -> bool {
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
}

impl PlatformTag {
    /// The architecture, for Linux tags (`linux`, `manylinux*`, `musllinux*`).
    #[must_use]
    pub fn arch(&self) -> Option<Arch> {
        match self {
            Self::Linux { arch }
            | Self::Manylinux { arch, .. }
            | Self::ManylinuxLegacy { arch, .. }
            | Self::Musllinux { arch, .. } => Some(arch.clone()),
            Self::Any | Self::Other(_) => None,
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
                    arch: arch.clone(),
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
        name.supports(arch).then(|| Self::ManylinuxLegacy {
            name,
            arch: arch.clone(),
        })
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

/// Parses `<major>_<minor>_<arch>`.
fn versioned_arch(rest: &str) -> Option<(u16, u16, Arch)> {
    let (major, rest) = rest.split_once('_')?;
    let (minor, arch) = rest.split_once('_')?;
    Some((
        canonical_u16(major)?,
        canonical_u16(minor)?,
        arch.parse().ok()?,
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
        if tag == "any" {
            return Ok(Self::Any);
        }
        if let Some(arch) = tag.strip_prefix("linux_") {
            let arch = arch.parse().map_err(|_| malformed("`linux_<arch>`"))?;
            return Ok(Self::Linux { arch });
        }
        if let Some(rest) = tag.strip_prefix("manylinux_") {
            let (major, minor, arch) = versioned_arch(rest)
                .ok_or_else(|| malformed("`manylinux_<major>_<minor>_<arch>`"))?;
            return Ok(Self::Manylinux { major, minor, arch });
        }
        if let Some(rest) = tag.strip_prefix("musllinux_") {
            let (major, minor, arch) = versioned_arch(rest)
                .ok_or_else(|| malformed("`musllinux_<major>_<minor>_<arch>`"))?;
            return Ok(Self::Musllinux { major, minor, arch });
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
                    let arch = arch.parse().map_err(|_| {
                        malformed(
                            "`manylinux1_<arch>`, `manylinux2010_<arch>` or `manylinux2014_<arch>`",
                        )
                    })?;
                    return Ok(Self::ManylinuxLegacy { name, arch });
                }
            }
            return Err(malformed(
                "`manylinux_<major>_<minor>_<arch>` or a legacy `manylinux1/2010/2014` tag",
            ));
        }
        if tag.starts_with("musllinux") {
            return Err(malformed("`musllinux_<major>_<minor>_<arch>`"));
        }
        Ok(Self::Other(tag.to_string()))
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
                PlatformTag::Linux {
                    arch: Arch::Other("armv6l".to_string()),
                },
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
            "armv6l",
        ] {
            let arch: Arch = text.parse().unwrap();
            assert_eq!(arch.to_string(), text);
        }
        assert_eq!("ppc64le".parse::<Arch>().unwrap(), Arch::Ppc64le);
        insta::assert_snapshot!("X86-64".parse::<Arch>().unwrap_err(), @"invalid architecture `X86-64`: expected lowercase ASCII letters, digits and `_`");
        insta::assert_snapshot!("".parse::<Arch>().unwrap_err(), @"invalid architecture ``: expected lowercase ASCII letters, digits and `_`");
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
        ];
        for (tag, expected) in cases {
            assert_eq!(Arch::from_platform_suffix(tag), expected, "{tag}");
        }
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
