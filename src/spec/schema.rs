//! The manifest as a JSON Schema (draft 2020-12), for editors (`# yaml-language-server: $schema=…`)
//! and other tools: `locust-planton schema`, committed as `schema/locust-kubernetes.schema.json`.
//!
//! It states what the reader (`spec::read`) checks field by field: both kinds, both spellings
//! of every field (one at a time), types, patterns, ranges, required fields, unknown fields
//! rejected, and the cross-field rules a schema can say (`if`/`then`). What it cannot say is
//! listed in [`NOT_EXPRESSIBLE`] and in docs/spec.md "Schema". The patterns are built from the same
//! constants the reader uses ([`super::MAX_NAME_LEN`], [`super::API_VERSION`], …), and
//! `tests/schema.rs` probes the reader with an unknown field in every object of this schema and
//! compares the reader's list of known fields with the schema's, so neither can gain or lose a
//! field alone.

use super::{API_VERSION, CONFIGMAP_LIMIT, MAX_NAME_LEN, NAMESPACE_LABEL};
use serde_json::{Map, Value, json};

mod otel;
mod run;

/// File name of the committed schema, under `schema/`.
pub const FILE_NAME: &str = "locust-kubernetes.schema.json";

/// Reader rules a JSON Schema cannot state, with the reason (docs/spec.md "Schema").
pub const NOT_EXPRESSIBLE: &[(&str, &str)] = &[
    (
        "requests ≤ limits",
        "compares two quantities with units (`500m` vs `2`); a schema compares no two fields",
    ),
    (
        "pip packages listed twice",
        "duplicates after PEP 503 name normalisation (`Requests` = `requests`); `uniqueItems` only sees identical strings",
    ),
    (
        "sizes in bytes",
        "`mainPyContent` and the lib files together are limited in UTF-8 bytes (1 MiB per ConfigMap); `maxLength` counts characters",
    ),
    (
        "YAML syntax",
        "a document that does not parse never reaches a schema",
    ),
    (
        "duplicate keys",
        "a schema judges the decoded object, in which a key written twice is already one key (the last)",
    ),
    (
        "what the post-renderer would refuse",
        "`helmValues` are strings of YAML set into the chart's values; whether the pods they shape pass the post-renderer, and whether a value the chart writes unquoted reads back as itself, is decided on the synthesized values",
    ),
    (
        "what the chosen Locust release accepts",
        "the release is decided by several fields (`locustVersion`, else an image tag in a `helmValues` string, else the chart's), and an option such as `--otel` (`openTelemetry`) depends on it",
    ),
    (
        "PEP 508 markers: balanced parentheses",
        "the pattern checks the marker's words, operators and strings, not that parentheses balance",
    ),
];

// Patterns shared with the reader's rules (src/spec/rules.rs); kept in one place here.
const DNS_LABEL: &str = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
const DNS_SUBDOMAIN: &str = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
const LABEL_VALUE: &str = "^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$";
const QUANTITY: &str = "^\\+?([0-9]+\\.?[0-9]*|\\.[0-9]+)([numkMGTPE]|[KMGTPE]i|[eE][-+]?[0-9]+)?$";
const HTTP_URL: &str = "^https?://[^/\\s\\x00-\\x1f\\x7f][^\\s\\x00-\\x1f\\x7f]*$";
/// Locust's `--run-time`: hours, minutes, seconds, in that order, each at most once
/// (`super::duration`).
const DURATION: &str = "^([0-9]+h)?([0-9]+m)?([0-9]+s)?$";
/// Flat file names, not `.`, `..` or starting with `..`.
const FILE_NAME_KEY: &str = "^\\.?[-_a-zA-Z0-9][-._a-zA-Z0-9]*$";
/// A distribution name (`spec::pip::valid_name`).
const DIST_NAME: &str = "^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$";
const HELM_VALUE_PATH: &str = "^[^.\\s]+(\\.[^.\\s]+)*$";
const TAG: &str = "^[^-\\s]\\S*$";
const CIDR: &str = "^((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])/(3[0-2]|[12]?[0-9])$|^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*/(12[0-8]|1[01][0-9]|[1-9]?[0-9])$";

