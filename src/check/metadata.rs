//! Core-metadata rules: what PyPI's upload endpoint rejects in `METADATA` / `PKG-INFO`.
//!
//! Fact sources: pypi/warehouse `warehouse/forklift/metadata.py` (`SUPPORTED_METADATA_VERSIONS`,
//! `DYNAMIC_FIELDS`, the summary length, local versions, License + License-Expression, URLs,
//! direct dependencies) on top of `packaging.metadata.Metadata.from_raw` 26.3 (required fields,
//! name and version syntax, the metadata version each field was introduced in,
//! `Description-Content-Type`, `Requires-Python`, `Provides-Extra`, `Dynamic`, `License-File`),
//! and `warehouse/forklift/legacy.py` (the description must render, see [`super::rst`]).

use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};

use super::{Finding, rst};
use crate::wheel::HeaderFile;

/// Metadata versions PyPI accepts (2.0 was never a real version and is refused).
pub(crate) const SUPPORTED_METADATA_VERSIONS: &[&str] =
    &["1.0", "1.1", "1.2", "2.1", "2.2", "2.3", "2.4", "2.5"];

/// Fields and the metadata version that introduced them (`packaging.metadata`).
const INTRODUCED: &[(&str, &str)] = &[
    ("Supported-Platform", "1.1"),
    ("Download-URL", "1.1"),
    ("Classifier", "1.1"),
    ("Requires", "1.1"),
    ("Provides", "1.1"),
    ("Obsoletes", "1.1"),
    ("Maintainer", "1.2"),
    ("Maintainer-email", "1.2"),
    ("Requires-Dist", "1.2"),
    ("Requires-Python", "1.2"),
    ("Requires-External", "1.2"),
    ("Project-URL", "1.2"),
    ("Provides-Dist", "1.2"),
    ("Obsoletes-Dist", "1.2"),
    ("Description-Content-Type", "2.1"),
    ("Provides-Extra", "2.1"),
    ("Dynamic", "2.2"),
    ("License-Expression", "2.4"),
    ("Import-Name", "2.5"),
    ("Import-Namespace", "2.5"),
];

/// Fields that may be listed in `Dynamic` (Warehouse's `DYNAMIC_FIELDS`).
const DYNAMIC_FIELDS: &[&str] = &[
    "platform",
    "supported-platform",
    "summary",
    "description",
    "description-content-type",
    "keywords",
    "home-page",
    "download-url",
    "author",
    "author-email",
    "maintainer",
    "maintainer-email",
    "license",
    "license-expression",
    "license-file",
    "classifier",
    "requires-dist",
    "requires-python",
    "requires-external",
    "project-url",
    "provides-extra",
    "provides-dist",
    "obsoletes-dist",
    "requires",
    "provides",
    "obsoletes",
    "import-name",
    "import-namespace",
];

/// The metadata fields the other checks need, as found.
#[derive(Debug, Default, Clone)]
pub(super) struct Identity {
    /// `Name`, if present and valid.
    pub(super) name: Option<String>,
    /// `Version`, if present and valid PEP 440.
    pub(super) version: Option<Version>,
    /// `License-File` paths (only for Metadata-Version ≥ 2.4, as twine sends them).
    pub(super) license_files: Vec<String>,
}

/// `^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$`, case-insensitive, ASCII.
pub(super) fn is_valid_project_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn version_rank(version: &str) -> Option<usize> {
    SUPPORTED_METADATA_VERSIONS
        .iter()
        .position(|v| *v == version)
}

/// A header value, with `UNKNOWN` treated as absent (Warehouse drops such form fields).
fn present<'a>(headers: &'a HeaderFile, field: &str) -> Option<&'a str> {
    headers
        .get(field)
        .filter(|v| !v.trim().is_empty() && v.trim() != "UNKNOWN")
}

