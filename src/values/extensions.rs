//! Values and objects for the extension fields (docs/spec.md): headless runs with a
//! completion status, the Prometheus exporter, NetworkPolicies, spot workers.

use super::security::{container_security_context, pod_security_context};
use crate::contract::{
    PYTHON_BIN, RESULTS_DIR, RUN_AS_USER, SCRIPTS_ANNOTATION as ANNOTATION, TMP_VOLUME,
};
use crate::policy::rollout_hash::DataIndex;
use crate::spec::LoadTestSpec;
use crate::spec::extensions::{NetworkPolicy, OpenTelemetry, Run, Spot};
use crate::yaml::{Map, Node};

/// Locust's container command for a headless run: `run_wrapper.py` (read it for the details).
/// On the master it empties the results folder, runs Locust with the chart's arguments plus
/// `--html`/`--csv` into it, judges the thresholds, writes `summary.json` and `junit.xml`, prints
/// one `locust-planton-result {"exitCode": N, …}` line and then stays up, so the Deployment does
/// not start the test again and the result stays in the logs (`wait`, `status`) and the files in
/// the pod (`report`). SIGTERM (rollout, uninstall) stops both. `local` runs the same text.
pub const HEADLESS_WRAPPER: &str = include_str!("run_wrapper.py");

/// The wrapper's command: `python -c WRAPPER RESULTS_DIR CONFIG`; the chart's args follow.
/// Workers get an empty results folder (they write none).
pub fn wrapper_command(results_dir: &str, name: &str, run: Option<&Run>) -> Vec<String> {
    let thresholds = run.map_or_else(|| serde_json::json!({}), |r| r.thresholds.to_json());
    let mut config = serde_json::json!({"name": name, "thresholds": thresholds});
    // Only what a spec sets, so specs without them keep their values byte for byte.
    if let Some(r) = run {
        if let Some(b) = &r.baseline {
            config["baseline"] = b.to_json();
        }
        if r.abort_early {
            config["abortEarly"] = true.into();
            config["warmUpSeconds"] = r.warm_up_seconds.into();
        }
    }
    vec![
        PYTHON_BIN.to_string(),
        "-c".into(),
        HEADLESS_WRAPPER.into(),
        results_dir.into(),
        config.to_string(),
    ]
}

pub const EXPORTER_IMAGE: &str = "containersol/locust_exporter:v0.5.0";
pub const EXPORTER_PORT: i64 = 9646;
/// Helm's `tpl` fills this in for objects shipped in `extraObjects`.
const RELEASE: &str = "{{ .Release.Name }}";

fn strings(items: &[&str]) -> Node {
    Node::Seq(items.iter().map(|s| Node::string(*s)).collect())
}

fn role_map<'a>(values: &'a mut Map, role: &str) -> &'a mut Map {
    values
        .entry_map(role)
        .as_map_mut()
        .expect("role values are a mapping")
}

/// How often the ServiceMonitor has Prometheus scrape the exporter (which reads the master's
/// `/stats/requests` on each scrape).
pub const SCRAPE_INTERVAL_SECONDS: u64 = 15;

/// `--autoquit` of a run with the web UI on (`metrics`): how long Locust keeps serving the
/// stopped run's statistics before it quits and the wrapper judges. Two scrape intervals, so
/// that at least one scrape lands after the workers' last statistics reached the master even
/// when one scrape is late or fails: without it, Prometheus would keep the numbers of the last
/// scrape during the run, up to an interval short of the final ones.
pub const AUTOQUIT_SECONDS: u64 = 2 * SCRAPE_INTERVAL_SECONDS;

