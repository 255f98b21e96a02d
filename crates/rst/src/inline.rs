//! Inline markup: the recognition rules for start- and end-strings, applied the way docutils'
//! `Inliner` applies them (leftmost candidate first; a start-string without a valid end-string is
//! a warning and scanning goes on right after it; no nesting).
//!
//! What it reports (each is a WARNING or ERROR in docutils, so the description does not render):
//! emphasis/strong/literal/interpreted/substitution/inline-target start-strings without an
//! end-string, both a prefix and a suffix role, a role together with a reference suffix, unknown
//! and unimplemented roles, the disabled `raw` role, non-numeric `:pep:`/`:rfc:` targets. It also
//! hands every reference, substitution reference, footnote reference and inline or embedded
//! target to the document so they can be resolved once the whole text is read.

use super::chars::{ESCAPE, is_end_suffix, is_matching_pair, is_start_prefix};
use super::{Doc, FootnoteRef, Level, TargetKind};

/// Roles docutils knows in English (aliases and canonical names), with what using them does.
fn builtin_role(name: &str) -> Option<RoleKind> {
    Some(match name {
        "abbreviation" | "ab" | "acronym" | "ac" | "code" | "emphasis" | "literal" | "math"
        | "strong" | "subscript" | "sub" | "superscript" | "sup" | "title-reference" | "title"
        | "t" => RoleKind::Plain,
        "pep-reference" | "pep" => RoleKind::Pep,
        "rfc-reference" | "rfc" => RoleKind::Rfc,
        "raw" => RoleKind::Raw,
        "index"
        | "i"
        | "anonymous-reference"
        | "citation-reference"
        | "footnote-reference"
        | "named-reference"
        | "substitution-reference"
        | "uri-reference"
        | "uri"
        | "url"
        | "target" => RoleKind::Unimplemented,
        _ => return None,
    })
}

/// What an interpreted-text role does when used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RoleKind {
    /// Renders its text (emphasis, code, title reference…).
    Plain,
    /// `:pep:`: the text must be a number 0–9999.
    Pep,
    /// `:rfc:`: the text must be a number ≥ 1, optionally followed by `#anchor`.
    Rfc,
    /// `:raw:` and roles derived from it: disabled on PyPI.
    Raw,
    /// Registered but not implemented by docutils (`:index:`, `:uri:`…).
    Unimplemented,
}

/// Resolves a role name (case-insensitive): custom roles first, then the built-in ones.
pub(super) fn lookup_role(doc: &Doc, name: &str) -> Option<RoleKind> {
    let name = name.to_lowercase();
    doc.custom_roles
        .get(&name)
        .copied()
        .or_else(|| builtin_role(&name))
}

