//! Compares the `helm.sh/chart: locust-<version>` label with the versions `charts-lock/` lists
//! as verified. Helm's label is `<name>-<version>` and a chart version starts with a digit, so
//! `locust-mini-0.1.0` is another chart (`locust-mini`), not a version of `locust`.

use crate::yaml::Node;

/// The unverified locust chart version an object was rendered from, if any.
pub fn unverified_version(obj: &Node) -> Option<String> {
    let label = obj
        .get_path(&["metadata", "labels", "helm.sh/chart"])
        .and_then(Node::as_str)?;
    let lock = crate::lock::chart_lock();
    let version = label
        .strip_prefix(lock.name.as_str())?
        .strip_prefix('-')
        .filter(|v| v.starts_with(|c: char| c.is_ascii_digit()))?;
    (!lock.verified_versions.iter().any(|v| v == version)).then(|| version.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_single;

    /// (what the row shows, an object, the unverified version it names).
    #[test]
    fn chart_versions() {
        let verified = &crate::lock::chart_lock().verified_versions[0];
        let rows: &[(&str, String, Option<&str>)] = &[
            (
                "a verified version",
                format!("kind: Service\nmetadata: {{labels: {{helm.sh/chart: locust-{verified}}}}}"),
                None,
            ),
            (
                "another version",
                "kind: Service\nmetadata: {labels: {helm.sh/chart: locust-0.99.0}}".into(),
                Some("0.99.0"),
            ),
            (
                "another chart",
                "kind: Service\nmetadata: {labels: {helm.sh/chart: redis-1.2.3}}".into(),
                None,
            ),
            (
                "a chart whose name starts with locust- (the test chart)",
                "kind: Service\nmetadata: {labels: {helm.sh/chart: locust-mini-0.1.0}}".into(),
                None,
            ),
            (
                "a version with a build suffix (Helm writes + as _)",
                "kind: Service\nmetadata: {labels: {helm.sh/chart: locust-0.35.0_build.1}}".into(),
                Some("0.35.0_build.1"),
            ),
            (
                "no chart label",
                "kind: Service\nmetadata: {labels: {app: locust}}".into(),
                None,
            ),
            (
                "the version of the label only, not of other labels or annotations",
                "kind: Service\nmetadata: {labels: {chart: locust-0.99.0}, annotations: {helm.sh/chart: locust-0.99.0}}".into(),
                None,
            ),
            (
                "a label that is not a string",
                "kind: Service\nmetadata: {labels: {helm.sh/chart: [locust-0.99.0]}}".into(),
                None,
            ),
        ];
        let mut failed = Vec::new();
        for (what, input, want) in rows {
            let got = unverified_version(&parse_single(input).unwrap());
            if got.as_deref() != *want {
                failed.push(format!("- {what}: {got:?}"));
            }
        }
        assert!(failed.is_empty(), "{}", failed.join("\n"));
    }
}
