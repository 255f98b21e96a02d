//! The legacy upload form: core metadata to form fields, exactly as twine 7 builds them
//! (twine `package.py` `_RAW_TO_PACKAGE_METADATA` and `repository.py`
//! `_convert_metadata_to_list_of_tuples`; facts in publish.md §1.2–1.3).
//!
//! Rules: the header name lower-cased with `-` → `_`, except `Classifier` → `classifiers`,
//! `Platform` → `platform`, `License-File` → `license_file` (dropped below Metadata-Version 2.4,
//! as twine does for setuptools' early License-File lines); multiple-use fields are separate
//! parts; `Keywords` is one part re-joined with `", "`; each `Project-URL` is `"label, url"`
//! with both sides trimmed; `name` is twine's "safe name" (runs of characters other than ASCII
//! letters, digits and `.` become `-`); the body (or a `Description` header) is `description`.
//! Unknown headers are not sent. `Requires-Python` is sent only when present, like twine.

use crate::wheel::HeaderFile;

/// How one core-metadata header becomes form parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// At most once; one part.
    Single,
    /// Repeatable; one part per occurrence.
    Multiple,
    /// `Keywords`: one part, comma-split and re-joined.
    Keywords,
    /// `Project-URL`: one part per occurrence, `label, url`.
    ProjectUrl,
    /// `License-File`: like `Multiple`, only for Metadata-Version 2.4 and later.
    LicenseFile,
}

/// Header (lower case) → form field and kind.
const FIELDS: &[(&str, &str, Kind)] = &[
    ("metadata-version", "metadata_version", Kind::Single),
    ("name", "name", Kind::Single),
    ("version", "version", Kind::Single),
    ("platform", "platform", Kind::Multiple),
    ("summary", "summary", Kind::Single),
    ("description", "description", Kind::Single),
    ("keywords", "keywords", Kind::Keywords),
    ("home-page", "home_page", Kind::Single),
    ("author", "author", Kind::Single),
    ("author-email", "author_email", Kind::Single),
    ("license", "license", Kind::Single),
    ("supported-platform", "supported_platform", Kind::Multiple),
    ("download-url", "download_url", Kind::Single),
    ("classifier", "classifiers", Kind::Multiple),
    ("requires", "requires", Kind::Multiple),
    ("provides", "provides", Kind::Multiple),
    ("obsoletes", "obsoletes", Kind::Multiple),
    ("maintainer", "maintainer", Kind::Single),
    ("maintainer-email", "maintainer_email", Kind::Single),
    ("requires-dist", "requires_dist", Kind::Multiple),
    ("provides-dist", "provides_dist", Kind::Multiple),
    ("obsoletes-dist", "obsoletes_dist", Kind::Multiple),
    ("requires-python", "requires_python", Kind::Single),
    ("requires-external", "requires_external", Kind::Multiple),
    ("project-url", "project_urls", Kind::ProjectUrl),
    (
        "description-content-type",
        "description_content_type",
        Kind::Single,
    ),
    ("provides-extra", "provides_extra", Kind::Multiple),
    ("dynamic", "dynamic", Kind::Multiple),
    ("license-expression", "license_expression", Kind::Single),
    ("license-file", "license_file", Kind::LicenseFile),
    ("import-name", "import_names", Kind::Multiple),
    ("import-namespace", "import_namespaces", Kind::Multiple),
];

/// Why the metadata cannot be turned into an upload form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    /// A single-use field appears more than once.
    #[error("`{field}` appears {count} times in the metadata; it may appear only once")]
    Repeated {
        /// The header as spelled. Ex) `Summary`
        field: String,
        /// How often it appears.
        count: usize,
    },
    /// Both a `Description` header and a body.
    #[error("the metadata has both a `Description` header and a body; keep one")]
    TwoDescriptions,
    /// A required field is missing or empty.
    #[error("the metadata has no `{0}`")]
    Missing(&'static str),
}

/// twine's `_safe_name`: runs of characters other than ASCII letters, digits and `.` → `-`.
#[must_use]
pub fn safe_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_run = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '.' {
            out.push(c);
            in_run = false;
        } else if !in_run {
            out.push('-');
            in_run = true;
        }
    }
    out
}

/// Whether `version` (`X.Y`) is at least `major.minor`; unparsable versions compare as 0.
fn metadata_version_at_least(version: &str, major: u64, minor: u64) -> bool {
    let mut parts = version
        .trim()
        .split('.')
        .map(|p| p.parse::<u64>().unwrap_or(0));
    let have = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    have >= (major, minor)
}

