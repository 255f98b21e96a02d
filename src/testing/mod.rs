//! Testing wheels: the build's test stage and `wheelwright test`.
//!
//! A test runs in a fresh virtual environment of one interpreter, in a work directory of the
//! build or test environment that is outside the project tree (so the source tree can never be
//! imported by accident). The steps, each a separate shell script in the environment:
//! 1. make the work directory and copy `test-sources` from the project copy into `run/`;
//! 2. create the environment (`uv venv` when uv is on PATH, else `python -m venv`); for an index
//!    test, `pip download --no-deps --only-binary :all:` picks the file pip would install;
//! 3. `before-test` (cibuildwheel's order: before the wheel is installed; from the project copy,
//!    as cibuildwheel runs it, so `pip install -r requirements-test.txt` works);
//! 4. install the wheel with its `test-extras`, then `test-requires`;
//! 5. `test-command` from `run/`.
//!
//! `{project}` and `{package}` in the commands are the project copy in the environment (for
//! reading test files), `{wheel}` the wheel file there. `test-timeout` bounds every step (a
//! hanging installation as well as a hanging test): when it passes, the step's process tree is
//! stopped and killed inside the environment (found through `/proc`, so it works in any container
//! and on the host) and the test is reported as timed out.
//!
//! [`crate::build::stage`] runs this after each identifier's repair in `wheelwright build`,
//! recording results in the [`manifest`] next to the wheels; [`standalone`] is `wheelwright test`.
//! This module does not use [`crate::build`]: what both need (interpreter discovery, logs, the
//! project stream) is in [`crate::engine`].

pub mod env;
pub mod manifest;
pub mod select;
pub mod session;
pub mod standalone;

use std::time::Duration;

use serde::Serialize;

pub use manifest::TestState;

/// The default `test-timeout`: 30 minutes.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// How many lines of a failed test's output the summary shows.
pub const TAIL_LINES: usize = 20;

/// How a wheel is tested: one identifier's test settings in a build, or those of
/// `wheelwright test`.
#[derive(Debug, Clone)]
pub struct TestOptions {
    /// The command that tests the installed wheel; `None` = no test stage.
    pub command: Option<String>,
    /// Requirements installed after the wheel.
    pub requires: Vec<String>,
    /// Extras of the wheel installed with it.
    pub extras: Vec<String>,
    /// Files and directories of the project copied into the test's working directory.
    pub sources: Vec<String>,
    /// Run in the fresh environment before the wheel is installed.
    pub before_test: Option<String>,
    /// Kills a step of a test (environment, installation, before-test, test-command) that runs
    /// longer.
    pub timeout: Duration,
}

impl Default for TestOptions {
    fn default() -> Self {
        TestOptions {
            command: None,
            requires: Vec::new(),
            extras: Vec::new(),
            sources: Vec::new(),
            before_test: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl TestOptions {
    /// Whether there is a test to run.
    #[must_use]
    pub fn enabled(&self) -> bool {
        self.command
            .as_deref()
            .is_some_and(|c| !c.trim().is_empty())
    }

    /// Checks `test-sources`: relative paths inside the project.
    pub fn check_sources(&self) -> Result<(), String> {
        for source in &self.sources {
            let path = std::path::Path::new(source);
            if source.trim().is_empty()
                || path.is_absolute()
                || path
                    .components()
                    .any(|c| matches!(c, std::path::Component::ParentDir))
            {
                return Err(format!(
                    "test-sources: `{source}` must be a relative path inside the project"
                ));
            }
        }
        Ok(())
    }
}

/// The result of one test (an interpreter and a wheel).
#[derive(Debug, Clone, Serialize)]
pub struct TestReport {
    /// `passed`, `failed`, `error` (could not be tested) or `skipped`.
    pub status: TestState,
    /// The interpreter (a path in the test environment).
    pub python: Option<String>,
    /// The image the test ran in (`host` for the host engine).
    pub image: Option<String>,
    /// The wheel installed (a file name).
    pub wheel: Option<String>,
    /// Wall time in seconds.
    pub seconds: f64,
    /// Set when the test was killed by `test-timeout`.
    pub timed_out: bool,
    /// What failed, in one line.
    pub message: Option<String>,
    /// The last lines of the test's output (failures only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tail: Vec<String>,
    /// The full log.
    pub log: Option<std::path::PathBuf>,
}

impl TestReport {
    /// A report for a test that did not run.
    #[must_use]
    pub fn not_run(status: TestState, message: impl Into<String>) -> Self {
        TestReport {
            status,
            python: None,
            image: None,
            wheel: None,
            seconds: 0.0,
            timed_out: false,
            message: Some(message.into()),
            tail: Vec::new(),
            log: None,
        }
    }

    /// `passed`, `FAILED`, `TIMED OUT`, `ERROR`, `INTERRUPTED`, `skipped`.
    #[must_use]
    pub fn word(&self) -> &'static str {
        match self.status {
            TestState::Passed => "passed",
            TestState::Failed if self.timed_out => "TIMED OUT",
            TestState::Failed => "FAILED",
            TestState::Error => "ERROR",
            TestState::Skipped => "skipped",
            TestState::Pending => "pending",
            TestState::Interrupted => "INTERRUPTED",
        }
    }

    /// The build table's cell: the word, with the duration when it passed (`passed 3.1s`).
    #[must_use]
    pub fn cell(&self) -> String {
        match self.status {
            TestState::Passed => format!("passed {:.1}s", self.seconds),
            _ => self.word().to_owned(),
        }
    }
}

/// Replaces `{project}`, `{package}` and `{wheel}`.
#[must_use]
pub fn placeholders(command: &str, project: &str, wheel: &str) -> String {
    command
        .replace("{project}", project)
        .replace("{package}", project)
        .replace("{wheel}", wheel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_replaced() {
        assert_eq!(
            placeholders(
                "python -m unittest discover -s {project}/tests && ls {wheel} {package}",
                "/w/project",
                "/w/t/x.whl"
            ),
            "python -m unittest discover -s /w/project/tests && ls /w/t/x.whl /w/project"
        );
    }

    #[test]
    fn options() {
        let mut options = TestOptions::default();
        assert!(!options.enabled());
        assert_eq!(options.timeout, Duration::from_secs(1800));
        options.command = Some("  ".to_owned());
        assert!(!options.enabled());
        options.command = Some("pytest".to_owned());
        assert!(options.enabled());
        options.sources = vec!["tests".to_owned(), "data/x.txt".to_owned()];
        assert!(options.check_sources().is_ok());
        for bad in ["../x", "/etc", "a/../../b", ""] {
            options.sources = vec![bad.to_owned()];
            let err = options.check_sources().expect_err(bad);
            assert!(err.contains("relative path inside the project"), "{err}");
        }
    }
}