/// Checks parsed metadata; returns the problems and what identifies the distribution.
pub(super) fn check(headers: &HeaderFile) -> (Vec<Finding>, Identity) {
    let mut problems: Vec<Finding> = Vec::new();
    let mut identity = Identity::default();
    let metadata_version = headers.get("Metadata-Version").map(str::trim);
    let rank = match metadata_version {
        None | Some("") => {
            problems.push(Finding::error(
                "missing-field",
                "`Metadata-Version` is missing (it is required)".to_owned(),
            ));
            None
        }
        Some(version) => {
            let rank = version_rank(version);
            if rank.is_none() {
                problems.push(Finding::error(
                    "metadata-version",
                    format!(
                        "`Metadata-Version: {version}` is not accepted by PyPI (accepted: {})",
                        SUPPORTED_METADATA_VERSIONS.join(", ")
                    ),
                ));
            }
            rank
        }
    };
    match headers.get("Name").map(str::trim) {
        None | Some("") => problems.push(Finding::error(
            "missing-field",
            "`Name` is missing (it is required)".to_owned(),
        )),
        Some(name) if !is_valid_project_name(name) => problems.push(Finding::error(
            "invalid-name",
            format!(
                "`Name: {name}` is not a valid project name (ASCII letters, digits, `.`, `_` and \
                 `-`, starting and ending with a letter or digit)"
            ),
        )),
        Some(name) => identity.name = Some(name.to_owned()),
    }
    match headers.get("Version").map(str::trim) {
        None | Some("") => problems.push(Finding::error(
            "missing-field",
            "`Version` is missing (it is required)".to_owned(),
        )),
        Some(version) => match Version::from_str(version) {
            Err(_) => problems.push(Finding::error(
                "invalid-version",
                format!("`Version: {version}` is not a valid PEP 440 version"),
            )),
            Ok(parsed) => {
                if parsed.is_local() {
                    problems.push(Finding::pypi(
                        "local-version",
                        format!(
                            "`Version: {version}` has a local version label (`+…`), which PyPI \
                             does not allow"
                        ),
                    ));
                }
                identity.version = Some(parsed);
            }
        },
    }
    if let (Some(rank), Some(metadata_version)) = (rank, metadata_version) {
        for (field, introduced) in INTRODUCED {
            if headers.get(field).is_some()
                && version_rank(introduced).is_some_and(|needed| needed > rank)
            {
                problems.push(Finding::error(
                    "field-version",
                    format!(
                        "`{field}` was introduced in metadata version {introduced}, but \
                         `Metadata-Version` is {metadata_version}"
                    ),
                ));
            }
        }
        if rank >= version_rank("2.4").unwrap_or(usize::MAX) {
            identity.license_files = headers
                .get_all("License-File")
                .into_iter()
                .map(|v| v.trim().to_owned())
                .collect();
        }
    }
    if present(headers, "License").is_some() && present(headers, "License-Expression").is_some() {
        problems.push(Finding::pypi(
            "license-conflict",
            "`License` and `License-Expression` are both set; PyPI rejects `License` when \
             `License-Expression` is present (keep only `License-Expression`)"
                .to_owned(),
        ));
    }
    for path in &identity.license_files {
        if let Some(reason) = license_file_problem(path) {
            problems.push(Finding::error(
                "license-file",
                format!("`License-File: {path}`: {reason}"),
            ));
        }
    }
    if let Some(summary) = present(headers, "Summary") {
        if summary.contains(['\n', '\r']) {
            problems.push(Finding::error("summary", "`Summary` must be a single line"));
        } else if summary.chars().count() > 512 {
            problems.push(Finding::pypi(
                "summary",
                format!(
                    "`Summary` is {} characters long; PyPI allows at most 512",
                    summary.chars().count()
                ),
            ));
        }
    }
    if let Some(spec) = present(headers, "Requires-Python")
        && VersionSpecifiers::from_str(spec).is_err()
    {
        problems.push(Finding::error(
            "requires-python",
            format!("`Requires-Python: {spec}` is not a valid version specifier"),
        ));
    }
    for requirement in headers.get_all("Requires-Dist") {
        if is_direct_reference(requirement) {
            problems.push(Finding::pypi(
                "requires-dist",
                format!(
                    "`Requires-Dist: {requirement}` is a direct URL dependency, which PyPI does \
                     not allow"
                ),
            ));
        }
    }
    for extra in headers.get_all("Provides-Extra") {
        if !is_valid_project_name(extra.trim()) {
            problems.push(Finding::error(
                "provides-extra",
                format!("`Provides-Extra: {extra}` is not a valid extra name"),
            ));
        }
    }
    for field in headers.get_all("Dynamic") {
        let lower = field.trim().to_lowercase();
        if matches!(lower.as_str(), "name" | "version" | "metadata-version") {
            problems.push(Finding::error(
                "dynamic",
                format!("`Dynamic: {field}`: `{lower}` may not be dynamic"),
            ));
        } else if !DYNAMIC_FIELDS.contains(&lower.as_str()) {
            problems.push(Finding::error(
                "dynamic",
                format!("`Dynamic: {field}` is not a valid dynamic field"),
            ));
        }
    }
    check_urls(headers, &mut problems);
    for field in ["Author-email", "Maintainer-email"] {
        if let Some(value) = present(headers, field) {
            for address in email_addresses(value) {
                if !is_plausible_email(&address) {
                    problems.push(Finding::pypi(
                        "email",
                        format!("`{field}`: `{address}` is not a valid email address"),
                    ));
                }
            }
        }
    }
    check_description(headers, &mut problems);
    (problems, identity)
}

