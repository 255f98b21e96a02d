//! Test environments: starting one (a container of a test image, or a host work directory),
//! finding its interpreters, and copying wheels and the project into it.
//!
//! Interpreters of a test environment: every `/opt/python/<dir>/bin/python` (the manylinux
//! layout, named by the directory like the build does), then the `python3`, `python3.N`,
//! `pypy3` and `pypy3.N` programs on its PATH, each asked for its tag. An identifier is tested
//! with the first interpreter whose tag is the identifier's Python (`cp39`, `pp37`, `cp313t`):
//! the `/opt/python` one if the image has that layout, else e.g. `/usr/bin/python3` when it is
//! CPython 3.9.

use std::io::Write;
use std::path::Path;

use crate::config::identifier::PythonTag;
use crate::engine::interpreters::{self, Probe};
use crate::engine::process::shell_quote;
use crate::engine::{Container, ContainerSpec, Engine, EngineError, Mount};
use crate::platform::Arch;

/// Lists the interpreters on PATH (one path per line).
const PATH_PYTHONS_SCRIPT: &str = r#"IFS=:
for d in $PATH; do
  for f in "$d"/python3 "$d"/python3.[0-9]* "$d"/pypy3 "$d"/pypy3.[0-9]*; do
    case "${f##*/}" in *-*|*\**) continue ;; esac
    if [ -x "$f" ] && [ ! -d "$f" ]; then printf '%s\n' "$f"; fi
  done
done
"#;

/// A started test environment.
pub struct TestEnv {
    /// The container (or host work directory).
    pub container: Container,
    /// What the probe found.
    pub probe: Probe,
    /// Interpreters by tag, `/opt/python` first, then PATH.
    pub pythons: Vec<(PythonTag, String)>,
}

impl TestEnv {
    /// The interpreter for `python`, if the environment has one.
    #[must_use]
    pub fn python_for(&self, python: &PythonTag) -> Option<&str> {
        self.pythons
            .iter()
            .find(|(tag, _)| tag == python)
            .map(|(_, path)| path.as_str())
    }

