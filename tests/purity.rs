//! The pure domain modules stay synchronous and free of network and subprocess code (the
//! project's layout rule): every Rust file under them is scanned up to its `#[cfg(test)]` part,
//! so a new file is covered too.

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
    for file in &files {
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
