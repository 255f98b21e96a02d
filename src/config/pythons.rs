//! The Pythons wheelwright knows in manylinux/musllinux images, which platforms have them and
//! which are built without being asked for (the `enable` groups).
//!
//! Design note: this is one data table, not logic spread over selectors. cibuildwheel keeps the
//! same facts in `resources/build-platforms.toml` and `selector.py`; the table follows cibuildwheel
//! 4.3's for Linux, group for group, so a `[tool.cibuildwheel]` table selects the same identifiers
//! in both tools (checked against cibuildwheel itself on a corpus of real projects in
//! `tests/real/selection.rs`). What that means, and what wheelwright adds:
//!
//! * CPython 3.9–3.15 and free-threaded 3.14 and 3.15 (`cp314t`, `cp315t`) are built by default,
//!   as in cibuildwheel 4.3 (3.15 counts as released there since 4.2; `cpython-prerelease` gates
//!   3.16, which nothing ships yet).
//! * PyPy 3.11 and 3.12 need `pypy`; PyPy 3.9 and 3.10 need `pypy-eol`; GraalPy (`gp312_250`,
//!   `gp313_253`, x86_64 and aarch64 only) needs `graalpy`.
//! * wheelwright's own groups select interpreters cibuildwheel 4 no longer knows: `cpython-eol`
//!   (CPython 3.6–3.8), `cpython-freethreading` (`cp313t`, whose free-threaded build was
//!   experimental) and `pypy-legacy` (PyPy 3.7 and 3.8). `all` enables cibuildwheel's groups only
//!   (cibuildwheel refuses names it does not know, so no valid cibuildwheel table names these);
//!   wheelwright's own are enabled by name.
//! * `cpython-experimental-riscv64` (cibuildwheel 3.x) is accepted and gates nothing: riscv64 is
//!   built like every other architecture, as in cibuildwheel 4.3.
//! * `pyodide-prerelease` and `pyodide-eol` are accepted for compatibility and gate nothing
//!   wheelwright builds.

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
    /// Ex) `cpython-freethreading`: `cp313t` (wheelwright's own group since cibuildwheel 4).
    CpythonFreethreading,
    /// Ex) `cpython-prerelease`: CPython 3.16 (none known today).
    CpythonPrerelease,
    /// Ex) `cpython-experimental-riscv64`: accepted, gates nothing (cibuildwheel 3.x).
    CpythonExperimentalRiscv64,
    /// Ex) `pypy`: `pp311`, `pp312`.
    Pypy,
    /// Ex) `pypy-eol`: `pp39`, `pp310`.
    PypyEol,
    /// Ex) `pypy-legacy`: `pp37`, `pp38` (wheelwright's own group).
    PypyLegacy,
    /// Ex) `graalpy`: `gp312_250`, `gp313_253`.
    Graalpy,
    /// Ex) `pyodide-prerelease`: accepted, not a Linux platform.
    PyodidePrerelease,
    /// Ex) `pyodide-eol`: accepted, not a Linux platform.
    PyodideEol,
}

