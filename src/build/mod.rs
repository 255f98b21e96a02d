//! `wheelwright build`: every selected Python of a manylinux/musllinux image (or of this
//! machine), built in parallel, repaired by wheelwright itself, and copied out as soon as each is
//! done.
//!
//! The run, in order:
//! 1. check the inputs (project directory, `.dockerignore`, the wheelwright for containers:
//!    [`runtime`]);
//! 2. pick the engine (`auto`: docker if a daemon answers, else podman, else the host);
//! 3. per architecture, make sure the image is there (`--pull`), start one long-lived container
//!    and probe it (`uname -m`, libc, `linux32`, `/opt/python/*/bin/python`); i686 commands run
//!    under `linux32` when `uname -m` does not already say i686;
//! 4. select identifiers (`--build`/`--skip`, or `--only`); when nothing matches, say what exists;
//! 5. one pool of `--jobs` workers runs the tasks: per container a set-up task (copy the project
//!    in as a tar stream, `before-all` once), then per identifier a build task (own copy of the
//!    project, `before-build`, the frontend, `wheelwright repair` inside the container from the
//!    bind-mounted binary, stream the wheel out to a temporary name, rename). A build task
//!    waits for its container's set-up; a failure fails only that identifier (or, for `before-all`,
//!    that container's identifiers);
//! 6. remove the containers (a failed one is kept with `--keep-container`), hand the cache
//!    directories back to the invoking user, report.
//!
//! abi3 wheels are built by the oldest selected CPython of a container and reused by the newer
//! ones that start after it finished; a pure-Python wheel likewise serves every later identifier.
//!
//! Where each part lives: `options` (what a run is asked, the input checks), `preflight`
//! (steps 3–4: mounts, caches, the environments started and probed), `scheduler` (step 5's
//! pool and step 6), `steps` (what a set-up and a build task run), [`stage`] (the tests
//! after each build), [`timings`] and [`report`] (what is said afterwards).

pub mod caches;
mod options;
mod preflight;
pub mod report;
pub mod runtime;
mod scheduler;
mod scripts;
pub mod stage;
mod steps;
pub mod timings;
pub mod uv;
pub use options::{
    BuildError, BuildOptions, CONTAINER_BINARY_ENV, IdentifierBuild, StepTimeouts,
    check_output_dir, check_project, default_image, default_image_for, default_jobs,
};
pub use preflight::host_libc;
pub use scripts::placeholders;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Condvar, Mutex};

use tracing::debug;

use crate::config::identifier::Identifier;
use crate::config::values::EngineChoice;
pub use crate::config::values::{
    BuildFrontend, CompilerCache, ConfigSetting, FrontendTool, RepairCommand, RepairStep,
};
use crate::engine::interpreters::Interpreter;
use crate::engine::project::ProjectFilter;
use crate::engine::{self, Container, EngineKind};
use crate::platform::Arch;
use crate::ui;
use crate::ui::github;
use options::{check_name, io_error};
use preflight::{for_engine, resolve_path, selected_results};
pub use report::{BuildOutcome, BuildResult, CompilerCacheStats, ContainerReport, Status};

enum Setup {
    Pending,
    Ready,
    Failed(String),
}

enum Reusable {
    Pure,
    Abi3 { minor: u32 },
}

impl Reusable {
    /// Whether a wheel of this kind serves `id`: a pure wheel every identifier; an abi3 wheel
    /// for CPython 3.N every CPython 3.M ≥ N that is not free-threaded (no limited API there).
    fn serves(&self, id: &Identifier) -> bool {
        match self {
            Reusable::Pure => true,
            Reusable::Abi3 { minor } => {
                id.python.implementation == "cp"
                    && !id.python.free_threaded
                    && id.python.major == 3
                    && id.python.minor >= *minor
            }
        }
    }
}

struct ReusableWheel {
    kind: Reusable,
    wheel: OutWheel,
}

/// A wheel written to the output directory.
#[derive(Clone)]
struct OutWheel {
    name: String,
    path: PathBuf,
    size: u64,
    sha256: String,
}

