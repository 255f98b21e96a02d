//! The option table: every option's name, type, scope, default and where it may be set, and
//! the parsing of one option value from TOML or from a string (environment variables, Action
//! inputs, the command line).
//!
//! One table drives validation (unknown keys and their suggestions), the environment variable
//! names, `wheelwright config --show` and the README's options table (a unit test checks that
//! every option is documented there).

use std::fmt;
use std::path::PathBuf;

use crate::config::archs::Archs;
use crate::config::environment::{Environment, check_name};
use crate::config::identifier::{Identifier, Selector};
use crate::config::image::{ContainerImage, Image, default_short_name};
use crate::config::pythons::{self, EnableGroup, EnableSet};
use crate::config::toml_tree::{Node, NodeValue};
use crate::config::values::{
    BuildFrontend, CIBUILDWHEEL_DEFAULT_REPAIR, CompilerCache, ConfigSetting, ContainerEngine,
    Jobs, PullPolicy, RepairCommand, ShellCommand, parse_bool, shell_words,
};
use crate::platform::Arch;
use crate::platform::Libc;

/// The type of an option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Identifier globs (`build`, `skip`, `test-skip`).
    Selector,
    /// `archs`.
    Archs,
    /// `enable` groups.
    Enable,
    /// A directory (`output-dir`).
    Path,
    /// `jobs`.
    Jobs,
    /// `pull`.
    Pull,
    /// `compiler-cache`.
    CompilerCache,
    /// `only`: one identifier.
    Only,
    /// A shell command; TOML lists are joined with ` && `.
    Command,
    /// `repair-wheel-command`.
    Repair,
    /// `environment`.
    Environment,
    /// `environment-pass`: variable names.
    EnvironmentPass,
    /// Whitespace-separated words (`test-requires`).
    Words,
    /// Comma-separated words (`test-extras`).
    Extras,
    /// Shell words (`test-sources`).
    ShellWords,
    /// `config-settings`.
    ConfigSettings,
    /// `build-frontend`.
    Frontend,
    /// `container-engine`.
    Engine,
    /// A build image for one platform.
    Image(Libc, Arch),
    /// A test image (any reference, empty for none).
    TestImage,
}

/// Whether an option applies to all identifiers or may differ per identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// One value for the whole run; not allowed in overrides.
    Global,
    /// May be set per identifier with overrides.
    Build,
}

/// Where cibuildwheel accepts the option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cibw {
    /// `[tool.cibuildwheel]`, `[tool.cibuildwheel.linux]` and `CIBW_<NAME>`.
    Toml,
    /// `CIBW_<NAME>` and the command line only (wheelwright also reads it from TOML).
    EnvOnly,
    /// A wheelwright option: `[tool.wheelwright]`, `WHEELWRIGHT_<NAME>`, `INPUT_<NAME>`.
    No,
}

/// One option.
#[derive(Debug, Clone, Copy)]
pub struct OptionSpec {
    /// The TOML key. Ex) `before-build`
    pub name: &'static str,
    /// Its type.
    pub kind: Kind,
    /// Global or per identifier.
    pub scope: Scope,
    /// Where cibuildwheel accepts it.
    pub cibuildwheel: Cibw,
    /// Whether `CIBW_<NAME>_LINUX` is read too.
    pub platform_env: bool,
    /// Whether it may be set in TOML at all (`only` may not).
    pub toml: bool,
    /// One line for `config --show` and the README.
    pub help: &'static str,
}

const fn spec(
    name: &'static str,
    kind: Kind,
    scope: Scope,
    cibuildwheel: Cibw,
    help: &'static str,
) -> OptionSpec {
    OptionSpec {
        name,
        kind,
        scope,
        cibuildwheel,
        platform_env: !matches!(cibuildwheel, Cibw::No),
        toml: true,
        help,
    }
}

const fn image(name: &'static str, libc: Libc, arch: Arch) -> OptionSpec {
    spec(
        name,
        Kind::Image(libc, arch),
        Scope::Build,
        Cibw::Toml,
        "build image: a short name or an image reference",
    )
}

const fn test_image(name: &'static str) -> OptionSpec {
    spec(
        name,
        Kind::TestImage,
        Scope::Build,
        Cibw::No,
        "image the wheels of this architecture are tested in (empty: the build image)",
    )
}

use Arch::{Aarch64, Armv7l, I686, Ppc64le, Riscv64, S390x, X86_64};
use Cibw::{EnvOnly, No, Toml};
use Libc::{Glibc, Musl};
use Scope::{Build, Global};

