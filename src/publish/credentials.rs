//! Where the upload goes and who we are there: the repository (a short name, a URL or a
//! `~/.pypirc` section) and the credentials (environment, a `.pypirc`-style file, or trusted
//! publishing). Passwords never come from a plain command-line value: they would show up in
//! process lists and shell history.

use std::path::{Path, PathBuf};

use reqwest::Url;

use super::endpoints::{self, KnownIndex};
use super::oidc::OidcEnv;
use crate::net::secret::{Secret, redact_urls_in};

/// Environment variables read by `publish` (documented in the README).
pub mod env_vars {
    /// The password or API token (first choice).
    pub const WHEELWRIGHT_PASSWORD: &str = "WHEELWRIGHT_PASSWORD";
    /// The user name (first choice).
    pub const WHEELWRIGHT_USERNAME: &str = "WHEELWRIGHT_USERNAME";
    /// twine's password variable.
    pub const TWINE_PASSWORD: &str = "TWINE_PASSWORD";
    /// twine's user name variable.
    pub const TWINE_USERNAME: &str = "TWINE_USERNAME";
    /// An index API token; implies the user name `__token__`.
    pub const PYPI_API_TOKEN: &str = "PYPI_API_TOKEN";
    /// Set by the GitHub runner when the job may request an OIDC token.
    pub const ACTIONS_ID_TOKEN_REQUEST_URL: &str = "ACTIONS_ID_TOKEN_REQUEST_URL";
    /// The bearer token for [`ACTIONS_ID_TOKEN_REQUEST_URL`].
    pub const ACTIONS_ID_TOKEN_REQUEST_TOKEN: &str = "ACTIONS_ID_TOKEN_REQUEST_TOKEN";
}

/// The user name index API tokens are sent with.
pub const TOKEN_USERNAME: &str = "__token__";

/// One `[section]` of a `.pypirc`-style file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PypircSection {
    /// The section name. Ex) `testpypi`
    pub name: String,
    /// `repository`: the upload URL.
    pub repository: Option<String>,
    /// `username`.
    pub username: Option<String>,
    /// `password`.
    pub password: Option<Secret>,
}

/// A parsed `.pypirc`-style file (INI: `[section]`, `key = value` or `key: value`, `#`/`;`
/// comments; keys are case-insensitive; indented lines continue the previous value). As strict
/// as twine's reader (Python's `configparser`): a line that is none of these, a key outside any
/// section, a repeated section or key is an error naming the file and line. Errors never quote
/// the line: it may hold a password.
#[derive(Debug, Clone, Default)]
pub struct Pypirc {
    /// The file it was read from.
    pub path: PathBuf,
    /// Its sections in file order.
    pub sections: Vec<PypircSection>,
}

/// The problem of a `.pypirc` line and what to do about it.
fn pypirc_problem(
    path: &Path,
    line: usize,
    problem: String,
    hint: &'static str,
) -> CredentialError {
    CredentialError::ConfigSyntax {
        path: path.to_owned(),
        line,
        problem,
        hint,
    }
}

