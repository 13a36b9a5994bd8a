//! `lint`: every finding the post-renderer would make on a rendered stream (errors and
//! warnings), without writing a manifest. Exit 1 when `post-render` would refuse the stream.
//! `inventory`: the objects Kubernetes would create from the same stream, as it is read here.

use super::output::report_format;
use super::post_render::ProfileArgs;
use super::{Failure, Output, ReportFormat, exit};

/// Every problem the post-renderer would find in a rendered stream, at once.   e.g. helm template x chart | locust-planton lint
#[derive(clap::Args, Clone)]
#[command(
    after_help = exit::help(
        "Examples:\n  helm template prom prometheus-community/prometheus | locust-planton lint\n  \
    locust-planton lint -f manifests.yaml -o json | jq '.[] | select(.optOut) | .optOut'\n\n\
    Prints one line per finding (document, source, object, field, reason, the opt-out that allows it);\n\
    warnings say `warning:` (e.g. a ServiceAccount a RoleBinding binds keeps its token). Writes no manifest.\n\
    -o json: an array of {document, line, column (YAML syntax errors), source, kind, name, namespace, field, rule, message, severity, optOut}.\n\
    Setting every optOut listed (value \"true\") on its object makes post-render pass.\n\
    Ends with `lint: N objects, M problems` on stderr (N: objects Kubernetes would create, M: findings listed; not with -q).",
        &[(exit::OK, "post-render would pass"), (exit::FAILED, "it would refuse"), (exit::USAGE, "usage error")],
    )
)]
pub struct LintArgs {
    /// The rendered stream (`-`: stdin).
    #[arg(short = 'f', long = "file", value_name = "FILE", default_value = "-")]
    pub file: String,
    /// Output format.
    #[arg(short = 'o', long = "output", value_name = "text|json", value_parser = report_format, default_value = "text")]
    pub output: ReportFormat,
    #[command(flatten)]
    pub profile: ProfileArgs,
}

/// The objects Kubernetes would create from a rendered stream.   e.g. helm template x chart | locust-planton inventory
#[derive(clap::Args, Clone)]
#[command(
    after_help = exit::help(
        "Examples:\n  helm template load chart -f values.yaml | locust-planton inventory\n  \
    locust-planton inventory -f manifests.yaml -o json | jq '.[] | select(.podSpecs != [])'\n\n\
    Prints one `KIND NAMESPACE NAME` line per object (`-`: not set), read as Kubernetes reads the stream:\n\
    split at its separator lines, the items of any list created and the list dropped.\n\
    -o json: an array of {kind, namespace, name, podSpecs} (podSpecs: paths of the pod templates).\n\
    A document Kubernetes would read differently than a plain object (an `items` field in a kind\n\
    that is not a list, a list inside a list, a kindless list item) is refused, as post-render refuses it.",
        &[(exit::OK, "ok"), (exit::FAILED, "a document cannot be placed"), (exit::USAGE, "usage error")],
    )
)]
pub struct InventoryArgs {
    /// The rendered stream (`-`: stdin).
    #[arg(short = 'f', long = "file", value_name = "FILE", default_value = "-")]
    pub file: String,
    /// Output format.
    #[arg(short = 'o', long = "output", value_name = "text|json", value_parser = report_format, default_value = "text")]
    pub output: ReportFormat,
}
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
