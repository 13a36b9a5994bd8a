//! `spec.helmValues`: dotted paths deep-merged into the values last. Each value is read as YAML,
//! so `"false"` is the boolean false and `"3"` the number 3 (upstream sets every leaf as a string,
//! which makes `"false"` truthy in templates); to force a string, quote it inside:
//! `worker.logLevel: "'DEBUG'"`.

use crate::diag::{Findings, join};
use crate::yaml::{Map, Node, parse_document};

pub fn apply(values: &mut Node, overrides: &[(String, String)], d: &mut Findings) {
    for (path, raw) in overrides {
        let at = join("spec.helmValues", path);
        let value = match parse_document(raw) {
            Ok(Some(v)) => v,
            Ok(None) => Node::string(""),
            Err(e) => {
                d.error(
                    &at,
                    format!(
                        "value is not valid YAML ({}); quote it to pass a string",
                        e.message
                    ),
                );
                continue;
            }
        };
        if !super::chart_keys::is_known(path) {
            let hint = super::chart_keys::did_you_mean(path)
                .map(|known| format!(" (did you mean `{known}`?)"))
                .unwrap_or_default();
            d.warn(
                &at,
                format!(
                    "chart locust {} does not read `{path}`; Helm will ignore it{hint}",
                    crate::lock::chart_lock().version
                ),
            );
        }
        set_path(values, path, value);
    }
}

/// Values the chart writes into its YAML without quoting (every position `chart_keys::USES`
/// reads as `bare`, map keys and values separately) must be of their type, or text that reads
/// back as itself; each problem is named at the `helmValues` key that set the value.
pub fn check_bare(values: &Node, overrides: &[(String, String)], d: &mut Findings) {
    use super::chart_keys::{BareType, bare_positions, bare_problem, reach};
    for (position, kind) in bare_positions() {
        for reached in reach(values, position) {
            let problem = if reached.is_key {
                bare_problem(reached.node, BareType::Text).map(|p| format!("key {p}"))
            } else {
                bare_problem(reached.node, kind)
            };
            if let Some(problem) = problem {
                d.error(
                    set_by(overrides, &reached.at),
                    format!("chart value `{}`: {problem}", reached.at),
                );
            }
        }
    }
}

/// The chart maps whose entries become Kubernetes labels (on every object and pod template, and
/// on the Service). The chart quotes them, so any text renders; the API server then refuses a
/// label that is not one, failing the whole release: refused here, at the key that set it.
const LABEL_MAPS: &[&str] = &["extraLabels", "service.extraLabels"];

/// Every entry of the label maps must be a label: its key a label key, its value (as Helm
/// renders it, a scalar's text) a label value.
pub fn check_labels(values: &Node, overrides: &[(String, String)], d: &mut Findings) {
    use crate::spec::rules::{label_key, label_value};
    for map_path in LABEL_MAPS {
        let path: Vec<&str> = map_path.split('.').collect();
        let Some(labels) = values.get_path(&path).and_then(Node::as_map) else {
            continue;
        };
        for (key_node, value) in labels.iter() {
            // A key that breaks the chart's YAML is refused by `check_bare` already.
            if super::chart_keys::bare_problem(key_node, super::chart_keys::BareType::Text)
                .is_some()
            {
                continue;
            }
            let key = key_node
                .as_scalar()
                .map(|k| k.text.as_str())
                .unwrap_or_default();
            let at = format!("{map_path}.{key}");
            let text = value.as_scalar().map(|s| s.text.as_str());
            let problem = match text {
                _ if label_key(key).is_err() => label_key(key).err(),
                Some(t) if !value.is_null() => label_value(t).err(),
                _ => Some(format!(
                    "a label value must be text, not {}",
                    value.type_name()
                )),
            };
            if let Some(problem) = problem {
                d.error(
                    set_by(overrides, &at),
                    format!("chart value `{at}` becomes a Kubernetes label: {problem}"),
                );
            }
        }
    }
}

