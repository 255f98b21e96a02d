//! Uploading an artifact: the payload (files and their zip entry names), the deterministic
//! zip, `CreateArtifact`, the blocks to the signed URL and `FinalizeArtifact`.

use std::collections::{BTreeMap, HashSet};
use std::io::{Read as _, Seek, Write};
use std::path::{Component, Path, PathBuf};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::super::env_nonempty;
use super::{
    ARTIFACT_VERSION, ArtifactError, BLOCK_SIZE, Client, MAX_BLOCKS, Result, X_MS_VERSION,
    check_blob, hex, mask_signature, temp_dir, validate_name,
};
use crate::net::secret::redact_url;

/// The files of an artifact: zip entry names (relative to the common root of the paths given,
/// `/`-separated) and where each file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Payload {
    /// The directory entry names are relative to.
    pub root: PathBuf,
    /// Entry name → file, sorted by name.
    pub files: BTreeMap<String, PathBuf>,
}

/// Collects the files below `paths` (directories recursively, symlinks followed, loops
/// skipped). Entry names are relative to the deepest directory containing every path given
/// (a directory counts as itself, a file as its parent), as upload-artifact does.
pub(crate) fn collect(paths: &[PathBuf]) -> Result<Payload> {
    let mut found: Vec<PathBuf> = Vec::new();
    let mut roots: Vec<PathBuf> = Vec::new();
    for path in paths {
        let abs = std::path::absolute(path).map_err(|source| ArtifactError::Path {
            path: path.clone(),
            source,
        })?;
        let abs = normalize(&abs);
        let meta = std::fs::metadata(&abs).map_err(|e| ArtifactError::Path {
            path: path.clone(),
            source: e,
        })?;
        if meta.is_dir() {
            roots.push(abs.clone());
            let mut seen = HashSet::new();
            walk(&abs, &mut found, &mut seen)?;
        } else {
            roots.push(abs.parent().map_or_else(|| abs.clone(), Path::to_path_buf));
            found.push(abs);
        }
    }
    let root = common_ancestor(&roots);
    let mut files = BTreeMap::new();
    for file in found {
        let rel = file.strip_prefix(&root).unwrap_or(&file);
        let mut name = String::new();
        for part in rel.components() {
            let Component::Normal(part) = part else {
                continue;
            };
            let part = part
                .to_str()
                .ok_or_else(|| ArtifactError::NonUtf8Name { path: file.clone() })?;
            if !name.is_empty() {
                name.push('/');
            }
            name.push_str(part);
        }
        files.insert(name, file);
    }
    if files.is_empty() {
        let shown: Vec<String> = paths.iter().map(|p| format!("`{}`", p.display())).collect();
        return Err(ArtifactError::NoFiles {
            paths: shown.join(", "),
        });
    }
    Ok(Payload { root, files })
}

/// Removes `.` and resolves `..` lexically (the path is absolute).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>, seen: &mut HashSet<PathBuf>) -> Result<()> {
    let real = std::fs::canonicalize(dir).map_err(|e| ArtifactError::Path {
        path: dir.to_owned(),
        source: e,
    })?;
    if !seen.insert(real) {
        // A symlink loop back to a directory already being walked.
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| ArtifactError::Path {
            path: dir.to_owned(),
            source: e,
        })?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .map_err(|source| ArtifactError::Path {
            path: dir.to_owned(),
            source,
        })?;
    entries.sort();
    for entry in entries {
        let meta = std::fs::metadata(&entry).map_err(|e| ArtifactError::Path {
            path: entry.clone(),
            source: e,
        })?;
        if meta.is_dir() {
            walk(&entry, found, seen)?;
        } else if meta.is_file() {
            found.push(entry);
        }
    }
    Ok(())
}

fn common_ancestor(paths: &[PathBuf]) -> PathBuf {
    let mut iter = paths.iter();
    let Some(first) = iter.next() else {
        return PathBuf::new();
    };
    let mut common: Vec<Component<'_>> = first.components().collect();
    for path in iter {
        let n = common
            .iter()
            .zip(path.components())
            .take_while(|(a, b)| **a == *b)
            .count();
        common.truncate(n);
    }
    common.iter().collect()
}

