//! The SBOM of a repaired wheel (PEP 770): a CycloneDX 1.4 JSON document at
//! `<dist-info>/sboms/wheelwright.cdx.json` listing the wheel and every library grafted into it —
//! its SONAME, the sha256 of the file it was copied from, that path, and, where the filesystem
//! root has a package database, the package that owns the file (name, version, purl).
//!
//! Package databases are read as files under the resolution root, so `--root` works on an
//! exported container filesystem: dpkg (`var/lib/dpkg/info/*.list` and `var/lib/dpkg/status`),
//! apk (`lib/apk/db/installed`); rpm's database is binary, so the caller asks the `rpm` program
//! (`rpm --root <root> -qf`) when that exists and this module reads its answer. The components and purls follow
//! auditwheel 6.8's SBOM (`auditwheel/sboms.py` with its vendored `whichprovides`) field for
//! field, so the two documents agree on every library both name; wheelwright adds the hashes and
//! the properties, and also lists libraries no package owns.
//!
//! The document is deterministic: no timestamp, no serial number, components in a fixed order.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::Graft;

/// The file name of the SBOM inside `<dist-info>/sboms/`.
pub(crate) const SBOM_FILE: &str = "wheelwright.cdx.json";

/// The package that owns a file, as a package manager reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Owner {
    /// The purl type: `deb`, `rpm` or `apk`.
    pub kind: &'static str,
    /// The distribution (`ID` of os-release). Ex) `debian`
    pub distro: Option<String>,
    /// The package name. Ex) `libsqlite3-0`
    pub name: String,
    /// The package version. Ex) `3.34.1-3`, `1:1.2.11.dfsg-2+deb11u2`
    pub version: String,
}

impl Owner {
    /// The package URL, as auditwheel's `whichprovides` writes it (`pkg:deb/debian/name@version`).
    #[must_use]
    pub(crate) fn purl(&self) -> String {
        let mut purl = format!("pkg:{}/", self.kind);
        if let Some(distro) = &self.distro {
            purl.push_str(&quote(distro));
            purl.push('/');
        }
        purl.push_str(&quote(&self.name));
        purl.push('@');
        purl.push_str(&quote(&self.version));
        purl
    }
}

/// Percent-encoding as Python's `urllib.parse.quote(value, safe="")`: everything but ASCII
/// letters, digits and `_.-~`.
fn quote(value: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'_')
        .remove(b'.')
        .remove(b'-')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(value, SET).to_string()
}

/// The package databases of one filesystem root.
#[derive(Debug)]
pub(crate) struct PackageDb {
    root: PathBuf,
    distro: Option<String>,
}

impl PackageDb {
    /// The databases under `root` (nothing is read until [`Self::owners`]).
    #[must_use]
    pub(crate) fn open(root: &Path) -> Self {
        let distro = ["etc/os-release", "usr/lib/os-release"]
            .iter()
            .find_map(|p| std::fs::read_to_string(root.join(p)).ok())
            .and_then(|text| os_release_id(&text));
        Self {
            root: root.to_path_buf(),
            distro,
        }
    }

    /// The package owning each of `paths` (paths inside the root) by dpkg's or apk's database
    /// (rpm: [`Self::has_rpm_db`]). Each path is tried as given
    /// and as its merged-`/usr` twin (`/lib/x` for `/usr/lib/x` and back), since package lists
    /// name the path the package installed while the resolver reports the real path.
    ///
    /// dpkg's file lists are scanned once for all paths together (no index of every file is
    /// built: a repair asks about a handful of files), and only the owning packages' versions
    /// are looked up in `status`.
    #[must_use]
    pub(crate) fn owners(&self, paths: &[&Path]) -> Vec<Option<Owner>> {
        let candidates: Vec<Vec<String>> = paths.iter().map(|p| twins(p)).collect();
        let mut found: Vec<Option<Owner>> = vec![None; paths.len()];
        self.dpkg_owners(&candidates, &mut found);
        if found.iter().any(Option::is_none) {
            self.apk_owners(&candidates, &mut found);
        }
        found
    }

