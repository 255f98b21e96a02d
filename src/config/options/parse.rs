//! Parsing one option value: from its string form (environment variables, Action inputs,
//! flags, defaults) and from a TOML node, with the error that names the key.

use std::path::PathBuf;

use crate::config::archs::Archs;
use crate::config::environment::{Environment, check_name};
use crate::config::identifier::{Identifier, Selector};
use crate::config::image::{ContainerImage, Image};
use crate::config::pythons::{self, EnableGroup, EnableSet};
use crate::config::toml_tree::{Node, NodeValue};
use crate::config::values::{
    BuildFrontend, CompilerCache, ConfigSetting, ContainerEngine, Jobs, PullPolicy, RepairCommand,
    ShellCommand, parse_bool, shell_words,
};

use super::{Kind, OptionSpec, OptionValue};

/// Parses the string form (environment variables, Action inputs, flags, defaults).
pub fn parse_text(spec: &OptionSpec, text: &str) -> Result<OptionValue, String> {
    Ok(match spec.kind {
        Kind::Selector => {
            Selector::parse(text).map_err(|e| e.to_string())?;
            OptionValue::Selector(text.split_whitespace().collect::<Vec<_>>().join(" "))
        }
        Kind::Archs => OptionValue::Archs(Archs::parse(text)?),
        Kind::Enable => OptionValue::Enable(parse_enable_set(text.split_whitespace())?),
        Kind::Path => {
            let text = text.trim();
            if text.is_empty() {
                return Err("empty path".to_owned());
            }
            OptionValue::Path(PathBuf::from(text))
        }
        Kind::Jobs => OptionValue::Jobs(Jobs::parse(text)?),
        Kind::Pull => OptionValue::Pull(PullPolicy::parse(text)?),
        Kind::CompilerCache => OptionValue::CompilerCache(CompilerCache::parse(text)?),
        Kind::Only => OptionValue::Only(parse_only(text)?),
        Kind::Command => OptionValue::Command(ShellCommand::join([text])),
        Kind::Repair => OptionValue::Repair(RepairCommand::from_text(text)),
        Kind::Environment => OptionValue::Environment(Environment::parse(text)?),
        Kind::EnvironmentPass => {
            let names: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
            for name in &names {
                check_name(name)?;
            }
            OptionValue::List(names)
        }
        Kind::Words => OptionValue::List(text.split_whitespace().map(str::to_owned).collect()),
        Kind::Extras => OptionValue::List(
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
        Kind::ShellWords => OptionValue::List(shell_words(text)?),
        Kind::ConfigSettings => OptionValue::ConfigSettings(ConfigSetting::parse_list(text)?),
        Kind::Frontend => OptionValue::Frontend(BuildFrontend::parse(text)?),
        Kind::Engine => OptionValue::Engine(ContainerEngine::parse(text)?),
        Kind::Image(libc, arch) => OptionValue::Image(Image::parse(text, libc, arch)?),
        Kind::TestImage => {
            let text = text.trim();
            OptionValue::TestImage(if text.is_empty() {
                None
            } else {
                Some(ContainerImage::parse(text)?)
            })
        }
    })
}

fn parse_enable_set<'a>(words: impl IntoIterator<Item = &'a str>) -> Result<EnableSet, String> {
    let mut set = EnableSet::new();
    for word in words {
        if word == "all" {
            // cibuildwheel's groups; wheelwright's own are enabled by name (see `pythons`).
            set.extend(EnableGroup::ALL.into_iter().filter(|g| g.is_cibuildwheel()));
            continue;
        }
        let group = word.parse::<EnableGroup>().map_err(|()| {
            let names: Vec<&str> = EnableGroup::ALL.iter().map(|g| g.as_str()).collect();
            let hint = crate::config::suggest(word, names.iter().copied())
                .map(|s| format!("did you mean `{s}`? "))
                .unwrap_or_default();
            format!(
                "unknown group `{word}` ({hint}expected all or one of {})",
                names.join(", ")
            )
        })?;
        set.insert(group);
    }
    Ok(set)
}

fn parse_only(text: &str) -> Result<Option<Identifier>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let id: Identifier = text
        .parse()
        .map_err(|e: crate::config::identifier::IdentifierError| e.to_string())?;
    if !pythons::is_known(&id) {
        return Err(format!(
            "wheelwright does not build `{id}` (see `wheelwright plan --print-identifiers` with `archs = \"all\"` and `enable = \"all cpython-eol cpython-freethreading pypy-legacy\"`)"
        ));
    }
    Ok(Some(id))
}

