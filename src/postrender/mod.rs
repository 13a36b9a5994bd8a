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
mod data_reader;
pub mod preflight;
pub use crate::policy::pod::name_of;

use crate::limits::{MAX_DOCUMENT_BYTES, MAX_STREAM_BYTES, mib};
use crate::policy::harden;
pub use crate::policy::harden::Profile;
use crate::policy::rollout_hash::{self, Location, Places};
use crate::stream::objects::{Identity, Refusal, objects, objects_mut};
use crate::stream::{RawDoc, header, source_comment, split};
use crate::yaml::{Node, emit_document, full_document, quick_document};
use data_reader::DataReader;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

pub use crate::contract::FILENAME_ANNOTATION;

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
                uid: crate::contract::RUN_AS_USER,
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

/// One finding about the stream: a problem the post-renderer refuses (an error), or something a
/// user must know about what it did (a warning). `lint` prints them all; `post-render` refuses
/// the stream with every error at once.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// 1-based document number (0: the stream as a whole).
    pub document: usize,
    /// 1-based line in the input stream where the document starts; for a YAML syntax error,
    /// the line of the error.
    pub line: usize,
    /// 1-based column of a YAML syntax error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// The `# Source:` line (Helm 3) or the filename annotation (Helm 4).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The field path within the object.
    pub field: String,
    /// The rule (`privileged`, `run-as-root`, …), or `malformed`/`yaml`/`stream`/`chart`.
    pub rule: String,
    pub message: String,
    pub severity: Severity,
    /// The annotation that allows it (value `"true"`), when one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opt_out: Option<String>,
}

pub use crate::diag::Severity;

impl Finding {
    /// The object and field with the reason, without the document: `Deployment x: spec.…: …`.
    pub fn reason(&self) -> String {
        let mut s = String::new();
        if let (Some(k), Some(n)) = (&self.kind, &self.name) {
            s.push_str(&format!("{k} {n}: "));
        }
        if !self.field.is_empty() {
            s.push_str(&format!("{}: ", self.field));
        }
        s.push_str(&self.message);
        if let Some(opt) = &self.opt_out {
            let kind = self.kind.as_deref().unwrap_or("object");
            let target = if matches!(kind, "Pod" | "ServiceAccount") {
                format!("the {kind}")
            } else {
                format!("the {kind} or its pod template (`podAnnotations` in most charts)")
            };
            s.push_str(&format!(
                "; to allow it, annotate {target} with `{opt}: \"true\"`"
            ));
        }
        s
    }

    fn stream(message: String, severity: Severity, rule: &str) -> Finding {
        Finding {
            document: 0,
            line: 0,
            column: None,
            source: None,
            kind: None,
            name: None,
            namespace: None,
            field: String::new(),
            rule: rule.into(),
            message,
            severity,
            opt_out: None,
        }
    }
}

impl Finding {
    /// As `lint` and `post-render` print it: a YAML syntax error as `FILE:LINE:COL: invalid
    /// YAML: … (document N, SOURCE)`, like every finding with a position; any other finding as
    /// its `Display`.
    pub fn located(&self, file: &str) -> String {
        let Some(column) = self.column else {
            return self.to_string();
        };
        let mut s = format!("{file}:{}:{column}: {}", self.line, self.reason());
        if self.document > 0 {
            s.push_str(&format!(" (document {}", self.document));
            if let Some(source) = &self.source {
                s.push_str(&format!(", {source}"));
            }
            s.push(')');
        }
        s
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.severity == Severity::Warning {
            write!(f, "warning: ")?;
        }
        if self.document > 0 {
            write!(f, "document {} (line {}", self.document, self.line)?;
            if let Some(c) = self.column {
                write!(f, ", column {c}")?;
            }
            if let Some(s) = &self.source {
                write!(f, ", {s}")?;
            }
            write!(f, "): ")?;
        }
        write!(f, "{}", self.reason())
    }
}

/// Why the stream was rejected: every error, one per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostRenderError {
    pub findings: Vec<Finding>,
}

impl PostRenderError {
    /// Every finding as [`Finding::located`] in `file`, one per line.
    pub fn located(&self, file: &str) -> String {
        let lines: Vec<String> = self.findings.iter().map(|f| f.located(file)).collect();
        lines.join("\n")
    }
}

impl fmt::Display for PostRenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.findings.iter().map(Finding::to_string).collect();
        write!(f, "{}", lines.join("\n"))
    }
}