/// The metadata parts of the upload form, in header order (the body's `description` where the
/// body is). Returns `(field, value)` pairs.
pub fn metadata_fields(headers: &HeaderFile) -> Result<Vec<(String, String)>, FormError> {
    let metadata_version = headers.get("Metadata-Version").unwrap_or_default();
    for required in ["Metadata-Version", "Name", "Version"] {
        if headers.get(required).is_none_or(str::is_empty) {
            return Err(FormError::Missing(required));
        }
    }
    let mut seen: Vec<&str> = Vec::new();
    let mut fields = Vec::new();
    for (key, value) in &headers.headers {
        let lower = key.to_ascii_lowercase();
        let Some(&(header, field, kind)) = FIELDS.iter().find(|(h, _, _)| *h == lower) else {
            tracing::debug!(header = %key, "metadata header not sent (not a core metadata field)");
            continue;
        };
        match kind {
            Kind::Single | Kind::Keywords => {
                if seen.contains(&header) {
                    continue;
                }
                seen.push(header);
                let count = headers.get_all(key).len();
                if count > 1 {
                    return Err(FormError::Repeated {
                        field: key.clone(),
                        count,
                    });
                }
                let value = match (kind, header) {
                    (Kind::Keywords, _) => value
                        .split(',')
                        .map(str::trim)
                        .collect::<Vec<_>>()
                        .join(", "),
                    (_, "name") => safe_name(value),
                    _ => value.clone(),
                };
                fields.push((field.to_owned(), value));
            }
            Kind::Multiple => fields.push((field.to_owned(), value.clone())),
            Kind::ProjectUrl => {
                let (label, url) = value.split_once(',').unwrap_or((value, ""));
                fields.push((
                    field.to_owned(),
                    format!("{}, {}", label.trim(), url.trim()),
                ));
            }
            Kind::LicenseFile => {
                if metadata_version_at_least(metadata_version, 2, 4) {
                    fields.push((field.to_owned(), value.clone()));
                }
            }
        }
    }
    if let Some(body) = headers.body.as_deref().filter(|b| !b.is_empty()) {
        if headers.get("Description").is_some() {
            return Err(FormError::TwoDescriptions);
        }
        fields.push(("description".to_owned(), body.to_owned()));
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str) -> Vec<(String, String)> {
        metadata_fields(&HeaderFile::parse(text.as_bytes()).unwrap()).unwrap()
    }

    #[test]
    fn maps_fields_like_twine() {
        let got = fields(
            "Metadata-Version: 2.4\n\
             Name: my_Pkg..x\n\
             Version: 1.0\n\
             Summary: A thing\n\
             Keywords: a,b , c\n\
             Classifier: Programming Language :: Python\n\
             Classifier: Typing :: Typed\n\
             Project-URL: Homepage ,  https://example.test/ \n\
             Project-URL: Bare\n\
             License-File: LICENSE\n\
             Platform: any\n\
             Requires-Dist: foo>=1; extra == \"x\"\n\
             X-Unknown: dropped\n\
             Description-Content-Type: text/markdown\n\
             \n\
             # Title\n\nbody\n",
        );
        let expected: Vec<(String, String)> = [
            ("metadata_version", "2.4"),
            ("name", "my-Pkg..x"),
            ("version", "1.0"),
            ("summary", "A thing"),
            ("keywords", "a, b, c"),
            ("classifiers", "Programming Language :: Python"),
            ("classifiers", "Typing :: Typed"),
            ("project_urls", "Homepage, https://example.test/"),
            ("project_urls", "Bare, "),
            ("license_file", "LICENSE"),
            ("platform", "any"),
            ("requires_dist", "foo>=1; extra == \"x\""),
            ("description_content_type", "text/markdown"),
            ("description", "# Title\n\nbody\n"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn license_file_needs_metadata_2_4() {
        let got = fields("Metadata-Version: 2.1\nName: a\nVersion: 1\nLicense-File: LICENSE\n");
        assert!(got.iter().all(|(k, _)| k != "license_file"), "{got:?}");
        assert!(metadata_version_at_least("2.10", 2, 4));
        assert!(!metadata_version_at_least("2.3", 2, 4));
    }

    #[test]
    fn refuses_ambiguous_metadata() {
        let parse = |t: &str| metadata_fields(&HeaderFile::parse(t.as_bytes()).unwrap());
        assert_eq!(
            parse("Metadata-Version: 2.1\nName: a\nVersion: 1\nSummary: x\nsummary: y\n")
                .unwrap_err()
                .to_string(),
            "`Summary` appears 2 times in the metadata; it may appear only once"
        );
        assert_eq!(
            parse("Metadata-Version: 2.1\nName: a\nVersion: 1\nDescription: x\n\nbody")
                .unwrap_err(),
            FormError::TwoDescriptions
        );
        assert_eq!(
            parse("Metadata-Version: 2.1\nName: a\n").unwrap_err(),
            FormError::Missing("Version")
        );
    }

    #[test]
    fn safe_name_matches_twine() {
        assert_eq!(safe_name("foo_bar"), "foo-bar");
        assert_eq!(safe_name("Foo.Bar"), "Foo.Bar");
        assert_eq!(safe_name("a__-b c"), "a-b-c");
        assert_eq!(safe_name("é-x"), "-x");
    }
}
