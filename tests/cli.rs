//! Fast CLI tests: no containers, no network. Wheels are crafted in a temporary directory with
//! the zip crate; ELF payloads come from the committed fixtures in `tests/fixtures/elf/`.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use base64::Engine as _;
use sha2::Digest as _;

#[path = "cli/check.rs"]
mod check;
#[path = "cli/commandline.rs"]
mod commandline;
#[path = "cli/output.rs"]
mod output;
#[path = "cli/testing.rs"]
mod testing;
#[path = "cli/tls.rs"]
mod tls;

fn wheelwright() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wheelwright"));
    cmd.env_remove("GITHUB_ACTIONS")
        .env_remove("LD_LIBRARY_PATH")
        .env_remove("AUDITWHEEL_LD_LIBRARY_PATH")
        .env_remove("AUDITWHEEL_PLAT")
        .env_remove("RUST_LOG");
    cmd
}

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/elf")
        .join(name);
    fs_err::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

fn record_hash(data: &[u8]) -> String {
    let digest = sha2::Sha256::digest(data);
    format!(
        "sha256={}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
    )
}

/// Builds a wheel from `(path, bytes)` entries, adding WHEEL, METADATA and a correct RECORD.
/// `tamper` may edit the RECORD text before it is written.
struct WheelSpec<'a> {
    name: &'a str,
    files: Vec<(String, Vec<u8>)>,
    tamper: Option<Box<dyn Fn(String) -> String + 'a>>,
    skip_wheel_file: bool,
}

impl<'a> WheelSpec<'a> {
    fn new(name: &'a str) -> Self {
        WheelSpec {
            name,
            files: Vec::new(),
            tamper: None,
            skip_wheel_file: false,
        }
    }

    fn file(mut self, path: &str, data: Vec<u8>) -> Self {
        self.files.push((path.to_owned(), data));
        self
    }

    fn write(self, dir: &Path) -> PathBuf {
        let (dist, rest) = self.name.split_once('-').expect("name-version");
        let version = rest.split('-').next().expect("version");
        let dist_info = format!("{dist}-{version}.dist-info");
        let mut files = self.files;
        if !self.skip_wheel_file {
            files.push((
                format!("{dist_info}/WHEEL"),
                b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: false\nTag: cp311-cp311-linux_x86_64\n".to_vec(),
            ));
        }
        files.push((
            format!("{dist_info}/METADATA"),
            format!("Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n").into_bytes(),
        ));
        let mut record = String::new();
        for (path, data) in &files {
            record.push_str(&format!("{path},{},{}\n", record_hash(data), data.len()));
        }
        record.push_str(&format!("{dist_info}/RECORD,,\n"));
        if let Some(tamper) = &self.tamper {
            record = tamper(record);
        }
        files.push((format!("{dist_info}/RECORD"), record.into_bytes()));
        let path = dir.join(self.name);
        let file = fs_err::File::create(&path).expect("create wheel");
        let mut zip = zip::ZipWriter::new(file);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in &files {
            zip.start_file(name.as_str(), options).expect("start file");
            zip.write_all(data).expect("write");
        }
        zip.finish().expect("finish");
        path
    }
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

#[test]
fn not_a_zip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(X86_64_WHEEL);
    fs_err::write(&path, b"this is not a zip archive at all").expect("write");
    let output = wheelwright().arg("show").arg(&path).output().expect("run");
    assert_one_line_error(&output, X86_64_WHEEL, "zip");
}

#[test]
fn truncated_zip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = WheelSpec::new(X86_64_WHEEL)
        .file("demo/_core.so", fixture("root64/app/basic.so"))
        .write(dir.path());
    let data = fs_err::read(&path).expect("read");
    fs_err::write(&path, &data[..data.len() / 2]).expect("truncate");
    let output = wheelwright().arg("show").arg(&path).output().expect("run");
    assert_one_line_error(&output, X86_64_WHEEL, X86_64_WHEEL);
}

#[test]
fn malformed_filename() {
    let dir = tempfile::tempdir().expect("tempdir");
    let name = "not-a-wheel-name.whl";
    let path = dir.path().join(name);
    fs_err::write(&path, b"PK").expect("write");
    let output = wheelwright().arg("show").arg(&path).output().expect("run");
    assert_one_line_error(&output, name, "filename");
}

#[test]
fn missing_wheel_metadata_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut spec =
        WheelSpec::new(X86_64_WHEEL).file("demo/_core.so", fixture("root64/app/basic.so"));
    spec.skip_wheel_file = true;
    let path = spec.write(dir.path());
    let output = wheelwright().arg("show").arg(&path).output().expect("run");
    assert_one_line_error(&output, X86_64_WHEEL, "WHEEL");
}

#[test]
fn record_hash_mismatch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut spec =
        WheelSpec::new(X86_64_WHEEL).file("demo/_core.so", fixture("root64/app/basic.so"));
    spec.tamper = Some(Box::new(|record: String| {
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
    }));
    let path = spec.write(dir.path());
    let output = wheelwright().arg("show").arg(&path).output().expect("run");
    assert_one_line_error(&output, X86_64_WHEEL, "demo/_core.so");
}

#[test]
fn corrupt_record() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut spec =
        WheelSpec::new(X86_64_WHEEL).file("demo/_core.so", fixture("root64/app/basic.so"));
    spec.tamper = Some(Box::new(|record: String| record.replace("sha256=", "md5=")));
    let path = spec.write(dir.path());
    let output = wheelwright().arg("show").arg(&path).output().expect("run");
    assert_one_line_error(&output, X86_64_WHEEL, "RECORD");
}

