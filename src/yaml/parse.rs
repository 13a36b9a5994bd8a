//! YAML text → [`Node`] as Go reads it. Two steps:
//! 1. libyaml-safer (a Rust port of libyaml, the C library that Go's yaml.v2 is a line-by-line
//!    port of) turns the text into events, so what Go's scanner accepts or refuses is accepted
//!    or refused here too; the events become a [`Raw`] tree that keeps every tag, style and
//!    position, with aliases expanded under Go's alias budget.
//! 2. [`super::go::decode`] turns the raw tree into the object Kubernetes decodes: tags and
//!    merge keys applied, scalars typed, keys turned into JSON strings (see that module).

use super::go;
use super::node::Node;
use crate::limits::{MAX_DEPTH, MAX_DOCUMENT_BYTES};
use libyaml_safer::{EventData, Mark, Parser};
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

impl ParseError {
    pub(super) fn at(pos: Pos, message: impl Into<String>) -> ParseError {
        ParseError {
            line: pos.line,
            column: pos.column,
            message: message.into(),
        }
    }
}

/// A 1-based position in the text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Pos {
    pub line: usize,
    pub column: usize,
}

impl From<Mark> for Pos {
    fn from(m: Mark) -> Pos {
        Pos {
            line: m.line as usize + 1,
            column: m.column as usize + 1,
        }
    }
}

/// A node as written: the tree Go's decoder starts from.
#[derive(Clone, Debug)]
pub(super) struct Raw {
    pub pos: Pos,
    pub kind: RawKind,
}

#[derive(Clone, Debug)]
pub(super) enum RawKind {
    Scalar {
        value: String,
        /// The resolved tag (`tag:yaml.org,2002:str`, `!`, `!local`), if one was written.
        tag: Option<String>,
        /// Plain without a tag, or with the non-specific tag `!`: typed by resolution.
        implicit: bool,
    },
    Seq(Vec<Raw>),
    Map(Vec<(Raw, Raw)>),
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

/// A collection being built, with its anchor and the document's weight before it started.
struct Frame {
    pos: Pos,
    items: Vec<Raw>,
    is_map: bool,
    anchor: Option<String>,
    before: Weight,
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
                "with its aliases expanded the document would be more than {} (docs/limits.md)",
                crate::limits::mib(MAX_DOCUMENT_BYTES)
            ));
        }
        Ok(())
    }
}

/// Parses text holding at most one document. `Ok(None)` for an empty or comment-only text.
///
/// Text in the subset [`super::quick`] is proven on is read by it (several times faster than
/// libyaml-safer); anything else, and anything Go's decoding refuses, by the full reader, so
/// every refusal keeps its message and position.
pub fn parse_document(text: &str) -> Result<Option<Node>, ParseError> {
    match quick_document(text) {
        Some(node) => Ok(node),
        None => full_document(text),
    }
}

/// The document as [`parse_document`] reads it when the fast reader takes the text and Go's
/// decoding accepts it; `None` when [`full_document`] must read it.
pub fn quick_document(text: &str) -> Option<Option<Node>> {
    match super::quick::read(text)? {
        None => Some(None),
        Some(raw) => go::decode_owned(raw).ok().map(Some),
    }
}

