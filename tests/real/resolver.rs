//! The library resolver against its two oracles on the committed fixture roots
//! (`tests/fixtures/elf/root64`, `root32`): every ELF file of the root's class is resolved
//!
//! * by the real glibc loader of this machine (Debian 12: glibc 2.36), chrooted into a copy of
//!   the root that gets the host's `ld.so` and an `ld.so.cache` from `ldconfig -X -r`, traced
//!   with `LD_TRACE_LOADED_OBJECTS=1` — `--resolver ldso` must name the same file for every
//!   `DT_NEEDED` name of the whole tree, found or not;
//! * by auditwheel 6.8.2's own `lddtree.ldd()` from the tool venv, given the root —
//!   `--resolver auditwheel` must give the same path and realpath for every name;
//!
//! with and without `LD_LIBRARY_PATH=/ldlp`. The one explained exception: a tree with a
//! `DT_NEEDED` that contains a `/` makes auditwheel 6.8.2 fail under a root other than `/` (it
//! joins the absolute name onto each search directory, which drops the root); there
//! `--resolver auditwheel` must answer as the loader does.
//!
//! The answers are then written as `tests/fixtures/elf/EXPECTED.md`: the test fails when the
//! committed file differs from what the oracles said in this run (`WW_UPDATE_EXPECTED=1`
//! rewrites it). The fast fixture tests in `src/audit/resolve/tests.rs` read that file, so their
//! expectations are the oracles' answers too.
//!
//! Needs root: the loader runs in a `chroot` (scripts/test.sh runs as root, as CI does).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Component, Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use wheelwright::audit::resolve::{Location, Resolver, ResolverMode, SearchEnv, WheelFiles};
use wheelwright::elf;

use crate::support::{repo, testbed};

/// The file the answers are written to, relative to the repository.
const EXPECTED_MD: &str = "tests/fixtures/elf/EXPECTED.md";
/// Set to rewrite [`EXPECTED_MD`] from this run's answers.
const UPDATE: &str = "WW_UPDATE_EXPECTED";
/// The `LD_LIBRARY_PATH` directory of the roots (copies of `librp.so.1` and `librun.so.1`).
const LDLP: &str = "/ldlp";

/// Runs `argv[2]` (the loader) on `argv[3]` chrooted into `argv[1]`, with
/// `LD_TRACE_LOADED_OBJECTS=1` and, when `argv[4]` is not empty, `LD_LIBRARY_PATH=argv[4]`. The
/// variables are set only for the exec: set on this process, they would trace python itself.
const CHROOT_TRACE: &str = r#"
import os, sys
root, loader, obj, ldlp = sys.argv[1:5]
env = {"LD_TRACE_LOADED_OBJECTS": "1"}
if ldlp:
    env["LD_LIBRARY_PATH"] = ldlp
os.chroot(root)
os.chdir("/")
os.execve(loader, [loader, obj], env)
"#;

/// auditwheel 6.8.2's `ldd()` on each object (`argv[2:]`, paths inside the root `argv[1]`);
/// prints `{object: {"libs": [[soname, path, realpath], ...]} | {"error": type}}` with paths
/// inside the root. auditwheel has no `--root` option: its own `load_ld_paths(root=…)` reads the
/// root's `ld.so.conf` (root-prefixed) and the environment's `AUDITWHEEL_LD_LIBRARY_PATH`, but
/// appends the trusted directories without the root; they are prefixed the same way here, which
/// is the search list `--resolver auditwheel --root` follows.
const AUDITWHEEL_LDD: &str = r#"
import json, sys
from pathlib import Path
from auditwheel.lddtree import ldd, load_ld_paths
from auditwheel.libc import Libc

root = sys.argv[1].rstrip("/") + "/"
base = load_ld_paths(Libc.GLIBC, root=root)
trusted = ("/lib", "/lib64/", "/usr/lib", "/usr/lib64")
conf = [root + d.strip("/") if d in trusted else d for d in base["conf"]]

def inside(path):
    if path is None:
        return None
    path = str(path)
    if not path.startswith(root):
        raise ValueError("outside the root")
    return "/" + path[len(root):]

out = {}
for obj in sys.argv[2:]:
    ldpaths = {"conf": list(conf), "env": list(base["env"]), "interp": []}
    try:
        tree = ldd(Path(root + obj.lstrip("/")), root=root, ldpaths=ldpaths)
        out[obj] = {"libs": [[name, inside(lib.path), inside(lib.realpath)]
                             for name, lib in tree.libraries.items()]}
    except Exception as e:
        out[obj] = {"error": type(e).__name__}
