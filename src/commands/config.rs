//! `wheelwright config --show`: the resolved configuration and where each value came from.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Result;
use serde_json::{Value, json};

use crate::cli::ConfigArgs;
use crate::commands::common::{archs_flag, load};
use crate::config::options::{Kind, OPTIONS, OptionSpec, OptionValue, Scope};
use crate::config::{Settings, Sourced, candidate_identifiers};
use crate::ui;

pub fn run(args: &ConfigArgs) -> Result<ExitCode> {
    let settings = load(
        &args.project_dir,
        args.config_file.as_deref(),
        archs_flag(args.archs.as_ref()),
    )?;
    let text = if args.json {
        let mut text = serde_json::to_string_pretty(&show_json(&settings))?;
        text.push('\n');
        text
    } else {
        show_text(&settings)
    };
    ui::data(&text);
    Ok(ExitCode::SUCCESS)
}

/// Options shown per identifier in the identifier list rather than as overrides.
fn is_image(spec: &OptionSpec) -> bool {
    matches!(spec.kind, Kind::Image(..) | Kind::TestImage)
}

fn source_text(value: &Sourced<impl Sized>) -> String {
    let mut text = value.source.to_string();
    for earlier in value.inherited.iter().rev() {
        let _ = write!(text, ", after {earlier}");
    }
    text
}

fn value_text(value: &OptionValue) -> String {
    let text = value.to_string();
    if text.is_empty() {
        "\"\"".to_owned()
    } else {
        text
    }
}

/// `VALUE  (SOURCE)`: a resolved option as `config --show` prints it.
fn option_text(value: &Sourced<OptionValue>) -> String {
    format!("{}  ({})", value_text(&value.value), source_text(value))
}

/// Per identifier, the options whose value differs from the run-wide one.
fn differing(
    settings: &Settings,
    identifier: &crate::config::identifier::Identifier,
) -> Vec<(&'static OptionSpec, Sourced<OptionValue>)> {
    OPTIONS
        .iter()
        .filter(|spec| spec.scope == Scope::Build && !is_image(spec))
        .filter_map(|spec| {
            let global = settings.option(spec, None);
            let own = settings.option(spec, Some(identifier));
            (own.value != global.value).then_some((spec, own))
        })
        .collect()
}

fn show_text(settings: &Settings) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "project: {}", settings.project_dir.display());
    let _ = writeln!(
        out,
        "pyproject.toml: {}",
        settings
            .pyproject
            .as_ref()
            .map_or_else(|| "(none)".to_owned(), |p| p.display().to_string())
    );
    let _ = writeln!(out, "host architecture: {}", settings.host_arch);
    match &settings.requires_python {
        Some(requires) => {
            let _ = writeln!(
                out,
                "requires-python: {}  ({})",
                requires.value, requires.source
            );
        }
        None => {
            let _ = writeln!(out, "requires-python: (none)");
        }
    }
    let _ = writeln!(out);
    let width = OPTIONS.iter().map(|s| s.name.len()).max().unwrap_or(0);
    for spec in OPTIONS {
        let value = settings.option(spec, None);
        let _ = writeln!(out, "{:<width$}  {}", spec.name, option_text(&value));
    }
    let identifiers = candidate_identifiers(settings);
    let _ = writeln!(out);
    let _ = writeln!(out, "identifiers ({}):", identifiers.len());
    for id in &identifiers {
        let own = settings.for_identifier(id);
        let mut line = format!("  {id}  {}", own.image.value.reference);
        if let Some(test_image) = &own.test_image.value {
            let _ = write!(line, "  test image {test_image}");
        }
        if own.test_skipped {
            line.push_str("  (tests skipped)");
        }
        let _ = writeln!(out, "{line}");
        for (spec, value) in differing(settings, id) {
            let _ = writeln!(out, "    {}  {}", spec.name, option_text(&value));
        }
    }
    if identifiers.is_empty() {
        if let Err(err) = settings.selected_identifiers() {
            let _ = writeln!(out, "  ({err})");
        }
    }
    out
}

fn sourced_json(value: &Sourced<impl serde::Serialize>) -> Value {
    let mut object = json!({
        "value": value.value,
        "source": value.source,
    });
    if !value.inherited.is_empty() {
        object["inherited"] = json!(value.inherited);
    }
    object
}

fn show_json(settings: &Settings) -> Value {
    let options: Vec<Value> = OPTIONS
        .iter()
        .map(|spec| {
            let mut entry = sourced_json(&settings.option(spec, None));
            entry["name"] = json!(spec.name);
            entry
        })
        .collect();
    let identifiers: Vec<Value> = candidate_identifiers(settings)
        .iter()
        .map(|id| {
            let own = settings.for_identifier(id);
            let overrides: Vec<Value> = differing(settings, id)
                .iter()
                .map(|(spec, value)| {
                    let mut entry = sourced_json(value);
                    entry["name"] = json!(spec.name);
                    entry
                })
                .collect();
            json!({
                "identifier": id.to_string(),
                "image": own.image.value.reference,
                "image_source": own.image.source,
                "test_image": own.test_image.value,
                "test_skipped": own.test_skipped,
                "overrides": overrides,
            })
        })
        .collect();
    json!({
        "project_dir": settings.project_dir,
        "pyproject": settings.pyproject,
        "host_arch": settings.host_arch,
        "requires_python": settings.requires_python.as_ref().map(sourced_json),
        "options": options,
        "identifiers": identifiers,
        "warnings": settings.warnings,
    })
}
