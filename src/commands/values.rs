//! `values` and `configmaps`: the chart values and the script ConfigMaps for a manifest.

use super::output::manifest_format;
use super::{
    Failure, FileOut, ImageMirror, Loaded, ManifestFormat, Output, SpecFile, exit, manifests_as,
};

/// Chart values for a manifest.   e.g. locust-planton values -f test.yaml --output-file values.yaml
#[derive(clap::Args, Clone)]
#[command(
    after_help = exit::help(
        "Examples:\n  locust-planton values -f examples/checkout.yaml\n  locust-planton values -f examples/checkout.yaml --output-file values.yaml\n  \
    locust-planton values -f examples/checkout.yaml -o json | jq .master\n\n\
    The values embed the script ConfigMaps (extraObjects), so the release owns them.\n\
    Nothing is written unless the whole output is valid.",
        &[(exit::OK, "ok"), (exit::FAILED, "invalid"), (exit::USAGE, "usage")],
    )
)]
pub struct ValuesArgs {
    #[command(flatten)]
    pub spec: SpecFile,
    /// Output format.
    #[arg(short = 'o', long = "output", value_name = "yaml|json", value_parser = manifest_format, default_value = "yaml")]
    pub output: ManifestFormat,
    #[command(flatten)]
    pub file_out: FileOut,
    #[command(flatten)]
    pub images: ImageMirror,
}

/// The script ConfigMaps as plain manifests.   e.g. locust-planton configmaps -f test.yaml
#[derive(clap::Args, Clone)]
#[command(
    after_help = exit::help(
        "Examples:\n  locust-planton configmaps -f examples/checkout.yaml | kubectl apply -f -\n\n\
    For users who manage the ConfigMaps outside Helm; `values` already ships them in the release.",
        &[(exit::OK, "ok"), (exit::FAILED, "invalid"), (exit::USAGE, "usage error")],
    )
)]
pub struct ConfigmapsArgs {
    #[command(flatten)]
    pub spec: SpecFile,
    /// Output format.
    #[arg(short = 'o', long = "output", value_name = "yaml|json", value_parser = manifest_format, default_value = "yaml")]
    pub output: ManifestFormat,
    #[command(flatten)]
    pub file_out: FileOut,
}
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
