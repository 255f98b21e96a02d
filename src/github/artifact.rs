//! A native client for GitHub Actions artifacts (v4): zip the files, `CreateArtifact`, upload
//! the zip as an Azure block blob to the signed URL, `FinalizeArtifact` with its size and
//! sha256. Protocol facts: ../shared/reference/publish.md §5.
//!
//! Design notes:
//! * It needs `ACTIONS_RUNTIME_TOKEN` and `ACTIONS_RESULTS_URL`, which the runner gives to
//!   JavaScript and container actions only: composite `run:` steps on github.com do not get them
//!   (actions/runner#3046), so the composite action falls back to `actions/upload-artifact`
//!   there. act gives them to every step; that is where this client is tested for real.
//! * The zip is written to a temporary file first (deterministic: sorted entries, fixed
//!   timestamps, already-compressed files stored), so its size is known before the upload and
//!   memory stays bounded; blocks of 8 MiB are then sent **sequentially and in order** (act
//!   appends blocks in arrival order and ignores block ids) and hashed as they are sent.
//! * Replies are protobuf JSON; GitHub answers in snake_case, act in lowerCamelCase: both are
//!   accepted. The signed URL is used byte for byte and its `sig` is masked; it never appears in
//!   a message (see [`super::redact_url`]).
//! * Twirp calls are retried like `@actions/artifact` does (429/5xx/non-JSON replies, up to 5
//!   attempts, growing delays); block uploads are not, since a repeated block would be appended
//!   twice by act.

use std::collections::BTreeMap;
use std::collections::HashSet;
use std::io::{Read as _, Seek, Write};
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::{Secret, env_nonempty, redact_url};

/// Path of the artifact service below the results URL's origin.
pub const SERVICE_PATH: &str = "twirp/github.actions.results.api.v1.ArtifactService";
/// Size of one uploaded block.
pub const BLOCK_SIZE: usize = 8 * 1024 * 1024;
/// Azure's limit of blocks per blob.
pub const MAX_BLOCKS: u64 = 50_000;
/// The storage service version we speak.
const X_MS_VERSION: &str = "2023-11-03";
/// The artifact version upload-artifact v4 sends.
const ARTIFACT_VERSION: u32 = 4;
/// Characters the artifact service refuses in names.
const FORBIDDEN_NAME_CHARS: [char; 11] = ['"', ':', '<', '>', '|', '*', '?', '\r', '\n', '\\', '/'];
/// Twirp attempts (first try included).
const TWIRP_ATTEMPTS: u32 = 5;

/// What went wrong, with the thing it concerns.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// The runtime environment lacks a variable.
    #[error(
        "{} not set: this step cannot reach the artifact service (composite run steps on \
         github.com don't get ACTIONS_RUNTIME_TOKEN and ACTIONS_RESULTS_URL; use \
         actions/upload-artifact there, or --if-available to skip)",
        match missing.as_slice() { [one] => format!("{one} is"), more => format!("{} are", more.join(" and ")) }
    )]
    MissingEnv {
        /// The variables missing.
        missing: Vec<&'static str>,
    },
    /// The runtime token has no usable `scp` claim.
    #[error(
        "Failed to get backend IDs: the ACTIONS_RUNTIME_TOKEN is invalid and/or missing claims ({why})"
    )]
    InvalidToken {
        /// What is wrong with it (never the token itself).
        why: &'static str,
    },
    /// `ACTIONS_RESULTS_URL` is not an http(s) URL.
    #[error("ACTIONS_RESULTS_URL `{url}` is not an http(s) URL")]
    InvalidResultsUrl {
        /// The URL, without its query.
        url: String,
    },
    /// GitHub Enterprise Server has no artifacts v4.
    #[error(
        "artifacts v4 is not available on GitHub Enterprise Server ({server}); use actions/upload-artifact@v3 there"
    )]
    Ghes {
        /// `GITHUB_SERVER_URL`.
        server: String,
    },
    /// The artifact name contains a forbidden character.
    #[error(
        "invalid artifact name `{name}`: it must not be empty nor contain any of \" : < > | * ? \\ / CR LF"
    )]
    InvalidName {
        /// The name as given.
        name: String,
    },
    /// Retention outside 1..=90 days.
    #[error("--retention-days {days}: must be between 1 and 90")]
    InvalidRetention {
        /// The value given.
        days: u32,
    },
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
    #[error("no files to upload in {paths}")]
    NoFiles {
        /// The paths given, for the message.
        paths: String,
    },
    /// A file name that is not UTF-8 cannot become a zip entry name portably.
    #[error("`{}`: file name is not valid UTF-8", path.display())]
    NonUtf8Name {
        /// The file.
        path: PathBuf,
    },
    /// Writing the zip failed.
    #[error("cannot write the artifact zip: {source}")]
    Zip {
        /// Why.
        #[source]
        source: zip::result::ZipError,
    },
    /// Temporary file trouble.
    #[error("cannot write the artifact zip: {source}")]
    Io {
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The zip is bigger than 50,000 blocks.
    #[error(
        "the artifact is {size} bytes, more than Azure's {MAX_BLOCKS} blocks of {BLOCK_SIZE} bytes"
    )]
    TooLarge {
        /// Its size.
        size: u64,
    },
    /// A Twirp call was answered with an error.
    #[error("{method} failed: HTTP {status}{}", twirp_detail(code, msg))]
    Twirp {
        /// The method.
        method: &'static str,
        /// HTTP status.
        status: u16,
        /// Twirp error code.
        code: String,
        /// Twirp message.
        msg: String,
    },
    /// A Twirp call said `ok: false`.
    #[error("{method} failed: the artifact service answered ok=false")]
    NotOk {
        /// The method.
        method: &'static str,
    },
    /// A reply that is not the JSON we expect.
    #[error("{method}: unexpected reply from the artifact service: {why}")]
    BadReply {
        /// The method.
        method: &'static str,
        /// What is wrong with it.
        why: String,
    },
    /// No HTTP client (the CA certificates to trust).
    #[error(transparent)]
    Net(#[from] crate::net::NetError),
    /// Transport failure (connection refused, timeout, …); the URL is left out.
    #[error("{what}: {source}")]
    Http {
        /// What we were doing.
        what: String,
        /// Why.
        #[source]
        source: reqwest::Error,
    },
    /// The blob storage refused a block or the block list.
    #[error("uploading the artifact to {url} failed: HTTP {status}: {body}")]
    Blob {
        /// The signed URL without its query.
        url: String,
        /// HTTP status.
        status: u16,
        /// The start of the reply body.
        body: String,
    },
    /// No artifact of the run matches the name or pattern asked for.
    #[error("no artifact of this run matches `{pattern}` ({})", if available.is_empty() { "the run has none yet".to_owned() } else { format!("it has: {}", available.join(", ")) })]
    NoMatch {
        /// The name or glob.
        pattern: String,
        /// The artifacts the run has.
        available: Vec<String>,
    },
    /// Not a valid glob.
    #[error("`{pattern}` is not a valid artifact name pattern: {why}")]
    BadPattern {
        /// The pattern.
        pattern: String,
        /// The glob parser's message.
        why: String,
    },
    /// The blob storage refused the download.
    #[error("downloading artifact `{name}` from {url} failed: HTTP {status}: {body}")]
    DownloadFailed {
        /// The artifact.
        name: String,
        /// The signed URL without its query.
        url: String,
        /// HTTP status.
        status: u16,
        /// The start of the reply body.
        body: String,
    },
    /// The downloaded zip cannot be extracted safely.
    #[error("artifact `{name}`: {why}")]
    Extract {
        /// The artifact.
        name: String,
        /// What is wrong (an entry outside the directory, a damaged zip, …).
        why: String,
    },
    /// Two artifacts hold the same file with different contents.
    #[error("`{}` is already there with other contents (from another artifact, or an earlier run); refusing to overwrite it", path.display())]
    Conflict {
        /// The file.
        path: PathBuf,
    },
}

