//! The YAML tree. Mappings keep insertion order (Kubernetes tools print fields in a stable order
//! and users diff them); duplicate keys are resolved last-wins at parse time, as Go does.

use super::resolve::{Resolved, resolve_plain};

/// How a scalar was (or must be) written. `Plain` scalars are typed by YAML 1.1 resolution
/// (`yes` is a boolean, `0755` an integer); every other style is a string, exactly its text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    Quoted,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Scalar {
    pub text: String,
    pub style: Style,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Map {
    entries: Vec<(Node, Node)>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Map),
}

impl Scalar {
    /// Whether the scalar reads as a string (without copying it, as [`Scalar::resolved`] does).
    pub fn is_string(&self) -> bool {
        match self.style {
            Style::Plain => super::go::typed_plain(&self.text, true).is_none(),
            Style::Quoted => true,
        }
    }

    pub fn resolved(&self) -> Resolved {
        match self.style {
            Style::Plain => resolve_plain(&self.text),
            Style::Quoted => Resolved::String(self.text.clone()),
        }
    }
}

impl Node {
    /// A string value, written quoted by the emitter only when it has to be.
    pub fn string(s: impl Into<String>) -> Node {
        Node::Scalar(Scalar {
            text: s.into(),
            style: Style::Quoted,
        })
    }

    pub fn int(i: i64) -> Node {
        Node::Scalar(Scalar {
            text: i.to_string(),
            style: Style::Plain,
        })
    }

    pub fn bool(b: bool) -> Node {
        Node::Scalar(Scalar {
            text: b.to_string(),
            style: Style::Plain,
        })
    }

    pub fn null() -> Node {
        Node::Scalar(Scalar {
            text: "null".into(),
            style: Style::Plain,
        })
    }

    pub fn map() -> Node {
        Node::Map(Map::default())
    }

