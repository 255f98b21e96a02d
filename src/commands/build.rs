//! `wheelwright build`: resolves the configuration (the command line is its highest layer),
//! turns it into [`BuildOptions`] — one [`IdentifierBuild`] per selected identifier, with that
//! identifier's overrides applied —, runs the build, reports, and on GitHub Actions sets the
//! step outputs `wheelhouse`, `wheels` and `artifact-name`.

use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};

use crate::build::{self, BuildOptions, BuildOutcome, IdentifierBuild};
use crate::cli::BuildArgs;
use crate::commands::common::load;
use crate::config::values::{EngineChoice, Jobs};
use crate::config::{CliValue, Settings, Source};
use crate::platform::{Arch, Libc};
use crate::ui;

/// The artifact name the Action's `artifact-name` input sets.
pub const ARTIFACT_NAME_ENV: &str = "WHEELWRIGHT_ARTIFACT_NAME";

/// The flags that are configuration options, as the configuration's command-line layer.
#[must_use]
pub fn cli_values(args: &BuildArgs) -> Vec<CliValue> {
    let mut values = Vec::new();
    let mut push = |option: &str, value: String, flag: &str| {
        values.push(CliValue {
            option: option.to_owned(),
            value,
            flag: flag.to_owned(),
        });
    };
    if let Some(dir) = &args.output_dir {
        push("output-dir", dir.clone(), "--output-dir");
    }
    if !args.archs.is_empty() {
        push("archs", args.archs.join(" "), "--archs");
    }
    if let Some(engine) = &args.engine {
        push("container-engine", engine.clone(), "--engine");
    }
    for (arch, image) in [
        (Arch::X86_64, &args.image_x86_64),
        (Arch::I686, &args.image_i686),
        (Arch::Aarch64, &args.image_aarch64),
        (Arch::Ppc64le, &args.image_ppc64le),
        (Arch::S390x, &args.image_s390x),
    ] {
        let Some(image) = image else { continue };
        let flag = format!("--image-{arch}");
        if image.trim().starts_with(Libc::Musl.tag_prefix()) {
            push(&format!("musllinux-{arch}-image"), image.clone(), &flag);
            continue;
        }
        push(&format!("manylinux-{arch}-image"), image.clone(), &flag);
        // One image per architecture: its PyPys too (manylinux images carry both).
        if matches!(arch, Arch::X86_64 | Arch::I686 | Arch::Aarch64) {
            push(
                &format!("manylinux-pypy_{arch}-image"),
                image.clone(),
                &flag,
            );
        }
    }
    let joined = |list: &[String], sep: &str| (!list.is_empty()).then(|| list.join(sep));
    // The options whose flag is `--<option>`, in the configuration's order.
    for (option, value) in [
        ("build", args.build.clone()),
        ("skip", args.skip.clone()),
        ("enable", joined(&args.enable, " ")),
        ("only", args.only.clone()),
        ("before-all", args.before_all.clone()),
        ("before-build", args.before_build.clone()),
        // Each flag is one assignment, its value shell syntax: joined, they are the string form
        // of `environment`.
        ("environment", joined(&args.environment, " ")),
        ("environment-pass", joined(&args.environment_pass, " ")),
        ("jobs", args.jobs.map(|jobs| jobs.to_string())),
        ("pull", args.pull.clone()),
        ("compiler-cache", args.compiler_cache.clone()),
        ("build-frontend", args.build_frontend.clone()),
    ] {
        if let Some(value) = value {
            push(option, value, &format!("--{option}"));
        }
    }
    if !args.config_settings.is_empty() {
        let words: Vec<String> = args
            .config_settings
            .iter()
            .map(|s| shlex::try_quote(s).map_or_else(|_| s.clone(), |q| q.into_owned()))
            .collect();
        push("config-settings", words.join(" "), "--config-setting");
    }
    let test = &args.test;
    for (option, value) in [
        ("test-command", test.test_command.clone()),
        ("before-test", test.before_test.clone()),
        ("test-requires", joined(&test.test_requires, " ")),
        ("test-extras", joined(&test.test_extras, ",")),
        // Each flag is shell words already.
        ("test-sources", joined(&test.test_sources, " ")),
        ("test-skip", args.test_skip.clone()),
    ] {
        if let Some(value) = value {
            push(option, value, &format!("--{option}"));
        }
    }
    for value in &args.test_image {
        // `ARCH=IMAGE` (checked in `options`) or `IMAGE` for every architecture.
        match value.split_once('=') {
            Some((arch, image)) => push(
                &format!("test-{}-image", arch.trim()),
                image.trim().to_owned(),
                "--test-image",
            ),
            None => push("test-image", value.trim().to_owned(), "--test-image"),
        }
    }
    values
}

