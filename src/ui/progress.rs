//! Progress of long transfers: a bar on an interactive terminal, plain lines elsewhere (one
//! every few seconds while it lasts, one with the size, time and rate at the end), and never
//! a bar in GitHub Actions logs (or with `--quiet`/`-v`).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often a plain progress line is printed for a long transfer.
const LINE_INTERVAL: Duration = Duration::from_secs(10);

/// Bytes in binary units with one decimal. Ex) `12.3 MiB`
#[must_use]
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    #[expect(clippy::cast_precision_loss, reason = "display only")]
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Whether progress bars may be drawn: stderr is a terminal, not `--quiet`, not verbose, not
/// on GitHub Actions.
#[must_use]
pub fn bars_enabled() -> bool {
    use std::io::IsTerminal as _;
    std::io::stderr().is_terminal()
        && !super::is_quiet()
        && !super::github::on_actions()
        && !tracing::enabled!(tracing::Level::DEBUG)
}

enum Mode {
    Bar(ProgressBar),
    Lines {
        label: String,
        total: u64,
        done: u64,
        started: Instant,
        last: Instant,
    },
    Hidden,
}

/// The progress of one transfer.
pub struct TransferProgress {
    mode: Mutex<Mode>,
}

impl TransferProgress {
    /// Starts showing the transfer of `total` bytes of `label`.
    #[must_use]
    pub fn start(label: &str, total: u64) -> Self {
        let mode = if super::is_quiet() {
            Mode::Hidden
        } else if bars_enabled() {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(
                "{wide_msg} [{bar:20}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar.set_message(super::untrusted(label).into_owned());
            Mode::Bar(bar)
        } else {
            Mode::Lines {
                label: label.to_owned(),
                total,
                done: 0,
                started: Instant::now(),
                last: Instant::now(),
            }
        };
        Self {
            mode: Mutex::new(mode),
        }
    }

    /// `done` bytes are through.
    pub fn set(&self, done: u64) {
        let Ok(mut mode) = self.mode.lock() else {
            return;
        };
        match &mut *mode {
            Mode::Bar(bar) => bar.set_position(done),
            Mode::Lines {
                label,
                total,
                done: so_far,
                started,
                last,
            } => {
                *so_far = done;
                if last.elapsed() >= LINE_INTERVAL && done < *total {
                    *last = Instant::now();
                    let percent = done.saturating_mul(100) / (*total).max(1);
                    super::message(&format!(
                        "  `{label}`: {percent}% ({} of {}, {})",
                        human_bytes(done),
                        human_bytes(*total),
                        rate(done, started.elapsed())
                    ));
                }
            }
            Mode::Hidden => {}
        }
    }

    /// The transfer is over (either way): removes the bar, or prints what was sent.
    pub fn finish(&self) {
        let Ok(mode) = self.mode.lock() else {
            return;
        };
        match &*mode {
            Mode::Bar(bar) => bar.finish_and_clear(),
            Mode::Lines {
                label,
                done,
                started,
                ..
            } if *done > 0 => {
                let elapsed = started.elapsed();
                super::message(&format!(
                    "  `{label}`: sent {} in {:.1} s ({})",
                    human_bytes(*done),
                    elapsed.as_secs_f64(),
                    rate(*done, elapsed)
                ));
            }
            Mode::Lines { .. } | Mode::Hidden => {}
        }
    }
}

/// Bytes per second in binary units. Ex) `3.2 MiB/s`
fn rate(bytes: u64, elapsed: Duration) -> String {
    let seconds = elapsed.as_secs_f64().max(0.001);
    #[expect(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "display only"
    )]
    let per_second = (bytes as f64 / seconds) as u64;
    format!("{}/s", human_bytes(per_second))
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_sizes() {
        assert_eq!(super::human_bytes(999), "999 B");
        assert_eq!(super::human_bytes(1536), "1.5 KiB");
        assert_eq!(super::human_bytes(10 * 1024 * 1024), "10.0 MiB");
        assert_eq!(
            super::rate(3 * 1024 * 1024, std::time::Duration::from_secs(2)),
            "1.5 MiB/s"
        );
    }
}
