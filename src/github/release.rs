//! Release assets: upload files to the GitHub Release of a tag, creating the release when it is
//! missing. Protocol facts: ../shared/reference/publish.md §6.
//!
//! Design notes:
//! * Everything comes from the runner's environment: the repository from `GITHUB_REPOSITORY`,
//!   the tag from `--tag` or `GITHUB_REF` (`refs/tags/…`), the token from `GITHUB_TOKEN` (never
//!   a command-line value) and the API from `GITHUB_API_URL`, so GHES and test stubs work.
//! * octocrab does the JSON API (find the release — drafts are only visible in the list —,
//!   create it, list and delete assets). The asset upload itself is our own reqwest POST:
//!   octocrab would hold the whole file in memory, leave the name unencoded and retry the POST
//!   on 5xx, which creates duplicates or half-uploaded `starter` assets. Ours streams the file
//!   with an explicit Content-Length, percent-encodes the name and is never retried.
//! * All name/size conflicts are checked before the first upload, so a refusal leaves the release
//!   as it was. An asset with the same name and size is taken as already uploaded (re-runs are
//!   idempotent); another size is an error unless `clobber`; a leftover `starter` asset from an
//!   interrupted upload is deleted and uploaded again.
//! * The token is sent only to the API's own origin (or uploads.github.com for github.com).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use octocrab::Octocrab;
use octocrab::models::repos::{Asset, Release};
use serde::Serialize;

use super::{Secret, env_nonempty, redact_url};

/// The public API of github.com.
pub const GITHUB_API: &str = "https://api.github.com";

/// What went wrong, with the thing it concerns.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
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
        /// The asset name.
        name: String,
        /// One file.
        first: PathBuf,
        /// The other.
        second: PathBuf,
    },
    /// An asset of that name with another size is on the release.
    #[error(
        "release {tag} already has an asset `{name}` of {remote} bytes, but `{}` is {local} bytes; \
         pass --clobber to replace it",
        path.display()
    )]
    SizeMismatch {
        /// The tag.
        tag: String,
        /// The asset name.
        name: String,
        /// The local file.
        path: PathBuf,
        /// Its size.
        local: u64,
        /// The asset's size.
        remote: u64,
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
}

type Result<T, E = ReleaseError> = std::result::Result<T, E>;

/// The repository and tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Repository owner.
    pub owner: String,
    /// Repository name.
    pub repo: String,
    /// The tag of the release.
    pub tag: String,
}

impl Target {
    /// From `--tag` (or `GITHUB_REF`) and `GITHUB_REPOSITORY`.
    pub fn from_env(tag: Option<&str>) -> Result<Self> {
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
        Ok(Target { owner, repo, tag })
    }
}

/// The tag of a `refs/tags/…` ref.
pub fn tag_from_ref(github_ref: Option<&str>) -> Result<String> {
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
pub fn token_from_env() -> Result<Secret> {
    env_nonempty("GITHUB_TOKEN")
        .map(Secret::new)
        .ok_or(ReleaseError::MissingToken)
}

/// One file to upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalAsset {
    /// The asset name (the file's name).
    pub name: String,
    /// The file.
    pub path: PathBuf,
    /// Its size.
    pub size: u64,
}

/// The files to upload: the files given, and the regular files directly inside each directory
/// given (sorted; hidden files skipped). Two files with the same name are an error.
pub fn collect_assets(paths: &[PathBuf]) -> Result<Vec<LocalAsset>> {
    let mut found: Vec<PathBuf> = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|source| ReleaseError::Path {
            path: path.clone(),
            source,
        })?;
        if meta.is_dir() {
            let mut entries = Vec::new();
            for entry in std::fs::read_dir(path).map_err(|source| ReleaseError::Path {
                path: path.clone(),
                source,
            })? {
                let entry = entry.map_err(|source| ReleaseError::Path {
                    path: path.clone(),
                    source,
                })?;
                let hidden = entry.file_name().to_string_lossy().starts_with('.');
                if !hidden && entry.path().is_file() {
                    entries.push(entry.path());
                }
            }
            entries.sort();
            found.extend(entries);
        } else {
            found.push(path.clone());
        }
    }
    let mut by_name: BTreeMap<String, LocalAsset> = BTreeMap::new();
    for path in found {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let size = std::fs::metadata(&path)
            .map_err(|source| ReleaseError::Path {
                path: path.clone(),
                source,
            })?
            .len();
        if let Some(first) = by_name.get(&name) {
            if same_file(&first.path, &path) {
                continue;
            }
            return Err(ReleaseError::DuplicateName {
                name,
                first: first.path.clone(),
                second: path,
            });
        }
        by_name.insert(name.clone(), LocalAsset { name, path, size });
    }
    if by_name.is_empty() {
        let shown: Vec<String> = paths.iter().map(|p| format!("`{}`", p.display())).collect();
        return Err(ReleaseError::NoFiles(shown.join(", ")));
    }
    Ok(by_name.into_values().collect())
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// What happened to one asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Uploaded (it was not there).
    Uploaded,
    /// Already there with the same size.
    Skipped,
    /// Deleted (another size with `clobber`, or a broken leftover) and uploaded again.
    Replaced,
}

