//! The pinned chart (`charts-lock/locust.yaml`), embedded at build time, and where it can be
//! pulled from instead of its OCI reference (`mirror`).

pub mod mirror;

use crate::yaml::{Node, parse_single};
use std::collections::BTreeMap;
use std::sync::OnceLock;

pub const LOCK_TEXT: &str = include_str!("../charts-lock/locust.yaml");

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartLock {
    pub name: String,
    pub repository: String,
    pub version: String,
    pub app_version: String,
    /// What the chart contains (`helm::content`): what a chart is checked against.
    pub content_digest: String,
    /// The sha256 of one published archive, for information (upstream re-packages).
    pub archive_digest: String,
    /// The same as `archive_digest`: the lock's former `digest`, kept for its readers.
    pub digest: String,
    /// Every file of the chart: path → hex sha256, for naming the files that differ.
    pub content_files: BTreeMap<String, String>,
    pub image: String,
    pub verified_versions: Vec<String>,
}

pub fn chart_lock() -> &'static ChartLock {
    static LOCK: OnceLock<ChartLock> = OnceLock::new();
    LOCK.get_or_init(|| read_lock(LOCK_TEXT).expect("charts-lock/locust.yaml is valid"))
}

/// A lock's text read; Err names the field that is missing.
pub fn read_lock(text: &str) -> Result<ChartLock, String> {
    let node = parse_single(text).map_err(|e| e.to_string())?;
    let text_of = |k: &str| -> Option<String> {
        node.get_path(&[k])
            .and_then(Node::as_scalar)
            .map(|s| s.text.clone())
    };
    let s = |k: &str| text_of(k).ok_or_else(|| format!("charts-lock: {k} is missing"));
    let archive_digest = text_of("archiveDigest")
        .or_else(|| text_of("digest"))
        .ok_or("charts-lock: archiveDigest (or digest) is missing")?;
    let content_files = node
        .get_path(&["contentFiles"])
        .and_then(Node::as_map)
        .ok_or("charts-lock: contentFiles is missing")?
        .iter()
        .map(|(k, v)| {
            (
                k.key_text(),
                v.as_scalar().map_or_else(String::new, |s| s.text.clone()),
            )
        })
        .collect();
    Ok(ChartLock {
        name: s("name")?,
        repository: s("repository")?,
        version: s("version")?,
        app_version: s("appVersion")?,
        content_digest: s("contentDigest")?,
        digest: archive_digest.clone(),
        archive_digest,
        content_files,
        image: s("image")?,
        verified_versions: node
            .get_path(&["verifiedVersions"])
            .and_then(Node::as_seq)
            .map(|v| {
                v.iter()
                    .filter_map(|n| n.as_scalar().map(|s| s.text.clone()))
                    .collect()
            })
            .unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn lock_reads() {
        let l = super::chart_lock();
        assert_eq!(l.version, "0.35.0");
        for d in [&l.content_digest, &l.archive_digest] {
            assert!(d.starts_with("sha256:") && d.len() == 71, "{d}");
        }
        assert_eq!(l.digest, l.archive_digest);
        assert!(l.verified_versions.contains(&l.version));
    }

    /// The content digest is the digest of the file list the lock holds.
    #[test]
    fn the_content_digest_is_that_of_the_files_listed() {
        let l = super::chart_lock();
        assert!(l.content_files.contains_key("Chart.yaml"));
        use sha2::{Digest, Sha256};
        let lines: String = l
            .content_files
            .iter()
            .map(|(path, hash)| format!("{path}\0{hash}\n"))
            .collect();
        let hex: String = Sha256::digest(lines.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(format!("sha256:{hex}"), l.content_digest);
    }

    #[test]
    fn digest_is_read_as_the_alias_of_archive_digest() {
        let old = super::LOCK_TEXT.replace("archiveDigest:", "digest:");
        let l = super::read_lock(&old).unwrap();
        assert_eq!(l.archive_digest, super::chart_lock().archive_digest);
        let none = super::LOCK_TEXT.replace("archiveDigest:", "other:");
        assert!(
            super::read_lock(&none)
                .unwrap_err()
                .contains("archiveDigest")
        );
    }
}
