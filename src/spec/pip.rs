//! pip packages beside Locust (docs/local.md "pip packages never replace what Locust runs with"). The pip step (the pods' init container,
//! and `local`'s) installs `spec.loadTest.pipPackages` with every distribution the image's Python
//! already has as a constraint (`name==installed version`), so a package can never put another
//! version of something Locust imports ahead of it on PYTHONPATH: a conflict fails the pip step,
//! with pip's message naming the package. `spec.loadTest.pipLiftPins` (an extension field)
//! lifts the pin of named distributions, for a deliberate upgrade (a security fix), with a
//! warning. `check` warns where it can tell offline: a pip package naming Locust itself or one of
//! Locust's own dependencies.

use super::pep508;
use super::reader::Fields;
use crate::diag::Findings;

/// The Locust release [`LOCUST_REQUIRES`] was read from: the pinned chart's appVersion.
pub const LOCUST_REQUIRES_VERSION: &str = "2.32.2";

/// Locust's direct requirements, as `importlib.metadata.requires("locust")` lists them in a
/// virtualenv with `locust==2.32.2` installed from PyPI (the wheel's `Requires-Dist` lines, in
/// their order). `tests/check.rs` compares this table with the test virtualenv's Locust.
pub const LOCUST_REQUIRES: &[&str] = &[
    "ConfigArgParse (>=1.5.5)",
    "Flask-Cors (>=3.0.10)",
    "Flask-Login (>=0.6.3)",
    "Werkzeug (>=2.0.0)",
    "flask (>=2.0.0)",
    "gevent (>=22.10.2) ; python_full_version <= \"3.12.0\"",
    "gevent (>=24.10.1) ; python_full_version > \"3.13.0\"",
    "geventhttpclient (>=2.3.1)",
    "msgpack (>=1.0.0)",
    "psutil (>=5.9.1)",
    "pywin32 ; sys_platform == \"win32\"",
    "pyzmq (>=25.0.0)",
    "requests (>=2.26.0) ; python_full_version <= \"3.11.0\"",
    "requests (>=2.32.2) ; python_full_version > \"3.11.0\"",
    "tomli (>=1.1.0) ; python_version < \"3.11\"",
    "typing_extensions (>=4.6.0) ; python_version < \"3.11\"",
];

/// The normalised name of a requirement's distribution (`Flask-Cors (>=3.0.10)` → `flask-cors`).
fn requirement_name(req: &str) -> String {
    let end = req
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(req.len());
    pep508::normalize(&req[..end])
}

/// Locust's own requirements on the distribution `name` (normalised), joined with ` and `.
pub fn locust_requirement(name: &str) -> Option<String> {
    let found: Vec<&str> = LOCUST_REQUIRES
        .iter()
        .copied()
        .filter(|r| requirement_name(r) == name)
        .collect();
    (!found.is_empty()).then(|| {
        found
            .iter()
            .map(|r| format!("`{r}`"))
            .collect::<Vec<_>>()
            .join(" and ")
    })
}

/// What `spec.loadTest.openTelemetry` adds to the pip step: the distributions Locust's `otel`
/// extra lists (the same in 2.43.4, 2.45.0 and 2.47.0: the OTLP exporters for both protocols,
/// the SDK, the `requests` and `urllib3` instrumentation, at least 1.38.0 / 0.59b0), pinned to
/// the releases tested together with Locust 2.47.0, so pods started at different times run the
/// same code. Not `locust[otel]` itself: pip's `--target` would install a second Locust and
/// every one of its dependencies beside the image's.
pub const OTEL_PACKAGES: &[&str] = &[
    "opentelemetry-exporter-otlp-proto-grpc==1.45.1",
    "opentelemetry-exporter-otlp-proto-http==1.45.1",
    "opentelemetry-instrumentation-requests==0.66b1",
    "opentelemetry-instrumentation-urllib3==0.66b1",
    "opentelemetry-sdk==1.45.1",
];

