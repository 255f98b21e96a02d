//! The `wheelwright` binary: parse the command line, set up logging, run the command and map
//! the outcome to an exit code (0 success, 1 a failure the user can act on, 2 usage).

use std::process::ExitCode;

use clap::Parser;
use wheelwright::{cli, commands, net, ui};

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return ui::command_line_error(&err),
    };
    ui::init_logging(cli.verbose, cli.quiet);
    if let Some(problem) = commands::usage_problem(&cli.command) {
        ui::error(&problem);
        return ExitCode::from(2);
    }
    if let Err(err) = net::configure(cli.cert.as_deref()) {
        ui::error(&err.to_string());
        return ExitCode::from(1);
    }
    let result = match cli.command {
        cli::Command::Show(args) => commands::show::run(&args),
        cli::Command::Repair(args) => commands::repair::run(&args),
        cli::Command::Build(args) => commands::build::run(&args),
        cli::Command::Plan(args) => commands::plan::run(&args),
        cli::Command::Config(args) => commands::config::run(&args),
        cli::Command::UploadArtifact(args) => commands::upload_artifact::run(&args),
        cli::Command::DownloadArtifact(args) => commands::download_artifact::run(&args),
        cli::Command::Release(args) => commands::release::run(&args),
        cli::Command::Publish(args) => commands::publish::run(&args),
        cli::Command::Check(args) => commands::check::run(&args),
        cli::Command::Test(args) => commands::test::run(&args),
        cli::Command::SplitArgs => commands::split_args::run(),
        cli::Command::Completions(args) => commands::completions::run(&args),
        cli::Command::Man(args) => commands::man::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            ui::error(&format!("{err:#}"));
            ExitCode::from(1)
        }
    }
}
