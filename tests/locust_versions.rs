//! Every Locust release the suite pins (scripts/install-tools.sh `LOCUST_VERSIONS`, one venv
//! each under `.tools/locust/`) runs a spec's headless run end to end through `local` and the
//! run wrapper, against a loopback target: the thresholds judged, `summary.json`, the CSVs,
//! JUnit and the result line read per release; where the release has it, Locust's own
//! `--json-file` agrees with the CSV. docs/operations.md "Locust versions" says what differs.
#![cfg(feature = "tools")]

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The releases `scripts/install-tools.sh` installs, read from its `LOCUST_VERSIONS=(…)` line.
fn pinned_versions() -> Vec<String> {
    let script = read(repo().join("scripts/install-tools.sh"));
    let line = script
        .lines()
        .find_map(|l| l.strip_prefix("LOCUST_VERSIONS=("))
        .expect("scripts/install-tools.sh has a LOCUST_VERSIONS=(…) line");
    line.trim_end_matches(')')
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// `X.Y.Z` as numbers.
fn release(v: &str) -> (u32, u32, u32) {
    let n: Vec<u32> = v.split('.').map(|p| p.parse().unwrap()).collect();
    (n[0], n[1], n[2])
}

/// The Python of the venv holding Locust `version`; fails naming the installer when missing.
fn python_of(version: &str) -> PathBuf {
    let venvs = std::env::var_os("LP_LOCUST_VENVS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools/locust"));
    let python = venvs.join(version).join("bin/python");
    assert!(
        python.exists(),
        "Locust {version}: {} not found (set LP_LOCUST_VENVS or run `bash scripts/install-tools.sh`)",
        python.display()
    );
    python
}

#[test]
fn the_pinned_releases_run_from_the_charts_locust_to_the_newest_tested() {
    let pinned = pinned_versions();
    let minors: Vec<(u32, u32)> = pinned
        .iter()
        .map(|v| {
            let (a, b, _) = release(v);
            (a, b)
        })
        .collect();
    assert_eq!(
        minors,
        [(2, 32), (2, 37), (2, 43), (2, 45), (2, 47)],
        "{pinned:?}"
    );
    let chart = read(repo().join("charts-lock/locust.yaml"));
    assert!(
        chart.contains(&format!("appVersion: {}\n", pinned[0])),
        "the oldest pinned release is the chart's own Locust"
    );
    assert_eq!(
        pinned.last().unwrap(),
        locust_planton::spec::locust_versions::NEWEST_TESTED
    );
    // Past the releases whose behaviour changed for the tool (docs/operations.md).
    assert!(release(&pinned[2]) >= (2, 43, 4), "total_rps's new meaning");
    assert!(release(&pinned[1]) >= (2, 37, 10), "a working --json-file");
}

/// Every option `values` writes into the master's and workers' args (a run with tags,
/// excluded tags and several processes), plus the wrapper's `--csv`/`--html`, is one that
/// every pinned release lists in its own `--help`.
#[test]
fn every_option_the_values_pass_exists_in_every_pinned_release() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec.yaml");
    std::fs::write(
        &spec,
        "apiVersion: kubernetes.project-planton.org/v1
kind: LocustKubernetes
metadata: {name: flags}
spec:
  workerContainer: {replicas: 2}
  loadTest:
    name: flags
    host: http://127.0.0.1:9
    mainPyContent: 'x = 1'
    run: {users: 4, spawnRate: 2, runTime: 3s, tags: [a], excludeTags: [b], processes: 2}
",
    )
    .unwrap();
    let out = Command::new(bin())
        .args(["values", "-f"])
        .arg(&spec)
        .args(["--output", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let values: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut options: Vec<String> = ["master", "worker"]
        .iter()
        .flat_map(|role| values[role]["args"].as_array().unwrap().clone())
        .filter_map(|a| a.as_str().map(str::to_string))
        .filter(|a| a.starts_with("--"))
        .collect();
    options.extend(["--csv".into(), "--html".into()]);
    for must in ["--headless", "--spawn-rate", "--run-time", "--processes"] {
        assert!(options.iter().any(|o| o == must), "{must} in {options:?}");
    }
    for version in pinned_versions() {
        let help = Command::new(python_of(&version))
            .args(["-m", "locust", "--help"])
            .output()
            .unwrap();
        let help = String::from_utf8_lossy(&help.stdout);
        let listed = |o: &str| {
            help.split(|c: char| c.is_whitespace() || c == ',')
                .any(|w| w == o)
        };
        let missing: Vec<&String> = options.iter().filter(|o| !listed(o)).collect();
        assert!(missing.is_empty(), "Locust {version} lacks {missing:?}");
    }
}

/// A run of three users for 4 s: `/` and (one request in four) `/fail`, which answers 500.
fn spec_text(name: &str, version: &str, port: u16) -> String {
    format!(
        r#"apiVersion: kubernetes.project-planton.org/v1
kind: LocustKubernetes
metadata: {{name: {name}}}
spec:
  workerContainer: {{replicas: 1}}
  loadTest:
    name: {name}
    locustVersion: "{version}"
    host: http://127.0.0.1:{port}
    mainPyContent: |
      from locust import HttpUser, task, constant
      class Shopper(HttpUser):
          wait_time = constant(0.05)
          @task(3)
          def home(self):
              self.client.get("/")
          @task(1)
          def broken(self):
              self.client.get("/fail")
    run:
      users: 3
      spawnRate: 3
      runTime: 4s
      thresholds: {{maxFailRatio: 0.6, maxAvgResponseTimeMs: 10000, maxPercentileResponseTimeMs: {{"95": 10000}}, minRps: 100000}}
"#
    )
}

/// The CSV at `path` as its header and rows.
fn csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = read(path);
    let mut lines = text.lines().map(|l| {
        // Locust quotes no field of these rows but error texts, which hold no comma here.
        l.split(',')
            .map(|f| f.trim_matches('"').to_string())
            .collect::<Vec<_>>()
    });
    let header = lines.next().unwrap_or_default();
    (header, lines.collect())
}

