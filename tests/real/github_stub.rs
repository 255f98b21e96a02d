//! A stub of GitHub's REST API for releases, with state. It is a stub because nothing real can
//! run here: api.github.com is out of reach and there is no GitHub to install. It keeps the
//! releases and assets of one repository (`octo/demo`) and is at least as strict as GitHub where
//! `wheelwright release` could get it wrong (facts: publish.md §6, GitHub's REST docs):
//!
//! * every request needs a token (401 `Requires authentication` / `Bad credentials`); tokens
//!   carry a `contents` permission, and a write (POST, PATCH, DELETE) with a `contents: read`
//!   token gets GitHub's 403 `Resource not accessible by integration` with
//!   `x-accepted-github-permissions: contents=write`, before any validation;
//! * drafts are invisible to get-by-tag, and to readers (the list, get-by-id and the asset list
//!   show them only to a token that may write);
//! * creating a release whose tag already has a published one is GitHub's 422
//!   `already_exists` validation error; a second *draft* of a tag is created, as GitHub does
//!   (it does not de-duplicate drafts), so two runs racing to create the release are served the
//!   way GitHub serves them; a tag once used by an immutable release cannot be released again;
//! * with the repository's immutable-releases setting on, a release becomes `immutable: true`
//!   when it is published, and uploads to it get 422 `Cannot upload assets to an immutable
//!   release`; its assets cannot be deleted;
//! * asset uploads need Content-Type and Content-Length, decode the `name` query like GitHub
//!   (a raw `+` is a space) and rename special characters to `.`; a second asset of one name is
//!   422 `already_exists`; assets carry `digest: "sha256:…"` (switchable off, like GHES or assets
//!   from before 2025);
//! * an asset download through the API (`Accept: application/octet-stream`) is a 302 to a
//!   signed URL on another origin (the second server), which refuses requests that also carry an
//!   `Authorization` header, as the storage behind GitHub does.
//!
//! Races and faults are injected per request ([`Race`]); every request and every change is
//! recorded in order ([`GitHubStub::calls`]).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use serde_json::{Value, json};

use crate::publish_support::{Reply, Request, Stub, StubState, sha256_hex};

/// The one repository the stub serves.
pub(crate) const REPOSITORY: &str = "octo/demo";
/// A token with `contents: write` (fake: only this stub knows it).
pub(crate) const WRITE_TOKEN: &str = "fake-github-token-contents-write";
/// A token with `contents: read` (fake).
pub(crate) const READ_TOKEN: &str = "fake-github-token-contents-read";
/// The signature of the stub's download URLs (it must never appear in output).
const SIGNATURE: &str = "fake-signature-of-the-storage-url";

/// Something another job does just before the next matching request arrives, or a fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Race {
    /// Another job creates and publishes a release of the tag before our create.
    PublishedBeforeCreate,
    /// Another job creates a draft of the tag before our create (GitHub keeps both).
    DraftBeforeCreate,
    /// The next asset upload breaks off: a `starter` asset stays behind, the answer is 502.
    UploadBreaks,
}

/// One stored asset.
#[derive(Debug, Clone)]
pub(crate) struct StubAsset {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) state: &'static str,
    pub(crate) bytes: Vec<u8>,
}

/// One release.
#[derive(Debug, Clone)]
pub(crate) struct StubRelease {
    pub(crate) id: u64,
    pub(crate) tag: String,
    pub(crate) draft: bool,
    pub(crate) immutable: bool,
    pub(crate) target_commitish: String,
    pub(crate) assets: Vec<StubAsset>,
}

/// The repository's state and the stub's settings.
#[derive(Debug, Default)]
pub(crate) struct Repo {
    pub(crate) releases: Vec<StubRelease>,
    next_id: u64,
    /// The repository setting "immutable releases".
    pub(crate) immutable_releases: bool,
    /// Whether assets carry `digest` (github.com does since 2025).
    pub(crate) digests: bool,
    /// Whether releases carry `immutable` (GHES versions before the feature do not).
    pub(crate) immutable_field: bool,
    /// Where releases say uploads go (`upload_url`); None: this stub.
    pub(crate) upload_base: Option<String>,
    /// Tags of deleted immutable releases: never released again.
    locked_tags: Vec<String>,
    pub(crate) races: VecDeque<Race>,
    /// What happened, in order: when, and `METHOD path -> status`, per request.
    pub(crate) calls: Vec<(SystemTime, String)>,
    download_port: u16,
}