/// Extensions of files that are compressed already: stored, not deflated again.
const COMPRESSED_EXTENSIONS: &[&str] = &[
    "whl", "zip", "gz", "tgz", "bz2", "xz", "zst", "lz4", "7z", "jar", "png", "jpg", "jpeg", "gif",
    "webp",
];

fn is_compressed(name: &str) -> bool {
    name.rsplit_once('.').is_some_and(|(_, ext)| {
        COMPRESSED_EXTENSIONS
            .iter()
            .any(|c| ext.eq_ignore_ascii_case(c))
    })
}

/// The entries' timestamp: `SOURCE_DATE_EPOCH` when set (UTC), else 1980-01-01 00:00:00.
fn zip_time() -> zip::DateTime {
    use chrono::{Datelike as _, Timelike as _};
    let Some(epoch) = env_nonempty("SOURCE_DATE_EPOCH").and_then(|v| v.trim().parse::<i64>().ok())
    else {
        return zip::DateTime::DEFAULT;
    };
    let Some(t) = chrono::DateTime::from_timestamp(epoch, 0) else {
        return zip::DateTime::DEFAULT;
    };
    let convert = || -> Option<zip::DateTime> {
        zip::DateTime::from_date_and_time(
            u16::try_from(t.year()).ok()?,
            u8::try_from(t.month()).ok()?,
            u8::try_from(t.day()).ok()?,
            u8::try_from(t.hour()).ok()?,
            u8::try_from(t.minute()).ok()?,
            u8::try_from(t.second()).ok()?,
        )
        .ok()
    };
    convert().unwrap_or(zip::DateTime::DEFAULT)
}

/// Writes the payload as a zip: entries sorted by name, one fixed timestamp, permissions kept,
/// already-compressed files stored and the rest deflated at `level` (0 stores everything).
pub(crate) fn write_zip<W: Write + Seek>(payload: &Payload, out: W, level: u32) -> Result<W> {
    use zip::CompressionMethod;
    use zip::write::SimpleFileOptions;
    let zip_err = |source| ArtifactError::Zip { source };
    let time = zip_time();
    let mut writer = zip::ZipWriter::new(out);
    for (name, path) in &payload.files {
        let mut file = std::fs::File::open(path).map_err(|e| ArtifactError::Path {
            path: path.clone(),
            source: e,
        })?;
        let meta = file.metadata().map_err(|source| ArtifactError::Path {
            path: path.clone(),
            source,
        })?;
        let mode = {
            use std::os::unix::fs::PermissionsExt as _;
            meta.permissions().mode() & 0o777
        };
        let stored = level == 0 || is_compressed(name);
        let options = SimpleFileOptions::default()
            .compression_method(if stored {
                CompressionMethod::Stored
            } else {
                CompressionMethod::Deflated
            })
            .compression_level(if stored { None } else { Some(i64::from(level)) })
            .last_modified_time(time)
            .unix_permissions(mode)
            .large_file(meta.len() >= u64::from(u32::MAX));
        writer.start_file(name.as_str(), options).map_err(zip_err)?;
        std::io::copy(&mut file, &mut writer).map_err(|source| ArtifactError::Path {
            path: path.clone(),
            source,
        })?;
    }
    writer.finish().map_err(zip_err)
}

/// One uploaded artifact.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Uploaded {
    /// Its name.
    pub name: String,
    /// The ID the service gave it.
    pub id: String,
    /// Size of the uploaded zip in bytes.
    pub size: u64,
    /// `sha256:<hex>` of the uploaded zip.
    pub digest: String,
    /// Number of files in it.
    pub files: usize,
    /// Where to see it on GitHub (when the run's variables are there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Serialize)]
struct CreateArtifactRequest<'a> {
    workflow_run_backend_id: &'a str,
    workflow_job_run_backend_id: &'a str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<String>,
    version: u32,
}

#[derive(Deserialize, Debug)]
struct CreateArtifactResponse {
    #[serde(default)]
    ok: bool,
    #[serde(default, alias = "signedUploadUrl")]
    signed_upload_url: String,
}

