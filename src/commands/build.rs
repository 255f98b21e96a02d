//! `wheelwright build`: turns the command line into [`BuildOptions`], runs the build and reports.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::{Result, anyhow, bail};

use crate::audit::policy::Libc;
use crate::build::{self, BuildOptions};
use crate::cli::BuildArgs;
use crate::config::archs::{Archs, host_arch};
use crate::config::identifier::{BuildSelector, Identifier};
use crate::config::image::Image;
use crate::elf::ElfArch;
use crate::ui;

fn key_value(option: &str, text: &str) -> Result<(String, String)> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => bail!("{option} `{text}`: expected KEY=VALUE"),
    }
}

/// The resolved options of a `wheelwright build` command line.
pub fn options(args: &BuildArgs) -> Result<BuildOptions> {
    let selector =
        BuildSelector::new(&args.build, &args.skip).map_err(|e| anyhow!("--build/--skip: {e}"))?;
    let only = args
        .only
        .as_deref()
        .map(|text| {
            text.parse::<Identifier>()
                .map_err(|e| anyhow!("--only: {e}"))
        })
        .transpose()?;
    let archs = if args.archs.is_empty() {
        None
    } else {
        let archs = Archs::parse(&args.archs.join(" ")).map_err(|e| anyhow!("--archs: {e}"))?;
        Some(archs.expand(host_arch()))
    };
    let mut image_args = BTreeMap::new();
    for (arch, image) in [
        (ElfArch::X86_64, &args.image_x86_64),
        (ElfArch::I686, &args.image_i686),
        (ElfArch::Aarch64, &args.image_aarch64),
        (ElfArch::Ppc64le, &args.image_ppc64le),
        (ElfArch::S390x, &args.image_s390x),
    ] {
        if let Some(image) = image {
            let text = image.trim();
            let libc = if text.starts_with("musllinux") {
                Libc::Musl
            } else {
                Libc::Glibc
            };
            let parsed =
                Image::parse(text, libc, arch).map_err(|e| anyhow!("--image-{arch}: {e}"))?;
            image_args.insert(arch, parsed.reference.as_str().to_owned());
        }
    }
    let environment = args
        .environment
        .iter()
        .map(|e| key_value("--environment", e))
        .collect::<Result<Vec<_>>>()?;
    let config_settings = args
        .config_settings
        .iter()
        .map(|e| key_value("--config-setting", e))
        .collect::<Result<Vec<_>>>()?;
    let hook = |h: &Option<String>| h.as_ref().filter(|h| !h.trim().is_empty()).cloned();
    let mut test = crate::commands::test::test_options(&args.test)?;
    test.skip = crate::config::identifier::Selector::parse(&args.test_skip)
        .map_err(|e| anyhow!("--test-skip: {e}"))?;
    (test.image, test.images) =
        crate::testing::standalone::parse_images("--test-image", &args.test_image)
            .map_err(|e| anyhow!(e))?;
    Ok(BuildOptions {
        project_dir: args.project_dir.clone(),
        output_dir: args.output_dir.clone(),
        archs,
        engine: args.engine,
        images: image_args,
        selector,
        only,
        before_all: hook(&args.before_all),
        before_build: hook(&args.before_build),
        environment,
        environment_pass: args.environment_pass.clone(),
        jobs: args.jobs.map_or_else(build::default_jobs, |j| j as usize),
        keep_container: args.keep_container,
        pull: args.pull,
        dry_run: args.dry_run,
        container_args: args.container_args.clone(),
        frontend: args.build_frontend,
        config_settings,
        pythons: args.pythons.clone(),
        container_binary: args
            .container_binary
            .clone()
            .filter(|p| !p.as_os_str().is_empty()),
        cache_dir: args.cache_dir.clone().filter(|p| !p.as_os_str().is_empty()),
        ccache_dir: args.ccache_dir.clone(),
        test,
    })
}

/// Runs `wheelwright build`.
pub fn run(args: &BuildArgs) -> Result<ExitCode> {
    let options = options(args)?;
    let outcome = build::run(&options)?;
    if args.json {
        ui::data(&format!("{}\n", serde_json::to_string_pretty(&outcome)?));
    }
    if outcome.dry_run {
        if !args.json {
            let ids: Vec<&str> = outcome
                .builds
                .iter()
                .map(|b| b.identifier.as_str())
                .collect();
            ui::data(&format!("{}\n", ids.join("\n")));
        }
        return Ok(ExitCode::SUCCESS);
    }
    ui::message(&format!(
        "\nwheels in `{}` (logs in `{}`):\n{}",
        outcome.output_dir.display(),
        outcome.logs_dir.display(),
        outcome.table().trim_end()
    ));
    for b in &outcome.builds {
        if let Some(test) = b.test.as_ref().filter(|t| t.status.blocks_publish()) {
            let mut text = format!(
                "
{} test {}: {}",
                b.identifier,
                test.cell(),
                test.message.clone().unwrap_or_default()
            );
            if let Some(log) = &test.log {
                text.push_str(&format!(
                    "
  log: {}",
                    log.display()
                ));
            }
            if !test.tail.is_empty() {
                text.push_str(
                    "
  last lines:",
                );
                for line in &test.tail {
                    text.push_str(&format!(
                        "
  | {line}"
                    ));
                }
            }
            ui::message(&text);
        }
    }
    if let Err(err) = ui::github::append_step_summary(&outcome.markdown()) {
        ui::message(&format!("warning: cannot write the job summary: {err}"));
    }
    let failed = outcome.failed();
    if failed > 0 {
        ui::error(&format!(
            "{failed} of {} builds failed",
            outcome.builds.len()
        ));
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
