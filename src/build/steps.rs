//! The steps of one environment and one identifier: the set-up (project copied in,
//! `before-all`, the compiler cache), and the build (its own copy of the project,
//! `before-build`, the frontend, the repair, the copy-out).

use std::sync::atomic::Ordering;
use std::time::Instant;

use super::preflight::builds_with_uv;
use super::scripts::{ccache_script, frontend_command, repair_script};
use super::{
    BuildResult, CcacheSetup, IdentifierBuild, OutWheel, Reusable, ReusableWheel, Run, Setup,
    Status, Target, UvSetup, placeholders, report, stage, timings, uv,
};
use crate::config::identifier::Identifier;
use crate::engine::Container;
use crate::engine::container::RunEnd;
use crate::engine::interpreters::Interpreter;
use crate::engine::log::Log;
use crate::engine::process::shell_quote;
use crate::engine::project;
use crate::engine::steps::{Step, StepsEnd};
use crate::interrupt;
use crate::testing::session::human_duration;
use crate::ui;
use crate::ui::github;
use crate::wheel::filename::WheelFilename;

impl Run<'_> {
    /// `export` lines and `cd`: what every script in the environment starts with.
    pub(super) fn prelude(
        &self,
        target: &Target,
        build: &IdentifierBuild,
        path_dir: Option<&str>,
        identifier: Option<&str>,
        cwd: &str,
    ) -> String {
        let mut s = String::new();
        let ccache_bin = target.ccache_bin.lock().ok().and_then(|b| b.clone());
        if let (Some(bin), Some(ccache)) = (&ccache_bin, &target.ccache) {
            // ccache's masquerade directory first: `gcc` there is ccache, which runs the real one.
            s.push_str(&format!(
                "export PATH={}:\"$PATH\" CCACHE_DIR={} CCACHE_BASEDIR={} CCACHE_NOHASHDIR=1\n",
                shell_quote(bin),
                shell_quote(&ccache.dir),
                shell_quote(&format!("{}/builds", target.container.work_root()))
            ));
        }
        let uv = self.uv_for(target, build);
        if let Some(dir) = uv.and_then(|uv| uv.path_dir.as_deref()) {
            s.push_str(&format!("export PATH={}:\"$PATH\"\n", shell_quote(dir)));
        }
        if let Some(dir) = path_dir {
            s.push_str(&format!("export PATH={}:\"$PATH\"\n", shell_quote(dir)));
        }
        s.push_str(
            "export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore PIP_NO_INPUT=1 WHEELWRIGHT=1\n",
        );
        for (name, value) in &target.cache_env {
            s.push_str(&format!("export {name}={}\n", shell_quote(value)));
        }
        if let Some(id) = identifier {
            s.push_str(&format!("export WHEELWRIGHT_BUILD_IDENTIFIER={id}\n"));
        }
        for (name, value) in &build.environment {
            // The value is shell syntax on purpose: `$PATH`, `$(cmd)` and quotes work.
            s.push_str(&format!("export {name}={value}\n"));
        }
        if uv.is_some() {
            s.push_str(crate::testing::env::UV_SETTINGS_FROM_PIP);
        }
        s.push_str(&format!("cd {} || exit 1\n", shell_quote(cwd)));
        s
    }

    /// The environment's uv when `build`'s frontend allows it and uv serves its interpreter.
    pub(super) fn uv_for<'t>(
        &self,
        target: &'t Target,
        build: &IdentifierBuild,
    ) -> Option<&'t UvSetup> {
        target.uv.as_ref().filter(|_| builds_with_uv(build))
    }

    pub(super) fn setup(&self, t: usize) -> Setup {
        let target = &self.targets[t];
        let started = Instant::now();
        let path = self.logs_dir.join(format!("setup-{}.log", target.platform));
        let log = match Log::create(&path, &format!("[{}]", target.platform), self.live) {
            Ok(log) => log,
            Err(err) => {
                return self
                    .fail_setup(target, format!("cannot write `{}`: {err}", path.display()));
            }
        };
        if let Ok(mut p) = target.setup_log.lock() {
            *p = Some(path);
        }
        let _group = self.live.then(|| {
            github::on_actions()
                .then(|| github::Group::start(&format!("set up {}", target.platform)))
        });
        let root = target.container.work_root();
        let project_inside = format!("{root}/project");
        log.note(&format!(
            "copying `{}` to {}:{project_inside}",
            self.project.display(),
            target.container.name()
        ));
        let mut stats = project::TarStats::default();
        let copy_start = self.clock.now();
        let copied = target.container.copy_in(&project_inside, &mut |out| {
            stats = self.filter.write_tar(&self.project, out)?;
            Ok(())
        });
        if let Ok(mut t) = target.timings.lock() {
            t.setup = Some(self.clock.since(copy_start));
        }
        if let Err(err) = copied {
            let why = if interrupt::requested() {
                interrupt::describe()
            } else {
                err.to_string()
            };
            log.note(&why);
            log.close();
            log.replay(&format!("set up {}", target.platform));
            return self.fail_setup(target, why);
        }
        log.note(&format!(
            "copied {} files ({})",
            stats.files,
            report::human_size(stats.bytes)
        ));
        let mut result = Setup::Ready;
        // The container's first identifier decides before-all and its environment, as in
        // cibuildwheel.
        let first = target.interpreters.first().map_or(0, |(_, index)| *index);
        let first_build = &self.options.builds[first];
        if let Some(hook) = &first_build.before_all {
            let hook = placeholders(hook, &project_inside);
            let first_cpython = target
                .interpreters
                .iter()
                .map(|(interp, _)| interp)
                .find(|i| i.identifier.python.implementation == "cp")
                .or_else(|| target.interpreters.first().map(|(interp, _)| interp))
                .map(Interpreter::bin_dir);
            let script = format!(
                "{}{hook}\n",
                self.prelude(target, first_build, first_cpython, None, &project_inside)
            );
            let pidfile = format!("{root}/pids/before-all.pid");
            let hook_start = self.clock.now();
            let ran = self.run_planned(
                &target.container,
                &[("before-all", hook, script)],
                &self.pass[first],
                &log,
                &pidfile,
            );
            if let Ok(mut t) = target.timings.lock() {
                t.before_all = Some(self.clock.since(hook_start));
            }
            if let Err(why) = ran {
                result = Setup::Failed(why);
            }
        }
        if matches!(result, Setup::Ready) {
            if let Some(ccache) = &target.ccache {
                if let Err(why) = self.setup_ccache(target, ccache, &log) {
                    result = Setup::Failed(why);
                }
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        if let Ok(mut s) = target.setup_seconds.lock() {
            *s = Some(seconds);
        }
        match &result {
            Setup::Failed(why) if interrupt::requested() => {
                log.note(&format!("{why} after {seconds:.1}s"));
                log.close();
                self.fail_setup(target, why.clone())
            }
            Setup::Failed(why) => {
                log.note(&format!("{why} after {seconds:.1}s"));
                log.close();
                log.replay(&format!("set up {}", target.platform));
                let why = format!("{why}; log: {}", log.path().display());
                github::annotation(
                    github::Level::Error,
                    Some(&format!(
                        "wheelwright build: {} set-up failed",
                        target.platform
                    )),
                    None,
                    &format!("{why}\n{}", log.tail(20).join("\n")),
                );
                ui::message(&format!("[{}] {why}", target.platform));
                self.fail_setup(target, why)
            }
            _ => {
                log.note(&format!("ready after {seconds:.1}s"));
                log.close();
                log.replay(&format!("set up {}", target.platform));
                result
            }
        }
    }

    /// Finds ccache (after before-all, which may have installed it), else installs it when
    /// asked to; links the compilers to it and zeroes its statistics.
    pub(super) fn setup_ccache(
        &self,
        target: &Target,
        ccache: &CcacheSetup,
        log: &Log,
    ) -> Result<(), String> {
        let bin = format!("{}/ccache-bin", target.container.work_root());
        let script = ccache_script(ccache, &bin);
        let mut out = String::new();
        let result = target
            .container
            .run_bounded(&script, &[], log, None)
            .map(|end| matches!(end, RunEnd::Exited(s) if s.success()));
        let ok = result.map_err(|e| format!("compiler cache: {e}"))?;
        if ok {
            if let Ok(found) = target.container.capture(&format!(
                "test -x {}/cc -o -x {}/gcc && echo yes",
                shell_quote(&bin),
                shell_quote(&bin)
            )) {
                out = found;
            }
        }
        if out.trim() == "yes" {
            if let Ok(mut b) = target.ccache_bin.lock() {
                *b = Some(bin);
            }
            return Ok(());
        }
        if ccache.required {
            return Err(
                "compiler-cache is on but ccache is not in the build environment and could not be installed (see the set-up log; install it in before-all or set compiler-cache = \"auto\")".to_owned(),
            );
        }
        log.note("compiler cache: no ccache in this environment (compiler-cache auto): builds run without it");
        Ok(())
    }

    pub(super) fn fail_setup(&self, target: &Target, why: String) -> Setup {
        target.failed.store(true, Ordering::SeqCst);
        Setup::Failed(why)
    }

    pub(super) fn build(&self, t: usize, i: usize) -> BuildResult {
        let target = &self.targets[t];
        let (interp, index) = &target.interpreters[i];
        let id = interp.identifier.to_string();
        let started = Instant::now();
        let mut result = BuildResult::new(interp);
        result.timings.queued = Some(self.clock.since(0.0));
        if let Ok(setup) = target.setup.lock() {
            if let Setup::Failed(why) = &*setup {
                if interrupt::requested() {
                    result.status = Status::Interrupted;
                    result.error = Some(format!("not built: {}", interrupt::describe()));
                    return result;
                }
                result.error = Some(format!("not built: {why}"));
                if let Ok(mut first) = target.first_failed.lock() {
                    first.get_or_insert_with(|| id.clone());
                }
                return result;
            }
        }
        if let Some(reused) = self.reusable(target, &interp.identifier) {
            ui::message(&format!("[{id}] reusing `{}`", reused.name));
            result.status = Status::Reused;
            result.wheel = Some(reused.name);
            result.path = Some(reused.path);
            result.size = Some(reused.size);
            result.sha256 = Some(reused.sha256);
            return result;
        }
        let path = self.logs_dir.join(format!("{id}.log"));
        result.log = Some(path.clone());
        let log = match Log::create(&path, &format!("[{id}]"), self.live) {
            Ok(log) => log,
            Err(err) => {
                result.error = Some(format!("cannot write `{}`: {err}", path.display()));
                return self.finish_failed(target, result, None);
            }
        };
        let group = (self.live && github::on_actions())
            .then(|| github::Group::start(&format!("build {id}")));
        if !self.live {
            ui::message(&format!("[{id}] building"));
        }
        log.note(&format!(
            "building {id} with {} in {} ({})",
            interp.python,
            target.container.name(),
            target.container.image()
        ));
        let outcome = self.build_steps(target, interp, *index, &log, &mut result.timings);
        result.seconds = started.elapsed().as_secs_f64();
        match outcome {
            Ok(wheels) => {
                log.note(&format!("done in {:.1}s", result.seconds));
                log.close();
                drop(group);
                log.replay(&format!("build {id}"));
                if let Some(wheel) = wheels.into_iter().next() {
                    ui::message(&format!(
                        "[{id}] `{}` ({}) in {:.1}s",
                        wheel.name,
                        report::human_size(wheel.size),
                        result.seconds
                    ));
                    result.status = Status::Built;
                    result.wheel = Some(wheel.name);
                    result.path = Some(wheel.path);
                    result.size = Some(wheel.size);
                    result.sha256 = Some(wheel.sha256);
                }
                result
            }
            Err(_) if interrupt::requested() => {
                // Whatever the step said, the interrupt ended it.
                let why = interrupt::describe();
                log.note(&format!("{why} after {:.1}s", result.seconds));
                log.close();
                drop(group);
                ui::message(&format!("[{id}] {why}"));
                result.status = Status::Interrupted;
                result.error = Some(why);
                result
            }
            Err(why) => {
                log.note(&format!("{why} after {:.1}s", result.seconds));
                log.close();
                drop(group);
                log.replay(&format!("build {id} (failed)"));
                result.error = Some(why);
                self.finish_failed(target, result, Some(&log))
            }
        }
    }

    pub(super) fn finish_failed(
        &self,
        target: &Target,
        mut result: BuildResult,
        log: Option<&Log>,
    ) -> BuildResult {
        target.failed.store(true, Ordering::SeqCst);
        if let Ok(mut first) = target.first_failed.lock() {
            first.get_or_insert_with(|| result.identifier.clone());
        }
        let why = result.error.clone().unwrap_or_default();
        let log_hint = result
            .log
            .as_ref()
            .map(|p| format!("; log: {}", p.display()))
            .unwrap_or_default();
        ui::message(&format!("[{}] FAILED: {why}{log_hint}", result.identifier));
        let tail = log.map(|l| l.tail(20).join("\n")).unwrap_or_default();
        github::annotation(
            github::Level::Error,
            Some(&format!("wheelwright build: {} failed", result.identifier)),
            None,
            &format!("{why}{log_hint}\n{tail}"),
        );
        result.error = Some(why);
        result
    }

    /// A wheel built earlier in the same environment that serves `id` (abi3 for a newer
    /// CPython, or a pure-Python wheel): name, path, size.
    pub(super) fn reusable(&self, target: &Target, id: &Identifier) -> Option<OutWheel> {
        let wheels = target.reusable.lock().ok()?;
        wheels
            .iter()
            .find(|w| w.kind.serves(id))
            .map(|w| w.wheel.clone())
    }

    /// Runs `planned` steps (name, what the log shows, script) as one process with each
    /// step's time limit; returns the values the steps reported. An error names the failing step
    /// (and, for a timeout, the option that sets its limit).
    pub(super) fn run_planned(
        &self,
        container: &Container,
        planned: &[(&str, String, String)],
        pass: &[String],
        log: &Log,
        pidfile: &str,
    ) -> Result<Vec<String>, String> {
        let timeouts = self.options.timeouts;
        let limit = |step: &str| match step {
            "before-all" | "before-build" => (timeouts.hook, "--hook-timeout"),
            "repair" => (timeouts.repair, "--repair-timeout"),
            _ => (timeouts.build, "--build-timeout"),
        };
        let steps: Vec<Step> = planned
            .iter()
            .map(|(step, _, script)| Step {
                script: script.clone(),
                limit: limit(step).0,
            })
            .collect();
        let on_step = |i: usize| {
            if let Some((step, shown, _)) = planned.get(i) {
                log.note(&format!("{step}: {shown}"));
            }
        };
        let ran = container
            .run_steps(&steps, pass, log, pidfile, "", &on_step)
            .map_err(|err| format!("{}: {err}", planned[0].0))?;
        let name = |i: usize| planned[i.min(planned.len() - 1)].0;
        match ran.end {
            StepsEnd::Done => Ok(ran.reports.into_iter().map(|(_, v)| v).collect()),
            StepsEnd::Failed { step, status } => Err(format!("{} failed ({status})", name(step))),
            StepsEnd::TimedOut { step } => {
                let (limit, option) = limit(name(step));
                Err(format!(
                    "{} timed out after {} ({option}): killed",
                    name(step),
                    human_duration(limit)
                ))
            }
        }
    }

    pub(super) fn build_steps(
        &self,
        target: &Target,
        interp: &Interpreter,
        index: usize,
        log: &Log,
        spans: &mut timings::IdentifierTimings,
    ) -> Result<Vec<OutWheel>, String> {
        let options = &self.options.builds[index];
        let pass = &self.pass[index];
        let container = &target.container;
        let id = interp.identifier.to_string();
        let root = container.work_root();
        let dir = build_dir(container, &interp.identifier);
        let project = format!("{dir}/project");
        let dist = format!("{dir}/dist");
        let repaired = format!("{dir}/repaired");
        let copy = format!(
            "rm -rf {d} && mkdir -p {dist} {rep} && cp -a {src} {proj} || exit 1\n",
            d = shell_quote(&dir),
            dist = shell_quote(&dist),
            rep = shell_quote(&repaired),
            src = shell_quote(&format!("{root}/project")),
            proj = shell_quote(&project),
        );
        let prelude = self.prelude(target, options, Some(interp.bin_dir()), Some(&id), &project);
        let python = shell_quote(&interp.python);
        let pidfile = format!("{root}/pids/{id}.pid");
        // `ww_report` hands back the wheels a step left.
        let list = |dir: &str| {
            format!(
                "for f in {}/*.whl; do [ -f \"$f\" ] && ww_report \"${{f##*/}}\"; done; :\n",
                shell_quote(dir)
            )
        };
        let run_steps = |planned: &[(&str, String, String)]| {
            self.run_planned(container, planned, pass, log, &pidfile)
        };
        let build_start = self.clock.now();
        let mut planned: Vec<(&str, String, String)> = Vec::new();
        if let Some(hook) = &options.before_build {
            let hook = placeholders(hook, &project);
            let script = format!("{copy}{prelude}{hook}\n");
            planned.push(("before-build", hook, script));
        }
        let uv = self.uv_for(target, options);
        if options.frontend.tool.allows_uv() {
            match (uv, &target.uv_missing) {
                (Some(uv), _) => log.note(&format!("uv: {}", uv.describe)),
                (None, _) if !uv::supports(&interp.identifier.python) => log.note(&format!(
                    "uv is not used for {} (uv serves Python {}.{} and newer): pip and venv are used",
                    interp.identifier.python,
                    uv::OLDEST_PYTHON.0,
                    uv::OLDEST_PYTHON.1
                )),
                (None, Some(why)) => log.note(why),
                (None, None) => {}
            }
        }
        let frontend = frontend_command(options, &python, &dist, uv.is_some());
        let script = format!(
            "{}{prelude}( {frontend}\n) || exit $?\n{}",
            if planned.is_empty() {
                copy.as_str()
            } else {
                ""
            },
            list(&dist)
        );
        planned.push(("build", frontend, script));
        let built = run_steps(&planned);
        spans.build = Some(self.clock.since(build_start));
        let built = built?;
        let [wheel] = built.as_slice() else {
            return Err(format!(
                "the frontend should leave one wheel in {dist}, found {}",
                if built.is_empty() {
                    "none".to_owned()
                } else {
                    built.join(", ")
                }
            ));
        };
        let (shown, script) = repair_script(
            &options.repair,
            &target.repair_command,
            &format!("{dist}/{wheel}"),
            &repaired,
            &project,
        );
        let repair_start = self.clock.now();
        let names = run_steps(&[(
            "repair",
            shown,
            format!("{prelude}( {script}\n) || exit $?\n{}", list(&repaired)),
        )]);
        spans.repair = Some(self.clock.since(repair_start));
        let names = names?;
        if names.is_empty() {
            return Err("repair produced no wheel".to_owned());
        }
        let mut wheels = Vec::new();
        let copy_start = self.clock.now();
        for name in names {
            let dest = self.output_dir.join(&name);
            let copied = container
                .copy_out(&format!("{repaired}/{name}"), &dest)
                .map_err(|e| e.to_string())?;
            log.note(&format!(
                "copied to {} ({})",
                dest.display(),
                report::human_size(copied.size)
            ));
            let wheel = OutWheel {
                name: name.clone(),
                path: dest,
                size: copied.size,
                sha256: copied.sha256,
            };
            if let Ok(parsed) = name.parse::<WheelFilename>() {
                let kind = if parsed.is_pure() {
                    Some(Reusable::Pure)
                } else if parsed.abi_tags.iter().any(|a| a == "abi3") {
                    parsed
                        .python_tags
                        .iter()
                        .filter_map(|t| crate::config::identifier::PythonTag::parse(t))
                        .filter(|t| t.implementation == "cp" && t.major == 3)
                        .map(|t| t.minor)
                        .min()
                        .map(|minor| Reusable::Abi3 { minor })
                } else {
                    None
                };
                if let Some(kind) = kind {
                    if let Ok(mut reusable) = target.reusable.lock() {
                        reusable.push(ReusableWheel {
                            kind,
                            wheel: wheel.clone(),
                        });
                    }
                }
            }
            wheels.push(wheel);
        }
        spans.copy_out = Some(self.clock.since(copy_start));
        Ok(wheels)
    }
}

/// How the tests of `build` (built in `target`) make their environments: with uv only where
/// the frontend allows it; the provided uv, when the build environment got one, serves test
/// images without their own.
pub(super) fn test_uv(target: &Target, build: &IdentifierBuild) -> stage::UvChoice {
    if !build.frontend.tool.allows_uv() || !uv::supports(&build.identifier.python) {
        return stage::UvChoice::Never;
    }
    match &target.uv {
        Some(uv) if uv.path_dir.is_some() => stage::UvChoice::OnPathOr(uv.command.clone()),
        _ => stage::UvChoice::OnPath,
    }
}

/// Where `id` is built in `container` (`project/`, `dist/`, `repaired/` below it).
pub(super) fn build_dir(container: &Container, id: &Identifier) -> String {
    format!("{}/builds/{id}", container.work_root())
}