fn twirp_detail(code: &str, msg: &str) -> String {
    match (code.is_empty(), msg.is_empty()) {
        (true, true) => String::new(),
        (false, true) => format!(" ({code})"),
        (true, false) => format!(": {msg}"),
        (false, false) => format!(" ({code}): {msg}"),
    }
}

type Result<T, E = ArtifactError> = std::result::Result<T, E>;

/// The two backend IDs the artifact service wants with every call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendIds {
    /// The workflow run's backend ID.
    pub workflow_run_backend_id: String,
    /// The job's backend ID.
    pub workflow_job_run_backend_id: String,
}

/// Reads the backend IDs from the token's `scp` claim: the scope
/// `Actions.Results:<run>:<job>`. The JWT is decoded, not verified.
pub fn backend_ids(token: &str) -> Result<BackendIds> {
    let invalid = |why| ArtifactError::InvalidToken { why };
    let mut parts = token.split('.');
    let (Some(_), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("not a JWT"));
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD_INDIFFERENT
        .decode(payload.trim_end_matches('='))
        .map_err(|_| invalid("the payload is not base64url"))?;
    let claims: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|_| invalid("the payload is not JSON"))?;
    let scp = claims
        .get("scp")
        .and_then(|v| v.as_str())
        .ok_or(invalid("no `scp` claim"))?;
    for scope in scp.split(' ') {
        let fields: Vec<&str> = scope.split(':').collect();
        if fields.first() != Some(&"Actions.Results") {
            continue;
        }
        if fields.len() != 3 || fields[1].is_empty() || fields[2].is_empty() {
            return Err(invalid("malformed Actions.Results scope"));
        }
        return Ok(BackendIds {
            workflow_run_backend_id: fields[1].to_owned(),
            workflow_job_run_backend_id: fields[2].to_owned(),
        });
    }
    Err(invalid("no Actions.Results scope"))
}

/// What the runner gives a step for the artifact service.
#[derive(Debug)]
pub struct RuntimeEnv {
    token: Secret,
    /// `ACTIONS_RESULTS_URL`'s origin, with a trailing `/`.
    results_origin: String,
    ids: BackendIds,
    /// `GITHUB_RETENTION_DAYS`: the repository's maximum.
    max_retention_days: Option<u32>,
    /// `ACTIONS_ARTIFACT_UPLOAD_TIMEOUT_MS`: stall timeout.
    stall_timeout: Duration,
}

/// The variables the native client needs that are missing (empty when it can run).
#[must_use]
pub fn missing_env() -> Vec<&'static str> {
    ["ACTIONS_RUNTIME_TOKEN", "ACTIONS_RESULTS_URL"]
        .into_iter()
        .filter(|name| env_nonempty(name).is_none())
        .collect()
}

impl RuntimeEnv {
    /// Reads the runtime environment; errors name what is missing or wrong.
    pub fn from_env() -> Result<Self> {
        let missing = missing_env();
        if !missing.is_empty() {
            return Err(ArtifactError::MissingEnv { missing });
        }
        let token = Secret::new(env_nonempty("ACTIONS_RUNTIME_TOKEN").unwrap_or_default());
        let url = env_nonempty("ACTIONS_RESULTS_URL").unwrap_or_default();
        if let Some(server) = env_nonempty("GITHUB_SERVER_URL") {
            if is_ghes(&server) {
                return Err(ArtifactError::Ghes { server });
            }
        }
        let results_origin = origin(&url).ok_or_else(|| ArtifactError::InvalidResultsUrl {
            url: redact_url(&url),
        })?;
        let ids = backend_ids(token.expose())?;
        let max_retention_days =
            env_nonempty("GITHUB_RETENTION_DAYS").and_then(|v| v.trim().parse().ok());
        let stall_ms = env_nonempty("ACTIONS_ARTIFACT_UPLOAD_TIMEOUT_MS")
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(300_000);
        Ok(RuntimeEnv {
            token,
            results_origin,
            ids,
            max_retention_days,
            stall_timeout: Duration::from_millis(stall_ms),
        })
    }
}

/// `scheme://host[:port]/` of an http(s) URL.
fn origin(url: &str) -> Option<String> {
    let parsed = reqwest::Url::parse(url).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return None;
    }
    let host = parsed.host_str()?;
    Some(match parsed.port() {
        Some(port) => format!("{}://{host}:{port}/", parsed.scheme()),
        None => format!("{}://{host}/", parsed.scheme()),
    })
}

/// Like the toolkit's `isGhes`: anything but github.com, `*.ghe.com` and `*.ghe.localhost`.
fn is_ghes(server: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(server) else {
        return false;
    };
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    !(host == "github.com"
        || host.ends_with(".ghe.com")
        || host.ends_with(".ghe.localhost")
        || host == "localhost"
        || host == "127.0.0.1")
}

/// Checks an artifact name like the service does.
pub fn validate_name(name: &str) -> Result<()> {
    if name.is_empty() || name.contains(FORBIDDEN_NAME_CHARS) {
        return Err(ArtifactError::InvalidName {
            name: name.to_owned(),
        });
    }
    Ok(())
}

/// The files of an artifact: zip entry names (relative to the common root of the paths given,
/// `/`-separated) and where each file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    /// The directory entry names are relative to.
    pub root: PathBuf,
    /// Entry name → file, sorted by name.
    pub files: BTreeMap<String, PathBuf>,
}

