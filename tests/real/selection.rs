//! Selection parity with cibuildwheel, the oracle: on every `[tool.cibuildwheel]` table of the
//! real projects pinned in `tests/corpus/cibuildwheel.lock` (their sdists from PyPI, fetched by
//! `scripts/fetch-corpus.sh`), `wheelwright plan --print-identifiers` selects exactly what
//! `cibuildwheel --print-build-identifiers --platform linux` selects (cibuildwheel from the tool
//! venv, pinned in `scripts/requirements-dev.txt`), with `CIBW_ARCHS` set to the architectures
//! wheelwright resolves — wheelwright's `auto` includes i686 on purpose, cibuildwheel's does not.
//!
//! The one documented difference: a table that enables one of wheelwright's own groups
//! (`cpython-freethreading`, written for cibuildwheel 3) is refused by cibuildwheel 4.3 and read
//! by wheelwright. For such a table both tools are compared on the table without that group, and
//! wheelwright's selection with it must add exactly the group's identifiers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use wheelwright::config::identifier::Identifier;
use wheelwright::config::pythons::{self, EnableGroup};
use wheelwright::config::settings::{ResolveInputs, Settings};

use crate::support::{repo, testbed};

/// The sdists of the lock, each checked against its pinned sha256.
fn corpus() -> Vec<PathBuf> {
    let lock = repo().join("tests/corpus/cibuildwheel.lock");
    let text = fs_err::read_to_string(&lock).expect("cibuildwheel.lock");
    let dir = testbed().cache.join("corpus");
    text.lines()
        .map(|l| l.split('#').next().unwrap_or_default().trim())
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut words = l.split_whitespace();
            let file = words.next().expect("file name");
            let want = words.next().expect("sha256");
            let path = dir.join(file);
            let bytes = fs_err::read(&path).unwrap_or_else(|_| {
                panic!("{} is missing: run scripts/fetch-corpus.sh", path.display())
            });
            use sha2::Digest as _;
            let have: String = sha2::Sha256::digest(&bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(have, want, "{file}: sha256 differs from the lock");
            path
        })
        .collect()
}

/// Unpacks an sdist into `into`; returns its top directory.
fn unpack(sdist: &Path, into: &Path) -> PathBuf {
    let file = fs_err::File::open(sdist).expect("sdist");
    tar::Archive::new(flate2::read::GzDecoder::new(file))
        .unpack(into)
        .unwrap_or_else(|e| panic!("{}: {e}", sdist.display()));
    let mut dirs: Vec<PathBuf> = fs_err::read_dir(into)
        .expect("unpacked")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(dirs.len(), 1, "{}: one top directory", sdist.display());
    dirs.remove(0)
}

/// Identifiers printed one per line, or `error: <last line>` when the command failed.
fn selection(cmd: &mut Command) -> Result<Vec<String>, String> {
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().rev().find(|l| !l.trim().is_empty());
        return Err(format!(
            "exit {}: {}",
            output.status.code().unwrap_or(-1),
            last.unwrap_or_default().trim()
        ));
    }
    let mut ids: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    ids.sort();
    Ok(ids)
}

/// A command without any `CIBW_*`/`WHEELWRIGHT_*`/`INPUT_*` variable of the caller.
fn clean(program: &Path) -> Command {
    let mut cmd = Command::new(program);
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().into_owned();
        if name.starts_with("CIBW_")
            || name.starts_with("WHEELWRIGHT_")
            || name.starts_with("INPUT_")
            || name == "GITHUB_ACTIONS"
        {
            cmd.env_remove(&name);
        }
    }
    cmd
}

