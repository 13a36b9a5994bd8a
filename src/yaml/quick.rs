//! A fast reader for the plain subset of YAML that Helm charts render (block mappings and
//! sequences of one-line scalars, one-line flow collections, literal block scalars), giving the
//! same raw tree as [`super::parse::parse_raw`] reads through libyaml-safer, or `None` when the
//! text leaves the subset (then the full reader runs, and decides).
//!
//! # Why the result is the full reader's, node for node
//!
//! The reader accepts a text only when every line is one of the forms below, and returns `None`
//! on the first line that is not; every form is one whose libyaml reading is fixed:
//!
//! - **Characters.** Every character is one libyaml reads as printable and none is one it reads
//!   as a line break other than `\n` (so no `\r`, U+0085, U+2028, U+2029), no tab, no byte-order
//!   mark, and the text ends with `\n` (libyaml-safer panics on some texts cut short; those go
//!   to the full reader, which turns the panic into a refusal).
//! - **No tags, anchors, aliases, directives, document end markers, complex keys or comments
//!   after content on a line** (whole-line comments outside block scalars are skipped, as
//!   libyaml skips them; one ends a plain scalar as the end of its line does). A value or key starting with any YAML indicator (`!&*%@\`|>?#,[]{}'"`,
//!   and `-`/`:` followed by a blank) is only taken in the exact forms below (quoted, flow,
//!   `|`/`|-`); anything else declines. So every scalar carries no tag and every collection no
//!   anchor: tags, merge keys through aliases, and the alias budget never come into play, and the
//!   typing of each scalar (plain: typed by Go's resolution; quoted: a string) is left to
//!   [`super::go::decode`], exactly as for the full reader. A plain `<<` key is still a merge key
//!   there, the same way for both readers.
//! - **Header.** Blank lines, whole-line comments and one `---` line, before the first content
//!   line; the content is one block mapping whose keys start at column 1 (a document that is a
//!   scalar, a list or empty goes to the full reader).
//! - **Block structure.** A mapping's keys all start at one column; a sequence's dashes all at
//!   one column, `- ` followed by its item; an item that holds `key:` starts a mapping at the
//!   item's column (libyaml's compact nested mapping); a key's empty value is a nested block
//!   when the next content line is indented deeper, an indentless sequence when it is a `- ` at
//!   the key's column, a flow collection when that line holds one alone (`resources:` then
//!   `  {}`, as charts render empty values), else null (the empty plain scalar). Any other indentation change (a line
//!   indented deeper after a scalar value, which libyaml would read as a continuation or
//!   refuse; a line between two levels) declines. Nesting is bounded well inside
//!   [`crate::limits::MAX_DEPTH`].
//! - **Scalars on one line.** Plain: no leading indicator, no `: ` or ` #` inside, no trailing
//!   `:` or space, so libyaml's plain scalar ends exactly at the end of the line. Quoted: `'…'`
//!   (with `''` for a quote) or `"…"` without a backslash, closed on the same line, and nothing
//!   after it. Keys have the same forms, shorter than libyaml's 1024-character simple-key bound.
//! - **Flow collections on one line:** `[]`, `{}`, `[a, b]`, `{k: v, k2: "v"}` whose items are
//!   quoted scalars or plain ones made of letters, digits and `._/+=~()$^-` (no `:`, `#`,
//!   `,`, brackets or blanks, so no flow indicator can end or split them), not starting with
//!   `-` unless another such character follows; no trailing comma, nothing after the bracket.
//! - **Literal block scalars** `key: |` and `key: |-` (clip and strip chomping, no indentation
//!   indicator): the first line after the header is content, indented deeper than the key, and
//!   fixes the indentation (libyaml's auto-detection with no leading empty lines); every later
//!   line indented at least that much is content from that column on (a whitespace-only line
//!   longer than the indentation is content too), a shorter whitespace-only line is an empty
//!   line, and the first shorter non-blank line ends the scalar. The text is the content lines
//!   joined by their breaks, the empty lines as breaks, and with clip one final break.
//!
//! Inside this subset the events libyaml emits are determined line by line as above, and the
//! tree is built from them as [`super::parse`] builds it (keys and values in order, duplicates
//! kept for the decoder). The differential property test below
//! (`agrees_with_the_full_reader_on_generated_documents`) checks this against the full reader
//! on generated adversarial documents.

use super::parse::{Pos, Raw, RawKind};

/// Deeper nesting goes to the full reader, which applies the depth bound with its message.
const MAX_QUICK_DEPTH: usize = 64;
/// libyaml refuses a simple key whose source spans more than 1024 positions; longer ones go to
/// the full reader, which gives its message.
const MAX_KEY_SOURCE_BYTES: usize = 1000;

