//! Helpers for the publish tests: real index servers from the tool venv (pypiserver,
//! devpi-server) started on free loopback ports and stopped by PID, small distributions built
//! with the tool venv's `build` (or assembled here), a loopback HTTP stub that records
//! multipart uploads and injects faults, and a `wheelwright publish` command with a clean
//! environment.

use std::collections::VecDeque;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use base64::Engine as _;
use sha2::Digest as _;

use crate::support::dists::Wheel;
use crate::support::{run_ok, testbed, wheelwright};

/// Every variable that could hand `publish` credentials or a repository from the outside.
const CREDENTIAL_VARS: &[&str] = &[
    "WHEELWRIGHT_PASSWORD",
    "WHEELWRIGHT_USERNAME",
    "WHEELWRIGHT_REPOSITORY",
    "WHEELWRIGHT_REPOSITORY_URL",
    "WHEELWRIGHT_INDEX_URL",
    "WHEELWRIGHT_SKIP_EXISTING",
    "WHEELWRIGHT_TRUSTED_PUBLISHING",
    "TWINE_USERNAME",
    "TWINE_PASSWORD",
    "TWINE_REPOSITORY",
    "TWINE_REPOSITORY_URL",
    "PYPI_API_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "WHEELWRIGHT_SIGSTORE_FULCIO_URL",
    "WHEELWRIGHT_SIGSTORE_REKOR_URL",
    "WHEELWRIGHT_SIGSTORE_TRUSTED_ROOT",
    "GITHUB_ACTIONS",
    "GITHUB_STEP_SUMMARY",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
];

/// `wheelwright publish` with no inherited credentials, `HOME` in `home` (so no `~/.pypirc`).
pub(crate) fn publish_cmd(home: &Path) -> Command {
    let mut cmd = wheelwright();
    for var in CREDENTIAL_VARS {
        cmd.env_remove(var);
    }
    cmd.env("HOME", home).env("NO_COLOR", "1").arg("publish");
    cmd
}

/// Runs a command, returning its output and the combined text (stdout then stderr).
pub(crate) fn run(cmd: &mut Command) -> (Output, String) {
    let output = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output, text)
}

/// A free TCP port on 127.0.0.1 (bound then released).
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind a free port")
}

/// A child process killed (by its PID) and reaped on drop.
pub(crate) struct ServerGuard {
    child: Child,
}

impl Drop for ServerGuard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP/1.0 GET (no chunked answers) against 127.0.0.1; `None` when nothing answers.
pub(crate) fn http_get(port: u16, path: &str, accept: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nAccept: {accept}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())?;
    Some((status, body))
}

