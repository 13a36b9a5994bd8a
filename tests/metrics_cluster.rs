//! A run with metrics and OpenTelemetry installed on the test cluster (`scripts/kube.sh up`):
//! real Helm 3 and Helm 4 render the real chart through the post-renderer, and what the API
//! server stored carries the wiring: the master's `--autostart`/`--autoquit` flags and TCP
//! probe, `--otel` and the OTLP environment on master and workers, the otel packages in the
//! pip step, the exporter's Deployment, Service and ServiceMonitor (the prometheus-operator
//! CRD from fixtures/crds), and NetworkPolicy egress to the collector.
#![cfg(feature = "tools")]

mod common;

use common::kube::{self, Cluster};
use common::*;
use serde_json::Value;
use std::path::Path;

/// The real chart's directory, as `--chart` takes it.
fn real_chart() -> String {
    real_locust_chart().display().to_string()
}

const SPEC: &str = r#"apiVersion: kubernetes.project-planton.org/v1
kind: LocustKubernetes
metadata: {name: observed}
spec:
  workerContainer: {replicas: 2}
  metrics: {prometheus: {enabled: true}}
  networkPolicy: {enabled: true, targetCidrs: [10.20.0.0/16]}
  loadTest:
    name: observed
    locustVersion: "2.47.0"
    host: http://10.20.0.5:8080
    mainPyContent: |
      from locust import HttpUser, task
      class U(HttpUser):
          @task
          def t(self):
              self.client.get("/")
    openTelemetry:
      endpoint: http://10.30.0.9:4317
      env: [{name: OTEL_TRACES_SAMPLER, value: always_on}]
    run: {users: 4, spawnRate: 2, runTime: 2m}
"#;

fn get(cluster: &Cluster, ns: &str, what: &[&str]) -> Value {
    let mut args = vec!["get", "-n", ns, "-o", "json"];
    args.extend(what);
    serde_json::from_str(&cluster.ok(&args, "")).unwrap()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// The `locust` container (the first) of a Deployment's pod template.
fn container(d: &Value) -> &Value {
    &d["spec"]["template"]["spec"]["containers"][0]
}

fn env_of(c: &Value) -> Vec<(String, String)> {
    c["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_string(),
                e["value"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn installed_on(helm_name: &str, helm: &Path) {
    let cluster = kube::cluster();
    cluster.install_crds();
    let ns_guard = cluster.namespace(
        &format!("metrics-{helm_name}"),
        &[("enforce", "restricted")],
    );
    let ns = ns_guard.name.as_str();
    let home = tempfile::tempdir().unwrap();
    let spec = home.path().join("observed.yaml");
    std::fs::write(&spec, SPEC).unwrap();
    let out = lp(home.path())
        .args(["install", "-f"])
        .arg(&spec)
        .args(["-n", ns, "--chart", &real_chart(), "--helm"])
        .arg(helm)
        .env("KUBECONFIG", cluster.kubeconfig())
        .env("KUBECTL", kubectl())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{helm_name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let values: Value = serde_json::from_slice(
        &lp(home.path())
            .args(["values", "-o", "json", "-f"])
            .arg(&spec)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let scripts = values["loadtest"]["locust_locustfile_configmap"]
        .as_str()
        .unwrap();

    // The master runs the test with its web UI on, ends it by itself, and is ready when it
    // takes workers.
    let master = get(&cluster, ns, &["deployment", "observed-master"]);
    let m = container(&master);
    let args = strings(&m["args"]);
    let at = args.iter().position(|a| a == "--autostart").unwrap();
    assert_eq!(
        args[at..at + 3],
        ["--autostart", "--autoquit", "30"],
        "{args:?}"
    );
    assert!(!args.contains(&"--headless".to_string()), "{args:?}");
    for flag in ["--otel", "--run-time", "--expect-workers"] {
        assert!(args.contains(&flag.to_string()), "{flag} in {args:?}");
    }
    assert_eq!(m["readinessProbe"]["tcpSocket"]["port"], 5557, "{m}");
    assert!(m["readinessProbe"].get("httpGet").is_none());

    // Both roles export: `--otel`, the OTLP environment with the run's identity.
    let worker = get(&cluster, ns, &["deployment", "observed-worker"]);
    let w = container(&worker);
    assert!(strings(&w["args"]).contains(&"--otel".to_string()));
    for c in [m, w] {
        let env = env_of(c);
        let value = |k: &str| {
            env.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.as_str())
                .unwrap_or_else(|| panic!("{k} missing from {env:?}"))
        };
        assert_eq!(
            value("OTEL_EXPORTER_OTLP_ENDPOINT"),
            "http://10.30.0.9:4317"
        );
        assert_eq!(value("OTEL_EXPORTER_OTLP_PROTOCOL"), "grpc");
        assert_eq!(value("OTEL_SERVICE_NAME"), "observed");
        assert_eq!(
            value("OTEL_RESOURCE_ATTRIBUTES"),
            format!("locust_planton.name=observed,locust_planton.scripts={scripts}")
        );
        assert_eq!(value("OTEL_TRACES_SAMPLER"), "always_on");
        assert_eq!(value("PYTHONPATH"), "/opt/locust-pip");
    }
    // The pods mount the ConfigMap the identity names.
    let volumes = master["spec"]["template"]["spec"]["volumes"].to_string();
    assert!(volumes.contains(scripts), "{volumes}");
    // The pip step installs the otel packages.
    for d in [&master, &worker] {
        let init = strings(&d["spec"]["template"]["spec"]["initContainers"][0]["command"]);
        for p in locust_planton::spec::pip::OTEL_PACKAGES {
            assert!(init.contains(&p.to_string()), "{p} in {init:?}");
        }
    }

    // The exporter, its Service and its ServiceMonitor, scraping the master's web UI.
    let exporter = get(&cluster, ns, &["deployment", "observed-metrics"]);
    assert_eq!(
        strings(&container(&exporter)["args"]),
        ["--locust.uri=http://observed:8089"]
    );
    get(&cluster, ns, &["service", "observed-metrics"]);
    let monitor = get(&cluster, ns, &["servicemonitor", "observed-metrics"]);
    assert_eq!(monitor["spec"]["endpoints"][0]["interval"], "15s");

    // Master and workers may reach the collector; the exporter the master's web UI.
    for (policy, egress_rules) in [("observed-master", 2), ("observed-worker", 4)] {
        let p = get(&cluster, ns, &["networkpolicy", policy]);
        let egress = p["spec"]["egress"].as_array().unwrap();
        assert_eq!(egress.len(), egress_rules, "{policy}: {egress:?}");
        assert_eq!(
            egress.last().unwrap(),
            &serde_json::json!({"to": [{"ipBlock": {"cidr": "10.30.0.9/32"}}], "ports": [{"port": 4317, "protocol": "TCP"}]}),
            "{policy}"
        );
    }
    let master_policy = get(&cluster, ns, &["networkpolicy", "observed-master"]);
    assert!(
        master_policy["spec"]["ingress"]
            .to_string()
            .contains("\"metrics\""),
        "the exporter may reach the web UI"
    );
}

#[test]
fn run_with_metrics_and_open_telemetry_on_helm_3() {
    installed_on("helm3", &helm3());
}

#[test]
fn run_with_metrics_and_open_telemetry_on_helm_4() {
    installed_on("helm4", &helm4());
}
