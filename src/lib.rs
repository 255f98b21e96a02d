//! wheelwright: build, repair, test and publish Linux Python wheels.
//!
//! The modules read as the pipeline. The pure core (`platform`, `scratch`, `elf`, `wheel` and
//! `check::rst`) lives in workspace crates under `crates/` that depend on no async runtime, HTTP
//! client or process spawning; they are re-exported here under their module names. `audit` and
//! `repair` stay synchronous and free of network and subprocess code; `commands` wires it all to
//! the CLI and `ui` is the only place that prints.

pub mod audit;
pub mod build;
pub(crate) mod check;
pub mod cli;
pub mod commands;
pub mod config;
pub mod engine;
pub(crate) mod github;
pub mod interrupt;
pub mod net;
pub mod publish;
pub(crate) mod repair;
pub mod testing;
pub mod ui;

// The pure core's crates, under the module paths the rest of the code uses.
pub use wheelwright_elf as elf;
pub use wheelwright_platform as platform;
pub use wheelwright_scratch as scratch;
pub use wheelwright_wheel as wheel;