/// `\x` → `ESCAPE x`, like docutils' `escape2null`.
fn escape(text: &str) -> Vec<char> {
    let mut out = Vec::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            out.push(ESCAPE);
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Removes escape markers; an escaped space or newline disappears with its marker.
pub(super) fn unescape(chars: &[char]) -> String {
    let mut out = String::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == ESCAPE {
            if matches!(chars.get(i + 1), Some(' ' | '\n')) {
                i += 2;
            } else {
                i += 1;
            }
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// docutils' `fully_normalize_name`: lowercase, whitespace runs collapsed to one space.
pub(super) fn normalize_name(name: &str) -> String {
    name.to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A `\w` character that is not `_` (the building block of reference names).
fn is_name_char(c: char) -> bool {
    c.is_alphanumeric()
}

/// The possible ends of a "simple name" (`word([-._+:]word)*`) starting at `start`, longest
/// first. Empty when no name starts there.
fn simplename_ends(chars: &[char], start: usize) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut i = start;
    loop {
        let word_start = i;
        while i < chars.len() && is_name_char(chars[i]) {
            i += 1;
        }
        if i == word_start {
            break;
        }
        ends.push(i);
        if i + 1 < chars.len()
            && matches!(chars[i], '-' | '.' | '_' | '+' | ':')
            && is_name_char(chars[i + 1])
        {
            i += 1;
        } else {
            break;
        }
    }
    ends.reverse();
    ends
}

/// The inline parser over one text block (a paragraph, a title, a list-item line…).
struct Inliner<'a> {
    doc: &'a mut Doc,
    chars: Vec<char>,
    /// Line of the first character.
    line: usize,
    /// Start of the unprocessed rest: positions here count as the start of the text.
    base: usize,
    /// The text content so far (docutils' `astext()` of the parsed nodes).
    text: String,
    /// Where the text content has been copied up to.
    flushed: usize,
}

/// A recognised start-string and what it starts.
enum Start {
    Strong,
    Emphasis,
    Literal,
    Target,
    Substitution,
    /// A simple reference `name_` or `name__` (whole construct); `end` is past the underscores.
    Reference {
        name_end: usize,
        end: usize,
    },
    /// `[label]_` (whole construct); `label` is the text between the brackets.
    Footnote {
        label_end: usize,
        end: usize,
    },
    /// Interpreted text or a phrase reference; `role` is the prefix role's name range and
    /// `backquote` the position of the opening backquote.
    Backquote {
        role: Option<(usize, usize)>,
        backquote: usize,
    },
}

impl Inliner<'_> {
    fn at(&self, i: usize) -> Option<char> {
        self.chars.get(i).copied()
    }

    fn is_ws(&self, i: usize) -> bool {
        self.at(i).is_some_and(char::is_whitespace)
    }

    /// Line of position `i`.
    fn line_of(&self, i: usize) -> usize {
        self.line
            + self.chars[..i.min(self.chars.len())]
                .iter()
                .filter(|&&c| c == '\n')
                .count()
    }

    fn report(&mut self, at: usize, level: Level, message: String) {
        let line = self.line_of(at);
        self.doc.report(line, level, message);
    }

    /// `(^|(?<=\s|[openers delimiters]))` at `i`, with the unprocessed rest as the string.
    fn prefix_ok(&self, i: usize) -> bool {
        i == self.base || is_start_prefix(self.chars[i - 1])
    }

    /// `($|(?=\s|[\x00 closing delimiters, delimiters, closers]))` at `i`.
    fn suffix_ok(&self, i: usize) -> bool {
        self.at(i).is_none_or(is_end_suffix)
    }

    /// Whether the character before `i` is neither whitespace nor an escape marker, where
    /// `i == from` (the start of the searched string) always qualifies.
    fn not_ws_or_escape_before(&self, i: usize, from: usize) -> bool {
        i == from || !(self.chars[i - 1].is_whitespace() || self.chars[i - 1] == ESCAPE)
    }

    /// `(?!\s)`: the position is the end of the text or not whitespace.
    fn non_ws_after(&self, i: usize) -> bool {
        !self.is_ws(i)
    }

    fn start_at(&self, p: usize) -> Option<Start> {
        if !self.prefix_ok(p) {
            return None;
        }
        let c = self.at(p)?;
        let next = self.at(p + 1);
        // Simple start-strings, in the order docutils tries them.
        match c {
            '*' if next == Some('*') && self.non_ws_after(p + 2) => return Some(Start::Strong),
            '*' if next != Some('*') && self.non_ws_after(p + 1) => return Some(Start::Emphasis),
            '`' if next == Some('`') && self.non_ws_after(p + 2) => return Some(Start::Literal),
            '_' if next == Some('`') && self.non_ws_after(p + 2) => return Some(Start::Target),
            '|' if next != Some('|') && self.non_ws_after(p + 1) => {
                return Some(Start::Substitution);
            }
            _ => {}
        }
        // Whole constructs: `name_`, `name__`, footnote and citation references.
        for name_end in simplename_ends(&self.chars, p) {
            for refend in [2, 1] {
                let end = name_end + refend;
                if end <= self.chars.len()
                    && self.chars[name_end..end].iter().all(|&c| c == '_')
                    && self.suffix_ok(end)
                {
                    return Some(Start::Reference { name_end, end });
                }
            }
        }
        if c == '[' {
            if let Some(close) = self.chars[p + 1..].iter().position(|&c| c == ']') {
                let label_end = p + 1 + close;
                let label = &self.chars[p + 1..label_end];
                let end = label_end + 2;
                if self.at(label_end + 1) == Some('_')
                    && self.suffix_ok(end)
                    && is_footnote_label(label)
                {
                    return Some(Start::Footnote { label_end, end });
                }
            }
        }
        // Interpreted text or phrase reference, with an optional prefix role.
        if c == ':' {
            for name_end in simplename_ends(&self.chars, p + 1) {
                if self.at(name_end) == Some(':')
                    && self.at(name_end + 1) == Some('`')
                    && self.at(name_end + 2) != Some('`')
                    && self.non_ws_after(name_end + 2)
                {
                    return Some(Start::Backquote {
                        role: Some((p + 1, name_end)),
                        backquote: name_end + 1,
                    });
                }
            }
        }
        if c == '`' && next != Some('`') && self.non_ws_after(p + 1) {
            return Some(Start::Backquote {
                role: None,
                backquote: p,
            });
        }
        None
    }

    /// A start-string enclosed in matching punctuation (`"*"`, `(*)`), or at the very end.
    fn quoted_start(&self, start: usize, end: usize) -> bool {
        if start == self.base {
            return false;
        }
        match self.at(end) {
            None => true,
            Some(after) => is_matching_pair(self.chars[start - 1], after),
        }
    }

    fn parse(&mut self) {
        let mut p = self.base;
        while p < self.chars.len() {
            let Some(start) = self.start_at(p) else {
                p += 1;
                continue;
            };
            self.base = self.dispatch(p, start);
            p = self.base;
        }
        self.flush_to(self.chars.len());
    }

    /// Appends the plain text before position `to` to the text content.
    fn flush_to(&mut self, to: usize) {
        if to > self.flushed {
            let plain = unescape(&self.chars[self.flushed..to]);
            self.text.push_str(&plain);
            self.flushed = to;
        }
    }

    /// Records a recognised construct spanning `start..end` whose text content is `content`.
    fn construct(&mut self, start: usize, end: usize, content: &str) {
        self.flush_to(start);
        self.text.push_str(content);
        self.flushed = end;
    }

    /// Handles the construct found at `p`; returns where the unprocessed rest starts.
    fn dispatch(&mut self, p: usize, start: Start) -> usize {
        match start {
            Start::Strong => self.inline_object(p, 2, "strong", &['*', '*'], false),
            Start::Emphasis => self.inline_object(p, 1, "emphasis", &['*'], false),
            Start::Literal => self.inline_object(p, 2, "literal", &['`', '`'], true),
            Start::Target => self.inline_object(p, 2, "target", &['`'], false),
            Start::Substitution => self.substitution(p),
            Start::Reference { name_end, end } => {
                let name = unescape(&self.chars[p..name_end]);
                let line = self.line_of(p);
                if end - name_end == 2 {
                    self.doc.anonymous_refs.push(line);
                } else {
                    self.doc.named_ref(&normalize_name(&name), line);
                }
                self.construct(p, end, &name);
                end
            }
            Start::Footnote { label_end, end } => {
                let label: String = self.chars[p + 1..label_end].iter().collect();
                let line = self.line_of(p);
                self.doc.footnote_ref(&label, line);
                self.construct(p, end, &label);
                end
            }
            Start::Backquote { role, backquote } => self.interpreted_or_phrase(p, role, backquote),
        }
    }

    /// Emphasis, strong, literal and inline targets: find the end-string or warn.
    fn inline_object(
        &mut self,
        p: usize,
        start_len: usize,
        kind: &str,
        end: &[char],
        literal: bool,
    ) -> usize {
        let from = p + start_len;
        if self.quoted_start(p, from) {
            return from;
        }
        let mut q = from;
        let found = loop {
            if q + end.len() > self.chars.len() {
                break None;
            }
            let before_ok = if literal {
                q == from || !self.chars[q - 1].is_whitespace()
            } else {
                self.not_ws_or_escape_before(q, from)
            };
            if before_ok && self.chars[q..q + end.len()] == *end && self.suffix_ok(q + end.len()) {
                break Some(q);
            }
            q += 1;
        };
        match found {
            Some(q) if q > from => {
                let content = unescape(&self.chars[from..q]);
                if kind == "target" {
                    let name = normalize_name(&content);
                    let line = self.line_of(p);
                    self.doc.target(&name, TargetKind::Internal, true, line);
                }
                self.construct(p, q + end.len(), &content);
                q + end.len()
            }
            _ => {
                self.report(
                    p,
                    Level::Warning,
                    format!("Inline {kind} start-string without end-string."),
                );
                from
            }
        }
    }

    fn substitution(&mut self, p: usize) -> usize {
        let from = p + 1;
        if self.quoted_start(p, from) {
            return from;
        }
        let mut q = from;
        while q < self.chars.len() {
            if self.chars[q] == '|' && self.not_ws_or_escape_before(q, from) {
                // `\|_{0,2}`, greedy, then the end-string suffix.
                let underscores = self.chars[q + 1..]
                    .iter()
                    .take(2)
                    .take_while(|&&c| c == '_')
                    .count();
                if let Some(n) = (0..=underscores).rev().find(|&n| self.suffix_ok(q + 1 + n)) {
                    if q == from {
                        break;
                    }
                    let name = unescape(&self.chars[from..q]);
                    let line = self.line_of(p);
                    self.doc.substitution_refs.push((name.clone(), line));
                    match n {
                        1 => self.doc.named_ref(&normalize_name(&name), line),
                        2 => self.doc.anonymous_refs.push(line),
                        _ => {}
                    }
                    self.construct(p, q + 1 + n, &name);
                    return q + 1 + n;
                }
            }
            q += 1;
        }
        self.report(
            p,
            Level::Warning,
            "Inline substitution_reference start-string without end-string.".to_owned(),
        );
        from
    }

    /// Interpreted text (with a role) or a phrase reference (`` `text`_ ``).
    fn interpreted_or_phrase(
        &mut self,
        p: usize,
        prefix_role: Option<(usize, usize)>,
        backquote: usize,
    ) -> usize {
        let from = backquote + 1;
        if prefix_role.is_none() && self.quoted_start(p, from) {
            return from;
        }
        let mut q = from;
        let found = loop {
            if q >= self.chars.len() {
                break None;
            }
            if self.chars[q] == '`' && self.unescaped_non_ws_before(q, from) {
                if let Some(suffix) = self.end_suffix(q + 1) {
                    break Some((q, suffix));
                }
            }
            q += 1;
        };
        let Some((q, (suffix_role, refend, end))) = found.filter(|&(q, _)| q > from) else {
            self.report(
                p,
                Level::Warning,
                "Inline interpreted text or phrase reference start-string without end-string."
                    .to_owned(),
            );
            return from;
        };
        let mut role = prefix_role.map(|(s, e)| self.chars[s..e].iter().collect::<String>());
        let mut position = "prefix";
        if let Some((s, e)) = suffix_role {
            if role.is_some() {
                self.report(
                    p,
                    Level::Warning,
                    "Multiple roles in interpreted text (both prefix and suffix present; only \
                     one allowed)."
                        .to_owned(),
                );
                return end;
            }
            role = Some(self.chars[s..e].iter().collect());
            position = "suffix";
        }
        let text = self.chars[from..q].to_vec();
        if refend > 0 {
            if role.is_some() {
                self.report(
                    p,
                    Level::Warning,
                    format!(
                        "Mismatch: both interpreted text role {position} and reference suffix."
                    ),
                );
                return end;
            }
            let content = self.phrase_reference(p, &text, refend == 2);
            self.construct(p, end, &content);
        } else {
            self.interpreted(p, role.as_deref(), &text);
            self.construct(p, end, &unescape(&text));
        }
        end
    }

    /// `(?<!(?<!\x00)[\s\x00])` before `q`: no unescaped whitespace or escape marker.
    fn unescaped_non_ws_before(&self, q: usize, from: usize) -> bool {
        if q == from {
            return true;
        }
        let c = self.chars[q - 1];
        if !(c.is_whitespace() || c == ESCAPE) {
            return true;
        }
        q - 1 > from && self.chars[q - 2] == ESCAPE
    }

    /// After a closing backquote at `i - 1`: an optional `:role:`, an optional `_`/`__` and the
    /// end-string suffix. Returns (role name range, underscores, end) for the first combination
    /// that fits, in the order a backtracking regex tries them.
    #[expect(
        clippy::type_complexity,
        reason = "a private helper returning match groups"
    )]
    fn end_suffix(&self, i: usize) -> Option<(Option<(usize, usize)>, usize, usize)> {
        let mut roles: Vec<Option<(usize, usize)>> = Vec::new();
        if self.at(i) == Some(':') {
            for name_end in simplename_ends(&self.chars, i + 1) {
                if self.at(name_end) == Some(':') {
                    roles.push(Some((i + 1, name_end)));
                }
            }
        }
        roles.push(None);
        for role in roles {
            let after_role = role.map_or(i, |(_, e)| e + 1);
            for refend in [2, 1, 0] {
                let end = after_role + refend;
                if end <= self.chars.len()
                    && self.chars[after_role..end].iter().all(|&c| c == '_')
                    && self.suffix_ok(end)
                {
                    return Some((role, refend, end));
                }
            }
        }
        None
    }

    /// Records a phrase reference; returns its text content.
    fn phrase_reference(&mut self, p: usize, text: &[char], anonymous: bool) -> String {
        let line = self.line_of(p);
        match embedded_link(text) {
            Some((text_end, alias)) => {
                let alias_chars = &text[alias.0..alias.1];
                let escaped_underscore =
                    alias_chars.len() >= 2 && alias_chars[alias_chars.len() - 2] == ESCAPE;
                let is_name = alias_chars.last() == Some(&'_')
                    && !escaped_underscore
                    && !looks_like_uri(alias_chars);
                let label = if text_end == 0 {
                    unescape(alias_chars)
                } else {
                    unescape(&text[..text_end])
                };
                let refname = normalize_name(&label);
                let alias_name = is_name
                    .then(|| normalize_name(&unescape(&alias_chars[..alias_chars.len() - 1])));
                if let Some(alias_name) = &alias_name {
                    self.doc.named_ref(alias_name, line);
                }
                if !anonymous {
                    let kind = match alias_name {
                        Some(alias_name) => TargetKind::Indirect(alias_name),
                        None => {
                            TargetKind::External(unescape(alias_chars).split_whitespace().collect())
                        }
                    };
                    self.doc.target(&refname, kind, false, line);
                }
                label
            }
            None => {
                let label = unescape(text);
                if anonymous {
                    self.doc.anonymous_refs.push(line);
                } else {
                    self.doc.named_ref(&normalize_name(&label), line);
                }
                label
            }
        }
    }

    fn interpreted(&mut self, p: usize, role: Option<&str>, text: &[char]) {
        let Some(role_name) = role
            .map(str::to_owned)
            .or_else(|| self.doc.default_role.clone())
        else {
            return;
        };
        match lookup_role(self.doc, &role_name) {
            None => self.report(
                p,
                Level::Error,
                format!("Unknown interpreted text role \"{role_name}\"."),
            ),
            Some(RoleKind::Plain) => {}
            Some(RoleKind::Unimplemented) => self.report(
                p,
                Level::Error,
                format!("Interpreted text role \"{role_name}\" not implemented."),
            ),
            Some(RoleKind::Raw) => self.report(
                p,
                Level::Warning,
                "raw (and derived) roles disabled".to_owned(),
            ),
            Some(RoleKind::Pep) => {
                let value = unescape(text);
                if !value.parse::<u32>().is_ok_and(|n| n <= 9999) {
                    self.report(
                        p,
                        Level::Error,
                        format!(
                            "PEP number must be a number from 0 to 9999; \"{value}\" is invalid."
                        ),
                    );
                }
            }
            Some(RoleKind::Rfc) => {
                let value = unescape(text);
                let number = value.split_once('#').map_or(value.as_str(), |(n, _)| n);
                if !number.parse::<u32>().is_ok_and(|n| n >= 1) {
                    self.report(
                        p,
                        Level::Error,
                        format!(
                            "RFC number must be a number greater than or equal to 1; \"{value}\" \
                             is invalid."
                        ),
                    );
                }
            }
        }
    }
}

