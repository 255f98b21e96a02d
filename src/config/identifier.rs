//! Build identifiers (`cp311-manylinux_x86_64`, `pp310-manylinux_i686`, `cp313t-musllinux_x86_64`)
//! and the `build`/`skip` selectors that choose among them, with cibuildwheel's meaning: a
//! selector is a whitespace-separated list of shell-style globs (`*`, `?`, `[…]`, `{a,b}`) and an
//! identifier is selected when any glob matches the whole identifier.

use std::fmt;
use std::str::FromStr;

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::platform::Arch;
use crate::platform::Libc;

/// The interpreter part of an identifier: implementation, version and free-threading.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PythonTag {
    /// `cp` (CPython) or `pp` (PyPy); other implementations keep their two letters.
    pub implementation: String,
    /// Major version, e.g. 3.
    pub major: u32,
    /// Minor version, e.g. 11.
    pub minor: u32,
    /// A free-threaded build (`cp313t`).
    pub free_threaded: bool,
    /// The implementation's own version where the tag carries one: GraalPy 25.0 is `gp312_250`.
    pub variant: Option<u32>,
}

impl PythonTag {
    /// Parses `cp311`, `cp313t`, `pp310`, `pp37`, `gp312_250`.
    pub fn parse(text: &str) -> Option<Self> {
        let (text, variant) = match text.split_once('_') {
            Some((tag, variant))
                if !variant.is_empty() && variant.bytes().all(|b| b.is_ascii_digit()) =>
            {
                (tag, Some(variant.parse().ok()?))
            }
            Some(_) => return None,
            None => (text, None),
        };
        let implementation = text.get(..2)?;
        if !implementation.bytes().all(|b| b.is_ascii_lowercase()) {
            return None;
        }
        let rest = &text[2..];
        let (digits, free_threaded) = match rest.strip_suffix('t') {
            Some(digits) => (digits, true),
            None => (rest, false),
        };
        if digits.len() < 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let major = digits[..1].parse().ok()?;
        let minor = digits[1..].parse().ok()?;
        Some(PythonTag {
            implementation: implementation.to_owned(),
            major,
            minor,
            free_threaded,
            variant,
        })
    }
}

impl fmt::Display for PythonTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{}", self.implementation, self.major, self.minor)?;
        if self.free_threaded {
            f.write_str("t")?;
        }
        if let Some(variant) = self.variant {
            write!(f, "_{variant}")?;
        }
        Ok(())
    }
}

/// One build: an interpreter on a platform (`cp311-manylinux_x86_64`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Identifier {
    /// The interpreter.
    pub python: PythonTag,
    /// glibc (`manylinux`) or musl (`musllinux`).
    pub libc: Libc,
    /// The architecture.
    pub arch: Arch,
}

impl Identifier {
    /// The platform part, e.g. `manylinux_x86_64`.
    #[must_use]
    pub fn platform(&self) -> String {
        format!("{}_{}", self.libc.tag_prefix(), self.arch.as_str())
    }
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.python, self.platform())
    }
}

/// Why an identifier or selector did not parse.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdentifierError {
    /// Not `<python>-<manylinux|musllinux>_<arch>`.
    #[error(
        "`{0}` is not a build identifier (expected e.g. `cp311-manylinux_x86_64` or `pp310-musllinux_i686`)"
    )]
    Malformed(String),
    /// A glob in a selector did not compile.
    #[error("`{pattern}` is not a valid selector pattern: {reason}")]
    BadPattern {
        /// The offending pattern.
        pattern: String,
        /// What the glob parser said.
        reason: String,
    },
}

impl FromStr for Identifier {
    type Err = IdentifierError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let malformed = || IdentifierError::Malformed(text.to_owned());
        let (python, platform) = text.split_once('-').ok_or_else(malformed)?;
        let python = PythonTag::parse(python).ok_or_else(malformed)?;
        let (libc, arch) = platform.split_once('_').ok_or_else(malformed)?;
        let libc = match libc {
            "manylinux" => Libc::Glibc,
            "musllinux" => Libc::Musl,
            _ => return Err(malformed()),
        };
        let arch = arch.parse::<Arch>().ok().ok_or_else(malformed)?;
        Ok(Identifier { python, libc, arch })
    }
}

/// A `build` or `skip` selector: whitespace-separated globs, any of which selects.
#[derive(Debug, Clone)]
pub struct Selector {
    text: String,
    set: GlobSet,
    empty: bool,
}

