//! The platform tags PyPI accepts in wheel file names.
//!
//! Fact source: pypi/warehouse `warehouse/forklift/legacy.py`, `_valid_platform_tag` and the
//! tables above it (`_allowed_platforms`, `_macosx_platform_re`/`_macosx_arches`/
//! `_macosx_major_versions`, `_ios_platform_re`/`_ios_arches`, `_android_platform_re`/
//! `_android_arches`, `_linux_platform_re` with `_manylinux_arches`/`_musllinux_arches`), in
//! the version with riscv64, macOS 26, iOS and Android. Everything else, notably
//! `linux_x86_64` and `linux_i686`, is refused: "Binary wheel '…' has an unsupported platform
//! tag '…'."

/// Tags accepted as they are.
const ALLOWED: &[&str] = &[
    "any",
    "win32",
    "win_arm64",
    "win_amd64",
    "win_ia64",
    "manylinux1_x86_64",
    "manylinux1_i686",
    "manylinux2010_x86_64",
    "manylinux2010_i686",
    "manylinux2014_x86_64",
    "manylinux2014_i686",
    "manylinux2014_aarch64",
    "manylinux2014_armv7l",
    "manylinux2014_ppc64",
    "manylinux2014_ppc64le",
    "manylinux2014_s390x",
    "linux_armv6l",
    "linux_armv7l",
];

const MACOSX_ARCHES: &[&str] = &[
    "ppc",
    "ppc64",
    "i386",
    "x86_64",
    "arm64",
    "intel",
    "fat",
    "fat3",
    "fat64",
    "universal",
    "universal2",
];

/// macOS 11 and later (`macosx_{major}_0_{arch}`); 10.x uses `macosx_10_{minor}_{arch}`.
const MACOSX_MAJOR_VERSIONS: &[&str] = &["11", "12", "13", "14", "15", "26"];

const IOS_ARCHES: &[&str] = &["arm64", "x86_64"];

const ANDROID_ARCHES: &[&str] = &["armeabi_v7a", "arm64_v8a", "x86", "x86_64"];

/// Architectures of `manylinux_X_Y_*` (PEP 600) and `musllinux_X_Y_*` (PEP 656); manylinux
/// also allows `ppc64`.
const LINUX_ARCHES: &[&str] = &[
    "x86_64", "i686", "aarch64", "armv7l", "ppc64le", "s390x", "riscv64",
];

/// `{digits}_` at the start of `s`: the digits and the rest after the underscore.
fn number(s: &str) -> Option<(&str, &str)> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    (digits > 0 && s.as_bytes().get(digits) == Some(&b'_'))
        .then(|| (&s[..digits], &s[digits + 1..]))
}

/// Whether PyPI accepts `tag` as a wheel platform tag.
#[must_use]
pub(crate) fn is_allowed(tag: &str) -> bool {
    if ALLOWED.contains(&tag) {
        return true;
    }
    if let Some(rest) = tag.strip_prefix("macosx_")
        && let Some((major, rest)) = number(rest)
        && let Some((minor, arch)) = number(rest)
    {
        let known_major = major == "10" || (MACOSX_MAJOR_VERSIONS.contains(&major) && minor == "0");
        if known_major && MACOSX_ARCHES.contains(&arch) {
            return true;
        }
    }
    for (prefix, manylinux) in [("manylinux_", true), ("musllinux_", false)] {
        if let Some(rest) = tag.strip_prefix(prefix)
            && let Some((_, rest)) = number(rest)
            && let Some((_, arch)) = number(rest)
        {
            return LINUX_ARCHES.contains(&arch) || (manylinux && arch == "ppc64");
        }
    }
    if let Some(rest) = tag.strip_prefix("ios_")
        && let Some((_, rest)) = number(rest)
        && let Some((_, rest)) = number(rest)
    {
        let arch = rest
            .strip_suffix("_iphoneos")
            .or_else(|| rest.strip_suffix("_iphonesimulator"));
        if arch.is_some_and(|arch| IOS_ARCHES.contains(&arch)) {
            return true;
        }
    }
    if let Some(rest) = tag.strip_prefix("android_")
        && let Some((_, arch)) = number(rest)
        && ANDROID_ARCHES.contains(&arch)
    {
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::is_allowed;

    #[test]
    fn linux_tags() {
        for tag in [
            "manylinux1_x86_64",
            "manylinux1_i686",
            "manylinux2010_i686",
            "manylinux2014_aarch64",
            "manylinux_2_17_x86_64",
            "manylinux_2_5_i686",
            "manylinux_2_28_ppc64",
            "manylinux_2_39_riscv64",
            "musllinux_1_1_x86_64",
            "musllinux_1_2_i686",
            "linux_armv7l",
            "linux_armv6l",
        ] {
            assert!(is_allowed(tag), "{tag}");
        }
        for tag in [
            "linux_x86_64",
            "linux_i686",
            "linux_aarch64",
            "manylinux1_aarch64",
            "manylinux2010_aarch64",
            "manylinux_2_17_sparc",
            "musllinux_1_1_ppc64",
            "manylinux_x_17_x86_64",
            "manylinux_2_17",
        ] {
            assert!(!is_allowed(tag), "{tag}");
        }
    }

    #[test]
    fn other_platforms() {
        for tag in [
            "any",
            "win_amd64",
            "win32",
            "win_arm64",
            "macosx_10_9_x86_64",
            "macosx_10_15_universal2",
            "macosx_11_0_arm64",
            "macosx_14_0_arm64",
            "macosx_26_0_arm64",
            "ios_13_0_arm64_iphoneos",
            "ios_13_0_x86_64_iphonesimulator",
            "android_21_arm64_v8a",
        ] {
            assert!(is_allowed(tag), "{tag}");
        }
        for tag in [
            "macosx_11_1_arm64",
            "macosx_16_0_arm64",
            "macosx_10_9_sparc",
            "ios_13_0_armv7_iphoneos",
            "android_21_mips",
            "win_x86",
            "cygwin",
            "",
        ] {
            assert!(!is_allowed(tag), "{tag}");
        }
    }
}
