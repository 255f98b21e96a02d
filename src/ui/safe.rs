//! Making untrusted text safe to print: file names, index replies, project metadata,
//! configuration values and the output of child processes all end up in wheelwright's lines.
//!
//! Two rules, applied by every function of [`crate::ui`] that prints:
//!
//! 1. **No raw control characters.** A control character other than a tab (C0, DEL, C1) is
//!    printed as its Rust escape (`\u{1b}`, `\r`): a name cannot move the cursor, recolour the
//!    terminal or hide what follows. A line's trailing carriage return (CRLF output of a child)
//!    is dropped.
//! 2. **On GitHub Actions, no line becomes a workflow command by accident.** The runner reads
//!    every line of a step's stdout and stderr (split at LF, CR and CRLF) and runs it as a
//!    command when, after leading white space, it starts with `::` (`::warning::…`,
//!    `::stop-commands::…`), or when it contains `##[` followed by a command name and `]` (the
//!    old syntax, still parsed). Lines that would are printed with those characters escaped
//!    (`%3A%3A`, `##\u005b`); the escape of `[` is a JSON escape, so JSON on stdout keeps its
//!    meaning. Only [`super::github`] writes real commands, and it writes them directly.
//!
//! Text interpolated into a message can additionally be made one-line with [`untrusted`]:
//! workflow-command escaping (`%`, CR, LF as `%25`, `%0D`, `%0A`) on Actions, Rust escapes
//! elsewhere.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` is printed as an escape (every control character but the tab).
fn is_unsafe_control(c: char) -> bool {
    c.is_control() && c != '\t'
}

/// Appends the escape of a control character. Ex) `\u{1b}`, `\r`
fn push_escaped(out: &mut String, c: char) {
    let _ = write!(out, "{}", c.escape_default());
}

/// Characters the runner's `TrimStart()` skips before looking for `::` (Unicode white space),
/// plus zero-width characters some .NET versions trimmed too: being stricter costs nothing.
fn is_leading_blank(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{200b}' | '\u{feff}')
}

/// One line (no LF in it) made safe to print.
fn safe_line(line: &str, actions: bool, out: &mut String) {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let start = out.len();
    for c in line.chars() {
        if is_unsafe_control(c) {
            push_escaped(out, c);
        } else {
            out.push(c);
        }
    }
    if !actions {
        return;
    }
    let written = &out[start..];
    let blank = written.len() - written.trim_start_matches(is_leading_blank).len();
    let command_start = written[blank..].starts_with("::");
    let old_syntax = written.contains("##[");
    if command_start || old_syntax {
        let mut line = written.to_owned();
        if command_start {
            line.replace_range(blank..blank + 2, "%3A%3A");
        }
        let line = line.replace("##[", "##\\u005b");
        out.truncate(start);
        out.push_str(&line);
    }
}

/// `text` with every line made safe to print (see the module documentation). Line breaks are
/// kept: they are wheelwright's own.
#[must_use]
pub fn safe_text(text: &str, actions: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut lines = text.split('\n').peekable();
    while let Some(line) = lines.next() {
        safe_line(line, actions, &mut out);
        if lines.peek().is_some() {
            out.push('\n');
        }
    }
    out
}

/// An untrusted string for use inside one line of a message: it cannot break the line nor
/// carry control characters. On Actions the workflow-command escapes (`%25`, `%0D`, `%0A`),
/// elsewhere Rust escapes (`\n`, `\u{1b}`).
#[must_use]
pub fn untrusted_text(text: &str, actions: bool) -> Cow<'_, str> {
    if !text
        .chars()
        .any(|c| c.is_control() || (actions && c == '%'))
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '%' if actions => out.push_str("%25"),
            '\r' if actions => out.push_str("%0D"),
            '\n' if actions => out.push_str("%0A"),
            c if c.is_control() => push_escaped(&mut out, c),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// An untrusted string for one line of a message, escaped for where we run (see
/// [`untrusted_text`]).
#[must_use]
pub fn untrusted(text: &str) -> Cow<'_, str> {
    untrusted_text(text, super::on_actions())
}

/// A path for one line of a message (see [`untrusted`]). Ex) `wheelhouse/x%0A.whl` on Actions
#[must_use]
pub fn path(path: &std::path::Path) -> String {
    untrusted(&path.to_string_lossy()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_that_would_be_commands_are_escaped_on_actions() {
        let hostile = "ok\n::warning::pwned\n  ::stop-commands::tok\r\nx ##[set-output name=a;]b";
        insta::assert_snapshot!(safe_text(hostile, true), @r"
        ok
        %3A%3Awarning::pwned
          %3A%3Astop-commands::tok
        x ##\u005bset-output name=a;]b
        ");
        assert_eq!(
            safe_text("\u{feff}\u{a0}::error::x", true),
            "\u{feff}\u{a0}%3A%3Aerror::x"
        );
    }

    #[test]
    fn carriage_returns_never_start_a_line() {
        // The runner splits at a lone CR too; it is escaped, so the command stays mid-line.
        assert_eq!(safe_text("a\r::warning::x", true), "a\\r::warning::x");
        assert_eq!(safe_text("a\r\nb\r", false), "a\nb");
    }

    #[test]
    fn control_characters_are_escaped_everywhere() {
        assert_eq!(
            safe_text("\u{1b}[31mred\u{7}\tend\u{9b}", false),
            "\\u{1b}[31mred\\u{7}\tend\\u{9b}"
        );
        // Outside Actions `::` is just text.
        assert_eq!(safe_text("::warning::x", false), "::warning::x");
    }

    #[test]
    fn json_keeps_its_meaning() {
        let json = serde_json::json!({"name": "x##[stop-commands]tok", "n": "a\n::warning::b"});
        let text = serde_json::to_string_pretty(&json).expect("json");
        let safe = safe_text(&text, true);
        assert!(!safe.contains("##["));
        let back: serde_json::Value = serde_json::from_str(&safe).expect("still JSON");
        assert_eq!(back, json);
    }

    #[test]
    fn untrusted_strings_stay_on_their_line() {
        assert_eq!(
            untrusted_text("a%b\nc\rd\u{1b}", true),
            "a%25b%0Ac%0Dd\\u{1b}"
        );
        assert_eq!(untrusted_text("a%b\nc\rd", false), "a%b\\nc\\rd");
        assert!(matches!(untrusted_text("plain", true), Cow::Borrowed(_)));
    }
}
