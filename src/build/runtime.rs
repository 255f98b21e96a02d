//! The wheelwright binary inside build containers.
//!
//! The built-in repair runs inside each build container, where the libraries the wheel links
//! against live, so the container needs a wheelwright it can execute. Any build of wheelwright
//! serves, however it was obtained:
//!
//! * a **static** binary (the release binaries, a `--target x86_64-unknown-linux-musl` build) is
//!   bind-mounted read-only and run as is;
//! * a **dynamically linked** one (`cargo build --release`, `cargo install`, the action's
//!   launcher building from source, a distribution's package) is bind-mounted together with its
//!   program interpreter and every library it loads, and run through that interpreter:
//!   `…/runtime/ld-linux-x86-64.so.2 --library-path …/runtime …/bin/wheelwright repair …`.
//!   The libraries are resolved on this machine with the loader's own rules
//!   ([`crate::audit::resolve`], the resolver `wheelwright show` uses) and copied into a
//!   content-addressed directory of the cache (`<cache>/container-runtime/<key>/`, written under
//!   a temporary name and renamed, so a half-written directory is never used). The container's
//!   own C library is never touched: a binary linked against a host's glibc 2.39 runs in a
//!   `manylinux2014` image with glibc 2.17, and in i686 images under `linux32`.
//!
//! Why not require a static build: a plain `cargo build` of the host target is dynamic, and
//! making it static needs either the musl target and a musl C compiler (for aws-lc) or glibc's
//! static archives and flags that `cargo build` cannot set for the binary alone. Carrying the
//! loader works for every dynamic build with nothing installed but the toolchain.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest as _, Sha256};

use super::{BuildError, io_error};
use crate::audit::resolve::{FoundVia, Location, Resolver, ResolverMode, SearchEnv, WheelFiles};
use crate::elf::ElfInfo;
use crate::engine::{CONTAINER_WORK_ROOT, Mount};
use crate::platform::Arch;

/// How the build containers run wheelwright.
#[derive(Debug, Clone)]
pub struct ContainerBinary {
    /// What to mount: the binary, and for a dynamic binary its runtime directory.
    pub mounts: Vec<Mount>,
    /// The command that runs wheelwright inside the container (arguments follow).
    pub command: Vec<String>,
    /// The binary's architecture.
    pub arch: Arch,
    /// Whether it is run through a carried program interpreter.
    pub dynamic: bool,
}

/// Where the binary is mounted inside containers.
fn inside_binary() -> String {
    format!("{CONTAINER_WORK_ROOT}/bin/wheelwright")
}

/// Where the runtime directory (interpreter and libraries) is mounted inside containers.
fn inside_runtime() -> String {
    format!("{CONTAINER_WORK_ROOT}/runtime")
}

fn analyze(path: &Path) -> Result<ElfInfo, String> {
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    crate::elf::analyze_file(&file)
        .map_err(|e| format!("`{}` is not an ELF executable: {e}", path.display()))
}

/// Prepares `binary` (an absolute path) for the containers; a dynamic binary's runtime goes
/// into `cache` (a directory this user owns).
pub fn prepare(binary: &Path, cache: &Path) -> Result<ContainerBinary, BuildError> {
    let info = analyze(binary).map_err(BuildError::Input)?;
    let arch = info
        .arch()
        .map_err(|e| BuildError::Input(format!("`{}`: {e}", binary.display())))?;
    let mut mounts = vec![Mount {
        host: binary.to_path_buf(),
        target: inside_binary(),
        read_only: true,
    }];
    if info.interpreter.is_none() && info.needed.is_empty() {
        return Ok(ContainerBinary {
            mounts,
            command: vec![inside_binary()],
            arch,
            dynamic: false,
        });
    }
    let runtime = Runtime::resolve(binary, &info)?;
    let dir = runtime.materialize(cache)?;
    mounts.push(Mount {
        host: dir,
        target: inside_runtime(),
        read_only: true,
    });
    Ok(ContainerBinary {
        mounts,
        command: vec![
            format!("{}/{}", inside_runtime(), runtime.interpreter),
            "--library-path".to_owned(),
            inside_runtime(),
            inside_binary(),
        ],
        arch,
        dynamic: true,
    })
}

/// A dynamic binary's program interpreter and libraries, by the names the loader looks for.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Runtime {
    /// The interpreter's file name. Ex) `ld-linux-x86-64.so.2`
    interpreter: String,
    /// `(name, file)`: every library the binary loads (the interpreter included), sorted.
    files: Vec<(String, PathBuf)>,
}

impl Runtime {
    /// Resolves what `binary` loads on this machine, following the loader's rules.
    fn resolve(binary: &Path, info: &ElfInfo) -> Result<Runtime, BuildError> {
        let env = SearchEnv::from_env(None, ResolverMode::Ldso, None);
        Self::resolve_in(binary, info, &env)
    }

