//! Oracle tests: `wheelwright show --json` against `auditwheel show --json` (auditwheel 6.8.2 from
//! the tool venv), run side by side on the same wheels in the same environment. Nothing here
//! hard-codes auditwheel's answers: both tools run and their JSON is compared field by field.
//!
//! Wheels: the pinned corpus of real PyPI wheels (tests/corpus/wheels.lock, fetched by
//! scripts/fetch-corpus.sh), the example C-extension project built on the host (x86_64) and in the
//! i386 test image (i686), and wheels assembled from the committed ELF fixtures (unresolvable
//! dependencies, a too-new glibc symbol version, a non-extension root library).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

use crate::support::bed::corpus_files;
use crate::support::dists::Wheel;
use crate::support::{repo, run_ok, testbed, wheelwright};

/// The fields that mean the same in both tools (auditwheel's whole `show --json` object).
const COMPARED: &[&str] = &[
    "overall_tag",
    "sym_tag",
    "pyfpe",
    "ucs2",
    "unsupported_isa",
    "versioned_symbols",
    "external_libs",
    "policy_upgrades",
];

struct Case {
    wheel: PathBuf,
    ld_library_path: Option<PathBuf>,
}

fn normalize(mut value: Value) -> Value {
    // Paths: compare the files, not how each tool spells them (auditwheel follows only the last
    // symlink of a path, wheelwright all of them).
    if let Some(Value::Object(libs)) = value.get_mut("external_libs") {
        for path in libs.values_mut() {
            if let Value::String(p) = path {
                if let Ok(real) = std::fs::canonicalize(&p) {
                    *p = real.display().to_string();
                }
            }
        }
    }
    value
}

/// `TOOL show --json` of the case's wheel (with its `LD_LIBRARY_PATH`), as JSON.
fn show_json_of(tool: &str, mut cmd: std::process::Command, case: &Case) -> Result<Value, String> {
    cmd.args(["show", "--json"]).arg(&case.wheel);
    if let Some(dir) = &case.ld_library_path {
        cmd.env("LD_LIBRARY_PATH", dir);
    }
    let output = cmd
        .output()
        .map_err(|e| format!("cannot run {tool}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{tool} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| format!("{tool} JSON: {e}"))
}

fn auditwheel_show(case: &Case) -> Result<Value, String> {
    show_json_of("auditwheel", testbed().command("auditwheel"), case)
}

fn wheelwright_show(case: &Case) -> Result<Value, String> {
    show_json_of("wheelwright", wheelwright(), case)
}

/// Both tools agree on every case.
fn assert_tools_agree(cases: &[Case]) {
    let problems = compare_all(cases);
    assert!(
        problems.is_empty(),
        "{} disagreement(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Compares both tools on every case (two at a time); returns the disagreements.
fn compare_all(cases: &[Case]) -> Vec<String> {
    let next = AtomicUsize::new(0);
    let problems = Mutex::new(Vec::new());
    let rows = Mutex::new(BTreeMap::new());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(case) = cases.get(i) else { break };
                let name = case.wheel.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
                let label = if case.ld_library_path.is_some() { format!("{name} (LD_LIBRARY_PATH)") } else { name };
                let result = auditwheel_show(case).and_then(|aw| wheelwright_show(case).map(|ww| (aw, ww)));
                match result {
                    Err(e) => problems.lock().expect("lock").push(format!("{label}: {e}")),
                    Ok((aw, ww)) => {
                        let (aw, ww) = (normalize(aw), normalize(ww));
                        for field in COMPARED {
                            if aw.get(field) != ww.get(field) {
                                problems.lock().expect("lock").push(format!(
                                    "{label}: `{field}` differs\n  auditwheel:  {}\n  wheelwright: {}",
                                    aw.get(field).map(Value::to_string).unwrap_or_default(),
                                    ww.get(field).map(Value::to_string).unwrap_or_default()
                                ));
                            }
                        }
                        rows.lock().expect("lock").insert(label, ww["overall_tag"].as_str().unwrap_or("?").to_owned());
                    }
                }
            });
        }
    });
    let mut stderr = std::io::stderr().lock();
    for (label, tag) in rows.into_inner().expect("lock") {
        let _ = writeln!(stderr, "  {tag:<28} {label}");
    }
    problems.into_inner().expect("lock")
}

/// The wheels of tests/corpus/wheels.lock in the test bed's cache (fetched by
/// scripts/fetch-corpus.sh).
pub(crate) fn corpus_wheels() -> Vec<PathBuf> {
    corpus_files("wheels.lock")
}

#[test]
fn show_agrees_with_auditwheel_on_the_pypi_corpus() {
    let wheels = corpus_wheels();
    assert!(wheels.len() >= 20, "the corpus has {} wheels", wheels.len());
    let cases: Vec<Case> = wheels
        .into_iter()
        .map(|wheel| Case {
            wheel,
            ld_library_path: None,
        })
        .collect();
    assert_tools_agree(&cases);
}

/// Builds the example project's wheel on the host with the tool venv's Python.
fn build_example_on_host(out: &Path) -> (PathBuf, PathBuf) {
    let bed = testbed();
    let python = bed.venv.join("bin/python");
    let output = run_ok(
        bed.command("bash")
            .arg(repo().join("scripts/build-example-wheel.sh"))
            .arg(out)
            .arg(&python),
    );
    parse_build_output(&String::from_utf8_lossy(&output.stdout))
}

