//! The Pythons wheelwright knows in manylinux/musllinux images, which platforms have them and
//! which are built without being asked for (the `enable` groups).
//!
//! Design note: this is one data table, not logic spread over selectors. cibuildwheel v4.2 keeps
//! the same facts in `resources/build-platforms.toml` and `selector.py`; the groups below use its
//! names so an `enable = [...]` list written for cibuildwheel means the same here. What we chose
//! (see also the README's options table):
//!
//! * CPython 3.9–3.14 and free-threaded 3.14 (`cp314t`) are built by default, as in cibuildwheel
//!   4.x.
//! * `cp313t` needs `cpython-freethreading` (3.13's free-threaded build is experimental; cibuildwheel
//!   3.x gated it the same way and 4.0 dropped it).
//! * PyPy 3.11 needs `pypy`; PyPy 3.7–3.10 need `pypy-eol` (cibuildwheel 4.2's split; `pp37` is
//!   known because the test images carry it).
//! * CPython 3.6–3.8 are end-of-life and absent from the current images: they need
//!   `cpython-eol`, a wheelwright group (cibuildwheel no longer knows them at all).
//! * riscv64 needs `cpython-experimental-riscv64`, as in cibuildwheel.
//! * `cpython-prerelease`, `graalpy`, `pyodide-prerelease` and `pyodide-eol` are accepted for
//!   compatibility and gate nothing wheelwright builds.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use crate::config::identifier::{Identifier, PythonTag};
use crate::platform::Arch;
use crate::platform::Libc;

/// The architectures Linux wheels are built for, in cibuildwheel's order.
pub const LINUX_ARCHS: [Arch; 7] = [
    Arch::X86_64,
    Arch::I686,
    Arch::Aarch64,
    Arch::Ppc64le,
    Arch::S390x,
    Arch::Armv7l,
    Arch::Riscv64,
];

/// A group of identifiers that is only built when enabled (`enable = ["pypy"]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EnableGroup {
    /// Ex) `cpython-eol`: CPython 3.6–3.8 (wheelwright's own group).
    CpythonEol,
    /// Ex) `cpython-freethreading`: `cp313t`.
    CpythonFreethreading,
    /// Ex) `cpython-prerelease`: CPython betas (none known today).
    CpythonPrerelease,
    /// Ex) `cpython-experimental-riscv64`: every `*_riscv64` identifier.
    CpythonExperimentalRiscv64,
    /// Ex) `pypy`: `pp311`.
    Pypy,
    /// Ex) `pypy-eol`: `pp37`–`pp310`.
    PypyEol,
    /// Ex) `graalpy`: accepted, no Linux identifier here.
    Graalpy,
    /// Ex) `pyodide-prerelease`: accepted, not a Linux platform.
    PyodidePrerelease,
    /// Ex) `pyodide-eol`: accepted, not a Linux platform.
    PyodideEol,
}

impl EnableGroup {
    /// Every group, in the order they are documented.
    pub const ALL: [EnableGroup; 9] = [
        EnableGroup::CpythonEol,
        EnableGroup::CpythonFreethreading,
        EnableGroup::CpythonPrerelease,
        EnableGroup::CpythonExperimentalRiscv64,
        EnableGroup::Pypy,
        EnableGroup::PypyEol,
        EnableGroup::Graalpy,
        EnableGroup::PyodidePrerelease,
        EnableGroup::PyodideEol,
    ];

    /// The spelling in `enable`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            EnableGroup::CpythonEol => "cpython-eol",
            EnableGroup::CpythonFreethreading => "cpython-freethreading",
            EnableGroup::CpythonPrerelease => "cpython-prerelease",
            EnableGroup::CpythonExperimentalRiscv64 => "cpython-experimental-riscv64",
            EnableGroup::Pypy => "pypy",
            EnableGroup::PypyEol => "pypy-eol",
            EnableGroup::Graalpy => "graalpy",
            EnableGroup::PyodidePrerelease => "pyodide-prerelease",
            EnableGroup::PyodideEol => "pyodide-eol",
        }
    }
}

impl fmt::Display for EnableGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EnableGroup {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        EnableGroup::ALL
            .into_iter()
            .find(|g| g.as_str() == text)
            .ok_or(())
    }
}

/// The enabled groups (`enable`); `all` enables every group.
pub type EnableSet = BTreeSet<EnableGroup>;

/// One interpreter wheelwright can build for.
#[derive(Debug, Clone, Copy)]
pub struct KnownPython {
    /// The python tag. Ex) `cp313t`
    pub tag: &'static str,
    /// The group that must be enabled for it to be built by default (`None`: always).
    pub group: Option<EnableGroup>,
}

/// Every interpreter wheelwright knows, in build order (a free-threaded build right after its
/// GIL sibling, PyPy after CPython).
pub const KNOWN_PYTHONS: [KnownPython; 16] = [
    KnownPython {
        tag: "cp36",
        group: Some(EnableGroup::CpythonEol),
    },
    KnownPython {
        tag: "cp37",
        group: Some(EnableGroup::CpythonEol),
    },
    KnownPython {
        tag: "cp38",
        group: Some(EnableGroup::CpythonEol),
    },
    KnownPython {
        tag: "cp39",
        group: None,
    },
    KnownPython {
        tag: "cp310",
        group: None,
    },
    KnownPython {
        tag: "cp311",
        group: None,
    },
    KnownPython {
        tag: "cp312",
        group: None,
    },
    KnownPython {
        tag: "cp313",
        group: None,
    },
    KnownPython {
        tag: "cp313t",
        group: Some(EnableGroup::CpythonFreethreading),
    },
    KnownPython {
        tag: "cp314",
        group: None,
    },
    KnownPython {
        tag: "cp314t",
        group: None,
    },
    KnownPython {
        tag: "pp37",
        group: Some(EnableGroup::PypyEol),
    },
    KnownPython {
        tag: "pp38",
        group: Some(EnableGroup::PypyEol),
    },
    KnownPython {
        tag: "pp39",
        group: Some(EnableGroup::PypyEol),
    },
    KnownPython {
        tag: "pp310",
        group: Some(EnableGroup::PypyEol),
    },
    KnownPython {
        tag: "pp311",
        group: Some(EnableGroup::Pypy),
    },
];

