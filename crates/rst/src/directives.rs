//! Directives: the docutils directive registry (English names and aliases) with each
//! directive's arguments, options and content rules, and what PyPI's settings disable.
//!
//! Fact source: docutils 0.23 `parsers/rst/directives/*.py` (`required_arguments`,
//! `optional_arguments`, `final_argument_whitespace`, `option_spec`, `has_content`,
//! `assert_has_content`) and `parsers/rst/states.py` (`parse_directive_block`).

use super::blocks::{Kind, classify, field_marker};
use super::inline::{self, RoleKind, lookup_role};
use super::{Doc, Elem, Level, Line, skip_chars};

/// What a directive does with its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    /// Body elements (admonitions, containers, figure captions…).
    Parse,
    /// Kept as text (code, math, raw…).
    Literal,
    /// Inline markup on each line (`line-block`) or on the whole (`parsed-literal`).
    Inline,
    /// `list-table`: a uniform two-level bullet list.
    ListTable,
    /// `table`: exactly one table.
    Table,
    /// `replace`: a single paragraph of inline markup.
    Replace,
    /// `csv-table`: CSV data (Python's `csv` module, strict), each cell a nested document.
    Csv,
}

/// Whether content is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Content {
    None,
    Optional,
    Required,
}

/// What running the directive does beyond parsing its block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Special {
    Plain,
    /// Disabled on PyPI (`raw`, `include`): a WARNING.
    Disabled,
    /// Only valid in a substitution definition (`replace`, `unicode`, `date`).
    SubstitutionOnly,
    /// `role`: defines a role.
    Role,
    /// `default-role`: changes the default role.
    DefaultRole,
    /// `csv-table`: `file`/`url` options are disabled.
    CsvTable,
    /// `image` (in a substitution, `align` is limited to top/middle/bottom).
    Image,
    /// `figure` (`align` is left/center/right).
    Figure,
    /// Accepts anything (`restructuredtext-test-directive`, `meta`).
    Anything,
}

struct Spec {
    required: usize,
    optional: usize,
    final_whitespace: bool,
    options: &'static [&'static str],
    content: Content,
    body: Body,
    special: Special,
}

const CLASS_NAME: &[&str] = &["class", "name"];
const IMAGE_OPTIONS: &[&str] = &[
    "alt", "height", "width", "scale", "align", "name", "target", "class", "loading",
];
const FIGURE_OPTIONS: &[&str] = &[
    "alt", "height", "width", "scale", "align", "name", "target", "class", "loading", "figwidth",
    "figclass",
];

const fn spec(
    required: usize,
    optional: usize,
    options: &'static [&'static str],
    content: Content,
    body: Body,
) -> Spec {
    Spec {
        required,
        optional,
        final_whitespace: true,
        options,
        content,
        body,
        special: Special::Plain,
    }
}

