//! The real-component suite: everything here runs real tools (auditwheel, podman, pip) against
//! real inputs. Set up with `scripts/setup-dev.sh`; `scripts/test.sh` does that and runs it.

mod abi3;
mod attest;
mod build;
mod check;
mod common;
mod elf_corpus;
mod faults;
mod github;
mod github_stub;
mod launcher;
mod oidc;
mod oracle;
mod publish;
mod publish_support;
mod pypa;
mod repair;
mod repair_support;
mod resolver;
mod sbom;
mod selection;
mod sigstore_standins;
#[path = "../support/mod.rs"]
mod support;
mod testing;
mod uv;
