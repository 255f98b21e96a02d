//! PEP 740 publish attestations, made by the binary itself (publish.md §4).
//!
//! For each distribution: an in-toto Statement v1 whose only subject is the file name and its
//! sha256, predicate type [`endpoints::PYPI_PUBLISH_PREDICATE`]; signed as a DSSE envelope with
//! an ephemeral P-256 key; the key certified by Fulcio for the job's OIDC identity (an ID token
//! with audience `sigstore`); the signature logged in Rekor (a `dsse` v0.0.1 entry with an
//! inclusion proof, a signed checkpoint and a signed entry timestamp). The signing itself is the
//! `sigstore-sign` crate's; what the services returned is then verified with `sigstore-verify`
//! against the trust root (chain to Fulcio's CA, SCT, inclusion proof, checkpoint and entry
//! timestamp, the job's identity and issuer, the file's digest) before anything is written or
//! uploaded. The project's own parts are the order of the steps, the retries, the messages and
//! the conversion between a Sigstore bundle and a PEP 740 attestation object (the shape
//! `pypi-attestations` reads and PyPI takes in the `attestations` form field).
//!
//! Each attestation is written next to its file as `<file>.publish.attestation` (never over an
//! existing file). An existing one is reused only when it verifies for this file and this job's
//! identity (so publishing to TestPyPI and then PyPI in one job works); any other existing one
//! stops the run before anything is sent.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine as _;
use reqwest::Url;
use sigstore_sign::oidc::IdentityToken;
use sigstore_sign::trust_root::TrustedRoot;
use sigstore_sign::types::{Bundle, Sha256Hash};
use sigstore_sign::{SigningContext, SigningServices};
use sigstore_verify::{IdentityMatcher, VerificationPolicy, Verifier};

use super::Reporter;
use super::credentials::is_loopback;
use super::dist::Distribution;
use super::endpoints;
use super::oidc::{self, OidcEnv};
use crate::net::retry::{self, RetryOn, RetryPolicy, Transport};
use crate::net::secret::{Redactor, Secret, display_url};

/// The suffix of an attestation file next to its distribution (what twine and
/// pypa/gh-action-pypi-publish use).
pub const ATTESTATION_SUFFIX: &str = ".publish.attestation";

/// Variables that point attestations at another Sigstore instance (tests, private instances).
pub mod env_vars {
    /// Fulcio's base URL.
    pub const FULCIO_URL: &str = "WHEELWRIGHT_SIGSTORE_FULCIO_URL";
    /// Rekor's base URL (API v1).
    pub const REKOR_URL: &str = "WHEELWRIGHT_SIGSTORE_REKOR_URL";
    /// A trust root file (`trusted_root.json`, the Sigstore protobuf-JSON format).
    pub const TRUSTED_ROOT: &str = "WHEELWRIGHT_SIGSTORE_TRUSTED_ROOT";
}

/// Where attestations are signed and what they are verified against.
#[derive(Debug, Clone)]
pub struct SigstoreConfig {
    /// Fulcio's base URL.
    pub fulcio: Url,
    /// Rekor's base URL.
    pub rekor: Url,
    /// The trust root.
    pub trusted_root: TrustedRoot,
    /// Where the trust root came from, for messages. Ex) `the embedded public-good trust root`
    pub trusted_root_source: String,
}

