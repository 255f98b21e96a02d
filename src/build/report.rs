//! What a build run produced: one result per identifier, the containers, and their renderings
//! (the terminal table, the GitHub job summary; `--json` serialises [`BuildOutcome`]).

use std::fmt::Write as _;
use std::path::PathBuf;

use serde::Serialize;

use super::timings::{self, EnvironmentTimings, IdentifierTimings, RunTimings};
use crate::engine::EngineKind;

/// How one identifier's build ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Built and repaired (or copied, when pure).
    Built,
    /// An abi3 or pure wheel built for an earlier identifier serves this one.
    Reused,
    /// Something failed; see `error` and the log.
    Failed,
    /// The run was interrupted (SIGINT, SIGTERM, SIGHUP) before this finished.
    Interrupted,
    /// Selected, not built (`--dry-run`).
    Selected,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Built => "built",
            Status::Reused => "reused",
            Status::Failed => "FAILED",
            Status::Interrupted => "INTERRUPTED",
            Status::Selected => "selected",
        }
    }
}

/// One identifier's result.
#[derive(Debug, Clone, Serialize)]
pub struct BuildResult {
    /// Ex) `cp39-manylinux_x86_64`
    pub identifier: String,
    /// How it ended.
    pub status: Status,
    /// The interpreter used.
    pub python: String,
    /// The wheel file name in the output directory.
    pub wheel: Option<String>,
    /// Its path.
    pub path: Option<PathBuf>,
    /// Its size in bytes.
    pub size: Option<u64>,
    /// Its sha256 (hex), as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Wall time of this build in seconds.
    pub seconds: f64,
    /// The build's log file.
    pub log: Option<PathBuf>,
    /// What failed.
    pub error: Option<String>,
    /// The test stage's result (`None`: not tested, e.g. no test command or a failed build).
    pub test: Option<crate::testing::TestReport>,
    /// Where its time went.
    pub timings: IdentifierTimings,
}

/// One build container.
#[derive(Debug, Clone, Serialize)]
pub struct ContainerReport {
    /// Ex) `x86_64`
    pub arch: String,
    /// The image (`host` for the host engine).
    pub image: String,
    /// The container name (or the host work directory).
    pub name: String,
    /// Ex) `manylinux_x86_64`
    pub platform: String,
    /// Seconds from `run` to the first command's answer.
    pub ready_seconds: f64,
    /// Seconds to copy the project in and run before-all.
    pub setup_seconds: Option<f64>,
    /// The setup log.
    pub log: Option<PathBuf>,
    /// Every identifier the environment offers.
    pub available: Vec<String>,
    /// Interpreters the image installed on demand (`manylinux-interpreters ensure`), by
    /// directory name. Ex) `pp311-pypy311_pp80`
    pub installed: Vec<String>,
    /// Seconds `manylinux-interpreters` took to install them.
    pub install_seconds: Option<f64>,
    /// The compiler cache's statistics for this environment's builds (when one was used).
    pub compiler_cache: Option<CompilerCacheStats>,
    /// Set when the container was kept after a failure: the command that enters it.
    pub kept: Option<String>,
    /// Where its time went.
    pub timings: EnvironmentTimings,
}

/// What the compiler cache did during a run (ccache's own counters, zeroed at the start).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CompilerCacheStats {
    /// Compilations answered from the cache.
    pub hits: u64,
    /// Compilations that ran the compiler (and filled the cache).
    pub misses: u64,
}

impl CompilerCacheStats {
    /// The hit rate in percent (`None` before the first cacheable compilation).
    #[must_use]
    pub fn hit_percent(&self) -> Option<f64> {
        let total = self.hits + self.misses;
        #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
        (total > 0).then(|| 100.0 * self.hits as f64 / total as f64)
    }
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct BuildOutcome {
    /// The engine used.
    pub engine: Option<EngineKind>,
    /// Where the wheels are.
    pub output_dir: PathBuf,
    /// Where the logs are.
    pub logs_dir: PathBuf,
    /// `--dry-run`: nothing was built.
    pub dry_run: bool,
    /// The build environments.
    pub containers: Vec<ContainerReport>,
    /// One entry per selected identifier.
    pub builds: Vec<BuildResult>,
    /// The run's time per stage (`None` for `--dry-run`).
    pub timings: Option<RunTimings>,
}

impl BuildOutcome {
    /// How many builds failed.
    #[must_use]
    pub fn failed(&self) -> usize {
        self.count(Status::Failed)
    }

    /// How many builds have `status`.
    #[must_use]
    pub fn count(&self, status: Status) -> usize {
        self.builds.iter().filter(|b| b.status == status).count()
    }

