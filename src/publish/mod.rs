//! `wheelwright publish`: upload distributions to a Python package index with the legacy
//! upload API, the way twine does, with trusted publishing, safe re-runs and retries.
//!
//! Design notes:
//!
//! * Preparation is separate from sending: every file is listed, checked (`crate::check`),
//!   parsed and hashed before the first byte goes out, so a bad file stops the run before
//!   anything is on the index.
//! * One file per request, in a stable order (sdists first, then wheels by name). A failed
//!   file does not stop the others unless the failure applies to all of them (credentials,
//!   a redirect, a URL that takes no uploads).
//! * Re-runs are idempotent: with `--skip-existing` the Simple index is consulted before
//!   uploading and after an "already exists" answer; a file with the same name and *other*
//!   content is always an error.
//! * Existence is decided on the target only: a file is skipped only when the target's own
//!   Simple page lists it with our sha256. A page that redirects to another server
//!   (pypiserver's default fallback) is unknown, so the file is uploaded and the index's
//!   answer decides. A run never ends well with a file neither uploaded nor confirmed there.
//! * Credentials stay with their host ([`credentials::check_destination`]): https only
//!   (http to loopback), a PyPI token only to PyPI/TestPyPI unless the user tied it to the URL,
//!   and never to a Simple index on another origin.
//! * Retries (transport errors, 5xx) re-open the file; a retried upload that then hears
//!   "already exists" is checked against the Simple index before it counts as success.
//! * With trusted publishing, every file gets a PEP 740 publish attestation ([`attest`]),
//!   made and verified after the token exchange and before the first upload: a file is never
//!   uploaded without the attestation that was asked for.
//! * Secrets are masked the moment they exist and scrubbed from every message
//!   ([`crate::net::Redactor`]). This module prints nothing: it reports through [`Reporter`].

pub mod attest;
pub mod credentials;
pub mod dist;
pub mod endpoints;
pub mod form;
pub mod http_log;
pub mod oidc;
pub mod simple;
pub mod upload;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::net::retry::RetryPolicy;
use crate::net::secret::{Redactor, Secret, display_url};
use crate::net::{ClientOptions, Redirects};
use credentials::{AuthPlan, Repository};
use dist::Distribution;
use simple::{IndexedFile, SimpleIndex};
use upload::{Answer, UploadError, Uploader};

/// Progress and messages from a publish run. Every method has a no-op default.
pub trait Reporter: Send + Sync {
    /// An upload attempt of `file` (`size` bytes) starts.
    fn on_upload_start(&self, file: &str, size: u64) {
        let _ = (file, size);
    }
    /// `sent` bytes of `file` are on their way.
    fn on_upload_progress(&self, file: &str, sent: u64) {
        let _ = (file, sent);
    }
    /// The attempt ended (either way).
    fn on_upload_end(&self, file: &str) {
        let _ = file;
    }
    /// Something the user should know about.
    fn warn(&self, message: &str) {
        let _ = message;
    }
    /// Progress in words.
    fn info(&self, message: &str) {
        let _ = message;
    }
}

/// A [`Reporter`] that reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopReporter;

impl Reporter for NoopReporter {}

/// What happened to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileStatus {
    /// The index stored it.
    Uploaded,
    /// The index already had this exact file (same SHA-256); nothing was sent or it was a no-op.
    Skipped,
    /// `--dry-run`: it would be uploaded.
    WouldUpload,
    /// It could not be uploaded.
    Failed,
    /// Not tried, because an earlier error applies to every file.
    NotAttempted,
}

impl FileStatus {
    /// The word in the table. Ex) `uploaded`
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Uploaded => "uploaded",
            Self::Skipped => "skipped",
            Self::WouldUpload => "would upload",
            Self::Failed => "FAILED",
            Self::NotAttempted => "not attempted",
        }
    }
}

/// The outcome for one file.
#[derive(Debug, Clone)]
pub struct FileReport {
    /// The distribution.
    pub dist: Distribution,
    /// What happened.
    pub status: FileStatus,
    /// Why (for skipped and failed files) or the index's warnings.
    pub message: Option<String>,
    /// How many upload requests were sent.
    pub attempts: u32,
    /// The attestation sent with it (or that would have been).
    pub attestation: Option<attest::Attested>,
}

