//! Locating the test bed and running commands.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// Paths of the test bed, as `scripts/lib.sh` defines them.
pub(crate) struct TestBed {
    pub(crate) cache: PathBuf,
    pub(crate) venv: PathBuf,
    pub(crate) env: Vec<(String, String)>,
}

pub(crate) fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Reads the WW_* variables from `scripts/lib.sh` (the single source of truth).
pub(crate) fn testbed() -> &'static TestBed {
    static BED: OnceLock<TestBed> = OnceLock::new();
    BED.get_or_init(|| {
        let output = Command::new("bash")
            .arg("-c")
            .arg("source scripts/lib.sh >/dev/null && env | grep -E '^(WW_|CONTAINERS_)'")
            .current_dir(repo())
            .output()
            .expect("run bash");
        assert!(
            output.status.success(),
            "scripts/lib.sh failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let env: Vec<(String, String)> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let get = |key: &str| {
            env.iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| PathBuf::from(v))
                .unwrap_or_else(|| panic!("{key} not set by scripts/lib.sh"))
        };
        let bed = TestBed {
            cache: get("WW_CACHE"),
            venv: get("WW_VENV"),
            env,
        };
        assert!(
            bed.venv.join("bin/auditwheel").is_file(),
            "the tool venv {} is missing: run scripts/setup-dev.sh (or scripts/test.sh)",
            bed.venv.display()
        );
        // Every tool the suite runs, from the list scripts/setup-dev.sh installs and checks.
        let tools = Command::new("bash")
            .args(["scripts/setup-dev.sh", "--tools"])
            .current_dir(repo())
            .output()
            .expect("run scripts/setup-dev.sh --tools");
        assert!(
            tools.status.success(),
            "the test bed lacks a tool: run scripts/setup-dev.sh (or scripts/test.sh)\n{}",
            String::from_utf8_lossy(&tools.stderr)
        );
        bed
    })
}

/// A variable `scripts/lib.sh` sets for the test bed (`WW_*`), failing the test when it is
/// missing.
pub(crate) fn bed(key: &str) -> String {
    testbed().var(key)
}

/// A progress line on stderr, shown as the test runs (`--nocapture`) or when it fails.
pub(crate) fn log(message: &str) {
    let _ = writeln!(std::io::stderr(), "{message}");
}

impl TestBed {
    /// A variable `scripts/lib.sh` sets (`WW_*`), failing the test when it is missing.
    pub(crate) fn var(&self, key: &str) -> String {
        self.env
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("{key} not set by scripts/lib.sh"))
    }

    /// A command with the tool venv first on PATH and the podman configuration exported.
    pub(crate) fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        let path = std::env::var("PATH").unwrap_or_default();
        cmd.env(
            "PATH",
            format!("{}:{path}", self.venv.join("bin").display()),
        );
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.env_remove("LD_LIBRARY_PATH")
            .env_remove("AUDITWHEEL_LD_LIBRARY_PATH")
            .env_remove("AUDITWHEEL_PLAT");
        cmd
    }
}

pub(crate) fn wheelwright() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wheelwright"));
    cmd.env_remove("LD_LIBRARY_PATH")
        .env_remove("AUDITWHEEL_LD_LIBRARY_PATH")
        .env_remove("AUDITWHEEL_PLAT")
        .env_remove("GITHUB_ACTIONS");
    cmd
}

/// Runs a command and returns its output, failing the test with its stderr when it fails.
pub(crate) fn run_ok(cmd: &mut Command) -> Output {
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        output.status.success(),
        "{cmd:?} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

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
