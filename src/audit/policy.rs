//! manylinux and musllinux policies.
//!
//! The data is auditwheel's `manylinux-policy.json` and `musllinux-policy.json` (MIT, see
//! `policy/NOTICE`), embedded byte for byte. A [`PolicySet`] is the list of policies that apply
//! to one architecture and libc, sorted from least to most compatible (ascending priority), so
//! that comparing two policies is comparing their indices.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use crate::platform::{Arch, Libc, PlatformTag};

/// auditwheel's manylinux policy file (auditwheel 6.8.2).
const MANYLINUX_POLICY_JSON: &[u8] = include_bytes!("policy/manylinux-policy.json");
/// auditwheel's musllinux policy file (auditwheel 6.8.2).
const MUSLLINUX_POLICY_JSON: &[u8] = include_bytes!("policy/musllinux-policy.json");

/// Why a policy set could not be built.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PolicyError {
    /// The embedded data does not parse (a build defect, caught by the unit tests).
    #[error("the embedded policy data is invalid: {0}")]
    InvalidData(String),
    /// A requested musllinux policy does not exist for this architecture.
    #[error("no policy `{name}` for {arch}")]
    UnknownPolicy {
        /// The requested name.
        name: String,
        /// The architecture.
        arch: Arch,
    },
}

#[derive(Debug, serde::Deserialize)]
struct RawPolicy {
    name: String,
    aliases: Vec<String>,
    priority: u32,
    symbol_versions: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    lib_whitelist: Vec<String>,
    blacklist: BTreeMap<String, Vec<String>>,
}

fn raw_policies(libc: Libc) -> Result<&'static [RawPolicy], PolicyError> {
    static MANYLINUX: OnceLock<Result<Vec<RawPolicy>, String>> = OnceLock::new();
    static MUSLLINUX: OnceLock<Result<Vec<RawPolicy>, String>> = OnceLock::new();
    let (cell, data) = match libc {
        Libc::Glibc => (&MANYLINUX, MANYLINUX_POLICY_JSON),
        Libc::Musl => (&MUSLLINUX, MUSLLINUX_POLICY_JSON),
    };
    cell.get_or_init(|| serde_json::from_slice(data).map_err(|e| e.to_string()))
        .as_deref()
        .map_err(|e| PolicyError::InvalidData(e.clone()))
}

/// One platform policy for one architecture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Policy {
    /// Full tag. Ex) `manylinux_2_17_x86_64`
    pub name: String,
    /// Name without the architecture. Ex) `manylinux_2_17`
    pub base_name: String,
    /// Full alias tags. Ex) `manylinux2014_x86_64`
    pub aliases: Vec<String>,
    /// The name followed by its aliases, parsed. Ex) `[manylinux_2_17_x86_64, manylinux2014_x86_64]`
    pub platform_tags: Vec<PlatformTag>,
    /// Higher is more compatible; `linux` is 0.
    pub priority: u32,
    /// Allowed symbol versions per prefix, as full version names. Ex) `GLIBC` → {`GLIBC_2.17`, …}
    pub symbol_versions: BTreeMap<String, BTreeSet<String>>,
    /// Libraries that may stay external.
    pub whitelist: BTreeSet<String>,
    /// Symbols of whitelisted libraries that must not be used.
    pub blacklist: BTreeMap<String, BTreeSet<String>>,
}

impl Policy {
    /// The name followed by its aliases.
    pub(crate) fn tags(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str()).chain(self.aliases.iter().map(String::as_str))
    }

    /// Whether this is the unconstrained `linux` policy.
    #[must_use]
    pub(crate) fn is_linux(&self) -> bool {
        self.priority == 0
    }
}

/// Index of a policy inside a [`PolicySet`]; a larger index is a more compatible policy.
pub(crate) type PolicyId = usize;

/// The policies for one libc and architecture, least compatible first.
#[derive(Debug, Clone)]
pub(crate) struct PolicySet {
    /// The libc.
    pub libc: Libc,
    /// The baseline architecture.
    pub arch: Arch,
    policies: Vec<Policy>,
}

