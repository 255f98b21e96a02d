//! `wheelwright publish` against real index servers (pypiserver and devpi-server from the tool
//! venv, on loopback), against `twine upload` as the oracle for the upload form, and against a
//! loopback stub for what no real server here can do on demand: 503s, resets and stalls.
//! Trusted publishing has its own stand-ins and tests (oidc.rs).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;

use crate::publish_support::{
    self, Fault, Reply, Stub, basic, build_project, http_get, index_handler, list, make_wheel,
    publish_cmd, run, sha256_hex, start_devpi, start_pypiserver, start_pypiserver_with_fallback,
    store, venv_tool, wait_bounded,
};
use crate::support::dists;
use crate::support::{json_of, run_ok, testbed};

/// pip installs `requirement` from the index at `simple_url` into a fresh venv, where its module
/// (named after the distribution) says `marker`; the sdist pip downloads is the one in `built`.
fn assert_served(dir: &Path, simple_url: &str, requirement: &str, marker: &str, built: &[PathBuf]) {
    let (name, _) = requirement.split_once("==").expect("name==version");
    let module = name.replace('-', "_");
    let said = install_and_run(
        dir,
        simple_url,
        requirement,
        &format!("import {module}; print({module}.MARKER)"),
    );
    assert_eq!(said, marker);
    let sdist = built
        .iter()
        .find(|p| p.to_string_lossy().ends_with(".tar.gz"))
        .unwrap();
    assert_eq!(
        pip_download_sdist(dir, simple_url, requirement),
        fs_err::read(sdist).unwrap()
    );
}

