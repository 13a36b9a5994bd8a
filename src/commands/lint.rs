//! `lint`: every finding the post-renderer would make on a rendered stream (errors and
//! warnings), without writing a manifest. Exit 1 when `post-render` would refuse the stream.
//! `inventory`: the objects Kubernetes would create from the same stream, as it is read here.

use super::{Failure, Output, ReportFormat, exit};
use crate::limits::{MAX_STREAM_BYTES, read_bounded};
use crate::postrender::{Linted, Options, Severity, lint};

/// A rendered stream from a file or stdin (`-`), bounded, as UTF-8 text, with the name
/// messages give it (`<stdin>` for `-`).
fn read_stream(path: &str) -> Result<(&str, String), Failure> {
    let label = if path == "-" { "<stdin>" } else { path };
    let bytes = if path == "-" {
        super::stdin_prompt();
        read_bounded(std::io::stdin(), MAX_STREAM_BYTES)
    } else {
        std::fs::File::open(path).and_then(|f| read_bounded(f, MAX_STREAM_BYTES))
    }
    .map_err(|e| Failure::failed(format!("{label}: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        Failure::failed(format!(
            "{label}: not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    Ok((label, text))
}

/// Every finding, and the summary line for stderr (`lint: N objects, M problems`); exit 1 when
/// post-render would refuse the stream.
pub fn run(
    path: &str,
    options: &Options,
    format: ReportFormat,
) -> Result<(Output, String), Failure> {
    let (label, text) = read_stream(path)?;
    let Linted { objects, findings } = match lint(&text, options) {
        Ok(l) => l,
        // The stream as a whole is unreadable: that is the one finding, and no object.
        Err(e) => Linted {
            objects: 0,
            findings: e.findings,
        },
    };
    let summary = summary(objects, findings.len());
    let code = if findings.iter().any(|f| f.severity == Severity::Error) {
        exit::FAILED
    } else {
        exit::OK
    };
    let out = match format {
        ReportFormat::Json => super::json_text(&findings)?,
        ReportFormat::Text => findings
            .iter()
            .map(|f| format!("{}\n", f.located(label)))
            .collect(),
    };
    Ok((Output::ok(out).with_code(code), summary))
}

/// `lint: N objects, M problems`: the objects Kubernetes would create from the stream and the
/// findings listed (errors and warnings), singular for one.
pub fn summary(objects: usize, problems: usize) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!(
        "lint: {}, {}\n",
        plural(objects, "object"),
        plural(problems, "problem")
    )
}

/// The objects Kubernetes would create from the stream, one `KIND NAMESPACE NAME` line each
/// (`-` for none), or with `-o json` each with the paths of its pod specs. Exit 1, nothing on
/// stdout, when a document cannot be placed exactly (the post-renderer refuses it too).
pub fn inventory(path: &str, format: ReportFormat) -> Result<Output, Failure> {
    let (label, text) = read_stream(path)?;
    let entries = crate::postrender::inventory(&text)
        .map_err(|e| Failure::failed(format!("{label}: cannot place every object:\n{e}")))?;
    let out = match format {
        ReportFormat::Json => super::json_text(&entries)?,
        ReportFormat::Text => entries
            .iter()
            .map(|e| format!("{}\n", e.identity))
            .collect(),
    };
    Ok(Output::ok(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_counts_with_plurals() {
        struct Case {
            objects: usize,
            problems: usize,
            line: &'static str,
        }
        for Case {
            objects,
            problems,
            line,
        } in [
            Case {
                objects: 0,
                problems: 1,
                line: "lint: 0 objects, 1 problem\n",
            },
            Case {
                objects: 1,
                problems: 0,
                line: "lint: 1 object, 0 problems\n",
            },
            Case {
                objects: 12,
                problems: 3,
                line: "lint: 12 objects, 3 problems\n",
            },
        ] {
            assert_eq!(summary(objects, problems), line);
        }
    }
}
