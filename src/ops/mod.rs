//! `status`, `wait` and `report`: the state of a headless run, read through kubectl (the master
//! Deployment, the pods of the release's master and workers, the master's log). The evaluation
//! is a pure function of what kubectl returns, so it is tested on recorded outputs.
//!
//! Run identity: a run is the master pod of the master Deployment's current pod template. Its
//! template carries the post-renderer's script hash and, after `rerun` (a rollout restart),
//! `kubectl.kubernetes.io/restartedAt`; a master pod whose annotations differ, or that is
//! terminating, belongs to an earlier run and is never read. While the Deployment has not
//! finished replacing its pods (a spec change, a `rerun`), there is no current run yet.

use crate::contract::RESULT_MARKER;
use crate::policy::rollout_hash::ANNOTATION as SCRIPTS_ANNOTATION;
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
    /// The run read: its master pod and the pod template's identity annotations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<RunIdentity>,
    /// Threshold verdicts from the result line (`spec.loadTest.run.thresholds`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub thresholds: Vec<Value>,
}

/// The annotation `rerun` (a rollout restart) sets on the pod template; with the scripts hash it
/// tells one run's pod template from another's.
pub const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunIdentity {
    pub master_pod: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scripts_sha256: Option<String>,
    /// Set by `rerun` (a rollout restart).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restarted_at: Option<String>,
}

impl RunIdentity {
    pub fn text(&self) -> String {
        let mut out = format!("master pod {}", self.master_pod);
        if let Some(h) = &self.scripts_sha256 {
            out.push_str(&format!(", scripts {}", &h[..h.len().min(12)]));
        }
        if let Some(r) = &self.restarted_at {
            out.push_str(&format!(", rerun {r}"));
        }
        out
    }
}

fn annotation<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj["annotations"][key].as_str()
}