impl Selector {
    /// Compiles a selector. An empty or all-whitespace text matches nothing.
    pub fn parse(text: &str) -> Result<Self, IdentifierError> {
        let mut builder = GlobSetBuilder::new();
        let mut empty = true;
        for pattern in text.split_whitespace() {
            let glob = Glob::new(pattern).map_err(|err| IdentifierError::BadPattern {
                pattern: pattern.to_owned(),
                reason: err.kind().to_string(),
            })?;
            builder.add(glob);
            empty = false;
        }
        let set = builder.build().map_err(|err| IdentifierError::BadPattern {
            pattern: text.to_owned(),
            reason: err.to_string(),
        })?;
        Ok(Selector {
            text: text.trim().to_owned(),
            set,
            empty,
        })
    }

    /// Whether any glob matches the whole identifier.
    #[must_use]
    pub fn matches(&self, identifier: &str) -> bool {
        !self.empty && self.set.is_match(identifier)
    }

    /// Whether the selector has no patterns.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.empty
    }

    /// The selector as written (trimmed).
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// `build` minus `skip`, cibuildwheel's rule for which identifiers are built.
#[derive(Debug, Clone)]
pub struct BuildSelector {
    /// Identifiers to build (default `*`).
    pub build: Selector,
    /// Identifiers to leave out (default empty).
    pub skip: Selector,
}

impl BuildSelector {
    /// From the two selector texts.
    pub fn new(build: &str, skip: &str) -> Result<Self, IdentifierError> {
        Ok(BuildSelector {
            build: Selector::parse(build)?,
            skip: Selector::parse(skip)?,
        })
    }

    /// Whether the identifier is selected.
    #[must_use]
    pub fn selects(&self, identifier: &str) -> bool {
        self.build.matches(identifier) && !self.skip.matches(identifier)
    }
}

impl Default for BuildSelector {
    fn default() -> Self {
        BuildSelector::new("*", "").expect("the default selectors compile")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_round_trip() {
        for text in [
            "cp311-manylinux_x86_64",
            "cp313t-manylinux_i686",
            "pp310-manylinux_x86_64",
            "pp37-manylinux_i686",
            "cp312-musllinux_aarch64",
            "cp38-manylinux_ppc64le",
            "gp312_250-manylinux_x86_64",
        ] {
            let id: Identifier = text.parse().expect(text);
            assert_eq!(id.to_string(), text);
        }
        let id: Identifier = "cp313t-musllinux_x86_64".parse().expect("parses");
        assert!(id.python.free_threaded);
        assert_eq!((id.python.major, id.python.minor), (3, 13));
        assert_eq!(id.libc, Libc::Musl);
        assert_eq!(id.arch, Arch::X86_64);
    }

    #[test]
    fn malformed_identifiers_are_rejected() {
        for text in [
            "",
            "cp311",
            "cp311-linux_x86_64",
            "cp311-manylinux_sparc",
            "c311-manylinux_x86_64",
            "cp3-manylinux_x86_64",
            "cpXY-manylinux_x86_64",
            "CP311-manylinux_x86_64",
            "gp312_-manylinux_x86_64",
            "gp312_2x-manylinux_x86_64",
        ] {
            assert!(text.parse::<Identifier>().is_err(), "{text}");
        }
    }

    #[test]
    fn selectors_follow_cibuildwheel() {
        let sel = BuildSelector::new("cp3{10,11}-* pp*", "*-musllinux_* *i686").expect("compiles");
        assert!(sel.selects("cp310-manylinux_x86_64"));
        assert!(sel.selects("cp311-manylinux_x86_64"));
        assert!(sel.selects("pp310-manylinux_x86_64"));
        assert!(!sel.selects("cp312-manylinux_x86_64"));
        assert!(!sel.selects("cp311-musllinux_x86_64"));
        assert!(!sel.selects("cp311-manylinux_i686"));
        // A glob must match the whole identifier.
        assert!(
            !Selector::parse("cp31")
                .expect("compiles")
                .matches("cp311-manylinux_x86_64")
        );
        // `?` and classes.
        let sel = Selector::parse("cp3?-* cp31[0-2]-*").expect("compiles");
        assert!(sel.matches("cp39-manylinux_x86_64"));
        assert!(sel.matches("cp312-manylinux_x86_64"));
        assert!(!sel.matches("cp313-manylinux_x86_64"));
    }

    #[test]
    fn empty_selectors_match_nothing_and_defaults_select_everything() {
        assert!(
            !Selector::parse("  ")
                .expect("compiles")
                .matches("cp311-manylinux_x86_64")
        );
        assert!(BuildSelector::default().selects("pp37-manylinux_i686"));
    }

    #[test]
    fn bad_patterns_are_errors() {
        let err = Selector::parse("cp3{10,11-*").expect_err("unclosed brace");
        assert!(err.to_string().contains("cp3{10,11-*"), "{err}");
        assert!(Selector::parse("cp[3-*").is_err());
    }
}
