//! Body elements: docutils' `Body`, `Text` and `Line` states and the list states, line by line.
//!
//! Parts: this file is the `Doc` body parser; `markers` classifies lines and reads indented
//! blocks, `explicit` holds the explicit-markup patterns.

use super::inline::{self, normalize_name, unescape};
use super::{
    Container, Doc, Elem, Level, Line, Style, TargetKind, column_width, skip_chars, take_chars,
};

mod explicit;
mod markers;

pub(super) use explicit::directive_marker;
use explicit::{
    indirect_reference, inline_simplename_len, match_substitution, match_target, text_block_end,
};
pub(super) use markers::{
    Enumerator, Format, Indented, Kind, classify, field_marker, get_indented, is_line,
};
use markers::{SEQUENCES, Sequence, line_at, spaces_or_end};

impl Doc {
    /// Parses body elements. `nested` is true inside lists, quotes, directives and table cells,
    /// where section titles and transitions are not allowed.
    pub(super) fn body(&mut self, lines: &[Line], nested: bool) {
        let mut i = 0;
        while i < lines.len() {
            let line = &lines[i];
            if line.is_blank() {
                i += 1;
                continue;
            }
            if line.is_indented() {
                i = self.block_quote(lines, i, nested);
                continue;
            }
            i = match classify(&line.text) {
                Kind::Bullet(width) => self.bullet_list(lines, i, width, nested),
                Kind::Enumerator(e) => self.enumerated_list(lines, i, &e, nested),
                Kind::Field(width) => self.field_list(lines, i, width, nested),
                Kind::OptionMarker(width) => self.option_list(lines, i, width, nested),
                Kind::Doctest => {
                    self.push(nested, Elem::Body);
                    text_block_end(lines, i)
                }
                Kind::LineBlock(width) => self.line_block(lines, i, width, nested),
                Kind::GridTable => self.grid_table(lines, i, nested),
                Kind::SimpleTable => self.simple_table(lines, i, nested),
                Kind::Explicit | Kind::Anonymous => self.explicit_list(lines, i, nested),
                Kind::Line => self.line(lines, i, nested),
                Kind::Text => self.text(lines, i, nested),
            };
        }
    }

    fn unindent_warning(&mut self, lines: &[Line], end: usize, what: &str) {
        let line = line_at(lines, end);
        self.report(
            line,
            Level::Warning,
            format!("{what} ends without a blank line; unexpected unindent."),
        );
    }

    fn block_quote(&mut self, lines: &[Line], i: usize, nested: bool) -> usize {
        let block = get_indented(lines, i, false, None, None, true);
        self.push(nested, Elem::Body);
        self.body(&block.lines, true);
        if !block.blank_finish {
            self.unindent_warning(lines, block.end, "Block quote");
        }
        block.end
    }

    /// A list item whose marker is `width` wide: its block (parsed as body) and end.
    fn list_item(&mut self, lines: &[Line], i: usize, width: usize) -> Indented {
        let rest = skip_chars(&lines[i].text, width);
        let block = if rest.is_empty() {
            get_indented(lines, i, false, None, Some(width), true)
        } else {
            get_indented(lines, i, false, Some(width), None, true)
        };
        self.body(&block.lines, true);
        block
    }

    /// Skips blank lines from `i`.
    fn next_non_blank(lines: &[Line], mut i: usize) -> usize {
        while i < lines.len() && lines[i].is_blank() {
            i += 1;
        }
        i
    }

    /// The items of a list (or a row of explicit markup blocks) from line `start`, whose marker
    /// is `width` wide: `item` parses the one at a line, given its marker width, and returns its
    /// block; `next_item` looks at the first non-blank line after it (when not indented) and
    /// gives the marker width when another item starts there. Warns that the `what` ends
    /// without a blank line when the last item does; returns the end of the last item.
    fn items(
        &mut self,
        lines: &[Line],
        (mut start, mut width): (usize, usize),
        what: &str,
        mut item: impl FnMut(&mut Self, usize, usize) -> Indented,
        next_item: impl Fn(usize) -> Option<usize>,
    ) -> usize {
        loop {
            let block = item(self, start, width);
            let next = Self::next_non_blank(lines, block.end);
            if lines.get(next).is_some_and(|l| !l.is_indented())
                && let Some(w) = next_item(next)
            {
                start = next;
                width = w;
                continue;
            }
            if !block.blank_finish {
                self.unindent_warning(lines, block.end, what);
            }
            return block.end;
        }
    }

