//! Downloading artifacts: `ListArtifacts`, `GetSignedArtifactURL`, the zip, and extraction
//! that merges artifacts, refuses conflicts and never writes outside the destination.

use std::io::{Seek as _, Write as _};
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::{ArtifactError, Client, Result, hex, mask_signature, snippet, temp_dir};
use crate::net::secret::redact_url;

#[derive(Serialize)]
struct ListArtifactsRequest<'a> {
    workflow_run_backend_id: &'a str,
    workflow_job_run_backend_id: &'a str,
}

#[derive(Deserialize, Debug, Default)]
struct ListArtifactsResponse {
    #[serde(default)]
    artifacts: Vec<ListedArtifact>,
}

#[derive(Deserialize, Debug)]
struct ListedArtifact {
    #[serde(default)]
    name: String,
    /// int64: a string in protobuf JSON, a number from lenient servers.
    #[serde(default, alias = "databaseId")]
    database_id: serde_json::Value,
    #[serde(default)]
    size: serde_json::Value,
}

#[derive(Serialize)]
struct GetSignedArtifactUrlRequest<'a> {
    workflow_run_backend_id: &'a str,
    workflow_job_run_backend_id: &'a str,
    name: &'a str,
}

#[derive(Deserialize, Debug)]
struct GetSignedArtifactUrlResponse {
    #[serde(default, alias = "signedUrl")]
    signed_url: String,
}

fn int64(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// One artifact of the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Listed {
    /// Its name.
    pub name: String,
    /// Its ID.
    pub id: String,
    /// Its size in bytes, as the service reports it.
    pub size: String,
}

/// Parses a `ListArtifacts` reply in either spelling; exposed for tests.
#[doc(hidden)]
pub(crate) fn parse_list_reply(body: &[u8]) -> Result<Vec<Listed>> {
    let r: ListArtifactsResponse =
        serde_json::from_slice(body).map_err(|e| ArtifactError::BadReply {
            method: "ListArtifacts",
            why: e.to_string(),
        })?;
    Ok(r.artifacts
        .into_iter()
        .map(|a| Listed {
            id: int64(&a.database_id),
            size: int64(&a.size),
            name: a.name,
        })
        .collect())
}

/// The artifacts whose name matches `pattern` (a name or a glob such as `wheels-*`), each name
/// once, sorted.
pub(crate) fn matching(listed: &[Listed], pattern: &str) -> Result<Vec<String>> {
    let glob = globset::Glob::new(pattern)
        .map_err(|e| ArtifactError::BadPattern {
            pattern: pattern.to_owned(),
            why: e.kind().to_string(),
        })?
        .compile_matcher();
    let mut names: Vec<String> = listed
        .iter()
        .filter(|a| glob.is_match(&a.name))
        .map(|a| a.name.clone())
        .collect();
    names.sort();
    names.dedup();
    if names.is_empty() {
        let mut available: Vec<String> = listed.iter().map(|a| a.name.clone()).collect();
        available.sort();
        available.dedup();
        return Err(ArtifactError::NoMatch {
            pattern: pattern.to_owned(),
            available,
        });
    }
    Ok(names)
}

/// One downloaded artifact.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Downloaded {
    /// Its name.
    pub name: String,
    /// Size of the zip in bytes.
    pub size: u64,
    /// `sha256:<hex>` of the zip.
    pub digest: String,
    /// The files written (or already there with the same contents), relative to the
    /// destination.
    pub files: Vec<String>,
}

impl Client {
    /// The artifacts of this workflow run.
    pub(crate) async fn list(&self) -> Result<Vec<Listed>> {
        let ids = &self.env.ids;
        let reply = self
            .twirp(
                "ListArtifacts",
                &ListArtifactsRequest {
                    workflow_run_backend_id: &ids.workflow_run_backend_id,
                    workflow_job_run_backend_id: &ids.workflow_job_run_backend_id,
                },
            )
            .await?;
        parse_list_reply(&reply)
    }

