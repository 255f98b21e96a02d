//! Build metadata for `--version`: the commit this binary was built from and the build date,
//! as `wheelwright 0.1.0 (0123456789ab 2025-06-01)`.
//!
//! The commit comes from git when the crate is built from its own checkout (not from a source
//! tarball unpacked inside some other repository), else from `WHEELWRIGHT_BUILD_COMMIT` (for
//! builds from a tarball that know their commit); without either, the version says only the
//! date. The date is today's (UTC), or `SOURCE_DATE_EPOCH`'s for reproducible builds.

use std::path::{Path, PathBuf};
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// The commit of the checkout `dir` is the top of, and the files whose change means another
/// commit (HEAD, the branch it points to, packed refs).
fn git_commit(dir: &Path) -> Option<(String, Vec<PathBuf>)> {
    let top = PathBuf::from(git(dir, &["rev-parse", "--show-toplevel"])?);
    if std::fs::canonicalize(top).ok()? != std::fs::canonicalize(dir).ok()? {
        return None;
    }
    let commit = git(dir, &["rev-parse", "--short=12", "HEAD"])?;
    let mut watch = Vec::new();
    let mut refs = vec!["HEAD".to_owned(), "packed-refs".to_owned()];
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        refs.push(branch);
    }
    for name in refs {
        if let Some(path) = git(dir, &["rev-parse", "--git-path", &name]) {
            let path = dir.join(path);
            if path.exists() {
                watch.push(path);
            }
        }
    }
    Some((commit, watch))
}

fn main() {
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=WHEELWRIGHT_BUILD_COMMIT");
    println!("cargo::rerun-if-env-changed=SOURCE_DATE_EPOCH");

    let commit = match git_commit(&dir) {
        Some((commit, watch)) => {
            for path in watch {
                println!("cargo::rerun-if-changed={}", path.display());
            }
            Some(commit)
        }
        None => std::env::var("WHEELWRIGHT_BUILD_COMMIT")
            .ok()
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty()),
    };
    let epoch = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok());
    let date = epoch
        .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
        .unwrap_or_else(chrono::Utc::now)
        .format("%Y-%m-%d")
        .to_string();
    let package = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let version = match &commit {
        Some(commit) => format!("{package} ({commit} {date})"),
        None => format!("{package} ({date})"),
    };
    println!("cargo::rustc-env=WHEELWRIGHT_VERSION={version}");
    println!(
        "cargo::rustc-env=WHEELWRIGHT_COMMIT={}",
        commit.unwrap_or_default()
    );
    println!("cargo::rustc-env=WHEELWRIGHT_BUILD_DATE={date}");
}
