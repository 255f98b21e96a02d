//! `pyproject.toml` as an owned tree that remembers the line and column of every key and value,
//! so configuration errors can point at the line (keys in file order).

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// A value and where it starts.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) value: NodeValue,
    pub(crate) line: usize,
    pub(crate) column: usize,
}

/// A table key and where it is written.
#[derive(Debug, Clone)]
pub(crate) struct Key {
    pub(crate) name: String,
    pub(crate) line: usize,
    pub(crate) column: usize,
}

#[derive(Debug, Clone)]
pub(crate) enum NodeValue {
    String(String),
    Integer(i64),
    Float,
    Boolean(bool),
    Datetime,
    Array(Vec<Node>),
    Table(Vec<(Key, Node)>),
}

impl Node {
    /// The TOML type name for error messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match self.value {
            NodeValue::String(_) => "a string",
            NodeValue::Integer(_) => "an integer",
            NodeValue::Float => "a float",
            NodeValue::Boolean(_) => "a boolean",
            NodeValue::Datetime => "a datetime",
            NodeValue::Array(_) => "an array",
            NodeValue::Table(_) => "a table",
        }
    }

    pub(crate) fn as_table(&self) -> Option<&[(Key, Node)]> {
        match &self.value {
            NodeValue::Table(entries) => Some(entries),
            _ => None,
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<(&Key, &Node)> {
        self.as_table()?
            .iter()
            .find(|(key, _)| key.name == name)
            .map(|(k, v)| (k, v))
    }
}

/// A TOML syntax error with its position.
#[derive(Debug, Clone)]
pub(crate) struct SyntaxError {
    pub(crate) line: usize,
    pub(crate) column: usize,
    pub(crate) message: String,
}

struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines { text, starts }
    }

    /// 1-based line and column (in characters) of a byte offset.
    fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        let column = self
            .text
            .get(start..offset)
            .map_or(1, |prefix| prefix.chars().count() + 1);
        (line, column)
    }
}

/// Parses a document into a table node.
pub(crate) fn parse_document(text: &str) -> Result<Node, SyntaxError> {
    let lines = Lines::new(text);
    match DeTable::parse(text) {
        Ok(table) => {
            let span = table.span();
            let (line, column) = lines.position(span.start);
            Ok(Node {
                value: NodeValue::Table(convert_table(table.get_ref(), &lines)),
                line,
                column,
            })
        }
        Err(err) => {
            let (line, column) = err.span().map_or((1, 1), |span| lines.position(span.start));
            let message = err
                .message()
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join("; ");
            Err(SyntaxError {
                line,
                column,
                message,
            })
        }
    }
}

fn convert_table(table: &DeTable<'_>, lines: &Lines<'_>) -> Vec<(Key, Node)> {
    table
        .iter()
        .map(|(key, value)| {
            let (line, column) = lines.position(key.span().start);
            (
                Key {
                    name: key.get_ref().to_string(),
                    line,
                    column,
                },
                convert(value, lines),
            )
        })
        .collect()
}

fn convert(value: &Spanned<DeValue<'_>>, lines: &Lines<'_>) -> Node {
    let (line, column) = lines.position(value.span().start);
    let value = match value.get_ref() {
        DeValue::String(s) => NodeValue::String(s.to_string()),
        DeValue::Integer(i) => NodeValue::Integer(
            i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()).unwrap_or(i64::MAX),
        ),
        DeValue::Float(_) => NodeValue::Float,
        DeValue::Boolean(b) => NodeValue::Boolean(*b),
        DeValue::Datetime(_) => NodeValue::Datetime,
        DeValue::Array(items) => {
            NodeValue::Array(items.iter().map(|item| convert(item, lines)).collect())
        }
        DeValue::Table(table) => NodeValue::Table(convert_table(table, lines)),
    };
    Node {
        value,
        line,
        column,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_file_order_and_positions() {
        let doc = parse_document(
            "[tool.x]\nzeta = 1\nalpha = \"a\"\n\n[tool.x.env]\nB = \"2\"\nA = \"1\"\n",
        )
        .expect("parses");
        let (_, tool) = doc.get("tool").expect("tool");
        let (_, x) = tool.get("x").expect("x");
        let names: Vec<&str> = x
            .as_table()
            .expect("table")
            .iter()
            .map(|(k, _)| k.name.as_str())
            .collect();
        assert_eq!(names, ["zeta", "alpha", "env"]);
        let (key, value) = x.get("alpha").expect("alpha");
        assert_eq!((key.line, key.column), (3, 1));
        assert_eq!((value.line, value.column), (3, 9));
        let (_, env) = x.get("env").expect("env");
        let env_names: Vec<&str> = env
            .as_table()
            .expect("table")
            .iter()
            .map(|(k, _)| k.name.as_str())
            .collect();
        assert_eq!(env_names, ["B", "A"]);
    }

    #[test]
    fn syntax_errors_have_line_and_column() {
        let err = parse_document("[project]\nname = \"x\"\nrequires-python = >=3.9\n")
            .expect_err("bad value");
        assert_eq!((err.line, err.column), (3, 20), "{}", err.message);
        assert!(!err.message.contains('\n'));
    }
}