impl Pypirc {
    /// Parses the text of a `.pypirc` file.
    pub fn parse(path: &Path, text: &str) -> Result<Self, CredentialError> {
        let mut sections: Vec<PypircSection> = Vec::new();
        // Per section: its first line and the keys seen (with their lines).
        let mut seen: Vec<(usize, Vec<(String, usize)>)> = Vec::new();
        let mut last_key: Option<String> = None;
        for (index, raw) in text.lines().enumerate() {
            let number = index + 1;
            let line = raw.trim_end();
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            if line.starts_with([' ', '\t']) && last_key.is_some() {
                // A continuation line (used by `index-servers`); not part of the keys we read,
                // except a continued password, which we refuse to guess at.
                if last_key.as_deref() == Some("password") {
                    if let Some(section) = sections.last_mut() {
                        section.password = None;
                    }
                }
                continue;
            }
            if let Some(rest) = trimmed.strip_prefix('[') {
                let Some(close) = rest.rfind(']') else {
                    return Err(pypirc_problem(
                        path,
                        number,
                        "the section header has no closing `]`".to_owned(),
                        "write section headers as `[name]`, e.g. `[pypi]`",
                    ));
                };
                let name = rest[..close].trim();
                if name.is_empty() {
                    return Err(pypirc_problem(
                        path,
                        number,
                        "the section header `[]` has no name".to_owned(),
                        "name the section after the repository, e.g. `[testpypi]`",
                    ));
                }
                if let Some(first) = sections.iter().position(|s| s.name == name) {
                    return Err(pypirc_problem(
                        path,
                        number,
                        format!(
                            "section `[{}]` appears a second time (first on line {})",
                            crate::ui::untrusted(name),
                            seen[first].0
                        ),
                        "keep one section per repository and merge the two",
                    ));
                }
                sections.push(PypircSection {
                    name: name.to_owned(),
                    ..PypircSection::default()
                });
                seen.push((number, Vec::new()));
                last_key = None;
                continue;
            }
            let Some(split) = trimmed.find(['=', ':']) else {
                return Err(pypirc_problem(
                    path,
                    number,
                    "the line is not `key = value`, a `[section]` header or a comment".to_owned(),
                    "write `key = value` (or `key: value`); a value continued on the next line is indented",
                ));
            };
            let key = trimmed[..split].trim().to_ascii_lowercase();
            if key.is_empty() {
                return Err(pypirc_problem(
                    path,
                    number,
                    "a value without a key (the line starts with `=` or `:`)".to_owned(),
                    "write `key = value`, e.g. `username = __token__`",
                ));
            }
            let shown = crate::ui::untrusted(&key).into_owned();
            let (Some(section), Some((_, keys))) = (sections.last_mut(), seen.last_mut()) else {
                return Err(pypirc_problem(
                    path,
                    number,
                    format!("`{shown}` is outside any section"),
                    "put the keys under the header of their repository, e.g. `[pypi]` on a line before them",
                ));
            };
            if let Some((_, first)) = keys.iter().find(|(k, _)| *k == key) {
                return Err(pypirc_problem(
                    path,
                    number,
                    format!(
                        "`{shown}` appears a second time in `[{}]` (first on line {first})",
                        crate::ui::untrusted(&section.name)
                    ),
                    "keep one of the two lines",
                ));
            }
            keys.push((key.clone(), number));
            let value = trimmed[split + 1..].trim().to_owned();
            match key.as_str() {
                "repository" => section.repository = Some(value),
                "username" => section.username = Some(value),
                "password" => section.password = Some(Secret::new(value)),
                _ => {}
            }
            last_key = Some(key);
        }
        Ok(Self {
            path: path.to_owned(),
            sections,
        })
    }

    /// Reads `path`. A missing file is `None` unless `explicit` (given with `--config-file`).
    pub fn load(path: &Path, explicit: bool) -> Result<Option<Self>, CredentialError> {
        match fs_err::read_to_string(path) {
            Ok(text) => Self::parse(path, &text).map(Some),
            Err(e) if !explicit && e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(CredentialError::Config {
                path: path.to_owned(),
                reason: super::dist::root_cause(&source),
            }),
        }
    }

    /// The section called `name` (case-sensitive, like twine).
    #[must_use]
    pub fn section(&self, name: &str) -> Option<&PypircSection> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// The section whose `repository` is `url` (ignoring a trailing slash).
    #[must_use]
    pub fn section_for_url(&self, url: &Url) -> Option<&PypircSection> {
        self.sections.iter().find(|s| {
            s.repository
                .as_deref()
                .and_then(|r| Url::parse(r).ok())
                .is_some_and(|r| {
                    r.as_str().trim_end_matches('/') == url.as_str().trim_end_matches('/')
                })
        })
    }
}

/// The default `.pypirc` path (`$HOME/.pypirc`).
#[must_use]
pub fn default_pypirc() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".pypirc"))
}

