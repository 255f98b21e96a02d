//! Where the upload goes and who we are there: the repository (a short name, a URL or a
//! `~/.pypirc` section) and the credentials (environment, a `.pypirc`-style file, or trusted
//! publishing). Passwords never come from a plain command-line value: they would show up in
//! process lists and shell history.

use std::path::PathBuf;

use reqwest::Url;

use super::endpoints::{self, KnownIndex};
use super::oidc::{ID_TOKEN_HINT, OidcEnv};
use crate::net::secret::{Secret, redact_urls_in};

mod pypirc;
pub use pypirc::{Pypirc, PypircSection, default_pypirc};

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
    /// The runner's variables for trusted publishing.
    pub use super::super::oidc::env_vars::{
        ACTIONS_ID_TOKEN_REQUEST_TOKEN, ACTIONS_ID_TOKEN_REQUEST_URL,
    };
}

/// The user name index API tokens are sent with.
pub const TOKEN_USERNAME: &str = "__token__";

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
mod tests;
