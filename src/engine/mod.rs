//! Container engines: docker and podman through their command-line clients (one implementation,
//! parametrised by the program), and `host`, which runs the commands on this machine (used when
//! the job already runs inside a manylinux container, or where no engine exists).
//!
//! Design notes:
//! * A build container is long-lived: `run -d … IMAGE sleep infinity` (the image's entrypoint is
//!   kept, e.g. `linux32` or `manylinux-entrypoint`), then one `exec` per step. `--stop-signal
//!   SIGKILL` makes `rm -f` immediate although `sleep` as PID 1 ignores SIGTERM.
//! * Host variables reach the container only as `-e NAME` with the value in the client's
//!   environment, never as `-e NAME=value` on a command line.
//! * Containers are registered with [`crate::interrupt`] until removed, so that an interrupt
//!   (SIGINT, SIGTERM, SIGHUP) removes them too. They are labelled with the run
//!   (`wheelwright.run`) and the process that started them (`wheelwright.owner`); the first start
//!   of a run removes the labelled containers whose process is gone (a run killed with SIGKILL).
//! * Images are pulled by us (with retries and back-off, per `--pull`) and started with
//!   `--pull=never` and the platform the local image really has.
//!
//! Also what a build and a test run share in an environment: [`interpreters`] (discovering the
//! Pythons), [`log`] (the per-identifier logs) and [`project`] (the project stream copied in).

pub mod container;
pub mod interpreters;
pub mod log;
pub mod process;
pub mod project;
pub mod steps;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tracing::debug;

use container::Backend;
pub use container::{Container, Discard, OutputSink};
use process::{CommandError, checked_stdout, find_program, shell_quote};

use crate::config::values::{EngineChoice, PullPolicy};
use crate::net::RetryPolicy;
use crate::platform::Arch;

/// The per-user cache directory (`$XDG_CACHE_HOME/wheelwright`, else `~/.cache/wheelwright`).
#[must_use]
pub fn default_cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("wheelwright"));
    }
    std::env::var_os("HOME")
        .filter(|d| !d.is_empty())
        .map(|home| PathBuf::from(home).join(".cache/wheelwright"))
}

/// The engine in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    /// Ex) `docker`
    Docker,
    /// Ex) `podman`
    Podman,
    /// Ex) `host`
    Host,
}

impl EngineKind {
    /// `docker`, `podman` or `host`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            EngineKind::Docker => "docker",
            EngineKind::Podman => "podman",
            EngineKind::Host => "host",
        }
    }
}

impl std::fmt::Display for EngineKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an engine operation failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The engine's program is not on PATH.
    #[error(
        "`{program}` is not installed (not found on PATH); install it or choose another --engine"
    )]
    NotInstalled {
        /// Ex) `podman`
        program: String,
    },
    /// The program exists but its daemon/service does not answer.
    #[error("`{program} info` failed: {reason}")]
    NotAnswering {
        /// Ex) `docker`
        program: String,
        /// The last line of its stderr.
        reason: String,
    },
    /// `--pull never` and the image is absent.
    #[error("image `{image}` is not present locally and `--pull never` forbids pulling it")]
    ImageAbsent {
        /// The image reference.
        image: String,
    },
    /// Pulling failed, after retries when the failure looked transient.
    #[error("cannot pull image `{image}` ({attempts} attempt{s}): {reason}", s = if *attempts == 1 { "" } else { "s" })]
    Pull {
        /// The image reference.
        image: String,
        /// How many attempts were made.
        attempts: u32,
        /// The last line of the engine's stderr.
        reason: String,
    },
    /// `run -d` failed.
    #[error("cannot start a container from `{image}`: {reason}")]
    Start {
        /// The image reference.
        image: String,
        /// The last line of the engine's stderr.
        reason: String,
    },
    /// A process could not be started at all.
    #[error("cannot run `{command}`: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A command in the container failed.
    #[error("in `{container}`: {error}")]
    Exec {
        /// The container name.
        container: String,
        /// The failed command.
        error: CommandError,
    },
    /// Extracting the project in the container failed.
    #[error("cannot copy files into `{container}:{dest}`: {reason}")]
    CopyIn {
        /// The container name.
        container: String,
        /// The destination directory inside.
        dest: String,
        /// What went wrong.
        reason: String,
    },
    /// Streaming a file out failed.
    #[error("cannot copy `{path}` out of the container to `{}`: {error}", dest.display())]
    CopyOut {
        /// The path inside the container.
        path: String,
        /// The destination on the host.
        dest: PathBuf,
        /// What went wrong.
        error: std::io::Error,
    },
    /// The architecture cannot run here.
    #[error("{0}")]
    Unsupported(String),
    /// A local file operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
}

