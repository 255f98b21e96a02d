//! Release assets: put files on the GitHub Release of a tag in the order GitHub's immutable
//! releases need — find or create a *draft*, upload every file, verify what the release holds,
//! then publish it. Protocol facts: ../shared/reference/publish.md §6.
//!
//! Design notes:
//! * Everything comes from the runner's environment: the repository from `GITHUB_REPOSITORY`,
//!   the tag from `--tag` or `GITHUB_REF` (`refs/tags/…`), the commit a new tag points at from
//!   `GITHUB_SHA`, the token from `GITHUB_TOKEN` (never a command-line value) and the API from
//!   `GITHUB_API_URL`, so GHES and test stubs work.
//! * Resumable: a re-run finds the draft (drafts are invisible to get-by-tag, so through the
//!   list), skips every asset whose bytes are already there and uploads the rest. "The same bytes"
//!   means the same sha256: from the asset's `digest` (github.com since 2025), else by
//!   downloading the asset through the API. Other bytes under the same name are an error naming
//!   both digests, decided before the first upload; `clobber` replaces them while the release is
//!   a draft only — a published release's assets are never replaced.
//! * A published release with every asset is left alone. One that lacks assets gets them when
//!   GitHub allows; an immutable one cannot (`immutable: true`, or a 422 on the upload), and the
//!   error names the missing assets.
//! * Concurrent runs: GitHub does not de-duplicate drafts by tag, so after creating one we list
//!   the tag's releases again and keep the oldest draft (deleting ours if it is not that one);
//!   a create refused because a published release appeared meanwhile (422 `already_exists`)
//!   falls back to that release; an asset uploaded meanwhile (422 `already_exists`) is compared
//!   by digest.
//! * Permissions: the first write (creating the draft, or the first upload to an existing
//!   release) shows a token that may not write; GitHub's 403 comes with
//!   `x-accepted-github-permissions: contents=write`, which becomes the `permissions:` line to
//!   add. Nothing has been uploaded at that point.
//! * Nothing is reported uploaded or skipped before the release's asset list shows it with the
//!   local file's size and sha256.
//! * octocrab does the JSON API. The asset upload and download are our own reqwest requests:
//!   the upload streams the file with an explicit Content-Length, percent-encodes the name and is
//!   never retried (octocrab would hold the file in memory and retry the POST on 5xx, which
//!   creates duplicates or half-uploaded `starter` assets); the download follows GitHub's
//!   redirect to the storage host without the token (reqwest drops `Authorization` on a redirect
//!   to another origin).
//! * The token is sent only to the API's own origin (or uploads.github.com for github.com).
//!
//! Layout: this module finds the release and plans; `assets` (the local files and their asset
//! names) and `transfer` (the asset upload, the verification, publishing the draft).

mod assets;
mod transfer;

pub(crate) use assets::{LocalAsset, collect_assets};

use std::path::PathBuf;
use std::time::Duration;

use futures_util::StreamExt as _;
use octocrab::Octocrab;
use octocrab::models::repos::{Asset, Release};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use super::env_nonempty;
use crate::net::secret::{Secret, redact_url};
use crate::publish::dist::hex;
use crate::publish::endpoints::{GITHUB_API, GITHUB_UPLOADS};

