//! Where pod templates live in each workload kind.

use crate::yaml::Node;

pub fn kind_of(obj: &Node) -> Option<&str> {
    obj.get_path(&["kind"]).and_then(Node::as_str)
}

pub fn name_of(obj: &Node) -> &str {
    obj.get_path(&["metadata", "name"])
        .and_then(Node::as_str)
        .unwrap_or("<unnamed>")
}

/// The path from the object to its pod template (`metadata` + `spec`); empty for a Pod.
pub fn template_path(kind: &str) -> Option<&'static [&'static str]> {
    match kind {
        "Pod" => Some(&[]),
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job" => Some(&["spec", "template"]),
        "CronJob" => Some(&["spec", "jobTemplate", "spec", "template"]),
        _ => None,
    }
}

pub fn template_mut<'a>(obj: &'a mut Node, path: &[&str]) -> Option<&'a mut Node> {
    path.iter()
        .try_fold(obj, |node, key| node.as_map_mut()?.get_mut(key))
}

/// The container lists of a pod spec, with their field names.
pub const CONTAINER_FIELDS: &[&str] = &["initContainers", "containers", "ephemeralContainers"];
