//! `wheelwright repair` against the committed fixture sysroot: grafting, stripping, the SBOM,
//! determinism, and the errors a user meets.

use std::path::{Path, PathBuf};

use crate::support::assert_success;
use crate::support::dists::Wheel;
use sha2::Digest as _;

use crate::{
    X86_64_WHEEL, assert_one_line_error, extension_wheel, fixture, fixture_root64,
    repair_fixture_wheel, repair_in, repair_json, show_json, wheel_elf, wheelwright,
};

#[test]
fn repair_grafts_from_a_sysroot() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wheel = repair_fixture_wheel(dir.path());
    let out = dir.path().join("out");
    let report = repair_json(&fixture_root64(), &out, &[], &wheel);
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
    let value = show_json(&fixture_root64(), &repaired);
    assert_eq!(value["external_libs"], serde_json::json!({}));

    // Repairing the repaired wheel is a no-op that says so.
    let again = dir.path().join("again");
    let output = repair_in(&fixture_root64(), &again, &[], &repaired);
    assert_success(&output);
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
    let wheel = Wheel::bare(X86_64_WHEEL)
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
        assert_success(&output);
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
    let output = repair_in(&fixture_root64(), &again, &["--strip"], &stripped);
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
        let output = repair_in(&fixture_root64(), &out, &[], &wheel);
        assert_success(&output);
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
    let wheel = extension_wheel()
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
    let output = repair_in(&fixture_root64(), &file, &[], &wheel);
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
    let wheel = extension_wheel()
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
    let wheel = extension_wheel()
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
    let wheel = Wheel::bare(X86_64_WHEEL)
        .file("demo/fake.cpython-311-x86_64-linux-gnu.so", ext)
        .write(dir.path());
    let output = wheelwright()
        .args(["repair", "--json", "-w"])
        .arg(dir.path().join("out"))
        .arg(&wheel)
        .output()
        .expect("run");
    assert_success(&output);
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
    let wheel = extension_wheel()
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
    let pure = Wheel::bare("purepkg-1.0-py3-none-any.whl").write(&pure_dir);
    set(&pure, 0o644);
    let copied = run(&pure, "pure-out", &["--allow-pure-python-wheel"]);
    assert_eq!(mode(&copied), 0o644, "pure");
}
