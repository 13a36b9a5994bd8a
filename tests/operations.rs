//! Extension fields end to end: values → real helm (test chart) → post-render, with the
//! restricted-profile check, strict schemas, the ServiceMonitor CRD schema and checkov.
// Without `tools`, the helpers of the tool-driven tests below are unused.
#![cfg_attr(not(feature = "tools"), allow(dead_code, unused_imports))]

mod common;
#[path = "common/restricted.rs"]
mod restricted;

use assert_cmd::Command;
use common::*;
use locust_planton::yaml::parse_single;
use serde_json::{Value, json};

/// Renders an example with helm 3 through the test chart and the post-renderer.
fn rendered(example: &str, release: &str) -> (String, Vec<Value>) {
    let home = tempfile::tempdir().unwrap();
    let out = lp(home.path())
        .args(["template", "-f"])
        .arg(repo().join(format!("examples/{example}.yaml")))
        .args([
            "--chart",
            repo().join("tests/charts/locust-mini").to_str().unwrap(),
            "--release",
            release,
            "--helm",
        ])
        .arg(helm3())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let objs = kubectl_objects(&text);
    (text, objs)
}

fn container<'a>(d: &'a Value, name: &str) -> &'a Value {
    d.pointer("/spec/template/spec/containers")
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap()
}

#[cfg(feature = "tools")]
#[test]
fn headless_run_spot_workers_and_network_policy() {
    let (text, objs) = rendered("ci-run", "ci");
    let ours: Vec<String> = objs.iter().flat_map(restricted::violations).collect();
    assert_hardened(
        "template",
        &text,
        "restricted",
        "tests/common/restricted.rs",
        &ours,
    );
    let master = find(&objs, "Deployment", "ci-run-master");
    let locust = container(master, "locust");
    assert_eq!(
        locust["command"][0], "/opt/venv/bin/python",
        "the result wrapper runs Locust"
    );
    let args: Vec<&str> = locust["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(
        args,
        [
            "--master",
            "--headless",
            "--users",
            "300",
            "--spawn-rate",
            "30",
            "--run-time",
            "10m",
            "--expect-workers",
            "6",
            "--tags",
            "checkout"
        ],
        "expect-workers = 3 pods × 2 processes; every flag its own argument"
    );
    assert_eq!(
        locust.pointer("/readinessProbe/tcpSocket/port").unwrap(),
        5557,
        "ready while headless"
    );
    let worker = find(&objs, "Deployment", "ci-run-worker");
    assert_eq!(
        container(worker, "locust")["args"],
        json!(["--worker", "--processes", "2"])
    );
    let spot = json!([{"key": "cloud.google.com/gke-spot", "operator": "In", "values": ["true"]}]);
    assert_eq!(worker.pointer("/spec/template/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms/0/matchExpressions").unwrap(), &spot);
    assert_eq!(
        worker
            .pointer("/spec/template/spec/tolerations/0/key")
            .unwrap(),
        "cloud.google.com/gke-spot"
    );
    assert_eq!(master.pointer("/spec/template/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms/0/matchExpressions/0/operator").unwrap(), "NotIn", "master stays off spot nodes");
    let np_master = find(&objs, "NetworkPolicy", "ci-run-master");
    assert_eq!(
        np_master.pointer("/spec/podSelector/matchLabels").unwrap(),
        &json!({"app.kubernetes.io/instance": "ci", "component": "master"}),
        "selects this release by its name"
    );
    assert_eq!(
        np_master
            .pointer("/spec/ingress/0/from/0/podSelector/matchLabels/component")
            .unwrap(),
        "worker"
    );
    assert_eq!(
        np_master
            .pointer("/spec/ingress/1/from/0/namespaceSelector/matchLabels")
            .unwrap(),
        &json!({"kubernetes.io/metadata.name": "ingress-nginx"})
    );
    assert_eq!(
        np_master.pointer("/spec/ingress/1/ports/0/port").unwrap(),
        8089
    );
    let np_worker = find(&objs, "NetworkPolicy", "ci-run-worker");
    assert_eq!(
        np_worker.pointer("/spec/ingress").unwrap(),
        &json!([]),
        "nothing reaches workers"
    );
    assert_eq!(
        np_worker
            .pointer("/spec/egress/2/to/0/ipBlock/cidr")
            .unwrap(),
        "10.20.0.0/16"
    );
}

