//! `wheelwright publish`: list, check, hash, then upload distributions (see
//! [`crate::publish`] for the protocol) and end with a table or JSON of what happened.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Result, anyhow, bail};

use crate::check::{self, CheckOptions, Target};
use crate::cli::PublishArgs;
use crate::net::retry::RetryPolicy;
use crate::net::secret::{Redactor, display_url};
use crate::publish::credentials::{
    self, AuthPlan, CredentialArgs, Pypirc, Repository, resolve_auth, resolve_repository,
};
use crate::publish::dist::{self, Distribution, PrepareError};
use crate::publish::{self, FileReport, FileStatus, Reporter, Settings, attest};
use crate::ui::{self, github, progress::TransferProgress};

/// Runs `wheelwright publish`. Every message that leaves is scrubbed of secrets.
pub fn run(args: &PublishArgs) -> Result<ExitCode> {
    let redactor = Redactor::default();
    run_redacted(args, &redactor).map_err(|err| anyhow!(redactor.redact(&format!("{err:#}"))))
}

fn run_redacted(args: &PublishArgs, redactor: &Redactor) -> Result<ExitCode> {
    let files = dist::collect(&args.files)?;

    let pypirc = match &args.config_file {
        Some(path) => Pypirc::load(path, true)?,
        None => match credentials::default_pypirc() {
            Some(path) => Pypirc::load(&path, false)?,
            None => None,
        },
    };
    if let Some(pypirc) = &pypirc {
        for password in pypirc.sections.iter().filter_map(|s| s.password.as_ref()) {
            redactor.add(password);
        }
    }
    let repository = resolve_repository(
        args.repository.as_deref(),
        args.repository_url.as_deref(),
        args.index_url.as_deref(),
        pypirc.as_ref(),
    )?;

    if args.no_check {
        warn(
            "`--no-check`: the files are not checked: no RECORD hash and size verification, no \
             ZIP structure, metadata or file name checks, none of the index's rules",
        );
    } else {
        check_before_upload(&files, &repository, args.strict, redactor)?;
    }

    let dists = prepare_all(&files)?;
    refuse_failed_tests(&dists, args.force)?;
    if args.print_hash {
        for dist in &dists {
            ui::message(&format!(
                "`{}`\n  sha256:     {}\n  blake2_256: {}",
                dist.filename, dist.sha256, dist.blake2_256
            ));
        }
    }

    if args.dry_run {
        let reports: Vec<FileReport> = dists
            .into_iter()
            .map(|dist| FileReport {
                dist,
                status: FileStatus::WouldUpload,
                message: None,
                attempts: 0,
                attestation: None,
            })
            .collect();
        ui::message(&format!(
            "Dry run: nothing was sent to `{}`",
            display_url(&repository.upload_url)
        ));
        return Ok(finish(args, &repository, &reports, true));
    }

    let credential_args = CredentialArgs {
        username: args.username.clone(),
        password_env: args.password_env.clone(),
        trusted_publishing: args.trusted_publishing,
    };
    let (auth, warnings) = resolve_auth(&repository, &credential_args, &|name| {
        std::env::var(name).ok()
    })?;
    if let AuthPlan::Basic {
        username, password, ..
    } = &auth
    {
        redactor.add_basic(username, password);
    }
    if let AuthPlan::TrustedPublishing(oidc) = &auth {
        redactor.add(&oidc.request_token);
    }
    for warning in warnings {
        warn(&redactor.redact(&warning));
    }
    describe_target(&repository, &auth);
    suggest_trusted_publishing(&repository, &auth, &dists);
    let (attest, attached) = plan_attestations(args, &repository, &auth, &dists)?;

    let settings = Settings {
        repository: repository.clone(),
        auth,
        skip_existing: args.skip_existing,
        retry: RetryPolicy {
            retries: args.retries,
            ..RetryPolicy::default()
        },
        idle_timeout: Duration::from_secs(args.timeout),
        attest,
    };
    let reporter = Arc::new(CliReporter {
        redactor: redactor.clone(),
        progress: Mutex::new(None),
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(publish::publish(
        &settings, &dists, attached, reporter, redactor,
    ));
    let reports = match result {
        Ok(reports) => reports,
        Err(err) => {
            let text = redactor.redact(&err.to_string());
            if github::on_actions() {
                let _ = github::append_step_summary(&format!(
                    "### wheelwright publish failed\n\n```\n{text}\n```\n"
                ));
            }
            bail!("{text}");
        }
    };
    Ok(finish(args, &repository, &reports, false))
}

/// Decides about PEP 740 attestations: made by this run with trusted publishing (unless
/// `--no-attestations`); otherwise those found next to the files go along where the index takes
/// them (trusted publishing only: PyPI refuses attestations with an API token, and other
/// indexes have no use for them), with one notice where they do not.
fn plan_attestations(
    args: &PublishArgs,
    repository: &Repository,
    auth: &AuthPlan,
    dists: &[Distribution],
) -> Result<(
    Option<attest::SigstoreConfig>,
    Vec<Option<attest::Attested>>,
)> {
    let trusted = matches!(auth, AuthPlan::TrustedPublishing(_));
    if args.attestations && !trusted {
        bail!(
            "`--attestations`: attestations are made only with trusted publishing (the job's OIDC identity signs them, and PyPI accepts them only from a trusted publisher)\nhint: publish from GitHub Actions with `permissions: id-token: write` and no password, or drop `--attestations`"
        );
    }
    if trusted && !args.no_attestations {
        let config = attest::SigstoreConfig::from_env(&|name| std::env::var(name).ok())?;
        ui::message(&format!(
            "Attestations: each file is signed with the job's identity through Sigstore (Fulcio `{}`, Rekor `{}`) and checked against {}",
            display_url(&config.fulcio),
            display_url(&config.rekor),
            config.trusted_root_source
        ));
        return Ok((Some(config), vec![None; dists.len()]));
    }
    let mut found = Vec::with_capacity(dists.len());
    let mut problems = Vec::new();
    for dist in dists {
        match attest::read_existing(dist) {
            Ok(attestation) => found.push(attestation),
            Err(err) => {
                problems.push(err.to_string());
                found.push(None);
            }
        }
    }
    let count = found.iter().flatten().count();
    if count == 0 && problems.is_empty() {
        return Ok((None, found));
    }
    if !trusted {
        // Unreadable ones too: they would not have been sent either.
        let count = count + problems.len();
        let index = repository.known.map_or_else(
            || format!("`{}`", display_url(&repository.upload_url)),
            |k| k.display_name.to_owned(),
        );
        let why = if repository.known.is_some() {
            format!(
                "{index} accepts attestations only with trusted publishing, and this upload uses other credentials"
            )
        } else {
            format!(
                "{index} is not an index that takes attestations (only PyPI-like indexes with trusted publishing do)"
            )
        };
        notice(&format!(
            "the {count} attestation {} next to the files {} not sent: {why}; the files are uploaded without them",
            plural(count, "file", "files"),
            plural(count, "is", "are"),
        ));
        return Ok((None, vec![None; dists.len()]));
    }
    if !problems.is_empty() {
        for problem in &problems {
            ui::error(problem);
        }
        bail!(
            "{} attestation {} next to the files cannot be sent; nothing was uploaded",
            problems.len(),
            plural(problems.len(), "file", "files")
        );
    }
    ui::message(&format!(
        "Attestations: uploading the {count} attestation {} found next to the files (`--no-attestations`: none are made)",
        plural(count, "file", "files")
    ));
    Ok((None, found))
}

fn notice(message: &str) {
    if !ui::is_quiet() {
        ui::message(&format!("notice: {message}"));
    }
    github::annotation(
        github::Level::Notice,
        Some("wheelwright publish"),
        None,
        message,
    );
}

/// Checks every file for `repository`: warnings are printed, an error stops the run before
/// anything is sent. PyPI's own rules are errors only for PyPI and TestPyPI.
fn check_before_upload(
    files: &[PathBuf],
    repository: &Repository,
    strict: bool,
    redactor: &Redactor,
) -> Result<()> {
    let options = CheckOptions {
        target: if repository.known.is_some() {
            Target::Pypi
        } else {
            Target::AnyIndex
        },
        // Other indexes set their own limits (pypiserver and devpi have none by default).
        max_file_size: repository.known.map(|index| index.max_file_size),
        strict,
    };
    let problems = check::check_files(files, &options);
    let line = |problem: &check::Problem| {
        redactor.redact(&format!(
            "`{}`: {} [{}]",
            problem.file.display(),
            problem.message,
            problem.code
        ))
    };
    for problem in problems.iter().filter(|p| !p.is_error()) {
        warn(&line(problem));
    }
    let errors: Vec<&check::Problem> = problems.iter().filter(|p| p.is_error()).collect();
    if errors.is_empty() {
        return Ok(());
    }
    for problem in &errors {
        ui::error(&line(problem));
    }
    let mut bad: Vec<&PathBuf> = errors.iter().map(|p| &p.file).collect();
    bad.dedup();
    let strict_hint = if strict {
        " (`--strict` makes warnings errors)"
    } else {
        ""
    };
    bail!(
        "{} {} in {} of {} {}{strict_hint}; nothing was uploaded\nhint: fix them and build again; \
         `--no-check` uploads without any check (not even RECORD and ZIP verification)",
        errors.len(),
        plural(errors.len(), "error", "errors"),
        bad.len(),
        files.len(),
        plural(files.len(), "file", "files"),
    );
}

/// Refuses wheels that the build's test stage marked failed (or could not test) in the results
/// manifest next to them, unless `force` (then each is a warning).
fn refuse_failed_tests(dists: &[Distribution], force: bool) -> Result<()> {
    let mut blocked = Vec::new();
    for dist in dists {
        if let Some(why) = crate::testing::manifest::publish_blocker(&dist.path, &dist.sha256)? {
            blocked.push(format!("`{}`: {why}", dist.filename));
        }
    }
    if blocked.is_empty() {
        return Ok(());
    }
    if force {
        for line in &blocked {
            warn(&format!("publishing anyway (--force): {line}"));
        }
        return Ok(());
    }
    for line in &blocked {
        ui::error(line);
    }
    bail!(
        "{} {} did not pass {} tests; nothing was uploaded\nhint: fix and rebuild, or pass `--force` to publish anyway",
        blocked.len(),
        plural(blocked.len(), "wheel", "wheels"),
        plural(blocked.len(), "its", "their"),
    );
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

fn warn(message: &str) {
    if !ui::is_quiet() {
        ui::message(&format!("warning: {message}"));
    }
    github::annotation(
        github::Level::Warning,
        Some("wheelwright publish"),
        None,
        message,
    );
}

fn describe_target(repository: &Repository, auth: &AuthPlan) {
    let who = match auth {
        AuthPlan::Basic {
            username, source, ..
        } => format!("as `{username}` (password from {source})"),
        AuthPlan::TrustedPublishing(_) => "with trusted publishing".to_owned(),
        AuthPlan::Anonymous => "without credentials".to_owned(),
    };
    let name = repository
        .known
        .map_or_else(String::new, |k| format!("{} ", k.display_name));
    ui::message(&format!(
        "Publishing to {name}`{}` {who}",
        display_url(&repository.upload_url)
    ));
}

/// On Actions, a static API token for PyPI or TestPyPI could be replaced by trusted publishing:
/// say where to set it up (as pypa/gh-action-pypi-publish does).
fn suggest_trusted_publishing(repository: &Repository, auth: &AuthPlan, dists: &[Distribution]) {
    let (Some(index), AuthPlan::Basic { password, .. }, Some(dist)) =
        (repository.known, auth, dists.first())
    else {
        return;
    };
    if !github::on_actions() || !password.expose().starts_with("pypi-") {
        return;
    }
    let mut url = index
        .publishing_settings_url
        .replace("{project}", &crate::wheel::normalize_name(&dist.name));
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if let Some((owner, repo)) = var("GITHUB_REPOSITORY")
        .as_deref()
        .and_then(|r| r.split_once('/'))
        .map(|(o, r)| (o.to_owned(), r.to_owned()))
    {
        let workflow = var("GITHUB_WORKFLOW_REF")
            .and_then(|w| w.split('@').next().map(str::to_owned))
            .and_then(|w| w.rsplit('/').next().map(str::to_owned))
            .unwrap_or_default();
        let _ = write!(
            url,
            "?provider=github&owner={owner}&repository={repo}&workflow_filename={workflow}"
        );
    }
    ui::message(&format!(
        "hint: this job uploads with a stored API token; trusted publishing needs no stored secret: {url}"
    ));
}

/// Parses and hashes every file (in parallel); all failures are listed before giving up.
fn prepare_all(files: &[PathBuf]) -> Result<Vec<Distribution>> {
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(files.len())
        .max(1);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<Distribution, PrepareError>>>> =
        Mutex::new((0..files.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(file) = files.get(i) else { break };
                    let result = dist::prepare(file);
                    if let Ok(mut results) = results.lock() {
                        results[i] = Some(result);
                    }
                }
            });
        }
    });
    let results = results
        .into_inner()
        .map_err(|_| anyhow!("a worker preparing the files panicked"))?;
    let mut dists = Vec::with_capacity(files.len());
    let mut failures = 0;
    for (file, result) in files.iter().zip(results) {
        match result {
            Some(Ok(dist)) => dists.push(dist),
            Some(Err(err)) => {
                failures += 1;
                ui::error(&format!("{err}"));
            }
            None => {
                failures += 1;
                ui::error(&format!("`{}`: not prepared", file.display()));
            }
        }
    }
    if failures > 0 {
        bail!(
            "{failures} of {} {} cannot be uploaded; nothing was uploaded",
            files.len(),
            plural(files.len(), "file", "files")
        );
    }
    Ok(dists)
}

