//! `plan`: workers and resources for a load, from the sizing rules of the spec.

use super::output::report_format;
use super::{Failure, Output, ReportFormat, exit, json_text};

fn positive_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err(format!(
            "`{s}` is not a positive number of requests per second"
        )),
    }
}

/// Suggest workers and resources for a load.   e.g. locust-planton plan --users 20000 --rps 15000
#[derive(clap::Args, Clone)]
#[command(
    after_help = exit::help(
        "Examples:\n  locust-planton plan --users 5000\n  locust-planton plan --users 20000 --rps 15000 -o json",
        &[(exit::OK, "ok"), (exit::USAGE, "usage error")],
    )
)]
pub struct PlanArgs {
    /// Concurrent users to simulate (at least 1).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub users: u64,
    /// Target requests per second (more than 0).
    #[arg(long, value_name = "R", value_parser = positive_rate)]
    pub rps: Option<f64>,
    /// Output format.
    #[arg(short = 'o', long = "output", value_name = "text|json", value_parser = report_format, default_value = "text")]
    pub output: ReportFormat,
}

/// `plan`: workers and resources for a load; JSON gives the numbers and the spec fragment.
pub fn run(a: &PlanArgs) -> Result<Output, Failure> {
    let (users, rps, format) = (a.users, a.rps, a.output);
    let text = crate::spec::sizing::plan(users, rps);
    if format == ReportFormat::Text {
        return Ok(Output::ok(text));
    }
    let fragment: String = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    let spec = crate::yaml::parse_single(&fragment)
        .map_err(|e| Failure::failed(format!("plan: {}", e.message)))?;
    let v = serde_json::json!({"users": users, "rps": rps, "manifest": spec.to_json()});
    Ok(Output::ok(json_text(&v)?))
}