    /// Why builds failed or stopped where the table does not show it (its wheel column shows
    /// the wheel when there is one): `(identifier, reason)`. Test failures are left out (they
    /// are explained with their last lines).
    #[must_use]
    pub fn unshown_reasons(&self) -> Vec<(&str, &str)> {
        self.builds
            .iter()
            .filter(|b| matches!(b.status, Status::Failed | Status::Interrupted))
            .filter(|b| b.wheel.is_some())
            .filter(|b| !b.test.as_ref().is_some_and(|t| t.status.blocks_publish()))
            .filter_map(|b| Some((b.identifier.as_str(), b.error.as_deref()?)))
            .collect()
    }

    /// The table printed at the end.
    #[must_use]
    pub fn table(&self) -> String {
        let headers = ["identifier", "result", "wheel", "size", "time", "test"];
        let rows: Vec<[String; 6]> = self
            .builds
            .iter()
            .map(|b| {
                let wheel = match (&b.wheel, &b.error) {
                    (Some(w), _) => w.clone(),
                    (None, Some(e)) => e.clone(),
                    (None, None) => String::new(),
                };
                [
                    b.identifier.clone(),
                    b.status.as_str().to_owned(),
                    wheel,
                    b.size.map(human_size).unwrap_or_default(),
                    if b.status == Status::Selected {
                        String::new()
                    } else {
                        format!("{:.1}s", b.seconds)
                    },
                    b.test
                        .as_ref()
                        .map(crate::testing::TestReport::cell)
                        .unwrap_or_default(),
                ]
            })
            .collect();
        let mut widths = headers.map(str::len);
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        let mut line = |cells: &[String]| {
            let mut text = String::new();
            for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
                if i == 3 || i == 4 {
                    let _ = write!(text, "{cell:>w$}  ");
                } else {
                    let _ = write!(text, "{cell:<w$}  ");
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
        };
        line(&headers.map(str::to_owned));
        for row in &rows {
            line(row);
        }
        out
    }

    /// The stage table's rows (`None` for `--dry-run`).
    fn stage_rows(&self) -> Option<Vec<(String, [String; 7])>> {
        let run = self.timings.as_ref()?;
        let environments: Vec<(&str, &EnvironmentTimings)> = self
            .containers
            .iter()
            .map(|c| (c.platform.as_str(), &c.timings))
            .collect();
        let identifiers: Vec<(&str, &IdentifierTimings)> = self
            .builds
            .iter()
            .map(|b| (b.identifier.as_str(), &b.timings))
            .collect();
        Some(timings::rows(&environments, &identifiers, run))
    }

    /// Where the time went: each stage's seconds per build environment and identifier, and
    /// the run's totals (`None` for `--dry-run`).
    #[must_use]
    pub fn stage_table(&self) -> Option<String> {
        self.stage_rows().map(|rows| timings::table(&rows))
    }

    /// A Markdown table for the GitHub job summary.
    #[must_use]
    pub fn markdown(&self) -> String {
        let mut out = String::from(
            "### wheelwright build\n\n| identifier | result | wheel | size | time | test |\n|---|---|---|---:|---:|---|\n",
        );
        for b in &self.builds {
            let wheel = match (&b.wheel, &b.error) {
                (Some(w), _) => format!("`{w}`"),
                (None, Some(e)) => e.replace('|', "\\|"),
                (None, None) => String::new(),
            };
            let result = match b.status {
                Status::Failed => "❌ failed",
                Status::Interrupted => "⏹️ interrupted",
                Status::Built => "✅ built",
                Status::Reused => "♻️ reused",
                Status::Selected => "selected",
            };
            let test = match &b.test {
                Some(t) if t.status.blocks_publish() => format!(
                    "❌ {}: {}",
                    t.cell(),
                    t.message.clone().unwrap_or_default().replace('|', "\\|")
                ),
                Some(t) => t.cell(),
                None => String::new(),
            };
            let _ = writeln!(
                out,
                "| `{}` | {result} | {wheel} | {} | {:.1} s | {test} |",
                b.identifier,
                b.size.map(human_size).unwrap_or_default(),
                b.seconds
            );
        }
        out.push('\n');
        let caches: Vec<&ContainerReport> = self
            .containers
            .iter()
            .filter(|c| c.compiler_cache.is_some())
            .collect();
        if !caches.is_empty() {
            out.push_str(
                "| compiler cache (ccache) | hits | misses | hit rate |\n|---|---:|---:|---:|\n",
            );
            for c in caches {
                let stats = c.compiler_cache.unwrap_or_default();
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} | {} |",
                    c.platform,
                    stats.hits,
                    stats.misses,
                    stats
                        .hit_percent()
                        .map(|p| format!("{p:.0} %"))
                        .unwrap_or_else(|| "–".to_owned())
                );
            }
            out.push('\n');
        }
        if let Some(rows) = self.stage_rows() {
            out.push_str(&timings::markdown(&rows));
        }
        out
    }
}

