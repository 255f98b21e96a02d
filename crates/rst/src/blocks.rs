//! Body elements: docutils' `Body`, `Text` and `Line` states and the list states, line by line.

use super::inline::{self, normalize_name, unescape};
use super::{
    Container, Doc, Elem, Level, Line, Style, TargetKind, column_width, skip_chars, take_chars,
};

/// What a non-indented, non-blank line starts (docutils' `Body` transitions, in order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Kind {
    /// A bullet; the marker width including the spaces after it.
    Bullet(usize),
    /// An enumerator.
    Enumerator(Enumerator),
    /// A field marker `:name:`; the marker width.
    Field(usize),
    /// An option list marker; the marker width.
    OptionMarker(usize),
    Doctest,
    /// `| ` line block; the marker width.
    LineBlock(usize),
    GridTable,
    SimpleTable,
    Explicit,
    Anonymous,
    /// A line of one repeated punctuation character.
    Line,
    Text,
}

/// Enumeration formats: `(1)`, `1)`, `1.`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    Parens,
    RParen,
    Period,
}

impl Format {
    fn affixes(self) -> (&'static str, &'static str) {
        match self {
            Format::Parens => ("(", ")"),
            Format::RParen => ("", ")"),
            Format::Period => ("", "."),
        }
    }
}

/// An enumerator as found at the start of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Enumerator {
    format: Format,
    text: String,
    width: usize,
}

/// Enumeration sequences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sequence {
    Arabic,
    LowerAlpha,
    UpperAlpha,
    LowerRoman,
    UpperRoman,
    Auto,
}

const SEQUENCES: [Sequence; 5] = [
    Sequence::Arabic,
    Sequence::LowerAlpha,
    Sequence::UpperAlpha,
    Sequence::LowerRoman,
    Sequence::UpperRoman,
];

impl Sequence {
    fn matches(self, text: &str) -> bool {
        let mut chars = text.chars();
        match self {
            Sequence::Arabic => !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()),
            Sequence::LowerAlpha => {
                chars.next().is_some_and(|c| c.is_ascii_lowercase()) && chars.next().is_none()
            }
            Sequence::UpperAlpha => {
                chars.next().is_some_and(|c| c.is_ascii_uppercase()) && chars.next().is_none()
            }
            Sequence::LowerRoman => !text.is_empty() && text.chars().all(|c| "ivxlcdm".contains(c)),
            Sequence::UpperRoman => !text.is_empty() && text.chars().all(|c| "IVXLCDM".contains(c)),
            Sequence::Auto => text == "#",
        }
    }

    fn ordinal(self, text: &str) -> Option<u64> {
        match self {
            Sequence::Auto => Some(1),
            Sequence::Arabic => text.parse().ok(),
            Sequence::LowerAlpha => text.bytes().next().map(|b| u64::from(b - b'a') + 1),
            Sequence::UpperAlpha => text.bytes().next().map(|b| u64::from(b - b'A') + 1),
            Sequence::LowerRoman => from_roman(&text.to_ascii_uppercase()),
            Sequence::UpperRoman => from_roman(text),
        }
    }

    fn enumerator(self, ordinal: u64) -> Option<String> {
        Some(match self {
            Sequence::Auto => "#".to_owned(),
            Sequence::Arabic => ordinal.to_string(),
            Sequence::LowerAlpha | Sequence::UpperAlpha => {
                if !(1..=26).contains(&ordinal) {
                    return None;
                }
                let base = if self == Sequence::LowerAlpha {
                    b'a'
                } else {
                    b'A'
                };
                // `ordinal` is 1..=26, so this is a letter.
                char::from(base + u8::try_from(ordinal - 1).ok()?).to_string()
            }
            Sequence::LowerRoman => to_roman(ordinal)?.to_ascii_lowercase(),
            Sequence::UpperRoman => to_roman(ordinal)?,
        })
    }
}

