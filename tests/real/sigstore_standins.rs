//! STAND-INS for services that do not run here: GitHub's OIDC token issuer (the runner's
//! `ACTIONS_ID_TOKEN_REQUEST_URL` endpoint), Sigstore's Fulcio and Rekor, and PyPI's
//! trusted-publishing and upload endpoints. There is no public Sigstore (and no GitHub, no
//! Warehouse) reachable from this machine, so these loopback servers play them, each at least
//! as strict as the service on what the publish tests exercise:
//!
//! * the issuer signs ES256 ID tokens with GitHub's claims and issuer name, for the audience
//!   asked for, and only for the runner's bearer token;
//! * Fulcio (API v2 `signingCert`) checks the token's signature, issuer, audience `sigstore`
//!   and expiry and the proof of possession of the key, and issues a 10-minute certificate from
//!   a local CA with the identity in the SAN and Fulcio's OID extensions, and an embedded SCT
//!   signed by a local CT log key over the precertificate;
//! * Rekor (API v1, `dsse` v0.0.1 entries) checks the envelope's signature against the
//!   certificate, re-encodes the verifier as Rekor does, appends the entry to an RFC 6962
//!   Merkle tree and answers with the inclusion proof, a signed checkpoint and a signed entry
//!   timestamp;
//! * the index answers the audience and mint-token endpoints (the token only for a valid ID
//!   token with the index's audience) and stores uploads with their `attestations` field.
//!
//! `trusted_root.json` names the CA, the CT log key and the Rekor key, so a verifier that is
//! not ours (sigstore-python) can check what wheelwright made. Faults can be queued per
//! service: a status (503, a refusal) or a dropped connection.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use rcgen::{PublicKeyData, SigningKey as _};
use sha2::Digest as _;

use crate::publish_support::{Reply, Stub, store};

/// GitHub's OIDC issuer, which the index and the verifier expect in the certificate.
pub(crate) const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";
/// The runner's bearer token for ID-token requests (not a real one).
pub(crate) const REQUEST_TOKEN: &str = "stand-in-runner-request-token-7781";
/// The index's trusted-publishing audience.
pub(crate) const INDEX_AUDIENCE: &str = "stand-in-pypi";
/// What the index's mint endpoint hands out (not a real token).
pub(crate) const MINTED: &str = "stand-in-minted-upload-token";

/// The publisher the ID tokens describe.
pub(crate) const REPOSITORY: &str = "octo/wheels";
pub(crate) const WORKFLOW: &str = "release.yml";
pub(crate) const GIT_REF: &str = "refs/tags/v1.0";
pub(crate) const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A fault the next request to a service meets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ServiceFault {
    /// Answer this status with a JSON error.
    Status(u16),
    /// Read the request and close the connection without an answer.
    Drop,
}

/// Which service a fault is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    Fulcio,
    Rekor,
}

/// What the tests can steer and read.
#[derive(Default)]
pub(crate) struct Control {
    pub(crate) faults: Mutex<VecDeque<(Service, ServiceFault)>>,
    /// Claims merged into every ID token (e.g. another repository for a wrong identity).
    pub(crate) claim_overrides: Mutex<serde_json::Map<String, serde_json::Value>>,
    /// Requests each service answered (any status).
    pub(crate) fulcio_requests: Mutex<u32>,
    pub(crate) rekor_requests: Mutex<u32>,
}

impl Control {
    fn fault_for(&self, service: Service) -> Option<ServiceFault> {
        let mut faults = self.faults.lock().unwrap();
        let index = faults.iter().position(|(s, _)| *s == service)?;
        faults.remove(index).map(|(_, f)| f)
    }
}

fn fault_reply(fault: ServiceFault) -> Reply {
    match fault {
        ServiceFault::Status(status) => Reply::json(
            status,
            &serde_json::json!({"code": status, "message": format!("stand-in fault {status}")}),
        ),
        ServiceFault::Drop => Reply::drop_connection(),
    }
}

