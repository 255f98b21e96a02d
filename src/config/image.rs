//! Container images: the pinned manylinux/musllinux references behind the short names
//! (`manylinux_2_28`), and validated image references.
//!
//! An image reference is handed to the container engine as one argument, never through a shell,
//! and is still restricted to the characters image references use (letters, digits, `.`, `_`,
//! `-`, `/`, `:`, `@`): whitespace or shell characters are rejected when the configuration is
//! read, not discovered when a command line is built.

use std::fmt;

use crate::platform::Arch;
use crate::platform::Libc;

/// The manylinux/musllinux image tag pinned for every short name: the pin of cibuildwheel
/// v4.2.0 (`resources/pinned_docker_images.cfg`). Update all references below together.
pub const PINNED_TAG: &str = "2026.08.15-1";

/// Short name, architecture and the pinned reference it stands for. The one place the image
/// references live; `image::tests` checks every entry against [`PINNED_TAG`].
pub const PINNED_IMAGES: [(&str, Arch, &str); 23] = [
    (
        "manylinux2014",
        Arch::X86_64,
        "quay.io/pypa/manylinux2014_x86_64:2026.08.15-1",
    ),
    (
        "manylinux2014",
        Arch::I686,
        "quay.io/pypa/manylinux2014_i686:2026.08.15-1",
    ),
    (
        "manylinux2014",
        Arch::Aarch64,
        "quay.io/pypa/manylinux2014_aarch64:2026.08.15-1",
    ),
    (
        "manylinux2014",
        Arch::Ppc64le,
        "quay.io/pypa/manylinux2014_ppc64le:2026.08.15-1",
    ),
    (
        "manylinux2014",
        Arch::S390x,
        "quay.io/pypa/manylinux2014_s390x:2026.08.15-1",
    ),
    (
        "manylinux_2_28",
        Arch::X86_64,
        "quay.io/pypa/manylinux_2_28_x86_64:2026.08.15-1",
    ),
    (
        "manylinux_2_28",
        Arch::I686,
        "quay.io/pypa/manylinux_2_28_i686:2026.08.15-1",
    ),
    (
        "manylinux_2_28",
        Arch::Aarch64,
        "quay.io/pypa/manylinux_2_28_aarch64:2026.08.15-1",
    ),
    (
        "manylinux_2_28",
        Arch::Ppc64le,
        "quay.io/pypa/manylinux_2_28_ppc64le:2026.08.15-1",
    ),
    (
        "manylinux_2_28",
        Arch::S390x,
        "quay.io/pypa/manylinux_2_28_s390x:2026.08.15-1",
    ),
    (
        "manylinux_2_34",
        Arch::X86_64,
        "quay.io/pypa/manylinux_2_34_x86_64:2026.08.15-1",
    ),
    (
        "manylinux_2_34",
        Arch::I686,
        "quay.io/pypa/manylinux_2_34_i686:2026.08.15-1",
    ),
    (
        "manylinux_2_34",
        Arch::Aarch64,
        "quay.io/pypa/manylinux_2_34_aarch64:2026.08.15-1",
    ),
    (
        "manylinux_2_34",
        Arch::Ppc64le,
        "quay.io/pypa/manylinux_2_34_ppc64le:2026.08.15-1",
    ),
    (
        "manylinux_2_34",
        Arch::S390x,
        "quay.io/pypa/manylinux_2_34_s390x:2026.08.15-1",
    ),
    (
        "manylinux_2_31",
        Arch::Armv7l,
        "quay.io/pypa/manylinux_2_31_armv7l:2026.08.15-1",
    ),
    (
        "manylinux_2_39",
        Arch::Riscv64,
        "quay.io/pypa/manylinux_2_39_riscv64:2026.08.15-1",
    ),
    (
        "musllinux_1_2",
        Arch::X86_64,
        "quay.io/pypa/musllinux_1_2_x86_64:2026.08.15-1",
    ),
    (
        "musllinux_1_2",
        Arch::I686,
        "quay.io/pypa/musllinux_1_2_i686:2026.08.15-1",
    ),
    (
        "musllinux_1_2",
        Arch::Aarch64,
        "quay.io/pypa/musllinux_1_2_aarch64:2026.08.15-1",
    ),
    (
        "musllinux_1_2",
        Arch::Ppc64le,
        "quay.io/pypa/musllinux_1_2_ppc64le:2026.08.15-1",
    ),
    (
        "musllinux_1_2",
        Arch::S390x,
        "quay.io/pypa/musllinux_1_2_s390x:2026.08.15-1",
    ),
    (
        "musllinux_1_2",
        Arch::Armv7l,
        "quay.io/pypa/musllinux_1_2_armv7l:2026.08.15-1",
    ),
];

