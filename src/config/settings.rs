//! Resolving the configuration: layers, precedence, overrides, and the identifiers to build.
//!
//! Design note. Every source is read into a *layer* of typed assignments when the
//! configuration is loaded, so every value (also one in an override that matches nothing) is
//! validated up front and errors name their file and line. A value is then resolved by folding
//! the layers from lowest to highest precedence:
//!
//! 1. built-in defaults
//! 2. `[tool.cibuildwheel]`, then `[tool.cibuildwheel.linux]`
//! 3. `[tool.wheelwright]`
//! 4. for one identifier: the matching `[[tool.cibuildwheel.overrides]]`, then the matching
//!    `[[tool.wheelwright.overrides]]`, in file order, each replacing the value or, with
//!    `inherit.<option> = "append" | "prepend"`, merging with it (cibuildwheel's semantics)
//! 5. `CIBW_<OPTION>`, then `CIBW_<OPTION>_LINUX`
//! 6. `WHEELWRIGHT_<OPTION>`
//! 7. `INPUT_<OPTION>` (GitHub Action inputs; empty means unset)
//! 8. command-line flags
//!
//! Overrides sit between the files and the environment as in cibuildwheel, where environment
//! variables win over overrides. `enable` is the one option whose layers add up (cibuildwheel:
//! `CIBW_ENABLE` adds to the TOML value). The environment is an injected map, never read here,
//! so tests are hermetic.

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};

use crate::config::archs::Archs;
use crate::config::environment::Environment;
use crate::config::error::ConfigError;
use crate::config::identifier::{BuildSelector, Identifier, PythonTag, Selector};
use crate::config::image::{ContainerImage, Image};
use crate::config::options::{
    self, Cibw, Inherit, Kind, NodeError, OPTIONS, OTHER_PLATFORM_OPTIONS, OTHER_PLATFORMS,
    OptionSpec, OptionValue, Scope, UNSUPPORTED_CIBUILDWHEEL,
};
use crate::config::pythons::{self, EnableSet};
use crate::config::source::{Source, Sourced};
use crate::config::toml_tree::{Key, Node, NodeValue, parse_document};
use crate::config::values::{
    BuildFrontend, CompilerCache, ConfigSetting, ContainerEngine, Jobs, PullPolicy, RepairCommand,
    ShellCommand,
};
use crate::platform::Arch;
use crate::platform::Libc;

/// Everything the resolver reads besides `pyproject.toml`.
#[derive(Debug, Clone)]
pub struct ResolveInputs {
    /// The project (the directory with `pyproject.toml`).
    pub project_dir: PathBuf,
    /// Environment variables and Action inputs (`CIBW_*`, `WHEELWRIGHT_*`, `INPUT_*`; other
    /// names are ignored).
    pub env: BTreeMap<String, String>,
    /// Command-line values, in the string form, highest precedence.
    pub cli: Vec<CliValue>,
    /// The architecture `auto`/`native` refer to.
    pub host_arch: Arch,
    /// A TOML file to read `[tool.cibuildwheel]`/`[tool.wheelwright]` from instead of the
    /// project's pyproject.toml (cibuildwheel's `--config-file`; `{package}` already replaced).
    pub config_file: Option<PathBuf>,
}

impl ResolveInputs {
    /// A project with no environment and no flags, on this host's architecture.
    pub fn new(project_dir: impl Into<PathBuf>) -> Self {
        ResolveInputs {
            project_dir: project_dir.into(),
            env: BTreeMap::new(),
            cli: Vec::new(),
            host_arch: Arch::host(),
            config_file: None,
        }
    }
}

/// One option given on the command line.
#[derive(Debug, Clone)]
pub struct CliValue {
    /// The option's TOML name. Ex) `archs`
    pub option: String,
    /// The value in the string form. Ex) `x86_64 i686`
    pub value: String,
    /// The flag, for messages. Ex) `--archs`
    pub flag: String,
}

/// `requires-python`: which Python versions the project supports.
#[derive(Debug, Clone)]
pub struct RequiresPython {
    text: String,
    specifiers: VersionSpecifiers,
}

