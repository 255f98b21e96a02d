//! `wheelwright check` against real components.
//!
//! * Oracle: `twine check --strict` (twine 7 from the tool venv, which renders descriptions with
//!   readme_renderer and docutils, like PyPI) runs on the same wheels as `wheelwright check`:
//!   a corpus of descriptions (good and bad reStructuredText, Markdown, plain text, bad content
//!   types, `tests/fixtures/descriptions/`) and the real descriptions of every distribution installed in
//!   the tool venv. For each wheel, "renders" must agree. Nothing here hard-codes twine's
//!   answers; the known gaps below are listed explicitly and must keep disagreeing (when one
//!   starts to agree, remove it from the list).
//! * The pinned corpora of real PyPI distributions (`tests/corpus/wheels.lock`, and
//!   `tests/corpus/dists.lock`: the newest wheel and sdist of popular native and pure projects
//!   plus files whose names keep the project's spelling) pass `check` and
//!   `check --repository pypi`: PyPI accepted every one of them. The only findings allowed are
//!   the warnings listed below with the reason.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{repo, testbed, wheelwright};

use crate::support::bed::corpus_files;
use crate::support::dists;

/// Descriptions where docutils reports a problem that `check` does not model (see the
/// module documentation of `crates/rst`).
const KNOWN_GAPS: &[(&str, &str)] = &[(
    "title-devanagari-exact",
    "combining marks outside the combining-diacritics blocks (here the Devanagari virama) \
     count 1 in a title's width; docutils counts 0, so an exact underline looks too short",
)];

/// What twine says about one file.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Twine {
    /// Passed, or failed only for a missing content type or description (warnings).
    Renders,
    /// "`long_description` has syntax errors in markup and would not be rendered on PyPI."
    DoesNotRender,
    /// Refused the metadata (`InvalidDistribution`), with twine's message.
    InvalidMetadata(String),
}

/// Runs `twine check --strict` over `wheels`, restarting after a file twine refuses outright
/// (an invalid-metadata error ends a twine run).
fn twine_check(wheels: &[PathBuf]) -> BTreeMap<String, Twine> {
    let bed = testbed();
    let mut verdicts = BTreeMap::new();
    let mut rest: &[PathBuf] = wheels;
    while !rest.is_empty() {
        let output = bed
            .command("twine")
            .args(["check", "--strict"])
            .args(rest)
            .env("NO_COLOR", "1")
            .env("COLUMNS", "10000")
            .output()
            .expect("run twine check (run scripts/setup-dev.sh)");
        let text = strip_ansi(&format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
        let mut done = 0;
        let mut current: Option<String> = None;
        let flush = |verdicts: &mut BTreeMap<String, Twine>, name: Option<String>, verdict| {
            if let Some(name) = name {
                verdicts.insert(name, verdict);
            }
        };
        let mut pending: Option<Twine> = None;
        let given: Vec<String> = rest.iter().map(|p| p.display().to_string()).collect();
        for line in text.lines() {
            // Only lines naming a file given (descriptions echoed in twine's messages may
            // contain anything).
            let checking = line
                .strip_prefix("Checking ")
                .filter(|l| given.iter().any(|g| l.starts_with(&format!("{g}:"))));
            if let Some(rest_line) = checking {
                if let Some(verdict) = pending.take() {
                    flush(&mut verdicts, current.take(), verdict);
                    done += 1;
                }
                // rich sometimes drops the space after the colon.
                let (name, status) = rest_line
                    .rsplit_once(".whl:")
                    .map_or((rest_line, ""), |(n, s)| (n, s.trim_start()));
                let name = format!("{name}.whl");
                current = Some(file_name(Path::new(&name)));
                // "FAILED due to warnings": only a missing content type or description.
                pending = Some(
                    if status.starts_with("PASSED") || status.starts_with("FAILED due to warnings")
                    {
                        Twine::Renders
                    } else if status.starts_with("FAILED") {
                        Twine::DoesNotRender
                    } else {
                        Twine::InvalidMetadata(status.to_owned())
                    },
                );
            } else if let Some(Twine::InvalidMetadata(message)) = pending.as_mut() {
                message.push(' ');
                message.push_str(line.trim());
            } else if line.contains("long_description` missing") {
                pending = Some(Twine::Renders);
            }
        }
        if let Some(verdict) = pending.take() {
            let invalid = matches!(verdict, Twine::InvalidMetadata(_));
            flush(&mut verdicts, current.take(), verdict);
            done += 1;
            if invalid {
                rest = &rest[done.min(rest.len())..];
                continue;
            }
        }
        assert!(
            done == rest.len(),
            "twine checked {done} of {} files:\n{text}",
            rest.len()
        );
        rest = &[];
    }
    verdicts
}

/// Removes terminal colour sequences (twine colours its verdicts even without a terminal).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            for next in chars.by_ref() {
                if next.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Each file's findings: (code, message).
type Findings = BTreeMap<String, Vec<(String, String)>>;

/// Runs `wheelwright check --json --repository pypi` over `wheels` (twine's verdict is about
/// rendering on PyPI, where a description that does not render is an error); returns each
/// file's problems (code, message).
fn wheelwright_check(wheels: &[PathBuf]) -> Findings {
    wheelwright_check_with(&["--repository", "pypi"], wheels).1
}

/// Runs `wheelwright check --json <args>` over `files`; returns the exit code and each file's
/// findings as (code, message), the severity prefixed to the code for warnings
/// (`warning:filename-normalization`).
fn wheelwright_check_with(args: &[&str], files: &[PathBuf]) -> (Option<i32>, Findings) {
    // No `~/.pypirc` of the machine decides what `--repository pypi` means.
    let home = tempfile::tempdir().expect("tempdir");
    let output = wheelwright()
        .env("HOME", home.path())
        .arg("check")
        .arg("--json")
        .args(args)
        .args(files)
        .output()
        .expect("run wheelwright check");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let json: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("wheelwright check --json: {e}\n{stderr}"));
    let mut problems = Findings::new();
    for file in files {
        problems.insert(file_name(file), Vec::new());
    }
    for problem in json["problems"].as_array().expect("problems") {
        let file = Path::new(problem["file"].as_str().expect("file"));
        let code = problem["code"].as_str().unwrap_or_default();
        let code = match problem["severity"].as_str() {
            Some("warning") => format!("warning:{code}"),
            _ => code.to_owned(),
        };
        problems.entry(file_name(file)).or_default().push((
            code,
            problem["message"].as_str().unwrap_or_default().to_owned(),
        ));
    }
    (output.status.code(), problems)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .expect("file name")
        .to_string_lossy()
        .into_owned()
}