/// Every option, in the order `config --show` prints them.
pub const OPTIONS: &[OptionSpec] = &[
    OptionSpec {
        platform_env: false,
        ..spec(
            "build",
            Kind::Selector,
            Global,
            Toml,
            "identifiers to build (globs, `{a,b}` braces)",
        )
    },
    OptionSpec {
        platform_env: false,
        ..spec(
            "skip",
            Kind::Selector,
            Global,
            Toml,
            "identifiers to leave out",
        )
    },
    OptionSpec {
        platform_env: false,
        ..spec(
            "test-skip",
            Kind::Selector,
            Global,
            Toml,
            "identifiers built but not tested",
        )
    },
    OptionSpec {
        platform_env: false,
        ..spec(
            "enable",
            Kind::Enable,
            Global,
            Toml,
            "groups built only on request (pypy, cpython-freethreading, …)",
        )
    },
    spec(
        "archs",
        Kind::Archs,
        Global,
        Toml,
        "architectures: auto, auto64, auto32, native, all or names",
    ),
    OptionSpec {
        platform_env: false,
        ..spec(
            "output-dir",
            Kind::Path,
            Global,
            EnvOnly,
            "directory the wheels are written to",
        )
    },
    spec(
        "jobs",
        Kind::Jobs,
        Global,
        No,
        "builds run at once: auto (one per CPU) or a number",
    ),
    spec(
        "pull",
        Kind::Pull,
        Global,
        No,
        "when to pull images: missing, always or never",
    ),
    spec(
        "compiler-cache",
        Kind::CompilerCache,
        Global,
        No,
        "ccache for C/C++ builds: auto (when the image has it), on (install it if missing) or off",
    ),
    OptionSpec {
        toml: false,
        ..spec(
            "only",
            Kind::Only,
            Global,
            No,
            "build exactly this identifier (ignores build, skip, archs, enable)",
        )
    },
    spec(
        "build-frontend",
        Kind::Frontend,
        Build,
        Toml,
        "default, build, build[uv], pip or uv, with `; args: …`",
    ),
    spec(
        "config-settings",
        Kind::ConfigSettings,
        Build,
        Toml,
        "PEP 517 config settings for the backend",
    ),
    spec(
        "environment",
        Kind::Environment,
        Build,
        Toml,
        "variables set in the build container, in order",
    ),
    spec(
        "environment-pass",
        Kind::EnvironmentPass,
        Build,
        Toml,
        "host variables passed into the build container",
    ),
    spec(
        "before-all",
        Kind::Command,
        Build,
        Toml,
        "command run once per container before any build",
    ),
    spec(
        "before-build",
        Kind::Command,
        Build,
        Toml,
        "command run before each build",
    ),
    spec(
        "repair-wheel-command",
        Kind::Repair,
        Build,
        Toml,
        "repair command (default: the built-in repair; empty: no repair)",
    ),
    spec(
        "test-command",
        Kind::Command,
        Build,
        Toml,
        "command that tests an installed wheel (empty: no test)",
    ),
    spec(
        "before-test",
        Kind::Command,
        Build,
        Toml,
        "command run in the test environment before installing the wheel",
    ),
    spec(
        "test-requires",
        Kind::Words,
        Build,
        Toml,
        "packages installed for the tests",
    ),
    spec(
        "test-extras",
        Kind::Extras,
        Build,
        Toml,
        "extras of the wheel installed for the tests",
    ),
    spec(
        "test-sources",
        Kind::ShellWords,
        Build,
        Toml,
        "files and directories copied next to the tests",
    ),
    spec(
        "container-engine",
        Kind::Engine,
        Build,
        Toml,
        "auto, docker, podman or host, with `; create_args: …`",
    ),
    image("manylinux-x86_64-image", Glibc, X86_64),
    image("manylinux-i686-image", Glibc, I686),
    image("manylinux-aarch64-image", Glibc, Aarch64),
    image("manylinux-ppc64le-image", Glibc, Ppc64le),
    image("manylinux-s390x-image", Glibc, S390x),
    image("manylinux-armv7l-image", Glibc, Armv7l),
    image("manylinux-riscv64-image", Glibc, Riscv64),
    image("manylinux-pypy_x86_64-image", Glibc, X86_64),
    image("manylinux-pypy_i686-image", Glibc, I686),
    image("manylinux-pypy_aarch64-image", Glibc, Aarch64),
    image("musllinux-x86_64-image", Musl, X86_64),
    image("musllinux-i686-image", Musl, I686),
    image("musllinux-aarch64-image", Musl, Aarch64),
    image("musllinux-ppc64le-image", Musl, Ppc64le),
    image("musllinux-s390x-image", Musl, S390x),
    image("musllinux-armv7l-image", Musl, Armv7l),
    image("musllinux-riscv64-image", Musl, Riscv64),
    spec(
        "test-image",
        Kind::TestImage,
        Build,
        No,
        "image the wheels are tested in (empty: the build image)",
    ),
    test_image("test-x86_64-image"),
    test_image("test-i686-image"),
    test_image("test-aarch64-image"),
    test_image("test-ppc64le-image"),
    test_image("test-s390x-image"),
    test_image("test-armv7l-image"),
    test_image("test-riscv64-image"),
];

