//! The value paths the pinned chart (DeliveryHero locust 0.35.0) reads, and how each template
//! use renders them. The chart has no values schema, so a misspelled key is silently ignored by
//! Helm; and a value written bare becomes YAML text itself, while one passed through `tpl`
//! becomes a template. This table is the product's own copy of what the 0.35.0 templates do
//! (the binary stands without the chart); `scripts/chart-values-usage.py` reads the templates
//! and `tests/chart_reading.rs` fails on any difference, naming the path and both readings.
//!
//! Paths: `a.b` the value; `a.b.<key>` each key of the map `a.b`; `a.b.*` each of its values;
//! `a.b[]` each item of the list `a.b`; `a.b[].c` field `c` of each item.

/// How one template use renders a value (the script's words in brackets).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Render {
    /// Written as its text (`bare`): `replicas: {{ .Values.master.replicas }}`, also through
    /// `printf`, `default`, `trunc`, `trimSuffix`, `toString`.
    Bare,
    /// Base64 of the value, then quoted (`b64enc`).
    B64enc,
    /// Written into NOTES.txt only, shown by helm and never applied (`notes`).
    Notes,
    /// Through `quote`: a double-quoted string whatever it holds (`quote`).
    Quote,
    /// Copied into another value with `set` (`set`).
    Set,
    /// Read only: a condition, a comparison, a file glob (`test`).
    Test,
    /// Through `toYaml`: YAML of the value (`toYaml`).
    ToYaml,
    /// Rendered as a template by Helm's `tpl` (`tpl`).
    Tpl,
    /// Used only inside a `define` no template calls: Helm never reads it (`unused`).
    Unused,
}

impl Render {
    /// The word `scripts/chart-values-usage.py` prints for it.
    pub fn word(self) -> &'static str {
        match self {
            Render::Bare => "bare",
            Render::B64enc => "b64enc",
            Render::Notes => "notes",
            Render::Quote => "quote",
            Render::Set => "set",
            Render::Test => "test",
            Render::ToYaml => "toYaml",
            Render::Tpl => "tpl",
            Render::Unused => "unused",
        }
    }
}

use Render as R;

