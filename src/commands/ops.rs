//! `status`, `wait` and `rerun` (through kubectl); `report` and the copying of results, which
//! `wait --results-dir` and `uninstall` share, are in `report`.

use super::output::report_format;
use super::{ContextArg, Failure, Output, ReportFormat, exit};
use crate::contract::{PYTHON_BIN, RESULTS_DIR};
use crate::duration;
use crate::kubectl::Kubectl;
use crate::ops::{Phase, RESULTS_COPIED, Status, current_master, evaluate, final_stats};
use crate::progress::Progress;
use crate::results::{Verdict, baseline};
use serde_json::Value;
use std::time::{Duration, Instant};

/// A release named directly or by its manifest (`-f`: metadata.name and the manifest's namespace).
#[derive(clap::Args, Clone, Default)]
pub struct RunTarget {
    /// The release (metadata.name unless installed under another name).
    #[arg(required_unless_present = "file", conflicts_with = "file")]
    pub release: Option<String>,
    /// The manifest: its metadata.name is the release, its namespace the namespace.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<String>,
    /// Namespace [default: the manifest's with -f, else the kubeconfig context's].
    #[arg(short = 'n', long, value_name = "NS")]
    pub namespace: Option<String>,
    #[command(flatten)]
    pub context: ContextArg,
    /// The kubectl binary [default: $KUBECTL, else kubectl on PATH].
    #[arg(long, value_name = "PATH")]
    pub kubectl: Option<String>,
}

/// Show the state of a release's test.   e.g. locust-planton status -f test.yaml
#[derive(clap::Args, Clone)]
#[command(
    after_help = exit::help(
        "Examples:\n  locust-planton status -f test.yaml\n  locust-planton status checkout-load -n load-tests -o json\n\n\
    Reads the master Deployment, the master and worker pods and the current master's log through kubectl\n\
    (only the current pod template's master counts: see `wait`). With thresholds, shows each verdict.\n\
    Phases: Pending, Running, Completed, Failed (with the reason).",
        &[(exit::OK, ""), (exit::FAILED, "the release has no objects in the namespace"), (exit::TOOL_FAILED, "kubectl failed")],
    )
)]
pub struct StatusArgs {
    #[command(flatten)]
    pub target: RunTarget,
    /// Output format.
    #[arg(short = 'o', long = "output", value_name = "text|json", value_parser = report_format, default_value = "text")]
    pub output: ReportFormat,
}