#[test]
fn parent_dir_entry() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = WheelSpec::new(X86_64_WHEEL)
        .file("../evil.so", fixture("root64/app/basic.so"))
        .write(dir.path());
    let output = wheelwright().arg("show").arg(&path).output().expect("run");
    assert_one_line_error(&output, X86_64_WHEEL, "..");
}

#[test]
fn absolute_entry() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = WheelSpec::new(X86_64_WHEEL)
        .file("/etc/evil.so", fixture("root64/app/basic.so"))
        .write(dir.path());
    let output = wheelwright().arg("show").arg(&path).output().expect("run");
    assert_one_line_error(&output, X86_64_WHEEL, "/etc/evil.so");
}

#[test]
fn truncated_elf() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = WheelSpec::new(X86_64_WHEEL)
        .file("demo/_core.so", fixture("root64/app/truncated.so"))
        .write(dir.path());
    let output = wheelwright().arg("show").arg(&path).output().expect("run");
    assert_one_line_error(&output, X86_64_WHEEL, "demo/_core.so");
}

#[test]
fn wrong_architecture_elf() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = WheelSpec::new(X86_64_WHEEL)
        .file("demo/_core.so", fixture("root32/app/basic.so"))
        .write(dir.path());
    let output = wheelwright().arg("show").arg(&path).output().expect("run");
    assert_one_line_error(&output, X86_64_WHEEL, "i686");
}

#[test]
fn pure_wheel_is_refused_unless_allowed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let name = "demo-1.0-py3-none-any.whl";
    let path = WheelSpec::new(name)
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
    let path = WheelSpec::new(X86_64_WHEEL)
        .file(
            "demo/fake.cpython-311-x86_64-linux-gnu.so",
            fixture("root64/app/fake.cpython-311-x86_64-linux-gnu.so"),
        )
        .write(dir.path());
    let output = wheelwright()
        .args(["show", "--json"])
        .arg(&path)
        .output()
        .expect("run");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
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
    let good = WheelSpec::new(X86_64_WHEEL)
        .file(
            "demo/fake.cpython-311-x86_64-linux-gnu.so",
            fixture("root64/app/fake.cpython-311-x86_64-linux-gnu.so"),
        )
        .write(dir.path());
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
    let path = WheelSpec::new(X86_64_WHEEL)
        .file(
            "demo/fake.cpython-311-x86_64-linux-gnu.so",
            fixture("root64/app/fake.cpython-311-x86_64-linux-gnu.so"),
        )
        .file("demo/libglibc234.so", fixture("root64/app/libglibc234.so"))
        .write(dir.path());
    let output = wheelwright()
        .args(["show", "--json"])
        .arg(&path)
        .output()
        .expect("run");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
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
    let path = WheelSpec::new(X86_64_WHEEL)
        .file(
            "demo/fake.cpython-311-x86_64-linux-gnu.so",
            fixture("root64/app/fake.cpython-311-x86_64-linux-gnu.so"),
        )
        .write(dir.path());
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
    let path = WheelSpec::new(X86_64_WHEEL)
        .file(
            "demo/fake.cpython-311-x86_64-linux-gnu.so",
            fixture("root64/app/fake.cpython-311-x86_64-linux-gnu.so"),
        )
        .write(dir.path());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/elf/root64");
    let value = show_json(&root, &path);
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
    let good = WheelSpec::new(X86_64_WHEEL)
        .file(
            "demo/fake.cpython-311-x86_64-linux-gnu.so",
            fixture("root64/app/fake.cpython-311-x86_64-linux-gnu.so"),
        )
        .file("demo/libsyms.so", fixture("root64/app/libsyms.so"))
        .write(dir.path());
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

fn repair_fixture_wheel(dir: &Path) -> PathBuf {
    WheelSpec::new(X86_64_WHEEL)
        .file(
            "demo/fake.cpython-311-x86_64-linux-gnu.so",
            fixture("root64/app/fake.cpython-311-x86_64-linux-gnu.so"),
        )
        .file("demo/__init__.py", b"\n".to_vec())
        .write(dir)
}

/// `wheelwright show --json --root ROOT WHEEL`, which must succeed; returns the report.
fn show_json(root: &Path, wheel: &Path) -> serde_json::Value {
    let output = wheelwright()
        .args(["show", "--json", "--root"])
        .arg(root)
        .arg(wheel)
        .output()
        .expect("run");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("json")
}

/// `wheelwright repair --root ROOT -w OUT EXTRA... WHEEL`.
fn repair_in(root: &Path, out: &Path, extra: &[&str], wheel: &Path) -> std::process::Output {
    wheelwright()
        .args(["repair", "--root"])
        .arg(root)
        .arg("-w")
        .arg(out)
        .args(extra)
        .arg(wheel)
        .output()
        .expect("run")
}

