//! What a build run is asked to do: the options per identifier and per run, the step time
//! limits, the defaults, and the checks of the inputs made before anything starts.

use std::path::{Path, PathBuf};

use crate::config::identifier::Identifier;
use crate::config::image;
use crate::config::values::{
    BuildFrontend, CompilerCache, ConfigSetting, EngineChoice, FrontendTool, PullPolicy,
    RepairCommand,
};
use crate::engine::EngineError;
use crate::platform::{Arch, Libc};

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

pub(super) fn io_error(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> BuildError {
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

pub(super) fn check_name(option: &str, name: &str) -> Result<(), BuildError> {
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
