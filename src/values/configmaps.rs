//! The script ConfigMaps, named `<name>-<role>-<hash>` where the hash covers exactly the data
//! the pod sees. Any content change gives a new name, so the pod template changes and the pods
//! roll; no change gives identical bytes.

use crate::spec::{HASH_LEN, LIB_ROLE, LoadTestSpec, MAIN_ROLE};
use crate::yaml::{Map, Node};
use sha2::{Digest, Sha256};

pub const LOCUSTFILE_KEY: &str = "main.py";
/// The package list, one requirement per line, beside `main.py` (the init container installs
/// the same list from its arguments); being in the data, it is part of the name's hash.
pub const REQUIREMENTS_KEY: &str = "requirements.txt";

#[derive(Clone, Debug, PartialEq)]
pub struct ScriptConfigMap {
    pub role: &'static str,
    pub name: String,
    pub data: Vec<(String, String)>,
}

/// The main ConfigMap always; the lib ConfigMap when there are lib files.
pub fn script_configmaps(spec: &LoadTestSpec) -> Vec<ScriptConfigMap> {
    let lt = &spec.load_test;
    let mut main = vec![(LOCUSTFILE_KEY.to_string(), lt.main_py.clone())];
    if !lt.pip_packages.is_empty() {
        main.push((
            REQUIREMENTS_KEY.to_string(),
            lt.pip_packages.iter().map(|p| format!("{p}\n")).collect(),
        ));
    }
    let mut out = vec![named(&spec.name, MAIN_ROLE, main)];
    if !lt.lib_files.is_empty() {
        out.push(named(&spec.name, LIB_ROLE, lt.lib_files.clone()));
    }
    out
}

fn named(base: &str, role: &'static str, mut data: Vec<(String, String)>) -> ScriptConfigMap {
    data.sort();
    let name = format!("{base}-{role}-{}", content_hash(&data));
    ScriptConfigMap { role, name, data }
}

/// Content that Helm's `toYaml` → `tpl` → YAML round trip cannot carry as text: U+0085 (NEL)
/// is written raw by Go's emitter and read back as a line break. Such files go in `binaryData`
/// (base64), which the pod sees as the same bytes.
pub fn needs_binary(content: &str) -> bool {
    content.contains('\u{85}')
}

/// kustomize's ConfigMap hash: sha256 of the JSON `{"binaryData":…,"data":…,"kind":"ConfigMap","name":""}`
/// with sorted keys (`binaryData` only when present), first 10 hex characters, with `0 1 3 a e` replaced so that the suffix never
/// spells words or looks like a number.
pub fn content_hash(data: &[(String, String)]) -> String {
    use base64::Engine;
    let (binary, text): (Vec<_>, Vec<_>) = data.iter().partition(|(_, v)| needs_binary(v));
    let to_map = |items: Vec<&(String, String)>,
                  encode: bool|
     -> serde_json::Map<String, serde_json::Value> {
        items
            .into_iter()
            .map(|(k, v)| {
                let v = if encode {
                    base64::engine::general_purpose::STANDARD.encode(v)
                } else {
                    v.clone()
                };
                (k.clone(), serde_json::Value::String(v))
            })
            .collect()
    };
    let mut doc = serde_json::json!({"data": to_map(text, false), "kind": "ConfigMap", "name": ""});
    if !binary.is_empty() {
        doc["binaryData"] = serde_json::Value::Object(to_map(binary, true));
    }
    let digest = Sha256::digest(doc.to_string().as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    hex.chars()
        .take(HASH_LEN)
        .map(|c| match c {
            '0' => 'g',
            '1' => 'h',
            '3' => 'k',
            'a' => 'm',
            'e' => 't',
            c => c,
        })
        .collect()
}

impl ScriptConfigMap {
    /// The ConfigMap as a Kubernetes object. Immutable: its name changes with its content.
    pub fn manifest(&self, spec: &LoadTestSpec) -> Node {
        let mut labels = Map::default();
        labels.insert("app.kubernetes.io/name", Node::string("locust"));
        labels.insert("app.kubernetes.io/instance", Node::string(&spec.name));
        labels.insert(
            "app.kubernetes.io/component",
            Node::string(format!("{}-scripts", self.role)),
        );
        labels.insert("load_test", Node::string(&spec.load_test.name));
        let mut metadata = Map::default();
        metadata.insert("name", Node::string(&self.name));
        metadata.insert("labels", Node::Map(labels));
        use base64::Engine;
        let mut data = Map::default();
        let mut binary = Map::default();
        for (k, v) in &self.data {
            if needs_binary(v) {
                binary.insert(
                    k,
                    Node::string(base64::engine::general_purpose::STANDARD.encode(v)),
                );
            } else {
                data.insert(k, Node::string(v));
            }
        }
        let mut cm = Map::default();
        cm.insert("apiVersion", Node::string("v1"));
        cm.insert("kind", Node::string("ConfigMap"));
        cm.insert("metadata", Node::Map(metadata));
        cm.insert("immutable", Node::bool(true));
        cm.insert("data", Node::Map(data));
        if !binary.is_empty() {
            cm.insert("binaryData", Node::Map(binary));
        }
        Node::Map(cm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_of_keys_does_not_matter() {
        let a = vec![("a".into(), "1".into()), ("b".into(), "2".into())];
        let b = vec![("b".into(), "2".into()), ("a".into(), "1".into())];
        assert_eq!(named("x", "lib", a).name, named("x", "lib", b).name);
    }
}
