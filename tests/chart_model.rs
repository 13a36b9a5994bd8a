//! The chart model (`src/chart/`) against the real chart: every recorded render of the pinned
//! chart in `fixtures/reference/0.35.0/` (real Helm 3 and Helm 4 output for recorded values,
//! release `demo`) gives, for the master and the worker Deployment, exactly the model's object
//! for the same values: metadata and the whole pod template (labels, annotations, service
//! account, security contexts, init containers, the container's image, command, args, env,
//! mounts, ports and probes, volumes, scheduling), minus [`EXCLUDED`]. And the model's chart
//! defaults are the real chart's (`values.yaml` of `../shared/reference/…` or `$LP_REAL_CHART`).
//! The version folder is the pinned chart's (`charts-lock/locust.yaml`), so a chart bump without
//! new recorded renders fails here.

mod common;

use common::repo;
use locust_planton::chart::{self, Role};
use locust_planton::yaml::{Node, parse_document, parse_single};
use serde_json::Value;
use std::path::PathBuf;

const RELEASE: &str = "demo";

/// Fields of the real render the model does not give, each with why: the parent path, the key
/// (a key ending in `*` excludes every key with that prefix) and the reason.
const EXCLUDED: &[(&[&str], &str, &str)] = &[
    (
        &["spec", "template", "metadata", "annotations"],
        "checksum/*",
        "sha256 of the chart's other templates' renders (ConfigMaps, Secret), which the model does not render; nothing the tool decides reads them",
    ),
    (
        &["metadata", "annotations"],
        "postrenderer.helm.sh/postrender-filename",
        "added by Helm 4 to every document it hands a post-renderer, not by the chart",
    ),
    (
        &["spec"],
        "replicas",
        "outside the pod template: the model covers the pod template and the Deployment's metadata",
    ),
    (
        &["spec"],
        "revisionHistoryLimit",
        "outside the pod template, as replicas",
    ),
    (
        &["spec"],
        "selector",
        "outside the pod template, as replicas",
    ),
    (
        &["spec"],
        "strategy",
        "outside the pod template, as replicas",
    ),
];

/// Every recorded case of the pinned chart: its folder.
fn cases() -> Vec<PathBuf> {
    let version = &locust_planton::lock::chart_lock().version;
    let root = repo().join("fixtures/reference").join(version);
    let mut out: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("values.yaml").is_file())
        .collect();
    out.sort();
    out
}

/// The Deployments of a recorded stream, by name.
fn deployments(stream: &str) -> Vec<Value> {
    let docs = locust_planton::stream::split(stream).unwrap();
    docs.iter()
        .filter_map(|d| parse_document(d.text).unwrap())
        .map(|n| n.to_json())
        .filter(|o| o["kind"] == "Deployment")
        .collect()
}

/// Removes `key` (a prefix when it ends in `*`) from the mapping at `parents`, and the mapping
/// when that leaves it empty.
fn remove(v: &mut Value, parents: &[&str], key: &str) {
    let Some((last, above)) = parents.split_last() else {
        return;
    };
    let mut at = &mut *v;
    for p in above {
        match at.get_mut(*p) {
            Some(next) => at = next,
            None => return,
        }
    }
    let Some(holder) = at.as_object_mut() else {
        return;
    };
    if let Some(m) = holder.get_mut(*last).and_then(Value::as_object_mut) {
        match key.strip_suffix('*') {
            Some(prefix) => m.retain(|k, _| !k.starts_with(prefix)),
            None => {
                m.remove(key);
            }
        }
        if m.is_empty() && !above.is_empty() {
            holder.remove(*last);
        }
    }
}

/// Every path where `a` and `b` differ, with both values.
fn differences(a: &Value, b: &Value, at: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let here = format!("{at}.{k}");
                differences(
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    &here,
                    out,
                );
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                differences(p, q, &format!("{at}[{i}]"), out);
            }
        }
        _ if a != b => out.push(format!("{at}: real {a}, model {b}")),
        _ => {}
    }
}

#[test]
fn the_model_renders_what_the_real_chart_rendered() {
    let cases = cases();
    assert!(
        cases.len() >= 14,
        "expected every recorded case, found {cases:?}"
    );
    let mut failures = Vec::new();
    let mut compared = 0;
    for case in &cases {
        let values = std::fs::read_to_string(case.join("values.yaml")).unwrap();
        let values = parse_single(&values).unwrap_or_else(|_| Node::map());
        for helm in ["helm3", "helm4"] {
            let file = case.join(format!("{helm}-postrenderer-stdin.yaml"));
            let stream = std::fs::read_to_string(&file).unwrap();
            let real = deployments(&stream);
            for role in Role::BOTH {
                let model = chart::render(&values, RELEASE, role);
                let mut want = model.object.to_json();
                let name = want["metadata"]["name"].clone();
                let Some(found) = real.iter().find(|d| d["metadata"]["name"] == name) else {
                    failures.push(format!("{}: no Deployment {name}", file.display()));
                    continue;
                };
                let mut got = found.clone();
                for (parents, key, _) in EXCLUDED {
                    remove(&mut got, parents, key);
                    remove(&mut want, parents, key);
                }
                let mut diff = Vec::new();
                differences(&got, &want, "", &mut diff);
                for d in diff {
                    failures.push(format!("{} {}: {d}", file.display(), role.key()));
                }
                compared += 1;
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(compared, cases.len() * 4);
}

#[test]
fn exclusions_say_why() {
    for (_, key, why) in EXCLUDED {
        assert!(why.len() > 10, "{key}: say why it is excluded");
    }
}

/// Every value the model reads from the chart's defaults, and where, as `path = value`.
fn leaves(node: &Value, at: &str, out: &mut Vec<(String, Value)>) {
    match node {
        Value::Object(m) if !m.is_empty() => {
            for (k, v) in m {
                let here = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                leaves(v, &here, out);
            }
        }
        other => out.push((at.to_string(), other.clone())),
    }
}

#[cfg(feature = "tools")]
#[test]
fn the_models_defaults_are_the_real_charts() {
    let real = std::fs::read_to_string(common::real_locust_chart().join("values.yaml")).unwrap();
    let real = parse_single(&real).unwrap().to_json();
    let mut ours = Vec::new();
    leaves(&chart::defaults().to_json(), "", &mut ours);
    assert!(ours.len() > 60, "{}", ours.len());
    for (path, value) in ours {
        let mut at = &real;
        for p in path.split('.') {
            at = at.get(p).unwrap_or(&Value::Null);
        }
        assert_eq!(*at, value, "{path}: the real chart's default differs");
    }
}

#[test]
fn leaves_reach_every_default() {
    let mut out = Vec::new();
    leaves(
        &serde_json::json!({"a": {"b": 1, "c": {}}, "d": [1]}),
        "",
        &mut out,
    );
    let paths: Vec<&str> = out.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, ["a.b", "a.c", "d"]);
}