/// Strict Roman numerals (1–4999), as docutils' `roman` module accepts them.
fn from_roman(text: &str) -> Option<u64> {
    let value = roman_value(text)?;
    (to_roman(value).as_deref() == Some(text)).then_some(value)
}

fn roman_value(text: &str) -> Option<u64> {
    let digit = |c| match c {
        'I' => Some(1),
        'V' => Some(5),
        'X' => Some(10),
        'L' => Some(50),
        'C' => Some(100),
        'D' => Some(500),
        'M' => Some(1000),
        _ => None,
    };
    let values: Vec<u64> = text.chars().map(digit).collect::<Option<_>>()?;
    let mut total = 0;
    for (i, &v) in values.iter().enumerate() {
        if values.get(i + 1).is_some_and(|&next| next > v) {
            total -= i64::try_from(v).ok()?;
        } else {
            total += i64::try_from(v).ok()?;
        }
    }
    u64::try_from(total).ok().filter(|&t| t > 0)
}

fn to_roman(mut n: u64) -> Option<String> {
    if !(1..5000).contains(&n) {
        return None;
    }
    let table = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut out = String::new();
    for (value, numeral) in table {
        while n >= value {
            out.push_str(numeral);
            n -= value;
        }
    }
    Some(out)
}

/// `( +|$)` after a marker ending at byte `end`: the width including the spaces.
fn spaces_or_end(text: &str, end: usize) -> Option<usize> {
    let rest = text.get(end..)?;
    if rest.is_empty() {
        return Some(text[..end].chars().count());
    }
    let spaces = rest.len() - rest.trim_start_matches(' ').len();
    (spaces > 0).then(|| text[..end].chars().count() + spaces)
}

fn parse_enumerator(text: &str) -> Option<Enumerator> {
    let (format, inner_start) = if text.starts_with('(') {
        (Format::Parens, 1)
    } else {
        (Format::Period, 0)
    };
    let inner_len = text[inner_start..]
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'#')
        .count();
    if inner_len == 0 {
        return None;
    }
    let inner = &text[inner_start..inner_start + inner_len];
    if !(inner == "#" || SEQUENCES.iter().any(|s| s.matches(inner))) {
        return None;
    }
    let close = text.as_bytes().get(inner_start + inner_len).copied();
    let format = match (format, close) {
        (Format::Parens, Some(b')')) => Format::Parens,
        (Format::Period, Some(b')')) => Format::RParen,
        (Format::Period, Some(b'.')) => Format::Period,
        _ => return None,
    };
    let width = spaces_or_end(text, inner_start + inner_len + 1)?;
    Some(Enumerator {
        format,
        text: inner.to_owned(),
        width,
    })
}

/// `:(?![: ])([^:\\]|\\.|:(?!([ `]|$)))*(?<! ):( +|$)`: the width of a field marker.
pub(super) fn field_marker(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    if bytes.first() != Some(&b':') || matches!(bytes.get(1), None | Some(b':' | b' ')) {
        return None;
    }
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b':' => match bytes.get(i + 1) {
                None | Some(b' ') => {
                    if bytes[i - 1] == b' ' {
                        return None;
                    }
                    return spaces_or_end(text, i + 1);
                }
                Some(b'`') => return None,
                _ => i += 1,
            },
            _ => i += 1,
        }
    }
    None
}

/// Option list markers (`-a`, `--long=ARG`, `/V`, separated by `, `), followed by two spaces or
/// the end of the line: the marker width.
fn option_marker(text: &str) -> Option<usize> {
    let chars: Vec<char> = text.chars().collect();
    let mut ends = Vec::new();
    option_list_ends(&chars, 0, &mut ends);
    ends.into_iter().find_map(|end| {
        let rest: String = chars[end..].iter().collect();
        if rest.is_empty() || rest == " " {
            Some(chars.len())
        } else if rest.starts_with("  ") {
            Some(end + rest.len() - rest.trim_start_matches(' ').len())
        } else {
            None
        }
    })
}

