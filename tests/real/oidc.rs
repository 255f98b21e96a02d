//! Trusted publishing against STAND-INS. Neither GitHub's OIDC provider nor Warehouse runs
//! here (and nothing else speaks their protocols offline), so two loopback servers play them,
//! each at least as strict as the real service on everything `wheelwright publish` touches:
//!
//! * the runner's ID-token endpoint (`ACTIONS_ID_TOKEN_REQUEST_URL`) answers only a GET with
//!   `Authorization: bearer <ACTIONS_ID_TOKEN_REQUEST_TOKEN>` (401 otherwise) and issues RS256
//!   JWTs with GitHub's issuer, claims and a fresh `jti`, for the `audience` query parameter —
//!   without one, for GitHub's default audience (the owner's URL), which no index accepts;
//! * the index (Warehouse's `oidc/views.py`, `oidc/services.py`, `macaroons/caveats.py`):
//!   `/_/oidc/audience` announces its audience; `/_/oidc/mint-token` checks, in Warehouse's
//!   order and with its exact codes and descriptions, the body (`invalid-payload`), the issuer
//!   (`invalid-payload`), the GitHub switch (`not-enabled`), the signature, issuer, `iat`,
//!   `nbf`, `exp` and that `aud` is exactly its audience (`invalid-token`; Warehouse allows 30 s
//!   of leeway on the times, the stand-in none), a pending publisher for an existing project
//!   (`invalid-pending-publisher`), a `jti` already used (`invalid-reuse-token`) and the
//!   publisher's repository, owner id, workflow file and environment (`invalid-publisher`),
//!   then mints a distinct token with `expires` (900 s unless a test shortens it); the upload
//!   endpoint takes only `__token__` with a minted token before its `expires` and answers 403
//!   with Warehouse's words in the status line otherwise.
//!
//! Every refusal here is one the client meets on the user's path: the tests steer the runner
//! and the index (another issuer, a switched-off index, a short token lifetime …), never the
//! client.

use std::collections::HashSet;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, KeyPair as _, RsaKeyPair};
use base64::Engine as _;

use crate::publish::{results, scratch};
use crate::publish_support::{
    Reply, Request, Stub, basic, index_handler, make_wheel, publish_cmd, run, sha256_hex,
};
use crate::support::json_of;

/// GitHub's issuer: the only one the index stand-in knows.
const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";
/// The runner's bearer token for ID-token requests (not a real one).
const REQUEST_TOKEN: &str = "stand-in-runner-request-token-4711";
/// The index's audience.
const AUDIENCE: &str = "stand-in-pypi";
/// The `kid` of the runner's signing key.
const KEY_ID: &str = "stand-in-runner-key";

/// The trusted publisher registered on the index, and what the ID tokens say by default.
const REPOSITORY: &str = "octo/wheels";
const OWNER_ID: &str = "4242";
const WORKFLOW_REF: &str = "octo/wheels/.github/workflows/release.yml@refs/tags/v1.0";
const ENVIRONMENT: &str = "release";

/// GitHub's ID tokens are short-lived; the stand-in's live 5 minutes.
const ID_TOKEN_LIFETIME: i64 = 300;
/// Warehouse's minted tokens live 900 s.
const TOKEN_LIFETIME: u64 = 900;

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64url(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .ok()
}

fn now_f64() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Whole seconds, as Warehouse's `int(time.time())`.
fn now() -> i64 {
    now_f64() as i64
}

/// A token the index minted.
#[derive(Debug, Clone)]
pub(crate) struct Minted {
    pub(crate) token: String,
    pub(crate) expires: i64,
}

/// An upload the index checked: the file, which minted token it carried (if any), when its
/// credentials were checked (unix seconds) and the answer.
#[derive(Debug, Clone)]
pub(crate) struct UploadCheck {
    pub(crate) file: String,
    pub(crate) minted: Option<usize>,
    pub(crate) at: f64,
    pub(crate) status: u16,
}

/// What the tests steer and read.
pub(crate) struct Control {
    /// Claims merged into every ID token the runner issues.
    pub(crate) claim_overrides: Mutex<serde_json::Map<String, serde_json::Value>>,
    /// Seconds from issue to `exp` of the runner's ID tokens.
    pub(crate) id_token_lifetime: Mutex<i64>,
    /// The runner hands out its previous ID token again.
    pub(crate) replay: AtomicBool,
    /// The audience `/_/oidc/audience` announces, when not the one the index checks.
    pub(crate) announced_audience: Mutex<Option<String>>,
    /// The index has no trusted publishing at all (`/_/oidc/audience` answers 404).
    pub(crate) unsupported: AtomicBool,
    /// GitHub-based trusted publishing is switched off on the index.
    pub(crate) github_disabled: AtomicBool,
    /// The publisher is a pending one, for a project that exists by now.
    pub(crate) stale_pending_publisher: AtomicBool,
    /// Seconds from minting to `expires`.
    pub(crate) token_lifetime: Mutex<u64>,
    /// How long the index works on an upload after checking its credentials.
    pub(crate) upload_delay: Mutex<Duration>,
    /// Every ID token the runner issued, in order.
    pub(crate) issued: Mutex<Vec<String>>,
    /// `jti`s of ID tokens exchanged successfully.
    pub(crate) used_jti: Mutex<HashSet<String>>,
    /// Every token minted, in order.
    pub(crate) minted: Mutex<Vec<Minted>>,
    /// Every upload's credential check, in order.
    pub(crate) uploads: Mutex<Vec<UploadCheck>>,
}

