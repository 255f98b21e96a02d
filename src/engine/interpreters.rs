//! Finding the Python interpreters of a build environment and naming them with identifiers.
//!
//! In manylinux/musllinux images they live in `/opt/python/<python tag>-<abi tag>/bin/python`
//! (`cp39-cp39`, `cp313-cp313t`, `pp37-pypy37_pp73`); the directory name gives the identifier's
//! Python part. Interpreters given explicitly (`--python`, or `python3` on the host) are asked
//! for their tag instead.

use crate::config::identifier::{Identifier, PythonTag};
use crate::platform::Arch;
use crate::platform::Libc;

/// One interpreter and its identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interpreter {
    /// Ex) `cp39-manylinux_x86_64`
    pub identifier: Identifier,
    /// The interpreter inside the build environment. Ex) `/opt/python/cp39-cp39/bin/python`
    pub python: String,
}

impl Interpreter {
    /// The directory holding the interpreter (put first on PATH for its build).
    #[must_use]
    pub fn bin_dir(&self) -> &str {
        self.python.rsplit_once('/').map_or(".", |(dir, _)| dir)
    }
}

/// A shell script printing what [`parse_probe`] reads: the machine, the libc (musl when a musl
/// loader exists and no glibc `libc.so.6` does: a glibc system with musl-tools installed has
/// both), whether `linux32` and `manylinux-interpreters` exist, and every
/// `/opt/python/*/bin/python`.
pub const PROBE_SCRIPT: &str = r#"echo "machine $(uname -m)"
if ls /lib/ld-musl-* >/dev/null 2>&1 && ! ls /lib*/libc.so.6 /lib*/*/libc.so.6 /usr/lib*/libc.so.6 /usr/lib*/*/libc.so.6 >/dev/null 2>&1; then echo "libc musl"; else echo "libc glibc"; fi
if command -v linux32 >/dev/null 2>&1; then echo "linux32 yes"; fi
if command -v manylinux-interpreters >/dev/null 2>&1; then echo "installer yes"; fi
if command -v uv >/dev/null 2>&1; then echo "uv $(command -v uv)"; fi
for d in /opt/python/*/; do
    if [ -x "${d}bin/python" ]; then echo "python ${d}bin/python"; fi
done
"#;

/// What [`PROBE_SCRIPT`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// `uname -m` (without any personality wrapper).
    pub machine: String,
    /// The C library.
    pub libc: Libc,
    /// Whether `linux32` is available.
    pub linux32: bool,
    /// Whether the image installs interpreters on demand (`manylinux-interpreters`).
    pub installer: bool,
    /// `/opt/python/*/bin/python` paths.
    pub pythons: Vec<String>,
    /// Where `uv` is on PATH, if it is.
    pub uv: Option<String>,
}

/// Parses the output of [`PROBE_SCRIPT`].
#[must_use]
pub fn parse_probe(text: &str) -> Probe {
    let mut probe = Probe {
        machine: String::new(),
        libc: Libc::Glibc,
        linux32: false,
        installer: false,
        pythons: Vec::new(),
        uv: None,
    };
    for line in text.lines() {
        match line.split_once(' ') {
            Some(("machine", m)) => m.trim().clone_into(&mut probe.machine),
            Some(("libc", "musl")) => probe.libc = Libc::Musl,
            Some(("linux32", _)) => probe.linux32 = true,
            Some(("installer", _)) => probe.installer = true,
            Some(("python", p)) => probe.pythons.push(p.trim().to_owned()),
            Some(("uv", p)) => probe.uv = Some(p.trim().to_owned()),
            _ => {}
        }
    }
    probe
}

/// The Python part of an identifier from an `/opt/python` directory name:
/// `cp39-cp39` → `cp39`, `cp313-cp313t` → `cp313t`, `pp37-pypy37_pp73` → `pp37`,
/// `graalpy312-graalpy250_312_native` → `gp312_250`.
#[must_use]
pub fn python_tag_from_dir(dir: &str) -> Option<PythonTag> {
    let (python, abi) = dir.split_once('-')?;
    if let Some(version) = python.strip_prefix("graalpy") {
        // graalpy<python>-graalpy<graalpy version>_<python>_native
        let graalpy = abi.strip_prefix("graalpy")?.split('_').next()?;
        return PythonTag::parse(&format!("gp{version}_{graalpy}"));
    }
    let mut tag = PythonTag::parse(python)?;
    if abi.ends_with('t') && abi.starts_with(&tag.implementation) {
        tag.free_threaded = true;
    }
    Some(tag)
}

