//! Unit tests of resolution: precedence, overrides and inherit, selection, errors.

use std::collections::BTreeMap;

use super::*;
use crate::config::options::find;

struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new(pyproject: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        if !pyproject.is_empty() {
            fs_err::write(dir.path().join("pyproject.toml"), pyproject).expect("write");
        }
        Project { dir }
    }

    fn inputs(&self, env: &[(&str, &str)]) -> ResolveInputs {
        ResolveInputs {
            project_dir: self.dir.path().to_path_buf(),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<BTreeMap<_, _>>(),
            cli: Vec::new(),
            host_arch: Arch::X86_64,
            config_file: None,
        }
    }

    fn resolve(&self, env: &[(&str, &str)]) -> Settings {
        Settings::resolve(&self.inputs(env)).expect("resolves")
    }

    fn error(&self, env: &[(&str, &str)]) -> String {
        let err = Settings::resolve(&self.inputs(env)).expect_err("must fail");
        let text = err.to_string();
        assert!(!text.contains('\n'), "one line: {text}");
        text.replace(&self.dir.path().display().to_string(), "[DIR]")
    }
}

fn id(text: &str) -> Identifier {
    text.parse().expect(text)
}

fn names(ids: &[Identifier]) -> Vec<String> {
    ids.iter().map(ToString::to_string).collect()
}

fn global(settings: &Settings, name: &str) -> (String, String) {
    let value = settings.option(find(name).expect(name), None);
    (value.value.to_string(), value.source.to_string())
}

fn for_id(settings: &Settings, name: &str, identifier: &str) -> (String, String) {
    let value = settings.option(find(name).expect(name), Some(&id(identifier)));
    (value.value.to_string(), value.source.to_string())
}

const LAYERED: &str = r#"
[tool.cibuildwheel]
before-build = "from-cibw"

[tool.cibuildwheel.linux]
before-build = "from-cibw-linux"

[tool.wheelwright]
before-build = "from-wheelwright"
"#;

#[test]
fn precedence_runs_from_defaults_to_the_command_line() {
    let project = Project::new("");
    assert_eq!(
        global(&project.resolve(&[]), "before-build"),
        (String::new(), "default".to_owned())
    );

    let project = Project::new(&LAYERED.replace(
        "[tool.wheelwright]\nbefore-build = \"from-wheelwright\"",
        "",
    ));
    let settings = project.resolve(&[]);
    let (value, source) = global(&settings, "before-build");
    assert_eq!(value, "from-cibw-linux");
    assert!(
        source.ends_with("pyproject.toml:6 [tool.cibuildwheel.linux]"),
        "{source}"
    );

    let project = Project::new(LAYERED);
    let (value, source) = global(&project.resolve(&[]), "before-build");
    assert_eq!(value, "from-wheelwright");
    assert!(source.ends_with(":9 [tool.wheelwright]"), "{source}");

    let mut env = vec![("CIBW_BEFORE_BUILD", "from-CIBW")];
    assert_eq!(
        global(&project.resolve(&env), "before-build"),
        ("from-CIBW".to_owned(), "env CIBW_BEFORE_BUILD".to_owned())
    );
    env.push(("CIBW_BEFORE_BUILD_LINUX", "from-CIBW-linux"));
    assert_eq!(
        global(&project.resolve(&env), "before-build").1,
        "env CIBW_BEFORE_BUILD_LINUX"
    );
    env.push(("WHEELWRIGHT_BEFORE_BUILD", "from-WHEELWRIGHT"));
    assert_eq!(
        global(&project.resolve(&env), "before-build").1,
        "env WHEELWRIGHT_BEFORE_BUILD"
    );
    env.push(("INPUT_BEFORE_BUILD", "from-input"));
    assert_eq!(
        global(&project.resolve(&env), "before-build"),
        (
            "from-input".to_owned(),
            "Action input INPUT_BEFORE_BUILD".to_owned()
        )
    );
    let mut inputs = project.inputs(&env);
    inputs.cli.push(CliValue {
        option: "before-build".to_owned(),
        value: "from-cli".to_owned(),
        flag: "--before-build".to_owned(),
    });
    let settings = Settings::resolve(&inputs).expect("resolves");
    assert_eq!(
        global(&settings, "before-build"),
        (
            "from-cli".to_owned(),
            "command line --before-build".to_owned()
        )
    );
}

