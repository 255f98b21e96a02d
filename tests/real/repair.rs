//! `wheelwright repair` against `auditwheel repair` (6.8.2, the oracle) on the fixture projects,
//! then the repaired wheels installed into fresh venvs in the clean runtime images (no compiler,
//! no libdemo, no LD_LIBRARY_PATH) and their smoke tests run — x86_64 and i686 (under linux32).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::oracle::wheel_from_entries;
use crate::repair_support::{
    Arch, EXCLUDED_ENV, Fixtures, Install, SmokeOptions, Where, assert_klayout_regression_facts,
    assert_smoke_ok, auditwheel_repair, build_fixtures, elf_facts, install_and_smoke,
    install_and_smoke_on_host, install_and_smoke_with, run_in_build_image, smoke_script,
    wheel_entries,
};
use crate::support::wheelwright;

/// Runs `wheelwright repair` and returns the output wheel.
fn wheelwright_repair(
    wheel: &Path,
    out_dir: &Path,
    ld_library_path: &Path,
    extra: &[&str],
) -> PathBuf {
    let output = wheelwright()
        .args(["repair", "--json", "-w"])
        .arg(out_dir)
        .arg(wheel)
        .args(extra)
        .env(
            "LD_LIBRARY_PATH",
            fs_err::canonicalize(ld_library_path).expect("lib dir"),
        )
        .output()
        .expect("run wheelwright");
    assert!(
        output.status.success(),
        "wheelwright repair {} failed:\n{}",
        wheel.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    PathBuf::from(report["output"].as_str().expect("output path"))
}

fn wheel_tags(wheel: &Path) -> BTreeSet<String> {
    let archive = wheelwright::wheel::WheelArchive::open(wheel).expect("open");
    archive.wheel_info().tags.iter().cloned().collect()
}

/// File entries, without directories and auditwheel's SBOM.
fn files(wheel: &Path) -> BTreeSet<String> {
    wheel_entries(wheel)
        .into_iter()
        .filter(|e| !e.ends_with('/') && !e.contains(".dist-info/sboms/"))
        .collect()
}

/// Compares the two repaired wheels: name, tags, files, and every ELF file's SONAME, NEEDED,
/// RPATH and RUNPATH (read back with binutils' readelf).
fn assert_same_repair(label: &str, ours: &Path, oracle: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    if ours.file_name() != oracle.file_name() {
        problems.push(format!(
            "{label}: file name {:?} vs auditwheel {:?}",
            ours.file_name(),
            oracle.file_name()
        ));
    }
    if wheel_tags(ours) != wheel_tags(oracle) {
        problems.push(format!(
            "{label}: WHEEL tags {:?} vs auditwheel {:?}",
            wheel_tags(ours),
            wheel_tags(oracle)
        ));
    }
    let (a, b) = (files(ours), files(oracle));
    if a != b {
        problems.push(format!(
            "{label}: files only in ours {:?}, only in auditwheel's {:?}",
            a.difference(&b).collect::<Vec<_>>(),
            b.difference(&a).collect::<Vec<_>>()
        ));
    }
    let (ours_elf, oracle_elf): (BTreeMap<_, _>, BTreeMap<_, _>) =
        (elf_facts(ours), elf_facts(oracle));
    for (entry, facts) in &oracle_elf {
        match ours_elf.get(entry) {
            Some(mine) if mine == facts => {}
            Some(mine) => problems.push(format!(
                "{label}: `{entry}`: ours {mine:?}\n      auditwheel {facts:?}"
            )),
            None => problems.push(format!("{label}: `{entry}` missing from ours")),
        }
    }
    problems
}

fn repair_both(
    label: &str,
    fixtures: &Fixtures,
    scratch: &Path,
    problems: &mut Vec<String>,
) -> (PathBuf, PathBuf) {
    let lib = fixtures.lib_dir();
    let aw_out = scratch.join(format!("{label}-auditwheel"));
    let ww_out = scratch.join(format!("{label}-wheelwright"));
    let exclude = ["--exclude", "libexcludeme.so.1"];
    let aw_k = auditwheel_repair(&fixtures.klayoutish, &aw_out, Some(&lib), &[]);
    let aw_n = auditwheel_repair(&fixtures.neuronish, &aw_out, Some(&lib), &exclude);
    let ww_k = wheelwright_repair(&fixtures.klayoutish, &ww_out, &lib, &[]);
    let ww_n = wheelwright_repair(&fixtures.neuronish, &ww_out, &lib, &exclude);
    problems.extend(assert_same_repair(
        &format!("{label} klayoutish"),
        &ww_k,
        &aw_k,
    ));
    problems.extend(assert_same_repair(
        &format!("{label} neuronish"),
        &ww_n,
        &aw_n,
    ));
    (ww_k, ww_n)
}

#[test]
fn repair_matches_auditwheel_and_the_wheels_work() {
    let host = build_fixtures(Where::Host, Arch::Amd64);
    let amd64 = build_fixtures(Where::Image, Arch::Amd64);
    let i386 = build_fixtures(Where::Image, Arch::I386);
    let scratch = tempfile::Builder::new()
        .prefix("ww-repair-")
        .tempdir()
        .expect("tempdir");
    let mut problems = Vec::new();
    let (host_k, host_n) = repair_both("host", &host, scratch.path(), &mut problems);
    let (amd64_k, amd64_n) = repair_both("amd64", &amd64, scratch.path(), &mut problems);
    let (i386_k, i386_n) = repair_both("i386", &i386, scratch.path(), &mut problems);
    assert!(
        problems.is_empty(),
        "{} difference(s) from auditwheel:\n{}",
        problems.len(),
        problems.join("\n")
    );

    // The KLayout regression (repair.md §6.4) on our own output.
    for k in [&host_k, &amd64_k, &i386_k] {
        assert_klayout_regression_facts(k);
    }

    // Installed in clean runtime images without the libraries, the smoke tests pass.
    for (k, n, arch) in [
        (&amd64_k, &amd64_n, Arch::Amd64),
        (&i386_k, &i386_n, Arch::I386),
    ] {
        let out = install_and_smoke(k, arch, &smoke_script("klayoutish"), &[]);
        assert_smoke_ok(&format!("klayoutish {arch:?}"), &out, "klayoutish ok");
        let excluded = [EXCLUDED_ENV, ("NEURONISH_SMOKE", "full")];
        let fixtures = if arch == Arch::Amd64 { &amd64 } else { &i386 };
        let mounts = [fixtures.excluded_mount()];
        let neuronish = |install| {
            install_and_smoke_with(
                n,
                arch,
                &smoke_script("neuronish"),
                &SmokeOptions {
                    env: &excluded,
                    mounts: &mounts,
                    install,
                },
            )
        };
        let out = neuronish(Install::Venv);
        assert_smoke_ok(&format!("neuronish {arch:?}"), &out, "neuronish ok");
        // Beyond auditwheel: the moved executable's launcher also works for `pip install --user`.
        let out = neuronish(Install::User);
        assert_smoke_ok(&format!("neuronish {arch:?} --user"), &out, "neuronish ok");
    }
    let out = install_and_smoke_on_host(&host_k, &smoke_script("klayoutish"), &[]);
    assert_smoke_ok("klayoutish host", &out, "klayoutish ok");
    let _ = host_n;
}

#[test]
fn repair_refuses_too_new_glibc_like_auditwheel() {
    let host = build_fixtures(Where::Host, Arch::Amd64);
    let newglibc = host
        .newglibc
        .clone()
        .expect("newglibc is built on the host");
    let scratch = tempfile::Builder::new()
        .prefix("ww-newglibc-")
        .tempdir()
        .expect("tempdir");
    let lib = fs_err::canonicalize(host.lib_dir()).expect("lib dir");
    let output = wheelwright()
        .args(["repair", "--plat", "manylinux_2_17_x86_64", "-w"])
        .arg(scratch.path().join("out"))
        .arg(&newglibc)
        .env("LD_LIBRARY_PATH", &lib)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("GLIBC_2.34") && stderr.contains("close_range"),
        "names the version and symbol: {stderr}"
    );
    assert!(
        !scratch.path().join("out").exists()
            || fs_err::read_dir(scratch.path().join("out"))
                .expect("dir")
                .count()
                == 0,
        "nothing written"
    );
    // `auto` gives the same tag as auditwheel.
    let ours = wheelwright_repair(&newglibc, &scratch.path().join("ww"), &lib, &[]);
    let oracle = auditwheel_repair(&newglibc, &scratch.path().join("aw"), Some(&lib), &[]);
    let problems = assert_same_repair("newglibc", &ours, &oracle);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn repair_on_a_full_disk_leaves_nothing_behind() {
    // A 64 KiB tmpfs as the output directory; the repaired wheel is larger than that.
    let scratch = tempfile::Builder::new()
        .prefix("ww-full-")
        .tempdir()
        .expect("tempdir");
    let mount = scratch.path().join("small");
    let _tmpfs = crate::faults::Tmpfs::mount(&mount, "size=64k");

    // A wheel with an incompressible payload and an extension that needs a library from the
    // fixture sysroot (so it must be rewritten).
    let root = crate::support::repo().join("tests/fixtures/elf/root64");
    let mut payload = vec![0u8; 256 * 1024];
    let mut state: u32 = 1;
    for b in &mut payload {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        *b = (state >> 24) as u8;
    }
    let wheel = crate::faults::repairable_wheel(scratch.path(), payload);
    let output = wheelwright()
        .args(["repair", "--root"])
        .arg(&root)
        .arg("-w")
        .arg(&mount)
        .arg(&wheel)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.contains("No space left on device"),
        "the error says why: {stderr}"
    );
    assert!(
        stderr.contains(&format!("`{}/demo-1.0-", mount.display())),
        "the error names the path: {stderr}"
    );
    let left: Vec<_> = fs_err::read_dir(&mount)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert!(
        left.is_empty(),
        "nothing left in the full output directory: {left:?}"
    );
}

