//! Throughput of opening, verifying and reading a large binary wheel, against the ceilings
//! (sha256 alone, inflate alone, allocating the kept bytes). Builds about 200 MB of wheels;
//! set `WHEELWRIGHT_BENCH_DIR` to keep them.
//!
//! Run with `cargo bench -p wheelwright-wheel --bench verify_and_read`.

#![expect(clippy::print_stderr, reason = "benchmark output")]

#[allow(dead_code, reason = "each benchmark uses part of the shared helpers")]
mod common;

use std::io::Read as _;
use std::path::{Path, PathBuf};

use wheelwright_wheel::{EntryInfo, RecordHash, WheelArchive};
use zip::{ZipArchive, ZipReadOptions};

use common::{WHEEL_NAME, best_ms, pseudo_random};

/// The read buffer of the inflate ceiling (the archive reader's own chunk size).
const CHUNK_LEN: usize = 256 * 1024;

/// Content that deflates roughly like shared objects (about 2.5x): runs of low-entropy
/// literals mixed with copies of earlier data.
fn binary_like(state: &mut u64, len: usize) -> Vec<u8> {
    let mut out = b"\x7fELF\x02\x01\x01\0".to_vec();
    let next = |state: &mut u64| {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    };
    while out.len() < len {
        let r = next(state);
        let run = 8 + (r % 120) as usize;
        if r & (1 << 40) != 0 && out.len() > 4096 {
            let distance = 1 + ((r >> 8) % 4000) as usize;
            let start = out.len() - distance;
            for i in 0..run {
                out.push(out[start + i]);
            }
        } else {
            for _ in 0..run {
                let r = next(state);
                // Skewed byte distribution: mostly small values, like opcodes and offsets.
                out.push(if r & 3 == 0 {
                    (r >> 8) as u8
                } else {
                    ((r >> 8) & 0x1f) as u8
                });
            }
        }
    }
    out.truncate(len);
    out
}

/// Builds a wheel shaped like a large binary wheel: 30 extension modules, 2000 small Python
/// files, one data file.
fn bench_wheel(dir: &Path, compressible: bool) -> PathBuf {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut core = b"\x7fELF\x02\x01\x01".to_vec();
    core.extend((0..20_000u32).map(|i| (i % 251) as u8));
    let mut files = vec![
        ("foo/".to_string(), Vec::new()),
        (
            "foo/__init__.py".to_string(),
            b"from ._core import *\n".to_vec(),
        ),
        ("foo/_core.so".to_string(), core),
        ("foo/data, with comma.txt".to_string(), b"a,b\n".to_vec()),
    ];
    files.extend(common::dist_info_files());
    for i in 0..30 {
        let len = if compressible { 8_000_000 } else { 3_100_000 } + i * 4096;
        let content = if compressible {
            binary_like(&mut state, len)
        } else {
            let mut content = b"\x7fELF\x02\x01\x01\0".to_vec();
            content.extend(pseudo_random(&mut state, len));
            content
        };
        files.push((
            format!("foo/_ext{i}.cpython-312-x86_64-linux-gnu.so"),
            content,
        ));
    }
    for i in 0..2000 {
        let line = format!("def function_{i}(x):\n    return x * {i} + 1\n\n");
        files.push((
            format!("foo/pkg{}/mod{i}.py", i % 40),
            line.repeat(20).into_bytes(),
        ));
    }
    let data = if compressible {
        binary_like(&mut state, 4_000_000)
    } else {
        pseudo_random(&mut state, 4_000_000)
    };
    files.push(("foo/data.bin".to_string(), data));
    common::write_wheel(&dir.join(WHEEL_NAME), &files, 6)
}

/// The zip directory of `path`, read with the `zip` crate alone (for the ceilings).
fn plain_zip(path: &Path) -> ZipArchive<fs_err::File> {
    ZipArchive::new(fs_err::File::open(path).expect("open the wheel")).expect("read the wheel")
}

