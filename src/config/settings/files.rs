//! Reading the configuration files: `pyproject.toml`'s `[tool.cibuildwheel]` and
//! `[tool.wheelwright]` tables (with their overrides) into layers, and the legacy
//! `setup.cfg`/`setup.py` `python_requires`.

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::path::Path;

use crate::config::error::ConfigError;
use crate::config::identifier::Selector;
use crate::config::options::{
    self, Cibw, Inherit, NodeError, OPTIONS, OTHER_PLATFORM_OPTIONS, OTHER_PLATFORMS, OptionSpec,
    Scope, UNSUPPORTED_CIBUILDWHEEL,
};
use crate::config::source::{Source, Sourced};
use crate::config::toml_tree::{Key, Node, NodeValue, parse_document};

use super::RequiresPython;
use super::layers::{Assignment, Layer, Layers, OverrideBlock};

/// `requires-python` where cibuildwheel also looks when `[project]` has none: `python_requires`
/// in `setup.cfg`'s `[options]` (read like Python's configparser), else the `python_requires`
/// keyword of `setup.py`'s `setup()` call when it is a plain string literal (cibuildwheel reads
/// the syntax tree; a value computed at run time is not read by either).
pub(super) fn legacy_requires_python(
    dir: &Path,
) -> Result<Option<Sourced<RequiresPython>>, ConfigError> {
    let invalid = |file: &Path, line: usize, message: String| ConfigError::Invalid {
        location: format!("`{}`:{line}", file.display()),
        key: "python_requires".to_owned(),
        message,
    };
    let cfg = dir.join("setup.cfg");
    if let Some(text) = read_optional(&cfg)? {
        let mut parser = configparser::ini::Ini::new();
        // Indented continuation lines, as in Python's configparser (setup.cfg uses them a lot).
        parser.set_multiline(true);
        // An unreadable setup.cfg is cibuildwheel's concern as little as ours: it is skipped.
        if parser.read(text.clone()).is_ok() {
            if let Some(value) = parser.get("options", "python_requires") {
                let line = text
                    .lines()
                    .position(|l| l.trim_start().starts_with("python_requires"))
                    .map_or(1, |i| i + 1);
                let parsed = RequiresPython::parse(&value).map_err(|m| invalid(&cfg, line, m))?;
                return Ok(Some(Sourced::new(
                    parsed,
                    Source::ProjectFile { file: cfg, line },
                )));
            }
        }
    }
    let py = dir.join("setup.py");
    if let Some(text) = read_optional(&py)? {
        if let Some((line, value)) = setup_py_python_requires(&text) {
            let parsed = RequiresPython::parse(&value).map_err(|m| invalid(&py, line, m))?;
            return Ok(Some(Sourced::new(
                parsed,
                Source::ProjectFile { file: py, line },
            )));
        }
    }
    Ok(None)
}

/// `python_requires="…"` in a setup.py: the 1-based line and the literal, when the keyword's
/// value is one plain string literal (not a comment, not an expression).
fn setup_py_python_requires(text: &str) -> Option<(usize, String)> {
    for (index, line) in text.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with('#') {
            continue;
        }
        let Some(at) = code.find("python_requires") else {
            continue;
        };
        let rest = code[at + "python_requires".len()..].trim_start();
        let Some(rest) = rest.strip_prefix('=') else {
            continue;
        };
        let rest = rest.trim_start();
        let Some(quote) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            continue;
        };
        let body = &rest[1..];
        let Some(end) = body.find(quote) else {
            continue;
        };
        let after = body[end + 1..].trim_start();
        if after.is_empty()
            || after.starts_with(',')
            || after.starts_with(')')
            || after.starts_with('#')
        {
            return Some((index + 1, body[..end].to_owned()));
        }
    }
    None
}

/// The text of a TOML file, `None` when it does not exist.
pub(super) fn read_optional(path: &Path) -> Result<Option<String>, ConfigError> {
    match fs_err::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(err) if err.kind() == ErrorKind::NotFound => Ok(None),
        Err(err) => Err(ConfigError::Read {
            path: path.to_path_buf(),
            message: io_message(&err),
        }),
    }
}

pub(super) fn parse_toml(path: &Path, text: &str) -> Result<Node, ConfigError> {
    parse_document(text).map_err(|err| ConfigError::Syntax {
        file: path.to_path_buf(),
        line: err.line,
        column: err.column,
        message: err.message,
    })
}

pub(super) fn same_file(a: &Path, b: &Path) -> bool {
    matches!((std::fs::canonicalize(a), std::fs::canonicalize(b)), (Ok(a), Ok(b)) if a == b)
}

pub(super) fn io_message(err: &std::io::Error) -> String {
    match err.kind() {
        ErrorKind::NotFound => "no such file or directory".to_owned(),
        ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => err.to_string(),
    }
}