/// Wait for a headless run to finish.   e.g. locust-planton wait -f test.yaml --timeout 30m
#[derive(clap::Args, Clone)]
#[command(
    after_help = exit::help(
        "Examples:\n  locust-planton install -f ci.yaml --wait && locust-planton wait -f ci.yaml --timeout 20m\n  \
    locust-planton wait ci-run -n perf -o json\n  \
    locust-planton wait -f ci.yaml --results-dir locust-results/ci-$BUILD --baseline last\n\n\
    Shows each poll on stderr (phase, workers, users, requests, failures, req/s). Prints Locust's final\n\
    statistics, the run (master pod, script hash, rerun time), each threshold's verdict and the run's\n\
    verdict (PASSED, FAILED, REGRESSED, INVALID). Only the current run counts: a master pod of an\n\
    earlier pod template is never read. --baseline reads the run's summary.json from the master pod.\n\
    --results-dir DIR copies the ended run's results as `report` does (a timeout copies nothing).",
        &[(exit::OK, "PASSED"), (exit::FAILED, "FAILED: requests failed, a threshold missed, or no such release"), (exit::TIMEOUT, "timeout or the cluster could not run the test (unschedulable pods, image pull errors, failed pip install: the reason is printed)"), (exit::TOOL_FAILED, "kubectl failed"), (exit::REGRESSED, "REGRESSED against --baseline"), (exit::INVALID, "INVALID: the load generator was saturated or degraded")],
    )
)]
pub struct WaitArgs {
    #[command(flatten)]
    pub target: RunTarget,
    /// Give up after this long.
    #[arg(long, default_value = "30m")]
    pub timeout: String,
    /// How often to look.
    #[arg(long, default_value = "5s")]
    pub interval: String,
    /// Output format (json: the final status, with the threshold verdicts and the run).
    #[arg(short = 'o', long = "output", value_name = "text|json", value_parser = report_format, default_value = "text")]
    pub output: ReportFormat,
    /// Compare the finished run with an earlier one: a summary.json (or its folder), or `last`:
    /// the newest passed run of the release under ./locust-results/ (with --results-dir:
    /// beside that folder). REGRESSED: exit 5.
    #[arg(long, value_name = "FILE|last")]
    pub baseline: Option<String>,
    /// When the run ends (any verdict), copy its results into this folder (created; must be
    /// empty), as `report` does, and mark them copied. A timeout copies nothing.
    #[arg(long, value_name = "DIR")]
    pub results_dir: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct Target {
    pub release: String,
    pub kubectl: Kubectl,
}

impl RunTarget {
    /// The release and the kubectl that reaches it; with `-f`, from the manifest.
    pub fn resolve(self) -> Result<Target, Failure> {
        let t = self;
        let (release, namespace) = match (&t.file, t.release) {
            (Some(f), _) => {
                let (_, spec, _) = super::load_spec(f)?;
                let ns = t
                    .namespace
                    .or_else(|| spec.namespace_value().map(str::to_string));
                (spec.name, ns)
            }
            (None, Some(r)) => (r, t.namespace),
            // clap requires one of them; said as a usage error all the same.
            (None, None) => {
                return Err(Failure::new(
                    exit::USAGE,
                    "name the release, or its manifest with -f FILE",
                ));
            }
        };
        Ok(Target {
            release,
            kubectl: crate::kubectl::Kubectl::new(
                t.kubectl.as_deref(),
                t.context.kube_context.as_deref(),
                namespace.as_deref(),
            ),
        })
    }
}

impl Target {
    fn kubectl(&self, args: &[String]) -> Result<String, Failure> {
        Ok(self.kubectl.run(args, None)?)
    }

    fn list(&self, kind: &str, component: &str) -> Result<Value, Failure> {
        let selector = format!(
            "app.kubernetes.io/instance={},component={component}",
            self.release
        );
        let text = self.kubectl(&[
            "get".into(),
            kind.into(),
            "-l".into(),
            selector,
            "-o".into(),
            "json".into(),
        ])?;
        serde_json::from_str(&text)
            .map_err(|e| Failure::failed(format!("kubectl returned no {kind} list: {e}")))
    }

    /// One observation: the master Deployment, pods, and the current master's log when its
    /// container has started.
    pub fn observe(&self) -> Result<(Status, Option<String>), Failure> {
        match self.observe_release()? {
            Some((status, log, _)) => Ok((status, log)),
            None => Err(Failure::failed(format!(
                "release {} not found in namespace {}",
                self.release,
                self.namespace_text()
            ))),
        }
    }

    pub(super) fn namespace_text(&self) -> &str {
        self.kubectl
            .namespace
            .as_deref()
            .unwrap_or("(the kubeconfig context's namespace; pass -n or -f)")
    }

    /// [`Target::observe`] with the master Deployment list; `None` when the release has no
    /// Deployment or pod in the namespace.
    pub(super) fn observe_release(
        &self,
    ) -> Result<Option<(Status, Option<String>, Value)>, Failure> {
        let deployments = self.list("deployments", "master")?;
        let masters = self.list("pods", "master")?;
        let workers = self.list("pods", "worker")?;
        if [&deployments, &masters, &workers]
            .iter()
            .all(|l| l["items"].as_array().is_none_or(Vec::is_empty))
        {
            return Ok(None);
        }
        let pod = current_master(&deployments, &masters);
        let log = match pod {
            Some(name) => Some(self.kubectl(&[
                "logs".into(),
                name,
                "-c".into(),
                "locust".into(),
                "--tail=500".into(),
            ])?),
            None => None,
        };
        Ok(Some((
            evaluate(&deployments, &masters, &workers, log.as_deref()),
            log,
            deployments,
        )))
    }