impl PolicySet {
    /// Builds the set for `libc` and `arch`. For musl, `musl_policy` (Ex: `musllinux_1_2`)
    /// selects the one policy kept next to `linux`; without it the newest is kept, as
    /// auditwheel does when it cannot run the musl loader.
    pub(crate) fn new(
        libc: Libc,
        arch: Arch,
        musl_policy: Option<&str>,
    ) -> Result<Self, PolicyError> {
        let arch_name = arch.as_str();
        let mut policies = Vec::new();
        for raw in raw_policies(libc)? {
            let is_linux = raw.name == "linux";
            if let (Libc::Musl, Some(wanted)) = (libc, musl_policy) {
                if !is_linux && raw.name != wanted {
                    continue;
                }
            }
            let versions = raw.symbol_versions.get(arch_name);
            if versions.is_none() && !is_linux {
                continue;
            }
            let symbol_versions = if is_linux {
                BTreeMap::new()
            } else {
                versions
                    .into_iter()
                    .flatten()
                    .map(|(prefix, list)| {
                        let set = list.iter().map(|v| format!("{prefix}_{v}")).collect();
                        (prefix.clone(), set)
                    })
                    .collect()
            };
            let whitelist = raw
                .lib_whitelist
                .iter()
                .map(|lib| fixup_musl_libc_soname(libc, arch, lib))
                .collect();
            let name = format!("{}_{arch_name}", raw.name);
            let aliases: Vec<String> = raw
                .aliases
                .iter()
                .map(|a| format!("{a}_{arch_name}"))
                .collect();
            let platform_tags = std::iter::once(&name)
                .chain(&aliases)
                .map(|tag| tag.parse())
                .collect::<Result<_, _>>()
                .map_err(|e: crate::platform::PlatformTagError| {
                    PolicyError::InvalidData(e.to_string())
                })?;
            policies.push(Policy {
                name,
                base_name: raw.name.clone(),
                aliases,
                platform_tags,
                priority: raw.priority,
                symbol_versions,
                whitelist,
                blacklist: raw
                    .blacklist
                    .iter()
                    .map(|(lib, symbols)| (lib.clone(), symbols.iter().cloned().collect()))
                    .collect(),
            });
        }
        policies.sort_by_key(|p| p.priority);
        if let (Libc::Musl, Some(wanted)) = (libc, musl_policy) {
            if policies.len() != 2 {
                return Err(PolicyError::UnknownPolicy {
                    name: wanted.to_owned(),
                    arch,
                });
            }
        }
        if libc == Libc::Musl && policies.len() > 2 {
            // Keep `linux` and the newest (least compatible) musllinux policy.
            policies.truncate(2);
        }
        if policies.len() < 2 || !policies[0].is_linux() {
            return Err(PolicyError::InvalidData(format!(
                "no {libc} policies for {arch}"
            )));
        }
        Ok(PolicySet {
            libc,
            arch,
            policies,
        })
    }

    /// All policies, least compatible (`linux`) first.
    #[must_use]
    pub(crate) fn policies(&self) -> &[Policy] {
        &self.policies
    }

    /// The policy with this id.
    #[must_use]
    pub(crate) fn get(&self, id: PolicyId) -> &Policy {
        &self.policies[id.min(self.policies.len() - 1)]
    }

    /// The `linux` policy.
    #[must_use]
    pub(crate) fn linux(&self) -> PolicyId {
        0
    }

    /// The least compatible policy that is not `linux`.
    #[must_use]
    pub(crate) fn lowest(&self) -> PolicyId {
        1
    }

    /// The most compatible policy.
    #[must_use]
    pub(crate) fn highest(&self) -> PolicyId {
        self.policies.len() - 1
    }

    /// Finds a policy by full name or alias. Ex) `manylinux2014_x86_64`
    #[must_use]
    pub(crate) fn by_name(&self, name: &str) -> Option<PolicyId> {
        self.policies
            .iter()
            .position(|p| p.name == name || p.aliases.iter().any(|a| a == name))
    }

    /// The most compatible policy whose symbol versions allow every requirement.
    ///
    /// Requirements are grouped by the prefix before the first `_`; only prefixes the policy
    /// lists are checked, and the check is set membership.
    #[must_use]
    pub(crate) fn versioned_symbols_policy(
        &self,
        versioned: &BTreeMap<String, BTreeSet<String>>,
    ) -> PolicyId {
        let required = required_by_prefix(versioned);
        (0..self.policies.len())
            .rev()
            .find(|&id| self.blocking_versions(id, &required).is_empty())
            .unwrap_or(0)
    }

    /// The required versions that policy `id` does not allow.
    #[must_use]
    pub(crate) fn blocking_versions(
        &self,
        id: PolicyId,
        required: &BTreeMap<String, BTreeSet<String>>,
    ) -> Vec<String> {
        let policy = self.get(id);
        let mut blocked = Vec::new();
        for (prefix, versions) in required {
            if let Some(allowed) = policy.symbol_versions.get(prefix) {
                blocked.extend(versions.iter().filter(|v| !allowed.contains(*v)).cloned());
            }
        }
        blocked
    }
}

/// Groups `{soname: {version}}` into `{prefix: {version}}` (prefix = text before the first `_`).
#[must_use]
pub(crate) fn required_by_prefix(
    versioned: &BTreeMap<String, BTreeSet<String>>,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut required: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for version in versioned.values().flatten() {
        let prefix = version.split_once('_').map_or(version.as_str(), |(p, _)| p);
        required
            .entry(prefix.to_owned())
            .or_default()
            .insert(version.clone());
    }
    required
}