/// Where the files go.
#[derive(Debug, Clone)]
pub struct Repository {
    /// What the user called it: `pypi`, `testpypi`, a `.pypirc` section, or the URL.
    pub label: String,
    /// The legacy upload endpoint (no credentials in it).
    pub upload_url: Url,
    /// The Simple index, when given or known; otherwise it is discovered.
    pub simple_url: Option<Url>,
    /// PyPI or TestPyPI, when the upload URL is theirs.
    pub known: Option<&'static KnownIndex>,
    /// The `.pypirc` section that supplies credentials, if any.
    pub section: Option<PypircSection>,
}

/// Why the repository could not be determined.
#[derive(Debug, thiserror::Error)]
pub enum RepositoryError {
    /// Not a known short name, not a URL, not a `.pypirc` section.
    #[error(
        "unknown repository `{name}`: expected `pypi`, `testpypi`, an http(s) URL, or a section of {config}"
    )]
    Unknown {
        /// The name given.
        name: String,
        /// Which config file was searched.
        config: String,
    },
    /// The URL does not parse or is not http(s).
    #[error("invalid {what} `{url}`: {reason}")]
    InvalidUrl {
        /// `repository URL` or `index URL`.
        what: &'static str,
        /// The URL, credentials redacted.
        url: String,
        /// Why.
        reason: String,
    },
    /// The URL carries a user name or password.
    #[error(
        "the {what} `{url}` contains credentials; they would end up in process lists and logs\nhint: remove them from the URL and pass the password in `WHEELWRIGHT_PASSWORD` (or `TWINE_PASSWORD`, `PYPI_API_TOKEN`, `--password-env VAR`) and the user name with `--username`"
    )]
    CredentialsInUrl {
        /// `repository URL` or `index URL`.
        what: &'static str,
        /// The URL, credentials redacted.
        url: String,
    },
    /// A `.pypirc` section without `repository` for a name we do not know.
    #[error("section `[{section}]` of `{}` has no `repository` URL", path.display())]
    SectionWithoutUrl {
        /// The section.
        section: String,
        /// The file.
        path: PathBuf,
    },
}

