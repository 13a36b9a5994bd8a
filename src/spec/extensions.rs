//! Extension fields: what users need beyond the Planton API, documented in docs/spec.md
//! "Extension fields". Each is optional; every other unknown field stays an error.
//!
//! - `spec.loadTest.run`: a headless run with a completion status;
//! - `spec.loadTest.locustVersion`: the Locust release every container runs;
//! - `spec.loadTest.openTelemetry`: Locust's OpenTelemetry export (`--otel`);
//! - `spec.metrics.prometheus.enabled`: a Locust exporter and a ServiceMonitor;
//! - `spec.networkPolicy`: fences master and workers;
//! - `spec.workerContainer.spot`: workers on spot nodes.

use super::reader::{Fields, fields};
use crate::diag::Findings;
pub use crate::results::baseline::Tolerances;
use crate::yaml::Node;

#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    pub users: u64,
    pub spawn_rate: f64,
    pub run_time: String,
    pub tags: Vec<String>,
    pub exclude_tags: Vec<String>,
    /// Locust processes per worker pod (`--processes`).
    pub processes: u32,
    /// Limits on the run's aggregated statistics; one missed fails the run.
    pub thresholds: Thresholds,
    /// How much worse than a baseline run this run may be (`--baseline`); `None`: the defaults.
    pub baseline: Option<Tolerances>,
    /// Judge the thresholds live after the warm-up and stop the run at the first breach.
    pub abort_early: bool,
    /// Seconds of the run before live thresholds count (`warmUp`, default 30s).
    pub warm_up_seconds: u64,
}

/// `warmUp` when `abortEarly` is set without one.
pub const DEFAULT_WARM_UP_SECONDS: u64 = 30;

/// Percentiles Locust reports in its statistics (`--csv`, the HTML report), as spelled in the
/// `maxPercentileResponseTimeMs` keys and in Locust's CSV column names (with `%`).
pub const PERCENTILES: &[&str] = &[
    "50", "66", "75", "80", "90", "95", "98", "99", "99.9", "99.99", "100",
];

/// `spec.loadTest.run.thresholds`, judged on Locust's aggregated statistics (every request name
/// together) at the end of the run. Empty when none is set.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Thresholds {
    pub max_fail_ratio: Option<f64>,
    pub max_avg_response_time_ms: Option<f64>,
    /// Percentile (a [`PERCENTILES`] entry) → milliseconds, in document order.
    pub max_percentile_response_time_ms: Vec<(String, f64)>,
    pub min_rps: Option<f64>,
}

impl Thresholds {
    pub fn is_empty(&self) -> bool {
        *self == Thresholds::default()
    }

