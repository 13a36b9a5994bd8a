//! A run compared with a baseline run (`--baseline FILE|last`): per request name and in total,
//! each metric within its tolerance (`spec.loadTest.run.baseline`): relative for response times
//! and requests/s, absolute for the fail ratio. What moved becomes a table, JUnit test cases,
//! and the `regressed` verdict.

use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// How much worse than the baseline a run may be before it has regressed.
#[derive(Clone, Debug, PartialEq)]
pub struct Tolerances {
    /// Average response time may grow by this fraction (0.2: 20 % slower).
    pub avg_response_time_increase: Option<f64>,
    /// Percentile (as Locust names it, `95`) → the fraction it may grow by, in document order.
    pub percentile_response_time_increase: Vec<(String, f64)>,
    /// Requests/s may fall by this fraction.
    pub rps_decrease: Option<f64>,
    /// The fail ratio may rise by this much (0.01: one percentage point).
    pub fail_ratio_increase: Option<f64>,
}

impl Default for Tolerances {
    /// Used when the spec sets no `baseline`: 20 % on the average, p95 and requests/s, one
    /// percentage point of failures.
    fn default() -> Self {
        Tolerances {
            avg_response_time_increase: Some(0.2),
            percentile_response_time_increase: vec![("95".into(), 0.2)],
            rps_decrease: Some(0.2),
            fail_ratio_increase: Some(0.01),
        }
    }
}

impl Tolerances {
    /// The spec's spelling (`spec.loadTest.run.baseline`), as the run wrapper records it in
    /// `summary.json` (`baselineTolerances`).
    pub fn to_json(&self) -> Value {
        let mut m = serde_json::Map::new();
        if let Some(v) = self.avg_response_time_increase {
            m.insert("avgResponseTimeIncrease".into(), json!(v));
        }
        if !self.percentile_response_time_increase.is_empty() {
            let p: serde_json::Map<String, Value> = self
                .percentile_response_time_increase
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect();
            m.insert("percentileResponseTimeIncrease".into(), Value::Object(p));
        }
        if let Some(v) = self.rps_decrease {
            m.insert("rpsDecrease".into(), json!(v));
        }
        if let Some(v) = self.fail_ratio_increase {
            m.insert("failRatioIncrease".into(), json!(v));
        }
        Value::Object(m)
    }

    /// Read back from [`Tolerances::to_json`]; `None` (no object) gives the defaults.
    pub fn from_json(v: &Value) -> Tolerances {
        let Some(m) = v.as_object() else {
            return Tolerances::default();
        };
        Tolerances {
            avg_response_time_increase: m.get("avgResponseTimeIncrease").and_then(Value::as_f64),
            percentile_response_time_increase: m
                .get("percentileResponseTimeIncrease")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| Some((k.clone(), v.as_f64()?)))
                .collect(),
            rps_decrease: m.get("rpsDecrease").and_then(Value::as_f64),
            fail_ratio_increase: m.get("failRatioIncrease").and_then(Value::as_f64),
        }
    }
}

/// Which way a metric gets worse, and how its change is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Response times: worse when higher, by a fraction of the baseline.
    RelativeIncrease,
    /// Requests/s: worse when lower, by a fraction of the baseline.
    RelativeDecrease,
    /// Fail ratio: worse when higher, by an absolute amount.
    AbsoluteIncrease,
}

/// One metric of one scope (`Aggregated` or `METHOD name`) compared.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub scope: String,
    pub metric: String,
    pub baseline: f64,
    pub current: f64,
    /// The change in the metric's own measure (a fraction, or absolute for the fail ratio);
    /// positive is worse.
    pub worse_by: f64,
    pub tolerance: f64,
    pub direction: Direction,
    pub regressed: bool,
}

