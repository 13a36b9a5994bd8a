//! Kubernetes naming and quantity rules, as the API server applies them.

/// RFC 1123 label: lower-case alphanumerics and `-`, starting and ending alphanumeric, ≤ 63.
pub fn dns_label(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.len() > 63 {
        return Err(format!("must be at most 63 characters, is {}", s.len()));
    }
    let ok_chars = s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let ends = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = s.as_bytes();
    if !ok_chars
        || !bytes.first().is_some_and(|b| ends(*b))
        || !bytes.last().is_some_and(|b| ends(*b))
    {
        return Err(format!(
            "`{s}` is not a DNS-1123 label: use lower-case letters, digits and `-`, starting and ending with a letter or digit"
        ));
    }
    Ok(())
}

/// RFC 1123 subdomain (a DNS name): dot-separated labels, ≤ 253.
pub fn dns_subdomain(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.len() > 253 {
        return Err(format!("must be at most 253 characters, is {}", s.len()));
    }
    if s.split('.').any(|l| dns_label(l).is_err()) {
        return Err(format!(
            "`{s}` is not a valid DNS name: dot-separated parts of lower-case letters, digits and `-`"
        ));
    }
    Ok(())
}

/// A label key: an optional DNS-subdomain prefix and `/`, then a name of at most 63
/// alphanumerics, `-`, `_` and `.`, starting and ending alphanumeric (Kubernetes' qualified name).
pub fn label_key(s: &str) -> Result<(), String> {
    let (prefix, name) = s.rsplit_once('/').map_or((None, s), |(p, n)| (Some(p), n));
    if let Some(prefix) = prefix {
        dns_subdomain(prefix).map_err(|e| format!("the prefix of label key `{s}`: {e}"))?;
    }
    if name.is_empty() {
        return Err(format!("label key `{s}` has an empty name"));
    }
    label_value(name).map_err(|_| {
        format!(
            "`{s}` is not a valid label key: a name of at most 63 letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit, after an optional `prefix/`"
        )
    })
}

/// A label value: ≤ 63 characters of alphanumerics, `-`, `_`, `.`, starting and ending
/// alphanumeric (empty is allowed by Kubernetes; callers decide).
pub fn label_value(s: &str) -> Result<(), String> {
    if s.len() > 63 {
        return Err(format!(
            "must be at most 63 characters (a Kubernetes label value), is {}",
            s.len()
        ));
    }
    let ok = s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    let ends = |b: &u8| b.is_ascii_alphanumeric();
    if !s.is_empty()
        && (!ok
            || !s.as_bytes().first().is_some_and(ends)
            || !s.as_bytes().last().is_some_and(ends))
    {
        return Err(format!(
            "`{s}` is not a valid label value: use letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit"
        ));
    }
    Ok(())
}

/// A ConfigMap data key: `[-._a-zA-Z0-9]+`, ≤ 253, not `.`/`..`, not starting with `..`.
pub fn configmap_key(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("file name must not be empty".into());
    }
    if s.len() > 253 {
        return Err(format!(
            "file name must be at most 253 characters, is {}",
            s.len()
        ));
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        let hint = if s.contains('/') {
            " (lib files are flat: no sub-directories)"
        } else {
            ""
        };
        return Err(format!(
            "`{s}` is not a valid file name: use letters, digits, `-`, `_` and `.`{hint}"
        ));
    }
    if s == "." || s == ".." || s.starts_with("..") {
        return Err(format!(
            "`{s}` is not a valid file name: must not be `.`, `..` or start with `..`"
        ));
    }
    Ok(())
}

/// Parses a Kubernetes quantity (`250m`, `1Gi`, `0.5`, `1e3`) to its value.
pub fn quantity(s: &str) -> Result<f64, String> {
    let bad = || {
        format!(
            "`{s}` is not a Kubernetes quantity (examples: `250m`, `0.5`, `2`, `512Mi`, `1Gi`, `1e3`)"
        )
    };
    let (sign, rest) = match s.as_bytes().first() {
        Some(b'-') => (-1.0, &s[1..]),
        Some(b'+') => (1.0, &s[1..]),
        _ => (1.0, s),
    };
    let num_len = rest
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b'.')
        .count();
    let (num, suffix) = rest.split_at(num_len);
    if num.is_empty() || num == "." || num.matches('.').count() > 1 {
        return Err(bad());
    }
    let base: f64 = num.parse().map_err(|_| bad())?;
    let multiplier = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024f64,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        e if e.starts_with(['e', 'E']) => {
            let exp: i32 = e[1..].parse().map_err(|_| bad())?;
            10f64.powi(exp)
        }
        _ => return Err(bad()),
    };
    Ok(sign * base * multiplier)
}

/// An http(s) URL without white space (the target of a load test).
pub fn http_url(s: &str) -> Result<(), String> {
    let rest = s
        .strip_prefix("http://")
        .or_else(|| s.strip_prefix("https://"));
    match rest {
        Some(r)
            if !r.is_empty()
                && !r.starts_with('/')
                && !s.chars().any(|c| c.is_whitespace() || c.is_control()) =>
        {
            Ok(())
        }
        _ => Err(format!("`{s}` is not an http:// or https:// URL")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_keys() {
        for ok in ["team", "app.kubernetes.io/name", "a-b_c.d", "example.com/x"] {
            assert_eq!(label_key(ok), Ok(()), "{ok}");
        }
        for bad in ["a: b", "", "-a", "Bad_Prefix/x", "x/", &"a".repeat(64)] {
            assert!(label_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn labels_and_names() {
        assert!(dns_label("checkout-load").is_ok());
        assert!(dns_label("Checkout").is_err());
        assert!(dns_label("-x").is_err());
        assert!(dns_subdomain("example.com").is_ok());
        assert!(dns_subdomain("exa_mple.com").is_err());
        assert!(label_value("checkout_flow.v2").is_ok());
        assert!(label_value("checkout flow").is_err());
        assert!(configmap_key("helpers.py").is_ok());
        assert!(configmap_key("a/b.py").unwrap_err().contains("flat"));
        assert!(configmap_key("..x").is_err());
    }

    #[test]
    fn quantities() {
        assert_eq!(quantity("250m").unwrap(), 0.25);
        assert_eq!(quantity("1Gi").unwrap(), 1073741824.0);
        assert_eq!(quantity("0.5").unwrap(), 0.5);
        assert_eq!(quantity("1e3").unwrap(), 1000.0);
        assert_eq!(quantity("100Mi").unwrap(), 104857600.0);
        for bad in ["", "1 Gi", "1GB", "m", "1.2.3", "one"] {
            assert!(quantity(bad).is_err(), "{bad}");
        }
    }
}
