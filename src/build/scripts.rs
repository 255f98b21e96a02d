//! The scripts that run in build environments: the frontend's command line, the repair step,
//! the compiler cache's set-up, and the placeholders of hooks.

use std::fmt::Write as _;

use super::{
    CcacheSetup, CompilerCacheStats, FrontendTool, IdentifierBuild, RepairCommand, RepairStep,
};
use crate::engine::process::shell_quote;

/// The set-up script of the compiler cache: find ccache (or install it with dnf, yum, apk or
/// apt-get when `install`), link the compilers to it in `bin` (ccache's masquerade mode), zero its
/// statistics. Exits 0 in any case; `bin` has the links only when ccache is in use.
pub(super) fn ccache_script(ccache: &CcacheSetup, bin: &str) -> String {
    let install = if ccache.install {
        "if ! command -v ccache >/dev/null 2>&1; then\n\
         echo 'compiler cache: installing ccache with the package manager'\n\
         if command -v dnf >/dev/null 2>&1; then dnf install -y -q ccache || { dnf install -y -q epel-release && dnf install -y -q ccache; }\n\
         elif command -v yum >/dev/null 2>&1; then yum install -y -q ccache || { yum install -y -q epel-release && yum install -y -q ccache; }\n\
         elif command -v apk >/dev/null 2>&1; then apk add --no-cache ccache\n\
         elif command -v apt-get >/dev/null 2>&1; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ccache\n\
         fi\n\
         fi\n"
    } else {
        ""
    };
    format!(
        "{install}c=$(command -v ccache 2>/dev/null || true)\n\
         if [ -z \"$c\" ]; then echo 'compiler cache: no ccache found'; exit 0; fi\n\
         rm -rf {bin} && mkdir -p {bin} {dir} || exit 1\n\
         for n in cc gcc c++ g++ clang clang++; do\n\
         if command -v \"$n\" >/dev/null 2>&1; then ln -s \"$c\" {bin}/\"$n\"; fi\n\
         done\n\
         # Target-prefixed names (Debian's sysconfig says x86_64-linux-gnu-gcc), first on PATH wins.\n\
         for d in $(printf %s \"$PATH\" | tr : ' '); do\n\
         for f in \"$d\"/*-linux-*-gcc \"$d\"/*-linux-*-g++; do\n\
         if [ -x \"$f\" ] && [ ! -e {bin}/\"${{f##*/}}\" ]; then ln -s \"$c\" {bin}/\"${{f##*/}}\"; fi\n\
         done\n\
         done\n\
         export CCACHE_DIR={dir}\n\
         ccache -z >/dev/null\n\
         echo \"compiler cache: $c ($(ccache --version | head -n 1)), CCACHE_DIR={dir}\"\n",
        bin = shell_quote(bin),
        dir = shell_quote(&ccache.dir),
    )
}

/// ccache's counters from `ccache --print-stats` (tab-separated name and value per line).
pub(super) fn parse_ccache_stats(text: &str) -> Option<CompilerCacheStats> {
    let mut stats = CompilerCacheStats::default();
    let mut seen = false;
    for line in text.lines() {
        let Some((name, value)) = line.split_once('\t') else {
            continue;
        };
        let Ok(value) = value.trim().parse::<u64>() else {
            continue;
        };
        match name.trim() {
            "direct_cache_hit" | "preprocessed_cache_hit" => stats.hits += value,
            "cache_miss" => stats.misses += value,
            _ => continue,
        }
        seen = true;
    }
    seen.then_some(stats)
}

