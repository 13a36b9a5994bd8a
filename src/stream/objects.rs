//! The objects Kubernetes creates from one decoded document: the document itself, or the items
//! of a list. Kubernetes' client pipeline (the unstructured JSON scheme and the resource
//! builder's flatten step, used by kubectl, Helm, Flux and Argo CD) reads **any** object that
//! has an `items` field as a list: it creates each item and drops the object. So the
//! post-renderer must place every document exactly where Kubernetes does, or refuse it:
//!
//! - a document with a root `items` field is a list: allowed only when its kind is `List` or
//!   ends in `List` (a `ConfigMap` with `items: [<Pod>]` would otherwise create a Pod nobody
//!   judged); `items: null` is an empty list, so Kubernetes creates nothing of it;
//! - each item must be a mapping with its own `kind` (Kubernetes would give a kindless item the
//!   list's kind minus `List`, a kind no rule here saw);
//! - an item that is itself a list (an `items` list inside an item) is refused: Kubernetes'
//!   builder fails on it ("is not a list: no Items field"), so nothing of it would be created
//!   and its items would be judged for nothing;
//! - keys are matched case-sensitively (`Items` is no list to Kubernetes either).

use crate::yaml::Node;

/// Why a document cannot be placed in Kubernetes' inventory exactly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The field, from the document's root (`items`, `items[2].kind`), or `(root)`.
    pub field: String,
    pub message: String,
}