impl RequiresPython {
    /// Parses PEP 440 specifiers (`>=3.9, <4`).
    pub fn parse(text: &str) -> Result<Self, String> {
        let specifiers = VersionSpecifiers::from_str(text).map_err(|err| {
            let first = err.to_string();
            let first = first
                .lines()
                .next()
                .unwrap_or_default()
                .trim_end_matches(':');
            format!("`{text}` is not a PEP 440 specifier set ({first})")
        })?;
        Ok(RequiresPython {
            text: text.trim().to_owned(),
            specifiers,
        })
    }

    /// Whether an interpreter version is allowed; like cibuildwheel, `X.Y` counts as `X.Y.99`
    /// so `>=3.9.1` allows cp39.
    #[must_use]
    pub fn allows(&self, python: &PythonTag) -> bool {
        let version = Version::new([u64::from(python.major), u64::from(python.minor), 99]);
        self.specifiers.contains(&version)
    }
}

impl std::fmt::Display for RequiresPython {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl serde::Serialize for RequiresPython {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

#[derive(Debug, Clone)]
struct Assignment {
    spec: &'static OptionSpec,
    value: OptionValue,
    source: Source,
}

#[derive(Debug, Clone, Default)]
struct Layer {
    assignments: Vec<Assignment>,
}

impl Layer {
    fn get(&self, name: &str) -> Option<&Assignment> {
        self.assignments.iter().rev().find(|a| a.spec.name == name)
    }
}

#[derive(Debug, Clone)]
struct OverrideBlock {
    selector: Selector,
    inherit: BTreeMap<&'static str, Inherit>,
    layer: Layer,
}

#[derive(Debug, Clone, Default)]
struct Layers {
    /// Defaults, `[tool.cibuildwheel]`, `[tool.cibuildwheel.linux]`, `[tool.wheelwright]`.
    files: Vec<Layer>,
    /// cibuildwheel's then wheelwright's overrides, in file order.
    overrides: Vec<OverrideBlock>,
    /// `CIBW_*`, `CIBW_*_LINUX`, `WHEELWRIGHT_*`, `INPUT_*`, the command line.
    top: Vec<Layer>,
}

impl Layers {
    fn resolve(&self, spec: &OptionSpec, identifier: Option<&str>) -> Sourced<OptionValue> {
        let always_merge = spec.kind == Kind::Enable;
        let mut current: Option<Sourced<OptionValue>> = None;
        let mut apply = |assignment: &Assignment, rule: Inherit| {
            let rule = if always_merge { Inherit::Append } else { rule };
            current = Some(match current.take() {
                Some(previous) if rule != Inherit::None => {
                    let mut inherited = previous.inherited;
                    if previous.source != Source::Default {
                        inherited.push(previous.source);
                    }
                    Sourced {
                        value: previous.value.inherit(&assignment.value, rule),
                        source: assignment.source.clone(),
                        inherited,
                    }
                }
                _ => Sourced::new(assignment.value.clone(), assignment.source.clone()),
            });
        };
        for layer in &self.files {
            if let Some(a) = layer.get(spec.name) {
                apply(a, Inherit::None);
            }
        }
        if let Some(identifier) = identifier {
            for block in &self.overrides {
                if block.selector.matches(identifier) {
                    if let Some(a) = block.layer.get(spec.name) {
                        let rule = block
                            .inherit
                            .get(spec.name)
                            .copied()
                            .unwrap_or(Inherit::None);
                        apply(a, rule);
                    }
                }
            }
        }
        for layer in &self.top {
            if let Some(a) = layer.get(spec.name) {
                apply(a, Inherit::None);
            }
        }
        // The defaults layer sets every option (see `default_layer`), so `current` is set.
        current.unwrap_or_else(|| unreachable!("option `{}` has no default", spec.name))
    }
}

/// Turns a resolved value into its typed form. Each option kind parses into exactly one
/// `OptionValue` variant (`options::tests` checks every default), so a mismatch is a bug in the
/// option table.
macro_rules! typed {
    ($sourced:expr, $variant:ident) => {
        $sourced.map(|value| match value {
            OptionValue::$variant(inner) => inner,
            other => unreachable!("{other:?} is not {}", stringify!($variant)),
        })
    };
}

/// The resolved configuration every command reads.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The project directory.
    pub project_dir: PathBuf,
    /// `pyproject.toml`, when the project has one.
    pub pyproject: Option<PathBuf>,
    /// `[project] name`.
    pub project_name: Option<String>,
    /// The architecture `auto` and `native` refer to.
    pub host_arch: Arch,
    /// `requires-python` from `[project]` (or `CIBW_PROJECT_REQUIRES_PYTHON`).
    pub requires_python: Option<Sourced<RequiresPython>>,
    /// `build` selector text.
    pub build: Sourced<String>,
    /// `skip` selector text.
    pub skip: Sourced<String>,
    /// `test-skip` selector text.
    pub test_skip: Sourced<String>,
    /// `archs` as written.
    pub archs: Sourced<Archs>,
    /// `enable`.
    pub enable: Sourced<EnableSet>,
    /// `only`: one identifier, ignoring `build`, `skip`, `archs` and `enable`.
    pub only: Option<Sourced<Identifier>>,
    /// `output-dir`.
    pub output_dir: Sourced<PathBuf>,
    /// `jobs`.
    pub jobs: Sourced<Jobs>,
    /// `pull`.
    pub pull: Sourced<PullPolicy>,
    /// `compiler-cache`.
    pub compiler_cache: Sourced<CompilerCache>,
    /// Unsupported cibuildwheel options that were set (one message each).
    pub warnings: Vec<String>,
    selector: BuildSelector,
    test_selector: Selector,
    layers: Layers,
}

/// The options that may differ per identifier, resolved for one identifier.
#[derive(Debug, Clone)]
pub struct IdentifierSettings {
    /// The identifier.
    pub identifier: Identifier,
    /// The option that chose the image. Ex) `manylinux-pypy_x86_64-image`
    pub image_option: &'static str,
    /// The build image.
    pub image: Sourced<Image>,
    /// The image to test in (`None`: the build image).
    pub test_image: Sourced<Option<ContainerImage>>,
    /// `build-frontend`.
    pub build_frontend: Sourced<BuildFrontend>,
    /// `config-settings`.
    pub config_settings: Sourced<Vec<ConfigSetting>>,
    /// `environment`.
    pub environment: Sourced<Environment>,
    /// `environment-pass`.
    pub environment_pass: Sourced<Vec<String>>,
    /// `before-all`.
    pub before_all: Sourced<ShellCommand>,
    /// `before-build`.
    pub before_build: Sourced<ShellCommand>,
    /// `repair-wheel-command`.
    pub repair_wheel_command: Sourced<RepairCommand>,
    /// `test-command`.
    pub test_command: Sourced<ShellCommand>,
    /// `before-test`.
    pub before_test: Sourced<ShellCommand>,
    /// `test-requires`.
    pub test_requires: Sourced<Vec<String>>,
    /// `test-extras`.
    pub test_extras: Sourced<Vec<String>>,
    /// `test-sources`.
    pub test_sources: Sourced<Vec<String>>,
    /// `container-engine`.
    pub container_engine: Sourced<ContainerEngine>,
    /// Whether `test-skip` matches (built but not tested).
    pub test_skipped: bool,
}

impl Settings {
    /// Reads `pyproject.toml` (if any), the environment map, the Action inputs and the
    /// command-line values, validating everything.
    pub fn resolve(inputs: &ResolveInputs) -> Result<Settings, ConfigError> {
        let dir = &inputs.project_dir;
        match fs_err::metadata(dir) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                return Err(ConfigError::Read {
                    path: dir.clone(),
                    message: "not a directory".to_owned(),
                });
            }
            Err(err) => {
                return Err(ConfigError::Read {
                    path: dir.clone(),
                    message: io_message(&err),
                });
            }
        }
        let mut warnings = Vec::new();
        let mut layers = Layers {
            files: vec![default_layer()],
            ..Layers::default()
        };
        let mut requires_python = None;
        let mut project_name = None;

