//! Command-line interface (clap derive only; no behaviour here).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::audit::resolve::ResolverMode;

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
