//! `wheelwright test`: test local wheels, or what an index offers, in fresh virtual
//! environments of every interpreter of a test image (or of this machine).
//!
//! Local wheels: each interpreter is asked for its supported tags and gets, per project, the
//! wheel pip would choose ([`super::select`]); which wheel goes to which interpreter is printed
//! first, and when no interpreter can install any wheel the run stops there and says so. From an
//! index, pip chooses (`pip download --no-deps --only-binary :all:`), and the report names the
//! file it took. Tests run one after the other, each with its own log.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::env::{self, TestEnv};
use super::select::{self, LocalWheel, SupportedTags};
use super::session::{Install, Session};
use super::{TestOptions, TestState};
use crate::config::identifier::{Identifier, PythonTag};
use crate::config::values::{EngineChoice, PullPolicy};
use crate::engine::interpreters;
use crate::engine::log::Log;
use crate::engine::process::shell_quote;
use crate::engine::project::ProjectFilter;
use crate::engine::{self, CONTAINER_WORK_ROOT, EngineError, EngineKind, Mount};
use crate::platform::{Arch, PlatformTag};
use crate::ui;
use crate::ui::github;

mod inputs;
mod report;

pub use inputs::{
    ArchOrigin, collect_wheels, default_log_dir, fit_arch_to_image, index_url, install_hint,
    parse_images,
};
use inputs::{sanitize, valid_name};
pub use report::{EnvironmentReport, InterpreterReport, StandaloneOutcome, StandaloneTest};

/// What is tested.
#[derive(Debug, Clone)]
pub enum Source {
    /// Wheel files and directories of wheels.
    Local(Vec<PathBuf>),
    /// Requirements resolved by pip from an index.
    Index {
        /// The Simple index URL.
        url: String,
        /// Further indexes (dependencies).
        extra_urls: Vec<String>,
        /// The requirements. Ex) `NEURON==7.8.11.2`
        specs: Vec<String>,
    },
}

/// Everything `wheelwright test` needs, resolved.
#[derive(Debug, Clone)]
pub struct StandaloneOptions {
    /// What to test.
    pub source: Source,
    /// Interpreters (paths in the environment); empty = discover.
    pub pythons: Vec<String>,
    /// The engine.
    pub engine: EngineChoice,
    /// Architectures; empty = those of the wheels (this machine's for pure wheels and indexes).
    pub archs: Vec<Arch>,
    /// The project (`{project}`, `test-sources`).
    pub project: PathBuf,
    /// The test settings.
    pub test: TestOptions,
    /// Test in this image (every architecture).
    pub image: Option<String>,
    /// Per-architecture images (win over `image`).
    pub images: BTreeMap<Arch, String>,
    /// `NAME=VALUE` assignments (shell syntax).
    pub environment: Vec<(String, String)>,
    /// Host variables passed by name.
    pub environment_pass: Vec<String>,
    /// Extra `run` arguments.
    pub container_args: Vec<String>,
    /// When to pull images.
    pub pull: PullPolicy,
    /// Where the logs go.
    pub log_dir: PathBuf,
    /// Host cache root for pip/uv caches in containers (`None`: the per-user cache).
    pub cache_dir: Option<PathBuf>,
}

impl StandaloneOptions {
    /// The image of `arch`, if one is set.
    #[must_use]
    pub fn image_for(&self, arch: Arch) -> Option<&str> {
        self.images
            .get(&arch)
            .or(self.image.as_ref())
            .map(String::as_str)
            .filter(|i| !i.trim().is_empty())
    }
}

