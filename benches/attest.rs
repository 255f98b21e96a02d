//! What PEP 740 attestations add to `wheelwright publish`: 20 wheels published with trusted
//! publishing against the real suite's loopback stand-ins of GitHub's OIDC issuer, Fulcio,
//! Rekor and a PyPI-shaped index (`tests/real/sigstore_standins.rs`), with attestations and with
//! `--no-attestations`, alternating, `BENCH_RUNS` (default 3) runs of each; prints one JSON line
//! with the median wall times and what attesting adds. It measures only: no timed assertion.
//! `WHEELWRIGHT_BENCH_BINARY` names the binary to measure (`scripts/bench-attest.sh` passes a
//! release build; otherwise the debug build of this package).
//!
//! Run by `scripts/bench-attest.sh` (`cargo bench --profile dev --bench attest`: the stand-ins
//! built as the real suite builds them). Without `--bench` (`cargo test --all-targets`) it only
//! says so: it is not a test.

#![expect(clippy::print_stdout, reason = "the benchmark's result is its output")]

#[path = "../tests/support/mod.rs"]
mod support;

#[allow(dead_code, reason = "the benchmark uses part of the publish support")]
#[path = "../tests/real/publish_support.rs"]
mod publish_support;

#[allow(
    dead_code,
    reason = "the benchmark uses the stand-ins, not every control"
)]
#[path = "../tests/real/sigstore_standins.rs"]
mod sigstore_standins;

use std::ffi::OsString;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use publish_support::{make_wheel, publish_cmd, run};
use sigstore_standins::Sigstore;

const WHEELS: u64 = 20;

fn main() {
    if !std::env::args().any(|arg| arg == "--bench") {
        println!(
            "attest: a benchmark; run it with `cargo bench --bench attest` (scripts/bench-attest.sh)"
        );
        return;
    }
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let binary = std::env::var_os("WHEELWRIGHT_BENCH_BINARY");

    let tmp = tempfile::tempdir().expect("temporary directory");
    let home = tmp.path().join("home");
    fs_err::create_dir_all(&home).expect("home");
    let sig = Sigstore::start(tmp.path());
    let dir = tmp.path().join("wheels");
    fs_err::create_dir_all(&dir).expect("wheels");
    for i in 0..WHEELS {
        make_wheel(&dir, &format!("ww_bench{i:02}"), "1.0", 256 * 1024, i + 1);
    }

    let mut times: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    for _ in 0..runs {
        for (slot, attest) in [(0, false), (1, true)] {
            remove_attestations(&dir);
            let mut cmd = publish_cmd(&home);
            if let Some(binary) = &binary {
                cmd = with_program(&cmd, binary);
            }
            cmd.arg(&dir)
                .args(["--repository-url", &sig.upload_url(), "-q"])
                .envs(sig.env());
            if !attest {
                cmd.arg("--no-attestations");
            }
            let started = Instant::now();
            let (output, text) = run(&mut cmd);
            let elapsed = started.elapsed().as_secs_f64();
            assert!(output.status.success(), "{text}");
            times[slot].push(elapsed);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let plain = median(&mut times[0]);
    let attested = median(&mut times[1]);
    // What was measured is what was meant: every run uploaded all the wheels, and only the
    // attesting runs sent attestations.
    let uploads = sig.uploaded_attestations();
    let per_run = usize::try_from(WHEELS).expect("a small number");
    assert_eq!(uploads.len(), 2 * per_run * runs);
    assert_eq!(
        uploads.iter().filter(|(_, a)| a.is_some()).count(),
        per_run * runs
    );
    println!(
        "{}",
        serde_json::json!({
            "wheels": WHEELS,
            "runs": runs,
            "publish_s": (plain * 1000.0).round() / 1000.0,
            "publish_with_attestations_s": (attested * 1000.0).round() / 1000.0,
            "added_s": ((attested - plain) * 1000.0).round() / 1000.0,
            "fulcio_requests": *sig.control.fulcio_requests.lock().expect("lock"),
            "rekor_requests": *sig.control.rekor_requests.lock().expect("lock"),
        })
    );
}

/// The attestation files a previous publish left next to the wheels.
fn remove_attestations(dir: &Path) {
    for entry in fs_err::read_dir(dir).expect("read the wheel directory") {
        let path = entry.expect("entry").path();
        if path.to_string_lossy().ends_with(".publish.attestation") {
            fs_err::remove_file(path).expect("remove an attestation");
        }
    }
}

/// `cmd` (its arguments and environment) running `program` instead.
fn with_program(cmd: &Command, program: &OsString) -> Command {
    let mut other = Command::new(program);
    other.args(cmd.get_args());
    for (key, value) in cmd.get_envs() {
        match value {
            Some(value) => other.env(key, value),
            None => other.env_remove(key),
        };
    }
    other
}