fn column(header: &[String], row: &[String], name: &str) -> f64 {
    let i = header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"));
    row[i].parse().unwrap()
}

const STATS_COLUMNS: &[&str] = &[
    "Type",
    "Name",
    "Request Count",
    "Failure Count",
    "Median Response Time",
    "Average Response Time",
    "Min Response Time",
    "Max Response Time",
    "Average Content Size",
    "Requests/s",
    "Failures/s",
    "50%",
    "66%",
    "75%",
    "80%",
    "90%",
    "95%",
    "98%",
    "99%",
    "99.9%",
    "99.99%",
    "100%",
];

/// The headless run of [`spec_text`] on Locust `version`, checked end to end.
fn run_on(version: &str) {
    let python = python_of(version);
    let port = http_target();
    let dir = tempfile::tempdir().unwrap();
    let name = format!("v{}", version.replace('.', "-"));
    let spec = dir.path().join("spec.yaml");
    std::fs::write(&spec, spec_text(&name, version, port)).unwrap();
    let results = dir.path().join("results");
    let json_base = dir.path().join("stats");
    let json_file = release(version) >= (2, 37, 10);
    let mut cmd = Command::new(bin());
    cmd.current_dir(dir.path())
        .args(["local", "-f"])
        .arg(&spec)
        .arg("--python")
        .arg(&python)
        .args(["--master-port", &free_port().to_string()])
        .args(["--web-port", &free_port().to_string()])
        .arg("--results-dir")
        .arg(&results);
    if json_file {
        cmd.arg("--").arg("--json-file").arg(&json_base);
    }
    let out = cmd.output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    let context = format!("Locust {version}\n--- stdout:\n{stdout}\n--- stderr:\n{stderr}");
    // The venv's release ran, the one the spec names (no mismatch warning).
    assert!(
        stderr.contains(&format!(
            "locust-planton: Locust {version} ({})",
            python.display()
        )),
        "{context}"
    );
    let started = format!("Starting Locust {version}");
    assert!(
        format!("{stdout}{stderr}")
            .lines()
            .any(|l| l.starts_with("[master] ") && l.contains(&started)),
        "{context}"
    );
    // minRps is missed, everything else met: the run fails on that threshold alone.
    assert_eq!(out.status.code(), Some(1), "{context}");
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("[master] locust-planton-result "))
        .unwrap_or_else(|| panic!("no result line: {context}"));
    let line: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(line["exitCode"], 1, "{context}");
    assert_eq!(line["locustExitCode"], 1, "requests failed: {context}");
    let verdicts: Vec<(String, bool)> = line["thresholds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_string(),
                t["passed"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            ("maxFailRatio".to_string(), true),
            ("maxAvgResponseTimeMs".to_string(), true),
            ("maxPercentileResponseTimeMs[95]".to_string(), true),
            ("minRps".to_string(), false),
        ],
        "{context}"
    );

    // summary.json is the stats CSV's Aggregated row, whose columns every release shares.
    let (header, rows) = csv(&results.join("locust_stats.csv"));
    assert_eq!(header, STATS_COLUMNS, "{context}");
    let agg = rows
        .iter()
        .find(|r| r[1] == "Aggregated")
        .expect("an Aggregated row");
    let n = |c: &str| column(&header, agg, c);
    let summary: serde_json::Value =
        serde_json::from_str(&read(results.join("summary.json"))).unwrap();
    let t = &summary["totals"];
    assert_eq!(t["requests"].as_f64(), Some(n("Request Count")));
    assert_eq!(t["failures"].as_f64(), Some(n("Failure Count")));
    assert_eq!(t["rps"].as_f64(), Some(n("Requests/s")));
    assert_eq!(
        t["avgResponseTimeMs"].as_f64(),
        Some(n("Average Response Time"))
    );
    assert_eq!(summary["percentiles"]["95"].as_f64(), Some(n("95%")));
    assert!(
        n("Request Count") > 0.0 && n("Failure Count") > 0.0,
        "{context}"
    );
    let ratio = t["failRatio"].as_f64().unwrap();
    assert!((ratio - n("Failure Count") / n("Request Count")).abs() < 1e-9);
    assert_eq!(summary["exitCode"], 1);
    assert_eq!(summary["locustExitCode"], 1);
    assert_eq!(summary["thresholds"], line["thresholds"]);
    // The measured values judged are the CSV's.
    assert_eq!(
        summary["thresholds"][3]["measured"].as_f64(),
        Some(n("Requests/s"))
    );

    // The load generator was watched on this release as on every other: the one worker the
    // spec asks for was expected and connected, none was lost, and its CPU was sampled. (Not
    // `valid` itself: a busy machine can push a worker above the 90 % line.)
    let g = &summary["generator"];
    assert_eq!(g["expectedWorkers"], 1, "{context}\n{g}");
    assert_eq!(g["connectedWorkers"], 1, "{context}\n{g}");
    assert_eq!(g["lostWorkers"], serde_json::json!([]), "{context}\n{g}");
    let workers = g["workers"].as_array().expect("per-worker samples");
    assert_eq!(workers.len(), 1, "{context}\n{g}");
    assert!(workers[0]["samples"].as_u64() > Some(0), "{context}\n{g}");

    // The failures CSV: every failure of `/fail`; "First Seen"/"Last Seen" from 2.44 on.
    let (fheader, frows) = csv(&results.join("locust_failures.csv"));
    let mut want = vec!["Method", "Name", "Error", "Occurrences"];
    if release(version) >= (2, 44, 0) {
        want.extend(["First Seen", "Last Seen"]);
    }
    assert_eq!(fheader, want, "{context}");
    let occurrences: f64 = frows
        .iter()
        .inspect(|r| assert_eq!(r[1], "/fail", "{r:?}"))
        .map(|r| column(&fheader, r, "Occurrences"))
        .sum();
    assert_eq!(occurrences, n("Failure Count"));

    // JUnit: one case per threshold, minRps the one failure.
    let xml = read(results.join("junit.xml"));
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let failed: Vec<&str> = doc
        .descendants()
        .filter(|c| c.has_tag_name("testcase"))
        .filter(|c| c.children().any(|f| f.has_tag_name("failure")))
        .map(|c| c.attribute("name").unwrap())
        .collect();
    assert_eq!(failed, ["minRps"]);

    // Locust's own JSON statistics: the same requests as the CSV, per request name.
    if json_file {
        let stats: serde_json::Value =
            serde_json::from_str(&read(dir.path().join("stats.json"))).unwrap();
        let sum = |k: &str| -> f64 {
            stats
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e[k].as_f64().unwrap())
                .sum()
        };
        assert_eq!(sum("num_requests"), n("Request Count"), "{context}");
        assert_eq!(sum("num_failures"), n("Failure Count"), "{context}");
    } else {
        assert!(!dir.path().join("stats.json").exists());
    }
}