fn wait_until_answers(port: u16, path: &str, what: &str, child: &mut Child, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while Instant::now() < deadline {
        if let Some((200, _)) = http_get(port, path, "*/*") {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "{what} exited ({status}) before answering:\n{}",
                fs_err::read_to_string(log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!(
        "{what} did not answer `{path}` on port {port} within 90 s:\n{}",
        fs_err::read_to_string(log).unwrap_or_default()
    );
}

/// A log file for a server's output.
fn log_file(path: &Path) -> Stdio {
    Stdio::from(
        fs_err::File::create(path)
            .expect("create a log file")
            .into_parts()
            .0,
    )
}

/// The tool venv's `bin/<tool>`, with a pointer to the setup script when it is missing.
pub(crate) fn venv_tool(tool: &str) -> PathBuf {
    let path = testbed().venv.join("bin").join(tool);
    assert!(
        path.is_file(),
        "`{}` is missing: run scripts/setup-dev.sh",
        path.display()
    );
    path
}

/// A running pypiserver (user `testuser`, password `testpass`, auth for uploads only), with
/// its default fallback: a project page it does not hold redirects to another index.
pub(crate) struct Pypiserver {
    pub(crate) port: u16,
    pub(crate) packages: PathBuf,
    _guard: ServerGuard,
    /// The local server the fallback points at, when this helper started it.
    _fallback: Option<Stub>,
}

impl Pypiserver {
    pub(crate) fn upload_url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    pub(crate) fn simple_url(&self) -> String {
        format!("http://127.0.0.1:{}/simple/", self.port)
    }
}

/// Starts pypiserver in `dir` (test-environment.md §8.1) with its default settings, the
/// fallback redirect included; the fallback points at a local server that knows no project
/// (answers 404), so nothing leaves the machine.
pub(crate) fn start_pypiserver(dir: &Path) -> Pypiserver {
    let fallback = Stub::start(|_, _| Reply::new(404, "text/plain", "not found"));
    let mut server = start_pypiserver_with_fallback(dir, &fallback.url("/simple/"));
    server._fallback = Some(fallback);
    server
}

/// Starts pypiserver in `dir` whose fallback redirect (`--fallback-url`, otherwise default
/// settings) points at `fallback`, the Simple index root of another local server.
pub(crate) fn start_pypiserver_with_fallback(dir: &Path, fallback: &str) -> Pypiserver {
    launch_pypiserver(dir, &["--fallback-url", fallback])
}

/// Starts pypiserver in `dir` with its default settings: only the address, the port and the
/// password file (without one it takes no uploads) are given, so unknown projects redirect to
/// pypi.org as a user's pypiserver does (nothing here follows that redirect).
pub(crate) fn start_pypiserver_defaults(dir: &Path) -> Pypiserver {
    launch_pypiserver(dir, &[])
}

fn launch_pypiserver(dir: &Path, settings: &[&str]) -> Pypiserver {
    let packages = dir.join("packages");
    fs_err::create_dir_all(&packages).unwrap();
    let htpasswd = dir.join("htpasswd");
    run_ok(Command::new(venv_tool("python")).arg("-c").arg(format!(
        "from passlib.apache import HtpasswdFile\n\
         h = HtpasswdFile({:?}, new=True, default_scheme='apr_md5_crypt')\n\
         h.set_password('testuser', 'testpass')\n\
         h.save()",
        htpasswd.display().to_string()
    )));
    let port = free_port();
    let log = dir.join("pypiserver.log");
    let mut child = Command::new(venv_tool("pypi-server"))
        .args(["run", "-i", "127.0.0.1", "-p", &port.to_string(), "-P"])
        .arg(&htpasswd)
        .args(settings)
        .arg(&packages)
        .stdin(Stdio::null())
        .stdout(log_file(&log))
        .stderr(log_file(&dir.join("pypiserver.err")))
        .spawn()
        .expect("start pypi-server");
    wait_until_answers(
        port,
        "/health",
        "pypiserver",
        &mut child,
        &dir.join("pypiserver.err"),
    );
    Pypiserver {
        port,
        packages,
        _guard: ServerGuard { child },
        _fallback: None,
    }
}

/// A running devpi-server with a non-volatile index `testuser/dev` (password `testpass`).
pub(crate) struct Devpi {
    pub(crate) port: u16,
    _guard: ServerGuard,
}

impl Devpi {
    pub(crate) fn upload_url(&self) -> String {
        format!("http://127.0.0.1:{}/testuser/dev/", self.port)
    }

    pub(crate) fn simple_url(&self) -> String {
        format!("http://127.0.0.1:{}/testuser/dev/+simple/", self.port)
    }
}

/// Starts devpi-server in `dir` and creates the user and index (test-environment.md §8.2).
pub(crate) fn start_devpi(dir: &Path) -> Devpi {
    let serverdir = dir.join("devpi-server");
    let clientdir = dir.join("devpi-client");
    run_ok(
        Command::new(venv_tool("devpi-init"))
            .arg("--serverdir")
            .arg(&serverdir)
            .args(["--no-root-pypi", "--root-passwd", "rootpass"]),
    );
    let port = free_port();
    let log = dir.join("devpi.log");
    let mut child = Command::new(venv_tool("devpi-server"))
        .arg("--serverdir")
        .arg(&serverdir)
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--offline-mode",
        ])
        .stdin(Stdio::null())
        .stdout(log_file(&log))
        .stderr(log_file(&dir.join("devpi.err")))
        .spawn()
        .expect("start devpi-server");
    let guard_log = dir.join("devpi.err");
    wait_until_answers(port, "/+api", "devpi-server", &mut child, &guard_log);
    let guard = ServerGuard { child };
    let devpi = |args: &[&str]| {
        run_ok(
            Command::new(venv_tool("devpi"))
                .env("DEVPI_CLIENTDIR", &clientdir)
                .args(args),
        );
    };
    devpi(&["use", &format!("http://127.0.0.1:{port}")]);
    devpi(&["user", "-c", "testuser", "password=testpass"]);
    devpi(&["login", "testuser", "--password", "testpass"]);
    devpi(&["index", "-c", "dev", "bases=", "volatile=False"]);
    Devpi {
        port,
        _guard: guard,
    }
}

/// Builds an sdist and a wheel of a small pure-Python project with rich metadata (Markdown
/// README, License-Expression and License-File, classifiers, extras, URLs, keywords, a
/// non-ASCII summary) into `out`; `marker` goes into the module, so two builds with different
/// markers have the same file names and different bytes.
pub(crate) fn build_project(
    work: &Path,
    name: &str,
    version: &str,
    marker: &str,
    out: &Path,
) -> Vec<PathBuf> {
    let module = name.replace('-', "_");
    let project = work.join(format!("src-{name}-{marker}"));
    let package = project.join("src").join(&module);
    fs_err::create_dir_all(&package).unwrap();
    fs_err::write(
        project.join("pyproject.toml"),
        format!(
            r#"[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "{version}"
description = "Démo for wheelwright's publish tests ✓"
readme = "README.md"
requires-python = ">=3.8"
license = "MIT"
license-files = ["LICENSE"]
keywords = ["wheels", "publishing", "test"]
classifiers = [
    "Programming Language :: Python :: 3",
    "Operating System :: POSIX :: Linux",
]
authors = [{{ name = "Wheel Wright", email = "ww@example.com" }}]
dependencies = ["packaging>=20; python_version >= '3.8'"]

[project.optional-dependencies]
extra = ["attrs"]

[project.urls]
Homepage = "https://example.com/{name}"
"Bug Tracker" = "https://example.com/{name}/issues"
"#
        ),
    )
    .unwrap();
    fs_err::write(
        project.join("README.md"),
        format!("# {name}\n\nA *test* project.\n\n```\ncode\n```\n"),
    )
    .unwrap();
    fs_err::write(project.join("LICENSE"), "MIT License\n").unwrap();
    fs_err::write(
        package.join("__init__.py"),
        format!("MARKER = {marker:?}\n"),
    )
    .unwrap();
    fs_err::create_dir_all(out).unwrap();
    let before: Vec<PathBuf> = list(out);
    run_ok(
        testbed()
            .command(venv_tool("python").to_str().unwrap())
            .args([
                "-m",
                "build",
                "--no-isolation",
                "--sdist",
                "--wheel",
                "--outdir",
            ])
            .arg(out)
            .arg(&project)
            .env("SOURCE_DATE_EPOCH", "1700000000"),
    );
    let mut built: Vec<PathBuf> = list(out)
        .into_iter()
        .filter(|p| !before.contains(p))
        .collect();
    built.sort();
    assert_eq!(
        built.len(),
        2,
        "expected an sdist and a wheel, got {built:?}"
    );
    built
}

/// The files in a directory, sorted.
pub(crate) fn list(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs_err::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// Assembles a valid pure wheel `{name}-{version}-py3-none-any.whl` in `dir` with a stored
/// (incompressible) payload of `payload` bytes.
pub(crate) fn make_wheel(
    dir: &Path,
    name: &str,
    version: &str,
    payload: usize,
    seed: u64,
) -> PathBuf {
    let mut data = vec![0u8; payload];
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    for chunk in data.chunks_mut(8) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let bytes = state.to_le_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
    let metadata = format!(
        "Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: payload wheel\n"
    );
    let mut wheel = Wheel::new(&format!("{name}-{version}-py3-none-any.whl"), metadata)
        .file(&format!("{name}/payload.bin"), data);
    wheel.files[0] = (format!("{name}/__init__.py"), b"X = 1\n".to_vec());
    wheel.stored = true;
    wheel.write(dir)
}

/// Hex SHA-256 of a file or bytes.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Loopback HTTP stub

/// One request as the stub read it.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) method: String,
    /// Path and query.
    pub(crate) target: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    /// The status the stub answered (0: none, the connection was reset or stalled).
    pub(crate) answered: u16,
}

impl Request {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The multipart parts of the body.
    pub(crate) fn parts(&self) -> Vec<Part> {
        let content_type = self.header("content-type").unwrap_or_default();
        let boundary = content_type
            .split(';')
            .find_map(|p| p.trim().strip_prefix("boundary="))
            .map(|b| b.trim_matches('"').to_owned())
            .unwrap_or_else(|| panic!("not multipart: {content_type}"));
        parse_multipart(&self.body, &boundary)
    }

    /// The file name of the `content` part, if any.
    pub(crate) fn upload_filename(&self) -> Option<String> {
        if self.method != "POST"
            || !self
                .header("content-type")
                .unwrap_or("")
                .starts_with("multipart/")
        {
            return None;
        }
        self.parts()
            .into_iter()
            .find(|p| p.name == "content")
            .and_then(|p| p.filename)
    }
}

/// One multipart part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    pub(crate) name: String,
    pub(crate) filename: Option<String>,
    pub(crate) content_type: Option<String>,
    pub(crate) data: Vec<u8>,
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Parses a multipart body; a truncated body (a reset upload) gives the parts up to the cut,
/// the last one with the data that arrived.
fn parse_multipart(body: &[u8], boundary: &str) -> Vec<Part> {
    let delimiter = format!("--{boundary}").into_bytes();
    let mut parts = Vec::new();
    let Some(first) = find(body, &delimiter, 0) else {
        return parts;
    };
    let mut pos = first + delimiter.len();
    loop {
        if body.get(pos..pos + 2) != Some(b"\r\n") {
            break; // `--` closes the body; anything else is a cut
        }
        pos += 2;
        let Some(header_end) = find(body, b"\r\n\r\n", pos) else {
            break;
        };
        let head = String::from_utf8_lossy(&body[pos..header_end]).into_owned();
        let data_start = header_end + 4;
        let mut next_delimiter = b"\r\n".to_vec();
        next_delimiter.extend_from_slice(&delimiter);
        let data_end = find(body, &next_delimiter, data_start).unwrap_or(body.len());
        let mut name = String::new();
        let mut filename = None;
        let mut content_type = None;
        for line in head.split("\r\n") {
            let (key, value) = line.split_once(':').unwrap_or((line, ""));
            if key.eq_ignore_ascii_case("content-disposition") {
                for param in value.split(';').map(str::trim) {
                    if let Some(v) = param.strip_prefix("name=") {
                        name = v.trim_matches('"').to_owned();
                    } else if let Some(v) = param.strip_prefix("filename=") {
                        filename = Some(v.trim_matches('"').to_owned());
                    }
                }
            } else if key.eq_ignore_ascii_case("content-type") {
                content_type = Some(value.trim().to_owned());
            }
        }
        parts.push(Part {
            name,
            filename,
            content_type,
            data: body[data_start..data_end].to_vec(),
        });
        pos = data_end + next_delimiter.len();
    }
    parts
}

/// A fault injected into the next upload (POST with a multipart body).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Read the body, answer 503.
    Unavailable,
    /// Read part of the body, then close the connection with unread data (a reset).
    ResetMidBody,
    /// Read the body and never answer (until the stub stops).
    Stall,
    /// Read the body, answer 503, but keep the file as if stored (then later answers say
    /// "already exists").
    StoredThenUnavailable,
}