/// Which table is being read, for validation and messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Table {
    Cibuildwheel,
    CibuildwheelLinux,
    Wheelwright,
    CibuildwheelOverride,
    WheelwrightOverride,
}

impl Table {
    pub(super) fn name(self) -> &'static str {
        match self {
            Table::Cibuildwheel => "tool.cibuildwheel",
            Table::CibuildwheelLinux => "tool.cibuildwheel.linux",
            Table::Wheelwright => "tool.wheelwright",
            Table::CibuildwheelOverride => "[tool.cibuildwheel.overrides]",
            Table::WheelwrightOverride => "[tool.wheelwright.overrides]",
        }
    }

    fn is_cibuildwheel(self) -> bool {
        matches!(
            self,
            Table::Cibuildwheel | Table::CibuildwheelLinux | Table::CibuildwheelOverride
        )
    }

    fn is_override(self) -> bool {
        matches!(
            self,
            Table::CibuildwheelOverride | Table::WheelwrightOverride
        )
    }

    /// Whether an option may be set in this table.
    fn accepts(self, spec: &OptionSpec) -> bool {
        spec.toml
            && (!self.is_cibuildwheel() || spec.cibuildwheel != Cibw::No)
            && (!self.is_override() || spec.scope == Scope::Build)
    }

    /// Every key valid here, for suggestions.
    fn valid_keys(self) -> Vec<&'static str> {
        let mut keys: Vec<&'static str> = OPTIONS
            .iter()
            .filter(|spec| self.accepts(spec))
            .map(|spec| spec.name)
            .collect();
        match self {
            Table::Cibuildwheel => {
                keys.extend(["overrides", "linux"]);
                keys.extend(OTHER_PLATFORMS);
            }
            Table::Wheelwright => keys.push("overrides"),
            Table::CibuildwheelOverride | Table::WheelwrightOverride => {
                keys.extend(["select", "inherit"]);
            }
            Table::CibuildwheelLinux => {}
        }
        if self.is_cibuildwheel() {
            keys.extend(UNSUPPORTED_CIBUILDWHEEL);
            keys.extend(OTHER_PLATFORM_OPTIONS);
        }
        keys
    }
}

pub(super) struct FileReader<'a> {
    pub(super) file: &'a Path,
    pub(super) warnings: &'a mut Vec<String>,
}