#[test]
fn empty_inputs_are_unset_and_hyphenated_input_names_work() {
    let project = Project::new("[tool.wheelwright]\narchs = \"i686\"\n");
    let settings = project.resolve(&[("INPUT_ARCHS", ""), ("INPUT_BEFORE-BUILD", "make")]);
    assert_eq!(global(&settings, "archs").0, "i686");
    assert_eq!(
        global(&settings, "before-build"),
        (
            "make".to_owned(),
            "Action input INPUT_BEFORE-BUILD".to_owned()
        )
    );
    // An empty CIBW_ value is a value for commands (cibuildwheel), but not for archs.
    let settings = project.resolve(&[("CIBW_ARCHS", " "), ("CIBW_BEFORE_BUILD", "")]);
    assert_eq!(global(&settings, "archs").0, "i686");
    assert_eq!(global(&settings, "before-build").1, "env CIBW_BEFORE_BUILD");
}

const OVERRIDES: &str = r#"
[tool.cibuildwheel]
before-all = "yum install -y zlib-devel"
environment = { A = "1" }
test-requires = ["pytest"]
repair-wheel-command = ""

[[tool.cibuildwheel.overrides]]
select = "*-musllinux*"
before-all = "apk add zlib-dev"

[[tool.cibuildwheel.overrides]]
select = ["cp39-*", "cp310-*"]
inherit.environment = "append"
environment = { B = "2" }
inherit.test-requires = "prepend"
test-requires = "numpy<2"

[[tool.cibuildwheel.overrides]]
select = "cp310-*"
inherit.before-all = "append"
before-all = ["echo one", "echo two"]
inherit.environment = "none"
environment = "C=3"

[[tool.wheelwright.overrides]]
select = "cp3{9,10}-manylinux_i686"
inherit.repair-wheel-command = "append"
repair-wheel-command = "check {wheel}"
"#;