    /// Downloads artifact `name` and extracts its files into `dest` (merged with what is there:
    /// a file that exists with the same contents is kept, with other contents is an error).
    pub(crate) async fn download(&self, name: &str, dest: &Path) -> Result<Downloaded> {
        let ids = &self.env.ids;
        let reply = self
            .twirp(
                "GetSignedArtifactURL",
                &GetSignedArtifactUrlRequest {
                    workflow_run_backend_id: &ids.workflow_run_backend_id,
                    workflow_job_run_backend_id: &ids.workflow_job_run_backend_id,
                    name,
                },
            )
            .await?;
        let r: GetSignedArtifactUrlResponse =
            serde_json::from_slice(&reply).map_err(|e| ArtifactError::BadReply {
                method: "GetSignedArtifactURL",
                why: e.to_string(),
            })?;
        if r.signed_url.is_empty() {
            return Err(ArtifactError::BadReply {
                method: "GetSignedArtifactURL",
                why: "no signed URL".to_owned(),
            });
        }
        mask_signature(&r.signed_url);
        let mut response =
            self.http
                .get(&r.signed_url)
                .send()
                .await
                .map_err(|e| ArtifactError::Http {
                    what: format!(
                        "downloading artifact `{name}` from {}",
                        redact_url(&r.signed_url)
                    ),
                    source: e.without_url(),
                })?;
        let status = response.status();
        if !status.is_success() {
            let body = response.bytes().await.unwrap_or_default();
            return Err(ArtifactError::DownloadFailed {
                name: name.to_owned(),
                url: redact_url(&r.signed_url),
                status: status.as_u16(),
                body: snippet(&body),
            });
        }
        let mut zip =
            tempfile::tempfile_in(temp_dir()).map_err(|source| ArtifactError::Io { source })?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = response.chunk().await.map_err(|e| ArtifactError::Http {
            what: format!("downloading artifact `{name}`"),
            source: e.without_url(),
        })? {
            hasher.update(&chunk);
            size += chunk.len() as u64;
            zip.write_all(&chunk)
                .map_err(|source| ArtifactError::Io { source })?;
        }
        zip.rewind()
            .map_err(|source| ArtifactError::Io { source })?;
        let files = extract_zip(name, zip, dest)?;
        Ok(Downloaded {
            name: name.to_owned(),
            size,
            digest: format!("sha256:{}", hex(&hasher.finalize())),
            files,
        })
    }
}

