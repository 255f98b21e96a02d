//! `wheelwright man`: the manual page, generated from the command line's definition
//! (clap_mangen), so it always matches this binary. The release workflow writes the pages with
//! `--output-dir` and ships them next to the binaries.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::CommandFactory as _;

use crate::cli::{Cli, ManArgs};
use crate::ui;

/// The roff text of one page.
fn render(command: clap::Command) -> Result<Vec<u8>> {
    let mut page = Vec::new();
    clap_mangen::Man::new(command)
        .render(&mut page)
        .context("cannot render the manual page")?;
    Ok(page)
}

/// Writes `wheelwright.1` and `wheelwright-COMMAND.1` for every command into `dir` (each to a
/// temporary name first, then renamed).
fn write_pages(dir: &Path) -> Result<Vec<String>> {
    fs_err::create_dir_all(dir)?;
    let mut command = Cli::command();
    command.build();
    let mut pages = vec![("wheelwright.1".to_owned(), render(command.clone())?)];
    for sub in command
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
    {
        let name = format!("wheelwright-{}", sub.get_name());
        let page = render(sub.clone().name(name.clone()))?;
        pages.push((format!("{name}.1"), page));
    }
    let mut written = Vec::new();
    for (name, page) in pages {
        let target = dir.join(&name);
        let partial = dir.join(format!(".{name}.partial"));
        fs_err::write(&partial, page)?;
        fs_err::rename(&partial, &target)?;
        written.push(name);
    }
    Ok(written)
}

pub fn run(args: &ManArgs) -> Result<ExitCode> {
    match &args.output_dir {
        Some(dir) => {
            let written = write_pages(dir)?;
            ui::message(&format!(
                "wrote {} manual pages to `{}`",
                written.len(),
                ui::path(dir)
            ));
        }
        None => {
            let mut command = Cli::command();
            command.build();
            ui::data(&String::from_utf8_lossy(&render(command)?));
        }
    }
    Ok(ExitCode::SUCCESS)
}
