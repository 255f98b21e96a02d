//! The GitHub pieces: `wheelwright upload-artifact` against act's real artifact server (and
//! against a stub for what act does not check: GitHub's snake_case replies, the size and sha256
//! sent with FinalizeArtifact), `wheelwright release` against a stub of the GitHub REST API —
//! the real API cannot be reached from here — and the bad-input errors of both; then the
//! composite action itself under act with the real binary: inputs reaching the configuration,
//! bad input, and the release flow end to end (plan → build matrix with podman → native
//! artifacts → publish to a local pypiserver → install from it and import).

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use base64::Engine as _;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::common::{launcher_cache, release_target, source_checkout};
use crate::github_stub::{self, GitHubStub, Race};
use crate::support::{bed, output_text, repo, testbed, wheelwright};

/// wheelwright with none of the runner's variables of the environment the tests run in.
fn gh_wheelwright() -> Command {
    let mut cmd = wheelwright();
    for (key, _) in std::env::vars() {
        if key.starts_with("GITHUB_") || key.starts_with("ACTIONS_") || key.starts_with("RUNNER_") {
            cmd.env_remove(key);
        }
    }
    cmd.env_remove("SOURCE_DATE_EPOCH");
    cmd.stdin(Stdio::null());
    cmd
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Deterministic incompressible bytes (xorshift).
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        out.extend_from_slice(&seed.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A payload directory: a 20 MB wheel-like file (stored, three 8 MiB blocks), text (deflated),
/// an empty file and a file one directory down.
fn make_payload(dir: &Path) -> PathBuf {
    let payload = dir.join("wheelhouse");
    fs_err::create_dir_all(payload.join("docs")).unwrap();
    fs_err::write(
        payload.join("demo-1.0-cp39-cp39-manylinux_2_31_x86_64.whl"),
        noise(20_000_000, 0x9E37_79B9_7F4A_7C15),
    )
    .unwrap();
    fs_err::write(
        payload.join("docs/README.txt"),
        "wheelwright\n".repeat(5000),
    )
    .unwrap();
    fs_err::write(payload.join("empty.txt"), b"").unwrap();
    payload
}

/// Every file below `dir` by relative path.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in fs_err::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, fs_err::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Extracts a zip with Python's zipfile (an independent reader), after `testzip()`.
fn python_extract(zip: &Path, dest: &Path) {
    let output = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nbad = z.testzip()\nassert bad is None, bad\nz.extractall(sys.argv[2])",
        ])
        .arg(zip)
        .arg(dest)
        .output()
        .expect("run python3");
    assert!(
        output.status.success(),
        "python3 zipfile: {}",
        output_text(&output)
    );
}

fn fake_jwt(scp: &str) -> String {
    let enc = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.c2lnbmF0dXJl",
        enc.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
        enc.encode(json!({ "scp": scp, "exp": 4_102_444_800u64 }).to_string())
    )
}

#[test]
fn act_stores_the_artifact_the_native_client_uploads() {
    let act = testbed().venv.join("bin/act");
    let tmp = tempfile::tempdir().unwrap();
    let payload = make_payload(tmp.path());
    let (home, work, artifacts, out) = (
        tmp.path().join("home"),
        tmp.path().join("work"),
        tmp.path().join("artifacts"),
        tmp.path().join("out"),
    );
    for dir in [&home, &work, &out] {
        fs_err::create_dir_all(dir).unwrap();
    }
    let name = "wheels-linux-x86_64";
    let output = Command::new(&act)
        .arg("push")
        .arg("-C")
        .arg(&work)
        .arg("-W")
        .arg(repo().join("tests/workflows/artifact-upload.yml"))
        .args(["-P", "ubuntu-latest=-self-hosted"])
        .arg("--env")
        .arg(format!("WHEELWRIGHT={}", env!("CARGO_BIN_EXE_wheelwright")))
        .arg("--env")
        .arg(format!("ARTIFACT_NAME={name}"))
        .arg("--env")
        .arg(format!("PAYLOAD={}", payload.display()))
        .arg("--env")
        .arg(format!("OUT={}", out.display()))
        .arg("--artifact-server-path")
        .arg(&artifacts)
        .args(["--artifact-server-addr", "127.0.0.1"])
        .arg("--artifact-server-port")
        .arg(free_port().to_string())
        .arg("--no-cache-server")
        .env("HOME", &home)
        .stdin(Stdio::null())
        .output()
        .expect("run act");
    assert!(
        output.status.success(),
        "act failed:\n{}",
        output_text(&output)
    );

    // act stores the uploaded bytes as <path>/<run>/<name>/<name>.zip.
    let stored: Vec<PathBuf> = glob::glob(&format!("{}/*/{name}/{name}.zip", artifacts.display()))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        stored.len(),
        1,
        "stored artifacts: {stored:?}\n{}",
        output_text(&output)
    );
    let zip_bytes = fs_err::read(&stored[0]).unwrap();
    let extracted = tmp.path().join("extracted");
    python_extract(&stored[0], &extracted);
    let (want, got) = (tree(&payload), tree(&extracted));
    assert_eq!(
        want.keys().collect::<Vec<_>>(),
        got.keys().collect::<Vec<_>>()
    );
    for (file, bytes) in &want {
        assert!(got[file] == *bytes, "{file} differs after the round trip");
    }

    // What the binary reported is what act stored, and the step outputs reached the next step.
    let result: Value =
        serde_json::from_slice(&fs_err::read(out.join("result.json")).unwrap()).unwrap();
    let digest = format!("sha256:{}", sha256_hex(&zip_bytes));
    assert_eq!(result["uploaded"], json!(true));
    assert_eq!(result["name"], json!(name));
    assert_eq!(result["files"], json!(3));
    assert_eq!(result["size"], json!(zip_bytes.len()));
    assert_eq!(result["digest"], json!(digest));
    let outputs = fs_err::read_to_string(out.join("outputs.txt")).unwrap();
    let lines: Vec<&str> = outputs.lines().collect();
    assert_eq!(lines.len(), 3, "{outputs}");
    assert_eq!(lines[0], "true");
    assert_eq!(lines[1], result["id"].as_str().unwrap());
    assert_eq!(lines[2], digest);
}

/// A stub HTTP server (wiremock runs it on its own thread) and the runtime to talk to it.
struct Stub {
    rt: tokio::runtime::Runtime,
    server: MockServer,
}

impl Stub {
    fn start() -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let server = rt.block_on(MockServer::start());
        Stub { rt, server }
    }

    fn uri(&self) -> String {
        self.server.uri()
    }

    fn mount(&self, mock: Mock) {
        self.rt.block_on(self.server.register(mock));
    }

    fn requests(&self) -> Vec<Request> {
        self.rt
            .block_on(self.server.received_requests())
            .unwrap_or_default()
    }
}

const TWIRP: &str = "/twirp/github.actions.results.api.v1.ArtifactService";

#[test]
fn native_client_speaks_githubs_snake_case_and_finalizes_with_the_bytes_it_sent() {
    let stub = Stub::start();
    let signed = format!(
        "{}/blob/wheels.zip?sv=2023-11-03&sr=b&sp=cw&sig=SeCrEtSiG%2Bx%3D",
        stub.uri()
    );
    stub.mount(
        Mock::given(method("POST"))
            .and(path(format!("{TWIRP}/CreateArtifact")))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({ "ok": true, "signed_upload_url": signed })),
            ),
    );
    stub.mount(
        Mock::given(method("PUT"))
            .and(path("/blob/wheels.zip"))
            .respond_with(ResponseTemplate::new(201)),
    );
    stub.mount(
        Mock::given(method("POST"))
            .and(path(format!("{TWIRP}/FinalizeArtifact")))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({ "ok": true, "artifact_id": "9007199254740993" })),
            ),
    );
    let tmp = tempfile::tempdir().unwrap();
    let payload = make_payload(tmp.path());
    let token = fake_jwt("Actions.Results:ce7f54c7-61c7:ca395085-040a Actions.UploadArtifacts:x:y");
    let output = gh_wheelwright()
        .args([
            "-vv",
            "upload-artifact",
            "--json",
            "wheels",
            "--retention-days",
            "5",
        ])
        .arg(&payload)
        .env("ACTIONS_RUNTIME_TOKEN", &token)
        .env("ACTIONS_RESULTS_URL", format!("{}/", stub.uri()))
        .env("GITHUB_RETENTION_DAYS", "3")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", output_text(&output));
    assert!(
        !output_text(&output).contains(&token),
        "the token was printed"
    );
    assert!(
        !output_text(&output).contains("SeCrEtSiG"),
        "the signature was printed"
    );
    assert!(
        stderr(&output)
            .contains("retention of 5 days is more than this repository allows; using 3"),
        "{}",
        output_text(&output)
    );

    let requests = stub.requests();
    let create = &requests[0];
    assert_eq!(create.url.path(), format!("{TWIRP}/CreateArtifact"));
    assert_eq!(
        create
            .headers
            .get("authorization")
            .unwrap()
            .to_str()
            .unwrap(),
        format!("Bearer {token}")
    );
    let body: Value = create.body_json().unwrap();
    assert_eq!(body["workflow_run_backend_id"], json!("ce7f54c7-61c7"));
    assert_eq!(body["workflow_job_run_backend_id"], json!("ca395085-040a"));
    assert_eq!(body["name"], json!("wheels"));
    assert_eq!(body["version"], json!(4));
    let expires = chrono::DateTime::parse_from_rfc3339(body["expires_at"].as_str().unwrap())
        .expect("expires_at is RFC 3339");
    let days = (expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_hours();
    assert!(
        (71..=72).contains(&days),
        "expires in {days} hours, not 3 days"
    );

    // Blocks in order, the signed query untouched, equal-length ids; then the block list.
    let puts: Vec<&Request> = requests
        .iter()
        .filter(|r| r.method.as_str() == "PUT")
        .collect();
    let (blocks, list) = puts.split_at(puts.len() - 1);
    assert_eq!(blocks.len(), 3, "20 MB in 8 MiB blocks");
    let mut ids = Vec::new();
    let mut uploaded = Vec::new();
    for block in blocks {
        let query = block.url.query().unwrap();
        assert!(
            query.starts_with("sv=2023-11-03&sr=b&sp=cw&sig=SeCrEtSiG%2Bx%3D&comp=block&blockid="),
            "{query}"
        );
        assert!(block.headers.contains_key("x-ms-version"));
        let id = block
            .url
            .query_pairs()
            .find(|(k, _)| k == "blockid")
            .unwrap()
            .1
            .into_owned();
        ids.push(id);
        uploaded.extend_from_slice(&block.body);
    }
    assert!(ids.iter().all(|id| id.len() == ids[0].len()));
    assert!(list[0].url.query().unwrap().ends_with("&comp=blocklist"));
    let expected_list = format!(
        r#"<?xml version="1.0" encoding="utf-8"?><BlockList>{}</BlockList>"#,
        ids.iter()
            .map(|id| format!("<Latest>{id}</Latest>"))
            .collect::<String>()
    );
    assert_eq!(String::from_utf8_lossy(&list[0].body), expected_list);

    let finalize = requests.last().unwrap();
    assert_eq!(finalize.url.path(), format!("{TWIRP}/FinalizeArtifact"));
    let body: Value = finalize.body_json().unwrap();
    assert_eq!(body["size"], json!(uploaded.len().to_string()));
    assert_eq!(
        body["hash"],
        json!(format!("sha256:{}", sha256_hex(&uploaded)))
    );
    assert_eq!(body["name"], json!("wheels"));

    let result: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["id"], json!("9007199254740993"));

    // The uploaded bytes are the payload.
    let zip = tmp.path().join("uploaded.zip");
    fs_err::write(&zip, &uploaded).unwrap();
    let extracted = tmp.path().join("extracted");
    python_extract(&zip, &extracted);
    assert!(tree(&extracted) == tree(&payload));
}

