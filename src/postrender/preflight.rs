//! What `install` would refuse, found before Helm runs (`check`, `values`, `template`,
//! `install`): the post-renderer's own rules applied to the pods the values describe — the
//! chart's master and worker Deployments as the chart model (`crate::chart`) renders them, each
//! finding named at the chart value that set its field — and to every `extraObjects` item; and no pod in a Helm hook, since Helm 3 never sends hooks to a
//! post-renderer.

use super::{Finding, Options, post_render};
use crate::chart::{self, Rendered};
use crate::diag::{Findings, Severity};
use crate::policy::harden::{
    BoundAccounts, Rule, admission_level, harden, rule_name, rule_of_annotation,
};
use crate::policy::pod::pod_specs;
use crate::values::helm_values::set_by;
use crate::yaml::{Node, emit_document};

/// The release name the chart's objects are judged under: names never decide a rule.
const RELEASE: &str = "release";

/// The policy's errors about one of the chart's Deployments, each as (the chart value that set
/// the field, the reason in value names: `securityContext.runAsUser: …`). A field no value sets
/// keeps its object path, with no value.
fn refused(rendered: &Rendered, options: &Options) -> Vec<(String, String)> {
    let mut object = rendered.object.clone();
    let (_, found) = harden(&mut object, options.profile, &BoundAccounts::default());
    found
        .into_iter()
        .filter(|v| v.severity == Severity::Error)
        .map(|v| {
            let (value, field) = match rendered.value_of(&v.field) {
                Some((source, rest)) => {
                    let key = source.value.split('[').next().unwrap_or_default();
                    (key.to_string(), format!("{}{rest}", source.value))
                }
                None => (String::new(), v.field.clone()),
            };
            let finding = Finding {
                kind: Some("Deployment".into()),
                rule: v.topic.to_string(),
                opt_out: v.opt_out(),
                field,
                ..Finding::stream(v.message, v.severity, "")
            };
            (value, finding.reason())
        })
        .collect()
}

pub fn findings(values: &Node, overrides: &[(String, String)]) -> Findings {
    let mut d = Findings::default();
    let options = Options::default();
    for rendered in chart::render_both(values, RELEASE) {
        let role = rendered.role.key();
        for (value, reason) in refused(&rendered, &options) {
            d.error(
                set_by(overrides, &value),
                format!("the chart's {role} pod would be refused by the post-renderer: {reason}"),
            );
        }
    }
    let items = values
        .get_path(&["extraObjects"])
        .and_then(Node::as_seq)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let at = set_by(overrides, "extraObjects");
    for (i, item) in items.iter().enumerate() {
        // Judged as Kubernetes will create it: the objects of the item (a list's items).
        let objects = match crate::stream::objects::objects(item) {
            Ok(objects) => objects,
            Err(r) => {
                let field = if r.field == "(root)" {
                    String::new()
                } else {
                    format!(".{}", r.field)
                };
                d.error(
                    &at,
                    format!(
                        "extraObjects[{i}]{field} would be refused by the post-renderer: {}",
                        r.message
                    ),
                );
                continue;
            }
        };
        let holds_pods = |o: &&Node| pod_specs(o).map_or(true, |s| !s.is_empty());
        let is_hook = item
            .get_path(&["metadata", "annotations", "helm.sh/hook"])
            .is_some();
        if is_hook && objects.iter().any(holds_pods) {
            d.error(
                &at,
                format!(
                    "extraObjects[{i}] is a Helm hook with a pod: Helm 3 never sends hooks to a post-renderer, so it would run unhardened; drop the `helm.sh/hook` annotation"
                ),
            );
        }
        // Only objects the post-renderer would change can be refused by it (the script
        // ConfigMaps, up to megabytes, are skipped rather than written out and read again).
        let judged = objects.iter().any(|o| {
            o.get_path(&["kind"]).and_then(Node::as_str) == Some("ServiceAccount") || holds_pods(o)
        });
        if !judged {
            continue;
        }
        if let Err(e) = post_render(&emit_document(item), &options) {
            for finding in &e.findings {
                d.error(
                    &at,
                    format!(
                        "extraObjects[{i}] would be refused by the post-renderer: {}",
                        finding.reason()
                    ),
                );
            }
        }
    }
    d
}

/// Every opt-out annotation the values set (`true` only), with where: the roles' pod and
/// Deployment annotations and any `annotations` mapping inside an `extraObjects` item.
pub fn opt_outs(values: &Node) -> Vec<(String, Rule)> {
    fn annotations(a: &Node, at: &str, out: &mut Vec<(String, Rule)>) {
        for (k, v) in a.as_map().into_iter().flat_map(|m| m.iter()) {
            if let Some(rule) = rule_of_annotation(&k.key_text())
                && v.as_str() == Some("true")
            {
                out.push((at.to_string(), rule));
            }
        }
    }
    fn scan(node: &Node, at: &str, out: &mut Vec<(String, Rule)>) {
        match node {
            Node::Map(m) => {
                for (k, v) in m.iter() {
                    let here = crate::diag::join(at, &k.key_text());
                    if k.key_text() == "annotations" {
                        annotations(v, &here, out);
                    } else {
                        scan(v, &here, out);
                    }
                }
            }
            Node::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    scan(item, &crate::diag::index(at, i), out);
                }
            }
            Node::Scalar(_) => {}
        }
    }
    let mut out = Vec::new();
    for role in ["master", "worker"] {
        for field in ["annotations", "deploymentAnnotations"] {
            if let Some(a) = values.get_path(&[role, field]) {
                annotations(a, &format!("{role}.{field}"), &mut out);
            }
        }
    }
    if let Some(items) = values.get_path(&["extraObjects"]) {
        scan(items, "extraObjects", &mut out);
    }
    out
}

/// The Pod Security Admission level the release's namespace can enforce, and why it is not
/// `restricted` when it is not.
pub fn admission(values: &Node) -> (&'static str, Option<String>) {
    let found = opt_outs(values);
    let rules: Vec<Rule> = found.iter().map(|(_, r)| *r).collect();
    let level = admission_level(&rules);
    let why = (level != "restricted").then(|| {
        let reasons: Vec<String> = found
            .iter()
            .filter(|(_, r)| admission_level(&[*r]) != "restricted")
            .map(|(at, r)| format!("{at} opts out of `{}`", rule_name(*r)))
            .collect();
        reasons.join(", ")
    });
    (level, why)
}