    fn bullet_list(&mut self, lines: &[Line], i: usize, width: usize, nested: bool) -> usize {
        self.push(nested, Elem::Body);
        let bullet = lines[i].text.chars().next();
        self.items(
            lines,
            (i, width),
            "Bullet list",
            |doc, start, width| doc.list_item(lines, start, width),
            |next| match classify(&lines[next].text) {
                Kind::Bullet(w) if lines[next].text.chars().next() == bullet => Some(w),
                _ => None,
            },
        )
    }

    /// docutils' `is_enumerated_list_item`: the ordinal is valid and the next line is blank,
    /// indented, or starts with the next enumerator (or an auto-enumerator).
    fn is_enumerated_list_item(
        lines: &[Line],
        i: usize,
        ordinal: Option<u64>,
        sequence: Sequence,
        format: Format,
    ) -> bool {
        let Some(ordinal) = ordinal else {
            return false;
        };
        let Some(next) = lines.get(i + 1) else {
            return true;
        };
        if next.is_blank() || next.is_indented() {
            return true;
        }
        let (prefix, suffix) = format.affixes();
        let Some(enumerator) = sequence.enumerator(ordinal + 1) else {
            return false;
        };
        next.text
            .starts_with(&format!("{prefix}{enumerator}{suffix} "))
            || next.text.starts_with(&format!("{prefix}#{suffix} "))
    }

    /// The sequence and ordinal of an enumerator, preferring `expected` when it matches.
    fn sequence_of(e: &Enumerator, expected: Option<Sequence>) -> (Sequence, Option<u64>) {
        let sequence = if e.text == "#" {
            Sequence::Auto
        } else if let Some(expected) = expected.filter(|s| s.matches(&e.text)) {
            expected
        } else if expected.is_none() && e.text == "i" {
            Sequence::LowerRoman
        } else if expected.is_none() && e.text == "I" {
            Sequence::UpperRoman
        } else {
            SEQUENCES
                .iter()
                .copied()
                .find(|s| s.matches(&e.text))
                .unwrap_or(Sequence::Arabic)
        };
        (sequence, sequence.ordinal(&e.text))
    }

    fn enumerated_list(
        &mut self,
        lines: &[Line],
        i: usize,
        first: &Enumerator,
        nested: bool,
    ) -> usize {
        let (sequence, ordinal) = Self::sequence_of(first, None);
        if !Self::is_enumerated_list_item(lines, i, ordinal, sequence, first.format) {
            return self.text(lines, i, nested);
        }
        self.push(nested, Elem::Body);
        let list_type = if sequence == Sequence::Auto {
            Sequence::Arabic
        } else {
            sequence
        };
        let mut auto = sequence == Sequence::Auto;
        let mut last = ordinal.unwrap_or(1);
        let mut item = self.list_item(lines, i, first.width);
        loop {
            let next = Self::next_non_blank(lines, item.end);
            let Some(line) = lines.get(next).filter(|l| !l.is_indented()) else {
                break;
            };
            let Kind::Enumerator(e) = classify(&line.text) else {
                break;
            };
            let (sequence, ordinal) = Self::sequence_of(&e, Some(list_type));
            let continues = e.format == first.format
                && (sequence == Sequence::Auto
                    || (sequence == list_type && !auto && ordinal == Some(last + 1)))
                && Self::is_enumerated_list_item(lines, next, ordinal, sequence, e.format);
            if !continues {
                break;
            }
            auto |= sequence == Sequence::Auto;
            last = ordinal.unwrap_or(last + 1);
            item = self.list_item(lines, next, e.width);
        }
        if !item.blank_finish {
            self.unindent_warning(lines, item.end, "Enumerated list");
        }
        item.end
    }

