//! Our inventory is Kubernetes' inventory: every stream the post-renderer accepts is read by
//! Kubernetes' own client pipeline (the Go judge, `tools/psa`: cli-runtime's builder, flattened,
//! and Pod Security Admission's evaluator) into exactly the objects `locust-planton inventory`
//! lists, with every pod template passing `restricted`; every other stream is refused with
//! nothing on stdout. The corpus holds each form of the four attack classes (separator lines,
//! `items` in any kind, lists inside lists, JSON documents) at top level, inside a List and in a
//! list inside a List, plus controls that must pass; `extraObjects` carries them through the real
//! chart with real Helm 3 and Helm 4.
#![cfg(feature = "tools")]

mod common;

use common::*;
use std::path::PathBuf;

/// A pod no rule has seen: Kubernetes' restricted profile rejects it as it is.
const PLAIN_POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: hidden\nspec:\n  containers:\n  - name: c\n    image: busybox\n";
/// A pod the post-renderer refuses outright (privileged, host namespaces, UID 0).
const EVIL_POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: evil\nspec:\n  hostPID: true\n  hostNetwork: true\n  containers:\n  - name: c\n    image: busybox\n    securityContext:\n      privileged: true\n      runAsUser: 0\n";
const CONFIGMAP: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cover\ndata:\n  a: b\n";

/// The separator lines Kubernetes' reader splits at and YAML alone would not.
const SEPARATORS: &[(&str, &str)] = &[
    ("comment glued", "---#x"),
    ("carriage return", "---\r#x"),
    ("NEL", "---\u{85}"),
    ("no-break space", "---\u{a0}"),
    ("ideographic space", "---\u{3000}"),
    ("line separator", "---\u{2028}# c"),
    ("tab then comment", "---\t#x"),
];

fn indent(text: &str, by: &str) -> String {
    text.lines()
        .map(|l| format!("{by}{l}\n"))
        .collect::<String>()
}

/// `text` as the only item of a `kind: List`, `depth` lists deep.
fn in_lists(text: &str, depth: usize) -> String {
    (0..depth).fold(text.to_string(), |inner, _| {
        let item = indent(&inner, "  ");
        format!("apiVersion: v1\nkind: List\nitems:\n-{}", &item[1..])
    })
}

/// An object whose `items` holds `pod`.
fn with_items(kind_head: &str, pod: &str) -> String {
    format!("{kind_head}items:\n-{}", &indent(pod, "  ")[1..])
}

fn json_of(yaml: &str) -> String {
    let out = kubectl_read(yaml, "json");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut v = v;
    // kubectl's label step adds one; the object is otherwise the input.
    v["metadata"]["labels"]
        .as_object_mut()
        .map(|l| l.remove("oracle"));
    serde_json::to_string(&v).unwrap()
}

