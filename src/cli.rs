//! Command-line interface (clap derive only; no behaviour here).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::audit::resolve::ResolverMode;
use crate::config::matrix::Split;
use crate::config::values::{EngineChoice, PullPolicy};

/// The heading the options every command takes are listed under in `--help`.
const GLOBAL: &str = "Global options";

/// `wheelwright --version`: the package version, the commit and the build date (build.rs).
pub const VERSION: &str = env!("WHEELWRIGHT_VERSION");

/// Build, repair, test and publish Linux Python wheels.
#[derive(Debug, Parser)]
#[command(
    name = "wheelwright",
    version = VERSION,
    about,
    long_about = None,
    propagate_version = true,
    disable_help_flag = true,
    disable_version_flag = true
)]
pub struct Cli {
    /// More output (-v debug, -vv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true, help_heading = GLOBAL)]
    pub verbose: u8,

    /// Only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose", help_heading = GLOBAL)]
    pub quiet: bool,

    /// CA certificates (a PEM file) to trust for every HTTPS connection (indexes, GitHub), in
    /// addition to the system's; for an index or proxy behind a company CA. Default:
    /// REQUESTS_CA_BUNDLE. SSL_CERT_FILE and SSL_CERT_DIR replace the system's certificates.
    #[arg(long, global = true, value_name = "FILE", help_heading = GLOBAL)]
    pub cert: Option<PathBuf>,

    /// Print help (the long form with --help).
    #[arg(short = 'h', long, action = clap::ArgAction::Help, global = true, help_heading = GLOBAL)]
    pub help: Option<bool>,

    /// Print the version, the commit it was built from and the build date.
    #[arg(short = 'V', long, action = clap::ArgAction::Version, global = true, help_heading = GLOBAL)]
    pub version: Option<bool>,

    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses the process's arguments. A `WHEELWRIGHT_*` variable that is set but empty counts as
    /// unset, as in a workflow that passes an optional input through `env:` (`X: ${{ inputs.x }}`
    /// is empty when the input is not given), instead of being an empty path or URL.
    pub fn parse_args() -> Result<Cli, clap::Error> {
        use clap::{CommandFactory as _, FromArgMatches as _};
        let command = without_empty_env(Cli::command(), &|name| {
            std::env::var_os(name).is_some_and(|value| value.is_empty())
        });
        Cli::from_arg_matches(&command.try_get_matches()?)
    }
}

