//! Trusted publishing from GitHub Actions (publish.md §3): ask the index for its audience, get
//! an OIDC ID token for that audience from the runner, exchange it at the index for a
//! short-lived upload token. Every token is masked the moment it exists.
//!
//! Nothing here can be exercised against the real services offline; the real suite runs it
//! against a local stub of the runner's token endpoint and the index's two endpoints.

use std::fmt::Write as _;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use reqwest::{StatusCode, Url};

use super::endpoints::{self, OIDC_AUDIENCE_PATH, OIDC_MINT_TOKEN_PATH};
use super::http_log;
use crate::net::retry::{self, RetryOn, RetryPolicy, Transport};
use crate::net::secret::{Redactor, Secret, display_url};

/// A minted token is valid for 15 minutes on PyPI; mint a new one (from a new ID token) after
/// this at the latest, and sooner when the index's `expires` says the token lives shorter
/// ([`renew_after`]).
pub const REMINT_AFTER: Duration = Duration::from_secs(10 * 60);

/// How long a token minted at `now` may be used before a new one is minted: 2/3 of the
/// lifetime the index announced in `expires` (unix seconds), at most [`REMINT_AFTER`];
/// [`REMINT_AFTER`] when the index gave no `expires`, zero when it is already past (then every
/// file gets a fresh token).
#[must_use]
pub fn renew_after(expires: Option<f64>, now: SystemTime) -> Duration {
    let Some(expires) = expires else {
        return REMINT_AFTER;
    };
    let now = now
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let lifetime = expires - now;
    if !lifetime.is_finite() || lifetime <= 0.0 {
        return Duration::ZERO;
    }
    Duration::from_secs_f64(lifetime * 2.0 / 3.0).min(REMINT_AFTER)
}

/// The runner's variables for the OIDC ID token (documented in the README).
pub mod env_vars {
    /// Set by the GitHub runner when the job may request an OIDC token.
    pub const ACTIONS_ID_TOKEN_REQUEST_URL: &str = "ACTIONS_ID_TOKEN_REQUEST_URL";
    /// The bearer token for [`ACTIONS_ID_TOKEN_REQUEST_URL`].
    pub const ACTIONS_ID_TOKEN_REQUEST_TOKEN: &str = "ACTIONS_ID_TOKEN_REQUEST_TOKEN";
}

/// The hint for a job without `id-token: write`.
pub const ID_TOKEN_HINT: &str = "for trusted publishing, give the publishing job `permissions: id-token: write` (GitHub then sets `ACTIONS_ID_TOKEN_REQUEST_URL`) and register the workflow as a trusted publisher of the project on the index; pull requests from forks never get an OIDC token";

/// The runner's OIDC request endpoint and its bearer token.
#[derive(Debug, Clone)]
pub struct OidcEnv {
    /// `ACTIONS_ID_TOKEN_REQUEST_URL` (already carries a query string).
    pub request_url: String,
    /// `ACTIONS_ID_TOKEN_REQUEST_TOKEN`.
    pub request_token: Secret,
}

/// The runner set one of the two variables but not the other.
#[derive(Debug, thiserror::Error)]
#[error(
    "`{}` is set but `{}` is not; the runner sets both when the job has `permissions: id-token: write`",
    env_vars::ACTIONS_ID_TOKEN_REQUEST_URL,
    env_vars::ACTIONS_ID_TOKEN_REQUEST_TOKEN
)]
pub struct OidcEnvError;

impl OidcEnv {
    /// Reads the two runner variables; `None` when the request URL is not set.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Option<Self>, OidcEnvError> {
        let Some(request_url) = env(env_vars::ACTIONS_ID_TOKEN_REQUEST_URL) else {
            return Ok(None);
        };
        let request_token = env(env_vars::ACTIONS_ID_TOKEN_REQUEST_TOKEN).ok_or(OidcEnvError)?;
        Ok(Some(Self {
            request_url,
            request_token: Secret::new(request_token),
        }))
    }
}