/// One build environment and what is built in it.
struct Target {
    container: Container,
    platform: String,
    /// The interpreters to build with, each with the index of its [`IdentifierBuild`].
    interpreters: Vec<(Interpreter, usize)>,
    available: Vec<String>,
    /// Interpreters `manylinux-interpreters ensure` installed.
    installed: Vec<String>,
    install_seconds: Option<f64>,
    ready_seconds: f64,
    /// Where the environment's time went.
    timings: Mutex<timings::EnvironmentTimings>,
    /// The shell words that run wheelwright in the environment.
    repair_command: String,
    cache_env: Vec<(String, String)>,
    cache_mounts: Vec<String>,
    /// The compiler cache to set up (`None`: off, or no cache directory).
    ccache: Option<CcacheSetup>,
    /// The environment's uv (`None`: none, or no identifier's frontend allows it).
    uv: Option<UvSetup>,
    /// Why there is no uv although a frontend allows it (said in each build's log).
    uv_missing: Option<String>,
    /// Set by the set-up when ccache is in use: the directory of its compiler links.
    ccache_bin: Mutex<Option<String>>,
    setup: Mutex<Setup>,
    setup_seconds: Mutex<Option<f64>>,
    setup_log: Mutex<Option<PathBuf>>,
    failed: AtomicBool,
    first_failed: Mutex<Option<String>>,
    reusable: Mutex<Vec<ReusableWheel>>,
}

/// The uv of a build environment, used where the frontend allows it.
#[derive(Debug, Clone)]
struct UvSetup {
    /// How scripts run it: `uv` (the image's, on PATH) or the provided one's path.
    command: String,
    /// The directory to put first on PATH (the provided uv's), so `build --installer uv`
    /// finds it.
    path_dir: Option<String>,
    /// What the logs say about it.
    describe: String,
}

/// How one environment's compiler cache is set up.
struct CcacheSetup {
    /// `CCACHE_DIR` inside the environment (a subdirectory per platform of the mounted cache).
    dir: String,
    /// Install ccache with the image's package manager when it is missing (`on`, containers).
    install: bool,
    /// Fail the set-up when there is no ccache (`on`).
    required: bool,
}

#[derive(Clone, Copy)]
enum Task {
    /// Set up a build environment.
    Setup(usize),
    /// Start a test container (while builds run, before the first test needs it).
    TestEnv(usize),
    /// Build (then test) one identifier in one environment.
    Build(usize, usize),
}

struct Run<'a> {
    options: &'a BuildOptions,
    clock: timings::Clock,
    project: PathBuf,
    filter: ProjectFilter,
    output_dir: PathBuf,
    logs_dir: PathBuf,
    /// Per [`IdentifierBuild`]: the host variables passed by name (set here).
    pass: Vec<Vec<String>>,
    live: bool,
    targets: Vec<Target>,
    queue: Mutex<VecDeque<Task>>,
    wake: Condvar,
    results: Mutex<Vec<((usize, usize), BuildResult)>>,
    tests: stage::BuildStage,
}

impl BuildResult {
    /// A result with nothing but its identifier, status and interpreter.
    fn empty(identifier: String, status: Status, python: String) -> Self {
        BuildResult {
            identifier,
            status,
            python,
            wheel: None,
            path: None,
            size: None,
            sha256: None,
            seconds: 0.0,
            log: None,
            error: None,
            test: None,
            timings: timings::IdentifierTimings::default(),
        }
    }

    /// A failed result for `interp` that has nothing yet.
    fn new(interp: &Interpreter) -> Self {
        Self::empty(
            interp.identifier.to_string(),
            Status::Failed,
            interp.python.clone(),
        )
    }
}

