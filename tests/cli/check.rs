//! `wheelwright check` on a corpus of crafted distributions: one per rule, each rejected with
//! the expected code and message, and good ones that pass. The files are written by the test.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::wheelwright;

use crate::support::dists::{self, Wheel, metadata, simple_sdist};

const RST_OK: &str = "Demo\n====\n\nA *demo* with a `link <https://example.org>`_.\n";

/// A good manylinux wheel with a reStructuredText description.
fn good_wheel(dir: &Path) -> PathBuf {
    let meta = metadata(
        "demo",
        "1.0",
        "Summary: A demo\nDescription-Content-Type: text/x-rst\nRequires-Python: >=3.8\n\
         License-Expression: MIT\nLicense-File: LICENSE\nProject-URL: Source, https://example.org/demo\n\
         Requires-Dist: numpy>=1.20; python_version >= \"3.9\"",
        RST_OK,
    );
    Wheel::new(
        "demo-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        meta,
    )
    .file("demo-1.0.dist-info/licenses/LICENSE", b"MIT\n")
    .write(dir)
}

/// Which rule a finding is: the severity follows from it and the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// Broken, or refused everywhere: an error for every target.
    Error,
    /// PyPI's own rule: an error for PyPI, a warning for other indexes.
    Pypi,
    /// PyPI only warns (or bad practice): a warning everywhere.
    Warning,
}

use Rule::{Error, Pypi, Warning};

/// Each crafted bad file, with the codes `check` must report for it, the rule class and a
/// fragment of each message.
struct Case {
    file: PathBuf,
    expected: Vec<(&'static str, Rule, &'static str)>,
}

fn md(name: &str, version: &str, headers: &str) -> String {
    metadata(
        name,
        version,
        &format!("Description-Content-Type: text/markdown\n{headers}"),
        "# Demo\n",
    )
}