    /// `cp39 (/opt/python/cp39-cp39/bin/python), pp37 (…)` for messages.
    #[must_use]
    pub fn describe_pythons(&self) -> String {
        if self.pythons.is_empty() {
            return "none".to_owned();
        }
        self.pythons
            .iter()
            .map(|(tag, path)| format!("{tag} (`{path}`)"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Starts `image` for `arch` (already prepared), probes it, runs i686 under `linux32` when
/// `uname -m` does not say i686, and finds its interpreters.
pub fn start(
    engine: &dyn Engine,
    image: &str,
    arch: Arch,
    mounts: &[Mount],
    extra_args: &[String],
) -> Result<TestEnv, EngineError> {
    let mut container = engine.start(&ContainerSpec {
        image: image.to_owned(),
        arch,
        mounts: mounts.to_vec(),
        extra_args: extra_args.to_vec(),
    })?;
    let probe = interpreters::parse_probe(&container.capture(interpreters::PROBE_SCRIPT)?);
    if arch == Arch::I686 && probe.machine != "i686" && probe.linux32 {
        container.set_wrapper(vec!["linux32".to_owned()]);
    }
    let pythons = discover(&container, &probe)?;
    Ok(TestEnv {
        container,
        probe,
        pythons,
    })
}

/// `/opt/python/*` by directory name, then the interpreters on PATH by their own answer.
fn discover(container: &Container, probe: &Probe) -> Result<Vec<(PythonTag, String)>, EngineError> {
    let mut pythons = Vec::new();
    for path in &probe.pythons {
        let dir = path
            .strip_suffix("/bin/python")
            .and_then(|d| d.rsplit('/').next())
            .unwrap_or_default();
        if let Some(tag) = interpreters::python_tag_from_dir(dir) {
            pythons.push((tag, path.clone()));
        }
    }
    let mut on_path: Vec<String> = Vec::new();
    for line in container.capture(PATH_PYTHONS_SCRIPT)?.lines() {
        let line = line.trim();
        if !line.is_empty() && !on_path.iter().any(|p| p == line) {
            on_path.push(line.to_owned());
        }
    }
    if !on_path.is_empty() {
        let text = container.capture(&interpreters::tag_script(&on_path))?;
        for python in &on_path {
            let prefix = format!("{python} ");
            if let Some(tag) = text
                .lines()
                .find_map(|l| l.strip_prefix(&prefix))
                .and_then(|t| PythonTag::parse(t.trim()))
            {
                pythons.push((tag, python.clone()));
            }
        }
    }
    Ok(pythons)
}

/// Copies host files into `dest` in the environment under the given names.
pub fn copy_files(
    container: &Container,
    dest: &str,
    files: &[(&Path, &str)],
) -> Result<(), EngineError> {
    container.copy_in(dest, &mut |out: &mut dyn Write| {
        let mut builder = tar::Builder::new(out);
        for (path, name) in files {
            let mut file = std::fs::File::open(path)?;
            builder.append_file(name, &mut file)?;
        }
        builder.finish()
    })
}

/// pip's settings that uv reads under its own names, carried over where uv is used and its own
/// are unset: the CA bundle (`PIP_CERT` → `SSL_CERT_FILE`) and the index (`PIP_INDEX_URL` →
/// `UV_DEFAULT_INDEX`), so an environment configured for pip (a proxy's CA, a mirror) works
/// with uv too.
pub const UV_SETTINGS_FROM_PIP: &str = "if [ -n \"${PIP_CERT:-}\" ] && [ -z \"${SSL_CERT_FILE:-}\" ]; then export SSL_CERT_FILE=\"$PIP_CERT\"; fi\n\
if [ -n \"${PIP_INDEX_URL:-}\" ] && [ -z \"${UV_DEFAULT_INDEX:-}${UV_INDEX_URL:-}\" ]; then export UV_DEFAULT_INDEX=\"$PIP_INDEX_URL\"; fi\n";

/// Set where uv's cache is a mounted directory: another file system than the environment's, so
/// uv cannot hard-link from it and would warn in every log before copying.
pub const UV_LINK_MODE_FOR_MOUNTED_CACHE: (&str, &str) = ("UV_LINK_MODE", "copy");

/// `export` lines for the pip settings, the caches and `--environment` (values are shell syntax).
#[must_use]
pub fn exports(cache_env: &[(String, String)], environment: &[(String, String)]) -> String {
    let mut s = String::from(
        "export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore PIP_NO_INPUT=1 WHEELWRIGHT=1\n",
    );
    for (name, value) in cache_env {
        s.push_str(&format!("export {name}={}\n", shell_quote(value)));
    }
    for (name, value) in environment {
        s.push_str(&format!("export {name}={value}\n"));
    }
    s
}

/// Gives what the environment wrote into mounted cache directories back to their owner (see
/// the build's cache handling: rootful engines write as root).
pub fn hand_back_caches(container: &Container, dirs: &[String]) {
    if dirs.is_empty() {
        return;
    }
    // One process for all of them; per directory only what is not already theirs (a big warm
    // cache costs a `find`, not a `chown -R`).
    let quoted: Vec<String> = dirs.iter().map(|d| shell_quote(d)).collect();
    let script = format!(
        "s=0\nfor d in {}; do\n  \
         u=$(stat -c %u \"$d\") && g=$(stat -c %g \"$d\") &&\n  \
         find \"$d\" \\( ! -user \"$u\" -o ! -group \"$g\" \\) -exec chown -h \"$u:$g\" {{}} + || s=1\n\
         done\nexit $s\n",
        quoted.join(" ")
    );
    if let Err(err) = container.capture(&script) {
        tracing::debug!("cannot hand the caches back ({}): {err}", dirs.join(", "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpreters_on_path_are_listed() {
        let dir = tempfile::tempdir().expect("tempdir");
        for name in [
            "python3",
            "python3.9",
            "python3.9-config",
            "pypy3",
            "python2",
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, "#!/bin/sh\n").expect("write");
            std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                .expect("chmod");
        }
        let out = std::process::Command::new("/bin/sh")
            .args(["-c", PATH_PYTHONS_SCRIPT])
            .env("PATH", format!("{}:/nonexistent", dir.path().display()))
            .output()
            .expect("sh");
        let text = String::from_utf8_lossy(&out.stdout);
        let names: Vec<&str> = text
            .lines()
            .map(|l| l.rsplit('/').next().unwrap_or_default())
            .collect();
        assert_eq!(names, ["python3", "python3.9", "pypy3"], "{text}");
    }

    #[test]
    fn exports_quote_cache_paths_and_keep_environment_syntax() {
        let text = exports(
            &[("PIP_CACHE_DIR".to_owned(), "/w/cache/pip dir".to_owned())],
            &[("PATH".to_owned(), "/opt/x/bin:$PATH".to_owned())],
        );
        assert!(
            text.contains("export PIP_CACHE_DIR='/w/cache/pip dir'\n"),
            "{text}"
        );
        assert!(text.ends_with("export PATH=/opt/x/bin:$PATH\n"), "{text}");
    }
}