/// Every `.Values` path the 0.35.0 templates use, with every way a use renders it (sorted).
pub const USES: &[(&str, &[Render])] = &[
    ("affinity", &[R::Test, R::ToYaml]),
    ("extraConfigMaps", &[R::Test]),
    ("extraConfigMaps.*", &[R::Bare]),
    ("extraConfigMaps.<key>", &[R::Bare]),
    ("extraLabels.*", &[R::Quote]),
    ("extraLabels.<key>", &[R::Bare]),
    ("extraObjects[]", &[R::Tpl]),
    ("fullnameOverride", &[R::Bare, R::Test]),
    ("hostAliases", &[R::Test, R::ToYaml]),
    ("image.pullPolicy", &[R::Bare]),
    ("image.repository", &[R::Bare]),
    ("image.tag", &[R::Bare, R::Test]),
    ("imagePullSecrets", &[R::Test, R::ToYaml]),
    ("ingress.annotations", &[R::Test, R::ToYaml]),
    ("ingress.className", &[R::Bare, R::Set, R::Test]),
    ("ingress.enabled", &[R::Test]),
    ("ingress.hosts[].host", &[R::Quote]),
    ("ingress.hosts[].path", &[R::Quote]),
    ("ingress.hosts[].pathType", &[R::Bare, R::Test]),
    ("ingress.hosts[].paths[]", &[R::Notes]),
    ("ingress.tls", &[R::Test]),
    ("ingress.tls[].hosts[]", &[R::Quote]),
    ("ingress.tls[].secretName", &[R::Bare]),
    ("loadtest.environment", &[R::Test]),
    ("loadtest.environment.*", &[R::Quote]),
    ("loadtest.environment.<key>", &[R::Bare]),
    ("loadtest.environment_external_secret", &[R::Test]),
    ("loadtest.environment_external_secret.*[]", &[R::Bare]),
    ("loadtest.environment_external_secret.<key>", &[R::Bare]),
    ("loadtest.environment_load_from_secrets", &[R::Test]),
    ("loadtest.environment_load_from_secrets[]", &[R::Bare]),
    ("loadtest.environment_secret", &[R::Test]),
    ("loadtest.environment_secret.*", &[R::B64enc]),
    ("loadtest.environment_secret.<key>", &[R::Bare]),
    ("loadtest.excludeTags", &[R::Bare, R::Test]),
    ("loadtest.headless", &[R::Test]),
    ("loadtest.locustCmd", &[R::Bare]),
    ("loadtest.locust_host", &[R::Bare]),
    ("loadtest.locust_lib_configmap", &[R::Bare, R::Test]),
    ("loadtest.locust_locustfile", &[R::Bare, R::Test]),
    ("loadtest.locust_locustfile_configmap", &[R::Bare, R::Test]),
    ("loadtest.locust_locustfile_path", &[R::Bare]),
    ("loadtest.locust_requirementsfile_path", &[R::Bare]),
    ("loadtest.mount_external_secret", &[R::Test]),
    ("loadtest.mount_external_secret.files.*[]", &[R::Bare]),
    ("loadtest.mount_external_secret.files.<key>", &[R::Bare]),
    ("loadtest.mount_external_secret.mountPath", &[R::Bare]),
    ("loadtest.name", &[R::Bare, R::Test]),
    ("loadtest.pip_packages", &[R::Test]),
    ("loadtest.pip_packages[]", &[R::Bare]),
    ("loadtest.pip_requirementsfile", &[R::Bare]),
    (
        "loadtest.pip_requirementsfile_configmap",
        &[R::Bare, R::Test],
    ),
    ("loadtest.tags", &[R::Bare, R::Test]),
    ("master.affinity", &[R::Test, R::ToYaml]),
    ("master.annotations", &[R::Test, R::ToYaml]),
    ("master.args", &[R::Test, R::ToYaml]),
    ("master.auth.enabled", &[R::Test]),
    ("master.auth.password", &[R::Bare]),
    ("master.auth.username", &[R::Bare]),
    ("master.command", &[R::Test, R::ToYaml]),
    ("master.deploymentAnnotations", &[R::Test, R::ToYaml]),
    ("master.environment", &[R::Test]),
    ("master.environment.*", &[R::Quote]),
    ("master.environment.<key>", &[R::Bare]),
    ("master.envs_include_default", &[R::Test]),
    ("master.extraPorts", &[R::Test, R::ToYaml]),
    ("master.extraVolumeMounts", &[R::Test, R::ToYaml]),
    ("master.extraVolumes", &[R::Test, R::ToYaml]),
    ("master.image", &[R::Bare, R::Test]),
    ("master.image.tag", &[R::Test]),
    ("master.initContainers", &[R::Test, R::ToYaml]),
    ("master.lifecycle", &[R::Test, R::ToYaml]),
    ("master.livenessProbe", &[R::Test, R::ToYaml]),
    ("master.logLevel", &[R::Bare]),
    ("master.nodeSelector", &[R::Test, R::ToYaml]),
    ("master.pdb.enabled", &[R::Test]),
    ("master.readinessProbe", &[R::Test, R::ToYaml]),
    ("master.replicas", &[R::Bare]),
    ("master.resources", &[R::ToYaml]),
    ("master.restartPolicy", &[R::Bare]),
    ("master.revisionHistoryLimit", &[R::Bare]),
    ("master.serviceAccountAnnotations", &[R::Test, R::ToYaml]),
    ("master.startupProbe", &[R::Test, R::ToYaml]),
    ("master.strategy", &[R::Test, R::ToYaml]),
    ("master.terminationGracePeriodSeconds", &[R::Bare]),
    ("master.tolerations", &[R::Test, R::ToYaml]),
    ("nameOverride", &[R::Bare, R::Test]),
    ("nodeSelector", &[R::Test, R::ToYaml]),
    ("podSecurityContext", &[R::ToYaml]),
    ("securityContext", &[R::ToYaml]),
    ("service.annotations", &[R::Test, R::ToYaml]),
    ("service.extraLabels", &[R::Test, R::ToYaml]),
    ("service.loadBalancerIP", &[R::Bare, R::Test]),
    ("service.nodePort", &[R::Bare, R::Test]),
    ("service.port", &[R::Bare]),
    ("service.targetPort", &[R::Bare, R::Test]),
    ("service.type", &[R::Bare, R::Test]),
    ("tolerations", &[R::Test, R::ToYaml]),
    ("worker.affinity", &[R::Test, R::ToYaml]),
    ("worker.annotations", &[R::Test, R::ToYaml]),
    ("worker.args", &[R::Test, R::ToYaml]),
    ("worker.command", &[R::Test, R::ToYaml]),
    ("worker.config.configmapName", &[R::Unused]),
    ("worker.deploymentAnnotations", &[R::Test, R::ToYaml]),
    ("worker.environment", &[R::Test]),
    ("worker.environment.*", &[R::Quote]),
    ("worker.environment.<key>", &[R::Bare]),
    ("worker.envs_include_default", &[R::Test]),
    ("worker.extraVolumeMounts", &[R::Test, R::ToYaml]),
    ("worker.extraVolumes", &[R::Test, R::ToYaml]),
    ("worker.hpa.enabled", &[R::Test]),
    ("worker.hpa.maxReplicas", &[R::Bare]),
    ("worker.hpa.minReplicas", &[R::Bare]),
    ("worker.hpa.targetCPUUtilizationPercentage", &[R::Bare]),
    ("worker.image", &[R::Bare, R::Test]),
    ("worker.image.tag", &[R::Test]),
    ("worker.initContainers", &[R::Test, R::ToYaml]),
    ("worker.keda.annotations", &[R::Test, R::ToYaml]),
    ("worker.keda.cooldownPeriod", &[R::Bare]),
    ("worker.keda.enabled", &[R::Test]),
    ("worker.keda.failureThreshold", &[R::Bare]),
    ("worker.keda.fallbackReplicas", &[R::Bare]),
    ("worker.keda.pollingInterval", &[R::Bare]),
    ("worker.keda.triggers", &[R::Tpl]),
    ("worker.logLevel", &[R::Bare]),
    ("worker.nodeSelector", &[R::Test, R::ToYaml]),
    ("worker.pdb.enabled", &[R::Test]),
    ("worker.ports", &[R::Test, R::ToYaml]),
    ("worker.replicas", &[R::Bare]),
    ("worker.resources", &[R::ToYaml]),
    ("worker.restartPolicy", &[R::Bare]),
    ("worker.revisionHistoryLimit", &[R::Bare]),
    ("worker.serviceAccountAnnotations", &[R::Test, R::ToYaml]),
    ("worker.strategy", &[R::Test, R::ToYaml]),
    ("worker.tolerations", &[R::Test, R::ToYaml]),
];

