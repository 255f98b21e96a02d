//! Wheel checks: the file name, the ZIP structure, `WHEEL`/`RECORD`/`METADATA` where PyPI
//! looks for them, the metadata, every `RECORD` hash, and compiled code in pure wheels.
//!
//! Fact source: pypi/warehouse `warehouse/forklift/legacy.py` (`file_upload` after
//! `_is_valid_dist_file`: `parse_wheel_filename`, `_valid_platform_tag`, the canonical name
//! and the normalized file-name prefix, the version, `License-File` under
//! `{name}-{version}.dist-info/licenses/`, the RECORD and METADATA files), where the
//! `.dist-info` directory is `{name}-{version}` exactly as spelled in the file name.

use std::io::Read as _;
use std::path::Path;
use std::str::FromStr;

use pep440_rs::Version;

use super::metadata::{self, Identity};
use super::{Finding, platform, zipcheck};
use crate::wheel::{ArchiveError, HeaderFile, WheelArchive, normalize_name};

/// Upper bound for the metadata files read (as in the wheel archive reader).
const METADATA_LIMIT: u64 = 64 * 1024 * 1024;

/// At most this many ELF files are named in the pure-wheel warning.
const MAX_NAMED_BINARIES: usize = 3;

#[derive(Debug)]
/// The parts of a wheel file name PyPI parses (`packaging.utils.parse_wheel_filename`).
struct Parsed<'a> {
    /// The name as spelled.
    name: &'a str,
    /// The version as spelled.
    version_text: &'a str,
    version: Version,
    abis: Vec<&'a str>,
    platforms: Vec<&'a str>,
}

impl Parsed<'_> {
    /// Tagged for every Python ABI and platform (`py3-none-any`).
    fn is_pure(&self) -> bool {
        self.abis.iter().all(|abi| *abi == "none") && self.platforms.iter().all(|p| *p == "any")
    }
}

fn parse_filename(filename: &str) -> Result<Parsed<'_>, String> {
    let Some(stem) = filename.strip_suffix(".whl") else {
        return Err("the file name must end with `.whl`".to_owned());
    };
    let parts: Vec<&str> = stem.split('-').collect();
    if !(parts.len() == 5 || parts.len() == 6) {
        return Err(format!(
            "`{filename}` is not a valid wheel file name: expected \
             `{{name}}-{{version}}[-{{build}}]-{{python}}-{{abi}}-{{platform}}.whl`"
        ));
    }
    let name = parts[0];
    if name.is_empty()
        || name.contains("__")
        || !name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
    {
        return Err(format!(
            "`{filename}` is not a valid wheel file name: invalid project name `{name}`"
        ));
    }
    let version = Version::from_str(parts[1]).map_err(|_| {
        format!(
            "`{filename}` is not a valid wheel file name: `{}` is not a valid PEP 440 version",
            parts[1]
        )
    })?;
    if parts.len() == 6 && !parts[2].starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!(
            "`{filename}` is not a valid wheel file name: the build tag `{}` must start with a \
             digit",
            parts[2]
        ));
    }
    let tags = &parts[parts.len() - 3..];
    if tags.iter().any(|t| t.split('.').any(str::is_empty)) {
        return Err(format!(
            "`{filename}` is not a valid wheel file name: empty tag"
        ));
    }
    Ok(Parsed {
        name,
        version_text: parts[1],
        version,
        abis: tags[1].split('.').collect(),
        platforms: tags[2].split('.').collect(),
    })
}

