//! What GitOps tools need, since most of them cannot run a post-renderer binary:
//! a helmfile release, Flux `OCIRepository` + `HelmRelease` objects whose kustomize patches are
//! built by running the post-renderer's own filters on skeleton objects, and (in
//! `examples/argocd/`) an Argo CD Config Management Plugin around `template`.

pub mod flux;
pub mod helmfile;
