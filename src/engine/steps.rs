//! Several steps of a build or a test run as one process in the environment.
//!
//! Starting a process in a container (`docker exec`, `podman exec`) costs a tenth of a second
//! or more of CPU, as much as a small step itself. [`Container::run_steps`] therefore runs a
//! sequence of steps as one shell script, each step in a subshell, and keeps what separate
//! processes gave: which step is running (a marker line the script prints before each step,
//! with a token the steps cannot guess, is taken out of the output), a time limit per step
//! (the deadline moves when the next step starts), which step failed and with what status,
//! and when each step started and ended. A step can also report values (the wheels it left,
//! say) with the shell function `ww_report`; those lines are taken out of the output as well.

use std::hash::{BuildHasher as _, Hasher as _};
use std::process::ExitStatus;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::EngineError;
use super::container::{Container, OutputSink, RunEnd, with_pidfile};
use super::process::shell_quote;

/// One step: its script (run in a subshell, so `exit` and `cd` stay in it) and how long it may
/// run.
#[derive(Debug, Clone)]
pub struct Step {
    /// The shell script.
    pub script: String,
    /// Its time limit.
    pub limit: Duration,
}

/// How a run of steps ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepsEnd {
    /// Every step exited successfully.
    Done,
    /// Step `step` (an index) exited unsuccessfully, with the status the script exited with.
    Failed {
        /// The step.
        step: usize,
        /// Its exit status.
        status: ExitStatus,
    },
    /// Step `step` ran past its limit; the script's process tree was killed.
    TimedOut {
        /// The step.
        step: usize,
    },
}

/// What a run of steps did.
#[derive(Debug, Clone)]
pub struct StepsRun {
    /// How it ended.
    pub end: StepsEnd,
    /// Per step, when it started and ended (`None`: it never started).
    pub spans: Vec<Option<(Instant, Instant)>>,
    /// The values the steps reported with `ww_report`, with the index of the step.
    pub reports: Vec<(usize, String)>,
}

/// Where the steps are (shared by the output threads and the watchdog).
struct Progress {
    /// The index of the running step and when it started.
    current: Option<(usize, Instant)>,
    spans: Vec<Option<(Instant, Instant)>>,
    reports: Vec<(usize, String)>,
}

/// The output of the script: marker and report lines taken out, the rest passed on.
struct Marked<'a> {
    token: &'a str,
    inner: &'a dyn OutputSink,
    progress: &'a Mutex<Progress>,
    on_step: &'a (dyn Fn(usize) + Sync),
}

impl OutputSink for Marked<'_> {
    fn line(&self, line: &str) {
        let Some(at) = line.find(self.token) else {
            self.inner.line(line);
            return;
        };
        // Output without a final line break runs into the marker: pass that part on.
        if at > 0 {
            self.inner.line(&line[..at]);
        }
        let rest = &line[at + self.token.len()..];
        let Ok(mut progress) = self.progress.lock() else {
            return;
        };
        if let Some(value) = rest.strip_prefix(" report ") {
            let step = progress.current.map_or(0, |(step, _)| step);
            progress.reports.push((step, value.to_owned()));
        } else if let Some(Ok(step)) = rest.strip_prefix(" step ").map(str::parse::<usize>) {
            let now = Instant::now();
            if let Some((previous, started)) = progress.current {
                if let Some(span) = progress.spans.get_mut(previous) {
                    *span = Some((started, now));
                }
            }
            progress.current = Some((step, now));
            drop(progress);
            (self.on_step)(step);
        }
    }
}

/// A token no step can guess: it marks our own lines in the output.
fn token() -> String {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.write_u32(std::process::id());
    let a = hasher.finish();
    hasher.write_u64(a);
    format!("@@wheelwright-{a:016x}{:016x}", hasher.finish())
}

/// The script that runs `steps` in order, each in a subshell announced by a marker line, and
/// stops at the first that fails (exiting with its status); `cleanup` runs after the steps
/// whatever their outcome (not after a kill).
fn script(token: &str, steps: &[Step], cleanup: &str) -> String {
    let marker = shell_quote(token);
    let mut s =
        format!("ww_report() {{ printf '%s report %s\\n' {marker} \"$*\"; }}\nww_steps() {{\n");
    for (index, step) in steps.iter().enumerate() {
        s.push_str(&format!(
            "printf '%s step {index}\\n' {marker}\n( {}\n) || return $?\n",
            step.script
        ));
    }
    s.push_str("}\nww_steps; ww_status=$?\n");
    if !cleanup.trim().is_empty() {
        s.push_str(&format!("{{ {cleanup}\n}} >/dev/null 2>&1\n"));
    }
    s.push_str("exit $ww_status\n");
    s
}

