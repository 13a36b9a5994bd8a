//! Flux's own controllers reconcile the `flux` output: source-controller and helm-controller
//! (the versions Flux v2.9.5 ships) against the suite's cluster (`scripts/kube.sh up --flux`:
//! controllers, scheduler, a kwok node), the real chart 0.35.0 pushed with `helm push` to the
//! suite's OCI registry (`scripts/registry.sh up`) and named by `--chart-repo`. Each test works
//! in a namespace of its own and applies the output server-side, as Flux's kustomize-controller
//! does.

#![cfg(feature = "tools")]

mod common;
#[path = "common/restricted.rs"]
mod restricted;

use common::kube::{self, Cluster};
use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What starts the cluster with Flux for a shell that runs these tests by hand.
const UP_FLUX: &str = "eval \"$(scripts/kube.sh up --flux)\"";
const RELEASE: &str = "search-load";
const SCRIPTS_HASH: &str = "locust.project-planton.org/scripts-sha256";

/// The suite's cluster with Flux's controllers (`LP_FLUX_ARTIFACTS`, exported by
/// `scripts/kube.sh up --flux`); fails naming that command otherwise.
fn cluster() -> Cluster {
    let artifacts = std::env::var("LP_FLUX_ARTIFACTS").unwrap_or_default();
    assert!(
        !artifacts.is_empty(),
        "LP_FLUX_ARTIFACTS is not set: these tests need Flux's controllers on the suite's cluster; start them with `{UP_FLUX}` (scripts/test.sh does)"
    );
    let cluster = kube::cluster();
    for node in std::env::var("LP_KUBE_NODES")
        .unwrap_or_default()
        .split(',')
    {
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

/// `host:port` of the suite's registry; fails, naming the command that starts it, when unset.
fn registry() -> String {
    std::env::var("LP_REGISTRY").unwrap_or_else(|_| {
        panic!("LP_REGISTRY is not set: start the suite's OCI registry with `eval \"$(scripts/registry.sh up)\"`")
    })
}

/// The real chart, packaged and pushed by Helm 4 to a registry path of this test's own: the
/// `--chart-repo` that names it, and the digest `helm push` printed.
fn pushed_real_chart(work: &Path, test: &str) -> (String, String) {
    let tgz = helm_package(&helm4(), &real_locust_chart(), &work.join("pkg"));
    let unique = kube::namespace_name(test, std::process::id());
    let mirror = format!("oci://{}/lp-flux/{unique}", registry());
    let out = helm_cmd(&helm4(), work)
        .arg("push")
        .arg(&tgz)
        .args([&mirror, "--plain-http"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "helm push {mirror}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let digest = printed
        .lines()
        .find_map(|l| l.strip_prefix("Digest: "))
        .unwrap_or_else(|| panic!("helm push printed no digest: {printed}"))
        .trim()
        .to_string();
    (mirror, digest)
}

/// examples/kubernetes-locust.yaml (release `search-load`, two workers) with this query in its
/// script, creating its namespace or not, with these `helm_values` lines.
fn spec(dir: &Path, query: &str, create_namespace: bool, helm_values: &str) -> PathBuf {
    let text = read(repo().join("examples/kubernetes-locust.yaml"));
    assert!(text.contains("q=locust") && text.contains("create_namespace: true"));
    let mut text = text.replace("q=locust", query).replace(
        "create_namespace: true",
        &format!("create_namespace: {create_namespace}"),
    );
    if !helm_values.is_empty() {
        text = format!("{}\n  helm_values:\n{helm_values}", text.trim_end());
    }
    let path = dir.join(format!("spec-{}.yaml", query.replace('=', "-")));
    std::fs::write(&path, text).unwrap();
    path
}

/// `locust-planton ARGS` with `home`'s Helm homes; its stdout, asserted successful.
fn lp_ok(home: &Path, args: &[&str]) -> String {
    let out = lp(home)
        .env_remove("LOCUST_PLANTON_CHART_REPO")
        .env_remove("LOCUST_PLANTON_IMAGE_REGISTRY")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "locust-planton {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The `flux` output for `spec` in `ns`, its chart from `mirror`.
fn flux_output(home: &Path, spec: &Path, ns: &str, mirror: &str) -> String {
    let spec = spec.display().to_string();
    lp_ok(
        home,
        &["flux", "-f", &spec, "-n", ns, "--chart-repo", mirror],
    )
}

/// `template`'s stream for the same spec, namespace and chart (pulled by Helm 4 from `mirror`).
fn template_output(home: &Path, spec: &Path, ns: &str, mirror: &str) -> String {
    let spec = spec.display().to_string();
    let helm = helm4().display().to_string();
    lp_ok(
        home,
        &[
            "template",
            "-f",
            &spec,
            "-n",
            ns,
            "--chart-repo",
            mirror,
            "--helm",
            &helm,
        ],
    )
}

/// Applies `text` server-side (Flux's kustomize-controller applies that way: the values' nulls
/// survive).
fn apply(cluster: &Cluster, text: &str) {
    cluster.ok(&["apply", "--server-side", "-f", "-"], text);
}

fn get_json(cluster: &Cluster, ns: &str, what: &[&str]) -> Value {
    let mut args = vec!["get", "-n", ns, "-o", "json"];
    args.extend(what);
    serde_json::from_str(&cluster.ok(&args, "")).unwrap()
}

fn items(list: &Value) -> Vec<Value> {
    list["items"].as_array().unwrap().clone()
}

fn name(o: &Value) -> String {
    o["metadata"]["name"].as_str().unwrap().to_string()
}

/// Waits until helm-controller has reconciled the HelmRelease's current generation; its Ready
/// condition then (status, message).
fn reconciled(cluster: &Cluster, ns: &str) -> (String, String) {
    let hr = get_json(cluster, ns, &["helmrelease", RELEASE]);
    let generation = hr["metadata"]["generation"].as_i64().unwrap();
    cluster.ok(
        &[
            "wait",
            "-n",
            ns,
            &format!("--for=jsonpath={{.status.observedGeneration}}={generation}"),
            &format!("helmrelease/{RELEASE}"),
            "--timeout=180s",
        ],
        "",
    );
    let hr = get_json(cluster, ns, &["helmrelease", RELEASE]);
    let ready = hr["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Ready")
        .cloned()
        .unwrap_or_else(|| panic!("no Ready condition: {}", hr["status"]));
    (
        ready["status"].as_str().unwrap().to_string(),
        ready["message"].as_str().unwrap_or_default().to_string(),
    )
}

/// The HelmRelease reconciled Ready, and every Deployment of the release rolled out.
fn assert_released(cluster: &Cluster, ns: &str, what: &str) {
    let (status, message) = reconciled(cluster, ns);
    assert_eq!(status, "True", "{what}: HelmRelease not Ready: {message}");
    for d in deployment_names(cluster, ns) {
        cluster.ok(
            &[
                "rollout",
                "status",
                "-n",
                ns,
                &format!("deployment/{d}"),
                "--timeout=120s",
            ],
            "",
        );
    }
}

fn deployment_names(cluster: &Cluster, ns: &str) -> Vec<String> {
    let mut names: Vec<String> = items(&get_json(cluster, ns, &["deployments"]))
        .iter()
        .map(name)
        .collect();
    names.sort();
    names
}

/// The release's running pods (not terminating), each on the kwok node.
fn running_pods(cluster: &Cluster, ns: &str) -> Vec<Value> {
    let pods: Vec<Value> = items(&get_json(cluster, ns, &["pods"]))
        .into_iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .collect();
    for p in &pods {
        assert_eq!(
            p["status"]["phase"],
            "Running",
            "{}: {}",
            name(p),
            p["status"]
        );
        assert_eq!(p["spec"]["nodeName"], "lp-node-0", "{}", name(p));
    }
    pods
}

/// The fields the tool owns on a workload or ServiceAccount: the pod's and each container's
/// securityContext, automountServiceAccountToken, the volumes (name and source) and whether the
/// scripts hash is stamped.
fn owned_fields(o: &Value) -> Value {
    if o["kind"] == "ServiceAccount" {
        return serde_json::json!({"automountServiceAccountToken": o["automountServiceAccountToken"]});
    }
    let pod = &o["spec"]["template"]["spec"];
    let containers = |key: &str| -> Value {
        pod[key]
            .as_array()
            .map(|cs| {
                cs.iter()
                    .map(|c| serde_json::json!({"name": c["name"], "securityContext": c["securityContext"]}))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut volumes: Vec<String> = pod["volumes"]
        .as_array()
        .map(|vs| {
            vs.iter()
                .map(|v| {
                    let source = match &v["configMap"]["name"] {
                        Value::String(cm) => format!("configMap {cm}"),
                        _ if !v["emptyDir"].is_null() => format!("emptyDir {}", v["emptyDir"]),
                        _ => format!("other {v}"),
                    };
                    format!("{}: {source}", v["name"].as_str().unwrap())
                })
                .collect()
        })
        .unwrap_or_default();
    volumes.sort();
    serde_json::json!({
        "securityContext": pod["securityContext"],
        "automountServiceAccountToken": pod["automountServiceAccountToken"],
        "containers": containers("containers"),
        "initContainers": containers("initContainers"),
        "volumes": volumes,
        "scriptsHashStamped": o["spec"]["template"]["metadata"]["annotations"][SCRIPTS_HASH].is_string(),
    })
}

/// The owned fields of the release's Deployments and ServiceAccounts, by kind/name.
fn owned(objs: &[Value]) -> BTreeMap<String, Value> {
    objs.iter()
        .filter(|o| {
            (o["kind"] == "Deployment" || o["kind"] == "ServiceAccount")
                && o["metadata"]["name"].as_str() != Some("default")
        })
        .map(|o| {
            (
                format!("{}/{}", o["kind"].as_str().unwrap(), name(o)),
                owned_fields(o),
            )
        })
        .collect()
}

/// The scripts hash the `flux` output's Deployment patch stamps.
fn patched_hash(flux: &str) -> String {
    let hr = kubectl_objects(flux)
        .into_iter()
        .find(|o| o["kind"] == "HelmRelease")
        .unwrap();
    let patch = hr["spec"]["postRenderers"][0]["kustomize"]["patches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["target"]["kind"] == "Deployment")
        .unwrap()["patch"]
        .as_str()
        .unwrap()
        .to_string();
    let patch = kubectl_objects(&patch);
    patch[0]["spec"]["template"]["metadata"]["annotations"][SCRIPTS_HASH]
        .as_str()
        .unwrap()
        .to_string()
}

/// The live objects as one YAML stream (kubectl's own output), for the PSA judge.
fn live_stream(cluster: &Cluster, ns: &str) -> String {
    cluster.ok(
        &[
            "get",
            "-n",
            ns,
            "deployments,replicasets,pods",
            "-o",
            "yaml",
        ],
        "",
    )
}

/// Each Deployment: (name, scripts hash of its pod template).
fn hashes(cluster: &Cluster, ns: &str) -> Vec<(String, String)> {
    items(&get_json(cluster, ns, &["deployments"]))
        .iter()
        .map(|d| {
            (
                name(d),
                d["spec"]["template"]["metadata"]["annotations"][SCRIPTS_HASH]
                    .as_str()
                    .unwrap_or_else(|| panic!("no scripts hash on {}", name(d)))
                    .to_string(),
            )
        })
        .collect()
}

/// The script ConfigMaps of the release (named after it, the chart's own `-config` aside).
fn script_configmaps(cluster: &Cluster, ns: &str) -> Vec<String> {
    let mut names: Vec<String> = items(&get_json(cluster, ns, &["configmaps"]))
        .iter()
        .map(name)
        .filter(|n| n.starts_with(&format!("{RELEASE}-")) && n != &format!("{RELEASE}-config"))
        .collect();
    names.sort();
    names
}

/// The real chart from the suite's registry, reconciled by helm-controller through the `flux`
/// output's patches: pods Running on the kwok node, every pod and template passing Kubernetes'
/// PSA judge at `restricted`, the objects equal to `template`'s on the fields the tool owns,
/// the scripts hash the output's patch carries. Then a script change, regenerated and applied:
/// both Deployments roll to the new hash and the old script ConfigMap is gone.
#[test]
fn flux_reconciles_the_real_chart_into_hardened_pods_and_rolls_on_a_script_change() {
    let cluster = cluster();
    let home = tempfile::tempdir().unwrap();
    let ns_guard = cluster.namespace("flux-reconcile", &[("enforce", "restricted")]);
    let ns = ns_guard.name.as_str();
    let (mirror, digest) = pushed_real_chart(home.path(), "flux-reconcile");
    let first = spec(home.path(), "q=locust", false, "");

    let flux = flux_output(home.path(), &first, ns, &mirror);
    assert!(
        !flux.contains("kind: Namespace"),
        "no createNamespace, no Namespace"
    );
    apply(&cluster, &flux);
    assert_released(&cluster, ns, "first install");
    let source = get_json(
        &cluster,
        ns,
        &["ocirepository", &format!("{RELEASE}-chart")],
    );
    assert!(
        source["status"]["artifact"]["url"]
            .as_str()
            .unwrap()
            .starts_with(&std::env::var("LP_FLUX_ARTIFACTS").unwrap()),
        "the chart was served by source-controller: {}",
        source["status"]
    );
    // The revision names the push (the `ref.digest` docs/gitops.md tells users to freeze).
    assert_eq!(
        source["status"]["artifact"]["revision"],
        format!("0.35.0@{digest}").as_str()
    );

    let pods = running_pods(&cluster, ns);
    assert_eq!(pods.len(), 3, "a master and two workers");
    let live = live_stream(&cluster, ns);
    let ours: Vec<String> = items(&get_json(&cluster, ns, &["deployments,replicasets,pods"]))
        .iter()
        .flat_map(restricted::violations)
        .collect();
    assert_hardened(
        "live objects under Flux",
        &live,
        "restricted",
        "tests/common/restricted.rs",
        &ours,
    );
    assert!(
        judge(&live, "restricted").is_empty() && live.matches("kind: Pod\n").count() >= 3,
        "the judge saw the pods"
    );

    let mut objs = items(&get_json(&cluster, ns, &["deployments"]));
    objs.extend(items(&get_json(&cluster, ns, &["serviceaccounts"])));
    let by_flux = owned(&objs);
    let by_template = owned(&kubectl_objects(&template_output(
        home.path(),
        &first,
        ns,
        &mirror,
    )));
    assert_eq!(
        by_flux.len(),
        4,
        "two Deployments, two ServiceAccounts: {by_flux:#?}"
    );
    assert_eq!(by_flux, by_template);
    let hash = patched_hash(&flux);
    let before = hashes(&cluster, ns);
    assert!(
        before.iter().all(|(_, h)| *h == hash),
        "{before:?} vs the patch's {hash}"
    );
    let old_configmaps = script_configmaps(&cluster, ns);
    assert_eq!(old_configmaps.len(), 1, "{old_configmaps:?}");

    let second = spec(home.path(), "q=flux", false, "");
    let flux = flux_output(home.path(), &second, ns, &mirror);
    apply(&cluster, &flux);
    assert_released(&cluster, ns, "after the script change");
    let after = hashes(&cluster, ns);
    let new_hash = patched_hash(&flux);
    assert_ne!(new_hash, hash);
    assert!(
        after.iter().all(|(_, h)| *h == new_hash),
        "{after:?} vs {new_hash}"
    );
    let new_configmaps = script_configmaps(&cluster, ns);
    assert_eq!(new_configmaps.len(), 1, "{new_configmaps:?}");
    assert_ne!(
        new_configmaps, old_configmaps,
        "the old script ConfigMap is gone"
    );
    // Each Deployment rolled: a second ReplicaSet, the new one holding every replica.
    let replica_sets = items(&get_json(&cluster, ns, &["replicasets"]));
    for d in deployment_names(&cluster, ns) {
        let mine: Vec<&Value> = replica_sets
            .iter()
            .filter(|r| r["metadata"]["ownerReferences"][0]["name"] == d.as_str())
            .collect();
        assert_eq!(mine.len(), 2, "{d}: {mine:#?}");
    }
    let pods = running_pods(&cluster, ns);
    assert!(
        pods.iter()
            .all(|p| p["metadata"]["annotations"][SCRIPTS_HASH] == new_hash.as_str()),
        "every running pod has the new scripts"
    );
}

/// With `createNamespace`, the output's first object is the Namespace, labelled for Pod
/// Security Admission; applied as is, it carries the labels and the release reconciles in it.
/// A pod added through `extraObjects` that the patches do not harden is then refused by the API
/// server (PodSecurity), and helm-controller reports the install failed, naming it.
#[test]
fn flux_creates_the_labelled_namespace_and_the_api_server_refuses_an_unhardened_extra_pod() {
    let cluster = cluster();
    let home = tempfile::tempdir().unwrap();
    let (mirror, _) = pushed_real_chart(home.path(), "flux-namespace");

    let ns = cluster.fresh_name("flux-namespace");
    let _guard = cluster.adopt(&ns);
    let flux = flux_output(
        home.path(),
        &spec(home.path(), "q=locust", true, ""),
        &ns,
        &mirror,
    );
    let docs = kubectl_objects(&flux);
    assert_eq!(docs[0]["kind"], "Namespace");
    apply(&cluster, &flux);
    let labels = get_json(&cluster, "", &["namespace", &ns])["metadata"]["labels"].clone();
    for mode in ["enforce", "warn", "audit"] {
        assert_eq!(
            labels[format!("pod-security.kubernetes.io/{mode}")],
            "restricted",
            "{labels}"
        );
    }
    assert_released(&cluster, &ns, "in the namespace the output created");
    assert_eq!(running_pods(&cluster, &ns).len(), 3);

    let bad_ns = cluster.fresh_name("flux-extra-pod");
    let _bad_guard = cluster.adopt(&bad_ns);
    let pod = "    extraObjects: '[{apiVersion: v1, kind: Pod, metadata: {name: unhardened}, spec: {automountServiceAccountToken: false, containers: [{name: c, image: \"locustio/locust:2.32.2\", securityContext: {runAsNonRoot: true, runAsUser: 1000, seccompProfile: {type: RuntimeDefault}}}]}}]'\n";
    let flux = flux_output(
        home.path(),
        &spec(home.path(), "q=extra", true, pod),
        &bad_ns,
        &mirror,
    );
    assert!(
        flux.contains("name: unhardened"),
        "the pod is in the release's values"
    );
    apply(&cluster, &flux);
    let (status, message) = reconciled(&cluster, &bad_ns);
    assert_eq!(status, "False", "{message}");
    assert!(
        message.contains("unhardened")
            && message.contains("violates PodSecurity \"restricted:latest\""),
        "{message}"
    );
    let pods = items(&get_json(&cluster, &bad_ns, &["pods"]));
    assert!(
        pods.iter().all(|p| name(p) != "unhardened"),
        "the API server stored no unhardened pod"
    );
}

/// The Flux CRDs of fixtures/crds/ (the schemas tests/gitops.rs validates the output against)
/// are, byte for byte, the ones the pinned controllers run with (`.tools/flux/crds.yaml`).
#[test]
fn the_fixture_crds_are_the_pinned_controllers_crds() {
    let crds = std::env::var_os("LP_FLUX_CRDS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools/flux/crds.yaml"));
    assert!(
        crds.is_file(),
        "Flux's CRDs are not at {} (LP_FLUX_CRDS): run scripts/install-tools.sh",
        crds.display()
    );
    let installed = read(&crds);
    let mut compared = 0;
    for entry in std::fs::read_dir(fixture("crds")).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        if !file.contains(".toolkit.fluxcd.io_") {
            continue;
        }
        let fixture_text = read(&path);
        let body = fixture_text.trim_start_matches("---\n");
        assert!(
            installed.contains(body),
            "fixtures/crds/{file} differs from the pinned controllers' CRD ({})",
            crds.display()
        );
        compared += 1;
    }
    assert_eq!(compared, 3);
}