/// The directive registered under `name` (case-insensitive, English names and aliases).
fn lookup(name: &str) -> Option<Spec> {
    use Body::{Csv, Inline, ListTable, Literal, Parse, Replace, Table};
    use Content::{None as NoContent, Optional, Required};
    let name = name.to_lowercase();
    let special = |mut s: Spec, special| {
        s.special = special;
        s
    };
    Some(match name.as_str() {
        "attention" | "caution" | "danger" | "error" | "hint" | "important" | "note" | "tip"
        | "warning" => spec(0, 0, CLASS_NAME, Required, Parse),
        "admonition" => spec(1, 0, CLASS_NAME, Required, Parse),
        "sidebar" => spec(0, 1, &["subtitle", "class", "name"], Required, Parse),
        "topic" => spec(1, 0, CLASS_NAME, Required, Parse),
        "line-block" => spec(0, 0, CLASS_NAME, Required, Inline),
        "parsed-literal" => spec(0, 0, CLASS_NAME, Required, Inline),
        "code" | "code-block" | "sourcecode" => Spec {
            final_whitespace: false,
            ..spec(0, 1, &["class", "name", "number-lines"], Required, Literal)
        },
        "math" => spec(0, 0, CLASS_NAME, Required, Literal),
        "rubric" => spec(1, 0, CLASS_NAME, NoContent, Literal),
        "epigraph" | "highlights" | "pull-quote" => spec(0, 0, &[], Required, Parse),
        "compound" => spec(0, 0, CLASS_NAME, Required, Parse),
        "container" => spec(0, 1, &["name"], Required, Parse),
        "table" => spec(
            0,
            1,
            &["class", "name", "align", "width", "widths"],
            Required,
            Table,
        ),
        "csv-table" => special(
            spec(
                0,
                1,
                &[
                    "header-rows",
                    "stub-columns",
                    "header",
                    "width",
                    "widths",
                    "file",
                    "url",
                    "encoding",
                    "class",
                    "name",
                    "align",
                    "delim",
                    "keepspace",
                    "quote",
                    "escape",
                ],
                Optional,
                Csv,
            ),
            Special::CsvTable,
        ),
        "list-table" => spec(
            0,
            1,
            &[
                "header-rows",
                "stub-columns",
                "width",
                "widths",
                "class",
                "name",
                "align",
            ],
            Required,
            ListTable,
        ),
        "image" => special(
            spec(1, 0, IMAGE_OPTIONS, NoContent, Literal),
            Special::Image,
        ),
        "figure" => special(spec(1, 0, FIGURE_OPTIONS, Optional, Parse), Special::Figure),
        "contents" => spec(
            0,
            1,
            &["depth", "local", "backlinks", "class"],
            NoContent,
            Literal,
        ),
        "sectnum" | "section-numbering" => spec(
            0,
            0,
            &["depth", "prefix", "suffix", "start"],
            NoContent,
            Literal,
        ),
        "header" | "footer" => spec(0, 0, &[], Required, Parse),
        "target-notes" => spec(0, 0, CLASS_NAME, NoContent, Literal),
        "meta" => special(spec(0, 0, &[], Required, Literal), Special::Anything),
        "raw" => special(
            spec(
                1,
                0,
                &["file", "url", "encoding", "class"],
                Optional,
                Literal,
            ),
            Special::Disabled,
        ),
        "include" => special(spec(1, 0, &[], NoContent, Literal), Special::Disabled),
        "replace" => special(
            spec(0, 0, &[], Required, Replace),
            Special::SubstitutionOnly,
        ),
        "unicode" => special(
            spec(1, 0, &["trim", "ltrim", "rtrim"], NoContent, Literal),
            Special::SubstitutionOnly,
        ),
        "date" => special(
            spec(0, 1, &[], NoContent, Literal),
            Special::SubstitutionOnly,
        ),
        "class" | "rst-class" => spec(1, 0, &[], Optional, Parse),
        "role" => special(spec(0, 0, &[], Optional, Literal), Special::Role),
        "default-role" => special(spec(0, 1, &[], NoContent, Literal), Special::DefaultRole),
        "title" => spec(1, 0, &[], NoContent, Literal),
        "restructuredtext-test-directive" => {
            special(spec(0, 1, &[], Optional, Literal), Special::Anything)
        }
        _ => return None,
    })
}

/// Directives that may appear in a substitution definition (they produce inline content).
fn substitution_capable(name: &str) -> bool {
    matches!(
        name.to_lowercase().as_str(),
        "image" | "replace" | "unicode" | "date"
    )
}

/// A directive's block split like docutils' `parse_directive_block`.
struct Parsed {
    arguments: Vec<String>,
    options: Vec<(String, String)>,
    content: Vec<Line>,
}