/// What went wrong, with the thing it concerns.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReleaseError {
    /// No `GITHUB_REPOSITORY`.
    #[error(
        "GITHUB_REPOSITORY is not set: run this in a GitHub Actions job or set it to `owner/name`"
    )]
    MissingRepository,
    /// `GITHUB_REPOSITORY` is not `owner/name`.
    #[error("GITHUB_REPOSITORY `{0}` is not `owner/name`")]
    BadRepository(String),
    /// No tag given and `GITHUB_REF` is not a tag.
    #[error("cannot tell which release to upload to: {why}; pass --tag TAG or run on a tag push")]
    NoTag {
        /// What `GITHUB_REF` was.
        why: String,
    },
    /// No token.
    #[error(
        "GITHUB_TOKEN is not set: give the step `env: GITHUB_TOKEN: ${{{{ github.token }}}}` \
         and the job `permissions: contents: write`"
    )]
    MissingToken,
    /// `GITHUB_API_URL` is not an http(s) URL.
    #[error("GITHUB_API_URL `{0}` is not an http(s) URL")]
    BadApiUrl(String),
    /// A path given cannot be read.
    #[error("`{}`: {source}", path.display())]
    Path {
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Nothing to upload.
    #[error("no files to upload in {0}")]
    NoFiles(String),
    /// Two files with the same asset name.
    #[error("`{}` and `{}` would both be asset `{name}`", first.display(), second.display())]
    DuplicateName {
        /// The asset name (as GitHub stores it).
        name: String,
        /// One file.
        first: PathBuf,
        /// The other.
        second: PathBuf,
    },
    /// An asset of that name with other bytes is on the release.
    #[error(
        "release `{tag}` already has an asset `{name}` with other bytes: sha256 `{remote}` on the \
         release, `{local}` in `{}`\nhint: {}",
        path.display(),
        if *draft {
            "the release is still a draft: pass --clobber to replace the asset, or delete it on GitHub"
        } else {
            "a published release's assets are never replaced: release the new files under a new tag"
        }
    )]
    DigestMismatch {
        /// The tag.
        tag: String,
        /// The asset name.
        name: String,
        /// The local file.
        path: PathBuf,
        /// Its sha256 (hex).
        local: String,
        /// The asset's sha256 (hex).
        remote: String,
        /// Whether the release is a draft (where `--clobber` may replace it).
        draft: bool,
    },
    /// The release is published and immutable, and lacks assets.
    #[error(
        "release `{tag}` is published and immutable, so GitHub accepts no new assets ({detail}); \
         missing: {}\nhint: an immutable release cannot change: publish these files in a release \
         of a new tag (`wheelwright release` uploads every file to a draft before it publishes, \
         so its releases are complete when they become immutable)",
        missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")
    )]
    Immutable {
        /// The tag.
        tag: String,
        /// The assets it lacks.
        missing: Vec<String>,
        /// How we know (`immutable: true`, or GitHub's 422).
        detail: String,
    },
    /// The token may not do this; GitHub said which permission it needs.
    #[error(
        "{what}: HTTP 403: {message}; the token needs `{accepted}`\nhint: add `permissions: {}` to \
         the job that runs `wheelwright release` (with the action: the `command: publish` job); \
         a job's GITHUB_TOKEN has only the permissions its workflow grants",
        yaml_permissions(accepted)
    )]
    Permission {
        /// What we were doing.
        what: String,
        /// GitHub's message.
        message: String,
        /// `x-accepted-github-permissions`, e.g. `contents=write`.
        accepted: String,
    },
    /// The API answered with an error.
    #[error("{what}: HTTP {status}: {message}{}", hint.map(|h| format!(" ({h})")).unwrap_or_default())]
    Api {
        /// What we were doing.
        what: String,
        /// HTTP status.
        status: u16,
        /// GitHub's message.
        message: String,
        /// What to do about it.
        hint: Option<&'static str>,
    },
    /// The API could not be reached or answered nonsense.
    #[error("{what}: {detail}")]
    Transport {
        /// What we were doing.
        what: String,
        /// The error chain.
        detail: String,
    },
    /// The release's upload URL is not where the token may go.
    #[error(
        "refusing to send the token to `{url}`: the release's upload_url is not on `{expected}`"
    )]
    UntrustedUploadUrl {
        /// The upload URL (without query).
        url: String,
        /// The origin we trust.
        expected: String,
    },
    /// After the uploads, the release does not hold what was sent.
    #[error("release `{tag}`: asset `{name}` is not what was uploaded: {why}")]
    NotVerified {
        /// The tag.
        tag: String,
        /// The asset name.
        name: String,
        /// What differs.
        why: String,
    },
}

type Result<T, E = ReleaseError> = std::result::Result<T, E>;

