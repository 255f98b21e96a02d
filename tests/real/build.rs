//! `wheelwright build` against real engines: podman with the test bed's build images, the stock
//! docker CLI against `podman system service`, and the host's own Python. The repaired wheels are
//! checked with auditwheel (the oracle) and by running the project's own tests in the clean
//! runtime images (no compiler, no libdemo, no LD_LIBRARY_PATH).

use std::collections::BTreeSet;

use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use wheelwright::wheel::filename::WheelFilename;

use crate::support::bed::{assert_containers_gone, build_args, ca_bundle, network_args, ww};
use crate::support::{bed, describe, json, log, project, run_ok, testbed};

/// The test bed's images hold CPython 3.9 and PyPy 3.7 only (no musllinux images): select
/// those, as a project targeting them would.
pub(crate) fn testbed_selection() -> Vec<String> {
    vec![
        "--build".to_owned(),
        "cp39-* pp37-*".to_owned(),
        "--skip".to_owned(),
        "*-musllinux_*".to_owned(),
        "--enable".to_owned(),
        "pypy-legacy".to_owned(),
    ]
}

pub(crate) fn images_args() -> Vec<String> {
    vec![
        "--image-x86_64".to_owned(),
        bed("WW_IMAGE_BUILD_AMD64_REF"),
        "--image-i686".to_owned(),
        bed("WW_IMAGE_BUILD_I386_REF"),
    ]
}

/// `build tests/projects/PROJECT -o OUT --engine ENGINE`, then `extra`, the test bed's build
/// images ([`images_args`]) and the network arguments.
fn testbed_build_args(project: &str, out: &Path, engine: &str, extra: &[&str]) -> Vec<String> {
    let mut args = build_args(project, out, engine, extra);
    args.extend(images_args());
    args.extend(network_args());
    args
}

