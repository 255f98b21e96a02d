//! Untrusted text never becomes a workflow command (issue 19). With `GITHUB_ACTIONS=true`,
//! hostile file names, distribution metadata, configuration values and index replies are fed
//! through every command that prints them; each line of stdout and stderr is then read the way
//! GitHub's runner reads it (lines split at LF, CR and CRLF; `::name props::data` after leading
//! white space, `##[name props]data` anywhere in a line), and every command found must be one
//! wheelwright writes on purpose: an annotation titled `wheelwright…`, a log group, a mask.
//! Outside Actions the same text is printed without raw control characters.
//!
//! The index and the GitHub API are wiremock stubs answering with the hostile text (a body is
//! the one part of a reply the server chooses freely); nothing else about them matters here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::wheelwright;
use crate::support::dists;

/// Would-be commands in every syntax the runner knows, split across LF, CR and CRLF, with
/// leading white space, and an escape sequence that clears a terminal.
const PAYLOAD: &str = "\n::warning::PWNED\r::stop-commands::PWNED\n  ::set-output name=x::PWNED\n##[add-path]PWNED\r\n::error file=a.py::PWNED\u{1b}[2J\n::notice title=PWNED::x";

/// A workflow command as the runner parses it.
#[derive(Debug)]
struct RunnerCommand {
    name: String,
    properties: BTreeMap<String, String>,
}

/// The lines of a step's output as the runner splits them.
fn runner_lines(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes).replace("\r\n", "\n");
    text.split(['\n', '\r']).map(str::to_owned).collect()
}

fn unescape_property(text: &str) -> String {
    text.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
}

/// The command the runner would find in `line` (any name: stricter than the runner, which
/// only runs the names it knows).
fn runner_command(line: &str) -> Option<RunnerCommand> {
    let trimmed = line.trim_start();
    if let Some(rest) = trimmed.strip_prefix("::") {
        if let Some(end) = rest.find("::") {
            let info = &rest[..end];
            let (name, props) = info.split_once(' ').unwrap_or((info, ""));
            let properties = props
                .split(',')
                .filter_map(|p| p.split_once('='))
                .map(|(k, v)| (k.trim().to_owned(), unescape_property(v)))
                .collect();
            return Some(RunnerCommand {
                name: name.to_owned(),
                properties,
            });
        }
    }
    let start = line.find("##[")?;
    let info_len = line[start + 3..].find(']')?;
    let info = &line[start + 3..start + 3 + info_len];
    let name = info.split(' ').next().unwrap_or(info);
    Some(RunnerCommand {
        name: name.to_owned(),
        properties: BTreeMap::new(),
    })
}

/// Every command the runner would see in `output` is wheelwright's own; the hostile text was
/// printed (else this proves nothing) and no raw escape character reached the log.
fn assert_only_intended_commands(what: &str, output: &Output) {
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!all.contains("panicked"), "{what}: {all}");
    for stream in [&output.stdout, &output.stderr] {
        for line in runner_lines(stream) {
            let Some(command) = runner_command(&line) else {
                continue;
            };
            let ours = match command.name.to_ascii_lowercase().as_str() {
                "error" | "warning" | "notice" => command
                    .properties
                    .get("title")
                    .is_some_and(|t| t.starts_with("wheelwright")),
                "group" | "endgroup" | "add-mask" => true,
                _ => false,
            };
            assert!(
                ours,
                "{what}: the runner would run `{}` from the line {line:?}\n--- output ---\n{all}",
                command.name
            );
        }
    }
    assert!(
        !all.contains('\u{1b}'),
        "{what}: a raw escape character was printed:\n{all}"
    );
}

/// Outside Actions: no raw control character but line breaks (and tabs) in the output.
fn assert_no_control_characters(what: &str, output: &Output) {
    for stream in [&output.stdout, &output.stderr] {
        let text = String::from_utf8_lossy(stream);
        assert!(
            !text
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t'),
            "{what}: a raw control character was printed:\n{text:?}"
        );
    }
}

/// Runs `args` on Actions (summary and outputs into `dir`) and outside, and checks both.
/// Returns the output on Actions and whether it holds the hostile text.
fn check(
    what: &str,
    dir: &Path,
    args: &[&std::ffi::OsStr],
    env: &[(&str, &str)],
) -> (Output, bool) {
    let run = |actions: bool| {
        let mut command = wheelwright();
        command
            .args(args)
            .env("PATH", "")
            .env("HOME", dir)
            .env_remove("REQUESTS_CA_BUNDLE");
        for (name, value) in env {
            command.env(name, value);
        }
        if actions {
            command
                .env("GITHUB_ACTIONS", "true")
                .env("GITHUB_STEP_SUMMARY", dir.join("summary.md"))
                .env("GITHUB_OUTPUT", dir.join("output.txt"));
        }
        command.output().expect("run")
    };
    let output = run(true);
    assert_only_intended_commands(what, &output);
    assert_no_control_characters(what, &run(false));
    let printed = [&output.stdout, &output.stderr]
        .iter()
        .any(|s| String::from_utf8_lossy(s).contains("PWNED"));
    (output, printed)
}

