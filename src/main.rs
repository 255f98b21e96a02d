//! The `wheelwright` binary: parse the command line, set up logging, run the command and map
//! the outcome to an exit code (0 success, 1 a failure the user can act on, 2 usage).

use std::process::ExitCode;

use wheelwright::{cli, commands, interrupt, net, ui};

fn main() -> ExitCode {
    interrupt::install();
    let cli = match cli::Cli::parse_args() {
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
    let code = match result {
        Ok(code) => code,
        // What failed because of the interrupt is not news; the interrupt is.
        Err(err) if interrupt::requested() => {
            tracing::debug!("after the interrupt: {err:#}");
            ui::error(&interrupt::describe());
            ExitCode::from(1)
        }
        Err(err) => {
            ui::error(&format!("{err:#}"));
            ExitCode::from(1)
        }
    };
    // After an interrupt this waits for its clean-up and exits with 128 + the signal.
    interrupt::finish(code)
}
