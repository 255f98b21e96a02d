//! The abi3 audit: an extension in a `cpXY-abi3` wheel promises to use only the Limited API
//! (stable ABI) of CPython X.Y. Every `Py*`/`_Py*` symbol its `.dynsym` imports (or exports) is
//! looked up in the stable-ABI symbol list: a symbol that is not there is outside the Limited API
//! (it may vanish or change in any release), and one added after X.Y makes the wheel fail to load
//! on the older interpreters its tag claims.
//!
//! The rule is abi3audit's (what cibuildwheel runs as `abi3audit --strict`): every `.so` file
//! of the wheel is checked; `PyInit_*` and local symbols are ignored; the baseline is the highest
//! `cpXY` Python tag paired with the `abi3` ABI tag. The symbol list is CPython's
//! `Misc/stable_abi.toml` as the abi3info package carries it, vendored in `abi3/stable_abi.tsv`
//! (refreshed by `scripts/update-abi3-symbols.sh`; MIT, see `abi3/NOTICE`).

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use serde::Serialize;

use super::WheelElf;
use crate::wheel::WheelFilename;

/// The vendored stable-ABI symbol list (name, kind, added, abi_only, ifdef; tab-separated).
const STABLE_ABI: &str = include_str!("abi3/stable_abi.tsv");

/// A CPython `major.minor` version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct PyVersion {
    /// Ex) `3`
    pub major: u8,
    /// Ex) `9`
    pub minor: u8,
}

impl PyVersion {
    /// Parses `3.9`.
    #[must_use]
    pub(crate) fn parse_dotted(text: &str) -> Option<Self> {
        let (major, minor) = text.split_once('.')?;
        Some(Self {
            major: major.parse().ok()?,
            minor: minor.parse().ok()?,
        })
    }

    /// Parses a CPython Python tag: `cp39` → 3.9, `cp310` → 3.10 (not `cp3`, not `py39`).
    #[must_use]
    pub(crate) fn from_python_tag(tag: &str) -> Option<Self> {
        let body = tag.strip_prefix("cp")?;
        if body.len() < 2 || !body.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(Self {
            major: body[..1].parse().ok()?,
            minor: body[1..].parse().ok()?,
        })
    }
}

impl fmt::Display for PyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl Serialize for PyVersion {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// `{symbol: version it was added in}` of the stable ABI (functions and data).
fn stable_abi() -> &'static HashMap<&'static str, PyVersion> {
    static TABLE: OnceLock<HashMap<&'static str, PyVersion>> = OnceLock::new();
    TABLE.get_or_init(|| {
        STABLE_ABI
            .lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| {
                let mut fields = line.split('\t');
                let name = fields.next()?;
                let _kind = fields.next()?;
                let added = PyVersion::parse_dotted(fields.next()?)?;
                Some((name, added))
            })
            .collect()
    })
}

/// The version a stable-ABI symbol was added in, or `None` if it is not in the stable ABI.
#[must_use]
pub(crate) fn added_in(symbol: &str) -> Option<PyVersion> {
    stable_abi().get(symbol).copied()
}

/// The abi3 version a wheel's tags claim: the highest `cpXY` Python tag of the tags whose ABI
/// is `abi3`. `None` for a wheel without such a tag.
#[must_use]
pub(crate) fn claimed_version(filename: &WheelFilename) -> Option<PyVersion> {
    if !filename.abi_tags.iter().any(|a| a == "abi3") {
        return None;
    }
    filename
        .python_tags
        .iter()
        .filter_map(|t| PyVersion::from_python_tag(t))
        .max()
}

/// A stable-ABI symbol newer than the claimed version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct NewerSymbol {
    /// Ex) `PyType_GetModuleByDef`
    pub symbol: String,
    /// The first Python version whose stable ABI has it. Ex) `3.13`
    pub added: PyVersion,
}

/// The audit of one ELF file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Abi3File {
    /// Path inside the wheel.
    pub path: String,
    /// `Py*` symbols outside the stable ABI (sorted).
    pub non_abi3_symbols: Vec<String>,
    /// Stable-ABI symbols added after the claimed version (sorted by name).
    pub newer_symbols: Vec<NewerSymbol>,
    /// The highest version the file's symbols need (at least the claimed one).
    pub computed: PyVersion,
}

impl Abi3File {
    /// Whether the file keeps the wheel's promise.
    #[must_use]
    pub(crate) fn ok(&self) -> bool {
        self.non_abi3_symbols.is_empty() && self.newer_symbols.is_empty()
    }
}

/// The abi3 audit of a wheel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Abi3Report {
    /// The version the tags claim. Ex) `3.9` for `cp39-abi3`
    pub claimed: PyVersion,
    /// The highest version any audited file needs.
    pub computed: PyVersion,
    /// Every `.so` file audited, in RECORD order.
    pub files: Vec<Abi3File>,
}

impl Abi3Report {
    /// Whether every file keeps the promise.
    #[must_use]
    pub(crate) fn ok(&self) -> bool {
        self.files.iter().all(Abi3File::ok)
    }