/// The cases that printed the hostile text must include `expected` (else the test would check
/// nothing for them).
fn assert_printed(printed: &[&str], expected: &[&str]) {
    for what in expected {
        assert!(
            printed.contains(what),
            "`{what}` did not print the hostile text, so it checks nothing; printed: {printed:?}"
        );
    }
}

/// A directory whose name is the payload, holding a pure wheel whose metadata, entry names and
/// description carry it too, a file that is not a wheel, and a project whose configuration
/// does.
struct Hostile {
    _root: tempfile::TempDir,
    dir: PathBuf,
    wheel: PathBuf,
}

fn hostile() -> Hostile {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join(format!("wheels{PAYLOAD}end"));
    fs_err::create_dir(&dir).expect("a directory named by the payload");
    let summary = PAYLOAD.replace(['\n', '\r'], " ");
    let meta = dists::metadata(
        "demo",
        "1.0",
        &format!("Summary: {summary}\nDescription-Content-Type: text/x-rst"),
        &format!("Title\n=====\n\n{PAYLOAD}\n\n.. bogus:: {PAYLOAD}\n"),
    );
    let wheel = dists::Wheel::new("demo-1.0-py3-none-any.whl", meta)
        .file(&format!("demo/x{PAYLOAD}.py"), b"x = 1\n")
        .write(&dir);
    fs_err::write(dir.join(format!("bad{PAYLOAD}.whl")), b"not a zip").expect("write");
    let toml_payload = PAYLOAD
        .replace('\\', "\\\\")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
        .replace('\u{1b}', "\\u001b");
    fs_err::write(
        dir.join("pyproject.toml"),
        format!(
            "[project]\nname = \"demo\"\nrequires-python = \">=3.12\"\n\n[tool.cibuildwheel]\nbefore-all = \"echo {toml_payload}\"\n[tool.cibuildwheel.environment]\nA = \"{toml_payload}\"\n"
        ),
    )
    .expect("write");
    // A project whose configuration has a key named by the payload (an error that names it).
    let bad_key = dir.join("badkey");
    fs_err::create_dir(&bad_key).expect("mkdir");
    fs_err::write(
        bad_key.join("pyproject.toml"),
        format!("[tool.cibuildwheel]\n\"x{toml_payload}\" = 1\n"),
    )
    .expect("write");
    Hostile {
        _root: root,
        dir,
        wheel,
    }
}

fn os(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Vec<std::ffi::OsString> {
    args.iter().map(|a| a.as_ref().to_owned()).collect()
}

fn refs(args: &[std::ffi::OsString]) -> Vec<&std::ffi::OsStr> {
    args.iter().map(std::ffi::OsString::as_os_str).collect()
}

#[test]
fn hostile_file_names_and_metadata_print_no_workflow_command() {
    let h = hostile();
    let home = tempfile::tempdir().expect("tempdir");
    let missing = h.dir.join("missing-1.0-py3-none-any.whl");
    let not_a_wheel = h.dir.join(format!("bad{PAYLOAD}.whl"));
    let out = h.dir.join("out");
    let cases: Vec<(&str, Vec<std::ffi::OsString>)> = vec![
        (
            "show",
            os(&[&"show", &"--allow-pure-python-wheel", &h.wheel]),
        ),
        ("show missing", os(&[&"show", &missing])),
        ("show not a wheel", os(&[&"show", &not_a_wheel])),
        ("show --json", os(&[&"show", &"--json", &not_a_wheel])),
        ("repair", os(&[&"repair", &h.wheel, &"-w", &out])),
        ("check", os(&[&"check", &h.dir])),
        ("check --json", os(&[&"check", &"--json", &h.wheel])),
        (
            "publish --dry-run",
            os(&[&"publish", &"--dry-run", &h.wheel]),
        ),
        (
            "publish --dry-run --no-check",
            os(&[&"publish", &"--dry-run", &"--no-check", &h.wheel]),
        ),
        (
            "test",
            os(&[&"test", &not_a_wheel, &"--test-command", &"true"]),
        ),
        (
            "test (host)",
            os(&[
                &"test",
                &h.wheel,
                &"--engine",
                &"host",
                &"--test-command",
                &"true",
            ]),
        ),
    ];
    let mut printed = Vec::new();
    for (what, args) in &cases {
        if check(what, home.path(), &refs(args), &[]).1 {
            printed.push(*what);
        }
    }
    assert_printed(
        &printed,
        &[
            "show not a wheel",
            "show --json",
            "check",
            "check --json",
            "publish --dry-run",
            "test",
        ],
    );
}

#[test]
fn hostile_configuration_prints_no_workflow_command() {
    let h = hostile();
    let home = tempfile::tempdir().expect("tempdir");
    let mut printed = Vec::new();
    for (what, args) in [
        ("config", os(&[&"config", &h.dir])),
        (
            "config with a hostile key",
            os(&[&"config", &h.dir.join("badkey")]),
        ),
        ("config --json", os(&[&"config", &"--json", &h.dir])),
        ("plan", os(&[&"plan", &h.dir])),
        (
            "plan --print-identifiers",
            os(&[&"plan", &"--print-identifiers", &h.dir]),
        ),
        ("build --dry-run", os(&[&"build", &"--dry-run", &h.dir])),
    ] {
        let (output, shown) = check(what, home.path(), &refs(&args), &[]);
        if shown {
            printed.push(what);
        }
        if what == "config --json" {
            // The data keeps its meaning: the value comes back as written.
            let json: serde_json::Value =
                serde_json::from_slice(&output.stdout).expect("config --json is JSON");
            let before_all = json["options"]
                .as_array()
                .expect("options")
                .iter()
                .find(|o| o["name"] == "before-all")
                .expect("before-all");
            assert_eq!(before_all["value"], format!("echo {PAYLOAD}"));
        }
    }
    assert_printed(
        &printed,
        &["config", "config --json", "config with a hostile key"],
    );
}

/// A server whose every answer is `status` with the payload as its body.
fn hostile_server(status: u16, json: bool) -> (tokio::runtime::Runtime, MockServer) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let server = runtime.block_on(MockServer::start());
    let body = if json {
        // GitHub's REST errors (`message`) and Twirp's (`code`, `msg`).
        ResponseTemplate::new(status).set_body_json(serde_json::json!({
            "message": PAYLOAD,
            "documentation_url": PAYLOAD,
            "code": "permission_denied",
            "msg": PAYLOAD,
        }))
    } else {
        ResponseTemplate::new(status).set_body_string(format!("400 {PAYLOAD}"))
    };
    runtime.block_on(Mock::given(any()).respond_with(body).mount(&server));
    (runtime, server)
}

