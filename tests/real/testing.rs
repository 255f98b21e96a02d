//! Testing wheels for real: the build's test stage (in the build image and in the clean runtime
//! images, x86_64 and i686 under linux32, with podman), the isolation from the source tree, the
//! results manifest that `publish` honours, and `wheelwright test` on local wheels and on a
//! local pypiserver (in a container and on the host), with bad input: wheels no interpreter can
//! install, an unreachable index, a requirement the index lacks, a test that hangs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

use crate::publish_support::{free_port, make_wheel, start_pypiserver, wait_bounded};
use crate::support::bed::{
    Images, assert_containers_gone, build_args, democext_build_args, network_args,
};
use crate::support::{bed, describe, json, log, project, testbed};

/// wheelwright with the test bed's podman configuration and no inherited GitHub Actions
/// environment (containers run this same, dynamically linked binary for the repair step).
fn ww() -> Command {
    let mut cmd = crate::support::bed::ww();
    cmd.env_remove("PIP_INDEX_URL")
        .env_remove("PIP_EXTRA_INDEX_URL");
    cmd
}

/// Names of the test containers the run announced (`[test x86_64] container `…``).
fn announced_test_containers(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| l.starts_with("[test "))
        .filter_map(|l| l.split('`').nth(1).map(str::to_owned))
        .collect()
}

/// The democext wheelhouse: built once per test run with the test stage in the runtime images
/// (the first test asserts on it; the others use its wheels).
struct Built {
    out: PathBuf,
    output: Output,
}

/// The test command for democext: its own suite against the installed wheel, after making sure
/// libdemo is absent where it runs (it is present in the build image after before-all).
const DEMOCEXT_TEST: &str = "test ! -e /usr/local/lib/libdemo.so.1 && \
     python -c 'import platform; print(\"machine\", platform.machine())' && \
     python -m unittest discover -v -s {project}/tests";

fn democext_built() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("testing-democext");
        let _ = fs_err::remove_dir_all(&root);
        fs_err::create_dir_all(&root).expect("mkdir");
        let out = root.join("wheelhouse");
        let images = Images {
            build: [
                ("x86_64", "WW_IMAGE_BUILD_AMD64_REF"),
                ("i686", "WW_IMAGE_BUILD_I386_REF"),
            ],
            runtime: [
                ("x86_64", "WW_IMAGE_RUNTIME_AMD64_REF"),
                ("i686", "WW_IMAGE_RUNTIME_I386_REF"),
            ],
        };
        // The test bed's images hold CPython 3.9 and PyPy 3.7 only (no musllinux images);
        // `python -m build` cannot create its isolated venv with these images' PyPy 3.7.
        let selection = [
            "--build",
            "cp39-* pp37-*",
            "--skip",
            "*-musllinux_*",
            "--enable",
            "pypy-legacy",
            "--build-frontend",
            "pip",
        ];
        let args = democext_build_args(
            &out,
            &root.join("cache"),
            &images,
            &selection,
            DEMOCEXT_TEST,
        );
        let output = ww().args(&args).output().expect("wheelwright");
        Built { out, output }
    })
}

fn manifest(dir: &Path) -> Value {
    let text = fs_err::read_to_string(dir.join(".wheelwright/results.json")).expect("manifest");
    serde_json::from_str(&text).expect("manifest JSON")
}

