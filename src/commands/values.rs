//! `values` and `configmaps`: the chart values and the script ConfigMaps for a manifest.

use super::{Failure, load_spec};
use crate::values::{render_configmaps, render_values, synthesize};

/// Returns (output text, warnings text for stderr).
pub fn values(path: &str) -> Result<(String, String), Failure> {
    let (input, spec, mut warnings) = load_spec(path)?;
    let s = synthesize(&spec);
    warnings.items.extend(s.findings.items.iter().cloned());
    if s.findings.has_errors() {
        let mut msg = warnings.render(&input.label);
        msg.pop();
        return Err(Failure::failed(msg));
    }
    Ok((render_values(&s.values), warnings.render(&input.label)))
}

pub fn configmaps(path: &str) -> Result<(String, String), Failure> {
    let (input, spec, warnings) = load_spec(path)?;
    let s = synthesize(&spec);
    Ok((
        render_configmaps(&spec, &s.configmaps),
        warnings.render(&input.label),
    ))
}