/// What must happen to a stream.
#[derive(Clone, Debug)]
enum Want {
    /// Accepted: Kubernetes' inventory of the output is ours, and every pod is restricted.
    Pass,
    /// Refused with these words in the message.
    Refused(&'static str),
}

struct Case {
    name: String,
    stream: String,
    want: Want,
    /// Without locust-planton, Kubernetes would create a pod restricted rejects from it (or
    /// refuse the stream): the attack is real.
    attack: bool,
}

fn case(name: impl Into<String>, stream: String, want: Want, attack: bool) -> Case {
    Case {
        name: name.into(),
        stream,
        want,
        attack,
    }
}

fn corpus() -> Vec<Case> {
    let mut cases = Vec::new();
    for (what, sep) in SEPARATORS {
        for (depth, place) in [(0, "top level"), (1, "in a List"), (2, "in a nested List")] {
            // The hidden pod follows a separator line inside the (listed) ConfigMap's text.
            let cover = in_lists(CONFIGMAP, depth);
            let plain = format!("{cover}{sep}\n{PLAIN_POD}");
            let evil = format!("{cover}{sep}\n{EVIL_POD}");
            let want_plain = if depth == 2 {
                Want::Refused("a list inside a list")
            } else {
                Want::Pass
            };
            cases.push(case(
                format!("separator {what} {place}: plain pod"),
                plain,
                want_plain,
                true,
            ));
            cases.push(case(
                format!("separator {what} {place}: evil pod"),
                evil,
                Want::Refused(if depth == 2 {
                    "a list inside a list"
                } else {
                    "privileged"
                }),
                true,
            ));
        }
    }
    let heads = [
        (
            "ConfigMap",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: carrier\n",
        ),
        (
            "Secret",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: carrier\n",
        ),
        (
            "a Pod with a root containers list",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: carrier\ncontainers:\n- name: x\n  image: busybox\n",
        ),
        (
            "a custom resource",
            "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: carrier\n",
        ),
    ];
    for (what, head) in heads {
        for pod in [PLAIN_POD, EVIL_POD] {
            let carrier = with_items(head, pod);
            for (depth, place, refusal) in [
                (
                    0,
                    "top level",
                    "Kubernetes reads any object with an `items` field as a list",
                ),
                (1, "in a List", "a list inside a list"),
                (2, "in a nested List", "a list inside a list"),
            ] {
                cases.push(case(
                    format!("items in {what} {place} ({})", pod_name(pod)),
                    in_lists(&carrier, depth),
                    Want::Refused(refusal),
                    true,
                ));
            }
        }
    }
    cases.push(case(
        "items: null on a Pod (Kubernetes creates nothing of it)",
        format!("{PLAIN_POD}items: null\n"),
        Want::Refused("it would create nothing of it"),
        false,
    ));
    cases.push(case(
        "a kindless item in a PodList",
        format!(
            "apiVersion: v1\nkind: PodList\nitems:\n-{}",
            &indent(
                PLAIN_POD
                    .split_once("kind: Pod\n")
                    .map(|(a, b)| format!("{a}{b}"))
                    .unwrap()
                    .as_str(),
                "  "
            )[1..]
        ),
        Want::Refused("would take it for a Pod"),
        true,
    ));
    for pod in [PLAIN_POD, EVIL_POD] {
        let json_pod = json_of(pod);
        let want = if pod == EVIL_POD {
            Want::Refused("privileged")
        } else {
            Want::Pass
        };
        cases.push(case(
            format!("a JSON stream of one {}", pod_name(pod)),
            format!("{json_pod}\n"),
            want.clone(),
            true,
        ));
        cases.push(case(
            format!("JSON after a YAML document: {}", pod_name(pod)),
            format!("{CONFIGMAP}---\n{json_pod}\n"),
            want.clone(),
            true,
        ));
        cases.push(case(
            format!("a JSON List of a {}", pod_name(pod)),
            format!("{}\n", json_of(&in_lists(pod, 1))),
            want.clone(),
            true,
        ));
        cases.push(case(
            format!("a JSON stream with a separator: {}", pod_name(pod)),
            format!("{}\n---\n{json_pod}\n", json_of(CONFIGMAP)),
            Want::Refused("a stream that starts with `{` is decoded by Kubernetes as JSON values before any YAML"),
            true,
        ));
        cases.push(case(
            format!("two JSON values in a row: {}", pod_name(pod)),
            format!("{}\n{json_pod}\n", json_of(CONFIGMAP)),
            Want::Refused("invalid YAML"),
            true,
        ));
        cases.push(case(
            format!("JSON items in a ConfigMap: {}", pod_name(pod)),
            // By hand: kubectl would already have flattened the ConfigMap away.
            format!(
                "{}\n",
                serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": "carrier"},
                    "items": [serde_json::from_str::<serde_json::Value>(&json_pod).unwrap()]})
            ),
            Want::Refused("Kubernetes reads any object with an `items` field as a list"),
            true,
        ));
    }
    // Controls: read alike by both, nothing refused.
    cases.push(case(
        "control: a real List of a Deployment and a ConfigMap",
        in_lists(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: c\n        image: busybox\n",            1,
        ) + &format!("---\n{}", in_lists(CONFIGMAP, 1)),
        Want::Pass,
        true,
    ));
    cases.push(case(
        "control: a ConfigMap whose data holds `items:` and `---#` text",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: text\ndata:\n  script: |\n    items:\n    - kind: Pod\n    ---#x\n    kind: Pod\n".to_string(),
        Want::Pass,
        false,
    ));
    cases.push(case(
        "control: comments after separators",
        format!("--- # first\n{CONFIGMAP}---   # second\n{PLAIN_POD}--- #\n"),
        Want::Pass,
        true,
    ));
    cases
}

fn pod_name(pod: &str) -> &'static str {
    if pod == EVIL_POD {
        "evil pod"
    } else {
        "plain pod"
    }
}

