//! The email-header format of `WHEEL` and `METADATA` (RFC 822 style, as Python's `email` parser
//! reads it).
//!
//! `Key: value` lines; a line starting with a space or tab continues the previous value; keys may
//! repeat and keep their order; the first blank line ends the headers and the rest is the body.
//! A line that is neither a header nor a continuation also starts the body (Python's parser does
//! the same, recording a defect).

use std::fmt::Write as _;

/// Headers and optional body of a `WHEEL` or `METADATA` file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderFile {
    /// The headers in file order, key as spelled. Continuation lines are kept verbatim, joined to
    /// the value with `\n` (so `Description` keeps its indentation).
    pub headers: Vec<(String, String)>,
    /// Everything after the first blank line, if non-empty.
    pub body: Option<String>,
}

/// Why a `WHEEL` or `METADATA` file could not be parsed.
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    /// The file is not UTF-8.
    #[error("not valid UTF-8")]
    InvalidUtf8(#[source] std::str::Utf8Error),
    /// The first line is a continuation line (starts with whitespace).
    #[error("line {line} continues a header, but there is no header before it")]
    OrphanContinuation {
        /// The line number (from 1).
        line: usize,
    },
    /// A required field is absent.
    #[error("missing required field `{field}`")]
    MissingField {
        /// The field name. Ex) `Wheel-Version`
        field: &'static str,
    },
    /// A field has a value that is not allowed.
    #[error("invalid value `{value}` for `{field}`: expected {expected}")]
    InvalidValue {
        /// The field name. Ex) `Root-Is-Purelib`
        field: &'static str,
        /// The value as found.
        value: String,
        /// What is allowed. Ex) `true or false`
        expected: &'static str,
    },
}

/// Whether `line` has the shape `Key:` with a valid header name (printable ASCII except `:`).
fn header_split(line: &str) -> Option<(&str, &str)> {
    let (key, value) = line.split_once(':')?;
    let valid = !key.is_empty() && key.bytes().all(|b| (0x21..=0x7e).contains(&b));
    valid.then_some((key, value))
}

impl HeaderFile {
    /// Parses the header format. Invalid UTF-8 is an error; `\r\n` line endings are accepted.
    pub fn parse(bytes: &[u8]) -> Result<Self, MetadataError> {
        let text = std::str::from_utf8(bytes).map_err(MetadataError::InvalidUtf8)?;
        let mut headers: Vec<(String, String)> = Vec::new();
        let mut rest = text;
        let mut line_number = 0;
        let mut body = None;
        while !rest.is_empty() {
            let (raw_line, next) = match rest.find('\n') {
                Some(end) => (&rest[..end], &rest[end + 1..]),
                None => (rest, ""),
            };
            line_number += 1;
            let line = raw_line.strip_suffix('\r').unwrap_or(raw_line);
            if line.is_empty() {
                body = Some(next);
                break;
            }
            if line.starts_with([' ', '\t']) {
                let Some((_, value)) = headers.last_mut() else {
                    return Err(MetadataError::OrphanContinuation { line: line_number });
                };
                value.push('\n');
                value.push_str(line.trim_end());
            } else if let Some((key, value)) = header_split(line) {
                headers.push((key.to_string(), value.trim().to_string()));
            } else {
                // Not a header: the body starts here (no separating blank line).
                body = Some(rest);
                break;
            }
            rest = next;
        }
        Ok(Self {
            headers,
            body: body.filter(|body| !body.is_empty()).map(str::to_string),
        })
    }

    /// The first value for `key`, compared case-insensitively.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(key))
            .map(|(_, value)| value.as_str())
    }

    /// All values for `key` in file order, compared case-insensitively.
    #[must_use]
    pub fn get_all(&self, key: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case(key))
            .map(|(_, value)| value.as_str())
            .collect()
    }

    /// Serialises as `Key: value\n` lines, then a blank line and the body if there is one.
    /// Parsing the output gives back `self` when values have no trailing whitespace.
    #[must_use]
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::new();
        for (key, value) in &self.headers {
            // Writing to a `String` cannot fail.
            let _ = writeln!(out, "{key}: {value}");
        }
        if let Some(body) = &self.body {
            out.push('\n');
            out.push_str(body);
        }
        out.into_bytes()
    }
}

/// The parsed `WHEEL` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelInfo {
    /// `Wheel-Version`. Ex) `1.0`
    pub wheel_version: String,
    /// `Generator`. Ex) `bdist_wheel (0.43.0)`
    pub generator: Option<String>,
    /// `Root-Is-Purelib`.
    pub root_is_purelib: bool,
    /// The `Tag` lines in order. Ex) `["cp312-cp312-manylinux_2_17_x86_64"]`
    pub tags: Vec<String>,
    /// `Build`, the build tag. Ex) `1`
    pub build: Option<String>,
}