#[test]
fn overrides_replace_append_and_prepend() {
    let settings = Project::new(OVERRIDES).resolve(&[]);
    let cp39 = settings.for_identifier(&id("cp39-manylinux_x86_64"));
    assert_eq!(cp39.before_all.to_string(), "yum install -y zlib-devel");
    // append: earlier value first, source is the override, the earlier one is remembered
    assert_eq!(cp39.environment.to_string(), r#"A="1" B="2""#);
    assert!(matches!(
        cp39.environment.source,
        Source::Override { index: 2, .. }
    ));
    assert!(matches!(
        cp39.environment.inherited.as_slice(),
        [Source::Pyproject { line: 4, .. }]
    ));
    // prepend
    assert_eq!(*cp39.test_requires, ["numpy<2", "pytest"]);
    // none: replaces
    let cp310 = settings.for_identifier(&id("cp310-musllinux_x86_64"));
    assert_eq!(cp310.environment.to_string(), "C=3");
    assert!(cp310.environment.inherited.is_empty());
    // overrides apply in order and see the earlier overrides' results
    assert_eq!(
        cp310.before_all.to_string(),
        "apk add zlib-dev && echo one && echo two"
    );
    assert_eq!(
        cp310.before_all.inherited.len(),
        1,
        "{:?}",
        cp310.before_all.inherited
    );
    // untouched identifiers keep the global values
    let cp312 = settings.for_identifier(&id("cp312-manylinux_x86_64"));
    assert_eq!(cp312.environment.to_string(), r#"A="1""#);
    assert_eq!(*cp312.test_requires, ["pytest"]);
    assert!(cp312.repair_wheel_command.is_skipped());
    // wheelwright overrides come after cibuildwheel's and may append to an empty repair
    let i686 = settings.for_identifier(&id("cp39-manylinux_i686"));
    assert_eq!(i686.repair_wheel_command.to_string(), "check {wheel}");
    // the global view has no overrides
    assert_eq!(global(&settings, "environment").0, r#"A="1""#);
}

#[test]
fn environment_variables_beat_overrides_like_cibuildwheel() {
    let settings = Project::new(OVERRIDES).resolve(&[("CIBW_BEFORE_ALL", "true")]);
    assert_eq!(
        for_id(&settings, "before-all", "cp310-musllinux_x86_64"),
        ("true".to_owned(), "env CIBW_BEFORE_ALL".to_owned())
    );
}

#[test]
fn appending_to_the_built_in_repair_keeps_it() {
    let settings = Project::new(
        "[[tool.cibuildwheel.overrides]]\nselect = \"*\"\ninherit.repair-wheel-command = \"append\"\nrepair-wheel-command = \"twine check {dest_dir}/*\"\n",
    )
    .resolve(&[]);
    let repair = settings
        .for_identifier(&id("cp312-manylinux_x86_64"))
        .repair_wheel_command;
    assert_eq!(
        repair.to_string(),
        "<built-in repair> && twine check {dest_dir}/*"
    );
}

#[test]
fn archs_requires_python_and_enable_choose_the_identifiers() {
    let project = Project::new(
        "[project]\nname = \"demo\"\nrequires-python = \">=3.10, <3.13\"\n[tool.cibuildwheel]\narchs = \"auto\"\nskip = \"*-musllinux_*\"\n",
    );
    let settings = project.resolve(&[]);
    assert_eq!(settings.project_name.as_deref(), Some("demo"));
    assert_eq!(
        names(&candidate_identifiers(&settings)),
        [
            "cp310-manylinux_x86_64",
            "cp311-manylinux_x86_64",
            "cp312-manylinux_x86_64",
            "cp310-manylinux_i686",
            "cp311-manylinux_i686",
            "cp312-manylinux_i686",
        ]
    );
    // CIBW_ENABLE adds to the TOML value; pp310–pp312 are inside requires-python.
    let project = Project::new(
        "[project]\nrequires-python = \">=3.10, <3.13\"\n[tool.cibuildwheel]\narchs = \"x86_64\"\nbuild = \"pp*\"\nenable = [\"pypy\"]\n",
    );
    assert_eq!(
        names(&candidate_identifiers(&project.resolve(&[]))),
        ["pp311-manylinux_x86_64", "pp312-manylinux_x86_64"]
    );
    let settings = project.resolve(&[("CIBW_ENABLE", "pypy-eol")]);
    assert_eq!(
        names(&candidate_identifiers(&settings)),
        [
            "pp310-manylinux_x86_64",
            "pp311-manylinux_x86_64",
            "pp312-manylinux_x86_64"
        ]
    );
    assert_eq!(global(&settings, "enable").0, "pypy pypy-eol");
    // CIBW_PROJECT_REQUIRES_PYTHON replaces [project] requires-python
    let settings = project.resolve(&[
        ("CIBW_PROJECT_REQUIRES_PYTHON", "==3.11.*"),
        ("CIBW_ENABLE", "all"),
    ]);
    assert_eq!(
        names(&candidate_identifiers(&settings)),
        ["pp311-manylinux_x86_64"]
    );
}

#[test]
fn requires_python_counts_a_minor_version_as_its_last_patch() {
    let r = RequiresPython::parse(">=3.9.1").expect("valid");
    assert!(r.allows(&PythonTag::parse("cp39").expect("tag")));
    assert!(!r.allows(&PythonTag::parse("cp38").expect("tag")));
    let r = RequiresPython::parse("~=3.10").expect("valid");
    assert!(r.allows(&PythonTag::parse("cp314t").expect("tag")));
    assert!(!r.allows(&PythonTag::parse("pp39").expect("tag")));
    let err = RequiresPython::parse(">=three").expect_err("invalid");
    assert!(
        err.starts_with("`>=three` is not a PEP 440 specifier set"),
        "{err}"
    );
}

#[test]
fn defaults_build_the_documented_set() {
    let settings = Project::new("").resolve(&[]);
    let selected = names(&candidate_identifiers(&settings));
    // cp39–cp315, cp314t, cp315t on manylinux and musllinux for x86_64 and i686.
    assert_eq!(selected.len(), 2 * (9 + 9), "{selected:?}");
    assert!(selected.contains(&"cp315t-manylinux_i686".to_owned()));
    assert_eq!(selected[0], "cp39-manylinux_x86_64");
    assert!(selected.contains(&"cp314t-musllinux_i686".to_owned()));
    assert!(
        !selected
            .iter()
            .any(|s| s.starts_with("pp") || s.starts_with("cp313t"))
    );
    let settings = Project::new("[tool.cibuildwheel]\nenable = [\"cpython-freethreading\", \"cpython-eol\"]\narchs = [\"native\"]\nbuild = \"cp3{6,13t}-*\"\n").resolve(&[]);
    assert_eq!(
        names(&candidate_identifiers(&settings)),
        [
            "cp36-manylinux_x86_64",
            "cp313t-manylinux_x86_64",
            "cp36-musllinux_x86_64",
            "cp313t-musllinux_x86_64"
        ]
    );
}

#[test]
fn only_picks_one_identifier_regardless_of_build_skip_archs_enable() {
    let project = Project::new(
        "[tool.cibuildwheel]\nbuild = \"cp312-*\"\nskip = \"pp*\"\narchs = \"x86_64\"\n",
    );
    let settings = project.resolve(&[("INPUT_ONLY", "pp37-manylinux_i686")]);
    assert_eq!(
        names(&candidate_identifiers(&settings)),
        ["pp37-manylinux_i686"]
    );
    let project = Project::new("[project]\nrequires-python = \">=3.9\"\n");
    let settings = project.resolve(&[("WHEELWRIGHT_ONLY", "cp38-manylinux_x86_64")]);
    let err = settings
        .selected_identifiers()
        .expect_err("excluded")
        .to_string();
    assert!(
        err.starts_with("nothing to build: only `cp38-manylinux_x86_64` (environment variable `WHEELWRIGHT_ONLY`) is excluded by requires-python `>=3.9`"),
        "{err}"
    );
    let err = project.error(&[("INPUT_ONLY", "cp27-manylinux_x86_64")]);
    assert!(err.starts_with("Action input `INPUT_ONLY`: invalid `only`: wheelwright does not build `cp27-manylinux_x86_64`"), "{err}");
}

#[test]
fn images_follow_the_identifier() {
    let project = Project::new(
        "[tool.cibuildwheel.linux]\nmanylinux-x86_64-image = \"manylinux2014\"\nmanylinux-pypy_x86_64-image = \"localhost/pypy:1\"\n[tool.wheelwright]\ntest-image = \"localhost/runtime:1\"\ntest-i686-image = \"localhost/runtime-i386:1\"\n",
    );
    let settings = project.resolve(&[("CIBW_MUSLLINUX_I686_IMAGE", "localhost/musl:2")]);
    /// The build image's reference and the test image of an identifier.
    fn images(own: &IdentifierSettings) -> (&str, Option<&str>) {
        (
            own.image.reference.as_str(),
            own.test_image.as_ref().map(ContainerImage::as_str),
        )
    }
    let cp = settings.for_identifier(&id("cp39-manylinux_x86_64"));
    assert_eq!(cp.image_option, "manylinux-x86_64-image");
    assert_eq!(
        images(&cp),
        (
            "quay.io/pypa/manylinux2014_x86_64:2026.08.15-1",
            Some("localhost/runtime:1")
        )
    );
    let pp = settings.for_identifier(&id("pp37-manylinux_x86_64"));
    assert_eq!(pp.image_option, "manylinux-pypy_x86_64-image");
    assert_eq!(pp.image.reference.as_str(), "localhost/pypy:1");
    let i686 = settings.for_identifier(&id("cp39-manylinux_i686"));
    assert_eq!(
        images(&i686),
        (
            "quay.io/pypa/manylinux_2_28_i686:2026.08.15-1",
            Some("localhost/runtime-i386:1")
        )
    );
    let musl = settings.for_identifier(&id("cp39-musllinux_i686"));
    assert_eq!(musl.image.reference.as_str(), "localhost/musl:2");
    assert_eq!(
        musl.image.source.to_string(),
        "env CIBW_MUSLLINUX_I686_IMAGE"
    );
}

#[test]
fn other_platform_tables_are_ignored_and_unsupported_options_warn() {
    let project = Project::new(
        "[tool.cibuildwheel]\nbuild-verbosity = 1\nxbuild-tools = []\n[tool.cibuildwheel.macos]\narchs = \"arm64\"\nwhatever = 1\n[tool.cibuildwheel.windows]\n[[tool.cibuildwheel.overrides]]\nselect = \"*-win32\"\ntest-groups = [\"x\"]\n",
    );
    let settings = project.resolve(&[
        ("CIBW_DEBUG_KEEP_CONTAINER", "1"),
        ("CIBW_BEFORE_BUILD_MACOS", "brew install x"),
        ("CIBW_ARCHS_WINDOWS", "AMD64"),
    ]);
    let warnings: Vec<String> = settings
        .warnings
        .iter()
        .map(|w| w.replace(&project.dir.path().display().to_string(), "[DIR]"))
        .collect();
    assert_eq!(
        warnings,
        [
            "`[DIR]/pyproject.toml`:2: [tool.cibuildwheel] `build-verbosity` is not supported by wheelwright and is ignored",
            "`[DIR]/pyproject.toml`:10: [tool.cibuildwheel.overrides] `test-groups` is not supported by wheelwright and is ignored",
            "environment variable `CIBW_DEBUG_KEEP_CONTAINER` (cibuildwheel's `debug-keep-container`) is not supported by wheelwright and is ignored",
        ]
    );
    assert_eq!(global(&settings, "before-build").1, "default");
    assert_eq!(global(&settings, "archs").0, "auto");
}

#[test]
fn bad_files_are_one_line_errors_naming_file_line_and_key() {
    let cases: &[(&str, &str)] = &[
        (
            "[tool.cibuildwheel]\ntest-comand = \"pytest\"\n",
            "`[DIR]/pyproject.toml`:2:1: unknown key `test-comand` in [tool.cibuildwheel] (did you mean `test-command`?)",
        ),
        (
            "[tool.wheelwright]\nbefore-build = 3\n",
            "`[DIR]/pyproject.toml`:2:16: `before-build` in [tool.wheelwright] must be a string or an array of strings, not an integer",
        ),
        (
            "[tool.cibuildwheel]\nenvironment = { CFLAGS = true }\n",
            "`[DIR]/pyproject.toml`:2:26: `environment.CFLAGS` in [tool.cibuildwheel] must be a string, not a boolean",
        ),
        (
            "[project]\nrequires-python = >=3.9\n",
            "`[DIR]/pyproject.toml`:2:20: invalid TOML: ",
        ),
        (
            "[tool.cibuildwheel]\narchs = [\"x86_64\", \"sparc\"]\n",
            "`[DIR]/pyproject.toml`:2:9: invalid `archs`: unknown architecture `sparc`",
        ),
        (
            "[tool.cibuildwheel.linux]\nmanylinux-x86_64-image = \"quay.io/x; rm -rf /\"\n",
            "`[DIR]/pyproject.toml`:2:26: invalid `manylinux-x86_64-image`: image reference `quay.io/x; rm -rf /` contains `;`",
        ),
        (
            "[tool.cibuildwheel]\njobs = 4\n",
            "`[DIR]/pyproject.toml`:2:1: unknown key `jobs` in [tool.cibuildwheel] (`jobs` is a wheelwright option: set it in [tool.wheelwright])",
        ),
        (
            "[[tool.wheelwright.overrides]]\nselect = \"cp39-*\"\narchs = \"i686\"\n",
            "`[DIR]/pyproject.toml`:3:1: unknown key `archs` in [[tool.wheelwright.overrides]] (`archs` applies to the whole run and cannot be set in an override)",
        ),
        (
            "[[tool.cibuildwheel.overrides]]\nbefore-all = \"x\"\n",
            "`[DIR]/pyproject.toml`:1:1: invalid `select`: every [[tool.cibuildwheel.overrides]] entry needs `select`",
        ),
        (
            "[[tool.cibuildwheel.overrides]]\nselect = \"*\"\ninherit.build-frontend = \"append\"\n",
            "`[DIR]/pyproject.toml`:3:26: invalid `inherit.build-frontend`: `build-frontend` has a single value and cannot be appended to or prepended to",
        ),
        (
            "[[tool.cibuildwheel.overrides]]\nselect = \"*\"\ninherit.enviroment = \"append\"\n",
            "`[DIR]/pyproject.toml`:3:9: unknown key `inherit.enviroment` in [[tool.cibuildwheel.overrides]] (did you mean `environment`?)",
        ),
        (
            "[tool.cibuildwheel]\nmacos = \"x\"\n",
            "`[DIR]/pyproject.toml`:2:9: `macos` in [tool.cibuildwheel] must be a table, not a string",
        ),
        (
            "[tool.cibuildwheel]\nbuild = \"cp3{9,10-*\"\n",
            "`[DIR]/pyproject.toml`:2:9: invalid `build`: `cp3{9,10-*` is not a valid selector pattern",
        ),
        (
            "[tool.cibuildwheel]\ncontainer-engine = \"docker; create_args: --gpus 'all\"\n",
            "`[DIR]/pyproject.toml`:2:20: invalid `container-engine`: unbalanced quotes in ` --gpus 'all`",
        ),
    ];
    for (pyproject, expected) in cases {
        let err = Project::new(pyproject).error(&[]);
        assert!(err.starts_with(expected), "\n got: {err}\nwant: {expected}");
    }
}

#[test]
fn bad_environment_values_name_the_variable() {
    let project = Project::new("");
    assert_eq!(
        project.error(&[("CIBW_ARCHS_LINUX", "x86_64 mips")]),
        "environment variable `CIBW_ARCHS_LINUX`: invalid `archs`: unknown architecture `mips` (expected one of auto, auto64, auto32, native, all, x86_64, i686, aarch64, ppc64le, s390x, armv7l, riscv64)"
    );
    assert_eq!(
        project.error(&[("INPUT_ENVIRONMENT", "A=1 B")]),
        "Action input `INPUT_ENVIRONMENT`: invalid `environment`: `B` is not an assignment (expected NAME=value)"
    );
    assert!(
        project
            .error(&[("WHEELWRIGHT_TEST_IMAGE", "runtime $(id)")])
            .starts_with("environment variable `WHEELWRIGHT_TEST_IMAGE`: invalid `test-image`: image reference `runtime $(id)` contains a space")
    );
    let missing = ResolveInputs::new("/nonexistent/wheelwright-project");
    assert_eq!(
        Settings::resolve(&missing)
            .expect_err("missing")
            .to_string(),
        "cannot read `/nonexistent/wheelwright-project`: no such file or directory"
    );
}

#[test]
fn empty_selections_say_what_exists() {
    // The error of a project whose selection is empty.
    let empty_selection = |project: &Project| {
        project
            .resolve(&[])
            .selected_identifiers()
            .expect_err("empty")
            .to_string()
    };
    let project = Project::new(
        "[tool.cibuildwheel]\nbuild = \"cp27-*\"\narchs = \"i686\"\nskip = \"*musl*\"\n",
    );
    let err = empty_selection(&project).replace(&project.dir.path().display().to_string(), "[DIR]");
    assert_eq!(
        err,
        "nothing to build: build `cp27-*` (`[DIR]/pyproject.toml`:2) and skip `*musl*` (`[DIR]/pyproject.toml`:4) select none of the 18 identifiers available for i686: cp39-manylinux_i686 cp310-manylinux_i686 cp311-manylinux_i686 cp312-manylinux_i686 cp313-manylinux_i686 cp314-manylinux_i686 cp314t-manylinux_i686 cp315-manylinux_i686 cp315t-manylinux_i686 cp39-musllinux_i686 cp310-musllinux_i686 cp311-musllinux_i686 cp312-musllinux_i686 cp313-musllinux_i686 cp314-musllinux_i686 cp314t-musllinux_i686 cp315-musllinux_i686 cp315t-musllinux_i686"
    );
    let project = Project::new("[project]\nrequires-python = \">=3.20\"\n");
    let err = empty_selection(&project);
    assert!(
        err.contains("excludes every Python wheelwright knows (cp36 cp37"),
        "{err}"
    );
    let project = Project::new(
        "[tool.cibuildwheel]\nbuild = \"pp*\"\n[project]\nrequires-python = \"<3.9\"\n",
    );
    let err = empty_selection(&project);
    assert!(
        err.contains("needs an `enable` group: cp36-manylinux_x86_64 (cpython-eol)"),
        "{err}"
    );
    let project = Project::new("[tool.cibuildwheel]\narchs = \"auto64\"\n");
    let mut inputs = project.inputs(&[]);
    inputs.host_arch = Arch::I686;
    let err = Settings::resolve(&inputs)
        .expect("resolves")
        .selected_identifiers()
        .expect_err("empty")
        .to_string();
    assert!(err.contains("archs `auto64`"), "{err}");
    assert!(
        err.ends_with("names no architecture on this i686 host"),
        "{err}"
    );
}

#[test]
fn a_config_file_replaces_the_tool_tables_of_pyproject() {
    let project = Project::new(
        "[project]\nname = \"demo\"\nrequires-python = \">=3.10\"\n\
         [tool.cibuildwheel]\nbuild = \"cp311-*\"\nbefore-all = \"from pyproject\"\n",
    );
    let config = project.dir.path().join("ci/wheels.toml");
    fs_err::create_dir_all(config.parent().expect("parent")).expect("mkdir");
    fs_err::write(
        &config,
        "[tool.cibuildwheel]\nbuild = \"cp312-*\"\n[tool.cibuildwheel.linux]\narchs = \"i686\"\n",
    )
    .expect("write");
    let mut inputs = project.inputs(&[]);
    inputs.config_file = Some(config.clone());
    let settings = Settings::resolve(&inputs).expect("resolves");
    let ids: Vec<String> = settings
        .selected_identifiers()
        .expect("selection")
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        ids,
        ["cp312-manylinux_i686", "cp312-musllinux_i686"],
        "{ids:?}"
    );
    // [project] still comes from pyproject.toml; pyproject's tool tables are not read.
    assert!(settings.requires_python.is_some());
    let cp312 = settings.for_identifier(&id("cp312-manylinux_i686"));
    let shown = format!("{:?}", cp312.before_all);
    assert!(!shown.contains("from pyproject"), "{shown}");

    inputs.config_file = Some(project.dir.path().join("missing.toml"));
    let err = Settings::resolve(&inputs)
        .expect_err("missing file")
        .to_string();
    assert!(
        err.contains("missing.toml") && err.contains("does not exist"),
        "{err}"
    );
}

#[test]
fn requires_python_from_setup_cfg_and_setup_py_as_cibuildwheel_reads_it() {
    // Writes `file` of `project` (when given), then the first identifier built.
    let first = |project: &Project, file: Option<(&str, &str)>| {
        if let Some((name, text)) = file {
            fs_err::write(project.dir.path().join(name), text).expect("write");
        }
        names(&candidate_identifiers(&project.resolve(&[])))[0].clone()
    };
    let project = Project::new("[tool.cibuildwheel]\nskip = \"*musl*\"\narchs = \"x86_64\"\n");
    fs_err::write(
        project.dir.path().join("setup.cfg"),
        "[metadata]\nname = x\nclassifiers =\n\tA :: B\n\n\tC :: D\n\n[options]\npackage_dir =\n\t=src\npython_requires = >=3.12\n",
    )
    .expect("write");
    assert_eq!(
        first(
            &project,
            Some(("setup.py", "setup(python_requires=\">=3.10\")\n"))
        ),
        "cp312-manylinux_x86_64",
        "setup.cfg comes before setup.py"
    );
    fs_err::remove_file(project.dir.path().join("setup.cfg")).expect("rm");
    assert_eq!(first(&project, None), "cp310-manylinux_x86_64");
    let setup_py = "# python_requires='>=3.14'\nsetup(\n    name='x',\n    python_requires=\">=3.11\",  # minimum\n)\n";
    assert_eq!(
        first(&project, Some(("setup.py", setup_py))),
        "cp311-manylinux_x86_64"
    );
    // A computed value is not read (cibuildwheel reads only a string constant).
    let computed = "setup(python_requires=\">=3.\" + MIN)\n";
    assert_eq!(
        first(&project, Some(("setup.py", computed))),
        "cp39-manylinux_x86_64"
    );
    // [project] requires-python wins.
    let project = Project::new(
        "[project]\nrequires-python = \">=3.13\"\n[tool.cibuildwheel]\narchs = \"x86_64\"\n",
    );
    let setup_cfg = "[options]\npython_requires = >=3.10\n";
    assert_eq!(
        first(&project, Some(("setup.cfg", setup_cfg))),
        "cp313-manylinux_x86_64"
    );
}
