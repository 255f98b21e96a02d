//! `wheelwright show`: the report, and every way a wheel can be damaged, refused in one line
//! (the malformed wheels also by `repair` and `check`).

use std::path::{Path, PathBuf};

use crate::support::dists::Wheel;
use crate::{
    X86_64_WHEEL, assert_one_line_error, extension_wheel, fixture, fixture_root64, repair_in,
    run_json, show_in_root, show_json, wheelwright,
};

#[test]
fn help_lists_show() {
    let output = wheelwright().arg("--help").output().expect("run");
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("show"), "{text}");
}

#[test]
fn usage_error_exits_2() {
    let output = wheelwright().args(["show"]).output().expect("run");
    assert_eq!(output.status.code(), Some(2));
    let output = wheelwright()
        .args(["show", "--no-such-flag", "x.whl"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn missing_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = wheelwright()
        .arg("show")
        .arg(dir.path().join(X86_64_WHEEL))
        .output()
        .expect("run");
    assert_one_line_error(&output, X86_64_WHEEL, "no such file");
}

/// [`extension_wheel`] with the fixture library `lib` (of the fixture root's `app/`) beside the
/// extension.
fn extension_wheel_with(lib: &str) -> Wheel {
    extension_wheel().file(
        &format!("demo/{lib}"),
        fixture(&format!("root64/app/{lib}")),
    )
}

/// `wheelwright show PATH`.
fn show(path: &Path) -> std::process::Output {
    wheelwright().arg("show").arg(path).output().expect("run")
}

/// The x86_64 test wheel with the fixture ELF file `fixture_name` as `entry`.
fn x86_64_wheel_with(entry: &str, fixture_name: &str) -> Wheel {
    Wheel::bare(X86_64_WHEEL).file(entry, fixture(fixture_name))
}

/// Writes `wheel` to a fresh directory and expects `show` to refuse it in one line naming the
/// wheel and `needle`.
fn assert_show_refuses(wheel: Wheel, needle: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let name = wheel.filename.clone();
    let output = show(&wheel.write(dir.path()));
    assert_one_line_error(&output, &name, needle);
}

#[test]
fn not_a_zip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(X86_64_WHEEL);
    fs_err::write(&path, b"this is not a zip archive at all").expect("write");
    assert_one_line_error(&show(&path), X86_64_WHEEL, "zip");
}

#[test]
fn truncated_zip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = x86_64_wheel_with("demo/_core.so", "root64/app/basic.so").write(dir.path());
    let data = fs_err::read(&path).expect("read");
    fs_err::write(&path, &data[..data.len() / 2]).expect("truncate");
    assert_one_line_error(&show(&path), X86_64_WHEEL, X86_64_WHEEL);
}

#[test]
fn malformed_filename() {
    let dir = tempfile::tempdir().expect("tempdir");
    let name = "not-a-wheel-name.whl";
    let path = dir.path().join(name);
    fs_err::write(&path, b"PK").expect("write");
    assert_one_line_error(&show(&path), name, "filename");
}

#[test]
fn missing_wheel_metadata_file() {
    let wheel = x86_64_wheel_with("demo/_core.so", "root64/app/basic.so").omit("WHEEL");
    assert_show_refuses(wheel, "WHEEL");
}

