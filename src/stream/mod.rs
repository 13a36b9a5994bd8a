//! The multi-document manifest stream: split into documents at `---` lines without parsing, so
//! that documents nobody changes can be written back byte for byte, and find the leading
//! `---`/comment lines (`# Source:`) that a rewritten document keeps; and (`objects`) the
//! objects Kubernetes creates from each decoded document.

use std::borrow::Cow;

pub mod objects;

/// One document as it appears in the stream, separator line included.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawDoc<'a> {
    /// 1-based position in the stream.
    pub index: usize,
    /// 1-based line of the stream where the document (its separator) starts.
    pub start_line: usize,
    pub text: &'a str,
    /// Kubernetes' reader drops this document's first line, a separator that ended the document
    /// before. A separator it meets with nothing read yet (the stream's first line, or right
    /// after a dropped one) it keeps as the document's text, for the YAML parser to read.
    pub drops_separator: bool,
}

impl<'a> RawDoc<'a> {
    /// The text Kubernetes decodes: without the separator line its reader dropped. The line is
    /// blanked, not removed, so parser positions stay stream lines; YAML itself would read
    /// `---#c` or `---` + a no-break space as content, where Kubernetes' reader saw a separator.
    pub fn yaml(&self) -> Cow<'a, str> {
        if !self.drops_separator {
            return Cow::Borrowed(self.text);
        }
        let first = self.text.split_inclusive('\n').next().unwrap_or("");
        let ending = &first[first.trim_end_matches(['\r', '\n']).len()..];
        Cow::Owned(format!("{ending}{}", &self.text[first.len()..]))
    }

    /// The text after the separator line Kubernetes' reader dropped (the whole text when it
    /// dropped none): for a reader to which a blank first line and no first line are the same.
    pub fn without_dropped_separator(&self) -> &'a str {
        if !self.drops_separator {
            return self.text;
        }
        self.text.split_once('\n').map_or("", |(_, rest)| rest)
    }
}

/// Kubernetes' separator rule: a line that starts with `---` ends a document when what follows
/// the dashes, trimmed of white space as Go's `strings.TrimSpace` trims it (every Unicode space,
/// `\r`, U+0085, U+00A0, U+3000 …), is empty or starts with `#`. So `---#c`, `---\r#c` and `---`
/// followed by a no-break space are separators too. Anything else after the dashes is refused.
fn separator_rest(line: &str) -> Option<&str> {
    line.strip_prefix("---").map(str::trim)
}

fn is_separator(line: &str) -> bool {
    separator_rest(line).is_some_and(|rest| rest.is_empty() || rest.starts_with('#'))
}

/// How far Kubernetes' reader looks for a leading `{` before it decides the stream is JSON.
const JSON_SNIFF_BYTES: usize = 4096;

/// Kubernetes reads a stream whose first non-space character (within its first 4096 bytes) is
/// `{` as a sequence of JSON values, not as `---`-separated YAML documents.
pub fn is_json_stream(input: &str) -> bool {
    let mut end = input.len().min(JSON_SNIFF_BYTES);
    // Go looks at bytes: a character cut at the boundary is not a space, so it ends the search.
    while !input.is_char_boundary(end) {
        end -= 1;
    }
    input[..end].trim_start().starts_with('{')
}

/// A stream Kubernetes' reader refuses as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitError {
    /// The document the bad line would start (1-based).
    pub document: usize,
    pub line: usize,
    pub message: String,
}

