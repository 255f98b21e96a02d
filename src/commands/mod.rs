//! One module per subcommand: each turns parsed arguments into work and an exit code.

pub mod build;
pub mod config;
pub mod plan;
pub mod repair;
pub mod show;
