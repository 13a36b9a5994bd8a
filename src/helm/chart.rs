//! The chart to render: a local directory, a local archive (digest-checked), or the pinned
//! chart pulled by helm and checked against `charts-lock/` before use (then cached).

use super::{Helm, HelmError, run};
use crate::lock::chart_lock;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// `sha256:<hex>` of a file.
pub fn file_digest(path: &Path) -> Result<String, HelmError> {
    let bytes = std::fs::read(path).map_err(HelmError::io(path.display()))?;
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
        return Err(HelmError::Refused(format!(
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
    crate::contract::cache_root().map(|c| c.join("charts"))
}

/// Resolves `--chart` (directory or archive), else pulls the pinned chart from its OCI
/// reference or from `repo_url` (a classic chart repository, e.g. a mirror).
pub fn resolve(
    helm: &Helm,
    chart: Option<&str>,
    repo_url: Option<&str>,
) -> Result<PathBuf, HelmError> {
    if let Some(c) = chart {
        return local_chart(c);
    }
    let lock = chart_lock();
    let file_name = format!("{}-{}.tgz", lock.name, lock.version);
    let cache = cache_dir();
    if let Some(cached) = verified_cached(cache.as_deref(), &file_name) {
        return Ok(cached);
    }
    let tmp = tempfile::tempdir().map_err(HelmError::io("a temporary folder for the pull"))?;
    let pulled = pull(helm, repo_url, tmp.path(), &file_name)?;
    let dir = cache.ok_or_else(|| {
        HelmError::Refused("no cache directory (set XDG_CACHE_HOME or HOME)".into())
    })?;
    std::fs::create_dir_all(&dir).map_err(HelmError::io(dir.display()))?;
    let target = dir.join(&file_name);
    std::fs::copy(&pulled, &target).map_err(HelmError::io(target.display()))?;
    Ok(target)
}

/// `--chart`: a directory is used as it is; an archive only with the pinned digest.
fn local_chart(c: &str) -> Result<PathBuf, HelmError> {
    let p = PathBuf::from(c);
    if p.is_dir() {
        return Ok(p);
    }
    if !p.is_file() {
        return Err(HelmError::Refused(format!(
            "--chart {c}: no such chart directory or archive"
        )));
    }
    verify_archive(&p)?;
    Ok(p)
}

/// The cached archive if it still has the pinned digest; one that does not is removed, so the
/// pull replaces it.
fn verified_cached(cache: Option<&Path>, file_name: &str) -> Option<PathBuf> {
    let cached = cache.map(|d| d.join(file_name)).filter(|p| p.is_file())?;
    if verify_archive(&cached).is_ok() {
        return Some(cached);
    }
    let _ = std::fs::remove_file(&cached);
    None
}

/// `helm pull` of the pinned chart into `dest`; the archive, verified.
fn pull(
    helm: &Helm,
    repo_url: Option<&str>,
    dest: &Path,
    file_name: &str,
) -> Result<PathBuf, HelmError> {
    let lock = chart_lock();
    let dest_arg = dest.display().to_string();
    let args: Vec<String> = match repo_url {
        Some(url) => vec![
            "pull".into(),
            lock.name.clone(),
            "--repo".into(),
            url.into(),
            "--version".into(),
            lock.version.clone(),
            "--destination".into(),
            dest_arg,
        ],
        None => vec![
            "pull".into(),
            lock.repository.clone(),
            "--version".into(),
            lock.version.clone(),
            "--destination".into(),
            dest_arg,
        ],
    };
    let mut progress = crate::progress::Progress::start(format!(
        "pulling chart {} {} from {}",
        lock.name,
        lock.version,
        repo_url.unwrap_or(&lock.repository)
    ));
    let pulled = run(helm, &args, &[])
        .map_err(|e| offline_hint(e, repo_url))
        .and_then(|_| {
            let pulled = dest.join(file_name);
            if !pulled.is_file() {
                return Err(HelmError::Refused(format!(
                    "helm pull did not produce {file_name}"
                )));
            }
            progress.update(format!(
                "checking {file_name} against charts-lock/'s digest"
            ));
            verify_archive(&pulled).map(|()| pulled)
        });
    progress.finish(
        pulled
            .is_ok()
            .then_some("chart pulled and its digest checked"),
    );
    pulled
}

/// A failed pull (offline, a firewall, a registry outage: helm says only what went wrong) gets a
/// last line saying how to do without the network.
fn offline_hint(e: HelmError, repo_url: Option<&str>) -> HelmError {
    let HelmError::Failed { code, stderr } = e else {
        return e;
    };
    let lock = chart_lock();
    let from = repo_url.unwrap_or(&lock.repository);
    HelmError::Failed {
        code,
        stderr: format!(
            "{}\nhint: without --chart, locust-planton pulls the pinned chart ({} {} from {from}); to work offline, pass a local copy with --chart DIR|TGZ: a chart directory, or the archive `helm pull {} --version {}` saves on a connected machine (checked against charts-lock/'s digest)\n",
            stderr.trim_end(),
            lock.name,
            lock.version,
            lock.repository,
            lock.version,
        ),
    }
}
