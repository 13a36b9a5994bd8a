//! `status`, `wait`, `report` and `rerun` (through kubectl).

use super::output::report_format;
use super::{ContextArg, Failure, Output, ReportFormat, exit};
use crate::contract::{PYTHON_BIN, RESULTS_DIR};
use crate::duration;
use crate::kubectl::Kubectl;
use crate::ops::{Phase, Status, current_master, evaluate, final_stats};
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

#[derive(clap::Args, Clone)]
pub struct StatusArgs {
    #[command(flatten)]
    pub target: RunTarget,
    /// Output format.
    #[arg(short = 'o', long = "output", value_name = "text|json", value_parser = report_format, default_value = "text")]
    pub output: ReportFormat,
}

#[derive(clap::Args, Clone)]
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
    /// the newest passed run of the release under ./locust-results/. REGRESSED: exit 5.
    #[arg(long, value_name = "FILE|last")]
    pub baseline: Option<String>,
}

#[derive(clap::Args, Clone)]
pub struct ReportRunArgs {
    #[command(flatten)]
    pub target: RunTarget,
    /// The folder to copy the results into (created; must be empty).
    #[arg(long, value_name = "DIR")]
    pub results_dir: Option<String>,
    /// Compare the run with an earlier one: a summary.json (or its folder), or `last`: the
    /// newest passed run of the release beside the results folder. REGRESSED: exit 5.
    #[arg(long, value_name = "FILE|last")]
    pub baseline: Option<String>,
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
        let deployments = self.list("deployments", "master")?;
        let masters = self.list("pods", "master")?;
        let workers = self.list("pods", "worker")?;
        if [&deployments, &masters, &workers]
            .iter()
            .all(|l| l["items"].as_array().is_none_or(Vec::is_empty))
        {
            return Err(Failure::failed(format!(
                "release {} not found in namespace {}",
                self.release,
                self.kubectl
                    .namespace
                    .as_deref()
                    .unwrap_or("(the kubeconfig context's namespace; pass -n or -f)")
            )));
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
        Ok((
            evaluate(&deployments, &masters, &workers, log.as_deref()),
            log,
        ))
    }
}

pub fn status(t: &Target, format: ReportFormat) -> Result<Output, Failure> {
    let (s, _) = t.observe()?;
    Ok(Output::ok(render(&s, format)?))
}

