//! `lint`: every finding the post-renderer would make on a rendered stream (errors and
//! warnings), without writing a manifest. Exit 1 when `post-render` would refuse the stream.
//! `inventory`: the objects Kubernetes would create from the same stream, as it is read here.

use super::{Failure, Output, ReportFormat, exit};
use crate::limits::{MAX_STREAM_BYTES, read_bounded};
use crate::postrender::{Options, Severity, lint};

/// A rendered stream from a file or stdin (`-`), bounded, as UTF-8 text.
fn read_stream(path: &str) -> Result<String, Failure> {
    let bytes = if path == "-" {
        read_bounded(std::io::stdin(), MAX_STREAM_BYTES)
    } else {
        std::fs::File::open(path).and_then(|f| read_bounded(f, MAX_STREAM_BYTES))
    }
    .map_err(|e| Failure::failed(format!("{path}: {e}")))?;
    String::from_utf8(bytes).map_err(|e| {
        Failure::failed(format!(
            "{path}: not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Every finding; exit 1 when post-render would refuse the stream.
pub fn run(path: &str, options: &Options, format: ReportFormat) -> Result<Output, Failure> {
    let text = read_stream(path)?;
    let findings = match lint(&text, options) {
        Ok(f) => f,
        // The stream as a whole is unreadable: that is the one finding.
        Err(e) => e.findings,
    };
    let code = if findings.iter().any(|f| f.severity == Severity::Error) {
        exit::FAILED
    } else {
        exit::OK
    };
    let out = match format {
        ReportFormat::Json => format!("{}\n", serde_json::to_string_pretty(&findings).unwrap()),
        ReportFormat::Text => findings.iter().map(|f| format!("{f}\n")).collect(),
    };
    Ok(Output::ok(out).with_code(code))
}

/// The objects Kubernetes would create from the stream, one `KIND NAMESPACE NAME` line each
/// (`-` for none), or with `-o json` each with the paths of its pod specs. Exit 1, nothing on
/// stdout, when a document cannot be placed exactly (the post-renderer refuses it too).
pub fn inventory(path: &str, format: ReportFormat) -> Result<Output, Failure> {
    let text = read_stream(path)?;
    let entries = crate::postrender::inventory(&text)
        .map_err(|e| Failure::failed(format!("{path}: cannot place every object:\n{e}")))?;
    let out = match format {
        ReportFormat::Json => format!("{}\n", serde_json::to_string_pretty(&entries).unwrap()),
        ReportFormat::Text => entries
            .iter()
            .map(|e| format!("{}\n", e.identity))
            .collect(),
    };
    Ok(Output::ok(out))
}