fn fixup_musl_libc_soname(libc: Libc, arch: Arch, soname: &str) -> String {
    if libc != Libc::Musl || soname != "libc.so" {
        return soname.to_owned();
    }
    let arch = match arch {
        Arch::I686 => "x86",
        Arch::Armv7l => "armv7",
        other => other.as_str(),
    };
    format!("libc.musl-{arch}.so.1")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(libc: Libc, arch: Arch) -> PolicySet {
        PolicySet::new(libc, arch, None).expect("policies")
    }

    fn versions(pairs: &[(&str, &str)]) -> BTreeMap<String, BTreeSet<String>> {
        let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (lib, v) in pairs {
            map.entry((*lib).to_owned())
                .or_default()
                .insert((*v).to_owned());
        }
        map
    }

    #[test]
    fn manylinux_x86_64_order_and_aliases() {
        let set = set(Libc::Glibc, Arch::X86_64);
        let names: Vec<_> = set.policies().iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names.first(), Some(&"linux_x86_64"));
        assert_eq!(names.last(), Some(&"manylinux_2_5_x86_64"));
        assert_eq!(set.get(set.highest()).aliases, vec!["manylinux1_x86_64"]);
        assert_eq!(
            set.by_name("manylinux2014_x86_64"),
            set.by_name("manylinux_2_17_x86_64")
        );
        assert!(set.by_name("manylinux2014_x86_64").is_some());
    }

    #[test]
    fn symbol_check_is_set_membership() {
        let set = set(Libc::Glibc, Arch::X86_64);
        // GLIBC_2.20 has no node on x86_64: even the newest policy refuses it.
        let id = set.versioned_symbols_policy(&versions(&[("libc.so.6", "GLIBC_2.20")]));
        assert_eq!(set.get(id).name, "linux_x86_64");
        let id = set.versioned_symbols_policy(&versions(&[("libc.so.6", "GLIBC_2.17")]));
        assert_eq!(set.get(id).name, "manylinux_2_17_x86_64");
        // Prefixes the policy does not list are not checked.
        let id = set.versioned_symbols_policy(&versions(&[("libssl.so.3", "OPENSSL_3.0.0")]));
        assert_eq!(set.get(id).name, "manylinux_2_5_x86_64");
        // GLIBC_PRIVATE is never allowed.
        let id = set.versioned_symbols_policy(&versions(&[("libc.so.6", "GLIBC_PRIVATE")]));
        assert!(set.get(id).is_linux());
    }

    #[test]
    fn musl_keeps_linux_and_one_policy() {
        let newest = set(Libc::Musl, Arch::X86_64);
        assert_eq!(newest.policies().len(), 2);
        assert_eq!(newest.get(1).name, "musllinux_1_2_x86_64");
        assert!(newest.get(1).whitelist.contains("libc.musl-x86_64.so.1"));
        let old = PolicySet::new(Libc::Musl, Arch::I686, Some("musllinux_1_1")).expect("policies");
        assert_eq!(old.get(1).name, "musllinux_1_1_i686");
        assert!(old.get(1).whitelist.contains("libc.musl-x86.so.1"));
    }

    #[test]
    fn policy_files_are_pep600_consistent() {
        // A newer policy must allow everything the older ones allow, per architecture and
        // prefix it lists (auditwheel's `_validate_pep600_compliance`).
        for libc in [Libc::Glibc, Libc::Musl] {
            let raw = raw_policies(libc).expect("parse");
            let mut sorted: Vec<_> = raw.iter().filter(|p| p.name != "linux").collect();
            sorted.sort_by_key(|p| std::cmp::Reverse(p.priority));
            let mut whitelist: BTreeSet<&str> = BTreeSet::new();
            let mut seen: BTreeMap<(&str, &str), BTreeSet<&str>> = BTreeMap::new();
            for policy in sorted {
                for lib in &whitelist {
                    assert!(
                        policy.lib_whitelist.iter().any(|l| l == lib),
                        "{} lacks {lib}",
                        policy.name
                    );
                }
                whitelist.extend(policy.lib_whitelist.iter().map(String::as_str));
                for (arch, prefixes) in &policy.symbol_versions {
                    for (prefix, list) in prefixes {
                        let older = seen.entry((arch.as_str(), prefix.as_str())).or_default();
                        for v in older.iter() {
                            assert!(
                                list.iter().any(|x| x == v),
                                "{}_{arch} lacks {prefix}_{v}",
                                policy.name
                            );
                        }
                        older.extend(list.iter().map(String::as_str));
                    }
                }
            }
        }
    }
}
