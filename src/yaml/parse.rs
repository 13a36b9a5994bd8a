//! YAML text → [`Node`], from saphyr-parser's event stream. Aliases are expanded, duplicate keys
//! resolve last-wins (Go's behaviour), and every scalar keeps whether it was plain or quoted.

use super::node::{KeyId, Map, Node, Scalar, Style};
use crate::limits::{MAX_DEPTH, MAX_DOCUMENT_BYTES};
use saphyr_parser::{Event, Parser, ScalarStyle, Span};
use std::collections::HashMap;
use std::collections::hash_map::Entry;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line} column {column}: {message}")]
pub struct ParseError {
    /// 1-based line within the parsed text.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    pub message: String,
}

/// How much a node weighs: the nodes visited to read it (Go's count, see [`AliasBudget`]) and
/// about how many bytes it takes written out (its scalars' text plus one a node).
#[derive(Clone, Copy, Default)]
struct Weight {
    visits: usize,
    bytes: usize,
}

impl Weight {
    fn since(self, before: Weight) -> Weight {
        Weight {
            visits: self.visits - before.visits,
            bytes: self.bytes - before.bytes,
        }
    }
}

/// A collection being built, with its anchor id (0: none) and the document's weight before it
/// started. A mapping holds its pending key and an index of its keys by typed value.
enum Frame {
    Seq {
        items: Vec<Node>,
        anchor: usize,
        before: Weight,
    },
    Map {
        map: Map,
        key: Option<Scalar>,
        anchor: usize,
        before: Weight,
        index: HashMap<KeyId, usize>,
    },
}

/// What aliases may add to a document. Go's YAML reader (kubectl, Helm) refuses a document in
/// which too large a share of the nodes come from expanding aliases (a "billion laughs" of a few
/// hundred bytes would otherwise grow to gigabytes); this is the same rule, counted the same
/// way, so what Go refuses is refused here too, before the expansion is built. Every node visit
/// counts (the document, keys, values, alias nodes), and the nodes an alias stands for count
/// again, as alias-driven, each time it is used. Go shares a repeated string; this tree copies
/// it, so the expanded size is bounded as well ([`MAX_DOCUMENT_BYTES`]).
#[derive(Default)]
struct AliasBudget {
    total: Weight,
    from_aliases: usize,
}

impl AliasBudget {
    /// The share of visits aliases may drive: 99% up to 400,000 visits, scaling down to 10% at
    /// 4,000,000 (Go's figures).
    fn allowed_share(visits: usize) -> f64 {
        const LOW: usize = 400_000;
        const HIGH: usize = 4_000_000;
        match visits {
            v if v <= LOW => 0.99,
            v if v >= HIGH => 0.10,
            v => 0.99 - 0.89 * ((v - LOW) as f64 / (HIGH - LOW) as f64),
        }
    }

    /// Go counts the document node itself.
    fn new_document(&mut self) {
        *self = AliasBudget {
            total: Weight {
                visits: 1,
                bytes: 0,
            },
            from_aliases: 0,
        };
    }

    /// Counts a scalar; returns its weight.
    fn scalar(&mut self, text: &str) -> Weight {
        let weight = Weight {
            visits: 1,
            bytes: text.len() + 1,
        };
        self.total.visits += weight.visits;
        self.total.bytes += weight.bytes;
        weight
    }

    fn collection(&mut self) {
        self.total.visits += 1;
        self.total.bytes += 1;
    }

    /// An alias for a node of weight `target`.
    fn expand(&mut self, target: Weight) -> Result<(), String> {
        self.total.visits += 1 + target.visits;
        self.total.bytes += target.bytes;
        self.from_aliases += target.visits;
        let visits = self.total.visits;
        let share = self.from_aliases as f64 / visits as f64;
        if self.from_aliases > 100 && visits > 1000 && share > Self::allowed_share(visits) {
            return Err(format!(
                "excessive aliasing: {} of {visits} nodes would come from expanding aliases (Go's YAML reader refuses this document too)",
                self.from_aliases
            ));
        }
        if self.total.bytes > MAX_DOCUMENT_BYTES {
            return Err(format!(
                "with its aliases expanded the document would be more than {} (README \"Input limits\")",
                crate::limits::mib(MAX_DOCUMENT_BYTES)
            ));
        }
        Ok(())
    }
}

/// Parses text holding at most one document. `Ok(None)` for an empty or comment-only text.
pub fn parse_document(text: &str) -> Result<Option<Node>, ParseError> {
    let mut docs = parse_all(text, 2)?;
    match docs.len() {
        0 => Ok(None),
        1 => Ok(docs.pop()),
        _ => Err(ParseError {
            line: 1,
            column: 1,
            message: "expected one YAML document, found several".into(),
        }),
    }
}

/// Parses a file that must hold exactly one non-empty document (a spec, a values file).
pub fn parse_single(text: &str) -> Result<Node, ParseError> {
    parse_document(text)?.ok_or_else(|| ParseError {
        line: 1,
        column: 1,
        message: "the file holds no YAML document".into(),
    })
}

