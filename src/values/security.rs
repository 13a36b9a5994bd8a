//! The security contexts written into values (and enforced again by the post-renderer).

use crate::yaml::{Map, Node};

fn seccomp() -> Node {
    let mut m = Map::default();
    m.insert("type", Node::string("RuntimeDefault"));
    Node::Map(m)
}

pub fn pod_security_context(uid: i64) -> Node {
    let mut m = Map::default();
    m.insert("runAsNonRoot", Node::bool(true));
    m.insert("runAsUser", Node::int(uid));
    m.insert("runAsGroup", Node::int(uid));
    m.insert("fsGroup", Node::int(uid));
    m.insert("seccompProfile", seccomp());
    Node::Map(m)
}

pub fn container_security_context(uid: i64) -> Node {
    let mut caps = Map::default();
    caps.insert("drop", Node::Seq(vec![Node::string("ALL")]));
    let mut m = Map::default();
    m.insert("allowPrivilegeEscalation", Node::bool(false));
    m.insert("privileged", Node::bool(false));
    m.insert("readOnlyRootFilesystem", Node::bool(true));
    m.insert("runAsNonRoot", Node::bool(true));
    m.insert("runAsUser", Node::int(uid));
    m.insert("runAsGroup", Node::int(uid));
    m.insert("capabilities", Node::Map(caps));
    m.insert("seccompProfile", seccomp());
    Node::Map(m)
}
