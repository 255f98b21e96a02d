use super::*;

#[test]
fn libpython_names() {
    assert!(is_libpython("libpython3.11.so.1.0"));
    assert!(is_libpython("libpython2.7m.so.1"));
    assert!(is_libpython("libpython3.12.so"));
    assert!(!is_libpython("libpython3.so"));
    assert!(!is_libpython("libpython3.11.so.1a"));
    assert!(!is_libpython("libpythonX.so"));
}

#[test]
fn wheel_paths_normalize_and_cannot_escape() {
    let dir = Location::Wheel("pkg/sub".into());
    assert_eq!(
        dir.join("../pkg.libs"),
        Some(Location::Wheel("pkg/pkg.libs".into()))
    );
    assert_eq!(Location::Wheel("pkg".into()).join("../../x"), None);
    assert_eq!(
        Location::Wheel(String::new()).join("a.so"),
        Some(Location::Wheel("a.so".into()))
    );
}

#[test]
fn libc_from_extension_suffix() {
    assert_eq!(
        libc_from_file_name("_core.cpython-311-x86_64-linux-gnu.so"),
        Some(Libc::Glibc)
    );
    assert_eq!(
        libc_from_file_name("_core.cpython-310-x86_64-linux-gnu.so"),
        None
    );
    assert_eq!(
        libc_from_file_name("_core.cpython-312-x86_64-linux-musl.so"),
        Some(Libc::Musl)
    );
    assert_eq!(libc_from_file_name("_core.abi3.so"), None);
}

/// Resolution over the committed fixture roots, checked against `tests/fixtures/elf/EXPECTED.md`:
/// what the real glibc loader and auditwheel 6.8.2's `lddtree` resolve for every ELF file of both
/// roots. The real suite (`tests/real/resolver.rs`) generates that file from the oracles and
/// compares this resolver with them live on every run.
mod fixture_tests {
    use super::*;
    use crate::elf;

    const EXPECTED_MD: &str = "tests/fixtures/elf/EXPECTED.md";

