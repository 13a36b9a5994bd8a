//! The multi-document manifest stream: split into documents at `---` lines without parsing, so
//! that documents nobody changes can be written back byte for byte, and find the leading
//! `---`/comment lines (`# Source:`) that a rewritten document keeps.

/// One document as it appears in the stream, separator line included.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawDoc<'a> {
    /// 1-based position in the stream.
    pub index: usize,
    /// 1-based line of the stream where the document (its separator) starts.
    pub start_line: usize,
    pub text: &'a str,
}

/// `---` alone, or followed by white space (a comment or content may follow).
fn is_separator(line: &str) -> bool {
    let line = line.strip_suffix('\r').unwrap_or(line);
    line == "---" || line.starts_with("--- ") || line.starts_with("---\t")
}

/// Splits a stream; a leading byte-order mark is dropped.
pub fn split(input: &str) -> Vec<RawDoc<'_>> {
    let input = input.strip_prefix('\u{feff}').unwrap_or(input);
    let mut docs = Vec::new();
    let mut start = 0;
    let mut start_line = 1;
    let mut offset = 0;
    for (line_no, line) in (1..).zip(input.split_inclusive('\n')) {
        if is_separator(line.trim_end_matches('\n')) && offset > start {
            docs.push(RawDoc {
                index: docs.len() + 1,
                start_line,
                text: &input[start..offset],
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
        });
    }
    docs
}

/// The leading lines a rewritten document keeps: its separator (without any content after it)
/// and the comments and blank lines before the first content line (Helm 3's `# Source:`).
pub fn header(text: &str) -> String {
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        if is_separator(bare) {
            let rest = bare[3..].trim_start();
            if rest.is_empty() || rest.starts_with('#') {
                out.push_str(line);
            } else {
                out.push_str("---\n");
            }
        } else if bare.trim().is_empty() || bare.trim_start().starts_with('#') {
            out.push_str(line);
        } else {
            break;
        }
    }
    out
}

/// The value of a top-level `kind:` line, found without parsing (a quick filter; callers parse
/// when it says nothing).
pub fn top_level_kind(text: &str) -> Option<&str> {
    text.lines().find_map(|l| {
        let v = l.strip_prefix("kind:")?.trim();
        let v = v.split(" #").next().unwrap_or(v).trim();
        Some(v.trim_matches(|c| c == '"' || c == '\''))
    })
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
    fn splits_keep_every_byte() {
        let input = "a: 1\n---\n# Source: x\nb: 2\n--- # note\nc: 3\n---\n";
        let docs = split(input);
        assert_eq!(docs.iter().map(|d| d.text).collect::<String>(), input);
        assert_eq!(docs.len(), 4);
        assert_eq!(docs[1].start_line, 2);
        assert_eq!(source_comment(docs[1].text), Some("x"));
        assert_eq!(header(docs[2].text), "--- # note\n");
    }

    #[test]
    fn separators_need_whitespace_after_dashes() {
        let docs = split("a: |\n  ---x\n----\nb: 1\n");
        assert_eq!(docs.len(), 1);
    }

    #[test]
    fn crlf_and_bom() {
        let docs = split("\u{feff}---\r\na: 1\r\n---\r\nb: 2\r\n");
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].text, "---\r\nb: 2\r\n");
        assert_eq!(
            top_level_kind("apiVersion: v1\r\nkind: \"Pod\"\r\n"),
            Some("Pod")
        );
    }

    #[test]
    fn header_drops_content_after_separator() {
        assert_eq!(header("--- {a: 1}\n"), "---\n");
        assert_eq!(
            header("---\n# Source: t.yaml\n\nkind: X\n"),
            "---\n# Source: t.yaml\n\n"
        );
    }
}