/// musllinux_1_2 is also published for riscv64; kept apart so the table above stays one line
/// per (short name, arch) in cibuildwheel's arch order.
pub const PINNED_MUSLLINUX_RISCV64: &str = "quay.io/pypa/musllinux_1_2_riscv64:2026.08.15-1";

/// Short names that cibuildwheel no longer accepts (their images are no longer updated).
pub const RETIRED_SHORT_NAMES: [&str; 4] = [
    "manylinux1",
    "manylinux2010",
    "manylinux_2_24",
    "musllinux_1_1",
];

/// The default short name for a platform (cibuildwheel 3+/4 defaults).
#[must_use]
pub fn default_short_name(libc: Libc, arch: Arch) -> &'static str {
    match (libc, arch) {
        (Libc::Musl, _) => "musllinux_1_2",
        (Libc::Glibc, Arch::Armv7l) => "manylinux_2_31",
        (Libc::Glibc, Arch::Riscv64) => "manylinux_2_39",
        (Libc::Glibc, _) => "manylinux_2_28",
    }
}

/// The pinned reference for a short name on an architecture, if it is published there.
#[must_use]
pub fn pinned(short: &str, arch: Arch) -> Option<&'static str> {
    if short == "musllinux_1_2" && arch == Arch::Riscv64 {
        return Some(PINNED_MUSLLINUX_RISCV64);
    }
    PINNED_IMAGES
        .iter()
        .find(|(name, a, _)| *name == short && *a == arch)
        .map(|(_, _, reference)| *reference)
}

fn is_short_name(text: &str) -> bool {
    PINNED_IMAGES.iter().any(|(name, _, _)| *name == text)
}

/// A container image reference that is safe to pass as one argument.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct ContainerImage(String);

impl ContainerImage {
    /// Checks a reference: non-empty, starts with a letter or digit, and only letters, digits
    /// and `._-/:@` (so no whitespace, quotes or shell characters).
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.is_empty() {
            return Err("empty image reference".to_owned());
        }
        if let Some(bad) = text
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "._-/:@".contains(*c)))
        {
            let what = match bad {
                ' ' => "a space".to_owned(),
                '`' => "a backtick".to_owned(),
                c if c.is_whitespace() || c.is_control() => format!("the character {c:?}"),
                c => format!("`{c}`"),
            };
            return Err(format!(
                "image reference `{}` contains {what}: only letters, digits and `._-/:@` are allowed",
                text.escape_debug()
            ));
        }
        if !text.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err(format!(
                "image reference `{text}` must start with a letter or digit"
            ));
        }
        Ok(ContainerImage(text.to_owned()))
    }

    /// The reference.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ContainerImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A build image option's value: the reference, and the short name it came from, if any.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Image {
    /// Ex) `manylinux_2_28`
    pub short_name: Option<String>,
    /// Ex) `quay.io/pypa/manylinux_2_28_x86_64:2026.08.15-1`
    pub reference: ContainerImage,
}

impl Image {
    /// Reads a `manylinux-<arch>-image`/`musllinux-<arch>-image` value: a short name published
    /// for this platform, or any other valid reference.
    pub fn parse(text: &str, libc: Libc, arch: Arch) -> Result<Self, String> {
        let text = text.trim();
        if RETIRED_SHORT_NAMES.contains(&text) {
            return Err(format!(
                "`{text}` is a retired image name: use `{}` or a full reference such as `quay.io/pypa/{text}_{arch}`",
                default_short_name(libc, arch)
            ));
        }
        if is_short_name(text) {
            if !text.starts_with(libc.tag_prefix()) {
                return Err(format!("`{text}` is not a {} image", libc.tag_prefix()));
            }
            let Some(reference) = pinned(text, arch) else {
                let names: Vec<&str> = short_names_for(libc, arch);
                return Err(format!(
                    "`{text}` is not published for {arch} (short names for {arch}: {})",
                    names.join(", ")
                ));
            };
            return Ok(Image {
                short_name: Some(text.to_owned()),
                reference: ContainerImage(reference.to_owned()),
            });
        }
        Ok(Image {
            short_name: None,
            reference: ContainerImage::parse(text)?,
        })
    }
}

