//! The source tree as a user checks it out, and its release build, shared by the act tests.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::support::{repo, run_ok, testbed};

/// The cargo target directory of the release builds made by the tests (`cargo build --release`
/// and the action's launcher): in the test bed's cache, so that later runs only rebuild what
/// changed.
pub(crate) fn release_target() -> PathBuf {
    testbed().cache.join("cargo-release-target")
}

/// The launcher cache the act tests share (`WHEELWRIGHT_CACHE_DIR`), holding this source's
/// build: the launcher is run once from [`source_checkout`] (a `cargo build --release --locked`
/// there, which `cargo build --release` in the same checkout then finds done), as the first job
/// on a self-hosted runner would. act copies the action for every run, so a build in the copy
/// would recompile the crate in every test; the launcher's key names the source, not the path,
/// so the copies find this build.
pub(crate) fn launcher_cache() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let cache = testbed().cache.join("launcher");
        run_ok(
            Command::new(source_checkout().join("dist/wheelwright-launcher.sh"))
                .arg("--version")
                .env("WHEELWRIGHT_CACHE_DIR", &cache)
                .env("CARGO_TARGET_DIR", release_target())
                .env_remove("WHEELWRIGHT_BINARY")
                .env_remove("RUNNER_TOOL_CACHE"),
        );
        cache
    })
}

/// A checkout of this source tree as a user (or the action, `uses: OWNER/wheelwright@REF`) gets
/// it: action.yml, dist/ and what cargo builds from. It lives at one path in the test bed's
/// cache (one per working tree), synchronised once per test run (files whose content is
/// unchanged are left alone), so cargo's release build of it is reused across tests and runs.
pub(crate) fn source_checkout() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let key = {
            use std::hash::{Hash as _, Hasher as _};
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            repo().hash(&mut hasher);
            hasher.finish()
        };
        let dest = testbed()
            .cache
            .join(format!("source-under-test-{key:016x}"));
        let mut wanted = std::collections::BTreeSet::new();
        for entry in [
            "action.yml",
            "dist",
            "Cargo.toml",
            "Cargo.lock",
            "build.rs",
            "src",
            "crates",
        ] {
            let from = repo().join(entry);
            if from.exists() {
                sync(&from, &dest.join(entry), &mut wanted);
            }
        }
        prune(&dest, &wanted);
        dest
    })
}

/// Copies `from` to `to` (recursively), rewriting only files whose bytes differ; records every
/// path it wants.
fn sync(from: &Path, to: &Path, wanted: &mut std::collections::BTreeSet<PathBuf>) {
    wanted.insert(to.to_path_buf());
    if from.is_dir() {
        fs_err::create_dir_all(to).unwrap();
        for entry in fs_err::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            sync(&entry.path(), &to.join(entry.file_name()), wanted);
        }
        return;
    }
    let bytes = fs_err::read(from).unwrap();
    if fs_err::read(to).ok().as_deref() != Some(&bytes[..]) {
        fs_err::create_dir_all(to.parent().unwrap()).unwrap();
        fs_err::write(to, &bytes).unwrap();
    }
    let mode = fs_err::metadata(from).unwrap().permissions();
    fs_err::set_permissions(to, mode).unwrap();
}

/// Removes what `sync` did not want below `dir`.
fn prune(dir: &Path, wanted: &std::collections::BTreeSet<PathBuf>) {
    for entry in fs_err::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if !wanted.contains(&path) {
            if path.is_dir() {
                fs_err::remove_dir_all(&path).unwrap();
            } else {
                fs_err::remove_file(&path).unwrap();
            }
        } else if path.is_dir() {
            prune(&path, wanted);
        }
    }
}