impl Doc {
    /// Checks a directive. `block` starts with the text after `::` and continues with the
    /// indented lines (indentation removed); `substitution` is the definition's name when the
    /// directive is the body of one.
    pub(super) fn directive(
        &mut self,
        name: &str,
        block: &[Line],
        line: usize,
        nested: bool,
        substitution: Option<&str>,
    ) {
        let Some(spec) = lookup(name) else {
            self.report(
                line,
                Level::Error,
                format!("Unknown directive type \"{name}\"."),
            );
            return;
        };
        if let Some(definition) = substitution.filter(|_| !substitution_capable(name)) {
            self.report(
                line,
                Level::Warning,
                format!("Substitution definition \"{definition}\" empty or invalid."),
            );
            return;
        }
        let invisible = matches!(
            name.to_lowercase().as_str(),
            "role"
                | "default-role"
                | "title"
                | "meta"
                | "sectnum"
                | "section-numbering"
                | "class"
                | "rst-class"
                | "header"
                | "footer"
                | "target-notes"
        );
        if substitution.is_none() {
            self.push(nested, if invisible { Elem::Ignored } else { Elem::Body });
        }
        let error = |doc: &mut Doc, message: &str| {
            doc.report(
                line,
                Level::Error,
                format!("Error in \"{name}\" directive: {message}."),
            );
        };
        let parsed = match parse_block(&spec, block) {
            Ok(parsed) => parsed,
            Err(message) => {
                error(self, &message);
                return;
            }
        };
        match spec.special {
            Special::Disabled => {
                self.report(
                    line,
                    Level::Warning,
                    format!("\"{}\" directive disabled.", name.to_lowercase()),
                );
                return;
            }
            Special::SubstitutionOnly if substitution.is_none() => {
                self.report(
                    line,
                    Level::Error,
                    format!(
                        "Invalid context: the \"{name}\" directive can only be used within a \
                         substitution definition."
                    ),
                );
                return;
            }
            Special::CsvTable
                if parsed
                    .options
                    .iter()
                    .any(|(option, _)| option == "file" || option == "url") =>
            {
                self.report(
                    line,
                    Level::Warning,
                    format!("File and URL access deactivated; ignoring \"{name}\" directive."),
                );
                return;
            }
            Special::Role => {
                self.role_directive(name, block, line);
                return;
            }
            Special::DefaultRole => {
                if let Some(role) = parsed.arguments.first() {
                    if lookup_role(self, role).is_none() {
                        self.report(
                            line,
                            Level::Error,
                            format!("Unknown interpreted text role \"{role}\"."),
                        );
                    } else {
                        self.default_role = Some(role.clone());
                    }
                } else {
                    self.default_role = Some("title-reference".to_owned());
                }
                return;
            }
            Special::Image | Special::Figure => {
                let allowed: &[&str] = match (spec.special, substitution) {
                    (Special::Figure, _) => &["left", "center", "right"],
                    (_, Some(_)) => &["top", "middle", "bottom"],
                    _ => &["top", "middle", "bottom", "left", "center", "right"],
                };
                if let Some((_, value)) = parsed.options.iter().find(|(o, _)| o == "align")
                    && !allowed.contains(&value.to_lowercase().as_str())
                {
                    error(
                        self,
                        &format!(
                            "invalid option value: (option: \"align\"; value: '{value}') \
                             \"{value}\" unknown; choose from \"{}\"",
                            allowed.join("\", \"")
                        ),
                    );
                    return;
                }
            }
            _ => {}
        }
        if spec.content == Content::Required
            && parsed.content.iter().all(Line::is_blank)
            && spec.special != Special::Anything
        {
            self.report(
                line,
                Level::Error,
                format!("Content block expected for the \"{name}\" directive; none found."),
            );
            return;
        }
        match spec.body {
            Body::Parse => self.body(&parsed.content, true),
            Body::Literal => {}
            Body::Inline => {
                let text: Vec<&str> = parsed.content.iter().map(|l| l.text.as_str()).collect();
                let first = parsed.content.first().map_or(line, |l| l.number);
                inline::parse(self, &text.join("\n"), first);
            }
            Body::Replace => {
                let paragraphs = parsed
                    .content
                    .split(Line::is_blank)
                    .filter(|p| !p.is_empty())
                    .count();
                if paragraphs > 1 {
                    error(self, "may contain a single paragraph only");
                    return;
                }
                self.body(&parsed.content, true);
            }
            Body::Table => {
                let tables = parsed
                    .content
                    .iter()
                    .filter(|l| {
                        !l.is_indented()
                            && matches!(classify(&l.text), Kind::GridTable | Kind::SimpleTable)
                    })
                    .count();
                if tables == 0 {
                    self.report(
                        line,
                        Level::Error,
                        format!(
                            "Error parsing content block for the \"{name}\" directive: exactly \
                             one table expected."
                        ),
                    );
                    return;
                }
                self.body(&parsed.content, true);
            }
            Body::ListTable => self.list_table(name, &parsed, line),
            Body::Csv => self.csv_table(name, &parsed, line),
        }
    }