/// A PEP 508 requirement in the reader's dialect (src/spec/pep508.rs): no pip options, no shell
/// characters, marker strings of letters, digits, space and `. _ - + * !`.
fn pep508_pattern() -> String {
    let ws = "[ \\t]*";
    let name = "[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?";
    let extras = format!("\\[{ws}({name}({ws},{ws}{name})*)?{ws}\\]");
    let op = "(===|~=|==|!=|<=|>=|<|>)";
    let one = format!("{op}{ws}[A-Za-z0-9_.*+!-]+");
    let many = format!("{one}({ws},{ws}{one})*");
    let versions = format!("(\\({ws}{many}{ws}\\)|{many})");
    let url = "[A-Za-z0-9+.-]+://[-A-Za-z0-9._~:/?#\\[\\]@!%+,=*]+";
    let vars = super::pep508::MARKER_VARS.join("|");
    let string = "(\"[A-Za-z0-9 ._+*!-]*\"|'[A-Za-z0-9 ._+*!-]*')";
    let value = format!("({vars}|{string})");
    let mop = format!("({op}|in|not[ \\t]+in)");
    let expr = format!("[( \\t]*{value}{ws}{mop}{ws}{value}[) \\t]*");
    let marker = format!("{expr}((and|or)[ \\t(]{expr})*");
    format!(
        "^{ws}{name}{ws}({extras}{ws})?(@{ws}{url}([ \\t]+;{ws}{marker})?|({versions})?{ws}(;{ws}{marker})?){ws}$"
    )
}

/// `LocustKubernetes` as the reader matches kinds: any case, `-` and `_` anywhere.
fn kind_pattern(kind: &str) -> String {
    let mut p = String::from("^[-_]*");
    for c in kind.chars() {
        p.push_str(&format!(
            "[{}{}][-_]*",
            c.to_ascii_lowercase(),
            c.to_ascii_uppercase()
        ));
    }
    p.push('$');
    p
}