    fn root(bits: u32) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/elf/root{bits}"))
    }

    /// One oracle's answer for one name.
    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Answer {
        /// Found: (path, realpath); the loader prints only the path, used for both.
        Found(String, String),
        NotFound,
        /// The name is not in this oracle's tree.
        NotReached,
        /// The oracle failed on the whole object.
        Error,
    }

    impl Answer {
        fn parse(cell: &str) -> Self {
            match cell.trim() {
                "not found" => Answer::NotFound,
                "(not reached)" => Answer::NotReached,
                error if error.starts_with("error: ") => Answer::Error,
                found => {
                    let mut parts = found.split(" → ").map(|p| p.trim_matches('`').to_owned());
                    let path = parts.next().unwrap_or_default();
                    let realpath = parts.next().unwrap_or_else(|| path.clone());
                    Answer::Found(path, realpath)
                }
            }
        }
    }

    /// One table row: `object` in root `bits` needs `needed` (`None`: no dependencies).
    #[derive(Debug, Clone)]
    struct Row {
        bits: u32,
        object: String,
        needed: Option<String>,
        loader: Answer,
        auditwheel: Answer,
    }

    /// The rows of EXPECTED.md: (without LD_LIBRARY_PATH, with it).
    fn expected() -> (Vec<Row>, Vec<Row>) {
        let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(EXPECTED_MD))
            .expect("EXPECTED.md");
        let (mut plain, mut with_ldlp) = (Vec::new(), Vec::new());
        let mut section = None;
        for line in text.lines() {
            if line.starts_with("## ") {
                section = match line {
                    "## Without LD_LIBRARY_PATH" => Some(false),
                    "## With LD_LIBRARY_PATH=/ldlp" => Some(true),
                    _ => None,
                };
            }
            let Some(ldlp) = section else { continue };
            let Some(line) = line.strip_prefix("| ").and_then(|l| l.strip_suffix(" |")) else {
                continue;
            };
            let cells: Vec<&str> = line.split(" | ").collect();
            if cells.len() != 6 || !cells[0].starts_with(|c: char| c.is_ascii_digit()) {
                continue;
            }
            let needed = cells[2].trim_matches('`');
            for bits in cells[0].split(", ") {
                let row = Row {
                    bits: bits.parse().expect("root"),
                    object: cells[1].trim_matches('`').to_owned(),
                    needed: (needed != "(none)").then(|| needed.to_owned()),
                    loader: Answer::parse(cells[3]),
                    auditwheel: Answer::parse(cells[4]),
                };
                if ldlp {
                    with_ldlp.push(row);
                } else {
                    plain.push(row);
                }
            }
        }
        (plain, with_ldlp)
    }

    /// `{name: answer}` of wheelwright's tree of `object`.
    fn resolve(
        bits: u32,
        mode: ResolverMode,
        library_path: &[&str],
        object: &str,
    ) -> BTreeMap<String, Answer> {
        let env = SearchEnv {
            root: root(bits),
            mode,
            library_path: library_path.iter().map(|s| (*s).to_owned()).collect(),
            ldpaths: None,
        };
        let wheel = WheelFiles::default();
        let mut resolver = Resolver::new(&env, &wheel);
        let data = std::fs::read(root(bits).join(object.trim_start_matches('/'))).expect("fixture");
        let info = Arc::new(elf::analyze(&data).expect("elf"));
        let tree = resolver.tree_at(Location::Host(PathBuf::from(object)), &info, &[]);
        tree.libraries
            .into_iter()
            .map(|(name, lib)| {
                let answer = match (lib.path, lib.realpath) {
                    (Some(path), Some(realpath)) => {
                        Answer::Found(path.to_string(), realpath.to_string())
                    }
                    _ => Answer::NotFound,
                };
                (name, answer)
            })
            .collect()
    }

    /// What `rows` expect of one mode: the loader's paths for ldso; auditwheel's answers, or the
    /// loader's paths where auditwheel fails on the object (a `DT_NEEDED` path under a root).
    fn wanted(rows: &[&Row], mode: ResolverMode) -> BTreeMap<String, Answer> {
        let auditwheel_failed = rows.iter().any(|r| r.auditwheel == Answer::Error);
        rows.iter()
            .filter_map(|row| {
                let name = row.needed.clone()?;
                let answer = match mode {
                    ResolverMode::Auditwheel if !auditwheel_failed => row.auditwheel.clone(),
                    _ => row.loader.clone(),
                };
                (answer != Answer::NotReached).then_some((name, answer))
            })
            .collect()
    }

    /// Checks every object of `rows` in both modes; returns the number of names compared.
    fn check(rows: &[Row], library_path: &[&str]) -> usize {
        let mut objects: BTreeMap<(u32, &str), Vec<&Row>> = BTreeMap::new();
        for row in rows {
            objects
                .entry((row.bits, &row.object))
                .or_default()
                .push(row);
        }
        let mut compared = 0;
        for ((bits, object), rows) in objects {
            let auditwheel_failed = rows.iter().any(|r| r.auditwheel == Answer::Error);
            for mode in [ResolverMode::Ldso, ResolverMode::Auditwheel] {
                let mut ours = resolve(bits, mode, library_path, object);
                let want = wanted(&rows, mode);
                if mode == ResolverMode::Ldso || auditwheel_failed {
                    // The loader prints only the path.
                    for answer in ours.values_mut() {
                        if let Answer::Found(path, realpath) = answer {
                            realpath.clone_from(path);
                        }
                    }
                }
                assert_eq!(
                    ours, want,
                    "root{bits} {object} {library_path:?} --resolver {mode:?}"
                );
                compared += want.len();
            }
        }
        compared
    }

    #[test]
    fn every_fixture_object_resolves_as_the_loader_and_auditwheel_do() {
        let (plain, with_ldlp) = expected();
        // Every ELF file of each root's class has rows, so no fixture goes unchecked.
        for bits in [64, 32] {
            let mut files = Vec::new();
            let mut pending = vec![root(bits)];
            while let Some(dir) = pending.pop() {
                for entry in std::fs::read_dir(&dir).expect("read_dir").flatten() {
                    let path = entry.path();
                    let meta = std::fs::symlink_metadata(&path).expect("metadata");
                    if meta.is_dir() {
                        pending.push(path);
                    } else if meta.is_file() {
                        let data = std::fs::read(&path).expect("read");
                        if elf::analyze(&data).is_ok_and(|i| i.platform.is_64 == (bits == 64)) {
                            files.push(format!(
                                "/{}",
                                path.strip_prefix(root(bits)).expect("in root").display()
                            ));
                        }
                    }
                }
            }
            assert!(files.len() >= 20, "root{bits}: {} objects", files.len());
            for file in &files {
                assert!(
                    plain.iter().any(|r| r.bits == bits && &r.object == file),
                    "{EXPECTED_MD} has no row for root{bits} {file}: regenerate it (tests/real/resolver.rs)"
                );
            }
        }
        let compared = check(&plain, &[]);
        assert!(compared >= 100, "only {compared} names compared");
        // With LD_LIBRARY_PATH the file lists only the objects whose answers change.
        let compared = check(&with_ldlp, &["/ldlp"]);
        assert!(
            compared >= 8,
            "only {compared} names compared with LD_LIBRARY_PATH"
        );
    }
}