/// The description corpus, `tests/fixtures/descriptions/<case>.txt`: `(case, header lines,
/// description)` by case name (see the README there for the format).
fn description_cases() -> Vec<(String, String, String)> {
    let dir = repo().join("tests/fixtures/descriptions");
    let mut cases: Vec<(String, String, String)> = fs_err::read_dir(&dir)
        .expect("the description corpus")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "txt"))
        .map(|path| {
            let text = fs_err::read_to_string(&path).expect("read case");
            let (headers, body) = match text.strip_prefix('\n') {
                Some(body) => ("", body),
                None => text.split_once("\n\n").unwrap_or_else(|| {
                    panic!("{}: no blank line after the header", path.display())
                }),
            };
            let case = path
                .file_stem()
                .expect("stem")
                .to_string_lossy()
                .into_owned();
            (case, headers.to_owned(), body.to_owned())
        })
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 300,
        "{} description cases in {}",
        cases.len(),
        dir.display()
    );
    cases
}

/// A wheel named after `case` carrying `metadata` as its METADATA.
fn description_wheel(dir: &Path, case: &str, metadata: String) -> PathBuf {
    let name = case.to_lowercase().replace(['-', '.'], "_");
    dists::Wheel::new(&format!("{name}-1.0-py3-none-any.whl"), metadata).write(dir)
}

