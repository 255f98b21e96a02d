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

pub mod caches;
pub mod report;
pub mod runtime;
mod scripts;
pub mod stage;
pub mod timings;
pub mod uv;
pub use scripts::placeholders;
use scripts::{ccache_script, frontend_command, parse_ccache_stats, repair_script};

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use tracing::debug;

use crate::config::identifier::Identifier;
use crate::config::image;
pub use crate::config::values::{
    BuildFrontend, CompilerCache, ConfigSetting, FrontendTool, RepairCommand, RepairStep,
};
use crate::config::values::{EngineChoice, PullPolicy};
use crate::engine::container::{Deadline, RunEnd};
use crate::engine::default_cache_dir;
use crate::engine::interpreters::{self, Interpreter};
use crate::engine::log::Log;
use crate::engine::process::{find_program, shell_quote};
use crate::engine::project::{self, ProjectFilter};
use crate::engine::{
    self, CONTAINER_WORK_ROOT, Container, ContainerSpec, EngineError, EngineKind, Mount,
};
use crate::interrupt;
use crate::platform::Arch;
use crate::platform::Libc;
use crate::testing::session::human_duration;
use crate::ui;
use crate::ui::github;
use crate::wheel::filename::WheelFilename;
pub use report::{BuildOutcome, BuildResult, CompilerCacheStats, ContainerReport, Status};

/// The environment variable naming a static wheelwright binary for the containers.
pub const CONTAINER_BINARY_ENV: &str = "WHEELWRIGHT_CONTAINER_BINARY";

/// What one identifier is built with: its options after the configuration's overrides
/// (`Settings::for_identifier`), in the form the build needs.
#[derive(Debug, Clone)]
pub struct IdentifierBuild {
    /// Ex) `cp312-manylinux_x86_64`
    pub identifier: Identifier,
    /// The build image reference (short names already resolved); ignored by the host engine.
    pub image: String,
    /// `container-engine`'s `create_args`: extra arguments for the container that builds it
    /// (identifiers with other arguments get a container of their own).
    pub create_args: Vec<String>,
    /// Run once per container before the builds (placeholders `{project}`, `{package}`); a
    /// container runs the `before-all` of its first identifier, as cibuildwheel does.
    pub before_all: Option<String>,
    /// Run before this build in its copy of the project.
    pub before_build: Option<String>,
    /// `NAME=VALUE` assignments, VALUE evaluated by the build environment's shell, in order.
    pub environment: Vec<(String, String)>,
    /// Host variables passed through by name.
    pub environment_pass: Vec<String>,
    /// The build frontend and its extra arguments.
    pub frontend: BuildFrontend,
    /// PEP 517 config settings.
    pub config_settings: Vec<ConfigSetting>,
    /// The repair steps (the built-in repair by default; none: the wheel is copied as built).
    pub repair: RepairCommand,
    /// The test stage after the repair (no `test-command`: no test).
    pub test: crate::testing::TestOptions,
    /// The image the wheel is tested in (`None`: the build environment).
    pub test_image: Option<String>,
    /// `test-skip` matches: built, not tested.
    pub test_skipped: bool,
}

impl IdentifierBuild {
    /// An identifier with the defaults: the default image, the `build` frontend, the
    /// built-in repair, no hooks.
    #[must_use]
    pub fn new(identifier: Identifier) -> Self {
        IdentifierBuild {
            image: default_image_for(&identifier),
            identifier,
            create_args: Vec::new(),
            before_all: None,
            before_build: None,
            environment: Vec::new(),
            environment_pass: Vec::new(),
            frontend: BuildFrontend {
                tool: FrontendTool::Default,
                args: Vec::new(),
            },
            config_settings: Vec::new(),
            repair: RepairCommand::built_in(),
            test: crate::testing::TestOptions::default(),
            test_image: None,
            test_skipped: false,
        }
    }
}

/// Everything a build run needs, resolved (`commands::build` fills it from the configuration).
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The project (has `pyproject.toml` or `setup.py`).
    pub project_dir: PathBuf,
    /// Where the wheels go (created if needed); logs go to its `logs/`.
    pub output_dir: PathBuf,
    /// The engine.
    pub engine: EngineChoice,
    /// The identifiers the configuration selects, in build order, each with its options.
    pub builds: Vec<IdentifierBuild>,
    /// Whether the selection is `only` one identifier: then an identifier missing from its
    /// image is an error (otherwise a warning).
    pub only: bool,
    /// Whether the architectures were asked for (`archs` other than `auto`/`native`, or
    /// `only`). The host engine refuses foreign ones then; otherwise it builds this machine's
    /// identifiers of the selection (its architecture and C library).
    pub archs_given: bool,
    /// Parallel tasks.
    pub jobs: usize,
    /// Keep a container in which something failed (and print how to enter it).
    pub keep_container: bool,
    /// When to pull images.
    pub pull: PullPolicy,
    /// Only list what would be built (no engine, no container).
    pub dry_run: bool,
    /// Extra arguments for the engine's `run` of every container (`--network=host`,
    /// `-v a:b:ro`), after each identifier's `create_args`.
    pub container_args: Vec<String>,
    /// Interpreters to use instead of discovering `/opt/python/*` (paths in the environment).
    pub pythons: Vec<String>,
    /// The wheelwright for the containers (else the running one); static or dynamic.
    pub container_binary: Option<PathBuf>,
    /// Host cache root (pip/uv caches are mounted from below it); `None` = the per-user cache.
    pub cache_dir: Option<PathBuf>,
    /// The host ccache directory (default: `ccache` below the cache root).
    pub ccache_dir: Option<PathBuf>,
    /// The Simple index the pinned uv is fetched from (`None`: `WHEELWRIGHT_UV_INDEX_URL`,
    /// else PyPI).
    pub uv_index_url: Option<String>,
    /// Whether compilations go through ccache.
    pub compiler_cache: CompilerCache,
    /// How long each step may run.
    pub timeouts: StepTimeouts,
}