/// Why attestations could not be made or used.
#[derive(Debug, thiserror::Error)]
pub enum AttestError {
    /// A Sigstore setting is unusable.
    #[error("attestations: {0}")]
    Config(String),
    /// The runner would not give an ID token for Sigstore.
    #[error("attestations: cannot get the job's OIDC token for Sigstore: {0}")]
    IdToken(#[source] oidc::TrustedPublishingError),
    /// The ID token lacks what the attestation's identity is made of.
    #[error(
        "attestations: the job's OIDC token has no `{0}` claim; the attestation's identity cannot be named\nhint: attestations are made on GitHub Actions with `permissions: id-token: write`"
    )]
    Claims(&'static str),
    /// Fulcio or Rekor refused or failed.
    #[error(transparent)]
    Service(Box<ServiceFailure>),
    /// What the services returned does not verify against the trust root.
    #[error(
        "attestations: `{file}`: the signed attestation does not verify against {root}: {detail}\nhint: the Fulcio and Rekor in use must be the ones the trust root names; nothing was uploaded"
    )]
    Unverified {
        /// The distribution.
        file: String,
        /// The trust root's source.
        root: String,
        /// Why.
        detail: String,
    },
    /// An existing attestation file cannot be used.
    #[error("attestations: `{}`: {detail}\nhint: {hint}", path.display())]
    Existing {
        /// The attestation file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
        /// What to do.
        hint: String,
    },
    /// Writing an attestation file failed.
    #[error("attestations: cannot write `{}`: {reason}; nothing was uploaded", path.display())]
    Write {
        /// The attestation file.
        path: PathBuf,
        /// The operating system's words.
        reason: String,
    },
    /// Something else about the signing failed (key generation, encoding).
    #[error("attestations: `{file}`: {detail}; nothing was uploaded")]
    Signing {
        /// The distribution.
        file: String,
        /// What failed.
        detail: String,
    },
}

/// Fulcio or Rekor refused or failed a signing step.
#[derive(Debug, thiserror::Error)]
#[error(
    "attestations: `{file}`: {service} at `{url}` {what}: {detail}\nhint: {hint}; nothing was uploaded"
)]
pub struct ServiceFailure {
    /// The distribution.
    pub file: String,
    /// `Fulcio` or `Rekor`.
    pub service: &'static str,
    /// The service's URL.
    pub url: String,
    /// What it did. Ex) `refused the signing-certificate request (HTTP 401)`
    pub what: String,
    /// Its words.
    pub detail: String,
    /// What to check.
    pub hint: &'static str,
}

/// An attestation ready to go with its distribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attested {
    /// The `<file>.publish.attestation` file.
    pub path: PathBuf,
    /// The PEP 740 attestation object (JSON text, one line).
    pub json: String,
    /// Made by this run (else found next to the file).
    pub made: bool,
}

impl Attested {
    /// The `attestations` form field: a JSON array with this attestation.
    #[must_use]
    pub fn form_value(&self) -> String {
        format!("[{}]", self.json)
    }
}

/// `<file>.publish.attestation`.
#[must_use]
pub fn attestation_path(dist: &Path) -> PathBuf {
    let mut name = dist.as_os_str().to_owned();
    name.push(ATTESTATION_SUFFIX);
    PathBuf::from(name)
}

impl SigstoreConfig {
    /// The public-good instance, or what the `WHEELWRIGHT_SIGSTORE_*` variables name. URLs must
    /// be https (http only to this machine): the job's identity token goes to Fulcio.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Self, AttestError> {
        let var = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let url = |name: &str, default: &str| -> Result<Url, AttestError> {
            let (text, from) = match var(name) {
                Some(value) => (value, format!("`{name}`")),
                None => (default.to_owned(), "the default".to_owned()),
            };
            let url = Url::parse(text.trim())
                .map_err(|e| AttestError::Config(format!("{from} is not a URL (`{text}`: {e})")))?;
            if url.scheme() != "https" && !(url.scheme() == "http" && is_loopback(&url)) {
                return Err(AttestError::Config(format!(
                    "{from} `{}` is not https; Sigstore services are reached over https only (plain http only on this machine)",
                    display_url(&url)
                )));
            }
            Ok(url)
        };
        let fulcio = url(env_vars::FULCIO_URL, endpoints::SIGSTORE_FULCIO)?;
        let rekor = url(env_vars::REKOR_URL, endpoints::SIGSTORE_REKOR)?;
        let (trusted_root, trusted_root_source) = match var(env_vars::TRUSTED_ROOT) {
            Some(path) => {
                let text = fs_err::read_to_string(&path).map_err(|e| {
                    AttestError::Config(format!(
                        "cannot read the trust root `{path}` (from `{}`): {}",
                        env_vars::TRUSTED_ROOT,
                        super::dist::root_cause(&e)
                    ))
                })?;
                let root = TrustedRoot::from_json(&text).map_err(|e| {
                    AttestError::Config(format!(
                        "`{path}` (from `{}`) is not a Sigstore trust root: {e}",
                        env_vars::TRUSTED_ROOT
                    ))
                })?;
                (root, format!("the trust root `{path}`"))
            }
            None => (
                TrustedRoot::from_json(endpoints::SIGSTORE_TRUSTED_ROOT).map_err(|e| {
                    AttestError::Config(format!("the embedded trust root does not parse: {e}"))
                })?,
                "the embedded public-good trust root".to_owned(),
            ),
        };
        Ok(Self {
            fulcio,
            rekor,
            trusted_root,
            trusted_root_source,
        })
    }
}

