//! `helmfile` and `flux`: GitOps objects for a manifest.

use super::{Failure, Loaded};
use crate::postrender::Profile;

/// Returns (stdout, warnings).
pub fn helmfile(
    path: &str,
    values_file: Option<&str>,
    ns: Option<&str>,
) -> Result<(String, String), Failure> {
    let l = Loaded::from_path(path)?;
    let namespace = l.namespace(ns)?;
    let values_file = values_file
        .map(str::to_string)
        .unwrap_or_else(|| format!("{}.values.yaml", l.spec.name));
    Ok((
        crate::gitops::helmfile::release(&l.spec, &namespace, &values_file, &l.label),
        l.warning_text(),
    ))
}

pub fn flux(
    path: &str,
    ns: Option<&str>,
    interval: &str,
    profile: Profile,
) -> Result<(String, String), Failure> {
    let l = Loaded::from_path(path)?;
    let namespace = l.namespace(ns)?;
    let s = &l.synthesized;
    let out = crate::gitops::flux::render(
        &l.spec,
        &s.values,
        &s.configmaps,
        &namespace,
        interval,
        profile,
    );
    Ok((out, l.warning_text()))
}