/// `contents=write,actions=read; other=admin` (GitHub's alternatives are separated by `;`, the
/// permissions of one alternative by `,`) as the YAML of the first alternative:
/// `contents: write, actions: read`.
fn yaml_permissions(accepted: &str) -> String {
    let first = accepted.split(';').next().unwrap_or(accepted);
    first
        .split(',')
        .filter_map(|p| p.split_once('='))
        .map(|(name, level)| format!("{}: {}", name.trim(), level.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The repository, tag and commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// Repository owner.
    pub owner: String,
    /// Repository name.
    pub repo: String,
    /// The tag of the release.
    pub tag: String,
    /// The commit a tag that does not exist yet is created at (`GITHUB_SHA`).
    pub commit: Option<String>,
}

impl Target {
    /// From `--tag` (or `GITHUB_REF`), `GITHUB_REPOSITORY` and `GITHUB_SHA`.
    pub(crate) fn from_env(tag: Option<&str>) -> Result<Self> {
        let repository =
            env_nonempty("GITHUB_REPOSITORY").ok_or(ReleaseError::MissingRepository)?;
        let (owner, repo) = match repository.split_once('/') {
            Some((o, r)) if !o.is_empty() && !r.is_empty() && !r.contains('/') => {
                (o.to_owned(), r.to_owned())
            }
            _ => return Err(ReleaseError::BadRepository(repository)),
        };
        let tag = match tag.filter(|t| !t.trim().is_empty()) {
            Some(tag) => tag.to_owned(),
            None => tag_from_ref(std::env::var("GITHUB_REF").ok().as_deref())?,
        };
        Ok(Target {
            owner,
            repo,
            tag,
            commit: env_nonempty("GITHUB_SHA"),
        })
    }
}

/// The tag of a `refs/tags/…` ref.
pub(crate) fn tag_from_ref(github_ref: Option<&str>) -> Result<String> {
    match github_ref.filter(|r| !r.is_empty()) {
        None => Err(ReleaseError::NoTag {
            why: "GITHUB_REF is not set".to_owned(),
        }),
        Some(r) => match r.strip_prefix("refs/tags/") {
            Some(tag) if !tag.is_empty() => Ok(tag.to_owned()),
            _ => Err(ReleaseError::NoTag {
                why: format!("GITHUB_REF is `{r}`, not a tag"),
            }),
        },
    }
}

/// `GITHUB_TOKEN`, masked on Actions.
pub(crate) fn token_from_env() -> Result<Secret> {
    env_nonempty("GITHUB_TOKEN")
        .map(Secret::masked)
        .ok_or(ReleaseError::MissingToken)
}

/// What happened to one asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Action {
    /// Uploaded (it was not there).
    Uploaded,
    /// Already there with the same sha256.
    Skipped,
    /// Deleted (other bytes with `clobber` on a draft, or a broken leftover) and uploaded again.
    Replaced,
}

/// One asset's outcome, verified on the release.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct AssetReport {
    /// Asset name on the release.
    pub name: String,
    /// The local file.
    pub path: PathBuf,
    /// Size in bytes.
    pub size: u64,
    /// sha256 (hex), the same on the release.
    pub sha256: String,
    /// What was done.
    pub action: Action,
}

/// The outcome for the release.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ReleaseReport {
    /// The tag.
    pub tag: String,
    /// The release page.
    pub release_url: String,
    /// Whether this run created the release (as a draft).
    pub created: bool,
    /// Whether this run published it.
    pub published: bool,
    /// Whether the release is a draft now.
    pub draft: bool,
    /// Whether it was already published with every file, and nothing was done.
    pub already_complete: bool,
    /// Per asset.
    pub assets: Vec<AssetReport>,
}

/// Where the API is, and where uploads may go.
#[derive(Debug, Clone)]
pub(crate) struct Endpoints {
    /// API base, e.g. `https://api.github.com` or `https://HOST/api/v3`.
    pub api: reqwest::Url,
    /// Upload base (octocrab's `upload_uri`).
    pub upload: reqwest::Url,
}

impl Endpoints {
    /// From `GITHUB_API_URL` (default github.com's API).
    pub(crate) fn from_env() -> Result<Self> {
        Self::new(&env_nonempty("GITHUB_API_URL").unwrap_or_else(|| GITHUB_API.to_owned()))
    }

    /// From an API base URL: github.com uploads go to uploads.github.com, GHES uploads to
    /// `/api/uploads` on the same host, anything else (a stub) to the API's own origin.
    pub(crate) fn new(api: &str) -> Result<Self> {
        let bad = || ReleaseError::BadApiUrl(redact_url(api));
        let api_url = reqwest::Url::parse(api).map_err(|_| bad())?;
        if !matches!(api_url.scheme(), "http" | "https") || api_url.host_str().is_none() {
            return Err(bad());
        }
        let mut upload = api_url.clone();
        if reqwest::Url::parse(GITHUB_API).is_ok_and(|known| known.origin() == api_url.origin()) {
            upload = reqwest::Url::parse(GITHUB_UPLOADS).map_err(|_| bad())?;
        } else if api_url.path().trim_end_matches('/').ends_with("/api/v3") {
            upload.set_path("/api/uploads");
        }
        Ok(Endpoints {
            api: api_url,
            upload,
        })
    }