    fn field_list(&mut self, lines: &[Line], i: usize, width: usize, nested: bool) -> usize {
        let docinfo = !nested && !self.seen_body;
        let field = |doc: &mut Self, start: usize, width| {
            let name: String = take_chars(&lines[start].text, width)
                .trim()
                .trim_matches(':')
                .to_owned();
            inline::parse(doc, &name, lines[start].number);
            let item = get_indented(lines, start, false, None, Some(width), true);
            if docinfo {
                doc.bibliographic_field(&name, &item.lines, lines[start].number);
            }
            doc.body(&item.lines, true);
            item
        };
        self.push(nested, Elem::Body);
        self.items(lines, (i, width), "Field list", field, |next| {
            field_marker(&lines[next].text)
        })
    }

    /// docutils' `DocInfo` transform on the first field list of the document: registered
    /// bibliographic fields must not be empty, and most must hold a single paragraph.
    fn bibliographic_field(&mut self, name: &str, body: &[Line], line: usize) {
        let canonical = name.to_lowercase();
        let known = [
            "author",
            "authors",
            "organization",
            "address",
            "contact",
            "version",
            "revision",
            "status",
            "date",
            "copyright",
            "dedication",
            "abstract",
        ];
        if !known.contains(&canonical.as_str()) {
            return;
        }
        let content: Vec<&Line> = body.iter().filter(|l| !l.is_blank()).collect();
        if content.is_empty() {
            self.report(
                line,
                Level::Warning,
                format!("Cannot extract empty bibliographic field \"{name}\"."),
            );
            return;
        }
        if matches!(canonical.as_str(), "authors" | "dedication" | "abstract") {
            return;
        }
        let first = body.iter().position(|l| !l.is_blank()).unwrap_or(0);
        let block_end = first + body[first..].iter().take_while(|l| !l.is_blank()).count();
        let single_paragraph = body[block_end..].iter().all(Line::is_blank)
            && classify(&body[first].text) == Kind::Text
            && !body[first..block_end].iter().any(Line::is_indented);
        if !single_paragraph {
            self.report(
                line,
                Level::Warning,
                format!("Bibliographic field \"{name}\" must contain a single <paragraph>."),
            );
        }
    }

    fn option_list(&mut self, lines: &[Line], i: usize, width: usize, nested: bool) -> usize {
        // An option list item has a description: without one, the marker is paragraph text.
        let described = |start, width| {
            let item = get_indented(lines, start, false, None, Some(width), true);
            !item.lines.iter().all(Line::is_blank)
        };
        if !described(i, width) {
            return self.text(lines, i, nested);
        }
        self.push(nested, Elem::Body);
        self.items(
            lines,
            (i, width),
            "Option list",
            |doc, start, width| {
                let item = get_indented(lines, start, false, None, Some(width), true);
                doc.body(&item.lines, true);
                item
            },
            |next| match classify(&lines[next].text) {
                Kind::OptionMarker(w) => described(next, w).then_some(w),
                _ => None,
            },
        )
    }

    fn line_block(&mut self, lines: &[Line], i: usize, width: usize, nested: bool) -> usize {
        self.push(nested, Elem::Body);
        let (mut start, mut width) = (i, width);
        loop {
            let item = get_indented(lines, start, true, None, Some(width), true);
            let text: Vec<&str> = item.lines.iter().map(|l| l.text.as_str()).collect();
            inline::parse(self, &text.join("\n"), lines[start].number);
            if item.blank_finish {
                return item.end;
            }
            if let Some(line) = lines.get(item.end)
                && let Kind::LineBlock(w) = classify(&line.text)
            {
                start = item.end;
                width = w;
                continue;
            }
            let line = line_at(lines, item.end);
            self.report(
                line,
                Level::Warning,
                "Line block ends without a blank line.".to_owned(),
            );
            return item.end;
        }
    }

