//! Fault injection (issue 20): `build` and `repair` interrupted at several points, killed
//! outright, run twice into one directory, hung, given a full or unusable output directory, and
//! fed a 200 MB line without a newline. Builds use podman and the test bed's images.
//!
//! Signals are sent at observable points, never after a blind sleep: a marker file that the
//! build's own commands create in a directory mounted into the container (`--container-arg -v`),
//! or a temporary file of the run appearing in the output directory. Afterwards the tests check
//! the exit code, the output directory's exact contents and the containers the run started
//! (`podman ps -a`, by the `wheelwright.owner` label that names the run's process).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::build::{builds, images_args, testbed_selection};
use crate::support::bed::{network_args, ww};
use crate::support::{describe, project};
use crate::support::{repo, testbed, wheelwright};

/// Generous: the machine runs other builds at the same time. Only a hang hits it.
const PATIENCE: Duration = Duration::from_secs(600);

/// Where the marker directory is mounted in the containers.
const MARKERS: &str = "/ww-markers";

/// A wheelwright run in the background, its output going to files (a 200 MB log line must not
/// go through the test's memory).
struct Background {
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Background {
    fn start(mut cmd: Command, dir: &Path, name: &str) -> Background {
        let stdout = dir.join(format!("{name}.stdout"));
        let stderr = dir.join(format!("{name}.stderr"));
        let child = cmd
            .stdin(Stdio::null())
            .stdout(
                fs_err::File::create(&stdout)
                    .expect("stdout file")
                    .into_parts()
                    .0,
            )
            .stderr(
                fs_err::File::create(&stderr)
                    .expect("stderr file")
                    .into_parts()
                    .0,
            )
            .spawn()
            .expect("start wheelwright");
        Background {
            child,
            stdout,
            stderr,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&fs_err::read(&self.stderr).unwrap_or_default()).into_owned()
    }

    fn stdout(&self) -> Vec<u8> {
        fs_err::read(&self.stdout).unwrap_or_default()
    }

    /// Waits until `ready` holds; fails if the run ends first.
    fn wait_until(&mut self, what: &str, mut ready: impl FnMut() -> bool) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if ready() {
                return;
            }
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                panic!("the run ended ({status}) before {what}:\n{}", self.stderr());
            }
            assert!(Instant::now() < deadline, "no {what}:\n{}", self.stderr());
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    fn signal(&self, signal: rustix::process::Signal) {
        let pid =
            rustix::process::Pid::from_raw(i32::try_from(self.pid()).expect("pid")).expect("pid");
        rustix::process::kill_process(pid, signal).expect("kill");
    }

    fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the run does not end:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The containers whose `wheelwright.owner` label names process `pid`, with their labels.
fn containers_of(pid: u32) -> Vec<String> {
    let out = testbed()
        .command("podman")
        .args([
            "ps",
            "-a",
            "--filter",
            "label=wheelwright.owner",
            "--format",
            "{{.Names}}\t{{.Labels}}",
        ])
        .output()
        .expect("podman ps");
    assert!(out.status.success(), "{}", describe(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|line| {
            // `wheelwright.owner:<host>-<pid>-<start>` (podman's map format).
            line.split("wheelwright.owner:")
                .nth(1)
                .and_then(|token| token.split('-').nth(1))
                .is_some_and(|p| p == pid.to_string())
        })
        .map(|line| line.split('\t').next().unwrap_or_default().to_owned())
        .collect()
}

/// Every path below `dir`, relative, sorted (directories too).
fn tree(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in fs_err::read_dir(dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            out.push(
                path.strip_prefix(root)
                    .expect("inside")
                    .display()
                    .to_string(),
            );
            if path.is_dir() && !path.is_symlink() {
                walk(root, &path, out);
            }
        }
    }
    let mut out = Vec::new();
    if dir.exists() {
        walk(dir, dir, &mut out);
    }
    out.sort();
    out
}

/// Whether `dir` has an entry that is a temporary of wheelwright's.
fn has_temporary(dir: &Path) -> bool {
    fs_err::read_dir(dir).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with(".wheelwright-"))
    })
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| (*a).to_owned()).collect()
}

