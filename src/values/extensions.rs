//! Values and objects for the extension fields (README "Extension fields"): headless runs with a
//! completion status, the Prometheus exporter, NetworkPolicies, spot workers.

use super::security::{container_security_context, pod_security_context};
use super::{RUN_AS_USER, TMP_VOLUME};
use crate::postrender::rollout_hash::{ANNOTATION, DataIndex};
use crate::spec::LoadTestSpec;
use crate::spec::extensions::{NetworkPolicy, Run, Spot};
use crate::yaml::{Map, Node};

/// Locust's container command for a headless run: `run_wrapper.py` (read it for the details).
/// On the master it empties the results folder, runs Locust with the chart's arguments plus
/// `--html`/`--csv` into it, judges the thresholds, writes `summary.json` and `junit.xml`, prints
/// one `locust-planton-result {"exitCode": N, …}` line and then stays up, so the Deployment does
/// not start the test again and the result stays in the logs (`wait`, `status`) and the files in
/// the pod (`report`). SIGTERM (rollout, uninstall) stops both. `local` runs the same text.
pub const RESULT_MARKER: &str = "locust-planton-result ";
pub const HEADLESS_WRAPPER: &str = include_str!("run_wrapper.py");
/// Where the master writes a run's results: in its home emptyDir (`HOME_VOLUME`), so nothing
/// is added to the pod and the files live as long as the pod.
pub const RESULTS_DIR: &str = "/home/locust/results";
/// Files every headless run leaves in its results folder (Locust writes the CSVs only when it
/// got as far as running).
pub const RESULT_FILES: &[&str] = &[
    "report.html",
    "locust_stats.csv",
    "locust_stats_history.csv",
    "locust_failures.csv",
    "locust_exceptions.csv",
    "summary.json",
    "junit.xml",
];

/// The wrapper's command: `python -c WRAPPER RESULTS_DIR CONFIG`; the chart's args follow.
/// Workers get an empty results folder (they write none).
pub fn wrapper_command(results_dir: &str, name: &str, run: Option<&Run>) -> Vec<String> {
    let thresholds = run.map_or_else(|| serde_json::json!({}), |r| r.thresholds.to_json());
    let config = serde_json::json!({"name": name, "thresholds": thresholds});
    vec![
        PYTHON_BIN.to_string(),
        "-c".into(),
        HEADLESS_WRAPPER.into(),
        results_dir.into(),
        config.to_string(),
    ]
}

pub const PYTHON_BIN: &str = "/opt/venv/bin/python";
pub const EXPORTER_IMAGE: &str = "containersol/locust_exporter:v0.5.0";
pub const EXPORTER_PORT: i64 = 9646;
/// Helm's `tpl` fills this in for objects shipped in `extraObjects`.
const RELEASE: &str = "{{ .Release.Name }}";

fn map(entries: Vec<(&str, Node)>) -> Node {
    Node::map_of(entries)
}

fn strings(items: &[&str]) -> Node {
    Node::Seq(items.iter().map(|s| Node::string(*s)).collect())
}

fn role_map<'a>(values: &'a mut Map, role: &str) -> &'a mut Map {
    values
        .entry_map(role)
        .as_map_mut()
        .expect("role values are a mapping")
}

/// Headless flags on the master (one argument each: no shell splits them), processes on the
/// workers, and the wrapper as both containers' command.
pub fn apply_run(values: &mut Map, name: &str, run: &Run, worker_replicas: i64) {
    let command = |dir: &str| {
        Node::Seq(
            wrapper_command(dir, name, Some(run))
                .into_iter()
                .map(Node::string)
                .collect(),
        )
    };
    let mut args: Vec<String> = vec![
        "--headless".into(),
        "--users".into(),
        run.users.to_string(),
        "--spawn-rate".into(),
        run.spawn_rate.to_string(),
        "--run-time".into(),
        run.run_time.clone(),
        "--expect-workers".into(),
        (worker_replicas.max(0) as u64 * u64::from(run.processes)).to_string(),
    ];
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
    let expr = map(vec![
        ("key", Node::string(key)),
        ("operator", Node::string(operator)),
        ("values", strings(&[value])),
    ]);
    let term = map(vec![("matchExpressions", Node::Seq(vec![expr]))]);
    map(vec![(
        "nodeAffinity",
        map(vec![(
            "requiredDuringSchedulingIgnoredDuringExecution",
            map(vec![("nodeSelectorTerms", Node::Seq(vec![term]))]),
        )]),
    )])
}