/// Interpreters from `/opt/python/<dir>/bin/python` paths; paths whose directory name is not a
/// known layout are returned separately (reported, not built).
#[must_use]
pub fn from_opt_python(
    paths: &[String],
    libc: Libc,
    arch: Arch,
) -> (Vec<Interpreter>, Vec<String>) {
    let mut found = Vec::new();
    let mut unknown = Vec::new();
    for path in paths {
        let dir = path
            .strip_suffix("/bin/python")
            .and_then(|d| d.rsplit('/').next())
            .unwrap_or_default();
        match python_tag_from_dir(dir) {
            Some(python) => found.push(Interpreter {
                identifier: Identifier { python, libc, arch },
                python: path.clone(),
            }),
            None => unknown.push(path.clone()),
        }
    }
    sort(&mut found);
    (found, unknown)
}

/// The interpreters `manylinux-interpreters list` names (one per line, the tag first: the text
/// format, plain or `-v`), each with the identifier it builds on this platform.
#[must_use]
pub fn parse_installable(text: &str, libc: Libc, arch: Arch) -> Vec<(String, Identifier)> {
    text.lines()
        .filter_map(|line| {
            let tag = line.split([' ', ':', '\t']).next()?.trim();
            let python = python_tag_from_dir(tag)?;
            Some((tag.to_owned(), Identifier { python, libc, arch }))
        })
        .collect()
}

/// CPython first, then PyPy, then the others, then by version (so abi3 wheels are built by the
/// oldest CPython first).
fn sort_key(id: &Identifier) -> (u8, String, u32, u32, bool) {
    (
        match id.python.implementation.as_str() {
            "cp" => 0,
            "pp" => 1,
            _ => 2,
        },
        id.python.implementation.clone(),
        id.python.major,
        id.python.minor,
        id.python.free_threaded,
    )
}

/// Sorts interpreters like [`from_opt_python`] does.
pub fn sort(interpreters: &mut [Interpreter]) {
    interpreters.sort_by_key(|i| sort_key(&i.identifier));
}

/// Python code printing an interpreter's tag (`cp311`, `cp313t`, `pp310`).
pub const TAG_CODE: &str = "import sys, sysconfig; \
n = {'cpython': 'cp', 'pypy': 'pp'}.get(sys.implementation.name, sys.implementation.name[:2]); \
t = 't' if sysconfig.get_config_var('Py_GIL_DISABLED') else ''; \
print('%s%d%d%s' % ((n,) + tuple(sys.version_info[:2]) + (t,)))";

/// A shell script that prints `<path> <tag>` for each interpreter (`<path> ?` when it fails).
#[must_use]
pub fn tag_script(pythons: &[String]) -> String {
    let mut script = String::new();
    for python in pythons {
        let quoted = crate::engine::process::shell_quote(python);
        let code = crate::engine::process::shell_quote(TAG_CODE);
        script.push_str(&format!(
            "printf '%s ' {quoted}; {quoted} -c {code} 2>/dev/null || echo '?'\n"
        ));
    }
    script
}

