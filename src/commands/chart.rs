//! `chart`: the pinned chart (charts-lock/).

use super::output::report_format;
use super::{Failure, Output, ReportFormat, exit, json_text};

/// Print the pinned chart (charts-lock/).   e.g. locust-planton chart
#[derive(clap::Args, Clone)]
#[command(after_help = exit::help(
        "Examples:\n  locust-planton chart\n  locust-planton chart -o json",
        &[(exit::OK, "ok"), (exit::USAGE, "usage error")],
    ))]
pub struct ChartArgs {
    /// Output format.
    #[arg(short = 'o', long = "output", value_name = "text|json", value_parser = report_format, default_value = "text")]
    pub output: ReportFormat,
}

/// `chart`: the pinned chart, as YAML (the lock file) or JSON.
pub fn run(a: &ChartArgs) -> Result<Output, Failure> {
    let format = a.output;
    if format == ReportFormat::Text {
        return Ok(Output::ok(crate::lock::LOCK_TEXT));
    }
    let l = crate::lock::chart_lock();
    let v = serde_json::json!({
        "name": l.name, "repository": l.repository, "version": l.version, "appVersion": l.app_version,
        "contentDigest": l.content_digest, "archiveDigest": l.archive_digest, "digest": l.digest,
        "image": l.image, "verifiedVersions": l.verified_versions,
    });
    Ok(Output::ok(json_text(&v)?))
}