    /// Marks `run`'s results as copied on the master Deployment's own metadata (never its pod
    /// template, so nothing rolls). A failure is a note: the results are copied all the same,
    /// and `uninstall` then still asks for them.
    pub(super) fn mark_copied(&self, run: &str) -> Option<String> {
        let args: Vec<String> = vec![
            "annotate".into(),
            "deployments".into(),
            "-l".into(),
            format!(
                "app.kubernetes.io/instance={},component=master",
                self.release
            ),
            "--overwrite".into(),
            format!("{RESULTS_COPIED}={run}"),
        ];
        self.kubectl(&args).err().map(|f| {
            format!(
                "locust-planton: warning: results copied, but the master Deployment was not annotated {RESULTS_COPIED}={run} (uninstall will still ask for them): {}\n",
                f.message
            )
        })
    }
}

pub fn status(t: &Target, format: ReportFormat) -> Result<Output, Failure> {
    let (s, _) = t.observe()?;
    Ok(Output::ok(render(&s, format)?))
}

fn render(s: &Status, format: ReportFormat) -> Result<String, Failure> {
    if format == ReportFormat::Json {
        let mut v = serde_json::to_value(s).map_err(super::json_failure)?;
        if let Some(verdict) = verdict_of(s) {
            v["verdict"] = Value::from(verdict.as_str());
        }
        return super::json_text(&v);
    }
    let mut out = format!("phase: {:?}\n", s.phase);
    if let Some(r) = &s.reason {
        out.push_str(&format!("reason: {r}\n"));
    }
    if let Some(c) = s.exit_code {
        out.push_str(&format!("exitCode: {c}\n"));
    }
    if let Some(p) = &s.master_pod {
        out.push_str(&format!("masterPod: {p}\n"));
    }
    out.push_str(&format!("workersReady: {}\n", s.workers_ready));
    if let Some(r) = &s.run {
        out.push_str(&format!("run: {}\n", r.text()));
    }
    for line in crate::results::verdict_lines(&Value::Array(s.thresholds.clone())).lines() {
        out.push_str(&format!("threshold: {line}\n"));
    }
    if let Some(v) = verdict_of(s) {
        out.push_str(&format!("verdict: {}\n", v.capitals()));
    }
    Ok(out)
}

/// A finished run's verdict from its result line's exit code (the wrapper's: 0 passed,
/// 6 invalid, anything else failed).
fn verdict_of(s: &Status) -> Option<Verdict> {
    match s.exit_code? {
        0 => Some(Verdict::Passed),
        c if c == i64::from(exit::INVALID) => Some(Verdict::Invalid),
        _ => Some(Verdict::Failed),
    }
}

/// The exit code of a verdict (README "Exit codes").
pub fn verdict_code(v: Verdict) -> u8 {
    match v {
        Verdict::Passed => exit::OK,
        Verdict::Failed => exit::FAILED,
        Verdict::Regressed => exit::REGRESSED,
        Verdict::Invalid => exit::INVALID,
    }
}

/// What a poll shows on stderr: the phase, workers, and from Locust's log the users and the
/// latest aggregated requests, failures and requests/s.
fn live_line(s: &Status, log: Option<&str>) -> String {
    format!(
        "{:?}, workers ready {}{}",
        s.phase,
        s.workers_ready,
        log_progress(log.unwrap_or(""))
    )
}

/// The users, requests, failures and requests/s of the newest statistics in a master log, as
/// `, users …, requests …, failures …, … req/s` (what is there of it).
fn log_progress(log: &str) -> String {
    let mut line = String::new();
    if let Some(users) = log.lines().rev().find_map(|l| {
        let (before, _) = l.split_once(" total users)")?;
        before.rsplit('(').next().map(str::trim).map(str::to_string)
    }) {
        line.push_str(&format!(", users {users}"));
    }
    // Locust prints two tables ending in an `Aggregated` row: the request counts
    // (`Aggregated <reqs> <fails>(<pct>) | … | <req/s> <failures/s>`) and, after it, the
    // response-time percentiles, whose row has no `|`; only the first holds the counts.
    if let Some(agg) = log
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with("Aggregated") && l.contains('|'))
    {
        let words: Vec<&str> = agg.split_whitespace().collect();
        if let (Some(reqs), Some(fails), Some(rps)) = (
            words.get(1),
            words.get(2),
            words.len().checked_sub(2).and_then(|i| words.get(i)),
        ) {
            line.push_str(&format!(", requests {reqs}, failures {fails}, {rps} req/s"));
        }
    }
    line
}

