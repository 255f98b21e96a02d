//! What a line starts: docutils' `Body` transitions (bullets, enumerators with their sequences
//! and Roman numerals, field and option markers, tables, section lines) and indented blocks.

use super::*;

/// What a non-indented, non-blank line starts (docutils' `Body` transitions, in order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
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
pub(crate) enum Format {
    Parens,
    RParen,
    Period,
}

impl Format {
    pub(super) fn affixes(self) -> (&'static str, &'static str) {
        match self {
            Format::Parens => ("(", ")"),
            Format::RParen => ("", ")"),
            Format::Period => ("", "."),
        }
    }
}

/// An enumerator as found at the start of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Enumerator {
    pub(super) format: Format,
    pub(super) text: String,
    pub(super) width: usize,
}

/// Enumeration sequences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sequence {
    Arabic,
    LowerAlpha,
    UpperAlpha,
    LowerRoman,
    UpperRoman,
    Auto,
}

pub(super) const SEQUENCES: [Sequence; 5] = [
    Sequence::Arabic,
    Sequence::LowerAlpha,
    Sequence::UpperAlpha,
    Sequence::LowerRoman,
    Sequence::UpperRoman,
];

impl Sequence {
    pub(super) fn matches(self, text: &str) -> bool {
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

    pub(super) fn ordinal(self, text: &str) -> Option<u64> {
        match self {
            Sequence::Auto => Some(1),
            Sequence::Arabic => text.parse().ok(),
            Sequence::LowerAlpha => text.bytes().next().map(|b| u64::from(b - b'a') + 1),
            Sequence::UpperAlpha => text.bytes().next().map(|b| u64::from(b - b'A') + 1),
            Sequence::LowerRoman => from_roman(&text.to_ascii_uppercase()),
            Sequence::UpperRoman => from_roman(text),
        }
    }

    pub(super) fn enumerator(self, ordinal: u64) -> Option<String> {
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
pub(super) fn from_roman(text: &str) -> Option<u64> {
    let value = roman_value(text)?;
    (to_roman(value).as_deref() == Some(text)).then_some(value)
}

pub(super) fn roman_value(text: &str) -> Option<u64> {
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

pub(super) fn to_roman(mut n: u64) -> Option<String> {
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
pub(super) fn spaces_or_end(text: &str, end: usize) -> Option<usize> {
    let rest = text.get(end..)?;
    if rest.is_empty() {
        return Some(text[..end].chars().count());
    }
    let spaces = rest.len() - rest.trim_start_matches(' ').len();
    (spaces > 0).then(|| text[..end].chars().count() + spaces)
}

pub(super) fn parse_enumerator(text: &str) -> Option<Enumerator> {
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
pub(crate) fn field_marker(text: &str) -> Option<usize> {
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
pub(super) fn option_marker(text: &str) -> Option<usize> {
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
pub(super) fn option_list_ends(chars: &[char], i: usize, out: &mut Vec<usize>) {
    for end in option_ends(chars, i) {
        if chars.get(end) == Some(&',') && chars.get(end + 1) == Some(&' ') {
            option_list_ends(chars, end + 2, out);
        }
        out.push(end);
    }
}

/// Possible ends of one option at `i` (with and without its argument).
pub(super) fn option_ends(chars: &[char], i: usize) -> Vec<usize> {
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
pub(super) fn option_argument(chars: &[char], i: usize) -> Option<usize> {
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
pub(crate) fn is_line(text: &str) -> bool {
    let Some(first) = text.chars().next() else {
        return false;
    };
    first.is_ascii_punctuation() && text.chars().all(|c| c == first)
}

pub(super) fn is_grid_table_top(text: &str) -> bool {
    text.len() >= 5
        && text.starts_with("+-")
        && text.ends_with("-+")
        && text[1..text.len() - 1]
            .bytes()
            .all(|b| b == b'-' || b == b'+')
}

pub(super) fn is_simple_table_top(text: &str) -> bool {
    let columns: Vec<&str> = text.split(' ').filter(|s| !s.is_empty()).collect();
    columns.len() >= 2
        && text.starts_with('=')
        && columns.iter().all(|c| c.bytes().all(|b| b == b'='))
}

/// Classifies a non-blank line that starts at column 0.
pub(crate) fn classify(text: &str) -> Kind {
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
pub(crate) struct Indented {
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
pub(crate) fn get_indented(
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
pub(super) fn line_at(lines: &[Line], end: usize) -> usize {
    lines.get(end).or(lines.last()).map_or(0, |l| {
        if end < lines.len() {
            l.number
        } else {
            l.number + 1
        }
    })
}