impl std::error::Error for PostRenderError {}

impl From<Finding> for PostRenderError {
    fn from(f: Finding) -> Self {
        PostRenderError { findings: vec![f] }
    }
}

/// Post-renders a whole stream. On error nothing is returned (callers print nothing to stdout),
/// and the error holds every problem of the stream, not only the first.
pub fn post_render<'a>(input: &'a str, options: &Options) -> Result<Outcome<'a>, PostRenderError> {
    let (segments, findings, _) = run(input, options)?;
    let (errors, warnings): (Vec<Finding>, Vec<Finding>) = findings
        .into_iter()
        .partition(|f| f.severity == Severity::Error);
    if !errors.is_empty() {
        return Err(PostRenderError { findings: errors });
    }
    Ok(Outcome {
        segments,
        warnings: warnings.iter().map(Finding::reason).collect(),
    })
}

/// What `lint` learns from a stream.
#[derive(Debug, Default)]
pub struct Linted {
    /// The objects Kubernetes would create from the documents Go can read: one per object
    /// document, one per item of a `kind: List`.
    pub objects: usize,
    /// Every finding, errors and warnings.
    pub findings: Vec<Finding>,
}

/// Every finding post-rendering the stream would make, errors and warnings, and how many
/// objects it holds; nothing written.
pub fn lint(input: &str, options: &Options) -> Result<Linted, PostRenderError> {
    run(input, options).map(|(_, findings, objects)| Linted { objects, findings })
}

/// The stream post-rendered, with every finding and the number of objects. Err only when the stream as a whole cannot be
/// read (too large, a separator Kubernetes refuses, no objects).
///
/// Every document is read as Go reads it. The first pass records where every ConfigMap and
/// Secret is (their data is read again when a hash uses it) and the ServiceAccounts that
/// bindings name, and marks the documents that hold pod specs or ServiceAccounts; the second
/// runs the filters on those, kept from the first pass up to [`KEEP_HELD_BYTES`] of text and read
/// again past it (kept, their trees would weigh several times the text). A
/// document no filter changes is copied byte for byte, whatever it holds (merge keys, tags,
/// anchors): Go reads it as the filters did. A changed one is written from Go's reading, so it
/// keeps every value as Kubernetes saw it.
#[allow(clippy::type_complexity)]
fn run<'a>(
    input: &'a str,
    options: &Options,
) -> Result<(Vec<Cow<'a, str>>, Vec<Finding>, usize), PostRenderError> {
    if input.len() > MAX_STREAM_BYTES {
        return Err(stream_error(format!(
            "the stream is {}, more than the {} locust-planton post-renders (docs/limits.md)",
            mib(input.len()),
            mib(MAX_STREAM_BYTES)
        )));
    }
    let docs = split(input).map_err(split_finding)?;
    let FirstPass {
        held,
        mut findings,
        places,
        uses,
        bound,
        objects,
        unverified,
        ..
    } = read_stream(&docs);
    if objects == 0 && findings.is_empty() {
        return Err(stream_error(
            "no Kubernetes objects on stdin; refusing to print an empty manifest (Helm 3 would delete every resource of the release on upgrade). Note: `helm template --output-dir` sends post-renderers nothing".into(),
        ));
    }
    let filters = Filters {
        data: &DataReader::new(places, &uses, &docs),
        bound: &bound,
        options,
    };
    let segments = write_stream(&docs, held, &filters, &mut findings)?;
    if let Some(v) = unverified {
        findings.push(unverified_chart(&v, options.strict_chart));
    }
    Ok((segments, findings, objects))
}

/// One object Kubernetes would create from a stream, with the pod templates (or bare pod specs)
/// in it, as paths from the object.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InventoryEntry {
    #[serde(flatten)]
    pub identity: Identity,
    pub pod_specs: Vec<String>,
}

