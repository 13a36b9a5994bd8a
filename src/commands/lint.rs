//! `lint`: every finding the post-renderer would make on a rendered stream (errors and
//! warnings), without writing a manifest. Exit 1 when `post-render` would refuse the stream.

use super::{Failure, Output, ReportFormat, exit};
use crate::limits::{MAX_STREAM_BYTES, read_bounded};
use crate::postrender::{Options, Severity, lint};

/// Every finding; exit 1 when post-render would refuse the stream.
pub fn run(path: &str, options: &Options, format: ReportFormat) -> Result<Output, Failure> {
    let bytes = if path == "-" {
        read_bounded(std::io::stdin(), MAX_STREAM_BYTES)
    } else {
        std::fs::File::open(path).and_then(|f| read_bounded(f, MAX_STREAM_BYTES))
    }
    .map_err(|e| Failure::failed(format!("{path}: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        Failure::failed(format!(
            "{path}: not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
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
