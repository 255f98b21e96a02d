//! `wheelwright build`: bad input that is caught before any engine runs.

use std::path::{Path, PathBuf};

use crate::support::assert_help_mentions;
use crate::support::assert_success;
use crate::{run_refused, wheelwright};

fn democext() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/projects/democext")
}

/// Runs `wheelwright -q build ARGS` and expects exit 1 with exactly one stderr line, an
/// `error:` containing `needle`, and no output directory created.
fn assert_build_refused(args: &[&str], needle: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("wheelhouse");
    let mut full = vec!["build".into(), "-o".into(), out.clone().into_os_string()];
    full.extend(args.iter().map(std::ffi::OsString::from));
    let (_, stderr) = run_refused(full, args);
    // One error line, then at most `hint:` lines.
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(
        !lines.is_empty() && lines[1..].iter().all(|l| l.starts_with("hint: ")),
        "{args:?}: one line expected: {stderr}"
    );
    assert!(lines[0].starts_with("error: "), "{stderr}");
    assert!(
        lines[0].contains(needle),
        "{args:?}: expected `{needle}` in {stderr}"
    );
    assert!(!out.exists(), "{args:?}: the output directory was created");
}

#[test]
fn build_help_describes_the_options() {
    assert_help_mentions(
        "build",
        &[
            "--archs",
            "--engine",
            "--image-i686",
            "--before-all",
            "--environment-pass",
            "--jobs",
            "--keep-container",
            "--dry-run",
            "no container is started",
            "--enable",
            "Option `before-all`",
            "CLI-only",
            "--container-arg",
            "--build-frontend",
            "--config-setting",
            "--pull",
            "--only",
            "logs/<identifier>.log",
        ],
    );
}

#[test]
fn build_refuses_bad_input_in_one_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nope");
    let democext = democext();
    let democext = democext.to_str().expect("utf-8 path");
    assert_build_refused(&[missing.to_str().expect("utf-8")], "nope` does not exist");
    assert_build_refused(
        &[dir.path().to_str().expect("utf-8")],
        "neither pyproject.toml nor setup.py",
    );
    assert_build_refused(
        &[democext, "--build", "cp3{9,10-*"],
        "`--build`: invalid `build`: `cp3{9,10-*` is not a valid selector pattern",
    );
    assert_build_refused(
        &[democext, "--only", "cp39"],
        "`--only`: invalid `only`: `cp39` is not a build identifier",
    );
    assert_build_refused(
        &[democext, "--archs", "x86_64,sparc"],
        "`--archs`: invalid `archs`: unknown architecture `sparc`",
    );
    assert_build_refused(
        &[democext, "--image-x86_64", "my image"],
        "`--image-x86_64`: invalid `manylinux-x86_64-image`: image reference `my image` contains a space",
    );
    assert_build_refused(
        &[democext, "--image-i686", "manylinux1"],
        "`--image-i686`: invalid `manylinux-i686-image`: `manylinux1` is a retired image name",
    );
    assert_build_refused(
        &[democext, "--environment", "CFLAGS"],
        "`--environment`: invalid `environment`: `CFLAGS` is not an assignment (expected NAME=value)",
    );
    assert_build_refused(
        &[democext, "--environment", "1X=2", "--engine", "host"],
        "`--environment`: invalid `environment`: `1X` is not a valid environment variable name",
    );
    assert_build_refused(
        &[democext, "--build", "cp27-*"],
        "nothing to build: build `cp27-*` (`--build`)",
    );
    // PATH is empty: the engine is not installed.
    assert_build_refused(
        &[democext, "--engine", "podman"],
        "`podman` is not installed",
    );
    assert_build_refused(
        &[democext, "--engine", "docker"],
        "`docker` is not installed",
    );
}

#[test]
fn build_usage_errors_exit_2() {
    for args in [
        &["build", "--jobs", "0"][..],
        &["build", "--engine", "lxc"],
        &["build", "--pull", "sometimes"],
        &["build", "--build-frontend", "poetry"],
    ] {
        let output = wheelwright().args(args).output().expect("run");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
    }
}

/// A project directory holding `pyproject` as its `pyproject.toml`.
fn project_with(pyproject: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    fs_err::write(dir.path().join("pyproject.toml"), pyproject).expect("write");
    dir
}