/// The run's flags on the master (one argument each: no shell splits them), processes on the
/// workers, and the wrapper as both containers' command. `web_ui`: the master runs the test
/// with its web UI on (`--autostart` and `--autoquit` instead of `--headless`), for the
/// exporter; the run still starts, ends and is judged by itself.
pub fn apply_run(values: &mut Map, name: &str, run: &Run, worker_replicas: i64, web_ui: bool) {
    let command = |dir: &str| {
        Node::Seq(
            wrapper_command(dir, name, Some(run))
                .into_iter()
                .map(Node::string)
                .collect(),
        )
    };
    let mut args: Vec<String> = if web_ui {
        vec![
            "--autostart".into(),
            "--autoquit".into(),
            AUTOQUIT_SECONDS.to_string(),
        ]
    } else {
        vec!["--headless".into()]
    };
    args.extend([
        "--users".into(),
        run.users.to_string(),
        "--spawn-rate".into(),
        run.spawn_rate.to_string(),
        "--run-time".into(),
        run.run_time.clone(),
        "--expect-workers".into(),
        (worker_replicas.max(0) as u64 * u64::from(run.processes)).to_string(),
    ]);
    if !run.tags.is_empty() {
        args.push("--tags".into());
        args.extend(run.tags.iter().cloned());
    }
    if !run.exclude_tags.is_empty() {
        args.push("--exclude-tags".into());
        args.extend(run.exclude_tags.iter().cloned());
    }
    let master = role_map(values, "master");
    master.insert("command", command(RESULTS_DIR));
    master.insert(
        "args",
        Node::Seq(args.into_iter().map(Node::string).collect()),
    );
    let worker = role_map(values, "worker");
    worker.insert("command", command(""));
    if run.processes > 1 {
        worker.insert(
            "args",
            strings(&["--processes", &run.processes.to_string()]),
        );
    }
}

/// OpenTelemetry (`spec.loadTest.openTelemetry`): `--otel` on master and workers, and the
/// exporter's environment in `loadtest.environment` (both roles). The pip step installs the
/// packages (`spec::pip::packages`).
pub fn apply_otel(
    values: &mut Map,
    spec: &LoadTestSpec,
    otel: &OpenTelemetry,
    configmaps: &[super::ScriptConfigMap],
) {
    for role in ["master", "worker"] {
        let m = role_map(values, role);
        let mut args = m
            .get("args")
            .and_then(Node::as_seq)
            .cloned()
            .unwrap_or_default();
        args.push(Node::string("--otel"));
        m.insert("args", Node::Seq(args));
    }
    let env = values
        .entry_map("loadtest")
        .as_map_mut()
        .expect("loadtest values are a mapping")
        .entry_map("environment")
        .as_map_mut()
        .expect("loadtest.environment is a mapping");
    for (k, v) in otel_env(spec, otel, configmaps) {
        env.insert(&k, Node::string(v));
    }
}

/// The run's identity as resource attributes: the spec's name (the name its results and
/// `--baseline last` go by) and its main script ConfigMap, whose name changes with every change
/// of the scripts (Locust adds `host.name`: the pod, for the master the run's master pod).
pub fn run_attributes(
    spec: &LoadTestSpec,
    configmaps: &[super::ScriptConfigMap],
) -> Vec<(String, String)> {
    let mut out = vec![("locust_planton.name".to_string(), spec.name.clone())];
    if let Some(main) = configmaps.iter().find(|c| c.role == crate::spec::MAIN_ROLE) {
        out.push(("locust_planton.scripts".to_string(), main.name.clone()));
    }
    out
}

/// The environment OpenTelemetry reads, in order: the four variables the fields decide, then
/// the user's `env`.
pub fn otel_env(
    spec: &LoadTestSpec,
    otel: &OpenTelemetry,
    configmaps: &[super::ScriptConfigMap],
) -> Vec<(String, String)> {
    let mut attributes = otel.resource_attributes.clone();
    attributes.extend(run_attributes(spec, configmaps));
    let mut env = vec![
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT".to_string(),
            otel.endpoint.clone(),
        ),
        (
            "OTEL_EXPORTER_OTLP_PROTOCOL".to_string(),
            otel.protocol.clone(),
        ),
        (
            "OTEL_SERVICE_NAME".to_string(),
            otel.service_name
                .clone()
                .unwrap_or_else(|| spec.name.clone()),
        ),
        (
            "OTEL_RESOURCE_ATTRIBUTES".to_string(),
            crate::spec::otel::resource_attributes_text(&attributes),
        ),
    ];
    env.extend(otel.env.iter().cloned());
    env
}

/// (label key, value) of spot nodes, and the taint to tolerate (if the provider taints them).
fn spot_label(spot: &Spot) -> (String, String, bool) {
    match spot {
        Spot::Gke => ("cloud.google.com/gke-spot".into(), "true".into(), true),
        // EKS does not taint spot nodes by default.
        Spot::Eks => (
            "eks.amazonaws.com/capacityType".into(),
            "SPOT".into(),
            false,
        ),
        Spot::Aks => (
            "kubernetes.azure.com/scalesetpriority".into(),
            "spot".into(),
            true,
        ),
        Spot::Generic { key, value } => (key.clone(), value.clone(), true),
    }
}

