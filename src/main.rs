//! wheelwright: build, repair, test and publish Linux Python wheels.
//!
//! `main` parses the command line, sets up logging, runs the command and maps the outcome to an
//! exit code: 0 success, 1 a failure the user can act on (bad input, audit failed), 2 usage.

mod audit;
mod cli;
mod commands;
mod elf;
mod ui;
mod wheel;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    ui::init_logging(cli.verbose, cli.quiet);
    let result = match cli.command {
        cli::Command::Show(args) => commands::show::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            ui::error(&format!("{err:#}"));
            ExitCode::from(1)
        }
    }
}
