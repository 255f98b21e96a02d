use std::io::Write as _;

use zip::write::SimpleFileOptions;

use super::*;

const WHEEL_NAME: &str = "foo-1.0-cp312-cp312-linux_x86_64.whl";
const DIST_INFO: &str = "foo-1.0.dist-info";

/// The contents of a small valid wheel, `RECORD` excluded.
fn good_files() -> Vec<(String, Vec<u8>)> {
    let mut elf = b"\x7fELF\x02\x01\x01".to_vec();
    elf.extend((0..20_000u32).map(|i| (i % 251) as u8));
    vec![
            ("foo/".to_string(), Vec::new()),
            ("foo/__init__.py".to_string(), b"from ._core import *\n".to_vec()),
            ("foo/_core.so".to_string(), elf),
            ("foo/data, with comma.txt".to_string(), b"a,b\n".to_vec()),
            (
                format!("{DIST_INFO}/METADATA"),
                b"Metadata-Version: 2.1\nName: foo\nVersion: 1.0\n\nA description\n".to_vec(),
            ),
            (
                format!("{DIST_INFO}/WHEEL"),
                b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: false\nTag: cp312-cp312-linux_x86_64\n"
                    .to_vec(),
            ),
        ]
}

/// A `RECORD` for `files` (directories skipped), listing `record_path` last.
fn record_for(files: &[(String, Vec<u8>)], record_path: &str) -> Vec<u8> {
    let mut record = Record::default();
    for (name, content) in files {
        if name.ends_with('/') {
            continue;
        }
        record.entries.push(super::super::record::RecordEntry {
            path: name.clone(),
            hash: Some(RecordHash::sha256_of(content)),
            size: Some(content.len() as u64),
        });
    }
    record.entries.push(super::super::record::RecordEntry {
        path: record_path.to_string(),
        hash: None,
        size: None,
    });
    record.to_csv_bytes()
}

/// `files` followed by a `RECORD` that matches them.
fn with_record(mut files: Vec<(String, Vec<u8>)>) -> Vec<(String, Vec<u8>)> {
    let record_path = format!("{DIST_INFO}/RECORD");
    let record = record_for(&files, &record_path);
    files.push((record_path, record));
    files
}

/// `good_files` plus a matching `RECORD`.
fn good_wheel_files() -> Vec<(String, Vec<u8>)> {
    with_record(good_files())
}

/// `bytes` (a wheel with `_core.so` stored) with one byte of `_core.so`'s data flipped.
fn corrupt_stored_core(bytes: &[u8]) -> Vec<u8> {
    let at = bytes
        .windows(4)
        .position(|window| window == b"\x7fELF")
        .unwrap();
    let mut corrupt = bytes.to_vec();
    corrupt[at + 100] ^= 0xff;
    corrupt
}

/// Writes `files` as a zip (deflated) and returns its bytes.
fn zip_bytes(files: &[(String, Vec<u8>)], method: CompressionMethod) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(method)
        .unix_permissions(0o644);
    for (name, content) in files {
        if name.ends_with('/') {
            writer.add_directory(name.as_str(), options).unwrap();
        } else {
            writer.start_file(name.as_str(), options).unwrap();
            writer.write_all(content).unwrap();
        }
    }
    writer.finish().unwrap().into_inner()
}

/// Replaces every occurrence of `from` with `to` (same length) in zip bytes: this renames
/// entries in both the local headers and the central directory, producing names no writer
/// would produce.
fn patch(mut bytes: Vec<u8>, from: &str, to: &str) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut found = false;
    let mut start = 0;
    while let Some(offset) = bytes[start..]
        .windows(from.len())
        .position(|window| window == from.as_bytes())
    {
        let at = start + offset;
        bytes[at..at + to.len()].copy_from_slice(to.as_bytes());
        start = at + to.len();
        found = true;
    }
    assert!(found, "`{from}` not found");
    bytes
}

fn write_wheel(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    fs_err::write(&path, bytes).unwrap();
    path
}