/// The raw tree of `text` (`Some(None)`: no content), or `None` when `text` is outside the
/// subset this reader is proven on.
pub(super) fn read(text: &str) -> Option<Option<Raw>> {
    if !text.ends_with('\n') || !chars_are_plain(text) {
        return None;
    }
    let mut reader = Reader {
        lines: lines_of(text),
        at: 0,
    };
    let first = reader.skip_header()?;
    let Some(first) = first else {
        return Some(None);
    };
    if reader.lines[first].indent != 0 {
        return None;
    }
    let root = reader.mapping(0, 0)?;
    // Everything was read: any line left over would be outside the structure.
    if reader.next_content().is_some() {
        return None;
    }
    Some(Some(root))
}

/// The lines of a text that ends with `\n`.
fn lines_of(text: &str) -> Vec<Line<'_>> {
    let mut lines = Vec::with_capacity(text.len() / 24 + 1);
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', text.as_bytes()) {
        lines.push(Line::new(lines.len() + 1, &text[start..end]));
        start = end + 1;
    }
    lines
}

/// Every character is printable to libyaml and no line break but `\n`; no tab.
fn chars_are_plain(text: &str) -> bool {
    // Without an early exit the loop over bytes vectorises; non-ASCII text takes the slow look.
    let odd = text.bytes().fold(false, |odd, b| {
        odd | ((b < 0x20 && b != b'\n') || b >= 0x7f)
    });
    !odd || text.chars().all(|c| {
        matches!(c,
            '\n' | '\x20'..='\x7e' | '\u{a0}'..='\u{2027}' | '\u{202a}'..='\u{d7ff}'
            | '\u{e000}'..='\u{fefe}' | '\u{ff00}'..='\u{fffd}' | '\u{10000}'..='\u{10ffff}')
    })
}

#[derive(Clone, Copy)]
struct Line<'a> {
    number: usize,
    /// Leading spaces.
    indent: usize,
    /// The line after its indentation (empty: a blank line).
    text: &'a str,
    /// The whole line, without its break.
    raw: &'a str,
}

impl<'a> Line<'a> {
    fn new(number: usize, raw: &'a str) -> Line<'a> {
        let indent = raw.bytes().take_while(|&b| b == b' ').count();
        Line {
            number,
            indent,
            text: &raw[indent..],
            raw,
        }
    }

    fn is_blank(&self) -> bool {
        self.text.is_empty()
    }

    fn pos(&self, column: usize) -> Pos {
        Pos {
            line: self.number,
            column: column + 1,
        }
    }
}

struct Reader<'a> {
    lines: Vec<Line<'a>>,
    /// The next line to read.
    at: usize,
}

impl<'a> Reader<'a> {
    /// Skips blank lines, comments and one `---`; the first content line, if any.
    fn skip_header(&mut self) -> Option<Option<usize>> {
        let mut seen_start = false;
        while let Some(line) = self.lines.get(self.at) {
            if line.is_blank() || line.text.starts_with('#') {
                self.at += 1;
            } else if line.raw == "---" && !seen_start {
                seen_start = true;
                self.at += 1;
            } else {
                return Some(Some(self.at));
            }
        }
        Some(None)
    }