/// Why `wheelwright test` could not run (failed tests are results, not errors).
#[derive(Debug, thiserror::Error)]
pub enum StandaloneError {
    /// Bad input: the message names the thing and the problem.
    #[error("{0}")]
    Input(String),
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

fn input(text: impl Into<String>) -> StandaloneError {
    StandaloneError::Input(text.into())
}

/// An environment with its selected interpreters.
struct Prepared {
    env: TestEnv,
    arch: Arch,
    interpreters: Vec<(Identifier, String, SupportedTags)>,
}

/// One test to run: in environment `env`, with its interpreter `interp`, installing `install`.
struct Planned {
    env: usize,
    interp: usize,
    install: PlannedInstall,
}

/// What a planned test installs.
enum PlannedInstall {
    /// The local wheel of this index.
    Wheel(usize),
    /// A requirement, resolved by pip from an index.
    Spec {
        url: String,
        extra_urls: Vec<String>,
        spec: String,
    },
}

/// Runs `wheelwright test`.
pub fn run(options: &StandaloneOptions) -> Result<StandaloneOutcome, StandaloneError> {
    let wheels = checked_inputs(options)?;
    let has_images = options.image.is_some() || !options.images.is_empty();
    let selected = match options.engine {
        EngineChoice::Auto if !has_images => engine::Selected {
            engine: Arc::new(engine::HostEngine),
            reason: "host (no --image given)".to_owned(),
        },
        choice => engine::select(choice)?,
    };
    ui::message(&format!("engine: {}", selected.reason));
    let engine = selected.engine;
    let host = engine.kind() == EngineKind::Host;
    if host && has_images {
        return Err(input(
            "--image needs a container engine (--engine docker or podman); the host engine tests with this machine's interpreters",
        ));
    }
    let archs = test_archs(options, &wheels, engine.as_ref(), host)?;

    // Mounts and environment for containers: the pip and uv caches.
    let caches = if host {
        Caches::default()
    } else {
        caches(options)?
    };
    let exports = env::exports(&caches.env, &options.environment);
    let pass: Vec<String> = options
        .environment_pass
        .iter()
        .filter(|n| std::env::var_os(n).is_some())
        .cloned()
        .collect();
    let project = project_dir(options)?;

    // Start and probe the environments, one per architecture, side by side.
    let started: Vec<Result<Prepared, StandaloneError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = archs
            .iter()
            .map(|arch| {
                let (engine, caches) = (&engine, &caches);
                scope.spawn(move || -> Result<Prepared, StandaloneError> {
                    let image = if host {
                        "host".to_owned()
                    } else {
                        let image = options.image_for(*arch).unwrap_or_default().to_owned();
                        engine.prepare_image(&image, *arch, options.pull)?;
                        image
                    };
                    let env = env::start(
                        engine.as_ref(),
                        &image,
                        *arch,
                        &caches.mounts,
                        &options.container_args,
                    )?;
                    let arch = if host {
                        Arch::from_machine(&env.probe.machine).unwrap_or(*arch)
                    } else {
                        *arch
                    };
                    let interpreters = select_interpreters(&env, options, arch, engine.kind())?;
                    Ok(Prepared {
                        env,
                        arch,
                        interpreters,
                    })
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(input("starting a test environment panicked")))
            })
            .collect()
    });
    let prepared: Vec<Prepared> = started.into_iter().collect::<Result<_, _>>()?;
    let environments = environment_reports(&prepared);
    announce(&prepared, host);

    let (plan, untested) = plan_tests(&options.source, &wheels, &prepared, host)?;

    fs_err::create_dir_all(&options.log_dir)
        .map_err(|e| input(format!("cannot create the log directory: {e}")))?;
    let logs_dir =
        std::fs::canonicalize(&options.log_dir).unwrap_or_else(|_| options.log_dir.clone());
    copy_in(&prepared, &plan, &wheels, project.as_deref())?;