/// The short names published for a platform.
#[must_use]
pub fn short_names_for(libc: Libc, arch: Arch) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = PINNED_IMAGES
        .iter()
        .filter(|(name, a, _)| *a == arch && name.starts_with(libc.tag_prefix()))
        .map(|(name, _, _)| *name)
        .collect();
    if libc == Libc::Musl && arch == Arch::Riscv64 {
        names.push("musllinux_1_2");
    }
    names
}

impl fmt::Display for Image {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.short_name {
            Some(short) => write!(f, "{short} ({})", self.reference),
            None => write!(f, "{}", self.reference),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pin_names_its_image_and_the_pinned_tag() {
        for (short, arch, reference) in PINNED_IMAGES {
            assert_eq!(
                reference,
                format!("quay.io/pypa/{short}_{arch}:{PINNED_TAG}"),
                "{short} {arch}"
            );
            ContainerImage::parse(reference).expect(reference);
        }
        assert_eq!(
            PINNED_MUSLLINUX_RISCV64,
            format!("quay.io/pypa/musllinux_1_2_riscv64:{PINNED_TAG}")
        );
        // Every default resolves on every architecture it is the default for.
        for arch in crate::config::pythons::LINUX_ARCHS {
            for libc in [Libc::Glibc, Libc::Musl] {
                Image::parse(default_short_name(libc, arch), libc, arch).expect("default");
            }
        }
    }

    #[test]
    fn short_names_resolve_per_arch() {
        let image = Image::parse("manylinux2014", Libc::Glibc, Arch::I686).expect("known");
        assert_eq!(
            image.reference.as_str(),
            "quay.io/pypa/manylinux2014_i686:2026.08.15-1"
        );
        assert_eq!(image.short_name.as_deref(), Some("manylinux2014"));
        let err = Image::parse("manylinux2014", Libc::Glibc, Arch::Riscv64).expect_err("n/a");
        assert_eq!(
            err,
            "`manylinux2014` is not published for riscv64 (short names for riscv64: manylinux_2_39)"
        );
        let err = Image::parse("musllinux_1_2", Libc::Glibc, Arch::X86_64).expect_err("libc");
        assert_eq!(err, "`musllinux_1_2` is not a manylinux image");
        let err = Image::parse("musllinux_1_1", Libc::Musl, Arch::X86_64).expect_err("retired");
        assert!(
            err.starts_with("`musllinux_1_1` is a retired image name: use `musllinux_1_2`"),
            "{err}"
        );
    }

    #[test]
    fn references_are_validated() {
        for good in [
            "quay.io/pypa/manylinux_2_28_x86_64",
            "localhost/ww-build-amd64:2024-01",
            "registry.example:5000/team/image@sha256:0123abcd",
            "ubuntu",
        ] {
            let image = Image::parse(good, Libc::Glibc, Arch::X86_64).expect(good);
            assert_eq!(image.reference.as_str(), good);
            assert_eq!(image.short_name, None);
        }
        let cases = [
            ("my image", "contains a space"),
            ("img;rm -rf /", "contains `;`"),
            ("img$(id)", "contains `$`"),
            ("img`id`", "contains a backtick"),
            ("img|cat", "contains `|`"),
            ("img&", "contains `&`"),
            ("img\ttab", "contains the character '\\t'"),
            ("img'q'", "contains `'`"),
            ("--privileged", "must start with a letter or digit"),
            ("", "empty image reference"),
        ];
        for (bad, why) in cases {
            let err = ContainerImage::parse(bad).expect_err(bad);
            assert!(err.contains(why), "{bad}: {err}");
        }
    }
}