        let path = dir.join("pyproject.toml");
        let text = read_optional(&path)?;
        let pyproject = text.is_some().then(|| path.clone());
        // `[tool.cibuildwheel]`/`[tool.wheelwright]` come from the configuration file when one
        // is given (cibuildwheel's `--config-file`), `[project]` always from pyproject.toml.
        let config_file = inputs
            .config_file
            .as_ref()
            .filter(|file| **file != path && !same_file(file, &path));
        if let Some(text) = text {
            let doc = parse_toml(&path, &text)?;
            let mut reader = FileReader {
                file: &path,
                warnings: &mut warnings,
            };
            if let Some((key, project)) = doc.get("project") {
                reader.expect_table("", key, project)?;
                if let Some((key, value)) = project.get("requires-python") {
                    let text = reader.string("project", key, value)?;
                    let parsed =
                        RequiresPython::parse(&text).map_err(|message| ConfigError::Invalid {
                            location: reader.position(value),
                            key: "requires-python".to_owned(),
                            message,
                        })?;
                    requires_python = Some(Sourced::new(parsed, reader.source("project", key)));
                }
                if let Some((key, value)) = project.get("name") {
                    project_name = Some(reader.string("project", key, value)?);
                }
            }
            if config_file.is_none() {
                reader.read_tool_tables(&doc, &mut layers)?;
            }
        }
        if let Some(file) = config_file {
            let text = read_optional(file)?.ok_or_else(|| ConfigError::Read {
                path: file.clone(),
                message: "the configuration file (--config-file) does not exist".to_owned(),
            })?;
            let doc = parse_toml(file, &text)?;
            FileReader {
                file,
                warnings: &mut warnings,
            }
            .read_tool_tables(&doc, &mut layers)?;
        }

