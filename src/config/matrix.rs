//! The build matrix `wheelwright plan` prints: `{"include": [...]}` for
//! `strategy.matrix: ${{ fromJson(needs.plan.outputs.matrix) }}`.
//!
//! Each entry is a *slice* a later job hands back to wheelwright with the same configuration:
//! `arch` (the `archs` input) when split by architecture, `only` (one identifier) when split by
//! identifier, both with `archs` listing every architecture when not split. A slice re-resolved
//! with those inputs selects exactly the entry's `identifiers` (tested in `tests/plan.rs`).

use std::fmt;

use crate::config::error::ConfigError;
use crate::config::identifier::Identifier;
use crate::config::settings::Settings;

/// GitHub's limit on the jobs one matrix may generate.
pub const GITHUB_MATRIX_LIMIT: usize = 256;

/// How to cut the selected identifiers into jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Split {
    /// One job per architecture (the default).
    #[default]
    Arch,
    /// One job per identifier.
    Identifier,
    /// One job for everything.
    None,
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Split::Arch => "arch",
            Split::Identifier => "identifier",
            Split::None => "none",
        })
    }
}

/// The matrix: GitHub expands `include` into one job per entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Matrix {
    /// The jobs.
    pub include: Vec<MatrixEntry>,
}

/// One job's slice.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MatrixEntry {
    /// A short job name. Ex) `x86_64`, `cp312-manylinux_i686`, `all`
    pub name: String,
    /// The architecture(s), as the `archs` input takes them. Ex) `x86_64`, `x86_64 i686`
    pub arch: String,
    /// The one identifier of the slice (split by identifier only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only: Option<String>,
    /// The build image; space-separated when the slice needs several (manylinux and
    /// musllinux, or an override's image).
    pub image: String,
    /// The identifiers the slice builds, in build order.
    pub identifiers: Vec<String>,
}

/// Cuts the selected identifiers into matrix entries.
pub fn plan(settings: &Settings, split: Split) -> Result<Matrix, ConfigError> {
    let selected = settings.selected_identifiers()?;
    let image_of = |id: &Identifier| {
        settings
            .for_identifier(id)
            .image
            .value
            .reference
            .to_string()
    };
    let entry = |name: String, arch: String, only: Option<String>, ids: &[&Identifier]| {
        let mut images: Vec<String> = Vec::new();
        for id in ids {
            let image = image_of(id);
            if !images.contains(&image) {
                images.push(image);
            }
        }
        MatrixEntry {
            name,
            arch,
            only,
            image: images.join(" "),
            identifiers: ids.iter().map(ToString::to_string).collect(),
        }
    };
    let include: Vec<MatrixEntry> = match split {
        Split::Identifier => selected
            .iter()
            .map(|id| {
                entry(
                    id.to_string(),
                    id.arch.to_string(),
                    Some(id.to_string()),
                    &[id],
                )
            })
            .collect(),
        Split::Arch => {
            let mut arches = Vec::new();
            for id in &selected {
                if !arches.contains(&id.arch) {
                    arches.push(id.arch);
                }
            }
            arches
                .into_iter()
                .map(|arch| {
                    let ids: Vec<&Identifier> =
                        selected.iter().filter(|id| id.arch == arch).collect();
                    entry(arch.to_string(), arch.to_string(), None, &ids)
                })
                .collect()
        }
        Split::None => {
            let mut arches: Vec<&str> = Vec::new();
            for id in &selected {
                if !arches.contains(&id.arch.as_str()) {
                    arches.push(id.arch.as_str());
                }
            }
            let ids: Vec<&Identifier> = selected.iter().collect();
            vec![entry("all".to_owned(), arches.join(" "), None, &ids)]
        }
    };
    if include.len() > GITHUB_MATRIX_LIMIT {
        return Err(ConfigError::MatrixTooLarge {
            jobs: include.len(),
        });
    }
    Ok(Matrix { include })
}
