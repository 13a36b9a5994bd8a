//! `spec.loadTest.openTelemetry` end to end: a run on Locust 2.47.0 through `local`, the pip
//! step installing the otel extra's packages (`spec::pip::OTEL_PACKAGES`, whose wheels
//! `scripts/install-tools.sh` downloads; installed offline from there), sends its spans over OTLP/HTTP
//! to a receiver this test runs on loopback, carrying the run's identity.
#![cfg(feature = "tools")]

mod common;
use common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};

/// Requests the receiver got: (path, body).
type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// A tiny OTLP/HTTP receiver: answers every POST 200 and keeps what it was sent.
fn receiver() -> (u16, Received) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let got: Received = Arc::default();
    let keep = got.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let keep = keep.clone();
            std::thread::spawn(move || serve(conn, &keep));
        }
    });
    (port, got)
}

/// One connection's requests (keep-alive), each answered 200 with an empty body.
fn serve(conn: std::net::TcpStream, keep: &Received) {
    let mut w = conn.try_clone().unwrap();
    let mut r = BufReader::new(conn);
    loop {
        let mut start = String::new();
        if r.read_line(&mut start).unwrap_or(0) == 0 {
            return;
        }
        let path = start.split_whitespace().nth(1).unwrap_or("").to_string();
        let mut length = 0usize;
        loop {
            let mut h = String::new();
            if r.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            if h.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if r.read_exact(&mut body).is_err() {
            return;
        }
        keep.lock().unwrap().push((path, body));
        let ok =
            "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n";
        if w.write_all(ok.as_bytes()).is_err() {
            return;
        }
    }
}

fn python_2_47() -> PathBuf {
    let venvs = std::env::var_os("LP_LOCUST_VENVS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools/locust"));
    let python = venvs.join("2.47.0/bin/python");
    assert!(
        python.exists(),
        "{} not found (set LP_LOCUST_VENVS or run `bash scripts/install-tools.sh`)",
        python.display()
    );
    python
}

/// The otel packages and what they need, as wheels: `scripts/install-tools.sh` downloads them
/// for the newest Locust (its `.pins` stamp lists the packages it downloaded, which must be
/// `spec::pip::OTEL_PACKAGES` as this build has them).
fn otel_wheels() -> PathBuf {
    let dir = std::env::var_os("LP_OTEL_WHEELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools/otel-wheels/2.47.0"));
    let pins = std::fs::read_to_string(dir.join(".pins")).unwrap_or_default();
    assert_eq!(
        pins.trim(),
        locust_planton::spec::pip::OTEL_PACKAGES.join(" "),
        "the otel wheels in {} are not this build's OTEL_PACKAGES (run `bash scripts/install-tools.sh`)",
        dir.display()
    );
    dir
}

#[test]
fn an_open_telemetry_run_on_locust_2_47_sends_spans_with_the_run_identity() {
    let python = python_2_47();
    let wheels = otel_wheels();
    let (collector, got) = receiver();
    let target = http_target();
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec.yaml");
    std::fs::write(
        &spec,
        format!(
            r#"apiVersion: kubernetes.project-planton.org/v1
kind: LocustKubernetes
metadata: {{name: traced}}
spec:
  workerContainer: {{replicas: 1}}
  loadTest:
    name: traced
    locustVersion: "2.47.0"
    host: http://127.0.0.1:{target}
    mainPyContent: |
      from locust import HttpUser, task, constant
      class Shopper(HttpUser):
          wait_time = constant(0.1)
          @task
          def home(self):
              self.client.get("/")
    openTelemetry:
      endpoint: http://127.0.0.1:{collector}
      protocol: http/protobuf
      resourceAttributes: {{deployment.environment: test}}
      env:
        - {{name: OTEL_BSP_SCHEDULE_DELAY, value: "500"}}
    run: {{users: 2, spawnRate: 2, runTime: 4s, thresholds: {{maxFailRatio: 0}}}}
"#
        ),
    )
    .unwrap();
    let values = Command::new(bin())
        .args(["values", "-o", "json", "-f"])
        .arg(&spec)
        .output()
        .unwrap();
    let values: serde_json::Value = serde_json::from_slice(&values.stdout).unwrap();
    let scripts = values["loadtest"]["locust_locustfile_configmap"]
        .as_str()
        .unwrap()
        .to_string();
    let out = Command::new(bin())
        .current_dir(dir.path())
        .args(["local", "-f"])
        .arg(&spec)
        .arg("--python")
        .arg(&python)
        .args(["--master-port", &free_port().to_string()])
        .args(["--web-port", &free_port().to_string()])
        .arg("--results-dir")
        .arg(dir.path().join("results"))
        .env("PIP_NO_INDEX", "1")
        .env("PIP_FIND_LINKS", &wheels)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    let context = format!("--- stdout:\n{stdout}\n--- stderr:\n{stderr}");
    assert_eq!(out.status.code(), Some(0), "{context}");
    assert!(
        format!("{stdout}{stderr}").contains("Successfully installed"),
        "the pip step installed the otel packages: {context}"
    );
    // Exporters flush within a second; give the last batch a moment.
    std::thread::sleep(std::time::Duration::from_secs(2));
    let got = got.lock().unwrap();
    let traces: Vec<&Vec<u8>> = got
        .iter()
        .filter(|(p, _)| p == "/v1/traces")
        .map(|(_, b)| b)
        .collect();
    let paths: Vec<&str> = got.iter().map(|(p, _)| p.as_str()).collect();
    assert!(!traces.is_empty(), "no spans: {paths:?}\n{context}");
    let has = |body: &[u8], s: &str| body.windows(s.len()).any(|w| w == s.as_bytes());
    // Every span batch names the run: its spec, its scripts, the user's attribute, the service;
    // the spans are the requests the users made.
    for body in &traces {
        for s in [
            "locust_planton.name",
            "traced",
            "locust_planton.scripts",
            scripts.as_str(),
            "deployment.environment",
            "service.name",
        ] {
            assert!(has(body, s), "{s} missing from a span batch");
        }
    }
    assert!(traces.iter().any(|b| has(b, "GET /")), "request spans");
}