/// `[0-9]+`, `#`, `#name`, `*` or a citation name (a simple name).
fn is_footnote_label(label: &[char]) -> bool {
    if label.is_empty() {
        return false;
    }
    if label.iter().all(char::is_ascii_digit) || label == ['#'] || label == ['*'] {
        return true;
    }
    let name = if label[0] == '#' { &label[1..] } else { label };
    simplename_ends(name, 0).first() == Some(&name.len())
}

/// An embedded `<uri>` or `<alias_>` at the end of a phrase reference: returns the end of the
/// text before it (without the separating whitespace) and the range inside the brackets.
fn embedded_link(text: &[char]) -> Option<(usize, (usize, usize))> {
    let last = text.len().checked_sub(1)?;
    if text[last] != '>' || last == 0 {
        return None;
    }
    let before_close = text[last - 1];
    if before_close.is_whitespace() || before_close == ESCAPE {
        return None;
    }
    // Scan back over "anything but unescaped angle brackets".
    let mut i = last;
    while i > 0 {
        let c = text[i - 1];
        if c == '<' || c == '>' {
            if i >= 2 && text[i - 2] == ESCAPE {
                i -= 2;
                continue;
            }
            break;
        }
        i -= 1;
    }
    if i == 0 || text[i - 1] != '<' {
        return None;
    }
    let open = i - 1;
    if i >= last || text[i].is_whitespace() {
        return None;
    }
    // `(?:[ \n]+|^)` before the `<`.
    let mut text_end = open;
    while text_end > 0 && matches!(text[text_end - 1], ' ' | '\n') {
        text_end -= 1;
    }
    if text_end == open && open != 0 {
        return None;
    }
    Some((text_end, (open + 1, last)))
}

