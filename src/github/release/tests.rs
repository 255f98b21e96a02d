//! Unit tests of the release client's pure parts: tags, names, endpoints, digests, assets.

use super::assets::asset_name_on_github;
use super::*;

#[test]
fn tags_come_from_tag_refs_only() {
    assert_eq!(tag_from_ref(Some("refs/tags/v1.2.3")).unwrap(), "v1.2.3");
    assert_eq!(
        tag_from_ref(Some("refs/tags/release/1")).unwrap(),
        "release/1"
    );
    let err = |r| tag_from_ref(r).unwrap_err().to_string();
    insta::assert_snapshot!(err(Some("refs/heads/main")), @"cannot tell which release to upload to: GITHUB_REF is `refs/heads/main`, not a tag; pass --tag TAG or run on a tag push");
    insta::assert_snapshot!(err(None), @"cannot tell which release to upload to: GITHUB_REF is not set; pass --tag TAG or run on a tag push");
    insta::assert_snapshot!(err(Some("refs/tags/")), @"cannot tell which release to upload to: GITHUB_REF is `refs/tags/`, not a tag; pass --tag TAG or run on a tag push");
}

#[test]
fn components_keep_unreserved_characters() {
    assert_eq!(component("v1.0.0-rc_1~x"), "v1.0.0-rc_1~x");
    assert_eq!(component("release/1 +%"), "release%2F1%20%2B%25");
}

#[test]
fn upload_endpoints() {
    let e = Endpoints::new("https://api.github.com").unwrap();
    assert_eq!(e.upload_origin(), "https://uploads.github.com");
    let e = Endpoints::new("https://ghe.example/api/v3").unwrap();
    assert_eq!(e.upload.as_str(), "https://ghe.example/api/uploads");
    assert_eq!(e.upload_origin(), "https://ghe.example");
    let e = Endpoints::new("http://127.0.0.1:8080/").unwrap();
    assert_eq!(e.upload_origin(), "http://127.0.0.1:8080");
    assert!(Endpoints::new("ftp://x").is_err());
    assert!(Endpoints::new("nope").is_err());
}

#[test]
fn the_missing_token_message_says_how_to_pass_it() {
    insta::assert_snapshot!(ReleaseError::MissingToken.to_string(), @"GITHUB_TOKEN is not set: give the step `env: GITHUB_TOKEN: ${{ github.token }}` and the job `permissions: contents: write`");
}

#[test]
fn accepted_permissions_become_the_yaml_to_add() {
    assert_eq!(yaml_permissions("contents=write"), "contents: write");
    assert_eq!(
        yaml_permissions("contents=write,actions=read; administration=admin"),
        "contents: write, actions: read"
    );
}

#[test]
fn github_replaces_special_characters_in_asset_names() {
    assert_eq!(
        asset_name_on_github("demo-1.0+local-cp39-cp39-manylinux_2_5_x86_64.whl"),
        "demo-1.0+local-cp39-cp39-manylinux_2_5_x86_64.whl"
    );
    assert_eq!(
        asset_name_on_github("notes (v1)~rc.txt"),
        "notes..v1..rc.txt"
    );
}

#[test]
fn digests_are_sha256_hex_only() {
    let hex64 = "AB".repeat(32);
    assert_eq!(
        digest_hex(Some(&format!("sha256:{hex64}"))),
        Some("ab".repeat(32))
    );
    assert_eq!(digest_hex(Some("sha512:00")), None);
    assert_eq!(digest_hex(Some("sha256:xyz")), None);
    assert_eq!(digest_hex(None), None);
}

#[test]
fn assets_are_the_files_and_the_files_of_directories() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs_err::create_dir_all(root.join("wh/sub")).unwrap();
    fs_err::write(root.join("wh/b.whl"), b"bb").unwrap();
    fs_err::write(root.join("wh/a.tar.gz"), b"a").unwrap();
    fs_err::write(root.join("wh/.hidden"), b"h").unwrap();
    fs_err::write(root.join("wh/sub/deep.whl"), b"d").unwrap();
    fs_err::write(root.join("b.whl"), b"other").unwrap();
    fs_err::write(root.join("x y.txt"), b"1").unwrap();
    fs_err::write(root.join("x.y.txt"), b"2").unwrap();
    let names: Vec<(String, u64, String)> = collect_assets(&[root.join("wh")])
        .unwrap()
        .into_iter()
        .map(|a| (a.name, a.size, a.sha256))
        .collect();
    assert_eq!(
        names,
        [
            (
                "a.tar.gz".to_owned(),
                1,
                "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb".to_owned()
            ),
            (
                "b.whl".to_owned(),
                2,
                "3b64db95cb55c763391c707108489ae18b4112d783300de38e033b4c98c3deaf".to_owned()
            )
        ]
    );
    // The same file twice is one asset; two files of one name are an error, also when
    // GitHub's renaming makes them one.
    assert_eq!(
        collect_assets(&[root.join("wh"), root.join("wh/b.whl")])
            .unwrap()
            .len(),
        2
    );
    let err = collect_assets(&[root.join("wh"), root.join("b.whl")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("would both be asset `b.whl`"), "{err}");
    let err = collect_assets(&[root.join("x y.txt"), root.join("x.y.txt")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("would both be asset `x.y.txt`"), "{err}");
    fs_err::create_dir_all(root.join("empty")).unwrap();
    assert!(
        collect_assets(&[root.join("empty")])
            .unwrap_err()
            .to_string()
            .starts_with("no files to upload in `")
    );
}
