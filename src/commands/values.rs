//! `values` and `configmaps`: the chart values and the script ConfigMaps for a manifest.

use super::{Failure, Loaded, ManifestFormat, Output, manifests_as};
use crate::values::{render_configmaps, render_values};

/// The chart values (one document); the spec's warnings on stderr.
pub fn values(
    path: &str,
    image_registry: Option<&str>,
    format: ManifestFormat,
) -> Result<Output, Failure> {
    let l = Loaded::from_path(path)?.with_image_registry(image_registry);
    let text = manifests_as(format, &render_values(&l.synthesized.values), false)?;
    Ok(Output::ok(text).with_stderr(l.warning_text()))
}

/// The script ConfigMaps (a `List` in JSON).
pub fn configmaps(path: &str, format: ManifestFormat) -> Result<Output, Failure> {
    let l = Loaded::from_path(path)?;
    let yaml = render_configmaps(&l.spec, &l.synthesized.configmaps);
    Ok(Output::ok(manifests_as(format, &yaml, true)?).with_stderr(l.warning_text()))
}
