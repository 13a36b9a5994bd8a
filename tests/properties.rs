//! Property tests over generated Kubernetes-like streams: the post-renderer keeps every field it
//! does not own (strings YAML 1.1 or 1.2 would retype stay strings), is idempotent and
//! deterministic; a sample is checked with Go's YAML reader (kubectl).
// Without `tools`, the helpers of the tool-driven tests below are unused.
#![cfg_attr(not(feature = "tools"), allow(dead_code, unused_imports))]

mod common;
use common::*;
use locust_planton::postrender::{Options, post_render};
use locust_planton::yaml::{Node, emit_document, parse_document};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use serde_json::{Value, json};

/// Strings that other YAML readers would take for something else, and plain noise.
fn tricky_string() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "yes",
            "no",
            "on",
            "off",
            "y",
            "n",
            "Y",
            "NO",
            "true",
            "False",
            "null",
            "~",
            "",
            "0755",
            "0x1F",
            "1e3",
            "1.10",
            "+1",
            "-0",
            ".inf",
            ".NaN",
            "2001-12-14",
            "1:20",
            "a: b",
            "x #y",
            "- item",
            "{a}",
            "[b]",
            "*ref",
            "&anchor",
            "!tag",
            "%dir",
            "@at",
            "`tick`",
            "'q'",
            "\"dq\"",
            "multi\nline\n",
            "trailing ",
            " leading",
            "tab\there",
            "crlf\r\n",
            "---",
            "...",
            "ünïcödé ✓",
            "=",
            "<<",
        ])
        .prop_map(str::to_string),
        "[a-zA-Z0-9 _./:-]{0,24}",
        "\\PC{0,12}",
    ]
}

fn label_key() -> impl Strategy<Value = String> {
    "[a-z]{1,8}(\\.[a-z]{1,6}/)?[a-z0-9]{1,10}"
}

/// A Deployment, ConfigMap, Service or custom object with generated labels, env and data.
fn object(i: usize) -> impl Strategy<Value = Value> {
    (
        0..4usize,
        prop::collection::btree_map(label_key(), tricky_string(), 0..5),
        prop::collection::vec((label_key(), tricky_string()), 0..5),
        prop::collection::btree_map("[a-z]{1,6}\\.py", tricky_string(), 0..4),
        any::<bool>(),
    )
        .prop_map(move |(kind, labels, env, data, uses_cm)| {
            let name = format!("obj-{i}");
            let labels = Value::Object(labels.into_iter().map(|(k, v)| (k, Value::String(v))).collect());
            match kind {
                0 => {
                    let env: Vec<Value> = env.into_iter().map(|(k, v)| json!({"name": k.replace(['.', '/'], "_").to_uppercase(), "value": v})).collect();
                    let mut spec = json!({"containers": [{"name": "locust", "image": "locustio/locust:2.32.2", "env": env, "args": ["--worker"]}]});
                    if uses_cm {
                        spec["volumes"] = json!([{"name": "s", "configMap": {"name": "obj-0"}}]);
                    }
                    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": labels},
                           "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}}, "template": {"metadata": {"labels": labels}, "spec": spec}}})
                }
                1 => json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels},
                            "data": Value::Object(data.into_iter().map(|(k, v)| (k, Value::String(v))).collect())}),
                2 => json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "labels": labels, "annotations": labels},
                            "spec": {"ports": [{"port": 8089}]}}),
                _ => json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": name},
                            "spec": {"deep": {"deeper": {"list": [labels, [1, 2.5, true, null]]}}}}),
            }
        })
}

fn stream() -> impl Strategy<Value = (Vec<Value>, Vec<bool>)> {
    (1..8usize).prop_flat_map(|n| {
        let objs: Vec<_> = (0..n).map(object).collect();
        (objs, prop::collection::vec(any::<bool>(), n))
    })
}

/// The stream as Helm 3 would send it; some documents in JSON flow style, which is YAML too.
fn render_stream(objs: &[Value], flow: &[bool]) -> String {
    objs.iter()
        .zip(flow)
        .map(|(o, f)| {
            let body = if *f {
                format!("{}\n", o)
            } else {
                emit_document(&Node::from_json(o))
            };
            format!(
                "---\n# Source: gen/templates/{}.yaml\n{body}",
                o["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect()
}

fn strip_owned(mut o: Value) -> Value {
    strip_intended(&mut o);
    o
}

fn objects_of(text: &str) -> Vec<Value> {
    locust_planton::stream::split(text)
        .unwrap()
        .iter()
        .filter_map(|d| parse_document(d.text).unwrap())
        .map(|n| n.to_json())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    #[test]
    fn post_render_keeps_every_field_it_does_not_own((objs, flow) in stream()) {
        let input = render_stream(&objs, &flow);
        let out = post_render(&input, &Options::default()).unwrap().text();
        let got: Vec<Value> = objects_of(&out).into_iter().map(strip_owned).collect();
        prop_assert_eq!(got, objs.clone());
        // Idempotent and deterministic.
        prop_assert_eq!(post_render(&out, &Options::default()).unwrap().text(), out.clone());
        prop_assert_eq!(post_render(&input, &Options::default()).unwrap().text(), out);
    }

    #[test]
    fn emitted_strings_read_back_as_the_same_strings(s in tricky_string(), k in tricky_string()) {
        let v = json!({"k": s, "nested": {k.clone(): [s.clone()]}});
        let text = emit_document(&Node::from_json(&v));
        prop_assert_eq!(parse_document(&text).unwrap().unwrap().to_json(), v);
    }
}

/// `kubectl label` adds a label; removing it again leaves `labels: {}` where there were none.
fn without_empty_labels(mut o: Value) -> Value {
    if o["metadata"]["labels"]
        .as_object()
        .is_some_and(|l| l.is_empty())
    {
        o["metadata"].as_object_mut().unwrap().remove("labels");
    }
    o
}

/// Go's reader must agree: a fixed sample of generated streams through kubectl.
#[cfg(feature = "tools")]
#[test]
fn go_reads_post_rendered_streams_the_same() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = stream();
    for _ in 0..12 {
        let (objs, flow) = strategy.new_tree(&mut runner).unwrap().current();
        let input = render_stream(&objs, &flow);
        let out = post_render(&input, &Options::default()).unwrap().text();
        let go: Vec<Value> = kubectl_objects(&out)
            .into_iter()
            .map(|mut o| {
                o["metadata"]["labels"]
                    .as_object_mut()
                    .unwrap()
                    .remove("oracle");
                without_empty_labels(strip_owned(o))
            })
            .collect();
        let expected: Vec<Value> = objs.into_iter().map(without_empty_labels).collect();
        assert_eq!(go, expected, "kubectl read something else from:\n{out}");
    }
}
