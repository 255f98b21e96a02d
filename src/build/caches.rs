//! The package caches (pip's and uv's) of build and test environments: one per image and
//! architecture, shared by every identifier built or tested there and, on the host, by every run
//! with the same cache directory. Not one for all images: a wheel pip or uv built from an sdist
//! in one image is cached with a `linux_<arch>` tag that every image accepts, yet it links
//! against that image's C library and compilers; per image, a cached build is only reused where
//! it was made. `<cache>/pip/<image>-<arch>/` is mounted at the same path in every environment
//! (`PIP_CACHE_DIR`), likewise uv's; what containers wrote there is handed back to the
//! directory's owner when the run ends.

use std::path::PathBuf;

use crate::engine::Mount;
use crate::platform::Arch;

/// The package caches of a run: `(host directory of all images, target in the environments)`.
#[derive(Debug, Clone, Default)]
pub struct PackageCaches {
    dirs: Vec<(PathBuf, String)>,
}

impl PackageCaches {
    /// Adds a cache whose per-image directories go below `root` (absolute), mounted at
    /// `target`.
    pub fn add(&mut self, root: PathBuf, target: String) {
        self.dirs.push((root, target));
    }

    /// The mounts for an environment of `image` on `arch` (the directories are created).
    pub fn mounts(&self, image: &str, arch: Arch) -> Result<Vec<Mount>, String> {
        let key = key(image, arch);
        self.dirs
            .iter()
            .map(|(root, target)| {
                let host = root.join(&key);
                fs_err::create_dir_all(&host).map_err(|e| {
                    format!(
                        "cannot create the cache directory `{}`: {e}",
                        host.display()
                    )
                })?;
                Ok(Mount {
                    host,
                    target: target.clone(),
                    read_only: false,
                })
            })
            .collect()
    }

    /// Where they are mounted in the environments.
    #[must_use]
    pub fn targets(&self) -> Vec<String> {
        self.dirs.iter().map(|(_, target)| target.clone()).collect()
    }
}

/// The directory name of an image's caches: the reference with anything but letters, digits,
/// `.`, `_` and `-` replaced by `_`, then the architecture.
/// Ex) `quay.io/pypa/manylinux_2_28_x86_64:2025.01.01` on x86_64 →
/// `quay.io_pypa_manylinux_2_28_x86_64_2025.01.01-x86_64`
#[must_use]
fn key(image: &str, arch: Arch) -> String {
    let name: String = image
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    // `..` alone would name the parent; a leading dot would hide the directory.
    let name = name.trim_start_matches('.');
    format!("{name}-{}", arch.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_directory_per_image_and_architecture() {
        assert_eq!(
            key(
                "quay.io/pypa/manylinux_2_28_x86_64:2025.01.01",
                Arch::X86_64
            ),
            "quay.io_pypa_manylinux_2_28_x86_64_2025.01.01-x86_64"
        );
        assert_eq!(key("../x@sha256:ab", Arch::I686), "_x_sha256_ab-i686");
        assert_ne!(key("img", Arch::X86_64), key("img", Arch::I686));
        let dir = tempfile::tempdir().expect("tempdir");
        let mut caches = PackageCaches::default();
        caches.add(dir.path().join("pip"), "/w/cache/pip".to_owned());
        let mounts = caches.mounts("img:1", Arch::I686).expect("mounts");
        assert_eq!(mounts[0].host, dir.path().join("pip/img_1-i686"));
        assert_eq!(mounts[0].target, "/w/cache/pip");
        assert!(mounts[0].host.is_dir());
    }
}
