//! Where pods live in an object. A pod spec is found by its shape in any kind: a mapping whose
//! `containers` is a list (a Pod's `spec`, a workload's `spec.template.spec`, a PodTemplate's
//! `template.spec`, an Argo Rollout's, a Knative Service's, a KEDA ScaledJob's
//! `spec.jobTargetRef.template.spec`, or any custom resource's). At the places known kinds keep
//! their pod template, the template must be well formed (a malformed one is refused, never
//! passed on unhardened). A custom resource field shaped like a pod spec that is not one can be
//! named in the object's `locust.project-planton.org/not-pod-specs` annotation.

use crate::yaml::Node;

pub use crate::contract::NOT_POD_SPECS_ANNOTATION;

/// The container lists of a pod spec, with their field names.
pub const CONTAINER_FIELDS: &[&str] = &["initContainers", "containers", "ephemeralContainers"];

pub fn kind_of(obj: &Node) -> Option<&str> {
    obj.get_path(&["kind"]).and_then(Node::as_str)
}

pub fn name_of(obj: &Node) -> &str {
    obj.get_path(&["metadata", "name"])
        .and_then(Node::as_str)
        .unwrap_or("<unnamed>")
}

/// The API group of an object (`apps` for `apps/v1`, empty for the core group).
fn group_of(obj: &Node) -> &str {
    obj.get_path(&["apiVersion"])
        .and_then(Node::as_str)
        .and_then(|v| v.rsplit_once('/').map(|(g, _)| g))
        .unwrap_or("")
}

/// One step of a path into an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// `spec.template.spec`, `spec.workers[0].template.spec`.
pub fn display(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => out = crate::diag::join(&out, k),
            Seg::Index(i) => out = crate::diag::index(&out, *i),
        }
    }
    out
}

pub fn get_mut<'a>(node: &'a mut Node, path: &[Seg]) -> Option<&'a mut Node> {
    path.iter().try_fold(node, |n, seg| match seg {
        Seg::Key(k) => n.as_map_mut()?.get_mut(k),
        Seg::Index(i) => n.as_seq_mut()?.get_mut(*i),
    })
}

pub fn get<'a>(node: &'a Node, path: &[Seg]) -> Option<&'a Node> {
    path.iter().try_fold(node, |n, seg| match seg {
        Seg::Key(k) => n.as_map()?.get(k),
        Seg::Index(i) => n.as_seq()?.get(*i),
    })
}

/// Which admission rules the kind's controller puts on its pod spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// Core workloads and anything else: every pod spec field is accepted.
    Kubernetes,
    /// Knative Serving admits a pod-level `securityContext` only behind a feature flag and has
    /// no `automountServiceAccountToken`: the hardening goes on each container instead.
    Knative,
}

/// A pod spec in an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodSpecAt {
    /// From the object to the pod spec (the mapping holding `containers`).
    pub spec: Vec<Seg>,
    /// From the object to its pod template (`metadata` + this `spec`), when it has one.
    pub template: Option<Vec<Seg>>,
    pub family: Family,
}

/// Where known kinds keep their pod template (`metadata` + `spec`).
fn known_template(group: &str, kind: &str) -> Option<&'static [&'static str]> {
    Some(match (group, kind) {
        ("", "Pod") => &[],
        ("", "PodTemplate") => &["template"],
        ("serving.knative.dev", "Revision") => &[],
        ("serving.knative.dev", "Service" | "Configuration") => &["spec", "template"],
        ("batch", "CronJob") => &["spec", "jobTemplate", "spec", "template"],
        ("keda.sh", "ScaledJob") => &["spec", "jobTargetRef", "template"],
        (
            _,
            "Deployment"
            | "StatefulSet"
            | "DaemonSet"
            | "ReplicaSet"
            | "ReplicationController"
            | "Job"
            | "Rollout",
        ) => &["spec", "template"],
        _ => return None,
    })
}

