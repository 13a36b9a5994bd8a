//! The rule catalogue: every rule a workload may opt out of, and everything known about it —
//! its name (the opt-out annotation is `locust.project-planton.org/allow-<name>`), the rule set
//! it comes from, and the Pod Security Admission level a pod still meets once it is opted out.
//! Each property is an exhaustive `match`: a new rule does not compile until every property is
//! given, and the list of all rules is written by the same macro that declares the enum.

pub use crate::contract::OPT_OUT_PREFIX;

/// Declares [`Rule`] and [`Rule::ALL`] from one list, so no rule can be missing from `ALL`.
macro_rules! rules {
    ($($rule:ident),+ $(,)?) => {
        /// Rules a workload may opt out of, one annotation each.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Rule {
            $($rule),+
        }

        impl Rule {
            /// Every rule, in the order messages list them.
            pub const ALL: &'static [Rule] = &[$(Rule::$rule),+];
        }
    };
}

rules! {
    RunAsRoot,
    Privileged,
    PrivilegeEscalation,
    Capabilities,
    HostNamespaces,
    HostPorts,
    VolumeTypes,
    Seccomp,
    WritableRootFs,
    ServiceAccountToken,
    ProcMount,
    SeLinux,
    AppArmor,
    Sysctls,
    HostProcess,
}

/// Where a rule comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleSet {
    /// The Pod Security Standards' baseline profile.
    Baseline,
    /// The Pod Security Standards' restricted profile (beyond baseline).
    Restricted,
    /// This tool's own rules, in neither profile.
    Own,
}

impl RuleSet {
    /// The set as messages name it.
    pub fn describe(self) -> &'static str {
        match self {
            RuleSet::Baseline => "the Pod Security Standards' baseline profile",
            RuleSet::Restricted => "the Pod Security Standards' restricted profile",
            RuleSet::Own => "locust-planton's own rules (not part of the Pod Security Standards)",
        }
    }
}

/// The Pod Security Admission levels, from the strictest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Restricted,
    Baseline,
    Privileged,
}

impl Level {
    /// The level as a namespace label writes it.
    pub fn label(self) -> &'static str {
        match self {
            Level::Restricted => "restricted",
            Level::Baseline => "baseline",
            Level::Privileged => "privileged",
        }
    }
}

impl Rule {
    /// The rule's name: its opt-out annotation ends in it, reports name the rule by it.
    pub fn name(self) -> &'static str {
        match self {
            Rule::RunAsRoot => "run-as-root",
            Rule::Privileged => "privileged",
            Rule::PrivilegeEscalation => "privilege-escalation",
            Rule::Capabilities => "capabilities",
            Rule::HostNamespaces => "host-namespaces",
            Rule::HostPorts => "host-ports",
            Rule::VolumeTypes => "volume-types",
            Rule::Seccomp => "seccomp",
            Rule::WritableRootFs => "writable-root-fs",
            Rule::ServiceAccountToken => "service-account-token",
            Rule::ProcMount => "proc-mount",
            Rule::SeLinux => "selinux",
            Rule::AppArmor => "apparmor",
            Rule::Sysctls => "sysctls",
            Rule::HostProcess => "host-process",
        }
    }

    /// The rule set the rule belongs to.
    pub fn set(self) -> RuleSet {
        match self {
            Rule::Privileged
            | Rule::HostNamespaces
            | Rule::HostPorts
            | Rule::ProcMount
            | Rule::SeLinux
            | Rule::AppArmor
            | Rule::Sysctls
            | Rule::HostProcess => RuleSet::Baseline,
            Rule::RunAsRoot
            | Rule::PrivilegeEscalation
            | Rule::Capabilities
            | Rule::VolumeTypes
            | Rule::Seccomp => RuleSet::Restricted,
            Rule::WritableRootFs | Rule::ServiceAccountToken => RuleSet::Own,
        }
    }

    /// The annotation that opts a workload out of the rule.
    pub fn opt_out_annotation(self) -> String {
        format!("{OPT_OUT_PREFIX}{}", self.name())
    }

    /// The strictest admission level a pod with this rule opted out can still meet. The tool's
    /// own rules are in neither profile; opting out of a baseline rule — or of one whose field
    /// can also carry what baseline forbids (volume types admit `hostPath`, seccomp admits
    /// `Unconfined`) — leaves only `privileged`.
    pub fn admission_when_opted_out(self) -> Level {
        match self {
            Rule::Privileged
            | Rule::HostNamespaces
            | Rule::HostPorts
            | Rule::VolumeTypes
            | Rule::Seccomp
            | Rule::ProcMount
            | Rule::SeLinux
            | Rule::AppArmor
            | Rule::Sysctls
            | Rule::HostProcess => Level::Privileged,
            Rule::RunAsRoot | Rule::PrivilegeEscalation | Rule::Capabilities => Level::Baseline,
            Rule::WritableRootFs | Rule::ServiceAccountToken => Level::Restricted,
        }
    }

    /// The rule a name denotes (`run-as-root`).
    pub fn from_name(name: &str) -> Option<Rule> {
        Rule::ALL.iter().copied().find(|r| r.name() == name)
    }
}