fn node_affinity(key: &str, operator: &str, value: &str) -> Node {
    let expr = Node::map_of(vec![
        ("key", Node::string(key)),
        ("operator", Node::string(operator)),
        ("values", strings(&[value])),
    ]);
    let term = Node::map_of(vec![("matchExpressions", Node::Seq(vec![expr]))]);
    Node::map_of(vec![(
        "nodeAffinity",
        Node::map_of(vec![(
            "requiredDuringSchedulingIgnoredDuringExecution",
            Node::map_of(vec![("nodeSelectorTerms", Node::Seq(vec![term]))]),
        )]),
    )])
}

/// Workers required on spot nodes (tolerating their taint); the master kept off them.
pub fn apply_spot(values: &mut Map, spot: &Spot) {
    let (key, value, tainted) = spot_label(spot);
    let worker = role_map(values, "worker");
    worker.insert("affinity", node_affinity(&key, "In", &value));
    if tainted {
        let toleration = Node::map_of(vec![
            ("key", Node::string(&key)),
            ("operator", Node::string("Equal")),
            ("value", Node::string(&value)),
            ("effect", Node::string("NoSchedule")),
        ]);
        worker.insert("tolerations", Node::Seq(vec![toleration]));
    }
    role_map(values, "master").insert("affinity", node_affinity(&key, "NotIn", &value));
}

fn labels(component: &str) -> Node {
    Node::map_of(vec![
        ("app.kubernetes.io/name", Node::string("locust-exporter")),
        ("app.kubernetes.io/instance", Node::string(RELEASE)),
        ("component", Node::string(component)),
    ])
}

fn selector(component: &str) -> Node {
    Node::map_of(vec![
        ("app.kubernetes.io/instance", Node::string(RELEASE)),
        ("component", Node::string(component)),
    ])
}

/// One of the exporter's objects: named after the release, labelled as the metrics component.
fn exporter_object(api_version: &str, kind: &str, name: &str, spec: Node) -> Node {
    Node::map_of(vec![
        ("apiVersion", Node::string(api_version)),
        ("kind", Node::string(kind)),
        (
            "metadata",
            Node::map_of(vec![
                ("name", Node::string(name)),
                ("labels", labels("metrics")),
            ]),
        ),
        ("spec", spec),
    ])
}

/// The exporter (a Deployment: the chart has no sidecar hook), its Service and a ServiceMonitor.
/// Written hardened and stamped, so the post-renderer leaves it as it is.
pub fn metrics_objects(spec: &LoadTestSpec) -> Vec<Node> {
    let name = format!("{}-metrics", spec.name);
    let master_url = format!("http://{}:8089", spec.name);
    vec![
        exporter_deployment(&name, exporter_pod_spec(&master_url)),
        exporter_service(&name),
        service_monitor(&name),
    ]
}

/// The exporter's pod spec: one container scraping the master, hardened (a read-only root file
/// system with a writable /tmp).
fn exporter_pod_spec(master_url: &str) -> Node {
    let container = Node::map_of(vec![
        ("name", Node::string("exporter")),
        ("image", Node::string(EXPORTER_IMAGE)),
        (
            "args",
            Node::Seq(vec![Node::string(format!("--locust.uri={master_url}"))]),
        ),
        (
            "ports",
            Node::Seq(vec![Node::map_of(vec![
                ("name", Node::string("metrics")),
                ("containerPort", Node::int(EXPORTER_PORT)),
            ])]),
        ),
        ("resources", exporter_resources()),
        ("securityContext", container_security_context(RUN_AS_USER)),
        (
            "volumeMounts",
            Node::Seq(vec![Node::map_of(vec![
                ("name", Node::string(TMP_VOLUME.0)),
                ("mountPath", Node::string(TMP_VOLUME.1)),
            ])]),
        ),
    ]);
    Node::map_of(vec![
        ("automountServiceAccountToken", Node::bool(false)),
        ("enableServiceLinks", Node::bool(false)),
        ("securityContext", pod_security_context(RUN_AS_USER)),
        ("containers", Node::Seq(vec![container])),
        (
            "volumes",
            Node::Seq(vec![Node::map_of(vec![
                ("name", Node::string(TMP_VOLUME.0)),
                ("emptyDir", Node::map()),
            ])]),
        ),
    ])
}

