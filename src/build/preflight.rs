//! Before any build starts: what every environment gets mounted (wheelwright, the package
//! caches, the compiler cache, the pinned uv), and one started and probed environment per
//! group of identifiers, matched with the selection.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use tracing::debug;

use super::options::io_error;
use super::{
    BuildError, BuildOptions, BuildResult, CcacheSetup, CompilerCache, FrontendTool,
    IdentifierBuild, Setup, Status, Target, UvSetup, caches, runtime, timings, uv,
};
use crate::config::identifier::Identifier;
use crate::engine::interpreters::{self, Interpreter};
use crate::engine::process::{find_program, shell_quote};
use crate::engine::{
    CONTAINER_WORK_ROOT, Container, ContainerSpec, Engine, Mount, default_cache_dir,
};
use crate::interrupt;
use crate::platform::{Arch, Libc};
use crate::ui;
use crate::ui::github;

/// What every environment of a run gets: mounts, cache variables, how repair runs there.
pub(super) struct Shared {
    /// wheelwright (with its runtime when it is dynamic), the ccache directory, the pinned uv.
    pub(super) mounts: Vec<Mount>,
    /// `PIP_CACHE_DIR`, `UV_CACHE_DIR`.
    pub(super) cache_env: Vec<(String, String)>,
    /// The cache directories as the environments see them (handed back afterwards).
    pub(super) cache_mounts: Vec<String>,
    /// pip's and uv's caches: one directory per image and architecture.
    pub(super) package_caches: caches::PackageCaches,
    /// Where the ccache directories are (inside the environments), when the cache is used.
    pub(super) ccache_root: Option<String>,
    /// The pinned uv for images without one, when a frontend allows uv.
    pub(super) uv_provider: Option<uv::Provider>,
    /// The shell words that run wheelwright in the environments.
    pub(super) repair_command: String,
    /// The architecture of the container binary (`None`: the host engine).
    pub(super) binary_arch: Option<Arch>,
    /// Holds a per-run directory for the binary's runtime when there is no cache directory.
    _scratch: Option<tempfile::TempDir>,
}

impl Shared {
    /// What test containers get mounted: the caches and the pinned uv (not wheelwright).
    pub(super) fn test_mounts(&self) -> Vec<Mount> {
        self.mounts
            .iter()
            .filter(|m| {
                m.target
                    .starts_with(&format!("{CONTAINER_WORK_ROOT}/cache/"))
                    || m.target == uv::inside_root()
            })
            .cloned()
            .collect()
    }