/// Collects the files below `paths` (directories recursively, symlinks followed, loops
/// skipped). Entry names are relative to the deepest directory containing every path given
/// (a directory counts as itself, a file as its parent), as upload-artifact does.
pub fn collect(paths: &[PathBuf]) -> Result<Payload> {
    let mut found: Vec<PathBuf> = Vec::new();
    let mut roots: Vec<PathBuf> = Vec::new();
    for path in paths {
        let abs = std::path::absolute(path).map_err(|source| ArtifactError::Path {
            path: path.clone(),
            source,
        })?;
        let abs = normalize(&abs);
        let meta = std::fs::metadata(&abs).map_err(|e| ArtifactError::Path {
            path: path.clone(),
            source: e,
        })?;
        if meta.is_dir() {
            roots.push(abs.clone());
            let mut seen = HashSet::new();
            walk(&abs, &mut found, &mut seen)?;
        } else {
            roots.push(abs.parent().map_or_else(|| abs.clone(), Path::to_path_buf));
            found.push(abs);
        }
    }
    let root = common_ancestor(&roots);
    let mut files = BTreeMap::new();
    for file in found {
        let rel = file.strip_prefix(&root).unwrap_or(&file);
        let mut name = String::new();
        for part in rel.components() {
            let Component::Normal(part) = part else {
                continue;
            };
            let part = part
                .to_str()
                .ok_or_else(|| ArtifactError::NonUtf8Name { path: file.clone() })?;
            if !name.is_empty() {
                name.push('/');
            }
            name.push_str(part);
        }
        files.insert(name, file);
    }
    if files.is_empty() {
        let shown: Vec<String> = paths.iter().map(|p| format!("`{}`", p.display())).collect();
        return Err(ArtifactError::NoFiles {
            paths: shown.join(", "),
        });
    }
    Ok(Payload { root, files })
}

/// Removes `.` and resolves `..` lexically (the path is absolute).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>, seen: &mut HashSet<PathBuf>) -> Result<()> {
    let real = std::fs::canonicalize(dir).map_err(|e| ArtifactError::Path {
        path: dir.to_owned(),
        source: e,
    })?;
    if !seen.insert(real) {
        // A symlink loop back to a directory already being walked.
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| ArtifactError::Path {
            path: dir.to_owned(),
            source: e,
        })?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .map_err(|source| ArtifactError::Path {
            path: dir.to_owned(),
            source,
        })?;
    entries.sort();
    for entry in entries {
        let meta = std::fs::metadata(&entry).map_err(|e| ArtifactError::Path {
            path: entry.clone(),
            source: e,
        })?;
        if meta.is_dir() {
            walk(&entry, found, seen)?;
        } else if meta.is_file() {
            found.push(entry);
        }
    }
    Ok(())
}

fn common_ancestor(paths: &[PathBuf]) -> PathBuf {
    let mut iter = paths.iter();
    let Some(first) = iter.next() else {
        return PathBuf::new();
    };
    let mut common: Vec<Component<'_>> = first.components().collect();
    for path in iter {
        let n = common
            .iter()
            .zip(path.components())
            .take_while(|(a, b)| **a == *b)
            .count();
        common.truncate(n);
    }
    common.iter().collect()
}

/// Extensions of files that are compressed already: stored, not deflated again.
const COMPRESSED_EXTENSIONS: &[&str] = &[
    "whl", "zip", "gz", "tgz", "bz2", "xz", "zst", "lz4", "7z", "jar", "png", "jpg", "jpeg", "gif",
    "webp",
];

fn is_compressed(name: &str) -> bool {
    name.rsplit_once('.').is_some_and(|(_, ext)| {
        COMPRESSED_EXTENSIONS
            .iter()
            .any(|c| ext.eq_ignore_ascii_case(c))
    })
}

/// The entries' timestamp: `SOURCE_DATE_EPOCH` when set (UTC), else 1980-01-01 00:00:00.
fn zip_time() -> zip::DateTime {
    use chrono::{Datelike as _, Timelike as _};
    let Some(epoch) = env_nonempty("SOURCE_DATE_EPOCH").and_then(|v| v.trim().parse::<i64>().ok())
    else {
        return zip::DateTime::DEFAULT;
    };
    let Some(t) = chrono::DateTime::from_timestamp(epoch, 0) else {
        return zip::DateTime::DEFAULT;
    };
    let convert = || -> Option<zip::DateTime> {
        zip::DateTime::from_date_and_time(
            u16::try_from(t.year()).ok()?,
            u8::try_from(t.month()).ok()?,
            u8::try_from(t.day()).ok()?,
            u8::try_from(t.hour()).ok()?,
            u8::try_from(t.minute()).ok()?,
            u8::try_from(t.second()).ok()?,
        )
        .ok()
    };
    convert().unwrap_or(zip::DateTime::DEFAULT)
}

/// Writes the payload as a zip: entries sorted by name, one fixed timestamp, permissions kept,
/// already-compressed files stored and the rest deflated at `level` (0 stores everything).
pub fn write_zip<W: Write + Seek>(payload: &Payload, out: W, level: u32) -> Result<W> {
    use zip::CompressionMethod;
    use zip::write::SimpleFileOptions;
    let zip_err = |source| ArtifactError::Zip { source };
    let time = zip_time();
    let mut writer = zip::ZipWriter::new(out);
    for (name, path) in &payload.files {
        let mut file = std::fs::File::open(path).map_err(|e| ArtifactError::Path {
            path: path.clone(),
            source: e,
        })?;
        let meta = file.metadata().map_err(|source| ArtifactError::Path {
            path: path.clone(),
            source,
        })?;
        let mode = {
            use std::os::unix::fs::PermissionsExt as _;
            meta.permissions().mode() & 0o777
        };
        let stored = level == 0 || is_compressed(name);
        let options = SimpleFileOptions::default()
            .compression_method(if stored {
                CompressionMethod::Stored
            } else {
                CompressionMethod::Deflated
            })
            .compression_level(if stored { None } else { Some(i64::from(level)) })
            .last_modified_time(time)
            .unix_permissions(mode)
            .large_file(meta.len() >= u64::from(u32::MAX));
        writer.start_file(name.as_str(), options).map_err(zip_err)?;
        std::io::copy(&mut file, &mut writer).map_err(|source| ArtifactError::Path {
            path: path.clone(),
            source,
        })?;
    }
    writer.finish().map_err(zip_err)
}

/// One uploaded artifact.
#[derive(Debug, Clone, Serialize)]
pub struct Uploaded {
    /// Its name.
    pub name: String,
    /// The ID the service gave it.
    pub id: String,
    /// Size of the uploaded zip in bytes.
    pub size: u64,
    /// `sha256:<hex>` of the uploaded zip.
    pub digest: String,
    /// Number of files in it.
    pub files: usize,
    /// Where to see it on GitHub (when the run's variables are there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Serialize)]
struct CreateArtifactRequest<'a> {
    workflow_run_backend_id: &'a str,
    workflow_job_run_backend_id: &'a str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<String>,
    version: u32,
}

