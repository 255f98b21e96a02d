//! uv in build and test environments: the image's own (pypa-like images), the pinned one
//! wheelwright fetches, checks and caches for images without one (the bullseye images), and
//! none at all when `build-frontend` is `build` or `pip`. The pinned uv wheels are served by a
//! local pypiserver with its default settings (from the corpus cache that
//! `scripts/fetch-corpus.sh` fills by hash), through `--uv-index-url`, as a user with a mirror
//! would; the build requirements still come from the machine's package index.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::publish_support::{Pypiserver, start_pypiserver_defaults};
use crate::support::bed::{build_args, network_args, ww};
use crate::support::{bed, describe, json, repo, testbed};

/// Lists the project's tests and runs them against the installed wheel.
const TEST: &str = "python -m unittest discover -v -s {project}/tests";

/// `(file name, sha256)` of the pinned uv wheels, from the pins compiled into wheelwright.
fn pins() -> Vec<(String, String)> {
    let text = fs_err::read_to_string(repo().join("src/build/uv-pins.lock")).expect("pins");
    text.lines()
        .map(|l| l.split('#').next().unwrap_or_default().trim())
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (file, sha) = l.split_once(' ').expect("`file sha256`");
            (file.to_owned(), sha.trim().to_owned())
        })
        .collect()
}

fn pin_for(arch: &str) -> (String, String) {
    pins()
        .into_iter()
        .find(|(file, _)| file.ends_with(&format!("_{arch}.whl")))
        .unwrap_or_else(|| panic!("no uv pinned for {arch}"))
}

/// A pinned wheel from the corpus cache.
fn cached_wheel(file: &str) -> PathBuf {
    let path = testbed().cache.join("corpus").join(file);
    assert!(
        path.is_file(),
        "{} is missing: run scripts/fetch-corpus.sh",
        path.display()
    );
    path
}

/// pypiserver (default settings) serving `files` as `(name it is served under, source)`.
fn uv_index(dir: &Path, files: &[(String, PathBuf)]) -> Pypiserver {
    let server = start_pypiserver_defaults(dir);
    for (name, source) in files {
        fs_err::copy(source, server.packages.join(name)).expect("copy the wheel");
    }
    server
}

/// `wheelwright build` of democext (libdemo from before-all, its tests run by the build's test
/// stage) in `images` (`(option, testbed variable)`), selecting `build`, with `extra` args.
fn build(out: &Path, cache: &Path, build: &str, images: &[(&str, &str)], extra: &[&str]) -> Output {
    let mut args = build_args(
        "democext",
        out,
        "podman",
        &[
            "--pull",
            "never",
            "--build",
            build,
            "--skip",
            "*-musllinux_*",
            "--before-all",
            "sh {project}/libdemo/build-libdemo.sh /usr/local",
            "--test-command",
            TEST,
            "--cache-dir",
            cache.to_str().expect("utf-8"),
            "--json",
        ],
    );
    for (option, key) in images {
        args.push((*option).to_owned());
        args.push(bed(key));
    }
    args.extend(network_args());
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    ww().args(&args).output().expect("wheelwright")
}

/// Asserts every build is built and its test passed; the logs directory.
fn assert_built_and_tested(output: &Output, out: &Path, ids: &[&str]) {
    assert!(output.status.success(), "{}", describe(output));
    let result = json(output);
    let builds = result["builds"].as_array().expect("builds");
    let got: Vec<&str> = builds
        .iter()
        .map(|b| b["identifier"].as_str().expect("identifier"))
        .collect();
    assert_eq!(got, ids);
    for b in builds {
        assert_eq!(b["status"], "built", "{b}");
        assert_eq!(b["test"]["status"], "passed", "{b}");
        assert!(
            out.join(b["wheel"].as_str().expect("wheel")).is_file(),
            "{b}"
        );
    }
}

