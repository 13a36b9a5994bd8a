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

/// The pod paths in chart values that `local` writes under its temporary folder: the
/// locustfile's mount path and the mount paths of both roles' containers and init containers,
/// as (chart value path, path).
pub fn pod_paths(values: &crate::yaml::Node) -> Vec<(String, String)> {
    use crate::yaml::Node;
    let mut out = Vec::new();
    if let Some(p) = values
        .get_path(&["loadtest", "locust_locustfile_path"])
        .and_then(Node::as_str)
    {
        out.push(("loadtest.locust_locustfile_path".to_string(), p.to_string()));
    }
    let mounts = |list: Option<&Node>, at: &str, out: &mut Vec<(String, String)>| {
        for (i, m) in list
            .and_then(Node::as_seq)
            .into_iter()
            .flatten()
            .enumerate()
        {
            if let Some(p) = m.get_path(&["mountPath"]).and_then(Node::as_str) {
                out.push((format!("{at}[{i}].mountPath"), p.to_string()));
            }
        }
    };
    for role in ["master", "worker"] {
        mounts(
            values.get_path(&[role, "extraVolumeMounts"]),
            &format!("{role}.extraVolumeMounts"),
            &mut out,
        );
        let inits = values.get_path(&[role, "initContainers"]);
        for (i, c) in inits
            .and_then(Node::as_seq)
            .into_iter()
            .flatten()
            .enumerate()
        {
            mounts(
                c.get_path(&["volumeMounts"]),
                &format!("{role}.initContainers[{i}].volumeMounts"),
                &mut out,
            );
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
    fn climbing_paths() {
        assert_eq!(climbs_out("/mnt/locust"), None);
        assert_eq!(climbs_out("/a..b/c"), None);
        assert_eq!(climbs_out("/../../../x").as_deref(), Some("/x"));
        assert_eq!(climbs_out("/a/b/../c/./d").as_deref(), Some("/a/c/d"));
        assert_eq!(climbs_out("..").as_deref(), Some("/"));
    }
}