/// Prints the table (or JSON) and the step summary; returns the exit code.
fn finish(
    args: &PublishArgs,
    repository: &Repository,
    reports: &[FileReport],
    dry_run: bool,
) -> ExitCode {
    let failed = reports
        .iter()
        .filter(|r| matches!(r.status, FileStatus::Failed | FileStatus::NotAttempted))
        .count();
    if args.json {
        let files: Vec<serde_json::Value> = reports
            .iter()
            .map(|r| {
                serde_json::json!({
                    "file": r.dist.filename,
                    "path": r.dist.path,
                    "kind": r.dist.kind,
                    "size": r.dist.size,
                    "sha256": r.dist.sha256,
                    "blake2_256": r.dist.blake2_256,
                    "result": r.status,
                    "message": r.message,
                    "attempts": r.attempts,
                    "attestation": r.attestation.as_ref().map(|a| serde_json::json!({
                        "path": a.path,
                        "made": a.made,
                    })),
                })
            })
            .collect();
        let value = serde_json::json!({
            "version": 1,
            "repository": display_url(&repository.upload_url),
            "dry_run": dry_run,
            "ok": failed == 0,
            "files": files,
        });
        ui::data(&format!("{value}\n"));
    } else {
        ui::message(&table(reports));
    }
    for report in reports {
        if let (FileStatus::Failed, Some(message)) = (report.status, &report.message) {
            ui::error(&format!("`{}`: {message}", report.dist.filename));
        }
    }
    if github::on_actions() {
        let _ = github::append_step_summary(&summary_markdown(repository, reports));
    }
    let count = |status| reports.iter().filter(|r| r.status == status).count();
    if failed > 0 {
        ui::error(&format!(
            "{failed} of {} {} not published ({} uploaded, {} skipped)",
            reports.len(),
            plural(reports.len(), "file was", "files were"),
            count(FileStatus::Uploaded),
            count(FileStatus::Skipped),
        ));
        ExitCode::from(1)
    } else {
        if !dry_run {
            ui::message(&format!(
                "Published to `{}`: {} uploaded, {} skipped",
                display_url(&repository.upload_url),
                count(FileStatus::Uploaded),
                count(FileStatus::Skipped),
            ));
        }
        ExitCode::SUCCESS
    }
}

