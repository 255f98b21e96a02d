//! `wheelwright release`: upload files as assets of the GitHub Release of a tag
//! (`crate::github::release`).

use std::process::ExitCode;

use anyhow::{Context as _, Result};

use crate::cli::ReleaseArgs;
use crate::github::release::{
    Action, Endpoints, Options, Releases, Target, collect_assets, token_from_env,
};
use crate::ui;
use crate::ui::github::{Group, append_step_summary, set_output};

/// Runs the command.
pub fn run(args: &ReleaseArgs) -> Result<ExitCode> {
    let target = Target::from_env(args.tag.as_deref())?;
    let token = token_from_env()?;
    let endpoints = Endpoints::from_env()?;
    let files = collect_assets(&args.files)?;
    let _group = Group::start(&format!("Release assets for {}", target.tag));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = runtime.block_on(async {
        let client = Releases::new(token, endpoints)?;
        client
            .upload(
                &target,
                &files,
                Options {
                    clobber: args.clobber,
                },
            )
            .await
    })?;

    let count = |action| report.assets.iter().filter(|a| a.action == action).count();
    ui::message(&format!(
        "release {}: {} uploaded, {} replaced, {} already there ({})",
        report.tag,
        count(Action::Uploaded),
        count(Action::Replaced),
        count(Action::Skipped),
        report.release_url
    ));
    set_output("release-url", &report.release_url).context("cannot write GITHUB_OUTPUT")?;
    let mut summary = format!(
        "### Release [{}]({})\n\n| asset | bytes | result |\n|---|---:|---|\n",
        report.tag, report.release_url
    );
    for asset in &report.assets {
        let result = match asset.action {
            Action::Uploaded => "uploaded",
            Action::Replaced => "replaced",
            Action::Skipped => "already there",
        };
        summary.push_str(&format!(
            "| `{}` | {} | {result} |\n",
            asset.name, asset.size
        ));
    }
    summary.push('\n');
    append_step_summary(&summary).context("cannot write GITHUB_STEP_SUMMARY")?;
    if args.json {
        ui::data(&format!("{}\n", serde_json::to_string(&report)?));
    }
    Ok(ExitCode::SUCCESS)
}