/// The build of the resolved configuration: the selected identifiers, each with its own
/// options, and the run-wide values; `args` adds what only the command line has.
pub fn build_options(settings: &Settings, args: &BuildArgs) -> Result<BuildOptions> {
    let selected = settings.selected_identifiers()?;
    let mut builds = Vec::new();
    let mut engine: Option<(EngineChoice, String, Source)> = None;
    for identifier in selected {
        let own = settings.for_identifier(&identifier);
        let kind = own.container_engine.value.kind;
        match &engine {
            None => {
                engine = Some((
                    kind,
                    identifier.to_string(),
                    own.container_engine.source.clone(),
                ));
            }
            Some((first, first_id, first_source)) if *first != kind => bail!(
                "container-engine is `{}` for {first_id} ({}) but `{}` for {identifier} ({}): one run uses one engine (overrides may change its create_args)",
                first.as_str(),
                first_source.location(),
                kind.as_str(),
                own.container_engine.source.location()
            ),
            Some(_) => {}
        }
        let command = |c: &crate::config::values::ShellCommand| {
            (!c.is_empty()).then(|| c.as_str().to_owned())
        };
        let test = crate::testing::TestOptions {
            command: command(&own.test_command.value),
            requires: own.test_requires.value.clone(),
            extras: own.test_extras.value.clone(),
            sources: own.test_sources.value.clone(),
            before_test: command(&own.before_test.value),
            timeout: std::time::Duration::from_secs(args.test.test_timeout),
        };
        if let Err(err) = test.check_sources() {
            bail!("{err} ({})", own.test_sources.source.location());
        }
        builds.push(IdentifierBuild {
            test,
            test_image: own
                .test_image
                .value
                .as_ref()
                .map(|image| image.as_str().to_owned()),
            test_skipped: own.test_skipped,
            image: own.image.value.reference.to_string(),
            create_args: own.container_engine.value.create_args.clone(),
            before_all: command(&own.before_all.value),
            before_build: command(&own.before_build.value),
            environment: own
                .environment
                .value
                .assignments
                .iter()
                .map(|a| (a.name.clone(), a.value.clone()))
                .collect(),
            environment_pass: own.environment_pass.value.clone(),
            frontend: own.build_frontend.value.clone(),
            config_settings: own.config_settings.value.clone(),
            repair: own.repair_wheel_command.value.clone(),
            identifier,
        });
    }
    let engine = engine.map(|(kind, _, _)| kind).unwrap_or_default();
    let archs = settings.archs.value.to_string();
    let archs_given = settings.only.is_some()
        || (settings.archs.source != Source::Default
            && !archs
                .split_whitespace()
                .all(|w| w == "auto" || w == "native"));
    let jobs = match settings.jobs.value {
        Jobs::Auto => build::default_jobs(),
        Jobs::Count(n) => n.get() as usize,
    };
    Ok(BuildOptions {
        project_dir: args.project_dir.clone(),
        output_dir: settings.output_dir.value.clone(),
        engine,
        builds,
        only: settings.only.is_some(),
        archs_given,
        jobs,
        keep_container: args.keep_container,
        pull: settings.pull.value,
        dry_run: args.dry_run,
        container_args: args.container_args.clone(),
        pythons: args.pythons.clone(),
        container_binary: args
            .container_binary
            .clone()
            .filter(|p| !p.as_os_str().is_empty()),
        cache_dir: args.cache_dir.clone().filter(|p| !p.as_os_str().is_empty()),
        uv_index_url: args.uv_index_url.clone().filter(|u| !u.trim().is_empty()),
        ccache_dir: args
            .ccache_dir
            .clone()
            .filter(|p| !p.as_os_str().is_empty()),
        compiler_cache: settings.compiler_cache.value,
        timeouts: build::StepTimeouts {
            hook: std::time::Duration::from_secs(args.hook_timeout),
            build: std::time::Duration::from_secs(args.build_timeout),
            repair: std::time::Duration::from_secs(args.repair_timeout),
        },
    })
}