    let several_projects = {
        let projects: BTreeSet<String> = match &options.source {
            Source::Local(_) => wheels.iter().map(LocalWheel::project).collect(),
            Source::Index { specs, .. } => specs.iter().cloned().collect(),
        };
        projects.len() > 1
    };
    let index = match &options.source {
        Source::Index { url, .. } => Some(url.clone()),
        Source::Local(_) => None,
    };
    // The tests run side by side, one per CPU (each in its own directory of its environment);
    // on GitHub with more than one at a time, each log is shown in its group when it ends.
    let jobs = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(plan.len())
        .max(1);
    let tests_run = TestsRun {
        options,
        wheels: &wheels,
        prepared: &prepared,
        project: project.is_some(),
        exports: &exports,
        pass: &pass,
        logs_dir: &logs_dir,
        several_projects,
        live: !(github::on_actions() && jobs > 1),
    };
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done: std::sync::Mutex<Vec<(usize, Result<StandaloneTest, StandaloneError>)>> =
        std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                loop {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(planned) = plan.get(n) else {
                        return;
                    };
                    let result = tests_run.test(n, planned);
                    if let Ok(mut done) = done.lock() {
                        done.push((n, result));
                    }
                }
            });
        }
    });
    let mut done = done
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    done.sort_by_key(|(n, _)| *n);
    let mut tests = Vec::new();
    for (_, result) in done {
        tests.push(result?);
    }

    if !host {
        let dirs: Vec<String> = caches.mounts.iter().map(|m| m.target.clone()).collect();
        for p in &prepared {
            env::hand_back_caches(&p.env.container, &dirs);
        }
    }
    for p in &prepared {
        if let Err(err) = p.env.container.finish(false) {
            ui::message(&format!("warning: {err}"));
        }
    }
    Ok(StandaloneOutcome {
        version: 1,
        engine: engine.kind(),
        index,
        logs_dir,
        environments,
        tests,
        untested,
    })
}

/// The checks that need nothing started: something to run, valid test sources and variable
/// names, requirements for an index; the local wheels (none for an index).
fn checked_inputs(options: &StandaloneOptions) -> Result<Vec<LocalWheel>, StandaloneError> {
    if !options.test.enabled() {
        return Err(input(
            "nothing to run: give --test-command (e.g. `python -c \"import yourpackage\"`)",
        ));
    }
    options.test.check_sources().map_err(input)?;
    for (name, _) in &options.environment {
        if !valid_name(name) {
            return Err(input(format!(
                "--environment: `{name}` is not a valid variable name"
            )));
        }
    }
    match &options.source {
        Source::Local(paths) => collect_wheels(paths),
        Source::Index { specs, .. } => {
            if specs.is_empty() {
                return Err(input(
                    "--index needs at least one requirement (e.g. `NEURON==7.8.11.2`)",
                ));
            }
            Ok(Vec::new())
        }
    }
}

/// The architectures to test: `--arch`, else those of the wheels (this machine's for pure
/// wheels and indexes); this machine's only with the host engine; fitted to the local images.
fn test_archs(
    options: &StandaloneOptions,
    wheels: &[LocalWheel],
    engine: &dyn engine::Engine,
    host: bool,
) -> Result<Vec<Arch>, StandaloneError> {
    let mut archs: Vec<Arch> = options.archs.clone();
    let mut arch_origin = ArchOrigin::Flag;
    if archs.is_empty() {
        let tagged: Vec<Option<Arch>> = wheels
            .iter()
            .map(|w| {
                w.filename
                    .platform_tags
                    .iter()
                    .find_map(PlatformTag::suffix_arch)
            })
            .collect();
        arch_origin = if tagged.iter().any(Option::is_some) {
            ArchOrigin::Wheels
        } else {
            ArchOrigin::Default
        };
        // Pure wheels are tested on this machine's architecture.
        let found: BTreeSet<Arch> = tagged
            .into_iter()
            .map(|arch| arch.unwrap_or_else(Arch::host))
            .collect();
        archs = if found.is_empty() {
            vec![Arch::host()]
        } else {
            found.into_iter().collect()
        };
    }
    if host {
        let machine = Arch::host();
        if !options.archs.is_empty() && options.archs.iter().any(|a| *a != machine) {
            return Err(input(format!(
                "the host engine tests only this machine's architecture ({machine}); other architectures need --engine docker or podman and --image"
            )));
        }
        return Ok(vec![machine]);
    }
    for arch in &mut archs {
        let Some(image) = options.image_for(*arch) else {
            return Err(input(format!(
                "no image to test {arch} in: give --image IMAGE or --image {arch}=IMAGE"
            )));
        };
        let local = engine.local_image_platform(image);
        let fitted =
            fit_arch_to_image(*arch, arch_origin, image, local.as_deref()).map_err(input)?;
        if fitted != *arch {
            ui::message(&format!(
                "`{}` is a {} image here: testing {fitted} in it (pass --arch to choose)",
                ui::untrusted(image),
                local.as_deref().unwrap_or_default()
            ));
            *arch = fitted;
        }
    }
    archs.sort();
    archs.dedup();
    Ok(archs)
}