/// The non-secret claims of a GitHub ID token that a trusted publisher is matched against.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct Claims {
    /// Ex) `repo:owner/repo:environment:release`
    pub sub: Option<String>,
    /// Ex) `owner/repo`
    pub repository: Option<String>,
    /// Ex) `owner`
    pub repository_owner: Option<String>,
    /// Ex) `1234`
    pub repository_owner_id: Option<String>,
    /// Ex) `owner/repo/.github/workflows/release.yml@refs/tags/v1.0`
    pub workflow_ref: Option<String>,
    /// The workflow file the job is defined in (differs for reusable workflows).
    pub job_workflow_ref: Option<String>,
    /// Ex) `refs/tags/v1.0`
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    /// The deployment environment, if the job has one.
    pub environment: Option<String>,
}

impl Claims {
    /// Decodes the payload of a JWT (no signature check: we only print it).
    #[must_use]
    pub fn from_jwt(jwt: &str) -> Option<Self> {
        let payload = jwt.split('.').nth(1)?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// One `  name: value` line per claim, `MISSING` for absent ones.
    #[must_use]
    pub fn describe(&self) -> String {
        let rows = [
            ("sub", &self.sub),
            ("repository", &self.repository),
            ("repository_owner", &self.repository_owner),
            ("repository_owner_id", &self.repository_owner_id),
            ("workflow_ref", &self.workflow_ref),
            ("job_workflow_ref", &self.job_workflow_ref),
            ("ref", &self.git_ref),
            ("environment", &self.environment),
        ];
        let mut out = String::new();
        for (name, value) in rows {
            let _ = writeln!(out, "  {name}: {}", value.as_deref().unwrap_or("MISSING"));
        }
        out.trim_end().to_owned()
    }
}

/// An upload token from a trusted-publishing exchange.
#[derive(Debug, Clone)]
pub struct MintedToken {
    /// The short-lived API token (masked).
    pub token: Secret,
    /// The ID token's claims.
    pub claims: Claims,
    /// When it was minted.
    pub minted_at: Instant,
    /// Use it for this long after `minted_at`, then mint a new one ([`renew_after`]).
    pub renew_after: Duration,
    /// Seconds until the `expires` the index announced (negative: already past), if it did.
    pub expires_in: Option<f64>,
    /// Things the user should know (a reusable workflow, …).
    pub warnings: Vec<String>,
}

/// Why trusted publishing failed.
#[derive(Debug, thiserror::Error)]
pub enum TrustedPublishingError {
    /// The request did not get an answer.
    #[error("trusted publishing: request to `{url}` failed: {source}")]
    Transport {
        /// The URL (no credentials).
        url: String,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
    /// The index has no audience endpoint.
    #[error(
        "trusted publishing: `{url}` answered 404; this index does not support trusted publishing\nhint: use an API token instead (`PYPI_API_TOKEN` or `WHEELWRIGHT_PASSWORD`)"
    )]
    NotSupported {
        /// The audience URL.
        url: String,
    },
    /// The index has trusted publishing switched off.
    #[error(
        "trusted publishing: `{url}` answered 403; trusted publishing is disabled on this index"
    )]
    Disabled {
        /// The audience URL.
        url: String,
    },
    /// The runner would not give an ID token.
    #[error(
        "trusted publishing: the runner refused an OIDC token ({status}): {message}\nhint: {}",
        ID_TOKEN_HINT
    )]
    IdToken {
        /// HTTP status.
        status: StatusCode,
        /// What it said.
        message: String,
    },
    /// The index refused the exchange (422 with error codes, or another status).
    #[error("trusted publishing: `{index}` refused the token exchange ({status}):\n{errors}\nthe OIDC token's claims, which a trusted publisher of the project on the index must match:\n{claims}\n{hints}hint: see {help}", errors = format_errors(errors), claims = claims.describe(), hints = format_hints(errors), help = endpoints::TRUSTED_PUBLISHING_HELP)]
    Refused {
        /// The index origin.
        index: String,
        /// HTTP status.
        status: StatusCode,
        /// `(code, description)` pairs; one `("unexpected response", body)` for non-JSON.
        errors: Vec<(String, String)>,
        /// The ID token's claims.
        claims: Box<Claims>,
    },
    /// A 2xx reply without the expected field.
    #[error("trusted publishing: unexpected reply from `{url}`: {detail}")]
    InvalidResponse {
        /// The URL.
        url: String,
        /// What was wrong.
        detail: String,
    },
}

