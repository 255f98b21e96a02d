//! The ZIP structure PyPI accepts for wheels.
//!
//! Fact source: pypi/warehouse `warehouse/utils/zipfiles.py` (`validate_zipfile`) and
//! `warehouse/forklift/legacy.py` (`_is_valid_dist_file`). Warehouse walks the file record by
//! record from offset 0 so that a reader that streams local headers and one that reads the
//! central directory see the same files: every local header must be followed directly by its
//! data and the next record, local and central names and sizes must agree, no data
//! descriptors, no comments on central-directory entries, no duplicate names, nothing after
//! the end record. It also refuses compression methods other than stored and deflate and
//! archives that inflate to more than 64 MiB at a ratio above 50.
//!
//! Most of these mean readers may disagree about what the archive holds (mismatched or
//! duplicate names, trailing data, unknown records): an error for every index. Data
//! descriptors, entry comments, ZIP64 extensible data, other compression methods and the
//! ratio limit are Warehouse's policy for well-formed archives that other indexes and pip
//! read: PyPI's rules ([`Finding::pypi`]).

use std::collections::{HashMap, HashSet};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use super::Finding;

/// What [`walk`] reports for a well-formed archive that only Warehouse refuses.
const PYPI_POLICY: &[&str] = &[
    "ZIP contains a data descriptor",
    "Comment in central directory",
    "ZIP64 extensible data not allowed",
];

const LOCAL: [u8; 4] = *b"PK\x03\x04";
const CENTRAL: [u8; 4] = *b"PK\x01\x02";
const END: [u8; 4] = *b"PK\x05\x06";
const END64: [u8; 4] = *b"PK\x06\x06";
const END64_LOCATOR: [u8; 4] = *b"PK\x06\x07";

/// Above this inflated size, the compression ratio is checked.
const RATIO_MIN_SIZE: u64 = 64 * 1024 * 1024;
/// The largest inflated/compressed ratio accepted for large archives.
const RATIO_THRESHOLD: u64 = 50;

fn u16_at(b: &[u8], at: usize) -> u64 {
    u64::from(u16::from_le_bytes([b[at], b[at + 1]]))
}

