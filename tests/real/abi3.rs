//! The abi3 audit against abi3audit (PyPI, from the tool venv; what cibuildwheel 4 runs as
//! `abi3audit --strict` on every abi3 wheel): both tools run on the same wheels and must reach the
//! same verdict per `.so` file and name the same symbols with the same versions.
//!
//! Wheels: every `*-abi3-*` wheel of the pinned corpus (tests/corpus/wheels.lock: cryptography,
//! psutil, pyzmq, bcrypt, argon2-cffi-bindings; fetched by scripts/fetch-corpus.sh) and wheels
//! built here with gcc (x86_64 and i686) whose extensions call a function that joined the Limited
//! API after the version the tag claims, or one that is not in it at all.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::oracle::{corpus_wheels, wheel_from_entries};
use crate::support::{run_ok, testbed, wheelwright};

/// One `.so` file's verdict: (ok, symbols outside the stable ABI, `{newer symbol: version}`).
type Verdict = (bool, Vec<String>, BTreeMap<String, String>);

/// `{file name: [verdict]}` (a list: two files may share a name in different directories).
type Verdicts = BTreeMap<String, Vec<Verdict>>;

fn abi3audit(wheel: &Path) -> Verdicts {
    let output = testbed()
        .command("abi3audit")
        .args(["--strict", "--report"])
        .arg(wheel)
        .env("NO_COLOR", "1")
        .output()
        .expect("run abi3audit");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "abi3audit gave no JSON report for {} ({e}):\n{}",
            wheel.display(),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let mut verdicts = Verdicts::new();
    let specs = report["specs"].as_object().expect("specs");
    for spec in specs.values() {
        for object in spec["wheel"].as_array().expect("wheel results") {
            let result = &object["result"];
            let mut non_abi3: Vec<String> = result["non_abi3_symbols"]
                .as_array()
                .expect("non_abi3_symbols")
                .iter()
                .map(|s| s.as_str().expect("symbol").to_owned())
                .collect();
            non_abi3.sort();
            let future: BTreeMap<String, String> = result["future_abi3_objects"]
                .as_object()
                .expect("future_abi3_objects")
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().expect("version").to_owned()))
                .collect();
            let ok = result["is_abi3"] == true && result["is_abi3_baseline_compatible"] == true;
            verdicts
                .entry(object["name"].as_str().expect("name").to_owned())
                .or_default()
                .push((ok, non_abi3, future));
        }
    }
    for list in verdicts.values_mut() {
        list.sort();
    }
    // Its exit status is the overall verdict.
    let all_ok = verdicts.values().flatten().all(|v| v.0);
    assert_eq!(
        output.status.success(),
        all_ok,
        "abi3audit's exit status and report disagree for {}",
        wheel.display()
    );
    verdicts
}

fn wheelwright_abi3(wheel: &Path) -> (Verdicts, Value) {
    let output = run_ok(wheelwright().args(["show", "--json"]).arg(wheel));
    let report: Value = serde_json::from_slice(&output.stdout).expect("json");
    let abi3 = report["abi3"].clone();
    let mut verdicts = Verdicts::new();
    for file in abi3["files"].as_array().expect("abi3.files") {
        let path = file["path"].as_str().expect("path");
        let name = path.rsplit('/').next().unwrap_or(path).to_owned();
        let non_abi3: Vec<String> = file["non_abi3_symbols"]
            .as_array()
            .expect("non_abi3_symbols")
            .iter()
            .map(|s| s.as_str().expect("symbol").to_owned())
            .collect();
        let newer: BTreeMap<String, String> = file["newer_symbols"]
            .as_array()
            .expect("newer_symbols")
            .iter()
            .map(|n| {
                (
                    n["symbol"].as_str().expect("symbol").to_owned(),
                    n["added"].as_str().expect("added").to_owned(),
                )
            })
            .collect();
        let ok = non_abi3.is_empty() && newer.is_empty();
        verdicts
            .entry(name)
            .or_default()
            .push((ok, non_abi3, newer));
    }
    for list in verdicts.values_mut() {
        list.sort();
    }
    (verdicts, abi3)
}

fn corpus_abi3_wheels() -> Vec<PathBuf> {
    corpus_wheels()
        .into_iter()
        .filter(|w| {
            w.file_name()
                .is_some_and(|n| n.to_string_lossy().contains("-abi3-"))
        })
        .collect()
}

/// C sources of the crafted extensions: declarations only (no Python headers needed), the way
/// an extension built without `Py_LIMITED_API` (or with a too-high one) references them.
const CRAFTED: &[(&str, &str)] = &[
    (
        "clean",
        "extern int PyArg_ParseTuple(void *, const char *, ...);\n\
         extern void *Py_BuildValue(const char *, ...);\n\
         void *PyInit__clean(void) { return PyArg_ParseTuple(0, \"\") ? Py_BuildValue(\"\") : 0; }\n",
    ),
    (
        "newer",
        "extern void *PyFrame_GetCode(void *);\n\
         extern void *PyType_GetModuleByDef(void *, void *);\n\
         extern void *Py_BuildValue(const char *, ...);\n\
         void *PyInit__newer(void) { return PyFrame_GetCode(0) ? PyType_GetModuleByDef(0, 0) : Py_BuildValue(\"\"); }\n",
    ),
    (
        "private",
        "extern int _PyUnicode_Ready(void *);\n\
         extern void *_PyObject_GetDictPtr(void *);\n\
         extern void *PyFrame_GetCode(void *);\n\
         void *PyInit__private(void) { return _PyUnicode_Ready(0) ? _PyObject_GetDictPtr(0) : PyFrame_GetCode(0); }\n",
    ),
];