#[test]
fn a_conflict_is_reported_with_the_services_message_and_not_retried() {
    let stub = Stub::start();
    stub.mount(
        Mock::given(method("POST"))
            .and(path(format!("{TWIRP}/CreateArtifact")))
            .respond_with(ResponseTemplate::new(409).set_body_json(json!({
                "code": "already_exists",
                "msg": "an artifact with this name already exists on the workflow run"
            }))),
    );
    let tmp = tempfile::tempdir().unwrap();
    fs_err::write(tmp.path().join("a.whl"), b"wheel").unwrap();
    let output = gh_wheelwright()
        .args(["upload-artifact", "wheels"])
        .arg(tmp.path().join("a.whl"))
        .env("ACTIONS_RUNTIME_TOKEN", fake_jwt("Actions.Results:1:2"))
        .env("ACTIONS_RESULTS_URL", stub.uri())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", output_text(&output));
    assert_eq!(
        stderr(&output).lines().last().unwrap(),
        "error: cannot upload artifact `wheels`: CreateArtifact failed: HTTP 409 (already_exists): an artifact with this name already exists on the workflow run"
    );
    assert_eq!(stub.requests().len(), 1);
}

#[test]
fn upload_artifact_without_the_runtime_environment() {
    let tmp = tempfile::tempdir().unwrap();
    fs_err::write(tmp.path().join("a.whl"), b"wheel").unwrap();
    let file = tmp.path().join("a.whl");

    let output = gh_wheelwright()
        .args(["upload-artifact", "wheels"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        "error: ACTIONS_RUNTIME_TOKEN and ACTIONS_RESULTS_URL are not set: this step cannot reach \
         the artifact service (composite run steps on github.com don't get ACTIONS_RUNTIME_TOKEN \
         and ACTIONS_RESULTS_URL; use actions/upload-artifact there, or --if-available to skip)\n"
    );

    let output = gh_wheelwright()
        .args(["upload-artifact", "wheels"])
        .arg(&file)
        .env("ACTIONS_RESULTS_URL", "http://127.0.0.1:9/")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).starts_with("error: ACTIONS_RUNTIME_TOKEN is not set: "),
        "{}",
        output_text(&output)
    );

    // --if-available: nothing uploaded, success, and an output for the fallback step.
    let github_output = tmp.path().join("github_output");
    let output = gh_wheelwright()
        .args(["upload-artifact", "--if-available", "wheels"])
        .arg(&file)
        .env("GITHUB_OUTPUT", &github_output)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", output_text(&output));
    let written = fs_err::read_to_string(&github_output).unwrap();
    let outputs = parse_github_output(&written);
    assert_eq!(outputs.get("uploaded").map(String::as_str), Some("false"));
    assert_eq!(
        outputs.get("artifact-name").map(String::as_str),
        Some("wheels")
    );

    // A token without the Actions.Results scope; a name the service refuses.
    let output = gh_wheelwright()
        .args(["upload-artifact", "wheels"])
        .arg(&file)
        .env("ACTIONS_RUNTIME_TOKEN", fake_jwt("Actions.Other:1:2"))
        .env("ACTIONS_RESULTS_URL", "http://127.0.0.1:9/")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        "error: Failed to get backend IDs: the ACTIONS_RUNTIME_TOKEN is invalid and/or missing claims (no Actions.Results scope)\n"
    );
    let output = gh_wheelwright()
        .args(["upload-artifact", "wheels/x86_64"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).starts_with("error: invalid artifact name `wheels/x86_64`"));
}

/// `name<<DELIM` … `DELIM` blocks of a `$GITHUB_OUTPUT` file.
fn parse_github_output(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let (name, delim) = line.split_once("<<").expect("heredoc syntax");
        assert!(delim.starts_with("ghadelimiter_"), "{line}");
        let mut value = Vec::new();
        for l in lines.by_ref() {
            if l == delim {
                break;
            }
            value.push(l);
        }
        out.insert(name.to_owned(), value.join("\n"));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// `wheelwright release` against the stateful stub of GitHub's REST API in github_stub.rs (a
// stub: api.github.com cannot be reached here; the stub is at least as strict as GitHub where it
// matters: permissions, drafts, immutable releases, concurrent creates, digests, redirects).

/// `wheelwright release` with the runner's variables pointing at `stub`.
fn run_release(
    stub: &GitHubStub,
    token: &str,
    github_ref: &str,
    args: &[&str],
    files: &[&Path],
) -> Output {
    let output = release_cmd(stub, token, github_ref, args, files)
        .output()
        .unwrap();
    assert_secrets_kept(&output);
    output
}

fn release_cmd(
    stub: &GitHubStub,
    token: &str,
    github_ref: &str,
    args: &[&str],
    files: &[&Path],
) -> Command {
    let mut cmd = gh_wheelwright();
    cmd.args(["-vv", "release", "--json"])
        .args(args)
        .args(files)
        .env("GITHUB_REPOSITORY", github_stub::REPOSITORY)
        .env("GITHUB_REF", github_ref)
        .env("GITHUB_SHA", COMMIT)
        .env("GITHUB_TOKEN", token)
        .env("GITHUB_API_URL", stub.url());
    cmd
}

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

fn assert_secrets_kept(output: &Output) {
    let log = output_text(output);
    for secret in [
        github_stub::WRITE_TOKEN,
        github_stub::READ_TOKEN,
        "fake-signature-of-the-storage-url",
    ] {
        assert!(!log.contains(secret), "a secret was printed:\n{log}");
    }
}

/// Two distribution files, one with a `+` that must be percent-encoded in the upload query
/// (GitHub reads a raw `+` as a space and renames the asset).
fn dist_files(dir: &Path) -> (PathBuf, PathBuf) {
    let wheel = dir.join("demo-1.0-cp39-cp39-manylinux_2_31_x86_64.whl");
    let sdist = dir.join("demo-1.0+local.tar.gz");
    fs_err::write(&wheel, noise(300_000, 7)).unwrap();
    fs_err::write(&sdist, noise(1234, 8)).unwrap();
    (wheel, sdist)
}

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

fn report_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("no JSON report ({e}):\n{}", output_text(output)))
}