/// The pip step's requirements: `spec.loadTest.pipPackages`, then, with `openTelemetry`, each
/// of [`OTEL_PACKAGES`] the user does not name (a package the user lists wins).
pub fn packages(spec: &super::LoadTestSpec) -> Vec<String> {
    let mut out = spec.load_test.pip_packages.clone();
    if spec.extensions.open_telemetry.is_some() {
        let named: Vec<String> = out.iter().map(|r| requirement_name(r)).collect();
        out.extend(
            OTEL_PACKAGES
                .iter()
                .filter(|p| !named.contains(&requirement_name(p)))
                .map(|p| p.to_string()),
        );
    }
    out
}

/// A distribution name (PEP 508's identifier): letters and digits, with `.`, `_`, `-` inside.
pub fn valid_name(s: &str) -> bool {
    let ends = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    ends(s.chars().next())
        && ends(s.chars().last())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// `spec.loadTest.pipLiftPins`: the names as written, each warned about.
pub fn read_lift_pins(f: &Fields, d: &mut Findings) -> Vec<String> {
    let mut seen: Vec<(String, String)> = Vec::new();
    let mut out = Vec::new();
    for (path, name) in f.string_list("pipLiftPins", d) {
        if !valid_name(&name) {
            d.error(
                &path,
                format!(
                    "`{name}` is not a distribution name (letters, digits, and `.`, `_`, `-` inside): name the installed distribution whose pin to lift, without a version"
                ),
            );
            continue;
        }
        let normalized = pep508::normalize(&name);
        if let Some((first, _)) = seen.iter().find(|(_, n)| *n == normalized) {
            d.error(&path, format!("`{name}` is listed twice (also at {first})"));
            continue;
        }
        let locust = match locust_requirement(&normalized) {
            Some(r) => format!(" (Locust {LOCUST_REQUIRES_VERSION} requires {r})"),
            None if normalized == "locust" => " (Locust itself)".to_string(),
            None => String::new(),
        };
        d.warn(
            &path,
            format!(
                "the image's installed `{name}`{locust} no longer constrains the pip packages: pip may put another version ahead of the one Locust runs with, and Locust may fail to start or behave differently; lift a pin only for a deliberate upgrade (a security fix) and try it with `local` first"
            ),
        );
        seen.push((path, normalized));
        out.push(name);
    }
    out
}

/// Warns about a pip package naming Locust or one of its dependencies (offline: the image's
/// installed versions are only known where pip runs). `lifted` holds normalised names.
pub fn warn_locust_dependency(
    path: &str,
    req: &str,
    normalized: &str,
    lifted: &[String],
    d: &mut Findings,
) {
    if lifted.iter().any(|l| l == normalized) {
        return;
    }
    if normalized == "locust" {
        d.warn(
            path,
            format!(
                "`{req}` names Locust itself: the pip step installs against the image's own Locust as a constraint, so any other version fails it; choose the release with `spec.loadTest.locustVersion` instead"
            ),
        );
    } else if let Some(r) = locust_requirement(normalized) {
        d.warn(
            path,
            format!(
                "`{req}` names one of Locust's own dependencies (Locust {LOCUST_REQUIRES_VERSION} requires {r}): the pip step installs against the image's installed versions as constraints, so a version other than the one installed in the image fails it; leave it out to use the image's, or add `{normalized}` to `spec.loadTest.pipLiftPins` to upgrade it deliberately"
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_requirements() {
        assert_eq!(requirement_name("Flask-Cors (>=3.0.10)"), "flask-cors");
        assert_eq!(requirement_name("pywin32 ; sys_platform"), "pywin32");
        assert_eq!(
            locust_requirement("werkzeug").as_deref(),
            Some("`Werkzeug (>=2.0.0)`")
        );
        assert!(locust_requirement("gevent").unwrap().contains(" and "));
        assert_eq!(locust_requirement("six"), None);
        assert_eq!(
            requirement_name("opentelemetry-sdk==1.45.1"),
            "opentelemetry-sdk"
        );
        for ok in ["werkzeug", "zope.interface", "Flask_Cors", "a"] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", "x y", "-x", "x-", "werkzeug==3.1.4", "a/b"] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}
