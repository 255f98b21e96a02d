//! PEP 740 attestations made by `wheelwright publish` with trusted publishing, against the
//! loopback STAND-INS of GitHub's OIDC issuer, Fulcio, Rekor and a PyPI-shaped index
//! ([`crate::sigstore_standins`]: none of these services is reachable from here). What
//! wheelwright made is verified with `pypi-attestations` and `sigstore` from PyPI (the verifier
//! PyPI uses), against a trust root that names the stand-ins' CA and log keys.

use std::path::{Path, PathBuf};
use std::process::Command;

use wheelwright::publish::endpoints;

use crate::publish_support::{
    Reply, Stub, basic, build_project, index_handler, make_wheel, publish_cmd, run, venv_tool,
};
use crate::sigstore_standins::{REPOSITORY, Service, ServiceFault, Sigstore, WORKFLOW};
use crate::support::{json_of, repo};

fn scratch() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    fs_err::create_dir_all(&home).unwrap();
    (tmp, home)
}

fn attestation_of(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".publish.attestation");
    PathBuf::from(name)
}

/// Runs `tests/real/verify_pep740.py` (pypi-attestations + sigstore-python) on `(file,
/// attestation)` pairs for the publisher `repository` + `workflow`; returns its lines.
fn verify(root: &Path, repository: &str, workflow: &str, pairs: &[(&Path, &Path)]) -> Vec<String> {
    let mut cmd = Command::new(venv_tool("python"));
    cmd.arg(repo().join("tests/real/verify_pep740.py"))
        .arg(root)
        .arg(repository)
        .arg(workflow);
    for (dist, attestation) in pairs {
        cmd.arg(dist).arg(attestation);
    }
    let output = cmd.output().expect("run the verifier");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let lines: Vec<String> = text.lines().map(str::to_owned).collect();
    assert_eq!(
        lines.len(),
        pairs.len(),
        "verifier output:\n{text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    lines
}

fn publish(
    sig: &Sigstore,
    home: &Path,
    files: &Path,
    extra: &[&str],
) -> (std::process::Output, String) {
    let mut cmd = publish_cmd(home);
    cmd.arg(files)
        .args(["--repository-url", &sig.upload_url(), "--json"])
        .args(extra)
        .envs(sig.env());
    run(&mut cmd)
}

#[test]
#[expect(
    clippy::print_stderr,
    reason = "the test shows what it checked (captured unless it fails)"
)]
fn publish_attests_every_file_and_pypi_attestations_verifies_them() {
    let (tmp, home) = scratch();
    let sig = Sigstore::start(tmp.path());
    let dist = tmp.path().join("dist");
    let files = build_project(tmp.path(), "ww-attested", "1.0", "one", &dist);
    let summary = tmp.path().join("summary.md");

    let mut cmd = publish_cmd(&home);
    cmd.arg(&dist)
        .args(["--repository-url", &sig.upload_url(), "--json"])
        .envs(sig.env())
        .env("GITHUB_STEP_SUMMARY", &summary);
    let (output, text) = run(&mut cmd);
    assert!(output.status.success(), "{text}");
    eprintln!("{text}");

    // Every file: uploaded, its attestation made, written next to it, listed in --json and
    // the job summary, and sent in the `attestations` field as a one-element JSON array.
    let report = json_of(&output.stdout);
    let uploads = sig.uploaded_attestations();
    assert_eq!(uploads.len(), files.len(), "{uploads:?}");
    for file in &files {
        let name = file.file_name().unwrap().to_str().unwrap();
        let entry = report["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["file"] == name)
            .unwrap();
        assert_eq!(entry["result"], "uploaded", "{entry}");
        assert_eq!(entry["attestation"]["made"], true, "{entry}");
        let path = attestation_of(file);
        assert_eq!(entry["attestation"]["path"], path.display().to_string());
        let written: serde_json::Value =
            serde_json::from_str(&fs_err::read_to_string(&path).unwrap()).unwrap();
        let (_, field) = uploads.iter().find(|(n, _)| n == name).unwrap();
        let sent: serde_json::Value = serde_json::from_str(field.as_deref().unwrap()).unwrap();
        assert_eq!(sent, serde_json::json!([written]), "{name}");
        let summary_text = fs_err::read_to_string(&summary).unwrap();
        assert!(
            summary_text.contains(&format!("`{name}.publish.attestation` (made)")),
            "{summary_text}"
        );
    }
    // The ID tokens (for the index and for Sigstore) and the upload token are masked at once
    // and never printed otherwise.
    assert_eq!(
        text.matches(crate::sigstore_standins::MINTED).count(),
        1,
        "{text}"
    );

    // A verifier that is not ours: pypi-attestations + sigstore-python, with the publisher's
    // identity (repository, workflow) and each file as the subject.
    let pairs: Vec<(PathBuf, PathBuf)> = files
        .iter()
        .map(|f| (f.clone(), attestation_of(f)))
        .collect();
    let borrowed: Vec<(&Path, &Path)> = pairs
        .iter()
        .map(|(d, a)| (d.as_path(), a.as_path()))
        .collect();
    let lines = verify(&sig.trusted_root, REPOSITORY, WORKFLOW, &borrowed);
    eprintln!("verifier:\n{}", lines.join("\n"));
    for line in &lines {
        assert!(
            line.starts_with("ok ")
                && line.ends_with(&format!(" {}", endpoints::PYPI_PUBLISH_PREDICATE)),
            "{line}"
        );
    }

    // ... and it refuses a tampered file, another identity, and a statement for another file.
    let tampered_dir = tmp.path().join("tampered");
    fs_err::create_dir_all(&tampered_dir).unwrap();
    let wheel = files
        .iter()
        .find(|f| f.extension().unwrap() == "whl")
        .unwrap();
    let sdist = files
        .iter()
        .find(|f| f.extension().unwrap() != "whl")
        .unwrap();
    let tampered = tampered_dir.join(wheel.file_name().unwrap());
    let mut bytes = fs_err::read(wheel).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    fs_err::write(&tampered, bytes).unwrap();
    let wheel_attestation = attestation_of(wheel);
    let refused = [
        (
            verify(
                &sig.trusted_root,
                REPOSITORY,
                WORKFLOW,
                &[(&tampered, &wheel_attestation)],
            ),
            "digest",
        ),
        (
            verify(
                &sig.trusted_root,
                "octo/other",
                WORKFLOW,
                &[(wheel, &wheel_attestation)],
            ),
            "",
        ),
        (
            verify(
                &sig.trusted_root,
                REPOSITORY,
                "other.yml",
                &[(wheel, &wheel_attestation)],
            ),
            "",
        ),
        (
            verify(
                &sig.trusted_root,
                REPOSITORY,
                WORKFLOW,
                &[(sdist, &wheel_attestation)],
            ),
            "subject does not match",
        ),
    ];
    for (lines, needle) in &refused {
        assert!(
            lines[0].starts_with("FAIL ") && lines[0].contains(needle),
            "{lines:?}"
        );
    }
    eprintln!(
        "refused:\n{}",
        refused
            .iter()
            .map(|(l, _)| l[0].as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );

    // A second publish in the same job (TestPyPI, then PyPI): the attestations there verify
    // for these files and this job, so they are reused, not made again and not overwritten.
    let before = fs_err::read_to_string(&wheel_attestation).unwrap();
    let requests = *sig.control.fulcio_requests.lock().unwrap();
    let (output, text) = publish(&sig, &home, &dist, &[]);
    assert!(output.status.success(), "{text}");
    let report = json_of(&output.stdout);
    for entry in report["files"].as_array().unwrap() {
        assert_eq!(entry["attestation"]["made"], false, "{entry}");
    }
    assert_eq!(*sig.control.fulcio_requests.lock().unwrap(), requests);
    assert_eq!(fs_err::read_to_string(&wheel_attestation).unwrap(), before);
    assert!(text.contains("Using the existing attestation"), "{text}");

    // Another identity finds attestations it did not make: refused before anything is sent.
    let uploaded = sig.index.uploads().len();
    sig.control.claim_overrides.lock().unwrap().insert(
        "job_workflow_ref".into(),
        "octo/wheels/.github/workflows/other.yml@refs/tags/v1.0".into(),
    );
    let (output, text) = publish(&sig, &home, &dist, &[]);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("does not verify for this file and this job"),
        "{text}"
    );
    assert!(
        text.contains("hint: an attestation file is never overwritten"),
        "{text}"
    );
    assert_eq!(sig.index.uploads().len(), uploaded);
    assert_eq!(fs_err::read_to_string(&wheel_attestation).unwrap(), before);

    // `--no-attestations`: none made, and the files next to them (made by "another tool")
    // are uploaded as they are.
    let (output, text) = publish(&sig, &home, &dist, &["--no-attestations"]);
    assert!(output.status.success(), "{text}");
    let sent = sig.uploaded_attestations();
    let (_, field) = sent.last().unwrap();
    let name = sent.last().unwrap().0.clone();
    let on_disk = fs_err::read_to_string(attestation_of(&dist.join(&name))).unwrap();
    let on_disk: serde_json::Value = serde_json::from_str(&on_disk).unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(field.as_deref().unwrap()).unwrap(),
        serde_json::json!([on_disk])
    );
    assert_eq!(*sig.control.fulcio_requests.lock().unwrap(), requests);
}

