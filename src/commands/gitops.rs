//! `helmfile` and `flux`: GitOps objects for a manifest.

use super::{Failure, Loaded, ManifestFormat, Output, manifests_as};
use crate::lock::mirror::Mirror;
use crate::postrender::Profile;

pub fn helmfile(
    path: &str,
    values_file: Option<&str>,
    ns: Option<&str>,
    chart: Option<&str>,
    chart_repo: Option<&str>,
    exec_values: bool,
    print_exec_values: bool,
) -> Result<Output, Failure> {
    let l = Loaded::from_path(path)?;
    if print_exec_values {
        return Ok(
            Output::ok(crate::gitops::helmfile::exec_values_template(&l.label))
                .with_stderr(l.warning_text()),
        );
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
        chart_repo,
        exec_values,
    };
    Ok(
        Output::ok(crate::gitops::helmfile::release(&l.spec, &options))
            .with_stderr(l.warning_text()),
    )
}

pub fn flux(
    path: &str,
    ns: Option<&str>,
    interval: &str,
    profile: Profile,
    chart_repo: Option<&str>,
    image_registry: Option<&str>,
    format: ManifestFormat,
) -> Result<Output, Failure> {
    let mirror = chart_repo.map(Mirror::parse);
    if let Some(Mirror::Classic(url)) = &mirror {
        return Err(Failure::new(
            super::exit::USAGE,
            format!(
                "flux --chart-repo {url}: Flux's OCIRepository needs an OCI registry (oci://HOST/PATH); push the chart there with `helm push`"
            ),
        ));
    }
    let l = Loaded::from_path(path)?.with_image_registry(image_registry);
    let namespace = l.namespace(ns)?;
    let s = &l.synthesized;
    let out = crate::gitops::flux::render(
        &l.spec,
        &s.values,
        &s.configmaps,
        &namespace,
        interval,
        profile,
        mirror.as_ref(),
    )
    .map_err(Failure::failed)?;
    Ok(Output::ok(manifests_as(format, &out, true)?).with_stderr(l.warning_text()))
}