/// Resolves the configuration of a `wheelwright build` command line into [`BuildOptions`].
pub fn options(args: &BuildArgs) -> Result<BuildOptions> {
    crate::testing::standalone::parse_images("--test-image", &args.test_image)
        .map_err(|e| anyhow::anyhow!(e))?;
    let settings = load(
        &args.project_dir,
        args.config_file.as_deref(),
        cli_values(args),
    )?;
    build_options(&settings, args)
}

/// The name of the artifact holding this run's wheels: `WHEELWRIGHT_ARTIFACT_NAME` (the
/// Action's `artifact-name`) if set, else `wheels-<identifier>` for `only`, else
/// `wheels-linux-<arch>[-<arch>…]`.
#[must_use]
pub fn artifact_name(options: &BuildOptions, from_env: Option<String>) -> String {
    if let Some(name) = from_env.filter(|n| !n.trim().is_empty()) {
        return name.trim().to_owned();
    }
    if options.only {
        if let Some(build) = options.builds.first() {
            return format!("wheels-{}", build.identifier);
        }
    }
    let mut arches: Vec<&str> = Vec::new();
    for build in &options.builds {
        let arch = build.identifier.arch.as_str();
        if !arches.contains(&arch) {
            arches.push(arch);
        }
    }
    format!("wheels-linux-{}", arches.join("-"))
}

/// The wheel file names of a run, in build order, each once (reused wheels appear once).
#[must_use]
pub fn wheel_names(outcome: &BuildOutcome) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for build in &outcome.builds {
        if let Some(wheel) = &build.wheel {
            if !names.contains(wheel) {
                names.push(wheel.clone());
            }
        }
    }
    names
}

fn set_outputs(options: &BuildOptions, outcome: &BuildOutcome) -> Result<()> {
    let wheels = serde_json::to_string(&wheel_names(outcome))?;
    let name = artifact_name(options, std::env::var(ARTIFACT_NAME_ENV).ok());
    for (key, value) in [
        ("wheelhouse", outcome.output_dir.display().to_string()),
        ("wheels", wheels),
        ("artifact-name", name),
    ] {
        ui::github::set_output(key, &value).context("cannot write `$GITHUB_OUTPUT`")?;
    }
    Ok(())
}