fn bad_cases(dir: &Path) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut case = |file: PathBuf, expected: Vec<(&'static str, Rule, &'static str)>| {
        cases.push(Case { file, expected });
    };
    case(
        Wheel::new(
            "linux-1.0-cp311-cp311-linux_x86_64.whl",
            md("linux", "1.0", ""),
        )
        .write(dir),
        vec![(
            "platform-tag",
            Pypi,
            "platform tag `linux_x86_64` is not accepted by PyPI",
        )],
    );
    case(
        Wheel::new("i686-1.0-cp311-cp311-linux_i686.whl", md("i686", "1.0", "")).write(dir),
        vec![("platform-tag", Pypi, "`linux_i686`")],
    );
    case(
        Wheel::new("othername-1.0-py3-none-any.whl", md("realname", "1.0", "")).write(dir),
        vec![(
            "filename-name",
            Error,
            "METADATA says `Name: realname`; the file name must start with `realname`",
        )],
    );
    case(
        Wheel::new("Foo.Bar-1.0-py3-none-any.whl", md("foo-bar", "1.0", "")).write(dir),
        vec![(
            "filename-normalization",
            Warning,
            "should start with the normalized project name `foo_bar`, not `Foo.Bar`",
        )],
    );
    case(
        Wheel::new("version-1.0-py3-none-any.whl", md("version", "1.1", "")).write(dir),
        vec![(
            "filename-version",
            Error,
            "the file name has version `1.0`, but METADATA says `Version: 1.1`",
        )],
    );
    case(
        Wheel::new(
            "mv-1.0-py3-none-any.whl",
            md("mv", "1.0", "").replace("Metadata-Version: 2.4", "Metadata-Version: 2.0"),
        )
        .write(dir),
        vec![(
            "metadata-version",
            Error,
            "`Metadata-Version: 2.0` is not accepted by PyPI",
        )],
    );
    case(
        Wheel::new(
            "noname-1.0-py3-none-any.whl",
            md("noname", "1.0", "").replace("Name: noname\n", ""),
        )
        .write(dir),
        vec![("missing-field", Error, "`Name` is missing")],
    );
    case(
        Wheel::new(
            "badver-1.0-py3-none-any.whl",
            md("badver", "one-point-oh!", ""),
        )
        .write(dir),
        vec![(
            "invalid-version",
            Error,
            "`Version: one-point-oh!` is not a valid PEP 440 version",
        )],
    );
    case(
        Wheel::new(
            "local-1.0+build5-py3-none-any.whl",
            md("local", "1.0+build5", ""),
        )
        .write(dir),
        vec![("local-version", Pypi, "local version label")],
    );
    case(
        Wheel::new(
            "lic-1.0-py3-none-any.whl",
            md("lic", "1.0", "License: MIT\nLicense-Expression: MIT"),
        )
        .write(dir),
        vec![(
            "license-conflict",
            Pypi,
            "`License` and `License-Expression` are both set",
        )],
    );
    case(
        Wheel::new(
            "oldmeta-1.0-py3-none-any.whl",
            md("oldmeta", "1.0", "License-Expression: MIT")
                .replace("Metadata-Version: 2.4", "Metadata-Version: 2.3"),
        )
        .write(dir),
        vec![(
            "field-version",
            Error,
            "`License-Expression` was introduced in metadata version 2.4",
        )],
    );
    case(
        Wheel::new(
            "licfile-1.0-py3-none-any.whl",
            md("licfile", "1.0", "License-File: COPYING"),
        )
        .write(dir),
        vec![(
            "license-file",
            Error,
            "expected `licfile-1.0.dist-info/licenses/COPYING`",
        )],
    );
    case(
        Wheel::new(
            "html-1.0-py3-none-any.whl",
            metadata(
                "html",
                "1.0",
                "Description-Content-Type: text/html",
                "<p>x</p>",
            ),
        )
        .write(dir),
        vec![(
            "content-type",
            Error,
            "the type must be `text/plain`, `text/x-rst` or `text/markdown`",
        )],
    );
    case(
        Wheel::new(
            "variant-1.0-py3-none-any.whl",
            metadata(
                "variant",
                "1.0",
                "Description-Content-Type: text/markdown; variant=Obsidian",
                "# x\n",
            ),
        )
        .write(dir),
        vec![(
            "content-type",
            Error,
            "must be `GFM` or `CommonMark`, not `Obsidian`",
        )],
    );
    case(
        Wheel::new(
            "rst-1.0-py3-none-any.whl",
            metadata("rst", "1.0", "", "A title\n=====\n\nText.\n"),
        )
        .write(dir),
        vec![(
            "description",
            Pypi,
            "(reStructuredText, the default without `Description-Content-Type`) will not render \
             on PyPI: line 2: Title underline too short.",
        )],
    );
    case(
        Wheel::new(
            "rstref-1.0-py3-none-any.whl",
            metadata(
                "rstref",
                "1.0",
                "Description-Content-Type: text/x-rst",
                "See :ref:`usage` and the docs_.\n",
            ),
        )
        .write(dir),
        vec![
            (
                "description",
                Pypi,
                "line 1: Unknown interpreted text role \"ref\".",
            ),
            (
                "description",
                Pypi,
                "line 1: Unknown target name: \"docs\".",
            ),
        ],
    );
    case(
        Wheel::new("nowheel-1.0-py3-none-any.whl", md("nowheel", "1.0", ""))
            .omit("WHEEL")
            .write(dir),
        vec![(
            "wheel-file",
            Error,
            "`nowheel-1.0.dist-info/WHEEL` is missing",
        )],
    );
    case(
        Wheel::new("norecord-1.0-py3-none-any.whl", md("norecord", "1.0", ""))
            .omit("RECORD")
            .write(dir),
        vec![(
            "record-missing",
            Error,
            "`norecord-1.0.dist-info/RECORD` is missing",
        )],
    );
    case(
        Wheel::new("nometa-1.0-py3-none-any.whl", md("nometa", "1.0", ""))
            .omit("METADATA")
            .write(dir),
        vec![(
            "metadata-missing",
            Error,
            "`nometa-1.0.dist-info/METADATA` is missing",
        )],
    );
    let mut tampered = Wheel::new("hash-1.0-py3-none-any.whl", md("hash", "1.0", ""));
    // The hash of empty content, for a file that is not empty.
    tampered.tamper_record = Some(|record| {
        record
            .lines()
            .map(|line| match line.split_once(',') {
                Some(("pkg/__init__.py", _)) => {
                    "pkg/__init__.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,10"
                        .to_owned()
                }
                _ => line.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
    });
    case(
        tampered.write(dir),
        vec![(
            "record",
            Error,
            "RECORD hash mismatch for `pkg/__init__.py`",
        )],
    );
    let mut trailing = Wheel::new("trailing-1.0-py3-none-any.whl", md("trailing", "1.0", ""));
    trailing.tamper_bytes = Some(|mut bytes| {
        bytes.extend_from_slice(b"appended");
        bytes
    });
    case(
        trailing.write(dir),
        vec![(
            "zip",
            Error,
            "PyPI does not accept this ZIP structure: Trailing data",
        )],
    );
    let mut descriptor = Wheel::new(
        "descriptor-1.0-py3-none-any.whl",
        md("descriptor", "1.0", ""),
    );
    // Sets the "sizes in a data descriptor" flag in the first local header.
    descriptor.tamper_bytes = Some(|mut bytes| {
        bytes[6] |= 0x08;
        bytes
    });
    case(
        descriptor.write(dir),
        vec![("zip", Pypi, "ZIP contains a data descriptor")],
    );
    let not_zip = dir.join("notzip-1.0-py3-none-any.whl");
    fs_err::write(&not_zip, b"this is not a zip file").unwrap();
    case(not_zip, vec![("zip", Error, "not a valid zip archive")]);
    case(
        Wheel::new("parts-1.0-py3-any.whl", md("parts", "1.0", "")).write(dir),
        vec![("filename", Error, "is not a valid wheel file name")],
    );
    case(
        Wheel::new(
            "direct-1.0-py3-none-any.whl",
            md(
                "direct",
                "1.0",
                "Requires-Dist: other @ https://example.org/other-1.0.tar.gz",
            ),
        )
        .write(dir),
        vec![("requires-dist", Pypi, "is a direct URL dependency")],
    );
    // Sdists.
    case(
        simple_sdist(
            dir,
            "Upper-1.0.tar.gz",
            "Upper-1.0",
            &md("Upper", "1.0", ""),
        ),
        vec![(
            "filename-normalization",
            Pypi,
            "the file name must be `upper-1.0.tar.gz` (PEP 625)",
        )],
    );
    case(
        dists::sdist(
            dir,
            "nopkginfo-1.0.tar.gz",
            &[
                ("nopkginfo-1.0/setup.py", b""),
                ("nopkginfo-1.0/README", b""),
            ],
        ),
        vec![(
            "metadata-missing",
            Error,
            "`nopkginfo-1.0/PKG-INFO` is missing",
        )],
    );
    case(
        dists::sdist(
            dir,
            "twotop-1.0.tar.gz",
            &[("a/PKG-INFO", b""), ("b/setup.py", b"")],
        ),
        vec![("tar", Error, "do not share one top-level directory")],
    );
    let not_tar = dir.join("nottar-1.0.tar.gz");
    fs_err::write(&not_tar, b"plain text").unwrap();
    case(not_tar, vec![("tar", Error, "not a")]);
    let zip_sdist = dir.join("zipped-1.0.zip");
    fs_err::write(&zip_sdist, b"PK").unwrap();
    case(
        zip_sdist,
        vec![("file-type", Pypi, "`.zip` sdists are no longer accepted")],
    );
    let egg = dir.join("old-1.0-py3.8.egg");
    fs_err::write(&egg, b"").unwrap();
    case(
        egg,
        vec![(
            "file-type",
            Error,
            "not a wheel (`.whl`) or an sdist (`.tar.gz`)",
        )],
    );
    cases
}

fn check_json(args: &[&std::ffi::OsStr]) -> (Option<i32>, Value, String) {
    // No `~/.pypirc` of the machine decides what `--repository pypi` means.
    let home = tempfile::tempdir().unwrap();
    let output = wheelwright()
        .env("HOME", home.path())
        .arg("check")
        .arg("--json")
        .args(args)
        .output()
        .expect("run wheelwright check");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "no panic: {stderr}");
    let json: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("JSON on stdout ({e}): {stdout}\nstderr: {stderr}"));
    (output.status.code(), json, stderr)
}

