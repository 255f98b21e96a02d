//! What `wheelwright test` reports: its environments and every test, and the outcome's
//! renderings (the summary table, the failures with their last lines, the job summary).

use std::fmt::Write as _;
use std::path::PathBuf;

use serde::Serialize;

use crate::engine::EngineKind;
use crate::testing::{TestReport, TestState};

/// An interpreter of a test environment.
#[derive(Debug, Clone, Serialize)]
pub struct InterpreterReport {
    /// Ex) `cp39-manylinux_x86_64`
    pub identifier: String,
    /// The path in the environment.
    pub python: String,
    /// Its most specific supported tag. Ex) `cp39-cp39-manylinux_2_31_x86_64`
    pub best_tag: Option<String>,
}

/// A test environment.
#[derive(Debug, Clone, Serialize)]
pub struct EnvironmentReport {
    /// Ex) `x86_64`
    pub arch: String,
    /// The image (`host` for the host engine).
    pub image: String,
    /// The container name or host work directory.
    pub name: String,
    /// Its interpreters.
    pub interpreters: Vec<InterpreterReport>,
}

/// One test.
#[derive(Debug, Clone, Serialize)]
pub struct StandaloneTest {
    /// The interpreter's identifier.
    pub identifier: String,
    /// The requirement, for index tests.
    pub spec: Option<String>,
    /// The result (the wheel pip installed is `report.wheel`).
    #[serde(flatten)]
    pub report: TestReport,
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct StandaloneOutcome {
    /// The format version.
    pub version: u32,
    /// The engine used.
    pub engine: EngineKind,
    /// The index, for index tests.
    pub index: Option<String>,
    /// Where the logs are.
    pub logs_dir: PathBuf,
    /// The environments.
    pub environments: Vec<EnvironmentReport>,
    /// Every test.
    pub tests: Vec<StandaloneTest>,
    /// Local wheels no interpreter here can install (not tested).
    pub untested: Vec<String>,
}

impl StandaloneOutcome {
    /// Tests that did not pass.
    #[must_use]
    pub fn failed(&self) -> usize {
        self.tests
            .iter()
            .filter(|t| t.report.status != TestState::Passed)
            .count()
    }

    /// The summary table.
    #[must_use]
    pub fn table(&self) -> String {
        let headers = ["identifier", "result", "wheel", "time"].map(str::to_owned);
        let rows: Vec<[String; 4]> = self
            .tests
            .iter()
            .map(|t| {
                [
                    t.identifier.clone(),
                    t.report.word().to_owned(),
                    t.report
                        .wheel
                        .clone()
                        .or_else(|| t.spec.clone())
                        .unwrap_or_default(),
                    format!("{:.1}s", t.report.seconds),
                ]
            })
            .collect();
        crate::ui::text_table(&headers, &rows, [false, false, false, true])
    }

    /// The failures with their last lines of output.
    #[must_use]
    pub fn failure_details(&self) -> String {
        let mut out = String::new();
        for t in self
            .tests
            .iter()
            .filter(|t| t.report.status != TestState::Passed)
        {
            let _ = writeln!(
                out,
                "\n{} {}: {}",
                t.identifier,
                t.report.word(),
                t.report.message.clone().unwrap_or_default()
            );
            if let Some(log) = &t.report.log {
                let _ = writeln!(out, "  log: {}", log.display());
            }
            if !t.report.tail.is_empty() {
                let _ = writeln!(out, "  last lines:");
                for line in &t.report.tail {
                    let _ = writeln!(out, "  | {line}");
                }
            }
        }
        out
    }

    /// A Markdown table for the GitHub job summary.
    #[must_use]
    pub fn markdown(&self) -> String {
        let mut out = String::from(
            "### wheelwright test\n\n| identifier | result | wheel | time |\n|---|---|---|---:|\n",
        );
        for t in &self.tests {
            let result = match t.report.status {
                TestState::Passed => "✅ passed".to_owned(),
                _ => format!(
                    "❌ {}: {}",
                    t.report.word(),
                    t.report
                        .message
                        .clone()
                        .unwrap_or_default()
                        .replace('|', "\\|")
                ),
            };
            let _ = writeln!(
                out,
                "| `{}` | {result} | `{}` | {:.1} s |",
                t.identifier,
                t.report
                    .wheel
                    .clone()
                    .or_else(|| t.spec.clone())
                    .unwrap_or_default(),
                t.report.seconds
            );
        }
        out.push('\n');
        out
    }
}