/// [`repair_in`] with `--json`, which must succeed; returns the report.
fn repair_json(root: &Path, out: &Path, extra: &[&str], wheel: &Path) -> serde_json::Value {
    let mut args = vec!["--json"];
    args.extend_from_slice(extra);
    let output = repair_in(root, out, &args, wheel);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("json")
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

#[test]
fn repair_grafts_from_a_sysroot() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wheel = repair_fixture_wheel(dir.path());
    let out = dir.path().join("out");
    let output = wheelwright()
        .args(["repair", "--json", "--root"])
        .arg(fixture_root64())
        .arg("-w")
        .arg(&out)
        .arg(&wheel)
        .output()
        .expect("run");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let repaired = PathBuf::from(report["output"].as_str().expect("output"));
    assert!(
        repaired
            .file_name()
            .expect("name")
            .to_string_lossy()
            .contains("manylinux"),
        "{report}"
    );
    let grafted = report["grafted"].as_array().expect("grafted");
    assert_eq!(grafted.len(), 1, "{report}");
    assert_eq!(grafted[0]["soname"], "libbase.so.1");
    let graft_path = grafted[0]["path"].as_str().expect("path").to_owned();
    assert!(
        graft_path.starts_with("demo.libs/libbase-") && graft_path.ends_with(".so.1"),
        "{graft_path}"
    );

    let ext = wheel_elf(&repaired, "demo/fake.cpython-311-x86_64-linux-gnu.so");
    let new_name = graft_path.rsplit('/').next().expect("file name").to_owned();
    assert_eq!(ext.needed, vec![new_name.clone(), "libc.so.6".to_owned()]);
    assert_eq!(ext.rpath.as_deref(), Some("$ORIGIN/../demo.libs"));
    assert_eq!(ext.runpath, None);
    let lib = wheel_elf(&repaired, &graft_path);
    assert_eq!(lib.soname.as_deref(), Some(new_name.as_str()));
    assert_eq!(lib.rpath, None);

    // Auditing the result inside the same root finds nothing external any more.
    let output = wheelwright()
        .args(["show", "--json", "--root"])
        .arg(fixture_root64())
        .arg(&repaired)
        .output()
        .expect("run");
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(value["external_libs"], serde_json::json!({}));

    // Repairing the repaired wheel is a no-op that says so.
    let again = dir.path().join("again");
    let output = wheelwright()
        .args(["repair", "--root"])
        .arg(fixture_root64())
        .arg("-w")
        .arg(&again)
        .arg(&repaired)
        .output()
        .expect("run");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("needs no repair"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let copied = again.join(repaired.file_name().expect("name"));
    assert_eq!(
        fs_err::read(&copied).expect("copy"),
        fs_err::read(&repaired).expect("repaired")
    );
}

/// Section names of a wheel entry.
fn wheel_elf_sections(wheel: &Path, entry: &str) -> Vec<String> {
    let mut archive = wheelwright::wheel::WheelArchive::open(wheel).expect("open output");
    let data = archive.read_entry(entry).expect("entry");
    let elf = goblin::elf::Elf::parse(&data).expect("goblin");
    elf.section_headers
        .iter()
        .map(|sh| elf.shdr_strtab.get_at(sh.sh_name).unwrap_or("").to_owned())
        .collect()
}

#[test]
fn repair_strip_removes_symbols_in_the_same_pass() {
    let dir = tempfile::tempdir().expect("tempdir");
    // An unstripped (-g) extension with RUNPATH $ORIGIN: libvdep.so.1 (verneed VDEP_1.0) is
    // next to it in the wheel, libbase.so.1 is grafted from the root.
    let ext = "demo/debugext.cpython-311-x86_64-linux-gnu.so";
    let original = fixture("edit/64/libdebug.so");
    let wheel = WheelSpec::new(X86_64_WHEEL)
        .file(ext, original.clone())
        .file("demo/libvdep.so.1", fixture("edit/64/libvdep.so.1"))
        .file("demo/__init__.py", b"\n".to_vec())
        .write(dir.path());
    let repair = |out: &Path, strip: bool| {
        let mut cmd = wheelwright();
        cmd.args(["repair", "--json", "--root"])
            .arg(fixture_root64())
            .arg("-w")
            .arg(out)
            .arg(&wheel);
        if strip {
            cmd.arg("--strip");
        }
        let output = cmd.output().expect("run");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
        let graft = report["grafted"][0]["path"]
            .as_str()
            .expect("graft")
            .to_owned();
        (
            PathBuf::from(report["output"].as_str().expect("output")),
            graft,
        )
    };
    let (stripped, graft) = repair(&dir.path().join("strip"), true);
    let new_name = graft.rsplit('/').next().expect("file name").to_owned();
    let info = wheel_elf(&stripped, ext);
    assert_eq!(
        info.needed,
        ["libvdep.so.1", new_name.as_str(), "libc.so.6"]
    );
    assert_eq!(info.rpath.as_deref(), Some("$ORIGIN:$ORIGIN/../demo.libs"));
    assert_eq!(info.runpath, None);
    let vdep = info
        .version_requirements
        .iter()
        .find(|r| r.version == "VDEP_1.0")
        .expect("verneed");
    assert_eq!(
        (vdep.file.as_str(), vdep.symbols.as_slice()),
        ("libvdep.so.1", &["vdep_fn".to_owned()][..])
    );
    assert!(!info.strippable);
    let sections = wheel_elf_sections(&stripped, ext);
    assert!(
        !sections
            .iter()
            .any(|s| s == ".symtab" || s == ".strtab" || s.starts_with(".debug")),
        "{sections:?}"
    );
    assert!(
        sections.iter().any(|s| s == ".gnu_debuglink"),
        "{sections:?}"
    );
    let graft_info = wheel_elf(&stripped, &graft);
    assert_eq!(graft_info.soname.as_deref(), Some(new_name.as_str()));

    // Without --strip the symbols stay; with it the extension is smaller.
    let (kept, _) = repair(&dir.path().join("keep"), false);
    assert!(
        wheel_elf_sections(&kept, ext)
            .iter()
            .any(|s| s == ".symtab")
    );
    let size = |wheel: &Path, entry: &str| {
        wheelwright::wheel::WheelArchive::open(wheel)
            .expect("open")
            .read_entry(entry)
            .expect("entry")
            .len()
    };
    assert!(size(&stripped, ext) + 2000 < size(&kept, ext));
    assert!(size(&stripped, ext) < original.len());

    // Like auditwheel, --strip also strips ELF files that need nothing else: the unstripped
    // repair, repaired again with --strip.
    let output = wheelwright()
        .args(["repair", "--json", "--strip", "--root"])
        .arg(fixture_root64())
        .arg("-w")
        .arg(dir.path().join("later"))
        .arg(&kept)
        .output()
        .expect("run");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(report["grafted"], serde_json::json!([]), "{report}");
    assert_eq!(report["patched"], serde_json::json!([ext]), "{report}");
    let later = PathBuf::from(report["output"].as_str().expect("output"));
    assert!(
        !wheel_elf_sections(&later, ext)
            .iter()
            .any(|s| s == ".symtab")
    );
    assert_eq!(wheel_elf(&later, ext).needed, info.needed);
    // Not smaller, though: the segment that the first repair appended after the debug
    // sections stays where it is, so their bytes stay as dead data (the new tables overwrite
    // the old ones). Stripping in the same pass is what makes the file small.
    assert_eq!(size(&later, ext), size(&kept, ext));

    // Repairing the stripped wheel again with --strip finds nothing to do.
    let again = dir.path().join("again");
    let output = wheelwright()
        .args(["repair", "--strip", "--root"])
        .arg(fixture_root64())
        .arg("-w")
        .arg(&again)
        .arg(&stripped)
        .output()
        .expect("run");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("needs no repair"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn repair_is_deterministic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wheel = repair_fixture_wheel(dir.path());
    let mut outputs = Vec::new();
    for name in ["one", "two"] {
        let out = dir.path().join(name);
        let output = wheelwright()
            .args(["repair", "--root"])
            .arg(fixture_root64())
            .arg("-w")
            .arg(&out)
            .arg(&wheel)
            .output()
            .expect("run");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let path = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        outputs.push(fs_err::read(path).expect("read"));
    }
    assert_eq!(
        outputs[0], outputs[1],
        "repairing twice gives byte-identical wheels"
    );
    assert!(
        fs_err::read_dir(dir.path().join("one"))
            .expect("dir")
            .count()
            == 1,
        "no temporary files left"
    );
}

#[test]
fn repair_missing_library_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wheel = repair_fixture_wheel(dir.path());
    let out = dir.path().join("out");
    let output = wheelwright()
        .args(["repair", "-w"])
        .arg(&out)
        .arg(&wheel)
        .output()
        .expect("run");
    assert_one_line_error(&output, X86_64_WHEEL, "libbase.so.1");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("demo/fake.cpython-311-x86_64-linux-gnu.so"),
        "names the file that needs it: {stderr}"
    );
    assert!(
        !out.exists() || fs_err::read_dir(&out).expect("dir").count() == 0,
        "nothing written"
    );
}

