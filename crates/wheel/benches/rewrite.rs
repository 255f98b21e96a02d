//! Time and memory of a rewrite against the floor (copying the file and hashing it), for a
//! ~100 MB wheel of 30 random-content entries. Writes about 1.5 GB to the temporary directory.
//!
//! Run with `cargo bench -p wheelwright-wheel --bench rewrite`.

#![expect(clippy::print_stderr, reason = "benchmark output")]

#[allow(dead_code, reason = "each benchmark uses part of the shared helpers")]
mod common;

use std::io::{Read as _, Write};

use wheelwright_wheel::{HashAlgorithm, NewEntry, WheelArchive, rewrite};

use common::{WHEEL_NAME, best_ms, fill_binary_like, fill_random, peak_rss_mb};

/// The read buffer of the floor's hashing loop (the rewrite's own chunk size).
const CHUNK_LEN: usize = 256 * 1024;

/// A producer streaming `len` bytes from one reused 1 MiB buffer.
fn streaming(
    len: u64,
    seed: u64,
    binary_like: bool,
) -> impl FnOnce(&mut dyn Write) -> std::io::Result<()> + Send + 'static {
    move |out| {
        let mut state = seed;
        let mut buffer = vec![0; 1 << 20];
        let mut left = len;
        while left > 0 {
            let n = usize::try_from(left.min(1 << 20)).unwrap_or(1 << 20);
            if binary_like {
                fill_binary_like(&mut state, &mut buffer[..n]);
            } else {
                fill_random(&mut state, &mut buffer[..n]);
            }
            out.write_all(&buffer[..n])?;
            left -= n as u64;
        }
        Ok(())
    }
}

fn main() {
    // `cargo test --all-targets` runs bench targets too (without `--bench`): nothing to do then.
    if !std::env::args().any(|arg| arg == "--bench") {
        eprintln!(
            "rewrite: a benchmark; run it with `cargo bench -p wheelwright-wheel --bench rewrite`"
        );
        return;
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    // ~100 MB wheel: 30 random-content entries.
    let input = {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut files = Vec::new();
        for i in 0..30 {
            let mut content = vec![0; 3_400_000 + i * 4096];
            fill_random(&mut state, &mut content);
            files.push((
                format!("foo/_ext{i}.cpython-312-x86_64-linux-gnu.so"),
                content,
            ));
        }
        files.extend(common::dist_info_files());
        common::write_wheel(&dir.path().join(WHEEL_NAME), &files, 1)
    };
    let input_mb = fs_err::metadata(&input).expect("input size").len() as f64 / 1e6;
    let archive = WheelArchive::open(&input).expect("open the input");
    archive.verify_all().expect("verify the input");
    eprintln!(
        "input: {input_mb:.1} MB, {} entries",
        archive.entries().len()
    );

    let runs = 5;
    let out = tempfile::tempdir().expect("temporary directory");
    let baseline = peak_rss_mb();
    let (floor, _) = best_ms(runs, || {
        let copy = out.path().join("copy.whl");
        fs_err::copy(&input, &copy).expect("copy");
        let mut hasher = HashAlgorithm::Sha256.hasher();
        let mut file = fs_err::File::open(&copy).expect("open the copy");
        let mut buffer = vec![0; CHUNK_LEN];
        loop {
            let n = file.read(&mut buffer).expect("read the copy");
            if n == 0 {
                break;
            }
            hasher.update(&buffer[..n]);
        }
        std::hint::black_box(hasher.finish());
        fs_err::remove_file(&copy).expect("remove the copy");
    });
    let floor_rss = peak_rss_mb();
    eprintln!(
        "floor (std::fs::copy + sha256 of the copy): {floor:.1} ms, peak RSS {floor_rss:.1} MB (baseline before: {baseline:.1} MB)"
    );

    let plan = |replace: Option<(u64, bool)>| {
        let replace = replace.map(|(len, binary_like)| {
            NewEntry::new(
                "foo/_ext7.cpython-312-x86_64-linux-gnu.so",
                0,
                streaming(len, 42, binary_like),
            )
        });
        common::retag_plan(&archive, replace.into_iter().collect(), Vec::new())
    };
    // (label, replacement: (length, binary-like), runs)
    type Case = (&'static str, Option<(u64, bool)>, usize);
    let cases: [Case; 3] = [
        (
            "only WHEEL and RECORD rewritten (all raw copies)",
            None,
            runs,
        ),
        (
            "one entry replaced by a 5 MB random stream, level 6",
            Some((5_000_000, false)),
            runs,
        ),
        (
            "one entry replaced by a 500 MB binary-like stream, level 6",
            Some((500_000_000, true)),
            1,
        ),
    ];
    for (label, replace, repeat) in cases {
        let before = peak_rss_mb();
        let mut outcome = None;
        let (ms, _) = best_ms(repeat, || {
            outcome = Some(rewrite(&archive, plan(replace), out.path()).expect("rewrite"));
        });
        let peak = peak_rss_mb();
        let outcome = outcome.expect("at least one run");
        eprintln!(
            "{label}: {ms:.1} ms ({:.2}x floor), peak RSS {peak:.1} MB (RSS before {before:.1} MB), output {:.1} MB, {} raw / {} compressed",
            ms / floor,
            outcome.size as f64 / 1e6,
            outcome.entries_copied_raw,
            outcome.entries_compressed
        );
        WheelArchive::open(&outcome.path)
            .expect("open the output")
            .verify_all()
            .expect("verify the output");
        fs_err::remove_file(&outcome.path).expect("remove the output");
    }
}