impl WheelInfo {
    /// Parses a `WHEEL` file. `Wheel-Version` (`<major>.<minor>`) and `Root-Is-Purelib`
    /// (`true`/`false`, any case) are required.
    pub fn parse(bytes: &[u8]) -> Result<Self, MetadataError> {
        let headers = HeaderFile::parse(bytes)?;
        let wheel_version = headers
            .get("Wheel-Version")
            .ok_or(MetadataError::MissingField {
                field: "Wheel-Version",
            })?;
        let version_ok = wheel_version.split_once('.').is_some_and(|(major, minor)| {
            [major, minor]
                .iter()
                .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
        });
        if !version_ok {
            return Err(MetadataError::InvalidValue {
                field: "Wheel-Version",
                value: wheel_version.to_string(),
                expected: "`<major>.<minor>`",
            });
        }
        let purelib = headers
            .get("Root-Is-Purelib")
            .ok_or(MetadataError::MissingField {
                field: "Root-Is-Purelib",
            })?;
        let root_is_purelib = if purelib.eq_ignore_ascii_case("true") {
            true
        } else if purelib.eq_ignore_ascii_case("false") {
            false
        } else {
            return Err(MetadataError::InvalidValue {
                field: "Root-Is-Purelib",
                value: purelib.to_string(),
                expected: "`true` or `false`",
            });
        };
        Ok(Self {
            wheel_version: wheel_version.to_string(),
            generator: headers.get("Generator").map(str::to_string),
            root_is_purelib,
            tags: headers
                .get_all("Tag")
                .into_iter()
                .map(str::to_string)
                .collect(),
            build: headers.get("Build").map(str::to_string),
        })
    }

    /// The major part of `Wheel-Version`. Ex) `1` for `1.0`
    #[must_use]
    pub fn major_version(&self) -> Option<u64> {
        self.wheel_version.split_once('.')?.0.parse().ok()
    }

    /// A warning for a `Wheel-Version` of major version 1 but a minor version above 0 (a later
    /// revision of the format: installers warn and go on).
    #[must_use]
    pub fn version_warning(&self) -> Option<String> {
        let minor: u64 = self.wheel_version.split_once('.')?.1.parse().ok()?;
        (self.major_version() == Some(1) && minor > 0).then(|| {
            format!(
                "`Wheel-Version: {}` is newer than the 1.0 this tool knows; reading it as 1.0",
                self.wheel_version
            )
        })
    }

    /// Serialises in `bdist_wheel`'s order: `Wheel-Version`, `Generator`, `Root-Is-Purelib`,
    /// `Tag`…, `Build`.
    #[must_use]
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut headers = vec![("Wheel-Version".to_string(), self.wheel_version.clone())];
        if let Some(generator) = &self.generator {
            headers.push(("Generator".to_string(), generator.clone()));
        }
        headers.push((
            "Root-Is-Purelib".to_string(),
            self.root_is_purelib.to_string(),
        ));
        for tag in &self.tags {
            headers.push(("Tag".to_string(), tag.clone()));
        }
        if let Some(build) = &self.build {
            headers.push(("Build".to_string(), build.clone()));
        }
        HeaderFile {
            headers,
            body: None,
        }
        .to_bytes()
    }
}

/// The parsed `METADATA` file (core metadata): the required fields plus all headers and the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// `Metadata-Version`. Ex) `2.1`
    pub metadata_version: String,
    /// `Name`, as spelled. Ex) `numpy`
    pub name: String,
    /// `Version`, as spelled. Ex) `1.26.4`
    pub version: String,
    /// Every header and the body (the long description).
    pub headers: HeaderFile,
}

