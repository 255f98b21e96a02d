//! Fast CLI tests: no containers, no network, one file per command (plus the command line as a
//! whole: `commandline`, `output`, `tls`). Wheels are crafted in a temporary directory by the
//! support module's builder; ELF payloads come from the committed fixtures in
//! `tests/fixtures/elf/`.

use std::path::{Path, PathBuf};
use std::process::Command;

mod build;
mod check;
mod commandline;
mod output;
mod repair;
mod show;
#[path = "../support/mod.rs"]
mod support;
mod testing;
mod tls;

use support::dists::Wheel;
use support::{run_json, wheelwright};

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/elf")
        .join(name);
    fs_err::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

const X86_64_WHEEL: &str = "demo-1.0-cp311-cp311-linux_x86_64.whl";

fn assert_one_line_error(output: &std::process::Output, wheel: &str, needle: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "exit code; stderr: {stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "one error line expected, got: {stderr}");
    assert!(errors[0].contains(wheel), "error names the wheel: {stderr}");
    assert!(
        errors[0].to_lowercase().contains(&needle.to_lowercase()),
        "error mentions `{needle}`: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "no panic: {stderr}");
    assert!(output.stdout.is_empty(), "nothing on stdout");
}

/// Runs `wheelwright -q ARGS` with an empty PATH (no engine, no Python) and expects exit 1
/// (`shown`: the arguments for the messages); returns the output and its stderr.
fn run_refused<I, S>(args: I, shown: &[&str]) -> (std::process::Output, String)
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let output = wheelwright()
        .arg("-q")
        .args(args)
        .env("PATH", "")
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(1), "{shown:?}: {stderr}");
    (output, stderr)
}

/// The fixture Python extension of the test wheels (it needs `libbase.so.1`).
const EXTENSION: &str = "demo/fake.cpython-311-x86_64-linux-gnu.so";

/// The x86_64 test wheel with the fixture extension as [`EXTENSION`].
fn extension_wheel() -> Wheel {
    Wheel::bare(X86_64_WHEEL).file(
        EXTENSION,
        fixture("root64/app/fake.cpython-311-x86_64-linux-gnu.so"),
    )
}

fn repair_fixture_wheel(dir: &Path) -> PathBuf {
    extension_wheel()
        .file("demo/__init__.py", b"\n".to_vec())
        .write(dir)
}

/// `wheelwright show --root <the fixture root> WHEEL`.
fn show_in_root(wheel: &Path) -> std::process::Output {
    wheelwright()
        .args(["show", "--root"])
        .arg(fixture_root64())
        .arg(wheel)
        .output()
        .expect("run")
}

/// `wheelwright show --json --root ROOT WHEEL`, which must succeed; returns the report.
fn show_json(root: &Path, wheel: &Path) -> serde_json::Value {
    run_json(
        wheelwright()
            .args(["show", "--json", "--root"])
            .arg(root)
            .arg(wheel),
    )
}

/// `wheelwright repair --root ROOT -w OUT EXTRA... WHEEL`.
fn repair_cmd(root: &Path, out: &Path, extra: &[&str], wheel: &Path) -> Command {
    let mut cmd = wheelwright();
    cmd.args(["repair", "--root"])
        .arg(root)
        .arg("-w")
        .arg(out)
        .args(extra)
        .arg(wheel);
    cmd
}

/// Runs [`repair_cmd`].
fn repair_in(root: &Path, out: &Path, extra: &[&str], wheel: &Path) -> std::process::Output {
    repair_cmd(root, out, extra, wheel).output().expect("run")
}

/// [`repair_in`] with `--json`, which must succeed; returns the report.
fn repair_json(root: &Path, out: &Path, extra: &[&str], wheel: &Path) -> serde_json::Value {
    let mut args = vec!["--json"];
    args.extend_from_slice(extra);
    run_json(&mut repair_cmd(root, out, &args, wheel))
}

fn fixture_root64() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/elf/root64")
}

fn wheel_elf(wheel: &Path, entry: &str) -> wheelwright::elf::ElfInfo {
    let mut archive = wheelwright::wheel::WheelArchive::open(wheel).expect("open output");
    archive
        .verify_all()
        .expect("output verifies against its RECORD");
    let data = archive.read_entry(entry).expect("entry");
    wheelwright::elf::analyze(&data).expect("elf")
}