/// The frontend's command line for one build (`python` and `dist` already shell-safe or quoted);
/// `uv`: whether the environment has a uv (`default` builds with it then).
pub(super) fn frontend_command(
    build: &IdentifierBuild,
    python: &str,
    dist: &str,
    uv: bool,
) -> String {
    let dist = shell_quote(dist);
    let pip = build.frontend.tool == FrontendTool::Pip;
    let mut extra = String::new();
    for arg in &build.frontend.args {
        extra.push(' ');
        extra.push_str(&shell_quote(arg));
    }
    for setting in &build.config_settings {
        let flag = if pip {
            "--config-settings"
        } else {
            "--config-setting"
        };
        // pip insists on KEY=VALUE; build and uv take a bare KEY as an empty value.
        let value = match &setting.value {
            Some(value) => format!("{flag}={}={value}", setting.key),
            None if pip => format!("{flag}={}=", setting.key),
            None => format!("{flag}={}", setting.key),
        };
        extra.push(' ');
        extra.push_str(&shell_quote(&value));
    }
    match build.frontend.tool {
        FrontendTool::Default if uv => {
            format!("uv build --wheel --python {python} --out-dir {dist}{extra} .")
        }
        FrontendTool::Default | FrontendTool::Build => {
            format!("{python} -m build --wheel --outdir {dist}{extra} .")
        }
        FrontendTool::BuildUv => format!(
            "command -v uv >/dev/null 2>&1 || {{ echo 'wheelwright: build[uv] needs uv in the build environment (install it in before-all, e.g. pip install uv)' >&2; exit 127; }}\n\
             {python} -m build --installer uv --wheel --outdir {dist}{extra} ."
        ),
        FrontendTool::Pip => {
            format!("{python} -m pip wheel --no-deps --wheel-dir {dist}{extra} .")
        }
        FrontendTool::Uv => format!(
            "command -v uv >/dev/null 2>&1 || {{ echo 'wheelwright: uv is not installed in the build environment (install it in before-all, e.g. pip install uv)' >&2; exit 127; }}\n\
             uv build --wheel --python {python} --out-dir {dist}{extra} ."
        ),
    }
}

/// The repair step as a script, and how it is shown in the log. The built-in repair copies
/// pure-Python wheels unchanged; a custom `repair-wheel-command` gets cibuildwheel's
/// placeholders `{wheel}`, `{dest_dir}`, `{project}` and `{package}`; no steps copy the wheel
/// as built. Paths are inserted shell-quoted (wheel names and the work paths need no quotes).
pub(super) fn repair_script(
    repair: &RepairCommand,
    repair_command: &str,
    wheel: &str,
    repaired: &str,
    project: &str,
) -> (String, String) {
    let wheel_q = shell_quote(wheel);
    let dest = shell_quote(repaired);
    if repair.is_skipped() {
        return (
            "none (repair-wheel-command is empty): the wheel is copied as built".to_owned(),
            format!("cp {wheel_q} {dest}/\n"),
        );
    }
    let pure = wheel.ends_with("-any.whl");
    let mut shown = Vec::new();
    let mut script = String::new();
    for step in &repair.steps {
        match step {
            RepairStep::BuiltIn if pure => {
                let name = wheel.rsplit('/').next().unwrap_or(wheel);
                shown.push(format!("{name} is pure Python: copied"));
                let _ = writeln!(
                    script,
                    "echo {}\ncp {wheel_q} {dest}/ || exit 1",
                    shell_quote(&format!(
                        "{name} is a pure-Python wheel: copied without repair"
                    ))
                );
            }
            RepairStep::BuiltIn => {
                shown.push(format!("wheelwright repair --root / -w {repaired} {wheel}"));
                let _ = writeln!(
                    script,
                    "{repair_command} repair --root / -w {dest} {wheel_q} || exit 1"
                );
            }
            RepairStep::Shell(command) => {
                let command = placeholders(command, project)
                    .replace("{wheel}", &wheel_q)
                    .replace("{dest_dir}", &dest);
                shown.push(command.clone());
                let _ = writeln!(script, "( {command}\n) || exit 1");
            }
        }
    }
    (shown.join(" && "), script)
}

