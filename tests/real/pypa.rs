//! Builds on the pypa-like images (`scripts/setup-dev.sh`, region `ww-pypa-recipe`): Debian
//! forky with CPython 3.13, 3.14 and 3.15 in `/opt/python`, and a free-threaded CPython 3.13 and
//! PyPy 3.11 that are absent until the image's `manylinux-interpreters ensure` installs them from
//! the image's own store, as pypa's images install PyPy and GraalPy on demand. The wheels are
//! tested by the build's own test stage in the matching runtime images (every interpreter, no
//! compiler, no libdemo), checked with auditwheel, and the compile cache is measured cold, then
//! warm.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;
use wheelwright::wheel::filename::WheelFilename;

use crate::support::bed::{Images, democext_build_args, ww};
use crate::support::{bed, describe, json, log};
use crate::support::{run_ok, testbed};

/// What the test command checks: libdemo is not where the wheel is tested (it is in the build
/// image after before-all), then the project's own suite against the installed wheel; for the
/// free-threaded interpreter also that the GIL stays off with the extension imported.
const TEST: &str = "test ! -e /usr/local/lib/libdemo.so.1 && \
     python -c 'import sys, democext; print(\"gil\", getattr(sys, \"_is_gil_enabled\", lambda: True)())' && \
     python -m unittest discover -v -s {project}/tests";

/// `(identifier prefix, python tag, abi tag, /opt/python directory)` of every interpreter, in
/// build order.
const INTERPRETERS: [(&str, &str, &str, &str); 5] = [
    ("cp313", "cp313", "cp313", "cp313-cp313"),
    ("cp313t", "cp313", "cp313t", "cp313-cp313t"),
    ("cp314", "cp314", "cp314", "cp314-cp314"),
    ("cp315", "cp315", "cp315", "cp315-cp315"),
    ("pp311", "pp311", "pypy311_pp80", "pp311-pypy311_pp80"),
];

/// `(identifier, python tag, abi tag, /opt/python directory)` of every build, in build order:
/// each interpreter on x86_64, then on i686.
fn expected() -> Vec<(String, &'static str, &'static str, &'static str)> {
    ["x86_64", "i686"]
        .into_iter()
        .flat_map(|arch| {
            INTERPRETERS.map(|(prefix, python, abi, dir)| {
                (format!("{prefix}-manylinux_{arch}"), python, abi, dir)
            })
        })
        .collect()
}

fn build_args(out: &Path, root: &Path) -> Vec<String> {
    let images = Images {
        build: [
            ("x86_64", "WW_IMAGE_PYPA_BUILD_AMD64_REF"),
            ("i686", "WW_IMAGE_PYPA_BUILD_I386_REF"),
        ],
        runtime: [
            ("x86_64", "WW_IMAGE_PYPA_RUNTIME_AMD64_REF"),
            ("i686", "WW_IMAGE_PYPA_RUNTIME_I386_REF"),
        ],
    };
    let selection = [
        // cp312: neither in the images nor installable by their `manylinux-interpreters`.
        "--build",
        "cp312-* cp313-* cp313t-* cp314-* cp315-* pp311-*",
        "--skip",
        "*-musllinux_*",
        "--enable",
        "pypy cpython-freethreading",
        "--compiler-cache",
        "on",
    ];
    let mut args = democext_build_args(out, &root.join("cache"), &images, &selection, TEST);
    args.push("--ccache-dir".to_owned());
    args.push(root.join("ccache").display().to_string());
    args
}

/// `(hits, misses)` of the compiler cache per container, in container order.
fn cache_stats(result: &Value) -> Vec<(String, u64, u64)> {
    result["containers"]
        .as_array()
        .expect("containers")
        .iter()
        .map(|c| {
            let stats = &c["compiler_cache"];
            assert!(stats.is_object(), "no compiler cache statistics: {c}");
            (
                c["platform"].as_str().expect("platform").to_owned(),
                stats["hits"].as_u64().expect("hits"),
                stats["misses"].as_u64().expect("misses"),
            )
        })
        .collect()
}

fn assert_built_and_tested(output: &Output, out: &Path) -> Value {
    assert!(output.status.success(), "{}", describe(output));
    let result = json(output);
    let builds = result["builds"].as_array().expect("builds");
    let ids: Vec<&str> = builds
        .iter()
        .map(|b| b["identifier"].as_str().expect("id"))
        .collect();
    let expected = expected();
    assert_eq!(
        ids,
        expected.iter().map(|e| e.0.as_str()).collect::<Vec<_>>()
    );
    for (b, (id, python, abi, dir)) in builds.iter().zip(expected) {
        assert_eq!(b["status"], "built", "{id}: {b}");
        assert_eq!(
            b["python"].as_str(),
            Some(format!("/opt/python/{dir}/bin/python").as_str()),
            "{id}"
        );
        let wheel = out.join(b["wheel"].as_str().expect("wheel"));
        let name = WheelFilename::from_path(&wheel).expect("wheel name");
        assert_eq!(name.python_tags, [python], "{id}");
        assert_eq!(name.abi_tags, [abi], "{id}");
        let arch = id.rsplit_once("manylinux_").expect("platform").1;
        let tags: Vec<String> = name.platform_tags.iter().map(ToString::to_string).collect();
        assert!(
            !tags.is_empty()
                && tags
                    .iter()
                    .all(|t| t.starts_with("manylinux") && t.ends_with(arch)),
            "{id}: {:?}",
            tags
        );
        // The oracle: the most compatible tag the repair gave the wheel is the one auditwheel
        // finds it consistent with.
        let show = run_ok(testbed().command("auditwheel").arg("show").arg(&wheel));
        let text = String::from_utf8_lossy(&show.stdout);
        let oldest = tags
            .iter()
            .filter(|t| t.starts_with("manylinux_"))
            .min_by_key(|t| {
                t.split('_')
                    .nth(2)
                    .and_then(|minor| minor.parse::<u32>().ok())
            })
            .expect("a manylinux_x_y tag");
        assert!(
            text.contains(&format!(
                "consistent with the following platform tag: \"{oldest}\""
            )),
            "{id}: auditwheel show does not confirm {oldest}:\n{text}"
        );
        let test = &b["test"];
        assert_eq!(test["status"], "passed", "{id}: {test}");
        let runtime = if arch == "i686" {
            bed("WW_IMAGE_PYPA_RUNTIME_I386_REF")
        } else {
            bed("WW_IMAGE_PYPA_RUNTIME_AMD64_REF")
        };
        assert_eq!(test["image"].as_str(), Some(runtime.as_str()), "{id}");
        let test_log =
            fs_err::read_to_string(test["log"].as_str().expect("test log")).expect("test log");
        assert!(test_log.contains("Ran 5 tests"), "{id}:\n{test_log}");
        if abi == "cp313t" {
            assert!(
                test_log.contains("gil False"),
                "{id}: the GIL is on with the extension imported:\n{test_log}"
            );
        }
    }
    result
}

