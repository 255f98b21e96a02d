//! Reading an index's Simple repository API (PEP 503 HTML and PEP 691 JSON) to find out
//! whether a file is already there and with which SHA-256, so re-runs can skip identical
//! files and refuse to paper over different ones.
//!
//! Only the target's own answer counts: the client ([`client`]) follows redirects within the
//! index's origin (`/simple/Foo/` → `/simple/foo/`) but not to another server. pypiserver, by
//! default, answers a project page it does not hold with a redirect to another index (PyPI);
//! what that index lists says nothing about the target, so such a page is an error here
//! ([`SimpleError::Redirected`]) and the caller treats the file as unknown.

use std::time::Duration;

use reqwest::{StatusCode, Url, header};
use sha2::Digest as _;

use super::http_log;
use crate::net::secret::{Redactor, Secret, display_url};
use crate::wheel::normalize_name;

/// Most redirects followed within one origin.
const MAX_REDIRECTS: usize = 5;

/// The client for Simple API lookups: redirects only within the origin of the first URL (from
/// [`crate::net`]: our user agent and certificates).
pub fn client(timeout: Duration) -> Result<reqwest::Client, crate::net::NetError> {
    crate::net::client(&crate::net::ClientOptions {
        connect_timeout: Duration::from_secs(10),
        timeout: Some(timeout),
        read_timeout: None,
        redirects: crate::net::Redirects::SameOrigin(MAX_REDIRECTS),
    })
}

/// What the Accept header asks for: PEP 691 JSON first, HTML as a fallback.
const ACCEPT: &str = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01";

/// The largest project page read.
const PAGE_LIMIT: usize = 64 * 1024 * 1024;

/// One file on a project page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedFile {
    /// The file name. Ex) `demo-1.0-py3-none-any.whl`
    pub filename: String,
    /// Where it can be downloaded.
    pub url: Url,
    /// Its hex SHA-256, when the page gives it.
    pub sha256: Option<String>,
}

/// Why the Simple index could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SimpleError {
    /// No answer.
    #[error("cannot read `{url}`: {source}")]
    Transport {
        /// The URL.
        url: String,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
    /// An answer we cannot use.
    #[error("cannot read `{url}`: {detail}")]
    Invalid {
        /// The URL.
        url: String,
        /// What was wrong.
        detail: String,
    },
    /// The index sent us to another server (pypiserver's fallback to another index).
    #[error(
        "`{url}` redirects ({status}) to `{to}`, another server: what that server lists is not on the target index"
    )]
    Redirected {
        /// The URL asked.
        url: String,
        /// The status.
        status: StatusCode,
        /// Where it points.
        to: String,
    },
}

/// A Simple index, with the credentials to read it when it is on the upload URL's origin.
#[derive(Debug, Clone)]
pub struct SimpleIndex {
    client: reqwest::Client,
    /// The index root, ending in `/`. Ex) `http://127.0.0.1:8080/simple/`
    pub base: Url,
    auth: Option<(String, Secret)>,
    redactor: Redactor,
}

impl SimpleIndex {
    /// An index at `base` read with `client` (see [`client`]). `auth` is sent only to `base`'s
    /// origin, so the caller passes it only when that is the upload URL's origin.
    #[must_use]
    pub fn new(
        client: reqwest::Client,
        mut base: Url,
        auth: Option<(String, Secret)>,
        redactor: Redactor,
    ) -> Self {
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        Self {
            client,
            base,
            auth,
            redactor,
        }
    }

