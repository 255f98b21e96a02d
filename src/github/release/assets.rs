//! The local files of a release: what is uploaded under which asset name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{ReleaseError, Result};

/// The name GitHub gives an uploaded asset: it replaces special characters with `.` (documented
/// without a list; observed for spaces, `~`, `:`, parentheses). Letters, digits, `.`, `_`, `-`
/// and `+` (which we percent-encode) are kept.
#[must_use]
pub(crate) fn asset_name_on_github(file_name: &str) -> String {
    file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+') {
                c
            } else {
                '.'
            }
        })
        .collect()
}

/// One file to upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LocalAsset {
    /// The asset name GitHub will store (the file's name, special characters replaced).
    pub name: String,
    /// The file.
    pub path: PathBuf,
    /// Its size.
    pub size: u64,
    /// Its sha256 (hex).
    pub sha256: String,
}

/// The files to upload: the files given, and the regular files directly inside each directory
/// given (sorted; hidden files skipped), each hashed. Two files with the same asset name are an
/// error.
pub(crate) fn collect_assets(paths: &[PathBuf]) -> Result<Vec<LocalAsset>> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| ReleaseError::Path { path, source }
    };
    let mut found: Vec<PathBuf> = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(io(path))?;
        if meta.is_dir() {
            let mut entries = Vec::new();
            for entry in std::fs::read_dir(path).map_err(io(path))? {
                let entry = entry.map_err(io(path))?;
                let hidden = entry.file_name().to_string_lossy().starts_with('.');
                if !hidden && entry.path().is_file() {
                    entries.push(entry.path());
                }
            }
            entries.sort();
            found.extend(entries);
        } else {
            found.push(path.clone());
        }
    }
    let mut by_name: BTreeMap<String, LocalAsset> = BTreeMap::new();
    for path in found {
        let name = asset_name_on_github(
            &path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
        if let Some(first) = by_name.get(&name) {
            if same_file(&first.path, &path) {
                continue;
            }
            return Err(ReleaseError::DuplicateName {
                name,
                first: first.path.clone(),
                second: path,
            });
        }
        let size = std::fs::metadata(&path).map_err(io(&path))?.len();
        let sha256 = crate::testing::manifest::sha256_file(&path).map_err(io(&path))?;
        by_name.insert(
            name.clone(),
            LocalAsset {
                name,
                path,
                size,
                sha256,
            },
        );
    }
    if by_name.is_empty() {
        let shown: Vec<String> = paths.iter().map(|p| format!("`{}`", p.display())).collect();
        return Err(ReleaseError::NoFiles(shown.join(", ")));
    }
    Ok(by_name.into_values().collect())
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