/// Whether an alias looks like an absolute URI (`scheme:…`), which keeps a trailing `_`.
fn looks_like_uri(alias: &[char]) -> bool {
    let Some(colon) = alias.iter().position(|&c| c == ':') else {
        return false;
    };
    colon > 0
        && alias[0].is_ascii_alphabetic()
        && alias[..colon]
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-'))
        && colon + 1 < alias.len()
}

/// Parses the inline markup of one text block starting on `line`; returns its text content
/// (what docutils' `astext()` gives: markup characters and escapes removed).
pub(super) fn parse(doc: &mut Doc, text: &str, line: usize) -> String {
    let mut inliner = Inliner {
        doc,
        chars: escape(text),
        line,
        base: 0,
        text: String::new(),
        flushed: 0,
    };
    inliner.parse();
    inliner.text
}

/// A footnote or citation reference label as written between the brackets.
pub(super) fn footnote_ref_kind(label: &str) -> FootnoteRef {
    if label == "#" {
        FootnoteRef::AutoNumber
    } else if label == "*" {
        FootnoteRef::Symbol
    } else if let Some(name) = label.strip_prefix('#') {
        FootnoteRef::Named(normalize_name(name))
    } else {
        FootnoteRef::Named(normalize_name(label))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_names() {
        let chars: Vec<char> = "foo_bar-baz_ x".chars().collect();
        assert_eq!(simplename_ends(&chars, 0), [11, 7, 3]);
        assert!(simplename_ends(&chars, 3).is_empty());
        let chars: Vec<char> = "__init__".chars().collect();
        assert!(simplename_ends(&chars, 0).is_empty());
    }

    #[test]
    fn escapes_and_names() {
        assert_eq!(unescape(&escape(r"a\*b\ c")), "a*bc");
        assert_eq!(normalize_name("  Foo \n Bar "), "foo bar");
    }

    #[test]
    fn embedded_links() {
        let text: Vec<char> = "Python <https://python.org>".chars().collect();
        assert_eq!(embedded_link(&text), Some((6, (8, 26))));
        let text: Vec<char> = "<https://python.org>".chars().collect();
        assert_eq!(embedded_link(&text), Some((0, (1, 19))));
        let text: Vec<char> = "a<b>".chars().collect();
        assert_eq!(embedded_link(&text), None);
        assert!(looks_like_uri(&"https://x_".chars().collect::<Vec<_>>()));
        assert!(!looks_like_uri(&"name_".chars().collect::<Vec<_>>()));
    }
}