/// `(file, result)` of every file in a `--json` report.
pub(crate) fn results(report: &serde_json::Value) -> Vec<(String, String)> {
    report["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_owned(),
                f["result"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn names(files: &[PathBuf]) -> Vec<String> {
    files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

/// Whether every file of a `--json` report has `result`.
fn all_results(stdout: &[u8], result: &str) -> bool {
    results(&json_of(stdout)).iter().all(|(_, r)| r == result)
}

/// A scratch directory and a `HOME` inside it (so no `~/.pypirc` of the machine is read).
pub(crate) fn scratch() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    fs_err::create_dir_all(&home).unwrap();
    (tmp, home)
}

/// The files in `dir` (a server's package directory, or a build's) by name, with their sha256.
fn stored(dir: &Path) -> BTreeMap<String, String> {
    list(dir)
        .iter()
        .map(|p| {
            (
                names(std::slice::from_ref(p))[0].clone(),
                sha256_hex(&fs_err::read(p).unwrap()),
            )
        })
        .collect()
}

/// Installs `requirement` from `simple` into a fresh venv and returns what `code` prints.
fn install_and_run(work: &Path, simple: &str, requirement: &str, code: &str) -> String {
    let venv = work.join("venv");
    run_ok(
        testbed()
            .command(venv_tool("python").to_str().unwrap())
            .args(["-m", "venv"])
            .arg(&venv),
    );
    run_ok(
        testbed()
            .command(venv.join("bin/pip").to_str().unwrap())
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
            .env("PIP_NO_INPUT", "1")
            .args([
                "install",
                "--no-deps",
                "--no-cache-dir",
                "--index-url",
                simple,
                requirement,
            ]),
    );
    let output = run_ok(
        testbed()
            .command(venv.join("bin/python").to_str().unwrap())
            .args(["-c", code]),
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// Downloads the sdist of `requirement` from `simple` with pip and returns its bytes.
fn pip_download_sdist(work: &Path, simple: &str, requirement: &str) -> Vec<u8> {
    let dest = work.join("sdist-download");
    run_ok(
        testbed()
            .command(venv_tool("pip").to_str().unwrap())
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
            .args([
                "download",
                "--no-deps",
                "--no-cache-dir",
                "--no-binary",
                ":all:",
                "--no-build-isolation",
            ])
            .args(["--index-url", simple, "-d"])
            .arg(&dest)
            .arg(requirement),
    );
    let files = list(&dest);
    assert_eq!(files.len(), 1, "{files:?}");
    fs_err::read(&files[0]).unwrap()
}

#[test]
fn publish_to_pypiserver_then_install_rerun_and_conflicts() {
    let (tmp, home) = scratch();
    let server = start_pypiserver(&tmp.path().join("pypiserver"));
    let dist = tmp.path().join("dist");
    let built = build_project(tmp.path(), "wwpub-demo", "1.0", "first", &dist);
    let extra = make_wheel(&dist, "wwpub_extra", "0.1", 64 * 1024, 1);

    let publish = |dir: &Path, extra_args: &[&str], password: &str| {
        let mut cmd = publish_cmd(&home);
        cmd.arg(dir)
            .args([
                "--repository-url",
                &server.upload_url(),
                "--username",
                "testuser",
                "--json",
            ])
            .args(extra_args)
            .env("WHEELWRIGHT_PASSWORD", password);
        run(&mut cmd)
    };

    // First upload: sdist first, then the wheels by name; the server has exactly these bytes.
    let (output, text) = publish(&dist, &[], "testpass");
    assert!(output.status.success(), "{text}");
    // Not a terminal: each file's progress ends with a line of size, time and rate.
    for name in names(&built) {
        assert!(text.contains(&format!("`{name}`: sent ")), "{name}: {text}");
    }
    let report = json_of(&output.stdout);
    let mut expected = names(&built);
    expected.sort_by_key(|n| (!n.ends_with(".tar.gz"), n.clone()));
    expected.insert(1, names(std::slice::from_ref(&extra))[0].clone());
    expected[1..].sort();
    assert_eq!(
        results(&report),
        expected
            .iter()
            .map(|n| (n.clone(), "uploaded".to_owned()))
            .collect::<Vec<_>>(),
        "{text}"
    );
    let local = stored(&dist);
    assert_eq!(stored(&server.packages), local);

    // pip installs the wheel from the index into a fresh venv; the sdist is served too.
    assert_served(
        tmp.path(),
        &server.simple_url(),
        "wwpub-demo==1.0",
        "first",
        &built,
    );

    // A re-run without --skip-existing fails clearly (pypiserver answers 409) ...
    let (output, text) = publish(&dist, &[], "testpass");
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("already exists") && text.contains("--skip-existing"),
        "{text}"
    );
    // ... and with it succeeds without sending anything again.
    let (output, text) = publish(&dist, &["--skip-existing"], "testpass");
    assert!(output.status.success(), "{text}");
    assert!(all_results(&output.stdout, "skipped"), "{text}");
    assert_eq!(
        stored(&server.packages),
        local,
        "nothing duplicated or replaced"
    );

    // Same file names, different bytes: an error naming both hashes, never a skip.
    let dist2 = tmp.path().join("dist2");
    let rebuilt = build_project(tmp.path(), "wwpub-demo", "1.0", "second", &dist2);
    assert_eq!(names(&rebuilt), names(&built));
    let (output, text) = publish(&dist2, &["--skip-existing"], "testpass");
    assert_eq!(output.status.code(), Some(1), "{text}");
    let wheel2 = rebuilt
        .iter()
        .find(|p| p.to_string_lossy().ends_with(".whl"))
        .unwrap();
    let new_sha = sha256_hex(&fs_err::read(wheel2).unwrap());
    assert!(
        text.contains("already has a different") && text.contains(&new_sha),
        "{text}"
    );
    assert!(all_results(&output.stdout, "failed"), "{text}");
    assert_eq!(
        stored(&server.packages),
        local,
        "the index still has the first upload"
    );

    // Wrong password: exit 1, the index's answer, the password nowhere in the output.
    let fresh = tmp.path().join("fresh");
    fs_err::create_dir_all(&fresh).unwrap();
    make_wheel(&fresh, "wwpub_other", "0.1", 1024, 2);
    let secret = "wrong-Pa55word-4e1c9d";
    let (output, text) = publish(&fresh, &[], secret);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("refused the credentials (403"), "{text}");
    assert!(!text.contains(secret), "the password leaked:\n{text}");
}

#[test]
fn publish_to_devpi_then_install_rerun_and_conflicts() {
    let (tmp, home) = scratch();
    let server = start_devpi(tmp.path());
    let dist = tmp.path().join("dist");
    let built = build_project(tmp.path(), "wwpub-devpi", "2.0", "first", &dist);

    let publish = |dir: &Path, extra_args: &[&str], password: &str| {
        let mut cmd = publish_cmd(&home);
        cmd.arg(dir)
            .args(["--repository-url", &server.upload_url(), "--json"])
            .args(extra_args)
            .env("TWINE_USERNAME", "testuser")
            .env("TWINE_PASSWORD", password);
        run(&mut cmd)
    };
    let listed = || -> Vec<(String, String)> {
        let (status, body) = http_get(
            server.port,
            "/testuser/dev/+simple/wwpub-devpi/",
            "application/vnd.pypi.simple.v1+json",
        )
        .expect("devpi answers");
        assert_eq!(status, 200, "{body}");
        let page: serde_json::Value = serde_json::from_str(&body).unwrap();
        let mut files: Vec<(String, String)> = page["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["filename"].as_str().unwrap().to_owned(),
                    f["hashes"]["sha256"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        files.sort();
        files
    };
    let local: Vec<(String, String)> = list(&dist)
        .iter()
        .map(|p| {
            (
                names(std::slice::from_ref(p))[0].clone(),
                sha256_hex(&fs_err::read(p).unwrap()),
            )
        })
        .collect();

    let (output, text) = publish(&dist, &[], "testpass");
    assert!(output.status.success(), "{text}");
    assert!(all_results(&output.stdout, "uploaded"), "{text}");
    assert_eq!(listed(), local);
    assert_served(
        tmp.path(),
        &server.simple_url(),
        "wwpub-devpi==2.0",
        "first",
        &built,
    );

    // devpi answers an identical re-upload with 200 "identical file": reported as skipped.
    let (output, text) = publish(&dist, &[], "testpass");
    assert!(output.status.success(), "{text}");
    assert!(all_results(&output.stdout, "skipped"), "{text}");
    // --skip-existing finds both in the PEP 691 page and sends nothing.
    let (output, text) = publish(&dist, &["--skip-existing"], "testpass");
    assert!(output.status.success(), "{text}");
    assert!(text.contains("+simple/"), "{text}");
    assert!(all_results(&output.stdout, "skipped"), "{text}");
    assert_eq!(listed(), local, "nothing duplicated");

    // Different bytes under the same names: 409 without --skip-existing, a comparison with it.
    let dist2 = tmp.path().join("dist2");
    build_project(tmp.path(), "wwpub-devpi", "2.0", "second", &dist2);
    let (output, text) = publish(&dist2, &[], "testpass");
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("(409 Conflict)") && text.contains("already exists"),
        "{text}"
    );
    let (output, text) = publish(&dist2, &["--skip-existing"], "testpass");
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("already has a different"), "{text}");
    assert_eq!(listed(), local, "the index still has the first upload");

    let secret = "wrong-devpi-secret-8c2f";
    let (output, text) = publish(&dist, &[], secret);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("refused the credentials (401"), "{text}");
    assert!(!text.contains(secret), "the password leaked:\n{text}");
}

/// The multipart form of one upload, comparable across clients: each part as
/// `(name, file name, content type, value)` with the file's bytes replaced by their sha256,
/// sorted by name (stable, so repeated fields keep their order).
fn form_of(
    request: &crate::publish_support::Request,
) -> Vec<(String, Option<String>, Option<String>, String)> {
    let mut parts: Vec<_> = request
        .parts()
        .into_iter()
        .map(|p| {
            let value = if p.filename.is_some() {
                format!("sha256:{}", sha256_hex(&p.data))
            } else {
                String::from_utf8(p.data).expect("text field is UTF-8")
            };
            (p.name, p.filename, p.content_type, value)
        })
        .collect();
    parts.sort_by(|a, b| a.0.cmp(&b.0));
    parts
}

#[test]
#[expect(
    clippy::print_stderr,
    reason = "the test shows what it compared (captured unless it fails)"
)]
fn publish_sends_the_same_form_as_twine() {
    let (tmp, home) = scratch();
    let dist = tmp.path().join("dist");
    let mut files = build_project(tmp.path(), "wwpub-parity", "3.1", "parity", &dist);
    files.sort_by_key(|p| !p.to_string_lossy().ends_with(".tar.gz"));
    let stub = Stub::start(|request, state| {
        store(state, request);
        Reply::new(200, "text/plain", "")
    });

    let twine = run_ok(
        testbed()
            .command(venv_tool("twine").to_str().unwrap())
            .env("HOME", &home)
            .env("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
            .env_remove("TWINE_USERNAME")
            .env_remove("TWINE_PASSWORD")
            .args(["upload", "--non-interactive", "--disable-progress-bar"])
            .args([
                "--repository-url",
                &stub.url("/legacy/"),
                "-u",
                "parity-user",
                "-p",
                "parity-pass",
            ])
            .args(&files),
    );
    assert_eq!(
        stub.uploads().len(),
        2,
        "twine: {}",
        String::from_utf8_lossy(&twine.stderr)
    );

    let mut cmd = publish_cmd(&home);
    cmd.args(&files)
        .args([
            "--repository-url",
            &stub.url("/legacy/"),
            "--username",
            "parity-user",
        ])
        .env("WHEELWRIGHT_PASSWORD", "parity-pass");
    let (output, text) = run(&mut cmd);
    assert!(output.status.success(), "{text}");

    let uploads = stub.uploads();
    assert_eq!(uploads.len(), 4);
    let (by_twine, by_us) = uploads.split_at(2);
    // twine sends wheels first; we send the sdist first (so an index shows the source release
    // from the start). Pair the uploads by file name.
    assert!(by_us[0].upload_filename().unwrap().ends_with(".tar.gz"));
    for theirs in by_twine {
        let file = theirs.upload_filename().unwrap();
        let ours = by_us
            .iter()
            .find(|r| r.upload_filename().as_deref() == Some(file.as_str()))
            .unwrap_or_else(|| panic!("wheelwright did not upload `{file}`"));
        let (theirs_form, ours_form) = (form_of(theirs), form_of(ours));
        let field_names = |form: &[(String, Option<String>, Option<String>, String)]| {
            form.iter().map(|f| f.0.clone()).collect::<Vec<_>>()
        };
        assert_eq!(
            field_names(&ours_form),
            field_names(&theirs_form),
            "field names for `{file}`"
        );
        assert_eq!(ours_form, theirs_form, "fields for `{file}`");
        eprintln!(
            "`{file}`: same {} parts as twine: {:?}",
            ours_form.len(),
            field_names(&ours_form)
        );
        assert_eq!(ours.header("authorization"), theirs.header("authorization"));
        assert!(theirs.header("user-agent").unwrap_or("").contains("twine"));
        assert!(
            !ours
                .header("user-agent")
                .unwrap_or("")
                .to_ascii_lowercase()
                .contains("twine")
        );
        // The file went through whole.
        let local = files.iter().find(|p| p.ends_with(&file)).unwrap();
        let sent = ours
            .parts()
            .into_iter()
            .find(|p| p.name == "content")
            .unwrap();
        assert_eq!(sent.data, fs_err::read(local).unwrap());
        // The fields the protocol needs are there, and the ones twine no longer sends are not.
        let has = |name: &str| ours_form.iter().any(|f| f.0 == name);
        for required in [
            ":action",
            "protocol_version",
            "filetype",
            "pyversion",
            "sha256_digest",
            "blake2_256_digest",
            "metadata_version",
            "name",
            "version",
            "content",
        ] {
            assert!(has(required), "`{required}` missing for `{file}`");
        }
        assert!(!has("md5_digest") && !has("gpg_signature"));
        assert!(
            ours_form.iter().filter(|f| f.0 == "classifiers").count() == 2,
            "repeated fields are separate parts"
        );
    }
}

#[test]
#[expect(
    clippy::print_stderr,
    reason = "the test shows what it compared (captured unless it fails)"
)]
fn publish_retries_server_errors_and_resets_and_gives_up_on_stalls() {
    let (tmp, home) = scratch();
    let stub = Stub::start(index_handler);
    let wheel = |name: &str, size: usize, seed: u64| {
        let dir = tmp.path().join(name);
        fs_err::create_dir_all(&dir).unwrap();
        make_wheel(&dir, name, "1.0", size, seed)
    };
    let publish = |file: &Path, extra: &[&str]| {
        let mut cmd = publish_cmd(&home);
        cmd.arg(file)
            .args(["--repository-url", &stub.url("/legacy/"), "--json"])
            .args(extra);
        cmd
    };
    let attempts_for = |name: &str| -> Vec<u16> {
        stub.uploads()
            .iter()
            .filter(|r| {
                r.upload_filename()
                    .is_some_and(|f| f.starts_with(&format!("{name}-")))
            })
            .map(|r| r.answered)
            .collect()
    };
    let report_of = |stdout: &[u8]| json_of(stdout)["files"][0].clone();

    // 503 twice, then 200: uploaded once, after three attempts, the whole file each time.
    let a = wheel("ww_a", 8 * 1024, 1);
    stub.inject(&[Fault::Unavailable, Fault::Unavailable]);
    let (output, text) = run(&mut publish(&a, &[]));
    assert!(output.status.success(), "{text}");
    assert_eq!(attempts_for("ww_a"), [503, 503, 200]);
    let report = report_of(&output.stdout);
    assert_eq!(
        (report["result"].as_str(), report["attempts"].as_u64()),
        (Some("uploaded"), Some(3))
    );
    assert!(
        text.contains("retry 1 of 3") && text.contains("retry 2 of 3"),
        "{text}"
    );
    let local = fs_err::read(&a).unwrap();
    for request in stub
        .uploads()
        .iter()
        .filter(|r| r.upload_filename().is_some_and(|f| f.starts_with("ww_a-")))
    {
        let content = request
            .parts()
            .into_iter()
            .find(|p| p.name == "content")
            .unwrap();
        assert_eq!(content.data, local, "each attempt re-sends the whole file");
    }

    // A reset in the middle of a 4 MiB body: retried, uploaded once.
    let b = wheel("ww_b", 4 * 1024 * 1024, 2);
    stub.inject(&[Fault::ResetMidBody]);
    let (output, text) = run(&mut publish(&b, &[]));
    assert!(output.status.success(), "{text}");
    assert_eq!(attempts_for("ww_b"), [0, 200], "{text}");
    eprintln!("reset mid-body:\n{text}");

    // The index stored the file but answered 503; the retry hears "exists", the Simple index
    // has our sha256: that is a success, not a duplicate and not an error.
    let c = wheel("ww_c", 16 * 1024, 3);
    stub.inject(&[Fault::StoredThenUnavailable]);
    let (output, text) = run(&mut publish(&c, &[]));
    assert!(output.status.success(), "{text}");
    assert_eq!(attempts_for("ww_c"), [503, 409]);
    let report = report_of(&output.stdout);
    assert_eq!(report["result"].as_str(), Some("uploaded"), "{text}");
    assert!(
        report["message"]
            .as_str()
            .unwrap()
            .contains("an earlier attempt reached the index"),
        "{text}"
    );

    // A server that takes the body and never answers: each attempt ends after the idle
    // timeout, the run fails cleanly after the retries.
    let d = wheel("ww_d", 8 * 1024, 4);
    stub.inject(&[Fault::Stall, Fault::Stall]);
    let child = publish(&d, &["--timeout", "2", "--retries", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (output, text) = wait_bounded(
        child,
        Duration::from_secs(120),
        "publish against a stalled server",
    );
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("no progress for 2 s"), "{text}");
    eprintln!("stall:\n{text}");
    let report = report_of(&output.stdout);
    assert_eq!(
        (report["result"].as_str(), report["attempts"].as_u64()),
        (Some("failed"), Some(2))
    );

    // Never a second successful upload of the same file.
    let mut successes: BTreeMap<String, usize> = BTreeMap::new();
    for request in stub.uploads().iter().filter(|r| r.answered == 200) {
        *successes
            .entry(request.upload_filename().unwrap())
            .or_default() += 1;
    }
    assert!(successes.values().all(|&n| n == 1), "{successes:?}");
    assert_eq!(stub.state.stored.lock().unwrap().len(), 3);
}

#[test]
fn publish_refuses_redirects_and_does_not_retry_client_errors() {
    let (tmp, home) = scratch();
    let stub = Stub::start(|request, _| {
        if request.target == "/legacy" {
            let mut reply = Reply::new(308, "text/plain", "");
            reply.headers.push(("Location".into(), "/legacy/".into()));
            return reply;
        }
        Reply::new(400, "text/plain", "Invalid value for blake2_256_digest")
    });
    let wheel = make_wheel(tmp.path(), "ww_redirect", "1.0", 1024, 5);
    let mut cmd = publish_cmd(&home);
    cmd.arg(&wheel)
        .args(["--repository-url", &stub.url("/legacy")]);
    let (output, text) = run(&mut cmd);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("--repository-url {}", stub.url("/legacy/"))),
        "{text}"
    );
    assert_eq!(stub.uploads().len(), 1, "the redirect was not followed");

    let mut cmd = publish_cmd(&home);
    cmd.arg(&wheel)
        .args(["--repository-url", &stub.url("/legacy/")]);
    let (output, text) = run(&mut cmd);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("rejected the file (400 Bad Request): Invalid value for blake2_256_digest"),
        "{text}"
    );
    assert_eq!(stub.uploads().len(), 2, "a 4xx is not retried");
}