    /// A GET request, logged for `-v`; `accept` is the Accept header, if any.
    async fn get(&self, url: Url, accept: Option<&str>) -> Result<reqwest::Response, SimpleError> {
        let same_origin = url.origin() == self.base.origin();
        let mut request = self.client.get(url.clone());
        if let Some(accept) = accept {
            request = request.header(header::ACCEPT, accept);
        }
        if let (Some((user, password)), true) = (&self.auth, same_origin) {
            request = request.basic_auth(user, Some(password.expose()));
        }
        let transport = |source| SimpleError::Transport {
            url: display_url(&url),
            source,
        };
        let request = request.build().map_err(transport)?;
        http_log::request(&self.redactor, "GET", &url, request.headers(), "");
        let reply = self.client.execute(request).await.map_err(|err| {
            tracing::debug!(
                "GET {} failed: {}",
                self.redactor.redact(&display_url(&url)),
                http_log::one_line(&self.redactor.redact(&err.to_string()))
            );
            transport(err)
        })?;
        let status = reply.status();
        if status.is_redirection() {
            self.log_head(&reply);
            let to = reply
                .headers()
                .get(header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| reply.url().join(l).ok())
                .map_or_else(|| "(no Location header)".to_owned(), |u| display_url(&u));
            return Err(SimpleError::Redirected {
                url: display_url(&url),
                status,
                to,
            });
        }
        Ok(reply)
    }

    /// Logs an answer's status and headers for `-v` (its body is not read or not shown).
    fn log_head(&self, reply: &reqwest::Response) {
        http_log::response(
            &self.redactor,
            "GET",
            reply.url(),
            reply.status(),
            None,
            reply.headers(),
            b"",
        );
    }

    /// Reads a whole answer (at most `limit` bytes kept) and logs it for `-v`.
    async fn body(
        &self,
        mut reply: reqwest::Response,
        limit: usize,
    ) -> Result<(reqwest::Response, Vec<u8>), SimpleError> {
        let mut body = Vec::new();
        let url = reply.url().clone();
        while let Some(chunk) = reply
            .chunk()
            .await
            .map_err(|source| SimpleError::Transport {
                url: display_url(&url),
                source,
            })?
        {
            if body.len() + chunk.len() > limit {
                return Err(SimpleError::Invalid {
                    url: display_url(&url),
                    detail: "the page is too large".to_owned(),
                });
            }
            body.extend_from_slice(&chunk);
        }
        http_log::response(
            &self.redactor,
            "GET",
            &url,
            reply.status(),
            None,
            reply.headers(),
            &body,
        );
        Ok((reply, body))
    }

    /// The files of `project` (any spelling; normalised per PEP 503). A 404 is no files.
    pub async fn project_files(&self, project: &str) -> Result<Vec<IndexedFile>, SimpleError> {
        let page = self
            .base
            .join(&format!("{}/", normalize_name(project)))
            .map_err(|e| SimpleError::Invalid {
                url: display_url(&self.base),
                detail: e.to_string(),
            })?;
        let shown = display_url(&page);
        let reply = self.get(page.clone(), Some(ACCEPT)).await?;
        let status = reply.status();
        let (reply, body) = self.body(reply, PAGE_LIMIT).await?;
        if status == StatusCode::NOT_FOUND {
            return Ok(Vec::new());
        }
        if !status.is_success() {
            return Err(SimpleError::Invalid {
                url: shown,
                detail: format!("status {status}"),
            });
        }
        let final_url = reply.url().clone();
        let content_type = reply
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if content_type.contains("json") {
            parse_json(&body, &final_url)
                .map_err(|detail| SimpleError::Invalid { url: shown, detail })
        } else {
            Ok(parse_html(&String::from_utf8_lossy(&body), &final_url))
        }
    }

    /// The SHA-256 of a listed file: from the page, or by downloading and hashing it.
    pub async fn sha256_of(&self, file: &IndexedFile) -> Result<String, SimpleError> {
        if let Some(sha) = &file.sha256 {
            return Ok(sha.to_ascii_lowercase());
        }
        self.download(file, &mut std::io::sink(), u64::MAX).await
    }