/// `command` with the environment variable of every argument for which `is_empty` holds taken off,
/// in it and all its subcommands.
fn without_empty_env(
    command: clap::Command,
    is_empty: &dyn Fn(&std::ffi::OsStr) -> bool,
) -> clap::Command {
    let names: Vec<String> = command
        .get_subcommands()
        .map(|sub| sub.get_name().to_owned())
        .collect();
    let mut command = command.mut_args(|arg| {
        if arg.get_env().is_some_and(is_empty) {
            arg.env(None)
        } else {
            arg
        }
    });
    for name in names {
        command = command.mut_subcommand(name, |sub| without_empty_env(sub, is_empty));
    }
    command
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit wheels: the platform tag they can carry, the libraries they need and why.
    ///
    /// Agrees with `auditwheel show` on the tag and the external libraries, and also names,
    /// for every symbol version that rules out a more compatible tag, the symbols and the
    /// ELF file that need it. The wheel is read as a zip stream, never extracted, and every
    /// entry is checked against RECORD.
    Show(ShowArgs),

    /// Repair wheels: graft the external libraries they need into the wheel, patch every ELF
    /// file natively and retag the wheel (like `auditwheel repair`, without patchelf).
    ///
    /// Unchanged entries are copied without recompressing; the output is written to a
    /// temporary file and renamed, and is byte-identical when repeated.
    Repair(RepairArgs),

    /// Build repaired wheels for every Python of a manylinux/musllinux image, per architecture.
    ///
    /// One long-lived container per architecture (docker or podman; or this machine's own
    /// interpreters with `--engine host`): the project is copied in as a tar stream (without
    /// `.git`, `build/`, `dist/`, `*.egg-info`, `wheelhouse/`, `__pycache__` and what `.dockerignore`
    /// excludes), `--before-all` runs once, then the selected Pythons (`/opt/python/*/bin/python`)
    /// build in parallel, each in its own copy of the project: `--before-build`, the frontend,
    /// and `wheelwright repair` inside the container (this binary, mounted read-only: no
    /// auditwheel or patchelf needed). Each repaired wheel is copied to the output directory as
    /// soon as it is done (temporary name, then rename; owned by you). A failure in one Python
    /// does not stop the others; the run ends with a table and exits 1 if anything failed.
    ///
    /// Logs: every build's output goes to `<output-dir>/logs/<identifier>.log` (the set-up and
    /// before-all to `logs/setup-<platform>.log`) and is streamed with an `[identifier]` prefix; on
    /// GitHub Actions each build is a log group, failures are error annotations and a table is
    /// added to the job summary.
    ///
    /// i686 containers start with `--platform linux/386` and run every command under `linux32`
    /// unless `uname -m` already says i686. pip and uv caches are mounted from
    /// `$XDG_CACHE_HOME/wheelwright` (or `~/.cache/wheelwright`) and reused across runs.
    ///
    /// Configuration: what to build and how comes from the resolved configuration (defaults,
    /// pyproject.toml `[tool.cibuildwheel]` and `[tool.wheelwright]` with their overrides,
    /// `CIBW_*`, `WHEELWRIGHT_*`, `INPUT_*`, then these flags; see `wheelwright config --show`).
    /// Identifiers selected but missing from an image are reported (an error for `--only`);
    /// interpreters an image has but the configuration does not select are skipped.
    #[command(
        after_help = "Examples:\n  wheelwright build --archs x86_64,i686 --before-all 'yum install -y libffi-devel'\n  wheelwright build --only cp312-manylinux_x86_64 -o dist\n  wheelwright build --engine podman --container-arg=--network=host --environment 'CFLAGS=\"-O2 -g\"'\n  wheelwright build --dry-run --build 'cp3{11,12}-*' --enable pypy"
    )]
    Build(Box<BuildArgs>),

    /// Print the build matrix: the identifiers to build, cut into GitHub Actions jobs.
    ///
    /// Prints `{"include": [...]}` for `strategy.matrix: ${{ fromJson(...) }}`. Each entry is a
    /// slice a job hands back with the same configuration: `arch` (the `archs` input) or, with
    /// `--split identifier`, `only` (one identifier); `image` and `identifiers` say what it
    /// builds. Configuration: pyproject.toml `[tool.cibuildwheel]` and `[tool.wheelwright]`,
    /// `CIBW_*`, `WHEELWRIGHT_*` and `INPUT_*` variables (see `wheelwright config --show`).
    Plan(PlanArgs),

    /// Show the resolved configuration and where each value came from.
    ///
    /// The same configuration `build` and `plan` resolve: defaults, pyproject.toml
    /// `[tool.cibuildwheel]` and `[tool.wheelwright]` with their overrides, `CIBW_*`,
    /// `WHEELWRIGHT_*` and `INPUT_*` variables, then `--archs`. Refuses a directory that is not
    /// a Python project, like `build`.
    Config(ConfigArgs),

    /// Upload files as a workflow artifact (GitHub Actions artifacts v4, natively).
    ///
    /// Needs ACTIONS_RUNTIME_TOKEN and ACTIONS_RESULTS_URL, which act, JavaScript and container
    /// actions get; composite `run:` steps on github.com don't (use actions/upload-artifact
    /// there, or --if-available to skip and let a fallback step upload).
    UploadArtifact(UploadArtifactArgs),

    /// Download workflow artifacts of this run (GitHub Actions artifacts v4, natively) and
    /// extract their files into one directory.
    ///
    /// NAME may be a glob (`wheels-*`): every matching artifact is downloaded and their files
    /// merged (a file two artifacts hold with different contents is an error). Needs
    /// ACTIONS_RUNTIME_TOKEN and ACTIONS_RESULTS_URL like upload-artifact (--if-available lets a
    /// fallback actions/download-artifact step do it where they are missing).
    DownloadArtifact(DownloadArtifactArgs),

    /// Put files on the GitHub Release of a tag: a draft gets every file, then is published.
    ///
    /// Finds the release of the tag (drafts included) or creates it as a draft, uploads every
    /// file it lacks, checks each asset's sha256 on the release, then publishes it — the order
    /// GitHub's immutable releases need. A re-run resumes: assets with the same sha256 are
    /// skipped, other bytes under the same name are an error naming both digests, and a
    /// published release with every file is left alone. The repository comes from
    /// GITHUB_REPOSITORY, the tag from --tag or GITHUB_REF (`refs/tags/…`), the token from
    /// GITHUB_TOKEN (it needs `permissions: contents: write`) and the API from GITHUB_API_URL.
    Release(ReleaseArgs),

    /// Publish distributions to a Python package index (PyPI, TestPyPI, devpi, pypiserver, …).
    ///
    /// Checks every file first, then uploads them one by one with the legacy upload API as
    /// twine does (sdists first, then wheels), streaming each file from disk. Credentials come
    /// from the environment, a `.pypirc`-style file or trusted publishing on GitHub Actions.
    /// With `--skip-existing`, files the index already has with the same content are skipped,
    /// so a re-run after a partial upload finishes the job; a file with the same name and other
    /// content is always an error.
    Publish(PublishArgs),

    /// Check distributions for everything an index would reject, before uploading anything.
    ///
    /// Platform tags, file names against METADATA, normalized names, metadata versions and
    /// fields, descriptions that will not render (reStructuredText checked like docutils),
    /// ZIP structure, WHEEL/RECORD/METADATA and every RECORD hash, sdist layout, file size,
    /// duplicate files and a second sdist for a release. Each finding is an error (the file is
    /// broken, or the index will refuse it) or a warning (PyPI only warns, or bad practice).
    /// PyPI's own rules (its platform-tag allow-list, metadata limits, stricter ZIP rules, …)
    /// are errors with `--repository pypi` or `testpypi` and warnings otherwise. Every finding
    /// of every file is printed; exit 1 if there is an error (`--strict`: or a warning).
    Check(CheckArgs),

    /// Test wheels in fresh virtual environments: local wheels, or a release on an index.
    ///
    /// For each interpreter (`--python`, else every /opt/python/*/bin/python of the image or of
    /// this machine, else python3) the wheel pip would choose is installed into a new virtual
    /// environment (with --index, pip chooses from the index: `--only-binary :all:`), then
    /// `--test-requires`, and `--test-command` runs from an empty directory outside the project.
    /// Each test is reported with its duration; a failure with the last lines of its output
    /// (the whole log in `--log-dir`, by default `logs/` next to the wheels). Exit 1 if any test
    /// fails or none can run.
    #[command(
        after_help = "Examples:\n  wheelwright test wheelhouse --image x86_64=my/runtime-image --test-command 'python -m pytest {project}/tests' --test-requires pytest\n  wheelwright test --index testpypi 'NEURON==7.8.11.2' --engine host --python python3.11 --test-command 'python -c \"import neuron\"'"
    )]
    Test(Box<TestArgs>),

    /// Split the action's `args` input (`WHEELWRIGHT_ARGS`) into words with POSIX shell
    /// quoting and no expansion; prints them NUL-terminated. Used by action.yml.
    #[command(hide = true)]
    SplitArgs,

    /// Print a shell completion script.
    ///
    /// Bash: `wheelwright completions bash > ~/.local/share/bash-completion/completions/wheelwright`;
    /// zsh: into a directory of `$fpath` as `_wheelwright`; fish:
    /// `~/.config/fish/completions/wheelwright.fish`.
    Completions(CompletionsArgs),

    /// Print the manual page (roff), or write one page per command into a directory.
    ///
    /// `wheelwright man | man -l -` reads it; `wheelwright man --output-dir DIR` writes
    /// `wheelwright.1` and `wheelwright-COMMAND.1` for every command (release archives ship
    /// them).
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write `wheelwright.1` and `wheelwright-COMMAND.1` for every command here instead of
    /// printing `wheelwright.1`.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
}

