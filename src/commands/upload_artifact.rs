//! `wheelwright upload-artifact`: upload files as a workflow artifact with the native
//! artifacts v4 client (`crate::github::artifact`).

use std::process::ExitCode;

use anyhow::{Context as _, Result};

use crate::cli::UploadArtifactArgs;
use crate::github::artifact::{self, Client, RuntimeEnv};
use crate::ui;
use crate::ui::github::{Group, append_step_summary, set_output};

/// Runs the command.
pub fn run(args: &UploadArtifactArgs) -> Result<ExitCode> {
    artifact::validate_name(&args.name)?;
    let missing = artifact::missing_env();
    if args.if_available && !missing.is_empty() {
        ui::message(&format!(
            "artifact service not available to this step ({} not set): not uploading `{}` here",
            missing.join(" and "),
            args.name
        ));
        set_output("uploaded", "false").context("cannot write GITHUB_OUTPUT")?;
        set_output("artifact-name", &args.name).context("cannot write GITHUB_OUTPUT")?;
        if args.json {
            let value = serde_json::json!({ "uploaded": false, "name": args.name });
            ui::data(&format!("{value}\n"));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let env = RuntimeEnv::from_env()?;
    let payload = artifact::collect(&args.paths)?;
    let _group = Group::start(&format!("Upload artifact {}", args.name));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let client = Client::new(env)?;
    let uploaded = runtime
        .block_on(client.upload(
            &args.name,
            &payload,
            args.retention_days,
            args.compression_level,
        ))
        .with_context(|| format!("cannot upload artifact `{}`", args.name))?;

    ui::message(&format!(
        "uploaded artifact `{}` (id {}): {} file(s), {} bytes, {}",
        uploaded.name, uploaded.id, uploaded.files, uploaded.size, uploaded.digest
    ));
    let outputs = [
        ("uploaded", "true".to_owned()),
        ("artifact-name", uploaded.name.clone()),
        ("artifact-id", uploaded.id.clone()),
        ("artifact-digest", uploaded.digest.clone()),
        ("artifact-url", uploaded.url.clone().unwrap_or_default()),
    ];
    for (name, value) in &outputs {
        set_output(name, value).context("cannot write GITHUB_OUTPUT")?;
    }
    let shown_name = match &uploaded.url {
        Some(url) => format!("[`{}`]({url})", uploaded.name),
        None => format!("`{}`", uploaded.name),
    };
    append_step_summary(&format!(
        "| artifact | files | bytes | sha256 |\n|---|---:|---:|---|\n| {shown_name} | {} | {} | `{}` |\n\n",
        uploaded.files,
        uploaded.size,
        uploaded.digest.trim_start_matches("sha256:")
    ))
    .context("cannot write GITHUB_STEP_SUMMARY")?;
    if args.json {
        let mut value = serde_json::to_value(&uploaded)?;
        value["uploaded"] = serde_json::Value::Bool(true);
        ui::data(&format!("{value}\n"));
    }
    Ok(ExitCode::SUCCESS)
}
