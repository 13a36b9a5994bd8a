//! Walking a manifest's YAML with protobuf-JSON field rules: either spelling of a field,
//! both spellings is an error, unknown fields are errors with a suggestion, and scalars must have
//! the type the field declares (`cpu: 1` is a number, not the string the API wants).

use super::names::{did_you_mean, snake_to_camel};
use crate::diag::{Findings, join};
use crate::yaml::{Node, Resolved};

/// The fields of one mapping, looked up by canonical lowerCamelCase name.
pub struct Fields<'a> {
    pub path: String,
    entries: Vec<(&'static str, &'a Node)>,
}

/// Reads the mapping at `path`. Reports unknown fields and double spellings; `hints` give a
/// targeted message for a known-but-misplaced field name.
pub fn fields<'a>(
    node: &'a Node,
    path: &str,
    known: &[&'static str],
    hints: &[(&str, &str)],
    d: &mut Findings,
) -> Option<Fields<'a>> {
    if node.is_null() {
        return Some(Fields {
            path: path.to_string(),
            entries: Vec::new(),
        });
    }
    let Some(map) = node.as_map() else {
        d.error(path, format!("must be a mapping, got {}", node.type_name()));
        return None;
    };
    let mut entries: Vec<(&'static str, &'a Node)> = Vec::new();
    let mut spelled: Vec<(&'static str, String)> = Vec::new();
    for (k, v) in map.iter() {
        let given = k.key_text();
        let canonical = snake_to_camel(&given);
        match known.iter().find(|f| **f == canonical) {
            Some(field) => {
                if let Some((_, first)) = spelled.iter().find(|(f, _)| f == field) {
                    d.error(
                        join(path, field),
                        format!("given twice, as `{first}` and as `{given}`; keep one spelling"),
                    );
                    continue;
                }
                spelled.push((field, given));
                entries.push((field, v));
            }
            None => {
                let hint = hints
                    .iter()
                    .find(|(name, _)| *name == canonical)
                    .map(|(_, h)| h.to_string());
                let msg = match (hint, did_you_mean(&given, known)) {
                    (Some(h), _) => format!("unknown field; {h}"),
                    (None, Some(s)) => format!("unknown field (did you mean `{s}`?)"),
                    (None, None) => {
                        format!("unknown field; known fields here: {}", known.join(", "))
                    }
                };
                d.error(join(path, &given), msg);
            }
        }
    }
    Some(Fields {
        path: path.to_string(),
        entries,
    })
}

impl<'a> Fields<'a> {
    /// The node of a field, absent when missing or null (protobuf JSON treats null as unset).
    pub fn node(&self, name: &str) -> Option<&'a Node> {
        self.entries
            .iter()
            .find(|(f, _)| *f == name)
            .map(|(_, n)| *n)
            .filter(|n| !n.is_null())
    }

    pub fn path(&self, name: &str) -> String {
        join(&self.path, name)
    }

    pub fn string(&self, name: &str, d: &mut Findings) -> Option<String> {
        let node = self.node(name)?;
        expect_string(node, &self.path(name), name, d)
    }

    pub fn bool(&self, name: &str, d: &mut Findings) -> Option<bool> {
        let node = self.node(name)?;
        match node.as_bool() {
            Some(b) => Some(b),
            None => {
                d.error(
                    self.path(name),
                    format!("must be true or false, got {}", describe(node)),
                );
                None
            }
        }
    }

    /// An integer; protobuf JSON also accepts it as a decimal string.
    pub fn int(&self, name: &str, d: &mut Findings) -> Option<i64> {
        let node = self.node(name)?;
        if let Some(i) = node.as_i64() {
            return Some(i);
        }
        if let Some(i) = node.as_str().and_then(|s| s.parse::<i64>().ok()) {
            return Some(i);
        }
        d.error(
            self.path(name),
            format!("must be an integer, got {}", describe(node)),
        );
        None
    }

    /// A map of string to string, in document order.
    pub fn string_map(&self, name: &str, d: &mut Findings) -> Vec<(String, String)> {
        let Some(node) = self.node(name) else {
            return Vec::new();
        };
        let path = self.path(name);
        let Some(map) = node.as_map() else {
            d.error(
                &path,
                format!(
                    "must be a mapping of names to strings, got {}",
                    node.type_name()
                ),
            );
            return Vec::new();
        };
        map.iter()
            .filter_map(|(k, v)| {
                let key = k.key_text();
                let value = if v.is_null() {
                    Some(String::new())
                } else {
                    expect_string(v, &join(&path, &key), &key, d)
                };
                value.map(|v| (key, v))
            })
            .collect()
    }

    pub fn string_list(&self, name: &str, d: &mut Findings) -> Vec<(String, String)> {
        let Some(node) = self.node(name) else {
            return Vec::new();
        };
        let path = self.path(name);
        let Some(items) = node.as_seq() else {
            d.error(
                &path,
                format!("must be a list of strings, got {}", node.type_name()),
            );
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .filter_map(|(i, v)| {
                let p = format!("{path}[{i}]");
                expect_string(v, &p, "", d).map(|s| (p, s))
            })
            .collect()
    }
}

/// A string-typed field. A plain scalar YAML typed otherwise is an error with the fix spelled out.
pub fn expect_string(node: &Node, path: &str, key: &str, d: &mut Findings) -> Option<String> {
    if let Some(s) = node.as_str() {
        return Some(s.to_string());
    }
    match node.as_scalar() {
        Some(s) => {
            let fix = if key.is_empty() {
                format!("\"{}\"", s.text)
            } else {
                format!("{key}: \"{}\"", s.text)
            };
            d.error(
                path,
                format!("must be a string, got {}; quote it: {fix}", describe(node)),
            );
        }
        None => d.error(path, format!("must be a string, got {}", node.type_name())),
    }
    None
}

fn describe(node: &Node) -> String {
    match (node.as_scalar(), node.resolved()) {
        (Some(s), Some(Resolved::String(_))) => format!("the string \"{}\"", s.text),
        (Some(s), Some(_)) => format!("{} (`{}`)", node.type_name(), s.text),
        _ => node.type_name().to_string(),
    }
}