#[derive(Deserialize, Debug)]
struct CreateArtifactResponse {
    #[serde(default)]
    ok: bool,
    #[serde(default, alias = "signedUploadUrl")]
    signed_upload_url: String,
}

#[derive(Serialize)]
struct FinalizeArtifactRequest<'a> {
    workflow_run_backend_id: &'a str,
    workflow_job_run_backend_id: &'a str,
    name: &'a str,
    /// int64 as a JSON string.
    size: String,
    hash: String,
}

#[derive(Deserialize, Debug)]
struct FinalizeArtifactResponse {
    #[serde(default)]
    ok: bool,
    /// int64: a string in protobuf JSON, a number from lenient servers.
    #[serde(default, alias = "artifactId")]
    artifact_id: serde_json::Value,
}

#[derive(Deserialize, Default)]
struct TwirpError {
    #[serde(default)]
    code: String,
    #[serde(default)]
    msg: String,
}

/// Parses a reply in either spelling (snake_case or lowerCamelCase); exposed for tests.
#[doc(hidden)]
pub fn parse_create_reply(body: &[u8]) -> Result<(bool, String)> {
    let r: CreateArtifactResponse =
        serde_json::from_slice(body).map_err(|e| ArtifactError::BadReply {
            method: "CreateArtifact",
            why: e.to_string(),
        })?;
    Ok((r.ok, r.signed_upload_url))
}

/// Parses a `FinalizeArtifact` reply in either spelling; exposed for tests.
#[doc(hidden)]
pub fn parse_finalize_reply(body: &[u8]) -> Result<(bool, String)> {
    let r: FinalizeArtifactResponse =
        serde_json::from_slice(body).map_err(|e| ArtifactError::BadReply {
            method: "FinalizeArtifact",
            why: e.to_string(),
        })?;
    let id = match r.artifact_id {
        serde_json::Value::String(s) => s,
        serde_json::Value::Number(n) => n.to_string(),
        _ => String::new(),
    };
    Ok((r.ok, id))
}

/// The artifacts v4 client.
pub struct Client {
    env: RuntimeEnv,
    http: reqwest::Client,
}

impl Client {
    /// A client for the runtime environment.
    pub fn new(env: RuntimeEnv) -> Result<Self> {
        let http = super::http_client(env.stall_timeout)?;
        Ok(Client { env, http })
    }

    /// The retention to ask for: `requested`, clamped to the repository's maximum.
    fn expires_at(&self, requested: Option<u32>) -> Result<Option<String>> {
        let Some(mut days) = requested else {
            return Ok(None);
        };
        if !(1..=90).contains(&days) {
            return Err(ArtifactError::InvalidRetention { days });
        }
        if let Some(max) = self.env.max_retention_days {
            if days > max {
                crate::ui::message(&format!(
                    "warning: retention of {days} days is more than this repository allows; using {max}"
                ));
                days = max;
            }
        }
        let at = chrono::Utc::now() + chrono::Duration::days(i64::from(days));
        Ok(Some(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))
    }

    /// Zips `payload` into a temporary file and uploads it as artifact `name`.
    pub async fn upload(
        &self,
        name: &str,
        payload: &Payload,
        retention_days: Option<u32>,
        compression_level: u32,
    ) -> Result<Uploaded> {
        validate_name(name)?;
        let expires_at = self.expires_at(retention_days)?;
        let temp =
            tempfile::tempfile_in(temp_dir()).map_err(|source| ArtifactError::Io { source })?;
        let mut zip = write_zip(payload, std::io::BufWriter::new(temp), compression_level)?
            .into_inner()
            .map_err(|e| ArtifactError::Io {
                source: e.into_error(),
            })?;
        let size = zip
            .seek(std::io::SeekFrom::End(0))
            .map_err(|source| ArtifactError::Io { source })?;
        zip.rewind()
            .map_err(|source| ArtifactError::Io { source })?;
        if size.div_ceil(BLOCK_SIZE as u64) > MAX_BLOCKS {
            return Err(ArtifactError::TooLarge { size });
        }

        let ids = &self.env.ids;
        let reply = self
            .twirp(
                "CreateArtifact",
                &CreateArtifactRequest {
                    workflow_run_backend_id: &ids.workflow_run_backend_id,
                    workflow_job_run_backend_id: &ids.workflow_job_run_backend_id,
                    name,
                    expires_at,
                    version: ARTIFACT_VERSION,
                },
            )
            .await?;
        let (ok, signed_url) = parse_create_reply(&reply)?;
        if !ok {
            return Err(ArtifactError::NotOk {
                method: "CreateArtifact",
            });
        }
        if signed_url.is_empty() {
            return Err(ArtifactError::BadReply {
                method: "CreateArtifact",
                why: "no signed upload URL".to_owned(),
            });
        }
        mask_signature(&signed_url);
        tracing::debug!("uploading {size} bytes to {}", redact_url(&signed_url));

        let sha256 = self.put_blocks(&signed_url, zip, size).await?;
        let digest = format!("sha256:{sha256}");

        let reply = self
            .twirp(
                "FinalizeArtifact",
                &FinalizeArtifactRequest {
                    workflow_run_backend_id: &ids.workflow_run_backend_id,
                    workflow_job_run_backend_id: &ids.workflow_job_run_backend_id,
                    name,
                    size: size.to_string(),
                    hash: digest.clone(),
                },
            )
            .await?;
        let (ok, id) = parse_finalize_reply(&reply)?;
        if !ok {
            return Err(ArtifactError::NotOk {
                method: "FinalizeArtifact",
            });
        }
        Ok(Uploaded {
            name: name.to_owned(),
            url: artifact_url(&id),
            id,
            size,
            digest,
            files: payload.files.len(),
        })
    }