/// Paths rendered with `toYaml` that hold a list (their chart default is a list or null), so
/// nothing can be set below them by a dotted `helmValues` key; every other `toYaml` path is a
/// mapping whose keys are the user's.
pub const LISTS: &[&str] = &[
    "hostAliases",
    "imagePullSecrets",
    "master.args",
    "master.command",
    "master.extraPorts",
    "master.extraVolumeMounts",
    "master.extraVolumes",
    "master.initContainers",
    "master.tolerations",
    "tolerations",
    "worker.args",
    "worker.command",
    "worker.extraVolumeMounts",
    "worker.extraVolumes",
    "worker.initContainers",
    "worker.tolerations",
];

/// The dotted key a `helmValues` entry names for a `USES` path (the path cut before its first
/// `.<key>`, `.*` or `[]`), and whether any key below it is the user's: map entries, or a
/// mapping written whole by `toYaml`.
fn settable(path: &'static str, renders: &[Render]) -> (&'static str, bool) {
    let cut = ["[]", ".<key>", ".*"]
        .iter()
        .filter_map(|marker| path.find(marker))
        .min();
    match cut {
        Some(i) => (&path[..i], !path[i..].starts_with("[]")),
        None => (
            path,
            renders.contains(&Render::ToYaml) && !LISTS.contains(&path),
        ),
    }
}