    /// `.. role:: name` or `.. role:: name(base)`: registers a custom role.
    fn role_directive(&mut self, name: &str, block: &[Line], line: usize) {
        let Some(first) = block
            .first()
            .map(|l| l.text.trim())
            .filter(|t| !t.is_empty())
        else {
            self.report(
                line,
                Level::Error,
                format!("\"{name}\" directive requires arguments on the first line."),
            );
            return;
        };
        let (new, base) = match first.split_once('(') {
            Some((new, rest)) => (
                new.trim(),
                Some(rest.trim_end().trim_end_matches(')').trim()),
            ),
            None => (first, None),
        };
        let valid = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '-' | '.' | '_' | '+' | ':'))
        };
        if !valid(new) || base.is_some_and(|b| !valid(b)) {
            self.report(
                line,
                Level::Error,
                format!("The \"{name}\" directive arguments not valid role names: \"{first}\"."),
            );
            return;
        }
        let options: Vec<Line> = block[1..]
            .iter()
            .take_while(|l| !l.is_blank())
            .cloned()
            .collect();
        if let Err(message) = parse_options(
            &lookup(name).unwrap_or(spec(0, 0, &[], Content::Optional, Body::Literal)),
            &options,
        ) {
            self.report(
                line,
                Level::Error,
                format!("Error in \"{name}\" directive: {message}."),
            );
            return;
        }
        let kind = match base {
            None => RoleKind::Plain,
            Some(base) => match lookup_role(self, base) {
                Some(kind) => kind,
                None => {
                    self.report(
                        line,
                        Level::Error,
                        format!("Unknown interpreted text role \"{base}\"."),
                    );
                    return;
                }
            },
        };
        self.custom_roles.insert(new.to_lowercase(), kind);
    }

    /// `list-table`: the content must be one bullet list whose items are bullet lists of the
    /// same length.
    fn list_table(&mut self, name: &str, parsed: &Parsed, line: usize) {
        let content = parsed.content.as_slice();
        let error = |doc: &mut Doc, detail: String| {
            doc.report(
                line,
                Level::Error,
                format!("Error parsing content block for the \"{name}\" directive: {detail}."),
            );
        };
        let start = content.iter().position(|l| !l.is_blank());
        let Some(start) = start else {
            return;
        };
        let rows: Vec<usize> = content
            .iter()
            .enumerate()
            .filter(|(_, l)| !l.is_blank() && !l.is_indented())
            .map(|(i, _)| i)
            .collect();
        if rows
            .iter()
            .any(|&i| !matches!(classify(&content[i].text), Kind::Bullet(_)))
            || rows.first() != Some(&start)
        {
            error(self, "exactly one bullet list expected".to_owned());
            return;
        }
        let mut lengths = Vec::new();
        for (n, &row) in rows.iter().enumerate() {
            let end = rows.get(n + 1).copied().unwrap_or(content.len());
            let Kind::Bullet(width) = classify(&content[row].text) else {
                continue;
            };
            let mut item: Vec<Line> = vec![Line {
                text: skip_chars(&content[row].text, width).to_owned(),
                number: content[row].number,
            }];
            item.extend(content[row + 1..end].iter().map(|l| Line {
                text: skip_chars(&l.text, width).to_owned(),
                number: l.number,
            }));
            let cells = item
                .iter()
                .filter(|l| !l.is_blank() && !l.is_indented())
                .collect::<Vec<_>>();
            if cells
                .iter()
                .any(|l| !matches!(classify(&l.text), Kind::Bullet(_)))
            {
                error(
                    self,
                    format!(
                        "two-level bullet list expected, but row {} does not contain a \
                         second-level bullet list",
                        n + 1
                    ),
                );
                return;
            }
            lengths.push(cells.len());
            self.body(&item, true);
        }
        if let Some((n, &len)) = lengths.iter().enumerate().find(|(_, l)| **l != lengths[0]) {
            error(
                self,
                format!(
                    "uniform two-level bullet list expected, but row {} does not contain the \
                     same number of items as row 1 ({len} vs {})",
                    n + 1,
                    lengths[0]
                ),
            );
            return;
        }
        let columns = lengths.first().copied().unwrap_or(0);
        self.table_dimensions(name, &parsed.options, lengths.len(), columns, line);
    }

    /// docutils' `check_table_dimensions` and `get_column_widths` for the table directives.
    fn table_dimensions(
        &mut self,
        name: &str,
        options: &[(String, String)],
        rows: usize,
        columns: usize,
        line: usize,
    ) {
        let number = |option: &str| {
            options
                .iter()
                .find(|(o, _)| o == option)
                .and_then(|(_, v)| v.parse::<usize>().ok())
                .unwrap_or(0)
        };
        let (header_rows, stub_columns) = (number("header-rows"), number("stub-columns"));
        let message = if header_rows > rows {
            Some(format!(
                "{header_rows} header row(s) specified but only {rows} row(s) of data supplied \
                 (\"{name}\" directive)."
            ))
        } else if stub_columns > columns {
            Some(format!(
                "{stub_columns} stub column(s) specified but only {columns} columns(s) of data \
                 supplied (\"{name}\" directive)."
            ))
        } else {
            options
                .iter()
                .find(|(o, _)| o == "widths")
                .map(|(_, v)| v.trim())
                .filter(|v| !matches!(*v, "auto" | "grid"))
                .filter(|v| v.split([',', ' ']).filter(|w| !w.is_empty()).count() != columns)
                .map(|_| {
                    format!(
                        "\"{name}\" widths do not match the number of columns in table \
                         ({columns})."
                    )
                })
        };
        if let Some(message) = message {
            self.report(line, Level::Error, message);
        }
    }
}