print(json.dumps(out))
"#;

/// A found library: the search-path candidate and the file it is (links followed).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Found {
    path: String,
    realpath: String,
}

/// `{DT_NEEDED name: what it resolves to}` for one object's whole tree (`None`: not found).
type Tree = BTreeMap<String, Option<Found>>;
/// The loader's answers: the path only, in load order.
type Trace = Vec<(String, Option<String>)>;

/// One fixture root and its ELF files.
struct FixtureRoot {
    bits: u32,
    dir: PathBuf,
    /// ELF files of the root's class, by path inside the root.
    objects: Vec<String>,
    /// Files left out, with the reason.
    skipped: Vec<(String, String)>,
}

impl FixtureRoot {
    fn load(bits: u32) -> Self {
        let dir = repo().join(format!("tests/fixtures/elf/root{bits}"));
        let mut files = Vec::new();
        regular_files(&dir, &mut files);
        files.sort();
        let mut objects = Vec::new();
        let mut skipped = Vec::new();
        for file in files {
            let inside = format!(
                "/{}",
                file.strip_prefix(&dir).expect("under the root").display()
            );
            let data = fs_err::read(&file).expect("read fixture");
            match elf::analyze(&data) {
                Ok(info) if info.platform.is_64 == (bits == 64) => objects.push(inside),
                Ok(_) => skipped.push((
                    inside,
                    format!(
                        "ELFCLASS{} in the {bits}-bit root (a wrong-class decoy)",
                        96 - bits
                    ),
                )),
                // Only the kind of error: the parser's detail is not the fixture's business.
                Err(err) => skipped.push((
                    inside,
                    err.to_string()
                        .split(':')
                        .next()
                        .unwrap_or_default()
                        .to_owned(),
                )),
            }
        }
        FixtureRoot {
            bits,
            dir,
            objects,
            skipped,
        }
    }

    fn loader(&self) -> &'static str {
        if self.bits == 64 {
            "/lib64/ld-linux-x86-64.so.2"
        } else {
            "/lib/ld-linux.so.2"
        }
    }
}

fn regular_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs_err::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        let meta = fs_err::symlink_metadata(&path).expect("metadata");
        if meta.is_dir() {
            regular_files(&path, out);
        } else if meta.is_file() {
            out.push(path);
        }
    }
}

/// Lexical normalisation of an absolute path (`/app/bin/../rp` -> `/app/rp`); the fixture
/// roots have no symlinked directories, so this is the file the loader opened.
fn normalize(path: &str) -> String {
    let mut out = PathBuf::from("/");
    for component in Path::new(path).components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(part) => out.push(part),
            _ => {}
        }
    }
    out.display().to_string()
}

/// A copy of the root with the host's loader and an `ld.so.cache`, for the chroot.
struct LoaderRoot {
    _temp: tempfile::TempDir,
    dir: PathBuf,
    loader: &'static str,
}

impl LoaderRoot {
    fn new(root: &FixtureRoot) -> Self {
        let temp = tempfile::Builder::new()
            .prefix("ww-loader-")
            .tempdir()
            .expect("tempdir");
        let dir = temp.path().join("root");
        let status = Command::new("cp")
            .arg("-a")
            .arg(&root.dir)
            .arg(&dir)
            .status()
            .expect("cp");
        assert!(status.success(), "cp -a {} failed", root.dir.display());
        let loader = root.loader();
        assert!(
            Path::new(loader).exists(),
            "the host has no `{loader}` (Debian: libc6 / libc6-i386 from gcc-multilib): run scripts/setup-dev.sh"
        );
        let target = dir.join(loader.trim_start_matches('/'));
        fs_err::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        fs_err::copy(loader, &target).expect("copy the loader");
        let output = Command::new("ldconfig")
            .arg("-X")
            .arg("-r")
            .arg(&dir)
            .output()
            .expect("ldconfig");
        assert!(
            output.status.success(),
            "ldconfig -X -r {} failed: {}",
            dir.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        LoaderRoot {
            _temp: temp,
            dir,
            loader,
        }
    }

    /// What the loader maps for `object`, in load order.
    fn trace(&self, object: &str, ldlp: Option<&str>) -> Result<Trace, String> {
        let output = Command::new("python3")
            .args(["-S", "-c", CHROOT_TRACE])
            .arg(&self.dir)
            .arg(self.loader)
            .arg(object)
            .arg(ldlp.unwrap_or_default())
            .env_remove("LD_LIBRARY_PATH")
            .env_remove("LD_PRELOAD")
            .output()
            .map_err(|e| format!("cannot run python3: {e}"))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        // The stub libc has no version definitions: the loader warns, and that is all it may say.
        let complaints: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.contains("no version information available"))
            .collect();
        if !output.status.success() || !complaints.is_empty() {
            return Err(format!(
                "the loader failed ({}): {}",
                output.status,
                complaints.join(" / ")
            ));
        }
        let mut trace = Trace::new();
        for line in stdout.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if line == "statically linked" {
                // What the trace says of an object without dependencies.
                continue;
            }
            let without_address = line.rsplit_once(" (0x").map_or(line, |(l, _)| l);
            if let Some((name, found)) = without_address.split_once(" => ") {
                let found = (found != "not found").then(|| normalize(found));
                trace.push((name.to_owned(), found));
            } else if without_address.starts_with('/') {
                // A DT_NEEDED path (no search): printed once, as itself.
                trace.push((without_address.to_owned(), Some(normalize(without_address))));
            } else if !without_address.starts_with("linux-vdso")
                && !without_address.starts_with("linux-gate")
            {
                return Err(format!("unexpected trace line `{line}`"));
            }
        }
        Ok(trace)
    }
}