fn open_bytes(bytes: &[u8]) -> Result<WheelArchive, ArchiveError> {
    let dir = tempfile::tempdir().unwrap();
    WheelArchive::open(&write_wheel(dir.path(), WHEEL_NAME, bytes))
}

fn open_files(files: &[(String, Vec<u8>)]) -> Result<WheelArchive, ArchiveError> {
    open_bytes(&zip_bytes(files, CompressionMethod::Deflated))
}

/// The error's top line, checked to be a single line naming the wheel.
fn message(err: &ArchiveError) -> String {
    let message = err.to_string();
    assert!(!message.contains('\n'), "multi-line error: {message}");
    assert!(
        message.contains("foo"),
        "error does not name the wheel: {message}"
    );
    message
}

fn source(err: &ArchiveError) -> String {
    std::error::Error::source(err)
        .map(ToString::to_string)
        .unwrap_or_default()
}

fn replace_file(files: &mut [(String, Vec<u8>)], name: &str, content: &[u8]) {
    let file = files.iter_mut().find(|(n, _)| n == name).unwrap();
    file.1 = content.to_vec();
}

#[test]
fn good_wheel() {
    for method in [CompressionMethod::Deflated, CompressionMethod::Stored] {
        let mut archive = open_bytes(&zip_bytes(&good_wheel_files(), method)).unwrap();
        assert_eq!(archive.filename().to_string(), WHEEL_NAME);
        assert_eq!(archive.path().file_name().unwrap(), WHEEL_NAME);
        assert_eq!(archive.dist_info_dir(), DIST_INFO);
        assert_eq!(archive.metadata().name, "foo");
        assert_eq!(
            archive.metadata().headers.body.as_deref(),
            Some("A description\n")
        );
        assert_eq!(archive.wheel_info().tags, ["cp312-cp312-linux_x86_64"]);
        assert!(!archive.wheel_info().root_is_purelib);
        assert_eq!(archive.record().entries.len(), 6);

        let names: Vec<&str> = archive.entries().iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "foo/",
                "foo/__init__.py",
                "foo/_core.so",
                "foo/data, with comma.txt",
                "foo-1.0.dist-info/METADATA",
                "foo-1.0.dist-info/WHEEL",
                "foo-1.0.dist-info/RECORD",
            ]
        );
        let dir = &archive.entries()[0];
        assert!(dir.is_dir);
        let so = archive.entry("foo/_core.so").unwrap().clone();
        assert_eq!(so.index, 2);
        assert_eq!(so.size, 20_007);
        assert!(!so.is_dir && !so.is_symlink);
        assert_eq!(so.unix_mode.map(|mode| mode & 0o777), Some(0o644));
        let expected_compression = if method == CompressionMethod::Stored {
            Compression::Stored
        } else {
            Compression::Deflated
        };
        assert_eq!(so.compression, expected_compression);

        assert_eq!(
            archive.read_entry("foo/__init__.py").unwrap(),
            b"from ._core import *\n"
        );
        assert_eq!(archive.read_entry("foo/").unwrap(), b"");
        assert!(
            archive
                .read_entry("foo-1.0.dist-info/RECORD")
                .unwrap()
                .ends_with(b"foo-1.0.dist-info/RECORD,,\n")
        );
        assert_eq!(archive.read_prefix("foo/_core.so", 4).unwrap(), b"\x7fELF");
        assert_eq!(
            archive.read_prefix("foo/__init__.py", 1000).unwrap().len(),
            21
        );
        assert!(matches!(
            archive.read_entry("foo/missing.py").unwrap_err(),
            ArchiveError::EntryNotFound { .. }
        ));

        archive.verify_all().unwrap();
        let kept = archive
            .verify_and_read(|_, prefix| prefix.starts_with(b"\x7fELF"))
            .unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].0, so.index);
        assert_eq!(kept[0].1, archive.read_entry("foo/_core.so").unwrap());
    }
}