#[test]
fn repair_refuses_a_too_old_target_and_names_the_symbol() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wheel = WheelSpec::new(X86_64_WHEEL)
        .file(
            "demo/fake.cpython-311-x86_64-linux-gnu.so",
            fixture("root64/app/fake.cpython-311-x86_64-linux-gnu.so"),
        )
        .file("demo/libglibc234.so", fixture("root64/app/libglibc234.so"))
        .write(dir.path());
    let output = wheelwright()
        .args(["repair", "--plat", "manylinux2014_x86_64", "--root"])
        .arg(fixture_root64())
        .arg("-w")
        .arg(dir.path().join("out"))
        .arg(&wheel)
        .output()
        .expect("run");
    assert_one_line_error(&output, X86_64_WHEEL, "GLIBC_2.34");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("close_range") && stderr.contains("demo/libglibc234.so"),
        "{stderr}"
    );
}

#[test]
fn repair_rejects_other_architecture_and_bad_output_dir() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wheel = repair_fixture_wheel(dir.path());
    let output = wheelwright()
        .args(["repair", "--plat", "manylinux2014_i686", "-w"])
        .arg(dir.path().join("o"))
        .arg(&wheel)
        .output()
        .expect("run");
    assert_one_line_error(&output, X86_64_WHEEL, "i686");
    // An output "directory" that is a regular file.
    let file = dir.path().join("not-a-dir");
    fs_err::write(&file, b"x").expect("write");
    let output = wheelwright()
        .args(["repair", "--root"])
        .arg(fixture_root64())
        .arg("-w")
        .arg(&file)
        .arg(&wheel)
        .output()
        .expect("run");
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!String::from_utf8_lossy(&output.stderr).contains("panicked"));
    assert_eq!(fs_err::read(&file).expect("file"), b"x", "left alone");
}

/// Copies a directory tree (files and symlinks).
fn copy_tree(from: &Path, to: &Path) {
    fs_err::create_dir_all(to).expect("mkdir");
    for entry in fs_err::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let kind = entry.file_type().expect("type");
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &target);
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(fs_err::read_link(entry.path()).expect("link"), &target)
                .expect("symlink");
        } else {
            fs_err::copy(entry.path(), &target).expect("copy");
        }
    }
}