impl Default for Control {
    fn default() -> Self {
        Self {
            claim_overrides: Mutex::default(),
            id_token_lifetime: Mutex::new(ID_TOKEN_LIFETIME),
            replay: AtomicBool::default(),
            announced_audience: Mutex::default(),
            unsupported: AtomicBool::default(),
            github_disabled: AtomicBool::default(),
            stale_pending_publisher: AtomicBool::default(),
            token_lifetime: Mutex::new(TOKEN_LIFETIME),
            upload_delay: Mutex::default(),
            issued: Mutex::default(),
            used_jti: Mutex::default(),
            minted: Mutex::default(),
            uploads: Mutex::default(),
        }
    }
}

/// The runner's signing key.
struct Issuer {
    key: RsaKeyPair,
}

impl Issuer {
    fn new() -> Self {
        Self {
            key: RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap(),
        }
    }

    /// An RS256 JWT over `claims`, with the runner's `kid`.
    fn sign(&self, claims: &serde_json::Value) -> String {
        let input = format!(
            "{}.{}",
            b64url(
                serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": KEY_ID})
                    .to_string()
                    .as_bytes()
            ),
            b64url(claims.to_string().as_bytes())
        );
        let mut sig = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                input.as_bytes(),
                &mut sig,
            )
            .unwrap();
        format!("{input}.{}", b64url(&sig))
    }

    /// GitHub Actions' claims for the publisher's release job, for `audience`.
    fn id_token(&self, audience: &str, control: &Control) -> String {
        let t = now();
        let lifetime = *control.id_token_lifetime.lock().unwrap();
        let mut claims = serde_json::json!({
            "iss": GITHUB_ISSUER,
            "aud": audience,
            "sub": format!("repo:{REPOSITORY}:environment:{ENVIRONMENT}"),
            "jti": format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..)),
            "iat": t,
            "nbf": t - 5,
            "exp": t + lifetime,
            "repository": REPOSITORY,
            "repository_id": "99",
            "repository_owner": "octo",
            "repository_owner_id": OWNER_ID,
            "workflow_ref": WORKFLOW_REF,
            "job_workflow_ref": WORKFLOW_REF,
            "ref": "refs/tags/v1.0",
            "environment": ENVIRONMENT,
            "event_name": "push",
            "runner_environment": "github-hosted",
        });
        for (key, value) in control.claim_overrides.lock().unwrap().iter() {
            claims[key] = value.clone();
        }
        self.sign(&claims)
    }

    /// Warehouse's `verify_jwt_signature`: RS256 with a known `kid`, `iss`, `iat`, `exp` and
    /// `aud` present, the issuer GitHub's, `nbf` and `exp` around now (no leeway: stricter than
    /// Warehouse's 30 s), and `aud` a single string equal to `audience` (`strict_aud`).
    fn verify(&self, jwt: &str, audience: &str) -> Option<serde_json::Value> {
        let mut parts = jwt.split('.');
        let (Some(header), Some(payload), Some(sig), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let header: serde_json::Value = serde_json::from_slice(&unb64url(header)?).ok()?;
        if header["alg"] != "RS256" || header["kid"] != KEY_ID {
            return None;
        }
        signature::UnparsedPublicKey::new(
            &signature::RSA_PKCS1_2048_8192_SHA256,
            self.key.public_key().as_ref(),
        )
        .verify(&jwt.as_bytes()[..jwt.rfind('.')?], &unb64url(sig)?)
        .ok()?;
        let claims: serde_json::Value = serde_json::from_slice(&unb64url(payload)?).ok()?;
        let t = now();
        let number = |name: &str| claims[name].as_i64();
        let (Some(_iat), Some(exp)) = (number("iat"), number("exp")) else {
            return None;
        };
        let fresh = exp > t
            && claims
                .get("nbf")
                .is_none_or(|_| number("nbf").is_some_and(|nbf| nbf <= t));
        (claims["iss"] == GITHUB_ISSUER && claims["aud"].as_str() == Some(audience) && fresh)
            .then_some(claims)
    }
}

/// Warehouse's 422 reply for a refused exchange.
fn refused(code: &str, description: &str) -> Reply {
    Reply::json(
        422,
        &serde_json::json!({
            "message": "Token request failed",
            "errors": [{"code": code, "description": description}],
        }),
    )
}

/// 403 with the message in the status line and the body, as Warehouse answers uploads.
fn forbidden(message: String) -> Reply {
    let mut reply = Reply::new(403, "text/plain", message.clone());
    reply.reason = message;
    reply
}