impl Container {
    /// Runs `steps` as one process (see the module's description): output to `sink`,
    /// `on_step(i)` as step `i` starts, at most each step's limit for each step (the process
    /// tree recorded in `pidfile` is killed past it). `cleanup` (a script) runs after the steps
    /// however they ended, except after a kill. `env` names host variables passed through.
    pub fn run_steps(
        &self,
        steps: &[Step],
        env: &[String],
        sink: &dyn OutputSink,
        pidfile: &str,
        cleanup: &str,
        on_step: &(dyn Fn(usize) + Sync),
    ) -> Result<StepsRun, EngineError> {
        let token = token();
        let progress = Mutex::new(Progress {
            current: None,
            spans: vec![None; steps.len()],
            reports: Vec::new(),
        });
        let marked = Marked {
            token: &token,
            inner: sink,
            progress: &progress,
            on_step,
        };
        let script = with_pidfile(pidfile, &script(&token, steps, cleanup));
        let due = |spawned: Instant| -> Option<Instant> {
            let progress = progress.lock().ok()?;
            Some(match progress.current {
                Some((step, started)) => started + steps.get(step)?.limit,
                // Not yet at the first step: the first step's limit from the start.
                None => spawned + steps.first()?.limit,
            })
        };
        let ended = self.supervise(&script, env, &marked, Some(pidfile), &due)?;
        let mut progress = progress
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        let last = progress.current.map_or(0, |(step, _)| step);
        if let Some((step, started)) = progress.current {
            if let Some(span) = progress.spans.get_mut(step) {
                *span = Some((started, now));
            }
        }
        let end = match ended {
            RunEnd::TimedOut => StepsEnd::TimedOut { step: last },
            RunEnd::Exited(status) if status.success() => StepsEnd::Done,
            RunEnd::Exited(status) => StepsEnd::Failed { step: last, status },
        };
        Ok(StepsRun {
            end,
            spans: progress.spans,
            reports: progress.reports,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Lines(Mutex<Vec<String>>);

    impl OutputSink for Lines {
        fn line(&self, line: &str) {
            self.0.lock().expect("lock").push(line.to_owned());
        }
    }

    #[test]
    fn tokens_differ() {
        assert_ne!(token(), token());
    }

    #[test]
    fn markers_and_reports_are_taken_out_of_the_output() {
        let lines = Lines(Mutex::new(Vec::new()));
        let progress = Mutex::new(Progress {
            current: None,
            spans: vec![None; 2],
            reports: Vec::new(),
        });
        let started = Mutex::new(Vec::new());
        let on_step = |i: usize| started.lock().expect("lock").push(i);
        let marked = Marked {
            token: "@@T",
            inner: &lines,
            progress: &progress,
            on_step: &on_step,
        };
        marked.line("@@T step 0");
        marked.line("hello");
        marked.line("@@T report a.whl");
        marked.line("no newline@@T step 1");
        marked.line("@@T report b c");
        let progress = progress.into_inner().expect("lock");
        assert_eq!(*lines.0.lock().expect("lock"), ["hello", "no newline"]);
        assert_eq!(*started.lock().expect("lock"), [0, 1]);
        assert_eq!(
            progress.reports,
            [(0, "a.whl".to_owned()), (1, "b c".to_owned())]
        );
        assert!(
            progress.spans[0].is_some(),
            "step 0 ended when step 1 began"
        );
        assert_eq!(progress.current.map(|(s, _)| s), Some(1));
    }

    #[test]
    fn the_script_stops_at_the_first_failing_step_and_cleans_up() {
        let steps = [
            Step {
                script: "echo one".to_owned(),
                limit: Duration::from_secs(1),
            },
            Step {
                script: "exit 3".to_owned(),
                limit: Duration::from_secs(1),
            },
            Step {
                script: "echo never".to_owned(),
                limit: Duration::from_secs(1),
            },
        ];
        let dir = tempfile::tempdir().expect("tempdir");
        let cleaned = dir.path().join("cleaned");
        let cleanup = format!(
            "echo hidden; touch {}",
            shell_quote(&cleaned.display().to_string())
        );
        let text = script("@@T", &steps, &cleanup);
        let out = std::process::Command::new("/bin/sh")
            .args(["-c", &text])
            .output()
            .expect("sh");
        assert_eq!(out.status.code(), Some(3));
        assert!(cleaned.exists(), "the clean-up ran after the failing step");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            stdout.lines().collect::<Vec<_>>(),
            ["@@T step 0", "one", "@@T step 1"]
        );
    }
}