/// How long each step of a build may run before it is killed (with its whole process tree) and
/// reported as timed out, naming the step. The test steps have their own `test-timeout`.
///
/// cibuildwheel has no timeouts. The defaults never cut a build short that could have finished
/// in a default GitHub Actions job (hosted runners stop every job after 6 hours, and
/// `timeout-minutes` defaults to 360 elsewhere too): hooks and the frontend get 6 hours; the
/// repair, which streams the wheel once or twice (seconds per gigabyte), gets 1 hour, room
/// for custom repair commands on the largest wheels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepTimeouts {
    /// `before-all` and `before-build` (`--hook-timeout`).
    pub hook: std::time::Duration,
    /// The build frontend (`--build-timeout`).
    pub build: std::time::Duration,
    /// The repair step, built-in or `repair-wheel-command` (`--repair-timeout`).
    pub repair: std::time::Duration,
}

impl StepTimeouts {
    /// `--hook-timeout`'s default: 6 hours.
    pub const HOOK: std::time::Duration = std::time::Duration::from_secs(6 * 3600);
    /// `--build-timeout`'s default: 6 hours.
    pub const BUILD: std::time::Duration = std::time::Duration::from_secs(6 * 3600);
    /// `--repair-timeout`'s default: 1 hour.
    pub const REPAIR: std::time::Duration = std::time::Duration::from_secs(3600);
}

impl Default for StepTimeouts {
    fn default() -> Self {
        StepTimeouts {
            hook: Self::HOOK,
            build: Self::BUILD,
            repair: Self::REPAIR,
        }
    }
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            project_dir: PathBuf::from("."),
            output_dir: PathBuf::from("wheelhouse"),
            engine: EngineChoice::Auto,
            builds: Vec::new(),
            only: false,
            archs_given: false,
            jobs: default_jobs(),
            keep_container: false,
            pull: PullPolicy::Missing,
            dry_run: false,
            container_args: Vec::new(),
            pythons: Vec::new(),
            container_binary: None,
            cache_dir: None,
            ccache_dir: None,
            uv_index_url: None,
            compiler_cache: CompilerCache::Auto,
            timeouts: StepTimeouts::default(),
        }
    }
}

/// The number of CPUs available to us.
#[must_use]
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// Why a build run could not start (failures of single builds are results, not errors).
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// Bad input: the message names the thing and the problem.
    #[error("{0}")]
    Input(String),
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// None of the selected identifiers is in the images (or, with `only`, that one is not).
    #[error("{what}; the images have: {}", if available.is_empty() { "no interpreter".to_owned() } else { available.join(", ") })]
    NoMatch {
        /// Ex) ``only `cp313-manylinux_x86_64` is not in `img` ``
        what: String,
        /// Every identifier found.
        available: Vec<String>,
    },
    /// A local file operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The run was interrupted before the builds started.
    #[error("{0}")]
    Interrupted(String),
}