/// `wheelwright build` flags. Every flag that has a configuration option of the same meaning
/// (`[tool.wheelwright]`, `[tool.cibuildwheel]`, `CIBW_*`, `WHEELWRIGHT_*`, `INPUT_*`) is the
/// highest layer of that option; the others are marked CLI-only.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The project to build (a directory with pyproject.toml or setup.py). CLI-only (the
    /// Action's `package-dir`).
    #[arg(value_name = "PROJECT_DIR", default_value = ".")]
    pub project_dir: PathBuf,

    /// A TOML file to read `[tool.cibuildwheel]` and `[tool.wheelwright]` from instead of the
    /// project's pyproject.toml (cibuildwheel's `--config-file`; `{package}` is the project
    /// directory). Its path is relative to the current directory.
    #[arg(long, env = "WHEELWRIGHT_CONFIG_FILE", value_name = "FILE")]
    pub config_file: Option<String>,

    /// Where the repaired wheels go (and their logs, in `logs/`). Option `output-dir`; default
    /// `wheelhouse`.
    #[arg(short = 'o', long = "output-dir", value_name = "DIR")]
    pub output_dir: Option<String>,

    /// Architectures, comma- or space-separated: x86_64, i686, aarch64, ppc64le, s390x, armv7l,
    /// riscv64, or auto (this machine's and the 32-bit one it runs: x86_64,i686 on x86_64),
    /// auto64, auto32, native, all. Option `archs`; default auto (the host engine: this
    /// machine's). Foreign ones (other than i686 on x86_64) need QEMU registered with
    /// binfmt_misc.
    #[arg(long, value_name = "ARCHS", value_delimiter = ',')]
    pub archs: Vec<String>,

    /// Container engine: auto (docker if a daemon answers, else podman, else host; says which),
    /// docker, podman or host (this machine's interpreters, e.g. inside a manylinux container),
    /// optionally with `; create_args: ARGS`. Option `container-engine`.
    #[arg(long, value_name = "ENGINE", value_parser = engine_value)]
    pub engine: Option<String>,

    /// Image for x86_64: a short name (manylinux2014, manylinux_2_28, manylinux_2_34,
    /// musllinux_1_2) or any image reference. Sets options `manylinux-x86_64-image` and
    /// `manylinux-pypy_x86_64-image` (`musllinux-x86_64-image` for a name starting with
    /// `musllinux`). Default: manylinux_2_28.
    #[arg(long = "image-x86_64", value_name = "IMAGE")]
    pub image_x86_64: Option<String>,

    /// Image for i686 (like --image-x86_64).
    #[arg(long = "image-i686", value_name = "IMAGE")]
    pub image_i686: Option<String>,

    /// Image for aarch64 (like --image-x86_64).
    #[arg(long = "image-aarch64", value_name = "IMAGE")]
    pub image_aarch64: Option<String>,

    /// Image for ppc64le (like --image-x86_64).
    #[arg(long = "image-ppc64le", value_name = "IMAGE")]
    pub image_ppc64le: Option<String>,

    /// Image for s390x (like --image-x86_64).
    #[arg(long = "image-s390x", value_name = "IMAGE")]
    pub image_s390x: Option<String>,

    /// Identifiers to build: space-separated globs with `{a,b}` braces, matched against e.g.
    /// `cp312-manylinux_x86_64`, `pp310-manylinux_i686`, `cp313t-musllinux_x86_64`. Option
    /// `build`; default `*` (CPython 3.9-3.14 and 3.14t unless `--enable` adds more).
    #[arg(long, value_name = "SELECTOR")]
    pub build: Option<String>,

    /// Identifiers to leave out (same syntax as --build). Option `skip`.
    #[arg(long, value_name = "SELECTOR")]
    pub skip: Option<String>,

    /// Groups built only on request: pypy, pypy-eol, cpython-freethreading, cpython-eol, all, …
    /// Repeatable or space-separated. Option `enable` (adds to the configured groups).
    #[arg(long, value_name = "GROUP")]
    pub enable: Vec<String>,

    /// Build exactly this one identifier (ignores --archs, --build, --skip and --enable); for
    /// matrix jobs. Option `only` (not in TOML).
    #[arg(long, value_name = "IDENTIFIER")]
    pub only: Option<String>,

    /// Shell command run once per container before any build, in the project copy
    /// (`{project}` and `{package}` are replaced by its path), e.g. to install libraries.
    /// Option `before-all`.
    #[arg(long, value_name = "CMD")]
    pub before_all: Option<String>,

    /// Shell command run before each build, in that build's copy of the project, with its
    /// Python first on PATH. Option `before-build`.
    #[arg(long, value_name = "CMD")]
    pub before_build: Option<String>,

    /// Set a variable for the hooks and builds; VALUE is shell syntax evaluated in the build
    /// environment (`PATH=/opt/x/bin:$PATH`; quote spaces: `CFLAGS="-O2 -g"`). Repeatable.
    /// Option `environment` (the flags together replace the configured value).
    #[arg(long = "environment", value_name = "NAME=VALUE")]
    pub environment: Vec<String>,

    /// Pass this host variable into the containers by name (its value never appears on a
    /// command line). Repeatable. Option `environment-pass`. SOURCE_DATE_EPOCH is always
    /// passed when set.
    #[arg(long = "environment-pass", value_name = "NAME")]
    pub environment_pass: Vec<String>,

    /// How many set-up and build tasks run at once. Option `jobs`; default: the number of
    /// CPUs.
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: Option<u32>,

    /// Keep a container in which something failed, and print the command that enters it.
    /// CLI-only.
    #[arg(long)]
    pub keep_container: bool,

    /// Print the result as JSON on stdout (the table still goes to stderr). CLI-only.
    #[arg(long)]
    pub json: bool,

    /// When to pull images (with retries and back-off). Option `pull`; default missing.
    #[arg(long, value_parser = pull_values())]
    pub pull: Option<String>,

    /// Print the identifiers the configuration selects, one per line (what `wheelwright plan`
    /// computes for this slice), and build nothing; no container is started. CLI-only.
    #[arg(long)]
    pub dry_run: bool,

    /// Extra argument for the engine's `run` when creating containers, e.g.
    /// `--container-arg=--network=host` or `--container-arg=-v --container-arg=/etc/ssl:/etc/ssl:ro`.
    /// Repeatable. CLI-only: added after the `create_args` of `container-engine`.
    #[arg(long = "container-arg", value_name = "ARG", allow_hyphen_values = true)]
    pub container_args: Vec<String>,

    /// Build frontend: default (`uv build` where uv is available — the image's or one
    /// wheelwright provides — else build), build (`python -m build --wheel`, pip and venv
    /// only), `build[uv]` (build with uv as its installer), pip (`pip wheel --no-deps`, pip
    /// and venv only) or uv (`uv build`), optionally with `; args: ARGS`. uv also makes the
    /// test environments with default, `build[uv]` and uv. Option `build-frontend`; default
    /// default.
    #[arg(long = "build-frontend", value_name = "FRONTEND", value_parser = frontend_value)]
    pub build_frontend: Option<String>,

    /// PEP 517 config setting passed to the frontend. Repeatable. Option `config-settings`
    /// (the flags together replace the configured value).
    #[arg(long = "config-setting", value_name = "KEY=VALUE")]
    pub config_settings: Vec<String>,

    /// Build with this interpreter instead of discovering /opt/python/*/bin/python (a path inside
    /// the container; on the host engine a host path — without /opt/python the host engine uses
    /// `python3` from PATH). Repeatable. CLI-only.
    #[arg(long = "python", value_name = "PATH")]
    pub pythons: Vec<String>,

    /// The wheelwright to mount into the containers for the repair step (default: this
    /// binary). A dynamic one is mounted with its loader and libraries. Needed only to build
    /// for an architecture other than this binary's. CLI-only (and the variable).
    #[arg(long, env = "WHEELWRIGHT_CONTAINER_BINARY", value_name = "PATH")]
    pub container_binary: Option<PathBuf>,

    /// The Simple index (PEP 503 root) the pinned uv is fetched from when an image has no uv
    /// and the frontend allows uv. CLI-only (and the variable); default PyPI.
    #[arg(long, env = "WHEELWRIGHT_UV_INDEX_URL", value_name = "URL")]
    pub uv_index_url: Option<String>,

    /// Host directory for the pip and uv caches mounted into containers.
    /// Default: $XDG_CACHE_HOME/wheelwright or ~/.cache/wheelwright. CLI-only (and the variable).
    #[arg(long, env = "WHEELWRIGHT_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Compile C/C++ through ccache: auto (when the build environment has it), on (install it
    /// with the image's package manager when missing; fail the set-up if that fails) or off.
    /// Option `compiler-cache`; default auto.
    #[arg(long, value_name = "WHEN", value_parser = ["auto", "on", "ccache", "off"])]
    pub compiler_cache: Option<String>,

    /// The host ccache directory mounted into containers (CCACHE_DIR; one subdirectory per
    /// platform). Default: `ccache` in the cache directory. CLI-only (and the variable).
    #[arg(long, env = "WHEELWRIGHT_CCACHE_DIR", value_name = "DIR")]
    pub ccache_dir: Option<PathBuf>,

    /// Kill a before-all or before-build hook (with all its processes) that runs longer than
    /// this many seconds, and fail it naming the hook. CLI-only; default 6 hours.
    #[arg(long, value_name = "SECONDS", default_value_t = crate::build::StepTimeouts::HOOK.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    pub hook_timeout: u64,

    /// Kill a build frontend run that takes longer than this many seconds. CLI-only; default 6
    /// hours.
    #[arg(long, value_name = "SECONDS", default_value_t = crate::build::StepTimeouts::BUILD.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    pub build_timeout: u64,

    /// Kill a repair step (built-in or repair-wheel-command) that takes longer than this many
    /// seconds. CLI-only; default 1 hour.
    #[arg(long, value_name = "SECONDS", default_value_t = crate::build::StepTimeouts::REPAIR.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    pub repair_timeout: u64,

    #[command(flatten)]
    pub test: TestStageArgs,

    /// Identifiers built but not tested (same syntax as --build).
    #[arg(long, value_name = "SELECTOR", help_heading = "Testing")]
    pub test_skip: Option<String>,

    /// Test in this image instead of the build image: `IMAGE` for every architecture or
    /// `ARCH=IMAGE` for one (one extra container per architecture, the wheel copied in).
    /// Repeatable.
    #[arg(long, value_name = "[ARCH=]IMAGE", help_heading = "Testing")]
    pub test_image: Vec<String>,
}

