//! `helmfile` and `flux`: GitOps objects for a manifest.

use super::{Failure, Loaded};
use crate::postrender::Profile;

/// Returns (stdout, warnings).
pub fn helmfile(
    path: &str,
    values_file: Option<&str>,
    ns: Option<&str>,
    chart: Option<&str>,
    exec_values: bool,
    print_exec_values: bool,
) -> Result<(String, String), Failure> {
    let l = Loaded::from_path(path)?;
    if print_exec_values {
        return Ok((
            crate::gitops::helmfile::exec_values_template(&l.label),
            l.warning_text(),
        ));
    }
    let namespace = l.namespace(ns)?;
    let suffix = if exec_values { ".gotmpl" } else { "" };
    let values_file = values_file
        .map(str::to_string)
        .unwrap_or_else(|| format!("{}.values.yaml{suffix}", l.spec.name));
    let options = crate::gitops::helmfile::Options {
        namespace: &namespace,
        values_file: &values_file,
        source_file: &l.label,
        chart,
        exec_values,
    };
    Ok((
        crate::gitops::helmfile::release(&l.spec, &options),
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
