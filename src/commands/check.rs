//! `check`: every problem in a manifest, one per line (or JSON), exit 1 when any is an error.

use super::{Failure, exit, read_input};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// Returns (stdout text, exit code).
pub fn run(path: &str, format: Format) -> Result<(String, u8), Failure> {
    let input = read_input(path)?;
    let findings = match crate::spec::read(&input.text) {
        Ok((_, warnings)) => warnings,
        Err(findings) => findings,
    };
    let code = if findings.has_errors() {
        exit::FAILED
    } else {
        exit::OK
    };
    let out = match format {
        Format::Text => findings.render(&input.label),
        Format::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&findings.to_json(&input.label)).unwrap()
        ),
    };
    Ok((out, code))
}