/// The C sources of the same-SONAME case: two different `libdup.so.1` (returning 1 and 2) and
/// two extensions, each finding one of them through its own RUNPATH.
fn dupsoname_sources(dir: &Path) {
    for (name, value) in [("a", 1), ("b", 2)] {
        fs_err::write(
            dir.join(format!("libdup_{name}.c")),
            format!("int dup_value(void) {{ return {value}; }}\n"),
        )
        .expect("write");
        fs_err::write(
            dir.join(format!("ext_{name}.c")),
            format!(
                "#include <Python.h>\n\
                 extern int dup_value(void);\n\
                 static PyObject *value(PyObject *self, PyObject *args) {{ return PyLong_FromLong(dup_value()); }}\n\
                 static PyMethodDef methods[] = {{{{\"value\", value, METH_NOARGS, NULL}}, {{NULL, NULL, 0, NULL}}}};\n\
                 static struct PyModuleDef def = {{PyModuleDef_HEAD_INIT, \"ext_{name}\", NULL, -1, methods}};\n\
                 PyMODINIT_FUNC PyInit_ext_{name}(void) {{ return PyModule_Create(&def); }}\n"
            ),
        )
        .expect("write");
    }
}

/// Builds `dupsoname-1.0-cp39-cp39-linux_<machine>.whl` in the build image of `arch`; the two
/// libraries stay in `dir/a` and `dir/b`, where the extensions' RUNPATHs point.
fn dupsoname_wheel(dir: &Path, arch: Arch) -> PathBuf {
    dupsoname_sources(dir);
    let d = fs_err::canonicalize(dir).expect("dir");
    let d = d.display();
    let suffix = match arch {
        Arch::Amd64 => "cpython-39-x86_64-linux-gnu.so",
        Arch::I386 => "cpython-39-i386-linux-gnu.so",
    };
    run_in_build_image(
        arch,
        dir,
        &format!(
            "cd {d}\n\
             for x in a b; do\n\
               mkdir -p $x\n\
               gcc -shared -fPIC -O1 -Wl,-soname,libdup.so.1 -o $x/libdup.so.1 libdup_$x.c\n\
               gcc -shared -fPIC -O1 -I/usr/include/python3.9 -o ext_$x.{suffix} ext_$x.c \
                 -Wl,--no-as-needed -L$x -l:libdup.so.1 -Wl,--enable-new-dtags,-rpath,{d}/$x\n\
             done\n"
        ),
    );
    let entries = ["a", "b"]
        .iter()
        .map(|x| {
            (
                format!("dupsoname/ext_{x}.{suffix}"),
                fs_err::read(dir.join(format!("ext_{x}.{suffix}"))).expect("extension"),
            )
        })
        .chain([("dupsoname/__init__.py".to_owned(), b"".to_vec())])
        .collect();
    wheel_from_entries(
        dir,
        &format!("dupsoname-1.0-cp39-cp39-linux_{}.whl", arch.wheel_machine()),
        entries,
    )
}

