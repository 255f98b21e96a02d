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
//!   a message (see [`crate::net::secret::redact_url`]).
//! * Twirp calls are retried like `@actions/artifact` does (429/5xx/non-JSON replies, up to 5
//!   attempts, growing delays); block uploads are not, since a repeated block would be appended
//!   twice by act.
//!
//! Layout: this module holds the runtime environment, the errors and the client; `upload`
//! (payload, zip, CreateArtifact, blocks, FinalizeArtifact), `download` (ListArtifacts,
//! GetSignedArtifactURL, the zip, extraction) and `twirp` (the one call of the service, retried
//! per [`crate::net::retry`]).

mod download;
mod twirp;
mod upload;

pub(crate) use download::matching;
pub(crate) use upload::collect;

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;

use super::env_nonempty;
use crate::net::secret::{Secret, redact_url};

/// Path of the artifact service below the results URL's origin.
pub(crate) const SERVICE_PATH: &str = "twirp/github.actions.results.api.v1.ArtifactService";
/// Size of one uploaded block.
pub(crate) const BLOCK_SIZE: usize = 8 * 1024 * 1024;
/// Azure's limit of blocks per blob.
pub(crate) const MAX_BLOCKS: u64 = 50_000;
/// The storage service version we speak.
const X_MS_VERSION: &str = "2023-11-03";
/// The artifact version upload-artifact v4 sends.
const ARTIFACT_VERSION: u32 = 4;
/// Characters the artifact service refuses in names.
const FORBIDDEN_NAME_CHARS: [char; 11] = ['"', ':', '<', '>', '|', '*', '?', '\r', '\n', '\\', '/'];
/// What went wrong, with the thing it concerns.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ArtifactError {
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
pub(crate) struct BackendIds {
    /// The workflow run's backend ID.
    pub workflow_run_backend_id: String,
    /// The job's backend ID.
    pub workflow_job_run_backend_id: String,
}

/// Reads the backend IDs from the token's `scp` claim: the scope
/// `Actions.Results:<run>:<job>`. The JWT is decoded, not verified.
pub(crate) fn backend_ids(token: &str) -> Result<BackendIds> {
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
pub(crate) struct RuntimeEnv {
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
pub(crate) fn missing_env() -> Vec<&'static str> {
    ["ACTIONS_RUNTIME_TOKEN", "ACTIONS_RESULTS_URL"]
        .into_iter()
        .filter(|name| env_nonempty(name).is_none())
        .collect()
}

impl RuntimeEnv {
    /// Reads the runtime environment; errors name what is missing or wrong.
    pub(crate) fn from_env() -> Result<Self> {
        let missing = missing_env();
        if !missing.is_empty() {
            return Err(ArtifactError::MissingEnv { missing });
        }
        let token = Secret::masked(env_nonempty("ACTIONS_RUNTIME_TOKEN").unwrap_or_default());
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
pub(crate) fn validate_name(name: &str) -> Result<()> {
    if name.is_empty() || name.contains(FORBIDDEN_NAME_CHARS) {
        return Err(ArtifactError::InvalidName {
            name: name.to_owned(),
        });
    }
    Ok(())
}

/// The artifacts v4 client.
pub(crate) struct Client {
    env: RuntimeEnv,
    http: reqwest::Client,
}

impl Client {
    /// A client for the runtime environment.
    pub(crate) fn new(env: RuntimeEnv) -> Result<Self> {
        let http = super::http_client(env.stall_timeout)?;
        Ok(Client { env, http })
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

/// Where the zip is staged: `RUNNER_TEMP` on runners, else the system's temp directory.
fn temp_dir() -> PathBuf {
    env_nonempty("RUNNER_TEMP").map_or_else(std::env::temp_dir, PathBuf::from)
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
    use super::upload::{parse_create_reply, parse_finalize_reply, write_zip};
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
