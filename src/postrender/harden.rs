//! Hardens pods to the Pod Security Standards "restricted" profile and beyond (DESIGN §6):
//! missing settings are filled in, stricter ones kept, weaker explicit ones are errors unless the
//! object opts out of that one rule with `locust.project-planton.org/allow-<rule>: "true"`.

use super::pod::{CONTAINER_FIELDS, name_of, template_mut, template_path};
use crate::diag::{index, join};
use crate::values::{HOME_VOLUME, TMP_VOLUME};
use crate::yaml::{Map, Node};

pub const OPT_OUT_PREFIX: &str = "locust.project-planton.org/allow-";
/// The UID of the high-UID profile (`--high-uid`), for scanners that want ≥ 10000.
pub const HIGH_UID: i64 = 10001;

/// Rules a workload may opt out of, one annotation each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
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
}

pub const RULES: &[(Rule, &str)] = &[
    (Rule::RunAsRoot, "run-as-root"),
    (Rule::Privileged, "privileged"),
    (Rule::PrivilegeEscalation, "privilege-escalation"),
    (Rule::Capabilities, "capabilities"),
    (Rule::HostNamespaces, "host-namespaces"),
    (Rule::HostPorts, "host-ports"),
    (Rule::VolumeTypes, "volume-types"),
    (Rule::Seccomp, "seccomp"),
    (Rule::WritableRootFs, "writable-root-fs"),
    (Rule::ServiceAccountToken, "service-account-token"),
];

fn rule_name(rule: Rule) -> &'static str {
    RULES
        .iter()
        .find(|(r, _)| *r == rule)
        .map(|(_, n)| *n)
        .unwrap()
}

/// Volume types the restricted profile allows.
const ALLOWED_VOLUMES: &[&str] = &[
    "configMap",
    "secret",
    "emptyDir",
    "projected",
    "downwardAPI",
    "csi",
    "persistentVolumeClaim",
    "ephemeral",
    "image",
];

#[derive(Clone, Copy, Debug)]
pub struct Profile {
    pub uid: i64,
    /// Raise any explicit non-root UID below 10000 to `uid` (scanners such as CKV_K8S_40).
    pub high_uid: bool,
}

struct Ctx<'a> {
    allowed: Vec<Rule>,
    profile: Profile,
    errors: &'a mut Vec<String>,
}

impl Ctx<'_> {
    fn allows(&self, rule: Rule) -> bool {
        self.allowed.contains(&rule)
    }
    fn weaker(&mut self, rule: Rule, path: &str, what: &str) {
        if !self.allows(rule) {
            self.errors.push(format!(
                "{path}: {what} is not allowed by the restricted profile; to keep it, annotate the object with `{OPT_OUT_PREFIX}{}: \"true\"`",
                rule_name(rule)
            ));
        }
    }
}

/// Hardens one object (a workload or a ServiceAccount). Errors name the field.
pub fn harden(obj: &mut Node, profile: Profile) -> Result<(), Vec<String>> {
    let Some(kind) = super::pod::kind_of(obj).map(str::to_string) else {
        return Ok(());
    };
    let mut errors = Vec::new();
    if kind == "ServiceAccount" {
        let allowed = opt_outs(obj, None, &mut errors);
        let mut ctx = Ctx {
            allowed,
            profile,
            errors: &mut errors,
        };
        if let Some(m) = obj.as_map_mut() {
            default_false_or_error(
                m,
                "automountServiceAccountToken",
                "",
                Rule::ServiceAccountToken,
                &mut ctx,
            );
        }
        return if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        };
    }
    let Some(path) = template_path(&kind) else {
        return Ok(());
    };
    let template_annotations = obj
        .get_path(path)
        .and_then(|t| t.get_path(&["metadata", "annotations"]))
        .cloned();
    let allowed = opt_outs(obj, template_annotations.as_ref(), &mut errors);
    let spec_path = path
        .iter()
        .chain(["spec"].iter())
        .copied()
        .collect::<Vec<_>>()
        .join(".");
    let mut ctx = Ctx {
        allowed,
        profile,
        errors: &mut errors,
    };
    if let Some(spec) = template_mut(obj, path)
        .and_then(|t| t.as_map_mut())
        .map(|t| t.entry_map("spec"))
        && let Some(spec) = spec.as_map_mut()
    {
        harden_pod_spec(spec, &spec_path, &mut ctx);
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Opt-out annotations on the object or its pod template; an unknown `allow-` rule is an error
/// (a typo must not silently keep the default).
fn opt_outs(
    obj: &Node,
    template_annotations: Option<&Node>,
    errors: &mut Vec<String>,
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
            match RULES.iter().find(|(_, n)| *n == rule) {
                Some((r, _)) if v.as_str() == Some("true") => rules.push(*r),
                Some(_) => errors.push(format!(
                    "metadata.annotations[\"{key}\"]: must be \"true\" to opt out"
                )),
                None => errors.push(format!(
                    "metadata.annotations[\"{key}\"]: unknown opt-out `{rule}` on {}; known: {}",
                    name_of(obj),
                    RULES.iter().map(|(_, n)| *n).collect::<Vec<_>>().join(", ")
                )),
            }
        }
    }
    rules
}