/// A podman build of `project` for x86_64 with `extra` arguments, the marker directory mounted.
/// `build` of the test project `name` with the test bed's selection and `extra`, in the
/// background (its output files in `dir`).
fn start_build(name: &str, dir: &Path, out: &Path, markers: &Path, extra: &[&str]) -> Background {
    let mut args = testbed_selection();
    args.extend(strings(extra));
    Background::start(
        build_command(&project(name), out, markers, &args),
        dir,
        "run",
    )
}

/// [`build_command`] of the test project `name` for `cp39-manylinux_x86_64` only, then `extra`.
fn cp39_build(name: &str, out: &Path, markers: &Path, extra: &[&str]) -> Command {
    let mut args = strings(&["--only", "cp39-manylinux_x86_64"]);
    args.extend(strings(extra));
    build_command(&project(name), out, markers, &args)
}

fn build_command(project_dir: &Path, out: &Path, markers: &Path, extra: &[String]) -> Command {
    let mut cmd = ww();
    cmd.arg("build")
        .arg(project_dir)
        .arg("-o")
        .arg(out)
        .args(["--engine", "podman", "--archs", "x86_64", "--pull", "never"])
        .args(["--build-frontend", "pip", "--json"])
        .arg("--container-arg=-v")
        .arg(format!("--container-arg={}:{MARKERS}", markers.display()))
        .args(images_args())
        .args(network_args())
        .args(extra);
    cmd
}

/// The statuses by identifier of a `--json` result in `stdout`.
fn statuses(stdout: &[u8]) -> Vec<(String, String, Option<String>)> {
    let result: Value = serde_json::from_slice(stdout).unwrap_or_else(|e| {
        panic!(
            "--json output is not JSON ({e}): {}",
            String::from_utf8_lossy(stdout)
        )
    });
    builds(&result)
}