fn parse_all(text: &str, max_docs: usize) -> Result<Vec<Node>, ParseError> {
    // Char offsets from the parser are mapped back to lines for messages only.
    let mut parser = Parser::new_from_str(text);
    let mut docs = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    // Anchored nodes, with their weight.
    let mut anchors: HashMap<usize, (Node, Weight)> = HashMap::new();
    let mut budget = AliasBudget::default();
    budget.new_document();
    let mut last_span = Span::default();
    let mut current: Option<Node> = None;
    while let Some(item) = parser.next_event() {
        let (event, span) = item.map_err(|e| ParseError {
            line: e.marker().line(),
            column: e.marker().col() + 1,
            message: e.info().to_string(),
        })?;
        last_span = span;
        // The finished node, its anchor, and its weight.
        let finished: Option<(Node, usize, Weight)> = match event {
            Event::DocumentStart(_) => {
                budget.new_document();
                None
            }
            Event::StreamStart | Event::StreamEnd | Event::Nothing => None,
            Event::DocumentEnd => {
                if let Some(doc) = current.take() {
                    docs.push(doc);
                    if docs.len() >= max_docs {
                        break;
                    }
                }
                None
            }
            Event::Alias(id) => {
                let (node, target) = anchors
                    .get(&id)
                    .ok_or_else(|| err_at(&span, "unknown alias"))?;
                budget.expand(*target).map_err(|m| err_at(&span, &m))?;
                // Only anchored nodes' weights are used, and an alias has no anchor.
                Some((node.clone(), 0, Weight::default()))
            }
            Event::Scalar(value, style, anchor, tag) => {
                let weight = budget.scalar(&value);
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    _ => Style::Quoted,
                };
                let tag = tag.map(|t| {
                    if t.handle == "tag:yaml.org,2002:" || t.handle == "!!" {
                        format!("!!{}", t.suffix)
                    } else {
                        format!("{}{}", t.handle, t.suffix)
                    }
                });
                Some((
                    Node::Scalar(Scalar {
                        text: value.into_owned(),
                        style,
                        tag,
                    }),
                    anchor,
                    weight,
                ))
            }
            Event::SequenceStart(anchor, _) => {
                check_depth(stack.len(), &span)?;
                stack.push(Frame::Seq {
                    items: Vec::new(),
                    anchor,
                    before: budget.total,
                });
                budget.collection();
                None
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq {
                    items,
                    anchor,
                    before,
                }) => Some((Node::Seq(items), anchor, budget.total.since(before))),
                _ => return Err(err_at(&span, "unbalanced sequence")),
            },
            Event::MappingStart(anchor, _) => {
                check_depth(stack.len(), &span)?;
                stack.push(Frame::Map {
                    map: Map::default(),
                    key: None,
                    anchor,
                    before: budget.total,
                    index: HashMap::new(),
                });
                budget.collection();
                None
            }
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map {
                    map,
                    key: None,
                    anchor,
                    before,
                    ..
                }) => Some((Node::Map(map), anchor, budget.total.since(before))),
                _ => return Err(err_at(&span, "unbalanced mapping")),
            },
        };
        if let Some((node, anchor, weight)) = finished {
            if anchor != 0 {
                anchors.insert(anchor, (node.clone(), weight));
            }
            match stack.last_mut() {
                None => current = Some(node),
                Some(Frame::Seq { items, .. }) => items.push(node),
                Some(Frame::Map {
                    map, key, index, ..
                }) => match (key.take(), node) {
                    (None, Node::Scalar(k)) => *key = Some(k),
                    // Kubernetes objects (and JSON) have only scalar keys; collection keys nested
                    // in each other also blow up exponentially when written as text (AFL++ found it).
                    (None, _) => {
                        return Err(err_at(
                            &span,
                            "a mapping key must be a scalar (Kubernetes objects have no list or mapping keys)",
                        ));
                    }
                    // Last wins, in the first place (Go's behaviour).
                    (Some(k), value) => match index.entry(KeyId::of(&k, index.len())) {
                        Entry::Occupied(at) => map.set_value_at(*at.get(), value),
                        Entry::Vacant(slot) => {
                            slot.insert(map.push_new(Node::Scalar(k), value));
                        }
                    },
                },
            }
        }
    }
    if let Some(doc) = current.take() {
        docs.push(doc);
    }
    // `---` followed by nothing is an empty document, not a null value.
    docs.retain(|d| !matches!(d, Node::Scalar(s) if s.text.is_empty() && s.style == Style::Plain && s.tag.is_none()));
    if !stack.is_empty() {
        return Err(err_at(&last_span, "unexpected end of document"));
    }
    Ok(docs)
}

/// Refuses a collection that would nest deeper than [`MAX_DEPTH`]: every walk over the tree
/// (emitting, hashing, dropping) recurses, and a deep enough input would overflow the stack.
fn check_depth(open: usize, span: &Span) -> Result<(), ParseError> {
    if open >= MAX_DEPTH {
        return Err(err_at(
            span,
            &format!("nested more than {MAX_DEPTH} levels deep (README \"Input limits\")"),
        ));
    }
    Ok(())
}