/// [`parse_document`] through libyaml-safer alone.
pub fn full_document(text: &str) -> Result<Option<Node>, ParseError> {
    match parse_raw(text)? {
        None => Ok(None),
        Some(raw) => go::decode_owned(raw).map(Some),
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

/// The raw tree of the text's one document (`None`: no document, or only an empty one).
pub(super) fn parse_raw(text: &str) -> Result<Option<Raw>, ParseError> {
    // libyaml reads a byte-order mark itself; Kubernetes strips one before reading too.
    let mut input = text.as_bytes();
    let mut parser = Parser::new();
    parser.set_input_string(&mut input);
    let mut tree = Builder::default();
    tree.budget.new_document();
    let mut last = Pos::default();
    loop {
        let event = next_event(&mut parser, last)?;
        let pos = Pos::from(event.start_mark);
        last = pos;
        if matches!(event.data, EventData::StreamEnd) {
            break;
        }
        if let Some(finished) = tree.event(event.data, pos)? {
            tree.attach(finished)?;
        }
    }
    // `---` followed by nothing is an empty document, not a null value.
    Ok(tree.docs.pop().filter(|d| {
        !matches!(&d.kind, RawKind::Scalar { value, tag: None, implicit: true } if value.is_empty())
    }))
}

/// The next event. libyaml-safer panics on a few inputs instead of returning an error (an
/// unterminated escape at the end of the text, a tag followed by `,` in a flow collection, a
/// block scalar cut short at the end; its issues #6 and #7, open upstream): such a panic is
/// caught, kept off stderr, and becomes a refusal at the last place read. Go's reader refuses
/// most of these inputs too; what it would read, we still cannot, so it is refused.
fn next_event(
    parser: &mut Parser<&mut &[u8]>,
    last: Pos,
) -> Result<libyaml_safer::Event, ParseError> {
    quiet_panics::install();
    let caught = quiet_panics::catch(|| parser.parse());
    match caught {
        Ok(event) => event.map_err(|e| parser_error(&e, last)),
        Err(reason) => Err(ParseError::at(
            last,
            format!(
                "the YAML reader cannot read the text after this point ({reason}); refused rather than read differently from Kubernetes"
            ),
        )),
    }
}

/// Panics caught around the YAML reader stay off stderr; every other panic is reported as
/// before (the previous hook runs).
mod quiet_panics {
    use std::cell::Cell;
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::sync::Once;

    thread_local! {
        static QUIET: Cell<bool> = const { Cell::new(false) };
    }

    /// Whether this thread is inside the guard now (for tests).
    #[cfg(test)]
    pub fn is_quiet() -> bool {
        QUIET.with(Cell::get)
    }

    pub fn install() {
        static ONCE: Once = Once::new();
        ONCE.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                if !QUIET.with(Cell::get) {
                    previous(info);
                }
            }));
        });
    }

    /// Runs `f`; a panic becomes `Err` with its message.
    pub fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
        QUIET.with(|q| q.set(true));
        let result = catch_unwind(AssertUnwindSafe(f));
        QUIET.with(|q| q.set(false));
        result.map_err(|payload| {
            payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "an internal error".into())
        })
    }
}

/// libyaml's error, where it names a place (else at the last event read).
fn parser_error(e: &libyaml_safer::Error, last: Pos) -> ParseError {
    let pos = e.problem_mark().map(Pos::from).unwrap_or(last);
    let message = match e.context() {
        Some(c) => format!("{c}: {}", e.problem()),
        None => e.problem().to_string(),
    };
    ParseError::at(pos, message)
}

/// A node an event completes, with its anchor and weight.
struct Finished {
    node: Raw,
    anchor: Option<String>,
    weight: Weight,
}

/// The raw tree being built from a text's events.
#[derive(Default)]
struct Builder {
    /// The collections open around the next node.
    stack: Vec<Frame>,
    anchors: HashMap<String, (Raw, Weight)>,
    budget: AliasBudget,
    /// The documents finished (a second one is an error).
    docs: Vec<Raw>,
}

impl Builder {
    /// Takes one event (not the stream's end); returns the node it completes, if any.
    fn event(&mut self, data: EventData, pos: Pos) -> Result<Option<Finished>, ParseError> {
        Ok(match data {
            EventData::StreamStart { .. }
            | EventData::StreamEnd
            | EventData::DocumentEnd { .. } => None,
            EventData::DocumentStart { .. } => {
                if !self.docs.is_empty() {
                    return Err(ParseError::at(
                        pos,
                        "expected one YAML document, found several",
                    ));
                }
                self.budget.new_document();
                self.anchors.clear();
                None
            }
            EventData::Alias { anchor } => Some(self.alias(&anchor, pos)?),
            EventData::Scalar {
                anchor,
                tag,
                value,
                plain_implicit,
                ..
            } => {
                let weight = self.budget.scalar(&value);
                let kind = RawKind::Scalar {
                    value,
                    tag,
                    implicit: plain_implicit,
                };
                Some(Finished {
                    node: Raw { pos, kind },
                    anchor,
                    weight,
                })
            }
            EventData::SequenceStart { anchor, .. } => {
                self.open(pos, anchor, false)?;
                None
            }
            EventData::MappingStart { anchor, .. } => {
                self.open(pos, anchor, true)?;
                None
            }
            EventData::SequenceEnd | EventData::MappingEnd => Some(self.close(pos)?),
        })
    }