/// Everything a publish run needs besides the files.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where to upload.
    pub repository: Repository,
    /// How to authenticate.
    pub auth: AuthPlan,
    /// Skip files the index already has (identical content).
    pub skip_existing: bool,
    /// Retry limits.
    pub retry: RetryPolicy,
    /// Give up on an attempt after this long without progress.
    pub idle_timeout: Duration,
    /// Make PEP 740 attestations with this Sigstore instance (trusted publishing only).
    pub attest: Option<attest::SigstoreConfig>,
}

/// A failure that stops the whole run before any file is sent.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// Trusted publishing failed.
    #[error(transparent)]
    TrustedPublishing(#[from] oidc::TrustedPublishingError),
    /// Attestations were asked for and could not be made.
    #[error(transparent)]
    Attest(#[from] attest::AttestError),
    /// An HTTP client could not be built (TLS setup).
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
}

/// The client for uploads: no redirects (see [`upload`]), a connect timeout; the idle timeout
/// is enforced per attempt by the uploader.
pub fn upload_client() -> Result<reqwest::Client, PublishError> {
    crate::net::client(&ClientOptions {
        connect_timeout: Duration::from_secs(10),
        timeout: None,
        read_timeout: None,
        redirects: Redirects::None,
    })
    .map_err(|e| PublishError::Client(e.to_string()))
}

/// The client for the Simple index and the trusted-publishing endpoints: a few redirects, an
/// overall timeout.
pub fn api_client(timeout: Duration) -> Result<reqwest::Client, PublishError> {
    crate::net::client(&ClientOptions {
        connect_timeout: Duration::from_secs(10),
        timeout: Some(timeout),
        read_timeout: None,
        redirects: Redirects::Limited(5),
    })
    .map_err(|e| PublishError::Client(e.to_string()))
}

/// Credentials for the current request, re-minting a trusted-publishing token when it is old.
struct Auth {
    plan: AuthPlan,
    current: Option<(String, Secret)>,
    minted: Option<oidc::MintedToken>,
}

impl Auth {
    async fn credentials(
        &mut self,
        client: &reqwest::Client,
        repository: &Repository,
        redactor: &Redactor,
        reporter: &dyn Reporter,
    ) -> Result<Option<(String, Secret)>, PublishError> {
        match &self.plan {
            AuthPlan::Anonymous => Ok(None),
            AuthPlan::Basic {
                username, password, ..
            } => {
                self.current = Some((username.clone(), password.clone()));
                Ok(self.current.clone())
            }
            AuthPlan::TrustedPublishing(env) => {
                // Renewed before each file once its time is up (2/3 of the lifetime the
                // index announced, at most `REMINT_AFTER`), from a fresh ID token each time.
                let fresh = self
                    .minted
                    .as_ref()
                    .is_some_and(|m| m.minted_at.elapsed() < m.renew_after);
                if !fresh {
                    let again = self.minted.is_some();
                    let minted = oidc::mint(client, &repository.upload_url, env, redactor).await?;
                    for warning in &minted.warnings {
                        reporter.warn(warning);
                    }
                    let lifetime = match minted.expires_in {
                        Some(secs) if secs > 0.0 => format!(
                            "; it expires in {secs:.0} s and is renewed after {:.0} s",
                            minted.renew_after.as_secs_f64()
                        ),
                        Some(_) => String::new(),
                        None => format!("; renewed after {} s", minted.renew_after.as_secs()),
                    };
                    reporter.info(&format!(
                        "{} an upload token by trusted publishing (repository `{}`, workflow `{}`{lifetime})",
                        if again { "Renewed" } else { "Obtained" },
                        minted.claims.repository.as_deref().unwrap_or("?"),
                        minted.claims.workflow_ref.as_deref().unwrap_or("?"),
                    ));
                    if let Some(secs) = minted.expires_in.filter(|s| *s <= 0.0) {
                        reporter.warn(&format!(
                            "the index says the upload token it just minted expired {:.0} s ago (`expires` in its reply); this machine's clock may be off, so every file gets a fresh token",
                            -secs
                        ));
                    }
                    redactor.add_basic(credentials::TOKEN_USERNAME, &minted.token);
                    self.current =
                        Some((credentials::TOKEN_USERNAME.to_owned(), minted.token.clone()));
                    self.minted = Some(minted);
                }
                Ok(self.current.clone())
            }
        }
    }
}

/// What the Simple index says about a file.
enum Presence {
    Absent,
    Same,
    Different { theirs: String },
    Unknown(String),
}

/// Project pages fetched so far (by normalised name).
struct SimpleLookup {
    index: Option<SimpleIndex>,
    pages: HashMap<String, Vec<IndexedFile>>,
}

impl SimpleLookup {
    async fn presence(&mut self, dist: &Distribution, fresh: bool) -> Presence {
        let Some(index) = &self.index else {
            return Presence::Unknown("the index's Simple API was not found".to_owned());
        };
        let key = crate::wheel::normalize_name(&dist.name);
        if fresh || !self.pages.contains_key(&key) {
            match index.project_files(&dist.name).await {
                Ok(files) => {
                    self.pages.insert(key.clone(), files);
                }
                Err(err) => return Presence::Unknown(err.to_string()),
            }
        }
        let Some(listed) = self
            .pages
            .get(&key)
            .and_then(|files| files.iter().find(|f| f.filename == dist.filename))
        else {
            return Presence::Absent;
        };
        match index.sha256_of(listed).await {
            Ok(sha) if sha.eq_ignore_ascii_case(&dist.sha256) => Presence::Same,
            Ok(sha) => Presence::Different { theirs: sha },
            Err(err) => Presence::Unknown(err.to_string()),
        }
    }
}

fn different_content(dist: &Distribution, theirs: &str) -> String {
    format!(
        "the index already has a different `{}` (sha256 {theirs} there, {} here); an index never replaces a file, so publish these changes under a new version",
        dist.filename, dist.sha256
    )
}

/// Uploads `dists` in order, each with its attestation: made here when `settings.attest` is
/// set, else the one in `attached` (found next to the file). Returns one report per file;
/// `Err` only for failures before the first upload (trusted publishing, attestations, client
/// set-up).
pub async fn publish(
    settings: &Settings,
    dists: &[Distribution],
    attached: Vec<Option<attest::Attested>>,
    reporter: Arc<dyn Reporter>,
    redactor: &Redactor,
) -> Result<Vec<FileReport>, PublishError> {
    let repository = &settings.repository;
    let api = api_client(Duration::from_secs(60))?;
    let simple_client =
        simple::client(Duration::from_secs(60)).map_err(|e| PublishError::Client(e.to_string()))?;
    let uploader = Uploader::new(
        upload_client()?,
        repository.upload_url.clone(),
        settings.idle_timeout,
        Arc::clone(&reporter),
        redactor.clone(),
    );
    let mut auth = Auth {
        plan: settings.auth.clone(),
        current: None,
        minted: None,
    };
    // Fail before anything else when trusted publishing does not work.
    auth.credentials(&api, repository, redactor, reporter.as_ref())
        .await?;

    // Attestations before the first upload: a failure here leaves the index untouched.
    let attestations: Vec<Option<attest::Attested>> = match (&settings.attest, &settings.auth) {
        (Some(config), AuthPlan::TrustedPublishing(oidc_env)) => attest::attest_all(
            dists,
            oidc_env,
            config,
            &settings.retry,
            redactor,
            reporter.as_ref(),
        )
        .await?
        .into_iter()
        .map(Some)
        .collect(),
        _ => attached,
    };

    let mut lookup = SimpleLookup {
        index: None,
        pages: HashMap::new(),
    };
    if settings.skip_existing {
        lookup.index = open_index(&simple_client, repository, auth.current.clone(), redactor).await;
        match &lookup.index {
            Some(index) => reporter.info(&format!(
                "Checking existing files in the Simple index `{}`",
                display_url(&index.base)
            )),
            None => reporter.warn(&format!(
                "found no Simple index next to `{}`; files already on the index are recognised only from its answers, and one that cannot be compared is an error\nhint: pass the index URL with `--index-url`",
                display_url(&repository.upload_url)
            )),
        }
    }

    let mut reports: Vec<FileReport> = Vec::with_capacity(dists.len());
    let mut stop: Option<String> = None;
    for (i, dist) in dists.iter().enumerate() {
        let attestation = attestations.get(i).cloned().flatten();
        let report = |status, message: Option<String>, attempts| FileReport {
            dist: dist.clone(),
            status,
            message: message.map(|m| redactor.redact(&m)),
            attempts,
            attestation: attestation.clone(),
        };
        if let Some(reason) = &stop {
            reports.push(report(FileStatus::NotAttempted, Some(reason.clone()), 0));
            continue;
        }
        if lookup.index.is_some() {
            match lookup.presence(dist, false).await {
                Presence::Same => {
                    reporter.info(&format!(
                        "Skipping `{}`: the index already has it (same sha256)",
                        dist.filename
                    ));
                    reports.push(report(
                        FileStatus::Skipped,
                        Some("already on the index (same sha256)".to_owned()),
                        0,
                    ));
                    continue;
                }
                Presence::Different { theirs } => {
                    reports.push(report(
                        FileStatus::Failed,
                        Some(different_content(dist, &theirs)),
                        0,
                    ));
                    continue;
                }
                Presence::Absent => {}
                Presence::Unknown(why) => reporter.warn(&format!(
                    "cannot tell from the index whether it has `{}` ({why}); uploading it, the index's answer decides",
                    dist.filename
                )),
            }
        }
        let creds = match auth
            .credentials(&api, repository, redactor, reporter.as_ref())
            .await
        {
            Ok(creds) => creds,
            Err(err) => {
                let message = err.to_string();
                stop = Some("not attempted: trusted publishing failed".to_owned());
                reports.push(report(FileStatus::Failed, Some(message), 0));
                continue;
            }
        };
        reporter.info(&format!(
            "Uploading `{}` ({})",
            dist.filename,
            crate::ui::progress::human_bytes(dist.size)
        ));
        let (result, attempts) = uploader
            .upload(dist, attestation.as_ref(), creds.as_ref(), &settings.retry)
            .await;
        let (status, message) = match result {
            Ok(Answer::Uploaded { warnings }) => {
                if let Some(warnings) = &warnings {
                    reporter.warn(&format!(
                        "the index accepted `{}` with warnings: {}",
                        dist.filename,
                        redactor.redact(warnings)
                    ));
                }
                (FileStatus::Uploaded, warnings)
            }
            Ok(Answer::Identical { message }) => (
                FileStatus::Skipped,
                Some(format!("the index already had this exact file: {message}")),
            ),
            Err(UploadError::Exists { status, message })
                if settings.skip_existing || attempts > 1 =>
            {
                if lookup.index.is_none() {
                    lookup.index =
                        open_index(&simple_client, repository, auth.current.clone(), redactor)
                            .await;
                }
                match lookup.presence(dist, true).await {
                    Presence::Same if attempts > 1 => (
                        FileStatus::Uploaded,
                        Some(format!(
                            "an earlier attempt reached the index ({status}: {message} on attempt {attempts}; same sha256 there)"
                        )),
                    ),
                    Presence::Same => (
                        FileStatus::Skipped,
                        Some("already on the index (same sha256)".to_owned()),
                    ),
                    Presence::Different { theirs } => {
                        (FileStatus::Failed, Some(different_content(dist, &theirs)))
                    }
                    Presence::Absent => (
                        FileStatus::Failed,
                        Some(format!(
                            "the index says the file exists ({status}: {message}), but its Simple index does not list `{}`; another file with the same content may be there under another name",
                            dist.filename
                        )),
                    ),
                    Presence::Unknown(why) => (
                        FileStatus::Failed,
                        Some(format!(
                            "the index says the file exists ({status}: {message}) and it cannot be compared with ours ({why}); refusing to treat it as identical"
                        )),
                    ),
                }
            }
            Err(err @ UploadError::Exists { .. }) => (
                FileStatus::Failed,
                Some(format!(
                    "{err}\nhint: `--skip-existing` skips files the index already has with the same content"
                )),
            ),
            Err(err) => {
                if err.stops_everything() {
                    stop = Some(format!(
                        "not attempted: uploading `{}` failed in a way that applies to every file",
                        dist.filename
                    ));
                }
                (FileStatus::Failed, Some(err.to_string()))
            }
        };
        reports.push(report(status, message, attempts));
    }
    Ok(reports)
}

/// The target's Simple index: the one given (or known for PyPI/TestPyPI), else the one found
/// next to the upload URL. Credentials go along only to the upload URL's origin.
async fn open_index(
    client: &reqwest::Client,
    repository: &Repository,
    creds: Option<(String, Secret)>,
    redactor: &Redactor,
) -> Option<SimpleIndex> {
    match &repository.simple_url {
        Some(url) => {
            let creds = creds.filter(|_| url.origin() == repository.upload_url.origin());
            Some(SimpleIndex::new(
                client.clone(),
                url.clone(),
                creds,
                redactor.clone(),
            ))
        }
        None => simple::discover(client, &repository.upload_url, creds, redactor).await,
    }
}
