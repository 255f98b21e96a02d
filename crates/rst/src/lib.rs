//! A structural reStructuredText check: does a description render on PyPI?
//!
//! PyPI renders a `text/x-rst` description (the default when `Description-Content-Type` is
//! absent) with `readme_renderer`, which runs docutils with `halt_level = 2`: the first system
//! message of level WARNING or above aborts the rendering and the upload is rejected ("The
//! description failed to render in the default format of reStructuredText"). A document that
//! renders to nothing is rejected too.
//!
//! This module re-implements the parts of the docutils parser that produce such messages for the
//! mistakes people actually make, following docutils 0.23's state machine (the facts were taken
//! from its `parsers/rst/states.py`, `tableparser.py`, `transforms/references.py`,
//! `transforms/misc.py` and `nodes.py`; nothing here calls or embeds docutils). Covered:
//!
//! * sections: underline or overline too short, overline/underline mismatch, missing underline,
//!   incomplete title, invalid title or transition marker, inconsistent title levels, titles and
//!   transitions where none may be (inside lists, quotes, directives);
//! * transitions at the start or end of the document or a section, or adjacent;
//! * lists and blocks ending without a blank line (bullet, enumerated, definition, field and
//!   option lists, block quotes, literal blocks, line blocks, explicit markup), unexpected
//!   indentation inside a paragraph, a `::` with no literal block after it, inconsistent quoted
//!   literal blocks;
//! * inline markup without an end-string, role errors (unknown, unimplemented, `raw`, bad PEP
//!   and RFC numbers, prefix and suffix role, role with a reference suffix);
//! * references: unknown and ambiguous target names, duplicate explicit targets with different
//!   URIs, indirect targets to unknown names, anonymous reference/target count mismatch,
//!   footnote and citation references without footnotes, undefined and duplicate substitutions;
//! * explicit markup: unknown directives, directive arguments/options/content errors for the
//!   docutils directives, the `raw` and `include` directives (disabled on PyPI), malformed
//!   hyperlink targets and substitution definitions, empty footnotes and citations;
//! * grid tables (malformed structure, text right after the table), simple tables (text in a
//!   column margin, borders that do not match, column spans), `csv-table` data (Python's `csv`
//!   rules in strict mode), `list-table` structure, and table dimensions (header rows, stub
//!   columns, widths), with every cell checked as a nested document;
//! * option values (lengths, integers, choices, flags, required arguments);
//! * bibliographic fields at the top of the document that are empty or not a single paragraph;
//! * documents that render to nothing (only comments or external targets).
//!
//! Known gaps (docutils reports them, this check does not): combining marks outside the
//! combining-diacritics blocks count 1 in a title's width (docutils: 0), Unicode punctuation in
//! inline-markup rules follows docutils' tables but word characters follow Rust's
//! `char::is_alphanumeric`, and INFO-level messages that docutils inserts into the document can
//! change which neighbours a transition has. The real-suite oracle test runs `twine check
//! --strict` (docutils itself) on a corpus of descriptions and lists such gaps explicitly.

mod blocks;
mod chars;
mod directives;
mod inline;
mod tables;

use std::collections::HashMap;
use std::fmt;

use inline::RoleKind;

/// How serious a docutils system message is; all of these stop PyPI's rendering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// docutils level 2.
    Warning,
    /// docutils level 3 (and 4: docutils 0.23 reports no SEVERE messages this check covers).
    Error,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Warning => "WARNING",
            Level::Error => "ERROR",
        })
    }
}

/// One reason the description will not render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Line in the description (from 1); 0 for the whole document.
    pub line: usize,
    /// docutils' level for the message.
    pub level: Level,
    /// The message, worded like docutils'.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.message)
        } else {
            write!(f, "line {}: {}", self.line, self.message)
        }
    }
}

/// Checks a reStructuredText description; an empty result means it renders.
#[must_use]
pub fn check(text: &str) -> Vec<Finding> {
    let lines = split_lines(text);
    let mut doc = Doc::default();
    doc.containers.push(Container::default());
    doc.open.push(0);
    doc.default_role = Some("title-reference".to_owned());
    doc.body(&lines, false);
    doc.finish();
    let mut findings = doc.findings;
    findings.sort_by_key(|f| (f.line == 0, f.line));
    findings.dedup();
    findings
}

/// One source line: tabs expanded to 8 columns, trailing whitespace removed (as docutils'
/// `string2lines` does), with its line number.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    text: String,
    number: usize,
}

impl Line {
    fn is_blank(&self) -> bool {
        self.text.is_empty()
    }

