//! The services wheelwright talks to by default: the public indexes it knows by short name,
//! GitHub's REST API and the public-good Sigstore instance (PEP 740 attestations). This is the
//! only file that names their hosts: everything else derives URLs from a [`KnownIndex`], from
//! the upload URL, from `GITHUB_API_URL` or from the Sigstore constants (each overridable by a
//! `WHEELWRIGHT_SIGSTORE_*` variable, for tests and private Sigstore instances).
//!
//! Facts (publish.md §1.1, §3): the upload URL is twine's `DEFAULT_REPOSITORY` /
//! `TEST_REPOSITORY` (note the trailing slash: without it Warehouse answers 308); the Simple
//! index is served by the web host; the trusted-publishing endpoints (`/_/oidc/audience`,
//! `/_/oidc/mint-token`) are served under the upload URL's origin, which is how twine and
//! pypa/gh-action-pypi-publish derive them.

use reqwest::Url;

/// An index wheelwright knows by a short name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownIndex {
    /// The short name. Ex) `pypi`
    pub name: &'static str,
    /// A human name for messages. Ex) `PyPI`
    pub display_name: &'static str,
    /// The legacy upload endpoint.
    pub upload_url: &'static str,
    /// The Simple repository API root (PEP 503/691), with a trailing slash.
    pub simple_url: &'static str,
    /// The default per-file size limit (Warehouse: 100 MiB unless raised for the project).
    pub max_file_size: u64,
    /// Where the project's publishing settings live (`{project}` is replaced).
    pub publishing_settings_url: &'static str,
}

/// A Warehouse instance: `NAME`, `DISPLAY`, its upload host and its web host.
macro_rules! warehouse {
    ($name:literal, $display:literal, $upload_host:literal, $host:literal) => {
        KnownIndex {
            name: $name,
            display_name: $display,
            upload_url: concat!("https://", $upload_host, "/legacy/"),
            simple_url: concat!("https://", $host, "/simple/"),
            max_file_size: 100 * 1024 * 1024,
            publishing_settings_url: concat!(
                "https://",
                $host,
                "/manage/project/{project}/settings/publishing/"
            ),
        }
    };
}

/// The Python Package Index.
pub const PYPI: KnownIndex = warehouse!("pypi", "PyPI", "upload.pypi.org", "pypi.org");

/// The test instance of the Python Package Index.
pub const TESTPYPI: KnownIndex =
    warehouse!("testpypi", "TestPyPI", "test.pypi.org", "test.pypi.org");

/// Every known index.
pub const KNOWN_INDEXES: [&KnownIndex; 2] = [&PYPI, &TESTPYPI];

/// GitHub's REST API on github.com (`GITHUB_API_URL` on its runners; GHES sets its own).
pub const GITHUB_API: &str = "https://api.github.com";

/// Where github.com takes release asset uploads (the `upload_url` of its releases).
pub const GITHUB_UPLOADS: &str = "https://uploads.github.com/";

/// The trusted-publishing troubleshooting page printed with a refused token exchange.
pub const TRUSTED_PUBLISHING_HELP: &str =
    "https://docs.pypi.org/trusted-publishers/troubleshooting/";

/// Path of the audience endpoint under the upload URL's origin.
pub const OIDC_AUDIENCE_PATH: &str = "/_/oidc/audience";

/// Path of the token-exchange endpoint under the upload URL's origin.
pub const OIDC_MINT_TOKEN_PATH: &str = "/_/oidc/mint-token";

/// Sigstore's certificate authority (Fulcio) of the public-good instance: it certifies the
/// ephemeral signing key of each attestation for the job's OIDC identity.
pub const SIGSTORE_FULCIO: &str = "https://fulcio.sigstore.dev";

/// Sigstore's transparency log (Rekor, API v1) of the public-good instance: every attestation's
/// signature is logged there (a `dsse` entry).
pub const SIGSTORE_REKOR: &str = "https://rekor.sigstore.dev";