fn keys(path: &[&str]) -> Vec<Seg> {
    path.iter().map(|k| Seg::Key(k.to_string())).collect()
}

/// Why an object's pod spec cannot be read: the field (from the object) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Malformed {
    pub field: String,
    pub message: String,
}

impl Malformed {
    fn new(field: impl Into<String>, message: String) -> Malformed {
        Malformed {
            field: field.into(),
            message,
        }
    }
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Every pod spec in `obj`, or why the object cannot be read as holding well-formed ones.
pub fn pod_specs(obj: &Node) -> Result<Vec<PodSpecAt>, Vec<Malformed>> {
    let kind = kind_of(obj).unwrap_or("");
    // Their data is strings only: nothing there is a pod Kubernetes would run.
    if matches!(kind, "ConfigMap" | "Secret") {
        return Ok(Vec::new());
    }
    #[cfg(feature = "mutant-skip-statefulset")]
    if kind == "StatefulSet" {
        return Ok(Vec::new());
    }
    let group = group_of(obj);
    let family = if group == "serving.knative.dev" {
        Family::Knative
    } else {
        Family::Kubernetes
    };
    let mut errors = Vec::new();
    let mut found: Vec<PodSpecAt> = known_template(group, kind)
        .and_then(|template| at_known_template(obj, &keys(template), family, &mut errors))
        .into_iter()
        .collect();
    let skipped = not_pod_specs(obj);
    let mut path = Vec::new();
    walk(obj, &mut path, &mut |at: &[Seg], node: &Node| {
        let shown = display(at);
        if found.iter().any(|f| f.spec == at) || skipped.contains(&shown) {
            return;
        }
        check_container_lists(node, &shown, false, &mut errors);
        found.push(by_shape(at, family));
    });
    if errors.is_empty() {
        Ok(found)
    } else {
        Err(errors)
    }
}

/// The paths the object's `not-pod-specs` annotation names.
fn not_pod_specs(obj: &Node) -> Vec<String> {
    obj.get_path(&["metadata", "annotations", NOT_POD_SPECS_ANNOTATION])
        .and_then(Node::as_str)
        .map(|s| s.split(',').map(|p| p.trim().to_string()).collect())
        .unwrap_or_default()
}

/// The pod spec at the place a known kind keeps its template, which must be well formed; none
/// when the template is absent or null, or its `spec` is.
fn at_known_template(
    obj: &Node,
    template: &[Seg],
    family: Family,
    errors: &mut Vec<Malformed>,
) -> Option<PodSpecAt> {
    let t = get(obj, template).filter(|t| !t.is_null())?;
    let tpath = display(template);
    let Some(t) = t.as_map() else {
        let field = if tpath.is_empty() { "(root)" } else { &tpath };
        let message = format!("the pod template must be a mapping, not {}", t.type_name());
        errors.push(Malformed::new(field, message));
        return None;
    };
    let spec = t.get("spec").filter(|s| !s.is_null())?;
    if spec.as_map().is_none() {
        let message = format!("the pod spec must be a mapping, not {}", spec.type_name());
        errors.push(Malformed::new(crate::diag::join(&tpath, "spec"), message));
        return None;
    }
    let mut spec_path = template.to_vec();
    spec_path.push(Seg::Key("spec".into()));
    check_container_lists(spec, &display(&spec_path), true, errors);
    Some(PodSpecAt {
        spec: spec_path,
        template: Some(template.to_vec()),
        family,
    })
}

/// A pod spec found by its shape: its template is the mapping holding it as `spec`, if it is.
fn by_shape(at: &[Seg], family: Family) -> PodSpecAt {
    let template = match at.last() {
        Some(Seg::Key(k)) if k == "spec" => Some(at[..at.len() - 1].to_vec()),
        _ => None,
    };
    PodSpecAt {
        spec: at.to_vec(),
        template,
        family,
    }
}

/// Calls `found` for every mapping whose `containers` is a list; does not look inside those.
fn walk(node: &Node, path: &mut Vec<Seg>, found: &mut dyn FnMut(&[Seg], &Node)) {
    match node {
        Node::Map(m) => {
            if m.get("containers").and_then(Node::as_seq).is_some() {
                found(path, node);
                return;
            }
            for (k, v) in m.iter() {
                if matches!(v, Node::Scalar(_)) {
                    continue;
                }
                path.push(Seg::Key(k.key_text()));
                walk(v, path, found);
                path.pop();
            }
        }
        Node::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                walk(item, path, found);
                path.pop();
            }
        }
        Node::Scalar(_) => {}
    }
}

