//! ServiceAccounts that a RoleBinding or ClusterRoleBinding in the same stream binds: their pods
//! call the API, so hardening leaves them their token (with a warning).

use super::pod::{kind_of, name_of};
use crate::yaml::Node;

/// The ServiceAccounts bindings in a stream name.
#[derive(Clone, Debug, Default)]
pub struct BoundAccounts {
    /// (namespace, name) of the account → the bindings naming it (`RoleBinding x`).
    bound: Vec<(Option<String>, String, String)>,
}

impl BoundAccounts {
    /// Records the ServiceAccount subjects of a binding object.
    pub fn record(&mut self, obj: &Node) {
        let kind = kind_of(obj).unwrap_or("");
        if !matches!(kind, "RoleBinding" | "ClusterRoleBinding") {
            return;
        }
        let own_ns = obj
            .get_path(&["metadata", "namespace"])
            .and_then(Node::as_str)
            .map(str::to_string);
        let binding = format!("{kind} {}", name_of(obj));
        for subject in obj
            .get_path(&["subjects"])
            .and_then(Node::as_seq)
            .into_iter()
            .flatten()
        {
            if subject.get_path(&["kind"]).and_then(Node::as_str) != Some("ServiceAccount") {
                continue;
            }
            let Some(name) = subject.get_path(&["name"]).and_then(Node::as_str) else {
                continue;
            };
            let ns = subject
                .get_path(&["namespace"])
                .and_then(Node::as_str)
                .map(str::to_string)
                .or_else(|| own_ns.clone());
            self.bound.push((ns, name.to_string(), binding.clone()));
        }
    }

    /// The bindings of this account (a missing namespace matches any: Helm fills in the
    /// release's).
    pub fn bindings_of(&self, namespace: Option<&str>, name: &str) -> Vec<String> {
        self.bound
            .iter()
            .filter(|(ns, n, _)| {
                n == name
                    && match (ns.as_deref(), namespace) {
                        (Some(a), Some(b)) => a == b,
                        _ => true,
                    }
            })
            .map(|(_, _, b)| b.clone())
            .collect()
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::testing::documents;

    struct Case {
        what: &'static str,
        objects: &'static str,
        namespace: Option<&'static str>,
        account: &'static str,
        bindings: &'static [&'static str],
    }

    #[test]
    fn accounts_named_by_bindings() {
        let cases = [
            Case {
                what: "a RoleBinding in the account's namespace",
                objects: "kind: RoleBinding\nmetadata: {name: b, namespace: ns}\nsubjects: [{kind: ServiceAccount, name: sa}]\n",
                namespace: Some("ns"),
                account: "sa",
                bindings: &["RoleBinding b"],
            },
            Case {
                what: "another namespace",
                objects: "kind: RoleBinding\nmetadata: {name: b, namespace: ns}\nsubjects: [{kind: ServiceAccount, name: sa}]\n",
                namespace: Some("other"),
                account: "sa",
                bindings: &[],
            },
            Case {
                what: "the subject's namespace wins over the binding's",
                objects: "kind: ClusterRoleBinding\nmetadata: {name: c}\nsubjects: [{kind: ServiceAccount, name: sa, namespace: x}]\n",
                namespace: Some("x"),
                account: "sa",
                bindings: &["ClusterRoleBinding c"],
            },
            Case {
                what: "no namespace on either side matches any (Helm fills in the release's)",
                objects: "kind: RoleBinding\nmetadata: {name: b}\nsubjects: [{kind: ServiceAccount, name: sa}]\n",
                namespace: Some("ns"),
                account: "sa",
                bindings: &["RoleBinding b"],
            },
            Case {
                what: "users and groups are not accounts; other kinds bind nothing",
                objects: "kind: RoleBinding\nmetadata: {name: b}\nsubjects: [{kind: User, name: sa}, {kind: Group, name: sa}, {kind: ServiceAccount}]\n---\nkind: Role\nmetadata: {name: r}\nsubjects: [{kind: ServiceAccount, name: sa}]\n",
                namespace: None,
                account: "sa",
                bindings: &[],
            },
            Case {
                what: "every binding naming it",
                objects: "kind: RoleBinding\nmetadata: {name: a}\nsubjects: [{kind: ServiceAccount, name: sa}]\n---\nkind: RoleBinding\nmetadata: {name: b}\nsubjects: [{kind: ServiceAccount, name: other}, {kind: ServiceAccount, name: sa}]\n",
                namespace: None,
                account: "sa",
                bindings: &["RoleBinding a", "RoleBinding b"],
            },
        ];
        for case in cases {
            let mut bound = BoundAccounts::default();
            for obj in documents(case.objects) {
                bound.record(&obj);
            }
            assert_eq!(
                bound.bindings_of(case.namespace, case.account),
                case.bindings,
                "{}",
                case.what
            );
        }
    }
}