#[test]
fn thread_safe_types() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<WheelArchive>();
    assert_send_sync::<ArchiveError>();
}

#[test]
fn entry_not_found() {
    let mut archive = open_files(&good_wheel_files()).unwrap();
    let err = archive.read_entry("foo/missing.py").unwrap_err();
    insta::assert_snapshot!(message(&err), @"`foo-1.0-cp312-cp312-linux_x86_64.whl`: no entry `foo/missing.py`");
    let err = archive.read_prefix("foo/missing.py", 4).unwrap_err();
    assert!(matches!(err, ArchiveError::EntryNotFound { .. }));
}

#[test]
fn want_sees_the_probe_prefix() {
    let archive = open_files(&good_wheel_files()).unwrap();
    let kept = archive
        .verify_and_read(|entry, prefix| {
            let expected = usize::try_from(entry.size).unwrap().min(PROBE_LEN);
            assert_eq!(prefix.len(), expected, "{}", entry.name);
            true
        })
        .unwrap();
    // Every file entry, directories excluded, in index order.
    let indices: Vec<usize> = kept.iter().map(|(index, _)| *index).collect();
    assert_eq!(indices, [1, 2, 3, 4, 5, 6]);
}

#[test]
fn not_a_zip() {
    let err = open_bytes(b"this is not a zip file").unwrap_err();
    insta::assert_snapshot!(message(&err), @"`foo-1.0-cp312-cp312-linux_x86_64.whl`: not a valid zip archive");
    assert!(matches!(err, ArchiveError::Zip { .. }));
}

#[test]
fn truncated_zip() {
    let bytes = zip_bytes(&good_wheel_files(), CompressionMethod::Deflated);
    for len in [0, 10, bytes.len() / 2, bytes.len() - 10] {
        let err = open_bytes(&bytes[..len]).unwrap_err();
        assert!(matches!(err, ArchiveError::Zip { .. }), "{len}: {err:?}");
        message(&err);
    }
}

#[test]
fn corrupt_entry_data() {
    // Flip a byte inside the stored `_core.so` data: the hash differs.
    let bytes = zip_bytes(&good_wheel_files(), CompressionMethod::Stored);
    let archive = open_bytes(&corrupt_stored_core(&bytes)).unwrap();
    let err = archive.verify_all().unwrap_err();
    insta::assert_snapshot!(message(&err), @"`foo-1.0-cp312-cp312-linux_x86_64.whl`: RECORD hash mismatch for `foo/_core.so` (expected `sha256=yOAQZZZhGlX6k-PSl6uGUL83Awldcsnt-mXZyvURZb4`, found `sha256=7CxhOL4snffR1F7HQKEgOgILWqOAvZs4UnxWtcBE70U`)");
}

#[test]
fn extract_without_hashing_still_catches_changed_bytes() {
    let bytes = zip_bytes(&good_wheel_files(), CompressionMethod::Stored);
    let good = open_bytes(&bytes).unwrap();
    let mut out = Vec::new();
    good.extract_entry_with("foo/_core.so", &mut out, Verification::SizesOnly)
        .unwrap();
    let mut hashed = Vec::new();
    good.extract_entry_to("foo/_core.so", &mut hashed).unwrap();
    assert_eq!(out, hashed);

    // The same corruption as above: without hashing, the zip CRC-32 rejects it.
    let archive = open_bytes(&corrupt_stored_core(&bytes)).unwrap();
    let err = archive
        .extract_entry_with("foo/_core.so", &mut Vec::new(), Verification::SizesOnly)
        .unwrap_err();
    assert!(message(&err).contains("foo/_core.so"), "{}", message(&err));
}