    fn is_indented(&self) -> bool {
        self.text.starts_with(' ')
    }

    /// Leading spaces.
    fn indent(&self) -> usize {
        self.text.len() - self.text.trim_start_matches(' ').len()
    }
}

fn split_lines(text: &str) -> Vec<Line> {
    let text = text.replace("\r\n", "\n");
    text.split([
        '\n', '\r', '\u{b}', '\u{c}', '\u{1c}', '\u{1d}', '\u{1e}', '\u{85}', '\u{2028}',
        '\u{2029}',
    ])
    .enumerate()
    .map(|(i, line)| Line {
        text: expand_tabs(line).trim_end().to_owned(),
        number: i + 1,
    })
    .collect::<Vec<_>>()
    .into_iter()
    .rev()
    .skip_while(Line::is_blank)
    .collect::<Vec<_>>()
    .into_iter()
    .rev()
    .collect()
}

fn expand_tabs(line: &str) -> String {
    if !line.contains('\t') {
        return line.to_owned();
    }
    let mut out = String::with_capacity(line.len() + 8);
    let mut column = 0;
    for c in line.chars() {
        if c == '\t' {
            let spaces = 8 - column % 8;
            out.extend(std::iter::repeat_n(' ', spaces));
            column += spaces;
        } else {
            out.push(c);
            column += 1;
        }
    }
    out
}

/// `s` without its first `n` characters.
fn skip_chars(s: &str, n: usize) -> &str {
    s.char_indices().nth(n).map_or("", |(i, _)| &s[i..])
}

/// The first `n` characters of `s`.
fn take_chars(s: &str, n: usize) -> &str {
    s.char_indices().nth(n).map_or(s, |(i, _)| &s[..i])
}

/// Display width of a title as docutils counts it (`column_width`): East Asian wide and
/// full-width characters count 2, combining characters 0, every other character 1 (zero-width
/// joiners and variation selectors included, unlike a terminal).
///
/// Combining characters are recognised in the combining-diacritics blocks only; other marks
/// with a combining class (e.g. the Devanagari virama) count 1 here and 0 in docutils.
fn column_width(s: &str) -> usize {
    s.chars()
        .map(|c| match unicode_width::UnicodeWidthChar::width(c) {
            Some(2) => 2,
            Some(0) if is_combining_diacritic(c) => 0,
            _ => 1,
        })
        .sum()
}

fn is_combining_diacritic(c: char) -> bool {
    matches!(
        c,
        '\u{0300}'..='\u{036f}'
            | '\u{1ab0}'..='\u{1aff}'
            | '\u{1dc0}'..='\u{1dff}'
            | '\u{20d0}'..='\u{20ff}'
            | '\u{fe20}'..='\u{fe2f}'
    )
}

/// Section title style: underline only, or overline and underline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Under(char),
    Over(char),
}

/// A child of the document or of a section, as far as transition placement cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Elem {
    /// A transition on this line.
    Transition(usize),
    /// Targets, substitution definitions, titles: ignored when placing transitions.
    Ignored,
    /// Any other element (paragraphs, lists…).
    Body,
    /// A subsection (index into `Doc::containers`).
    Section(usize),
}

/// The document (index 0) or a section.
#[derive(Debug, Default)]
struct Container {
    children: Vec<Elem>,
    parent: Option<usize>,
}

/// What a hyperlink target points to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum TargetKind {
    /// A location in the document (`.. _name:`, section titles, footnotes).
    Internal,
    /// An external URI.
    External(String),
    /// Another target name (`.. _a: b_`).
    Indirect(String),
}

/// What a footnote reference refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum FootnoteRef {
    /// `[#]_`: the next auto-numbered footnote.
    AutoNumber,
    /// `[*]_`: the next auto-symbol footnote.
    Symbol,
    /// `[1]_`, `[#label]_`, `[CITATION]_`.
    Named(String),
}