/// Template syntax (`{{`) in a `helmValues` entry that reaches a value the chart renders through
/// Helm's `tpl` (`extraObjects` items, `worker.keda.triggers`) is refused: it would be executed
/// as a template after every check here has judged its text (`kind: "{{ print \"Pod\" }}"`
/// becomes a Pod). The tool's own script ConfigMaps, escaped, are not `helmValues` entries.
pub fn check_templated(overrides: &[(String, String)], d: &mut Findings) {
    for (path, raw) in overrides {
        let Ok(Some(value)) = parse_document(raw) else {
            continue;
        };
        for position in super::chart_keys::templated() {
            let key = position.split("[]").next().unwrap_or(position);
            let inside = if path == key || path.starts_with(&format!("{key}.")) {
                Some((&value, path.clone()))
            } else if let Some(rest) = key.strip_prefix(&format!("{path}.")) {
                let parts: Vec<&str> = rest.split('.').collect();
                value.get_path(&parts).map(|n| (n, key.to_string()))
            } else {
                None
            };
            let Some((node, at)) = inside else { continue };
            for (place, text) in templates_in(node, &at) {
                d.error(
                    join("spec.helmValues", path),
                    format!(
                        "{place} holds template syntax ({text:?}): the chart renders `{key}` through Helm's `tpl`, so it would run as a template after every check has judged its text; write it without `{{{{`"
                    ),
                );
            }
        }
    }
}

/// Every mapping key and scalar under `node` holding `{{`, in document order: where (`` `a.b` ``
/// or ``a key of `a.b` ``), and its text.
fn templates_in(node: &Node, at: &str) -> Vec<(String, String)> {
    match node {
        Node::Scalar(s) if s.text.contains("{{") => vec![(format!("`{at}`"), s.text.clone())],
        Node::Scalar(_) => Vec::new(),
        Node::Seq(items) => items
            .iter()
            .enumerate()
            .flat_map(|(i, item)| templates_in(item, &format!("{at}[{i}]")))
            .collect(),
        Node::Map(m) => m
            .iter()
            .flat_map(|(k, v)| {
                let text = k.key_text();
                let mut found = Vec::new();
                if text.contains("{{") {
                    found.push((format!("a key of `{at}`"), text.clone()));
                }
                found.extend(templates_in(v, &format!("{at}.{text}")));
                found
            })
            .collect(),
    }
}

/// The finding path of the `helmValues` key that set the chart value `path` (or something
/// inside or around it); `spec` when the value came from the spec itself.
pub fn set_by(overrides: &[(String, String)], path: &str) -> String {
    overrides
        .iter()
        .rev()
        .find(|(o, _)| {
            o == path
                || o.starts_with(&format!("{path}."))
                || path.starts_with(&format!("{o}."))
                || path.starts_with(&format!("{o}["))
        })
        .map_or_else(|| "spec".to_string(), |(o, _)| join("spec.helmValues", o))
}

/// Sets a dotted path, creating mappings on the way (a non-mapping in the way is replaced, as
/// `helm --set` does) and deep-merging when both sides are mappings.
pub fn set_path(values: &mut Node, path: &str, value: Node) {
    if values.as_map().is_none() {
        *values = Node::map();
    }
    if let Node::Map(map) = values {
        set_in(map, path, value);
    }
}

/// [`set_path`] from inside the mapping `map`.
fn set_in(map: &mut Map, path: &str, value: Node) {
    match path.split_once('.') {
        Some((head, rest)) => {
            if map.get(head).and_then(Node::as_map).is_none() {
                map.insert(head, Node::map());
            }
            if let Some(Node::Map(inner)) = map.get_mut(head) {
                set_in(inner, rest, value);
            }
        }
        None => match (map.get_mut(path), value) {
            (Some(Node::Map(existing)), Node::Map(new)) => merge(existing, new),
            (_, value) => map.insert(path, value),
        },
    }
}