    fn dpkg_owners(&self, candidates: &[Vec<String>], found: &mut [Option<Owner>]) {
        let Ok(status) = std::fs::read_to_string(self.root.join("var/lib/dpkg/status")) else {
            return;
        };
        let Ok(dir) = std::fs::read_dir(self.root.join("var/lib/dpkg/info")) else {
            return;
        };
        // `{index: (package, arch)}` from the `.list` files that name a candidate on a line.
        let needles: Vec<Vec<Vec<u8>>> = candidates
            .iter()
            .map(|c| c.iter().map(|p| format!("\n{p}\n").into_bytes()).collect())
            .collect();
        let mut owners: Vec<Option<(String, Option<String>)>> = vec![None; candidates.len()];
        let mut lists: Vec<PathBuf> = dir
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "list"))
            .collect();
        lists.sort();
        for list in lists {
            if owners.iter().all(Option::is_some) {
                break;
            }
            let Ok(mut text) = std::fs::read(&list) else {
                continue;
            };
            text.insert(0, b'\n');
            if text.last() != Some(&b'\n') {
                text.push(b'\n');
            }
            for (owner, needles) in owners.iter_mut().zip(&needles) {
                if owner.is_none()
                    && needles
                        .iter()
                        .any(|n| memchr::memmem::find(&text, n).is_some())
                {
                    let stem = list
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    *owner = Some(match stem.split_once(':') {
                        Some((p, a)) => (p.to_owned(), Some(a.to_owned())),
                        None => (stem, None),
                    });
                }
            }
        }
        let versions = dpkg_status(&status);
        for (slot, owner) in found.iter_mut().zip(owners) {
            let Some((package, arch)) = owner else {
                continue;
            };
            let version = versions
                .get(&(package.clone(), arch))
                .or_else(|| versions.get(&(package.clone(), None)));
            if let Some(version) = version {
                *slot = Some(Owner {
                    kind: "deb",
                    distro: self.distro.clone(),
                    name: package,
                    version: version.clone(),
                });
            }
        }
    }

    fn apk_owners(&self, candidates: &[Vec<String>], found: &mut [Option<Owner>]) {
        let Ok(installed) = std::fs::read_to_string(self.root.join("lib/apk/db/installed")) else {
            return;
        };
        let files = apk_installed(&installed);
        for (slot, candidates) in found.iter_mut().zip(candidates) {
            if slot.is_none() {
                *slot = candidates
                    .iter()
                    .find_map(|c| files.get(c))
                    .map(|(name, version)| Owner {
                        kind: "apk",
                        distro: self.distro.clone(),
                        name: name.clone(),
                        version: version.clone(),
                    });
            }
        }
    }

    /// Whether the root has an rpm database. rpm's database is binary: the caller asks the
    /// `rpm` program (`rpm --root <root> -qf --queryformat` [`RPM_QUERY_FORMAT`] `<path>`) for
    /// the files [`Self::owners`] left unowned, and reads its answer with [`Self::rpm_owner`].
    #[must_use]
    pub(crate) fn has_rpm_db(&self) -> bool {
        ["var/lib/rpm", "usr/lib/sysimage/rpm"]
            .iter()
            .any(|d| self.root.join(d).is_dir())
    }

    /// The owner in `rpm -qf --queryformat` [`RPM_QUERY_FORMAT`] output (`name version release`).
    #[must_use]
    pub(crate) fn rpm_owner(&self, query_output: &str) -> Option<Owner> {
        let mut parts = query_output.split_whitespace();
        let (name, version, release) = (parts.next()?, parts.next()?, parts.next()?);
        Some(Owner {
            kind: "rpm",
            distro: self.distro.clone(),
            name: name.to_owned(),
            version: format!("{version}-{release}"),
        })
    }
}

/// The `--queryformat` of the rpm query [`PackageDb::rpm_owner`] reads.
pub(crate) const RPM_QUERY_FORMAT: &str = "%{NAME} %{VERSION} %{RELEASE}";

/// `path` and its merged-`/usr` twin.
fn twins(path: &Path) -> Vec<String> {
    let text = path.to_string_lossy().into_owned();
    let twin = text
        .strip_prefix("/usr")
        .map_or_else(|| format!("/usr{text}"), str::to_owned);
    vec![text, twin]
}

