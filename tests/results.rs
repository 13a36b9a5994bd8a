//! Verdicts of real headless `local` runs (real Locust, master and worker in the sandbox) against
//! a loopback target whose latency and errors the test sets: a baseline passes, a slower target
//! is REGRESSED (exit 5) with the rows that moved, a CPU-burning locustfile is INVALID (exit 6),
//! an error burst aborts early (FAILED, exit 1) naming the threshold.
#![cfg_attr(not(feature = "tools"), allow(dead_code, unused_imports))]

mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// What the target does, changed by the test between runs.
#[derive(Default)]
struct Behaviour {
    latency_ms: AtomicU64,
    failing: AtomicBool,
}

/// A loopback target answering each request after `latency_ms`, with 500 while `failing`.
fn controlled_target() -> (u16, Arc<Behaviour>) {
    let behaviour = Arc::new(Behaviour::default());
    let b = behaviour.clone();
    let port = http_target_answering(move |_| {
        std::thread::sleep(std::time::Duration::from_millis(
            b.latency_ms.load(Ordering::SeqCst),
        ));
        b.failing.load(Ordering::SeqCst)
    });
    (port, behaviour)
}

/// A manifest with one worker, `users` users on `/` and `/cart`, and `run_extra` under `run:`.
fn spec(name: &str, port: u16, user_class: &str, run_extra: &str) -> String {
    format!(
        r#"apiVersion: kubernetes.project-planton.org/v1
kind: LocustKubernetes
metadata: {{name: {name}}}
spec:
  workerContainer: {{replicas: 1}}
  loadTest:
    name: {name}
    host: http://127.0.0.1:{port}
    mainPyContent: |
{user_class}
    run:
      users: 4
      spawnRate: 4
{run_extra}"#
    )
}

const SHOPPER: &str = r#"      from locust import HttpUser, task, constant
      class Shopper(HttpUser):
          wait_time = constant(0.05)
          @task(3)
          def home(self):
              self.client.get("/")
          @task(1)
          def cart(self):
              self.client.get("/cart")"#;

/// Real OS threads hashing (hashlib releases the GIL): the worker process wants more than one
/// core; on a busy machine it may get less, but it runs or waits for a CPU all the time (its CPU
/// demand). Started by the first user, so only on the worker, for the few seconds of the run.
const CPU_BURNER: &str = r#"      import hashlib, time
      import gevent
      from locust import HttpUser, task, constant
      def burn(until):
          data = b"x" * (1 << 20)
          while time.time() < until:
              hashlib.sha256(data).digest()
      class Burner(HttpUser):
          wait_time = constant(0.05)
          started = False
          def on_start(self):
              if not Burner.started:
                  Burner.started = True
                  for _ in range(2):
                      gevent.get_hub().threadpool.spawn(burn, time.time() + 6)
          @task
          def home(self):
              self.client.get("/")"#;

struct Outcome {
    code: i32,
    stderr: String,
    folder: PathBuf,
}

/// `local -f spec` in `cwd` with its results in `cwd/runs/<run>` and `extra` arguments.
fn local_run(cwd: &Path, spec_text: &str, run: &str, extra: &[&str]) -> Outcome {
    let f = cwd.join("spec.yaml");
    std::fs::write(&f, spec_text).unwrap();
    let folder = cwd.join("runs").join(run);
    let out = std::process::Command::new(bin())
        .current_dir(cwd)
        .args(["local", "-f"])
        .arg(&f)
        .args(["--python", venv_bin("python").to_str().unwrap()])
        .args(["--master-port", &free_port().to_string()])
        .args(["--web-port", &free_port().to_string()])
        .arg("--results-dir")
        .arg(&folder)
        .args(extra)
        .output()
        .unwrap();
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        folder,
    }
}

fn summary(folder: &Path) -> Value {
    serde_json::from_str(&read(folder.join("summary.json"))).unwrap()
}

