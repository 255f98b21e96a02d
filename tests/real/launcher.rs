//! `dist/wheelwright-launcher.sh`, the action's way to its binary: a prebuilt binary checked
//! against `dist/SHA256SUMS` (checksums written by `sha256sum`, as the release workflow does),
//! and the build from source with cargo, cached by the source's hash.
//!
//! The build-from-source test builds a trimmed crate (a `wheelwright` package whose binary
//! prints its arguments) with the real cargo and the real launcher: the launcher's logic does
//! not depend on what is compiled, and a release build of the whole project takes many minutes
//! on the test machines.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::support::{output_text, repo, run_ok};

fn arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "x86_64",
        "aarch64" => "aarch64",
        other => panic!("the launcher supports x86_64 and aarch64, not {other}"),
    }
}

/// An action directory with the launcher in `dist/`.
fn action_dir(tmp: &Path) -> PathBuf {
    let action = tmp.join("action");
    fs_err::create_dir_all(action.join("dist")).unwrap();
    fs_err::copy(
        repo().join("dist/wheelwright-launcher.sh"),
        action.join("dist/wheelwright-launcher.sh"),
    )
    .unwrap();
    action
}

fn launcher(action: &Path, cache: &Path) -> Command {
    let mut cmd = Command::new(action.join("dist/wheelwright-launcher.sh"));
    cmd.env("WHEELWRIGHT_CACHE_DIR", cache)
        .env_remove("WHEELWRIGHT_BINARY")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUNNER_TOOL_CACHE")
        .env_remove("GITHUB_ACTIONS")
        .stdin(Stdio::null());
    cmd
}

/// `--version` succeeded and printed this source's version.
fn assert_prints_this_version(output: &Output) {
    assert!(output.status.success(), "{}", output_text(output));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("wheelwright {}\n", wheelwright::cli::VERSION)
    );
}

/// Puts the test's wheelwright binary into dist/ as the prebuilt one and checksums it.
fn ship_prebuilt(action: &Path) -> PathBuf {
    let name = format!("wheelwright-{}-linux-musl", arch());
    let dist = action.join("dist");
    fs_err::copy(env!("CARGO_BIN_EXE_wheelwright"), dist.join(&name)).unwrap();
    fs_err::copy(
        repo().join("README.md"),
        dist.join("wheelwright-other-linux-musl"),
    )
    .unwrap();
    let sums = run_ok(
        Command::new("sha256sum")
            .arg(&name)
            .arg("wheelwright-other-linux-musl")
            .current_dir(&dist),
    );
    fs_err::write(dist.join("SHA256SUMS"), &sums.stdout).unwrap();
    dist.join(name)
}

#[test]
fn a_prebuilt_binary_with_a_good_checksum_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let action = action_dir(tmp.path());
    ship_prebuilt(&action);
    let output = launcher(&action, &tmp.path().join("cache"))
        .arg("--version")
        .output()
        .unwrap();
    assert_prints_this_version(&output);
    assert!(output.stderr.is_empty(), "{}", output_text(&output));

    // Arguments pass through untouched.
    let output = launcher(&action, &tmp.path().join("cache"))
        .args(["show", "/no such dir/x.whl"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", output_text(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("/no such dir/x.whl"),
        "{}",
        output_text(&output)
    );
    // The action needs no cache for a prebuilt binary.
    let output = launcher(&action, &tmp.path().join("cache"))
        .arg("--launcher-cache")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", output_text(&output));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "prebuilt=true\n");
    // Nothing was built or cached.
    assert!(!tmp.path().join("cache").exists());
}