    /// The next line that is neither blank nor a whole-line comment, without taking it.
    /// Outside block scalars libyaml skips such lines wherever they stand, and a comment line
    /// ends a plain scalar as its own line does.
    fn next_content(&mut self) -> Option<Line<'a>> {
        while let Some(line) = self.lines.get(self.at) {
            if line.is_blank() || line.text.starts_with('#') {
                self.at += 1;
            } else {
                return Some(*line);
            }
        }
        None
    }

    /// A block mapping whose keys start at `indent`; the reader is at its first key.
    fn mapping(&mut self, indent: usize, depth: usize) -> Option<Raw> {
        if depth > MAX_QUICK_DEPTH {
            return None;
        }
        let first = self.next_content()?;
        let mut entries = Vec::new();
        while let Some(line) = self.next_content() {
            if line.indent < indent {
                break;
            }
            if line.indent > indent || is_dash(line.text) {
                // A dash at the mapping's column after an entry, or a line between levels.
                if line.indent == indent && is_dash(line.text) {
                    break;
                }
                return None;
            }
            self.at += 1;
            let (key, rest) = split_key(line.text)?;
            let key = Raw {
                pos: line.pos(line.indent),
                kind: key,
            };
            let value_column = line.indent + (line.text.len() - rest.len());
            let value = self.value(line, rest, value_column, indent, depth)?;
            entries.push((key, value));
        }
        Some(Raw {
            pos: first.pos(indent),
            kind: RawKind::Map(entries),
        })
    }

    /// The value after `key:` on `line` (`rest`: what follows the colon and its space, at
    /// `column`), in a mapping at `indent`.
    fn value(
        &mut self,
        line: Line<'a>,
        rest: &'a str,
        column: usize,
        indent: usize,
        depth: usize,
    ) -> Option<Raw> {
        if rest.is_empty() {
            return self.nested(line, indent, true, depth);
        }
        if rest == "|" || rest == "|-" {
            return self.literal(line.pos(column), indent, rest == "|");
        }
        let kind = inline(rest)?;
        self.no_continuation(indent)?;
        Some(Raw {
            pos: line.pos(column),
            kind,
        })
    }

    /// After a one-line value: the next content line may not be indented deeper than `indent`
    /// (libyaml would read it as a continuation of the scalar, or refuse it).
    fn no_continuation(&mut self, indent: usize) -> Option<()> {
        match self.next_content() {
            Some(next) if next.indent > indent => None,
            _ => Some(()),
        }
    }

    /// The value of a key or dash with nothing after it, at `indent`: a deeper block, an
    /// indentless sequence (after a key only), or null.
    fn nested(
        &mut self,
        line: Line<'a>,
        indent: usize,
        after_key: bool,
        depth: usize,
    ) -> Option<Raw> {
        match self.next_content() {
            // A flow collection alone on the next, deeper line (`resources:` then `  {}`).
            Some(next) if next.indent > indent && next.text.starts_with(['{', '[']) => {
                self.at += 1;
                let kind = flow(next.text)?;
                self.no_continuation(indent)?;
                Some(Raw {
                    pos: next.pos(next.indent),
                    kind,
                })
            }
            Some(next) if next.indent > indent => self.block(next.indent, depth + 1),
            Some(next) if after_key && next.indent == indent && is_dash(next.text) => {
                self.sequence(indent, depth + 1)
            }
            _ => Some(Raw {
                pos: line.pos(line.raw.len()),
                kind: RawKind::Scalar {
                    value: String::new(),
                    tag: None,
                    implicit: true,
                },
            }),
        }
    }

    /// A block mapping or sequence starting at the next content line, at `indent`.
    fn block(&mut self, indent: usize, depth: usize) -> Option<Raw> {
        let next = self.next_content()?;
        if is_dash(next.text) {
            self.sequence(indent, depth)
        } else {
            self.mapping(indent, depth)
        }
    }

    /// A block sequence whose dashes are at `indent`; the reader is at its first dash.
    fn sequence(&mut self, indent: usize, depth: usize) -> Option<Raw> {
        if depth > MAX_QUICK_DEPTH {
            return None;
        }
        let first = self.next_content()?;
        let mut items = Vec::new();
        while let Some(line) = self.next_content() {
            if line.indent < indent || (line.indent == indent && !is_dash(line.text)) {
                break;
            }
            if line.indent > indent {
                return None;
            }
            let item = self.item(line, indent, depth)?;
            items.push(item);
        }
        Some(Raw {
            pos: first.pos(indent),
            kind: RawKind::Seq(items),
        })
    }

    /// One `- …` item of a sequence at `indent`.
    fn item(&mut self, line: Line<'a>, indent: usize, depth: usize) -> Option<Raw> {
        if line.text == "-" {
            self.at += 1;
            return self.nested(line, indent, false, depth);
        }
        let rest = &line.text[2..];
        let spaces = rest.len() - rest.trim_start_matches(' ').len();
        let rest = &rest[spaces..];
        let column = indent + 2 + spaces;
        if rest.is_empty() || is_dash(rest) || rest.starts_with('#') || rest.starts_with('|') {
            return None;
        }
        if split_key(rest).is_some() {
            // `- key: …`: a mapping at the item's column, its first key on this line.
            self.lines[self.at] = Line {
                number: line.number,
                indent: column,
                text: rest,
                raw: line.raw,
            };
            return self.mapping(column, depth + 1);
        }
        self.at += 1;
        let kind = inline(rest)?;
        self.no_continuation(indent)?;
        Some(Raw {
            pos: line.pos(column),
            kind,
        })
    }

    /// A literal block scalar after `key: |` (`clip`) or `key: |-`, in a mapping at `indent`.
    fn literal(&mut self, pos: Pos, indent: usize, clip: bool) -> Option<Raw> {
        let first = self.lines.get(self.at)?;
        if first.is_blank() || first.indent <= indent {
            return None;
        }
        let block_indent = first.indent;
        // The scalar's lines end at the first shorter non-blank line: sized before copying.
        let end = self.lines[self.at..]
            .iter()
            .position(|l| !l.is_blank() && l.indent < block_indent)
            .map_or(self.lines.len(), |n| self.at + n);
        let size: usize = self.lines[self.at..end]
            .iter()
            .map(|l| l.raw.len() + 1)
            .sum();
        let mut value = String::with_capacity(size);
        // Breaks seen since the last content line: the first is the content line's own.
        let mut breaks = 0usize;
        while self.at < end {
            let line = &self.lines[self.at];
            let content = if line.is_blank() {
                (line.raw.len() > block_indent).then(|| &line.raw[block_indent..])
            } else {
                Some(&line.raw[block_indent..])
            };
            self.at += 1;
            match content {
                Some(text) => {
                    for _ in 0..breaks {
                        value.push('\n');
                    }
                    value.push_str(text);
                    breaks = 1;
                }
                None => breaks += 1,
            }
        }
        if clip && !value.is_empty() {
            value.push('\n');
        }
        // A whitespace-only line right after the header that is shorter than the indentation
        // would be a leading empty line; those declined above, so `value` is not empty here
        // unless the content itself is.
        Some(Raw {
            pos,
            kind: RawKind::Scalar {
                value,
                tag: None,
                implicit: false,
            },
        })
    }
}

