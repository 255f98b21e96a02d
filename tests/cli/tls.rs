//! Every HTTPS connection trusts `--cert`, `REQUESTS_CA_BUNDLE` and `SSL_CERT_FILE` (issue
//! 19): an index and the GitHub services behind a CA the system does not know, as behind a
//! company proxy. The server is a TLS front (rustls, a certificate for 127.0.0.1 from a CA made
//! by the test with rcgen) before a wiremock stub; a stub reply reaching wheelwright proves the
//! TLS handshake succeeded, a certificate error that it was refused. The replies are plain
//! errors of each service (an index refusing the credentials, GitHub's 401, Twirp's
//! `unauthenticated`): only the connection is under test here.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Output;
use std::sync::Arc;

use tokio_rustls::rustls;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::wheelwright;

/// A stub behind a TLS front whose certificate a test CA signed.
struct Server {
    _runtime: tokio::runtime::Runtime,
    _stub: MockServer,
    front: SocketAddr,
    ca_pem: String,
}

impl Server {
    fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.front.port())
    }
}

fn start(reply: ResponseTemplate) -> Server {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let stub = runtime.block_on(MockServer::start());
    runtime.block_on(Mock::given(any()).respond_with(reply).mount(&stub));
    let backend = *stub.address();

    let ca_key = rcgen::KeyPair::generate().expect("CA key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "wheelwright test CA");
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).expect("CA");
    let leaf_key = rcgen::KeyPair::generate().expect("key");
    let mut leaf_params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .expect("params");
    leaf_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "127.0.0.1");
    leaf_params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let leaf = leaf_params.signed_by(&leaf_key, &ca).expect("leaf");
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocols")
    .with_no_client_auth()
    .with_single_cert(vec![leaf.der().clone(), ca.der().clone()], key)
    .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));

    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let front = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    // A client that does not trust the CA gives up in the handshake.
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    if let Ok(mut back) = tokio::net::TcpStream::connect(backend).await {
                        let _ = tokio::io::copy_bidirectional(&mut tls, &mut back).await;
                    }
                });
            }
        });
    });
    Server {
        _runtime: runtime,
        _stub: stub,
        front,
        ca_pem: ca.pem(),
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// How a run ended, told apart by its message: the stub's reply came through, or TLS refused
/// the server's certificate.
fn reached(output: &Output, reply_marker: &str) -> bool {
    let text = stderr(output);
    assert!(!text.contains("panicked"), "{text}");
    if text.contains(reply_marker) {
        return true;
    }
    assert!(
        text.to_lowercase().contains("certificate"),
        "neither the reply nor a certificate error:\n{text}"
    );
    false
}

/// Runs a wheelwright command against `server` with `trust` as the way to trust its CA.
fn run_with(
    server: &Server,
    dir: &Path,
    trust: Trust,
    args: &[&std::ffi::OsStr],
    env: &[(&str, &str)],
) -> Output {
    let ca = dir.join("company-ca.pem");
    fs_err::write(&ca, &server.ca_pem).expect("write CA");
    let mut command = wheelwright();
    command
        .env_remove("REQUESTS_CA_BUNDLE")
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR")
        .env_remove("GITHUB_ACTIONS")
        .env("HOME", dir);
    match trust {
        Trust::Nothing => {}
        Trust::Flag => {
            command.arg("--cert").arg(&ca);
        }
        Trust::RequestsCaBundle => {
            command.env("REQUESTS_CA_BUNDLE", &ca);
        }
        Trust::SslCertFile => {
            command.env("SSL_CERT_FILE", &ca);
        }
    }
    command.args(args);
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("run")
}

#[derive(Debug, Clone, Copy)]
enum Trust {
    Nothing,
    Flag,
    RequestsCaBundle,
    SslCertFile,
}

const ALL: [Trust; 4] = [
    Trust::Nothing,
    Trust::Flag,
    Trust::RequestsCaBundle,
    Trust::SslCertFile,
];

/// Runs `args` with each way of trusting the CA (and with none): it fails every time (the stub
/// answers with an error), with the stub's reply (`marker`) exactly when the CA is trusted.
fn assert_trusted_only_when_configured(
    server: &Server,
    dir: &Path,
    args: &[&std::ffi::OsStr],
    env: &[(&str, &str)],
    marker: &str,
) {
    for trust in ALL {
        let output = run_with(server, dir, trust, args, env);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{trust:?}: {}",
            stderr(&output)
        );
        assert_eq!(
            reached(&output, marker),
            !matches!(trust, Trust::Nothing),
            "{trust:?}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn publish_trusts_the_configured_certificates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wheel = crate::Wheel::bare("demo-1.0-py3-none-any.whl").write(dir.path());
    // An index refusing the credentials, as PyPI does: 403 with its reason.
    let server = start(
        ResponseTemplate::new(403)
            .set_body_string("403 Invalid or non-existent authentication information."),
    );
    let upload = format!("{}/legacy/", server.url());
    assert_trusted_only_when_configured(
        &server,
        dir.path(),
        &[
            "publish".as_ref(),
            "--no-check".as_ref(),
            "--repository-url".as_ref(),
            upload.as_ref(),
            "--username".as_ref(),
            "someone".as_ref(),
            wheel.as_os_str(),
        ],
        &[("WHEELWRIGHT_PASSWORD", "not-a-real-password")],
        "non-existent authentication information",
    );
}

#[test]
fn simple_index_lookups_trust_the_configured_certificates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wheel = crate::Wheel::bare("demo-1.0-py3-none-any.whl").write(dir.path());
    // `--skip-existing` reads the project's Simple page first; the index refuses it (and the
    // upload) as a private index does. `-v` logs the page's answer when the TLS handshake
    // succeeded, the certificate error when it did not.
    let server = start(ResponseTemplate::new(403).set_body_string("403 Forbidden"));
    let upload = format!("{}/legacy/", server.url());
    let index = format!("{}/simple/", server.url());
    assert_trusted_only_when_configured(
        &server,
        dir.path(),
        &[
            "-v".as_ref(),
            "publish".as_ref(),
            "--no-check".as_ref(),
            "--skip-existing".as_ref(),
            "--repository-url".as_ref(),
            upload.as_ref(),
            "--index-url".as_ref(),
            index.as_ref(),
            "--username".as_ref(),
            "someone".as_ref(),
            wheel.as_os_str(),
        ],
        &[("WHEELWRIGHT_PASSWORD", "not-a-real-password")],
        "/simple/demo/ -> 403",
    );
}

#[test]
fn release_trusts_the_configured_certificates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("asset.txt");
    fs_err::write(&file, b"asset").expect("write");
    // GitHub's answer to a bad token.
    let server = start(ResponseTemplate::new(401).set_body_json(serde_json::json!({
        "message": "Bad credentials",
        "documentation_url": "https://docs.github.com/rest",
        "status": "401",
    })));
    let api = server.url();
    assert_trusted_only_when_configured(
        &server,
        dir.path(),
        &[
            "release".as_ref(),
            "--tag".as_ref(),
            "v1".as_ref(),
            file.as_os_str(),
        ],
        &[
            ("GITHUB_API_URL", api.as_str()),
            ("GITHUB_REPOSITORY", "octo/demo"),
            ("GITHUB_TOKEN", "not-a-real-token"),
        ],
        "Bad credentials",
    );
}

