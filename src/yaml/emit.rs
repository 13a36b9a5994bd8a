//! [`Node`] → block-style YAML that YAML 1.1 readers (Go: Helm, kubectl) and YAML 1.2 readers
//! read back to the same values. Strings are written plain only when no reader could take them
//! for anything else; multi-line strings become literal blocks when that is exact, and
//! double-quoted with escapes otherwise.

use super::node::{Map, Node, Scalar, Style};
use super::resolve::{Resolved, resolve_plain};
use std::fmt::Write;

/// One document's body, ending in a newline (no `---`).
pub fn emit_document(node: &Node) -> String {
    let mut out = String::new();
    match node {
        Node::Map(m) if !m.is_empty() => emit_map(m, 0, &mut out),
        Node::Seq(s) if !s.is_empty() => emit_seq(s, 0, &mut out),
        other => {
            // A literal block at the root is indented, so that a `---` line in it stays content.
            emit_inline(other, 2, &mut out);
            out.push('\n');
        }
    }
    out
}

fn emit_map(map: &Map, indent: usize, out: &mut String) {
    for (i, (key, value)) in map.iter().enumerate() {
        // The first entry of a mapping inside a list item continues the `- ` line.
        if i > 0 || !out.ends_with("- ") {
            pad(out, indent);
        }
        let mut k = String::new();
        emit_key(key, &mut k);
        // An implicit key is limited to one line of 1024 characters; longer or complex keys
        // use the explicit form `? key` / `: value`.
        if k.len() > 1000 || !matches!(key, Node::Scalar(_)) {
            out.push_str("? ");
            out.push_str(&k);
            out.push('\n');
            pad(out, indent);
        } else {
            out.push_str(&k);
        }
        out.push(':');
        match value {
            Node::Map(m) if !m.is_empty() => {
                out.push('\n');
                emit_map(m, indent + 2, out);
            }
            Node::Seq(s) if !s.is_empty() => {
                out.push('\n');
                emit_seq(s, indent, out);
            }
            other => {
                out.push(' ');
                emit_inline(other, indent + 2, out);
                out.push('\n');
            }
        }
    }
}

fn emit_seq(items: &[Node], indent: usize, out: &mut String) {
    for item in items {
        pad(out, indent);
        out.push('-');
        match item {
            Node::Map(m) if !m.is_empty() => {
                out.push(' ');
                emit_map(m, indent + 2, out);
            }
            Node::Seq(s) if !s.is_empty() => {
                out.push('\n');
                emit_seq(s, indent + 2, out);
            }
            other => {
                out.push(' ');
                emit_inline(other, indent + 2, out);
                out.push('\n');
            }
        }
    }
}

/// A scalar or an empty collection, after `key: ` or `- `. `block_indent` is where a literal
/// block's lines go.
fn emit_inline(node: &Node, block_indent: usize, out: &mut String) {
    match node {
        Node::Map(_) => out.push_str("{}"),
        Node::Seq(_) => out.push_str("[]"),
        Node::Scalar(s) => emit_scalar(s, Some(block_indent), out),
    }
}

fn emit_key(key: &Node, out: &mut String) {
    match key {
        Node::Scalar(s) => emit_scalar(s, None, out),
        // Keys that are collections never occur in Kubernetes objects; JSON is valid flow YAML.
        other => out.push_str(&other.to_json().to_string()),
    }
}

fn emit_scalar(s: &Scalar, block_indent: Option<usize>, out: &mut String) {
    match s.style {
        // A plain scalar read from a document is written back as it was: same text, same type.
        Style::Plain if s.text.is_empty() => out.push_str("null"),
        Style::Plain if plain_is_reusable(&s.text) => out.push_str(&s.text),
        _ => emit_string(&s.text, block_indent, out),
    }
}

/// A string, written so that every reader sees exactly `text` as a string.
pub fn emit_scalar_string(text: &str) -> String {
    let mut out = String::new();
    emit_string(text, None, &mut out);
    out
}

fn emit_string(text: &str, block_indent: Option<usize>, out: &mut String) {
    if is_plain_safe_string(text) {
        out.push_str(text);
    } else if let Some(indent) = block_indent.filter(|_| literal_block_is_exact(text)) {
        emit_literal(text, indent, out);
    } else {
        out.push_str(&quote_double(text));
    }
}

fn emit_literal(text: &str, indent: usize, out: &mut String) {
    let body = text.trim_end_matches('\n');
    let trailing = text.len() - body.len();
    out.push_str(match trailing {
        0 => "|-",
        1 => "|",
        _ => "|+",
    });
    out.push('\n');
    for line in body.split('\n') {
        if !line.is_empty() {
            pad(out, indent);
            out.push_str(line);
        }
        out.push('\n');
    }
    for _ in 1..trailing {
        out.push('\n');
    }
    // The caller adds the newline that ends the entry; a block already ended its last line.
    out.pop();
}