    /// A mapping with these entries, in this order (builders of whole objects use it).
    pub fn map_of(entries: Vec<(&str, Node)>) -> Node {
        let mut m = Map::default();
        for (k, v) in entries {
            m.insert(k, v);
        }
        Node::Map(m)
    }

    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Node::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_map_mut(&mut self) -> Option<&mut Map> {
        match self {
            Node::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&Vec<Node>> {
        match self {
            Node::Seq(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_seq_mut(&mut self) -> Option<&mut Vec<Node>> {
        match self {
            Node::Seq(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_scalar(&self) -> Option<&Scalar> {
        match self {
            Node::Scalar(s) => Some(s),
            _ => None,
        }
    }

    pub fn resolved(&self) -> Option<Resolved> {
        self.as_scalar().map(Scalar::resolved)
    }

    /// The value as a string, when it resolves to one.
    pub fn as_str(&self) -> Option<&str> {
        let s = self.as_scalar()?;
        s.is_string().then_some(s.text.as_str())
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self.resolved()? {
            Resolved::Int(i) => Some(i),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.resolved()? {
            Resolved::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.resolved(), Some(Resolved::Null))
    }

    /// Walks a path of mapping keys.
    pub fn get_path(&self, path: &[&str]) -> Option<&Node> {
        path.iter()
            .try_fold(self, |node, key| node.as_map()?.get(key))
    }

    /// A short name for the node's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Node::Map(_) => "a mapping",
            Node::Seq(_) => "a list",
            Node::Scalar(s) => match s.resolved() {
                Resolved::Null => "null",
                Resolved::Bool(_) => "a boolean",
                Resolved::Int(_) => "an integer",
                Resolved::Float(_) => "a number",
                Resolved::String(_) => "a string",
            },
        }
    }

    /// The JSON value Kubernetes reads from this node.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Node::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Node::Map(m) => J::Object(m.iter().map(|(k, v)| (k.key_text(), v.to_json())).collect()),
            Node::Scalar(s) => match s.resolved() {
                Resolved::Null => J::Null,
                Resolved::Bool(b) => J::Bool(b),
                Resolved::Int(i) => J::from(i),
                Resolved::Float(f) => serde_json::Number::from_f64(f).map_or(J::Null, J::Number),
                Resolved::String(s) => J::String(s),
            },
        }
    }

    /// The node built from a JSON value (strings quoted where YAML needs it).
    pub fn from_json(v: &serde_json::Value) -> Node {
        use serde_json::Value as J;
        match v {
            J::Null => Node::null(),
            J::Bool(b) => Node::bool(*b),
            J::Number(n) => Node::Scalar(Scalar {
                text: n.to_string(),
                style: Style::Plain,
            }),
            J::String(s) => Node::string(s.clone()),
            J::Array(a) => Node::Seq(a.iter().map(Node::from_json).collect()),
            J::Object(o) => {
                let mut m = Map::default();
                for (k, v) in o {
                    m.insert(k, Node::from_json(v));
                }
                Node::Map(m)
            }
        }
    }

    /// How a mapping key reads as a JSON object key.
    /// Keys are typed like values (an empty or `~` key is null, `yes` is true), so two
    /// spellings of the same key give the same text.
    pub fn key_text(&self) -> String {
        match self {
            Node::Scalar(s) => match s.resolved() {
                Resolved::String(t) => t,
                Resolved::Null => "null".into(),
                Resolved::Bool(b) => b.to_string(),
                Resolved::Int(i) => i.to_string(),
                Resolved::Float(_) => s.text.clone(),
            },
            other => other.to_json().to_string(),
        }
    }
}

impl Map {
    pub fn iter(&self) -> impl Iterator<Item = (&Node, &Node)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.entries
            .iter()
            .position(|(k, _)| matches!(k, Node::Scalar(s) if s.text == key))
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.position(key).map(|i| &self.entries[i].1)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        self.position(key).map(move |i| &mut self.entries[i].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// Sets `key`, keeping its place when it exists (last wins, like Go).
    pub fn insert(&mut self, key: &str, value: Node) {
        self.insert_node(Node::string(key), value);
    }

    pub fn insert_node(&mut self, key: Node, value: Node) {
        let existing = self.entries.iter().position(|(k, _)| same_key(k, &key));
        match existing {
            Some(i) => self.entries[i].1 = value,
            None => self.entries.push((key, value)),
        }
    }

    /// Appends an entry whose key is known to be new (the Go decoder has already made keys
    /// unique): no scan, so a wide mapping is built in linear time.
    pub(crate) fn push_unique(&mut self, key: &str, value: Node) {
        self.entries.push((Node::string(key), value));
    }

    /// [`Map::push_unique`] with a key already owned (no copy).
    pub(crate) fn push_unique_owned(&mut self, key: String, value: Node) {
        self.entries.push((Node::string(key), value));
    }

    /// An empty mapping with room for `n` entries.
    pub(crate) fn with_capacity(n: usize) -> Map {
        Map {
            entries: Vec::with_capacity(n),
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<Node> {
        self.position(key).map(|i| self.entries.remove(i).1)
    }

    /// The value at `key`, created as an empty mapping when absent or null.
    pub fn entry_map(&mut self, key: &str) -> &mut Node {
        let i = match self.position(key) {
            Some(i) => {
                if self.entries[i].1.is_null() {
                    self.entries[i].1 = Node::map();
                }
                i
            }
            None => {
                self.entries.push((Node::string(key), Node::map()));
                self.entries.len() - 1
            }
        };
        &mut self.entries[i].1
    }

    /// The value at `key`, created as an empty list when absent or null.
    pub fn entry_seq(&mut self, key: &str) -> &mut Node {
        let i = match self.position(key) {
            Some(i) => {
                if self.entries[i].1.is_null() {
                    self.entries[i].1 = Node::Seq(Vec::new());
                }
                i
            }
            None => {
                self.entries
                    .push((Node::string(key), Node::Seq(Vec::new())));
                self.entries.len() - 1
            }
        };
        &mut self.entries[i].1
    }
}

fn same_key(a: &Node, b: &Node) -> bool {
    match (a, b) {
        (Node::Scalar(x), Node::Scalar(y)) => x.resolved() == y.resolved(),
        // Collection keys (never in Kubernetes objects) are the same when their values are.
        _ => a.to_json() == b.to_json(),
    }
}

#[cfg(test)]
mod tests {
    use crate::yaml::parse_single;

    #[test]
    fn keys_are_typed_like_values() {
        // Keys are typed as Go types them, then written as JSON keys (a null key is refused).
        let a = parse_single("~: 1\n").unwrap_err();
        assert!(a.message.contains("null mapping key"), "{a:?}");
        let a = parse_single("'': 1\nyes: 2\n0x1F: 3\n").unwrap();
        let keys: Vec<String> = a
            .as_map()
            .unwrap()
            .iter()
            .map(|(k, _)| k.key_text())
            .collect();
        assert_eq!(keys, ["", "true", "31"]);
    }
}