    fn upload_origin(&self) -> String {
        self.upload.origin().ascii_serialization()
    }

    /// `{api}/repos/{owner}/{repo}/{rest}`.
    fn repo_url(&self, target: &Target, rest: &str) -> String {
        format!(
            "{}/repos/{}/{}/{rest}",
            self.api.as_str().trim_end_matches('/'),
            component(&target.owner),
            component(&target.repo)
        )
    }
}

/// Options of an upload.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Options {
    /// Replace assets of the same name and other bytes while the release is a draft.
    pub clobber: bool,
    /// Leave the release a draft (a later run without it publishes it).
    pub draft: bool,
}

/// The release client.
pub(crate) struct Releases {
    octo: Octocrab,
    http: reqwest::Client,
    token: Secret,
    endpoints: Endpoints,
}

/// An error response, from octocrab or from our own requests.
struct ApiFailure {
    status: u16,
    message: String,
    /// `errors[].code` of a validation failure.
    codes: Vec<String>,
    /// `x-accepted-github-permissions`: what the endpoint needs, e.g. `contents=write`.
    accepted: Option<String>,
}

impl ApiFailure {
    fn accepted_of(headers: &reqwest::header::HeaderMap) -> Option<String> {
        headers
            .get("x-accepted-github-permissions")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| v.contains('='))
            .map(str::to_owned)
    }

    fn into_error(self, what: String) -> ReleaseError {
        if let (403, Some(accepted)) = (self.status, &self.accepted) {
            return ReleaseError::Permission {
                what,
                message: self.message,
                accepted: accepted.clone(),
            };
        }
        let hint = match self.status {
            401 => Some("the token is invalid or expired"),
            403 => Some("the token needs `permissions: contents: write`"),
            404 => Some("check GITHUB_REPOSITORY and that the token can see the repository"),
            500..=599 => Some("not retried: check the release for a broken asset and run again"),
            _ => None,
        };
        let mut message = self.message;
        if !self.codes.is_empty() {
            message.push_str(&format!(" ({})", self.codes.join(", ")));
        }
        ReleaseError::Api {
            what,
            status: self.status,
            message,
            hint,
        }
    }
}

fn error_codes(errors: Option<&[serde_json::Value]>) -> Vec<String> {
    errors
        .unwrap_or_default()
        .iter()
        .filter_map(|e| e.get("code").and_then(|c| c.as_str()).map(str::to_owned))
        .collect()
}

fn octo_error(what: String, err: octocrab::Error) -> ReleaseError {
    if let octocrab::Error::GitHub { source, .. } = &err {
        return ApiFailure {
            status: source.status_code.as_u16(),
            message: source.message.clone(),
            codes: error_codes(source.errors.as_deref()),
            accepted: source.headers.as_ref().and_then(ApiFailure::accepted_of),
        }
        .into_error(what);
    }
    ReleaseError::Transport {
        what,
        detail: crate::net::error_chain(&err),
    }
}

/// A failed request of ours as a transport error of `what` (without the URL: it may be signed).
fn transport(what: String) -> impl FnOnce(reqwest::Error) -> ReleaseError {
    move |e| ReleaseError::Transport {
        what,
        detail: crate::net::error_chain(&e.without_url()),
    }
}

fn is_status(err: &octocrab::Error, status: u16) -> bool {
    matches!(err, octocrab::Error::GitHub { source, .. } if source.status_code.as_u16() == status)
}

/// Everything but RFC 3986's unreserved characters gets percent-encoded.
const COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes a path segment or query value (a tag may contain `/`, a file name `+`).
fn component(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, COMPONENT).to_string()
}

/// `sha256:<hex>` → `<hex>` (lower case).
fn digest_hex(digest: Option<&str>) -> Option<String> {
    digest
        .and_then(|d| d.strip_prefix("sha256:"))
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_ascii_lowercase)
}

