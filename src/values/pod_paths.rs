//! Pod paths in chart values that climb out with `..`. A container resolves them below `/`,
//! so the chart and the cluster take them; `local` refuses them (it keeps every path it writes
//! inside its own folder), and `check` warns at the `helmValues` key that set one.

use super::helm_values::{set_by, set_path};

/// A pod path with a `..` component, and where a container runtime resolves it (never above
/// `/`): `/../../x` → `/x`. `None` for a path without `..`.
pub fn climbs_out(path: &str) -> Option<String> {
    if !path.split('/').any(|c| c == "..") {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    Some(format!("/{}", parts.join("/")))
}

/// The pod paths in chart values that `local` writes under its temporary folder, as (chart
/// value path, path): the mount paths of both roles' containers and init containers in the
/// chart model's Deployments, master first, that a value gives as written — the locustfile's
/// folder, the roles' `extraVolumeMounts` and `initContainers`. (`local` materialises only the
/// script ConfigMaps and emptyDirs; `extraConfigMaps` and external secrets it never writes.)
pub fn pod_paths(values: &crate::yaml::Node) -> Vec<(String, String)> {
    use crate::yaml::Node;
    let mut out: Vec<(String, String)> = Vec::new();
    for rendered in crate::chart::render_both(values, "release") {
        let role = rendered.role.key();
        let written = |value: &str| {
            value == "loadtest.locust_locustfile_path"
                || value.starts_with(&format!("{role}.extraVolumeMounts["))
                || value == format!("{role}.initContainers")
        };
        let pod = rendered.pod_spec();
        for list in ["containers", "initContainers"] {
            let containers = pod.and_then(|p| p.get_path(&[list])).and_then(Node::as_seq);
            for (i, c) in containers.into_iter().flatten().enumerate() {
                let mounts = c.get_path(&["volumeMounts"]).and_then(Node::as_seq);
                for (j, m) in mounts.into_iter().flatten().enumerate() {
                    let field =
                        format!("spec.template.spec.{list}[{i}].volumeMounts[{j}].mountPath");
                    let (Some((source, rest)), Some(path)) = (
                        rendered.value_of(&field),
                        m.get_path(&["mountPath"]).and_then(Node::as_str),
                    ) else {
                        continue;
                    };
                    let at = format!("{}{rest}", source.value);
                    if source.exact && written(&source.value) && !out.iter().any(|(a, _)| *a == at)
                    {
                        out.push((at, path.to_string()));
                    }
                }
            }
        }
    }
    out
}

/// `helmValues` that set a pod path with `..`: a container resolves it below `/`, so the chart
/// and the cluster take it, but `local` refuses it (it keeps every path it writes inside its own
/// folder). Named at the `helmValues` key that set it.
pub fn warn_climbing_pod_paths(helm_values: &[(String, String)], d: &mut crate::diag::Findings) {
    // The values the keys set, alone: the spec's own paths never climb out.
    let mut overlay = crate::yaml::Node::map();
    for (path, raw) in helm_values {
        // Invalid YAML is reported where the values are built.
        if let Ok(Some(v)) = crate::yaml::parse_document(raw) {
            set_path(&mut overlay, path, v);
        }
    }
    for (field, path) in pod_paths(&overlay) {
        if let Some(resolved) = climbs_out(&path) {
            let key = field.split('[').next().unwrap_or(&field);
            d.warn(
                set_by(helm_values, key),
                format!(
                    "`{field}` is `{path}`: a container resolves it to `{resolved}`, but `local` refuses a pod path with `..` (it keeps every path it writes inside its own folder); write `{resolved}`"
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_paths_are_the_mounts_values_write() {
        struct Case {
            values: &'static str,
            paths: &'static [(&'static str, &'static str)],
        }
        let table = [
            Case {
                values: "{}",
                paths: &[("loadtest.locust_locustfile_path", "/mnt/locust")],
            },
            Case {
                values: "{loadtest: {locust_locustfile_path: /s, locust_locustfile_configmap: ''}, extraConfigMaps: {d: /d}, \
                         master: {extraVolumeMounts: [{name: t, mountPath: /t}], initContainers: [{name: i, volumeMounts: [{name: t, mountPath: /u}]}]}, \
                         worker: {extraVolumeMounts: [{name: w, mountPath: /../w}]}}",
                paths: &[
                    ("master.extraVolumeMounts[0].mountPath", "/t"),
                    ("master.initContainers[0].volumeMounts[0].mountPath", "/u"),
                    ("worker.extraVolumeMounts[0].mountPath", "/../w"),
                ],
            },
        ];
        for c in table {
            let values = crate::yaml::parse_single(c.values).unwrap();
            let got = pod_paths(&values);
            let want: Vec<(String, String)> = c
                .paths
                .iter()
                .map(|(a, p)| (a.to_string(), p.to_string()))
                .collect();
            assert_eq!(got, want, "{}", c.values);
        }
    }

    #[test]
    fn climbing_paths() {
        assert_eq!(climbs_out("/mnt/locust"), None);
        assert_eq!(climbs_out("/a..b/c"), None);
        assert_eq!(climbs_out("/../../../x").as_deref(), Some("/x"));
        assert_eq!(climbs_out("/a/b/../c/./d").as_deref(), Some("/a/c/d"));
        assert_eq!(climbs_out("..").as_deref(), Some("/"));
    }
}