/// Literal blocks reproduce text exactly unless it has carriage returns, control characters,
/// characters that YAML 1.1 treats as line breaks, trailing white space (which some readers
/// strip), or a first line that starts with white space (the indentation would be misread).
fn literal_block_is_exact(text: &str) -> bool {
    let body = text.trim_end_matches('\n');
    !body.is_empty()
        && text.contains('\n')
        && !body.starts_with([' ', '\t', '\n'])
        && !text
            .chars()
            .any(|c| (c.is_control() && c != '\n' && c != '\t') || is_special_break(c))
        && body.split('\n').all(|l| !l.ends_with([' ', '\t']))
}

/// Characters YAML 1.1 reads as line breaks (and the byte-order mark), which neither a plain
/// scalar nor a literal block may hold.
fn is_special_break(c: char) -> bool {
    matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}')
}

/// Plain only for a conservative alphabet with a letter, `/` or `_` first, and never for a word
/// that YAML 1.1 or 1.2 reads as a boolean or null (`yes`, `on`, `y`, `null`, …).
fn is_plain_safe_string(text: &str) -> bool {
    // Every byte of the alphabet is ASCII: the text is checked byte by byte.
    let b = text.as_bytes();
    let Some(&first) = b.first() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == b'/' || first == b'_')
        && b.iter().all(|&c| {
            c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'/' | b':' | b'@' | b'+' | b'-')
        })
        && !text.ends_with(':')
        && !b.windows(2).any(|w| w == b"::")
        // Typed as a string (as `resolve_plain` would, without copying the text).
        && super::go::typed_plain(text, true).is_none()
}

/// A plain scalar seen in a document can be written back as plain text when it is on one line
/// and has nothing that would end or change it in block context, or when it is a number (a
/// leading `-` or `.` does not make a number anything else).
fn plain_is_reusable(text: &str) -> bool {
    // `---` and `...` at the start of a line are document markers.
    !text.starts_with("---")
        && !text.starts_with("...")
        && !text.contains(['\n', '\r', '\t', '#'])
        && !text.chars().any(|c| c.is_control() || is_special_break(c))
        && !text.contains(": ")
        && !text.ends_with(':')
        && !text.starts_with([
            ' ', '-', '?', ':', ',', '[', ']', '{', '}', '&', '*', '!', '|', '>', '\'', '"', '%',
            '@', '`',
        ])
        && !text.ends_with(' ')
        || matches!(resolve_plain(text), Resolved::Int(_) | Resolved::Float(_))
}

