//! The SBOM `repair` writes (`<dist-info>/sboms/wheelwright.cdx.json`): valid CycloneDX 1.4 by
//! cyclonedx-python-lib's JSON schema validator (tool venv), the owning package of each grafted
//! library as `dpkg -S` reports it inside the build images (amd64 and i386, a merged-/usr Debian
//! where the package lists say `/lib/...` for files the loader finds under `/usr/lib/...`), and
//! field for field the same components as auditwheel 6.8.2's own SBOM of the same wheel on this
//! host (where auditwheel's dpkg lookup finds the library).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::oracle::wheel_from_entries;
use crate::repair_support::{Arch, auditwheel_repair, run_in_build_image};
use crate::support::{run_ok, testbed, wheelwright};

/// An extension calling into libsqlite3 (and, with `bz2`, libbz2), without Python headers.
fn extension_source(bz2: bool) -> String {
    let mut source = String::from(
        "extern unsigned long strlen(const char *);\n\
         extern const char *sqlite3_libversion(void);\n",
    );
    if bz2 {
        source.push_str("extern const char *BZ2_bzlibVersion(void);\n");
        source.push_str(
            "unsigned long PyInit__sq(void) { return strlen(sqlite3_libversion()) + strlen(BZ2_bzlibVersion()); }\n",
        );
    } else {
        source
            .push_str("unsigned long PyInit__sq(void) { return strlen(sqlite3_libversion()); }\n");
    }
    source
}

const LINK: &str = "-Wl,--no-as-needed -l:libsqlite3.so.0";

fn sq_wheel(dir: &Path, machine: &str, so: &Path) -> PathBuf {
    wheel_from_entries(
        dir,
        &format!("sq-1.0-cp39-cp39-linux_{machine}.whl"),
        vec![(
            format!("sq/_sq.cpython-39-{machine}-linux-gnu.so"),
            fs_err::read(so).expect("extension"),
        )],
    )
}

/// The SBOM a repaired wheel carries under `name` (`wheelwright.cdx.json`, `auditwheel.cdx.json`).
fn sbom_of(wheel: &Path, name: &str) -> Value {
    let mut archive = wheelwright::wheel::WheelArchive::open(wheel).expect("open");
    let entry = format!("{}/sboms/{name}", archive.dist_info_dir());
    let bytes = archive
        .read_entry(&entry)
        .unwrap_or_else(|e| panic!("{}: no {entry}: {e}", wheel.display()));
    serde_json::from_slice(&bytes).expect("SBOM JSON")
}

/// Validates `sbom` against the CycloneDX 1.4 JSON schema with cyclonedx-python-lib.
fn assert_valid_cyclonedx(sbom: &Value, what: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("sbom.json");
    fs_err::write(&file, serde_json::to_vec(sbom).expect("json")).expect("write");
    let script = "import sys\n\
        from cyclonedx.schema import SchemaVersion\n\
        from cyclonedx.validation.json import JsonStrictValidator\n\
        error = JsonStrictValidator(SchemaVersion.V1_4).validate_str(open(sys.argv[1]).read())\n\
        if error is not None:\n    sys.exit(f'invalid: {error!r}')\n\
        print('valid')\n";
    let output = testbed()
        .command("python")
        .args(["-c", script])
        .arg(&file)
        .output()
        .expect("run the validator");
    assert!(
        output.status.success() && output.stdout.starts_with(b"valid"),
        "{what}: not valid CycloneDX 1.4:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn property<'a>(component: &'a Value, name: &str) -> Option<&'a str> {
    component["properties"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == name)?["value"]
        .as_str()
}

/// The name and version a `pkg:deb/debian/<name>@<version>` purl names, percent-decoded.
fn purl_package(purl: &str) -> (String, String) {
    let rest = purl
        .strip_prefix("pkg:deb/debian/")
        .unwrap_or_else(|| panic!("not a Debian purl: {purl}"));
    let (name, version) = rest.split_once('@').expect("name@version");
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8()
            .expect("UTF-8")
            .into_owned()
    };
    (decode(name), decode(version))
}

