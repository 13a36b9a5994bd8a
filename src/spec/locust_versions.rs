//! What each Locust release accepts of what a spec asks of it (docs/operations.md "Locust
//! versions"). The release is the one every container runs (`image::resolve`: `locustVersion`,
//! else the image tag, else the chart's); with a custom image it is unknown and only what no
//! release accepts is refused.
//!
//! Every fact here was observed by running the releases themselves (`locust --help`, headless
//! runs): a spawn rate of 0 is refused by Locust's argument parser from 2.43.0 on and crashes
//! the run before (no user ever starts, exit 2); `--json-file` works from 2.37.10 on (2.37.0
//! writes an empty file, 2.37.1–2.37.9 lack it); `--otel` exists from 2.42.4 on.

use super::LoadTestSpec;
use super::extensions::release_key;
use crate::diag::{Findings, join};
use crate::yaml::{Node, parse_document};

/// A release as numbers, for ordering.
type Release = (u32, u32, u32);

/// The newest release the suite runs end to end (scripts/install-tools.sh `LOCUST_VERSIONS`;
/// the oldest is the pinned chart's own, which `image::resolve` warns below).
pub const NEWEST_TESTED: &str = "2.47.0";

/// The first release whose argument parser refuses `--spawn-rate 0`.
const SPAWN_RATE_ABOVE_ZERO: Release = (2, 43, 0);

/// A Locust option that works only from some release on.
struct Flag {
    name: &'static str,
    since: Release,
    /// What the releases before `since` do with it.
    before: &'static str,
}

/// Options a user may pass through `helmValues` `master.args`/`worker.args` that not every
/// supported release has; every other option the tool or the chart passes exists in every
/// release from 2.32.2 on.
const FLAGS: &[Flag] = &[
    Flag {
        name: "--json-file",
        since: (2, 37, 10),
        before: "2.37.0 writes an empty file; 2.37.1 to 2.37.9 and every release before 2.37.0 exit at start with `unrecognized arguments`",
    },
    Flag {
        name: "--otel",
        since: (2, 42, 4),
        before: "earlier releases exit at start with `unrecognized arguments`",
    },
];

/// Resolves the image every Locust container runs (its findings included) and adds what its
/// Locust release refuses of `spec`.
pub fn check(spec: &LoadTestSpec, d: &mut Findings) {
    let locust = super::image::resolve(spec, d);
    check_release(spec, locust.version.as_deref(), d);
}

/// Every finding for `spec` on Locust `version` (None: unknown, a custom image).
fn check_release(spec: &LoadTestSpec, version: Option<&str>, d: &mut Findings) {
    let release = version.and_then(release_key);
    if let Some(run) = &spec.extensions.run
        && run.spawn_rate <= 0.0
    {
        d.error(
            "spec.loadTest.run.spawnRate",
            spawn_rate_refusal(version, release),
        );
    }
    if let (Some(v), Some(r)) = (version, release) {
        if spec.extensions.open_telemetry.is_some()
            && let Some(why) = missing_flag("--otel", v, r)
        {
            d.error(
                "spec.loadTest.openTelemetry",
                format!("{why}; choose a newer one with spec.loadTest.locustVersion"),
            );
        }
        if Some(r) > release_key(NEWEST_TESTED) {
            d.warn(
                super::image::version_field(spec),
                format!("Locust {v} is newer than {NEWEST_TESTED}, the newest release locust-planton is tested with; its flags and results are not verified"),
            );
        }
        for (at, args) in role_args(&spec.helm_values) {
            for problem in arg_problems(&args, v, r) {
                d.error(&at, problem);
            }
        }
    }
}

/// Why a spawn rate of 0 cannot run on `version`.
fn spawn_rate_refusal(version: Option<&str>, release: Option<Release>) -> String {
    let base = "must be a number above 0 (users started per second)";
    match (version, release) {
        (Some(v), Some(r)) if r >= SPAWN_RATE_ABOVE_ZERO => {
            format!("{base}: Locust {v} refuses 0 (`--spawn-rate: must be > 0`)")
        }
        (Some(v), Some(_)) => format!(
            "{base}: Locust {v} accepts 0, then starts no user and the run fails (ZeroDivisionError, exit 2)"
        ),
        _ => base.to_string(),
    }
}