#[test]
#[expect(
    clippy::print_stderr,
    reason = "the test shows the errors it checked (captured unless it fails)"
)]
fn publish_attestation_faults_end_clearly_and_upload_nothing_unattested() {
    let (tmp, home) = scratch();
    let sig = Sigstore::start(tmp.path());
    let mut case = 0;
    let mut fresh = || {
        case += 1;
        let dir = tmp.path().join(format!("case{case}"));
        fs_err::create_dir_all(&dir).unwrap();
        make_wheel(&dir, "ww_faults", "1.0", 1024, case);
        dir
    };

    // Transient faults are retried (a 503 from Fulcio, a dropped connection to Rekor).
    sig.control.faults.lock().unwrap().extend([
        (Service::Fulcio, ServiceFault::Status(503)),
        (Service::Rekor, ServiceFault::Drop),
    ]);
    let dir = fresh();
    let (output, text) = publish(&sig, &home, &dir, &["--retries", "2"]);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("Fulcio at"), "{text}");
    assert!(text.contains("retry 1 of 2"), "{text}");
    assert_eq!(sig.index.uploads().len(), 1);

    // Faults that last, and refusals: a clear error naming the service and what it refused,
    // no upload, no attestation file.
    for (faults, needles) in [
        (
            vec![(Service::Fulcio, ServiceFault::Status(503)); 2],
            vec![
                "Fulcio at `",
                "failed the signing-certificate request (HTTP 503)",
            ],
        ),
        (
            vec![(Service::Fulcio, ServiceFault::Drop); 2],
            vec![
                "Fulcio at `",
                "could not be reached for the signing-certificate request",
            ],
        ),
        (
            vec![(Service::Rekor, ServiceFault::Status(503)); 2],
            vec![
                "Rekor at `",
                "failed the log entry of the signature (HTTP 503)",
            ],
        ),
        (
            vec![(Service::Rekor, ServiceFault::Drop); 2],
            vec!["Rekor at `", "could not be reached"],
        ),
        (
            vec![(Service::Fulcio, ServiceFault::Status(401))],
            vec![
                "refused the signing-certificate request (HTTP 401)",
                "audience `sigstore`",
            ],
        ),
    ] {
        sig.control
            .faults
            .lock()
            .unwrap()
            .extend(faults.iter().copied());
        let dir = fresh();
        let uploads = sig.index.uploads().len();
        let (output, text) = publish(&sig, &home, &dir, &["--retries", "1"]);
        assert_eq!(output.status.code(), Some(1), "{faults:?}: {text}");
        eprintln!(
            "{faults:?}:\n{}",
            text.lines()
                .filter(|l| l.starts_with("error")
                    || l.starts_with("hint")
                    || l.starts_with("warning"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        for needle in needles.iter().chain(&["nothing was uploaded"]) {
            assert!(
                text.contains(needle),
                "{faults:?}: `{needle}` missing:\n{text}"
            );
        }
        assert_eq!(
            sig.index.uploads().len(),
            uploads,
            "{faults:?}: uploaded:\n{text}"
        );
        let wheel = dir.join("ww_faults-1.0-py3-none-any.whl");
        assert!(!attestation_of(&wheel).exists(), "{faults:?}");
        sig.control.faults.lock().unwrap().clear();
    }

    // A token Fulcio does not trust (another issuer): refused, not retried.
    sig.control
        .claim_overrides
        .lock()
        .unwrap()
        .insert("iss".into(), "https://issuer.elsewhere.test".into());
    let before = *sig.control.fulcio_requests.lock().unwrap();
    let dir = fresh();
    let (output, text) = publish(&sig, &home, &dir, &["--retries", "3"]);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("unknown issuer"), "{text}");
    assert_eq!(
        *sig.control.fulcio_requests.lock().unwrap(),
        before + 1,
        "{text}"
    );
    sig.control.claim_overrides.lock().unwrap().clear();

    // `--attestations` needs trusted publishing.
    let dir = fresh();
    let mut cmd = publish_cmd(&home);
    cmd.arg(&dir)
        .args(["--repository-url", &sig.upload_url(), "--attestations"])
        .args(["--username", "u", "--password-env", "PW"])
        .env("PW", "secret-pw");
    let (output, text) = run(&mut cmd);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("attestations are made only with trusted publishing"),
        "{text}"
    );
}

