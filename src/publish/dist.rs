//! Distribution files to publish: finding them, putting them in upload order, reading their
//! core metadata (a wheel's `METADATA`, an sdist's `PKG-INFO`) and hashing them.

use std::collections::HashMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use blake2::Digest as _;

use super::form::{self, FormError};
use crate::wheel::{HeaderFile, WheelArchive};

/// The largest `PKG-INFO` read from an sdist.
const PKG_INFO_LIMIT: u64 = 16 * 1024 * 1024;

/// What kind of distribution a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DistKind {
    /// A source distribution (`.tar.gz`). Form `filetype` `sdist`.
    Sdist,
    /// A wheel (`.whl`). Form `filetype` `bdist_wheel`.
    Wheel,
}

impl DistKind {
    /// The kind a file name says, if any.
    #[must_use]
    pub fn from_filename(name: &str) -> Option<Self> {
        if name.ends_with(".whl") {
            Some(Self::Wheel)
        } else if name.ends_with(".tar.gz") {
            Some(Self::Sdist)
        } else {
            None
        }
    }

    /// The form's `filetype`.
    #[must_use]
    pub fn filetype(self) -> &'static str {
        match self {
            Self::Sdist => "sdist",
            Self::Wheel => "bdist_wheel",
        }
    }
}

/// Why the files to publish could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// A path does not exist or cannot be read.
    #[error("cannot read `{}`: {reason}", path.display())]
    Unreadable {
        /// The path given.
        path: PathBuf,
        /// The operating system's words. Ex) `No such file or directory (os error 2)`
        reason: String,
    },
    /// A file given by name is not a distribution.
    #[error("`{}` is not a distribution: expected a wheel (`.whl`) or an sdist (`.tar.gz`)", path.display())]
    NotADistribution {
        /// The path given.
        path: PathBuf,
    },
    /// Nothing to publish.
    #[error("no distributions to publish in {0} (looked for `*.whl` and `*.tar.gz`)")]
    Empty(String),
    /// Two paths with the same file name: the index would see one file twice.
    #[error("`{}` and `{}` have the same file name; an index keeps one file per name", first.display(), second.display())]
    DuplicateName {
        /// The first path.
        first: PathBuf,
        /// The second path.
        second: PathBuf,
    },
}

