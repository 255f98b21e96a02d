use super::markers::{from_roman, to_roman};
use super::*;

#[test]
fn classifies_lines() {
    assert_eq!(classify("* item"), Kind::Bullet(2));
    assert_eq!(classify("-   item"), Kind::Bullet(4));
    assert_eq!(classify("-"), Kind::Bullet(1));
    // Matches the option pattern (`-i` with argument `tem`); the handler falls back to text.
    assert_eq!(classify("-item"), Kind::OptionMarker(5));
    assert!(matches!(classify("1. one"), Kind::Enumerator(_)));
    assert!(matches!(classify("(a) one"), Kind::Enumerator(_)));
    assert!(matches!(classify("iv) one"), Kind::Enumerator(_)));
    assert_eq!(classify(":param x: y"), Kind::Field(10));
    assert_eq!(classify(":: x"), Kind::Text);
    assert_eq!(classify("-v, --verbose  Be loud"), Kind::OptionMarker(15));
    assert_eq!(classify("-f FILE  Input"), Kind::OptionMarker(9));
    assert_eq!(classify("-foo bar"), Kind::Text);
    assert_eq!(classify(">>> 1 + 1"), Kind::Doctest);
    assert_eq!(classify("| line"), Kind::LineBlock(2));
    assert_eq!(classify("|sub|"), Kind::Text);
    assert_eq!(classify("+---+---+"), Kind::GridTable);
    assert_eq!(classify("===  ==="), Kind::SimpleTable);
    assert_eq!(classify(".. note::"), Kind::Explicit);
    assert_eq!(classify(".."), Kind::Explicit);
    assert_eq!(classify("__ http://x"), Kind::Anonymous);
    assert_eq!(classify("====="), Kind::Line);
    assert_eq!(classify("::"), Kind::Line);
    assert_eq!(classify("Text"), Kind::Text);
}

#[test]
fn roman_numerals() {
    assert_eq!(from_roman("XIV"), Some(14));
    assert_eq!(from_roman("IIII"), None);
    assert_eq!(to_roman(1994).as_deref(), Some("MCMXCIV"));
}

#[test]
fn targets_and_directives() {
    assert_eq!(
        match_target("foo: http://x"),
        Some((Some("foo".to_owned()), " http://x".to_owned()))
    );
    assert_eq!(
        match_target("`a: b`: http://x"),
        Some((Some("a: b".to_owned()), " http://x".to_owned()))
    );
    assert_eq!(
        match_target("_: http://x"),
        Some((None, " http://x".to_owned()))
    );
    assert_eq!(match_target("foo"), None);
    assert_eq!(
        match_substitution("name| image:: x.png"),
        Some(("name".to_owned(), " image:: x.png".to_owned()))
    );
    assert_eq!(indirect_reference("other_"), Some("other".to_owned()));
    assert_eq!(
        indirect_reference("`an other`_"),
        Some("an other".to_owned())
    );
    assert_eq!(indirect_reference("http://x_"), None);
    assert_eq!(
        directive_marker(".. code-block:: python", 3),
        Some(("code-block".to_owned(), 16))
    );
    assert_eq!(
        directive_marker(".. note::", 3),
        Some(("note".to_owned(), 9))
    );
    assert_eq!(directive_marker(".. note: x", 3), None);
}