/// Runs `wheelwright build`.
pub fn run(args: &BuildArgs) -> Result<ExitCode> {
    let options = options(args)?;
    // An interrupt waits for this run to record and report what it interrupted.
    let _cooperation = crate::interrupt::cooperate();
    let outcome = build::run(&options)?;
    if args.json {
        ui::data(&format!("{}\n", serde_json::to_string_pretty(&outcome)?));
    }
    if outcome.dry_run {
        if !args.json {
            let ids: Vec<&str> = outcome
                .builds
                .iter()
                .map(|b| b.identifier.as_str())
                .collect();
            ui::data(&format!("{}\n", ids.join("\n")));
        }
        return Ok(ExitCode::SUCCESS);
    }
    ui::message(&format!(
        "\nwheels in `{}` (logs in `{}`):\n{}",
        outcome.output_dir.display(),
        outcome.logs_dir.display(),
        outcome.table().trim_end()
    ));
    if let Some(stages) = outcome.stage_table() {
        ui::message(&format!("\n{}", stages.trim_end()));
    }
    for b in &outcome.builds {
        if let Some(test) = b.test.as_ref().filter(|t| t.status.blocks_publish()) {
            let mut text = format!(
                "\n{} test {}: {}",
                b.identifier,
                test.cell(),
                test.message.clone().unwrap_or_default()
            );
            if let Some(log) = &test.log {
                text.push_str(&format!("\n  log: {}", log.display()));
            }
            if !test.tail.is_empty() {
                text.push_str("\n  last lines:");
                for line in &test.tail {
                    text.push_str(&format!("\n  | {line}"));
                }
            }
            ui::message(&text);
        }
    }
    for (identifier, why) in outcome.unshown_reasons() {
        ui::message(&format!("\n{identifier}: {why}"));
    }
    if let Err(err) = ui::github::append_step_summary(&outcome.markdown()) {
        ui::message(&format!("warning: cannot write the job summary: {err}"));
    }
    set_outputs(&options, &outcome)?;
    if crate::interrupt::requested() {
        ui::error(&format!(
            "{}: {} of {} builds did not finish",
            crate::interrupt::describe(),
            outcome.count(build::Status::Interrupted),
            outcome.builds.len()
        ));
        // `main` exits with 128 + the signal.
        return Ok(ExitCode::from(1));
    }
    let failed = outcome.failed();
    if failed > 0 {
        ui::error(&format!(
            "{failed} of {} builds failed",
            outcome.builds.len()
        ));
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use clap::Parser as _;

    use super::*;
    use crate::cli::{Cli, Command};
    use crate::config::ResolveInputs;
    use crate::config::values::PullPolicy;
    use crate::config::values::{FrontendTool, RepairStep};

    fn args(argv: &[&str]) -> BuildArgs {
        let cli = Cli::try_parse_from(std::iter::once("wheelwright").chain(argv.iter().copied()))
            .expect("parses");
        match cli.command {
            Command::Build(args) => *args,
            other => panic!("not build: {other:?}"),
        }
    }

    /// Resolves like `wheelwright build` does, with an injected environment (hermetic) on an
    /// x86_64 host, and maps the result.
    fn resolve(
        pyproject: &str,
        env: &[(&str, &str)],
        argv: &[&str],
    ) -> (tempfile::TempDir, Result<BuildOptions>) {
        let dir = tempfile::tempdir().expect("tempdir");
        fs_err::write(dir.path().join("pyproject.toml"), pyproject).expect("write");
        let mut full = vec!["build", dir.path().to_str().expect("utf-8")];
        full.extend(argv);
        let args = args(&full);
        let inputs = ResolveInputs {
            project_dir: dir.path().to_path_buf(),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<BTreeMap<_, _>>(),
            cli: cli_values(&args),
            host_arch: Arch::X86_64,
            config_file: None,
        };
        let options = Settings::resolve(&inputs)
            .map_err(anyhow::Error::from)
            .and_then(|settings| build_options(&settings, &args));
        (dir, options)
    }

    /// [`resolve`] that must succeed.
    fn resolved(
        pyproject: &str,
        env: &[(&str, &str)],
        argv: &[&str],
    ) -> (tempfile::TempDir, BuildOptions) {
        let (dir, options) = resolve(pyproject, env, argv);
        (dir, options.expect("maps"))
    }

    /// [`resolve`] that must fail: its error.
    fn resolve_error(pyproject: &str, env: &[(&str, &str)], argv: &[&str]) -> anyhow::Error {
        let (_dir, options) = resolve(pyproject, env, argv);
        options.expect_err("an error")
    }

    fn build<'a>(options: &'a BuildOptions, id: &str) -> &'a IdentifierBuild {
        options
            .builds
            .iter()
            .find(|b| b.identifier.to_string() == id)
            .unwrap_or_else(|| panic!("{id} not selected"))
    }

    fn ids(options: &BuildOptions) -> Vec<String> {
        options
            .builds
            .iter()
            .map(|b| b.identifier.to_string())
            .collect()
    }

    #[test]
    fn test_settings_reach_each_identifier() {
        let pyproject = r#"
[tool.cibuildwheel]
build = "cp311-* cp312-*"
archs = "x86_64 i686"
test-command = "pytest {project}/tests"
test-requires = ["pytest"]

[[tool.cibuildwheel.overrides]]
select = "cp312-*"
test-command = "python -c 'import demo'"
"#;
        let (_dir, options) = resolved(
            pyproject,
            &[],
            &[
                "--test-requires",
                "pytest hypothesis",
                "--test-extras",
                "a,b",
                "--test-sources",
                "tests 'data dir'",
                "--before-test",
                "pip install -r requirements-test.txt",
                "--test-skip",
                "*-manylinux_i686",
                "--test-image",
                "debian:12",
                "--test-image",
                "i686=my/i386",
                "--test-timeout",
                "60",
            ],
        );
        let cp = build(&options, "cp311-manylinux_x86_64");
        assert_eq!(cp.test.command.as_deref(), Some("pytest {project}/tests"));
        assert_eq!(cp.test.requires, ["pytest", "hypothesis"], "the flag wins");
        assert_eq!(cp.test.extras, ["a", "b"]);
        assert_eq!(cp.test.sources, ["tests", "data dir"]);
        assert_eq!(
            cp.test.before_test.as_deref(),
            Some("pip install -r requirements-test.txt")
        );
        assert_eq!(cp.test.timeout, std::time::Duration::from_secs(60));
        assert_eq!(cp.test_image.as_deref(), Some("debian:12"));
        assert!(!cp.test_skipped);
        let other = build(&options, "cp312-manylinux_x86_64");
        assert_eq!(
            other.test.command.as_deref(),
            Some("python -c 'import demo'"),
            "overrides apply"
        );
        let i686 = build(&options, "cp311-manylinux_i686");
        assert_eq!(i686.test_image.as_deref(), Some("my/i386"), "per arch wins");
        assert!(i686.test_skipped);

        let err = resolve_error(pyproject, &[], &["--test-sources", "../x"]).to_string();
        assert!(
            err.contains("test-sources: `../x` must be a relative path inside the project"),
            "{err}"
        );
    }

    #[test]
    fn every_layer_reaches_the_build_options() {
        let pyproject = r#"
[tool.cibuildwheel]
build = "cp31{0,1}-*"
skip = "*-musllinux_*"
archs = "x86_64"
build-frontend = "pip"
before-all = "echo from-cibuildwheel"
repair-wheel-command = "cp {wheel} {dest_dir}"

[tool.wheelwright]
before-all = "echo from-wheelwright"
jobs = 3
pull = "never"
container-engine = { name = "podman", create-args = ["--network=host"] }
"#;
        let env = [
            ("CIBW_BEFORE_BUILD", "echo env-cibw"),
            ("WHEELWRIGHT_BEFORE_BUILD", "echo env-wheelwright"),
            // An empty Action input counts as unset: the variable above stays.
            ("INPUT_BEFORE_BUILD", ""),
            ("INPUT_CONFIG_SETTINGS", "from=input"),
            ("CIBW_ENVIRONMENT", "A=cibw"),
            ("INPUT_ENVIRONMENT", "A=input B=\"two words\""),
            ("INPUT_OUTPUT_DIR", "from-input"),
        ];
        let (_dir, options) = resolved(
            pyproject,
            &env,
            &["--config-setting", "from=flag", "-o", "from-flag"],
        );
        assert_eq!(
            ids(&options),
            ["cp310-manylinux_x86_64", "cp311-manylinux_x86_64"]
        );
        assert_eq!(options.jobs, 3);
        assert_eq!(options.pull, PullPolicy::Never);
        assert_eq!(options.engine, EngineChoice::Podman);
        assert_eq!(options.output_dir, std::path::PathBuf::from("from-flag"));
        assert!(!options.only);
        for b in &options.builds {
            assert_eq!(b.frontend.tool, FrontendTool::Pip, "[tool.cibuildwheel]");
            assert_eq!(b.before_all.as_deref(), Some("echo from-wheelwright"));
            assert_eq!(b.before_build.as_deref(), Some("echo env-wheelwright"));
            assert_eq!(b.create_args, ["--network=host"]);
            assert_eq!(
                b.config_settings
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>(),
                ["from=flag"]
            );
            assert_eq!(
                b.environment,
                [
                    ("A".to_owned(), "input".to_owned()),
                    ("B".to_owned(), "\"two words\"".to_owned())
                ]
            );
            assert_eq!(
                b.repair.steps,
                [RepairStep::Shell("cp {wheel} {dest_dir}".to_owned())],
                "a custom repair command is honoured"
            );
            assert!(b.image.starts_with("quay.io/pypa/manylinux_2_28_x86_64:"));
        }
    }

    #[test]
    fn an_override_changes_one_identifier_only() {
        let pyproject = r#"
[tool.wheelwright]
build = "cp310-* cp311-* cp312-*"
archs = "x86_64"
container-engine = "podman"
before-build = "echo all"
environment = "A=1"

[[tool.wheelwright.overrides]]
select = "cp311-manylinux_*"
before-build = "echo eleven"
environment = "B=2"
inherit.environment = "append"
build-frontend = "build; args: --no-isolation"
manylinux-x86_64-image = "localhost/eleven:1"
container-engine = "podman; create_args: --label=eleven"
repair-wheel-command = ""

[[tool.cibuildwheel.overrides]]
select = "cp312-musllinux_*"
config-settings = "k=v"
"#;
        let (_dir, options) = resolved(pyproject, &[], &[]);
        assert_eq!(options.engine, EngineChoice::Podman);
        let eleven = build(&options, "cp311-manylinux_x86_64");
        assert_eq!(eleven.before_build.as_deref(), Some("echo eleven"));
        assert_eq!(
            eleven.environment,
            [
                ("A".to_owned(), "1".to_owned()),
                ("B".to_owned(), "2".to_owned())
            ]
        );
        assert_eq!(eleven.frontend.args, ["--no-isolation"]);
        assert_eq!(eleven.image, "localhost/eleven:1");
        assert_eq!(eleven.create_args, ["--label=eleven"]);
        assert!(eleven.repair.is_skipped());
        for other in [
            "cp310-manylinux_x86_64",
            "cp312-manylinux_x86_64",
            "cp311-musllinux_x86_64",
        ] {
            let b = build(&options, other);
            assert_eq!(b.before_build.as_deref(), Some("echo all"), "{other}");
            assert_eq!(b.environment, [("A".to_owned(), "1".to_owned())], "{other}");
            assert!(b.frontend.args.is_empty(), "{other}");
            assert_ne!(b.image, "localhost/eleven:1", "{other}");
            assert!(b.create_args.is_empty(), "{other}");
            assert_eq!(b.repair.steps, [RepairStep::BuiltIn], "{other}");
        }
        assert!(
            build(&options, "cp311-musllinux_x86_64")
                .image
                .contains("musllinux_1_2_x86_64"),
        );
        assert_eq!(
            build(&options, "cp312-musllinux_x86_64").config_settings[0].to_string(),
            "k=v"
        );
        assert!(
            build(&options, "cp312-manylinux_x86_64")
                .config_settings
                .is_empty()
        );
    }

    #[test]
    fn image_flags_set_both_image_options_of_their_architecture() {
        let (_dir, options) = resolved(
            "[tool.wheelwright]\narchs = \"x86_64 i686\"\nenable = \"pypy-legacy\"\nbuild = \"cp39-* pp37-*\"\n",
            &[],
            &[
                "--image-x86_64",
                "localhost/amd64:1",
                "--image-i686",
                "musllinux_1_2",
            ],
        );
        assert_eq!(
            build(&options, "cp39-manylinux_x86_64").image,
            "localhost/amd64:1"
        );
        assert_eq!(
            build(&options, "pp37-manylinux_x86_64").image,
            "localhost/amd64:1"
        );
        assert!(
            build(&options, "cp39-musllinux_i686")
                .image
                .contains("musllinux_1_2_i686")
        );
        assert!(
            build(&options, "cp39-manylinux_i686")
                .image
                .contains("manylinux_2_28_i686")
        );
    }

    #[test]
    fn only_and_archs_slices() {
        let pyproject = "[tool.wheelwright]\nskip = \"*-musllinux_*\"\n";
        let (_dir, options) = resolved(pyproject, &[], &["--only", "cp313-manylinux_i686"]);
        assert!(options.only);
        assert_eq!(ids(&options), ["cp313-manylinux_i686"]);
        assert_eq!(artifact_name(&options, None), "wheels-cp313-manylinux_i686");
        let (_dir, options) = resolved(pyproject, &[("INPUT_ARCHS", "i686")], &[]);
        assert!(
            ids(&options)
                .iter()
                .all(|id| id.ends_with("-manylinux_i686"))
        );
        assert_eq!(artifact_name(&options, None), "wheels-linux-i686");
        assert_eq!(
            artifact_name(&options, Some("mine".to_owned())),
            "mine",
            "WHEELWRIGHT_ARTIFACT_NAME wins"
        );
        let (_dir, options) = resolved(pyproject, &[], &["--archs", "x86_64,i686"]);
        assert_eq!(
            artifact_name(&options, Some(String::new())),
            "wheels-linux-x86_64-i686"
        );
    }

    #[test]
    fn architectures_count_as_asked_for_unless_auto() {
        let given = |env: &[(&str, &str)], argv: &[&str]| {
            let (_dir, options) = resolved("[tool.wheelwright]\nbuild = \"cp312-*\"\n", env, argv);
            options.archs_given
        };
        assert!(!given(&[], &["--engine", "host"]));
        assert!(!given(&[("INPUT_ARCHS", "auto")], &[]));
        assert!(!given(&[], &["--archs", "native"]));
        assert!(given(&[], &["--archs", "x86_64,i686"]));
        assert!(given(&[("CIBW_ARCHS", "i686")], &[]));
        assert!(given(&[], &["--only", "cp312-manylinux_i686"]));
    }

    #[test]
    fn one_engine_per_run() {
        let pyproject = r#"
[tool.wheelwright]
build = "cp310-* cp311-*"
archs = "x86_64"
skip = "*-musllinux_*"
container-engine = "podman"

[[tool.wheelwright.overrides]]
select = "cp311-*"
container-engine = "docker"
"#;
        let err = resolve_error(pyproject, &[], &[]).to_string();
        assert!(
            err.starts_with("container-engine is `podman` for cp310-manylinux_x86_64 (`")
                && err.contains("but `docker` for cp311-manylinux_x86_64 (`"),
            "{err}"
        );
    }

    #[test]
    fn flags_are_the_highest_layer_and_keep_their_names_in_errors() {
        let err = format!(
            "{:#}",
            resolve_error(
                "[tool.wheelwright]\narchs = \"x86_64\"\n",
                &[("WHEELWRIGHT_ARCHS", "i686")],
                &["--archs", "x86_64,sparc"],
            )
        );
        assert!(
            err.starts_with("`--archs`: invalid `archs`: unknown architecture `sparc`"),
            "{err}"
        );
        let (_dir, options) = resolved("", &[], &["--jobs", "2", "--pull", "always"]);
        assert_eq!((options.jobs, options.pull), (2, PullPolicy::Always));
    }
}