    /// Resolves the binary for the containers and creates the cache directories.
    pub(super) fn prepare(options: &BuildOptions, host: bool) -> Result<Self, BuildError> {
        // What every container gets mounted: wheelwright (with its runtime when it is dynamic)
        // and the caches.
        let mut mounts = Vec::new();
        let mut cache_env = Vec::new();
        let mut cache_mounts = Vec::new();
        // pip's and uv's caches: one directory per image and architecture.
        let mut package_caches = caches::PackageCaches::default();
        // Where the ccache directories are (inside the environments), when the cache is used.
        let mut ccache_root: Option<String> = None;
        // Holds a per-run directory for the binary's runtime when there is no cache directory.
        let mut _scratch = None;
        // The pinned uv for images without one, when a frontend allows uv.
        let mut uv_provider: Option<uv::Provider> = None;
        let (repair_command, binary_arch) = if host {
            let exe =
                std::env::current_exe().map_err(io_error("cannot locate the running binary"))?;
            (shell_quote(&exe.display().to_string()), None)
        } else {
            let cache_root = options.cache_dir.clone().or_else(default_cache_dir);
            let runtime_cache = match &cache_root {
                Some(root) => root.clone(),
                None => {
                    let dir = crate::scratch::dir_in(&std::env::temp_dir(), ".runtime")
                        .map_err(io_error("cannot create a temporary directory"))?;
                    let path = dir.path().to_path_buf();
                    _scratch = Some(dir);
                    path
                }
            };
            let binary = container_binary(options, &runtime_cache)?;
            if options.builds.iter().any(builds_with_uv) {
                let provider = uv::Provider::new(
                    runtime_cache.join("uv-binaries"),
                    options.uv_index_url.as_deref(),
                )
                .map_err(|e| BuildError::Input(e.to_string()))?;
                mounts.push(Mount {
                    host: resolve_path(provider.root()),
                    target: uv::inside_root(),
                    read_only: true,
                });
                uv_provider = Some(provider);
            }
            if binary.dynamic {
                debug!(
                    "the container binary is dynamic: run as {}",
                    binary.command.join(" ")
                );
            }
            mounts.extend(binary.mounts.iter().cloned());
            let mut caches: Vec<(&str, &str, PathBuf)> = Vec::new();
            if let Some(root) = &cache_root {
                caches.push(("pip", "PIP_CACHE_DIR", root.join("pip")));
                caches.push(("uv", "UV_CACHE_DIR", root.join("uv")));
            }
            if options.compiler_cache != CompilerCache::Off {
                match options
                    .ccache_dir
                    .clone()
                    .or_else(|| cache_root.as_ref().map(|root| root.join("ccache")))
                {
                    // CCACHE_DIR itself is set per environment (a subdirectory per platform).
                    Some(dir) => caches.push(("ccache", "", dir)),
                    None if options.compiler_cache == CompilerCache::On => {
                        return Err(BuildError::Input(
                            "compiler-cache is on but there is no cache directory (HOME and XDG_CACHE_HOME are unset); pass --ccache-dir or --cache-dir".to_owned(),
                        ));
                    }
                    None => {}
                }
            }
            for (name, var, dir) in caches {
                fs_err::create_dir_all(&dir).map_err(io_error(format!(
                    "cannot create the cache directory `{}`",
                    dir.display()
                )))?;
                let dir = std::fs::canonicalize(&dir)
                    .map_err(io_error(format!("cannot resolve `{}`", dir.display())))?;
                let target = format!("{CONTAINER_WORK_ROOT}/cache/{name}");
                if name == "ccache" {
                    mounts.push(Mount {
                        host: dir.clone(),
                        target: target.clone(),
                        read_only: false,
                    });
                } else {
                    package_caches.add(dir.clone(), target.clone());
                }
                if var.is_empty() {
                    ccache_root = Some(target.clone());
                } else {
                    cache_env.push((var.to_owned(), target.clone()));
                }
                if var == "UV_CACHE_DIR" {
                    let (name, value) = crate::testing::env::UV_LINK_MODE_FOR_MOUNTED_CACHE;
                    cache_env.push((name.to_owned(), value.to_owned()));
                }
                cache_mounts.push(target);
            }
            let command: Vec<String> = binary.command.iter().map(|w| shell_quote(w)).collect();
            (command.join(" "), Some(binary.arch))
        };
        if host && options.compiler_cache != CompilerCache::Off {
            let dir = options.ccache_dir.clone().or_else(|| {
                options
                    .cache_dir
                    .clone()
                    .or_else(default_cache_dir)
                    .map(|root| root.join("ccache"))
            });
            if let Some(dir) = dir {
                fs_err::create_dir_all(&dir).map_err(io_error(format!(
                    "cannot create the cache directory `{}`",
                    dir.display()
                )))?;
                ccache_root = Some(resolve_path(&dir).display().to_string());
            }
        }
        if host {
            let machine = Arch::host();
            if let Some(other) = options
                .builds
                .iter()
                .map(|b| b.identifier.arch)
                .find(|a| *a != machine)
            {
                return Err(BuildError::Input(format!(
                    "the host engine builds only for this machine ({machine}); {other} needs a container engine (--engine docker or podman)"
                )));
            }
        }
        Ok(Shared {
            mounts,
            cache_env,
            cache_mounts,
            package_caches,
            ccache_root,
            uv_provider,
            repair_command,
            binary_arch,
            _scratch,
        })
    }
}

