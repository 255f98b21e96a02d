//! `wheelwright split-args` (hidden): the action's `args` input as words. GitHub gives an input
//! as one string; splitting it in bash either ignores quotes (`read -a`) or expands it (`eval`).
//! This splits it the way a POSIX shell reads quoted words (single and double quotes,
//! backslashes) and expands nothing: `$HOME`, `*` and `$(…)` stay as written.

use std::process::ExitCode;

use anyhow::{Result, bail};

/// The variable action.yml passes the input in.
pub const ARGS_ENV: &str = "WHEELWRIGHT_ARGS";

/// The words of `text`, or why it cannot be split.
pub fn split(text: &str) -> Result<Vec<String>> {
    match shlex::split(text) {
        Some(words) => Ok(words),
        None => bail!(
            "Action input `args`: unbalanced quotes or a trailing backslash in `{}`; quote a value \
             with spaces as a shell would (`--archs 'x86_64 i686'`)",
            text
        ),
    }
}

/// Prints the words of `WHEELWRIGHT_ARGS`, each followed by a NUL byte.
pub fn run() -> Result<ExitCode> {
    let text = std::env::var(ARGS_ENV).unwrap_or_default();
    let mut out = String::new();
    for word in split(&text)? {
        if word.contains('\0') {
            bail!("Action input `args`: a word contains a NUL byte");
        }
        out.push_str(&word);
        out.push('\0');
    }
    // Read by `mapfile -d ''` into an array, never shown: written as it is.
    crate::ui::machine_data(out.as_bytes());
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_words_stay_whole_and_nothing_is_expanded() {
        assert_eq!(
            split(r#"--archs 'x86_64 i686' --environment "A=1 B=2" $HOME * \$x a\ b"#)
                .expect("splits"),
            [
                "--archs",
                "x86_64 i686",
                "--environment",
                "A=1 B=2",
                "$HOME",
                "*",
                "$x",
                "a b"
            ]
        );
        assert!(split("").expect("empty").is_empty());
        assert!(split("  \n ").expect("blank").is_empty());
    }

    #[test]
    fn unbalanced_quotes_name_the_input() {
        let err = split("--archs 'x86_64")
            .expect_err("unbalanced")
            .to_string();
        assert!(err.contains("Action input `args`"), "{err}");
        assert!(err.contains("unbalanced"), "{err}");
    }
}