impl Refusal {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Refusal {
        Refusal {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// `List`, `PodList`, `ConfigMapList`: the kinds whose `items` Kubernetes creates.
pub fn is_list_kind(kind: &str) -> bool {
    kind.ends_with("List")
}

fn kind_of(node: &Node) -> Option<&str> {
    node.get_path(&["kind"]).and_then(Node::as_str)
}

/// What a document is to Kubernetes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// The document is one object.
    Object,
    /// A list: its items are the objects (none when `items` is null).
    List,
}

/// Decides what the document is, or why it cannot be placed.
fn shape(doc: &Node) -> Result<Shape, Refusal> {
    let Some(map) = doc.as_map() else {
        return Err(Refusal::new(
            "(root)",
            format!(
                "not a Kubernetes object: the document is {}, not a mapping",
                doc.type_name()
            ),
        ));
    };
    let Some(items) = map.get("items") else {
        return Ok(Shape::Object);
    };
    let kind = kind_of(doc).unwrap_or("");
    if !is_list_kind(kind) {
        let created = if items.is_null() {
            "nothing of it".to_string()
        } else {
            "its items".to_string()
        };
        let what = if kind.is_empty() {
            "this object".to_string()
        } else {
            format!("this {kind}")
        };
        return Err(Refusal::new(
            "items",
            format!(
                "Kubernetes reads any object with an `items` field as a list: it would create {created} and drop {what}; rename the field, or make the document a `kind: List`"
            ),
        ));
    }
    let Some(items) = items.as_seq() else {
        if items.is_null() {
            return Ok(Shape::List);
        }
        return Err(Refusal::new(
            "items",
            format!(
                "a {kind}'s items must be a list, not {} (Kubernetes refuses it)",
                items.type_name()
            ),
        ));
    };
    for (i, item) in items.iter().enumerate() {
        check_item(kind, i, item)?;
    }
    Ok(Shape::List)
}

/// One item of a list: a mapping with its own kind, not itself a list.
fn check_item(list_kind: &str, i: usize, item: &Node) -> Result<(), Refusal> {
    let at = format!("items[{i}]");
    if item.as_map().is_none() {
        return Err(Refusal::new(
            &at,
            format!(
                "a {list_kind} item must be a mapping, not {} (Kubernetes refuses it)",
                item.type_name()
            ),
        ));
    }
    if kind_of(item).is_none_or(str::is_empty) {
        let inferred = list_kind.strip_suffix("List").unwrap_or(list_kind);
        let taken = if inferred.is_empty() {
            "refuses it".to_string()
        } else {
            format!("would take it for a {inferred}")
        };
        return Err(Refusal::new(
            format!("{at}.kind"),
            format!(
                "the item has no kind: Kubernetes {taken}; give every item its `kind` and `apiVersion`"
            ),
        ));
    }
    if item.get_path(&["items"]).and_then(Node::as_seq).is_some() {
        return Err(Refusal::new(
            format!("{at}.items"),
            "a list inside a list: Kubernetes' reader refuses it (\"is not a list: no Items field in this object\"); put the items in the outer list",
        ));
    }
    Ok(())
}

/// The objects Kubernetes creates from `doc`, in order.
pub fn objects(doc: &Node) -> Result<Vec<&Node>, Refusal> {
    Ok(match shape(doc)? {
        Shape::Object => vec![doc],
        Shape::List => doc
            .get_path(&["items"])
            .and_then(Node::as_seq)
            .map(|items| items.iter().collect())
            .unwrap_or_default(),
    })
}

/// [`objects`], to change them in place.
pub fn objects_mut(doc: &mut Node) -> Result<Vec<&mut Node>, Refusal> {
    Ok(match shape(doc)? {
        Shape::Object => vec![doc],
        Shape::List => doc
            .as_map_mut()
            .and_then(|m| m.get_mut("items"))
            .and_then(Node::as_seq_mut)
            .map(|items| items.iter_mut().collect())
            .unwrap_or_default(),
    })
}

/// What Kubernetes calls an object: its kind, namespace (empty: none in the object) and name.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Identity {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl Identity {
    pub fn of(obj: &Node) -> Identity {
        let text = |path: &[&str]| {
            obj.get_path(path)
                .and_then(Node::as_str)
                .unwrap_or("")
                .to_string()
        };
        Identity {
            kind: text(&["kind"]),
            namespace: text(&["metadata", "namespace"]),
            name: text(&["metadata", "name"]),
        }
    }
}

/// `KIND NAMESPACE NAME`, `-` for an empty field: the line `psa-judge --inventory` prints.
impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let or_dash = |s: &str| {
            if s.is_empty() {
                "-".to_string()
            } else {
                s.to_string()
            }
        };
        write!(
            f,
            "{} {} {}",
            or_dash(&self.kind),
            or_dash(&self.namespace),
            or_dash(&self.name)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_document;

    struct Row {
        what: &'static str,
        doc: &'static str,
        /// The objects as `Kind/name`, or the refusal as `field: start of the message`.
        want: Result<&'static [&'static str], (&'static str, &'static str)>,
    }

    fn render(doc: &Node) -> Result<Vec<String>, Refusal> {
        objects(doc).map(|objs| {
            objs.iter()
                .map(|o| {
                    let id = Identity::of(o);
                    format!("{}/{}", id.kind, id.name)
                })
                .collect()
        })
    }