fn parse_build_output(stdout: &str) -> (PathBuf, PathBuf) {
    let get = |key: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .map(PathBuf::from)
            .unwrap_or_else(|| panic!("no {key}= in {stdout}"))
    };
    (get("WHEEL"), get("DEPS_PREFIX"))
}

/// Builds the example project's wheel in the i386 build image (under linux32).
fn build_example_in_i386_image(out: &Path) -> (PathBuf, PathBuf) {
    let bed = testbed();
    let image = bed
        .env
        .iter()
        .find(|(k, _)| k == "WW_IMAGE_BUILD_I386_REF")
        .map(|(_, v)| v.clone())
        .expect("WW_IMAGE_BUILD_I386_REF");
    fs_err::create_dir_all(out).expect("mkdir");
    let output = run_ok(
        bed.command("podman")
            .args(["run", "--rm", "--network=none", "--arch", "386"])
            .arg("-v")
            .arg(format!("{}:/src:ro", repo().display()))
            .arg("-v")
            .arg(format!("{}:/out", out.display()))
            .arg(&image)
            .args([
                "bash",
                "/src/scripts/build-example-wheel.sh",
                "/out",
                "/opt/python/cp39-cp39/bin/python",
            ]),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let (wheel, deps) = parse_build_output(&stdout);
    let host = |p: PathBuf| out.join(p.strip_prefix("/out").expect("under /out"));
    (host(wheel), host(deps))
}

/// Assembles a wheel from committed fixture ELF files (paths relative to tests/fixtures/elf).
fn fixture_wheel(dir: &Path, name: &str, files: &[(&str, &str)]) -> PathBuf {
    let entries: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|(inside, fixture)| {
            let data =
                fs_err::read(repo().join("tests/fixtures/elf").join(fixture)).expect("fixture");
            ((*inside).to_owned(), data)
        })
        .collect();
    wheel_from_entries(dir, name, entries)
}

/// Writes the wheel `dir/name` holding `entries` plus WHEEL, METADATA and a correct RECORD.
pub(crate) fn wheel_from_entries(
    dir: &Path,
    name: &str,
    entries: Vec<(String, Vec<u8>)>,
) -> PathBuf {
    let mut wheel = Wheel::bare(name);
    wheel.files = entries;
    wheel.write(dir)
}

#[test]
fn show_agrees_with_auditwheel_on_locally_built_wheels() {
    let scratch = tempfile::Builder::new()
        .prefix("ww-oracle-")
        .tempdir()
        .expect("tempdir");
    let (host_wheel, host_deps) = build_example_on_host(&scratch.path().join("host"));
    let (i686_wheel, i686_deps) = build_example_in_i386_image(&scratch.path().join("i686"));
    assert!(
        i686_wheel.to_string_lossy().contains("linux_i686"),
        "{}",
        i686_wheel.display()
    );

    let fixtures = scratch.path().join("fixtures");
    fs_err::create_dir_all(&fixtures).expect("mkdir");
    let crafted64 = fixture_wheel(
        &fixtures,
        "fake-1.0-cp311-cp311-linux_x86_64.whl",
        &[
            (
                "fake/fake.cpython-311-x86_64-linux-gnu.so",
                "root64/app/fake.cpython-311-x86_64-linux-gnu.so",
            ),
            ("fake/libglibc234.so", "root64/app/libglibc234.so"),
            ("fake/libsyms.so", "root64/app/libsyms.so"),
        ],
    );
    let crafted32 = fixture_wheel(
        &fixtures,
        "fake-1.0-cp311-cp311-linux_i686.whl",
        &[
            (
                "fake/fake.cpython-311-i386-linux-gnu.so",
                "root32/app/fake.cpython-311-i386-linux-gnu.so",
            ),
            ("fake/libglibc234.so", "root32/app/libglibc234.so"),
        ],
    );
    let isa = fixture_wheel(
        &fixtures,
        "isa-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
        &[
            (
                "isa/fake.cpython-311-x86_64-linux-gnu.so",
                "root64/app/fake.cpython-311-x86_64-linux-gnu.so",
            ),
            ("isa/libisa_v3.so", "root64/app/libisa_v3.so"),
        ],
    );

    let cases = vec![
        Case {
            wheel: host_wheel.clone(),
            ld_library_path: Some(host_deps.join("lib")),
        },
        Case {
            wheel: host_wheel,
            ld_library_path: None,
        },
        Case {
            wheel: i686_wheel.clone(),
            ld_library_path: Some(i686_deps.join("lib")),
        },
        Case {
            wheel: i686_wheel,
            ld_library_path: None,
        },
        Case {
            wheel: crafted64,
            ld_library_path: None,
        },
        Case {
            wheel: crafted32,
            ld_library_path: None,
        },
        Case {
            wheel: isa,
            ld_library_path: None,
        },
    ];
    assert_tools_agree(&cases);
}

#[test]
fn show_explains_the_non_whitelisted_library() {
    // Beyond auditwheel: the report says where libdemo was found and which file needs it.
    let scratch = tempfile::Builder::new()
        .prefix("ww-explain-")
        .tempdir()
        .expect("tempdir");
    let (wheel, deps) = build_example_on_host(&scratch.path().join("host"));
    let output = run_ok(
        wheelwright()
            .arg("show")
            .arg(&wheel)
            .env("LD_LIBRARY_PATH", deps.join("lib")),
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("libdemo.so.1 => "), "{text}");
    assert!(text.contains("LD_LIBRARY_PATH"), "{text}");
    assert!(text.contains("needed by `democext/_core"), "{text}");
}