/// P-256 keys of the stand-ins.
struct Keys {
    issuer: EcdsaKeyPair,
    ca: rcgen::KeyPair,
    ca_params: rcgen::CertificateParams,
    ca_der: Vec<u8>,
    ct: rcgen::KeyPair,
    rekor: rcgen::KeyPair,
}

fn p256() -> rcgen::KeyPair {
    rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap()
}

fn spki(key: &rcgen::KeyPair) -> Vec<u8> {
    key.subject_public_key_info()
}

fn key_id(key: &rcgen::KeyPair) -> Vec<u8> {
    sha2::Sha256::digest(spki(key)).to_vec()
}

impl Keys {
    fn new() -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .unwrap();
        let issuer =
            EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
                .unwrap();
        let ca = p256();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "wheelwright stand-in");
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "stand-in Fulcio CA");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        ca_params.not_before = time::OffsetDateTime::now_utc() - time::Duration::days(1);
        ca_params.not_after = time::OffsetDateTime::now_utc() + time::Duration::days(30);
        let ca_der = ca_params.self_signed(&ca).unwrap().der().to_vec();
        Self {
            issuer,
            ca,
            ca_params,
            ca_der,
            ct: p256(),
            rekor: p256(),
        }
    }

    /// An ES256 JWT with GitHub Actions' claims.
    fn id_token(
        &self,
        audience: &str,
        overrides: &serde_json::Map<String, serde_json::Value>,
    ) -> String {
        let t = now();
        let workflow_ref = format!("{REPOSITORY}/.github/workflows/{WORKFLOW}@{GIT_REF}");
        let mut claims = serde_json::json!({
            "iss": GITHUB_ISSUER,
            "aud": audience,
            "sub": format!("repo:{REPOSITORY}:ref:{GIT_REF}"),
            "jti": format!("{t}-{}", fastrand::u64(..)),
            "iat": t, "nbf": t - 5, "exp": t + 300,
            "repository": REPOSITORY,
            "repository_id": "4242",
            "repository_owner": "octo",
            "repository_owner_id": "77",
            "repository_visibility": "public",
            "ref": GIT_REF,
            "ref_type": "tag",
            "sha": SHA,
            "workflow": "release",
            "workflow_ref": workflow_ref,
            "workflow_sha": SHA,
            "job_workflow_ref": workflow_ref,
            "job_workflow_sha": SHA,
            "event_name": "push",
            "run_id": "1001",
            "run_attempt": "1",
            "runner_environment": "github-hosted",
        });
        for (key, value) in overrides {
            claims[key] = value.clone();
        }
        let signing_input = format!(
            "{}.{}",
            b64url(br#"{"alg":"ES256","typ":"JWT","kid":"stand-in"}"#),
            b64url(claims.to_string().as_bytes())
        );
        let sig = self
            .issuer
            .sign(&SystemRandom::new(), signing_input.as_bytes())
            .unwrap();
        format!("{signing_input}.{}", b64url(sig.as_ref()))
    }

    /// The claims of `jwt` when its signature is the issuer's and it is not expired.
    fn check_token(&self, jwt: &str) -> Result<serde_json::Value, String> {
        let mut parts = jwt.split('.');
        let (Some(header), Some(payload), Some(sig), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err("not a JWT".into());
        };
        let decode = |s: &str| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(s)
                .map_err(|e| e.to_string())
        };
        let header: serde_json::Value =
            serde_json::from_slice(&decode(header)?).map_err(|e| e.to_string())?;
        if header["alg"] != "ES256" {
            return Err(format!("unsupported alg {}", header["alg"]));
        }
        signature::UnparsedPublicKey::new(
            &signature::ECDSA_P256_SHA256_FIXED,
            self.issuer.public_key().as_ref(),
        )
        .verify(
            format!("{}.{payload}", jwt.split('.').next().unwrap()).as_bytes(),
            &decode(sig)?,
        )
        .map_err(|_| "bad token signature".to_owned())?;
        let claims: serde_json::Value =
            serde_json::from_slice(&decode(payload)?).map_err(|e| e.to_string())?;
        if claims["exp"].as_u64().unwrap_or(0) < now() {
            return Err("token expired".into());
        }
        Ok(claims)
    }
}

