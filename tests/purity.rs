//! The pure core stays synchronous and free of network and subprocess code (the project's layout
//! rule), held two ways:
//!
//! * the workspace crates under `crates/` by their dependencies: every crate there is listed
//!   below with the dependencies it may have, none of them reaches an async runtime, HTTP client,
//!   process-spawning or signal crate through `Cargo.lock`, and each has a `clippy.toml` that
//!   disallows the process and network APIs of `std` in its code;
//! * the pure modules that stay in the main crate by a text scan: every Rust file under them is
//!   scanned up to its `#[cfg(test)]` part (a sibling `tests.rs` declared `#[cfg(test)] mod
//!   tests;` is all test code), so a new file is covered too.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Modules of the main crate that must stay pure (scanned as text).
const PURE_MODULES: [&str; 4] = ["audit", "repair", "check", "config"];

/// Every crate under `crates/` (by directory) with the dependencies it may have (normal and
/// build dependencies, on any target). A new crate or dependency is added here on purpose.
const PURE_CRATES: [(&str, &[&str]); 5] = [
    ("platform", &["serde", "thiserror"]),
    ("scratch", &["sha2", "tempfile", "tracing"]),
    (
        "elf",
        &[
            "fs-err",
            "goblin",
            "memchr",
            "serde",
            "tempfile",
            "thiserror",
            "wheelwright-platform",
        ],
    ),
    (
        "wheel",
        &[
            "base64",
            "csv",
            "flate2",
            "fs-err",
            "memchr",
            "pep440_rs",
            "sha2",
            "tempfile",
            "thiserror",
            "tracing",
            "wheelwright-platform",
            "wheelwright-scratch",
            "zip",
        ],
    ),
    ("rst", &["unicode-width"]),
];

/// Packages the pure crates may not reach, directly or through other packages (a name that
/// ends in `-` bans the family).
const BANNED_PACKAGES: [&str; 13] = [
    "tokio",
    "tokio-",
    "mio",
    "async-std",
    "reqwest",
    "hyper",
    "hyper-",
    "ureq",
    "curl",
    "octocrab",
    "sigstore-",
    "signal-hook",
    "signal-hook-",
];