#[test]
fn publish_refuses_bad_input() {
    let (tmp, home) = scratch();
    let stub = Stub::start(index_handler);
    let good_dir = tmp.path().join("good");
    fs_err::create_dir_all(&good_dir).unwrap();
    let good = make_wheel(&good_dir, "ww_good", "1.0", 1024, 7);
    let expect_error = |args: &[&str], code: i32, needles: &[&str]| -> String {
        let mut cmd = publish_cmd(&home);
        cmd.current_dir(tmp.path()).args(args);
        let (output, text) = run(&mut cmd);
        assert_eq!(output.status.code(), Some(code), "{args:?}: {text}");
        for needle in needles {
            assert!(
                text.contains(needle),
                "{args:?}: `{needle}` missing:\n{text}"
            );
        }
        assert!(!text.contains("panicked"), "{text}");
        text
    };
    let url = stub.url("/legacy/");

    let empty = tmp.path().join("empty");
    fs_err::create_dir_all(&empty).unwrap();
    expect_error(
        &[empty.to_str().unwrap(), "--repository-url", &url],
        1,
        &["error: no distributions to publish in `"],
    );
    // The default directory is `wheelhouse`.
    expect_error(
        &["--repository-url", &url],
        1,
        &["cannot read `wheelhouse`"],
    );

    let dangling = tmp.path().join("gone-1.0-py3-none-any.whl");
    std::os::unix::fs::symlink(tmp.path().join("nowhere"), &dangling).unwrap();
    expect_error(
        &[dangling.to_str().unwrap(), "--repository-url", &url],
        1,
        &["cannot read `", "gone-1.0-py3-none-any.whl"],
    );

    let text_file = tmp.path().join("notes.txt");
    fs_err::write(&text_file, "x").unwrap();
    expect_error(
        &[text_file.to_str().unwrap()],
        1,
        &["is not a distribution"],
    );

    expect_error(
        &[good.to_str().unwrap(), "--repository", "pipy"],
        1,
        &["unknown repository `pipy`: expected `pypi`, `testpypi`"],
    );

    let text = expect_error(
        &[
            good.to_str().unwrap(),
            "--repository-url",
            "https://bob:hunter2-secret@127.0.0.1:9/legacy/",
        ],
        1,
        &[
            "https://bob:****@127.0.0.1:9/legacy/",
            "contains credentials",
        ],
    );
    assert!(!text.contains("hunter2"), "{text}");

    expect_error(
        &[
            good.to_str().unwrap(),
            "--repository-url",
            &url,
            "--password-env",
            "WW_NOT_SET_ANYWHERE",
        ],
        1,
        &["`WW_NOT_SET_ANYWHERE` is not set"],
    );
    expect_error(
        &[
            good.to_str().unwrap(),
            "--repository-url",
            &url,
            "--attestations",
        ],
        1,
        &[
            "`--attestations`: attestations are made only with trusted publishing",
            "hint: publish from GitHub Actions with `permissions: id-token: write`",
        ],
    );

    // A wheel whose RECORD does not match its contents: the check lists it, nothing is sent.
    let bad_dir = tmp.path().join("bad");
    fs_err::create_dir_all(&bad_dir).unwrap();
    let bad = make_wheel(&bad_dir, "ww_bad", "1.0", 4096, 8);
    let mut bytes = fs_err::read(&bad).unwrap();
    // Offset 1000 is inside the stored 4096-byte payload (the second entry).
    bytes[1000] ^= 0xff;
    fs_err::write(&bad, &bytes).unwrap();
    expect_error(
        &[
            good_dir.to_str().unwrap(),
            bad.to_str().unwrap(),
            "--repository-url",
            &url,
        ],
        1,
        &["ww_bad-1.0-py3-none-any.whl", "nothing was uploaded"],
    );

    // --dry-run checks and hashes but contacts nobody.
    let mut cmd = publish_cmd(&home);
    cmd.arg(&good_dir).args([
        "--repository-url",
        &url,
        "--dry-run",
        "--json",
        "--print-hash",
    ]);
    let (output, text) = run(&mut cmd);
    assert!(output.status.success(), "{text}");
    let report = json_of(&output.stdout);
    assert_eq!(
        results(&report),
        [(
            "ww_good-1.0-py3-none-any.whl".to_owned(),
            "would-upload".to_owned()
        )]
    );
    assert_eq!(
        report["files"][0]["sha256"].as_str().unwrap(),
        sha256_hex(&fs_err::read(&good).unwrap())
    );
    assert!(text.contains("blake2_256: "), "{text}");
    assert!(stub.requests().is_empty(), "nothing was contacted");
}