/// Runs a build.
pub fn run(options: &BuildOptions) -> Result<BuildOutcome, BuildError> {
    let clock = timings::Clock::start();
    for build in &options.builds {
        for (name, _) in &build.environment {
            check_name("environment", name)?;
        }
        for name in &build.environment_pass {
            check_name("environment-pass", name)?;
        }
    }
    if options.builds.is_empty() {
        return Err(BuildError::Input(
            "nothing to build: no identifier is selected".to_owned(),
        ));
    }

    // Nothing is created before the inputs, the engine and the images have been checked.
    let output_dir = resolve_path(&options.output_dir);
    let logs_dir = output_dir.join("logs");
    if options.dry_run {
        // The configuration's selection (what `plan` computes for this slice): no engine is
        // asked and no container started.
        let host = options.engine == EngineChoice::Host;
        let narrowed = for_engine(options, host);
        return Ok(BuildOutcome {
            engine: None,
            output_dir,
            logs_dir,
            dry_run: true,
            containers: Vec::new(),
            builds: selected_results(&narrowed),
            timings: None,
        });
    }
    let project = check_project(&options.project_dir)?;
    // What a killed run left (a wheel half copied out, a manifest being written) goes first.
    for dir in [output_dir.clone(), output_dir.join(".wheelwright")] {
        for stale in crate::scratch::sweep(&dir) {
            ui::message(&format!(
                "removed `{}`, left by a run that was killed",
                stale.display()
            ));
        }
    }
    check_output_dir(&output_dir)?;
    let mut filter = ProjectFilter::for_project(&project).map_err(BuildError::Input)?;
    if let Ok(rel) = output_dir.strip_prefix(&project) {
        if !rel.as_os_str().is_empty() {
            filter.exclude(rel.to_path_buf());
        }
    }

    let selected = engine::select(options.engine)?;
    ui::message(&format!("engine: {}", selected.reason));
    let engine = selected.engine;
    let host = engine.kind() == EngineKind::Host;
    let narrowed = for_engine(options, host);
    let options = &narrowed;
    if options.builds.is_empty() {
        return Err(BuildError::Input(format!(
            "nothing to build: the host engine builds {} identifiers for this machine ({}) and none is selected",
            host_libc().tag_prefix(),
            Arch::host()
        )));
    }
    let shared = preflight::Shared::prepare(options, host)?;
    let targets = preflight::start_environments(&engine, options, &shared, host, &clock)?;

    let engine_kind = engine.kind();
    // Test images are checked (and pulled) before anything is written.
    let tests = stage::BuildStage::new(stage::StageSetup {
        engine: engine.clone(),
        cache_mounts: shared.test_mounts(),
        package_caches: shared.package_caches.clone(),
        container_args: options.container_args.clone(),
        pull: options.pull,
        builds: targets
            .iter()
            .flat_map(|t| t.interpreters.iter().map(|(_, b)| &options.builds[*b]))
            .collect(),
        project: &project,
        output_dir: &output_dir,
        logs_dir: &logs_dir,
    })
    .map_err(BuildError::Input)?;
    fs_err::create_dir_all(&logs_dir).map_err(io_error(format!(
        "cannot create the output directory `{}`",
        options.output_dir.display()
    )))?;
    let pass = passed_variables(options);
    let jobs = options.jobs.max(1);
    let mut tasks: VecDeque<Task> = (0..targets.len()).map(Task::Setup).collect();
    tasks.extend((0..tests.environments()).map(Task::TestEnv));
    for (t, target) in targets.iter().enumerate() {
        for i in 0..target.interpreters.len() {
            tasks.push_back(Task::Build(t, i));
        }
    }
    let workers = jobs.min(tasks.len());
    let run = Run {
        options,
        clock,
        project,
        filter,
        output_dir: output_dir.clone(),
        logs_dir: logs_dir.clone(),
        pass,
        live: !(github::on_actions() && jobs > 1),
        targets,
        queue: Mutex::new(tasks),
        wake: Condvar::new(),
        results: Mutex::new(Vec::new()),
        tests,
    };
    let (builds, containers) = run.execute(workers, engine_kind);
    let run_timings = timings::RunTimings::sum(
        clock.now(),
        &containers.iter().map(|c| &c.timings).collect::<Vec<_>>(),
        &builds.iter().map(|b| &b.timings).collect::<Vec<_>>(),
    );
    Ok(BuildOutcome {
        engine: Some(engine_kind),
        output_dir,
        logs_dir,
        dry_run: false,
        containers,
        builds,
        timings: Some(run_timings),
    })
}