    /// Downloads a listed file into `out` (at most `limit` bytes); its hex SHA-256.
    pub async fn download(
        &self,
        file: &IndexedFile,
        out: &mut dyn std::io::Write,
        limit: u64,
    ) -> Result<String, SimpleError> {
        let shown = display_url(&file.url);
        let mut reply = self.get(file.url.clone(), None).await?;
        self.log_head(&reply);
        if !reply.status().is_success() {
            return Err(SimpleError::Invalid {
                url: shown,
                detail: format!("status {}", reply.status()),
            });
        }
        let mut hasher = sha2::Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = reply
            .chunk()
            .await
            .map_err(|source| SimpleError::Transport {
                url: shown.clone(),
                source,
            })?
        {
            size += chunk.len() as u64;
            if size > limit {
                return Err(SimpleError::Invalid {
                    url: shown,
                    detail: format!("larger than {limit} bytes"),
                });
            }
            hasher.update(&chunk);
            out.write_all(&chunk).map_err(|e| SimpleError::Invalid {
                url: shown.clone(),
                detail: format!("cannot write the download: {e}"),
            })?;
        }
        Ok(super::dist::hex(&hasher.finalize()))
    }

    /// Whether `base` answers like a Simple index root (2xx, HTML or Simple JSON, no redirect
    /// to another server).
    async fn answers(&self) -> bool {
        let Ok(reply) = self.get(self.base.clone(), Some(ACCEPT)).await else {
            return false;
        };
        let html_or_json = reply
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.contains("html") || t.contains("vnd.pypi.simple"));
        let success = reply.status().is_success();
        // The root page can be large; only its status and type matter.
        self.log_head(&reply);
        success && html_or_json
    }
}

/// Finds the Simple index that belongs to an upload URL: `…/legacy/` → `…/simple/`
/// (Warehouse), `<url>+simple/` (devpi), `<url>simple/` (pypiserver). `None` when none answers.
pub async fn discover(
    client: &reqwest::Client,
    upload_url: &Url,
    auth: Option<(String, Secret)>,
    redactor: &Redactor,
) -> Option<SimpleIndex> {
    let mut base = upload_url.clone();
    base.set_query(None);
    base.set_fragment(None);
    let trimmed = base.path().trim_end_matches('/').to_owned();
    let mut candidates = Vec::new();
    if let Some(parent) = trimmed.strip_suffix("/legacy") {
        let mut url = base.clone();
        url.set_path(&format!("{parent}/simple/"));
        candidates.push(url);
    }
    for suffix in ["+simple/", "simple/"] {
        let mut url = base.clone();
        url.set_path(&format!("{trimmed}/{suffix}"));
        candidates.push(url);
    }
    for candidate in candidates {
        let index = SimpleIndex::new(client.clone(), candidate, auth.clone(), redactor.clone());
        if index.answers().await {
            tracing::debug!(url = %display_url(&index.base), "found the simple index");
            return Some(index);
        }
    }
    None
}

#[derive(serde::Deserialize)]
struct JsonPage {
    files: Vec<JsonFile>,
}

#[derive(serde::Deserialize)]
struct JsonFile {
    filename: String,
    url: String,
    #[serde(default)]
    hashes: std::collections::HashMap<String, String>,
}

/// Parses a PEP 691 JSON project page.
pub fn parse_json(body: &[u8], page: &Url) -> Result<Vec<IndexedFile>, String> {
    let parsed: JsonPage =
        serde_json::from_slice(body).map_err(|e| format!("invalid JSON: {e}"))?;
    parsed
        .files
        .into_iter()
        .map(|f| {
            let url = page
                .join(&f.url)
                .map_err(|e| format!("bad URL `{}`: {e}", f.url))?;
            Ok(IndexedFile {
                filename: f.filename,
                url,
                sha256: f.hashes.get("sha256").cloned(),
            })
        })
        .collect()
}