/// Starts and probes one environment per group of identifiers and matches the selection with
/// the interpreters each has (installing missing ones where the image can). Selected
/// identifiers no image has are an error with `only`, else a warning.
pub(super) fn start_environments(
    engine: &std::sync::Arc<dyn Engine>,
    options: &BuildOptions,
    shared: &Shared,
    host: bool,
    clock: &timings::Clock,
) -> Result<Vec<Target>, BuildError> {
    // Start and probe one environment per group; match the selection with what it has.
    let mut targets = Vec::new();
    let mut all_available = Vec::new();
    let mut absent: Vec<(String, String)> = Vec::new();
    let mut install_failures: Vec<String> = Vec::new();
    // Every group's environment is started and probed at the same time (an image pull or an
    // on-demand interpreter install in one does not hold up the others).
    let groups = group_builds(options, host);
    let results: Vec<Result<Started, BuildError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = groups
            .into_iter()
            .map(|group| {
                scope.spawn(move || start_group(engine, options, shared, host, clock, group))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(BuildError::Input(
                        "starting a build environment panicked".to_owned(),
                    ))
                })
            })
            .collect()
    });
    for result in results {
        let started = result?;
        for id in started.available {
            if !all_available.contains(&id) {
                all_available.push(id);
            }
        }
        absent.extend(started.absent);
        install_failures.extend(started.install_failure);
        targets.extend(started.target);
    }
    // Why the installer could not help, first line only (the message stays one line).
    let install_note = install_failures
        .first()
        .and_then(|why| why.lines().next())
        .map(|why| format!(" ({why})"))
        .unwrap_or_default();
    if options.only {
        if let Some((id, image)) = absent.first() {
            return Err(BuildError::NoMatch {
                what: format!("only `{id}` is not in `{image}`{install_note}"),
                available: all_available,
            });
        }
    }
    if targets.is_empty() {
        let ids: Vec<&str> = absent.iter().map(|(id, _)| id.as_str()).collect();
        return Err(BuildError::NoMatch {
            what: format!(
                "nothing to build: none of the selected identifiers is in the images (selected: {})",
                ids.join(", ")
            ),
            available: all_available,
        });
    }
    if !absent.is_empty() {
        let ids: Vec<&str> = absent.iter().map(|(id, _)| id.as_str()).collect();
        let message = format!(
            "selected but not in the images, not built: {}{install_note} (the images have: {}; narrow `build`/`skip` or set the images)",
            ids.join(", "),
            all_available.join(", ")
        );
        ui::message(&format!("warning: {message}"));
        github::annotation(
            github::Level::Warning,
            Some("wheelwright build"),
            None,
            &message,
        );
    }
    Ok(targets)
}

/// What starting one group's environment gave.
#[derive(Default)]
struct Started {
    /// The environment, when it builds anything.
    target: Option<Target>,
    /// The identifiers it has (and, marked, those its installer offers).
    available: Vec<String>,
    /// Selected identifiers it lacks, with the image.
    absent: Vec<(String, String)>,
    /// Why its interpreter installer failed.
    install_failure: Option<String>,
}

