//! The schema of `spec.loadTest.run`: a headless run, its thresholds and its baseline
//! tolerances.

use super::{
    DURATION, TAG, boolean, field, integer, object, pattern, reference, required, string_list,
};
use serde_json::{Value, json};

pub(super) fn run() -> Value {
    object(
        "extension: a headless run",
        vec![
            required(
                "users",
                "users to simulate, at least 1",
                integer(1, None, "^\\+?0*[1-9][0-9]*$"),
            ),
            field(
                "spawnRate",
                "users started per second, above 0 [default: users]",
                json!({"type": "number", "exclusiveMinimum": 0}),
            ),
            required(
                "runTime",
                "how long the run lasts: hours, minutes, seconds in that order (`30s`, `10m`, `1h30m`)",
                json!({"type": "string", "minLength": 1, "pattern": DURATION}),
            ),
            field(
                "tags",
                "Locust tags to run (`--tags`)",
                string_list(pattern(TAG)),
            ),
            field(
                "excludeTags",
                "Locust tags to skip (`--exclude-tags`)",
                string_list(pattern(TAG)),
            ),
            field(
                "processes",
                "Locust processes per worker pod (`--processes`), 1 to 256 [default: 1]",
                integer(
                    1,
                    Some(256),
                    "^\\+?0*([1-9][0-9]?|1[0-9]{2}|2[0-4][0-9]|25[0-6])$",
                ),
            ),
            field(
                "thresholds",
                "limits on the run's aggregated statistics; a missed one fails the run (exit 1)",
                reference("thresholds"),
            ),
            field(
                "baseline",
                "how much worse than a baseline run (`--baseline FILE|last`) this run may be before it is REGRESSED (exit 5); only the metrics named are compared [default: 20 % on the average, p95 and requests/s, 0.01 fail ratio]",
                reference("baseline"),
            ),
            field(
                "abortEarly",
                "judge the thresholds live after `warmUp` and stop the run at the first breach (FAILED, exit 1); needs thresholds",
                boolean(),
            ),
            field(
                "warmUp",
                "how long the run lasts before live thresholds count (`abortEarly`) [default: 30s]",
                json!({"type": "string", "minLength": 1, "pattern": DURATION}),
            ),
        ],
        // `abortEarly` judges the thresholds live: it needs some (the reader says so too).
        vec![json!({
            "if": {"anyOf": [
                {"properties": {"abortEarly": {"const": true}}, "required": ["abortEarly"]},
                {"properties": {"abort_early": {"const": true}}, "required": ["abort_early"]},
            ]},
            "then": {
                "required": ["thresholds"],
                "properties": {"thresholds": {"type": "object", "minProperties": 1}},
            },
        })],
    )
}

pub(super) fn baseline() -> Value {
    let fraction = || json!({"type": "number", "minimum": 0});
    object(
        "extension: tolerances against a baseline run, per request name and in total",
        vec![
            field(
                "avgResponseTimeIncrease",
                "relative: the average response time may grow by this fraction (0.2 = 20 %)",
                fraction(),
            ),
            field(
                "percentileResponseTimeIncrease",
                "percentile (`\"95\"`) → the fraction its response time may grow by",
                json!({
                    "type": "object",
                    "propertyNames": {"enum": crate::spec::extensions::PERCENTILES},
                    "additionalProperties": fraction(),
                }),
            ),
            field(
                "rpsDecrease",
                "relative: requests per second may fall by this fraction (0 to 1)",
                json!({"type": "number", "minimum": 0, "maximum": 1}),
            ),
            field(
                "failRatioIncrease",
                "absolute: the fail ratio may rise by this much (0 to 1; 0.01 = one percentage point)",
                json!({"type": "number", "minimum": 0, "maximum": 1}),
            ),
        ],
        vec![],
    )
}

pub(super) fn thresholds() -> Value {
    let at_least_0 = || json!({"type": "number", "minimum": 0});
    object(
        "extension: limits on Locust's aggregated statistics at the end of a headless run",
        vec![
            field(
                "maxFailRatio",
                "failed requests / requests, at most (0 to 1)",
                json!({"type": "number", "minimum": 0, "maximum": 1}),
            ),
            field(
                "maxAvgResponseTimeMs",
                "average response time in milliseconds, at most",
                at_least_0(),
            ),
            field(
                "maxPercentileResponseTimeMs",
                "percentile (as Locust reports it: `\"95\"`, `\"99.9\"`) → response time in milliseconds, at most",
                json!({
                    "type": "object",
                    "propertyNames": {"enum": crate::spec::extensions::PERCENTILES},
                    "additionalProperties": at_least_0(),
                }),
            ),
            field(
                "minRps",
                "requests per second over the run, at least",
                at_least_0(),
            ),
        ],
        vec![],
    )
}
