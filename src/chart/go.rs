//! How the chart's Go templates read a value: Helm's merge of the given values over the chart's
//! defaults, Go's truth, the text a value prints as, and the few Sprig functions the pod
//! templates call (`trunc`, `trimSuffix`, `semverCompare ">="`).

use crate::yaml::{Map, Node, Resolved, Scalar, Style};

/// Helm's coalescing of `given` over `defaults`: mappings merge key by key, a null given value
/// removes the default's key, anything else replaces it.
pub fn coalesce(defaults: &Node, given: &Node) -> Node {
    match (defaults, given) {
        (Node::Map(d), Node::Map(g)) => {
            let mut out = Map::default();
            for (k, v) in d.iter() {
                match g.get(&k.key_text()) {
                    Some(gv) if gv.is_null() => {}
                    Some(gv) => out.insert_node(k.clone(), coalesce(v, gv)),
                    None => out.insert_node(k.clone(), v.clone()),
                }
            }
            for (k, v) in g.iter() {
                if !d.contains_key(&k.key_text()) && !v.is_null() {
                    out.insert_node(k.clone(), v.clone());
                }
            }
            Node::Map(out)
        }
        (_, g) => g.clone(),
    }
}

/// Go's truth in `if`/`with`: false, 0, null and empty text, lists and mappings are false.
pub fn truthy(node: Option<&Node>) -> bool {
    match node {
        None => false,
        Some(Node::Map(m)) => !m.is_empty(),
        Some(Node::Seq(s)) => !s.is_empty(),
        Some(Node::Scalar(s)) => match s.resolved() {
            Resolved::Null => false,
            Resolved::Bool(b) => b,
            Resolved::Int(i) => i != 0,
            Resolved::Float(f) => f != 0.0,
            Resolved::String(t) => !t.is_empty(),
        },
    }
}

/// The text Go prints for a value (`{{ . }}`, Sprig's `quote`): Helm reads every number as a
/// float64, so `1000000` prints as `1e+06`; null prints nothing.
pub fn text(node: Option<&Node>) -> String {
    match node.and_then(Node::as_scalar).map(Scalar::resolved) {
        Some(Resolved::String(t)) => t,
        Some(Resolved::Bool(b)) => b.to_string(),
        Some(Resolved::Int(i)) => float_text(i as f64),
        Some(Resolved::Float(f)) => float_text(f),
        Some(Resolved::Null) | None => match node {
            Some(n @ (Node::Map(_) | Node::Seq(_))) => n.to_json().to_string(),
            _ => String::new(),
        },
    }
}

/// Go's `%v` of a float64: the shortest digits, in exponent form below 1e-4 or from 1e+06.
fn float_text(f: f64) -> String {
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if f != 0.0 && !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        format!("{f}")
    }
}

/// A value written bare into the template's YAML: Kubernetes reads it as YAML reads the text.
pub fn bare(text: impl Into<String>) -> Node {
    Node::Scalar(Scalar {
        text: text.into(),
        style: Style::Plain,
    })
}

/// Sprig's `trunc 63 | trimSuffix "-"` on a name.
pub fn dns_name(name: &str) -> String {
    let cut: String = name.chars().take(63).collect();
    cut.strip_suffix('-').unwrap_or(&cut).to_string()
}

/// Sprig's `semverCompare ">=MIN" VERSION` for plain `X.Y.Z` versions (a leading `v` and a
/// pre-release or build suffix allowed); a version that does not read is not at least `min`.
pub fn at_least(version: &str, min: (u64, u64, u64)) -> bool {
    let core = version.trim_start_matches('v');
    let core = core.split(['-', '+']).next().unwrap_or_default();
    let mut parts = core.split('.').map(|p| p.parse::<u64>().ok());
    let mut next = || parts.next().unwrap_or(Some(0));
    match (next(), next(), next()) {
        (Some(a), Some(b), Some(c)) => (a, b, c) >= min && !version.contains('-'),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::yaml::testing::value as node;

    #[test]
    fn values_print_as_go_prints_them() {
        struct Case {
            value: &'static str,
            text: &'static str,
        }
        let table = [
            Case {
                value: "\"3\"",
                text: "3",
            },
            Case {
                value: "3",
                text: "3",
            },
            Case {
                value: "100000",
                text: "100000",
            },
            Case {
                value: "1000000",
                text: "1e+06",
            },
            Case {
                value: "1234567",
                text: "1.234567e+06",
            },
            Case {
                value: "2.5",
                text: "2.5",
            },
            Case {
                value: "0.00001",
                text: "1e-05",
            },
            Case {
                value: "yes",
                text: "true",
            },
            Case {
                value: "~",
                text: "",
            },
            Case {
                value: "grüße",
                text: "grüße",
            },
        ];
        for c in table {
            assert_eq!(text(Some(&node(c.value))), c.text, "{}", c.value);
        }
    }

    #[test]
    fn truth_is_gos() {
        struct Case {
            value: &'static str,
            truthy: bool,
        }
        let table = [
            Case {
                value: "{}",
                truthy: false,
            },
            Case {
                value: "{a: 1}",
                truthy: true,
            },
            Case {
                value: "[]",
                truthy: false,
            },
            Case {
                value: "\"\"",
                truthy: false,
            },
            Case {
                value: "0",
                truthy: false,
            },
            Case {
                value: "false",
                truthy: false,
            },
            Case {
                value: "null",
                truthy: false,
            },
            Case {
                value: "x",
                truthy: true,
            },
        ];
        for c in table {
            assert_eq!(truthy(Some(&node(c.value))), c.truthy, "{}", c.value);
        }
        assert!(!truthy(None));
    }

    #[test]
    fn given_values_coalesce_over_the_defaults() {
        struct Case {
            defaults: &'static str,
            given: &'static str,
            merged: &'static str,
        }
        let table = [
            Case {
                defaults: "{a: {b: 1, c: 2}, d: [1]}",
                given: "{a: {b: 3}, d: [2, 3]}",
                merged: r#"{"a":{"b":3,"c":2},"d":[2,3]}"#,
            },
            Case {
                defaults: "{a: {b: 1, c: 2}}",
                given: "{a: {b: null}, e: null, f: x}",
                merged: r#"{"a":{"c":2},"f":"x"}"#,
            },
            Case {
                defaults: "{a: {b: 1}}",
                given: "{a: text}",
                merged: r#"{"a":"text"}"#,
            },
        ];
        for c in table {
            let merged = coalesce(&node(c.defaults), &node(c.given)).to_json();
            assert_eq!(merged.to_string(), c.merged, "{}", c.given);
        }
    }

    #[test]
    fn names_and_versions() {
        assert_eq!(dns_name(&"a".repeat(70)), "a".repeat(63));
        assert_eq!(dns_name(&format!("{}-b", "a".repeat(62))), "a".repeat(62));
        assert!(at_least("2.32.2", (2, 21, 0)));
        assert!(at_least("2.21.0", (2, 21, 0)));
        assert!(!at_least("2.20.9", (2, 21, 0)));
        assert!(!at_least("2.21.0-rc1", (2, 21, 0)));
        assert!(!at_least("latest", (2, 21, 0)));
    }
}