fn err_at(span: &Span, message: &str) -> ParseError {
    ParseError {
        line: span.start.line(),
        column: span.start.col() + 1,
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::Resolved;

    #[test]
    fn keeps_scalar_style() {
        let n = parse_single("a: yes\nb: \"yes\"\nc: 0755\nd: '0755'\n").unwrap();
        assert_eq!(
            n.get_path(&["a"]).unwrap().resolved(),
            Some(Resolved::Bool(true))
        );
        assert_eq!(n.get_path(&["b"]).unwrap().as_str(), Some("yes"));
        assert_eq!(n.get_path(&["c"]).unwrap().as_i64(), Some(493));
        assert_eq!(n.get_path(&["d"]).unwrap().as_str(), Some("0755"));
    }

    #[test]
    fn duplicate_keys_last_wins_in_first_place() {
        let n = parse_single("a: 1\nb: 2\na: 3\n").unwrap();
        let keys: Vec<_> = n
            .as_map()
            .unwrap()
            .iter()
            .map(|(k, _)| k.key_text())
            .collect();
        assert_eq!(keys, ["a", "b"]);
        assert_eq!(n.get_path(&["a"]).unwrap().as_i64(), Some(3));
    }

    #[test]
    fn aliases_expand() {
        let n = parse_single("a: &x {k: v}\nb: *x\n").unwrap();
        assert_eq!(n.get_path(&["b", "k"]).unwrap().as_str(), Some("v"));
    }

    #[test]
    fn empty_and_comment_only() {
        assert_eq!(parse_document("").unwrap(), None);
        assert_eq!(parse_document("# only a comment\n").unwrap(), None);
        assert_eq!(parse_document("---\n# Source: x\n").unwrap(), None);
    }

    #[test]
    fn errors_carry_position() {
        let e = parse_single("a: 1\nb: [1, 2\n").unwrap_err();
        assert!(e.line >= 2, "{e:?}");
    }

    #[test]
    fn collection_keys_are_rejected() {
        for text in ["? [a]\n: 1\n", "? {a: b}\n: 1\n", "{[a]: 1}\n"] {
            let e = parse_single(text).unwrap_err();
            assert!(
                e.message.contains("a mapping key must be a scalar"),
                "{text}: {e:?}"
            );
        }
    }

    #[test]
    fn repeated_keys_are_found_by_value() {
        // `yes`/`true`, `0x1F`/`31`, `0.0`/`-0.0` are the same key; NaN is no other key.
        let n =
            parse_single("yes: 1\n0x1F: 2\n0.0: 3\n.nan: 4\ntrue: 5\n31: 6\n-0.0: 7\n.NaN: 8\n")
                .unwrap();
        let values: Vec<i64> = n
            .as_map()
            .unwrap()
            .iter()
            .map(|(_, v)| v.as_i64().unwrap())
            .collect();
        assert_eq!(values, [5, 6, 7, 4, 8]);
    }

    #[test]
    fn nesting_is_bounded() {
        let at_bound = format!("{}x\n", "- ".repeat(MAX_DEPTH));
        assert!(parse_single(&at_bound).is_ok());
        let e = parse_single(&format!("- {at_bound}")).unwrap_err();
        assert_eq!((e.line, e.column), (1, 2 * MAX_DEPTH + 1), "{e:?}");
        assert!(e.message.starts_with("nested more than 1000 levels deep"));
    }

    #[test]
    fn aliases_are_counted_as_go_counts_them() {
        // Each use of a 100-scalar list drives 101 visits. kubectl v1.37 accepts this object
        // with 3923 uses and refuses it with 3924 (more tipping points: tests/limits.rs).
        let uses = |k: usize| {
            format!(
                "kind: ConfigMap\napiVersion: v1\nmetadata: {{name: x}}\na: &a [{}]\nb:\n{}",
                vec!["v"; 100].join(","),
                "- *a\n".repeat(k)
            )
        };
        assert!(parse_single(&uses(3923)).is_ok());
        let e = parse_single(&uses(3924)).unwrap_err();
        assert!(e.message.starts_with("excessive aliasing"), "{e:?}");
        assert_eq!(
            e.message,
            "excessive aliasing: 396324 of 400362 nodes would come from expanding aliases (Go's YAML reader refuses this document too)"
        );
    }

    #[test]
    fn expanded_size_is_bounded() {
        let long = "x".repeat(1 << 20);
        let ok = format!("a: &s {long}\nb: [{}]\n", vec!["*s"; 14].join(","));
        assert!(parse_single(&ok).is_ok());
        let too_big = format!("a: &s {long}\nb: [{}]\n", vec!["*s"; 15].join(","));
        let e = parse_single(&too_big).unwrap_err();
        assert!(
            e.message
                .starts_with("with its aliases expanded the document would be more than 16 MiB"),
            "{e:?}"
        );
    }

    #[test]
    fn crlf_and_bom() {
        let n = parse_single("\u{feff}a: x\r\nb: yy\r\n").unwrap();
        assert_eq!(n.get_path(&["b"]).unwrap().as_str(), Some("yy"));
    }
}
