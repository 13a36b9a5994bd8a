//! Reading and validating a Project Planton `LocustKubernetes` (or `KubernetesLocust`) manifest
//! into the typed [`LoadTestSpec`] every other stage uses. All problems are collected, each with
//! its canonical field path; see docs/spec.md for the rules.

mod containers;
pub mod extensions;
pub mod image;
mod load_test;
pub mod locust_versions;
mod names;
pub mod otel;
pub mod pep508;
pub mod pip;
mod reader;
pub mod rules;
pub mod schema;
pub mod sizing;

use crate::diag::Findings;
use crate::limits::{MAX_DOCUMENT_BYTES, mib};
use crate::yaml::{Node, parse_single_with_positions};
use containers::{check_replicas, read_container};
pub use extensions::Extensions;
use load_test::read_load_test;
use reader::{Fields, expect_string, fields};

pub const API_VERSION: &str = "kubernetes.project-planton.org/v1";
/// Label that places a `LocustKubernetes` in a namespace (otherwise `metadata.name`).
pub const NAMESPACE_LABEL: &str = "kubernetes.project-planton.org/namespace";
/// Characters of content hash in derived ConfigMap names (kustomize's length).
pub const HASH_LEN: usize = 10;
/// Roles of the script ConfigMaps: `<name>-main-<hash>`, `<name>-lib-<hash>`.
pub const MAIN_ROLE: &str = "main";
pub const LIB_ROLE: &str = "lib";
/// `metadata.name` budget: the longest derived name, `<name>-main-<hash>`, must fit in 63.
pub const MAX_NAME_LEN: usize = 63 - (MAIN_ROLE.len() + HASH_LEN + 2);
/// The API server's limit on a ConfigMap's data.
pub const CONFIGMAP_LIMIT: usize = 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The original name; ingress `{enabled, dnsDomain}`, namespace from a label.
    LocustKubernetes,
    /// Upstream's name since 2025-11-14; ingress `{enabled, hostname}`, `namespace` required.
    KubernetesLocust,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resources {
    pub limits_cpu: String,
    pub limits_memory: String,
    pub requests_cpu: String,
    pub requests_memory: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Container {
    pub replicas: i64,
    pub resources: Resources,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Namespace {
    Value(String),
    /// `valueFrom`: a reference Planton resolves; this tool needs `--namespace` then.
    Reference,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadTest {
    pub name: String,
    pub main_py: String,
    /// File name → content, in document order.
    pub lib_files: Vec<(String, String)>,
    pub pip_packages: Vec<String>,
    /// Extension: distributions whose installed version does not constrain `pip_packages`
    /// (`spec::pip`), as written.
    pub lift_pins: Vec<String>,
    /// Extension: the target URL (`LOCUST_HOST`).
    pub host: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LoadTestSpec {
    pub kind: Kind,
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub namespace: Namespace,
    pub create_namespace: bool,
    pub master: Container,
    pub worker: Container,
    /// The ingress host when ingress is enabled (`hostname`, or `<name>.<dnsDomain>`).
    pub ingress_host: Option<String>,
    pub load_test: LoadTest,
    /// Dotted chart-value paths → values as written, in document order.
    pub helm_values: Vec<(String, String)>,
    /// Fields beyond the Planton API (docs/spec.md "Extension fields").
    pub extensions: Extensions,
}

/// Reads a manifest. `Err` carries every error (and warnings); `Ok` carries warnings.
pub fn read(text: &str) -> Result<(LoadTestSpec, Findings), Findings> {
    let mut d = Findings::default();
    if text.len() > MAX_DOCUMENT_BYTES {
        d.error(
            "",
            format!(
                "the manifest is {}; a manifest may be at most {} (docs/limits.md)",
                mib(text.len()),
                mib(MAX_DOCUMENT_BYTES)
            ),
        );
        return Err(d);
    }
    let (root, positions) = match parse_single_with_positions(text) {
        Ok(read) => read,
        Err(e) => {
            d.syntax_error(e.line, e.column, e.message);
            return Err(d);
        }
    };
    // Go keeps the last of a key written twice, silently; in a spec that is always a mistake.
    for (path, first, again) in &positions.duplicates {
        d.error(
            path.as_str(),
            format!(
                "duplicate key: written at line {} and again at line {} (Kubernetes' reader would silently keep the last)",
                first.0, again.0
            ),
        );
        if let Some(f) = d.items.last_mut() {
            f.position = Some(*again);
        }
    }
    let spec = read_root(&root, &mut d);
    // The image (several fields decide it) and what its Locust accepts: spec findings.
    if let Some(spec) = &spec {
        locust_versions::check(spec, &mut d);
    }
    // Placed now, from the parse already made: callers re-read the text only for findings
    // that later stages add.
    d.locate(|path| positions.find(path));
    match spec {
        Some(spec) if !d.has_errors() => Ok((spec, d)),
        _ => Err(d),
    }
}

fn read_root(root: &Node, d: &mut Findings) -> Option<LoadTestSpec> {
    let top = fields(
        root,
        "",
        &["apiVersion", "kind", "metadata", "spec", "status"],
        &[],
        d,
    )?;
    check_api_version(&top, d);
    let kind = read_kind(&top, d);
    let metadata = match top.node("metadata") {
        Some(m) => read_metadata(m, d),
        None => {
            d.error("metadata", "required (at least `metadata.name`)");
            None
        }
    };
    let Some(spec_node) = top.node("spec") else {
        d.error("spec", "required");
        return None;
    };
    let kind = kind?;
    let spec = read_spec(spec_node, kind, d);
    let (name, labels) = metadata?;
    let mut spec = spec?;
    if kind == Kind::LocustKubernetes {
        derive_from_metadata(&mut spec, &name, &labels, d);
    }
    Some(LoadTestSpec {
        kind,
        name,
        labels,
        ..spec
    })
}

fn check_api_version(top: &Fields, d: &mut Findings) {
    match top.string("apiVersion", d) {
        Some(v) if v == API_VERSION => {}
        Some(v) => d.error("apiVersion", format!("must be `{API_VERSION}`, got `{v}`")),
        None if top.node("apiVersion").is_none() => {
            d.error("apiVersion", format!("required (`{API_VERSION}`)"))
        }
        None => {}
    }
}

fn read_kind(top: &Fields, d: &mut Findings) -> Option<Kind> {
    let Some(k) = top.string("kind", d) else {
        if top.node("kind").is_none() {
            d.error(
                "kind",
                "required (`LocustKubernetes` or `KubernetesLocust`)",
            );
        }
        return None;
    };
    let folded: String = k
        .chars()
        .filter(|c| *c != '-' && *c != '_')
        .collect::<String>()
        .to_lowercase();
    match folded.as_str() {
        "locustkubernetes" => Some(Kind::LocustKubernetes),
        "kuberneteslocust" => Some(Kind::KubernetesLocust),
        _ => {
            d.error(
                "kind",
                format!("must be `LocustKubernetes` or `KubernetesLocust`, got `{k}`"),
            );
            None
        }
    }
}

/// A `LocustKubernetes` has no namespace field and gives only the ingress domain: both come
/// from its metadata (the namespace label, else the name; the host `<name>.<dnsDomain>`).
fn derive_from_metadata(
    spec: &mut LoadTestSpec,
    name: &str,
    labels: &[(String, String)],
    d: &mut Findings,
) {
    let label = labels
        .iter()
        .find(|(k, _)| k == NAMESPACE_LABEL)
        .map(|(_, v)| v.clone());
    if let Some(Err(e)) = label.as_deref().map(rules::dns_label) {
        d.error(
            format!("metadata.labels[\"{NAMESPACE_LABEL}\"]"),
            format!("namespace {e}"),
        );
    }
    spec.namespace = Namespace::Value(label.unwrap_or_else(|| name.to_string()));
    if let Some(suffix) = &spec.ingress_host {
        spec.ingress_host = Some(format!("{name}.{suffix}"));
    }
}

fn read_metadata(node: &Node, d: &mut Findings) -> Option<(String, Vec<(String, String)>)> {
    let m = fields(
        node,
        "metadata",
        &[
            "name",
            "slug",
            "id",
            "org",
            "env",
            "labels",
            "annotations",
            "tags",
            "version",
            "relationships",
        ],
        &[],
        d,
    )?;
    for f in ["slug", "id", "org", "env"] {
        m.string(f, d);
    }
    m.string_map("annotations", d);
    m.string_list("tags", d);
    let labels = m.string_map("labels", d);
    let name = match m.string("name", d) {
        Some(name) => {
            if let Err(e) = rules::dns_label(&name) {
                d.error("metadata.name", e);
            } else if name.len() > MAX_NAME_LEN {
                d.error(
                    "metadata.name",
                    format!(
                        "must be at most {MAX_NAME_LEN} characters, is {}: derived names such as `<name>-{MAIN_ROLE}-<{HASH_LEN}-character hash>` must stay within 63",
                        name.len()
                    ),
                );
            }
            name
        }
        None => {
            if m.node("name").is_none() {
                d.error("metadata.name", "required");
            }
            return None;
        }
    };
    Some((name, labels))
}

const SPEC_COMMON: &[&str] = &[
    "masterContainer",
    "workerContainer",
    "ingress",
    "loadTest",
    "helmValues",
    "metrics",
    "networkPolicy",
];
const SPEC_KUBERNETES_LOCUST: &[&str] = &[
    "masterContainer",
    "workerContainer",
    "ingress",
    "loadTest",
    "helmValues",
    "targetCluster",
    "namespace",
    "createNamespace",
    "metrics",
    "networkPolicy",
];

fn read_spec(node: &Node, kind: Kind, d: &mut Findings) -> Option<LoadTestSpec> {
    let (known, hints) = spec_fields(kind);
    let s = fields(node, "spec", known, hints, d)?;
    let (master, _) = read_container(s.node("masterContainer"), "spec.masterContainer", false, d);
    let (worker, spot) = read_container(s.node("workerContainer"), "spec.workerContainer", true, d);
    check_replicas(&master, &worker, d);
    let ingress_host = s.node("ingress").and_then(|n| read_ingress(n, kind, d));
    let (load_test, lt_ext) = match s.node("loadTest") {
        Some(n) => read_load_test(n, d).map_or((None, Default::default()), |(l, e)| (Some(l), e)),
        None => {
            d.error(
                "spec.loadTest",
                "required (`name` and `mainPyContent` at least)",
            );
            (None, Default::default())
        }
    };
    let extensions = read_extensions(&s, lt_ext, spot, d);
    sizing::warn(&master, &worker, &extensions, d);
    let helm_values = read_helm_values(&s, d);
    let (namespace, create_namespace) = match kind {
        Kind::KubernetesLocust => read_namespace(&s, d),
        Kind::LocustKubernetes => (Namespace::Reference, false),
    };
    read_target_cluster(&s, d);
    Some(LoadTestSpec {
        kind,
        name: String::new(),
        labels: Vec::new(),
        namespace,
        create_namespace,
        master,
        worker,
        ingress_host,
        load_test: load_test?,
        helm_values,
        extensions,
    })
}

/// The fields a kind's spec knows, and hints for those only the other kind has.
fn spec_fields(
    kind: Kind,
) -> (
    &'static [&'static str],
    &'static [(&'static str, &'static str)],
) {
    match kind {
        Kind::LocustKubernetes => (
            SPEC_COMMON,
            &[
                (
                    "namespace",
                    "LocustKubernetes takes its namespace from the label `kubernetes.project-planton.org/namespace` (kind KubernetesLocust has `spec.namespace`)",
                ),
                (
                    "createNamespace",
                    "only kind KubernetesLocust has `createNamespace`",
                ),
                (
                    "targetCluster",
                    "only kind KubernetesLocust has `targetCluster`",
                ),
            ],
        ),
        Kind::KubernetesLocust => (SPEC_KUBERNETES_LOCUST, &[]),
    }
}

/// The extension fields read beside the Planton API ones: `run`, `locustVersion` and
/// `openTelemetry` come from `loadTest` and `spot` from `workerContainer`, already read;
/// metrics and NetworkPolicies here.
fn read_extensions(
    s: &Fields,
    lt: extensions::LoadTestExtensions,
    spot: Option<extensions::Spot>,
    d: &mut Findings,
) -> Extensions {
    let prometheus = s
        .node("metrics")
        .is_some_and(|n| extensions::read_metrics(n, d));
    let network_policy = s
        .node("networkPolicy")
        .and_then(|n| extensions::read_network_policy(n, d));
    Extensions {
        run: lt.run,
        locust_version: lt.locust_version,
        open_telemetry: lt.open_telemetry,
        prometheus,
        network_policy,
        spot,
    }
}

/// Accepted and type-checked, not used.
fn read_target_cluster(s: &Fields, d: &mut Findings) {
    if let Some(tc) = s.node("targetCluster")
        && let Some(f) = fields(
            tc,
            "spec.targetCluster",
            &["clusterKind", "clusterName"],
            &[],
            d,
        )
    {
        f.string("clusterName", d);
        if let Some(k) = f.node("clusterKind")
            && k.as_str().is_none()
            && k.as_i64().is_none()
        {
            d.error(
                f.path("clusterKind"),
                "must be a cluster kind name or number",
            );
        }
    }
}

fn read_ingress(node: &Node, kind: Kind, d: &mut Findings) -> Option<String> {
    let (host_field, other) = match kind {
        Kind::LocustKubernetes => ("dnsDomain", "hostname"),
        Kind::KubernetesLocust => ("hostname", "dnsDomain"),
    };
    let hint = format!("kind {kind:?} uses `{host_field}` (`{other}` belongs to the other kind)");
    let f = fields(
        node,
        "spec.ingress",
        &["enabled", host_field],
        &[(other, hint.as_str())],
        d,
    )?;
    let enabled = f.bool("enabled", d).unwrap_or(false);
    let host = f.string(host_field, d).filter(|h| !h.is_empty());
    match (enabled, host) {
        (true, None) => {
            d.error(f.path(host_field), "required when ingress is enabled");
            None
        }
        (true, Some(h)) => match rules::dns_subdomain(&h) {
            Ok(()) => Some(h),
            Err(e) => {
                d.error(f.path(host_field), e);
                None
            }
        },
        (false, _) => None,
    }
}

fn read_helm_values(s: &Fields, d: &mut Findings) -> Vec<(String, String)> {
    let Some(node) = s.node("helmValues") else {
        return Vec::new();
    };
    let path = s.path("helmValues");
    let Some(map) = node.as_map() else {
        d.error(
            &path,
            format!(
                "must be a mapping of dotted paths to strings, got {}",
                node.type_name()
            ),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, v) in map.iter() {
        let key = k.key_text();
        let p = crate::diag::join(&path, &key);
        if key.is_empty() || key.split('.').any(str::is_empty) || key.contains(char::is_whitespace)
        {
            d.error(&p, "keys are dotted value paths such as `worker.hpa.enabled`, with no empty parts or spaces");
            continue;
        }
        if let Some(value) = expect_string(v, &p, &key, d) {
            out.push((key, value));
        }
    }
    out
}

fn read_namespace(s: &Fields, d: &mut Findings) -> (Namespace, bool) {
    let create = s.bool("createNamespace", d).unwrap_or(false);
    let Some(node) = s.node("namespace") else {
        d.error(
            s.path("namespace"),
            "required for kind KubernetesLocust (`namespace: {value: my-namespace}`)",
        );
        return (Namespace::Reference, create);
    };
    let path = s.path("namespace");
    if node.as_str().is_some() {
        d.error(
            &path,
            "must be a mapping: `namespace: {value: my-namespace}` (or `valueFrom`)",
        );
        return (Namespace::Reference, create);
    }
    let Some(f) = fields(node, &path, &["value", "valueFrom"], &[], d) else {
        return (Namespace::Reference, create);
    };
    match (f.string("value", d), f.node("valueFrom")) {
        (Some(_), Some(_)) => d.error(&path, "give either `value` or `valueFrom`, not both"),
        (Some(v), None) => {
            if let Err(e) = rules::dns_label(&v) {
                d.error(f.path("value"), e);
            }
            return (Namespace::Value(v), create);
        }
        (None, Some(vf)) => {
            if let Some(r) = fields(
                vf,
                &f.path("valueFrom"),
                &["kind", "env", "name", "fieldPath"],
                &[],
                d,
            ) {
                for k in ["env", "name", "fieldPath"] {
                    r.string(k, d);
                }
            }
        }
        (None, None) => d.error(&path, "required: `value` or `valueFrom`"),
    }
    (Namespace::Reference, create)
}

impl LoadTestSpec {
    /// The namespace to deploy into, when the manifest names one.
    pub fn namespace_value(&self) -> Option<&str> {
        match &self.namespace {
            Namespace::Value(v) => Some(v),
            Namespace::Reference => None,
        }
    }
}