/// A public key given as a P-256 SubjectPublicKeyInfo.
struct P256Public(Vec<u8>);

impl PublicKeyData for P256Public {
    fn der_bytes(&self) -> &[u8] {
        &self.0
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

/// One DER TLV at `pos`: `(tag, content start, end)`.
fn tlv(der: &[u8], pos: usize) -> (u8, usize, usize) {
    let tag = der[pos];
    let first = der[pos + 1];
    let (len, header) = if first < 0x80 {
        (first as usize, 2)
    } else {
        let n = (first & 0x7f) as usize;
        let mut len = 0usize;
        for b in &der[pos + 2..pos + 2 + n] {
            len = (len << 8) | *b as usize;
        }
        (len, 2 + n)
    };
    (tag, pos + header, pos + header + len)
}

/// The TBSCertificate (whole TLV) of a certificate.
fn tbs_of(cert: &[u8]) -> &[u8] {
    let (_, start, _) = tlv(cert, 0);
    let (_, _, end) = tlv(cert, start);
    &cert[start..end]
}

/// The uncompressed point of a P-256 SubjectPublicKeyInfo (its BIT STRING minus the unused-bits
/// byte).
fn point_of_spki(spki: &[u8]) -> Result<Vec<u8>, String> {
    let (tag, start, end) = tlv(spki, 0);
    if tag != 0x30 || end != spki.len() {
        return Err("not a SubjectPublicKeyInfo".into());
    }
    let (_, _, alg_end) = tlv(spki, start);
    let (tag, bits, bits_end) = tlv(spki, alg_end);
    if tag != 0x03 || spki[bits] != 0 || bits_end - bits != 66 {
        return Err("not a P-256 public key".into());
    }
    Ok(spki[bits + 1..bits_end].to_vec())
}

/// The SubjectPublicKeyInfo of a certificate.
fn spki_of_cert(cert: &[u8]) -> Vec<u8> {
    let tbs = tbs_of(cert);
    let (_, mut pos, _) = tlv(tbs, 0);
    // [0] version, serial, signature, issuer, validity, subject, then the key.
    if tbs[pos] == 0xa0 {
        pos = tlv(tbs, pos).2;
    }
    for _ in 0..5 {
        pos = tlv(tbs, pos).2;
    }
    let (_, _, end) = tlv(tbs, pos);
    tbs[pos..end].to_vec()
}

fn pem_body(pem: &str) -> Result<Vec<u8>, String> {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    b64().decode(body.trim()).map_err(|e| e.to_string())
}

/// PEM as Go's `pem.Encode` writes it (Rekor re-encodes verifiers this way).
fn go_pem(label: &str, der: &[u8]) -> String {
    let text = b64().encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in text.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// DER UTF8String.
fn utf8(value: &str) -> Vec<u8> {
    let mut out = vec![0x0c];
    der_len(&mut out, value.len());
    out.extend_from_slice(value.as_bytes());
    out
}

fn der_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend_from_slice(&[0x81, len as u8]);
    } else {
        out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
    }
}

fn oid(last: u64) -> Vec<u64> {
    vec![1, 3, 6, 1, 4, 1, 57264, 1, last]
}

/// Fulcio's certificate extensions for a GitHub Actions token (Fulcio's OID registry).
fn fulcio_extensions(claims: &serde_json::Value) -> Vec<rcgen::CustomExtension> {
    let claim = |name: &str| claims[name].as_str().unwrap_or("").to_owned();
    let gh = |path: String| format!("https://github.com/{path}");
    let mut out = vec![
        // Deprecated raw-string extensions, still issued.
        rcgen::CustomExtension::from_oid_content(&oid(1), claim("iss").into_bytes()),
        rcgen::CustomExtension::from_oid_content(&oid(2), claim("event_name").into_bytes()),
        rcgen::CustomExtension::from_oid_content(&oid(3), claim("sha").into_bytes()),
        rcgen::CustomExtension::from_oid_content(&oid(4), claim("workflow").into_bytes()),
        rcgen::CustomExtension::from_oid_content(&oid(5), claim("repository").into_bytes()),
        rcgen::CustomExtension::from_oid_content(&oid(6), claim("ref").into_bytes()),
    ];
    for (last, value) in [
        (8, claim("iss")),
        (9, gh(claim("job_workflow_ref"))),
        (10, claim("job_workflow_sha")),
        (11, claim("runner_environment")),
        (12, gh(claim("repository"))),
        (13, claim("sha")),
        (14, claim("ref")),
        (15, claim("repository_id")),
        (16, gh(claim("repository_owner"))),
        (17, claim("repository_owner_id")),
        (18, gh(claim("workflow_ref"))),
        (19, claim("workflow_sha")),
        (20, claim("event_name")),
        (
            21,
            gh(format!(
                "{}/actions/runs/{}/attempts/{}",
                claim("repository"),
                claim("run_id"),
                claim("run_attempt")
            )),
        ),
        (22, claim("repository_visibility")),
    ] {
        out.push(rcgen::CustomExtension::from_oid_content(
            &oid(last),
            utf8(&value),
        ));
    }
    out
}

impl Keys {
    /// A Fulcio leaf for `public` and the identity in `claims`, with an embedded SCT.
    fn issue(&self, public: &[u8], claims: &serde_json::Value) -> Vec<u8> {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        let identity = format!(
            "https://github.com/{}",
            claims["job_workflow_ref"].as_str().unwrap_or("")
        );
        params.subject_alt_names = vec![rcgen::SanType::URI(identity.try_into().unwrap())];
        params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::CodeSigning];
        params.use_authority_key_identifier_extension = true;
        let start = time::OffsetDateTime::now_utc() - time::Duration::seconds(5);
        params.not_before = start;
        params.not_after = start + time::Duration::minutes(10);
        params.serial_number = Some(rcgen::SerialNumber::from_slice(
            &fastrand::u64(1..).to_be_bytes(),
        ));
        params.custom_extensions = fulcio_extensions(claims);
        let issuer = rcgen::Issuer::from_params(&self.ca_params, &self.ca);
        let key = P256Public(public.to_vec());
        // The precertificate's TBS is the final TBS without the SCT list (RFC 6962 §3.2).
        let pre = params.signed_by(&key, &issuer).unwrap();
        let tbs = tbs_of(pre.der()).to_vec();
        let timestamp = now() * 1000;
        let issuer_key_hash = sha2::Sha256::digest(spki(&self.ca));
        let mut signed = vec![0u8, 0u8]; // v1, certificate_timestamp
        signed.extend_from_slice(&timestamp.to_be_bytes());
        signed.extend_from_slice(&[0, 1]); // precert_entry
        signed.extend_from_slice(&issuer_key_hash);
        signed.extend_from_slice(&(tbs.len() as u32).to_be_bytes()[1..]);
        signed.extend_from_slice(&tbs);
        signed.extend_from_slice(&[0, 0]); // no extensions
        let sig = self.ct.sign(&signed).unwrap();
        let mut sct = vec![0u8]; // v1
        sct.extend_from_slice(&key_id(&self.ct));
        sct.extend_from_slice(&timestamp.to_be_bytes());
        sct.extend_from_slice(&[0, 0]); // no extensions
        sct.extend_from_slice(&[4, 3]); // sha256, ecdsa
        sct.extend_from_slice(&(sig.len() as u16).to_be_bytes());
        sct.extend_from_slice(&sig);
        let mut list = (sct.len() as u16).to_be_bytes().to_vec();
        list.extend_from_slice(&sct);
        let mut list_field = ((list.len()) as u16).to_be_bytes().to_vec();
        list_field.extend_from_slice(&list);
        let mut octets = vec![0x04];
        der_len(&mut octets, list_field.len());
        octets.extend_from_slice(&list_field);
        params
            .custom_extensions
            .push(rcgen::CustomExtension::from_oid_content(
                &[1, 3, 6, 1, 4, 1, 11129, 2, 4, 2],
                octets,
            ));
        let cert = params.signed_by(&key, &issuer).unwrap();
        cert.der().to_vec()
    }
}

