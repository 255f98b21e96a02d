//! Configuration: what to build and how. `identifier` holds build identifiers and selectors.

pub mod identifier;
