//! Command-line interface (clap derive only; no behaviour here).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::audit::resolve::ResolverMode;
use crate::config::matrix::Split;

/// Build, repair, test and publish Linux Python wheels.
#[derive(Debug, Parser)]
#[command(name = "wheelwright", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// More output (-v debug, -vv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
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

    /// Print the build matrix: the identifiers to build, cut into GitHub Actions jobs.
    ///
    /// Prints `{"include": [...]}` for `strategy.matrix: ${{ fromJson(...) }}`. Each entry is a
    /// slice a job hands back with the same configuration: `arch` (the `archs` input) or, with
    /// `--split identifier`, `only` (one identifier); `image` and `identifiers` say what it
    /// builds. Configuration: pyproject.toml `[tool.cibuildwheel]` and `[tool.wheelwright]`,
    /// `CIBW_*`, `WHEELWRIGHT_*` and `INPUT_*` variables (see `wheelwright config --show`).
    Plan(PlanArgs),

    /// Show the resolved configuration and where each value came from.
    Config(ConfigArgs),

    /// Upload files as a workflow artifact (GitHub Actions artifacts v4, natively).
    ///
    /// Needs ACTIONS_RUNTIME_TOKEN and ACTIONS_RESULTS_URL, which act, JavaScript and container
    /// actions get; composite `run:` steps on github.com don't (use actions/upload-artifact
    /// there, or --if-available to skip and let a fallback step upload).
    UploadArtifact(UploadArtifactArgs),

    /// Upload files as assets of the GitHub Release of a tag, creating the release if missing.
    ///
    /// The repository comes from GITHUB_REPOSITORY, the tag from --tag or GITHUB_REF
    /// (`refs/tags/…`), the token from GITHUB_TOKEN and the API from GITHUB_API_URL. Assets
    /// already there with the same name and size are skipped.
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

    /// Check distributions for everything PyPI would reject, before uploading anything.
    ///
    /// Platform tags, file names against METADATA, normalized names, metadata versions and
    /// fields, descriptions that will not render (reStructuredText checked like docutils),
    /// ZIP structure, WHEEL/RECORD/METADATA and every RECORD hash, sdist layout, file size,
    /// duplicate files and a second sdist for a release. Every problem of every file is
    /// printed; exit 1 if there is any.
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The project directory (the one with pyproject.toml).
    #[arg(value_name = "PROJECT_DIR", default_value = ".")]
    pub project_dir: PathBuf,

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
    /// Print the resolved settings and where each value came from.
    #[arg(long, required = true)]
    pub show: bool,

    /// The project directory (the one with pyproject.toml).
    #[arg(value_name = "PROJECT_DIR", default_value = ".")]
    pub project_dir: PathBuf,

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
pub struct ReleaseArgs {
    /// The release's tag (default: the tag of GITHUB_REF).
    #[arg(long, value_name = "TAG")]
    pub tag: Option<String>,

    /// Files to upload, or directories whose files to upload.
    #[arg(required = true, value_name = "FILE|DIR")]
    pub files: Vec<PathBuf>,

    /// Replace assets of the same name and another size (otherwise that is an error).
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

    /// Check every file before uploading anything (the default).
    #[arg(long, overrides_with = "no_check")]
    pub check: bool,

    /// Do not check the files before uploading.
    #[arg(long, overrides_with = "check")]
    pub no_check: bool,

    /// Generate and upload PEP 740 attestations (not supported yet).
    #[arg(long)]
    pub attestations: bool,

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
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Distribution files, or directories whose `.whl`, `.tar.gz` and `.zip` files are checked.
    #[arg(value_name = "FILE|DIR", default_value = "wheelhouse")]
    pub files: Vec<PathBuf>,

    /// Print one JSON object (`files`, `problems`) instead of text.
    #[arg(long)]
    pub json: bool,

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
}
