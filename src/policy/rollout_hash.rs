//! Stamps every pod template with a sha256 of the ConfigMaps and Secrets it uses (volumes,
//! projected sources, envFrom, env valueFrom) that are present in the stream, so that changing
//! a script changes the pod template and rolls the pods. Labels, replicas and key order do not
//! change the hash.

use super::pod::CONTAINER_FIELDS;
use crate::yaml::Node;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub use crate::contract::SCRIPTS_ANNOTATION as ANNOTATION;

/// Canonical data of every ConfigMap and Secret in the stream, by (kind, name).
#[derive(Default, Debug)]
pub struct DataIndex {
    entries: BTreeMap<(String, String), serde_json::Value>,
}

impl DataIndex {
    /// Records `obj` when it is a ConfigMap or Secret.
    pub fn record(&mut self, obj: &Node) {
        let Some(kind @ ("ConfigMap" | "Secret")) = super::pod::kind_of(obj) else {
            return;
        };
        let name = super::pod::name_of(obj).to_string();
        let mut data = serde_json::Map::new();
        for field in ["data", "binaryData", "stringData"] {
            if let Some(v) = obj.get_path(&[field]) {
                // serde_json's map is sorted: the hash does not depend on key order.
                data.insert(field.to_string(), v.to_json());
            }
        }
        self.entries
            .insert((kind.to_string(), name), serde_json::Value::Object(data));
    }

    /// The hash over what `pod_spec` references and the stream holds.
    pub fn hash_for(&self, pod_spec: &Node) -> String {
        let mut refs = references(pod_spec);
        refs.sort();
        refs.dedup();
        let used: Vec<serde_json::Value> = refs
            .into_iter()
            .filter_map(|key| {
                self.entries
                    .get(&key)
                    .map(|data| serde_json::json!({"kind": key.0, "name": key.1, "data": data}))
            })
            .collect();
        let digest = Sha256::digest(serde_json::Value::Array(used).to_string().as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// (kind, name) of every ConfigMap and Secret a pod spec uses.
fn references(spec: &Node) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut add = |kind: &str, name: Option<&Node>| {
        if let Some(n) = name.and_then(Node::as_str) {
            out.push((kind.to_string(), n.to_string()));
        }
    };
    for vol in spec
        .get_path(&["volumes"])
        .and_then(Node::as_seq)
        .into_iter()
        .flatten()
    {
        add("ConfigMap", vol.get_path(&["configMap", "name"]));
        add("Secret", vol.get_path(&["secret", "secretName"]));
        for src in vol
            .get_path(&["projected", "sources"])
            .and_then(Node::as_seq)
            .into_iter()
            .flatten()
        {
            add("ConfigMap", src.get_path(&["configMap", "name"]));
            add("Secret", src.get_path(&["secret", "name"]));
        }
    }
    for field in CONTAINER_FIELDS {
        for c in spec
            .get_path(&[field])
            .and_then(Node::as_seq)
            .into_iter()
            .flatten()
        {
            for ef in c
                .get_path(&["envFrom"])
                .and_then(Node::as_seq)
                .into_iter()
                .flatten()
            {
                add("ConfigMap", ef.get_path(&["configMapRef", "name"]));
                add("Secret", ef.get_path(&["secretRef", "name"]));
            }
            for e in c
                .get_path(&["env"])
                .and_then(Node::as_seq)
                .into_iter()
                .flatten()
            {
                add(
                    "ConfigMap",
                    e.get_path(&["valueFrom", "configMapKeyRef", "name"]),
                );
                add("Secret", e.get_path(&["valueFrom", "secretKeyRef", "name"]));
            }
        }
    }
    out
}

/// Sets the annotation on a pod template (`metadata` + `spec`).
pub fn stamp(template: &mut Node, index: &DataIndex) {
    let Some(spec) = template.get_path(&["spec"]) else {
        return;
    };
    let hash = index.hash_for(spec);
    let Some(t) = template.as_map_mut() else {
        return;
    };
    let meta = t.entry_map("metadata");
    let Some(meta) = meta.as_map_mut() else {
        return;
    };
    let annotations = meta.entry_map("annotations");
    if let Some(a) = annotations.as_map_mut() {
        a.insert(ANNOTATION, Node::string(hash));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_single;

    fn index(docs: &[&str]) -> DataIndex {
        let mut idx = DataIndex::default();
        for d in docs {
            idx.record(&parse_single(d).unwrap());
        }
        idx
    }

    const POD: &str = "volumes:\n- name: a\n  configMap: {name: scripts}\ncontainers:\n- name: c\n  envFrom:\n  - secretRef: {name: creds}\n";

    #[test]
    fn hash_follows_referenced_data_only() {
        let spec = parse_single(POD).unwrap();
        let a = index(&["kind: ConfigMap\nmetadata: {name: scripts}\ndata: {main.py: x, b: y}\n"])
            .hash_for(&spec);
        let reordered = index(&["kind: ConfigMap\nmetadata: {name: scripts, labels: {l: v}}\ndata: {b: y, main.py: x}\n"]).hash_for(&spec);
        let changed =
            index(&["kind: ConfigMap\nmetadata: {name: scripts}\ndata: {main.py: z, b: y}\n"])
                .hash_for(&spec);
        let unrelated = index(&[
            "kind: ConfigMap\nmetadata: {name: scripts}\ndata: {main.py: x, b: y}\n",
            "kind: ConfigMap\nmetadata: {name: other}\ndata: {k: v}\n",
        ])
        .hash_for(&spec);
        let with_secret = index(&[
            "kind: ConfigMap\nmetadata: {name: scripts}\ndata: {main.py: x, b: y}\n",
            "kind: Secret\nmetadata: {name: creds}\ndata: {token: eA==}\n",
        ])
        .hash_for(&spec);
        assert_eq!(a, reordered, "key order and labels do not matter");
        assert_ne!(a, changed, "content matters");
        assert_eq!(a, unrelated, "unreferenced objects do not matter");
        assert_ne!(a, with_secret, "env secrets matter");
        assert_eq!(a.len(), 64);
    }
}