    /// One line naming every violation (symbol, file, first version), for errors.
    #[must_use]
    pub(crate) fn describe_violations(&self) -> String {
        let mut parts = Vec::new();
        for file in self.files.iter().filter(|f| !f.ok()) {
            let mut uses: Vec<String> = file
                .newer_symbols
                .iter()
                .map(|n| format!("`{}` (Limited API {})", n.symbol, n.added))
                .collect();
            uses.extend(
                file.non_abi3_symbols
                    .iter()
                    .map(|s| format!("`{s}` (not in the Limited API)")),
            );
            let shown = uses.len().min(6);
            let mut text = uses[..shown].join(", ");
            if uses.len() > shown {
                text.push_str(&format!(" and {} more", uses.len() - shown));
            }
            parts.push(format!("`{}` uses {text}", file.path));
        }
        parts.join("; ")
    }
}

/// Audits the `.so` ELF files of an abi3 wheel against the stable ABI of the version its tags
/// claim. `None` when the wheel is not tagged `cpXY-abi3`.
#[must_use]
pub(crate) fn audit(filename: &WheelFilename, elfs: &[WheelElf]) -> Option<Abi3Report> {
    let claimed = claimed_version(filename)?;
    let mut computed = claimed;
    let mut files = Vec::new();
    for elf in elfs.iter().filter(|e| e.path.ends_with(".so")) {
        let mut non_abi3: Vec<String> = Vec::new();
        let mut newer: Vec<NewerSymbol> = Vec::new();
        let mut file_computed = claimed;
        for symbol in &elf.info.python_symbols {
            match added_in(symbol) {
                Some(added) => {
                    file_computed = file_computed.max(added);
                    if added > claimed && !newer.iter().any(|n| n.symbol == *symbol) {
                        newer.push(NewerSymbol {
                            symbol: symbol.clone(),
                            added,
                        });
                    }
                }
                None if symbol.starts_with("PyInit_") => {}
                None => non_abi3.push(symbol.clone()),
            }
        }
        non_abi3.sort();
        non_abi3.dedup();
        newer.sort_by(|a, b| a.symbol.cmp(&b.symbol));
        computed = computed.max(file_computed);
        files.push(Abi3File {
            path: elf.path.clone(),
            non_abi3_symbols: non_abi3,
            newer_symbols: newer,
            computed: file_computed,
        });
    }
    Some(Abi3Report {
        claimed,
        computed,
        files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elf(path: &str, symbols: &[&str]) -> WheelElf {
        let mut info = crate::elf::analyze(
            &std::fs::read(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/fixtures/elf/root64/app/fake.cpython-311-x86_64-linux-gnu.so"),
            )
            .unwrap(),
        )
        .unwrap();
        info.python_symbols = symbols.iter().map(|s| (*s).to_owned()).collect();
        WheelElf {
            path: path.to_owned(),
            info: std::sync::Arc::new(info),
        }
    }

    #[test]
    fn versions_and_tags() {
        assert_eq!(
            PyVersion::from_python_tag("cp310"),
            PyVersion::parse_dotted("3.10")
        );
        assert_eq!(PyVersion::from_python_tag("cp3"), None);
        assert_eq!(PyVersion::from_python_tag("py39"), None);
        let name: WheelFilename = "demo-1.0-cp36.cp39-abi3-manylinux_2_17_x86_64.whl"
            .parse()
            .unwrap();
        assert_eq!(claimed_version(&name).unwrap().to_string(), "3.9");
        let name: WheelFilename = "demo-1.0-cp39-cp39-manylinux_2_17_x86_64.whl"
            .parse()
            .unwrap();
        assert_eq!(claimed_version(&name), None);
    }

    #[test]
    fn the_table_knows_the_limited_api() {
        assert_eq!(added_in("PyArg_ParseTuple").unwrap().to_string(), "3.2");
        assert_eq!(added_in("PyType_FromSpec").unwrap().to_string(), "3.2");
        assert_eq!(
            added_in("PyType_GetModuleByDef").unwrap().to_string(),
            "3.13"
        );
        assert_eq!(added_in("PyFrame_GetCode").unwrap().to_string(), "3.10");
        assert_eq!(added_in("_PyUnicode_Ready"), None);
    }

    #[test]
    fn violations_name_symbol_file_and_version() {
        let name: WheelFilename = "demo-1.0-cp39-abi3-manylinux_2_17_x86_64.whl"
            .parse()
            .unwrap();
        let elfs = [
            elf(
                "demo/_ok.abi3.so",
                &["PyInit__ok", "PyArg_ParseTuple", "Py_BuildValue"],
            ),
            elf(
                "demo/_bad.abi3.so",
                &[
                    "PyInit__bad",
                    "PyFrame_GetCode",
                    "_PyUnicode_Ready",
                    "PyFrame_GetCode",
                ],
            ),
            elf("demo.libs/libhelper.so.1", &["_PyUnicode_Ready"]),
        ];
        let report = audit(&name, &elfs).unwrap();
        assert!(!report.ok());
        assert_eq!(report.files.len(), 2, "only `.so` files, like abi3audit");
        assert!(report.files[0].ok());
        let bad = &report.files[1];
        assert_eq!(bad.non_abi3_symbols, ["_PyUnicode_Ready"]);
        assert_eq!(bad.newer_symbols.len(), 1);
        assert_eq!(bad.newer_symbols[0].symbol, "PyFrame_GetCode");
        assert_eq!(report.computed.to_string(), "3.10");
        assert_eq!(
            report.describe_violations(),
            "`demo/_bad.abi3.so` uses `PyFrame_GetCode` (Limited API 3.10), `_PyUnicode_Ready` (not in the Limited API)"
        );
    }
}
