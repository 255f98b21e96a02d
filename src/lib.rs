//! wheelwright: build, repair, test and publish Linux Python wheels.
//!
//! The modules read as the pipeline. The pure wheel domain (`wheel`, `elf`, `audit`) is
//! synchronous and free of network and subprocess code; `commands` wires it to the CLI and
//! `ui` is the only place that prints.

pub mod audit;
pub mod build;
pub mod check;
pub mod cli;
pub mod commands;
pub mod config;
pub mod elf;
pub mod engine;
pub mod github;
pub mod interrupt;
pub mod net;
pub mod platform;
pub mod publish;
pub mod repair;
pub mod scratch;
pub mod testing;
pub mod ui;
pub mod wheel;
