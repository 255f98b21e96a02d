//! How wheelwright ends when it is interrupted (SIGINT, SIGTERM, SIGHUP) or panics.
//!
//! [`install`] (called first thing by `main`) starts a thread that waits for those signals. On
//! the first one it
//! 1. records it ([`requested`] turns true, so that schedulers stop taking work and unfinished
//!    work is recorded as interrupted rather than as failed);
//! 2. ends the running work: kills the process groups of every child process started through
//!    [`Child`] (engine clients, host builds) and runs the registered stop actions (removing the
//!    containers) — in that order, so a container is removed after the client that might still
//!    create it is gone; a child started through [`Child`] after this is killed at once (the
//!    clean-up's own `rm -f` runs outside it);
//! 3. when a command cooperates ([`cooperate`]: `build`, which records what was interrupted and
//!    prints its table), waits for it to call [`finish`] (at most [`GRACE`]; a second signal cuts
//!    the wait short);
//! 4. removes this process's temporaries ([`crate::scratch::remove_ours`]) and what is still
//!    registered, and exits with 128 + the signal number (130 for SIGINT, 143 for SIGTERM, 129
//!    for SIGHUP), whatever the main thread was doing.
//!
//! Every other way out removes temporaries and containers through their owners' `Drop`, except a
//! panic in a `panic = "abort"` build (the release profile): the panic hook runs steps 2 and 4.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use tracing::debug;

/// How long a cooperating command gets to wind down after an interrupt.
pub const GRACE: Duration = Duration::from_secs(30);

/// The signal received (0: none).
static SIGNAL: AtomicI32 = AtomicI32::new(0);

/// Whether an interrupt has been received.
#[must_use]
pub fn requested() -> bool {
    SIGNAL.load(Ordering::SeqCst) != 0
}

/// The signal's name, once one was received. Ex) `SIGINT`
#[must_use]
pub fn signal_name() -> Option<&'static str> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        signal_hook::consts::SIGINT => Some("SIGINT"),
        signal_hook::consts::SIGTERM => Some("SIGTERM"),
        signal_hook::consts::SIGHUP => Some("SIGHUP"),
        _ => Some("a signal"),
    }
}

/// `interrupted (SIGINT)`: what unfinished work is recorded as.
#[must_use]
pub fn describe() -> String {
    format!("interrupted ({})", signal_name().unwrap_or("no signal"))
}

type Action = Arc<dyn Fn() + Send + Sync>;

struct Registry {
    next: u64,
    actions: Vec<(u64, Action)>,
    groups: Vec<(u64, i32)>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    next: 1,
    actions: Vec::new(),
    groups: Vec::new(),
});

/// Unregisters what it was returned for when dropped.
#[must_use = "the registration ends when this is dropped"]
pub struct Registration(u64);

impl Drop for Registration {
    fn drop(&mut self) {
        if let Ok(mut registry) = REGISTRY.lock() {
            registry.actions.retain(|(id, _)| *id != self.0);
            registry.groups.retain(|(id, _)| *id != self.0);
        }
    }
}

fn register(add: impl FnOnce(&mut Registry, u64)) -> Registration {
    let mut registry = REGISTRY
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let id = registry.next;
    registry.next += 1;
    add(&mut registry, id);
    Registration(id)
}

/// Runs `action` when the process is interrupted (or panics in an abort build), unless the
/// returned registration was dropped before. Actions run in parallel, after child processes were
/// killed.
pub fn on_interrupt(action: impl Fn() + Send + Sync + 'static) -> Registration {
    let action: Action = Arc::new(action);
    register(|registry, id| registry.actions.push((id, action)))
}

/// A child process in a process group of its own (so that a Ctrl-C in the terminal reaches only
/// wheelwright, which decides how the child ends), killed with its group on an interrupt.
pub struct Child {
    /// The process.
    pub child: std::process::Child,
    _registration: Registration,
}

impl Child {
    /// Spawns `cmd` in a new process group.
    pub fn spawn(cmd: &mut std::process::Command) -> std::io::Result<Child> {
        use std::os::unix::process::CommandExt as _;
        cmd.process_group(0);
        let child = cmd.spawn()?;
        let pid = i32::try_from(child.id()).unwrap_or(0);
        let registration = register(|registry, id| registry.groups.push((id, pid)));
        if requested() {
            // Spawned after the interrupt's kill: it ends here.
            kill_group(pid);
        }
        Ok(Child {
            child,
            _registration: registration,
        })
    }

