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
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::common::{release_target, repo, source_checkout, testbed, wheelwright};

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

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
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
        text(&output)
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
    assert!(output.status.success(), "act failed:\n{}", text(&output));

    // act stores the uploaded bytes as <path>/<run>/<name>/<name>.zip.
    let stored: Vec<PathBuf> = glob::glob(&format!("{}/*/{name}/{name}.zip", artifacts.display()))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        stored.len(),
        1,
        "stored artifacts: {stored:?}\n{}",
        text(&output)
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
    assert!(output.status.success(), "{}", text(&output));
    assert!(!text(&output).contains(&token), "the token was printed");
    assert!(
        !text(&output).contains("SeCrEtSiG"),
        "the signature was printed"
    );
    assert!(
        stderr(&output)
            .contains("retention of 5 days is more than this repository allows; using 3"),
        "{}",
        text(&output)
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
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
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
        text(&output)
    );

    // --if-available: nothing uploaded, success, and an output for the fallback step.
    let github_output = tmp.path().join("github_output");
    let output = gh_wheelwright()
        .args(["upload-artifact", "--if-available", "wheels"])
        .arg(&file)
        .env("GITHUB_OUTPUT", &github_output)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
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
// Release assets against a stub of the GitHub REST API (api.github.com cannot be reached here).
// The stub answers with the JSON shapes GitHub documents for releases and assets.

// Not a real token: a marker the stub API expects and the output must never contain.
const TOKEN: &str = "fake-github-token-for-the-stub-api";
const REPO: &str = "/repos/octo/demo";

fn asset_json(base: &str, id: u64, name: &str, size: u64, state: &str) -> Value {
    json!({
        "url": format!("{base}{REPO}/releases/assets/{id}"),
        "browser_download_url": format!("{base}/octo/demo/releases/download/v1/{name}"),
        "id": id,
        "node_id": format!("RA_{id}"),
        "name": name,
        "label": null,
        "state": state,
        "content_type": "application/octet-stream",
        "size": size,
        "digest": null,
        "download_count": 0,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "uploader": null
    })
}

fn release_json(base: &str, id: u64, tag: &str, draft: bool, upload_base: &str) -> Value {
    json!({
        "url": format!("{base}{REPO}/releases/{id}"),
        "html_url": format!("{base}/octo/demo/releases/tag/{tag}"),
        "assets_url": format!("{base}{REPO}/releases/{id}/assets"),
        "upload_url": format!("{upload_base}{REPO}/releases/{id}/assets{{?name,label}}"),
        "tarball_url": null,
        "zipball_url": null,
        "id": id,
        "node_id": format!("RE_{id}"),
        "tag_name": tag,
        "target_commitish": "main",
        "name": tag,
        "body": null,
        "draft": draft,
        "prerelease": false,
        "created_at": "2026-01-01T00:00:00Z",
        "published_at": if draft { Value::Null } else { json!("2026-01-01T00:00:00Z") },
        "author": null,
        "assets": []
    })
}

/// Mounts the release lookup: `GET …/releases/tags/TAG` finds `release` (or 404 when None).
fn mount_release(stub: &Stub, tag: &str, release: Option<&Value>) {
    let response = match release {
        Some(r) => ResponseTemplate::new(200).set_body_json(r),
        None => ResponseTemplate::new(404).set_body_json(json!({
            "message": "Not Found",
            "documentation_url": "https://docs.github.com/rest/releases/releases#get-a-release-by-tag-name"
        })),
    };
    stub.mount(
        Mock::given(method("GET"))
            .and(path(format!("{REPO}/releases/tags/{tag}")))
            .respond_with(response),
    );
}

fn mount_assets(stub: &Stub, release_id: u64, assets: &[Value]) {
    stub.mount(
        Mock::given(method("GET"))
            .and(path(format!("{REPO}/releases/{release_id}/assets")))
            .respond_with(ResponseTemplate::new(200).set_body_json(assets)),
    );
}