fn post_render(stream: &str) -> std::process::Output {
    let home = tempfile::tempdir().unwrap();
    lp(home.path())
        .arg("post-render")
        .write_stdin(stream)
        .output()
        .unwrap()
}

/// `locust-planton inventory` of a stream: its lines.
fn our_inventory(stream: &str) -> Vec<String> {
    let home = tempfile::tempdir().unwrap();
    let out = lp(home.path())
        .arg("inventory")
        .write_stdin(stream)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "inventory refused an accepted stream: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// One case: what the post-renderer does, judged by Kubernetes' code. Returns the problems.
fn judge_case(c: &Case) -> Vec<String> {
    let mut problems = Vec::new();
    let out = post_render(&c.stream);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    match (&c.want, out.status.code()) {
        (Want::Pass, Some(0)) => {
            match kube_inventory(&stdout) {
                Ok(theirs) => {
                    let ours = our_inventory(&stdout);
                    if theirs != ours {
                        problems.push(format!(
                            "inventories differ: Kubernetes {theirs:?}, locust-planton {ours:?}"
                        ));
                    }
                }
                Err(e) => problems.push(format!("Kubernetes cannot read the output: {e}")),
            }
            let violations = judge(&stdout, "restricted");
            if !violations.is_empty() {
                problems.push(format!("passed but not restricted: {violations:?}"));
            }
        }
        (Want::Refused(words), Some(1)) => {
            if !stdout.is_empty() {
                problems.push(format!("refused but printed {} bytes", stdout.len()));
            }
            if !stderr.contains(words) || !stderr.contains("document ") {
                problems.push(format!(
                    "refused without naming the document and `{words}`: {stderr}"
                ));
            }
        }
        (want, code) => problems.push(format!("want {want:?}, got exit {code:?}: {stderr}")),
    }
    if c.attack {
        // Without the post-renderer Kubernetes would create a pod restricted rejects, or the
        // stream would not even be read: the case tests something.
        let raw_unreadable = kube_inventory(&c.stream).is_err();
        if !raw_unreadable && judge(&c.stream, "restricted").is_empty() {
            problems
                .push("not an attack: Kubernetes would accept the raw stream as restricted".into());
        }
    }
    problems
}

#[test]
fn every_attack_class_is_refused_or_hardened_with_kubernetes_inventory() {
    let cases = corpus();
    assert!(cases.len() >= 80, "{} cases", cases.len());
    let failed: Vec<String> = cases
        .iter()
        .filter_map(|c| {
            let problems = judge_case(c);
            (!problems.is_empty())
                .then(|| format!("- {}:\n    {}", c.name, problems.join("\n    ")))
        })
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} cases:\n{}",
        failed.len(),
        cases.len(),
        failed.join("\n")
    );
}

/// The objects an attacker would put in `extraObjects`, each with the words of its refusal.
fn extra_object_attacks() -> Vec<(&'static str, serde_json::Value, &'static str)> {
    let yaml = |t: &str| -> serde_json::Value {
        let out = kubectl_read(t, "json");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        if let Some(l) = v["metadata"]["labels"].as_object_mut() {
            l.remove("oracle");
        }
        v
    };
    let configmap_items = {
        let mut cm = yaml(CONFIGMAP);
        cm["items"] = serde_json::json!([yaml(PLAIN_POD)]);
        cm
    };
    let nested = serde_json::json!({
        "apiVersion": "v1", "kind": "List",
        "items": [{"apiVersion": "v1", "kind": "List", "items": [yaml(PLAIN_POD)]}],
    });
    let hook_list = serde_json::json!({
        "apiVersion": "v1", "kind": "List",
        "metadata": {"annotations": {"helm.sh/hook": "pre-install"}},
        "items": [yaml(PLAIN_POD)],
    });
    vec![
        (
            "a ConfigMap with items",
            configmap_items,
            "extraObjects[0].items would be refused",
        ),
        (
            "a list inside a List",
            nested,
            "extraObjects[0].items[0].items would be refused",
        ),
        (
            "a hook List of a pod",
            hook_list,
            "extraObjects[0] is a Helm hook with a pod",
        ),
    ]
}