/// `packaging`'s `License-File` path rules.
fn license_file_problem(path: &str) -> Option<&'static str> {
    if path.contains("..") {
        Some("parent directory indicators are not allowed")
    } else if path.contains('*') {
        Some("paths must be resolved (no `*`)")
    } else if path.starts_with('/')
        || path.starts_with('\\')
        || path.as_bytes().get(1) == Some(&b':')
    {
        Some("paths must be relative")
    } else if path.contains('\\') {
        Some("paths must use `/` as the delimiter")
    } else {
        None
    }
}

/// A PEP 508 requirement with a URL (`name @ url`).
fn is_direct_reference(requirement: &str) -> bool {
    let before_marker = requirement.split(';').next().unwrap_or_default();
    before_marker
        .split_once('@')
        .is_some_and(|(name, url)| !name.trim().is_empty() && url.contains(':'))
}

/// Warehouse's `is_valid_uri`: an http or https URL with a host.
fn is_valid_url(url: &str) -> bool {
    let url = url.trim();
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .or_else(|| {
            let lower = url.to_ascii_lowercase();
            if lower.starts_with("https://") {
                Some(&url[8..])
            } else if lower.starts_with("http://") {
                Some(&url[7..])
            } else {
                None
            }
        });
    rest.is_some_and(|rest| {
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        !host.is_empty() && !url.contains(char::is_whitespace)
    })
}

fn check_urls(headers: &HeaderFile, problems: &mut Vec<Finding>) {
    for field in ["Home-page", "Download-URL"] {
        if let Some(url) = present(headers, field)
            && !is_valid_url(url)
        {
            problems.push(Finding::pypi(
                "project-url",
                format!("`{field}: {url}` is not a valid http(s) URL"),
            ));
        }
    }
    for value in headers.get_all("Project-URL") {
        let (label, url) = value.split_once(',').unwrap_or((value, ""));
        let (label, url) = (label.trim(), url.trim());
        let problem = if label.is_empty() {
            Some("it has no label".to_owned())
        } else if label.chars().count() > 32 {
            Some(format!("the label `{label}` is longer than 32 characters"))
        } else if url.is_empty() {
            Some("it has no URL".to_owned())
        } else if !is_valid_url(url) {
            Some(format!("`{url}` is not a valid http(s) URL"))
        } else {
            None
        };
        if let Some(problem) = problem {
            problems.push(Finding::pypi(
                "project-url",
                format!("`Project-URL: {value}`: {problem}"),
            ));
        }
    }
}

/// The addresses of an RFC 822 address list (`Name <a@b>, c@d`).
fn email_addresses(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_quotes = false;
    let mut current = String::new();
    for c in value.chars() {
        match c {
            '"' => {
                in_quotes = !in_quotes;
                current.push(c);
            }
            ',' if !in_quotes => {
                out.push(std::mem::take(&mut current));
            }
            _ => current.push(c),
        }
    }
    out.push(current);
    out.into_iter()
        .filter_map(|entry| {
            let entry = entry.trim();
            let address = match (entry.rfind('<'), entry.rfind('>')) {
                (Some(open), Some(close)) if open < close => &entry[open + 1..close],
                _ => entry,
            };
            let address = address.trim();
            (!address.is_empty()).then(|| address.to_owned())
        })
        .collect()
}