/// auditwheel's trees of every object of `root`, by object.
fn auditwheel_trees(
    root: &FixtureRoot,
    ldlp: Option<&str>,
) -> BTreeMap<String, Result<Tree, String>> {
    let mut cmd = testbed().command(
        testbed()
            .venv
            .join("bin/python")
            .to_str()
            .expect("utf-8 path"),
    );
    cmd.args(["-c", AUDITWHEEL_LDD])
        .arg(&root.dir)
        .args(&root.objects);
    if let Some(dir) = ldlp {
        // auditwheel takes AUDITWHEEL_LD_LIBRARY_PATH as host paths ("already resolved").
        cmd.env(
            "AUDITWHEEL_LD_LIBRARY_PATH",
            root.dir.join(dir.trim_start_matches('/')),
        );
    }
    let output = crate::support::run_ok(&mut cmd);
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("auditwheel JSON");
    let mut out = BTreeMap::new();
    for object in &root.objects {
        let answer = &json[object.as_str()];
        let tree = if let Some(error) = answer["error"].as_str() {
            Err(error.to_owned())
        } else {
            let mut tree = Tree::new();
            for lib in answer["libs"].as_array().expect("libs") {
                let name = lib[0].as_str().expect("soname").to_owned();
                let found = match (lib[1].as_str(), lib[2].as_str()) {
                    (Some(path), Some(realpath)) => Some(Found {
                        path: path.to_owned(),
                        realpath: realpath.to_owned(),
                    }),
                    _ => None,
                };
                tree.insert(name, found);
            }
            Ok(tree)
        };
        out.insert(object.clone(), tree);
    }
    out
}

/// wheelwright's tree of `object` in `mode`.
fn wheelwright_tree(
    root: &FixtureRoot,
    mode: ResolverMode,
    ldlp: Option<&str>,
    object: &str,
) -> Tree {
    let env = SearchEnv {
        root: root.dir.clone(),
        mode,
        // wheelwright reads the library path inside the root.
        library_path: ldlp.iter().map(|d| (*d).to_owned()).collect(),
        ldpaths: None,
    };
    let wheel = WheelFiles::default();
    let mut resolver = Resolver::new(&env, &wheel);
    let data = fs_err::read(root.dir.join(object.trim_start_matches('/'))).expect("read");
    let info = Arc::new(elf::analyze(&data).expect("ELF"));
    let tree = resolver.tree_at(Location::Host(PathBuf::from(object)), &info, &[]);
    tree.libraries
        .into_iter()
        .map(|(name, lib)| {
            let found = match (lib.path, lib.realpath) {
                (Some(path), Some(realpath)) => Some(Found {
                    path: path.to_string(),
                    realpath: realpath.to_string(),
                }),
                _ => None,
            };
            (name, found)
        })
        .collect()
}

/// `{name: path}` of a tree: what the loader tells of it.
fn paths(tree: &Tree) -> BTreeMap<&str, Option<&str>> {
    tree.iter()
        .map(|(name, found)| (name.as_str(), found.as_ref().map(|f| f.path.as_str())))
        .collect()
}