/// How a wheel is tested (shared by `build` and `test`).
#[derive(Debug, Args)]
pub struct TestStageArgs {
    /// Shell command that tests the installed wheel, run from an empty temporary directory
    /// outside the project with the test environment's `python` first on PATH; `{project}` is the
    /// project copy (for test files), `{wheel}` the wheel. Without it nothing is tested.
    #[arg(long, value_name = "CMD", help_heading = "Testing")]
    pub test_command: Option<String>,

    /// Requirements installed after the wheel (space-separated). Repeatable.
    #[arg(long, value_name = "REQS", help_heading = "Testing")]
    pub test_requires: Vec<String>,

    /// Extras of the wheel installed with it (comma-separated). Repeatable.
    #[arg(long, value_name = "EXTRAS", help_heading = "Testing")]
    pub test_extras: Vec<String>,

    /// Files and directories of the project copied into the test's directory (shell words,
    /// relative to the project). Repeatable.
    #[arg(long, value_name = "PATHS", help_heading = "Testing")]
    pub test_sources: Vec<String>,

    /// Shell command run in the fresh test environment before the wheel is installed.
    #[arg(long, value_name = "CMD", help_heading = "Testing")]
    pub before_test: Option<String>,

    /// Kill a test step (creating the environment, an installation, before-test, the test
    /// command) that runs longer than this many seconds, and report the test as timed out.
    #[arg(long, value_name = "SECONDS", default_value_t = 1800, value_parser = clap::value_parser!(u64).range(1..), help_heading = "Testing")]
    pub test_timeout: u64,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("what").required(true).multiple(true).args(["inputs", "index"]))]