/// The upload endpoint: answers `status`, echoing the asset on 201.
fn mount_upload(stub: &Stub, release_id: u64, status: u16) {
    let base = stub.uri();
    stub.mount(
        Mock::given(method("POST"))
            .and(path(format!("{REPO}/releases/{release_id}/assets")))
            .respond_with(move |req: &Request| {
                if status != 201 {
                    return ResponseTemplate::new(status)
                        .set_body_json(json!({ "message": "Server Error" }));
                }
                let name = req
                    .url
                    .query_pairs()
                    .find(|(k, _)| k == "name")
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default();
                ResponseTemplate::new(201).set_body_json(asset_json(
                    &base,
                    777,
                    &name,
                    req.body.len() as u64,
                    "uploaded",
                ))
            }),
    );
}

fn uploads(stub: &Stub, release_id: u64) -> Vec<Request> {
    let upload_path = format!("{REPO}/releases/{release_id}/assets");
    stub.requests()
        .into_iter()
        .filter(|r| r.method.as_str() == "POST" && r.url.path() == upload_path)
        .collect()
}

fn run_release(stub: &Stub, github_ref: &str, args: &[&str], files: &[&Path]) -> Output {
    let output = gh_wheelwright()
        .args(["-vv", "release", "--json"])
        .args(args)
        .args(files)
        .env("GITHUB_REPOSITORY", "octo/demo")
        .env("GITHUB_REF", github_ref)
        .env("GITHUB_TOKEN", TOKEN)
        .env("GITHUB_API_URL", stub.uri())
        .output()
        .unwrap();
    assert!(!text(&output).contains(TOKEN), "the token was printed");
    output
}

/// Two distribution files, one with a `+` that must be percent-encoded in the upload query.
fn dist_files(dir: &Path) -> (PathBuf, PathBuf) {
    let wheel = dir.join("demo-1.0-cp39-cp39-manylinux_2_31_x86_64.whl");
    let sdist = dir.join("demo-1.0+local.tar.gz");
    fs_err::write(&wheel, noise(300_000, 7)).unwrap();
    fs_err::write(&sdist, noise(1234, 8)).unwrap();
    (wheel, sdist)
}

#[test]
fn release_assets_are_streamed_to_an_existing_release() {
    let stub = Stub::start();
    let release = release_json(&stub.uri(), 11, "v1.0.0", false, &stub.uri());
    mount_release(&stub, "v1.0.0", Some(&release));
    mount_assets(&stub, 11, &[]);
    mount_upload(&stub, 11, 201);
    let tmp = tempfile::tempdir().unwrap();
    let (wheel, sdist) = dist_files(tmp.path());
    let output = run_release(&stub, "refs/tags/v1.0.0", &[], &[tmp.path()]);
    assert!(output.status.success(), "{}", text(&output));

    let posts = uploads(&stub, 11);
    assert_eq!(posts.len(), 2);
    for (post, file) in posts.iter().zip([&sdist, &wheel]) {
        let bytes = fs_err::read(file).unwrap();
        assert!(
            post.body == bytes,
            "uploaded bytes differ for {}",
            file.display()
        );
        let header = |name: &str| post.headers.get(name).unwrap().to_str().unwrap().to_owned();
        assert_eq!(header("content-length"), bytes.len().to_string());
        assert_eq!(header("content-type"), "application/octet-stream");
        assert_eq!(header("authorization"), format!("Bearer {TOKEN}"));
    }
    assert_eq!(posts[0].url.query(), Some("name=demo-1.0%2Blocal.tar.gz"));
    assert_eq!(
        posts[1].url.query(),
        Some("name=demo-1.0-cp39-cp39-manylinux_2_31_x86_64.whl")
    );
    // The API calls carried the token too, and nothing created a release.
    assert!(stub.requests().iter().all(|r| {
        r.headers.get("authorization").and_then(|v| v.to_str().ok())
            == Some(&format!("Bearer {TOKEN}"))
    }));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["created"], json!(false));
    assert_eq!(report["assets"][0]["action"], json!("uploaded"));
    assert_eq!(report["assets"][1]["action"], json!("uploaded"));
}