impl KnownPython {
    /// The parsed tag.
    #[must_use]
    pub fn python_tag(&self) -> PythonTag {
        // The table above only holds valid tags (checked by a unit test).
        PythonTag::parse(self.tag).unwrap_or_else(|| unreachable!("bad table entry {}", self.tag))
    }

    /// Whether the images for this platform carry the interpreter: PyPy only in manylinux
    /// images for x86_64, i686 and aarch64; CPython before 3.9 only on the five architectures
    /// manylinux2014 was published for.
    #[must_use]
    pub fn available_on(&self, libc: Libc, arch: Arch) -> bool {
        if self.tag.starts_with("pp") {
            return libc == Libc::Glibc
                && matches!(arch, Arch::X86_64 | Arch::I686 | Arch::Aarch64);
        }
        if self.group == Some(EnableGroup::CpythonEol) {
            return matches!(
                arch,
                Arch::X86_64 | Arch::I686 | Arch::Aarch64 | Arch::Ppc64le | Arch::S390x
            );
        }
        true
    }
}

/// Every identifier wheelwright knows for these architectures, in build order: per architecture,
/// manylinux then musllinux, then the interpreters in table order.
#[must_use]
pub fn known_identifiers(arches: &[Arch]) -> Vec<Identifier> {
    let mut out = Vec::new();
    for &arch in arches {
        for libc in [Libc::Glibc, Libc::Musl] {
            for python in &KNOWN_PYTHONS {
                if python.available_on(libc, arch) {
                    out.push(Identifier {
                        python: python.python_tag(),
                        libc,
                        arch,
                    });
                }
            }
        }
    }
    out
}

/// Whether wheelwright can build this identifier at all.
#[must_use]
pub fn is_known(identifier: &Identifier) -> bool {
    LINUX_ARCHS.contains(&identifier.arch)
        && KNOWN_PYTHONS.iter().any(|p| {
            p.python_tag() == identifier.python && p.available_on(identifier.libc, identifier.arch)
        })
}

/// The groups that must all be enabled for the identifier to be built by default.
#[must_use]
pub fn groups_needed(identifier: &Identifier) -> Vec<EnableGroup> {
    let mut groups = Vec::new();
    if let Some(group) = KNOWN_PYTHONS
        .iter()
        .find(|p| p.python_tag() == identifier.python)
        .and_then(|p| p.group)
    {
        groups.push(group);
    }
    if identifier.arch == Arch::Riscv64 {
        groups.push(EnableGroup::CpythonExperimentalRiscv64);
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_parses_and_is_in_build_order() {
        for python in KNOWN_PYTHONS {
            let tag = python.python_tag();
            assert_eq!(tag.to_string(), python.tag);
        }
        let x86: Vec<String> = known_identifiers(&[Arch::X86_64])
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(x86[0], "cp36-manylinux_x86_64");
        assert!(x86.contains(&"pp37-manylinux_x86_64".to_owned()));
        assert!(!x86.contains(&"pp37-musllinux_x86_64".to_owned()));
        let t = x86.iter().position(|i| i == "cp313t-manylinux_x86_64");
        let base = x86.iter().position(|i| i == "cp313-manylinux_x86_64");
        assert_eq!(t, base.map(|b| b + 1));
        // 16 manylinux + 11 musllinux (no PyPy)
        assert_eq!(x86.len(), 16 + 11);
    }

    #[test]
    fn pypy_exists_only_where_the_images_have_it() {
        let id = |s: &str| s.parse::<Identifier>().expect(s);
        assert!(is_known(&id("pp37-manylinux_i686")));
        assert!(is_known(&id("pp311-manylinux_aarch64")));
        assert!(!is_known(&id("pp311-manylinux_s390x")));
        assert!(!is_known(&id("pp311-musllinux_x86_64")));
        assert!(!is_known(&id("cp27-manylinux_x86_64")));
        assert!(!is_known(&id("cp312-manylinux_ppc64")));
        assert!(is_known(&id("cp314t-musllinux_riscv64")));
    }

    #[test]
    fn groups_follow_the_documented_defaults() {
        let id = |s: &str| s.parse::<Identifier>().expect(s);
        assert!(groups_needed(&id("cp39-manylinux_x86_64")).is_empty());
        assert!(groups_needed(&id("cp314t-manylinux_x86_64")).is_empty());
        assert_eq!(
            groups_needed(&id("cp313t-manylinux_x86_64")),
            [EnableGroup::CpythonFreethreading]
        );
        assert_eq!(
            groups_needed(&id("pp310-manylinux_x86_64")),
            [EnableGroup::PypyEol]
        );
        assert_eq!(
            groups_needed(&id("pp311-manylinux_x86_64")),
            [EnableGroup::Pypy]
        );
        assert_eq!(
            groups_needed(&id("cp38-manylinux_i686")),
            [EnableGroup::CpythonEol]
        );
        assert_eq!(
            groups_needed(&id("cp312-musllinux_riscv64")),
            [EnableGroup::CpythonExperimentalRiscv64]
        );
        for group in EnableGroup::ALL {
            assert_eq!(group.as_str().parse::<EnableGroup>(), Ok(group));
        }
    }
}