pub struct TestArgs {
    /// Wheels or directories of wheels to test; with --index, the requirements to install
    /// from it (`NEURON==7.8.11.2`).
    #[arg(value_name = "WHEEL|DIR|SPEC")]
    pub inputs: Vec<String>,

    /// Test what an index offers instead of local files: `pypi`, `testpypi` or a Simple index
    /// URL; pip chooses the file for each interpreter (`--only-binary :all:`).
    #[arg(long, value_name = "URL")]
    pub index: Option<String>,

    /// Further indexes for the dependencies (`pypi`, `testpypi` or a URL). Repeatable.
    #[arg(long, value_name = "URL")]
    pub extra_index_url: Vec<String>,

    /// Test with this interpreter (a path in the image, or on this machine with the host
    /// engine). Repeatable. Default: every /opt/python/*/bin/python, else python3.
    #[arg(long = "python", value_name = "PY")]
    pub pythons: Vec<String>,

    /// The image to test in: `IMAGE` for every architecture or `ARCH=IMAGE`. Repeatable.
    /// Without one, `--engine auto` tests on this machine.
    #[arg(long, value_name = "[ARCH=]IMAGE")]
    pub image: Vec<String>,

    /// Container engine (auto: docker or podman when an image is given, else the host).
    #[arg(long, value_enum, default_value_t)]
    pub engine: EngineChoice,

    /// Architectures to test (comma-separated). Default: those of the given wheels (this
    /// machine's for pure wheels and for --index).
    #[arg(long, value_name = "ARCH", value_delimiter = ',')]
    pub arch: Vec<String>,

    /// The project whose copy `{project}` names and `--test-sources` come from (copied into the
    /// environment when used). Default: the current directory.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub project: PathBuf,

    #[command(flatten)]
    pub test: TestStageArgs,

    /// Set a variable for the tests; VALUE is shell syntax. Repeatable.
    #[arg(long = "environment", value_name = "NAME=VALUE")]
    pub environment: Vec<String>,

    /// Pass this host variable into the environment by name. Repeatable.
    #[arg(long = "environment-pass", value_name = "NAME")]
    pub environment_pass: Vec<String>,