/// Checks one wheel.
pub(super) fn check(path: &Path, filename: &str) -> Vec<Finding> {
    let mut problems: Vec<Finding> = Vec::new();
    let parsed = Finding::parsed_filename(parse_filename(filename), &mut problems);
    if let Some(parsed) = &parsed {
        for tag in &parsed.platforms {
            if !platform::is_allowed(tag) {
                let hint = if tag.starts_with("linux_") {
                    " (repair the wheel to a manylinux or musllinux tag first)"
                } else {
                    ""
                };
                problems.push(Finding::pypi(
                    "platform-tag",
                    format!("platform tag `{tag}` is not accepted by PyPI{hint}"),
                ));
            }
        }
    }
    let directory = match zipcheck::Directory::read(path) {
        Ok(directory) => directory,
        Err(message) => {
            problems.push(Finding::error("zip", message));
            return problems;
        }
    };
    if let Some(finding) = zipcheck::check(path, &directory) {
        problems.push(finding);
    }
    // PyPI looks for `{name}-{version}.dist-info` with the file name's spelling.
    let dist_info = filename.split('-').take(2).collect::<Vec<_>>().join("-");
    let dist_info = format!("{dist_info}.dist-info");
    let contents = read_entries(path, &dist_info);
    if !contents.has("WHEEL") {
        problems.push(Finding::error(
            "wheel-file",
            format!("`{dist_info}/WHEEL` is missing (PyPI requires it)"),
        ));
    }
    if !contents.has("RECORD") {
        problems.push(Finding::error(
            "record-missing",
            format!("`{dist_info}/RECORD` is missing (PyPI requires it)"),
        ));
    }
    problems.extend(layout_findings(&contents));
    let mut identity = Identity::default();
    match &contents.metadata {
        None => problems.push(Finding::error(
            "metadata-missing",
            format!("`{dist_info}/METADATA` is missing (PyPI requires it)"),
        )),
        Some(Err(message)) => problems.push(Finding::error("metadata", message.clone())),
        Some(Ok(headers)) => {
            let (found, id) = metadata::check(headers);
            problems.extend(found);
            identity = id;
        }
    }
    if let (Some(parsed), Some(name)) = (&parsed, &identity.name) {
        compare_names(parsed, name, identity.version.as_ref(), &mut problems);
    }
    for license in &identity.license_files {
        let entry = format!("{dist_info}/licenses/{license}");
        if !contents.names.contains(&entry) {
            problems.push(Finding::error(
                "license-file",
                format!("`License-File: {license}` is not in the wheel (expected `{entry}`)"),
            ));
        }
    }
    let openable = parsed.is_some()
        && contents.has("RECORD")
        && contents.has("WHEEL")
        && matches!(contents.metadata, Some(Ok(_)));
    if openable {
        match WheelArchive::open(path).and_then(|archive| archive.verify_all()) {
            // `WHEEL`/`METADATA` contents and the `.dist-info` layout are reported above.
            Ok(())
            | Err(
                ArchiveError::Metadata { .. }
                | ArchiveError::MissingDistInfo { .. }
                | ArchiveError::SeveralDistInfo { .. }
                | ArchiveError::DistInfoMismatch { .. }
                | ArchiveError::UnsupportedWheelVersion { .. },
            ) => {}
            Err(err) => problems.push(Finding::error("record", error_chain(&err))),
        }
    }
    if let Some(parsed) = parsed.as_ref().filter(|p| p.is_pure()) {
        let binaries = elf_entries(path);
        if !binaries.is_empty() {
            let mut named: Vec<String> = binaries
                .iter()
                .take(MAX_NAMED_BINARIES)
                .map(|name| format!("`{name}`"))
                .collect();
            if binaries.len() > MAX_NAMED_BINARIES {
                named.push(format!("{} more", binaries.len() - MAX_NAMED_BINARIES));
            }
            problems.push(Finding::warning(
                "binary-in-pure-wheel",
                format!(
                    "compiled code (ELF) in a wheel tagged `none-{}` (for every platform and \
                     Python): {}; installers put it where it cannot run, so build a platform \
                     wheel (and repair it) instead",
                    parsed.platforms.join("."),
                    named.join(", "),
                ),
            ));
        }
    }
    problems
}