    /// The JSON the run wrapper reads (docs/operations.md "Thresholds"): the spec's names.
    pub fn to_json(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        if let Some(v) = self.max_fail_ratio {
            m.insert("maxFailRatio".into(), serde_json::json!(v));
        }
        if let Some(v) = self.max_avg_response_time_ms {
            m.insert("maxAvgResponseTimeMs".into(), serde_json::json!(v));
        }
        if !self.max_percentile_response_time_ms.is_empty() {
            let p: serde_json::Map<String, serde_json::Value> = self
                .max_percentile_response_time_ms
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::json!(v)))
                .collect();
            m.insert(
                "maxPercentileResponseTimeMs".into(),
                serde_json::Value::Object(p),
            );
        }
        if let Some(v) = self.min_rps {
            m.insert("minRps".into(), serde_json::json!(v));
        }
        serde_json::Value::Object(m)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkPolicy {
    /// Namespaces whose pods may open the web UI (8089); empty: only this namespace.
    pub web_ui_from_namespaces: Vec<String>,
    /// Where workers may send load; empty: anywhere.
    pub target_cidrs: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Spot {
    Gke,
    Eks,
    Aks,
    /// A node label (and taint of the same key and value) marking spot nodes.
    Generic {
        key: String,
        value: String,
    },
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Extensions {
    pub run: Option<Run>,
    /// The Locust release (`X.Y.Z`) of the image every Locust container runs.
    pub locust_version: Option<String>,
    pub open_telemetry: Option<OpenTelemetry>,
    pub prometheus: bool,
    pub network_policy: Option<NetworkPolicy>,
    pub spot: Option<Spot>,
}

/// The extension fields of `spec.loadTest`.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct LoadTestExtensions {
    pub run: Option<Run>,
    pub locust_version: Option<String>,
    pub open_telemetry: Option<OpenTelemetry>,
}

/// `run`, `locustVersion` and `openTelemetry` of `spec.loadTest` (`f`).
pub fn read_load_test_extensions(f: &Fields, d: &mut Findings) -> LoadTestExtensions {
    LoadTestExtensions {
        run: f.node("run").and_then(|n| read_run(n, &f.path("run"), d)),
        locust_version: read_locust_version(f, d),
        open_telemetry: f
            .node("openTelemetry")
            .and_then(|n| super::otel::read(n, &f.path("openTelemetry"), d)),
    }
}

pub use super::otel::OpenTelemetry;

pub fn read_run(node: &Node, path: &str, d: &mut Findings) -> Option<Run> {
    let f = fields(
        node,
        path,
        &[
            "users",
            "spawnRate",
            "runTime",
            "tags",
            "excludeTags",
            "processes",
            "thresholds",
            "baseline",
            "abortEarly",
            "warmUp",
        ],
        &[],
        d,
    )?;
    let users = read_users(&f, d);
    let spawn_rate = read_spawn_rate(&f, users, d);
    let run_time = read_run_time(&f, d);
    let tags = read_tags(&f, "tags", d);
    let exclude_tags = read_tags(&f, "excludeTags", d);
    let processes = read_processes(&f, d);
    let thresholds = f
        .node("thresholds")
        .map(|n| read_thresholds(n, &f.path("thresholds"), d))
        .unwrap_or_default();
    let baseline = f
        .node("baseline")
        .map(|n| read_baseline(n, &f.path("baseline"), d));
    let abort_early = f.bool("abortEarly", d).unwrap_or(false);
    let warm_up_seconds = read_warm_up(&f, d);
    if abort_early && thresholds.is_empty() {
        d.error(
            f.path("abortEarly"),
            "needs thresholds to judge live: set spec.loadTest.run.thresholds",
        );
    }
    Some(Run {
        users,
        spawn_rate,
        run_time,
        tags,
        exclude_tags,
        processes,
        thresholds,
        baseline,
        abort_early,
        warm_up_seconds,
    })
}

/// `warmUp`: a duration; thresholds are not judged live before it has passed.
fn read_warm_up(f: &Fields, d: &mut Findings) -> u64 {
    match f.string("warmUp", d) {
        None => DEFAULT_WARM_UP_SECONDS,
        Some(t) => crate::duration::parse(&t).unwrap_or_else(|e| {
            d.error(f.path("warmUp"), e);
            DEFAULT_WARM_UP_SECONDS
        }),
    }
}

/// `baseline`: how much worse than a baseline run each metric may be, relative for response
/// times and requests/s (0.2 = 20 %), absolute for the fail ratio. Only the metrics named are
/// compared.
fn read_baseline(node: &crate::yaml::Node, path: &str, d: &mut Findings) -> Tolerances {
    let Some(f) = fields(
        node,
        path,
        &[
            "avgResponseTimeIncrease",
            "percentileResponseTimeIncrease",
            "rpsDecrease",
            "failRatioIncrease",
        ],
        &[],
        d,
    ) else {
        return Tolerances::default();
    };
    let one = |name: &str, max: Option<f64>, d: &mut Findings| {
        f.node(name).and_then(|n| limit(n, &f.path(name), max, d))
    };
    let avg_response_time_increase = one("avgResponseTimeIncrease", None, d);
    let rps_decrease = one("rpsDecrease", Some(1.0), d);
    let fail_ratio_increase = one("failRatioIncrease", Some(1.0), d);
    let percentile_response_time_increase = f
        .node("percentileResponseTimeIncrease")
        .map(|n| {
            read_percentiles(
                n,
                &f.path("percentileResponseTimeIncrease"),
                "fractions (`\"95\": 0.2`)",
                d,
            )
        })
        .unwrap_or_default();
    Tolerances {
        avg_response_time_increase,
        percentile_response_time_increase,
        rps_decrease,
        fail_ratio_increase,
    }
}

/// A mapping of Locust percentiles to numbers (0 or more), in document order.
fn read_percentiles(
    n: &crate::yaml::Node,
    p: &str,
    what: &str,
    d: &mut Findings,
) -> Vec<(String, f64)> {
    let mut percentiles = Vec::new();
    match n.as_map() {
        None => d.error(
            p,
            format!(
                "must be a mapping of percentiles to {what}, got {}",
                n.type_name()
            ),
        ),
        Some(m) => {
            for (k, v) in m.iter() {
                let key = k.key_text();
                let kp = crate::diag::join(p, &key);
                if !PERCENTILES.contains(&key.as_str()) {
                    d.error(
                        &kp,
                        format!(
                            "`{key}` is not a percentile Locust reports; use one of {}",
                            PERCENTILES.join(", ")
                        ),
                    );
                    continue;
                }
                if let Some(x) = limit(v, &kp, None, d) {
                    percentiles.push((key, x));
                }
            }
        }
    }
    percentiles
}

/// `users`, 1 in place of a wrong value so the rest of the run can still be checked.
fn read_users(f: &Fields, d: &mut Findings) -> u64 {
    match f.int("users", d) {
        Some(u) if u >= 1 => u as u64,
        Some(u) => {
            d.error(f.path("users"), format!("must be at least 1, got {u}"));
            1
        }
        None => {
            if f.node("users").is_none() {
                d.error(f.path("users"), "required for a headless run");
            }
            1
        }
    }
}

/// `spawnRate`; without it all `users` start in the first second. 0 is read as written: what
/// Locust does with it depends on the release (`super::locust_versions` refuses it).
fn read_spawn_rate(f: &Fields, users: u64, d: &mut Findings) -> f64 {
    match f.node("spawnRate") {
        None => users as f64,
        Some(n) => match n.resolved() {
            Some(crate::yaml::Resolved::Int(i)) if i >= 0 => i as f64,
            Some(crate::yaml::Resolved::Float(x)) if x >= 0.0 && x.is_finite() => x,
            _ => {
                d.error(
                    f.path("spawnRate"),
                    "must be a number above 0 (users started per second)",
                );
                1.0
            }
        },
    }
}

fn read_run_time(f: &Fields, d: &mut Findings) -> String {
    match f.string("runTime", d) {
        Some(t) => {
            if let Err(e) = crate::duration::parse(&t) {
                d.error(f.path("runTime"), e);
            }
            t
        }
        None => {
            if f.node("runTime").is_none() {
                d.error(
                    f.path("runTime"),
                    "required: a headless run must end (`30s`, `5m`, `1h30m`)",
                );
            }
            String::new()
        }
    }
}

/// A list of Locust tags; the ones Locust's argument parser would misread are dropped.
fn read_tags(f: &Fields, name: &str, d: &mut Findings) -> Vec<String> {
    f.string_list(name, d)
        .into_iter()
        .filter_map(|(p, t)| {
            if t.is_empty() || t.starts_with('-') || t.contains(char::is_whitespace) {
                d.error(
                    p,
                    format!("`{t}` is not a tag (no spaces, not starting with `-`)"),
                );
                None
            } else {
                Some(t)
            }
        })
        .collect()
}

fn read_processes(f: &Fields, d: &mut Findings) -> u32 {
    match f.int("processes", d) {
        None => 1,
        Some(p) if (1..=256).contains(&p) => p as u32,
        Some(p) => {
            d.error(
                f.path("processes"),
                format!("must be between 1 and 256, got {p}"),
            );
            1
        }
    }
}

/// A number (integer or float, not a string) at least 0, and at most `max` when given.
fn limit(node: &crate::yaml::Node, path: &str, max: Option<f64>, d: &mut Findings) -> Option<f64> {
    let value = match node.resolved() {
        Some(crate::yaml::Resolved::Int(i)) => Some(i as f64),
        Some(crate::yaml::Resolved::Float(x)) if x.is_finite() => Some(x),
        _ => None,
    };
    let range = match max {
        Some(m) => format!("a number from 0 to {m}"),
        None => "a number, 0 or more".to_string(),
    };
    match value {
        Some(v) if v >= 0.0 && max.is_none_or(|m| v <= m) => Some(v),
        _ => {
            let got = match (node.as_str(), node.as_scalar()) {
                (Some(text), _) => format!("the string \"{text}\"; write the number unquoted"),
                (None, Some(s)) => format!("`{}`", s.text),
                (None, None) => node.type_name().to_string(),
            };
            d.error(path, format!("must be {range}, got {got}"));
            None
        }
    }
}

fn read_thresholds(node: &crate::yaml::Node, path: &str, d: &mut Findings) -> Thresholds {
    let Some(f) = fields(
        node,
        path,
        &[
            "maxFailRatio",
            "maxAvgResponseTimeMs",
            "maxPercentileResponseTimeMs",
            "minRps",
        ],
        &[],
        d,
    ) else {
        return Thresholds::default();
    };
    let one = |name: &str, max: Option<f64>, d: &mut Findings| {
        f.node(name).and_then(|n| limit(n, &f.path(name), max, d))
    };
    let max_fail_ratio = one("maxFailRatio", Some(1.0), d);
    let max_avg_response_time_ms = one("maxAvgResponseTimeMs", None, d);
    let min_rps = one("minRps", None, d);
    let percentiles = f
        .node("maxPercentileResponseTimeMs")
        .map(|n| {
            read_percentiles(
                n,
                &f.path("maxPercentileResponseTimeMs"),
                "milliseconds (`\"95\": 800`)",
                d,
            )
        })
        .unwrap_or_default();
    Thresholds {
        max_fail_ratio,
        max_avg_response_time_ms,
        max_percentile_response_time_ms: percentiles,
        min_rps,
    }
}

/// A release number `X.Y.Z` (digits only, no leading zeros but `0`): what Locust publishes and
/// `locustio/locust` tags.
pub fn valid_release(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.len() <= 6
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p == &"0" || !p.starts_with('0'))
        })
}