/// The strictest Pod Security Admission level (`restricted`, `baseline`, `privileged`) that pods
/// with these rules opted out can still meet.
pub fn admission_level(opted_out: &[Rule]) -> &'static str {
    opted_out
        .iter()
        .map(|r| r.admission_when_opted_out())
        .max()
        .unwrap_or(Level::Restricted)
        .label()
}

/// The rule an annotation key opts out of (`locust.project-planton.org/allow-<rule>`).
pub fn rule_of_annotation(key: &str) -> Option<Rule> {
    Rule::from_name(key.strip_prefix(OPT_OUT_PREFIX)?)
}

/// The rule's name (`run-as-root`).
pub fn rule_name(rule: Rule) -> &'static str {
    rule.name()
}

/// Which set of rules a rule belongs to, for messages.
pub fn rule_source(rule: Rule) -> &'static str {
    rule.set().describe()
}

/// Every rule's name, as an unknown opt-out's message lists them.
pub fn known_names() -> String {
    Rule::ALL
        .iter()
        .map(|r| r.name())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One row per rule: every property the catalogue gives it.
    struct Row {
        rule: Rule,
        name: &'static str,
        set: RuleSet,
        level_opted_out: &'static str,
    }

    #[test]
    fn every_rule_and_its_properties() {
        let rows = [
            Row {
                rule: Rule::RunAsRoot,
                name: "run-as-root",
                set: RuleSet::Restricted,
                level_opted_out: "baseline",
            },
            Row {
                rule: Rule::Privileged,
                name: "privileged",
                set: RuleSet::Baseline,
                level_opted_out: "privileged",
            },
            Row {
                rule: Rule::PrivilegeEscalation,
                name: "privilege-escalation",
                set: RuleSet::Restricted,
                level_opted_out: "baseline",
            },
            Row {
                rule: Rule::Capabilities,
                name: "capabilities",
                set: RuleSet::Restricted,
                level_opted_out: "baseline",
            },
            Row {
                rule: Rule::HostNamespaces,
                name: "host-namespaces",
                set: RuleSet::Baseline,
                level_opted_out: "privileged",
            },
            Row {
                rule: Rule::HostPorts,
                name: "host-ports",
                set: RuleSet::Baseline,
                level_opted_out: "privileged",
            },
            Row {
                rule: Rule::VolumeTypes,
                name: "volume-types",
                set: RuleSet::Restricted,
                level_opted_out: "privileged",
            },
            Row {
                rule: Rule::Seccomp,
                name: "seccomp",
                set: RuleSet::Restricted,
                level_opted_out: "privileged",
            },
            Row {
                rule: Rule::WritableRootFs,
                name: "writable-root-fs",
                set: RuleSet::Own,
                level_opted_out: "restricted",
            },
            Row {
                rule: Rule::ServiceAccountToken,
                name: "service-account-token",
                set: RuleSet::Own,
                level_opted_out: "restricted",
            },
            Row {
                rule: Rule::ProcMount,
                name: "proc-mount",
                set: RuleSet::Baseline,
                level_opted_out: "privileged",
            },
            Row {
                rule: Rule::SeLinux,
                name: "selinux",
                set: RuleSet::Baseline,
                level_opted_out: "privileged",
            },
            Row {
                rule: Rule::AppArmor,
                name: "apparmor",
                set: RuleSet::Baseline,
                level_opted_out: "privileged",
            },
            Row {
                rule: Rule::Sysctls,
                name: "sysctls",
                set: RuleSet::Baseline,
                level_opted_out: "privileged",
            },
            Row {
                rule: Rule::HostProcess,
                name: "host-process",
                set: RuleSet::Baseline,
                level_opted_out: "privileged",
            },
        ];
        let listed: Vec<Rule> = rows.iter().map(|r| r.rule).collect();
        assert_eq!(listed, Rule::ALL, "one row per rule, in catalogue order");
        for row in rows {
            assert_eq!(row.rule.name(), row.name, "{:?}", row.rule);
            assert_eq!(row.rule.set(), row.set, "{:?}", row.rule);
            assert_eq!(
                admission_level(&[row.rule]),
                row.level_opted_out,
                "{:?}",
                row.rule
            );
            assert_eq!(
                row.rule.opt_out_annotation(),
                format!("locust.project-planton.org/allow-{}", row.name)
            );
            assert_eq!(
                rule_of_annotation(&row.rule.opt_out_annotation()),
                Some(row.rule)
            );
        }
    }

    #[test]
    fn admission_levels() {
        struct Case {
            opted_out: &'static [Rule],
            level: &'static str,
        }
        let cases = [
            Case {
                opted_out: &[],
                level: "restricted",
            },
            Case {
                opted_out: &[Rule::WritableRootFs, Rule::ServiceAccountToken],
                level: "restricted",
            },
            Case {
                opted_out: &[Rule::RunAsRoot],
                level: "baseline",
            },
            Case {
                opted_out: &[Rule::Capabilities, Rule::HostPorts],
                level: "privileged",
            },
            Case {
                opted_out: &[Rule::HostPorts, Rule::Capabilities],
                level: "privileged",
            },
        ];
        for case in cases {
            assert_eq!(
                admission_level(case.opted_out),
                case.level,
                "{:?}",
                case.opted_out
            );
        }
    }

    #[test]
    fn annotations_and_names() {
        struct Case {
            key: &'static str,
            rule: Option<Rule>,
        }
        let cases = [
            Case {
                key: "locust.project-planton.org/allow-seccomp",
                rule: Some(Rule::Seccomp),
            },
            Case {
                key: "locust.project-planton.org/allow-everything",
                rule: None,
            },
            Case {
                key: "allow-seccomp",
                rule: None,
            },
            Case {
                key: "example.com/allow-seccomp",
                rule: None,
            },
        ];
        for case in cases {
            assert_eq!(rule_of_annotation(case.key), case.rule, "{}", case.key);
        }
        assert!(known_names().starts_with("run-as-root, privileged, privilege-escalation"));
        assert_eq!(known_names().split(", ").count(), Rule::ALL.len());
    }

    #[test]
    fn rule_sets_as_messages_name_them() {
        assert_eq!(
            rule_source(Rule::Privileged),
            "the Pod Security Standards' baseline profile"
        );
        assert_eq!(
            rule_source(Rule::Seccomp),
            "the Pod Security Standards' restricted profile"
        );
        assert_eq!(
            rule_source(Rule::ServiceAccountToken),
            "locust-planton's own rules (not part of the Pod Security Standards)"
        );
    }
}