#[test]
fn repair_grafts_each_file_of_one_soname_like_auditwheel() {
    use wheelwright::elf::edit::{ElfEdits, RpathEdit, edit_in_memory};
    let dir = tempfile::tempdir().expect("tempdir");
    // A sysroot with a second, different libbase.so.1 in /alt.
    let root = dir.path().join("root");
    copy_tree(&fixture_root64(), &root);
    let base = fs_err::read(root.join("usr/lib/libbase.so.1")).expect("libbase");
    let other = edit_in_memory(
        &base,
        &ElfEdits {
            rpath: RpathEdit::Set("/nowhere".into()),
            ..ElfEdits::default()
        },
    )
    .expect("edit");
    fs_err::create_dir_all(root.join("alt")).expect("mkdir");
    fs_err::write(root.join("alt/libbase.so.1"), other).expect("write");
    // The extension finds /usr/lib/libbase.so.1; a second library finds /alt/libbase.so.1.
    let second = edit_in_memory(
        &fixture("root64/app/missing.so"),
        &ElfEdits {
            rpath: RpathEdit::Set("/alt".into()),
            remove_needed: vec!["libnothere.so.1".into()],
            ..ElfEdits::default()
        },
    )
    .expect("edit");
    let wheel = WheelSpec::new(X86_64_WHEEL)
        .file(
            "demo/fake.cpython-311-x86_64-linux-gnu.so",
            fixture("root64/app/fake.cpython-311-x86_64-linux-gnu.so"),
        )
        .file("demo/libsecond.so", second)
        .write(dir.path());

    // `show` names both files.
    let report = show_json(&root, &wheel);
    assert_eq!(
        report["same_soname"],
        serde_json::json!([{"soname": "libbase.so.1", "libraries": ["/usr/lib/libbase.so.1", "/alt/libbase.so.1"]}]),
        "{report}"
    );
    let output = wheelwright()
        .args(["show", "--root"])
        .arg(&root)
        .arg(&wheel)
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("`libbase.so.1` resolves to 2 different files"),
        "{text}"
    );

    // `repair` grafts one copy per file and points each requester at its own copy.
    let report = repair_json(&root, &dir.path().join("out"), &[], &wheel);
    let repaired = PathBuf::from(report["output"].as_str().expect("output"));
    let grafted = report["grafted"].as_array().expect("grafted");
    let copy_of = |source: &str| {
        grafted
            .iter()
            .find(|g| g["source"] == source)
            .and_then(|g| g["path"].as_str())
            .unwrap_or_else(|| panic!("no graft from {source}: {report}"))
            .to_owned()
    };
    let (usr, alt) = (
        copy_of("/usr/lib/libbase.so.1"),
        copy_of("/alt/libbase.so.1"),
    );
    assert_eq!(grafted.len(), 2, "{report}");
    assert_ne!(usr, alt);
    for copy in [&usr, &alt] {
        assert!(
            copy.starts_with("demo.libs/libbase-") && copy.ends_with(".so.1"),
            "{copy}"
        );
        let name = copy.rsplit('/').next().expect("name");
        assert_eq!(wheel_elf(&repaired, copy).soname.as_deref(), Some(name));
    }
    let name = |p: &str| p.rsplit('/').next().expect("name").to_owned();
    let ext = wheel_elf(&repaired, "demo/fake.cpython-311-x86_64-linux-gnu.so");
    assert!(ext.needed.contains(&name(&usr)), "{:?}", ext.needed);
    let lib = wheel_elf(&repaired, "demo/libsecond.so");
    assert!(lib.needed.contains(&name(&alt)), "{:?}", lib.needed);
}

#[test]
fn repair_rejects_mixed_architectures() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wheel = WheelSpec::new(X86_64_WHEEL)
        .file(
            "demo/fake.cpython-311-x86_64-linux-gnu.so",
            fixture("root64/app/fake.cpython-311-x86_64-linux-gnu.so"),
        )
        .file("demo/lib32.so", fixture("root32/app/basic.so"))
        .write(dir.path());
    let output = wheelwright()
        .args(["repair", "-w"])
        .arg(dir.path().join("out"))
        .arg(&wheel)
        .output()
        .expect("run");
    assert_one_line_error(&output, X86_64_WHEEL, "demo/lib32.so");
}

#[test]
fn repair_drops_a_libpython_dependency() {
    use wheelwright::elf::edit::{ElfEdits, edit_in_memory};
    let dir = tempfile::tempdir().expect("tempdir");
    // The fixture extension, made to need libpython like an extension linked against it.
    let ext = edit_in_memory(
        &fixture("root64/app/fake.cpython-311-x86_64-linux-gnu.so"),
        &ElfEdits {
            replace_needed: vec![("libbase.so.1".into(), "libpython3.11.so.1.0".into())],
            ..ElfEdits::default()
        },
    )
    .expect("edit");
    let wheel = WheelSpec::new(X86_64_WHEEL)
        .file("demo/fake.cpython-311-x86_64-linux-gnu.so", ext)
        .write(dir.path());
    let output = wheelwright()
        .args(["repair", "--json", "-w"])
        .arg(dir.path().join("out"))
        .arg(&wheel)
        .output()
        .expect("run");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let repaired = PathBuf::from(report["output"].as_str().expect("output"));
    let info = wheel_elf(&repaired, "demo/fake.cpython-311-x86_64-linux-gnu.so");
    assert_eq!(
        info.needed,
        vec!["libc.so.6".to_owned()],
        "libpython is gone, nothing else changed"
    );
    assert!(report["grafted"].as_array().expect("grafted").is_empty());
}

// ---------------------------------------------------------------------------------------------
// `wheelwright build`: bad input that is caught before any engine runs.

fn democext() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/projects/democext")
}

/// Runs `wheelwright -q build ARGS` and expects exit 1 with exactly one stderr line, an
/// `error:` containing `needle`, and no output directory created.
fn assert_build_refused(args: &[&str], needle: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("wheelhouse");
    let output = wheelwright()
        .args(["-q", "build", "-o"])
        .arg(&out)
        .args(args)
        .env("PATH", "")
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
    // One error line, then at most `hint:` lines.
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(
        !lines.is_empty() && lines[1..].iter().all(|l| l.starts_with("hint: ")),
        "{args:?}: one line expected: {stderr}"
    );
    assert!(lines[0].starts_with("error: "), "{stderr}");
    assert!(
        lines[0].contains(needle),
        "{args:?}: expected `{needle}` in {stderr}"
    );
    assert!(!out.exists(), "{args:?}: the output directory was created");
}