/// The objects Kubernetes would create from `input`, read as the post-renderer reads them (split,
/// decoded and flattened as Kubernetes does); Err with every document that cannot be placed.
pub fn inventory(input: &str) -> Result<Vec<InventoryEntry>, PostRenderError> {
    let docs = split(input).map_err(split_finding)?;
    let mut entries = Vec::new();
    let mut findings = Vec::new();
    for doc in &docs {
        let node = match parse(doc) {
            Ok(Some(node)) => node,
            Ok(None) => continue,
            Err(f) => {
                findings.push(*f);
                continue;
            }
        };
        let objects = match objects(&node) {
            Ok(objects) => objects,
            Err(r) => {
                findings.push(inventory_finding(doc, &node, r));
                continue;
            }
        };
        for obj in objects {
            let specs = crate::policy::pod::pod_specs(obj).unwrap_or_default();
            entries.push(InventoryEntry {
                identity: Identity::of(obj),
                pod_specs: specs
                    .iter()
                    .map(|at| {
                        let path =
                            crate::policy::pod::display(at.template.as_ref().unwrap_or(&at.spec));
                        if path.is_empty() {
                            "(root)".to_string()
                        } else {
                            path
                        }
                    })
                    .collect(),
            });
        }
    }
    if findings.is_empty() {
        Ok(entries)
    } else {
        Err(PostRenderError { findings })
    }
}

/// A document Kubernetes' inventory cannot hold exactly.
fn inventory_finding(doc: &RawDoc, node: &Node, r: Refusal) -> Finding {
    let field = if r.field == "(root)" {
        String::new()
    } else {
        r.field
    };
    Finding {
        field,
        ..doc_finding(doc, &source_of(doc, node), "inventory", r.message)
    }
}

fn split_finding(e: crate::stream::SplitError) -> PostRenderError {
    // The line is in the finding's position; the message need not say it again.
    let prefix = format!("line {}: ", e.line);
    let message = e.message.strip_prefix(&prefix).unwrap_or(&e.message);
    Finding {
        document: e.document,
        line: e.line,
        column: Some(1),
        ..Finding::stream(message.to_string(), Severity::Error, "yaml")
    }
    .into()
}

/// What the second pass does with a document.
enum Held {
    /// Copies it as it is: no filter changes it.
    No,
    /// Reads it again (as deterministically as the first time) and filters it.
    Again,
    /// Filters the tree the first pass read.
    Kept(Node),
}

/// Held documents whose text adds up to at most this many bytes are kept as the trees the first
/// pass read (a usual render is read once); past it they are read again, since a held tree
/// weighs several times its text and large streams would hold them all.
const KEEP_HELD_BYTES: usize = 256 * 1024;

/// What the first pass learns from the stream.
#[derive(Default)]
struct FirstPass {
    /// The documents the filters may change, by position.
    held: Vec<Held>,
    /// The text of the held documents kept as trees.
    kept_bytes: usize,
    findings: Vec<Finding>,
    /// Where every ConfigMap and Secret is, for the hashes.
    places: Places,
    /// How many pod templates use each ConfigMap and Secret, by (kind, name).
    uses: HashMap<(String, String), u32>,
    /// The ServiceAccounts that bindings name.
    bound: harden::BoundAccounts,
    objects: usize,
    /// The first unverified chart version a `helm.sh/chart` label names.
    unverified: Option<String>,
}

impl FirstPass {
    /// Records one object; true when the filters may change it (it is a ServiceAccount, or holds
    /// pod specs or malformed ones).
    fn record(&mut self, obj: &Node, at: Location) -> bool {
        self.objects += 1;
        self.places.record(obj, at);
        self.bound.record(obj);
        if self.unverified.is_none() {
            self.unverified = chart_check::unverified_version(obj);
        }
        let Ok(specs) = crate::policy::pod::pod_specs(obj) else {
            return true;
        };
        for template in specs.iter().filter_map(|s| s.template.as_ref()) {
            let spec = crate::policy::pod::get(obj, template).and_then(|t| t.get_path(&["spec"]));
            for key in spec
                .map(rollout_hash::distinct_references)
                .unwrap_or_default()
            {
                *self.uses.entry(key).or_default() += 1;
            }
        }
        !specs.is_empty() || crate::policy::pod::kind_of(obj) == Some("ServiceAccount")
    }
}

/// The first pass: every document read once, its objects recorded.
fn read_stream(docs: &[RawDoc]) -> FirstPass {
    let mut pass = FirstPass {
        held: Vec::with_capacity(docs.len()),
        ..FirstPass::default()
    };
    for (position, doc) in docs.iter().enumerate() {
        let held = read_document(doc, position, &mut pass);
        pass.held.push(held);
    }
    pass
}

