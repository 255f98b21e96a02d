//! One module per subcommand: each turns parsed arguments into work and an exit code.

pub mod publish;
pub mod repair;
pub mod show;