impl Metadata {
    /// Parses a `METADATA` file; `Metadata-Version`, `Name` and `Version` are required and
    /// non-empty.
    pub fn parse(bytes: &[u8]) -> Result<Self, MetadataError> {
        let headers = HeaderFile::parse(bytes)?;
        let required = |field: &'static str| {
            headers
                .get(field)
                .filter(|value| !value.is_empty())
                .map(str::to_string)
                .ok_or(MetadataError::MissingField { field })
        };
        Ok(Self {
            metadata_version: required("Metadata-Version")?,
            name: required("Name")?,
            version: required("Version")?,
            headers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_with_continuations_and_body() {
        let input = b"Metadata-Version: 2.1\r\n\
            Name: foo\n\
            Version: 1.0\n\
            Classifier: A\n\
            Description: first\n        second line\n\tthird\n\
            classifier: B\n\
            \n\
            # Body\n\nwith blank lines\n";
        let file = HeaderFile::parse(input).unwrap();
        assert_eq!(file.get("metadata-version"), Some("2.1"));
        assert_eq!(file.get("CLASSIFIER"), Some("A"));
        assert_eq!(file.get_all("Classifier"), ["A", "B"]);
        assert_eq!(
            file.get("Description"),
            Some("first\n        second line\n\tthird")
        );
        assert_eq!(file.get("Missing"), None);
        assert_eq!(file.body.as_deref(), Some("# Body\n\nwith blank lines\n"));
        assert_eq!(HeaderFile::parse(&file.to_bytes()).unwrap(), file);
    }

    #[test]
    fn body_without_blank_line() {
        let file = HeaderFile::parse(b"Name: foo\nthis is not a header\nName: bar\n").unwrap();
        assert_eq!(file.get_all("Name"), ["foo"]);
        assert_eq!(
            file.body.as_deref(),
            Some("this is not a header\nName: bar\n")
        );
        let no_body = HeaderFile::parse(b"Name: foo\n\n").unwrap();
        assert_eq!(no_body.body, None);
        let empty = HeaderFile::parse(b"").unwrap();
        assert_eq!(empty, HeaderFile::default());
    }

    #[test]
    fn header_errors() {
        insta::assert_snapshot!(HeaderFile::parse(b"Name: \xff\n").unwrap_err(), @"not valid UTF-8");
        insta::assert_snapshot!(HeaderFile::parse(b"  continued\nName: x\n").unwrap_err(), @"line 1 continues a header, but there is no header before it");
    }

    #[test]
    fn wheel_info() {
        let input = b"Wheel-Version: 1.0\n\
            Generator: bdist_wheel (0.43.0)\n\
            Root-Is-Purelib: False\n\
            Tag: cp312-cp312-manylinux_2_17_x86_64\n\
            Tag: cp312-cp312-manylinux2014_x86_64\n\
            Build: 1\n";
        let info = WheelInfo::parse(input).unwrap();
        assert_eq!(info.wheel_version, "1.0");
        assert_eq!(info.generator.as_deref(), Some("bdist_wheel (0.43.0)"));
        assert!(!info.root_is_purelib);
        assert_eq!(
            info.tags,
            [
                "cp312-cp312-manylinux_2_17_x86_64",
                "cp312-cp312-manylinux2014_x86_64"
            ]
        );
        assert_eq!(info.build.as_deref(), Some("1"));
        insta::assert_snapshot!(String::from_utf8(info.to_bytes()).unwrap(), @r"
        Wheel-Version: 1.0
        Generator: bdist_wheel (0.43.0)
        Root-Is-Purelib: false
        Tag: cp312-cp312-manylinux_2_17_x86_64
        Tag: cp312-cp312-manylinux2014_x86_64
        Build: 1
        ");
        assert_eq!(WheelInfo::parse(&info.to_bytes()).unwrap(), info);
        let pure = WheelInfo::parse(b"Wheel-Version: 1.0\nRoot-Is-Purelib: TRUE\n").unwrap();
        assert!(pure.root_is_purelib);
        assert!(pure.tags.is_empty());
    }

    #[test]
    fn wheel_info_errors() {
        let err = |input: &[u8]| WheelInfo::parse(input).unwrap_err();
        insta::assert_snapshot!(err(b"Root-Is-Purelib: true\n"), @"missing required field `Wheel-Version`");
        insta::assert_snapshot!(err(b"Wheel-Version: 1.0\n"), @"missing required field `Root-Is-Purelib`");
        insta::assert_snapshot!(err(b"Wheel-Version: 1.0\nRoot-Is-Purelib: yes\n"), @"invalid value `yes` for `Root-Is-Purelib`: expected `true` or `false`");
        insta::assert_snapshot!(err(b"Wheel-Version: one\nRoot-Is-Purelib: true\n"), @"invalid value `one` for `Wheel-Version`: expected `<major>.<minor>`");
    }

    #[test]
    fn metadata() {
        let input =
            b"Metadata-Version: 2.1\nName: Foo_Bar\nVersion: 1.0\nRequires-Dist: numpy\n\nbody\n";
        let metadata = Metadata::parse(input).unwrap();
        assert_eq!(metadata.metadata_version, "2.1");
        assert_eq!(metadata.name, "Foo_Bar");
        assert_eq!(metadata.version, "1.0");
        assert_eq!(metadata.headers.get("requires-dist"), Some("numpy"));
        assert_eq!(metadata.headers.body.as_deref(), Some("body\n"));
        insta::assert_snapshot!(Metadata::parse(b"Metadata-Version: 2.1\nVersion: 1.0\n").unwrap_err(), @"missing required field `Name`");
        insta::assert_snapshot!(Metadata::parse(b"Metadata-Version: 2.1\nName:\nVersion: 1.0\n").unwrap_err(), @"missing required field `Name`");
    }
}
