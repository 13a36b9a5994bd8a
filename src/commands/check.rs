//! `check`: every problem in a manifest, one per line (or JSON), exit 1 when any is an error.

use super::{Failure, Output, ReportFormat, exit, read_input};

/// Every finding; exit 1 when any is an error.
pub fn run(path: &str, format: ReportFormat) -> Result<Output, Failure> {
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
    let code = if findings.has_errors() {
        exit::FAILED
    } else {
        exit::OK
    };
    let out = match format {
        ReportFormat::Text => findings.render(&input.label),
        ReportFormat::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&findings.to_json(&input.label)).unwrap()
        ),
    };
    Ok(Output::ok(out).with_code(code))
}