impl Repo {
    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Adds a release as another job would (the stub's own writes).
    pub(crate) fn add_release(&mut self, tag: &str, draft: bool) -> u64 {
        let id = self.id();
        let immutable = !draft && self.immutable_releases;
        self.releases.push(StubRelease {
            id,
            tag: tag.to_owned(),
            draft,
            immutable,
            target_commitish: "main".to_owned(),
            assets: Vec::new(),
        });
        id
    }

    /// Adds an asset as another job would.
    pub(crate) fn add_asset(&mut self, release: u64, name: &str, bytes: &[u8]) {
        let id = self.id();
        let release = self.releases.iter_mut().find(|r| r.id == release).unwrap();
        release.assets.push(StubAsset {
            id,
            name: name.to_owned(),
            state: "uploaded",
            bytes: bytes.to_vec(),
        });
    }
}

/// The running stub: the API (which also takes uploads) and the storage host of downloads.
pub(crate) struct GitHubStub {
    api: Stub,
    downloads: Stub,
    pub(crate) repo: Arc<Mutex<Repo>>,
}

impl GitHubStub {
    pub(crate) fn start() -> Self {
        let repo = Arc::new(Mutex::new(Repo {
            digests: true,
            immutable_field: true,
            ..Repo::default()
        }));
        let downloads = {
            let repo = Arc::clone(&repo);
            Stub::start(move |request, _| download(request, &repo))
        };
        repo.lock().unwrap().download_port = downloads.port();
        let api = {
            let repo = Arc::clone(&repo);
            Stub::start(move |request, state| {
                let mut repo = repo.lock().unwrap();
                let reply = api(request, state, &mut repo);
                let path = request.target.split('?').next().unwrap_or_default();
                let line = format!("{} {path} -> {}", request.method, reply.status);
                repo.calls.push((SystemTime::now(), line));
                reply
            })
        };
        GitHubStub {
            api,
            downloads,
            repo,
        }
    }

    /// The API's base URL (`GITHUB_API_URL`).
    pub(crate) fn url(&self) -> String {
        self.api.url("")
    }

    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut Repo) -> R) -> R {
        f(&mut self.repo.lock().unwrap())
    }

    /// `METHOD path -> status` for every API request so far, in order.
    pub(crate) fn calls(&self) -> Vec<String> {
        self.with(|r| r.calls.iter().map(|(_, c)| c.clone()).collect())
    }

    /// The calls with the time each was answered.
    pub(crate) fn calls_at(&self) -> Vec<(SystemTime, String)> {
        self.with(|r| r.calls.clone())
    }

    /// The calls that change something (anything but GET).
    pub(crate) fn writes(&self) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter(|c| !c.starts_with("GET "))
            .collect()
    }

    pub(crate) fn requests(&self) -> Vec<Request> {
        self.api.requests()
    }

    pub(crate) fn download_requests(&self) -> Vec<Request> {
        self.downloads.requests()
    }
}

fn error(status: u16, message: &str, documentation: &str) -> Reply {
    Reply::json(
        status,
        &json!({
            "message": message,
            "documentation_url": format!("https://docs.github.com/rest/{documentation}"),
            "status": status.to_string(),
        }),
    )
}

fn not_found() -> Reply {
    error(404, "Not Found", "releases/releases")
}

fn validation(resource: &str, code: &str, field: &str) -> Reply {
    Reply::json(
        422,
        &json!({
            "message": "Validation Failed",
            "errors": [{ "resource": resource, "code": code, "field": field }],
            "documentation_url": "https://docs.github.com/rest/releases/releases",
            "status": "422",
        }),
    )
}

fn with_permissions(mut reply: Reply, needed: &str) -> Reply {
    reply.headers.push((
        "x-accepted-github-permissions".to_owned(),
        needed.to_owned(),
    ));
    reply
}

/// GitHub's renaming of asset names: special characters become `.`.
fn github_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-+".contains(c) {
                c
            } else {
                '.'
            }
        })
        .collect()
}