fn actions(report: &Value) -> Vec<(String, String)> {
    report["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_owned(),
                a["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The release of `tag` on the stub: (draft, immutable, asset name → bytes).
fn stub_release(stub: &GitHubStub, tag: &str) -> (bool, bool, BTreeMap<String, Vec<u8>>) {
    stub.with(|repo| {
        let of_tag: Vec<_> = repo.releases.iter().filter(|r| r.tag == tag).collect();
        assert_eq!(of_tag.len(), 1, "releases of {tag}: {of_tag:?}");
        let release = of_tag[0];
        for asset in &release.assets {
            assert_eq!(asset.state, "uploaded", "{asset:?}");
        }
        (
            release.draft,
            release.immutable,
            release
                .assets
                .iter()
                .map(|a| (a.name.clone(), a.bytes.clone()))
                .collect(),
        )
    })
}

fn last_lines(output: &Output, n: usize) -> String {
    let err = stderr(output);
    let lines: Vec<&str> = err.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

const RELEASES: &str = "/repos/octo/demo/releases";

#[test]
fn release_drafts_uploads_verifies_then_publishes() {
    let stub = GitHubStub::start();
    let tmp = tempfile::tempdir().unwrap();
    let (wheel, sdist) = dist_files(tmp.path());
    let output = run_release(
        &stub,
        github_stub::WRITE_TOKEN,
        "refs/tags/v1.0.0",
        &[],
        &[tmp.path()],
    );
    assert!(output.status.success(), "{}", output_text(&output));

    // Created as a draft, filled, then published — the order immutable releases need.
    assert_eq!(
        stub.writes(),
        [
            format!("POST {RELEASES} -> 201"),
            format!("POST {RELEASES}/1/assets -> 201"),
            format!("POST {RELEASES}/1/assets -> 201"),
            format!("PATCH {RELEASES}/1 -> 200"),
        ]
    );
    let requests = stub.requests();
    let create = requests
        .iter()
        .find(|r| r.method == "POST" && r.target == RELEASES)
        .unwrap();
    let body: Value = serde_json::from_slice(&create.body).unwrap();
    assert_eq!(body["tag_name"], json!("v1.0.0"));
    assert_eq!(body["draft"], json!(true));
    assert_eq!(body["target_commitish"], json!(COMMIT));
    let publish = requests.iter().find(|r| r.method == "PATCH").unwrap();
    let body: Value = serde_json::from_slice(&publish.body).unwrap();
    assert_eq!(body["draft"], json!(false));

    // The uploads: streamed with an explicit length, the `+` percent-encoded, the token sent.
    let posts: Vec<_> = requests
        .iter()
        .filter(|r| r.method == "POST" && r.target.contains("/assets?"))
        .collect();
    assert_eq!(
        posts.iter().map(|p| p.target.as_str()).collect::<Vec<_>>(),
        [
            format!("{RELEASES}/1/assets?name=demo-1.0%2Blocal.tar.gz"),
            format!("{RELEASES}/1/assets?name=demo-1.0-cp39-cp39-manylinux_2_31_x86_64.whl"),
        ]
    );
    for post in &posts {
        assert_eq!(
            post.header("content-type"),
            Some("application/octet-stream")
        );
        assert_eq!(
            post.header("content-length"),
            Some(post.body.len().to_string().as_str())
        );
    }
    assert!(requests.iter().all(
        |r| r.header("authorization") == Some(&format!("Bearer {}", github_stub::WRITE_TOKEN))
    ));

    // What the release holds is the files, published.
    let (draft, _, assets) = stub_release(&stub, "v1.0.0");
    assert!(!draft);
    let want: BTreeMap<String, Vec<u8>> = [&wheel, &sdist]
        .iter()
        .map(|f| (file_name(f), fs_err::read(f).unwrap()))
        .collect();
    assert!(assets == want, "the release holds other files");
    // Digests came with the assets: nothing was downloaded.
    assert!(stub.download_requests().is_empty());

    let report = report_of(&output);
    assert_eq!(report["created"], json!(true));
    assert_eq!(report["published"], json!(true));
    assert_eq!(report["draft"], json!(false));
    assert_eq!(
        actions(&report),
        [
            ("demo-1.0+local.tar.gz".to_owned(), "uploaded".to_owned()),
            (file_name(&wheel), "uploaded".to_owned()),
        ]
    );
    assert_eq!(
        report["assets"][1]["sha256"],
        json!(sha256_hex(&fs_err::read(&wheel).unwrap()))
    );
    assert!(
        stderr(&output).contains(
            "release v1.0.0: 2 uploaded, 0 replaced, 0 already there (sha256 verified); published"
        ),
        "{}",
        output_text(&output)
    );
}

#[test]
fn a_rerun_resumes_the_draft_and_leaves_a_complete_release_alone() {
    let stub = GitHubStub::start();
    let tmp = tempfile::tempdir().unwrap();
    let (wheel, sdist) = dist_files(tmp.path());
    let token = github_stub::WRITE_TOKEN;

    // An interrupted first run: one file, left a draft.
    let output = run_release(&stub, token, "refs/tags/v2", &["--draft"], &[&wheel]);
    assert!(output.status.success(), "{}", output_text(&output));
    assert_eq!(report_of(&output)["draft"], json!(true));
    assert!(stub_release(&stub, "v2").0, "--draft published the release");

    // The re-run: the draft is found through the list (get-by-tag hides drafts), the wheel is
    // there with the same bytes — without digests (GHES) that is known by downloading it
    // through the API, whose redirect must not carry the token —, the sdist is uploaded, and
    // the release is published.
    stub.with(|r| r.digests = false);
    let before = stub.calls().len();
    let output = run_release(&stub, token, "refs/tags/v2", &[], &[&wheel, &sdist]);
    assert!(output.status.success(), "{}", output_text(&output));
    let calls = stub.calls()[before..].to_vec();
    assert_eq!(calls[0], format!("GET {RELEASES}/tags/v2 -> 404"));
    assert_eq!(calls[1], format!("GET {RELEASES} -> 200"));
    assert!(
        calls.contains(&format!("GET {RELEASES}/assets/2 -> 302")),
        "{calls:?}"
    );
    let writes: Vec<&String> = calls.iter().filter(|c| !c.starts_with("GET ")).collect();
    assert_eq!(
        writes,
        [
            &format!("POST {RELEASES}/1/assets -> 201"),
            &format!("PATCH {RELEASES}/1 -> 200")
        ]
    );
    let downloads = stub.download_requests();
    assert_eq!(
        downloads.len(),
        2,
        "the wheel (plan) and the sdist (verification)"
    );
    assert!(
        downloads
            .iter()
            .all(|r| r.header("authorization").is_none() && r.answered == 200)
    );
    let report = report_of(&output);
    assert_eq!(
        actions(&report),
        [
            ("demo-1.0+local.tar.gz".to_owned(), "uploaded".to_owned()),
            (file_name(&wheel), "skipped".to_owned()),
        ]
    );
    assert_eq!(report["created"], json!(false));
    assert_eq!(report["published"], json!(true));
    assert_eq!(stub_release(&stub, "v2").2.len(), 2);

    // Once more: published and complete, left alone (no write), exit 0.
    stub.with(|r| r.digests = true);
    let before = stub.calls().len();
    let output = run_release(&stub, token, "refs/tags/v2", &[], &[&wheel, &sdist]);
    assert!(output.status.success(), "{}", output_text(&output));
    assert!(
        stub.calls()[before..].iter().all(|c| c.starts_with("GET ")),
        "{:?}",
        stub.calls()
    );
    let report = report_of(&output);
    assert_eq!(report["already_complete"], json!(true));
    assert_eq!(report["published"], json!(false));
    assert!(
        stderr(&output).contains("release v2 is published with all 2 assets; nothing to do"),
        "{}",
        output_text(&output)
    );
}

#[test]
fn other_bytes_under_an_asset_name_are_refused_naming_both_digests() {
    let stub = GitHubStub::start();
    let tmp = tempfile::tempdir().unwrap();
    let (wheel, sdist) = dist_files(tmp.path());
    let token = github_stub::WRITE_TOKEN;
    let old = b"an older build".to_vec();
    stub.with(|r| {
        let id = r.add_release("v3", true);
        r.add_asset(id, &file_name(&sdist), &old);
    });
    let sdist_sha = sha256_hex(&fs_err::read(&sdist).unwrap());

    // Refused before anything changes: the wheel is not uploaded either.
    let output = run_release(&stub, token, "refs/tags/v3", &[], &[&wheel, &sdist]);
    assert_eq!(output.status.code(), Some(1), "{}", output_text(&output));
    assert_eq!(
        last_lines(&output, 2),
        format!(
            "error: release `v3` already has an asset `demo-1.0+local.tar.gz` with other bytes: sha256 `{}` on the release, `{sdist_sha}` in `{}`\nhint: the release is still a draft: pass --clobber to replace the asset, or delete it on GitHub",
            sha256_hex(&old),
            sdist.display()
        )
    );
    assert!(stub.writes().is_empty(), "{:?}", stub.writes());

    // --clobber on the draft: the asset is replaced, then the release published.
    let output = run_release(
        &stub,
        token,
        "refs/tags/v3",
        &["--clobber"],
        &[&wheel, &sdist],
    );
    assert!(output.status.success(), "{}", output_text(&output));
    assert_eq!(
        stub.writes(),
        [
            format!("DELETE {RELEASES}/assets/2 -> 204"),
            format!("POST {RELEASES}/1/assets -> 201"),
            format!("POST {RELEASES}/1/assets -> 201"),
            format!("PATCH {RELEASES}/1 -> 200"),
        ]
    );
    assert_eq!(
        actions(&report_of(&output)),
        [
            ("demo-1.0+local.tar.gz".to_owned(), "replaced".to_owned()),
            (file_name(&wheel), "uploaded".to_owned()),
        ]
    );
    let (draft, _, assets) = stub_release(&stub, "v3");
    assert!(!draft);
    assert!(assets[&file_name(&sdist)] == fs_err::read(&sdist).unwrap());

    // A published release's assets are never replaced, --clobber or not.
    fs_err::write(&sdist, b"a rebuild with other bytes").unwrap();
    let before = stub.writes().len();
    let output = run_release(&stub, token, "refs/tags/v3", &["--clobber"], &[&sdist]);
    assert_eq!(output.status.code(), Some(1), "{}", output_text(&output));
    assert!(
        last_lines(&output, 1).starts_with(
            "hint: a published release's assets are never replaced: release the new files under a new tag"
        ),
        "{}",
        output_text(&output)
    );
    assert_eq!(stub.writes().len(), before);
}

#[test]
fn a_token_that_may_not_write_is_stopped_before_anything_is_uploaded() {
    let stub = GitHubStub::start();
    let tmp = tempfile::tempdir().unwrap();
    let (wheel, sdist) = dist_files(tmp.path());
    let hint = "hint: add `permissions: contents: write` to the job that runs `wheelwright release` (with the action: the `command: publish` job); a job's GITHUB_TOKEN has only the permissions its workflow grants";

    // No release yet: the draft's creation is the first write, and GitHub's 403 names the
    // permission.
    let output = run_release(
        &stub,
        github_stub::READ_TOKEN,
        "refs/tags/v4",
        &[],
        &[&wheel],
    );
    assert_eq!(output.status.code(), Some(1), "{}", output_text(&output));
    assert_eq!(
        last_lines(&output, 2),
        format!(
            "error: creating a draft release `v4` in octo/demo: HTTP 403: Resource not accessible by integration; the token needs `contents=write`\n{hint}"
        )
    );
    assert_eq!(stub.writes(), [format!("POST {RELEASES} -> 403")]);

    // A published release lacking the sdist: the first upload is refused, nothing stored.
    stub.with(|r| {
        let id = r.add_release("v5", false);
        r.add_asset(id, &file_name(&wheel), &fs_err::read(&wheel).unwrap());
    });
    let output = run_release(
        &stub,
        github_stub::READ_TOKEN,
        "refs/tags/v5",
        &[],
        &[&wheel, &sdist],
    );
    assert_eq!(output.status.code(), Some(1), "{}", output_text(&output));
    assert_eq!(
        last_lines(&output, 2),
        format!(
            "error: uploading `{}`: HTTP 403: Resource not accessible by integration; the token needs `contents=write`\n{hint}",
            sdist.display()
        )
    );
    assert_eq!(stub_release(&stub, "v5").2.len(), 1);

    // A token GitHub does not know.
    let output = run_release(
        &stub,
        "fake-token-nobody-knows",
        "refs/tags/v5",
        &[],
        &[&wheel],
    );
    assert_eq!(output.status.code(), Some(1), "{}", output_text(&output));
    assert_eq!(
        last_lines(&output, 1),
        "error: looking up release `v5`: HTTP 401: Bad credentials (the token is invalid or expired)"
    );
}

#[test]
fn an_immutable_release_that_lacks_assets_names_them() {
    let stub = GitHubStub::start();
    stub.with(|r| r.immutable_releases = true);
    let tmp = tempfile::tempdir().unwrap();
    let (wheel, sdist) = dist_files(tmp.path());
    let token = github_stub::WRITE_TOKEN;

    // Draft first, then publish: with immutable releases on, the release is complete.
    let output = run_release(&stub, token, "refs/tags/v6", &[], &[&wheel]);
    assert!(output.status.success(), "{}", output_text(&output));
    let (draft, immutable, assets) = stub_release(&stub, "v6");
    assert!(!draft && immutable && assets.len() == 1);

    // A file the immutable release lacks: named, nothing attempted.
    let expected_end = "missing: `demo-1.0+local.tar.gz`\nhint: an immutable release cannot change: publish these files in a release of a new tag (`wheelwright release` uploads every file to a draft before it publishes, so its releases are complete when they become immutable)";
    let before = stub.writes().len();
    let output = run_release(&stub, token, "refs/tags/v6", &[], &[&wheel, &sdist]);
    assert_eq!(output.status.code(), Some(1), "{}", output_text(&output));
    assert_eq!(
        last_lines(&output, 2),
        format!(
            "error: release `v6` is published and immutable, so GitHub accepts no new assets (the release says `immutable: true`); {expected_end}"
        )
    );
    assert_eq!(stub.writes().len(), before);

    // Without the `immutable` field (older GHES) the upload is tried and GitHub's 422 says so.
    stub.with(|r| r.immutable_field = false);
    let output = run_release(&stub, token, "refs/tags/v6", &[], &[&wheel, &sdist]);
    assert_eq!(output.status.code(), Some(1), "{}", output_text(&output));
    assert_eq!(
        last_lines(&output, 2),
        format!(
            "error: release `v6` is published and immutable, so GitHub accepts no new assets (HTTP 422: Cannot upload assets to an immutable release); {expected_end}"
        )
    );
    assert_eq!(
        stub.writes()[before..],
        [format!("POST {RELEASES}/1/assets -> 422")]
    );

    // A published release that is not immutable gets the missing asset.
    stub.with(|r| {
        r.immutable_releases = false;
        r.immutable_field = true;
        let id = r.add_release("v7", false);
        r.add_asset(id, &file_name(&wheel), &fs_err::read(&wheel).unwrap());
    });
    let output = run_release(&stub, token, "refs/tags/v7", &[], &[&wheel, &sdist]);
    assert!(output.status.success(), "{}", output_text(&output));
    assert!(
        stderr(&output).contains(
            "release v7: 1 uploaded, 0 replaced, 1 already there (sha256 verified); was already published"
        ),
        "{}",
        output_text(&output)
    );
    assert_eq!(stub_release(&stub, "v7").2.len(), 2);
}

#[test]
fn runs_racing_for_the_release_end_with_one_release() {
    let tmp = tempfile::tempdir().unwrap();
    let (wheel, sdist) = dist_files(tmp.path());
    let token = github_stub::WRITE_TOKEN;

    // Another run's draft appears just before our create: GitHub keeps both drafts; ours (the
    // newer, empty) is deleted and the files go to the other one.
    let stub = GitHubStub::start();
    stub.with(|r| r.races.push_back(Race::DraftBeforeCreate));
    let output = run_release(&stub, token, "refs/tags/v8", &[], &[&wheel]);
    assert!(output.status.success(), "{}", output_text(&output));
    assert_eq!(
        stub.writes(),
        [
            format!("POST {RELEASES} -> 201"),
            format!("DELETE {RELEASES}/2 -> 204"),
            format!("POST {RELEASES}/1/assets -> 201"),
            format!("PATCH {RELEASES}/1 -> 200"),
        ]
    );
    let (draft, _, assets) = stub_release(&stub, "v8");
    assert!(!draft && assets.len() == 1);
    assert_eq!(report_of(&output)["created"], json!(false));

    // Another run published the release just before our create: GitHub's 422 already_exists,
    // and the files go to that release.
    let stub = GitHubStub::start();
    stub.with(|r| r.races.push_back(Race::PublishedBeforeCreate));
    let output = run_release(&stub, token, "refs/tags/v9", &[], &[&wheel]);
    assert!(output.status.success(), "{}", output_text(&output));
    assert_eq!(
        stub.writes(),
        [
            format!("POST {RELEASES} -> 422"),
            format!("POST {RELEASES}/1/assets -> 201"),
        ]
    );
    assert_eq!(stub_release(&stub, "v9").2.len(), 1);

    // Two runs at once with the same files (a re-run overlapping the first): one release, each
    // asset once, both succeed.
    let stub = GitHubStub::start();
    let children: Vec<_> = (0..2)
        .map(|_| {
            release_cmd(&stub, token, "refs/tags/v10", &[], &[&wheel, &sdist])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert_secrets_kept(&output);
        assert!(output.status.success(), "{}", output_text(&output));
    }
    let (draft, _, assets) = stub_release(&stub, "v10");
    assert!(!draft);
    assert_eq!(
        assets.keys().collect::<Vec<_>>(),
        [
            "demo-1.0+local.tar.gz",
            "demo-1.0-cp39-cp39-manylinux_2_31_x86_64.whl"
        ]
    );
}

#[test]
fn a_broken_upload_is_not_retried_and_the_rerun_repairs_it() {
    let stub = GitHubStub::start();
    stub.with(|r| r.races.push_back(Race::UploadBreaks));
    let tmp = tempfile::tempdir().unwrap();
    let (wheel, _) = dist_files(tmp.path());
    let token = github_stub::WRITE_TOKEN;
    let output = run_release(&stub, token, "refs/tags/v11", &[], &[&wheel]);
    assert_eq!(output.status.code(), Some(1), "{}", output_text(&output));
    assert_eq!(
        last_lines(&output, 1),
        format!(
            "error: uploading `{}`: HTTP 502: Server Error (not retried: check the release for a broken asset and run again)",
            wheel.display()
        )
    );
    assert_eq!(
        stub.writes(),
        [
            format!("POST {RELEASES} -> 201"),
            format!("POST {RELEASES}/1/assets -> 502"),
        ],
        "the upload was retried, or the draft published"
    );

    // The re-run deletes the half-uploaded `starter` asset and uploads the file again.
    let output = run_release(&stub, token, "refs/tags/v11", &[], &[&wheel]);
    assert!(output.status.success(), "{}", output_text(&output));
    assert_eq!(
        stub.writes()[2..],
        [
            format!("DELETE {RELEASES}/assets/2 -> 204"),
            format!("POST {RELEASES}/1/assets -> 201"),
            format!("PATCH {RELEASES}/1 -> 200"),
        ]
    );
    assert_eq!(
        actions(&report_of(&output)),
        [(file_name(&wheel), "replaced".to_owned())]
    );
    let (draft, _, assets) = stub_release(&stub, "v11");
    assert!(!draft);
    assert!(assets[&file_name(&wheel)] == fs_err::read(&wheel).unwrap());
}

#[test]
fn the_token_goes_nowhere_but_the_api() {
    let stub = GitHubStub::start();
    // A release whose upload_url points at another host.
    stub.with(|r| {
        r.upload_base = Some("http://127.0.0.2:9".to_owned());
        r.add_release("v12", false);
    });
    let tmp = tempfile::tempdir().unwrap();
    let (wheel, _) = dist_files(tmp.path());
    let output = run_release(
        &stub,
        github_stub::WRITE_TOKEN,
        "refs/tags/v12",
        &[],
        &[&wheel],
    );
    assert_eq!(output.status.code(), Some(1), "{}", output_text(&output));
    assert_eq!(
        last_lines(&output, 1),
        format!(
            "error: refusing to send the token to `http://127.0.0.2:9{RELEASES}/1/assets`: the release's upload_url is not on `{}`",
            stub.url().trim_end_matches('/')
        )
    );
}

#[test]
fn release_without_tag_token_or_repository() {
    let tmp = tempfile::tempdir().unwrap();
    let (wheel, _) = dist_files(tmp.path());
    let run = |env: &[(&str, &str)], args: &[&str]| {
        let mut cmd = gh_wheelwright();
        cmd.arg("release").args(args).arg(&wheel);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let output = cmd.output().unwrap();
        assert_eq!(output.status.code(), Some(1), "{}", output_text(&output));
        stderr(&output)
    };
    let repo_env = ("GITHUB_REPOSITORY", "octo/demo");
    let token_env = ("GITHUB_TOKEN", github_stub::WRITE_TOKEN);
    assert_eq!(
        run(
            &[repo_env, token_env, ("GITHUB_REF", "refs/heads/main")],
            &[]
        ),
        "error: cannot tell which release to upload to: GITHUB_REF is `refs/heads/main`, not a tag; pass --tag TAG or run on a tag push\n"
    );
    assert_eq!(
        run(&[repo_env, token_env], &[]),
        "error: cannot tell which release to upload to: GITHUB_REF is not set; pass --tag TAG or run on a tag push\n"
    );
    assert_eq!(
        run(&[repo_env, ("GITHUB_REF", "refs/tags/v1")], &[]),
        "error: GITHUB_TOKEN is not set: give the step `env: GITHUB_TOKEN: ${{ github.token }}` and the job `permissions: contents: write`\n"
    );
    assert_eq!(
        run(&[token_env], &["--tag", "v1"]),
        "error: GITHUB_REPOSITORY is not set: run this in a GitHub Actions job or set it to `owner/name`\n"
    );
    assert_eq!(
        run(
            &[("GITHUB_REPOSITORY", "octo"), token_env],
            &["--tag", "v1"]
        ),
        "error: GITHUB_REPOSITORY `octo` is not `owner/name`\n"
    );
    // There is no command-line option for the token.
    let output = gh_wheelwright()
        .args([
            "release",
            "--token",
            github_stub::WRITE_TOKEN,
            "--tag",
            "v1",
        ])
        .arg(&wheel)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

// ---------------------------------------------------------------------------------------------
// The composite action under act, running the real binary.

/// A placeholder for the remote actions of `action.yml` (actions/upload-artifact,
/// actions/download-artifact and actions/cache): act resolves every `uses:` of a composite
/// action before looking at its `if:`, and cannot fetch them here. If one of these steps ran,
/// the job would fail.
const PLACEHOLDER_ACTION: &str = "name: placeholder\ndescription: must not run\nruns:\n  using: composite\n  steps:\n    - shell: bash\n      run: echo 'a remote fallback action ran'; exit 1\n";

/// act in host mode with the artifact server, the action mapped as `octo/wheelwright@v1` (a
/// checkout of this source tree: [`source_checkout`]), the remote fallback actions mapped to
/// placeholders, and the test bed's podman configuration and tool venv in the environment.
///
/// The launcher gets its binary as on a self-hosted runner: built from the source with
/// `cargo build --release --locked` unless its cache (`WHEELWRIGHT_CACHE_DIR`, keyed by the
/// source's hash) already has that build — here the cache the act tests share
/// ([`launcher_cache`]), which holds this source's build; a test that wants the build from
/// source sets its own, empty one. Cargo's target directory is the test bed's release target,
/// so later runs recompile only what changed.
fn act(tmp: &Path, workdir: &Path, workflow: &str, job: Option<&str>) -> Command {
    act_event(
        tmp,
        workdir,
        "push",
        &repo().join("tests/workflows").join(workflow),
        &["octo/wheelwright@v1"],
        job,
    )
}

/// act running `workflow` on `event`, with the action under test as each of `action_refs`
/// (`owner/repo@ref`, mapped with `--local-repository`); see [`act`]. This is the one place
/// that says how the action gets its binary (see [`act`]).
fn act_event(
    tmp: &Path,
    workdir: &Path,
    event: &str,
    workflow: &Path,
    action_refs: &[&str],
    job: Option<&str>,
) -> Command {
    let action = source_checkout();
    let placeholder = tmp.join("placeholder");
    fs_err::create_dir_all(&placeholder).unwrap();
    fs_err::write(placeholder.join("action.yml"), PLACEHOLDER_ACTION).unwrap();
    let home = tmp.join("home");
    fs_err::create_dir_all(&home).unwrap();
    let mut cmd = testbed().command(testbed().venv.join("bin/act").to_str().unwrap());
    cmd.arg(event)
        .arg("-C")
        .arg(workdir)
        .arg("-W")
        .arg(workflow)
        .args(["-P", "ubuntu-latest=-self-hosted"]);
    for action_ref in action_refs {
        cmd.arg("--local-repository")
            .arg(format!("{action_ref}={}", action.display()));
    }
    // actions/cache too: act fetches a step's action before it evaluates the step's `if:`, and
    // the restore step is skipped under act (`!env.ACT`); the placeholder fails if it runs.
    for remote in [
        "actions/upload-artifact@",
        "actions/download-artifact@",
        "actions/cache@",
    ] {
        cmd.arg("--local-repository").arg(format!(
            "{}={}",
            action_uses(&repo().join("action.yml"), remote),
            placeholder.display()
        ));
    }
    if let Some(job) = job {
        cmd.args(["-j", job]);
    }
    cmd.arg("--artifact-server-path")
        .arg(tmp.join("artifacts"))
        .args(["--artifact-server-addr", "127.0.0.1"])
        .arg("--artifact-server-port")
        .arg(free_port().to_string())
        .arg("--no-cache-server")
        .env("HOME", &home)
        .env("WHEELWRIGHT_CACHE_DIR", launcher_cache())
        .env("CARGO_TARGET_DIR", release_target())
        .env_remove("WHEELWRIGHT_BINARY")
        .env_remove("WHEELWRIGHT_CONTAINER_BINARY")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null());
    for (key, _) in std::env::vars() {
        if key.starts_with("GITHUB_") || key.starts_with("ACTIONS_") || key.starts_with("RUNNER_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// The `uses:` value (`owner/repo@ref`) of the step of `action` that starts with `prefix`.
fn action_uses(action: &Path, prefix: &str) -> String {
    let text = fs_err::read_to_string(action).unwrap();
    let line = text
        .lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("uses: ").filter(|u| u.starts_with(prefix)))
        .unwrap_or_else(|| panic!("no `uses: {prefix}…` in {}", action.display()));
    line.split_whitespace().next().unwrap().to_owned()
}

/// Runs one job of `tests/workflows/composite-action.yml`.
pub(crate) fn act_composite(tmp: &Path, job: &str, env: &[(&str, String)]) -> Output {
    let (work, out) = (tmp.join("work"), tmp.join("out"));
    for dir in [&work, &out] {
        fs_err::create_dir_all(dir).unwrap();
    }
    let mut cmd = act(tmp, &work, "composite-action.yml", Some(job));
    cmd.arg("--env").arg(format!("OUT={}", out.display()));
    for (key, value) in env {
        cmd.arg("--env").arg(format!("{key}={value}"));
    }
    cmd.output().expect("run act")
}

#[test]
fn the_composite_actions_inputs_reach_the_configuration() {
    let tmp = tempfile::tempdir().unwrap();
    let output = act_composite(
        tmp.path(),
        "plan-inputs",
        &[(
            "PROJECT",
            repo().join("tests/projects/democext").display().to_string(),
        )],
    );
    assert!(
        output.status.success(),
        "act failed:\n{}",
        output_text(&output)
    );
    let matrix: Value =
        serde_json::from_slice(&fs_err::read(tmp.path().join("out/matrix.json")).unwrap()).unwrap();
    let mut got: Vec<&str> = matrix["include"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["only"].as_str().unwrap())
        .collect();
    got.sort_unstable();
    // archs x86_64 i686, but `args: --archs x86_64` (the command line) wins; build, skip and
    // enable (pypy-eol and pypy-legacy: pp37–pp39 match `pp3?-*`) are the inputs.
    assert_eq!(
        got,
        [
            "cp311-manylinux_x86_64",
            "cp312-manylinux_x86_64",
            "cp313-manylinux_x86_64",
            "cp314-manylinux_x86_64",
            "cp315-manylinux_x86_64",
            "cp39-manylinux_x86_64",
            "pp37-manylinux_x86_64",
            "pp38-manylinux_x86_64",
            "pp39-manylinux_x86_64",
        ],
        "{}",
        output_text(&output)
    );
    assert!(
        output_text(&output).contains("::set-output:: matrix="),
        "{}",
        output_text(&output)
    );
}

/// `compiler-cache: on` in the action: the key step derives the cache key from the build image's
/// digest, the architecture and the project; the restore step (actions/cache)
/// is skipped under act as act cannot fetch it (the placeholder fails if it runs); the build
/// compiles through ccache into the runner's temporary directory, which is what actions/cache
/// saves on GitHub, and the job summary has the hit/miss table (a cold cache: misses only). The
/// same step keys the package caches by the same images and the project's requirements files.
#[test]
fn the_composite_action_builds_through_the_compiler_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let build_args = format!(
        "--pull never --container-arg=--network=host --container-arg=-v --container-arg={}",
        ca_mount()
    );
    let output = act_composite(
        tmp.path(),
        "build-compiler-cache",
        &[
            ("IMAGE_AMD64", bed("WW_IMAGE_PYPA_BUILD_AMD64_REF")),
            (
                "PROJECT",
                repo().join("tests/projects/democext").display().to_string(),
            ),
            ("BUILD_ARGS", build_args),
        ],
    );
    let log = output_text(&output);
    assert!(output.status.success(), "act failed:\n{log}");
    assert!(!log.contains("a remote fallback action ran"), "{log}");
    let key = log
        .lines()
        .find_map(|l| l.split_once("compiler cache key: ").map(|(_, k)| k))
        .unwrap_or_else(|| panic!("no compiler cache key:\n{log}"));
    let key = key.split_whitespace().next().unwrap();
    let parts: Vec<&str> = key
        .strip_prefix("wheelwright-ccache-Linux-x86_64-")
        .unwrap_or_else(|| panic!("{key}"))
        .split('-')
        .collect();
    assert!(
        parts.len() == 2
            && parts
                .iter()
                .all(|p| p.len() == 16 && p.chars().all(|c| c.is_ascii_hexdigit())),
        "{key}"
    );
    // What the engine says the image is: its digest (podman gives local images one too).
    let inspect = testbed()
        .command("podman")
        .args([
            "image",
            "inspect",
            "--format",
            "{{join .RepoDigests \" \"}}",
            &bed("WW_IMAGE_PYPA_BUILD_AMD64_REF"),
        ])
        .output()
        .unwrap();
    let digest = String::from_utf8_lossy(&inspect.stdout).trim().to_owned();
    assert!(digest.contains("@sha256:"), "{digest}");
    assert!(
        log.contains(&format!("compiler cache key: {key} (images: {digest})")),
        "the key is not derived from the image's digest {digest}:\n{log}"
    );
    // The package caches (pip's and uv's) get a key of the same images and architectures, and
    // the project's requirements files; their restore step is skipped under act too.
    let packages = log
        .lines()
        .find_map(|l| l.split_once("package cache key: ").map(|(_, k)| k))
        .unwrap_or_else(|| panic!("no package cache key:\n{log}"));
    let packages: Vec<&str> = packages
        .split_whitespace()
        .next()
        .unwrap()
        .strip_prefix("wheelwright-packages-Linux-x86_64-")
        .unwrap_or_else(|| panic!("{packages}"))
        .split('-')
        .collect();
    assert!(
        packages.len() == 2
            && packages[0] == parts[0]
            && packages[1].len() == 16
            && packages[1].chars().all(|c| c.is_ascii_hexdigit()),
        "the package cache key is not the images' and the requirements': {packages:?} (compiler cache: {parts:?})"
    );
    let row = log
        .lines()
        .find_map(|l| l.split_once("| `manylinux_x86_64` | ").map(|(_, r)| r))
        .unwrap_or_else(|| panic!("no compiler cache row in the job summary:\n{log}"));
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    let misses: u64 = cells[1].parse().unwrap_or_else(|_| panic!("{row}"));
    assert!(cells[0] == "0" && misses > 0, "a cold cache misses: {row}");
    // Each miss stored a result (and, in direct mode, a manifest) in the runner's directory.
    let entries = fs_err::read_to_string(tmp.path().join("out/ccache-entries.txt")).unwrap();
    assert!(
        entries.lines().count() as u64 >= misses,
        "{misses} misses but the cache directory holds:\n{entries}"
    );
}

/// Bad input stops the action with one error naming the input (checked by the action for the
/// fixed-choice inputs, by the binary for the configuration), an `only` the image does not have
/// stops the build, a publish with neither a token nor `id-token: write` says how to fix it, and
/// release assets asked of a build job name the publish job.
/// Inputs users bring from cibuildwheel's and pypa's actions: `args` split like shell words
/// (quotes keep `x86_64 i686` one value, `--print-identifiers` passes through), `config-file`
/// (a TOML file read instead of pyproject.toml's tables), `extras: uv` accepted.
#[test]
fn the_composite_action_takes_the_inputs_users_know() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("wheels.toml");
    fs_err::write(
        &config,
        "[tool.cibuildwheel]\nskip = \"*-musllinux_*\"\nbuild = \"cp39-* cp311-*\"\n",
    )
    .unwrap();
    let project = repo().join("tests/projects/democext");
    let output = act_composite(
        tmp.path(),
        "plan-inputs-users-know",
        &[
            ("CONFIG_FILE", config.display().to_string()),
            ("PROJECT", project.display().to_string()),
        ],
    );
    let log = output_text(&output);
    assert!(output.status.success(), "act failed:\n{log}");
    // `--print-identifiers` from args: the plan prints identifiers, not the matrix; the quoted
    // archs are one value naming both architectures; the file's build and skip apply.
    let mut ids: Vec<&str> = log
        .lines()
        .filter_map(|l| l.split("| ").last())
        .map(str::trim)
        .filter(|l| l.starts_with("cp3") && l.contains("-manylinux_") && !l.contains(' '))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(
        ids,
        [
            "cp311-manylinux_i686",
            "cp311-manylinux_x86_64",
            "cp39-manylinux_i686",
            "cp39-manylinux_x86_64",
        ],
        "{log}"
    );
    assert!(!log.contains("musllinux"), "{log}");
}

/// `command: test` tests the wheels of `packages-dir` with the test inputs (here on the host,
/// through `args`, with this machine's Python): the wheel is installed in a fresh venv and the
/// command imports it.
#[test]
fn the_composite_action_tests_the_wheels_of_a_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let wheel_dir = tmp.path().join("dist");
    fs_err::create_dir_all(&wheel_dir).unwrap();
    crate::publish_support::make_wheel(&wheel_dir, "lonely", "1.0", 1000, 1);
    let output = act_composite(
        tmp.path(),
        "test-wheels",
        &[
            ("WHEEL_DIR", wheel_dir.display().to_string()),
            (
                "PROJECT",
                repo().join("tests/projects/purepy").display().to_string(),
            ),
            (
                "PYTHON",
                testbed().venv.join("bin/python").display().to_string(),
            ),
        ],
    );
    let log = output_text(&output);
    assert!(output.status.success(), "act failed:\n{log}");
    assert!(log.contains("imported 1 (3, "), "{log}");
    assert!(log.contains("lonely-1.0-py3-none-any.whl"), "{log}");
}

#[test]
fn the_composite_action_refuses_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let wheel_dir = tmp.path().join("wheel");
    fs_err::create_dir_all(&wheel_dir).unwrap();
    crate::publish_support::make_wheel(&wheel_dir, "lonely", "1.0", 1000, 1);
    let image = bed("WW_IMAGE_BUILD_AMD64_REF");
    for (job, needle) in [
        (
            "bad-command",
            "::error title=wheelwright::input command is 'deploy'; accepted values: build, plan, publish, test".to_owned(),
        ),
        (
            "bad-engine",
            "::error title=wheelwright::input engine is 'lxc'; accepted values: auto, docker, podman, host".to_owned(),
        ),
        (
            "bad-archs",
            "error: Action input `INPUT_ARCHS`: invalid `archs`: unknown architecture `sparc` (expected one of auto, auto64, auto32, native, all, x86_64, i686".to_owned(),
        ),
        (
            "only-nothing",
            format!("error: only `cp313-manylinux_x86_64` is not in `{image}`; the images have: cp39-manylinux_x86_64, pp37-manylinux_x86_64"),
        ),
        (
            "publish-without-credentials",
            "permissions: id-token: write".to_owned(),
        ),
        (
            "bad-args",
            "error: Action input `args`: unbalanced quotes or a trailing backslash in `--archs 'x86_64`".to_owned(),
        ),
        (
            "bad-extras",
            "::error title=wheelwright::input extras is 'conda'; accepted values: uv".to_owned(),
        ),
        (
            "publish-two-indexes",
            "::error title=wheelwright::inputs publish and repository-url name different indexes; give one of them".to_owned(),
        ),
        (
            "release-assets-on-build",
            "::error title=wheelwright::input release-assets is true on command build; release assets are put on the release by the command: publish job (after every build job; it needs permissions: contents: write): set release-assets there".to_owned(),
        ),
    ] {
        let dir = tmp.path().join(job);
        fs_err::create_dir_all(&dir).unwrap();
        let output = act_composite(
            &dir,
            job,
            &[
                ("IMAGE_AMD64", image.clone()),
                (
                    "PROJECT",
                    repo().join("tests/projects/democext").display().to_string(),
                ),
                ("WHEEL_DIR", wheel_dir.display().to_string()),
            ],
        );
        let log = output_text(&output);
        assert!(!output.status.success(), "{job} succeeded:\n{log}");
        assert!(log.contains(&needle), "{job}: `{needle}` not in:\n{log}");
        assert!(!log.contains("a remote fallback action ran"), "{job}:\n{log}");
        assert!(!log.contains("panicked"), "{job}:\n{log}");
    }
}

/// The host's CA bundle (the TLS proxy's CA) mounted where the build containers' pip finds it
/// (`PIP_CERT=/etc/ssl/certs/wheelwright-ca.crt`): a podman `-v` value.
fn ca_mount() -> String {
    let ca = std::env::var("PIP_CERT")
        .or_else(|_| std::env::var("SSL_CERT_FILE"))
        .unwrap_or_else(|_| "/etc/ssl/certs/ca-certificates.crt".to_owned());
    format!("{ca}:/etc/ssl/certs/wheelwright-ca.crt:ro")
}

/// A consumer workflow under act (tests/workflows/e2e.yml), the action referenced as
/// `octo/wheelwright@v1` with an empty launcher cache and no binary handed to it (the launcher
/// builds wheelwright from source, as on a fresh runner at any non-release ref): a plan job → a
/// build job per matrix entry (x86_64 and i686, podman, the test bed's images; the containers
/// run the launcher's dynamically linked build) uploading its wheels with the native artifact
/// client → a publish job downloading them natively and publishing them to a local pypiserver
/// with a password from a secret → a job installing from that index in the runtime images and
/// importing the module.
#[test]
fn the_action_plans_builds_publishes_and_installs_under_act() {
    let tmp = tempfile::tempdir().unwrap();
    let index = crate::publish_support::start_pypiserver(&tmp.path().join("index"));
    let out = tmp.path().join("out");
    fs_err::create_dir_all(&out).unwrap();
    let secrets = tmp.path().join("secrets");
    fs_err::write(&secrets, "PYPI_PASSWORD=testpass\n").unwrap();
    let build_args = format!(
        "--pull never --container-arg=--network=host --container-arg=-v --container-arg={}",
        ca_mount()
    );
    let mut cmd = act(tmp.path(), repo(), "e2e.yml", None);
    // An empty launcher cache: no binary is handed to the action, it builds its own.
    cmd.env("WHEELWRIGHT_CACHE_DIR", tmp.path().join("launcher-cache"));
    for (key, value) in [
        ("OUT", out.display().to_string()),
        ("IMAGE_AMD64", bed("WW_IMAGE_BUILD_AMD64_REF")),
        ("IMAGE_I386", bed("WW_IMAGE_BUILD_I386_REF")),
        ("RUNTIME_AMD64", bed("WW_IMAGE_RUNTIME_AMD64_REF")),
        ("RUNTIME_I386", bed("WW_IMAGE_RUNTIME_I386_REF")),
        ("BUILD_ARGS", build_args),
        ("INDEX_URL", index.upload_url()),
    ] {
        cmd.arg("--env").arg(format!("{key}={value}"));
    }
    cmd.arg("--secret-file").arg(&secrets);
    let output = cmd.output().expect("run act");
    let log = output_text(&output);
    assert!(output.status.success(), "act failed:\n{log}");
    assert!(!log.contains("testpass"), "the password reached the log");
    assert!(!log.contains("a remote fallback action ran"), "{log}");
    // The launcher built wheelwright from source once (cargo build --release) and every later
    // job ran that build from its cache.
    assert_eq!(
        log.matches("wheelwright-launcher: built wheelwright from source in ")
            .count(),
        1,
        "{log}"
    );

    // The plan: one job per architecture, each selecting cp39 and cp310 (the images have cp39).
    let matrix: Value =
        serde_json::from_slice(&fs_err::read(out.join("matrix.json")).unwrap()).unwrap();
    let entries: Vec<(String, Vec<String>)> = matrix["include"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["arch"].as_str().unwrap().to_owned(),
                e["identifiers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i.as_str().unwrap().to_owned())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        entries,
        [
            (
                "x86_64".to_owned(),
                vec![
                    "cp39-manylinux_x86_64".to_owned(),
                    "cp310-manylinux_x86_64".to_owned()
                ]
            ),
            (
                "i686".to_owned(),
                vec![
                    "cp39-manylinux_i686".to_owned(),
                    "cp310-manylinux_i686".to_owned()
                ]
            ),
        ]
    );

    // Each build job: the action's outputs, and the artifact act stored holds exactly its wheel.
    let mut published = Vec::new();
    for arch in ["x86_64", "i686"] {
        let outputs = fs_err::read_to_string(out.join(format!("outputs-{arch}.txt"))).unwrap();
        let lines: Vec<&str> = outputs.lines().collect();
        assert_eq!(lines.len(), 3, "{outputs}");
        assert!(
            Path::new(lines[0]).is_absolute() && lines[0].ends_with("/wheelhouse"),
            "{outputs}"
        );
        let wheels: Vec<String> = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(wheels.len(), 1, "{outputs}");
        let wheel = &wheels[0];
        assert!(
            wheel.starts_with("democext-0.1.0-cp39-cp39-")
                && wheel.ends_with(&format!("manylinux_2_5_{arch}.whl")),
            "{wheel}"
        );
        let name = format!("wheels-linux-{arch}");
        assert_eq!(lines[2], name);
        let stored: Vec<PathBuf> = glob::glob(&format!(
            "{}/*/{name}/{name}.zip",
            tmp.path().join("artifacts").display()
        ))
        .unwrap()
        .map(Result::unwrap)
        .collect();
        assert_eq!(stored.len(), 1, "{name}: {stored:?}");
        let extracted = tmp.path().join("extracted").join(arch);
        python_extract(&stored[0], &extracted);
        let files: Vec<String> = tree(&extracted).into_keys().collect();
        assert_eq!(files, std::slice::from_ref(wheel), "{name}");
        published.push(wheel.clone());
        // The build's job summary, and the warning annotation about what the image lacks.
        assert!(
            log.contains(&format!("| `cp39-manylinux_{arch}` | ✅ built | `{wheel}`")),
            "no summary row for {arch}:\n{log}"
        );
        assert!(
            log.contains(&format!(
                "::warning title=wheelwright build::selected but not in the images, not built: cp310-manylinux_{arch} (the images have: cp39-manylinux_{arch}, pp37-manylinux_{arch};"
            )),
            "no warning for {arch}:\n{log}"
        );
    }

    // The publish job downloaded both artifacts and published both wheels.
    let mut on_index: Vec<String> = crate::publish_support::list(&index.packages)
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    on_index.sort();
    published.sort();
    assert_eq!(on_index, published);
    assert!(
        log.contains(&format!(
            "Summary - ### wheelwright publish to `{}`",
            index.upload_url()
        )),
        "{log}"
    );
    for wheel in &published {
        let row = format!("| `{wheel}` | ");
        assert!(
            log.lines()
                .any(|l| l.starts_with(&row) && l.ends_with("| uploaded |")),
            "no publish summary row for {wheel}:\n{log}"
        );
    }
    assert!(
        log.contains("downloaded artifact `wheels-linux-i686`"),
        "{log}"
    );
    assert!(
        log.contains("downloaded artifact `wheels-linux-x86_64`"),
        "{log}"
    );

    // Installed from the index in clean runtime images, the module imports and works.
    for arch in ["x86_64", "i686"] {
        let imported = fs_err::read_to_string(out.join(format!("import-{arch}.txt"))).unwrap();
        assert!(
            imported
                .contains(" 5 libdemo 1.0 /tmp/v/lib/python3.9/site-packages/democext/__init__.py"),
            "{arch}: {imported}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The README's copy-ready workflow itself under act, against the GitHub REST stub.

/// The README's copy-ready workflow: the first ```yaml block of "GitHub Actions pieces", as
/// scripts/lint-actions.sh extracts it for actionlint.
fn readme_workflow() -> String {
    let text = fs_err::read_to_string(repo().join("README.md")).unwrap();
    let section = text
        .find("## GitHub Actions pieces")
        .expect("README has a GitHub Actions section");
    let start = text[section..].find("```yaml\n").unwrap() + section + "```yaml\n".len();
    let end = text[start..].find("```").unwrap() + start;
    text[start..end].to_owned()
}

/// The jobs of a workflow by name (`  name:` at two spaces under `jobs:`), as text.
fn workflow_jobs(workflow: &str) -> BTreeMap<String, String> {
    let jobs = &workflow[workflow.find("\njobs:\n").expect("a jobs: block") + 7..];
    let mut out = BTreeMap::new();
    let mut current: Option<(String, String)> = None;
    for line in jobs.lines() {
        let is_job =
            line.starts_with("  ") && !line.starts_with("   ") && line.trim_end().ends_with(':');
        if is_job {
            if let Some((name, body)) = current.take() {
                out.insert(name, body);
            }
            current = Some((line.trim().trim_end_matches(':').to_owned(), String::new()));
        } else if let Some((_, body)) = current.as_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    if let Some((name, body)) = current {
        out.insert(name, body);
    }
    out
}

/// Runs the README's workflow under act on `event` (with `event_json` as `--eventpath`), in a
/// repository `octo/demo` holding the example project, against the GitHub REST `stub` and the
/// index at `index_url`.
///
/// The one change to the workflow: `publish: pypi` becomes `publish: <index_url>` (PyPI cannot
/// be reached here). Everything the test bed needs reaches it from outside, as a user's
/// repository settings would: the build images, engine arguments (network, the proxy's CA),
/// pull policy, selection and hooks as `CIBW_*`/`WHEELWRIGHT_*` variables (`--env`), the API as
/// `GITHUB_API_URL` (what GHES runners set), the index credentials as `TWINE_USERNAME` /
/// `TWINE_PASSWORD` (`--env-file`, off the command line) and the token as the `GITHUB_TOKEN`
/// secret (`--secret-file`; act's `github.token`). act gives every job the same token, so the
/// stub cannot see the jobs' `permissions:`; the test checks those blocks in the workflow text.
fn run_readme_workflow(
    tmp: &Path,
    event: &str,
    event_json: &Value,
    stub: &GitHubStub,
    index_url: &str,
) -> Output {
    let project = tmp.join("project");
    run_git(
        Command::new("cp")
            .arg("-a")
            .arg(repo().join("tests/projects/democext"))
            .arg(&project),
    );
    for args in [
        &["init", "-q", "-b", "main"][..],
        &["add", "-A"],
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t.invalid",
            "commit",
            "-q",
            "-m",
            "democext",
        ],
        &[
            "remote",
            "add",
            "origin",
            "https://github.com/octo/demo.git",
        ],
    ] {
        run_git(Command::new("git").arg("-C").arg(&project).args(args));
    }

    let text = readme_workflow();
    assert_eq!(
        text.matches("publish: pypi ").count(),
        1,
        "the README workflow publishes to PyPI once:\n{text}"
    );
    let workflow = tmp.join("wheels.yml");
    fs_err::write(
        &workflow,
        text.replacen("publish: pypi ", &format!("publish: {index_url} "), 1),
    )
    .unwrap();
    let action_refs: std::collections::BTreeSet<&str> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("uses: "))
        .map(|u| u.split_whitespace().next().unwrap())
        .filter(|u| u.contains("/wheelwright@"))
        .collect();
    assert!(!action_refs.is_empty(), "{text}");

    let event_path = tmp.join("event.json");
    fs_err::write(&event_path, event_json.to_string()).unwrap();
    let env_file = tmp.join("env");
    fs_err::write(
        &env_file,
        "TWINE_USERNAME=testuser\nTWINE_PASSWORD=testpass\n",
    )
    .unwrap();
    let secrets = tmp.join("secrets");
    fs_err::write(
        &secrets,
        format!("GITHUB_TOKEN={}\n", github_stub::WRITE_TOKEN),
    )
    .unwrap();
    let refs: Vec<&str> = action_refs.into_iter().collect();
    let mut cmd = act_event(tmp, &project, event, &workflow, &refs, None);
    cmd.arg("--eventpath")
        .arg(&event_path)
        .arg("--env-file")
        .arg(&env_file)
        .arg("--secret-file")
        .arg(&secrets);
    for (key, value) in [
        ("CIBW_BUILD", "cp39-*".to_owned()),
        ("CIBW_SKIP", "*-musllinux_*".to_owned()),
        (
            "CIBW_MANYLINUX_X86_64_IMAGE",
            bed("WW_IMAGE_BUILD_AMD64_REF"),
        ),
        ("CIBW_MANYLINUX_I686_IMAGE", bed("WW_IMAGE_BUILD_I386_REF")),
        (
            "CIBW_CONTAINER_ENGINE",
            format!("podman; create_args: --network=host -v {}", ca_mount()),
        ),
        ("WHEELWRIGHT_PULL", "never".to_owned()),
        (
            "CIBW_BEFORE_ALL",
            "sh {project}/libdemo/build-libdemo.sh /usr/local".to_owned(),
        ),
        (
            "CIBW_ENVIRONMENT",
            "PIP_CERT=/etc/ssl/certs/wheelwright-ca.crt".to_owned(),
        ),
        ("GITHUB_API_URL", stub.url()),
    ] {
        cmd.arg("--env").arg(format!("{key}={value}"));
    }
    cmd.output().expect("run act")
}

fn run_git(cmd: &mut Command) {
    let output = cmd.output().expect("run git/cp");
    assert!(output.status.success(), "{cmd:?}: {}", output_text(&output));
}

/// The wheels act stored as the build jobs' artifacts, by artifact name.
fn stored_artifacts(tmp: &Path) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for arch in ["x86_64", "i686"] {
        let name = format!("wheels-linux-{arch}");
        let stored: Vec<PathBuf> = glob::glob(&format!(
            "{}/*/{name}/{name}.zip",
            tmp.join("artifacts").display()
        ))
        .unwrap()
        .map(Result::unwrap)
        .collect();
        for zip in stored {
            let extracted = tmp.join("extracted").join(arch);
            python_extract(&zip, &extracted);
            out.insert(name.clone(), tree(&extracted).into_keys().collect());
        }
    }
    out
}

/// The README's workflow asks for the least permissions: none at the top, `contents: read` for
/// the plan and build jobs, `contents: write` and `id-token: write` only for the publish job,
/// which runs on tag pushes only.
#[test]
fn the_readme_workflow_asks_each_job_for_the_least_permissions() {
    let text = readme_workflow();
    assert!(text.contains("\npermissions: {}"), "{text}");
    let jobs = workflow_jobs(&text);
    assert_eq!(
        jobs.keys().collect::<Vec<_>>(),
        ["build", "plan", "publish"],
        "{text}"
    );
    for job in ["plan", "build"] {
        let body = &jobs[job];
        assert!(body.contains("      contents: read"), "{job}:\n{body}");
        assert!(!body.contains(": write"), "{job} may write:\n{body}");
    }
    let publish = &jobs["publish"];
    assert!(publish.contains("      contents: write"), "{publish}");
    assert!(publish.contains("      id-token: write"), "{publish}");
    assert_eq!(publish.matches(": write").count(), 2, "{publish}");
    assert!(
        publish.contains("if: github.event_name == 'push' && startsWith(github.ref, 'refs/tags/')"),
        "{publish}"
    );
}

/// A tag push through the README's workflow: plan → x86_64 and i686 builds with podman →
/// publish: the release is drafted with every wheel of both build jobs, the wheels go to a
/// pypiserver with its default settings, then the release is published — in that order.
#[test]
fn the_readme_workflow_on_a_tag_publishes_and_releases_under_act() {
    let tmp = tempfile::tempdir().unwrap();
    let stub = GitHubStub::start();
    let index = crate::publish_support::start_pypiserver_defaults(&tmp.path().join("index"));
    let event = json!({
        "ref": "refs/tags/v0.1.0",
        "repository": { "full_name": "octo/demo", "name": "demo", "owner": { "login": "octo" } }
    });
    let output = run_readme_workflow(tmp.path(), "push", &event, &stub, &index.upload_url());
    let log = output_text(&output);
    assert!(output.status.success(), "act failed:\n{log}");
    assert!(
        !log.contains("testpass"),
        "the index password reached the log"
    );
    assert!(
        !log.contains(github_stub::WRITE_TOKEN),
        "the token reached the log"
    );
    assert!(!log.contains("a remote fallback action ran"), "{log}");

    // Both build jobs' wheels, as artifacts, on the index, and on the release: the same files.
    let artifacts = stored_artifacts(tmp.path());
    assert_eq!(artifacts.len(), 2, "{artifacts:?}\n{log}");
    let mut built: Vec<String> = artifacts.values().flatten().cloned().collect();
    built.sort();
    assert_eq!(built.len(), 2, "{artifacts:?}");
    for (wheel, arch) in built.iter().zip(["i686", "x86_64"]) {
        assert!(
            wheel.starts_with("democext-0.1.0-cp39-cp39-")
                && wheel.ends_with(&format!("_{arch}.whl")),
            "{wheel}"
        );
    }
    let on_index: BTreeMap<String, Vec<u8>> = crate::publish_support::list(&index.packages)
        .iter()
        .map(|p| (file_name(p), fs_err::read(p).unwrap()))
        .collect();
    assert_eq!(on_index.keys().cloned().collect::<Vec<_>>(), built);
    let (draft, _, assets) = stub_release(&stub, "v0.1.0");
    assert!(!draft, "the release was not published");
    assert!(
        assets == on_index,
        "the release holds other bytes than the index"
    );

    // The order: the draft is created, gets every wheel, the index upload happens, and only then
    // is the release published. Nothing else writes.
    let writes: Vec<(std::time::SystemTime, String)> = stub
        .calls_at()
        .into_iter()
        .filter(|(_, c)| !c.starts_with("GET "))
        .collect();
    let lines: Vec<&str> = writes.iter().map(|(_, c)| c.as_str()).collect();
    assert_eq!(
        lines,
        [
            format!("POST {RELEASES} -> 201"),
            format!("POST {RELEASES}/1/assets -> 201"),
            format!("POST {RELEASES}/1/assets -> 201"),
            format!("PATCH {RELEASES}/1 -> 200"),
        ]
    );
    let create = stub
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.target == RELEASES)
        .unwrap();
    let body: Value = serde_json::from_slice(&create.body).unwrap();
    assert_eq!(body["draft"], json!(true));
    assert_eq!(body["tag_name"], json!("v0.1.0"));
    let indexed_at = crate::publish_support::list(&index.packages)
        .iter()
        .map(|p| fs_err::metadata(p).unwrap().modified().unwrap())
        .collect::<Vec<_>>();
    for at in &indexed_at {
        assert!(
            writes[2].0 <= *at && *at <= writes[3].0,
            "the index upload is not between the release's uploads and its publication"
        );
    }
    assert!(
        stub.requests()
            .iter()
            .all(|r| r.header("authorization")
                == Some(&format!("Bearer {}", github_stub::WRITE_TOKEN))),
        "a request without the token"
    );
    assert!(log.contains("published release `v0.1.0`"), "{log}");
}

/// A pull request through the README's workflow builds both architectures and makes no call to
/// the release API or the index at all.
#[test]
fn the_readme_workflow_on_a_pull_request_only_builds_under_act() {
    let tmp = tempfile::tempdir().unwrap();
    let stub = GitHubStub::start();
    let index = crate::publish_support::start_pypiserver_defaults(&tmp.path().join("index"));
    let event = json!({
        "number": 7,
        "pull_request": {
            "number": 7,
            "head": { "ref": "feature", "sha": COMMIT },
            "base": { "ref": "main" }
        },
        "repository": { "full_name": "octo/demo", "name": "demo", "owner": { "login": "octo" } }
    });
    let output = run_readme_workflow(
        tmp.path(),
        "pull_request",
        &event,
        &stub,
        &index.upload_url(),
    );
    let log = output_text(&output);
    assert!(output.status.success(), "act failed:\n{log}");
    let artifacts = stored_artifacts(tmp.path());
    assert_eq!(
        artifacts.values().map(Vec::len).collect::<Vec<_>>(),
        [1, 1],
        "{artifacts:?}\n{log}"
    );
    assert!(
        stub.calls().is_empty(),
        "release API calls: {:?}",
        stub.calls()
    );
    assert!(crate::publish_support::list(&index.packages).is_empty());
    assert!(!log.contains("wheelwright publish"), "{log}");
}