/// `/_/oidc/mint-token`, in the order of Warehouse's `mint_token_from_oidc` and `mint_token`.
fn mint(request: &Request, issuer: &Issuer, control: &Control) -> Reply {
    let body: Option<serde_json::Value> = serde_json::from_slice(&request.body).ok();
    let Some(jwt) = body
        .as_ref()
        .and_then(|b| b.get("token"))
        .and_then(|t| t.as_str())
    else {
        // Warehouse quotes pydantic here; the first line of its message.
        return refused("invalid-payload", "1 validation error for TokenPayload");
    };
    let unverified = jwt
        .split('.')
        .nth(1)
        .and_then(unb64url)
        .and_then(|p| serde_json::from_slice::<serde_json::Value>(&p).ok())
        .filter(|claims| claims.get("iss").is_some());
    let Some(unverified) = unverified else {
        return refused("invalid-payload", "malformed JWT");
    };
    if unverified["iss"] != GITHUB_ISSUER {
        return refused("invalid-payload", "unknown trusted publishing issuer");
    }
    if control.github_disabled.load(Ordering::SeqCst) {
        return refused(
            "not-enabled",
            "github trusted publishing functionality not enabled",
        );
    }
    let Some(claims) = issuer.verify(jwt, AUDIENCE) else {
        return refused("invalid-token", "malformed or invalid token");
    };
    if control.stale_pending_publisher.load(Ordering::SeqCst) {
        return refused(
            "invalid-pending-publisher",
            "valid token, but project already exists",
        );
    }
    let jti = claims["jti"].as_str().unwrap_or_default().to_owned();
    if control.used_jti.lock().unwrap().contains(&jti) {
        return refused("invalid-reuse-token", "invalid token: already used");
    }
    let workflow_file = |r: &str| {
        r.split('@')
            .next()
            .and_then(|p| p.rsplit('/').next())
            .map(str::to_owned)
    };
    let matches = claims["repository"] == REPOSITORY
        && claims["repository_owner_id"] == OWNER_ID
        && claims["job_workflow_ref"]
            .as_str()
            .and_then(workflow_file)
            .as_deref()
            == Some("release.yml")
        && claims["environment"] == ENVIRONMENT;
    if !matches {
        return refused(
            "invalid-publisher",
            "valid token, but no corresponding publisher (Publisher with matching claims was not found)",
        );
    }
    control.used_jti.lock().unwrap().insert(jti);
    let expires = now() + *control.token_lifetime.lock().unwrap() as i64;
    let token = format!("pypi-stand-in-{:016x}", fastrand::u64(..));
    control.minted.lock().unwrap().push(Minted {
        token: token.clone(),
        expires,
    });
    Reply::json(
        200,
        &serde_json::json!({"success": true, "token": token, "expires": expires}),
    )
}

