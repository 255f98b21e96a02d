//! The one call of the artifact service: a Twirp POST, retried as `@actions/artifact` does.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{ArtifactError, Client, Result, SERVICE_PATH, snippet};
use crate::net::retry::{self, RetryOn, RetryPolicy, Transport};
use crate::net::secret::redact_url;

/// The toolkit's retries of a Twirp call: 5 attempts, 3 s growing by half each time.
const TWIRP_RETRY: RetryPolicy = RetryPolicy {
    retries: 4,
    base_delay: Duration::from_millis(3000),
    factor: 1.5,
    max_delay: Duration::from_secs(60),
    jitter: false,
    max_elapsed: None,
};

/// What the toolkit retries: 429 and the 5xx of a proxy or an overloaded service, and any
/// transport failure but failing to connect (below, a success that is not JSON).
const TWIRP_RETRY_ON: RetryOn = RetryOn {
    server_errors: false,
    statuses: &[429, 500, 502, 503, 504],
    transport: Transport::NotConnect,
};

#[derive(Deserialize, Default)]
struct TwirpError {
    #[serde(default)]
    code: String,
    #[serde(default)]
    msg: String,
}

impl Client {
    /// One Twirp call with the toolkit's retry policy; returns the reply body.
    pub(super) async fn twirp<T: Serialize>(
        &self,
        method: &'static str,
        request: &T,
    ) -> Result<Vec<u8>> {
        let url = format!("{}{SERVICE_PATH}/{method}", self.env.results_origin);
        let body = serde_json::to_vec(request).map_err(|e| ArtifactError::BadReply {
            method,
            why: e.to_string(),
        })?;
        // Each failure comes with the reason to retry it, when it is retried.
        let (url, body) = (&url, &body);
        let call = |_| async move {
            let response = match self
                .http
                .post(url)
                .bearer_auth(self.env.token.expose())
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
            {
                Ok(response) => response,
                Err(e) => {
                    // Connection refused / DNS: failing fast, like the toolkit.
                    let retried = TWIRP_RETRY_ON.transport(&e);
                    let source = e.without_url();
                    let reason = retried.then(|| source.to_string());
                    let what = format!("{method} at {}", redact_url(url));
                    return Err((ArtifactError::Http { what, source }, reason));
                }
            };
            let status = response.status();
            let bytes = response.bytes().await.map_err(|e| {
                let err = ArtifactError::Http {
                    what: format!("reading the {method} reply"),
                    source: e.without_url(),
                };
                (err, None)
            })?;
            let is_json = serde_json::from_slice::<serde_json::Value>(&bytes).is_ok();
            if status.is_success() && is_json {
                return Ok(bytes.to_vec());
            }
            let retryable =
                TWIRP_RETRY_ON.status(status.as_u16()) || (status.is_success() && !is_json);
            let err: TwirpError = serde_json::from_slice(&bytes).unwrap_or_default();
            let msg = if err.msg.is_empty() && !is_json {
                snippet(&bytes)
            } else {
                err.msg
            };
            let err = ArtifactError::Twirp {
                method,
                status: status.as_u16(),
                code: err.code,
                msg,
            };
            Err((err, retryable.then(|| format!("HTTP {}", status.as_u16()))))
        };
        let (result, _) = retry::retry(
            &TWIRP_RETRY,
            call,
            |(_, reason)| reason.is_some(),
            |(_, reason), retry| {
                tracing::warn!(
                    "{method} attempt {} of {} failed ({}); retrying in {:.1} s",
                    retry.number,
                    retry.of + 1,
                    reason.as_deref().unwrap_or_default(),
                    retry.delay.as_secs_f64()
                );
            },
        )
        .await;
        result.map_err(|(err, _)| err)
    }
}