/// One finding of `check --json`.
#[derive(Debug)]
struct Found<'a> {
    code: &'a str,
    severity: &'a str,
    scope: &'a str,
    message: &'a str,
}

fn problems_of<'a>(json: &'a Value, file: &Path) -> Vec<Found<'a>> {
    json["problems"]
        .as_array()
        .expect("problems array")
        .iter()
        .filter(|p| p["file"].as_str() == Some(file.to_str().expect("UTF-8 path")))
        .map(|p| Found {
            code: p["code"].as_str().expect("code"),
            severity: p["severity"].as_str().expect("severity"),
            scope: p["scope"].as_str().expect("scope"),
            message: p["message"].as_str().expect("message"),
        })
        .collect()
}

/// The severity `check` must give a rule's finding: for PyPI (`--repository pypi`), for any
/// other index, and with `--strict`.
fn severity(rule: Rule, mode: &str) -> &'static str {
    match (rule, mode) {
        (_, "strict") | (Error, _) | (Pypi, "pypi") => "error",
        _ => "warning",
    }
}

#[test]
fn check_rejects_each_crafted_distribution_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let cases = bad_cases(dir.path());
    let good = good_wheel(dir.path());
    let mut failures = Vec::new();
    for (mode, extra) in [
        ("pypi", &["--repository", "pypi"][..]),
        ("testpypi", &["--repository", "testpypi"][..]),
        ("any", &[][..]),
        ("strict", &["--strict"][..]),
    ] {
        let mode = if mode == "testpypi" { "pypi" } else { mode };
        let mut args: Vec<&std::ffi::OsStr> = extra.iter().map(std::ffi::OsStr::new).collect();
        args.extend(cases.iter().map(|c| c.file.as_os_str()));
        args.push(good.as_os_str());
        let (code, json, stderr) = check_json(&args);
        assert_eq!(
            code,
            Some(1),
            "{mode}: exit 1 with errors; stderr: {stderr}"
        );
        assert!(stderr.contains("error: "), "summary on stderr: {stderr}");
        assert!(
            problems_of(&json, &good).is_empty(),
            "{mode}: the good wheel passes: {json}"
        );
        for case in &cases {
            let found = problems_of(&json, &case.file);
            let codes: Vec<&str> = found.iter().map(|f| f.code).collect();
            let expected: Vec<&str> = case.expected.iter().map(|(c, _, _)| *c).collect();
            if codes != expected {
                failures.push(format!(
                    "{mode}: {}: codes {codes:?}, expected {expected:?}; {found:?}",
                    case.file.display()
                ));
                continue;
            }
            for (found, (_, rule, fragment)) in found.iter().zip(&case.expected) {
                let want_scope = if *rule == Pypi { "pypi" } else { "all" };
                if !found.message.contains(fragment)
                    || found.severity != severity(*rule, mode)
                    || found.scope != want_scope
                {
                    failures.push(format!(
                        "{mode}: {}: {found:?}, expected {rule:?} (`{}`, scope `{want_scope}`) \
                         with `{fragment}`",
                        case.file.display(),
                        severity(*rule, mode)
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The files PyPI accepts with a warning pass (exit 0) everywhere, fail with `--strict`;
/// PyPI's own rules fail only for PyPI.
#[test]
fn check_warnings_pass_and_pypi_rules_fail_only_for_pypi() {
    let dir = tempfile::tempdir().unwrap();
    // Like MarkupSafe 2.1.5's wheels on PyPI: the file name keeps the project's spelling.
    let unnormalized = Wheel::new(
        "MarkupSafe-2.1.5-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        md("MarkupSafe", "2.1.5", ""),
    )
    .write(dir.path());
    // An ELF file in a pure wheel: bad practice, a warning.
    let pure = Wheel::new("purebin-1.0-py3-none-any.whl", md("purebin", "1.0", ""))
        .file(
            "purebin/_speedups.so",
            b"\x7fELF\x02\x01\x01\0rest-of-an-elf-file",
        )
        .write(dir.path());
    let run = |args: &[&str], file: &Path| {
        let output = wheelwright()
            .env("HOME", dir.path())
            .arg("check")
            .args(args)
            .arg(file)
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    for target in [&[][..], &["--repository", "pypi"][..]] {
        let (code, stdout, stderr) = run(target, &unnormalized);
        assert_eq!(code, Some(0), "{target:?}: {stdout}{stderr}");
        assert_eq!(
            stdout.trim(),
            format!(
                "{}: warning: filename-normalization: the file name should start with the \
                 normalized project name `markupsafe`, not `MarkupSafe` (PEP 427/PEP 503; PyPI \
                 accepts it with a warning and installers accept it)",
                unnormalized.display()
            )
        );
        assert_eq!(stderr.trim(), "Checked 1 file: no errors, 1 warning");
        let (code, stdout, _) = run(target, &pure);
        assert_eq!(code, Some(0), "{stdout}");
        assert!(
            stdout.contains(
                "warning: binary-in-pure-wheel: compiled code (ELF) in a wheel tagged `none-any` \
                 (for every platform and Python): `purebin/_speedups.so`"
            ),
            "{stdout}"
        );
    }
    let (code, stdout, stderr) = run(&["--strict"], &unnormalized);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains(": error: filename-normalization: "),
        "{stdout}"
    );
    assert_eq!(stderr.trim(), "error: 1 error in 1 file of 1 checked");

    // `linux_x86_64`: fine for a private index, refused by PyPI.
    let linux = Wheel::new(
        "demo-1.0-cp311-cp311-linux_x86_64.whl",
        md("demo", "1.0", ""),
    )
    .write(dir.path());
    let (code, stdout, stderr) = run(&[], &linux);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains(
            ": warning: platform-tag: platform tag `linux_x86_64` is not accepted by PyPI"
        ),
        "{stdout}"
    );
    assert_eq!(
        stderr.trim(),
        "Checked 1 file: no errors, 1 warning\nhint: 1 warning is one of PyPI's own rules, which \
         are errors with `--repository pypi` and when publishing to PyPI or TestPyPI"
    );
    for target in ["pypi", "testpypi"] {
        let (code, stdout, stderr) = run(&["--repository", target], &linux);
        assert_eq!(code, Some(1), "{target}: {stdout}{stderr}");
        assert!(stdout.contains(": error: platform-tag: "), "{stdout}");
    }
    // Another index by URL: PyPI's rules stay warnings.
    let (code, _, stderr) = run(&["--repository", "http://127.0.0.1:9/"], &linux);
    assert_eq!(code, Some(0), "{stderr}");
    let (code, _, stderr) = run(&["--repository", "pipy"], &linux);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("unknown repository `pipy`"), "{stderr}");
}

#[test]
fn check_passes_good_distributions_with_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    good_wheel(dir.path());
    Wheel::new("demo-1.0.0-py3-none-any.whl", md("Demo", "1.0", "")).write(dir.path());
    simple_sdist(
        dir.path(),
        "demo-1.0.tar.gz",
        "demo-1.0",
        &md("Demo", "1.0", ""),
    );
    let output = wheelwright().arg("check").arg(dir.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(output.stdout.is_empty(), "no problems printed");
    assert_eq!(stderr.trim(), "Checked 3 files: no problems found");
}

#[test]
fn check_text_lists_every_problem_and_cross_file_rules() {
    let dir = tempfile::tempdir().unwrap();
    let first = simple_sdist(
        dir.path(),
        "demo-1.0.tar.gz",
        "demo-1.0",
        &md("demo", "1.0", ""),
    );
    let second = simple_sdist(
        dir.path(),
        "demo-1.0.0.tar.gz",
        "demo-1.0.0",
        &md("demo", "1.0.0", ""),
    );
    let other = dir.path().join("other");
    fs_err::create_dir(&other).unwrap();
    let copy = other.join("demo-1.0.tar.gz");
    fs_err::copy(&first, &copy).unwrap();
    let big = Wheel::new("demo-1.0-py3-none-any.whl", md("demo", "1.0", "")).write(&other);
    let size = fs_err::metadata(&big).unwrap().len();
    let output = wheelwright()
        .arg("check")
        .args(["--max-size", &(size - 1).to_string()])
        .args([&first, &second, &copy, &big])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(
        lines[0].starts_with(&format!(
            "{}: warning: duplicate-sdist: `{}` is already an sdist of demo 1.0.0",
            second.display(),
            first.display()
        )),
        "{stdout}"
    );
    assert!(
        lines[1].starts_with(&format!(
            "{}: error: duplicate-file: `{}` has the same file name",
            copy.display(),
            first.display()
        )),
        "{stdout}"
    );
    assert!(
        lines[2].starts_with(&format!(
            "{}: error: file-size: {size} bytes is over the index's limit",
            big.display()
        )),
        "{stdout}"
    );
    assert_eq!(
        stderr.trim(),
        "error: 2 errors in 2 files of 4 checked (and 1 warning)\nhint: 1 warning is one of \
         PyPI's own rules, which are errors with `--repository pypi` and when publishing to PyPI \
         or TestPyPI"
    );
}

#[test]
fn check_needs_something_to_check() {
    let dir = tempfile::tempdir().unwrap();
    let output = wheelwright().arg("check").arg(dir.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr.trim(),
        format!(
            "error: no distributions (`.whl`, `.tar.gz`) in `{}`",
            dir.path().display()
        )
    );
    let missing = dir.path().join("missing");
    let output = wheelwright().arg("check").arg(&missing).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr.trim(),
        format!("error: `{}`: no such file or directory", missing.display())
    );
}

#[test]
fn check_help_names_the_options() {
    let output = wheelwright().args(["check", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0));
    for needle in [
        "Usage: wheelwright check [OPTIONS] [FILE|DIR]...",
        "--json",
        "--max-size <BYTES>",
        "--repository <NAME_OR_URL>",
        "--strict",
        "[default: wheelhouse]",
    ] {
        assert!(help.contains(needle), "`{needle}` in:\n{help}");
    }
}
