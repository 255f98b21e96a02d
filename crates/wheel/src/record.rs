//! The `RECORD` file of a wheel (PEP 376, PEP 427).
//!
//! `RECORD` is CSV with three columns: path, `algorithm=urlsafe-base64-digest` (no padding), size.
//! Fields may be quoted (paths can contain commas). `RECORD` lists itself with empty hash and size.
//! Only sha256 and stronger are accepted: PEP 427 forbids md5 and sha1.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::{URL_SAFE_NO_PAD, URL_SAFE_NO_PAD_INDIFFERENT};
use sha2::Digest as _;

/// A hash algorithm allowed in `RECORD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    /// Ex) `sha256=…`
    Sha256,
    /// Ex) `sha384=…`
    Sha384,
    /// Ex) `sha512=…`
    Sha512,
}

impl HashAlgorithm {
    /// The name used in `RECORD`. Ex) `sha256`
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    /// The digest length in bytes. Ex) `32` for sha256
    #[must_use]
    pub(crate) fn digest_len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// A fresh incremental hasher for this algorithm.
    #[must_use]
    pub fn hasher(self) -> Hasher {
        match self {
            Self::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            Self::Sha384 => Hasher::Sha384(sha2::Sha384::new()),
            Self::Sha512 => Hasher::Sha512(sha2::Sha512::new()),
        }
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An incremental hasher for one of the [`HashAlgorithm`]s.
#[derive(Debug, Clone)]
pub enum Hasher {
    /// sha256
    Sha256(sha2::Sha256),
    /// sha384
    Sha384(sha2::Sha384),
    /// sha512
    Sha512(sha2::Sha512),
}

impl Hasher {
    /// Feeds `bytes` to the hasher.
    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Self::Sha256(hasher) => hasher.update(bytes),
            Self::Sha384(hasher) => hasher.update(bytes),
            Self::Sha512(hasher) => hasher.update(bytes),
        }
    }

    /// The final hash.
    #[must_use]
    pub fn finish(self) -> RecordHash {
        let (algorithm, digest) = match self {
            Self::Sha256(hasher) => (HashAlgorithm::Sha256, hasher.finalize().to_vec()),
            Self::Sha384(hasher) => (HashAlgorithm::Sha384, hasher.finalize().to_vec()),
            Self::Sha512(hasher) => (HashAlgorithm::Sha512, hasher.finalize().to_vec()),
        };
        RecordHash { algorithm, digest }
    }
}

/// A hash from `RECORD`: algorithm and raw digest bytes.
///
/// Ex) `sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU`
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecordHash {
    /// The algorithm.
    pub algorithm: HashAlgorithm,
    /// The raw digest (not encoded).
    pub digest: Vec<u8>,
}

impl RecordHash {
    /// The sha256 hash of `bytes`.
    #[must_use]
    pub fn sha256_of(bytes: &[u8]) -> Self {
        Self {
            algorithm: HashAlgorithm::Sha256,
            digest: sha2::Sha256::digest(bytes).to_vec(),
        }
    }

    /// The `RECORD` spelling: `algorithm=` and the urlsafe base64 digest without padding.
    ///
    /// Ex) `sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU`
    #[must_use]
    pub fn encode(&self) -> String {
        format!(
            "{}={}",
            self.algorithm,
            URL_SAFE_NO_PAD.encode(&self.digest)
        )
    }
}

impl fmt::Display for RecordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

/// Why a `RECORD` hash field could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordHashError {
    /// No `=` between algorithm and digest. Ex) `sha256`
    #[error("invalid hash `{spec}`: expected `<algorithm>=<urlsafe-base64-digest>`")]
    MissingSeparator {
        /// The whole field.
        spec: String,
    },
    /// md5 or sha1, forbidden by PEP 376/427. Ex) `md5=…`
    #[error("insecure hash algorithm `{algorithm}`: RECORD needs sha256 or stronger")]
    InsecureAlgorithm {
        /// The algorithm as spelled.
        algorithm: String,
    },
    /// An algorithm that is not sha256/384/512. Ex) `blake2b=…`
    #[error("unsupported hash algorithm `{algorithm}`: expected sha256, sha384 or sha512")]
    UnknownAlgorithm {
        /// The algorithm as spelled.
        algorithm: String,
    },
    /// The digest is not urlsafe base64.
    #[error("invalid urlsafe base64 digest `{digest}`")]
    Base64 {
        /// The digest as spelled.
        digest: String,
        /// The decoder's complaint.
        #[source]
        source: base64::DecodeError,
    },
    /// The digest decodes to the wrong number of bytes for the algorithm.
    #[error("{algorithm} digest `{digest}` has {actual} bytes, expected {expected}")]
    DigestLength {
        /// The algorithm.
        algorithm: HashAlgorithm,
        /// The digest as spelled.
        digest: String,
        /// The decoded length.
        actual: usize,
        /// The algorithm's digest length.
        expected: usize,
    },
}

