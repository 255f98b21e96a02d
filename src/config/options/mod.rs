//! The option table: every option's name, type, scope, default and where it may be set, and
//! the parsing of one option value from TOML or from a string (environment variables, Action
//! inputs, the command line).
//!
//! One table drives validation (unknown keys and their suggestions), the environment variable
//! names, `wheelwright config --show` and the README's options table (a unit test checks that
//! every option is documented there).

use crate::config::image::default_short_name;
use crate::config::values::CIBUILDWHEEL_DEFAULT_REPAIR;
use crate::platform::Arch;
use crate::platform::Libc;

mod parse;
mod value;

pub use parse::parse_text;
pub(crate) use parse::{NodeError, parse_node};
pub use value::{Inherit, OptionValue};

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

#[cfg(test)]
mod tests;