/// A double-quoted YAML string with every character either literal or escaped.
pub fn quote_double(text: &str) -> String {
    let mut q = String::with_capacity(text.len() + 2);
    q.push('"');
    for c in text.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            '\t' => q.push_str("\\t"),
            '\r' => q.push_str("\\r"),
            '\0' => q.push_str("\\0"),
            '\u{85}' => q.push_str("\\N"),
            '\u{2028}' => q.push_str("\\L"),
            '\u{2029}' => q.push_str("\\P"),
            c if c.is_control() || c == '\u{feff}' => {
                let _ = write!(q, "\\u{:04X}", c as u32);
            }
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_single;

    fn round_trip(node: &Node) -> Node {
        parse_single(&emit_document(node)).unwrap()
    }

    #[test]
    fn yaml11_words_stay_strings() {
        for s in [
            "yes", "on", "n", "Y", "0755", "1e3", "~", "true", "", "1.10", "a: b", "x #y", "- x",
            "null", "=", "<<",
        ] {
            let mut m = Map::default();
            m.insert("k", Node::string(s));
            let text = emit_document(&Node::Map(m.clone()));
            assert!(text.contains('"'), "{s:?} must be quoted: {text}");
            assert_eq!(
                round_trip(&Node::Map(m)).get_path(&["k"]).unwrap().as_str(),
                Some(s)
            );
        }
    }

    #[test]
    fn safe_strings_stay_plain() {
        let mut m = Map::default();
        m.insert("image", Node::string("locustio/locust:2.32.2"));
        m.insert("name", Node::string("demo-locust-master"));
        assert_eq!(
            emit_document(&Node::Map(m)),
            "image: locustio/locust:2.32.2\nname: demo-locust-master\n"
        );
    }

    #[test]
    fn multiline_strings_round_trip() {
        for s in [
            "a\nb\n",
            "a\nb",
            "a\n\n\n",
            "  leading\n",
            "trailing \nx\n",
            "tab\tin\n\tline\n",
            "crlf\r\nline\r\n",
            "---\n...\nx\n",
            "{{ x }}\n`y`\n'\"\n",
            "emoji 🚀\n",
            "\n\nstarts blank\n",
            "nel\u{85}x\n",
        ] {
            let mut m = Map::default();
            m.insert("k", Node::string(s));
            let mut seq = vec![Node::string(s)];
            seq.push(Node::Map(m.clone()));
            let doc = Node::Map({
                let mut top = Map::default();
                top.insert("m", Node::Map(m));
                top.insert("s", Node::Seq(seq));
                top
            });
            let back = round_trip(&doc);
            assert_eq!(back, round_trip(&back));
            assert_eq!(
                back.get_path(&["m", "k"]).unwrap().as_str(),
                Some(s),
                "{s:?}"
            );
            assert_eq!(
                back.to_json(),
                doc.to_json(),
                "{s:?}\n{}",
                emit_document(&doc)
            );
        }
    }

    #[test]
    fn values_are_written_as_go_read_them() {
        // Go's reading, in canonical form: `yes` is true, `0755` is 493, `1e3` is 1000.
        let doc = parse_single("a: yes\nb: 0755\nc: 1e3\nd:\ne: [x, y]\nf: {}\ng: 0.5\n").unwrap();
        assert_eq!(
            emit_document(&doc),
            "a: true\nb: 493\nc: 1000\nd: null\ne:\n- x\n- true\nf: {}\ng: 0.5\n"
        );
    }

    #[test]
    fn long_keys_round_trip() {
        let long = "k".repeat(1500);
        let doc = parse_single(&format!("? \"{long}\"\n: 1\nshort: 2\n")).unwrap();
        let text = emit_document(&doc);
        let back = parse_single(&text).unwrap();
        assert_eq!(back, round_trip(&back));
        assert_eq!(back.to_json(), doc.to_json(), "{text}");
        assert!(text.starts_with("? kkk"), "{text}");
    }

    #[test]
    fn odd_tags_and_control_characters_round_trip() {
        // Found by AFL++: a tag with a control character, a plain scalar with one. Tags are
        // applied when read (Go's reading), so what is written back carries none.
        let doc = parse_single("a: !x\u{11}y null\nb: !!str 123\nc: !ok v\n").map(|d| d.to_json());
        if let Ok(v) = doc {
            let back = parse_single(&emit_document(&Node::from_json(&v))).unwrap();
            assert_eq!(back.to_json(), v);
        }
        let doc = parse_single("b: !!str 123\n").unwrap();
        assert_eq!(emit_document(&doc), "b: \"123\"\n");
        let mut m = Map::default();
        m.insert(
            "k",
            Node::Scalar(Scalar {
                text: "x\u{5}y".into(),
                style: Style::Plain,
            }),
        );
        let text = emit_document(&Node::Map(m));
        assert_eq!(text, "k: \"x\\u0005y\"\n");
    }

    #[test]
    fn root_literal_and_equal_collection_keys() {
        // Found by AFL++: a root scalar holding a `---` line; two keys equal as values.
        let root = Node::string("--\n---\nx\n");
        assert_eq!(
            parse_single(&emit_document(&root)).unwrap().as_str(),
            Some("--\n---\nx\n")
        );
        // Collection keys are rejected when read (they blew up exponentially when written).
        assert!(parse_single("? {~: 1}\n: a\n? {null: 1}\n: b\n").is_err());
    }

    #[test]
    fn document_markers_are_not_written_plain() {
        // Found by AFL++: a plain `...`/`--- x` scalar.
        for text in ["...", "... x", "---", "--- y"] {
            let mut m = Map::default();
            m.insert_node(
                Node::Scalar(Scalar {
                    text: text.into(),
                    style: Style::Plain,
                }),
                Node::null(),
            );
            let doc = Node::Map(m);
            assert_eq!(round_trip(&doc).to_json(), doc.to_json(), "{text}");
            let root = Node::Scalar(Scalar {
                text: text.into(),
                style: Style::Plain,
            });
            assert_eq!(
                parse_single(&emit_document(&root)).unwrap().as_str(),
                Some(text)
            );
        }
    }

    #[test]
    fn nested_lists_and_maps() {
        let text = "a:\n- name: x\n  v:\n  - 1\n  -\n    - 2\n    - 3\n- []\n";
        let doc = parse_single(text).unwrap();
        assert_eq!(emit_document(&doc), text);
    }
}
