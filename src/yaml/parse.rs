//! YAML text → [`Node`], from saphyr-parser's event stream. Aliases are expanded, duplicate keys
//! resolve last-wins (Go's behaviour), and every scalar keeps whether it was plain or quoted.

use super::node::{Map, Node, Scalar, Style};
use saphyr_parser::{Event, Parser, ScalarStyle, Span};
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line} column {column}: {message}")]
pub struct ParseError {
    /// 1-based line within the parsed text.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    pub message: String,
}

enum Frame {
    Seq(Vec<Node>, usize),
    Map(Map, Option<Node>, usize),
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
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut last_span = Span::default();
    let mut current: Option<Node> = None;
    while let Some(item) = parser.next_event() {
        let (event, span) = item.map_err(|e| ParseError {
            line: e.marker().line(),
            column: e.marker().col() + 1,
            message: e.info().to_string(),
        })?;
        last_span = span;
        let finished: Option<(Node, usize)> = match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing | Event::DocumentStart(_) => {
                None
            }
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
                let node = anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| err_at(&span, "unknown alias"))?;
                Some((node, 0))
            }
            Event::Scalar(value, style, anchor, tag) => {
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
                ))
            }
            Event::SequenceStart(anchor, _) => {
                stack.push(Frame::Seq(Vec::new(), anchor));
                None
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq(items, anchor)) => Some((Node::Seq(items), anchor)),
                _ => return Err(err_at(&span, "unbalanced sequence")),
            },
            Event::MappingStart(anchor, _) => {
                stack.push(Frame::Map(Map::default(), None, anchor));
                None
            }
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map(map, None, anchor)) => Some((Node::Map(map), anchor)),
                _ => return Err(err_at(&span, "unbalanced mapping")),
            },
        };
        if let Some((node, anchor)) = finished {
            if anchor != 0 {
                anchors.insert(anchor, node.clone());
            }
            match stack.last_mut() {
                None => current = Some(node),
                Some(Frame::Seq(items, _)) => items.push(node),
                Some(Frame::Map(map, pending, _)) => match pending.take() {
                    // Kubernetes objects (and JSON) have only scalar keys; collection keys nested
                    // in each other also blow up exponentially when written as text (AFL++ found it).
                    None if !matches!(node, Node::Scalar(_)) => {
                        return Err(err_at(
                            &span,
                            "a mapping key must be a scalar (Kubernetes objects have no list or mapping keys)",
                        ));
                    }
                    None => *pending = Some(node),
                    Some(key) => map.insert_node(key, node),
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
    fn crlf_and_bom() {
        let n = parse_single("\u{feff}a: x\r\nb: yy\r\n").unwrap();
        assert_eq!(n.get_path(&["b"]).unwrap().as_str(), Some("yy"));
    }
}