/// Polls until the run ends, showing each poll on stderr. Exit code: 0 passed, 1 requests
/// failed or a threshold missed, 3 timeout or infrastructure failure.
pub fn wait(
    t: &Target,
    timeout: &str,
    interval: &str,
    format: ReportFormat,
    baseline: Option<&str>,
    results_dir: Option<&str>,
) -> Result<Output, Failure> {
    let limit = duration::parse(timeout).map_err(|_| {
        Failure::new(
            exit::USAGE,
            format!("--timeout {timeout}: use a duration such as 30s, 10m, 1h"),
        )
    })?;
    let every = duration::parse(interval)
        .ok()
        .filter(|s| *s > 0)
        .ok_or_else(|| {
            Failure::new(
                exit::USAGE,
                format!("--interval {interval}: use a duration such as 5s"),
            )
        })?;
    if let Some(dir) = results_dir {
        // Checked now: a long wait should not end in a refusal of the folder.
        crate::results::usable_dir(dir, &std::env::current_dir()?)
            .map_err(Failure::flag("--results-dir"))?;
    }
    let mut progress = Progress::start(format!("waiting for release {}", t.release));
    let limits = (Duration::from_secs(limit), Duration::from_secs(every));
    let result = poll(t, limits, timeout, format, &mut progress);
    progress.finish(None);
    let (out, ended) = result?;
    match (ended.as_ref().and_then(|s| s.run.as_ref()), results_dir) {
        (Some(run), Some(dir)) => super::report::copy_ended(t, run, dir, baseline, out, format),
        (None, Some(dir)) => Ok(Output {
            stderr: format!("the run has not ended: nothing copied into {dir}\n"),
            ..out
        }),
        (_, None) => match baseline {
            Some(arg) if out.code == exit::OK => compare_current(t, arg, out, format),
            _ => Ok(out),
        },
    }
}

/// `wait --baseline`: a passed run's summary.json read from its master pod and compared. Text:
/// the table replaces the status's last line, then the verdict; JSON: `baseline` (every row)
/// and `verdict` join the status. REGRESSED exits 5.
fn compare_current(
    t: &Target,
    arg: &str,
    mut out: Output,
    format: ReportFormat,
) -> Result<Output, Failure> {
    let (s, _) = t.observe()?;
    let Some(run) = s.run.as_ref() else {
        return Ok(out);
    };
    let summary = summary_of(&fetch_results(t, &run.master_pod)?, &run.master_pod)?;
    let cwd = std::env::current_dir()?;
    let under = cwd.join("locust-results");
    let name = summary["name"].as_str().unwrap_or(&t.release).to_string();
    let found = crate::results::resolve_baseline(arg, &name, &under, None)
        .map_err(Failure::flag("--baseline"))?;
    let (comparison, against) = match found {
        Some((base, against)) => {
            let tolerances = baseline::Tolerances::from_json(&summary["baselineTolerances"]);
            (
                Some(baseline::compare(&summary, &base, &tolerances)),
                against,
            )
        }
        None => (None, String::new()),
    };
    let verdict = match &comparison {
        Some(c) if c.regressed() => Verdict::Regressed,
        _ => Verdict::Passed,
    };
    out.code = verdict_code(verdict);
    if format == ReportFormat::Json {
        let mut v: Value = serde_json::from_str(&out.stdout).map_err(super::json_failure)?;
        v["verdict"] = Value::from(verdict.as_str());
        v["baseline"] = comparison
            .as_ref()
            .map_or(Value::Null, |c| baseline::to_json(c, &against));
        out.stdout = super::json_text(&v)?;
        return Ok(out);
    }
    let status = out
        .stdout
        .strip_suffix("verdict: PASSED\n")
        .unwrap_or(&out.stdout)
        .to_string();
    let compared = match &comparison {
        Some(c) => baseline::table(c, &against),
        None => format!(
            "no earlier passed run of {name} in {}: nothing to compare with\n",
            under.display()
        ),
    };
    out.stdout = format!("{status}{compared}verdict: {}\n", verdict.capitals());
    Ok(out)
}