/// An answer from the stub's handler.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) reason: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    /// Close the connection without answering (the request was read).
    pub(crate) drop_connection: bool,
}

impl Reply {
    pub(crate) fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            reason: reason_for(status).to_owned(),
            headers: vec![("Content-Type".to_owned(), content_type.to_owned())],
            body: body.into(),
            drop_connection: false,
        }
    }

    /// No answer at all: the connection is closed after the request was read.
    pub(crate) fn drop_connection() -> Self {
        Self {
            drop_connection: true,
            ..Self::new(502, "text/plain", "")
        }
    }

    pub(crate) fn json(status: u16, value: &serde_json::Value) -> Self {
        Self::new(status, "application/json", value.to_string())
    }
}

fn reason_for(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        302 => "Found",
        303 => "See Other",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        422 => "Unprocessable Entity",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}

type Handler = dyn Fn(&Request, &StubState) -> Reply + Send + Sync;

/// State shared between the stub's connections and the test.
#[derive(Default)]
pub(crate) struct StubState {
    pub(crate) requests: Mutex<Vec<Request>>,
    pub(crate) faults: Mutex<VecDeque<Fault>>,
    /// Files "stored" by uploads that were answered 200 or `StoredThenUnavailable`.
    pub(crate) stored: Mutex<Vec<(String, Vec<u8>)>>,
}