/// The containers' pip and uv caches: their mounts and the variables that point the tools at
/// them.
#[derive(Default)]
struct Caches {
    mounts: Vec<Mount>,
    env: Vec<(String, String)>,
}

/// The pip and uv caches of the containers under `--cache-dir`, else the per-user cache (none
/// when there is neither).
fn caches(options: &StandaloneOptions) -> Result<Caches, StandaloneError> {
    let mut mounts = Vec::new();
    let mut cache_env = Vec::new();
    if let Some(root) = options
        .cache_dir
        .clone()
        .or_else(crate::engine::default_cache_dir)
    {
        for (name, var) in [("pip", "PIP_CACHE_DIR"), ("uv", "UV_CACHE_DIR")] {
            let dir = root.join(name);
            fs_err::create_dir_all(&dir)
                .map_err(|e| input(format!("cannot create the cache directory: {e}")))?;
            let dir = std::fs::canonicalize(&dir)
                .map_err(|e| input(format!("cannot resolve `{}`: {e}", dir.display())))?;
            let target = format!("{CONTAINER_WORK_ROOT}/cache/{name}");
            mounts.push(Mount {
                host: dir,
                target: target.clone(),
                read_only: false,
            });
            cache_env.push((var.to_owned(), target));
            if var == "UV_CACHE_DIR" {
                let (name, value) = env::UV_LINK_MODE_FOR_MOUNTED_CACHE;
                cache_env.push((name.to_owned(), value.to_owned()));
            }
        }
    }
    Ok(Caches {
        mounts,
        env: cache_env,
    })
}

/// The project directory, resolved, when the tests use it (`test-sources`, `{project}` or
/// `{package}` in the commands).
fn project_dir(options: &StandaloneOptions) -> Result<Option<PathBuf>, StandaloneError> {
    let needs_project = !options.test.sources.is_empty()
        || [
            options.test.command.as_deref(),
            options.test.before_test.as_deref(),
        ]
        .into_iter()
        .flatten()
        .any(|c| c.contains("{project}") || c.contains("{package}"));
    if !needs_project {
        return Ok(None);
    }
    let dir = &options.project;
    if !dir.is_dir() {
        return Err(input(format!(
            "--project `{}` is not a directory (the test command uses {{project}})",
            dir.display()
        )));
    }
    std::fs::canonicalize(dir)
        .map(Some)
        .map_err(|e| input(format!("cannot resolve `{}`: {e}", dir.display())))
}

fn environment_reports(prepared: &[Prepared]) -> Vec<EnvironmentReport> {
    prepared
        .iter()
        .map(|p| EnvironmentReport {
            arch: p.arch.as_str().to_owned(),
            image: p.env.container.image().to_owned(),
            name: p.env.container.name().to_owned(),
            interpreters: p
                .interpreters
                .iter()
                .map(|(id, python, tags)| InterpreterReport {
                    identifier: id.to_string(),
                    python: python.clone(),
                    best_tag: tags.best().map(str::to_owned),
                })
                .collect(),
        })
        .collect()
}