    /// An alias: a copy of its anchor's node, counted against the alias budget.
    fn alias(&mut self, anchor: &str, pos: Pos) -> Result<Finished, ParseError> {
        let (node, target) = self
            .anchors
            .get(anchor)
            .ok_or_else(|| ParseError::at(pos, format!("unknown anchor `{anchor}`")))?;
        self.budget
            .expand(*target)
            .map_err(|m| ParseError::at(pos, m))?;
        // Only anchored nodes' weights are used, and an alias has no anchor.
        Ok(Finished {
            node: node.clone(),
            anchor: None,
            weight: Weight::default(),
        })
    }

    /// Opens a collection (refusing one nested deeper than [`MAX_DEPTH`]: every walk over the
    /// tree recurses, and a deep enough input would overflow the stack).
    fn open(&mut self, pos: Pos, anchor: Option<String>, is_map: bool) -> Result<(), ParseError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(ParseError::at(
                pos,
                format!("nested more than {MAX_DEPTH} levels deep (docs/limits.md)"),
            ));
        }
        self.stack.push(Frame {
            pos,
            items: Vec::new(),
            is_map,
            anchor,
            before: self.budget.total,
        });
        self.budget.collection();
        Ok(())
    }

    /// Closes the innermost collection.
    fn close(&mut self, pos: Pos) -> Result<Finished, ParseError> {
        // libyaml balances collections; an end without a start is refused, not a panic.
        let Some(frame) = self.stack.pop() else {
            return Err(ParseError::at(pos, "a collection ends that never started"));
        };
        let weight = self.budget.total.since(frame.before);
        let kind = if frame.is_map {
            let mut items = frame.items.into_iter();
            let mut entries = Vec::with_capacity(items.len() / 2);
            while let (Some(k), Some(v)) = (items.next(), items.next()) {
                entries.push((k, v));
            }
            RawKind::Map(entries)
        } else {
            RawKind::Seq(frame.items)
        };
        Ok(Finished {
            node: Raw {
                pos: frame.pos,
                kind,
            },
            anchor: frame.anchor,
            weight,
        })
    }

    /// Records a finished node's anchor and puts the node in its collection (or ends the
    /// document with it).
    fn attach(&mut self, finished: Finished) -> Result<(), ParseError> {
        let Finished {
            node,
            anchor,
            weight,
        } = finished;
        if let Some(a) = anchor {
            self.anchors.insert(a, (node.clone(), weight));
        }
        let Some(frame) = self.stack.last_mut() else {
            self.docs.push(node);
            return Ok(());
        };
        // Kubernetes objects (and JSON) have only scalar keys; collection keys nested in each
        // other also blow up exponentially when written as text (AFL++ found it).
        if frame.is_map
            && frame.items.len() % 2 == 0
            && !matches!(node.kind, RawKind::Scalar { .. })
        {
            return Err(ParseError::at(
                node.pos,
                "a mapping key must be a scalar (Kubernetes objects have no list or mapping keys)",
            ));
        }
        frame.items.push(node);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::Resolved;

    /// Inputs on which libyaml-safer 0.3.0 panics: refused with a position, never a panic.
    #[test]
    fn reader_panics_become_refusals() {
        for (text, column) in [("a: \"abc\\", 1), ("a: [!t, b]\n", 4), ("m: |\n r", 1)] {
            let e = parse_document(text).unwrap_err();
            assert_eq!((e.line, e.column), (1, column), "{text:?}: {e:?}");
            assert!(
                e.message.contains("cannot read the text after this point"),
                "{e:?}"
            );
        }
        // Other panics still reach the previous hook: the guard only silences its own.
        assert!(quiet_panics::catch(|| panic!("x")).is_err());
        assert!(!quiet_panics::is_quiet());
    }

    #[test]
    fn keeps_scalar_types() {
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
    fn several_documents_are_refused() {
        let e = parse_document("a: 1\n---\nb: 2\n").unwrap_err();
        assert_eq!(e.message, "expected one YAML document, found several");
        assert_eq!(e.line, 2);
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
    fn go_accepts_and_go_refuses() {
        // A flow sequence closed at its key's indent, as real charts render it (Go reads it).
        let n = parse_single("command: [\n  \"a\",\n  \"b\"\n]\n").unwrap();
        assert_eq!(n.get_path(&["command"]).unwrap().as_seq().unwrap().len(), 2);
        // A tab as indentation (Go refuses it).
        assert!(parse_single("a:\n\tb: 1\n").is_err());
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
