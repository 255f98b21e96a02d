//! The explicit-markup patterns: hyperlink targets, substitution definitions, directive markers
//! and the end of a text block.

use super::*;

/// docutils' target pattern on the text after `.. _`: returns the name (`None` for an
/// anonymous target `__:`) and the rest after the colon.
pub(super) fn match_target(text: &str) -> Option<(Option<String>, String)> {
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
                .map(|&c| if c == '\\' { crate::chars::ESCAPE } else { c })
                .collect();
            return Some((Some(unescape(&escaped)), rest));
        }
    }
    None
}

/// The substitution name pattern on the text after `.. |`: `(?![ ])(.+?)(?<![\s\\])\|([ ]+|$)`.
pub(super) fn match_substitution(text: &str) -> Option<(String, String)> {
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
pub(super) fn indirect_reference(reference: &str) -> Option<String> {
    let reference = crate::whitespace_normalize(reference);
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
pub(super) fn inline_simplename_len(chars: &[char]) -> usize {
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
pub(crate) fn directive_marker(text: &str, start: usize) -> Option<(String, usize)> {
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
pub(super) fn text_block_end(lines: &[Line], i: usize) -> usize {
    let mut end = i;
    while end < lines.len() && !lines[end].is_blank() {
        end += 1;
    }
    end
}
