//! The post-renderer: Helm's rendered stream in, the same stream out with every pod hardened and
//! stamped with a hash of the scripts it runs. Documents no filter changes are copied byte for
//! byte; changed ones keep their `---`/`# Source:` header (Helm 3) and every field, including
//! Helm 4's `postrenderer.helm.sh/postrender-filename` annotation.
//!
//! The pipeline, in order, per object (items of a `kind: List` are objects too):
//! 1. [`harden`]: restricted profile, non-root, no service-account token, writable emptyDirs;
//! 2. [`rollout_hash`]: `locust.project-planton.org/scripts-sha256` on every pod template;
//! 3. [`chart_check`]: the chart version against `charts-lock/`.

pub mod chart_check;
pub mod harden;
pub mod pod;
pub use pod::name_of;
pub mod rollout_hash;

use crate::limits::{MAX_DOCUMENT_BYTES, MAX_STREAM_BYTES, mib};
use crate::manifest::{RawDoc, header, source_comment, split};
use crate::yaml::{Node, emit_document, parse_document};
pub use harden::Profile;
use rollout_hash::DataIndex;
use std::borrow::Cow;
use std::fmt;

pub const FILENAME_ANNOTATION: &str = "postrenderer.helm.sh/postrender-filename";

#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub profile: Profile,
    /// An unverified chart version is an error instead of a warning.
    pub strict_chart: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            profile: Profile {
                uid: crate::values::RUN_AS_USER,
                high_uid: false,
            },
            strict_chart: false,
        }
    }
}

#[derive(Debug, Default)]
pub struct Outcome<'a> {
    /// The output stream in pieces: unchanged documents borrow the input (no copy, so memory
    /// stays near the input's size), rewritten ones are owned.
    pub segments: Vec<Cow<'a, str>>,
    pub warnings: Vec<String>,
}

impl Outcome<'_> {
    /// The whole output stream as one string.
    pub fn text(&self) -> String {
        self.segments.concat()
    }
}

/// Why the stream was rejected; `Display` names the document, its source, line and reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostRenderError {
    /// 1-based document number (0: the stream as a whole).
    pub document: usize,
    pub source: Option<String>,
    /// 1-based line in the input stream.
    pub line: usize,
    pub reasons: Vec<String>,
}

impl fmt::Display for PostRenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.document == 0 {
            return write!(f, "{}", self.reasons.join("; "));
        }
        write!(f, "document {} (line {}", self.document, self.line)?;
        if let Some(s) = &self.source {
            write!(f, ", {s}")?;
        }
        write!(f, "): ")?;
        if self.reasons.len() == 1 {
            write!(f, "{}", self.reasons[0])
        } else {
            self.reasons.iter().try_for_each(|r| write!(f, "\n  - {r}"))
        }
    }
}

impl std::error::Error for PostRenderError {}

/// Post-renders a whole stream. On error nothing is returned: callers print nothing to stdout.
///
/// Every document is read once, as Go reads it. The first pass records the data of every
/// ConfigMap and Secret (for the hashes) and keeps the documents that hold pod specs or
/// ServiceAccounts; the second runs the filters on those. A document no filter changes is copied
/// byte for byte, whatever it holds (merge keys, tags, anchors): Go reads it as the filters did.
/// A changed one is written from Go's reading, so it keeps every value as Kubernetes saw it.
pub fn post_render<'a>(input: &'a str, options: &Options) -> Result<Outcome<'a>, PostRenderError> {
    if input.len() > MAX_STREAM_BYTES {
        return Err(stream_error(format!(
            "the stream is {}, more than the {} locust-planton post-renders (README \"Input limits\")",
            mib(input.len()),
            mib(MAX_STREAM_BYTES)
        )));
    }
    let docs = split(input).map_err(|e| PostRenderError {
        document: e.document,
        source: None,
        line: e.line,
        reasons: vec![e.message],
    })?;
    let mut data = DataIndex::default();
    let mut objects = 0;
    let mut unverified: Option<String> = None;
    // The documents the filters may change, by position.
    let mut held: Vec<Option<Node>> = Vec::with_capacity(docs.len());
    for doc in &docs {
        let Some(mut node) = parse(doc)? else {
            held.push(None);
            continue;
        };
        let mut holds_pods = false;
        for obj in objects_mut(&mut node).map_err(|r| fail(doc, &node_source(doc), vec![r]))? {
            objects += 1;
            data.record(obj);
            if unverified.is_none() {
                unverified = chart_check::unverified_version(obj);
            }
            holds_pods |= pod::kind_of(obj) == Some("ServiceAccount")
                || pod::pod_specs(obj).map_or(true, |s| !s.is_empty());
        }
        held.push(holds_pods.then_some(node));
    }
    if objects == 0 {
        return Err(stream_error(
            "no Kubernetes objects on stdin; refusing to print an empty manifest (Helm 3 would delete every resource of the release on upgrade). Note: `helm template --output-dir` sends post-renderers nothing".into(),
        ));
    }
    let mut out = Outcome {
        segments: Vec::with_capacity(docs.len()),
        ..Outcome::default()
    };
    let mut written = 0;
    for (doc, node) in docs.iter().zip(held) {
        let Some(mut node) = node else {
            out.segments.push(Cow::Borrowed(doc.text));
            continue;
        };
        let original = node.clone();
        let source = source_of(doc, &original);
        let mut errors = Vec::new();
        for obj in objects_mut(&mut node).map_err(|r| fail(doc, &source, vec![r]))? {
            let name = format!(
                "{} {}",
                pod::kind_of(obj).unwrap_or("object"),
                pod::name_of(obj)
            );
            match harden::harden(obj, options.profile) {
                Err(e) => errors.extend(e.into_iter().map(|r| format!("{name}: {r}"))),
                Ok(specs) => {
                    for at in specs {
                        if let Some(t) = at.template.and_then(|t| pod::get_mut(obj, &t)) {
                            rollout_hash::stamp(t, &data);
                        }
                    }
                }
            }
        }
        if !errors.is_empty() {
            return Err(fail(doc, &source, errors));
        }
        if node == original {
            out.segments.push(Cow::Borrowed(doc.text));
        } else {
            let mut text = String::with_capacity(doc.text.len() + 512);
            write_changed(doc.text, &node, &mut text);
            // A rewritten document is written in block style with aliases expanded, so it can
            // outgrow its input (compact flow collections nested deep, many aliases).
            if text.len() > MAX_DOCUMENT_BYTES {
                return Err(fail(
                    doc,
                    &source,
                    vec![format!(
                        "written back it would be {}, more than the {} a document may have (README \"Input limits\")",
                        mib(text.len()),
                        mib(MAX_DOCUMENT_BYTES)
                    )],
                ));
            }
            out.segments.push(Cow::Owned(text));
        }
        written += out.segments.last().map_or(0, |s| s.len());
        if written > MAX_STREAM_BYTES {
            return Err(stream_error(format!(
                "the post-rendered stream would be more than {} (README \"Input limits\")",
                mib(MAX_STREAM_BYTES)
            )));
        }
    }
    if let Some(v) = unverified {
        let lock = crate::lock::chart_lock();
        let msg = format!(
            "chart locust-{v} is not verified with this locust-planton (verified: {})",
            lock.verified_versions.join(", ")
        );
        if options.strict_chart {
            return Err(stream_error(format!("{msg} (--strict-chart)")));
        }
        out.warnings.push(msg);
    }
    Ok(out)
}

