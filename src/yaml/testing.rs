//! Helpers for the filters' table tests (kustomize's `api/filters/*` style): each row is YAML
//! text in and YAML text out, so a row reads like the manifests it is about.

use super::{Node, emit_document, parse_single};

/// `text` as the emitter writes it: a row may write its expected YAML in any style (flow on one
/// line, block), and it is compared with the filter's output as both are written back.
pub fn normalized(text: &str) -> String {
    let node = parse_single(text).unwrap_or_else(|e| panic!("a row's YAML: {e}\n{text}"));
    emit_document(&node)
}

/// The node at a dotted path (`spec.containers[0].securityContext`; `""` is the node itself).
pub fn at<'a>(node: &'a Node, path: &str) -> Option<&'a Node> {
    if path.is_empty() {
        return Some(node);
    }
    path.split('.').try_fold(node, |n, part| {
        let mut pieces = part.split('[');
        let key = pieces.next().unwrap_or("");
        let n = if key.is_empty() {
            n
        } else {
            n.as_map()?.get(key)?
        };
        pieces.try_fold(n, |n, i| {
            let i: usize = i.trim_end_matches(']').parse().ok()?;
            n.as_seq()?.get(i)
        })
    })
}

/// The documents of a small stream written for a test (`---` lines between them).
pub fn documents(text: &str) -> Vec<Node> {
    text.split("\n---\n")
        .map(|d| parse_single(d).unwrap_or_else(|e| panic!("a row's YAML: {e}\n{d}")))
        .collect()
}

/// The node `text` reads as when written as a mapping's value (`v: <text>`).
pub fn value(text: &str) -> Node {
    let doc = parse_single(&format!("v: {text}\n"))
        .unwrap_or_else(|e| panic!("a row's YAML: {e}\n{text}"));
    doc.get_path(&["v"]).expect("the value").clone()
}

/// [`at`], for changing the node there.
pub fn at_mut<'a>(node: &'a mut Node, path: &str) -> Option<&'a mut Node> {
    if path.is_empty() {
        return Some(node);
    }
    path.split('.').try_fold(node, |n, part| {
        let mut pieces = part.split('[');
        let key = pieces.next().unwrap_or("");
        let n = if key.is_empty() {
            n
        } else {
            n.as_map_mut()?.get_mut(key)?
        };
        pieces.try_fold(n, |n, i| {
            let i: usize = i.trim_end_matches(']').parse().ok()?;
            n.as_seq_mut()?.get_mut(i)
        })
    })
}
