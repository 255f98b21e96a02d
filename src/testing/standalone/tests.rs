//! Unit tests of `wheelwright test`.

use super::*;
use crate::testing::TestReport;

#[test]
fn a_local_image_of_another_architecture_is_used_or_explained() {
    use ArchOrigin::{Default, Flag, Wheels};
    let x86 = Arch::X86_64;
    let i686 = Arch::I686;
    // Not here: pulled for the architecture asked.
    assert_eq!(fit_arch_to_image(x86, Default, "img", None), Ok(x86));
    // The image serves it (i686 images published as amd64 too).
    assert_eq!(
        fit_arch_to_image(x86, Default, "img", Some("linux/amd64")),
        Ok(x86)
    );
    assert_eq!(
        fit_arch_to_image(i686, Wheels, "img", Some("linux/amd64")),
        Ok(i686)
    );
    // Nothing asked for: the image's own architecture, as `docker run` would.
    assert_eq!(
        fit_arch_to_image(x86, Default, "img", Some("linux/386")),
        Ok(i686)
    );
    // `--arch` wins: the engine pulls that variant.
    assert_eq!(
        fit_arch_to_image(x86, Flag, "img", Some("linux/386")),
        Ok(x86)
    );
    insta::assert_snapshot!(
        fit_arch_to_image(x86, Wheels, "my/i386", Some("linux/386")).expect_err("mismatch"),
        @r"
    `my/i386` is a linux/386 (i686) image here, but the wheels to test are x86_64
    hint: test x86_64 wheels in an x86_64 image (`--image x86_64=IMAGE`); to test in this image pass `--arch i686` with i686 wheels
    "
    );
}

#[test]
fn install_hints_name_the_architecture_that_is_missing() {
    if Arch::host() != Arch::X86_64 {
        return;
    }
    let wheels: BTreeSet<Arch> = [Arch::Aarch64].into();
    insta::assert_snapshot!(install_hint(&wheels, &[Arch::X86_64], true), @"hint: test aarch64 wheels in an aarch64 image: `--engine podman` (or docker) with `--arch aarch64 --image aarch64=IMAGE` (this x86_64 machine runs aarch64 containers with QEMU registered with binfmt_misc)");
    let wheels: BTreeSet<Arch> = [Arch::I686].into();
    insta::assert_snapshot!(install_hint(&wheels, &[Arch::X86_64], false), @"hint: test i686 wheels in an i686 image: `--arch i686 --image i686=IMAGE`");
    let wheels: BTreeSet<Arch> = [Arch::X86_64].into();
    insta::assert_snapshot!(install_hint(&wheels, &[Arch::X86_64], true), @"hint: the wheels are for other Pythons: test with `--python PATH` or an image that has them");
}

#[test]
fn logs_go_next_to_the_wheels_by_default() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wheel = dir.path().join("a-1-py3-none-any.whl");
    fs_err::write(&wheel, b"").expect("write");
    assert_eq!(
        default_log_dir(&Source::Local(vec![dir.path().to_path_buf()])),
        dir.path().join("logs")
    );
    assert_eq!(
        default_log_dir(&Source::Local(vec![wheel])),
        dir.path().join("logs")
    );
    let index = Source::Index {
        url: String::new(),
        extra_urls: Vec::new(),
        specs: Vec::new(),
    };
    let state = default_log_dir(&index);
    assert!(
        state.ends_with("wheelwright/test-logs"),
        "{}",
        state.display()
    );
    assert!(state.is_absolute(), "{}", state.display());
}

#[test]
fn known_indexes_and_urls() {
    assert_eq!(
        index_url("testpypi").expect("known"),
        crate::publish::endpoints::TESTPYPI.simple_url
    );
    assert_eq!(
        index_url("PyPI").expect("known"),
        crate::publish::endpoints::PYPI.simple_url
    );
    assert_eq!(
        index_url("http://127.0.0.1:8080/simple/").expect("url"),
        "http://127.0.0.1:8080/simple/"
    );
    let err = index_url("nowhere").expect_err("bad");
    assert!(
        err.contains("is not an index URL or a known index"),
        "{err}"
    );
    assert!(index_url("ftp://x/simple/").is_err());
}

