//! Wheel file names (PEP 427 / the binary distribution format specification).
//!
//! `{name}-{version}(-{build tag})?-{python tag}-{abi tag}-{platform tag}.whl`, where each tag
//! component may be a compressed tag set (`manylinux_2_17_x86_64.manylinux2014_x86_64`).
//!
//! Parsing keeps every component exactly as spelled so that [`Display`](fmt::Display) round-trips
//! the input byte for byte; normalisation (PEP 503) is a separate, explicit step
//! ([`normalize_name`]).

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use wheelwright_platform::{PlatformTag, PlatformTagError};

/// A parsed wheel file name.
///
/// Ex) `numpy-1.26.4-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl`
///
/// The fields are kept exactly as spelled in the file name. A value built by hand must keep the
/// invariants [`FromStr`] checks (no `-` in any component, no empty tag) for `Display` to produce a
/// parseable name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WheelFilename {
    /// The distribution name, as spelled in the file name (usually `_`-escaped). Ex) `numpy`
    pub name: String,
    /// The version, as spelled in the file name. Ex) `1.26.4`
    pub version: String,
    /// The optional build tag; always starts with a digit. Ex) `1`, `2_abc`
    pub build_tag: Option<String>,
    /// The Python tags of the compressed tag set. Ex) `["cp312"]`, `["py2", "py3"]`
    pub python_tags: Vec<String>,
    /// The ABI tags of the compressed tag set. Ex) `["cp312"]`, `["abi3"]`, `["none"]`
    pub abi_tags: Vec<String>,
    /// The platform tags of the compressed tag set, parsed (each displays as spelled).
    /// Ex) `["manylinux_2_17_x86_64", "manylinux2014_x86_64"]`
    pub platform_tags: Vec<PlatformTag>,
}

/// Why a wheel file name could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WheelFilenameError {
    /// The name does not end with `.whl`. Ex) `foo-1.0-py3-none-any.zip`
    #[error("invalid wheel filename `{filename}`: must end with `.whl`")]
    MissingExtension {
        /// The offending file name.
        filename: String,
    },
    /// The stem does not have 5 or 6 `-`-separated components. Ex) `foo-1.0-py3-any.whl`
    #[error(
        "invalid wheel filename `{filename}`: expected 5 or 6 `-`-separated components \
         (`name-version[-build]-python-abi-platform`), found {count}"
    )]
    ComponentCount {
        /// The offending file name.
        filename: String,
        /// How many components were found.
        count: usize,
    },
    /// A component is empty. Ex) `foo--py3-none-any.whl`
    #[error("invalid wheel filename `{filename}`: the {component} is empty")]
    EmptyComponent {
        /// The offending file name.
        filename: String,
        /// Which component: `name`, `version`, `build tag`, `python tag`, `abi tag` or
        /// `platform tag`.
        component: &'static str,
    },
    /// The build tag does not start with a digit. Ex) `foo-1.0-abc-py3-none-any.whl`
    #[error("invalid wheel filename `{filename}`: build tag `{build_tag}` must start with a digit")]
    InvalidBuildTag {
        /// The offending file name.
        filename: String,
        /// The build tag as found.
        build_tag: String,
    },
    /// A compressed tag set has an empty member. Ex) `foo-1.0-py3-none-linux_x86_64..whl`
    #[error("invalid wheel filename `{filename}`: the {component} set `{tags}` has an empty tag")]
    EmptyTag {
        /// The offending file name.
        filename: String,
        /// Which tag set: `python tag`, `abi tag` or `platform tag`.
        component: &'static str,
        /// The whole compressed tag set as found.
        tags: String,
    },
    /// A platform tag is malformed. Ex) `foo-1.0-py3-none-manylinux_2_x86_64.whl`
    #[error("invalid wheel filename `{filename}`: {source}")]
    InvalidPlatformTag {
        /// The offending file name.
        filename: String,
        /// Why the tag does not parse.
        source: PlatformTagError,
    },
    /// The path has no final component, or it is not valid UTF-8.
    #[error("invalid wheel path `{}`: no UTF-8 file name", path.display())]
    NoFileName {
        /// The offending path.
        path: PathBuf,
    },
}

impl WheelFilename {
    /// Parses the final component of `path` as a wheel file name.
    pub fn from_path(path: &Path) -> Result<Self, WheelFilenameError> {
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .ok_or_else(|| WheelFilenameError::NoFileName {
                path: path.to_path_buf(),
            })?;
        name.parse()
    }

    /// The `.dist-info` directory name exactly as spelled in the file name.
    ///
    /// Ex) `numpy-1.26.4.dist-info`
    #[must_use]
    pub fn dist_info_dir(&self) -> String {
        format!("{}-{}.dist-info", self.name, self.version)
    }