/// A bind mount into the container.
#[derive(Debug, Clone)]
pub struct Mount {
    /// The host path.
    pub host: PathBuf,
    /// The path inside the container.
    pub target: String,
    /// Mounted read-only.
    pub read_only: bool,
}

/// How to start one container.
#[derive(Debug, Clone)]
pub struct ContainerSpec {
    /// The image reference (`host` for the host engine).
    pub image: String,
    /// The architecture to build for.
    pub arch: Arch,
    /// Bind mounts (ignored by the host engine).
    pub mounts: Vec<Mount>,
    /// Extra arguments for `run` (`--network=host`, `-v a:b:ro`, …).
    pub extra_args: Vec<String>,
}

/// A container engine.
pub trait Engine: Send + Sync {
    /// Which engine this is.
    fn kind(&self) -> EngineKind;

    /// Makes sure `image` for `arch` is available locally, pulling it per `pull`.
    fn prepare_image(&self, image: &str, arch: Arch, pull: PullPolicy) -> Result<(), EngineError>;

    /// Starts a long-lived container. Its work directory is [`Container::work_root`].
    fn start(&self, spec: &ContainerSpec) -> Result<Container, EngineError>;

    /// The platform (`os/arch`, Ex) `linux/386`) of `image` when it is present locally; `None`
    /// when it is absent (or for the host engine, which has no images).
    fn local_image_platform(&self, _image: &str) -> Option<String> {
        None
    }
}

/// The platform name engines use for an architecture (`linux/386`).
#[must_use]
pub fn platform(arch: Arch) -> &'static str {
    match arch {
        Arch::X86_64 => "linux/amd64",
        Arch::I686 => "linux/386",
        Arch::Aarch64 => "linux/arm64",
        Arch::Armv7l => "linux/arm/v7",
        Arch::Ppc64 => "linux/ppc64",
        Arch::Ppc64le => "linux/ppc64le",
        Arch::S390x => "linux/s390x",
        Arch::Riscv64 => "linux/riscv64",
        Arch::Loongarch64 => "linux/loong64",
    }
}

/// Whether containers of `arch` can run on this machine: natively (x86_64 runs i686), or through
/// a QEMU handler registered with binfmt_misc. The error says what is missing.
pub fn check_arch_runs(arch: Arch) -> Result<(), EngineError> {
    let native = Arch::host();
    if arch == native || (native == Arch::X86_64 && arch == Arch::I686) {
        return Ok(());
    }
    let qemu = match arch {
        Arch::I686 => "i386",
        Arch::Armv7l => "arm",
        Arch::Loongarch64 => "loongarch64",
        other => other.as_str(),
    };
    let handler = Path::new("/proc/sys/fs/binfmt_misc").join(format!("qemu-{qemu}"));
    if handler.exists() {
        return Ok(());
    }
    Err(EngineError::Unsupported(format!(
        "cannot build for {arch} on this {native} machine: no QEMU handler is registered with binfmt_misc \
         (`{}` is missing); register one (e.g. with the tonistiigi/binfmt image) or build on a {arch} machine",
        handler.display()
    )))
}

/// The engine picked and why (for the "engine: …" message).
pub struct Selected {
    /// The engine.
    pub engine: Arc<dyn Engine>,
    /// Ex) `podman 4.3.1 (docker: Cannot connect to the Docker daemon …)`
    pub reason: String,
}