#[test]
fn corrupt_deflate_stream() {
    let files = good_wheel_files();
    let bytes = zip_bytes(&files, CompressionMethod::Deflated);
    let archive = open_bytes(&bytes).unwrap();
    let so = archive.entry("foo/_core.so").unwrap().clone();
    let mut zip = archive.zip.clone();
    let start = zip.by_index_raw(so.index).unwrap().data_start().unwrap();
    let start = usize::try_from(start).unwrap();
    for offset in [0, 1, 7, 50] {
        let mut corrupt = bytes.clone();
        corrupt[start + offset] ^= 0x55;
        let archive = open_bytes(&corrupt).unwrap();
        let err = archive.verify_all().unwrap_err();
        assert!(
            matches!(
                err,
                ArchiveError::ReadEntry { .. }
                    | ArchiveError::HashMismatch { .. }
                    | ArchiveError::SizeMismatch { .. }
            ),
            "{err:?}"
        );
        assert!(message(&err).contains("foo/_core.so"));
    }
}

#[test]
fn symlink_entry() {
    let mut writer = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
    let mut files = good_files();
    files.retain(|(name, _)| !name.ends_with('/'));
    files.push(("foo/link.so".to_string(), b"_core.so".to_vec()));
    for (name, content) in &with_record(files) {
        if name == "foo/link.so" {
            writer
                .add_symlink(name.as_str(), "_core.so", SimpleFileOptions::default())
                .unwrap();
        } else {
            writer
                .start_file(name.as_str(), SimpleFileOptions::default())
                .unwrap();
            writer.write_all(content).unwrap();
        }
    }
    let bytes = writer.finish().unwrap().into_inner();
    let mut archive = open_bytes(&bytes).unwrap();
    let link = archive.entry("foo/link.so").unwrap();
    assert!(link.is_symlink && !link.is_dir);
    assert_eq!(archive.read_entry("foo/link.so").unwrap(), b"_core.so");
    archive.verify_all().unwrap();
}

#[test]
fn missing_wheel_file() {
    let mut files = good_files();
    files.retain(|(name, _)| !name.ends_with("/WHEEL"));
    let err = open_files(&with_record(files)).unwrap_err();
    insta::assert_snapshot!(message(&err), @"`foo-1.0-cp312-cp312-linux_x86_64.whl`: missing `foo-1.0.dist-info/WHEEL`");
}

#[test]
fn missing_record() {
    let err = open_files(&good_files()).unwrap_err();
    insta::assert_snapshot!(message(&err), @"`foo-1.0-cp312-cp312-linux_x86_64.whl`: missing `foo-1.0.dist-info/RECORD`");
}

#[test]
fn corrupt_record() {
    let mut files = good_wheel_files();
    replace_file(
        &mut files,
        "foo-1.0.dist-info/RECORD",
        b"foo/__init__.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,12x\n",
    );
    let err = open_files(&files).unwrap_err();
    insta::assert_snapshot!(message(&err), @"`foo-1.0-cp312-cp312-linux_x86_64.whl`: invalid `foo-1.0.dist-info/RECORD`");
    insta::assert_snapshot!(source(&err), @"RECORD row 1 (`foo/__init__.py`) has an invalid size `12x`");

    replace_file(
        &mut files,
        "foo-1.0.dist-info/RECORD",
        b"\"unterminated,,\n",
    );
    let err = open_files(&files).unwrap_err();
    assert!(matches!(err, ArchiveError::Record { .. }), "{err:?}");
}

#[test]
fn invalid_wheel_and_metadata() {
    let mut files = good_files();
    replace_file(
        &mut files,
        "foo-1.0.dist-info/WHEEL",
        b"Wheel-Version: 1.0\n",
    );
    let err = open_files(&with_record(files)).unwrap_err();
    insta::assert_snapshot!(message(&err), @"`foo-1.0-cp312-cp312-linux_x86_64.whl`: invalid `foo-1.0.dist-info/WHEEL`");
    insta::assert_snapshot!(source(&err), @"missing required field `Root-Is-Purelib`");

    let mut files = good_files();
    replace_file(&mut files, "foo-1.0.dist-info/METADATA", b"Name: foo\n");
    let err = open_files(&with_record(files)).unwrap_err();
    insta::assert_snapshot!(message(&err), @"`foo-1.0-cp312-cp312-linux_x86_64.whl`: invalid `foo-1.0.dist-info/METADATA`");
}

