//! Build images and architectures: short image names (`manylinux_2_28`) and `--archs` values.

use crate::elf::ElfArch;

/// The tag every short name is pinned to (the manylinux project publishes all images of a
/// release under the same date tag; this is the one cibuildwheel v4.2.0 pins).
pub const PINNED_TAG: &str = "2026.08.15-1";

/// The default short name.
pub const DEFAULT_IMAGE: &str = "manylinux_2_28";

/// Short names accepted for `--image-<arch>`.
pub const SHORT_NAMES: [&str; 4] = [
    "manylinux2014",
    "manylinux_2_28",
    "manylinux_2_34",
    "musllinux_1_2",
];

/// The image reference for `name` on `arch`: short names map to the pinned
/// `quay.io/pypa/<name>_<arch>` images; anything else is an image reference used as is.
#[must_use]
pub fn resolve_image(name: &str, arch: ElfArch) -> String {
    if SHORT_NAMES.contains(&name) {
        format!("quay.io/pypa/{name}_{}:{PINNED_TAG}", arch.as_str())
    } else {
        name.to_owned()
    }
}

/// Parses `--archs` values (comma- or space-separated): architecture names, `auto`/`native`
/// (this machine's), `auto64` (the 64-bit one), `auto32` (i686 on x86_64).
pub fn parse_archs(values: &[String], native: ElfArch) -> Result<Vec<ElfArch>, String> {
    let mut archs = Vec::new();
    let mut push = |arch: ElfArch| {
        if !archs.contains(&arch) {
            archs.push(arch);
        }
    };
    for value in values.iter().flat_map(|v| v.split([',', ' '])) {
        let value = value.trim();
        match value {
            "" => {}
            "auto" | "native" => push(native),
            "auto64" => {
                if native != ElfArch::I686 && native != ElfArch::Armv7l {
                    push(native);
                }
            }
            "auto32" => match native {
                ElfArch::X86_64 | ElfArch::I686 => push(ElfArch::I686),
                ElfArch::Armv7l => push(ElfArch::Armv7l),
                _ => {}
            },
            other => match ElfArch::from_tag_suffix(other) {
                Some(arch) => push(arch),
                None => {
                    return Err(format!(
                        "--archs: `{other}` is not an architecture (x86_64, i686, aarch64, ppc64le, s390x, armv7l, riscv64, or auto, auto64, auto32, native)"
                    ));
                }
            },
        }
    }
    if archs.is_empty() {
        return Err("--archs selects no architecture on this machine".to_owned());
    }
    Ok(archs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_are_pinned_images() {
        assert_eq!(
            resolve_image("manylinux_2_28", ElfArch::I686),
            format!("quay.io/pypa/manylinux_2_28_i686:{PINNED_TAG}")
        );
        assert_eq!(
            resolve_image("localhost/mine:1", ElfArch::X86_64),
            "localhost/mine:1"
        );
    }

    #[test]
    fn archs() {
        let parse = |v: &[&str]| {
            parse_archs(
                &v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>(),
                ElfArch::X86_64,
            )
        };
        assert_eq!(
            parse(&["x86_64,i686"]).expect("parses"),
            [ElfArch::X86_64, ElfArch::I686]
        );
        assert_eq!(
            parse(&["auto", "auto32"]).expect("parses"),
            [ElfArch::X86_64, ElfArch::I686]
        );
        assert_eq!(
            parse(&["x86_64", "x86_64"]).expect("parses"),
            [ElfArch::X86_64]
        );
        assert!(parse(&["sparc"]).expect_err("bad").contains("`sparc`"));
        assert!(parse(&[""]).is_err());
    }
}