#[test]
fn images_per_architecture() {
    let (all, per) = parse_images(
        "--image",
        &["a/b:1".to_owned(), "i686=c/d@sha256:00".to_owned()],
    )
    .expect("images");
    assert_eq!(all.as_deref(), Some("a/b:1"));
    assert_eq!(per[&Arch::I686], "c/d@sha256:00");
    let err = parse_images("--image", &["arm=x".to_owned()]).expect_err("arch");
    assert!(err.contains("is not an architecture"), "{err}");
    let err = parse_images("--image", &["x y".to_owned()]).expect_err("space");
    assert!(err.contains("contains a space"), "{err}");
}

#[test]
fn wheels_are_collected_from_files_and_directories() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = collect_wheels(&[dir.path().to_path_buf()]).expect_err("empty");
    assert!(err.to_string().contains("no wheels"), "{err}");
    std::fs::write(dir.path().join("demo-1-py3-none-any.whl"), b"").expect("write");
    std::fs::write(dir.path().join("notes.txt"), b"").expect("write");
    let wheels = collect_wheels(&[
        dir.path().to_path_buf(),
        dir.path().join("demo-1-py3-none-any.whl"),
    ])
    .expect("wheels");
    assert_eq!(wheels.len(), 1);
    let err = collect_wheels(&[dir.path().join("notes.txt")]).expect_err("not a wheel");
    assert!(err.to_string().contains("is not a wheel"), "{err}");
    let err = collect_wheels(&[dir.path().join("missing.whl")]).expect_err("missing");
    assert!(err.to_string().contains("cannot read"), "{err}");
}

#[test]
fn summary_renderings() {
    let test =
        |id: &str, status, wheel: &str, message: Option<&str>, tail: &[&str]| StandaloneTest {
            identifier: id.to_owned(),
            spec: None,
            report: TestReport {
                status,
                python: Some("/opt/python/cp39-cp39/bin/python".to_owned()),
                image: Some("img".to_owned()),
                wheel: Some(wheel.to_owned()),
                seconds: 4.26,
                timed_out: false,
                message: message.map(str::to_owned),
                tail: tail.iter().map(|l| (*l).to_owned()).collect(),
                log: Some(PathBuf::from("logs/test-x.log")),
            },
        };
    let outcome = StandaloneOutcome {
        version: 1,
        engine: EngineKind::Podman,
        index: None,
        logs_dir: PathBuf::from("logs"),
        environments: Vec::new(),
        tests: vec![
            test(
                "cp39-manylinux_x86_64",
                TestState::Passed,
                "a-1-cp39-cp39-linux_x86_64.whl",
                None,
                &[],
            ),
            test(
                "pp37-manylinux_x86_64",
                TestState::Failed,
                "a-1-pp37-pypy37_pp73-linux_x86_64.whl",
                Some("test-command failed (exit status: 1)"),
                &["Traceback (most recent call last):", "AssertionError: 1|2"],
            ),
        ],
        untested: Vec::new(),
    };
    assert_eq!(outcome.failed(), 1);
    insta::assert_snapshot!(outcome.table(), @r"
    identifier             result  wheel                                  time
    cp39-manylinux_x86_64  passed  a-1-cp39-cp39-linux_x86_64.whl         4.3s
    pp37-manylinux_x86_64  FAILED  a-1-pp37-pypy37_pp73-linux_x86_64.whl  4.3s
    ");
    insta::assert_snapshot!(outcome.failure_details(), @r"
    pp37-manylinux_x86_64 FAILED: test-command failed (exit status: 1)
      log: logs/test-x.log
      last lines:
      | Traceback (most recent call last):
      | AssertionError: 1|2
    ");
    let md = outcome.markdown();
    assert!(
        md.contains("| `pp37-manylinux_x86_64` | ❌ FAILED: test-command failed (exit status: 1) | `a-1-pp37-pypy37_pp73-linux_x86_64.whl` | 4.3 s |")
            && md.contains("| `cp39-manylinux_x86_64` | ✅ passed |"),
        "{md}"
    );
}

#[test]
fn requirement_file_names() {
    assert_eq!(sanitize("NEURON==7.8.11.2"), "NEURON-7.8.11.2");
    assert_eq!(sanitize("a[b]>=1,<2"), "a-b-1-2");
}
