//! The deflate cost of one replaced 100 MB entry, incompressible (random) and compressible
//! (real shared objects): rewrite time against the floor (sha256 and a copy of the same bytes)
//! and plain level-6 deflate of the same bytes, and the entry's compressed size. Writes about
//! 1 GB to the temporary directory.
//!
//! Run with `cargo bench -p wheelwright-wheel --bench deflate`.

#![expect(clippy::print_stderr, reason = "benchmark output")]

#[allow(dead_code, reason = "each benchmark uses part of the shared helpers")]
mod common;

use std::io::{BufWriter, Cursor, Write as _};
use std::path::PathBuf;
use std::sync::Arc;

use wheelwright_wheel::{
    DEFAULT_COMPRESSION_LEVEL, HashAlgorithm, NewEntry, RewritePlan, WheelArchive, rewrite,
};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive};

use common::{WHEEL_NAME, best_ms, fill_binary_like, fill_random};

const LEN: usize = 100_000_000;
const SHARED_OBJECTS: &str = "/usr/lib/x86_64-linux-gnu";

/// ELF-like bytes: the ELF magic and a cheap pattern.
fn elf_like(seed: u32, len: usize) -> Vec<u8> {
    let mut out = b"\x7fELF\x02\x01\x01".to_vec();
    out.extend((0..len as u32).map(|i| ((i.wrapping_mul(seed) >> 5) % 251) as u8));
    out
}

/// `len` bytes of real shared objects: the regular `*.so*` files directly in
/// [`SHARED_OBJECTS`], by name, concatenated (and repeated if they are fewer). Falls back to
/// [`fill_binary_like`] where that directory is missing.
fn shared_objects(len: usize) -> Vec<u8> {
    let mut paths: Vec<PathBuf> = fs_err::read_dir(SHARED_OBJECTS)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|entry| entry.file_name().to_string_lossy().contains(".so"))
                .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_file()))
                .map(|entry| entry.path())
                .collect()
        })
        .unwrap_or_default();
    paths.sort();
    let mut out = Vec::with_capacity(len);
    while out.len() < len && !paths.is_empty() {
        for path in &paths {
            let Ok(bytes) = fs_err::read(path) else {
                continue;
            };
            let n = bytes.len().min(len - out.len());
            out.extend_from_slice(&bytes[..n]);
            if out.len() == len {
                break;
            }
        }
    }
    if out.len() < len {
        out.resize(len, 0);
        fill_binary_like(&mut 7, &mut out);
    }
    out
}

/// A typical repair plan: new platform tag, `_core.so` replaced by `content` (streamed in
/// 1 MiB writes), one library grafted.
fn repair_plan(archive: &WheelArchive, content: Arc<Vec<u8>>) -> RewritePlan {
    let core = NewEntry::new("foo/_core.so", 0, move |out| {
        for piece in content.chunks(1 << 20) {
            out.write_all(piece)?;
        }
        Ok(())
    });
    let lib = NewEntry::from_bytes("foo.libs/libbar-12345678.so.1", 0o755, elf_like(29, 50_000));
    common::retag_plan(archive, vec![core], vec![lib])
}

fn main() {
    // `cargo test --all-targets` runs bench targets too (without `--bench`): nothing to do then.
    if !std::env::args().any(|arg| arg == "--bench") {
        eprintln!(
            "deflate: a benchmark; run it with `cargo bench -p wheelwright-wheel --bench deflate`"
        );
        return;
    }
    let runs = 3;
    let input_dir = tempfile::tempdir().expect("temporary directory");
    let mut files = vec![
        ("foo/".to_string(), Vec::new()),
        (
            "foo/__init__.py".to_string(),
            b"from ._core import *\n".to_vec(),
        ),
        ("foo/_core.so".to_string(), elf_like(7, 20_000)),
        ("foo/data, with comma.txt".to_string(), b"a,b\n".to_vec()),
    ];
    files.extend(common::dist_info_files());
    let input = common::write_wheel(&input_dir.path().join(WHEEL_NAME), &files, 6);
    let archive = WheelArchive::open(&input).expect("open the input");
    let out = tempfile::tempdir().expect("temporary directory");
    let mut random = vec![0; LEN];
    fill_random(&mut 0x2545_f491_4f6c_dd1d, &mut random);
    let cases = [
        ("random", Arc::new(random)),
        ("shared objects", Arc::new(shared_objects(LEN))),
    ];
    for (label, content) in cases {
        let (floor, _) = best_ms(runs, || {
            let path = out.path().join("floor");
            let mut file = BufWriter::new(fs_err::File::create(&path).expect("create"));
            let mut hasher = HashAlgorithm::Sha256.hasher();
            for piece in content.chunks(1 << 20) {
                hasher.update(piece);
                file.write_all(piece).expect("write");
            }
            file.into_inner().expect("flush").sync_all().expect("sync");
            std::hint::black_box(hasher.finish());
            fs_err::remove_file(&path).expect("remove");
        });
        let mut plain_size = 0;
        let (plain, _) = best_ms(runs, || {
            let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
            let options = SimpleFileOptions::default()
                .compression_method(CompressionMethod::Deflated)
                .compression_level(Some(DEFAULT_COMPRESSION_LEVEL))
                .large_file(true);
            writer.start_file("entry", options).expect("start");
            for piece in content.chunks(1 << 20) {
                writer.write_all(piece).expect("write");
            }
            let mut zip = ZipArchive::new(writer.finish().expect("finish")).expect("reopen");
            plain_size = zip.by_index_raw(0).expect("the entry").compressed_size();
        });
        let mut entry_size = 0;
        let (ms, _) = best_ms(runs, || {
            let plan = repair_plan(&archive, Arc::clone(&content));
            let outcome = rewrite(&archive, plan, out.path()).expect("rewrite");
            let mut zip = ZipArchive::new(fs_err::File::open(&outcome.path).expect("open"))
                .expect("read the output");
            entry_size = zip
                .by_name_raw(b"foo/_core.so")
                .expect("the replaced entry")
                .compressed_size();
            drop(zip);
            fs_err::remove_file(&outcome.path).expect("remove the output");
        });
        let mb = LEN as f64 / 1e6;
        eprintln!(
            "{label}, {mb:.0} MB: rewrite {ms:.0} ms ({:.2}x floor {floor:.0} ms), entry {:.2} MB \
             ({:.4} of plain level 6: {:.2} MB in {plain:.0} ms)",
            ms / floor,
            entry_size as f64 / 1e6,
            entry_size as f64 / plain_size as f64,
            plain_size as f64 / 1e6,
        );
    }
}
