//! Typed values of the options that are more than a string or a list: commands, the repair
//! command, the build frontend, the container engine, PEP 517 config settings, jobs and the
//! pull policy. Each parses cibuildwheel's string form; the TOML forms are read in
//! `options/` and end up in the same types.

use std::fmt;
use std::num::NonZeroU32;

/// `Display` as the spelling in the configuration (`as_str`), for the option enums.
macro_rules! display_as_str {
    ($($name:ty),+) => {
        $(impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        })+
    };
}

display_as_str!(CompilerCache, PullPolicy);

/// A shell command run by bash in the build container (`before-all`, `test-command`, …).
/// TOML lists are joined with ` && `, as cibuildwheel does. Empty means nothing to run.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct ShellCommand(pub String);

impl ShellCommand {
    /// Joins non-empty parts with ` && `.
    #[must_use]
    pub fn join<'a>(parts: impl IntoIterator<Item = &'a str>) -> Self {
        let parts: Vec<&str> = parts
            .into_iter()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        ShellCommand(parts.join(" && "))
    }

    /// Whether there is nothing to run.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }

    /// The command text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ShellCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// cibuildwheel's default Linux repair command; written out, it means wheelwright's own repair
/// (which gives auditwheel's results).
pub const CIBUILDWHEEL_DEFAULT_REPAIR: &str = "auditwheel repair -w {dest_dir} {wheel}";

/// One step of the repair command.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "command")]
pub enum RepairStep {
    /// wheelwright's built-in repair of `{wheel}` into `{dest_dir}`.
    BuiltIn,
    /// A user command with cibuildwheel's placeholders (`{wheel}`, `{dest_dir}`, `{package}`,
    /// `{project}`).
    Shell(String),
}

/// `repair-wheel-command`: the steps run for each built wheel, in order. No steps means the
/// wheel is not repaired (cibuildwheel's `repair-wheel-command = ""`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct RepairCommand {
    /// In order; `&&` semantics (a failing step stops the repair).
    pub steps: Vec<RepairStep>,
}

impl RepairCommand {
    /// The default: wheelwright's built-in repair.
    #[must_use]
    pub fn built_in() -> Self {
        RepairCommand {
            steps: vec![RepairStep::BuiltIn],
        }
    }

    /// From the text form: empty skips the repair, cibuildwheel's default command is the
    /// built-in repair, anything else is a shell command.
    #[must_use]
    pub fn from_text(text: &str) -> Self {
        let text = text.trim();
        let steps = if text.is_empty() {
            Vec::new()
        } else if text == CIBUILDWHEEL_DEFAULT_REPAIR {
            vec![RepairStep::BuiltIn]
        } else {
            vec![RepairStep::Shell(text.to_owned())]
        };
        RepairCommand { steps }
    }

    /// From a TOML list: each element is a step (cibuildwheel joins them with `&&`).
    #[must_use]
    pub fn from_list<'a>(items: impl IntoIterator<Item = &'a str>) -> Self {
        RepairCommand {
            steps: items
                .into_iter()
                .flat_map(|item| RepairCommand::from_text(item).steps)
                .collect(),
        }
    }

    /// Whether the wheel is left unrepaired.
    #[must_use]
    pub fn is_skipped(&self) -> bool {
        self.steps.is_empty()
    }
}

impl fmt::Display for RepairCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .steps
            .iter()
            .map(|step| match step {
                RepairStep::BuiltIn => "<built-in repair>".to_owned(),
                RepairStep::Shell(command) => command.clone(),
            })
            .collect();
        f.write_str(&parts.join(" && "))
    }
}

/// The PEP 517 frontend that builds the wheel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum FrontendTool {
    /// Ex) `default`: the fastest that is correct for the environment: `uv build` where uv is
    /// available (the image's, or the one wheelwright provides), else `build`.
    #[serde(rename = "default")]
    Default,
    /// Ex) `build` (`python -m build --wheel`, pip for isolation; uv is never used).
    #[serde(rename = "build")]
    Build,
    /// Ex) `build[uv]` (`python -m build --installer uv --wheel`).
    #[serde(rename = "build[uv]")]
    BuildUv,
    /// Ex) `pip` (`pip wheel --no-deps`; uv is never used).
    #[serde(rename = "pip")]
    Pip,
    /// Ex) `uv` (`uv build --wheel`).
    #[serde(rename = "uv")]
    Uv,
}