#[test]
fn artifacts_trust_the_configured_certificates() {
    use base64::Engine as _;
    let dir = tempfile::tempdir().expect("tempdir");
    // Twirp's answer to a token it does not accept.
    let server = start(ResponseTemplate::new(401).set_body_json(serde_json::json!({
        "code": "unauthenticated",
        "msg": "token rejected by the stub",
    })));
    let enc = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let token = format!(
        "{}.{}.c2lnbmF0dXJl",
        enc.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
        enc.encode(r#"{"scp":"Actions.Results:1:2","exp":4102444800}"#)
    );
    let results = server.url();
    let target = dir.path().join("dl");
    assert_trusted_only_when_configured(
        &server,
        dir.path(),
        &[
            "download-artifact".as_ref(),
            "wheels".as_ref(),
            target.as_os_str(),
        ],
        &[
            ("ACTIONS_RUNTIME_TOKEN", token.as_str()),
            ("ACTIONS_RESULTS_URL", results.as_str()),
        ],
        "401",
    );
}

#[test]
fn a_bad_ca_file_is_one_error_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let not_pem = dir.path().join("ca.txt");
    fs_err::write(&not_pem, "not a certificate\n").expect("write");
    let wheel = crate::Wheel::bare("demo-1.0-py3-none-any.whl").write(dir.path());
    let transcript = |output: &Output| {
        format!(
            "exit: {:?}\n{}",
            output.status.code(),
            stderr(output).replace(dir.path().to_string_lossy().as_ref(), "[TEMP_DIR]")
        )
    };
    // `--cert` is read before anything runs.
    let output = wheelwright()
        .arg("--cert")
        .arg(&not_pem)
        .arg("show")
        .arg(&wheel)
        .output()
        .expect("run");
    insta::assert_snapshot!(transcript(&output), @r"
    exit: Some(1)
    error: cannot use `[TEMP_DIR]/ca.txt` (from `--cert`) as CA certificates: it holds no PEM certificate (`-----BEGIN CERTIFICATE-----`)
    hint: pass a PEM file of CA certificates (`-----BEGIN CERTIFICATE-----`) to `--cert`
    ");
    // REQUESTS_CA_BUNDLE when a command first needs the network (not for `show`).
    let output = wheelwright()
        .args(["show", "--allow-pure-python-wheel"])
        .arg(&wheel)
        .env("REQUESTS_CA_BUNDLE", dir.path().join("missing.pem"))
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let output = wheelwright()
        .args([
            "publish",
            "--no-check",
            "--repository-url",
            "https://127.0.0.1:9/legacy/",
            "--username",
            "someone",
        ])
        .arg(&wheel)
        .env("WHEELWRIGHT_PASSWORD", "not-a-real-password")
        .env("REQUESTS_CA_BUNDLE", dir.path().join("missing.pem"))
        .output()
        .expect("run");
    insta::assert_snapshot!(transcript(&output), @r"
    exit: Some(1)
    warning: `--no-check`: the files are not checked: no RECORD hash and size verification, no ZIP structure, metadata or file name checks, none of the index's rules
    Publishing to `https://127.0.0.1:9/legacy/` as `someone` (password from `WHEELWRIGHT_PASSWORD`)
    error: cannot set up the HTTP client: cannot use `[TEMP_DIR]/missing.pem` (from `REQUESTS_CA_BUNDLE`) as CA certificates: No such file or directory (os error 2)
    hint: point REQUESTS_CA_BUNDLE at a PEM file of CA certificates, or unset it
    ");
}