impl FromStr for RecordHash {
    type Err = RecordHashError;

    /// Parses `algorithm=digest`; the digest may carry `=` padding.
    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let Some((name, encoded)) = spec.split_once('=') else {
            return Err(RecordHashError::MissingSeparator {
                spec: spec.to_string(),
            });
        };
        let algorithm = match name.to_ascii_lowercase().as_str() {
            "sha256" => HashAlgorithm::Sha256,
            "sha384" => HashAlgorithm::Sha384,
            "sha512" => HashAlgorithm::Sha512,
            "md5" | "sha1" | "sha224" => {
                return Err(RecordHashError::InsecureAlgorithm {
                    algorithm: name.to_string(),
                });
            }
            _ => {
                return Err(RecordHashError::UnknownAlgorithm {
                    algorithm: name.to_string(),
                });
            }
        };
        let digest = URL_SAFE_NO_PAD_INDIFFERENT
            .decode(encoded)
            .map_err(|source| RecordHashError::Base64 {
                digest: encoded.to_string(),
                source,
            })?;
        if digest.len() != algorithm.digest_len() {
            return Err(RecordHashError::DigestLength {
                algorithm,
                digest: encoded.to_string(),
                actual: digest.len(),
                expected: algorithm.digest_len(),
            });
        }
        Ok(Self { algorithm, digest })
    }
}

/// One row of `RECORD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordEntry {
    /// The path inside the wheel, `/`-separated. Ex) `foo/_core.cpython-312-x86_64-linux-gnu.so`
    pub path: String,
    /// The hash; `None` only for `RECORD` itself (and signatures).
    pub hash: Option<RecordHash>,
    /// The size in bytes; `None` only for `RECORD` itself (and signatures).
    pub size: Option<u64>,
}

/// A parsed `RECORD` file, rows in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    /// The rows, in file order; paths are unique.
    pub entries: Vec<RecordEntry>,
}

/// Why a `RECORD` file could not be parsed. Rows are numbered from 1 (the line of the row start).
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The CSV syntax is broken or a field is not UTF-8.
    #[error("malformed CSV in RECORD row {row}")]
    Csv {
        /// The row number.
        row: u64,
        /// The CSV reader's complaint.
        #[source]
        source: csv::Error,
    },
    /// A row does not have exactly three fields.
    #[error("RECORD row {row} has {count} fields, expected 3 (path, hash, size)")]
    FieldCount {
        /// The row number.
        row: u64,
        /// How many fields were found.
        count: usize,
    },
    /// A row has an empty path.
    #[error("RECORD row {row} has an empty path")]
    EmptyPath {
        /// The row number.
        row: u64,
    },
    /// The hash field is not a valid hash.
    #[error("RECORD row {row} (`{path}`) has an invalid hash")]
    Hash {
        /// The row number.
        row: u64,
        /// The row's path.
        path: String,
        /// What is wrong with the hash.
        #[source]
        source: RecordHashError,
    },
    /// The size field is not a non-negative integer.
    #[error("RECORD row {row} (`{path}`) has an invalid size `{size}`")]
    Size {
        /// The row number.
        row: u64,
        /// The row's path.
        path: String,
        /// The size field as found.
        size: String,
    },
    /// The same path appears on two rows.
    #[error("RECORD row {row} repeats the path `{path}`")]
    DuplicatePath {
        /// The row number of the repetition.
        row: u64,
        /// The repeated path.
        path: String,
    },
}