fn main() {
    // `cargo test --all-targets` runs bench targets too (without `--bench`): nothing to do then.
    if !std::env::args().any(|arg| arg == "--bench") {
        eprintln!(
            "verify_and_read: a benchmark; run it with `cargo bench -p wheelwright-wheel --bench verify_and_read`"
        );
        return;
    }
    let temp = tempfile::tempdir().expect("temporary directory");
    let dir = std::env::var_os("WHEELWRIGHT_BENCH_DIR")
        .map_or_else(|| temp.path().to_path_buf(), PathBuf::from);
    let is_elf = |_: &EntryInfo, prefix: &[u8]| prefix.starts_with(b"\x7fELF");
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    for (label, compressible) in [("random", false), ("binary-like", true)] {
        let sub = dir.join(label);
        fs_err::create_dir_all(&sub).expect("create the wheel directory");
        let path = bench_wheel(&sub, compressible);
        let archive = WheelArchive::open(&path).expect("open the wheel");
        let compressed = fs_err::metadata(&path).expect("wheel size").len() as f64 / 1e6;
        let uncompressed = archive.entries().iter().map(|e| e.size).sum::<u64>() as f64 / 1e6;
        eprintln!(
            "{label}: {compressed:.1} MB wheel, {uncompressed:.1} MB uncompressed, {} entries, {cores} cores",
            archive.entries().len()
        );

        let (open, _) = best_ms(5, || {
            WheelArchive::open(&path).expect("open the wheel");
        });
        eprintln!("  open (central directory, RECORD/WHEEL/METADATA): {open:.1} ms");
        let mut buffer = Vec::new();
        let mut zip = plain_zip(&path);
        for index in 0..zip.len() {
            zip.by_index(index)
                .expect("an entry")
                .read_to_end(&mut buffer)
                .expect("read an entry");
        }
        let (sha, _) = best_ms(3, || {
            std::hint::black_box(RecordHash::sha256_of(&buffer));
        });
        eprintln!(
            "  ceiling: sha256 alone over the uncompressed bytes: {sha:.1} ms ({:.0} MB/s)",
            uncompressed / sha * 1000.0
        );
        let (inflate, _) = best_ms(3, || {
            let mut sink = vec![0; CHUNK_LEN];
            for index in 0..zip.len() {
                let mut file = zip
                    .by_index_with_options(index, ZipReadOptions::new().ignore_crc32(true))
                    .expect("an entry");
                while file.read(&mut sink).expect("inflate") > 0 {}
            }
        });
        eprintln!(
            "  ceiling: inflate alone, 1 thread: {inflate:.1} ms ({:.0} MB/s)",
            uncompressed / inflate * 1000.0
        );
        for threads in [1, 2, 4] {
            let (ms, cpu) = best_ms(5, || {
                wheelwright_wheel::bench::verify_and_read_on(&archive, threads, &|_, _| false)
                    .expect("verify");
            });
            eprintln!(
                "  verify_all, {threads} thread(s): {ms:.1} ms ({:.0} MB/s uncompressed), CPU {cpu:.0} ms",
                uncompressed / ms * 1000.0
            );
        }
        for threads in [1, 2] {
            let mut kept = 0;
            let (ms, cpu) = best_ms(5, || {
                kept = wheelwright_wheel::bench::verify_and_read_on(&archive, threads, &is_elf)
                    .expect("verify and read")
                    .len();
            });
            eprintln!(
                "  verify_and_read(ELF), {threads} thread(s): {ms:.1} ms, CPU {cpu:.0} ms, kept {kept} entries"
            );
        }
        let kept_bytes: u64 = archive
            .entries()
            .iter()
            .filter(|e| e.name.ends_with(".so"))
            .map(|e| e.size)
            .sum();
        let (alloc, _) = best_ms(3, || {
            let buffers: Vec<Vec<u8>> = archive
                .entries()
                .iter()
                .filter(|e| e.name.ends_with(".so"))
                .map(|e| vec![1u8; usize::try_from(e.size).expect("fits in memory")])
                .collect();
            std::hint::black_box(buffers);
        });
        eprintln!(
            "  ceiling: allocating and touching the {:.0} MB kept, 1 thread: {alloc:.1} ms",
            kept_bytes as f64 / 1e6
        );
        let (ms, _) = best_ms(5, || {
            WheelArchive::open(&path)
                .expect("open the wheel")
                .verify_and_read(is_elf)
                .expect("verify and read");
        });
        eprintln!("  open + verify_and_read(ELF): {ms:.1} ms");
    }
}