fn parse_url(text: &str, what: &'static str) -> Result<Url, RepositoryError> {
    let invalid = |reason: String| RepositoryError::InvalidUrl {
        what,
        url: redact_urls_in(text),
        reason,
    };
    let url = Url::parse(text.trim()).map_err(|e| invalid(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(format!(
            "the scheme must be http or https, not `{}`",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("no host".to_owned()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(RepositoryError::CredentialsInUrl {
            what,
            url: redact_urls_in(text.trim()),
        });
    }
    Ok(url)
}

/// Resolves `--repository`, `--repository-url` and `--index-url` (with the `.pypirc` file, if
/// any) into a [`Repository`]. Without either option the repository is PyPI.
pub fn resolve_repository(
    repository: Option<&str>,
    repository_url: Option<&str>,
    index_url: Option<&str>,
    pypirc: Option<&Pypirc>,
) -> Result<Repository, RepositoryError> {
    let simple_override = index_url.map(|u| parse_url(u, "index URL")).transpose()?;
    let (label, upload_url, section) = match (repository_url, repository) {
        (Some(url), _) => {
            let url = parse_url(url, "repository URL")?;
            let section = pypirc.and_then(|p| p.section_for_url(&url)).cloned();
            (url.to_string(), url, section)
        }
        (None, Some(name)) if name.contains("://") => {
            let url = parse_url(name, "repository URL")?;
            let section = pypirc.and_then(|p| p.section_for_url(&url)).cloned();
            (url.to_string(), url, section)
        }
        (None, name) => {
            let name = name.unwrap_or(endpoints::PYPI.name);
            let section = pypirc.and_then(|p| p.section(name)).cloned();
            let url = match (
                section.as_ref().and_then(|s| s.repository.as_deref()),
                endpoints::by_name(name),
            ) {
                (Some(url), _) => parse_url(url, "repository URL")?,
                (None, Some(known)) => parse_url(known.upload_url, "repository URL")?,
                (None, None) => {
                    return Err(match (section, pypirc) {
                        (Some(section), Some(pypirc)) => RepositoryError::SectionWithoutUrl {
                            section: section.name,
                            path: pypirc.path.clone(),
                        },
                        _ => RepositoryError::Unknown {
                            name: name.to_owned(),
                            config: pypirc.map_or_else(
                                || "`~/.pypirc` (not found)".to_owned(),
                                |p| format!("`{}`", p.path.display()),
                            ),
                        },
                    });
                }
            };
            (name.to_owned(), url, section)
        }
    };
    let known = endpoints::by_upload_url(&upload_url);
    let simple_url = match (simple_override, known) {
        (Some(url), _) => Some(url),
        (None, Some(known)) => Url::parse(known.simple_url).ok(),
        (None, None) => None,
    };
    Ok(Repository {
        label,
        upload_url,
        simple_url,
        known,
        section,
    })
}

/// When to use trusted publishing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum TrustedPublishing {
    /// When no password is configured and the job may request an OIDC token.
    #[default]
    Auto,
    /// Always (fail when the job cannot request an OIDC token).
    Always,
    /// Never.
    Never,
}

/// How requests are authenticated.
#[derive(Debug, Clone)]
pub enum AuthPlan {
    /// HTTP Basic with a static password or token.
    Basic {
        /// The user name.
        username: String,
        /// The password or token.
        password: Secret,
        /// Where the password came from, for messages. Ex) `` `TWINE_PASSWORD` ``
        source: String,
        /// The user tied the password to this repository: it comes from the repository's
        /// `.pypirc` section, or `--password-env`/`--username` were given with it.
        tied: bool,
    },
    /// Exchange a GitHub OIDC token for a short-lived upload token.
    TrustedPublishing(OidcEnv),
    /// No credentials (an index that allows anonymous uploads).
    Anonymous,
}

/// Why credentials could not be determined.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// The config file could not be read.
    #[error("cannot read `{}`: {reason}", path.display())]
    Config {
        /// The file.
        path: PathBuf,
        /// The operating system's words.
        reason: String,
    },
    /// The config file is not a valid `.pypirc` (INI) file.
    #[error("`{}` line {line}: {problem}\nhint: {hint}", crate::ui::path(path))]
    ConfigSyntax {
        /// The file.
        path: PathBuf,
        /// The line number (1-based).
        line: usize,
        /// What is wrong (never the line itself: it may hold a password).
        problem: String,
        /// What to do.
        hint: &'static str,
    },
    /// `--password-env VAR` names an unset variable.
    #[error("`--password-env {0}`: the environment variable `{0}` is not set or empty")]
    PasswordEnvUnset(String),
    /// A password but no user name for an index that is not PyPI's.
    #[error(
        "a password (from {origin}) but no user name for `{repository}`\nhint: pass `--username NAME` or set `TWINE_USERNAME`"
    )]
    NoUsername {
        /// Where the password came from.
        origin: String,
        /// The repository label.
        repository: String,
    },
    /// No credentials at all for PyPI/TestPyPI.
    #[error("no credentials for {index}: no password or token is set and {oidc}\nhint: {hint}")]
    NoCredentials {
        /// The index, for display.
        index: String,
        /// Why trusted publishing is not available.
        oidc: String,
        /// What to do.
        hint: String,
    },
    /// `--trusted-publishing always` without an OIDC-capable job.
    #[error("`--trusted-publishing always`, but {oidc}\nhint: {hint}")]
    NoOidc {
        /// Why trusted publishing is not available.
        oidc: String,
        /// What to do.
        hint: String,
    },
    /// The runner set the request URL but not its token (or the other way round).
    #[error(transparent)]
    Oidc(#[from] super::oidc::OidcEnvError),
    /// Credentials for a plain-http URL that is not this machine.
    #[error(
        "refusing to send {what} to `{url}` over plain http: credentials go over https only (plain http only to this machine's loopback address)\nhint: use the index's https URL"
    )]
    InsecureUrl {
        /// The credential, in words. Ex) ``the password from `TWINE_PASSWORD` ``
        what: String,
        /// The upload URL.
        url: String,
    },
    /// A PyPI API token for an index that is not PyPI's.
    #[error(
        "refusing to send the PyPI API token from {origin} to `{url}`: tokens shaped like PyPI's (`pypi-…`) go only to PyPI's and TestPyPI's upload URLs unless you name the URL for them\nhint: if this index takes that token, say so: give `--password-env VAR` (the variable holding it) or `--username` together with `--repository-url`, or use a `.pypirc` section whose `repository` is this URL"
    )]
    TokenForOtherIndex {
        /// Where the token came from. Ex) `` `PYPI_API_TOKEN` ``
        origin: String,
        /// The upload URL.
        url: String,
    },
}