#[test]
fn publish_sends_no_attestations_to_an_index_without_trusted_publishing() {
    // A private index with a password (pypiserver, devpi, …): the attestation files next to
    // the distributions stay home, with one notice; the upload goes on.
    let (tmp, home) = scratch();
    let stub = Stub::start(|request, state| {
        if request.upload_filename().is_some()
            && request.header("authorization") != Some(basic("u", "pw-1").as_str())
        {
            return Reply::new(403, "text/plain", "Forbidden");
        }
        index_handler(request, state)
    });
    let wheel = make_wheel(tmp.path(), "ww_private", "1.0", 512, 3);
    fs_err::write(attestation_of(&wheel), "{\"version\": 1}").unwrap();
    let mut cmd = publish_cmd(&home);
    cmd.arg(&wheel)
        .args([
            "--repository-url",
            &stub.url("/"),
            "-u",
            "u",
            "--password-env",
            "PW",
        ])
        .env("PW", "pw-1")
        .env("GITHUB_ACTIONS", "true");
    let (output, text) = run(&mut cmd);
    assert!(output.status.success(), "{text}");
    assert_eq!(text.matches("::notice").count(), 1, "{text}");
    assert!(
        text.contains("is not an index that takes attestations"),
        "{text}"
    );
    let uploads = stub.uploads();
    assert_eq!(uploads.len(), 1);
    assert!(uploads[0].parts().iter().all(|p| p.name != "attestations"));
}