        if requires_python.is_none() {
            requires_python = legacy_requires_python(dir)?;
        }
        layers.top = env_layers(&inputs.env, &mut warnings)?;
        layers.top.push(cli_layer(&inputs.cli)?);

        for name in [
            "CIBW_PROJECT_REQUIRES_PYTHON",
            "WHEELWRIGHT_PROJECT_REQUIRES_PYTHON",
        ] {
            if let Some(text) = inputs.env.get(name).filter(|t| !t.trim().is_empty()) {
                let source = Source::Env {
                    name: name.to_owned(),
                };
                let parsed =
                    RequiresPython::parse(text).map_err(|message| ConfigError::Invalid {
                        location: source.location(),
                        key: "requires-python".to_owned(),
                        message,
                    })?;
                requires_python = Some(Sourced::new(parsed, source));
            }
        }

        let global = |name: &str| {
            let spec = options::find(name)
                .unwrap_or_else(|| unreachable!("`{name}` is in the option table"));
            layers.resolve(spec, None)
        };
        let build = typed!(global("build"), Selector);
        let skip = typed!(global("skip"), Selector);
        let test_skip = typed!(global("test-skip"), Selector);
        let only = typed!(global("only"), Only);
        let only = match only.value {
            Some(id) => Some(Sourced {
                value: id,
                source: only.source,
                inherited: only.inherited,
            }),
            None => None,
        };
        // The texts were compiled when they were read, so these cannot fail.
        let selector = BuildSelector::new(&build.value, &skip.value)
            .unwrap_or_else(|e| unreachable!("validated selector: {e}"));
        let test_selector = Selector::parse(&test_skip.value)
            .unwrap_or_else(|e| unreachable!("validated selector: {e}"));
        Ok(Settings {
            project_dir: dir.clone(),
            pyproject,
            project_name,
            host_arch: inputs.host_arch,
            requires_python,
            archs: typed!(global("archs"), Archs),
            enable: typed!(global("enable"), Enable),
            output_dir: typed!(global("output-dir"), Path),
            jobs: typed!(global("jobs"), Jobs),
            pull: typed!(global("pull"), Pull),
            compiler_cache: typed!(global("compiler-cache"), CompilerCache),
            build,
            skip,
            test_skip,
            only,
            warnings,
            selector,
            test_selector,
            layers,
        })
    }

    /// The resolved value of any option: for one identifier (overrides applied) or for the
    /// whole run (`None`). Global options ignore the identifier.
    #[must_use]
    pub fn option(
        &self,
        spec: &OptionSpec,
        identifier: Option<&Identifier>,
    ) -> Sourced<OptionValue> {
        let identifier = match spec.scope {
            Scope::Global => None,
            Scope::Build => identifier.map(ToString::to_string),
        };
        self.layers.resolve(spec, identifier.as_deref())
    }

    fn build_option(&self, name: &str, identifier: &str) -> Sourced<OptionValue> {
        let spec =
            options::find(name).unwrap_or_else(|| unreachable!("`{name}` is in the option table"));
        self.layers.resolve(spec, Some(identifier))
    }

    /// The options of one identifier, with the overrides that match it.
    #[must_use]
    pub fn for_identifier(&self, identifier: &Identifier) -> IdentifierSettings {
        let id = identifier.to_string();
        let get = |name: &str| self.build_option(name, &id);
        let image_option = image_option(identifier);
        let arch_test_image = typed!(get(&format!("test-{}-image", identifier.arch)), TestImage);
        let test_image = if arch_test_image.source == Source::Default {
            typed!(get("test-image"), TestImage)
        } else {
            arch_test_image
        };
        IdentifierSettings {
            identifier: identifier.clone(),
            image_option,
            image: typed!(get(image_option), Image),
            test_image,
            build_frontend: typed!(get("build-frontend"), Frontend),
            config_settings: typed!(get("config-settings"), ConfigSettings),
            environment: typed!(get("environment"), Environment),
            environment_pass: typed!(get("environment-pass"), List),
            before_all: typed!(get("before-all"), Command),
            before_build: typed!(get("before-build"), Command),
            repair_wheel_command: typed!(get("repair-wheel-command"), Repair),
            test_command: typed!(get("test-command"), Command),
            before_test: typed!(get("before-test"), Command),
            test_requires: typed!(get("test-requires"), List),
            test_extras: typed!(get("test-extras"), List),
            test_sources: typed!(get("test-sources"), List),
            container_engine: typed!(get("container-engine"), Engine),
            test_skipped: self.test_selector.matches(&id),
        }
    }

    /// The architectures to build (`only` builds its identifier's).
    #[must_use]
    pub fn arches(&self) -> Vec<Arch> {
        match &self.only {
            Some(only) => vec![only.arch],
            None => self.archs.expand(self.host_arch),
        }
    }

    /// Whether requires-python allows an identifier's interpreter.
    fn python_allowed(&self, identifier: &Identifier) -> bool {
        self.requires_python
            .as_ref()
            .is_none_or(|r| r.allows(&identifier.python))
    }

    fn enabled(&self, identifier: &Identifier) -> bool {
        pythons::groups_needed(identifier)
            .iter()
            .all(|g| self.enable.contains(g))
    }

    /// The identifiers to build, in build order; an empty selection is an error that says what
    /// exists.
    pub fn selected_identifiers(&self) -> Result<Vec<Identifier>, ConfigError> {
        let selected = candidate_identifiers(self);
        if selected.is_empty() {
            return Err(ConfigError::EmptySelection(self.explain_empty()));
        }
        Ok(selected)
    }

    fn explain_empty(&self) -> String {
        let arches = self.arches();
        let arch_list = arches
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let requires = self
            .requires_python
            .as_ref()
            .map(|r| format!("requires-python `{}` ({})", r.value, r.source.location()));
        if let Some(only) = &self.only {
            let why = requires.unwrap_or_default();
            return format!(
                "only `{}` ({}) is excluded by {why}",
                only.value,
                only.source.location()
            );
        }
        let known = pythons::known_identifiers(&arches);
        if known.is_empty() {
            return format!(
                "archs `{}` ({}) names no architecture on this {} host",
                self.archs.value,
                self.archs.source.location(),
                self.host_arch
            );
        }
        let allowed: Vec<&Identifier> = known.iter().filter(|id| self.python_allowed(id)).collect();
        if allowed.is_empty() {
            let tags: Vec<&str> = pythons::KNOWN_PYTHONS.iter().map(|p| p.tag).collect();
            return format!(
                "{} excludes every Python wheelwright knows ({})",
                requires.unwrap_or_default(),
                tags.join(" ")
            );
        }
        let enabled: Vec<&&Identifier> = allowed.iter().filter(|id| self.enabled(id)).collect();
        if enabled.is_empty() {
            let gated: Vec<String> = allowed
                .iter()
                .map(|id| {
                    let groups: Vec<&str> = pythons::groups_needed(id)
                        .iter()
                        .map(|g| g.as_str())
                        .collect();
                    format!("{id} ({})", groups.join(", "))
                })
                .collect();
            return format!(
                "every identifier for {arch_list}{} needs an `enable` group: {}",
                requires
                    .map(|r| format!(" allowed by {r}"))
                    .unwrap_or_default(),
                gated.join(" ")
            );
        }
        let list: Vec<String> = enabled.iter().map(ToString::to_string).collect();
        format!(
            "build `{}` ({}) and skip `{}` ({}) select none of the {} identifiers available for {arch_list}{}: {}",
            self.build.value,
            self.build.source.location(),
            self.skip.value,
            self.skip.source.location(),
            list.len(),
            requires.map(|r| format!(" with {r}")).unwrap_or_default(),
            list.join(" ")
        )
    }
}

