//! Builds distribution files for the tests: wheels and sdists with chosen metadata, entries and
//! defects, written by the test itself (zip crate, tar + gzip).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use sha2::Digest as _;

/// `METADATA`/`PKG-INFO` text: the three required fields, extra header lines, then the body.
pub(crate) fn metadata(name: &str, version: &str, headers: &str, body: &str) -> String {
    let mut text = format!("Metadata-Version: 2.4\nName: {name}\nVersion: {version}\n");
    for line in headers.lines().filter(|l| !l.is_empty()) {
        text.push_str(line);
        text.push('\n');
    }
    if !body.is_empty() {
        text.push('\n');
        text.push_str(body);
    }
    text
}

fn record_hash(data: &[u8]) -> String {
    let digest = sha2::Sha256::digest(data);
    format!(
        "sha256={}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
    )
}

/// A RECORD path as CSV writes it: quoted when it holds a comma, a quote or a line break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// The one wheel builder of the tests. By default a wheel has `WHEEL` (one `Tag:` line per tag
/// of the file name's compressed tag set), `METADATA` and a correct `RECORD` in
/// `{name}-{version}.dist-info` spelled as in the file name; every part can be left out or
/// tampered with.
pub(crate) struct Wheel {
    pub(crate) filename: String,
    pub(crate) metadata: String,
    pub(crate) files: Vec<(String, Vec<u8>)>,
    /// `Root-Is-Purelib` in `WHEEL`.
    pub(crate) root_is_purelib: bool,
    /// `WHEEL`, `RECORD` or `METADATA`: left out.
    pub(crate) omit: Vec<&'static str>,
    /// Edits the RECORD text before it is written.
    pub(crate) tamper_record: Option<fn(String) -> String>,
    /// Edits the finished file's bytes.
    pub(crate) tamper_bytes: Option<fn(Vec<u8>) -> Vec<u8>>,
    /// Entries stored rather than deflated.
    pub(crate) stored: bool,
}

impl Wheel {
    /// A pure-looking wheel (`Root-Is-Purelib: true`) with `metadata` and a `pkg/__init__.py`.
    pub(crate) fn new(filename: &str, metadata: String) -> Self {
        Wheel {
            filename: filename.to_owned(),
            metadata,
            files: vec![("pkg/__init__.py".to_owned(), b"VALUE = 1\n".to_vec())],
            root_is_purelib: true,
            omit: Vec::new(),
            tamper_record: None,
            tamper_bytes: None,
            stored: false,
        }
    }

    /// A wheel with no files but its `.dist-info`, `Root-Is-Purelib: false` and the three
    /// required metadata fields (Metadata-Version 2.1).
    pub(crate) fn bare(filename: &str) -> Self {
        let mut parts = filename.split('-');
        let (name, version) = (
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
        );
        Wheel {
            files: Vec::new(),
            root_is_purelib: false,
            ..Wheel::new(
                filename,
                format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"),
            )
        }
    }

    pub(crate) fn file(mut self, path: &str, data: impl Into<Vec<u8>>) -> Self {
        self.files.push((path.to_owned(), data.into()));
        self
    }

    pub(crate) fn omit(mut self, file: &'static str) -> Self {
        self.omit.push(file);
        self
    }

    /// The `WHEEL` file: one `Tag:` line per tag the file name's tag set expands to.
    fn wheel_file(&self) -> String {
        let parts: Vec<&str> = self
            .filename
            .trim_end_matches(".whl")
            .rsplitn(4, '-')
            .take(3)
            .collect();
        let (platforms, abis, pythons) = (
            parts.first().unwrap_or(&"any"),
            parts.get(1).unwrap_or(&"none"),
            parts.get(2).unwrap_or(&"py3"),
        );
        let mut text = format!(
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: {}\n",
            self.root_is_purelib
        );
        for python in pythons.split('.') {
            for abi in abis.split('.') {
                for platform in platforms.split('.') {
                    text.push_str(&format!("Tag: {python}-{abi}-{platform}\n"));
                }
            }
        }
        text
    }

    pub(crate) fn write(self, dir: &Path) -> PathBuf {
        let mut parts = self.filename.split('-');
        let dist_info = format!(
            "{}-{}.dist-info",
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default()
        );
        let mut files = self.files.clone();
        if !self.omit.contains(&"WHEEL") {
            files.push((format!("{dist_info}/WHEEL"), self.wheel_file().into_bytes()));
        }
        if !self.omit.contains(&"METADATA") {
            files.push((
                format!("{dist_info}/METADATA"),
                self.metadata.clone().into_bytes(),
            ));
        }
        if !self.omit.contains(&"RECORD") {
            let mut record = String::new();
            for (path, data) in &files {
                record.push_str(&format!(
                    "{},{},{}\n",
                    csv_field(path),
                    record_hash(data),
                    data.len()
                ));
            }
            record.push_str(&format!("{dist_info}/RECORD,,\n"));
            if let Some(tamper) = self.tamper_record {
                record = tamper(record);
            }
            files.push((format!("{dist_info}/RECORD"), record.into_bytes()));
        }
        let path = dir.join(&self.filename);
        let file = fs_err::File::create(&path).expect("create wheel");
        let mut zip = zip::ZipWriter::new(file);
        let options = zip::write::SimpleFileOptions::default().compression_method(if self.stored {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        });
        for (name, data) in &files {
            zip.start_file(name.as_str(), options).expect("start file");
            zip.write_all(data).expect("write");
        }
        zip.finish().expect("finish");
        if let Some(tamper) = self.tamper_bytes {
            let bytes = fs_err::read(&path).expect("read wheel");
            fs_err::write(&path, tamper(bytes)).expect("write wheel");
        }
        path
    }
}

/// Writes a gzip-compressed tar with the given members (directories end with `/`).
pub(crate) fn sdist(dir: &Path, filename: &str, members: &[(&str, &[u8])]) -> PathBuf {
    let path = dir.join(filename);
    let file = fs_err::File::create(&path).expect("create sdist");
    let encoder = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    let mut tar = tar::Builder::new(encoder);
    for (name, data) in members {
        let mut header = tar::Header::new_ustar();
        if let Some(dir_name) = name.strip_suffix('/') {
            header.set_entry_type(tar::EntryType::Directory);
            header.set_size(0);
            header.set_mode(0o755);
            header.set_cksum();
            tar.append_data(&mut header, dir_name, std::io::empty())
                .expect("append dir");
        } else {
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append_data(&mut header, name, *data)
                .expect("append file");
        }
    }
    tar.into_inner()
        .expect("finish tar")
        .finish()
        .expect("finish gzip");
    path
}

/// A conventional sdist `{top}/PKG-INFO` plus a `pyproject.toml`.
pub(crate) fn simple_sdist(dir: &Path, filename: &str, top: &str, pkg_info: &str) -> PathBuf {
    let pkg_info_path = format!("{top}/PKG-INFO");
    let pyproject = format!("{top}/pyproject.toml");
    let top_dir = format!("{top}/");
    sdist(
        dir,
        filename,
        &[
            (top_dir.as_str(), b""),
            (pkg_info_path.as_str(), pkg_info.as_bytes()),
            (pyproject.as_str(), b"[project]\n"),
        ],
    )
}