#[test]
fn build_help_describes_the_options() {
    let output = wheelwright()
        .args(["build", "--help"])
        .output()
        .expect("run");
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    for needle in [
        "--archs",
        "--engine",
        "--image-i686",
        "--before-all",
        "--environment-pass",
        "--jobs",
        "--keep-container",
        "--dry-run",
        "no container is started",
        "--enable",
        "Option `before-all`",
        "CLI-only",
        "--container-arg",
        "--build-frontend",
        "--config-setting",
        "--pull",
        "--only",
        "logs/<identifier>.log",
    ] {
        assert!(
            text.contains(needle),
            "`{needle}` missing from build --help:\n{text}"
        );
    }
}

#[test]
fn build_refuses_bad_input_in_one_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nope");
    let democext = democext();
    let democext = democext.to_str().expect("utf-8 path");
    assert_build_refused(&[missing.to_str().expect("utf-8")], "nope` does not exist");
    assert_build_refused(
        &[dir.path().to_str().expect("utf-8")],
        "neither pyproject.toml nor setup.py",
    );
    assert_build_refused(
        &[democext, "--build", "cp3{9,10-*"],
        "`--build`: invalid `build`: `cp3{9,10-*` is not a valid selector pattern",
    );
    assert_build_refused(
        &[democext, "--only", "cp39"],
        "`--only`: invalid `only`: `cp39` is not a build identifier",
    );
    assert_build_refused(
        &[democext, "--archs", "x86_64,sparc"],
        "`--archs`: invalid `archs`: unknown architecture `sparc`",
    );
    assert_build_refused(
        &[democext, "--image-x86_64", "my image"],
        "`--image-x86_64`: invalid `manylinux-x86_64-image`: image reference `my image` contains a space",
    );
    assert_build_refused(
        &[democext, "--image-i686", "manylinux1"],
        "`--image-i686`: invalid `manylinux-i686-image`: `manylinux1` is a retired image name",
    );
    assert_build_refused(
        &[democext, "--environment", "CFLAGS"],
        "`--environment`: invalid `environment`: `CFLAGS` is not an assignment (expected NAME=value)",
    );
    assert_build_refused(
        &[democext, "--environment", "1X=2", "--engine", "host"],
        "`--environment`: invalid `environment`: `1X` is not a valid environment variable name",
    );
    assert_build_refused(
        &[democext, "--build", "cp27-*"],
        "nothing to build: build `cp27-*` (`--build`)",
    );
    // PATH is empty: the engine is not installed.
    assert_build_refused(
        &[democext, "--engine", "podman"],
        "`podman` is not installed",
    );
    assert_build_refused(
        &[democext, "--engine", "docker"],
        "`docker` is not installed",
    );
}

#[test]
fn build_usage_errors_exit_2() {
    for args in [
        &["build", "--jobs", "0"][..],
        &["build", "--engine", "lxc"],
        &["build", "--pull", "sometimes"],
        &["build", "--build-frontend", "poetry"],
    ] {
        let output = wheelwright().args(args).output().expect("run");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
    }
}

/// A project directory holding `pyproject` as its `pyproject.toml`.
fn project_with(pyproject: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    fs_err::write(dir.path().join("pyproject.toml"), pyproject).expect("write");
    dir
}

/// Bad configuration reaches `build` as one line naming where it came from, before any engine
/// is asked (PATH is empty) and before anything is created.
#[test]
fn build_refuses_bad_configuration_in_one_line() {
    let typo =
        project_with("[project]\nname = \"x\"\n\n[tool.wheelwright]\nbefore-bild = \"true\"\n");
    let typo = typo.path().to_str().expect("utf-8").to_owned();
    assert_build_refused(
        &[&typo],
        "pyproject.toml`:5:1: unknown key `before-bild` in [tool.wheelwright] (did you mean `before-build`?)",
    );
    let wrong = project_with("[tool.cibuildwheel]\nbefore-all = 3\n");
    let wrong = wrong.path().to_str().expect("utf-8").to_owned();
    assert_build_refused(
        &[&wrong],
        "pyproject.toml`:2:14: `before-all` in [tool.cibuildwheel] must be a string or an array of strings, not an integer",
    );
    let image = project_with("[tool.wheelwright]\nmanylinux-x86_64-image = \"img;rm -rf /\"\n");
    let image = image.path().to_str().expect("utf-8").to_owned();
    assert_build_refused(
        &[&image],
        "invalid `manylinux-x86_64-image`: image reference `img;rm -rf /` contains `;`",
    );
    let engines = project_with(
        "[tool.wheelwright]\narchs = \"x86_64\"\nbuild = \"cp310-* cp311-*\"\ncontainer-engine = \"podman\"\n\n[[tool.wheelwright.overrides]]\nselect = \"cp311-*\"\ncontainer-engine = \"docker\"\n",
    );
    let engines = engines.path().to_str().expect("utf-8").to_owned();
    assert_build_refused(
        &[&engines],
        "container-engine is `podman` for cp310-manylinux_x86_64",
    );
    let narrow = project_with("[project]\nname = \"x\"\nrequires-python = \">=3.12\"\n");
    let narrow = narrow.path().to_str().expect("utf-8").to_owned();
    assert_build_refused(
        &[&narrow, "--only", "cp39-manylinux_x86_64"],
        "nothing to build: only `cp39-manylinux_x86_64` (`--only`) is excluded by requires-python `>=3.12`",
    );
}