/// RFC 6962 Merkle tree hashes.
fn leaf_hash(data: &[u8]) -> [u8; 32] {
    let mut h = sha2::Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

fn node_hash(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut h = sha2::Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

fn root(leaves: &[[u8; 32]]) -> [u8; 32] {
    if leaves.len() == 1 {
        return leaves[0];
    }
    let k = split(leaves.len());
    node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
}

fn path(m: usize, leaves: &[[u8; 32]]) -> Vec<[u8; 32]> {
    if leaves.len() == 1 {
        return Vec::new();
    }
    let k = split(leaves.len());
    if m < k {
        let mut p = path(m, &leaves[..k]);
        p.push(root(&leaves[k..]));
        p
    } else {
        let mut p = path(m - k, &leaves[k..]);
        p.push(root(&leaves[..k]));
        p
    }
}

const LOG_ORIGIN: &str = "rekor.stand-in - 2605202026";
const LOG_SIGNER: &str = "rekor.stand-in";

/// The DSSE pre-authentication encoding.
fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// The running stand-ins.
pub(crate) struct Sigstore {
    pub(crate) issuer: Stub,
    pub(crate) fulcio: Stub,
    pub(crate) rekor: Stub,
    pub(crate) index: Stub,
    pub(crate) control: Arc<Control>,
    pub(crate) trusted_root: PathBuf,
}

impl Sigstore {
    /// Starts the four servers; `trusted_root.json` goes into `dir`.
    pub(crate) fn start(dir: &Path) -> Self {
        let keys = Arc::new(Keys::new());
        let control = Arc::new(Control::default());
        let leaves: Arc<Mutex<Vec<[u8; 32]>>> = Arc::default();

        let issuer = {
            let (keys, control) = (Arc::clone(&keys), Arc::clone(&control));
            Stub::start(move |request, _| {
                let path = request.target.split('?').next().unwrap_or("");
                if request.method != "GET" || path != "/runner/token" {
                    return Reply::new(404, "text/plain", "Not Found");
                }
                if request.header("authorization") != Some(&format!("bearer {REQUEST_TOKEN}")) {
                    return Reply::new(401, "text/plain", "bad runner token");
                }
                let audience = request
                    .target
                    .split_once('?')
                    .map(|(_, q)| q)
                    .unwrap_or("")
                    .split('&')
                    .find_map(|p| p.strip_prefix("audience="))
                    .unwrap_or("");
                let overrides = control.claim_overrides.lock().unwrap().clone();
                Reply::json(
                    200,
                    &serde_json::json!({"value": keys.id_token(audience, &overrides)}),
                )
            })
        };

        let fulcio = {
            let (keys, control) = (Arc::clone(&keys), Arc::clone(&control));
            Stub::start(move |request, _| {
                if request.method != "POST" || request.target != "/api/v2/signingCert" {
                    return Reply::new(404, "text/plain", "Not Found");
                }
                *control.fulcio_requests.lock().unwrap() += 1;
                if let Some(fault) = control.fault_for(Service::Fulcio) {
                    return fault_reply(fault);
                }
                let refuse = |status: u16, message: String| {
                    Reply::json(status, &serde_json::json!({"code": 16, "message": message}))
                };
                let body: serde_json::Value = match serde_json::from_slice(&request.body) {
                    Ok(body) => body,
                    Err(e) => return refuse(400, format!("invalid request: {e}")),
                };
                let token = body["credentials"]["oidcIdentityToken"]
                    .as_str()
                    .unwrap_or("");
                let claims = match keys.check_token(token) {
                    Ok(claims) => claims,
                    Err(e) => {
                        return refuse(401, format!("error processing the identity token: {e}"));
                    }
                };
                if claims["iss"] != GITHUB_ISSUER {
                    return refuse(401, format!("unknown issuer {}", claims["iss"]));
                }
                if claims["aud"] != "sigstore" {
                    return refuse(401, format!("audience {} is not sigstore", claims["aud"]));
                }
                let request_key = &body["publicKeyRequest"];
                let spki =
                    match pem_body(request_key["publicKey"]["content"].as_str().unwrap_or(""))
                        .and_then(|spki| point_of_spki(&spki).map(|p| (spki, p)))
                    {
                        Ok(found) => found,
                        Err(e) => return refuse(400, format!("invalid public key: {e}")),
                    };
                let proof = b64()
                    .decode(request_key["proofOfPossession"].as_str().unwrap_or(""))
                    .unwrap_or_default();
                let subject = claims["sub"].as_str().unwrap_or("");
                if signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_ASN1, &spki.1)
                    .verify(subject.as_bytes(), &proof)
                    .is_err()
                {
                    return refuse(400, "the proof of possession does not verify".into());
                }
                let leaf = keys.issue(&spki.1, &claims);
                Reply::json(
                    201,
                    &serde_json::json!({"signedCertificateEmbeddedSct": {"chain": {"certificates": [
                        go_pem("CERTIFICATE", &leaf),
                        go_pem("CERTIFICATE", &keys.ca_der),
                    ]}}}),
                )
            })
        };

        let rekor = {
            let (keys, control, leaves) =
                (Arc::clone(&keys), Arc::clone(&control), Arc::clone(&leaves));
            Stub::start(move |request, _| {
                if request.method != "POST" || request.target != "/api/v1/log/entries" {
                    return Reply::new(404, "text/plain", "Not Found");
                }
                *control.rekor_requests.lock().unwrap() += 1;
                if let Some(fault) = control.fault_for(Service::Rekor) {
                    return fault_reply(fault);
                }
                let refuse = |status: u16, message: String| {
                    Reply::json(
                        status,
                        &serde_json::json!({"code": status, "message": message}),
                    )
                };
                match log_entry(&keys, &leaves, &request.body) {
                    Ok(entry) => Reply::json(201, &entry),
                    Err(message) => refuse(400, message),
                }
            })
        };

        let index = {
            let keys = Arc::clone(&keys);
            Stub::start(move |request, state| {
                let path = request.target.split('?').next().unwrap_or("");
                match (request.method.as_str(), path) {
                    ("GET", "/_/oidc/audience") => {
                        Reply::json(200, &serde_json::json!({ "audience": INDEX_AUDIENCE }))
                    }
                    ("POST", "/_/oidc/mint-token") => {
                        let body: serde_json::Value =
                            serde_json::from_slice(&request.body).unwrap_or_default();
                        match keys.check_token(body["token"].as_str().unwrap_or("")) {
                            Ok(claims) if claims["aud"] == INDEX_AUDIENCE => Reply::json(
                                200,
                                &serde_json::json!({"success": true, "token": MINTED, "expires": now() + 900}),
                            ),
                            _ => Reply::json(
                                422,
                                &serde_json::json!({"message": "Token request failed", "errors": [{"code": "invalid-token", "description": "stand-in: not a valid ID token for this index"}]}),
                            ),
                        }
                    }
                    ("POST", "/legacy/") => {
                        if request.header("authorization")
                            != Some(crate::publish_support::basic("__token__", MINTED).as_str())
                        {
                            return Reply::new(403, "text/plain", "Invalid API Token");
                        }
                        store(state, request);
                        Reply::new(200, "text/plain", "")
                    }
                    _ => Reply::new(404, "text/plain", "Not Found"),
                }
            })
        };

        let trusted_root = dir.join("trusted_root.json");
        let log_key = |key: &rcgen::KeyPair, url: String| {
            serde_json::json!({
                "baseUrl": url,
                "hashAlgorithm": "SHA2_256",
                "publicKey": {
                    "rawBytes": b64().encode(spki(key)),
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "validFor": {"start": "2020-01-01T00:00:00Z"},
                },
                "logId": {"keyId": b64().encode(key_id(key))},
            })
        };
        let root = serde_json::json!({
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [log_key(&keys.rekor, rekor.url(""))],
            "certificateAuthorities": [{
                "subject": {"organization": "wheelwright stand-in", "commonName": "stand-in Fulcio CA"},
                "uri": fulcio.url(""),
                "certChain": {"certificates": [{"rawBytes": b64().encode(&keys.ca_der)}]},
                "validFor": {"start": "2020-01-01T00:00:00Z"},
            }],
            "ctlogs": [log_key(&keys.ct, "http://ctfe.stand-in".to_owned())],
            "timestampAuthorities": [],
        });
        fs_err::write(&trusted_root, serde_json::to_string_pretty(&root).unwrap()).unwrap();
        Self {
            issuer,
            fulcio,
            rekor,
            index,
            control,
            trusted_root,
        }
    }

    /// The environment a publish step has on the runner, pointed at the stand-ins.
    pub(crate) fn env(&self) -> Vec<(String, String)> {
        [
            ("GITHUB_ACTIONS", "true".to_owned()),
            (
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                self.issuer.url("/runner/token?api-version=2.0"),
            ),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN.to_owned()),
            ("WHEELWRIGHT_SIGSTORE_FULCIO_URL", self.fulcio.url("")),
            ("WHEELWRIGHT_SIGSTORE_REKOR_URL", self.rekor.url("")),
            (
                "WHEELWRIGHT_SIGSTORE_TRUSTED_ROOT",
                self.trusted_root.display().to_string(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// The upload URL of the PyPI-shaped index.
    pub(crate) fn upload_url(&self) -> String {
        self.index.url("/legacy/")
    }

    /// The `attestations` field of every upload: `(file name, field)`.
    pub(crate) fn uploaded_attestations(&self) -> Vec<(String, Option<String>)> {
        self.index
            .uploads()
            .iter()
            .map(|request| {
                let parts = request.parts();
                let field = parts
                    .iter()
                    .find(|p| p.name == "attestations")
                    .map(|p| String::from_utf8_lossy(&p.data).into_owned());
                (request.upload_filename().unwrap_or_default(), field)
            })
            .collect()
    }
}

/// Rekor's `POST /api/v1/log/entries` for a `dsse` v0.0.1 proposed entry.
fn log_entry(
    keys: &Keys,
    leaves: &Mutex<Vec<[u8; 32]>>,
    body: &[u8],
) -> Result<serde_json::Value, String> {
    let entry: serde_json::Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    if entry["kind"] != "dsse" || entry["apiVersion"] != "0.0.1" {
        return Err(format!(
            "unsupported entry {} {}",
            entry["kind"], entry["apiVersion"]
        ));
    }
    let proposed = &entry["spec"]["proposedContent"];
    let envelope_text = proposed["envelope"].as_str().ok_or("no envelope")?;
    let envelope: serde_json::Value =
        serde_json::from_str(envelope_text).map_err(|e| e.to_string())?;
    let verifier = proposed["verifiers"][0].as_str().ok_or("no verifier")?;
    let cert_pem = String::from_utf8(b64().decode(verifier).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let cert = pem_body(&cert_pem)?;
    let point = point_of_spki(&spki_of_cert(&cert))?;
    let payload = b64()
        .decode(envelope["payload"].as_str().ok_or("no payload")?)
        .map_err(|e| e.to_string())?;
    let payload_type = envelope["payloadType"].as_str().ok_or("no payloadType")?;
    let signatures = envelope["signatures"].as_array().ok_or("no signatures")?;
    let mut canonical_signatures = Vec::new();
    for sig in signatures {
        let sig_text = sig["sig"].as_str().ok_or("empty signature")?;
        let bytes = b64().decode(sig_text).map_err(|e| e.to_string())?;
        signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_ASN1, &point)
            .verify(&pae(payload_type, &payload), &bytes)
            .map_err(|_| "the envelope's signature does not verify with the certificate")?;
        canonical_signatures.push(serde_json::json!({
            "signature": sig_text,
            "verifier": b64().encode(go_pem("CERTIFICATE", &cert)),
        }));
    }
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let canonical = serde_json::json!({
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {
            "envelopeHash": {"algorithm": "sha256", "value": hex(&sha2::Sha256::digest(envelope_text))},
            "payloadHash": {"algorithm": "sha256", "value": hex(&sha2::Sha256::digest(&payload))},
            "signatures": canonical_signatures,
        },
    });
    let body = serde_json_canonicalizer::to_vec(&canonical).map_err(|e| e.to_string())?;
    let body_b64 = b64().encode(&body);
    let leaf = leaf_hash(&body);
    let mut leaves = leaves.lock().unwrap();
    leaves.push(leaf);
    let index = leaves.len() - 1;
    let size = leaves.len();
    let root_hash = root(&leaves);
    let proof: Vec<String> = path(index, &leaves).iter().map(|h| hex(h)).collect();
    drop(leaves);
    let log_id = hex(&key_id(&keys.rekor));
    let integrated = now();
    let set_payload = serde_json_canonicalizer::to_vec(&serde_json::json!({
        "body": body_b64,
        "integratedTime": integrated,
        "logID": log_id,
        "logIndex": index,
    }))
    .map_err(|e| e.to_string())?;
    let set = keys.rekor.sign(&set_payload).map_err(|e| e.to_string())?;
    let note = format!("{LOG_ORIGIN}\n{size}\n{}\n", b64().encode(root_hash));
    let note_sig = keys
        .rekor
        .sign(note.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut hint_and_sig = key_id(&keys.rekor)[..4].to_vec();
    hint_and_sig.extend_from_slice(&note_sig);
    let checkpoint = format!(
        "{note}\n\u{2014} {LOG_SIGNER} {}\n",
        b64().encode(hint_and_sig)
    );
    Ok(serde_json::json!({
        hex(&leaf): {
            "body": body_b64,
            "integratedTime": integrated,
            "logID": log_id,
            "logIndex": index,
            "verification": {
                "inclusionProof": {
                    "checkpoint": checkpoint,
                    "hashes": proof,
                    "logIndex": index,
                    "rootHash": hex(&root_hash),
                    "treeSize": size,
                },
                "signedEntryTimestamp": b64().encode(set),
            },
        },
    }))
}

#[test]
fn merkle_paths_rebuild_the_root() {
    // The stand-in's own proofs, folded the RFC 9162 way, give its root for every leaf.
    for n in 1..=9usize {
        let leaves: Vec<[u8; 32]> = (0..n).map(|i| leaf_hash(&[i as u8])).collect();
        let expected = root(&leaves);
        for m in 0..n {
            let (mut fnode, mut snode) = (m, n - 1);
            let mut r = leaves[m];
            for p in path(m, &leaves) {
                if snode == 0 {
                    panic!("proof too long");
                }
                if fnode % 2 == 1 || fnode == snode {
                    r = node_hash(&p, &r);
                    while fnode % 2 == 0 && fnode != 0 {
                        fnode >>= 1;
                        snode >>= 1;
                    }
                } else {
                    r = node_hash(&r, &p);
                }
                fnode >>= 1;
                snode >>= 1;
            }
            assert_eq!(r, expected, "leaf {m} of {n}");
        }
    }
}