/// cibuildwheel options that matter on Linux but that wheelwright does not implement: set in
/// `[tool.cibuildwheel]` or `CIBW_*`, they are ignored with a warning naming them.
pub const UNSUPPORTED_CIBUILDWHEEL: &[&str] = &[
    "build-verbosity",
    "dependency-versions",
    "test-groups",
    "test-environment",
    "test-runtime",
    "audit-requires",
    "audit-command",
    "allow-empty",
    "debug-keep-container",
    "cache-path",
    "config-file",
];

/// cibuildwheel options for other platforms, ignored silently.
pub const OTHER_PLATFORM_OPTIONS: &[&str] = &["xbuild-tools", "pyodide-version"];

/// cibuildwheel's per-platform tables other than `linux`, ignored silently.
pub const OTHER_PLATFORMS: &[&str] = &["macos", "windows", "pyodide", "ios", "android"];

/// Looks an option up by its TOML key.
#[must_use]
pub fn find(name: &str) -> Option<&'static OptionSpec> {
    OPTIONS.iter().find(|spec| spec.name == name)
}

impl OptionSpec {
    /// The environment variable stem. Ex) `BEFORE_BUILD`, `MANYLINUX_PYPY_X86_64_IMAGE`
    #[must_use]
    pub fn env_stem(&self) -> String {
        self.name.to_ascii_uppercase().replace('-', "_")
    }

    /// Whether a value of this option may be merged with `inherit = "append" | "prepend"`.
    #[must_use]
    pub fn inheritable(&self) -> bool {
        matches!(
            self.kind,
            Kind::Command
                | Kind::Repair
                | Kind::Environment
                | Kind::EnvironmentPass
                | Kind::Words
                | Kind::Extras
                | Kind::ShellWords
                | Kind::ConfigSettings
                | Kind::Engine
        )
    }

    /// Whether an empty string from an environment variable means "not set" (an empty value
    /// would be meaningless for these).
    #[must_use]
    pub fn empty_is_unset(&self) -> bool {
        matches!(
            self.kind,
            Kind::Selector
                | Kind::Archs
                | Kind::Path
                | Kind::Jobs
                | Kind::Pull
                | Kind::CompilerCache
                | Kind::Only
                | Kind::Frontend
                | Kind::Engine
                | Kind::Image(..)
        ) && self.name != "skip"
            && self.name != "test-skip"
    }

    /// The default, as text in the string form.
    #[must_use]
    pub fn default_text(&self) -> String {
        match self.kind {
            Kind::Selector if self.name == "build" => "*".to_owned(),
            Kind::Archs => "auto".to_owned(),
            Kind::Path => "wheelhouse".to_owned(),
            Kind::Jobs => "auto".to_owned(),
            Kind::Pull => "missing".to_owned(),
            Kind::CompilerCache => "auto".to_owned(),
            Kind::Repair => CIBUILDWHEEL_DEFAULT_REPAIR.to_owned(),
            Kind::Frontend => "default".to_owned(),
            Kind::Engine => "auto".to_owned(),
            Kind::Image(libc, arch) => default_short_name(libc, arch).to_owned(),
            _ => String::new(),
        }
    }

    /// What the TOML form accepts, for wrong-type errors.
    #[must_use]
    pub fn expected_toml(&self) -> &'static str {
        match self.kind {
            Kind::Selector
            | Kind::Archs
            | Kind::Enable
            | Kind::Command
            | Kind::Repair
            | Kind::EnvironmentPass
            | Kind::Words
            | Kind::Extras
            | Kind::ShellWords => "a string or an array of strings",
            Kind::Environment => "a string or a table of strings",
            Kind::ConfigSettings => "a string or a table of strings or string arrays",
            Kind::Frontend => "a string or a table with `name` and `args`",
            Kind::Engine => {
                "a string or a table with `name`, `create-args` and `disable-host-mount`"
            }
            Kind::Jobs => "`auto` or a positive integer",
            Kind::Path
            | Kind::Pull
            | Kind::CompilerCache
            | Kind::Only
            | Kind::Image(..)
            | Kind::TestImage => "a string",
        }
    }
}