fn asset_json(base: &str, repo: &Repo, release: &StubRelease, asset: &StubAsset) -> Value {
    let id = asset.id;
    let digest = if repo.digests && asset.state == "uploaded" {
        json!(format!("sha256:{}", sha256_hex(&asset.bytes)))
    } else {
        Value::Null
    };
    json!({
        "url": format!("{base}/repos/{REPOSITORY}/releases/assets/{id}"),
        "browser_download_url": format!("https://github.invalid/{REPOSITORY}/releases/download/{}/{}", release.tag, asset.name),
        "id": id,
        "node_id": format!("RA_{id}"),
        "name": asset.name,
        "label": "",
        "state": asset.state,
        "content_type": "application/octet-stream",
        "size": asset.bytes.len(),
        "digest": digest,
        "download_count": 0,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "uploader": null
    })
}

fn release_json(base: &str, repo: &Repo, release: &StubRelease) -> Value {
    let id = release.id;
    let upload_base = repo.upload_base.clone().unwrap_or_else(|| base.to_owned());
    let html = if release.draft {
        format!("https://github.invalid/{REPOSITORY}/releases/tag/untagged-{id:08x}")
    } else {
        format!(
            "https://github.invalid/{REPOSITORY}/releases/tag/{}",
            release.tag
        )
    };
    let mut value = json!({
        "url": format!("{base}/repos/{REPOSITORY}/releases/{id}"),
        "html_url": html,
        "assets_url": format!("{base}/repos/{REPOSITORY}/releases/{id}/assets"),
        "upload_url": format!("{upload_base}/repos/{REPOSITORY}/releases/{id}/assets{{?name,label}}"),
        "tarball_url": null,
        "zipball_url": null,
        "id": id,
        "node_id": format!("RE_{id}"),
        "tag_name": release.tag,
        "target_commitish": release.target_commitish,
        "name": release.tag,
        "body": null,
        "draft": release.draft,
        "prerelease": false,
        "created_at": "2026-01-01T00:00:00Z",
        "published_at": if release.draft { Value::Null } else { json!("2026-01-01T00:00:00Z") },
        "author": null,
        "assets": release.assets.iter().map(|a| asset_json(base, repo, release, a)).collect::<Vec<_>>(),
    });
    if repo.immutable_field {
        value["immutable"] = json!(release.immutable);
    }
    value
}

fn body_json(request: &Request) -> Option<Value> {
    serde_json::from_slice(&request.body).ok()
}