/// `X.Y.Z` as numbers, for ordering releases.
pub fn release_key(s: &str) -> Option<(u32, u32, u32)> {
    if !valid_release(s) {
        return None;
    }
    let mut it = s.split('.').map(|p| p.parse::<u32>().ok());
    Some((it.next()??, it.next()??, it.next()??))
}

pub fn read_locust_version(f: &Fields, d: &mut Findings) -> Option<String> {
    let v = f.string("locustVersion", d)?;
    if valid_release(&v) {
        Some(v)
    } else {
        d.error(
            f.path("locustVersion"),
            format!("`{v}` is not a Locust release such as `2.32.2` (X.Y.Z, as on PyPI and the locustio/locust tags)"),
        );
        None
    }
}

pub fn read_metrics(node: &Node, d: &mut Findings) -> bool {
    let Some(f) = fields(node, "spec.metrics", &["prometheus"], &[], d) else {
        return false;
    };
    let Some(p) = f.node("prometheus") else {
        return false;
    };
    let Some(p) = fields(p, "spec.metrics.prometheus", &["enabled"], &[], d) else {
        return false;
    };
    p.bool("enabled", d).unwrap_or(false)
}

pub fn read_network_policy(node: &Node, d: &mut Findings) -> Option<NetworkPolicy> {
    let f = fields(
        node,
        "spec.networkPolicy",
        &["enabled", "webUiFromNamespaces", "targetCidrs"],
        &[],
        d,
    )?;
    let namespaces: Vec<String> = f
        .string_list("webUiFromNamespaces", d)
        .into_iter()
        .filter_map(|(p, n)| match super::rules::dns_label(&n) {
            Ok(()) => Some(n),
            Err(e) => {
                d.error(p, e);
                None
            }
        })
        .collect();
    let cidrs: Vec<String> = f
        .string_list("targetCidrs", d)
        .into_iter()
        .filter_map(|(p, c)| {
            if valid_cidr(&c) {
                Some(c)
            } else {
                d.error(
                    p,
                    format!("`{c}` is not a CIDR such as `10.0.0.0/8` or `2001:db8::/32`"),
                );
                None
            }
        })
        .collect();
    f.bool("enabled", d)
        .unwrap_or(false)
        .then_some(NetworkPolicy {
            web_ui_from_namespaces: namespaces,
            target_cidrs: cidrs,
        })
}