/// One object's answers in one setting.
struct Answers {
    object: String,
    /// A `DT_NEEDED` name of the tree is a path (contains a `/`).
    needs_a_path: bool,
    loader: Trace,
    auditwheel: Result<Tree, String>,
}

impl Answers {
    /// Every name either oracle resolved, in the loader's order, then auditwheel's extras.
    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.loader.iter().map(|(n, _)| n.clone()).collect();
        if let Ok(tree) = &self.auditwheel {
            for name in tree.keys() {
                if !names.contains(name) {
                    names.push(name.clone());
                }
            }
        }
        names
    }

    fn loader_path(&self, name: &str) -> Option<&str> {
        self.loader
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, p)| p.as_deref())
    }

    /// Differences between the oracles and wheelwright's two modes.
    fn check(&self, ldso: &Tree, auditwheel_mode: &Tree) -> Vec<String> {
        let mut problems = Vec::new();
        let loader: BTreeMap<&str, Option<&str>> = self
            .loader
            .iter()
            .map(|(n, p)| (n.as_str(), p.as_deref()))
            .collect();
        let ours = paths(ldso);
        if loader != ours {
            problems.push(format!(
                "--resolver ldso differs from the loader\n    loader:      {loader:?}\n    wheelwright: {ours:?}"
            ));
        }
        match &self.auditwheel {
            Ok(tree) => {
                if tree != auditwheel_mode {
                    problems.push(format!(
                        "--resolver auditwheel differs from auditwheel\n    auditwheel:  {tree:?}\n    wheelwright: {auditwheel_mode:?}"
                    ));
                }
            }
            // The explained exception: auditwheel 6.8.2 cannot resolve a NEEDED path under a
            // root; wheelwright's auditwheel mode then follows the loader.
            Err(error) if self.needs_a_path => {
                let ours = paths(auditwheel_mode);
                if loader != ours {
                    problems.push(format!(
                        "auditwheel fails ({error}); --resolver auditwheel must then answer as the loader\n    loader:      {loader:?}\n    wheelwright: {ours:?}"
                    ));
                }
            }
            Err(error) => problems.push(format!("auditwheel fails: {error}")),
        }
        problems
    }

    /// Table rows: `[NEEDED, loader, auditwheel, same]`.
    fn rows(&self) -> Vec<[String; 4]> {
        let names = self.names();
        if names.is_empty() {
            return vec![["(none)".into(), String::new(), String::new(), String::new()]];
        }
        names
            .iter()
            .map(|name| {
                let loader = self.loader_path(name);
                let loader_cell = match self.loader.iter().find(|(n, _)| n == name) {
                    None => "(not reached)".to_owned(),
                    Some((_, None)) => "not found".to_owned(),
                    Some((_, Some(path))) => format!("`{path}`"),
                };
                let (auditwheel_cell, same) = match &self.auditwheel {
                    Err(error) => (format!("error: {error}"), "—"),
                    Ok(tree) => match tree.get(name) {
                        None => ("(not reached)".to_owned(), "**no**"),
                        Some(None) => (
                            "not found".to_owned(),
                            if loader.is_none() { "yes" } else { "**no**" },
                        ),
                        Some(Some(found)) => {
                            let cell = if found.path == found.realpath {
                                format!("`{}`", found.path)
                            } else {
                                format!("`{}` → `{}`", found.path, found.realpath)
                            };
                            (
                                cell,
                                if loader == Some(found.path.as_str()) {
                                    "yes"
                                } else {
                                    "**no**"
                                },
                            )
                        }
                    },
                };
                [
                    format!("`{name}`"),
                    loader_cell,
                    auditwheel_cell,
                    same.to_owned(),
                ]
            })
            .collect()
    }
}

/// Rows of both roots for one setting; identical rows of both roots are merged.
fn table(answers: &BTreeMap<u32, Vec<Answers>>, include: &dyn Fn(u32, &Answers) -> bool) -> String {
    let mut objects: BTreeSet<&str> = BTreeSet::new();
    for list in answers.values() {
        for a in list {
            objects.insert(a.object.as_str());
        }
    }
    let mut out = String::from(
        "| Roots | Object | NEEDED | glibc loader | auditwheel 6.8.2 (path → realpath) | Same |\n|---|---|---|---|---|---|\n",
    );
    let mut count = 0;
    for object in objects {
        let per_root: Vec<(u32, Vec<[String; 4]>)> = [64, 32]
            .into_iter()
            .filter_map(|bits| {
                answers[&bits]
                    .iter()
                    .find(|a| a.object == object && include(bits, a))
                    .map(|a| (bits, a.rows()))
            })
            .collect();
        let groups: Vec<(String, &Vec<[String; 4]>)> = match per_root.as_slice() {
            [(_, a), (_, b)] if a == b => vec![("64, 32".into(), a)],
            other => other
                .iter()
                .map(|(bits, rows)| (bits.to_string(), rows))
                .collect(),
        };
        for (roots, rows) in groups {
            for row in rows {
                count += 1;
                let _ = writeln!(
                    out,
                    "| {roots} | `{object}` | {} | {} | {} | {} |",
                    row[0], row[1], row[2], row[3]
                );
            }
        }
    }
    if count == 0 {
        out.push_str("| – | (no object changes) | | | | |\n");
    }
    out
}

