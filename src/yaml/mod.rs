//! The YAML layer every stage shares: a tree that remembers whether a scalar was plain or
//! quoted, a parser built on saphyr-parser events, Go-compatible (YAML 1.1) resolution of plain
//! scalars, and an emitter whose output Go's YAML reader and YAML 1.2 readers both read back to
//! the same values.
//!
//! Why not serde_yaml_ng: serde's data model throws away the scalar style, so an unquoted `yes`
//! (a boolean to Kubernetes) and a quoted `"yes"` (a string) become the same value, and its
//! emitter writes `yes`, `on`, `y` unquoted (DESIGN §7). Both would corrupt manifests.

mod emit;
mod node;
mod parse;
mod resolve;

pub use emit::{emit_document, emit_scalar_string, quote_double};
pub use node::{Map, Node, Scalar, Style};
pub use parse::{ParseError, parse_document, parse_single};
pub use resolve::{Resolved, resolve_plain};