    /// Paragraphs, definition lists and underlined section titles (docutils' `Text` state).
    pub(super) fn text(&mut self, lines: &[Line], i: usize, nested: bool) -> usize {
        let Some(next) = lines.get(i + 1) else {
            if self.paragraph(&lines[i..=i], nested) {
                return self.literal_block(lines, i + 1, nested);
            }
            return i + 1;
        };
        if next.is_blank() {
            if self.paragraph(&lines[i..=i], nested) {
                return self.literal_block(lines, i + 1, nested);
            }
            return i + 1;
        }
        if next.is_indented() {
            return self.definition_list(lines, i, nested);
        }
        if is_line(&next.text) {
            let title = lines[i].text.as_str();
            let underline_len = next.text.chars().count();
            let too_short = column_width(title) > underline_len;
            if !(too_short && underline_len < 4) {
                if too_short {
                    self.report(
                        next.number,
                        Level::Warning,
                        "Title underline too short.".to_owned(),
                    );
                }
                if nested {
                    self.report(
                        next.number,
                        Level::Error,
                        "Unexpected section title.".to_owned(),
                    );
                    return i + 2;
                }
                let style = Style::Under(next.text.chars().next().unwrap_or('='));
                self.section(title, style, lines[i].number);
                return i + 2;
            }
        }
        // A paragraph of several lines: every line up to the next blank one.
        let mut end = i + 1;
        while end < lines.len() && !lines[end].is_blank() {
            if lines[end].is_indented() {
                self.unexpected_indentation(lines[end].number);
                break;
            }
            end += 1;
        }
        if self.paragraph(&lines[i..end], nested) {
            return self.literal_block(lines, end, nested);
        }
        end
    }

    /// Inline-parses a paragraph; returns whether it ends with `::` (a literal block follows).
    fn paragraph(&mut self, lines: &[Line], nested: bool) -> bool {
        let data: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
        let data = data.join("\n");
        let data = data.trim_end();
        // `(?<!\\)(\\\\)*::$`: a `::` not escaped by an odd number of backslashes.
        let escaped = data
            .strip_suffix("::")
            .is_some_and(|s| (s.len() - s.trim_end_matches('\\').len()) % 2 == 1);
        let marker = if escaped {
            None
        } else {
            data.strip_suffix("::")
        };
        let (text, literal) = if let Some(stripped) = marker {
            if stripped.is_empty() {
                ("", true)
            } else if stripped.ends_with([' ', '\n']) {
                (stripped.trim_end(), true)
            } else {
                (&data[..data.len() - 1], true)
            }
        } else {
            (data, false)
        };
        if !text.is_empty() {
            self.push(nested, Elem::Body);
            inline::parse(self, text, lines[0].number);
        }
        literal
    }

    /// The literal block expected after `::`, starting at `start` (a blank line or the end).
    fn literal_block(&mut self, lines: &[Line], start: usize, nested: bool) -> usize {
        let block = get_indented(lines, start, false, None, None, true);
        if block.lines.iter().all(Line::is_blank) {
            return self.quoted_literal_block(lines, start, nested);
        }
        self.push(nested, Elem::Body);
        if !block.blank_finish {
            self.unindent_warning(lines, block.end, "Literal block");
        }
        block.end
    }

    fn quoted_literal_block(&mut self, lines: &[Line], start: usize, nested: bool) -> usize {
        let first = Self::next_non_blank(lines, start);
        let quote = lines
            .get(first)
            .and_then(|l| l.text.chars().next())
            .filter(char::is_ascii_punctuation);
        let Some(quote) = quote else {
            let line = line_at(lines, first);
            self.report(
                line,
                Level::Warning,
                "Literal block expected; none found.".to_owned(),
            );
            return first;
        };
        self.push(nested, Elem::Body);
        let mut end = first + 1;
        while let Some(line) = lines.get(end).filter(|l| !l.is_blank()) {
            if line.is_indented() {
                self.unexpected_indentation(line.number);
                return end;
            }
            if !line.text.starts_with(quote) {
                self.report(
                    line.number,
                    Level::Error,
                    "Inconsistent literal block quoting.".to_owned(),
                );
                return end;
            }
            end += 1;
        }
        end
    }

    fn definition_list(&mut self, lines: &[Line], i: usize, nested: bool) -> usize {
        self.push(nested, Elem::Body);
        self.items(
            lines,
            (i, 0),
            "Definition list",
            |doc, term, _| {
                inline::parse(doc, &lines[term].text, lines[term].number);
                let item = get_indented(lines, term + 1, false, None, None, true);
                doc.body(&item.lines, true);
                item
            },
            |next| {
                let continues = classify(&lines[next].text) == Kind::Text
                    && lines
                        .get(next + 1)
                        .is_some_and(|n| !n.is_blank() && n.is_indented());
                continues.then_some(0)
            },
        )
    }