/// Each container list must be a list of mappings (absent or null is fine, except `containers`
/// at a known place, which Kubernetes requires).
fn check_container_lists(spec: &Node, path: &str, known: bool, errors: &mut Vec<Malformed>) {
    for field in CONTAINER_FIELDS {
        let at = crate::diag::join(path, field);
        match spec.get_path(&[field]) {
            None => {
                if known && *field == "containers" {
                    let message = "a pod spec needs a list of containers".to_string();
                    errors.push(Malformed::new(at.clone(), message));
                }
            }
            Some(v) if v.is_null() => {}
            Some(Node::Seq(items)) => {
                for (i, c) in items.iter().enumerate() {
                    if c.as_map().is_none() {
                        errors.push(Malformed::new(
                            crate::diag::index(&at, i),
                            format!("a container must be a mapping, not {}", c.type_name()),
                        ));
                    }
                }
            }
            Some(other) => errors.push(Malformed::new(
                at,
                format!(
                    "must be a list of containers, not {} (malformed pod spec)",
                    other.type_name()
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_single;

    /// (pod spec path, template path) of each pod spec, or the errors.
    type Found = Result<Vec<(String, Option<String>)>, Vec<String>>;

    fn specs(text: &str) -> Found {
        pod_specs(&parse_single(text).unwrap())
            .map(|v| {
                v.into_iter()
                    .map(|p| (display(&p.spec), p.template.map(|t| display(&t))))
                    .collect()
            })
            .map_err(|e| e.iter().map(Malformed::to_string).collect())
    }

    fn one(spec: &str, template: &str) -> Found {
        Ok(vec![(spec.to_string(), Some(template.to_string()))])
    }

    #[test]
    fn pod_specs_by_kind_and_by_shape() {
        let c = "{containers: [{name: c}]}";
        let table: &[(String, Found)] = &[
            (format!("kind: Pod\napiVersion: v1\nspec: {c}\n"), one("spec", "")),
            (
                format!("kind: Deployment\napiVersion: apps/v1\nspec: {{template: {{spec: {c}}}}}\n"),
                one("spec.template.spec", "spec.template"),
            ),
            (
                format!("kind: CronJob\napiVersion: batch/v1\nspec: {{jobTemplate: {{spec: {{template: {{spec: {c}}}}}}}}}\n"),
                one("spec.jobTemplate.spec.template.spec", "spec.jobTemplate.spec.template"),
            ),
            (
                format!("kind: PodTemplate\napiVersion: v1\ntemplate: {{spec: {c}}}\n"),
                one("template.spec", "template"),
            ),
            (
                format!("kind: Rollout\napiVersion: argoproj.io/v1alpha1\nspec: {{template: {{spec: {c}}}}}\n"),
                one("spec.template.spec", "spec.template"),
            ),
            (
                format!("kind: ScaledJob\napiVersion: keda.sh/v1alpha1\nspec: {{jobTargetRef: {{template: {{spec: {c}}}}}}}\n"),
                one("spec.jobTargetRef.template.spec", "spec.jobTargetRef.template"),
            ),
            (
                format!("kind: Thing\napiVersion: x.io/v1\nspec: {{workers: [{{template: {{spec: {c}}}}}]}}\n"),
                one("spec.workers[0].template.spec", "spec.workers[0].template"),
            ),
            (
                format!("kind: Thing\napiVersion: x.io/v1\nspec: {{pod: {c}}}\n"),
                Ok(vec![("spec.pod".into(), None)]),
            ),
            // Data and schemas are not pods.
            ("kind: ConfigMap\napiVersion: v1\ndata: {containers: x}\n".into(), Ok(vec![])),
            (
                "kind: CustomResourceDefinition\napiVersion: apiextensions.k8s.io/v1\nspec: {properties: {containers: {type: array}}}\n".into(),
                Ok(vec![]),
            ),
            // Named as not a pod spec.
            (
                format!("kind: Thing\napiVersion: x.io/v1\nmetadata: {{annotations: {{{NOT_POD_SPECS_ANNOTATION}: spec.pod}}}}\nspec: {{pod: {c}}}\n"),
                Ok(vec![]),
            ),
            // Malformed at a known place, and by shape.
            (
                "kind: Deployment\napiVersion: apps/v1\nspec: {template: {spec: {containers: {name: c}}}}\n".into(),
                Err(vec!["spec.template.spec.containers: must be a list of containers, not a mapping (malformed pod spec)".into()]),
            ),
            (
                "kind: Deployment\napiVersion: apps/v1\nspec: {template: {spec: {initContainers: []}}}\n".into(),
                Err(vec!["spec.template.spec.containers: a pod spec needs a list of containers".into()]),
            ),
            (
                "kind: Pod\napiVersion: v1\nspec: {containers: [x], initContainers: {a: b}}\n".into(),
                Err(vec![
                    "spec.initContainers: must be a list of containers, not a mapping (malformed pod spec)".into(),
                    "spec.containers[0]: a container must be a mapping, not a string".into(),
                ]),
            ),
            (
                "kind: Job\napiVersion: batch/v1\nspec: {template: [1]}\n".into(),
                Err(vec!["spec.template: the pod template must be a mapping, not a list".into()]),
            ),
        ];
        for (text, want) in table {
            assert_eq!(&specs(text), want, "{text}");
        }
    }

    /// Each pod spec as `<spec path> <- <template path> (<family>)` (`-`: no template,
    /// `(object)`: the object is its own template), or
    /// each error as `error <field>: <message>`.
    fn found(text: &str) -> Vec<String> {
        match pod_specs(&parse_single(text).unwrap()) {
            Ok(specs) => specs
                .iter()
                .map(|p| {
                    let template = match p.template.as_deref().map(display) {
                        None => "-".to_string(),
                        Some(t) if t.is_empty() => "(object)".to_string(),
                        Some(t) => t,
                    };
                    format!("{} <- {template} ({:?})", display(&p.spec), p.family)
                })
                .collect(),
            Err(errors) => errors
                .iter()
                .map(|e| format!("error {}: {}", e.field, e.message))
                .collect(),
        }
    }

    /// (what the row shows, an object, what `pod_specs` finds).
    #[test]
    fn pod_specs_table() {
        let rows: &[(&str, &str, &[&str])] = &[
            (
                "the other workloads keep it at spec.template",
                "kind: StatefulSet\napiVersion: apps/v1\nspec: {template: {spec: {containers: [{name: c}]}}}",
                &["spec.template.spec <- spec.template (Kubernetes)"],
            ),
            (
                "a Knative Service: its template, of the Knative family",
                "kind: Service\napiVersion: serving.knative.dev/v1\nspec: {template: {spec: {containers: [{name: c}]}}}",
                &["spec.template.spec <- spec.template (Knative)"],
            ),
            (
                "a Knative Revision is its own template",
                "kind: Revision\napiVersion: serving.knative.dev/v1\nspec: {containers: [{name: c}]}",
                &["spec <- (object) (Knative)"],
            ),
            (
                "a Knative-shaped pod spec in another group is not Knative",
                "kind: Service\napiVersion: x.io/v1\nspec: {template: {spec: {containers: [{name: c}]}}}",
                &["spec.template.spec <- spec.template (Kubernetes)"],
            ),
            (
                "a core Service has no pod spec",
                "kind: Service\napiVersion: v1\nspec: {ports: [{port: 80}]}",
                &[],
            ),
            (
                "a Secret's data is not a pod",
                "kind: Secret\napiVersion: v1\nstringData: {containers: [x]}",
                &[],
            ),
            (
                "a known kind without a template, or a null one, has no pod spec",
                "kind: Deployment\napiVersion: apps/v1\nspec: {replicas: 1, template: {spec: null}}",
                &[],
            ),
            (
                "a Pod without a spec has none",
                "kind: Pod\napiVersion: v1\nmetadata: {name: p}",
                &[],
            ),
            (
                "a pod spec by shape beside a known template",
                "kind: Deployment\napiVersion: apps/v1\nspec: {template: {spec: {containers: [{name: c}]}}, debug: {containers: [{name: d}]}}",
                &[
                    "spec.template.spec <- spec.template (Kubernetes)",
                    "spec.debug <- - (Kubernetes)",
                ],
            ),
            (
                "pod specs inside a pod spec are not looked for",
                "kind: Thing\napiVersion: x.io/v1\nspec: {containers: [{name: c}], inner: {containers: [{name: d}]}}",
                &["spec <- (object) (Kubernetes)"],
            ),
            (
                "not-pod-specs: several paths, spaces trimmed",
                "kind: Thing\napiVersion: x.io/v1\nmetadata: {annotations: {locust.project-planton.org/not-pod-specs: 'spec.a , spec.b[0]'}}\nspec: {a: {containers: [x]}, b: [{containers: []}], c: {containers: []}}",
                &["spec.c <- - (Kubernetes)"],
            ),
            (
                "not-pod-specs cannot hide a known kind's template",
                "kind: Deployment\napiVersion: apps/v1\nmetadata: {annotations: {locust.project-planton.org/not-pod-specs: spec.template.spec}}\nspec: {template: {spec: {containers: [{name: c}]}}}",
                &["spec.template.spec <- spec.template (Kubernetes)"],
            ),
            (
                "a Pod's spec that is not a mapping",
                "kind: Pod\napiVersion: v1\nspec: [x]",
                &["error spec: the pod spec must be a mapping, not a list"],
            ),
            (
                "a malformed pod spec found by its shape",
                "kind: Thing\napiVersion: x.io/v1\nspec: {pod: {containers: [{name: c}, 1], ephemeralContainers: x}}",
                &[
                    "error spec.pod.containers[1]: a container must be a mapping, not an integer",
                    "error spec.pod.ephemeralContainers: must be a list of containers, not a string (malformed pod spec)",
                ],
            ),
            (
                "a field name holding `: ` stays in the field",
                "kind: Thing\napiVersion: x.io/v1\nspec: {'a: b': {containers: [1]}}",
                &[
                    "error spec[\"a: b\"].containers[0]: a container must be a mapping, not an integer",
                ],
            ),
            (
                "a known place and a shape, both malformed: every error",
                "kind: Deployment\napiVersion: apps/v1\nspec: {template: {spec: {containers: [1]}}, extra: {containers: [2]}}",
                &[
                    "error spec.template.spec.containers[0]: a container must be a mapping, not an integer",
                    "error spec.extra.containers[0]: a container must be a mapping, not an integer",
                ],
            ),
        ];
        let mut failed = Vec::new();
        for (what, input, want) in rows {
            let got = found(input);
            if got != *want {
                failed.push(format!("- {what}: {got:#?}"));
            }
        }
        assert!(failed.is_empty(), "{}", failed.join("\n"));
    }
}