#[cfg(feature = "tools")]
#[test]
fn metrics_exporter_service_and_service_monitor() {
    let (text, objs) = rendered("metrics", "search-metrics");
    let ours: Vec<String> = objs.iter().flat_map(restricted::violations).collect();
    assert_hardened(
        "template",
        &text,
        "restricted",
        "tests/common/restricted.rs",
        &ours,
    );
    let exporter = find(&objs, "Deployment", "search-metrics-metrics");
    let c = container(exporter, "exporter");
    assert_eq!(c["image"], "containersol/locust_exporter:v0.5.0");
    assert_eq!(
        c["args"],
        json!(["--locust.uri=http://search-metrics:8089"]),
        "scrapes the master's web UI through its Service"
    );
    let svc = find(&objs, "Service", "search-metrics-metrics");
    assert_eq!(
        svc.pointer("/spec/ports/0").unwrap(),
        &json!({"name": "metrics", "port": 9646, "targetPort": "metrics"})
    );
    assert_eq!(svc["spec"]["selector"], exporter.pointer("/spec/template/metadata/labels").map(|l| json!({"app.kubernetes.io/instance": l["app.kubernetes.io/instance"], "component": l["component"]})).unwrap());
    let sm = find(&objs, "ServiceMonitor", "search-metrics-metrics");
    let crd = parse_single(&read(fixture(
        "crds/monitoring.coreos.com_servicemonitors.yaml",
    )))
    .unwrap()
    .to_json();
    let schema = &crd["spec"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "v1")
        .unwrap()["schema"]["openAPIV3Schema"];
    let validator = jsonschema::validator_for(schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(sm).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(sm.pointer("/spec/selector/matchLabels").unwrap(), &svc["metadata"]["labels"].as_object().map(|l| json!({"app.kubernetes.io/instance": l["app.kubernetes.io/instance"], "component": l["component"]})).unwrap());
    let np = find(&objs, "NetworkPolicy", "search-metrics-master");
    let from_exporter =
        np["spec"]["ingress"].as_array().unwrap().iter().any(|r| {
            r.pointer("/from/0/podSelector/matchLabels/component") == Some(&json!("metrics"))
        });
    assert!(from_exporter, "the exporter may reach the web UI");
}

#[cfg(feature = "tools")]
#[test]
fn extension_outputs_pass_strict_schemas_and_checkov() {
    let dir = tempfile::Builder::new().prefix("lp-ext").tempdir().unwrap();
    for (ex, rel) in [("ci-run", "ci"), ("metrics", "search-metrics")] {
        std::fs::write(dir.path().join(format!("{ex}.yaml")), rendered(ex, rel).0).unwrap();
    }
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    validate_strict(&files);
    let (checked, failed) = checkov_failures(dir.path());
    assert!(checked > 20, "checkov checked too little: {checked}");
    assert!(failed.is_empty(), "{failed:#?}");
}

#[test]
fn plan_suggests_workers_and_master_size() {
    let out = Command::new(bin())
        .args(["plan", "--users", "20000", "--rps", "15000"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("20 worker(s) for the users, 30 for the rate"),
        "{text}"
    );
    let yaml: String = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    let v = parse_single(&yaml).unwrap().to_json();
    assert_eq!(v["spec"]["workerContainer"]["replicas"], 30);
    assert_eq!(
        v["spec"]["masterContainer"]["resources"]["limits"]["cpu"],
        "500m"
    );
}
