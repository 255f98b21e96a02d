//! Secrets that never reach a log: a [`Secret`] string whose `Debug`/`Display` print `****`,
//! URL display without credentials or query, and a [`Redactor`] that scrubs known secrets from
//! any text (error messages, server replies) before it is printed. Every password and token
//! wheelwright holds (index passwords and tokens, the OIDC request and ID tokens, the Actions
//! runtime token, `GITHUB_TOKEN`) is a [`Secret`]; it is sent only as a header or form field,
//! never in a command line or a URL we build.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use reqwest::Url;

/// A password or token. Only [`Secret::expose`] gives the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    #[must_use]
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// Wraps a secret value and asks the Actions runner to mask it in all later log output
    /// (for secrets read from the environment that no [`Redactor`] sees).
    #[must_use]
    pub fn masked(value: impl Into<String>) -> Self {
        let secret = Self::new(value);
        crate::ui::github::add_mask(secret.expose());
        secret
    }

    /// The value, for the one place that must send it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the value is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(****)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

/// `url` for display: a password in the userinfo becomes `****` (the user name is kept).
#[must_use]
pub fn display_url(url: &Url) -> String {
    if url.password().is_none() {
        return url.to_string();
    }
    let mut shown = url.clone();
    // Setting a password fails only for URLs that cannot have one (no host), which had none.
    let _ = shown.set_password(Some("****"));
    shown.to_string()
}

/// `url` without its query and fragment, for messages (signed URLs carry their secret there).
#[must_use]
pub fn redact_url(url: &str) -> String {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    let mut shown = url[..end].to_owned();
    if end < url.len() {
        shown.push_str("?…");
    }
    shown
}

/// Redacts the credentials of every `scheme://user:password@` in free text (a URL as the user
/// typed it, possibly unparsable).
#[must_use]
pub fn redact_urls_in(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("://") {
        let (head, tail) = rest.split_at(start + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c.is_whitespace() || c == '`' || c == '"' || c == '\'')
            .unwrap_or(tail.len());
        let authority_end = tail[..end].find(['/', '?', '#']).unwrap_or(end);
        match tail[..authority_end].rfind('@') {
            Some(at) => {
                let userinfo = &tail[..at];
                match userinfo.split_once(':') {
                    Some((user, _)) => {
                        out.push_str(user);
                        out.push_str(":****");
                    }
                    None => out.push_str("****"),
                }
                rest = &tail[at..];
            }
            None => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

/// Scrubs registered secrets from text. Cheap to clone; all clones share the list.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Arc<Mutex<Vec<String>>>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Redactor")
    }
}

impl Redactor {
    /// Registers a secret (and asks the Actions runner to mask it). Values shorter than 4
    /// characters are masked on Actions but not replaced in text: they would garble it.
    pub fn add(&self, secret: &Secret) {
        let value = secret.expose();
        if value.trim().is_empty() {
            return;
        }
        if value.len() < 4 {
            crate::ui::github::add_mask(value);
            return;
        }
        let mut secrets = self.secrets.lock().unwrap_or_else(PoisonError::into_inner);
        if !secrets.iter().any(|known| known == value) {
            crate::ui::github::add_mask(value);
            secrets.push(value.to_owned());
            // Longest first, so a secret containing another is replaced whole.
            secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// Registers a password and the `Authorization: Basic` value it is sent in: a server that
    /// echoes the header back must not print the password in base64 either.
    pub fn add_basic(&self, username: &str, password: &Secret) {
        use base64::Engine as _;
        self.add(password);
        let encoded = base64::engine::general_purpose::STANDARD
            .encode(format!("{username}:{}", password.expose()));
        self.add(&Secret::new(encoded));
    }

    /// `text` with every registered secret replaced by `****` and URL credentials redacted.
    #[must_use]
    pub fn redact(&self, text: &str) -> String {
        let mut out = redact_urls_in(text);
        let secrets = self.secrets.lock().unwrap_or_else(PoisonError::into_inner);
        for secret in secrets.iter() {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), "****");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print() {
        let secret = Secret::new("pypi-fake-token-for-tests");
        assert_eq!(format!("{secret} {secret:?}"), "**** Secret(****)");
        assert_eq!(secret.expose(), "pypi-fake-token-for-tests");
    }

    #[test]
    fn secrets_do_not_format() {
        let s = Secret::masked("hunter2");
        assert_eq!(format!("{s} {s:?}"), "**** Secret(****)");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn urls_lose_their_query_in_messages() {
        assert_eq!(
            redact_url("https://x.blob/c/b?sv=1&sig=abc%3D"),
            "https://x.blob/c/b?…"
        );
        assert_eq!(
            redact_url("http://127.0.0.1:1/twirp"),
            "http://127.0.0.1:1/twirp"
        );
    }

    #[test]
    fn urls_lose_their_password() {
        let url = Url::parse("https://user:hunter2@example.test/legacy/").unwrap();
        assert_eq!(display_url(&url), "https://user:****@example.test/legacy/");
        let plain = Url::parse("https://example.test/legacy/").unwrap();
        assert_eq!(display_url(&plain), "https://example.test/legacy/");
        assert_eq!(
            redact_urls_in(
                "see `https://me:s3cret@host:8/x?y#z` and http://tok@h/ and ftp://h/a@b"
            ),
            "see `https://me:****@host:8/x?y#z` and http://****@h/ and ftp://h/a@b"
        );
    }

    #[test]
    fn redactor_scrubs_registered_secrets() {
        let redactor = Redactor::default();
        redactor.add(&Secret::new("hunter2-token"));
        redactor.add(&Secret::new("abc"));
        let other = redactor.clone();
        other.add(&Secret::new("hunter2-token-long"));
        assert_eq!(
            redactor.redact("bad token hunter2-token-long / hunter2-token (abc)"),
            "bad token **** / **** (abc)"
        );
        redactor.add_basic("__token__", &Secret::new("pypi-basic-secret"));
        assert_eq!(
            redactor.redact("Basic X190b2tlbl9fOnB5cGktYmFzaWMtc2VjcmV0 pypi-basic-secret"),
            "Basic **** ****"
        );
    }
}