impl FrontendTool {
    const NAMES: [&'static str; 5] = ["build", "build[uv]", "pip", "uv", "default"];

    fn parse(name: &str) -> Result<Self, String> {
        Ok(match name {
            "default" => FrontendTool::Default,
            "build" => FrontendTool::Build,
            "build[uv]" => FrontendTool::BuildUv,
            "pip" => FrontendTool::Pip,
            "uv" => FrontendTool::Uv,
            other => {
                return Err(format!(
                    "unknown build frontend `{other}` (expected one of {})",
                    FrontendTool::NAMES.join(", ")
                ));
            }
        })
    }

    /// The spelling in the configuration.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            FrontendTool::Default => "default",
            FrontendTool::Build => "build",
            FrontendTool::BuildUv => "build[uv]",
            FrontendTool::Pip => "pip",
            FrontendTool::Uv => "uv",
        }
    }

    /// Whether uv may be used for the build and the test environments (`build` and `pip`
    /// keep pip and venv, as cibuildwheel does).
    #[must_use]
    pub fn allows_uv(self) -> bool {
        matches!(
            self,
            FrontendTool::Default | FrontendTool::BuildUv | FrontendTool::Uv
        )
    }
}

/// `build-frontend`: the tool and extra arguments for it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BuildFrontend {
    /// The frontend.
    pub tool: FrontendTool,
    /// Extra arguments (`build; args: --no-isolation`).
    pub args: Vec<String>,
}

impl BuildFrontend {
    /// Parses `name` or `name; args: a b c` (args split like a shell would).
    pub fn parse(text: &str) -> Result<Self, String> {
        let name = text.split(';').next().unwrap_or_default().trim();
        let tool = FrontendTool::parse(name)?;
        let settings =
            settings_after_name(text, &format!("`args: …` (expected `{name}; args: ARGS`)"))?;
        let mut args = Vec::new();
        for (key, value) in settings {
            if key != "args" {
                return Err(format!(
                    "unknown build frontend setting `{key}` (expected `args`)"
                ));
            }
            args.extend(shell_words(value)?);
        }
        Ok(BuildFrontend { tool, args })
    }

    /// From the TOML table form's parts.
    pub fn from_parts(name: &str, args: Vec<String>) -> Result<Self, String> {
        Ok(BuildFrontend {
            tool: FrontendTool::parse(name.trim())?,
            args,
        })
    }
}

/// The `(trimmed key, value)` settings after the name in cibuildwheel's `NAME; KEY: VALUE; …`
/// string form; a part without `:` is an error saying it is not `expected`.
fn settings_after_name<'a>(
    text: &'a str,
    expected: &str,
) -> Result<Vec<(&'a str, &'a str)>, String> {
    let mut settings = Vec::new();
    for part in text
        .split(';')
        .skip(1)
        .map(str::trim)
        .filter(|part| !part.is_empty())
    {
        let Some((key, value)) = part.split_once(':') else {
            return Err(format!("`{part}` is not {expected}"));
        };
        settings.push((key.trim(), value));
    }
    Ok(settings)
}

/// `NAME`, then `; LABEL: ARGS` when there are arguments: how the table forms print.
fn write_with_args(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    label: &str,
    args: &[String],
) -> fmt::Result {
    f.write_str(name)?;
    if !args.is_empty() {
        write!(f, "; {label}: {}", shell_join(args))?;
    }
    Ok(())
}

impl fmt::Display for BuildFrontend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_with_args(f, self.tool.as_str(), "args", &self.args)
    }
}

/// Which program runs the containers: `container-engine`'s name and `--engine`. The one type
/// for the option, the flags and the engine selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineChoice {
    /// docker if a daemon answers, else podman if it runs, else the host.
    #[default]
    Auto,
    /// The docker CLI (honours `DOCKER_HOST`).
    Docker,
    /// The podman CLI.
    Podman,
    /// No container: this machine's interpreters, commands run locally.
    Host,
}

impl EngineChoice {
    /// The spelling in the configuration.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            EngineChoice::Auto => "auto",
            EngineChoice::Docker => "docker",
            EngineChoice::Podman => "podman",
            EngineChoice::Host => "host",
        }
    }

    fn parse(name: &str) -> Result<Self, String> {
        Ok(match name {
            "auto" => EngineChoice::Auto,
            "docker" => EngineChoice::Docker,
            "podman" => EngineChoice::Podman,
            "host" => EngineChoice::Host,
            other => {
                return Err(format!(
                    "unknown container engine `{other}` (expected one of auto, docker, podman, host)"
                ));
            }
        })
    }
}

/// `container-engine`: the engine and cibuildwheel's sub-options.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ContainerEngine {
    /// The engine.
    pub kind: EngineChoice,
    /// Extra arguments for `create`/`run` (`docker; create_args: --gpus all`).
    pub create_args: Vec<String>,
    /// Do not mount the host filesystem (cibuildwheel's `disable_host_mount`).
    pub disable_host_mount: bool,
}

