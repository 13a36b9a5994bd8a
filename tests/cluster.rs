//! The user journeys against a whole cluster: the test control plane of tests/apiserver.rs plus
//! kube-controller-manager, kube-scheduler and a kwok fake node (`scripts/kube.sh up --nodes`), so
//! Deployments get ReplicaSets and pods, pods get a node and become Ready (kwok: no container
//! runs), Services get endpoints and the garbage collector deletes what a release owned. Each
//! journey runs on Helm 3 and Helm 4, in namespaces of its own.
#![cfg(feature = "tools")]

mod common;

use common::kube::{self, Cluster};
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// What starts a cluster with nodes for a shell that runs these tests by hand.
const UP_NODES: &str = "eval \"$(scripts/kube.sh up --nodes)\"";

/// The test cluster, which must have the fake nodes (`LP_KUBE_NODES`, exported by
/// `scripts/kube.sh up --nodes`); fails naming that command otherwise.
fn cluster() -> Cluster {
    let nodes = std::env::var("LP_KUBE_NODES").unwrap_or_default();
    assert!(
        !nodes.is_empty(),
        "LP_KUBE_NODES is not set: these tests need a cluster with nodes; start it with `{UP_NODES}` (scripts/test.sh does)"
    );
    let cluster = kube::cluster();
    for node in nodes.split(',') {
        cluster.ok(
            &[
                "wait",
                "--for=condition=Ready",
                &format!("node/{node}"),
                "--timeout=60s",
            ],
            "",
        );
    }
    cluster
}

/// The real chart's directory, as `--chart` takes it.
fn real_chart() -> String {
    real_locust_chart().display().to_string()
}