/// A parsed option value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(untagged)]
pub enum OptionValue {
    /// `build`, `skip`, `test-skip`: the globs as written, space-separated.
    Selector(String),
    /// `archs`.
    Archs(#[serde(serialize_with = "as_display")] Archs),
    /// `enable`.
    Enable(EnableSet),
    /// `output-dir`.
    Path(PathBuf),
    /// `jobs`.
    Jobs(Jobs),
    /// `pull`.
    Pull(PullPolicy),
    /// `compiler-cache`.
    CompilerCache(CompilerCache),
    /// `only`.
    Only(#[serde(serialize_with = "as_display_opt")] Option<Identifier>),
    /// Commands.
    Command(ShellCommand),
    /// `repair-wheel-command`.
    Repair(RepairCommand),
    /// `environment`.
    Environment(Environment),
    /// Word lists.
    List(Vec<String>),
    /// `config-settings`.
    ConfigSettings(#[serde(serialize_with = "as_display_list")] Vec<ConfigSetting>),
    /// `build-frontend`.
    Frontend(BuildFrontend),
    /// `container-engine`.
    Engine(ContainerEngine),
    /// Build images.
    Image(Image),
    /// Test images.
    TestImage(Option<ContainerImage>),
}

fn as_display<T: fmt::Display, S: serde::Serializer>(
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

fn as_display_opt<T: fmt::Display, S: serde::Serializer>(
    value: &Option<T>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => serializer.collect_str(value),
        None => serializer.serialize_none(),
    }
}

fn as_display_list<T: fmt::Display, S: serde::Serializer>(
    value: &[T],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(value.iter().map(ToString::to_string))
}

impl fmt::Display for OptionValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptionValue::Selector(text) => f.write_str(text),
            OptionValue::Archs(archs) => write!(f, "{archs}"),
            OptionValue::Enable(groups) => {
                let names: Vec<&str> = groups.iter().map(|g| g.as_str()).collect();
                f.write_str(&names.join(" "))
            }
            OptionValue::Path(path) => write!(f, "{}", path.display()),
            OptionValue::Jobs(jobs) => write!(f, "{jobs}"),
            OptionValue::Pull(pull) => write!(f, "{pull}"),
            OptionValue::CompilerCache(cache) => write!(f, "{cache}"),
            OptionValue::Only(only) => match only {
                Some(id) => write!(f, "{id}"),
                None => Ok(()),
            },
            OptionValue::Command(command) => write!(f, "{command}"),
            OptionValue::Repair(repair) => write!(f, "{repair}"),
            OptionValue::Environment(env) => write!(f, "{env}"),
            OptionValue::List(items) => f.write_str(&items.join(" ")),
            OptionValue::ConfigSettings(settings) => {
                let words: Vec<String> = settings.iter().map(ToString::to_string).collect();
                f.write_str(&words.join(" "))
            }
            OptionValue::Frontend(frontend) => write!(f, "{frontend}"),
            OptionValue::Engine(engine) => write!(f, "{engine}"),
            OptionValue::Image(image) => write!(f, "{image}"),
            OptionValue::TestImage(image) => match image {
                Some(image) => write!(f, "{image}"),
                None => Ok(()),
            },
        }
    }
}

/// How an override combines with the value before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inherit {
    /// Replace (the default).
    None,
    /// Earlier value, then this one.
    Append,
    /// This value, then the earlier one.
    Prepend,
}

impl OptionValue {
    /// Combines `self` (earlier) with `newer` under `rule`. Only list-like values merge; for
    /// the others (and `Inherit::None`) the newer value wins.
    #[must_use]
    pub fn inherit(&self, newer: &OptionValue, rule: Inherit) -> OptionValue {
        let (first, second) = match rule {
            Inherit::None => return newer.clone(),
            Inherit::Append => (self, newer),
            Inherit::Prepend => (newer, self),
        };
        match (first, second) {
            (OptionValue::Command(a), OptionValue::Command(b)) => {
                OptionValue::Command(ShellCommand::join([a.as_str(), b.as_str()]))
            }
            (OptionValue::Repair(a), OptionValue::Repair(b)) => {
                OptionValue::Repair(RepairCommand {
                    steps: a.steps.iter().chain(&b.steps).cloned().collect(),
                })
            }
            (OptionValue::Environment(a), OptionValue::Environment(b)) => {
                OptionValue::Environment(Environment {
                    assignments: a
                        .assignments
                        .iter()
                        .chain(&b.assignments)
                        .cloned()
                        .collect(),
                })
            }
            (OptionValue::List(a), OptionValue::List(b)) => {
                OptionValue::List(a.iter().chain(b).cloned().collect())
            }
            (OptionValue::ConfigSettings(a), OptionValue::ConfigSettings(b)) => {
                OptionValue::ConfigSettings(a.iter().chain(b).cloned().collect())
            }
            (OptionValue::Enable(a), OptionValue::Enable(b)) => {
                OptionValue::Enable(a.union(b).copied().collect())
            }
            (OptionValue::Engine(a), OptionValue::Engine(b)) => {
                // The engine named by the newer value; arguments from both, in order.
                let name_from = if rule == Inherit::Append { b } else { a };
                OptionValue::Engine(ContainerEngine {
                    kind: name_from.kind,
                    create_args: a
                        .create_args
                        .iter()
                        .chain(&b.create_args)
                        .cloned()
                        .collect(),
                    disable_host_mount: a.disable_host_mount || b.disable_host_mount,
                })
            }
            _ => newer.clone(),
        }
    }
}