/// Entries (not directories) that start with the ELF magic number, in archive order.
fn elf_entries(path: &Path) -> Vec<String> {
    let Ok(file) = fs_err::File::open(path) else {
        return Vec::new();
    };
    let Ok(mut archive) = zip::ZipArchive::new(std::io::BufReader::new(file)) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for index in 0..archive.len() {
        let Ok(entry) = archive.by_index(index) else {
            continue;
        };
        if entry.is_dir() || entry.size() < 4 {
            continue;
        }
        let Ok(name) = entry.name().map(std::borrow::Cow::into_owned) else {
            continue;
        };
        let mut magic = [0u8; 4];
        if entry.take(4).read_exact(&mut magic).is_ok() && magic == *b"\x7fELF" {
            found.push(name);
        }
    }
    found
}

fn compare_names(
    parsed: &Parsed<'_>,
    name: &str,
    version: Option<&Version>,
    problems: &mut Vec<Finding>,
) {
    let canonical = normalize_name(name);
    let expected = canonical.replace('-', "_");
    if normalize_name(parsed.name) != canonical {
        problems.push(Finding::error(
            "filename-name",
            format!(
                "the file name is for `{}`, but METADATA says `Name: {name}`; the file name \
                 must start with `{expected}`",
                parsed.name
            ),
        ));
    } else if parsed.name != expected {
        problems.push(Finding::warning(
            "filename-normalization",
            format!(
                "the file name should start with the normalized project name `{expected}`, not \
                 `{}` (PEP 427/PEP 503; PyPI accepts it with a warning and installers accept it)",
                parsed.name
            ),
        ));
    }
    if let Some(version) = version
        && *version != parsed.version
    {
        problems.push(Finding::error(
            "filename-version",
            format!(
                "the file name has version `{}`, but METADATA says `Version: {version}`",
                parsed.version_text
            ),
        ));
    }
}

/// What installers refuse in a wheel's layout: more than one `.dist-info` directory, one that
/// is not the file name's, and a `Wheel-Version` whose major version is not 1 (a later minor
/// version is a warning, as pip gives).
fn layout_findings(contents: &Contents) -> Vec<Finding> {
    let mut found = Vec::new();
    let mut dirs: Vec<&str> = contents
        .names
        .iter()
        .filter_map(|n| n.split_once('/').map(|(top, _)| top))
        .filter(|top| top.ends_with(".dist-info"))
        .collect();
    dirs.sort_unstable();
    dirs.dedup();
    match dirs.as_slice() {
        [] => {}
        [dir] if *dir == contents.dist_info => {}
        [dir] => found.push(Finding::error(
            "dist-info",
            format!(
                "the `.dist-info` directory is `{dir}`, but the file name calls for `{}`",
                contents.dist_info
            ),
        )),
        _ => found.push(Finding::error(
            "dist-info",
            format!(
                "more than one `.dist-info` directory (`{}`); installers refuse the wheel",
                dirs.join("`, `")
            ),
        )),
    }
    if let Some(Ok(wheel)) = &contents.wheel {
        if let Some(version) = wheel.get("Wheel-Version") {
            let info = crate::wheel::WheelInfo {
                wheel_version: version.to_owned(),
                generator: None,
                root_is_purelib: false,
                tags: Vec::new(),
                build: None,
            };
            if info.major_version() != Some(1) {
                found.push(Finding::error(
                    "wheel-version",
                    format!(
                        "`{}/WHEEL` says `Wheel-Version: {version}`; only major version 1 \
                         exists and installers refuse any other",
                        contents.dist_info
                    ),
                ));
            } else if let Some(warning) = info.version_warning() {
                found.push(Finding::warning("wheel-version", warning));
            }
        }
    }
    found
}

/// What was found in the `.dist-info` directory PyPI reads.
struct Contents {
    names: Vec<String>,
    dist_info: String,
    metadata: Option<Result<HeaderFile, String>>,
    wheel: Option<Result<HeaderFile, String>>,
}