/// The hint for a job without `id-token: write`.
pub const ID_TOKEN_HINT: &str = "for trusted publishing, give the publishing job `permissions: id-token: write` (GitHub then sets `ACTIONS_ID_TOKEN_REQUEST_URL`) and register the workflow as a trusted publisher of the project on the index; pull requests from forks never get an OIDC token";

/// What the user passed on the command line about credentials.
#[derive(Debug, Clone, Default)]
pub struct CredentialArgs {
    /// `--username`.
    pub username: Option<String>,
    /// `--password-env VAR`.
    pub password_env: Option<String>,
    /// `--trusted-publishing`.
    pub trusted_publishing: TrustedPublishing,
}

/// Decides how to authenticate. `env` reads an environment variable (empty counts as unset).
/// Returns the plan and warnings for the user, or an error when the credentials must not go
/// to this repository ([`check_destination`]): nothing has been contacted then.
pub fn resolve_auth(
    repository: &Repository,
    args: &CredentialArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(AuthPlan, Vec<String>), CredentialError> {
    let (plan, warnings) = plan_auth(repository, args, env)?;
    check_destination(repository, &plan)?;
    Ok((plan, warnings))
}

/// Whether `url` is this machine: `localhost`, 127.0.0.0/8, `::1` (also IPv4-mapped).
#[must_use]
pub fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    if let Some(ipv6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return ipv6.parse::<std::net::Ipv6Addr>().is_ok_and(|ip| {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        });
    }
    if let Ok(ip) = host.parse::<std::net::Ipv4Addr>() {
        return ip.is_loopback();
    }
    let domain = host.trim_end_matches('.').to_ascii_lowercase();
    domain == "localhost" || domain.ends_with(".localhost")
}

/// Credentials stay with their host: they travel over https only (plain http only to this
/// machine), and a PyPI API token (`pypi-…`, or anything in `PYPI_API_TOKEN`) goes only to
/// PyPI's and TestPyPI's upload URLs unless the user tied it to this repository.
pub fn check_destination(repository: &Repository, plan: &AuthPlan) -> Result<(), CredentialError> {
    let url = &repository.upload_url;
    let what = match plan {
        AuthPlan::Anonymous => return Ok(()),
        AuthPlan::Basic { source, .. } => format!("the password from {source}"),
        AuthPlan::TrustedPublishing(_) => "a trusted-publishing token".to_owned(),
    };
    if url.scheme() != "https" && !is_loopback(url) {
        return Err(CredentialError::InsecureUrl {
            what,
            url: redact_urls_in(url.as_str()),
        });
    }
    if let AuthPlan::Basic {
        password,
        source,
        tied: false,
        ..
    } = plan
    {
        let from_token_variable = *source == format!("`{}`", env_vars::PYPI_API_TOKEN);
        if repository.known.is_none()
            && (from_token_variable || password.expose().starts_with(PYPI_TOKEN_PREFIX))
        {
            return Err(CredentialError::TokenForOtherIndex {
                origin: source.clone(),
                url: redact_urls_in(url.as_str()),
            });
        }
    }
    Ok(())
}

/// How PyPI and TestPyPI API tokens start.
pub const PYPI_TOKEN_PREFIX: &str = "pypi-";