fn exporter_resources() -> Node {
    let cpu_memory = |cpu: &str, memory: &str| {
        Node::map_of(vec![
            ("cpu", Node::string(cpu)),
            ("memory", Node::string(memory)),
        ])
    };
    Node::map_of(vec![
        ("limits", cpu_memory("100m", "64Mi")),
        ("requests", cpu_memory("10m", "32Mi")),
    ])
}

/// The exporter's Deployment, its pod template stamped with the hash the post-renderer would
/// stamp (the exporter uses no ConfigMap or Secret).
fn exporter_deployment(name: &str, pod_spec: Node) -> Node {
    let hash = DataIndex::default().hash_for(&pod_spec);
    exporter_object(
        "apps/v1",
        "Deployment",
        name,
        Node::map_of(vec![
            ("replicas", Node::int(1)),
            (
                "selector",
                Node::map_of(vec![("matchLabels", selector("metrics"))]),
            ),
            (
                "template",
                Node::map_of(vec![
                    (
                        "metadata",
                        Node::map_of(vec![
                            ("labels", labels("metrics")),
                            (
                                "annotations",
                                Node::map_of(vec![(ANNOTATION, Node::string(hash))]),
                            ),
                        ]),
                    ),
                    ("spec", pod_spec),
                ]),
            ),
        ]),
    )
}

fn exporter_service(name: &str) -> Node {
    exporter_object(
        "v1",
        "Service",
        name,
        Node::map_of(vec![
            ("selector", selector("metrics")),
            (
                "ports",
                Node::Seq(vec![Node::map_of(vec![
                    ("name", Node::string("metrics")),
                    ("port", Node::int(EXPORTER_PORT)),
                    ("targetPort", Node::string("metrics")),
                ])]),
            ),
        ]),
    )
}

fn service_monitor(name: &str) -> Node {
    exporter_object(
        "monitoring.coreos.com/v1",
        "ServiceMonitor",
        name,
        Node::map_of(vec![
            (
                "selector",
                Node::map_of(vec![("matchLabels", selector("metrics"))]),
            ),
            (
                "endpoints",
                Node::Seq(vec![Node::map_of(vec![
                    ("port", Node::string("metrics")),
                    (
                        "interval",
                        Node::string(format!("{SCRAPE_INTERVAL_SECONDS}s")),
                    ),
                    ("path", Node::string("/metrics")),
                ])]),
            ),
        ]),
    )
}

fn port(p: i64, protocol: &str) -> Node {
    Node::map_of(vec![
        ("port", Node::int(p)),
        ("protocol", Node::string(protocol)),
    ])
}

fn pods(component: &str) -> Node {
    Node::map_of(vec![(
        "podSelector",
        Node::map_of(vec![("matchLabels", selector(component))]),
    )])
}

fn dns_egress() -> Node {
    Node::map_of(vec![
        (
            "to",
            Node::Seq(vec![Node::map_of(vec![("namespaceSelector", Node::map())])]),
        ),
        ("ports", Node::Seq(vec![port(53, "UDP"), port(53, "TCP")])),
    ])
}

fn policy(name: String, component: &str, ingress: Vec<Node>, egress: Vec<Node>) -> Node {
    Node::map_of(vec![
        ("apiVersion", Node::string("networking.k8s.io/v1")),
        ("kind", Node::string("NetworkPolicy")),
        ("metadata", Node::map_of(vec![("name", Node::string(name))])),
        (
            "spec",
            Node::map_of(vec![
                (
                    "podSelector",
                    Node::map_of(vec![("matchLabels", selector(component))]),
                ),
                ("policyTypes", strings(&["Ingress", "Egress"])),
                ("ingress", Node::Seq(ingress)),
                ("egress", Node::Seq(egress)),
            ]),
        ),
    ])
}

