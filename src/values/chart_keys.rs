//! The value paths the pinned chart (DeliveryHero locust 0.35.0) reads. The chart has no values
//! schema, so a misspelled key is silently ignored by Helm; this list (its defaults plus every
//! `.Values.…` its templates use, collected by hand from the 0.35.0 templates) lets us warn.
//! Entries ending in `.*` are open: any path below them is the user's (maps of labels, env, …).

const KNOWN: &[&str] = &[
    "affinity.*",
    "extraConfigMaps.*",
    "extraLabels.*",
    "extraObjects",
    "fullnameOverride",
    "hostAliases",
    "image.pullPolicy",
    "image.repository",
    "image.tag",
    "imagePullSecrets",
    "ingress.annotations.*",
    "ingress.className",
    "ingress.enabled",
    "ingress.hosts",
    "ingress.tls",
    "loadtest.environment.*",
    "loadtest.environment_external_secret.*",
    "loadtest.environment_load_from_secrets",
    "loadtest.environment_secret.*",
    "loadtest.excludeTags",
    "loadtest.headless",
    "loadtest.locustCmd",
    "loadtest.locust_host",
    "loadtest.locust_lib_configmap",
    "loadtest.locust_locustfile",
    "loadtest.locust_locustfile_configmap",
    "loadtest.locust_locustfile_path",
    "loadtest.locust_requirementsfile_path",
    "loadtest.mount_external_secret.*",
    "loadtest.name",
    "loadtest.pip_packages",
    "loadtest.pip_requirementsfile",
    "loadtest.pip_requirementsfile_configmap",
    "loadtest.tags",
    "nameOverride",
    "nodeSelector.*",
    "podSecurityContext.*",
    "securityContext.*",
    "service.annotations.*",
    "service.extraLabels.*",
    "service.loadBalancerIP",
    "service.nodePort",
    "service.port",
    "service.targetPort",
    "service.type",
    "tolerations",
    "master.affinity.*",
    "master.annotations.*",
    "master.args",
    "master.auth.enabled",
    "master.auth.password",
    "master.auth.username",
    "master.command",
    "master.deploymentAnnotations.*",
    "master.environment.*",
    "master.envs_include_default",
    "master.extraPorts",
    "master.extraVolumeMounts",
    "master.extraVolumes",
    "master.image",
    "master.image.tag",
    "master.initContainers",
    "master.lifecycle.*",
    "master.livenessProbe.*",
    "master.logLevel",
    "master.nodeSelector.*",
    "master.pdb.enabled",
    "master.readinessProbe.*",
    "master.replicas",
    "master.resources.*",
    "master.restartPolicy",
    "master.revisionHistoryLimit",
    "master.serviceAccountAnnotations.*",
    "master.startupProbe.*",
    "master.strategy.*",
    "master.terminationGracePeriodSeconds",
    "master.tolerations",
    "worker.affinity.*",
    "worker.annotations.*",
    "worker.args",
    "worker.command",
    "worker.config.configmapName",
    "worker.deploymentAnnotations.*",
    "worker.environment.*",
    "worker.envs_include_default",
    "worker.extraVolumeMounts",
    "worker.extraVolumes",
    "worker.hpa.enabled",
    "worker.hpa.maxReplicas",
    "worker.hpa.minReplicas",
    "worker.hpa.targetCPUUtilizationPercentage",
    "worker.image",
    "worker.image.tag",
    "worker.initContainers",
    "worker.keda.annotations.*",
    "worker.keda.cooldownPeriod",
    "worker.keda.enabled",
    "worker.keda.failureThreshold",
    "worker.keda.fallbackReplicas",
    "worker.keda.pollingInterval",
    "worker.keda.triggers",
    "worker.logLevel",
    "worker.nodeSelector.*",
    "worker.pdb.enabled",
    "worker.ports.*",
    "worker.replicas",
    "worker.resources.*",
    "worker.restartPolicy",
    "worker.revisionHistoryLimit",
    "worker.serviceAccountAnnotations.*",
    "worker.strategy.*",
    "worker.tolerations",
];

