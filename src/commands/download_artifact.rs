//! `wheelwright download-artifact`: download workflow artifacts of this run with the native
//! artifacts v4 client (`crate::github::artifact`) and extract their files into one directory.

use std::process::ExitCode;

use anyhow::{Context as _, Result};

use crate::cli::DownloadArtifactArgs;
use crate::github::artifact::{self, Client, RuntimeEnv};
use crate::ui;
use crate::ui::github::{Group, set_output};

/// Runs the command.
pub fn run(args: &DownloadArtifactArgs) -> Result<ExitCode> {
    let missing = artifact::missing_env();
    if args.if_available && !missing.is_empty() {
        ui::message(&format!(
            "artifact service not available to this step ({} not set): not downloading `{}` here",
            missing.join(" and "),
            args.name
        ));
        set_output("downloaded", "false").context("cannot write GITHUB_OUTPUT")?;
        if args.json {
            let value = serde_json::json!({ "downloaded": false, "name": args.name });
            ui::data(&format!("{value}\n"));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let env = RuntimeEnv::from_env()?;
    let _group = Group::start(&format!("Download artifacts {}", args.name));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let client = Client::new(env)?;
    let listed = runtime
        .block_on(client.list())
        .context("cannot list the artifacts of this run")?;
    let names = artifact::matching(&listed, &args.name)?;
    let mut downloaded = Vec::new();
    for name in &names {
        let one = runtime
            .block_on(client.download(name, &args.dir))
            .with_context(|| format!("cannot download artifact `{name}`"))?;
        ui::message(&format!(
            "downloaded artifact `{}`: {} file(s), {} bytes, {}",
            one.name,
            one.files.len(),
            one.size,
            one.digest
        ));
        downloaded.push(one);
    }
    let dir = std::path::absolute(&args.dir).unwrap_or_else(|_| args.dir.clone());
    set_output("downloaded", "true").context("cannot write GITHUB_OUTPUT")?;
    set_output("download-path", &dir.display().to_string())
        .context("cannot write GITHUB_OUTPUT")?;
    set_output("artifacts", &serde_json::to_string(&names)?)
        .context("cannot write GITHUB_OUTPUT")?;
    if args.json {
        let value = serde_json::json!({
            "downloaded": true,
            "path": dir,
            "artifacts": downloaded,
        });
        ui::data(&format!("{value}\n"));
    }
    Ok(ExitCode::SUCCESS)
}
