//! `wheelwright completions SHELL`: a completion script generated from the command line's
//! definition (clap_complete), so it always matches this binary.

use std::process::ExitCode;

use anyhow::Result;
use clap::CommandFactory as _;

use crate::cli::{Cli, CompletionsArgs};
use crate::ui;

pub fn run(args: &CompletionsArgs) -> Result<ExitCode> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "wheelwright", &mut script);
    ui::data(&String::from_utf8_lossy(&script));
    Ok(ExitCode::SUCCESS)
}
