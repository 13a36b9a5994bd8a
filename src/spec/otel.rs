//! `spec.loadTest.openTelemetry` (an extension field, docs/spec.md): Locust's own OpenTelemetry
//! export (`--otel`, Locust 2.42.4 and newer) to an OTLP endpoint. The reader here; the flags,
//! environment, packages and NetworkPolicy rules it leads to are in `values`, and the release
//! check in `locust_versions`.

use super::reader::{Fields, fields};
use crate::diag::Findings;
use crate::yaml::Node;

/// The OTLP protocols Locust's exporters speak (`OTEL_EXPORTER_OTLP_PROTOCOL`).
pub const PROTOCOLS: &[&str] = &["grpc", "http/protobuf"];
/// Locust's own default when `OTEL_EXPORTER_OTLP_PROTOCOL` is unset.
pub const DEFAULT_PROTOCOL: &str = "grpc";

/// Environment variables the wiring sets, each decided by a field (or the run's identity).
pub const OWNED_ENV: &[(&str, &str)] = &[
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "set `endpoint`"),
    ("OTEL_EXPORTER_OTLP_PROTOCOL", "set `protocol`"),
    ("OTEL_SERVICE_NAME", "set `serviceName`"),
    ("OTEL_RESOURCE_ATTRIBUTES", "set `resourceAttributes`"),
    (
        "PYTHONPATH",
        "the pip step's folder is on it (the OpenTelemetry packages are installed there)",
    ),
];

/// Resource attribute keys locust-planton sets itself (the run's identity).
pub const OWNED_ATTRIBUTE_PREFIX: &str = "locust_planton.";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenTelemetry {
    /// The OTLP endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`), http:// or https://.
    pub endpoint: String,
    /// `grpc` or `http/protobuf`.
    pub protocol: String,
    /// `OTEL_SERVICE_NAME`; `None`: `metadata.name`.
    pub service_name: Option<String>,
    /// Extra resource attributes, in document order (before the run's own).
    pub resource_attributes: Vec<(String, String)>,
    /// Extra environment (`OTEL_TRACES_SAMPLER`, …), in document order, for master and workers.
    pub env: Vec<(String, String)>,
}

pub fn read(node: &Node, path: &str, d: &mut Findings) -> Option<OpenTelemetry> {
    let f = fields(
        node,
        path,
        &[
            "endpoint",
            "protocol",
            "serviceName",
            "resourceAttributes",
            "env",
        ],
        &[],
        d,
    )?;
    let endpoint = read_endpoint(&f, d);
    let protocol = match f.string("protocol", d) {
        None => DEFAULT_PROTOCOL.to_string(),
        Some(p) if PROTOCOLS.contains(&p.as_str()) => p,
        Some(p) => {
            d.error(
                f.path("protocol"),
                format!("must be `grpc` or `http/protobuf`, got `{p}`"),
            );
            DEFAULT_PROTOCOL.to_string()
        }
    };
    let service_name = f.string("serviceName", d).filter(|n| {
        let ok = !n.is_empty() && !n.contains(char::is_control);
        if !ok {
            d.error(f.path("serviceName"), "must be a non-empty name");
        }
        ok
    });
    let resource_attributes = read_attributes(&f, d);
    let env = f
        .node("env")
        .map(|n| read_env(n, &f.path("env"), d))
        .unwrap_or_default();
    Some(OpenTelemetry {
        endpoint: endpoint?,
        protocol,
        service_name,
        resource_attributes,
        env,
    })
}

fn read_endpoint(f: &Fields, d: &mut Findings) -> Option<String> {
    let Some(e) = f.string("endpoint", d) else {
        if f.node("endpoint").is_none() {
            d.error(
                f.path("endpoint"),
                "required: the OTLP endpoint, such as `http://otel-collector.observability:4317`",
            );
        }
        return None;
    };
    match super::rules::http_url(&e) {
        Ok(()) => Some(e),
        Err(err) => {
            d.error(f.path("endpoint"), err);
            None
        }
    }
}

/// A resource attribute key: OpenTelemetry's dotted names (`deployment.environment`).
pub fn attribute_key(k: &str) -> Result<(), String> {
    if k.is_empty()
        || !k
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'))
    {
        return Err(format!(
            "`{k}` is not an attribute name (letters, digits, `.`, `_`, `-`, `/`)"
        ));
    }
    if k.starts_with(OWNED_ATTRIBUTE_PREFIX) {
        return Err(format!(
            "`{k}`: attributes `{OWNED_ATTRIBUTE_PREFIX}*` are the run's identity, set by locust-planton"
        ));
    }
    if k == "service.name" {
        return Err("`service.name` is `serviceName`".into());
    }
    Ok(())
}

fn read_attributes(f: &Fields, d: &mut Findings) -> Vec<(String, String)> {
    let path = f.path("resourceAttributes");
    f.string_map("resourceAttributes", d)
        .into_iter()
        .filter(|(k, _)| match attribute_key(k) {
            Ok(()) => true,
            Err(e) => {
                d.error(crate::diag::join(&path, k), e);
                false
            }
        })
        .collect()
}