/// Master: 5557/5558 from this release's workers, 8089 from the named namespaces (or this one)
/// and the exporter; egress DNS only. Workers: no ingress; egress DNS, the master, the targets.
pub fn network_policies(spec: &LoadTestSpec, np: &NetworkPolicy) -> Vec<Node> {
    let mut out = vec![master_policy(spec, np), worker_policy(spec, np)];
    if spec.extensions.prometheus {
        out.push(metrics_policy(spec));
    }
    out
}

/// Ingress to the master from its workers, the web UI's namespaces and (with Prometheus) the
/// exporter; egress DNS only.
fn master_policy(spec: &LoadTestSpec, np: &NetworkPolicy) -> Node {
    let mut ingress = vec![
        Node::map_of(vec![
            ("from", Node::Seq(vec![pods("worker")])),
            (
                "ports",
                Node::Seq(vec![port(5557, "TCP"), port(5558, "TCP")]),
            ),
        ]),
        Node::map_of(vec![
            ("from", Node::Seq(web_ui_sources(np))),
            ("ports", Node::Seq(vec![port(8089, "TCP")])),
        ]),
    ];
    if spec.extensions.prometheus {
        ingress.push(Node::map_of(vec![
            ("from", Node::Seq(vec![pods("metrics")])),
            ("ports", Node::Seq(vec![port(8089, "TCP")])),
        ]));
    }
    let mut egress = vec![dns_egress()];
    egress.extend(otel_egress(spec));
    policy(format!("{}-master", spec.name), "master", ingress, egress)
}

/// With `openTelemetry`, egress to its endpoint (master and workers export): to its address
/// when the endpoint is an IP address, else its port to any address (a NetworkPolicy selects
/// no DNS name); docs/spec.md says so.
fn otel_egress(spec: &LoadTestSpec) -> Option<Node> {
    let otel = spec.extensions.open_telemetry.as_ref()?;
    let (host, p) = crate::spec::otel::endpoint_host_port(&otel.endpoint)?;
    let mut rule = vec![];
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        let bits = if ip.is_ipv4() { 32 } else { 128 };
        rule.push((
            "to",
            Node::Seq(vec![Node::map_of(vec![(
                "ipBlock",
                Node::map_of(vec![("cidr", Node::string(format!("{ip}/{bits}")))]),
            )])]),
        ));
    }
    rule.push(("ports", Node::Seq(vec![port(i64::from(p), "TCP")])));
    Some(Node::map_of(rule))
}

/// Where the web UI may be reached from: the named namespaces, or any pod of this one.
fn web_ui_sources(np: &NetworkPolicy) -> Vec<Node> {
    if np.web_ui_from_namespaces.is_empty() {
        return vec![Node::map_of(vec![("podSelector", Node::map())])];
    }
    np.web_ui_from_namespaces
        .iter()
        .map(|ns| {
            Node::map_of(vec![(
                "namespaceSelector",
                Node::map_of(vec![(
                    "matchLabels",
                    Node::map_of(vec![("kubernetes.io/metadata.name", Node::string(ns))]),
                )]),
            )])
        })
        .collect()
}

/// No ingress to the workers; egress DNS, the master, and the targets (anywhere when none are
/// named).
fn worker_policy(spec: &LoadTestSpec, np: &NetworkPolicy) -> Node {
    let targets = if np.target_cidrs.is_empty() {
        // No `to`: the load may go anywhere.
        Node::map()
    } else {
        Node::map_of(vec![(
            "to",
            Node::Seq(
                np.target_cidrs
                    .iter()
                    .map(|c| {
                        Node::map_of(vec![(
                            "ipBlock",
                            Node::map_of(vec![("cidr", Node::string(c))]),
                        )])
                    })
                    .collect(),
            ),
        )])
    };
    let to_master = Node::map_of(vec![
        ("to", Node::Seq(vec![pods("master")])),
        (
            "ports",
            Node::Seq(vec![port(5557, "TCP"), port(5558, "TCP")]),
        ),
    ]);
    let mut egress = vec![dns_egress(), to_master, targets];
    egress.extend(otel_egress(spec));
    policy(
        format!("{}-worker", spec.name),
        "worker",
        Vec::new(),
        egress,
    )
}