fn os_release_id(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let value = line.strip_prefix("ID=")?.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        (!value.is_empty()).then(|| value.to_owned())
    })
}

/// `{(package, arch or None): version}` of the installed packages in a dpkg `status` file.
fn dpkg_status(status: &str) -> HashMap<(String, Option<String>), String> {
    let mut versions = HashMap::new();
    for stanza in status.split("\n\n") {
        let field = |name: &str| {
            stanza
                .lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(':').map(str::trim))
        };
        let (Some(package), Some(version)) = (field("Package"), field("Version")) else {
            continue;
        };
        if !field("Status").is_some_and(|s| s.ends_with(" installed")) {
            continue;
        }
        let arch = field("Architecture").map(str::to_owned);
        versions.insert((package.to_owned(), arch), version.to_owned());
        versions
            .entry((package.to_owned(), None))
            .or_insert_with(|| version.to_owned());
    }
    versions
}

/// `{path: (package, version)}` from apk's `installed` database (`P:`, `V:`, `F:` and `R:`
/// lines; paths without the leading `/`).
fn apk_installed(installed: &str) -> HashMap<String, (String, String)> {
    let mut files = HashMap::new();
    for stanza in installed.split("\n\n") {
        let (mut package, mut version, mut dir) = (None, None, String::new());
        let mut paths = Vec::new();
        for line in stanza.lines() {
            match line.split_once(':') {
                Some(("P", v)) => package = Some(v.to_owned()),
                Some(("V", v)) => version = Some(v.to_owned()),
                Some(("F", v)) => dir = v.to_owned(),
                Some(("R", v)) => paths.push(format!("/{dir}/{v}")),
                _ => {}
            }
        }
        if let (Some(package), Some(version)) = (package, version) {
            for path in paths {
                files.insert(path, (package.clone(), version.clone()));
            }
        }
    }
    files
}

#[derive(Serialize)]
struct Document<'a> {
    #[serde(rename = "bomFormat")]
    bom_format: &'static str,
    #[serde(rename = "specVersion")]
    spec_version: &'static str,
    version: u32,
    metadata: Metadata<'a>,
    components: Vec<Component>,
    dependencies: Vec<Dependency>,
}

#[derive(Serialize)]
struct Metadata<'a> {
    component: Component,
    tools: Vec<Tool<'a>>,
}

#[derive(Serialize)]
struct Tool<'a> {
    name: &'a str,
    version: &'a str,
}

#[derive(Serialize, Clone)]
struct Component {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "bom-ref")]
    bom_ref: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hashes: Vec<Hash>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
}

#[derive(Serialize, Clone)]
struct Hash {
    alg: &'static str,
    content: String,
}

#[derive(Serialize, Clone)]
struct Property {
    name: &'static str,
    value: String,
}

#[derive(Serialize)]
struct Dependency {
    #[serde(rename = "ref")]
    reference: String,
    #[serde(rename = "dependsOn", skip_serializing_if = "Option::is_none")]
    depends_on: Option<Vec<String>>,
}

