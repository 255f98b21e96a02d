//! The one place HTTP clients are made: publish's upload, index and Simple API clients, the
//! GitHub artifact client and the release client (octocrab runs on one of ours). Each caller
//! says what differs ([`ClientOptions`]: timeouts, redirects); everything else is the same for
//! all: wheelwright's user agent, proxies from the environment (reqwest's defaults) and the
//! certificates to trust:
//!
//! * the system's, read by rustls' platform verifier (on Linux the distribution's bundle;
//!   `SSL_CERT_FILE` and `SSL_CERT_DIR` replace it, as they do for OpenSSL);
//! * plus the certificates of `--cert FILE`, else of `REQUESTS_CA_BUNDLE` (what pip, twine and
//!   requests read), for an index or proxy behind a company CA.
//!
//! The extra certificates are read once; an unreadable file or one without a PEM certificate
//! is an error naming the file and where it came from (with `--cert` at start-up, with
//! `REQUESTS_CA_BUNDLE` when a command first needs the network).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

/// The variable requests (and so twine and pip) read a CA bundle from.
pub const REQUESTS_CA_BUNDLE: &str = "REQUESTS_CA_BUNDLE";

/// Why no client could be made.
#[derive(Debug, Clone, thiserror::Error)]
pub enum NetError {
    /// The extra CA certificates could not be read.
    #[error(
        "cannot use `{}` (from {origin}) as CA certificates: {reason}\nhint: {hint}",
        path.display()
    )]
    CaBundle {
        /// The file.
        path: PathBuf,
        /// `--cert` or the variable. Ex) `` `REQUESTS_CA_BUNDLE` ``
        origin: String,
        /// What is wrong.
        reason: String,
        /// What to do.
        hint: &'static str,
    },
    /// reqwest refused the configuration (TLS set-up).
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
}

/// `--cert`, set once by `main` before any client is made.
static CERT_FLAG: OnceLock<Option<PathBuf>> = OnceLock::new();

/// The extra certificates, read on first use.
static EXTRA_ROOTS: OnceLock<Result<Vec<reqwest::Certificate>, NetError>> = OnceLock::new();

/// Takes `--cert` and, when it is given, reads it right away (a bad file is an error before
/// any work starts).
pub fn configure(cert: Option<&Path>) -> Result<(), NetError> {
    let _ = CERT_FLAG.set(cert.map(Path::to_path_buf));
    if cert.is_some() {
        extra_roots()?;
    }
    Ok(())
}

/// Where the extra certificates come from: `--cert`, else `REQUESTS_CA_BUNDLE`.
fn source() -> Option<(PathBuf, String, &'static str)> {
    if let Some(Some(path)) = CERT_FLAG.get() {
        return Some((
            path.clone(),
            "`--cert`".to_owned(),
            "pass a PEM file of CA certificates (`-----BEGIN CERTIFICATE-----`) to `--cert`",
        ));
    }
    std::env::var_os(REQUESTS_CA_BUNDLE)
        .filter(|v| !v.is_empty())
        .map(|v| {
            (
                PathBuf::from(v),
                format!("`{REQUESTS_CA_BUNDLE}`"),
                "point REQUESTS_CA_BUNDLE at a PEM file of CA certificates, or unset it",
            )
        })
}

fn read_roots() -> Result<Vec<reqwest::Certificate>, NetError> {
    let Some((path, origin, hint)) = source() else {
        return Ok(Vec::new());
    };
    let problem = |reason: String| NetError::CaBundle {
        path: path.clone(),
        origin: origin.clone(),
        reason,
        hint,
    };
    if path.is_dir() {
        return Err(problem(
            "it is a directory (a directory of certificates goes in `SSL_CERT_DIR`)".to_owned(),
        ));
    }
    let pem = std::fs::read(&path).map_err(|e| problem(e.to_string()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| problem(format!("it is not a PEM certificate bundle ({e})")))?;
    if certs.is_empty() {
        return Err(problem(
            "it holds no PEM certificate (`-----BEGIN CERTIFICATE-----`)".to_owned(),
        ));
    }
    tracing::debug!(
        "trusting {} extra CA certificate(s) from {origin} `{}`",
        certs.len(),
        path.display()
    );
    Ok(certs)
}

fn extra_roots() -> Result<&'static [reqwest::Certificate], NetError> {
    EXTRA_ROOTS
        .get_or_init(read_roots)
        .as_ref()
        .map(Vec::as_slice)
        .map_err(Clone::clone)
}

/// Which redirects a client follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redirects {
    /// None: a redirect is the answer (uploads: a POST must not be replayed elsewhere).
    None,
    /// Up to this many, anywhere.
    Limited(usize),
    /// Up to this many, within the origin of the first URL; a redirect to another server is
    /// the answer (the Simple API: only the target's own pages count).
    SameOrigin(usize),
    /// reqwest's default (up to 10).
    Default,
}

/// What one kind of client sets beyond the common settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientOptions {
    /// How long a connection may take to open.
    pub connect_timeout: Duration,
    /// The longest a whole request may take, if bounded.
    pub timeout: Option<Duration>,
    /// The longest a read may wait for data (a stall), if bounded.
    pub read_timeout: Option<Duration>,
    /// Which redirects are followed.
    pub redirects: Redirects,
}

impl Redirects {
    fn policy(self) -> reqwest::redirect::Policy {
        match self {
            Redirects::None => reqwest::redirect::Policy::none(),
            Redirects::Limited(max) => reqwest::redirect::Policy::limited(max),
            Redirects::Default => reqwest::redirect::Policy::default(),
            Redirects::SameOrigin(max) => reqwest::redirect::Policy::custom(move |attempt| {
                let same_origin = attempt
                    .previous()
                    .first()
                    .is_none_or(|first| first.origin() == attempt.url().origin());
                if !same_origin {
                    attempt.stop()
                } else if attempt.previous().len() > max {
                    attempt.error("too many redirects")
                } else {
                    attempt.follow()
                }
            }),
        }
    }
}

/// A client with wheelwright's user agent, the certificates to trust and `options`.
pub fn client(options: &ClientOptions) -> Result<reqwest::Client, NetError> {
    let roots = extra_roots()?;
    let mut builder = reqwest::Client::builder()
        .user_agent(super::USER_AGENT)
        .redirect(options.redirects.policy())
        .connect_timeout(options.connect_timeout);
    if !roots.is_empty() {
        builder = builder.tls_certs_merge(roots.iter().cloned());
    }
    if let Some(timeout) = options.timeout {
        builder = builder.timeout(timeout);
    }
    if let Some(stall) = options.read_timeout {
        builder = builder.read_timeout(stall);
    }
    builder
        .build()
        .map_err(|e| NetError::Client(super::error_chain(&e)))
}
