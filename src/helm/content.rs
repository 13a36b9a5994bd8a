//! What a chart contains, for pinning it: every file as Helm's chart loader reads it, named by
//! its path inside the chart and hashed. The archive's own bytes (tar order, mtimes, owners,
//! modes, gzip level) do not count, so a chart re-packaged with unchanged files keeps its
//! content digest.
//!
//! The content digest is `sha256:` + the hex sha256 of the lines `PATH\0HEX\n`, sorted by
//! path (bytewise), one per file, where HEX is the sha256 of the file's bytes, except:
//! - a leading UTF-8 byte-order mark is dropped (Helm's loader drops it);
//! - `Chart.yaml` is hashed as its metadata, since `helm package` re-serialises it: see
//!   [`canonical_chart_yaml`].
//!
//! Paths are read as Helm reads an archive: the first path component (the chart's folder) is
//! dropped, `\` separators become `/`, the rest is cleaned (`a/./b` is `a/b`); absolute paths,
//! paths climbing out with `..`, and directories are not files of the chart.

use crate::yaml::{Node, parse_single};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

pub const CHART_YAML: &str = "Chart.yaml";

/// Helm's default bound on a chart's decompressed size (`MaxDecompressedChartSize`).
pub const MAX_DECOMPRESSED_BYTES: u64 = 100 * 1024 * 1024;

/// The fields of Helm's chart metadata (`Chart.yaml`), with the fields of their items. A key
/// that is not one of these is dropped when Helm loads the chart, so `helm package` never
/// writes it.
const METADATA_FIELDS: &[&str] = &[
    "name",
    "home",
    "sources",
    "version",
    "description",
    "keywords",
    "maintainers",
    "icon",
    "apiVersion",
    "condition",
    "tags",
    "appVersion",
    "deprecated",
    "annotations",
    "kubeVersion",
    "dependencies",
    "type",
];
const MAINTAINER_FIELDS: &[&str] = &["name", "email", "url"];
const DEPENDENCY_FIELDS: &[&str] = &[
    "name",
    "version",
    "repository",
    "condition",
    "tags",
    "enabled",
    "import-values",
    "alias",
];

/// A chart's files: path → hex sha256 (Chart.yaml: of its canonical metadata).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChartContent {
    pub files: BTreeMap<String, String>,
    /// Chart.yaml's `name` and `version`, for saying which chart it is.
    pub name: String,
    pub version: String,
}

/// How two contents differ, by path.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Difference {
    pub changed: Vec<String>,
    pub added: Vec<String>,
    pub missing: Vec<String>,
}

impl ChartContent {
    /// The content of a chart archive (`.tgz`).
    pub fn from_archive(path: &Path) -> Result<ChartContent, String> {
        let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let gz = flate2::read::GzDecoder::new(std::io::BufReader::new(file));
        let mut archive = tar::Archive::new(gz.take(MAX_DECOMPRESSED_BYTES + 1));
        let mut files = Vec::new();
        let mut total: u64 = 0;
        let entries = archive
            .entries()
            .map_err(|e| format!("{}: not a chart archive: {e}", path.display()))?;
        for entry in entries {
            let mut entry =
                entry.map_err(|e| format!("{}: not a chart archive: {e}", path.display()))?;
            let kind = entry.header().entry_type();
            if kind.is_dir() || kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
                continue;
            }
            let raw_name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let Some(name) = chart_path(&raw_name)
                .map_err(|why| format!("{}: {raw_name}: {why}", path.display()))?
            else {
                continue;
            };
            let mut data = Vec::new();
            entry
                .read_to_end(&mut data)
                .map_err(|e| format!("{}: {raw_name}: {e}", path.display()))?;
            total += data.len() as u64;
            if total > MAX_DECOMPRESSED_BYTES {
                return Err(format!(
                    "{}: the chart is larger than {} MiB decompressed (Helm's limit)",
                    path.display(),
                    MAX_DECOMPRESSED_BYTES >> 20
                ));
            }
            files.push((name, data));
        }
        ChartContent::from_files(files).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The content of these files (chart paths and bytes).
    pub fn from_files(files: Vec<(String, Vec<u8>)>) -> Result<ChartContent, String> {
        let mut content = ChartContent::default();
        for (name, data) in files {
            let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&data);
            let hashed = if name == CHART_YAML {
                let canonical = canonical_chart_yaml(data)?;
                let metadata: serde_json::Value =
                    serde_json::from_str(&canonical).unwrap_or_default();
                let text = |k: &str| metadata[k].as_str().unwrap_or_default().to_string();
                content.name = text("name");
                content.version = text("version");
                canonical.into_bytes()
            } else {
                data.to_vec()
            };
            content.files.insert(name, hex(&Sha256::digest(&hashed)));
        }
        if !content.files.contains_key(CHART_YAML) {
            return Err("no Chart.yaml at the chart's top level: not a chart".into());
        }
        Ok(content)
    }

    /// The lines the content digest hashes: `PATH\0HEX\n`, sorted by path.
    pub fn lines(&self) -> String {
        lines_of(&self.files)
    }

    /// `sha256:<hex>` of [`ChartContent::lines`].
    pub fn digest(&self) -> String {
        digest_of(&self.files)
    }

    /// What this content has that `pinned` does not, and the reverse.
    pub fn compare(&self, pinned: &BTreeMap<String, String>) -> Difference {
        let mut d = Difference::default();
        for (path, hash) in &self.files {
            match pinned.get(path) {
                None => d.added.push(path.clone()),
                Some(h) if h != hash => d.changed.push(path.clone()),
                Some(_) => {}
            }
        }
        d.missing = pinned
            .keys()
            .filter(|p| !self.files.contains_key(*p))
            .cloned()
            .collect();
        d
    }
}