/// Extracts an artifact zip into `dest`: every entry must stay inside it (no absolute paths,
/// no `..`); each file is written under a temporary name and renamed, so no half-written file
/// is left behind; a file already there with the same bytes is kept, with other bytes is an
/// error (two artifacts disagreeing about one file).
pub(crate) fn extract_zip(name: &str, zip: std::fs::File, dest: &Path) -> Result<Vec<String>> {
    let bad = |why: String| ArtifactError::Extract {
        name: name.to_owned(),
        why,
    };
    let mut archive = zip::ZipArchive::new(std::io::BufReader::new(zip))
        .map_err(|e| bad(format!("not a zip: {e}")))?;
    fs_err::create_dir_all(dest).map_err(|source| ArtifactError::Io { source })?;
    let mut written = Vec::new();
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|e| bad(format!("entry {index}: {e}")))?;
        let Some(rel) = entry.enclosed_name() else {
            return Err(bad(format!(
                "entry `{}` would be written outside the destination",
                entry
                    .name()
                    .map_or_else(|_| "(not UTF-8)".to_owned(), |n| n.into_owned())
            )));
        };
        let target = dest.join(&rel);
        if entry.is_dir() {
            fs_err::create_dir_all(&target).map_err(|source| ArtifactError::Io { source })?;
            continue;
        }
        if let Some(parent) = target.parent() {
            fs_err::create_dir_all(parent).map_err(|source| ArtifactError::Io { source })?;
        }
        // Named for this process: removed on an interrupt, and by a later run if this one is
        // killed.
        let mut temp = crate::scratch::file_in(target.parent().unwrap_or(dest), ".part", 0o666)
            .map_err(|source| ArtifactError::Io { source })?;
        std::io::copy(&mut entry, &mut temp)
            .map_err(|e| bad(format!("entry `{}`: {e}", rel.display())))?;
        // The file keeps the mode it was uploaded with (the temporary file is `rw-------`).
        let mode = entry
            .unix_mode()
            .map_or(crate::wheel::mode::FRESH_MODE, |m| m & 0o777);
        crate::wheel::mode::set_mode(temp.as_file(), mode)
            .map_err(|source| ArtifactError::Io { source })?;
        let shown = rel.to_string_lossy().replace('\\', "/");
        if target.exists() {
            let same = fs_err::read(&target)
                .and_then(|old| fs_err::read(temp.path()).map(|new| old == new))
                .map_err(|source| ArtifactError::Io { source })?;
            if !same {
                return Err(ArtifactError::Conflict { path: target });
            }
        } else {
            temp.persist(&target)
                .map_err(|e| ArtifactError::Io { source: e.error })?;
        }
        written.push(shown);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_replies_in_both_spellings() {
        let act = br#"{"artifacts":[{"workflowRunBackendId":"1","workflowJobRunBackendId":"2","databaseId":"17","name":"wheels-linux-x86_64","size":"2093","createdAt":"2024-01-23T00:13:28Z"}]}"#;
        let github = br#"{"artifacts":[{"workflow_run_backend_id":"1","database_id":"18","name":"wheels-linux-i686","size":"10"},{"name":"logs","database_id":19}]}"#;
        assert_eq!(
            parse_list_reply(act).expect("act"),
            [Listed {
                name: "wheels-linux-x86_64".to_owned(),
                id: "17".to_owned(),
                size: "2093".to_owned()
            }]
        );
        let listed = parse_list_reply(github).expect("github");
        assert_eq!(listed[1].id, "19");
        assert_eq!(parse_list_reply(b"{}").expect("empty"), []);
        assert!(parse_list_reply(b"not json").is_err());
    }

    #[test]
    fn patterns_select_artifacts_and_say_what_exists() {
        let listed = parse_list_reply(
            br#"{"artifacts":[{"name":"wheels-linux-i686"},{"name":"logs"},{"name":"wheels-linux-x86_64"}]}"#,
        )
        .expect("parses");
        assert_eq!(
            matching(&listed, "wheels-*").expect("matches"),
            ["wheels-linux-i686", "wheels-linux-x86_64"]
        );
        assert_eq!(matching(&listed, "logs").expect("exact"), ["logs"]);
        assert_eq!(
            matching(&listed, "sdist").expect_err("none").to_string(),
            "no artifact of this run matches `sdist` (it has: logs, wheels-linux-i686, wheels-linux-x86_64)"
        );
        assert!(matching(&listed, "wheels-[").is_err());
    }

    fn zip_of(entries: &[(&str, &[u8])]) -> std::fs::File {
        let mut file = tempfile::tempfile().expect("temp");
        {
            let mut writer = zip::ZipWriter::new(&mut file);
            for (name, data) in entries {
                writer
                    .start_file(*name, zip::write::SimpleFileOptions::default())
                    .expect("entry");
                writer.write_all(data).expect("data");
            }
            writer.finish().expect("finish");
        }
        file.rewind().expect("rewind");
        file
    }

    #[test]
    fn extracted_files_keep_their_mode() {
        use std::os::unix::fs::PermissionsExt as _;
        let mut file = tempfile::tempfile().expect("temp");
        {
            let mut writer = zip::ZipWriter::new(&mut file);
            for (name, mode) in [("plain.whl", None), ("private.whl", Some(0o640))] {
                let mut options = zip::write::SimpleFileOptions::default();
                if let Some(mode) = mode {
                    options = options.unix_permissions(mode);
                }
                writer.start_file(name, options).expect("entry");
                writer.write_all(b"wheel").expect("data");
            }
            writer.finish().expect("finish");
        }
        file.rewind().expect("rewind");
        let dir = tempfile::tempdir().expect("tempdir");
        extract_zip("modes", file, dir.path()).expect("extracts");
        let mode = |name: &str| {
            fs_err::metadata(dir.path().join(name))
                .expect("metadata")
                .permissions()
                .mode()
                & 0o777
        };
        // Not the temporary file's `rw-------`.
        assert_eq!(mode("plain.whl"), 0o644);
        assert_eq!(mode("private.whl"), 0o640);
    }

    #[test]
    fn extraction_merges_refuses_conflicts_and_escapes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let dest = dir.path().join("wheelhouse");
        let files = extract_zip(
            "a",
            zip_of(&[("a.whl", b"one"), ("sub/b.txt", b"two")]),
            &dest,
        )
        .expect("extracts");
        assert_eq!(files, ["a.whl", "sub/b.txt"]);
        assert_eq!(fs_err::read(dest.join("sub/b.txt")).expect("read"), b"two");
        // The same file again (another artifact, a re-run) is fine; other bytes are not.
        extract_zip(
            "b",
            zip_of(&[("a.whl", b"one"), ("c.whl", b"three")]),
            &dest,
        )
        .expect("merges");
        let err = extract_zip("c", zip_of(&[("a.whl", b"other")]), &dest).expect_err("conflict");
        assert!(
            err.to_string()
                .contains("already there with other contents"),
            "{err}"
        );
        assert_eq!(fs_err::read(dest.join("a.whl")).expect("read"), b"one");
        let err = extract_zip("d", zip_of(&[("../escape.txt", b"x")]), &dest).expect_err("slip");
        assert!(err.to_string().contains("outside the destination"), "{err}");
        assert!(!dir.path().join("escape.txt").exists());
        let mut names: Vec<String> = fs_err::read_dir(&dest)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["a.whl", "c.whl", "sub"], "no temporary files left");
    }
}
