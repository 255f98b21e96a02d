//! Where a build run's time goes: each stage's start and end, in seconds from the start of the
//! run, per build environment (start, set-up, before-all) and per identifier (build, repair,
//! copy-out, test). Start/end offsets rather than durations only, so that `--json` shows what
//! ran at the same time (the scheduler's choices); the table and the job summary show the
//! durations and the totals of the run.

use std::fmt::Write as _;
use std::time::Instant;

use serde::Serialize;

/// One stage's span, in seconds from the start of the run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Span {
    /// When it started.
    pub start: f64,
    /// When it ended.
    pub end: f64,
    /// `end - start`.
    pub seconds: f64,
}

/// The clock of one run.
#[derive(Debug, Clone, Copy)]
pub struct Clock(Instant);

impl Clock {
    /// A clock started now.
    #[must_use]
    pub fn start() -> Self {
        Clock(Instant::now())
    }

    /// Seconds since the start.
    #[must_use]
    pub fn now(&self) -> f64 {
        self.0.elapsed().as_secs_f64()
    }

    /// The span from `start` (an earlier [`Clock::now`]) to now.
    #[must_use]
    pub fn since(&self, start: f64) -> Span {
        let end = self.now();
        Span {
            start: round(start),
            end: round(end),
            seconds: round(end - start),
        }
    }
}

/// Milliseconds are enough and keep the JSON short.
fn round(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

/// A build environment's stages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct EnvironmentTimings {
    /// Starting the container and probing it (interpreters, uv; on-demand installs).
    pub start: Option<Span>,
    /// Copying the project in (and the compiler cache's set-up).
    pub setup: Option<Span>,
    /// `before-all`.
    pub before_all: Option<Span>,
}

/// One identifier's stages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct IdentifierTimings {
    /// Waiting for a worker and the environment's set-up: from the run's start to the build.
    pub queued: Option<Span>,
    /// The project copy, `before-build` and the frontend.
    pub build: Option<Span>,
    /// The repair step.
    pub repair: Option<Span>,
    /// Copying the wheel out to the output directory.
    pub copy_out: Option<Span>,
    /// The test stage.
    pub test: Option<Span>,
}

/// The run's totals: the wall time and each stage's time summed over environments or
/// identifiers (more than the wall time where stages ran side by side).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct RunTimings {
    /// From the start of the run to the last result.
    pub wall: f64,
    /// Container start and probe, summed.
    pub start: f64,
    /// Project copy and set-up, summed.
    pub setup: f64,
    /// `before-all`, summed.
    pub before_all: f64,
    /// Builds, summed.
    pub build: f64,
    /// Repairs, summed.
    pub repair: f64,
    /// Copies out, summed.
    pub copy_out: f64,
    /// Tests, summed.
    pub test: f64,
}

fn total<'a>(spans: impl Iterator<Item = &'a Option<Span>>) -> f64 {
    round(spans.flatten().map(|s| s.seconds).sum())
}

impl RunTimings {
    /// Sums the stages of `environments` and `identifiers`; `wall` as measured.
    #[must_use]
    pub fn sum(
        wall: f64,
        environments: &[&EnvironmentTimings],
        identifiers: &[&IdentifierTimings],
    ) -> Self {
        RunTimings {
            wall: round(wall),
            start: total(environments.iter().map(|e| &e.start)),
            setup: total(environments.iter().map(|e| &e.setup)),
            before_all: total(environments.iter().map(|e| &e.before_all)),
            build: total(identifiers.iter().map(|i| &i.build)),
            repair: total(identifiers.iter().map(|i| &i.repair)),
            copy_out: total(identifiers.iter().map(|i| &i.copy_out)),
            test: total(identifiers.iter().map(|i| &i.test)),
        }
    }
}

/// The stage names, in the order of the tables.
pub const STAGES: [&str; 7] = [
    "start",
    "setup",
    "before-all",
    "build",
    "repair",
    "copy-out",
    "test",
];

fn cell(span: Option<Span>) -> String {
    span.map(|s| format!("{:.1}", s.seconds))
        .unwrap_or_default()
}

