//! The pinned chart (`charts-lock/locust.yaml`), embedded at build time.

use crate::yaml::{Node, parse_single};
use std::sync::OnceLock;

pub const LOCK_TEXT: &str = include_str!("../charts-lock/locust.yaml");

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartLock {
    pub name: String,
    pub repository: String,
    pub version: String,
    pub app_version: String,
    pub digest: String,
    pub image: String,
    pub verified_versions: Vec<String>,
}

pub fn chart_lock() -> &'static ChartLock {
    static LOCK: OnceLock<ChartLock> = OnceLock::new();
    LOCK.get_or_init(|| {
        let node = parse_single(LOCK_TEXT).expect("charts-lock/locust.yaml is valid YAML");
        let s = |k: &str| {
            node.get_path(&[k])
                .and_then(Node::as_str)
                .unwrap_or_else(|| panic!("charts-lock: {k}"))
                .to_string()
        };
        ChartLock {
            name: s("name"),
            repository: s("repository"),
            version: s("version"),
            app_version: node
                .get_path(&["appVersion"])
                .map(|n| n.as_scalar().unwrap().text.clone())
                .unwrap(),
            digest: s("digest"),
            image: s("image"),
            verified_versions: node
                .get_path(&["verifiedVersions"])
                .and_then(Node::as_seq)
                .map(|v| {
                    v.iter()
                        .map(|n| n.as_scalar().unwrap().text.clone())
                        .collect()
                })
                .unwrap_or_default(),
        }
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn lock_reads() {
        let l = super::chart_lock();
        assert_eq!(l.version, "0.35.0");
        assert!(l.digest.starts_with("sha256:") && l.digest.len() == 71);
        assert!(l.verified_versions.contains(&l.version));
    }
}
