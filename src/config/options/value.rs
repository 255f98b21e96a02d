//! A parsed option value: its typed forms, how it prints and serialises, and how overrides
//! inherit it (`inherit.<option> = "append" | "prepend"`).

use std::fmt;
use std::path::PathBuf;

use crate::config::archs::Archs;
use crate::config::environment::Environment;
use crate::config::identifier::Identifier;
use crate::config::image::{ContainerImage, Image};
use crate::config::pythons::EnableSet;
use crate::config::values::{
    BuildFrontend, CompilerCache, ConfigSetting, ContainerEngine, Jobs, PullPolicy, RepairCommand,
    ShellCommand,
};

/// A parsed option value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(untagged)]
pub enum OptionValue {
    /// `build`, `skip`, `test-skip`: the globs as written, space-separated.
    Selector(String),
    /// `archs`.
    Archs(#[serde(serialize_with = "as_display")] Archs),
    /// `enable`.
    Enable(EnableSet),
    /// `output-dir`.
    Path(PathBuf),
    /// `jobs`.
    Jobs(Jobs),
    /// `pull`.
    Pull(PullPolicy),
    /// `compiler-cache`.
    CompilerCache(CompilerCache),
    /// `only`.
    Only(#[serde(serialize_with = "as_display_opt")] Option<Identifier>),
    /// Commands.
    Command(ShellCommand),
    /// `repair-wheel-command`.
    Repair(RepairCommand),
    /// `environment`.
    Environment(Environment),
    /// Word lists.
    List(Vec<String>),
    /// `config-settings`.
    ConfigSettings(#[serde(serialize_with = "as_display_list")] Vec<ConfigSetting>),
    /// `build-frontend`.
    Frontend(BuildFrontend),
    /// `container-engine`.
    Engine(ContainerEngine),
    /// Build images.
    Image(Image),
    /// Test images.
    TestImage(Option<ContainerImage>),
}

fn as_display<T: fmt::Display, S: serde::Serializer>(
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

fn as_display_opt<T: fmt::Display, S: serde::Serializer>(
    value: &Option<T>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => serializer.collect_str(value),
        None => serializer.serialize_none(),
    }
}

fn as_display_list<T: fmt::Display, S: serde::Serializer>(
    value: &[T],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(value.iter().map(ToString::to_string))
}

impl fmt::Display for OptionValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptionValue::Selector(text) => f.write_str(text),
            OptionValue::Archs(archs) => write!(f, "{archs}"),
            OptionValue::Enable(groups) => {
                let names: Vec<&str> = groups.iter().map(|g| g.as_str()).collect();
                f.write_str(&names.join(" "))
            }
            OptionValue::Path(path) => write!(f, "{}", path.display()),
            OptionValue::Jobs(jobs) => write!(f, "{jobs}"),
            OptionValue::Pull(pull) => write!(f, "{pull}"),
            OptionValue::CompilerCache(cache) => write!(f, "{cache}"),
            OptionValue::Only(only) => match only {
                Some(id) => write!(f, "{id}"),
                None => Ok(()),
            },
            OptionValue::Command(command) => write!(f, "{command}"),
            OptionValue::Repair(repair) => write!(f, "{repair}"),
            OptionValue::Environment(env) => write!(f, "{env}"),
            OptionValue::List(items) => f.write_str(&items.join(" ")),
            OptionValue::ConfigSettings(settings) => {
                let words: Vec<String> = settings.iter().map(ToString::to_string).collect();
                f.write_str(&words.join(" "))
            }
            OptionValue::Frontend(frontend) => write!(f, "{frontend}"),
            OptionValue::Engine(engine) => write!(f, "{engine}"),
            OptionValue::Image(image) => write!(f, "{image}"),
            OptionValue::TestImage(image) => match image {
                Some(image) => write!(f, "{image}"),
                None => Ok(()),
            },
        }
    }
}

/// How an override combines with the value before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inherit {
    /// Replace (the default).
    None,
    /// Earlier value, then this one.
    Append,
    /// This value, then the earlier one.
    Prepend,
}

impl OptionValue {
    /// Combines `self` (earlier) with `newer` under `rule`. Only list-like values merge; for
    /// the others (and `Inherit::None`) the newer value wins.
    #[must_use]
    pub fn inherit(&self, newer: &OptionValue, rule: Inherit) -> OptionValue {
        let (first, second) = match rule {
            Inherit::None => return newer.clone(),
            Inherit::Append => (self, newer),
            Inherit::Prepend => (newer, self),
        };
        match (first, second) {
            (OptionValue::Command(a), OptionValue::Command(b)) => {
                OptionValue::Command(ShellCommand::join([a.as_str(), b.as_str()]))
            }
            (OptionValue::Repair(a), OptionValue::Repair(b)) => {
                OptionValue::Repair(RepairCommand {
                    steps: a.steps.iter().chain(&b.steps).cloned().collect(),
                })
            }
            (OptionValue::Environment(a), OptionValue::Environment(b)) => {
                OptionValue::Environment(Environment {
                    assignments: a
                        .assignments
                        .iter()
                        .chain(&b.assignments)
                        .cloned()
                        .collect(),
                })
            }
            (OptionValue::List(a), OptionValue::List(b)) => {
                OptionValue::List(a.iter().chain(b).cloned().collect())
            }
            (OptionValue::ConfigSettings(a), OptionValue::ConfigSettings(b)) => {
                OptionValue::ConfigSettings(a.iter().chain(b).cloned().collect())
            }
            (OptionValue::Enable(a), OptionValue::Enable(b)) => {
                OptionValue::Enable(a.union(b).copied().collect())
            }
            (OptionValue::Engine(a), OptionValue::Engine(b)) => {
                // The engine named by the newer value; arguments from both, in order.
                let name_from = if rule == Inherit::Append { b } else { a };
                OptionValue::Engine(ContainerEngine {
                    kind: name_from.kind,
                    create_args: a
                        .create_args
                        .iter()
                        .chain(&b.create_args)
                        .cloned()
                        .collect(),
                    disable_host_mount: a.disable_host_mount || b.disable_host_mount,
                })
            }
            _ => newer.clone(),
        }
    }
}