fn sha256_file(path: &Path) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(fs_err::read(path).expect("read"))
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The example project's own suite passes on its repaired wheels in the clean runtime images
/// (no compiler, no libdemo): one extra container per architecture, i686 under linux32, both
/// CPython 3.9 and PyPy 3.7 (found at the same /opt/python layout there); the results manifest
/// records every wheel as passed with its sha256, and every container is gone afterwards.
#[test]
fn build_tests_democext_in_the_runtime_images() {
    let built = democext_built();
    let output = &built.output;
    assert!(output.status.success(), "{}", describe(output));
    let result = json(output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let builds = result["builds"].as_array().expect("builds");
    let ids: Vec<&str> = builds
        .iter()
        .map(|b| b["identifier"].as_str().expect("id"))
        .collect();
    assert_eq!(
        ids,
        [
            "cp39-manylinux_x86_64",
            "pp37-manylinux_x86_64",
            "cp39-manylinux_i686",
            "pp37-manylinux_i686"
        ]
    );
    let manifest = manifest(&built.out);
    for b in builds {
        let id = b["identifier"].as_str().expect("id");
        let test = &b["test"];
        assert_eq!(test["status"], "passed", "{id}: {test}");
        let runtime = if id.ends_with("i686") {
            bed("WW_IMAGE_RUNTIME_I386_REF")
        } else {
            bed("WW_IMAGE_RUNTIME_AMD64_REF")
        };
        assert_eq!(test["image"].as_str(), Some(runtime.as_str()), "{id}");
        let dir = if id.starts_with("cp39") {
            "cp39-cp39"
        } else {
            "pp37-pypy37_pp73"
        };
        assert_eq!(
            test["python"].as_str(),
            Some(format!("/opt/python/{dir}/bin/python").as_str()),
            "{id}"
        );
        let log_path = PathBuf::from(test["log"].as_str().expect("log"));
        assert_eq!(
            log_path,
            built.out.join(format!("logs/test-{id}.log")),
            "{id}"
        );
        let text = fs_err::read_to_string(&log_path).expect("test log");
        assert!(
            text.contains("Ran 5 tests") && text.contains("\nOK"),
            "{id}: {text}"
        );
        assert!(text.contains("test-command: test ! -e"), "{id}: {text}");
        // i686 tests run under linux32 (`podman exec` does not use the image's entrypoint).
        let machine = if id.ends_with("i686") {
            "i686"
        } else {
            "x86_64"
        };
        assert!(
            text.contains(&format!("\nmachine {machine}\n")),
            "{id}: {text}"
        );
        let wheel = b["wheel"].as_str().expect("wheel");
        let entry = &manifest["wheels"][wheel];
        assert_eq!(entry["state"], "passed", "{id}: {manifest}");
        assert_eq!(entry["identifiers"][id]["state"], "passed", "{id}");
        assert_eq!(
            entry["sha256"].as_str(),
            Some(sha256_file(&built.out.join(wheel)).as_str()),
            "{id}"
        );
    }
    let table: Vec<&str> = stderr
        .lines()
        .skip_while(|l| !l.starts_with("identifier "))
        .collect();
    assert!(table[0].ends_with(" test"), "{stderr}");
    assert_eq!(
        table.iter().filter(|l| l.contains(" passed ")).count(),
        4,
        "{stderr}"
    );
    let test_containers = announced_test_containers(&stderr);
    assert_eq!(test_containers.len(), 2, "{stderr}");
    let mut names: Vec<String> = result["containers"]
        .as_array()
        .expect("containers")
        .iter()
        .map(|c| c["name"].as_str().expect("name").to_owned())
        .collect();
    names.extend(test_containers);
    assert_containers_gone(&names);
}

/// Isolation: the srcleak suite passes when run from its project directory (the control: the
/// source tree is imported), but its wheel lacks `srcleak.source_only`, so under wheelwright —
/// which runs the test command from a directory outside the project, in the build container
/// here — it must fail. The failure exits 1 with the last lines in the summary, the wheel stays
/// in the output directory, the manifest marks it failed, and `publish` refuses it unless
/// `--force`.
#[test]
fn a_test_that_imports_the_source_tree_fails_and_publish_refuses_the_wheel() {
    let control = Command::new("python3")
        .args(["-m", "unittest", "discover", "-s", "tests"])
        .current_dir(project("srcleak"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("python3");
    assert!(
        control.status.success(),
        "the control run from the source tree must pass: {}",
        describe(&control)
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("wheelhouse");
    let mut args = build_args(
        "srcleak",
        &out,
        "podman",
        &[
            "--only",
            "cp39-manylinux_x86_64",
            "--pull",
            "never",
            "--build-frontend",
            "pip",
            "--test-command",
            "python -m unittest discover -s {project}/tests",
            "--json",
        ],
    );
    args.push("--image-x86_64".to_owned());
    args.push(bed("WW_IMAGE_BUILD_AMD64_REF"));
    args.extend(network_args());
    let output = ww().args(&args).output().expect("wheelwright");
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let result = json(&output);
    let build = &result["builds"][0];
    assert_eq!(build["status"], "failed", "{build}");
    assert_eq!(build["test"]["status"], "failed", "{build}");
    assert_eq!(
        build["test"]["message"], "test-command failed (exit status: 1)",
        "{build}"
    );
    let wheel = build["wheel"].as_str().expect("the wheel is kept");
    let wheel_path = out.join(wheel);
    assert!(wheel_path.is_file());
    // The premise: the wheel does not carry the source-only package.
    let archive =
        zip::ZipArchive::new(fs_err::File::open(&wheel_path).expect("wheel")).expect("zip");
    assert!(
        archive
            .file_names()
            .all(|n| !n.expect("entry name").contains("source_only")),
        "the fixture's wheel must not contain srcleak/source_only"
    );
    // The summary shows the failure with its last lines.
    let summary = stderr
        .split("cp39-manylinux_x86_64 test FAILED: test-command failed (exit status: 1)")
        .nth(1)
        .unwrap_or_else(|| panic!("no failure summary:\n{stderr}"));
    assert!(summary.contains("last lines:"), "{stderr}");
    assert!(
        summary.contains("No module named 'srcleak.source_only'"),
        "{stderr}"
    );
    assert!(summary.contains("FAILED (errors=1)"), "{stderr}");
    assert!(stderr.contains("error: 1 of 1 builds failed"), "{stderr}");
    let manifest = manifest(&out);
    assert_eq!(manifest["wheels"][wheel]["state"], "failed", "{manifest}");

    // publish refuses it (dry run: nothing is contacted either way) ...
    let home = dir.path().join("home");
    fs_err::create_dir_all(&home).expect("home");
    let publish = |extra: &[&str]| {
        let mut cmd = crate::publish_support::publish_cmd(&home);
        cmd.arg(&out).args(["--dry-run", "--json"]).args(extra);
        crate::publish_support::run(&mut cmd)
    };
    let (refused, text) = publish(&[]);
    assert_eq!(refused.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!(
            "`{wheel}`: tests failed (cp39-manylinux_x86_64: test-command failed (exit status: 1); recorded in `"
        ))
            && text.contains("1 wheel did not pass its tests; nothing was uploaded")
            && text.contains("--force"),
        "{text}"
    );
    assert!(refused.stdout.is_empty(), "{text}");
    // ... unless forced.
    let (forced, text) = publish(&["--force"]);
    assert!(forced.status.success(), "{text}");
    assert!(text.contains("publishing anyway (--force)"), "{text}");
    let listed: Value = serde_json::from_slice(&forced.stdout).expect("json");
    assert_eq!(listed["files"][0]["result"], "would-upload", "{listed}");
}

/// `wheelwright test` on the democext wheelhouse in the runtime images: each interpreter gets the
/// wheel pip would choose (its own Python and architecture among the four), and the suite
/// passes; then the same wheels served by a local pypiserver are tested with `--index`, pip
/// choosing the file, in a container; a pure wheel from the same index is tested on the host.
/// A requirement the index lacks and an unreachable index end with a clear message in bounded
/// time.
#[test]
fn wheelwright_test_local_wheels_and_a_local_index() {
    let built = democext_built();
    assert!(built.output.status.success(), "{}", describe(&built.output));
    let dir = tempfile::tempdir().expect("tempdir");
    let runtime_images = [
        format!("--image=x86_64={}", bed("WW_IMAGE_RUNTIME_AMD64_REF")),
        format!("--image=i686={}", bed("WW_IMAGE_RUNTIME_I386_REF")),
    ];

    // Local wheels: the directory with all four; the architectures come from the wheels.
    let logs = dir.path().join("logs-local");
    let output = ww()
        .arg("test")
        .arg(&built.out)
        .args(&runtime_images)
        .args([
            "--engine",
            "podman",
            "--pull",
            "never",
            "--container-arg=--network=none",
        ])
        .args(["--test-command", DEMOCEXT_TEST])
        .arg("--project")
        .arg(project("democext"))
        .arg("--log-dir")
        .arg(&logs)
        .arg("--json")
        .output()
        .expect("wheelwright");
    assert!(output.status.success(), "{}", describe(&output));
    let result = json(&output);
    let mut got: Vec<(String, String, String)> = result["tests"]
        .as_array()
        .expect("tests")
        .iter()
        .map(|t| {
            (
                t["identifier"].as_str().expect("id").to_owned(),
                t["status"].as_str().expect("status").to_owned(),
                t["wheel"].as_str().expect("wheel").to_owned(),
            )
        })
        .collect();
    got.sort();
    let mut wheels: Vec<String> = fs_err::read_dir(&built.out)
        .expect("wheelhouse")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".whl"))
        .collect();
    wheels.sort();
    let wheel_for = |python: &str, arch: &str| {
        wheels
            .iter()
            .find(|w| w.contains(&format!("-{python}-")) && w.ends_with(&format!("_{arch}.whl")))
            .unwrap_or_else(|| panic!("no {python} {arch} wheel in {wheels:?}"))
            .clone()
    };
    let mut expected: Vec<(String, String, String)> = [
        ("cp39-manylinux_i686", "cp39", "i686"),
        ("cp39-manylinux_x86_64", "cp39", "x86_64"),
        ("pp37-manylinux_i686", "pp37", "i686"),
        ("pp37-manylinux_x86_64", "pp37", "x86_64"),
    ]
    .iter()
    .map(|(id, py, arch)| ((*id).to_owned(), "passed".to_owned(), wheel_for(py, arch)))
    .collect();
    expected.sort();
    assert_eq!(got, expected, "{}", describe(&output));
    assert!(logs.join("test-pp37-manylinux_i686.log").is_file());

    // A local index holding the same wheels and a pure one.
    let server = start_pypiserver(dir.path());
    for wheel in &wheels {
        fs_err::copy(built.out.join(wheel), server.packages.join(wheel)).expect("copy");
    }
    let pure = make_wheel(&server.packages, "wwpure", "1.0", 1000, 7);
    let pure_name = pure
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();

    // In a container (x86_64): pip chooses among the four files.
    let output = ww()
        .args(["test", "--index", &server.simple_url(), "democext==0.1.0"])
        .arg(&runtime_images[0])
        .args([
            "--engine",
            "podman",
            "--pull",
            "never",
            "--container-arg=--network=host",
        ])
        .args(["--test-command", DEMOCEXT_TEST])
        .arg("--project")
        .arg(project("democext"))
        .arg("--log-dir")
        .arg(dir.path().join("logs-index"))
        .arg("--json")
        .output()
        .expect("wheelwright");
    assert!(output.status.success(), "{}", describe(&output));
    let result = json(&output);
    assert_eq!(result["index"].as_str(), Some(server.simple_url().as_str()));
    let tests = result["tests"].as_array().expect("tests");
    assert_eq!(tests.len(), 2, "{result}");
    for t in tests {
        let id = t["identifier"].as_str().expect("id");
        let python = &id[..4];
        assert_eq!(t["status"], "passed", "{t}");
        assert_eq!(t["spec"], "democext==0.1.0");
        assert_eq!(
            t["wheel"].as_str(),
            Some(wheel_for(python, "x86_64").as_str()),
            "pip's choice for {id}"
        );
    }

    // On the host, with its own Python.
    let python = crate::support::run_ok(Command::new("sh").args(["-c", "command -v python3"]));
    let python = String::from_utf8_lossy(&python.stdout).trim().to_owned();
    let output = ww()
        .args(["test", "--index", &server.simple_url(), "wwpure"])
        .args(["--engine", "host", "--python", &python])
        .args([
            "--test-command",
            "python -c 'import sys, wwpure; assert wwpure.X == 1; assert sys.prefix != sys.base_prefix'",
        ])
        .arg("--log-dir")
        .arg(dir.path().join("logs-host"))
        .arg("--json")
        .output()
        .expect("wheelwright");
    assert!(output.status.success(), "{}", describe(&output));
    let result = json(&output);
    assert_eq!(result["engine"], "host");
    assert_eq!(result["tests"][0]["status"], "passed", "{result}");
    assert_eq!(
        result["tests"][0]["wheel"].as_str(),
        Some(pure_name.as_str())
    );

    // A requirement the index lacks, and an index nobody serves: one clear line each, exit 1,
    // in bounded time (pip is told to retry once).
    let closed = format!("http://127.0.0.1:{}/simple/", free_port());
    for (index, spec, needle) in [
        (
            server.simple_url(),
            "wwpure==9.9",
            format!(
                "index `{}` has no wheel for `wwpure==9.9` that this interpreter can install (versions there: 1.0)",
                server.simple_url()
            ),
        ),
        (
            closed.clone(),
            "wwpure",
            format!("index `{closed}` is unreachable from the test environment: "),
        ),
    ] {
        let child = ww()
            .args(["test", "--index", &index, spec])
            .args(["--engine", "host", "--python", &python])
            .args(["--test-command", "python -c pass"])
            .arg("--log-dir")
            .arg(dir.path().join("logs-bad"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("wheelwright");
        let (output, text) =
            wait_bounded(child, Duration::from_secs(180), "wheelwright test --index");
        assert_eq!(output.status.code(), Some(1), "{text}");
        assert!(text.contains(&needle), "{needle}\n{text}");
        assert!(text.contains("error: 1 of 1 tests failed"), "{text}");
    }
}

/// Wheels that no interpreter can install: CPython 3.9 wheels against the host's Python (a
/// different version) and i686 wheels in the x86_64 runtime image. The message lists every
/// wheel with its tags and every interpreter with what it supports; exit 1, nothing tested.
#[test]
fn wheels_no_interpreter_can_install_are_explained() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Only the names matter: nothing is installed when nothing matches.
    let names = [
        "demo-1.0-cp27-cp27mu-manylinux1_x86_64.whl",
        "demo-1.0-cp39-cp39-manylinux_2_17_i686.whl",
    ];
    for name in names {
        fs_err::write(dir.path().join(name), b"not installed").expect("write");
    }
    // `wheelwright test WHEELS` with this machine's python3, expected to fail.
    let on_host = |wheels: &Path| {
        let output = ww()
            .arg("test")
            .arg(wheels)
            .args(["--engine", "host", "--python", "python3"])
            .args(["--test-command", "python -c pass"])
            .arg("--log-dir")
            .arg(dir.path().join("logs"))
            .output()
            .expect("wheelwright");
        assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let stderr = on_host(dir.path());
    assert!(
        stderr.contains("error: none of the 2 wheels can be installed by any interpreter here:"),
        "{stderr}"
    );
    for name in names {
        assert!(stderr.contains(&format!("`{name}` (tags ")), "{stderr}");
    }
    assert!(
        stderr.contains("interpreters:\n  cp3")
            && stderr.contains("`python3` in `host` supports `cp3"),
        "{stderr}"
    );
    assert!(!dir.path().join("logs").exists(), "nothing was tested");

    // i686 wheels for an x86_64 image.
    let output = ww()
        .arg("test")
        .arg(dir.path().join(names[1]))
        .arg(format!("--image={}", bed("WW_IMAGE_RUNTIME_AMD64_REF")))
        .args(["--arch", "x86_64", "--engine", "podman", "--pull", "never"])
        .args([
            "--container-arg=--network=none",
            "--test-command",
            "python -c pass",
        ])
        .arg("--log-dir")
        .arg(dir.path().join("logs"))
        .output()
        .expect("wheelwright");
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("error: the wheel cannot be installed by any interpreter here:")
            && stderr.contains("cp39-manylinux_x86_64 `/opt/python/cp39-cp39/bin/python`")
            && stderr.contains("pp37-manylinux_x86_64 `/opt/python/pp37-pypy37_pp73/bin/python`")
            && stderr.contains(
                "hint: test i686 wheels in an i686 image: `--arch i686 --image i686=IMAGE`"
            ),
        "{stderr}"
    );

    // An aarch64 wheel on this machine's interpreters: the hint names aarch64, not i686
    // (issue 19).
    let aarch64 = dir
        .path()
        .join("demo-1.0-cp39-cp39-manylinux_2_17_aarch64.whl");
    fs_err::write(&aarch64, b"not installed").expect("write");
    let stderr = on_host(&aarch64);
    if std::env::consts::ARCH == "x86_64" {
        assert!(
            stderr.contains(
                "hint: test aarch64 wheels in an aarch64 image: `--engine podman` (or docker) with `--arch aarch64 --image aarch64=IMAGE` (this x86_64 machine runs aarch64 containers with QEMU registered with binfmt_misc)"
            ),
            "{stderr}"
        );
    }
    assert!(!stderr.contains("i686"), "{stderr}");
}

/// `wheelwright test --image <the local i686 runtime image>` of a pure wheel without `--arch`
/// (issue 19): the image's platform is read (`podman image inspect`) and the test runs in it as
/// i686, where before the amd64 variant was pulled (and failed). The logs go to `logs/` next to
/// the wheel, nothing to the current directory.
#[test]
fn test_uses_a_local_images_platform_and_logs_next_to_the_wheels() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wheelhouse = dir.path().join("wheelhouse");
    let elsewhere = dir.path().join("elsewhere");
    fs_err::create_dir_all(&wheelhouse).expect("mkdir");
    fs_err::create_dir_all(&elsewhere).expect("mkdir");
    let wheel = make_wheel(&wheelhouse, "wwplat", "1.0", 100, 5);
    let output = ww()
        .current_dir(&elsewhere)
        .arg("test")
        .arg(&wheel)
        .arg(format!("--image={}", bed("WW_IMAGE_RUNTIME_I386_REF")))
        .args(["--engine", "podman", "--container-arg=--network=none"])
        .args([
            "--test-command",
            "python -c \"import platform, wwplat; assert platform.architecture()[0] == '32bit', platform.architecture()\"",
        ])
        .arg("--json")
        .output()
        .expect("wheelwright");
    assert!(output.status.success(), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("is a linux/386 image here: testing i686 in it (pass --arch to choose)"),
        "{stderr}"
    );
    assert!(!stderr.contains("pulling"), "{stderr}");
    let result = json(&output);
    assert_eq!(result["environments"][0]["arch"], "i686", "{result}");
    assert_eq!(result["tests"][0]["status"], "passed", "{result}");
    let logs = wheelhouse.join("logs");
    assert_eq!(
        Path::new(result["logs_dir"].as_str().expect("logs_dir")),
        fs_err::canonicalize(&logs).expect("logs/ next to the wheel")
    );
    let names: Vec<String> = fs_err::read_dir(&logs)
        .expect("logs")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("test-") && n.ends_with("-manylinux_i686.log")),
        "{names:?}"
    );
    assert_eq!(
        fs_err::read_dir(&elsewhere).expect("cwd").count(),
        0,
        "nothing in the current directory"
    );
}

