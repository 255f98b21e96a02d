//! The test stage of `wheelwright build`: after an identifier's wheel is repaired and copied
//! out, it is tested with that identifier's test settings (unless `test-skip` matches it) in the
//! build environment, or with `test-image` in one extra long-lived container per architecture
//! and image that gets the wheel copied in. The result goes into the build's result and into the
//! results manifest next to the wheels, which `wheelwright publish` consults.
//!
//! The manifest is kept when tests are configured, or when the output directory already has
//! one (so that a rebuilt wheel's stale result is replaced by `skipped`). Each result is merged
//! into it under its lock ([`manifest::update`]), so runs sharing an output directory keep each
//! other's results. A test the run's interrupt cut short is recorded as `interrupted`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::build::caches::PackageCaches;
use crate::build::{BuildResult, IdentifierBuild, Status};
use crate::config::values::PullPolicy;
use crate::engine::interpreters::Interpreter;
use crate::engine::log::Log;
use crate::engine::project::ProjectFilter;
use crate::engine::{Container, Engine, EngineError, EngineKind, Mount};
use crate::platform::Arch;
use crate::testing::env::{self, TestEnv};
use crate::testing::manifest::{self, IdentifierRecord};
pub use crate::testing::session::UvChoice;
use crate::testing::session::{Install, Session};
use crate::testing::{TestReport, TestState};
use crate::ui;
use crate::ui::github;

/// What the build hands the stage for one identifier.
pub struct BuildContext<'a> {
    /// The build environment (tests run there unless a test image is set).
    pub container: &'a Container,
    /// The interpreter that built the wheel.
    pub interpreter: &'a Interpreter,
    /// The identifier's options (its test settings, test image, `test-skip`, environment).
    pub build: &'a IdentifierBuild,
    /// `(NAME, path)` of the caches mounted in build environments.
    pub cache_env: &'a [(String, String)],
    /// Host variables passed by name.
    pub pass: &'a [String],
    /// Whether output streams to the terminal as it comes.
    pub live: bool,
    /// Whether test environments are made with uv (the frontend allows it).
    pub uv: UvChoice,
    /// Where the wheel is in the build environment when this build wrote it there (a test in
    /// the build environment installs it from there instead of a copy).
    pub built_at: Option<String>,
}

/// Everything the stage needs from the build's set-up.
pub struct StageSetup<'a> {
    /// The engine.
    pub engine: Arc<dyn Engine>,
    /// Cache mounts for test containers (the build's, without the static binary).
    pub cache_mounts: Vec<Mount>,
    /// pip's and uv's caches, per test image and architecture.
    pub package_caches: PackageCaches,
    /// Extra `run` arguments of every container (network, CA bundle).
    pub container_args: Vec<String>,
    /// Pull policy for test images.
    pub pull: PullPolicy,
    /// The identifiers that will be built (their test settings and images).
    pub builds: Vec<&'a IdentifierBuild>,
    /// The project on the host (copied into test containers for `{project}`).
    pub project: &'a Path,
    /// The output directory (left out of the copy when inside the project).
    pub output_dir: &'a Path,
    /// Where logs go.
    pub logs_dir: &'a Path,
}

type EnvSlot = Mutex<Option<Result<Arc<TestEnv>, String>>>;

/// What identifies a test container: architecture, image and the identifier's `create_args`.
type EnvKey = (Arch, String, Vec<String>);

/// The test stage of one build run.
pub struct BuildStage {
    engine: Arc<dyn Engine>,
    cache_mounts: Vec<Mount>,
    package_caches: PackageCaches,
    container_args: Vec<String>,
    project: PathBuf,
    output_dir: PathBuf,
    logs_dir: PathBuf,
    envs: BTreeMap<EnvKey, EnvSlot>,
    /// Whether results go into the manifest.
    manifest: bool,
}

/// Whether `build` is tested (`Some`), and in which test image (`Some(Some(image))`).
fn tested_in(build: &IdentifierBuild) -> Option<Option<&str>> {
    (build.test.enabled() && !build.test_skipped)
        .then(|| build.test_image.as_deref().filter(|i| !i.trim().is_empty()))
}

fn env_key(build: &IdentifierBuild, image: &str) -> EnvKey {
    (
        build.identifier.arch,
        image.to_owned(),
        build.create_args.clone(),
    )
}