fn default_false_or_error(m: &mut Map, field: &str, path: &str, rule: Rule, ctx: &mut Ctx) {
    match m.get(field).and_then(Node::as_bool) {
        Some(true) => ctx.weaker(rule, &join(path, field), &format!("`{field}: true`")),
        Some(false) => {}
        None if ctx.allows(rule) => {}
        None => m.insert(field, Node::bool(false)),
    }
}

fn default_true_or_error(m: &mut Map, field: &str, path: &str, rule: Rule, ctx: &mut Ctx) {
    match m.get(field).and_then(Node::as_bool) {
        Some(false) => ctx.weaker(rule, &join(path, field), &format!("`{field}: false`")),
        Some(true) => {}
        None if ctx.allows(rule) => {}
        None => m.insert(field, Node::bool(true)),
    }
}

fn harden_pod_spec(spec: &mut Map, path: &str, ctx: &mut Ctx) {
    for field in ["hostNetwork", "hostPID", "hostIPC"] {
        if spec.get(field).and_then(Node::as_bool) == Some(true) {
            ctx.weaker(
                Rule::HostNamespaces,
                &join(path, field),
                &format!("`{field}: true`"),
            );
        }
    }
    default_false_or_error(
        spec,
        "automountServiceAccountToken",
        path,
        Rule::ServiceAccountToken,
        ctx,
    );
    if !spec.contains_key("enableServiceLinks") {
        // Service links inject `<SERVICE>_PORT` variables that can clash with Locust's own env.
        spec.insert("enableServiceLinks", Node::bool(false));
    }
    check_volume_types(spec, path, ctx);
    harden_pod_security_context(spec, path, ctx);
    let writable = !ctx.allows(Rule::WritableRootFs);
    for field in CONTAINER_FIELDS {
        let Some(list) = spec.get_mut(field).and_then(Node::as_seq_mut) else {
            continue;
        };
        let mut needs = Vec::new();
        for (i, c) in list.iter_mut().enumerate() {
            let Some(c) = c.as_map_mut() else { continue };
            let cpath = index(&join(path, field), i);
            harden_container(c, &cpath, ctx);
            if writable && *field != "ephemeralContainers" {
                needs.extend(ensure_writable_mounts(c));
            }
        }
        for volume in needs {
            ensure_empty_dir(spec, volume);
        }
    }
}

fn check_volume_types(spec: &Map, path: &str, ctx: &mut Ctx) {
    let Some(volumes) = spec.get("volumes").and_then(Node::as_seq) else {
        return;
    };
    for (i, v) in volumes.iter().enumerate() {
        let Some(m) = v.as_map() else { continue };
        for (k, _) in m.iter() {
            let key = k.key_text();
            if key != "name" && !ALLOWED_VOLUMES.contains(&key.as_str()) {
                ctx.weaker(
                    Rule::VolumeTypes,
                    &index(&join(path, "volumes"), i),
                    &format!("a `{key}` volume"),
                );
            }
        }
    }
}

fn harden_pod_security_context(spec: &mut Map, path: &str, ctx: &mut Ctx) {
    let sc_path = join(path, "securityContext");
    let Some(sc) = spec.entry_map("securityContext").as_map_mut() else {
        ctx.errors.push(format!("{sc_path}: must be a mapping"));
        return;
    };
    default_true_or_error(sc, "runAsNonRoot", &sc_path, Rule::RunAsRoot, ctx);
    let uid = ctx.profile.uid;
    run_as_user(sc, &sc_path, ctx, true);
    if !sc.contains_key("runAsGroup") {
        sc.insert("runAsGroup", Node::int(uid));
    }
    if !sc.contains_key("fsGroup") {
        sc.insert("fsGroup", Node::int(uid));
    }
    seccomp(sc, &sc_path, ctx, true);
}

/// `runAsUser`: 0 is an error; missing is set at pod level; the high-UID profile raises low UIDs.
fn run_as_user(sc: &mut Map, path: &str, ctx: &mut Ctx, set_missing: bool) {
    match sc.get("runAsUser").and_then(Node::as_i64) {
        Some(0) => ctx.weaker(
            Rule::RunAsRoot,
            &join(path, "runAsUser"),
            "`runAsUser: 0` (root)",
        ),
        Some(u) if ctx.profile.high_uid && u < 10000 => {
            sc.insert("runAsUser", Node::int(ctx.profile.uid))
        }
        Some(_) => {}
        None if set_missing && !ctx.allows(Rule::RunAsRoot) => {
            sc.insert("runAsUser", Node::int(ctx.profile.uid))
        }
        None => {}
    }
}