/// The in-toto Statement v1 of a publish attestation for `dist`.
#[must_use]
pub fn statement(dist: &Distribution) -> serde_json::Value {
    serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": dist.filename, "digest": {"sha256": dist.sha256.to_ascii_lowercase()}}],
        "predicateType": endpoints::PYPI_PUBLISH_PREDICATE,
        "predicate": {},
    })
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// A Sigstore bundle (v0.3, DSSE, one transparency-log entry) as a PEP 740 attestation object:
/// `{version: 1, verification_material: {certificate, transparency_entries}, envelope:
/// {statement, signature}}`.
pub fn pep740_from_bundle(bundle: &Bundle) -> Result<serde_json::Value, String> {
    let value: serde_json::Value =
        serde_json::from_str(&bundle.to_json().map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    let material = &value["verificationMaterial"];
    let certificate = material["certificate"]["rawBytes"]
        .as_str()
        .ok_or("the bundle has no leaf certificate")?;
    let entries = material["tlogEntries"]
        .as_array()
        .filter(|e| e.len() == 1)
        .ok_or("the bundle does not have exactly one transparency-log entry")?;
    let envelope = &value["dsseEnvelope"];
    let statement = envelope["payload"]
        .as_str()
        .ok_or("the bundle has no DSSE payload")?;
    let signatures = envelope["signatures"]
        .as_array()
        .filter(|s| s.len() == 1)
        .ok_or("the DSSE envelope does not have exactly one signature")?;
    let signature = signatures[0]["sig"]
        .as_str()
        .ok_or("the DSSE signature is empty")?;
    Ok(serde_json::json!({
        "version": 1,
        "verification_material": {
            "certificate": certificate,
            "transparency_entries": entries,
        },
        "envelope": {"statement": statement, "signature": signature},
    }))
}

/// The Sigstore bundle a PEP 740 attestation object stands for (what `pypi-attestations`'
/// `to_bundle` builds).
pub fn bundle_from_pep740(attestation: &serde_json::Value) -> Result<Bundle, String> {
    if attestation["version"] != 1 {
        return Err("not a PEP 740 attestation (`version` is not 1)".to_owned());
    }
    let material = &attestation["verification_material"];
    let text = |value: &serde_json::Value, what: &str| {
        value
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("`{what}` is missing"))
    };
    let certificate = text(
        &material["certificate"],
        "verification_material.certificate",
    )?;
    let entries = material["transparency_entries"]
        .as_array()
        .filter(|e| !e.is_empty())
        .ok_or("`verification_material.transparency_entries` is empty")?;
    let statement = text(&attestation["envelope"]["statement"], "envelope.statement")?;
    let signature = text(&attestation["envelope"]["signature"], "envelope.signature")?;
    let bundle = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {
            "certificate": {"rawBytes": certificate},
            "tlogEntries": [entries[0]],
        },
        "dsseEnvelope": {
            "payload": statement,
            "payloadType": "application/vnd.in-toto+json",
            "signatures": [{"sig": signature}],
        },
    });
    Bundle::from_json(&bundle.to_string()).map_err(|e| format!("not a valid attestation: {e}"))
}

