//! `status` and `wait` against recorded kubectl outputs (fixtures/kubectl/, labelled
//! recordings: no cluster runs here), replayed by a stand-in kubectl that also logs the exact
//! arguments it was called with.

mod common;
use assert_cmd::Command;
use common::*;
use std::path::{Path, PathBuf};

/// A stand-in kubectl replaying `scenario`; returns (its path, the file it logs arguments to).
fn stand_in(dir: &Path, scenario: &str) -> (PathBuf, PathBuf) {
    let rec = fixture(&format!("kubectl/{scenario}"));
    let log = dir.join("kubectl-args.log");
    let script = dir.join("kubectl");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{log}'\ncase \"$*\" in\n  *' get pods -l '*'component=master -o json') cat '{rec}/pods-master.json' ;;\n  *' get pods -l '*'component=worker -o json') cat '{rec}/pods-worker.json' ;;\n  *' logs '*) cat '{rec}/logs-master.txt' ;;\n  *) echo \"stand-in kubectl: unexpected arguments: $*\" >&2; exit 1 ;;\nesac\n",
            log = log.display(),
            rec = rec.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (script, log)
}

fn run(scenario: &str, args: &[&str]) -> (String, String, i32, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let (kubectl, log) = stand_in(dir.path(), scenario);
    let out = Command::new(bin())
        .args(args)
        .arg("--kubectl")
        .arg(&kubectl)
        .output()
        .unwrap();
    let calls = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.code().unwrap(),
        calls,
    )
}

const MASTER_CALL: &str = "--context perf --namespace perf-ci get pods -l app.kubernetes.io/instance=ci-run,component=master -o json";
const WORKER_CALL: &str = "--context perf --namespace perf-ci get pods -l app.kubernetes.io/instance=ci-run,component=worker -o json";
const LOGS_CALL: &str =
    "--context perf --namespace perf-ci logs ci-run-master-5c7b9 -c locust --tail=500";

#[test]
fn recordings_are_valid_pods() {
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    for scenario in std::fs::read_dir(fixture("kubectl"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
    {
        for f in ["pods-master.json", "pods-worker.json"] {
            let list: serde_json::Value = serde_json::from_str(&read(scenario.join(f))).unwrap();
            for pod in list["items"].as_array().unwrap() {
                n += 1;
                std::fs::write(dir.path().join(format!("pod-{n}.json")), pod.to_string()).unwrap();
            }
        }
    }
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(files.len() >= 15);
    validate_strict(&files);
}

#[test]
fn status_reports_each_phase() {
    for (scenario, phase, reason) in [
        ("running", "Running", "test running, 3/3 workers ready"),
        (
            "completed-pass",
            "Completed",
            "Locust finished; every request passed",
        ),
        (
            "completed-fail",
            "Failed",
            "Locust finished with exit code 1: requests failed",
        ),
        (
            "image-pull-error",
            "Failed",
            "pod ci-run-worker-7d9f8-2: container locust: ImagePullBackOff: Back-off pulling image \"locustio/locust:2.32.2\"",
        ),
        (
            "pip-install-failed",
            "Failed",
            "pod ci-run-master-5c7b9: init container pip-install failed (exit 1): ERROR: No matching distribution found for nosuchpkg==9.9",
        ),
        (
            "unschedulable",
            "Pending",
            "pod ci-run-master-5c7b9 not scheduled: 0/3 nodes are available: 3 Insufficient cpu.",
        ),
        ("no-pods", "Pending", "no master pod yet"),
    ] {
        let (stdout, stderr, code, calls) = run(
            scenario,
            &[
                "status",
                "ci-run",
                "-n",
                "perf-ci",
                "--context",
                "perf",
                "-o",
                "json",
            ],
        );
        assert_eq!(code, 0, "{scenario}: {stderr}");
        let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(v["phase"], phase, "{scenario}");
        assert_eq!(v["reason"], reason, "{scenario}");
        assert_eq!(
            &calls[..2],
            [MASTER_CALL, WORKER_CALL],
            "{scenario}: exact kubectl arguments"
        );
    }
}

#[test]
fn wait_exit_codes_and_final_stats() {
    let (stdout, _, code, calls) = run(
        "completed-pass",
        &["wait", "ci-run", "-n", "perf-ci", "--context", "perf"],
    );
    assert_eq!(code, 0);
    assert!(
        stdout.starts_with("Type     Name"),
        "final stats first:\n{stdout}"
    );
    assert!(
        stdout.contains("POST     /cart/checkout") && stdout.contains("phase: Completed"),
        "{stdout}"
    );
    assert_eq!(calls, [MASTER_CALL, WORKER_CALL, LOGS_CALL]);

    let (stdout, _, code, _) = run(
        "completed-fail",
        &["wait", "ci-run", "-n", "perf-ci", "--context", "perf"],
    );
    assert_eq!(code, 1, "failed requests");
    assert!(
        stdout.contains("112(0.62%)") && stdout.contains("exitCode: 1"),
        "{stdout}"
    );

    for scenario in ["image-pull-error", "pip-install-failed"] {
        let (stdout, _, code, _) = run(
            scenario,
            &["wait", "ci-run", "-n", "perf-ci", "--context", "perf"],
        );
        assert_eq!(code, 3, "{scenario}: infrastructure failure");
        assert!(
            stdout.contains("phase: Failed\nreason: pod "),
            "{scenario}: {stdout}"
        );
    }

    let (stdout, _, code, calls) = run(
        "unschedulable",
        &[
            "wait",
            "ci-run",
            "-n",
            "perf-ci",
            "--context",
            "perf",
            "--timeout",
            "2s",
            "--interval",
            "1s",
        ],
    );
    assert_eq!(code, 3, "timeout");
    assert!(stdout.contains("reason: pod ci-run-master-5c7b9 not scheduled: 0/3 nodes are available: 3 Insufficient cpu.\n"), "{stdout}");
    assert!(stdout.ends_with("timed out after 2s\n"), "{stdout}");
    assert!(calls.len() >= 4, "polled more than once: {calls:?}");
}

#[test]
fn kubectl_failures_and_bad_flags() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(bin())
        .args(["status", "ci-run", "--kubectl", "/bin/false"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "kubectl itself failed");
    let out = Command::new(bin())
        .args(["status", "ci-run", "--kubectl"])
        .arg(dir.path().join("missing"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("kubectl not found"));
    let (_, stderr, code, _) = run("running", &["wait", "ci-run", "--timeout", "soon"]);
    assert_eq!(code, 2, "{stderr}");
}