fn document(
    loader_version: &str,
    plain: &BTreeMap<u32, Vec<Answers>>,
    with_ldlp: &BTreeMap<u32, Vec<Answers>>,
    skipped: &BTreeMap<u32, Vec<(String, String)>>,
) -> String {
    let mut doc = String::new();
    let _ = write!(
        doc,
        "# Library resolution in the fixture roots (generated)\n\n\
         Generated by `tests/real/resolver.rs` (`resolver::fixture_roots_resolve_as_the_loader_and_auditwheel_do`)\n\
         from the oracles' own answers; do not edit. The test fails while this file differs from\n\
         what the oracles answer; `{UPDATE}=1 cargo test --test real -- resolver` rewrites it. The\n\
         fast fixture tests in `src/audit/resolve/tests.rs` read the tables below.\n\n\
         * **glibc loader**: the {loader_version} loader of the test machine, chrooted into a copy of the\n  \
           root with an `ld.so.cache` from `ldconfig -X -r`, run with `LD_TRACE_LOADED_OBJECTS=1`; paths as it\n  \
           printed them, normalised (`/app/bin/../rp` is `/app/rp`). `wheelwright --resolver ldso` (the\n  \
           default) must name the same file for every name.\n\
         * **auditwheel 6.8.2**: `auditwheel.lddtree.ldd()` with the root, the search list of its\n  \
           `load_ld_paths(root=…)` (the root's `ld.so.conf`, then `/lib /lib64 /usr/lib /usr/lib64` inside the\n  \
           root). `wheelwright --resolver auditwheel` must give the same path and realpath.\n  \
           Exception: a tree with a `DT_NEEDED` that holds a path (`/app/slash.so`) makes auditwheel\n  \
           fail under a root other than `/` (it joins the absolute name onto each search directory,\n  \
           which drops the root); there `--resolver auditwheel` answers as the loader.\n\
         * **Same**: whether both oracles name the same file; the `no` rows are the branches where the\n  \
           two models differ (`$ORIGIN` of a library found through a symlink, RUNPATH inheritance).\n\
         * `not found`: the oracle searched and found nothing; `(not reached)`: the name is not in that\n  \
           oracle's tree (only a library the other oracle found needs it).\n\n\
         Paths are inside the root. Every name of an object's whole dependency tree is listed. See\n\
         [README.md](README.md) for what each file covers.\n\n\
         ## Without LD_LIBRARY_PATH\n\n"
    );
    doc.push_str(&table(plain, &|_, _| true));
    let _ = write!(
        doc,
        "\n## With LD_LIBRARY_PATH={LDLP}\n\n\
         The loader with `LD_LIBRARY_PATH={LDLP}`; auditwheel with `AUDITWHEEL_LD_LIBRARY_PATH` set to the\n\
         root's `{LDLP}` (auditwheel ignores `LD_LIBRARY_PATH` under a root and takes this variable as\n\
         already root-prefixed; wheelwright reads it inside the root). Only the objects whose answers\n\
         change are listed; every other object resolves as above.\n\n"
    );
    doc.push_str(&table(with_ldlp, &|bits, answers| {
        let before = plain[&bits]
            .iter()
            .find(|a| a.object == answers.object)
            .expect("same objects");
        before.rows() != answers.rows()
    }));
    doc.push_str(
        "\n## Not resolved\n\nFiles of the roots that are not ELF objects of the root's class:\n\n",
    );
    let mut lines: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for (bits, list) in skipped {
        for (file, reason) in list {
            lines
                .entry(format!("`{file}`: {reason}"))
                .or_default()
                .push(*bits);
        }
    }
    for (line, roots) in lines {
        let roots: Vec<String> = roots.iter().rev().map(ToString::to_string).collect();
        let _ = writeln!(doc, "* {line} (root {})", roots.join(", "));
    }
    doc
}

