//! The project as a tar stream for the container: everything except version-control data, build
//! outputs and what the project's `.dockerignore` excludes.
//!
//! Always left out: `.git` and `__pycache__` directories and `*.egg-info` anywhere, `build/`,
//! `dist/` and `wheelhouse/` at the top, and the output directory when it lies inside the project.
//! `.dockerignore` follows Docker's rules: one pattern per line, `#` comments, `*`/`?`/`[…]`
//! within one path component, `**` across components, a pattern excludes the paths it matches and
//! everything below them, `!` re-includes, and the last matching line wins.

use std::io::Write;
use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobMatcher};

/// Names left out wherever they occur.
const EXCLUDED_ANYWHERE: [&str; 2] = [".git", "__pycache__"];
/// Names left out at the top of the project.
const EXCLUDED_AT_TOP: [&str; 3] = ["build", "dist", "wheelhouse"];

/// Which paths of a project are copied.
#[derive(Debug, Default)]
pub struct ProjectFilter {
    rules: Vec<(bool, GlobMatcher)>,
    has_negations: bool,
    /// Further relative paths to leave out (e.g. the output directory).
    extra: Vec<PathBuf>,
}

/// What was copied.
#[derive(Debug, Default, Clone, Copy)]
pub struct TarStats {
    /// Regular files.
    pub files: u64,
    /// Their total size.
    pub bytes: u64,
}

impl ProjectFilter {
    /// Reads `<project>/.dockerignore` if present.
    pub fn for_project(project: &Path) -> Result<Self, String> {
        let path = project.join(".dockerignore");
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(err) => return Err(format!("cannot read `{}`: {err}", path.display())),
        };
        Self::from_dockerignore(&text).map_err(|e| format!("`{}`: {e}", path.display()))
    }

    /// Parses `.dockerignore` text.
    pub fn from_dockerignore(text: &str) -> Result<Self, String> {
        let mut filter = ProjectFilter::default();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (negate, pattern) = match line.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, line),
            };
            let pattern = pattern.trim_start_matches("./").trim_start_matches('/');
            let pattern = pattern.trim_end_matches('/');
            if pattern.is_empty() {
                continue;
            }
            let glob = GlobBuilder::new(pattern)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .map_err(|e| format!("bad pattern `{pattern}`: {}", e.kind()))?;
            filter.has_negations |= negate;
            filter.rules.push((negate, glob.compile_matcher()));
        }
        Ok(filter)
    }

    /// Also leaves out `relative` (and everything below it).
    pub fn exclude(&mut self, relative: PathBuf) {
        self.extra.push(relative);
    }

    /// Whether `relative` (with `/` separators, no leading `./`) is left out.
    #[must_use]
    pub fn is_excluded(&self, relative: &Path, is_dir: bool) -> bool {
        let name = relative
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default();
        if EXCLUDED_ANYWHERE.contains(&name.as_ref())
            || (is_dir && name.ends_with(".egg-info"))
            || (relative.components().count() == 1 && EXCLUDED_AT_TOP.contains(&name.as_ref()))
            || self.extra.iter().any(|e| relative.starts_with(e))
        {
            return true;
        }
        let mut excluded = false;
        for (negate, glob) in &self.rules {
            if relative
                .ancestors()
                .any(|a| !a.as_os_str().is_empty() && glob.is_match(a))
            {
                excluded = !negate;
            }
        }
        excluded
    }

    /// Writes the project as a tar stream (owner 0, file modes and times kept, symlinks stored
    /// as symlinks) to `out`.
    pub fn write_tar(&self, project: &Path, out: &mut dyn Write) -> std::io::Result<TarStats> {
        let mut builder = tar::Builder::new(out);
        builder.follow_symlinks(false);
        let mut stats = TarStats::default();
        self.walk(project, Path::new(""), &mut builder, &mut stats)?;
        builder.into_inner()?.flush()?;
        Ok(stats)
    }

    fn walk(
        &self,
        root: &Path,
        relative: &Path,
        builder: &mut tar::Builder<&mut dyn Write>,
        stats: &mut TarStats,
    ) -> std::io::Result<()> {
        let dir = root.join(relative);
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .map_err(|e| std::io::Error::new(e.kind(), format!("`{}`: {e}", dir.display())))?
            .collect::<Result<_, _>>()?;
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for entry in entries {
            let rel = relative.join(entry.file_name());
            let kind = entry.file_type()?;
            let excluded = self.is_excluded(&rel, kind.is_dir());
            if kind.is_dir() {
                if excluded && !self.has_negations {
                    continue;
                }
                if !excluded {
                    append(builder, &entry.path(), &rel)?;
                }
                self.walk(root, &rel, builder, stats)?;
            } else if !excluded {
                if kind.is_file() {
                    stats.files += 1;
                    stats.bytes += entry.metadata()?.len();
                }
                append(builder, &entry.path(), &rel)?;
            }
        }
        Ok(())
    }
}

