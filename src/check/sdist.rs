//! Source distribution checks (`.tar.gz`).
//!
//! Fact source: pypi/warehouse `warehouse/forklift/legacy.py`: `_is_valid_dist_file` (a gzip
//! tar whose members share a top-level prefix, with `PKG-INFO` under it; the prefix is
//! `os.path.commonprefix` of the member names), the PEP 625 file name check in `file_upload`
//! (`packaging.utils.parse_sdist_filename`, then exactly
//! `{normalized name with _}-{normalized version}.tar.gz`), `License-File` under the prefix,
//! and "Only one sdist may be uploaded per release".

use std::io::Read as _;
use std::path::Path;
use std::str::FromStr;

use pep440_rs::Version;

use super::Finding;
use super::metadata::{self, Identity};
use crate::wheel::{HeaderFile, normalize_name};

/// Upper bound for the `PKG-INFO` read.
const METADATA_LIMIT: u64 = 64 * 1024 * 1024;

/// `packaging.utils.parse_sdist_filename`: split at the last `-`.
fn parse_filename(filename: &str) -> Result<(String, Version), String> {
    let stem = filename
        .strip_suffix(".tar.gz")
        .ok_or_else(|| "the file name must end with `.tar.gz`".to_owned())?;
    let invalid =
        || format!("`{filename}` is not a valid sdist file name (`{{name}}-{{version}}.tar.gz`)");
    let (name, version) = stem.rsplit_once('-').ok_or_else(invalid)?;
    if name.is_empty() {
        return Err(invalid());
    }
    let version = Version::from_str(version).map_err(|_| invalid())?;
    Ok((name.to_owned(), version))
}

/// Python's `os.path.commonprefix`: the longest common prefix, character by character.
fn common_prefix(names: &[String]) -> String {
    let Some(first) = names.first() else {
        return String::new();
    };
    let mut prefix: Vec<char> = first.chars().collect();
    for name in &names[1..] {
        let common = prefix
            .iter()
            .zip(name.chars())
            .take_while(|(a, b)| **a == *b)
            .count();
        prefix.truncate(common);
    }
    prefix.into_iter().collect()
}

/// Python's `os.path.join(top, name)` for a relative `name`.
fn join(top: &str, name: &str) -> String {
    if top.is_empty() || top.ends_with('/') {
        format!("{top}{name}")
    } else {
        format!("{top}/{name}")
    }
}

/// Member names and the `PKG-INFO` members' contents.
type Members = (Vec<String>, Vec<(String, Vec<u8>)>);

/// Member names (directories without their trailing `/`, like Python's `tarfile`) and the
/// contents of every member called `PKG-INFO`.
fn read_archive(path: &Path) -> Result<Members, String> {
    let file = fs_err::File::open(path).map_err(|e| e.to_string())?;
    let decoder = flate2::read::GzDecoder::new(std::io::BufReader::new(file));
    let mut archive = tar::Archive::new(decoder);
    let entries = archive
        .entries()
        .map_err(|e| format!("not a gzip-compressed tar archive: {e}"))?;
    let mut names = Vec::new();
    let mut pkg_infos = Vec::new();
    for entry in entries {
        let mut entry =
            entry.map_err(|e| format!("not a valid gzip-compressed tar archive: {e}"))?;
        let name = entry
            .path()
            .map_err(|e| format!("a member has an invalid name: {e}"))?
            .to_string_lossy()
            .trim_end_matches('/')
            .to_owned();
        if name.rsplit('/').next() == Some("PKG-INFO") && entry.header().entry_type().is_file() {
            let mut bytes = Vec::new();
            (&mut entry)
                .take(METADATA_LIMIT)
                .read_to_end(&mut bytes)
                .map_err(|e| format!("`{name}` cannot be read: {e}"))?;
            pkg_infos.push((name.clone(), bytes));
        }
        names.push(name);
    }
    if names.is_empty() {
        return Err("not a gzip-compressed tar archive (no members)".to_owned());
    }
    Ok((names, pkg_infos))
}