fn seccomp(sc: &mut Map, path: &str, ctx: &mut Ctx, set_missing: bool) {
    let kind = sc
        .get("seccompProfile")
        .and_then(|s| s.get_path(&["type"]))
        .and_then(Node::as_str)
        .map(str::to_string);
    match kind.as_deref() {
        Some("RuntimeDefault" | "Localhost") => {}
        Some(other) => ctx.weaker(
            Rule::Seccomp,
            &join(path, "seccompProfile.type"),
            &format!("`{other}`"),
        ),
        None if set_missing && !ctx.allows(Rule::Seccomp) => {
            let mut m = Map::default();
            m.insert("type", Node::string("RuntimeDefault"));
            sc.insert("seccompProfile", Node::Map(m));
        }
        None => {}
    }
}

fn harden_container(c: &mut Map, path: &str, ctx: &mut Ctx) {
    if let Some(ports) = c.get("ports").and_then(Node::as_seq) {
        for (i, p) in ports.iter().enumerate() {
            if p.get_path(&["hostPort"])
                .and_then(Node::as_i64)
                .is_some_and(|h| h != 0)
            {
                ctx.weaker(
                    Rule::HostPorts,
                    &join(&index(&join(path, "ports"), i), "hostPort"),
                    "a host port",
                );
            }
        }
    }
    let sc_path = join(path, "securityContext");
    let Some(sc) = c.entry_map("securityContext").as_map_mut() else {
        ctx.errors.push(format!("{sc_path}: must be a mapping"));
        return;
    };
    default_false_or_error(
        sc,
        "allowPrivilegeEscalation",
        &sc_path,
        Rule::PrivilegeEscalation,
        ctx,
    );
    default_false_or_error(sc, "privileged", &sc_path, Rule::Privileged, ctx);
    default_true_or_error(
        sc,
        "readOnlyRootFilesystem",
        &sc_path,
        Rule::WritableRootFs,
        ctx,
    );
    default_true_or_error(sc, "runAsNonRoot", &sc_path, Rule::RunAsRoot, ctx);
    run_as_user(sc, &sc_path, ctx, false);
    seccomp(sc, &sc_path, ctx, false);
    capabilities(sc, &sc_path, ctx);
}

fn capabilities(sc: &mut Map, path: &str, ctx: &mut Ctx) {
    let cap_path = join(path, "capabilities");
    let allow = ctx.allows(Rule::Capabilities);
    let Some(caps) = sc.entry_map("capabilities").as_map_mut() else {
        ctx.errors.push(format!("{cap_path}: must be a mapping"));
        return;
    };
    if let Some(add) = caps.get("add").and_then(Node::as_seq) {
        for (i, a) in add.iter().enumerate() {
            let name = a.as_str().unwrap_or("");
            if name != "NET_BIND_SERVICE" {
                ctx.weaker(
                    Rule::Capabilities,
                    &index(&join(&cap_path, "add"), i),
                    &format!("adding capability `{name}`"),
                );
            }
        }
    }
    if allow {
        return;
    }
    let drop = caps.entry_seq("drop");
    if let Some(list) = drop.as_seq_mut()
        && !list.iter().any(|d| d.as_str() == Some("ALL"))
    {
        list.push(Node::string("ALL"));
    }
}

/// Mounts emptyDirs where a read-only root file system still needs writes: `/tmp` everywhere,
/// and Locust's home in the `locust` container. Returns the volumes the pod must then have.
fn ensure_writable_mounts(c: &mut Map) -> Vec<(&'static str, &'static str)> {
    // The chart's Locust container is always named `locust`.
    let is_locust = c.get("name").and_then(Node::as_str) == Some("locust");
    let wanted: &[(&str, &str)] = if is_locust {
        &[TMP_VOLUME, HOME_VOLUME]
    } else {
        &[TMP_VOLUME]
    };
    let mounts = c.entry_seq("volumeMounts");
    let Some(list) = mounts.as_seq_mut() else {
        return Vec::new();
    };
    let mut needed = Vec::new();
    for (volume, mount_path) in wanted {
        if !list
            .iter()
            .any(|m| m.get_path(&["mountPath"]).and_then(Node::as_str) == Some(mount_path))
        {
            let mut m = Map::default();
            m.insert("name", Node::string(*volume));
            m.insert("mountPath", Node::string(*mount_path));
            list.push(Node::Map(m));
            needed.push((*volume, *mount_path));
        } else if list
            .iter()
            .any(|m| m.get_path(&["name"]).and_then(Node::as_str) == Some(volume))
        {
            needed.push((*volume, *mount_path));
        }
    }
    needed
}

fn ensure_empty_dir(spec: &mut Map, (volume, _): (&str, &str)) {
    let volumes = spec.entry_seq("volumes");
    let Some(list) = volumes.as_seq_mut() else {
        return;
    };
    if !list
        .iter()
        .any(|v| v.get_path(&["name"]).and_then(Node::as_str) == Some(volume))
    {
        let mut m = Map::default();
        m.insert("name", Node::string(volume));
        m.insert("emptyDir", Node::map());
        list.push(Node::Map(m));
    }
}