#[test]
fn hash_mismatch() {
    let mut files = good_wheel_files();
    // Same size, different bytes.
    replace_file(&mut files, "foo/__init__.py", b"from ._core import #\n");
    let mut archive = open_files(&files).unwrap();
    let err = archive.read_entry("foo/__init__.py").unwrap_err();
    insta::assert_snapshot!(message(&err), @"`foo-1.0-cp312-cp312-linux_x86_64.whl`: RECORD hash mismatch for `foo/__init__.py` (expected `sha256=0zpBfzO64sy3FMVSKxe4TzTdDEXGpDaPHgG23YWlvts`, found `sha256=FyUL3Z1LlzxZxW5ZxDDXW01YV7WWoa1scYGclMaj89M`)");
    let err = archive.verify_all().unwrap_err();
    assert!(matches!(err, ArchiveError::HashMismatch { .. }), "{err:?}");
    // The prefix read does not verify.
    assert_eq!(archive.read_prefix("foo/__init__.py", 4).unwrap(), b"from");
}

#[test]
fn hash_mismatch_in_wheel_file_fails_open() {
    let mut files = good_wheel_files();
    replace_file(
            &mut files,
            "foo-1.0.dist-info/WHEEL",
            b"Wheel-Version: 1.0\nGenerator: TEST\nRoot-Is-Purelib: false\nTag: cp312-cp312-linux_x86_64\n",
        );
    let err = open_files(&files).unwrap_err();
    assert!(matches!(err, ArchiveError::HashMismatch { .. }), "{err:?}");
}

#[test]
fn size_mismatch() {
    let mut files = good_files();
    let record_path = format!("{DIST_INFO}/RECORD");
    let record = String::from_utf8(record_for(&files, &record_path)).unwrap();
    let record = record.replace(",21\n", ",22\n");
    files.push((record_path, record.into_bytes()));
    let mut archive = open_files(&files).unwrap();
    let err = archive.read_entry("foo/__init__.py").unwrap_err();
    insta::assert_snapshot!(message(&err), @"`foo-1.0-cp312-cp312-linux_x86_64.whl`: RECORD size mismatch for `foo/__init__.py` (expected 22 bytes, found 21)");
    assert!(matches!(
        archive.verify_all().unwrap_err(),
        ArchiveError::SizeMismatch { .. }
    ));
}