/// Checks one sdist; also returns its canonical name and version (for the one-sdist rule).
pub(super) fn check(path: &Path, filename: &str) -> (Vec<Finding>, Option<(String, Version)>) {
    let mut problems: Vec<Finding> = Vec::new();
    let parsed = Finding::parsed_filename(parse_filename(filename), &mut problems);
    let (names, pkg_infos) = match read_archive(path) {
        Ok(read) => read,
        Err(message) => {
            problems.push(Finding::error("tar", message));
            return (problems, None);
        }
    };
    let top = common_prefix(&names);
    if matches!(top.as_str(), "" | "." | "/") {
        problems.push(Finding::error(
            "tar",
            "the members do not share one top-level directory (PyPI requires \
             `{name}-{version}/`)"
                .to_owned(),
        ));
        return (problems, None);
    }
    let pkg_info = join(&top, "PKG-INFO");
    let Some((_, bytes)) = pkg_infos.iter().find(|(name, _)| *name == pkg_info) else {
        problems.push(Finding::error(
            "metadata-missing",
            format!("`{pkg_info}` is missing (PyPI requires it)"),
        ));
        return (problems, None);
    };
    let headers = match HeaderFile::parse(bytes) {
        Ok(headers) => headers,
        Err(err) => {
            problems.push(Finding::error(
                "metadata",
                format!("`{pkg_info}` cannot be parsed: {err}"),
            ));
            return (problems, None);
        }
    };
    let (found, identity) = metadata::check(&headers);
    problems.extend(found);
    let Identity {
        name,
        version,
        license_files,
    } = identity;
    for license in &license_files {
        let member = join(&top, license);
        if !names.contains(&member) {
            problems.push(Finding::error(
                "license-file",
                format!("`License-File: {license}` is not in the sdist (expected `{member}`)"),
            ));
        }
    }
    let (Some(name), Some(version)) = (name, version) else {
        return (problems, None);
    };
    let canonical = normalize_name(&name);
    if let Some((file_name, file_version)) = &parsed {
        let expected = format!("{}-{version}.tar.gz", canonical.replace('-', "_"));
        if normalize_name(file_name) != canonical {
            problems.push(Finding::error(
                "filename-name",
                format!(
                    "the file name is for `{file_name}`, but PKG-INFO says `Name: {name}`; \
                     it must be `{expected}`"
                ),
            ));
        } else if *file_version != version {
            problems.push(Finding::error(
                "filename-version",
                format!(
                    "the file name has version `{file_version}`, but PKG-INFO says \
                     `Version: {version}`"
                ),
            ));
        } else if filename != expected {
            problems.push(Finding::pypi(
                "filename-normalization",
                format!("the file name must be `{expected}` (PEP 625), not `{filename}`"),
            ));
        }
    }
    (problems, Some((canonical, version)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_prefix_is_character_wise() {
        let names = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            common_prefix(&names(&["a-1.0", "a-1.0/PKG-INFO", "a-1.0/setup.py"])),
            "a-1.0"
        );
        assert_eq!(
            common_prefix(&names(&["a-1.0/PKG-INFO", "a-1.0/pyproject.toml"])),
            "a-1.0/"
        );
        assert_eq!(common_prefix(&names(&["a/x", "b/y"])), "");
        assert_eq!(join("a-1.0", "PKG-INFO"), "a-1.0/PKG-INFO");
        assert_eq!(join("a-1.0/", "PKG-INFO"), "a-1.0/PKG-INFO");
    }

    #[test]
    fn sdist_file_names() {
        let (name, version) = parse_filename("foo_bar-1.0.post1.tar.gz").unwrap();
        assert_eq!(
            (name.as_str(), version.to_string().as_str()),
            ("foo_bar", "1.0.post1")
        );
        insta::assert_snapshot!(parse_filename("foobar.tar.gz").unwrap_err(), @"`foobar.tar.gz` is not a valid sdist file name (`{name}-{version}.tar.gz`)");
        assert!(parse_filename("foo-bar.tar.gz").is_err());
    }
}