/// Why a TOML value was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NodeError {
    /// The TOML type is wrong; `expected` says what is accepted.
    WrongType {
        /// The key path below the option. Ex) `environment.CFLAGS`
        key: String,
        /// Ex) `a string or an array of strings`
        expected: &'static str,
        /// Ex) `an integer`
        found: &'static str,
        /// Position of the value.
        line: usize,
        /// Position of the value.
        column: usize,
    },
    /// The type is right but the value is not.
    Invalid(String),
}

fn wrong_type(key: String, expected: &'static str, node: &Node) -> NodeError {
    NodeError::WrongType {
        key,
        expected,
        found: node.type_name(),
        line: node.line,
        column: node.column,
    }
}

/// A string, or an array of strings (`key` names the option for errors).
fn strings<'a>(spec: &OptionSpec, node: &'a Node) -> Result<Vec<&'a str>, NodeError> {
    match &node.value {
        NodeValue::String(s) => Ok(vec![s.as_str()]),
        NodeValue::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match &item.value {
                NodeValue::String(s) => Ok(s.as_str()),
                _ => Err(wrong_type(format!("{}[{i}]", spec.name), "a string", item)),
            })
            .collect(),
        _ => Err(wrong_type(spec.name.to_owned(), spec.expected_toml(), node)),
    }
}

fn string_array(key: String, node: &Node) -> Result<Vec<String>, NodeError> {
    match &node.value {
        NodeValue::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match &item.value {
                NodeValue::String(s) => Ok(s.clone()),
                _ => Err(wrong_type(format!("{key}[{i}]"), "a string", item)),
            })
            .collect(),
        _ => Err(wrong_type(key, "an array of strings", node)),
    }
}