/// Splits a stream as Kubernetes' manifest reader does; a leading byte-order mark is dropped.
/// That reader (apimachinery's YAMLReader, used by kubectl, Helm, Flux and Argo CD) ends a
/// document at every line [`is_separator`] accepts, and refuses the stream when anything but
/// white space or a comment follows the dashes (`--- {a: 1}`, `----`): so does this. A stream
/// that starts with `{` is read by Kubernetes as JSON values, where `---` is an error: refused.
pub fn split(input: &str) -> Result<Vec<RawDoc<'_>>, SplitError> {
    // Decided before the mark is dropped: to Go a byte-order mark is not white space.
    let json = is_json_stream(input);
    let input = input.strip_prefix('\u{feff}').unwrap_or(input);
    let mut docs = Vec::new();
    let mut start = 0;
    let mut start_line = 1;
    let mut offset = 0;
    for (line_no, line) in (1..).zip(lines(input)) {
        // Only a line that starts with `---` can end a document or be refused.
        if !line.starts_with("---") {
            offset += line.len();
            continue;
        }
        let bare = line.trim_end_matches('\n');
        if let Some(rest) = separator_rest(bare) {
            let error = if json {
                Some("a stream that starts with `{` is decoded by Kubernetes as JSON values before any YAML, so its `---` lines would not split it as they split YAML: refused (start the stream with a YAML document, or send one JSON object)".to_string())
            } else if !rest.is_empty() && !rest.starts_with('#') {
                Some(format!(
                    "invalid YAML document separator: `{}` (Kubernetes' reader allows only a comment after `---`)",
                    line.trim_end()
                ))
            } else {
                None
            };
            if let Some(why) = error {
                return Err(SplitError {
                    document: docs.len() + 2,
                    line: line_no,
                    message: format!("line {line_no}: {why}"),
                });
            }
        }
        if is_separator(bare) && offset > start {
            docs.push(RawDoc {
                index: docs.len() + 1,
                start_line,
                text: &input[start..offset],
                drops_separator: false,
            });
            start = offset;
            start_line = line_no;
        }
        offset += line.len();
    }
    if offset > start {
        docs.push(RawDoc {
            index: docs.len() + 1,
            start_line,
            text: &input[start..offset],
            drops_separator: false,
        });
    }
    mark_dropped_separators(&mut docs);
    Ok(docs)
}

/// The lines of `input`, each with its `\n` (the last one without, when the input does not end
/// with one): `split_inclusive('\n')`, with the breaks found by memchr.
fn lines(input: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    memchr::memchr_iter(b'\n', input.as_bytes())
        .map(Some)
        .chain(std::iter::once(None))
        .filter_map(move |end| {
            let from = start;
            match end {
                Some(end) => {
                    start = end + 1;
                    Some(&input[from..=end])
                }
                None => (from < input.len()).then(|| &input[from..]),
            }
        })
}

/// Which documents' separator lines Kubernetes' reader drops: one that ends a document holding
/// anything it read (a line, even blank); the stream's first line is never one.
fn mark_dropped_separators(docs: &mut [RawDoc]) {
    let mut read_before = false;
    for doc in docs {
        let mut lines = doc.text.split_inclusive('\n');
        let first = lines.next().unwrap_or("");
        doc.drops_separator = read_before && is_separator(first.trim_end_matches('\n'));
        // What the reader holds when the next separator comes: this document's lines, less a
        // dropped separator.
        read_before = !doc.drops_separator || lines.next().is_some();
    }
}

/// The leading lines a rewritten document keeps: its separator and the comments and blank lines before the first content line (Helm 3's `# Source:`).
pub fn header(text: &str) -> String {
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        // `split` refused any content after a separator but a comment.
        if is_separator(bare) || bare.trim().is_empty() || bare.trim_start().starts_with('#') {
            out.push_str(line);
        } else {
            break;
        }
    }
    out
}

/// Helm 3's `# Source: path` comment, if the document has one before its content.
pub fn source_comment(text: &str) -> Option<&str> {
    header_lines(text)
        .find_map(|l| l.trim_start().strip_prefix("# Source: "))
        .map(str::trim_end)
}

