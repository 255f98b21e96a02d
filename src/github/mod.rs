//! GitHub services over the network: the artifacts v4 client (`artifact`) and release assets
//! (`release`). Both are async (tokio, reqwest with rustls); the commands run them on a
//! current-thread runtime. Workflow commands, outputs and the job summary live in
//! `crate::ui::github`.
//!
//! Secrets (the runtime token, `GITHUB_TOKEN`, SAS signatures) are [`crate::net::Secret`]s, masked
//! on Actions as soon as they are read ([`crate::net::Secret::masked`]), sent only as headers
//! (never in a command line or a URL we build) and never formatted: error messages show URLs
//! without their query ([`crate::net::secret::redact_url`]).

pub(crate) mod artifact;
pub(crate) mod release;

use std::time::Duration;

/// Reads a non-empty environment variable (empty counts as unset: action inputs arrive as
/// empty strings when not given).
pub(crate) fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The client for GitHub's services (from [`crate::net`]: our user agent and certificates):
/// a connect timeout and `read_timeout` as a stall timeout (no total timeout: large uploads take
/// as long as they take).
pub(crate) fn http_client(stall: Duration) -> Result<reqwest::Client, crate::net::NetError> {
    crate::net::client(&crate::net::ClientOptions {
        connect_timeout: Duration::from_secs(30),
        timeout: None,
        read_timeout: Some(stall),
        redirects: crate::net::Redirects::Default,
    })
}