/// Checks that `attestation` (a PEP 740 object) is a publish attestation whose only subject is
/// `dist` (name and sha256), as PyPI does before it verifies the signature.
pub fn check_subject(attestation: &serde_json::Value, dist: &Distribution) -> Result<(), String> {
    let statement = attestation["envelope"]["statement"]
        .as_str()
        .ok_or("`envelope.statement` is missing")?;
    let bytes = b64()
        .decode(statement)
        .map_err(|e| format!("`envelope.statement` is not base64: {e}"))?;
    let statement: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("the statement is not JSON: {e}"))?;
    let subjects = statement["subject"]
        .as_array()
        .ok_or("the statement has no subject")?;
    let [subject] = subjects.as_slice() else {
        return Err(format!(
            "the statement has {} subjects; a publish attestation has one",
            subjects.len()
        ));
    };
    let name = subject["name"].as_str().unwrap_or("");
    if name != dist.filename {
        return Err(format!("it is for `{name}`, not `{}`", dist.filename));
    }
    let digest = subject["digest"]["sha256"].as_str().unwrap_or("");
    if !digest.eq_ignore_ascii_case(&dist.sha256) {
        return Err(format!(
            "it is for other contents (sha256 {digest} there, {} here)",
            dist.sha256
        ));
    }
    let predicate = statement["predicateType"].as_str().unwrap_or("");
    if predicate != endpoints::PYPI_PUBLISH_PREDICATE {
        return Err(format!(
            "its predicate type is `{predicate}`, not PyPI's publish attestation"
        ));
    }
    Ok(())
}

/// Reads `<file>.publish.attestation` next to `dist`, if there is one, and checks its shape
/// and subject (the signature is the index's to verify).
pub fn read_existing(dist: &Distribution) -> Result<Option<Attested>, AttestError> {
    let path = attestation_path(&dist.path);
    let text = match fs_err::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(AttestError::Existing {
                detail: format!("cannot read it: {}", super::dist::root_cause(&e)),
                path,
                hint: "fix its permissions or remove it".to_owned(),
            });
        }
    };
    let bad = |detail: String| AttestError::Existing {
        path: path.clone(),
        detail,
        hint: format!(
            "remove it, or replace it with the attestation of `{}`",
            dist.filename
        ),
    };
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| bad(format!("not a JSON attestation object: {e}")))?;
    bundle_from_pep740(&value).map_err(&bad)?;
    check_subject(&value, dist).map_err(&bad)?;
    Ok(Some(Attested {
        path: path.clone(),
        json: value.to_string(),
        made: false,
    }))
}

/// The identity a job's attestations carry, from its Sigstore ID token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobIdentity {
    /// The certificate's SAN URI. Ex) `https://github.com/o/r/.github/workflows/w.yml@refs/tags/v1`
    pub identity: String,
    /// The OIDC issuer.
    pub issuer: String,
}

impl JobIdentity {
    /// From the token's claims (`iss`, `job_workflow_ref`).
    pub fn from_jwt(jwt: &str) -> Result<Self, AttestError> {
        let payload = jwt.split('.').nth(1).ok_or(AttestError::Claims("iss"))?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .map_err(|_| AttestError::Claims("iss"))?;
        let claims: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|_| AttestError::Claims("iss"))?;
        let issuer = claims["iss"].as_str().ok_or(AttestError::Claims("iss"))?;
        let workflow = claims["job_workflow_ref"]
            .as_str()
            .ok_or(AttestError::Claims("job_workflow_ref"))?;
        Ok(Self {
            identity: format!("{}{workflow}", endpoints::GITHUB_SERVER),
            issuer: issuer.to_owned(),
        })
    }
}