/// The `--json` timings: every stage of every container and build is there, in order (the
/// set-up before the builds, build → repair → copy-out → test), within the run's wall time,
/// and the totals are the sums; the stage table is printed.
fn assert_stage_timings(output: &Output) {
    let result = json(output);
    let span = |v: &serde_json::Value, what: &str| -> (f64, f64) {
        let start = v["start"].as_f64().unwrap_or_else(|| panic!("{what}: {v}"));
        let end = v["end"].as_f64().unwrap_or_else(|| panic!("{what}: {v}"));
        assert!(start <= end, "{what}: {v}");
        assert!(
            (v["seconds"].as_f64().expect("seconds") - (end - start)).abs() < 0.002,
            "{what}: {v}"
        );
        (start, end)
    };
    let wall = result["timings"]["wall"].as_f64().expect("wall");
    let mut ready = Vec::new();
    for c in result["containers"].as_array().expect("containers") {
        let t = &c["timings"];
        let (_, started) = span(&t["start"], "start");
        let (copy, copied) = span(&t["setup"], "setup");
        let (hook, hooked) = span(&t["before_all"], "before-all");
        assert!(started <= copy && copied <= hook, "{c}");
        ready.push((c["arch"].as_str().expect("arch").to_owned(), hooked));
    }
    let mut sums = [0.0f64; 4];
    for b in result["builds"].as_array().expect("builds") {
        let t = &b["timings"];
        let stages = ["build", "repair", "copy_out", "test"].map(|s| span(&t[s], s));
        for pair in stages.windows(2) {
            assert!(pair[0].1 <= pair[1].0, "stages overlap within a build: {t}");
        }
        assert!(stages[3].1 <= wall, "{t}");
        let id = b["identifier"].as_str().expect("identifier");
        let setup_done = ready
            .iter()
            .find(|(arch, _)| id.ends_with(arch.as_str()))
            .map(|(_, end)| *end)
            .expect("its container");
        assert!(
            setup_done <= stages[0].0,
            "{id} built before its before-all ended: {t}"
        );
        for (sum, (start, end)) in sums.iter_mut().zip(stages) {
            *sum += end - start;
        }
    }
    for (sum, key) in sums.iter().zip(["build", "repair", "copy_out", "test"]) {
        let total = result["timings"][key].as_f64().expect(key);
        assert!((total - sum).abs() < 0.01, "{key}: {total} vs {sum}");
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("stage seconds"), "{stderr}");
    assert!(stderr.contains("total (wall "), "{stderr}");
}

fn read_log(out: &Path, name: &str) -> String {
    fs_err::read_to_string(out.join("logs").join(name)).expect("log")
}

/// Whether `text` has the word `uv` (`uv`, `uv build`, `build[uv]`, `/x/uv`; not `uvt1`),
/// apart from the checkout's path (the project is copied from there, and a checkout may well
/// be called `uv`).
fn mentions_uv(text: &str) -> bool {
    text.replace(&repo().display().to_string(), "<checkout>")
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| word.eq_ignore_ascii_case("uv"))
}

/// The names in a directory (none if it does not exist), sorted.
fn listing(dir: &Path) -> Vec<String> {
    let Ok(entries) = fs_err::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The directories the provided uv was cached in.
fn provided(cache: &Path) -> Vec<String> {
    listing(&cache.join("uv-binaries"))
}

const PYPA_X86_64: [(&str, &str); 1] = [("--image-x86_64", "WW_IMAGE_PYPA_BUILD_AMD64_REF")];
const BULLSEYE: [(&str, &str); 2] = [
    ("--image-x86_64", "WW_IMAGE_BUILD_AMD64_REF"),
    ("--image-i686", "WW_IMAGE_BUILD_I386_REF"),
];

/// An image with uv on PATH: the default frontend is `uv build` with the image's uv, the test
/// environment is made by `uv venv`, and nothing is fetched (the index offered has no uv).
#[test]
fn the_images_uv_builds_and_makes_the_test_environments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let index = uv_index(&dir.path().join("index"), &[]);
    let out = dir.path().join("out");
    let cache = dir.path().join("cache");
    let output = build(
        &out,
        &cache,
        "cp313-*",
        &PYPA_X86_64,
        &["--archs", "x86_64", "--uv-index-url", &index.simple_url()],
    );
    assert_built_and_tested(&output, &out, &["cp313-manylinux_x86_64"]);
    let log = read_log(&out, "cp313-manylinux_x86_64.log");
    assert!(log.contains("==> uv: uv from the image (`"), "{log}");
    assert!(
        log.contains("==> build: uv build --wheel --python "),
        "{log}"
    );
    let test = read_log(&out, "test-cp313-manylinux_x86_64.log");
    assert!(test.contains("==> uv venv --python "), "{test}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("provided by wheelwright"), "{stderr}");
    assert_eq!(provided(&cache), Vec::<String>::new());
}

/// Images without uv (bullseye, x86_64 and i686 under linux32): the pinned uv of each
/// architecture is fetched from the index, checked, cached and used for the build (`uv build`)
/// and the test environment, and the log says so; a second run uses the cached one with the
/// index gone. The run's `--json` timings cover every stage, in order; the package caches are
/// per image and architecture.
#[test]
fn images_without_uv_get_the_pinned_uv_fetched_checked_and_cached() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files: Vec<(String, PathBuf)> = pins()
        .into_iter()
        .map(|(file, _)| {
            let source = cached_wheel(&file);
            (file, source)
        })
        .collect();
    let index = uv_index(&dir.path().join("index"), &files);
    let index_url = index.simple_url();
    let out = dir.path().join("out");
    let cache = dir.path().join("cache");
    let ids = ["cp39-manylinux_x86_64", "cp39-manylinux_i686"];
    let args = [
        "--archs",
        "x86_64,i686",
        "--uv-index-url",
        index_url.as_str(),
    ];
    let output = build(&out, &cache, "cp39-*", &BULLSEYE, &args);
    assert_built_and_tested(&output, &out, &ids);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let mut dirs = Vec::new();
    for (id, arch) in ids.iter().zip(["x86_64", "i686"]) {
        let (_, sha) = pin_for(arch);
        let dir_name = format!("{}-{arch}", &sha[..16]);
        let inside = format!("/wheelwright/uv-binaries/{dir_name}/uv");
        let said = format!(
            "provided by wheelwright (the image has none; pinned wheel from `{index_url}`, sha256 checked)"
        );
        assert!(stderr.contains(&said), "{stderr}");
        let log = read_log(&out, &format!("{id}.log"));
        assert!(
            log.contains("==> uv: uv ")
                && log.contains(&format!("({arch}-unknown-linux-musl) {said}")),
            "{log}"
        );
        assert!(
            log.contains("==> build: uv build --wheel --python "),
            "{log}"
        );
        let test = read_log(&out, &format!("test-{id}.log"));
        assert!(
            test.contains(&format!("==> {inside} venv --python ")),
            "{test}"
        );
        dirs.push(dir_name);
    }
    dirs.sort();
    assert_eq!(provided(&cache), dirs);
    assert_stage_timings(&output);
    // uv's and pip's caches: one directory per image and architecture, shared by the run's
    // identifiers (build and test) and by the next run.
    let per_image: Vec<String> = BULLSEYE
        .iter()
        .zip(["x86_64", "i686"])
        .map(|((_, key), arch)| {
            let image: String = bed(key)
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || "._-".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            format!("{image}-{arch}")
        })
        .collect();
    for cache_name in ["uv", "pip"] {
        let mut dirs = listing(&cache.join(cache_name));
        dirs.sort();
        let mut want = per_image.clone();
        want.sort();
        assert_eq!(dirs, want, "{cache_name}");
    }
    let uv_cache = cache.join("uv").join(&per_image[0]);
    assert!(
        !listing(&uv_cache).is_empty(),
        "uv cached nothing in {}",
        uv_cache.display()
    );

    // Cached: the index is not asked again (it is gone).
    drop(index);
    let again = dir.path().join("again");
    let output = build(&again, &cache, "cp39-*", &BULLSEYE, &args);
    assert_built_and_tested(&output, &again, &ids);
    let log = read_log(&again, "cp39-manylinux_i686.log");
    assert!(log.contains("provided by wheelwright"), "{log}");
}

