//! GitHub services over the network: the artifacts v4 client (`artifact`) and release assets
//! (`release`). Both are async (tokio, reqwest with rustls); the commands run them on a
//! current-thread runtime. Workflow commands, outputs and the job summary live in
//! `crate::ui::github`.
//!
//! Secrets (the runtime token, `GITHUB_TOKEN`, SAS signatures) are wrapped in [`Secret`], masked
//! on Actions as soon as they are read, sent only as headers (never in a command line or a URL we
//! build) and never formatted: error messages show URLs without their query.

pub mod artifact;
pub mod release;

use std::fmt;
use std::time::Duration;

/// A secret string: `Debug` and `Display` print `***`.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value` and asks the runner to mask it (Actions only).
    #[must_use]
    pub fn new(value: String) -> Self {
        crate::ui::github::add_mask(&value);
        Secret(value)
    }

    /// The secret itself, for a header.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Reads a non-empty environment variable (empty counts as unset: action inputs arrive as
/// empty strings when not given).
pub(crate) fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The client for GitHub's services (from [`crate::net`]: our user agent and certificates):
/// a connect timeout and `read_timeout` as a stall timeout (no total timeout: large uploads take
/// as long as they take).
pub(crate) fn http_client(stall: Duration) -> Result<reqwest::Client, crate::net::NetError> {
    crate::net::client(|builder| {
        builder
            .connect_timeout(Duration::from_secs(30))
            .read_timeout(stall)
    })
}

/// `url` without its query and fragment, for messages (signed URLs carry their secret there).
#[must_use]
pub fn redact_url(url: &str) -> String {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    let mut shown = url[..end].to_owned();
    if end < url.len() {
        shown.push_str("?…");
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_format() {
        let s = Secret("hunter2".to_owned());
        assert_eq!(format!("{s} {s:?}"), "*** ***");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn urls_lose_their_query_in_messages() {
        assert_eq!(
            redact_url("https://x.blob/c/b?sv=1&sig=abc%3D"),
            "https://x.blob/c/b?…"
        );
        assert_eq!(
            redact_url("http://127.0.0.1:1/twirp"),
            "http://127.0.0.1:1/twirp"
        );
    }
}
