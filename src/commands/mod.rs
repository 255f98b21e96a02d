//! One module per subcommand: each turns parsed arguments into work and an exit code.

pub mod build;
pub mod check;
pub mod config;
pub mod download_artifact;
pub mod plan;
pub mod publish;
pub mod release;
pub mod repair;
pub mod show;
pub mod split_args;
pub mod test;
pub mod upload_artifact;
