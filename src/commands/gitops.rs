//! `helmfile` and `flux`: GitOps objects for a manifest.

use super::{Failure, load_spec};
use crate::postrender::Profile;
use crate::values::synthesize;

fn namespace(
    label: &str,
    spec: &crate::spec::LoadTestSpec,
    flag: Option<&str>,
) -> Result<String, Failure> {
    flag.map(str::to_string)
        .or_else(|| spec.namespace_value().map(str::to_string))
        .ok_or_else(|| Failure::failed(format!("{label}: spec.namespace uses valueFrom, which only Planton resolves; pass --namespace")))
}

/// Returns (stdout, warnings).
pub fn helmfile(
    path: &str,
    values_file: Option<&str>,
    ns: Option<&str>,
) -> Result<(String, String), Failure> {
    let (input, spec, warnings) = load_spec(path)?;
    let namespace = namespace(&input.label, &spec, ns)?;
    let values_file = values_file
        .map(str::to_string)
        .unwrap_or_else(|| format!("{}.values.yaml", spec.name));
    Ok((
        crate::gitops::helmfile::release(&spec, &namespace, &values_file, &input.label),
        warnings.render(&input.label),
    ))
}

pub fn flux(
    path: &str,
    ns: Option<&str>,
    interval: &str,
    profile: Profile,
) -> Result<(String, String), Failure> {
    let (input, spec, mut warnings) = load_spec(path)?;
    let namespace = namespace(&input.label, &spec, ns)?;
    let s = synthesize(&spec);
    warnings.items.extend(s.findings.items.iter().cloned());
    if warnings.has_errors() {
        let mut m = warnings.render(&input.label);
        m.pop();
        return Err(Failure::failed(m));
    }
    let out = crate::gitops::flux::render(
        &spec,
        &s.values,
        &s.configmaps,
        &namespace,
        interval,
        profile,
    );
    Ok((out, warnings.render(&input.label)))
}