fn io_error(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> BuildError {
    let what = what.into();
    move |source| BuildError::Io { what, source }
}

/// The default image of an architecture: the pinned `manylinux_2_28` (cibuildwheel's default;
/// `manylinux_2_31` on armv7l, `manylinux_2_39` on riscv64).
#[must_use]
pub fn default_image(arch: Arch) -> String {
    default_image_of(Libc::Glibc, arch)
}

/// The default image of an identifier's platform (`musllinux_1_2` for musllinux).
#[must_use]
pub fn default_image_for(identifier: &Identifier) -> String {
    default_image_of(identifier.libc, identifier.arch)
}

fn default_image_of(libc: Libc, arch: Arch) -> String {
    let short = image::default_short_name(libc, arch);
    image::pinned(short, arch).map_or_else(
        || format!("quay.io/pypa/{short}_{}", arch.as_str()),
        str::to_owned,
    )
}

/// Checks that `dir` is a Python project; returns its absolute path.
pub fn check_project(dir: &Path) -> Result<PathBuf, BuildError> {
    if !dir.is_dir() {
        return Err(BuildError::Input(if dir.exists() {
            format!("project directory `{}` is not a directory", dir.display())
        } else {
            format!("project directory `{}` does not exist", dir.display())
        }));
    }
    if !dir.join("pyproject.toml").is_file() && !dir.join("setup.py").is_file() {
        return Err(BuildError::Input(format!(
            "`{}` is not a Python project: it has neither pyproject.toml nor setup.py\nhint: run wheelwright in the project's directory, or pass that directory as PROJECT_DIR",
            crate::ui::path(dir)
        )));
    }
    std::fs::canonicalize(dir).map_err(io_error(format!("cannot resolve `{}`", dir.display())))
}

/// Checks that the output directory can take the wheels, before anything is started: it is a
/// directory (or does not exist yet and its nearest existing ancestor is one) and files can be
/// created in it. Nothing is created (a probe file is removed at once).
pub fn check_output_dir(dir: &Path) -> Result<(), BuildError> {
    let shown = dir.display();
    let mut existing = dir;
    loop {
        match std::fs::metadata(existing) {
            Ok(meta) if meta.is_dir() => break,
            Ok(_) if existing == dir => {
                return Err(BuildError::Input(format!(
                    "output directory `{shown}` is not a directory; pass another --output-dir"
                )));
            }
            Ok(_) => {
                return Err(BuildError::Input(format!(
                    "cannot create the output directory `{shown}`: `{}` is not a directory",
                    existing.display()
                )));
            }
            Err(err)
                if matches!(
                    err.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                ) =>
            {
                match existing.parent() {
                    Some(parent) if !parent.as_os_str().is_empty() => existing = parent,
                    _ => return Ok(()),
                }
            }
            Err(err) => {
                return Err(BuildError::Io {
                    what: format!("cannot use the output directory `{shown}`"),
                    source: err,
                });
            }
        }
    }
    crate::scratch::file_in(existing, ".probe", 0o600)
        .map(drop)
        .map_err(|source| BuildError::Io {
            what: if existing == dir {
                format!("cannot write in the output directory `{shown}`")
            } else {
                format!(
                    "cannot create the output directory `{shown}` in `{}`",
                    existing.display()
                )
            },
            source,
        })
}

/// The wheelwright the containers run: `--container-binary` (or its variable), else the running
/// one; static or dynamic ([`runtime`]).
fn container_binary(
    options: &BuildOptions,
    cache: &Path,
) -> Result<runtime::ContainerBinary, BuildError> {
    let path = match &options.container_binary {
        Some(path) => std::fs::canonicalize(path).map_err(|e| {
            BuildError::Input(format!("--container-binary `{}`: {e}", path.display()))
        })?,
        None => std::env::current_exe().map_err(io_error("cannot locate the running binary"))?,
    };
    runtime::prepare(&path, cache)
}

// ---------------------------------------------------------------------------------------------

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
    Setup(usize),
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

/// Identifiers that share an architecture, an image and container arguments share a container.
struct Group {
    arch: Arch,
    image: String,
    create_args: Vec<String>,
    members: Vec<usize>,
}

fn group_builds(options: &BuildOptions, host: bool) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for (index, build) in options.builds.iter().enumerate() {
        let arch = build.identifier.arch;
        let image = if host {
            "host".to_owned()
        } else {
            build.image.clone()
        };
        let create_args = if host {
            Vec::new()
        } else {
            build.create_args.clone()
        };
        match groups
            .iter_mut()
            .find(|g| g.arch == arch && g.image == image && g.create_args == create_args)
        {
            Some(group) => group.members.push(index),
            None => groups.push(Group {
                arch,
                image,
                create_args,
                members: vec![index],
            }),
        }
    }
    groups
}