/// Parses a PEP 503 HTML project page: every `<a href="…#sha256=…">filename</a>`.
#[must_use]
pub fn parse_html(body: &str, page: &Url) -> Vec<IndexedFile> {
    let lower = body.to_ascii_lowercase();
    let mut files = Vec::new();
    let mut pos = 0;
    while let Some(found) = lower[pos..].find("<a") {
        let start = pos + found;
        let after = lower.as_bytes().get(start + 2).copied().unwrap_or(b'>');
        let Some(tag_end) = lower[start..].find('>').map(|e| start + e) else {
            break;
        };
        pos = tag_end + 1;
        if !(after.is_ascii_whitespace() || after == b'>') {
            continue;
        }
        let Some(href) = attribute(&body[start + 2..tag_end], "href") else {
            continue;
        };
        let text_end = lower[pos..].find("</a").map_or(body.len(), |e| pos + e);
        let text = unescape(body[pos..text_end].trim());
        let Ok(url) = page.join(&unescape(&href)) else {
            continue;
        };
        let sha256 = url
            .fragment()
            .and_then(|f| f.strip_prefix("sha256="))
            .map(str::to_owned);
        let filename = if text.is_empty() {
            percent_decode(
                url.path_segments()
                    .and_then(|mut s| s.next_back())
                    .unwrap_or(""),
            )
        } else {
            text
        };
        files.push(IndexedFile {
            filename,
            url,
            sha256,
        });
        pos = text_end;
    }
    files
}

/// The value of attribute `name` in the inside of a start tag (quoted or bare).
fn attribute(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut search = 0;
    while let Some(found) = lower[search..].find(name) {
        let at = search + found;
        search = at + name.len();
        let before_ok = at == 0 || lower.as_bytes()[at - 1].is_ascii_whitespace();
        let rest = tag[at + name.len()..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let value = rest[1..].trim_start();
        return Some(match value.chars().next() {
            Some(quote @ ('"' | '\'')) => value[1..].split(quote).next().unwrap_or("").to_owned(),
            _ => value
                .split(|c: char| c.is_whitespace())
                .next()
                .unwrap_or("")
                .to_owned(),
        });
    }
    None
}

/// Decodes `%XX` escapes (invalid ones are kept as they are).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Decodes the few character references that appear in Simple index pages.
fn unescape(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let Some(semi) = rest.find(';').filter(|&s| s <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pypiserver_style_html() {
        let page = Url::parse("http://127.0.0.1:1/simple/demo/").unwrap();
        let html = r#"<!DOCTYPE html><html><head><title>Links for demo</title></head><body>
            <h1>Links for demo</h1>
            <a href="../../packages/demo-1.0.tar.gz#sha256=ABC123">demo-1.0.tar.gz</a><br>
            <A HREF='/packages/demo-1.0-py3-none-any.whl' data-requires-python="&gt;=3.8">demo-1.0-py3-none-any.whl</A>
            <a name="x">not a link</a><abbr>no</abbr>
            <a href="/p/x%2By-1.0.tar.gz"></a>
            </body></html>"#;
        let files = parse_html(html, &page);
        assert_eq!(files.len(), 3, "{files:?}");
        assert_eq!(files[0].filename, "demo-1.0.tar.gz");
        assert_eq!(
            files[0].url.as_str(),
            "http://127.0.0.1:1/packages/demo-1.0.tar.gz#sha256=ABC123"
        );
        assert_eq!(files[0].sha256.as_deref(), Some("ABC123"));
        assert_eq!(files[1].filename, "demo-1.0-py3-none-any.whl");
        assert_eq!(files[1].sha256, None);
        assert_eq!(files[2].filename, "x+y-1.0.tar.gz");
    }

    #[test]
    fn parses_pep691_json() {
        let page = Url::parse("http://127.0.0.1:1/u/i/+simple/demo/").unwrap();
        let json = br#"{"meta":{"api-version":"1.0"},"name":"demo","files":[
            {"filename":"demo-1.0.tar.gz","url":"../../+f/abc/demo-1.0.tar.gz","hashes":{"sha256":"ff00"}},
            {"filename":"demo-1.0-py3-none-any.whl","url":"http://h/x.whl","hashes":{}}]}"#;
        let files = parse_json(json, &page).unwrap();
        assert_eq!(
            files[0].url.as_str(),
            "http://127.0.0.1:1/u/i/+f/abc/demo-1.0.tar.gz"
        );
        assert_eq!(files[0].sha256.as_deref(), Some("ff00"));
        assert_eq!(files[1].sha256, None);
        assert!(parse_json(b"{", &page).is_err());
    }

    #[test]
    fn unescapes_references() {
        assert_eq!(unescape("a&amp;b&#60;&#x3E;&bogus;&"), "a&b<>&bogus;&");
    }
}