/// One document of the first pass (at `position` in the stream): what the second pass does with
/// it.
fn read_document(doc: &RawDoc, position: usize, pass: &mut FirstPass) -> Held {
    let mut node = match parse(doc) {
        Ok(Some(node)) => node,
        Ok(None) => return Held::No,
        Err(f) => {
            pass.findings.push(*f);
            return Held::No;
        }
    };
    let objs = match objects_mut(&mut node) {
        Ok(objs) => objs,
        Err(r) => {
            pass.findings.push(inventory_finding(doc, &Node::map(), r));
            return Held::No;
        }
    };
    let mut holds_pods = false;
    for (object, obj) in objs.into_iter().enumerate() {
        let at = Location {
            document: position,
            object,
        };
        holds_pods |= pass.record(obj, at);
    }
    if !holds_pods {
        Held::No
    } else if pass.kept_bytes + doc.text.len() <= KEEP_HELD_BYTES {
        pass.kept_bytes += doc.text.len();
        Held::Kept(node)
    } else {
        Held::Again
    }
}

/// What the filters use besides the document.
struct Filters<'s> {
    data: &'s DataReader<'s, 's>,
    bound: &'s harden::BoundAccounts,
    options: &'s Options,
}

/// The second pass: the filters run on the held documents; every other one is copied.
fn write_stream<'a>(
    docs: &[RawDoc<'a>],
    held: Vec<Held>,
    filters: &Filters,
    findings: &mut Vec<Finding>,
) -> Result<Vec<Cow<'a, str>>, PostRenderError> {
    let mut segments = Vec::with_capacity(docs.len());
    let mut written = 0;
    for (doc, held) in docs.iter().zip(held) {
        let node = match held {
            Held::No => None,
            // Read again as in the first pass, which found it readable.
            Held::Again => parse(doc).ok().flatten(),
            Held::Kept(node) => Some(node),
        };
        let Some(text) = node.and_then(|node| rewrite_document(doc, node, filters, findings))
        else {
            segments.push(Cow::Borrowed(doc.text));
            continue;
        };
        written += text.len();
        segments.push(Cow::Owned(text));
        if written > MAX_STREAM_BYTES {
            return Err(stream_error(format!(
                "the post-rendered stream would be more than {} (docs/limits.md)",
                mib(MAX_STREAM_BYTES)
            )));
        }
    }
    Ok(segments)
}

/// A held document through the filters: its new text, or `None` when it is copied as it is
/// (nothing changed, an error refuses it, or written back it would be too large).
fn rewrite_document(
    doc: &RawDoc,
    mut node: Node,
    filters: &Filters,
    findings: &mut Vec<Finding>,
) -> Option<String> {
    let original = node.clone();
    let source = source_of(doc, &original);
    let before = findings.len();
    // The first pass placed every object of this document; a refusal here is reported as
    // there, not a panic.
    let objs = match objects_mut(&mut node) {
        Ok(objs) => objs,
        Err(r) => {
            findings.push(inventory_finding(doc, &Node::map(), r));
            return None;
        }
    };
    for obj in objs {
        filter_object(obj, doc, &source, filters, findings);
    }
    if findings[before..]
        .iter()
        .any(|f| f.severity == Severity::Error)
        || node == original
    {
        return None;
    }
    let mut text = String::with_capacity(doc.text.len() + 512);
    write_changed(doc.text, &node, &mut text);
    // A rewritten document is written in block style with aliases expanded, so it can
    // outgrow its input (compact flow collections nested deep, many aliases).
    if text.len() > MAX_DOCUMENT_BYTES {
        findings.push(doc_finding(
            doc,
            &source,
            "limits",
            format!(
                "written back it would be {}, more than the {} a document may have (docs/limits.md)",
                mib(text.len()),
                mib(MAX_DOCUMENT_BYTES)
            ),
        ));
        return None;
    }
    // Kept until the stream is written: without its spare capacity.
    text.shrink_to_fit();
    Some(text)
}

/// Hardens one object and, unless an error refuses it, stamps its pod templates.
fn filter_object(
    obj: &mut Node,
    doc: &RawDoc,
    source: &Option<String>,
    filters: &Filters,
    findings: &mut Vec<Finding>,
) {
    let (specs, violations) = harden::harden(obj, filters.options.profile, filters.bound);
    let fails = violations.iter().any(|v| v.severity == Severity::Error);
    for v in violations {
        findings.push(violation_finding(v, doc, source, obj));
    }
    if fails {
        return;
    }
    for at in specs {
        if let Some(t) = at
            .template
            .and_then(|t| crate::policy::pod::get_mut(obj, &t))
            && let Err(f) = rollout_hash::stamp_with(t, |spec| filters.data.hash(spec))
        {
            findings.push(*f);
        }
    }
}