/// pypiserver with its default settings answers a project page it does not hold with a
/// redirect to another index. Here that index is a second local pypiserver listing the same
/// file names, first with the same bytes, then with other bytes. `--skip-existing` decides on
/// the target only: it uploads there and never reports a file skipped, or "different", because
/// another server has it (issue 13).
#[test]
fn publish_skip_existing_decides_on_the_target_not_on_pypiservers_fallback() {
    let (tmp, home) = scratch();
    let upstream = start_pypiserver(&tmp.path().join("upstream"));
    let target = start_pypiserver_with_fallback(&tmp.path().join("target"), &upstream.simple_url());
    let publish = |dir: &Path| {
        let mut cmd = publish_cmd(&home);
        cmd.arg(dir)
            .args([
                "--repository-url",
                &target.upload_url(),
                "--username",
                "testuser",
                "--skip-existing",
                "--json",
            ])
            .env("WHEELWRIGHT_PASSWORD", "testpass");
        run(&mut cmd)
    };

    for (project, upstream_marker) in [("wwpub-fallback", "first"), ("wwpub-fallback2", "other")] {
        let dist = tmp.path().join(format!("dist-{project}"));
        let built = build_project(tmp.path(), project, "1.0", "first", &dist);
        // The upstream index holds the same file names: these bytes, or another build's.
        let upstream_dist = tmp.path().join(format!("upstream-{project}"));
        let upstream_files = if upstream_marker == "first" {
            built.clone()
        } else {
            build_project(tmp.path(), project, "1.0", upstream_marker, &upstream_dist)
        };
        assert_eq!(names(&upstream_files), names(&built));
        for file in &upstream_files {
            fs_err::copy(file, upstream.packages.join(file.file_name().unwrap())).unwrap();
        }
        // What the old behaviour trusted: the target redirects to the upstream's page, which
        // lists every file name.
        let page = format!("/simple/{project}/");
        let (status, _) = http_get(target.port, &page, "text/html").expect("target answers");
        assert!(
            matches!(status, 302 | 303),
            "pypiserver's default fallback redirect, not {status}"
        );
        let (status, listing) = http_get(upstream.port, &page, "text/html").unwrap();
        assert_eq!(status, 200);
        for name in names(&built) {
            assert!(listing.contains(&name), "{name} not upstream:\n{listing}");
        }

        let (output, text) = publish(&dist);
        assert!(output.status.success(), "{project}: {text}");
        assert!(all_results(&output.stdout, "uploaded"), "{project}: {text}");
        assert!(text.contains("another server"), "{text}");
        let local = stored(&dist);
        assert_eq!(
            stored(&target.packages),
            local,
            "{project}: the target has our files"
        );

        // Now the target itself has them: a re-run skips them, sending nothing.
        let (output, text) = publish(&dist);
        assert!(output.status.success(), "{text}");
        assert!(all_results(&output.stdout, "skipped"), "{project}: {text}");
        for file in &built {
            fs_err::remove_file(target.packages.join(file.file_name().unwrap())).unwrap();
        }
    }
}

