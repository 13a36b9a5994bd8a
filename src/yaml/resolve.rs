//! Typing of plain (unquoted) scalars the way Go's YAML reader (yaml.v2, used by Helm and
//! kubectl through sigs.k8s.io/yaml) does it: YAML 1.1 booleans (`yes`, `on`, `y`, …), octal
//! `0755`, hex, `_` separators. Anything else is a string.

#[derive(Clone, Debug, PartialEq)]
pub enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
}

pub fn resolve_plain(text: &str) -> Resolved {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
            return Resolved::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            return Resolved::Bool(false);
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Resolved::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
        _ => {}
    }
    let first = text.as_bytes()[0];
    if !(first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.')) {
        return Resolved::String(text.to_string());
    }
    if let Some(i) = parse_go_int(text) {
        return Resolved::Int(i);
    }
    if is_yaml_float(text)
        && let Ok(f) = text.replace('_', "").parse::<f64>()
    {
        return Resolved::Float(f);
    }
    Resolved::String(text.to_string())
}

/// Go's `strconv.ParseInt(s, 0, 64)` after yaml.v2 removed `_`: sign, then `0x`, `0o`, `0b`, a
/// leading `0` (octal) or decimal digits.
fn parse_go_int(text: &str) -> Option<i64> {
    let plain = text.replace('_', "");
    let (neg, body) = match plain.as_bytes().first()? {
        b'-' => (true, &plain[1..]),
        b'+' => (false, &plain[1..]),
        _ => (false, &plain[..]),
    };
    if body.is_empty() {
        return None;
    }
    let (radix, digits) =
        if let Some(d) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            (16, d)
        } else if let Some(d) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
            (8, d)
        } else if let Some(d) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
            (2, d)
        } else if body.len() > 1 && body.starts_with('0') {
            (8, &body[1..])
        } else {
            (10, body)
        };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = i128::from_str_radix(digits, radix).ok()?;
    let value = if neg { -magnitude } else { magnitude };
    i64::try_from(value).ok()
}

/// yaml.v2's float pattern: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
fn is_yaml_float(text: &str) -> bool {
    let b = text.replace('_', "");
    let mut s = b.as_bytes();
    if matches!(s.first(), Some(b'+' | b'-')) {
        s = &s[1..];
    }
    let digits = |s: &[u8]| s.iter().take_while(|c| c.is_ascii_digit()).count();
    let lead = digits(s);
    s = &s[lead..];
    if lead == 0 {
        if s.first() != Some(&b'.') {
            return false;
        }
        let frac = digits(&s[1..]);
        if frac == 0 {
            return false;
        }
        s = &s[1 + frac..];
    } else if s.first() == Some(&b'.') {
        let frac = digits(&s[1..]);
        s = &s[1 + frac..];
    }
    if matches!(s.first(), Some(b'e' | b'E')) {
        s = &s[1..];
        if matches!(s.first(), Some(b'+' | b'-')) {
            s = &s[1..];
        }
        let exp = digits(s);
        if exp == 0 {
            return false;
        }
        s = &s[exp..];
    }
    s.is_empty()
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