#[test]
fn check_description_verdicts_agree_with_twine() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut wheels = Vec::new();
    let mut labels = BTreeMap::new();
    let cases = description_cases();
    for (case, headers, text) in &cases {
        let name = format!("case_{}", case.replace('-', "_"));
        let metadata = dists::metadata(&name, "1.0", headers, text)
            .replace("Metadata-Version: 2.4", "Metadata-Version: 2.1");
        let wheel = description_wheel(dir.path(), &name, metadata);
        labels.insert(file_name(&wheel), format!("corpus case `{case}`"));
        wheels.push(wheel);
    }
    // Real descriptions: every distribution installed in the tool venv.
    let site_packages = glob::glob(&format!(
        "{}/lib/python*/site-packages/*.dist-info/METADATA",
        testbed().venv.display()
    ))
    .expect("glob")
    .filter_map(Result::ok)
    .collect::<Vec<_>>();
    assert!(
        site_packages.len() >= 40,
        "the tool venv has {} distributions",
        site_packages.len()
    );
    for (index, metadata) in site_packages.iter().enumerate() {
        let dist = metadata
            .parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = String::from_utf8_lossy(&fs_err::read(metadata).expect("METADATA")).into_owned();
        // Renamed so every wheel has a unique, normalized file name; the name in METADATA is
        // rewritten to match (only the description is compared).
        let name = format!("installed_{index}");
        let text = text
            .lines()
            .map(|l| {
                if l.starts_with("Name:") {
                    format!("Name: {name}")
                } else if l.starts_with("Version:") {
                    "Version: 1.0".to_owned()
                } else {
                    l.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        let wheel = description_wheel(dir.path(), &name, text);
        labels.insert(
            file_name(&wheel),
            format!("installed distribution `{dist}`"),
        );
        wheels.push(wheel);
    }

    let twine = twine_check(&wheels);
    let ours = wheelwright_check(&wheels);
    let mut disagreements = Vec::new();
    let mut gaps_seen = Vec::new();
    let mut counts = BTreeMap::new();
    for wheel in &wheels {
        let file = file_name(wheel);
        let label = &labels[&file];
        let twine_verdict = twine
            .get(&file)
            .unwrap_or_else(|| panic!("twine said nothing about {label}"));
        let problems = &ours[&file];
        let render_problems: Vec<&(String, String)> = problems
            .iter()
            .filter(|(code, _)| code == "description" || code == "content-type")
            .collect();
        let ours_renders = render_problems.is_empty();
        let agree = match twine_verdict {
            Twine::Renders => ours_renders,
            Twine::DoesNotRender => !ours_renders,
            // twine refuses the metadata before rendering: a content type we must refuse too,
            // or other metadata we must report.
            Twine::InvalidMetadata(message) => {
                if message.contains("description-content-type") {
                    render_problems
                        .iter()
                        .any(|(code, _)| code == "content-type")
                } else {
                    !problems.is_empty()
                }
            }
        };
        *counts
            .entry(
                format!("{twine_verdict:?}")
                    .split('(')
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            )
            .or_insert(0) += 1;
        let case = label
            .strip_prefix("corpus case `")
            .and_then(|l| l.strip_suffix('`'))
            .unwrap_or_default();
        let gap = KNOWN_GAPS.iter().find(|(name, _)| *name == case);
        match (agree, gap) {
            (true, None) => {}
            (false, Some(_)) => gaps_seen.push(case.to_owned()),
            (true, Some((name, _))) => disagreements.push(format!(
                "known gap `{name}` now agrees with twine: remove it from KNOWN_GAPS"
            )),
            (false, None) => disagreements.push(format!(
                "{label}: twine {twine_verdict:?}, wheelwright {render_problems:?}"
            )),
        }
    }
    let _ = writeln!(
        std::io::stderr(),
        "check vs twine check --strict: {} wheels ({} corpus cases, {} installed descriptions); \
         twine verdicts {counts:?}; known gaps still open: {gaps_seen:?}",
        wheels.len(),
        cases.len(),
        site_packages.len()
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
    assert_eq!(gaps_seen.len(), KNOWN_GAPS.len());
}

/// Real PyPI files with a finding, and the only finding allowed: a warning.
const CORPUS_WARNINGS: &[(&str, &str)] = &[
    // Uploaded with the project's own spelling in the file name; PyPI warns about names that
    // are not normalized (PEP 427/PEP 503) but accepts them, and so do installers.
    ("MarkupSafe-", "warning:filename-normalization"),
    ("PyYAML-", "warning:filename-normalization"),
];

#[test]
fn check_passes_the_pypi_corpus_for_any_index_and_for_pypi() {
    let current = corpus_files("dists.lock");
    let names: Vec<String> = current.iter().map(|p| file_name(p)).collect();
    let sdists = names.iter().filter(|n| n.ends_with(".tar.gz")).count();
    let pure = names
        .iter()
        .filter(|n| n.ends_with("-none-any.whl"))
        .count();
    let native = names.len() - sdists - pure;
    assert!(
        names.len() >= 50 && sdists >= 20 && pure >= 10 && native >= 10,
        "dists.lock: {} files, {sdists} sdists, {pure} pure and {native} native wheels",
        names.len()
    );
    for required in [
        "MarkupSafe-2.1.5-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "PyYAML-6.0.1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    ] {
        assert!(
            names.iter().any(|n| n == required),
            "{required} not in dists.lock"
        );
    }
    let mut files = current;
    files.extend(corpus_files("wheels.lock"));
    for args in [&[][..], &["--repository", "pypi"][..]] {
        let (code, problems) = wheelwright_check_with(args, &files);
        let mut unexpected = Vec::new();
        let mut warned = 0;
        for (file, found) in &problems {
            let allowed = CORPUS_WARNINGS
                .iter()
                .find(|(prefix, _)| file.starts_with(prefix))
                .map(|(_, code)| *code);
            let codes: Vec<&str> = found.iter().map(|(c, _)| c.as_str()).collect();
            let ok = match allowed {
                None => codes.is_empty(),
                // The rule must still run: the warning is there.
                Some(code) => codes == [code],
            };
            warned += usize::from(allowed.is_some());
            if !ok {
                unexpected.push(format!("{file}: {found:?} (allowed: {allowed:?})"));
            }
        }
        assert!(
            unexpected.is_empty(),
            "check {args:?}:\n{}",
            unexpected.join("\n")
        );
        assert_eq!(code, Some(0), "check {args:?} exits 0 with warnings only");
        let _ = writeln!(
            std::io::stderr(),
            "check {args:?}: {} files ({sdists} sdists, {pure} pure and {native} native wheels in \
             dists.lock), no errors, {warned} with the allowed warning",
            files.len()
        );
    }
}