    fn resolve_in(binary: &Path, info: &ElfInfo, env: &SearchEnv) -> Result<Runtime, BuildError> {
        let Some(interp) = &info.interpreter else {
            return Err(BuildError::Input(format!(
                "`{}` needs shared libraries ({}) but names no program interpreter; \
                 give a static or an ordinary dynamic executable (--container-binary)",
                binary.display(),
                info.needed.join(", ")
            )));
        };
        let wheel = WheelFiles::default();
        let mut resolver = Resolver::new(env, &wheel);
        let tree = resolver.tree_at(
            Location::Host(binary.to_path_buf()),
            &Arc::new(info.clone()),
            &[],
        );
        let mut files = Vec::new();
        let mut missing = Vec::new();
        let mut interpreter = None;
        for (name, library) in &tree.libraries {
            match &library.realpath {
                Some(Location::Host(path)) => {
                    if library.found_via == Some(FoundVia::Interpreter) {
                        interpreter = Some(name.clone());
                    }
                    files.push((
                        name.clone(),
                        env.root.join(path.strip_prefix("/").unwrap_or(path)),
                    ));
                }
                _ => missing.push(name.clone()),
            }
        }
        if !missing.is_empty() {
            return Err(BuildError::Input(format!(
                "`{}` is dynamically linked and this machine cannot resolve what it loads ({}); \
                 pass --container-binary with a static wheelwright (for example a \
                 `cargo build --release --target x86_64-unknown-linux-musl` build)",
                binary.display(),
                missing.join(", ")
            )));
        }
        let interpreter = interpreter.ok_or_else(|| {
            BuildError::Input(format!(
                "`{}` names the program interpreter `{interp}`, which does not exist on this machine",
                binary.display()
            ))
        })?;
        files.sort();
        Ok(Runtime { interpreter, files })
    }

    /// Copies the files into `<cache>/container-runtime/<key>/` (the key hashes names and
    /// contents) unless that directory exists; returns it.
    fn materialize(&self, cache: &Path) -> Result<PathBuf, BuildError> {
        let mut key = Sha256::new();
        for (name, path) in &self.files {
            let bytes = fs_err::read(path).map_err(io_error(format!(
                "cannot read `{}`, which the wheelwright binary loads",
                path.display()
            )))?;
            key.update(name.as_bytes());
            key.update([0]);
            key.update(Sha256::digest(&bytes));
        }
        let key = hex(&key.finalize()[..8]);
        let root = cache.join("container-runtime");
        let dir = root.join(&key);
        if dir.is_dir() {
            return Ok(dir);
        }
        fs_err::create_dir_all(&root).map_err(io_error(format!(
            "cannot create the cache directory `{}`",
            root.display()
        )))?;
        // Named for this process (see `crate::scratch`): removed on an interrupt, and by a later
        // run if this one is killed before the rename.
        let staging = crate::scratch::dir_in(&root, &format!(".{key}")).map_err(io_error(
            format!("cannot create a directory in `{}`", root.display()),
        ))?;
        for (name, path) in &self.files {
            let target = staging.path().join(name);
            fs_err::copy(path, &target).map_err(io_error(format!(
                "cannot copy `{}` into the container runtime",
                path.display()
            )))?;
            set_mode(&target, 0o755)?;
        }
        set_mode(staging.path(), 0o755)?;
        let staged = staging.keep();
        match std::fs::rename(&staged, &dir) {
            Ok(()) => Ok(dir),
            // Another run put the same directory there first: use it.
            Err(_) if dir.is_dir() => {
                let _ = std::fs::remove_dir_all(&staged);
                Ok(dir)
            }
            Err(err) => {
                let _ = std::fs::remove_dir_all(&staged);
                Err(BuildError::Io {
                    what: format!("cannot create `{}`", dir.display()),
                    source: err,
                })
            }
        }
    }
}

fn set_mode(path: &Path, mode: u32) -> Result<(), BuildError> {
    use std::os::unix::fs::PermissionsExt as _;
    fs_err::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(io_error(format!(
        "cannot set the mode of `{}`",
        path.display()
    )))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test binary itself is dynamically linked (glibc): its runtime resolves to the
    /// interpreter it names and the libraries it needs, each by the name the loader asks for.
    #[test]
    fn the_running_binary_resolves_to_its_interpreter_and_libraries() {
        let exe = std::env::current_exe().expect("current_exe");
        let info = analyze(&exe).expect("analyze");
        let interp = info
            .interpreter
            .clone()
            .expect("the test binary is dynamic");
        let runtime = Runtime::resolve(&exe, &info).expect("resolve");
        assert_eq!(
            Some(runtime.interpreter.as_str()),
            Path::new(&interp).file_name().and_then(|n| n.to_str())
        );
        for needed in &info.needed {
            assert!(
                runtime.files.iter().any(|(name, _)| name == needed),
                "{needed} missing from {:?}",
                runtime.files
            );
        }
        for (_, path) in &runtime.files {
            assert!(path.is_file(), "{}", path.display());
        }
    }

    #[test]
    fn the_runtime_directory_is_content_addressed_and_reused() {
        let exe = std::env::current_exe().expect("current_exe");
        let cache = tempfile::tempdir().expect("tempdir");
        let first = prepare(&exe, cache.path()).expect("prepare");
        assert!(first.dynamic);
        assert_eq!(first.command[1], "--library-path");
        assert_eq!(first.mounts.len(), 2);
        let dir = &first.mounts[1].host;
        let entries: Vec<_> = std::fs::read_dir(cache.path().join("container-runtime"))
            .expect("read_dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(entries.len(), 1, "{entries:?}");
        let second = prepare(&exe, cache.path()).expect("prepare again");
        assert_eq!(&second.mounts[1].host, dir);
        let interp = first.command[0].rsplit('/').next().expect("name");
        assert!(dir.join(interp).is_file());
    }

    #[test]
    fn a_missing_library_is_named() {
        let exe = std::env::current_exe().expect("current_exe");
        let mut info = analyze(&exe).expect("analyze");
        info.needed
            .push("libwheelwright-does-not-exist.so.9".to_owned());
        let err = Runtime::resolve(&exe, &info).expect_err("unresolvable");
        let text = err.to_string();
        assert!(
            text.contains("libwheelwright-does-not-exist.so.9"),
            "{text}"
        );
        assert!(text.contains("--container-binary"), "{text}");
    }
}