/// The minimal spec fixture with `extraObjects` set to `objects` in its helmValues.
fn spec_with_extra_objects(dir: &std::path::Path, objects: &serde_json::Value) -> PathBuf {
    let base = read(repo().join("fixtures/specs/valid/minimal.yaml"));
    // helmValues maps each chart value to its YAML text.
    let extra = serde_json::json!({ "extraObjects": objects.to_string() });
    let spec = base.replacen(
        "\nspec:\n",
        &format!(
            "\nspec:\n  helmValues: {}\n",
            serde_json::to_string(&extra).unwrap()
        ),
        1,
    );
    assert_ne!(spec, base, "the minimal spec has no top-level spec");
    let path = dir.join("spec.yaml");
    std::fs::write(&path, spec).unwrap();
    path
}

#[test]
fn extra_objects_attacks_are_refused_before_helm_on_helm3_and_helm4() {
    let chart = real_locust_chart();
    for (what, object, words) in extra_object_attacks() {
        let dir = tempfile::tempdir().unwrap();
        let spec = spec_with_extra_objects(dir.path(), &serde_json::json!([object]));
        let check = lp(dir.path())
            .args(["check", "-f"])
            .arg(&spec)
            .output()
            .unwrap();
        // `check` reports on stdout.
        let report = String::from_utf8_lossy(&check.stdout);
        assert_eq!(check.status.code(), Some(1), "{what}: check: {report}");
        assert!(report.contains(words), "{what}: check: {report}");
        for helm in [helm3(), helm4()] {
            let out = lp(dir.path())
                .args(["template", "-f"])
                .arg(&spec)
                .arg("--chart")
                .arg(&chart)
                .arg("--helm")
                .arg(&helm)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(1),
                "{what} {}: {stderr}",
                helm.display()
            );
            assert!(out.stdout.is_empty(), "{what}");
            assert!(
                stderr.contains(words),
                "{what} {}: {stderr}",
                helm.display()
            );
        }
        // Without locust-planton the real chart hands Kubernetes the pod unhardened, or a stream
        // it cannot read: the attack is real.
        let values = dir.path().join("values.json");
        std::fs::write(
            &values,
            serde_json::to_string(&serde_json::json!({"extraObjects": [object]})).unwrap(),
        )
        .unwrap();
        let out = std::process::Command::new(helm3())
            .env("HELM_CACHE_HOME", dir.path().join("cache"))
            .env("HELM_CONFIG_HOME", dir.path().join("config"))
            .env("HELM_DATA_HOME", dir.path().join("data"))
            .args(["template", "attack"])
            .arg(&chart)
            .arg("-f")
            .arg(&values)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let raw = String::from_utf8(out.stdout).unwrap();
        assert!(
            kube_inventory(&raw).is_err() || !judge(&raw, "restricted").is_empty(),
            "{what}: the bare chart output is restricted and readable: not an attack"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The property: generated streams, one strategy per attack class.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

/// The classes the property generates, each at least `MIN_PER_CLASS` times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Separators,
    Items,
    NestedLists,
    Json,
}
const CLASSES: [Class; 4] = [
    Class::Separators,
    Class::Items,
    Class::NestedLists,
    Class::Json,
];
const MIN_PER_CLASS: usize = 20;

/// Separator lines: the ones YAML alone reads and the ones only Kubernetes' reader splits at.
const SEPARATOR_POOL: &[&str] = &[
    "---",
    "--- # c",
    "---\t",
    "---  ",
    "---#x",
    "---\r#x",
    "---\u{85}",
    "---\u{a0}",
    "---\u{3000}",
    "---\u{2028}",
];

/// A plain object of one of several kinds: some carry a pod template, some text that looks
/// like `items:` or a separator.
fn object() -> impl Strategy<Value = Value> {
    let container = json!([{"name": "c", "image": "busybox"}]);
    let template = json!({"metadata": {"labels": {"app": "x"}}, "spec": {"containers": container}});
    (0usize..5, "[a-z]{1,6}", proptest::option::of("[a-z]{1,5}")).prop_map(move |(k, name, ns)| {
        let mut obj = match k {
            0 => json!({"apiVersion": "v1", "kind": "ConfigMap",
                        "data": {"script": "items:\n- kind: Pod\n---#x\nkind: Pod\n"}}),
            1 => json!({"apiVersion": "v1", "kind": "Pod", "spec": {"containers": container}}),
            2 => json!({"apiVersion": "apps/v1", "kind": "Deployment",
                        "spec": {"selector": {"matchLabels": {"app": "x"}}, "template": template}}),
            3 => json!({"apiVersion": "example.com/v1", "kind": "Widget",
                        "spec": {"workers": [{"template": template}]}}),
            _ => json!({"apiVersion": "v1", "kind": "Secret", "stringData": {"a": "b"}}),
        };
        obj["metadata"] = json!({"name": format!("{name}{k}")});
        if let Some(ns) = ns {
            obj["metadata"]["namespace"] = json!(format!("ns-{ns}"));
        }
        obj
    })
}

fn list_of(kind: &str, items: Vec<Value>) -> Value {
    json!({"apiVersion": "v1", "kind": kind, "items": items})
}

/// `items` set on an object of any kind: a list of objects, an empty list or null.
fn with_items_field() -> impl Strategy<Value = Value> {
    (
        object(),
        prop::collection::vec(object(), 0..3),
        0usize..3,
        prop::sample::select(vec!["List", "PodList", "ConfigMap", "Pod", "Widget"]),
    )
        .prop_map(|(mut carrier, items, how, kind)| {
            carrier["kind"] = json!(kind);
            carrier["items"] = match how {
                0 => Value::Array(items),
                1 => json!([]),
                _ => Value::Null,
            };
            carrier
        })
}

/// Lists inside lists, `depth` deep, with plain objects beside.
fn nested_lists() -> impl Strategy<Value = Value> {
    (
        object(),
        prop::collection::vec(object(), 0..3),
        1usize..4,
        prop::sample::select(vec!["List", "DeploymentList"]),
    )
        .prop_map(|(inner, beside, depth, kind)| {
            let mut v = inner;
            for _ in 0..depth {
                let mut items = beside.clone();
                items.push(v);
                v = list_of(kind, items);
            }
            v
        })
}

/// A block-style YAML rendering of a JSON value (strings JSON-quoted, which YAML reads alike).
fn to_yaml(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, x) in m {
                out.push_str(&format!("{pad}{}:", serde_json::to_string(k).unwrap()));
                block_child(x, indent, out);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for x in a {
                out.push_str(&format!("{pad}-"));
                block_child(x, indent, out);
            }
        }
        other => out.push_str(&format!("{pad}{other}\n")),
    }
}

