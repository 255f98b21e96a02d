//! The central directory listed and validated: safe, unique entry names, and the one
//! `.dist-info` directory that matches the file name.

use super::*;

/// Lists and validates the central directory.
pub(super) fn list_entries(
    zip: &ZipArchive<SharedFile>,
    wheel: &Path,
) -> Result<Vec<EntryInfo>, ArchiveError> {
    let mut entries = Vec::with_capacity(zip.len());
    for index in 0..zip.len() {
        let data = zip
            .by_index_data(index)
            .map_err(|source| ArchiveError::Zip {
                wheel: wheel.to_path_buf(),
                source,
            })?;
        let name = data
            .name()
            .map_err(|source| ArchiveError::EntryName {
                wheel: wheel.to_path_buf(),
                index,
                source,
            })?
            .into_owned();
        if let Err(reason) = check_entry_name(&name) {
            return Err(ArchiveError::UnsafeEntryName {
                wheel: wheel.to_path_buf(),
                entry: name,
                reason,
            });
        }
        if data.encrypted() {
            return Err(ArchiveError::EncryptedEntry {
                wheel: wheel.to_path_buf(),
                entry: name,
            });
        }
        let compression = match data.compression() {
            CompressionMethod::Stored => Compression::Stored,
            CompressionMethod::Deflated => Compression::Deflated,
            other => {
                return Err(ArchiveError::UnsupportedCompression {
                    wheel: wheel.to_path_buf(),
                    entry: name,
                    method: other.to_string(),
                });
            }
        };
        entries.push(EntryInfo {
            is_dir: name.ends_with('/'),
            is_symlink: data.is_symlink(),
            name,
            index,
            compressed_size: data.compressed_size(),
            size: data.size(),
            compression,
            unix_mode: data.unix_mode(),
        });
    }
    Ok(entries)
}

/// Checks that an entry name is a safe relative path; the error is the reason.
pub(crate) fn check_entry_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("the name is empty");
    }
    if name.contains('\0') {
        return Err("contains a NUL byte");
    }
    if name.contains('\\') {
        return Err("contains a backslash");
    }
    if name.starts_with('/') {
        return Err("is an absolute path");
    }
    let path = name.strip_suffix('/').unwrap_or(name);
    for (position, component) in path.split('/').enumerate() {
        match component {
            "" => return Err("has an empty path component"),
            "." => return Err("has a `.` component"),
            ".." => return Err("has a `..` component"),
            _ => {}
        }
        let bytes = component.as_bytes();
        if position == 0 && bytes.len() == 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
            return Err("starts with a drive letter");
        }
    }
    Ok(())
}

/// Finds the one `.dist-info` directory at the top of the archive and checks that its name and
/// version are the file name's (names compared after PEP 503 normalisation, versions as PEP 440
/// versions). Several `.dist-info` directories are an error, as for installers.
pub(super) fn find_dist_info(
    entries: &[EntryInfo],
    filename: &WheelFilename,
    wheel: &Path,
) -> Result<String, ArchiveError> {
    let expected = filename.dist_info_dir();
    let mut dirs: Vec<&str> = entries
        .iter()
        .filter_map(|entry| entry.name.split_once('/').map(|(top, _)| top))
        .filter(|top| top.ends_with(".dist-info"))
        .collect();
    dirs.sort_unstable();
    dirs.dedup();
    match dirs.as_slice() {
        [] => Err(ArchiveError::MissingDistInfo {
            wheel: wheel.to_path_buf(),
            expected,
        }),
        [dir] if *dir == expected || dist_info_matches(dir, filename) => Ok((*dir).to_owned()),
        [dir] => Err(ArchiveError::DistInfoMismatch {
            wheel: wheel.to_path_buf(),
            found: (*dir).to_owned(),
            expected,
        }),
        _ => Err(ArchiveError::SeveralDistInfo {
            wheel: wheel.to_path_buf(),
            dirs: dirs.iter().map(|d| (*d).to_owned()).collect(),
        }),
    }
}

/// Whether `dir` (`name-version.dist-info`) names the file name's distribution and version.
pub(super) fn dist_info_matches(dir: &str, filename: &WheelFilename) -> bool {
    let Some((name, version)) = dir
        .strip_suffix(".dist-info")
        .and_then(|stem| stem.rsplit_once('-'))
    else {
        return false;
    };
    if normalize_name(name) != normalize_name(&filename.name) {
        return false;
    }
    match (
        pep440_rs::Version::from_str(version),
        pep440_rs::Version::from_str(&filename.version),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => version == filename.version,
    }
}