/// Every key the chart reads (uses only inside uncalled helpers do not count), and whether the
/// keys below it are the user's.
fn keys() -> impl Iterator<Item = (&'static str, bool)> {
    USES.iter()
        .filter(|(_, renders)| *renders != [Render::Unused])
        .map(|(path, renders)| settable(path, renders))
}

/// Whether the pinned chart reads `path` (a dotted value path). A prefix of a known path (a
/// whole block such as `worker.hpa`) counts as known.
pub fn is_known(path: &str) -> bool {
    keys().any(|(key, open)| {
        key == path
            || key.starts_with(&format!("{path}."))
            || (open && path.starts_with(&format!("{key}.")))
    })
}

/// The key the chart reads that an unknown `path` most likely misspells, when one is close
/// enough (`worker.loglevel` → `worker.logLevel`, `worker.enviroment.X` →
/// `worker.environment.X`): case-insensitive edit distance at most 2 (longer keys: a tenth of
/// their length), ties to the closest spelling, then alphabetical.
pub fn did_you_mean(path: &str) -> Option<String> {
    let given: Vec<&str> = path.split('.').collect();
    keys()
        .filter_map(|(key, open)| {
            let depth = key.split('.').count();
            let candidate = if open && given.len() > depth {
                format!("{key}.{}", given[depth..].join("."))
            } else {
                key.to_string()
            };
            let folded = strsim::levenshtein(&path.to_lowercase(), &candidate.to_lowercase());
            let exact = strsim::levenshtein(path, &candidate);
            (folded <= (candidate.len() / 10).max(2)).then_some(((folded, exact), candidate))
        })
        .min()
        .map(|(_, candidate)| candidate)
}

/// The type a value written bare must have: one of some words, an integer, or one line of text
/// that reads back as itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BareType {
    /// One of these strings (`imagePullPolicy: {{ .Values.image.pullPolicy }}`).
    Enum(&'static [&'static str]),
    /// An integer (`replicas: {{ .Values.master.replicas }}`).
    Int,
    /// One line of text, in `key: {{ }}`, `"{{ }}"` or mid-line.
    Text,
}

const RESTART: &[&str] = &["Always", "OnFailure", "Never"];

/// The bare positions whose Kubernetes field is not text; every other bare position is `Text`.
pub const BARE_TYPES: &[(&str, BareType)] = &[
    (
        "image.pullPolicy",
        BareType::Enum(&["Always", "IfNotPresent", "Never"]),
    ),
    ("master.replicas", BareType::Int),
    ("master.restartPolicy", BareType::Enum(RESTART)),
    ("master.revisionHistoryLimit", BareType::Int),
    ("master.terminationGracePeriodSeconds", BareType::Int),
    ("service.nodePort", BareType::Int),
    ("service.port", BareType::Int),
    ("service.targetPort", BareType::Int),
    (
        "service.type",
        BareType::Enum(&["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"]),
    ),
    ("worker.hpa.maxReplicas", BareType::Int),
    ("worker.hpa.minReplicas", BareType::Int),
    ("worker.hpa.targetCPUUtilizationPercentage", BareType::Int),
    ("worker.keda.cooldownPeriod", BareType::Int),
    ("worker.keda.failureThreshold", BareType::Int),
    ("worker.keda.fallbackReplicas", BareType::Int),
    ("worker.keda.pollingInterval", BareType::Int),
    ("worker.replicas", BareType::Int),
    ("worker.restartPolicy", BareType::Enum(RESTART)),
    ("worker.revisionHistoryLimit", BareType::Int),
];