/// docutils' CSV dialect for `csv-table`, adjusted by the directive's options.
struct Dialect {
    delimiter: char,
    quote: char,
    escape: Option<char>,
    skip_initial_space: bool,
}

impl Dialect {
    fn from_options(options: &[(String, String)]) -> Self {
        let option = |name: &str| {
            options
                .iter()
                .find(|(o, _)| o == name)
                .map(|(_, v)| v.as_str())
        };
        let character = |value: &str, default: char| match value {
            "tab" => '\t',
            "space" => ' ',
            other => other.chars().next().unwrap_or(default),
        };
        Dialect {
            delimiter: option("delim").map_or(',', |v| character(v, ',')),
            quote: option("quote").map_or('"', |v| character(v, '"')),
            escape: option("escape").map(|v| character(v, '\\')),
            skip_initial_space: option("keepspace").is_none(),
        }
    }

    /// Parses CSV like Python's `csv.reader` with `strict=True` and `doublequote=True`:
    /// returns the rows of cells, or the `csv.Error` message.
    fn parse(&self, text: &str) -> Result<Vec<Vec<String>>, String> {
        #[derive(PartialEq)]
        enum State {
            StartField,
            InField,
            Quoted,
            QuoteInQuoted,
            Escaped { quoted: bool },
        }
        let mut rows = Vec::new();
        let mut row: Vec<String> = Vec::new();
        let mut field = String::new();
        let mut state = State::StartField;
        for c in text.chars() {
            match state {
                State::StartField | State::InField if c == '\n' => {
                    if state == State::InField || !row.is_empty() || !field.is_empty() {
                        row.push(std::mem::take(&mut field));
                    }
                    if !row.is_empty() {
                        rows.push(std::mem::take(&mut row));
                    }
                    state = State::StartField;
                }
                State::StartField if c == self.quote => state = State::Quoted,
                State::StartField if c == ' ' && self.skip_initial_space => {}
                State::StartField | State::InField if c == self.delimiter => {
                    row.push(std::mem::take(&mut field));
                    state = State::StartField;
                }
                State::StartField | State::InField if Some(c) == self.escape => {
                    state = State::Escaped { quoted: false };
                }
                State::StartField | State::InField => {
                    field.push(c);
                    state = State::InField;
                }
                // With an escape character there is no doubled quote: the quote ends quoting.
                State::Quoted if c == self.quote && self.escape.is_some() => state = State::InField,
                State::Quoted if c == self.quote => state = State::QuoteInQuoted,
                State::Quoted if Some(c) == self.escape => state = State::Escaped { quoted: true },
                State::Quoted => field.push(c),
                State::QuoteInQuoted if c == self.quote => {
                    field.push(c);
                    state = State::Quoted;
                }
                State::QuoteInQuoted if c == self.delimiter => {
                    row.push(std::mem::take(&mut field));
                    state = State::StartField;
                }
                State::QuoteInQuoted if c == '\n' => {
                    row.push(std::mem::take(&mut field));
                    rows.push(std::mem::take(&mut row));
                    state = State::StartField;
                }
                State::QuoteInQuoted => {
                    return Err(format!(
                        "'{}' expected after '{}'",
                        self.delimiter, self.quote
                    ));
                }
                State::Escaped { quoted } => {
                    field.push(c);
                    state = if quoted {
                        State::Quoted
                    } else {
                        State::InField
                    };
                }
            }
        }
        match state {
            State::Quoted | State::Escaped { .. } => Err("unexpected end of data".to_owned()),
            _ => {
                if !field.is_empty() || !row.is_empty() {
                    row.push(field);
                    rows.push(row);
                }
                Ok(rows)
            }
        }
    }
}

