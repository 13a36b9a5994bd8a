//! Where each field of a document is written, by field path, and which mapping keys are written
//! twice. Read from the document as written (before Go's decoding merges or drops anything), so
//! a finding can name `FILE:LINE:COL` and a duplicate key can name both of its lines.

use super::parse::{Pos, Raw, RawKind, parse_raw};
use super::{Node, ParseError};
use crate::diag::join;
use std::collections::HashMap;

/// A (line, column) in the text, 1-based.
pub type LineCol = (usize, usize);

/// A key written twice in one mapping: its path, where first, where again.
pub type Duplicate = (String, LineCol, LineCol);

/// Field path → (line, column) of the key (or the sequence item), 1-based.
#[derive(Debug, Default)]
pub struct Positions {
    at: HashMap<String, LineCol>,
    /// (path of the key, first, second) for every key written again in the same mapping.
    pub duplicates: Vec<Duplicate>,
}

/// `snake_case` → `lowerCamelCase`: the spec's canonical spelling of a protobuf field name.
fn camel(key: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in key.chars() {
        match (c, upper) {
            ('_', _) => upper = true,
            (c, true) => {
                out.extend(c.to_uppercase());
                upper = false;
            }
            (c, false) => out.push(c),
        }
    }
    out
}

fn at(p: Pos) -> (usize, usize) {
    (p.line, p.column)
}

/// A file holding one document: Go's reading of it (as [`super::parse_single`]) and where each
/// field is written, from one parse.
pub fn parse_single_with_positions(text: &str) -> Result<(Node, Positions), ParseError> {
    let raw = parse_raw(text)?.ok_or_else(|| ParseError {
        line: 1,
        column: 1,
        message: "the file holds no YAML document".into(),
    })?;
    let node = super::go::decode(&raw)?;
    let mut p = Positions::default();
    p.walk(&raw, "", "");
    Ok((node, p))
}

impl Positions {
    /// The positions in `text` (one document).
    pub fn of(text: &str) -> Result<Positions, ParseError> {
        let mut p = Positions::default();
        if let Some(root) = parse_raw(text)? {
            p.walk(&root, "", "");
        }
        Ok(p)
    }

    /// `path` as written and in canonical spelling both point at the same place.
    fn walk(&mut self, node: &Raw, written: &str, canonical: &str) {
        match &node.kind {
            RawKind::Scalar { .. } => {}
            RawKind::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    let (w, c) = (format!("{written}[{i}]"), format!("{canonical}[{i}]"));
                    self.record(&w, &c, item.pos);
                    self.walk(item, &w, &c);
                }
            }
            RawKind::Map(entries) => {
                let mut seen: HashMap<&str, Pos> = HashMap::new();
                for (key, value) in entries {
                    let RawKind::Scalar { value: k, .. } = &key.kind else {
                        continue;
                    };
                    if k == "<<" {
                        continue;
                    }
                    let (w, c) = (join(written, k), join(canonical, &camel(k)));
                    if let Some(first) = seen.insert(k, key.pos) {
                        self.duplicates.push((w.clone(), at(first), at(key.pos)));
                        // Go keeps the last block and drops the first: findings about the
                        // value are about the second block, so its positions replace the first's.
                        self.forget(&w);
                        self.forget(&c);
                    }
                    self.record(&w, &c, key.pos);
                    self.walk(value, &w, &c);
                }
            }
        }
    }

    /// Drops `path` and everything under it.
    fn forget(&mut self, path: &str) {
        self.at.retain(|p, _| {
            p.strip_prefix(path)
                .is_none_or(|rest| !(rest.is_empty() || rest.starts_with(['.', '['])))
        });
    }

    fn record(&mut self, written: &str, canonical: &str, pos: Pos) {
        self.at.entry(written.to_string()).or_insert(at(pos));
        self.at.entry(canonical.to_string()).or_insert(at(pos));
    }

    /// Where `path` is written, or its nearest written ancestor (a missing field's parent).
    pub fn find(&self, path: &str) -> Option<(usize, usize)> {
        let mut p = path;
        loop {
            if let Some(found) = self.at.get(p) {
                return Some(*found);
            }
            let cut = p.rfind(['.', '['])?;
            p = &p[..cut];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_in_both_spellings_and_ancestors() {
        let text = "spec:\n  load_test:\n    name: x\n    pip_packages:\n      - a\n      - b\n  helmValues:\n    a.b: 1\n";
        let p = Positions::of(text).unwrap();
        assert_eq!(p.find("spec.load_test.name"), Some((3, 5)));
        assert_eq!(p.find("spec.loadTest.name"), Some((3, 5)));
        assert_eq!(p.find("spec.loadTest.pipPackages[1]"), Some((6, 9)));
        assert_eq!(p.find("spec.helmValues[\"a.b\"]"), Some((8, 5)));
        // A missing field: its parent.
        assert_eq!(p.find("spec.loadTest.host"), Some((2, 3)));
        assert_eq!(p.find("kind"), None);
        assert!(p.duplicates.is_empty());
    }

    #[test]
    fn a_key_written_twice_is_placed_where_go_reads_it_the_last_block() {
        struct Case {
            path: &'static str,
            at: Option<(usize, usize)>,
        }
        let text = "spec:\n  load_test:\n    name: a\n    host: h\n  loadTest2: {}\n  load_test:\n    name: b\n  items: [x, y]\n  items:\n    - z\nspecs: 1\n";
        let p = Positions::of(text).unwrap();
        for Case { path, at } in [
            // A field of the second block: the second block's line, in both spellings.
            Case {
                path: "spec.load_test.name",
                at: Some((7, 5)),
            },
            Case {
                path: "spec.loadTest.name",
                at: Some((7, 5)),
            },
            // Only in the first block (Go drops it): its nearest ancestor, the second key.
            Case {
                path: "spec.loadTest.host",
                at: Some((6, 3)),
            },
            Case {
                path: "spec.loadTest",
                at: Some((6, 3)),
            },
            // A key sharing the prefix is not forgotten.
            Case {
                path: "spec.loadTest2",
                at: Some((5, 3)),
            },
            Case {
                path: "spec.items[0]",
                at: Some((10, 7)),
            },
            Case {
                path: "spec.items[1]",
                at: Some((9, 3)),
            },
            Case {
                path: "specs",
                at: Some((11, 1)),
            },
        ] {
            assert_eq!(p.find(path), at, "{path}");
        }
    }

    #[test]
    fn duplicate_keys_name_both_lines() {
        let p = Positions::of("a:\n  b: 1\n  c: 2\n  b: 3\nd: [1]\nd: 2\n").unwrap();
        assert_eq!(
            p.duplicates,
            [
                ("a.b".to_string(), (2, 3), (4, 3)),
                ("d".to_string(), (5, 1), (6, 1))
            ]
        );
    }
}