#[test]
fn a_missing_release_is_created_and_a_draft_is_found() {
    let stub = Stub::start();
    // v2: no release at all (the list is empty) -> POST /releases.
    mount_release(&stub, "v2", None);
    stub.mount(
        Mock::given(method("GET"))
            .and(path(format!("{REPO}/releases")))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!([release_json(
                    &stub.uri(),
                    30,
                    "v3-draft",
                    true,
                    &stub.uri()
                )])),
            ),
    );
    stub.mount(
        Mock::given(method("POST"))
            .and(path(format!("{REPO}/releases")))
            .respond_with(ResponseTemplate::new(201).set_body_json(release_json(
                &stub.uri(),
                20,
                "v2",
                false,
                &stub.uri(),
            ))),
    );
    mount_assets(&stub, 20, &[]);
    mount_upload(&stub, 20, 201);
    let tmp = tempfile::tempdir().unwrap();
    let (wheel, _) = dist_files(tmp.path());
    // --tag wins over a branch GITHUB_REF.
    let output = run_release(&stub, "refs/heads/main", &["--tag", "v2"], &[&wheel]);
    assert!(output.status.success(), "{}", text(&output));
    let creates: Vec<Request> = stub
        .requests()
        .into_iter()
        .filter(|r| r.method.as_str() == "POST" && r.url.path() == format!("{REPO}/releases"))
        .collect();
    assert_eq!(creates.len(), 1);
    let body: Value = creates[0].body_json().unwrap();
    assert_eq!(body["tag_name"], json!("v2"));
    assert_eq!(uploads(&stub, 20).len(), 1);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["created"], json!(true));

    // v3-draft: get_by_tag does not see drafts; the list does, and nothing is created.
    mount_release(&stub, "v3-draft", None);
    mount_assets(&stub, 30, &[]);
    mount_upload(&stub, 30, 201);
    let output = run_release(&stub, "refs/tags/v3-draft", &[], &[&wheel]);
    assert!(output.status.success(), "{}", text(&output));
    let creates = stub
        .requests()
        .into_iter()
        .filter(|r| r.method.as_str() == "POST" && r.url.path() == format!("{REPO}/releases"))
        .count();
    assert_eq!(creates, 1, "the draft release was created again");
    assert_eq!(uploads(&stub, 30).len(), 1);
}

#[test]
fn same_size_assets_are_skipped_other_sizes_refused_unless_clobbered() {
    let stub = Stub::start();
    let tmp = tempfile::tempdir().unwrap();
    let (wheel, sdist) = dist_files(tmp.path());
    let wheel_name = wheel.file_name().unwrap().to_str().unwrap();
    let sdist_name = sdist.file_name().unwrap().to_str().unwrap();
    let release = release_json(&stub.uri(), 40, "v4", false, &stub.uri());
    mount_release(&stub, "v4", Some(&release));
    mount_assets(
        &stub,
        40,
        &[
            asset_json(&stub.uri(), 401, wheel_name, 300_000, "uploaded"),
            asset_json(&stub.uri(), 402, sdist_name, 99, "uploaded"),
        ],
    );
    mount_upload(&stub, 40, 201);
    stub.mount(
        Mock::given(method("DELETE"))
            .and(path_regex(format!("^{REPO}/releases/assets/[0-9]+$")))
            .respond_with(ResponseTemplate::new(204)),
    );

    // Same name and size: skipped, nothing sent.
    let output = run_release(&stub, "refs/tags/v4", &[], &[&wheel]);
    assert!(output.status.success(), "{}", text(&output));
    assert!(stderr(&output).contains("already on release v4 with the same size, skipped"));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["assets"][0]["action"], json!("skipped"));
    assert_eq!(uploads(&stub, 40).len(), 0);

    // Another size: refused before anything is uploaded (the wheel is not sent either).
    let output = run_release(&stub, "refs/tags/v4", &[], &[&wheel, &sdist]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert_eq!(
        stderr(&output).lines().last().unwrap(),
        format!(
            "error: release v4 already has an asset `{sdist_name}` of 99 bytes, but `{}` is 1234 bytes; pass --clobber to replace it",
            sdist.display()
        )
    );
    assert_eq!(uploads(&stub, 40).len(), 0);

    // --clobber: the old asset is deleted, then the file uploaded.
    let output = run_release(&stub, "refs/tags/v4", &["--clobber"], &[&wheel, &sdist]);
    assert!(output.status.success(), "{}", text(&output));
    let requests = stub.requests();
    let deletes: Vec<&Request> = requests
        .iter()
        .filter(|r| r.method.as_str() == "DELETE")
        .collect();
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0].url.path(), format!("{REPO}/releases/assets/402"));
    let posts = uploads(&stub, 40);
    assert_eq!(posts.len(), 1);
    assert!(posts[0].body == fs_err::read(&sdist).unwrap());
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let actions: Vec<&Value> = report["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["action"])
        .collect();
    assert_eq!(actions, [&json!("replaced"), &json!("skipped")]);
}