/// What an index family answers to an upload of a file name it already has.
struct ExistsAnswer {
    family: &'static str,
    status: u16,
    /// A reason phrase other than the standard one (Warehouse puts its message there).
    reason: Option<String>,
    content_type: &'static str,
    body: String,
}

/// The "already exists" answers of publish.md §1.9 (and twine's list), for `file`.
fn exists_answers(file: &str) -> Vec<ExistsAnswer> {
    let answer =
        |family, status, reason: Option<String>, content_type, body: String| ExistsAnswer {
            family,
            status,
            reason,
            content_type,
            body,
        };
    vec![
        answer(
            "PyPI",
            400,
            Some(format!(
                "File already exists ('{file}', with blake2_256 hash '00ff'). See the help page on file name reuse for more information."
            )),
            "text/html",
            "<html><body><h1>400 Bad Request</h1></body></html>".to_owned(),
        ),
        answer(
            "pypiserver",
            409,
            None,
            "text/html; charset=UTF-8",
            format!(
                "<html><body><h1>Error: 409 Conflict</h1><pre>Package &#039;{file}&#039; already exists!\nYou may start server with `--overwrite` option.</pre></body></html>"
            ),
        ),
        answer(
            "devpi",
            409,
            None,
            "text/plain",
            format!("{file} already exists in non-volatile index"),
        ),
        answer(
            "GCP Artifact Registry",
            400,
            None,
            "text/plain",
            format!("the file {file} already exists in the repository"),
        ),
        answer(
            "Nexus",
            400,
            None,
            "text/plain",
            "Repository does not allow updating assets: pypi-hosted".to_owned(),
        ),
        answer(
            "GitLab",
            400,
            None,
            "application/json",
            serde_json::json!({"message": "400 Bad request - Validation failed: File name has already been taken"}).to_string(),
        ),
        answer(
            "Artifactory",
            403,
            None,
            "application/json",
            serde_json::json!({"errors": [{"status": 403, "message": format!("Not enough permissions to delete/overwrite artifact 'pypi-local:ww_exists/1.0/{file}'")}]}).to_string(),
        ),
    ]
}