/// JUnit test cases as (suite, case, failure type if failed).
fn junit_cases(folder: &Path) -> Vec<(String, String, Option<String>)> {
    let xml = read(folder.join("junit.xml"));
    let doc = roxmltree::Document::parse(&xml).expect("junit.xml is XML");
    let root = doc.root_element();
    let cases: Vec<(String, String, Option<String>)> = root
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .map(|c| {
            let suite = c.parent().unwrap().attribute("name").unwrap().to_string();
            let failure = c
                .children()
                .find(|n| n.has_tag_name("failure"))
                .map(|f| f.attribute("type").unwrap().to_string());
            (suite, c.attribute("name").unwrap().to_string(), failure)
        })
        .collect();
    let failed = cases.iter().filter(|c| c.2.is_some()).count();
    assert_eq!(root.attribute("tests").unwrap(), cases.len().to_string());
    assert_eq!(root.attribute("failures").unwrap(), failed.to_string());
    cases
}

/// Rows of `summary.json`'s `baseline` that regressed, as `scope metric`.
fn regressed_rows(s: &Value) -> Vec<String> {
    s["baseline"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["regressed"] == true)
        .map(|r| {
            format!(
                "{} {}",
                r["scope"].as_str().unwrap(),
                r["metric"].as_str().unwrap()
            )
        })
        .collect()
}

