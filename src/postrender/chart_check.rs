//! Compares the `helm.sh/chart: locust-<version>` label with the versions `charts-lock/` lists
//! as verified.

use crate::yaml::Node;

/// The unverified locust chart version an object was rendered from, if any.
pub fn unverified_version(obj: &Node) -> Option<String> {
    let label = obj
        .get_path(&["metadata", "labels", "helm.sh/chart"])
        .and_then(Node::as_str)?;
    let version = label.strip_prefix("locust-")?;
    let lock = crate::lock::chart_lock();
    (!lock.verified_versions.iter().any(|v| v == version)).then(|| version.to_string())
}
