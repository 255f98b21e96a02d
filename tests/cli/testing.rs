//! `wheelwright test` and the test options of `build`: bad input caught before any engine or
//! interpreter runs, and `publish` honouring the results manifest of the build's test stage.

use std::path::Path;

use wheelwright::testing::manifest::{self, IdentifierRecord, TestState};

use crate::support::assert_help_mentions;
use crate::{Wheel, run_refused, wheelwright};

/// Runs `wheelwright -q ARGS` (PATH empty: no engine, no Python) and expects exit 1 with one
/// `error:` line containing `needle`.
fn assert_refused(args: &[&str], needle: &str) {
    let (output, stderr) = run_refused(args, args);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{args:?}: one line expected: {stderr}");
    assert!(
        lines[0].starts_with("error: ") && lines[0].contains(needle),
        "{args:?}: expected `{needle}` in {stderr}"
    );
    assert!(output.stdout.is_empty(), "{args:?}");
}

#[test]
fn test_help_describes_both_uses() {
    assert_help_mentions(
        "test",
        &[
            "--index",
            "--python",
            "--image",
            "--engine",
            "--arch",
            "--test-command",
            "--test-requires",
            "--test-extras",
            "--before-test",
            "--test-timeout",
            "--json",
            "the wheel pip would choose",
            "--index testpypi 'NEURON==7.8.11.2'",
        ],
    );
    assert_help_mentions(
        "build",
        &[
            "--test-command",
            "--test-skip",
            "--test-image",
            "--test-sources",
            "--test-timeout",
        ],
    );
}

#[test]
fn test_refuses_bad_input_in_one_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wheel = Wheel::bare("demo-1.0-py3-none-any.whl").write(dir.path());
    let wheel = wheel.to_str().expect("utf-8");
    let notes = dir.path().join("notes.txt");
    fs_err::write(&notes, "x").expect("write");
    let cmd = ["--test-command", "python -c pass"];
    assert_refused(&["test", wheel], "nothing to run: give --test-command");
    assert_refused(
        &["test", notes.to_str().expect("utf-8"), cmd[0], cmd[1]],
        "is not a wheel",
    );
    assert_refused(
        &[
            "test",
            dir.path().join("missing.whl").to_str().expect("utf-8"),
            cmd[0],
            cmd[1],
        ],
        "cannot read",
    );
    assert_refused(
        &["test", "--index", "nowhere", "demo", cmd[0], cmd[1]],
        "--index `nowhere` is not an index URL or a known index (pypi, testpypi)",
    );
    assert_refused(
        &["test", "--index", "testpypi", cmd[0], cmd[1]],
        "--index needs at least one requirement",
    );
    assert_refused(
        &["test", wheel, "--image", "my image", cmd[0], cmd[1]],
        "--image `my image`: image reference `my image` contains a space",
    );
    assert_refused(
        &[
            "test", wheel, "--engine", "host", "--image", "img", cmd[0], cmd[1],
        ],
        "--image needs a container engine",
    );
    assert_refused(
        &[
            "test",
            wheel,
            "--test-sources",
            "tests ../secret",
            cmd[0],
            cmd[1],
        ],
        "test-sources: `../secret` must be a relative path inside the project",
    );
    assert_refused(
        &[
            "test", wheel, "--engine", "podman", "--image", "img", cmd[0], cmd[1],
        ],
        "`podman` is not installed",
    );
    assert_refused(
        &[
            "test", wheel, "--engine", "host", "--arch", "s390x", cmd[0], cmd[1],
        ],
        "the host engine tests only this machine's architecture",
    );
}

#[test]
fn build_refuses_bad_test_options_in_one_line() {
    let democext = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/projects/democext");
    let democext = democext.to_str().expect("utf-8");
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("wheelhouse");
    let out = out.to_str().expect("utf-8");
    assert_refused(
        &["build", democext, "-o", out, "--test-image", "x86_64=a b"],
        "--test-image `x86_64=a b`: image reference `a b` contains a space",
    );
    assert_refused(
        &["build", democext, "-o", out, "--test-image", "sparc=img"],
        "--test-image `sparc=img`: `sparc` is not an architecture",
    );
    assert_refused(
        &["build", democext, "-o", out, "--test-skip", "cp3{9"],
        "`--test-skip`: invalid `test-skip`: `cp3{9` is not a valid selector pattern",
    );
    assert_refused(
        &[
            "build",
            democext,
            "-o",
            out,
            "--test-sources",
            "/etc",
            "--test-command",
            "x",
        ],
        "test-sources: `/etc` must be a relative path inside the project",
    );
    assert!(!Path::new(out).exists());
    for args in [&["test", "--test-timeout", "0", "x.whl"][..], &["test"]] {
        let output = wheelwright().args(args).output().expect("run");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
    }
}

