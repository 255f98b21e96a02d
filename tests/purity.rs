//! The pure domain modules stay synchronous and free of network and subprocess code (the
//! project's layout rule): every Rust file under them is scanned up to its `#[cfg(test)]` part
//! (a sibling `tests.rs` declared `#[cfg(test)] mod tests;` is all test code), so a new file is
//! covered too.

use std::path::{Path, PathBuf};

const PURE_MODULES: [&str; 6] = ["wheel", "elf", "audit", "repair", "check", "config"];

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

#[test]
fn pure_modules_use_no_process_network_or_async_code() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
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
    assert!(offences.is_empty(), "{}", offences.join("\n"));
}