/// Starts and probes the environment of `group` (see [`start_environments`]).
fn start_group(
    engine: &std::sync::Arc<dyn Engine>,
    options: &BuildOptions,
    shared: &Shared,
    host: bool,
    clock: &timings::Clock,
    group: Group,
) -> Result<Started, BuildError> {
    let binary_arch = shared.binary_arch;
    if interrupt::requested() {
        return Err(BuildError::Interrupted(interrupt::describe()));
    }
    let mut outcome = Started::default();
    let arch = group.arch;
    let image = group.image.clone();
    if let Some(binary_arch) = binary_arch {
        if binary_arch != arch && !(binary_arch == Arch::X86_64 && arch == Arch::I686) {
            return Err(BuildError::Input(format!(
                "the container binary is for {binary_arch} and cannot run in {arch} containers; \
                 pass --container-binary with a wheelwright built for {arch}"
            )));
        }
        crate::engine::check_arch_runs(arch)?;
    }
    engine.prepare_image(&image, arch, options.pull)?;
    let started = Instant::now();
    let start_offset = clock.now();
    let mut extra_args = group.create_args.clone();
    extra_args.extend(options.container_args.iter().cloned());
    let mut group_mounts = shared.mounts.clone();
    group_mounts.extend(
        shared
            .package_caches
            .mounts(&image, arch)
            .map_err(BuildError::Input)?,
    );
    let mut container = engine.start(&ContainerSpec {
        image: image.clone(),
        arch,
        mounts: group_mounts,
        extra_args,
    })?;
    let probe = interpreters::parse_probe(&container.capture(interpreters::PROBE_SCRIPT)?);
    let ready_seconds = started.elapsed().as_secs_f64();
    debug!("{}: {probe:?}", container.name());
    let arch = if host {
        let machine = Arch::from_machine(&probe.machine).unwrap_or(arch);
        if machine != arch {
            return Err(BuildError::Input(format!(
                "the host engine builds only for this machine ({machine}); {arch} needs a container engine (--engine docker or podman)"
            )));
        }
        machine
    } else {
        arch
    };
    if arch == Arch::I686 && probe.machine != "i686" {
        if probe.linux32 {
            container.set_wrapper(vec!["linux32".to_owned()]);
        } else {
            ui::message(&format!(
                "warning: `{image}` has no `linux32`; i686 builds will see `uname -m` = {}",
                probe.machine
            ));
        }
    }
    let libc = probe.libc;
    let mut found = discover(&container, options, &probe, libc, arch, host)?;
    let platform = format!("{}_{}", libc.tag_prefix(), arch.as_str());
    let (uv, uv_missing) = if group
        .members
        .iter()
        .any(|&i| builds_with_uv(&options.builds[i]))
    {
        environment_uv(
            &container,
            probe.uv.as_deref(),
            shared.uv_provider.as_ref(),
            arch,
            &platform,
        )?
    } else {
        (None, None)
    };
    // Like cibuildwheel: selected interpreters the image lacks are installed by the image's
    // `manylinux-interpreters` when it has one.
    let mut installed = Vec::new();
    let mut install_seconds = None;
    // What the installer offers besides what it installed (named when something is missing).
    let mut installable: Vec<Identifier> = Vec::new();
    if probe.installer && !host && options.pythons.is_empty() {
        let missing: Vec<&Identifier> = group
            .members
            .iter()
            .map(|&index| &options.builds[index].identifier)
            .filter(|id| !found.iter().any(|f| f.identifier == **id))
            .collect();
        if !missing.is_empty() {
            let started = Instant::now();
            match ensure_interpreters(&container, &missing, libc, arch) {
                Ok((tags, offered)) if tags.is_empty() => installable = offered,
                Ok((tags, offered)) => {
                    installable = offered;
                    let seconds = started.elapsed().as_secs_f64();
                    ui::message(&format!(
                        "[{platform}] installed with manylinux-interpreters in {seconds:.1}s: {}",
                        tags.join(", ")
                    ));
                    install_seconds = Some(seconds);
                    let again =
                        interpreters::parse_probe(&container.capture(interpreters::PROBE_SCRIPT)?);
                    found = discover(&container, options, &again, libc, arch, host)?;
                    installed = tags;
                }
                Err(why) => {
                    ui::message(&format!("[{platform}] warning: {why}"));
                    outcome.install_failure = Some(why);
                }
            }
        }
    }
    interpreters::sort(&mut found);
    if let Some(pair) = found
        .windows(2)
        .find(|w| w[0].identifier == w[1].identifier)
    {
        return Err(BuildError::Input(format!(
            "`{}` and `{}` are both {}: give one interpreter per identifier",
            pair[0].python, pair[1].python, pair[0].identifier
        )));
    }
    if found.is_empty() {
        return Err(BuildError::Input(format!(
            "no Python interpreters in `{image}` ({arch}): nothing at /opt/python/*/bin/python; pass --python PATH"
        )));
    }
    let available: Vec<String> = found.iter().map(|i| i.identifier.to_string()).collect();
    let offered = installable
        .iter()
        .filter(|id| !found.iter().any(|f| f.identifier == **id))
        .map(|id| format!("{id} (installable)"));
    for id in available.iter().cloned().chain(offered) {
        if !outcome.available.contains(&id) {
            outcome.available.push(id);
        }
    }
    // In build order; interpreters the configuration does not select are skipped.
    let mut chosen: Vec<(Interpreter, usize)> = Vec::new();
    for &index in &group.members {
        let wanted = &options.builds[index].identifier;
        match found.iter().find(|i| i.identifier == *wanted) {
            Some(interp) => chosen.push((interp.clone(), index)),
            None => outcome.absent.push((wanted.to_string(), image.clone())),
        }
    }
    for interp in &found {
        if !chosen
            .iter()
            .any(|(c, _)| c.identifier == interp.identifier)
        {
            debug!(
                "{}: in `{image}` but not selected, skipped",
                interp.identifier
            );
        }
    }
    ui::message(&format!(
        "[{platform}] {} `{}` from `{image}` ready in {ready_seconds:.2}s; building {}",
        if host { "work directory" } else { "container" },
        container.name(),
        if chosen.is_empty() {
            "nothing".to_owned()
        } else {
            chosen
                .iter()
                .map(|(i, _)| i.identifier.python.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        }
    ));
    if chosen.is_empty() {
        container.finish(false)?;
        return Ok(outcome);
    }
    outcome.target = Some(Target {
        container,
        platform,
        interpreters: chosen,
        available,
        installed,
        install_seconds,
        ready_seconds,
        timings: Mutex::new(timings::EnvironmentTimings {
            start: Some(clock.since(start_offset)),
            ..timings::EnvironmentTimings::default()
        }),
        repair_command: shared.repair_command.clone(),
        cache_env: shared.cache_env.clone(),
        cache_mounts: shared.cache_mounts.clone(),
        ccache: shared.ccache_root.as_ref().map(|root| CcacheSetup {
            dir: format!("{root}/{}_{}", libc.tag_prefix(), arch.as_str()),
            install: options.compiler_cache == CompilerCache::On && !host,
            required: options.compiler_cache == CompilerCache::On,
        }),
        ccache_bin: Mutex::new(None),
        uv,
        uv_missing,
        setup: Mutex::new(Setup::Pending),
        setup_seconds: Mutex::new(None),
        setup_log: Mutex::new(None),
        failed: AtomicBool::new(false),
        first_failed: Mutex::new(None),
        reusable: Mutex::new(Vec::new()),
    });
    Ok(outcome)
}

/// Identifiers that share an architecture, an image and container arguments share a container.
pub(super) struct Group {
    pub(super) arch: Arch,
    pub(super) image: String,
    pub(super) create_args: Vec<String>,
    pub(super) members: Vec<usize>,
}

pub(super) fn group_builds(options: &BuildOptions, host: bool) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for (index, build) in options.builds.iter().enumerate() {
        let arch = build.identifier.arch;
        let image = if host {
            "host".to_owned()
        } else {
            build.image.clone()
        };
        let create_args = if host {
            Vec::new()
        } else {
            build.create_args.clone()
        };
        match groups
            .iter_mut()
            .find(|g| g.arch == arch && g.image == image && g.create_args == create_args)
        {
            Some(group) => group.members.push(index),
            None => groups.push(Group {
                arch,
                image,
                create_args,
                members: vec![index],
            }),
        }
    }
    groups
}

