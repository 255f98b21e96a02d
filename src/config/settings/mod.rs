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
use std::path::PathBuf;
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};

use crate::config::archs::Archs;
use crate::config::environment::Environment;
use crate::config::error::ConfigError;
use crate::config::identifier::{BuildSelector, Identifier, PythonTag, Selector};
use crate::config::image::{ContainerImage, Image};
use crate::config::options::{self, OptionSpec, OptionValue, Scope};
use crate::config::pythons::{self, EnableSet};
use crate::config::source::{Source, Sourced};
use crate::config::values::{
    BuildFrontend, CompilerCache, ConfigSetting, ContainerEngine, Jobs, PullPolicy, RepairCommand,
    ShellCommand,
};
use crate::platform::Arch;
use crate::platform::Libc;

mod files;
mod layers;

use files::{FileReader, io_message, legacy_requires_python, parse_toml, read_optional, same_file};
use layers::{Layers, cli_layer, default_layer, env_layers};

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

#[cfg(test)]
mod tests;