/// The identifiers to build, in build order: per architecture (in `archs` order), manylinux
/// then musllinux, then the interpreters in table order; filtered by `requires-python`, the
/// enabled groups, `build` and `skip` (or exactly `only`).
#[must_use]
pub fn candidate_identifiers(settings: &Settings) -> Vec<Identifier> {
    pythons::known_identifiers(&settings.arches())
        .into_iter()
        .filter(|id| settings.python_allowed(id))
        .filter(|id| match &settings.only {
            Some(only) => only.value == *id,
            None => settings.enabled(id) && settings.selector.selects(&id.to_string()),
        })
        .collect()
}

/// The option that holds an identifier's build image. Every identifier wheelwright builds
/// (see [`pythons::is_known`]) has one; for another architecture (`ppc64`, `loongarch64`) the
/// x86_64 option is returned.
#[must_use]
pub fn image_option(identifier: &Identifier) -> &'static str {
    let pypy = identifier.python.implementation == "pp"
        && identifier.libc == Libc::Glibc
        && matches!(identifier.arch, Arch::X86_64 | Arch::I686 | Arch::Aarch64);
    let name = if pypy {
        format!("manylinux-pypy_{}-image", identifier.arch)
    } else {
        format!("{}-{}-image", identifier.libc.tag_prefix(), identifier.arch)
    };
    options::find(&name).map_or("manylinux-x86_64-image", |spec| spec.name)
}