#[test]
fn sbom_matches_auditwheel_on_the_host() {
    let scratch = tempfile::Builder::new()
        .prefix("ww-sbom-host-")
        .tempdir()
        .expect("tempdir");
    let dir = scratch.path();
    fs_err::write(dir.join("sq.c"), extension_source(false)).expect("write");
    let so = dir.join("_sq.so");
    run_ok(
        Command::new("sh")
            .arg("-c")
            .arg(format!(
                "gcc -shared -fPIC -O1 -o {} sq.c {LINK}",
                so.display()
            ))
            .current_dir(dir),
    );
    let wheel = sq_wheel(dir, "x86_64", &so);
    let oracle = auditwheel_repair(&wheel, &dir.join("aw"), None, &[]);
    let output = run_ok(
        wheelwright()
            .args(["repair", "--json", "-w"])
            .arg(dir.join("ww"))
            .arg(&wheel),
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("json");
    let ours = PathBuf::from(report["output"].as_str().expect("output"));
    assert_eq!(ours.file_name(), oracle.file_name());

    let theirs = sbom_of(&oracle, "auditwheel.cdx.json");
    let mine = sbom_of(&ours, "wheelwright.cdx.json");
    assert_valid_cyclonedx(&mine, "wheelwright's SBOM");
    for field in ["bomFormat", "specVersion", "version"] {
        assert_eq!(mine[field], theirs[field], "`{field}`");
    }
    assert_eq!(
        mine["metadata"]["component"],
        theirs["metadata"]["component"]
    );
    // A library's bom-ref is `<purl>#<sha256 of its path>`, and the tools spell the path
    // differently (auditwheel keeps the search directory, `/lib/...`, and resolves only the last
    // symlink; wheelwright resolves every one, `/usr/lib/...`): compare up to the `#`.
    let strip = |r: &Value| -> String {
        r.as_str()
            .map(|s| s.split('#').next().unwrap_or(s).to_owned())
            .unwrap_or_default()
    };
    let components = theirs["components"].as_array().expect("components");
    assert!(
        components.len() >= 2,
        "auditwheel names a package: {theirs}"
    );
    assert_eq!(
        mine["components"].as_array().map(Vec::len),
        Some(components.len())
    );
    for component in components {
        let found = mine["components"]
            .as_array()
            .expect("components")
            .iter()
            .find(|c| c["purl"] == component["purl"])
            .unwrap_or_else(|| panic!("no component {} in ours: {mine}", component["purl"]));
        assert_eq!(strip(&found["bom-ref"]), strip(&component["bom-ref"]));
        for field in ["type", "name", "version", "purl"] {
            assert_eq!(
                found[field], component[field],
                "{}: `{field}`",
                component["purl"]
            );
        }
    }
    let dependencies = |sbom: &Value| -> Vec<(String, Vec<String>)> {
        sbom["dependencies"]
            .as_array()
            .expect("dependencies")
            .iter()
            .map(|d| {
                let on = d["dependsOn"]
                    .as_array()
                    .map(|a| a.iter().map(strip).collect())
                    .unwrap_or_default();
                (strip(&d["ref"]), on)
            })
            .collect()
    };
    assert_eq!(dependencies(&mine), dependencies(&theirs));
}

/// The rootfs of `image`, mounted (rootful podman) for as long as the guard lives.
struct Mounted(String, PathBuf);

impl Mounted {
    fn new(image: &str) -> Self {
        let output = run_ok(testbed().command("podman").args(["image", "mount", image]));
        let path = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        Self(image.to_owned(), PathBuf::from(path))
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = testbed()
            .command("podman")
            .args(["image", "unmount", &self.0])
            .output();
    }
}

#[test]
fn sbom_packages_are_what_dpkg_says_in_the_build_images() {
    let scratch = tempfile::Builder::new()
        .prefix("ww-sbom-image-")
        .tempdir()
        .expect("tempdir");
    for arch in [Arch::Amd64, Arch::I386] {
        let dir = scratch.path().join(arch.name());
        fs_err::create_dir_all(&dir).expect("mkdir");
        fs_err::write(dir.join("sq.c"), extension_source(true)).expect("write");
        let d = fs_err::canonicalize(&dir).expect("dir");
        run_in_build_image(
            arch,
            &dir,
            &format!(
                "cd {}\ngcc -shared -fPIC -O1 -o _sq.so sq.c {LINK} -l:libbz2.so.1.0\n",
                d.display()
            ),
        );
        let wheel = sq_wheel(&dir, arch.wheel_machine(), &dir.join("_sq.so"));
        let image = arch.build_image();
        let root = Mounted::new(&image);
        let output = run_ok(
            wheelwright()
                .args(["repair", "--json", "--root"])
                .arg(&root.1)
                .arg("-w")
                .arg(dir.join("out"))
                .arg(&wheel),
        );
        let report: Value = serde_json::from_slice(&output.stdout).expect("json");
        let repaired = PathBuf::from(report["output"].as_str().expect("output"));
        let sbom = sbom_of(&repaired, "wheelwright.cdx.json");
        assert_valid_cyclonedx(&sbom, &format!("{arch:?} SBOM"));
        let libraries: Vec<&Value> = sbom["components"]
            .as_array()
            .expect("components")
            .iter()
            .skip(1)
            .collect();
        assert_eq!(libraries.len(), 2, "libsqlite3 and libbz2: {sbom}");
        for library in libraries {
            let path = property(library, "wheelwright:grafted-from").expect("grafted-from");
            // dpkg lists the path the package installed; the loader found the merged-/usr one.
            let twin = path
                .strip_prefix("/usr")
                .map_or_else(|| format!("/usr{path}"), str::to_owned);
            let answer = run_in_build_image(
                arch,
                &dir,
                &format!(
                    "line=$(dpkg -S {path} 2>/dev/null || dpkg -S {twin})\n\
                     pkg=${{line%%: *}}\n\
                     echo \"${{pkg%%:*}} $(dpkg-query -W -f '${{Version}}' \"$pkg\")\"\n"
                ),
            );
            let (name, version) = answer.trim().split_once(' ').expect("package and version");
            assert_eq!(library["name"], name, "{path}");
            assert_eq!(library["version"], version, "{path}");
            let purl = library["purl"].as_str().expect("purl");
            assert_eq!(
                purl_package(purl),
                (name.to_owned(), version.to_owned()),
                "{path}"
            );
            assert!(
                !purl.contains(':') || purl.matches(':').count() == 1,
                "reserved characters are percent-encoded: {purl}"
            );
            let sha256 = {
                use sha2::Digest as _;
                let inside = root.1.join(path.trim_start_matches('/'));
                wheelwright::publish::dist::hex(&sha2::Sha256::digest(
                    fs_err::read(inside).expect("library"),
                ))
            };
            assert_eq!(library["hashes"][0]["content"], sha256.as_str(), "{path}");
        }
    }
}