/// Resolves `--engine`: `auto` tries docker (a daemon must answer), then podman, then the host.
pub fn select(choice: EngineChoice) -> Result<Selected, EngineError> {
    match choice {
        EngineChoice::Host => Ok(Selected {
            engine: Arc::new(HostEngine),
            reason: "host (--engine host)".to_owned(),
        }),
        EngineChoice::Docker | EngineChoice::Podman => {
            let kind = if choice == EngineChoice::Docker {
                EngineKind::Docker
            } else {
                EngineKind::Podman
            };
            let engine = CliEngine::probe(kind)?;
            let reason = format!("{} {}", kind, engine.version);
            Ok(Selected {
                engine: Arc::new(engine),
                reason,
            })
        }
        EngineChoice::Auto => {
            let mut why: Vec<String> = Vec::new();
            for kind in [EngineKind::Docker, EngineKind::Podman] {
                match CliEngine::probe(kind) {
                    Ok(engine) => {
                        let mut reason = format!("{} {} (auto", kind, engine.version);
                        for w in &why {
                            reason.push_str("; ");
                            reason.push_str(w);
                        }
                        reason.push(')');
                        return Ok(Selected {
                            engine: Arc::new(engine),
                            reason,
                        });
                    }
                    Err(EngineError::NotInstalled { program }) => {
                        why.push(format!("{program}: not installed"));
                    }
                    Err(EngineError::NotAnswering { program, reason }) => {
                        why.push(format!("{program}: {reason}"));
                    }
                    Err(other) => why.push(other.to_string()),
                }
            }
            Ok(Selected {
                engine: Arc::new(HostEngine),
                reason: format!("host (auto; {})", why.join("; ")),
            })
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Containers of runs that are gone

/// The label naming the process that started a container (see [`crate::scratch::Owner`]).
pub const OWNER_LABEL: &str = "wheelwright.owner";

/// The label naming the run (one random id per wheelwright process).
pub const RUN_LABEL: &str = "wheelwright.run";

/// This process's run id (the value of [`RUN_LABEL`]).
#[must_use]
pub fn run_id() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| random_hex(8))
}

/// The owner token in a line of `ps --format '{{.Names}} {{.Labels}}'` output (docker prints
/// labels as `k=v,k2=v2`, podman as `map[k:v k2:v2]`).
fn owner_in(labels: &str) -> Option<crate::scratch::Owner> {
    let at = labels.find(OWNER_LABEL)? + OWNER_LABEL.len();
    let value = labels[at..].strip_prefix(['=', ':'])?;
    let end = value
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .unwrap_or(value.len());
    crate::scratch::Owner::parse(&value[..end])
}

// ---------------------------------------------------------------------------------------------
// docker and podman// ---------------------------------------------------------------------------------------------
// docker and podman

/// Where wheelwright works inside a container.
pub const CONTAINER_WORK_ROOT: &str = "/wheelwright";

/// docker or podman, through the command-line client.
pub struct CliEngine {
    kind: EngineKind,
    program: PathBuf,
    version: String,
}

impl CliEngine {
    /// Finds the program and checks that it answers (`docker info` needs a running daemon).
    pub fn probe(kind: EngineKind) -> Result<Self, EngineError> {
        let name = kind.as_str();
        let program = find_program(name).ok_or_else(|| EngineError::NotInstalled {
            program: name.to_owned(),
        })?;
        let format = match kind {
            EngineKind::Podman => "{{.Version.Version}}",
            _ => "{{.ServerVersion}}",
        };
        let out = checked_stdout(Command::new(&program).args(["info", "--format", format]))
            .map_err(|err| EngineError::NotAnswering {
                program: name.to_owned(),
                reason: err.last_line().unwrap_or(err.status.as_str()).to_owned(),
            })?;
        Ok(CliEngine {
            kind,
            program,
            version: out.trim().to_owned(),
        })
    }

    fn command(&self) -> Command {
        Command::new(&self.program)
    }

    /// `os/arch` of the local image, if present.
    fn local_platform(&self, image: &str) -> Option<String> {
        checked_stdout(self.command().args([
            "image",
            "inspect",
            "--format",
            "{{.Os}}/{{.Architecture}}",
            image,
        ]))
        .ok()
        .map(|s| s.lines().next().unwrap_or_default().trim().to_owned())
        .filter(|s| !s.is_empty())
    }

    fn pull(&self, image: &str, arch: Arch) -> Result<(), EngineError> {
        let pull_once = |attempt: u32| {
            crate::ui::message(&format!(
                "pulling `{image}` ({}){}",
                platform(arch),
                if attempt > 1 {
                    format!(", attempt {attempt} of {}", PULL_RETRY.retries + 1)
                } else {
                    String::new()
                }
            ));
            checked_stdout(
                self.command()
                    .args(["pull", "--platform", platform(arch), image]),
            )
            .map(|_| ())
            .map_err(|err| err.last_line().unwrap_or(err.status.as_str()).to_owned())
        };
        let (result, attempts) = crate::net::retry::retry_blocking(
            &PULL_RETRY,
            pull_once,
            |reason: &String| !is_permanent_pull_error(reason),
            |reason, retry| debug!("pull failed ({reason}); retrying in {:?}", retry.delay),
        );
        result.map_err(|reason| EngineError::Pull {
            image: image.to_owned(),
            attempts,
            reason,
        })
    }
}

/// `rm -f NAME`, run to its end whatever happens (also after an interrupt).
fn remove_now(program: &Path, name: &str) {
    let _ = Command::new(program)
        .args(["rm", "-f", name])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// How an image pull is retried: 3 attempts, 2 s then 4 s apart.
const PULL_RETRY: RetryPolicy = RetryPolicy {
    retries: 2,
    base_delay: Duration::from_secs(2),
    factor: 2.0,
    max_delay: Duration::from_secs(30),
    jitter: false,
    max_elapsed: None,
};

/// Pull failures that retrying cannot fix (bad reference, missing image, no access, unknown host).
fn is_permanent_pull_error(reason: &str) -> bool {
    let reason = reason.to_ascii_lowercase();
    [
        "manifest unknown",
        "not found",
        "no such image",
        "does not exist",
        "unauthorized",
        "denied",
        "invalid reference",
        "repository name must",
        "no such host",
        "connection refused",
        "short-name",
        "no matching manifest",
    ]
    .iter()
    .any(|needle| reason.contains(needle))
}

/// The architecture of an image platform (`linux/386` -> i686); the inverse of [`platform`]
/// (`linux/arm` is armv7l, as `image inspect` reports it without the variant).
#[must_use]
pub fn platform_arch(platform_name: &str) -> Option<Arch> {
    let arch = platform_name.strip_prefix("linux/")?;
    let arch = arch.split('/').next().unwrap_or(arch);
    Arch::ALL.into_iter().find(|candidate| {
        let known = platform(*candidate).trim_start_matches("linux/");
        known.split('/').next() == Some(arch)
    })
}

/// Whether an image of platform `have` (`linux/386`) serves `arch`. Some i686 images are
/// published as amd64; their userland is still 32-bit.
#[must_use]
pub fn platform_serves(have: &str, arch: Arch) -> bool {
    have == platform(arch)
        || (arch == Arch::I686 && have == "linux/amd64")
        || (arch == Arch::Armv7l && have.starts_with("linux/arm"))
}

impl Engine for CliEngine {
    fn kind(&self) -> EngineKind {
        self.kind
    }

    fn local_image_platform(&self, image: &str) -> Option<String> {
        self.local_platform(image)
    }

    fn prepare_image(&self, image: &str, arch: Arch, pull: PullPolicy) -> Result<(), EngineError> {
        let local = self.local_platform(image);
        debug!("image {image}: local platform {local:?}");
        match pull {
            PullPolicy::Never => {
                if local.is_none() {
                    return Err(EngineError::ImageAbsent {
                        image: image.to_owned(),
                    });
                }
                Ok(())
            }
            PullPolicy::Missing => match local {
                Some(have) if platform_serves(&have, arch) => Ok(()),
                _ => self.pull(image, arch),
            },
            PullPolicy::Always => self.pull(image, arch),
        }
    }

    fn start(&self, spec: &ContainerSpec) -> Result<Container, EngineError> {
        check_arch_runs(spec.arch)?;
        self.remove_orphans();
        let name = format!("wheelwright-{}", random_hex(6));
        // Start with the platform the local image really has: asking for another one would make
        // the engine look for (or pull) a different image.
        let image_platform = self
            .local_platform(&spec.image)
            .unwrap_or_else(|| platform(spec.arch).to_owned());
        let mut cmd = self.command();
        cmd.args(["run", "-d", "--name", &name, "--stop-signal", "SIGKILL"])
            .arg(format!("--platform={image_platform}"))
            .arg("--pull=never")
            .args(["--label", "wheelwright=build"])
            .arg("--label")
            .arg(format!("{RUN_LABEL}={}", run_id()));
        if let Some(owner) = crate::scratch::current() {
            cmd.arg("--label")
                .arg(format!("{OWNER_LABEL}={}", owner.token()));
        }
        for mount in &spec.mounts {
            cmd.arg("-v").arg(format!(
                "{}:{}{}",
                mount.host.display(),
                mount.target,
                if mount.read_only { ":ro" } else { "" }
            ));
        }
        cmd.args(&spec.extra_args);
        cmd.arg(&spec.image).args(["sleep", "infinity"]);
        // Registered before it exists: an interrupt during `run` still removes it (the
        // interrupt kills the `run` client first).
        let registration = {
            let program = self.program.clone();
            let name = name.clone();
            crate::interrupt::on_interrupt(move || {
                crate::ui::message(&format!("interrupted: removing container `{name}`"));
                remove_now(&program, &name);
            })
        };
        let started = checked_stdout(&mut cmd);
        if started.is_err() || crate::interrupt::requested() {
            // `run -d` may have created it before failing (or before the interrupt, which stops
            // every engine command started from now on: this one runs as a clean-up).
            remove_now(&self.program, &name);
            drop(registration);
            return Err(EngineError::Start {
                image: spec.image.clone(),
                reason: match started {
                    Err(err) => err.last_line().unwrap_or(err.status.as_str()).to_owned(),
                    Ok(_) => crate::interrupt::describe(),
                },
            });
        }
        let backend = CliBackend {
            kind: self.kind,
            program: self.program.clone(),
            name,
        };
        Ok(Container::new(
            Box::new(backend),
            spec.arch,
            spec.image.clone(),
            CONTAINER_WORK_ROOT.to_owned(),
            registration,
        ))
    }
}

impl CliEngine {
    /// Removes (once per process) the containers that runs which are gone left behind: those
    /// whose [`OWNER_LABEL`] names a process of this machine that no longer exists (a run killed
    /// with SIGKILL, e.g. by a CI time limit). Containers of live runs and of other machines
    /// stay.
    fn remove_orphans(&self) {
        static DONE: std::sync::Once = std::sync::Once::new();
        DONE.call_once(|| {
            let listed = checked_stdout(self.command().args([
                "ps",
                "-a",
                "--filter",
                &format!("label={OWNER_LABEL}"),
                "--format",
                "{{.Names}}\t{{.Labels}}",
            ]));
            let text = match listed {
                Ok(text) => text,
                Err(err) => {
                    debug!("cannot list the containers of earlier runs: {err}");
                    return;
                }
            };
            for line in text.lines() {
                let Some((name, labels)) = line.split_once('\t') else {
                    continue;
                };
                let Some(owner) = owner_in(labels) else {
                    continue;
                };
                if owner.is_alive() != Some(false) {
                    continue;
                }
                let name = name.trim();
                match checked_stdout(self.command().args(["rm", "-f", name])) {
                    Ok(_) => crate::ui::message(&format!(
                        "removed container `{name}`, left by a wheelwright run that is gone (process {})",
                        owner.pid
                    )),
                    Err(err) => debug!("cannot remove `{name}`: {err}"),
                }
            }
        });
    }
}

struct CliBackend {
    kind: EngineKind,
    program: PathBuf,
    name: String,
}

impl Backend for CliBackend {
    fn kind(&self) -> EngineKind {
        self.kind
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn command(&self, argv: &[String], env: &[String], stdin: bool) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.arg("exec");
        if stdin {
            cmd.arg("-i");
        }
        for name in env {
            cmd.arg("-e").arg(name);
        }
        cmd.arg(&self.name).args(argv);
        cmd
    }

    fn remove(&self) -> Result<(), EngineError> {
        checked_stdout(Command::new(&self.program).args(["rm", "-f", &self.name]))
            .map(|_| ())
            .map_err(|error| EngineError::Exec {
                container: self.name.clone(),
                error,
            })
    }

    fn enter_command(&self, wrapper: &[String], workdir: &str) -> String {
        let mut parts = vec![
            self.kind.as_str().to_owned(),
            "exec".to_owned(),
            "-it".to_owned(),
            "-w".to_owned(),
            shell_quote(workdir),
            self.name.clone(),
        ];
        parts.extend(wrapper.iter().cloned());
        parts.push("sh".to_owned());
        parts.join(" ")
    }
}

// ---------------------------------------------------------------------------------------------
// host

/// No container: commands run on this machine, in a temporary work directory.
pub struct HostEngine;

impl Engine for HostEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Host
    }

    fn prepare_image(
        &self,
        _image: &str,
        _arch: Arch,
        _pull: PullPolicy,
    ) -> Result<(), EngineError> {
        Ok(())
    }

    fn start(&self, spec: &ContainerSpec) -> Result<Container, EngineError> {
        // Named for this process: removed on an interrupt, and by a later run if this one is
        // killed.
        let dir = crate::scratch::dir_in(&std::env::temp_dir(), ".work")
            .map_err(|source| EngineError::Io {
                what: format!(
                    "cannot create a work directory in `{}`",
                    std::env::temp_dir().display()
                ),
                source,
            })?
            .keep();
        let name = dir.display().to_string();
        let registration = {
            let dir = dir.clone();
            crate::interrupt::on_interrupt(move || {
                let _ = std::fs::remove_dir_all(&dir);
            })
        };
        Ok(Container::new(
            Box::new(HostBackend {
                dir,
                name: name.clone(),
            }),
            spec.arch,
            "host".to_owned(),
            name,
            registration,
        ))
    }
}