/// A Kubernetes environment variable name (`[-._a-zA-Z][-._a-zA-Z0-9]*`).
pub fn env_name(n: &str) -> Result<(), String> {
    let mut chars = n.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '-' | '.' | '_'));
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')) {
        return Err(format!(
            "`{n}` is not an environment variable name (letters, digits, `-`, `.`, `_`; not starting with a digit)"
        ));
    }
    if let Some((_, why)) = OWNED_ENV.iter().find(|(o, _)| *o == n) {
        return Err(format!("`{n}` is set by locust-planton: {why}"));
    }
    Ok(())
}

/// `env`: a list of `{name, value}` as in a Kubernetes container (values only: the chart
/// renders no `valueFrom`).
fn read_env(node: &Node, path: &str, d: &mut Findings) -> Vec<(String, String)> {
    let Some(items) = node.as_seq() else {
        d.error(
            path,
            format!(
                "must be a list of `{{name, value}}`, got {}",
                node.type_name()
            ),
        );
        return Vec::new();
    };
    let mut out: Vec<(String, String)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("{path}[{i}]");
        let hint: &[(&str, &str)] = &[(
            "valueFrom",
            "the chart renders plain values only; use `spec.helmValues` `loadtest.environment_secret` for secrets",
        )];
        let Some(e) = fields(item, &at, &["name", "value"], hint, d) else {
            continue;
        };
        let name = e.string("name", d);
        let value = e.string("value", d);
        let Some(name) = name else {
            if e.node("name").is_none() {
                d.error(e.path("name"), "required");
            }
            continue;
        };
        if let Err(err) = env_name(&name) {
            d.error(e.path("name"), err);
        } else if out.iter().any(|(n, _)| *n == name) {
            d.error(e.path("name"), format!("`{name}` is listed twice"));
        } else {
            out.push((name, value.unwrap_or_default()));
        }
    }
    out
}

/// `OTEL_RESOURCE_ATTRIBUTES`' text for `attributes`: `key=value` joined with `,`, each value
/// percent-encoded where the variable's syntax (W3C Baggage) needs it.
pub fn resource_attributes_text(attributes: &[(String, String)]) -> String {
    attributes
        .iter()
        .map(|(k, v)| format!("{k}={}", percent_encode(v)))
        .collect::<Vec<_>>()
        .join(",")
}

fn percent_encode(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:/@+".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A URL's scheme, host (brackets of an IPv6 address removed, user info dropped) and the port
/// written after it, if any; `None` when it has no `scheme://`.
pub fn url_authority(url: &str) -> Option<(&str, &str, Option<&str>)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (h, after) = v6.split_once(']')?;
            (h, after.strip_prefix(':'))
        }
        None => match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        },
    };
    Some((scheme, host, port))
}

/// The host and port an endpoint URL connects to (the scheme's port when none is written).
pub fn endpoint_host_port(url: &str) -> Option<(String, u16)> {
    let (scheme, host, port) = url_authority(url)?;
    let port = match port {
        Some(p) => p.parse().ok()?,
        None if scheme.eq_ignore_ascii_case("https") => 443,
        None => 80,
    };
    (!host.is_empty()).then(|| (host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_give_host_and_port() {
        struct Row {
            url: &'static str,
            want: Option<(&'static str, u16)>,
        }
        for row in [
            Row {
                url: "http://otel-collector.observability:4317",
                want: Some(("otel-collector.observability", 4317)),
            },
            Row {
                url: "https://otlp.example.com/v1",
                want: Some(("otlp.example.com", 443)),
            },
            Row {
                url: "http://10.1.2.3",
                want: Some(("10.1.2.3", 80)),
            },
            Row {
                url: "http://[fd00::1]:4318/",
                want: Some(("fd00::1", 4318)),
            },
            Row {
                url: "http://user@collector:4318",
                want: Some(("collector", 4318)),
            },
            Row {
                url: "http://collector:port",
                want: None,
            },
        ] {
            assert_eq!(
                endpoint_host_port(row.url),
                row.want.map(|(h, p)| (h.to_string(), p)),
                "{}",
                row.url
            );
        }
    }

    #[test]
    fn attribute_values_are_encoded_where_baggage_needs_it() {
        struct Row {
            attributes: &'static [(&'static str, &'static str)],
            text: &'static str,
        }
        for row in [
            Row {
                attributes: &[("team", "payments")],
                text: "team=payments",
            },
            Row {
                attributes: &[("a", "x y,z=1%"), ("b.c", "https://e.example/p")],
                text: "a=x%20y%2Cz%3D1%25,b.c=https://e.example/p",
            },
            Row {
                attributes: &[],
                text: "",
            },
        ] {
            let owned: Vec<(String, String)> = row
                .attributes
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            assert_eq!(resource_attributes_text(&owned), row.text);
        }
    }

    #[test]
    fn names_the_wiring_owns_are_refused() {
        for (name, ok) in [
            ("OTEL_TRACES_SAMPLER", true),
            ("otel.x-y_z", true),
            ("1ABC", false),
            ("A B", false),
            ("", false),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", false),
            ("OTEL_RESOURCE_ATTRIBUTES", false),
            ("PYTHONPATH", false),
        ] {
            assert_eq!(env_name(name).is_ok(), ok, "{name}");
        }
        for (key, ok) in [
            ("deployment.environment", true),
            ("team", true),
            ("locust_planton.name", false),
            ("service.name", false),
            ("a,b", false),
            ("a=b", false),
        ] {
            assert_eq!(attribute_key(key).is_ok(), ok, "{key}");
        }
    }
}
