//! `wheelwright show`: audit wheels and explain the tag they can carry.

use std::process::ExitCode;

use anyhow::{Context as _, Result};

use crate::audit::wheel::{ShowRequest, Shown, show_wheel};
use crate::cli::ShowArgs;
use crate::commands::common::{each_input, search_env};
use crate::ui;

/// The text `show` prints for one wheel.
fn render(shown: &Shown, json: bool) -> Result<String> {
    Ok(match (shown, json) {
        (Shown::Pure { wheel }, true) => format!(
            "{}\n",
            serde_json::json!({"version": 1, "wheel": wheel, "pure": true})
        ),
        (Shown::Pure { wheel }, false) => {
            format!("{wheel}\n  pure Python wheel: no platform tag needed\n")
        }
        (Shown::Report(report), true) => {
            let mut line = serde_json::to_string(report).context("serialising the report")?;
            line.push('\n');
            line
        }
        (Shown::Report(report), false) => report.render(),
    })
}

/// Runs `wheelwright show`.
pub fn run(args: &ShowArgs) -> Result<ExitCode> {
    let env = search_env(&args.resolve)?;
    let request = ShowRequest {
        no_verify: args.no_verify,
        allow_pure_python_wheel: args.allow_pure_python_wheel,
        disable_isa_ext_check: args.resolve.disable_isa_ext_check,
        no_abi3_audit: args.resolve.no_abi3_audit,
    };
    Ok(each_input(args.wheels.iter().enumerate(), |(i, path)| {
        let text = render(&show_wheel(path, &request, &env)?, args.json)?;
        if i > 0 && !args.json {
            ui::data("\n");
        }
        ui::data(&text);
        Ok(())
    }))
}
