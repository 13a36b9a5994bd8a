//! Flux: an `OCIRepository` for the pinned chart and a `HelmRelease` carrying the synthesized
//! values and, as kustomize patches, what the post-renderer would do (helm-controller cannot
//! run a binary). The patches are not written by hand: skeleton objects are run through the
//! post-renderer's own filters and the result becomes the patch.
//!
//! What patches cannot express, and the output says so in a comment:
//! - the scripts hash covers the tool's script ConfigMaps, not the chart's own entrypoint
//!   ConfigMap (unknown before rendering); pods still roll on a script change, since the
//!   ConfigMap names change;
//! - patches name the containers they harden (`locust`, `pip-install`); containers added through
//!   `helmValues` are not hardened;
//! - patches overwrite: a weaker explicit setting is replaced, not reported, and opt-out
//!   annotations have no effect.
//!
//! The HelmRelease asks for `postRenderStrategy: combined` (helm-controller v1.6, Flux 2.9): hooks
//! go through the same patches as the other templates, whatever the controller's defaults. With
//! `createNamespace` the namespace is emitted as an object labelled for Pod Security Admission,
//! first, so the API server rejects any pod the patches do not harden (helm-controller's own
//! `install.createNamespace` would make it unlabelled).

use crate::lock::chart_lock;
use crate::lock::mirror::Mirror;
use crate::policy::harden::{BoundAccounts, Profile, harden};
use crate::policy::rollout_hash::{DataIndex, stamp};
use crate::postrender::preflight::admission;
use crate::spec::LoadTestSpec;
use crate::values::{PIP_INIT_CONTAINER, ScriptConfigMap};
use crate::yaml::{Map, Node, emit_document};

pub const LIMITS_COMMENT: &str = "# Flux runs no post-renderer binary: the HelmRelease's kustomize patches apply the same hardening\n\
# and scripts hash. Unlike the post-renderer they (1) hash only locust-planton's script ConfigMaps,\n\
# (2) harden only the containers named `locust` and `pip-install`, (3) overwrite weaker settings\n\
# instead of rejecting them (opt-out annotations do not apply). Apply it server-side (Flux's\n\
# kustomize-controller does; by hand `kubectl apply --server-side`): a client-side apply drops the\n\
# values' nulls (`httpGet: null`), and the chart's defaults come back.\n";

/// The kustomize patches (`spec.postRenderers[0].kustomize.patches`) for a release of `values`
/// whose script ConfigMaps are `scripts` (full manifests).
pub fn patches(
    release: &str,
    values: &Node,
    scripts: &[Node],
    profile: Profile,
) -> Result<Vec<Node>, String> {
    let selector = format!("app.kubernetes.io/name=locust,app.kubernetes.io/instance={release}");
    let entry = |kind: &str, patch: &Node| {
        Node::map_of(vec![
            ("patch", Node::string(emit_document(patch))),
            (
                "target",
                Node::map_of(vec![
                    ("kind", Node::string(kind)),
                    ("labelSelector", Node::string(&selector)),
                ]),
            ),
        ])
    };
    Ok(vec![
        entry(
            "Deployment",
            &deployment_patch(&patched_containers(values, release), scripts, profile)?,
        ),
        entry("ServiceAccount", &service_account_patch(profile)?),
    ])
}

/// The containers one patch hardens in both Deployments, by name: those the chart model renders
/// in the master's and the worker's pod alike (a container in one only would be added to the
/// other by the patch), of the init containers only the tool's own pip step (the limit the
/// output's comment states). As (init containers, containers).
fn patched_containers(values: &Node, release: &str) -> (Vec<String>, Vec<String>) {
    let [master, worker] = crate::chart::render_both(values, release);
    let names = |rendered: &crate::chart::Rendered, list: &str| -> Vec<String> {
        rendered
            .pod_spec()
            .and_then(|p| p.get_path(&[list]))
            .and_then(Node::as_seq)
            .into_iter()
            .flatten()
            .filter_map(|c| c.get_path(&["name"]).map(Node::key_text))
            .collect()
    };
    let common = |list: &str| -> Vec<String> {
        let in_worker = names(&worker, list);
        names(&master, list)
            .into_iter()
            .filter(|n| in_worker.contains(n))
            .collect()
    };
    let inits = common("initContainers")
        .into_iter()
        .filter(|n| n == PIP_INIT_CONTAINER)
        .collect();
    (inits, common("containers"))
}