/// The upload endpoint's credential check (Warehouse's security policy and `Expiration`
/// caveat: valid while `now < expires`), then a plain index.
fn upload(
    request: &Request,
    state: &crate::publish_support::StubState,
    control: &Control,
) -> Reply {
    let at = now_f64();
    let pair = request
        .header("authorization")
        .and_then(|h| h.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let minted = pair.as_deref().and_then(|pair| {
        let (user, password) = pair.split_once(':')?;
        (user == "__token__")
            .then(|| {
                control
                    .minted
                    .lock()
                    .unwrap()
                    .iter()
                    .position(|m| m.token == password)
            })
            .flatten()
    });
    let reply = match minted {
        None => {
            let host = request.header("host").unwrap_or("index");
            forbidden(format!(
                "Invalid or non-existent authentication information. See http://{host}/help/#invalid-auth for more information."
            ))
        }
        Some(i) if now() >= control.minted.lock().unwrap()[i].expires => {
            forbidden("Invalid API Token: token is expired".to_owned())
        }
        Some(_) => {
            std::thread::sleep(*control.upload_delay.lock().unwrap());
            index_handler(request, state)
        }
    };
    control.uploads.lock().unwrap().push(UploadCheck {
        file: request.upload_filename().unwrap_or_default(),
        minted,
        at,
        status: reply.status,
    });
    reply
}

/// The runner's ID-token endpoint and a Warehouse-shaped index.
pub(crate) struct StandIns {
    pub(crate) runner: Stub,
    pub(crate) index: Stub,
    pub(crate) control: Arc<Control>,
    issuer: Arc<Issuer>,
}

impl StandIns {
    pub(crate) fn start() -> Self {
        let control = Arc::new(Control::default());
        let issuer = Arc::new(Issuer::new());
        let runner = {
            let (control, issuer) = (Arc::clone(&control), Arc::clone(&issuer));
            Stub::start(move |request, _| {
                let url = reqwest::Url::parse(&format!("http://runner{}", request.target)).unwrap();
                if request.method != "GET" || url.path() != "/runner/token" {
                    return Reply::new(404, "text/plain", "Not Found");
                }
                let bearer = request.header("authorization").and_then(|h| {
                    h.split_once(' ')
                        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                        .map(|(_, token)| token)
                });
                if bearer != Some(REQUEST_TOKEN) {
                    return Reply::new(401, "application/json", r#"{"message":"Unauthorized"}"#);
                }
                let audience = url
                    .query_pairs()
                    .find(|(k, _)| k == "audience")
                    .map_or_else(
                        || "https://github.com/octo".to_owned(),
                        |(_, v)| v.into_owned(),
                    );
                let jwt = {
                    let mut issued = control.issued.lock().unwrap();
                    let jwt = match issued.last() {
                        Some(last) if control.replay.load(Ordering::SeqCst) => last.clone(),
                        _ => issuer.id_token(&audience, &control),
                    };
                    issued.push(jwt.clone());
                    jwt
                };
                Reply::json(200, &serde_json::json!({ "value": jwt }))
            })
        };
        let index = {
            let (control, issuer) = (Arc::clone(&control), Arc::clone(&issuer));
            Stub::start(move |request, state| {
                let path = request.target.split('?').next().unwrap_or("");
                match (request.method.as_str(), path) {
                    ("GET", "/_/oidc/audience") if control.unsupported.load(Ordering::SeqCst) => {
                        Reply::new(404, "text/plain", "Not Found")
                    }
                    ("GET", "/_/oidc/audience") => {
                        let audience = control
                            .announced_audience
                            .lock()
                            .unwrap()
                            .clone()
                            .unwrap_or_else(|| AUDIENCE.to_owned());
                        Reply::json(200, &serde_json::json!({ "audience": audience }))
                    }
                    ("POST", "/_/oidc/mint-token") => mint(request, &issuer, &control),
                    ("POST", "/legacy/") => upload(request, state, &control),
                    _ => Reply::new(404, "text/plain", "Not Found"),
                }
            })
        };
        Self {
            runner,
            index,
            control,
            issuer,
        }
    }

    pub(crate) fn upload_url(&self) -> String {
        self.index.url("/legacy/")
    }

    /// `wheelwright publish FILES` as a step of a job with `id-token: write` runs it, against
    /// the stand-ins (attestations have their own tests against Sigstore stand-ins: attest.rs).
    pub(crate) fn command(&self, home: &Path, files: &[PathBuf], extra: &[&str]) -> Command {
        let mut cmd = publish_cmd(home);
        cmd.args(files)
            .args(["--repository-url", &self.upload_url(), "--no-attestations"])
            .args(extra)
            .env("GITHUB_ACTIONS", "true")
            .env(
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                self.runner.url("/runner/token?api-version=2.0"),
            )
            .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN);
        cmd
    }

    /// Runs [`Self::command`].
    pub(crate) fn publish(
        &self,
        home: &Path,
        files: &[PathBuf],
        extra: &[&str],
    ) -> (Output, String) {
        run(&mut self.command(home, files, extra))
    }

    fn issued(&self) -> Vec<String> {
        self.control.issued.lock().unwrap().clone()
    }

    fn minted(&self) -> Vec<Minted> {
        self.control.minted.lock().unwrap().clone()
    }

    fn mint_requests(&self) -> usize {
        self.index
            .requests()
            .iter()
            .filter(|r| r.target == "/_/oidc/mint-token")
            .count()
    }
}

/// Claims of a JWT (no check).
fn claims_of(jwt: &str) -> serde_json::Value {
    serde_json::from_slice(&unb64url(jwt.split('.').nth(1).unwrap()).unwrap()).unwrap()
}

/// Each secret appears in the output once: in its `::add-mask::` line.
fn assert_only_masked(text: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(
            text.contains(&format!("::add-mask::{secret}\n")),
            "`{secret}` not masked:\n{text}"
        );
        assert_eq!(
            text.matches(secret).count(),
            1,
            "`{secret}` printed outside its mask:\n{text}"
        );
    }
}

/// One HTTP/1.0 exchange with a stand-in: `(status, reason, body)`.
fn probe(
    stub: &Stub,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", stub.port())).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{}\r\nContent-Length: {}\r\n",
        stub.port(),
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status_line = head.lines().next().unwrap();
    let mut words = status_line.splitn(3, ' ');
    words.next();
    let status = words.next().unwrap().parse().unwrap();
    (
        status,
        words.next().unwrap_or("").to_owned(),
        body.to_owned(),
    )
}