/// Every position the chart writes bare (a `USES` path), with the type its value must have.
pub fn bare_positions() -> impl Iterator<Item = (&'static str, BareType)> {
    USES.iter()
        .filter(|(_, renders)| renders.contains(&Render::Bare))
        .map(|(path, _)| {
            let kind = BARE_TYPES
                .iter()
                .find(|(typed, _)| typed == path)
                .map_or(BareType::Text, |(_, kind)| *kind);
            (*path, kind)
        })
}

/// The positions the chart renders through Helm's `tpl` (`USES` paths).
pub fn templated() -> impl Iterator<Item = &'static str> {
    USES.iter()
        .filter(|(_, renders)| renders.contains(&Render::Tpl))
        .map(|(path, _)| *path)
}

/// One step of a `USES` path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step<'p> {
    Field(&'p str),
    /// `.<key>`: each key of a mapping.
    Key,
    /// `.*`: each value of a mapping (each item of a list, as Go's `range` gives them).
    Value,
    /// `[]`: each item of a list (each value of a mapping, as Go's `range` gives them).
    Item,
}

fn steps(path: &str) -> Vec<Step<'_>> {
    let mut out = Vec::new();
    for segment in path.split('.') {
        let name = segment.trim_end_matches("[]");
        out.push(match name {
            "*" => Step::Value,
            "<key>" => Step::Key,
            field => Step::Field(field),
        });
        out.extend(std::iter::repeat_n(
            Step::Item,
            (segment.len() - name.len()) / 2,
        ));
    }
    out
}

/// A node a `USES` path reaches in a set of values: where (`loadtest.pip_packages[0]`), and
/// whether it is a mapping key rather than a value.
#[derive(Debug)]
pub struct Reached<'a> {
    pub node: &'a crate::yaml::Node,
    pub at: String,
    pub is_key: bool,
}

/// Every node `path` (a `USES` path) reaches in `values`, in document order; a step that finds
/// nothing of its kind reaches nothing (Go's template would render nothing, or fail).
pub fn reach<'a>(values: &'a crate::yaml::Node, path: &str) -> Vec<Reached<'a>> {
    use crate::yaml::Node;
    let mut reached = vec![Reached {
        node: values,
        at: String::new(),
        is_key: false,
    }];
    for step in steps(path) {
        let mut next = Vec::new();
        for r in reached.into_iter().filter(|r| !r.is_key) {
            let dotted = |k: &Node| {
                if r.at.is_empty() {
                    k.key_text()
                } else {
                    format!("{}.{}", r.at, k.key_text())
                }
            };
            let indexed = |i: usize| format!("{}[{i}]", r.at);
            match (step, r.node) {
                (Step::Field(f), Node::Map(m)) => {
                    if let Some((k, v)) = m.iter().find(|(k, _)| k.key_text() == f) {
                        next.push(Reached {
                            node: v,
                            at: dotted(k),
                            is_key: false,
                        });
                    }
                }
                (Step::Key, Node::Map(m)) => next.extend(m.iter().map(|(k, _)| Reached {
                    node: k,
                    at: r.at.clone(),
                    is_key: true,
                })),
                (Step::Value | Step::Item, Node::Map(m)) => {
                    next.extend(m.iter().map(|(k, v)| Reached {
                        node: v,
                        at: dotted(k),
                        is_key: false,
                    }))
                }
                (Step::Value | Step::Item, Node::Seq(items)) => {
                    next.extend(items.iter().enumerate().map(|(i, v)| Reached {
                        node: v,
                        at: indexed(i),
                        is_key: false,
                    }))
                }
                _ => {}
            }
        }
        reached = next;
    }
    reached
}

