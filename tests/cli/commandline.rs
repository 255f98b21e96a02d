//! The command line as users expect it (issue 19): `--version` with the commit, shell
//! completions, the manual page, global options under their own heading in every `--help`,
//! `config` alone, `plan`/`config` refusing a directory that is not a Python project, twine's
//! `-p`/`--password`, malformed `.pypirc` files, and log colour only on a terminal.

use std::path::Path;
use std::process::Output;

use clap::CommandFactory as _;

use super::wheelwright;

/// Exit code, stdout and stderr of a run, with `dir` shown as `[TEMP_DIR]`, for a snapshot.
fn transcript(output: &Output, dir: &Path) -> String {
    let clean = |bytes: &[u8]| {
        String::from_utf8_lossy(bytes).replace(dir.to_string_lossy().as_ref(), "[TEMP_DIR]")
    };
    format!(
        "exit: {:?}\n----- stdout -----\n{}----- stderr -----\n{}",
        output.status.code(),
        clean(&output.stdout),
        clean(&output.stderr)
    )
}

#[test]
fn version_names_the_commit_and_the_build_date() {
    let output = wheelwright().arg("--version").output().expect("run");
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    let version = env!("CARGO_PKG_VERSION");
    let rest = text
        .trim_end()
        .strip_prefix(&format!("wheelwright {version} ("))
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or_else(|| panic!("`wheelwright {version} (…)` expected: {text}"));
    let mut words = rest.split(' ');
    // This test runs in a git checkout of the crate: the commit is known.
    let commit = words.next().expect("a commit");
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run git: run scripts/setup-dev.sh");
    if head.status.success() {
        assert_eq!(
            commit,
            String::from_utf8_lossy(&head.stdout).trim(),
            "{text}"
        );
    }
    let date = words.next().expect("a date");
    assert!(
        chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok(),
        "a build date: {text}"
    );
    // `-V` and the subcommands say the same.
    let output = wheelwright().arg("-V").output().expect("run");
    assert_eq!(String::from_utf8_lossy(&output.stdout), text);
    let output = wheelwright()
        .args(["show", "--version"])
        .output()
        .expect("run");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        text.replacen("wheelwright", "wheelwright-show", 1)
    );
}

/// The compiled build script of this crate (next to the binary under test).
fn build_script() -> std::path::PathBuf {
    let binary = Path::new(env!("CARGO_BIN_EXE_wheelwright"));
    let build = binary.parent().expect("profile directory").join("build");
    let mut scripts: Vec<(std::time::SystemTime, std::path::PathBuf)> = fs_err::read_dir(&build)
        .expect("build directory")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("wheelwright-"))
        .map(|e| e.path().join("build-script-build"))
        .filter(|p| p.is_file())
        .filter_map(|p| Some((fs_err::metadata(&p).ok()?.modified().ok()?, p)))
        .collect();
    scripts.sort();
    scripts.pop().expect("a compiled build script").1
}

/// The version the build script gives a crate in `dir`.
fn version_for(dir: &Path, env: &[(&str, &str)]) -> String {
    let out_dir = tempfile::tempdir().expect("tempdir");
    let mut command = std::process::Command::new(build_script());
    command
        .current_dir(dir)
        .env("CARGO_MANIFEST_DIR", dir)
        .env("CARGO_PKG_VERSION", "9.8.7")
        .env("OUT_DIR", out_dir.path())
        .env_remove("WHEELWRIGHT_BUILD_COMMIT")
        .env_remove("SOURCE_DATE_EPOCH");
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("build script");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("cargo::rustc-env=WHEELWRIGHT_VERSION="))
        .expect("a version")
        .to_owned()
}