    /// Kills the child's process group (the child and what it started that stayed in it).
    pub fn kill_group(&self) {
        kill_group(i32::try_from(self.child.id()).unwrap_or(0));
    }
}

fn kill_group(pid: i32) {
    if let Some(pid) = rustix::process::Pid::from_raw(pid) {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
}

/// Kills the registered process groups, then runs (and forgets) the registered actions.
fn stop() {
    let (groups, actions) = match REGISTRY.lock() {
        Ok(mut registry) => (
            registry
                .groups
                .iter()
                .map(|(_, pid)| *pid)
                .collect::<Vec<_>>(),
            std::mem::take(&mut registry.actions),
        ),
        Err(_) => return,
    };
    for pid in groups {
        kill_group(pid);
    }
    std::thread::scope(|scope| {
        for (_, action) in &actions {
            scope.spawn(|| action());
        }
    });
}

/// Stops everything and removes this process's temporaries.
fn clean_up() {
    stop();
    crate::scratch::remove_ours();
}

static COOPERATING: AtomicU64 = AtomicU64::new(0);
static FINISHED: Mutex<bool> = Mutex::new(false);
static FINISHED_CHANGED: Condvar = Condvar::new();
static SECOND: AtomicBool = AtomicBool::new(false);

/// While the returned guard lives, an interrupt waits (up to [`GRACE`]) for the command to
/// call [`finish`] before exiting, so that it can record and report what was interrupted.
#[must_use = "the command cooperates while this lives"]
pub struct Cooperation(());

/// See [`Cooperation`].
pub fn cooperate() -> Cooperation {
    COOPERATING.fetch_add(1, Ordering::SeqCst);
    Cooperation(())
}

impl Drop for Cooperation {
    fn drop(&mut self) {
        COOPERATING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The end of `main`: returns `code`, or, after an interrupt, lets the interrupt thread finish
/// its clean-up and exit with 128 + the signal (this call does not return then).
pub fn finish(code: ExitCode) -> ExitCode {
    if !requested() {
        return code;
    }
    if let Ok(mut finished) = FINISHED.lock() {
        *finished = true;
        FINISHED_CHANGED.notify_all();
    }
    loop {
        std::thread::park();
    }
}

fn exit_status(signal: i32) -> i32 {
    128 + signal
}

fn on_signal(signal: i32) {
    if SIGNAL
        .compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst)
        .is_err()
    {
        // A second signal: no more waiting (set under the lock the waiter checks it under).
        let _finished = FINISHED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        SECOND.store(true, Ordering::SeqCst);
        FINISHED_CHANGED.notify_all();
        return;
    }
    let first = signal;
    std::thread::spawn(move || {
        debug!("interrupted by signal {first}");
        stop();
        if COOPERATING.load(Ordering::SeqCst) > 0 {
            let finished = FINISHED
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let _ = FINISHED_CHANGED.wait_timeout_while(finished, GRACE, |finished| {
                !*finished && !SECOND.load(Ordering::SeqCst)
            });
        }
        clean_up();
        #[expect(
            clippy::exit,
            reason = "an interrupt ends the process with 128 + the signal number"
        )]
        std::process::exit(exit_status(first));
    });
}

/// Installs the signal thread and, for `panic = "abort"` builds, the panic clean-up (once).
pub fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        match signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) {
            Ok(mut signals) => {
                let spawned = std::thread::Builder::new()
                    .name("signals".to_owned())
                    .spawn(move || {
                        for signal in signals.forever() {
                            on_signal(signal);
                        }
                    });
                if let Err(err) = spawned {
                    debug!("cannot start the signal thread: {err}");
                }
            }
            Err(err) => debug!("cannot install the signal handlers: {err}"),
        }
        if cfg!(panic = "abort") {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                previous(info);
                clean_up();
            }));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_statuses_follow_the_shell_convention() {
        assert_eq!(exit_status(signal_hook::consts::SIGINT), 130);
        assert_eq!(exit_status(signal_hook::consts::SIGTERM), 143);
        assert_eq!(exit_status(signal_hook::consts::SIGHUP), 129);
    }

    #[test]
    fn registrations_end_when_dropped() {
        let registered = |id: u64| {
            REGISTRY
                .lock()
                .is_ok_and(|r| r.actions.iter().any(|(i, _)| *i == id))
        };
        let registration = on_interrupt(|| {});
        let id = registration.0;
        assert!(registered(id));
        drop(registration);
        assert!(!registered(id));
    }
}