fn header_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .take_while(|l| l.trim().is_empty() || l.trim_start().starts_with('#') || is_separator(l))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_separator_line_is_left_out() {
        struct Case {
            input: &'static str,
            /// `without_dropped_separator` of each document.
            texts: &'static [&'static str],
        }
        for Case { input, texts } in [
            Case {
                input: "a: 1\n---\nb: 2\n",
                texts: &["a: 1\n", "b: 2\n"],
            },
            // The stream's first separator is kept (it is read as YAML); a second in a row too.
            Case {
                input: "--- # c\na: 1\n--- #x\n---\n",
                texts: &["--- # c\na: 1\n", "", "---\n"],
            },
        ] {
            let docs = split(input).unwrap();
            let got: Vec<&str> = docs.iter().map(RawDoc::without_dropped_separator).collect();
            assert_eq!(got, texts, "{input:?}");
        }
    }

    #[test]
    fn lines_are_split_inclusive_lines() {
        struct Case {
            input: &'static str,
            lines: &'static [&'static str],
        }
        for Case { input, lines: want } in [
            Case {
                input: "",
                lines: &[],
            },
            Case {
                input: "a",
                lines: &["a"],
            },
            Case {
                input: "a\n",
                lines: &["a\n"],
            },
            Case {
                input: "a\r\n\nb",
                lines: &["a\r\n", "\n", "b"],
            },
            Case {
                input: "\n\n",
                lines: &["\n", "\n"],
            },
        ] {
            let got: Vec<&str> = lines(input).collect();
            assert_eq!(got, want, "{input:?}");
            assert_eq!(got, input.split_inclusive('\n').collect::<Vec<_>>());
        }
    }

    #[test]
    fn splits_keep_every_byte() {
        let input = "a: 1\n---\n# Source: x\nb: 2\n--- # note\nc: 3\n---\n";
        let docs = split(input).unwrap();
        assert_eq!(docs.iter().map(|d| d.text).collect::<String>(), input);
        assert_eq!(docs.len(), 4);
        assert_eq!(docs[1].start_line, 2);
        assert_eq!(source_comment(docs[1].text), Some("x"));
        assert_eq!(header(docs[2].text), "--- # note\n");
    }

    #[test]
    fn content_after_a_separator_is_refused() {
        // kubectl: "invalid Yaml document separator".
        assert_eq!(split("a: |\n  ---x\nb: 1\n").unwrap().len(), 1);
        for bad in ["a: 1\n----\nb: 1\n", "a: 1\n--- {b: 1}\n", "a: 1\n---x\n"] {
            let e = split(bad).unwrap_err();
            assert_eq!((e.document, e.line), (2, 2), "{bad}");
            assert!(
                e.message.contains("invalid YAML document separator"),
                "{e:?}"
            );
        }
        assert_eq!(
            split("a: 1\n--- # note\nb: 1\n---\t\nc: 1\n")
                .unwrap()
                .len(),
            3
        );
    }

    #[test]
    fn crlf_and_bom() {
        let docs = split("\u{feff}---\r\na: 1\r\n---\r\nb: 2\r\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].text, "---\r\nb: 2\r\n");
    }

    #[test]
    fn header_keeps_separator_and_comments() {
        assert_eq!(header("--- # c\n"), "--- # c\n");
        assert_eq!(
            header("---\n# Source: t.yaml\n\nkind: X\n"),
            "---\n# Source: t.yaml\n\n"
        );
    }

    /// (what the row shows, a stream, each document as `<index>@<line>: <text>` or the error
    /// as `error <document>@<line>: <message>`).
    #[test]
    fn split_table() {
        let rows: &[(&str, &str, &[&str])] = &[
            ("nothing", "", &[]),
            (
                "one document, no separator",
                "a: 1\n",
                &["1@1: \"a: 1\\n\""],
            ),
            (
                "a leading separator starts the first document",
                "---\na: 1\n",
                &["1@1: \"---\\na: 1\\n\""],
            ),
            (
                "content before the first separator is a document",
                "# c\n---\na: 1\n",
                &["1@1: \"# c\\n\"", "2@2: \"---\\na: 1\\n\""],
            ),
            (
                "a separator with a comment, or white space",
                "a: 1\n--- # x\nb: 1\n---\t\nc: 1\n",
                &[
                    "1@1: \"a: 1\\n\"",
                    "2@2: \"--- # x\\nb: 1\\n\"",
                    "3@4: \"---\\t\\nc: 1\\n\"",
                ],
            ),
            (
                "empty documents are kept",
                "---\n---\n",
                &["1@1: \"---\\n\"", "2@2: \"---\\n\""],
            ),
            (
                "a last separator without a newline",
                "a: 1\n---",
                &["1@1: \"a: 1\\n\"", "2@2: \"---\""],
            ),
            (
                "`---` inside a block scalar is content only when indented",
                "a: |\n  ---\nb: 1\n",
                &["1@1: \"a: |\\n  ---\\nb: 1\\n\""],
            ),
            (
                "`...` and an indented `---` are not separators",
                "a: 1\n...\n ---\n",
                &["1@1: \"a: 1\\n...\\n ---\\n\""],
            ),
            (
                "CRLF line ends",
                "a: 1\r\n---\r\nb: 1\r\n",
                &["1@1: \"a: 1\\r\\n\"", "2@2: \"---\\r\\nb: 1\\r\\n\""],
            ),
            (
                "a byte-order mark is dropped",
                "\u{feff}a: 1\n",
                &["1@1: \"a: 1\\n\""],
            ),
            (
                "a comment right after the dashes",
                "a: 1\n---#x\nb: 1\n",
                &["1@1: \"a: 1\\n\"", "2@2: \"---#x\\nb: 1\\n\""],
            ),
            (
                "a carriage return before the comment (Go's TrimSpace removes it)",
                "a: 1\n---\r#x\nb: 1\n",
                &["1@1: \"a: 1\\n\"", "2@2: \"---\\r#x\\nb: 1\\n\""],
            ),
            (
                "Unicode spaces after the dashes: NEL, no-break space, ideographic space",
                "a: 1\n---\u{85}\nb: 1\n---\u{a0}# c\nc: 1\n---\u{3000}\nd: 1\n",
                &[
                    "1@1: \"a: 1\\n\"",
                    "2@2: \"---\\u{85}\\nb: 1\\n\"",
                    "3@4: \"---\\u{a0}# c\\nc: 1\\n\"",
                    "4@6: \"---\\u{3000}\\nd: 1\\n\"",
                ],
            ),
            (
                "a zero-width space is not white space to Go: refused",
                "a: 1\n---\u{200b}\nb: 1\n",
                &[
                    "error 2@2: line 2: invalid YAML document separator: `---\u{200b}` (Kubernetes' reader allows only a comment after `---`)",
                ],
            ),
            (
                "one JSON object",
                " \n{\"a\": 1}\n",
                &["1@1: \" \\n{\\\"a\\\": 1}\\n\""],
            ),
            (
                "a JSON stream has no separators",
                "{\"a\": 1}\n---\n{\"b\": 1}\n",
                &[
                    "error 2@2: line 2: a stream that starts with `{` is decoded by Kubernetes as JSON values before any YAML, so its `---` lines would not split it as they split YAML: refused (start the stream with a YAML document, or send one JSON object)",
                ],
            ),
            (
                "a JSON document after a YAML one is YAML to Kubernetes",
                "a: 1\n---\n{\"b\": 1}\n",
                &["1@1: \"a: 1\\n\"", "2@2: \"---\\n{\\\"b\\\": 1}\\n\""],
            ),
            (
                "a byte-order mark before `{`: not JSON to Go",
                "\u{feff}{\"a\": 1}\n---\nb: 1\n",
                &["1@1: \"{\\\"a\\\": 1}\\n\"", "2@2: \"---\\nb: 1\\n\""],
            ),
            (
                "content after the dashes is refused, naming the document it would start",
                "a: 1\n---\nb: 1\n--- |\nc\n",
                &[
                    "error 3@4: line 4: invalid YAML document separator: `--- |` (Kubernetes' reader allows only a comment after `---`)",
                ],
            ),
            (
                "so are more dashes",
                "----\n",
                &[
                    "error 2@1: line 1: invalid YAML document separator: `----` (Kubernetes' reader allows only a comment after `---`)",
                ],
            ),
        ];
        let mut failed = Vec::new();
        for (what, input, want) in rows {
            let got: Vec<String> = match split(input) {
                Ok(docs) => docs
                    .iter()
                    .map(|d| format!("{}@{}: {:?}", d.index, d.start_line, d.text))
                    .collect(),
                Err(e) => vec![format!("error {}@{}: {}", e.document, e.line, e.message)],
            };
            if got != *want {
                failed.push(format!("- {what}: {got:#?}"));
            }
        }
        assert!(failed.is_empty(), "{}", failed.join("\n"));
    }

    /// (what the row shows, a stream, the text Kubernetes decodes of its last document).
    #[test]
    fn yaml_table() {
        let rows: &[(&str, &str, &str)] = &[
            ("no separator", "a: 1\n", "a: 1\n"),
            ("a plain separator", "x: 1\n---\na: 1\n", "\na: 1\n"),
            (
                "a comment glued to the dashes",
                "x: 1\n---#c\na: 1\n",
                "\na: 1\n",
            ),
            (
                "CRLF is kept",
                "x: 1\r\n--- # c\r\na: 1\r\n",
                "\r\na: 1\r\n",
            ),
            ("a no-break space", "x: 1\n---\u{a0}\na: 1\n", "\na: 1\n"),
            ("a last separator", "x: 1\n---", ""),
            (
                "the stream's first line is kept, even as a separator",
                "---#c\na: 1\n",
                "---#c\na: 1\n",
            ),
            (
                "a separator right after a dropped one is kept",
                "x: 1\n---#a\n---#b\na: 1\n",
                "---#b\na: 1\n",
            ),
            (
                "after a blank line it is dropped again",
                "x: 1\n---#a\n\n---#b\na: 1\n",
                "\na: 1\n",
            ),
        ];
        let mut failed = Vec::new();
        for (what, input, want) in rows {
            let docs = split(input).unwrap();
            let got = docs.last().unwrap().yaml();
            if got != *want {
                failed.push(format!("- {what}: {got:?}"));
            }
        }
        assert!(failed.is_empty(), "{}", failed.join("\n"));
    }

    /// (what the row shows, a document, the header a rewrite keeps, its `# Source:` path).
    #[test]
    fn header_table() {
        let rows: &[(&str, &str, &str, Option<&str>)] = &[
            ("no header", "a: 1\n", "", None),
            (
                "Helm 3's separator and source",
                "---\n# Source: c/templates/d.yaml\na: 1\n",
                "---\n# Source: c/templates/d.yaml\n",
                Some("c/templates/d.yaml"),
            ),
            (
                "blank lines and other comments belong to it",
                "--- # n\n\n# x\n# Source: t.yaml  \r\na: 1\n# Source: not.yaml\n",
                "--- # n\n\n# x\n# Source: t.yaml  \r\n",
                Some("t.yaml"),
            ),
            (
                "a source comment after the content is not the header's",
                "a: 1\n# Source: t.yaml\n",
                "",
                None,
            ),
        ];
        let mut failed = Vec::new();
        for (what, doc, head, source) in rows {
            if header(doc) != *head || source_comment(doc) != *source {
                failed.push(format!(
                    "- {what}: {:?} {:?}",
                    header(doc),
                    source_comment(doc)
                ));
            }
        }
        assert!(failed.is_empty(), "{}", failed.join("\n"));
    }
}