const TOLERANCES: &str = "      runTime: 4s
      baseline:
        avgResponseTimeIncrease: 0.5
        percentileResponseTimeIncrease: {\"95\": 0.5}
        rpsDecrease: 0.4
        failRatioIncrease: 0.01
";

#[cfg(feature = "tools")]
#[test]
fn a_baseline_passes_and_a_slower_target_regresses_with_the_rows_that_moved() {
    let (port, target) = controlled_target();
    target.latency_ms.store(100, Ordering::SeqCst);
    let dir = tempfile::tempdir().unwrap();
    let text = spec("shop", port, SHOPPER, TOLERANCES);

    // The first run has nothing to compare with: it passes and becomes the baseline.
    let first = local_run(dir.path(), &text, "1-first", &["--baseline", "last"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(
        first.stderr.contains(&format!(
            "no earlier passed run of shop in {}: nothing to compare with",
            dir.path().join("runs").display()
        )),
        "{}",
        first.stderr
    );
    let s = summary(&first.folder);
    assert_eq!(s["verdict"], "passed");
    assert_eq!(s["baseline"], Value::Null);
    // Per-request rows from the stats CSV, and the spec's tolerances recorded.
    let names: Vec<&str> = s["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["/", "/cart"]);
    assert_eq!(s["baselineTolerances"]["rpsDecrease"], 0.4);

    // The same target again, against the last passed run: PASSED, every row within.
    let second = local_run(dir.path(), &text, "2-second", &["--baseline", "last"]);
    assert_eq!(second.code, 0, "{}", second.stderr);
    let s = summary(&second.folder);
    assert_eq!(s["verdict"], "passed");
    assert!(
        s["baseline"]["against"]
            .as_str()
            .unwrap()
            .ends_with("1-first"),
        "{}",
        s["baseline"]
    );
    assert_eq!(regressed_rows(&s), Vec::<String>::new());
    // Aggregated, GET / and GET /cart, each with avg, p95, rps and fail ratio.
    assert_eq!(s["baseline"]["rows"].as_array().unwrap().len(), 12);
    assert!(
        second.stderr.contains("PASSED: exit code 0"),
        "{}",
        second.stderr
    );
    let cases = junit_cases(&second.folder);
    let baseline_cases: Vec<&(String, String, Option<String>)> = cases
        .iter()
        .filter(|c| c.0 == "locust-planton shop baseline")
        .collect();
    assert_eq!(baseline_cases.len(), 12);
    assert!(baseline_cases.iter().all(|c| c.2.is_none()));

    // Four times slower: REGRESSED against the first run's summary.json, exit 5.
    target.latency_ms.store(400, Ordering::SeqCst);
    let baseline_file = first.folder.join("summary.json");
    let slow = local_run(
        dir.path(),
        &text,
        "3-slow",
        &["--baseline", baseline_file.to_str().unwrap()],
    );
    assert_eq!(slow.code, 5, "{}", slow.stderr);
    let s = summary(&slow.folder);
    assert_eq!(s["verdict"], "regressed");
    let regressed = regressed_rows(&s);
    for row in [
        "Aggregated avgResponseTimeMs",
        "Aggregated percentileResponseTimeMs[95]",
        "Aggregated rps",
        "GET / avgResponseTimeMs",
        "GET /cart avgResponseTimeMs",
    ] {
        assert!(regressed.contains(&row.to_string()), "{row}: {regressed:?}");
    }
    assert!(
        !regressed.iter().any(|r| r.ends_with("failRatio")),
        "no request failed: {regressed:?}"
    );
    // Each regressed row is a failed JUnit case of type `regressed`, and the table says so.
    let cases = junit_cases(&slow.folder);
    let failed: Vec<String> = cases
        .iter()
        .filter(|c| c.2.as_deref() == Some("regressed"))
        .map(|c| c.1.clone())
        .collect();
    assert_eq!(failed, regressed);
    assert!(
        slow.stderr
            .contains("REGRESSED  Aggregated  avgResponseTimeMs"),
        "{}",
        slow.stderr
    );
    assert!(
        slow.stderr.contains("REGRESSED: exit code 5"),
        "{}",
        slow.stderr
    );

    // `last` never picks a regressed run: the newest passed one is still the second.
    let again = local_run(dir.path(), &text, "4-again", &["--baseline", "last"]);
    assert_eq!(again.code, 5, "{}", again.stderr);
    assert!(
        summary(&again.folder)["baseline"]["against"]
            .as_str()
            .unwrap()
            .ends_with("2-second")
    );
}

#[cfg(feature = "tools")]
#[test]
fn a_cpu_saturated_worker_makes_the_run_invalid() {
    let (port, _target) = controlled_target();
    let dir = tempfile::tempdir().unwrap();
    let run = local_run(
        dir.path(),
        &spec(
            "burner",
            port,
            CPU_BURNER,
            "      runTime: 4s\n      thresholds: {maxFailRatio: 0}\n",
        ),
        "burn",
        &[],
    );
    assert_eq!(run.code, 6, "{}", run.stderr);
    let s = summary(&run.folder);
    assert_eq!(s["verdict"], "invalid");
    assert_eq!(s["exitCode"], 6);
    // The thresholds themselves were met: the generator alone makes the run invalid.
    assert_eq!(s["thresholds"][0]["passed"], true);
    let g = &s["generator"];
    assert_eq!(g["valid"], false);
    assert_eq!(g["expectedWorkers"], 1);
    assert_eq!(g["connectedWorkers"], 1);
    // Locust's own CPU figure depends on what else the machine runs; the demand does not.
    let worker = &g["workers"][0];
    assert!(
        worker["maxCpuDemandPercent"].as_f64().unwrap() > 90.0,
        "{g}"
    );
    assert!(worker["samples"].as_u64().unwrap() >= 1, "{g}");
    let reason = g["reasons"][0].as_str().unwrap();
    assert!(
        reason.starts_with("1 of 1 worker(s) saturated their CPU (up to "),
        "{reason}"
    );
    assert!(
        g["advice"]
            .as_str()
            .unwrap()
            .contains("locust-planton plan --users 4"),
        "{g}"
    );
    let cases = junit_cases(&run.folder);
    assert!(
        cases.contains(&(
            "locust-planton burner".into(),
            "load generator".into(),
            Some("invalid".into())
        )),
        "{cases:?}"
    );
    assert!(
        run.stderr
            .contains("INVALID load generator: 1 of 1 worker(s) saturated")
            && run.stderr.contains("INVALID: exit code 6"),
        "{}",
        run.stderr
    );
}

#[cfg(feature = "tools")]
#[test]
fn an_error_burst_aborts_the_run_early_at_the_threshold() {
    let (port, target) = controlled_target();
    target.failing.store(true, Ordering::SeqCst);
    let dir = tempfile::tempdir().unwrap();
    let run = local_run(
        dir.path(),
        &spec(
            "burst",
            port,
            SHOPPER,
            "      runTime: 60s\n      abortEarly: true\n      warmUp: 2s\n      thresholds: {maxAvgResponseTimeMs: 5000, maxFailRatio: 0.1}\n",
        ),
        "burst",
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let s = summary(&run.folder);
    assert_eq!(s["verdict"], "failed");
    let a = &s["abort"];
    assert_eq!(a["threshold"], "maxFailRatio", "{a}");
    assert_eq!(a["limit"], 0.1);
    assert_eq!(a["measured"], 1.0, "every request failed");
    // Judged after the warm-up, long before the minute of runTime.
    let after = a["afterSeconds"].as_f64().unwrap();
    assert!((2.0..60.0).contains(&after), "{a}");
    assert!(s["run"]["finishedAt"].is_string());
    let cases = junit_cases(&run.folder);
    assert!(
        cases
            .iter()
            .any(|c| c.1 == "abortEarly" && c.2.as_deref() == Some("abort")),
        "{cases:?}"
    );
    assert!(
        run.stderr
            .contains("FAIL aborted early: maxFailRatio breached after ")
            && run.stderr.contains("FAILED: exit code 1"),
        "{}",
        run.stderr
    );
}

/// The same error burst in a run with `metrics` (the web UI on, `--autostart --autoquit`):
/// the breach stops the run, the statistics stay served for `--autoquit` seconds (1 here, an
/// argument after the spec's 30), then Locust quits and the run is judged as a headless one.
#[cfg(feature = "tools")]
#[test]
fn an_error_burst_aborts_a_run_with_the_web_ui_on() {
    let (port, target) = controlled_target();
    target.failing.store(true, Ordering::SeqCst);
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{}  metrics: {{prometheus: {{enabled: true}}}}\n",
        spec(
            "watched-burst",
            port,
            SHOPPER,
            "      runTime: 60s\n      abortEarly: true\n      warmUp: 2s\n      thresholds: {maxFailRatio: 0.1}\n",
        )
    );
    let started = std::time::Instant::now();
    let run = local_run(
        dir.path(),
        &text,
        "watched-burst",
        &["--", "--autoquit", "1"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(45),
        "ended long before its minute of runTime"
    );
    let s = summary(&run.folder);
    assert_eq!(s["verdict"], "failed");
    assert_eq!(s["abort"]["threshold"], "maxFailRatio", "{s}");
    assert!(
        run.stderr
            .contains("FAIL aborted early: maxFailRatio breached after "),
        "{}",
        run.stderr
    );
}

/// `report` and `wait` read a finished run's results from its master pod. No cluster runs
/// here: a stand-in kubectl replays the recorded pods of a passed run (`fixtures/kubectl/
/// completed-pass`) and plays `kubectl exec` by running the very script `report` sends with
/// real Python on the folder a real `local` run wrote as that master pod.
fn stand_in_kubectl(dir: &Path, pod_results: &Path) -> PathBuf {
    let rec = fixture("kubectl/completed-pass");
    let script = dir.join("kubectl");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ncase \"$*\" in\n  *' get deployments -l '*'component=master -o json') cat '{rec}/deployments-master.json' ;;\n  *' get pods -l '*'component=master -o json') cat '{rec}/pods-master.json' ;;\n  *' get pods -l '*'component=worker -o json') cat '{rec}/pods-worker.json' ;;\n  *' logs '*) cat '{rec}/logs-master.txt' ;;\n  *' exec ci-run-master-5c7b9 '*) exec '{python}' -c \"${{12}}\" '{results}' ;;\n  *) echo \"stand-in kubectl: unexpected arguments: $*\" >&2; exit 1 ;;\nesac\n",
            rec = rec.display(),
            python = venv_bin("python").display(),
            results = pod_results.display(),
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

/// A real headless run of `ci-run` written as the recorded master pod (its HOSTNAME, as
/// Kubernetes sets it; unsandboxed so the variable reaches the wrapper), into `cwd/folder`.
fn run_as_master_pod(cwd: &Path, port: u16, folder: &str) -> PathBuf {
    let spec_file = cwd.join("ci.yaml");
    std::fs::write(
        &spec_file,
        spec("ci-run", port, SHOPPER, "      runTime: 3s\n"),
    )
    .unwrap();
    let out = std::process::Command::new(bin())
        .current_dir(cwd)
        .env("HOSTNAME", "ci-run-master-5c7b9")
        .args(["local", "-f"])
        .arg(&spec_file)
        .args(["--no-sandbox", "--python"])
        .arg(venv_bin("python"))
        .args(["--master-port", &free_port().to_string()])
        .args(["--web-port", &free_port().to_string()])
        .args(["--results-dir", folder])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    cwd.join(folder)
}

#[cfg(feature = "tools")]
#[test]
fn wait_and_report_compare_the_pods_run_with_the_last_passed_one() {
    let (port, target) = controlled_target();
    let dir = tempfile::tempdir().unwrap();
    // The last good run, kept where `report` leaves results; then the pod's, much slower.
    target.latency_ms.store(20, Ordering::SeqCst);
    let good = run_as_master_pod(dir.path(), port, "locust-results/ci-run-good");
    target.latency_ms.store(200, Ordering::SeqCst);
    let pod = run_as_master_pod(dir.path(), port, "pod-results");
    let kubectl = stand_in_kubectl(dir.path(), &pod);
    let lp = |args: &[&str]| {
        std::process::Command::new(bin())
            .current_dir(dir.path())
            .args(args)
            .args(["ci-run", "-n", "perf-ci", "--context", "perf", "--kubectl"])
            .arg(&kubectl)
            .output()
            .unwrap()
    };

    // wait: the run passed, but against the last passed run it regressed (default tolerances).
    let out = lp(&["wait", "--interval", "1s", "--baseline", "last"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(5),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!(
            "compared with the last passed run, {}:\n",
            good.display()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("  REGRESSED  Aggregated  avgResponseTimeMs "),
        "{stdout}"
    );
    assert!(stdout.ends_with("verdict: REGRESSED\n"), "{stdout}");
    assert!(!stdout.contains("verdict: PASSED"), "one verdict: {stdout}");
    // JSON: the status with the verdict and every compared row.
    let out = lp(&[
        "wait",
        "-o",
        "json",
        "--interval",
        "1s",
        "--baseline",
        "last",
    ]);
    assert_eq!(out.status.code(), Some(5));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["phase"], "Completed");
    assert_eq!(v["verdict"], "regressed");
    assert_eq!(v["baseline"]["regressed"], true);
    assert!(regressed_rows(&v).contains(&"Aggregated avgResponseTimeMs".to_string()));
    // Nothing was written by wait.
    assert_eq!(summary(&pod)["verdict"], "passed");

    // report: copies, then records the comparison in the copied files; exit 5.
    let out = lp(&[
        "report",
        "--results-dir",
        "locust-results/copied",
        "--baseline",
        "last",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(5),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let copied = dir.path().join("locust-results/copied");
    let s = summary(&copied);
    assert_eq!(s["verdict"], "regressed");
    assert_eq!(s["exitCode"], 5);
    assert!(
        s["baseline"]["against"]
            .as_str()
            .unwrap()
            .ends_with("ci-run-good")
    );
    assert!(regressed_rows(&s).contains(&"GET / avgResponseTimeMs".to_string()));
    let cases = junit_cases(&copied);
    assert!(
        cases
            .iter()
            .any(|c| c.0 == "locust-planton ci-run baseline" && c.2.is_some())
    );
    assert!(stdout.contains("REGRESSED: exit code 5"), "{stdout}");
    // The pod's own files are untouched.
    assert_eq!(summary(&pod)["verdict"], "passed");
}

#[cfg(feature = "tools")]
#[test]
fn a_baseline_file_that_cannot_be_read_is_refused_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let run = local_run(
        dir.path(),
        &spec("shop", free_port(), SHOPPER, "      runTime: 3s\n"),
        "never",
        &["--baseline", "missing/summary.json"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with("locust-planton: --baseline missing/summary.json: "),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("[master]"),
        "nothing ran: {}",
        run.stderr
    );
    assert!(!run.folder.exists());
}

/// The wrapper's judgement of the load generator (`--evaluate` with what its monitor saw) on
/// the committed real run of `fixtures/results/`: each cause of an invalid run alone.
#[test]
fn each_generator_fault_alone_makes_the_run_invalid() {
    struct Case {
        name: &'static str,
        seen: Value,
        verdict: &'static str,
        reason: &'static str,
    }
    let worker = |cpu: f64, demand: f64| serde_json::json!({"id": "w1", "maxCpuPercent": cpu, "cpu": [cpu], "maxDemandPercent": demand});
    let seen = |workers: Value, connected: u64, lost: Value, master: f64| {
        serde_json::json!({"workers": {"w1": workers}, "lost": lost, "connected": connected,
            "masterMaxCpu": master, "masterMaxDemand": master, "abort": null, "started": 1.0})
    };
    let cases = [
        Case {
            name: "a healthy generator",
            seen: seen(worker(40.0, 55.0), 1, serde_json::json!([]), 5.0),
            verdict: "failed", // the fixture's run missed maxFailRatio
            reason: "",
        },
        Case {
            name: "Locust's own CPU figure above 90",
            seen: seen(worker(95.0, 96.0), 1, serde_json::json!([]), 5.0),
            verdict: "invalid",
            reason: "1 of 1 worker(s) saturated their CPU (up to 96% running or waiting for a CPU, above Locust's 90%)",
        },
        Case {
            name: "a starved worker: little CPU, all demand",
            seen: seen(worker(30.0, 99.5), 1, serde_json::json!([]), 5.0),
            verdict: "invalid",
            reason: "1 of 1 worker(s) saturated their CPU (up to 99.5% running or waiting for a CPU, above Locust's 90%)",
        },
        Case {
            name: "a saturated master",
            seen: seen(worker(10.0, 10.0), 1, serde_json::json!([]), 93.0),
            verdict: "invalid",
            reason: "the master saturated its CPU (up to 93% running or waiting for a CPU, above Locust's 90%)",
        },
        Case {
            name: "fewer workers than expected",
            seen: seen(worker(10.0, 10.0), 0, serde_json::json!([]), 5.0),
            verdict: "invalid",
            reason: "0 of the 1 expected worker(s) connected",
        },
        Case {
            name: "a worker lost",
            seen: seen(worker(10.0, 10.0), 1, serde_json::json!(["w1"]), 5.0),
            verdict: "invalid",
            reason: "1 worker(s) lost during the run (heartbeats missing or disconnected)",
        },
    ];
    for c in cases {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(
            fixture("results/ci-run/locust_stats.csv"),
            dir.path().join("locust_stats.csv"),
        )
        .unwrap();
        let out = std::process::Command::new("python3")
            .args([
                "-c",
                locust_planton::values::extensions::HEADLESS_WRAPPER,
                "--evaluate",
            ])
            .arg(dir.path())
            .arg(r#"{"name": "ci-run", "thresholds": {"maxFailRatio": 0.05}}"#)
            .arg("1")
            .arg(c.seen.to_string())
            .args(["--expect-workers", "1", "--users", "300"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let s = summary(dir.path());
        assert_eq!(s["verdict"], c.verdict, "{}", c.name);
        let g = &s["generator"];
        let reasons: Vec<&str> = g["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        if c.reason.is_empty() {
            assert!(reasons.is_empty() && g["valid"] == true, "{}: {g}", c.name);
            assert_eq!(s["exitCode"], 1, "{}", c.name);
        } else {
            assert_eq!(reasons, [c.reason], "{}", c.name);
            assert_eq!(s["exitCode"], 6, "{}", c.name);
            assert!(
                g["advice"]
                    .as_str()
                    .unwrap()
                    .contains("`locust-planton plan --users 300`"),
                "{}",
                c.name
            );
        }
    }
}
