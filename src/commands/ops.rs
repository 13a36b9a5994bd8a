//! `status`, `wait` (through kubectl) and `plan`.

use super::{Failure, exit};
use crate::ops::{Phase, Status, evaluate, final_stats};
use crate::spec::duration;
use serde_json::Value;
use std::time::{Duration, Instant};

#[derive(Clone, Debug, Default)]
pub struct Target {
    pub release: String,
    pub namespace: Option<String>,
    pub context: Option<String>,
    /// kubectl [default: $KUBECTL, else kubectl on PATH].
    pub kubectl: Option<String>,
}

impl Target {
    fn kubectl(&self, args: &[String]) -> Result<String, Failure> {
        let program = self
            .kubectl
            .clone()
            .or_else(|| std::env::var("KUBECTL").ok())
            .unwrap_or_else(|| "kubectl".into());
        let mut full: Vec<String> = Vec::new();
        if let Some(c) = &self.context {
            full.extend(["--context".into(), c.clone()]);
        }
        if let Some(n) = &self.namespace {
            full.extend(["--namespace".into(), n.clone()]);
        }
        full.extend(args.iter().cloned());
        let out = duct::cmd(std::ffi::OsString::from(&program), &full)
            .stdout_capture()
            .stderr_capture()
            .unchecked()
            .run()
            .map_err(|e| Failure::failed(format!("kubectl not found ({program}: {e}); install kubectl or point --kubectl / $KUBECTL at it")))?;
        if !out.status.success() {
            return Err(Failure::new(
                exit::TOOL_FAILED,
                format!(
                    "kubectl failed:\n{}",
                    String::from_utf8_lossy(&out.stderr).trim_end()
                ),
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn pods(&self, component: &str) -> Result<Value, Failure> {
        let selector = format!(
            "app.kubernetes.io/instance={},component={component}",
            self.release
        );
        let text = self.kubectl(&[
            "get".into(),
            "pods".into(),
            "-l".into(),
            selector,
            "-o".into(),
            "json".into(),
        ])?;
        serde_json::from_str(&text)
            .map_err(|e| Failure::failed(format!("kubectl returned no pod list: {e}")))
    }

    /// One observation: pods, and the master's log when its container has started.
    pub fn observe(&self) -> Result<(Status, Option<String>), Failure> {
        let masters = self.pods("master")?;
        let workers = self.pods("worker")?;
        let pod = masters["items"]
            .as_array()
            .and_then(|a| a.first())
            .and_then(|p| {
                let started = p["status"]["containerStatuses"]
                    .as_array()?
                    .iter()
                    .any(|c| c["name"] == "locust" && !c["state"]["waiting"].is_object());
                started
                    .then(|| p["metadata"]["name"].as_str().map(str::to_string))
                    .flatten()
            });
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
        Ok((evaluate(&masters, &workers, log.as_deref()), log))
    }
}

pub fn status(t: &Target, json: bool) -> Result<String, Failure> {
    let (s, _) = t.observe()?;
    Ok(render(&s, json))
}

fn render(s: &Status, json: bool) -> String {
    if json {
        return format!("{}\n", serde_json::to_string_pretty(s).unwrap());
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
    out
}

/// Polls until the run ends. Returns (stdout, exit code): 0 passed, 1 requests failed,
/// 3 timeout or infrastructure failure.
pub fn wait(t: &Target, timeout: &str, interval: &str) -> Result<(String, u8), Failure> {
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
    let start = Instant::now();
    loop {
        let (s, log) = t.observe()?;
        match s.phase {
            Phase::Completed | Phase::Failed if !s.infrastructure_failure => {
                let stats = log.as_deref().map(final_stats).unwrap_or_default();
                let code = if s.phase == Phase::Completed {
                    exit::OK
                } else {
                    exit::FAILED
                };
                return Ok((format!("{stats}{}", render(&s, false)), code));
            }
            Phase::Failed => return Ok((render(&s, false), exit::TIMEOUT)),
            _ if start.elapsed() >= Duration::from_secs(limit) => {
                let mut out = render(&s, false);
                out.push_str(&format!("timed out after {timeout}\n"));
                return Ok((out, exit::TIMEOUT));
            }
            _ => std::thread::sleep(Duration::from_secs(every).min(
                Duration::from_secs(limit).saturating_sub(start.elapsed())
                    + Duration::from_millis(10),
            )),
        }
    }
}