/// `build-frontend = "build"` or `"pip"`: pip and venv only, even where the image has uv; uv
/// appears nowhere in the output or the logs and nothing is fetched.
#[test]
fn build_and_pip_frontends_never_use_uv() {
    let dir = tempfile::tempdir().expect("tempdir");
    let index = uv_index(&dir.path().join("index"), &[]);
    for frontend in ["build", "pip"] {
        let out = dir.path().join(frontend);
        let cache = dir.path().join(format!("cache-{frontend}"));
        let output = build(
            &out,
            &cache,
            "cp313-*",
            &PYPA_X86_64,
            &[
                "--archs",
                "x86_64",
                "--build-frontend",
                frontend,
                "--uv-index-url",
                &index.simple_url(),
            ],
        );
        assert_built_and_tested(&output, &out, &["cp313-manylinux_x86_64"]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!mentions_uv(&stderr), "{frontend}: {stderr}");
        for entry in fs_err::read_dir(out.join("logs")).expect("logs") {
            let path = entry.expect("entry").path();
            let text = fs_err::read_to_string(&path).expect("log");
            assert!(
                !mentions_uv(&text),
                "{frontend}: {}:\n{text}",
                path.display()
            );
        }
        let test = read_log(&out, "test-cp313-manylinux_x86_64.log");
        assert!(test.contains(" -m venv "), "{test}");
        assert_eq!(provided(&cache), Vec::<String>::new(), "{frontend}");
    }
}

/// An index whose file under the pinned name is another file: a one-line error naming the file,
/// both digests and the index; nothing built, nothing cached.
#[test]
fn a_uv_wheel_that_is_not_the_pinned_one_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (x86_64, want) = pin_for("x86_64");
    let (i686, _) = pin_for("i686");
    // The i686 wheel's bytes under the x86_64 wheel's name.
    let index = uv_index(
        &dir.path().join("index"),
        &[(x86_64.clone(), cached_wheel(&i686))],
    );
    let out = dir.path().join("out");
    let cache = dir.path().join("cache");
    let output = build(
        &out,
        &cache,
        "cp39-*",
        &BULLSEYE[..1],
        &["--archs", "x86_64", "--uv-index-url", &index.simple_url()],
    );
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let error = stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line: {stderr}"));
    assert!(
        error.contains(&format!(
            "`{x86_64}` from `http://127.0.0.1:{}/",
            index.port
        )) && error.contains(&format!("not the pinned {want}: not used")),
        "{error}"
    );
    let wheels: Vec<_> = fs_err::read_dir(&out)
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().ends_with(".whl"))
                .collect()
        })
        .unwrap_or_default();
    assert!(wheels.is_empty(), "{wheels:?}");
    assert_eq!(provided(&cache), Vec::<String>::new());
}
