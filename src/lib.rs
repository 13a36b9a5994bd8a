//! locust-planton: Project Planton `LocustKubernetes` manifests → DeliveryHero `locust` chart
//! values, script ConfigMaps and a hardening Helm post-renderer.
//!
//! Data flows one way: `spec` (read and validate) → `values` (chart values and ConfigMaps) →
//! Helm renders → `stream` (split Helm's output) → `postrender` (the pipeline) → the sinks
//! (`helm`, `kubectl`, `gitops`, `local`, `ops`) → `commands`. Leaf modules (`contract`,
//! `policy`, `yaml`, …) hold what several stages share; `tests/architecture.rs` checks that
//! no module imports one further down the flow. ARCHITECTURE.md has the map.

pub mod chart;
pub mod cli;
pub mod commands;
pub mod contract;
pub mod diag;
pub mod duration;
pub mod gitops;
pub mod helm;
pub mod invariants;
pub mod kubectl;
pub mod limits;
pub mod local;
pub mod lock;
pub mod ops;
pub mod policy;
pub mod postrender;
pub mod progress;
pub mod results;
pub mod spec;
pub mod stream;
pub mod values;
pub mod yaml;