impl Contents {
    fn has(&self, file: &str) -> bool {
        let entry = format!("{}/{file}", self.dist_info);
        self.names.contains(&entry)
    }
}

fn read_entries(path: &Path, dist_info: &str) -> Contents {
    let mut contents = Contents {
        names: Vec::new(),
        dist_info: dist_info.to_owned(),
        metadata: None,
        wheel: None,
    };
    let Ok(file) = fs_err::File::open(path) else {
        return contents;
    };
    let Ok(mut archive) = zip::ZipArchive::new(std::io::BufReader::new(file)) else {
        return contents;
    };
    contents.names = archive
        .file_names()
        .filter_map(Result::ok)
        .map(std::borrow::Cow::into_owned)
        .collect();
    let mut read_headers = |name: String| {
        contents.names.contains(&name).then(|| {
            archive
                .by_name(&name)
                .map_err(|e| format!("`{name}` cannot be read: {e}"))
                .and_then(|entry| {
                    let mut bytes = Vec::new();
                    entry
                        .take(METADATA_LIMIT)
                        .read_to_end(&mut bytes)
                        .map_err(|e| format!("`{name}` cannot be read: {e}"))?;
                    Ok(bytes)
                })
                .and_then(|bytes| {
                    HeaderFile::parse(&bytes).map_err(|e| format!("`{name}` cannot be parsed: {e}"))
                })
        })
    };
    let metadata = read_headers(format!("{dist_info}/METADATA"));
    let wheel = read_headers(format!("{dist_info}/WHEEL"));
    contents.metadata = metadata;
    contents.wheel = wheel;
    contents
}

/// An error and its causes on one line, without repeating the wheel's name.
pub(super) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    if let Some(rest) = message.strip_prefix('`').and_then(|m| m.split_once("`: ")) {
        message = rest.1.to_owned();
    }
    let mut source = err.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wheel_file_names() {
        let parsed =
            parse_filename("demo-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl")
                .unwrap();
        assert_eq!(parsed.name, "demo");
        assert_eq!(
            parsed.platforms,
            ["manylinux_2_17_x86_64", "manylinux2014_x86_64"]
        );
        assert!(parse_filename("Demo.Pkg-1.0-1-py3-none-any.whl").is_ok());
        insta::assert_snapshot!(parse_filename("demo-1.0-py3-any.whl").unwrap_err(), @"`demo-1.0-py3-any.whl` is not a valid wheel file name: expected `{name}-{version}[-{build}]-{python}-{abi}-{platform}.whl`");
        insta::assert_snapshot!(parse_filename("demo-one-py3-none-any.whl").unwrap_err(), @"`demo-one-py3-none-any.whl` is not a valid wheel file name: `one` is not a valid PEP 440 version");
        assert!(parse_filename("de__mo-1.0-py3-none-any.whl").is_err());
        assert!(parse_filename("demo-1.0-x1-py3-none-any.whl").is_err());
    }

    #[test]
    fn names_compare_normalized() {
        let mut problems = Vec::new();
        let parsed = parse_filename("foo_bar-1.0-py3-none-any.whl").unwrap();
        compare_names(
            &parsed,
            "Foo.Bar",
            Version::from_str("1.0.0").ok().as_ref(),
            &mut problems,
        );
        assert!(problems.is_empty(), "{problems:?}");
        let parsed = parse_filename("Foo_Bar-1.0-py3-none-any.whl").unwrap();
        compare_names(
            &parsed,
            "foo-bar",
            Version::from_str("1.0").ok().as_ref(),
            &mut problems,
        );
        assert_eq!(problems[0].code(), "filename-normalization");
        assert_eq!(problems[0].kind, super::super::Kind::Warning);
        problems.clear();
        compare_names(
            &parsed,
            "other",
            Version::from_str("2.0").ok().as_ref(),
            &mut problems,
        );
        let codes: Vec<_> = problems.iter().map(Finding::code).collect();
        assert_eq!(codes, ["filename-name", "filename-version"]);
    }
}