/// Whether the pinned chart reads `path` (a dotted value path). A prefix of a known path (a
/// whole block such as `worker.hpa`) counts as known.
pub fn is_known(path: &str) -> bool {
    KNOWN.iter().any(|k| match k.strip_suffix(".*") {
        Some(open) => {
            path == open
                || path.starts_with(&format!("{open}."))
                || open.starts_with(&format!("{path}."))
        }
        None => *k == path || k.starts_with(&format!("{path}.")),
    })
}

/// How the pinned chart writes a value into its YAML without `toYaml`, `quote` or `tpl` (read
/// from the 0.35.0 templates). A value written that way becomes YAML text itself: a string
/// holding a newline and `hostPID: true`, or a merge key, would add fields to the pod. Such keys
/// take only values of their Kubernetes type, or text that reads back as exactly itself.
#[derive(Clone, Copy, Debug)]
pub enum Bare {
    /// One of these strings (`imagePullPolicy: {{ .Values.image.pullPolicy }}`).
    Enum(&'static [&'static str]),
    /// An integer (`replicas: {{ .Values.master.replicas }}`).
    Int,
    /// One line of text, in `key: {{ }}`, `"{{ }}"` or mid-line.
    Text,
    /// A list whose items are written as text (`pip install {{ range }}{{ . }} {{ end }}`).
    TextList,
    /// A mapping whose keys (and, nested, every key and scalar) are written as text
    /// (`- name: {{ $key }}` / `mountPath: {{ $value }}`).
    TextMap,
}

const RESTART: &[&str] = &["Always", "OnFailure", "Never"];

pub const BARE: &[(&str, Bare)] = &[
    (
        "image.pullPolicy",
        Bare::Enum(&["Always", "IfNotPresent", "Never"]),
    ),
    ("image.repository", Bare::Text),
    ("image.tag", Bare::Text),
    ("master.image", Bare::Text),
    ("worker.image", Bare::Text),
    ("master.restartPolicy", Bare::Enum(RESTART)),
    ("worker.restartPolicy", Bare::Enum(RESTART)),
    ("master.replicas", Bare::Int),
    ("worker.replicas", Bare::Int),
    ("master.revisionHistoryLimit", Bare::Int),
    ("worker.revisionHistoryLimit", Bare::Int),
    ("master.terminationGracePeriodSeconds", Bare::Int),
    ("master.logLevel", Bare::Text),
    ("worker.logLevel", Bare::Text),
    ("master.auth.username", Bare::Text),
    ("master.auth.password", Bare::Text),
    (
        "service.type",
        Bare::Enum(&["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"]),
    ),
    ("service.port", Bare::Int),
    ("service.targetPort", Bare::Int),
    ("service.nodePort", Bare::Int),
    ("service.loadBalancerIP", Bare::Text),
    ("ingress.className", Bare::Text),
    ("worker.hpa.maxReplicas", Bare::Int),
    ("worker.hpa.minReplicas", Bare::Int),
    ("worker.hpa.targetCPUUtilizationPercentage", Bare::Int),
    ("worker.keda.cooldownPeriod", Bare::Int),
    ("worker.keda.pollingInterval", Bare::Int),
    ("worker.config.configmapName", Bare::Text),
    ("nameOverride", Bare::Text),
    ("fullnameOverride", Bare::Text),
    ("loadtest.name", Bare::Text),
    ("loadtest.tags", Bare::Text),
    ("loadtest.excludeTags", Bare::Text),
    ("loadtest.locust_host", Bare::Text),
    ("loadtest.locust_locustfile", Bare::Text),
    ("loadtest.locust_locustfile_path", Bare::Text),
    ("loadtest.locust_locustfile_configmap", Bare::Text),
    ("loadtest.locust_lib_configmap", Bare::Text),
    ("loadtest.locust_requirementsfile_path", Bare::Text),
    ("loadtest.pip_requirementsfile", Bare::Text),
    ("loadtest.pip_requirementsfile_configmap", Bare::Text),
    ("loadtest.locustCmd", Bare::Text),
    ("loadtest.pip_packages", Bare::TextList),
    ("extraConfigMaps", Bare::TextMap),
    ("extraLabels", Bare::TextMap),
    ("loadtest.environment", Bare::TextMap),
    ("master.environment", Bare::TextMap),
    ("worker.environment", Bare::TextMap),
    ("loadtest.environment_secret", Bare::TextMap),
    ("loadtest.environment_external_secret", Bare::TextMap),
    ("loadtest.mount_external_secret", Bare::TextMap),
];