/// Rows of the stage table: `(name, cells in [`STAGES`] order)`.
#[must_use]
pub fn rows(
    environments: &[(&str, &EnvironmentTimings)],
    identifiers: &[(&str, &IdentifierTimings)],
    run: &RunTimings,
) -> Vec<(String, [String; 7])> {
    let mut rows = Vec::new();
    for (name, e) in environments {
        rows.push((
            (*name).to_owned(),
            [
                cell(e.start),
                cell(e.setup),
                cell(e.before_all),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ],
        ));
    }
    for (name, i) in identifiers {
        rows.push((
            (*name).to_owned(),
            [
                String::new(),
                String::new(),
                String::new(),
                cell(i.build),
                cell(i.repair),
                cell(i.copy_out),
                cell(i.test),
            ],
        ));
    }
    let f = |v: f64| format!("{v:.1}");
    rows.push((
        format!("total (wall {:.1}s)", run.wall),
        [
            f(run.start),
            f(run.setup),
            f(run.before_all),
            f(run.build),
            f(run.repair),
            f(run.copy_out),
            f(run.test),
        ],
    ));
    rows
}

/// The stage table for the terminal (seconds, right-aligned).
#[must_use]
pub fn table(rows: &[(String, [String; 7])]) -> String {
    let first = "stage seconds";
    let name_width = rows
        .iter()
        .map(|(n, _)| n.chars().count())
        .chain([first.len()])
        .max()
        .unwrap_or_default();
    let widths: Vec<usize> = STAGES
        .iter()
        .enumerate()
        .map(|(i, s)| {
            rows.iter()
                .map(|(_, c)| c[i].chars().count())
                .chain([s.len()])
                .max()
                .unwrap_or_default()
        })
        .collect();
    let mut out = String::new();
    let mut line = |name: &str, cells: &[String]| {
        let mut text = format!("{name:<name_width$}");
        for (cell, w) in cells.iter().zip(&widths) {
            let _ = write!(text, "  {cell:>w$}");
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(first, &STAGES.map(str::to_owned));
    for (name, cells) in rows {
        line(name, cells);
    }
    out
}

/// The stage table in Markdown (for the job summary).
#[must_use]
pub fn markdown(rows: &[(String, [String; 7])]) -> String {
    let mut out = format!(
        "| stage seconds | {} |\n|---|{}\n",
        STAGES.join(" | "),
        "---:|".repeat(STAGES.len())
    );
    for (name, cells) in rows {
        let _ = writeln!(out, "| `{name}` | {} |", cells.join(" | "));
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(start: f64, end: f64) -> Option<Span> {
        Some(Span {
            start,
            end,
            seconds: end - start,
        })
    }

    #[test]
    fn totals_and_tables() {
        let env = EnvironmentTimings {
            start: span(0.0, 0.5),
            setup: span(0.5, 0.75),
            before_all: span(0.75, 2.0),
        };
        let a = IdentifierTimings {
            queued: span(0.0, 2.0),
            build: span(2.0, 4.0),
            repair: span(4.0, 4.5),
            copy_out: span(4.5, 4.625),
            test: span(4.625, 6.0),
        };
        let b = IdentifierTimings {
            build: span(2.0, 5.0),
            ..IdentifierTimings::default()
        };
        let run = RunTimings::sum(6.25, &[&env], &[&a, &b]);
        assert_eq!(run.build, 5.0);
        assert_eq!(run.test, 1.375);
        assert_eq!(run.before_all, 1.25);
        let rows = rows(
            &[("manylinux_x86_64", &env)],
            &[("cp39", &a), ("cp310", &b)],
            &run,
        );
        let text = table(&rows);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "stage seconds      start  setup  before-all  build  repair  copy-out  test"
        );
        // Right-aligned under each stage's header.
        assert!(lines[2].starts_with("cp39 "), "{text}");
        assert!(lines[2].ends_with("2.0     0.5       0.1   1.4"), "{text}");
        assert_eq!(lines[2].len(), lines[0].len(), "{text}");
        assert!(lines[4].starts_with("total (wall 6.2s)"), "{text}");
        let md = markdown(&rows);
        assert!(md.contains("| `cp310` |  |  |  | 3.0 |  |  |  |"), "{md}");
        let json = serde_json::to_value(a).expect("json");
        assert_eq!(json["copy_out"]["start"], 4.5);
        assert_eq!(json["test"]["seconds"], 1.375);
    }
}