/// The SBOM of a repaired wheel named `wheel_file_name` (the output name) whose grafted
/// libraries are `grafts`; `owners[i]` is the package owning the file of `grafts[i]`
/// ([`PackageDb::owners`]). Returns the JSON bytes (pretty-printed, ending with a newline).
#[must_use]
pub(crate) fn document(
    wheel_file_name: &str,
    name: &str,
    version: &str,
    grafts: &[Graft],
    owners: &[Option<Owner>],
) -> Vec<u8> {
    use sha2::Digest as _;
    let wheel_purl = format!(
        "pkg:pypi/{}@{}?file_name={}",
        quote(name),
        quote(version),
        quote(wheel_file_name)
    );
    let wheel = Component {
        kind: "library",
        bom_ref: wheel_purl.clone(),
        name: name.to_owned(),
        version: Some(version.to_owned()),
        purl: Some(wheel_purl.clone()),
        hashes: Vec::new(),
        properties: Vec::new(),
    };
    // (sort key, component); auditwheel orders by (purl, path).
    let mut libraries: Vec<((String, String), Component)> = Vec::new();
    for (index, graft) in grafts.iter().enumerate() {
        let source_text = graft.source.to_string();
        let owned = owners.get(index).cloned().flatten();
        let path_hash = crate::publish::dist::hex(&sha2::Sha256::digest(source_text.as_bytes()));
        let (bom_ref, name, version, purl) = match &owned {
            Some(o) => {
                let purl = o.purl();
                (
                    format!("{purl}#{path_hash}"),
                    o.name.clone(),
                    Some(o.version.clone()),
                    Some(purl),
                )
            }
            None => (
                format!("file:{source_text}#{path_hash}"),
                graft.soname.clone(),
                None,
                None,
            ),
        };
        let component = Component {
            kind: "library",
            bom_ref,
            name,
            version,
            purl: purl.clone(),
            hashes: vec![Hash {
                alg: "SHA-256",
                content: graft.sha256.clone(),
            }],
            properties: vec![
                Property {
                    name: "wheelwright:soname",
                    value: graft.soname.clone(),
                },
                Property {
                    name: "wheelwright:grafted-from",
                    value: source_text.clone(),
                },
                Property {
                    name: "wheelwright:path-in-wheel",
                    value: graft.path.clone(),
                },
            ],
        };
        libraries.push(((purl.unwrap_or_default(), source_text), component));
    }
    libraries.sort_by(|a, b| a.0.cmp(&b.0));
    let refs: Vec<String> = libraries.iter().map(|(_, c)| c.bom_ref.clone()).collect();
    let mut dependencies = vec![Dependency {
        reference: wheel_purl,
        depends_on: Some(refs.clone()),
    }];
    dependencies.extend(refs.into_iter().map(|r| Dependency {
        reference: r,
        depends_on: None,
    }));
    let mut components = vec![wheel.clone()];
    components.extend(libraries.into_iter().map(|(_, c)| c));
    let document = Document {
        bom_format: "CycloneDX",
        spec_version: "1.4",
        version: 1,
        metadata: Metadata {
            component: wheel,
            tools: vec![Tool {
                name: "wheelwright",
                version: env!("CARGO_PKG_VERSION"),
            }],
        },
        components,
        dependencies,
    };
    let mut bytes = serde_json::to_vec_pretty(&document).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graft(source: &str, soname: &str, path: &str) -> Graft {
        Graft {
            soname: soname.to_owned(),
            source: crate::audit::resolve::Location::Host(PathBuf::from(source)),
            sha256: "ab".repeat(32),
            new_name: path.rsplit('/').next().unwrap_or(path).to_owned(),
            path: path.to_owned(),
            replace_needed: Vec::new(),
            rpath: None,
        }
    }

    fn root() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let at = |p: &str| {
            let path = dir.path().join(p);
            fs_err::create_dir_all(path.parent().unwrap()).unwrap();
            path
        };
        fs_err::write(
            at("etc/os-release"),
            "PRETTY_NAME=\"Debian GNU/Linux 11 (bullseye)\"\nID=debian\n",
        )
        .unwrap();
        fs_err::write(
            at("var/lib/dpkg/status"),
            "Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:1.2.11.dfsg-2+deb11u2\n\n\
             Package: zlib1g\nStatus: deinstall ok config-files\nArchitecture: i386\nVersion: 1:1.2.8\n\n\
             Package: libsqlite3-0\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.34.1-3\n",
        )
        .unwrap();
        fs_err::write(
            at("var/lib/dpkg/info/zlib1g:amd64.list"),
            "/.\n/lib\n/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu/libz.so.1.2.11\n",
        )
        .unwrap();
        fs_err::write(
            at("var/lib/dpkg/info/libsqlite3-0:amd64.list"),
            "/usr/lib/x86_64-linux-gnu/libsqlite3.so.0.8.6\n",
        )
        .unwrap();
        dir
    }

    #[test]
    fn dpkg_owners_with_merged_usr() {
        let dir = root();
        let db = PackageDb::open(dir.path());
        let found = db.owners(&[
            Path::new("/usr/lib/x86_64-linux-gnu/libz.so.1.2.11"),
            Path::new("/usr/lib/x86_64-linux-gnu/libsqlite3.so.0.8.6"),
            Path::new("/opt/libdemo.so.1"),
            Path::new("/usr/lib/x86_64-linux-gnu/libz.so.1"),
        ]);
        let zlib = found[0].clone().unwrap();
        assert_eq!(zlib.name, "zlib1g");
        assert_eq!(zlib.version, "1:1.2.11.dfsg-2+deb11u2");
        assert_eq!(
            zlib.purl(),
            "pkg:deb/debian/zlib1g@1%3A1.2.11.dfsg-2%2Bdeb11u2"
        );
        let sqlite = found[1].clone().unwrap();
        assert_eq!(sqlite.purl(), "pkg:deb/debian/libsqlite3-0@3.34.1-3");
        assert_eq!(found[2], None);
        // Whole lines only: a prefix of a listed file is not that file.
        assert_eq!(found[3], None);
    }

    #[test]
    fn rpm_answers() {
        let db = PackageDb::open(Path::new("/nonexistent"));
        let owner = db.rpm_owner("openssl-libs 3.0.7 27.el9\n").unwrap();
        assert_eq!(owner.purl(), "pkg:rpm/openssl-libs@3.0.7-27.el9");
        assert_eq!(db.rpm_owner(""), None);
    }

    #[test]
    fn apk_owners() {
        let text = "C:Q1\nP:zlib\nV:1.3.1-r0\nA:x86_64\nF:lib\nR:libz.so.1.3.1\nR:libz.so.1\n\nP:musl\nV:1.2.5-r0\nF:lib\nR:ld-musl-x86_64.so.1\n";
        let files = apk_installed(text);
        assert_eq!(
            files.get("/lib/libz.so.1.3.1"),
            Some(&("zlib".to_owned(), "1.3.1-r0".to_owned()))
        );
        assert_eq!(files.len(), 3);
    }

    #[test]
    fn document_lists_every_graft_deterministically() {
        let dir = root();
        let db = PackageDb::open(dir.path());
        let grafts = [
            graft(
                "/usr/lib/x86_64-linux-gnu/libsqlite3.so.0.8.6",
                "libsqlite3.so.0",
                "demo.libs/libsqlite3-abababab.so.0.8.6",
            ),
            graft(
                "/opt/lib/libdemo.so.1.0",
                "libdemo.so.1",
                "demo.libs/libdemo-abababab.so.1.0",
            ),
        ];
        let name = "demo-1.0-cp39-cp39-manylinux_2_17_x86_64.whl";
        let paths: Vec<PathBuf> = grafts
            .iter()
            .map(|g| PathBuf::from(g.source.to_string()))
            .collect();
        let owners = db.owners(&paths.iter().map(PathBuf::as_path).collect::<Vec<_>>());
        let bytes = document(name, "demo", "1.0", &grafts, &owners);
        assert_eq!(bytes, document(name, "demo", "1.0", &grafts, &owners));
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(value["bomFormat"], "CycloneDX");
        assert_eq!(value["specVersion"], "1.4");
        let wheel_purl = "pkg:pypi/demo@1.0?file_name=demo-1.0-cp39-cp39-manylinux_2_17_x86_64.whl";
        assert_eq!(value["metadata"]["component"]["purl"], wheel_purl);
        let components = value["components"].as_array().unwrap();
        assert_eq!(components.len(), 3);
        // Unowned first (empty purl sorts first), then by purl.
        assert_eq!(components[1]["name"], "libdemo.so.1");
        assert!(components[1].get("purl").is_none());
        assert_eq!(components[2]["name"], "libsqlite3-0");
        assert_eq!(components[2]["version"], "3.34.1-3");
        assert_eq!(
            components[2]["purl"],
            "pkg:deb/debian/libsqlite3-0@3.34.1-3"
        );
        assert_eq!(components[2]["hashes"][0]["alg"], "SHA-256");
        let bom_ref = components[2]["bom-ref"].as_str().unwrap();
        assert!(
            bom_ref.starts_with("pkg:deb/debian/libsqlite3-0@3.34.1-3#"),
            "{bom_ref}"
        );
        assert_eq!(value["dependencies"][0]["ref"], wheel_purl);
        assert_eq!(
            value["dependencies"][0]["dependsOn"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
    }
}
