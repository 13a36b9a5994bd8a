//! `helmfile` and `flux`: GitOps objects for a manifest.

use super::output::manifest_format;
use super::post_render::ProfileArgs;
use super::{
    Failure, FileOut, ImageMirror, Loaded, ManifestFormat, Output, SpecFile, exit, manifests_as,
};
use crate::lock::mirror::Mirror;

/// A helmfile release for the manifest.   e.g. locust-planton helmfile -f test.yaml > helmfile.yaml
#[derive(clap::Args, Clone)]
#[command(
    after_help = exit::help(
        "Examples:\n  locust-planton values -f test.yaml --output-file checkout-load.values.yaml\n  \
    locust-planton helmfile -f test.yaml --output-file helmfile.yaml && helmfile apply\n  \
    locust-planton helmfile -f test.yaml --exec-values > helmfile.yaml   (values rendered from test.yaml on every run)\n  \
    locust-planton helmfile -f test.yaml --print-exec-values > checkout-load.values.yaml.gotmpl\n\n\
    postRenderer: locust-planton works on Helm 3 (binary on PATH) and Helm 4 (the plugin).",
        &[(exit::OK, "ok"), (exit::FAILED, "invalid"), (exit::USAGE, "usage error")],
    )
)]
pub struct HelmfileArgs {
    #[command(flatten)]
    pub spec: SpecFile,
    /// The values file the release reads [default: <metadata.name>.values.yaml].
    #[arg(long, value_name = "PATH")]
    pub values_file: Option<String>,
    /// Namespace [default: from the manifest].
    #[arg(short = 'n', long, value_name = "NS")]
    pub namespace: Option<String>,
    /// A local chart directory or archive instead of the pinned OCI chart (air-gapped use).
    #[arg(long, value_name = "DIR|TGZ")]
    pub chart: Option<String>,
    /// The release's repository: a mirror of the pinned chart (oci://HOST/PATH, or a classic
    /// chart repository URL) instead of its OCI registry (--chart wins over it).
    #[arg(
        long,
        value_name = "oci://HOST/PATH|URL",
        env = "LOCUST_PLANTON_CHART_REPO"
    )]
    pub chart_repo: Option<String>,
    /// Values from a `.gotmpl` file that runs `locust-planton values` through helmfile's
    /// `exec` on every run, so they never go stale [default file: <metadata.name>.values.yaml.gotmpl].
    #[arg(long)]
    pub exec_values: bool,
    /// Print the one line of that `.gotmpl` values file instead of the release.
    #[arg(long, conflicts_with_all = ["exec_values", "values_file", "chart", "namespace"])]
    pub print_exec_values: bool,
    #[command(flatten)]
    pub file_out: FileOut,
}

/// Flux OCIRepository + HelmRelease with the hardening as kustomize patches.   e.g. locust-planton flux -f test.yaml
#[derive(clap::Args, Clone)]
#[command(
    after_help = exit::help(
        "Examples:\n  locust-planton flux -f examples/checkout.yaml --output-file clusters/perf/checkout-load.yaml\n  \
    locust-planton flux -f examples/checkout.yaml --interval 1h --high-uid\n\n\
    Flux cannot run a post-renderer binary; the patches do the same, within the limits the output's comment lists.",
        &[(exit::OK, "ok"), (exit::FAILED, "invalid"), (exit::USAGE, "usage error")],
    )
)]
pub struct FluxArgs {
    #[command(flatten)]
    pub spec: SpecFile,
    /// Namespace of the Flux objects and the release [default: from the manifest].
    #[arg(short = 'n', long, value_name = "NS")]
    pub namespace: Option<String>,
    /// Reconciliation interval.
    #[arg(long, default_value = "10m")]
    pub interval: String,
    /// The OCIRepository's registry: a mirror of the pinned chart (oci://HOST/PATH; the chart
    /// at oci://HOST/PATH/locust; `insecure: true` for a loopback host).
    #[arg(
        long,
        value_name = "oci://HOST/PATH",
        env = "LOCUST_PLANTON_CHART_REPO"
    )]
    pub chart_repo: Option<String>,
    #[command(flatten)]
    pub images: ImageMirror,
    #[command(flatten)]
    pub profile: ProfileArgs,
    /// Output format (json: a v1 List).
    #[arg(short = 'o', long = "output", value_name = "yaml|json", value_parser = manifest_format, default_value = "yaml")]
    pub output: ManifestFormat,
    #[command(flatten)]
    pub file_out: FileOut,
}

/// The helmfile release (or, with `--print-exec-values`, the line of its `.gotmpl` values file).
pub fn helmfile(a: &HelmfileArgs) -> Result<Output, Failure> {
    let l = Loaded::from_path(&a.spec.file)?;
    if a.print_exec_values {
        return Ok(
            Output::ok(crate::gitops::helmfile::exec_values_template(&l.label))
                .with_stderr(l.warning_text()),
        );
    }
    let namespace = l.namespace(a.namespace.as_deref())?;
    let suffix = if a.exec_values { ".gotmpl" } else { "" };
    let values_file = a
        .values_file
        .clone()
        .unwrap_or_else(|| format!("{}.values.yaml{suffix}", l.spec.name));
    let options = crate::gitops::helmfile::Options {
        namespace: &namespace,
        values_file: &values_file,
        source_file: &l.label,
        chart: a.chart.as_deref(),
        chart_repo: a.chart_repo.as_deref(),
        exec_values: a.exec_values,
    };
    Ok(
        Output::ok(crate::gitops::helmfile::release(&l.spec, &options))
            .with_stderr(l.warning_text()),
    )
}

/// The Flux objects, with the hardening as kustomize patches.
pub fn flux(a: &FluxArgs) -> Result<Output, Failure> {
    let mirror = a.chart_repo.as_deref().map(Mirror::parse);
    if let Some(Mirror::Classic(url)) = &mirror {
        return Err(Failure::new(
            exit::USAGE,
            format!(
                "flux --chart-repo {url}: Flux's OCIRepository needs an OCI registry (oci://HOST/PATH); push the chart there with `helm push`"
            ),
        ));
    }
    let l =
        Loaded::from_path(&a.spec.file)?.with_image_registry(a.images.image_registry.as_deref());
    let namespace = l.namespace(a.namespace.as_deref())?;
    let s = &l.synthesized;
    let out = crate::gitops::flux::render(
        &l.spec,
        &s.values,
        &s.configmaps,
        &namespace,
        &a.interval,
        a.profile.options().profile,
        mirror.as_ref(),
    )
    .map_err(Failure::failed)?;
    Ok(Output::ok(manifests_as(a.output, &out, true)?).with_stderr(l.warning_text()))
}
