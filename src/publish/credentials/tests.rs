//! Unit tests of repository and credential resolution and of the `.pypirc` reader.

use std::path::Path;

use super::*;

fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

const PYPIRC: &str = "\
[distutils]
index-servers =
    pypi
    local

[pypi]
username: __token__
password = pypi-from-file

[local]
repository = http://127.0.0.1:9/
username = alice
Password = s3cret
";

fn pypirc() -> Pypirc {
    Pypirc::parse(Path::new("/home/u/.pypirc"), PYPIRC).expect("valid")
}

#[test]
fn malformed_pypirc_names_file_line_and_problem() {
    let path = Path::new("/home/u/.pypirc");
    let error = |text: &str| Pypirc::parse(path, text).expect_err(text).to_string();
    insta::assert_snapshot!(error("username = a\n[pypi]\n"), @r"
        `/home/u/.pypirc` line 1: `username` is outside any section
        hint: put the keys under the header of their repository, e.g. `[pypi]` on a line before them
        ");
    insta::assert_snapshot!(error("[local]\nrepository = http://x/\npassword hunter2\n"), @r"
        `/home/u/.pypirc` line 3: the line is not `key = value`, a `[section]` header or a comment
        hint: write `key = value` (or `key: value`); a value continued on the next line is indented
        ");
    insta::assert_snapshot!(error("[local\nusername = a\n"), @r"
        `/home/u/.pypirc` line 1: the section header has no closing `]`
        hint: write section headers as `[name]`, e.g. `[pypi]`
        ");
    insta::assert_snapshot!(error("[a]\nx = 1\n\n[a]\n"), @r"
        `/home/u/.pypirc` line 4: section `[a]` appears a second time (first on line 1)
        hint: keep one section per repository and merge the two
        ");
    insta::assert_snapshot!(error("[a]\nUsername = 1\nusername: 2\n"), @r"
        `/home/u/.pypirc` line 3: `username` appears a second time in `[a]` (first on line 2)
        hint: keep one of the two lines
        ");
    insta::assert_snapshot!(error("[a]\n= 1\n"), @r"
        `/home/u/.pypirc` line 2: a value without a key (the line starts with `=` or `:`)
        hint: write `key = value`, e.g. `username = __token__`
        ");
    assert!(!error("[local]\npassword hunter2\n").contains("hunter2"));
    // Comments, blank lines, indented continuations and `key: value` are fine.
    let rc = Pypirc::parse(
        path,
        "# c\n[distutils]\nindex-servers =\n    pypi\n    local\n; c\n[pypi] # note\nusername: u\n",
    )
    .expect("valid");
    assert_eq!(rc.section("pypi").unwrap().username.as_deref(), Some("u"));
}

#[test]
fn parses_pypirc() {
    let rc = pypirc();
    let local = rc.section("local").unwrap();
    assert_eq!(local.repository.as_deref(), Some("http://127.0.0.1:9/"));
    assert_eq!(local.username.as_deref(), Some("alice"));
    assert_eq!(local.password.as_ref().unwrap().expose(), "s3cret");
    assert_eq!(
        rc.section("pypi").unwrap().username.as_deref(),
        Some("__token__")
    );
    let url = Url::parse("http://127.0.0.1:9").unwrap();
    assert_eq!(rc.section_for_url(&url).unwrap().name, "local");
}

#[test]
fn resolves_repositories() {
    let rc = pypirc();
    let pypi = resolve_repository(None, None, None, None).unwrap();
    assert_eq!(pypi.known, Some(&endpoints::PYPI));
    assert_eq!(pypi.upload_url.as_str(), endpoints::PYPI.upload_url);
    assert_eq!(
        pypi.simple_url.unwrap().as_str(),
        endpoints::PYPI.simple_url
    );
    let test = resolve_repository(Some("testpypi"), None, None, Some(&rc)).unwrap();
    assert_eq!(test.known, Some(&endpoints::TESTPYPI));
    let local = resolve_repository(Some("local"), None, None, Some(&rc)).unwrap();
    assert_eq!(local.upload_url.as_str(), "http://127.0.0.1:9/");
    assert_eq!(local.section.unwrap().name, "local");
    assert!(local.simple_url.is_none());
    let by_url = resolve_repository(
        None,
        Some("http://127.0.0.1:9/"),
        Some("http://127.0.0.1:9/simple/"),
        Some(&rc),
    )
    .unwrap();
    assert_eq!(by_url.section.unwrap().name, "local");
    assert_eq!(
        by_url.simple_url.unwrap().as_str(),
        "http://127.0.0.1:9/simple/"
    );

    let err = resolve_repository(Some("pipy"), None, None, Some(&rc)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown repository `pipy`: expected `pypi`, `testpypi`, an http(s) URL, or a section of `/home/u/.pypirc`"
    );
    let err = resolve_repository(None, Some("https://bob:hunter2@h.test/legacy/"), None, None)
        .unwrap_err();
    let text = err.to_string();
    assert!(!text.contains("hunter2"), "{text}");
    assert!(
        text.starts_with(
            "the repository URL `https://bob:****@h.test/legacy/` contains credentials"
        ),
        "{text}"
    );
    let err = resolve_repository(None, Some("ftp://h.test/"), None, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid repository URL `ftp://h.test/`: the scheme must be http or https, not `ftp`"
    );
}

#[test]
fn resolves_credentials() {
    let rc = pypirc();
    let local = resolve_repository(Some("local"), None, None, Some(&rc)).unwrap();
    let args = CredentialArgs::default();
    let (plan, _) = resolve_auth(&local, &args, &env_of(&[])).unwrap();
    let AuthPlan::Basic {
        username, password, ..
    } = plan
    else {
        panic!("{plan:?}")
    };
    assert_eq!((username.as_str(), password.expose()), ("alice", "s3cret"));

    // The environment beats the file; PYPI_API_TOKEN implies __token__.
    let pypi = resolve_repository(None, None, None, Some(&rc)).unwrap();
    let (plan, warnings) = resolve_auth(
        &pypi,
        &args,
        &env_of(&[("PYPI_API_TOKEN", "pypi-env"), ("TWINE_USERNAME", "bob")]),
    )
    .unwrap();
    let AuthPlan::Basic {
        username,
        password,
        source,
        ..
    } = plan
    else {
        panic!()
    };
    assert_eq!(
        (username.as_str(), password.expose(), source.as_str()),
        ("__token__", "pypi-env", "`PYPI_API_TOKEN`")
    );
    assert_eq!(warnings.len(), 1, "{warnings:?}");

    // --password-env must name a set variable.
    let args_env = CredentialArgs {
        password_env: Some("MY_TOKEN".into()),
        ..CredentialArgs::default()
    };
    let err = resolve_auth(&pypi, &args_env, &env_of(&[])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "`--password-env MY_TOKEN`: the environment variable `MY_TOKEN` is not set or empty"
    );

    // Nothing configured: trusted publishing when the runner allows it, else a hint.
    let bare = resolve_repository(Some("testpypi"), None, None, None).unwrap();
    let oidc_env = env_of(&[
        ("ACTIONS_ID_TOKEN_REQUEST_URL", "http://x/t?a=1"),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "t"),
    ]);
    let (plan, _) = resolve_auth(&bare, &args, &oidc_env).unwrap();
    assert!(matches!(plan, AuthPlan::TrustedPublishing(_)));
    let err = resolve_auth(&bare, &args, &env_of(&[("GITHUB_ACTIONS", "true")]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("permissions: id-token: write"), "{err}");
    assert!(err.starts_with("no credentials for TestPyPI"), "{err}");

    // Other indexes may take anonymous uploads.
    let anon = resolve_repository(None, Some("http://127.0.0.1:1/"), None, None).unwrap();
    assert!(matches!(
        resolve_auth(&anon, &args, &env_of(&[])).unwrap().0,
        AuthPlan::Anonymous
    ));
    let err = resolve_auth(&anon, &args, &env_of(&[("TWINE_PASSWORD", "pw")])).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("a password (from `TWINE_PASSWORD`) but no user name"),
        "{err}"
    );
}

#[test]
fn loopback_hosts() {
    for url in [
        "http://127.0.0.1:8080/",
        "http://127.9.9.9/",
        "http://localhost/",
        "http://LocalHost./x",
        "http://index.localhost/",
        "http://[::1]:1/",
        "http://[::ffff:127.0.0.1]/",
    ] {
        assert!(is_loopback(&Url::parse(url).unwrap()), "{url}");
    }
    for url in [
        "http://10.0.0.1/",
        "http://198.51.100.7:8080/",
        "http://[::2]/",
        "http://[::ffff:10.0.0.1]/",
        "http://localhost.example/",
        "http://127.0.0.1.example/",
    ] {
        assert!(!is_loopback(&Url::parse(url).unwrap()), "{url}");
    }
}

#[test]
fn credentials_stay_with_their_host() {
    let rc = Pypirc::parse(
            Path::new("/home/u/.pypirc"),
            "[mirror]\nrepository = https://index.test/upload/\nusername = __token__\npassword = pypi-for-the-mirror\n",
        )
        .expect("parses");
    let args = CredentialArgs::default();
    let token = env_of(&[("PYPI_API_TOKEN", "pypi-fake-token-for-tests")]);
    let repo = |url: &str| resolve_repository(None, Some(url), None, Some(&rc)).unwrap();

    // A PyPI-shaped token from the environment goes to PyPI and TestPyPI only ...
    for name in ["pypi", "testpypi"] {
        let known = resolve_repository(Some(name), None, None, None).unwrap();
        assert!(resolve_auth(&known, &args, &token).is_ok(), "{name}");
    }
    let other = repo("https://private.test/legacy/");
    insta::assert_snapshot!(resolve_auth(&other, &args, &token).unwrap_err(), @r"
        refusing to send the PyPI API token from `PYPI_API_TOKEN` to `https://private.test/legacy/`: tokens shaped like PyPI's (`pypi-…`) go only to PyPI's and TestPyPI's upload URLs unless you name the URL for them
        hint: if this index takes that token, say so: give `--password-env VAR` (the variable holding it) or `--username` together with `--repository-url`, or use a `.pypirc` section whose `repository` is this URL
        ");
    let shaped = env_of(&[("TWINE_PASSWORD", "pypi-shaped"), ("TWINE_USERNAME", "u")]);
    assert!(matches!(
        resolve_auth(&other, &args, &shaped),
        Err(CredentialError::TokenForOtherIndex { .. })
    ));
    // ... unless the user ties it to the URL: --password-env, --username, or a section.
    for tied in [
        CredentialArgs {
            password_env: Some("PYPI_API_TOKEN".into()),
            ..CredentialArgs::default()
        },
        CredentialArgs {
            username: Some("__token__".into()),
            ..CredentialArgs::default()
        },
    ] {
        assert!(resolve_auth(&other, &tied, &token).is_ok(), "{tied:?}");
    }
    let mirror = repo("https://index.test/upload/");
    let (plan, _) = resolve_auth(&mirror, &args, &env_of(&[])).unwrap();
    assert!(
        matches!(plan, AuthPlan::Basic { tied: true, .. }),
        "{plan:?}"
    );
    // Other passwords may go anywhere over https.
    let password = env_of(&[("TWINE_PASSWORD", "pw"), ("TWINE_USERNAME", "u")]);
    assert!(resolve_auth(&other, &args, &password).is_ok());

    // Plain http only to this machine, for every kind of credential.
    assert!(resolve_auth(&repo("http://127.0.0.1:9/"), &args, &password).is_ok());
    let remote = repo("http://198.51.100.7:8080/");
    insta::assert_snapshot!(resolve_auth(&remote, &args, &password).unwrap_err(), @r"
        refusing to send the password from `TWINE_PASSWORD` to `http://198.51.100.7:8080/` over plain http: credentials go over https only (plain http only to this machine's loopback address)
        hint: use the index's https URL
        ");
    let tied = CredentialArgs {
        password_env: Some("PYPI_API_TOKEN".into()),
        ..CredentialArgs::default()
    };
    assert!(matches!(
        resolve_auth(&remote, &tied, &token),
        Err(CredentialError::InsecureUrl { .. })
    ));
    let oidc = env_of(&[
        ("ACTIONS_ID_TOKEN_REQUEST_URL", "http://x/t?a=1"),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "t"),
    ]);
    let err = resolve_auth(&remote, &args, &oidc).unwrap_err().to_string();
    assert!(
            err.starts_with("refusing to send a trusted-publishing token to `http://198.51.100.7:8080/` over plain http"),
            "{err}"
        );
    // Without credentials there is nothing to protect.
    assert!(matches!(
        resolve_auth(&remote, &args, &env_of(&[])).unwrap().0,
        AuthPlan::Anonymous
    ));
}