/// Builds `crafted-1.0-cp39-abi3-linux_<machine>.whl` (all three extensions) and
/// `cleanonly-1.0-cp39-abi3-linux_<machine>.whl` with gcc (`-m64` or `-m32`).
fn crafted_wheels(dir: &Path, bits: &str, machine: &str) -> (PathBuf, PathBuf) {
    let mut built = Vec::new();
    for (name, source) in CRAFTED {
        let c = dir.join(format!("{name}{bits}.c"));
        let so = dir.join(format!("_{name}{bits}.abi3.so"));
        // A libc call, so that the extension needs libc.so.6 (its libc is then known).
        let libc = "extern unsigned long strlen(const char *);\n\
                    unsigned long crafted_len(const char *s) { return strlen(s); }\n";
        fs_err::write(&c, format!("{libc}{source}")).expect("write source");
        run_ok(
            Command::new("gcc")
                .args([
                    &format!("-m{bits}"),
                    "-shared",
                    "-fPIC",
                    "-O1",
                    "-Wl,--no-as-needed",
                    "-o",
                ])
                .arg(&so)
                .arg(&c),
        );
        built.push((
            format!("crafted/_{name}.abi3.so"),
            fs_err::read(&so).expect("read extension"),
        ));
    }
    let clean = vec![built[0].clone()];
    let crafted = wheel_from_entries(
        dir,
        &format!("crafted-1.0-cp39-abi3-linux_{machine}.whl"),
        built,
    );
    let cleanonly = wheel_from_entries(
        dir,
        &format!("cleanonly-1.0-cp39-abi3-linux_{machine}.whl"),
        clean,
    );
    (crafted, cleanonly)
}

#[test]
fn abi3_audit_agrees_with_abi3audit() {
    let scratch = tempfile::Builder::new()
        .prefix("ww-abi3-")
        .tempdir()
        .expect("tempdir");
    let mut wheels = corpus_abi3_wheels();
    assert!(wheels.len() >= 5, "abi3 corpus: {wheels:?}");
    let (crafted64, clean64) = crafted_wheels(scratch.path(), "64", "x86_64");
    let (crafted32, clean32) = crafted_wheels(scratch.path(), "32", "i686");
    wheels.extend([crafted64.clone(), clean64, crafted32, clean32]);

    let mut problems = Vec::new();
    let mut failing = Vec::new();
    for wheel in &wheels {
        let name = wheel
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let oracle = abi3audit(wheel);
        let (ours, _) = wheelwright_abi3(wheel);
        if oracle.is_empty() {
            problems.push(format!("{name}: abi3audit audited nothing"));
        }
        if oracle != ours {
            problems.push(format!(
                "{name}:\n  abi3audit:   {oracle:?}\n  wheelwright: {ours:?}"
            ));
        }
        if oracle.values().flatten().any(|v| !v.0) {
            failing.push(name);
        }
    }
    assert!(
        problems.is_empty(),
        "{} disagreement(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
    // Both verdicts occur: the crafted wheels fail, their clean variants pass (x86_64 and
    // i686). (psutil 5.9.8 fails too: it defines its own `PyErr_SetFromOSErrnoWithSyscall`.)
    for machine in ["x86_64", "i686"] {
        assert!(failing.contains(&format!("crafted-1.0-cp39-abi3-linux_{machine}.whl")));
        assert!(!failing.contains(&format!("cleanonly-1.0-cp39-abi3-linux_{machine}.whl")));
    }

    // What the crafted wheel's report says, in wheelwright's own words.
    let (_, abi3) = wheelwright_abi3(&crafted64);
    assert_eq!(abi3["claimed"], "3.9");
    assert_eq!(abi3["computed"], "3.13");
    let output = run_ok(wheelwright().arg("show").arg(&crafted64));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("`PyType_GetModuleByDef` is in the Limited API from Python 3.13 only")
            && text.contains("not in the Limited API: `_PyObject_GetDictPtr`, `_PyUnicode_Ready`"),
        "{text}"
    );
}

#[test]
fn repair_refuses_an_abi3_wheel_that_breaks_its_promise() {
    let scratch = tempfile::Builder::new()
        .prefix("ww-abi3-repair-")
        .tempdir()
        .expect("tempdir");
    let (crafted, clean) = crafted_wheels(scratch.path(), "64", "x86_64");
    let out = scratch.path().join("out");
    let output = wheelwright()
        .args(["repair", "-w"])
        .arg(&out)
        .arg(&crafted)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let error = stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_default();
    for needle in [
        "crafted-1.0-cp39-abi3-linux_x86_64.whl",
        "`crafted/_newer.abi3.so` uses `PyFrame_GetCode` (Limited API 3.10)",
        "`PyType_GetModuleByDef` (Limited API 3.13)",
        "`_PyUnicode_Ready` (not in the Limited API)",
        "--no-abi3-audit",
    ] {
        assert!(error.contains(needle), "`{needle}` in: {stderr}");
    }
    let written = fs_err::read_dir(&out).map(Iterator::count).unwrap_or(0);
    assert_eq!(written, 0, "nothing written");

    // Skipped on request (the flag, or the environment a build passes into its container); a
    // clean abi3 wheel passes without asking.
    run_ok(
        wheelwright()
            .args(["repair", "--no-abi3-audit", "--plat", "linux_x86_64", "-w"])
            .arg(&out)
            .arg(&crafted),
    );
    run_ok(
        wheelwright()
            .args(["repair", "--plat", "linux_x86_64", "-w"])
            .arg(scratch.path().join("env"))
            .arg(&crafted)
            .env("WHEELWRIGHT_NO_ABI3_AUDIT", "1"),
    );
    run_ok(
        wheelwright()
            .args(["repair", "--plat", "linux_x86_64", "-w"])
            .arg(&out)
            .arg(&clean),
    );
}