    /// Put Block per 8 MiB (in order, one at a time), then Put Block List. Returns the hex
    /// sha256 of exactly the bytes sent.
    async fn put_blocks(
        &self,
        signed_url: &str,
        mut zip: std::fs::File,
        size: u64,
    ) -> Result<String> {
        let sep = if signed_url.contains('?') { '&' } else { '?' };
        let mut hasher = Sha256::new();
        let mut ids = Vec::new();
        let mut sent = 0u64;
        let mut index = 0u32;
        while sent < size {
            let want = usize::try_from((size - sent).min(BLOCK_SIZE as u64)).unwrap_or(BLOCK_SIZE);
            let mut block = vec![0u8; want];
            zip.read_exact(&mut block)
                .map_err(|source| ArtifactError::Io { source })?;
            hasher.update(&block);
            // All ids of a blob must have the same length.
            let id = base64::engine::general_purpose::STANDARD
                .encode(format!("wheelwright-block-{index:06}"));
            let url = format!(
                "{signed_url}{sep}comp=block&blockid={}",
                percent_encoding::utf8_percent_encode(&id, percent_encoding::NON_ALPHANUMERIC)
            );
            let response = self
                .http
                .put(&url)
                .header("x-ms-version", X_MS_VERSION)
                .header("content-type", "application/octet-stream")
                .body(block)
                .send()
                .await
                .map_err(|e| ArtifactError::Http {
                    what: format!("uploading block {index} to {}", redact_url(signed_url)),
                    source: e.without_url(),
                })?;
            check_blob(signed_url, response).await?;
            ids.push(id);
            sent += want as u64;
            index += 1;
        }
        let mut list = String::from(r#"<?xml version="1.0" encoding="utf-8"?><BlockList>"#);
        for id in &ids {
            list.push_str("<Latest>");
            list.push_str(id);
            list.push_str("</Latest>");
        }
        list.push_str("</BlockList>");
        let response = self
            .http
            .put(format!("{signed_url}{sep}comp=blocklist"))
            .header("x-ms-version", X_MS_VERSION)
            .header("x-ms-blob-content-type", "application/zip")
            .header("content-type", "application/xml")
            .body(list)
            .send()
            .await
            .map_err(|e| ArtifactError::Http {
                what: format!("committing the block list at {}", redact_url(signed_url)),
                source: e.without_url(),
            })?;
        check_blob(signed_url, response).await?;
        Ok(hex(&hasher.finalize()))
    }

    /// One Twirp call with the toolkit's retry policy; returns the reply body.
    async fn twirp<T: Serialize>(&self, method: &'static str, request: &T) -> Result<Vec<u8>> {
        let url = format!("{}{SERVICE_PATH}/{method}", self.env.results_origin);
        let body = serde_json::to_vec(request).map_err(|e| ArtifactError::BadReply {
            method,
            why: e.to_string(),
        })?;
        let mut delay = Duration::from_millis(3000);
        let mut attempt = 1;
        loop {
            let sent = self
                .http
                .post(&url)
                .bearer_auth(self.env.token.expose())
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await;
            let retry_reason = match sent {
                Err(e) if e.is_connect() => {
                    // Connection refused / DNS: failing fast, like the toolkit.
                    return Err(ArtifactError::Http {
                        what: format!("{method} at {}", redact_url(&url)),
                        source: e.without_url(),
                    });
                }
                Err(e) => {
                    if attempt >= TWIRP_ATTEMPTS {
                        return Err(ArtifactError::Http {
                            what: format!("{method} at {}", redact_url(&url)),
                            source: e.without_url(),
                        });
                    }
                    e.without_url().to_string()
                }
                Ok(response) => {
                    let status = response.status();
                    let bytes = response.bytes().await.map_err(|e| ArtifactError::Http {
                        what: format!("reading the {method} reply"),
                        source: e.without_url(),
                    })?;
                    let is_json = serde_json::from_slice::<serde_json::Value>(&bytes).is_ok();
                    let retryable = matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504)
                        || (status.is_success() && !is_json);
                    if status.is_success() && is_json {
                        return Ok(bytes.to_vec());
                    }
                    if !retryable || attempt >= TWIRP_ATTEMPTS {
                        let err: TwirpError = serde_json::from_slice(&bytes).unwrap_or_default();
                        let msg = if err.msg.is_empty() && !is_json {
                            snippet(&bytes)
                        } else {
                            err.msg
                        };
                        return Err(ArtifactError::Twirp {
                            method,
                            status: status.as_u16(),
                            code: err.code,
                            msg,
                        });
                    }
                    format!("HTTP {}", status.as_u16())
                }
            };
            tracing::warn!(
                "{method} attempt {attempt} of {TWIRP_ATTEMPTS} failed ({retry_reason}); retrying in {:.1} s",
                delay.as_secs_f64()
            );
            tokio::time::sleep(delay).await;
            delay = delay.mul_f64(1.5);
            attempt += 1;
        }
    }
}

async fn check_blob(signed_url: &str, response: reqwest::Response) -> Result<()> {
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let body = response.bytes().await.unwrap_or_default();
    Err(ArtifactError::Blob {
        url: redact_url(signed_url),
        status: status.as_u16(),
        body: snippet(&body),
    })
}

/// The first line of a reply body, shortened, for a message.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let line = text.lines().next().unwrap_or("").trim();
    let mut out: String = line.chars().take(200).collect();
    if out.len() < line.len() {
        out.push('…');
    }
    if out.is_empty() {
        out.push_str("(empty reply)");
    }
    out
}

/// Masks the `sig` of a signed URL in the logs (Actions only).
fn mask_signature(url: &str) {
    if let Ok(parsed) = reqwest::Url::parse(url) {
        for (key, value) in parsed.query_pairs() {
            if key == "sig" {
                crate::ui::github::add_mask(&value);
            }
        }
    }
    if let Some(query) = url.split_once('?').map(|(_, q)| q) {
        for pair in query.split('&') {
            if let Some(raw) = pair.strip_prefix("sig=") {
                crate::ui::github::add_mask(raw);
            }
        }
    }
}

/// `$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID/artifacts/<id>`.
fn artifact_url(id: &str) -> Option<String> {
    let server = env_nonempty("GITHUB_SERVER_URL")?;
    let repo = env_nonempty("GITHUB_REPOSITORY")?;
    let run = env_nonempty("GITHUB_RUN_ID")?;
    if id.is_empty() {
        return None;
    }
    Some(format!(
        "{}/{repo}/actions/runs/{run}/artifacts/{id}",
        server.trim_end_matches('/')
    ))
}

/// Where the zip is staged: `RUNNER_TEMP` on runners, else the system's temp directory.
fn temp_dir() -> PathBuf {
    env_nonempty("RUNNER_TEMP").map_or_else(std::env::temp_dir, PathBuf::from)
}

// ---------------------------------------------------------------------------------------------
// Download: ListArtifacts, GetSignedArtifactURL, GET the zip, extract.

#[derive(Serialize)]
struct ListArtifactsRequest<'a> {
    workflow_run_backend_id: &'a str,
    workflow_job_run_backend_id: &'a str,
}

#[derive(Deserialize, Debug, Default)]
struct ListArtifactsResponse {
    #[serde(default)]
    artifacts: Vec<ListedArtifact>,
}