/// Everything collected while parsing, resolved at the end.
#[derive(Debug, Default)]
struct Doc {
    findings: Vec<Finding>,
    /// name → (target id or `None` when ambiguous, explicit?, kind of the winning target).
    names: HashMap<String, (Option<TargetKind>, bool)>,
    /// Named references: (normalized name, line, message when unresolved).
    refs: Vec<(String, usize, Option<String>)>,
    anonymous_refs: Vec<usize>,
    anonymous_targets: usize,
    substitution_defs: Vec<String>,
    substitution_refs: Vec<(String, usize)>,
    auto_footnotes: usize,
    symbol_footnotes: usize,
    auto_footnote_refs: Vec<usize>,
    symbol_footnote_refs: Vec<usize>,
    custom_roles: HashMap<String, RoleKind>,
    /// The role of `` `text` `` without a role; `None` after `.. default-role::` without one.
    default_role: Option<String>,
    title_styles: Vec<Style>,
    /// The document and every section.
    containers: Vec<Container>,
    /// The open containers, document first: `open[level]`.
    open: Vec<usize>,
    /// Whether anything visible was produced.
    visible: bool,
    /// Inside a substitution definition: its content is only shown where it is referenced.
    in_substitution: bool,
    /// Whether the first body element of the document was seen (bibliographic fields).
    seen_body: bool,
}

impl Doc {
    fn report(&mut self, line: usize, level: Level, message: String) {
        self.findings.push(Finding {
            line,
            level,
            message,
        });
    }

    /// docutils' error for an indented line where none may start.
    fn unexpected_indentation(&mut self, line: usize) {
        self.report(line, Level::Error, "Unexpected indentation.".to_owned());
    }

    /// Adds an element to the innermost open section (top level only).
    fn push(&mut self, nested: bool, elem: Elem) {
        if elem == Elem::Body && !self.in_substitution {
            self.visible = true;
        }
        if !nested {
            if elem != Elem::Ignored {
                self.seen_body = true;
            }
            let current = self.open.last().copied().unwrap_or(0);
            self.containers[current].children.push(elem);
        }
    }

    fn named_ref(&mut self, name: &str, line: usize) {
        self.refs.push((name.to_owned(), line, None));
    }

    fn footnote_ref(&mut self, label: &str, line: usize) {
        match inline::footnote_ref_kind(label) {
            FootnoteRef::AutoNumber => self.auto_footnote_refs.push(line),
            FootnoteRef::Symbol => self.symbol_footnote_refs.push(line),
            FootnoteRef::Named(name) => self.named_ref(&name, line),
        }
    }

    /// Registers a target name like docutils' `set_duplicate_name_id`.
    fn target(&mut self, name: &str, kind: TargetKind, explicit: bool, line: usize) {
        if name.is_empty() {
            return;
        }
        let Some((old, old_explicit)) = self.names.get(name).cloned() else {
            self.names.insert(name.to_owned(), (Some(kind), explicit));
            return;
        };
        let mut entry = (old.clone(), old_explicit || explicit);
        if explicit {
            if old_explicit {
                let same_uri = matches!(
                    (&old, &kind),
                    (Some(TargetKind::External(a)), TargetKind::External(b)) if a == b
                );
                if !same_uri {
                    entry.0 = None;
                    self.report(
                        line,
                        Level::Warning,
                        format!("Duplicate explicit target name: \"{name}\"."),
                    );
                }
            } else {
                entry.0 = Some(kind);
            }
        } else if old.is_some() && !old_explicit {
            entry.0 = None;
        }
        self.names.insert(name.to_owned(), entry);
    }

    /// Resolves everything that needs the whole document.
    fn finish(&mut self) {
        let refs = std::mem::take(&mut self.refs);
        for (name, line, message) in refs {
            match self.names.get(&name) {
                None => {
                    let message =
                        message.unwrap_or_else(|| format!("Unknown target name: \"{name}\"."));
                    self.report(line, Level::Error, message);
                }
                Some((None, _)) => self.report(
                    line,
                    Level::Error,
                    format!(
                        "Duplicate target name, cannot be used as a unique reference: \"{name}\"."
                    ),
                ),
                Some(_) => {}
            }
        }
        if self.anonymous_refs.len() != self.anonymous_targets {
            let line = self.anonymous_refs.first().copied().unwrap_or(0);
            let message = format!(
                "Anonymous hyperlink mismatch: {} references but {} targets.",
                self.anonymous_refs.len(),
                self.anonymous_targets
            );
            self.report(line, Level::Error, message);
        }
        let defined: Vec<String> = self
            .substitution_defs
            .iter()
            .map(|d| d.to_lowercase())
            .collect();
        let substitution_refs = std::mem::take(&mut self.substitution_refs);
        for (name, line) in substitution_refs {
            let normalized = whitespace_normalize(&name);
            if !defined.contains(&normalized.to_lowercase()) {
                self.report(
                    line,
                    Level::Error,
                    format!("Undefined substitution referenced: \"{normalized}\"."),
                );
            }
        }
        for (refs, available, kind) in [
            (
                self.auto_footnote_refs.clone(),
                self.auto_footnotes,
                "autonumbered",
            ),
            (
                self.symbol_footnote_refs.clone(),
                self.symbol_footnotes,
                "symbol",
            ),
        ] {
            if refs.len() > available {
                let s = if available > 1 { "s" } else { "" };
                self.report(
                    refs[available],
                    Level::Error,
                    format!(
                        "Too many {kind} footnote references: only {available} corresponding \
                         footnote{s} available."
                    ),
                );
            }
        }
        self.check_transitions();
        if !self.visible {
            self.report(
                0,
                Level::Error,
                "No content rendered from RST source.".to_owned(),
            );
        }
    }