/// Parses the output of [`tag_script`]: interpreters, and the paths that did not answer.
#[must_use]
pub fn parse_tags(
    text: &str,
    pythons: &[String],
    libc: Libc,
    arch: Arch,
) -> (Vec<Interpreter>, Vec<String>) {
    let mut found = Vec::new();
    let mut failed = Vec::new();
    for python in pythons {
        let prefix = format!("{python} ");
        let tag = text
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .and_then(|t| PythonTag::parse(t.trim()));
        match tag {
            Some(python_tag) => found.push(Interpreter {
                identifier: Identifier {
                    python: python_tag,
                    libc,
                    arch,
                },
                python: python.clone(),
            }),
            None => failed.push(python.clone()),
        }
    }
    (found, failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_from_directory_names() {
        let paths: Vec<String> = [
            "/opt/python/pp37-pypy37_pp73/bin/python",
            "/opt/python/cp313-cp313t/bin/python",
            "/opt/python/cp39-cp39/bin/python",
            "/opt/python/cp313-cp313/bin/python",
            "/opt/python/graalpy311-graalpy242_311_native/bin/python",
            "/opt/python/cpython-3.9/bin/python",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let (found, unknown) = from_opt_python(&paths, Libc::Glibc, Arch::I686);
        let ids: Vec<String> = found.iter().map(|i| i.identifier.to_string()).collect();
        assert_eq!(
            ids,
            [
                "cp39-manylinux_i686",
                "cp313-manylinux_i686",
                "cp313t-manylinux_i686",
                "pp37-manylinux_i686",
                "gp311_242-manylinux_i686"
            ]
        );
        assert_eq!(found[0].bin_dir(), "/opt/python/cp39-cp39/bin");
        assert_eq!(unknown.len(), 1);
        let (found, _) = from_opt_python(&paths[..1], Libc::Musl, Arch::X86_64);
        assert_eq!(found[0].identifier.to_string(), "pp37-musllinux_x86_64");
    }

    #[test]
    fn installable_interpreters_from_the_list() {
        let listed = parse_installable(
            "cp313-cp313\ncp314-cp314t: /opt/python/cp314-cp314t not installed\npp311-pypy311_pp80\nnonsense\n\n",
            Libc::Glibc,
            Arch::X86_64,
        );
        let got: Vec<String> = listed
            .iter()
            .map(|(tag, id)| format!("{tag} {id}"))
            .collect();
        assert_eq!(
            got,
            [
                "cp313-cp313 cp313-manylinux_x86_64",
                "cp314-cp314t cp314t-manylinux_x86_64",
                "pp311-pypy311_pp80 pp311-manylinux_x86_64"
            ]
        );
    }

    #[test]
    fn probe_output() {
        let probe = parse_probe(
            "machine x86_64\nlibc musl\nlinux32 yes\ninstaller yes\npython /opt/python/cp39-cp39/bin/python\n",
        );
        assert_eq!(probe.machine, "x86_64");
        assert_eq!(probe.libc, Libc::Musl);
        assert!(probe.linux32);
        assert!(probe.installer);
        assert_eq!(probe.pythons, ["/opt/python/cp39-cp39/bin/python"]);
    }

    #[test]
    fn the_probe_runs_here() {
        // This machine is glibc-based (even with musl-tools' loader installed).
        let out = std::process::Command::new("sh")
            .args(["-c", PROBE_SCRIPT])
            .output()
            .expect("sh");
        let probe = parse_probe(&String::from_utf8_lossy(&out.stdout));
        assert_eq!(probe.libc, Libc::Glibc);
        assert!(!probe.machine.is_empty());
    }

    #[test]
    fn tags_from_interpreters() {
        let pythons = vec!["/usr/bin/python3".to_owned(), "/nope".to_owned()];
        let (found, failed) = parse_tags(
            "/usr/bin/python3 cp311\n/nope ?\n",
            &pythons,
            Libc::Glibc,
            Arch::X86_64,
        );
        assert_eq!(found[0].identifier.to_string(), "cp311-manylinux_x86_64");
        assert_eq!(failed, ["/nope"]);
    }

    #[test]
    fn the_tag_script_runs_here() {
        let python = crate::engine::process::find_program("python3")
            .expect("python3 on PATH (a documented requirement)");
        let python = python.display().to_string();
        let out = std::process::Command::new("sh")
            .args(["-c", &tag_script(std::slice::from_ref(&python))])
            .output()
            .expect("sh");
        let text = String::from_utf8_lossy(&out.stdout);
        let (found, failed) = parse_tags(&text, &[python], Libc::Glibc, Arch::X86_64);
        assert!(failed.is_empty(), "{text}");
        assert!(found[0].identifier.to_string().starts_with("cp3"), "{text}");
    }
}