/// A hardening violation, located in the stream.
fn violation_finding(
    v: harden::Violation,
    doc: &RawDoc,
    source: &Option<String>,
    obj: &Node,
) -> Finding {
    Finding {
        document: doc.index,
        line: doc.start_line,
        column: None,
        source: source.clone(),
        kind: crate::policy::pod::kind_of(obj).map(str::to_string),
        name: Some(crate::policy::pod::name_of(obj).to_string()),
        namespace: obj
            .get_path(&["metadata", "namespace"])
            .and_then(Node::as_str)
            .map(str::to_string),
        rule: v.topic.to_string(),
        opt_out: v.opt_out(),
        field: v.field,
        message: v.message,
        severity: v.severity,
    }
}

/// A chart version `charts-lock/` does not list: a warning, or with `--strict-chart` an error.
fn unverified_chart(version: &str, strict: bool) -> Finding {
    let lock = crate::lock::chart_lock();
    let msg = format!(
        "chart locust-{version} is not verified with this locust-planton (verified: {})",
        lock.verified_versions.join(", ")
    );
    if strict {
        Finding::stream(format!("{msg} (--strict-chart)"), Severity::Error, "chart")
    } else {
        Finding::stream(msg, Severity::Warning, "chart")
    }
}

/// An error about the stream as a whole (document 0).
fn stream_error(reason: String) -> PostRenderError {
    Finding::stream(reason, Severity::Error, "stream").into()
}

/// An error about one document.
fn doc_finding(doc: &RawDoc, source: &Option<String>, rule: &str, message: String) -> Finding {
    Finding {
        document: doc.index,
        line: doc.start_line,
        source: source.clone(),
        ..Finding::stream(message, Severity::Error, rule)
    }
}