/// A default-style build on images that behave like pypa's: the free-threaded CPython and PyPy
/// are installed by `manylinux-interpreters ensure` (reported), a selected CPython that neither
/// the image nor its installer has is a warning, ten wheels (five interpreters ×
/// x86_64 and i686, i686 under linux32) are built in parallel, repaired, confirmed by auditwheel
/// and tested in the runtime images, the free-threaded ones tagged `cp313-cp313t` with the GIL
/// off; a second run with the same compile cache compiles nothing (every compilation a hit).
#[test]
fn pypa_like_images_install_interpreters_build_free_threaded_and_cache_compiles() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let cold_out = root.join("cold");
    let output = ww()
        .args(build_args(&cold_out, root))
        .output()
        .expect("wheelwright");
    let cold = assert_built_and_tested(&output, &cold_out);
    let stderr = String::from_utf8_lossy(&output.stderr);
    for platform in ["manylinux_x86_64", "manylinux_i686"] {
        assert!(
            stderr.contains(&format!(
                "[{platform}] installed with manylinux-interpreters in "
            )),
            "{stderr}"
        );
    }
    // What the installer cannot provide is a warning (not an error) and is not built.
    assert!(
        stderr.contains(
            "warning: selected but not in the images, not built: cp312-manylinux_x86_64, cp312-manylinux_i686"
        ),
        "{stderr}"
    );
    for container in cold["containers"].as_array().expect("containers") {
        let installed: Vec<&str> = container["installed"]
            .as_array()
            .expect("installed")
            .iter()
            .map(|t| t.as_str().expect("tag"))
            .collect();
        assert_eq!(
            installed,
            ["cp313-cp313t", "pp311-pypy311_pp80"],
            "{container}"
        );
    }
    let cold_stats = cache_stats(&cold);
    for (platform, hits, misses) in &cold_stats {
        assert!(
            *hits == 0 && *misses >= 5,
            "{platform}: a cold cache has no hits and a miss per build: {hits} hits, {misses} misses"
        );
    }

    let warm_out = root.join("warm");
    let output = ww()
        .args(build_args(&warm_out, root))
        .output()
        .expect("wheelwright");
    let warm = assert_built_and_tested(&output, &warm_out);
    let warm_stats = cache_stats(&warm);
    for (platform, hits, misses) in &warm_stats {
        assert!(
            *misses == 0 && *hits >= 5,
            "{platform}: a warm cache answers every compilation: {hits} hits, {misses} misses"
        );
    }
    let seconds = |result: &Value| -> f64 {
        result["builds"]
            .as_array()
            .expect("builds")
            .iter()
            .map(|b| b["seconds"].as_f64().unwrap_or(0.0))
            .sum()
    };
    log(&format!(
        "pypa-like images: 10 builds, build steps {:.1}s cold / {:.1}s warm; ccache cold {cold_stats:?}, warm {warm_stats:?}",
        seconds(&cold),
        seconds(&warm)
    ));
}

/// `--only` an identifier that neither the image nor its `manylinux-interpreters` has is an
/// error naming it and what the image has (installed or installable), before anything is built.
#[test]
fn only_an_identifier_the_image_cannot_install_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out: PathBuf = dir.path().join("out");
    let output = ww()
        .args(crate::support::bed::build_args(
            "democext",
            &out,
            "podman",
            &[
                "--pull",
                "never",
                "--only",
                "cp312-manylinux_x86_64",
                "--image-x86_64",
                &bed("WW_IMAGE_PYPA_BUILD_AMD64_REF"),
            ],
        ))
        .output()
        .expect("wheelwright");
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line:\n{stderr}"));
    assert!(
        line.contains("only `cp312-manylinux_x86_64` is not in `")
            && line.contains("the images have: cp313-manylinux_x86_64, cp314-manylinux_x86_64, cp315-manylinux_x86_64, cp313t-manylinux_x86_64 (installable), pp311-manylinux_x86_64 (installable)"),
        "{line}"
    );
    assert!(
        !out.join("cp312-manylinux_x86_64.log").exists(),
        "nothing is built"
    );
}