fn fail(doc: &RawDoc, source: &Option<String>, reasons: Vec<String>) -> PostRenderError {
    PostRenderError {
        document: doc.index,
        source: source.clone(),
        line: doc.start_line,
        reasons,
    }
}

fn node_source(doc: &RawDoc) -> Option<String> {
    source_comment(doc.text).map(str::to_string)
}

/// An error about the stream as a whole (document 0).
fn stream_error(reason: String) -> PostRenderError {
    PostRenderError {
        document: 0,
        source: None,
        line: 0,
        reasons: vec![reason],
    }
}

/// An error about one document, at `line` of the stream.
fn document_error(doc: &RawDoc, line: usize, reason: String) -> PostRenderError {
    PostRenderError {
        document: doc.index,
        source: source_comment(doc.text).map(str::to_string),
        line,
        reasons: vec![reason],
    }
}

fn parse(doc: &RawDoc) -> Result<Option<Node>, PostRenderError> {
    if doc.text.len() > MAX_DOCUMENT_BYTES {
        return Err(document_error(
            doc,
            doc.start_line,
            format!(
                "the document is {}, more than the {} a document may have (Kubernetes stores objects of at most 1.5 MiB; README \"Input limits\")",
                mib(doc.text.len()),
                mib(MAX_DOCUMENT_BYTES)
            ),
        ));
    }
    parse_document(doc.text).map_err(|e| {
        document_error(
            doc,
            doc.start_line + e.line - 1,
            format!("invalid YAML at column {}: {}", e.column, e.message),
        )
    })
}

/// The objects of a document: itself, or the items of a `kind: List`.
fn objects_mut(node: &mut Node) -> Result<Box<dyn Iterator<Item = &mut Node> + '_>, String> {
    if node.as_map().is_none() {
        return Err(format!(
            "not a Kubernetes object: the document is {}, not a mapping",
            node.type_name()
        ));
    }
    let is_list = pod::kind_of(node).is_some_and(|k| k == "List" || k.ends_with("List"))
        && node.get_path(&["items"]).and_then(Node::as_seq).is_some();
    if !is_list {
        return Ok(Box::new(std::iter::once(node)));
    }
    let items = node
        .as_map_mut()
        .unwrap()
        .get_mut("items")
        .unwrap()
        .as_seq_mut()
        .unwrap();
    if let Some(i) = items.iter().position(|i| i.as_map().is_none()) {
        return Err(format!("items[{i}] of the List is not a mapping"));
    }
    Ok(Box::new(items.iter_mut()))
}

fn source_of(doc: &RawDoc, node: &Node) -> Option<String> {
    source_comment(doc.text).map(str::to_string).or_else(|| {
        node.get_path(&["metadata", "annotations", FILENAME_ANNOTATION])
            .and_then(Node::as_str)
            .map(str::to_string)
    })
}

/// A rewritten document: its header lines, then the body, with the stream's line endings.
fn write_changed(raw: &str, node: &Node, out: &mut String) {
    let head = header(raw);
    out.push_str(&head);
    if !head.is_empty() && !head.ends_with('\n') {
        out.push('\n');
    }
    let body = emit_document(node);
    if raw.contains("\r\n") {
        out.push_str(&body.replace('\n', "\r\n"));
    } else {
        out.push_str(&body);
    }
}