/// What `email-validator` accepts, roughly: `local@domain.tld`, no spaces.
fn is_plausible_email(address: &str) -> bool {
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !address.contains(char::is_whitespace)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain
            .split('.')
            .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'))
}

/// The description's markup as Warehouse renders it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Markup {
    Rst,
    Markdown,
    Plain,
}

/// Parses `Description-Content-Type` like `packaging` does: `text/plain`, `text/x-rst` or
/// `text/markdown`, `charset` only UTF-8, Markdown `variant` only `GFM` or `CommonMark`.
pub(super) fn parse_content_type(value: &str) -> Result<Markup, String> {
    let mut parts = value.split(';');
    let media = parts.next().unwrap_or_default().trim().to_lowercase();
    let markup = match media.as_str() {
        "text/x-rst" => Markup::Rst,
        "text/markdown" => Markup::Markdown,
        "text/plain" => Markup::Plain,
        _ => {
            return Err(format!(
                "`Description-Content-Type: {value}`: the type must be `text/plain`, \
                 `text/x-rst` or `text/markdown`"
            ));
        }
    };
    for parameter in parts {
        let parameter = parameter.trim();
        if parameter.is_empty() {
            continue;
        }
        let Some((key, raw)) = parameter.split_once('=') else {
            return Err(format!(
                "`Description-Content-Type: {value}`: malformed parameter `{parameter}`"
            ));
        };
        let key = key.trim().to_lowercase();
        let raw = raw.trim();
        let parsed = raw
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(raw);
        match key.as_str() {
            "charset" if !parsed.eq_ignore_ascii_case("utf-8") => {
                return Err(format!(
                    "`Description-Content-Type: {value}`: the charset can only be UTF-8, not \
                     `{parsed}`"
                ));
            }
            "variant" if markup == Markup::Markdown && !matches!(parsed, "GFM" | "CommonMark") => {
                return Err(format!(
                    "`Description-Content-Type: {value}`: the Markdown variant must be `GFM` or \
                     `CommonMark`, not `{parsed}`"
                ));
            }
            _ => {}
        }
    }
    Ok(markup)
}

/// The long description: the body, or else the `Description` header exactly as twine sends it
/// (continuation lines keep their indentation; `packaging` does not dedent them).
pub(super) fn description(headers: &HeaderFile) -> Option<String> {
    headers
        .body
        .clone()
        .or_else(|| headers.get("Description").map(str::to_owned))
}

/// At most this many render findings are listed per file (docutils stops at the first one).
const MAX_RENDER_FINDINGS: usize = 10;

