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
