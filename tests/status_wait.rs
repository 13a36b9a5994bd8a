//! `status`, `wait`, `report` and `rerun` against recorded kubectl outputs (fixtures/kubectl/,
//! labelled recordings: no cluster runs here), replayed by a stand-in kubectl that also logs the
//! exact arguments it was called with. `report`'s `kubectl exec` is played by running the very
//! script it sends with real Python on a results folder a real `local` run wrote.
// Without `tools`, the helpers of the tool-driven tests below are unused.
#![cfg_attr(not(feature = "tools"), allow(dead_code, unused_imports))]

mod common;
use assert_cmd::Command;
use common::*;
use std::path::{Path, PathBuf};

/// A stand-in kubectl replaying `scenario`; returns (its path, the file it logs arguments to).
fn stand_in(dir: &Path, scenario: &str) -> (PathBuf, PathBuf) {
    stand_in_with_results(dir, scenario, None)
}

/// As `stand_in`; `kubectl exec` (positional: `--context C --namespace N exec POD -c locust --
/// PYTHON -c SCRIPT DIR`) runs SCRIPT with the test venv's Python on `results` instead of DIR.
fn stand_in_with_results(dir: &Path, scenario: &str, results: Option<&Path>) -> (PathBuf, PathBuf) {
    let rec = fixture(&format!("kubectl/{scenario}"));
    let log = dir.join("kubectl-args.log");
    let script = dir.join("kubectl");
    let exec = match results {
        Some(r) => format!(
            "  *' exec '*) exec '{}' -c \"${{12}}\" '{}' ;;\n",
            venv_bin("python").display(),
            r.display()
        ),
        None => String::new(),
    };
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{log}'\ncase \"$*\" in\n  *' get deployments -l '*'component=master -o json') cat '{rec}/deployments-master.json' ;;\n  *' get pods -l '*'component=master -o json') cat '{rec}/pods-master.json' ;;\n  *' get pods -l '*'component=worker -o json') cat '{rec}/pods-worker.json' ;;\n  *' logs '*) cat '{rec}/logs-master.txt' ;;\n  *' rollout restart deployments -l '*) echo 'deployment.apps/ci-run-master restarted'; echo 'deployment.apps/ci-run-worker restarted' ;;\n  *' annotate deployments -l '*) echo 'deployment.apps/ci-run-master annotated' ;;\n{exec}  *) echo \"stand-in kubectl: unexpected arguments: $*\" >&2; exit 1 ;;\nesac\n",
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
    run_with(&kubectl, &log, dir.path(), args)
}

