//! What `wheelwright test` takes in before anything runs: the wheels (files and directories of
//! them), the index, the images per architecture and the architectures that fit them, the log
//! directory, variable names; and the hint for wheels no interpreter here can install.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::{Source, StandaloneError, input};
use crate::engine;
use crate::platform::Arch;
use crate::testing::select::LocalWheel;
use crate::wheel::filename::WheelFilename;

/// Expands directories (their `*.whl`, not recursive) and parses every wheel name.
pub fn collect_wheels(paths: &[PathBuf]) -> Result<Vec<LocalWheel>, StandaloneError> {
    let mut files = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path)
            .map_err(|e| input(format!("cannot read `{}`: {e}", path.display())))?;
        if meta.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| input(format!("cannot read `{}`: {e}", path.display())))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.is_file()
                        && p.file_name().is_some_and(|n| {
                            let n = n.to_string_lossy();
                            n.ends_with(".whl") && !n.starts_with('.')
                        })
                })
                .collect();
            if found.is_empty() {
                return Err(input(format!(
                    "no wheels (`*.whl`) in `{}`",
                    path.display()
                )));
            }
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    let mut wheels: Vec<LocalWheel> = Vec::new();
    for path in files {
        let filename = WheelFilename::from_path(&path)
            .map_err(|e| input(format!("`{}` is not a wheel: {e}", path.display())))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some(other) = wheels.iter().find(|w| w.name == name) {
            if other.path != path {
                return Err(input(format!(
                    "`{}` and `{}` have the same file name",
                    other.path.display(),
                    path.display()
                )));
            }
            continue;
        }
        wheels.push(LocalWheel {
            path,
            filename,
            name,
        });
    }
    Ok(wheels)
}

/// Resolves `--index`: `pypi`/`testpypi` are those indexes' Simple pages, else an http(s) URL.
pub fn index_url(text: &str) -> Result<String, String> {
    if let Some(known) = crate::publish::endpoints::by_name(text.trim()) {
        return Ok(known.simple_url.to_owned());
    }
    let url = reqwest::Url::parse(text.trim()).map_err(|e| {
        format!("`{text}` is not an index URL or a known index (pypi, testpypi): {e}")
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("`{text}`: an index URL must be http or https"));
    }
    Ok(url.to_string())
}

/// Where the architectures to test come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchOrigin {
    /// `--arch`.
    Flag,
    /// The platform tags of the wheels.
    Wheels,
    /// Nothing said: pure wheels, or an index (this machine's architecture).
    Default,
}

/// The architecture to test `arch` as in `image`, whose local copy has platform `local`
/// (`linux/386`; `None` when the image is not here and will be pulled for `arch`). With no
/// architecture asked for, a local image of another architecture is used as it is (as `docker
/// run` would); wheels of another architecture than the image's are an error that says what to
/// pass; an explicit `--arch` wins (the engine pulls that architecture's variant).
pub fn fit_arch_to_image(
    arch: Arch,
    origin: ArchOrigin,
    image: &str,
    local: Option<&str>,
) -> Result<Arch, String> {
    let Some(have) = local else {
        return Ok(arch);
    };
    if engine::platform_serves(have, arch) || origin == ArchOrigin::Flag {
        return Ok(arch);
    }
    let Some(image_arch) = engine::platform_arch(have) else {
        return Ok(arch);
    };
    match origin {
        ArchOrigin::Default => Ok(image_arch),
        _ => Err(format!(
            "`{}` is a {have} ({image_arch}) image here, but the wheels to test are {arch}\nhint: test {arch} wheels in an {arch} image (`--image {arch}=IMAGE`); to test in this image pass `--arch {image_arch}` with {image_arch} wheels",
            crate::ui::untrusted(image)
        )),
    }
}

/// What to try when no interpreter here can install the wheels: per architecture the wheels
/// have and no environment here has, the flags that test it; else other Pythons.
#[must_use]
pub fn install_hint(wheel_archs: &BTreeSet<Arch>, env_archs: &[Arch], host: bool) -> String {
    let machine = Arch::host();
    let mut hints: Vec<String> = wheel_archs
        .iter()
        .filter(|arch| !env_archs.contains(arch))
        .map(|arch| {
            let native = *arch == machine || (machine == Arch::X86_64 && *arch == Arch::I686);
            format!(
                "test {arch} wheels in an {arch} image: {}`--arch {arch} --image {arch}=IMAGE`{}",
                if host { "`--engine podman` (or docker) with " } else { "" },
                if native {
                    String::new()
                } else {
                    format!(" (this {machine} machine runs {arch} containers with QEMU registered with binfmt_misc)")
                }
            )
        })
        .collect();
    if hints.is_empty() {
        hints.push(
            "the wheels are for other Pythons: test with `--python PATH` or an image that has them"
                .to_owned(),
        );
    }
    format!("hint: {}", hints.join("\nhint: "))
}

/// The default `--log-dir`: `logs/` in the directory of the (first) local wheel argument, the
/// output directory the wheels were built into (the build writes its logs there too); for an
/// index, `wheelwright/test-logs` in the per-user state directory (`$XDG_STATE_HOME`, else
/// `~/.local/state`, else the temporary directory). Never the current directory as such.
#[must_use]
pub fn default_log_dir(source: &Source) -> PathBuf {
    if let Source::Local(paths) = source {
        if let Some(first) = paths.first() {
            let dir = if first.is_dir() {
                first.clone()
            } else {
                match first.parent() {
                    Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
                    _ => PathBuf::from("."),
                }
            };
            return dir.join("logs");
        }
    }
    let state = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(|home| PathBuf::from(home).join(".local/state"))
        })
        .unwrap_or_else(std::env::temp_dir);
    state.join("wheelwright").join("test-logs")
}

pub(super) fn valid_name(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A requirement as a file-name part: `NEURON==7.8` → `NEURON-7.8`.
pub(super) fn sanitize(spec: &str) -> String {
    let mut out = String::new();
    for c in spec.chars() {
        if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

/// A per-architecture image map from `[ARCH=]IMAGE` values: (every architecture, per arch).
pub fn parse_images(
    option: &str,
    values: &[String],
) -> Result<(Option<String>, BTreeMap<Arch, String>), String> {
    let mut all = None;
    let mut per_arch = BTreeMap::new();
    for value in values {
        let (arch, image) = match value.split_once('=') {
            Some((arch, image)) => {
                let parsed = arch.trim().parse::<Arch>().ok().ok_or_else(|| {
                    format!("{option} `{value}`: `{arch}` is not an architecture (x86_64, i686, aarch64, …)")
                })?;
                (Some(parsed), image.trim())
            }
            None => (None, value.trim()),
        };
        let image = crate::config::image::ContainerImage::parse(image)
            .map_err(|e| format!("{option} `{value}`: {e}"))?;
        let image = image.as_str().to_owned();
        match arch {
            Some(arch) => {
                per_arch.insert(arch, image);
            }
            None => all = Some(image),
        }
    }
    Ok((all, per_arch))
}
