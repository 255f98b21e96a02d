//! What the integration test targets share (`cli`, `real`): finding the repository and the test
//! bed, running wheelwright and reading its `--json` output, and the one builder of wheels and
//! sdists the tests write themselves. Each target includes it once, as `mod support`.

#![allow(dead_code, reason = "each test target uses part of the support module")]

pub(crate) mod bed;
pub(crate) mod dists;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[allow(unused_imports, reason = "the `cli` target does not use the test bed")]
pub(crate) use bed::{bed, testbed};

/// The repository root (the crate's manifest directory).
pub(crate) fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A test project under `tests/projects/`.
pub(crate) fn project(name: &str) -> PathBuf {
    repo().join("tests/projects").join(name)
}

/// A line on stderr, for progress of the long tests.
pub(crate) fn log(message: &str) {
    let _ = writeln!(std::io::stderr(), "{message}");
}

/// The wheelwright under test, without the caller's GitHub Actions, logging and auditwheel
/// environment.
pub(crate) fn wheelwright() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wheelwright"));
    cmd.env_remove("GITHUB_ACTIONS")
        .env_remove("LD_LIBRARY_PATH")
        .env_remove("AUDITWHEEL_LD_LIBRARY_PATH")
        .env_remove("AUDITWHEEL_PLAT")
        .env_remove("RUST_LOG");
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

/// Fails the test with the command's stderr unless it succeeded.
pub(crate) fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `wheelwright COMMAND --help` succeeds and mentions every one of `needles`.
pub(crate) fn assert_help_mentions(command: &str, needles: &[&str]) {
    let output = wheelwright()
        .args([command, "--help"])
        .output()
        .expect("run");
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    for needle in needles {
        assert!(
            text.contains(needle),
            "`{needle}` missing from {command} --help:\n{text}"
        );
    }
}

/// A command's stdout then stderr, as text.
pub(crate) fn output_text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A command's status, stdout and stderr, for assertion messages.
pub(crate) fn describe(output: &Output) -> String {
    format!(
        "status {}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A command's `--json` output, failing the test with the whole output when it is not JSON.
pub(crate) fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("--json output is not JSON ({e}):\n{}", describe(output)))
}

/// `--json` output given as bytes.
pub(crate) fn json_of(stdout: &[u8]) -> serde_json::Value {
    serde_json::from_slice(stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(stdout)))
}

/// Runs `cmd`, which must succeed, and returns its `--json` output.
pub(crate) fn run_json(cmd: &mut Command) -> serde_json::Value {
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(output.status.success(), "{cmd:?}: {}", describe(&output));
    json(&output)
}