impl ContainerEngine {
    /// Parses `name[; create_args: ARGS][; disable_host_mount: BOOL]`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let name = text.split(';').next().unwrap_or_default().trim();
        let mut engine = ContainerEngine {
            kind: EngineChoice::parse(name)?,
            create_args: Vec::new(),
            disable_host_mount: false,
        };
        let settings = settings_after_name(
            text,
            "`KEY: VALUE` (expected `create_args: ARGS` or `disable_host_mount: true`)",
        )?;
        for (key, value) in settings {
            match key {
                "create_args" | "create-args" => engine.create_args.extend(shell_words(value)?),
                "disable_host_mount" | "disable-host-mount" => {
                    engine.disable_host_mount = parse_bool(value.trim())?;
                }
                other => {
                    return Err(format!(
                        "unknown container engine setting `{other}` (expected create_args or disable_host_mount)"
                    ));
                }
            }
        }
        Ok(engine)
    }

    /// From the TOML table form's parts.
    pub fn from_parts(
        name: &str,
        create_args: Vec<String>,
        disable_host_mount: bool,
    ) -> Result<Self, String> {
        Ok(ContainerEngine {
            kind: EngineChoice::parse(name.trim())?,
            create_args,
            disable_host_mount,
        })
    }
}

impl fmt::Display for ContainerEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_with_args(f, self.kind.as_str(), "create_args", &self.create_args)?;
        if self.disable_host_mount {
            f.write_str("; disable_host_mount: true")?;
        }
        Ok(())
    }
}

/// One PEP 517 config setting (`--config-setting KEY=VALUE`); a key without `=` has no value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConfigSetting {
    /// Ex) `setup-args`
    pub key: String,
    /// Ex) `-Dblas=openblas`
    pub value: Option<String>,
}

impl ConfigSetting {
    /// Parses the string form: shell words, each `KEY=VALUE` or `KEY`.
    pub fn parse_list(text: &str) -> Result<Vec<Self>, String> {
        Ok(shell_words(text)?
            .into_iter()
            .map(|word| match word.split_once('=') {
                Some((key, value)) => ConfigSetting {
                    key: key.to_owned(),
                    value: Some(value.to_owned()),
                },
                None => ConfigSetting {
                    key: word,
                    value: None,
                },
            })
            .collect())
    }
}

impl fmt::Display for ConfigSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(value) => write!(f, "{}={value}", self.key),
            None => f.write_str(&self.key),
        }
    }
}

/// `jobs`: how many builds may run at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jobs {
    /// Ex) `auto`: one per available CPU.
    Auto,
    /// Ex) `2`
    Count(NonZeroU32),
}

impl Jobs {
    /// Parses `auto` or a positive integer.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text == "auto" {
            return Ok(Jobs::Auto);
        }
        text.parse::<NonZeroU32>().map(Jobs::Count).map_err(|_| {
            format!("`{text}` is not a number of jobs (expected `auto` or a positive integer)")
        })
    }
}

impl fmt::Display for Jobs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Jobs::Auto => f.write_str("auto"),
            Jobs::Count(n) => write!(f, "{n}"),
        }
    }
}

impl serde::Serialize for Jobs {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Jobs::Auto => serializer.serialize_str("auto"),
            Jobs::Count(n) => serializer.serialize_u32(n.get()),
        }
    }
}

/// `compiler-cache`: whether C/C++ compilations in the build environments go through ccache,
/// with its directory mounted from the host (kept between runs, and between GitHub jobs by the
/// Action's cache).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CompilerCache {
    /// Ex) `auto`: when the build environment has `ccache` (the default).
    Auto,
    /// Ex) `on` (or `ccache`): find `ccache`, else install it with the image's package manager;
    /// a build environment where neither works fails its set-up.
    On,
    /// Ex) `off`
    Off,
}

impl CompilerCache {
    /// Parses `auto`, `on`/`ccache`/`true` or `off`/`false`/`none`.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim() {
            "auto" => Ok(CompilerCache::Auto),
            "on" | "ccache" | "true" => Ok(CompilerCache::On),
            "off" | "false" | "none" => Ok(CompilerCache::Off),
            other => Err(format!(
                "unknown compiler cache `{other}` (expected auto, on, ccache or off)"
            )),
        }
    }

    /// The spelling in the configuration.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            CompilerCache::Auto => "auto",
            CompilerCache::On => "on",
            CompilerCache::Off => "off",
        }
    }
}

/// `pull` (and `--pull`): when to pull images. The one type for the option, the flags and the
/// engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PullPolicy {
    /// Never pull; a missing image is an error.
    Never,
    /// Pull when the image (for the wanted platform) is not present locally.
    #[default]
    Missing,
    /// Always pull (to get the newest image for a tag).
    Always,
}