fn format_errors(errors: &[(String, String)]) -> String {
    errors
        .iter()
        .map(|(code, description)| format!("  {code}: {description}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// What to do about each error code Warehouse documents for the exchange (publish.md §3).
#[must_use]
pub fn refusal_hint(code: &str) -> Option<&'static str> {
    Some(match code {
        "invalid-payload" => {
            "`invalid-payload`: the index could not read the ID token or does not know the issuer (`iss`) that signed it; tokens of a GitHub Enterprise Server runner are taken only by an index that trusts that server"
        }
        "not-enabled" => {
            "`not-enabled`: trusted publishing from GitHub is switched off on this index for now; publish with an API token (`PYPI_API_TOKEN` or `WHEELWRIGHT_PASSWORD`) or retry later"
        }
        "invalid-token" => {
            "`invalid-token`: the index did not accept the ID token's signature, issuer, audience or expiry; the token was asked for the audience the index announced, so check that the upload URL is the index's own and that this machine's clock is right"
        }
        "invalid-pending-publisher" => {
            "`invalid-pending-publisher`: the pending publisher was for a project that exists now; add the trusted publisher in that project's own \"Publishing\" settings"
        }
        "invalid-publisher" => {
            "`invalid-publisher`: no trusted publisher of the project matches the claims above; compare the repository, the workflow file name and the environment with the publisher's settings (TestPyPI and PyPI each need their own publisher)"
        }
        "invalid-reuse-token" => {
            "`invalid-reuse-token`: the index had seen this ID token before and takes each one only once; wheelwright asks the runner for a fresh token for every exchange, so re-run the job, and if it repeats the runner is handing out a cached token"
        }
        _ => return None,
    })
}

fn format_hints(errors: &[(String, String)]) -> String {
    let mut out = String::new();
    let mut seen = Vec::new();
    for (code, _) in errors {
        if let Some(hint) = refusal_hint(code).filter(|h| !seen.contains(h)) {
            seen.push(hint);
            let _ = writeln!(out, "hint: {hint}");
        }
    }
    out
}

/// A short excerpt of a reply body for messages.
fn excerpt(body: &str) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 300 {
        format!("{}…", flat.chars().take(300).collect::<String>())
    } else {
        flat
    }
}

#[derive(serde::Deserialize)]
struct AudienceReply {
    audience: String,
}

#[derive(serde::Deserialize)]
struct IdTokenReply {
    value: String,
}

#[derive(serde::Deserialize)]
struct MintReply {
    token: Option<String>,
    /// Unix time the token stops working (Warehouse; informational there, but true).
    #[serde(default)]
    expires: Option<serde_json::Value>,
    #[serde(default)]
    errors: Vec<MintErrorItem>,
    message: Option<String>,
}

#[derive(serde::Deserialize)]
struct MintErrorItem {
    code: String,
    #[serde(default)]
    description: String,
}

/// Runs the exchange for uploads to `upload_url`. The ID token and the minted token are
/// registered with `redactor` (and masked on Actions) as soon as they are received.
pub async fn mint(
    client: &reqwest::Client,
    upload_url: &Url,
    oidc: &OidcEnv,
    redactor: &Redactor,
) -> Result<MintedToken, TrustedPublishingError> {
    let audience_url = endpoints::under_origin(upload_url, OIDC_AUDIENCE_PATH);
    let shown = display_url(&audience_url);
    let transport = |url: &str| {
        let url = url.to_owned();
        move |source| TrustedPublishingError::Transport { url, source }
    };
    let no_headers = reqwest::header::HeaderMap::new();
    http_log::request(redactor, "GET", &audience_url, &no_headers, "");
    let reply = client
        .get(audience_url.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(transport(&shown))?;
    http_log::response(
        redactor,
        "GET",
        &audience_url,
        reply.status(),
        None,
        reply.headers(),
        b"",
    );
    let audience = match reply.status() {
        StatusCode::OK => {
            let text = reply.text().await.map_err(transport(&shown))?;
            serde_json::from_str::<AudienceReply>(&text)
                .map_err(|e| TrustedPublishingError::InvalidResponse {
                    url: shown.clone(),
                    detail: format!("{e}: {}", excerpt(&text)),
                })?
                .audience
        }
        StatusCode::NOT_FOUND => return Err(TrustedPublishingError::NotSupported { url: shown }),
        StatusCode::FORBIDDEN => return Err(TrustedPublishingError::Disabled { url: shown }),
        status => {
            let text = reply.text().await.unwrap_or_default();
            return Err(TrustedPublishingError::InvalidResponse {
                url: shown,
                detail: format!("status {status}: {}", excerpt(&text)),
            });
        }
    };
    tracing::debug!(%audience, "trusted publishing audience");

    let jwt = request_id_token(client, oidc, &audience, redactor).await?;
    let jwt = Secret::new(jwt);
    redactor.add(&jwt);
    let claims = Claims::from_jwt(jwt.expose()).unwrap_or_default();
    let mut warnings = Vec::new();
    if let (Some(workflow), Some(job_workflow)) = (&claims.workflow_ref, &claims.job_workflow_ref) {
        if workflow != job_workflow {
            warnings.push(format!(
                "the job comes from the reusable workflow `{job_workflow}`; trusted publishers are matched against the calling workflow `{workflow}`, and reusable workflows are not supported by PyPI's trusted publishing"
            ));
        }
    }

    let mint_url = endpoints::under_origin(upload_url, OIDC_MINT_TOKEN_PATH);
    let shown = display_url(&mint_url);
    http_log::request(redactor, "POST", &mint_url, &no_headers, "the ID token");
    let reply = client
        .post(mint_url.clone())
        .json(&serde_json::json!({ "token": jwt.expose() }))
        .send()
        .await
        .map_err(transport(&shown))?;
    let status = reply.status();
    let headers = reply.headers().clone();
    let text = reply.text().await.map_err(transport(&shown))?;
    // The body holds the upload token on success: its status and headers only.
    let shown_body = if status.is_success() {
        &b""[..]
    } else {
        text.as_bytes()
    };
    http_log::response(
        redactor, "POST", &mint_url, status, None, &headers, shown_body,
    );
    let parsed = serde_json::from_str::<MintReply>(&text).ok();
    if status.is_success() {
        let (token, expires) = parsed
            .and_then(|p| {
                let expires = p.expires.as_ref().and_then(serde_json::Value::as_f64);
                p.token.filter(|t| !t.is_empty()).map(|t| (t, expires))
            })
            .ok_or_else(|| TrustedPublishingError::InvalidResponse {
                url: shown.clone(),
                detail: "no `token` in the reply".to_owned(),
            })?;
        let token = Secret::new(token);
        redactor.add(&token);
        let now = SystemTime::now();
        let since_epoch = now
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        return Ok(MintedToken {
            token,
            claims,
            minted_at: Instant::now(),
            renew_after: renew_after(expires, now),
            expires_in: expires.map(|e| e - since_epoch),
            warnings,
        });
    }
    let errors = match parsed {
        Some(reply) if !reply.errors.is_empty() => reply
            .errors
            .into_iter()
            .map(|e| (e.code, redactor.redact(&e.description)))
            .collect(),
        Some(MintReply {
            message: Some(message),
            ..
        }) => vec![("error".to_owned(), redactor.redact(&message))],
        _ => vec![(
            format!("unexpected {status} response"),
            redactor.redact(&excerpt(&text)),
        )],
    };
    let index = endpoints::under_origin(upload_url, "/");
    Err(TrustedPublishingError::Refused {
        index: display_url(&index).trim_end_matches('/').to_owned(),
        status,
        errors,
        claims: Box::new(claims),
    })
}

/// Gets an ID token for `audience` from the runner (retrying transport errors and 5xx, as the
/// toolkit does: the endpoint is known to be flaky).
pub(crate) async fn request_id_token(
    client: &reqwest::Client,
    oidc: &OidcEnv,
    audience: &str,
    redactor: &Redactor,
) -> Result<String, TrustedPublishingError> {
    let mut url =
        Url::parse(&oidc.request_url).map_err(|e| TrustedPublishingError::InvalidResponse {
            url: env_vars::ACTIONS_ID_TOKEN_REQUEST_URL.to_owned(),
            detail: format!("not a URL: {e}"),
        })?;
    url.query_pairs_mut().append_pair("audience", audience);
    let shown = format!("{}{}", url.origin().ascii_serialization(), url.path());
    let request = |_| {
        let url = url.clone();
        async move {
            let reply = client
                .get(url.clone())
                .header(
                    reqwest::header::AUTHORIZATION,
                    format!("bearer {}", oidc.request_token.expose()),
                )
                .header(reqwest::header::ACCEPT, "application/json")
                .send()
                .await
                .map_err(IdTokenFailure::Transport)?;
            // The body is the ID token: its status and headers only.
            let mut shown_url = url;
            shown_url.set_query(None);
            http_log::response(
                redactor,
                "GET",
                &shown_url,
                reply.status(),
                None,
                reply.headers(),
                b"",
            );
            if ID_TOKEN_RETRY_ON.status(reply.status().as_u16()) {
                return Err(IdTokenFailure::Status(reply));
            }
            Ok(reply)
        }
    };
    let retryable = |failure: &IdTokenFailure| match failure {
        IdTokenFailure::Transport(err) => ID_TOKEN_RETRY_ON.transport(err),
        IdTokenFailure::Status(_) => true,
    };
    let (result, _) = retry::retry(&ID_TOKEN_RETRY, request, retryable, |_, _| {}).await;
    let reply = match result {
        Ok(reply) | Err(IdTokenFailure::Status(reply)) => reply,
        Err(IdTokenFailure::Transport(source)) => {
            return Err(TrustedPublishingError::Transport { url: shown, source });
        }
    };
    let status = reply.status();
    let text = reply.text().await.unwrap_or_default();
    if !status.is_success() {
        return Err(TrustedPublishingError::IdToken {
            status,
            message: excerpt(&text),
        });
    }
    serde_json::from_str::<IdTokenReply>(&text)
        .map(|r| r.value)
        .map_err(|e| TrustedPublishingError::InvalidResponse {
            url: shown,
            detail: format!("{e}"),
        })
}

/// How the runner's ID token endpoint is retried (as the toolkit does: it is known to be
/// flaky): two retries, 1 s then 2 s.
const ID_TOKEN_RETRY: RetryPolicy = RetryPolicy {
    retries: 2,
    base_delay: Duration::from_secs(1),
    factor: 2.0,
    max_delay: Duration::from_secs(2),
    jitter: false,
    max_elapsed: None,
};

/// What is retried there: any transport failure and any 5xx answer.
const ID_TOKEN_RETRY_ON: RetryOn = RetryOn {
    server_errors: true,
    statuses: &[],
    transport: Transport::Any,
};

/// An attempt at the ID token that may be tried again.
enum IdTokenFailure {
    /// No answer.
    Transport(reqwest::Error),
    /// An answer with a status that is retried.
    Status(reqwest::Response),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &serde_json::Value) -> String {
        let enc = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        format!(
            "{}.{}.sig",
            enc(br#"{"alg":"RS256"}"#),
            enc(claims.to_string().as_bytes())
        )
    }

    #[test]
    fn decodes_and_describes_claims() {
        let token = jwt(&serde_json::json!({
            "sub": "repo:o/r:ref:refs/heads/main",
            "repository": "o/r",
            "workflow_ref": "o/r/.github/workflows/release.yml@refs/heads/main",
            "ref": "refs/heads/main",
            "jti": "x",
        }));
        let claims = Claims::from_jwt(&token).unwrap();
        assert_eq!(claims.repository.as_deref(), Some("o/r"));
        assert_eq!(
            claims.describe(),
            "  sub: repo:o/r:ref:refs/heads/main\n  repository: o/r\n  repository_owner: MISSING\n  repository_owner_id: MISSING\n  workflow_ref: o/r/.github/workflows/release.yml@refs/heads/main\n  job_workflow_ref: MISSING\n  ref: refs/heads/main\n  environment: MISSING"
        );
        assert_eq!(Claims::from_jwt("not-a-jwt"), None);
    }

    #[test]
    fn refused_exchange_lists_codes_and_claims() {
        let err = TrustedPublishingError::Refused {
            index: "https://index.test".into(),
            status: StatusCode::UNPROCESSABLE_ENTITY,
            errors: vec![("invalid-publisher".into(), "no matching publisher".into())],
            claims: Box::new(Claims {
                repository: Some("o/r".into()),
                environment: Some("release".into()),
                ..Claims::default()
            }),
        };
        let text = err.to_string();
        assert!(text.starts_with("trusted publishing: `https://index.test` refused the token exchange (422 Unprocessable Entity):\n  invalid-publisher: no matching publisher\n"), "{text}");
        assert!(text.contains("  repository: o/r\n"), "{text}");
        assert!(text.contains("  environment: release\n"), "{text}");
    }

    #[test]
    fn renews_after_two_thirds_of_the_announced_lifetime_at_most_remint_after() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let at = |secs: f64| Some(1_700_000_000.0 + secs);
        // Warehouse's 900 s: 600 s, which is also REMINT_AFTER.
        assert_eq!(renew_after(at(900.0), now), Duration::from_secs(600));
        // Shorter lifetimes: 2/3 of them.
        assert_eq!(renew_after(at(3.0), now), Duration::from_secs(2));
        assert_eq!(renew_after(at(90.0), now), Duration::from_secs(60));
        // Longer ones never stretch the renewal past REMINT_AFTER.
        assert_eq!(renew_after(at(86_400.0), now), REMINT_AFTER);
        // No `expires`: REMINT_AFTER.
        assert_eq!(renew_after(None, now), REMINT_AFTER);
        // Already past (or now): a fresh token for every file.
        assert_eq!(renew_after(at(0.0), now), Duration::ZERO);
        assert_eq!(renew_after(at(-30.0), now), Duration::ZERO);
        assert_eq!(renew_after(Some(f64::NAN), now), Duration::ZERO);
    }

    #[test]
    fn each_documented_refusal_code_has_its_own_hint() {
        let codes = [
            "invalid-payload",
            "not-enabled",
            "invalid-token",
            "invalid-pending-publisher",
            "invalid-publisher",
            "invalid-reuse-token",
        ];
        let hints: Vec<&str> = codes.iter().map(|c| refusal_hint(c).unwrap()).collect();
        for (code, hint) in codes.iter().zip(&hints) {
            assert!(hint.starts_with(&format!("`{code}`: ")), "{hint}");
        }
        let unique: std::collections::BTreeSet<&str> = hints.iter().copied().collect();
        assert_eq!(unique.len(), codes.len());
        assert_eq!(refusal_hint("something-new"), None);

        let err = TrustedPublishingError::Refused {
            index: "https://index.test".into(),
            status: StatusCode::UNPROCESSABLE_ENTITY,
            errors: vec![
                (
                    "invalid-reuse-token".into(),
                    "invalid token: already used".into(),
                ),
                ("something-new".into(), "?".into()),
            ],
            claims: Box::default(),
        };
        let text = err.to_string();
        assert!(
            text.contains(&format!("\nhint: {}\nhint: see ", hints[5])),
            "{text}"
        );
        assert_eq!(text.matches("hint: ").count(), 2, "{text}");
    }
}