fn is_dash(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

/// `key: rest` or `key:` → the key's scalar and what follows `: ` (empty for `key:`).
fn split_key(text: &str) -> Option<(RawKind, &str)> {
    let (key, after) = if text.starts_with(['"', '\'']) {
        let (scalar, after) = quoted(text)?;
        (scalar, after.strip_prefix(':')?)
    } else {
        let colon = key_colon(text)?;
        let key = &text[..colon];
        if !is_plain_block(key) {
            return None;
        }
        (plain(key), &text[colon + 1..])
    };
    if key_source_too_long(text, after) {
        return None;
    }
    match after.strip_prefix(' ') {
        None if after.is_empty() => Some((key, "")),
        Some(rest) => {
            let rest = rest.trim_start_matches(' ');
            Some((key, rest))
        }
        None => None,
    }
}

/// Whether a key, from its first source byte (`line`'s start) to its `:` (just before
/// `after_colon`), spans more than [`MAX_KEY_SOURCE_BYTES`]. The scanners bound the source, quotes and
/// escapes included, not the decoded key, and one counts bytes where the other counts
/// characters: bytes are the stricter measure.
fn key_source_too_long(line: &str, after_colon: &str) -> bool {
    line.len() - after_colon.len() > MAX_KEY_SOURCE_BYTES
}

/// Where a plain key ends: the first `:` followed by a space or the end of the line.
fn key_colon(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    memchr::memchr_iter(b':', b).find(|&i| b.get(i + 1).is_none_or(|&c| c == b' '))
}

fn plain(text: &str) -> RawKind {
    RawKind::Scalar {
        value: text.to_string(),
        tag: None,
        implicit: true,
    }
}

/// A plain scalar libyaml reads, in block context, as exactly this whole text: no indicator
/// first (`-`, `?`, `:` only before a non-space), no `: ` or ` #` inside, no `:` or space last,
/// not a document marker.
fn is_plain_block(text: &str) -> bool {
    let b = text.as_bytes();
    let Some(&first) = b.first() else {
        return false;
    };
    let starts_ok = match first {
        b'-' | b'?' | b':' => b.get(1).is_some_and(|&c| c != b' '),
        b'!' | b'&' | b'*' | b'%' | b'@' | b'`' | b'|' | b'>' | b'#' | b',' | b'[' | b']'
        | b'{' | b'}' | b'\'' | b'"' | b' ' => false,
        _ => true,
    };
    if !starts_ok
        || matches!(b[b.len() - 1], b':' | b' ')
        || b.starts_with(b"---")
        || b.starts_with(b"...")
    {
        return false;
    }
    // `: ` and ` #` both have a space: only bytes next to a space need a look.
    !b.windows(2)
        .any(|w| (w[0] == b':' && w[1] == b' ') || (w[0] == b' ' && w[1] == b'#'))
}

/// A one-line value: flow collection, quoted or plain scalar.
fn inline(text: &str) -> Option<RawKind> {
    match text.as_bytes()[0] {
        b'[' | b'{' => flow(text),
        b'"' | b'\'' => {
            let (scalar, after) = quoted(text)?;
            after.is_empty().then_some(scalar)
        }
        _ => is_plain_block(text).then(|| plain(text)),
    }
}

/// A quoted scalar at the start of `text` (no backslash in a double-quoted one): the scalar
/// and what follows its closing quote.
fn quoted(text: &str) -> Option<(RawKind, &str)> {
    let quote = text.as_bytes()[0];
    let body = &text[1..];
    let (value, after) = if quote == b'"' {
        let end = body.find(['"', '\\'])?;
        if body.as_bytes()[end] == b'\\' {
            return None;
        }
        (body[..end].to_string(), &body[end + 1..])
    } else {
        let mut value = String::new();
        let mut rest = body;
        loop {
            let end = rest.find('\'')?;
            value.push_str(&rest[..end]);
            if rest[end + 1..].starts_with('\'') {
                value.push('\'');
                rest = &rest[end + 2..];
            } else {
                break (value, &rest[end + 1..]);
            }
        }
    };
    // libyaml folds runs of spaces only across lines; one line keeps them as they are.
    Some((
        RawKind::Scalar {
            value,
            tag: None,
            implicit: false,
        },
        after,
    ))
}

/// `[…]` or `{…}` on one line, of quoted scalars and plain ones of [`is_flow_plain`].
fn flow(text: &str) -> Option<RawKind> {
    let is_map = text.starts_with('{');
    let close = if is_map { '}' } else { ']' };
    let body = text[1..].strip_suffix(close)?;
    let mut rest = body.trim_start_matches(' ');
    let mut items = Vec::new();
    if rest.is_empty() {
        return Some(if is_map {
            RawKind::Map(Vec::new())
        } else {
            RawKind::Seq(Vec::new())
        });
    }
    loop {
        let (first, after) = flow_scalar(rest)?;
        let item = if is_map {
            let after = after.strip_prefix(':')?;
            if key_source_too_long(rest, after) {
                return None;
            }
            let after = after.strip_prefix(' ')?.trim_start_matches(' ');
            let (value, after) = flow_scalar(after)?;
            rest = after;
            FlowItem::Entry(first, value)
        } else {
            rest = after;
            FlowItem::Item(first)
        };
        items.push(item);
        rest = rest.trim_start_matches(' ');
        if rest.is_empty() {
            break;
        }
        rest = rest.strip_prefix(',')?.trim_start_matches(' ');
        if rest.is_empty() {
            // A trailing comma: left to the full reader.
            return None;
        }
    }
    let raw = |kind| Raw {
        pos: Pos::default(),
        kind,
    };
    Some(if is_map {
        RawKind::Map(
            items
                .into_iter()
                .filter_map(|i| match i {
                    FlowItem::Entry(k, v) => Some((raw(k), raw(v))),
                    FlowItem::Item(_) => None,
                })
                .collect(),
        )
    } else {
        RawKind::Seq(
            items
                .into_iter()
                .filter_map(|i| match i {
                    FlowItem::Item(v) => Some(raw(v)),
                    FlowItem::Entry(..) => None,
                })
                .collect(),
        )
    })
}

enum FlowItem {
    Item(RawKind),
    Entry(RawKind, RawKind),
}

/// A scalar at the start of `text` inside a flow collection, and what follows it.
fn flow_scalar(text: &str) -> Option<(RawKind, &str)> {
    if text.starts_with(['"', '\'']) {
        return quoted(text);
    }
    let end = text
        .find(|c: char| !is_flow_plain_char(c))
        .unwrap_or(text.len());
    let word = &text[..end];
    let starts_ok = match word.as_bytes().first()? {
        b'-' => word.len() > 1,
        _ => true,
    };
    starts_ok.then(|| (plain(word), &text[end..]))
}

fn is_flow_plain_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "._/+=~()$^-".contains(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse::parse_raw;
    use proptest::test_runner::{Config, TestRunner};
    use std::cell::Cell;

    /// The same tree, positions aside (they only place refusals, which the full reader makes).
    fn same(a: &Raw, b: &Raw) -> bool {
        match (&a.kind, &b.kind) {
            (
                RawKind::Scalar {
                    value: v1,
                    tag: t1,
                    implicit: i1,
                },
                RawKind::Scalar {
                    value: v2,
                    tag: t2,
                    implicit: i2,
                },
            ) => v1 == v2 && t1 == t2 && i1 == i2,
            (RawKind::Seq(x), RawKind::Seq(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
            }
            (RawKind::Map(x), RawKind::Map(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .zip(y)
                        .all(|((k1, v1), (k2, v2))| same(k1, k2) && same(v1, v2))
            }
            _ => false,
        }
    }

    /// What the fast reader gives, checked against the full reader: `Some(true)` when it read
    /// the text (and agreed), `None` when it declined; panics on a disagreement.
    fn agree(text: &str) -> Option<bool> {
        let quick = read(text)?;
        let full = parse_raw(text);
        match (&quick, &full) {
            (None, Ok(None)) => {}
            (Some(q), Ok(Some(f))) if same(q, f) => {}
            _ => panic!("the readers disagree on {text:?}:\nquick: {quick:?}\nfull: {full:?}"),
        }
        Some(quick.is_some())
    }

    #[test]
    fn reads_what_it_accepts_as_libyaml_does() {
        struct Case {
            text: &'static str,
            /// The fast reader takes it (else the full reader decides).
            quick: bool,
        }
        let cases = [
            Case {
                text: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels: {app: x, tier: \"on\"}\ndata:\n  main.py: |\n    import os\n\n      deeper # not a comment\n    ---\n    end: here\n\n  other: |-\n    x\n  n: 0755\n",
                quick: true,
            },
            Case {
                text: "---\n# Source: c/t.yaml\nspec:\n  containers:\n  - name: a\n    args: [--worker, \"x y\"]\n    env:\n    - {name: A, value: 'it''s'}\n  -   name: b\n    # a comment inside\n    image: i\n",
                quick: false,
            },
            Case {
                text: "spec:\n  containers:\n  - name: a\n    args: [--worker, \"x y\"]\n    env:\n    - {name: A, value: 'it''s'}\n  -   name: b\n      image: i\n  empty:\n  list:\n  -\n  - ~\nlast: \"\"\n",
                quick: true,
            },
            // Continuations, tags, anchors, escapes, folded and indented block scalars, tabs,
            // CRLF, a text cut short: the full reader's.
            Case {
                text: "# head\na: 1\n# between\nb:\n  # before a nested block\n  c: {}\n    # deeper\nd:\n  {}\ne: |\n  x\n# after a block scalar\nf:\n  [a, b]\ng: x\n  # ends the plain scalar\n",
                quick: true,
            },
            Case {
                text: "a:\n  {}\n  b: 1\n",
                quick: false,
            },
            Case {
                text: "a: b\n  c\n",
                quick: false,
            },
            Case {
                text: "a: !!str 1\n",
                quick: false,
            },
            Case {
                text: "a: &x 1\nb: *x\n",
                quick: false,
            },
            Case {
                text: "a: \"x\\ny\"\n",
                quick: false,
            },
            Case {
                text: "a: >\n  x\n",
                quick: false,
            },
            Case {
                text: "a: |2\n   x\n",
                quick: false,
            },
            Case {
                text: "a: |\n\n  x\n",
                quick: false,
            },
            Case {
                text: "a:\n\tb: 1\n",
                quick: false,
            },
            Case {
                text: "a: 1\r\n",
                quick: false,
            },
            Case {
                text: "a: |\n  x",
                quick: false,
            },
            Case {
                text: "a: [a, ]\n",
                quick: false,
            },
            Case {
                text: "a: x # c\n",
                quick: false,
            },
            Case {
                text: "- a\n",
                quick: false,
            },
            Case {
                text: "a: b\u{2028}c\n",
                quick: false,
            },
        ];
        for Case { text, quick } in cases {
            assert_eq!(agree(text).is_some(), quick, "{text:?}");
        }
    }

    #[test]
    fn keys_whose_source_nears_the_scanners_bound() {
        struct Case {
            name: &'static str,
            text: String,
            quick: bool,
        }
        let cases = [
            Case {
                name: "a plain block key under the bound",
                text: format!("{}: v\n", "a".repeat(990)),
                quick: true,
            },
            Case {
                name: "a plain block key over the bound",
                text: format!("{}: v\n", "a".repeat(1100)),
                quick: false,
            },
            Case {
                name: "doubled quotes: a short key, a long source",
                text: format!("'{}': v\n", "''".repeat(512)),
                quick: false,
            },
            Case {
                name: "two-byte characters: 600 characters, 1200 bytes",
                text: format!("{}: v\n", "\u{e9}".repeat(600)),
                quick: false,
            },
            Case {
                name: "a plain flow key over the bound",
                text: format!("x: {{{}: v}}\n", "a".repeat(1100)),
                quick: false,
            },
            Case {
                name: "a quoted flow key over the bound",
                text: format!("x: {{\"{}\": v}}\n", "b".repeat(1100)),
                quick: false,
            },
            Case {
                name: "a flow key under the bound",
                text: format!("x: {{{}: v}}\n", "a".repeat(990)),
                quick: true,
            },
        ];
        for Case { name, text, quick } in cases {
            assert_eq!(agree(&text).is_some(), quick, "{name}");
        }
    }

    /// A small deterministic generator (proptest drives the seeds and shrinks them).
    struct Gen(u64);

    impl Gen {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[self.below(items.len())]
        }
        fn chance(&mut self, percent: usize) -> bool {
            self.below(100) < percent
        }
    }

    const KEYS: &[&str] = &[
        "a", "kind", "name", "<<", "yes", "0755", "1e3", "~", "\"q\"", "'s'", "'it''s'", "-x",
        "?x", ":x", "? x", "&a k", "*a", "!!str k", "a b", "a #c", "k:", "x\u{e9}", "[a]",
        "{a: b}", "-", "- k", "---", "...", "%YAML", "#c", "\"\"", "a\"b", "null", "1", "\"1\"",
        "true", "on", "k\u{a0}", ".nan",
    ];
    const SCALARS: &[&str] = &[
        "v",
        "yes",
        "\"on\"",
        "'0755'",
        "0755",
        "[a, b]",
        "[]",
        "{}",
        "{a: b, c: \"d\"}",
        "[--worker]",
        "[a, ]",
        "[a: b]",
        "{a: }",
        "\"a\\nb\"",
        "\"a # b\"",
        "a # c",
        "a: b",
        "a:",
        "&x v",
        "*x",
        "!!int 3",
        "!!str 3",
        "-1",
        "? q",
        "http://x:80/p",
        "v ",
        "\u{85}",
        "\u{feff}",
        "\u{e9}t\u{e9}",
        "a\u{a0}b",
        "\"unterminated",
        "'x",
        "{{x}}",
        "@x",
        "`x",
        "%x",
        "1_000",
        ".5",
        "0x1F",
        "null",
        "<<",
        "[a, [b]]",
        "{a: {b: c}}",
        "- b: c",
        "[ ]",
        "{ a: b }",
        "[-]",
        "[--]",
        "[a b]",
        "[\"a\", 'b']",
        "{\"a\": b}",
        "a  b",
        "-",
        ":x",
        "x:y",
        "'a'' b'",
        "\"\"",
        "''",
        "2001-12-14",
        "1.5e3",
        "=",
        "~",
        "(x)",
    ];
    const BLOCK_LINES: &[&str] = &[
        "x",
        "",
        "# not a comment",
        "key: value",
        "---",
        "  deeper",
        "- item",
        "\"q\"",
        "...",
        "a\u{e9}",
        "   ",
        "tail  ",
    ];

    /// A generated document: a block structure with some lines broken on purpose.
    fn document(g: &mut Gen) -> String {
        let mut out = String::new();
        if g.chance(30) {
            out.push_str(g.pick(&[
                "---\n",
                "# Source: x/y.yaml\n",
                "\n",
                "--- # c\n",
                "---\n# c\n",
            ]));
        }
        mapping(g, &mut out, 0, 0, None);
        let mut lines: Vec<String> = out.split_inclusive('\n').map(str::to_string).collect();
        for _ in 0..g.below(3) {
            if lines.is_empty() || !g.chance(25) {
                continue;
            }
            let i = g.below(lines.len());
            match g.below(7) {
                0 => lines[i].insert(0, ' '),
                1 => {
                    let trimmed = lines[i].strip_prefix(' ').map(str::to_string);
                    if let Some(t) = trimmed {
                        lines[i] = t;
                    }
                }
                2 => lines.insert(
                    i,
                    format!(
                        "{}{}\n",
                        " ".repeat(g.below(5)),
                        g.pick(&["# c", "# c", "x", "- y", "k: v", "\t", "", "{}", "[a]"])
                    ),
                ),
                3 => {
                    lines.remove(i);
                }
                4 => lines[i] = lines[i].replace('\n', " \n"),
                5 => lines[i] = lines[i].replace('\n', "\r\n"),
                _ => lines[i] = lines[i].replacen(' ', "\t", 1),
            }
        }
        let mut text = lines.concat();
        if g.chance(3) {
            text.pop();
        }
        text
    }

    /// A key whose source spans about the scanners' 1024-position bound: plain, quoted with
    /// `''` doubling or escapes (source longer than the key), or of two-byte characters.
    fn long_key(g: &mut Gen) -> String {
        let span = 990 + g.below(50);
        match g.below(5) {
            0 => "a".repeat(span),
            1 => format!("'{}'", "''".repeat(span / 2)),
            2 => format!("\"{}\"", "\\t".repeat(span / 2)),
            3 => "\u{e9}".repeat(span / 2),
            _ => format!("'{}'", "\u{e9}".repeat(span / 2)),
        }
    }

    fn key(g: &mut Gen) -> String {
        if g.chance(3) {
            long_key(g)
        } else if g.chance(90) {
            [
                "a",
                "b",
                "c",
                "name",
                "image",
                "labels",
                "data",
                "spec",
                "app.kubernetes.io/name",
            ][g.below(9)]
            .to_string()
        } else {
            g.pick(KEYS).to_string()
        }
    }

    fn scalar(g: &mut Gen) -> String {
        if g.chance(2) {
            format!("{{{}: v}}", long_key(g))
        } else if g.chance(85) {
            [
                "v",
                "x-1",
                "\"quoted\"",
                "'single'",
                "8089",
                "true",
                "locustio/locust:2.32.2",
                "[a, b]",
                "{app: x}",
                "{}",
            ][g.below(10)]
            .to_string()
        } else {
            g.pick(SCALARS).to_string()
        }
    }

    /// A block mapping at `indent`; `first` is the text already written before its first key
    /// (a `- ` of a sequence item).
    fn mapping(g: &mut Gen, out: &mut String, indent: usize, depth: usize, first: Option<()>) {
        let n = 1 + g.below(4);
        for i in 0..n {
            if i > 0 || first.is_none() {
                out.push_str(&" ".repeat(indent));
            }
            out.push_str(&key(g));
            out.push_str(g.pick(&[": ", ": ", ": ", ": ", ": ", ":  ", " : "]));
            value(g, out, indent, depth);
        }
    }

    fn value(g: &mut Gen, out: &mut String, indent: usize, depth: usize) {
        match g.below(if depth > 3 { 3 } else { 6 }) {
            0 => {
                out.push_str(&scalar(g));
                out.push('\n');
            }
            1 => {
                // A flow collection or scalar alone on the next line.
                let trimmed = out.trim_end_matches(' ').len();
                out.truncate(trimmed);
                out.push('\n');
                out.push_str(&" ".repeat(indent + g.below(4)));
                out.push_str(g.pick(&["{}", "[]", "{a: b}", "[a, b]", "v", "\"q\"", "# c"]));
                out.push('\n');
            }
            2 => {
                out.push_str(g.pick(&["|", "|-", "|", "|-", "|", "|+", ">", "|2"]));
                out.push('\n');
                let block = indent + 1 + g.below(4);
                for _ in 0..1 + g.below(5) {
                    let line = g.pick(BLOCK_LINES);
                    if line.is_empty() {
                        out.push_str(&" ".repeat(g.below(block + 3)));
                    } else {
                        out.push_str(&" ".repeat(block + g.below(2) * g.below(3)));
                        out.push_str(line);
                    }
                    out.push('\n');
                }
            }
            3 => {
                // Trailing spaces after the colon are allowed.
                let trimmed = out.trim_end_matches(' ').len();
                out.truncate(trimmed);
                out.push('\n');
                let deeper = indent + 1 + g.below(3);
                mapping(g, out, deeper, depth + 1, None);
            }
            4 => {
                let trimmed = out.trim_end_matches(' ').len();
                out.truncate(trimmed);
                out.push('\n');
                let at = if g.chance(50) { indent } else { indent + 2 };
                sequence(g, out, at, depth + 1);
            }
            _ => {
                let trimmed = out.trim_end_matches(' ').len();
                out.truncate(trimmed);
                out.push('\n');
            }
        }
    }

    fn sequence(g: &mut Gen, out: &mut String, indent: usize, depth: usize) {
        for _ in 0..1 + g.below(3) {
            out.push_str(&" ".repeat(indent));
            let spaces = 1 + g.below(3) * g.below(2);
            match g.below(4) {
                0 => {
                    out.push('-');
                    out.push_str(&" ".repeat(spaces));
                    out.push_str(&scalar(g));
                    out.push('\n');
                }
                1 => {
                    out.push('-');
                    out.push('\n');
                    if g.chance(60) {
                        mapping(g, out, indent + 2, depth + 1, None);
                    }
                }
                _ => {
                    out.push('-');
                    out.push_str(&" ".repeat(spaces));
                    mapping(g, out, indent + 1 + spaces, depth + 1, Some(()));
                }
            }
        }
    }

    /// The differential property: on generated documents, broken on purpose in many ways, every
    /// one the fast reader takes reads exactly as the full reader reads it, and it takes a fair
    /// share of them (or the property would say little).
    #[test]
    fn agrees_with_the_full_reader_on_generated_documents() {
        let taken = Cell::new(0usize);
        let declined = Cell::new(0usize);
        let mut runner = TestRunner::new(Config {
            cases: 3000,
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&proptest::prelude::any::<u64>(), |seed| {
                let text = document(&mut Gen(seed | 1));
                match agree(&text) {
                    Some(_) => taken.set(taken.get() + 1),
                    None => declined.set(declined.get() + 1),
                }
                Ok(())
            })
            .unwrap();
        let (taken, declined) = (taken.get(), declined.get());
        assert!(
            taken * 10 >= taken + declined && declined * 10 >= taken + declined,
            "too one-sided to test much: {taken} taken, {declined} declined"
        );
    }
}