/// A test command that hangs is killed after `--test-timeout` (per step; 20 s leaves room for
/// creating the environment on a busy machine) with its whole process tree and
/// reported as timed out; on GitHub Actions the test is a log group, the failure an error
/// annotation and the table goes to the job summary.
#[test]
fn a_hanging_test_is_killed_and_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wheel = make_wheel(dir.path(), "wwhang", "1.0", 100, 3);
    let marker = format!("ww-hang-{}", std::process::id());
    let summary = dir.path().join("summary.md");
    let child = ww()
        .arg("test")
        .arg(&wheel)
        .args([
            "--engine",
            "host",
            "--python",
            "python3",
            "--test-timeout",
            "20",
        ])
        .args([
            "--test-command",
            &format!("python -c 'import time; time.sleep(3600)' {marker} & sleep 3600; wait"),
        ])
        .arg("--log-dir")
        .arg(dir.path().join("logs"))
        .arg("--json")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("wheelwright");
    let (output, text) = wait_bounded(child, Duration::from_secs(120), "wheelwright test");
    assert_eq!(output.status.code(), Some(1), "{text}");
    let result = json(&output);
    let test = &result["tests"][0];
    assert_eq!(test["status"], "failed", "{test}");
    assert_eq!(test["timed_out"], true, "{test}");
    assert_eq!(
        test["message"],
        "timed out after 20s in test-command (test-timeout): killed"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("::group::test cp3"), "{stderr}");
    assert!(stderr.contains("::endgroup::"), "{stderr}");
    assert!(
        stderr.contains("::error title=wheelwright test%3A cp3") && stderr.contains("TIMED OUT::"),
        "{stderr}"
    );
    let md = fs_err::read_to_string(&summary).expect("summary");
    assert!(
        md.contains("### wheelwright test") && md.contains("❌ TIMED OUT: timed out after 20s"),
        "{md}"
    );
    // Nothing of the test is left running.
    std::thread::sleep(Duration::from_millis(300));
    for entry in fs_err::read_dir("/proc").expect("proc").flatten() {
        if entry.file_name().to_string_lossy().parse::<u32>().is_err() {
            continue;
        }
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let state = std::fs::read_to_string(entry.path().join("status")).unwrap_or_default();
        assert!(
            !cmdline.contains(&marker) || state.contains("State:\tZ"),
            "a process of the hanging test survived: {cmdline}"
        );
    }
    log(&format!("hang test: {}", test["seconds"]));
}