#[derive(Serialize)]
struct FinalizeArtifactRequest<'a> {
    workflow_run_backend_id: &'a str,
    workflow_job_run_backend_id: &'a str,
    name: &'a str,
    /// int64 as a JSON string.
    size: String,
    hash: String,
}

#[derive(Deserialize, Debug)]
struct FinalizeArtifactResponse {
    #[serde(default)]
    ok: bool,
    /// int64: a string in protobuf JSON, a number from lenient servers.
    #[serde(default, alias = "artifactId")]
    artifact_id: serde_json::Value,
}

/// Parses a reply in either spelling (snake_case or lowerCamelCase); exposed for tests.
#[doc(hidden)]
pub(crate) fn parse_create_reply(body: &[u8]) -> Result<(bool, String)> {
    let r: CreateArtifactResponse =
        serde_json::from_slice(body).map_err(|e| ArtifactError::BadReply {
            method: "CreateArtifact",
            why: e.to_string(),
        })?;
    Ok((r.ok, r.signed_upload_url))
}

/// Parses a `FinalizeArtifact` reply in either spelling; exposed for tests.
#[doc(hidden)]
pub(crate) fn parse_finalize_reply(body: &[u8]) -> Result<(bool, String)> {
    let r: FinalizeArtifactResponse =
        serde_json::from_slice(body).map_err(|e| ArtifactError::BadReply {
            method: "FinalizeArtifact",
            why: e.to_string(),
        })?;
    let id = match r.artifact_id {
        serde_json::Value::String(s) => s,
        serde_json::Value::Number(n) => n.to_string(),
        _ => String::new(),
    };
    Ok((r.ok, id))
}

impl Client {
    /// The retention to ask for: `requested`, clamped to the repository's maximum.
    fn expires_at(&self, requested: Option<u32>) -> Result<Option<String>> {
        let Some(mut days) = requested else {
            return Ok(None);
        };
        if !(1..=90).contains(&days) {
            return Err(ArtifactError::InvalidRetention { days });
        }
        if let Some(max) = self.env.max_retention_days {
            if days > max {
                crate::ui::message(&format!(
                    "warning: retention of {days} days is more than this repository allows; using {max}"
                ));
                days = max;
            }
        }
        let at = chrono::Utc::now() + chrono::Duration::days(i64::from(days));
        Ok(Some(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))
    }

    /// Zips `payload` into a temporary file and uploads it as artifact `name`.
    pub(crate) async fn upload(
        &self,
        name: &str,
        payload: &Payload,
        retention_days: Option<u32>,
        compression_level: u32,
    ) -> Result<Uploaded> {
        validate_name(name)?;
        let expires_at = self.expires_at(retention_days)?;
        let temp =
            tempfile::tempfile_in(temp_dir()).map_err(|source| ArtifactError::Io { source })?;
        let mut zip = write_zip(payload, std::io::BufWriter::new(temp), compression_level)?
            .into_inner()
            .map_err(|e| ArtifactError::Io {
                source: e.into_error(),
            })?;
        let size = zip
            .seek(std::io::SeekFrom::End(0))
            .map_err(|source| ArtifactError::Io { source })?;
        zip.rewind()
            .map_err(|source| ArtifactError::Io { source })?;
        if size.div_ceil(BLOCK_SIZE as u64) > MAX_BLOCKS {
            return Err(ArtifactError::TooLarge { size });
        }

        let ids = &self.env.ids;
        let reply = self
            .twirp(
                "CreateArtifact",
                &CreateArtifactRequest {
                    workflow_run_backend_id: &ids.workflow_run_backend_id,
                    workflow_job_run_backend_id: &ids.workflow_job_run_backend_id,
                    name,
                    expires_at,
                    version: ARTIFACT_VERSION,
                },
            )
            .await?;
        let (ok, signed_url) = parse_create_reply(&reply)?;
        if !ok {
            return Err(ArtifactError::NotOk {
                method: "CreateArtifact",
            });
        }
        if signed_url.is_empty() {
            return Err(ArtifactError::BadReply {
                method: "CreateArtifact",
                why: "no signed upload URL".to_owned(),
            });
        }
        mask_signature(&signed_url);
        tracing::debug!("uploading {size} bytes to {}", redact_url(&signed_url));

        let sha256 = self.put_blocks(&signed_url, zip, size).await?;
        let digest = format!("sha256:{sha256}");

        let reply = self
            .twirp(
                "FinalizeArtifact",
                &FinalizeArtifactRequest {
                    workflow_run_backend_id: &ids.workflow_run_backend_id,
                    workflow_job_run_backend_id: &ids.workflow_job_run_backend_id,
                    name,
                    size: size.to_string(),
                    hash: digest.clone(),
                },
            )
            .await?;
        let (ok, id) = parse_finalize_reply(&reply)?;
        if !ok {
            return Err(ArtifactError::NotOk {
                method: "FinalizeArtifact",
            });
        }
        Ok(Uploaded {
            name: name.to_owned(),
            url: artifact_url(&id),
            id,
            size,
            digest,
            files: payload.files.len(),
        })
    }

