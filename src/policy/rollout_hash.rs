//! Stamps every pod template with a sha256 of the ConfigMaps and Secrets it uses (volumes,
//! projected sources, envFrom, env valueFrom) that are present in the stream, so that changing
//! a script changes the pod template and rolls the pods. Labels, replicas and key order do not
//! change the hash.

use super::pod::CONTAINER_FIELDS;
use crate::yaml::{Node, Resolved, Style};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub use crate::contract::SCRIPTS_ANNOTATION as ANNOTATION;

/// Canonical data of every ConfigMap and Secret in the stream, by (kind, name).
///
/// Each entry is kept as the compact JSON text the hash covers ([`data_text`]), not as a JSON
/// tree: a tree of maps and strings weighs far more than its text. ([`Places`] keeps where each
/// object is instead, for a caller that holds the stream anyway.)
#[derive(Default, Debug)]
pub struct DataIndex {
    entries: BTreeMap<(String, String), Box<str>>,
}

/// The kind and name under which an index keeps `obj`, when it is a ConfigMap or Secret.
fn key_of(obj: &Node) -> Option<(String, String)> {
    let kind @ ("ConfigMap" | "Secret") = super::pod::kind_of(obj)? else {
        return None;
    };
    Some((kind.to_string(), super::pod::name_of(obj).to_string()))
}

/// The text the hash covers for one object: the compact JSON object of its `data`,
/// `binaryData` and `stringData` (those present), as serde_json writes the JSON value
/// Kubernetes reads (`Node::to_json`): keys sorted, the last of equal keys kept. Written from
/// the tree directly: serde_json's tree would copy every value, and its writer escapes a byte at
/// a time (most of the data is long scripts).
pub fn data_text(obj: &Node) -> String {
    let mut out = String::new();
    out.push('{');
    // In serde_json's (sorted) order.
    let fields = ["binaryData", "data", "stringData"]
        .into_iter()
        .filter_map(|f| obj.get_path(&[f]).map(|v| (f, v)));
    for (i, (field, value)) in fields.enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_string(&mut out, field);
        out.push(':');
        push_json(&mut out, value);
    }
    out.push('}');
    out
}

/// `node.to_json()` as serde_json writes it, compact.
fn push_json(out: &mut String, node: &Node) {
    match node {
        Node::Seq(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_json(out, item);
            }
            out.push(']');
        }
        Node::Map(map) => {
            let mut entries: Vec<(String, &Node)> =
                map.iter().map(|(k, v)| (k.key_text(), v)).collect();
            // serde_json's map is a BTreeMap: sorted by key, the last of equal keys kept (a
            // stable sort keeps equal keys in insertion order).
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            out.push('{');
            let mut first = true;
            for (i, (key, value)) in entries.iter().enumerate() {
                if entries.get(i + 1).is_some_and(|next| next.0 == *key) {
                    continue;
                }
                if !first {
                    out.push(',');
                }
                first = false;
                push_json_string(out, key);
                out.push(':');
                push_json(out, value);
            }
            out.push('}');
        }
        Node::Scalar(s) if s.style == Style::Quoted => push_json_string(out, &s.text),
        Node::Scalar(s) => match s.resolved() {
            Resolved::String(text) => push_json_string(out, &text),
            Resolved::Null => out.push_str("null"),
            Resolved::Bool(b) => out.push_str(if b { "true" } else { "false" }),
            Resolved::Int(i) => out.push_str(&i.to_string()),
            Resolved::Float(f) => match serde_json::Number::from_f64(f) {
                Some(n) => out.push_str(&n.to_string()),
                None => out.push_str("null"),
            },
        },
    }
}