fn block_child(x: &Value, indent: usize, out: &mut String) {
    let nested = matches!(x, Value::Object(m) if !m.is_empty())
        || matches!(x, Value::Array(a) if !a.is_empty());
    if nested {
        out.push('\n');
        to_yaml(x, indent + 2, out);
    } else {
        out.push_str(&format!(" {x}\n"));
    }
}

fn yaml_doc(v: &Value) -> String {
    let mut s = String::new();
    to_yaml(v, 0, &mut s);
    s
}

/// Documents joined by separator lines (the first document may have one too), with comments.
fn join(docs: Vec<String>, seps: Vec<&'static str>, lead: bool, comment: bool) -> String {
    let mut s = String::new();
    for (i, doc) in docs.iter().enumerate() {
        if i > 0 || lead {
            s.push_str(seps[i % seps.len()]);
            s.push('\n');
        }
        if comment {
            s.push_str("# Source: chart/templates/x.yaml\n");
        }
        s.push_str(doc);
    }
    s
}

fn class_stream(class: Class) -> BoxedStrategy<(Class, String)> {
    let seps = prop::collection::vec(prop::sample::select(SEPARATOR_POOL.to_vec()), 1..4);
    let flags = (any::<bool>(), any::<bool>());
    match class {
        Class::Separators => (prop::collection::vec(object(), 1..5), seps, flags)
            .prop_map(move |(objs, seps, (lead, comment))| {
                (
                    class,
                    join(objs.iter().map(yaml_doc).collect(), seps, lead, comment),
                )
            })
            .boxed(),
        Class::Items => (
            prop::collection::vec(prop_oneof![object(), with_items_field()], 1..4),
            seps,
            flags,
        )
            .prop_map(move |(objs, seps, (lead, comment))| {
                (
                    class,
                    join(objs.iter().map(yaml_doc).collect(), seps, lead, comment),
                )
            })
            .boxed(),
        Class::NestedLists => (
            prop::collection::vec(prop_oneof![object(), nested_lists()], 1..3),
            seps,
            flags,
        )
            .prop_map(move |(objs, seps, (lead, comment))| {
                (
                    class,
                    join(objs.iter().map(yaml_doc).collect(), seps, lead, comment),
                )
            })
            .boxed(),
        Class::Json => (
            prop::collection::vec(
                prop_oneof![object(), with_items_field(), nested_lists()],
                1..4,
            ),
            seps,
            0usize..3,
        )
            .prop_map(move |(objs, seps, how)| {
                let json_docs: Vec<String> = objs.iter().map(|o| format!("{o}\n")).collect();
                let stream = match how {
                    // A JSON stream: JSON values only, separated by `---` lines or nothing.
                    0 => join(json_docs, seps, false, false),
                    1 => json_docs.concat(),
                    // JSON documents after a YAML one.
                    _ => {
                        let mut docs = vec![yaml_doc(&objs[0])];
                        docs.extend(json_docs.into_iter().skip(1));
                        join(docs, seps, false, false)
                    }
                };
                (class, stream)
            })
            .boxed(),
    }
}