#[test]
fn unsafe_entry_names() {
    let cases = [
        ("aaaaaaa", "../evil"),
        ("aaaaaaaaaaa", "/etc/passwd"),
        ("aaaaaaaaaa", "foo/../bar"),
        ("aaaaaaa", "foo\\bar"),
        ("aaaaaaa", "foo\0bar"),
        ("aaaaaaa", "foo//ba"),
        ("aaaaaaa", "./fooba"),
        ("aaaaaaaa", "C:/win.x"),
    ];
    let mut messages = Vec::new();
    for (placeholder, name) in cases {
        let mut files = good_wheel_files();
        files.insert(1, (placeholder.to_string(), b"x".to_vec()));
        let bytes = patch(
            zip_bytes(&files, CompressionMethod::Deflated),
            placeholder,
            name,
        );
        let err = open_bytes(&bytes).unwrap_err();
        assert!(
            matches!(err, ArchiveError::UnsafeEntryName { .. }),
            "{err:?}"
        );
        messages.push(message(&err));
    }
    insta::assert_snapshot!(messages.join("\n"), @r"
        `foo-1.0-cp312-cp312-linux_x86_64.whl`: unsafe entry name `../evil`: has a `..` component
        `foo-1.0-cp312-cp312-linux_x86_64.whl`: unsafe entry name `/etc/passwd`: is an absolute path
        `foo-1.0-cp312-cp312-linux_x86_64.whl`: unsafe entry name `foo/../bar`: has a `..` component
        `foo-1.0-cp312-cp312-linux_x86_64.whl`: unsafe entry name `foo\\bar`: contains a backslash
        `foo-1.0-cp312-cp312-linux_x86_64.whl`: unsafe entry name `foo\0bar`: contains a NUL byte
        `foo-1.0-cp312-cp312-linux_x86_64.whl`: unsafe entry name `foo//ba`: has an empty path component
        `foo-1.0-cp312-cp312-linux_x86_64.whl`: unsafe entry name `./fooba`: has a `.` component
        `foo-1.0-cp312-cp312-linux_x86_64.whl`: unsafe entry name `C:/win.x`: starts with a drive letter
        ");
}

#[test]
fn duplicate_entries() {
    let mut files = good_wheel_files();
    files.insert(1, ("foo/aaaaaaa.py".to_string(), b"x".to_vec()));
    files.insert(1, ("foo/bbbbbbb.py".to_string(), b"y".to_vec()));
    let bytes = patch(
        zip_bytes(&files, CompressionMethod::Deflated),
        "foo/bbbbbbb.py",
        "foo/aaaaaaa.py",
    );
    let err = open_bytes(&bytes).unwrap_err();
    insta::assert_snapshot!(message(&err), @"`foo-1.0-cp312-cp312-linux_x86_64.whl`: the zip central directory lists an entry name more than once");

    let mut files = good_wheel_files();
    files.insert(1, ("foo/sub".to_string(), b"x".to_vec()));
    files.insert(1, ("foo/sub/".to_string(), Vec::new()));
    let err = open_files(&files).unwrap_err();
    insta::assert_snapshot!(message(&err), @"`foo-1.0-cp312-cp312-linux_x86_64.whl`: `foo/sub` is both a file and a directory entry");
}

#[test]
fn file_missing_from_record() {
    let mut files = good_wheel_files();
    files.insert(1, ("foo/extra.py".to_string(), b"x = 1\n".to_vec()));
    let mut archive = open_files(&files).unwrap();
    let err = archive.read_entry("foo/extra.py").unwrap_err();
    insta::assert_snapshot!(message(&err), @"`foo-1.0-cp312-cp312-linux_x86_64.whl`: `foo/extra.py` is not listed in RECORD");
    let err = archive.verify_all().unwrap_err();
    assert!(matches!(err, ArchiveError::NotInRecord { .. }), "{err:?}");
    // Signatures need no RECORD row.
    let mut files = good_wheel_files();
    files.push((format!("{DIST_INFO}/RECORD.jws"), b"{}".to_vec()));
    open_files(&files).unwrap().verify_all().unwrap();
}

#[test]
fn record_row_without_file() {
    let mut files = good_files();
    let record_path = format!("{DIST_INFO}/RECORD");
    let record = record_for(&files, &record_path);
    files.retain(|(name, _)| name != "foo/__init__.py");
    files.push((record_path, record));
    let archive = open_files(&files).unwrap();
    let err = archive.verify_all().unwrap_err();
    insta::assert_snapshot!(message(&err), @"`foo-1.0-cp312-cp312-linux_x86_64.whl`: `foo/__init__.py` is listed in RECORD but missing from the archive");
}

#[test]
fn record_row_without_hash() {
    let mut files = good_wheel_files();
    let record = format!(
        "foo/__init__.py,,\n{}",
        String::from_utf8(files.last().unwrap().1.clone())
            .unwrap()
            .split_once('\n')
            .unwrap()
            .1
    );
    replace_file(&mut files, "foo-1.0.dist-info/RECORD", record.as_bytes());
    let mut archive = open_files(&files).unwrap();
    let err = archive.read_entry("foo/__init__.py").unwrap_err();
    insta::assert_snapshot!(message(&err), @"`foo-1.0-cp312-cp312-linux_x86_64.whl`: RECORD has no hash for `foo/__init__.py`");
}

#[test]
fn dist_info_discovery() {
    // Normalised name match: the file name says `Foo`, the directory says `foo`.
    let dir = tempfile::tempdir().unwrap();
    let bytes = zip_bytes(&good_wheel_files(), CompressionMethod::Deflated);
    let path = write_wheel(dir.path(), "Foo-1.0-cp312-cp312-linux_x86_64.whl", &bytes);
    let archive = WheelArchive::open(&path).unwrap();
    assert_eq!(archive.dist_info_dir(), DIST_INFO);

    // A PEP 440-equal version matches too.
    let path = write_wheel(dir.path(), "foo-1.0.0-cp312-cp312-linux_x86_64.whl", &bytes);
    assert_eq!(
        WheelArchive::open(&path).unwrap().dist_info_dir(),
        DIST_INFO
    );

    // Another name, another version.
    let path = write_wheel(dir.path(), "bar-1.0-cp312-cp312-linux_x86_64.whl", &bytes);
    let err = WheelArchive::open(&path).unwrap_err();
    insta::assert_snapshot!(err, @"`bar-1.0-cp312-cp312-linux_x86_64.whl`: the `.dist-info` directory `foo-1.0.dist-info` does not match the file name (expected `bar-1.0.dist-info`); rename the wheel or rebuild it");
    let path = write_wheel(dir.path(), "foo-2.0-cp312-cp312-linux_x86_64.whl", &bytes);
    let err = WheelArchive::open(&path).unwrap_err();
    assert!(
        matches!(err, ArchiveError::DistInfoMismatch { .. }),
        "{err}"
    );

    // Two `.dist-info` directories, whatever their names.
    for other in ["FOO-2.0.dist-info/METADATA", "other-1.0.dist-info/METADATA"] {
        let mut files = good_wheel_files();
        files.push((other.to_string(), Vec::new()));
        let bytes = zip_bytes(&files, CompressionMethod::Deflated);
        let path = write_wheel(dir.path(), WHEEL_NAME, &bytes);
        let err = WheelArchive::open(&path).unwrap_err();
        assert!(matches!(err, ArchiveError::SeveralDistInfo { .. }), "{err}");
        if other.starts_with("other") {
            insta::assert_snapshot!(err, @"`foo-1.0-cp312-cp312-linux_x86_64.whl`: more than one `.dist-info` directory (`foo-1.0.dist-info`, `other-1.0.dist-info`); a wheel has exactly one, so rebuild it from a clean build directory");
        }
    }
}

#[test]
fn wheel_version_major_must_be_1() {
    for (version, ok) in [("1.0", true), ("1.9", true), ("9.0", false), ("2.0", false)] {
        let mut files = good_files();
        let wheel = format!(
            "Wheel-Version: {version}\nRoot-Is-Purelib: false\nTag: cp312-cp312-linux_x86_64\n"
        );
        replace_file(&mut files, "foo-1.0.dist-info/WHEEL", wheel.as_bytes());
        let result = open_files(&with_record(files));
        assert_eq!(result.is_ok(), ok, "{version}");
        if let Ok(archive) = result {
            assert_eq!(
                archive.wheel_info().version_warning().is_some(),
                version != "1.0"
            );
        } else if let Err(err) = result {
            assert!(
                matches!(err, ArchiveError::UnsupportedWheelVersion { .. }),
                "{err}"
            );
            if version == "9.0" {
                insta::assert_snapshot!(err, @"`foo-1.0-cp312-cp312-linux_x86_64.whl`: `foo-1.0.dist-info/WHEEL` says `Wheel-Version: 9.0`, a format this tool does not understand (only major version 1 exists); installers refuse such a wheel, so rebuild it with a standard build backend");
            }
        }
    }
}

#[test]
fn bad_filename_and_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let err = WheelArchive::open(&dir.path().join("foo.zip")).unwrap_err();
    insta::assert_snapshot!(err, @"`foo.zip`: invalid wheel filename");
    insta::assert_snapshot!(source(&err), @"invalid wheel filename `foo.zip`: must end with `.whl`");
    let err = WheelArchive::open(&dir.path().join(WHEEL_NAME)).unwrap_err();
    insta::assert_snapshot!(message(&err), @"`foo-1.0-cp312-cp312-linux_x86_64.whl`: failed to open the wheel");
}