    /// Extra argument for the engine's `run` (`--container-arg=--network=host`). Repeatable.
    #[arg(long = "container-arg", value_name = "ARG", allow_hyphen_values = true)]
    pub container_args: Vec<String>,

    /// When to pull images.
    #[arg(long, value_enum, default_value_t)]
    pub pull: PullPolicy,

    /// Where the test logs go (`test-<identifier>.log`). Default: `logs/` in the directory of
    /// the wheels (of the first argument), like the build's `<output-dir>/logs/`; with
    /// `--index`, `$XDG_STATE_HOME/wheelwright/test-logs` (`~/.local/state/…`).
    #[arg(long, value_name = "DIR")]
    pub log_dir: Option<PathBuf>,

    /// Host directory for the pip and uv caches mounted into containers.
    #[arg(long, env = "WHEELWRIGHT_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Print the result as JSON on stdout (the summary still goes to stderr).
    #[arg(long)]
    pub json: bool,
}

/// A password given on the command line; its value is not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefusedPassword;

/// Accepts any value for `--password` and forgets it.
fn refuse_password(_value: &str) -> Result<RefusedPassword, std::convert::Infallible> {
    Ok(RefusedPassword)
}

/// `--engine` is checked like the `container-engine` option (a bad value is a usage error).
fn engine_value(text: &str) -> Result<String, String> {
    crate::config::values::ContainerEngine::parse(text).map(|_| text.to_owned())
}

/// `--build-frontend` is checked like the `build-frontend` option.
fn frontend_value(text: &str) -> Result<String, String> {
    crate::config::values::BuildFrontend::parse(text).map(|_| text.to_owned())
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The project directory (the one with pyproject.toml).
    #[arg(value_name = "PROJECT_DIR", default_value = ".")]
    pub project_dir: PathBuf,

    /// A TOML file to read `[tool.cibuildwheel]` and `[tool.wheelwright]` from instead of the
    /// project's pyproject.toml (cibuildwheel's `--config-file`; `{package}` is the project
    /// directory). Its path is relative to the current directory.
    #[arg(long, env = "WHEELWRIGHT_CONFIG_FILE", value_name = "FILE")]
    pub config_file: Option<String>,

    /// How to cut the build into jobs: one per architecture, one per identifier, or one job.
    #[arg(long, value_enum, default_value_t = Split::Arch)]
    pub split: Split,

    /// `json` prints the matrix; `github` also writes `matrix=<json>` to `$GITHUB_OUTPUT`.
    #[arg(long, value_enum, default_value_t = PlanFormat::Json)]
    pub format: PlanFormat,

    /// Print the selected build identifiers, one per line, instead of the matrix.
    #[arg(long)]
    pub print_identifiers: bool,

    /// Architectures to build (overrides the configuration): auto, auto64, auto32, native,
    /// all or names such as `x86_64 i686`.
    #[arg(long, value_name = "ARCHS")]
    pub archs: Option<String>,
}

/// Output of `wheelwright plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// The matrix as JSON on stdout.
    Json,
    /// The same, and `matrix=<json>` appended to `$GITHUB_OUTPUT`.
    Github,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Print the resolved settings and where each value came from (what `wheelwright config`
    /// does anyway).
    #[arg(long)]
    pub show: bool,

    /// The project directory (the one with pyproject.toml).
    #[arg(value_name = "PROJECT_DIR", default_value = ".")]
    pub project_dir: PathBuf,

    /// A TOML file to read `[tool.cibuildwheel]` and `[tool.wheelwright]` from instead of the
    /// project's pyproject.toml (cibuildwheel's `--config-file`; `{package}` is the project
    /// directory). Its path is relative to the current directory.
    #[arg(long, env = "WHEELWRIGHT_CONFIG_FILE", value_name = "FILE")]
    pub config_file: Option<String>,

    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,

    /// Architectures to build (overrides the configuration).
    #[arg(long, value_name = "ARCHS")]
    pub archs: Option<String>,
}

#[derive(Debug, Args)]
pub struct UploadArtifactArgs {
    /// Artifact name (no `" : < > | * ? \ /`, CR or LF).
    #[arg(value_name = "NAME")]
    pub name: String,

    /// Files and directories to upload (directories recursively); entry names are relative
    /// to the deepest directory containing them all.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Days to keep the artifact (1-90; the repository's maximum applies).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=90))]
    pub retention_days: Option<u32>,

    /// Deflate level (0-9) for files that are not compressed already; 0 stores everything.
    #[arg(long, value_name = "N", default_value_t = 6, value_parser = clap::value_parser!(u32).range(0..=9))]
    pub compression_level: u32,

    /// When the artifact service is not available to this step, do nothing and set the
    /// step output `uploaded=false` (for a fallback actions/upload-artifact step) instead of
    /// failing.
    #[arg(long)]
    pub if_available: bool,

    /// Print the result as one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DownloadArtifactArgs {
    /// Artifact name, or a glob matching several (`wheels-*`).
    #[arg(value_name = "NAME")]
    pub name: String,

    /// Directory the files are extracted into (created if needed).
    #[arg(value_name = "DIR", default_value = "wheelhouse")]
    pub dir: PathBuf,

    /// When the artifact service is not available to this step, do nothing and set the step
    /// output `downloaded=false` (for a fallback actions/download-artifact step).
    #[arg(long)]
    pub if_available: bool,