struct HostBackend {
    dir: PathBuf,
    name: String,
}

impl Backend for HostBackend {
    fn kind(&self) -> EngineKind {
        EngineKind::Host
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn command(&self, argv: &[String], _env: &[String], _stdin: bool) -> Command {
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..]);
        cmd
    }

    fn remove(&self) -> Result<(), EngineError> {
        std::fs::remove_dir_all(&self.dir).map_err(|source| EngineError::Io {
            what: format!("cannot remove `{}`", self.dir.display()),
            source,
        })
    }

    fn enter_command(&self, _wrapper: &[String], workdir: &str) -> String {
        format!("cd {}", shell_quote(workdir))
    }
}

/// `n` random bytes as hex (from /dev/urandom; time-based if that is unreadable).
#[must_use]
pub fn random_hex(n: usize) -> String {
    use std::fmt::Write as _;
    use std::io::Read as _;
    let mut bytes = vec![0u8; n];
    let ok = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .is_ok();
    if !ok {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
            ^ u128::from(std::process::id());
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (nanos >> ((i % 16) * 8)) as u8;
        }
    }
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms() {
        assert_eq!(platform(Arch::I686), "linux/386");
        assert!(platform_serves("linux/386", Arch::I686));
        assert!(platform_serves("linux/amd64", Arch::I686));
        assert!(!platform_serves("linux/386", Arch::X86_64));
        assert_eq!(platform_arch("linux/386"), Some(Arch::I686));
        assert_eq!(platform_arch("linux/amd64"), Some(Arch::X86_64));
        assert_eq!(platform_arch("linux/arm64"), Some(Arch::Aarch64));
        assert_eq!(platform_arch("linux/arm"), Some(Arch::Armv7l));
        assert_eq!(platform_arch("linux/arm/v7"), Some(Arch::Armv7l));
        assert_eq!(platform_arch("windows/amd64"), None);
        assert_eq!(platform_arch("linux/mips"), None);
        assert!(check_arch_runs(Arch::host()).is_ok());
    }

    #[test]
    fn permanent_pull_errors_are_not_retried() {
        assert!(is_permanent_pull_error(
            "Error: initializing source docker://localhost/x:y: pinging container registry localhost: Get \"https://localhost/v2/\": dial tcp 127.0.0.1:443: connect: connection refused"
        ));
        assert!(is_permanent_pull_error(
            "manifest unknown: manifest unknown"
        ));
        assert!(!is_permanent_pull_error(
            "received unexpected HTTP status: 502 Bad Gateway"
        ));
    }

    #[test]
    fn owners_are_read_from_both_label_formats() {
        let docker = "wheelwright=build,wheelwright.owner=0123abcd-42-99,wheelwright.run=ab";
        let podman = "map[wheelwright:build wheelwright.owner:0123abcd-42-99 wheelwright.run:ab]";
        for labels in [docker, podman] {
            let owner = owner_in(labels).expect(labels);
            assert_eq!(
                (owner.host.as_str(), owner.pid, owner.start),
                ("0123abcd", 42, 99)
            );
        }
        assert!(owner_in("map[wheelwright:build]").is_none());
    }

    #[test]
    fn random_names_differ() {
        let a = random_hex(6);
        assert_eq!(a.len(), 12);
        assert_ne!(a, random_hex(6));
    }
}