    /// docutils' `Transitions` transform over the section tree: no transition may begin a
    /// section or the document, two may not be adjacent, and one that ends a section moves after
    /// it unless nothing follows anywhere up the tree.
    fn check_transitions(&mut self) {
        let mut findings = Vec::new();
        for (index, container) in self.containers.iter().enumerate() {
            let children = &container.children;
            for (i, elem) in children.iter().enumerate() {
                let Elem::Transition(line) = *elem else {
                    continue;
                };
                let tag = if index == 0 { "document" } else { "section" };
                if children[..i].iter().all(|e| *e == Elem::Ignored) {
                    findings.push((line, format!("Transition at the start of the {tag}.")));
                } else if matches!(children[i - 1], Elem::Transition(_)) {
                    findings.push((
                        line,
                        "At least one body element should separate transitions.".to_owned(),
                    ));
                }
                if children[i + 1..].iter().all(|e| *e == Elem::Ignored) && !self.followed(index) {
                    findings.push((line, "Transition at the end of the document.".to_owned()));
                }
            }
        }
        for (line, message) in findings {
            self.report(line, Level::Warning, message);
        }
    }

    /// Whether section `index` or one of its ancestors has a following sibling.
    fn followed(&self, mut index: usize) -> bool {
        while let Some(parent) = self.containers[index].parent {
            let siblings = &self.containers[parent].children;
            let position = siblings.iter().position(|e| *e == Elem::Section(index));
            if position.is_some_and(|p| p + 1 < siblings.len()) {
                return true;
            }
            index = parent;
        }
        false
    }
}

fn whitespace_normalize(name: &str) -> String {
    name.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::check;

    /// One document per modelled docutils message: (text, line, message), from
    /// `fixtures/modelled-messages.txt` (a `%% LINE MESSAGE` line, then the document).
    fn bad_documents() -> Vec<(String, usize, String)> {
        let fixture = include_str!("../fixtures/modelled-messages.txt");
        let mut cases: Vec<(String, usize, String)> = Vec::new();
        for line in fixture.split_inclusive('\n') {
            if let Some(head) = line.strip_prefix("%% ") {
                let (number, message) = head.trim_end_matches('\n').split_once(' ').unwrap();
                cases.push((String::new(), number.parse().unwrap(), message.to_owned()));
            } else if let Some((text, _, _)) = cases.last_mut() {
                text.push_str(line);
            } else {
                assert!(line.starts_with('#'), "before the first case: {line:?}");
            }
        }
        cases
    }

    #[test]
    fn each_modelled_message() {
        let mut failures = Vec::new();
        let cases = bad_documents();
        assert_eq!(cases.len(), 64, "the fixture's cases");
        for (text, line, message) in &cases {
            let findings = check(text);
            if !findings
                .iter()
                .any(|f| f.line == *line && f.message.contains(message.as_str()))
            {
                failures.push(format!(
                    "{text:?}: expected line {line} `{message}`, got {findings:?}"
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn good_documents_render() {
        for text in [
            "Title\n=====\n\nSub\n---\n\n- a\n- b\n\n1. x\n2. y\n\nterm\n  def\n\n:field: v\n",
            "See `Python <https://python.org>`_, Python_, [1]_, |x| and :code:`x`.\n\n\
             .. _Python: https://python.org\n.. [1] Note.\n.. |x| replace:: y\n",
            ".. note:: Careful.\n\n.. code-block:: python\n\n   print(1)\n\n\
             .. image:: x.png\n   :alt: x\n   :width: 50%\n",
            "+---+---+\n| a | b |\n+===+===+\n| 1 | 2 |\n+---+---+\n\n===  ===\na    b\n===  ===\n",
            "Use \\*args, \\*\\*kwargs, 2 * 3 and snake_case.\n",
            ".. _anchor:\n",
            "An escaped marker \\::\n",
        ] {
            assert_eq!(check(text), [], "{text:?}");
        }
    }
}
