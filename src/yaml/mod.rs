//! The YAML layer every stage shares. Documents are read the way Kubernetes reads them (Go's
//! yaml.v2 through sigs.k8s.io/yaml) and nothing else: libyaml-safer (a Rust port of libyaml,
//! which yaml.v2 itself ports) parses, [`go`] applies Go's tags, merge keys and typing, and the
//! tree that comes out ([`Node`]) holds exactly the object kubectl would decode: every scalar's
//! style types it as Go did (quoted: a string; plain: typed by YAML 1.1 resolution). The emitter
//! writes trees back so that Go's reader and YAML 1.2 readers read the same values.
//!
//! Why not serde_yaml_ng: serde's data model throws away the scalar style, so an unquoted `yes`
//! (a boolean to Kubernetes) and a quoted `"yes"` (a string) become the same value, and its
//! emitter writes `yes`, `on`, `y` unquoted. Both would corrupt manifests. Why not saphyr-parser
//! (used before): it refused valid YAML that Go reads (a flow sequence closed at its key's
//! indent, as real charts render it) and accepted tab indentation, which Go refuses; a port of
//! the same C parser Go ports cannot drift from Go that way.

mod emit;
pub mod go;
mod node;
mod parse;
pub mod positions;
mod quick;
mod resolve;
#[cfg(test)]
pub(crate) mod testing;

pub use emit::{emit_document, emit_scalar_string, quote_double};
pub use node::{Map, Node, Scalar, Style};
pub use parse::{ParseError, full_document, parse_document, parse_single, quick_document};
pub use positions::{Positions, parse_single_with_positions};
pub use resolve::{Resolved, resolve_plain};
