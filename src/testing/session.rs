//! One test in one environment: a fresh virtual environment of one interpreter, the wheel (or
//! what an index offers), the test command, each step bounded by `test-timeout`; the steps run as
//! one process in the environment ([`crate::engine::steps`]).

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::{TAIL_LINES, TestOptions, TestReport, TestState, placeholders};
use crate::engine::log::Log;
use crate::engine::process::shell_quote;
use crate::engine::steps::{Step, StepsEnd};
use crate::engine::{Container, OutputSink};

/// What to install.
#[derive(Debug, Clone)]
pub enum Install {
    /// A wheel file already in the environment.
    Wheel {
        /// Its path there.
        path: String,
    },
    /// The wheel pip chooses from an index.
    Index {
        /// The Simple index URL.
        url: String,
        /// Further indexes for the dependencies.
        extra_urls: Vec<String>,
        /// The requirement. Ex) `NEURON==7.8.11.2`
        spec: String,
    },
}

/// Whether a test environment is made with uv.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UvChoice {
    /// Never: venv and pip (`build-frontend` `build` or `pip`, as in cibuildwheel).
    Never,
    /// uv when it is on PATH, else venv and pip.
    OnPath,
    /// uv on PATH, else this one (the uv wheelwright provides) when it runs, else venv and pip.
    OnPathOr(String),
}

/// One test to run.
pub struct Session<'a> {
    /// The environment.
    pub container: &'a Container,
    /// The interpreter there.
    pub python: String,
    /// What to install.
    pub install: Install,
    /// The test settings.
    pub options: &'a TestOptions,
    /// The project copy in the environment (`{project}`, and where `test-sources` come from).
    pub project: Option<String>,
    /// `export …` lines every step starts with (caches, `--environment`).
    pub exports: String,
    /// Host variables passed by name.
    pub pass: &'a [String],
    /// A directory for this test in the environment (created; removed first if it exists).
    pub work: String,
    /// Whether the environment is made with uv.
    pub uv: UvChoice,
}

/// Forwards the output to the log and keeps the lines from one step on (`only`: its index and
/// the running step's).
struct Capture<'a> {
    log: &'a Log,
    lines: Mutex<Vec<String>>,
    only: Option<(usize, &'a AtomicUsize)>,
}

impl OutputSink for Capture<'_> {
    fn line(&self, line: &str) {
        self.log.line(line);
        let Some((index, current)) = self.only else {
            return;
        };
        // The step and any after it (it is the last of its run).
        let running = current.load(Ordering::SeqCst);
        if running != usize::MAX && running >= index {
            if let Ok(mut lines) = self.lines.lock() {
                lines.push(line.to_owned());
            }
        }
    }
}

/// How a timeout message starts.
const TIMED_OUT: &str = "timed out";

/// The marker line the index step prints with the file pip chose.
const CHOSE: &str = "wheelwright: pip chose ";