/// Expands directories (their `*.whl` and `*.tar.gz`, not recursive), checks named files, and
/// returns the files in upload order: sdists first, then wheels, each sorted by file name.
pub fn collect(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, CollectError> {
    let mut files = Vec::new();
    for input in inputs {
        let unreadable = |source: std::io::Error| CollectError::Unreadable {
            path: input.clone(),
            reason: root_cause(&source),
        };
        let meta = fs_err::metadata(input).map_err(unreadable)?;
        if meta.is_dir() {
            let mut found: Vec<PathBuf> = Vec::new();
            for entry in fs_err::read_dir(input).map_err(unreadable)? {
                let path = entry.map_err(unreadable)?.path();
                let is_dist = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(DistKind::from_filename)
                    .is_some();
                if is_dist && !path.is_dir() {
                    found.push(path);
                }
            }
            files.extend(found);
        } else {
            let name = input.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if DistKind::from_filename(name).is_none() {
                return Err(CollectError::NotADistribution {
                    path: input.clone(),
                });
            }
            files.push(input.clone());
        }
    }
    if files.is_empty() {
        let places = inputs
            .iter()
            .map(|p| format!("`{}`", p.display()))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(CollectError::Empty(places));
    }
    let mut by_name: HashMap<String, PathBuf> = HashMap::new();
    let mut unique = Vec::new();
    for file in files {
        let name = file_name(&file);
        if let Some(first) = by_name.get(&name) {
            if same_file(first, &file) {
                continue;
            }
            return Err(CollectError::DuplicateName {
                first: first.clone(),
                second: file,
            });
        }
        by_name.insert(name, file.clone());
        unique.push(file);
    }
    unique.sort_by_key(|path| {
        let name = file_name(path);
        (DistKind::from_filename(&name), name)
    });
    Ok(unique)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (fs_err::canonicalize(a), fs_err::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The innermost message of an I/O error (`fs_err` wraps the OS error with the path, which
/// our messages already name).
#[must_use]
pub fn root_cause(err: &std::io::Error) -> String {
    let mut current: &dyn std::error::Error = err;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

/// The final component of `path` (lossy UTF-8).
#[must_use]
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A distribution ready to upload: its form fields and hashes.
#[derive(Debug, Clone)]
pub struct Distribution {
    /// Where it is on disk.
    pub path: PathBuf,
    /// Its file name (the `content` part's file name).
    pub filename: String,
    /// Wheel or sdist.
    pub kind: DistKind,
    /// Size in bytes when hashed.
    pub size: u64,
    /// Hex SHA-256.
    pub sha256: String,
    /// Hex BLAKE2b-256.
    pub blake2_256: String,
    /// `Name` from the metadata, as spelled.
    pub name: String,
    /// `Version` from the metadata.
    pub version: String,
    /// The metadata parts of the form (see [`form::metadata_fields`]).
    pub metadata_fields: Vec<(String, String)>,
    /// The form's `pyversion`: the wheel's python tag set, `source` for an sdist.
    pub pyversion: String,
}

/// Why a distribution could not be prepared for upload.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// Reading or hashing the file failed.
    #[error("cannot read `{}`: {reason}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's words.
        reason: String,
    },
    /// The wheel could not be opened (file name, zip, RECORD, METADATA).
    #[error("{0}")]
    Wheel(#[from] Box<crate::wheel::ArchiveError>),
    /// The sdist has no usable `PKG-INFO`.
    #[error("`{}`: {reason}", path.display())]
    Sdist {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The metadata cannot be sent.
    #[error("`{}`: {source}", path.display())]
    Form {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: FormError,
    },
}

/// Reads the metadata of `path` and hashes it.
pub fn prepare(path: &Path) -> Result<Distribution, PrepareError> {
    let filename = file_name(path);
    let kind = DistKind::from_filename(&filename).ok_or_else(|| PrepareError::Sdist {
        path: path.to_owned(),
        reason: "not a wheel (`.whl`) or an sdist (`.tar.gz`)".to_owned(),
    })?;
    let (headers, pyversion) = match kind {
        DistKind::Wheel => {
            let archive = WheelArchive::open(path).map_err(Box::new)?;
            let headers = archive.metadata().headers.clone();
            (headers, archive.filename().python_tags.join("."))
        }
        DistKind::Sdist => (read_pkg_info(path)?, "source".to_owned()),
    };
    let metadata_fields = form::metadata_fields(&headers).map_err(|source| PrepareError::Form {
        path: path.to_owned(),
        source,
    })?;
    let (size, sha256, blake2_256) = hash_file(path).map_err(|source| PrepareError::Io {
        path: path.to_owned(),
        reason: root_cause(&source),
    })?;
    Ok(Distribution {
        path: path.to_owned(),
        filename,
        kind,
        size,
        sha256,
        blake2_256,
        name: headers.get("Name").unwrap_or_default().to_owned(),
        version: headers.get("Version").unwrap_or_default().to_owned(),
        metadata_fields,
        pyversion,
    })
}

/// Size, hex SHA-256 and hex BLAKE2b-256 of a file, in one pass.
pub fn hash_file(path: &Path) -> std::io::Result<(u64, String, String)> {
    let mut file = fs_err::File::open(path)?;
    let mut sha256 = sha2::Sha256::new();
    let mut blake = blake2::Blake2b::<blake2::digest::consts::U32>::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        sha256.update(&buf[..n]);
        blake.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, hex(&sha256.finalize()), hex(&blake.finalize())))
}

/// Lower-case hex.
#[must_use]
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// `PKG-INFO` of a `.tar.gz` sdist, found like twine does: the archive has one top-level
/// directory, and `<top>/PKG-INFO` is a regular file with a `Metadata-Version`.
fn read_pkg_info(path: &Path) -> Result<HeaderFile, PrepareError> {
    let fail = |reason: String| PrepareError::Sdist {
        path: path.to_owned(),
        reason,
    };
    let io_fail = |source: std::io::Error| PrepareError::Io {
        path: path.to_owned(),
        reason: root_cause(&source),
    };
    let file = fs_err::File::open(path).map_err(io_fail)?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut tops: Vec<String> = Vec::new();
    let mut candidates: Vec<(String, Vec<u8>)> = Vec::new();
    let entries = archive
        .entries()
        .map_err(|e| fail(format!("not a gzip-compressed tar archive: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| fail(format!("corrupt tar archive: {e}")))?;
        let name = entry
            .path()
            .map_err(|e| fail(format!("bad member name: {e}")))?;
        let name = name.to_string_lossy().trim_start_matches("./").to_owned();
        let Some(top) = name.split('/').find(|c| !c.is_empty()) else {
            continue;
        };
        if !tops.iter().any(|t| t == top) {
            tops.push(top.to_owned());
        }
        let rest = name[name.find(top).unwrap_or(0) + top.len()..].trim_matches('/');
        if rest == "PKG-INFO" && entry.header().entry_type().is_file() {
            if entry.size() > PKG_INFO_LIMIT {
                return Err(fail(format!(
                    "`{name}` is larger than {PKG_INFO_LIMIT} bytes"
                )));
            }
            let mut bytes = Vec::new();
            entry
                .read_to_end(&mut bytes)
                .map_err(|e| fail(format!("cannot read `{name}`: {e}")))?;
            candidates.push((top.to_owned(), bytes));
        }
    }
    match tops.as_slice() {
        [top] => {
            let bytes = candidates
                .into_iter()
                .find(|(t, _)| t == top)
                .map(|(_, b)| b)
                .filter(|b| memchr::memmem::find(b, b"Metadata-Version").is_some())
                .ok_or_else(|| {
                    fail(format!(
                        "no `{top}/PKG-INFO` with a `Metadata-Version` in the archive"
                    ))
                })?;
            HeaderFile::parse(&bytes).map_err(|e| fail(format!("`{top}/PKG-INFO`: {e}")))
        }
        [] => Err(fail("the archive is empty".to_owned())),
        _ => Err(fail(format!(
            "more than one top-level member ({}); an sdist has one top-level directory",
            tops.join(", ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_match_known_vectors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("abc");
        fs_err::write(&path, b"abc").unwrap();
        let (size, sha, blake) = hash_file(&path).unwrap();
        assert_eq!(size, 3);
        assert_eq!(
            sha,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            blake,
            "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319"
        );
    }

    #[test]
    fn collects_in_upload_order() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "b-1.0-py3-none-any.whl",
            "a-1.0-cp312-cp312-manylinux_2_17_x86_64.whl",
            "a-1.0.tar.gz",
            "notes.txt",
            "a-1.0-py3-none-any.whl.publish.attestation",
        ] {
            fs_err::write(dir.path().join(name), b"x").unwrap();
        }
        let files = collect(&[dir.path().to_owned()]).unwrap();
        let names: Vec<String> = files.iter().map(|p| file_name(p)).collect();
        assert_eq!(
            names,
            [
                "a-1.0.tar.gz",
                "a-1.0-cp312-cp312-manylinux_2_17_x86_64.whl",
                "b-1.0-py3-none-any.whl"
            ]
        );
        // The same file twice (by directory and by name) is one file.
        let again = collect(&[dir.path().to_owned(), dir.path().join("a-1.0.tar.gz")]).unwrap();
        assert_eq!(again.len(), 3);
    }

    #[test]
    fn collect_errors_name_the_input() {
        let dir = tempfile::tempdir().unwrap();
        let empty = collect(&[dir.path().to_owned()]).unwrap_err().to_string();
        assert!(
            empty.starts_with("no distributions to publish in `"),
            "{empty}"
        );
        let txt = dir.path().join("x.txt");
        fs_err::write(&txt, b"x").unwrap();
        let err = collect(std::slice::from_ref(&txt)).unwrap_err().to_string();
        assert!(
            err.ends_with(
                "is not a distribution: expected a wheel (`.whl`) or an sdist (`.tar.gz`)"
            ),
            "{err}"
        );
        let other = tempfile::tempdir().unwrap();
        for d in [dir.path(), other.path()] {
            fs_err::write(d.join("a-1.0.tar.gz"), b"x").unwrap();
        }
        let err = collect(&[dir.path().to_owned(), other.path().to_owned()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("have the same file name"), "{err}");
    }

    #[test]
    fn reads_pkg_info_from_an_sdist() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo-1.0.tar.gz");
        let write = |members: &[(&str, &[u8])]| {
            let file = fs_err::File::create(&path).unwrap();
            let gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
            let mut tar = tar::Builder::new(gz);
            for (name, data) in members {
                let mut header = tar::Header::new_gnu();
                header.set_size(data.len() as u64);
                header.set_mode(0o644);
                header.set_cksum();
                tar.append_data(&mut header, name, *data).unwrap();
            }
            tar.into_inner().unwrap().finish().unwrap();
        };
        write(&[
            ("demo-1.0/setup.py", b"".as_slice()),
            (
                "demo-1.0/PKG-INFO",
                b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n",
            ),
            (
                "demo-1.0/src/demo.egg-info/PKG-INFO",
                b"Metadata-Version: 2.1\nName: wrong\n",
            ),
        ]);
        let dist = prepare(&path).unwrap();
        assert_eq!((dist.name.as_str(), dist.version.as_str()), ("demo", "1.0"));
        assert_eq!(dist.pyversion, "source");
        assert_eq!(dist.kind.filetype(), "sdist");

        write(&[("a/PKG-INFO", b"Metadata-Version: 2.1\n"), ("b/x", b"")]);
        let err = prepare(&path).unwrap_err().to_string();
        assert!(
            err.contains("more than one top-level member (a, b)"),
            "{err}"
        );
        write(&[("demo-1.0/setup.py", b"")]);
        let err = prepare(&path).unwrap_err().to_string();
        assert!(
            err.contains("no `demo-1.0/PKG-INFO` with a `Metadata-Version`"),
            "{err}"
        );
    }
}