    /// Print the result as one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ReleaseArgs {
    /// The release's tag (default: the tag of GITHUB_REF).
    #[arg(long, value_name = "TAG")]
    pub tag: Option<String>,

    /// Files to upload, or directories whose files to upload.
    #[arg(required = true, value_name = "FILE|DIR")]
    pub files: Vec<PathBuf>,

    /// Leave the release a draft after the uploads (a later run without --draft publishes it).
    #[arg(long)]
    pub draft: bool,

    /// Replace assets of the same name and other bytes while the release is a draft (a
    /// published release's assets are never replaced).
    #[arg(long)]
    pub clobber: bool,

    /// Print the result as one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// Distribution files, or directories whose `*.whl` and `*.tar.gz` files are published.
    #[arg(value_name = "FILE_OR_DIR", default_value = "wheelhouse")]
    pub files: Vec<PathBuf>,

    /// The index: `pypi` (the default), `testpypi`, a section of the config file, or an
    /// upload URL.
    #[arg(
        short = 'r',
        long,
        env = "WHEELWRIGHT_REPOSITORY",
        value_name = "NAME_OR_URL"
    )]
    pub repository: Option<String>,

    /// The upload URL (the legacy API endpoint, e.g. `https://host/legacy/`); wins over
    /// `--repository`.
    #[arg(long, env = "WHEELWRIGHT_REPOSITORY_URL", value_name = "URL")]
    pub repository_url: Option<String>,

    /// The index's Simple API root (PEP 503/691), used to recognise files that are already
    /// there. Known for PyPI and TestPyPI; otherwise found next to the upload URL.
    #[arg(long, env = "WHEELWRIGHT_INDEX_URL", value_name = "URL")]
    pub index_url: Option<String>,

    /// The user name (else `WHEELWRIGHT_USERNAME`, `TWINE_USERNAME`, the config file;
    /// `__token__` for API tokens).
    #[arg(short = 'u', long, value_name = "NAME")]
    pub username: Option<String>,

    /// Read the password or token from this environment variable (else
    /// `WHEELWRIGHT_PASSWORD`, `TWINE_PASSWORD`, `PYPI_API_TOKEN`, the config file). There
    /// is no option that takes the password itself.
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,

    /// twine's `-p`/`--password`, refused with a pointer to where passwords come from (a
    /// password on the command line shows in process lists and shell history). The value is
    /// dropped while parsing, so it is never stored or printed.
    #[arg(short = 'p', long = "password", hide = true, num_args = 0..=1, default_missing_value = "", value_parser = refuse_password)]
    pub password: Option<RefusedPassword>,

    /// A `.pypirc`-style file with a `[section]` per repository (`repository`, `username`,
    /// `password`). Default: `~/.pypirc` if it exists.
    #[arg(long, value_name = "FILE")]
    pub config_file: Option<PathBuf>,

    /// Trusted publishing (GitHub Actions OIDC): `auto` uses it when no password is set and
    /// the job may request an ID token.
    #[arg(long, value_enum, env = "WHEELWRIGHT_TRUSTED_PUBLISHING", default_value_t = crate::publish::credentials::TrustedPublishing::Auto)]
    pub trusted_publishing: crate::publish::credentials::TrustedPublishing,

    /// Skip files the index already has with the same content (checked in its Simple index
    /// and from its answers), so re-runs succeed.
    #[arg(long, env = "WHEELWRIGHT_SKIP_EXISTING")]
    pub skip_existing: bool,

    /// Check every file before uploading anything (the default): an error stops the run
    /// before anything is sent, warnings are printed. PyPI's own rules are errors only when
    /// publishing to PyPI or TestPyPI.
    #[arg(long, overrides_with = "no_check")]
    pub check: bool,

    /// Do not check the files before uploading: no RECORD hash and size verification, no ZIP
    /// structure, metadata or file name checks, none of the index's rules. Not needed for
    /// files an index accepts; it exists for files the check wrongly refuses.
    #[arg(long, overrides_with = "check")]
    pub no_check: bool,

    /// Treat the check's warnings as errors (nothing is uploaded if there is one).
    #[arg(long, env = "WHEELWRIGHT_STRICT")]
    pub strict: bool,

    /// Make a PEP 740 publish attestation of every file (Sigstore keyless signing with the
    /// job's OIDC identity, written as `<file>.publish.attestation`) and upload it with the
    /// file. The default with trusted publishing; without trusted publishing it is an error.
    #[arg(long, overrides_with = "no_attestations")]
    pub attestations: bool,

    /// Make no attestations. Attestation files already next to the files (made by another
    /// tool) are still uploaded with them when the upload uses trusted publishing.
    #[arg(long, overrides_with = "attestations")]
    pub no_attestations: bool,

    /// Check, hash and list the files, but upload nothing (and contact no server).
    #[arg(long)]
    pub dry_run: bool,

    /// Print each file's SHA-256 and BLAKE2b-256 before uploading.
    #[arg(long)]
    pub print_hash: bool,

    /// Print the result as one JSON object on stdout.
    #[arg(long)]
    pub json: bool,

    /// Give up on an upload attempt after this many seconds without progress (nothing sent
    /// or received).
    #[arg(long, value_name = "SECONDS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,

    /// Retries of an upload after a network error or a 5xx answer (with back-off).
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(0..=10))]
    pub retries: u32,

    /// Publish wheels that the build's test stage marked failed (or could not test) in the
    /// results manifest next to them (`.wheelwright/results.json`).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Distribution files, or directories whose `.whl`, `.tar.gz` and `.zip` files are checked.
    #[arg(value_name = "FILE|DIR", default_value = "wheelhouse")]
    pub files: Vec<PathBuf>,

    /// Print one JSON object (`files`, `target`, `strict`, `problems`) instead of text.
    #[arg(long)]
    pub json: bool,

    /// The index the files are for: with `pypi` or `testpypi` (or a `.pypirc` section or URL
    /// of theirs) PyPI's own rules are errors; for any other index, or without this option,
    /// they are warnings.
    #[arg(short = 'r', long, value_name = "NAME_OR_URL")]
    pub repository: Option<String>,

    /// Treat every warning as an error.
    #[arg(long)]
    pub strict: bool,

    /// The index's per-file size limit in bytes (PyPI: 100 MiB unless raised for a project).
    #[arg(long, value_name = "BYTES")]
    pub max_size: Option<u64>,
}

