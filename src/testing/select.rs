//! Which local wheel an interpreter would install: the choice pip makes among the files of one
//! project, from the interpreter's own list of supported tags.
//!
//! pip ranks candidates by version first (the newest wins), then by the position of the best of
//! the wheel's tags in the interpreter's `sys_tags()` list (earlier is better), then by build
//! tag. The interpreter's list comes from the interpreter itself ([`SYS_TAGS_CODE`]), so every
//! rule of `packaging.tags` (manylinux glibc versions, musllinux, PyPy, abi3, free-threading) is
//! the interpreter's, not a re-implementation.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::str::FromStr as _;

use crate::wheel::filename::WheelFilename;

/// Python code printing the interpreter's supported tags, best first, one per line: pip's
/// vendored `packaging` (any pip since 19.3), else an installed `packaging`.
pub const SYS_TAGS_CODE: &str = "try:\n    from pip._vendor.packaging.tags import sys_tags\n\
except ImportError:\n    from packaging.tags import sys_tags\n\
print('\\n'.join(str(t) for t in sys_tags()))";

/// A local wheel.
#[derive(Debug, Clone)]
pub struct LocalWheel {
    /// Its path on the host.
    pub path: PathBuf,
    /// Its parsed name.
    pub filename: WheelFilename,
    /// The file name. Ex) `democext-0.1.0-cp39-cp39-manylinux_2_5_x86_64.whl`
    pub name: String,
}

impl LocalWheel {
    /// Every `python-abi-platform` tag the file name expands to.
    #[must_use]
    pub fn tags(&self) -> Vec<String> {
        let f = &self.filename;
        let mut tags = Vec::new();
        for python in &f.python_tags {
            for abi in &f.abi_tags {
                for platform in &f.platform_tags {
                    tags.push(format!("{python}-{abi}-{platform}"));
                }
            }
        }
        tags
    }

    /// The normalized project name.
    #[must_use]
    pub fn project(&self) -> String {
        crate::wheel::normalize_name(&self.filename.name)
    }
}

/// One interpreter's supported tags, best first.
#[derive(Debug, Clone)]
pub struct SupportedTags {
    rank: HashMap<String, usize>,
    first: Option<String>,
}

impl SupportedTags {
    /// From the output of [`SYS_TAGS_CODE`].
    #[must_use]
    pub fn parse(text: &str) -> Self {
        let mut rank = HashMap::new();
        let mut first = None;
        for (i, tag) in text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .enumerate()
        {
            if first.is_none() {
                first = Some(tag.to_owned());
            }
            rank.entry(tag.to_owned()).or_insert(i);
        }
        SupportedTags { rank, first }
    }

    /// Whether the list is empty (the interpreter did not answer).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rank.is_empty()
    }

    /// The most specific tag. Ex) `cp39-cp39-manylinux_2_31_x86_64`
    #[must_use]
    pub fn best(&self) -> Option<&str> {
        self.first.as_deref()
    }

    /// The rank of the best of `wheel`'s tags (lower is better); `None` when not installable.
    #[must_use]
    pub fn rank(&self, wheel: &LocalWheel) -> Option<usize> {
        wheel
            .tags()
            .iter()
            .filter_map(|t| self.rank.get(t))
            .min()
            .copied()
    }
}

/// The choice for one interpreter and one project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// Index into the interpreters.
    pub interpreter: usize,
    /// Index into the wheels.
    pub wheel: usize,
}

/// Why no choice could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectError {
    /// Two versions of one project rank equally for an interpreter and cannot be ordered.
    #[error(
        "`{first}` and `{second}` are different builds of `{project}` that pip could choose between; test one at a time"
    )]
    Ambiguous {
        /// The project.
        project: String,
        /// One file.
        first: String,
        /// The other.
        second: String,
    },
}

fn compare_versions(a: &str, b: &str) -> Ordering {
    match (
        pep440_rs::Version::from_str(a),
        pep440_rs::Version::from_str(b),
    ) {
        (Ok(a), Ok(b)) => a.cmp(&b),
        _ => a.cmp(b),
    }
}

/// For every interpreter and every project among `wheels`, the wheel pip would install (when
/// one is installable). Ordered by project, then interpreter.
pub fn choose(
    wheels: &[LocalWheel],
    interpreters: &[SupportedTags],
) -> Result<Vec<Choice>, SelectError> {
    let mut by_project: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, wheel) in wheels.iter().enumerate() {
        by_project.entry(wheel.project()).or_default().push(i);
    }
    let mut choices = Vec::new();
    for (project, indexes) in &by_project {
        for (interp, tags) in interpreters.iter().enumerate() {
            let mut best: Option<(usize, usize)> = None;
            for &w in indexes {
                let Some(rank) = tags.rank(&wheels[w]) else {
                    continue;
                };
                let better = match best {
                    None => true,
                    Some((b, b_rank)) => {
                        let (this, that) = (&wheels[w].filename, &wheels[b].filename);
                        match compare_versions(&this.version, &that.version)
                            .then(b_rank.cmp(&rank))
                            .then_with(|| build_number(this).cmp(&build_number(that)))
                        {
                            Ordering::Greater => true,
                            Ordering::Less => false,
                            Ordering::Equal => {
                                return Err(SelectError::Ambiguous {
                                    project: project.clone(),
                                    first: wheels[b].name.clone(),
                                    second: wheels[w].name.clone(),
                                });
                            }
                        }
                    }
                };
                if better {
                    best = Some((w, rank));
                }
            }
            if let Some((wheel, _)) = best {
                choices.push(Choice {
                    interpreter: interp,
                    wheel,
                });
            }
        }
    }
    Ok(choices)
}

