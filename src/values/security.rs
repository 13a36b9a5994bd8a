//! The security contexts written into values. They are not stated here: they are what the
//! post-renderer's hardening gives a pod that sets none (`policy::harden`), so values and the
//! post-renderer cannot drift apart.

use crate::policy::harden::{Profile, default_security_contexts};
use crate::yaml::{Map, Node};

fn profile(uid: i64) -> Profile {
    Profile {
        uid,
        high_uid: false,
    }
}

pub fn pod_security_context(uid: i64) -> Node {
    default_security_contexts(profile(uid)).0
}

/// The hardened container context plus the pod's identity (UID, GID, seccomp profile): the
/// chart gives its one `securityContext` value to every container, including ones a user adds
/// in `helmValues`, so each container states who it runs as even where the pod is overridden.
pub fn container_security_context(uid: i64) -> Node {
    let (pod, container) = default_security_contexts(profile(uid));
    let from_pod = |key: &str| pod.get_path(&[key]).cloned().expect("hardened pod context");
    let mut out = Map::default();
    for (key, value) in container
        .as_map()
        .expect("a security context is a mapping")
        .iter()
    {
        out.insert_node(key.clone(), value.clone());
        if key.as_str() == Some("runAsNonRoot") {
            out.insert("runAsUser", from_pod("runAsUser"));
            out.insert("runAsGroup", from_pod("runAsGroup"));
        }
    }
    out.insert("seccompProfile", from_pod("seccompProfile"));
    Node::Map(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::emit_document;

    #[test]
    fn the_contexts_are_the_hardening_of_an_empty_pod() {
        assert_eq!(
            emit_document(&pod_security_context(1000)),
            "runAsNonRoot: true\nrunAsUser: 1000\nrunAsGroup: 1000\nfsGroup: 1000\nseccompProfile:\n  type: RuntimeDefault\n"
        );
        assert_eq!(
            emit_document(&container_security_context(10001)),
            "allowPrivilegeEscalation: false\nprivileged: false\nreadOnlyRootFilesystem: true\nrunAsNonRoot: true\nrunAsUser: 10001\nrunAsGroup: 10001\ncapabilities:\n  drop:\n  - ALL\nseccompProfile:\n  type: RuntimeDefault\n"
        );
    }
}