/// A skeleton Deployment of the chart's containers, hardened and stamped with the hash of the
/// script ConfigMaps (mounted only to feed the hash: the chart mounts them itself).
fn deployment_patch(
    containers: &(Vec<String>, Vec<String>),
    scripts: &[Node],
    profile: Profile,
) -> Result<Node, String> {
    let mut index = DataIndex::default();
    let mut config_volumes = Vec::new();
    for cm in scripts {
        index.record(cm);
        let name = Node::string(crate::postrender::name_of(cm));
        config_volumes.push(Node::map_of(vec![
            ("name", name.clone()),
            ("configMap", Node::map_of(vec![("name", name)])),
        ]));
    }
    let mut deployment = skeleton(
        "apps/v1",
        "Deployment",
        Some(Node::map_of(vec![(
            "template",
            Node::map_of(vec![("spec", skeleton_pod(containers, config_volumes))]),
        )])),
    );
    hardened_skeleton(&mut deployment, profile)?;
    let template = child_mut(&mut deployment, "spec")
        .and_then(|spec| child_mut(spec, "template"))
        .ok_or("the skeleton Deployment lost its pod template")?;
    stamp(template, &index);
    // The ConfigMap volumes only fed the hash; the chart mounts them itself.
    if let Some(vols) = child_mut(template, "spec")
        .and_then(|spec| child_mut(spec, "volumes"))
        .and_then(Node::as_seq_mut)
    {
        vols.retain(|v| v.get_path(&["configMap"]).is_none());
    }
    Ok(deployment)
}

/// The value of `key` in the mapping `node`, to change.
fn child_mut<'a>(node: &'a mut Node, key: &str) -> Option<&'a mut Node> {
    node.as_map_mut()?.get_mut(key)
}

/// Hardens a skeleton object in place. A skeleton states nothing, so the policy finds nothing
/// weaker to reject; if it ever did, the patch would not be what the post-renderer allows.
fn hardened_skeleton(object: &mut Node, profile: Profile) -> Result<(), String> {
    let (_, found) = harden(object, profile, &BoundAccounts::default());
    match found.first() {
        None => Ok(()),
        Some(v) => Err(format!(
            "the Flux patch for a {} would be refused by the post-renderer: {}: {}",
            object
                .get_path(&["kind"])
                .map_or_else(String::new, Node::key_text),
            v.field,
            v.message
        )),
    }
}

/// The chart's pod reduced to the containers the patch names: (init containers, containers).
fn skeleton_pod((inits, containers): &(Vec<String>, Vec<String>), volumes: Vec<Node>) -> Node {
    let named = |names: &[String]| {
        Node::Seq(
            names
                .iter()
                .map(|n| Node::map_of(vec![("name", Node::string(n))]))
                .collect(),
        )
    };
    let mut pod = Map::default();
    if !inits.is_empty() {
        pod.insert("initContainers", named(inits));
    }
    pod.insert("containers", named(containers));
    pod.insert("volumes", Node::Seq(volumes));
    Node::Map(pod)
}

/// A skeleton ServiceAccount, hardened.
fn service_account_patch(profile: Profile) -> Result<Node, String> {
    let mut service_account = skeleton("v1", "ServiceAccount", None);
    hardened_skeleton(&mut service_account, profile)?;
    Ok(service_account)
}

/// An object named `any` (the patches select by label), with this `spec` if any.
fn skeleton(api_version: &str, kind: &str, spec: Option<Node>) -> Node {
    let mut entries = vec![
        ("apiVersion", Node::string(api_version)),
        ("kind", Node::string(kind)),
        (
            "metadata",
            Node::map_of(vec![("name", Node::string("any"))]),
        ),
    ];
    entries.extend(spec.map(|s| ("spec", s)));
    Node::map_of(entries)
}