fn check_description(headers: &HeaderFile, problems: &mut Vec<Finding>) {
    let content_type = present(headers, "Description-Content-Type");
    let markup = match content_type.map(parse_content_type) {
        None => Markup::Rst,
        Some(Ok(markup)) => markup,
        Some(Err(message)) => {
            problems.push(Finding::error("content-type", message));
            return;
        }
    };
    let Some(text) = description(headers) else {
        return;
    };
    if text.trim() == "UNKNOWN" || (text.is_empty() && markup != Markup::Rst) {
        return;
    }
    if markup != Markup::Rst || text.is_empty() {
        return;
    }
    let findings = rst::check(&text);
    let format = if content_type.is_some() {
        "reStructuredText"
    } else {
        "reStructuredText, the default without `Description-Content-Type`"
    };
    let total = findings.len();
    for finding in findings.iter().take(MAX_RENDER_FINDINGS) {
        problems.push(Finding::pypi(
            "description",
            format!("the description ({format}) will not render on PyPI: {finding}"),
        ));
    }
    if total > MAX_RENDER_FINDINGS {
        problems.push(Finding::pypi(
            "description",
            format!(
                "the description has {} more rendering problems",
                total - MAX_RENDER_FINDINGS
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(metadata: &str) -> Vec<Finding> {
        check(&HeaderFile::parse(metadata.as_bytes()).unwrap()).0
    }

    fn codes(metadata: &str) -> Vec<&'static str> {
        problems(metadata).iter().map(Finding::code).collect()
    }

    const GOOD: &str = "Metadata-Version: 2.4\nName: demo\nVersion: 1.0\n\
        Description-Content-Type: text/markdown\n\n# Demo\n";

    #[test]
    fn good_metadata_passes() {
        assert!(problems(GOOD).is_empty(), "{:?}", problems(GOOD));
        let (_, identity) = check(&HeaderFile::parse(GOOD.as_bytes()).unwrap());
        assert_eq!(identity.name.as_deref(), Some("demo"));
        assert_eq!(identity.version.unwrap().to_string(), "1.0");
    }

    #[test]
    fn metadata_version_range() {
        for version in SUPPORTED_METADATA_VERSIONS {
            let text = format!("Metadata-Version: {version}\nName: a\nVersion: 1\n\nText\n");
            assert!(!codes(&text).contains(&"metadata-version"), "{version}");
        }
        insta::assert_snapshot!(problems("Metadata-Version: 2.0\nName: a\nVersion: 1\n\nText\n")[0].message(), @"`Metadata-Version: 2.0` is not accepted by PyPI (accepted: 1.0, 1.1, 1.2, 2.1, 2.2, 2.3, 2.4, 2.5)");
        assert_eq!(
            codes("Metadata-Version: 3.0\nName: a\nVersion: 1\n\nText\n"),
            ["metadata-version"]
        );
    }

    #[test]
    fn required_fields_name_and_version() {
        assert_eq!(codes("Name: a\nVersion: 1\n\nText\n"), ["missing-field"]);
        assert_eq!(
            codes("Metadata-Version: 2.1\nVersion: 1\n\nText\n"),
            ["missing-field"]
        );
        assert_eq!(
            codes("Metadata-Version: 2.1\nName: a\n\nText\n"),
            ["missing-field"]
        );
        assert_eq!(
            codes("Metadata-Version: 2.1\nName: -a\nVersion: 1\n\nText\n"),
            ["invalid-name"]
        );
        assert_eq!(
            codes("Metadata-Version: 2.1\nName: a\nVersion: one\n\nText\n"),
            ["invalid-version"]
        );
        insta::assert_snapshot!(problems("Metadata-Version: 2.1\nName: a\nVersion: 1.0+local\n\nText\n")[0].message(), @"`Version: 1.0+local` has a local version label (`+…`), which PyPI does not allow");
    }

    #[test]
    fn fields_need_their_metadata_version() {
        insta::assert_snapshot!(problems("Metadata-Version: 2.3\nName: a\nVersion: 1\nLicense-Expression: MIT\n\nText\n")[0].message(), @"`License-Expression` was introduced in metadata version 2.4, but `Metadata-Version` is 2.3");
        assert_eq!(
            codes(
                "Metadata-Version: 1.2\nName: a\nVersion: 1\nDescription-Content-Type: text/plain\n\nx\n"
            ),
            ["field-version"]
        );
        // twine drops License-File below 2.4, so PyPI never sees it.
        assert!(
            codes("Metadata-Version: 2.1\nName: a\nVersion: 1\nLicense-File: LICENSE\n\nText\n")
                .is_empty()
        );
    }

    #[test]
    fn license_and_license_expression() {
        insta::assert_snapshot!(problems("Metadata-Version: 2.4\nName: a\nVersion: 1\nLicense: MIT\nLicense-Expression: MIT\n\nText\n")[0].message(), @"`License` and `License-Expression` are both set; PyPI rejects `License` when `License-Expression` is present (keep only `License-Expression`)");
        assert!(codes("Metadata-Version: 2.4\nName: a\nVersion: 1\nLicense: UNKNOWN\nLicense-Expression: MIT\n\nText\n").is_empty());
        assert_eq!(
            codes("Metadata-Version: 2.4\nName: a\nVersion: 1\nLicense-File: ../LICENSE\n\nText\n"),
            ["license-file"]
        );
    }

    #[test]
    fn other_fields() {
        let long = "x".repeat(513);
        assert_eq!(
            codes(&format!(
                "Metadata-Version: 2.1\nName: a\nVersion: 1\nSummary: {long}\n\nText\n"
            )),
            ["summary"]
        );
        assert_eq!(
            codes("Metadata-Version: 2.1\nName: a\nVersion: 1\nRequires-Python: >=3.8,<\n\nText\n"),
            ["requires-python"]
        );
        assert_eq!(
            codes(
                "Metadata-Version: 2.1\nName: a\nVersion: 1\nRequires-Dist: b @ https://x/b.whl\n\nText\n"
            ),
            ["requires-dist"]
        );
        assert!(codes("Metadata-Version: 2.1\nName: a\nVersion: 1\nRequires-Dist: b; python_version >= '3.8' and extra == 'x@y'\n\nText\n").is_empty());
        assert_eq!(
            codes("Metadata-Version: 2.1\nName: a\nVersion: 1\nProvides-Extra: -bad\n\nText\n"),
            ["provides-extra"]
        );
        assert_eq!(
            codes("Metadata-Version: 2.2\nName: a\nVersion: 1\nDynamic: Version\n\nText\n"),
            ["dynamic"]
        );
        assert_eq!(
            codes("Metadata-Version: 2.2\nName: a\nVersion: 1\nDynamic: Color\n\nText\n"),
            ["dynamic"]
        );
        assert_eq!(
            codes(
                "Metadata-Version: 2.1\nName: a\nVersion: 1\nProject-URL: A label that is definitely too long, https://x.org\n\nText\n"
            ),
            ["project-url"]
        );
        assert_eq!(
            codes("Metadata-Version: 2.1\nName: a\nVersion: 1\nHome-page: ftp://x.org\n\nText\n"),
            ["project-url"]
        );
        assert_eq!(
            codes(
                "Metadata-Version: 2.1\nName: a\nVersion: 1\nAuthor-email: Me <me@localhost>\n\nText\n"
            ),
            ["email"]
        );
        assert!(codes("Metadata-Version: 2.1\nName: a\nVersion: 1\nAuthor-email: \"Doe, J\" <j@x.org>, k@y.org\n\nText\n").is_empty());
    }

    #[test]
    fn content_types() {
        assert_eq!(parse_content_type("text/x-rst"), Ok(Markup::Rst));
        assert_eq!(
            parse_content_type("text/markdown; charset=UTF-8; variant=GFM"),
            Ok(Markup::Markdown)
        );
        assert_eq!(
            parse_content_type("text/markdown; variant=CommonMark"),
            Ok(Markup::Markdown)
        );
        assert_eq!(
            parse_content_type("TEXT/PLAIN; charset=utf-8"),
            Ok(Markup::Plain)
        );
        insta::assert_snapshot!(parse_content_type("text/html").unwrap_err(), @"`Description-Content-Type: text/html`: the type must be `text/plain`, `text/x-rst` or `text/markdown`");
        insta::assert_snapshot!(parse_content_type("text/markdown; variant=gfm").unwrap_err(), @"`Description-Content-Type: text/markdown; variant=gfm`: the Markdown variant must be `GFM` or `CommonMark`, not `gfm`");
        insta::assert_snapshot!(parse_content_type("text/x-rst; charset=latin-1").unwrap_err(), @"`Description-Content-Type: text/x-rst; charset=latin-1`: the charset can only be UTF-8, not `latin-1`");
    }

    #[test]
    fn description_rendering() {
        let bad =
            "Metadata-Version: 2.1\nName: a\nVersion: 1\n\nTitle\n===\nx\n\nTitle two\n=====\n";
        insta::assert_snapshot!(problems(bad)[0].message(), @"the description (reStructuredText, the default without `Description-Content-Type`) will not render on PyPI: line 6: Title underline too short.");
        let markdown = "Metadata-Version: 2.1\nName: a\nVersion: 1\nDescription-Content-Type: text/markdown\n\nTitle\n=====\n*x\n";
        assert!(problems(markdown).is_empty());
        // A `Description` header is sent as it is, continuation indentation included (as
        // twine does): an underline becomes an indented line of a definition list.
        let header = "Metadata-Version: 1.2\nName: a\nVersion: 1\nDescription: Intro\n        second\n        \n        Text\n";
        assert!(problems(header).is_empty(), "{:?}", problems(header));
        let header = "Metadata-Version: 1.2\nName: a\nVersion: 1\nDescription: Title\n        =====\n        \n        Text\n";
        assert_eq!(codes(header), ["description"]);
    }
}
