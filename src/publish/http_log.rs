//! What `-v` and `-vv` show of the HTTP exchanges with an index (twine's `--verbose`, and more).
//!
//! * `-v` (`debug`): each request's method and URL, the answer's status, the response headers
//!   that say what happened (type, length, location, retry-after, authentication challenge,
//!   server) and the first KiB of the body;
//! * `-vv` (`trace`): also the request headers and form fields, every response header and the
//!   whole body read (up to the reader's limit).
//!
//! Never a secret: `Authorization`, `Cookie` and similar headers show only their scheme, and
//! every line goes through the [`Redactor`] (a server that echoes a token back gets `****`).
//! Text from the server is escaped to one line, so nothing it sends can start a line of its
//! own (a GitHub workflow command, for instance).

use reqwest::header::HeaderMap;
use reqwest::{StatusCode, Url};

use crate::net::secret::{Redactor, display_url};

/// How much of a body `-v` shows.
pub const BODY_EXCERPT: usize = 1024;

/// Response headers shown with `-v` (`-vv` shows all).
const RELEVANT: &[&str] = &[
    "content-type",
    "content-length",
    "location",
    "retry-after",
    "www-authenticate",
    "server",
    "warning",
];

/// Headers whose values are credentials: only the scheme (the first word) is shown.
const SECRET: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
];

/// Whether `-vv` details are wanted.
fn detailed() -> bool {
    tracing::enabled!(tracing::Level::TRACE)
}

/// Text from the network on one line: backslashes and control characters (line breaks
/// included) escaped as `\\`, `\n`, `\u{1b}`, ….
#[must_use]
pub fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    out
}

/// `name: value` for display, with credentials reduced to their scheme.
fn header_line(redactor: &Redactor, name: &str, value: &[u8]) -> String {
    let value = String::from_utf8_lossy(value);
    let shown = if SECRET.contains(&name) {
        match value.split_once(' ') {
            Some((scheme, _)) => format!("{scheme} ****"),
            None => "****".to_owned(),
        }
    } else {
        redactor.redact(&value)
    };
    format!("{name}: {}", one_line(&shown))
}

/// Logs a request about to be sent: `what` says what it carries (a file name and size).
pub fn request(redactor: &Redactor, method: &str, url: &Url, headers: &HeaderMap, what: &str) {
    if !tracing::enabled!(tracing::Level::DEBUG) {
        return;
    }
    let what = if what.is_empty() {
        String::new()
    } else {
        format!(" ({what})")
    };
    tracing::debug!(
        "{method} {}{}",
        redactor.redact(&display_url(url)),
        one_line(&what)
    );
    if detailed() {
        for (name, value) in headers {
            tracing::trace!(
                "  > {}",
                header_line(redactor, name.as_str(), value.as_bytes())
            );
        }
    }
}

/// Logs one form field of an upload (`-vv`).
pub fn form_field(redactor: &Redactor, name: &str, value: &str) {
    if detailed() {
        tracing::trace!(
            "  > field {}={}",
            one_line(name),
            one_line(&redactor.redact(&excerpt(value, BODY_EXCERPT)))
        );
    }
}

/// Logs an answer: status (with the server's reason phrase when it is not the standard one),
/// headers and body as described in the module documentation.
pub fn response(
    redactor: &Redactor,
    method: &str,
    url: &Url,
    status: StatusCode,
    reason: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) {
    if !tracing::enabled!(tracing::Level::DEBUG) {
        return;
    }
    let canonical = status.canonical_reason().unwrap_or("");
    let reason = reason
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .unwrap_or(canonical);
    tracing::debug!(
        "{method} {} -> {} {}",
        redactor.redact(&display_url(url)),
        status.as_u16(),
        one_line(&redactor.redact(reason))
    );
    let all = detailed();
    for (name, value) in headers {
        if all || RELEVANT.contains(&name.as_str()) {
            tracing::debug!(
                "  < {}",
                header_line(redactor, name.as_str(), value.as_bytes())
            );
        }
    }
    if body.is_empty() {
        return;
    }
    let text = String::from_utf8_lossy(body);
    let limit = if all { usize::MAX } else { BODY_EXCERPT };
    let shown = excerpt(&text, limit);
    let more = if shown.len() < text.len() {
        format!(", first {} shown", shown.len())
    } else {
        String::new()
    };
    tracing::debug!(
        "  < body ({} bytes{more}): {}",
        body.len(),
        one_line(&redactor.redact(&shown))
    );
}

/// At most `limit` bytes of `text`, cut at a character boundary.
fn excerpt(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_owned();
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_escaped_and_secrets_hidden() {
        let redactor = Redactor::default();
        redactor.add(&crate::net::Secret::new("pypi-fake-token"));
        assert_eq!(
            one_line("a\n::error::x\r'q'\\ \u{1b}[31m"),
            "a\\n::error::x\\r'q'\\\\ \\u{1b}[31m"
        );
        assert_eq!(
            header_line(
                &redactor,
                "authorization",
                b"Basic X190b2tlbl9fOnNlY3JldA=="
            ),
            "authorization: Basic ****"
        );
        assert_eq!(
            header_line(&redactor, "x-echo", b"you sent pypi-fake-token"),
            "x-echo: you sent ****"
        );
        assert_eq!(excerpt("héllo", 2), "h");
        assert_eq!(excerpt("héllo", 3), "hé");
    }
}