fn u32_at(b: &[u8], at: usize) -> u64 {
    u64::from(u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut bytes = [0; 8];
    bytes.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(bytes)
}

fn unprintable(name: &[u8]) -> bool {
    name.iter().any(|&b| b < 0x20 || b == 0x7f)
}

/// Entry facts from the central directory, as the `zip` crate reads them.
pub(super) struct Directory {
    /// name → (compressed size, uncompressed size)
    sizes: HashMap<Vec<u8>, (u64, u64)>,
    methods_ok: bool,
    total_size: u64,
}

impl Directory {
    /// Reads the central directory with the `zip` crate (the first, tolerant reader).
    pub(super) fn read(path: &Path) -> Result<Self, String> {
        let file = fs_err::File::open(path).map_err(|e| e.to_string())?;
        let mut archive = zip::ZipArchive::new(io::BufReader::new(file))
            .map_err(|e| format!("not a valid zip archive: {e}"))?;
        let mut sizes = HashMap::new();
        let mut methods_ok = true;
        let mut total_size = 0u64;
        for index in 0..archive.len() {
            let entry = archive
                .by_index_raw(index)
                .map_err(|e| format!("not a valid zip archive: {e}"))?;
            methods_ok &= matches!(
                entry.compression(),
                zip::CompressionMethod::Stored | zip::CompressionMethod::Deflated
            );
            total_size = total_size.saturating_add(entry.size());
            sizes.insert(
                entry.name_raw().to_vec(),
                (entry.compressed_size(), entry.size()),
            );
        }
        Ok(Self {
            sizes,
            methods_ok,
            total_size,
        })
    }
}

/// Everything Warehouse refuses in a wheel's ZIP structure: the first problem found.
pub(super) fn check(path: &Path, directory: &Directory) -> Option<Finding> {
    let file_len = fs_err::metadata(path).map(|m| m.len()).unwrap_or(0);
    if file_len > 0
        && directory.total_size > RATIO_MIN_SIZE
        && directory.total_size / file_len > RATIO_THRESHOLD
    {
        return Some(Finding::pypi(
            "zip",
            format!(
                "the archive inflates to {} bytes, more than {RATIO_THRESHOLD} times its size \
                 (PyPI refuses it as a decompression bomb)",
                directory.total_size
            ),
        ));
    }
    if !directory.methods_ok {
        return Some(Finding::pypi(
            "zip",
            "an entry uses a compression method other than stored or deflate (PyPI refuses it)",
        ));
    }
    match walk(path, directory) {
        Ok(()) => None,
        Err(reason) => {
            let message = format!("PyPI does not accept this ZIP structure: {reason}");
            Some(if PYPI_POLICY.contains(&reason.as_str()) {
                Finding::pypi("zip", message)
            } else {
                Finding::error("zip", message)
            })
        }
    }
}

fn walk(path: &Path, directory: &Directory) -> Result<(), String> {
    let file = fs_err::File::open(path).map_err(|e| e.to_string())?;
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    let mut reader = io::BufReader::new(file);
    let malformed = || "Malformed zip file".to_owned();
    let mut read =
        |reader: &mut io::BufReader<fs_err::File>, n: usize| -> Result<Vec<u8>, String> {
            let mut buffer = vec![0; n];
            reader.read_exact(&mut buffer).map_err(|_| malformed())?;
            Ok(buffer)
        };
    let skip = |reader: &mut io::BufReader<fs_err::File>, n: u64| -> Result<(), String> {
        let n = i64::try_from(n).map_err(|_| malformed())?;
        reader.seek_relative(n).map_err(|_| malformed())
    };
    let mut local_names: HashSet<Vec<u8>> = HashSet::new();
    let mut central_names: HashSet<Vec<u8>> = HashSet::new();
    let mut expected_end64: Option<u64> = None;
    let mut locator_seen = false;
    let mut cd_records = 0u64;
    let mut cd_offset: Option<u64> = None;
    let mut cd_size = 0u64;
    let mut end_values: Option<(u64, u64, u64)> = None;
    loop {
        let position = reader.stream_position().map_err(|e| e.to_string())?;
        let signature: [u8; 4] = read(&mut reader, 4)?.try_into().map_err(|_| malformed())?;
        if signature == END && expected_end64.is_some() && !locator_seen {
            return Err(malformed());
        }
        match signature {
            CENTRAL => {
                cd_offset.get_or_insert(position);
                cd_records += 1;
                let header = read(&mut reader, 42)?;
                let (name_len, extra_len, comment_len) = (
                    u16_at(&header, 24),
                    u16_at(&header, 26),
                    u16_at(&header, 28),
                );
                if comment_len != 0 {
                    return Err("Comment in central directory".to_owned());
                }
                let name = read(
                    &mut reader,
                    usize::try_from(name_len).map_err(|_| malformed())?,
                )?;
                skip(&mut reader, extra_len)?;
                if unprintable(&name) {
                    return Err("Invalid character in filename".to_owned());
                }
                cd_size += 46 + name_len + extra_len;
                if !central_names.insert(name.clone()) {
                    return Err("Duplicate filename in central directory".to_owned());
                }
                if !local_names.contains(&name) {
                    return Err("Missing filename in local headers".to_owned());
                }
            }
            LOCAL => {
                let name = local_header(&mut reader, directory, &mut read)?;
                if !local_names.insert(name) {
                    return Err("Duplicate filename in local headers".to_owned());
                }
            }
            END => {
                cd_offset.get_or_insert(position);
                let record = read(&mut reader, 18)?;
                let (on_disk, records) = (u16_at(&record, 4), u16_at(&record, 6));
                let (size, offset, comment) =
                    (u32_at(&record, 8), u32_at(&record, 12), u16_at(&record, 16));
                if on_disk != records {
                    return Err(malformed());
                }
                if !(locator_seen && end_values.is_some()) {
                    end_values = Some((records, size, offset));
                }
                let (records, size, offset) = end_values.unwrap_or_default();
                if records != cd_records {
                    return Err("Mismatched central directory records".to_owned());
                }
                if Some(offset) != cd_offset {
                    return Err("Mismatched central directory offset".to_owned());
                }
                if size != cd_size {
                    return Err("Mismatched central directory size".to_owned());
                }
                skip(&mut reader, comment)?;
                break;
            }
            END64 => {
                expected_end64 = Some(position);
                let record = read(&mut reader, 52)?;
                let size_of_record = u64_at(&record, 0);
                let (on_disk, records) = (u64_at(&record, 20), u64_at(&record, 28));
                if on_disk != records {
                    return Err(malformed());
                }
                if size_of_record != 44 {
                    return Err("ZIP64 extensible data not allowed".to_owned());
                }
                end_values = Some((records, u64_at(&record, 36), u64_at(&record, 44)));
            }
            END64_LOCATOR => {
                read(&mut reader, 16)?;
                locator_seen = true;
            }
            _ => return Err("Unknown record signature".to_owned()),
        }
    }
    if central_names != local_names {
        return Err("Mis-matched local headers and central directory".to_owned());
    }
    let end = reader.stream_position().map_err(|e| e.to_string())?;
    if end != len {
        return Err("Trailing data".to_owned());
    }
    Ok(())
}

/// Reads a local file header (after its signature) and skips its data; returns its name.
fn local_header(
    reader: &mut io::BufReader<fs_err::File>,
    directory: &Directory,
    read: &mut impl FnMut(&mut io::BufReader<fs_err::File>, usize) -> Result<Vec<u8>, String>,
) -> Result<Vec<u8>, String> {
    let malformed = || "Malformed zip file".to_owned();
    let header = read(reader, 26)?;
    let flags = u16_at(&header, 2);
    let method = u16_at(&header, 4);
    let mut compressed = u32_at(&header, 14);
    let mut size = u32_at(&header, 18);
    let name_len = usize::try_from(u16_at(&header, 22)).map_err(|_| malformed())?;
    let extra_len = usize::try_from(u16_at(&header, 24)).map_err(|_| malformed())?;
    let name = read(reader, name_len)?;
    let mut extra = read(reader, extra_len)?.into_iter().collect::<Vec<u8>>();
    if unprintable(&name) {
        return Err("Invalid character in filename".to_owned());
    }
    let mut seen = HashSet::new();
    while !extra.is_empty() {
        if extra.len() < 4 {
            return Err(malformed());
        }
        let id = u16_at(&extra, 0);
        let data_len = usize::try_from(u16_at(&extra, 2)).map_err(|_| malformed())?;
        if data_len + 4 > extra.len() {
            return Err(malformed());
        }
        if !seen.insert(id) && matches!(id, 0x0001 | 0x7075) {
            return Err("Invalid duplicate extra in local file".to_owned());
        }
        let data = &extra[4..4 + data_len];
        if id == 0x0001 {
            match data_len {
                0 => {
                    if compressed == 0xFFFF_FFFF || size == 0xFFFF_FFFF {
                        return Err(malformed());
                    }
                }
                8 => {
                    if method != 0 {
                        return Err(malformed());
                    }
                    let uncompressed = u64_at(data, 0);
                    compressed = uncompressed;
                    if size == 0xFFFF_FFFF {
                        size = uncompressed;
                    }
                }
                16 | 24 | 28 => {
                    if size == 0xFFFF_FFFF {
                        size = u64_at(data, 0);
                    }
                    compressed = u64_at(data, 8);
                }
                _ => return Err(malformed()),
            }
        } else if id == 0x7075 {
            let unicode = data.get(5..).unwrap_or_default();
            if unprintable(unicode) {
                return Err("Invalid character in filename".to_owned());
            }
            if std::str::from_utf8(unicode).is_err() {
                return Err("Filename not valid UTF-8".to_owned());
            }
        }
        extra.drain(..4 + data_len);
    }
    if flags & 0x08 != 0 {
        return Err("ZIP contains a data descriptor".to_owned());
    }
    if std::str::from_utf8(&name).is_err() {
        return Err("Filename not unicode".to_owned());
    }
    let Some(&(expected_compressed, expected_size)) = directory.sizes.get(&name) else {
        return Err("Filename not in central directory".to_owned());
    };
    if expected_compressed != compressed {
        return Err("Mis-matched data size".to_owned());
    }
    if expected_size != size {
        return Err("Mis-matched file size".to_owned());
    }
    let skip = i64::try_from(compressed).map_err(|_| malformed())?;
    reader
        .seek(SeekFrom::Current(skip))
        .map_err(|_| malformed())?;
    Ok(name)
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn write_zip(
        dir: &Path,
        name: &str,
        build: impl FnOnce(&mut zip::ZipWriter<std::fs::File>),
    ) -> std::path::PathBuf {
        let path = dir.join(name);
        let file = std::fs::File::create(&path).unwrap();
        let mut writer = zip::ZipWriter::new(file);
        build(&mut writer);
        writer.finish().unwrap();
        path
    }

    fn verdict(path: &Path) -> Option<String> {
        check(path, &Directory::read(path).unwrap()).map(|f| f.message().to_owned())
    }

    #[test]
    fn plain_zip_passes_and_defects_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        let good = write_zip(dir.path(), "good.zip", |w| {
            w.start_file("a/b.txt", options).unwrap();
            w.write_all(b"hello").unwrap();
        });
        assert_eq!(verdict(&good), None);

        let mut bytes = std::fs::read(&good).unwrap();
        bytes.extend_from_slice(b"junk");
        let trailing = dir.path().join("trailing.zip");
        std::fs::write(&trailing, &bytes).unwrap();
        insta::assert_snapshot!(verdict(&trailing).unwrap(), @"PyPI does not accept this ZIP structure: Trailing data");
        let finding = check(&trailing, &Directory::read(&trailing).unwrap()).unwrap();
        assert_eq!(finding.kind, super::super::Kind::Error);

        let mut prefixed = b"#!/bin/sh\n".to_vec();
        prefixed.extend_from_slice(&std::fs::read(&good).unwrap());
        let prefixed_path = dir.path().join("prefixed.zip");
        std::fs::write(&prefixed_path, &prefixed).unwrap();
        assert_eq!(
            verdict(&prefixed_path).unwrap(),
            "PyPI does not accept this ZIP structure: Unknown record signature"
        );
    }

    #[test]
    fn entry_comment_and_compression_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let good = write_zip(dir.path(), "c.zip", |w| {
            w.start_file("x", zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(b"x").unwrap();
        });
        // Give the central-directory entry a one-byte comment and fix up the end record.
        let mut bytes = std::fs::read(&good).unwrap();
        let cd = bytes.windows(4).position(|w| w == CENTRAL).unwrap();
        let end = bytes.windows(4).rposition(|w| w == END).unwrap();
        let name_len = usize::from(u16::from_le_bytes([bytes[cd + 28], bytes[cd + 29]]));
        let extra_len = usize::from(u16::from_le_bytes([bytes[cd + 30], bytes[cd + 31]]));
        bytes[cd + 32] = 1;
        bytes.insert(cd + 46 + name_len + extra_len, b'!');
        let end = end + 1;
        let cd_size = u32::from_le_bytes(bytes[end + 12..end + 16].try_into().unwrap()) + 1;
        bytes[end + 12..end + 16].copy_from_slice(&cd_size.to_le_bytes());
        let commented = dir.path().join("commented.zip");
        std::fs::write(&commented, &bytes).unwrap();
        assert_eq!(
            verdict(&commented).unwrap(),
            "PyPI does not accept this ZIP structure: Comment in central directory"
        );
        // Well-formed, read by pip and other indexes: one of PyPI's rules, not a broken file.
        let finding = check(&commented, &Directory::read(&commented).unwrap()).unwrap();
        assert_eq!(finding.kind, super::super::Kind::Pypi);
    }
}
