//! `wheelwright release`: put files on the GitHub Release of a tag — a draft gets every file,
//! each asset's sha256 is checked on the release, then it is published
//! (`crate::github::release`).

use std::process::ExitCode;

use anyhow::{Context as _, Result};

use crate::cli::ReleaseArgs;
use crate::github::release::{
    Action, Endpoints, Options, ReleaseReport, Releases, Target, collect_assets, token_from_env,
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
                    draft: args.draft,
                },
            )
            .await
    })?;

    ui::message(&format!("{} ({})", headline(&report), report.release_url));
    set_output("release-url", &report.release_url).context("cannot write GITHUB_OUTPUT")?;
    let mut summary = format!(
        "### Release [{}]({}): {}\n\n| asset | bytes | sha256 | result |\n|---|---:|---|---|\n",
        report.tag,
        report.release_url,
        headline(&report)
    );
    for asset in &report.assets {
        summary.push_str(&format!(
            "| `{}` | {} | `{}` | {} |\n",
            asset.name,
            asset.size,
            asset.sha256,
            result(asset.action)
        ));
    }
    summary.push('\n');
    append_step_summary(&summary).context("cannot write GITHUB_STEP_SUMMARY")?;
    if args.json {
        ui::data(&format!("{}\n", serde_json::to_string(&report)?));
    }
    Ok(ExitCode::SUCCESS)
}

fn result(action: Action) -> &'static str {
    match action {
        Action::Uploaded => "uploaded, sha256 verified",
        Action::Replaced => "replaced, sha256 verified",
        Action::Skipped => "already there, sha256 verified",
    }
}

/// One line for the log and the summary: what the release holds and what state it is in.
fn headline(report: &ReleaseReport) -> String {
    let count = |action| report.assets.iter().filter(|a| a.action == action).count();
    if report.already_complete {
        return format!(
            "release {} is published with all {} assets; nothing to do",
            report.tag,
            report.assets.len()
        );
    }
    let state = if report.published {
        "published"
    } else if report.draft {
        "left as a draft"
    } else {
        "was already published"
    };
    format!(
        "release {}: {} uploaded, {} replaced, {} already there (sha256 verified); {state}",
        report.tag,
        count(Action::Uploaded),
        count(Action::Replaced),
        count(Action::Skipped),
    )
}