impl Record {
    /// Parses a `RECORD` file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, RecordError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes);
        let mut entries = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut record = csv::StringRecord::new();
        loop {
            let row = reader.position().line();
            match reader.read_record(&mut record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(source) => {
                    let row = source.position().map_or(row, csv::Position::line);
                    return Err(RecordError::Csv { row, source });
                }
            }
            let row = record.position().map_or(row, csv::Position::line);
            let [path, hash, size] =
                match (record.len(), record.get(0), record.get(1), record.get(2)) {
                    (3, Some(path), Some(hash), Some(size)) => [path, hash, size],
                    (count, ..) => return Err(RecordError::FieldCount { row, count }),
                };
            if path.is_empty() {
                return Err(RecordError::EmptyPath { row });
            }
            let hash = if hash.is_empty() {
                None
            } else {
                Some(hash.parse().map_err(|source| RecordError::Hash {
                    row,
                    path: path.to_string(),
                    source,
                })?)
            };
            let size = if size.is_empty() {
                None
            } else {
                // `u64::from_str` accepts a leading `+`; RECORD sizes are plain digits.
                let parsed = size
                    .bytes()
                    .all(|b| b.is_ascii_digit())
                    .then(|| size.parse::<u64>().ok())
                    .flatten();
                Some(parsed.ok_or_else(|| RecordError::Size {
                    row,
                    path: path.to_string(),
                    size: size.to_string(),
                })?)
            };
            if !seen.insert(path.to_string()) {
                return Err(RecordError::DuplicatePath {
                    row,
                    path: path.to_string(),
                });
            }
            entries.push(RecordEntry {
                path: path.to_string(),
                hash,
                size,
            });
        }
        Ok(Self { entries })
    }

    /// Serialises as `path,sha256=…,size` lines with `\n` endings, quoting where CSV needs it.
    /// A row without hash and size (`RECORD` itself) is written as `path,,`.
    #[must_use]
    pub fn to_csv_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.entries.len() * 100);
        for entry in &self.entries {
            write_csv_field(&mut out, &entry.path);
            out.push(b',');
            if let Some(hash) = &entry.hash {
                write_csv_field(&mut out, &hash.encode());
            }
            out.push(b',');
            if let Some(size) = entry.size {
                out.extend_from_slice(size.to_string().as_bytes());
            }
            out.push(b'\n');
        }
        out
    }

    /// The row for `path`, if any (linear search).
    #[must_use]
    pub fn get(&self, path: &str) -> Option<&RecordEntry> {
        self.entries.iter().find(|entry| entry.path == path)
    }
}

