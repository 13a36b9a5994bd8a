//! What a hardened pod is, stated once: where pod specs live in any object ([`pod`]), the
//! rules a pod must meet and the opt-outs ([`harden`]), and the script hash stamped on pod
//! templates ([`rollout_hash`]). The post-renderer applies these to Helm's output; `values`,
//! the Flux patches and the before-Helm checks apply the same functions to their own objects.

mod bound_accounts;
pub mod harden;
mod opt_outs;
pub mod pod;
mod readers;
pub mod rollout_hash;
pub mod rules;
mod violation;
