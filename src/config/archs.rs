//! The `archs` option: architectures to build, as names or the host-relative words `auto`,
//! `auto64`, `auto32`, `native` and `all`.
//!
//! wheelwright's `auto` differs from cibuildwheel 3+: on an x86_64 host it means x86_64 **and**
//! i686 (an x86_64 kernel runs i686 userlands natively, and 32-bit wheels are one of
//! wheelwright's two targets), where cibuildwheel dropped i686 from `auto` in 3.0.

use std::fmt;

use crate::config::pythons::LINUX_ARCHS;
use crate::platform::Arch;

/// One word of `archs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchWord {
    /// Ex) `auto`: the host's architecture and the 32-bit one it runs natively.
    Auto,
    /// Ex) `auto64`: the host's architecture when it is 64-bit.
    Auto64,
    /// Ex) `auto32`: the 32-bit architecture the host runs natively.
    Auto32,
    /// Ex) `native`: the host's architecture.
    Native,
    /// Ex) `all`: every Linux architecture (the others need emulation).
    All,
    /// Ex) `x86_64`
    Arch(Arch),
}

impl ArchWord {
    fn as_str(self) -> &'static str {
        match self {
            ArchWord::Auto => "auto",
            ArchWord::Auto64 => "auto64",
            ArchWord::Auto32 => "auto32",
            ArchWord::Native => "native",
            ArchWord::All => "all",
            ArchWord::Arch(arch) => arch.as_str(),
        }
    }
}

/// The `archs` option as written (resolved against the host with [`Archs::expand`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Archs {
    words: Vec<ArchWord>,
}

/// The words `archs` accepts, for error messages and the README.
pub const ARCH_WORDS: [&str; 12] = [
    "auto", "auto64", "auto32", "native", "all", "x86_64", "i686", "aarch64", "ppc64le", "s390x",
    "armv7l", "riscv64",
];

impl Archs {
    /// Parses whitespace- or comma-separated words.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut words = Vec::new();
        for word in text.split(|c: char| c.is_whitespace() || c == ',') {
            if word.is_empty() {
                continue;
            }
            let parsed = match word {
                "auto" => ArchWord::Auto,
                "auto64" => ArchWord::Auto64,
                "auto32" => ArchWord::Auto32,
                "native" => ArchWord::Native,
                "all" => ArchWord::All,
                other => match other.parse::<Arch>().ok() {
                    Some(arch) if LINUX_ARCHS.contains(&arch) => ArchWord::Arch(arch),
                    _ => {
                        let hint = crate::config::suggest(other, ARCH_WORDS)
                            .map(|s| format!("did you mean `{s}`? "))
                            .unwrap_or_default();
                        return Err(format!(
                            "unknown architecture `{other}` ({hint}expected one of {})",
                            ARCH_WORDS.join(", ")
                        ));
                    }
                },
            };
            words.push(parsed);
        }
        if words.is_empty() {
            return Err(format!(
                "no architecture given (expected one or more of {})",
                ARCH_WORDS.join(", ")
            ));
        }
        Ok(Archs { words })
    }

    /// The architectures for a host, in the order written, without repeats.
    #[must_use]
    pub fn expand(&self, host: Arch) -> Vec<Arch> {
        let native: Vec<Arch> = if LINUX_ARCHS.contains(&host) {
            vec![host]
        } else {
            Vec::new()
        };
        let bits32 = match host {
            Arch::X86_64 | Arch::I686 => vec![Arch::I686],
            Arch::Aarch64 | Arch::Armv7l => vec![Arch::Armv7l],
            _ => Vec::new(),
        };
        let bits64: Vec<Arch> = native
            .iter()
            .copied()
            .filter(|a| !matches!(a, Arch::I686 | Arch::Armv7l))
            .collect();
        let mut out: Vec<Arch> = Vec::new();
        for word in &self.words {
            let add: Vec<Arch> = match word {
                ArchWord::Native => native.clone(),
                ArchWord::Auto64 => bits64.clone(),
                ArchWord::Auto32 => bits32.clone(),
                ArchWord::Auto => match host {
                    Arch::X86_64 => vec![Arch::X86_64, Arch::I686],
                    _ => native.clone(),
                },
                ArchWord::All => LINUX_ARCHS.to_vec(),
                ArchWord::Arch(arch) => vec![*arch],
            };
            for arch in add {
                if !out.contains(&arch) {
                    out.push(arch);
                }
            }
        }
        out
    }
}

impl fmt::Display for Archs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words: Vec<&str> = self.words.iter().map(|w| w.as_str()).collect();
        f.write_str(&words.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(text: &str, host: Arch) -> Vec<&'static str> {
        Archs::parse(text)
            .expect(text)
            .expand(host)
            .into_iter()
            .map(Arch::as_str)
            .collect()
    }

    #[test]
    fn auto_on_x86_64_is_both_x86_arches() {
        assert_eq!(expand("auto", Arch::X86_64), ["x86_64", "i686"]);
        assert_eq!(expand("auto64", Arch::X86_64), ["x86_64"]);
        assert_eq!(expand("auto32", Arch::X86_64), ["i686"]);
        assert_eq!(expand("native", Arch::X86_64), ["x86_64"]);
    }

    #[test]
    fn other_hosts() {
        assert_eq!(expand("auto", Arch::Aarch64), ["aarch64"]);
        assert_eq!(expand("auto32", Arch::Aarch64), ["armv7l"]);
        assert_eq!(expand("auto64", Arch::I686), Vec::<&str>::new());
        assert_eq!(expand("auto", Arch::I686), ["i686"]);
        assert_eq!(expand("auto32", Arch::S390x), Vec::<&str>::new());
    }

    #[test]
    fn names_lists_and_all() {
        assert_eq!(expand("i686 x86_64", Arch::X86_64), ["i686", "x86_64"]);
        assert_eq!(
            expand("x86_64, i686,x86_64", Arch::Aarch64),
            ["x86_64", "i686"]
        );
        assert_eq!(
            expand("all", Arch::X86_64),
            [
                "x86_64", "i686", "aarch64", "ppc64le", "s390x", "armv7l", "riscv64"
            ]
        );
        assert_eq!(expand("native auto", Arch::X86_64), ["x86_64", "i686"]);
        assert_eq!(
            Archs::parse(" auto64  i686 ").expect("parses").to_string(),
            "auto64 i686"
        );
    }

    #[test]
    fn unknown_arches_are_errors_with_a_suggestion() {
        let err = Archs::parse("x86_64 x86-64").expect_err("unknown");
        assert!(
            err.starts_with("unknown architecture `x86-64` (did you mean `x86_64`?"),
            "{err}"
        );
        let err = Archs::parse("sparc").expect_err("unknown");
        assert!(err.contains("expected one of auto, auto64"), "{err}");
        // ppc64 (big-endian) is an ELF architecture but no Linux wheel target.
        assert!(Archs::parse("ppc64").is_err());
        assert!(Archs::parse("  ").is_err());
    }
}