/// Bad configuration reaches `build` as one line naming where it came from, before any engine
/// is asked (PATH is empty) and before anything is created.
#[test]
fn build_refuses_bad_configuration_in_one_line() {
    let typo =
        project_with("[project]\nname = \"x\"\n\n[tool.wheelwright]\nbefore-bild = \"true\"\n");
    let typo = typo.path().to_str().expect("utf-8").to_owned();
    assert_build_refused(
        &[&typo],
        "pyproject.toml`:5:1: unknown key `before-bild` in [tool.wheelwright] (did you mean `before-build`?)",
    );
    let wrong = project_with("[tool.cibuildwheel]\nbefore-all = 3\n");
    let wrong = wrong.path().to_str().expect("utf-8").to_owned();
    assert_build_refused(
        &[&wrong],
        "pyproject.toml`:2:14: `before-all` in [tool.cibuildwheel] must be a string or an array of strings, not an integer",
    );
    let image = project_with("[tool.wheelwright]\nmanylinux-x86_64-image = \"img;rm -rf /\"\n");
    let image = image.path().to_str().expect("utf-8").to_owned();
    assert_build_refused(
        &[&image],
        "invalid `manylinux-x86_64-image`: image reference `img;rm -rf /` contains `;`",
    );
    let engines = project_with(
        "[tool.wheelwright]\narchs = \"x86_64\"\nbuild = \"cp310-* cp311-*\"\ncontainer-engine = \"podman\"\n\n[[tool.wheelwright.overrides]]\nselect = \"cp311-*\"\ncontainer-engine = \"docker\"\n",
    );
    let engines = engines.path().to_str().expect("utf-8").to_owned();
    assert_build_refused(
        &[&engines],
        "container-engine is `podman` for cp310-manylinux_x86_64",
    );
    let narrow = project_with("[project]\nname = \"x\"\nrequires-python = \">=3.12\"\n");
    let narrow = narrow.path().to_str().expect("utf-8").to_owned();
    assert_build_refused(
        &[&narrow, "--only", "cp39-manylinux_x86_64"],
        "nothing to build: only `cp39-manylinux_x86_64` (`--only`) is excluded by requires-python `>=3.12`",
    );
}

#[test]
fn build_reads_bad_environment_and_action_inputs_as_configuration() {
    for (name, value, needle) in [
        (
            "INPUT_ARCHS",
            "x86_64 sparc",
            "Action input `INPUT_ARCHS`: invalid `archs`: unknown architecture `sparc`",
        ),
        (
            "WHEELWRIGHT_CONTAINER_ENGINE",
            "lxc",
            "environment variable `WHEELWRIGHT_CONTAINER_ENGINE`: invalid `container-engine`: unknown container engine `lxc`",
        ),
        (
            "CIBW_BUILD_FRONTEND",
            "poetry",
            "environment variable `CIBW_BUILD_FRONTEND`: invalid `build-frontend`: unknown build frontend `poetry`",
        ),
        (
            "INPUT_ONLY",
            "cp39-manylinux_sparc",
            "Action input `INPUT_ONLY`: invalid `only`: `cp39-manylinux_sparc` is not a build identifier",
        ),
    ] {
        let output = wheelwright()
            .args(["-q", "build", "--dry-run"])
            .arg(democext())
            .env(name, value)
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{name}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{name}: {stderr}");
        assert!(stderr.contains(needle), "{name}: {stderr}");
    }
}

/// `--dry-run` lists what the configuration selects, narrowed by requires-python, without any
/// engine (PATH is empty) and without creating the output directory.
#[test]
fn build_dry_run_needs_no_engine() {
    let project = project_with(
        "[project]\nname = \"x\"\nrequires-python = \">=3.12\"\n\n[tool.wheelwright]\nskip = \"*-musllinux_*\"\nenable = \"cpython-freethreading\"\n",
    );
    let out = project.path().join("wheelhouse");
    let output = wheelwright()
        .args([
            "build",
            "--dry-run",
            "--archs",
            "x86_64",
            "--engine",
            "podman",
        ])
        .arg(project.path())
        .env("PATH", "")
        .output()
        .expect("run");
    assert_success(&output);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "cp312-manylinux_x86_64\ncp313-manylinux_x86_64\ncp313t-manylinux_x86_64\ncp314-manylinux_x86_64\ncp314t-manylinux_x86_64\ncp315-manylinux_x86_64\ncp315t-manylinux_x86_64\n"
    );
    assert!(!out.exists());
}