/// `31.2 KiB`: sizes as the progress lines print them.
pub use crate::ui::progress::human_bytes as human_size;

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome() -> BuildOutcome {
        let result = |id: &str, status, wheel: Option<&str>, error: Option<&str>| BuildResult {
            identifier: id.to_owned(),
            status,
            python: String::new(),
            wheel: wheel.map(str::to_owned),
            path: None,
            size: wheel.map(|_| 31_950),
            sha256: None,
            seconds: 5.04,
            log: None,
            error: error.map(str::to_owned),
            test: None,
            timings: IdentifierTimings::default(),
        };
        BuildOutcome {
            engine: Some(EngineKind::Podman),
            output_dir: PathBuf::from("wheelhouse"),
            logs_dir: PathBuf::from("wheelhouse/logs"),
            dry_run: false,
            containers: Vec::new(),
            builds: vec![
                BuildResult {
                    test: Some(crate::testing::TestReport {
                        seconds: 2.52,
                        ..crate::testing::TestReport::not_run(crate::testing::TestState::Passed, "")
                    }),
                    ..result(
                        "cp39-manylinux_x86_64",
                        Status::Built,
                        Some("demo-1-cp39-cp39-manylinux_2_5_x86_64.whl"),
                        None,
                    )
                },
                result(
                    "pp37-manylinux_x86_64",
                    Status::Failed,
                    None,
                    Some("build failed (exit status: 1)"),
                ),
            ],
            timings: None,
        }
    }

    #[test]
    fn the_summary_shows_the_compiler_cache() {
        let mut o = outcome();
        assert!(!o.markdown().contains("compiler cache"));
        o.containers.push(ContainerReport {
            arch: "x86_64".to_owned(),
            image: "img".to_owned(),
            name: "c".to_owned(),
            platform: "manylinux_x86_64".to_owned(),
            ready_seconds: 0.5,
            setup_seconds: None,
            log: None,
            available: Vec::new(),
            installed: Vec::new(),
            install_seconds: None,
            compiler_cache: Some(CompilerCacheStats { hits: 3, misses: 1 }),
            kept: None,
            timings: EnvironmentTimings::default(),
        });
        assert!(
            o.markdown()
                .ends_with("| `manylinux_x86_64` | 3 | 1 | 75 % |\n\n"),
            "{}",
            o.markdown()
        );
    }

    #[test]
    fn table() {
        insta::assert_snapshot!(outcome().table(), @r"
        identifier             result  wheel                                          size  time  test
        cp39-manylinux_x86_64  built   demo-1-cp39-cp39-manylinux_2_5_x86_64.whl  31.2 KiB  5.0s  passed 2.5s
        pp37-manylinux_x86_64  FAILED  build failed (exit status: 1)                        5.0s
        ");
        assert_eq!(outcome().failed(), 1);
    }

    #[test]
    fn reasons_the_table_cannot_show_are_listed() {
        let mut o = outcome();
        assert!(
            o.unshown_reasons().is_empty(),
            "the failure without a wheel is in the table"
        );
        o.builds[0].status = Status::Failed;
        o.builds[0].error = Some("cannot record the test result: `x`: No space left".to_owned());
        assert_eq!(
            o.unshown_reasons(),
            [(
                "cp39-manylinux_x86_64",
                "cannot record the test result: `x`: No space left"
            )]
        );
        o.builds[0].status = Status::Interrupted;
        assert_eq!(o.count(Status::Interrupted), 1);
        assert!(o.table().contains("INTERRUPTED"), "{}", o.table());
    }

    #[test]
    fn markdown() {
        let md = outcome().markdown();
        assert!(
            md.contains(
                "| `pp37-manylinux_x86_64` | ❌ failed | build failed (exit status: 1) |  | 5.0 s |  |"
            ),
            "{md}"
        );
    }

    #[test]
    fn the_summary_shows_the_stages_of_a_run() {
        let mut o = outcome();
        assert!(o.stage_table().is_none());
        o.builds[0].timings.build = Some(timings::Span {
            start: 1.0,
            end: 3.5,
            seconds: 2.5,
        });
        o.timings = Some(RunTimings::sum(
            4.0,
            &[],
            &o.builds.iter().map(|b| &b.timings).collect::<Vec<_>>(),
        ));
        let table = o.stage_table().expect("stages");
        assert!(table.contains("cp39-manylinux_x86_64"), "{table}");
        assert!(table.contains("total (wall 4.0s)"), "{table}");
        assert!(
            o.markdown().contains("| stage seconds | start |"),
            "{}",
            o.markdown()
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(human_size(10), "10 B");
        assert_eq!(human_size(1536), "1.5 KiB");
    }
}
