//! What the wheel benchmarks share: deterministic content, a wheel writer, timers and memory
//! figures. Each benchmark uses part of it.

use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};

use wheelwright_wheel::{NewEntry, Record, RecordEntry, RecordHash, RewritePlan, WheelArchive};
use zip::CompressionMethod;
use zip::write::SimpleFileOptions;

/// The distribution every benchmark wheel belongs to.
pub(crate) const DIST_INFO: &str = "foo-1.0.dist-info";
/// The file name of every benchmark wheel.
pub(crate) const WHEEL_NAME: &str = "foo-1.0-cp312-cp312-linux_x86_64.whl";

/// The platform tag every benchmark rewrite gives its wheel.
const NEW_TAG: &str = "manylinux_2_17_x86_64";

/// A plan retagging `archive` to [`NEW_TAG`] (file name and `WHEEL`), with `replace` and `add`.
pub(crate) fn retag_plan(
    archive: &WheelArchive,
    replace: Vec<NewEntry>,
    add: Vec<NewEntry>,
) -> RewritePlan {
    let mut wheel_info = archive.wheel_info().clone();
    wheel_info.tags = vec![format!("cp312-cp312-{NEW_TAG}")];
    RewritePlan {
        filename: archive
            .filename()
            .with_platform_tags(vec![NEW_TAG.parse().expect("a valid tag")]),
        wheel_info,
        replace,
        add,
        remove: Vec::new(),
        compression_level: None,
        source_date_epoch: None,
    }
}

/// `METADATA` and `WHEEL` of the benchmark distribution, as `(name, contents)`.
pub(crate) fn dist_info_files() -> Vec<(String, Vec<u8>)> {
    vec![
        (
            format!("{DIST_INFO}/METADATA"),
            b"Metadata-Version: 2.1\nName: foo\nVersion: 1.0\n".to_vec(),
        ),
        (
            format!("{DIST_INFO}/WHEEL"),
            b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: false\nTag: cp312-cp312-linux_x86_64\n"
                .to_vec(),
        ),
    ]
}

/// Writes `files` (directories end with `/`) plus a matching `RECORD`, listed last, as the
/// deflated wheel `path` at `level`.
pub(crate) fn write_wheel(path: &Path, files: &[(String, Vec<u8>)], level: i64) -> PathBuf {
    let record_path = format!("{DIST_INFO}/RECORD");
    let hashed = files
        .iter()
        .filter(|(name, _)| !name.ends_with('/'))
        .map(|(name, content)| {
            (
                name.clone(),
                Some(RecordHash::sha256_of(content)),
                Some(content.len() as u64),
            )
        });
    let record = Record {
        entries: hashed
            .chain([(record_path.clone(), None, None)])
            .map(|(path, hash, size)| RecordEntry { path, hash, size })
            .collect(),
    };
    let file = fs_err::File::create(path).expect("create the benchmark wheel");
    let mut writer = zip::ZipWriter::new(BufWriter::new(file));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(level));
    let record_bytes = record.to_csv_bytes();
    let all = files
        .iter()
        .map(|(name, content)| (name.as_str(), content.as_slice()))
        .chain([(record_path.as_str(), record_bytes.as_slice())]);
    for (name, content) in all {
        if name.ends_with('/') {
            writer
                .add_directory(name, options)
                .expect("add a directory");
        } else {
            writer.start_file(name, options).expect("start an entry");
            writer.write_all(content).expect("write an entry");
        }
    }
    writer.finish().expect("finish the benchmark wheel");
    path.to_path_buf()
}

/// xorshift64 bytes into `out`.
pub(crate) fn fill_random(state: &mut u64, out: &mut [u8]) {
    for chunk in out.chunks_mut(8) {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
    }
}

/// `len` xorshift64 bytes.
pub(crate) fn pseudo_random(state: &mut u64, len: usize) -> Vec<u8> {
    let mut out = vec![0; len];
    fill_random(state, &mut out);
    out
}

/// Content that deflates roughly like shared objects: low-entropy runs and repeats.
pub(crate) fn fill_binary_like(state: &mut u64, out: &mut [u8]) {
    fill_random(state, out);
    for (i, byte) in out.iter_mut().enumerate() {
        if i % 3 != 0 {
            *byte &= 0x1f;
        }
    }
}

/// Peak resident set size since the last reset, in MB, and resets it (Linux; 0 elsewhere).
pub(crate) fn peak_rss_mb() -> f64 {
    let status = fs_err::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .unwrap_or(0.0);
    // "5" resets the peak to the current RSS (Linux 4.0+).
    let _ = fs_err::write("/proc/self/clear_refs", "5");
    kb / 1000.0
}

/// CPU time (user + system) of the whole process so far, in milliseconds (10 ms
/// resolution), from `/proc/self/stat`; 0 where unavailable.
fn cpu_ms() -> f64 {
    let stat = fs_err::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the `(comm)`: state is field 3, utime 14, stime 15.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) * 10.0
}

/// The best of `runs` wall-clock timings of `f` and the mean CPU time per run, in
/// milliseconds. The machine may be shared, so CPU time is the steadier figure.
pub(crate) fn best_ms(runs: usize, mut f: impl FnMut()) -> (f64, f64) {
    let cpu_start = cpu_ms();
    let wall = (0..runs)
        .map(|_| {
            let start = std::time::Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1000.0
        })
        .fold(f64::INFINITY, f64::min);
    (wall, (cpu_ms() - cpu_start) / runs as f64)
}