fn asset_size(asset: &Asset) -> u64 {
    u64::try_from(asset.size).unwrap_or(0)
}

/// What a POST of one asset came to, where the caller decides what it means.
enum Posted {
    /// 201.
    Created,
    /// 422 `already_exists`: an asset of that name appeared since we listed.
    AlreadyExists,
    /// 422 naming immutability.
    Immutable(String),
}

/// What to do with one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Upload,
    /// Delete this asset first.
    Replace(u64),
    /// There with the same bytes (asset id).
    Skip(u64),
}

impl Releases {
    /// A client for `endpoints` with `token`.
    pub(crate) fn new(token: Secret, endpoints: Endpoints) -> Result<Self> {
        let setup = |detail: String| ReleaseError::Transport {
            what: "cannot set up the GitHub client".to_owned(),
            detail,
        };
        // Octocrab runs on our client: the same certificates as every other connection.
        let http =
            super::http_client(Duration::from_secs(300)).map_err(|e| setup(e.to_string()))?;
        let octo = Octocrab::builder()
            .personal_token(token.expose().to_owned())
            .base_uri(endpoints.api.as_str())
            .map_err(|e| setup(e.to_string()))?
            .upload_uri(endpoints.upload.as_str())
            .map_err(|e| setup(e.to_string()))?
            .build_with_reqwest(http.clone())
            .map_err(|e| setup(e.to_string()))?;
        Ok(Releases {
            octo,
            http,
            token,
            endpoints,
        })
    }

    /// Every release of the tag the token can see (drafts only with push access), oldest first.
    async fn releases_of_tag(&self, target: &Target) -> Result<Vec<Release>> {
        let mut found = Vec::new();
        for page in 1u32..=100 {
            let list = self
                .octo
                .repos(&target.owner, &target.repo)
                .releases()
                .list()
                .per_page(100u8)
                .page(page)
                .send()
                .await
                .map_err(|e| {
                    octo_error(
                        format!("listing the releases of {}/{}", target.owner, target.repo),
                        e,
                    )
                })?;
            let count = list.items.len();
            found.extend(list.items.into_iter().filter(|r| r.tag_name == target.tag));
            if count < 100 {
                break;
            }
        }
        found.sort_by_key(|r| r.id.into_inner());
        Ok(found)
    }

    /// The release of `target.tag`: the published one, else the oldest draft; `None` when there
    /// is none.
    async fn find(&self, target: &Target) -> Result<Option<Release>> {
        match self
            .octo
            .repos(&target.owner, &target.repo)
            .releases()
            .get_by_tag(&component(&target.tag))
            .await
        {
            Ok(release) => return Ok(Some(release)),
            Err(e) if is_status(&e, 404) => {}
            Err(e) => {
                return Err(octo_error(
                    format!("looking up release `{}`", target.tag),
                    e,
                ));
            }
        }
        // Drafts are invisible to get_by_tag.
        let releases = self.releases_of_tag(target).await?;
        let published = releases.iter().position(|r| !r.draft);
        Ok(match published {
            Some(i) => releases.into_iter().nth(i),
            None => releases.into_iter().next(),
        })
    }

    /// The release of the tag, created as a draft when missing; whether we created it.
    async fn find_or_create_draft(&self, target: &Target) -> Result<(Release, bool)> {
        if let Some(release) = self.find(target).await? {
            return Ok((release, false));
        }
        let what = || {
            format!(
                "creating a draft release `{}` in {}/{}",
                target.tag, target.owner, target.repo
            )
        };
        let handler = self.octo.repos(&target.owner, &target.repo);
        let releases = handler.releases();
        let mut create = releases.create(&target.tag).name(&target.tag).draft(true);
        if let Some(commit) = &target.commit {
            create = create.target_commitish(commit);
        }
        let ours = match create.send().await {
            Ok(release) => release,
            // A published release of the tag appeared since we looked.
            Err(e) if is_status(&e, 422) => {
                return match self.find(target).await? {
                    Some(release) => Ok((release, false)),
                    None => Err(octo_error(what(), e)),
                };
            }
            Err(e) => return Err(octo_error(what(), e)),
        };
        // GitHub keeps several drafts of one tag: when another run created one too, everyone
        // settles on the oldest, and the newer drafts (empty) are deleted by their creators.
        let settled = self
            .releases_of_tag(target)
            .await?
            .into_iter()
            .min_by_key(|r| (r.draft, r.id.into_inner()));
        match settled {
            Some(other) if other.id != ours.id => {
                self.octo
                    .repos(&target.owner, &target.repo)
                    .releases()
                    .delete(ours.id.into_inner())
                    .await
                    .map_err(|e| {
                        octo_error(
                            format!("deleting the duplicate draft of `{}`", target.tag),
                            e,
                        )
                    })?;
                crate::ui::message(&format!(
                    "another run created release `{}` at the same time; using that one",
                    target.tag
                ));
                Ok((other, false))
            }
            _ => Ok((ours, true)),
        }
    }