/// A loopback HTTP/1.1 server (one request per connection) for recording and fault injection.
pub(crate) struct Stub {
    /// `ip:port` as it goes into a URL.
    addr: std::net::SocketAddr,
    pub(crate) state: Arc<StubState>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl Stub {
    /// Starts a stub on loopback; `handler` answers every request that no fault applies to.
    pub(crate) fn start(
        handler: impl Fn(&Request, &StubState) -> Reply + Send + Sync + 'static,
    ) -> Self {
        Self::start_on(std::net::Ipv4Addr::LOCALHOST.into(), handler)
    }

    /// Starts a stub listening on `ip` (a free port).
    pub(crate) fn start_on(
        ip: std::net::IpAddr,
        handler: impl Fn(&Request, &StubState) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind((ip, 0)).expect("bind the stub");
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(StubState::default());
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let accept = {
            let (state, stop) = (Arc::clone(&state), Arc::clone(&stop));
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let (state, stop, handler) =
                                (Arc::clone(&state), Arc::clone(&stop), Arc::clone(&handler));
                            std::thread::spawn(move || {
                                serve(stream, &state, &stop, handler.as_ref())
                            });
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(10)),
                    }
                }
            })
        };
        Self {
            addr,
            state,
            stop,
            accept: Some(accept),
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The port it listens on.
    pub(crate) fn port(&self) -> u16 {
        self.addr.port()
    }

    pub(crate) fn requests(&self) -> Vec<Request> {
        self.state.requests.lock().unwrap().clone()
    }

    /// Uploads (multipart POSTs) in arrival order.
    pub(crate) fn uploads(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.upload_filename().is_some())
            .collect()
    }

    pub(crate) fn inject(&self, faults: &[Fault]) {
        self.state
            .faults
            .lock()
            .unwrap()
            .extend(faults.iter().copied());
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

fn serve(stream: TcpStream, state: &StubState, stop: &AtomicBool, handler: &Handler) {
    stream.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut words = line.split_whitespace();
    let method = words.next().unwrap_or_default().to_owned();
    let target = words.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 {
            return;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((k, v)) = header.split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let is_upload = method == "POST"
        && headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("content-type") && v.starts_with("multipart/"));
    let fault = if is_upload {
        state.faults.lock().unwrap().pop_front()
    } else {
        None
    };
    let mut request = Request {
        method,
        target,
        headers,
        body: Vec::new(),
        answered: 0,
    };
    if fault == Some(Fault::ResetMidBody) {
        let mut half = vec![0u8; length / 2];
        let _ = reader.read_exact(&mut half);
        request.body = half;
        state.requests.lock().unwrap().push(request);
        // Dropping the socket with unread data makes the kernel send a reset.
        return;
    }
    let mut body = vec![0u8; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    request.body = body;
    let reply = match fault {
        Some(Fault::Stall) => {
            state.requests.lock().unwrap().push(request);
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(50));
            }
            return;
        }
        Some(Fault::Unavailable) => Reply::new(503, "text/plain", "try later"),
        Some(Fault::StoredThenUnavailable) => {
            store(state, &request);
            Reply::new(503, "text/plain", "gateway timeout after storing")
        }
        _ => handler(&request, state),
    };
    if reply.drop_connection {
        state.requests.lock().unwrap().push(request);
        return;
    }
    request.answered = reply.status;
    state.requests.lock().unwrap().push(request);
    let mut out = stream;
    let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reply.reason);
    for (k, v) in &reply.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        reply.body.len()
    ));
    let _ = out.write_all(head.as_bytes());
    let _ = out.write_all(&reply.body);
    let _ = out.flush();
}

