//! The network layer every service client stands on: publish (uploads, the Simple API,
//! trusted publishing, attestations), GitHub (artifacts, releases) and image pulls.
//!
//! * [`mod@client`]: the one HTTP client builder (user agent, certificates from `--cert` and
//!   `REQUESTS_CA_BUNDLE`, proxies from the environment), each caller's timeouts and redirects
//!   as [`ClientOptions`];
//! * [`secret`]: the one [`Secret`] type, URL display without credentials and the [`Redactor`]
//!   the command layer scrubs every message with;
//! * [`mod@retry`]: the one retry loop; each caller's schedule ([`RetryPolicy`]) and what it
//!   retries ([`RetryOn`]) are data.
//!
//! This module knows no service: no index, GitHub or registry URL, no wire format, no message
//! of a service. It prints nothing itself; callers word their own messages.

pub mod client;
pub mod retry;
pub mod secret;

pub use client::{ClientOptions, NetError, REQUESTS_CA_BUNDLE, Redirects, client, configure};
pub use retry::{RetryOn, RetryPolicy};
pub use secret::{Redactor, Secret};

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