/// Exercises the multi-threaded path (more than `PARALLEL_THRESHOLD` bytes) and its error
/// selection.
#[test]
fn parallel_verify() {
    let mut files = good_files();
    let mut state = 0x1234_5678_9abc_def0_u64;
    for i in 0..12 {
        let mut content = if i % 3 == 0 {
            b"\x7fELF".to_vec()
        } else {
            Vec::new()
        };
        content.extend(pseudo_random(&mut state, 600_000 + i * 1000));
        files.push((format!("foo/lib{i}.so"), content));
    }
    let files = with_record(files);
    let bytes = zip_bytes(&files, CompressionMethod::Stored);
    let archive = open_bytes(&bytes).unwrap();
    let kept = archive
        .verify_and_read(|_, prefix| prefix.starts_with(b"\x7fELF"))
        .unwrap();
    let names: Vec<&str> = kept
        .iter()
        .map(|(index, _)| archive.entries()[*index].name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "foo/_core.so",
            "foo/lib0.so",
            "foo/lib3.so",
            "foo/lib6.so",
            "foo/lib9.so"
        ]
    );
    for (index, content) in &kept {
        let name = &archive.entries()[*index].name;
        let original = &files.iter().find(|(n, _)| n == name).unwrap().1;
        assert_eq!(content, original);
    }

    // Corrupt two entries: the lower-index one is reported, whichever thread saw it.
    let mut corrupt = bytes;
    for name in ["foo/lib4.so", "foo/lib10.so"] {
        let content = &files.iter().find(|(n, _)| n == name).unwrap().1;
        let at = corrupt
            .windows(64)
            .position(|window| window == &content[1000..1064])
            .unwrap();
        corrupt[at] ^= 1;
    }
    let archive = open_bytes(&corrupt).unwrap();
    for _ in 0..5 {
        match archive.verify_all().unwrap_err() {
            ArchiveError::HashMismatch { entry, .. } => {
                assert!(entry == "foo/lib4.so" || entry == "foo/lib10.so", "{entry}");
            }
            other => panic!("{other:?}"),
        }
    }
}