fn merge(into: &mut Map, from: Map) {
    for (k, v) in from.iter() {
        let key = k.key_text();
        match (into.get_mut(&key), v) {
            (Some(Node::Map(a)), Node::Map(b)) => merge(a, b.clone()),
            _ => into.insert(&key, v.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Resolved, parse_single};

    fn applied(base: &str, overrides: &[(&str, &str)]) -> (Node, Findings) {
        let mut v = parse_single(base).unwrap();
        let mut d = Findings::default();
        let o: Vec<_> = overrides
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        apply(&mut v, &o, &mut d);
        (v, d)
    }

    #[test]
    fn values_are_typed() {
        let (v, d) = applied(
            "worker: {replicas: 1}\n",
            &[
                ("worker.hpa.enabled", "false"),
                ("worker.replicas", "3"),
                ("worker.logLevel", "'DEBUG'"),
                ("worker.tolerations", "[{key: a, operator: Exists}]"),
            ],
        );
        assert!(!d.has_errors());
        assert_eq!(
            v.get_path(&["worker", "hpa", "enabled"])
                .unwrap()
                .resolved(),
            Some(Resolved::Bool(false))
        );
        assert_eq!(
            v.get_path(&["worker", "replicas"]).unwrap().as_i64(),
            Some(3)
        );
        assert_eq!(
            v.get_path(&["worker", "logLevel"]).unwrap().as_str(),
            Some("DEBUG")
        );
        assert_eq!(
            v.get_path(&["worker", "tolerations"])
                .unwrap()
                .as_seq()
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn maps_merge_deeply() {
        let (v, _) = applied(
            "master: {resources: {limits: {cpu: 1}}}\n",
            &[("master.resources", "{requests: {cpu: 50m}}")],
        );
        assert!(
            v.get_path(&["master", "resources", "limits", "cpu"])
                .is_some()
        );
        assert!(
            v.get_path(&["master", "resources", "requests", "cpu"])
                .is_some()
        );
    }

    #[test]
    fn unknown_keys_warn_and_bad_yaml_errors() {
        let (_, d) = applied("{}\n", &[("worker.hpa.enable", "true"), ("x.y", "[1, 2")]);
        let msgs = d.render("f");
        assert!(msgs.contains("f: spec.helmValues[\"worker.hpa.enable\"]: warning: chart locust 0.35.0 does not read `worker.hpa.enable`"), "{msgs}");
        assert!(
            msgs.contains("f: spec.helmValues[\"x.y\"]: value is not valid YAML"),
            "{msgs}"
        );
    }

    #[test]
    fn label_maps_hold_labels() {
        struct Case {
            path: &'static str,
            raw: &'static str,
            /// The start of each error, in order.
            errors: &'static [&'static str],
        }
        let table = [
            Case {
                path: "extraLabels",
                raw: "{team: perf, app.kubernetes.io/part-of: load, n: 1, on: true}",
                errors: &[],
            },
            Case {
                path: "extraLabels.team",
                raw: "'a: b'",
                errors: &[
                    "chart value `extraLabels.team` becomes a Kubernetes label: `a: b` is not a valid label value",
                ],
            },
            Case {
                path: "service.extraLabels",
                raw: "{'Bad Key': x, ok: '-x'}",
                errors: &[
                    "chart value `service.extraLabels.Bad Key` becomes a Kubernetes label: `Bad Key` is not a valid label key",
                    "chart value `service.extraLabels.ok` becomes a Kubernetes label: `-x` is not a valid label value",
                ],
            },
            Case {
                path: "extraLabels.team",
                raw: "[a]",
                errors: &[
                    "chart value `extraLabels.team` becomes a Kubernetes label: a label value must be text, not a list",
                ],
            },
        ];
        for c in table {
            let (values, _) = applied("{}", &[(c.path, c.raw)]);
            let mut d = Findings::default();
            let overrides = vec![(c.path.to_string(), c.raw.to_string())];
            check_labels(&values, &overrides, &mut d);
            let got: Vec<String> = d.errors().map(|f| f.message.clone()).collect();
            assert_eq!(got.len(), c.errors.len(), "{}: {got:?}", c.raw);
            for (g, want) in got.iter().zip(c.errors) {
                assert!(g.starts_with(want), "{}: {g}", c.raw);
            }
        }
    }

    #[test]
    fn template_syntax_is_refused_where_the_chart_runs_tpl() {
        struct Case {
            path: &'static str,
            raw: &'static str,
            found: &'static [&'static str],
        }
        let table = [
            Case {
                path: "extraObjects",
                raw: "[{kind: '{{ print \"Pod\" }}'}]",
                found: &["`extraObjects[0].kind`"],
            },
            // A YAML escape spells `{{` only once decoded.
            Case {
                path: "extraObjects",
                raw: "[{metadata: {annotations: {\"\\x7B{ print 1 }}\": x}}}]",
                found: &["a key of `extraObjects[0].metadata.annotations`"],
            },
            Case {
                path: "worker.keda",
                raw: "{triggers: '- {{ .Release.Name }}'}",
                found: &["`worker.keda.triggers`"],
            },
            Case {
                path: "worker.keda.triggers",
                raw: "'- type: cron'",
                found: &[],
            },
            // Not a `tpl` position: written as data.
            Case {
                path: "loadtest.environment.X",
                raw: "'{{ x }}'",
                found: &[],
            },
        ];
        for c in table {
            let mut d = Findings::default();
            check_templated(&[(c.path.to_string(), c.raw.to_string())], &mut d);
            let msgs = d.render("f");
            assert_eq!(msgs.lines().count(), c.found.len(), "{}: {msgs}", c.raw);
            for place in c.found {
                assert!(
                    msgs.contains(&format!("{place} holds template syntax")),
                    "{}: {msgs}",
                    c.raw
                );
            }
        }
    }
}