/// `summary.json` among a pod's results files.
pub(super) fn summary_of(files: &[(String, Vec<u8>)], pod: &str) -> Result<Value, Failure> {
    files
        .iter()
        .find(|(n, _)| n == "summary.json")
        .and_then(|(_, b)| serde_json::from_slice(b).ok())
        .ok_or_else(|| {
            Failure::failed(format!(
                "pod {pod}: no summary.json in {RESULTS_DIR} (the run left no results)"
            ))
        })
}

/// Looks every `every` until the run ends or `limit` passes; the status of a run that ended.
fn poll(
    t: &Target,
    (limit, every): (Duration, Duration),
    timeout: &str,
    format: ReportFormat,
    progress: &mut Progress,
) -> Result<(Output, Option<Status>), Failure> {
    let start = Instant::now();
    loop {
        let (s, log) = t.observe()?;
        progress.update(live_line(&s, log.as_deref()));
        match s.phase {
            Phase::Completed | Phase::Failed if !s.infrastructure_failure => {
                return Ok((ended(&s, log.as_deref(), format)?, Some(s)));
            }
            Phase::Failed => {
                return Ok((
                    Output::ok(render(&s, format)?).with_code(exit::TIMEOUT),
                    None,
                ));
            }
            _ if start.elapsed() >= limit => return Ok((timed_out(&s, timeout, format)?, None)),
            _ => std::thread::sleep(
                every.min(limit.saturating_sub(start.elapsed()) + Duration::from_millis(10)),
            ),
        }
    }
}

/// A run that ended: Locust's final statistics (text) and the status; the verdict's exit code.
fn ended(s: &Status, log: Option<&str>, format: ReportFormat) -> Result<Output, Failure> {
    let code = match (s.phase, verdict_of(s)) {
        (Phase::Completed, _) => exit::OK,
        (_, Some(v)) => verdict_code(v),
        _ => exit::FAILED,
    };
    if format == ReportFormat::Json {
        return Ok(Output::ok(render(s, format)?).with_code(code));
    }
    let stats = log.map(final_stats).unwrap_or_default();
    Ok(Output::ok(format!("{stats}{}", render(s, format)?)).with_code(code))
}

/// The status when `--timeout` passed (JSON: with `timedOut: true`); exit 3.
fn timed_out(s: &Status, timeout: &str, format: ReportFormat) -> Result<Output, Failure> {
    let text = if format == ReportFormat::Json {
        let mut v = serde_json::to_value(s).map_err(super::json_failure)?;
        v["timedOut"] = Value::Bool(true);
        super::json_text(&v)?
    } else {
        format!("{}timed out after {timeout}\n", render(s, format)?)
    };
    Ok(Output::ok(text).with_code(exit::TIMEOUT))
}

/// Run in the master pod by `report`: prints the results folder's files as one JSON object of
/// name → base64 (only Python, which the Locust image has; `kubectl cp` would need `tar`). One
/// line, no quotes of its own kind, so it passes through `kubectl exec` as one argument.
pub const EXPORT_SCRIPT: &str = "import base64,json,os,sys;d=sys.argv[1];f=sorted(n for n in os.listdir(d) if os.path.isfile(os.path.join(d,n))) if os.path.isdir(d) else [];print(json.dumps({n:base64.b64encode(open(os.path.join(d,n),'rb').read()).decode() for n in f}))";

