//! `check`: every problem in a manifest, one per line (or JSON), exit 1 when any is an error;
//! a valid manifest gets a summary line for stderr (`FILE: valid, N warnings`).

use super::output::report_format;
use super::{Failure, Output, ReportFormat, SpecFile, exit, read_input};

/// Validate a manifest and list every problem.   e.g. locust-planton check -f test.yaml
#[derive(clap::Args, Clone)]
#[command(
    after_help = exit::help(
        "Examples:\n  locust-planton check -f examples/checkout.yaml\n  locust-planton check -f - -o json < test.yaml\n\n\
    Prints `FILE:LINE:COL: field.path: message` per problem (warnings say `warning:`), YAML syntax\n\
    errors as `FILE:LINE:COL: invalid YAML: ...`; a valid manifest ends with `FILE: valid` (or\n\
    `FILE: valid, N warnings`) on stderr (`<stdin>` for -f -; not with -q).",
        &[(exit::OK, "valid (warnings allowed)"), (exit::FAILED, "invalid"), (exit::USAGE, "usage error")],
    )
)]
pub struct CheckArgs {
    #[command(flatten)]
    pub spec: SpecFile,
    /// Output format.
    #[arg(short = 'o', long = "output", value_name = "text|json", value_parser = report_format, default_value = "text")]
    pub output: ReportFormat,
}

/// Every finding, and the summary line for stderr (empty when the manifest is invalid: the
/// errors say it); exit 1 when any is an error.
pub fn run(path: &str, format: ReportFormat) -> Result<(Output, String), Failure> {
    let input = read_input(path)?;
    // A valid spec is also synthesized and checked as `install` would check it, so `check`
    // fails on everything `install` would refuse.
    let findings = match crate::spec::read(&input.text) {
        Ok((spec, mut findings)) => {
            let s = crate::values::synthesize(&spec);
            findings.items.extend(s.findings.items.iter().cloned());
            findings
                .items
                .extend(crate::postrender::preflight::findings(&s.values, &spec.helm_values).items);
            // What `local` refuses the cluster takes: a warning, from `local`'s own list (pod
            // paths with `..` are warned about above, at the same key, by the values).
            for r in crate::local::spec_pods(&spec, &s, false).2 {
                if r.command {
                    findings.warn(r.by, format!("local would refuse: {}", r.line));
                }
            }
            findings
        }
        Err(findings) => findings,
    };
    let mut findings = findings;
    super::locate(&mut findings, &input.text);
    let (code, summary) = if findings.has_errors() {
        (exit::FAILED, String::new())
    } else {
        (exit::OK, summary(&input.label, findings.warnings().count()))
    };
    let out = match format {
        ReportFormat::Text => findings.render(&input.label),
        ReportFormat::Json => super::json_text(&findings.to_json(&input.label))?,
    };
    Ok((Output::ok(out).with_code(code), summary))
}

/// `FILE: valid`, `FILE: valid, 1 warning`, `FILE: valid, N warnings`.
pub fn summary(label: &str, warnings: usize) -> String {
    match warnings {
        0 => format!("{label}: valid\n"),
        1 => format!("{label}: valid, 1 warning\n"),
        n => format!("{label}: valid, {n} warnings\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_says_valid_and_counts_warnings() {
        struct Case {
            label: &'static str,
            warnings: usize,
            line: &'static str,
        }
        for Case {
            label,
            warnings,
            line,
        } in [
            Case {
                label: "a.yaml",
                warnings: 0,
                line: "a.yaml: valid\n",
            },
            Case {
                label: "<stdin>",
                warnings: 1,
                line: "<stdin>: valid, 1 warning\n",
            },
            Case {
                label: "dir/b.yaml",
                warnings: 2,
                line: "dir/b.yaml: valid, 2 warnings\n",
            },
        ] {
            assert_eq!(summary(label, warnings), line);
        }
    }
}