#[test]
fn a_server_error_on_upload_fails_without_a_retry() {
    let stub = Stub::start();
    let release = release_json(&stub.uri(), 50, "v5", false, &stub.uri());
    mount_release(&stub, "v5", Some(&release));
    mount_assets(&stub, 50, &[]);
    mount_upload(&stub, 50, 502);
    let tmp = tempfile::tempdir().unwrap();
    let (wheel, _) = dist_files(tmp.path());
    let output = run_release(&stub, "refs/tags/v5", &[], &[&wheel]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert_eq!(
        stderr(&output).lines().last().unwrap(),
        format!(
            "error: uploading `{}`: HTTP 502: Server Error (not retried: check the release for a broken asset and run again)",
            wheel.display()
        )
    );
    assert_eq!(uploads(&stub, 50).len(), 1, "the upload POST was retried");
}

#[test]
fn the_token_goes_nowhere_but_the_api() {
    let stub = Stub::start();
    // A release whose upload_url points at another host.
    let release = release_json(&stub.uri(), 60, "v6", false, "http://127.0.0.2:9");
    mount_release(&stub, "v6", Some(&release));
    mount_assets(&stub, 60, &[]);
    let tmp = tempfile::tempdir().unwrap();
    let (wheel, _) = dist_files(tmp.path());
    let output = run_release(&stub, "refs/tags/v6", &[], &[&wheel]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert_eq!(
        stderr(&output).lines().last().unwrap(),
        format!(
            "error: refusing to send the token to `http://127.0.0.2:9{REPO}/releases/60/assets`: the release's upload_url is not on `{}`",
            stub.uri()
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
        assert_eq!(output.status.code(), Some(1), "{}", text(&output));
        stderr(&output)
    };
    let repo_env = ("GITHUB_REPOSITORY", "octo/demo");
    let token_env = ("GITHUB_TOKEN", TOKEN);
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
        .args(["release", "--token", TOKEN, "--tag", "v1"])
        .arg(&wheel)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

// ---------------------------------------------------------------------------------------------
// The composite action under act, running the real binary.

/// A placeholder for the remote actions of `action.yml` (actions/upload-artifact and
/// actions/download-artifact): act resolves every `uses:` of a composite action before looking
/// at its `if:`, and cannot fetch them here. If one of these steps ran, the job would fail.
const PLACEHOLDER_ACTION: &str = "name: placeholder\ndescription: must not run\nruns:\n  using: composite\n  steps:\n    - shell: bash\n      run: echo 'a remote fallback action ran'; exit 1\n";

/// act in host mode with the artifact server, the action mapped as `octo/wheelwright@v1` (a
/// checkout of this source tree: [`source_checkout`]), the remote fallback actions mapped to
/// placeholders, and the test bed's podman configuration and tool venv in the environment.
///
/// The launcher gets its binary as on a self-hosted runner: built from the source with
/// `cargo build --release --locked` unless its cache (`WHEELWRIGHT_CACHE_DIR`, here one shared by
/// these tests and keyed by the source's hash) already has that build. Cargo's target directory
/// is the test bed's release target, so later runs recompile only what changed.
fn act(tmp: &Path, workdir: &Path, workflow: &str, job: Option<&str>) -> Command {
    let action = source_checkout();
    let placeholder = tmp.join("placeholder");
    fs_err::create_dir_all(&placeholder).unwrap();
    fs_err::write(placeholder.join("action.yml"), PLACEHOLDER_ACTION).unwrap();
    let home = tmp.join("home");
    fs_err::create_dir_all(&home).unwrap();
    let mut cmd = testbed().command(testbed().venv.join("bin/act").to_str().unwrap());
    cmd.arg("push")
        .arg("-C")
        .arg(workdir)
        .arg("-W")
        .arg(repo().join("tests/workflows").join(workflow))
        .args(["-P", "ubuntu-latest=-self-hosted"])
        .arg("--local-repository")
        .arg(format!("octo/wheelwright@v1={}", action.display()));
    for remote in ["actions/upload-artifact@", "actions/download-artifact@"] {
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
        .env("WHEELWRIGHT_CACHE_DIR", testbed().cache.join("launcher"))
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
fn act_composite(tmp: &Path, job: &str, env: &[(&str, String)]) -> Output {
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
    let output = act_composite(tmp.path(), "plan-inputs", &[]);
    assert!(output.status.success(), "act failed:\n{}", text(&output));
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
    // enable (pypy-eol: pp37–pp39 match `pp3?-*`) are the inputs.
    assert_eq!(
        got,
        [
            "cp311-manylinux_x86_64",
            "cp312-manylinux_x86_64",
            "cp313-manylinux_x86_64",
            "cp314-manylinux_x86_64",
            "cp39-manylinux_x86_64",
            "pp37-manylinux_x86_64",
            "pp38-manylinux_x86_64",
            "pp39-manylinux_x86_64",
        ],
        "{}",
        text(&output)
    );
    assert!(
        text(&output).contains("::set-output:: matrix="),
        "{}",
        text(&output)
    );
}

/// Bad input stops the action with one error naming the input (checked by the action for the
/// fixed-choice inputs, by the binary for the configuration), an `only` the image does not have
/// stops the build, and a publish with neither a token nor `id-token: write` says how to fix it.
#[test]
fn the_composite_action_refuses_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let wheel_dir = tmp.path().join("wheel");
    fs_err::create_dir_all(&wheel_dir).unwrap();
    crate::publish_support::make_wheel(&wheel_dir, "lonely", "1.0", 1000, 1);
    let image = testbed()
        .env
        .iter()
        .find(|(k, _)| k == "WW_IMAGE_BUILD_AMD64_REF")
        .map(|(_, v)| v.clone())
        .unwrap();
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
        let log = text(&output);
        assert!(!output.status.success(), "{job} succeeded:\n{log}");
        assert!(log.contains(&needle), "{job}: `{needle}` not in:\n{log}");
        assert!(!log.contains("a remote fallback action ran"), "{job}:\n{log}");
        assert!(!log.contains("panicked"), "{job}:\n{log}");
    }
}

/// The release flow of the README under act (tests/workflows/e2e.yml): a plan job → a build job
/// per matrix entry (x86_64 and i686, podman, the test bed's images) uploading its wheels with the
/// native artifact client → a publish job downloading them natively and publishing them to a
/// local pypiserver with a password from a secret → a job installing from that index in the
/// runtime images and importing the module.
#[test]
fn the_action_plans_builds_publishes_and_installs_under_act() {
    let tmp = tempfile::tempdir().unwrap();
    let index = crate::publish_support::start_pypiserver(&tmp.path().join("index"));
    let out = tmp.path().join("out");
    fs_err::create_dir_all(&out).unwrap();
    let secrets = tmp.path().join("secrets");
    fs_err::write(&secrets, "PYPI_PASSWORD=testpass\n").unwrap();
    let bed = |key: &str| {
        testbed()
            .env
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("{key} not set by scripts/lib.sh"))
    };
    let ca = std::env::var("PIP_CERT")
        .or_else(|_| std::env::var("SSL_CERT_FILE"))
        .unwrap_or_else(|_| "/etc/ssl/certs/ca-certificates.crt".to_owned());
    let build_args = format!(
        "--pull never --container-arg=--network=host --container-arg=-v --container-arg={ca}:/etc/ssl/certs/wheelwright-ca.crt:ro"
    );
    let mut cmd = act(tmp.path(), repo(), "e2e.yml", None);
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
    let log = text(&output);
    assert!(output.status.success(), "act failed:\n{log}");
    assert!(!log.contains("testpass"), "the password reached the log");
    assert!(!log.contains("a remote fallback action ran"), "{log}");

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