/// The Flux objects (after the labelled Namespace, when the manifest creates it), as a YAML stream.
pub fn render(
    spec: &LoadTestSpec,
    values: &Node,
    scripts: &[ScriptConfigMap],
    namespace: &str,
    interval: &str,
    profile: Profile,
    mirror: Option<&Mirror>,
) -> Result<String, String> {
    let lock = chart_lock();
    let source_name = format!("{}-chart", spec.name);
    let oci = Node::map_of(vec![
        ("apiVersion", Node::string("source.toolkit.fluxcd.io/v1")),
        ("kind", Node::string("OCIRepository")),
        ("metadata", metadata(&source_name, namespace)),
        ("spec", oci_repository_spec(interval, mirror)),
    ]);
    let manifests: Vec<Node> = scripts.iter().map(|c| c.manifest(spec)).collect();
    let hr = Node::map_of(vec![
        ("apiVersion", Node::string("helm.toolkit.fluxcd.io/v2")),
        ("kind", Node::string("HelmRelease")),
        ("metadata", metadata(&spec.name, namespace)),
        (
            "spec",
            release_spec(spec, values, &source_name, interval, &manifests, profile)?,
        ),
    ]);
    let namespace_doc = if spec.create_namespace {
        format!(
            "---\n{}",
            emit_document(&labelled_namespace(namespace, values))
        )
    } else {
        String::new()
    };
    Ok(format!(
        "# Flux objects for {}, generated by locust-planton {} (chart {} {}).\n{LIMITS_COMMENT}{namespace_doc}---\n{}---\n{}",
        spec.name,
        env!("CARGO_PKG_VERSION"),
        lock.name,
        lock.version,
        emit_document(&oci),
        emit_document(&hr)
    ))
}

/// The release's namespace with Pod Security Admission enforcing (and warning and auditing at)
/// the level the values allow (`restricted` unless they opt out), as `install` labels it.
fn labelled_namespace(name: &str, values: &Node) -> Node {
    let (level, _) = admission(values);
    let mut labels = Map::default();
    for mode in ["enforce", "warn", "audit"] {
        labels.insert(
            &format!("pod-security.kubernetes.io/{mode}"),
            Node::string(level),
        );
        labels.insert(
            &format!("pod-security.kubernetes.io/{mode}-version"),
            Node::string("latest"),
        );
    }
    Node::map_of(vec![
        ("apiVersion", Node::string("v1")),
        ("kind", Node::string("Namespace")),
        (
            "metadata",
            Node::map_of(vec![
                ("name", Node::string(name)),
                ("labels", Node::Map(labels)),
            ]),
        ),
    ])
}

fn metadata(name: &str, namespace: &str) -> Node {
    Node::map_of(vec![
        ("name", Node::string(name)),
        ("namespace", Node::string(namespace)),
    ])
}

/// The pinned chart, as an OCI artifact: from its OCI reference, or from an OCI mirror
/// (`oci://HOST/PATH/<name>`; `insecure: true`, plain HTTP, for a loopback registry). Flux pins
/// the tag only: it cannot check the chart's content (`ref.digest` freezes one push).
fn oci_repository_spec(interval: &str, mirror: Option<&Mirror>) -> Node {
    let lock = chart_lock();
    let (url, insecure) = match mirror {
        Some(Mirror::Oci {
            url, plain_http, ..
        }) => (format!("{url}/{}", lock.name), *plain_http),
        _ => (lock.repository.clone(), false),
    };
    let mut entries = vec![
        ("interval", Node::string(interval)),
        ("url", Node::string(url)),
    ];
    if insecure {
        entries.push(("insecure", Node::bool(true)));
    }
    entries.extend([
        (
            "ref",
            Node::map_of(vec![("tag", Node::string(&lock.version))]),
        ),
        (
            "layerSelector",
            Node::map_of(vec![
                (
                    "mediaType",
                    Node::string("application/vnd.cncf.helm.chart.content.v1.tar+gzip"),
                ),
                ("operation", Node::string("copy")),
            ]),
        ),
    ]);
    Node::map_of(entries)
}