    /// A line of punctuation at body level: a section overline, a transition, or text. A
    /// marker shorter than 4 characters is text unless it makes a well-formed section title.
    fn line(&mut self, lines: &[Line], i: usize, nested: bool) -> usize {
        let marker = lines[i].text.as_str();
        let short = marker.chars().count() < 4;
        let found = overline(lines, i, nested);
        if short
            && !matches!(
                found,
                Overline::Title {
                    too_short: false,
                    ..
                }
            )
        {
            return self.text(lines, i, nested);
        }
        match found {
            Overline::Transition => {
                self.push(nested, Elem::Transition(lines[i].number));
                i + 1
            }
            Overline::Invalid { message, next } => {
                self.report(lines[i].number, Level::Error, message.to_owned());
                next
            }
            Overline::Title { title, too_short } => {
                if too_short {
                    self.report(
                        lines[i].number,
                        Level::Warning,
                        "Title overline too short.".to_owned(),
                    );
                }
                let style = Style::Over(marker.chars().next().unwrap_or('='));
                self.section(title.text.trim(), style, title.number);
                i + 3
            }
        }
    }

    /// Opens a section (docutils 0.23 `check_subsection` and `new_subsection`).
    fn section(&mut self, title: &str, style: Style, line: usize) {
        let old_level = self.open.len() - 1;
        let new_level = self
            .title_styles
            .iter()
            .position(|s| *s == style)
            .map_or(self.title_styles.len() + 1, |p| p + 1);
        if new_level > old_level + 1 {
            self.report(
                line,
                Level::Error,
                format!("Inconsistent title style: skip from level {old_level} to {new_level}."),
            );
            return;
        }
        self.open.truncate(new_level);
        if new_level > self.title_styles.len() {
            self.title_styles.push(style);
        }
        let parent = self.open.last().copied().unwrap_or(0);
        let index = self.containers.len();
        self.containers.push(Container {
            children: vec![Elem::Ignored],
            parent: Some(parent),
        });
        self.containers[parent].children.push(Elem::Section(index));
        self.open.push(index);
        self.visible = true;
        self.seen_body = true;
        let text = inline::parse(self, title, line);
        let name = normalize_name(&text);
        self.target(&name, TargetKind::Internal, false, line);
    }

    /// Explicit markup blocks (`.. ` and `__ `) in a row.
    fn explicit_list(&mut self, lines: &[Line], i: usize, nested: bool) -> usize {
        self.items(
            lines,
            (i, 0),
            "Explicit markup",
            |doc, start, _| {
                if classify(&lines[start].text) == Kind::Anonymous {
                    doc.anonymous_target(lines, start, nested)
                } else {
                    doc.explicit_construct(lines, start, nested)
                }
            },
            |next| {
                matches!(
                    classify(&lines[next].text),
                    Kind::Explicit | Kind::Anonymous
                )
                .then_some(0)
            },
        )
    }

    /// `__ uri`: an anonymous target.
    fn anonymous_target(&mut self, lines: &[Line], i: usize, nested: bool) -> Indented {
        self.push(nested, Elem::Ignored);
        self.anonymous_targets += 1;
        get_indented(lines, i, true, None, Some(2), true)
    }