/// Verifies `bundle` for `dist` (its sha256) and `who` against the trust root.
fn verify_bundle(
    verifier: &Verifier,
    bundle: &Bundle,
    dist: &Distribution,
    who: &JobIdentity,
) -> Result<(), String> {
    let digest = Sha256Hash::from_hex(&dist.sha256).map_err(|e| e.to_string())?;
    let policy = VerificationPolicy::new(IdentityMatcher::Uri(who.identity.clone()), &who.issuer);
    verifier
        .verify(digest, bundle, &policy)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// An ID token for Sigstore and when it was obtained (GitHub's are short-lived: a new one is
/// asked for after a few minutes).
struct Token {
    jwt: Secret,
    at: Instant,
}

const TOKEN_FRESH_FOR: Duration = Duration::from_secs(4 * 60);

async fn id_token(
    client: &reqwest::Client,
    oidc: &OidcEnv,
    redactor: &Redactor,
) -> Result<Token, AttestError> {
    let jwt = oidc::request_id_token(client, oidc, endpoints::SIGSTORE_OIDC_AUDIENCE, redactor)
        .await
        .map_err(AttestError::IdToken)?;
    let jwt = Secret::new(jwt);
    redactor.add(&jwt);
    Ok(Token {
        jwt,
        at: Instant::now(),
    })
}

/// Which answers of Fulcio and Rekor are retried (an unreachable service is, too).
const SIGSTORE_RETRY_ON: RetryOn = RetryOn {
    server_errors: true,
    statuses: &[429],
    transport: Transport::Any,
};

/// What a service's answer to a signing step was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// No answer (connection refused, reset, timed out).
    Unreachable,
    /// An HTTP error status.
    Status(u16),
    /// A success whose body is not what the API promises.
    Unusable,
}

impl Outcome {
    fn of_fulcio(err: &sigstore_sign::fulcio::Error) -> Self {
        match err {
            sigstore_sign::fulcio::Error::Http(_) => Self::Unreachable,
            sigstore_sign::fulcio::Error::Status { status, .. } => Self::Status(*status),
            _ => Self::Unusable,
        }
    }

    fn of_rekor(err: &sigstore_sign::rekor::Error) -> Self {
        match err {
            sigstore_sign::rekor::Error::Http(_) => Self::Unreachable,
            sigstore_sign::rekor::Error::Status { status, .. } => Self::Status(*status),
            _ => Self::Unusable,
        }
    }
}

/// How a failed signing step is described, and whether another attempt may work (transport
/// errors, 5xx and 429, as for uploads; never a refusal).
fn describe_failure(
    err: sigstore_sign::Error,
    config: &SigstoreConfig,
    file: &str,
    redactor: &Redactor,
) -> (AttestError, bool) {
    let (service, url, outcome, request, detail) = match err {
        sigstore_sign::Error::Fulcio(e) => (
            "Fulcio",
            &config.fulcio,
            Outcome::of_fulcio(&e),
            "the signing-certificate request",
            e.to_string(),
        ),
        sigstore_sign::Error::Rekor(e) => (
            "Rekor",
            &config.rekor,
            Outcome::of_rekor(&e),
            "the log entry of the signature",
            e.to_string(),
        ),
        other => {
            return (
                AttestError::Signing {
                    file: file.to_owned(),
                    detail: redactor.redact(&other.to_string()),
                },
                false,
            );
        }
    };
    let (what, retryable, hint) = match outcome {
        Outcome::Unreachable => (
            format!("could not be reached for {request}"),
            true,
            "check the network and the Sigstore URL, or publish without attestations (`--no-attestations`, Action input `attestations: false`)",
        ),
        Outcome::Status(s) if SIGSTORE_RETRY_ON.status(s) => (
            format!("failed {request} (HTTP {s})"),
            true,
            "the service failed; run the job again later, or publish without attestations (`--no-attestations`, Action input `attestations: false`)",
        ),
        Outcome::Status(s @ (401 | 403)) if service == "Fulcio" => (
            format!("refused {request} (HTTP {s})"),
            false,
            "Fulcio accepts the job's OIDC token only from an issuer it trusts, with audience `sigstore`, not expired",
        ),
        Outcome::Status(s) => (
            format!("refused {request} (HTTP {s})"),
            false,
            "the service refused the request for the reason it gives",
        ),
        Outcome::Unusable => (
            format!("gave an unusable answer to {request}"),
            false,
            "the Sigstore URLs must name a Fulcio (API v2) and a Rekor (API v1)",
        ),
    };
    (
        AttestError::Service(Box::new(ServiceFailure {
            file: file.to_owned(),
            service,
            url: display_url(url),
            what,
            detail: redactor.redact(&detail),
            hint,
        })),
        retryable,
    )
}

