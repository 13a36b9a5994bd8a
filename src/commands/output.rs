//! What a command produces, and the formats `-o/--output` chooses between.

use super::Failure;
use crate::stream::split;
use crate::yaml::parse_document;
use clap::ValueEnum;

/// A command's result: what goes to stdout (or `--output-file`), notes for stderr, exit code.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub code: u8,
}

impl Output {
    pub fn ok(stdout: impl Into<String>) -> Self {
        Output {
            stdout: stdout.into(),
            ..Output::default()
        }
    }
    pub fn with_stderr(mut self, stderr: impl Into<String>) -> Self {
        self.stderr = stderr.into();
        self
    }
    pub fn with_code(mut self, code: u8) -> Self {
        self.code = code;
        self
    }
}

/// `-o` of a report (`check`, `lint`, `status`, `wait`, `plan`, `chart`, `install`, `version`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    #[default]
    Text,
    Json,
}

/// `-o` of generated manifests and values (`values`, `configmaps`, `template`, `flux`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ManifestFormat {
    #[default]
    Yaml,
    Json,
}

/// `-o` as a format, with a hint for the old `-o FILE`: helm and kubectl users read `-o` as a
/// format, so a file name there is a usage error that names `--output-file`.
fn format_of<F: ValueEnum>(s: &str) -> Result<F, String> {
    F::from_str(s, true).map_err(|_| {
        let names: Vec<String> = F::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value().map(|p| p.get_name().to_string()))
            .collect();
        format!(
            "`{s}` is not a format ({}); to write a file use --output-file {s}",
            names.join("|")
        )
    })
}

pub fn manifest_format(s: &str) -> Result<ManifestFormat, String> {
    format_of(s)
}

pub fn report_format(s: &str) -> Result<ReportFormat, String> {
    format_of(s)
}

/// `yaml` as is; `json`: one document as a JSON object, several (or `list`) as a `v1` `List`,
/// the way `kubectl get -o json` prints several objects. Values are Go's reading of the YAML.
pub fn manifests_as(format: ManifestFormat, yaml: &str, list: bool) -> Result<String, Failure> {
    if format == ManifestFormat::Yaml {
        return Ok(yaml.to_string());
    }
    let docs = split(yaml)
        .map_err(|e| Failure::failed(format!("output line {}: {}", e.line, e.message)))?;
    let mut items = Vec::new();
    for doc in docs {
        let node = parse_document(&doc.yaml()).map_err(|e| {
            Failure::failed(format!("output document {}: {}", doc.index, e.message))
        })?;
        if let Some(node) = node {
            items.push(node.to_json());
        }
    }
    let value = match (list, items.len()) {
        (false, 1) => items.pop().unwrap_or_default(),
        _ => serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items}),
    };
    json_text(&value)
}

/// `value` as indented JSON and a new line, as every `-o json` prints it.
pub fn json_text<T: serde::Serialize + ?Sized>(value: &T) -> Result<String, Failure> {
    serde_json::to_string_pretty(value)
        .map(|text| format!("{text}\n"))
        .map_err(json_failure)
}

/// JSON this tool makes (or reads back from its own output) that could not be made: exit 1.
/// Not for JSON read from elsewhere, whose failures name where it came from.
pub fn json_failure(e: serde_json::Error) -> Failure {
    Failure::failed(format!("cannot write JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_go_reading_of_each_document() {
        let yaml = "a: 0755\nb: \"x\"\n";
        assert_eq!(
            manifests_as(ManifestFormat::Json, yaml, false).unwrap(),
            "{\n  \"a\": 493,\n  \"b\": \"x\"\n}\n"
        );
        let stream = "---\nkind: A\n---\nkind: B\n";
        let list: serde_json::Value =
            serde_json::from_str(&manifests_as(ManifestFormat::Json, stream, false).unwrap())
                .unwrap();
        assert_eq!(list["kind"], "List");
        assert_eq!(list["items"][1]["kind"], "B");
        assert_eq!(
            manifests_as(ManifestFormat::Yaml, stream, true).unwrap(),
            stream
        );
    }
}