/// Workers required on spot nodes (tolerating their taint); the master kept off them.
pub fn apply_spot(values: &mut Map, spot: &Spot) {
    let (key, value, tainted) = spot_label(spot);
    let worker = role_map(values, "worker");
    worker.insert("affinity", node_affinity(&key, "In", &value));
    if tainted {
        let toleration = map(vec![
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
    map(vec![
        ("app.kubernetes.io/name", Node::string("locust-exporter")),
        ("app.kubernetes.io/instance", Node::string(RELEASE)),
        ("component", Node::string(component)),
    ])
}

fn selector(component: &str) -> Node {
    map(vec![
        ("app.kubernetes.io/instance", Node::string(RELEASE)),
        ("component", Node::string(component)),
    ])
}

/// One of the exporter's objects: named after the release, labelled as the metrics component.
fn exporter_object(api_version: &str, kind: &str, name: &str, spec: Node) -> Node {
    map(vec![
        ("apiVersion", Node::string(api_version)),
        ("kind", Node::string(kind)),
        (
            "metadata",
            map(vec![
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
    let container = map(vec![
        ("name", Node::string("exporter")),
        ("image", Node::string(EXPORTER_IMAGE)),
        (
            "args",
            Node::Seq(vec![Node::string(format!("--locust.uri={master_url}"))]),
        ),
        (
            "ports",
            Node::Seq(vec![map(vec![
                ("name", Node::string("metrics")),
                ("containerPort", Node::int(EXPORTER_PORT)),
            ])]),
        ),
        (
            "resources",
            map(vec![
                (
                    "limits",
                    map(vec![
                        ("cpu", Node::string("100m")),
                        ("memory", Node::string("64Mi")),
                    ]),
                ),
                (
                    "requests",
                    map(vec![
                        ("cpu", Node::string("10m")),
                        ("memory", Node::string("32Mi")),
                    ]),
                ),
            ]),
        ),
        ("securityContext", container_security_context(RUN_AS_USER)),
        (
            "volumeMounts",
            Node::Seq(vec![map(vec![
                ("name", Node::string(TMP_VOLUME.0)),
                ("mountPath", Node::string(TMP_VOLUME.1)),
            ])]),
        ),
    ]);
    let pod_spec = map(vec![
        ("automountServiceAccountToken", Node::bool(false)),
        ("enableServiceLinks", Node::bool(false)),
        ("securityContext", pod_security_context(RUN_AS_USER)),
        ("containers", Node::Seq(vec![container])),
        (
            "volumes",
            Node::Seq(vec![map(vec![
                ("name", Node::string(TMP_VOLUME.0)),
                ("emptyDir", Node::map()),
            ])]),
        ),
    ]);
    // The hash the post-renderer would stamp: the exporter uses no ConfigMap or Secret.
    let hash = DataIndex::default().hash_for(&pod_spec);
    let deployment = exporter_object(
        "apps/v1",
        "Deployment",
        &name,
        map(vec![
            ("replicas", Node::int(1)),
            ("selector", map(vec![("matchLabels", selector("metrics"))])),
            (
                "template",
                map(vec![
                    (
                        "metadata",
                        map(vec![
                            ("labels", labels("metrics")),
                            ("annotations", map(vec![(ANNOTATION, Node::string(hash))])),
                        ]),
                    ),
                    ("spec", pod_spec),
                ]),
            ),
        ]),
    );
    let service = exporter_object(
        "v1",
        "Service",
        &name,
        map(vec![
            ("selector", selector("metrics")),
            (
                "ports",
                Node::Seq(vec![map(vec![
                    ("name", Node::string("metrics")),
                    ("port", Node::int(EXPORTER_PORT)),
                    ("targetPort", Node::string("metrics")),
                ])]),
            ),
        ]),
    );
    let monitor = exporter_object(
        "monitoring.coreos.com/v1",
        "ServiceMonitor",
        &name,
        map(vec![
            ("selector", map(vec![("matchLabels", selector("metrics"))])),
            (
                "endpoints",
                Node::Seq(vec![map(vec![
                    ("port", Node::string("metrics")),
                    ("interval", Node::string("15s")),
                    ("path", Node::string("/metrics")),
                ])]),
            ),
        ]),
    );
    vec![deployment, service, monitor]
}

fn port(p: i64, protocol: &str) -> Node {
    map(vec![
        ("port", Node::int(p)),
        ("protocol", Node::string(protocol)),
    ])
}

fn pods(component: &str) -> Node {
    map(vec![(
        "podSelector",
        map(vec![("matchLabels", selector(component))]),
    )])
}

fn dns_egress() -> Node {
    map(vec![
        (
            "to",
            Node::Seq(vec![map(vec![("namespaceSelector", Node::map())])]),
        ),
        ("ports", Node::Seq(vec![port(53, "UDP"), port(53, "TCP")])),
    ])
}

fn policy(name: String, component: &str, ingress: Vec<Node>, egress: Vec<Node>) -> Node {
    map(vec![
        ("apiVersion", Node::string("networking.k8s.io/v1")),
        ("kind", Node::string("NetworkPolicy")),
        ("metadata", map(vec![("name", Node::string(name))])),
        (
            "spec",
            map(vec![
                (
                    "podSelector",
                    map(vec![("matchLabels", selector(component))]),
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
    let ui_from: Vec<Node> = if np.web_ui_from_namespaces.is_empty() {
        vec![map(vec![("podSelector", Node::map())])]
    } else {
        np.web_ui_from_namespaces
            .iter()
            .map(|ns| {
                map(vec![(
                    "namespaceSelector",
                    map(vec![(
                        "matchLabels",
                        map(vec![("kubernetes.io/metadata.name", Node::string(ns))]),
                    )]),
                )])
            })
            .collect()
    };
    let mut master_ingress = vec![
        map(vec![
            ("from", Node::Seq(vec![pods("worker")])),
            (
                "ports",
                Node::Seq(vec![port(5557, "TCP"), port(5558, "TCP")]),
            ),
        ]),
        map(vec![
            ("from", Node::Seq(ui_from)),
            ("ports", Node::Seq(vec![port(8089, "TCP")])),
        ]),
    ];
    let mut out = Vec::new();
    if spec.extensions.prometheus {
        master_ingress.push(map(vec![
            ("from", Node::Seq(vec![pods("metrics")])),
            ("ports", Node::Seq(vec![port(8089, "TCP")])),
        ]));
        out.push(policy(
            format!("{}-metrics", spec.name),
            "metrics",
            vec![map(vec![(
                "ports",
                Node::Seq(vec![port(EXPORTER_PORT, "TCP")]),
            )])],
            vec![
                dns_egress(),
                map(vec![
                    ("to", Node::Seq(vec![pods("master")])),
                    ("ports", Node::Seq(vec![port(8089, "TCP")])),
                ]),
            ],
        ));
    }
    let mut worker_egress = vec![
        dns_egress(),
        map(vec![
            ("to", Node::Seq(vec![pods("master")])),
            (
                "ports",
                Node::Seq(vec![port(5557, "TCP"), port(5558, "TCP")]),
            ),
        ]),
    ];
    worker_egress.push(if np.target_cidrs.is_empty() {
        // No `to`: the load may go anywhere.
        Node::map()
    } else {
        map(vec![(
            "to",
            Node::Seq(
                np.target_cidrs
                    .iter()
                    .map(|c| map(vec![("ipBlock", map(vec![("cidr", Node::string(c))]))]))
                    .collect(),
            ),
        )])
    });
    out.insert(
        0,
        policy(
            format!("{}-worker", spec.name),
            "worker",
            Vec::new(),
            worker_egress,
        ),
    );
    out.insert(
        0,
        policy(
            format!("{}-master", spec.name),
            "master",
            master_ingress,
            vec![dns_egress()],
        ),
    );
    out
}