impl BuildStage {
    /// Checks the test settings and prepares (pulls) the test images, before anything is built.
    pub fn new(setup: StageSetup<'_>) -> Result<Self, String> {
        let mut envs = BTreeMap::new();
        let mut configured = false;
        for build in &setup.builds {
            build
                .test
                .check_sources()
                .map_err(|e| format!("{}: {e}", build.identifier))?;
            configured |= build.test.enabled();
            let Some(Some(image)) = tested_in(build) else {
                continue;
            };
            if setup.engine.kind() == EngineKind::Host {
                return Err(format!(
                    "test-image `{image}` ({}) needs a container engine; the host engine tests in this machine's environment",
                    build.identifier
                ));
            }
            if let std::collections::btree_map::Entry::Vacant(slot) =
                envs.entry(env_key(build, image))
            {
                setup
                    .engine
                    .prepare_image(image, build.identifier.arch, setup.pull)
                    .map_err(|e| format!("test-image: {e}"))?;
                slot.insert(Mutex::new(None));
            }
        }
        let manifest = configured || manifest::path_in(setup.output_dir).exists();
        if manifest {
            // A broken manifest stops the run before anything is built.
            manifest::read(setup.output_dir).map_err(|e| e.to_string())?;
        }
        Ok(BuildStage {
            engine: setup.engine,
            cache_mounts: setup.cache_mounts,
            package_caches: setup.package_caches,
            container_args: setup.container_args,
            project: setup.project.to_path_buf(),
            output_dir: setup.output_dir.to_path_buf(),
            logs_dir: setup.logs_dir.to_path_buf(),
            envs,
            manifest,
        })
    }

    /// Tests the wheel of a finished build (built or reused) and records the result; a failed
    /// test fails the identifier. Failed builds are left alone; after an interrupt the test is
    /// not started (or its result is not believed) and is recorded as interrupted.
    pub fn after_build(&self, ctx: &BuildContext<'_>, result: &mut BuildResult) {
        if !matches!(result.status, Status::Built | Status::Reused) {
            return;
        }
        let (Some(wheel), Some(path)) = (result.wheel.clone(), result.path.clone()) else {
            return;
        };
        let sha256 = result.sha256.clone();
        let record = |state, message, log| {
            self.record(
                &wheel,
                &path,
                sha256.as_deref(),
                &ctx.build.identifier.to_string(),
                state,
                message,
                log,
            )
        };
        let id = result.identifier.clone();
        let tested = ctx.build.test.enabled() && !ctx.build.test_skipped;
        let report = if !ctx.build.test.enabled() {
            None
        } else if ctx.build.test_skipped {
            ui::message(&format!("[{id}] not tested: test-skip matches"));
            Some(TestReport::not_run(TestState::Skipped, "test-skip matches"))
        } else if crate::interrupt::requested() {
            Some(TestReport::not_run(
                TestState::Interrupted,
                format!("not tested: {}", crate::interrupt::describe()),
            ))
        } else {
            if let Err(err) = record(TestState::Pending, None, None) {
                result.status = Status::Failed;
                result.error = Some(err);
                return;
            }
            let mut report = self.test(ctx, &id, &wheel, &path);
            if crate::interrupt::requested() && report.status != TestState::Passed {
                // Whatever the step said, the interrupt ended it.
                report.status = TestState::Interrupted;
                report.timed_out = false;
                report.message = Some(crate::interrupt::describe());
            }
            Some(report)
        };
        let (state, message, log) = match &report {
            Some(r) => (r.status, r.message.clone(), r.log.clone()),
            None => (TestState::Skipped, Some("no test-command".to_owned()), None),
        };
        if let Err(err) = record(state, message, log) {
            result.status = Status::Failed;
            result.error = Some(err);
        }
        if let Some(report) = &report {
            if report.status == TestState::Interrupted && tested {
                result.status = Status::Interrupted;
                result.error = report.message.clone();
            } else if report.status.blocks_publish() {
                result.status = Status::Failed;
                result.error = Some(format!(
                    "test {}: {}",
                    if report.status == TestState::Failed {
                        "failed"
                    } else {
                        "could not run"
                    },
                    report.message.clone().unwrap_or_default()
                ));
            }
        }
        result.test = report;
    }