fn plan_auth(
    repository: &Repository,
    args: &CredentialArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(AuthPlan, Vec<String>), CredentialError> {
    let env = |name: &str| env(name).filter(|v| !v.is_empty());
    let mut warnings = Vec::new();
    let oidc = OidcEnv::from_env(&env)?;
    let on_actions = env("GITHUB_ACTIONS").is_some_and(|v| v == "true");
    let no_oidc_reason = || {
        format!(
            "`{}` is not set{}",
            env_vars::ACTIONS_ID_TOKEN_REQUEST_URL,
            if on_actions {
                " (the job lacks `permissions: id-token: write`, or runs for a pull request from a fork)"
            } else {
                " (not running in a GitHub Actions job that may request an OIDC token)"
            }
        )
    };
    if args.trusted_publishing == TrustedPublishing::Always {
        return match oidc {
            Some(oidc) => Ok((AuthPlan::TrustedPublishing(oidc), warnings)),
            None => Err(CredentialError::NoOidc {
                oidc: no_oidc_reason(),
                hint: ID_TOKEN_HINT.to_owned(),
            }),
        };
    }

    let section = repository.section.as_ref();
    let password = if let Some(var) = &args.password_env {
        let value = env(var).ok_or_else(|| CredentialError::PasswordEnvUnset(var.clone()))?;
        Some((Secret::new(value), format!("`{var}`"), false))
    } else {
        [
            env_vars::WHEELWRIGHT_PASSWORD,
            env_vars::TWINE_PASSWORD,
            env_vars::PYPI_API_TOKEN,
        ]
        .into_iter()
        .find_map(|var| env(var).map(|v| (Secret::new(v), format!("`{var}`"), false)))
        .or_else(|| {
            let section = section?;
            let password = section.password.clone().filter(|p| !p.is_empty())?;
            Some((
                password,
                format!("section `[{}]` of the config file", section.name),
                true,
            ))
        })
    };
    let username = args
        .username
        .clone()
        .map(|u| (u, true))
        .or_else(|| env(env_vars::WHEELWRIGHT_USERNAME).map(|u| (u, true)))
        .or_else(|| env(env_vars::TWINE_USERNAME).map(|u| (u, true)))
        .or_else(|| section.and_then(|s| s.username.clone()).map(|u| (u, true)));

    if let Some((password, source, from_section)) = password {
        let is_token = source == format!("`{}`", env_vars::PYPI_API_TOKEN)
            || password.expose().starts_with(PYPI_TOKEN_PREFIX);
        let tied = args.password_env.is_some() || args.username.is_some() || from_section;
        let username = match username {
            Some((name, _)) if !is_token || name == TOKEN_USERNAME => name,
            Some((name, _)) => {
                warnings.push(format!(
                    "the password from {source} is an API token; it is sent with the user name `{TOKEN_USERNAME}`, not `{name}`"
                ));
                TOKEN_USERNAME.to_owned()
            }
            None if is_token || repository.known.is_some() => TOKEN_USERNAME.to_owned(),
            None => {
                return Err(CredentialError::NoUsername {
                    origin: source,
                    repository: repository.label.clone(),
                });
            }
        };
        return Ok((
            AuthPlan::Basic {
                username,
                password,
                source,
                tied,
            },
            warnings,
        ));
    }
    if args.trusted_publishing == TrustedPublishing::Auto {
        if let Some(oidc) = oidc {
            return Ok((AuthPlan::TrustedPublishing(oidc), warnings));
        }
    }
    if let Some(known) = repository.known {
        let hint = if args.trusted_publishing == TrustedPublishing::Never {
            format!(
                "set `{}` (or `WHEELWRIGHT_PASSWORD`) to an API token of {}",
                env_vars::PYPI_API_TOKEN,
                known.display_name
            )
        } else {
            format!(
                "{ID_TOKEN_HINT}; or set `{}` (or `WHEELWRIGHT_PASSWORD`) to an API token of {}",
                env_vars::PYPI_API_TOKEN,
                known.display_name
            )
        };
        return Err(CredentialError::NoCredentials {
            index: known.display_name.to_owned(),
            oidc: if args.trusted_publishing == TrustedPublishing::Never {
                "trusted publishing is off (`--trusted-publishing never`)".to_owned()
            } else {
                no_oidc_reason()
            },
            hint,
        });
    }
    if let Some((name, _)) = username {
        warnings.push(format!(
            "a user name (`{name}`) but no password: uploading to `{}` without credentials",
            repository.label
        ));
    }
    Ok((AuthPlan::Anonymous, warnings))
}

#[cfg(test)]
mod tests {
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
}