#[derive(Deserialize, Debug)]
struct ListedArtifact {
    #[serde(default)]
    name: String,
    /// int64: a string in protobuf JSON, a number from lenient servers.
    #[serde(default, alias = "databaseId")]
    database_id: serde_json::Value,
    #[serde(default)]
    size: serde_json::Value,
}

#[derive(Serialize)]
struct GetSignedArtifactUrlRequest<'a> {
    workflow_run_backend_id: &'a str,
    workflow_job_run_backend_id: &'a str,
    name: &'a str,
}

#[derive(Deserialize, Debug)]
struct GetSignedArtifactUrlResponse {
    #[serde(default, alias = "signedUrl")]
    signed_url: String,
}

fn int64(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// One artifact of the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listed {
    /// Its name.
    pub name: String,
    /// Its ID.
    pub id: String,
    /// Its size in bytes, as the service reports it.
    pub size: String,
}

/// Parses a `ListArtifacts` reply in either spelling; exposed for tests.
#[doc(hidden)]
pub fn parse_list_reply(body: &[u8]) -> Result<Vec<Listed>> {
    let r: ListArtifactsResponse =
        serde_json::from_slice(body).map_err(|e| ArtifactError::BadReply {
            method: "ListArtifacts",
            why: e.to_string(),
        })?;
    Ok(r.artifacts
        .into_iter()
        .map(|a| Listed {
            id: int64(&a.database_id),
            size: int64(&a.size),
            name: a.name,
        })
        .collect())
}

/// The artifacts whose name matches `pattern` (a name or a glob such as `wheels-*`), each name
/// once, sorted.
pub fn matching(listed: &[Listed], pattern: &str) -> Result<Vec<String>> {
    let glob = globset::Glob::new(pattern)
        .map_err(|e| ArtifactError::BadPattern {
            pattern: pattern.to_owned(),
            why: e.kind().to_string(),
        })?
        .compile_matcher();
    let mut names: Vec<String> = listed
        .iter()
        .filter(|a| glob.is_match(&a.name))
        .map(|a| a.name.clone())
        .collect();
    names.sort();
    names.dedup();
    if names.is_empty() {
        let mut available: Vec<String> = listed.iter().map(|a| a.name.clone()).collect();
        available.sort();
        available.dedup();
        return Err(ArtifactError::NoMatch {
            pattern: pattern.to_owned(),
            available,
        });
    }
    Ok(names)
}

/// One downloaded artifact.
#[derive(Debug, Clone, Serialize)]
pub struct Downloaded {
    /// Its name.
    pub name: String,
    /// Size of the zip in bytes.
    pub size: u64,
    /// `sha256:<hex>` of the zip.
    pub digest: String,
    /// The files written (or already there with the same contents), relative to the
    /// destination.
    pub files: Vec<String>,
}

impl Client {
    /// The artifacts of this workflow run.
    pub async fn list(&self) -> Result<Vec<Listed>> {
        let ids = &self.env.ids;
        let reply = self
            .twirp(
                "ListArtifacts",
                &ListArtifactsRequest {
                    workflow_run_backend_id: &ids.workflow_run_backend_id,
                    workflow_job_run_backend_id: &ids.workflow_job_run_backend_id,
                },
            )
            .await?;
        parse_list_reply(&reply)
    }

    /// Downloads artifact `name` and extracts its files into `dest` (merged with what is there:
    /// a file that exists with the same contents is kept, with other contents is an error).
    pub async fn download(&self, name: &str, dest: &Path) -> Result<Downloaded> {
        let ids = &self.env.ids;
        let reply = self
            .twirp(
                "GetSignedArtifactURL",
                &GetSignedArtifactUrlRequest {
                    workflow_run_backend_id: &ids.workflow_run_backend_id,
                    workflow_job_run_backend_id: &ids.workflow_job_run_backend_id,
                    name,
                },
            )
            .await?;
        let r: GetSignedArtifactUrlResponse =
            serde_json::from_slice(&reply).map_err(|e| ArtifactError::BadReply {
                method: "GetSignedArtifactURL",
                why: e.to_string(),
            })?;
        if r.signed_url.is_empty() {
            return Err(ArtifactError::BadReply {
                method: "GetSignedArtifactURL",
                why: "no signed URL".to_owned(),
            });
        }
        mask_signature(&r.signed_url);
        let mut response =
            self.http
                .get(&r.signed_url)
                .send()
                .await
                .map_err(|e| ArtifactError::Http {
                    what: format!(
                        "downloading artifact `{name}` from {}",
                        redact_url(&r.signed_url)
                    ),
                    source: e.without_url(),
                })?;
        let status = response.status();
        if !status.is_success() {
            let body = response.bytes().await.unwrap_or_default();
            return Err(ArtifactError::DownloadFailed {
                name: name.to_owned(),
                url: redact_url(&r.signed_url),
                status: status.as_u16(),
                body: snippet(&body),
            });
        }
        let mut zip =
            tempfile::tempfile_in(temp_dir()).map_err(|source| ArtifactError::Io { source })?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = response.chunk().await.map_err(|e| ArtifactError::Http {
            what: format!("downloading artifact `{name}`"),
            source: e.without_url(),
        })? {
            hasher.update(&chunk);
            size += chunk.len() as u64;
            zip.write_all(&chunk)
                .map_err(|source| ArtifactError::Io { source })?;
        }
        zip.rewind()
            .map_err(|source| ArtifactError::Io { source })?;
        let files = extract_zip(name, zip, dest)?;
        Ok(Downloaded {
            name: name.to_owned(),
            size,
            digest: format!("sha256:{}", hex(&hasher.finalize())),
            files,
        })
    }
}

