//! The one place HTTP clients are made: publish's upload and index clients, the GitHub
//! artifact client and the release client (octocrab runs on one of ours). Every HTTPS connection
//! wheelwright makes trusts the same certificates:
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

/// A client builder with wheelwright's user agent and the certificates to trust; callers add
/// their timeouts and redirect policy.
pub fn client_builder() -> Result<reqwest::ClientBuilder, NetError> {
    let roots = extra_roots()?;
    let builder = reqwest::Client::builder().user_agent(USER_AGENT);
    Ok(if roots.is_empty() {
        builder
    } else {
        builder.tls_certs_merge(roots.iter().cloned())
    })
}

/// Builds a client from [`client_builder`] after `configure` adds its settings.
pub fn client(
    configure: impl FnOnce(reqwest::ClientBuilder) -> reqwest::ClientBuilder,
) -> Result<reqwest::Client, NetError> {
    configure(client_builder()?)
        .build()
        .map_err(|e| NetError::Client(error_chain(&e)))
}

/// An error and its causes, `: `-separated, each cause once (reqwest hides the TLS cause in its
/// sources).
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// The `User-Agent` of every request. It must not contain "twine": pypiserver changes its
/// answers for twine.
pub const USER_AGENT: &str = concat!("wheelwright/", env!("CARGO_PKG_VERSION"));