fn errors(stdout: &[u8]) -> Vec<String> {
    let result: Value = serde_json::from_slice(stdout).expect("json");
    result["builds"]
        .as_array()
        .expect("builds")
        .iter()
        .map(|b| b["error"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Builds `purepy` for `cp39-manylinux_x86_64` with `extra` in a fresh scratch directory;
/// returns the directory (kept while it lives), the marker directory and the output.
fn purepy_build(extra: &[&str]) -> (tempfile::TempDir, PathBuf, Output) {
    let (dir, out, markers) = scratch();
    let output = cp39_build("purepy", &out, &markers, extra)
        .output()
        .expect("wheelwright");
    (dir, markers, output)
}

fn scratch() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("wheelhouse");
    let markers = dir.path().join("markers");
    fs_err::create_dir(&markers).expect("markers");
    (dir, out, markers)
}

/// Sends `signal` to `run` and checks what every interrupt must leave: exit status `code`, each
/// identifier `interrupted` in `--json` with the given error and no wheel, the output directory
/// holding nothing but `logs/` with exactly the given logs, no container of the run. Returns the
/// stderr.
fn interrupt(
    run: &mut Background,
    signal: rustix::process::Signal,
    code: i32,
    out: &Path,
    expected: &[(&str, &str)],
    logs: &[&str],
) -> String {
    run.signal(signal);
    let status = run.wait();
    let stderr = run.stderr();
    assert_eq!(status.code(), Some(code), "{stderr}");
    let want: Vec<(String, String, Option<String>)> = expected
        .iter()
        .map(|(id, _)| ((*id).to_owned(), "interrupted".to_owned(), None))
        .collect();
    assert_eq!(statuses(&run.stdout()), want, "{stderr}");
    assert_eq!(
        errors(&run.stdout()),
        expected.iter().map(|(_, e)| *e).collect::<Vec<_>>(),
        "{stderr}"
    );
    assert!(!stderr.contains("FAILED"), "{stderr}");
    let mut want_tree = vec!["logs".to_owned()];
    want_tree.extend(logs.iter().map(|l| format!("logs/{l}")));
    assert_eq!(tree(out), want_tree, "{stderr}");
    assert_eq!(containers_of(run.pid()), Vec::<String>::new());
    stderr
}

const SETUP_LOG: &str = "setup-manylinux_x86_64.log";
const CP39: &str = "cp39-manylinux_x86_64";
const CP39_LOG: &str = "cp39-manylinux_x86_64.log";
const PP37: &str = "pp37-manylinux_x86_64";

/// SIGINT while `before-all` runs (before any build): exit 130, every identifier reported as
/// interrupted without a build, nothing but the set-up log in the output directory, the
/// container gone.
#[test]
fn sigint_before_the_build() {
    let (dir, out, markers) = scratch();
    let mut run = start_build(
        "purepy",
        dir.path(),
        &out,
        &markers,
        &[
            "--before-all",
            &format!("touch {MARKERS}/before-all; sleep 600"),
        ],
    );
    run.wait_until("before-all", || markers.join("before-all").exists());
    assert_eq!(containers_of(run.pid()).len(), 1, "{}", run.stderr());
    let not_started = "not started: interrupted (SIGINT)";
    let stderr = interrupt(
        &mut run,
        rustix::process::Signal::INT,
        130,
        &out,
        &[(CP39, not_started), (PP37, not_started)],
        &[SETUP_LOG],
    );
    assert!(
        stderr.contains("error: interrupted (SIGINT): 2 of 2 builds did not finish"),
        "{stderr}"
    );
}

/// SIGTERM while the compiler runs (a `CC` that hangs), with a second identifier queued:
/// exit 143, the compiling identifier interrupted, the queued one never started (its compiler
/// never ran), no wheel, no temporary, no container.
#[test]
fn sigterm_mid_compile_stops_the_queue() {
    let (dir, out, markers) = scratch();
    let cc = markers.join("slow-cc");
    fs_err::write(
        &cc,
        format!(
            "#!/bin/sh\ntouch {MARKERS}/compiling-$WHEELWRIGHT_BUILD_IDENTIFIER\nexec sleep 600\n"
        ),
    )
    .expect("cc");
    fs_err::set_permissions(&cc, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let mut run = start_build(
        "failonpypy",
        dir.path(),
        &out,
        &markers,
        &[
            "--jobs",
            "1",
            "--environment",
            &format!("CC={MARKERS}/slow-cc"),
        ],
    );
    let first = markers.join(format!("compiling-{CP39}"));
    run.wait_until("the compiler", || first.exists());
    interrupt(
        &mut run,
        rustix::process::Signal::TERM,
        143,
        &out,
        &[
            (CP39, "interrupted (SIGTERM)"),
            (PP37, "not started: interrupted (SIGTERM)"),
        ],
        &[CP39_LOG, SETUP_LOG],
    );
    assert!(
        !markers.join(format!("compiling-{PP37}")).exists(),
        "a queued build started after the interrupt"
    );
}

/// A build of purepy's cp39 wheel whose repair step writes a 300 MB wheel (configured as a
/// user would, through `WHEELWRIGHT_REPAIR_WHEEL_COMMAND`): the copy-out streams it through the
/// engine for a while.
fn big_wheel_build(out: &Path, markers: &Path) -> Command {
    let args = strings(&["--only", CP39]);
    let mut cmd = build_command(&project("purepy"), out, markers, &args);
    cmd.env(
        "WHEELWRIGHT_REPAIR_WHEEL_COMMAND",
        "head -c 300000000 /dev/urandom > {dest_dir}/purepy-0.1.0-py3-none-any.whl",
    );
    cmd
}

/// SIGINT while a 300 MB wheel is being copied out (its temporary file has appeared in the
/// output directory): exit 130, no wheel and no temporary left, the container gone.
#[test]
fn sigint_mid_copy_out_of_a_large_wheel() {
    let (dir, out, markers) = scratch();
    let mut run = Background::start(big_wheel_build(&out, &markers), dir.path(), "run");
    run.wait_until("the copy-out", || has_temporary(&out));
    interrupt(
        &mut run,
        rustix::process::Signal::INT,
        130,
        &out,
        &[(CP39, "interrupted (SIGINT)")],
        &[CP39_LOG, SETUP_LOG],
    );
}

/// SIGKILL mid copy-out (what a CI runner does at its time limit) leaves the container and the
/// temporary file; the next build into that directory removes both (their owner is gone).
#[test]
fn a_killed_runs_container_and_temporaries_go_at_the_next_start() {
    let (dir, out, markers) = scratch();
    let mut run = Background::start(big_wheel_build(&out, &markers), dir.path(), "killed");
    run.wait_until("the copy-out", || has_temporary(&out));
    run.signal(rustix::process::Signal::KILL);
    let status = run.wait();
    assert_eq!(status.code(), None, "killed by the signal");
    let killed = run.pid();
    let left = containers_of(killed);
    assert_eq!(left.len(), 1, "SIGKILL leaves the container: {left:?}");
    let temporaries: Vec<String> = tree(&out)
        .into_iter()
        .filter(|p| p.starts_with(".wheelwright-"))
        .collect();
    assert_eq!(
        temporaries.len(),
        1,
        "SIGKILL leaves the temporary: {:?}",
        tree(&out)
    );

    // The next run (its before-all fails at once) starts a container: that removes the orphan.
    let mut next = cp39_build("purepy", &out, &markers, &["--before-all", "exit 3"]);
    let output = next.output().expect("wheelwright");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(
        stderr.contains(&format!(
            "removed container `{}`, left by a wheelwright run that is gone (process {killed})",
            left[0]
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "removed `{}`",
            out.join(&temporaries[0]).display()
        )),
        "{stderr}"
    );
    assert_eq!(containers_of(killed), Vec::<String>::new());
    assert!(!has_temporary(&out), "{:?}", tree(&out));
}

/// Two builds into one output directory at once, one whose test fails: both results survive
/// in the manifest (whichever run writes last), and `publish --dry-run` refuses the wheel whose
/// test failed. The failing run finishes first, the case that lost its marks before.
#[test]
fn two_builds_into_one_directory_keep_each_others_results() {
    let (dir, out, markers) = scratch();
    // Each run waits in before-build until the other got there: both have started their test
    // stage (and, before the fix, read the manifest) before either records a result.
    let barrier = |me: &str, other: &str| {
        format!("touch {MARKERS}/{me}; while [ ! -e {MARKERS}/{other} ]; do sleep 0.2; done")
    };
    let failing = cp39_build(
        "purepy",
        &out,
        &markers,
        &[
            "--before-build",
            &barrier("failing", "passing"),
            "--test-command",
            "python -c 'raise SystemExit(3)'",
        ],
    );
    let passing = cp39_build(
        "srcleak",
        &out,
        &markers,
        &[
            "--before-build",
            &barrier("passing", "failing"),
            // Finishes after the failing run has recorded its result.
            "--test-command",
            "sleep 10; python -c 'import srcleak'",
        ],
    );
    let mut a = Background::start(failing, dir.path(), "failing");
    let mut b = Background::start(passing, dir.path(), "passing");
    let (status_a, status_b) = (a.wait(), b.wait());
    assert_eq!(status_a.code(), Some(1), "{}", a.stderr());
    assert!(status_b.success(), "{}", b.stderr());
    let manifest: Value = serde_json::from_slice(
        &fs_err::read(out.join(".wheelwright/results.json")).expect("manifest"),
    )
    .expect("json");
    let state = |wheel: &str| {
        manifest["wheels"][wheel]["state"]
            .as_str()
            .map(str::to_owned)
    };
    assert_eq!(
        state("purepy-0.1.0-py3-none-any.whl").as_deref(),
        Some("failed"),
        "{manifest:#}"
    );
    assert_eq!(
        state("srcleak-0.1.0-py3-none-any.whl").as_deref(),
        Some("passed"),
        "{manifest:#}"
    );
    let publish = wheelwright()
        .arg("publish")
        .arg(&out)
        .args([
            "--dry-run",
            "--no-check",
            "--repository-url",
            "http://127.0.0.1:9/legacy/",
        ])
        .env("HOME", dir.path())
        .output()
        .expect("publish");
    let stderr = String::from_utf8_lossy(&publish.stderr);
    assert_eq!(publish.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error: `purepy-0.1.0-py3-none-any.whl`: tests failed (cp39-manylinux_x86_64: test-command failed (exit status: 3)")
            && stderr.contains("1 wheel did not pass its tests; nothing was uploaded"),
        "{stderr}"
    );
    assert!(!stderr.contains("`srcleak-"), "{stderr}");
    let mut entries = tree(&out);
    entries.retain(|p| !p.starts_with("logs/"));
    assert_eq!(
        entries,
        [
            ".wheelwright",
            ".wheelwright/results.json",
            ".wheelwright/results.lock",
            "logs",
            "purepy-0.1.0-py3-none-any.whl",
            "srcleak-0.1.0-py3-none-any.whl",
        ]
    );
}

/// A `before-build` that hangs is killed with its processes at `--hook-timeout`, and the
/// failure names the hook and the option; the kept container shows the process is gone.
#[test]
fn a_hung_hook_hits_its_timeout() {
    let (_dir, markers, output) = purepy_build(&[
        "--before-build",
        &format!("touch {MARKERS}/hook; sleep 1000 & wait"),
        "--hook-timeout",
        "5",
        "--keep-container",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(markers.join("hook").exists(), "the hook ran");
    let message = "before-build timed out after 5s (--hook-timeout): killed";
    assert_eq!(errors(&output.stdout), [message]);
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("cp39-manylinux_x86_64")
                && l.contains("FAILED")
                && l.contains(message)),
        "{stderr}"
    );
    let name = stderr
        .lines()
        .find_map(|l| l.strip_prefix("kept container `"))
        .and_then(|l| l.split('`').next())
        .unwrap_or_else(|| panic!("no kept container:\n{stderr}"))
        .to_owned();
    let sleeping = testbed()
        .command("podman")
        .args([
            "exec",
            &name,
            "sh",
            "-c",
            "for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $f; echo; done",
        ])
        .output()
        .expect("podman exec");
    let _ = testbed()
        .command("podman")
        .args(["rm", "-f", &name])
        .output();
    let processes = String::from_utf8_lossy(&sleeping.stdout);
    assert!(
        sleeping.status.success() && !processes.contains("sleep 1000"),
        "the hook's process survived:\n{processes}"
    );
}

/// `before-build` and the build run as one process in the container, yet each step keeps its
/// own limit, counted from its own start: a hook of 8 s under a 10 s `--hook-timeout` followed
/// by a build under a 9 s `--build-timeout` passes although the two together take longer than
/// either limit; a build step past its own limit is named with its own option.
#[test]
fn steps_run_as_one_process_keep_their_own_limits() {
    let (_dir, markers, output) = purepy_build(&[
        "--before-build",
        &format!("sleep 8; touch {MARKERS}/hook"),
        "--hook-timeout",
        "10",
        "--build-timeout",
        "9",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    assert!(markers.join("hook").exists(), "the hook ran to its end");
    assert_eq!(
        statuses(&output.stdout),
        [(
            "cp39-manylinux_x86_64".to_owned(),
            "built".to_owned(),
            Some("purepy-0.1.0-py3-none-any.whl".to_owned())
        )]
    );

    // A build that hangs after a quick hook: killed at the build's limit, counted from the
    // build's start, and named with its option.
    let (dir, out, markers) = scratch();
    let hangs = dir.path().join("hangs");
    fs_err::create_dir_all(&hangs).expect("mkdir");
    // An in-tree PEP 517 backend without requirements (nothing to download) that hangs.
    fs_err::write(
        hangs.join("pyproject.toml"),
        "[build-system]\nrequires = []\nbuild-backend = \"hang\"\nbackend-path = [\".\"]\n",
    )
    .expect("write pyproject.toml");
    fs_err::write(
        hangs.join("hang.py"),
        "import time\n\ndef build_wheel(wheel_directory, config_settings=None, metadata_directory=None):\n    time.sleep(1000)\n",
    )
    .expect("write hang.py");
    let mut args = strings(&["--only", "cp39-manylinux_x86_64"]);
    args.extend(strings(&[
        "--before-build",
        &format!("sleep 2; touch {MARKERS}/hook"),
        "--hook-timeout",
        "60",
        "--build-timeout",
        "4",
    ]));
    let started = std::time::Instant::now();
    let output = build_command(&hangs, &out, &markers, &args)
        .output()
        .expect("wheelwright");
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(markers.join("hook").exists(), "the hook ran to its end");
    assert_eq!(
        errors(&output.stdout),
        ["build timed out after 4s (--build-timeout): killed"]
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "killed at the build's limit, not the hook's"
    );
}

/// Mounts a small tmpfs at `dir` (the real suite runs as root); unmounted when dropped.
pub(crate) struct Tmpfs(PathBuf);

impl Tmpfs {
    pub(crate) fn mount(dir: &Path, options: &str) -> Tmpfs {
        fs_err::create_dir_all(dir).expect("mkdir");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(dir)
            .status()
            .expect("run mount (the real suite runs as root)");
        assert!(status.success(), "mount -t tmpfs failed");
        Tmpfs(dir.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// An output directory on a full disk (a 2 MB tmpfs, a 300 MB wheel): the failure says "No space
/// left on device" and names the wheel's path, in the table as in `--json`; no temporary, no
/// partial wheel; the container gone.
#[test]
fn a_full_output_directory_is_reported_as_such() {
    let (dir, out, markers) = scratch();
    let _tmpfs = Tmpfs::mount(&out, "size=2m");
    let mut run = Background::start(big_wheel_build(&out, &markers), dir.path(), "full");
    let status = run.wait();
    let stderr = run.stderr();
    assert_eq!(status.code(), Some(1), "{stderr}");
    let dest = out.join("purepy-0.1.0-py3-none-any.whl");
    let expected = format!("to `{}`: No space left on device", dest.display());
    let errors = errors(&run.stdout());
    assert!(errors[0].contains(&expected), "{errors:?}");
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("cp39-manylinux_x86_64")
                && l.contains("FAILED")
                && l.contains(&expected)),
        "{stderr}"
    );
    assert!(!stderr.contains("SIGPIPE"), "{stderr}");
    assert_eq!(
        tree(&out),
        [
            "logs",
            "logs/cp39-manylinux_x86_64.log",
            "logs/setup-manylinux_x86_64.log"
        ]
    );
    assert_eq!(containers_of(run.pid()), Vec::<String>::new());
}

/// The output directory is checked before any container starts: a file, and a read-only
/// directory, are one line each naming it.
#[test]
fn unusable_output_directories_are_refused_before_any_container_starts() {
    let (dir, _out, markers) = scratch();
    let file = dir.path().join("a-file");
    fs_err::write(&file, "x").expect("write");
    let readonly = dir.path().join("readonly");
    let _tmpfs = Tmpfs::mount(&readonly, "size=1m,ro");
    for (out, needle) in [
        (
            file.clone(),
            format!(
                "error: output directory `{}` is not a directory; pass another --output-dir",
                file.display()
            ),
        ),
        (
            file.join("sub"),
            format!(
                "error: cannot create the output directory `{}`: `{}` is not a directory",
                file.join("sub").display(),
                file.display()
            ),
        ),
        (
            readonly.clone(),
            format!(
                "error: cannot write in the output directory `{}`: Read-only file system",
                readonly.display()
            ),
        ),
    ] {
        let output = cp39_build("purepy", &out, &markers, &[])
            .output()
            .expect("wheelwright");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(&needle), "{stderr}");
        assert!(!stderr.contains("engine:"), "nothing was started: {stderr}");
    }
}

/// The peak resident set size of process `pid` (`VmHWM`), in KiB.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = fs_err::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// A hook that prints 200 MB without a newline: the build goes on and wheelwright's peak memory
/// stays far below the line's size (measured from /proc while it runs); the log holds it all.
#[test]
fn a_200_mb_line_costs_bounded_memory() {
    const LINE: u64 = 200_000_000;
    let (dir, out, markers) = scratch();
    let mut run = Background::start(
        cp39_build(
            "purepy",
            &out,
            &markers,
            &[
                "--before-build",
                &format!(
                    "head -c {LINE} /dev/zero | tr '\\0' x; echo; touch {MARKERS}/printed; sleep 2"
                ),
            ],
        ),
        dir.path(),
        "huge",
    );
    let pid = run.pid();
    let mut peak = 0;
    let deadline = Instant::now() + PATIENCE;
    let status = loop {
        if let Some(kib) = peak_rss_kib(pid) {
            peak = peak.max(kib);
        }
        if let Some(status) = run.child.try_wait().expect("try_wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "the build does not end");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{}", run.stderr());
    assert!(markers.join("printed").exists());
    let log = fs_err::metadata(out.join("logs/cp39-manylinux_x86_64.log")).expect("log");
    assert!(
        log.len() > LINE,
        "the whole line is in the log ({} bytes)",
        log.len()
    );
    crate::support::log(&format!(
        "a {LINE}-byte line: wheelwright's peak RSS {} MiB",
        peak / 1024
    ));
    assert!(peak > 0, "no reading of /proc/{pid}/status");
    assert!(
        peak < 100 * 1024,
        "peak RSS {peak} KiB for a {LINE}-byte line: memory grows with line length"
    );
}

/// A wheel that must be rewritten (an extension needing a library of the fixture sysroot) with
/// a `payload` of the given size, stored: the fixture for repair faults.
pub(crate) fn repairable_wheel(dir: &Path, payload: Vec<u8>) -> PathBuf {
    use std::io::Write as _;
    let root = repo().join("tests/fixtures/elf/root64");
    let ext = fs_err::read(root.join("app/fake.cpython-311-x86_64-linux-gnu.so")).expect("fixture");
    let wheel = dir.join("demo-1.0-cp311-cp311-linux_x86_64.whl");
    let entries: Vec<(&str, Vec<u8>)> = vec![
        ("demo/fake.cpython-311-x86_64-linux-gnu.so", ext),
        ("demo/payload.bin", payload),
        (
            "demo-1.0.dist-info/WHEEL",
            b"Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp311-cp311-linux_x86_64\n".to_vec(),
        ),
        (
            "demo-1.0.dist-info/METADATA",
            b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n".to_vec(),
        ),
    ];
    let stored = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(true);
    let mut zip = zip::ZipWriter::new(fs_err::File::create(&wheel).expect("create"));
    let mut record = String::new();
    for (name, data) in &entries {
        use base64::Engine as _;
        use sha2::Digest as _;
        zip.start_file(*name, stored).expect("start");
        zip.write_all(data).expect("write");
        let hash =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(data));
        record.push_str(&format!("{name},sha256={hash},{}\n", data.len()));
    }
    record.push_str("demo-1.0.dist-info/RECORD,,\n");
    zip.start_file("demo-1.0.dist-info/RECORD", stored)
        .expect("start");
    zip.write_all(record.as_bytes()).expect("write");
    zip.finish().expect("finish");
    wheel
}

/// `repair` of a large wheel interrupted by SIGINT, SIGTERM and SIGHUP once its temporaries
/// exist: 130, 143, 129, and an empty output directory each time. Then SIGKILL, which leaves
/// them; the next `repair` into that directory removes them.
#[test]
fn interrupted_and_killed_repairs_leave_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wheel = repairable_wheel(dir.path(), vec![0x5a; 120 * 1024 * 1024]);
    let root = repo().join("tests/fixtures/elf/root64");
    let repair = |out: &Path| {
        let mut cmd = wheelwright();
        cmd.args(["repair", "--root"])
            .arg(&root)
            .arg("-w")
            .arg(out)
            .arg(&wheel);
        cmd
    };
    for (signal, code) in [
        (rustix::process::Signal::INT, 130),
        (rustix::process::Signal::TERM, 143),
        (rustix::process::Signal::HUP, 129),
    ] {
        let out = dir.path().join(format!("out-{code}"));
        let mut run = Background::start(repair(&out), dir.path(), &format!("repair-{code}"));
        run.wait_until("a temporary file", || has_temporary(&out));
        run.signal(signal);
        let status = run.wait();
        assert_eq!(status.code(), Some(code), "{}", run.stderr());
        assert_eq!(tree(&out), Vec::<String>::new(), "{}", run.stderr());
    }

    let out = dir.path().join("out-killed");
    let mut run = Background::start(repair(&out), dir.path(), "repair-killed");
    run.wait_until("the wheel being written", || {
        tree(&out).iter().any(|p| p.ends_with(".whl.part"))
    });
    run.signal(rustix::process::Signal::KILL);
    run.wait();
    assert!(has_temporary(&out), "SIGKILL leaves the temporaries");
    let mut left = tree(&out);
    left.retain(|p| !p.contains('/'));
    let output = repair(&out).output().expect("repair");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{}", describe(&output));
    for stale in &left {
        assert!(
            stderr.contains(&format!(
                "removed `{}`, left by a run that was killed",
                out.join(stale).display()
            )),
            "{stderr}"
        );
    }
    let left = tree(&out);
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(
        left[0].starts_with("demo-1.0-cp311-cp311-manylinux") && left[0].ends_with(".whl"),
        "{left:?}"
    );
}