/// The exporter: scraped on its port; egress DNS and the master's web port.
fn metrics_policy(spec: &LoadTestSpec) -> Node {
    policy(
        format!("{}-metrics", spec.name),
        "metrics",
        vec![Node::map_of(vec![(
            "ports",
            Node::Seq(vec![port(EXPORTER_PORT, "TCP")]),
        )])],
        vec![
            dns_egress(),
            Node::map_of(vec![
                ("to", Node::Seq(vec![pods("master")])),
                ("ports", Node::Seq(vec![port(8089, "TCP")])),
            ]),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::RESULT_MARKER;
    use serde_json::{Value, json};
    use std::path::{Path, PathBuf};

    fn fixture() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/results/ci-run")
    }

    /// The wrapper's `--evaluate` mode on a copy of `fixtures/results/ci-run`'s CSVs (a real
    /// Locust 2.32.2 run): (summary.json, junit.xml, result line).
    fn evaluate(config: Value, locust_code: i32) -> (Value, String, Value) {
        let dir = tempfile::tempdir().unwrap();
        for e in std::fs::read_dir(fixture()).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "csv") {
                std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
            }
        }
        let out = std::process::Command::new("python3")
            .args(["-c", HEADLESS_WRAPPER, "--evaluate"])
            .arg(dir.path())
            .arg(config.to_string())
            .arg(locust_code.to_string())
            .output()
            .expect("python3 runs the wrapper");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        let line = stdout.trim().strip_prefix(RESULT_MARKER).unwrap();
        let summary = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("summary.json")).unwrap(),
        )
        .unwrap();
        let junit = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
        (summary, junit, serde_json::from_str(line).unwrap())
    }

    /// The container command `values` gives a role for `fixtures/results/ci-run.spec.yaml`.
    fn command_of(role: &str) -> Vec<String> {
        let spec = crate::spec::read(
            &std::fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/results/ci-run.spec.yaml"),
            )
            .unwrap(),
        )
        .unwrap()
        .0;
        let s = crate::values::synthesize(&spec);
        s.values
            .get_path(&[role, "command"])
            .and_then(crate::yaml::Node::as_seq)
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap().to_string())
            .collect()
    }

    fn master_command() -> Vec<String> {
        command_of("master")
    }

    /// The Aggregated row of the fixture's stats CSV, read here independently of the wrapper.
    fn aggregated() -> Vec<(String, String)> {
        let text = std::fs::read_to_string(fixture().join("locust_stats.csv")).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let row: Vec<&str> = lines
            .find(|l| l.starts_with(",Aggregated,"))
            .unwrap()
            .split(',')
            .collect();
        header
            .iter()
            .zip(row)
            .map(|(h, v)| (h.to_string(), v.to_string()))
            .collect()
    }

    fn col(row: &[(String, String)], name: &str) -> f64 {
        row.iter()
            .find(|(h, _)| h == name)
            .unwrap()
            .1
            .parse()
            .unwrap()
    }

    #[test]
    fn the_wrapper_judges_real_locust_csvs_as_the_run_did() {
        let committed: Value =
            serde_json::from_str(&std::fs::read_to_string(fixture().join("summary.json")).unwrap())
                .unwrap();
        // The configuration the spec that made the fixture gives the master.
        let config: Value = serde_json::from_str(&master_command()[4]).unwrap();
        let (summary, junit, line) = evaluate(config, 1);
        // Same verdicts and measurements as the run that wrote the fixture.
        assert_eq!(summary["thresholds"], committed["thresholds"]);
        assert_eq!(summary["totals"], committed["totals"]);
        assert_eq!(summary["percentiles"], committed["percentiles"]);
        assert_eq!(summary["exitCode"], 1);
        assert_eq!(line["exitCode"], 1);
        assert_eq!(line["thresholds"], summary["thresholds"]);
        // And the numbers are the CSV's Aggregated row.
        let row = aggregated();
        let t = &summary["totals"];
        assert_eq!(t["requests"], col(&row, "Request Count") as i64);
        assert_eq!(t["failures"], col(&row, "Failure Count") as i64);
        assert_eq!(t["rps"].as_f64().unwrap(), col(&row, "Requests/s"));
        assert_eq!(
            summary["percentiles"]["95"].as_f64().unwrap(),
            col(&row, "95%")
        );
        let ratio = col(&row, "Failure Count") / col(&row, "Request Count");
        let missed = &summary["thresholds"][0];
        assert_eq!(missed["name"], "maxFailRatio");
        assert_eq!(missed["measured"].as_f64().unwrap(), ratio);
        assert_eq!(missed["passed"], false);
        assert_eq!(missed["text"], "maxFailRatio: 0.0575 > 0.05");
        assert!(
            summary["thresholds"].as_array().unwrap()[1..]
                .iter()
                .all(|t| t["passed"] == true)
        );
        assert!(junit.contains(r#"tests="5" failures="1""#), "{junit}");
        assert!(
            junit
                .contains(r#"<failure message="maxFailRatio: 0.0575 &gt; 0.05" type="threshold">"#),
            "{junit}"
        );
    }

    #[test]
    fn thresholds_decide_over_locust_exit_code_and_none_means_no_failure() {
        // Failures tolerated by the thresholds: the run passes although Locust exited 1.
        let (summary, _, _) = evaluate(
            json!({"name": "ci-run", "thresholds": {"maxFailRatio": 0.1, "minRps": 35.19}}),
            1,
        );
        assert_eq!(summary["exitCode"], 0, "{summary}");
        assert_eq!(summary["locustExitCode"], 1);
        assert_eq!(summary["thresholds"][1]["text"], "minRps: 35.19 >= 35.19");
        // A missed minimum reads `measured < limit`.
        let (summary, _, _) = evaluate(json!({"thresholds": {"minRps": 50}}), 0);
        assert_eq!(summary["thresholds"][0]["text"], "minRps: 35.19 < 50");
        assert_eq!(summary["exitCode"], 1);
        // No thresholds: one test case, "no request failed", failed here (10 failures).
        let (summary, junit, _) = evaluate(json!({"name": "ci-run", "thresholds": {}}), 1);
        assert_eq!(summary["exitCode"], 1);
        assert!(
            junit.contains(r#"name="no request failed""#)
                && junit.contains("10 of 174 requests failed; Locust exited 1"),
            "{junit}"
        );
        // Locust's own errors (2: bad arguments) are never hidden by met thresholds.
        let (summary, _, _) = evaluate(json!({"thresholds": {"maxFailRatio": 1}}), 2);
        assert_eq!(summary["exitCode"], 2);
    }

    #[test]
    fn no_statistics_fail_every_threshold() {
        let dir = tempfile::tempdir().unwrap();
        let out = std::process::Command::new("python3")
            .args(["-c", HEADLESS_WRAPPER, "--evaluate"])
            .arg(dir.path())
            .arg(json!({"thresholds": {"maxAvgResponseTimeMs": 5}}).to_string())
            .arg("0")
            .output()
            .unwrap();
        assert!(out.status.success());
        let summary: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("summary.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(summary["exitCode"], 1, "Locust wrote no statistics");
        assert_eq!(summary["totals"], Value::Null);
        assert_eq!(
            summary["thresholds"][0]["text"],
            "maxAvgResponseTimeMs: no requests were made (limit 5)"
        );
    }

    #[test]
    fn the_master_runs_the_wrapper_with_the_thresholds_and_workers_without_results() {
        let spec = crate::spec::read(
            &std::fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/results/ci-run.spec.yaml"),
            )
            .unwrap(),
        )
        .unwrap()
        .0;
        let s = crate::values::synthesize(&spec);
        let cmd = |role: &str| -> Vec<String> {
            s.values
                .get_path(&[role, "command"])
                .and_then(crate::yaml::Node::as_seq)
                .unwrap()
                .iter()
                .map(|n| n.as_str().unwrap().to_string())
                .collect()
        };
        let master = cmd("master");
        assert_eq!(master[..3], [PYTHON_BIN, "-c", HEADLESS_WRAPPER]);
        assert_eq!(master[3], RESULTS_DIR);
        let config: Value = serde_json::from_str(&master[4]).unwrap();
        assert_eq!(
            config,
            json!({"name": "ci-run", "thresholds": {"maxFailRatio": 0.05, "maxAvgResponseTimeMs": 500.0,
                "maxPercentileResponseTimeMs": {"95": 800.0, "99": 1500.0}, "minRps": 10.0}})
        );
        assert!(RESULTS_DIR.starts_with(crate::contract::HOME_VOLUME.1));
        let worker = command_of("worker");
        assert_eq!(worker[3], "", "workers write no results");
    }
}