/// Writes one CSV field, quoted (with `"` doubled) when it contains `,`, `"`, CR, LF, or starts or
/// ends with a space, as Python's `csv` module (`QUOTE_MINIMAL`) would.
fn write_csv_field(out: &mut Vec<u8>, field: &str) {
    let needs_quotes = field.is_empty()
        || field
            .bytes()
            .any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
        || field.starts_with(' ')
        || field.ends_with(' ');
    if needs_quotes {
        out.push(b'"');
        for b in field.bytes() {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(field.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY_SHA256: &str = "sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU";

    #[test]
    fn hash_encoding() {
        let hash = RecordHash::sha256_of(b"");
        assert_eq!(hash.encode(), EMPTY_SHA256);
        assert_eq!(EMPTY_SHA256.parse::<RecordHash>().unwrap(), hash);
        // Padding is accepted.
        let padded = format!("{EMPTY_SHA256}=");
        assert_eq!(padded.parse::<RecordHash>().unwrap(), hash);
        let mut hasher = HashAlgorithm::Sha256.hasher();
        hasher.update(b"");
        assert_eq!(hasher.finish(), hash);

        let sha512 = {
            let mut hasher = HashAlgorithm::Sha512.hasher();
            hasher.update(b"abc");
            hasher.finish()
        };
        assert_eq!(sha512.digest.len(), 64);
        assert_eq!(sha512.encode().parse::<RecordHash>().unwrap(), sha512);
    }

    #[test]
    fn hash_rejections() {
        let err = |spec: &str| spec.parse::<RecordHash>().unwrap_err();
        insta::assert_snapshot!(err("sha256"), @"invalid hash `sha256`: expected `<algorithm>=<urlsafe-base64-digest>`");
        insta::assert_snapshot!(err("md5=1B2M2Y8AsgTpgAmY7PhCfg"), @"insecure hash algorithm `md5`: RECORD needs sha256 or stronger");
        insta::assert_snapshot!(err("sha1=2jmj7l5rSw0yVb_vlWAYkK_YBwk"), @"insecure hash algorithm `sha1`: RECORD needs sha256 or stronger");
        insta::assert_snapshot!(err("blake2b=abc"), @"unsupported hash algorithm `blake2b`: expected sha256, sha384 or sha512");
        insta::assert_snapshot!(err("sha256=!!!"), @"invalid urlsafe base64 digest `!!!`");
        insta::assert_snapshot!(err("sha256=AAAA"), @"sha256 digest `AAAA` has 3 bytes, expected 32");
    }

    #[test]
    fn parse_and_round_trip() {
        let input = format!(
            "foo/__init__.py,{EMPTY_SHA256},0\n\
             \"foo/a,b.py\",{EMPTY_SHA256},0\n\
             \"foo/say \"\"hi\"\".txt\",{EMPTY_SHA256},0\n\
             foo-1.0.dist-info/RECORD,,\n"
        );
        let record = Record::from_bytes(input.as_bytes()).unwrap();
        assert_eq!(record.entries.len(), 4);
        assert_eq!(record.entries[1].path, "foo/a,b.py");
        assert_eq!(record.entries[2].path, "foo/say \"hi\".txt");
        assert_eq!(record.entries[0].size, Some(0));
        assert_eq!(
            record.get("foo/a,b.py").and_then(|e| e.hash.clone()),
            Some(RecordHash::sha256_of(b""))
        );
        let own = record.get("foo-1.0.dist-info/RECORD").unwrap();
        assert_eq!((&own.hash, own.size), (&None, None));
        assert_eq!(record.get("missing"), None);

        let written = record.to_csv_bytes();
        assert_eq!(String::from_utf8(written.clone()).unwrap(), input);
        assert_eq!(Record::from_bytes(&written).unwrap(), record);
    }

    #[test]
    fn crlf_and_blank_lines() {
        let input = format!("a.py,{EMPTY_SHA256},0\r\n\r\nb/RECORD,,\r\n");
        let record = Record::from_bytes(input.as_bytes()).unwrap();
        assert_eq!(record.entries.len(), 2);
    }

    #[test]
    fn rejections() {
        let err = |input: String| Record::from_bytes(input.as_bytes()).unwrap_err();
        insta::assert_snapshot!(err(format!("a.py,{EMPTY_SHA256},0\nb.py,{EMPTY_SHA256}\n")), @"RECORD row 2 has 2 fields, expected 3 (path, hash, size)");
        insta::assert_snapshot!(err(format!("a.py,{EMPTY_SHA256},0,extra\n")), @"RECORD row 1 has 4 fields, expected 3 (path, hash, size)");
        insta::assert_snapshot!(err(format!(",{EMPTY_SHA256},0\n")), @"RECORD row 1 has an empty path");
        let bad_hash = err("a.py,md5=1B2M2Y8AsgTpgAmY7PhCfg,0\n".to_string());
        insta::assert_snapshot!(bad_hash, @"RECORD row 1 (`a.py`) has an invalid hash");
        insta::assert_snapshot!(std::error::Error::source(&bad_hash).unwrap(), @"insecure hash algorithm `md5`: RECORD needs sha256 or stronger");
        insta::assert_snapshot!(err("a.py,sha256=***,0\n".to_string()), @"RECORD row 1 (`a.py`) has an invalid hash");
        insta::assert_snapshot!(err(format!("a.py,{EMPTY_SHA256},-1\n")), @"RECORD row 1 (`a.py`) has an invalid size `-1`");
        insta::assert_snapshot!(err(format!("a.py,{EMPTY_SHA256},+1\n")), @"RECORD row 1 (`a.py`) has an invalid size `+1`");
        insta::assert_snapshot!(err(format!("a.py,{EMPTY_SHA256},0\nx,,\na.py,{EMPTY_SHA256},0\n")), @"RECORD row 3 repeats the path `a.py`");
        let mut invalid_utf8 = b"a.py,,\n\xff.py,,\n".to_vec();
        invalid_utf8.extend_from_slice(b"c,,\n");
        insta::assert_snapshot!(Record::from_bytes(&invalid_utf8).unwrap_err(), @"malformed CSV in RECORD row 2");
    }
}