impl Session<'_> {
    fn venv(&self) -> String {
        format!("{}/venv", self.work)
    }

    fn run_dir(&self) -> String {
        format!("{}/run", self.work)
    }

    fn pidfile(&self) -> String {
        format!("{}.pid", self.work)
    }

    /// The start of every step after the environment exists: exports, the venv first on PATH,
    /// `ww_pip` (uv's pip when the venv was made by uv: `.wheelwright-uv` names the uv), the
    /// working directory.
    fn prelude(&self) -> String {
        let venv = shell_quote(&self.venv());
        format!(
            "{exports}export VIRTUAL_ENV={venv} PATH={venv}/bin:\"$PATH\"\n\
             if [ -e {venv}/.wheelwright-uv ]; then\n\
             {from_pip}\
             ww_pip() {{ \"$(cat {venv}/.wheelwright-uv)\" pip \"$@\" --python {venv}/bin/python; }}\n\
             else\n\
             ww_pip() {{ {venv}/bin/python -m pip \"$@\"; }}\n\
             fi\n\
             cd {run} || exit 1\n",
            exports = self.exports,
            from_pip = super::env::UV_SETTINGS_FROM_PIP,
            run = shell_quote(&self.run_dir()),
        )
    }

    /// Shell lines that set `ww_uv` to the uv that makes the environment (empty: none).
    fn find_uv(&self, index_mode: bool) -> String {
        let mut s = String::from("ww_uv=\n");
        if index_mode {
            // pip downloads the index's choice; its environment is pip's too.
            return s;
        }
        match &self.uv {
            UvChoice::Never => {}
            UvChoice::OnPath => {
                s.push_str("if command -v uv >/dev/null 2>&1; then ww_uv=uv; fi\n");
            }
            UvChoice::OnPathOr(path) => {
                let path = shell_quote(path);
                s.push_str(&format!(
                    "if command -v uv >/dev/null 2>&1; then ww_uv=uv\n\
                     elif [ -x {path} ] && {path} --version >/dev/null 2>&1; then ww_uv={path}\n\
                     fi\n"
                ));
            }
        }
        s
    }

    /// Runs `planned` as one process (see [`crate::engine::steps`]), each step for at most
    /// `test-timeout`, its output to `log`; the lines of the step `capture` (an index) are also
    /// kept. A failure names the step and gives it its state. The work directory is removed
    /// afterwards when these are the `last` steps, or when they failed.
    fn run_planned(
        &self,
        planned: &[Planned],
        capture: Option<(usize, &Mutex<Vec<String>>)>,
        log: &Log,
        last: bool,
    ) -> Result<(), (TestState, String, Option<usize>)> {
        let remove = format!(
            "rm -rf {} {}",
            shell_quote(&self.work),
            shell_quote(&self.pidfile())
        );
        let steps: Vec<Step> = planned
            .iter()
            .map(|p| Step {
                script: p.script.clone(),
                limit: self.options.timeout,
            })
            .collect();
        let current = AtomicUsize::new(usize::MAX);
        let on_step = |index: usize| {
            current.store(index, Ordering::SeqCst);
            if let Some(step) = planned.get(index) {
                if step.shown.is_empty() {
                    log.note(&step.name);
                } else {
                    log.note(&format!("{}: {}", step.name, step.shown));
                }
            }
        };
        let sink = Capture {
            log,
            lines: Mutex::new(Vec::new()),
            only: capture.map(|(index, _)| (index, &current)),
        };
        let ran = self.container.run_steps(
            &steps,
            self.pass,
            &sink,
            &self.pidfile(),
            if last { &remove } else { "" },
            &on_step,
        );
        if let Some((_, kept)) = capture {
            if let Ok(mut kept) = kept.lock() {
                *kept = sink.lines.into_inner().unwrap_or_default();
            }
        }
        let ran = match ran {
            Ok(ran) if !last && ran.end != StepsEnd::Done => {
                // Best effort: what is left of a failed test is not needed any more.
                let _ = self.container.capture(&remove);
                ran
            }
            Ok(ran) => ran,
            Err(err) => {
                let step = current.load(Ordering::SeqCst);
                let planned = planned.get(step).or(planned.first());
                let name = planned.map_or("test", |p| p.name.as_str());
                let state = planned.map_or(TestState::Error, |p| p.failed);
                return Err((state, format!("{name}: {err}"), Some(step)));
            }
        };
        match ran.end {
            StepsEnd::Done => Ok(()),
            StepsEnd::Failed { step, status } => {
                let p = &planned[step.min(planned.len() - 1)];
                Err((
                    p.failed,
                    format!("{} failed ({status})", p.name),
                    Some(step),
                ))
            }
            StepsEnd::TimedOut { step } => {
                let p = &planned[step.min(planned.len() - 1)];
                log.note(&format!(
                    "test-timeout ({}) reached during {}: killed",
                    human_duration(self.options.timeout),
                    p.name
                ));
                // Killed: the script's own clean-up did not run.
                if last {
                    let _ = self.container.capture(&remove);
                }
                Err((
                    TestState::Failed,
                    format!(
                        "{TIMED_OUT} after {} in {} (test-timeout): killed",
                        human_duration(self.options.timeout),
                        p.during
                    ),
                    Some(step),
                ))
            }
        }
    }

    /// Runs the test, writing everything to `log`. The report's `log` is left for the caller.
    pub fn run(&self, log: &Log) -> TestReport {
        let started = Instant::now();
        let mut report = TestReport {
            status: TestState::Error,
            python: Some(self.python.clone()),
            image: Some(self.container.image().to_owned()),
            wheel: match &self.install {
                Install::Wheel { path } => path.rsplit('/').next().map(str::to_owned),
                Install::Index { .. } => None,
            },
            seconds: 0.0,
            timed_out: false,
            message: None,
            tail: Vec::new(),
            log: None,
        };
        let outcome = self.steps(log, &mut report);
        report.seconds = started.elapsed().as_secs_f64();
        match outcome {
            Ok(()) => {
                report.status = TestState::Passed;
                log.note(&format!("passed in {:.1}s", report.seconds));
            }
            Err((state, message)) => {
                report.status = state;
                report.timed_out = message.starts_with(TIMED_OUT);
                log.note(&format!("{message} after {:.1}s", report.seconds));
                report.message = Some(message);
                report.tail = log.tail(TAIL_LINES + 1);
                // The last line is our own note; the output before it is what matters.
                report.tail.pop();
            }
        }
        report
    }

    /// The test's steps, run as one process (an index install as two: what pip chose decides
    /// the rest); the work directory goes afterwards.
    fn steps(&self, log: &Log, report: &mut TestReport) -> Result<(), (TestState, String)> {
        let project = self.project.clone().unwrap_or_else(|| self.run_dir());
        let venv = self.venv();
        let q = shell_quote;
        let mut planned = Vec::new();

        // 1. The work directory and the test sources.
        let mut script = format!(
            "rm -rf {w} && mkdir -p {run} || exit 1\n",
            w = q(&self.work),
            run = q(&self.run_dir())
        );
        if !self.options.sources.is_empty() {
            let Some(project) = &self.project else {
                return Err((
                    TestState::Error,
                    "test-sources needs the project in the environment".to_owned(),
                ));
            };
            for source in &self.options.sources {
                let from = format!("{project}/{source}");
                let to = format!("{}/{source}", self.run_dir());
                let parent = to.rsplit_once('/').map_or(to.as_str(), |(p, _)| p);
                script.push_str(&format!(
                    "if [ ! -e {from} ]; then echo \"test-sources: {shown} does not exist in the project\" >&2; exit 1; fi\n\
                     mkdir -p {parent} && cp -a {from} {to} || exit 1\n",
                    from = q(&from),
                    shown = source.replace(['"', '\\', '$', '`'], "_"),
                    parent = q(parent),
                    to = q(&to),
                ));
            }
        }
        planned.push(Planned::new(
            "prepare the test directory",
            String::new(),
            script,
            TestState::Error,
            "preparing",
        ));

        // 2. The environment (and, from an index, the file pip chooses).
        let python = q(&self.python);
        let index_mode = matches!(self.install, Install::Index { .. });
        let script = format!(
            "{exports}{find_uv}if [ -n \"$ww_uv\" ]; then\n\
               echo \"==> $ww_uv venv --python {python} {venv}\"\n\
               {from_pip}\
               \"$ww_uv\" venv --python {python} {venv} && printf '%s\\n' \"$ww_uv\" > {venv}/.wheelwright-uv || exit 1\n\
             else\n\
               echo \"==> {python} -m venv {venv}\"\n\
               {python} -m venv {venv} || {{ echo 'wheelwright: cannot create a virtual environment with {shown}: install its venv module (or uv) in the test environment' >&2; exit 1; }}\n\
             fi\n\
             {venv}/bin/python -c 'import sys; print(sys.version)'\n",
            exports = self.exports,
            find_uv = self.find_uv(index_mode),
            from_pip = super::env::UV_SETTINGS_FROM_PIP,
            venv = q(&venv),
            shown = self.python.replace('\'', ""),
        );
        planned.push(Planned::new(
            "create the virtual environment",
            self.python.clone(),
            script,
            TestState::Error,
            "creating the virtual environment",
        ));

        let wheel_path = match &self.install {
            Install::Wheel { path } => path.clone(),
            Install::Index {
                url,
                extra_urls,
                spec,
            } => {
                let dl = format!("{}/download", self.work);
                let mut indexes = format!("--index-url {}", q(url));
                for extra in extra_urls {
                    indexes.push_str(&format!(" --extra-index-url {}", q(extra)));
                }
                let script = format!(
                    "{prelude}ww_pip download --no-deps --only-binary :all: --retries 1 --timeout 20 {indexes} -d {dl} {spec} || exit 1\n\
                     set -- {dl}/*.whl\n\
                     if [ ! -f \"$1\" ]; then echo 'wheelwright: pip downloaded no wheel' >&2; exit 1; fi\n\
                     echo \"{CHOSE}${{1##*/}}\"\n",
                    prelude = self.prelude(),
                    dl = q(&dl),
                    spec = q(spec),
                );
                planned.push(Planned::new(
                    "download",
                    format!("the wheel pip chooses for `{spec}` from {url}"),
                    script,
                    TestState::Error,
                    "downloading",
                ));
                let lines = Mutex::new(Vec::new());
                let download = planned.len() - 1;
                let ran = self.run_planned(&planned, Some((download, &lines)), log, false);
                let lines = lines.into_inner().unwrap_or_default();
                match ran {
                    Ok(()) => {}
                    Err((_, message, Some(step)))
                        if step == download && !message.starts_with(TIMED_OUT) =>
                    {
                        return Err((TestState::Error, index_failure(url, spec, &lines)));
                    }
                    Err((state, message, _)) => return Err((state, message)),
                }
                planned.clear();
                let Some(name) = lines.iter().find_map(|l| l.strip_prefix(CHOSE)) else {
                    return Err((TestState::Error, "pip downloaded no wheel".to_owned()));
                };
                report.wheel = Some(name.trim().to_owned());
                format!("{dl}/{}", name.trim())
            }
        };

        // 3. before-test, from the project copy like cibuildwheel (`pip install -r
        //    requirements-test.txt` works); the test command never runs there.
        if let Some(hook) = self
            .options
            .before_test
            .as_deref()
            .filter(|h| !h.trim().is_empty())
        {
            let hook = placeholders(hook, &project, &wheel_path);
            let script = format!(
                "{}cd {} || exit 1\n{hook}\n",
                self.prelude(),
                shell_quote(&project)
            );
            planned.push(Planned::new(
                "before-test",
                hook,
                script,
                TestState::Error,
                "before-test",
            ));
        }

        // 4. The wheel with its extras, then the test requirements.
        let mut extras: Vec<String> = self
            .options
            .extras
            .iter()
            .map(|e| e.trim().to_owned())
            .filter(|e| !e.is_empty())
            .collect();
        let mut index_args = String::new();
        if let Install::Index {
            url,
            extra_urls,
            spec,
        } = &self.install
        {
            extras.extend(spec_extras(spec));
            index_args = format!(" --only-binary :all: --index-url {}", q(url));
            for extra in extra_urls {
                index_args.push_str(&format!(" --extra-index-url {}", q(extra)));
            }
        }
        let target = if extras.is_empty() {
            wheel_path.clone()
        } else {
            format!("{wheel_path}[{}]", extras.join(","))
        };
        let script = format!(
            "{}ww_pip install{index_args} {}\n",
            self.prelude(),
            q(&target)
        );
        // The wheel itself not installing (its requirements, its tags) is the wheel's failure.
        planned.push(Planned::new(
            "install",
            target,
            script,
            TestState::Failed,
            "installing the wheel",
        ));
        if !self.options.requires.is_empty() {
            let requires: Vec<String> = self.options.requires.iter().map(|r| q(r)).collect();
            let script = format!("{}ww_pip install {}\n", self.prelude(), requires.join(" "));
            planned.push(Planned::new(
                "install test-requires",
                self.options.requires.join(" "),
                script,
                TestState::Error,
                "installing test-requires",
            ));
        }

        // 5. The test command.
        let command = self.options.command.as_deref().unwrap_or_default();
        let command = placeholders(command, &project, &wheel_path);
        let script = format!("{}{command}\n", self.prelude());
        planned.push(Planned::new(
            "test-command",
            command,
            script,
            TestState::Failed,
            "test-command",
        ));
        self.run_planned(&planned, None, log, true)
            .map_err(|(state, message, _)| (state, message))
    }
}