impl FileReader<'_> {
    /// Reads `[tool.cibuildwheel]` (with its `linux` table and overrides) and
    /// `[tool.wheelwright]` of a parsed file into `layers`.
    pub(super) fn read_tool_tables(
        &mut self,
        doc: &Node,
        layers: &mut Layers,
    ) -> Result<(), ConfigError> {
        if let Some((key, tool)) = doc.get("tool") {
            self.expect_table("", key, tool)?;
            let mut cibw_overrides = Vec::new();
            let mut ww_overrides = Vec::new();
            let mut cibw = Layer::default();
            let mut cibw_linux = Layer::default();
            let mut ww = Layer::default();
            if let Some((key, table)) = tool.get("cibuildwheel") {
                self.expect_table("tool", key, table)?;
                self.read_cibuildwheel(table, &mut cibw, &mut cibw_linux, &mut cibw_overrides)?;
            }
            if let Some((key, table)) = tool.get("wheelwright") {
                self.expect_table("tool", key, table)?;
                self.read_wheelwright(table, &mut ww, &mut ww_overrides)?;
            }
            layers.files.extend([cibw, cibw_linux, ww]);
            layers.overrides.extend(cibw_overrides);
            layers.overrides.extend(ww_overrides);
        }
        Ok(())
    }

    pub(super) fn position(&self, node: &Node) -> String {
        format!("`{}`:{}:{}", self.file.display(), node.line, node.column)
    }

    pub(super) fn source(&self, table: &str, key: &Key) -> Source {
        Source::Pyproject {
            file: self.file.to_path_buf(),
            table: table.to_owned(),
            line: key.line,
        }
    }

    fn wrong_type(
        &self,
        table: &str,
        key: String,
        node: &Node,
        expected: &'static str,
    ) -> ConfigError {
        ConfigError::WrongType {
            file: self.file.to_path_buf(),
            line: node.line,
            column: node.column,
            table: table.to_owned(),
            key,
            expected,
            found: node.type_name(),
        }
    }

    pub(super) fn expect_table(
        &self,
        parent: &str,
        key: &Key,
        node: &Node,
    ) -> Result<(), ConfigError> {
        if node.as_table().is_some() {
            Ok(())
        } else {
            let table = if parent.is_empty() {
                "the top level"
            } else {
                parent
            };
            Err(self.wrong_type(table, key.name.clone(), node, "a table"))
        }
    }

    pub(super) fn string(
        &self,
        table: &str,
        key: &Key,
        node: &Node,
    ) -> Result<String, ConfigError> {
        match &node.value {
            NodeValue::String(s) => Ok(s.clone()),
            _ => Err(self.wrong_type(table, key.name.clone(), node, "a string")),
        }
    }

    fn unknown_key(&self, table: Table, key: &Key, hint: Option<String>) -> ConfigError {
        let note = hint.or_else(|| {
            crate::config::suggest(&key.name, table.valid_keys())
                .map(|s| format!("did you mean `{s}`?"))
        });
        ConfigError::UnknownKey {
            file: self.file.to_path_buf(),
            line: key.line,
            column: key.column,
            table: table.name().to_owned(),
            key: key.name.clone(),
            note,
        }
    }

    /// Reads one option key of `table`; `Ok(None)` for keys that are ignored (with or
    /// without a warning).
    fn option(
        &mut self,
        table: Table,
        source: Source,
        key: &Key,
        node: &Node,
    ) -> Result<Option<Assignment>, ConfigError> {
        let name = key.name.as_str();
        if let Some(spec) = options::find(name) {
            if table.accepts(spec) {
                let value = options::parse_node(spec, node).map_err(|err| match err {
                    NodeError::WrongType {
                        key: path,
                        expected,
                        found,
                        line,
                        column,
                    } => ConfigError::WrongType {
                        file: self.file.to_path_buf(),
                        line,
                        column,
                        table: table.name().to_owned(),
                        key: path,
                        expected,
                        found,
                    },
                    NodeError::Invalid(message) => ConfigError::Invalid {
                        location: self.position(node),
                        key: spec.name.to_owned(),
                        message,
                    },
                })?;
                return Ok(Some(Assignment {
                    spec,
                    value,
                    source,
                }));
            }
            let hint = if !spec.toml {
                format!("`{name}` is given on the command line or as an Action input")
            } else if table.is_override() && spec.scope == Scope::Global {
                format!("`{name}` applies to the whole run and cannot be set in an override")
            } else {
                format!("`{name}` is a wheelwright option: set it in [tool.wheelwright]")
            };
            return Err(self.unknown_key(table, key, Some(hint)));
        }
        if table.is_cibuildwheel() {
            if UNSUPPORTED_CIBUILDWHEEL.contains(&name) {
                self.warnings.push(format!(
                    "`{}`:{}: [{}] `{name}` is not supported by wheelwright and is ignored",
                    self.file.display(),
                    key.line,
                    table.name().trim_matches(['[', ']'])
                ));
                return Ok(None);
            }
            if OTHER_PLATFORM_OPTIONS.contains(&name) {
                return Ok(None);
            }
        }
        Err(self.unknown_key(table, key, None))
    }

    fn read_cibuildwheel(
        &mut self,
        table: &Node,
        global: &mut Layer,
        linux: &mut Layer,
        overrides: &mut Vec<OverrideBlock>,
    ) -> Result<(), ConfigError> {
        for (key, node) in table.as_table().unwrap_or_default() {
            match key.name.as_str() {
                "overrides" => {
                    self.read_overrides(Table::CibuildwheelOverride, key, node, overrides)?
                }
                "linux" => {
                    self.expect_table(Table::Cibuildwheel.name(), key, node)?;
                    for (key, node) in node.as_table().unwrap_or_default() {
                        let source = self.source(Table::CibuildwheelLinux.name(), key);
                        if let Some(a) = self.option(Table::CibuildwheelLinux, source, key, node)? {
                            linux.assignments.push(a);
                        }
                    }
                }
                name if OTHER_PLATFORMS.contains(&name) => {
                    // Settings for another platform: not ours, as long as it is a table.
                    self.expect_table(Table::Cibuildwheel.name(), key, node)?;
                }
                _ => {
                    let source = self.source(Table::Cibuildwheel.name(), key);
                    if let Some(a) = self.option(Table::Cibuildwheel, source, key, node)? {
                        global.assignments.push(a);
                    }
                }
            }
        }
        Ok(())
    }

    fn read_wheelwright(
        &mut self,
        table: &Node,
        global: &mut Layer,
        overrides: &mut Vec<OverrideBlock>,
    ) -> Result<(), ConfigError> {
        for (key, node) in table.as_table().unwrap_or_default() {
            if key.name == "overrides" {
                self.read_overrides(Table::WheelwrightOverride, key, node, overrides)?;
                continue;
            }
            let source = self.source(Table::Wheelwright.name(), key);
            if let Some(a) = self.option(Table::Wheelwright, source, key, node)? {
                global.assignments.push(a);
            }
        }
        Ok(())
    }

    fn read_overrides(
        &mut self,
        table: Table,
        key: &Key,
        node: &Node,
        out: &mut Vec<OverrideBlock>,
    ) -> Result<(), ConfigError> {
        let tool = if table == Table::CibuildwheelOverride {
            "tool.cibuildwheel"
        } else {
            "tool.wheelwright"
        };
        let NodeValue::Array(items) = &node.value else {
            return Err(self.wrong_type(tool, key.name.clone(), node, "an array of tables"));
        };
        for (index, item) in items.iter().enumerate() {
            let Some(entries) = item.as_table() else {
                return Err(self.wrong_type(tool, format!("overrides[{index}]"), item, "a table"));
            };
            let selector = match item.get("select") {
                Some((select_key, value)) => {
                    let text = match &value.value {
                        NodeValue::String(s) => s.clone(),
                        NodeValue::Array(values) => {
                            let mut parts = Vec::new();
                            for part in values {
                                match &part.value {
                                    NodeValue::String(s) => parts.push(s.clone()),
                                    _ => {
                                        return Err(self.wrong_type(
                                            table.name(),
                                            "select".to_owned(),
                                            part,
                                            "a string",
                                        ));
                                    }
                                }
                            }
                            parts.join(" ")
                        }
                        _ => {
                            return Err(self.wrong_type(
                                table.name(),
                                select_key.name.clone(),
                                value,
                                "a string or an array of strings",
                            ));
                        }
                    };
                    let selector = Selector::parse(&text).map_err(|e| ConfigError::Invalid {
                        location: self.position(value),
                        key: "select".to_owned(),
                        message: e.to_string(),
                    })?;
                    if selector.is_empty() {
                        return Err(ConfigError::Invalid {
                            location: self.position(value),
                            key: "select".to_owned(),
                            message: "an override needs a non-empty `select`".to_owned(),
                        });
                    }
                    selector
                }
                None => {
                    return Err(ConfigError::Invalid {
                        location: self.position(item),
                        key: "select".to_owned(),
                        message: format!("every [[{tool}.overrides]] entry needs `select`"),
                    });
                }
            };
            let mut block = OverrideBlock {
                selector,
                inherit: BTreeMap::new(),
                layer: Layer::default(),
            };
            for (key, value) in entries {
                match key.name.as_str() {
                    "select" => {}
                    "inherit" => self.read_inherit(table, key, value, &mut block.inherit)?,
                    _ => {
                        let source = Source::Override {
                            file: self.file.to_path_buf(),
                            tool: tool.to_owned(),
                            index: index + 1,
                            select: block.selector.as_str().to_owned(),
                            line: key.line,
                        };
                        if let Some(a) = self.option(table, source, key, value)? {
                            block.layer.assignments.push(a);
                        }
                    }
                }
            }
            out.push(block);
        }
        Ok(())
    }

    fn read_inherit(
        &mut self,
        table: Table,
        key: &Key,
        node: &Node,
        out: &mut BTreeMap<&'static str, Inherit>,
    ) -> Result<(), ConfigError> {
        let Some(entries) = node.as_table() else {
            return Err(self.wrong_type(table.name(), key.name.clone(), node, "a table"));
        };
        for (key, value) in entries {
            let Some(spec) = options::find(&key.name).filter(|s| table.accepts(s)) else {
                let inheritable: Vec<&str> = OPTIONS
                    .iter()
                    .filter(|s| s.inheritable() && table.accepts(s))
                    .map(|s| s.name)
                    .collect();
                return Err(ConfigError::UnknownKey {
                    file: self.file.to_path_buf(),
                    line: key.line,
                    column: key.column,
                    table: table.name().to_owned(),
                    key: format!("inherit.{}", key.name),
                    note: crate::config::suggest(&key.name, inheritable)
                        .map(|s| format!("did you mean `{s}`?")),
                });
            };
            let rule = match &value.value {
                NodeValue::String(s) => match s.as_str() {
                    "none" => Inherit::None,
                    "append" => Inherit::Append,
                    "prepend" => Inherit::Prepend,
                    other => {
                        return Err(ConfigError::Invalid {
                            location: self.position(value),
                            key: format!("inherit.{}", key.name),
                            message: format!("`{other}` is not none, append or prepend"),
                        });
                    }
                },
                _ => {
                    return Err(self.wrong_type(
                        table.name(),
                        format!("inherit.{}", key.name),
                        value,
                        "\"none\", \"append\" or \"prepend\"",
                    ));
                }
            };
            if rule != Inherit::None && !spec.inheritable() {
                return Err(ConfigError::Invalid {
                    location: self.position(value),
                    key: format!("inherit.{}", key.name),
                    message: format!(
                        "`{}` has a single value and cannot be appended to or prepended to",
                        spec.name
                    ),
                });
            }
            out.insert(spec.name, rule);
        }
        Ok(())
    }
}
