//! The chart to render: a local directory (content-checked: a warning, a refusal under
//! `--strict-chart`), a local archive, or the pinned chart pulled by helm from its OCI reference
//! or a mirror; archives are used only when their content is the pinned chart's
//! ([`super::content`]), whatever their bytes, and verified pulls are cached.

use super::content::{ChartContent, Difference};
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

/// How the files of `content` differ from the pinned chart's.
pub fn difference(content: &ChartContent) -> Difference {
    content.compare(&chart_lock().content_files)
}

/// What a user without this repository can do when a chart is not the pinned one.
pub fn what_to_do() -> String {
    let lock = chart_lock();
    format!(
        "locust-planton {} needs the {} chart {} with unchanged files (content {}): pass a copy with --chart DIR|TGZ (`helm pull {} --version {}` saves one), or a mirror that holds it with --chart-repo oci://HOST/PATH|URL",
        env!("CARGO_PKG_VERSION"),
        lock.name,
        lock.version,
        lock.content_digest,
        lock.repository,
        lock.version,
    )
}

/// Checks an archive's content against the pinned chart; the error names the files that differ.
pub fn verify_archive(path: &Path) -> Result<(), HelmError> {
    let content = ChartContent::from_archive(path).map_err(HelmError::Refused)?;
    let diff = difference(&content);
    if diff.is_empty() {
        return Ok(());
    }
    let lock = chart_lock();
    Err(HelmError::Refused(format!(
        "chart archive {} is not {} {} as pinned: its files differ ({}); refusing to use it. {}",
        path.display(),
        lock.name,
        lock.version,
        diff.describe(),
        what_to_do()
    )))
}

/// `--chart DIR`: its content as Helm reads it (`helm package` into a temporary folder, so
/// `.helmignore` and Helm's own loading rules apply) against the pinned chart. `Ok(None)` when
/// it is the pinned chart, `Ok(Some(warning))` when not, Err under `strict`.
pub fn check_dir(helm: &Helm, dir: &Path, strict: bool) -> Result<Option<String>, HelmError> {
    let tmp = tempfile::tempdir().map_err(HelmError::io("a temporary folder for the package"))?;
    let args = vec![
        "package".to_string(),
        dir.display().to_string(),
        "--destination".into(),
        tmp.path().display().to_string(),
    ];
    run(helm, &args, &[])?;
    let archive = std::fs::read_dir(tmp.path())
        .map_err(HelmError::io(tmp.path().display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "tgz"))
        .ok_or_else(|| {
            HelmError::Refused(format!("helm package {} made no archive", dir.display()))
        })?;
    let content = ChartContent::from_archive(&archive).map_err(HelmError::Refused)?;
    let diff = difference(&content);
    if diff.is_empty() {
        return Ok(None);
    }
    let lock = chart_lock();
    let message = if (content.name.as_str(), content.version.as_str())
        == (lock.name.as_str(), lock.version.as_str())
    {
        format!(
            "--chart {}: not the pinned chart {} {} (its files differ: {})",
            dir.display(),
            lock.name,
            lock.version,
            diff.describe()
        )
    } else {
        // Another chart or version: every file may differ, the list would say nothing more.
        format!(
            "--chart {} is {} {}, not the pinned chart {} {}",
            dir.display(),
            content.name,
            content.version,
            lock.name,
            lock.version
        )
    };
    if strict {
        return Err(HelmError::Refused(format!(
            "{message}; refusing to use it (--strict-chart). {}",
            what_to_do()
        )));
    }
    Ok(Some(format!("{message}; rendering it as given")))
}

/// Where verified pulls are cached: `$XDG_CACHE_HOME/locust-planton/charts` or `~/.cache/…`.
pub fn cache_dir() -> Option<PathBuf> {
    crate::contract::cache_root().map(|c| c.join("charts"))
}

/// Resolves `--chart` (directory or archive), else pulls the pinned chart from its OCI
/// reference or from `repo_url` (a mirror: an OCI registry `oci://HOST/PATH` or a classic chart
/// repository).
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

/// `--chart`: a directory is used as it is (its content is checked by [`check_dir`]); an
/// archive only with the pinned content.
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

/// The cached archive if it still has the pinned content; one that does not is removed, so
/// the pull replaces it.
fn verified_cached(cache: Option<&Path>, file_name: &str) -> Option<PathBuf> {
    let cached = cache.map(|d| d.join(file_name)).filter(|p| p.is_file())?;
    if verify_archive(&cached).is_ok() {
        return Some(cached);
    }
    let _ = std::fs::remove_file(&cached);
    None
}

/// The arguments of `helm pull` for the pinned chart from `repo_url` (or its OCI reference),
/// saved into `dest`.
pub fn pull_args(repo_url: Option<&str>, dest: &str) -> Vec<String> {
    let lock = chart_lock();
    let mut args: Vec<String> = vec!["pull".into()];
    args.extend(chart_reference(repo_url));
    args.extend([
        "--version".into(),
        lock.version.clone(),
        "--destination".into(),
        dest.into(),
    ]);
    args
}

/// How helm names the pinned chart: its OCI reference; from a mirror `oci://HOST/PATH`,
/// `oci://HOST/PATH/<name>` (where `helm push` stores it), with `--plain-http` for a
/// loopback host; from a classic repository, `<name> --repo URL`.
pub fn chart_reference(repo_url: Option<&str>) -> Vec<String> {
    let lock = chart_lock();
    match repo_url.map(crate::lock::mirror::Mirror::parse) {
        None => vec![lock.repository.clone()],
        Some(crate::lock::mirror::Mirror::Oci {
            url, plain_http, ..
        }) => {
            let mut args = vec![format!("{url}/{}", lock.name)];
            if plain_http {
                args.push("--plain-http".into());
            }
            args
        }
        Some(crate::lock::mirror::Mirror::Classic(url)) => {
            vec![lock.name.clone(), "--repo".into(), url]
        }
    }
}

/// `helm pull` of the pinned chart into `dest`; the archive, content-checked.
fn pull(
    helm: &Helm,
    repo_url: Option<&str>,
    dest: &Path,
    file_name: &str,
) -> Result<PathBuf, HelmError> {
    let lock = chart_lock();
    let args = pull_args(repo_url, &dest.display().to_string());
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
            progress.update(format!("checking the content of {file_name}"));
            verify_archive(&pulled).map(|()| pulled)
        });
    progress.finish(
        pulled
            .is_ok()
            .then_some("chart pulled and its content checked"),
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
            "{}\nhint: without --chart, locust-planton pulls the pinned chart ({} {} from {from}); to work offline, pass a local copy with --chart DIR|TGZ: a chart directory, or the archive `helm pull {} --version {}` saves on a connected machine (its content is checked), or a mirror with --chart-repo oci://HOST/PATH|URL\n",
            stderr.trim_end(),
            lock.name,
            lock.version,
            lock.repository,
            lock.version,
        ),
    }
}
