//! Opt-out annotations (`locust.project-planton.org/allow-<rule>: "true"`) on an object or its
//! pod template: the rules its pods may break.

use super::rules::{OPT_OUT_PREFIX, Rule, known_names};
use super::violation::Violation;
use crate::yaml::Node;

/// Opt-out annotations on the object or its pod template; an unknown `allow-` rule is an error
/// (a typo must not silently keep the default).
pub(super) fn opt_outs(
    obj: &Node,
    template_annotations: Option<&Node>,
    out: &mut Vec<Violation>,
) -> Vec<Rule> {
    let mut rules = Vec::new();
    let own = obj.get_path(&["metadata", "annotations"]);
    for annotations in [own, template_annotations].into_iter().flatten() {
        let Some(map) = annotations.as_map() else {
            continue;
        };
        for (k, v) in map.iter() {
            let key = k.key_text();
            let Some(rule) = key.strip_prefix(OPT_OUT_PREFIX) else {
                continue;
            };
            let field = format!("metadata.annotations[\"{key}\"]");
            let message = match Rule::from_name(rule) {
                Some(r) if v.as_str() == Some("true") => {
                    rules.push(r);
                    continue;
                }
                Some(_) => "must be \"true\" to opt out".to_string(),
                None => format!("unknown opt-out `{rule}`; known: {}", known_names()),
            };
            out.push(Violation::malformed(field, message));
        }
    }
    rules
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_single;

    struct Case {
        what: &'static str,
        object: &'static str,
        template: &'static str,
        rules: &'static [Rule],
        errors: &'static [&'static str],
    }

    #[test]
    fn opt_outs_of_an_object_and_its_template() {
        let cases = [
            Case {
                what: "none",
                object: "{}",
                template: "",
                rules: &[],
                errors: &[],
            },
            Case {
                what: "on the object",
                object: "{lp/allow-seccomp: 'true', other: x}",
                template: "",
                rules: &[Rule::Seccomp],
                errors: &[],
            },
            Case {
                what: "object first, then template",
                object: "{lp/allow-seccomp: 'true'}",
                template: "{lp/allow-run-as-root: 'true'}",
                rules: &[Rule::Seccomp, Rule::RunAsRoot],
                errors: &[],
            },
            Case {
                what: "only the string true opts out",
                object: "{lp/allow-seccomp: true, lp/allow-privileged: 'yes'}",
                template: "",
                rules: &[],
                errors: &[
                    "metadata.annotations[\"lp/allow-seccomp\"]: must be \"true\" to opt out",
                    "metadata.annotations[\"lp/allow-privileged\"]: must be \"true\" to opt out",
                ],
            },
            Case {
                what: "a typo is refused, listing the known names",
                object: "{lp/allow-sec-comp: 'true'}",
                template: "",
                rules: &[],
                errors: &[
                    "metadata.annotations[\"lp/allow-sec-comp\"]: unknown opt-out `sec-comp`; known: run-as-root, privileged, privilege-escalation, capabilities, host-namespaces, host-ports, volume-types, seccomp, writable-root-fs, service-account-token, proc-mount, selinux, apparmor, sysctls, host-process",
                ],
            },
            Case {
                what: "annotations that are not a mapping are not read",
                object: "[lp/allow-seccomp]",
                template: "",
                rules: &[],
                errors: &[],
            },
        ];
        let expand = |s: &str| s.replace("lp/", OPT_OUT_PREFIX.trim_end_matches("allow-"));
        for case in cases {
            let obj = parse_single(&expand(&format!(
                "kind: Pod\nmetadata: {{name: p, annotations: {}}}\n",
                case.object
            )))
            .unwrap();
            let template =
                (!case.template.is_empty()).then(|| parse_single(&expand(case.template)).unwrap());
            let mut out = Vec::new();
            let rules = opt_outs(&obj, template.as_ref(), &mut out);
            assert_eq!(rules, case.rules, "{}", case.what);
            let errors: Vec<String> = out
                .iter()
                .map(|v| format!("{}: {}", v.field, v.message))
                .collect();
            let want: Vec<String> = case.errors.iter().map(|e| expand(e)).collect();
            assert_eq!(errors, want, "{}", case.what);
            assert!(
                out.iter()
                    .all(|v| v.topic == "malformed" && v.rule.is_none())
            );
        }
    }
}