/// The master pods of the Deployment's current pod template (not terminating), and why the
/// run is not current yet when the Deployment is still replacing an earlier run's master.
fn current_masters<'a>(
    deployments: &Value,
    pods: &[&'a Value],
) -> (Vec<&'a Value>, Option<String>) {
    let Some(d) = items(deployments).first().copied() else {
        return (
            Vec::new(),
            Some("no master Deployment (is the release installed in this namespace?)".into()),
        );
    };
    let template = &d["spec"]["template"]["metadata"];
    let matching: Vec<&Value> = pods
        .iter()
        .copied()
        .filter(|p| {
            let meta = &p["metadata"];
            meta["deletionTimestamp"].is_null()
                && [SCRIPTS_ANNOTATION, RESTARTED_AT]
                    .iter()
                    .all(|k| annotation(meta, k) == annotation(template, k))
        })
        .collect();
    let generation = d["metadata"]["generation"].as_i64().unwrap_or(0);
    let observed = d["status"]["observedGeneration"].as_i64().unwrap_or(0);
    if observed < generation {
        return (
            matching,
            Some("the master Deployment changed; its new pods are not created yet".into()),
        );
    }
    let total = d["status"]["replicas"].as_i64().unwrap_or(0);
    let updated = d["status"]["updatedReplicas"].as_i64().unwrap_or(0);
    if total > updated {
        return (
            matching,
            Some(format!(
                "a new master is rolling out ({updated} of {total} master pods current); the previous run's master is still up"
            )),
        );
    }
    (matching, None)
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
pub fn result_line(log: &str) -> Option<Value> {
    log.lines().rev().find_map(|l| {
        let json = l.trim().strip_prefix(RESULT_MARKER.trim_end())?;
        let v = serde_json::from_str::<Value>(json.trim()).ok()?;
        v["exitCode"].is_i64().then_some(v)
    })
}

pub fn result_in_log(log: &str) -> Option<i64> {
    result_line(log)?["exitCode"].as_i64()
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

/// The master pod of the current run whose log to read (its container has started), if any.
pub fn current_master(deployments: &Value, master_pods: &Value) -> Option<String> {
    let pods = items(master_pods);
    let (masters, not_current) = current_masters(deployments, &pods);
    if not_current.is_some() {
        return None;
    }
    let p = masters.first()?;
    let started = p["status"]["containerStatuses"]
        .as_array()?
        .iter()
        .any(|c| c["name"] == "locust" && !c["state"]["waiting"].is_object());
    started
        .then(|| p["metadata"]["name"].as_str().map(str::to_string))
        .flatten()
}

/// Evaluates `kubectl get deployments/pods -o json` for the master Deployment, master and worker
/// pods, and the current master's log.
pub fn evaluate(
    deployments: &Value,
    master_pods: &Value,
    worker_pods: &Value,
    master_log: Option<&str>,
) -> Status {
    let all_masters = items(master_pods);
    let (masters, not_current) = current_masters(deployments, &all_masters);
    let workers: Vec<&Value> = items(worker_pods)
        .into_iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .collect();
    let mut status = pending(&masters, &workers);
    if let Some(blocker) = masters.iter().chain(&workers).find_map(|p| pod_blocker(p)) {
        status.phase = Phase::Failed;
        status.reason = Some(blocker);
        status.infrastructure_failure = true;
        return status;
    }
    if let Some(why) = not_current {
        status.reason = Some(why);
        return status;
    }
    if let Some(line) = master_log
        .filter(|_| !masters.is_empty())
        .and_then(result_line)
    {
        finished(&mut status, &line);
        return status;
    }
    if masters.is_empty() {
        status.reason = Some(if all_masters.is_empty() {
            "no master pod yet".into()
        } else {
            "no master pod of the current run yet (only an earlier run's)".into()
        });
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
    if locust_running(masters[0]) {
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

/// The status before anything is known of the run: pending, with the current master pod and the
/// workers that are ready.
fn pending(masters: &[&Value], workers: &[&Value]) -> Status {
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
    Status {
        phase: Phase::Pending,
        reason: None,
        exit_code: None,
        infrastructure_failure: false,
        master_pod: masters
            .first()
            .and_then(|p| p["metadata"]["name"].as_str())
            .map(str::to_string),
        workers_ready: format!("{ready}/{}", workers.len()),
        run: masters.first().and_then(|p| {
            let meta = &p["metadata"];
            Some(RunIdentity {
                master_pod: meta["name"].as_str()?.to_string(),
                scripts_sha256: annotation(meta, SCRIPTS_ANNOTATION).map(str::to_string),
                restarted_at: annotation(meta, RESTARTED_AT).map(str::to_string),
            })
        }),
        thresholds: Vec::new(),
    }
}

/// The run has finished: its exit code and threshold verdicts from the result line, and why it
/// passed or failed.
fn finished(status: &mut Status, line: &Value) {
    let code = line["exitCode"].as_i64().unwrap_or(1);
    status.exit_code = Some(code);
    status.thresholds = line["thresholds"].as_array().cloned().unwrap_or_default();
    let missed: Vec<&str> = status
        .thresholds
        .iter()
        .filter(|t| t["passed"] != true)
        .filter_map(|t| t["text"].as_str())
        .collect();
    status.phase = if code == 0 {
        Phase::Completed
    } else {
        Phase::Failed
    };
    status.reason = Some(if let Some(e) = line["error"].as_str() {
        format!("Locust finished with exit code {code}: {e}")
    } else if let Some(invalid) = line["invalid"].as_str() {
        invalid.to_string()
    } else if let Some(abort) = line["abort"].as_str() {
        abort.to_string()
    } else if !missed.is_empty() {
        format!("threshold missed: {}", missed.join("; "))
    } else if code == 0 && !status.thresholds.is_empty() {
        "Locust finished; every threshold met".into()
    } else if code == 0 {
        "Locust finished; every request passed".into()
    } else {
        format!("Locust finished with exit code {code}: requests failed")
    });
}

/// The master pod's `locust` container is running.
fn locust_running(master: &Value) -> bool {
    master["status"]["containerStatuses"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["name"] == "locust" && c["state"]["running"].is_object())
}

/// The master Deployment's annotation naming the last run whose results were copied (by
/// `report`, `wait --results-dir`, `uninstall --results-dir`): its value is the run's identity,
/// the master pod's name. The pod, not the pod template: a master pod that is replaced (a
/// rerun, a rollout, an eviction) runs the test again and writes new results.
pub const RESULTS_COPIED: &str = "locust.project-planton.org/results-copied";

/// The run whose results `uninstall` would delete: the current master pod's, once its result
/// line is in the log. A run still going, a web UI master (no result line ever) or a cluster
/// that could not start it have none.
pub fn ended_run(s: &Status) -> Option<&str> {
    // `evaluate` sets the exit code only from the current master's result line (Completed or
    // Failed then); a blocked pod or a rollout in progress returns before reading it.
    s.run
        .as_ref()
        .filter(|_| s.exit_code.is_some())
        .map(|r| r.master_pod.as_str())
}

/// [`RESULTS_COPIED`] on the release's master Deployment, if set.
pub fn results_copied(deployments: &Value) -> Option<&str> {
    items(deployments)
        .first()
        .and_then(|d| annotation(&d["metadata"], RESULTS_COPIED))
}

/// What `uninstall` does about the current run's results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guard {
    /// Nothing would be lost: no ended run, or its results were copied.
    Allow,
    /// The run ended and nobody copied its results: exit 1, the release stays.
    Refuse,
    /// `--results-dir`: copy the ended run's results (and annotate), then uninstall.
    Copy,
}

/// The guard's decision from the ended run (if any), the run the annotation names and whether
/// `--results-dir` asks for a copy. `--discard-results` never gets here: it skips the guard.
pub fn guard(ended: Option<&str>, copied: Option<&str>, copy: bool) -> Guard {
    match ended {
        None => Guard::Allow,
        Some(_) if copy => Guard::Copy,
        Some(run) if copied == Some(run) => Guard::Allow,
        Some(_) => Guard::Refuse,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn result_line() {
        assert_eq!(
            result_in_log("x\nlocust-planton-result {\"exitCode\": 1}\n"),
            Some(1)
        );
        assert_eq!(result_in_log("no result"), None);
    }

    /// A master Deployment at `generation`, observed at `observed`, with `replicas` of which
    /// `updated` are current; its pod template carries the scripts hash `h1`.
    fn deployment(generation: i64, observed: i64, replicas: i64, updated: i64) -> Value {
        json!({"items": [{
            "metadata": {"generation": generation},
            "spec": {"template": {"metadata": {"annotations": {SCRIPTS_ANNOTATION: "h1"}}}},
            "status": {"observedGeneration": observed, "replicas": replicas, "updatedReplicas": updated},
        }]})
    }

    /// A pod named `name` with the scripts hash `hash`, its `locust` container in `state`.
    fn pod(name: &str, hash: &str, state: Value) -> Value {
        json!({
            "metadata": {"name": name, "annotations": {SCRIPTS_ANNOTATION: hash}},
            "status": {
                "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [{"name": "locust", "state": state}],
            },
        })
    }

    fn list(items: Vec<Value>) -> Value {
        json!({ "items": items })
    }

    fn running() -> Value {
        json!({"running": {}})
    }

    /// One evaluation: kubectl's answers in, the status's phase, reason, exit code, master pod
    /// and ready workers out.
    struct Case {
        what: &'static str,
        deployments: Value,
        masters: Value,
        workers: Value,
        log: Option<&'static str>,
        phase: Phase,
        reason: &'static str,
        exit_code: Option<i64>,
        infrastructure: bool,
        master_pod: Option<&'static str>,
        workers_ready: &'static str,
    }

    #[test]
    fn evaluate_table() {
        let cases = vec![
            Case {
                what: "nothing installed",
                deployments: list(vec![]),
                masters: list(vec![]),
                workers: list(vec![]),
                log: None,
                phase: Phase::Pending,
                reason: "no master Deployment (is the release installed in this namespace?)",
                exit_code: None,
                infrastructure: false,
                master_pod: None,
                workers_ready: "0/0",
            },
            Case {
                what: "the Deployment exists, no pod yet",
                deployments: deployment(1, 1, 1, 1),
                masters: list(vec![]),
                workers: list(vec![]),
                log: None,
                phase: Phase::Pending,
                reason: "no master pod yet",
                exit_code: None,
                infrastructure: false,
                master_pod: None,
                workers_ready: "0/0",
            },
            Case {
                what: "only an earlier run's master",
                deployments: deployment(2, 2, 1, 1),
                masters: list(vec![pod("old", "h0", running())]),
                workers: list(vec![]),
                log: Some("locust-planton-result {\"exitCode\": 0}"),
                phase: Phase::Pending,
                reason: "no master pod of the current run yet (only an earlier run's)",
                exit_code: None,
                infrastructure: false,
                master_pod: None,
                workers_ready: "0/0",
            },
            Case {
                what: "a changed Deployment not yet observed",
                deployments: deployment(2, 1, 1, 1),
                masters: list(vec![pod("m", "h1", running())]),
                workers: list(vec![]),
                log: None,
                phase: Phase::Pending,
                reason: "the master Deployment changed; its new pods are not created yet",
                exit_code: None,
                infrastructure: false,
                master_pod: Some("m"),
                workers_ready: "0/0",
            },
            Case {
                what: "a rollout under way",
                deployments: deployment(2, 2, 2, 1),
                masters: list(vec![pod("m", "h1", running())]),
                workers: list(vec![]),
                log: None,
                phase: Phase::Pending,
                reason: "a new master is rolling out (1 of 2 master pods current); the previous run's master is still up",
                exit_code: None,
                infrastructure: false,
                master_pod: Some("m"),
                workers_ready: "0/0",
            },
            Case {
                what: "running, workers counted by their Ready condition",
                deployments: deployment(1, 1, 1, 1),
                masters: list(vec![pod("m", "h1", running())]),
                workers: list(vec![
                    pod("w1", "h1", running()),
                    json!({"metadata": {"name": "w2"}, "status": {"conditions": [{"type": "Ready", "status": "False"}]}}),
                    json!({"metadata": {"name": "w3", "deletionTimestamp": "t"}}),
                ]),
                log: Some("starting"),
                phase: Phase::Running,
                reason: "test running, 1/2 workers ready",
                exit_code: None,
                infrastructure: false,
                master_pod: Some("m"),
                workers_ready: "1/2",
            },
            Case {
                what: "the master container still waiting",
                deployments: deployment(1, 1, 1, 1),
                masters: list(vec![pod(
                    "m",
                    "h1",
                    json!({"waiting": {"reason": "ContainerCreating"}}),
                )]),
                workers: list(vec![]),
                log: None,
                phase: Phase::Pending,
                reason: "master starting",
                exit_code: None,
                infrastructure: false,
                master_pod: Some("m"),
                workers_ready: "0/0",
            },
            Case {
                what: "an image that cannot be pulled is an infrastructure failure",
                deployments: deployment(1, 1, 1, 1),
                masters: list(vec![pod(
                    "m",
                    "h1",
                    json!({"waiting": {"reason": "ImagePullBackOff", "message": "no such image"}}),
                )]),
                workers: list(vec![]),
                log: None,
                phase: Phase::Failed,
                reason: "pod m: container locust: ImagePullBackOff: no such image",
                exit_code: None,
                infrastructure: true,
                master_pod: Some("m"),
                workers_ready: "0/0",
            },
            Case {
                what: "a failed init container (the pip step)",
                deployments: deployment(1, 1, 1, 1),
                masters: list(vec![json!({
                    "metadata": {"name": "m", "annotations": {SCRIPTS_ANNOTATION: "h1"}},
                    "status": {"initContainerStatuses": [{"name": "pip", "state": {"terminated": {"exitCode": 1, "message": "no matching distribution"}}}]},
                })]),
                workers: list(vec![]),
                log: None,
                phase: Phase::Failed,
                reason: "pod m: init container pip failed (exit 1): no matching distribution",
                exit_code: None,
                infrastructure: true,
                master_pod: Some("m"),
                workers_ready: "0/0",
            },
            Case {
                what: "an unschedulable master",
                deployments: deployment(1, 1, 1, 1),
                masters: list(vec![json!({
                    "metadata": {"name": "m", "annotations": {SCRIPTS_ANNOTATION: "h1"}},
                    "status": {"conditions": [{"type": "PodScheduled", "status": "False", "message": "0/1 nodes are available"}]},
                })]),
                workers: list(vec![]),
                log: None,
                phase: Phase::Pending,
                reason: "pod m not scheduled: 0/1 nodes are available",
                exit_code: None,
                infrastructure: false,
                master_pod: Some("m"),
                workers_ready: "0/0",
            },
            Case {
                what: "finished, every request passed",
                deployments: deployment(1, 1, 1, 1),
                masters: list(vec![pod("m", "h1", running())]),
                workers: list(vec![]),
                log: Some("stats\nlocust-planton-result {\"exitCode\": 0}\n"),
                phase: Phase::Completed,
                reason: "Locust finished; every request passed",
                exit_code: Some(0),
                infrastructure: false,
                master_pod: Some("m"),
                workers_ready: "0/0",
            },
            Case {
                what: "finished, a threshold missed",
                deployments: deployment(1, 1, 1, 1),
                masters: list(vec![pod("m", "h1", running())]),
                workers: list(vec![]),
                log: Some(
                    "locust-planton-result {\"exitCode\": 3, \"thresholds\": [{\"text\": \"p95 < 100ms\", \"passed\": false}, {\"text\": \"rps > 1\", \"passed\": true}]}",
                ),
                phase: Phase::Failed,
                reason: "threshold missed: p95 < 100ms",
                exit_code: Some(3),
                infrastructure: false,
                master_pod: Some("m"),
                workers_ready: "0/0",
            },
            Case {
                what: "finished with requests failed",
                deployments: deployment(1, 1, 1, 1),
                masters: list(vec![pod("m", "h1", running())]),
                workers: list(vec![]),
                log: Some("locust-planton-result {\"exitCode\": 1}"),
                phase: Phase::Failed,
                reason: "Locust finished with exit code 1: requests failed",
                exit_code: Some(1),
                infrastructure: false,
                master_pod: Some("m"),
                workers_ready: "0/0",
            },
            Case {
                what: "the wrapper's own error wins",
                deployments: deployment(1, 1, 1, 1),
                masters: list(vec![pod("m", "h1", running())]),
                workers: list(vec![]),
                log: Some(
                    "locust-planton-result {\"exitCode\": 2, \"error\": \"locustfile not found\"}",
                ),
                phase: Phase::Failed,
                reason: "Locust finished with exit code 2: locustfile not found",
                exit_code: Some(2),
                infrastructure: false,
                master_pod: Some("m"),
                workers_ready: "0/0",
            },
        ];
        for case in cases {
            let status = evaluate(&case.deployments, &case.masters, &case.workers, case.log);
            assert_eq!(status.phase, case.phase, "{}", case.what);
            assert_eq!(status.reason.as_deref(), Some(case.reason), "{}", case.what);
            assert_eq!(status.exit_code, case.exit_code, "{}", case.what);
            assert_eq!(
                status.infrastructure_failure, case.infrastructure,
                "{}",
                case.what
            );
            assert_eq!(
                status.master_pod.as_deref(),
                case.master_pod,
                "{}",
                case.what
            );
            assert_eq!(status.workers_ready, case.workers_ready, "{}", case.what);
        }
    }

    #[test]
    fn the_current_master_is_one_whose_locust_started() {
        struct Case {
            what: &'static str,
            deployments: Value,
            masters: Value,
            current: Option<&'static str>,
        }
        let cases = [
            Case {
                what: "started",
                deployments: deployment(1, 1, 1, 1),
                masters: list(vec![pod("m", "h1", running())]),
                current: Some("m"),
            },
            Case {
                what: "terminated counts as started",
                deployments: deployment(1, 1, 1, 1),
                masters: list(vec![pod("m", "h1", json!({"terminated": {"exitCode": 0}}))]),
                current: Some("m"),
            },
            Case {
                what: "waiting",
                deployments: deployment(1, 1, 1, 1),
                masters: list(vec![pod("m", "h1", json!({"waiting": {}}))]),
                current: None,
            },
            Case {
                what: "another run's",
                deployments: deployment(1, 1, 1, 1),
                masters: list(vec![pod("m", "h0", running())]),
                current: None,
            },
            Case {
                what: "rolling out",
                deployments: deployment(1, 1, 2, 1),
                masters: list(vec![pod("m", "h1", running())]),
                current: None,
            },
        ];
        for case in cases {
            assert_eq!(
                current_master(&case.deployments, &case.masters).as_deref(),
                case.current,
                "{}",
                case.what
            );
        }
    }

    #[test]
    fn result_lines_and_final_stats() {
        struct Case {
            what: &'static str,
            log: &'static str,
            exit: Option<i64>,
            stats: &'static str,
        }
        let cases = [
            Case {
                what: "the last result line counts",
                log: "locust-planton-result {\"exitCode\": 1}\nlocust-planton-result {\"exitCode\": 0}\n",
                exit: Some(0),
                stats: "",
            },
            Case {
                what: "a line without an integer exit code is not a result",
                log: "locust-planton-result {\"exitCode\": \"0\"}\nlocust-planton-result nope\n",
                exit: None,
                stats: "",
            },
            Case {
                what: "the last stats table before the result",
                log: "Type Name # reqs\nold\nType Name # reqs\nGET / 10\nlocust-planton-result {\"exitCode\": 0}\nafter\n",
                exit: Some(0),
                stats: "Type Name # reqs\nGET / 10\n",
            },
            Case {
                what: "no result: the table to the end",
                log: "Type Name\nGET / 1\n",
                exit: None,
                stats: "Type Name\nGET / 1\n",
            },
        ];
        for case in cases {
            assert_eq!(result_in_log(case.log), case.exit, "{}", case.what);
            assert_eq!(final_stats(case.log), case.stats, "{}", case.what);
        }
    }

    #[test]
    fn the_ended_run_is_the_current_master_with_a_result_line() {
        struct Case {
            what: &'static str,
            masters: Value,
            log: Option<&'static str>,
            ended: Option<&'static str>,
        }
        let pass = Some("locust-planton-result {\"exitCode\": 0}\n");
        let cases = [
            Case {
                what: "running: no result line yet (or a web UI master: never)",
                masters: list(vec![pod("m", "h1", running())]),
                log: Some("[2026] Starting Locust\n"),
                ended: None,
            },
            Case {
                what: "passed",
                masters: list(vec![pod("m", "h1", running())]),
                log: pass,
                ended: Some("m"),
            },
            Case {
                what: "failed: its results are worth keeping too",
                masters: list(vec![pod("m", "h1", running())]),
                log: Some("locust-planton-result {\"exitCode\": 1}\n"),
                ended: Some("m"),
            },
            Case {
                what: "the cluster could not run it: no results exist",
                masters: list(vec![pod(
                    "m",
                    "h1",
                    json!({"waiting": {"reason": "ImagePullBackOff"}}),
                )]),
                log: pass,
                ended: None,
            },
            Case {
                what: "only an earlier run's master: the current run has not started",
                masters: list(vec![pod("old", "h0", running())]),
                log: pass,
                ended: None,
            },
            Case {
                what: "no master pod (gone)",
                masters: list(vec![]),
                log: None,
                ended: None,
            },
        ];
        for case in cases {
            let s = evaluate(
                &deployment(1, 1, 1, 1),
                &case.masters,
                &list(vec![]),
                case.log,
            );
            assert_eq!(ended_run(&s), case.ended, "{}: {s:?}", case.what);
        }
    }

    #[test]
    fn the_copied_run_is_read_from_the_master_deployment() {
        let mut d = deployment(1, 1, 1, 1);
        assert_eq!(results_copied(&d), None);
        d["items"][0]["metadata"]["annotations"] = json!({RESULTS_COPIED: "m-1"});
        assert_eq!(results_copied(&d), Some("m-1"));
        // The pod template's annotations are not the Deployment's.
        let mut t = deployment(1, 1, 1, 1);
        t["items"][0]["spec"]["template"]["metadata"]["annotations"][RESULTS_COPIED] = json!("m-1");
        assert_eq!(results_copied(&t), None);
        assert_eq!(results_copied(&list(vec![])), None);
    }

    #[test]
    fn uninstall_refuses_only_an_ended_run_nobody_copied() {
        struct Case {
            what: &'static str,
            ended: Option<&'static str>,
            copied: Option<&'static str>,
            copy: bool,
            guard: Guard,
        }
        let cases = [
            Case {
                what: "no ended run, nothing copied",
                ended: None,
                copied: None,
                copy: false,
                guard: Guard::Allow,
            },
            Case {
                what: "no ended run, --results-dir: nothing to copy",
                ended: None,
                copied: Some("m-0"),
                copy: true,
                guard: Guard::Allow,
            },
            Case {
                what: "ended, never copied",
                ended: Some("m-1"),
                copied: None,
                copy: false,
                guard: Guard::Refuse,
            },
            Case {
                what: "ended, copied",
                ended: Some("m-1"),
                copied: Some("m-1"),
                copy: false,
                guard: Guard::Allow,
            },
            Case {
                what: "ended after a rerun: an earlier run was copied",
                ended: Some("m-2"),
                copied: Some("m-1"),
                copy: false,
                guard: Guard::Refuse,
            },
            Case {
                what: "ended, never copied, --results-dir",
                ended: Some("m-1"),
                copied: None,
                copy: true,
                guard: Guard::Copy,
            },
            Case {
                what: "ended, copied, --results-dir: copied again as asked",
                ended: Some("m-1"),
                copied: Some("m-1"),
                copy: true,
                guard: Guard::Copy,
            },
        ];
        for case in cases {
            assert_eq!(
                guard(case.ended, case.copied, case.copy),
                case.guard,
                "{}",
                case.what
            );
        }
    }
}