/// Makes (or reuses) the publish attestation of every distribution and writes the new ones
/// next to their files. Everything is verified before it is returned; an error means no
/// attestation for some file, and then nothing must be uploaded.
pub async fn attest_all(
    dists: &[Distribution],
    oidc_env: &OidcEnv,
    config: &SigstoreConfig,
    policy: &RetryPolicy,
    redactor: &Redactor,
    reporter: &dyn Reporter,
) -> Result<Vec<Attested>, AttestError> {
    let client = super::api_client(Duration::from_secs(60))
        .map_err(|e| AttestError::Config(e.to_string()))?;
    let verifier = Verifier::new(&config.trusted_root).map_err(|e| {
        AttestError::Config(format!("{} is unusable: {e}", config.trusted_root_source))
    })?;
    let token = RefCell::new(id_token(&client, oidc_env, redactor).await?);
    let who = JobIdentity::from_jwt(token.borrow().jwt.expose())?;

    // Existing attestation files first: each is reused only when it verifies for this file
    // and this job; any other stops the run before anything is signed.
    let mut existing: Vec<Option<Attested>> = Vec::with_capacity(dists.len());
    for dist in dists {
        let Some(found) = read_existing(dist)? else {
            existing.push(None);
            continue;
        };
        let value: serde_json::Value =
            serde_json::from_str(&found.json).map_err(|e| AttestError::Signing {
                file: dist.filename.clone(),
                detail: e.to_string(),
            })?;
        let bundle = bundle_from_pep740(&value).map_err(|detail| AttestError::Signing {
            file: dist.filename.clone(),
            detail,
        })?;
        if let Err(detail) = verify_bundle(&verifier, &bundle, dist, &who) {
            return Err(AttestError::Existing {
                path: found.path.clone(),
                detail: format!(
                    "an attestation is already there and it does not verify for this file and this job (`{}`): {detail}",
                    who.identity
                ),
                hint: "an attestation file is never overwritten: remove it to have a new one made, or publish with `--no-attestations` to upload the files with the attestations next to them".to_owned(),
            });
        }
        reporter.info(&format!(
            "Using the existing attestation `{}` (it verifies for this file and this job)",
            found.path.display()
        ));
        existing.push(Some(found));
    }

    let services = SigningServices::new(config.fulcio.as_str(), config.rekor.as_str());
    let context = SigningContext::new(services).with_http_client(client.clone());
    let mut out = Vec::with_capacity(dists.len());
    for (dist, found) in dists.iter().zip(existing) {
        if let Some(found) = found {
            out.push(found);
            continue;
        }
        let statement = statement(dist).to_string();
        let (token, client, context, statement) = (&token, &client, &context, &statement);
        let sign = |_| async move {
            // Not retried: a new ID token that cannot be had, or that does not parse.
            let once = |err| (err, false);
            let stale = token.borrow().at.elapsed() > TOKEN_FRESH_FOR;
            if stale {
                let fresh = id_token(client, oidc_env, redactor).await.map_err(once)?;
                *token.borrow_mut() = fresh;
            }
            let jwt = token.borrow().jwt.clone();
            let identity = IdentityToken::from_jwt(jwt.expose()).map_err(|e| {
                once(AttestError::Signing {
                    file: dist.filename.clone(),
                    detail: format!("the job's OIDC token does not parse: {e}"),
                })
            })?;
            context
                .signer(identity)
                .sign_raw_statement(statement.as_bytes())
                .await
                .map_err(|err| describe_failure(err, config, &dist.filename, redactor))
        };
        let (signed, _) = retry::retry(
            policy,
            sign,
            |(_, retryable)| *retryable,
            |(err, _), retry| {
                reporter.warn(&format!(
                    "{}; retry {} of {} in {:.1} s",
                    err.to_string().lines().next().unwrap_or_default(),
                    retry.number,
                    retry.of,
                    retry.delay.as_secs_f64()
                ));
            },
        )
        .await;
        let bundle = signed.map_err(|(err, _)| err)?;
        verify_bundle(&verifier, &bundle, dist, &who).map_err(|detail| {
            AttestError::Unverified {
                file: dist.filename.clone(),
                root: config.trusted_root_source.clone(),
                detail,
            }
        })?;
        let value = pep740_from_bundle(&bundle).map_err(|detail| AttestError::Signing {
            file: dist.filename.clone(),
            detail,
        })?;
        let path = attestation_path(&dist.path);
        let json = value.to_string();
        write_new(&path, &json)?;
        reporter.info(&format!(
            "Attested `{}` (signed as `{}`, logged in Rekor) -> `{}`",
            dist.filename,
            who.identity,
            path.display()
        ));
        out.push(Attested {
            path,
            json,
            made: true,
        });
    }
    Ok(out)
}

