//! Typing of plain (unquoted) scalars the way Go's YAML reader (yaml.v2, used by Helm and
//! kubectl through sigs.k8s.io/yaml) does it: YAML 1.1 booleans (`yes`, `on`, `y`, …), octal
//! `0755`, hex, `_` separators. Anything else is a string. The rules live in [`super::go`].

use super::go::GoScalar;

#[derive(Clone, Debug, PartialEq)]
pub enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
}

pub fn resolve_plain(text: &str) -> Resolved {
    match super::go::resolve_implicit(text, true) {
        GoScalar::Null => Resolved::Null,
        GoScalar::Bool(b) => Resolved::Bool(b),
        GoScalar::Int(i) => Resolved::Int(i),
        GoScalar::Uint(u) => Resolved::Float(u as f64),
        // Not a value Kubernetes has; never a string, so a writer quotes such text.
        GoScalar::BigInt => Resolved::Float(f64::NAN),
        GoScalar::Float(f) => Resolved::Float(f),
        GoScalar::String(s) => Resolved::String(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml11_booleans_and_nulls() {
        for t in ["yes", "Yes", "on", "ON", "y", "true"] {
            assert_eq!(resolve_plain(t), Resolved::Bool(true), "{t}");
        }
        for t in ["no", "off", "n", "N", "false"] {
            assert_eq!(resolve_plain(t), Resolved::Bool(false), "{t}");
        }
        for t in ["", "~", "null"] {
            assert_eq!(resolve_plain(t), Resolved::Null, "{t}");
        }
    }

    #[test]
    fn go_integers_and_floats() {
        assert_eq!(resolve_plain("0755"), Resolved::Int(493));
        assert_eq!(resolve_plain("0x1F"), Resolved::Int(31));
        assert_eq!(resolve_plain("1_000"), Resolved::Int(1000));
        assert_eq!(resolve_plain("-12"), Resolved::Int(-12));
        assert_eq!(resolve_plain("1e3"), Resolved::Float(1000.0));
        assert_eq!(resolve_plain("1.10"), Resolved::Float(1.1));
        assert_eq!(resolve_plain(".5"), Resolved::Float(0.5));
    }

    #[test]
    fn strings_that_look_close() {
        for t in [
            "2.32.2", "1000m", "1Gi", "0.5.1", "yesno", "e3", "-", ".", "0x",
        ] {
            assert_eq!(resolve_plain(t), Resolved::String(t.into()), "{t}");
        }
    }
}