/// The `args` list each role's `helmValues` sets (`master.args`, or `args` inside `master`),
/// the last key that sets it winning as when the values are merged; (finding path, args).
fn role_args(overrides: &[(String, String)]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for role in ["master", "worker"] {
        let mut last = None;
        for (key, raw) in overrides {
            let Ok(Some(node)) = parse_document(raw) else {
                continue;
            };
            let list = if key == &format!("{role}.args") {
                Some(node)
            } else if key == role {
                node.as_map().and_then(|m| m.get("args")).cloned()
            } else {
                None
            };
            if let Some(list) = list {
                last = Some((join("spec.helmValues", key), strings(&list)));
            }
        }
        out.extend(last);
    }
    out
}

fn strings(node: &Node) -> Vec<String> {
    node.as_seq()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Why Locust `v` (`r`) cannot take the option `name` of [`FLAGS`], if it cannot.
fn missing_flag(name: &str, v: &str, r: Release) -> Option<String> {
    let flag = FLAGS.iter().find(|f| f.name == name)?;
    let (a, b, c) = flag.since;
    (r < flag.since).then(|| {
        format!(
            "`{name}` does not work on Locust {v}: it works from {a}.{b}.{c} on ({})",
            flag.before
        )
    })
}

/// What Locust `v` would refuse in `args`: an option it does not have, a spawn rate of 0.
fn arg_problems(args: &[String], v: &str, r: Release) -> Vec<String> {
    let mut out = Vec::new();
    for (i, arg) in args.iter().enumerate() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, value)) => (n, Some(value)),
            None => (arg.as_str(), None),
        };
        out.extend(missing_flag(name, v, r));
        if matches!(name, "--spawn-rate" | "-r") {
            let value = inline.or_else(|| args.get(i + 1).map(String::as_str));
            if value.and_then(|x| x.parse::<f64>().ok()) == Some(0.0) {
                out.push(format!(
                    "`{name}` 0 {}",
                    spawn_rate_refusal(Some(v), Some(r)).replacen(
                        "must be a number above 0 (users started per second): ",
                        "cannot run: ",
                        1
                    )
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(extra_load_test: &str, helm_values: &str) -> (Result<LoadTestSpec, ()>, Findings) {
        let text = format!(
            "apiVersion: kubernetes.project-planton.org/v1
kind: LocustKubernetes
metadata: {{name: t}}
spec:
  loadTest:
    name: t
    mainPyContent: 'x = 1'
    host: http://127.0.0.1:8080
{extra_load_test}
{helm_values}"
        );
        match super::super::read(&text) {
            Ok((s, d)) => (Ok(s), d),
            Err(d) => (Err(()), d),
        }
    }

    fn messages(d: &Findings) -> Vec<String> {
        d.items
            .iter()
            .map(|f| format!("{:?} {}: {}", f.severity, f.path, f.message))
            .collect()
    }

    /// A spawn rate of 0: refused on every release, the reason per release.
    #[test]
    fn spawn_rate_zero_is_refused_naming_the_field_and_the_release() {
        struct Row {
            version: &'static str,
            reason: &'static str,
        }
        let rows = [
            Row {
                version: "locustVersion: \"2.47.0\"",
                reason: "Locust 2.47.0 refuses 0 (`--spawn-rate: must be > 0`)",
            },
            Row {
                version: "locustVersion: \"2.43.0\"",
                reason: "Locust 2.43.0 refuses 0 (`--spawn-rate: must be > 0`)",
            },
            Row {
                version: "locustVersion: \"2.42.6\"",
                reason: "Locust 2.42.6 accepts 0, then starts no user and the run fails (ZeroDivisionError, exit 2)",
            },
            // No version given: the chart's own, 2.32.2.
            Row {
                version: "",
                reason: "Locust 2.32.2 accepts 0, then starts no user and the run fails (ZeroDivisionError, exit 2)",
            },
        ];
        for row in rows {
            let (read, d) = spec(
                &format!(
                    "    {}\n    run: {{users: 2, spawnRate: 0, runTime: 3s}}",
                    row.version
                ),
                "",
            );
            assert!(read.is_err(), "{}", row.version);
            assert_eq!(
                messages(&d),
                [format!(
                    "Error spec.loadTest.run.spawnRate: must be a number above 0 (users started per second): {}",
                    row.reason
                )],
                "{}",
                row.version
            );
        }
        // Custom image: the release is unknown, the field still refused.
        let (read, d) = spec(
            "    run: {users: 2, spawnRate: 0.0, runTime: 3s}",
            "  helmValues: {image.repository: example.com/my/locust, image.tag: custom}",
        );
        assert!(read.is_err());
        assert!(
            messages(&d).contains(
                &"Error spec.loadTest.run.spawnRate: must be a number above 0 (users started per second)"
                    .to_string()
            ),
            "{:?}",
            messages(&d)
        );
        // Above 0 passes on every release.
        for v in ["2.32.2", "2.43.0", "2.47.0"] {
            let (read, d) = spec(
                &format!(
                    "    locustVersion: \"{v}\"\n    run: {{users: 2, spawnRate: 0.5, runTime: 3s}}"
                ),
                "",
            );
            assert!(read.is_ok(), "{v}: {:?}", messages(&d));
        }
    }

    /// Options in `helmValues` args that the chosen release lacks.
    #[test]
    fn args_a_release_lacks_are_refused_naming_key_and_release() {
        struct Row {
            version: &'static str,
            helm_values: &'static str,
            errors: &'static [&'static str],
        }
        let json = "`--json-file` does not work on Locust {v}: it works from 2.37.10 on (2.37.0 writes an empty file; 2.37.1 to 2.37.9 and every release before 2.37.0 exit at start with `unrecognized arguments`)";
        let otel = "`--otel` does not work on Locust {v}: it works from 2.42.4 on (earlier releases exit at start with `unrecognized arguments`)";
        let rows = [
            Row {
                version: "2.32.2",
                helm_values: "master.args: '[--json-file, /tmp/stats]'",
                errors: &["spec.helmValues[\"master.args\"]|json"],
            },
            Row {
                version: "2.37.0",
                helm_values: "master.args: '[--json-file, /tmp/stats]'",
                errors: &["spec.helmValues[\"master.args\"]|json"],
            },
            Row {
                version: "2.37.5",
                helm_values: "master.args: '[--json-file=/tmp/stats]'",
                errors: &["spec.helmValues[\"master.args\"]|json"],
            },
            Row {
                version: "2.37.9",
                helm_values: "master: '{args: [--json-file, /tmp/stats]}'",
                errors: &["spec.helmValues.master|json"],
            },
            Row {
                version: "2.37.10",
                helm_values: "master.args: '[--json-file, /tmp/stats]'",
                errors: &[],
            },
            Row {
                version: "2.42.3",
                helm_values: "worker.args: '[--otel]'",
                errors: &["spec.helmValues[\"worker.args\"]|otel"],
            },
            Row {
                version: "2.42.4",
                helm_values: "worker.args: '[--otel]'",
                errors: &[],
            },
            Row {
                version: "2.36.2",
                helm_values: "master.args: '[--otel, --json-file, x]'",
                errors: &[
                    "spec.helmValues[\"master.args\"]|otel",
                    "spec.helmValues[\"master.args\"]|json",
                ],
            },
            // The last key setting a role's args is the one merged.
            Row {
                version: "2.32.2",
                helm_values: "master.args: '[--otel]'\n    master: '{args: [--csv-full-history]}'",
                errors: &[],
            },
        ];
        for row in rows {
            let (read, d) = spec(
                &format!("    locustVersion: \"{}\"", row.version),
                &format!("  helmValues:\n    {}", row.helm_values),
            );
            let want: Vec<String> = row
                .errors
                .iter()
                .map(|e| {
                    let (at, which) = e.split_once('|').unwrap();
                    let text = if which == "json" { json } else { otel };
                    format!("Error {at}: {}", text.replace("{v}", row.version))
                })
                .collect();
            let got: Vec<String> = messages(&d)
                .into_iter()
                .filter(|m| m.starts_with("Error"))
                .collect();
            assert_eq!(got, want, "{} {}", row.version, row.helm_values);
            assert_eq!(read.is_err(), !want.is_empty(), "{}", row.version);
        }
    }

    #[test]
    fn a_spawn_rate_of_zero_in_args_is_refused_per_release() {
        for (version, args, error) in [
            (
                "2.43.4",
                "[--spawn-rate, '0']",
                Some(
                    "`--spawn-rate` 0 cannot run: Locust 2.43.4 refuses 0 (`--spawn-rate: must be > 0`)",
                ),
            ),
            (
                "2.40.5",
                "[-r=0.0]",
                Some(
                    "`-r` 0 cannot run: Locust 2.40.5 accepts 0, then starts no user and the run fails (ZeroDivisionError, exit 2)",
                ),
            ),
            ("2.43.4", "[--spawn-rate, '0.5']", None),
        ] {
            let (_, d) = spec(
                &format!("    locustVersion: \"{version}\""),
                &format!("  helmValues:\n    master.args: \"{args}\""),
            );
            let got: Vec<String> = messages(&d)
                .into_iter()
                .filter(|m| m.starts_with("Error"))
                .collect();
            let want: Vec<String> = error
                .map(|e| format!("Error spec.helmValues[\"master.args\"]: {e}"))
                .into_iter()
                .collect();
            assert_eq!(got, want, "{version} {args}");
        }
    }

    /// `openTelemetry` wires `--otel`: refused below 2.42.4, naming the release that runs.
    #[test]
    fn open_telemetry_needs_a_release_with_otel() {
        struct Row {
            version: &'static str,
            error: Option<&'static str>,
        }
        let otel =
            "    openTelemetry: {endpoint: \"http://collector:4318\", protocol: http/protobuf}";
        for row in [
            Row {
                version: "",
                error: Some("2.32.2"),
            },
            Row {
                version: "    locustVersion: \"2.42.3\"",
                error: Some("2.42.3"),
            },
            Row {
                version: "    locustVersion: \"2.42.4\"",
                error: None,
            },
            Row {
                version: "    locustVersion: \"2.47.0\"",
                error: None,
            },
        ] {
            let (read, d) = spec(&format!("{}\n{otel}", row.version), "");
            let errors: Vec<String> = messages(&d)
                .into_iter()
                .filter(|m| m.starts_with("Error"))
                .collect();
            let want: Vec<String> = row
                .error
                .map(|v| format!("Error spec.loadTest.openTelemetry: `--otel` does not work on Locust {v}: it works from 2.42.4 on (earlier releases exit at start with `unrecognized arguments`); choose a newer one with spec.loadTest.locustVersion"))
                .into_iter()
                .collect();
            assert_eq!(errors, want, "{}", row.version);
            assert_eq!(read.is_err(), row.error.is_some());
        }
        // A custom image: the release is unknown, nothing refused.
        let (read, d) = spec(
            otel,
            "  helmValues: {image.repository: example.com/my/locust, image.tag: custom}",
        );
        assert!(read.is_ok(), "{:?}", messages(&d));
    }

    #[test]
    fn a_release_newer_than_the_newest_tested_warns() {
        for (version, warned) in [("2.47.0", false), ("2.47.1", true), ("3.0.0", true)] {
            let (read, d) = spec(&format!("    locustVersion: \"{version}\""), "");
            assert!(read.is_ok(), "{version}");
            let warning = format!(
                "Warning spec.loadTest.locustVersion: Locust {version} is newer than 2.47.0, the newest release locust-planton is tested with; its flags and results are not verified"
            );
            assert_eq!(
                messages(&d).contains(&warning),
                warned,
                "{:?}",
                messages(&d)
            );
        }
    }
}