#[derive(Debug, Args)]
pub struct RepairArgs {
    /// Wheel files to repair.
    #[arg(required = true, value_name = "WHEEL")]
    pub wheels: Vec<PathBuf>,

    /// Output directory.
    #[arg(
        short = 'w',
        long = "wheel-dir",
        value_name = "DIR",
        default_value = "wheelhouse"
    )]
    pub wheel_dir: PathBuf,

    /// Target platform tag (a policy name such as `manylinux_2_17_x86_64`, an alias such as
    /// `manylinux2014_x86_64`, or `auto` for the best one the wheel allows).
    #[arg(
        long,
        env = "AUDITWHEEL_PLAT",
        value_name = "TAG",
        default_value = "auto"
    )]
    pub plat: String,

    /// Write only the requested tag (and its aliases), not the more compatible ones the wheel
    /// also qualifies for.
    #[arg(long)]
    pub only_plat: bool,

    /// Do not graft libraries matching this glob (SONAME or resolved path); repeatable.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// Suffix of the directory grafted libraries go to (`<dist><suffix>`).
    #[arg(short = 'L', long, value_name = "SUFFIX", default_value = ".libs")]
    pub lib_sdir: String,

    /// Deflate level (0-9) for the entries that are written anew.
    #[arg(short = 'z', long = "compression-level", alias = "zip-compression-level", env = "AUDITWHEEL_ZIP_COMPRESSION_LEVEL", value_name = "N", value_parser = clap::value_parser!(i64).range(0..=9))]
    pub compression_level: Option<i64>,

    /// Keep the original platform tags and file name (repair the contents only).
    #[arg(long)]
    pub no_update_tags: bool,

    /// Strip symbols in the resulting wheel: remove the symbol tables and debugging
    /// information of the wheel's ELF files and the grafted libraries (like `strip -s`),
    /// in the same pass as the other edits.
    #[arg(long)]
    pub strip: bool,

    /// Do not write the SBOM of the grafted libraries
    /// (`<dist-info>/sboms/wheelwright.cdx.json`, CycloneDX).
    #[arg(long)]
    pub no_sbom: bool,

    /// Print one JSON object per wheel instead of text.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub resolve: ResolveArgs,

    /// Copy pure-Python wheels through unchanged instead of failing on them.
    #[arg(long)]
    pub allow_pure_python_wheel: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Wheel files to audit.
    #[arg(required = true, value_name = "WHEEL")]
    pub wheels: Vec<PathBuf>,

    /// Print JSON (one object per wheel, one per line) instead of text.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub resolve: ResolveArgs,

    /// Do not check entries against their RECORD hashes (RECORD sizes are still compared with
    /// the zip directory); only the ELF files are inflated. Faster on large wheels.
    #[arg(long)]
    pub no_verify: bool,

    /// Report pure-Python wheels instead of failing on them.
    #[arg(long)]
    pub allow_pure_python_wheel: bool,
}

/// Options shared by the commands that resolve shared libraries.
#[derive(Debug, Args)]
pub struct ResolveArgs {
    /// Resolve libraries inside this filesystem root (e.g. an exported container) instead of `/`.
    /// The host's LD_LIBRARY_PATH is ignored then.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// Loader model: glibc's ld.so rules, or auditwheel 6.8's search order.
    #[arg(long, value_enum, default_value_t = ResolverMode::Ldso)]
    pub resolver: ResolverMode,

    /// Colon-separated directories that replace the ld.so.conf and default directories.
    #[arg(long, value_name = "PATHS")]
    pub ldpaths: Option<String>,

    /// Do not check the x86-64 instruction-set level notes.
    #[arg(long)]
    pub disable_isa_ext_check: bool,

    /// Skip the abi3 audit of `cpXY-abi3` wheels (every `Py*` symbol of their `.so` files
    /// checked against the Limited API of Python X.Y).
    #[arg(
        long,
        env = "WHEELWRIGHT_NO_ABI3_AUDIT",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub no_abi3_audit: bool,
}

/// `build --pull`'s values (those of [`PullPolicy`], with their help): the text joins the
/// configuration's command-line layer, where it is typed once, like the option's other sources.
fn pull_values() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(
        PullPolicy::value_variants()
            .iter()
            .filter_map(clap::ValueEnum::to_possible_value),
    )
}