fn render(s: &Status, format: ReportFormat) -> Result<String, Failure> {
    if format == ReportFormat::Json {
        let mut v = serde_json::to_value(s)
            .map_err(|e| Failure::failed(format!("cannot write JSON: {e}")))?;
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
    let mut line = format!("{:?}, workers ready {}", s.phase, s.workers_ready);
    let log = log.unwrap_or("");
    if let Some(users) = log.lines().rev().find_map(|l| {
        let (before, _) = l.split_once(" total users)")?;
        before.rsplit('(').next().map(str::trim).map(str::to_string)
    }) {
        line.push_str(&format!(", users {users}"));
    }
    if let Some(agg) = log
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with("Aggregated"))
    {
        let words: Vec<&str> = agg.split_whitespace().collect();
        // `Aggregated <reqs> <fails>(<pct>) | … | <req/s> <failures/s>`
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
    let mut progress = Progress::start(format!("waiting for release {}", t.release));
    let limits = (Duration::from_secs(limit), Duration::from_secs(every));
    let result = poll(t, limits, timeout, format, &mut progress);
    progress.finish(None);
    match (result, baseline) {
        (Ok(out), Some(arg)) if out.code == exit::OK => compare_current(t, arg, out, format),
        (result, _) => result,
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
        .map_err(|e| Failure::failed(format!("--baseline {e}")))?;
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
        let mut v: Value = serde_json::from_str(&out.stdout)
            .map_err(|e| Failure::failed(format!("cannot write JSON: {e}")))?;
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
fn summary_of(files: &[(String, Vec<u8>)], pod: &str) -> Result<Value, Failure> {
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

/// Looks every `every` until the run ends or `limit` passes.
fn poll(
    t: &Target,
    (limit, every): (Duration, Duration),
    timeout: &str,
    format: ReportFormat,
    progress: &mut Progress,
) -> Result<Output, Failure> {
    let start = Instant::now();
    loop {
        let (s, log) = t.observe()?;
        progress.update(live_line(&s, log.as_deref()));
        match s.phase {
            Phase::Completed | Phase::Failed if !s.infrastructure_failure => {
                return ended(&s, log.as_deref(), format);
            }
            Phase::Failed => return Ok(Output::ok(render(&s, format)?).with_code(exit::TIMEOUT)),
            _ if start.elapsed() >= limit => return timed_out(&s, timeout, format),
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
        let mut v = serde_json::to_value(s)
            .map_err(|e| Failure::failed(format!("cannot write JSON: {e}")))?;
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
fn fetch_results(t: &Target, pod: &str) -> Result<Vec<(String, Vec<u8>)>, Failure> {
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

/// Writes the files into `dir`; on a failure the partly written folder is removed.
fn write_results(dir: &std::path::Path, files: &[(String, Vec<u8>)]) -> Result<(), Failure> {
    for (name, bytes) in files {
        if let Err(e) = std::fs::write(dir.join(name), bytes) {
            let _ = std::fs::remove_dir_all(dir);
            return Err(Failure::failed(format!(
                "{}: {e}",
                dir.join(name).display()
            )));
        }
    }
    Ok(())
}

/// Copies the current run's results from its master pod into a new local folder. Returns the
/// text to print (the summary table and the folder).
pub fn report(
    t: &Target,
    results_dir: Option<&str>,
    baseline: Option<&str>,
) -> Result<Output, Failure> {
    let (s, _) = t.observe()?;
    let finished = matches!(s.phase, Phase::Completed | Phase::Failed) && s.exit_code.is_some();
    let Some(run) = s.run.as_ref().filter(|_| finished) else {
        return Err(Failure::failed(format!(
            "release {}: no finished run to report (phase {:?}: {}); `locust-planton wait` first",
            t.release,
            s.phase,
            s.reason.as_deref().unwrap_or("")
        )));
    };
    let decoded = fetch_results(t, &run.master_pod)?;
    let summary = summary_of(&decoded, &run.master_pod)?;
    // The files must be this run's: written by this pod (a pod's hostname is its name).
    let written_by = summary["run"]["pod"].as_str().unwrap_or("");
    if written_by != run.master_pod {
        return Err(Failure::failed(format!(
            "pod {}: the results were written by {written_by:?}, not this run's master; nothing copied",
            run.master_pod
        )));
    }
    let cwd = std::env::current_dir()?;
    let dir = crate::results::prepare_dir(results_dir, &t.release, &cwd)
        .map_err(|e| Failure::failed(format!("--results-dir {e}")))?;
    write_results(&dir, &decoded)?;
    let mut compared = String::new();
    let mut code = exit::OK;
    if let Some(arg) = baseline {
        let name = summary["name"].as_str().unwrap_or(&t.release).to_string();
        let under = dir.parent().unwrap_or(&dir);
        match crate::results::resolve_baseline(arg, &name, under, Some(&dir))
            .map_err(|e| Failure::failed(format!("--baseline {e}")))?
        {
            Some((base, against)) => {
                let (v, table) =
                    crate::results::apply_baseline(&dir, &base, &against, exit::REGRESSED)
                        .map_err(Failure::failed)?;
                compared = table;
                if v == Verdict::Regressed {
                    code = exit::REGRESSED;
                }
            }
            None => {
                compared = format!(
                    "no earlier passed run of {name} in {}: nothing to compare with\n",
                    under.display()
                )
            }
        }
    }
    let summary = crate::results::read_summary(&dir).unwrap_or(summary);
    Ok(Output::ok(format!(
        "run: {}\n{compared}{}results in {}\n",
        run.text(),
        crate::results::table(&summary),
        dir.display()
    ))
    .with_code(code))
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
