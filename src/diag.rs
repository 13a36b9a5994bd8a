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
    /// Canonical lowerCamelCase path (`spec.loadTest.mainPyContent`); empty for a YAML syntax
    /// error, which concerns no field (its position says where).
    pub path: String,
    pub message: String,
    /// Where the field is written (line, column; 1-based), when the reader knows it.
    #[serde(skip)]
    pub position: Option<(usize, usize)>,
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
            position: None,
        });
    }

    pub fn warn(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.items.push(Finding {
            severity: Severity::Warning,
            path: path.into(),
            message: message.into(),
            position: None,
        });
    }

    /// A YAML syntax error at `line`:`column` (1-based): no field path, only the position.
    pub fn syntax_error(&mut self, line: usize, column: usize, message: impl Into<String>) {
        self.items.push(Finding {
            severity: Severity::Error,
            path: String::new(),
            message: format!("invalid YAML: {}", message.into()),
            position: Some((line, column)),
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

    /// Gives each finding without a position the one `find` knows for its path.
    pub fn locate(&mut self, find: impl Fn(&str) -> Option<(usize, usize)>) {
        for f in self.items.iter_mut().filter(|f| f.position.is_none()) {
            f.position = find(&f.path);
        }
    }

    /// `FILE:LINE:COL: path: message` lines (`FILE: path: message` where the position is not
    /// known, `FILE:LINE:COL: invalid YAML: …` for a syntax error; warnings say so), one per
    /// finding.
    pub fn render(&self, file: &str) -> String {
        self.items
            .iter()
            .map(|f| format!("{}\n", Located { file, finding: f }))
            .collect()
    }

    /// The findings as a JSON array of `{file, line, column, severity, path, message}`
    /// (`line`/`column` only where known).
    pub fn to_json(&self, file: &str) -> serde_json::Value {
        serde_json::Value::Array(
            self.items
                .iter()
                .map(|f| {
                    let mut v = serde_json::json!({"file": file, "severity": f.severity, "path": f.path, "message": f.message});
                    if let Some((line, column)) = f.position {
                        v["line"] = line.into();
                        v["column"] = column.into();
                    }
                    v
                })
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
            position,
        } = self.finding;
        let level = if *severity == Severity::Warning {
            "warning: "
        } else {
            ""
        };
        let path = if path.is_empty() {
            String::new()
        } else {
            format!("{path}: ")
        };
        match position {
            Some((line, column)) => {
                write!(f, "{}:{line}:{column}: {path}{level}{message}", self.file)
            }
            None => write!(f, "{}: {path}{level}{message}", self.file),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_render_with_and_without_position_and_path() {
        struct Case {
            finding: Finding,
            line: &'static str,
        }
        let finding = |severity, path: &str, position| Finding {
            severity,
            path: path.into(),
            message: "m".into(),
            position,
        };
        let cases = [
            Case {
                finding: finding(Severity::Error, "a.b", Some((3, 5))),
                line: "f.yaml:3:5: a.b: m",
            },
            Case {
                finding: finding(Severity::Warning, "a.b", Some((3, 5))),
                line: "f.yaml:3:5: a.b: warning: m",
            },
            Case {
                finding: finding(Severity::Error, "a.b", None),
                line: "f.yaml: a.b: m",
            },
            Case {
                finding: finding(Severity::Error, "", Some((8, 19))),
                line: "f.yaml:8:19: m",
            },
        ];
        for Case { finding, line } in cases {
            let rendered = Located {
                file: "f.yaml",
                finding: &finding,
            }
            .to_string();
            assert_eq!(rendered, line);
        }
    }

    #[test]
    fn a_syntax_error_is_placed_and_names_no_field() {
        let mut d = Findings::default();
        d.syntax_error(8, 19, "mapping values are not allowed in this context");
        assert_eq!(
            d.render("<stdin>"),
            "<stdin>:8:19: invalid YAML: mapping values are not allowed in this context\n"
        );
        let json = d.to_json("<stdin>");
        assert_eq!(json[0]["line"], 8);
        assert_eq!(json[0]["column"], 19);
        assert_eq!(json[0]["path"], "");
        assert!(d.has_errors());
    }
}