    async fn list_assets(&self, target: &Target, release: &Release) -> Result<Vec<Asset>> {
        let mut assets = Vec::new();
        for page in 1u32..=100 {
            let list = self
                .octo
                .repos(&target.owner, &target.repo)
                .releases()
                .assets(release.id.into_inner())
                .per_page(100u8)
                .page(page)
                .send()
                .await
                .map_err(|e| {
                    octo_error(format!("listing the assets of release `{}`", target.tag), e)
                })?;
            let count = list.items.len();
            assets.extend(list.items);
            if count < 100 {
                break;
            }
        }
        Ok(assets)
    }

    /// The asset's sha256: its `digest`, else downloaded through the API and hashed.
    async fn remote_sha256(&self, target: &Target, asset: &Asset) -> Result<String> {
        if let Some(hex) = digest_hex(asset.digest.as_deref()) {
            return Ok(hex);
        }
        let what = || {
            format!(
                "downloading asset `{}` of release `{}` to compare its sha256 (the API gives no digest)",
                asset.name, target.tag
            )
        };
        let url = self.endpoints.repo_url(
            target,
            &format!("releases/assets/{}", asset.id.into_inner()),
        );
        let response = self
            .authorized(reqwest::Method::GET, url, "application/octet-stream", &what)?
            .send()
            .await
            .map_err(transport(what()))?;
        if !response.status().is_success() {
            return Err(failure_of(response).await.into_error(what()));
        }
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut body = response.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(transport(what()))?;
            size += chunk.len() as u64;
            hasher.update(&chunk);
        }
        if size != asset_size(asset) {
            return Err(ReleaseError::Transport {
                what: what(),
                detail: format!("got {size} bytes, the asset has {}", asset_size(asset)),
            });
        }
        Ok(hex(&hasher.finalize()))
    }

    /// A request of ours to the API (or its upload host) with the token, marked sensitive.
    fn authorized(
        &self,
        method: reqwest::Method,
        url: impl reqwest::IntoUrl,
        accept: &str,
        what: &dyn Fn() -> String,
    ) -> Result<reqwest::RequestBuilder> {
        let mut auth =
            reqwest::header::HeaderValue::from_str(&format!("Bearer {}", self.token.expose()))
                .map_err(|_| ReleaseError::Transport {
                    what: what(),
                    detail: "GITHUB_TOKEN contains characters not allowed in a header".to_owned(),
                })?;
        auth.set_sensitive(true);
        Ok(self
            .http
            .request(method, url)
            .header(reqwest::header::AUTHORIZATION, auth)
            .header(reqwest::header::ACCEPT, accept)
            .header("x-github-api-version", "2022-11-28"))
    }

    /// The asset on the release that is `file`: the same name, else (GitHub renamed it in a way
    /// we did not predict) one with the same size and `digest`.
    fn match_asset<'a>(existing: &'a [Asset], file: &LocalAsset) -> Option<&'a Asset> {
        existing.iter().find(|a| a.name == file.name).or_else(|| {
            existing.iter().find(|a| {
                asset_size(a) == file.size
                    && digest_hex(a.digest.as_deref()).as_deref() == Some(&file.sha256)
            })
        })
    }

    /// Puts `files` on the release of `target.tag`: draft, uploads, verification, publication.
    pub(crate) async fn upload(
        &self,
        target: &Target,
        files: &[LocalAsset],
        options: Options,
    ) -> Result<ReleaseReport> {
        let (release, created) = self.find_or_create_draft(target).await?;
        crate::ui::message(&if created {
            format!("created draft release `{}`", target.tag)
        } else if release.draft {
            format!("found draft release `{}`", target.tag)
        } else {
            format!("found published release `{}`", target.tag)
        });
        let mut plan = self.plan(target, &release, files, options).await?;
        let report =
            |plan: &[(&LocalAsset, Step)], published: bool, release_url: String| ReleaseReport {
                tag: target.tag.clone(),
                release_url,
                created,
                published,
                draft: release.draft && !published,
                already_complete: !release.draft && unsent(plan).is_empty(),
                assets: reports(plan),
            };
        if !release.draft && unsent(&plan).is_empty() {
            crate::ui::message(&format!(
                "release `{}` is published with all {} assets (sha256 verified); nothing to do",
                target.tag,
                files.len()
            ));
            return Ok(report(&plan, false, release.html_url.to_string()));
        }
        if !release.draft && release.immutable == Some(true) {
            return Err(ReleaseError::Immutable {
                tag: target.tag.clone(),
                missing: unsent(&plan),
                detail: "the release says `immutable: true`".to_owned(),
            });
        }
        self.send(target, &release, &mut plan).await?;
        self.verify(target, &release, &plan).await?;
        if release.draft && !options.draft {
            let url = self.publish(target, &release).await?;
            return Ok(report(&plan, true, url));
        }
        Ok(report(&plan, false, release.html_url.to_string()))
    }

    /// What to do with each file, decided before anything changes: a conflict refuses here.
    async fn plan<'f>(
        &self,
        target: &Target,
        release: &Release,
        files: &'f [LocalAsset],
        options: Options,
    ) -> Result<Vec<(&'f LocalAsset, Step)>> {
        let existing = self.list_assets(target, release).await?;
        let mut plan = Vec::new();
        for file in files {
            let step = match Self::match_asset(&existing, file) {
                None => Step::Upload,
                Some(a) if a.state != "uploaded" => Step::Replace(a.id.into_inner()),
                Some(a) => {
                    let remote = self.remote_sha256(target, a).await?;
                    if remote == file.sha256 && asset_size(a) == file.size {
                        Step::Skip(a.id.into_inner())
                    } else if options.clobber && release.draft {
                        Step::Replace(a.id.into_inner())
                    } else {
                        return Err(mismatch(target, release, a, file, remote));
                    }
                }
            };
            plan.push((file, step));
        }
        Ok(plan)
    }
}