fn parse(doc: &RawDoc) -> Result<Option<Node>, Box<Finding>> {
    let source = || source_comment(doc.text).map(str::to_string);
    if doc.text.len() > MAX_DOCUMENT_BYTES {
        return Err(Box::new(doc_finding(
            doc,
            &source(),
            "limits",
            format!(
                "the document is {}, more than the {} a document may have (Kubernetes stores objects of at most 1.5 MiB; docs/limits.md)",
                mib(doc.text.len()),
                mib(MAX_DOCUMENT_BYTES)
            ),
        )));
    }
    // The fast reader reads the text in place (a dropped separator line is a blank line to
    // it); anything it declines is read from the text Kubernetes decodes.
    if let Some(node) = quick_document(doc.without_dropped_separator()) {
        return Ok(node);
    }
    full_document(&doc.yaml()).map_err(|e| {
        Box::new(Finding {
            line: doc.start_line + e.line - 1,
            column: Some(e.column),
            ..doc_finding(
                doc,
                &source(),
                "yaml",
                format!("invalid YAML: {}", e.message),
            )
        })
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The first pass's bookkeeping: which documents the second pass filters (and how), the
    /// uses each ConfigMap and Secret has (a template counts once per object it references),
    /// the objects Kubernetes would create, the first unverified chart version, its findings.
    #[test]
    fn the_first_pass_records_what_the_second_needs() {
        struct Row {
            what: &'static str,
            stream: String,
            /// Per document: `-` copied as is, `kept` filtered from the first tree.
            held: &'static [&'static str],
            uses: &'static [(&'static str, &'static str, u32)],
            objects: usize,
            unverified: Option<&'static str>,
            findings: usize,
        }
        let deploy = |refs: &str| {
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d}}\nspec:\n  template:\n    spec:\n      containers: [{{name: c, image: i{refs}}}]\n"
            )
        };
        let twice = deploy(
            ", envFrom: [{configMapRef: {name: s}}, {secretRef: {name: k}}], env: [{name: A, valueFrom: {configMapKeyRef: {name: s, key: a}}}]",
        );
        let rows = [
            Row {
                what: "a ConfigMap named twice by one template is one use; a Secret one more",
                stream: format!("{twice}---\n{twice}"),
                held: &["kept", "kept"],
                uses: &[("ConfigMap", "s", 2), ("Secret", "k", 2)],
                objects: 2,
                unverified: None,
                findings: 0,
            },
            Row {
                what: "ServiceAccounts are held, ConfigMaps and Services are not",
                stream: "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: s}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: x, labels: {helm.sh/chart: locust-0.1.0}}\n".into(),
                held: &["kept", "-", "-"],
                uses: &[],
                objects: 3,
                unverified: Some("0.1.0"),
                findings: 0,
            },
            Row {
                what: "a List's items are objects; a document that cannot be read is a finding",
                stream: "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: s}}\n- {apiVersion: v1, kind: Secret, metadata: {name: k}}\n---\nkey: [unclosed\n".into(),
                held: &["-", "-"],
                uses: &[],
                objects: 2,
                unverified: None,
                findings: 1,
            },
        ];
        for row in rows {
            let docs = split(&row.stream).unwrap();
            let pass = read_stream(&docs);
            let held: Vec<&str> = pass
                .held
                .iter()
                .map(|h| match h {
                    Held::No => "-",
                    Held::Again => "again",
                    Held::Kept(_) => "kept",
                })
                .collect();
            assert_eq!(held, row.held, "{}", row.what);
            let mut uses: Vec<(&str, &str, u32)> = pass
                .uses
                .iter()
                .map(|((kind, name), n)| (kind.as_str(), name.as_str(), *n))
                .collect();
            uses.sort();
            assert_eq!(uses, row.uses, "{}", row.what);
            assert_eq!(pass.objects, row.objects, "{}", row.what);
            assert_eq!(pass.unverified.as_deref(), row.unverified, "{}", row.what);
            assert_eq!(pass.findings.len(), row.findings, "{}", row.what);
        }
    }

    #[test]
    fn syntax_errors_are_placed_like_every_finding_with_a_position() {
        struct Case {
            input: &'static str,
            located: &'static str,
            json: serde_json::Value,
        }
        let cases = [
            Case {
                input: "kind: ConfigMap\nmetadata: {name: a}\n---\n# Source: c/t.yaml\nkind: Pod\nmetadata:\n  name: d\n   labels: x\n",
                located: "in.yaml:8:10: invalid YAML: mapping values are not allowed in this context (document 2, c/t.yaml)",
                json: serde_json::json!({"document": 2, "line": 8, "column": 10, "source": "c/t.yaml", "field": "", "rule": "yaml", "message": "invalid YAML: mapping values are not allowed in this context", "severity": "error"}),
            },
            Case {
                input: "kind: ConfigMap\nmetadata: {name: a}\n--- |\n",
                located: "in.yaml:3:1: invalid YAML document separator: `--- |` (Kubernetes' reader allows only a comment after `---`) (document 2)",
                json: serde_json::json!({"document": 2, "line": 3, "column": 1, "field": "", "rule": "yaml", "message": "invalid YAML document separator: `--- |` (Kubernetes' reader allows only a comment after `---`)", "severity": "error"}),
            },
        ];
        for Case {
            input,
            located,
            json,
        } in cases
        {
            let findings = match lint(input, &Options::default()) {
                Ok(l) => l.findings,
                Err(e) => e.findings,
            };
            assert_eq!(findings.len(), 1, "{findings:?}");
            assert_eq!(findings[0].located("in.yaml"), located);
            assert_eq!(serde_json::to_value(&findings[0]).unwrap(), json);
        }
    }

    #[test]
    fn lint_counts_the_objects_kubernetes_would_create() {
        struct Case {
            input: &'static str,
            objects: usize,
        }
        for Case { input, objects } in [
            Case {
                input: "kind: ConfigMap\nmetadata: {name: a}\n",
                objects: 1,
            },
            // A List's items are created one by one; empty documents create nothing.
            Case {
                input: "---\n# nothing\n---\nkind: List\nitems:\n- {kind: ConfigMap, metadata: {name: a}}\n- {kind: ConfigMap, metadata: {name: b}}\n---\nkind: ConfigMap\nmetadata: {name: c}\n",
                objects: 3,
            },
            // A document Go cannot read holds no object.
            Case {
                input: "kind: ConfigMap\nmetadata: {name: a}\n---\nkind: [\n",
                objects: 1,
            },
        ] {
            assert_eq!(
                lint(input, &Options::default()).unwrap().objects,
                objects,
                "{input}"
            );
        }
    }
}
