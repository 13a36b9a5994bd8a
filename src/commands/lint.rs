//! `lint`: every finding the post-renderer would make on a rendered stream (errors and
//! warnings), without writing a manifest. Exit 1 when `post-render` would refuse the stream.

use super::{Failure, exit};
use crate::limits::{MAX_STREAM_BYTES, read_bounded};
use crate::postrender::{Options, Severity, lint};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// Returns (stdout text, exit code).
pub fn run(path: &str, options: &Options, format: Format) -> Result<(String, u8), Failure> {
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
        Format::Json => format!("{}\n", serde_json::to_string_pretty(&findings).unwrap()),
        Format::Text => findings.iter().map(|f| format!("{f}\n")).collect(),
    };
    Ok((out, code))
}