/// The build's test stage on the host engine, on GitHub Actions: `test-sources` are copied into
/// the test directory, `test-requires` (a local wheel here) and `before-test` (in the project
/// copy) run in the fresh environment, and the srcleak suite still fails because the test
/// directory holds no source tree.
/// The test is a log group, its failure an annotation naming the test, and the job summary's
/// table has the test column. A second build with `--test-skip '*'` replaces the stale
/// `failed` record of the rebuilt wheel with `skipped`.
#[test]
fn build_test_stage_on_the_host_with_sources_requirements_and_before_test() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("wheelhouse");
    let summary = dir.path().join("summary.md");
    let dep = make_wheel(dir.path(), "wwdep", "1.0", 10, 5);
    let python = testbed().venv.join("bin/python");
    let args = |extra: &[&str]| {
        let mut args = build_args(
            "srcleak",
            &out,
            "host",
            &[
                "--python",
                python.to_str().expect("utf-8"),
                "--test-sources",
                "tests",
                "--test-requires",
                dep.to_str().expect("utf-8"),
                // before-test runs in the project copy; the test command in a directory without it.
                "--before-test",
                "test -f pyproject.toml && touch {project}/.before-test-ran",
                "--test-command",
                "python -c 'import wwdep' && test -f {project}/.before-test-ran && test -d tests \
             && test ! -e srcleak && test ! -e pyproject.toml && python -m unittest discover -s tests",
                "--json",
            ],
        );
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        args
    };
    let output = ww()
        .args(args(&[]))
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .expect("wheelwright");
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let result = json(&output);
    let build = &result["builds"][0];
    let id = build["identifier"].as_str().expect("id").to_owned();
    let wheel = build["wheel"].as_str().expect("wheel").to_owned();
    assert_eq!(build["test"]["status"], "failed", "{build}");
    assert_eq!(build["test"]["image"], "host", "{build}");
    let log_text = fs_err::read_to_string(out.join(format!("logs/test-{id}.log"))).expect("log");
    assert!(
        log_text.contains("==> before-test: test -f pyproject.toml")
            && log_text.contains("==> install test-requires: ")
            && log_text.contains("No module named 'srcleak.source_only'"),
        "{log_text}"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    let group = stderr
        .find(&format!("::group::test {id}"))
        .unwrap_or_else(|| panic!("no test group:\n{stderr}"));
    assert!(stderr[group..].contains("::endgroup::"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "::error title=wheelwright build%3A {id} test failed::test-command failed (exit status: 1)"
        )),
        "{stderr}"
    );
    let md = fs_err::read_to_string(&summary).expect("summary");
    assert!(
        md.contains("| identifier | result | wheel | size | time | test |")
            && md.contains("| ❌ FAILED: test-command failed (exit status: 1) |"),
        "{md}"
    );
    assert_eq!(manifest(&out)["wheels"][&wheel]["state"], "failed");

    let output = ww()
        .args(args(&["--test-skip", "*"]))
        .output()
        .expect("wheelwright");
    assert!(output.status.success(), "{}", describe(&output));
    let result = json(&output);
    assert_eq!(result["builds"][0]["test"]["status"], "skipped");
    let manifest = manifest(&out);
    assert_eq!(manifest["wheels"][&wheel]["state"], "skipped", "{manifest}");
    assert_eq!(
        manifest["wheels"][&wheel]["identifiers"][&id]["message"],
        "test-skip matches"
    );
}