/// The C library of this machine: musl when a musl loader exists and no glibc does (the rule of
/// the probe in build environments).
#[must_use]
pub fn host_libc() -> Libc {
    let names = |dir: &Path| -> Vec<String> {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let musl = names(Path::new("/lib"))
        .iter()
        .any(|n| n.starts_with("ld-musl-"));
    let glibc = ["/lib", "/lib64", "/usr/lib", "/usr/lib64"]
        .iter()
        .any(|dir| {
            let dir = Path::new(dir);
            dir.join("libc.so.6").exists()
                || names(dir)
                    .iter()
                    .any(|sub| dir.join(sub).join("libc.so.6").exists())
        });
    if musl && !glibc {
        Libc::Musl
    } else {
        Libc::Glibc
    }
}

/// The options narrowed to what the engine can build: the host engine builds this machine's C
/// library and, unless architectures were asked for, its architecture only.
pub(super) fn for_engine(options: &BuildOptions, host: bool) -> BuildOptions {
    let mut narrowed = options.clone();
    if host && !options.only {
        let (machine, libc) = (Arch::host(), host_libc());
        narrowed.builds.retain(|b| {
            b.identifier.libc == libc && (options.archs_given || b.identifier.arch == machine)
        });
    }
    narrowed
}

/// The result rows of a dry run: the selection, nothing started.
pub(super) fn selected_results(options: &BuildOptions) -> Vec<BuildResult> {
    options
        .builds
        .iter()
        .map(|build| {
            BuildResult::empty(
                build.identifier.to_string(),
                Status::Selected,
                String::new(),
            )
        })
        .collect()
}

/// The wheelwright the containers run: `--container-binary` (or its variable), else the running
/// one; static or dynamic ([`runtime`]).
pub(super) fn container_binary(
    options: &BuildOptions,
    cache: &Path,
) -> Result<runtime::ContainerBinary, BuildError> {
    let path = match &options.container_binary {
        Some(path) => std::fs::canonicalize(path).map_err(|e| {
            BuildError::Input(format!("--container-binary `{}`: {e}", path.display()))
        })?,
        None => std::env::current_exe().map_err(io_error("cannot locate the running binary"))?,
    };
    runtime::prepare(&path, cache)
}

/// `path` made absolute with symlinks resolved as far as it exists.
pub(super) fn resolve_path(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = std::fs::canonicalize(existing) {
            return rest.iter().rev().fold(real, |p, c| p.join(c));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return absolute,
        }
    }
}

