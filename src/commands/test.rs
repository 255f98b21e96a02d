//! `wheelwright test`: turns the command line into [`StandaloneOptions`], runs the tests and
//! reports; also the command-line side of the build's test stage ([`test_options`]).

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Result, anyhow, bail};

use crate::cli::{TestArgs, TestStageArgs};
use crate::config::archs::Archs;
use crate::platform::Arch;
use crate::testing::TestOptions;
use crate::testing::standalone::{self, Source, StandaloneOptions};
use crate::ui;

/// The test settings of a command line (images and `test-skip` are the caller's).
pub fn test_options(args: &TestStageArgs) -> Result<TestOptions> {
    let text = |t: &Option<String>| t.as_ref().filter(|t| !t.trim().is_empty()).cloned();
    let mut sources = Vec::new();
    for value in &args.test_sources {
        sources.extend(
            shlex::split(value)
                .ok_or_else(|| anyhow!("--test-sources `{value}`: unbalanced quotes"))?,
        );
    }
    let options = TestOptions {
        command: text(&args.test_command),
        requires: args
            .test_requires
            .iter()
            .flat_map(|r| r.split_whitespace().map(str::to_owned))
            .collect(),
        extras: args
            .test_extras
            .iter()
            .flat_map(|e| e.split(',').map(|x| x.trim().to_owned()))
            .filter(|e| !e.is_empty())
            .collect(),
        sources,
        before_test: text(&args.before_test),
        timeout: Duration::from_secs(args.test_timeout),
    };
    options.check_sources().map_err(|e| anyhow!(e))?;
    Ok(options)
}

fn key_value(option: &str, text: &str) -> Result<(String, String)> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => bail!("{option} `{text}`: expected NAME=VALUE"),
    }
}

/// The resolved options of a `wheelwright test` command line.
pub fn options(args: &TestArgs) -> Result<StandaloneOptions> {
    let test = test_options(&args.test)?;
    let (image, images) =
        standalone::parse_images("--image", &args.image).map_err(|e| anyhow!(e))?;
    let source = match &args.index {
        Some(index) => Source::Index {
            url: standalone::index_url(index).map_err(|e| anyhow!("--index {e}"))?,
            extra_urls: args
                .extra_index_url
                .iter()
                .map(|u| standalone::index_url(u).map_err(|e| anyhow!("--extra-index-url {e}")))
                .collect::<Result<Vec<_>>>()?,
            specs: args.inputs.clone(),
        },
        None => Source::Local(args.inputs.iter().map(std::path::PathBuf::from).collect()),
    };
    let archs = if args.arch.is_empty() {
        Vec::new()
    } else {
        Archs::parse(&args.arch.join(" "))
            .map_err(|e| anyhow!("--arch: {e}"))?
            .expand(Arch::host())
    };
    let log_dir = args
        .log_dir
        .clone()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or_else(|| standalone::default_log_dir(&source));
    Ok(StandaloneOptions {
        source,
        pythons: args.pythons.clone(),
        engine: args.engine,
        archs,
        project: args.project.clone(),
        test,
        image,
        images,
        environment: args
            .environment
            .iter()
            .map(|e| key_value("--environment", e))
            .collect::<Result<Vec<_>>>()?,
        environment_pass: args.environment_pass.clone(),
        container_args: args.container_args.clone(),
        pull: args.pull,
        log_dir,
        cache_dir: args.cache_dir.clone().filter(|p| !p.as_os_str().is_empty()),
    })
}

/// Runs `wheelwright test`.
pub fn run(args: &TestArgs) -> Result<ExitCode> {
    let options = options(args)?;
    let outcome = standalone::run(&options)?;
    if args.json {
        ui::data(&format!("{}\n", serde_json::to_string_pretty(&outcome)?));
    }
    ui::message(&format!(
        "\ntests (logs in `{}`):\n{}",
        outcome.logs_dir.display(),
        outcome.table().trim_end(),
    ));
    let details = outcome.failure_details();
    if !details.trim().is_empty() {
        ui::message(details.trim_end());
    }
    if let Err(err) = ui::github::append_step_summary(&outcome.markdown()) {
        ui::message(&format!("warning: cannot write the job summary: {err}"));
    }
    if !outcome.untested.is_empty() {
        ui::message(&format!(
            "warning: not tested (no interpreter here can install them): {}",
            outcome.untested.join(", ")
        ));
    }
    let failed = outcome.failed();
    if failed > 0 {
        ui::error(&format!("{failed} of {} tests failed", outcome.tests.len()));
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
