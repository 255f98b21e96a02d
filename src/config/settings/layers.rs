//! The layers a configuration is folded from: typed assignments with their source, override
//! blocks, the built-in defaults, the environment and the command line.

use std::collections::BTreeMap;

use crate::config::error::ConfigError;
use crate::config::identifier::Selector;
use crate::config::options::{
    self, Cibw, Inherit, Kind, OPTIONS, OptionSpec, OptionValue, UNSUPPORTED_CIBUILDWHEEL,
};
use crate::config::source::{Source, Sourced};

use super::CliValue;

#[derive(Debug, Clone)]
pub(super) struct Assignment {
    pub(super) spec: &'static OptionSpec,
    pub(super) value: OptionValue,
    pub(super) source: Source,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Layer {
    pub(super) assignments: Vec<Assignment>,
}

impl Layer {
    pub(super) fn get(&self, name: &str) -> Option<&Assignment> {
        self.assignments.iter().rev().find(|a| a.spec.name == name)
    }
}

#[derive(Debug, Clone)]
pub(super) struct OverrideBlock {
    pub(super) selector: Selector,
    pub(super) inherit: BTreeMap<&'static str, Inherit>,
    pub(super) layer: Layer,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Layers {
    /// Defaults, `[tool.cibuildwheel]`, `[tool.cibuildwheel.linux]`, `[tool.wheelwright]`.
    pub(super) files: Vec<Layer>,
    /// cibuildwheel's then wheelwright's overrides, in file order.
    pub(super) overrides: Vec<OverrideBlock>,
    /// `CIBW_*`, `CIBW_*_LINUX`, `WHEELWRIGHT_*`, `INPUT_*`, the command line.
    pub(super) top: Vec<Layer>,
}

impl Layers {
    pub(super) fn resolve(
        &self,
        spec: &OptionSpec,
        identifier: Option<&str>,
    ) -> Sourced<OptionValue> {
        let always_merge = spec.kind == Kind::Enable;
        let mut current: Option<Sourced<OptionValue>> = None;
        let mut apply = |assignment: &Assignment, rule: Inherit| {
            let rule = if always_merge { Inherit::Append } else { rule };
            current = Some(match current.take() {
                Some(previous) if rule != Inherit::None => {
                    let mut inherited = previous.inherited;
                    if previous.source != Source::Default {
                        inherited.push(previous.source);
                    }
                    Sourced {
                        value: previous.value.inherit(&assignment.value, rule),
                        source: assignment.source.clone(),
                        inherited,
                    }
                }
                _ => Sourced::new(assignment.value.clone(), assignment.source.clone()),
            });
        };
        for layer in &self.files {
            if let Some(a) = layer.get(spec.name) {
                apply(a, Inherit::None);
            }
        }
        if let Some(identifier) = identifier {
            for block in &self.overrides {
                if block.selector.matches(identifier) {
                    if let Some(a) = block.layer.get(spec.name) {
                        let rule = block
                            .inherit
                            .get(spec.name)
                            .copied()
                            .unwrap_or(Inherit::None);
                        apply(a, rule);
                    }
                }
            }
        }
        for layer in &self.top {
            if let Some(a) = layer.get(spec.name) {
                apply(a, Inherit::None);
            }
        }
        // The defaults layer sets every option (see `default_layer`), so `current` is set.
        current.unwrap_or_else(|| unreachable!("option `{}` has no default", spec.name))
    }
}

pub(super) fn default_layer() -> Layer {
    Layer {
        assignments: OPTIONS
            .iter()
            .map(|spec| Assignment {
                spec,
                value: options::parse_text(spec, &spec.default_text())
                    .unwrap_or_else(|e| unreachable!("default of `{}`: {e}", spec.name)),
                source: Source::Default,
            })
            .collect(),
    }
}

pub(super) fn env_layers(
    env: &BTreeMap<String, String>,
    warnings: &mut Vec<String>,
) -> Result<Vec<Layer>, ConfigError> {
    // CIBW_*, CIBW_*_LINUX, WHEELWRIGHT_*, INPUT_*
    let mut layers = vec![
        Layer::default(),
        Layer::default(),
        Layer::default(),
        Layer::default(),
    ];
    for spec in OPTIONS {
        let stem = spec.env_stem();
        let mut candidates: Vec<(String, usize)> = Vec::new();
        if spec.cibuildwheel != Cibw::No {
            candidates.push((format!("CIBW_{stem}"), 0));
            if spec.platform_env {
                candidates.push((format!("CIBW_{stem}_LINUX"), 1));
            }
        }
        candidates.push((format!("WHEELWRIGHT_{stem}"), 2));
        candidates.push((format!("INPUT_{stem}"), 3));
        let hyphenated = format!("INPUT_{}", spec.name.to_ascii_uppercase());
        if hyphenated != format!("INPUT_{stem}") {
            candidates.push((hyphenated, 3));
        }
        for (name, layer) in candidates {
            let Some(text) = env.get(&name) else { continue };
            let is_input = layer == 3;
            if text.trim().is_empty() && (is_input || spec.empty_is_unset()) {
                continue;
            }
            let source = if is_input {
                Source::ActionInput { name }
            } else {
                Source::Env { name }
            };
            let value =
                options::parse_text(spec, text).map_err(|message| ConfigError::Invalid {
                    location: source.location(),
                    key: spec.name.to_owned(),
                    message,
                })?;
            layers[layer].assignments.push(Assignment {
                spec,
                value,
                source,
            });
        }
    }
    for name in env.keys() {
        let Some(rest) = name.strip_prefix("CIBW_") else {
            continue;
        };
        let rest = rest.strip_suffix("_LINUX").unwrap_or(rest);
        if let Some(option) = UNSUPPORTED_CIBUILDWHEEL
            .iter()
            .find(|o| o.to_ascii_uppercase().replace('-', "_") == rest)
        {
            warnings.push(format!(
                "environment variable `{name}` (cibuildwheel's `{option}`) is not supported by wheelwright and is ignored"
            ));
        }
    }
    Ok(layers)
}

pub(super) fn cli_layer(values: &[CliValue]) -> Result<Layer, ConfigError> {
    let mut layer = Layer::default();
    for cli in values {
        let source = Source::CommandLine {
            flag: cli.flag.clone(),
        };
        let Some(spec) = options::find(&cli.option) else {
            return Err(ConfigError::Invalid {
                location: source.location(),
                key: cli.option.clone(),
                message: "not a wheelwright option".to_owned(),
            });
        };
        let value =
            options::parse_text(spec, &cli.value).map_err(|message| ConfigError::Invalid {
                location: source.location(),
                key: spec.name.to_owned(),
                message,
            })?;
        layer.assignments.push(Assignment {
            spec,
            value,
            source,
        });
    }
    Ok(layer)
}