/// The error of a failed response of our own requests (GitHub's JSON error body).
async fn failure_of(response: reqwest::Response) -> ApiFailure {
    let status = response.status().as_u16();
    let accepted = ApiFailure::accepted_of(response.headers());
    let bytes = response.bytes().await.unwrap_or_default();
    let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let message = json.get("message").and_then(|m| m.as_str()).map_or_else(
        || {
            String::from_utf8_lossy(&bytes)
                .lines()
                .next()
                .unwrap_or("")
                .to_owned()
        },
        str::to_owned,
    );
    ApiFailure {
        status,
        message,
        codes: error_codes(
            json.get("errors")
                .and_then(|e| e.as_array())
                .map(Vec::as_slice),
        ),
        accepted,
    }
}

/// The names of the files not on the release yet.
fn unsent(plan: &[(&LocalAsset, Step)]) -> Vec<String> {
    plan.iter()
        .filter(|(_, s)| !matches!(s, Step::Skip(_)))
        .map(|(f, _)| f.name.clone())
        .collect()
}

fn mismatch(
    target: &Target,
    release: &Release,
    asset: &Asset,
    file: &LocalAsset,
    remote: String,
) -> ReleaseError {
    ReleaseError::DigestMismatch {
        tag: target.tag.clone(),
        name: asset.name.clone(),
        path: file.path.clone(),
        local: file.sha256.clone(),
        remote,
        draft: release.draft,
    }
}

fn reports(plan: &[(&LocalAsset, Step)]) -> Vec<AssetReport> {
    plan.iter()
        .map(|(file, step)| AssetReport {
            name: file.name.clone(),
            path: file.path.clone(),
            size: file.size,
            sha256: file.sha256.clone(),
            action: match step {
                Step::Skip(_) => Action::Skipped,
                Step::Replace(_) => Action::Replaced,
                Step::Upload => Action::Uploaded,
            },
        })
        .collect()
}

#[cfg(test)]
mod tests;