/// The C library of this machine: musl when a musl loader exists and no glibc does (the rule of
/// the probe in build environments).
#[must_use]
pub fn host_libc() -> Libc {
    let names = |dir: &Path| -> Vec<String> {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let musl = names(Path::new("/lib"))
        .iter()
        .any(|n| n.starts_with("ld-musl-"));
    let glibc = ["/lib", "/lib64", "/usr/lib", "/usr/lib64"]
        .iter()
        .any(|dir| {
            let dir = Path::new(dir);
            dir.join("libc.so.6").exists()
                || names(dir)
                    .iter()
                    .any(|sub| dir.join(sub).join("libc.so.6").exists())
        });
    if musl && !glibc {
        Libc::Musl
    } else {
        Libc::Glibc
    }
}

/// The options narrowed to what the engine can build: the host engine builds this machine's C
/// library and, unless architectures were asked for, its architecture only.
fn for_engine(options: &BuildOptions, host: bool) -> BuildOptions {
    let mut narrowed = options.clone();
    if host && !options.only {
        let (machine, libc) = (Arch::host(), host_libc());
        narrowed.builds.retain(|b| {
            b.identifier.libc == libc && (options.archs_given || b.identifier.arch == machine)
        });
    }
    narrowed
}

/// The result rows of a dry run: the selection, nothing started.
fn selected_results(options: &BuildOptions) -> Vec<BuildResult> {
    options
        .builds
        .iter()
        .map(|build| {
            BuildResult::empty(
                build.identifier.to_string(),
                Status::Selected,
                String::new(),
            )
        })
        .collect()
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

    // What every container gets mounted: wheelwright (with its runtime when it is dynamic)
    // and the caches.
    let mut mounts = Vec::new();
    let mut cache_env = Vec::new();
    let mut cache_mounts = Vec::new();
    // pip's and uv's caches: one directory per image and architecture.
    let mut package_caches = caches::PackageCaches::default();
    // Where the ccache directories are (inside the environments), when the cache is used.
    let mut ccache_root: Option<String> = None;
    // Holds a per-run directory for the binary's runtime when there is no cache directory.
    let mut _scratch = None;
    // The pinned uv for images without one, when a frontend allows uv.
    let mut uv_provider: Option<uv::Provider> = None;
    let (repair_command, binary_arch) = if host {
        let exe = std::env::current_exe().map_err(io_error("cannot locate the running binary"))?;
        (shell_quote(&exe.display().to_string()), None)
    } else {
        let cache_root = options.cache_dir.clone().or_else(default_cache_dir);
        let runtime_cache = match &cache_root {
            Some(root) => root.clone(),
            None => {
                let dir = crate::scratch::dir_in(&std::env::temp_dir(), ".runtime")
                    .map_err(io_error("cannot create a temporary directory"))?;
                let path = dir.path().to_path_buf();
                _scratch = Some(dir);
                path
            }
        };
        let binary = container_binary(options, &runtime_cache)?;
        if options.builds.iter().any(builds_with_uv) {
            let provider = uv::Provider::new(
                runtime_cache.join("uv-binaries"),
                options.uv_index_url.as_deref(),
            )
            .map_err(|e| BuildError::Input(e.to_string()))?;
            mounts.push(Mount {
                host: resolve_path(provider.root()),
                target: uv::inside_root(),
                read_only: true,
            });
            uv_provider = Some(provider);
        }
        if binary.dynamic {
            debug!(
                "the container binary is dynamic: run as {}",
                binary.command.join(" ")
            );
        }
        mounts.extend(binary.mounts.iter().cloned());
        let mut caches: Vec<(&str, &str, PathBuf)> = Vec::new();
        if let Some(root) = &cache_root {
            caches.push(("pip", "PIP_CACHE_DIR", root.join("pip")));
            caches.push(("uv", "UV_CACHE_DIR", root.join("uv")));
        }
        if options.compiler_cache != CompilerCache::Off {
            match options
                .ccache_dir
                .clone()
                .or_else(|| cache_root.as_ref().map(|root| root.join("ccache")))
            {
                // CCACHE_DIR itself is set per environment (a subdirectory per platform).
                Some(dir) => caches.push(("ccache", "", dir)),
                None if options.compiler_cache == CompilerCache::On => {
                    return Err(BuildError::Input(
                        "compiler-cache is on but there is no cache directory (HOME and XDG_CACHE_HOME are unset); pass --ccache-dir or --cache-dir".to_owned(),
                    ));
                }
                None => {}
            }
        }
        for (name, var, dir) in caches {
            fs_err::create_dir_all(&dir).map_err(io_error(format!(
                "cannot create the cache directory `{}`",
                dir.display()
            )))?;
            let dir = std::fs::canonicalize(&dir)
                .map_err(io_error(format!("cannot resolve `{}`", dir.display())))?;
            let target = format!("{CONTAINER_WORK_ROOT}/cache/{name}");
            if name == "ccache" {
                mounts.push(Mount {
                    host: dir.clone(),
                    target: target.clone(),
                    read_only: false,
                });
            } else {
                package_caches.add(dir.clone(), target.clone());
            }
            if var.is_empty() {
                ccache_root = Some(target.clone());
            } else {
                cache_env.push((var.to_owned(), target.clone()));
            }
            cache_mounts.push(target);
        }
        let command: Vec<String> = binary.command.iter().map(|w| shell_quote(w)).collect();
        (command.join(" "), Some(binary.arch))
    };
    if host && options.compiler_cache != CompilerCache::Off {
        let dir = options.ccache_dir.clone().or_else(|| {
            options
                .cache_dir
                .clone()
                .or_else(default_cache_dir)
                .map(|root| root.join("ccache"))
        });
        if let Some(dir) = dir {
            fs_err::create_dir_all(&dir).map_err(io_error(format!(
                "cannot create the cache directory `{}`",
                dir.display()
            )))?;
            ccache_root = Some(resolve_path(&dir).display().to_string());
        }
    }
    if host {
        let machine = Arch::host();
        if let Some(other) = options
            .builds
            .iter()
            .map(|b| b.identifier.arch)
            .find(|a| *a != machine)
        {
            return Err(BuildError::Input(format!(
                "the host engine builds only for this machine ({machine}); {other} needs a container engine (--engine docker or podman)"
            )));
        }
    }

    // Start and probe one environment per group; match the selection with what it has.
    let mut targets = Vec::new();
    let mut all_available = Vec::new();
    let mut absent: Vec<(String, String)> = Vec::new();
    let mut install_failures: Vec<String> = Vec::new();
    for group in group_builds(options, host) {
        if interrupt::requested() {
            return Err(BuildError::Interrupted(interrupt::describe()));
        }
        let arch = group.arch;
        let image = group.image.clone();
        if let Some(binary_arch) = binary_arch {
            if binary_arch != arch && !(binary_arch == Arch::X86_64 && arch == Arch::I686) {
                return Err(BuildError::Input(format!(
                    "the container binary is for {binary_arch} and cannot run in {arch} containers; \
                     pass --container-binary with a wheelwright built for {arch}"
                )));
            }
            engine::check_arch_runs(arch)?;
        }
        engine.prepare_image(&image, arch, options.pull)?;
        let started = Instant::now();
        let start_offset = clock.now();
        let mut extra_args = group.create_args.clone();
        extra_args.extend(options.container_args.iter().cloned());
        let mut group_mounts = mounts.clone();
        group_mounts.extend(
            package_caches
                .mounts(&image, arch)
                .map_err(BuildError::Input)?,
        );
        let mut container = engine.start(&ContainerSpec {
            image: image.clone(),
            arch,
            mounts: group_mounts,
            extra_args,
        })?;
        let probe = interpreters::parse_probe(&container.capture(interpreters::PROBE_SCRIPT)?);
        let ready_seconds = started.elapsed().as_secs_f64();
        debug!("{}: {probe:?}", container.name());
        let arch = if host {
            let machine = Arch::from_machine(&probe.machine).unwrap_or(arch);
            if machine != arch {
                return Err(BuildError::Input(format!(
                    "the host engine builds only for this machine ({machine}); {arch} needs a container engine (--engine docker or podman)"
                )));
            }
            machine
        } else {
            arch
        };
        if arch == Arch::I686 && probe.machine != "i686" {
            if probe.linux32 {
                container.set_wrapper(vec!["linux32".to_owned()]);
            } else {
                ui::message(&format!(
                    "warning: `{image}` has no `linux32`; i686 builds will see `uname -m` = {}",
                    probe.machine
                ));
            }
        }
        let libc = probe.libc;
        let mut found = discover(&container, options, &probe, libc, arch, host)?;
        let platform = format!("{}_{}", libc.tag_prefix(), arch.as_str());
        let (uv, uv_missing) = if group
            .members
            .iter()
            .any(|&i| builds_with_uv(&options.builds[i]))
        {
            environment_uv(
                &container,
                probe.uv.as_deref(),
                uv_provider.as_ref(),
                arch,
                &platform,
            )?
        } else {
            (None, None)
        };
        // Like cibuildwheel: selected interpreters the image lacks are installed by the image's
        // `manylinux-interpreters` when it has one.
        let mut installed = Vec::new();
        let mut install_seconds = None;
        // What the installer offers besides what it installed (named when something is missing).
        let mut installable: Vec<Identifier> = Vec::new();
        if probe.installer && !host && options.pythons.is_empty() {
            let missing: Vec<&Identifier> = group
                .members
                .iter()
                .map(|&index| &options.builds[index].identifier)
                .filter(|id| !found.iter().any(|f| f.identifier == **id))
                .collect();
            if !missing.is_empty() {
                let started = Instant::now();
                match ensure_interpreters(&container, &missing, libc, arch) {
                    Ok((tags, offered)) if tags.is_empty() => installable = offered,
                    Ok((tags, offered)) => {
                        installable = offered;
                        let seconds = started.elapsed().as_secs_f64();
                        ui::message(&format!(
                            "[{platform}] installed with manylinux-interpreters in {seconds:.1}s: {}",
                            tags.join(", ")
                        ));
                        install_seconds = Some(seconds);
                        let again = interpreters::parse_probe(
                            &container.capture(interpreters::PROBE_SCRIPT)?,
                        );
                        found = discover(&container, options, &again, libc, arch, host)?;
                        installed = tags;
                    }
                    Err(why) => {
                        ui::message(&format!("[{platform}] warning: {why}"));
                        install_failures.push(why);
                    }
                }
            }
        }
        interpreters::sort(&mut found);
        if let Some(pair) = found
            .windows(2)
            .find(|w| w[0].identifier == w[1].identifier)
        {
            return Err(BuildError::Input(format!(
                "`{}` and `{}` are both {}: give one interpreter per identifier",
                pair[0].python, pair[1].python, pair[0].identifier
            )));
        }
        if found.is_empty() {
            return Err(BuildError::Input(format!(
                "no Python interpreters in `{image}` ({arch}): nothing at /opt/python/*/bin/python; pass --python PATH"
            )));
        }
        let available: Vec<String> = found.iter().map(|i| i.identifier.to_string()).collect();
        let offered = installable
            .iter()
            .filter(|id| !found.iter().any(|f| f.identifier == **id))
            .map(|id| format!("{id} (installable)"));
        for id in available.iter().cloned().chain(offered) {
            if !all_available.contains(&id) {
                all_available.push(id);
            }
        }
        // In build order; interpreters the configuration does not select are skipped.
        let mut chosen: Vec<(Interpreter, usize)> = Vec::new();
        for &index in &group.members {
            let wanted = &options.builds[index].identifier;
            match found.iter().find(|i| i.identifier == *wanted) {
                Some(interp) => chosen.push((interp.clone(), index)),
                None => absent.push((wanted.to_string(), image.clone())),
            }
        }
        for interp in &found {
            if !chosen
                .iter()
                .any(|(c, _)| c.identifier == interp.identifier)
            {
                debug!(
                    "{}: in `{image}` but not selected, skipped",
                    interp.identifier
                );
            }
        }
        ui::message(&format!(
            "[{platform}] {} `{}` from `{image}` ready in {ready_seconds:.2}s; building {}",
            if host { "work directory" } else { "container" },
            container.name(),
            if chosen.is_empty() {
                "nothing".to_owned()
            } else {
                chosen
                    .iter()
                    .map(|(i, _)| i.identifier.python.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ));
        if chosen.is_empty() {
            container.finish(false)?;
            continue;
        }
        targets.push(Target {
            container,
            platform,
            interpreters: chosen,
            available,
            installed,
            install_seconds,
            ready_seconds,
            timings: Mutex::new(timings::EnvironmentTimings {
                start: Some(clock.since(start_offset)),
                ..timings::EnvironmentTimings::default()
            }),
            repair_command: repair_command.clone(),
            cache_env: cache_env.clone(),
            cache_mounts: cache_mounts.clone(),
            ccache: ccache_root.as_ref().map(|root| CcacheSetup {
                dir: format!("{root}/{}_{}", libc.tag_prefix(), arch.as_str()),
                install: options.compiler_cache == CompilerCache::On && !host,
                required: options.compiler_cache == CompilerCache::On,
            }),
            ccache_bin: Mutex::new(None),
            uv,
            uv_missing,
            setup: Mutex::new(Setup::Pending),
            setup_seconds: Mutex::new(None),
            setup_log: Mutex::new(None),
            failed: AtomicBool::new(false),
            first_failed: Mutex::new(None),
            reusable: Mutex::new(Vec::new()),
        });
    }
    // Why the installer could not help, first line only (the message stays one line).
    let install_note = install_failures
        .first()
        .and_then(|why| why.lines().next())
        .map(|why| format!(" ({why})"))
        .unwrap_or_default();
    if options.only {
        if let Some((id, image)) = absent.first() {
            return Err(BuildError::NoMatch {
                what: format!("only `{id}` is not in `{image}`{install_note}"),
                available: all_available,
            });
        }
    }
    if targets.is_empty() {
        let ids: Vec<&str> = absent.iter().map(|(id, _)| id.as_str()).collect();
        return Err(BuildError::NoMatch {
            what: format!(
                "nothing to build: none of the selected identifiers is in the images (selected: {})",
                ids.join(", ")
            ),
            available: all_available,
        });
    }
    if !absent.is_empty() {
        let ids: Vec<&str> = absent.iter().map(|(id, _)| id.as_str()).collect();
        let message = format!(
            "selected but not in the images, not built: {}{install_note} (the images have: {}; narrow `build`/`skip` or set the images)",
            ids.join(", "),
            all_available.join(", ")
        );
        ui::message(&format!("warning: {message}"));
        github::annotation(
            github::Level::Warning,
            Some("wheelwright build"),
            None,
            &message,
        );
    }

    let engine_kind = engine.kind();
    // Test images are checked (and pulled) before anything is written.
    let tests = stage::BuildStage::new(stage::StageSetup {
        engine: engine.clone(),
        cache_mounts: mounts
            .iter()
            .filter(|m| {
                m.target
                    .starts_with(&format!("{CONTAINER_WORK_ROOT}/cache/"))
                    || m.target == uv::inside_root()
            })
            .cloned()
            .collect(),
        package_caches: package_caches.clone(),
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
    let pass: Vec<Vec<String>> = options
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
        .collect();
    let jobs = options.jobs.max(1);
    let mut tasks: VecDeque<Task> = (0..targets.len()).map(Task::Setup).collect();
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

/// `path` made absolute with symlinks resolved as far as it exists.
fn resolve_path(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = std::fs::canonicalize(existing) {
            return rest.iter().rev().fold(real, |p, c| p.join(c));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return absolute,
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

fn check_name(option: &str, name: &str) -> Result<(), BuildError> {
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(BuildError::Input(format!(
            "{option}: `{name}` is not a valid variable name"
        )))
    }
}

/// Installs the `missing` identifiers' interpreters with the image's `manylinux-interpreters`
/// (those its `list` names; cibuildwheel calls `ensure` the same way). Returns the directory
/// names installed and every identifier the installer offers, or why the installer failed.
fn ensure_interpreters(
    container: &Container,
    missing: &[&Identifier],
    libc: Libc,
    arch: Arch,
) -> Result<(Vec<String>, Vec<Identifier>), String> {
    let listed = container
        .capture("manylinux-interpreters list")
        .map_err(|e| format!("`manylinux-interpreters list` failed: {e}"))?;
    let offered = interpreters::parse_installable(&listed, libc, arch);
    let tags: Vec<String> = offered
        .iter()
        .filter(|(_, id)| missing.contains(&id))
        .map(|(tag, _)| tag.clone())
        .collect();
    let offered: Vec<Identifier> = offered.into_iter().map(|(_, id)| id).collect();
    if tags.is_empty() {
        return Ok((tags, offered));
    }
    let quoted: Vec<String> = tags.iter().map(|t| shell_quote(t)).collect();
    container
        .capture(&format!(
            "manylinux-interpreters ensure {} 1>&2",
            quoted.join(" ")
        ))
        .map_err(|e| {
            format!(
                "`manylinux-interpreters ensure {}` failed: {e}",
                tags.join(" ")
            )
        })?;
    Ok((tags, offered))
}

/// The interpreters of one environment: `--python`, else `/opt/python/*`, else (host) `python3`.
fn discover(
    container: &Container,
    options: &BuildOptions,
    probe: &interpreters::Probe,
    libc: Libc,
    arch: Arch,
    host: bool,
) -> Result<Vec<Interpreter>, BuildError> {
    let tagged = |pythons: &[String]| -> Result<Vec<Interpreter>, BuildError> {
        let text = container.capture(&interpreters::tag_script(pythons))?;
        let (found, failed) = interpreters::parse_tags(&text, pythons, libc, arch);
        if let Some(bad) = failed.first() {
            return Err(BuildError::Input(format!(
                "--python `{bad}` does not run as a Python interpreter in `{}`",
                container.image()
            )));
        }
        Ok(found)
    };
    if !options.pythons.is_empty() {
        return tagged(&options.pythons);
    }
    let (found, unknown) = interpreters::from_opt_python(&probe.pythons, libc, arch);
    for path in unknown {
        debug!("{path}: not a known /opt/python layout, ignored");
    }
    if found.is_empty() && host {
        if let Some(python) = find_program("python3") {
            return tagged(&[python.display().to_string()]);
        }
    }
    Ok(found)
}

/// The compiler cache's counters of one environment (when ccache was in use there).
/// The uv of a build environment: the image's (`image_uv`, where the probe found it on PATH),
/// else the pinned one `provider` fetches, if it runs there. `(None, Some(why))` when there is
/// none (the environments use pip and venv); a provided uv that fails its digest check stops
/// the run.
fn environment_uv(
    container: &Container,
    image_uv: Option<&str>,
    provider: Option<&uv::Provider>,
    arch: Arch,
    platform: &str,
) -> Result<(Option<UvSetup>, Option<String>), BuildError> {
    if let Some(path) = image_uv {
        return Ok((
            Some(UvSetup {
                command: "uv".to_owned(),
                path_dir: None,
                describe: format!("uv from the image (`{path}`)"),
            }),
            None,
        ));
    }
    let Some(provider) = provider else {
        return Ok((
            None,
            Some("the environment has no uv: pip and venv are used".to_owned()),
        ));
    };
    let provided = match provider.get(arch) {
        Ok(provided) => provided,
        Err(failure) if failure.integrity => return Err(BuildError::Input(failure.message)),
        Err(failure) => {
            let why = format!(
                "the image has no uv and wheelwright could not provide one ({}): pip and venv are used",
                failure.message
            );
            ui::message(&format!("[{platform}] warning: {why}"));
            return Ok((None, Some(why)));
        }
    };
    let check = format!("{} --version", shell_quote(&provided.inside));
    match container.capture(&check) {
        Ok(version) => {
            let describe = format!(
                "{} provided by wheelwright (the image has none; pinned wheel from `{}`, sha256 checked)",
                version.trim(),
                provider.index()
            );
            ui::message(&format!("[{platform}] {describe}"));
            let dir = provided
                .inside
                .rsplit_once('/')
                .map(|(dir, _)| dir.to_owned());
            Ok((
                Some(UvSetup {
                    command: provided.inside.clone(),
                    path_dir: dir,
                    describe,
                }),
                None,
            ))
        }
        Err(err) => {
            let why = format!(
                "the uv {} wheelwright provides cannot run in `{}` ({err}): pip and venv are used",
                provided.version,
                container.image()
            );
            ui::message(&format!("[{platform}] warning: {why}"));
            Ok((None, Some(why)))
        }
    }
}

/// Whether `build`'s build step uses uv where there is one: its frontend allows it, and uv
/// serves its interpreter or the frontend asks for uv by name (`uv`, `build[uv]`).
fn builds_with_uv(build: &IdentifierBuild) -> bool {
    build.frontend.tool.allows_uv()
        && (uv::supports(&build.identifier.python) || build.frontend.tool != FrontendTool::Default)
}

/// How the tests of `build` (built in `target`) make their environments: with uv only where
/// the frontend allows it; the provided uv, when the build environment got one, serves test
/// images without their own.
fn test_uv(target: &Target, build: &IdentifierBuild) -> stage::UvChoice {
    if !build.frontend.tool.allows_uv() || !uv::supports(&build.identifier.python) {
        return stage::UvChoice::Never;
    }
    match &target.uv {
        Some(uv) if uv.path_dir.is_some() => stage::UvChoice::OnPathOr(uv.command.clone()),
        _ => stage::UvChoice::OnPath,
    }
}

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
    for dir in &target.cache_mounts {
        // Only what is not already theirs: a big warm cache costs a `find`, not a `chown -R`.
        let q = shell_quote(dir);
        let script = format!(
            "u=$(stat -c %u {q}) && g=$(stat -c %g {q}) && \
             find {q} \\( ! -user \"$u\" -o ! -group \"$g\" \\) -exec chown -h \"$u:$g\" {{}} +"
        );
        if let Err(err) = target.container.capture(&script) {
            debug!("cannot hand {dir} back: {err}");
        }
    }
}

impl Run<'_> {
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
                Task::Build(t, i) => {
                    let mut result = self.build(t, i);
                    let target = &self.targets[t];
                    let (interpreter, b) = &target.interpreters[i];
                    let test_start = self.clock.now();
                    self.tests.after_build(
                        &stage::BuildContext {
                            container: &target.container,
                            interpreter,
                            build: &self.options.builds[*b],
                            cache_env: &target.cache_env,
                            pass: &self.pass[*b],
                            live: self.live,
                            uv: test_uv(target, &self.options.builds[*b]),
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
            Task::Setup(_) => true,
            Task::Build(t, _) => self.targets[t]
                .setup
                .lock()
                .is_ok_and(|s| !matches!(*s, Setup::Pending)),
        }
    }

    /// `export` lines and `cd`: what every script in the environment starts with.
    fn prelude(
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
    fn uv_for<'t>(&self, target: &'t Target, build: &IdentifierBuild) -> Option<&'t UvSetup> {
        target.uv.as_ref().filter(|_| builds_with_uv(build))
    }

    fn setup(&self, t: usize) -> Setup {
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
            log.note(&format!("before-all: {hook}"));
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
            let ran = self.run_step(
                &target.container,
                "before-all",
                &script,
                &self.pass[first],
                &log,
                Deadline {
                    limit: self.options.timeouts.hook,
                    pidfile: &pidfile,
                },
                "--hook-timeout",
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
    fn setup_ccache(&self, target: &Target, ccache: &CcacheSetup, log: &Log) -> Result<(), String> {
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

    fn fail_setup(&self, target: &Target, why: String) -> Setup {
        target.failed.store(true, Ordering::SeqCst);
        Setup::Failed(why)
    }

    fn build(&self, t: usize, i: usize) -> BuildResult {
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

    fn finish_failed(
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
    fn reusable(&self, target: &Target, id: &Identifier) -> Option<OutWheel> {
        let wheels = target.reusable.lock().ok()?;
        wheels
            .iter()
            .find(|w| w.kind.serves(id))
            .map(|w| w.wheel.clone())
    }

    /// Runs one step's script with its time limit; the error names the step (and, for a
    /// timeout, the option that sets the limit).
    #[expect(
        clippy::too_many_arguments,
        reason = "one call per step, each spelled out"
    )]
    fn run_step(
        &self,
        container: &Container,
        step: &str,
        script: &str,
        pass: &[String],
        log: &Log,
        deadline: Deadline<'_>,
        option: &str,
    ) -> Result<(), String> {
        match container.run_bounded(script, pass, log, Some(deadline)) {
            Ok(RunEnd::Exited(status)) if status.success() => Ok(()),
            Ok(RunEnd::Exited(status)) => Err(format!("{step} failed ({status})")),
            Ok(RunEnd::TimedOut) => Err(format!(
                "{step} timed out after {} ({option}): killed",
                human_duration(deadline.limit)
            )),
            Err(err) => Err(format!("{step}: {err}")),
        }
    }

    fn build_steps(
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
        let dir = format!("{root}/builds/{id}");
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
        let mut copied = false;
        let timeouts = self.options.timeouts;
        let pidfile = format!("{root}/pids/{id}.pid");
        let run_step = |step: &str, shown: &str, script: String| -> Result<(), String> {
            log.note(&format!("{step}: {shown}"));
            let (limit, option) = match step {
                "before-build" => (timeouts.hook, "--hook-timeout"),
                "repair" => (timeouts.repair, "--repair-timeout"),
                _ => (timeouts.build, "--build-timeout"),
            };
            let deadline = Deadline {
                limit,
                pidfile: &pidfile,
            };
            self.run_step(container, step, &script, pass, log, deadline, option)
        };
        let build_start = self.clock.now();
        if let Some(hook) = &options.before_build {
            let hook = placeholders(hook, &project);
            run_step("before-build", &hook, format!("{copy}{prelude}{hook}\n"))?;
            copied = true;
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
        let built = run_step(
            "build",
            &frontend,
            format!("{}{prelude}{frontend}\n", if copied { "" } else { &copy }),
        );
        spans.build = Some(self.clock.since(build_start));
        built?;
        let built = container
            .capture(&format!("cd {} && ls -1", shell_quote(&dist)))
            .map_err(|e| format!("listing the built wheel: {e}"))?;
        let built: Vec<&str> = built
            .lines()
            .map(str::trim)
            .filter(|n| n.ends_with(".whl"))
            .collect();
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
        let repaired_ok = run_step("repair", &shown, format!("{prelude}{script}"));
        spans.repair = Some(self.clock.since(repair_start));
        repaired_ok?;
        let listing = container
            .capture(&format!("cd {} && ls -1", shell_quote(&repaired)))
            .map_err(|e| format!("listing the repaired wheel: {e}"))?;
        let names: Vec<String> = listing
            .lines()
            .map(str::trim)
            .filter(|n| n.ends_with(".whl"))
            .map(str::to_owned)
            .collect();
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

#[cfg(test)]
mod tests {
    use super::*;

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