/// `requires-python` where cibuildwheel also looks when `[project]` has none: `python_requires`
/// in `setup.cfg`'s `[options]` (read like Python's configparser), else the `python_requires`
/// keyword of `setup.py`'s `setup()` call when it is a plain string literal (cibuildwheel reads
/// the syntax tree; a value computed at run time is not read by either).
fn legacy_requires_python(dir: &Path) -> Result<Option<Sourced<RequiresPython>>, ConfigError> {
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
fn read_optional(path: &Path) -> Result<Option<String>, ConfigError> {
    match fs_err::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(err) if err.kind() == ErrorKind::NotFound => Ok(None),
        Err(err) => Err(ConfigError::Read {
            path: path.to_path_buf(),
            message: io_message(&err),
        }),
    }
}

fn parse_toml(path: &Path, text: &str) -> Result<Node, ConfigError> {
    parse_document(text).map_err(|err| ConfigError::Syntax {
        file: path.to_path_buf(),
        line: err.line,
        column: err.column,
        message: err.message,
    })
}

fn same_file(a: &Path, b: &Path) -> bool {
    matches!((std::fs::canonicalize(a), std::fs::canonicalize(b)), (Ok(a), Ok(b)) if a == b)
}

fn io_message(err: &std::io::Error) -> String {
    match err.kind() {
        ErrorKind::NotFound => "no such file or directory".to_owned(),
        ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => err.to_string(),
    }
}

fn default_layer() -> Layer {
    Layer {
        assignments: OPTIONS
            .iter()
            .map(|spec| Assignment {
                spec,
                value: options::parse_text(spec, &spec.default_text())
                    .unwrap_or_else(|e| unreachable!("default of `{}`: {e}", spec.name)),
                source: Source::Default,
            })
            .collect(),
    }
}