/// The build script on a source tree without `.git` (as unpacked from a tarball), also inside
/// another repository: no commit but the one `WHEELWRIGHT_BUILD_COMMIT` names; the date from
/// `SOURCE_DATE_EPOCH` when set.
#[test]
fn version_builds_without_git() {
    let dir = tempfile::tempdir().expect("tempdir");
    let epoch = [("SOURCE_DATE_EPOCH", "1700000000")];
    assert_eq!(version_for(dir.path(), &epoch), "9.8.7 (2023-11-14)");
    assert_eq!(
        version_for(
            dir.path(),
            &[epoch[0], ("WHEELWRIGHT_BUILD_COMMIT", "0123456789ab")]
        ),
        "9.8.7 (0123456789ab 2023-11-14)"
    );
    let today = version_for(dir.path(), &[]);
    assert!(today.starts_with("9.8.7 (20"), "{today}");
    // Unpacked inside some other repository: that repository's commit is not ours.
    let git = |args: &[&str]| {
        let status = std::process::Command::new("git")
            .args(args)
            .current_dir(dir.path())
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.org")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.org")
            .status()
            .expect("run git: run scripts/setup-dev.sh");
        assert!(status.success(), "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&["commit", "-q", "--allow-empty", "-m", "other"]);
    let crate_dir = dir.path().join("wheelwright-9.8.7");
    fs_err::create_dir(&crate_dir).expect("mkdir");
    assert_eq!(version_for(&crate_dir, &epoch), "9.8.7 (2023-11-14)");
    // The checkout itself: its commit.
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(dir.path())
        .output()
        .expect("run git: run scripts/setup-dev.sh");
    let head = String::from_utf8_lossy(&head.stdout).trim().to_owned();
    assert_eq!(
        version_for(dir.path(), &epoch),
        format!("9.8.7 ({head} 2023-11-14)")
    );
}

#[test]
fn completions_are_scripts_for_each_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let output = wheelwright()
            .args(["completions", shell])
            .output()
            .expect("run");
        assert!(output.status.success(), "{shell}: {output:?}");
        let script = String::from_utf8_lossy(&output.stdout);
        for command in ["build", "publish", "completions", "cert"] {
            assert!(script.contains(command), "{shell}: `{command}` missing");
        }
    }
    // Bash accepts the script and completes the subcommands from it.
    let output = wheelwright()
        .args(["completions", "bash"])
        .output()
        .expect("run");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("wheelwright.bash");
    fs_err::write(&file, &output.stdout).expect("write");
    let probe = format!(
        "source '{}'; COMP_WORDS=(wheelwright pub); COMP_CWORD=1; _wheelwright wheelwright pub wheelwright; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        file.display()
    );
    let out = std::process::Command::new("bash")
        .args(["-c", &probe])
        .output()
        .expect("bash");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "publish\n", "{out:?}");
    // A shell clap does not know is a usage error.
    let output = wheelwright()
        .args(["completions", "tcsh"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn the_manual_page_covers_every_command() {
    let output = wheelwright().arg("man").output().expect("run");
    assert!(output.status.success());
    let page = String::from_utf8_lossy(&output.stdout);
    assert!(page.starts_with(".ie") || page.starts_with(".TH"), "{page}");
    assert!(page.contains(".TH wheelwright 1"), "{page}");
    let command = wheelwright::cli::Cli::command();
    for sub in command.get_subcommands().filter(|sub| !sub.is_hide_set()) {
        assert!(
            page.contains(&sub.get_name().replace('-', "\\-")),
            "`{}` missing from the page",
            sub.get_name()
        );
    }
    // man renders it (groff), without warnings.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("wheelwright.1");
    fs_err::write(&file, &output.stdout).expect("write");
    let rendered = std::process::Command::new("man")
        .arg("-l")
        .arg(&file)
        .env("MANWIDTH", "100")
        .env("MAN_KEEP_FORMATTING", "0")
        .output()
        .expect("run man (Debian's man-db): run scripts/setup-dev.sh");
    assert!(rendered.status.success(), "{rendered:?}");
    assert!(
        rendered.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    // Without the overstrike (bold `X\bX`, underline `_\bX`) of man's plain-text output.
    let text = String::from_utf8_lossy(&rendered.stdout);
    let mut plain = String::new();
    for c in text.chars() {
        if c == '\u{8}' {
            plain.pop();
        } else {
            plain.push(c);
        }
    }
    for needle in ["GLOBAL OPTIONS", "--cert <FILE>", "wheelwright-publish(1)"] {
        assert!(plain.contains(needle), "`{needle}` missing:\n{plain}");
    }

    // One page per command, written into a directory.
    let pages = dir.path().join("man1");
    let output = wheelwright()
        .args(["man", "--output-dir"])
        .arg(&pages)
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    let mut names: Vec<String> = fs_err::read_dir(&pages)
        .expect("pages")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut expected: Vec<String> = command
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| format!("wheelwright-{}.1", s.get_name()))
        .chain(["wheelwright.1".to_owned()])
        .collect();
    expected.sort();
    assert_eq!(names, expected);
    let build = fs_err::read_to_string(pages.join("wheelwright-build.1")).expect("page");
    assert!(build.contains(".TH wheelwright-build 1"), "{build}");
    assert!(build.contains("before\\-all"), "{build}");
}

/// Every command's `--help`, short and long, lists `-v`, `-q`, `--cert` and `-h` under
/// "Global options" and nowhere else.
#[test]
fn global_options_have_their_own_heading_in_every_help() {
    let command = wheelwright::cli::Cli::command();
    let mut names: Vec<Vec<&str>> = vec![vec![]];
    names.extend(
        command
            .get_subcommands()
            .map(|s| vec![s.get_name()])
            .filter(|n| n != &["help"]),
    );
    for name in names {
        for flag in ["-h", "--help"] {
            let output = wheelwright().args(&name).arg(flag).output().expect("run");
            assert!(output.status.success(), "{name:?} {flag}");
            let text = String::from_utf8_lossy(&output.stdout);
            let (own, global) = text
                .split_once("Global options:\n")
                .unwrap_or_else(|| panic!("{name:?} {flag}: no Global options heading:\n{text}"));
            for option in ["--verbose", "--quiet", "--cert <FILE>", "--help"] {
                assert!(
                    global.contains(option),
                    "{name:?} {flag}: {option}:\n{text}"
                );
                assert!(
                    !own.contains(option),
                    "{name:?} {flag}: {option} twice:\n{text}"
                );
            }
        }
    }
    let output = wheelwright().args(["publish", "-h"]).output().expect("run");
    let text = String::from_utf8_lossy(&output.stdout);
    let global = text.split_once("Global options:\n").expect("heading").1;
    insta::assert_snapshot!(global, @r"
      -v, --verbose...   More output (-v debug, -vv trace); RUST_LOG overrides
      -q, --quiet        Only errors
          --cert <FILE>  CA certificates (a PEM file) to trust for every HTTPS connection (indexes,
                         GitHub), in addition to the system's; for an index or proxy behind a company
                         CA. Default: REQUESTS_CA_BUNDLE. SSL_CERT_FILE and SSL_CERT_DIR replace the
                         system's certificates
      -h, --help         Print help (the long form with --help)
      -V, --version      Print the version, the commit it was built from and the build date
    ");
}

#[test]
fn config_alone_shows_the_configuration() {
    let project = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config/minimal");
    let alone = wheelwright()
        .arg("config")
        .current_dir(&project)
        .output()
        .expect("run");
    assert_eq!(alone.status.code(), Some(0), "{alone:?}");
    let shown = wheelwright()
        .args(["config", "--show"])
        .current_dir(&project)
        .output()
        .expect("run");
    assert_eq!(alone.stdout, shown.stdout);
    assert!(String::from_utf8_lossy(&alone.stdout).contains("identifiers ("));
}

#[test]
fn plan_and_config_refuse_a_directory_that_is_not_a_project() {
    let dir = tempfile::tempdir().expect("tempdir");
    for command in ["plan", "config"] {
        let output = wheelwright()
            .arg(command)
            .current_dir(dir.path())
            .output()
            .expect("run");
        assert!(
            output.stdout.is_empty(),
            "{command}: no matrix, no configuration"
        );
        insta::allow_duplicates! {
            insta::assert_snapshot!(transcript(&output, dir.path()), @r"
            exit: Some(1)
            ----- stdout -----
            ----- stderr -----
            error: `.` is not a Python project: it has neither pyproject.toml nor setup.py
            hint: run wheelwright in the project's directory, or pass that directory as PROJECT_DIR
            ");
        }
        let output = wheelwright()
            .arg(command)
            .arg(dir.path().join("missing"))
            .output()
            .expect("run");
        insta::allow_duplicates! {
            insta::assert_snapshot!(transcript(&output, dir.path()), @r"
            exit: Some(1)
            ----- stdout -----
            ----- stderr -----
            error: project directory `[TEMP_DIR]/missing` does not exist
            ");
        }
    }
    // `build` says the same.
    let output = wheelwright()
        .args(["build", "--dry-run"])
        .current_dir(dir.path())
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr).starts_with(
            "error: `.` is not a Python project: it has neither pyproject.toml nor setup.py\nhint: "
        ),
        "{output:?}"
    );
}

#[test]
fn publish_refuses_a_password_on_the_command_line_and_says_where_it_goes() {
    let secret = "pypi-FAKE-never-printed";
    for args in [
        vec!["-p", secret],
        vec!["--password", secret],
        vec![&format!("--password={secret}")],
        vec!["wheelhouse", "-p"],
    ] {
        let output = wheelwright()
            .arg("publish")
            .args(&args)
            .output()
            .expect("run");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !stderr.contains(secret),
            "{args:?}: the password is printed"
        );
        insta::allow_duplicates! {
            insta::assert_snapshot!(stderr, @r"
            error: `-p`/`--password` is not an option of wheelwright: a password on the command line shows up in process lists and shell history
            hint: put the password or API token in `WHEELWRIGHT_PASSWORD` (or `TWINE_PASSWORD`, or `PYPI_API_TOKEN` for a token), name another variable with `--password-env VAR`, or write it in a `.pypirc` file (`--config-file`); on GitHub Actions, trusted publishing needs no password
            ");
        }
    }
    // Not in the help: there is no such option to use.
    let output = wheelwright()
        .args(["publish", "--help"])
        .output()
        .expect("run");
    assert!(!String::from_utf8_lossy(&output.stdout).contains("--password "));
}

#[test]
fn a_malformed_pypirc_names_the_file_the_line_and_the_problem() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wheel = crate::Wheel::bare("demo-1.0-py3-none-any.whl").write(dir.path());
    // The `local` section lost its header's bracket, and a password its `=`.
    let rc = dir.path().join(".pypirc");
    fs_err::write(
        &rc,
        "[distutils]\nindex-servers =\n    local\n\n[local\nrepository = http://127.0.0.1:9/\n",
    )
    .expect("write");
    let publish = |home: &Path| {
        wheelwright()
            .args(["publish", "--dry-run", "--repository", "local"])
            .arg(&wheel)
            .env("HOME", home)
            .env_remove("TWINE_PASSWORD")
            .env_remove("WHEELWRIGHT_PASSWORD")
            .output()
            .expect("run")
    };
    let output = publish(dir.path());
    insta::assert_snapshot!(transcript(&output, dir.path()), @r"
    exit: Some(1)
    ----- stdout -----
    ----- stderr -----
    error: `[TEMP_DIR]/.pypirc` line 5: the section header has no closing `]`
    hint: write section headers as `[name]`, e.g. `[pypi]`
    ");
    fs_err::write(
        &rc,
        "[local]\nrepository = http://127.0.0.1:9/\npassword pypi-FAKE-secret\n",
    )
    .expect("write");
    let output = publish(dir.path());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("pypi-FAKE-secret"), "{stderr}");
    insta::assert_snapshot!(transcript(&output, dir.path()), @r"
    exit: Some(1)
    ----- stdout -----
    ----- stderr -----
    error: `[TEMP_DIR]/.pypirc` line 3: the line is not `key = value`, a `[section]` header or a comment
    hint: write `key = value` (or `key: value`); a value continued on the next line is indented
    ");
}

/// Log lines (`RUST_LOG`) are coloured on a terminal, and only there: not when piped, not with
/// `NO_COLOR`. The terminal is a real pseudo-terminal (util-linux `script`).
#[test]
fn log_colour_only_on_a_terminal_and_never_with_no_color() {
    let project = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config/minimal");
    let binary = env!("CARGO_BIN_EXE_wheelwright");
    let piped = wheelwright()
        .arg("config")
        .arg(&project)
        .env("RUST_LOG", "debug")
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&piped.stderr);
    assert!(stderr.contains("DEBUG"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "colour on a pipe: {stderr}");

    let on_terminal = |no_color: &str| {
        let command = format!(
            "env -u GITHUB_ACTIONS RUST_LOG=debug {no_color} '{binary}' config '{}' >/dev/null",
            project.display()
        );
        let output = std::process::Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .output()
            .expect("run script (Debian's bsdutils): run scripts/setup-dev.sh");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let coloured = on_terminal("");
    assert!(
        coloured.contains("DEBUG") && coloured.contains("\u{1b}["),
        "no colour on a terminal: {coloured:?}"
    );
    let plain = on_terminal("NO_COLOR=1");
    assert!(plain.contains("DEBUG"), "{plain:?}");
    assert!(!plain.contains('\u{1b}'), "colour with NO_COLOR: {plain:?}");
}

/// The action's `args` input is split by the binary (action.yml reads the words with
/// `mapfile -d ''`): the words come out NUL-terminated and untouched, also on Actions, where
/// everything meant for a log is made safe.
#[test]
fn split_args_prints_nul_terminated_words_as_they_are() {
    for actions in ["true", "false"] {
        let output = wheelwright()
            .arg("split-args")
            .env("GITHUB_ACTIONS", actions)
            .env(
                "WHEELWRIGHT_ARGS",
                r#"--archs 'x86_64 i686' "::warning::x" $HOME"#,
            )
            .output()
            .expect("run");
        assert!(output.status.success(), "{output:?}");
        assert_eq!(
            output.stdout, b"--archs\0x86_64 i686\0::warning::x\0$HOME\0",
            "GITHUB_ACTIONS={actions}"
        );
    }
    let output = wheelwright()
        .arg("split-args")
        .env("WHEELWRIGHT_ARGS", "--archs 'x86_64")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(output.stdout.is_empty());
}

#[test]
fn an_empty_wheelwright_variable_counts_as_unset() {
    // A workflow passing an optional input through `env:` sets the variable to "" when the input
    // is not given; that is no value, not an empty path or URL for clap to refuse.
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("missing");
    for var in [
        "WHEELWRIGHT_CACHE_DIR",
        "WHEELWRIGHT_CONTAINER_BINARY",
        "WHEELWRIGHT_CCACHE_DIR",
        "WHEELWRIGHT_CONFIG_FILE",
    ] {
        let output = wheelwright()
            .args(["build", "--dry-run"])
            .arg(&missing)
            .env(var, "")
            .output()
            .expect("run");
        assert_eq!(output.status.code(), Some(1), "{var}: {output:?}");
        assert_eq!(
            String::from_utf8_lossy(&output.stderr),
            format!(
                "error: project directory `{}` does not exist\n",
                missing.display()
            ),
            "{var}"
        );
    }
    // In a project: the empty variable is no configuration file, a set one is read.
    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[project]\nname = \"demo\"\nversion = \"1.0\"\n",
    )
    .expect("write pyproject.toml");
    let config = |value: &std::ffi::OsStr| {
        wheelwright()
            .arg("config")
            .current_dir(dir.path())
            .env("WHEELWRIGHT_CONFIG_FILE", value)
            .output()
            .expect("run")
    };
    let output = config("".as_ref());
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let output = config(dir.path().join("nope.toml").as_os_str());
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("nope.toml"),
        "{output:?}"
    );
}