/// The public-good instance's trust root (Fulcio's CA certificates, the Rekor and CT log keys):
/// what Fulcio and Rekor return is verified against it before anything is uploaded. Embedded,
/// never fetched at run time; `scripts/update-sigstore-trust-root.sh` refreshes it.
pub const SIGSTORE_TRUSTED_ROOT: &str = include_str!("sigstore_trusted_root.json");

/// The audience of the OIDC token that Fulcio accepts.
pub const SIGSTORE_OIDC_AUDIENCE: &str = "sigstore";

/// The predicate type of a PyPI publish attestation (PEP 740, PyPI's attestation docs).
pub const PYPI_PUBLISH_PREDICATE: &str = "https://docs.pypi.org/attestations/publish/v1";

/// The OIDC issuer of GitHub Actions ID tokens (what a PyPI trusted publisher on GitHub expects
/// in the attestation's certificate).
pub const GITHUB_ACTIONS_OIDC_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// The prefix of a GitHub workflow identity in a Fulcio certificate (the SAN URI is this plus
/// the job's `job_workflow_ref`).
pub const GITHUB_SERVER: &str = "https://github.com/";

/// The index called `name` (case-insensitive), if known.
#[must_use]
pub fn by_name(name: &str) -> Option<&'static KnownIndex> {
    KNOWN_INDEXES
        .into_iter()
        .find(|index| index.name.eq_ignore_ascii_case(name))
}

/// The known index whose upload endpoint is `url` (ignoring a missing trailing slash), if any.
#[must_use]
pub fn by_upload_url(url: &Url) -> Option<&'static KnownIndex> {
    KNOWN_INDEXES.into_iter().find(|index| {
        Url::parse(index.upload_url).is_ok_and(|known| {
            known.origin() == url.origin()
                && known.path().trim_end_matches('/') == url.path().trim_end_matches('/')
        })
    })
}

/// An endpoint under the origin of `upload_url` (scheme, host and port; the path is replaced).
#[must_use]
pub fn under_origin(upload_url: &Url, path: &str) -> Url {
    let mut url = upload_url.clone();
    url.set_path(path);
    url.set_query(None);
    url.set_fragment(None);
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_urls_parse_and_end_with_a_slash() {
        for index in KNOWN_INDEXES {
            for url in [index.upload_url, index.simple_url] {
                let parsed = Url::parse(url).unwrap();
                assert_eq!(parsed.scheme(), "https");
                assert!(parsed.path().ends_with('/'), "{url}");
            }
            assert_eq!(by_name(&index.name.to_uppercase()), Some(index));
            let bare = index.upload_url.trim_end_matches('/');
            assert_eq!(by_upload_url(&Url::parse(bare).unwrap()), Some(index));
        }
        assert_eq!(by_name("pypy"), None);
    }

    #[test]
    fn sigstore_defaults_are_https_and_the_trust_root_parses() {
        for url in [SIGSTORE_FULCIO, SIGSTORE_REKOR] {
            assert_eq!(Url::parse(url).unwrap().scheme(), "https");
        }
        let root =
            sigstore_sign::trust_root::TrustedRoot::from_json(SIGSTORE_TRUSTED_ROOT).unwrap();
        assert!(!root.tlogs.is_empty() && !root.certificate_authorities.is_empty());
        assert!(!root.ctlogs.is_empty());
        // The default Rekor is one of the trust root's logs.
        assert!(
            root.tlogs
                .iter()
                .any(|log| log.base_url.trim_end_matches('/') == SIGSTORE_REKOR),
            "{:?}",
            root.tlogs.iter().map(|l| &l.base_url).collect::<Vec<_>>()
        );
    }

    #[test]
    fn oidc_endpoints_derive_from_the_upload_origin() {
        let upload = Url::parse("http://127.0.0.1:8080/legacy/?x=1").unwrap();
        assert_eq!(
            under_origin(&upload, OIDC_AUDIENCE_PATH).as_str(),
            "http://127.0.0.1:8080/_/oidc/audience"
        );
        assert_eq!(
            under_origin(&upload, OIDC_MINT_TOKEN_PATH).as_str(),
            "http://127.0.0.1:8080/_/oidc/mint-token"
        );
    }
}