/// `locust-planton ARGS…` with `home`'s Helm homes, `KUBECONFIG` the test cluster's and the
/// v1.37 kubectl as `KUBECTL`: (exit code, stdout, stderr).
fn lp_on(cluster: &Cluster, home: &Path, args: &[&str]) -> (i32, String, String) {
    let out = lp(home)
        .args(args)
        .env("KUBECONFIG", cluster.kubeconfig())
        .env("KUBECTL", kubectl())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn get_json(cluster: &Cluster, ns: &str, what: &[&str]) -> Value {
    let mut args = vec!["get", "-n", ns, "-o", "json"];
    args.extend(what);
    serde_json::from_str(&cluster.ok(&args, "")).unwrap()
}

fn items(list: &Value) -> &Vec<Value> {
    list["items"].as_array().unwrap()
}

fn name(o: &Value) -> String {
    o["metadata"]["name"].as_str().unwrap().to_string()
}

/// examples/kubernetes-locust.yaml (release `search-load`, two workers) with this script query
/// and this worker count, in `dir`.
fn spec(dir: &Path, script: &str, workers: u32, extra_values: &str) -> PathBuf {
    let text = read(repo().join("examples/kubernetes-locust.yaml"));
    assert!(text.contains("q=locust") && text.contains("replicas: 2"));
    let text = text
        .replace("q=locust", script)
        .replace("replicas: 2", &format!("replicas: {workers}"));
    let text = if extra_values.is_empty() {
        text
    } else {
        format!("{}\n  helm_values:\n{extra_values}", text.trim_end())
    };
    let p = dir.join(format!("spec-{workers}-{}.yaml", script.replace('=', "-")));
    std::fs::write(&p, text).unwrap();
    p
}

const RELEASE: &str = "search-load";
const SCRIPTS_HASH: &str = "locust.project-planton.org/scripts-sha256";

/// The script ConfigMaps of the release (names, sorted).
fn script_configmaps(cluster: &Cluster, ns: &str) -> Vec<String> {
    let mut names: Vec<String> = items(&get_json(cluster, ns, &["configmaps"]))
        .iter()
        .map(name)
        .filter(|n| n != "kube-root-ca.crt")
        .collect();
    names.sort();
    names
}

/// Each Deployment: (name, replicas, generation, scripts hash of its pod template).
fn deployments(cluster: &Cluster, ns: &str) -> Vec<(String, i64, i64, String)> {
    let mut out: Vec<_> = items(&get_json(cluster, ns, &["deployments"]))
        .iter()
        .map(|d| {
            (
                name(d),
                d["spec"]["replicas"].as_i64().unwrap(),
                d["metadata"]["generation"].as_i64().unwrap(),
                d["spec"]["template"]["metadata"]["annotations"][SCRIPTS_HASH]
                    .as_str()
                    .unwrap_or_else(|| panic!("no scripts hash on {}", name(d)))
                    .to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Each ReplicaSet: (name, desired replicas), sorted.
fn replica_sets(cluster: &Cluster, ns: &str) -> Vec<(String, i64)> {
    let mut out: Vec<_> = items(&get_json(cluster, ns, &["replicasets"]))
        .iter()
        .map(|r| (name(r), r["spec"]["replicas"].as_i64().unwrap()))
        .collect();
    out.sort();
    out
}

/// Every Deployment of the release is Available, with all its replicas updated and ready.
fn assert_available(cluster: &Cluster, ns: &str, what: &str) {
    let list = get_json(cluster, ns, &["deployments"]);
    assert_eq!(items(&list).len(), 2, "{what}: master and worker");
    for d in items(&list) {
        let available = d["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["type"] == "Available" && c["status"] == "True");
        assert!(
            available,
            "{what}: {} not Available: {}",
            name(d),
            d["status"]
        );
        for field in ["readyReplicas", "updatedReplicas", "availableReplicas"] {
            assert_eq!(
                d["status"][field],
                d["spec"]["replicas"],
                "{what}: {} {field}",
                name(d)
            );
        }
    }
}

/// The master pod (Running, on a node, with an IP).
fn master_pod(cluster: &Cluster, ns: &str) -> Value {
    let pods = get_json(cluster, ns, &["pods", "-l", "component=master"]);
    let running: Vec<&Value> = items(&pods)
        .iter()
        .filter(|p| {
            p["status"]["phase"] == "Running" && p["metadata"]["deletionTimestamp"].is_null()
        })
        .collect();
    assert_eq!(running.len(), 1, "{pods}");
    running[0].clone()
}

/// The IPs the master Service's EndpointSlices hold as ready.
fn endpoint_ips(cluster: &Cluster, ns: &str, service: &str) -> Vec<String> {
    let slices = get_json(
        cluster,
        ns,
        &[
            "endpointslices",
            "-l",
            &format!("kubernetes.io/service-name={service}"),
        ],
    );
    let mut ips: Vec<String> = items(&slices)
        .iter()
        .flat_map(|s| s["endpoints"].as_array().cloned().unwrap_or_default())
        .filter(|e| e["conditions"]["ready"] == true)
        .flat_map(|e| e["addresses"].as_array().cloned().unwrap_or_default())
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    ips.sort();
    ips
}

/// `kubectl wait --for=delete` on KINDS of the namespace: returns once the garbage collector
/// and kwok have finished them (kubectl's own timeout bounds it; no timing is asserted).
fn await_deleted(cluster: &Cluster, ns: &str, kinds: &str) {
    let run = cluster.run(
        &[
            "wait",
            "--for=delete",
            kinds,
            "--all",
            "-n",
            ns,
            "--timeout=120s",
        ],
        "",
    );
    assert!(
        run.ok,
        "{kinds} in {ns} not deleted: {}{}",
        run.stderr, run.stdout
    );
}

/// Everything a release could leave in `ns`, but the namespace's own `default` ServiceAccount
/// and `kube-root-ca.crt`.
fn leftovers(cluster: &Cluster, ns: &str) -> Vec<String> {
    let out = cluster.ok(
        &[
            "get",
            "pods,replicasets,deployments,services,endpointslices,configmaps,secrets,serviceaccounts,ingresses,roles,rolebindings",
            "-n",
            ns,
            "-o",
            "name",
        ],
        "",
    );
    out.lines()
        .filter(|l| *l != "serviceaccount/default" && *l != "configmap/kube-root-ca.crt")
        .map(str::to_string)
        .collect()
}

/// The journey of one release from `install --wait` to `uninstall`, on one Helm.
fn install_roll_rollback_uninstall(helm_name: &str, helm: &Path) {
    let cluster = cluster();
    let home = tempfile::tempdir().unwrap();
    let ns_guard = cluster.adopt(&cluster.fresh_name(&format!("journey-{helm_name}")));
    let ns = ns_guard.name.as_str();
    let chart = real_chart();
    let helm_arg = helm.display().to_string();
    let install = |spec: &Path| {
        let spec = spec.display().to_string();
        let (code, stdout, stderr) = lp_on(
            &cluster,
            home.path(),
            &[
                "install",
                "-f",
                &spec,
                "-n",
                ns,
                "--chart",
                &chart,
                "--helm",
                &helm_arg,
                "--wait",
                "--timeout",
                "2m",
                "-o",
                "json",
            ],
        );
        assert_eq!(code, 0, "{helm_name}: install {spec}: {stderr}");
        serde_json::from_str::<Value>(&stdout).unwrap()
    };

    // install --wait: exit 0, Deployments Available, the master Service's endpoints are the
    // master pod, the printed endpoint names that Service, `status` reads the live objects.
    let first = spec(home.path(), "q=first", 2, "");
    let printed = install(&first);
    assert_available(&cluster, ns, helm_name);
    let service = printed["service"].as_str().unwrap().to_string();
    assert_eq!(printed["namespace"], ns);
    assert_eq!(
        printed["kubeEndpoint"],
        format!("{service}.{ns}.svc.cluster.local")
    );
    assert_eq!(
        printed["portForwardCommand"],
        format!("kubectl port-forward -n {ns} svc/{service} 8089:8089")
    );
    let svc = get_json(&cluster, ns, &["service", &service]);
    let ports: Vec<i64> = svc["spec"]["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["port"].as_i64().unwrap())
        .collect();
    assert!(ports.contains(&8089), "{svc}");
    let master = master_pod(&cluster, ns);
    let master_ip = master["status"]["podIP"].as_str().unwrap().to_string();
    assert_eq!(endpoint_ips(&cluster, ns, &service), vec![master_ip]);
    let (code, stdout, stderr) = lp_on(
        &cluster,
        home.path(),
        &[
            "status",
            "-f",
            &first.display().to_string(),
            "-n",
            ns,
            "-o",
            "json",
        ],
    );
    assert_eq!(code, 0, "{helm_name}: {stderr}");
    let status: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(status["phase"], "Running", "{helm_name}: {stdout}");
    assert_eq!(status["workersReady"], "2/2", "{helm_name}: {stdout}");
    assert_eq!(status["masterPod"], name(&master), "{helm_name}: {stdout}");

    let configmaps_1 = script_configmaps(&cluster, ns);
    let deployments_1 = deployments(&cluster, ns);
    let replica_sets_1 = replica_sets(&cluster, ns);
    assert_eq!(replica_sets_1.len(), 2, "{helm_name}: {replica_sets_1:?}");

    // An unchanged spec: no rollout at all (same generations, same ReplicaSets).
    install(&first);
    assert_eq!(
        deployments(&cluster, ns),
        deployments_1,
        "{helm_name}: unchanged spec"
    );
    assert_eq!(
        replica_sets(&cluster, ns),
        replica_sets_1,
        "{helm_name}: unchanged spec"
    );
    assert_eq!(script_configmaps(&cluster, ns), configmaps_1);

    // A replica change only scales: no new ReplicaSet, the same ConfigMaps and hash.
    let scaled = spec(home.path(), "q=first", 3, "");
    install(&scaled);
    assert_available(&cluster, ns, helm_name);
    let replica_sets_2 = replica_sets(&cluster, ns);
    let names = |r: &[(String, i64)]| r.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&replica_sets_2),
        names(&replica_sets_1),
        "{helm_name}: scaling made a ReplicaSet"
    );
    assert!(
        replica_sets_2
            .iter()
            .any(|(n, r)| n.contains("-worker-") && *r == 3),
        "{replica_sets_2:?}"
    );
    assert_eq!(script_configmaps(&cluster, ns), configmaps_1, "{helm_name}");
    let deployments_2 = deployments(&cluster, ns);
    let hashes =
        |d: &[(String, i64, i64, String)]| d.iter().map(|x| x.3.clone()).collect::<Vec<_>>();
    assert_eq!(hashes(&deployments_2), hashes(&deployments_1));

    // A script change rolls both Deployments: a new ReplicaSet each, the old ones scaled to 0,
    // the old hashed ConfigMap gone.
    let changed = spec(home.path(), "q=second", 3, "");
    install(&changed);
    assert_available(&cluster, ns, helm_name);
    let replica_sets_3 = replica_sets(&cluster, ns);
    assert_eq!(replica_sets_3.len(), 4, "{helm_name}: {replica_sets_3:?}");
    for (old, _) in &replica_sets_2 {
        let now = replica_sets_3.iter().find(|(n, _)| n == old).unwrap();
        assert_eq!(
            now.1, 0,
            "{helm_name}: old ReplicaSet {old} not scaled to 0"
        );
    }
    let configmaps_3 = script_configmaps(&cluster, ns);
    assert_eq!(configmaps_3.len(), configmaps_1.len());
    // The hashed script ConfigMap is replaced; the chart's own (unhashed) one stays.
    let gone: Vec<&String> = configmaps_1
        .iter()
        .filter(|c| !configmaps_3.contains(c))
        .collect();
    assert_eq!(gone.len(), 1, "{configmaps_1:?} → {configmaps_3:?}");
    assert!(
        gone[0].starts_with(&format!("{RELEASE}-main-")),
        "{configmaps_1:?} → {configmaps_3:?}"
    );
    let deployments_3 = deployments(&cluster, ns);
    assert!(
        hashes(&deployments_3)
            .iter()
            .all(|h| !hashes(&deployments_2).contains(h))
    );

    // helm rollback to the scaled revision (3): Helm replays the stored, already hardened
    // manifest, so the previous hashed ConfigMap and pod hash come back.
    let rollback = helm_cmd(helm, home.path())
        .args([
            "rollback",
            RELEASE,
            "3",
            "-n",
            ns,
            "--wait",
            "--timeout",
            "2m",
        ])
        .env("KUBECONFIG", cluster.kubeconfig())
        .output()
        .unwrap();
    assert!(
        rollback.status.success(),
        "{helm_name}: {}",
        String::from_utf8_lossy(&rollback.stderr)
    );
    assert_available(&cluster, ns, helm_name);
    assert_eq!(
        script_configmaps(&cluster, ns),
        configmaps_1,
        "{helm_name}: rollback"
    );
    assert_eq!(
        hashes(&deployments(&cluster, ns)),
        hashes(&deployments_2),
        "{helm_name}: rollback"
    );

    // uninstall: nothing of the release left, pods and ReplicaSets included (garbage collector).
    let (code, _, stderr) = lp_on(
        &cluster,
        home.path(),
        &[
            "uninstall",
            "-f",
            &changed.display().to_string(),
            "-n",
            ns,
            "--helm",
            &helm_arg,
        ],
    );
    assert_eq!(code, 0, "{helm_name}: {stderr}");
    await_deleted(&cluster, ns, "replicasets,pods");
    assert_eq!(
        leftovers(&cluster, ns),
        Vec::<String>::new(),
        "{helm_name}: left after uninstall"
    );
}

#[test]
fn helm3_install_wait_roll_scale_rollback_and_uninstall() {
    install_roll_rollback_uninstall("helm3", &helm3());
}

#[test]
fn helm4_install_wait_roll_scale_rollback_and_uninstall() {
    install_roll_rollback_uninstall("helm4", &helm4());
}

/// `install --atomic` of a spec that opts out of run-as-root into an existing namespace that
/// enforces `restricted`: the ReplicaSets' pods are refused by PodSecurity, so the release never
/// becomes ready; install exits non-zero, Helm rolls it back (nothing left), and the message
/// names the reason.
fn atomic_install_rolls_back(helm_name: &str, helm: &Path) {
    let cluster = cluster();
    let home = tempfile::tempdir().unwrap();
    let ns_guard = cluster.namespace(&format!("atomic-{helm_name}"), &[("enforce", "restricted")]);
    let ns = ns_guard.name.as_str();
    let root = "    master.annotations: '{locust.project-planton.org/allow-run-as-root: \"true\"}'\n    worker.annotations: '{locust.project-planton.org/allow-run-as-root: \"true\"}'\n    securityContext.runAsUser: \"0\"\n    securityContext.runAsNonRoot: \"false\"\n";
    // Into the existing namespace: a spec that created it would label it `baseline` itself.
    let spec = spec(home.path(), "q=root", 2, root);
    std::fs::write(
        &spec,
        read(&spec).replace("create_namespace: true", "create_namespace: false"),
    )
    .unwrap();
    let spec = spec.display().to_string();
    let (code, stdout, stderr) = lp_on(
        &cluster,
        home.path(),
        &[
            "install",
            "-f",
            &spec,
            "-n",
            ns,
            "--chart",
            &real_chart(),
            "--helm",
            &helm.display().to_string(),
            "--wait",
            "--atomic",
            "--timeout",
            "20s",
        ],
    );
    assert_eq!(code, 4, "{helm_name}: {stdout}{stderr}");
    assert!(stdout.is_empty(), "{helm_name}: {stdout}");
    // The reason: PodSecurity's own words (the API server's warning on the pod templates), and
    // Helm's rollback of the first revision.
    assert!(
        // Helm 4 logs the warning quoted, Helm 3 as is: the words, not the quoting.
        [
            "would violate PodSecurity",
            "restricted:latest",
            "runAsNonRoot != true",
            "runAsUser=0"
        ]
        .iter()
        .all(|w| stderr.contains(w)),
        "{helm_name}: no reason named: {stderr}"
    );
    assert!(
        stderr.contains("release search-load failed, and has been uninstalled"),
        "{helm_name}: {stderr}"
    );
    // Rolled back: a first install that fails under --atomic is uninstalled.
    await_deleted(&cluster, ns, "replicasets,pods");
    assert_eq!(
        leftovers(&cluster, ns),
        Vec::<String>::new(),
        "{helm_name}: left after --atomic"
    );
}

#[test]
fn helm3_install_atomic_of_a_release_podsecurity_refuses_rolls_back() {
    atomic_install_rolls_back("helm3", &helm3());
}

#[test]
fn helm4_install_atomic_of_a_release_podsecurity_refuses_rolls_back() {
    atomic_install_rolls_back("helm4", &helm4());
}

/// helmfile, installed by scripts/install-tools.sh (`LP_HELMFILE`), and the Helm 3 that comes
/// with it (`LP_HELMFILE_HELM`); missing, the test fails naming the installer.
fn helmfile_tools() -> (PathBuf, PathBuf) {
    let tool = |var: &str, default: &str| {
        let path = std::env::var_os(var)
            .map(PathBuf::from)
            .unwrap_or_else(|| repo().join(default));
        assert!(
            path.exists(),
            "{} not found (set {var} or run scripts/install-tools.sh)",
            path.display()
        );
        path
    };
    (
        tool("LP_HELMFILE", ".tools/helmfile/helmfile"),
        tool("LP_HELMFILE_HELM", ".tools/helmfile/helm"),
    )
}

/// `locust-planton ARGS` in `dir`, asserted to succeed.
fn lp_in(dir: &Path, args: &[&str]) {
    let out = lp(dir).args(args).current_dir(dir).output().unwrap();
    assert!(
        out.status.success(),
        "locust-planton {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The objects of the release (kind/name), without Helm's release records.
fn release_objects(cluster: &Cluster, ns: &str) -> Vec<String> {
    let mut objects: Vec<String> = leftovers(cluster, ns)
        .into_iter()
        .filter(|o| !o.starts_with("secret/sh.helm.release."))
        .filter(|o| !o.starts_with("pod/") && !o.starts_with("replicaset.apps/"))
        .filter(|o| !o.starts_with("endpointslice."))
        .collect();
    objects.sort();
    objects
}

/// `helmfile sync` of the `helmfile` output, with the real helmfile 0.166 and its Helm 3,
/// reaches the same objects as `install` (same names, same hashed ConfigMap, same pod hash), and
/// a script change and a second sync roll the Deployments.
#[test]
fn helmfile_sync_reaches_the_objects_of_install_and_rolls_on_a_script_change() {
    let cluster = cluster();
    let (helmfile, helmfile_helm) = helmfile_tools();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let synced_ns = cluster.namespace("helmfile-sync", &[("enforce", "restricted")]);
    let installed_ns = cluster.namespace("helmfile-install", &[("enforce", "restricted")]);
    let write_spec = |script: &str| {
        let spec = spec(d, script, 2, "");
        let text = read(&spec).replace("create_namespace: true", "create_namespace: false");
        std::fs::write(d.join("search.yaml"), text).unwrap();
    };
    let chart = real_chart();
    let sync = || {
        lp_in(
            d,
            &[
                "values",
                "-f",
                "search.yaml",
                "--output-file",
                "search-load.values.yaml",
            ],
        );
        let out = helm_cmd(&helmfile, &d.join("helm-home"))
            .arg("--helm-binary")
            .arg(&helmfile_helm)
            .args(["sync", "--skip-deps", "--wait"])
            .current_dir(d)
            .env("KUBECONFIG", cluster.kubeconfig())
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    bin().parent().unwrap().display(),
                    std::env::var("PATH").unwrap()
                ),
            )
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "helmfile sync: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    write_spec("q=helmfile");
    lp_in(
        d,
        &[
            "helmfile",
            "-f",
            "search.yaml",
            "-n",
            &synced_ns.name,
            "--chart",
            &chart,
            "--output-file",
            "helmfile.yaml",
        ],
    );
    sync();
    assert_available(&cluster, &synced_ns.name, "helmfile sync");

    let (code, _, stderr) = lp_on(
        &cluster,
        d,
        &[
            "install",
            "-f",
            &d.join("search.yaml").display().to_string(),
            "-n",
            &installed_ns.name,
            "--chart",
            &chart,
            "--helm",
            &helm3().display().to_string(),
            "--wait",
            "--timeout",
            "2m",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        release_objects(&cluster, &synced_ns.name),
        release_objects(&cluster, &installed_ns.name)
    );
    let hashes = |ns: &str| -> Vec<String> {
        deployments(&cluster, ns)
            .into_iter()
            .map(|(name, replicas, _, hash)| format!("{name} {replicas} {hash}"))
            .collect()
    };
    assert_eq!(hashes(&synced_ns.name), hashes(&installed_ns.name));

    let before = replica_sets(&cluster, &synced_ns.name);
    assert_eq!(before.len(), 2, "{before:?}");
    write_spec("q=helmfile-changed");
    sync();
    assert_available(&cluster, &synced_ns.name, "second helmfile sync");
    let after = replica_sets(&cluster, &synced_ns.name);
    assert_eq!(after.len(), 4, "{after:?}");
    for (old, _) in &before {
        assert!(
            after.contains(&(old.clone(), 0)),
            "{old} not at 0: {after:?}"
        );
    }
    assert_ne!(hashes(&synced_ns.name), hashes(&installed_ns.name));
}

// ---- headless runs: `wait` reads the master's log through kwok ----

/// examples/ci-run.yaml made runnable here: no spot-node selector (the fake node is not a GKE
/// spot node), the given thresholds judged when the run ends (early abort, which needs
/// thresholds, is tests/results.rs's), and every request to `path`.
fn headless_spec(dir: &Path, case: &str, thresholds: &str, path: &str) -> PathBuf {
    let text = read(repo().join("examples/ci-run.yaml"));
    let early = "      abortEarly: true\n      warmUp: 2m\n";
    assert!(text.contains(early));
    let text = text.replace(early, "");
    let spot = "    spot:\n      provider: gke\n";
    let limits = "      thresholds:\n        maxFailRatio: 0.01\n        maxPercentileResponseTimeMs: {\"95\": 800, \"99\": 2000}\n        minRps: 100\n";
    assert!(text.contains(spot) && text.contains(limits));
    let text = text
        .replace(spot, "")
        .replace(limits, &format!("      thresholds:\n{thresholds}"))
        .replace("\"/cart/checkout\"", &format!("\"{path}\""))
        .replace("\"/products\"", &format!("\"{path}\""));
    let p = dir.join(format!("{case}.yaml"));
    std::fs::write(&p, text).unwrap();
    p
}

/// A real headless `local` run of `spec` (real Locust, against the suite's loopback HTTP target):
/// the master's log as its pod would print it (the `[master] ` lines in order, prefix removed),
/// written to `log` in the container runtime's log format kwok serves (`TIME stdout F LINE`),
/// and the run's exit code. One run at a time: parallel runs on two cores starve each other.
/// The other tests of this file still run beside it, and on two cores they can starve its
/// Locust: a run `local` judges INVALID (exit 6: the load generator waited for a CPU) says
/// nothing about what these tests check, so it is run again, at most twice.
fn local_master_log(spec: &Path, target: u16, log: &Path) -> i32 {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut code = one_local_run(spec, target, log);
    for _ in 0..2 {
        if code != 6 {
            break;
        }
        std::fs::remove_dir_all(log.with_extension("results")).unwrap();
        code = one_local_run(spec, target, log);
    }
    code
}

/// One run of [`local_master_log`].
fn one_local_run(spec: &Path, target: u16, log: &Path) -> i32 {
    let results = log.with_extension("results");
    let combined = log.with_extension("out");
    let file = std::fs::File::create(&combined).unwrap();
    let status = std::process::Command::new(bin())
        .env("HELM_CACHE_HOME", log.parent().unwrap().join("cache"))
        .env("XDG_CACHE_HOME", log.parent().unwrap().join("xdg-cache"))
        .args(["local", "-f"])
        .arg(spec)
        .args(["--host", &format!("http://127.0.0.1:{target}")])
        .args([
            "--headless",
            "--users",
            "2",
            "--spawn-rate",
            "2",
            "--run-time",
            "3s",
        ])
        .args(["--workers", "1", "--python"])
        .arg(venv_bin("python"))
        .arg("--results-dir")
        .arg(&results)
        .stdin(std::process::Stdio::null())
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .status()
        .unwrap();
    let text = read(&combined);
    let master: String = text
        .lines()
        .filter_map(|l| {
            l.strip_prefix("[master] ")
                .or((l == "[master]").then_some(""))
        })
        .map(|l| format!("2026-01-01T00:00:00.000000000Z stdout F {l}\n"))
        .collect();
    assert!(
        master.contains("locust-planton-result "),
        "no result line from the local run: {text}"
    );
    std::fs::write(log, master).unwrap();
    status.code().unwrap()
}

/// The current run's master pod: not terminating, its template's scripts hash and restartedAt
/// those of the master Deployment.
fn current_master(cluster: &Cluster, ns: &str) -> String {
    let deployments = get_json(cluster, ns, &["deployments", "-l", "component=master"]);
    let deployment = &items(&deployments)[0];
    let want = &deployment["spec"]["template"]["metadata"]["annotations"];
    let pods = get_json(cluster, ns, &["pods", "-l", "component=master"]);
    let current: Vec<String> = items(&pods)
        .iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .filter(|p| {
            let have = &p["metadata"]["annotations"];
            have[SCRIPTS_HASH] == want[SCRIPTS_HASH]
                && have["kubectl.kubernetes.io/restartedAt"]
                    == want["kubectl.kubernetes.io/restartedAt"]
        })
        .map(name)
        .collect();
    assert_eq!(current.len(), 1, "{pods}");
    current[0].clone()
}

/// kwok serves `kubectl logs` of `pod` from `log` (a kwok `Logs` object named as the pod).
fn serve_log(cluster: &Cluster, ns: &str, pod: &str, log: &Path) {
    cluster.ok(
        &["apply", "-f", "-"],
        &format!(
            "apiVersion: kwok.x-k8s.io/v1alpha1\nkind: Logs\nmetadata:\n  name: {pod}\n  namespace: {ns}\nspec:\n  logs:\n  - containers: [locust]\n    logsFile: {}\n",
            log.display()
        ),
    );
}

/// The fake node's results folder: kwok runs `kubectl exec` commands in a mount namespace where
/// it is the image's /home/locust/results (`scripts/kube.sh up --nodes`). One folder for every
/// pod on the node, so one test at a time fills it.
fn node_results() -> PathBuf {
    let dir = std::env::var("LP_KUBE_DIR").unwrap_or_default();
    assert!(
        !dir.is_empty(),
        "LP_KUBE_DIR is not set; start the cluster with `{UP_NODES}`"
    );
    PathBuf::from(dir).join("node/results")
}

/// Serves `results` (a real `local` run's results folder) as the files in `pod`'s results
/// folder: a kwok `Exec` object runs the tool's `kubectl exec` in the node's namespace. With
/// `as_pod`, summary.json's `run.pod` names `pod` (no container runs, so the files are that
/// local run's, whose pod had another name); without it they stay the local run's own. Returns
/// the guard that keeps the folder this test's, and the files served, by name.
fn serve_results(
    cluster: &Cluster,
    ns: &str,
    pod: &str,
    results: &Path,
    as_pod: bool,
) -> (std::sync::MutexGuard<'static, ()>, Vec<(String, Vec<u8>)>) {
    static NODE_FOLDER: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let guard = NODE_FOLDER.lock().unwrap_or_else(|e| e.into_inner());
    let node = node_results();
    for entry in std::fs::read_dir(&node).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
    let mut served = Vec::new();
    for entry in std::fs::read_dir(results).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let mut bytes = std::fs::read(&path).unwrap();
        if as_pod && name == "summary.json" {
            let mut summary: Value = serde_json::from_slice(&bytes).unwrap();
            assert!(summary["run"]["pod"].is_string(), "{summary}");
            summary["run"]["pod"] = Value::String(pod.to_string());
            bytes = serde_json::to_vec_pretty(&summary).unwrap();
        }
        std::fs::write(node.join(&name), &bytes).unwrap();
        served.push((name, bytes));
    }
    served.sort();
    cluster.ok(
        &["apply", "-f", "-"],
        &format!(
            "apiVersion: kwok.x-k8s.io/v1alpha1\nkind: Exec\nmetadata:\n  name: {pod}\n  namespace: {ns}\nspec:\n  execs:\n  - containers: [locust]\n    local: {{}}\n"
        ),
    );
    (guard, served)
}

/// `report` of the finished run: refuses another pod's results (nothing written), then copies
/// this run's results byte for byte through `kubectl exec` — the report, the CSVs, summary.json
/// and junit.xml of the real `local` run.
fn report_copies_the_results(
    cluster: &Cluster,
    home: &Path,
    spec: &str,
    ns: &str,
    pod: &str,
    results: &Path,
    what: &str,
) {
    let out = home.join(format!("report-{what}"));
    let out_arg = out.display().to_string();
    let report = || {
        lp_on(
            cluster,
            home,
            &["report", "-f", spec, "-n", ns, "--results-dir", &out_arg],
        )
    };
    {
        let _node = serve_results(cluster, ns, pod, results, false);
        let (status, stdout, stderr) = report();
        assert_eq!(
            status, 1,
            "{what}: another pod's results were taken: {stdout}{stderr}"
        );
        assert!(stdout.is_empty(), "{what}: {stdout}");
        assert!(
            stderr.contains("not this run's master; nothing copied"),
            "{what}: {stderr}"
        );
        assert!(!out.exists(), "{what}: report wrote {out_arg} on a refusal");
    }
    let (_node, served) = serve_results(cluster, ns, pod, results, true);
    let (status, stdout, stderr) = report();
    assert_eq!(status, 0, "{what}: {stdout}{stderr}");
    assert!(
        stdout.contains(&format!("results in {out_arg}")) && stdout.contains(pod),
        "{what}: {stdout}"
    );
    let mut copied: Vec<(String, Vec<u8>)> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    copied.sort();
    let names: Vec<&str> = copied.iter().map(|(n, _)| n.as_str()).collect();
    for want in ["summary.json", "junit.xml", "report.html", "stats.csv"] {
        assert!(
            names.iter().any(|n| n.ends_with(want)),
            "{what}: no {want} among {names:?}"
        );
    }
    assert!(
        copied == served,
        "{what}: the copied files differ from the pod's ({names:?})"
    );
}

/// A headless run, end to end on one Helm: `install --wait`, then `wait` on the live pods reads
/// the master's log — the log of a real `local` run of the same spec, served by kwok through the
/// API server — and answers pass (0), requests failed (1), threshold missed (1) and, before any
/// result, timeout (3); `rerun` starts a new master pod and run identity, and `wait` does not
/// take the previous run's result for it.
fn headless_runs(helm_name: &str, helm: &Path) {
    let cluster = cluster();
    let target = http_target();
    let home = tempfile::tempdir().unwrap();
    let d = home.path();
    // examples/ci-run.yaml does not create its namespace.
    let ns_guard = cluster.namespace(
        &format!("headless-{helm_name}"),
        &[("enforce", "restricted")],
    );
    let ns = ns_guard.name.as_str();
    let chart = real_chart();
    let helm_arg = helm.display().to_string();
    let loose = "        maxFailRatio: 0.01\n";
    let cases = [
        (
            "pass",
            loose.to_string(),
            "/products",
            0,
            "Completed",
            "Locust finished; every threshold met",
        ),
        (
            "fail",
            String::new(),
            "/fail",
            1,
            "Failed",
            "Locust finished with exit code 1: requests failed",
        ),
        (
            "thresholds",
            format!("{loose}        minRps: 1000000\n"),
            "/products",
            1,
            "Failed",
            "threshold missed: ",
        ),
    ];
    let wait = |spec: &str, timeout: &str| {
        lp_on(
            &cluster,
            d,
            &[
                "wait",
                "-f",
                spec,
                "-n",
                ns,
                "--timeout",
                timeout,
                "--interval",
                "1s",
                "-o",
                "json",
            ],
        )
    };
    let mut last = (String::new(), String::new());
    for (i, (case, thresholds, path, code, phase, reason)) in cases.iter().enumerate() {
        let thresholds = if thresholds.is_empty() {
            "        {}\n"
        } else {
            thresholds
        };
        let spec = headless_spec(d, case, thresholds, path);
        let log = d.join(format!("{case}.log"));
        assert_eq!(
            local_master_log(&spec, target, &log),
            *code,
            "{case}: the local run"
        );
        let spec = spec.display().to_string();
        let (status, _, stderr) = lp_on(
            &cluster,
            d,
            &[
                "install",
                "-f",
                &spec,
                "-n",
                ns,
                "--chart",
                &chart,
                "--helm",
                &helm_arg,
                "--wait",
                "--timeout",
                "2m",
            ],
        );
        assert_eq!(status, 0, "{helm_name} {case}: {stderr}");
        let master = current_master(&cluster, ns);
        if i == 0 {
            // No result in the log yet (kwok's default log is empty): timeout, exit 3.
            let (status, _, stderr) = wait(&spec, "2s");
            assert_eq!(status, 3, "{helm_name}: {stderr}");
        }
        serve_log(&cluster, ns, &master, &log);
        let (status, stdout, stderr) = wait(&spec, "60s");
        assert_eq!(status, *code, "{helm_name} {case}: {stdout}{stderr}");
        let result: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(result["phase"], *phase, "{helm_name} {case}: {stdout}");
        assert!(
            result["reason"].as_str().unwrap().starts_with(reason),
            "{helm_name} {case}: {stdout}"
        );
        assert_eq!(
            result["run"]["masterPod"], master,
            "{helm_name} {case}: {stdout}"
        );
        report_copies_the_results(
            &cluster,
            d,
            &spec,
            ns,
            &master,
            &log.with_extension("results"),
            &format!("{helm_name}-{case}"),
        );
        last = (spec, master);
    }

    // rerun: new pods, a new run identity; the previous run's result is not this run's.
    let (spec, previous) = last;
    let (status, _, stderr) = lp_on(&cluster, d, &["rerun", "-f", &spec, "-n", ns]);
    assert_eq!(status, 0, "{helm_name}: {stderr}");
    cluster.ok(
        &[
            "rollout",
            "status",
            "deployment",
            "-l",
            "component=master",
            "-n",
            ns,
            "--timeout=120s",
        ],
        "",
    );
    let master = current_master(&cluster, ns);
    assert_ne!(
        master, previous,
        "{helm_name}: rerun made no new master pod"
    );
    let (status, stdout, stderr) = wait(&spec, "2s");
    assert_eq!(
        status, 3,
        "{helm_name}: the previous run's result was taken: {stdout}{stderr}"
    );
    let (_, stdout, _) = lp_on(
        &cluster,
        d,
        &["status", "-f", &spec, "-n", ns, "-o", "json"],
    );
    let status: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(status["phase"], "Running", "{stdout}");
    assert_eq!(status["run"]["masterPod"], master, "{stdout}");
    assert!(status["run"]["restartedAt"].is_string(), "{stdout}");
}

#[test]
fn helm3_headless_run_wait_reads_the_master_log_through_kwok_and_tells_reruns_apart() {
    headless_runs("helm3", &helm3());
}

#[test]
fn helm4_headless_run_wait_reads_the_master_log_through_kwok_and_tells_reruns_apart() {
    headless_runs("helm4", &helm4());
}

// ---- results are not lost: `wait --results-dir`, baselines and the uninstall guard, live ----

const RESULTS_COPIED: &str = "locust.project-planton.org/results-copied";

/// The master Deployment's results-copied annotation.
fn copied_mark(cluster: &Cluster, ns: &str) -> Option<String> {
    let list = get_json(cluster, ns, &["deployments", "-l", "component=master"]);
    items(&list)[0]["metadata"]["annotations"][RESULTS_COPIED]
        .as_str()
        .map(str::to_string)
}

/// `helm status` of `release` in `ns` succeeds (the release exists).
fn release_exists(cluster: &Cluster, helm: &Path, home: &Path, ns: &str, release: &str) -> bool {
    std::process::Command::new(helm)
        .args(["status", release, "-n", ns])
        .env("KUBECONFIG", cluster.kubeconfig())
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_DATA_HOME", home.join("data"))
        .output()
        .unwrap()
        .status
        .success()
}

/// Waits for the rollout `rerun` started and returns the new current master.
fn rerun_to_a_new_master(cluster: &Cluster, home: &Path, spec: &str, ns: &str) -> String {
    let (code, _, stderr) = lp_on(cluster, home, &["rerun", "-f", spec, "-n", ns]);
    assert_eq!(code, 0, "{stderr}");
    cluster.ok(
        &[
            "rollout",
            "status",
            "deployment",
            "-l",
            "component=master",
            "-n",
            ns,
            "--timeout=120s",
        ],
        "",
    );
    current_master(cluster, ns)
}

/// Results are not lost, on one Helm. Two real `local` runs of the same spec give a fast and a
/// fifty-times-slower master log and results folder (20 ms against 1 s a request: a fast run of
/// a few requests can meet one slow answer on a loaded machine, and must still pass against it); kwok serves them as the live master pod's.
/// `uninstall` refuses an ended run nobody copied (exit 1, the release stays); `wait
/// --results-dir` copies it and marks the master Deployment without rolling it, PASSED against
/// the slower run's summary.json; the mark survives `helm upgrade`; after `rerun` the guard
/// blocks again; `wait --baseline last` (the fast copy) is REGRESSED, exit 5, as is `report
/// --baseline FILE`; `uninstall --results-dir` copies then removes; `--discard-results`
/// removes without copying.
fn keep_results(helm_name: &str, helm: &Path) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    let cluster = cluster();
    let latency = Arc::new(AtomicU64::new(20));
    let delay = latency.clone();
    let target = http_target_answering(move |_| {
        std::thread::sleep(std::time::Duration::from_millis(
            delay.load(Ordering::SeqCst),
        ));
        false
    });
    let home = tempfile::tempdir().unwrap();
    let d = home.path();
    let ns_guard = cluster.namespace(&format!("keep-{helm_name}"), &[("enforce", "restricted")]);
    let ns = ns_guard.name.as_str();
    let release = "ci-run";
    let spec = headless_spec(d, "keep", "        maxFailRatio: 0.01\n", "/products");
    // Requests/s of two users waiting 1-3 s for 3 s is noise; response times decide here.
    let text = read(&spec);
    assert!(text.contains("rpsDecrease: 0.1\n"));
    std::fs::write(
        &spec,
        text.replace("rpsDecrease: 0.1\n", "rpsDecrease: 0.95\n"),
    )
    .unwrap();
    let (fast, slow) = (d.join("fast.log"), d.join("slow.log"));
    assert_eq!(local_master_log(&spec, target, &fast), 0, "the fast run");
    latency.store(1000, Ordering::SeqCst);
    assert_eq!(local_master_log(&spec, target, &slow), 0, "the slow run");
    let (fast_results, slow_results) = (
        fast.with_extension("results"),
        slow.with_extension("results"),
    );
    let spec = spec.display().to_string();
    let chart = real_chart();
    let helm_arg = helm.display().to_string();
    let install = || {
        let (code, _, stderr) = lp_on(
            &cluster,
            d,
            &[
                "install",
                "-f",
                &spec,
                "-n",
                ns,
                "--chart",
                &chart,
                "--helm",
                &helm_arg,
                "--wait",
                "--timeout",
                "2m",
            ],
        );
        assert_eq!(code, 0, "{helm_name}: {stderr}");
    };
    let uninstall = |extra: &[&str]| {
        let mut args = vec!["uninstall", "-f", &spec, "-n", ns, "--helm", &helm_arg];
        args.extend(extra);
        lp_on(&cluster, d, &args)
    };
    let keep = d.join("keep");
    let kept = |name: &str| keep.join(name).display().to_string();
    let wait = |extra: &[&str]| {
        let mut args = vec![
            "wait",
            "-f",
            &spec,
            "-n",
            ns,
            "--timeout",
            "60s",
            "--interval",
            "1s",
        ];
        args.extend(extra);
        lp_on(&cluster, d, &args)
    };
    let refused = |run: &str, what: &str| {
        for dry in [&[][..], &["--dry-run"][..]] {
            let (code, stdout, stderr) = uninstall(dry);
            assert_eq!(code, 1, "{helm_name} {what} {dry:?}: {stdout}{stderr}");
            assert!(stdout.is_empty(), "{helm_name} {what}: {stdout}");
            assert!(
                stderr.contains(&format!(
                    "release {release}: run {run} has ended and its results were not copied"
                )) && stderr.contains("`uninstall --results-dir DIR`")
                    && stderr.contains("--discard-results"),
                "{helm_name} {what}: {stderr}"
            );
            assert!(
                release_exists(&cluster, helm, d, ns, release),
                "{helm_name} {what}"
            );
            assert_eq!(current_master(&cluster, ns), run, "{helm_name} {what}");
        }
    };

    // The first run ends; nobody has copied it.
    install();
    let first = current_master(&cluster, ns);
    serve_log(&cluster, ns, &first, &fast);
    {
        let _node = serve_results(&cluster, ns, &first, &fast_results, true);
        refused(&first, "first run");
        assert_eq!(copied_mark(&cluster, ns), None);
        let sets = replica_sets(&cluster, ns);

        // wait --results-dir: copied, PASSED against the slower run, marked without a rollout.
        let slower = slow_results.join("summary.json").display().to_string();
        let (code, stdout, stderr) =
            wait(&["--results-dir", &kept("1-fast"), "--baseline", &slower]);
        assert_eq!(code, 0, "{helm_name}: {stdout}{stderr}");
        assert!(
            stdout.ends_with(&format!("results in {}\nverdict: PASSED\n", kept("1-fast"))),
            "{helm_name}: {stdout}"
        );
        assert!(
            stdout.contains(&format!("compared with {slower}")),
            "{helm_name}: {stdout}"
        );
        let summary: Value = serde_json::from_str(&read(keep.join("1-fast/summary.json"))).unwrap();
        assert_eq!(summary["run"]["pod"], first.as_str());
        assert_eq!(summary["verdict"], "passed");
        assert_eq!(summary["baseline"]["regressed"], false, "{summary}");
        assert_eq!(copied_mark(&cluster, ns), Some(first.clone()));
        // The API server bumps a Deployment's generation on an annotation change, but the pod
        // template is the same: no new ReplicaSet, no new master.
        assert_eq!(
            replica_sets(&cluster, ns),
            sets,
            "{helm_name}: the mark rolled"
        );
        assert_eq!(
            current_master(&cluster, ns),
            first,
            "the mark rolled the master"
        );
    }
    let (code, _, stderr) = uninstall(&["--dry-run"]);
    assert_eq!(code, 0, "{helm_name}: {stderr}");
    assert!(
        stderr.contains(&format!(
            "dry run: release {release}: the results of run {first} were copied"
        )),
        "{helm_name}: {stderr}"
    );
    assert!(release_exists(&cluster, helm, d, ns, release));
    // helm upgrade of the unchanged spec keeps the mark (it is not in Helm's manifest).
    install();
    assert_eq!(
        copied_mark(&cluster, ns),
        Some(first.clone()),
        "{helm_name}: helm upgrade dropped the mark"
    );
    assert_eq!(current_master(&cluster, ns), first);

    // rerun: a new run; once it ends the guard blocks again, naming the earlier copy.
    let second = rerun_to_a_new_master(&cluster, d, &spec, ns);
    assert_ne!(second, first);
    serve_log(&cluster, ns, &second, &slow);
    {
        let _node = serve_results(&cluster, ns, &second, &slow_results, true);
        refused(&second, "after rerun");
        let (_, _, stderr) = uninstall(&[]);
        assert!(
            stderr.contains(&format!("the last copy was of an earlier run, {first}")),
            "{stderr}"
        );

        // wait --baseline last: the fast copy beside the folder; fifty times slower: REGRESSED.
        let (code, stdout, stderr) =
            wait(&["--results-dir", &kept("2-slow"), "--baseline", "last"]);
        assert_eq!(code, 5, "{helm_name}: {stdout}{stderr}");
        assert!(
            stdout.contains(&format!(
                "compared with the last passed run, {}",
                kept("1-fast")
            )) && stdout
                .lines()
                .any(|l| l.starts_with("  REGRESSED  Aggregated ")
                    && l.contains(" avgResponseTimeMs "))
                && stdout.ends_with("verdict: REGRESSED\n"),
            "{helm_name}: {stdout}"
        );
        let summary: Value = serde_json::from_str(&read(keep.join("2-slow/summary.json"))).unwrap();
        assert_eq!(
            (summary["verdict"].as_str(), summary["exitCode"].as_i64()),
            (Some("regressed"), Some(5))
        );
        assert_eq!(copied_mark(&cluster, ns), Some(second.clone()));

        // report --baseline FILE: the fast run's summary REGRESSED (5); the slow run's PASSED (0).
        let faster = fast_results.join("summary.json").display().to_string();
        let slower = slow_results.join("summary.json").display().to_string();
        for (baseline, folder, want) in [(&faster, "3-report", 5), (&slower, "4-report", 0)] {
            let (code, stdout, stderr) = lp_on(
                &cluster,
                d,
                &[
                    "report",
                    "-f",
                    &spec,
                    "-n",
                    ns,
                    "--results-dir",
                    &kept(folder),
                    "--baseline",
                    baseline,
                ],
            );
            assert_eq!(code, want, "{helm_name} {folder}: {stdout}{stderr}");
            let summary: Value =
                serde_json::from_str(&read(keep.join(folder).join("summary.json"))).unwrap();
            let verdict = if want == 5 { "regressed" } else { "passed" };
            assert_eq!(summary["verdict"], verdict, "{helm_name} {folder}");
        }
    }

    // uninstall --results-dir: the third run's results copied, then the release removed.
    let third = rerun_to_a_new_master(&cluster, d, &spec, ns);
    serve_log(&cluster, ns, &third, &fast);
    {
        let _node = serve_results(&cluster, ns, &third, &fast_results, true);
        refused(&third, "third run");
        let (code, stdout, stderr) = uninstall(&["--results-dir", &kept("5-uninstall")]);
        assert_eq!(code, 0, "{helm_name}: {stdout}{stderr}");
        assert!(
            stderr.contains(&format!(
                "results of run {third} copied into {}",
                kept("5-uninstall")
            )),
            "{helm_name}: {stderr}"
        );
        let summary: Value =
            serde_json::from_str(&read(keep.join("5-uninstall/summary.json"))).unwrap();
        assert_eq!(summary["run"]["pod"], third.as_str());
    }
    assert!(
        !release_exists(&cluster, helm, d, ns, release),
        "{helm_name}: still installed"
    );
    await_deleted(&cluster, ns, "deployments");

    // --discard-results: an uncopied ended run, removed all the same.
    install();
    let fourth = current_master(&cluster, ns);
    serve_log(&cluster, ns, &fourth, &fast);
    refused(&fourth, "fourth run");
    let (code, stdout, stderr) = uninstall(&["--discard-results"]);
    assert_eq!(code, 0, "{helm_name}: {stdout}{stderr}");
    assert!(
        !release_exists(&cluster, helm, d, ns, release),
        "{helm_name}: still installed"
    );
    let mut copies: Vec<String> = std::fs::read_dir(&keep)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    copies.sort();
    assert_eq!(
        copies,
        ["1-fast", "2-slow", "3-report", "4-report", "5-uninstall"],
        "{helm_name}: --discard-results copied nothing"
    );
}

#[test]
fn helm3_results_are_kept_wait_copies_and_uninstall_refuses_uncopied_runs() {
    keep_results("helm3", &helm3());
}

#[test]
fn helm4_results_are_kept_wait_copies_and_uninstall_refuses_uncopied_runs() {
    keep_results("helm4", &helm4());
}

// ---- the recorded scenarios of fixtures/kubectl/, live ----

/// A spec whose master asks for more CPU than the fake node has (64 of 32).
fn too_big(spec: &Path) {
    let small =
        "      limits: {cpu: 1000m, memory: 1Gi}\n      requests: {cpu: 250m, memory: 256Mi}\n";
    let text = read(spec);
    assert!(text.contains(small));
    std::fs::write(
        spec,
        text.replace(
            small,
            "      limits: {cpu: \"64\", memory: 1Gi}\n      requests: {cpu: \"64\", memory: 256Mi}\n",
        ),
    )
    .unwrap();
}

fn status_of(cluster: &Cluster, home: &Path, spec: &str, ns: &str) -> Value {
    let (code, stdout, stderr) = lp_on(
        cluster,
        home,
        &["status", "-f", spec, "-n", ns, "-o", "json"],
    );
    assert_eq!(code, 0, "{stderr}");
    serde_json::from_str(&stdout).unwrap()
}

/// `unschedulable` (a node too small: the scheduler's own condition), `rolling-out` (a new
/// master that cannot be scheduled while the finished previous one is still up) and
/// `outgoing-terminating` (the previous master held Terminating by a finalizer while the rerun's
/// master runs), produced by the real controllers, scheduler and kwok rather than recorded.
#[test]
fn recorded_scenarios_unschedulable_rolling_out_and_terminating_live() {
    let cluster = cluster();
    let target = http_target();
    let home = tempfile::tempdir().unwrap();
    let d = home.path();
    let chart = real_chart();
    let helm = helm4().display().to_string();
    let install = |spec: &str, ns: &str, wait: bool| {
        let mut args = vec![
            "install", "-f", spec, "-n", ns, "--chart", &chart, "--helm", &helm,
        ];
        if wait {
            args.extend(["--wait", "--timeout", "2m"]);
        }
        let (code, _, stderr) = lp_on(&cluster, d, &args);
        assert_eq!(code, 0, "{stderr}");
    };

    // unschedulable
    let big_ns = cluster.namespace("unschedulable", &[("enforce", "restricted")]);
    let big = headless_spec(d, "big", "        maxFailRatio: 0.01\n", "/products");
    too_big(&big);
    let big = big.display().to_string();
    install(&big, &big_ns.name, false);
    cluster.ok(
        &[
            "wait",
            "--for=condition=PodScheduled=false",
            "pods",
            "-l",
            "component=master",
            "-n",
            &big_ns.name,
            "--timeout=60s",
        ],
        "",
    );
    let master = name(
        &items(&get_json(
            &cluster,
            &big_ns.name,
            &["pods", "-l", "component=master"],
        ))[0],
    );
    let status = status_of(&cluster, d, &big, &big_ns.name);
    assert_eq!(status["phase"], "Pending", "{status}");
    assert_eq!(
        status["reason"],
        // The real 1.37 scheduler's message: the recording has no "preemption:" part.
        format!(
            "pod {master} not scheduled: 0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
        ),
        "{status}"
    );
    let (code, stdout, _) = lp_on(
        &cluster,
        d,
        &[
            "wait",
            "-f",
            &big,
            "-n",
            &big_ns.name,
            "--timeout",
            "2s",
            "--interval",
            "1s",
        ],
    );
    assert_eq!(code, 3, "{stdout}");
    assert!(stdout.ends_with("timed out after 2s\n"), "{stdout}");

    // A finished run, then a script change whose new master cannot be scheduled: rolling out.
    let ns_guard = cluster.namespace("rolling-out", &[("enforce", "restricted")]);
    let ns = ns_guard.name.as_str();
    let spec = headless_spec(d, "finished", "        maxFailRatio: 0.01\n", "/products");
    let log = d.join("finished.log");
    assert_eq!(local_master_log(&spec, target, &log), 0);
    let spec = spec.display().to_string();
    install(&spec, ns, true);
    let finished = current_master(&cluster, ns);
    serve_log(&cluster, ns, &finished, &log);
    assert_eq!(status_of(&cluster, d, &spec, ns)["phase"], "Completed");
    let changed = headless_spec(d, "changed", "        maxFailRatio: 0.01\n", "/browse");
    too_big(&changed);
    let changed = changed.display().to_string();
    install(&changed, ns, false);
    // The new master exists (the Deployment counts it as updated) and the scheduler has refused it.
    cluster.ok(
        &[
            "wait",
            "--for=jsonpath={.status.updatedReplicas}=1",
            "deployment",
            "-l",
            "component=master",
            "-n",
            ns,
            "--timeout=60s",
        ],
        "",
    );
    let incoming = current_master(&cluster, ns);
    cluster.ok(
        &[
            "wait",
            "--for=condition=PodScheduled=false",
            &format!("pod/{incoming}"),
            "-n",
            ns,
            "--timeout=60s",
        ],
        "",
    );
    let status = status_of(&cluster, d, &changed, ns);
    assert_eq!(status["phase"], "Pending", "{status}");
    assert_eq!(
        status["reason"],
        "a new master is rolling out (1 of 2 master pods current); the previous run's master is still up",
        "{status}"
    );
    let (code, _, _) = lp_on(
        &cluster,
        d,
        &[
            "wait",
            "-f",
            &changed,
            "-n",
            ns,
            "--timeout",
            "1s",
            "--interval",
            "1s",
        ],
    );
    assert_eq!(code, 3, "the previous run's result line ended the wait");

    // Back to the schedulable spec; the master held Terminating by a finalizer on `rerun`.
    install(&spec, ns, true);
    let outgoing = current_master(&cluster, ns);
    cluster.ok(
        &[
            "patch",
            "pod",
            &outgoing,
            "-n",
            ns,
            "--type=merge",
            "-p",
            r#"{"metadata":{"finalizers":["locust-planton.test/hold"]}}"#,
        ],
        "",
    );
    let (code, _, stderr) = lp_on(&cluster, d, &["rerun", "-f", &spec, "-n", ns]);
    assert_eq!(code, 0, "{stderr}");
    cluster.ok(
        &[
            "rollout",
            "status",
            "deployment",
            "-l",
            "component=master",
            "-n",
            ns,
            "--timeout=120s",
        ],
        "",
    );
    let pod = get_json(&cluster, ns, &["pod", &outgoing]);
    assert!(
        pod["metadata"]["deletionTimestamp"].is_string(),
        "not terminating: {pod}"
    );
    let incoming = current_master(&cluster, ns);
    let status = status_of(&cluster, d, &spec, ns);
    assert_eq!(status["phase"], "Running", "{status}");
    assert_eq!(status["run"]["masterPod"], incoming, "{status}");
    assert!(status["run"]["restartedAt"].is_string(), "{status}");
    cluster.ok(
        &[
            "patch",
            "pod",
            &outgoing,
            "-n",
            ns,
            "--type=merge",
            "-p",
            r#"{"metadata":{"finalizers":null}}"#,
        ],
        "",
    );
}