/// Replaces `{project}` and `{package}` with the project directory (inside the environment).
#[must_use]
pub fn placeholders(command: &str, project: &str) -> String {
    command
        .replace("{project}", project)
        .replace("{package}", project)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::values::{BuildFrontend, ConfigSetting};

    fn planned(id: &str) -> IdentifierBuild {
        IdentifierBuild::new(id.parse().expect(id))
    }

    #[test]
    fn placeholders_are_replaced() {
        assert_eq!(
            placeholders("sh {project}/x.sh {package}", "/w/p"),
            "sh /w/p/x.sh /w/p"
        );
    }

    #[test]
    fn frontends_get_their_arguments_and_config_settings() {
        let mut b = planned("cp312-manylinux_x86_64");
        b.config_settings =
            ConfigSetting::parse_list("setup-args=-Da=1 'k=two words' flag").expect("parses");
        b.frontend = BuildFrontend::parse("build; args: --no-isolation").expect("parses");
        assert_eq!(
            frontend_command(&b, "/py", "/d", true),
            "/py -m build --wheel --outdir /d --no-isolation --config-setting=setup-args=-Da=1 '--config-setting=k=two words' --config-setting=flag ."
        );
        b.frontend = BuildFrontend::parse("pip").expect("parses");
        assert_eq!(
            frontend_command(&b, "/py", "/d", true),
            "/py -m pip wheel --no-deps --wheel-dir /d --config-settings=setup-args=-Da=1 '--config-settings=k=two words' --config-settings=flag= ."
        );
        b.frontend = BuildFrontend::parse("build[uv]").expect("parses");
        assert!(
            frontend_command(&b, "/py", "/d", true).contains("/py -m build --installer uv --wheel")
        );
        // default: uv where there is one, else build (pip and venv).
        b.frontend = BuildFrontend::parse("default").expect("parses");
        assert!(
            frontend_command(&b, "/py", "/d", true)
                .starts_with("uv build --wheel --python /py --out-dir /d --config-setting=")
        );
        assert!(
            frontend_command(&b, "/py", "/d", false)
                .starts_with("/py -m build --wheel --outdir /d")
        );
    }

    #[test]
    fn repair_commands() {
        let wheel = "/w/dist/a-1.0-cp39-cp39-linux_x86_64.whl";
        let (shown, script) = repair_script(
            &RepairCommand::built_in(),
            "/bin/ww",
            wheel,
            "/w/rep",
            "/w/p",
        );
        assert_eq!(
            shown,
            format!("wheelwright repair --root / -w /w/rep {wheel}")
        );
        assert_eq!(
            script,
            format!("/bin/ww repair --root / -w /w/rep {wheel} || exit 1\n")
        );
        let (_, script) = repair_script(
            &RepairCommand::built_in(),
            "/bin/ww",
            "/w/dist/a-1.0-py3-none-any.whl",
            "/w/rep",
            "/w/p",
        );
        assert!(
            script.contains("pure-Python wheel: copied without repair"),
            "{script}"
        );
        assert!(!script.contains("/bin/ww"), "{script}");
        let custom = RepairCommand::from_list([
            "auditwheel repair -w {dest_dir} {wheel}",
            "python {project}/check.py {dest_dir}",
        ]);
        let (shown, script) = repair_script(&custom, "/bin/ww", wheel, "/w/rep", "/w/p");
        assert_eq!(
            shown,
            format!("wheelwright repair --root / -w /w/rep {wheel} && python /w/p/check.py /w/rep")
        );
        assert!(
            script.ends_with("( python /w/p/check.py /w/rep\n) || exit 1\n"),
            "{script}"
        );
        let (shown, script) = repair_script(
            &RepairCommand::from_text(""),
            "/bin/ww",
            wheel,
            "/w/rep",
            "/w/p",
        );
        assert!(shown.starts_with("none"), "{shown}");
        assert_eq!(script, format!("cp {wheel} /w/rep/\n"));
    }

    #[test]
    fn ccache_counters() {
        let text = "autocheck_done\t0\ncache_miss\t4\ndirect_cache_hit\t10\npreprocessed_cache_hit\t2\nstats_zeroed_timestamp\t1700000000\n";
        assert_eq!(
            parse_ccache_stats(text),
            Some(CompilerCacheStats {
                hits: 12,
                misses: 4
            })
        );
        assert_eq!(parse_ccache_stats("ccache: invalid option"), None);
        let script = ccache_script(
            &CcacheSetup {
                dir: "/c/manylinux_x86_64".to_owned(),
                install: false,
                required: false,
            },
            "/w/ccache-bin",
        );
        assert!(!script.contains("apt-get"), "{script}");
        assert!(
            script.contains("ln -s \"$c\" /w/ccache-bin/\"$n\""),
            "{script}"
        );
        let script = ccache_script(
            &CcacheSetup {
                dir: "/c".to_owned(),
                install: true,
                required: true,
            },
            "/w/b",
        );
        assert!(script.contains("dnf install -y -q ccache"), "{script}");
        let syntax = std::process::Command::new("sh")
            .args(["-n", "-c", &script])
            .status()
            .expect("sh");
        assert!(syntax.success(), "not POSIX sh:\n{script}");
    }
}