fn env_layers(
    env: &BTreeMap<String, String>,
    warnings: &mut Vec<String>,
) -> Result<Vec<Layer>, ConfigError> {
    // CIBW_*, CIBW_*_LINUX, WHEELWRIGHT_*, INPUT_*
    let mut layers = vec![
        Layer::default(),
        Layer::default(),
        Layer::default(),
        Layer::default(),
    ];
    for spec in OPTIONS {
        let stem = spec.env_stem();
        let mut candidates: Vec<(String, usize)> = Vec::new();
        if spec.cibuildwheel != Cibw::No {
            candidates.push((format!("CIBW_{stem}"), 0));
            if spec.platform_env {
                candidates.push((format!("CIBW_{stem}_LINUX"), 1));
            }
        }
        candidates.push((format!("WHEELWRIGHT_{stem}"), 2));
        candidates.push((format!("INPUT_{stem}"), 3));
        let hyphenated = format!("INPUT_{}", spec.name.to_ascii_uppercase());
        if hyphenated != format!("INPUT_{stem}") {
            candidates.push((hyphenated, 3));
        }
        for (name, layer) in candidates {
            let Some(text) = env.get(&name) else { continue };
            let is_input = layer == 3;
            if text.trim().is_empty() && (is_input || spec.empty_is_unset()) {
                continue;
            }
            let source = if is_input {
                Source::ActionInput { name }
            } else {
                Source::Env { name }
            };
            let value =
                options::parse_text(spec, text).map_err(|message| ConfigError::Invalid {
                    location: source.location(),
                    key: spec.name.to_owned(),
                    message,
                })?;
            layers[layer].assignments.push(Assignment {
                spec,
                value,
                source,
            });
        }
    }
    for name in env.keys() {
        let Some(rest) = name.strip_prefix("CIBW_") else {
            continue;
        };
        let rest = rest.strip_suffix("_LINUX").unwrap_or(rest);
        if let Some(option) = UNSUPPORTED_CIBUILDWHEEL
            .iter()
            .find(|o| o.to_ascii_uppercase().replace('-', "_") == rest)
        {
            warnings.push(format!(
                "environment variable `{name}` (cibuildwheel's `{option}`) is not supported by wheelwright and is ignored"
            ));
        }
    }
    Ok(layers)
}

fn cli_layer(values: &[CliValue]) -> Result<Layer, ConfigError> {
    let mut layer = Layer::default();
    for cli in values {
        let source = Source::CommandLine {
            flag: cli.flag.clone(),
        };
        let Some(spec) = options::find(&cli.option) else {
            return Err(ConfigError::Invalid {
                location: source.location(),
                key: cli.option.clone(),
                message: "not a wheelwright option".to_owned(),
            });
        };
        let value =
            options::parse_text(spec, &cli.value).map_err(|message| ConfigError::Invalid {
                location: source.location(),
                key: spec.name.to_owned(),
                message,
            })?;
        layer.assignments.push(Assignment {
            spec,
            value,
            source,
        });
    }
    Ok(layer)
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
    fn name(self) -> &'static str {
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

struct FileReader<'a> {
    file: &'a Path,
    warnings: &'a mut Vec<String>,
}

impl FileReader<'_> {
    /// Reads `[tool.cibuildwheel]` (with its `linux` table and overrides) and
    /// `[tool.wheelwright]` of a parsed file into `layers`.
    fn read_tool_tables(&mut self, doc: &Node, layers: &mut Layers) -> Result<(), ConfigError> {
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

    fn position(&self, node: &Node) -> String {
        format!("`{}`:{}:{}", self.file.display(), node.line, node.column)
    }

    fn source(&self, table: &str, key: &Key) -> Source {
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

    fn expect_table(&self, parent: &str, key: &Key, node: &Node) -> Result<(), ConfigError> {
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

    fn string(&self, table: &str, key: &Key, node: &Node) -> Result<String, ConfigError> {
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

#[cfg(test)]
#[path = "settings_tests.rs"]
mod tests;