/// Per identifier, the host variables passed by name: `SOURCE_DATE_EPOCH` and
/// `environment-pass`, those set here.
fn passed_variables(options: &BuildOptions) -> Vec<Vec<String>> {
    options
        .builds
        .iter()
        .map(|build| {
            let mut pass: Vec<String> = Vec::new();
            for name in std::iter::once("SOURCE_DATE_EPOCH")
                .chain(build.environment_pass.iter().map(String::as_str))
            {
                if std::env::var_os(name).is_some() && !pass.iter().any(|p| p == name) {
                    pass.push(name.to_owned());
                } else if name != "SOURCE_DATE_EPOCH" {
                    debug!("environment-pass {name}: not set here, not passed");
                }
            }
            pass
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::preflight::group_builds;
    use super::*;
    use crate::platform::Libc;

    #[test]
    fn variable_names() {
        assert!(check_name("--environment", "CFLAGS").is_ok());
        assert!(check_name("--environment", "_A1").is_ok());
        for bad in ["", "1A", "A-B", "A B", "A=B"] {
            let err = check_name("--environment", bad).expect_err(bad);
            assert!(err.to_string().contains("not a valid variable name"));
        }
    }

    #[test]
    fn projects_are_checked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = check_project(&dir.path().join("nope")).expect_err("missing");
        assert!(err.to_string().contains("does not exist"), "{err}");
        let err = check_project(dir.path()).expect_err("empty");
        assert!(
            err.to_string()
                .contains("neither pyproject.toml nor setup.py"),
            "{err}"
        );
        std::fs::write(dir.path().join("setup.py"), "").expect("write");
        assert!(check_project(dir.path()).is_ok());
    }

    #[test]
    fn paths_resolve_beyond_what_exists() {
        let dir = tempfile::tempdir().expect("tempdir");
        let real = std::fs::canonicalize(dir.path()).expect("canonical");
        assert_eq!(resolve_path(dir.path()), real);
        assert_eq!(resolve_path(&dir.path().join("a/b")), real.join("a/b"));
    }

    #[test]
    fn abi3_and_pure_wheels_serve_later_identifiers() {
        let id = |text: &str| text.parse::<Identifier>().expect(text);
        let abi3 = Reusable::Abi3 { minor: 9 };
        assert!(abi3.serves(&id("cp39-manylinux_x86_64")));
        assert!(abi3.serves(&id("cp313-manylinux_x86_64")));
        assert!(!abi3.serves(&id("cp38-manylinux_x86_64")));
        assert!(!abi3.serves(&id("cp313t-manylinux_x86_64")));
        assert!(!abi3.serves(&id("pp310-manylinux_x86_64")));
        assert!(Reusable::Pure.serves(&id("pp37-manylinux_i686")));
    }

    fn planned(id: &str) -> IdentifierBuild {
        IdentifierBuild::new(id.parse().expect(id))
    }

    #[test]
    fn identifiers_share_a_container_per_arch_image_and_arguments() {
        let mut builds = vec![
            planned("cp39-manylinux_x86_64"),
            planned("cp39-manylinux_i686"),
            planned("pp37-manylinux_x86_64"),
            planned("cp39-musllinux_x86_64"),
            planned("cp310-manylinux_x86_64"),
        ];
        builds[4].create_args = vec!["--gpus=all".to_owned()];
        let options = BuildOptions {
            builds,
            ..BuildOptions::default()
        };
        let groups: Vec<Vec<usize>> = group_builds(&options, false)
            .into_iter()
            .map(|g| g.members)
            .collect();
        // pp37 has its own default image (the same pinned manylinux_2_28 reference here).
        assert_eq!(groups, [vec![0, 2], vec![1], vec![3], vec![4]]);
        assert_eq!(
            group_builds(&options, true).len(),
            2,
            "the host: one per arch"
        );
    }

    #[test]
    fn the_host_engine_keeps_this_machines_identifiers() {
        let machine = Arch::host();
        let other = if machine == Arch::I686 {
            Arch::X86_64
        } else {
            Arch::I686
        };
        let here = format!("cp312-{}_{machine}", host_libc().tag_prefix());
        let builds = vec![
            planned(&here),
            planned(&format!("cp312-manylinux_{other}")),
            planned(&format!(
                "cp312-{}_{machine}",
                if host_libc() == Libc::Glibc {
                    "musllinux"
                } else {
                    "manylinux"
                }
            )),
        ];
        let options = BuildOptions {
            builds,
            ..BuildOptions::default()
        };
        let ids = |o: &BuildOptions| -> Vec<String> {
            o.builds.iter().map(|b| b.identifier.to_string()).collect()
        };
        assert_eq!(
            ids(&for_engine(&options, true)),
            std::slice::from_ref(&here)
        );
        assert_eq!(
            ids(&for_engine(&options, false)).len(),
            3,
            "containers build all"
        );
        let asked = BuildOptions {
            archs_given: true,
            ..options
        };
        assert_eq!(
            ids(&for_engine(&asked, true)),
            [here, format!("cp312-manylinux_{other}")],
            "asked-for architectures stay (and are refused with a message)"
        );
    }
}