/// The lines of a file list: `PATH\0HEX\n`, sorted by path.
pub fn lines_of(files: &BTreeMap<String, String>) -> String {
    files
        .iter()
        .map(|(path, hash)| format!("{path}\0{hash}\n"))
        .collect()
}

/// The content digest of a file list.
pub fn digest_of(files: &BTreeMap<String, String>) -> String {
    format!(
        "sha256:{}",
        hex(&Sha256::digest(lines_of(files).as_bytes()))
    )
}

impl Difference {
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.added.is_empty() && self.missing.is_empty()
    }

    /// `changed: a, b; added: c; missing: d` (the parts that are not empty).
    pub fn describe(&self) -> String {
        [
            ("changed", &self.changed),
            ("added", &self.added),
            ("missing", &self.missing),
        ]
        .iter()
        .filter(|(_, paths)| !paths.is_empty())
        .map(|(what, paths)| format!("{what}: {}", paths.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
    }
}

/// Helm's loader sanitises every metadata text but the annotations: each whitespace
/// character becomes a space, control characters are removed (`helm package` writes a
/// multi-line description as one line).
fn sanitize(text: &str) -> String {
    text.chars()
        .filter_map(|c| {
            if c.is_whitespace() {
                Some(' ')
            } else if c.is_control() {
                None
            } else {
                Some(c)
            }
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The path inside the chart of an archive entry named `raw` (`locust/templates/x.yaml` →
/// `templates/x.yaml`), as Helm's archive loader reads it; `Ok(None)` for the chart's folder
/// itself; Err for a name Helm refuses.
pub fn chart_path(raw: &str) -> Result<Option<String>, String> {
    let delimiter = if raw.contains('\\') { '\\' } else { '/' };
    let mut parts = raw.split(delimiter);
    let top = parts.next().unwrap_or_default();
    let rest: Vec<&str> = parts.collect();
    if rest.is_empty() {
        if top == CHART_YAML {
            return Err("Chart.yaml is not in the chart's folder".into());
        }
        return Ok(None);
    }
    let joined = rest.join("/");
    if joined.starts_with('/') {
        return Err("an absolute path in a chart".into());
    }
    let cleaned = clean(&joined);
    if cleaned == "." {
        return Ok(None);
    }
    if cleaned.starts_with("..") {
        return Err("a path that climbs out of the chart".into());
    }
    Ok(Some(cleaned))
}

/// Go's `path.Clean` for a relative path: `.` segments and empty segments dropped, `x/..`
/// removed.
fn clean(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." if out.last().is_some_and(|l| *l != "..") => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.is_empty() {
        ".".into()
    } else {
        out.join("/")
    }
}

/// Chart.yaml as the metadata Helm reads from it, in one canonical text: the JSON object of
/// Helm's metadata fields (unknown keys dropped, as Helm's loader drops them), keys sorted,
/// every scalar as text the way Go's YAML reading gives it (an unquoted `1.10` is the number
/// 1.1, as Helm reads it), sanitised as Helm's loader sanitises it (whitespace characters become
/// spaces, control characters go; annotation values are kept as they are), and empty values left out (null, `""`, `false` of
/// `deprecated` and `enabled`, empty lists and mappings: Helm writes none of them back).
pub fn canonical_chart_yaml(data: &[u8]) -> Result<String, String> {
    let text = std::str::from_utf8(data).map_err(|e| format!("Chart.yaml: not UTF-8: {e}"))?;
    let node = parse_single(text).map_err(|e| format!("Chart.yaml: invalid YAML: {e}"))?;
    let Node::Map(_) = node else {
        return Err("Chart.yaml: not a mapping".into());
    };
    let value = canonical(&node, Some(METADATA_FIELDS), "").unwrap_or_default();
    Ok(value.to_string())
}

/// The canonical JSON of `node`, keeping only `fields` of a mapping when given; None when
/// empty. `key` names the node, for the item fields of `maintainers` and `dependencies`.
fn canonical(node: &Node, fields: Option<&[&str]>, key: &str) -> Option<serde_json::Value> {
    use serde_json::Value as J;
    match node {
        Node::Scalar(s) => {
            // Only the two boolean fields are typed; every other field is a string to Helm.
            let false_bool =
                matches!(key, "deprecated" | "enabled") && node.as_bool() == Some(false);
            let empty = node.is_null() || s.text.is_empty() || false_bool;
            let text = if key == "annotations" {
                s.text.clone()
            } else {
                sanitize(&s.text)
            };
            (!empty).then_some(J::String(text))
        }
        Node::Seq(items) => {
            let item_fields = match key {
                "maintainers" => Some(MAINTAINER_FIELDS),
                "dependencies" => Some(DEPENDENCY_FIELDS),
                _ => None,
            };
            let items: Vec<J> = items
                .iter()
                .map(|i| canonical(i, item_fields, "").unwrap_or(J::Null))
                .collect();
            (!items.is_empty()).then_some(J::Array(items))
        }
        Node::Map(m) => {
            let mut out = serde_json::Map::new();
            for (k, v) in m.iter() {
                let k = k.key_text();
                if fields.is_some_and(|f| !f.contains(&k.as_str())) {
                    continue;
                }
                // Annotation values are kept as written; `key` tells their scalars so.
                let key = if key == "annotations" {
                    key
                } else {
                    k.as_str()
                };
                if let Some(v) = canonical(v, None, key) {
                    out.insert(k, v);
                }
            }
            // serde_json's map is sorted by key (no `preserve_order`), so the text is canonical.
            (!out.is_empty()).then_some(J::Object(out))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (what the row shows, archive entry name, chart path or the start of the error).
    #[test]
    fn chart_paths() {
        type Want = Result<Option<&'static str>, &'static str>;
        let rows: &[(&str, &str, Want)] = &[
            (
                "a template",
                "locust/templates/a.yaml",
                Ok(Some("templates/a.yaml")),
            ),
            ("the chart's folder", "locust/", Ok(None)),
            ("the folder without a slash", "locust", Ok(None)),
            (
                "any folder name",
                "other/Chart.yaml",
                Ok(Some("Chart.yaml")),
            ),
            (
                "dot segments",
                "locust/./templates//a.yaml",
                Ok(Some("templates/a.yaml")),
            ),
            (
                "a climb that stays inside",
                "locust/templates/../values.yaml",
                Ok(Some("values.yaml")),
            ),
            (
                "windows separators",
                "locust\\templates\\a.yaml",
                Ok(Some("templates/a.yaml")),
            ),
            ("a climb out", "locust/../x", Err("a path that climbs out")),
            ("absolute", "locust//etc/passwd", Err("an absolute path")),
            (
                "Chart.yaml at the top",
                "Chart.yaml",
                Err("Chart.yaml is not in the chart's folder"),
            ),
        ];
        let mut failed = Vec::new();
        for (what, raw, want) in rows {
            let got = chart_path(raw);
            let ok = match (&got, want) {
                (Ok(g), Ok(w)) => g.as_deref() == *w,
                (Err(g), Err(w)) => g.starts_with(w),
                _ => false,
            };
            if !ok {
                failed.push(format!("- {what}: {got:?}"));
            }
        }
        assert!(failed.is_empty(), "{}", failed.join("\n"));
    }

    /// (what the row shows, one Chart.yaml, another; whether they are the same metadata).
    #[test]
    fn chart_yaml_is_compared_as_metadata() {
        let base = "apiVersion: v2\nname: locust\nversion: 0.35.0\nappVersion: 2.32.2\n";
        let rows: &[(&str, &str, &str, bool)] = &[
            (
                "key order",
                base,
                "name: locust\nappVersion: 2.32.2\napiVersion: v2\nversion: 0.35.0\n",
                true,
            ),
            (
                "quoting",
                base,
                "apiVersion: \"v2\"\nname: 'locust'\nversion: 0.35.0\nappVersion: \"2.32.2\"\n",
                true,
            ),
            (
                "flow style",
                base,
                "{apiVersion: v2, name: locust, version: 0.35.0, appVersion: 2.32.2}",
                true,
            ),
            ("comments", base, &format!("# a comment\n{base}"), true),
            (
                "an unknown key Helm drops",
                base,
                &format!("{base}x-extra: 1\n"),
                true,
            ),
            (
                "empty values Helm omits",
                base,
                &format!("{base}icon: \"\"\nkeywords: []\ndeprecated: false\nhome:\n"),
                true,
            ),
            (
                "a block scalar and its quoted form",
                "description: |\n  a\n  b\n",
                "description: \"a\\nb\\n\"\n",
                true,
            ),
            (
                "line breaks as Helm writes them",
                "description: |\n  a\n\n  b\n",
                "description: 'a  b '\n",
                true,
            ),
            (
                "an annotation's line breaks count",
                "annotations: {x: \"a\\nb\"}",
                "annotations: {x: a b}",
                false,
            ),
            (
                "another version",
                base,
                &base.replace("0.35.0", "0.35.1"),
                false,
            ),
            (
                "another name",
                base,
                &base.replace("name: locust", "name: locust-mini"),
                false,
            ),
            (
                "a float Helm reads as the same number (why Helm asks to quote appVersion)",
                "appVersion: 1.10\n",
                "appVersion: 1.1\n",
                true,
            ),
            (
                "another number",
                "appVersion: 1.2\n",
                "appVersion: 1.1\n",
                false,
            ),
            (
                "a quoted number is text",
                "appVersion: \"1.10\"\n",
                "appVersion: \"1.1\"\n",
                false,
            ),
            (
                "deprecated",
                base,
                &format!("{base}deprecated: true\n"),
                false,
            ),
            (
                "a maintainer's unknown field",
                "maintainers: [{name: a, x: 1}]",
                "maintainers: [{name: a}]",
                true,
            ),
            (
                "a maintainer's url",
                "maintainers: [{name: a, url: u}]",
                "maintainers: [{name: a}]",
                false,
            ),
        ];
        let mut failed = Vec::new();
        for (what, a, b, same) in rows {
            let (ca, cb) = (
                canonical_chart_yaml(a.as_bytes()).unwrap(),
                canonical_chart_yaml(b.as_bytes()).unwrap(),
            );
            if (ca == cb) != *same {
                failed.push(format!("- {what}: {ca} vs {cb}"));
            }
        }
        assert!(failed.is_empty(), "{}", failed.join("\n"));
    }

    #[test]
    fn the_digest_hashes_sorted_path_and_hash_lines() {
        let files = vec![
            ("templates/b.yaml".to_string(), b"b".to_vec()),
            (CHART_YAML.to_string(), b"name: x\n".to_vec()),
            ("templates/a.yaml".to_string(), b"\xEF\xBB\xBFa".to_vec()),
        ];
        let content = ChartContent::from_files(files).unwrap();
        let h = |b: &[u8]| hex(&Sha256::digest(b));
        let want_lines = format!(
            "Chart.yaml\0{}\ntemplates/a.yaml\0{}\ntemplates/b.yaml\0{}\n",
            h(br#"{"name":"x"}"#),
            h(b"a"),
            h(b"b")
        );
        assert_eq!(content.lines(), want_lines);
        assert_eq!((content.name.as_str(), content.version.as_str()), ("x", ""));
        assert_eq!(
            content.digest(),
            format!("sha256:{}", h(want_lines.as_bytes()))
        );
    }

    #[test]
    fn differences_name_each_path() {
        let pinned: BTreeMap<String, String> = [("Chart.yaml", "1"), ("a", "2"), ("b", "3")]
            .map(|(p, h)| (p.to_string(), h.to_string()))
            .into();
        let got = ChartContent {
            files: [("Chart.yaml", "1"), ("a", "X"), ("c", "4")]
                .map(|(p, h)| (p.to_string(), h.to_string()))
                .into(),
            ..ChartContent::default()
        };
        let d = got.compare(&pinned);
        assert_eq!(d.describe(), "changed: a; added: c; missing: b");
        let same = ChartContent {
            files: pinned.clone(),
            ..ChartContent::default()
        };
        assert!(same.compare(&pinned).is_empty());
    }
}