/// What the stub's Simple page says after the "already exists" answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AfterExists {
    /// The target lists the file with our sha256.
    Same,
    /// The target lists the file with another sha256.
    Different,
    /// The target's page redirects to another server, which lists our sha256.
    Elsewhere,
}

/// Each index family's "already exists" answer: skipped only when the target's own page then
/// shows our sha256; an error naming both digests when it shows another; an error, never a
/// skip, when the page sends us to another server. The stub answers like each family (no
/// Artifactory, Nexus, GitLab or Warehouse runs here); its Simple page is empty until the
/// upload, so the pre-upload look finds nothing and the answer to the upload decides.
#[test]
fn publish_recognises_each_index_familys_exists_answer_and_confirms_on_the_target() {
    use std::sync::atomic::{AtomicBool, Ordering};

    let (tmp, home) = scratch();
    let wheel = make_wheel(tmp.path(), "ww_exists", "1.0", 2048, 21);
    let file = names(std::slice::from_ref(&wheel))[0].clone();
    let ours = sha256_hex(&fs_err::read(&wheel).unwrap());
    let theirs = sha256_hex(b"another build with the same file name");
    let page = |sha: &str| {
        Reply::new(
            200,
            "text/html",
            format!("<html><body><a href=\"/files/{file}#sha256={sha}\">{file}</a></body></html>"),
        )
    };
    // Another server listing our exact file: following a redirect there would "confirm" it.
    let elsewhere = {
        let listing = page(&ours).body;
        Stub::start(move |_, _| Reply::new(200, "text/html", listing.clone()))
    };
    let answers = Arc::new(exists_answers(&file));
    let config = Arc::new(Mutex::new((0usize, AfterExists::Same)));
    let posted = Arc::new(AtomicBool::new(false));
    let stub = {
        let (answers, config, posted) = (
            Arc::clone(&answers),
            Arc::clone(&config),
            Arc::clone(&posted),
        );
        let (ours_page, theirs_page) = (page(&ours).body, page(&theirs).body);
        let redirect = elsewhere.url("/simple/ww-exists/");
        Stub::start(move |request, _| {
            let (family, after) = *config.lock().unwrap();
            if request.upload_filename().is_some() {
                posted.store(true, Ordering::SeqCst);
                let answer = &answers[family];
                let mut reply = Reply::new(answer.status, answer.content_type, answer.body.clone());
                if let Some(reason) = &answer.reason {
                    reply.reason.clone_from(reason);
                }
                return reply;
            }
            match (request.method.as_str(), request.target.as_str()) {
                ("GET", "/simple/") => Reply::new(200, "text/html", "<html><body></body></html>"),
                ("GET", "/simple/ww-exists/") if !posted.load(Ordering::SeqCst) => {
                    Reply::new(404, "text/plain", "not found")
                }
                ("GET", "/simple/ww-exists/") => match after {
                    AfterExists::Same => Reply::new(200, "text/html", ours_page.clone()),
                    AfterExists::Different => Reply::new(200, "text/html", theirs_page.clone()),
                    AfterExists::Elsewhere => {
                        let mut reply = Reply::new(302, "text/plain", "");
                        reply.headers.push(("Location".into(), redirect.clone()));
                        reply
                    }
                },
                _ => Reply::new(404, "text/plain", "not found"),
            }
        })
    };
    let publish = |extra: &[&str]| {
        let mut cmd = publish_cmd(&home);
        cmd.arg(&wheel)
            .args(["--repository-url", &stub.url("/legacy/"), "--json"])
            .args(extra);
        let (output, text) = run(&mut cmd);
        let report = json_of(&output.stdout)["files"][0].clone();
        (output.status.code(), report, text)
    };

    for (index, answer) in answers.iter().enumerate() {
        let family = answer.family;
        for after in [
            AfterExists::Same,
            AfterExists::Different,
            AfterExists::Elsewhere,
        ] {
            *config.lock().unwrap() = (index, after);
            posted.store(false, Ordering::SeqCst);
            let uploads_before = stub.uploads().len();
            let (code, report, text) = publish(&["--skip-existing"]);
            assert_eq!(
                stub.uploads().len(),
                uploads_before + 1,
                "{family} {after:?}: {text}"
            );
            let result = report["result"].as_str().unwrap();
            let message = report["message"].as_str().unwrap_or_default();
            match after {
                AfterExists::Same => {
                    assert_eq!((code, result), (Some(0), "skipped"), "{family}: {text}");
                    assert!(message.contains("same sha256"), "{family}: {message}");
                }
                AfterExists::Different => {
                    assert_eq!((code, result), (Some(1), "failed"), "{family}: {text}");
                    assert!(
                        message.contains(&ours) && message.contains(&theirs),
                        "{family}: both digests in `{message}`"
                    );
                }
                AfterExists::Elsewhere => {
                    assert_eq!((code, result), (Some(1), "failed"), "{family}: {text}");
                    assert!(message.contains("another server"), "{family}: {message}");
                }
            }
        }
        // Without --skip-existing the answer is an error that says what to do.
        *config.lock().unwrap() = (index, AfterExists::Same);
        posted.store(false, Ordering::SeqCst);
        let (code, report, text) = publish(&[]);
        assert_eq!(code, Some(1), "{family}: {text}");
        assert_eq!(report["result"].as_str(), Some("failed"));
        assert!(
            text.contains("already exists on the index") && text.contains("--skip-existing"),
            "{family}: {text}"
        );
    }
    assert!(
        elsewhere.requests().is_empty(),
        "the redirect to another server was followed: {:?}",
        elsewhere.requests()
    );
}