/// `glibc 2.36`, from the loader's `--version`.
fn loader_version() -> String {
    let output = Command::new("/lib64/ld-linux-x86-64.so.2")
        .arg("--version")
        .output()
        .expect("ld.so --version");
    let text = String::from_utf8_lossy(&output.stdout);
    let version = text
        .lines()
        .next()
        .and_then(|l| l.split("version ").nth(1))
        .map(|v| v.trim_end_matches('.').to_owned())
        .unwrap_or_else(|| panic!("cannot read the loader's version from {text}"));
    format!("glibc {version}")
}

#[test]
#[expect(clippy::print_stderr, reason = "the test reports what it compared")]
fn fixture_roots_resolve_as_the_loader_and_auditwheel_do() {
    let uid = fs_err::metadata("/proc/self").expect("/proc/self").uid();
    assert_eq!(
        uid, 0,
        "this test runs the glibc loader in a chroot and needs root (scripts/test.sh and CI run as root)"
    );
    let mut plain: BTreeMap<u32, Vec<Answers>> = BTreeMap::new();
    let mut with_ldlp: BTreeMap<u32, Vec<Answers>> = BTreeMap::new();
    let mut skipped = BTreeMap::new();
    let mut problems = Vec::new();
    let mut compared = 0;
    for bits in [64, 32] {
        let root = FixtureRoot::load(bits);
        assert!(
            root.objects.len() >= 20,
            "only {} objects in {}",
            root.objects.len(),
            root.dir.display()
        );
        let loader = LoaderRoot::new(&root);
        for ldlp in [None, Some(LDLP)] {
            let auditwheel = auditwheel_trees(&root, ldlp);
            let mut list = Vec::new();
            for object in &root.objects {
                let label = format!(
                    "root{bits} {object}{}",
                    ldlp.map(|d| format!(" (LD_LIBRARY_PATH={d})"))
                        .unwrap_or_default()
                );
                let trace = match loader.trace(object, ldlp) {
                    Ok(trace) => trace,
                    Err(err) => {
                        problems.push(format!("{label}: {err}"));
                        continue;
                    }
                };
                let answers = Answers {
                    object: object.clone(),
                    needs_a_path: trace.iter().any(|(name, _)| name.contains('/')),
                    loader: trace,
                    auditwheel: auditwheel[object].clone(),
                };
                let ldso = wheelwright_tree(&root, ResolverMode::Ldso, ldlp, object);
                let auditwheel_mode =
                    wheelwright_tree(&root, ResolverMode::Auditwheel, ldlp, object);
                for problem in answers.check(&ldso, &auditwheel_mode) {
                    problems.push(format!("{label}: {problem}"));
                }
                compared += 1;
                list.push(answers);
            }
            match ldlp {
                None => plain.insert(bits, list),
                Some(_) => with_ldlp.insert(bits, list),
            };
        }
        skipped.insert(bits, root.skipped);
    }
    eprintln!("resolver: {compared} object trees compared with the glibc loader and auditwheel");
    assert!(
        problems.is_empty(),
        "{} disagreement(s):\n{}",
        problems.len(),
        problems.join("\n")
    );

    // The fixtures must keep covering the branches where the two models part.
    let parting = plain
        .values()
        .flatten()
        .flat_map(Answers::rows)
        .filter(|row| row[3] == "**no**")
        .count();
    assert!(
        parting >= 3,
        "only {parting} names resolve differently under the two models: the fixtures lost coverage"
    );

    let generated = document(&loader_version(), &plain, &with_ldlp, &skipped);
    let path = repo().join(EXPECTED_MD);
    let committed = fs_err::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        if std::env::var_os(UPDATE).is_some() {
            fs_err::write(&path, &generated).expect("write EXPECTED.md");
            eprintln!("resolver: rewrote {EXPECTED_MD}");
        } else {
            let line = committed
                .lines()
                .zip(generated.lines())
                .position(|(a, b)| a != b)
                .unwrap_or_else(|| committed.lines().count().min(generated.lines().count()));
            panic!(
                "{EXPECTED_MD} is not what the oracles answer (first difference at line {}):\n  committed: {}\n  oracles:   {}\nhint: review the change, then rerun with {UPDATE}=1 to rewrite the file",
                line + 1,
                committed.lines().nth(line).unwrap_or("<end of file>"),
                generated.lines().nth(line).unwrap_or("<end of file>")
            );
        }
    }
}