#[test]
fn record_hash_mismatch() {
    let mut wheel = x86_64_wheel_with("demo/_core.so", "root64/app/basic.so");
    wheel.tamper_record = Some(|record: String| {
        record
            .lines()
            .map(|l| {
                if l.starts_with("demo/_core.so,") {
                    "demo/_core.so,sha256=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA,0".to_owned()
                } else {
                    l.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
    });
    assert_show_refuses(wheel, "demo/_core.so");
}

#[test]
fn corrupt_record() {
    let mut wheel = x86_64_wheel_with("demo/_core.so", "root64/app/basic.so");
    wheel.tamper_record = Some(|record: String| record.replace("sha256=", "md5="));
    assert_show_refuses(wheel, "RECORD");
}

#[test]
fn parent_dir_entry() {
    assert_show_refuses(x86_64_wheel_with("../evil.so", "root64/app/basic.so"), "..");
}

#[test]
fn absolute_entry() {
    let wheel = x86_64_wheel_with("/etc/evil.so", "root64/app/basic.so");
    assert_show_refuses(wheel, "/etc/evil.so");
}

#[test]
fn truncated_elf() {
    let wheel = x86_64_wheel_with("demo/_core.so", "root64/app/truncated.so");
    assert_show_refuses(wheel, "demo/_core.so");
}

#[test]
fn wrong_architecture_elf() {
    assert_show_refuses(
        x86_64_wheel_with("demo/_core.so", "root32/app/basic.so"),
        "i686",
    );
}

#[test]
fn pure_wheel_is_refused_unless_allowed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let name = "demo-1.0-py3-none-any.whl";
    let path = Wheel::bare(name)
        .file("demo/__init__.py", b"x = 1\n".to_vec())
        .write(dir.path());
    let output = wheelwright().arg("show").arg(&path).output().expect("run");
    assert_one_line_error(&output, name, "platform");
    let output = wheelwright()
        .args(["show", "--json", "--allow-pure-python-wheel"])
        .arg(&path)
        .output()
        .expect("run");
    assert!(output.status.success());
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(value["pure"], serde_json::Value::Bool(true));
}

#[test]
fn clean_extension_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = extension_wheel().write(dir.path());
    let value = run_json(wheelwright().args(["show", "--json"]).arg(&path));
    assert_eq!(value["wheel"], X86_64_WHEEL);
    assert_eq!(value["arch"], "x86_64");
    let elf_files = value["elf_files"].as_array().expect("elf_files");
    assert_eq!(elf_files.len(), 1);
    assert_eq!(elf_files[0]["python_extension"], true);
    assert!(
        value["overall_tag"]
            .as_str()
            .expect("tag")
            .ends_with("_x86_64")
    );
}

#[test]
fn one_bad_wheel_does_not_hide_the_others() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = extension_wheel().write(dir.path());
    let bad = dir.path().join("bad-1.0-cp311-cp311-linux_x86_64.whl");
    fs_err::write(&bad, b"junk").expect("write");
    let output = wheelwright()
        .args(["show", "--json"])
        .arg(&bad)
        .arg(&good)
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        stdout.lines().count(),
        1,
        "the good wheel is still reported: {stdout}"
    );
}

#[test]
fn too_new_symbol_is_explained() {
    // libglibc234.so calls close_range, which glibc versions GLIBC_2.34.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = extension_wheel_with("libglibc234.so").write(dir.path());
    let value = run_json(wheelwright().args(["show", "--json"]).arg(&path));
    assert_eq!(value["sym_tag"], "manylinux_2_34_x86_64");
    let too_new = value["too_new_symbols"]
        .as_array()
        .expect("too_new_symbols");
    assert_eq!(too_new.len(), 1, "{too_new:?}");
    assert_eq!(too_new[0]["version"], "GLIBC_2.34");
    assert_eq!(too_new[0]["library"], "libc.so.6");
    assert_eq!(too_new[0]["file"], "demo/libglibc234.so");
    assert_eq!(too_new[0]["blocks"], "manylinux_2_31_x86_64");
    assert!(
        too_new[0]["symbols"]
            .as_array()
            .expect("symbols")
            .iter()
            .any(|s| s == "close_range")
    );

    let output = wheelwright().arg("show").arg(&path).output().expect("run");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("GLIBC_2.34 (libc.so.6): `close_range`"),
        "{text}"
    );
    assert!(text.contains("needed by `demo/libglibc234.so`"), "{text}");
}

#[test]
fn unresolved_dependency_is_reported_as_external() {
    // The fixture extension needs libbase.so.1, which no system has.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = extension_wheel().write(dir.path());
    let output = wheelwright()
        .args(["show", "--json"])
        .arg(&path)
        .output()
        .expect("run");
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(
        value["external_libs"]["libbase.so.1"],
        serde_json::Value::Null
    );
    assert_eq!(value["overall_tag"], "linux_x86_64");
    let text = String::from_utf8_lossy(
        &wheelwright()
            .arg("show")
            .arg(&path)
            .output()
            .expect("run")
            .stdout,
    )
    .into_owned();
    assert!(text.contains("libbase.so.1 => not found"), "{text}");
}

#[test]
fn root_option_resolves_inside_a_sysroot() {
    // With --root, libbase.so.1 is found in the fixture root's /usr/lib (not on the host).
    let dir = tempfile::tempdir().expect("tempdir");
    let path = extension_wheel().write(dir.path());
    let value = show_json(&fixture_root64(), &path);
    assert_eq!(
        value["external_libs"]["libbase.so.1"],
        "/usr/lib/libbase.so.1"
    );
}

