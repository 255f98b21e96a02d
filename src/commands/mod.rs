//! One module per subcommand: each maps parsed arguments, calls the library and prints, and
//! none imports another; [`common`] holds what several of them share to map arguments.

pub mod build;
pub mod check;
pub mod common;
pub mod completions;
pub mod config;
pub mod download_artifact;
pub mod man;
pub mod plan;
pub mod publish;
pub mod release;
pub mod repair;
pub mod show;
pub mod split_args;
pub mod test;
pub mod upload_artifact;

/// A problem with the command line that clap cannot express: the message for `error:` (exit 2).
#[must_use]
pub fn usage_problem(command: &crate::cli::Command) -> Option<String> {
    match command {
        crate::cli::Command::Publish(args) if args.password.is_some() => Some(
            "`-p`/`--password` is not an option of wheelwright: a password on the command line shows up in process lists and shell history\nhint: put the password or API token in `WHEELWRIGHT_PASSWORD` (or `TWINE_PASSWORD`, or `PYPI_API_TOKEN` for a token), name another variable with `--password-env VAR`, or write it in a `.pypirc` file (`--config-file`); on GitHub Actions, trusted publishing needs no password"
                .to_owned(),
        ),
        _ => None,
    }
}
