//! The `environment` option: ordered `NAME=value` assignments in cibuildwheel's syntax
//! (`A=1 B="two words" C=$A PATH=$(pwd)/bin:$PATH`).
//!
//! Values are kept as the shell words they were written as: they are evaluated by bash inside
//! the build container, in order, so a later assignment can use an earlier one (cibuildwheel
//! evaluates them the same way). Parsing here only splits the text into assignments with the
//! shell's quoting rules (quotes, backslashes, `$(…)`, `${…}`, backticks) and checks names, so a
//! typo is reported when the configuration is read rather than inside a container.

use std::fmt;

/// One `NAME=value` assignment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EnvAssignment {
    /// Ex) `CFLAGS`
    pub name: String,
    /// The value as a shell word, quotes included. Ex) `"-O2 -g"`
    pub value: String,
}

impl EnvAssignment {
    /// The assignment as a shell word. Ex) `CFLAGS="-O2 -g"`
    #[must_use]
    pub fn as_shell(&self) -> String {
        format!("{}={}", self.name, self.value)
    }
}

/// Ordered assignments.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Environment {
    /// In evaluation order.
    pub assignments: Vec<EnvAssignment>,
}

impl Environment {
    /// Parses the string form: assignments separated by unquoted whitespace.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut assignments = Vec::new();
        for word in split_words(text)? {
            assignments.push(assignment(&word)?);
        }
        Ok(Environment { assignments })
    }

    /// The table form (`environment = { A = "1", B = "$A two" }`): each value is used as if
    /// written in double quotes, as cibuildwheel does (`$VAR` and `$(…)` still expand).
    pub fn from_table<'a>(
        entries: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, String> {
        let mut assignments = Vec::new();
        for (name, value) in entries {
            check_name(name)?;
            let mut quoted = String::with_capacity(value.len() + 2);
            quoted.push('"');
            for c in value.chars() {
                if c == '"' || c == '\\' {
                    quoted.push('\\');
                }
                quoted.push(c);
            }
            quoted.push('"');
            assignments.push(EnvAssignment {
                name: name.to_owned(),
                value: quoted,
            });
        }
        Ok(Environment { assignments })
    }

    /// Whether there are no assignments.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.assignments.is_empty()
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words: Vec<String> = self
            .assignments
            .iter()
            .map(EnvAssignment::as_shell)
            .collect();
        f.write_str(&words.join(" "))
    }
}

pub(crate) fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(format!("`{name}` is not a valid environment variable name"))
    }
}

fn assignment(word: &str) -> Result<EnvAssignment, String> {
    let Some((name, value)) = word.split_once('=') else {
        return Err(format!(
            "`{word}` is not an assignment (expected NAME=value)"
        ));
    };
    check_name(name)?;
    Ok(EnvAssignment {
        name: name.to_owned(),
        value: value.to_owned(),
    })
}

/// Splits at unquoted whitespace, keeping quotes and escapes in the words.
fn split_words(text: &str) -> Result<Vec<String>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut words = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        i = scan_word(&chars, i)?;
        words.push(chars[start..i].iter().collect());
    }
    Ok(words)
}

/// Returns the index just past the word starting at `i`.
fn scan_word(chars: &[char], mut i: usize) -> Result<usize, String> {
    while i < chars.len() && !chars[i].is_whitespace() {
        i = scan_unit(chars, i)?;
    }
    Ok(i)
}

/// Scans one syntactic unit at `i` (a character, an escape, a quoted string, a substitution).
fn scan_unit(chars: &[char], i: usize) -> Result<usize, String> {
    let unterminated = |what: &str| Err(format!("unterminated {what}"));
    match chars[i] {
        '\\' => {
            if i + 1 < chars.len() {
                Ok(i + 2)
            } else {
                unterminated("escape (a trailing backslash)")
            }
        }
        '\'' => match chars[i + 1..].iter().position(|&c| c == '\'') {
            Some(offset) => Ok(i + 1 + offset + 1),
            None => unterminated("single quote"),
        },
        '"' => {
            let mut j = i + 1;
            while j < chars.len() {
                match chars[j] {
                    '"' => return Ok(j + 1),
                    '\\' => j += 2,
                    '$' | '`' => j = scan_unit(chars, j)?,
                    _ => j += 1,
                }
            }
            unterminated("double quote")
        }
        '`' => {
            let mut j = i + 1;
            while j < chars.len() {
                match chars[j] {
                    '`' => return Ok(j + 1),
                    '\\' => j += 2,
                    _ => j += 1,
                }
            }
            unterminated("backtick")
        }
        '$' if chars.get(i + 1) == Some(&'(') => scan_group(chars, i + 2, ')', "`$(`"),
        '$' if chars.get(i + 1) == Some(&'{') => scan_group(chars, i + 2, '}', "`${`"),
        _ => Ok(i + 1),
    }
}

