use super::*;
use crate::config::toml_tree::{Node, parse_document};
use crate::config::values::{ContainerEngine, ShellCommand};

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
        let value =
            parse_text(spec, &spec.default_text()).unwrap_or_else(|e| panic!("{}: {e}", spec.name));
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
    let readme = include_str!("../../../README.md");
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
    let Err(NodeError::WrongType { key, expected, .. }) = parse("environment", "{ A = 1 }") else {
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
        Ok("cpython-prerelease pypy pypy-eol graalpy pyodide-prerelease pyodide-eol".to_owned()),
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