/// The API: authentication, permissions, then the route.
fn api(request: &Request, _state: &StubState, repo: &mut Repo) -> Reply {
    let base = format!("http://{}", request.header("host").unwrap_or("127.0.0.1"));
    let write = request.method != "GET";
    let needed = if write {
        "contents=write"
    } else {
        "contents=read"
    };
    let token = request.header("authorization").and_then(|h| {
        h.strip_prefix("Bearer ")
            .or_else(|| h.strip_prefix("token "))
    });
    let may_write = match token {
        None => {
            return error(
                401,
                "Requires authentication",
                "overview/authenticating-to-the-rest-api",
            );
        }
        Some(WRITE_TOKEN) => true,
        Some(READ_TOKEN) => false,
        Some(_) => {
            return error(
                401,
                "Bad credentials",
                "overview/authenticating-to-the-rest-api",
            );
        }
    };
    if write && !may_write {
        return with_permissions(
            error(
                403,
                "Resource not accessible by integration",
                "releases/releases",
            ),
            needed,
        );
    }
    let url = reqwest::Url::parse(&format!("{base}{}", request.target)).unwrap();
    let Some(rest) = url
        .path()
        .strip_prefix(&format!("/repos/{REPOSITORY}/"))
        .map(str::to_owned)
    else {
        return not_found();
    };
    let query = |key: &str| {
        url.query_pairs()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    };
    let segments: Vec<String> = rest
        .split('/')
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let visible = |r: &StubRelease| may_write || !r.draft;
    let reply = match (request.method.as_str(), segments.as_slice()) {
        ("GET", ["releases", "tags", tag]) => {
            match repo.releases.iter().find(|r| r.tag == *tag && !r.draft) {
                Some(r) => Reply::json(200, &release_json(&base, repo, r)),
                None => not_found(),
            }
        }
        ("GET", ["releases"]) => {
            let per_page: usize = query("per_page")
                .and_then(|p| p.parse().ok())
                .unwrap_or(30)
                .min(100);
            let page: usize = query("page").and_then(|p| p.parse().ok()).unwrap_or(1);
            let mut shown: Vec<&StubRelease> =
                repo.releases.iter().filter(|r| visible(r)).collect();
            shown.sort_by_key(|r| std::cmp::Reverse(r.id));
            let items: Vec<Value> = shown
                .into_iter()
                .skip((page.max(1) - 1) * per_page)
                .take(per_page)
                .map(|r| release_json(&base, repo, r))
                .collect();
            Reply::json(200, &Value::Array(items))
        }
        ("POST", ["releases"]) => create(request, &base, repo),
        ("GET", ["releases", id]) => match find(repo, id).filter(|r| visible(r)) {
            Some(r) => Reply::json(200, &release_json(&base, repo, r)),
            None => not_found(),
        },
        ("PATCH", ["releases", id]) => update(request, &base, repo, id),
        ("DELETE", ["releases", id]) => {
            let Some(index) = repo.releases.iter().position(|r| r.id.to_string() == *id) else {
                return not_found();
            };
            let removed = repo.releases.remove(index);
            if removed.immutable {
                repo.locked_tags.push(removed.tag);
            }
            Reply::new(204, "application/json", "")
        }
        ("GET", ["releases", id, "assets"]) => match find(repo, id).filter(|r| visible(r)) {
            Some(r) => Reply::json(
                200,
                &Value::Array(
                    r.assets
                        .iter()
                        .map(|a| asset_json(&base, repo, r, a))
                        .collect(),
                ),
            ),
            None => not_found(),
        },
        ("POST", ["releases", id, "assets"]) => upload(request, &base, repo, id, query("name")),
        ("GET", ["releases", "assets", id]) => {
            let found = repo.releases.iter().filter(|r| visible(r)).find_map(|r| {
                r.assets
                    .iter()
                    .find(|a| a.id.to_string() == *id)
                    .map(|a| (r, a))
            });
            match found {
                None => not_found(),
                Some((_, a))
                    if request
                        .header("accept")
                        .is_some_and(|h| h.contains("application/octet-stream")) =>
                {
                    let mut reply = Reply::new(302, "text/html", "");
                    reply.headers.push((
                        "Location".to_owned(),
                        format!(
                            "http://127.0.0.1:{}/storage/{}?sig={SIGNATURE}",
                            repo.download_port, a.id
                        ),
                    ));
                    reply
                }
                Some((r, a)) => Reply::json(200, &asset_json(&base, repo, r, a)),
            }
        }
        ("DELETE", ["releases", "assets", id]) => {
            let Some(release) = repo
                .releases
                .iter_mut()
                .find(|r| r.assets.iter().any(|a| a.id.to_string() == *id))
            else {
                return not_found();
            };
            if release.immutable {
                return error(
                    422,
                    "Cannot delete assets of an immutable release",
                    "releases/assets",
                );
            }
            release.assets.retain(|a| a.id.to_string() != *id);
            Reply::new(204, "application/json", "")
        }
        _ => not_found(),
    };
    with_permissions(reply, needed)
}

fn find<'a>(repo: &'a Repo, id: &str) -> Option<&'a StubRelease> {
    repo.releases.iter().find(|r| r.id.to_string() == id)
}

fn create(request: &Request, base: &str, repo: &mut Repo) -> Reply {
    let Some(body) = body_json(request) else {
        return error(
            400,
            "Problems parsing JSON",
            "releases/releases#create-a-release",
        );
    };
    let Some(tag) = body["tag_name"].as_str().filter(|t| !t.is_empty()) else {
        return validation("Release", "missing_field", "tag_name");
    };
    match repo.races.front() {
        Some(Race::PublishedBeforeCreate) => {
            repo.races.pop_front();
            repo.add_release(tag, false);
        }
        Some(Race::DraftBeforeCreate) => {
            repo.races.pop_front();
            repo.add_release(tag, true);
        }
        _ => {}
    }
    if repo.locked_tags.iter().any(|t| t == tag) {
        return Reply::json(
            422,
            &json!({
                "message": "Validation Failed",
                "errors": [{ "resource": "Release", "code": "custom", "field": "tag_name", "message": "tag_name was used by an immutable release" }],
                "status": "422",
            }),
        );
    }
    if repo.releases.iter().any(|r| r.tag == tag && !r.draft) {
        return validation("Release", "already_exists", "tag_name");
    }
    let draft = body["draft"].as_bool().unwrap_or(false);
    let id = repo.add_release(tag, draft);
    let release = repo.releases.iter_mut().find(|r| r.id == id).unwrap();
    if let Some(commitish) = body["target_commitish"].as_str() {
        release.target_commitish = commitish.to_owned();
    }
    let release = release.clone();
    Reply::json(201, &release_json(base, repo, &release))
}