#[test]
fn a_prebuilt_binary_that_does_not_match_its_checksum_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let action = action_dir(tmp.path());
    let binary = ship_prebuilt(&action);
    let name = binary.file_name().unwrap().to_str().unwrap().to_owned();
    let mut bytes = fs_err::read(&binary).unwrap();
    bytes.extend_from_slice(b"tampered");
    fs_err::write(&binary, &bytes).unwrap();

    let run = || {
        let output = launcher(&action, &tmp.path().join("cache"))
            .arg("--version")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{}", output_text(&output));
        assert!(
            output.stdout.is_empty(),
            "the binary ran: {}",
            output_text(&output)
        );
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let stderr = run();
    let field = |output: &Output| String::from_utf8_lossy(&output.stdout)[..64].to_owned();
    let expected = fs_err::read_to_string(action.join("dist/SHA256SUMS")).unwrap()[..64].to_owned();
    let actual = field(&run_ok(Command::new("sha256sum").arg(&binary)));
    assert_ne!(expected, actual);
    assert_eq!(
        stderr,
        format!(
            "wheelwright-launcher: error: dist/{name} does not match dist/SHA256SUMS (expected \
             {expected}, got {actual}): the action's files are damaged or were tampered with; \
             refusing to run it\n"
        )
    );

    // No line for this binary; no checksum file at all.
    let sums = action.join("dist/SHA256SUMS");
    let kept: String = fs_err::read_to_string(&sums)
        .unwrap()
        .lines()
        .filter(|l| !l.ends_with(&name))
        .map(|l| format!("{l}\n"))
        .collect();
    fs_err::write(&sums, kept).unwrap();
    assert_eq!(
        run(),
        format!(
            "wheelwright-launcher: error: dist/SHA256SUMS has no line for {name}; refusing to run it\n"
        )
    );
    fs_err::remove_file(&sums).unwrap();
    assert_eq!(
        run(),
        format!(
            "wheelwright-launcher: error: dist/{name} has no checksum (dist/SHA256SUMS is missing); refusing to run it\n"
        )
    );
}

/// `WHEELWRIGHT_BINARY` names the binary to run: it wins over dist/ (even a damaged one, which
/// it then never runs) and over a build; a path that is not an executable file is refused.
#[test]
fn wheelwright_binary_overrides_dist_and_the_build() {
    let tmp = tempfile::tempdir().unwrap();
    let action = action_dir(tmp.path());
    let binary = ship_prebuilt(&action);
    fs_err::write(&binary, b"#!/bin/sh\necho tampered\n").unwrap();
    let output = launcher(&action, &tmp.path().join("cache"))
        .env("WHEELWRIGHT_BINARY", env!("CARGO_BIN_EXE_wheelwright"))
        .arg("--version")
        .output()
        .unwrap();
    assert_prints_this_version(&output);
    let missing = tmp.path().join("no-such-binary");
    let output = launcher(&action, &tmp.path().join("cache"))
        .env("WHEELWRIGHT_BINARY", &missing)
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", output_text(&output));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        format!(
            "wheelwright-launcher: error: WHEELWRIGHT_BINARY={} is not an executable file\n",
            missing.display()
        )
    );
    assert!(!tmp.path().join("cache").exists());
}

/// A trimmed `wheelwright` workspace like the real one (the binary at the root, a crate under
/// `crates/`), no dependencies outside it: prints `MARK args…`, the mark living in the member
/// crate so that changing only `crates/` must change the cache key.
fn write_crate(action: &Path, mark: &str) {
    fs_err::create_dir_all(action.join("src")).unwrap();
    fs_err::create_dir_all(action.join("crates/mark/src")).unwrap();
    fs_err::write(
        action.join("Cargo.toml"),
        "[package]\nname = \"wheelwright\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[workspace]\nmembers = [\"crates/*\"]\n\n[dependencies]\nmark = { path = \"crates/mark\" }\n\n[profile.release]\nopt-level = 0\n",
    )
    .unwrap();
    fs_err::write(
        action.join("crates/mark/Cargo.toml"),
        "[package]\nname = \"mark\"\nversion = \"0.0.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    fs_err::write(
        action.join("crates/mark/src/lib.rs"),
        format!("pub const MARK: &str = \"{mark}\";\n"),
    )
    .unwrap();
    fs_err::write(
        action.join("src/main.rs"),
        "fn main() {\n    let args: Vec<String> = std::env::args().skip(1).collect();\n    println!(\"{} {}\", mark::MARK, args.join(\"|\"));\n}\n",
    )
    .unwrap();
}