#[test]
fn hostile_index_and_api_replies_print_no_workflow_command() {
    let h = hostile();
    let home = tempfile::tempdir().expect("tempdir");
    let (_runtime, index) = hostile_server(400, false);
    let upload = format!("{}/legacy/", index.uri());
    for extra in [&[][..], &["--skip-existing"][..]] {
        let mut args = os(&[
            &"publish",
            &"--no-check",
            &"--repository-url",
            &upload,
            &"--username",
            &"someone",
        ]);
        args.extend(extra.iter().map(std::ffi::OsString::from));
        args.push(h.wheel.clone().into_os_string());
        let (_, shown) = check(
            "publish to a hostile index",
            home.path(),
            &refs(&args),
            &[("WHEELWRIGHT_PASSWORD", "not-a-real-password")],
        );
        assert!(shown, "the index's answer is printed");
    }
    let (_runtime, api) = hostile_server(403, true);
    let uri = api.uri();
    let args = os(&[&"release", &"--tag", &"v1", &h.wheel]);
    let (_, shown) = check(
        "release against a hostile API",
        home.path(),
        &refs(&args),
        &[
            ("GITHUB_API_URL", uri.as_str()),
            ("GITHUB_REPOSITORY", "octo/demo"),
            ("GITHUB_TOKEN", "not-a-real-token"),
        ],
    );
    assert!(shown, "GitHub's message is printed");
    let args = os(&[&"download-artifact", &"wheels-*", &home.path().join("dl")]);
    let token = fake_jwt("Actions.Results:1:2");
    let (_runtime, results) = hostile_server(403, true);
    let results_url = results.uri();
    let (_, shown) = check(
        "download-artifact against a hostile service",
        home.path(),
        &refs(&args),
        &[
            ("ACTIONS_RUNTIME_TOKEN", token.as_str()),
            ("ACTIONS_RESULTS_URL", results_url.as_str()),
        ],
    );
    assert!(shown, "the service's message is printed");
    let args = os(&[&"upload-artifact", &"wheels", &h.wheel]);
    let (_, shown) = check(
        "upload-artifact against a hostile service",
        home.path(),
        &refs(&args),
        &[
            ("ACTIONS_RUNTIME_TOKEN", token.as_str()),
            ("ACTIONS_RESULTS_URL", results_url.as_str()),
        ],
    );
    assert!(shown, "the service's message is printed");
}

/// A runtime token as the runner hands it out (the JWT is decoded, not verified).
fn fake_jwt(scp: &str) -> String {
    use base64::Engine as _;
    let enc = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.c2lnbmF0dXJl",
        enc.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
        enc.encode(serde_json::json!({ "scp": scp, "exp": 4_102_444_800u64 }).to_string())
    )
}