/// Why `value` cannot be written bare as `kind`, if it cannot.
pub fn bare_problem(value: &crate::yaml::Node, kind: Bare) -> Option<String> {
    use crate::yaml::Node;
    if value.is_null() {
        return None;
    }
    match kind {
        Bare::Int => value
            .as_i64()
            .is_none()
            .then(|| format!("must be an integer, not {}", value.type_name())),
        Bare::Enum(allowed) => match value.as_str() {
            Some(s) if allowed.contains(&s) => None,
            _ => Some(format!(
                "must be one of {}, not {}",
                allowed.join(", "),
                describe(value)
            )),
        },
        Bare::Text => text_problem(value),
        Bare::TextList => match value {
            Node::Seq(items) => items.iter().find_map(text_problem),
            other => text_problem(other),
        },
        Bare::TextMap => map_problem(value),
    }
}

fn map_problem(value: &crate::yaml::Node) -> Option<String> {
    use crate::yaml::Node;
    match value {
        Node::Map(m) => m
            .iter()
            .find_map(|(k, v)| text_problem(k).or_else(|| map_problem(v))),
        Node::Seq(items) => items.iter().find_map(map_problem),
        scalar => text_problem(scalar),
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

    #[test]
    fn known_and_unknown() {
        assert!(is_known("worker.hpa.enabled"));
        assert!(is_known("worker.hpa"));
        assert!(is_known("master.resources.limits.cpu"));
        assert!(is_known("loadtest.environment.MY_VAR"));
        assert!(!is_known("worker.hpa.enable"));
        assert!(!is_known("master.replica"));
        assert!(!is_known("loadTest.name"));
    }

    #[test]
    fn bare_values_must_read_back_as_themselves() {
        use crate::yaml::{Node, parse_single};
        let v = |t: &str| {
            parse_single(&format!("v: {t}\n"))
                .unwrap()
                .get_path(&["v"])
                .unwrap()
                .clone()
        };
        let table: &[(&str, Bare, bool)] = &[
            ("IfNotPresent", BARE[0].1, true),
            ("\"Always\\n      hostPID: true\"", BARE[0].1, false),
            ("sometimes", BARE[0].1, false),
            ("3", Bare::Int, true),
            ("\"3\"", Bare::Int, false),
            ("https://shop.example.com/x?a=1&b=2", Bare::Text, true),
            ("2.32.2", Bare::Text, true),
            ("\"a\\nb\"", Bare::Text, false),
            ("'x #y'", Bare::Text, false),
            ("'*alias'", Bare::Text, false),
            ("'{a: b}'", Bare::Text, false),
            ("'a: b'", Bare::Text, false),
            ("'say \"hi\"'", Bare::Text, false),
            ("[a, 'b c']", Bare::TextList, true),
            ("[a, \"b\\nc\"]", Bare::TextList, false),
            ("{NAME: x, '<<': y}", Bare::TextMap, true),
            ("{'A: B': x}", Bare::TextMap, false),
            ("{files: {s: ['k\n  x: y']}}", Bare::TextMap, false),
        ];
        for (text, kind, ok) in table {
            assert_eq!(
                bare_problem(&v(text), *kind).is_none(),
                *ok,
                "{text}: {:?}",
                bare_problem(&v(text), *kind)
            );
        }
        assert!(bare_problem(&Node::null(), Bare::Int).is_none());
    }
}
