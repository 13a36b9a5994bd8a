//! Findings: what is wrong (errors) or risky (warnings) with an input, each with the canonical
//! path of the field it concerns. Every command reports them the same way.

use serde::Serialize;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// Canonical lowerCamelCase path (`spec.loadTest.mainPyContent`), or `line L column C` for
    /// YAML syntax errors.
    pub path: String,
    pub message: String,
}

/// Findings collected while reading one input. Readers keep going after an error so that a user
/// sees every problem at once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Findings {
    pub items: Vec<Finding>,
}

impl Findings {
    pub fn error(&mut self, path: impl Into<String>, message: impl Into<String>) {
        let path = Some(path.into())
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "(root)".into());
        self.items.push(Finding {
            severity: Severity::Error,
            path,
            message: message.into(),
        });
    }

    pub fn warn(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.items.push(Finding {
            severity: Severity::Warning,
            path: path.into(),
            message: message.into(),
        });
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|f| f.severity == Severity::Error)
    }

    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.items.iter().filter(|f| f.severity == Severity::Error)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Finding> {
        self.items
            .iter()
            .filter(|f| f.severity == Severity::Warning)
    }

    /// `FILE: path: message` lines (warnings say so), one per finding.
    pub fn render(&self, file: &str) -> String {
        self.items
            .iter()
            .map(|f| format!("{}\n", Located { file, finding: f }))
            .collect()
    }

    /// The findings as a JSON array of `{file, severity, path, message}`.
    pub fn to_json(&self, file: &str) -> serde_json::Value {
        serde_json::Value::Array(
            self.items
                .iter()
                .map(|f| serde_json::json!({"file": file, "severity": f.severity, "path": f.path, "message": f.message}))
                .collect(),
        )
    }
}

pub struct Located<'a> {
    pub file: &'a str,
    pub finding: &'a Finding,
}

impl fmt::Display for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Finding {
            severity,
            path,
            message,
        } = self.finding;
        let level = if *severity == Severity::Warning {
            "warning: "
        } else {
            ""
        };
        write!(f, "{}: {}: {}{}", self.file, path, level, message)
    }
}

/// Joins a field path: `spec` + `loadTest` → `spec.loadTest`; keys that are not simple names
/// are bracketed and quoted (`spec.helmValues["worker.hpa.enabled"]`).
pub fn join(path: &str, key: &str) -> String {
    let simple = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    match (path.is_empty(), simple) {
        (true, true) => key.to_string(),
        (_, true) => format!("{path}.{key}"),
        (_, false) => format!("{path}[{}]", serde_json::Value::String(key.to_string())),
    }
}

pub fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}