fn mint_probe(standins: &StandIns, body: &str) -> (u16, serde_json::Value) {
    let (status, _, text) = probe(
        &standins.index,
        "POST",
        "/_/oidc/mint-token",
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    );
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

fn code_of(reply: &serde_json::Value) -> &str {
    reply["errors"][0]["code"].as_str().unwrap_or("")
}

#[test]
fn oidc_standins_refuse_what_the_services_refuse() {
    // The stand-ins on their own, before any test leans on them: each check above answers as
    // the service does.
    let standins = StandIns::start();
    let runner_path = format!("/runner/token?api-version=2.0&audience={AUDIENCE}");

    // The runner: no bearer token, or another one, is 401; without `audience` the token is for
    // GitHub's default audience, which the index refuses.
    for headers in [
        vec![],
        vec![("Authorization", "bearer someone-elses-token")],
        vec![("Authorization", "Basic eDp5")],
    ] {
        let (status, _, _) = probe(&standins.runner, "GET", &runner_path, &headers, b"");
        assert_eq!(status, 401, "{headers:?}");
    }
    let bearer = format!("Bearer {REQUEST_TOKEN}");
    let id_token = |path: &str| {
        let (status, _, body) = probe(
            &standins.runner,
            "GET",
            path,
            &[("Authorization", &bearer)],
            b"",
        );
        assert_eq!(status, 200, "{body}");
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["value"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let default_audience = id_token("/runner/token?api-version=2.0");
    assert_eq!(
        claims_of(&default_audience)["aud"],
        "https://github.com/octo"
    );
    let exchange =
        |jwt: &str| mint_probe(&standins, &serde_json::json!({ "token": jwt }).to_string());
    let (status, reply) = exchange(&default_audience);
    assert_eq!((status, code_of(&reply)), (422, "invalid-token"), "{reply}");
    assert_eq!(reply["message"], "Token request failed");
    assert_eq!(
        reply["errors"][0]["description"],
        "malformed or invalid token"
    );

    // The index: what it refuses, and with which code.
    let good = id_token(&runner_path);
    let mut claims = claims_of(&good);
    let resign = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut c = claims.clone();
        edit(&mut c);
        standins.issuer.sign(&c)
    };
    let forged = {
        // Same claims, signed by a key the runner does not have.
        let other = Issuer::new();
        other.sign(&claims)
    };
    let cases: Vec<(&str, String, &str)> = vec![
        ("not JSON", "{".to_owned(), "invalid-payload"),
        ("token not a string", r#"{"token": 5}"#.to_owned(), "invalid-payload"),
        ("not a JWT", r#"{"token": "abc"}"#.to_owned(), "invalid-payload"),
        ("unknown issuer", serde_json::json!({"token": resign(&|c| c["iss"] = "https://issuer.example".into())}).to_string(), "invalid-payload"),
        ("forged signature", serde_json::json!({"token": forged}).to_string(), "invalid-token"),
        ("another audience", serde_json::json!({"token": resign(&|c| c["aud"] = "stand-in-testpypi".into())}).to_string(), "invalid-token"),
        ("audience list", serde_json::json!({"token": resign(&|c| c["aud"] = serde_json::json!([AUDIENCE]))}).to_string(), "invalid-token"),
        ("expired", serde_json::json!({"token": resign(&|c| c["exp"] = (now() - 1).into())}).to_string(), "invalid-token"),
        ("not yet valid", serde_json::json!({"token": resign(&|c| c["nbf"] = (now() + 60).into())}).to_string(), "invalid-token"),
        ("no iat", serde_json::json!({"token": resign(&|c| { c.as_object_mut().unwrap().remove("iat"); })}).to_string(), "invalid-token"),
        ("another workflow", serde_json::json!({"token": resign(&|c| c["job_workflow_ref"] = "octo/wheels/.github/workflows/nightly.yml@refs/heads/main".into())}).to_string(), "invalid-publisher"),
        ("another environment", serde_json::json!({"token": resign(&|c| c["environment"] = "staging".into())}).to_string(), "invalid-publisher"),
    ];
    for (what, body, code) in &cases {
        let (status, reply) = mint_probe(&standins, body);
        assert_eq!((status, code_of(&reply)), (422, *code), "{what}: {reply}");
    }
    assert!(
        standins.minted().is_empty(),
        "nothing minted from a refused token"
    );

    // A good token is exchanged once; its `jti` never again, even re-signed.
    let (status, reply) = exchange(&good);
    assert_eq!(status, 200, "{reply}");
    let token = reply["token"].as_str().unwrap().to_owned();
    let expires = reply["expires"].as_i64().unwrap();
    assert!(
        (expires - now() - TOKEN_LIFETIME as i64).abs() <= 2,
        "{reply}"
    );
    let (status, reply) = exchange(&good);
    assert_eq!(
        (status, code_of(&reply)),
        (422, "invalid-reuse-token"),
        "{reply}"
    );
    assert_eq!(
        reply["errors"][0]["description"],
        "invalid token: already used"
    );
    claims["exp"] = (now() + 200).into();
    let (status, reply) = exchange(&standins.issuer.sign(&claims));
    assert_eq!(
        (status, code_of(&reply)),
        (422, "invalid-reuse-token"),
        "{reply}"
    );

    // The upload endpoint: only `__token__` with a minted, unexpired token.
    let boundary = "stand-in-boundary";
    let form = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"content\"; filename=\"probe-1.0-py3-none-any.whl\"\r\n\r\nbytes\r\n--{boundary}--\r\n"
    );
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let upload = |authorization: Option<String>| {
        let mut headers = vec![("Content-Type", content_type.as_str())];
        if let Some(a) = &authorization {
            headers.push(("Authorization", a.as_str()));
        }
        let (status, reason, _) = probe(
            &standins.index,
            "POST",
            "/legacy/",
            &headers,
            form.as_bytes(),
        );
        (status, reason)
    };
    for authorization in [
        None,
        Some(basic("__token__", "pypi-not-minted-here")),
        Some(basic("octo", &token)),
    ] {
        let (status, reason) = upload(authorization.clone());
        assert_eq!(status, 403, "{authorization:?}");
        assert!(
            reason.starts_with("Invalid or non-existent authentication information."),
            "{reason}"
        );
    }
    // A token minted with no lifetime left is refused as expired.
    *standins.control.token_lifetime.lock().unwrap() = 0;
    let (status, reply) = exchange(&id_token(&runner_path));
    assert_eq!(status, 200, "{reply}");
    let expired = reply["token"].as_str().unwrap().to_owned();
    assert_eq!(
        upload(Some(basic("__token__", &expired))),
        (403, "Invalid API Token: token is expired".to_owned())
    );
    assert_eq!(upload(Some(basic("__token__", &token))).0, 200);
    assert_eq!(standins.index.state.stored.lock().unwrap().len(), 1);
}

#[test]
fn trusted_publishing_uploads_with_the_minted_token_and_prints_no_secret() {
    let (tmp, home) = scratch();
    let standins = StandIns::start();
    let wheel = make_wheel(tmp.path(), "ww_oidc", "1.0", 2048, 6);

    // `-vv` logs every request and answer: the tokens must still appear only in their masks.
    let (output, text) = standins.publish(&home, std::slice::from_ref(&wheel), &["-vv"]);
    assert!(output.status.success(), "{text}");
    let runner = standins.runner.requests();
    assert_eq!(runner.len(), 1);
    assert!(
        runner[0].target.contains("api-version=2.0"),
        "{}",
        runner[0].target
    );
    assert!(
        runner[0].target.contains(&format!("audience={AUDIENCE}")),
        "{}",
        runner[0].target
    );
    let (issued, minted) = (standins.issued(), standins.minted());
    assert_eq!((issued.len(), minted.len()), (1, 1));
    let uploads = standins.index.uploads();
    assert_eq!(uploads.len(), 1);
    assert_eq!(
        uploads[0].header("authorization"),
        Some(basic("__token__", &minted[0].token).as_str())
    );
    let stored = standins.index.state.stored.lock().unwrap().clone();
    assert_eq!(stored.len(), 1);
    assert_eq!(
        sha256_hex(&stored[0].1),
        sha256_hex(&fs_err::read(&wheel).unwrap())
    );
    assert!(
        text.contains("Obtained an upload token by trusted publishing (repository `octo/wheels`"),
        "{text}"
    );
    // Warehouse's `expires` is whole seconds: the lifetime left on arrival is 899.x s.
    let lifetime = text
        .split_once("; it expires in ")
        .and_then(|(_, rest)| rest.split_once(" s and is renewed after "))
        .and_then(|(expires, rest)| {
            Some((
                expires.parse::<u32>().ok()?,
                rest.split_once(" s)")?.0.parse::<u32>().ok()?,
            ))
        })
        .unwrap_or_else(|| panic!("no lifetime in the message:\n{text}"));
    assert!(
        (897..=900).contains(&lifetime.0) && (598..=600).contains(&lifetime.1),
        "{lifetime:?}"
    );
    assert_only_masked(&text, &[&minted[0].token, &issued[0], REQUEST_TOKEN]);

    // An index without trusted publishing.
    standins.control.unsupported.store(true, Ordering::SeqCst);
    let (output, text) = standins.publish(&home, std::slice::from_ref(&wheel), &[]);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("does not support trusted publishing"),
        "{text}"
    );
    assert_eq!(
        standins.runner.requests().len(),
        1,
        "no ID token without an audience"
    );

    // No OIDC permission: the fix is spelled out, and nothing is contacted.
    let (runner_before, index_before) = (
        standins.runner.requests().len(),
        standins.index.requests().len(),
    );
    let upload_url = standins.upload_url();
    for args in [
        vec!["--repository", "testpypi"],
        vec![
            "--repository-url",
            upload_url.as_str(),
            "--trusted-publishing",
            "always",
        ],
    ] {
        let mut cmd = publish_cmd(&home);
        cmd.arg(&wheel).args(&args).env("GITHUB_ACTIONS", "true");
        let (output, text) = run(&mut cmd);
        assert_eq!(output.status.code(), Some(1), "{text}");
        assert!(text.contains("permissions: id-token: write"), "{text}");
    }
    assert_eq!(
        (
            standins.runner.requests().len(),
            standins.index.requests().len()
        ),
        (runner_before, index_before)
    );
}

#[test]
fn trusted_publishing_with_a_bad_runner_token_names_id_token_write() {
    let (tmp, home) = scratch();
    let standins = StandIns::start();
    let wheel = make_wheel(tmp.path(), "ww_oidc_bad_runner", "1.0", 1024, 7);
    let wrong = "not-the-runners-request-token-0815";
    let mut cmd = standins.command(&home, &[wheel], &[]);
    cmd.env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", wrong);
    let (output, text) = run(&mut cmd);
    assert_eq!(output.status.code(), Some(1), "{text}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let error = stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line:\n{text}"));
    assert!(
        error.starts_with(
            "error: trusted publishing: the runner refused an OIDC token (401 Unauthorized)"
        ),
        "{error}"
    );
    let hint = stderr
        .lines()
        .skip_while(|l| !l.starts_with("error: "))
        .nth(1)
        .unwrap_or_default();
    assert!(
        hint.starts_with("hint: ") && hint.contains("`permissions: id-token: write`"),
        "{text}"
    );
    // The runner was asked once (a 401 is not retried), with the token as a bearer token.
    let runner = standins.runner.requests();
    assert_eq!(runner.len(), 1);
    assert_eq!(
        runner[0].header("authorization"),
        Some(format!("bearer {wrong}").as_str())
    );
    assert_eq!(runner[0].answered, 401);
    assert_eq!(standins.mint_requests(), 0);
    assert!(standins.index.uploads().is_empty());
    assert_only_masked(&text, &[wrong]);
}

#[test]
fn trusted_publishing_wrong_audience_is_refused_by_the_index() {
    // An index that announces an audience it does not accept: the client asks the runner for
    // exactly the announced one, and the exchange is refused as Warehouse refuses it.
    let (tmp, home) = scratch();
    let standins = StandIns::start();
    *standins.control.announced_audience.lock().unwrap() = Some("stand-in-testpypi".to_owned());
    let wheel = make_wheel(tmp.path(), "ww_oidc_audience", "1.0", 1024, 8);
    let (output, text) = standins.publish(&home, &[wheel], &[]);
    assert_eq!(output.status.code(), Some(1), "{text}");
    let runner = standins.runner.requests();
    assert!(
        runner[0].target.contains("audience=stand-in-testpypi"),
        "{}",
        runner[0].target
    );
    assert_eq!(claims_of(&standins.issued()[0])["aud"], "stand-in-testpypi");
    for needle in [
        "refused the token exchange (422 Unprocessable Entity):\n  invalid-token: malformed or invalid token\n",
        "hint: `invalid-token`: the index did not accept the ID token's signature, issuer, audience or expiry",
    ] {
        assert!(text.contains(needle), "`{needle}` missing:\n{text}");
    }
    assert!(standins.minted().is_empty());
    assert!(standins.index.uploads().is_empty());
}

#[test]
fn trusted_publishing_each_refusal_code_has_its_own_message() {
    // Each documented code, brought about the way it happens to users; `invalid-reuse-token`
    // has its own test below.
    let (tmp, home) = scratch();
    let wheel = make_wheel(tmp.path(), "ww_oidc_refused", "1.0", 1024, 9);
    let summary = tmp.path().join("summary.md");
    type Setup = fn(&Control);
    let scenarios: [(&str, &str, &str, Setup); 5] = [
        (
            "invalid-payload",
            "unknown trusted publishing issuer",
            "the index could not read the ID token or does not know the issuer",
            // A GitHub Enterprise Server runner: its own issuer.
            |c| {
                c.claim_overrides
                    .lock()
                    .unwrap()
                    .insert("iss".into(), "https://ghes.example/_services/token".into());
            },
        ),
        (
            "not-enabled",
            "github trusted publishing functionality not enabled",
            "trusted publishing from GitHub is switched off on this index",
            |c| c.github_disabled.store(true, Ordering::SeqCst),
        ),
        (
            "invalid-token",
            "malformed or invalid token",
            "the index did not accept the ID token's signature, issuer, audience or expiry",
            // A token that expired before it reached the index (beyond Warehouse's leeway).
            |c| *c.id_token_lifetime.lock().unwrap() = -120,
        ),
        (
            "invalid-pending-publisher",
            "valid token, but project already exists",
            "the pending publisher was for a project that exists now",
            |c| c.stale_pending_publisher.store(true, Ordering::SeqCst),
        ),
        (
            "invalid-publisher",
            "valid token, but no corresponding publisher (Publisher with matching claims was not found)",
            "no trusted publisher of the project matches the claims above",
            // The job runs from another workflow file than the publisher names.
            |c| {
                let nightly = "octo/wheels/.github/workflows/nightly.yml@refs/heads/main";
                let mut o = c.claim_overrides.lock().unwrap();
                o.insert("workflow_ref".into(), nightly.into());
                o.insert("job_workflow_ref".into(), nightly.into());
            },
        ),
    ];
    let mut seen_hints = HashSet::new();
    for (code, description, hint, setup) in scenarios {
        let standins = StandIns::start();
        setup(&standins.control);
        let mut cmd = standins.command(&home, std::slice::from_ref(&wheel), &[]);
        cmd.env("GITHUB_STEP_SUMMARY", &summary);
        let (output, text) = run(&mut cmd);
        assert_eq!(output.status.code(), Some(1), "{code}: {text}");
        let jwt = standins.issued().pop().unwrap();
        let claims = claims_of(&jwt);
        for needle in [
            format!(
                "refused the token exchange (422 Unprocessable Entity):\n  {code}: {description}\n"
            ),
            format!("  repository: {REPOSITORY}"),
            format!(
                "  workflow_ref: {}",
                claims["workflow_ref"].as_str().unwrap()
            ),
            "  environment: release".to_owned(),
            format!("hint: `{code}`: {hint}"),
            "::error title=wheelwright::".to_owned(),
        ] {
            assert!(
                text.contains(&needle),
                "{code}: `{needle}` missing:\n{text}"
            );
        }
        // Only this code's hint.
        assert_eq!(text.matches("\nhint: `").count(), 1, "{code}:\n{text}");
        seen_hints.insert(hint);
        assert_only_masked(&text, &[&jwt]);
        assert!(
            fs_err::read_to_string(&summary).unwrap().contains(code),
            "{code}"
        );
        assert!(standins.minted().is_empty(), "{code}");
        assert!(standins.index.uploads().is_empty(), "{code}");
    }
    assert_eq!(seen_hints.len(), 5);
}

#[test]
fn trusted_publishing_reused_id_token_is_refused() {
    // Warehouse takes each ID token once. The client asks for a fresh one for every exchange;
    // a runner that hands out the same token again gets `invalid-reuse-token`.
    let (tmp, home) = scratch();
    let standins = StandIns::start();
    let first = make_wheel(tmp.path(), "ww_oidc_reuse", "1.0", 1024, 10);
    let second = make_wheel(tmp.path(), "ww_oidc_reuse", "1.1", 1024, 11);
    let (output, text) = standins.publish(&home, &[first], &[]);
    assert!(output.status.success(), "{text}");
    standins.control.replay.store(true, Ordering::SeqCst);
    let (output, text) = standins.publish(&home, &[second], &[]);
    assert_eq!(output.status.code(), Some(1), "{text}");
    let issued = standins.issued();
    assert_eq!(issued.len(), 2);
    assert_eq!(issued[0], issued[1], "the runner replayed its token");
    for needle in [
        "refused the token exchange (422 Unprocessable Entity):\n  invalid-reuse-token: invalid token: already used\n",
        "hint: `invalid-reuse-token`: the index had seen this ID token before",
    ] {
        assert!(text.contains(needle), "`{needle}` missing:\n{text}");
    }
    assert_eq!(standins.minted().len(), 1);
    let stored: Vec<String> = standins
        .index
        .state
        .stored
        .lock()
        .unwrap()
        .iter()
        .map(|(n, _)| n.clone())
        .collect();
    assert_eq!(stored, ["ww_oidc_reuse-1.0-py3-none-any.whl"]);
}

#[test]
fn trusted_publishing_renews_an_upload_token_that_expires_mid_run() {
    // The index mints tokens that live 6 s (Warehouse: 900 s) and takes 1 s over each of 12
    // uploads after checking its credentials, so the run (at least 12 s) outlives the first
    // token by far without any sleep in the test itself. The client must renew each token after
    // 2/3 of its life (at most 4 s here), before the next file: an upload that arrives with an
    // expired token is refused 403 and stops the run. Renewals at most 4 s apart over at least
    // 12 s make at least three tokens whatever the sub-second alignment of the uploads. The
    // margin is the last third of a token's life (at least 1.67 s, the `expires` being whole
    // seconds) against the time between the client's check and the index's, which a loaded
    // machine can stretch well past a few milliseconds.
    let (tmp, home) = scratch();
    let standins = StandIns::start();
    *standins.control.token_lifetime.lock().unwrap() = 6;
    *standins.control.upload_delay.lock().unwrap() = Duration::from_secs(1);
    let wheels: Vec<PathBuf> = (0..12)
        .map(|i| {
            make_wheel(
                tmp.path(),
                &format!("ww_oidc_renew{i:02}"),
                "1.0",
                4096,
                20 + i,
            )
        })
        .collect();
    let (output, text) = standins.publish(&home, &wheels, &["--json", "-v"]);
    assert!(output.status.success(), "{text}");
    let report = json_of(&output.stdout);
    let results = results(&report);
    assert_eq!(results.len(), 12, "{report}");
    assert!(results.iter().all(|(_, r)| r == "uploaded"), "{report}");

    // Every file landed, byte for byte, each with a token the index took at that moment.
    let stored = standins.index.state.stored.lock().unwrap().clone();
    for wheel in &wheels {
        let name = wheel.file_name().unwrap().to_str().unwrap();
        let found = stored
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{name} not stored"));
        assert_eq!(
            sha256_hex(&found.1),
            sha256_hex(&fs_err::read(wheel).unwrap()),
            "{name}"
        );
    }
    let checks = standins.control.uploads.lock().unwrap().clone();
    let checked: Vec<&str> = checks.iter().map(|c| c.file.as_str()).collect();
    let names: Vec<String> = wheels
        .iter()
        .map(|w| w.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(checked, names, "one upload per file, in order: {checks:?}");
    assert!(
        checks.iter().all(|c| c.status == 200 && c.minted.is_some()),
        "{checks:?}"
    );

    // The run outlived the first token: later files went with renewed ones, each from a fresh
    // ID token.
    let minted = standins.minted();
    assert!(
        checks.iter().any(|c| c.at >= minted[0].expires as f64),
        "the run did not outlive the first token ({} s): {checks:?}",
        minted[0].expires
    );
    assert!(minted.len() >= 3, "{minted:?}");
    assert!(checks.iter().any(|c| c.minted != Some(0)), "{checks:?}");
    let issued = standins.issued();
    assert_eq!(issued.len(), minted.len());
    let jtis: HashSet<String> = issued
        .iter()
        .map(|j| claims_of(j)["jti"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(jtis.len(), issued.len(), "an ID token was sent twice");
    assert_eq!(
        text.matches("Renewed an upload token by trusted publishing")
            .count(),
        minted.len() - 1,
        "{text}"
    );

    // Every token and ID token only in its mask.
    let mut secrets: Vec<&str> = minted.iter().map(|m| m.token.as_str()).collect();
    secrets.extend(issued.iter().map(String::as_str));
    secrets.push(REQUEST_TOKEN);
    assert_only_masked(&text, &secrets);
}
