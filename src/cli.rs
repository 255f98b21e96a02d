//! Command-line interface (clap derive only; no behaviour here).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::audit::resolve::ResolverMode;

/// Build, repair, test and publish Linux Python wheels.
#[derive(Debug, Parser)]
#[command(name = "wheelwright", version, about, long_about = None, propagate_version = true)]
pub(crate) struct Cli {
    /// More output (-v debug, -vv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub(crate) verbose: u8,

    /// Only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub(crate) quiet: bool,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Audit wheels: the platform tag they can carry, the libraries they need and why.
    ///
    /// Agrees with `auditwheel show` on the tag and the external libraries, and also names,
    /// for every symbol version that rules out a more compatible tag, the symbols and the
    /// ELF file that need it. The wheel is read as a zip stream, never extracted, and every
    /// entry is checked against RECORD.
    Show(ShowArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    /// Wheel files to audit.
    #[arg(required = true, value_name = "WHEEL")]
    pub(crate) wheels: Vec<PathBuf>,

    /// Print JSON (one object per wheel, one per line) instead of text.
    #[arg(long)]
    pub(crate) json: bool,

    #[command(flatten)]
    pub(crate) resolve: ResolveArgs,

    /// Report pure-Python wheels instead of failing on them.
    #[arg(long)]
    pub(crate) allow_pure_python_wheel: bool,
}

/// Options shared by the commands that resolve shared libraries.
#[derive(Debug, Args)]
pub(crate) struct ResolveArgs {
    /// Resolve libraries inside this filesystem root (e.g. an exported container) instead of `/`.
    /// The host's LD_LIBRARY_PATH is ignored then.
    #[arg(long, value_name = "DIR")]
    pub(crate) root: Option<PathBuf>,

    /// Loader model: glibc's ld.so rules, or auditwheel 6.8's search order.
    #[arg(long, value_enum, default_value_t = ResolverMode::Ldso)]
    pub(crate) resolver: ResolverMode,

    /// Colon-separated directories that replace the ld.so.conf and default directories.
    #[arg(long, value_name = "PATHS")]
    pub(crate) ldpaths: Option<String>,

    /// Do not check the x86-64 instruction-set level notes.
    #[arg(long)]
    pub(crate) disable_isa_ext_check: bool,
}