/// Every possible end of `option(, option)*` from `i`, longest alternatives first.
fn option_list_ends(chars: &[char], i: usize, out: &mut Vec<usize>) {
    for end in option_ends(chars, i) {
        if chars.get(end) == Some(&',') && chars.get(end + 1) == Some(&' ') {
            option_list_ends(chars, end + 2, out);
        }
        out.push(end);
    }
}

/// Possible ends of one option at `i` (with and without its argument).
fn option_ends(chars: &[char], i: usize) -> Vec<usize> {
    let alnum = |c: Option<&char>| c.is_some_and(char::is_ascii_alphanumeric);
    let mut ends = Vec::new();
    let long = (chars.get(i) == Some(&'-') && chars.get(i + 1) == Some(&'-'))
        || chars.get(i) == Some(&'/');
    if long {
        let start = if chars.get(i) == Some(&'/') {
            i + 1
        } else {
            i + 2
        };
        if alnum(chars.get(start)) {
            let mut end = start + 1;
            while chars
                .get(end)
                .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
            {
                end += 1;
            }
            if matches!(chars.get(end), Some(' ' | '=')) {
                ends.extend(option_argument(chars, end + 1));
            }
            ends.push(end);
        }
    }
    if matches!(chars.get(i), Some('-' | '+')) && alnum(chars.get(i + 1)) {
        let end = i + 2;
        if chars.get(end) == Some(&' ') {
            ends.extend(option_argument(chars, end + 1));
        }
        ends.extend(option_argument(chars, end));
        ends.push(end);
    }
    ends
}

/// `[a-zA-Z][a-zA-Z0-9_-]*` or `<[^<>]+>` at `i`: its end.
fn option_argument(chars: &[char], i: usize) -> Option<usize> {
    match chars.get(i) {
        Some(c) if c.is_ascii_alphabetic() => {
            let mut end = i + 1;
            while chars
                .get(end)
                .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
            {
                end += 1;
            }
            Some(end)
        }
        Some('<') => {
            let close = chars[i + 1..].iter().position(|&c| c == '>' || c == '<')?;
            (close > 0 && chars[i + 1 + close] == '>').then_some(i + close + 2)
        }
        _ => None,
    }
}

/// `([!-/:-@[-`{-~])\1* *$`: one printable 7-bit punctuation character, repeated.
pub(super) fn is_line(text: &str) -> bool {
    let Some(first) = text.chars().next() else {
        return false;
    };
    first.is_ascii_punctuation() && text.chars().all(|c| c == first)
}

fn is_grid_table_top(text: &str) -> bool {
    text.len() >= 5
        && text.starts_with("+-")
        && text.ends_with("-+")
        && text[1..text.len() - 1]
            .bytes()
            .all(|b| b == b'-' || b == b'+')
}

fn is_simple_table_top(text: &str) -> bool {
    let columns: Vec<&str> = text.split(' ').filter(|s| !s.is_empty()).collect();
    columns.len() >= 2
        && text.starts_with('=')
        && columns.iter().all(|c| c.bytes().all(|b| b == b'='))
}

/// Classifies a non-blank line that starts at column 0.
pub(super) fn classify(text: &str) -> Kind {
    let first = text.chars().next().unwrap_or(' ');
    if matches!(
        first,
        '-' | '+' | '*' | '\u{2022}' | '\u{2023}' | '\u{2043}'
    ) && let Some(width) = spaces_or_end(text, first.len_utf8())
    {
        return Kind::Bullet(width);
    }
    if let Some(enumerator) = parse_enumerator(text) {
        return Kind::Enumerator(enumerator);
    }
    if let Some(width) = field_marker(text) {
        return Kind::Field(width);
    }
    if matches!(first, '-' | '+' | '/')
        && let Some(width) = option_marker(text)
    {
        return Kind::OptionMarker(width);
    }
    if text.starts_with(">>>") && spaces_or_end(text, 3).is_some() {
        return Kind::Doctest;
    }
    if first == '|'
        && let Some(width) = spaces_or_end(text, 1)
    {
        return Kind::LineBlock(width);
    }
    if is_grid_table_top(text) {
        return Kind::GridTable;
    }
    if is_simple_table_top(text) {
        return Kind::SimpleTable;
    }
    if text.starts_with("..") && spaces_or_end(text, 2).is_some() {
        return Kind::Explicit;
    }
    if text.starts_with("__") && spaces_or_end(text, 2).is_some() {
        return Kind::Anonymous;
    }
    if is_line(text) {
        return Kind::Line;
    }
    Kind::Text
}