fn record(dir: &Path, wheel: &Path, sha: &str, state: TestState, message: Option<&str>) {
    let mut m = manifest::read(dir).expect("read").unwrap_or_default();
    m.record(
        &wheel.file_name().expect("name").to_string_lossy(),
        sha,
        "cp311-manylinux_x86_64",
        IdentifierRecord {
            state,
            message: message.map(str::to_owned),
            log: None,
        },
    );
    manifest::write(dir, &m).expect("write");
}

/// `publish` refuses wheels the results manifest next to them marks failed (or untestable,
/// interrupted), or has no current result for (a missing entry, an entry for other content),
/// unless `--force`; passed and skipped wheels do not stop it; a broken manifest is an error
/// that names it. Dry runs: nothing is contacted.
#[test]
fn publish_honours_the_results_manifest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wheel = Wheel::bare("demo-1.0-py3-none-any.whl").write(dir.path());
    let sha = manifest::sha256_file(&wheel).expect("hash");
    let publish = |extra: &[&str]| {
        wheelwright()
            .arg("publish")
            .arg(dir.path())
            .args([
                "--dry-run",
                "--no-check",
                "--repository-url",
                "http://127.0.0.1:9/legacy/",
            ])
            .args(extra)
            .env("HOME", dir.path())
            .output()
            .expect("run")
    };
    assert!(publish(&[]).status.success(), "no manifest: publishable");

    record(
        dir.path(),
        &wheel,
        &sha,
        TestState::Failed,
        Some("test-command failed (exit status: 1)"),
    );
    let refused = publish(&[]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "error: `demo-1.0-py3-none-any.whl`: tests failed (cp311-manylinux_x86_64: test-command failed (exit status: 1); recorded in `"
        ) && stderr.contains("1 wheel did not pass its tests; nothing was uploaded")
            && stderr.contains("hint: fix and rebuild, or pass `--force` to publish anyway"),
        "{stderr}"
    );
    let forced = publish(&["--force"]);
    let stderr = String::from_utf8_lossy(&forced.stderr);
    assert!(forced.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "warning: publishing anyway (--force): `demo-1.0-py3-none-any.whl`: tests failed"
        ),
        "{stderr}"
    );

    // Could not be tested: refused too, with its own words.
    record(
        dir.path(),
        &wheel,
        &sha,
        TestState::Error,
        Some("cannot start the test image"),
    );
    let stderr = String::from_utf8_lossy(&publish(&[]).stderr).into_owned();
    assert!(
        stderr.contains("tests could not run (cp311-manylinux_x86_64: cannot start the test image"),
        "{stderr}"
    );

    // A stale entry (other content) leaves the file's result unknown: refused (issue 20: an
    // entry lost or replaced by another run must not make a wheel publishable).
    record(dir.path(), &wheel, &"0".repeat(64), TestState::Failed, None);
    let stderr = String::from_utf8_lossy(&publish(&[]).stderr).into_owned();
    assert!(
        stderr.contains(
            "error: `demo-1.0-py3-none-any.whl`: tests unknown (the recorded result is for other content in `"
        ),
        "{stderr}"
    );
    // Interrupted: refused with its own words.
    record(
        dir.path(),
        &wheel,
        &sha,
        TestState::Interrupted,
        Some("interrupted (SIGINT)"),
    );
    let stderr = String::from_utf8_lossy(&publish(&[]).stderr).into_owned();
    assert!(
        stderr.contains("tests were interrupted (cp311-manylinux_x86_64: interrupted (SIGINT)"),
        "{stderr}"
    );
    record(dir.path(), &wheel, &sha, TestState::Passed, None);
    assert!(publish(&[]).status.success(), "passed");
    // Another wheel without an entry in the same directory: refused.
    let other = Wheel::bare("other-1.0-py3-none-any.whl").write(dir.path());
    let refused = publish(&[]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "error: `other-1.0-py3-none-any.whl`: tests unknown (no result is recorded for it in `"
        ),
        "{stderr}"
    );
    fs_err::remove_file(&other).expect("remove");

    fs_err::write(
        manifest::path_in(dir.path()),
        "{\"version\": 99, \"wheels\": {}}",
    )
    .expect("write");
    let broken = publish(&[]);
    let stderr = String::from_utf8_lossy(&broken.stderr);
    assert_eq!(broken.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("is not a wheelwright results manifest: version 99"),
        "{stderr}"
    );
}