#[test]
fn without_a_prebuilt_binary_it_builds_from_source_once() {
    let tmp = tempfile::tempdir().unwrap();
    let action = action_dir(tmp.path());
    let cache = tmp.path().join("cache");
    write_crate(&action, "from-source-1");
    run_ok(
        Command::new("cargo")
            .args(["generate-lockfile", "--offline"])
            .current_dir(&action),
    );
    let building = "wheelwright-launcher: no prebuilt binary for";

    // What the action hands to actions/cache: the directory the build will land in and a key
    // that names the source; nothing is built for the question.
    let output = launcher(&action, &cache)
        .arg("--launcher-cache")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", output_text(&output));
    let info: BTreeMap<String, String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    assert_eq!(info["prebuilt"], "false", "{info:?}");
    let dir = PathBuf::from(&info["cache-dir"]);
    assert!(dir.starts_with(&cache), "{info:?}");
    let key_suffix = dir.file_name().unwrap().to_string_lossy().into_owned();
    let hash = key_suffix.rsplit('-').next().unwrap();
    assert_eq!(
        info["cache-key"],
        format!("wheelwright-launcher-linux-{}-{hash}", arch())
    );
    assert!(!dir.exists(), "asking for the cache must not build");

    let output = launcher(&action, &cache)
        .args(["a b", "c"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", output_text(&output));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "from-source-1 a b|c\n"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(building), "{stderr}");
    assert!(
        stderr.contains("wheelwright-launcher: built wheelwright from source in "),
        "{stderr}"
    );
    assert!(cache.join("target/release/wheelwright").is_file());
    // The build landed where --launcher-cache said: restoring that directory is enough.
    assert!(dir.join("wheelwright").is_file());

    // Second run: the cached binary, no build (even with cargo gone from PATH).
    let output = launcher(&action, &cache)
        .arg("again")
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", output_text(&output));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "from-source-1 again\n"
    );
    assert!(output.stderr.is_empty(), "{}", output_text(&output));

    // Changed source (only under crates/): a new key, a new build.
    write_crate(&action, "from-source-2");
    let output = launcher(&action, &cache).arg("x").output().unwrap();
    assert!(output.status.success(), "{}", output_text(&output));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "from-source-2 x\n");
    assert!(String::from_utf8_lossy(&output.stderr).contains(building));
    let builds = fs_err::read_dir(&cache)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(&format!("wheelwright-{}-", arch()))
        })
        .count();
    assert_eq!(builds, 2);

    // A build that fails says so and exits 1.
    fs_err::write(
        action.join("src/main.rs"),
        "fn main() { this is not rust }\n",
    )
    .unwrap();
    let output = launcher(&action, &cache).output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", output_text(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .ends_with("wheelwright-launcher: error: cargo build failed (see above)\n"),
        "{}",
        output_text(&output)
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn without_a_prebuilt_binary_or_cargo_it_says_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let action = action_dir(tmp.path());
    let cache = tmp.path().join("cache");
    // No source at all.
    let output = launcher(&action, &cache).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        format!(
            "wheelwright-launcher: error: no prebuilt wheelwright for {} in dist/ and no source to build it from (Cargo.toml missing next to dist/)\n",
            arch()
        )
    );
    // Source, but no cargo on PATH.
    write_crate(&action, "x");
    fs_err::write(action.join("Cargo.lock"), "version = 4\n").unwrap();
    assert!(!Path::new("/usr/bin/cargo").exists() && !Path::new("/bin/cargo").exists());
    let output = launcher(&action, &cache)
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        format!(
            "wheelwright-launcher: error: no prebuilt wheelwright for {} in dist/, and cargo is not installed to build it from source (install Rust with rustup, or use a release tag of the action)\n",
            arch()
        )
    );
}