/// A step of a test, planned.
struct Planned {
    /// How messages name it (`test-command failed (exit status: 1)`).
    name: String,
    /// What the log says it runs.
    shown: String,
    script: String,
    /// The state of the test when it fails.
    failed: TestState,
    /// What a timeout message says was happening.
    during: &'static str,
}

impl Planned {
    fn new(
        name: &str,
        shown: String,
        script: String,
        failed: TestState,
        during: &'static str,
    ) -> Self {
        Planned {
            name: name.to_owned(),
            shown,
            script,
            failed,
            during,
        }
    }
}

/// Extras written in a requirement: `NEURON[tests,x]==1` → `tests`, `x`.
fn spec_extras(spec: &str) -> Vec<String> {
    let Some(open) = spec.find('[') else {
        return Vec::new();
    };
    let Some(close) = spec[open..].find(']') else {
        return Vec::new();
    };
    spec[open + 1..open + close]
        .split(',')
        .map(|e| e.trim().to_owned())
        .filter(|e| !e.is_empty())
        .collect()
}

/// A one-line explanation of a failed `pip download` from an index.
fn index_failure(url: &str, spec: &str, lines: &[String]) -> String {
    const UNREACHABLE: [&str; 9] = [
        "Connection refused",
        "Failed to establish a new connection",
        "Name or service not known",
        "Temporary failure in name resolution",
        "No route to host",
        "timed out",
        "Could not fetch URL",
        "SSLError",
        "ProxyError",
    ];
    let find = |needles: &[&str]| {
        lines
            .iter()
            .find(|l| needles.iter().any(|n| l.contains(n)))
            .map(|l| l.trim().to_owned())
    };
    if let Some(line) = find(&UNREACHABLE) {
        return format!("index `{url}` is unreachable from the test environment: {line}");
    }
    if lines
        .iter()
        .any(|l| l.contains("No matching distribution found"))
    {
        let versions = lines
            .iter()
            .find_map(|l| {
                l.split_once("(from versions: ")
                    .map(|(_, v)| v.trim_end_matches(')').to_owned())
            })
            .unwrap_or_else(|| "none".to_owned());
        return format!(
            "index `{url}` has no wheel for `{spec}` that this interpreter can install (versions there: {versions})"
        );
    }
    let last = lines
        .iter()
        .rev()
        .map(|l| l.trim())
        .find(|l| !l.is_empty())
        .unwrap_or("no output");
    format!("pip cannot get `{spec}` from `{url}`: {last}")
}