#[test]
fn damaged_wheels_never_panic() {
    // Deterministic byte flips and truncations of a valid wheel: every outcome is a report (exit
    // 0) or a one-line error (exit 1), never a crash.
    let dir = tempfile::tempdir().expect("tempdir");
    let good = extension_wheel_with("libsyms.so").write(dir.path());
    let original = fs_err::read(&good).expect("read");
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let case_dir = dir.path().join("cases");
    fs_err::create_dir_all(&case_dir).expect("mkdir");
    let mut paths = Vec::new();
    for case in 0..60 {
        let mut data = original.clone();
        if case % 4 == 3 {
            let len = usize::try_from(next() % data.len() as u64).expect("len");
            data.truncate(len);
        } else {
            for _ in 0..(1 + case % 8) {
                let at = usize::try_from(next() % data.len() as u64).expect("index");
                data[at] ^= u8::try_from(next() % 255 + 1).expect("byte");
            }
        }
        let sub = case_dir.join(format!("{case}"));
        fs_err::create_dir_all(&sub).expect("mkdir");
        let path = sub.join(X86_64_WHEEL);
        fs_err::write(&path, &data).expect("write");
        paths.push(path);
    }
    for flags in [&["show"][..], &["show", "--no-verify"][..]] {
        let output = wheelwright()
            .args(flags)
            .args(&paths)
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            matches!(output.status.code(), Some(0 | 1)),
            "exit {:?}: {stderr}",
            output.status
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        for line in stderr.lines().filter(|l| l.starts_with("error: ")) {
            assert!(line.contains(X86_64_WHEEL), "error names the wheel: {line}");
        }
    }
}

/// Wheels whose layout installers refuse: `(wheel, error needle, check code)`.
fn malformed_wheels(dir: &Path) -> Vec<(PathBuf, &'static str, &'static str)> {
    let ext = || fixture("root64/app/fake.cpython-311-x86_64-linux-gnu.so");
    let ext_path = "demo/fake.cpython-311-x86_64-linux-gnu.so";
    let mut cases = Vec::new();
    let sub = |name: &str| {
        let d = dir.join(name);
        fs_err::create_dir_all(&d).expect("mkdir");
        d
    };

    let mut spec = Wheel::bare(X86_64_WHEEL).file(ext_path, ext()).file(
        "demo-1.0.dist-info/WHEEL",
        b"Wheel-Version: 9.0\nRoot-Is-Purelib: false\nTag: cp311-cp311-linux_x86_64\n".to_vec(),
    );
    spec.omit.push("WHEEL");
    cases.push((
        spec.write(&sub("major")),
        "Wheel-Version: 9.0",
        "wheel-version",
    ));

    let two = Wheel::bare(X86_64_WHEEL)
        .file(ext_path, ext())
        .file(
            "other-2.0.dist-info/METADATA",
            b"Metadata-Version: 2.1\nName: other\nVersion: 2.0\n".to_vec(),
        )
        .write(&sub("two"));
    cases.push((two, "more than one `.dist-info` directory", "dist-info"));

    // A wheel renamed to another version: its `.dist-info` says 1.0.
    let renamed = Wheel::bare(X86_64_WHEEL)
        .file(ext_path, ext())
        .write(&sub("renamed"));
    let target = renamed.with_file_name("demo-2.0-cp311-cp311-linux_x86_64.whl");
    fs_err::rename(&renamed, &target).expect("rename");
    cases.push((
        target,
        "`demo-1.0.dist-info` does not match the file name",
        "dist-info",
    ));
    cases
}

/// `wheelwright check WHEEL`: its exit code and stdout.
fn check(wheel: &Path) -> (Option<i32>, String) {
    let output = wheelwright().arg("check").arg(wheel).output().expect("run");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn malformed_wheels_are_refused_by_show_repair_and_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (wheel, needle, code) in malformed_wheels(dir.path()) {
        let name = wheel
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let output = show_in_root(&wheel);
        assert_one_line_error(&output, &name, needle);

        let out = dir.path().join("out");
        let output = repair_in(&fixture_root64(), &out, &[], &wheel);
        assert_one_line_error(&output, &name, needle);
        let written: Vec<_> = fs_err::read_dir(&out)
            .map(|d| d.map(|e| e.expect("entry").file_name()).collect())
            .unwrap_or_default();
        assert!(written.is_empty(), "{name}: nothing written: {written:?}");

        let (exit, stdout) = check(&wheel);
        assert_eq!(exit, Some(1), "{name}: {stdout}");
        assert!(
            stdout.contains(&format!(": error: {code}: "))
                && stdout.contains(needle.split(" does not").next().unwrap_or(needle)),
            "{name}: check names the problem: {stdout}"
        );
    }
}

#[test]
fn a_later_minor_wheel_version_is_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut spec = extension_wheel().file(
        "demo-1.0.dist-info/WHEEL",
        b"Wheel-Version: 1.9\nRoot-Is-Purelib: false\nTag: cp311-cp311-linux_x86_64\n".to_vec(),
    );
    spec.omit.push("WHEEL");
    let wheel = spec.write(dir.path());
    let output = show_in_root(&wheel);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning: ") && stderr.contains("`Wheel-Version: 1.9` is newer"),
        "{stderr}"
    );
    let (_, stdout) = check(&wheel);
    assert!(stdout.contains(": warning: wheel-version: "), "{stdout}");
}