// Not a real token: PyPI-shaped, so the credential rules apply to it.
const PYPI_SHAPED: &str = "pypi-fake-token-for-the-credential-tests";

/// Credentials stay with their host (issue 13): a PyPI-shaped token goes to another index only
/// when the user tied it to that URL, and no credential goes over plain http to another host.
/// Every refusal happens before any connection: the listeners record nothing. A control run
/// without credentials shows the non-loopback listener does see what is sent.
#[test]
fn publish_keeps_credentials_with_their_host() {
    let (tmp, home) = scratch();
    let wheel = make_wheel(tmp.path(), "ww_creds", "1.0", 1024, 31);
    let loopback = Stub::start(|request, state| {
        store(state, request);
        Reply::new(200, "text/plain", "")
    });
    let remote = Stub::start_on(publish_support::non_loopback_address(), |request, state| {
        store(state, request);
        Reply::new(200, "text/plain", "")
    });
    let expect = |cmd: &mut std::process::Command, code: i32, needles: &[&str]| -> String {
        let (output, text) = run(cmd);
        assert_eq!(output.status.code(), Some(code), "{text}");
        for needle in needles {
            assert!(text.contains(needle), "`{needle}` missing:\n{text}");
        }
        assert!(!text.contains(PYPI_SHAPED), "the token leaked:\n{text}");
        text
    };
    let token_refused = "refusing to send the PyPI API token from";

    // A PyPI token from the environment, an index that is not PyPI: refused.
    let mut cmd = publish_cmd(&home);
    cmd.arg(&wheel)
        .args(["--repository-url", &loopback.url("/legacy/")])
        .env("PYPI_API_TOKEN", PYPI_SHAPED);
    expect(&mut cmd, 1, &[token_refused, "`PYPI_API_TOKEN`", "hint: "]);
    let mut cmd = publish_cmd(&home);
    cmd.arg(&wheel)
        .args(["--repository-url", &loopback.url("/legacy/")])
        .env("TWINE_USERNAME", "__token__")
        .env("TWINE_PASSWORD", PYPI_SHAPED);
    expect(&mut cmd, 1, &[token_refused, "`TWINE_PASSWORD`"]);
    assert!(loopback.requests().is_empty(), "{:?}", loopback.requests());

    // Tied to the URL: `--password-env` with `--repository-url`, or a `.pypirc` section.
    let mut cmd = publish_cmd(&home);
    cmd.arg(&wheel)
        .args([
            "--repository-url",
            &loopback.url("/legacy/"),
            "--password-env",
            "PYPI_API_TOKEN",
        ])
        .env("PYPI_API_TOKEN", PYPI_SHAPED);
    expect(&mut cmd, 0, &["1 uploaded"]);
    let pypirc = tmp.path().join("pypirc");
    fs_err::write(
        &pypirc,
        format!(
            "[distutils]\nindex-servers = mirror\n\n[mirror]\nrepository = {}\npassword = {PYPI_SHAPED}\n",
            loopback.url("/again/")
        ),
    )
    .unwrap();
    let mut cmd = publish_cmd(&home);
    cmd.arg(&wheel)
        .args(["--repository", "mirror", "--config-file"])
        .arg(&pypirc);
    expect(&mut cmd, 0, &["1 uploaded"]);
    let uploads = loopback.uploads();
    assert_eq!(uploads.len(), 2);
    for upload in &uploads {
        assert_eq!(
            upload.header("authorization"),
            Some(basic("__token__", PYPI_SHAPED).as_str())
        );
    }

    // Plain http to another host: no password, no token, no trusted publishing.
    let remote_url = remote.url("/legacy/");
    assert!(!remote_url.contains("127.0.0.1"), "{remote_url}");
    let insecure = "over plain http: credentials go over https only";
    let mut cmd = publish_cmd(&home);
    cmd.arg(&wheel)
        .args(["--repository-url", &remote_url, "--username", "testuser"])
        .env("WHEELWRIGHT_PASSWORD", "remote-Pa55word-9b1e");
    let text = expect(
        &mut cmd,
        1,
        &[insecure, "the password from `WHEELWRIGHT_PASSWORD`"],
    );
    assert!(!text.contains("remote-Pa55word-9b1e"), "{text}");
    let mut cmd = publish_cmd(&home);
    cmd.arg(&wheel)
        .args([
            "--repository-url",
            &remote_url,
            "--password-env",
            "PYPI_API_TOKEN",
        ])
        .env("PYPI_API_TOKEN", PYPI_SHAPED);
    expect(&mut cmd, 1, &[insecure]);
    let mut cmd = publish_cmd(&home);
    cmd.arg(&wheel)
        .args(["--repository-url", &remote_url])
        .env("GITHUB_ACTIONS", "true")
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            loopback.url("/runner/token?api-version=2.0"),
        )
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            "runner-request-token-7171",
        );
    expect(
        &mut cmd,
        1,
        &["refusing to send a trusted-publishing token", insecure],
    );
    assert!(remote.requests().is_empty(), "{:?}", remote.requests());
    assert_eq!(loopback.requests().len(), 2, "no token request either");

    // Control: without credentials the same URL is used, and the listener sees the upload.
    let mut cmd = publish_cmd(&home);
    cmd.arg(&wheel).args(["--repository-url", &remote_url]);
    expect(&mut cmd, 0, &["1 uploaded"]);
    assert_eq!(remote.uploads().len(), 1);
    assert_eq!(remote.uploads()[0].header("authorization"), None);
}