    #[test]
    fn objects_table() {
        let rows = [
            Row {
                what: "a plain object",
                doc: "kind: Pod\nmetadata: {name: p}\n",
                want: Ok(&["Pod/p"]),
            },
            Row {
                what: "a List's items, in order",
                doc: "kind: List\nitems:\n- {kind: Pod, metadata: {name: a}}\n- {kind: ConfigMap, metadata: {name: b}}\n",
                want: Ok(&["Pod/a", "ConfigMap/b"]),
            },
            Row {
                what: "any kind ending in List",
                doc: "kind: PodList\nitems:\n- {kind: Pod, metadata: {name: a}}\n",
                want: Ok(&["Pod/a"]),
            },
            Row {
                what: "a List with null items creates nothing",
                doc: "kind: List\nitems: null\n",
                want: Ok(&[]),
            },
            Row {
                what: "`Items` is not `items` to Kubernetes",
                doc: "kind: ConfigMap\nmetadata: {name: c}\nItems: [{kind: Pod}]\n",
                want: Ok(&["ConfigMap/c"]),
            },
            Row {
                what: "a ConfigMap with items would create them",
                doc: "kind: ConfigMap\nmetadata: {name: c}\nitems: [{kind: Pod, metadata: {name: p}}]\n",
                want: Err((
                    "items",
                    "Kubernetes reads any object with an `items` field as a list: it would create its items and drop this ConfigMap",
                )),
            },
            Row {
                what: "null items on another kind: nothing would be created",
                doc: "kind: Pod\nitems: null\n",
                want: Err((
                    "items",
                    "Kubernetes reads any object with an `items` field as a list: it would create nothing of it and drop this Pod",
                )),
            },
            Row {
                what: "a kindless object with items",
                doc: "items: []\n",
                want: Err((
                    "items",
                    "Kubernetes reads any object with an `items` field as a list: it would create its items and drop this object",
                )),
            },
            Row {
                what: "a List's items must be a list",
                doc: "kind: List\nitems: {a: 1}\n",
                want: Err(("items", "a List's items must be a list, not a mapping")),
            },
            Row {
                what: "an item must be a mapping",
                doc: "kind: List\nitems: [a]\n",
                want: Err(("items[0]", "a List item must be a mapping, not a string")),
            },
            Row {
                what: "a kindless item in a PodList would be a Pod",
                doc: "kind: PodList\nitems:\n- metadata: {name: p}\n  spec: {containers: [{name: c}]}\n",
                want: Err((
                    "items[0].kind",
                    "the item has no kind: Kubernetes would take it for a Pod",
                )),
            },
            Row {
                what: "a kindless item in a List",
                doc: "kind: List\nitems: [{metadata: {name: p}}]\n",
                want: Err((
                    "items[0].kind",
                    "the item has no kind: Kubernetes refuses it",
                )),
            },
            Row {
                what: "a list inside a list",
                doc: "kind: List\nitems:\n- {kind: Pod, metadata: {name: a}}\n- kind: List\n  items: [{kind: Pod}]\n",
                want: Err(("items[1].items", "a list inside a list")),
            },
            Row {
                what: "an item of another kind with an items list is a list too",
                doc: "kind: List\nitems:\n- kind: ConfigMap\n  items: [{kind: Pod}]\n",
                want: Err(("items[0].items", "a list inside a list")),
            },
            Row {
                what: "an item with null items stays an object",
                doc: "kind: List\nitems:\n- {kind: ConfigMap, metadata: {name: c}, items: null}\n",
                want: Ok(&["ConfigMap/c"]),
            },
            Row {
                what: "not a mapping",
                doc: "[a]\n",
                want: Err(("(root)", "not a Kubernetes object: the document is a list")),
            },
        ];
        let mut failed = Vec::new();
        for row in rows {
            let doc = parse_document(row.doc).unwrap().unwrap();
            let got = render(&doc);
            let ok = match (&got, &row.want) {
                (Ok(objs), Ok(want)) => objs == want,
                (Err(r), Err((field, start))) => r.field == *field && r.message.starts_with(start),
                _ => false,
            };
            if !ok {
                failed.push(format!("- {}: {got:?}", row.what));
            }
            // The same decision when the objects are to be changed.
            let mut doc = doc;
            assert_eq!(
                objects_mut(&mut doc).map(|o| o.len()).map_err(|r| r.field),
                got.map(|o| o.len()).map_err(|r| r.field),
                "{}",
                row.what
            );
        }
        assert!(failed.is_empty(), "{}", failed.join("\n"));
    }

    #[test]
    fn identity_lines() {
        let doc = parse_document("kind: Pod\nmetadata: {name: p, namespace: ns}\n")
            .unwrap()
            .unwrap();
        assert_eq!(Identity::of(&doc).to_string(), "Pod ns p");
        let doc = parse_document("kind: Namespace\nmetadata: {name: ns}\n")
            .unwrap()
            .unwrap();
        assert_eq!(Identity::of(&doc).to_string(), "Namespace - ns");
    }
}