/// Parses the string form (environment variables, Action inputs, flags, defaults).
pub fn parse_text(spec: &OptionSpec, text: &str) -> Result<OptionValue, String> {
    Ok(match spec.kind {
        Kind::Selector => {
            Selector::parse(text).map_err(|e| e.to_string())?;
            OptionValue::Selector(text.split_whitespace().collect::<Vec<_>>().join(" "))
        }
        Kind::Archs => OptionValue::Archs(Archs::parse(text)?),
        Kind::Enable => OptionValue::Enable(parse_enable_set(text.split_whitespace())?),
        Kind::Path => {
            let text = text.trim();
            if text.is_empty() {
                return Err("empty path".to_owned());
            }
            OptionValue::Path(PathBuf::from(text))
        }
        Kind::Jobs => OptionValue::Jobs(Jobs::parse(text)?),
        Kind::Pull => OptionValue::Pull(PullPolicy::parse(text)?),
        Kind::CompilerCache => OptionValue::CompilerCache(CompilerCache::parse(text)?),
        Kind::Only => OptionValue::Only(parse_only(text)?),
        Kind::Command => OptionValue::Command(ShellCommand::join([text])),
        Kind::Repair => OptionValue::Repair(RepairCommand::from_text(text)),
        Kind::Environment => OptionValue::Environment(Environment::parse(text)?),
        Kind::EnvironmentPass => {
            let names: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
            for name in &names {
                check_name(name)?;
            }
            OptionValue::List(names)
        }
        Kind::Words => OptionValue::List(text.split_whitespace().map(str::to_owned).collect()),
        Kind::Extras => OptionValue::List(
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
        Kind::ShellWords => OptionValue::List(shell_words(text)?),
        Kind::ConfigSettings => OptionValue::ConfigSettings(ConfigSetting::parse_list(text)?),
        Kind::Frontend => OptionValue::Frontend(BuildFrontend::parse(text)?),
        Kind::Engine => OptionValue::Engine(ContainerEngine::parse(text)?),
        Kind::Image(libc, arch) => OptionValue::Image(Image::parse(text, libc, arch)?),
        Kind::TestImage => {
            let text = text.trim();
            OptionValue::TestImage(if text.is_empty() {
                None
            } else {
                Some(ContainerImage::parse(text)?)
            })
        }
    })
}

fn parse_enable_set<'a>(words: impl IntoIterator<Item = &'a str>) -> Result<EnableSet, String> {
    let mut set = EnableSet::new();
    for word in words {
        if word == "all" {
            // cibuildwheel's groups; wheelwright's own are enabled by name (see `pythons`).
            set.extend(EnableGroup::ALL.into_iter().filter(|g| g.is_cibuildwheel()));
            continue;
        }
        let group = word.parse::<EnableGroup>().map_err(|()| {
            let names: Vec<&str> = EnableGroup::ALL.iter().map(|g| g.as_str()).collect();
            let hint = crate::config::suggest(word, names.iter().copied())
                .map(|s| format!("did you mean `{s}`? "))
                .unwrap_or_default();
            format!(
                "unknown group `{word}` ({hint}expected all or one of {})",
                names.join(", ")
            )
        })?;
        set.insert(group);
    }
    Ok(set)
}

fn parse_only(text: &str) -> Result<Option<Identifier>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let id: Identifier = text
        .parse()
        .map_err(|e: crate::config::identifier::IdentifierError| e.to_string())?;
    if !pythons::is_known(&id) {
        return Err(format!(
            "wheelwright does not build `{id}` (see `wheelwright plan --print-identifiers` with `archs = \"all\"` and `enable = \"all cpython-eol cpython-freethreading pypy-legacy\"`)"
        ));
    }
    Ok(Some(id))
}

/// Why a TOML value was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NodeError {
    /// The TOML type is wrong; `expected` says what is accepted.
    WrongType {
        /// The key path below the option. Ex) `environment.CFLAGS`
        key: String,
        /// Ex) `a string or an array of strings`
        expected: &'static str,
        /// Ex) `an integer`
        found: &'static str,
        /// Position of the value.
        line: usize,
        /// Position of the value.
        column: usize,
    },
    /// The type is right but the value is not.
    Invalid(String),
}

fn wrong_type(key: String, expected: &'static str, node: &Node) -> NodeError {
    NodeError::WrongType {
        key,
        expected,
        found: node.type_name(),
        line: node.line,
        column: node.column,
    }
}

/// A string, or an array of strings (`key` names the option for errors).
fn strings<'a>(spec: &OptionSpec, node: &'a Node) -> Result<Vec<&'a str>, NodeError> {
    match &node.value {
        NodeValue::String(s) => Ok(vec![s.as_str()]),
        NodeValue::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match &item.value {
                NodeValue::String(s) => Ok(s.as_str()),
                _ => Err(wrong_type(format!("{}[{i}]", spec.name), "a string", item)),
            })
            .collect(),
        _ => Err(wrong_type(spec.name.to_owned(), spec.expected_toml(), node)),
    }
}

fn string_array(key: String, node: &Node) -> Result<Vec<String>, NodeError> {
    match &node.value {
        NodeValue::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match &item.value {
                NodeValue::String(s) => Ok(s.clone()),
                _ => Err(wrong_type(format!("{key}[{i}]"), "a string", item)),
            })
            .collect(),
        _ => Err(wrong_type(key, "an array of strings", node)),
    }
}