    /// Footnotes, citations, hyperlink targets, substitution definitions, directives, comments.
    fn explicit_construct(&mut self, lines: &[Line], i: usize, nested: bool) -> Indented {
        let text = lines[i].text.as_str();
        let after_dots = text[2..].trim_start_matches(' ');
        let marker = text.len() - after_dots.len();
        if let Some(construct) = self.footnote_or_citation(lines, i, after_dots, nested) {
            return construct;
        }
        // `.. _name: uri` and `.. |name| directive`, the name right after the marker.
        if let Some(kind @ (b'_' | b'|')) = after_dots.bytes().next()
            && !matches!(after_dots.as_bytes().get(1), None | Some(b' '))
        {
            self.push(nested, Elem::Ignored);
            let target = kind == b'_';
            let block = get_indented(lines, i, target, None, Some(marker + 1), false);
            return if target {
                self.hyperlink_target(block, lines[i].number)
            } else {
                self.substitution_definition(block, lines[i].number)
            };
        }
        if let Some((name, width)) = directive_marker(text, marker) {
            let block = get_indented(lines, i, false, None, Some(width), true);
            self.directive(&name, &block.lines, lines[i].number, nested, None);
            return block;
        }
        self.comment(lines, i, marker)
    }

    fn comment(&mut self, lines: &[Line], i: usize, marker: usize) -> Indented {
        let rest = skip_chars(&lines[i].text, marker);
        if rest.trim().is_empty() && lines.get(i + 1).is_none_or(Line::is_blank) {
            return Indented {
                lines: Vec::new(),
                end: i + 1,
                blank_finish: true,
            };
        }
        get_indented(lines, i, false, None, Some(marker), true)
    }

    fn footnote_or_citation(
        &mut self,
        lines: &[Line],
        i: usize,
        after_dots: &str,
        nested: bool,
    ) -> Option<Indented> {
        let inner = after_dots.strip_prefix('[')?;
        let close = inner.find(']')?;
        let label = &inner[..close];
        let width = spaces_or_end(
            &lines[i].text,
            lines[i].text.len() - inner.len() + close + 1,
        )?;
        let numbered = !label.is_empty() && label.bytes().all(|b| b.is_ascii_digit());
        let is_name = |s: &str| {
            let chars: Vec<char> = s.chars().collect();
            !chars.is_empty() && inline_simplename_len(&chars) == chars.len()
        };
        let footnote = numbered
            || label == "#"
            || label == "*"
            || label.strip_prefix('#').is_some_and(is_name);
        if !footnote && !is_name(label) {
            return None;
        }
        let block = get_indented(lines, i, false, None, Some(width), true);
        let kind = if footnote { "Footnote" } else { "Citation" };
        if block.lines.iter().all(Line::is_blank) {
            self.report(
                lines[i].number,
                Level::Warning,
                format!("{kind} content expected."),
            );
        }
        self.push(nested, Elem::Body);
        match label {
            "#" => self.auto_footnotes += 1,
            "*" => self.symbol_footnotes += 1,
            _ => {
                let name = normalize_name(label.strip_prefix('#').unwrap_or(label));
                self.target(&name, TargetKind::Internal, true, lines[i].number);
            }
        }
        self.body(&block.lines, true);
        Some(block)
    }

    /// A hyperlink target's block (ending at a blank line), from its name on; `line` is the
    /// marker's.
    fn hyperlink_target(&mut self, block: Indented, line: usize) -> Indented {
        let Some(((name, rest), index)) = joined_match(&block.lines, match_target) else {
            self.report(
                line,
                Level::Warning,
                "malformed hyperlink target.".to_owned(),
            );
            return block;
        };
        let mut parts: Vec<String> = vec![rest.trim().to_owned()];
        parts.extend(
            block.lines[index + 1..]
                .iter()
                .map(|l| l.text.trim().to_owned()),
        );
        parts.retain(|p| !p.is_empty());
        let kind = if parts.last().is_some_and(|p| p.ends_with('_'))
            && let Some(alias) = indirect_reference(&parts.join(" "))
        {
            let alias = normalize_name(&alias);
            self.refs.push((
                alias.clone(),
                line,
                Some(format!(
                    "Indirect hyperlink target \"{}\" refers to target \"{alias}\", which does not \
                     exist.",
                    name.as_deref().unwrap_or("")
                )),
            ));
            TargetKind::Indirect(alias)
        } else if parts.is_empty() {
            TargetKind::Internal
        } else {
            TargetKind::External(parts.concat().split_whitespace().collect())
        };
        if kind == TargetKind::Internal {
            // An internal target that ends the document still renders (as an anchor).
            self.visible = true;
        }
        match name {
            None => self.anonymous_targets += 1,
            Some(name) => self.target(&normalize_name(&name), kind, true, line),
        }
        block
    }