/// The `std` paths each pure crate's `clippy.toml` must disallow.
const DISALLOWED_IN_CLIPPY_TOML: [&str; 5] = [
    "\"std::process::Command\"",
    "\"std::process::Command::new\"",
    "\"std::net::TcpStream\"",
    "\"std::net::TcpListener::bind\"",
    "\"std::thread::spawn\"",
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read_toml(path: &Path) -> toml::Table {
    let text = std::fs::read_to_string(path).expect("read TOML file");
    text.parse()
        .unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

fn is_banned(package: &str) -> bool {
    BANNED_PACKAGES
        .iter()
        .any(|banned| match banned.strip_suffix('-') {
            Some(family) => package.starts_with(&format!("{family}-")),
            None => package == *banned,
        })
}

/// The dependency tables of a manifest that end up in the crate's build: `[dependencies]`,
/// `[build-dependencies]` and their `[target.'…'.…]` forms (not `[dev-dependencies]`).
fn build_dependency_tables(manifest: &toml::Table) -> Vec<&toml::Table> {
    let kinds = ["dependencies", "build-dependencies"];
    let mut tables: Vec<&toml::Table> = kinds
        .iter()
        .filter_map(|kind| manifest.get(*kind)?.as_table())
        .collect();
    if let Some(targets) = manifest.get("target").and_then(toml::Value::as_table) {
        for target in targets.values().filter_map(toml::Value::as_table) {
            tables.extend(
                kinds
                    .iter()
                    .filter_map(|kind| target.get(*kind)?.as_table()),
            );
        }
    }
    tables
}

/// The package a dependency entry names (`package = "…"` renames) and the features it enables,
/// with those of `[workspace.dependencies]` when it says `workspace = true`.
fn resolve_entry(
    key: &str,
    entry: &toml::Value,
    workspace: &toml::Table,
) -> (String, BTreeSet<String>) {
    let mut package = key.to_owned();
    let mut features = BTreeSet::new();
    let mut collect = |value: &toml::Value| {
        if let Some(table) = value.as_table() {
            if let Some(name) = table.get("package").and_then(toml::Value::as_str) {
                package = name.to_owned();
            }
            let listed = table.get("features").and_then(toml::Value::as_array);
            features.extend(
                listed
                    .into_iter()
                    .flatten()
                    .filter_map(|f| f.as_str().map(str::to_owned)),
            );
        }
    };
    collect(entry);
    if entry.get("workspace").and_then(toml::Value::as_bool) == Some(true) {
        let inherited = workspace
            .get(key)
            .unwrap_or_else(|| panic!("`{key}` is not in [workspace.dependencies]"));
        collect(inherited);
    }
    (package, features)
}

/// Every package `start` reaches through `Cargo.lock` (on any target, with the features the
/// workspace enables), with the path it took to get there.
fn reachable(lock: &toml::Table, start: &[String]) -> BTreeMap<String, Vec<String>> {
    let mut dependencies: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for package in lock["package"].as_array().expect("[[package]] list") {
        let name = package["name"].as_str().expect("package name");
        let listed = package.get("dependencies").and_then(toml::Value::as_array);
        let entry = dependencies.entry(name).or_default();
        // `name` or `name version` when the lock file holds several versions.
        entry.extend(
            listed
                .into_iter()
                .flatten()
                .filter_map(|d| d.as_str()?.split(' ').next()),
        );
    }
    let mut paths: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut queue: Vec<Vec<String>> = start.iter().map(|name| vec![name.clone()]).collect();
    while let Some(path) = queue.pop() {
        let name = path.last().expect("non-empty path").clone();
        if paths.contains_key(&name) {
            continue;
        }
        for next in dependencies.get(name.as_str()).into_iter().flatten() {
            let mut longer = path.clone();
            longer.push((*next).to_owned());
            queue.push(longer);
        }
        paths.insert(name, path);
    }
    paths
}

/// What is wrong with the dependencies of the workspace crates under `crates/`.
fn crate_offences() -> Vec<String> {
    let root_manifest = read_toml(&root().join("Cargo.toml"));
    let workspace = root_manifest["workspace"]["dependencies"]
        .as_table()
        .expect("[workspace.dependencies]");
    let lock = read_toml(&root().join("Cargo.lock"));
    let listed: BTreeMap<&str, &[&str]> = PURE_CRATES.into_iter().collect();
    let mut offences = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join("crates"))
        .expect("read crates/")
        .map(|entry| entry.expect("dir entry").path())
        .filter(|path| path.join("Cargo.toml").is_file())
        .collect();
    dirs.sort();
    let found: Vec<String> = dirs
        .iter()
        .map(|d| d.file_name().expect("name").to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        found,
        listed.keys().map(|k| (*k).to_owned()).collect::<Vec<_>>(),
        "every crate under crates/ is listed in PURE_CRATES, and only those"
    );
    for (dir, name) in dirs.iter().zip(&found) {
        let allowed = listed[name.as_str()];
        let manifest = read_toml(&dir.join("Cargo.toml"));
        let mut direct = Vec::new();
        for table in build_dependency_tables(&manifest) {
            for (key, entry) in table {
                let (package, features) = resolve_entry(key, entry, workspace);
                if !allowed.contains(&package.as_str()) {
                    offences.push(format!(
                        "crates/{name} depends on `{package}`, which is not in its allowed list"
                    ));
                }
                if is_banned(&package) {
                    offences.push(format!("crates/{name} depends on `{package}`"));
                }
                if package == "rustix" && features.contains("process") {
                    offences.push(format!("crates/{name} enables rustix's `process` feature"));
                }
                direct.push(package);
            }
        }
        for (package, path) in reachable(&lock, &direct) {
            if is_banned(&package) {
                offences.push(format!(
                    "crates/{name} reaches `{package}` through {}",
                    path.join(" -> ")
                ));
            }
        }
        let clippy = std::fs::read_to_string(dir.join("clippy.toml")).unwrap_or_default();
        for path in DISALLOWED_IN_CLIPPY_TOML {
            if !clippy.contains(path) {
                offences.push(format!(
                    "crates/{name}/clippy.toml does not disallow {path}"
                ));
            }
        }
    }
    offences
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Whether `file` is a sibling unit-test file: a `tests.rs` its parent module declares as
/// `#[cfg(test)] mod tests;` (`foo/tests.rs` of `foo.rs` or of `foo/mod.rs`). Like the
/// `#[cfg(test)]` part of a file, it is test code; a `tests.rs` declared otherwise is scanned.
fn is_unit_test_file(file: &Path) -> bool {
    if file.file_name().is_none_or(|name| name != "tests.rs") {
        return false;
    }
    let Some(dir) = file.parent() else {
        return false;
    };
    [dir.with_extension("rs"), dir.join("mod.rs")]
        .iter()
        .filter_map(|parent| std::fs::read_to_string(parent).ok())
        .any(|text| text.contains("#[cfg(test)]\nmod tests;"))
}

/// What the text scan finds in the pure modules of the main crate.
fn module_offences() -> Vec<String> {
    let src = root().join("src");
    // Built from pieces so that this file does not match itself if it is ever moved under src/.
    let banned = [
        ["std::", "process"].concat(),
        ["std::", "net"].concat(),
        ["tok", "io"].concat(),
        ["req", "west"].concat(),
        ["Com", "mand::new"].concat(),
    ];
    let mut files = Vec::new();
    for module in PURE_MODULES {
        rust_files(&src.join(module), &mut files);
    }
    assert!(files.len() > 20, "found only {} files", files.len());
    let mut offences = Vec::new();
    for file in files.iter().filter(|file| !is_unit_test_file(file)) {
        let text = std::fs::read_to_string(file).expect("read source");
        // Unit tests may drive oracles (readelf, strip): only the code above them counts.
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        for word in &banned {
            if text.contains(word.as_str()) {
                offences.push(format!("`{word}` in {}", file.display()));
            }
        }
    }
    offences
}

#[test]
fn pure_modules_use_no_process_network_or_async_code() {
    let mut offences = crate_offences();
    offences.extend(module_offences());
    assert!(offences.is_empty(), "{}", offences.join("\n"));
}

#[test]
fn banned_packages_are_recognised() {
    for banned in [
        "tokio",
        "tokio-util",
        "hyper-util",
        "sigstore-sign",
        "signal-hook-registry",
    ] {
        assert!(is_banned(banned), "{banned}");
    }
    for allowed in ["tokio_like", "hyperx", "zip", "rustix", "signal"] {
        assert!(!is_banned(allowed), "{allowed}");
    }
}
