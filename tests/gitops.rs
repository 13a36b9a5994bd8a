//! helmfile, Flux and Argo CD outputs: schema validation against the Flux CRDs, the kustomize
//! equivalence of the Flux patches with the post-renderer, and the command lines helmfile and
//! the Argo CD plugin run, executed with real Helm 3 and Helm 4.

mod common;
#[path = "common/restricted.rs"]
mod restricted;

use assert_cmd::Command;
use common::*;
use locust_planton::gitops::flux;
use locust_planton::postrender::{Options, post_render};
use locust_planton::yaml::{Node, parse_document, parse_single};
use serde_json::Value;
use std::path::Path;

const HASH: &str = "locust.project-planton.org/scripts-sha256";

fn crd_schema(file: &str, version: &str) -> Value {
    let crd = parse_single(&read(fixture(&format!("crds/{file}"))))
        .unwrap()
        .to_json();
    let v = crd["spec"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == version)
        .unwrap();
    v["schema"]["openAPIV3Schema"].clone()
}

fn documents(text: &str) -> Vec<Value> {
    locust_planton::manifest::split(text)
        .unwrap()
        .iter()
        .filter_map(|d| parse_document(d.text).unwrap())
        .map(|n: Node| n.to_json())
        .collect()
}

fn flux_output(spec: &Path) -> String {
    let out = Command::new(bin())
        .args(["flux", "-f"])
        .arg(spec)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn flux_objects_validate_against_the_crd_schemas() {
    let oci = jsonschema::validator_for(&crd_schema(
        "source.toolkit.fluxcd.io_ocirepositories.yaml",
        "v1",
    ))
    .unwrap();
    let hr = jsonschema::validator_for(&crd_schema(
        "helm.toolkit.fluxcd.io_helmreleases.yaml",
        "v2",
    ))
    .unwrap();
    for ex in ["checkout", "kubernetes-locust", "ci-run", "metrics"] {
        let text = flux_output(&repo().join(format!("examples/{ex}.yaml")));
        assert!(
            text.contains("# Flux runs no post-renderer binary"),
            "the limits are stated in the output"
        );
        let docs = documents(&text);
        assert_eq!(docs.len(), 2);
        for d in &docs {
            let validator = if d["kind"] == "OCIRepository" {
                &oci
            } else {
                &hr
            };
            let errors: Vec<String> = validator
                .iter_errors(d)
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{ex} {}: {errors:#?}", d["kind"]);
        }
        assert_eq!(
            docs[1]["spec"]["chartRef"]["name"],
            docs[0]["metadata"]["name"]
        );
    }
    // The validator is not vacuous: a wrong field type is reported.
    let mut bad = documents(&flux_output(&repo().join("examples/checkout.yaml")))[1].clone();
    bad["spec"]["postRenderers"][0]["kustomize"]["patches"][0]["target"] =
        Value::String("Deployment".into());
    assert!(!hr.is_valid(&bad));
}

/// Objects keyed by kind/name, normalised: list order of volumes and mounts is not compared
/// (kustomize and the post-renderer append in different places), the hash only for presence.
fn normalised(objs: Vec<Value>) -> std::collections::BTreeMap<String, Value> {
    objs.into_iter()
        .map(|mut o| {
            if let Some(a) = o
                .pointer_mut("/metadata/annotations")
                .and_then(Value::as_object_mut)
            {
                a.remove("postrenderer.helm.sh/postrender-filename");
                if a.is_empty() {
                    o["metadata"].as_object_mut().unwrap().remove("annotations");
                }
            }
            if let Some(t) = o.pointer_mut("/spec/template") {
                let hash = format!("/metadata/annotations/{}", HASH.replace('/', "~1"));
                if let Some(h) = t.pointer_mut(&hash) {
                    *h = Value::String("<present>".into());
                }
                let spec = &mut t["spec"];
                sort_by(&mut spec["volumes"], "name");
                for f in ["initContainers", "containers"] {
                    for c in spec[f].as_array_mut().into_iter().flatten() {
                        sort_by(&mut c["volumeMounts"], "mountPath");
                    }
                }
            }
            (
                format!(
                    "{}/{}",
                    o["kind"].as_str().unwrap(),
                    o["metadata"]["name"].as_str().unwrap()
                ),
                o,
            )
        })
        .collect()
}

fn sort_by(list: &mut Value, key: &str) {
    if let Some(a) = list.as_array_mut() {
        a.sort_by(|x, y| x[key].as_str().cmp(&y[key].as_str()));
    }
}

fn kustomize(stream: &str, patches: &[Node]) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stream.yaml"), stream).unwrap();
    let k = locust_planton::yaml::emit_document(&Node::from_json(&serde_json::json!({
        "resources": ["stream.yaml"],
        "patches": patches.iter().map(Node::to_json).collect::<Vec<_>>(),
    })));
    std::fs::write(dir.path().join("kustomization.yaml"), k).unwrap();
    let out = std::process::Command::new(kubectl())
        .arg("kustomize")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kustomize: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    kubectl_objects(&String::from_utf8(out.stdout).unwrap())
}

#[test]
fn flux_patches_match_the_post_renderer_on_recorded_renders() {
    let patches = flux::patches("demo", false, &[], Options::default().profile);
    let mut compared = 0;
    for case in std::fs::read_dir(fixture("reference/0.35.0"))
        .unwrap()
        .map(|e| e.unwrap().path())
    {
        let name = case.file_name().unwrap().to_str().unwrap().to_string();
        let stream = read(case.join("helm3-postrenderer-stdin.yaml"));
        let by_patches = normalised(kustomize(&stream, &patches));
        let by_post_render = normalised(kubectl_objects(
            &post_render(&stream, &Options::default()).unwrap().text(),
        ));
        assert_eq!(
            by_patches.keys().collect::<Vec<_>>(),
            by_post_render.keys().collect::<Vec<_>>(),
            "{name}"
        );
        for (k, expected) in &by_post_render {
            let got = &by_patches[k];
            if name == "secured" && k.starts_with("Deployment/") {
                // Documented limits: patches name their containers, so the chart's extra init
                // container `deps` is hardened by the post-renderer only; and a strategic merge
                // keys mounts by path, so the patch renames the chart's own `/tmp` mount.
                let spec = |o: &Value| o["spec"]["template"]["spec"].clone();
                assert_ne!(
                    spec(got)["initContainers"],
                    spec(expected)["initContainers"],
                    "{k}"
                );
                assert_eq!(
                    spec(got)["containers"][0]["securityContext"],
                    spec(expected)["containers"][0]["securityContext"],
                    "{k}"
                );
                assert_eq!(
                    spec(got)["securityContext"],
                    spec(expected)["securityContext"],
                    "{k}"
                );
                continue;
            }
            assert_eq!(got, expected, "{name} {k}");
        }
        compared += 1;
    }
    assert_eq!(compared, 14);
}

#[test]
fn flux_output_matches_the_post_renderer_on_the_examples() {
    // Extension fields (headless run, spot, NetworkPolicy, metrics exporter) included.
    for (example, release) in [
        ("checkout", "checkout-load"),
        ("ci-run", "ci-run"),
        ("metrics", "search-metrics"),
    ] {
        flux_matches_post_renderer(example, release);
    }
}

/// The HelmRelease's values and patches, applied the way helm-controller would (helm template,
/// then kustomize), against helm template with the post-renderer.
fn flux_matches_post_renderer(example: &str, release: &str) {
    let text = flux_output(&repo().join(format!("examples/{example}.yaml")));
    let hr = documents(&text)
        .into_iter()
        .find(|d| d["kind"] == "HelmRelease")
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let values = home.path().join("values.yaml");
    std::fs::write(
        &values,
        locust_planton::yaml::emit_document(&Node::from_json(&hr["spec"]["values"])),
    )
    .unwrap();
    let chart = repo().join("tests/charts/locust-mini");
    let render = |post: bool| {
        let mut c = helm_cmd(&helm3(), home.path());
        c.args(["template", release])
            .arg(&chart)
            .arg("-f")
            .arg(&values);
        if post {
            c.arg("--post-renderer").arg(bin());
        }
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let patches: Vec<Node> = hr["spec"]["postRenderers"][0]["kustomize"]["patches"]
        .as_array()
        .unwrap()
        .iter()
        .map(Node::from_json)
        .collect();
    let by_patches = normalised(kustomize(&render(false), &patches));
    let by_post_render = normalised(kubectl_objects(&render(true)));
    assert_eq!(by_patches, by_post_render, "{example}");
    for o in by_patches.values() {
        assert!(
            restricted::violations(o).is_empty(),
            "{:?}",
            restricted::violations(o)
        );
    }
}

#[test]
fn flux_hash_changes_with_the_scripts() {
    let base = read(repo().join("examples/checkout.yaml"));
    let hash = |text: &str| {
        let out = Command::new(bin())
            .args(["flux", "-f", "-"])
            .write_stdin(text.to_string())
            .output()
            .unwrap();
        let t = String::from_utf8(out.stdout).unwrap();
        t.lines().find(|l| l.contains(HASH)).unwrap().to_string()
    };
    assert_eq!(
        hash(&base),
        hash(&base.replace("replicas: 4", "replicas: 6"))
    );
    assert_ne!(
        hash(&base),
        hash(&base.replace("between(1, 2)", "between(1, 4)"))
    );
}

/// The command helmfile runs for the example release, as `helm template` on a local chart
/// (no registry here), with `--post-renderer locust-planton` resolved by Helm 3 from PATH and by
/// Helm 4 as the plugin.
#[test]
fn helmfile_release_command_works_on_helm3_and_helm4() {
    let generated = Command::new(bin())
        .args(["helmfile", "-f", "checkout.yaml"])
        .current_dir(repo().join("examples/helmfile"))
        .output()
        .unwrap();
    assert!(generated.status.success());
    assert_eq!(
        String::from_utf8(generated.stdout).unwrap(),
        read(repo().join("examples/helmfile/helmfile.yaml")),
        "the example is what the command generates"
    );
    let entry = parse_single(&read(repo().join("examples/helmfile/helmfile.yaml")))
        .unwrap()
        .to_json();
    let release = &entry["releases"][0];
    assert_eq!(release["postRenderer"], "locust-planton");
    assert_eq!(release["version"], "0.35.0");
    let home = tempfile::tempdir().unwrap();
    let values = home.path().join(release["values"][0].as_str().unwrap());
    let out = Command::new(bin())
        .args(["values", "-f"])
        .arg(repo().join("examples/helmfile/checkout.yaml"))
        .arg("-o")
        .arg(&values)
        .output()
        .unwrap();
    assert!(out.status.success());
    let plugins = home.path().join("plugins/locust-planton");
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::copy(repo().join("plugin.yaml"), plugins.join("plugin.yaml")).unwrap();
    let path = format!(
        "{}:{}",
        bin().parent().unwrap().display(),
        std::env::var("PATH").unwrap()
    );
    for helm in [helm3(), helm4()] {
        let mut c = helm_cmd(&helm, home.path());
        c.args(["template", release["name"].as_str().unwrap()])
            .arg(repo().join("tests/charts/locust-mini"))
            .args([
                "--version",
                release["version"].as_str().unwrap(),
                "--namespace",
                release["namespace"].as_str().unwrap(),
            ])
            .arg("--values")
            .arg(&values)
            .args(["--post-renderer", release["postRenderer"].as_str().unwrap()])
            .env("PATH", &path)
            .env("HELM_PLUGINS", home.path().join("plugins"));
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            helm.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let objs = kubectl_objects(&String::from_utf8(out.stdout).unwrap());
        assert!(
            objs.iter().all(|o| restricted::violations(o).is_empty()),
            "{}",
            helm.display()
        );
        assert!(objs.iter().any(|o| {
            o.pointer("/spec/template/metadata/annotations")
                .is_some_and(|a| a[HASH].is_string())
        }));
    }
}

/// The Argo CD plugin's `generate` command, run as the repo-server sidecar would run it.
#[test]
fn argocd_plugin_generate_command_renders_the_application() {
    let plugin = parse_single(&read(repo().join("examples/argocd/plugin.yaml")))
        .unwrap()
        .to_json();
    let generate = &plugin["spec"]["generate"];
    assert_eq!(generate["command"], serde_json::json!(["sh", "-c"]));
    let script = generate["args"][0].as_str().unwrap();
    let app_dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo().join("examples/checkout.yaml"),
        app_dir
            .path()
            .join(plugin["spec"]["discover"]["fileName"].as_str().unwrap()),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        bin().parent().unwrap().display(),
        std::env::var("PATH").unwrap()
    );
    let out = helm_cmd(Path::new("sh"), app_dir.path())
        .args(["-c", script])
        .current_dir(app_dir.path())
        .env("PATH", path)
        .env("ARGOCD_APP_NAME", "checkout-app")
        .env("ARGOCD_APP_NAMESPACE", "perf")
        .env(
            "ARGOCD_ENV_LOCUST_PLANTON_ARGS",
            format!(
                "--high-uid --chart {} --helm {}",
                repo().join("tests/charts/locust-mini").display(),
                helm3().display()
            ),
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let objs = kubectl_objects(&String::from_utf8(out.stdout).unwrap());
    let master = find(&objs, "Deployment", "checkout-load-master");
    assert_eq!(
        master["metadata"]["labels"]["app.kubernetes.io/instance"],
        "checkout-app"
    );
    assert_eq!(
        master
            .pointer("/spec/template/spec/securityContext/runAsUser")
            .unwrap(),
        10001
    );
    assert!(objs.iter().all(|o| restricted::violations(o).is_empty()));
}