/// Extracts an artifact zip into `dest`: every entry must stay inside it (no absolute paths,
/// no `..`); each file is written under a temporary name and renamed, so no half-written file
/// is left behind; a file already there with the same bytes is kept, with other bytes is an
/// error (two artifacts disagreeing about one file).
pub fn extract_zip(name: &str, zip: std::fs::File, dest: &Path) -> Result<Vec<String>> {
    let bad = |why: String| ArtifactError::Extract {
        name: name.to_owned(),
        why,
    };
    let mut archive = zip::ZipArchive::new(std::io::BufReader::new(zip))
        .map_err(|e| bad(format!("not a zip: {e}")))?;
    fs_err::create_dir_all(dest).map_err(|source| ArtifactError::Io { source })?;
    let mut written = Vec::new();
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|e| bad(format!("entry {index}: {e}")))?;
        let Some(rel) = entry.enclosed_name() else {
            return Err(bad(format!(
                "entry `{}` would be written outside the destination",
                entry
                    .name()
                    .map_or_else(|_| "(not UTF-8)".to_owned(), |n| n.into_owned())
            )));
        };
        let target = dest.join(&rel);
        if entry.is_dir() {
            fs_err::create_dir_all(&target).map_err(|source| ArtifactError::Io { source })?;
            continue;
        }
        if let Some(parent) = target.parent() {
            fs_err::create_dir_all(parent).map_err(|source| ArtifactError::Io { source })?;
        }
        // Named for this process: removed on an interrupt, and by a later run if this one is
        // killed.
        let mut temp = crate::scratch::file_in(target.parent().unwrap_or(dest), ".part", 0o666)
            .map_err(|source| ArtifactError::Io { source })?;
        std::io::copy(&mut entry, &mut temp)
            .map_err(|e| bad(format!("entry `{}`: {e}", rel.display())))?;
        // The file keeps the mode it was uploaded with (the temporary file is `rw-------`).
        let mode = entry
            .unix_mode()
            .map_or(crate::wheel::mode::FRESH_MODE, |m| m & 0o777);
        crate::wheel::mode::set_mode(temp.as_file(), mode)
            .map_err(|source| ArtifactError::Io { source })?;
        let shown = rel.to_string_lossy().replace('\\', "/");
        if target.exists() {
            let same = fs_err::read(&target)
                .and_then(|old| fs_err::read(temp.path()).map(|new| old == new))
                .map_err(|source| ArtifactError::Io { source })?;
            if !same {
                return Err(ArtifactError::Conflict { path: target });
            }
        } else {
            temp.persist(&target)
                .map_err(|e| ArtifactError::Io { source: e.error })?;
        }
        written.push(shown);
    }
    Ok(written)
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> String {
        let enc = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.sig",
            enc.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
            enc.encode(claims)
        )
    }

    #[test]
    fn backend_ids_come_from_the_results_scope() {
        let token = jwt(
            r#"{"scp":"Actions.ExampleScope Actions.Results:ce7f54c7-61c7-4aae-887f-30da475f5f1a:ca395085-040a-526b-2ce8-bdc85f692774","exp":1}"#,
        );
        assert_eq!(
            backend_ids(&token).unwrap(),
            BackendIds {
                workflow_run_backend_id: "ce7f54c7-61c7-4aae-887f-30da475f5f1a".to_owned(),
                workflow_job_run_backend_id: "ca395085-040a-526b-2ce8-bdc85f692774".to_owned(),
            }
        );
    }

    #[test]
    fn bad_tokens_say_what_is_wrong_without_the_token() {
        let err = |t: &str| backend_ids(t).unwrap_err().to_string();
        insta::assert_snapshot!(err("abc"), @"Failed to get backend IDs: the ACTIONS_RUNTIME_TOKEN is invalid and/or missing claims (not a JWT)");
        insta::assert_snapshot!(err(&jwt(r#"{"scp":"Actions.Results:1"}"#)), @"Failed to get backend IDs: the ACTIONS_RUNTIME_TOKEN is invalid and/or missing claims (malformed Actions.Results scope)");
        insta::assert_snapshot!(err(&jwt(r#"{"scp":"Actions.Other:1:2"}"#)), @"Failed to get backend IDs: the ACTIONS_RUNTIME_TOKEN is invalid and/or missing claims (no Actions.Results scope)");
        insta::assert_snapshot!(err(&jwt(r#"{"ac":"x"}"#)), @"Failed to get backend IDs: the ACTIONS_RUNTIME_TOKEN is invalid and/or missing claims (no `scp` claim)");
        insta::assert_snapshot!(err("a.!!!.b"), @"Failed to get backend IDs: the ACTIONS_RUNTIME_TOKEN is invalid and/or missing claims (the payload is not base64url)");
    }

    #[test]
    fn replies_in_both_spellings() {
        let camel = br#"{"ok":true,"signedUploadUrl":"http://h/x?sig=a%3D"}"#;
        let snake = br#"{"ok":true,"signed_upload_url":"http://h/x?sig=a%3D"}"#;
        for body in [&camel[..], &snake[..]] {
            assert_eq!(
                parse_create_reply(body).unwrap(),
                (true, "http://h/x?sig=a%3D".to_owned())
            );
        }
        assert_eq!(
            parse_finalize_reply(br#"{"ok":true,"artifactId":"123"}"#).unwrap(),
            (true, "123".to_owned())
        );
        assert_eq!(
            parse_finalize_reply(br#"{"ok":true,"artifact_id":"9007199254740993"}"#).unwrap(),
            (true, "9007199254740993".to_owned())
        );
        assert_eq!(
            parse_finalize_reply(br#"{"ok":true,"artifact_id":7}"#).unwrap(),
            (true, "7".to_owned())
        );
        // Defaults are omitted in protobuf JSON: `{}` is ok=false.
        assert_eq!(parse_create_reply(b"{}").unwrap(), (false, String::new()));
    }

    #[test]
    fn names_are_checked() {
        assert!(validate_name("wheels-linux-x86_64").is_ok());
        for bad in [
            "", "a/b", "a:b", "a\\b", "a\nb", "a?", "a*", "a|b", "a<b", "a>b", "a\"b",
        ] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn origins_and_ghes() {
        assert_eq!(
            origin("https://results-receiver.actions.githubusercontent.com/").as_deref(),
            Some("https://results-receiver.actions.githubusercontent.com/")
        );
        assert_eq!(
            origin("http://127.0.0.1:34567/some/path?x=1").as_deref(),
            Some("http://127.0.0.1:34567/")
        );
        assert_eq!(origin("ftp://x/"), None);
        assert_eq!(origin("not a url"), None);
        assert!(!is_ghes("https://github.com"));
        assert!(!is_ghes("https://acme.ghe.com"));
        assert!(is_ghes("https://github.acme.internal"));
    }

    #[test]
    fn payload_names_are_relative_to_the_common_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs_err::create_dir_all(root.join("wh/sub")).unwrap();
        fs_err::write(root.join("wh/a.whl"), b"a").unwrap();
        fs_err::write(root.join("wh/sub/b.txt"), b"b").unwrap();
        fs_err::write(root.join("c.txt"), b"c").unwrap();
        let names = |paths: &[PathBuf]| -> Vec<String> {
            collect(paths).unwrap().files.keys().cloned().collect()
        };
        assert_eq!(names(&[root.join("wh")]), ["a.whl", "sub/b.txt"]);
        assert_eq!(names(&[root.join("wh/a.whl")]), ["a.whl"]);
        assert_eq!(
            names(&[root.join("wh"), root.join("c.txt")]),
            ["c.txt", "wh/a.whl", "wh/sub/b.txt"]
        );
        assert_eq!(
            names(&[root.join("wh/sub/../a.whl"), root.join("wh/sub/b.txt")]),
            ["a.whl", "sub/b.txt"]
        );
        let err = collect(&[root.join("missing")]).unwrap_err().to_string();
        assert!(
            err.ends_with("missing`: No such file or directory (os error 2)"),
            "{err}"
        );
        fs_err::create_dir_all(root.join("empty")).unwrap();
        let err = collect(&[root.join("empty")]).unwrap_err().to_string();
        assert!(err.starts_with("no files to upload in `"), "{err}");
    }

    #[test]
    fn symlink_loops_are_walked_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs_err::create_dir_all(root.join("d")).unwrap();
        fs_err::write(root.join("d/f"), b"f").unwrap();
        std::os::unix::fs::symlink(root.join("d"), root.join("d/loop")).unwrap();
        let payload = collect(&[root.join("d")]).unwrap();
        assert_eq!(payload.files.keys().collect::<Vec<_>>(), ["f"]);
    }

    #[test]
    fn zips_are_deterministic_and_store_compressed_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs_err::write(root.join("x.whl"), vec![7u8; 4096]).unwrap();
        fs_err::write(root.join("notes.txt"), "text ".repeat(1000)).unwrap();
        let payload = collect(&[root.to_path_buf()]).unwrap();
        let one = write_zip(&payload, std::io::Cursor::new(Vec::new()), 6)
            .unwrap()
            .into_inner();
        let two = write_zip(&payload, std::io::Cursor::new(Vec::new()), 6)
            .unwrap()
            .into_inner();
        assert_eq!(one, two);
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(one)).unwrap();
        assert_eq!(
            archive.by_name("x.whl").unwrap().compression(),
            zip::CompressionMethod::Stored
        );
        let txt = archive.by_name("notes.txt").unwrap();
        assert_eq!(txt.compression(), zip::CompressionMethod::Deflated);
        assert!(txt.compressed_size() < 200);
    }
}

#[cfg(test)]
mod download_tests {
    use super::*;

    #[test]
    fn list_replies_in_both_spellings() {
        let act = br#"{"artifacts":[{"workflowRunBackendId":"1","workflowJobRunBackendId":"2","databaseId":"17","name":"wheels-linux-x86_64","size":"2093","createdAt":"2024-01-23T00:13:28Z"}]}"#;
        let github = br#"{"artifacts":[{"workflow_run_backend_id":"1","database_id":"18","name":"wheels-linux-i686","size":"10"},{"name":"logs","database_id":19}]}"#;
        assert_eq!(
            parse_list_reply(act).expect("act"),
            [Listed {
                name: "wheels-linux-x86_64".to_owned(),
                id: "17".to_owned(),
                size: "2093".to_owned()
            }]
        );
        let listed = parse_list_reply(github).expect("github");
        assert_eq!(listed[1].id, "19");
        assert_eq!(parse_list_reply(b"{}").expect("empty"), []);
        assert!(parse_list_reply(b"not json").is_err());
    }

    #[test]
    fn patterns_select_artifacts_and_say_what_exists() {
        let listed = parse_list_reply(
            br#"{"artifacts":[{"name":"wheels-linux-i686"},{"name":"logs"},{"name":"wheels-linux-x86_64"}]}"#,
        )
        .expect("parses");
        assert_eq!(
            matching(&listed, "wheels-*").expect("matches"),
            ["wheels-linux-i686", "wheels-linux-x86_64"]
        );
        assert_eq!(matching(&listed, "logs").expect("exact"), ["logs"]);
        assert_eq!(
            matching(&listed, "sdist").expect_err("none").to_string(),
            "no artifact of this run matches `sdist` (it has: logs, wheels-linux-i686, wheels-linux-x86_64)"
        );
        assert!(matching(&listed, "wheels-[").is_err());
    }

    fn zip_of(entries: &[(&str, &[u8])]) -> std::fs::File {
        let mut file = tempfile::tempfile().expect("temp");
        {
            let mut writer = zip::ZipWriter::new(&mut file);
            for (name, data) in entries {
                writer
                    .start_file(*name, zip::write::SimpleFileOptions::default())
                    .expect("entry");
                writer.write_all(data).expect("data");
            }
            writer.finish().expect("finish");
        }
        file.rewind().expect("rewind");
        file
    }

    #[test]
    fn extracted_files_keep_their_mode() {
        use std::os::unix::fs::PermissionsExt as _;
        let mut file = tempfile::tempfile().expect("temp");
        {
            let mut writer = zip::ZipWriter::new(&mut file);
            for (name, mode) in [("plain.whl", None), ("private.whl", Some(0o640))] {
                let mut options = zip::write::SimpleFileOptions::default();
                if let Some(mode) = mode {
                    options = options.unix_permissions(mode);
                }
                writer.start_file(name, options).expect("entry");
                writer.write_all(b"wheel").expect("data");
            }
            writer.finish().expect("finish");
        }
        file.rewind().expect("rewind");
        let dir = tempfile::tempdir().expect("tempdir");
        extract_zip("modes", file, dir.path()).expect("extracts");
        let mode = |name: &str| {
            fs_err::metadata(dir.path().join(name))
                .expect("metadata")
                .permissions()
                .mode()
                & 0o777
        };
        // Not the temporary file's `rw-------`.
        assert_eq!(mode("plain.whl"), 0o644);
        assert_eq!(mode("private.whl"), 0o640);
    }

    #[test]
    fn extraction_merges_refuses_conflicts_and_escapes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let dest = dir.path().join("wheelhouse");
        let files = extract_zip(
            "a",
            zip_of(&[("a.whl", b"one"), ("sub/b.txt", b"two")]),
            &dest,
        )
        .expect("extracts");
        assert_eq!(files, ["a.whl", "sub/b.txt"]);
        assert_eq!(fs_err::read(dest.join("sub/b.txt")).expect("read"), b"two");
        // The same file again (another artifact, a re-run) is fine; other bytes are not.
        extract_zip(
            "b",
            zip_of(&[("a.whl", b"one"), ("c.whl", b"three")]),
            &dest,
        )
        .expect("merges");
        let err = extract_zip("c", zip_of(&[("a.whl", b"other")]), &dest).expect_err("conflict");
        assert!(
            err.to_string()
                .contains("already there with other contents"),
            "{err}"
        );
        assert_eq!(fs_err::read(dest.join("a.whl")).expect("read"), b"one");
        let err = extract_zip("d", zip_of(&[("../escape.txt", b"x")]), &dest).expect_err("slip");
        assert!(err.to_string().contains("outside the destination"), "{err}");
        assert!(!dir.path().join("escape.txt").exists());
        let mut names: Vec<String> = fs_err::read_dir(&dest)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["a.whl", "c.whl", "sub"], "no temporary files left");
    }
}