/// How much worse `current` is than `baseline`, positive when worse (`f64::INFINITY` for a
/// response time that appeared from 0).
pub fn worse_by(direction: Direction, baseline: f64, current: f64) -> f64 {
    match direction {
        Direction::AbsoluteIncrease => current - baseline,
        Direction::RelativeIncrease if baseline > 0.0 => current / baseline - 1.0,
        Direction::RelativeIncrease if current > 0.0 => f64::INFINITY,
        Direction::RelativeDecrease if baseline > 0.0 => 1.0 - current / baseline,
        _ => 0.0,
    }
}

/// Rounding noise (a CSV's printed digits) never makes a regression.
const EPSILON: f64 = 1e-9;

fn row(
    scope: &str,
    metric: &str,
    direction: Direction,
    (baseline, current): (Option<f64>, Option<f64>),
    tolerance: f64,
) -> Option<Row> {
    let (baseline, current) = (baseline?, current?);
    let worse = worse_by(direction, baseline, current);
    Some(Row {
        scope: scope.to_string(),
        metric: metric.to_string(),
        baseline,
        current,
        worse_by: worse,
        tolerance,
        direction,
        regressed: worse > tolerance + EPSILON,
    })
}

/// The rows of one scope: `entry` holds the totals' fields, `percentiles` Locust's percentiles.
fn scope_rows(
    scope: &str,
    (base, base_p): (&Value, &Value),
    (cur, cur_p): (&Value, &Value),
    t: &Tolerances,
) -> Vec<Row> {
    let both = |k: &str| (base[k].as_f64(), cur[k].as_f64());
    let mut rows = Vec::new();
    if let Some(tol) = t.avg_response_time_increase {
        rows.extend(row(
            scope,
            "avgResponseTimeMs",
            Direction::RelativeIncrease,
            both("avgResponseTimeMs"),
            tol,
        ));
    }
    for (p, tol) in &t.percentile_response_time_increase {
        rows.extend(row(
            scope,
            &format!("percentileResponseTimeMs[{p}]"),
            Direction::RelativeIncrease,
            (base_p[p].as_f64(), cur_p[p].as_f64()),
            *tol,
        ));
    }
    if let Some(tol) = t.rps_decrease {
        rows.extend(row(
            scope,
            "rps",
            Direction::RelativeDecrease,
            both("rps"),
            tol,
        ));
    }
    if let Some(tol) = t.fail_ratio_increase {
        rows.extend(row(
            scope,
            "failRatio",
            Direction::AbsoluteIncrease,
            both("failRatio"),
            tol,
        ));
    }
    rows
}

/// `METHOD name` of a per-request row of `summary.json`.
fn request_scope(r: &Value) -> String {
    format!(
        "{} {}",
        r["method"].as_str().unwrap_or(""),
        r["name"].as_str().unwrap_or("")
    )
    .trim()
    .to_string()
}

fn made_requests(v: &Value) -> bool {
    v["requests"].as_u64().is_some_and(|n| n > 0)
}

/// A run compared with its baseline.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Comparison {
    /// Every metric compared, the total (`Aggregated`) first, then each request name.
    pub rows: Vec<Row>,
    /// Request names made in only one of the two runs (not compared).
    pub only_in_baseline: Vec<String>,
    pub only_in_current: Vec<String>,
}

impl Comparison {
    pub fn regressed(&self) -> bool {
        self.rows.iter().any(|r| r.regressed)
    }
}

/// Compares two `summary.json`s, in total and per request name.
pub fn compare(current: &Value, baseline: &Value, t: &Tolerances) -> Comparison {
    let mut c = Comparison::default();
    if made_requests(&current["totals"]) && made_requests(&baseline["totals"]) {
        c.rows = scope_rows(
            "Aggregated",
            (&baseline["totals"], &baseline["percentiles"]),
            (&current["totals"], &current["percentiles"]),
            t,
        );
    }
    let list = |s: &Value| -> Vec<Value> {
        s["requests"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| made_requests(r))
            .cloned()
            .collect()
    };
    let (base, cur) = (list(baseline), list(current));
    for r in &cur {
        let scope = request_scope(r);
        match base.iter().find(|b| request_scope(b) == scope) {
            Some(b) => c.rows.extend(scope_rows(
                &scope,
                (b, &b["percentiles"]),
                (r, &r["percentiles"]),
                t,
            )),
            None => c.only_in_current.push(scope),
        }
    }
    c.only_in_baseline = base
        .iter()
        .map(request_scope)
        .filter(|s| !cur.iter().any(|r| request_scope(r) == *s))
        .collect();
    c
}

fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else if x.abs() >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.4}")
    }
}

/// The change as the tolerance is written: `+35.2%` (relative) or `+0.0300` (absolute).
fn change_text(r: &Row) -> String {
    let signed = match r.direction {
        Direction::RelativeDecrease => -r.worse_by,
        _ => r.worse_by,
    };
    match r.direction {
        Direction::AbsoluteIncrease => format!("{signed:+.4}"),
        _ if signed.is_infinite() => "+inf%".into(),
        _ => format!("{:+.1}%", signed * 100.0),
    }
}

fn tolerance_text(r: &Row) -> String {
    match r.direction {
        Direction::AbsoluteIncrease => format!("+{}", number(r.tolerance)),
        Direction::RelativeIncrease => format!("+{}%", number(r.tolerance * 100.0)),
        Direction::RelativeDecrease => format!("-{}%", number(r.tolerance * 100.0)),
    }
}

/// One line per compared metric, as a JUnit message and in the table.
pub fn row_text(r: &Row) -> String {
    format!(
        "{} {}: {} -> {} ({}, tolerance {})",
        r.scope,
        r.metric,
        number(r.baseline),
        number(r.current),
        change_text(r),
        tolerance_text(r)
    )
}

/// The table `local`, `wait` and `report` print: every metric compared, what regressed marked.
pub fn table(c: &Comparison, against: &str) -> String {
    let mut out = format!("compared with {against}:\n");
    let header = [
        "",
        "scope",
        "metric",
        "baseline",
        "current",
        "change",
        "tolerance",
    ];
    let cells: Vec<[String; 7]> = c
        .rows
        .iter()
        .map(|r| {
            [
                if r.regressed { "REGRESSED" } else { "ok" }.to_string(),
                r.scope.clone(),
                r.metric.clone(),
                number(r.baseline),
                number(r.current),
                change_text(r),
                tolerance_text(r),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let line = |cells: &[String]| -> String {
        let joined: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        format!("  {}\n", joined.join("  ").trim_end())
    };
    out.push_str(&line(&header.map(String::from)));
    for row in &cells {
        out.push_str(&line(row));
    }
    if c.rows.is_empty() {
        out.push_str("  nothing to compare: no requests in common\n");
    }
    for s in &c.only_in_current {
        out.push_str(&format!("  new (not in the baseline): {s}\n"));
    }
    for s in &c.only_in_baseline {
        out.push_str(&format!("  gone (only in the baseline): {s}\n"));
    }
    out
}

/// What `summary.json` records under `baseline`.
pub fn to_json(c: &Comparison, against: &str) -> Value {
    json!({
        "against": against,
        "regressed": c.regressed(),
        "rows": c.rows.iter().map(|r| json!({
            "scope": r.scope,
            "metric": r.metric,
            "baseline": r.baseline,
            "current": r.current,
            "worseBy": if r.worse_by.is_finite() { json!(r.worse_by) } else { json!("inf") },
            "tolerance": r.tolerance,
            "regressed": r.regressed,
            "text": row_text(r),
        })).collect::<Vec<_>>(),
        "onlyInBaseline": c.only_in_baseline,
        "onlyInCurrent": c.only_in_current,
    })
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `junit` with a `baseline` test suite added (one test case per compared metric) and the
/// totals of `<testsuites>` raised to match.
pub fn junit_with(junit: &str, c: &Comparison, suite: &str) -> String {
    let failures = c.rows.iter().filter(|r| r.regressed).count();
    let name = escape(&format!("{suite} baseline"));
    let mut s = format!(
        "  <testsuite name=\"{name}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">\n",
        c.rows.len()
    );
    for r in &c.rows {
        let case = escape(&format!("{} {}", r.scope, r.metric));
        let text = escape(&row_text(r));
        s.push_str(&format!(
            "    <testcase classname=\"{name}\" name=\"{case}\">\n"
        ));
        if r.regressed {
            s.push_str(&format!(
                "      <failure message=\"{text}\" type=\"regressed\">{text}</failure>\n"
            ));
        } else {
            s.push_str(&format!("      <system-out>{text}</system-out>\n"));
        }
        s.push_str("    </testcase>\n");
    }
    s.push_str("  </testsuite>\n");
    let Some(end) = junit.rfind("</testsuites>") else {
        return junit.to_string();
    };
    let head = raise_totals(&junit[..end], c.rows.len(), failures);
    format!("{head}{s}{}", &junit[end..])
}

/// Adds to `tests="N"` and `failures="M"` of the first `<testsuites …>` tag.
fn raise_totals(xml: &str, tests: usize, failures: usize) -> String {
    let Some(start) = xml.find("<testsuites") else {
        return xml.to_string();
    };
    let end = xml[start..].find('>').map_or(xml.len(), |e| start + e);
    let mut tag = xml[start..end].to_string();
    for (attr, add) in [("tests", tests), ("failures", failures)] {
        let key = format!(" {attr}=\"");
        if let Some(i) = tag.find(&key) {
            let from = i + key.len();
            let to = tag[from..].find('"').map_or(tag.len(), |e| from + e);
            let n: usize = tag[from..to].parse().unwrap_or(0);
            tag.replace_range(from..to, &(n + add).to_string());
        }
    }
    format!("{}{tag}{}", &xml[..start], &xml[end..])
}

/// `--baseline FILE`: a `summary.json`, or a results folder holding one.
pub fn read(path: &Path) -> Result<Value, String> {
    let file = if path.is_dir() {
        path.join("summary.json")
    } else {
        path.to_path_buf()
    };
    let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: not a summary.json: {e}", file.display()))
}

/// `--baseline last`: the newest results folder directly under `under` (by the run's
/// `finishedAt`, then the folder's name) whose `summary.json` is of the run `name` with
/// verdict `passed`; `exclude` (this run's own folder) never counts.
pub fn find_last(under: &Path, name: &str, exclude: Option<&Path>) -> Option<PathBuf> {
    let mut best: Option<(String, String, PathBuf)> = None;
    for entry in std::fs::read_dir(under).ok()?.flatten() {
        let dir = entry.path();
        if exclude.is_some_and(|e| same_dir(e, &dir)) {
            continue;
        }
        let Some(s) = super::read_summary(&dir) else {
            continue;
        };
        if s["name"] != name || s["verdict"] != "passed" {
            continue;
        }
        let key = (
            s["run"]["finishedAt"].as_str().unwrap_or("").to_string(),
            entry.file_name().to_string_lossy().into_owned(),
        );
        if best
            .as_ref()
            .is_none_or(|(f, n, _)| (f, n) < (&key.0, &key.1))
        {
            best = Some((key.0, key.1, dir));
        }
    }
    best.map(|(_, _, dir)| dir)
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_direction_measures_worse_as_positive() {
        struct Case {
            direction: Direction,
            baseline: f64,
            current: f64,
            worse_by: f64,
        }
        let cases = [
            Case {
                direction: Direction::RelativeIncrease,
                baseline: 100.0,
                current: 150.0,
                worse_by: 0.5,
            },
            Case {
                direction: Direction::RelativeIncrease,
                baseline: 100.0,
                current: 80.0,
                worse_by: -0.2,
            },
            Case {
                direction: Direction::RelativeIncrease,
                baseline: 0.0,
                current: 3.0,
                worse_by: f64::INFINITY,
            },
            Case {
                direction: Direction::RelativeIncrease,
                baseline: 0.0,
                current: 0.0,
                worse_by: 0.0,
            },
            Case {
                direction: Direction::RelativeDecrease,
                baseline: 40.0,
                current: 30.0,
                worse_by: 0.25,
            },
            Case {
                direction: Direction::RelativeDecrease,
                baseline: 40.0,
                current: 50.0,
                worse_by: -0.25,
            },
            Case {
                direction: Direction::RelativeDecrease,
                baseline: 0.0,
                current: 5.0,
                worse_by: 0.0,
            },
            Case {
                direction: Direction::AbsoluteIncrease,
                baseline: 0.01,
                current: 0.05,
                worse_by: 0.04,
            },
            Case {
                direction: Direction::AbsoluteIncrease,
                baseline: 0.05,
                current: 0.0,
                worse_by: -0.05,
            },
        ];
        for c in cases {
            let got = worse_by(c.direction, c.baseline, c.current);
            assert!(
                got == c.worse_by || (got - c.worse_by).abs() < 1e-12,
                "{:?} {} -> {}: {got}",
                c.direction,
                c.baseline,
                c.current
            );
        }
    }

    fn run(avg: f64, p95: f64, rps: f64, fail_ratio: f64, requests: &[(&str, f64)]) -> Value {
        json!({
            "name": "shop",
            "verdict": "passed",
            "totals": {"requests": 100, "avgResponseTimeMs": avg, "rps": rps, "failRatio": fail_ratio},
            "percentiles": {"95": p95},
            "requests": requests.iter().map(|(name, avg)| json!({
                "method": "GET", "name": name, "requests": 50, "avgResponseTimeMs": avg,
                "rps": rps / 2.0, "failRatio": fail_ratio, "percentiles": {"95": p95},
            })).collect::<Vec<_>>(),
        })
    }

    #[test]
    fn regressions_are_found_per_metric_and_request_name() {
        struct Case {
            name: &'static str,
            current: Value,
            tolerances: Tolerances,
            regressed: &'static [&'static str],
        }
        let baseline = run(100.0, 200.0, 40.0, 0.0, &[("/", 100.0), ("/cart", 100.0)]);
        let cases = [
            Case {
                name: "the same run passes",
                current: baseline.clone(),
                tolerances: Tolerances::default(),
                regressed: &[],
            },
            Case {
                name: "within every tolerance",
                current: run(119.0, 239.0, 33.0, 0.009, &[("/", 119.0), ("/cart", 90.0)]),
                tolerances: Tolerances::default(),
                regressed: &[],
            },
            Case {
                name: "one request name slower, the total within",
                current: run(110.0, 200.0, 40.0, 0.0, &[("/", 100.0), ("/cart", 130.0)]),
                tolerances: Tolerances::default(),
                regressed: &["GET /cart avgResponseTimeMs"],
            },
            Case {
                name: "fewer requests/s beyond the relative tolerance",
                current: run(100.0, 200.0, 30.0, 0.0, &[]),
                tolerances: Tolerances::default(),
                regressed: &["Aggregated rps"],
            },
            Case {
                name: "the fail ratio by an absolute amount",
                current: run(100.0, 200.0, 40.0, 0.02, &[]),
                tolerances: Tolerances::default(),
                regressed: &["Aggregated failRatio"],
            },
            Case {
                name: "p95 slower",
                current: run(100.0, 300.0, 40.0, 0.0, &[("/", 100.0)]),
                tolerances: Tolerances::default(),
                regressed: &[
                    "Aggregated percentileResponseTimeMs[95]",
                    "GET / percentileResponseTimeMs[95]",
                ],
            },
            Case {
                name: "only the metrics the spec names are compared",
                current: run(300.0, 600.0, 10.0, 0.5, &[]),
                tolerances: Tolerances {
                    avg_response_time_increase: Some(5.0),
                    percentile_response_time_increase: vec![],
                    rps_decrease: None,
                    fail_ratio_increase: None,
                },
                regressed: &[],
            },
        ];
        for c in cases {
            let got = compare(&c.current, &baseline, &c.tolerances);
            let regressed: Vec<String> = got
                .rows
                .iter()
                .filter(|r| r.regressed)
                .map(|r| format!("{} {}", r.scope, r.metric))
                .collect();
            assert_eq!(regressed, c.regressed, "{}", c.name);
            assert_eq!(got.regressed(), !c.regressed.is_empty(), "{}", c.name);
        }
    }

    #[test]
    fn request_names_in_one_run_only_are_listed_not_compared() {
        let baseline = run(100.0, 200.0, 40.0, 0.0, &[("/", 100.0), ("/old", 100.0)]);
        let current = run(100.0, 200.0, 40.0, 0.0, &[("/", 100.0), ("/new", 900.0)]);
        let c = compare(&current, &baseline, &Tolerances::default());
        assert_eq!(c.only_in_current, ["GET /new"]);
        assert_eq!(c.only_in_baseline, ["GET /old"]);
        assert!(!c.regressed());
        assert!(c.rows.iter().all(|r| r.scope != "GET /new"));
        let t = table(&c, "b");
        assert!(t.contains("  new (not in the baseline): GET /new\n"), "{t}");
    }

    #[test]
    fn rows_and_junit_say_what_moved() {
        let baseline = run(100.0, 200.0, 40.0, 0.0, &[]);
        let current = run(150.0, 200.0, 40.0, 0.0, &[]);
        let c = compare(&current, &baseline, &Tolerances::default());
        let slow = &c.rows[0];
        assert_eq!(
            row_text(slow),
            "Aggregated avgResponseTimeMs: 100 -> 150 (+50.0%, tolerance +20%)"
        );
        let junit = "<?xml version=\"1.0\"?>\n<testsuites name=\"x\" tests=\"2\" failures=\"1\">\n  <testsuite name=\"x\">\n  </testsuite>\n</testsuites>\n";
        let out = junit_with(junit, &c, "locust-planton shop");
        assert!(
            out.contains("<testsuites name=\"x\" tests=\"6\" failures=\"2\">"),
            "{out}"
        );
        assert!(out.contains(
            "<failure message=\"Aggregated avgResponseTimeMs: 100 -&gt; 150 (+50.0%, tolerance +20%)\" type=\"regressed\">"
        ), "{out}");
        assert!(out.ends_with("  </testsuite>\n</testsuites>\n"), "{out}");
    }

    #[test]
    fn tolerances_round_trip_and_default_without_a_block() {
        let t = Tolerances {
            avg_response_time_increase: Some(0.1),
            percentile_response_time_increase: vec![("99".into(), 0.3)],
            rps_decrease: None,
            fail_ratio_increase: Some(0.0),
        };
        assert_eq!(Tolerances::from_json(&t.to_json()), t);
        assert_eq!(Tolerances::from_json(&Value::Null), Tolerances::default());
    }

    #[test]
    fn last_is_the_newest_passed_run_of_the_same_name() {
        let root = tempfile::tempdir().unwrap();
        let put = |dir: &str, name: &str, verdict: &str, finished: &str| {
            let d = root.path().join(dir);
            std::fs::create_dir_all(&d).unwrap();
            let s = json!({"name": name, "verdict": verdict, "run": {"finishedAt": finished}});
            std::fs::write(d.join("summary.json"), s.to_string()).unwrap();
            d
        };
        put("a", "shop", "passed", "2026-01-01T00:00:00Z");
        let b = put("b", "shop", "passed", "2026-01-02T00:00:00Z");
        put("c", "shop", "failed", "2026-01-03T00:00:00Z");
        put("d", "other", "passed", "2026-01-04T00:00:00Z");
        let own = put("e", "shop", "passed", "2026-01-05T00:00:00Z");
        assert_eq!(find_last(root.path(), "shop", Some(&own)), Some(b));
        assert_eq!(find_last(root.path(), "none", None), None);
    }
}
