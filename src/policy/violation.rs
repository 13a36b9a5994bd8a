//! What hardening finds, and the state a walk over one pod spec carries while it finds it: the
//! rules opted out, the profile, the pod family and the findings so far.

use super::harden::Profile;
use super::pod::Family;
use super::rules::Rule;
pub use crate::diag::Severity;

/// One problem (or, as a warning, one thing a user must know) with an object's pods.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The field path from the object.
    pub field: String,
    /// The rule, when an opt-out can allow it.
    pub rule: Option<Rule>,
    /// What it is about, for reports: the rule's name, or `malformed`.
    pub topic: &'static str,
    pub message: String,
    pub severity: Severity,
}

impl Violation {
    /// The annotation that allows it, when one does.
    pub fn opt_out(&self) -> Option<String> {
        self.rule.map(Rule::opt_out_annotation)
    }

    /// A field hardening cannot judge (wrong type, malformed): an error no opt-out allows.
    pub fn malformed(field: impl Into<String>, message: String) -> Violation {
        Violation {
            field: field.into(),
            rule: None,
            topic: "malformed",
            message,
            severity: Severity::Error,
        }
    }
}

/// The walk's state over one pod spec.
pub(super) struct Ctx<'a> {
    pub allowed: Vec<Rule>,
    pub profile: Profile,
    pub family: Family,
    pub out: &'a mut Vec<Violation>,
}

impl Ctx<'_> {
    pub fn allows(&self, rule: Rule) -> bool {
        self.allowed.contains(&rule)
    }

    /// A weaker explicit setting: an error unless its rule is opted out.
    pub fn weaker(&mut self, rule: Rule, path: &str, what: &str) {
        if !self.allows(rule) {
            self.out.push(Violation {
                field: path.to_string(),
                rule: Some(rule),
                topic: rule.name(),
                message: format!("{what} is not allowed by {}", rule.set().describe()),
                severity: Severity::Error,
            });
        }
    }

    /// A field this filter cannot judge (wrong type, malformed): an error no opt-out allows.
    pub fn malformed(&mut self, path: impl Into<String>, message: String) {
        self.out.push(Violation::malformed(path, message));
    }

    /// An opt-out that is useless without another: the other one is a finding of its own.
    pub fn companion(&mut self, rule: Rule, path: &str, why: String) {
        // Named once: a rule already reported for this object needs no second finding.
        if !self.allows(rule) && !self.out.iter().any(|v| v.rule == Some(rule)) {
            self.out.push(Violation {
                field: path.to_string(),
                rule: Some(rule),
                topic: rule.name(),
                message: why,
                severity: Severity::Error,
            });
        }
    }

    /// Something a user must know about a rule, refusing nothing.
    pub fn warn(&mut self, path: &str, topic: Rule, message: String) {
        self.out.push(Violation {
            field: path.to_string(),
            rule: None,
            topic: topic.name(),
            message,
            severity: Severity::Warning,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROFILE: Profile = Profile {
        uid: 1000,
        high_uid: false,
    };

    /// One call on a fresh context: the findings it leaves, as `severity topic field: message`.
    struct Case {
        what: &'static str,
        allowed: &'static [Rule],
        call: fn(&mut Ctx),
        findings: &'static [&'static str],
    }

    fn render(v: &Violation) -> String {
        let severity = match v.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        format!("{severity} {} {}: {}", v.topic, v.field, v.message)
    }

    #[test]
    fn each_kind_of_finding() {
        let cases = [
            Case {
                what: "a weaker setting names its rule set",
                allowed: &[],
                call: |c| c.weaker(Rule::Seccomp, "spec.x", "`Unconfined`"),
                findings: &[
                    "error seccomp spec.x: `Unconfined` is not allowed by the Pod Security Standards' restricted profile",
                ],
            },
            Case {
                what: "an opted-out rule finds nothing",
                allowed: &[Rule::Seccomp],
                call: |c| c.weaker(Rule::Seccomp, "spec.x", "`Unconfined`"),
                findings: &[],
            },
            Case {
                what: "malformed is an error whatever is opted out",
                allowed: &[Rule::Seccomp],
                call: |c| c.malformed("spec.x", "must be a mapping, not a string".into()),
                findings: &["error malformed spec.x: must be a mapping, not a string"],
            },
            Case {
                what: "a companion is named once",
                allowed: &[],
                call: |c| {
                    c.companion(Rule::RunAsRoot, "a", "first".into());
                    c.companion(Rule::RunAsRoot, "b", "second".into());
                },
                findings: &["error run-as-root a: first"],
            },
            Case {
                what: "a companion already opted out is not named",
                allowed: &[Rule::RunAsRoot],
                call: |c| c.companion(Rule::RunAsRoot, "a", "first".into()),
                findings: &[],
            },
            Case {
                what: "a warning carries no rule to opt out of",
                allowed: &[],
                call: |c| c.warn("spec.t", Rule::ServiceAccountToken, "kept".into()),
                findings: &["warning service-account-token spec.t: kept"],
            },
        ];
        for case in cases {
            let mut out = Vec::new();
            let mut ctx = Ctx {
                allowed: case.allowed.to_vec(),
                profile: PROFILE,
                family: Family::Kubernetes,
                out: &mut out,
            };
            (case.call)(&mut ctx);
            let got: Vec<String> = out.iter().map(render).collect();
            assert_eq!(got, case.findings, "{}", case.what);
            assert!(
                out.iter()
                    .all(|v| v.opt_out().is_some() == (v.rule.is_some())),
                "{}",
                case.what
            );
        }
    }
}
