//! The legacy upload protocol (publish.md §1): one `multipart/form-data` POST per file with the
//! metadata fields twine sends and the file streamed from disk as the last part; the answer
//! classified into what the caller must do next. Redirects are never followed: a redirected
//! upload is almost always the `/legacy` vs `/legacy/` mistake, and re-posting a large body
//! to wherever a server points is not something to do silently.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use reqwest::{StatusCode, Url, header, multipart};

use super::Reporter;
use super::dist::Distribution;
use super::http_log;
use crate::net::retry::{self, RetryOn, RetryPolicy, Transport};
use crate::net::secret::{Redactor, Secret, display_url};

/// What the server said the outcome was (all 2xx).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Stored. The body, if not empty, holds warnings for the user.
    Uploaded {
        /// Warnings from the index.
        warnings: Option<String>,
    },
    /// The index already had this exact file and said so (devpi: "Upload of identical file").
    Identical {
        /// What it said.
        message: String,
    },
}

/// Why an upload attempt failed.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum UploadError {
    /// The file could not be opened or changed since it was hashed.
    #[error("cannot read `{}`: {message}", path.display())]
    File {
        /// The file.
        path: std::path::PathBuf,
        /// What went wrong.
        message: String,
    },
    /// No (complete) answer: connection refused or reset, TLS, timeout while connecting.
    #[error("{message}")]
    Transport {
        /// The error chain, flattened.
        message: String,
        /// Whether another attempt may work.
        retryable: bool,
    },
    /// Nothing was sent or received for the idle timeout.
    #[error("no progress for {seconds} s: nothing was sent or received (the limit is `--timeout`)")]
    Stalled {
        /// The idle timeout.
        seconds: u64,
    },
    /// A 5xx answer.
    #[error("the index failed ({status}): {message}")]
    Server {
        /// HTTP status.
        status: StatusCode,
        /// The index's message.
        message: String,
    },
    /// The file (or one with the same name) is already on the index.
    #[error("the file already exists on the index ({status}): {message}")]
    Exists {
        /// HTTP status.
        status: StatusCode,
        /// The index's message.
        message: String,
    },
    /// 401/403: the credentials were refused or lack permission.
    #[error("the index refused the credentials ({status}): {message}\nhint: {hint}")]
    Auth {
        /// HTTP status.
        status: StatusCode,
        /// The index's message.
        message: String,
        /// What to check.
        hint: String,
    },
    /// A 3xx answer.
    #[error(
        "the index answered {status} redirecting `{from}` to `{to}`; uploads are not sent on to another URL\nhint: use the upload URL itself: `--repository-url {to}`{slash_hint}"
    )]
    Redirect {
        /// HTTP status.
        status: StatusCode,
        /// The upload URL used.
        from: String,
        /// Where the index pointed (resolved; no credentials).
        to: String,
        /// Extra words when only the trailing slash differs.
        slash_hint: &'static str,
    },
    /// 405: not an upload endpoint.
    #[error(
        "`{url}` does not take uploads ({status}): {message}\nhint: this looks like a Simple index or web URL, not the upload URL (for PyPI and TestPyPI use `--repository pypi` or `--repository testpypi`)"
    )]
    NotUploadEndpoint {
        /// The URL.
        url: String,
        /// HTTP status.
        status: StatusCode,
        /// The index's message.
        message: String,
    },
    /// Any other 4xx: the index rejected the file.
    #[error("the index rejected the file ({status}): {message}")]
    Rejected {
        /// HTTP status.
        status: StatusCode,
        /// The index's message.
        message: String,
    },
}

/// What an upload retries (publish.md §1.8): 5xx answers and transport failures other than
/// TLS verification; never a 4xx or a redirect. A stall is retried too.
pub const RETRY_ON: RetryOn = RetryOn {
    server_errors: true,
    statuses: &[],
    transport: Transport::NotTls,
};

impl UploadError {
    /// Whether another attempt may succeed.
    #[must_use]
    pub fn retryable(&self) -> bool {
        match self {
            Self::Transport { retryable, .. } => *retryable,
            Self::Server { status, .. } => RETRY_ON.status(status.as_u16()),
            Self::Stalled { .. } => true,
            _ => false,
        }
    }

    /// Whether the error applies to every file (so the others need not be tried).
    #[must_use]
    pub fn stops_everything(&self) -> bool {
        matches!(
            self,
            Self::Auth { .. } | Self::Redirect { .. } | Self::NotUploadEndpoint { .. }
        )
    }
}