    /// A substitution definition's block, from its name on; `line` is the marker's.
    fn substitution_definition(&mut self, block: Indented, line: usize) -> Indented {
        let Some(((name, rest), index)) = joined_match(&block.lines, match_substitution) else {
            self.report(
                line,
                Level::Warning,
                "malformed substitution definition.".to_owned(),
            );
            return block;
        };
        let name = super::whitespace_normalize(&name);
        let mut body: Vec<Line> = Vec::new();
        if !rest.trim().is_empty() {
            body.push(Line {
                text: rest.trim().to_owned(),
                number: block.lines[index].number,
            });
        }
        body.extend(block.lines[index + 1..].iter().cloned());
        while body.last().is_some_and(Line::is_blank) {
            body.pop();
        }
        if body.is_empty() {
            self.report(
                line,
                Level::Warning,
                format!("Substitution definition \"{name}\" missing contents."),
            );
            return block;
        }
        // Re-indent continuation lines relative to the smallest indentation.
        let indent = body
            .iter()
            .skip(1)
            .filter(|l| !l.is_blank())
            .map(Line::indent)
            .min()
            .unwrap_or(0);
        for l in body.iter_mut().skip(1) {
            l.text = skip_chars(&l.text, indent).to_owned();
        }
        if self
            .substitution_defs
            .iter()
            .any(|d| d.eq_ignore_ascii_case(&name) && *d == name)
        {
            self.report(
                line,
                Level::Error,
                format!("Duplicate substitution definition name: \"{name}\"."),
            );
        }
        self.substitution_defs.push(name.clone());
        match directive_marker(&body[0].text, 0) {
            Some((directive, width)) => {
                let mut first = body[0].clone();
                first.text = skip_chars(&first.text, width).to_owned();
                let mut directive_block = vec![first];
                directive_block.extend(body[1..].iter().cloned());
                self.in_substitution = true;
                self.directive(&directive, &directive_block, line, true, Some(&name));
                self.in_substitution = false;
            }
            None => self.report(
                line,
                Level::Warning,
                format!("Substitution definition \"{name}\" empty or invalid."),
            ),
        }
        block
    }
}

/// Where the name of a hyperlink target or substitution definition ends: docutils joins the
/// block's lines, without a separator, until `head` matches. What it matched and the index of
/// the line where it did.
fn joined_match<T>(block: &[Line], head: impl Fn(&str) -> Option<T>) -> Option<(T, usize)> {
    let mut joined = String::new();
    block.iter().enumerate().find_map(|(index, line)| {
        joined.push_str(&line.text);
        head(&joined).map(|matched| (matched, index))
    })
}

/// What a line of punctuation at body level starts (docutils' `Line` state), before the
/// fallback to text for a short marker.
enum Overline<'a> {
    /// A transition: nothing but a blank line (or the end) follows.
    Transition,
    /// A section title under the overline; `too_short` when the title is wider than it.
    Title { title: &'a Line, too_short: bool },
    /// A malformed title or a misplaced marker: the error and the line to continue from.
    Invalid { message: &'static str, next: usize },
}

fn overline(lines: &[Line], i: usize, nested: bool) -> Overline<'_> {
    let invalid = |message, next| Overline::Invalid { message, next };
    if nested {
        return invalid("Unexpected section title or transition.", i + 1);
    }
    let Some(title) = lines.get(i + 1).filter(|l| !l.is_blank()) else {
        return Overline::Transition;
    };
    if !title.is_indented() && is_line(&title.text) {
        return invalid("Invalid section title or transition marker.", i + 2);
    }
    let Some(underline) = lines.get(i + 2) else {
        return invalid("Incomplete section title.", i + 2);
    };
    let marker = lines[i].text.as_str();
    if !is_line(&underline.text) {
        return invalid(
            "Missing matching underline for section title overline.",
            i + 3,
        );
    }
    if underline.text != marker {
        return invalid("Title overline & underline mismatch.", i + 3);
    }
    Overline::Title {
        title,
        too_short: column_width(&title.text) > marker.chars().count(),
    }
}

#[cfg(test)]
mod tests;
