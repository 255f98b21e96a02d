//! Configuration: what to build and how, resolved once into one typed [`Settings`] that every
//! command reads.
//!
//! Sources, lowest to highest precedence: built-in defaults, `[tool.cibuildwheel]` (and its
//! `linux` table) in `pyproject.toml`, `[tool.wheelwright]`, per-identifier overrides,
//! `CIBW_*`, `WHEELWRIGHT_*`, GitHub Action inputs (`INPUT_*`), command-line flags. Every
//! value remembers its [`Source`]; `wheelwright config --show` prints them. See
//! `settings/` for the resolution rules and `pythons.rs` for what is built by default.
//!
//! * `identifier`: build identifiers and `build`/`skip` selectors
//! * `pythons`: the interpreters and platforms wheelwright knows, `enable` groups
//! * `archs`, `image`, `environment`, `values`: typed option values
//! * `options`: the option table and value parsing
//! * `settings`: layers, precedence, overrides, identifier selection
//! * `matrix`: the GitHub Actions matrix `wheelwright plan` prints

pub mod archs;
pub mod environment;
pub mod error;
pub mod identifier;
pub mod image;
pub mod matrix;
pub mod options;
pub mod pythons;
pub mod settings;
pub mod source;
mod toml_tree;
pub mod values;

pub use error::ConfigError;
pub use settings::{CliValue, IdentifierSettings, ResolveInputs, Settings, candidate_identifiers};
pub use source::{Source, Sourced};

/// The candidate closest to `word`, if it is close enough to be a likely typo.
pub(crate) fn suggest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|candidate| {
            (
                strsim::normalized_damerau_levenshtein(word, candidate),
                candidate,
            )
        })
        .filter(|(score, _)| *score >= 0.6)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    #[test]
    fn suggestions_find_typos_only() {
        let keys = ["test-command", "test-requires", "before-test", "build"];
        assert_eq!(super::suggest("test-comand", keys), Some("test-command"));
        assert_eq!(super::suggest("tset-requires", keys), Some("test-requires"));
        assert_eq!(super::suggest("bild", keys), Some("build"));
        assert_eq!(super::suggest("colour", keys), None);
    }
}