    /// Merges a result into the manifest (when kept). `sha256` is the wheel's as written (hashed
    /// from `path` when not known).
    #[expect(
        clippy::too_many_arguments,
        reason = "one record, its fields spelled out"
    )]
    fn record(
        &self,
        wheel: &str,
        path: &Path,
        sha256: Option<&str>,
        id: &str,
        state: TestState,
        message: Option<String>,
        log: Option<PathBuf>,
    ) -> Result<(), String> {
        if !self.manifest {
            return Ok(());
        }
        let sha = match sha256 {
            Some(sha) => sha.to_owned(),
            None => manifest::sha256_file(path)
                .map_err(|e| format!("cannot hash `{}`: {e}", path.display()))?,
        };
        manifest::update(&self.output_dir, |manifest| {
            manifest.record(
                wheel,
                &sha,
                id,
                IdentifierRecord {
                    state,
                    message,
                    log,
                },
            );
        })
        .map_err(|e| format!("cannot record the test result: {e}"))
    }

    /// How many test containers the run may need (one per test image, architecture and
    /// container arguments).
    #[must_use]
    pub fn environments(&self) -> usize {
        self.envs.len()
    }

    /// Starts the `n`th test container ahead of the first test that needs it (the scheduler
    /// does this while builds run); a failure is kept for the tests to report.
    pub fn start_environment(&self, n: usize) {
        if let Some((key, slot)) = self.envs.iter().nth(n) {
            let _ = self.ensure(key, slot);
        }
    }

    /// The test environment for `build`'s test image, started on first use; `None` when it is
    /// tested in its build environment.
    fn test_env(&self, build: &IdentifierBuild) -> Option<Result<Arc<TestEnv>, String>> {
        let image = tested_in(build)??;
        let key = env_key(build, image);
        let slot = self.envs.get(&key)?;
        Some(self.ensure(&key, slot))
    }

    /// The environment of `slot`, started now unless it was already (or failed to).
    fn ensure(&self, key: &EnvKey, slot: &EnvSlot) -> Result<Arc<TestEnv>, String> {
        let (arch, image, create_args) = key;
        let Ok(mut slot) = slot.lock() else {
            return Err("the test environment is unavailable (a worker panicked)".to_owned());
        };
        if let Some(env) = slot.as_ref() {
            return env.clone();
        }
        let started = self.start_env(image, *arch, create_args);
        if let Ok(env) = &started {
            ui::message(&format!(
                "[test {arch}] container `{}` from `{image}` ready; interpreters: {}",
                env.container.name(),
                env.describe_pythons()
            ));
        }
        *slot = Some(started.clone());
        started
    }

    fn start_env(
        &self,
        image: &str,
        arch: Arch,
        create_args: &[String],
    ) -> Result<Arc<TestEnv>, String> {
        let mut extra_args = create_args.to_vec();
        extra_args.extend(self.container_args.iter().cloned());
        let mut mounts = self.cache_mounts.clone();
        mounts.extend(self.package_caches.mounts(image, arch)?);
        let env = env::start(self.engine.as_ref(), image, arch, &mounts, &extra_args)
            .map_err(|e| format!("cannot start the test image: {e}"))?;
        let mut filter = ProjectFilter::for_project(&self.project)?;
        if let Ok(rel) = self.output_dir.strip_prefix(&self.project) {
            if !rel.as_os_str().is_empty() {
                filter.exclude(rel.to_path_buf());
            }
        }
        let dest = format!("{}/project", env.container.work_root());
        env.container
            .copy_in(&dest, &mut |out| {
                filter.write_tar(&self.project, out).map(|_| ())
            })
            .map_err(|e: EngineError| {
                format!("cannot copy the project into the test image: {e}")
            })?;
        Ok(Arc::new(env))
    }

    fn test(&self, ctx: &BuildContext<'_>, id: &str, wheel: &str, path: &Path) -> TestReport {
        let log_path = self.logs_dir.join(format!("test-{id}.log"));
        let log = match Log::create(&log_path, &format!("[{id} test]"), ctx.live) {
            Ok(log) => log,
            Err(err) => {
                return TestReport::not_run(
                    TestState::Error,
                    format!("cannot write `{}`: {err}", log_path.display()),
                );
            }
        };
        let group =
            (ctx.live && github::on_actions()).then(|| github::Group::start(&format!("test {id}")));
        if !ctx.live {
            ui::message(&format!("[{id}] testing"));
        }
        let held;
        let (container, python) = match self.test_env(ctx.build) {
            None => (ctx.container, ctx.interpreter.python.clone()),
            Some(Err(why)) => {
                return self.finish(id, &log, group, TestReport::not_run(TestState::Error, why));
            }
            Some(Ok(env)) => {
                held = env;
                match held.python_for(&ctx.interpreter.identifier.python) {
                    Some(python) => (&held.container, python.to_owned()),
                    None => {
                        let why = format!(
                            "test image `{}` has no interpreter for {} (it has: {}); give it one at /opt/python/<tag>-<abi>/bin/python or as python3.N on PATH, or skip it with test-skip",
                            held.container.image(),
                            ctx.interpreter.identifier.python,
                            held.describe_pythons()
                        );
                        return self.finish(
                            id,
                            &log,
                            group,
                            TestReport::not_run(TestState::Error, why),
                        );
                    }
                }
            }
        };
        let root = container.work_root();
        let in_build_env = std::ptr::eq(container, ctx.container);
        log.note(&format!(
            "testing `{wheel}` with {python} in {} ({})",
            container.name(),
            container.image()
        ));
        // The wheel as the build left it, or a copy (another image, or a reused wheel).
        let (wheel_path, wheels_dir) = match ctx.built_at.as_ref().filter(|_| in_build_env) {
            Some(built) => (built.clone(), None),
            None => {
                let dir = format!("{root}/test-wheels/{id}");
                if let Err(err) = env::copy_files(container, &dir, &[(path, wheel)]) {
                    return self.finish(
                        id,
                        &log,
                        group,
                        TestReport::not_run(
                            TestState::Error,
                            format!("cannot copy the wheel in: {err}"),
                        ),
                    );
                }
                (format!("{dir}/{wheel}"), Some(dir))
            }
        };
        let session = Session {
            container,
            python,
            install: Install::Wheel { path: wheel_path },
            options: &ctx.build.test,
            project: Some(format!("{root}/project")),
            exports: env::exports(ctx.cache_env, &ctx.build.environment),
            pass: ctx.pass,
            work: format!("{root}/test-{id}"),
            uv: ctx.uv.clone(),
        };
        let report = session.run(&log);
        if let Some(dir) = wheels_dir {
            let _ = container.capture(&format!(
                "rm -rf {}",
                crate::engine::process::shell_quote(&dir)
            ));
        }
        self.finish(id, &log, group, report)
    }

    /// Closes the log, replays it (when not streamed) and says how the test ended.
    fn finish(
        &self,
        id: &str,
        log: &Log,
        group: Option<github::Group>,
        mut report: TestReport,
    ) -> TestReport {
        if report.status != TestState::Passed && report.tail.is_empty() {
            if let Some(message) = &report.message {
                log.note(message);
            }
        }
        log.close();
        drop(group);
        log.replay(&format!("test {id}"));
        report.log = Some(log.path().to_path_buf());
        match report.status {
            TestState::Passed => {
                ui::message(&format!("[{id}] tests passed in {:.1}s", report.seconds));
            }
            _ => {
                let why = report.message.clone().unwrap_or_default();
                if crate::interrupt::requested() {
                    return report;
                }
                ui::message(&format!(
                    "[{id}] test {}: {why}; log: {}",
                    if report.status == TestState::Failed {
                        "FAILED"
                    } else {
                        "ERROR"
                    },
                    log.path().display()
                ));
                github::annotation(
                    github::Level::Error,
                    Some(&format!("wheelwright build: {id} test failed")),
                    None,
                    &format!(
                        "{why}; log: {}\n{}",
                        log.path().display(),
                        report.tail.join("\n")
                    ),
                );
            }
        }
        report
    }
}

impl Drop for BuildStage {
    fn drop(&mut self) {
        let mut dirs: Vec<String> = self.cache_mounts.iter().map(|m| m.target.clone()).collect();
        dirs.extend(self.package_caches.targets());
        for slot in self.envs.values() {
            if let Ok(mut slot) = slot.lock() {
                if let Some(Ok(env)) = slot.take() {
                    if !crate::interrupt::requested() {
                        env::hand_back_caches(&env.container, &dirs);
                    }
                    if let Err(err) = env.container.finish(false) {
                        ui::message(&format!("warning: {err}"));
                    }
                }
            }
        }
    }
}
