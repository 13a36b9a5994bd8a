//! locust-planton: Project Planton `LocustKubernetes` manifests → DeliveryHero `locust` chart
//! values, script ConfigMaps and a hardening Helm post-renderer.
//!
//! Data flows one way: `spec` (read and validate) → `values` (chart values and ConfigMaps) →
//! Helm renders → `manifest` (split the stream) → `postrender` (filters) → stdout.

pub mod commands;
pub mod diag;
pub mod gitops;
pub mod helm;
pub mod invariants;
pub mod limits;
pub mod local;
pub mod lock;
pub mod manifest;
pub mod ops;
pub mod postrender;
pub mod results;
pub mod spec;
pub mod values;
pub mod yaml;