    /// The `.data` directory name exactly as spelled in the file name.
    ///
    /// Ex) `numpy-1.26.4.data`
    #[must_use]
    pub fn data_dir(&self) -> String {
        format!("{}-{}.data", self.name, self.version)
    }

    /// A copy with the platform tag set replaced (the other components are kept).
    #[must_use]
    pub fn with_platform_tags(&self, platform_tags: Vec<PlatformTag>) -> Self {
        Self {
            platform_tags,
            ..self.clone()
        }
    }

    /// Whether the wheel is platform independent: every platform tag is `any`.
    #[must_use]
    pub fn is_pure(&self) -> bool {
        !self.platform_tags.is_empty()
            && self
                .platform_tags
                .iter()
                .all(|tag| *tag == PlatformTag::Any)
    }
}

impl FromStr for WheelFilename {
    type Err = WheelFilenameError;

    fn from_str(filename: &str) -> Result<Self, Self::Err> {
        let Some(stem) = filename.strip_suffix(".whl") else {
            return Err(WheelFilenameError::MissingExtension {
                filename: filename.to_string(),
            });
        };
        let parts: Vec<&str> = stem.split('-').collect();
        let (name, version, build_tag, python, abi, platform) = match parts.as_slice() {
            [name, version, python, abi, platform] => {
                (*name, *version, None, *python, *abi, *platform)
            }
            [name, version, build, python, abi, platform] => {
                (*name, *version, Some(*build), *python, *abi, *platform)
            }
            _ => {
                return Err(WheelFilenameError::ComponentCount {
                    filename: filename.to_string(),
                    count: parts.len(),
                });
            }
        };
        let non_empty = |value: &str, component: &'static str| {
            if value.is_empty() {
                Err(WheelFilenameError::EmptyComponent {
                    filename: filename.to_string(),
                    component,
                })
            } else {
                Ok(())
            }
        };
        non_empty(name, "name")?;
        non_empty(version, "version")?;
        if let Some(build_tag) = build_tag {
            non_empty(build_tag, "build tag")?;
            if !build_tag.starts_with(|c: char| c.is_ascii_digit()) {
                return Err(WheelFilenameError::InvalidBuildTag {
                    filename: filename.to_string(),
                    build_tag: build_tag.to_string(),
                });
            }
        }
        let tag_set = |tags: &str, component: &'static str| {
            non_empty(tags, component)?;
            let split: Vec<String> = tags.split('.').map(str::to_string).collect();
            if split.iter().any(String::is_empty) {
                return Err(WheelFilenameError::EmptyTag {
                    filename: filename.to_string(),
                    component,
                    tags: tags.to_string(),
                });
            }
            Ok(split)
        };
        Ok(Self {
            name: name.to_string(),
            version: version.to_string(),
            build_tag: build_tag.map(str::to_string),
            python_tags: tag_set(python, "python tag")?,
            abi_tags: tag_set(abi, "abi tag")?,
            platform_tags: tag_set(platform, "platform tag")?
                .iter()
                .map(|tag| tag.parse())
                .collect::<Result<_, _>>()
                .map_err(|source| WheelFilenameError::InvalidPlatformTag {
                    filename: filename.to_string(),
                    source,
                })?,
        })
    }
}

impl fmt::Display for WheelFilename {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.name, self.version)?;
        if let Some(build_tag) = &self.build_tag {
            write!(f, "-{build_tag}")?;
        }
        write!(
            f,
            "-{}-{}-{}.whl",
            self.python_tags.join("."),
            self.abi_tags.join("."),
            self.platform_tags
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(".")
        )
    }
}