/// Time of the last byte sent or received, for the idle watchdog.
struct Activity {
    start: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
        }
    }

    fn touch(&self) {
        let now = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(now, Ordering::Relaxed);
    }

    fn idle(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }
}

/// Resolves when nothing has happened for `timeout`.
async fn watchdog(activity: &Activity, timeout: Duration) {
    loop {
        let idle = activity.idle();
        if idle >= timeout {
            return;
        }
        tokio::time::sleep(timeout - idle).await;
    }
}

/// Sends files to one upload endpoint.
pub struct Uploader {
    client: reqwest::Client,
    url: Url,
    idle_timeout: Duration,
    reporter: Arc<dyn Reporter>,
    redactor: Redactor,
}

/// The Accept header (uv's): JSON errors from Warehouse, text or HTML from others.
const ACCEPT: &str = "application/json;q=0.9, text/plain;q=0.8, text/html;q=0.7";

/// The largest answer body read.
const ANSWER_LIMIT: usize = 1024 * 1024;

/// Chunk size of the file stream.
const CHUNK: usize = 256 * 1024;

impl Uploader {
    /// An uploader for `url` using `client` (which must not follow redirects). `redactor`
    /// scrubs what `-v` shows of the exchanges.
    #[must_use]
    pub fn new(
        client: reqwest::Client,
        url: Url,
        idle_timeout: Duration,
        reporter: Arc<dyn Reporter>,
        redactor: Redactor,
    ) -> Self {
        Self {
            client,
            url,
            idle_timeout,
            reporter,
            redactor,
        }
    }

    /// Uploads `dist`, retrying per `policy`. Returns the outcome and the number of attempts.
    pub async fn upload(
        &self,
        dist: &Distribution,
        attestation: Option<&super::attest::Attested>,
        auth: Option<&(String, Secret)>,
        policy: &RetryPolicy,
    ) -> (Result<Answer, UploadError>, u32) {
        retry::retry(
            policy,
            |_| self.attempt(dist, attestation, auth),
            UploadError::retryable,
            |err, retry| {
                self.reporter.warn(&format!(
                    "uploading `{}` failed: {err}; retry {} of {} in {:.1} s",
                    dist.filename,
                    retry.number,
                    retry.of,
                    retry.delay.as_secs_f64()
                ));
            },
        )
        .await
    }

    /// One POST with a freshly opened file.
    async fn attempt(
        &self,
        dist: &Distribution,
        attestation: Option<&super::attest::Attested>,
        auth: Option<&(String, Secret)>,
    ) -> Result<Answer, UploadError> {
        let file_error = |message: String| UploadError::File {
            path: dist.path.clone(),
            message,
        };
        let file = tokio::fs::File::open(&dist.path)
            .await
            .map_err(|e| file_error(e.to_string()))?;
        let size = file
            .metadata()
            .await
            .map_err(|e| file_error(e.to_string()))?
            .len();
        if size != dist.size {
            return Err(file_error(format!(
                "its size changed from {} to {size} bytes since it was hashed",
                dist.size
            )));
        }

        let activity = Arc::new(Activity::new());
        let reporter = Arc::clone(&self.reporter);
        let name = dist.filename.clone();
        reporter.on_upload_start(&name, size);
        let mut sent = 0u64;
        let stream_activity = Arc::clone(&activity);
        let stream =
            tokio_util::io::ReaderStream::with_capacity(file, CHUNK).inspect(move |chunk| {
                if let Ok(bytes) = chunk {
                    sent += bytes.len() as u64;
                    stream_activity.touch();
                    reporter.on_upload_progress(&name, sent);
                }
            });
        let content = multipart::Part::stream_with_length(reqwest::Body::wrap_stream(stream), size)
            .file_name(dist.filename.clone())
            .mime_str("application/octet-stream")
            .map_err(|e| file_error(e.to_string()))?;
        let mut form = multipart::Form::new().percent_encode_noop();
        for (name, value) in form_fields(dist) {
            http_log::form_field(&self.redactor, &name, &value);
            form = form.text(name, value);
        }
        if let Some(attestation) = attestation {
            // A JSON array of PEP 740 attestation objects, as twine sends it.
            let value = attestation.form_value();
            http_log::form_field(&self.redactor, "attestations", &value);
            form = form.text("attestations", value);
        }
        form = form.part("content", content);

        let mut request = self
            .client
            .post(self.url.clone())
            .header(header::ACCEPT, ACCEPT)
            .multipart(form);
        if let Some((user, password)) = auth {
            request = request.basic_auth(user, Some(password.expose()));
        }
        let request = request.build().map_err(|e| transport(&e))?;
        http_log::request(
            &self.redactor,
            "POST",
            &self.url,
            request.headers(),
            &format!(
                "`{}`, {}",
                dist.filename,
                crate::ui::progress::human_bytes(size)
            ),
        );

        let exchange = async {
            let mut response = self
                .client
                .execute(request)
                .await
                .map_err(|e| transport(&e))?;
            activity.touch();
            let status = response.status();
            let reason = response
                .extensions()
                .get::<hyper::ext::ReasonPhrase>()
                .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned());
            let headers = response.headers().clone();
            let content_type = header_text(&headers, header::CONTENT_TYPE);
            let location = Some(header_text(&headers, header::LOCATION)).filter(|l| !l.is_empty());
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(|e| transport(&e))? {
                activity.touch();
                let room = ANSWER_LIMIT.saturating_sub(body.len());
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            http_log::response(
                &self.redactor,
                "POST",
                &self.url,
                status,
                reason.as_deref(),
                &headers,
                &body,
            );
            Ok(classify(
                &self.url,
                status,
                reason.as_deref(),
                &content_type,
                &String::from_utf8_lossy(&body),
                location.as_deref(),
            ))
        };
        let result = tokio::select! {
            result = exchange => result.and_then(|r| r),
            () = watchdog(&activity, self.idle_timeout) => Err(UploadError::Stalled {
                seconds: self.idle_timeout.as_secs(),
            }),
        };
        self.reporter.on_upload_end(&dist.filename);
        result
    }
}