#[test]
fn build_reads_bad_environment_and_action_inputs_as_configuration() {
    for (name, value, needle) in [
        (
            "INPUT_ARCHS",
            "x86_64 sparc",
            "Action input `INPUT_ARCHS`: invalid `archs`: unknown architecture `sparc`",
        ),
        (
            "WHEELWRIGHT_CONTAINER_ENGINE",
            "lxc",
            "environment variable `WHEELWRIGHT_CONTAINER_ENGINE`: invalid `container-engine`: unknown container engine `lxc`",
        ),
        (
            "CIBW_BUILD_FRONTEND",
            "poetry",
            "environment variable `CIBW_BUILD_FRONTEND`: invalid `build-frontend`: unknown build frontend `poetry`",
        ),
        (
            "INPUT_ONLY",
            "cp39-manylinux_sparc",
            "Action input `INPUT_ONLY`: invalid `only`: `cp39-manylinux_sparc` is not a build identifier",
        ),
    ] {
        let output = wheelwright()
            .args(["-q", "build", "--dry-run"])
            .arg(democext())
            .env(name, value)
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{name}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{name}: {stderr}");
        assert!(stderr.contains(needle), "{name}: {stderr}");
    }
}

/// `--dry-run` lists what the configuration selects, narrowed by requires-python, without any
/// engine (PATH is empty) and without creating the output directory.
#[test]
fn build_dry_run_needs_no_engine() {
    let project = project_with(
        "[project]\nname = \"x\"\nrequires-python = \">=3.12\"\n\n[tool.wheelwright]\nskip = \"*-musllinux_*\"\nenable = \"cpython-freethreading\"\n",
    );
    let out = project.path().join("wheelhouse");
    let output = wheelwright()
        .args([
            "build",
            "--dry-run",
            "--archs",
            "x86_64",
            "--engine",
            "podman",
        ])
        .arg(project.path())
        .env("PATH", "")
        .output()
        .expect("run");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "cp312-manylinux_x86_64\ncp313-manylinux_x86_64\ncp313t-manylinux_x86_64\ncp314-manylinux_x86_64\ncp314t-manylinux_x86_64\ncp315-manylinux_x86_64\ncp315t-manylinux_x86_64\n"
    );
    assert!(!out.exists());
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

    let mut spec = WheelSpec::new(X86_64_WHEEL).file(ext_path, ext()).file(
        "demo-1.0.dist-info/WHEEL",
        b"Wheel-Version: 9.0\nRoot-Is-Purelib: false\nTag: cp311-cp311-linux_x86_64\n".to_vec(),
    );
    spec.skip_wheel_file = true;
    cases.push((
        spec.write(&sub("major")),
        "Wheel-Version: 9.0",
        "wheel-version",
    ));

    let two = WheelSpec::new(X86_64_WHEEL)
        .file(ext_path, ext())
        .file(
            "other-2.0.dist-info/METADATA",
            b"Metadata-Version: 2.1\nName: other\nVersion: 2.0\n".to_vec(),
        )
        .write(&sub("two"));
    cases.push((two, "more than one `.dist-info` directory", "dist-info"));

    // A wheel renamed to another version: its `.dist-info` says 1.0.
    let renamed = WheelSpec::new(X86_64_WHEEL)
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

#[test]
fn malformed_wheels_are_refused_by_show_repair_and_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (wheel, needle, code) in malformed_wheels(dir.path()) {
        let name = wheel
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let output = wheelwright()
            .args(["show", "--root"])
            .arg(fixture_root64())
            .arg(&wheel)
            .output()
            .expect("run");
        assert_one_line_error(&output, &name, needle);

        let out = dir.path().join("out");
        let output = repair_in(&fixture_root64(), &out, &[], &wheel);
        assert_one_line_error(&output, &name, needle);
        let written: Vec<_> = fs_err::read_dir(&out)
            .map(|d| d.map(|e| e.expect("entry").file_name()).collect())
            .unwrap_or_default();
        assert!(written.is_empty(), "{name}: nothing written: {written:?}");

        let output = wheelwright()
            .arg("check")
            .arg(&wheel)
            .output()
            .expect("run");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(1), "{name}: {stdout}");
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
    let mut spec = WheelSpec::new(X86_64_WHEEL)
        .file(
            "demo/fake.cpython-311-x86_64-linux-gnu.so",
            fixture("root64/app/fake.cpython-311-x86_64-linux-gnu.so"),
        )
        .file(
            "demo-1.0.dist-info/WHEEL",
            b"Wheel-Version: 1.9\nRoot-Is-Purelib: false\nTag: cp311-cp311-linux_x86_64\n".to_vec(),
        );
    spec.skip_wheel_file = true;
    let wheel = spec.write(dir.path());
    let output = wheelwright()
        .args(["show", "--root"])
        .arg(fixture_root64())
        .arg(&wheel)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning: ") && stderr.contains("`Wheel-Version: 1.9` is newer"),
        "{stderr}"
    );
    let output = wheelwright()
        .arg("check")
        .arg(&wheel)
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains(": warning: wheel-version: "), "{stdout}");
}