/// The release of the chart from the OCIRepository, with the values and, as its
/// post-renderer, the kustomize patches.
fn release_spec(
    spec: &LoadTestSpec,
    values: &Node,
    source_name: &str,
    interval: &str,
    manifests: &[Node],
    profile: Profile,
) -> Result<Node, String> {
    let mut release_spec = vec![
        ("interval", Node::string(interval)),
        ("releaseName", Node::string(&spec.name)),
        (
            "chartRef",
            Node::map_of(vec![
                ("kind", Node::string("OCIRepository")),
                ("name", Node::string(source_name)),
            ]),
        ),
    ];
    release_spec.push(("values", values.clone()));
    // Hooks through the patches too (helm-controller's default unless its UseHelm3Defaults gate
    // is on; said explicitly so that gate cannot turn it off).
    release_spec.push(("postRenderStrategy", Node::string("combined")));
    release_spec.push((
        "postRenderers",
        Node::Seq(vec![Node::map_of(vec![(
            "kustomize",
            Node::map_of(vec![(
                "patches",
                Node::Seq(patches(&spec.name, values, manifests, profile)?),
            )]),
        )])]),
    ));
    Ok(Node::map_of(release_spec))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skeleton_the_policy_would_refuse_is_an_error_not_a_patch() {
        struct Case {
            object: &'static str,
            refused: Option<&'static str>,
        }
        let profile = Profile {
            uid: 1000,
            high_uid: false,
        };
        for case in [
            Case {
                object: "{apiVersion: apps/v1, kind: Deployment, metadata: {name: any}, spec: {template: {spec: {containers: [{name: locust}]}}}}",
                refused: None,
            },
            Case {
                object: "{apiVersion: apps/v1, kind: Deployment, metadata: {name: any}, spec: {template: {spec: {hostNetwork: true, containers: [{name: locust}]}}}}",
                refused: Some(
                    "the Flux patch for a Deployment would be refused by the post-renderer: spec.template.spec.hostNetwork:",
                ),
            },
        ] {
            let mut object = crate::yaml::parse_single(case.object).unwrap();
            match (hardened_skeleton(&mut object, profile), case.refused) {
                (Ok(()), None) => {}
                (Err(e), Some(start)) => assert!(e.starts_with(start), "{e}"),
                (got, _) => panic!("{}: {got:?}", case.object),
            }
        }
    }

    #[test]
    fn patches_name_the_containers_both_pods_have() {
        struct Case {
            values: &'static str,
            inits: &'static [&'static str],
        }
        let table = [
            Case {
                values: "{}",
                inits: &[],
            },
            Case {
                values: "{master: {initContainers: [{name: pip-install}]}, worker: {initContainers: [{name: deps}, {name: pip-install}]}}",
                inits: &["pip-install"],
            },
            // A container in one pod only would be added to the other by the patch.
            Case {
                values: "{master: {initContainers: [{name: pip-install}]}}",
                inits: &[],
            },
            // The patches harden only the tool's own init container (the output says so).
            Case {
                values: "{master: {initContainers: [{name: deps}]}, worker: {initContainers: [{name: deps}]}}",
                inits: &[],
            },
        ];
        for case in table {
            let values = crate::yaml::parse_single(case.values).unwrap();
            let (inits, containers) = patched_containers(&values, "demo");
            assert_eq!(inits, case.inits, "{}", case.values);
            assert_eq!(containers, ["locust"], "{}", case.values);
        }
    }

    #[test]
    fn the_namespace_is_labelled_at_the_level_the_values_allow() {
        struct Case {
            values: &'static str,
            level: &'static str,
        }
        let table = [
            Case {
                values: "master: {replicas: 1}\n",
                level: "restricted",
            },
            Case {
                values: "master: {annotations: {locust.project-planton.org/allow-run-as-root: \"true\"}}\n",
                level: "baseline",
            },
        ];
        for case in table {
            let values = crate::yaml::parse_single(case.values).unwrap();
            let namespace = labelled_namespace("load", &values).to_json();
            assert_eq!(namespace["kind"], "Namespace");
            assert_eq!(namespace["metadata"]["name"], "load");
            for mode in ["enforce", "warn", "audit"] {
                let labels = &namespace["metadata"]["labels"];
                assert_eq!(
                    labels[format!("pod-security.kubernetes.io/{mode}")],
                    case.level,
                    "{}",
                    case.values
                );
                assert_eq!(
                    labels[format!("pod-security.kubernetes.io/{mode}-version")],
                    "latest"
                );
            }
        }
    }
}