/// Records an upload's `content` as stored.
pub(crate) fn store(state: &StubState, request: &Request) {
    if let Some(content) = request.parts().into_iter().find(|p| p.name == "content") {
        let name = content.filename.clone().unwrap_or_default();
        state.stored.lock().unwrap().push((name, content.data));
    }
}

/// A handler for a minimal index: uploads are stored (409 for a name already stored), and
/// `/simple/<project>/` lists what is stored with sha256 fragments.
pub(crate) fn index_handler(request: &Request, state: &StubState) -> Reply {
    if request.upload_filename().is_some() {
        let name = request.upload_filename().unwrap();
        if state.stored.lock().unwrap().iter().any(|(n, _)| *n == name) {
            return Reply::new(409, "text/plain", format!("{name} already exists"));
        }
        store(state, request);
        return Reply::new(200, "text/plain", "");
    }
    if request.method == "GET" && request.target.starts_with("/simple/") {
        let mut html = String::from("<!DOCTYPE html><html><body>\n");
        for (name, data) in state.stored.lock().unwrap().iter() {
            html.push_str(&format!(
                "<a href=\"/files/{name}#sha256={}\">{name}</a><br>\n",
                sha256_hex(data)
            ));
        }
        html.push_str("</body></html>\n");
        return Reply::new(200, "text/html", html);
    }
    Reply::new(404, "text/plain", "not found")
}

/// An IPv4 address of this machine that is not loopback: the address the machine would send
/// from (a UDP "connection" to a documentation address sends nothing, it only picks the
/// route). A listener there sees any attempt to reach it; tests that must show nothing goes to
/// another host over plain http use it.
pub(crate) fn non_loopback_address() -> std::net::IpAddr {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").expect("bind a UDP socket");
    let found = socket
        .connect("198.51.100.1:9")
        .and_then(|()| socket.local_addr())
        .map(|addr| addr.ip());
    match found {
        Ok(ip) if !ip.is_loopback() && !ip.is_unspecified() => ip,
        other => panic!(
            "this machine has no non-loopback IPv4 address with a route ({other:?}); the test \
             needs one to listen on"
        ),
    }
}

/// `Authorization: Basic` for `user:password`.
pub(crate) fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// Waits for a child process at most `limit`; kills it (by PID) and fails when it runs longer.
/// This guards against a hang; it is not a speed assertion.
pub(crate) fn wait_bounded(mut child: Child, limit: Duration, what: &str) -> (Output, String) {
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            let output = child.wait_with_output().expect("collect output");
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            return (output, text);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let output = child.wait_with_output().expect("collect output");
            panic!(
                "{what} did not stop within {limit:?}:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