/// Parses the TOML form of an option value.
pub(crate) fn parse_node(spec: &OptionSpec, node: &Node) -> Result<OptionValue, NodeError> {
    let invalid = NodeError::Invalid;
    let is_string = matches!(node.value, NodeValue::String(_));
    match spec.kind {
        Kind::Selector | Kind::Archs | Kind::Enable => {
            let joined = strings(spec, node)?.join(" ");
            parse_text(spec, &joined).map_err(invalid)
        }
        Kind::Command => Ok(OptionValue::Command(ShellCommand::join(strings(
            spec, node,
        )?))),
        Kind::Repair => {
            let parts = strings(spec, node)?;
            Ok(OptionValue::Repair(if is_string {
                RepairCommand::from_text(parts[0])
            } else {
                RepairCommand::from_list(parts)
            }))
        }
        Kind::EnvironmentPass | Kind::Words | Kind::Extras | Kind::ShellWords => {
            let parts = strings(spec, node)?;
            if is_string {
                return parse_text(spec, parts[0]).map_err(invalid);
            }
            if spec.kind == Kind::EnvironmentPass {
                for name in &parts {
                    check_name(name).map_err(invalid)?;
                }
            }
            Ok(OptionValue::List(
                parts.into_iter().map(str::to_owned).collect(),
            ))
        }
        Kind::Environment => match &node.value {
            NodeValue::String(s) => parse_text(spec, s).map_err(invalid),
            NodeValue::Table(entries) => {
                let mut pairs = Vec::new();
                for (key, value) in entries {
                    match &value.value {
                        NodeValue::String(s) => pairs.push((key.name.as_str(), s.as_str())),
                        _ => {
                            return Err(wrong_type(
                                format!("{}.{}", spec.name, key.name),
                                "a string",
                                value,
                            ));
                        }
                    }
                }
                Environment::from_table(pairs)
                    .map(OptionValue::Environment)
                    .map_err(invalid)
            }
            _ => Err(wrong_type(spec.name.to_owned(), spec.expected_toml(), node)),
        },
        Kind::ConfigSettings => match &node.value {
            NodeValue::String(s) => parse_text(spec, s).map_err(invalid),
            NodeValue::Table(entries) => {
                let mut settings = Vec::new();
                for (key, value) in entries {
                    let values = match &value.value {
                        NodeValue::String(s) => vec![s.clone()],
                        NodeValue::Array(_) => {
                            string_array(format!("{}.{}", spec.name, key.name), value)?
                        }
                        _ => {
                            return Err(wrong_type(
                                format!("{}.{}", spec.name, key.name),
                                "a string or an array of strings",
                                value,
                            ));
                        }
                    };
                    settings.extend(values.into_iter().map(|v| ConfigSetting {
                        key: key.name.clone(),
                        value: Some(v),
                    }));
                }
                Ok(OptionValue::ConfigSettings(settings))
            }
            _ => Err(wrong_type(spec.name.to_owned(), spec.expected_toml(), node)),
        },
        Kind::Frontend => match &node.value {
            NodeValue::String(s) => parse_text(spec, s).map_err(invalid),
            NodeValue::Table(_) => {
                let name = table_string(spec, node, "name")?
                    .ok_or_else(|| invalid(format!("a `{}` table needs `name`", spec.name)))?;
                let args = match node.get("args") {
                    Some((_, value)) => string_array(format!("{}.args", spec.name), value)?,
                    None => Vec::new(),
                };
                only_keys(spec, node, &["name", "args"])?;
                BuildFrontend::from_parts(&name, args)
                    .map(OptionValue::Frontend)
                    .map_err(invalid)
            }
            _ => Err(wrong_type(spec.name.to_owned(), spec.expected_toml(), node)),
        },
        Kind::Engine => match &node.value {
            NodeValue::String(s) => parse_text(spec, s).map_err(invalid),
            NodeValue::Table(_) => {
                let name = table_string(spec, node, "name")?
                    .ok_or_else(|| invalid(format!("a `{}` table needs `name`", spec.name)))?;
                let create_args = match node.get("create-args") {
                    Some((_, value)) => string_array(format!("{}.create-args", spec.name), value)?,
                    None => Vec::new(),
                };
                let disable_host_mount = match node.get("disable-host-mount") {
                    Some((_, value)) => match value.value {
                        NodeValue::Boolean(b) => b,
                        NodeValue::String(ref s) => parse_bool(s).map_err(invalid)?,
                        _ => {
                            return Err(wrong_type(
                                format!("{}.disable-host-mount", spec.name),
                                "a boolean",
                                value,
                            ));
                        }
                    },
                    None => false,
                };
                only_keys(spec, node, &["name", "create-args", "disable-host-mount"])?;
                ContainerEngine::from_parts(&name, create_args, disable_host_mount)
                    .map(OptionValue::Engine)
                    .map_err(invalid)
            }
            _ => Err(wrong_type(spec.name.to_owned(), spec.expected_toml(), node)),
        },
        Kind::Jobs => match &node.value {
            NodeValue::Integer(n) => u32::try_from(*n)
                .ok()
                .and_then(std::num::NonZeroU32::new)
                .map(|n| OptionValue::Jobs(Jobs::Count(n)))
                .ok_or_else(|| invalid(format!("`{n}` is not a positive number of jobs"))),
            NodeValue::String(s) => parse_text(spec, s).map_err(invalid),
            _ => Err(wrong_type(spec.name.to_owned(), spec.expected_toml(), node)),
        },
        Kind::Path
        | Kind::Pull
        | Kind::CompilerCache
        | Kind::Only
        | Kind::Image(..)
        | Kind::TestImage => match &node.value {
            NodeValue::String(s) => parse_text(spec, s).map_err(invalid),
            _ => Err(wrong_type(spec.name.to_owned(), spec.expected_toml(), node)),
        },
    }
}