/// The property for one stream: refused with nothing on stdout, or accepted with Kubernetes'
/// inventory of the output equal to ours (of the output and of the input) and every pod
/// restricted.
fn inventory_parity(class: Class, stream: &str) -> Result<(), TestCaseError> {
    let out = post_render(stream);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.code() == Some(1) {
        prop_assert!(stdout.is_empty(), "refused but printed output");
        // Plain objects behind separators are refused only where Kubernetes cannot read them
        // either (a first line YAML reads as text).
        prop_assert!(
            class != Class::Separators || kube_inventory(stream).is_err(),
            "a stream of plain objects Kubernetes reads was refused: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return Ok(());
    }
    prop_assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs = kube_inventory(&stdout)
        .map_err(|e| TestCaseError::fail(format!("Kubernetes cannot read the output: {e}")))?;
    let ours = our_inventory(&stdout);
    prop_assert_eq!(&theirs, &ours, "inventory of the output");
    prop_assert_eq!(
        &our_inventory(stream),
        &ours,
        "post-render changed the inventory"
    );
    let violations = judge(&stdout, "restricted");
    prop_assert!(
        violations.is_empty(),
        "accepted but not restricted: {:?}",
        violations
    );
    Ok(())
}

#[test]
fn generated_streams_have_kubernetes_inventory_or_are_refused() {
    let cases: u32 = std::env::var("LP_INVENTORY_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(240);
    let counts: Vec<std::sync::atomic::AtomicUsize> =
        CLASSES.iter().map(|_| Default::default()).collect();
    let strategy = prop_oneof![
        class_stream(Class::Separators),
        class_stream(Class::Items),
        class_stream(Class::NestedLists),
        class_stream(Class::Json),
    ];
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&strategy, |(class, stream)| {
        let i = CLASSES.iter().position(|c| *c == class).unwrap();
        counts[i].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        inventory_parity(class, &stream)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    for (class, count) in CLASSES.iter().zip(&counts) {
        let n = count.load(std::sync::atomic::Ordering::Relaxed);
        assert!(
            n >= MIN_PER_CLASS,
            "{class:?} generated {n} times, fewer than {MIN_PER_CLASS}"
        );
    }
}

/// The separator class cannot ride `extraObjects`: the chart writes each item with `toYaml`,
/// which quotes a key like `---#x` and indents text, so no line of it starts with `---`. Through
/// the real chart on both Helms the output is accepted, and its inventory is Kubernetes'.
#[test]
fn separator_text_in_extra_objects_stays_text_on_helm3_and_helm4() {
    let chart = real_locust_chart();
    let object = serde_json::json!({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "sep-text"},
        "---#x": 1,
        "data": {"---#y": "a\n---#z\nkind: Pod\nmetadata: {name: hidden}\n"},
    });
    let dir = tempfile::tempdir().unwrap();
    let spec = spec_with_extra_objects(dir.path(), &serde_json::json!([object]));
    for helm in [helm3(), helm4()] {
        let out = lp(dir.path())
            .args(["template", "-f"])
            .arg(&spec)
            .arg("--chart")
            .arg(&chart)
            .arg("--helm")
            .arg(&helm)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{}: {stderr}", helm.display());
        let stream = String::from_utf8(out.stdout).unwrap();
        let theirs = kube_inventory(&stream).unwrap();
        assert_eq!(theirs, our_inventory(&stream), "{}", helm.display());
        assert!(
            theirs.iter().any(|l| l == "ConfigMap - sep-text"),
            "{theirs:?}"
        );
        assert!(!theirs.iter().any(|l| l.contains("hidden")), "{theirs:?}");
        assert_hardened("template", &stream, "restricted", "none", &[]);
    }
}