/// PEP 503 normalisation of a distribution name: lowercase, runs of `-`, `_` and `.` become one `-`.
///
/// Ex) `Foo.Bar__baz` -> `foo-bar-baz`
#[must_use]
pub fn normalize_name(name: &str) -> String {
    let mut normalized = String::with_capacity(name.len());
    let mut in_separator = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_separator {
                normalized.push('-');
                in_separator = true;
            }
        } else {
            normalized.extend(c.to_lowercase());
            in_separator = false;
        }
    }
    normalized
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(filename: &str) -> WheelFilenameError {
        match filename.parse::<WheelFilename>() {
            Ok(parsed) => panic!("`{filename}` parsed unexpectedly: {parsed:?}"),
            Err(err) => err,
        }
    }

    #[test]
    fn round_trips() {
        for filename in [
            "numpy-1.26.4-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "foo-1.0-py3-none-any.whl",
            "foo_bar-2.0.0rc1-1-py2.py3-none-any.whl",
            "Foo.Bar-1.0-2_abc-cp39-abi3-linux_aarch64.whl",
            "pkg-0.1+local.1-cp312-cp312-musllinux_1_2_x86_64.whl",
        ] {
            let parsed: WheelFilename = filename.parse().unwrap();
            assert_eq!(parsed.to_string(), filename);
        }
    }

    #[test]
    fn components() {
        let parsed: WheelFilename =
            "numpy-1.26.4-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
                .parse()
                .unwrap();
        assert_eq!(parsed.name, "numpy");
        assert_eq!(parsed.version, "1.26.4");
        assert_eq!(parsed.build_tag, None);
        assert_eq!(parsed.python_tags, ["cp312"]);
        assert_eq!(parsed.abi_tags, ["cp312"]);
        assert_eq!(
            parsed.platform_tags,
            ["manylinux_2_17_x86_64", "manylinux2014_x86_64"]
        );
        assert_eq!(parsed.dist_info_dir(), "numpy-1.26.4.dist-info");
        assert_eq!(parsed.data_dir(), "numpy-1.26.4.data");
        assert!(!parsed.is_pure());

        let built: WheelFilename = "foo_bar-2.0-1-py2.py3-none-any.whl".parse().unwrap();
        assert_eq!(built.build_tag.as_deref(), Some("1"));
        assert_eq!(built.python_tags, ["py2", "py3"]);
        assert!(built.is_pure());
    }

    #[test]
    fn with_platform_tags() {
        let parsed: WheelFilename = "foo-1.0-1-cp312-cp312-linux_x86_64.whl".parse().unwrap();
        let retagged = parsed.with_platform_tags(vec![
            "manylinux_2_17_x86_64".parse().unwrap(),
            "manylinux2014_x86_64".parse().unwrap(),
        ]);
        assert_eq!(
            retagged.to_string(),
            "foo-1.0-1-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
        );
    }

    #[test]
    fn from_path() {
        let parsed =
            WheelFilename::from_path(Path::new("/tmp/dist/foo-1.0-py3-none-any.whl")).unwrap();
        assert_eq!(parsed.name, "foo");
        insta::assert_snapshot!(
            WheelFilename::from_path(Path::new("/")).unwrap_err(),
            @"invalid wheel path `/`: no UTF-8 file name"
        );
    }

    #[test]
    fn rejections() {
        insta::assert_snapshot!(err("foo-1.0-py3-none-any.zip"), @"invalid wheel filename `foo-1.0-py3-none-any.zip`: must end with `.whl`");
        insta::assert_snapshot!(err("foo-1.0-py3-any.whl"), @"invalid wheel filename `foo-1.0-py3-any.whl`: expected 5 or 6 `-`-separated components (`name-version[-build]-python-abi-platform`), found 4");
        insta::assert_snapshot!(err("foo-bar-1.0-1-py3-none-any.whl"), @"invalid wheel filename `foo-bar-1.0-1-py3-none-any.whl`: expected 5 or 6 `-`-separated components (`name-version[-build]-python-abi-platform`), found 7");
        insta::assert_snapshot!(err("foo--py3-none-any.whl"), @"invalid wheel filename `foo--py3-none-any.whl`: the version is empty");
        insta::assert_snapshot!(err("-1.0-py3-none-any.whl"), @"invalid wheel filename `-1.0-py3-none-any.whl`: the name is empty");
        insta::assert_snapshot!(err("foo-1.0-abc-py3-none-any.whl"), @"invalid wheel filename `foo-1.0-abc-py3-none-any.whl`: build tag `abc` must start with a digit");
        insta::assert_snapshot!(err("foo-1.0--py3-none-any.whl"), @"invalid wheel filename `foo-1.0--py3-none-any.whl`: the build tag is empty");
        insta::assert_snapshot!(err("foo-1.0-py3-none-linux_x86_64..whl"), @"invalid wheel filename `foo-1.0-py3-none-linux_x86_64..whl`: the platform tag set `linux_x86_64.` has an empty tag");
        insta::assert_snapshot!(err("foo-1.0-py3-none-manylinux_2_x86_64.whl"), @"invalid wheel filename `foo-1.0-py3-none-manylinux_2_x86_64.whl`: invalid platform tag `manylinux_2_x86_64`: expected `manylinux_<major>_<minor>_<arch>`");
        insta::assert_snapshot!(err("foo-1.0-py3--any.whl"), @"invalid wheel filename `foo-1.0-py3--any.whl`: the abi tag is empty");
        insta::assert_snapshot!(err(".whl"), @"invalid wheel filename `.whl`: expected 5 or 6 `-`-separated components (`name-version[-build]-python-abi-platform`), found 1");
    }

    #[test]
    fn normalizes_names() {
        assert_eq!(normalize_name("Foo.Bar__baz"), "foo-bar-baz");
        assert_eq!(normalize_name("foo_bar"), "foo-bar");
        assert_eq!(normalize_name("FOO---bar"), "foo-bar");
    }
}
