//! The chart to render: a local directory, a local archive (digest-checked), or the pinned
//! chart pulled by helm and checked against `charts-lock/` before use (then cached).

use super::{Helm, HelmError, run};
use crate::lock::chart_lock;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// `sha256:<hex>` of a file.
pub fn file_digest(path: &Path) -> Result<String, HelmError> {
    let bytes =
        std::fs::read(path).map_err(|e| HelmError::Other(format!("{}: {e}", path.display())))?;
    let hex: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(format!("sha256:{hex}"))
}

/// Checks an archive against the pinned digest; the error names both.
pub fn verify_archive(path: &Path) -> Result<(), HelmError> {
    let lock = chart_lock();
    let got = file_digest(path)?;
    if got != lock.digest {
        return Err(HelmError::Other(format!(
            "chart archive {} has digest {got}, but charts-lock/locust.yaml pins {} {} to {}; refusing to use it",
            path.display(),
            lock.name,
            lock.version,
            lock.digest
        )));
    }
    Ok(())
}

/// Where verified pulls are cached: `$XDG_CACHE_HOME/locust-planton/charts` or `~/.cache/…`.
pub fn cache_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|c| c.join("locust-planton/charts"))
}

/// Resolves `--chart` (directory or archive), else pulls the pinned chart from its OCI
/// reference or from `repo_url` (a classic chart repository, e.g. a mirror).
pub fn resolve(
    helm: &Helm,
    chart: Option<&str>,
    repo_url: Option<&str>,
) -> Result<PathBuf, HelmError> {
    if let Some(c) = chart {
        let p = PathBuf::from(c);
        if p.is_dir() {
            return Ok(p);
        }
        if !p.is_file() {
            return Err(HelmError::Other(format!(
                "--chart {c}: no such chart directory or archive"
            )));
        }
        verify_archive(&p)?;
        return Ok(p);
    }
    let lock = chart_lock();
    let file_name = format!("{}-{}.tgz", lock.name, lock.version);
    let cache = cache_dir();
    if let Some(cached) = cache
        .as_ref()
        .map(|d| d.join(&file_name))
        .filter(|p| p.is_file())
    {
        if verify_archive(&cached).is_ok() {
            return Ok(cached);
        }
        let _ = std::fs::remove_file(&cached);
    }
    let tmp = tempfile::tempdir().map_err(|e| HelmError::Other(e.to_string()))?;
    let dest = tmp.path().display().to_string();
    let args: Vec<String> = match repo_url {
        Some(url) => vec![
            "pull".into(),
            lock.name.clone(),
            "--repo".into(),
            url.into(),
            "--version".into(),
            lock.version.clone(),
            "--destination".into(),
            dest,
        ],
        None => vec![
            "pull".into(),
            lock.repository.clone(),
            "--version".into(),
            lock.version.clone(),
            "--destination".into(),
            dest,
        ],
    };
    run(helm, &args, &[])?;
    let pulled = tmp.path().join(&file_name);
    if !pulled.is_file() {
        return Err(HelmError::Other(format!(
            "helm pull did not produce {file_name}"
        )));
    }
    verify_archive(&pulled)?;
    let dir = cache.ok_or_else(|| {
        HelmError::Other("no cache directory (set XDG_CACHE_HOME or HOME)".into())
    })?;
    std::fs::create_dir_all(&dir)
        .map_err(|e| HelmError::Other(format!("{}: {e}", dir.display())))?;
    let target = dir.join(&file_name);
    std::fs::copy(&pulled, &target)
        .map_err(|e| HelmError::Other(format!("{}: {e}", target.display())))?;
    Ok(target)
}