/// `-v` shows what the index answered to a refused upload (status, the headers that matter,
/// the start of the body), `-vv` the request too; never a secret (issue 13). Against a real
/// pypiserver refusing a wrong password, and a stub answering like Warehouse (reason phrase,
/// JSON body) that echoes the password back in a header and the body.
#[test]
fn publish_verbose_shows_the_index_answer_without_secrets() {
    let (tmp, home) = scratch();
    let server = start_pypiserver(&tmp.path().join("pypiserver"));
    let wheel = make_wheel(tmp.path(), "ww_verbose", "1.0", 64 * 1024, 41);
    let secret = "verbose-Pa55word-c0ffee";
    let basic_secret = basic("testuser", secret);
    let encoded = basic_secret.trim_start_matches("Basic ");
    // `publish -v|-vv` of the wheel as `testuser`; it must fail.
    let publish = |verbosity: &str, url: &str| {
        let mut cmd = publish_cmd(&home);
        cmd.arg(verbosity)
            .arg(&wheel)
            .args(["--repository-url", url, "--username", "testuser"])
            .env("WHEELWRIGHT_PASSWORD", secret);
        let (output, text) = run(&mut cmd);
        assert_eq!(output.status.code(), Some(1), "{text}");
        text
    };

    for verbosity in ["-v", "-vv"] {
        let text = publish(verbosity, &server.upload_url());
        // The refusal as the error reports it, and what the server sent for it.
        let refused = text
            .lines()
            .find_map(|l| l.split_once("refused the credentials (403 Forbidden): "))
            .map(|(_, message)| message.trim().to_owned())
            .unwrap_or_else(|| panic!("no refusal in:\n{text}"));
        let answer = format!("POST {} -> 403 Forbidden", server.upload_url());
        assert!(
            text.contains(&answer),
            "{verbosity}: `{answer}` missing:\n{text}"
        );
        assert!(text.contains("  < content-type: "), "{text}");
        let body = text
            .lines()
            .find(|l| l.contains("  < body ("))
            .unwrap_or_else(|| panic!("no body line:\n{text}"));
        let first_word = refused.split_whitespace().next().unwrap();
        assert!(body.contains(first_word), "`{refused}` not in `{body}`");
        if verbosity == "-vv" {
            assert!(text.contains("  > authorization: Basic ****"), "{text}");
            assert!(text.contains("  > field name=ww-verbose"), "{text}");
        }
        for leaked in [secret, encoded] {
            assert!(
                !text.contains(leaked),
                "{verbosity} leaked `{leaked}`:\n{text}"
            );
        }
    }

    // An index that echoes what it got: the secret never shows, the message does.
    let stub = Stub::start(move |request, _| {
        let authorization = request
            .header("authorization")
            .unwrap_or_default()
            .to_owned();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(authorization.trim_start_matches("Basic "))
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let mut reply = Reply::json(
            400,
            &serde_json::json!({
                "message": format!("The description failed to render for 'text/x-rst' (you sent {decoded})"),
                "code": "400 The description failed to render for 'text/x-rst'.",
                "title": "Bad Request",
            }),
        );
        reply.reason = "The description failed to render for 'text/x-rst'.".to_owned();
        reply
            .headers
            .push(("X-Echo-Authorization".into(), authorization));
        reply
    });
    for verbosity in ["-v", "-vv"] {
        let text = publish(verbosity, &stub.url("/legacy/"));
        let mut needles = vec![
            format!(
                "POST {} -> 400 The description failed to render for 'text/x-rst'.",
                stub.url("/legacy/")
            ),
            "  < content-type: application/json".to_owned(),
            "  < body (".to_owned(),
            "(you sent testuser:****)".to_owned(),
        ];
        if verbosity == "-vv" {
            needles.push("  < x-echo-authorization: Basic ****".to_owned());
        }
        for needle in needles {
            assert!(
                text.contains(&needle),
                "{verbosity}: `{needle}` missing:\n{text}"
            );
        }
        for leaked in [secret, encoded] {
            assert!(
                !text.contains(leaked),
                "{verbosity} leaked `{leaked}`:\n{text}"
            );
        }
    }
}

/// PyPI's own rules are PyPI's (issue 13): a `linux_x86_64` wheel and a wheel whose name keeps
/// the project's spelling go to another index with a warning each; `--strict` refuses them;
/// for TestPyPI the platform tag is an error before anything (credentials included) happens.
#[test]
fn publish_applies_pypis_rules_only_to_pypi() {
    let (tmp, home) = scratch();
    let stub = Stub::start(index_handler);
    let dir = tmp.path().join("dist");
    fs_err::create_dir_all(&dir).unwrap();
    let metadata = |name: &str| {
        dists::metadata(
            name,
            "1.0",
            "Description-Content-Type: text/markdown",
            "# x\n",
        )
    };
    dists::Wheel::new(
        "wwlinux-1.0-cp311-cp311-linux_x86_64.whl",
        metadata("wwlinux"),
    )
    .write(&dir);
    dists::Wheel::new("WW_Spelled-1.0-py3-none-any.whl", metadata("WW-Spelled")).write(&dir);
    let publish = |extra: &[&str]| {
        let mut cmd = publish_cmd(&home);
        cmd.arg(&dir).args(extra);
        run(&mut cmd)
    };
    let url = stub.url("/legacy/");

    let (output, text) = publish(&["--repository-url", &url, "--strict"]);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("2 errors in 2 of 2 files (`--strict` makes warnings errors)"),
        "{text}"
    );
    assert!(stub.uploads().is_empty());

    let (output, text) = publish(&["--repository-url", &url, "--json"]);
    assert!(output.status.success(), "{text}");
    assert!(all_results(&output.stdout, "uploaded"), "{text}");
    for needle in [
        "warning: `",
        "platform tag `linux_x86_64` is not accepted by PyPI",
        "[platform-tag]",
        "should start with the normalized project name `ww_spelled`, not `WW_Spelled`",
    ] {
        assert!(text.contains(needle), "`{needle}` missing:\n{text}");
    }
    assert_eq!(stub.uploads().len(), 2);

    let (output, text) = publish(&["--repository", "testpypi"]);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("error: `")
            && text.contains("platform tag `linux_x86_64` is not accepted by PyPI"),
        "{text}"
    );
    assert!(
        text.contains("1 error in 1 of 2 files; nothing was uploaded"),
        "{text}"
    );
    assert!(
        !text.contains("no credentials"),
        "the check comes first: {text}"
    );
}