/// Installs the `missing` identifiers' interpreters with the image's `manylinux-interpreters`
/// (those its `list` names; cibuildwheel calls `ensure` the same way). Returns the directory
/// names installed and every identifier the installer offers, or why the installer failed.
fn ensure_interpreters(
    container: &Container,
    missing: &[&Identifier],
    libc: Libc,
    arch: Arch,
) -> Result<(Vec<String>, Vec<Identifier>), String> {
    let listed = container
        .capture("manylinux-interpreters list")
        .map_err(|e| format!("`manylinux-interpreters list` failed: {e}"))?;
    let offered = interpreters::parse_installable(&listed, libc, arch);
    let tags: Vec<String> = offered
        .iter()
        .filter(|(_, id)| missing.contains(&id))
        .map(|(tag, _)| tag.clone())
        .collect();
    let offered: Vec<Identifier> = offered.into_iter().map(|(_, id)| id).collect();
    if tags.is_empty() {
        return Ok((tags, offered));
    }
    let quoted: Vec<String> = tags.iter().map(|t| shell_quote(t)).collect();
    container
        .capture(&format!(
            "manylinux-interpreters ensure {} 1>&2",
            quoted.join(" ")
        ))
        .map_err(|e| {
            format!(
                "`manylinux-interpreters ensure {}` failed: {e}",
                tags.join(" ")
            )
        })?;
    Ok((tags, offered))
}