/// Parses the TOML form of an option value.
pub(crate) fn parse_node(spec: &OptionSpec, node: &Node) -> Result<OptionValue, NodeError> {
    let invalid = NodeError::Invalid;
    let is_string = matches!(node.value, NodeValue::String(_));
    match spec.kind {
        Kind::Selector | Kind::Archs | Kind::Enable => {
            let joined = strings(spec, node)?.join(" ");
            parse_text(spec, &joined).map_err(invalid)
        }
        Kind::Command => Ok(OptionValue::Command(ShellCommand::join(strings(
            spec, node,
        )?))),
        Kind::Repair => {
            let parts = strings(spec, node)?;
            Ok(OptionValue::Repair(if is_string {
                RepairCommand::from_text(parts[0])
            } else {
                RepairCommand::from_list(parts)
            }))
        }
        Kind::EnvironmentPass | Kind::Words | Kind::Extras | Kind::ShellWords => {
            let parts = strings(spec, node)?;
            if is_string {
                return parse_text(spec, parts[0]).map_err(invalid);
            }
            if spec.kind == Kind::EnvironmentPass {
                for name in &parts {
                    check_name(name).map_err(invalid)?;
                }
            }
            Ok(OptionValue::List(
                parts.into_iter().map(str::to_owned).collect(),
            ))
        }
        Kind::Environment => match &node.value {
            NodeValue::String(s) => parse_text(spec, s).map_err(invalid),
            NodeValue::Table(entries) => {
                let mut pairs = Vec::new();
                for (key, value) in entries {
                    match &value.value {
                        NodeValue::String(s) => pairs.push((key.name.as_str(), s.as_str())),
                        _ => {
                            return Err(wrong_type(
                                format!("{}.{}", spec.name, key.name),
                                "a string",
                                value,
                            ));
                        }
                    }
                }
                Environment::from_table(pairs)
                    .map(OptionValue::Environment)
                    .map_err(invalid)
            }
            _ => Err(wrong_type(spec.name.to_owned(), spec.expected_toml(), node)),
        },
        Kind::ConfigSettings => match &node.value {
            NodeValue::String(s) => parse_text(spec, s).map_err(invalid),
            NodeValue::Table(entries) => {
                let mut settings = Vec::new();
                for (key, value) in entries {
                    let values = match &value.value {
                        NodeValue::String(s) => vec![s.clone()],
                        NodeValue::Array(_) => {
                            string_array(format!("{}.{}", spec.name, key.name), value)?
                        }
                        _ => {
                            return Err(wrong_type(
                                format!("{}.{}", spec.name, key.name),
                                "a string or an array of strings",
                                value,
                            ));
                        }
                    };
                    settings.extend(values.into_iter().map(|v| ConfigSetting {
                        key: key.name.clone(),
                        value: Some(v),
                    }));
                }
                Ok(OptionValue::ConfigSettings(settings))
            }
            _ => Err(wrong_type(spec.name.to_owned(), spec.expected_toml(), node)),
        },
        Kind::Frontend => match &node.value {
            NodeValue::String(s) => parse_text(spec, s).map_err(invalid),
            NodeValue::Table(_) => {
                let name = table_string(spec, node, "name")?
                    .ok_or_else(|| invalid(format!("a `{}` table needs `name`", spec.name)))?;
                let args = match node.get("args") {
                    Some((_, value)) => string_array(format!("{}.args", spec.name), value)?,
                    None => Vec::new(),
                };
                only_keys(spec, node, &["name", "args"])?;
                BuildFrontend::from_parts(&name, args)
                    .map(OptionValue::Frontend)
                    .map_err(invalid)
            }
            _ => Err(wrong_type(spec.name.to_owned(), spec.expected_toml(), node)),
        },
        Kind::Engine => match &node.value {
            NodeValue::String(s) => parse_text(spec, s).map_err(invalid),
            NodeValue::Table(_) => {
                let name = table_string(spec, node, "name")?
                    .ok_or_else(|| invalid(format!("a `{}` table needs `name`", spec.name)))?;
                let create_args = match node.get("create-args") {
                    Some((_, value)) => string_array(format!("{}.create-args", spec.name), value)?,
                    None => Vec::new(),
                };
                let disable_host_mount = match node.get("disable-host-mount") {
                    Some((_, value)) => match value.value {
                        NodeValue::Boolean(b) => b,
                        NodeValue::String(ref s) => parse_bool(s).map_err(invalid)?,
                        _ => {
                            return Err(wrong_type(
                                format!("{}.disable-host-mount", spec.name),
                                "a boolean",
                                value,
                            ));
                        }
                    },
                    None => false,
                };
                only_keys(spec, node, &["name", "create-args", "disable-host-mount"])?;
                ContainerEngine::from_parts(&name, create_args, disable_host_mount)
                    .map(OptionValue::Engine)
                    .map_err(invalid)
            }
            _ => Err(wrong_type(spec.name.to_owned(), spec.expected_toml(), node)),
        },
        Kind::Jobs => match &node.value {
            NodeValue::Integer(n) => u32::try_from(*n)
                .ok()
                .and_then(std::num::NonZeroU32::new)
                .map(|n| OptionValue::Jobs(Jobs::Count(n)))
                .ok_or_else(|| invalid(format!("`{n}` is not a positive number of jobs"))),
            NodeValue::String(s) => parse_text(spec, s).map_err(invalid),
            _ => Err(wrong_type(spec.name.to_owned(), spec.expected_toml(), node)),
        },
        Kind::Path
        | Kind::Pull
        | Kind::CompilerCache
        | Kind::Only
        | Kind::Image(..)
        | Kind::TestImage => match &node.value {
            NodeValue::String(s) => parse_text(spec, s).map_err(invalid),
            _ => Err(wrong_type(spec.name.to_owned(), spec.expected_toml(), node)),
        },
    }
}

fn table_string(spec: &OptionSpec, node: &Node, key: &str) -> Result<Option<String>, NodeError> {
    match node.get(key) {
        Some((_, value)) => match &value.value {
            NodeValue::String(s) => Ok(Some(s.clone())),
            _ => Err(wrong_type(
                format!("{}.{key}", spec.name),
                "a string",
                value,
            )),
        },
        None => Ok(None),
    }
}

fn only_keys(spec: &OptionSpec, node: &Node, allowed: &[&str]) -> Result<(), NodeError> {
    for (key, _) in node.as_table().unwrap_or_default() {
        if !allowed.contains(&key.name.as_str()) {
            return Err(NodeError::Invalid(format!(
                "unknown key `{}` in the `{}` table (expected {})",
                key.name,
                spec.name,
                allowed.join(", ")
            )));
        }
    }
    Ok(())
}