/// `s` as a JSON string literal, escaped byte for byte as serde_json escapes it (`"`, `\\`,
/// `\b \t \n \f \r`, other bytes below 0x20 as `\u00xx`), eight bytes tested at a time.
fn push_json_string(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    // Bytes before `run` are written; `at` is where to look next.
    let (mut run, mut at) = (0, 0);
    while at < bytes.len() {
        if let Some(chunk) = bytes.get(at..at + 8)
            && let Ok(word) = <[u8; 8]>::try_from(chunk)
        {
            match escapes(u64::from_le_bytes(word)) {
                0 => {
                    at += 8;
                    continue;
                }
                // The lowest byte marked is one to escape (see `escapes`).
                marked => at += marked.trailing_zeros() as usize / 8,
            }
        }
        let b = bytes[at];
        if let Some(escaped) = json_escape(b) {
            // `b` is ASCII: `at` and `at + 1` are character boundaries.
            out.push_str(&s[run..at]);
            out.push_str(escaped);
            if escaped == "\\u00" {
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
            run = at + 1;
        }
        at += 1;
    }
    out.push_str(&s[run..]);
    out.push('"');
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The bytes of `w` (little-endian) that are below 0x20, `"` or `\\`, each marked by its high
/// bit: none is missed, and the lowest byte marked is always one of them (a byte above a match
/// may be marked too: the subtraction borrows upward only).
fn escapes(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGH;
    let zero = |x: u64| below(x, 1);
    below(w, 0x20) | zero(w ^ (ONES * u64::from(b'"'))) | zero(w ^ (ONES * u64::from(b'\\')))
}

/// How serde_json writes byte `b` in a string, when it escapes it (`\\u00` is followed by the
/// byte's two hex digits).
fn json_escape(b: u8) -> Option<&'static str> {
    Some(match b {
        b'"' => "\\\"",
        b'\\' => "\\\\",
        0x08 => "\\b",
        b'\t' => "\\t",
        b'\n' => "\\n",
        0x0c => "\\f",
        b'\r' => "\\r",
        0..0x20 => "\\u00",
        _ => return None,
    })
}

impl DataIndex {
    /// Records `obj` when it is a ConfigMap or Secret.
    pub fn record(&mut self, obj: &Node) {
        if let Some(key) = key_of(obj) {
            self.entries.insert(key, data_text(obj).into_boxed_str());
        }
    }

    /// The hash over what `pod_spec` references and the stream holds (see [`hash_over`]).
    pub fn hash_for(&self, pod_spec: &Node) -> String {
        let found = hash_over(pod_spec, |key| {
            Ok::<_, std::convert::Infallible>(self.entries.get(key))
        });
        match found {
            Ok(hash) => hash,
            Err(never) => match never {},
        }
    }
}

/// Where an object is in a stream: its document's position and its own among the document's
/// objects (the items of a `kind: List`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Location {
    pub document: usize,
    pub object: usize,
}

/// Where every ConfigMap and Secret of a stream is, by (kind, name): an index for a caller that
/// keeps the stream and reads an object's data again ([`data_text`]) when a pod template uses
/// it. On large streams the data of the ConfigMaps is most of the input; a [`DataIndex`] would
/// hold it a second time.
#[derive(Default, Debug)]
pub struct Places {
    entries: BTreeMap<(String, String), Location>,
}

impl Places {
    /// Records where `obj` is when it is a ConfigMap or Secret (a later one of the same kind
    /// and name replaces it, as in [`DataIndex`]).
    pub fn record(&mut self, obj: &Node, at: Location) {
        if let Some(key) = key_of(obj) {
            self.entries.insert(key, at);
        }
    }

    /// Where the object a hash uses for `key` is.
    pub fn get(&self, key: &(String, String)) -> Option<Location> {
        self.entries.get(key).copied()
    }

    /// The hash [`DataIndex::hash_for`] gives, with the data text of each present object that
    /// `pod_spec` references from `read` (its error is returned).
    pub fn hash_with<T: AsRef<str>, E>(
        &self,
        pod_spec: &Node,
        mut read: impl FnMut(Location) -> Result<T, E>,
    ) -> Result<String, E> {
        hash_over(pod_spec, |key| self.get(key).map(&mut read).transpose())
    }
}