/// One test per pinned release, named by its minor; a test that finds its release missing
/// from `LOCUST_VERSIONS` fails rather than running another.
fn pinned_minor(major_minor: &str) -> String {
    pinned_versions()
        .into_iter()
        .find(|v| v.starts_with(&format!("{major_minor}.")))
        .unwrap_or_else(|| panic!("no {major_minor}.x in LOCUST_VERSIONS"))
}

#[test]
fn headless_run_on_locust_2_32() {
    run_on(&pinned_minor("2.32"));
}

#[test]
fn headless_run_on_locust_2_37() {
    run_on(&pinned_minor("2.37"));
}

#[test]
fn headless_run_on_locust_2_43() {
    run_on(&pinned_minor("2.43"));
}

#[test]
fn headless_run_on_locust_2_45() {
    run_on(&pinned_minor("2.45"));
}

#[test]
fn headless_run_on_locust_2_47() {
    run_on(&pinned_minor("2.47"));
}

/// `GET http://127.0.0.1:{port}{path}`'s body, if it answers 200.
fn http_get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(2)))
        .ok()?;
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.1 200")
        .then_some(())
        .or_else(|| head.starts_with("HTTP/1.0 200").then_some(()))?;
    Some(body.to_string())
}

/// The Aggregated row's request count in a `/stats/requests` answer.
fn aggregated_requests(body: &str) -> Option<f64> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    v["stats"]
        .as_array()?
        .iter()
        .find(|s| s["name"] == "Aggregated")?["num_requests"]
        .as_f64()
}