    /// Put Block per 8 MiB (in order, one at a time), then Put Block List. Returns the hex
    /// sha256 of exactly the bytes sent.
    async fn put_blocks(
        &self,
        signed_url: &str,
        mut zip: std::fs::File,
        size: u64,
    ) -> Result<String> {
        let sep = if signed_url.contains('?') { '&' } else { '?' };
        let mut hasher = Sha256::new();
        let mut ids = Vec::new();
        let mut sent = 0u64;
        let mut index = 0u32;
        while sent < size {
            let want = usize::try_from((size - sent).min(BLOCK_SIZE as u64)).unwrap_or(BLOCK_SIZE);
            let mut block = vec![0u8; want];
            zip.read_exact(&mut block)
                .map_err(|source| ArtifactError::Io { source })?;
            hasher.update(&block);
            // All ids of a blob must have the same length.
            let id = base64::engine::general_purpose::STANDARD
                .encode(format!("wheelwright-block-{index:06}"));
            let url = format!(
                "{signed_url}{sep}comp=block&blockid={}",
                percent_encoding::utf8_percent_encode(&id, percent_encoding::NON_ALPHANUMERIC)
            );
            let response = self
                .http
                .put(&url)
                .header("x-ms-version", X_MS_VERSION)
                .header("content-type", "application/octet-stream")
                .body(block)
                .send()
                .await
                .map_err(|e| ArtifactError::Http {
                    what: format!("uploading block {index} to {}", redact_url(signed_url)),
                    source: e.without_url(),
                })?;
            check_blob(signed_url, response).await?;
            ids.push(id);
            sent += want as u64;
            index += 1;
        }
        let mut list = String::from(r#"<?xml version="1.0" encoding="utf-8"?><BlockList>"#);
        for id in &ids {
            list.push_str("<Latest>");
            list.push_str(id);
            list.push_str("</Latest>");
        }
        list.push_str("</BlockList>");
        let response = self
            .http
            .put(format!("{signed_url}{sep}comp=blocklist"))
            .header("x-ms-version", X_MS_VERSION)
            .header("x-ms-blob-content-type", "application/zip")
            .header("content-type", "application/xml")
            .body(list)
            .send()
            .await
            .map_err(|e| ArtifactError::Http {
                what: format!("committing the block list at {}", redact_url(signed_url)),
                source: e.without_url(),
            })?;
        check_blob(signed_url, response).await?;
        Ok(hex(&hasher.finalize()))
    }
}

/// `$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID/artifacts/<id>`.
fn artifact_url(id: &str) -> Option<String> {
    let server = env_nonempty("GITHUB_SERVER_URL")?;
    let repo = env_nonempty("GITHUB_REPOSITORY")?;
    let run = env_nonempty("GITHUB_RUN_ID")?;
    if id.is_empty() {
        return None;
    }
    Some(format!(
        "{}/{repo}/actions/runs/{run}/artifacts/{id}",
        server.trim_end_matches('/')
    ))
}