/// A wheel's build tag as pip orders it: the leading number, then the rest.
fn build_number(filename: &WheelFilename) -> (u64, String) {
    let Some(tag) = &filename.build_tag else {
        return (0, String::new());
    };
    let digits: String = tag.chars().take_while(char::is_ascii_digit).collect();
    (digits.parse().unwrap_or(0), tag[digits.len()..].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wheel(name: &str) -> LocalWheel {
        LocalWheel {
            path: PathBuf::from(name),
            filename: name.parse().expect(name),
            name: name.to_owned(),
        }
    }

    fn tags(list: &[&str]) -> SupportedTags {
        SupportedTags::parse(&list.join("\n"))
    }

    fn cp39_x86_64() -> SupportedTags {
        tags(&[
            "cp39-cp39-manylinux_2_31_x86_64",
            "cp39-cp39-manylinux_2_17_x86_64",
            "cp39-cp39-manylinux2014_x86_64",
            "cp39-cp39-manylinux_2_5_x86_64",
            "cp39-cp39-linux_x86_64",
            "cp39-abi3-manylinux_2_31_x86_64",
            "cp39-abi3-manylinux_2_5_x86_64",
            "cp38-abi3-manylinux_2_5_x86_64",
            "py39-none-manylinux_2_5_x86_64",
            "py3-none-any",
        ])
    }

    #[test]
    fn the_most_specific_compatible_wheel_wins() {
        let wheels = [
            wheel("demo-1.0-py3-none-any.whl"),
            wheel("demo-1.0-cp38-abi3-manylinux_2_5_x86_64.whl"),
            wheel("demo-1.0-cp39-cp39-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"),
            wheel("demo-1.0-cp39-cp39-manylinux_2_17_i686.whl"),
        ];
        let choices = choose(&wheels, &[cp39_x86_64()]).expect("choice");
        assert_eq!(
            choices,
            [Choice {
                interpreter: 0,
                wheel: 2
            }]
        );
        // Without the specific one, abi3 beats pure.
        let choices = choose(&wheels[..2], &[cp39_x86_64()]).expect("choice");
        assert_eq!(choices[0].wheel, 1);
    }

    #[test]
    fn newer_versions_win_over_better_tags() {
        let wheels = [
            wheel("demo-1.0-cp39-cp39-manylinux_2_17_x86_64.whl"),
            wheel("demo-1.10-py3-none-any.whl"),
            wheel("demo-1.9-py3-none-any.whl"),
        ];
        let choices = choose(&wheels, &[cp39_x86_64()]).expect("choice");
        assert_eq!(choices[0].wheel, 1);
    }

    #[test]
    fn incompatible_wheels_are_not_chosen_and_projects_are_separate() {
        let wheels = [
            wheel("demo-1.0-cp39-cp39-manylinux_2_17_i686.whl"),
            wheel("demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl"),
            wheel("other-2.0-py3-none-any.whl"),
        ];
        let interpreters = [cp39_x86_64(), tags(&[])];
        let choices = choose(&wheels, &interpreters).expect("choice");
        assert_eq!(
            choices,
            [Choice {
                interpreter: 0,
                wheel: 2
            }]
        );
        assert_eq!(interpreters[0].rank(&wheels[0]), None);
        assert!(interpreters[1].is_empty());
        assert_eq!(
            interpreters[0].best(),
            Some("cp39-cp39-manylinux_2_31_x86_64")
        );
    }

    #[test]
    fn equal_candidates_are_refused() {
        let wheels = [
            wheel("demo-1.0-py3-none-any.whl"),
            wheel("demo-1.0-py2.py3-none-any.whl"),
        ];
        let err = choose(&wheels, &[cp39_x86_64()]).expect_err("ambiguous");
        assert!(
            err.to_string().contains("pip could choose between"),
            "{err}"
        );
        // Build tags order otherwise equal wheels.
        let wheels = [
            wheel("demo-1.0-1-py3-none-any.whl"),
            wheel("demo-1.0-2-py3-none-any.whl"),
        ];
        assert_eq!(
            choose(&wheels, &[cp39_x86_64()]).expect("choice")[0].wheel,
            1
        );
    }

    #[test]
    fn the_tag_code_runs_here() {
        let python = crate::engine::process::find_program("python3").expect("python3 on PATH");
        let out = std::process::Command::new(python)
            .args(["-c", SYS_TAGS_CODE])
            .output()
            .expect("python3");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let tags = SupportedTags::parse(&String::from_utf8_lossy(&out.stdout));
        assert!(tags.best().is_some_and(|t| t.starts_with("cp3")));
        assert!(tags.rank(&wheel("x-1-py3-none-any.whl")).is_some());
    }
}