/// [`spec_text`]'s run with `metrics`: the master runs it with the web UI on (`--autostart`,
/// `--autoquit`, shortened here to 2 s by an argument after the spec's), through `local`. It
/// ends by itself with the verdict the headless run has, writes the same result files, and the
/// web UI serves `/stats/requests` during the run and, until it quits, the final numbers.
fn web_ui_run_on(version: &str) {
    let python = python_of(version);
    let port = http_target();
    let dir = tempfile::tempdir().unwrap();
    let name = format!("w{}", version.replace('.', "-"));
    let spec = dir.path().join("spec.yaml");
    let text = format!(
        "{}  metrics: {{prometheus: {{enabled: true}}}}\n",
        spec_text(&name, version, port)
    );
    std::fs::write(&spec, text).unwrap();
    let values = Command::new(bin())
        .args(["values", "-o", "json", "-f"])
        .arg(&spec)
        .output()
        .unwrap();
    let values: serde_json::Value = serde_json::from_slice(&values.stdout).unwrap();
    assert_eq!(values["master"]["args"][0], "--autostart");
    let results = dir.path().join("results");
    let web = free_port();
    let child = Command::new(bin())
        .current_dir(dir.path())
        .args(["local", "-f"])
        .arg(&spec)
        .arg("--python")
        .arg(&python)
        .args(["--master-port", &free_port().to_string()])
        .args(["--web-port", &web.to_string()])
        .arg("--results-dir")
        .arg(&results)
        .args(["--", "--autoquit", "2"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let pid = child.id();
    let poller = std::thread::spawn(move || {
        let mut seen: Vec<f64> = Vec::new();
        // Polls until the run's process has gone (`local` ends every process it started).
        while std::path::Path::new(&format!("/proc/{pid}")).exists()
            && started.elapsed() < std::time::Duration::from_secs(90)
        {
            if let Some(n) = http_get(web, "/stats/requests")
                .as_deref()
                .and_then(aggregated_requests)
            {
                seen.push(n);
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        seen
    });
    let out = child.wait_with_output().unwrap();
    let elapsed = started.elapsed();
    let seen = poller.join().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    let context = format!("Locust {version}\n--- stdout:\n{stdout}\n--- stderr:\n{stderr}");
    // Ended by itself (4 s run, 2 s autoquit), with the headless run's verdict: minRps missed.
    assert!(elapsed < std::time::Duration::from_secs(60), "{context}");
    assert_eq!(out.status.code(), Some(1), "{context}");
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("[master] locust-planton-result "))
        .unwrap_or_else(|| panic!("no result line: {context}"));
    let line: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(line["verdict"], "failed", "{context}");
    let failed: Vec<&str> = line["thresholds"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["passed"] == false)
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["minRps"], "{context}");
    for f in [
        "summary.json",
        "junit.xml",
        "report.html",
        "locust_stats.csv",
    ] {
        assert!(results.join(f).exists(), "{f}: {context}");
    }
    let (header, rows) = csv(&results.join("locust_stats.csv"));
    let agg = rows.iter().find(|r| r[1] == "Aggregated").unwrap();
    let total = column(&header, agg, "Request Count");
    let summary: serde_json::Value =
        serde_json::from_str(&read(results.join("summary.json"))).unwrap();
    assert_eq!(summary["totals"]["requests"].as_f64(), Some(total));
    // The web UI answered during the run, counting up, and served the final count before
    // Locust quit: what an exporter scraping it reports last.
    assert!(
        seen.iter().any(|n| *n > 0.0 && *n < total),
        "{seen:?} {context}"
    );
    assert_eq!(seen.last().copied(), Some(total), "{seen:?} {context}");
}

#[test]
fn web_ui_run_on_locust_2_32() {
    web_ui_run_on(&pinned_minor("2.32"));
}

#[test]
fn web_ui_run_on_locust_2_37() {
    web_ui_run_on(&pinned_minor("2.37"));
}

#[test]
fn web_ui_run_on_locust_2_43() {
    web_ui_run_on(&pinned_minor("2.43"));
}

#[test]
fn web_ui_run_on_locust_2_45() {
    web_ui_run_on(&pinned_minor("2.45"));
}

#[test]
fn web_ui_run_on_locust_2_47() {
    web_ui_run_on(&pinned_minor("2.47"));
}