fn append(
    builder: &mut tar::Builder<&mut dyn Write>,
    path: &Path,
    rel: &Path,
) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    let mut header = tar::Header::new_gnu();
    header.set_metadata(&meta);
    header.set_uid(0);
    header.set_gid(0);
    if meta.file_type().is_symlink() {
        let target = std::fs::read_link(path)?;
        header.set_size(0);
        builder.append_link(&mut header, rel, target)
    } else if meta.is_dir() {
        header.set_size(0);
        builder.append_data(&mut header, rel, std::io::empty())
    } else if meta.is_file() {
        let file = std::fs::File::open(path)
            .map_err(|e| std::io::Error::new(e.kind(), format!("`{}`: {e}", path.display())))?;
        builder.append_data(&mut header, rel, file)
    } else {
        // Sockets, fifos, devices: nothing a build needs.
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excluded(filter: &ProjectFilter, path: &str, dir: bool) -> bool {
        filter.is_excluded(Path::new(path), dir)
    }

    #[test]
    fn default_exclusions() {
        let f = ProjectFilter::default();
        assert!(excluded(&f, ".git", true));
        assert!(excluded(&f, "src/pkg/__pycache__", true));
        assert!(excluded(&f, "src/pkg.egg-info", true));
        assert!(excluded(&f, "build", true));
        assert!(excluded(&f, "wheelhouse", true));
        assert!(
            !excluded(&f, "src/build", true),
            "only the top-level build/"
        );
        assert!(!excluded(&f, "src/pkg/core.c", false));
    }

    #[test]
    fn dockerignore_rules() {
        let f = ProjectFilter::from_dockerignore(
            "# comment\n\nnode_modules\n*.tmp\ndocs/**/*.png\n!docs/keep/logo.png\n/data/\n",
        )
        .expect("parses");
        assert!(excluded(&f, "node_modules", true));
        assert!(excluded(&f, "node_modules/x/y.js", false));
        assert!(excluded(&f, "a.tmp", false));
        assert!(
            !excluded(&f, "sub/a.tmp", false),
            "`*` stays within one component"
        );
        assert!(excluded(&f, "docs/img/deep/x.png", false));
        assert!(
            !excluded(&f, "docs/keep/logo.png", false),
            "negation re-includes"
        );
        assert!(excluded(&f, "data", true));
        assert!(!excluded(&f, "src/data", true));
        assert!(ProjectFilter::from_dockerignore("a[").is_err());
    }

    #[test]
    fn tar_stream_round_trips() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path();
        std::fs::create_dir_all(p.join("src/pkg/__pycache__")).expect("mkdir");
        std::fs::create_dir_all(p.join(".git")).expect("mkdir");
        std::fs::create_dir_all(p.join("out")).expect("mkdir");
        std::fs::write(p.join("setup.py"), "x").expect("write");
        std::fs::write(p.join("src/pkg/a.py"), "yy").expect("write");
        std::fs::write(p.join("src/pkg/__pycache__/a.pyc"), "z").expect("write");
        std::fs::write(p.join(".git/HEAD"), "z").expect("write");
        std::fs::write(p.join("out/w.whl"), "z").expect("write");
        std::os::unix::fs::symlink("a.py", p.join("src/pkg/b.py")).expect("symlink");
        let mut filter = ProjectFilter::default();
        filter.exclude(PathBuf::from("out"));
        let mut data = Vec::new();
        let stats = filter.write_tar(p, &mut data).expect("tar");
        assert_eq!((stats.files, stats.bytes), (2, 3));
        let mut archive = tar::Archive::new(&data[..]);
        let names: Vec<String> = archive
            .entries()
            .expect("entries")
            .map(|e| {
                e.expect("entry")
                    .path()
                    .expect("path")
                    .display()
                    .to_string()
            })
            .collect();
        assert_eq!(
            names,
            ["setup.py", "src", "src/pkg", "src/pkg/a.py", "src/pkg/b.py"]
        );
    }
}