fn valid_cidr(s: &str) -> bool {
    let Some((ip, bits)) = s.split_once('/') else {
        return false;
    };
    match (ip.parse::<std::net::IpAddr>(), bits.parse::<u8>()) {
        (Ok(std::net::IpAddr::V4(_)), Ok(b)) => b <= 32,
        (Ok(std::net::IpAddr::V6(_)), Ok(b)) => b <= 128,
        _ => false,
    }
}

pub fn read_spot(f: &Fields, d: &mut Findings) -> Option<Spot> {
    let node = f.node("spot")?;
    let path = f.path("spot");
    let s = fields(node, &path, &["provider", "key", "value"], &[], d)?;
    let provider = s.string("provider", d);
    let spot = match provider.as_deref() {
        Some("gke") => Spot::Gke,
        Some("eks") => Spot::Eks,
        Some("aks") => Spot::Aks,
        Some("generic") => match (s.string("key", d), s.string("value", d)) {
            (Some(key), Some(value)) if !key.is_empty() && !value.is_empty() => {
                Spot::Generic { key, value }
            }
            _ => {
                d.error(&path, "provider `generic` needs `key` and `value`: the node label (and taint) marking spot nodes");
                return None;
            }
        },
        Some(other) => {
            d.error(
                s.path("provider"),
                format!("must be `gke`, `eks`, `aks` or `generic`, got `{other}`"),
            );
            return None;
        }
        None => {
            d.error(
                s.path("provider"),
                "required: `gke`, `eks`, `aks` or `generic`",
            );
            return None;
        }
    };
    if !matches!(spot, Spot::Generic { .. })
        && (s.node("key").is_some() || s.node("value").is_some())
    {
        d.error(&path, "`key` and `value` apply to provider `generic` only");
    }
    Some(spot)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases() {
        for ok in ["2.32.2", "2.37.0", "0.0.1", "10.20.30"] {
            assert!(valid_release(ok), "{ok}");
        }
        for bad in [
            "",
            "2.37",
            "2.37.0.1",
            "v2.37.0",
            "2.37.0rc1",
            "2.037.0",
            "latest",
            "2..0",
            "2.37.0 ",
        ] {
            assert!(!valid_release(bad), "{bad}");
        }
        assert!(release_key("2.9.0") < release_key("2.32.2"));
        assert!(release_key("2.37.0") > release_key("2.32.2"));
    }

    #[test]
    fn cidrs() {
        assert!(valid_cidr("10.0.0.0/8") && valid_cidr("2001:db8::/32"));
        assert!(!valid_cidr("10.0.0.0") && !valid_cidr("10.0.0.0/33") && !valid_cidr("x/8"));
    }
}