/// The action as users run it (act, the launcher building this source, `uses:
/// octo/wheelwright@v1`), publishing with trusted publishing against the stand-ins: the
/// attestation is made, uploaded and verifies with pypi-attestations.
#[test]
fn the_action_publishes_with_attestations_under_act() {
    let tmp = tempfile::tempdir().unwrap();
    let sig = Sigstore::start(tmp.path());
    let wheel_dir = tmp.path().join("wheel");
    fs_err::create_dir_all(&wheel_dir).unwrap();
    let wheel = make_wheel(&wheel_dir, "ww_act_attested", "1.0", 4096, 9);
    let mut env: Vec<(&str, String)> = vec![
        ("WHEEL_DIR", wheel_dir.display().to_string()),
        ("UPLOAD_URL", sig.upload_url()),
    ];
    let vars = sig.env();
    for (key, value) in &vars {
        if key != "GITHUB_ACTIONS" {
            env.push((key.as_str(), value.clone()));
        }
    }
    let output = crate::github::act_composite(tmp.path(), "publish-attested", &env);
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "act failed:\n{log}");
    let uploads = sig.uploaded_attestations();
    assert_eq!(uploads.len(), 1, "{log}");
    assert!(uploads[0].1.is_some(), "no attestations field:\n{log}");
    let attestation = attestation_of(&wheel);
    let lines = verify(
        &sig.trusted_root,
        REPOSITORY,
        WORKFLOW,
        &[(&wheel, &attestation)],
    );
    assert!(lines[0].starts_with("ok "), "{lines:?}\n{log}");
    assert!(
        log.contains("Attested `ww_act_attested-1.0-py3-none-any.whl`"),
        "{log}"
    );
}