fn header_text(headers: &header::HeaderMap, name: header::HeaderName) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// The form fields other than `content`, in twine's order: the metadata, then `pyversion`,
/// `filetype`, the digests, `:action` and `protocol_version`.
#[must_use]
pub fn form_fields(dist: &Distribution) -> Vec<(String, String)> {
    let mut fields = dist.metadata_fields.clone();
    fields.extend(
        [
            ("pyversion", dist.pyversion.as_str()),
            ("filetype", dist.kind.filetype()),
            ("sha256_digest", dist.sha256.as_str()),
            ("blake2_256_digest", dist.blake2_256.as_str()),
            (":action", "file_upload"),
            ("protocol_version", "1"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    fields
}

fn transport(err: &reqwest::Error) -> UploadError {
    let message = crate::net::error_chain(err);
    UploadError::Transport {
        // Never print the URL's query or credentials: reqwest's message has the URL.
        message: crate::net::secret::redact_urls_in(&message),
        retryable: RETRY_ON.transport(err),
    }
}

/// The index's own words for an answer: a non-standard reason phrase (Warehouse puts its
/// message there), the JSON `code`/`message`/`detail`, the text of an HTML or plain body, or
/// the standard reason phrase.
#[must_use]
pub fn server_message(
    status: StatusCode,
    reason: Option<&str>,
    content_type: &str,
    body: &str,
) -> String {
    let canonical = status.canonical_reason().unwrap_or("");
    if let Some(reason) = reason
        .map(str::trim)
        .filter(|r| !r.is_empty() && *r != canonical)
    {
        return reason.to_owned();
    }
    if content_type.contains("json") {
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(body) {
            for key in ["code", "message", "detail", "title"] {
                if let Some(text) = value
                    .get(key)
                    .and_then(|v| v.as_str())
                    .filter(|t| !t.is_empty())
                {
                    return text.to_owned();
                }
            }
        }
    }
    let text = if content_type.contains("html") || body.trim_start().starts_with('<') {
        html_text(body)
    } else {
        body.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    match text.trim() {
        "" => canonical.to_owned(),
        text if text.chars().count() > 500 => {
            format!("{}…", text.chars().take(500).collect::<String>())
        }
        text => text.to_owned(),
    }
}

/// The readable text of an HTML error page: the `<pre>` block if there is one (Bottle, used by
/// pypiserver, puts the message there), else the `<body>` without tags.
fn html_text(body: &str) -> String {
    let lower = body.to_ascii_lowercase();
    let inner = |tag: &str| {
        let open = lower.find(&format!("<{tag}"))?;
        let start = open + lower[open..].find('>')? + 1;
        let end = start + lower[start..].find(&format!("</{tag}"))?;
        Some(&body[start..end])
    };
    let chosen = inner("pre").or_else(|| inner("body")).unwrap_or(body);
    let mut text = String::new();
    let mut in_tag = false;
    for c in chosen.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.replace("&#039;", "'")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// What indexes answer when a file with that name is already there (publish.md §1.9; the
/// non-PyPI ones are twine's list): `(status, words in the message or body)`; `None` words:
/// the status alone says it.
const EXISTS_ANSWERS: &[(StatusCode, Option<&str>)] = &[
    // pypiserver, devpi, and any index that answers "Conflict".
    (StatusCode::CONFLICT, None),
    // PyPI and TestPyPI ("File already exists (…)"), GCP Artifact Registry, pypiserver for
    // a twine User-Agent.
    (StatusCode::BAD_REQUEST, Some("already exist")),
    // Nexus Repository: "Repository does not allow updating assets".
    (StatusCode::BAD_REQUEST, Some("updating asset")),
    // GitLab's package registry: "Validation failed: File name has already been taken".
    (StatusCode::BAD_REQUEST, Some("already been taken")),
    // Artifactory: "Not enough permissions to delete/overwrite artifact …".
    (StatusCode::FORBIDDEN, Some("overwrite artifact")),
];

/// Whether an answer says the file (or one with its name) is already on the index.
fn says_exists(status: StatusCode, message: &str, body: &str) -> bool {
    let (message, body) = (message.to_ascii_lowercase(), body.to_ascii_lowercase());
    EXISTS_ANSWERS.iter().any(|(code, words)| {
        *code == status && words.is_none_or(|w| message.contains(w) || body.contains(w))
    })
}

/// Classifies an answer to an upload.
pub fn classify(
    url: &Url,
    status: StatusCode,
    reason: Option<&str>,
    content_type: &str,
    body: &str,
    location: Option<&str>,
) -> Result<Answer, UploadError> {
    if status.is_success() {
        let text = server_message(status, None, content_type, body);
        let text = if body.trim().is_empty() {
            String::new()
        } else {
            text
        };
        if text.to_ascii_lowercase().contains("identical file") {
            return Ok(Answer::Identical { message: text });
        }
        return Ok(Answer::Uploaded {
            warnings: Some(text).filter(|t| !t.is_empty()),
        });
    }
    if status.is_redirection() {
        let to = location
            .and_then(|l| url.join(l).ok())
            .map_or_else(|| "(no Location header)".to_owned(), |u| display_url(&u));
        let only_slash = to.trim_end_matches('/') == display_url(url).trim_end_matches('/');
        return Err(UploadError::Redirect {
            status,
            from: display_url(url),
            to,
            slash_hint: if only_slash {
                " (upload URLs end with a slash, e.g. `…/legacy/`)"
            } else {
                ""
            },
        });
    }
    let message = server_message(status, reason, content_type, body);
    if says_exists(status, &message, body) {
        return Err(UploadError::Exists { status, message });
    }
    match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
            let hint = if status == StatusCode::UNAUTHORIZED {
                "check the user name and password (or token) for this index".to_owned()
            } else {
                "check that the credentials are right for this index and allowed to upload to this project (an API token scoped to another project, an expired token, or a user without upload rights is refused)".to_owned()
            };
            Err(UploadError::Auth {
                status,
                message,
                hint,
            })
        }
        StatusCode::METHOD_NOT_ALLOWED => Err(UploadError::NotUploadEndpoint {
            url: display_url(url),
            status,
            message,
        }),
        s if s.is_server_error() => Err(UploadError::Server { status, message }),
        _ => Err(UploadError::Rejected { status, message }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url() -> Url {
        Url::parse("https://index.test/legacy").unwrap()
    }

    #[test]
    fn messages_come_from_reason_json_or_body() {
        let s400 = StatusCode::BAD_REQUEST;
        assert_eq!(
            server_message(
                s400,
                Some("File already exists ('a.whl', with blake2_256 hash 'ff')."),
                "text/html",
                "<html>x</html>"
            ),
            "File already exists ('a.whl', with blake2_256 hash 'ff')."
        );
        assert_eq!(
            server_message(
                s400,
                Some("Bad Request"),
                "application/json",
                r#"{"message":"m","code":"400 The description failed to render","title":"Bad Request"}"#
            ),
            "400 The description failed to render"
        );
        let bottle = "<!DOCTYPE HTML><html><head><title>Error: 409 Conflict</title></head><body><h1>Error: 409 Conflict</h1><p>Sorry, the requested URL <tt>&#039;http://127.0.0.1/&#039;</tt> caused an error:</p><pre>Package &#039;a-1.0.tar.gz&#039; already exists!</pre></body></html>";
        assert_eq!(
            server_message(
                StatusCode::CONFLICT,
                Some("Conflict"),
                "text/html; charset=UTF-8",
                bottle
            ),
            "Package 'a-1.0.tar.gz' already exists!"
        );
        assert_eq!(
            server_message(StatusCode::BAD_GATEWAY, None, "", "  "),
            "Bad Gateway"
        );
    }

    #[test]
    fn classifies_answers() {
        let u = url();
        let ok = |body: &str| classify(&u, StatusCode::OK, None, "text/plain", body, None);
        assert_eq!(ok(""), Ok(Answer::Uploaded { warnings: None }));
        assert_eq!(
            ok("deprecated thing\n"),
            Ok(Answer::Uploaded {
                warnings: Some("deprecated thing".into())
            })
        );
        assert!(matches!(
            ok("Upload of identical file to non volatile index."),
            Ok(Answer::Identical { .. })
        ));

        let err = |status, reason: Option<&str>, body: &str| {
            classify(&u, status, reason, "text/plain", body, Some("/legacy/")).unwrap_err()
        };
        let exists = err(
            StatusCode::BAD_REQUEST,
            Some("File already exists ('a.whl')"),
            "",
        );
        assert!(matches!(exists, UploadError::Exists { .. }), "{exists:?}");
        assert!(matches!(
            err(
                StatusCode::CONFLICT,
                None,
                "x already exists in non-volatile index"
            ),
            UploadError::Exists { .. }
        ));
        assert!(matches!(
            err(
                StatusCode::BAD_REQUEST,
                Some("Invalid value for blake2_256_digest"),
                ""
            ),
            UploadError::Rejected { .. }
        ));
        // Each index family's "already exists" answer, and look-alikes that are not.
        for (status, reason, body, exists) in [
            (
                409,
                None,
                "<pre>Package &#039;a-1.0.tar.gz&#039; already exists!</pre>",
                true,
            ),
            (
                400,
                Some("File already exists ('a.whl', with blake2_256 hash 'ff')."),
                "",
                true,
            ),
            (
                400,
                None,
                "Repository does not allow updating assets: pypi-hosted",
                true,
            ),
            (
                400,
                None,
                r#"{"message":"Validation failed: File name has already been taken"}"#,
                true,
            ),
            (
                403,
                None,
                r#"{"errors":[{"status":403,"message":"Not enough permissions to delete/overwrite artifact 'pypi-local:a/1.0/a.whl'"}]}"#,
                true,
            ),
            (
                400,
                None,
                "Only one sdist may be uploaded per release.",
                false,
            ),
            (
                400,
                Some("This filename was previously used by a file that has since been deleted."),
                "",
                false,
            ),
            (
                403,
                None,
                "Invalid or non-existent authentication information.",
                false,
            ),
            (422, None, "already exists", false),
        ] {
            let status = StatusCode::from_u16(status).unwrap();
            let answer = classify(&u, status, reason, "text/plain", body, None).unwrap_err();
            assert_eq!(
                matches!(answer, UploadError::Exists { .. }),
                exists,
                "{status} {reason:?} {body}: {answer:?}"
            );
        }
        assert!(err(StatusCode::SERVICE_UNAVAILABLE, None, "").retryable());
        assert!(!err(StatusCode::BAD_REQUEST, None, "").retryable());
        assert!(err(StatusCode::FORBIDDEN, None, "").stops_everything());
        let redirect = err(StatusCode::PERMANENT_REDIRECT, None, "");
        assert_eq!(
            redirect.to_string(),
            "the index answered 308 Permanent Redirect redirecting `https://index.test/legacy` to `https://index.test/legacy/`; uploads are not sent on to another URL\nhint: use the upload URL itself: `--repository-url https://index.test/legacy/` (upload URLs end with a slash, e.g. `…/legacy/`)"
        );
        assert!(!redirect.retryable());
    }
}
