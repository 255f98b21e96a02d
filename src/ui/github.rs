//! GitHub Actions workflow commands and files: log groups, annotations, masks, step outputs and
//! the job summary. Everything is a no-op (or plain text) outside Actions, so callers need not
//! check. Facts: ../shared/reference/publish.md (workflow commands).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use super::escape_data;
use super::safe::untrusted_text;

/// The job summary limit GitHub enforces per step (1 MiB).
pub const STEP_SUMMARY_LIMIT: usize = 1024 * 1024;

pub use super::on_actions;

/// Escapes an annotation property value (`%`, CR, LF, `:` and `,`; other control characters as
/// Rust escapes).
#[must_use]
pub fn escape_property(text: &str) -> String {
    untrusted_text(text, true)
        .replace(':', "%3A")
        .replace(',', "%2C")
}

/// Escapes the data of a command we write (`%`, CR, LF; other control characters as Rust
/// escapes), so that it stays on the command's line.
fn escape_message(text: &str) -> String {
    untrusted_text(text, true).into_owned()
}

/// Writes one workflow command. The only function that writes lines starting with `::`; every
/// untrusted part of `line` is escaped by the caller.
fn emit(line: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{line}");
    let _ = stderr.flush();
}

/// A collapsible log group; closed when dropped. Outside Actions it prints `==> title`.
#[must_use = "the group ends when this guard is dropped"]
pub struct Group {
    actions: bool,
}

impl Group {
    /// Opens a group titled `title`.
    pub fn start(title: &str) -> Self {
        let actions = on_actions();
        if actions {
            emit(&format!("::group::{}", escape_message(title)));
        } else {
            super::message(&format!("==> {title}"));
        }
        Group { actions }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if self.actions {
            emit("::endgroup::");
        }
    }
}

/// Annotation severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// `::error`
    Error,
    /// `::warning`
    Warning,
    /// `::notice`
    Notice,
}

/// Emits an annotation on Actions (nothing elsewhere; callers print their own message).
pub fn annotation(level: Level, title: Option<&str>, file: Option<&Path>, message: &str) {
    if !on_actions() {
        return;
    }
    let command = match level {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Notice => "notice",
    };
    let mut props = Vec::new();
    if let Some(file) = file {
        props.push(format!("file={}", escape_property(&file.to_string_lossy())));
    }
    if let Some(title) = title {
        props.push(format!("title={}", escape_property(title)));
    }
    let props = if props.is_empty() {
        String::new()
    } else {
        format!(" {}", props.join(","))
    };
    emit(&format!("::{command}{props}::{}", escape_message(message)));
}

/// Asks the runner to mask `secret` in all later log output (Actions only). Empty values and
/// values spanning lines are masked line by line.
pub fn add_mask(secret: &str) {
    if !on_actions() {
        return;
    }
    for line in secret.lines().filter(|l| !l.trim().is_empty()) {
        emit(&format!("::add-mask::{}", escape_data(line)));
    }
}

/// A delimiter for `name<<DELIM` blocks that does not occur in `value`.
fn delimiter_for(value: &str) -> std::io::Result<String> {
    loop {
        let mut bytes = [0u8; 16];
        let mut urandom = fs_err::File::open("/dev/urandom")?;
        std::io::Read::read_exact(&mut urandom, &mut bytes)?;
        let mut delim = String::from("ghadelimiter_");
        for b in bytes {
            let _ = write!(delim, "{b:02x}");
        }
        if !value.contains(&delim) {
            return Ok(delim);
        }
    }
}

fn append_block(file_var: &str, name: &str, value: &str) -> std::io::Result<bool> {
    let Some(path) = std::env::var_os(file_var) else {
        return Ok(false);
    };
    let delim = delimiter_for(value)?;
    let mut file = fs_err::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)?;
    write!(file, "{name}<<{delim}\n{value}\n{delim}\n")?;
    Ok(true)
}

/// Sets a step output (`$GITHUB_OUTPUT`) with a random heredoc delimiter. Returns whether a
/// file was written (false outside Actions).
pub fn set_output(name: &str, value: &str) -> std::io::Result<bool> {
    append_block("GITHUB_OUTPUT", name, value)
}

/// Sets an environment variable for later steps (`$GITHUB_ENV`).
pub fn export_env(name: &str, value: &str) -> std::io::Result<bool> {
    append_block("GITHUB_ENV", name, value)
}

/// Appends Markdown to the job summary (`$GITHUB_STEP_SUMMARY`), keeping the file under
/// [`STEP_SUMMARY_LIMIT`]: when it would overflow, the text is cut at a line boundary and a note
/// says so. Returns whether anything was written.
pub fn append_step_summary(markdown: &str) -> std::io::Result<bool> {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY") else {
        return Ok(false);
    };
    let used = fs_err::metadata(&path).map(|m| m.len()).unwrap_or(0) as usize;
    let note = "\n_(summary truncated: GitHub's 1 MiB limit)_\n";
    let room = STEP_SUMMARY_LIMIT.saturating_sub(used);
    let text = if markdown.len() <= room {
        markdown.to_owned()
    } else if room > note.len() {
        let budget = room - note.len();
        let cut = markdown[..floor_char_boundary(markdown, budget)]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        format!("{}{note}", &markdown[..cut])
    } else {
        return Ok(false);
    };
    let mut file = fs_err::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    Ok(true)
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_escape_separators() {
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
        assert_eq!(escape_property("\u{1b}x\r"), "\\u{1b}x%0D");
        assert_eq!(escape_message("50%\n::x\u{7}"), "50%25%0A::x\\u{7}");
    }

    #[test]
    fn delimiters_are_random_and_absent_from_the_value() {
        let a = delimiter_for("x").expect("urandom");
        let b = delimiter_for("x").expect("urandom");
        assert_ne!(a, b);
        assert!(a.starts_with("ghadelimiter_") && a.len() == 13 + 32);
    }

    #[test]
    fn char_boundary_floor() {
        assert_eq!(floor_char_boundary("aé", 2), 1);
        assert_eq!(floor_char_boundary("ab", 5), 2);
    }
}