impl Doc {
    /// `csv-table`: the data must parse as CSV; every cell is parsed as a nested document.
    fn csv_table(&mut self, name: &str, parsed: &Parsed, line: usize) {
        if parsed.content.iter().all(Line::is_blank) {
            self.report(
                line,
                Level::Error,
                format!("The \"{name}\" directive requires content; none supplied."),
            );
            return;
        }
        let dialect = Dialect::from_options(&parsed.options);
        let first = parsed.content.first().map_or(line, |l| l.number);
        let header = parsed
            .options
            .iter()
            .find(|(o, _)| o == "header")
            .map(|(_, v)| v.clone());
        let content: String = parsed
            .content
            .iter()
            .map(|l| format!("{}\n", l.text))
            .collect();
        let mut data_rows = 0;
        let mut columns = 0;
        let header_data = header.iter().map(|h| format!("{h}\n"));
        for (is_content, data) in header_data
            .map(|d| (false, d))
            .chain(std::iter::once((true, content)))
        {
            match dialect.parse(&data) {
                Err(message) => {
                    self.report(
                        line,
                        Level::Error,
                        format!("Error with CSV data in \"{name}\" directive: {message}"),
                    );
                    return;
                }
                Ok(rows) => {
                    if is_content {
                        data_rows = rows.len();
                    }
                    columns = rows.iter().map(Vec::len).fold(columns, usize::max);
                    for cell in rows.iter().flatten() {
                        let lines: Vec<Line> = cell
                            .lines()
                            .map(|text| Line {
                                text: super::expand_tabs(text).trim_end().to_owned(),
                                number: first,
                            })
                            .collect();
                        self.body(&lines, true);
                    }
                }
            }
        }
        self.table_dimensions(name, &parsed.options, data_rows, columns, line);
    }
}

