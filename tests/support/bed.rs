//! The test bed of the real suite: the paths and images `scripts/lib.sh` defines
//! (`scripts/setup-dev.sh` builds them), wheelwright with its podman configuration, and the
//! arguments every container build passes.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::{project, repo};

/// Paths of the test bed, as `scripts/lib.sh` defines them.
pub(crate) struct TestBed {
    pub(crate) cache: PathBuf,
    pub(crate) venv: PathBuf,
    pub(crate) env: Vec<(String, String)>,
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

/// A variable `scripts/lib.sh` sets (`WW_*`), failing the test when it is missing.
pub(crate) fn bed(key: &str) -> String {
    testbed().var(key)
}

/// wheelwright with the podman configuration of the test bed and no inherited GitHub Actions
/// environment. Containers run this same binary (a dynamically linked debug build) for the
/// repair step, as a user's `cargo build` would be.
pub(crate) fn ww() -> Command {
    let mut cmd = testbed().command(env!("CARGO_BIN_EXE_wheelwright"));
    cmd.env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("DOCKER_HOST")
        .env_remove("RUST_LOG")
        .env_remove("WHEELWRIGHT_CONTAINER_BINARY");
    cmd
}

/// Fails the test when podman still has any of the containers `names`.
pub(crate) fn assert_containers_gone(names: &[String]) {
    for name in names {
        let status = testbed()
            .command("podman")
            .args(["container", "exists", name])
            .status()
            .expect("podman");
        assert!(!status.success(), "container {name} was left behind");
    }
}

/// The host CA bundle that pip inside containers needs (TLS goes through an intercepting proxy).
pub(crate) fn ca_bundle() -> String {
    std::env::var("PIP_CERT")
        .or_else(|_| std::env::var("SSL_CERT_FILE"))
        .unwrap_or_else(|_| "/etc/ssl/certs/ca-certificates.crt".to_owned())
}

/// What every container build here passes: the network and the CA bundle for pip, through
/// wheelwright's own options (what a user behind a proxy would do).
pub(crate) fn network_args() -> Vec<String> {
    vec![
        "--container-arg=--network=host".to_owned(),
        "--container-arg=-v".to_owned(),
        format!(
            "--container-arg={}:/etc/ssl/certs/wheelwright-ca.crt:ro",
            ca_bundle()
        ),
        "--environment".to_owned(),
        "PIP_CERT=/etc/ssl/certs/wheelwright-ca.crt".to_owned(),
    ]
}

/// `build tests/projects/PROJECT -o OUT --engine ENGINE`, then `extra`.
pub(crate) fn build_args(
    project_name: &str,
    out: &Path,
    engine: &str,
    extra: &[&str],
) -> Vec<String> {
    let project = project(project_name);
    let head = [
        "build",
        project.to_str().expect("utf-8"),
        "-o",
        out.to_str().expect("utf-8"),
        "--engine",
        engine,
    ];
    head.iter().chain(extra).map(|s| (*s).to_owned()).collect()
}

/// The test bed's image set for a democext build: build and runtime images per architecture,
/// as the `scripts/lib.sh` variables naming them.
pub(crate) struct Images {
    pub(crate) build: [(&'static str, &'static str); 2],
    pub(crate) runtime: [(&'static str, &'static str); 2],
}

/// `wheelwright build` of `tests/projects/democext` into `out` with podman for x86_64 and i686,
/// the images pulled never (the test bed has them), libdemo built by `before-all`, `test` as the
/// test stage in the runtime `images`, `selection` choosing the interpreters, the network
/// arguments, `--json`, and the build cache in `cache`.
pub(crate) fn democext_build_args(
    out: &Path,
    cache: &Path,
    images: &Images,
    selection: &[&str],
    test: &str,
) -> Vec<String> {
    let mut args = build_args(
        "democext",
        out,
        "podman",
        &["--archs", "x86_64,i686", "--pull", "never"],
    );
    args.extend(
        selection
            .iter()
            .chain(&[
                "--before-all",
                "sh {project}/libdemo/build-libdemo.sh /usr/local",
                "--test-command",
                test,
                "--json",
            ])
            .map(|s| (*s).to_owned()),
    );
    for (arch, key) in images.build {
        args.push(format!("--image-{arch}"));
        args.push(bed(key));
    }
    for (arch, key) in images.runtime {
        args.push("--test-image".to_owned());
        args.push(format!("{arch}={}", bed(key)));
    }
    args.extend(network_args());
    args.push("--cache-dir".to_owned());
    args.push(cache.display().to_string());
    args
}

/// The files of a corpus lock (`tests/corpus/LOCK`) in the test bed's cache, failing with a
/// pointer to `scripts/fetch-corpus.sh` when one is missing.
pub(crate) fn corpus_files(lock: &str) -> Vec<PathBuf> {
    let text = fs_err::read_to_string(repo().join("tests/corpus").join(lock)).expect("lock");
    let dir = testbed().cache.join("corpus");
    text.lines()
        .map(|l| l.split('#').next().unwrap_or_default().trim())
        .filter(|l| !l.is_empty())
        .map(|l| {
            let path = dir.join(l.split_whitespace().next().expect("file name"));
            assert!(
                path.is_file(),
                "{} is missing: run scripts/fetch-corpus.sh",
                path.display()
            );
            path
        })
        .collect()
}