impl EnableGroup {
    /// Every group, in the order they are documented.
    pub const ALL: [EnableGroup; 10] = [
        EnableGroup::CpythonEol,
        EnableGroup::CpythonFreethreading,
        EnableGroup::CpythonPrerelease,
        EnableGroup::CpythonExperimentalRiscv64,
        EnableGroup::Pypy,
        EnableGroup::PypyEol,
        EnableGroup::PypyLegacy,
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
            EnableGroup::PypyLegacy => "pypy-legacy",
            EnableGroup::Graalpy => "graalpy",
            EnableGroup::PyodidePrerelease => "pyodide-prerelease",
            EnableGroup::PyodideEol => "pyodide-eol",
        }
    }

    /// Whether cibuildwheel 4.3 has this group (`all` enables exactly these).
    #[must_use]
    pub fn is_cibuildwheel(self) -> bool {
        matches!(
            self,
            EnableGroup::CpythonPrerelease
                | EnableGroup::Pypy
                | EnableGroup::PypyEol
                | EnableGroup::Graalpy
                | EnableGroup::PyodidePrerelease
                | EnableGroup::PyodideEol
        )
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
/// GIL sibling, PyPy after CPython, GraalPy last).
pub const KNOWN_PYTHONS: [KnownPython; 21] = [
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
        tag: "cp315",
        group: None,
    },
    KnownPython {
        tag: "cp315t",
        group: None,
    },
    KnownPython {
        tag: "pp37",
        group: Some(EnableGroup::PypyLegacy),
    },
    KnownPython {
        tag: "pp38",
        group: Some(EnableGroup::PypyLegacy),
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
    KnownPython {
        tag: "pp312",
        group: Some(EnableGroup::Pypy),
    },
    KnownPython {
        tag: "gp312_250",
        group: Some(EnableGroup::Graalpy),
    },
    KnownPython {
        tag: "gp313_253",
        group: Some(EnableGroup::Graalpy),
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
    /// images for x86_64, i686 and aarch64, GraalPy only in those for x86_64 and aarch64;
    /// CPython before 3.9 only on the five architectures manylinux2014 was published for.
    #[must_use]
    pub fn available_on(&self, libc: Libc, arch: Arch) -> bool {
        if self.tag.starts_with("gp") {
            return libc == Libc::Glibc && matches!(arch, Arch::X86_64 | Arch::Aarch64);
        }
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
    KNOWN_PYTHONS
        .iter()
        .find(|p| p.python_tag() == identifier.python)
        .and_then(|p| p.group)
        .into_iter()
        .collect()
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
        assert!(x86.contains(&"gp313_253-manylinux_x86_64".to_owned()));
        assert!(!x86.contains(&"pp37-musllinux_x86_64".to_owned()));
        for ft in ["cp313", "cp314", "cp315"] {
            let t = x86
                .iter()
                .position(|i| *i == format!("{ft}t-manylinux_x86_64"));
            let base = x86
                .iter()
                .position(|i| *i == format!("{ft}-manylinux_x86_64"));
            assert_eq!(t, base.map(|b| b + 1), "{ft}t follows {ft}");
        }
        // 21 manylinux + 13 musllinux (no PyPy, no GraalPy)
        assert_eq!(x86.len(), 21 + 13);
        let i686 = known_identifiers(&[Arch::I686]);
        assert!(
            !i686.iter().any(|id| id.python.implementation == "gp"),
            "no GraalPy on i686"
        );
    }

    #[test]
    fn pypy_and_graalpy_exist_only_where_the_images_have_them() {
        let id = |s: &str| s.parse::<Identifier>().expect(s);
        assert!(is_known(&id("pp37-manylinux_i686")));
        assert!(is_known(&id("pp312-manylinux_aarch64")));
        assert!(!is_known(&id("pp311-manylinux_s390x")));
        assert!(!is_known(&id("pp311-musllinux_x86_64")));
        assert!(is_known(&id("gp312_250-manylinux_aarch64")));
        assert!(!is_known(&id("gp312_250-manylinux_i686")));
        assert!(!is_known(&id("gp312_251-manylinux_x86_64")));
        assert!(!is_known(&id("cp27-manylinux_x86_64")));
        assert!(!is_known(&id("cp312-manylinux_ppc64")));
        assert!(is_known(&id("cp315t-musllinux_riscv64")));
    }

    #[test]
    fn groups_follow_cibuildwheel_4_3() {
        let id = |s: &str| s.parse::<Identifier>().expect(s);
        for default in [
            "cp39-manylinux_x86_64",
            "cp314t-manylinux_x86_64",
            "cp315-manylinux_i686",
            "cp315t-musllinux_x86_64",
            "cp312-musllinux_riscv64",
        ] {
            assert!(groups_needed(&id(default)).is_empty(), "{default}");
        }
        let cases = [
            ("cp313t-manylinux_x86_64", EnableGroup::CpythonFreethreading),
            ("pp39-manylinux_x86_64", EnableGroup::PypyEol),
            ("pp310-manylinux_x86_64", EnableGroup::PypyEol),
            ("pp311-manylinux_x86_64", EnableGroup::Pypy),
            ("pp312-manylinux_i686", EnableGroup::Pypy),
            ("pp38-manylinux_x86_64", EnableGroup::PypyLegacy),
            ("gp312_250-manylinux_x86_64", EnableGroup::Graalpy),
            ("cp38-manylinux_i686", EnableGroup::CpythonEol),
        ];
        for (identifier, group) in cases {
            assert_eq!(groups_needed(&id(identifier)), [group], "{identifier}");
        }
        for group in EnableGroup::ALL {
            assert_eq!(group.as_str().parse::<EnableGroup>(), Ok(group));
        }
        let cibuildwheel: Vec<&str> = EnableGroup::ALL
            .into_iter()
            .filter(|g| g.is_cibuildwheel())
            .map(EnableGroup::as_str)
            .collect();
        assert_eq!(
            cibuildwheel,
            [
                "cpython-prerelease",
                "pypy",
                "pypy-eol",
                "graalpy",
                "pyodide-prerelease",
                "pyodide-eol"
            ]
        );
    }
}