/// `30m`, `1h 30m`, `45s`.
#[must_use]
pub fn human_duration(duration: Duration) -> String {
    let secs = duration.as_secs();
    match (secs / 3600, (secs % 3600) / 60, secs % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m {s}s"),
        (h, 0, 0) => format!("{h}h"),
        (h, m, _) => format!("{h}h {m}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extras_in_requirements() {
        assert_eq!(spec_extras("NEURON[tests, x]==7.8"), ["tests", "x"]);
        assert!(spec_extras("NEURON==7.8").is_empty());
        assert!(spec_extras("NEURON[").is_empty());
    }

    #[test]
    fn index_failures_are_explained() {
        let refused = [
            "WARNING: Retrying (Retry(total=0, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError('<pip._vendor.urllib3.connection.HTTPConnection object at 0x7f>: Failed to establish a new connection: [Errno 111] Connection refused')': /simple/democext/".to_owned(),
            "ERROR: Could not find a version that satisfies the requirement democext (from versions: none)".to_owned(),
            "ERROR: No matching distribution found for democext".to_owned(),
        ];
        let text = index_failure("http://127.0.0.1:9/simple/", "democext", &refused);
        assert!(
            text.starts_with("index `http://127.0.0.1:9/simple/` is unreachable from the test environment: WARNING: Retrying"),
            "{text}"
        );
        let missing = [
            "ERROR: Could not find a version that satisfies the requirement democext==9.9 (from versions: 0.1.0)".to_owned(),
            "ERROR: No matching distribution found for democext==9.9".to_owned(),
        ];
        insta::assert_snapshot!(
            index_failure("http://127.0.0.1:8080/simple/", "democext==9.9", &missing),
            @"index `http://127.0.0.1:8080/simple/` has no wheel for `democext==9.9` that this interpreter can install (versions there: 0.1.0)"
        );
        assert_eq!(
            index_failure("u", "s", &["odd".to_owned()]),
            "pip cannot get `s` from `u`: odd"
        );
    }

    #[test]
    fn durations() {
        assert_eq!(human_duration(Duration::from_secs(1800)), "30m");
        assert_eq!(human_duration(Duration::from_secs(5)), "5s");
        assert_eq!(human_duration(Duration::from_secs(95)), "1m 35s");
        assert_eq!(human_duration(Duration::from_secs(5400)), "1h 30m");
    }
}