/// The result of [`get_indented`].
pub(super) struct Indented {
    /// The block, indentation removed.
    pub(super) lines: Vec<Line>,
    /// Index of the first line after the block.
    pub(super) end: usize,
    /// Whether the block ended with a blank line (or the input ended).
    pub(super) blank_finish: bool,
}

/// docutils' `StringList.get_indented`: the indented block starting at `start`.
///
/// With `first_indent`, the first line is known to start at that column (the text after a list
/// marker); with `block_indent`, every other line must be indented at least that much,
/// otherwise the block's indentation is the smallest found. `until_blank` stops at the first
/// blank line. Indentation is removed unless `strip` is false.
pub(super) fn get_indented(
    lines: &[Line],
    start: usize,
    until_blank: bool,
    block_indent: Option<usize>,
    first_indent: Option<usize>,
    strip: bool,
) -> Indented {
    let first_indent = first_indent.or(block_indent);
    let mut indent = block_indent;
    let mut end = start;
    if first_indent.is_some() {
        end += 1;
    }
    let mut blank_finish = true;
    while end < lines.len() {
        let line = &lines[end];
        if !line.is_blank()
            && (!line.is_indented()
                || block_indent.is_some_and(|b| !take_chars(&line.text, b).trim().is_empty()))
        {
            blank_finish = end > start && lines[end - 1].is_blank();
            break;
        }
        if line.is_blank() {
            if until_blank {
                blank_finish = true;
                break;
            }
        } else if block_indent.is_none() {
            let line_indent = line.indent();
            indent = Some(indent.map_or(line_indent, |i| i.min(line_indent)));
        }
        end += 1;
    }
    let mut block: Vec<Line> = lines[start.min(end)..end].to_vec();
    if let (Some(first), Some(line)) = (first_indent, block.first_mut()) {
        line.text = skip_chars(&line.text, first).to_owned();
    }
    if let Some(indent) = indent.filter(|&i| i > 0 && strip) {
        let skip = usize::from(first_indent.is_some());
        for line in block.iter_mut().skip(skip) {
            line.text = skip_chars(&line.text, indent).to_owned();
        }
    }
    Indented {
        lines: block,
        end,
        blank_finish,
    }
}