/// One line per environment: where it runs and its interpreters.
fn announce(prepared: &[Prepared], host: bool) {
    for p in prepared {
        ui::message(&format!(
            "[{}] {} `{}`{}: {}",
            p.arch,
            if host { "work directory" } else { "container" },
            p.env.container.name(),
            if host {
                String::new()
            } else {
                format!(" from `{}`", p.env.container.image())
            },
            p.interpreters
                .iter()
                .map(|(id, python, tags)| format!(
                    "{} `{python}` ({})",
                    id.python,
                    tags.best().unwrap_or("no tags")
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
}

/// What runs where, and the local wheels no interpreter here can install. Local wheels: per
/// environment, the wheel pip would choose for each interpreter (which wheel goes where is
/// printed); none at all installable is an error that lists the wheels and interpreters and
/// says what to try. An index: every requirement with every interpreter.
fn plan_tests(
    source: &Source,
    wheels: &[LocalWheel],
    prepared: &[Prepared],
    host: bool,
) -> Result<(Vec<Planned>, Vec<String>), StandaloneError> {
    let mut plan: Vec<Planned> = Vec::new();
    let mut untested = Vec::new();
    match source {
        Source::Local(_) => {
            let mut matched = vec![Vec::<String>::new(); wheels.len()];
            for (e, p) in prepared.iter().enumerate() {
                let tags: Vec<SupportedTags> =
                    p.interpreters.iter().map(|(_, _, t)| t.clone()).collect();
                for (w, wheel) in wheels.iter().enumerate() {
                    for (i, t) in tags.iter().enumerate() {
                        if t.rank(wheel).is_some() {
                            matched[w]
                                .push(format!("{} `{}`", p.interpreters[i].0, p.interpreters[i].1));
                        }
                    }
                }
                for choice in select::choose(wheels, &tags).map_err(|e| input(e.to_string()))? {
                    plan.push(Planned {
                        env: e,
                        interp: choice.interpreter,
                        install: PlannedInstall::Wheel(choice.wheel),
                    });
                }
            }
            let mut lines = Vec::new();
            for (wheel, who) in wheels.iter().zip(&matched) {
                if who.is_empty() {
                    lines.push(format!(
                        "  `{}`: no interpreter here can install it",
                        wheel.name
                    ));
                    untested.push(wheel.name.clone());
                } else {
                    let chosen: Vec<String> = plan
                        .iter()
                        .filter(|pl| matches!(pl.install, PlannedInstall::Wheel(w) if wheels[w].name == wheel.name))
                        .map(|pl| prepared[pl.env].interpreters[pl.interp].0.to_string())
                        .collect();
                    lines.push(format!(
                        "  `{}`: installable by {}; tested with {}",
                        wheel.name,
                        who.join(", "),
                        if chosen.is_empty() {
                            "none (a better wheel of the project was chosen)".to_owned()
                        } else {
                            chosen.join(", ")
                        }
                    ));
                }
            }
            if plan.is_empty() {
                return Err(nothing_installable(wheels, prepared, host));
            }
            ui::message(&format!("wheels:\n{}", lines.join("\n")));
        }
        Source::Index {
            url,
            extra_urls,
            specs,
        } => {
            for (e, p) in prepared.iter().enumerate() {
                for i in 0..p.interpreters.len() {
                    for spec in specs {
                        plan.push(Planned {
                            env: e,
                            interp: i,
                            install: PlannedInstall::Spec {
                                url: url.clone(),
                                extra_urls: extra_urls.clone(),
                                spec: spec.clone(),
                            },
                        });
                    }
                }
            }
        }
    }
    Ok((plan, untested))
}

/// The error when no interpreter here can install any of the local wheels: the wheels with
/// their tags, the interpreters with what they support, and what to try.
fn nothing_installable(
    wheels: &[LocalWheel],
    prepared: &[Prepared],
    host: bool,
) -> StandaloneError {
    let interpreters: Vec<String> = prepared
        .iter()
        .flat_map(|p| {
            p.interpreters.iter().map(|(id, python, tags)| {
                format!(
                    "  {id} `{python}` in `{}` supports {}",
                    p.env.container.image(),
                    tags.best().map_or_else(
                        || "no tags (it did not answer)".to_owned(),
                        |b| format!("`{b}` and less specific tags"),
                    )
                )
            })
        })
        .collect();
    let wheel_archs: BTreeSet<Arch> = wheels
        .iter()
        .filter_map(|w| {
            w.filename
                .platform_tags
                .iter()
                .find_map(PlatformTag::suffix_arch)
        })
        .collect();
    let env_archs: Vec<Arch> = prepared.iter().map(|p| p.arch).collect();
    input(format!(
        "{} be installed by any interpreter here:\n{}\ninterpreters:\n{}\n{}",
        if wheels.len() == 1 {
            "the wheel cannot".to_owned()
        } else {
            format!("none of the {} wheels can", wheels.len())
        },
        wheels
            .iter()
            .map(|w| format!("  `{}` (tags {})", w.name, w.tags().join(", ")))
            .collect::<Vec<_>>()
            .join("\n"),
        interpreters.join("\n"),
        install_hint(&wheel_archs, &env_archs, host)
    ))
}

/// Copies the chosen wheels and the project into each environment.
fn copy_in(
    prepared: &[Prepared],
    plan: &[Planned],
    wheels: &[LocalWheel],
    project: Option<&Path>,
) -> Result<(), StandaloneError> {
    for (e, p) in prepared.iter().enumerate() {
        let root = p.env.container.work_root().to_owned();
        let mut files: Vec<(&Path, &str)> = Vec::new();
        for pl in plan.iter().filter(|pl| pl.env == e) {
            if let PlannedInstall::Wheel(w) = pl.install {
                if !files.iter().any(|(_, n)| *n == wheels[w].name) {
                    files.push((&wheels[w].path, &wheels[w].name));
                }
            }
        }
        if !files.is_empty() {
            env::copy_files(&p.env.container, &format!("{root}/wheels"), &files)?;
        }
        if let Some(project) = project {
            let filter = ProjectFilter::for_project(project).map_err(input)?;
            p.env
                .container
                .copy_in(&format!("{root}/project"), &mut |out| {
                    filter.write_tar(project, out).map(|_| ())
                })?;
        }
    }
    Ok(())
}

/// What every test of a run shares.
struct TestsRun<'a> {
    options: &'a StandaloneOptions,
    wheels: &'a [LocalWheel],
    prepared: &'a [Prepared],
    /// Whether the project was copied in.
    project: bool,
    exports: &'a str,
    pass: &'a [String],
    logs_dir: &'a Path,
    /// Whether the tests are of more than one project (the project goes into the log names).
    several_projects: bool,
    /// Whether each test's output streams as it comes (else its log is shown when it ends).
    live: bool,
}

impl TestsRun<'_> {
    /// Runs the `n`th planned test with its own log, reporting how it went.
    fn test(&self, n: usize, planned: &Planned) -> Result<StandaloneTest, StandaloneError> {
        let p = &self.prepared[planned.env];
        let (identifier, python, _) = &p.interpreters[planned.interp];
        let root = p.env.container.work_root();
        let (install, label, spec) = match &planned.install {
            PlannedInstall::Wheel(w) => (
                Install::Wheel {
                    path: format!("{root}/wheels/{}", self.wheels[*w].name),
                },
                self.wheels[*w].project(),
                None,
            ),
            PlannedInstall::Spec {
                url,
                extra_urls,
                spec,
            } => (
                Install::Index {
                    url: url.clone(),
                    extra_urls: extra_urls.clone(),
                    spec: spec.clone(),
                },
                sanitize(spec),
                Some(spec.clone()),
            ),
        };
        let id = identifier.to_string();
        let file = if self.several_projects {
            format!("test-{id}-{label}.log")
        } else {
            format!("test-{id}.log")
        };
        let log_path = self.logs_dir.join(file);
        let log = Log::create(&log_path, &format!("[{id}]"), self.live)
            .map_err(|e| input(format!("cannot write `{}`: {e}", log_path.display())))?;
        let what = match &install {
            Install::Wheel { path } => format!("`{}`", path.rsplit('/').next().unwrap_or(path)),
            Install::Index { spec, url, .. } => format!("`{spec}` from {url}"),
        };
        let title = format!("test {id}: {what}");
        let group = self.live.then(|| github::Group::start(&title));
        if !self.live {
            ui::message(&format!("[{id}] testing {what}"));
        }
        log.note(&format!(
            "testing {what} with {python} in {} ({})",
            p.env.container.name(),
            p.env.container.image()
        ));
        let session = Session {
            container: &p.env.container,
            python: python.clone(),
            install,
            options: &self.options.test,
            project: self.project.then(|| format!("{root}/project")),
            exports: self.exports.to_owned(),
            pass: self.pass,
            work: format!("{root}/test-{n}"),
            uv: crate::testing::session::UvChoice::OnPath,
        };
        let mut report = session.run(&log);
        log.close();
        drop(group);
        log.replay(&title);
        report.log = Some(log_path.clone());
        match report.status {
            TestState::Passed => ui::message(&format!(
                "[{id}] passed in {:.1}s ({})",
                report.seconds,
                report.wheel.as_deref().unwrap_or_default()
            )),
            _ => {
                let why = report.message.clone().unwrap_or_default();
                ui::message(&format!(
                    "[{id}] {}: {why}; log: {}",
                    report.word(),
                    log_path.display()
                ));
                github::annotation(
                    github::Level::Error,
                    Some(&format!("wheelwright test: {id} {}", report.word())),
                    None,
                    &format!(
                        "{why}; log: {}\n{}",
                        log_path.display(),
                        report.tail.join("\n")
                    ),
                );
            }
        }
        Ok(StandaloneTest {
            identifier: id,
            spec,
            report,
        })
    }
}

/// The interpreters to test with in `env`, each with its supported tags.
fn select_interpreters(
    env: &TestEnv,
    options: &StandaloneOptions,
    arch: Arch,
    kind: EngineKind,
) -> Result<Vec<(Identifier, String, SupportedTags)>, StandaloneError> {
    let libc = env.probe.libc;
    let mut chosen: Vec<(PythonTag, String)> = Vec::new();
    if options.pythons.is_empty() {
        let opt: Vec<&(PythonTag, String)> = env
            .pythons
            .iter()
            .filter(|(_, p)| p.starts_with("/opt/python/"))
            .collect();
        let pool: Vec<&(PythonTag, String)> = if opt.is_empty() {
            env.pythons.iter().collect()
        } else {
            opt
        };
        for (tag, path) in pool {
            if !chosen.iter().any(|(t, _)| t == tag) {
                chosen.push((tag.clone(), path.clone()));
            }
        }
        if chosen.is_empty() {
            return Err(input(format!(
                "no Python interpreters in `{}`: nothing at /opt/python/*/bin/python and no python3 on PATH; pass --python PATH",
                env.container.image()
            )));
        }
    } else {
        let text = env
            .container
            .capture(&interpreters::tag_script(&options.pythons))?;
        let (found, failed) = interpreters::parse_tags(&text, &options.pythons, libc, arch);
        if let Some(bad) = failed.first() {
            return Err(input(format!(
                "--python `{bad}` does not run as a Python interpreter {}",
                if kind == EngineKind::Host {
                    "on this machine".to_owned()
                } else {
                    format!("in `{}`", env.container.image())
                }
            )));
        }
        chosen = found
            .into_iter()
            .map(|i| (i.identifier.python, i.python))
            .collect();
    }
    let mut out = Vec::new();
    for (tag, python) in chosen {
        let text = env
            .container
            .capture(&format!(
                "{} -c {}",
                shell_quote(&python),
                shell_quote(select::SYS_TAGS_CODE)
            ))
            .map_err(|e| {
                input(format!(
                    "cannot ask `{python}` for its supported tags (it needs pip or packaging): {e}"
                ))
            })?;
        out.push((
            Identifier {
                python: tag,
                libc,
                arch,
            },
            python,
            SupportedTags::parse(&text),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