/// Why `value` cannot be written bare as `kind`, if it cannot.
pub fn bare_problem(value: &crate::yaml::Node, kind: BareType) -> Option<String> {
    if value.is_null() {
        return None;
    }
    match kind {
        BareType::Int => value
            .as_i64()
            .is_none()
            .then(|| format!("must be an integer, not {}", value.type_name())),
        BareType::Enum(allowed) => match value.as_str() {
            Some(s) if allowed.contains(&s) => None,
            _ => Some(format!(
                "must be one of {}, not {}",
                allowed.join(", "),
                describe(value)
            )),
        },
        BareType::Text => text_problem(value),
    }
}

fn describe(value: &crate::yaml::Node) -> String {
    match value.as_str() {
        Some(s) => format!("{s:?}"),
        None => value.type_name().to_string(),
    }
}

/// Text the chart writes into YAML must read back as itself, both bare and inside double quotes,
/// on one line: no line breaks, quotes or backslashes, no `#`, `&`, `*`, `!`, `{`, `[`, `: `.
fn text_problem(value: &crate::yaml::Node) -> Option<String> {
    use crate::yaml::{Node, parse_document};
    let Node::Scalar(s) = value else {
        return Some(format!("must be text, not {}", value.type_name()));
    };
    let text = &s.text;
    // Nothing written adds nothing (the chart tests most of these with `if` first).
    if text.is_empty() {
        return None;
    }
    let reads_back = |doc: String| {
        parse_document(&doc)
            .ok()
            .flatten()
            .and_then(|n| n.get_path(&["k"]).cloned())
            .is_some_and(|n| n.as_scalar().is_some_and(|r| r.text == *text))
    };
    let safe = !text
        .chars()
        .any(|c| c.is_control() || matches!(c, '"' | '\\' | '\u{2028}' | '\u{2029}'))
        && reads_back(format!("k: {text}\n"))
        && reads_back(format!("k: \"{text}\"\n"))
        && reads_back(format!("k: x {text}\n").replace("k: x ", "k: "));
    (!safe).then(|| {
        format!(
            "{} is written into the chart's YAML without quoting and would not read back as itself (a line break, quote, `#`, `: ` or YAML syntax would change the rendered object)",
            describe(value)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::Node;

    use crate::yaml::testing::value as node;

    /// The chart model (`crate::chart`) and this table are two readings of the same templates:
    /// every value the model has a default for is one this table says the chart reads.
    #[test]
    fn every_value_the_chart_model_reads_is_a_known_key() {
        fn leaves(node: &Node, at: &str, out: &mut Vec<String>) {
            match node.as_map() {
                Some(m) if !m.is_empty() => {
                    for (k, v) in m.iter() {
                        leaves(v, &crate::diag::join(at, &k.key_text()), out);
                    }
                }
                _ => out.push(at.to_string()),
            }
        }
        let mut paths = Vec::new();
        leaves(crate::chart::defaults(), "", &mut paths);
        assert!(paths.len() > 60, "{}", paths.len());
        for path in paths {
            assert!(is_known(&path), "{path}: the model reads it, USES lacks it");
        }
    }

    #[test]
    fn known_and_unknown() {
        struct Case {
            path: &'static str,
            known: bool,
        }
        let table = [
            Case {
                path: "worker.hpa.enabled",
                known: true,
            },
            Case {
                path: "worker.hpa",
                known: true,
            },
            Case {
                path: "master.resources.limits.cpu",
                known: true,
            },
            Case {
                path: "loadtest.environment.MY_VAR",
                known: true,
            },
            Case {
                path: "loadtest.environment_external_secret.db",
                known: true,
            },
            Case {
                path: "ingress.hosts",
                known: true,
            },
            Case {
                path: "ingress.hosts.x",
                known: false,
            },
            Case {
                path: "master.tolerations",
                known: true,
            },
            Case {
                path: "master.tolerations.key",
                known: false,
            },
            Case {
                path: "worker.keda.triggers",
                known: true,
            },
            Case {
                path: "extraObjects",
                known: true,
            },
            Case {
                path: "worker.hpa.enable",
                known: false,
            },
            Case {
                path: "master.replica",
                known: false,
            },
            Case {
                path: "loadTest.name",
                known: false,
            },
            // Read only by a helper no template calls.
            Case {
                path: "worker.config.configmapName",
                known: false,
            },
        ];
        for c in table {
            assert_eq!(is_known(c.path), c.known, "{}", c.path);
        }
    }

    #[test]
    fn suggestions_for_unknown_keys() {
        struct Case {
            given: &'static str,
            suggested: Option<&'static str>,
        }
        let table = [
            Case {
                given: "worker.loglevel",
                suggested: Some("worker.logLevel"),
            },
            Case {
                given: "worker.hpa.enable",
                suggested: Some("worker.hpa.enabled"),
            },
            Case {
                given: "master.replica",
                suggested: Some("master.replicas"),
            },
            Case {
                given: "loadTest.name",
                suggested: Some("loadtest.name"),
            },
            Case {
                given: "worker.enviroment.FEATURE",
                suggested: Some("worker.environment.FEATURE"),
            },
            Case {
                given: "master.podAnnotations",
                suggested: None,
            },
            Case {
                given: "something.else",
                suggested: None,
            },
        ];
        for c in table {
            assert_eq!(did_you_mean(c.given).as_deref(), c.suggested, "{}", c.given);
        }
    }

    #[test]
    fn settable_keys_of_uses_paths() {
        struct Case {
            path: &'static str,
            renders: &'static [Render],
            key: &'static str,
            open: bool,
        }
        let table = [
            Case {
                path: "loadtest.environment.<key>",
                renders: &[R::Bare],
                key: "loadtest.environment",
                open: true,
            },
            Case {
                path: "loadtest.environment.*",
                renders: &[R::Quote],
                key: "loadtest.environment",
                open: true,
            },
            Case {
                path: "ingress.hosts[].host",
                renders: &[R::Quote],
                key: "ingress.hosts",
                open: false,
            },
            Case {
                path: "master.affinity",
                renders: &[R::Test, R::ToYaml],
                key: "master.affinity",
                open: true,
            },
            Case {
                path: "master.tolerations",
                renders: &[R::Test, R::ToYaml],
                key: "master.tolerations",
                open: false,
            },
            Case {
                path: "worker.keda.triggers",
                renders: &[R::Tpl],
                key: "worker.keda.triggers",
                open: false,
            },
            Case {
                path: "master.replicas",
                renders: &[R::Bare],
                key: "master.replicas",
                open: false,
            },
        ];
        for c in table {
            assert_eq!(settable(c.path, c.renders), (c.key, c.open), "{}", c.path);
        }
    }

    #[test]
    fn bare_positions_take_their_type() {
        let positions: Vec<_> = bare_positions().collect();
        assert!(positions.contains(&("worker.replicas", BareType::Int)));
        assert!(positions.contains(&("loadtest.environment.<key>", BareType::Text)));
        // Environment values are quoted by the chart: not a bare position.
        assert!(
            !positions
                .iter()
                .any(|(p, _)| *p == "loadtest.environment.*")
        );
        // Every typed position is a bare one.
        for (typed, _) in BARE_TYPES {
            assert!(positions.iter().any(|(p, _)| p == typed), "{typed}");
        }
        assert_eq!(
            templated().collect::<Vec<_>>(),
            ["extraObjects[]", "worker.keda.triggers"]
        );
    }

    #[test]
    fn paths_reach_keys_values_and_items() {
        struct Case {
            path: &'static str,
            values: &'static str,
            reached: &'static [(&'static str, &'static str, bool)],
        }
        let table = [
            Case {
                path: "loadtest.environment.<key>",
                values: "{loadtest: {environment: {A: x, B: y}}}",
                reached: &[
                    ("loadtest.environment", "A", true),
                    ("loadtest.environment", "B", true),
                ],
            },
            Case {
                path: "loadtest.environment.*",
                values: "{loadtest: {environment: {A: x}}}",
                reached: &[("loadtest.environment.A", "x", false)],
            },
            Case {
                path: "loadtest.pip_packages[]",
                values: "{loadtest: {pip_packages: [a, b]}}",
                reached: &[
                    ("loadtest.pip_packages[0]", "a", false),
                    ("loadtest.pip_packages[1]", "b", false),
                ],
            },
            Case {
                path: "loadtest.mount_external_secret.files.*[]",
                values: "{loadtest: {mount_external_secret: {files: {s: [k1]}}}}",
                reached: &[("loadtest.mount_external_secret.files.s[0]", "k1", false)],
            },
            Case {
                path: "ingress.hosts[].pathType",
                values: "{ingress: {hosts: [{host: h, pathType: Prefix}, {host: g}]}}",
                reached: &[("ingress.hosts[0].pathType", "Prefix", false)],
            },
            Case {
                path: "loadtest.pip_packages[]",
                values: "{loadtest: {pip_packages: not-a-list}}",
                reached: &[],
            },
        ];
        for c in table {
            let values = node(c.values);
            let got: Vec<(String, String, bool)> = reach(&values, c.path)
                .into_iter()
                .map(|r| (r.at, r.node.key_text(), r.is_key))
                .collect();
            let want: Vec<(String, String, bool)> = c
                .reached
                .iter()
                .map(|(a, t, k)| (a.to_string(), t.to_string(), *k))
                .collect();
            assert_eq!(got, want, "{}", c.path);
        }
    }

    #[test]
    fn bare_values_must_read_back_as_themselves() {
        struct Case {
            value: &'static str,
            kind: BareType,
            ok: bool,
        }
        let pull = BARE_TYPES[0].1;
        let table = [
            Case {
                value: "IfNotPresent",
                kind: pull,
                ok: true,
            },
            Case {
                value: "\"Always\\n      hostPID: true\"",
                kind: pull,
                ok: false,
            },
            Case {
                value: "sometimes",
                kind: pull,
                ok: false,
            },
            Case {
                value: "3",
                kind: BareType::Int,
                ok: true,
            },
            Case {
                value: "\"3\"",
                kind: BareType::Int,
                ok: false,
            },
            Case {
                value: "https://shop.example.com/x?a=1&b=2",
                kind: BareType::Text,
                ok: true,
            },
            Case {
                value: "2.32.2",
                kind: BareType::Text,
                ok: true,
            },
            Case {
                value: "\"a\\nb\"",
                kind: BareType::Text,
                ok: false,
            },
            Case {
                value: "'x #y'",
                kind: BareType::Text,
                ok: false,
            },
            Case {
                value: "'*alias'",
                kind: BareType::Text,
                ok: false,
            },
            Case {
                value: "'{a: b}'",
                kind: BareType::Text,
                ok: false,
            },
            Case {
                value: "'a: b'",
                kind: BareType::Text,
                ok: false,
            },
            Case {
                value: "'say \"hi\"'",
                kind: BareType::Text,
                ok: false,
            },
            Case {
                value: "\"'on'\"",
                kind: BareType::Text,
                ok: false,
            },
            Case {
                value: "'<<'",
                kind: BareType::Text,
                ok: true,
            },
            Case {
                value: "[a]",
                kind: BareType::Text,
                ok: false,
            },
        ];
        for c in table {
            let problem = bare_problem(&node(c.value), c.kind);
            assert_eq!(problem.is_none(), c.ok, "{}: {problem:?}", c.value);
        }
        assert!(bare_problem(&Node::null(), BareType::Int).is_none());
    }
}