fn run_with(
    kubectl: &Path,
    log: &Path,
    cwd: &Path,
    args: &[&str],
) -> (String, String, i32, Vec<String>) {
    let out = Command::new(bin())
        .current_dir(cwd)
        .args(args)
        .arg("--kubectl")
        .arg(kubectl)
        .output()
        .unwrap();
    let calls = std::fs::read_to_string(log)
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

const DEPLOYMENT_CALL: &str = "--context perf --namespace perf-ci get deployments -l app.kubernetes.io/instance=ci-run,component=master -o json";
const MASTER_CALL: &str = "--context perf --namespace perf-ci get pods -l app.kubernetes.io/instance=ci-run,component=master -o json";
const WORKER_CALL: &str = "--context perf --namespace perf-ci get pods -l app.kubernetes.io/instance=ci-run,component=worker -o json";
const LOGS_CALL: &str =
    "--context perf --namespace perf-ci logs ci-run-master-5c7b9 -c locust --tail=500";
/// The copy marked on the master Deployment's own metadata, naming the run's master pod.
const ANNOTATE_CALL: &str = "--context perf --namespace perf-ci annotate deployments -l app.kubernetes.io/instance=ci-run,component=master --overwrite locust.project-planton.org/results-copied=ci-run-master-5c7b9";

#[cfg(feature = "tools")]
#[test]
fn recordings_are_valid_pods() {
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    for scenario in std::fs::read_dir(fixture("kubectl"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
    {
        for f in [
            "pods-master.json",
            "pods-worker.json",
            "deployments-master.json",
        ] {
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
            &calls[..3],
            [DEPLOYMENT_CALL, MASTER_CALL, WORKER_CALL],
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
    assert_eq!(
        calls,
        [DEPLOYMENT_CALL, MASTER_CALL, WORKER_CALL, LOGS_CALL]
    );

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

const TARGET: [&str; 5] = ["ci-run", "-n", "perf-ci", "--context", "perf"];

fn with_target(cmd: &str, extra: &[&str]) -> Vec<String> {
    std::iter::once(cmd)
        .chain(TARGET)
        .chain(extra.iter().copied())
        .map(String::from)
        .collect()
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn only_the_current_run_is_read() {
    // A rollout in progress (after a spec change or rerun): the previous master, with its result
    // line, is still up. No log is read, the run is not over.
    let (stdout, stderr, code, calls) = run(
        "rolling-out",
        &strs(&with_target("status", &["-o", "json"])),
    );
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["phase"], "Pending");
    assert_eq!(
        v["reason"],
        "a new master is rolling out (1 of 2 master pods current); the previous run's master is still up"
    );
    assert_eq!(calls, [DEPLOYMENT_CALL, MASTER_CALL, WORKER_CALL]);
    let (_, _, code, _) = run(
        "rolling-out",
        &strs(&with_target(
            "wait",
            &["--timeout", "1s", "--interval", "1s"],
        )),
    );
    assert_eq!(code, 3, "the old result line does not end the wait");

    // The outgoing master is terminating: the new one (its template's restartedAt) is read.
    let (stdout, _, code, calls) = run("outgoing-terminating", &strs(&with_target("status", &[])));
    assert_eq!(code, 0);
    assert!(stdout.starts_with("phase: Running\n"), "{stdout}");
    assert!(
        stdout.contains("run: master pod ci-run-master-8d2f4, scripts 4f1c2a9e8b7d, rerun 2026-11-28T03:00:00Z\n"),
        "{stdout}"
    );
    assert_eq!(
        calls.last().unwrap(),
        "--context perf --namespace perf-ci logs ci-run-master-8d2f4 -c locust --tail=500"
    );
}

#[test]
fn wait_names_missed_thresholds_and_fails() {
    // The log and result line of a real local run (fixtures/kubectl/README.md).
    let (stdout, _, code, calls) = run("thresholds-missed", &strs(&with_target("wait", &[])));
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("reason: threshold missed: maxFailRatio: 0.0575 > 0.05\n")
            && stdout.contains("threshold: FAIL maxFailRatio: 0.0575 > 0.05\n")
            && stdout.contains("threshold: PASS minRps: 35.19 >= 10\n")
            && stdout.contains("exitCode: 1\n"),
        "{stdout}"
    );
    assert_eq!(
        calls,
        [DEPLOYMENT_CALL, MASTER_CALL, WORKER_CALL, LOGS_CALL]
    );
    let (stdout, _, code, _) = run(
        "thresholds-missed",
        &strs(&with_target("wait", &["-o", "json"])),
    );
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["phase"], "Failed");
    assert_eq!(v["thresholds"].as_array().unwrap().len(), 5);
    assert_eq!(v["thresholds"][0]["name"], "maxFailRatio");
    assert_eq!(v["thresholds"][0]["passed"], false);
    assert_eq!(v["thresholds"][0]["measured"], 0.05747126436781609);
    assert_eq!(v["run"]["masterPod"], "ci-run-master-5c7b9");
    // Without thresholds the result is as before: status of a passing run.
    let (stdout, _, _, _) = run(
        "completed-pass",
        &strs(&with_target("status", &["-o", "json"])),
    );
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(v.get("thresholds").is_none(), "{v}");
}

#[test]
fn rerun_restarts_the_release_deployments() {
    let (stdout, stderr, code, calls) = run("completed-pass", &strs(&with_target("rerun", &[])));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        calls,
        [
            "--context perf --namespace perf-ci rollout restart deployments -l app.kubernetes.io/instance=ci-run"
        ]
    );
    assert!(
        stdout.contains("locust-planton wait ci-run -n perf-ci"),
        "{stdout}"
    );
    // By manifest: its name is the release, its namespace label the namespace.
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("ci.yaml");
    std::fs::write(
        &spec,
        results_spec("ci-run", 9, false, "5s", "").replace(
            "metadata: {name: ci-run}",
            "metadata: {name: ci-run, labels: {kubernetes.project-planton.org/namespace: perf-ci}}",
        ),
    )
    .unwrap();
    let (kubectl, log) = stand_in(dir.path(), "completed-pass");
    let (_, stderr, code, calls) = run_with(
        &kubectl,
        &log,
        dir.path(),
        &["rerun", "-f", spec.to_str().unwrap(), "--context", "perf"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        calls,
        [
            "--context perf --namespace perf-ci rollout restart deployments -l app.kubernetes.io/instance=ci-run"
        ]
    );
    let out = Command::new(bin())
        .args(["rerun", "ci-run", "-f", "x.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a release and -f conflict");
}

/// A real headless run of `ci-run` whose summary names the recorded master pod (its HOSTNAME,
/// as Kubernetes sets it; unsandboxed so the variable reaches the wrapper). Returns the folder.
fn real_results(dir: &Path) -> PathBuf {
    let port = http_target();
    let spec = dir.join("ci.yaml");
    std::fs::write(
        &spec,
        results_spec(
            "ci-run",
            port,
            true,
            "3s",
            "{maxFailRatio: 0.01, minRps: 1}",
        ),
    )
    .unwrap();
    let results = dir.join("pod-results");
    let out = std::process::Command::new(bin())
        .current_dir(dir)
        .env("HOSTNAME", "ci-run-master-5c7b9")
        .args(["local", "-f"])
        .arg(&spec)
        .args(["--no-sandbox", "--python"])
        .arg(venv_bin("python"))
        .args([
            "--master-port",
            &free_port().to_string(),
            "--web-port",
            &free_port().to_string(),
        ])
        .arg("--results-dir")
        .arg(&results)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "maxFailRatio is missed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    results
}

#[cfg(feature = "tools")]
#[test]
fn report_copies_the_current_runs_results_from_the_master_pod() {
    let dir = tempfile::tempdir().unwrap();
    let results = real_results(dir.path());
    let (kubectl, log) = stand_in_with_results(dir.path(), "thresholds-missed", Some(&results));
    let (stdout, stderr, code, calls) = run_with(
        &kubectl,
        &log,
        dir.path(),
        &strs(&with_target("report", &["--results-dir", "copied"])),
    );
    assert_eq!(code, 0, "{stderr}");
    let exec = format!(
        "--context perf --namespace perf-ci exec ci-run-master-5c7b9 -c locust -- /opt/venv/bin/python -c {} /home/locust/results",
        locust_planton::commands::ops::EXPORT_SCRIPT
    );
    assert_eq!(
        calls,
        [
            DEPLOYMENT_CALL,
            MASTER_CALL,
            WORKER_CALL,
            LOGS_CALL,
            exec.as_str(),
            ANNOTATE_CALL
        ]
    );
    let copied = dir.path().join("copied");
    let mut names: Vec<String> = std::fs::read_dir(&copied)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "junit.xml",
            "locust_exceptions.csv",
            "locust_failures.csv",
            "locust_stats.csv",
            "locust_stats_history.csv",
            "report.html",
            "summary.json"
        ]
    );
    for n in &names {
        assert_eq!(
            std::fs::read(copied.join(n)).unwrap(),
            std::fs::read(results.join(n)).unwrap(),
            "{n} copied byte for byte"
        );
    }
    assert!(
        stdout.starts_with("run: master pod ci-run-master-5c7b9, scripts 4f1c2a9e8b7d\n"),
        "{stdout}"
    );
    assert!(stdout.contains("FAIL maxFailRatio: "), "{stdout}");
    assert!(
        stdout.ends_with(&format!("results in {}\n", copied.display())),
        "{stdout}"
    );

    // The folder must be empty: nothing of another run mixes in, nothing is written.
    let (_, stderr, code, _) = run_with(
        &kubectl,
        &log,
        dir.path(),
        &strs(&with_target("report", &["--results-dir", "copied"])),
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("not empty"), "{stderr}");

    // Default folder: locust-results/<release>-<UTC time>.
    let (stdout, stderr, code, _) = run_with(
        &kubectl,
        &log,
        dir.path(),
        &strs(&with_target("report", &[])),
    );
    assert_eq!(code, 0, "{stderr}");
    let made = stdout
        .lines()
        .last()
        .unwrap()
        .strip_prefix("results in ")
        .unwrap();
    assert!(
        made.starts_with(&format!("{}/locust-results/ci-run-", dir.path().display())),
        "{made}"
    );
}

/// `wait --results-dir`: the run ends (FAILED, a threshold missed), its results are copied as
/// `report` copies them and marked copied, the verdict stays the last line and the exit code
/// the verdict's; a run that has not ended copies nothing; a folder that is not empty is
/// refused before any wait.
#[cfg(feature = "tools")]
#[test]
fn wait_results_dir_copies_the_ended_run_and_nothing_before() {
    let dir = tempfile::tempdir().unwrap();
    let results = real_results(dir.path());
    let (kubectl, log) = stand_in_with_results(dir.path(), "thresholds-missed", Some(&results));
    let wait = |extra: &[&str]| {
        let mut args = with_target("wait", &["--interval", "1s", "--timeout", "2s"]);
        args.extend(extra.iter().map(|s| s.to_string()));
        let _ = std::fs::remove_file(&log);
        run_with(&kubectl, &log, dir.path(), &strs(&args))
    };
    let (stdout, stderr, code, calls) = wait(&["--results-dir", "kept"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let kept = dir.path().join("kept");
    for n in [
        "summary.json",
        "junit.xml",
        "report.html",
        "locust_stats.csv",
    ] {
        assert_eq!(
            std::fs::read(kept.join(n)).unwrap(),
            std::fs::read(results.join(n)).unwrap(),
            "{n} copied byte for byte"
        );
    }
    assert!(
        stdout.ends_with(&format!("results in {}\nverdict: FAILED\n", kept.display())),
        "{stdout}"
    );
    assert_eq!(
        calls.last().map(String::as_str),
        Some(ANNOTATE_CALL),
        "{calls:?}"
    );
    // JSON: the folder joins the status.
    let (stdout, _, code, _) = wait(&["--results-dir", "kept-json", "-o", "json"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        v["resultsDir"],
        dir.path().join("kept-json").display().to_string()
    );
    assert_eq!(v["verdict"], "failed");

    // The folder is not empty now: refused at once, before kubectl is asked anything.
    let (stdout, stderr, code, calls) = wait(&["--results-dir", "kept"]);
    assert_eq!((code, stdout.as_str()), (1, ""), "{stderr}");
    assert!(stderr.contains("not empty"), "{stderr}");
    assert!(calls.is_empty(), "{calls:?}");

    // A run still going at the timeout: exit 3, nothing copied or marked.
    let second = dir.path().join("second");
    std::fs::create_dir(&second).unwrap();
    let (kubectl, log) = stand_in_with_results(&second, "running", Some(&results));
    let args = with_target(
        "wait",
        &[
            "--interval",
            "1s",
            "--timeout",
            "1s",
            "--results-dir",
            "never",
        ],
    );
    let (_, stderr, code, calls) = run_with(&kubectl, &log, dir.path(), &strs(&args));
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("the run has not ended: nothing copied into never"),
        "{stderr}"
    );
    assert!(!dir.path().join("never").exists());
    assert!(
        !calls
            .iter()
            .any(|c| c.contains(" exec ") || c.contains(" annotate ")),
        "{calls:?}"
    );
}

#[cfg(feature = "tools")]
#[test]
fn report_refuses_results_of_another_run_and_unfinished_runs() {
    let dir = tempfile::tempdir().unwrap();
    let results = real_results(dir.path());
    // The folder in the pod holds files an earlier pod wrote.
    let summary = results.join("summary.json");
    let text = std::fs::read_to_string(&summary).unwrap();
    std::fs::write(
        &summary,
        text.replace("ci-run-master-5c7b9", "ci-run-master-0ld00"),
    )
    .unwrap();
    let (kubectl, log) = stand_in_with_results(dir.path(), "thresholds-missed", Some(&results));
    let (_, stderr, code, _) = run_with(
        &kubectl,
        &log,
        dir.path(),
        &strs(&with_target("report", &["--results-dir", "out"])),
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("the results were written by \"ci-run-master-0ld00\", not this run's master; nothing copied"),
        "{stderr}"
    );
    assert!(!dir.path().join("out").exists(), "nothing written");

    // A run still going: nothing is copied, kubectl exec is never called.
    let second = dir.path().join("second");
    std::fs::create_dir(&second).unwrap();
    let (kubectl, log) = stand_in_with_results(&second, "running", Some(&results));
    let (_, stderr, code, calls) = run_with(
        &kubectl,
        &log,
        dir.path(),
        &strs(&with_target("report", &[])),
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("no finished run to report (phase Running"),
        "{stderr}"
    );
    assert!(!calls.iter().any(|c| c.contains(" exec ")), "{calls:?}");
}

/// A release with no objects is "not found", exit 1, at once: `status`, `wait` (no waiting for
/// the timeout), `report`, with either spelling of the context flag.
#[test]
fn a_release_with_no_objects_is_not_found_at_once() {
    for (command, context_flag) in [
        ("status", "--context"),
        ("wait", "--kube-context"),
        ("report", "--context"),
    ] {
        let started = std::time::Instant::now();
        let (stdout, stderr, code, calls) = run(
            "not-installed",
            &[command, "ci-run", "-n", "perf-ci", context_flag, "perf"],
        );
        assert_eq!(code, 1, "{command}: {stderr}");
        assert!(stdout.is_empty(), "{command}: {stdout}");
        // The message is the last line; `wait` shows its one poll before it.
        assert!(
            stderr.ends_with("locust-planton: release ci-run not found in namespace perf-ci\n"),
            "{command}: {stderr}"
        );
        assert!(stderr.lines().count() <= 2, "{command}: {stderr}");
        assert_eq!(
            calls,
            [DEPLOYMENT_CALL, MASTER_CALL, WORKER_CALL],
            "{command}"
        );
        // `wait`'s default timeout is 30 minutes: one look, not a wait.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "{command}"
        );
    }
}

/// `wait` shows every poll on stderr (not a terminal: timestamped lines) with the phase,
/// workers, users and Locust's latest aggregate; `--quiet` shows none; stdout is the same.
#[test]
fn wait_shows_progress_on_stderr_unless_quiet() {
    let args = ["wait", "ci-run", "-n", "perf-ci", "--context", "perf"];
    let (stdout, stderr, code, _) = run("completed-pass", &args);
    assert_eq!(code, 0);
    let polls: Vec<&str> = stderr.lines().collect();
    assert!(!polls.is_empty(), "no progress: {stderr}");
    for line in &polls {
        let (clock, text) = line.split_once(' ').unwrap();
        assert!(clock.len() == 9 && clock.ends_with('Z'), "{line}");
        assert!(!text.is_empty());
    }
    let last = polls.last().unwrap();
    assert!(last.contains("Completed, workers ready"), "{stderr}");
    let log = read(fixture("kubectl/completed-pass/logs-master.txt"));
    let aggregated = log
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with("Aggregated"))
        .unwrap();
    let reqs = aggregated.split_whitespace().nth(1).unwrap();
    assert!(
        last.contains(&format!("requests {reqs}, failures ")),
        "{last}\n{aggregated}"
    );

    let mut quiet = args.to_vec();
    quiet.push("--quiet");
    let (quiet_stdout, quiet_stderr, code, _) = run("completed-pass", &quiet);
    assert_eq!(code, 0);
    assert_eq!(quiet_stderr, "");
    assert_eq!(quiet_stdout, stdout);
}