/// The results folder of `pod`'s current run, file by file (plain names only).
pub(super) fn fetch_results(t: &Target, pod: &str) -> Result<Vec<(String, Vec<u8>)>, Failure> {
    let text = t.kubectl(&[
        "exec".into(),
        pod.to_string(),
        "-c".into(),
        "locust".into(),
        "--".into(),
        PYTHON_BIN.into(),
        "-c".into(),
        EXPORT_SCRIPT.into(),
        RESULTS_DIR.into(),
    ])?;
    let files: serde_json::Map<String, Value> = serde_json::from_str(text.trim())
        .map_err(|e| Failure::failed(format!("pod {}: unreadable results: {e}", pod)))?;
    use base64::Engine;
    let mut decoded: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, b64) in &files {
        // Names come from the pod: plain file names only, never a path.
        if name.is_empty() || name.contains('/') || name.starts_with('.') {
            return Err(Failure::failed(format!(
                "pod {}: refusing results file name {name:?}",
                pod
            )));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap_or_default())
            .map_err(|e| Failure::failed(format!("pod {}: {name}: {e}", pod)))?;
        decoded.push((name.clone(), bytes));
    }
    Ok(decoded)
}

/// Start a new run of an unchanged spec (rollout restart).   e.g. locust-planton rerun -f test.yaml
#[derive(clap::Args, Clone)]
#[command(
    after_help = exit::help(
        "Examples:\n  locust-planton rerun -f ci.yaml && locust-planton wait -f ci.yaml\n\n\
    `helm upgrade` of an unchanged spec rolls nothing, so the previous run stays the current one. rerun\n\
    restarts the release's Deployments (kubectl rollout restart): new master and workers, a new run\n\
    identity (kubectl.kubernetes.io/restartedAt), new results.",
        &[(exit::OK, ""), (exit::FAILED, "no such release"), (exit::TOOL_FAILED, "kubectl failed")],
    )
)]
pub struct RerunArgs {
    #[command(flatten)]
    pub target: RunTarget,
}

/// Starts a new run of an unchanged spec: a rollout restart of the release's Deployments (master
/// and workers), which stamps a new `kubectl.kubernetes.io/restartedAt` on their pod templates.
/// The master then writes new results in its new pod; the previous run's pod and files go.
pub fn rerun(t: &Target) -> Result<Output, Failure> {
    let out = t.kubectl(&[
        "rollout".into(),
        "restart".into(),
        "deployments".into(),
        "-l".into(),
        format!("app.kubernetes.io/instance={}", t.release),
    ])?;
    Ok(Output::ok(format!(
        "{out}new run started; follow it with: locust-planton wait {}{}\n",
        t.release,
        t.kubectl
            .namespace
            .as_deref()
            .map(|n| format!(" -n {n}"))
            .unwrap_or_default()
    )))
}

#[cfg(test)]
mod log_progress_table {
    use super::log_progress;

    const REQUESTS: &str = "         Aggregated                                                                       174    10(5.75%) |      8       2      19      8 |   26.00        0.67";
    const PERCENTILES: &str = "         Aggregated                                                                              8     10     11     11     13     15     16     17     19     19     19    174";

    #[test]
    fn reads_the_newest_request_counts() {
        struct Row {
            what: &'static str,
            log: String,
            want: &'static str,
        }
        let rows = [
            Row {
                what: "the percentile table printed after the counts is not read as counts",
                log: format!("{REQUESTS}\n\nResponse time percentiles\n{PERCENTILES}\n"),
                want: ", requests 174, failures 10(5.75%), 26.00 req/s",
            },
            Row {
                what: "users from the spawn line, counts from the newest table",
                log: format!(
                    "All users spawned: {{\"U\": 2}} (2 total users)\n{}\n{REQUESTS}\n",
                    REQUESTS.replace("174", "100")
                ),
                want: ", users 2, requests 174, failures 10(5.75%), 26.00 req/s",
            },
            Row {
                what: "only percentiles: no counts",
                log: format!("{PERCENTILES}\n"),
                want: "",
            },
            Row {
                what: "an empty log",
                log: String::new(),
                want: "",
            },
        ];
        let failed: Vec<String> = rows
            .iter()
            .filter(|r| log_progress(&r.log) != r.want)
            .map(|r| format!("- {}: {:?}", r.what, log_progress(&r.log)))
            .collect();
        assert!(failed.is_empty(), "{}", failed.join("\n"));
    }
}
