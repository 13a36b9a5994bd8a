//! `--version` and `version [-o json]`: the tool, the commit it was built from, the pinned chart
//! and the Helm versions it drives — what a bug report or a tool needs to know.

use super::output::report_format;
use super::{ReportFormat, exit};
use crate::lock::chart_lock;

/// Version, commit, pinned chart and supported Helm.   e.g. locust-planton version -o json
#[derive(clap::Args, Clone)]
#[command(after_help = exit::help(
        "Examples:\n  locust-planton version\n  locust-planton version -o json",
        &[(exit::OK, "ok"), (exit::USAGE, "usage error")],
    ))]
pub struct VersionArgs {
    /// Output format.
    #[arg(short = 'o', long = "output", value_name = "text|json", value_parser = report_format, default_value = "text")]
    pub output: ReportFormat,
}

/// Helm major versions locust-planton drives (docs/post-renderer.md "The Helm contract"); Helm 3
/// needs 3.9+ for
/// `--post-renderer-args`.
pub const HELM_SUPPORTED: &[&str] = &["3.9+", "4"];
/// Helm releases the test suite runs (scripts/install-tools.sh).
pub const HELM_TESTED: &[&str] = &["v3.15.3", "v3.17.2", "v4.3.1"];

/// The commit the binary was built from (build.rs), empty outside a git checkout.
pub fn commit() -> &'static str {
    env!("LOCUST_PLANTON_GIT_COMMIT")
}

fn short_commit() -> Option<&'static str> {
    let c = commit();
    (!c.is_empty()).then(|| &c[..c.len().min(12)])
}

/// `-V`: one line.
pub fn short() -> String {
    let l = chart_lock();
    match short_commit() {
        Some(c) => format!(
            "{} ({c}), chart {} {}",
            env!("CARGO_PKG_VERSION"),
            l.name,
            l.version
        ),
        None => format!(
            "{}, chart {} {}",
            env!("CARGO_PKG_VERSION"),
            l.name,
            l.version
        ),
    }
}

/// `--version` and `version`: one fact per line.
pub fn long() -> String {
    let l = chart_lock();
    format!(
        "{v}\ncommit: {c}\nchart: {name} {ver} ({repo})\nchart content: {content}\nimage: {image}\nhelm: {sup} (tested: {tested})\n",
        v = env!("CARGO_PKG_VERSION"),
        c = if commit().is_empty() {
            "unknown (not built from a git checkout)"
        } else {
            commit()
        },
        name = l.name,
        ver = l.version,
        repo = l.repository,
        content = l.content_digest,
        image = l.image,
        sup = HELM_SUPPORTED.join(", "),
        tested = HELM_TESTED.join(", "),
    )
}

/// `version`: the long text, or JSON.
pub fn output(format: super::ReportFormat) -> Result<super::Output, super::Failure> {
    Ok(super::Output::ok(match format {
        super::ReportFormat::Text => format!("locust-planton {}", long()),
        super::ReportFormat::Json => json()?,
    }))
}

/// `version -o json`.
pub fn json() -> Result<String, super::Failure> {
    let l = chart_lock();
    let v = serde_json::json!({
        "version": env!("CARGO_PKG_VERSION"),
        "commit": (!commit().is_empty()).then(commit),
        "chart": {
            "name": l.name,
            "repository": l.repository,
            "version": l.version,
            "appVersion": l.app_version,
            // What a chart is checked against; the archive's digest is one published
            // archive's, for information (`digest` is its former name, kept for readers).
            "contentDigest": l.content_digest,
            "archiveDigest": l.archive_digest,
            "digest": l.digest,
            "image": l.image,
        },
        "helm": {"supported": HELM_SUPPORTED, "tested": HELM_TESTED},
    });
    super::json_text(&v)
}