/// Splits a directive block into arguments, options and content, with docutils' errors.
fn parse_block(spec: &Spec, block: &[Line]) -> Result<Parsed, String> {
    let mut lines: Vec<Line> = block.to_vec();
    if lines.first().is_some_and(Line::is_blank) {
        lines.remove(0);
    }
    while lines.last().is_some_and(Line::is_blank) {
        lines.pop();
    }
    let takes_arguments = spec.required + spec.optional > 0;
    let (mut argument_block, mut content) =
        if !lines.is_empty() && (takes_arguments || !spec.options.is_empty()) {
            let split = lines.iter().position(Line::is_blank).unwrap_or(lines.len());
            let content = lines.get(split + 1..).unwrap_or_default().to_vec();
            (lines[..split].to_vec(), content)
        } else {
            (Vec::new(), lines.clone())
        };
    let mut options = Vec::new();
    if !spec.options.is_empty() || matches!(spec.special, Special::Anything | Special::Role) {
        if let Some(start) = argument_block
            .iter()
            .position(|l| field_marker(&l.text).is_some())
        {
            let option_block = argument_block.split_off(start);
            options = parse_options(spec, &option_block)?;
        }
    }
    if !argument_block.is_empty() && !takes_arguments {
        let mut moved = argument_block.clone();
        let split = lines.iter().position(Line::is_blank).unwrap_or(lines.len());
        moved.extend(lines[split..].iter().cloned());
        content = moved;
        argument_block.clear();
    }
    while content.first().is_some_and(Line::is_blank) {
        content.remove(0);
    }
    let words: Vec<String> = argument_block
        .iter()
        .flat_map(|l| {
            l.text
                .split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    if takes_arguments {
        if words.len() < spec.required {
            return Err(format!(
                "{} argument(s) required, {} supplied",
                spec.required,
                words.len()
            ));
        }
        if words.len() > spec.required + spec.optional && !spec.final_whitespace {
            return Err(format!(
                "maximum {} argument(s) allowed, {} supplied",
                spec.required + spec.optional,
                words.len()
            ));
        }
    }
    if spec.content == Content::None && !content.iter().all(Line::is_blank) {
        return Err("no content permitted".to_owned());
    }
    Ok(Parsed {
        arguments: words,
        options,
        content,
    })
}

/// Parses directive options (a field list); unknown and duplicate options are errors.
fn parse_options(spec: &Spec, block: &[Line]) -> Result<Vec<(String, String)>, String> {
    let mut options: Vec<(String, String)> = Vec::new();
    for line in block {
        if line.is_indented() {
            if let Some(last) = options.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.text.trim());
                continue;
            }
        }
        let Some(width) = field_marker(&line.text).filter(|_| !line.is_indented()) else {
            return Err("invalid option block".to_owned());
        };
        let marker: String = line.text.chars().take(width).collect();
        let name = marker.trim().trim_matches(':').to_lowercase();
        let value = skip_chars(&line.text, width).trim().to_owned();
        // A custom role takes `class` plus its base role's options (`format` for `raw`,
        // `language` for `code`).
        let allowed = match spec.special {
            Special::Anything => true,
            Special::Role => matches!(name.as_str(), "class" | "format" | "language"),
            _ => spec.options.contains(&name.as_str()),
        };
        if !allowed {
            return Err(format!("unknown option: \"{name}\""));
        }
        if options.iter().any(|(o, _)| *o == name) {
            return Err(format!("duplicate option \"{name}\""));
        }
        options.push((name, value));
    }
    for (name, value) in &options {
        let required = matches!(name.as_str(), "class" | "target" | "figclass" | "align");
        if required && value.is_empty() {
            return Err(format!(
                "invalid option value: (option: \"{name}\"; value: None) argument required but \
                 none supplied"
            ));
        }
        let choices: Option<&[&str]> = match name.as_str() {
            "loading" => Some(&["embed", "link", "lazy"]),
            "backlinks" => Some(&["top", "entry", "none"]),
            // Image and figure alignments are checked with the directive (they depend on it).
            "align" if !matches!(spec.special, Special::Image | Special::Figure) => {
                Some(&["left", "center", "right"])
            }
            _ => None,
        };
        if let Some(choices) = choices
            && !choices.contains(&value.to_lowercase().as_str())
        {
            return Err(format!(
                "invalid option value: (option: \"{name}\"; value: '{value}') \"{value}\" \
                 unknown; choose from \"{}\"",
                choices.join("\", \"")
            ));
        }
        if matches!(name.as_str(), "local" | "keepspace") && !value.is_empty() {
            return Err(format!(
                "invalid option value: (option: \"{name}\"; value: '{value}') no argument is \
                 allowed; \"{value}\" supplied"
            ));
        }
        let integer = match name.as_str() {
            "number-lines" if !value.is_empty() => Some(value.parse::<i64>().is_ok()),
            "depth" | "header-rows" | "stub-columns" => Some(value.parse::<u64>().is_ok()),
            "start" => Some(value.parse::<i64>().is_ok()),
            "scale" => Some(value.trim_end_matches('%').trim().parse::<u64>().is_ok()),
            _ => None,
        };
        if integer == Some(false) {
            return Err(format!(
                "invalid option value: (option: \"{name}\"; value: '{value}') invalid literal for \
                 int() with base 10: '{value}'"
            ));
        }
        if matches!(name.as_str(), "width" | "height" | "figwidth")
            && !value.is_empty()
            && !valid_length(value, name != "height")
        {
            return Err(format!(
                "invalid option value: (option: \"{name}\"; value: '{value}') not a valid length"
            ));
        }
    }
    Ok(options)
}

/// A CSS-style length: a number with an optional unit (`px`, `em`, `%`…).
fn valid_length(value: &str, percent: bool) -> bool {
    if value == "image" {
        return true;
    }
    let number_len = value
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b'.')
        .count();
    let (number, unit) = value.split_at(number_len);
    let units = ["", "em", "ex", "px", "in", "cm", "mm", "pt", "pc"];
    number.parse::<f64>().is_ok()
        && (units.contains(&unit.trim()) || (percent && unit.trim() == "%"))
}