fn table_string(spec: &OptionSpec, node: &Node, key: &str) -> Result<Option<String>, NodeError> {
    match node.get(key) {
        Some((_, value)) => match &value.value {
            NodeValue::String(s) => Ok(Some(s.clone())),
            _ => Err(wrong_type(
                format!("{}.{key}", spec.name),
                "a string",
                value,
            )),
        },
        None => Ok(None),
    }
}

fn only_keys(spec: &OptionSpec, node: &Node, allowed: &[&str]) -> Result<(), NodeError> {
    for (key, _) in node.as_table().unwrap_or_default() {
        if !allowed.contains(&key.name.as_str()) {
            return Err(NodeError::Invalid(format!(
                "unknown key `{}` in the `{}` table (expected {})",
                key.name,
                spec.name,
                allowed.join(", ")
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::toml_tree::parse_document;

    fn node(toml_value: &str) -> Node {
        let doc = parse_document(&format!("v = {toml_value}\n")).expect("valid TOML");
        doc.get("v").expect("v").1.clone()
    }

    fn parse(name: &str, toml_value: &str) -> Result<OptionValue, NodeError> {
        parse_node(find(name).expect(name), &node(toml_value))
    }

    #[test]
    fn every_option_has_a_valid_default() {
        for spec in OPTIONS {
            let value = parse_text(spec, &spec.default_text())
                .unwrap_or_else(|e| panic!("{}: {e}", spec.name));
            if spec.inheritable() {
                // merging with itself keeps the kind
                let merged = value.inherit(&value, Inherit::Append);
                assert_eq!(
                    std::mem::discriminant(&merged),
                    std::mem::discriminant(&value)
                );
            }
        }
        let names: Vec<&str> = OPTIONS.iter().map(|s| s.name).collect();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "duplicate option names");
    }

    #[test]
    fn every_option_is_in_the_readme_table() {
        let readme = include_str!("../../README.md");
        let start = readme
            .find("| option | meaning | default | cibuildwheel |")
            .expect("the README has the options table");
        let table = &readme[start..];
        let table = &table[..table.find("\n\n").unwrap_or(table.len())];
        for spec in OPTIONS {
            let documented = match spec.kind {
                Kind::Image(..) if spec.name.contains("pypy") => {
                    "`manylinux-pypy_<arch>-image`".to_owned()
                }
                Kind::Image(libc, _) => format!("`{}-<arch>-image`", libc.tag_prefix()),
                Kind::TestImage if spec.name != "test-image" => "`test-<arch>-image`".to_owned(),
                _ => format!("| `{}`", spec.name),
            };
            assert!(table.contains(&documented), "README lacks {documented}");
        }
    }

    #[test]
    fn toml_lists_join_like_cibuildwheel() {
        assert_eq!(
            parse("before-all", r#"["yum install -y zlib-devel", "echo ok"]"#),
            Ok(OptionValue::Command(ShellCommand(
                "yum install -y zlib-devel && echo ok".to_owned()
            )))
        );
        assert_eq!(
            parse("build", r#"["cp39-*", "cp3{10,11}-*"]"#),
            Ok(OptionValue::Selector("cp39-* cp3{10,11}-*".to_owned()))
        );
        assert_eq!(
            parse("test-extras", r#""test, numpy""#),
            Ok(OptionValue::List(vec![
                "test".to_owned(),
                "numpy".to_owned()
            ]))
        );
        assert_eq!(
            parse("test-requires", r#"["pytest>=8", "hypothesis"]"#),
            Ok(OptionValue::List(vec![
                "pytest>=8".to_owned(),
                "hypothesis".to_owned()
            ]))
        );
        assert_eq!(
            parse("test-sources", r#""tests 'data dir'""#),
            Ok(OptionValue::List(vec![
                "tests".to_owned(),
                "data dir".to_owned()
            ]))
        );
    }

    #[test]
    fn tables_for_table_options() {
        let OptionValue::Environment(env) =
            parse("environment", r#"{ CFLAGS = "-O2 -g", PATH = "$PATH:/x" }"#).expect("table")
        else {
            panic!("not an environment")
        };
        assert_eq!(env.to_string(), r#"CFLAGS="-O2 -g" PATH="$PATH:/x""#);
        let OptionValue::ConfigSettings(settings) = parse(
            "config-settings",
            r#"{ setup-args = ["-Da=1", "-Db=2"], build-dir = "b" }"#,
        )
        .expect("table") else {
            panic!("not config settings")
        };
        let shown: Vec<String> = settings.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            ["setup-args=-Da=1", "setup-args=-Db=2", "build-dir=b"]
        );
        let OptionValue::Engine(engine) = parse(
            "container-engine",
            r#"{ name = "podman", create-args = ["--security-opt", "label=disable"] }"#,
        )
        .expect("table") else {
            panic!("not an engine")
        };
        assert_eq!(
            engine.to_string(),
            "podman; create_args: --security-opt 'label=disable'"
        );
        let OptionValue::Frontend(frontend) =
            parse("build-frontend", r#"{ name = "pip", args = ["-v"] }"#).expect("table")
        else {
            panic!("not a frontend")
        };
        assert_eq!(frontend.to_string(), "pip; args: -v");
    }

    #[test]
    fn wrong_types_name_the_key_and_the_expected_type() {
        assert_eq!(
            parse("before-build", "3"),
            Err(NodeError::WrongType {
                key: "before-build".to_owned(),
                expected: "a string or an array of strings",
                found: "an integer",
                line: 1,
                column: 5,
            })
        );
        let Err(NodeError::WrongType { key, expected, .. }) = parse("environment", "{ A = 1 }")
        else {
            panic!("expected a type error")
        };
        assert_eq!((key.as_str(), expected), ("environment.A", "a string"));
        let Err(NodeError::WrongType { key, .. }) = parse("test-requires", r#"["a", 2]"#) else {
            panic!("expected a type error")
        };
        assert_eq!(key, "test-requires[1]");
        assert!(matches!(parse("jobs", "0"), Err(NodeError::Invalid(_))));
        assert_eq!(
            parse("jobs", "4").map(|v| v.to_string()),
            Ok("4".to_owned())
        );
        assert!(matches!(
            parse("container-engine", r#"{ name = "docker", gpus = true }"#),
            Err(NodeError::Invalid(m)) if m.starts_with("unknown key `gpus`")
        ));
    }

    #[test]
    fn enable_groups() {
        let spec = find("enable").expect("enable");
        assert_eq!(
            parse_text(spec, "pypy cpython-freethreading").map(|v| v.to_string()),
            Ok("cpython-freethreading pypy".to_owned())
        );
        assert_eq!(
            parse_text(spec, "all").map(|v| v.to_string()),
            Ok(
                "cpython-prerelease pypy pypy-eol graalpy pyodide-prerelease pyodide-eol"
                    .to_owned()
            ),
            "all: cibuildwheel's groups, not wheelwright's own"
        );
        assert_eq!(
            parse_text(spec, "all pypy-legacy").map(|v| v.to_string().split(' ').count()),
            Ok(7)
        );
        let err = parse_text(spec, "pypi").expect_err("unknown");
        assert!(
            err.starts_with("unknown group `pypi` (did you mean `pypy`?"),
            "{err}"
        );
    }

    #[test]
    fn only_must_be_a_known_identifier() {
        let spec = find("only").expect("only");
        assert!(parse_text(spec, "cp312-manylinux_x86_64").is_ok());
        assert!(parse_text(spec, "cp27-manylinux_x86_64").is_err());
        assert!(parse_text(spec, "nonsense").is_err());
        assert_eq!(parse_text(spec, ""), Ok(OptionValue::Only(None)));
    }

    #[test]
    fn inherit_modes_merge_lists_and_replace_scalars() {
        let a = OptionValue::Command(ShellCommand("a".to_owned()));
        let b = OptionValue::Command(ShellCommand("b".to_owned()));
        assert_eq!(a.inherit(&b, Inherit::None), b);
        assert_eq!(a.inherit(&b, Inherit::Append).to_string(), "a && b");
        assert_eq!(a.inherit(&b, Inherit::Prepend).to_string(), "b && a");
        let empty = OptionValue::Command(ShellCommand::default());
        assert_eq!(empty.inherit(&b, Inherit::Append).to_string(), "b");
        let x = OptionValue::Engine(ContainerEngine::parse("docker; create_args: -x").expect("ok"));
        let y = OptionValue::Engine(ContainerEngine::parse("podman; create_args: -y").expect("ok"));
        assert_eq!(
            x.inherit(&y, Inherit::Append).to_string(),
            "podman; create_args: -x -y"
        );
        assert_eq!(
            x.inherit(&y, Inherit::Prepend).to_string(),
            "podman; create_args: -y -x"
        );
    }
}
