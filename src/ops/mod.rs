//! `status` and `wait`: the state of a headless run, read through kubectl (pods of the release's
//! master and workers, the master's log). The evaluation is a pure function of what kubectl
//! returns, so it is tested on recorded outputs.

use crate::values::extensions::RESULT_MARKER;
use serde::Serialize;
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Phase {
    Pending,
    Running,
    Completed,
    Failed,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub phase: Phase,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Locust's exit code once the master finished (0 passed, 1 requests failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i64>,
    /// The cluster cannot run the test (image pull, failed pip install, …).
    pub infrastructure_failure: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master_pod: Option<String>,
    pub workers_ready: String,
}

/// Why a pod cannot run, if it cannot: image pulls, config errors, failed init containers.
fn pod_blocker(pod: &Value) -> Option<String> {
    let name = pod["metadata"]["name"].as_str().unwrap_or("?");
    for (list, kind) in [
        ("initContainerStatuses", "init container"),
        ("containerStatuses", "container"),
    ] {
        for c in pod["status"][list].as_array().into_iter().flatten() {
            let cname = c["name"].as_str().unwrap_or("?");
            let waiting = &c["state"]["waiting"];
            if let Some(
                r @ ("ErrImagePull"
                | "ImagePullBackOff"
                | "InvalidImageName"
                | "CreateContainerConfigError"
                | "CreateContainerError"),
            ) = waiting["reason"].as_str()
            {
                let msg = waiting["message"].as_str().unwrap_or("");
                return Some(
                    format!("pod {name}: {kind} {cname}: {r}: {msg}")
                        .trim_end_matches([' ', ':'])
                        .to_string(),
                );
            }
            if kind == "init container" {
                let term = if c["state"]["terminated"].is_object() {
                    &c["state"]["terminated"]
                } else {
                    &c["lastState"]["terminated"]
                };
                if term["exitCode"].as_i64().is_some_and(|e| e != 0) {
                    let detail = term["message"]
                        .as_str()
                        .or(term["reason"].as_str())
                        .unwrap_or("")
                        .trim();
                    return Some(format!(
                        "pod {name}: init container {cname} failed (exit {}): {detail}",
                        term["exitCode"]
                    ));
                }
            }
        }
    }
    None
}

fn unschedulable(pod: &Value) -> Option<String> {
    pod["status"]["conditions"]
        .as_array()?
        .iter()
        .find_map(|c| {
            (c["type"] == "PodScheduled" && c["status"] == "False").then(|| {
                format!(
                    "pod {} not scheduled: {}",
                    pod["metadata"]["name"].as_str().unwrap_or("?"),
                    c["message"].as_str().or(c["reason"].as_str()).unwrap_or("")
                )
            })
        })
}

/// The run's result line in the master's log, if Locust has finished.
pub fn result_in_log(log: &str) -> Option<i64> {
    log.lines().rev().find_map(|l| {
        let json = l.trim().strip_prefix(RESULT_MARKER.trim_end())?;
        serde_json::from_str::<Value>(json.trim()).ok()?["exitCode"].as_i64()
    })
}

/// Locust's final statistics: the last stats table before the result line.
pub fn final_stats(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    let end = lines
        .iter()
        .rposition(|l| l.contains(RESULT_MARKER.trim_end()))
        .unwrap_or(lines.len());
    let start = lines[..end]
        .iter()
        .rposition(|l| l.trim_start().starts_with("Type ") && l.contains("Name"))
        .unwrap_or(end);
    lines[start..end].iter().map(|l| format!("{l}\n")).collect()
}

fn items(list: &Value) -> Vec<&Value> {
    list["items"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

/// Evaluates `kubectl get pods -o json` for master and workers and the master's log.
pub fn evaluate(master_pods: &Value, worker_pods: &Value, master_log: Option<&str>) -> Status {
    let masters = items(master_pods);
    let workers = items(worker_pods);
    let ready = workers
        .iter()
        .filter(|p| {
            p["status"]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
        .count();
    let mut status = Status {
        phase: Phase::Pending,
        reason: None,
        exit_code: None,
        infrastructure_failure: false,
        master_pod: masters
            .first()
            .and_then(|p| p["metadata"]["name"].as_str())
            .map(str::to_string),
        workers_ready: format!("{ready}/{}", workers.len()),
    };
    if let Some(blocker) = masters.iter().chain(&workers).find_map(|p| pod_blocker(p)) {
        status.phase = Phase::Failed;
        status.reason = Some(blocker);
        status.infrastructure_failure = true;
        return status;
    }
    if let Some(code) = master_log.and_then(result_in_log) {
        status.exit_code = Some(code);
        status.phase = if code == 0 {
            Phase::Completed
        } else {
            Phase::Failed
        };
        status.reason = Some(if code == 0 {
            "Locust finished; every request passed".into()
        } else {
            format!("Locust finished with exit code {code}: requests failed")
        });
        return status;
    }
    if masters.is_empty() {
        status.reason = Some("no master pod yet".into());
        return status;
    }
    if let Some(u) = masters
        .iter()
        .chain(&workers)
        .find_map(|p| unschedulable(p))
    {
        status.reason = Some(u);
        return status;
    }
    let running = masters[0]["status"]["containerStatuses"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["name"] == "locust" && c["state"]["running"].is_object());
    if running {
        status.phase = Phase::Running;
        status.reason = Some(format!(
            "test running, {} workers ready",
            status.workers_ready
        ));
    } else {
        status.reason = Some("master starting".into());
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_line() {
        assert_eq!(
            result_in_log("x\nlocust-planton-result {\"exitCode\": 1}\n"),
            Some(1)
        );
        assert_eq!(result_in_log("no result"), None);
    }
}