/// `(identifier, status, wheel)` of every build in a `--json` result.
pub(crate) fn builds(result: &Value) -> Vec<(String, String, Option<String>)> {
    result["builds"]
        .as_array()
        .expect("builds")
        .iter()
        .map(|b| {
            (
                b["identifier"].as_str().expect("identifier").to_owned(),
                b["status"].as_str().expect("status").to_owned(),
                b["wheel"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

fn container_names(result: &Value) -> Vec<String> {
    result["containers"]
        .as_array()
        .expect("containers")
        .iter()
        .map(|c| c["name"].as_str().expect("name").to_owned())
        .collect()
}

/// Entries of the output directory: no temporary files, wheels and `logs/` only.
fn assert_clean_output(dir: &Path) -> Vec<PathBuf> {
    let mut wheels = Vec::new();
    for entry in fs_err::read_dir(dir).expect("output dir") {
        let entry = entry.expect("entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == "logs" {
            continue;
        }
        assert!(
            name.ends_with(".whl") && !name.starts_with('.'),
            "unexpected file in the output directory: {name}"
        );
        wheels.push(entry.path());
    }
    wheels.sort();
    wheels
}

fn zip_entries(wheel: &Path) -> Vec<String> {
    let file = fs_err::File::open(wheel).expect("wheel");
    let archive = zip::ZipArchive::new(file).expect("zip");
    archive
        .file_names()
        .map(|n| n.expect("entry name").into_owned())
        .collect()
}

/// `auditwheel show` (the oracle) must say the wheel is consistent with `manylinux_2_5_<arch>`.
fn assert_auditwheel_agrees(wheel: &Path, arch: &str) {
    let out = run_ok(testbed().command("auditwheel").arg("show").arg(wheel));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("\"manylinux_2_5_{arch}\"")),
        "auditwheel show {}:\n{text}",
        wheel.display()
    );
}

/// Installs `wheel` into a fresh venv of `python` in the runtime image of `arch` (network off,
/// libdemo absent, no LD_LIBRARY_PATH) and runs the project's tests from `/tmp`.
fn run_project_tests_in_runtime(wheel: &Path, arch: &str, python: &str, tests: &Path) -> Output {
    let (image, platform) = match arch {
        "x86_64" => (bed("WW_IMAGE_RUNTIME_AMD64_REF"), "amd64"),
        "i686" => (bed("WW_IMAGE_RUNTIME_I386_REF"), "386"),
        other => panic!("no runtime image for {other}"),
    };
    let name = wheel
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let script = format!(
        "set -e\n\
         export PIP_DISABLE_PIP_VERSION_CHECK=1\n\
         if ls /usr/local/lib/libdemo* >/dev/null 2>&1; then echo 'libdemo is present' >&2; exit 9; fi\n\
         [ -z \"${{LD_LIBRARY_PATH:-}}\" ]\n\
         py={python}\n\
         $py -m venv --without-pip /tmp/v >&2\n\
         $py -m pip --python /tmp/v/bin/python install --quiet --no-index --no-deps /wheels/{name} >&2\n\
         mkdir /tmp/t && cp /tests/*.py /tmp/t/ && cd /tmp/t\n\
         exec /tmp/v/bin/python -m unittest -v 2>&1\n"
    );
    let mut cmd = testbed().command("podman");
    cmd.args(["run", "--rm", "--network=none", "--arch", platform])
        .arg("-v")
        .arg(format!("{}:/wheels/{name}:ro", wheel.display()))
        .arg("-v")
        .arg(format!("{}:/tests:ro", tests.display()))
        .arg(image)
        .args(["sh", "-c", &script]);
    cmd.output().expect("podman run")
}

/// The value of the variable passed with --environment-pass; it must never appear in output.
const SECRET: &str = "s3cr3t-value-7f1c";

fn hex_sha256(text: &str) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The example C extension (linking the non-whitelisted libdemo, installed by before-all) for
/// x86_64 and i686 and every interpreter of the images (CPython 3.9 and PyPy 3.7): four repaired
/// wheels with the right tags that auditwheel accepts and whose tests pass in the clean runtime
/// images; nothing left behind; then a second run with warm caches (timed, not asserted).
///
/// The frontend is `pip`: `python -m build` cannot create its isolated venv with Debian's
/// PyPy 3.7 (its sysconfig puts venv scripts in `/local/bin`), a quirk of these local images that
/// real manylinux PyPys do not have; the docker test below uses the default `build` frontend.
#[test]
fn build_democext_for_x86_64_and_i686_with_podman() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("wheelhouse");
    let cache = dir.path().join("cache");
    // The passed variable and SOURCE_DATE_EPOCH must arrive; the hook fails otherwise.
    let before_all = format!(
        "sh {{project}}/libdemo/build-libdemo.sh /usr/local && \
         test \"$(printf %s \"$WW_TEST_PASSED\" | sha256sum | cut -c1-16)\" = {} && \
         test \"$SOURCE_DATE_EPOCH\" = 1700000000",
        &hex_sha256(SECRET)[..16]
    );
    let mut args = testbed_build_args(
        "democext",
        &out,
        "podman",
        &[
            "--archs",
            "x86_64,i686",
            "--pull",
            "never",
            "--build-frontend",
            "pip",
            "--before-all",
            &before_all,
            "--environment-pass",
            "WW_TEST_PASSED",
            "--cache-dir",
            cache.to_str().expect("utf-8"),
            "--json",
            // -v logs every engine command line: the passed value must not be on any of them.
            "-v",
        ],
    );
    args.extend(testbed_selection());
    let ww = || {
        let mut cmd = ww();
        cmd.env("WW_TEST_PASSED", SECRET)
            .env("SOURCE_DATE_EPOCH", "1700000000");
        cmd
    };

    let started = Instant::now();
    let output = ww().args(&args).output().expect("wheelwright");
    let cold = started.elapsed();
    assert!(output.status.success(), "{}", describe(&output));
    let result = json(&output);
    assert_eq!(result["engine"], "podman");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("engine: podman"), "{stderr}");
    assert!(
        stderr.contains("running ") && stderr.contains(" -e WW_TEST_PASSED "),
        "the variable is passed by name:\n{stderr}"
    );
    assert!(
        !stderr.contains("s3cr3t-value"),
        "the passed value leaked:\n{stderr}"
    );
    assert!(
        stderr.contains("[cp39-manylinux_i686] "),
        "build output is streamed with a prefix:\n{stderr}"
    );

    let expected = [
        ("cp39-manylinux_x86_64", "cp39", "cp39", "x86_64"),
        ("pp37-manylinux_x86_64", "pp37", "pypy37_pp73", "x86_64"),
        ("cp39-manylinux_i686", "cp39", "cp39", "i686"),
        ("pp37-manylinux_i686", "pp37", "pypy37_pp73", "i686"),
    ];
    let got = builds(&result);
    assert_eq!(
        got.iter().map(|b| b.0.as_str()).collect::<Vec<_>>(),
        expected.iter().map(|e| e.0).collect::<Vec<_>>()
    );
    let wheels = assert_clean_output(&out);
    assert_eq!(wheels.len(), 4, "{wheels:?}");
    for ((id, status, wheel), (_, python, abi, arch)) in got.iter().zip(expected) {
        assert_eq!(status, "built", "{id}");
        let wheel = out.join(wheel.as_deref().expect("wheel name"));
        let name = WheelFilename::from_path(&wheel).expect("wheel name");
        assert_eq!(name.python_tags, [python], "{id}");
        assert_eq!(name.abi_tags, [abi], "{id}");
        assert!(
            name.platform_tags
                .iter()
                .any(|t| t.to_string() == format!("manylinux_2_5_{arch}")),
            "{id}: {:?}",
            name.platform_tags
        );
        assert!(
            name.platform_tags
                .iter()
                .all(|t| t.to_string().ends_with(arch)),
            "{id}: {:?}",
            name.platform_tags
        );
        let entries = zip_entries(&wheel);
        assert!(
            entries
                .iter()
                .any(|e| e.starts_with("democext.libs/libdemo-") && e.contains(".so")),
            "{id}: libdemo not grafted: {entries:?}"
        );
        assert_auditwheel_agrees(&wheel, arch);
        // SOURCE_DATE_EPOCH reached the repair step: every entry carries its date (2023-11-14).
        let mut archive =
            zip::ZipArchive::new(fs_err::File::open(&wheel).expect("wheel")).expect("zip");
        for i in 0..archive.len() {
            let entry = archive.by_index(i).expect("entry");
            let modified = entry.last_modified().expect("time");
            assert_eq!(
                (modified.year(), modified.month(), modified.day()),
                (2023, 11, 14),
                "{id}: {:?}",
                entry.name()
            );
        }
        let meta = fs_err::metadata(&wheel).expect("metadata");
        assert_eq!(meta.uid(), fs_err::metadata(dir.path()).expect("dir").uid());
        assert!(
            out.join("logs").join(format!("{id}.log")).is_file(),
            "{id}: no log"
        );

        let python_path = format!("/opt/python/{python}-{abi}/bin/python");
        let tests = run_project_tests_in_runtime(
            &wheel,
            arch,
            &python_path,
            &project("democext").join("tests"),
        );
        let text = String::from_utf8_lossy(&tests.stdout);
        assert!(
            tests.status.success() && text.contains("Ran 5 tests") && text.contains("OK"),
            "{id}: the project's tests fail with the repaired wheel:\n{}",
            describe(&tests)
        );
    }
    assert!(out.join("logs/setup-manylinux_x86_64.log").is_file());
    assert_containers_gone(&container_names(&result));
    let ready: Vec<String> = result["containers"]
        .as_array()
        .expect("containers")
        .iter()
        .map(|c| {
            format!(
                "{} {:.2}s",
                c["arch"],
                c["ready_seconds"].as_f64().unwrap_or(0.0)
            )
        })
        .collect();

    // Second run: same command, warm caches (pip's cache; the images are local either way).
    let started = Instant::now();
    let again = ww().args(&args).output().expect("wheelwright");
    let warm = started.elapsed();
    assert!(again.status.success(), "{}", describe(&again));
    assert_eq!(assert_clean_output(&out).len(), 4);
    assert_containers_gone(&container_names(&json(&again)));
    log(&format!(
        "build democext (x86_64 + i686, cp39 + pp37): cold {cold:.1?}, warm {warm:.1?}; container start -> first command: {}",
        ready.join(", ")
    ));
}

/// A podman API service on a socket in `dir`, stopped (by PID) when dropped.
struct PodmanService {
    child: std::process::Child,
    socket: PathBuf,
}

impl PodmanService {
    fn start(dir: &Path) -> Self {
        let socket = dir.join("podman.sock");
        let child = testbed()
            .command("podman")
            .args(["system", "service", "--time=0"])
            .arg(format!("unix://{}", socket.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("podman system service");
        let service = PodmanService { child, socket };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !service.socket.exists() {
            assert!(Instant::now() < deadline, "podman service did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        service
    }

    fn docker_host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }
}

impl Drop for PodmanService {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chown(path: &Path, uid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(uid)).expect("chown");
}

/// The docker code path for real: the stock docker CLI talking to `podman system service`
/// through DOCKER_HOST, run as an unprivileged user (like a member of the docker group), with
/// the default `build` frontend, for both architectures. Files the containers create are root's;
/// the wheels and logs must be the user's, and so must what the build left in the mounted cache.
#[test]
fn build_through_the_docker_cli_as_an_unprivileged_user() {
    const NOBODY: u32 = 65534;
    let dir = tempfile::tempdir().expect("tempdir");
    fs_err::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    let service = PodmanService::start(dir.path());
    fs_err::set_permissions(
        &service.socket,
        std::os::unix::fs::PermissionsExt::from_mode(0o666),
    )
    .expect("chmod socket");
    let home = dir.path().join("home");
    fs_err::create_dir(&home).expect("home");
    chown(&home, NOBODY);
    let out = home.join("wheelhouse");

    let args = testbed_build_args(
        "democext",
        &out,
        "docker",
        &[
            "--archs",
            "x86_64,i686",
            "--build",
            "cp39-*",
            "--skip",
            "*-musllinux_*",
            "--before-all",
            "sh {project}/libdemo/build-libdemo.sh /usr/local && mkdir -p \"$PIP_CACHE_DIR/probe\" && touch \"$PIP_CACHE_DIR/probe/file\"",
            "--json",
        ],
    );
    let mut cmd = testbed().command("setpriv");
    cmd.args([
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--reset-env",
    ])
    .arg("env")
    .arg(format!("HOME={}", home.display()))
    .arg(format!(
        "PATH={}",
        std::env::var("PATH").unwrap_or_default()
    ))
    .arg(format!("DOCKER_HOST={}", service.docker_host()))
    .arg(env!("CARGO_BIN_EXE_wheelwright"))
    .args(&args);
    let output = cmd.output().expect("setpriv");
    assert!(output.status.success(), "{}", describe(&output));
    let result = json(&output);
    assert_eq!(result["engine"], "docker");
    let got = builds(&result);
    assert_eq!(
        got.iter()
            .map(|b| (b.0.as_str(), b.1.as_str()))
            .collect::<Vec<_>>(),
        [
            ("cp39-manylinux_x86_64", "built"),
            ("cp39-manylinux_i686", "built")
        ]
    );
    let wheels = assert_clean_output(&out);
    assert_eq!(wheels.len(), 2);
    for (wheel, arch) in wheels.iter().zip(["i686", "x86_64"]) {
        assert!(
            wheel
                .display()
                .to_string()
                .ends_with(&format!("manylinux_2_5_{arch}.whl")),
            "{}",
            wheel.display()
        );
        assert_auditwheel_agrees(wheel, arch);
    }
    let mut owners = BTreeSet::new();
    for path in walk(&out)
        .into_iter()
        .chain(walk(&home.join(".cache/wheelwright")))
    {
        owners.insert((
            path.strip_prefix(&home)
                .unwrap_or(&path)
                .display()
                .to_string(),
            fs_err::symlink_metadata(&path).expect("metadata").uid(),
        ));
    }
    assert!(
        // The pip cache is one per image and architecture: `pip/<image>-<arch>/`.
        owners
            .iter()
            .any(|(p, _)| p.contains(".cache/wheelwright/pip/") && p.ends_with("/probe/file")),
        "the before-all probe file is missing from the pip caches: {:?}",
        owners
            .iter()
            .filter(|(p, _)| p.contains(".cache/wheelwright/pip/") && p.matches('/').count() <= 4)
            .collect::<Vec<_>>()
    );
    let not_ours: Vec<_> = owners.iter().filter(|(_, uid)| *uid != NOBODY).collect();
    assert!(
        not_ours.is_empty(),
        "files not owned by the invoking user: {not_ours:?}"
    );
    // The wheels work.
    for (wheel, arch) in wheels.iter().zip(["i686", "x86_64"]) {
        let tests = run_project_tests_in_runtime(
            wheel,
            arch,
            "/opt/python/cp39-cp39/bin/python",
            &project("democext").join("tests"),
        );
        assert!(tests.status.success(), "{arch}: {}", describe(&tests));
    }
    let names = container_names(&result);
    assert_containers_gone(&names);
    stop_exec_leftovers(&names);
}

/// `docker exec` through podman's API service leaves one conmon per exec session, waiting 300 s
/// for its exit code to be collected (`--exit-delay 300`) even after the container is gone.
/// Stops those that belong to `containers`, by PID.
fn stop_exec_leftovers(containers: &[String]) {
    let Ok(entries) = fs_err::read_dir("/proc") else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let ours = args.first().is_some_and(|a| a.ends_with("/conmon"))
            && args
                .windows(2)
                .any(|w| w[0] == "-n" && containers.contains(&w[1]));
        if ours {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = fs_err::read_dir(dir) else {
        return out;
    };
    for entry in entries {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out
}

/// A project that fails on PyPy: the CPython wheel still lands in the output directory, the
/// table shows the failure, the exit code is 1; with --keep-container the container stays and
/// the printed command enters it in the failed build's directory.
#[test]
fn one_failing_interpreter_does_not_lose_the_others() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("wheelhouse");
    let mut args = testbed_build_args(
        "failonpypy",
        &out,
        "podman",
        &[
            "--archs",
            "x86_64",
            "--build-frontend",
            "pip",
            "--keep-container",
        ],
    );
    args.extend(testbed_selection());
    let output = ww().args(&args).output().expect("wheelwright");
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let table: Vec<&str> = stderr
        .lines()
        .skip_while(|l| !l.starts_with("identifier "))
        .collect();
    assert!(
        table
            .iter()
            .any(|l| l.starts_with("cp39-manylinux_x86_64") && l.contains(" built ")),
        "{stderr}"
    );
    assert!(
        table.iter().any(|l| l.starts_with("pp37-manylinux_x86_64")
            && l.contains("FAILED")
            && l.contains("build failed")),
        "{stderr}"
    );
    assert!(stderr.contains("error: 1 of 2 builds failed"), "{stderr}");
    let wheels = assert_clean_output(&out);
    assert_eq!(wheels.len(), 1, "{wheels:?}");
    assert!(
        wheels[0]
            .display()
            .to_string()
            .contains("failonpypy-0.1.0-cp39-cp39-manylinux"),
        "{wheels:?}"
    );
    let pypy_log = fs_err::read_to_string(out.join("logs/pp37-manylinux_x86_64.log")).expect("log");
    assert!(
        pypy_log.contains("refuses to build on PyPy (deliberate test failure)"),
        "{pypy_log}"
    );

    // Kept: the container exists and the printed command's directory is the failed build's.
    let enter = stderr
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("podman exec -it "))
        .unwrap_or_else(|| panic!("no enter command printed:\n{stderr}"));
    let words: Vec<&str> = enter.split_whitespace().collect();
    assert_eq!(words[3], "-w", "{enter}");
    let workdir = words[4];
    let name = words[5];
    assert!(
        workdir.ends_with("/builds/pp37-manylinux_x86_64/project"),
        "{enter}"
    );
    let inside = testbed()
        .command("podman")
        .args(["exec", "-w", workdir, name, "test", "-f", "setup.py"])
        .status()
        .expect("podman exec");
    let removed = testbed()
        .command("podman")
        .args(["rm", "-f", name])
        .output()
        .expect("podman rm");
    assert!(
        inside.success(),
        "cannot enter the kept container with `{enter}`"
    );
    assert!(removed.status.success(), "{}", describe(&removed));
}

/// The host engine: no container, this machine's Python (the tool venv's, found as `python3` on
/// PATH since there is no /opt/python here); libdemo built by before-all into a directory of the
/// test and found through the environment. The repaired wheel works in a fresh venv without
/// LD_LIBRARY_PATH, and the work directory is gone afterwards.
#[test]
fn build_on_the_host_with_its_own_python() {
    assert!(
        !Path::new("/opt/python").exists(),
        "this test expects a host without /opt/python"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("wheelhouse");
    let deps = dir.path().join("deps");
    let venv_bin = testbed().venv.join("bin");
    let path = format!(
        "{}:{}",
        venv_bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = ww()
        .env("PATH", &path)
        .args(["build"])
        .arg(project("democext"))
        .arg("-o")
        .arg(&out)
        .args(["--engine", "host", "--json", "--before-all"])
        .arg(format!(
            "sh {{project}}/libdemo/build-libdemo.sh {}",
            deps.display()
        ))
        .arg("--environment")
        .arg(format!("DEMO_PREFIX={}", deps.display()))
        .arg("--environment")
        .arg(format!("LD_LIBRARY_PATH={}/lib", deps.display()))
        .output()
        .expect("wheelwright");
    assert!(output.status.success(), "{}", describe(&output));
    let result = json(&output);
    assert_eq!(result["engine"], "host");
    let python = run_ok(
        Command::new(venv_bin.join("python3"))
            .args(["-c", "import sys; print('cp%d%d' % sys.version_info[:2])"]),
    );
    let tag = String::from_utf8_lossy(&python.stdout).trim().to_owned();
    let got = builds(&result);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, format!("{tag}-manylinux_x86_64"));
    assert_eq!(got[0].1, "built");
    let wheels = assert_clean_output(&out);
    assert_eq!(wheels.len(), 1);
    let entries = zip_entries(&wheels[0]);
    assert!(
        entries
            .iter()
            .any(|e| e.starts_with("democext.libs/libdemo-")),
        "{entries:?}"
    );
    for name in container_names(&result) {
        assert!(
            !Path::new(&name).exists(),
            "work directory {name} left behind"
        );
    }
    // A fresh venv of the same Python, no LD_LIBRARY_PATH, the project's tests.
    let venv = dir.path().join("venv");
    run_ok(
        Command::new(venv_bin.join("python3"))
            .args(["-m", "venv", "--without-pip"])
            .arg(&venv),
    );
    run_ok(
        Command::new(venv_bin.join("python3"))
            .args(["-m", "pip", "--python"])
            .arg(venv.join("bin/python"))
            .args(["install", "--quiet", "--no-index", "--no-deps"])
            .arg(&wheels[0])
            .env_remove("PIP_FIND_LINKS"),
    );
    let tests = Command::new(venv.join("bin/python"))
        .args(["-m", "unittest", "-v", "test_democext"])
        .current_dir(project("democext").join("tests"))
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .expect("python");
    assert!(tests.status.success(), "{}", describe(&tests));
}

/// Runs wheelwright with `-q` and expects exit 1 and exactly one `error:` line containing
/// `needle`, and no panic.
fn assert_one_line_failure(args: &[String], needle: &str) {
    let output = ww().arg("-q").args(args).output().expect("wheelwright");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line:\n{stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    assert!(
        lines[0].contains(needle),
        "expected `{needle}` in:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Bad input that needs an engine: a missing image (`--pull never`), an image that cannot be
/// pulled, a selection that matches nothing (the message lists what exists), docker without a
/// daemon, a container binary that is not an executable or is for another architecture. No
/// container is left behind.
#[test]
fn build_bad_input_with_an_engine() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("wheelhouse");
    // Containers of this test carry a label of their own (other tests may run at the same time).
    let label = format!(
        "wheelwright-test={}",
        dir.path().file_name().expect("name").to_string_lossy()
    );
    let base = |extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = build_args(
            "democext",
            &out,
            "podman",
            &[
                "--archs",
                "x86_64",
                &format!("--container-arg=--label={label}"),
            ],
        );
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        args
    };

    assert_one_line_failure(
        &base(&[
            "--image-x86_64",
            "localhost/wheelwright-no-such-image:1",
            "--pull",
            "never",
        ]),
        "image `localhost/wheelwright-no-such-image:1` is not present locally and `--pull never` forbids pulling it",
    );
    assert_one_line_failure(
        &base(&["--image-x86_64", "localhost/wheelwright-no-such-image:1"]),
        "cannot pull image `localhost/wheelwright-no-such-image:1` (1 attempt)",
    );
    let amd64 = bed("WW_IMAGE_BUILD_AMD64_REF");
    assert_one_line_failure(
        &base(&[
            "--image-x86_64",
            &amd64,
            "--build",
            "cp312-*",
            "--skip",
            "*-musllinux_*",
        ]),
        "nothing to build: none of the selected identifiers is in the images (selected: cp312-manylinux_x86_64); the images have: cp39-manylinux_x86_64, pp37-manylinux_x86_64",
    );
    assert_one_line_failure(
        &base(&["--image-x86_64", &amd64, "--only", "cp313-manylinux_x86_64"]),
        &format!(
            "only `cp313-manylinux_x86_64` is not in `{amd64}`; the images have: cp39-manylinux_x86_64, pp37-manylinux_x86_64"
        ),
    );
    // Two interpreters with one identifier would share a build directory and a log.
    let venv_python = testbed().venv.join("bin/python").display().to_string();
    assert_one_line_failure(
        &[
            "build".to_owned(),
            project("democext").display().to_string(),
            "-o".to_owned(),
            out.display().to_string(),
            "--engine".to_owned(),
            "host".to_owned(),
            "--python".to_owned(),
            venv_python.clone(),
            "--python".to_owned(),
            venv_python,
        ],
        "are both cp3",
    );
    // A container binary that is not an executable, and one for another architecture (a
    // static i386 program built here with gcc -m32) in an x86_64 image.
    let not_elf = dir.path().join("not-a-binary");
    fs_err::write(&not_elf, "#!/bin/sh\n").expect("write");
    let mut args = base(&["--image-x86_64", &amd64, "--container-binary"]);
    args.push(not_elf.display().to_string());
    assert_one_line_failure(&args, "is not an ELF executable");
    let source = dir.path().join("hello.c");
    fs_err::write(&source, "int main(void) { return 0; }\n").expect("write");
    let i386 = dir.path().join("hello32");
    run_ok(
        Command::new("gcc")
            .args(["-m32", "-static", "-o"])
            .arg(&i386)
            .arg(&source),
    );
    let mut args = base(&["--image-x86_64", &amd64, "--container-binary"]);
    args.push(i386.display().to_string());
    assert_one_line_failure(
        &args,
        "the container binary is for i686 and cannot run in x86_64 containers",
    );
    // docker without a daemon.
    let output = ww()
        .args(["-q", "build"])
        .arg(project("democext"))
        .args(["--engine", "docker"])
        .env(
            "DOCKER_HOST",
            format!("unix://{}/no.sock", dir.path().display()),
        )
        .output()
        .expect("wheelwright");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(
        stderr.trim().lines().count() == 1 && stderr.starts_with("error: `docker info` failed: "),
        "{stderr}"
    );
    // auto falls back to the host when neither answers, and says so (then the interpreter
    // given does not exist).
    let output = ww()
        .args(["build", "--python", "/nonexistent/python3"])
        .arg(project("democext"))
        .arg("-o")
        .arg(&out)
        .env(
            "DOCKER_HOST",
            format!("unix://{}/no.sock", dir.path().display()),
        )
        .env(
            "PATH",
            format!("{}:/nonexistent", testbed().venv.join("bin").display()),
        )
        .output()
        .expect("wheelwright");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(
        stderr.contains("engine: host (auto; docker: not installed; podman: not installed)")
            && stderr.contains(
                "error: --python `/nonexistent/python3` does not run as a Python interpreter"
            ),
        "{stderr}"
    );
    let left = run_ok(testbed().command("podman").args([
        "ps",
        "-a",
        "--filter",
        &format!("label={label}"),
        "--format",
        "{{.Names}}",
    ]));
    assert!(
        left.stdout.is_empty(),
        "containers left behind: {}",
        String::from_utf8_lossy(&left.stdout)
    );
    assert!(!out.exists(), "a failed run created its output directory");
}

/// The configuration selects, the image offers: an identifier selected but not in the image
/// is reported in a warning (also an annotation on Actions), an interpreter the image has but
/// the configuration does not select (pp37 here, not enabled) is skipped silently, and the step
/// outputs name the output directory, the wheels and the artifact.
#[test]
fn selection_meets_the_image_and_sets_the_step_outputs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("wheelhouse");
    let github_output = dir.path().join("github_output");
    let args = testbed_build_args(
        "purepy",
        &out,
        "podman",
        &[
            "--archs",
            "x86_64",
            "--build",
            "cp39-* cp310-*",
            "--skip",
            "*-musllinux_*",
            "--build-frontend",
            "pip",
            "--json",
        ],
    );
    let output = ww()
        .args(&args)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &github_output)
        .env_remove("WHEELWRIGHT_ARTIFACT_NAME")
        .output()
        .expect("wheelwright");
    assert!(output.status.success(), "{}", describe(&output));
    let got = builds(&json(&output));
    assert_eq!(
        got,
        [(
            "cp39-manylinux_x86_64".to_owned(),
            "built".to_owned(),
            Some("purepy-0.1.0-py3-none-any.whl".to_owned())
        )]
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "warning: selected but not in the images, not built: cp310-manylinux_x86_64 (the images have: cp39-manylinux_x86_64, pp37-manylinux_x86_64;"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("::warning title=wheelwright build::selected but not in the images"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("pp37-manylinux_x86_64]"),
        "pp37 ran: {stderr}"
    );
    let outputs = fs_err::read_to_string(&github_output).expect("outputs");
    let value = |name: &str| -> String {
        let start = outputs
            .find(&format!("{name}<<"))
            .unwrap_or_else(|| panic!("no {name} in {outputs}"));
        let rest = &outputs[start..];
        let (header, rest) = rest.split_once('\n').expect("header");
        let delimiter = header.split_once("<<").expect("heredoc").1;
        rest[..rest.find(&format!("\n{delimiter}\n")).expect("end")].to_owned()
    };
    let wheelhouse = std::fs::canonicalize(&out).expect("out");
    assert_eq!(value("wheelhouse"), wheelhouse.display().to_string());
    assert_eq!(value("wheels"), r#"["purepy-0.1.0-py3-none-any.whl"]"#);
    assert_eq!(value("artifact-name"), "wheels-linux-x86_64");
}

/// One real build driven only by the project's `[tool.wheelwright]` (no flags but the project
/// and the output directory): images, engine and its container arguments, the selection,
/// before-all, the environment, and overrides that change the frontend of the PyPys and the
/// repair command of one identifier.
#[test]
fn a_build_configured_in_pyproject_toml() {
    let dir = tempfile::tempdir().expect("tempdir");
    let proj = dir.path().join("democext");
    copy_dir(&project("democext"), &proj);
    let ca = ca_bundle();
    let (amd64, i386) = (
        bed("WW_IMAGE_BUILD_AMD64_REF"),
        bed("WW_IMAGE_BUILD_I386_REF"),
    );
    let mut pyproject = fs_err::read_to_string(proj.join("pyproject.toml")).expect("read");
    pyproject.push_str(&format!(
        r#"
[tool.wheelwright]
archs = "x86_64 i686"
build = "cp39-* pp37-*"
skip = "*-musllinux_*"
enable = "pypy-legacy"
pull = "never"
container-engine = {{ name = "podman", create-args = ["--network=host", "-v", "{ca}:/etc/ssl/certs/wheelwright-ca.crt:ro"] }}
environment = {{ PIP_CERT = "/etc/ssl/certs/wheelwright-ca.crt", WW_FROM_TOML = "toml-$WHEELWRIGHT_BUILD_IDENTIFIER" }}
before-all = "sh {{project}}/libdemo/build-libdemo.sh /usr/local"
before-build = 'echo "before-build sees $WW_FROM_TOML"'
manylinux-x86_64-image = "{amd64}"
manylinux-pypy_x86_64-image = "{amd64}"
manylinux-i686-image = "{i386}"
manylinux-pypy_i686-image = "{i386}"

# PyPy 3.7 in the local images cannot make `python -m build`'s isolated venv (see above).
[[tool.wheelwright.overrides]]
select = "pp37-*"
build-frontend = "pip"

[[tool.wheelwright.overrides]]
select = "cp39-manylinux_i686"
repair-wheel-command = "cp {{wheel}} {{dest_dir}}/ && echo custom-repair-ran"
"#
    ));
    fs_err::write(proj.join("pyproject.toml"), pyproject).expect("write");
    let out = dir.path().join("wheelhouse");
    let output = ww()
        .arg("build")
        .arg(&proj)
        .arg("-o")
        .arg(&out)
        .output()
        .expect("wheelwright");
    assert!(output.status.success(), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("engine: podman"), "{stderr}");
    let wheels = assert_clean_output(&out);
    let names: Vec<String> = wheels
        .iter()
        .map(|w| w.file_name().expect("name").to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 4, "{names:?}");
    let log = |id: &str| fs_err::read_to_string(out.join(format!("logs/{id}.log"))).expect("log");
    for id in [
        "cp39-manylinux_x86_64",
        "pp37-manylinux_x86_64",
        "cp39-manylinux_i686",
        "pp37-manylinux_i686",
    ] {
        let text = log(id);
        assert!(
            text.contains(&format!("before-build sees toml-{id}")),
            "{id}: environment and before-build from the TOML:\n{text}"
        );
        let pip = text.contains("-m pip wheel --no-deps");
        assert_eq!(
            pip,
            id.starts_with("pp37"),
            "{id}: frontend override:\n{text}"
        );
    }
    // The override's repair command ran for cp39 i686 only: its wheel is as built.
    let i686 = log("cp39-manylinux_i686");
    assert!(i686.contains("custom-repair-ran"), "{i686}");
    assert!(!log("cp39-manylinux_x86_64").contains("custom-repair-ran"));
    let unrepaired: Vec<&String> = names
        .iter()
        .filter(|n| n.ends_with("-linux_i686.whl"))
        .collect();
    assert_eq!(unrepaired.len(), 1, "{names:?}");
    assert!(
        unrepaired[0].starts_with("democext-0.1.0-cp39-cp39-"),
        "{names:?}"
    );
    for (wheel, name) in wheels.iter().zip(&names) {
        if name.ends_with("-linux_i686.whl") {
            continue;
        }
        let arch = if name.ends_with("_x86_64.whl") {
            "x86_64"
        } else {
            "i686"
        };
        assert!(name.contains(&format!("manylinux_2_5_{arch}")), "{name}");
        assert_auditwheel_agrees(wheel, arch);
    }
}

fn copy_dir(from: &Path, to: &Path) {
    fs_err::create_dir_all(to).expect("mkdir");
    for entry in fs_err::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs_err::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// A pure-Python project: the wheel is copied without repair, and with `--jobs 1` the PyPy
/// identifier (built after CPython) reuses it instead of building again.
#[test]
fn pure_python_wheels_are_copied_and_reused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("wheelhouse");
    let mut args = testbed_build_args(
        "purepy",
        &out,
        "podman",
        &[
            "--archs",
            "x86_64",
            "--jobs",
            "1",
            "--build-frontend",
            "pip",
            "--json",
        ],
    );
    args.extend(testbed_selection());
    let output = ww().args(&args).output().expect("wheelwright");
    assert!(output.status.success(), "{}", describe(&output));
    let got = builds(&json(&output));
    let wheel = "purepy-0.1.0-py3-none-any.whl".to_owned();
    assert_eq!(
        got,
        [
            (
                "cp39-manylinux_x86_64".to_owned(),
                "built".to_owned(),
                Some(wheel.clone())
            ),
            (
                "pp37-manylinux_x86_64".to_owned(),
                "reused".to_owned(),
                Some(wheel.clone())
            ),
        ]
    );
    assert_eq!(assert_clean_output(&out), [out.join(&wheel)]);
    let log = fs_err::read_to_string(out.join("logs/cp39-manylinux_x86_64.log")).expect("log");
    assert!(
        log.contains("is a pure-Python wheel: copied without repair"),
        "{log}"
    );
}

/// On GitHub Actions: each build is a log group, a failure is an error annotation, and the
/// result table is appended to the job summary (host engine; before-build fails on purpose).
#[test]
fn github_actions_groups_annotations_and_summary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("wheelhouse");
    let summary = dir.path().join("summary.md");
    fs_err::write(&summary, "earlier step\n").expect("summary");
    let python = testbed().venv.join("bin/python");
    let output = ww()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["build"])
        .arg(project("purepy"))
        .arg("-o")
        .arg(&out)
        .args(["--engine", "host", "--python"])
        .arg(&python)
        .args(["--before-build", "echo 'before-build says boom'; exit 3"])
        .output()
        .expect("wheelwright");
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let id = String::from_utf8_lossy(
        &run_ok(Command::new(&python).args([
            "-c",
            "import sys; print('cp%d%d-manylinux_x86_64' % sys.version_info[:2])",
        ]))
        .stdout,
    )
    .trim()
    .to_owned();
    let group = stderr
        .find(&format!("::group::build {id}"))
        .unwrap_or_else(|| panic!("no log group:\n{stderr}"));
    let boom = stderr[group..]
        .find("before-build says boom")
        .expect("the hook's output inside the group");
    assert!(stderr[group + boom..].contains("::endgroup::"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "::error title=wheelwright build%3A {id} failed::before-build failed (exit status: 3)"
        )),
        "{stderr}"
    );
    let text = fs_err::read_to_string(&summary).expect("summary");
    assert!(
        text.starts_with("earlier step\n### wheelwright build"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "| `{id}` | ❌ failed | before-build failed (exit status: 3) |"
        )),
        "{text}"
    );
}

/// The way most users get wheelwright from a clone: `cargo build --release` and nothing else
/// (a dynamically linked binary, no musl target, no `--container-binary`), then
/// `wheelwright build` with podman for x86_64 and i686. The containers (glibc 2.31) are older
/// than this machine's glibc the binary was linked against; the repaired wheels must pass the
/// auditwheel oracle and the project's tests in the clean runtime images.
#[test]
fn a_plain_release_build_builds_and_repairs_in_containers() {
    let checkout = crate::common::source_checkout();
    let target = crate::common::release_target();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    run_ok(
        Command::new(cargo)
            .args(["build", "--release"])
            .current_dir(checkout)
            .env("CARGO_TARGET_DIR", &target)
            .env_remove("CARGO_BUILD_TARGET")
            .env_remove("RUSTFLAGS"),
    );
    let binary = target.join("release/wheelwright");
    let interpreter = {
        let file = fs_err::File::open(&binary).expect("release binary");
        wheelwright::elf::analyze_file(file.file())
            .expect("ELF")
            .interpreter
    };
    assert!(
        interpreter.is_some(),
        "a plain release build is dynamically linked; this test is about that case"
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("wheelhouse");
    let mut cmd = testbed().command(binary.to_str().expect("utf-8"));
    cmd.env_remove("GITHUB_ACTIONS")
        .env_remove("DOCKER_HOST")
        .env_remove("WHEELWRIGHT_CONTAINER_BINARY")
        .env("WHEELWRIGHT_CACHE_DIR", dir.path().join("cache"))
        .args([
            "build",
            "--json",
            "--engine",
            "podman",
            "--archs",
            "x86_64,i686",
        ])
        .arg(project("democext"))
        .arg("-o")
        .arg(&out)
        .args([
            "--build",
            "cp39-*",
            "--skip",
            "*-musllinux_*",
            "--build-frontend",
            "pip",
        ])
        .args([
            "--before-all",
            "sh {project}/libdemo/build-libdemo.sh /usr/local",
        ])
        .args(images_args())
        .args(network_args());
    let output = cmd.output().expect("wheelwright");
    assert!(output.status.success(), "{}", describe(&output));
    let result = json(&output);
    let wheels = assert_clean_output(&out);
    assert_eq!(wheels.len(), 2, "{}", describe(&output));
    for (wheel, arch) in wheels.iter().zip(["i686", "x86_64"]) {
        assert!(
            wheel
                .to_string_lossy()
                .ends_with(&format!("manylinux_2_5_{arch}.whl")),
            "{}",
            wheel.display()
        );
        assert_auditwheel_agrees(wheel, arch);
        let tested = run_project_tests_in_runtime(
            wheel,
            arch,
            "/opt/python/cp39-cp39/bin/python",
            &project("democext").join("tests"),
        );
        assert!(tested.status.success(), "{arch}: {}", describe(&tested));
    }
    // The carried runtime: the interpreter the binary names, in the cache given.
    let runtime: Vec<String> = glob::glob(&format!(
        "{}/container-runtime/*/*",
        dir.path().join("cache").display()
    ))
    .expect("glob")
    .map(|p| {
        p.expect("path")
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned()
    })
    .collect();
    let interp_name = Path::new(interpreter.as_deref().unwrap_or_default())
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert!(runtime.contains(&interp_name), "{runtime:?}");
    assert_containers_gone(&container_names(&result));
}
