//! `values` and `configmaps`: the chart values and the script ConfigMaps for a manifest.

use super::{Failure, Loaded};
use crate::values::{render_configmaps, render_values};

/// Returns (output text, warnings text for stderr).
pub fn values(path: &str) -> Result<(String, String), Failure> {
    let l = Loaded::from_path(path)?;
    Ok((render_values(&l.synthesized.values), l.warning_text()))
}

pub fn configmaps(path: &str) -> Result<(String, String), Failure> {
    let l = Loaded::from_path(path)?;
    Ok((
        render_configmaps(&l.spec, &l.synthesized.configmaps),
        l.warning_text(),
    ))
}