impl PullPolicy {
    /// Parses `missing`, `always` or `never`.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim() {
            "missing" => Ok(PullPolicy::Missing),
            "always" => Ok(PullPolicy::Always),
            "never" => Ok(PullPolicy::Never),
            other => Err(format!(
                "unknown pull policy `{other}` (expected missing, always or never)"
            )),
        }
    }

    /// The spelling in the configuration.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            PullPolicy::Missing => "missing",
            PullPolicy::Always => "always",
            PullPolicy::Never => "never",
        }
    }
}

/// Splits like a POSIX shell (quotes and backslashes), without expanding anything.
pub fn shell_words(text: &str) -> Result<Vec<String>, String> {
    shlex::split(text).ok_or_else(|| format!("unbalanced quotes in `{text}`"))
}

fn shell_join(words: &[String]) -> String {
    shlex::try_join(words.iter().map(String::as_str)).unwrap_or_else(|_| words.join(" "))
}

/// Parses a boolean the way cibuildwheel's `strtobool` does.
pub fn parse_bool(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" | "y" | "t" => Ok(true),
        "0" | "false" | "no" | "off" | "n" | "f" => Ok(false),
        _ => Err(format!(
            "`{text}` is not a boolean (expected true or false)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_join_with_and() {
        assert_eq!(
            ShellCommand::join(["yum install -y zlib-devel", " ", "echo done"]).as_str(),
            "yum install -y zlib-devel && echo done"
        );
        assert!(ShellCommand::join([""]).is_empty());
    }

    #[test]
    fn repair_command_forms() {
        assert_eq!(
            RepairCommand::from_text(""),
            RepairCommand { steps: vec![] }
        );
        assert_eq!(
            RepairCommand::from_text(CIBUILDWHEEL_DEFAULT_REPAIR),
            RepairCommand::built_in()
        );
        let custom = RepairCommand::from_list([
            "auditwheel repair -w {dest_dir} {wheel}",
            "python check.py {dest_dir}",
        ]);
        assert_eq!(
            custom.steps,
            [
                RepairStep::BuiltIn,
                RepairStep::Shell("python check.py {dest_dir}".to_owned())
            ]
        );
        assert_eq!(
            custom.to_string(),
            "<built-in repair> && python check.py {dest_dir}"
        );
    }

    #[test]
    fn frontend_forms() {
        let f = BuildFrontend::parse("build[uv]; args: --no-isolation -C 'a b'").expect("parses");
        assert_eq!(f.tool, FrontendTool::BuildUv);
        assert_eq!(f.args, ["--no-isolation", "-C", "a b"]);
        assert_eq!(f.to_string(), "build[uv]; args: --no-isolation -C 'a b'");
        assert_eq!(
            BuildFrontend::parse("default").expect("parses").tool,
            FrontendTool::Default
        );
        assert_eq!(
            BuildFrontend::parse("poetry").expect_err("unknown"),
            "unknown build frontend `poetry` (expected one of build, build[uv], pip, uv, default)"
        );
        assert!(BuildFrontend::parse("pip; flags: -v").is_err());
    }

    #[test]
    fn container_engine_create_args_are_a_list() {
        let e = ContainerEngine::parse("podman; create_args: --gpus all --env 'A=b c'")
            .expect("parses");
        assert_eq!(e.kind, EngineChoice::Podman);
        assert_eq!(e.create_args, ["--gpus", "all", "--env", "A=b c"]);
        assert!(!e.disable_host_mount);
        let e = ContainerEngine::parse("docker; create_args: --a; disable_host_mount: true")
            .expect("parses");
        assert_eq!(e.create_args, ["--a"]);
        assert!(e.disable_host_mount);
        assert_eq!(
            e.to_string(),
            "docker; create_args: --a; disable_host_mount: true"
        );
        assert_eq!(
            ContainerEngine::parse("host").expect("parses").kind,
            EngineChoice::Host
        );
        assert!(ContainerEngine::parse("lxc").is_err());
        assert!(ContainerEngine::parse("docker; create_args: 'open").is_err());
        assert!(ContainerEngine::parse("docker; gpus: all").is_err());
    }

    #[test]
    fn config_settings_and_scalars() {
        let settings =
            ConfigSetting::parse_list("setup-args=-Dblas=openblas 'build-dir=my build' editable")
                .expect("parses");
        let shown: Vec<String> = settings.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "setup-args=-Dblas=openblas",
                "build-dir=my build",
                "editable"
            ]
        );
        assert_eq!(Jobs::parse("auto"), Ok(Jobs::Auto));
        assert_eq!(Jobs::parse("3").map(|j| j.to_string()), Ok("3".to_owned()));
        assert!(Jobs::parse("0").is_err());
        assert!(Jobs::parse("-1").is_err());
        assert_eq!(PullPolicy::parse("never"), Ok(PullPolicy::Never));
        assert!(PullPolicy::parse("sometimes").is_err());
        assert_eq!(parse_bool("True"), Ok(true));
        assert!(parse_bool("maybe").is_err());
    }
}