/// One asset's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct AssetReport {
    /// Asset name.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// What was done.
    pub action: Action,
    /// Download URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// The outcome for the release.
#[derive(Debug, Clone, Serialize)]
pub struct ReleaseReport {
    /// The tag.
    pub tag: String,
    /// The release page.
    pub release_url: String,
    /// Whether we created the release.
    pub created: bool,
    /// Per asset.
    pub assets: Vec<AssetReport>,
}

/// Where the API is, and where uploads may go.
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// API base, e.g. `https://api.github.com` or `https://HOST/api/v3`.
    pub api: reqwest::Url,
    /// Upload base (octocrab's `upload_uri`).
    pub upload: reqwest::Url,
}

impl Endpoints {
    /// From `GITHUB_API_URL` (default github.com's API).
    pub fn from_env() -> Result<Self> {
        Self::new(&env_nonempty("GITHUB_API_URL").unwrap_or_else(|| GITHUB_API.to_owned()))
    }

    /// From an API base URL: github.com uploads go to uploads.github.com, GHES uploads to
    /// `/api/uploads` on the same host, anything else (a stub) to the API's own origin.
    pub fn new(api: &str) -> Result<Self> {
        let bad = || ReleaseError::BadApiUrl(redact_url(api));
        let api_url = reqwest::Url::parse(api).map_err(|_| bad())?;
        if !matches!(api_url.scheme(), "http" | "https") || api_url.host_str().is_none() {
            return Err(bad());
        }
        let mut upload = api_url.clone();
        if api_url.host_str() == Some("api.github.com") {
            upload = reqwest::Url::parse("https://uploads.github.com/").map_err(|_| bad())?;
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
}

/// Options of an upload.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Replace assets of the same name and another size.
    pub clobber: bool,
}

/// The release client.
pub struct Releases {
    octo: Octocrab,
    http: reqwest::Client,
    token: Secret,
    endpoints: Endpoints,
}

fn octo_error(what: String, err: octocrab::Error) -> ReleaseError {
    if let octocrab::Error::GitHub { source, .. } = &err {
        let status = source.status_code.as_u16();
        let hint = match status {
            401 => Some("the token is invalid or expired"),
            403 => Some("the token needs `permissions: contents: write`"),
            404 => Some("check GITHUB_REPOSITORY and that the token can see the repository"),
            _ => None,
        };
        return ReleaseError::Api {
            what,
            status,
            message: source.message.clone(),
            hint,
        };
    }
    ReleaseError::Transport {
        what,
        detail: error_chain(&err),
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
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

impl Releases {
    /// A client for `endpoints` with `token`.
    pub fn new(token: Secret, endpoints: Endpoints) -> Result<Self> {
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

    /// The release of `target.tag`, drafts included; `None` when there is none.
    async fn find(&self, target: &Target) -> Result<Option<Release>> {
        let releases = self.octo.repos(&target.owner, &target.repo);
        match releases
            .releases()
            .get_by_tag(&component(&target.tag))
            .await
        {
            Ok(release) => return Ok(Some(release)),
            Err(e) if is_status(&e, 404) => {}
            Err(e) => return Err(octo_error(format!("looking up release {}", target.tag), e)),
        }
        // Drafts are invisible to get_by_tag: look through the list.
        for page in 1u32..=100 {
            let list = releases
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
            if let Some(release) = list.items.into_iter().find(|r| r.tag_name == target.tag) {
                return Ok(Some(release));
            }
            if count < 100 {
                break;
            }
        }
        Ok(None)
    }

    /// The release of the tag, created (published, named after the tag) when missing.
    async fn find_or_create(&self, target: &Target) -> Result<(Release, bool)> {
        if let Some(release) = self.find(target).await? {
            return Ok((release, false));
        }
        let created = self
            .octo
            .repos(&target.owner, &target.repo)
            .releases()
            .create(&target.tag)
            .name(&target.tag)
            .send()
            .await;
        match created {
            Ok(release) => Ok((release, true)),
            // Another job created it meanwhile.
            Err(e) if is_status(&e, 422) => match self.find(target).await? {
                Some(release) => Ok((release, false)),
                None => Err(octo_error(format!("creating release {}", target.tag), e)),
            },
            Err(e) => Err(octo_error(format!("creating release {}", target.tag), e)),
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
                    octo_error(format!("listing the assets of release {}", target.tag), e)
                })?;
            let count = list.items.len();
            assets.extend(list.items);
            if count < 100 {
                break;
            }
        }
        Ok(assets)
    }

    /// Uploads `files` to the release of `target.tag`.
    pub async fn upload(
        &self,
        target: &Target,
        files: &[LocalAsset],
        options: Options,
    ) -> Result<ReleaseReport> {
        let (release, created) = self.find_or_create(target).await?;
        if created {
            crate::ui::message(&format!("created release {}", target.tag));
        }
        let existing = self.list_assets(target, &release).await?;

        // Decide everything first: a conflict refuses before anything changes.
        let mut plan = Vec::new();
        for file in files {
            let asset = existing.iter().find(|a| a.name == file.name);
            let action = match asset {
                None => Action::Uploaded,
                Some(a) if a.state != "uploaded" => Action::Replaced,
                Some(a) if u64::try_from(a.size).ok() == Some(file.size) => Action::Skipped,
                Some(_) if options.clobber => Action::Replaced,
                Some(a) => {
                    return Err(ReleaseError::SizeMismatch {
                        tag: target.tag.clone(),
                        name: file.name.clone(),
                        path: file.path.clone(),
                        local: file.size,
                        remote: u64::try_from(a.size).unwrap_or(0),
                    });
                }
            };
            plan.push((file, asset, action));
        }

        let mut reports = Vec::new();
        for (file, asset, action) in plan {
            let url = match (action, asset) {
                (Action::Skipped, Some(a)) => {
                    crate::ui::message(&format!(
                        "{}: already on release {} with the same size, skipped",
                        file.name, target.tag
                    ));
                    Some(a.browser_download_url.to_string())
                }
                (_, previous) => {
                    if let Some(previous) = previous {
                        self.octo
                            .repos(&target.owner, &target.repo)
                            .release_assets()
                            .delete(previous.id.into_inner())
                            .await
                            .map_err(|e| {
                                octo_error(format!("deleting asset `{}`", previous.name), e)
                            })?;
                    }
                    let url = self.post_asset(&release, file).await?;
                    crate::ui::message(&format!(
                        "{}: uploaded to release {} ({} bytes)",
                        file.name, target.tag, file.size
                    ));
                    url
                }
            };
            reports.push(AssetReport {
                name: file.name.clone(),
                size: file.size,
                action,
                url,
            });
        }
        Ok(ReleaseReport {
            tag: target.tag.clone(),
            release_url: release.html_url.to_string(),
            created,
            assets: reports,
        })
    }

    /// One streamed POST of the file to the release's upload URL; not retried.
    async fn post_asset(&self, release: &Release, file: &LocalAsset) -> Result<Option<String>> {
        let what = || format!("uploading `{}`", file.path.display());
        let template = release.upload_url.as_str();
        let base = template.split('{').next().unwrap_or(template);
        let mut url = reqwest::Url::parse(base).map_err(|_| ReleaseError::Transport {
            what: what(),
            detail: format!(
                "the release's upload_url `{}` is not a URL",
                redact_url(base)
            ),
        })?;
        let expected = self.endpoints.upload_origin();
        if url.origin().ascii_serialization() != expected {
            return Err(ReleaseError::UntrustedUploadUrl {
                url: redact_url(base),
                expected,
            });
        }
        url.set_query(Some(&format!("name={}", component(&file.name))));

        let handle =
            tokio::fs::File::open(&file.path)
                .await
                .map_err(|source| ReleaseError::Path {
                    path: file.path.clone(),
                    source,
                })?;
        let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::with_capacity(
            handle,
            256 * 1024,
        ));
        let mut auth =
            reqwest::header::HeaderValue::from_str(&format!("Bearer {}", self.token.expose()))
                .map_err(|_| ReleaseError::Transport {
                    what: what(),
                    detail: "GITHUB_TOKEN contains characters not allowed in a header".to_owned(),
                })?;
        auth.set_sensitive(true);
        let response = self
            .http
            .post(url)
            .header(reqwest::header::AUTHORIZATION, auth)
            .header(reqwest::header::ACCEPT, "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28")
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .header(reqwest::header::CONTENT_LENGTH, file.size)
            .body(body)
            .send()
            .await
            .map_err(|e| ReleaseError::Transport {
                what: what(),
                detail: error_chain(&e.without_url()),
            })?;
        let status = response.status();
        let bytes = response.bytes().await.unwrap_or_default();
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        if !status.is_success() {
            let mut message = json.get("message").and_then(|m| m.as_str()).map_or_else(
                || {
                    String::from_utf8_lossy(&bytes)
                        .lines()
                        .next()
                        .unwrap_or("")
                        .to_owned()
                },
                str::to_owned,
            );
            if let Some(errors) = json.get("errors") {
                message.push_str(&format!(" {errors}"));
            }
            return Err(ReleaseError::Api {
                what: what(),
                status: status.as_u16(),
                message,
                hint: match status.as_u16() {
                    403 => Some("the token needs `permissions: contents: write`"),
                    422 => Some(
                        "an asset of that name appeared meanwhile; run again to skip or --clobber it",
                    ),
                    500..=599 => {
                        Some("not retried: check the release for a broken asset and run again")
                    }
                    _ => None,
                },
            });
        }
        Ok(json
            .get("browser_download_url")
            .and_then(|u| u.as_str())
            .map(str::to_owned))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_come_from_tag_refs_only() {
        assert_eq!(tag_from_ref(Some("refs/tags/v1.2.3")).unwrap(), "v1.2.3");
        assert_eq!(
            tag_from_ref(Some("refs/tags/release/1")).unwrap(),
            "release/1"
        );
        let err = |r| tag_from_ref(r).unwrap_err().to_string();
        insta::assert_snapshot!(err(Some("refs/heads/main")), @"cannot tell which release to upload to: GITHUB_REF is `refs/heads/main`, not a tag; pass --tag TAG or run on a tag push");
        insta::assert_snapshot!(err(None), @"cannot tell which release to upload to: GITHUB_REF is not set; pass --tag TAG or run on a tag push");
        insta::assert_snapshot!(err(Some("refs/tags/")), @"cannot tell which release to upload to: GITHUB_REF is `refs/tags/`, not a tag; pass --tag TAG or run on a tag push");
    }

    #[test]
    fn components_keep_unreserved_characters() {
        assert_eq!(component("v1.0.0-rc_1~x"), "v1.0.0-rc_1~x");
        assert_eq!(component("release/1 +%"), "release%2F1%20%2B%25");
    }

    #[test]
    fn upload_endpoints() {
        let e = Endpoints::new("https://api.github.com").unwrap();
        assert_eq!(e.upload_origin(), "https://uploads.github.com");
        let e = Endpoints::new("https://ghe.example/api/v3").unwrap();
        assert_eq!(e.upload.as_str(), "https://ghe.example/api/uploads");
        assert_eq!(e.upload_origin(), "https://ghe.example");
        let e = Endpoints::new("http://127.0.0.1:8080/").unwrap();
        assert_eq!(e.upload_origin(), "http://127.0.0.1:8080");
        assert!(Endpoints::new("ftp://x").is_err());
        assert!(Endpoints::new("nope").is_err());
    }

    #[test]
    fn the_missing_token_message_says_how_to_pass_it() {
        insta::assert_snapshot!(ReleaseError::MissingToken.to_string(), @"GITHUB_TOKEN is not set: give the step `env: GITHUB_TOKEN: ${{ github.token }}` and the job `permissions: contents: write`");
    }

    #[test]
    fn assets_are_the_files_and_the_files_of_directories() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs_err::create_dir_all(root.join("wh/sub")).unwrap();
        fs_err::write(root.join("wh/b.whl"), b"bb").unwrap();
        fs_err::write(root.join("wh/a.tar.gz"), b"a").unwrap();
        fs_err::write(root.join("wh/.hidden"), b"h").unwrap();
        fs_err::write(root.join("wh/sub/deep.whl"), b"d").unwrap();
        fs_err::write(root.join("b.whl"), b"other").unwrap();
        let names: Vec<(String, u64)> = collect_assets(&[root.join("wh")])
            .unwrap()
            .into_iter()
            .map(|a| (a.name, a.size))
            .collect();
        assert_eq!(names, [("a.tar.gz".to_owned(), 1), ("b.whl".to_owned(), 2)]);
        // The same file twice is one asset; two files of one name are an error.
        assert_eq!(
            collect_assets(&[root.join("wh"), root.join("wh/b.whl")])
                .unwrap()
                .len(),
            2
        );
        let err = collect_assets(&[root.join("wh"), root.join("b.whl")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("would both be asset `b.whl`"), "{err}");
        fs_err::create_dir_all(root.join("empty")).unwrap();
        assert!(
            collect_assets(&[root.join("empty")])
                .unwrap_err()
                .to_string()
                .starts_with("no files to upload in `")
        );
    }
}