#[test]
fn repair_writes_an_sbom_of_the_grafted_libraries() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The fixture sysroot with a dpkg database that owns libbase.
    let root = dir.path().join("root");
    copy_tree(&fixture_root64(), &root);
    fs_err::create_dir_all(root.join("var/lib/dpkg/info")).expect("mkdir");
    fs_err::write(
        root.join("etc/os-release"),
        "ID=debian\nVERSION_ID=\"11\"\n",
    )
    .expect("write");
    fs_err::write(
        root.join("var/lib/dpkg/status"),
        "Package: libbase1\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:2.0+dfsg-1\n",
    )
    .expect("write");
    fs_err::write(
        root.join("var/lib/dpkg/info/libbase1:amd64.list"),
        "/.\n/usr/lib/libbase.so.1\n",
    )
    .expect("write");
    // The wheel already carries an SBOM of its own: it stays.
    let own_sbom = br#"{"bomFormat":"CycloneDX","specVersion":"1.5","version":1}"#.to_vec();
    let wheel = WheelSpec::new(X86_64_WHEEL)
        .file(
            "demo/fake.cpython-311-x86_64-linux-gnu.so",
            fixture("root64/app/fake.cpython-311-x86_64-linux-gnu.so"),
        )
        .file(
            "demo-1.0.dist-info/sboms/builder.cdx.json",
            own_sbom.clone(),
        )
        .write(dir.path());
    let repair =
        |out: &str, extra: &[&str]| repair_json(&root, &dir.path().join(out), extra, &wheel);
    let report = repair("out", &[]);
    let sbom_entry = "demo-1.0.dist-info/sboms/wheelwright.cdx.json";
    assert_eq!(report["sbom"], sbom_entry, "{report}");
    let repaired = PathBuf::from(report["output"].as_str().expect("output"));
    let mut archive = wheelwright::wheel::WheelArchive::open(&repaired).expect("open");
    archive
        .verify_all()
        .expect("RECORD lists and hashes the SBOM");
    assert!(
        archive
            .record()
            .entries
            .iter()
            .any(|e| e.path == sbom_entry)
    );
    assert_eq!(
        archive
            .read_entry("demo-1.0.dist-info/sboms/builder.cdx.json")
            .expect("kept"),
        own_sbom
    );
    let sbom: serde_json::Value =
        serde_json::from_slice(&archive.read_entry(sbom_entry).expect("sbom")).expect("json");
    let name = repaired
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let wheel_purl = format!("pkg:pypi/demo@1.0?file_name={name}");
    assert_eq!(sbom["metadata"]["component"]["purl"], wheel_purl.as_str());
    let lib = &sbom["components"][1];
    assert_eq!(lib["name"], "libbase1");
    assert_eq!(lib["version"], "1:2.0+dfsg-1");
    assert_eq!(lib["purl"], "pkg:deb/debian/libbase1@1%3A2.0%2Bdfsg-1");
    let sha256 = wheelwright::publish::dist::hex(&sha2::Sha256::digest(
        fs_err::read(root.join("usr/lib/libbase.so.1")).expect("lib"),
    ));
    assert_eq!(lib["hashes"][0]["content"], sha256.as_str());
    let property = |key: &str| {
        lib["properties"]
            .as_array()
            .expect("properties")
            .iter()
            .find(|p| p["name"] == key)
            .map(|p| p["value"].clone())
    };
    assert_eq!(property("wheelwright:soname"), Some("libbase.so.1".into()));
    assert_eq!(
        property("wheelwright:grafted-from"),
        Some("/usr/lib/libbase.so.1".into())
    );
    assert_eq!(
        property("wheelwright:path-in-wheel"),
        Some(report["grafted"][0]["path"].clone())
    );

    // Deterministic: a second repair gives the same bytes.
    let again = repair("again", &[]);
    assert_eq!(
        fs_err::read(again["output"].as_str().expect("output")).expect("read"),
        fs_err::read(&repaired).expect("read")
    );

    // --no-sbom leaves it out.
    let report = repair("nosbom", &["--no-sbom"]);
    assert_eq!(report["sbom"], serde_json::Value::Null);
    let archive = wheelwright::wheel::WheelArchive::open(Path::new(
        report["output"].as_str().expect("output"),
    ))
    .expect("open");
    assert!(archive.entry(sbom_entry).is_none());
}

#[test]
fn repair_outputs_keep_the_input_mode() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let mode = |p: &Path| fs_err::metadata(p).expect("metadata").permissions().mode() & 0o777;
    let set = |p: &Path, m: u32| {
        fs_err::set_permissions(p, std::fs::Permissions::from_mode(m)).expect("chmod")
    };
    let run = |wheel: &Path, out: &str, extra: &[&str]| -> PathBuf {
        let report = repair_json(&fixture_root64(), &dir.path().join(out), extra, wheel);
        PathBuf::from(report["output"].as_str().expect("output"))
    };
    // A repaired wheel keeps the input's mode.
    let wheel = repair_fixture_wheel(dir.path());
    set(&wheel, 0o644);
    let repaired = run(&wheel, "repaired", &[]);
    assert_eq!(mode(&repaired), 0o644, "repaired");
    // A wheel that needs no repair is copied with its mode (not a temporary file's 0600).
    for m in [0o644, 0o664] {
        set(&repaired, m);
        let copied = run(&repaired, &format!("copied-{m:o}"), &[]);
        assert_eq!(mode(&copied), m, "copied");
    }
    // So is a pure wheel passed through.
    let pure_dir = dir.path().join("pure");
    fs_err::create_dir_all(&pure_dir).expect("mkdir");
    let pure = WheelSpec::new("purepkg-1.0-py3-none-any.whl").write(&pure_dir);
    set(&pure, 0o644);
    let copied = run(&pure, "pure-out", &["--allow-pure-python-wheel"]);
    assert_eq!(mode(&copied), 0o644, "pure");
}