fn update(request: &Request, base: &str, repo: &mut Repo, id: &str) -> Reply {
    let Some(body) = body_json(request) else {
        return error(
            400,
            "Problems parsing JSON",
            "releases/releases#update-a-release",
        );
    };
    let immutable_setting = repo.immutable_releases;
    let Some(index) = repo.releases.iter().position(|r| r.id.to_string() == id) else {
        return not_found();
    };
    let tag = repo.releases[index].tag.clone();
    if let Some(draft) = body["draft"].as_bool() {
        let release = &repo.releases[index];
        if draft && !release.draft {
            if release.immutable {
                return error(
                    422,
                    "Cannot change an immutable release back to a draft",
                    "releases/releases",
                );
            }
        } else if !draft && release.draft {
            let other_published = repo
                .releases
                .iter()
                .any(|r| r.tag == tag && !r.draft && r.id != release.id);
            if other_published {
                return validation("Release", "already_exists", "tag_name");
            }
            let release = &mut repo.releases[index];
            release.draft = false;
            release.immutable = immutable_setting;
        }
    }
    let release = repo.releases[index].clone();
    Reply::json(200, &release_json(base, repo, &release))
}

fn upload(request: &Request, base: &str, repo: &mut Repo, id: &str, name: Option<String>) -> Reply {
    let Some(index) = repo.releases.iter().position(|r| r.id.to_string() == id) else {
        return not_found();
    };
    if repo.releases[index].immutable {
        return error(
            422,
            "Cannot upload assets to an immutable release",
            "releases/assets#upload-a-release-asset",
        );
    }
    if request.header("content-type").is_none() {
        return error(
            422,
            "Content-Type header is required",
            "releases/assets#upload-a-release-asset",
        );
    }
    let declared = request
        .header("content-length")
        .and_then(|l| l.parse::<usize>().ok());
    if declared != Some(request.body.len()) {
        return error(
            400,
            "Bad Content-Length",
            "releases/assets#upload-a-release-asset",
        );
    }
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        return validation("ReleaseAsset", "missing_field", "name");
    };
    let name = github_name(&name);
    if repo.releases[index].assets.iter().any(|a| a.name == name) {
        return validation("ReleaseAsset", "already_exists", "name");
    }
    if repo.races.front() == Some(&Race::UploadBreaks) {
        repo.races.pop_front();
        let asset_id = repo.id();
        repo.releases[index].assets.push(StubAsset {
            id: asset_id,
            name,
            state: "starter",
            bytes: request.body[..request.body.len() / 2].to_vec(),
        });
        return error(502, "Server Error", "releases/assets");
    }
    let asset_id = repo.id();
    let asset = StubAsset {
        id: asset_id,
        name,
        state: "uploaded",
        bytes: request.body.clone(),
    };
    repo.releases[index].assets.push(asset.clone());
    let release = repo.releases[index].clone();
    Reply::json(201, &asset_json(base, repo, &release, &asset))
}

/// The storage host behind the 302 of an asset download.
fn download(request: &Request, repo: &Mutex<Repo>) -> Reply {
    if request.header("authorization").is_some() {
        return Reply::new(
            400,
            "application/xml",
            "<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed</Message></Error>",
        );
    }
    let url = reqwest::Url::parse(&format!("http://storage{}", request.target)).unwrap();
    if !url.query_pairs().any(|(k, v)| k == "sig" && v == SIGNATURE) {
        return Reply::new(
            403,
            "application/xml",
            "<Error><Code>AuthenticationFailed</Code></Error>",
        );
    }
    let id = url.path().strip_prefix("/storage/").unwrap_or_default();
    let repo = repo.lock().unwrap();
    let asset = repo
        .releases
        .iter()
        .flat_map(|r| &r.assets)
        .find(|a| a.id.to_string() == id && a.state == "uploaded");
    match asset {
        Some(a) => Reply::new(200, "application/octet-stream", a.bytes.clone()),
        None => Reply::new(
            404,
            "application/xml",
            "<Error><Code>BlobNotFound</Code></Error>",
        ),
    }
}