/// The interpreters of one environment: `--python`, else `/opt/python/*`, else (host) `python3`.
fn discover(
    container: &Container,
    options: &BuildOptions,
    probe: &interpreters::Probe,
    libc: Libc,
    arch: Arch,
    host: bool,
) -> Result<Vec<Interpreter>, BuildError> {
    let tagged = |pythons: &[String]| -> Result<Vec<Interpreter>, BuildError> {
        let text = container.capture(&interpreters::tag_script(pythons))?;
        let (found, failed) = interpreters::parse_tags(&text, pythons, libc, arch);
        if let Some(bad) = failed.first() {
            return Err(BuildError::Input(format!(
                "--python `{bad}` does not run as a Python interpreter in `{}`",
                container.image()
            )));
        }
        Ok(found)
    };
    if !options.pythons.is_empty() {
        return tagged(&options.pythons);
    }
    let (found, unknown) = interpreters::from_opt_python(&probe.pythons, libc, arch);
    for path in unknown {
        debug!("{path}: not a known /opt/python layout, ignored");
    }
    if found.is_empty() && host {
        if let Some(python) = find_program("python3") {
            return tagged(&[python.display().to_string()]);
        }
    }
    Ok(found)
}

/// The uv of a build environment: the image's (`image_uv`, where the probe found it on PATH),
/// else the pinned one `provider` fetches, if it runs there. `(None, Some(why))` when there is
/// none (the environments use pip and venv); a provided uv that fails its digest check stops
/// the run.
fn environment_uv(
    container: &Container,
    image_uv: Option<&str>,
    provider: Option<&uv::Provider>,
    arch: Arch,
    platform: &str,
) -> Result<(Option<UvSetup>, Option<String>), BuildError> {
    if let Some(path) = image_uv {
        return Ok((
            Some(UvSetup {
                command: "uv".to_owned(),
                path_dir: None,
                describe: format!("uv from the image (`{path}`)"),
            }),
            None,
        ));
    }
    let Some(provider) = provider else {
        return Ok((
            None,
            Some("the environment has no uv: pip and venv are used".to_owned()),
        ));
    };
    let provided = match provider.get(arch) {
        Ok(provided) => provided,
        Err(failure) if failure.integrity => return Err(BuildError::Input(failure.message)),
        Err(failure) => {
            let why = format!(
                "the image has no uv and wheelwright could not provide one ({}): pip and venv are used",
                failure.message
            );
            ui::message(&format!("[{platform}] warning: {why}"));
            return Ok((None, Some(why)));
        }
    };
    let check = format!("{} --version", shell_quote(&provided.inside));
    match container.capture(&check) {
        Ok(version) => {
            let describe = format!(
                "{} provided by wheelwright (the image has none; pinned wheel from `{}`, sha256 checked)",
                version.trim(),
                provider.index()
            );
            ui::message(&format!("[{platform}] {describe}"));
            let dir = provided
                .inside
                .rsplit_once('/')
                .map(|(dir, _)| dir.to_owned());
            Ok((
                Some(UvSetup {
                    command: provided.inside.clone(),
                    path_dir: dir,
                    describe,
                }),
                None,
            ))
        }
        Err(err) => {
            let why = format!(
                "the uv {} wheelwright provides cannot run in `{}` ({err}): pip and venv are used",
                provided.version,
                container.image()
            );
            ui::message(&format!("[{platform}] warning: {why}"));
            Ok((None, Some(why)))
        }
    }
}

/// Whether `build`'s build step uses uv where there is one: its frontend allows it, and uv
/// serves its interpreter or the frontend asks for uv by name (`uv`, `build[uv]`).
pub(super) fn builds_with_uv(build: &IdentifierBuild) -> bool {
    build.frontend.tool.allows_uv()
        && (uv::supports(&build.identifier.python) || build.frontend.tool != FrontendTool::Default)
}
