//! The schema of `spec.loadTest.openTelemetry`: Locust's OpenTelemetry export (`spec::otel`).

use super::{HTTP_URL, field, object, pattern, required, string_map};
use crate::spec::otel::{OWNED_ATTRIBUTE_PREFIX, OWNED_ENV, PROTOCOLS};
use serde_json::{Value, json};

pub(super) fn open_telemetry() -> Value {
    let owned: Vec<&str> = OWNED_ENV.iter().map(|(n, _)| *n).collect();
    let mut attributes = string_map(Some("^[A-Za-z0-9._/-]+$"));
    attributes["propertyNames"]["not"] = json!({"anyOf": [
        {"pattern": format!("^{}", OWNED_ATTRIBUTE_PREFIX.replace('.', "\\."))},
        {"const": "service.name"},
    ]});
    let env_item = object(
        "an environment variable, as in a Kubernetes container (a plain value)",
        vec![
            required(
                "name",
                "the variable's name; not one the wiring sets",
                json!({"type": "string", "pattern": "^[-._a-zA-Z][-._a-zA-Z0-9]*$", "not": {"enum": owned}}),
            ),
            field("value", "its value", json!({"type": "string"})),
        ],
        vec![],
    );
    let mut env_item = env_item;
    // A list item is a mapping, never null.
    env_item["type"] = json!("object");
    object(
        "extension: Locust's OpenTelemetry export (`--otel`; Locust 2.42.4 and newer)",
        vec![
            required(
                "endpoint",
                "the OTLP endpoint, http:// or https:// (`OTEL_EXPORTER_OTLP_ENDPOINT`): `http://otel-collector.observability:4317`",
                pattern(HTTP_URL),
            ),
            field(
                "protocol",
                "`grpc` or `http/protobuf` (`OTEL_EXPORTER_OTLP_PROTOCOL`) [default: grpc]",
                // Null is the field left out, as everywhere (the reader reads it as absent).
                json!({"type": "string", "enum": [PROTOCOLS[0], PROTOCOLS[1], null]}),
            ),
            field(
                "serviceName",
                "`OTEL_SERVICE_NAME` [default: metadata.name]",
                json!({"type": "string", "pattern": "^[^\\x00-\\x1f\\x7f]+$"}),
            ),
            field(
                "resourceAttributes",
                "attributes added to `OTEL_RESOURCE_ATTRIBUTES` before the run's own (`locust_planton.*`)",
                attributes,
            ),
            field(
                "env",
                "more environment for master and workers (`OTEL_TRACES_SAMPLER`, …): a list of `{name, value}`",
                json!({"type": "array", "items": env_item}),
            ),
        ],
        vec![],
    )
}
