//! Putting files on a release and checking what it holds: the asset upload (our own streamed
//! request, never retried), the verification against the local files, and publishing the draft.

use octocrab::models::repos::Release;

use super::*;

impl Releases {
    /// Uploads what the plan says (deleting what it replaces); an asset that appeared meanwhile
    /// with the same bytes becomes a skip.
    pub(super) async fn send(
        &self,
        target: &Target,
        release: &Release,
        plan: &mut [(&LocalAsset, Step)],
    ) -> Result<()> {
        for index in 0..plan.len() {
            let (file, step) = plan[index];
            if let Step::Replace(id) = step {
                self.octo
                    .repos(&target.owner, &target.repo)
                    .release_assets()
                    .delete(id)
                    .await
                    .map_err(|e| {
                        octo_error(
                            format!("deleting asset `{}` of release `{}`", file.name, target.tag),
                            e,
                        )
                    })?;
            }
            if matches!(step, Step::Skip(_)) {
                continue;
            }
            crate::ui::message(&format!("uploading `{}` ({} bytes)", file.name, file.size));
            match self.post_asset(release, file).await? {
                Posted::Created => {}
                Posted::AlreadyExists => {
                    let now = self.list_assets(target, release).await?;
                    let asset =
                        Self::match_asset(&now, file).ok_or_else(|| ReleaseError::NotVerified {
                            tag: target.tag.clone(),
                            name: file.name.clone(),
                            why: "GitHub says it exists, but the release does not list it"
                                .to_owned(),
                        })?;
                    let remote = self.remote_sha256(target, asset).await?;
                    if remote != file.sha256 {
                        return Err(mismatch(target, release, asset, file, remote));
                    }
                    plan[index].1 = Step::Skip(asset.id.into_inner());
                }
                Posted::Immutable(detail) => {
                    return Err(ReleaseError::Immutable {
                        tag: target.tag.clone(),
                        missing: unsent(&plan[index..]),
                        detail,
                    });
                }
            }
        }
        Ok(())
    }

    /// Every file on the release: listed, `uploaded`, its size and its sha256 (skipped assets
    /// were hashed when planned and must still be the same asset).
    pub(super) async fn verify(
        &self,
        target: &Target,
        release: &Release,
        plan: &[(&LocalAsset, Step)],
    ) -> Result<()> {
        let now = self.list_assets(target, release).await?;
        for (file, step) in plan {
            let fail = |why: String| ReleaseError::NotVerified {
                tag: target.tag.clone(),
                name: file.name.clone(),
                why,
            };
            let asset = match step {
                Step::Skip(id) => now.iter().find(|a| a.id.into_inner() == *id),
                _ => Self::match_asset(&now, file),
            }
            .ok_or_else(|| fail("the release does not list it".to_owned()))?;
            if asset.state != "uploaded" {
                return Err(fail(format!("its state is `{}`", asset.state)));
            }
            if asset_size(asset) != file.size {
                return Err(fail(format!(
                    "it has {} bytes, `{}` {}",
                    asset.size,
                    file.path.display(),
                    file.size
                )));
            }
            if !matches!(step, Step::Skip(_)) {
                let remote = self.remote_sha256(target, asset).await?;
                if remote != file.sha256 {
                    return Err(fail(format!(
                        "its sha256 is `{remote}`, `{}` has `{}`",
                        file.path.display(),
                        file.sha256
                    )));
                }
            }
        }
        Ok(())
    }

    /// Publishes the draft and checks that the tag now shows it; the release page.
    pub(super) async fn publish(&self, target: &Target, release: &Release) -> Result<String> {
        let what = || format!("publishing release `{}`", target.tag);
        let updated = self
            .octo
            .repos(&target.owner, &target.repo)
            .releases()
            .update(release.id.into_inner())
            .draft(false)
            .send()
            .await
            .map_err(|e| octo_error(what(), e))?;
        let by_tag = self.find(target).await?;
        if updated.draft || by_tag.is_none_or(|r| r.id != release.id || r.draft) {
            return Err(ReleaseError::Transport {
                what: what(),
                detail: "GitHub does not show the release as published".to_owned(),
            });
        }
        crate::ui::message(&format!("published release `{}`", target.tag));
        Ok(updated.html_url.to_string())
    }

    /// One streamed POST of the file to the release's upload URL; not retried.
    pub(super) async fn post_asset(&self, release: &Release, file: &LocalAsset) -> Result<Posted> {
        let what = || format!("uploading `{}`", file.path.display());
        let template = release.upload_url.as_str();
        let base = template.split('{').next().unwrap_or(template);
        let mut url = reqwest::Url::parse(base).map_err(|_| ReleaseError::Transport {
            what: what(),
            detail: format!(
                "the release's upload_url `{}` is not a URL",
                redact_url(base)
            ),
        })?;
        let expected = self.endpoints.upload_origin();
        if url.origin().ascii_serialization() != expected {
            return Err(ReleaseError::UntrustedUploadUrl {
                url: redact_url(base),
                expected,
            });
        }
        url.set_query(Some(&format!("name={}", component(&file.name))));

        let handle =
            tokio::fs::File::open(&file.path)
                .await
                .map_err(|source| ReleaseError::Path {
                    path: file.path.clone(),
                    source,
                })?;
        let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::with_capacity(
            handle,
            256 * 1024,
        ));
        let response = self
            .authorized(
                reqwest::Method::POST,
                url,
                "application/vnd.github+json",
                &what,
            )?
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .header(reqwest::header::CONTENT_LENGTH, file.size)
            .body(body)
            .send()
            .await
            .map_err(transport(what()))?;
        if response.status().is_success() {
            return Ok(Posted::Created);
        }
        let failure = failure_of(response).await;
        if failure.status == 422 {
            if failure.codes.iter().any(|c| c == "already_exists") {
                return Ok(Posted::AlreadyExists);
            }
            if failure.message.to_ascii_lowercase().contains("immutable") {
                return Ok(Posted::Immutable(format!("HTTP 422: {}", failure.message)));
            }
        }
        Err(failure.into_error(what()))
    }
}