/// xorshift64 bytes.
fn pseudo_random(state: &mut u64, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

#[test]
fn shared_file_reads_and_seeks() {
    let dir = tempfile::tempdir().unwrap();
    let content: Vec<u8> = (0..(CHUNK_LEN * 3)).map(|i| (i % 253) as u8).collect();
    let path = write_wheel(dir.path(), "data.bin", &content);
    let file = std::fs::File::open(&path).unwrap();
    let mut reader = SharedFile::new(file, content.len() as u64);
    let mut all = Vec::new();
    reader.read_to_end(&mut all).unwrap();
    assert_eq!(all, content);
    reader.seek(SeekFrom::Start(10)).unwrap();
    let mut small = [0; 5];
    reader.read_exact(&mut small).unwrap();
    assert_eq!(small, content[10..15]);
    let mut clone = reader.clone();
    clone.seek(SeekFrom::Current(-5)).unwrap();
    clone.read_exact(&mut small).unwrap();
    assert_eq!(small, content[10..15]);
    let mut big = vec![0; CHUNK_LEN + 7];
    reader.read_exact(&mut big).unwrap();
    assert_eq!(big, content[15..15 + CHUNK_LEN + 7]);
    assert_eq!(
        reader.seek(SeekFrom::End(-1)).unwrap(),
        content.len() as u64 - 1
    );
    assert!(
        reader
            .seek(SeekFrom::Current(-(content.len() as i64)))
            .is_err()
    );
    reader.seek(SeekFrom::End(100)).unwrap();
    assert_eq!(reader.read(&mut small).unwrap(), 0);
}