fn table(reports: &[FileReport]) -> String {
    let rows: Vec<[String; 4]> = reports
        .iter()
        .map(|r| {
            [
                r.dist.filename.clone(),
                ui::progress::human_bytes(r.dist.size),
                r.dist.sha256.clone(),
                match &r.attestation {
                    Some(a) => format!("{} ({})", r.status.as_str(), attestation_word(a)),
                    None => r.status.as_str().to_owned(),
                },
            ]
        })
        .collect();
    let header = ["file", "size", "sha256", "result"].map(str::to_owned);
    crate::ui::text_table(&header, &rows, [false, true, false, false])
        .trim_end()
        .to_owned()
}

/// How a file's attestation is described. Ex) `attestation made`
fn attestation_word(attestation: &attest::Attested) -> &'static str {
    if attestation.made {
        "attestation made"
    } else {
        "attestation found"
    }
}

fn summary_markdown(repository: &Repository, reports: &[FileReport]) -> String {
    let attested = reports.iter().any(|r| r.attestation.is_some());
    let mut out = format!(
        "### wheelwright publish to `{}`\n\n| file | size | sha256 | result |{}\n|---|---:|---|---|{}\n",
        display_url(&repository.upload_url),
        if attested { " attestation |" } else { "" },
        if attested { "---|" } else { "" },
    );
    for r in reports {
        let attestation = match (&r.attestation, attested) {
            (Some(a), _) => format!(
                " `{}` ({}) |",
                dist::file_name(&a.path),
                attestation_word(a).trim_start_matches("attestation ")
            ),
            (None, true) => " – |".to_owned(),
            (None, false) => String::new(),
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | `{}` | {} |{attestation}",
            r.dist.filename,
            ui::progress::human_bytes(r.dist.size),
            r.dist.sha256,
            r.status.as_str()
        );
    }
    out
}

/// Prints progress and messages (through `ui`), scrubbed of secrets.
struct CliReporter {
    redactor: Redactor,
    progress: Mutex<Option<TransferProgress>>,
}

impl Reporter for CliReporter {
    fn on_upload_start(&self, file: &str, size: u64) {
        if let Ok(mut progress) = self.progress.lock() {
            *progress = Some(TransferProgress::start(file, size));
        }
    }

    fn on_upload_progress(&self, _file: &str, sent: u64) {
        if let Ok(progress) = self.progress.lock() {
            if let Some(progress) = progress.as_ref() {
                progress.set(sent);
            }
        }
    }

    fn on_upload_end(&self, _file: &str) {
        if let Ok(mut progress) = self.progress.lock() {
            if let Some(progress) = progress.take() {
                progress.finish();
            }
        }
    }

    fn warn(&self, message: &str) {
        warn(&self.redactor.redact(message));
    }

    fn info(&self, message: &str) {
        ui::message(&self.redactor.redact(message));
    }
}