#[test]
fn print_identifiers_equals_cibuildwheel_on_real_projects() {
    let cibuildwheel = testbed().venv.join("bin/cibuildwheel");
    assert!(
        cibuildwheel.is_file(),
        "{} is missing: run scripts/setup-dev.sh",
        cibuildwheel.display()
    );
    let sdists = corpus();
    assert!(
        sdists.len() >= 20,
        "the corpus has {} projects; the issue asks for at least 20",
        sdists.len()
    );
    let scratch = tempfile::tempdir().expect("tempdir");
    let mut differences = Vec::new();
    let mut summary = BTreeMap::new();
    for sdist in &sdists {
        let name = sdist
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let into = scratch.path().join(&name);
        let project = unpack(sdist, &into);
        let pyproject =
            fs_err::read_to_string(project.join("pyproject.toml")).expect("pyproject.toml");
        assert!(
            pyproject.contains("[tool.cibuildwheel"),
            "{name}: no [tool.cibuildwheel] table; the lock lists only projects that have one"
        );
        // wheelwright's architectures for this table, resolved by the library as the CLI does.
        let settings = Settings::resolve(&ResolveInputs::new(&project))
            .unwrap_or_else(|e| panic!("{name}: wheelwright cannot read the table: {e}"));
        let archs: Vec<&str> = settings.arches().iter().map(|a| a.as_str()).collect();
        let both = |project: &Path| {
            let ours = selection(
                clean(Path::new(env!("CARGO_BIN_EXE_wheelwright")))
                    .args(["plan", "--print-identifiers"])
                    .arg(project),
            );
            let theirs = selection(
                clean(&cibuildwheel)
                    .args(["--print-build-identifiers", "--platform", "linux"])
                    .arg(project)
                    .env("CIBW_ARCHS", archs.join(" ")),
            );
            // cibuildwheel prints nothing for an empty selection; wheelwright refuses it.
            let ours = match ours {
                Err(e) if e.contains("error: nothing to build:") => Ok(Vec::new()),
                other => other,
            };
            (ours, theirs)
        };
        let (mut ours, mut theirs) = both(&project);
        let own = EnableGroup::ALL.into_iter().find(|g| {
            !g.is_cibuildwheel()
                && matches!(&theirs, Err(e) if e.contains(&format!("Unknown enable group: {g}")))
        });
        if let Some(group) = own {
            let with_group = ours.clone().unwrap_or_else(|e| {
                panic!("{name}: wheelwright refuses the table with `{group}`: {e}")
            });
            let without = pyproject
                .replace(&format!("\"{group}\""), "\"\"")
                .replace(group.as_str(), "");
            fs_err::write(project.join("pyproject.toml"), without).expect("write");
            (ours, theirs) = both(&project);
            let added: Vec<&String> = with_group
                .iter()
                .filter(|id| !ours.as_ref().is_ok_and(|o| o.contains(id)))
                .collect();
            assert!(
                !added.is_empty()
                    && added.iter().all(|id| {
                        let id: Identifier = id.parse().expect("identifier");
                        pythons::groups_needed(&id) == [group]
                    }),
                "{name}: `{group}` should add exactly its own identifiers, added {added:?}"
            );
            crate::support::log(&format!(
                "{name}: cibuildwheel 4.3 refuses wheelwright's group `{group}`; without it both agree, with it wheelwright adds {}",
                added
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
        }
        summary.insert(
            name.clone(),
            format!(
                "{} ({}): {}",
                archs.join(" "),
                match &theirs {
                    Ok(ids) => format!("{} identifiers", ids.len()),
                    Err(e) => e.clone(),
                },
                if ours == theirs { "same" } else { "DIFFERENT" }
            ),
        );
        if ours != theirs {
            differences.push(format!(
                "{name} (archs {}):\n  wheelwright: {ours:?}\n  cibuildwheel: {theirs:?}",
                archs.join(" ")
            ));
        }
    }
    for (name, line) in &summary {
        crate::support::log(&format!("{name}: {line}"));
    }
    assert!(
        differences.is_empty(),
        "wheelwright and cibuildwheel select differently:\n{}",
        differences.join("\n")
    );
}