/// Scans to the matching `close`, through nested quotes and substitutions (whitespace allowed).
fn scan_group(chars: &[char], mut j: usize, close: char, what: &str) -> Result<usize, String> {
    let mut depth = 0usize;
    while j < chars.len() {
        let c = chars[j];
        if c == close {
            if depth == 0 {
                return Ok(j + 1);
            }
            depth -= 1;
            j += 1;
        } else if close == ')' && c == '(' {
            depth += 1;
            j += 1;
        } else if matches!(c, '\\' | '\'' | '"' | '`' | '$') {
            j = scan_unit(chars, j)?;
        } else {
            j += 1;
        }
    }
    Err(format!("unterminated {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(env: &Environment) -> Vec<(&str, &str)> {
        env.assignments
            .iter()
            .map(|a| (a.name.as_str(), a.value.as_str()))
            .collect()
    }

    #[test]
    fn parses_cibuildwheel_syntax_in_order() {
        let env = Environment::parse(r#"A=1 B="two words" C=$A"#).expect("parses");
        assert_eq!(
            pairs(&env),
            [("A", "1"), ("B", "\"two words\""), ("C", "$A")]
        );
        assert_eq!(env.to_string(), r#"A=1 B="two words" C=$A"#);
    }

    #[test]
    fn keeps_substitutions_and_quotes_whole() {
        let text = r#"PATH=$(pwd)/bin:$PATH  CFLAGS='-O2 -g'   X=$(echo "a b" $(echo c d)) Y=${HOME:-/root x} Z=`uname -m` E=a\ b EMPTY="#;
        let env = Environment::parse(text).expect("parses");
        assert_eq!(
            pairs(&env),
            [
                ("PATH", "$(pwd)/bin:$PATH"),
                ("CFLAGS", "'-O2 -g'"),
                ("X", r#"$(echo "a b" $(echo c d))"#),
                ("Y", "${HOME:-/root x}"),
                ("Z", "`uname -m`"),
                ("E", r"a\ b"),
                ("EMPTY", ""),
            ]
        );
        assert!(Environment::parse("  \n ").expect("empty").is_empty());
    }

    #[test]
    fn table_values_are_double_quoted() {
        let env = Environment::from_table([("A", "1"), ("B", "$A x"), ("Q", r#"say "hi" \o/"#)])
            .expect("valid");
        assert_eq!(
            pairs(&env),
            [
                ("A", "\"1\""),
                ("B", "\"$A x\""),
                ("Q", r#""say \"hi\" \\o/""#)
            ]
        );
        assert!(Environment::from_table([("1A", "x")]).is_err());
    }

    #[test]
    fn malformed_text_is_an_error() {
        let cases = [
            ("A=1 B", "`B` is not an assignment (expected NAME=value)"),
            ("A=\"open", "unterminated double quote"),
            ("A='open", "unterminated single quote"),
            ("A=$(echo", "unterminated `$(`"),
            ("A=${X", "unterminated `${`"),
            ("A=`x", "unterminated backtick"),
            ("A=x\\", "unterminated escape (a trailing backslash)"),
            ("1A=x", "`1A` is not a valid environment variable name"),
            ("A-B=x", "`A-B` is not a valid environment variable name"),
            ("=x", "`` is not a valid environment variable name"),
        ];
        for (text, expected) in cases {
            assert_eq!(
                Environment::parse(text).expect_err(text),
                expected,
                "{text}"
            );
        }
    }
}