/// The line number to report for "ends without a blank line" after a block ending at `end`.
fn line_at(lines: &[Line], end: usize) -> usize {
    lines.get(end).or(lines.last()).map_or(0, |l| {
        if end < lines.len() {
            l.number
        } else {
            l.number + 1
        }
    })
}

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

    fn bullet_list(&mut self, lines: &[Line], i: usize, width: usize, nested: bool) -> usize {
        self.push(nested, Elem::Body);
        let bullet = lines[i].text.chars().next();
        let (mut start, mut width) = (i, width);
        loop {
            let item = self.list_item(lines, start, width);
            let next = Self::next_non_blank(lines, item.end);
            match lines.get(next) {
                Some(line) if !line.is_indented() && line.text.chars().next() == bullet => {
                    if let Kind::Bullet(w) = classify(&line.text) {
                        start = next;
                        width = w;
                        continue;
                    }
                }
                _ => {}
            }
            if !item.blank_finish {
                self.unindent_warning(lines, item.end, "Bullet list");
            }
            return item.end;
        }
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
        self.push(nested, Elem::Body);
        let (mut start, mut width) = (i, width);
        loop {
            let name: String = take_chars(&lines[start].text, width)
                .trim()
                .trim_matches(':')
                .to_owned();
            inline::parse(self, &name, lines[start].number);
            let item = get_indented(lines, start, false, None, Some(width), true);
            if docinfo {
                self.bibliographic_field(&name, &item.lines, lines[start].number);
            }
            self.body(&item.lines, true);
            let next = Self::next_non_blank(lines, item.end);
            if let Some(line) = lines.get(next).filter(|l| !l.is_indented())
                && let Some(w) = field_marker(&line.text)
            {
                start = next;
                width = w;
                continue;
            }
            if !item.blank_finish {
                self.unindent_warning(lines, item.end, "Field list");
            }
            return item.end;
        }
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
        let (mut start, mut width) = (i, width);
        let mut first = true;
        loop {
            let item = get_indented(lines, start, false, None, Some(width), true);
            if first && item.lines.iter().all(Line::is_blank) {
                // Not an option list item after all: the marker is paragraph text.
                return self.text(lines, i, nested);
            }
            if first {
                self.push(nested, Elem::Body);
                first = false;
            }
            self.body(&item.lines, true);
            let next = Self::next_non_blank(lines, item.end);
            if let Some(line) = lines.get(next).filter(|l| !l.is_indented())
                && let Kind::OptionMarker(w) = classify(&line.text)
            {
                let candidate = get_indented(lines, next, false, None, Some(w), true);
                if !candidate.lines.iter().all(Line::is_blank) {
                    start = next;
                    width = w;
                    continue;
                }
            }
            if !item.blank_finish {
                self.unindent_warning(lines, item.end, "Option list");
            }
            return item.end;
        }
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
                self.report(
                    lines[end].number,
                    Level::Error,
                    "Unexpected indentation.".to_owned(),
                );
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
                self.report(
                    line.number,
                    Level::Error,
                    "Unexpected indentation.".to_owned(),
                );
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
        let mut term = i;
        loop {
            inline::parse(self, &lines[term].text, lines[term].number);
            let item = get_indented(lines, term + 1, false, None, None, true);
            self.body(&item.lines, true);
            let next = Self::next_non_blank(lines, item.end);
            let continues = lines.get(next).is_some_and(|l| {
                !l.is_indented()
                    && classify(&l.text) == Kind::Text
                    && lines
                        .get(next + 1)
                        .is_some_and(|n| !n.is_blank() && n.is_indented())
            });
            if continues {
                term = next;
                continue;
            }
            if !item.blank_finish {
                self.unindent_warning(lines, item.end, "Definition list");
            }
            return item.end;
        }
    }

    /// A line of punctuation at body level: a section overline, a transition, or text.
    fn line(&mut self, lines: &[Line], i: usize, nested: bool) -> usize {
        let marker = lines[i].text.as_str();
        let short = marker.chars().count() < 4;
        if nested {
            if marker == "::" || short {
                return self.text(lines, i, nested);
            }
            self.report(
                lines[i].number,
                Level::Error,
                "Unexpected section title or transition.".to_owned(),
            );
            return i + 1;
        }
        let Some(title) = lines.get(i + 1).filter(|l| !l.is_blank()) else {
            if short {
                return self.text(lines, i, nested);
            }
            self.push(nested, Elem::Transition(lines[i].number));
            return i + 1;
        };
        if !title.is_indented() && is_line(&title.text) {
            if short {
                return self.text(lines, i, nested);
            }
            self.report(
                lines[i].number,
                Level::Error,
                "Invalid section title or transition marker.".to_owned(),
            );
            return i + 2;
        }
        let Some(underline) = lines.get(i + 2) else {
            if short {
                return self.text(lines, i, nested);
            }
            self.report(
                lines[i].number,
                Level::Error,
                "Incomplete section title.".to_owned(),
            );
            return i + 2;
        };
        let problem = if !is_line(&underline.text) {
            Some("Missing matching underline for section title overline.")
        } else if underline.text != marker {
            Some("Title overline & underline mismatch.")
        } else {
            None
        };
        if let Some(problem) = problem {
            if short {
                return self.text(lines, i, nested);
            }
            self.report(lines[i].number, Level::Error, problem.to_owned());
            return i + 3;
        }
        let title_text = title.text.trim();
        if column_width(&title.text) > marker.chars().count() {
            if short {
                return self.text(lines, i, nested);
            }
            self.report(
                lines[i].number,
                Level::Warning,
                "Title overline too short.".to_owned(),
            );
        }
        let style = Style::Over(marker.chars().next().unwrap_or('='));
        self.section(title_text, style, title.number);
        i + 3
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
        let mut start = i;
        loop {
            let construct = if classify(&lines[start].text) == Kind::Anonymous {
                self.anonymous_target(lines, start, nested)
            } else {
                self.explicit_construct(lines, start, nested)
            };
            let next = Self::next_non_blank(lines, construct.end);
            if let Some(line) = lines.get(next).filter(|l| !l.is_indented())
                && matches!(classify(&line.text), Kind::Explicit | Kind::Anonymous)
            {
                start = next;
                continue;
            }
            if !construct.blank_finish {
                self.unindent_warning(lines, construct.end, "Explicit markup");
            }
            return construct.end;
        }
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
        if after_dots.starts_with('_') && !matches!(after_dots.as_bytes().get(1), None | Some(b' '))
        {
            return self.hyperlink_target(lines, i, marker + 1, nested);
        }
        if after_dots.starts_with('|') && !matches!(after_dots.as_bytes().get(1), None | Some(b' '))
        {
            return self.substitution_definition(lines, i, marker + 1, nested);
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

    fn hyperlink_target(
        &mut self,
        lines: &[Line],
        i: usize,
        name_start: usize,
        nested: bool,
    ) -> Indented {
        self.push(nested, Elem::Ignored);
        let block = get_indented(lines, i, true, None, Some(name_start), false);
        let texts: Vec<String> = block.lines.iter().map(|l| l.text.clone()).collect();
        // Find the name: join lines (without separator) until the target pattern matches.
        let mut joined = String::new();
        let mut found = None;
        for (index, text) in texts.iter().enumerate() {
            joined.push_str(text);
            if let Some((name, rest)) = match_target(&joined) {
                found = Some((name, rest, index));
                break;
            }
        }
        let Some((name, rest, index)) = found else {
            self.report(
                lines[i].number,
                Level::Warning,
                "malformed hyperlink target.".to_owned(),
            );
            return block;
        };
        let mut parts: Vec<String> = vec![rest.trim().to_owned()];
        parts.extend(texts[index + 1..].iter().map(|t| t.trim().to_owned()));
        parts.retain(|p| !p.is_empty());
        let line = lines[i].number;
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

    fn substitution_definition(
        &mut self,
        lines: &[Line],
        i: usize,
        name_start: usize,
        nested: bool,
    ) -> Indented {
        self.push(nested, Elem::Ignored);
        let block = get_indented(lines, i, false, None, Some(name_start), false);
        let texts: Vec<String> = block.lines.iter().map(|l| l.text.clone()).collect();
        let line = lines[i].number;
        let mut joined = String::new();
        let mut found = None;
        for (index, text) in texts.iter().enumerate() {
            joined.push_str(text);
            if let Some((name, rest)) = match_substitution(&joined) {
                found = Some((name, rest, index));
                break;
            }
        }
        let Some((name, rest, index)) = found else {
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

/// docutils' target pattern on the text after `.. _`: returns the name (`None` for an
/// anonymous target `__:`) and the rest after the colon.
fn match_target(text: &str) -> Option<(Option<String>, String)> {
    let chars: Vec<char> = text.chars().collect();
    let rest_from = |end: usize| -> Option<String> {
        // `[ ]?:` then `([ ]+|$)`.
        let mut j = end;
        if chars.get(j) == Some(&' ') {
            j += 1;
        }
        if chars.get(j) != Some(&':') {
            return None;
        }
        j += 1;
        match chars.get(j) {
            None => Some(String::new()),
            Some(' ') => Some(chars[j..].iter().collect()),
            _ => None,
        }
    };
    if chars.first() == Some(&'_') {
        return rest_from(1).map(|rest| (None, rest));
    }
    let quoted = chars.first() == Some(&'`');
    let start = usize::from(quoted);
    if matches!(chars.get(start), None | Some(' ' | '`')) {
        return None;
    }
    for end in start + 1..=chars.len() {
        // `(?<![\s\x00])`: the name does not end with whitespace or an escaping backslash.
        let last = chars[end - 1];
        if last.is_whitespace() || last == '\\' {
            continue;
        }
        let after_quote = if quoted {
            if chars.get(end) != Some(&'`') {
                continue;
            }
            end + 1
        } else {
            end
        };
        // `(?<!(?<!\x00):)`: no unescaped colon right before the closing colon.
        if chars[after_quote - 1] == ':' && !(after_quote >= 2 && chars[after_quote - 2] == '\\') {
            continue;
        }
        if let Some(rest) = rest_from(after_quote) {
            let escaped: Vec<char> = chars[start..end]
                .iter()
                .map(|&c| if c == '\\' { super::chars::ESCAPE } else { c })
                .collect();
            return Some((Some(unescape(&escaped)), rest));
        }
    }
    None
}

/// The substitution name pattern on the text after `.. |`: `(?![ ])(.+?)(?<![\s\\])\|([ ]+|$)`.
fn match_substitution(text: &str) -> Option<(String, String)> {
    let chars: Vec<char> = text.chars().collect();
    if chars.first().is_none_or(|c| *c == ' ') {
        return None;
    }
    (1..chars.len()).find_map(|end| {
        let before = chars[end - 1];
        let closes = chars[end] == '|'
            && !before.is_whitespace()
            && before != '\\'
            && matches!(chars.get(end + 1), None | Some(' '));
        closes.then(|| {
            (
                chars[..end].iter().collect(),
                chars[end + 1..].iter().collect(),
            )
        })
    })
}

/// A reference written as a target's whole URI (`name_` or `` `phrase`_ ``): the name.
fn indirect_reference(reference: &str) -> Option<String> {
    let reference = super::whitespace_normalize(reference);
    let body = reference.strip_suffix('_')?;
    if body.ends_with('\\') {
        return None;
    }
    if let Some(phrase) = body.strip_prefix('`').and_then(|b| b.strip_suffix('`')) {
        return (!phrase.is_empty() && !phrase.starts_with(' ')).then(|| phrase.to_owned());
    }
    let chars: Vec<char> = body.chars().collect();
    (!chars.is_empty() && inline_simplename_len(&chars) == chars.len()).then(|| body.to_owned())
}

/// Length of the longest simple name at the start of `chars`.
fn inline_simplename_len(chars: &[char]) -> usize {
    let mut i = 0;
    let mut len = 0;
    loop {
        let start = i;
        while i < chars.len() && chars[i].is_alphanumeric() {
            i += 1;
        }
        if i == start {
            return len;
        }
        len = i;
        if i + 1 < chars.len()
            && matches!(chars[i], '-' | '.' | '_' | '+' | ':')
            && chars[i + 1].is_alphanumeric()
        {
            i += 1;
        } else {
            return len;
        }
    }
}

/// `(simplename)[ ]?::( +|$)` at character `start`: the directive name and the marker width.
pub(super) fn directive_marker(text: &str, start: usize) -> Option<(String, usize)> {
    let chars: Vec<char> = text.chars().collect();
    let rest = chars.get(start..)?;
    let name_len = inline_simplename_len(rest);
    if name_len == 0 {
        return None;
    }
    let mut j = start + name_len;
    if chars.get(j) == Some(&' ') {
        j += 1;
    }
    if chars.get(j) != Some(&':') || chars.get(j + 1) != Some(&':') {
        return None;
    }
    j += 2;
    let spaces = chars[j..].iter().take_while(|&&c| c == ' ').count();
    if j + spaces < chars.len() && spaces == 0 {
        return None;
    }
    Some((chars[start..start + name_len].iter().collect(), j + spaces))
}

/// The end of a text block (up to the next blank line).
fn text_block_end(lines: &[Line], i: usize) -> usize {
    let mut end = i;
    while end < lines.len() && !lines[end].is_blank() {
        end += 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_lines() {
        assert_eq!(classify("* item"), Kind::Bullet(2));
        assert_eq!(classify("-   item"), Kind::Bullet(4));
        assert_eq!(classify("-"), Kind::Bullet(1));
        // Matches the option pattern (`-i` with argument `tem`); the handler falls back to text.
        assert_eq!(classify("-item"), Kind::OptionMarker(5));
        assert!(matches!(classify("1. one"), Kind::Enumerator(_)));
        assert!(matches!(classify("(a) one"), Kind::Enumerator(_)));
        assert!(matches!(classify("iv) one"), Kind::Enumerator(_)));
        assert_eq!(classify(":param x: y"), Kind::Field(10));
        assert_eq!(classify(":: x"), Kind::Text);
        assert_eq!(classify("-v, --verbose  Be loud"), Kind::OptionMarker(15));
        assert_eq!(classify("-f FILE  Input"), Kind::OptionMarker(9));
        assert_eq!(classify("-foo bar"), Kind::Text);
        assert_eq!(classify(">>> 1 + 1"), Kind::Doctest);
        assert_eq!(classify("| line"), Kind::LineBlock(2));
        assert_eq!(classify("|sub|"), Kind::Text);
        assert_eq!(classify("+---+---+"), Kind::GridTable);
        assert_eq!(classify("===  ==="), Kind::SimpleTable);
        assert_eq!(classify(".. note::"), Kind::Explicit);
        assert_eq!(classify(".."), Kind::Explicit);
        assert_eq!(classify("__ http://x"), Kind::Anonymous);
        assert_eq!(classify("====="), Kind::Line);
        assert_eq!(classify("::"), Kind::Line);
        assert_eq!(classify("Text"), Kind::Text);
    }

    #[test]
    fn roman_numerals() {
        assert_eq!(from_roman("XIV"), Some(14));
        assert_eq!(from_roman("IIII"), None);
        assert_eq!(to_roman(1994).as_deref(), Some("MCMXCIV"));
    }

    #[test]
    fn targets_and_directives() {
        assert_eq!(
            match_target("foo: http://x"),
            Some((Some("foo".to_owned()), " http://x".to_owned()))
        );
        assert_eq!(
            match_target("`a: b`: http://x"),
            Some((Some("a: b".to_owned()), " http://x".to_owned()))
        );
        assert_eq!(
            match_target("_: http://x"),
            Some((None, " http://x".to_owned()))
        );
        assert_eq!(match_target("foo"), None);
        assert_eq!(
            match_substitution("name| image:: x.png"),
            Some(("name".to_owned(), " image:: x.png".to_owned()))
        );
        assert_eq!(indirect_reference("other_"), Some("other".to_owned()));
        assert_eq!(
            indirect_reference("`an other`_"),
            Some("an other".to_owned())
        );
        assert_eq!(indirect_reference("http://x_"), None);
        assert_eq!(
            directive_marker(".. code-block:: python", 3),
            Some(("code-block".to_owned(), 16))
        );
        assert_eq!(
            directive_marker(".. note::", 3),
            Some(("note".to_owned(), 9))
        );
        assert_eq!(directive_marker(".. note: x", 3), None);
    }
}