/// `mainPyContent` → `main_py_content`: the other spelling protobuf JSON accepts.
pub fn camel_to_snake(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// One field of an object: canonical (lowerCamelCase) name, schema, required, description.
struct Field {
    name: &'static str,
    schema: Value,
    required: bool,
    description: &'static str,
}

fn field(name: &'static str, description: &'static str, schema: Value) -> Field {
    Field {
        name,
        schema,
        required: false,
        description,
    }
}

fn required(name: &'static str, description: &'static str, schema: Value) -> Field {
    Field {
        required: true,
        ..field(name, description, schema)
    }
}

/// An optional field may also be null: protobuf JSON reads null as "not set", and so does the
/// reader (an empty `libFilesContent:` is no lib files). Objects (`$defs` included) allow null
/// themselves, so no `anyOf` wraps a field and editors report errors at the field at fault.
fn or_null(schema: Value) -> Value {
    let mut s = schema;
    match s.get("type").cloned() {
        Some(Value::String(t)) => s["type"] = json!([t, "null"]),
        Some(Value::Array(mut ts)) => {
            if !ts.contains(&json!("null")) {
                ts.push(json!("null"));
            }
            s["type"] = Value::Array(ts);
        }
        // A `$ref` to an object, which allows null already; `{}` allows anything.
        _ => {}
    }
    s
}

/// A required field is never null (the reader reports a null required field as missing).
fn not_null(schema: Value) -> Value {
    let mut s = schema;
    match s.get("type").cloned() {
        Some(Value::Array(ts)) => {
            let kept: Vec<Value> = ts.into_iter().filter(|t| t != "null").collect();
            s["type"] = if kept.len() == 1 {
                kept[0].clone()
            } else {
                Value::Array(kept)
            };
        }
        Some(_) => {}
        None if s.get("$ref").is_some() => s["type"] = json!("object"),
        None => {}
    }
    s
}

/// A mapping of known fields: each under both spellings, at most one of them, unknown fields
/// rejected; `extra` adds keywords (`if`/`then` rules).
fn object(description: &str, fields: Vec<Field>, extra: Vec<Value>) -> Value {
    let mut properties = Map::new();
    let mut all_of = extra;
    for f in fields {
        let snake = camel_to_snake(f.name);
        let mut s = if f.required {
            not_null(f.schema)
        } else {
            or_null(f.schema)
        };
        if let Value::Object(m) = &mut s {
            m.insert("description".into(), json!(f.description));
        }
        properties.insert(f.name.into(), s.clone());
        if snake != f.name {
            properties.insert(snake.clone(), s);
            // `type` keeps a null mapping (no fields at all) from failing the `not`.
            all_of.push(json!({"not": {"type": "object", "required": [f.name, snake]}}));
            if f.required {
                all_of.push(json!({"anyOf": [{"required": [f.name]}, {"required": [snake]}]}));
            }
        } else if f.required {
            all_of.push(json!({"required": [f.name]}));
        }
    }
    let mut o = json!({
        "type": ["object", "null"],
        "description": description,
        "properties": properties,
        "additionalProperties": false,
    });
    if !all_of.is_empty() {
        o["allOf"] = Value::Array(all_of);
    }
    o
}

/// `{"properties": {f: s}}` for each spelling of `f`: for use in `if`/`then`.
fn either_spelling(name: &str, schema: Value) -> Value {
    let snake = camel_to_snake(name);
    json!({"properties": {name: schema.clone(), snake: schema}})
}

/// Given, in either spelling, and not null (the reader reads a null field as absent).
fn present(name: &str) -> Value {
    let given = |n: &str| json!({"required": [n], "properties": {n: {"not": {"type": "null"}}}});
    let snake = camel_to_snake(name);
    if snake == name {
        given(name)
    } else {
        json!({"anyOf": [given(name), given(&snake)]})
    }
}

fn reference(def: &str) -> Value {
    json!({ "$ref": format!("#/$defs/{def}") })
}

fn string() -> Value {
    json!({"type": "string"})
}

fn pattern(p: &str) -> Value {
    json!({"type": "string", "pattern": p})
}

/// An integer, also accepted as a decimal string (protobuf JSON); `string_pattern` bounds the
/// string form as `minimum`/`maximum` bound the number.
fn integer(minimum: i64, maximum: Option<i64>, string_pattern: &str) -> Value {
    let mut s =
        json!({"type": ["integer", "string"], "minimum": minimum, "pattern": string_pattern});
    if let Some(m) = maximum {
        s["maximum"] = json!(m);
    }
    s
}

fn boolean() -> Value {
    json!({"type": "boolean"})
}

fn string_map(key_pattern: Option<&str>) -> Value {
    let mut s = json!({"type": "object", "additionalProperties": {"type": ["string", "null"]}});
    if let Some(p) = key_pattern {
        s["propertyNames"] = json!({"pattern": p});
    }
    s
}

fn string_list(item: Value) -> Value {
    json!({"type": "array", "items": item})
}

fn resource_list(which: &'static str) -> Value {
    let (cpu, memory): (&'static str, &'static str) = if which == "limits" {
        (
            "CPU limit, a Kubernetes quantity written as a string (`1000m`, `\"2\"`) [default: 1000m]",
            "memory limit, a Kubernetes quantity (`1Gi`) [default: 1Gi]",
        )
    } else {
        (
            "CPU request, a Kubernetes quantity written as a string (`50m`) [default: 50m]; at most the limit",
            "memory request, a Kubernetes quantity (`100Mi`) [default: 100Mi]; at most the limit",
        )
    };
    object(
        "cpu and memory (only these two are part of the Planton API)",
        vec![
            field("cpu", cpu, pattern(QUANTITY)),
            field("memory", memory, pattern(QUANTITY)),
        ],
        vec![],
    )
}

fn container(master: bool) -> Value {
    let replicas = if master {
        field(
            "replicas",
            "0 or 1 [default: 1]; 0 parks the test (a warning)",
            integer(0, Some(1), "^\\+?0*[01]$"),
        )
    } else {
        field(
            "replicas",
            "worker pods, 0 or more [default: 1]",
            integer(0, None, "^\\+?[0-9]+$"),
        )
    };
    let mut fields = vec![
        replicas,
        field(
            "resources",
            "limits and requests [defaults: limits 1000m/1Gi, requests 50m/100Mi]",
            reference("resources"),
        ),
    ];
    if !master {
        fields.push(field(
            "spot",
            "extension: workers on spot nodes (the master stays on regular nodes)",
            reference("spot"),
        ));
    }
    object(
        if master {
            "the Locust master"
        } else {
            "the Locust workers"
        },
        fields,
        vec![],
    )
}

fn ingress(host_field: &'static str, description: &'static str) -> Value {
    object(
        "web UI ingress",
        vec![
            field("enabled", "expose the web UI [default: false]", boolean()),
            field(host_field, description, pattern(DNS_SUBDOMAIN)),
        ],
        vec![json!({
            "if": {"properties": {"enabled": {"const": true}}, "required": ["enabled"]},
            "then": {"allOf": [
                present(host_field),
                either_spelling(host_field, json!({"type": "string", "minLength": 1})),
            ]},
        })],
    )
}

fn spec(kind_specific: Vec<Field>, ingress_def: &str) -> Value {
    let mut fields = vec![
        field(
            "masterContainer",
            "the master: replicas and resources",
            reference("masterContainer"),
        ),
        field(
            "workerContainer",
            "the workers: replicas, resources (and the `spot` extension)",
            reference("workerContainer"),
        ),
        field("ingress", "web UI ingress", reference(ingress_def)),
        required(
            "loadTest",
            "the test: name, locustfile, lib files, pip packages",
            reference("loadTest"),
        ),
        field(
            "helmValues",
            "chart values on dotted paths (`worker.hpa.enabled: \"true\"`), each value a string read as YAML, merged last",
            reference("helmValues"),
        ),
        field(
            "metrics",
            "extension: Prometheus metrics for the web UI's statistics",
            reference("metrics"),
        ),
        field(
            "networkPolicy",
            "extension: NetworkPolicies fencing master and workers",
            reference("networkPolicy"),
        ),
    ];
    fields.extend(kind_specific);
    object("the load test and how it is deployed", fields, vec![])
}

fn defs() -> Map<String, Value> {
    [
        ("metadata", metadata()),
        ("resources", resources()),
        ("masterContainer", container(true)),
        ("workerContainer", container(false)),
        ("spot", spot()),
        (
            "ingressLocustKubernetes",
            ingress(
                "dnsDomain",
                "DNS domain; the host is `<metadata.name>.<dnsDomain>`; required when enabled",
            ),
        ),
        (
            "ingressKubernetesLocust",
            ingress("hostname", "the host name; required when enabled"),
        ),
        ("loadTest", load_test()),
        ("run", run::run()),
        ("openTelemetry", otel::open_telemetry()),
        ("thresholds", run::thresholds()),
        ("baseline", run::baseline()),
        ("helmValues", helm_values()),
        ("metrics", metrics()),
        ("networkPolicy", network_policy()),
        ("namespace", namespace()),
        ("targetCluster", target_cluster()),
        (
            "specLocustKubernetes",
            spec(vec![], "ingressLocustKubernetes"),
        ),
        (
            "specKubernetesLocust",
            spec(kubernetes_locust_fields(), "ingressKubernetesLocust"),
        ),
    ]
    .into_iter()
    .map(|(name, schema)| (name.to_string(), schema))
    .collect()
}

fn metadata() -> Value {
    object(
        "the resource's metadata",
        vec![
            required(
                "name",
                "the release and object names: a DNS-1123 label of at most 47 characters, so `<name>-main-<10-character hash>` fits in 63",
                json!({"type": "string", "pattern": DNS_LABEL, "maxLength": MAX_NAME_LEN}),
            ),
            field("slug", "accepted (Planton metadata)", string()),
            field("id", "accepted (Planton metadata)", string()),
            field("org", "accepted (Planton metadata)", string()),
            field("env", "accepted (Planton metadata)", string()),
            field(
                "labels",
                "labels; `kubernetes.project-planton.org/namespace` is the namespace of a LocustKubernetes [default: metadata.name]",
                string_map(None),
            ),
            field("annotations", "annotations", string_map(None)),
            field("tags", "tags", string_list(string())),
            field(
                "version",
                "accepted (Planton metadata), not read",
                json!({}),
            ),
            field(
                "relationships",
                "accepted (Planton metadata), not read",
                json!({}),
            ),
        ],
        vec![],
    )
}

fn resources() -> Value {
    object(
        "resource limits and requests",
        vec![
            field(
                "limits",
                "limits [default: cpu 1000m, memory 1Gi]",
                resource_list("limits"),
            ),
            field(
                "requests",
                "requests [default: cpu 50m, memory 100Mi]; each at most its limit",
                resource_list("requests"),
            ),
        ],
        vec![],
    )
}

fn spot() -> Value {
    object(
        "extension: run workers on spot nodes (node affinity and toleration)",
        vec![
            required(
                "provider",
                "`gke`, `eks`, `aks`, or `generic` (then `key` and `value`)",
                json!({"type": "string", "enum": ["gke", "eks", "aks", "generic"]}),
            ),
            field(
                "key",
                "provider `generic`: the node label (and taint) key of spot nodes",
                string(),
            ),
            field(
                "value",
                "provider `generic`: the node label (and taint) value of spot nodes",
                string(),
            ),
        ],
        vec![json!({
            "if": {"properties": {"provider": {"const": "generic"}}, "required": ["provider"]},
            "then": {"properties": {"key": {"type": "string", "minLength": 1}, "value": {"type": "string", "minLength": 1}}, "required": ["key", "value"]},
            "else": {"properties": {"key": {"type": "null"}, "value": {"type": "null"}}},
        })],
    )
}

fn load_test() -> Value {
    object(
        "the load test",
        vec![
            required(
                "name",
                "the test's name: a label value (it is in the Deployments' selectors, immutable after install)",
                json!({"type": "string", "minLength": 1, "maxLength": 63, "pattern": LABEL_VALUE}),
            ),
            required(
                "mainPyContent",
                "the locustfile (main.py): not empty, at most 1 MiB (a ConfigMap's limit)",
                json!({"type": "string", "pattern": "\\S", "maxLength": CONFIGMAP_LIMIT}),
            ),
            field(
                "libFilesContent",
                "lib files, file name → content, importable as `lib.<module>`; flat names of letters, digits, `-`, `_`, `.`; at most 1 MiB together",
                string_map(Some(FILE_NAME_KEY)),
            ),
            field(
                "pipPackages",
                "PEP 508 requirements (`faker==19.0.0`), each installed as its own pip argument; no pip options, shell syntax or duplicates; pin them (`==`)",
                json!({"type": "array", "uniqueItems": true, "items": {"type": "string", "pattern": pep508_pattern()}}),
            ),
            field(
                "pipLiftPins",
                "extension: distributions (names, no versions) whose version installed in the image does not constrain `pipPackages`, for a deliberate upgrade of one of Locust's dependencies (a security fix); `check` warns for each",
                json!({"type": "array", "uniqueItems": true, "items": {"type": "string", "pattern": DIST_NAME}}),
            ),
            field(
                "host",
                "extension: the target URL (`LOCUST_HOST`), http:// or https://; without it the web UI asks",
                pattern(HTTP_URL),
            ),
            field(
                "locustVersion",
                "extension: the Locust release every Locust container and pip install uses (`X.Y.Z`); wins over `helmValues` image tags",
                json!({"type": "string", "pattern": "^(0|[1-9][0-9]{0,5})\\.(0|[1-9][0-9]{0,5})\\.(0|[1-9][0-9]{0,5})$"}),
            ),
            field(
                "run",
                "extension: a run that ends and judges itself (`locust-planton wait`)",
                reference("run"),
            ),
            field(
                "openTelemetry",
                "extension: OpenTelemetry export to an OTLP endpoint (Locust 2.42.4 and newer)",
                reference("openTelemetry"),
            ),
        ],
        vec![],
    )
}

fn helm_values() -> Value {
    json!({
        "type": ["object", "null"],
        "description": "dotted chart-value paths → values written as strings",
        "propertyNames": {"pattern": HELM_VALUE_PATH},
        "additionalProperties": {"type": "string"},
    })
}

fn metrics() -> Value {
    object(
        "extension: metrics",
        vec![field(
            "prometheus",
            "a Locust exporter, its Service and a ServiceMonitor",
            object(
                "Prometheus",
                vec![field(
                    "enabled",
                    "deploy the exporter (with `loadTest.run`, the run keeps its web UI on for it)",
                    boolean(),
                )],
                vec![],
            ),
        )],
        vec![],
    )
}

fn network_policy() -> Value {
    object(
        "extension: NetworkPolicies for master and workers",
        vec![
            field("enabled", "create the NetworkPolicies", boolean()),
            field(
                "webUiFromNamespaces",
                "namespaces whose pods may open the web UI (8089) [default: this namespace only]",
                string_list(pattern(DNS_LABEL)),
            ),
            field(
                "targetCidrs",
                "where workers may send load, as CIDRs [default: anywhere]",
                string_list(pattern(CIDR)),
            ),
        ],
        vec![],
    )
}

fn namespace() -> Value {
    object(
        "the namespace: `value`, or `valueFrom` (resolved by Planton; this tool then needs `--namespace`)",
        vec![
            field(
                "value",
                "the namespace, a DNS-1123 label",
                pattern(DNS_LABEL),
            ),
            field(
                "valueFrom",
                "a reference Planton resolves",
                object(
                    "a reference to another resource's field",
                    vec![
                        field("kind", "the referenced resource's kind", json!({})),
                        field("env", "the referenced resource's environment", string()),
                        field("name", "the referenced resource's name", string()),
                        field("fieldPath", "the field holding the namespace", string()),
                    ],
                    vec![],
                ),
            ),
        ],
        vec![json!({"oneOf": [present("value"), present("valueFrom")]})],
    )
}

fn target_cluster() -> Value {
    object(
        "the cluster Planton deploys to (accepted)",
        vec![
            field(
                "clusterKind",
                "a cluster kind name or number",
                json!({"type": ["string", "integer"]}),
            ),
            field("clusterName", "the cluster's name", string()),
        ],
        vec![],
    )
}

/// The fields only a `KubernetesLocust` spec has.
fn kubernetes_locust_fields() -> Vec<Field> {
    vec![
        required(
            "namespace",
            "the namespace: `{value: my-namespace}` or `{valueFrom: …}`",
            reference("namespace"),
        ),
        field(
            "createNamespace",
            "create the namespace [default: false]",
            boolean(),
        ),
        field(
            "targetCluster",
            "the cluster Planton deploys to (accepted, not used)",
            reference("targetCluster"),
        ),
    ]
}

/// The schema as a JSON value.
pub fn json() -> Value {
    let lk = kind_pattern("LocustKubernetes");
    let kl = kind_pattern("KubernetesLocust");
    let top = object(
        "A Project Planton LocustKubernetes (or KubernetesLocust) manifest, as locust-planton reads it",
        vec![
            required(
                "apiVersion",
                "the API version",
                json!({"type": "string", "const": API_VERSION}),
            ),
            required(
                "kind",
                "`LocustKubernetes` (namespace from a label, ingress `dnsDomain`) or `KubernetesLocust` (upstream's name since 2025-11-14: `spec.namespace`, ingress `hostname`); any case, `-` and `_` ignored",
                json!({"type": "string", "anyOf": [
                    {"enum": ["LocustKubernetes", "KubernetesLocust"]},
                    {"pattern": lk},
                    {"pattern": kl},
                ]}),
            ),
            required("metadata", "name, labels, …", reference("metadata")),
            required(
                "spec",
                "the load test and how it is deployed",
                json!({"type": "object"}),
            ),
            field("status", "ignored (written by Planton)", json!({})),
        ],
        vec![
            json!({
                "if": {"properties": {"kind": {"pattern": lk}}, "required": ["kind"]},
                "then": {"properties": {
                    "spec": reference("specLocustKubernetes"),
                    "metadata": {"properties": {"labels": {"properties": {NAMESPACE_LABEL: {"type": "string", "pattern": DNS_LABEL, "description": "the namespace of a LocustKubernetes"}}}}},
                }},
            }),
            json!({
                "if": {"properties": {"kind": {"pattern": kl}}, "required": ["kind"]},
                "then": {"properties": {"spec": reference("specKubernetesLocust")}},
            }),
        ],
    );
    let mut root = Map::new();
    root.insert(
        "$schema".into(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    root.insert("title".into(), json!("LocustKubernetes"));
    if let Value::Object(m) = top {
        root.extend(m);
    }
    // The document itself must be a mapping.
    root.insert("type".into(), json!("object"));
    root.insert("$defs".into(), Value::Object(defs()));
    sorted(Value::Object(root))
}

/// Keys in sorted order whatever serde_json's map type is, so the text is the same in every
/// build (a dependency may switch on `preserve_order`).
fn sorted(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(String, Value)> = m.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// The schema as the committed file holds it: pretty JSON and a final newline.
pub fn text() -> String {
    let mut s = serde_json::to_string_pretty(&json()).expect("a JSON value serialises");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings() {
        assert_eq!(camel_to_snake("mainPyContent"), "main_py_content");
        assert_eq!(camel_to_snake("name"), "name");
        assert_eq!(
            super::super::names::snake_to_camel(&camel_to_snake("webUiFromNamespaces")),
            "webUiFromNamespaces"
        );
    }

    #[test]
    fn kind_pattern_folds_like_the_reader() {
        let p = kind_pattern("LocustKubernetes");
        assert!(p.starts_with("^[-_]*[lL][-_]*[oO]"));
    }
}
