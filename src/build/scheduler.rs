//! The pool of `--jobs` workers: per environment a set-up task, per identifier a build task
//! (which waits for its environment's set-up) followed by its test; then the environments
//! are finished and reported.

use std::sync::atomic::Ordering;
use std::time::Duration;

use tracing::debug;

use super::scripts::parse_ccache_stats;
use super::{
    BuildResult, CompilerCacheStats, ContainerReport, Run, Setup, Status, Target, Task, stage,
    steps::{build_dir, test_uv},
};
use crate::engine::EngineKind;
use crate::engine::process::shell_quote;
use crate::interrupt;
use crate::ui;

impl Run<'_> {
    /// Runs the tasks on `workers` threads; returns the results in build order and the
    /// environments' reports.
    pub(super) fn execute(
        self,
        workers: usize,
        engine_kind: EngineKind,
    ) -> (Vec<BuildResult>, Vec<ContainerReport>) {
        let run = self;
        let options = run.options;
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| run.worker());
            }
        });

        let mut results = run.results.into_inner().unwrap_or_default();
        // After an interrupt: what never started.
        for task in run.queue.into_inner().unwrap_or_default() {
            if let Task::Build(t, i) = task {
                let (interp, _) = &run.targets[t].interpreters[i];
                let mut result = BuildResult::new(interp);
                result.status = Status::Interrupted;
                result.error = Some(format!("not started: {}", interrupt::describe()));
                results.push(((t, i), result));
            }
        }
        results.sort_by_key(|(key, _)| *key);
        let builds: Vec<BuildResult> = results.into_iter().map(|(_, r)| r).collect();
        let mut containers = Vec::new();
        let interrupted = interrupt::requested();
        for target in &run.targets {
            let compiler_cache = compiler_cache_stats(target);
            if engine_kind != EngineKind::Host && !interrupted {
                give_back_caches(target);
            }
            let failed = target.failed.load(Ordering::SeqCst);
            let keep = failed && options.keep_container && !interrupted;
            let kept = match target.container.finish(keep) {
                Ok(Some(_)) => {
                    let workdir = target
                        .first_failed
                        .lock()
                        .ok()
                        .and_then(|f| f.clone())
                        .map_or_else(
                            || format!("{}/project", target.container.work_root()),
                            |id| format!("{}/builds/{id}/project", target.container.work_root()),
                        );
                    let enter = target.container.enter_command(&workdir);
                    if engine_kind == EngineKind::Host {
                        ui::message(&format!("kept the work directory for inspection: {enter}"));
                    } else {
                        ui::message(&format!(
                            "kept container `{name}` for inspection; enter it with:\n    {enter}\n  remove it with:\n    {engine_kind} rm -f {name}",
                            name = target.container.name()
                        ));
                    }
                    Some(enter)
                }
                Ok(None) => None,
                Err(err) => {
                    ui::message(&format!("warning: {err}"));
                    None
                }
            };
            let mut report = container_report(target, kept);
            report.compiler_cache = compiler_cache;
            containers.push(report);
        }
        (builds, containers)
    }

    fn worker(&self) {
        loop {
            let task = {
                let Ok(mut queue) = self.queue.lock() else {
                    return;
                };
                loop {
                    // After an interrupt nothing more starts; what is left is reported as such.
                    if queue.is_empty() || interrupt::requested() {
                        break None;
                    }
                    if let Some(pos) = queue.iter().position(|t| self.eligible(*t)) {
                        break queue.remove(pos);
                    }
                    queue = match self.wake.wait_timeout(queue, Duration::from_millis(200)) {
                        Ok((q, _)) => q,
                        Err(_) => return,
                    };
                }
            };
            let Some(task) = task else {
                return;
            };
            match task {
                Task::Setup(t) => {
                    let state = self.setup(t);
                    {
                        let _queue = self.queue.lock();
                        if let Ok(mut setup) = self.targets[t].setup.lock() {
                            *setup = state;
                        }
                    }
                    self.wake.notify_all();
                }
                Task::TestEnv(n) => self.tests.start_environment(n),
                Task::Build(t, i) => {
                    let mut result = self.build(t, i);
                    let target = &self.targets[t];
                    let (interpreter, b) = &target.interpreters[i];
                    let test_start = self.clock.now();
                    let built_at = (result.status == Status::Built)
                        .then(|| result.wheel.clone())
                        .flatten();
                    self.tests.after_build(
                        &stage::BuildContext {
                            container: &target.container,
                            interpreter,
                            build: &self.options.builds[*b],
                            cache_env: &target.cache_env,
                            pass: &self.pass[*b],
                            live: self.live,
                            uv: test_uv(target, &self.options.builds[*b]),
                            built_at: built_at.as_deref().map(|name| {
                                format!(
                                    "{}/repaired/{name}",
                                    build_dir(&target.container, &interpreter.identifier)
                                )
                            }),
                        },
                        &mut result,
                    );
                    if result.test.as_ref().is_some_and(|t| t.seconds > 0.0) {
                        result.timings.test = Some(self.clock.since(test_start));
                    }
                    if let Ok(mut results) = self.results.lock() {
                        results.push(((t, i), result));
                    }
                }
            }
        }
    }

    fn eligible(&self, task: Task) -> bool {
        match task {
            Task::Setup(_) | Task::TestEnv(_) => true,
            Task::Build(t, _) => self.targets[t]
                .setup
                .lock()
                .is_ok_and(|s| !matches!(*s, Setup::Pending)),
        }
    }
}

fn container_report(target: &Target, kept: Option<String>) -> ContainerReport {
    ContainerReport {
        arch: target.container.arch().as_str().to_owned(),
        image: target.container.image().to_owned(),
        name: target.container.name().to_owned(),
        platform: target.platform.clone(),
        ready_seconds: target.ready_seconds,
        setup_seconds: target.setup_seconds.lock().ok().and_then(|s| *s),
        log: target.setup_log.lock().ok().and_then(|s| s.clone()),
        available: target.available.clone(),
        installed: target.installed.clone(),
        install_seconds: target.install_seconds,
        compiler_cache: None,
        kept,
        timings: target.timings.lock().map(|t| *t).unwrap_or_default(),
    }
}

/// The compiler cache's counters of one environment (when ccache was in use there).
fn compiler_cache_stats(target: &Target) -> Option<CompilerCacheStats> {
    let ccache = target.ccache.as_ref()?;
    target.ccache_bin.lock().ok()?.as_ref()?;
    let text = target
        .container
        .capture(&format!(
            "CCACHE_DIR={} ccache --print-stats",
            shell_quote(&ccache.dir)
        ))
        .map_err(|err| debug!("ccache --print-stats: {err}"))
        .ok()?;
    let stats = parse_ccache_stats(&text)?;
    ui::message(&format!(
        "[{}] compiler cache: {} hits, {} misses{}",
        target.platform,
        stats.hits,
        stats.misses,
        stats
            .hit_percent()
            .map(|p| format!(" ({p:.0}% hit rate)"))
            .unwrap_or_default()
    ));
    Some(stats)
}

/// Files written into the mounted caches belong to whoever the container ran as (root); give
/// them to the owner of the mounted directory as the container sees it (the invoking user with a
/// rootful engine; root, i.e. the invoking user, with a rootless one).
fn give_back_caches(target: &Target) {
    crate::testing::env::hand_back_caches(&target.container, &target.cache_mounts);
}