/// Writes `json` to `path` through a temporary file in the same directory, never replacing an
/// existing file.
fn write_new(path: &Path, json: &str) -> Result<(), AttestError> {
    use std::io::Write as _;
    let fail = |e: &std::io::Error| AttestError::Write {
        path: path.to_owned(),
        reason: super::dist::root_cause(e),
    };
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    let mut temp = tempfile::Builder::new()
        .prefix(".wheelwright-attestation")
        .tempfile_in(dir.unwrap_or(Path::new(".")))
        .map_err(|e| fail(&e))?;
    temp.write_all(json.as_bytes())
        .and_then(|()| temp.write_all(b"\n"))
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|e| fail(&e))?;
    temp.persist_noclobber(path).map_err(|e| fail(&e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dist(dir: &Path) -> Distribution {
        let path = dir.join("a-1.0-py3-none-any.whl");
        fs_err::write(&path, b"x").unwrap();
        Distribution {
            path,
            filename: "a-1.0-py3-none-any.whl".into(),
            kind: super::super::dist::DistKind::Wheel,
            size: 1,
            sha256: "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881".into(),
            blake2_256: String::new(),
            name: "a".into(),
            version: "1.0".into(),
            metadata_fields: Vec::new(),
            pyversion: "py3".into(),
        }
    }

    fn attestation(statement: &serde_json::Value) -> serde_json::Value {
        serde_json::json!({
            "version": 1,
            "verification_material": {
                "certificate": "MIIB",
                "transparency_entries": [{"logIndex": "1"}],
            },
            "envelope": {
                "statement": b64().encode(statement.to_string()),
                "signature": "MEUC",
            },
        })
    }

    #[test]
    fn statement_names_the_file_and_its_digest() {
        let tmp = tempfile::tempdir().unwrap();
        let d = dist(tmp.path());
        let s = statement(&d);
        assert_eq!(s["_type"], "https://in-toto.io/Statement/v1");
        assert_eq!(s["subject"][0]["name"], "a-1.0-py3-none-any.whl");
        assert_eq!(s["subject"][0]["digest"]["sha256"], d.sha256);
        assert_eq!(s["predicateType"], endpoints::PYPI_PUBLISH_PREDICATE);
        assert_eq!(check_subject(&attestation(&s), &d), Ok(()));
        assert_eq!(
            attestation_path(&d.path).file_name().unwrap(),
            "a-1.0-py3-none-any.whl.publish.attestation"
        );
    }

    #[test]
    fn subject_checks_refuse_other_files_digests_and_predicates() {
        let tmp = tempfile::tempdir().unwrap();
        let d = dist(tmp.path());
        let mut s = statement(&d);
        s["subject"][0]["name"] = "b-1.0-py3-none-any.whl".into();
        assert!(
            check_subject(&attestation(&s), &d)
                .unwrap_err()
                .contains("for `b-1.0-py3-none-any.whl`")
        );
        let mut s = statement(&d);
        s["subject"][0]["digest"]["sha256"] = "00".into();
        assert!(
            check_subject(&attestation(&s), &d)
                .unwrap_err()
                .contains("other contents")
        );
        let mut s = statement(&d);
        s["predicateType"] = "https://slsa.dev/provenance/v1".into();
        assert!(
            check_subject(&attestation(&s), &d)
                .unwrap_err()
                .contains("predicate type")
        );
        let mut s = statement(&d);
        s["subject"] = serde_json::json!([s["subject"][0], s["subject"][0]]);
        assert!(
            check_subject(&attestation(&s), &d)
                .unwrap_err()
                .contains("2 subjects")
        );
    }

    #[test]
    fn existing_files_are_read_and_checked() {
        let tmp = tempfile::tempdir().unwrap();
        let d = dist(tmp.path());
        assert_eq!(read_existing(&d).unwrap(), None);
        let path = attestation_path(&d.path);
        fs_err::write(&path, "{not json").unwrap();
        let err = read_existing(&d).unwrap_err().to_string();
        assert!(err.contains("not a JSON attestation object"), "{err}");
        assert!(
            err.contains("a-1.0-py3-none-any.whl.publish.attestation"),
            "{err}"
        );
        // Written once, never over an existing file.
        fs_err::remove_file(&path).unwrap();
        write_new(&path, "{}").unwrap();
        let err = write_new(&path, "{\"x\":1}").unwrap_err().to_string();
        assert!(err.contains("cannot write"), "{err}");
        assert_eq!(fs_err::read_to_string(&path).unwrap(), "{}\n");
    }

    #[test]
    fn job_identity_comes_from_the_token() {
        let enc = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        let jwt = format!(
            "{}.{}.sig",
            enc("{}"),
            enc(
                r#"{"iss":"https://issuer.test","job_workflow_ref":"o/r/.github/workflows/w.yml@refs/tags/v1"}"#
            )
        );
        assert_eq!(
            JobIdentity::from_jwt(&jwt).unwrap(),
            JobIdentity {
                identity: "https://github.com/o/r/.github/workflows/w.yml@refs/tags/v1".into(),
                issuer: "https://issuer.test".into(),
            }
        );
        let jwt = format!("{}.{}.sig", enc("{}"), enc(r#"{"iss":"x"}"#));
        assert!(matches!(
            JobIdentity::from_jwt(&jwt),
            Err(AttestError::Claims("job_workflow_ref"))
        ));
    }

    #[test]
    fn sigstore_urls_must_be_https_or_loopback() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let config = SigstoreConfig::from_env(&env(&[])).unwrap();
        assert_eq!(config.fulcio.as_str(), "https://fulcio.sigstore.dev/");
        let local =
            SigstoreConfig::from_env(&env(&[(env_vars::FULCIO_URL, "http://127.0.0.1:9/")]));
        assert!(local.is_ok());
        let err = SigstoreConfig::from_env(&env(&[(env_vars::REKOR_URL, "http://rekor.test/")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("is not https"), "{err}");
        let err =
            SigstoreConfig::from_env(&env(&[(env_vars::TRUSTED_ROOT, "/nonexistent/root.json")]))
                .unwrap_err()
                .to_string();
        assert!(err.contains("cannot read the trust root"), "{err}");
    }
}