#[test]
fn repair_grafts_one_soname_from_two_files_like_auditwheel() {
    let scratch = tempfile::Builder::new()
        .prefix("ww-dupsoname-")
        .tempdir()
        .expect("tempdir");
    let smoke = scratch.path().join("smoke.py");
    fs_err::write(
        &smoke,
        "from dupsoname import ext_a, ext_b\n\
         assert (ext_a.value(), ext_b.value()) == (1, 2), (ext_a.value(), ext_b.value())\n\
         print('dupsoname ok')\n",
    )
    .expect("smoke");
    for arch in [Arch::Amd64, Arch::I386] {
        let dir = scratch.path().join(arch.name());
        fs_err::create_dir_all(&dir).expect("mkdir");
        let wheel = dupsoname_wheel(&dir, arch);
        // `show` names both files.
        let output = crate::support::run_ok(wheelwright().args(["show", "--json"]).arg(&wheel));
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
        assert_eq!(
            report["same_soname"][0]["libraries"]
                .as_array()
                .map(Vec::len),
            Some(2),
            "{report}"
        );

        let oracle = auditwheel_repair(&wheel, &dir.join("aw"), None, &[]);
        let output = crate::support::run_ok(
            wheelwright()
                .args(["repair", "--json", "-w"])
                .arg(dir.join("ww"))
                .arg(&wheel),
        );
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
        let ours = PathBuf::from(report["output"].as_str().expect("output"));
        let problems = assert_same_repair(&format!("dupsoname {arch:?}"), &ours, &oracle);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        // Two copies, one per file, each extension pointing at its own.
        let grafted: Vec<&str> = report["grafted"]
            .as_array()
            .expect("grafted")
            .iter()
            .map(|g| g["path"].as_str().expect("path"))
            .collect();
        assert_eq!(grafted.len(), 2, "{report}");
        let facts = elf_facts(&ours);
        let copy_of = |x: &str| {
            let ext = facts
                .iter()
                .find(|(k, _)| k.contains(&format!("/ext_{x}.")))
                .map(|(_, v)| v)
                .expect("extension");
            grafted
                .iter()
                .find(|g| ext.needed.iter().any(|n| g.ends_with(&format!("/{n}"))))
                .unwrap_or_else(|| panic!("ext_{x} needs no grafted copy: {ext:?}"))
                .to_owned()
        };
        assert_ne!(
            copy_of("a"),
            copy_of("b"),
            "each extension has its own copy"
        );

        // In the clean runtime image each extension gets its own library.
        let out = install_and_smoke(&ours, arch, &smoke, &[]);
        assert_smoke_ok(&format!("dupsoname {arch:?}"), &out, "dupsoname ok");
        let out = install_and_smoke(&oracle, arch, &smoke, &[]);
        assert_smoke_ok(
            &format!("dupsoname {arch:?} (auditwheel)"),
            &out,
            "dupsoname ok",
        );
    }
}