/// The hash over what `pod_spec` references and the stream holds: sha256 of the compact JSON
/// array of `{"data": …, "kind": …, "name": …}` (keys sorted, as serde_json writes an object),
/// one element per referenced object present, in (kind, name) order, `data` the object's
/// [`data_text`] (`None` from `data`: not in the stream); fed to the hasher piece by piece, so
/// no entry is copied.
fn hash_over<T: AsRef<str>, E>(
    pod_spec: &Node,
    mut data: impl FnMut(&(String, String)) -> Result<Option<T>, E>,
) -> Result<String, E> {
    let refs = distinct_references(pod_spec);
    let mut hasher = Sha256::new();
    hasher.update(b"[");
    let mut first = true;
    for key in &refs {
        let Some(text) = data(key)? else {
            continue;
        };
        if !first {
            hasher.update(b",");
        }
        first = false;
        hasher.update(b"{\"data\":");
        hasher.update(text.as_ref().as_bytes());
        hasher.update(b",\"kind\":");
        hasher.update(json_string(&key.0).as_bytes());
        hasher.update(b",\"name\":");
        hasher.update(json_string(&key.1).as_bytes());
        hasher.update(b"}");
    }
    hasher.update(b"]");
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// `s` as a JSON string literal, escaped as serde_json writes it.
fn json_string(s: &str) -> String {
    let mut out = String::new();
    push_json_string(&mut out, s);
    out
}

/// (kind, name) of every ConfigMap and Secret a pod spec uses, each once, sorted: what its hash
/// covers (a ConfigMap both mounted and named in `envFrom` counts once).
pub fn distinct_references(spec: &Node) -> Vec<(String, String)> {
    let mut refs = references(spec);
    refs.sort();
    refs.dedup();
    refs
}

/// (kind, name) of every ConfigMap and Secret a pod spec uses.
pub fn references(spec: &Node) -> Vec<(String, String)> {
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
    let stamped = stamp_with(template, |spec| {
        Ok::<_, std::convert::Infallible>(index.hash_for(spec))
    });
    if let Err(never) = stamped {
        match never {}
    }
}

/// [`stamp`] with the hash `hash` gives for the template's pod spec (its error is returned,
/// nothing set).
pub fn stamp_with<E>(
    template: &mut Node,
    hash: impl FnOnce(&Node) -> Result<String, E>,
) -> Result<(), E> {
    let Some(spec) = template.get_path(&["spec"]) else {
        return Ok(());
    };
    let hash = hash(spec)?;
    let Some(t) = template.as_map_mut() else {
        return Ok(());
    };
    let meta = t.entry_map("metadata");
    let Some(meta) = meta.as_map_mut() else {
        return Ok(());
    };
    let annotations = meta.entry_map("annotations");
    if let Some(a) = annotations.as_map_mut() {
        a.insert(ANNOTATION, Node::string(hash));
    }
    Ok(())
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

/// The filter as tables: what a pod spec references, which data changes the hash, and the
/// annotation `stamp` writes.
#[cfg(test)]
mod table {
    use super::*;
    use crate::yaml::emit_document;
    use crate::yaml::testing::{at, at_mut, documents, normalized};

    /// (what the row shows, a pod spec, the references that feed the hash as `Kind/name`).
    #[test]
    fn references_by_place() {
        let rows: &[(&str, &str, &[&str])] = &[
            (
                "volumes: a ConfigMap, a Secret",
                "{volumes: [{name: a, configMap: {name: cm}}, {name: b, secret: {secretName: s}}, {name: c, emptyDir: {}}], containers: [{name: c}]}",
                &["ConfigMap/cm", "Secret/s"],
            ),
            (
                "projected sources",
                "{volumes: [{name: p, projected: {sources: [{configMap: {name: cm}}, {secret: {name: s}}, {downwardAPI: {}}]}}], containers: [{name: c}]}",
                &["ConfigMap/cm", "Secret/s"],
            ),
            (
                "envFrom and env of every container list",
                "{initContainers: [{name: i, envFrom: [{configMapRef: {name: a}}]}], containers: [{name: c, env: [{name: X, valueFrom: {secretKeyRef: {name: b, key: k}}}, {name: Y, value: v}]}], ephemeralContainers: [{name: e, envFrom: [{secretRef: {name: c}}], env: [{name: Z, valueFrom: {configMapKeyRef: {name: d, key: k}}}]}]}",
                &["ConfigMap/a", "Secret/b", "Secret/c", "ConfigMap/d"],
            ),
            (
                "the names Kubernetes does not read are not references",
                "{volumes: [{name: a, secret: {name: wrong}}, {name: b, projected: {sources: [{secret: {secretName: wrong}}]}}], containers: [{name: c, envFrom: [{configMapRef: {key: k}}], env: [{name: X, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]}]}",
                &[],
            ),
            (
                "malformed lists are skipped, not refused (hardening refuses them)",
                "{volumes: {a: b}, containers: {name: c}}",
                &[],
            ),
        ];
        let mut failed = Vec::new();
        for (what, spec, want) in rows {
            let got: Vec<String> = references(&documents(spec)[0])
                .into_iter()
                .map(|(k, n)| format!("{k}/{n}"))
                .collect();
            if got != *want {
                failed.push(format!("- {what}: {got:?}"));
            }
        }
        assert!(failed.is_empty(), "{}", failed.join("\n"));
    }

    /// Each row is a variant of one pod spec and stream (`SPEC`, `BASE`): (what the row shows,
    /// its pod spec, its stream, whether its hash is the base's).
    #[test]
    fn what_changes_the_hash() {
        const SPEC: &str = "{volumes: [{name: a, configMap: {name: scripts}}], containers: [{name: c, envFrom: [{secretRef: {name: creds}}]}]}";
        const BASE: &str = "kind: ConfigMap\nmetadata: {name: scripts}\ndata: {main.py: x, lib.py: y}\n---\nkind: Secret\nmetadata: {name: creds}\ndata: {token: eA==}";
        let rows: &[(&str, &str, &str, bool)] = &[
            ("the base itself", SPEC, BASE, true),
            (
                "a script's content",
                SPEC,
                "kind: ConfigMap\nmetadata: {name: scripts}\ndata: {main.py: z, lib.py: y}\n---\nkind: Secret\nmetadata: {name: creds}\ndata: {token: eA==}",
                false,
            ),
            (
                "a Secret's data",
                SPEC,
                "kind: ConfigMap\nmetadata: {name: scripts}\ndata: {main.py: x, lib.py: y}\n---\nkind: Secret\nmetadata: {name: creds}\ndata: {token: eQ==}",
                false,
            ),
            (
                "binaryData counts",
                SPEC,
                "kind: ConfigMap\nmetadata: {name: scripts}\ndata: {main.py: x, lib.py: y}\nbinaryData: {b: AA==}\n---\nkind: Secret\nmetadata: {name: creds}\ndata: {token: eA==}",
                false,
            ),
            (
                "stringData counts",
                SPEC,
                "kind: ConfigMap\nmetadata: {name: scripts}\ndata: {main.py: x, lib.py: y}\n---\nkind: Secret\nmetadata: {name: creds}\ndata: {token: eA==}\nstringData: {s: t}",
                false,
            ),
            (
                "a referenced object leaving the stream",
                SPEC,
                "kind: ConfigMap\nmetadata: {name: scripts}\ndata: {main.py: x, lib.py: y}",
                false,
            ),
            (
                "a reference dropped from the pod",
                "{volumes: [{name: a, configMap: {name: scripts}}], containers: [{name: c}]}",
                BASE,
                false,
            ),
            (
                "key order, labels, annotations and the document order do not",
                SPEC,
                "kind: Secret\nmetadata: {name: creds, labels: {a: b}}\ndata: {token: eA==}\n---\nkind: ConfigMap\nmetadata: {name: scripts, annotations: {x: z}, labels: {l: v}}\ndata: {lib.py: y, main.py: x}",
                true,
            ),
            (
                "an object the pod does not reference does not",
                SPEC,
                "kind: ConfigMap\nmetadata: {name: scripts}\ndata: {main.py: x, lib.py: y}\n---\nkind: Secret\nmetadata: {name: creds}\ndata: {token: eA==}\n---\nkind: ConfigMap\nmetadata: {name: other}\ndata: {k: v}",
                true,
            ),
            (
                "a Secret named like a referenced ConfigMap does not",
                SPEC,
                "kind: ConfigMap\nmetadata: {name: scripts}\ndata: {main.py: x, lib.py: y}\n---\nkind: Secret\nmetadata: {name: creds}\ndata: {token: eA==}\n---\nkind: Secret\nmetadata: {name: scripts}\ndata: {k: dg==}",
                true,
            ),
            (
                "references in another place, order, or twice do not",
                "{initContainers: [{name: i, env: [{name: T, valueFrom: {secretKeyRef: {name: creds, key: token}}}]}], containers: [{name: c, envFrom: [{secretRef: {name: creds}}, {configMapRef: {name: scripts}}]}]}",
                BASE,
                true,
            ),
            (
                "another object's replicas or labels do not",
                SPEC,
                "kind: ConfigMap\nmetadata: {name: scripts}\ndata: {main.py: x, lib.py: y}\n---\nkind: Secret\nmetadata: {name: creds}\ndata: {token: eA==}\n---\nkind: Deployment\nmetadata: {name: d, labels: {a: b}}\nspec: {replicas: 3}",
                true,
            ),
        ];
        let hash = |spec: &str, stream: &str| {
            let mut index = DataIndex::default();
            for obj in documents(stream) {
                index.record(&obj);
            }
            index.hash_for(&documents(spec)[0])
        };
        let base = hash(SPEC, BASE);
        let mut failed = Vec::new();
        for (what, spec, stream, same) in rows {
            if (hash(spec, stream) == base) != *same {
                failed.push(format!("- {what}"));
            }
        }
        assert!(failed.is_empty(), "{}", failed.join("\n"));
    }

    /// The hash as the JSON tree it is defined by: the array of `{"data", "kind", "name"}`
    /// objects serde_json writes, hashed whole. `hash_for` streams the same bytes.
    fn hash_of_tree(stream: &str, spec: &Node) -> String {
        let mut refs = references(spec);
        refs.sort();
        refs.dedup();
        let objects = documents(stream);
        let used: Vec<serde_json::Value> = refs
            .into_iter()
            .filter_map(|(kind, name)| {
                let obj = objects.iter().rev().find(|o| {
                    crate::policy::pod::kind_of(o) == Some(kind.as_str())
                        && crate::policy::pod::name_of(o) == name
                })?;
                let mut data = serde_json::Map::new();
                for field in ["data", "binaryData", "stringData"] {
                    if let Some(v) = obj.get_path(&[field]) {
                        data.insert(field.to_string(), v.to_json());
                    }
                }
                Some(serde_json::json!({"kind": kind, "name": name, "data": data}))
            })
            .collect();
        let digest = Sha256::digest(serde_json::Value::Array(used).to_string().as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// (what the row shows, the pod spec, the stream): the streamed hash is the tree's, byte for
    /// byte, whatever the names and data hold.
    #[test]
    fn the_streamed_hash_is_the_hash_of_the_json_tree() {
        let rows: &[(&str, &str, &str)] = &[
            (
                "nothing referenced",
                "{containers: [{name: c}]}",
                "kind: ConfigMap\nmetadata: {name: x}\ndata: {a: b}",
            ),
            (
                "names and keys JSON must escape",
                "{volumes: [{name: a, configMap: {name: \"q\\\"u\\\\o\\te\"}}, {name: b, secret: {secretName: \"é ünï\"}}], containers: [{name: c}]}",
                "kind: ConfigMap\nmetadata: {name: \"q\\\"u\\\\o\\te\"}\ndata: {\"k\\\"ey\": \"line\\nbreak\\u0001\", \"ü\": x}\n---\nkind: Secret\nmetadata: {name: \"é ünï\"}\ndata: {t: eA==}",
            ),
            (
                "every data field, typed scalars, nested and empty values, several objects in order",
                "{volumes: [{name: a, configMap: {name: z}}, {name: b, configMap: {name: a}}], containers: [{name: c, envFrom: [{secretRef: {name: m}}]}]}",
                "kind: ConfigMap\nmetadata: {name: z}\ndata: {n: 1, f: 1.5, t: true, e: null, s: '0755'}\nbinaryData: {b: AA==}\n---\nkind: ConfigMap\nmetadata: {name: a}\ndata: {nested: {x: [1, y]}, empty: ''}\n---\nkind: Secret\nmetadata: {name: m}\nstringData: {p: w}\ndata: {}",
            ),
            (
                "a missing object and a duplicate reference",
                "{volumes: [{name: a, configMap: {name: gone}}, {name: b, configMap: {name: here}}, {name: c, configMap: {name: here}}], containers: [{name: c}]}",
                "kind: ConfigMap\nmetadata: {name: here}\ndata:\n  main.py: |\n    import locust\n    print(\"x\")\n",
            ),
            (
                "the last of two objects of one name",
                "{volumes: [{name: a, configMap: {name: twice}}], containers: [{name: c}]}",
                "kind: ConfigMap\nmetadata: {name: twice}\ndata: {v: one}\n---\nkind: ConfigMap\nmetadata: {name: twice}\ndata: {v: two}",
            ),
        ];
        let mut failed = Vec::new();
        for (what, spec, stream) in rows {
            let spec = &documents(spec)[0];
            let mut index = DataIndex::default();
            for obj in documents(stream) {
                index.record(&obj);
            }
            let (got, want) = (index.hash_for(spec), hash_of_tree(stream, spec));
            if got != want {
                failed.push(format!("- {what}: {got} != {want}"));
            }
        }
        assert!(failed.is_empty(), "{}", failed.join("\n"));
    }

    /// (what the row shows, the stream, the pod template in its last object, the template's
    /// metadata after `stamp`).
    #[test]
    fn stamp_writes_the_annotation() {
        let rows: &[(&str, &str, &str, &str)] = &[
            (
                // sha256 of `[]`: the canonical JSON of what it uses (`printf '[]' | sha256sum`).
                "no data referenced: the hash of nothing, metadata created",
                "kind: Deployment\nspec: {template: {spec: {containers: [{name: c}]}}}",
                "spec.template",
                "{spec: {containers: [{name: c}]}, metadata: {annotations: {locust.project-planton.org/scripts-sha256: 4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945}}}",
            ),
            (
                // printf '[{"data":{"data":{"main.py":"x"}},"kind":"ConfigMap","name":"scripts"}]' | sha256sum
                "a referenced ConfigMap; labels and other annotations kept",
                "kind: ConfigMap\nmetadata: {name: scripts}\ndata: {main.py: x}\n---\nkind: Deployment\nspec: {template: {metadata: {labels: {a: b}, annotations: {x: z}}, spec: {volumes: [{name: s, configMap: {name: scripts}}], containers: [{name: c}]}}}",
                "spec.template.metadata",
                "{labels: {a: b}, annotations: {x: z, locust.project-planton.org/scripts-sha256: d983ccf06a2d391e6fa6b608bb321743354d62ae7a002e0a81ec5564d84f6201}}",
            ),
            (
                "an earlier stamp is replaced in place",
                "kind: Deployment\nspec: {template: {metadata: {annotations: {locust.project-planton.org/scripts-sha256: old, z: z}}, spec: {containers: [{name: c}]}}}",
                "spec.template.metadata.annotations",
                "{locust.project-planton.org/scripts-sha256: 4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945, z: z}",
            ),
            (
                "no pod spec: nothing to stamp",
                "kind: Deployment\nspec: {template: {metadata: {labels: {a: b}}}}",
                "spec.template",
                "{metadata: {labels: {a: b}}}",
            ),
            (
                "metadata or annotations that are not mappings are left alone",
                "kind: Deployment\nspec: {template: {metadata: [x], spec: {containers: [{name: c}]}}}",
                "spec.template.metadata",
                "[x]",
            ),
        ];
        let mut failed = Vec::new();
        for (what, stream, path, want) in rows {
            let mut objects = documents(stream);
            let mut index = DataIndex::default();
            for obj in &objects {
                index.record(obj);
            }
            let obj = objects.last_mut().unwrap();
            let template = at_mut(obj, "spec.template").unwrap();
            stamp(template, &index);
            let got = emit_document(at(obj, path).unwrap());
            if got != normalized(want) {
                failed.push(format!("- {what}:\n{got}"));
            }
        }
        assert!(failed.is_empty(), "{}", failed.join("\n"));
    }

    /// `data_text` as it is defined: serde_json's text of the JSON tree.
    fn data_text_of_tree(obj: &Node) -> String {
        let mut data = serde_json::Map::new();
        for field in ["data", "binaryData", "stringData"] {
            if let Some(v) = obj.get_path(&[field]) {
                data.insert(field.to_string(), v.to_json());
            }
        }
        serde_json::Value::Object(data).to_string()
    }

    /// (what the row shows, an object): the text written from the tree directly is serde_json's.
    #[test]
    fn data_text_is_serde_json_text_of_the_json_tree() {
        let rows: &[(&str, &str)] = &[
            ("no data fields", "kind: ConfigMap\nmetadata: {name: x}"),
            (
                "every field, in serde_json's order whatever the written order",
                "stringData: {s: t}\ndata: {b: y, a: x}\nbinaryData: {z: AA==}",
            ),
            (
                "typed scalars: integers, octal, floats, booleans, nulls, out-of-range numbers",
                "data: {i: 12, o: 0755, h: 0x1F, f: 1.5, e: 1e3, y: yes, n: ~, u: 18446744073709551615, huge: 123456789012345678901234567890}",
            ),
            (
                "quoted look-alikes stay strings",
                "data: {i: '12', y: \"yes\", n: 'null', empty: ''}",
            ),
            (
                "nested collections, empty ones, keys typed and sorted",
                "data: {m: {b: [1, {c: d}], a: [], e: {}}, 1: one, true: t, 1.5: f}",
            ),
            (
                "every escape serde_json writes, and text it leaves alone",
                "data: {s: \"q\\\"b\\\\s\\b\\t\\n\\f\\r\\x01\\x1f\\x7f é ü 日本 \\U0001F600 end\"}",
            ),
            (
                "a long literal block with quotes and tabs past eight-byte chunks",
                "data:\n  main.py: |\n    import locust\n    print(\"a \\\\ b\")\t# tab\n    x = 'é' * 12345678\n",
            ),
        ];
        let mut failed = Vec::new();
        for (what, text) in rows {
            let obj = documents(text).remove(0);
            let (got, want) = (data_text(&obj), data_text_of_tree(&obj));
            if got != want {
                failed.push(format!("- {what}:\n  {got}\n  {want}"));
            }
        }
        assert!(failed.is_empty(), "{}", failed.join("\n"));
    }

    /// Keys that read as the same JSON key (trees built in code can hold them): the last one
    /// is kept, as in serde_json's map.
    #[test]
    fn data_text_keeps_the_last_of_equal_json_keys() {
        let data = Node::map_of(vec![("1", Node::string("first")), ("b", Node::string("b"))]);
        let mut obj = Node::map_of(vec![("data", data)]);
        let map = obj.as_map_mut().unwrap().get_mut("data").unwrap();
        map.as_map_mut()
            .unwrap()
            .insert_node(Node::int(1), Node::string("second"));
        assert_eq!(data_text(&obj), data_text_of_tree(&obj));
        assert_eq!(data_text(&obj), r#"{"data":{"1":"second","b":"b"}}"#);
        // Numbers JSON has no text for (Go's reader refuses them in a document) are null.
        let plain = |t: &str| {
            Node::Scalar(crate::yaml::Scalar {
                text: t.into(),
                style: Style::Plain,
            })
        };
        let odd = Node::map_of(vec![
            ("nan", plain(".nan")),
            ("inf", plain("-.inf")),
            ("big", plain("1e400")),
        ]);
        let obj = Node::map_of(vec![("stringData", odd)]);
        assert_eq!(data_text(&obj), data_text_of_tree(&obj));
    }

    /// Generated strings over the bytes that need escaping and multi-byte characters, at
    /// every position of the eight-byte chunks: escaped as serde_json escapes them.
    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let alphabet: Vec<char> =
            "ab \"\\\u{0}\u{8}\t\n\u{b}\u{c}\r\u{1f}\u{20}\u{7f}\u{80}é日\u{1F600}"
                .chars()
                .collect();
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..5000 {
            let len = (next() % 40) as usize;
            let s: String = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            assert_eq!(
                json_string(&s),
                serde_json::Value::from(s.as_str()).to_string(),
                "{s:?}"
            );
        }
    }
}
