//! Hardens pods to the Pod Security Standards "baseline" and "restricted" profiles and this
//! tool's own rules (non-root UID, no service-account token, read-only root file system; the
//! docs/post-renderer.md lists them): missing settings are filled in, stricter ones
//! kept, weaker explicit ones are errors unless the object or its pod template opts out of that
//! one rule with `locust.project-planton.org/allow-<rule>: "true"`. Every pod spec the object
//! holds is hardened, wherever it is ([`super::pod::pod_specs`]). A field of the wrong type
//! (`privileged: "true"`, a list where a mapping belongs) is refused: Kubernetes would reject it,
//! and this filter must never pass on what it could not judge.

use super::opt_outs::opt_outs;
use super::pod::{
    CONTAINER_FIELDS, Family, Malformed, PodSpecAt, display, get, get_mut, name_of, pod_specs,
};
use super::readers::{
    boolean, default_false_or_error, default_true_or_error, integer, mapping, string, sub_map,
};
use super::violation::Ctx;
use crate::contract::{HOME_VOLUME, TMP_VOLUME};
use crate::diag::{index, join};
use crate::yaml::{Map, Node};

pub use super::bound_accounts::BoundAccounts;
pub use super::rules::{Rule, admission_level, rule_name, rule_of_annotation, rule_source};
pub use super::violation::{Severity, Violation};
pub use crate::contract::{HIGH_UID, OPT_OUT_PREFIX};

// The mutant-* features break the hardening on purpose for tests/mutants.rs: never in a release.
#[cfg(all(
    not(debug_assertions),
    any(feature = "mutant-skip-seccomp", feature = "mutant-skip-statefulset")
))]
compile_error!("mutant-* features are test-only: they build only with debug assertions");

/// Sysctls the baseline profile allows (namespaced and safe).
const SAFE_SYSCTLS: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];

/// SELinux types the baseline profile allows (besides none).
const SELINUX_TYPES: &[&str] = &[
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

const APPARMOR_ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

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

/// Hardens one object (anything holding pod specs, or a ServiceAccount). Returns where its pod
/// specs are, and every violation (errors and warnings), each naming the field.
pub fn harden(
    obj: &mut Node,
    profile: Profile,
    bound: &BoundAccounts,
) -> (Vec<PodSpecAt>, Vec<Violation>) {
    let namespace = obj
        .get_path(&["metadata", "namespace"])
        .and_then(Node::as_str)
        .map(str::to_string);
    let on = Target {
        profile,
        bound,
        namespace: namespace.as_deref(),
    };
    if super::pod::kind_of(obj) == Some("ServiceAccount") {
        return (Vec::new(), harden_service_account(obj, &on));
    }
    let specs = match pod_specs(obj) {
        Ok(specs) => specs,
        Err(errors) => {
            return (
                Vec::new(),
                errors.into_iter().map(malformed_pod_spec).collect(),
            );
        }
    };
    let mut out = Vec::new();
    for at in &specs {
        harden_pod_spec_at(obj, at, &on, &mut out);
    }
    out.dedup();
    (specs, out)
}

/// What hardening an object's pods depends on besides the object: the profile, the accounts
/// bindings in the stream name, and the object's namespace.
struct Target<'a> {
    profile: Profile,
    bound: &'a BoundAccounts,
    namespace: Option<&'a str>,
}

/// A malformed pod template, as a violation no opt-out allows.
fn malformed_pod_spec(e: Malformed) -> Violation {
    Violation::malformed(e.field, e.message)
}

/// A ServiceAccount mounts no token, unless a binding in the stream gives it a role.
fn harden_service_account(obj: &mut Node, on: &Target) -> Vec<Violation> {
    let mut out = Vec::new();
    let allowed = opt_outs(obj, None, &mut out);
    let bindings = on.bound.bindings_of(on.namespace, name_of(obj));
    let mut ctx = Ctx {
        allowed,
        profile: on.profile,
        family: Family::Kubernetes,
        out: &mut out,
    };
    if !bindings.is_empty() {
        ctx.warn(
            "automountServiceAccountToken",
            Rule::ServiceAccountToken,
            format!(
                "the token is kept: {} binds this ServiceAccount to a role, so its pods call the API",
                bindings.join(", ")
            ),
        );
    } else if let Some(m) = obj.as_map_mut() {
        default_false_or_error(
            m,
            "automountServiceAccountToken",
            "",
            Rule::ServiceAccountToken,
            &mut ctx,
        );
    }
    out
}

/// Hardens the pod spec at `at`, with the opt-outs of the object and of its pod template.
fn harden_pod_spec_at(obj: &mut Node, at: &PodSpecAt, on: &Target, out: &mut Vec<Violation>) {
    let template_annotations = at
        .template
        .as_ref()
        .and_then(|t| get(obj, t))
        .and_then(|t| t.get_path(&["metadata", "annotations"]))
        .cloned();
    // A Pod is its own template: its annotations are read for opt-outs once.
    let is_own_template = at.template.as_ref().is_some_and(|t| t.is_empty());
    let allowed = opt_outs(
        obj,
        template_annotations.as_ref().filter(|_| !is_own_template),
        out,
    );
    let account = at_spec_account(obj, at);
    let mut ctx = Ctx {
        allowed,
        profile: on.profile,
        family: at.family,
        out,
    };
    if let Some(a) = &template_annotations {
        check_apparmor_annotations(a, at, &mut ctx);
    }
    let path = display(&at.spec);
    if let Some(account) = account {
        keep_a_bound_token(&account, on, &path, &mut ctx);
    }
    if let Some(spec) = get_mut(obj, &at.spec).and_then(Node::as_map_mut) {
        harden_pod_spec(spec, &path, &mut ctx);
    }
}

/// A pod running as an account a binding in the stream names keeps its token (with a warning).
fn keep_a_bound_token(account: &str, on: &Target, path: &str, ctx: &mut Ctx) {
    let bindings = on.bound.bindings_of(on.namespace, account);
    if bindings.is_empty() {
        return;
    }
    ctx.warn(
        &join(path, "automountServiceAccountToken"),
        Rule::ServiceAccountToken,
        format!(
            "the service-account token is kept: the pod runs as ServiceAccount {account}, which {} binds to a role",
            bindings.join(", ")
        ),
    );
    ctx.allowed.push(Rule::ServiceAccountToken);
}

/// The ServiceAccount a pod spec runs as (`serviceAccountName`, or the older `serviceAccount`).
fn at_spec_account(obj: &Node, at: &PodSpecAt) -> Option<String> {
    let spec = get(obj, &at.spec)?;
    ["serviceAccountName", "serviceAccount"]
        .iter()
        .find_map(|f| spec.get_path(&[f]).and_then(Node::as_str))
        .map(str::to_string)
}

/// The AppArmor annotation (before the `appArmorProfile` field): `unconfined` is refused.
fn check_apparmor_annotations(annotations: &Node, at: &PodSpecAt, ctx: &mut Ctx) {
    let Some(map) = annotations.as_map() else {
        return;
    };
    let template = at.template.as_deref().map(display).unwrap_or_default();
    for (k, v) in map.iter() {
        let key = k.key_text();
        if key.starts_with(APPARMOR_ANNOTATION_PREFIX) && v.as_str() == Some("unconfined") {
            let annotations = if template.is_empty() {
                "metadata.annotations".to_string()
            } else {
                format!("{template}.metadata.annotations")
            };
            ctx.weaker(
                Rule::AppArmor,
                &crate::diag::join(&annotations, &key),
                "`unconfined`",
            );
        }
    }
}

fn harden_pod_spec(spec: &mut Map, path: &str, ctx: &mut Ctx) {
    for field in ["hostNetwork", "hostPID", "hostIPC"] {
        if boolean(spec, field, path, ctx) == Some(true) {
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
    // Knative Serving admits a pod-level securityContext only behind a feature flag: an
    // existing one is checked, none is added (each container gets the settings instead).
    if ctx.family == Family::Kubernetes || spec.get("securityContext").is_some_and(|s| !s.is_null())
    {
        harden_pod_security_context(spec, path, ctx);
    }
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
            if ctx.family == Family::Knative {
                harden_knative_container(c, &cpath, ctx);
            }
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
        let Some(m) = v.as_map() else {
            ctx.malformed(
                index(&join(path, "volumes"), i),
                format!("a volume must be a mapping, not {}", v.type_name()),
            );
            continue;
        };
        let sources = m
            .get("projected")
            .and_then(|p| p.get_path(&["sources"]))
            .and_then(Node::as_seq);
        for (j, src) in sources.into_iter().flatten().enumerate() {
            if src.get_path(&["serviceAccountToken"]).is_some() {
                ctx.weaker(
                    Rule::ServiceAccountToken,
                    &format!(
                        "{}.projected.sources[{j}].serviceAccountToken",
                        index(&join(path, "volumes"), i)
                    ),
                    "a projected service-account token",
                );
            }
        }
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
    if let Some(sc) = mapping(spec, "securityContext", path, ctx) {
        harden_pod_context(sc, &sc_path, ctx);
    }
}

/// The pod-level `securityContext` mapping at `sc_path`.
fn harden_pod_context(sc: &mut Map, sc_path: &str, ctx: &mut Ctx) {
    let sc_path = sc_path.to_string();
    default_true_or_error(sc, "runAsNonRoot", &sc_path, Rule::RunAsRoot, ctx);
    let uid = ctx.profile.uid;
    run_as_user(sc, &sc_path, ctx, true);
    // With `run-as-root` allowed, the groups stay as the chart set them: the opt-out relaxes the
    // user, and nothing it does not itself force.
    for field in ["runAsGroup", "fsGroup"] {
        if integer(sc, field, &sc_path, ctx).is_none()
            && sc.get(field).is_none_or(|v| v.is_null())
            && !ctx.allows(Rule::RunAsRoot)
        {
            sc.insert(field, Node::int(uid));
        }
    }
    seccomp(sc, &sc_path, ctx, true);
    baseline_options(sc, &sc_path, ctx);
    if let Some(sysctls) = sc.get("sysctls").filter(|v| !v.is_null()) {
        let at = join(&sc_path, "sysctls");
        match sysctls.as_seq() {
            None => ctx.malformed(at, format!("must be a list, not {}", sysctls.type_name())),
            Some(list) => {
                let names: Vec<(usize, String)> = list
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        (
                            i,
                            s.get_path(&["name"])
                                .and_then(Node::as_str)
                                .unwrap_or("")
                                .to_string(),
                        )
                    })
                    .collect();
                for (i, name) in names {
                    if !SAFE_SYSCTLS.contains(&name.as_str()) {
                        ctx.weaker(
                            Rule::Sysctls,
                            &join(&index(&at, i), "name"),
                            &format!(
                                "the sysctl `{name}` (outside the baseline profile's safe set)"
                            ),
                        );
                    }
                }
            }
        }
    }
}

/// Settings the baseline profile restricts at pod and container level: SELinux options,
/// AppArmor, Windows host processes.
fn baseline_options(sc: &mut Map, path: &str, ctx: &mut Ctx) {
    if let Some((at, se)) = sub_map(sc, "seLinuxOptions", path, ctx) {
        if let Some(t) = string(&se, "type", &at, ctx).filter(|t| !t.is_empty())
            && !SELINUX_TYPES.contains(&t)
        {
            ctx.weaker(
                Rule::SeLinux,
                &join(&at, "type"),
                &format!("the SELinux type `{t}`"),
            );
        }
        for field in ["user", "role"] {
            if let Some(v) = string(&se, field, &at, ctx).filter(|v| !v.is_empty()) {
                ctx.weaker(
                    Rule::SeLinux,
                    &join(&at, field),
                    &format!("setting the SELinux {field} (`{v}`)"),
                );
            }
        }
    }
    if let Some((at, aa)) = sub_map(sc, "appArmorProfile", path, ctx)
        && let Some(t) = string(&aa, "type", &at, ctx)
        && !matches!(t, "RuntimeDefault" | "Localhost")
    {
        ctx.weaker(Rule::AppArmor, &join(&at, "type"), &format!("`{t}`"));
    }
    if let Some((at, w)) = sub_map(sc, "windowsOptions", path, ctx)
        && boolean(&w, "hostProcess", &at, ctx) == Some(true)
    {
        ctx.weaker(
            Rule::HostProcess,
            &join(&at, "hostProcess"),
            "`hostProcess: true`",
        );
    }
}

/// `runAsUser`: 0 is an error; missing is set at pod level; the high-UID profile raises low UIDs.
fn run_as_user(sc: &mut Map, path: &str, ctx: &mut Ctx, set_missing: bool) {
    let present = sc.get("runAsUser").is_some_and(|v| !v.is_null());
    match integer(sc, "runAsUser", path, ctx) {
        Some(0) => ctx.weaker(
            Rule::RunAsRoot,
            &join(path, "runAsUser"),
            "`runAsUser: 0` (root)",
        ),
        Some(u) if ctx.profile.high_uid && u < 10000 => {
            sc.insert("runAsUser", Node::int(ctx.profile.uid))
        }
        Some(_) => {}
        None if present => {}
        None if set_missing && !ctx.allows(Rule::RunAsRoot) => {
            sc.insert("runAsUser", Node::int(ctx.profile.uid))
        }
        None => {}
    }
}

fn seccomp(sc: &mut Map, path: &str, ctx: &mut Ctx, set_missing: bool) {
    #[cfg(feature = "mutant-skip-seccomp")]
    return;
    let present = sc.get("seccompProfile").is_some_and(|v| !v.is_null());
    if present && sc.get("seccompProfile").and_then(Node::as_map).is_none() {
        sub_map(sc, "seccompProfile", path, ctx);
        return;
    }
    let kind = sub_map(sc, "seccompProfile", path, ctx)
        .and_then(|(at, p)| string(&p, "type", &at, ctx).map(str::to_string));
    match kind.as_deref() {
        Some("RuntimeDefault" | "Localhost") => {}
        Some(other) => ctx.weaker(
            Rule::Seccomp,
            &join(&join(path, "seccompProfile"), "type"),
            &format!("`{other}`"),
        ),
        None if present => ctx.weaker(
            Rule::Seccomp,
            &join(&join(path, "seccompProfile"), "type"),
            "no seccomp profile type",
        ),
        None if set_missing && !ctx.allows(Rule::Seccomp) => {
            let mut m = Map::default();
            m.insert("type", Node::string("RuntimeDefault"));
            sc.insert("seccompProfile", Node::Map(m));
        }
        None => {}
    }
}

/// Host ports (other than 0) are refused; `ports` must be a list of mappings.
fn check_host_ports(c: &Map, path: &str, ctx: &mut Ctx) {
    if let Some(ports) = c.get("ports").filter(|v| !v.is_null()) {
        let at = join(path, "ports");
        match ports.as_seq() {
            None => ctx.malformed(at, format!("must be a list, not {}", ports.type_name())),
            Some(list) => {
                for (i, p) in list.iter().enumerate() {
                    let Some(p) = p.as_map() else {
                        ctx.malformed(
                            index(&at, i),
                            format!("must be a mapping, not {}", p.type_name()),
                        );
                        continue;
                    };
                    if integer(p, "hostPort", &index(&at, i), ctx).is_some_and(|h| h != 0) {
                        ctx.weaker(
                            Rule::HostPorts,
                            &join(&index(&at, i), "hostPort"),
                            "a host port",
                        );
                    }
                }
            }
        }
    }
}

fn harden_container(c: &mut Map, path: &str, ctx: &mut Ctx) {
    check_host_ports(c, path, ctx);
    let sc_path = join(path, "securityContext");
    if let Some(sc) = mapping(c, "securityContext", path, ctx) {
        harden_container_context(sc, &sc_path, ctx);
    }
}

/// A container's `securityContext` mapping at `sc_path`.
fn harden_container_context(sc: &mut Map, sc_path: &str, ctx: &mut Ctx) {
    let sc_path = sc_path.to_string();
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
    if let Some(p) = string(sc, "procMount", &sc_path, ctx)
        && p != "Default"
    {
        let p = p.to_string();
        ctx.weaker(
            Rule::ProcMount,
            &join(&sc_path, "procMount"),
            &format!("`{p}`"),
        );
    }
    baseline_options(sc, &sc_path, ctx);
    capabilities(sc, &sc_path, ctx);
    companions(sc, &sc_path, ctx);
}

/// Opt-outs that are useless without another: the other is a finding of its own, with its
/// opt-out, saying why (an opt-out never silently implies another).
fn companions(sc: &Map, path: &str, ctx: &mut Ctx) {
    // Named whether or not the first rule is opted out yet, so one round of opt-outs suffices.
    let forced_non_root = !ctx.allows(Rule::RunAsRoot);
    if sc.get("privileged").and_then(Node::as_bool) == Some(true) {
        ctx.companion(
            Rule::PrivilegeEscalation,
            &join(path, "allowPrivilegeEscalation"),
            "`privileged: true` needs `privilege-escalation` allowed too: Kubernetes rejects a privileged container with `allowPrivilegeEscalation: false`, which is set otherwise".into(),
        );
        if forced_non_root {
            ctx.companion(
                Rule::RunAsRoot,
                &join(path, "runAsUser"),
                format!(
                    "`privileged: true` needs `run-as-root` allowed too: the container is otherwise forced to run as UID {}, where privileged mode grants no effective capabilities",
                    ctx.profile.uid
                ),
            );
        }
    }
    if forced_non_root {
        let added: Vec<String> = sc
            .get("capabilities")
            .and_then(|c| c.get_path(&["add"]))
            .and_then(Node::as_seq)
            .into_iter()
            .flatten()
            .filter_map(Node::as_str)
            .filter(|c| *c != "NET_BIND_SERVICE")
            .map(str::to_string)
            .collect();
        if !added.is_empty() {
            ctx.companion(
                Rule::RunAsRoot,
                &join(path, "runAsUser"),
                format!(
                    "adding {} needs `run-as-root` allowed too: the container is otherwise forced to run as UID {}, and a non-root process gets no effective capabilities from `add`",
                    added.join(", "),
                    ctx.profile.uid
                ),
            );
        }
    }
}

fn harden_knative_container(c: &mut Map, path: &str, ctx: &mut Ctx) {
    let sc_path = join(path, "securityContext");
    let Some(sc) = c.get_mut("securityContext").and_then(Node::as_map_mut) else {
        return;
    };
    run_as_user(sc, &sc_path, ctx, true);
    if integer(sc, "runAsGroup", &sc_path, ctx).is_none()
        && sc.get("runAsGroup").is_none_or(|v| v.is_null())
        && !ctx.allows(Rule::RunAsRoot)
    {
        sc.insert("runAsGroup", Node::int(ctx.profile.uid));
    }
    seccomp(sc, &sc_path, ctx, true);
}

fn capabilities(sc: &mut Map, path: &str, ctx: &mut Ctx) {
    let cap_path = join(path, "capabilities");
    let allow = ctx.allows(Rule::Capabilities);
    let Some(caps) = mapping(sc, "capabilities", path, ctx) else {
        return;
    };
    for field in ["add", "drop"] {
        if let Some(v) = caps.get(field).filter(|v| !v.is_null()) {
            match v.as_seq() {
                None => ctx.malformed(
                    join(&cap_path, field),
                    format!("must be a list, not {}", v.type_name()),
                ),
                Some(list) => {
                    if let Some((i, bad)) =
                        list.iter().enumerate().find(|(_, c)| c.as_str().is_none())
                    {
                        ctx.malformed(
                            index(&join(&cap_path, field), i),
                            format!("must be a string, not {}", bad.type_name()),
                        );
                    }
                }
            }
        }
    }
    if let Some(add) = caps.get("add").and_then(Node::as_seq) {
        for (i, a) in add.clone().iter().enumerate() {
            let Some(name) = a.as_str() else { continue };
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

/// The pod and container security contexts hardening gives a pod that sets none: what values
/// write for the chart's pods and the exporter, so the defaults are stated only by the rules.
pub fn default_security_contexts(profile: Profile) -> (Node, Node) {
    // The walk's own steps on empty contexts: a skeleton sets nothing weaker, so they find
    // nothing (the table test `defaults_of_an_empty_pod` holds them to that).
    let mut found = Vec::new();
    let mut ctx = Ctx {
        allowed: Vec::new(),
        profile,
        family: Family::Kubernetes,
        out: &mut found,
    };
    let mut pod = Map::default();
    harden_pod_context(&mut pod, "spec.securityContext", &mut ctx);
    let mut container = Map::default();
    harden_container_context(
        &mut container,
        "spec.containers[0].securityContext",
        &mut ctx,
    );
    (Node::Map(pod), Node::Map(container))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_single;

    const PROFILE: Profile = Profile {
        uid: 1000,
        high_uid: false,
    };

    /// Hardens a Pod whose spec is `spec` (flow YAML) with the object annotations given;
    /// returns Go's reading of the result and the violations as `rule field`.
    fn pod(spec: &str, annotations: &str) -> (serde_json::Value, Vec<String>) {
        let mut obj = parse_single(&format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p, annotations: {{{annotations}}}}}\nspec: {spec}\n"
        ))
        .unwrap();
        let (_, found) = harden(&mut obj, PROFILE, &BoundAccounts::default());
        let v = found
            .iter()
            .map(|v| format!("{} {}", v.topic, v.field))
            .collect();
        (obj.to_json()["spec"].clone(), v)
    }

    fn allow(rules: &[&str]) -> String {
        rules
            .iter()
            .map(|r| format!("{OPT_OUT_PREFIX}{r}: 'true'"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    #[test]
    fn fills_in_the_defaults() {
        let (spec, v) = pod("{containers: [{name: locust, image: i}]}", "");
        assert!(v.is_empty(), "{v:?}");
        assert_eq!(
            spec["securityContext"],
            serde_json::json!({"runAsNonRoot": true, "runAsUser": 1000, "runAsGroup": 1000, "fsGroup": 1000, "seccompProfile": {"type": "RuntimeDefault"}})
        );
        assert_eq!(spec["automountServiceAccountToken"], false);
        assert_eq!(spec["enableServiceLinks"], false);
        let c = &spec["containers"][0];
        assert_eq!(
            c["securityContext"],
            serde_json::json!({"allowPrivilegeEscalation": false, "privileged": false, "readOnlyRootFilesystem": true, "runAsNonRoot": true, "capabilities": {"drop": ["ALL"]}})
        );
        assert_eq!(
            c["volumeMounts"],
            serde_json::json!([{"name": "lp-tmp", "mountPath": "/tmp"}, {"name": "lp-home", "mountPath": "/home/locust"}])
        );
    }

    /// (spec, opt-outs, the violations as `rule field`)
    #[test]
    fn each_rule_and_its_companions() {
        let c =
            |sc: &str| format!("{{containers: [{{name: c, image: i, securityContext: {sc}}}]}}");
        let cases: Vec<(String, Vec<&str>, Vec<&str>)> = vec![
            (c("{privileged: true}"), vec![], vec![
                "privileged spec.containers[0].securityContext.privileged",
                "privilege-escalation spec.containers[0].securityContext.allowPrivilegeEscalation",
                "run-as-root spec.containers[0].securityContext.runAsUser",
            ]),
            (c("{privileged: true}"), vec!["privileged", "privilege-escalation", "run-as-root"], vec![]),
            (c("{capabilities: {add: [NET_ADMIN]}}"), vec!["capabilities"], vec![
                "run-as-root spec.containers[0].securityContext.runAsUser",
            ]),
            (c("{capabilities: {add: [NET_BIND_SERVICE]}}"), vec![], vec![]),
            (c("{procMount: Unmasked}"), vec![], vec!["proc-mount spec.containers[0].securityContext.procMount"]),
            (c("{privileged: 'true'}"), vec![], vec!["malformed spec.containers[0].securityContext.privileged"]),
            ("{hostPID: yes, containers: [{name: c}]}".into(), vec![], vec!["host-namespaces spec.hostPID"]),
            ("{securityContext: {sysctls: [{name: kernel.shm_rmid_forced}, {name: kernel.msgmax}]}, containers: [{name: c}]}".into(), vec![], vec!["sysctls spec.securityContext.sysctls[1].name"]),
            ("{containers: [{name: c}], volumes: [{name: t, projected: {sources: [{serviceAccountToken: {path: t}}]}}]}".into(), vec![], vec!["service-account-token spec.volumes[0].projected.sources[0].serviceAccountToken"]),
        ];
        for (spec, rules, want) in cases {
            let (_, got) = pod(&spec, &allow(&rules));
            assert_eq!(got, want, "{spec} with {rules:?}");
        }
    }

    #[test]
    fn run_as_root_leaves_the_groups_as_set() {
        let (spec, v) = pod(
            "{securityContext: {runAsUser: 0}, containers: [{name: c}]}",
            &allow(&["run-as-root"]),
        );
        assert!(v.is_empty(), "{v:?}");
        let sc = &spec["securityContext"];
        assert_eq!(sc["runAsUser"], 0);
        assert!(
            sc.get("runAsGroup").is_none() && sc.get("fsGroup").is_none(),
            "{sc}"
        );
        assert_eq!(
            sc["seccompProfile"]["type"], "RuntimeDefault",
            "other rules hold"
        );
    }

    #[test]
    fn a_pods_opt_out_errors_are_reported_once() {
        let (_, v) = pod("{containers: [{name: c}]}", &allow(&["everything"]));
        assert_eq!(
            v,
            ["malformed metadata.annotations[\"locust.project-planton.org/allow-everything\"]"]
        );
    }

    #[test]
    fn bound_accounts_keep_their_token() {
        let mut bound = BoundAccounts::default();
        bound.record(&parse_single("kind: RoleBinding\nmetadata: {name: b, namespace: ns}\nsubjects: [{kind: ServiceAccount, name: sa}]\n").unwrap());
        let mut sa =
            parse_single("kind: ServiceAccount\nmetadata: {name: sa, namespace: ns}\n").unwrap();
        let (_, v) = harden(&mut sa, PROFILE, &bound);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].severity, Severity::Warning);
        assert!(sa.get_path(&["automountServiceAccountToken"]).is_none());
        let mut other =
            parse_single("kind: ServiceAccount\nmetadata: {name: sa, namespace: other}\n").unwrap();
        let (_, v) = harden(&mut other, PROFILE, &bound);
        assert!(v.is_empty());
        assert_eq!(
            other
                .get_path(&["automountServiceAccountToken"])
                .and_then(Node::as_bool),
            Some(false)
        );
    }

    /// The defaults values write are exactly what hardening a whole pod that sets nothing gives
    /// its pod and its container, with nothing found.
    #[test]
    fn defaults_of_an_empty_pod() {
        for profile in [
            PROFILE,
            Profile {
                uid: HIGH_UID,
                high_uid: true,
            },
        ] {
            let mut obj = parse_single(
                "apiVersion: v1\nkind: Pod\nmetadata: {name: skeleton}\nspec: {containers: [{name: c}]}\n",
            )
            .unwrap();
            let (_, found) = harden(&mut obj, profile, &BoundAccounts::default());
            assert!(found.is_empty(), "{found:?}");
            let (pod, container) = default_security_contexts(profile);
            let emitted = |n: Option<&Node>| n.map(crate::yaml::emit_document);
            assert_eq!(
                emitted(Some(&pod)),
                emitted(obj.get_path(&["spec", "securityContext"])),
                "{profile:?}"
            );
            assert_eq!(
                emitted(Some(&container)),
                emitted(
                    obj.get_path(&["spec", "containers"])
                        .and_then(Node::as_seq)
                        .and_then(|c| c.first())
                        .and_then(|c| c.get_path(&["securityContext"]))
                ),
                "{profile:?}"
            );
        }
    }
}

/// The filter as a table, one row per rule and case: objects in (YAML), the hardened object's
/// YAML out, or the findings that refuse it.
#[cfg(test)]
mod table {
    use super::*;
    use crate::yaml::emit_document;
    use crate::yaml::testing::{at, documents, normalized};

    const PLAIN: Profile = Profile {
        uid: 1000,
        high_uid: false,
    };
    const HIGH: Profile = Profile {
        uid: HIGH_UID,
        high_uid: true,
    };

    /// (what the row shows, the objects, a path in the hardened last object, the YAML there,
    /// every finding). The objects are `---`-separated: every binding among them is recorded,
    /// then the last one is hardened. The YAML is `""` when an error refuses the object. A
    /// finding reads `error|warning <topic> <field>: <message>`, ending in ` [allow]` when an
    /// opt-out allows it. In rows `lp/` stands for `locust.project-planton.org/`, and `{baseline}`,
    /// `{restricted}`, `{own}` for the rule sets' names.
    type Row = (
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static [&'static str],
    );

    fn expand(text: &str) -> String {
        text.replace("lp/", "locust.project-planton.org/")
            .replace("{baseline}", rule_source(Rule::Privileged))
            .replace("{restricted}", rule_source(Rule::RunAsRoot))
            .replace("{own}", rule_source(Rule::WritableRootFs))
    }

    fn finding(v: &Violation) -> String {
        let severity = match v.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let allow = if v.rule.is_some() { " [allow]" } else { "" };
        format!("{severity} {} {}: {}{allow}", v.topic, v.field, v.message)
    }

    /// Runs every row; fails naming each row whose output or findings differ.
    fn check(rows: &[Row], profile: Profile) {
        let mut failed = Vec::new();
        for (what, input, path, want, want_findings) in rows {
            let mut objects = documents(&expand(input));
            let mut bound = BoundAccounts::default();
            for o in &objects {
                bound.record(o);
            }
            let obj = objects.last_mut().unwrap();
            let (_, found) = harden(obj, profile, &bound);
            let findings: Vec<String> = found.iter().map(finding).collect();
            let refused = found.iter().any(|v| v.severity == Severity::Error);
            let got = match at(obj, path) {
                _ if refused => String::new(),
                Some(n) => emit_document(n),
                None => format!("(nothing at {path})"),
            };
            let want = if want.is_empty() {
                String::new()
            } else {
                normalized(want)
            };
            let want_findings: Vec<String> = want_findings.iter().map(|f| expand(f)).collect();
            if got != want || findings != want_findings {
                failed.push(format!(
                    "- {what}\n  {path}:\n{got}  findings: {findings:#?}"
                ));
            }
        }
        assert!(
            failed.is_empty(),
            "{} of {} rows failed:\n{}",
            failed.len(),
            rows.len(),
            failed.join("\n")
        );
    }

    const CONTAINER_DEFAULTS: &str = "{allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: {drop: [ALL]}}";

    #[test]
    fn missing_settings_are_filled_in() {
        check(
            &[
                (
                    "a bare pod gets every default; the locust container its home too",
                    "kind: Pod\nspec: {containers: [{name: locust, image: i}]}",
                    "",
                    "kind: Pod
spec:
  containers:
  - name: locust
    image: i
    securityContext: {allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: {drop: [ALL]}}
    volumeMounts: [{name: lp-tmp, mountPath: /tmp}, {name: lp-home, mountPath: /home/locust}]
  automountServiceAccountToken: false
  enableServiceLinks: false
  securityContext: {runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: {type: RuntimeDefault}}
  volumes: [{name: lp-tmp, emptyDir: {}}, {name: lp-home, emptyDir: {}}]",
                    &[],
                ),
                (
                    "any other container gets /tmp only",
                    "kind: Pod\nspec: {containers: [{name: c}]}",
                    "spec.containers[0].volumeMounts",
                    "[{name: lp-tmp, mountPath: /tmp}]",
                    &[],
                ),
                (
                    "init containers get /tmp and the defaults",
                    "kind: Pod\nspec: {initContainers: [{name: i}], containers: [{name: c}]}",
                    "spec.initContainers[0]",
                    "{name: i, securityContext: {allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: {drop: [ALL]}}, volumeMounts: [{name: lp-tmp, mountPath: /tmp}]}",
                    &[],
                ),
                (
                    "ephemeral containers get the defaults, no mounts (Kubernetes refuses theirs)",
                    "kind: Pod\nspec: {containers: [{name: c}], ephemeralContainers: [{name: e}]}",
                    "spec.ephemeralContainers[0]",
                    "{name: e, securityContext: {allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: {drop: [ALL]}}}",
                    &[],
                ),
                (
                    "a /tmp already mounted is kept, and no volume added for it",
                    "kind: Pod\nspec: {containers: [{name: c, volumeMounts: [{name: scratch, mountPath: /tmp}]}], volumes: [{name: scratch, emptyDir: {medium: Memory}}]}",
                    "spec",
                    "{containers: [{name: c, volumeMounts: [{name: scratch, mountPath: /tmp}], securityContext: {allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: {drop: [ALL]}}}], volumes: [{name: scratch, emptyDir: {medium: Memory}}], automountServiceAccountToken: false, enableServiceLinks: false, securityContext: {runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: {type: RuntimeDefault}}}",
                    &[],
                ),
                (
                    "an lp-tmp volume the pod already has is not added twice",
                    "kind: Pod\nspec: {containers: [{name: c}], volumes: [{name: lp-tmp, emptyDir: {sizeLimit: 1Gi}}]}",
                    "spec.volumes",
                    "[{name: lp-tmp, emptyDir: {sizeLimit: 1Gi}}]",
                    &[],
                ),
                (
                    "explicit service links are kept",
                    "kind: Pod\nspec: {enableServiceLinks: true, containers: [{name: c}]}",
                    "spec.enableServiceLinks",
                    "true",
                    &[],
                ),
                (
                    "null settings count as missing",
                    "kind: Pod\nspec: {securityContext: {runAsUser: null, seccompProfile: null}, containers: [{name: c, securityContext: {privileged: ~}}]}",
                    "spec.securityContext",
                    "{runAsUser: 1000, seccompProfile: {type: RuntimeDefault}, runAsNonRoot: true, runAsGroup: 1000, fsGroup: 1000}",
                    &[],
                ),
                (
                    "every pod spec of an object, wherever it is",
                    "kind: Thing\napiVersion: x.io/v1\nspec: {workers: [{template: {spec: {containers: [{name: a}]}}}], sidecar: {containers: [{name: b}]}}",
                    "spec.sidecar.containers[0].securityContext",
                    CONTAINER_DEFAULTS,
                    &[],
                ),
            ],
            PLAIN,
        );
    }

    /// One row per rule: the weaker setting is refused, naming the field and the rule.
    #[test]
    fn weaker_settings_are_refused() {
        check(
            &[
                (
                    "run-as-root: UID 0",
                    "kind: Pod\nspec: {securityContext: {runAsUser: 0}, containers: [{name: c}]}",
                    "",
                    "",
                    &[
                        "error run-as-root spec.securityContext.runAsUser: `runAsUser: 0` (root) is not allowed by {restricted} [allow]",
                    ],
                ),
                (
                    "run-as-root: runAsNonRoot false",
                    "kind: Pod\nspec: {containers: [{name: c, securityContext: {runAsNonRoot: false}}]}",
                    "",
                    "",
                    &[
                        "error run-as-root spec.containers[0].securityContext.runAsNonRoot: `runAsNonRoot: false` is not allowed by {restricted} [allow]",
                    ],
                ),
                (
                    "privileged",
                    "kind: Pod\nspec: {containers: [{name: c, securityContext: {privileged: true}}]}",
                    "",
                    "",
                    &[
                        "error privileged spec.containers[0].securityContext.privileged: `privileged: true` is not allowed by {baseline} [allow]",
                        "error privilege-escalation spec.containers[0].securityContext.allowPrivilegeEscalation: `privileged: true` needs `privilege-escalation` allowed too: Kubernetes rejects a privileged container with `allowPrivilegeEscalation: false`, which is set otherwise [allow]",
                        "error run-as-root spec.containers[0].securityContext.runAsUser: `privileged: true` needs `run-as-root` allowed too: the container is otherwise forced to run as UID 1000, where privileged mode grants no effective capabilities [allow]",
                    ],
                ),
                (
                    "privilege-escalation",
                    "kind: Pod\nspec: {containers: [{name: c, securityContext: {allowPrivilegeEscalation: true}}]}",
                    "",
                    "",
                    &[
                        "error privilege-escalation spec.containers[0].securityContext.allowPrivilegeEscalation: `allowPrivilegeEscalation: true` is not allowed by {restricted} [allow]",
                    ],
                ),
                (
                    "capabilities: any added but NET_BIND_SERVICE",
                    "kind: Pod\nspec: {containers: [{name: c, securityContext: {capabilities: {add: [NET_BIND_SERVICE, SYS_ADMIN]}}}]}",
                    "",
                    "",
                    &[
                        "error capabilities spec.containers[0].securityContext.capabilities.add[1]: adding capability `SYS_ADMIN` is not allowed by {restricted} [allow]",
                        "error run-as-root spec.containers[0].securityContext.runAsUser: adding SYS_ADMIN needs `run-as-root` allowed too: the container is otherwise forced to run as UID 1000, and a non-root process gets no effective capabilities from `add` [allow]",
                    ],
                ),
                (
                    "host-namespaces: each of the three",
                    "kind: Pod\nspec: {hostNetwork: true, hostPID: true, hostIPC: true, containers: [{name: c}]}",
                    "",
                    "",
                    &[
                        "error host-namespaces spec.hostNetwork: `hostNetwork: true` is not allowed by {baseline} [allow]",
                        "error host-namespaces spec.hostPID: `hostPID: true` is not allowed by {baseline} [allow]",
                        "error host-namespaces spec.hostIPC: `hostIPC: true` is not allowed by {baseline} [allow]",
                    ],
                ),
                (
                    "host-ports",
                    "kind: Pod\nspec: {containers: [{name: c, ports: [{containerPort: 80}, {containerPort: 81, hostPort: 8081}]}]}",
                    "",
                    "",
                    &[
                        "error host-ports spec.containers[0].ports[1].hostPort: a host port is not allowed by {baseline} [allow]",
                    ],
                ),
                (
                    "volume-types",
                    "kind: Pod\nspec: {containers: [{name: c}], volumes: [{name: ok, configMap: {name: x}}, {name: h, hostPath: {path: /}}]}",
                    "",
                    "",
                    &[
                        "error volume-types spec.volumes[1]: a `hostPath` volume is not allowed by {restricted} [allow]",
                    ],
                ),
                (
                    "seccomp: Unconfined, pod and container",
                    "kind: Pod\nspec: {securityContext: {seccompProfile: {type: Unconfined}}, containers: [{name: c, securityContext: {seccompProfile: {type: Unconfined}}}]}",
                    "",
                    "",
                    &[
                        "error seccomp spec.securityContext.seccompProfile.type: `Unconfined` is not allowed by {restricted} [allow]",
                        "error seccomp spec.containers[0].securityContext.seccompProfile.type: `Unconfined` is not allowed by {restricted} [allow]",
                    ],
                ),
                (
                    "seccomp: a profile without a type",
                    "kind: Pod\nspec: {securityContext: {seccompProfile: {}}, containers: [{name: c}]}",
                    "",
                    "",
                    &[
                        "error seccomp spec.securityContext.seccompProfile.type: no seccomp profile type is not allowed by {restricted} [allow]",
                    ],
                ),
                (
                    "writable-root-fs",
                    "kind: Pod\nspec: {containers: [{name: c, securityContext: {readOnlyRootFilesystem: false}}]}",
                    "",
                    "",
                    &[
                        "error writable-root-fs spec.containers[0].securityContext.readOnlyRootFilesystem: `readOnlyRootFilesystem: false` is not allowed by {own} [allow]",
                    ],
                ),
                (
                    "service-account-token: mounted",
                    "kind: Pod\nspec: {automountServiceAccountToken: true, containers: [{name: c}]}",
                    "",
                    "",
                    &[
                        "error service-account-token spec.automountServiceAccountToken: `automountServiceAccountToken: true` is not allowed by {own} [allow]",
                    ],
                ),
                (
                    "service-account-token: projected",
                    "kind: Pod\nspec: {containers: [{name: c}], volumes: [{name: t, projected: {sources: [{configMap: {name: x}}, {serviceAccountToken: {path: t}}]}}]}",
                    "",
                    "",
                    &[
                        "error service-account-token spec.volumes[0].projected.sources[1].serviceAccountToken: a projected service-account token is not allowed by {own} [allow]",
                    ],
                ),
                (
                    "proc-mount",
                    "kind: Pod\nspec: {containers: [{name: c, securityContext: {procMount: Unmasked}}]}",
                    "",
                    "",
                    &[
                        "error proc-mount spec.containers[0].securityContext.procMount: `Unmasked` is not allowed by {baseline} [allow]",
                    ],
                ),
                (
                    "selinux: a type outside the allowed ones, a user, a role",
                    "kind: Pod\nspec: {securityContext: {seLinuxOptions: {type: spc_t, user: u, role: r, level: s0}}, containers: [{name: c}]}",
                    "",
                    "",
                    &[
                        "error selinux spec.securityContext.seLinuxOptions.type: the SELinux type `spc_t` is not allowed by {baseline} [allow]",
                        "error selinux spec.securityContext.seLinuxOptions.user: setting the SELinux user (`u`) is not allowed by {baseline} [allow]",
                        "error selinux spec.securityContext.seLinuxOptions.role: setting the SELinux role (`r`) is not allowed by {baseline} [allow]",
                    ],
                ),
                (
                    "apparmor: the field",
                    "kind: Pod\nspec: {containers: [{name: c, securityContext: {appArmorProfile: {type: Unconfined}}}]}",
                    "",
                    "",
                    &[
                        "error apparmor spec.containers[0].securityContext.appArmorProfile.type: `Unconfined` is not allowed by {baseline} [allow]",
                    ],
                ),
                (
                    "apparmor: a Pod's annotation",
                    "kind: Pod\nmetadata: {annotations: {container.apparmor.security.beta.kubernetes.io/c: unconfined}}\nspec: {containers: [{name: c}]}",
                    "",
                    "",
                    &[
                        "error apparmor metadata.annotations[\"container.apparmor.security.beta.kubernetes.io/c\"]: `unconfined` is not allowed by {baseline} [allow]",
                    ],
                ),
                (
                    "apparmor: a pod template's annotation",
                    "kind: Deployment\napiVersion: apps/v1\nspec: {template: {metadata: {annotations: {container.apparmor.security.beta.kubernetes.io/c: unconfined}}, spec: {containers: [{name: c}]}}}",
                    "",
                    "",
                    &[
                        "error apparmor spec.template.metadata.annotations[\"container.apparmor.security.beta.kubernetes.io/c\"]: `unconfined` is not allowed by {baseline} [allow]",
                    ],
                ),
                (
                    "sysctls: outside the safe set",
                    "kind: Pod\nspec: {securityContext: {sysctls: [{name: net.ipv4.tcp_syncookies, value: '1'}, {name: kernel.msgmax, value: '1'}]}, containers: [{name: c}]}",
                    "",
                    "",
                    &[
                        "error sysctls spec.securityContext.sysctls[1].name: the sysctl `kernel.msgmax` (outside the baseline profile's safe set) is not allowed by {baseline} [allow]",
                    ],
                ),
                (
                    "host-process",
                    "kind: Pod\nspec: {containers: [{name: c, securityContext: {windowsOptions: {hostProcess: true}}}]}",
                    "",
                    "",
                    &[
                        "error host-process spec.containers[0].securityContext.windowsOptions.hostProcess: `hostProcess: true` is not allowed by {baseline} [allow]",
                    ],
                ),
            ],
            PLAIN,
        );
    }

    /// The same settings, each with its rule's opt-out (and its companions'): kept as written.
    #[test]
    fn opted_out_settings_are_kept() {
        check(
            &[
                (
                    "run-as-root: the user and groups stay as set",
                    "kind: Pod\nmetadata: {annotations: {lp/allow-run-as-root: 'true'}}\nspec: {securityContext: {runAsUser: 0}, containers: [{name: c}]}",
                    "spec.securityContext",
                    "{runAsUser: 0, seccompProfile: {type: RuntimeDefault}}",
                    &[],
                ),
                (
                    "run-as-root: runAsNonRoot false",
                    "kind: Pod\nmetadata: {annotations: {lp/allow-run-as-root: 'true'}}\nspec: {containers: [{name: c, securityContext: {runAsNonRoot: false}}]}",
                    "spec.containers[0].securityContext",
                    "{runAsNonRoot: false, allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}",
                    &[],
                ),
                (
                    "privileged, with its companions",
                    "kind: Pod\nmetadata: {annotations: {lp/allow-privileged: 'true', lp/allow-privilege-escalation: 'true', lp/allow-run-as-root: 'true'}}\nspec: {containers: [{name: c, securityContext: {privileged: true}}]}",
                    "spec.containers[0].securityContext",
                    "{privileged: true, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}",
                    &[],
                ),
                (
                    "privilege-escalation",
                    "kind: Pod\nmetadata: {annotations: {lp/allow-privilege-escalation: 'true'}}\nspec: {containers: [{name: c, securityContext: {allowPrivilegeEscalation: true}}]}",
                    "spec.containers[0].securityContext",
                    "{allowPrivilegeEscalation: true, privileged: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: {drop: [ALL]}}",
                    &[],
                ),
                (
                    "capabilities, with run-as-root: nothing is dropped",
                    "kind: Pod\nmetadata: {annotations: {lp/allow-capabilities: 'true', lp/allow-run-as-root: 'true'}}\nspec: {containers: [{name: c, securityContext: {capabilities: {add: [SYS_ADMIN]}}}]}",
                    "spec.containers[0].securityContext",
                    "{capabilities: {add: [SYS_ADMIN]}, allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true}",
                    &[],
                ),
                (
                    "capabilities alone: nothing is added, an empty mapping is",
                    "kind: Pod\nmetadata: {annotations: {lp/allow-capabilities: 'true'}}\nspec: {containers: [{name: c}]}",
                    "spec.containers[0].securityContext.capabilities",
                    "{}",
                    &[],
                ),
                (
                    "host-namespaces",
                    "kind: Pod\nmetadata: {annotations: {lp/allow-host-namespaces: 'true'}}\nspec: {hostNetwork: true, containers: [{name: c}]}",
                    "spec.hostNetwork",
                    "true",
                    &[],
                ),
                (
                    "host-ports",
                    "kind: Pod\nmetadata: {annotations: {lp/allow-host-ports: 'true'}}\nspec: {containers: [{name: c, ports: [{containerPort: 81, hostPort: 8081}]}]}",
                    "spec.containers[0].ports",
                    "[{containerPort: 81, hostPort: 8081}]",
                    &[],
                ),
                (
                    "volume-types",
                    "kind: Pod\nmetadata: {annotations: {lp/allow-volume-types: 'true'}}\nspec: {containers: [{name: c}], volumes: [{name: h, hostPath: {path: /}}]}",
                    "spec.volumes",
                    "[{name: h, hostPath: {path: /}}, {name: lp-tmp, emptyDir: {}}]",
                    &[],
                ),
                (
                    "seccomp: Unconfined kept, none added where missing",
                    "kind: Pod\nmetadata: {annotations: {lp/allow-seccomp: 'true'}}\nspec: {containers: [{name: c, securityContext: {seccompProfile: {type: Unconfined}}}]}",
                    "spec",
                    "{containers: [{name: c, securityContext: {seccompProfile: {type: Unconfined}, allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: {drop: [ALL]}}, volumeMounts: [{name: lp-tmp, mountPath: /tmp}]}], automountServiceAccountToken: false, enableServiceLinks: false, securityContext: {runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000}, volumes: [{name: lp-tmp, emptyDir: {}}]}",
                    &[],
                ),
                (
                    "writable-root-fs: no read-only root, so no writable mounts either",
                    "kind: Pod\nmetadata: {annotations: {lp/allow-writable-root-fs: 'true'}}\nspec: {containers: [{name: locust}]}",
                    "spec",
                    "{containers: [{name: locust, securityContext: {allowPrivilegeEscalation: false, privileged: false, runAsNonRoot: true, capabilities: {drop: [ALL]}}}], automountServiceAccountToken: false, enableServiceLinks: false, securityContext: {runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: {type: RuntimeDefault}}}",
                    &[],
                ),
                (
                    "writable-root-fs: an explicit false",
                    "kind: Pod\nmetadata: {annotations: {lp/allow-writable-root-fs: 'true'}}\nspec: {containers: [{name: c, securityContext: {readOnlyRootFilesystem: false}}]}",
                    "spec.containers[0].securityContext.readOnlyRootFilesystem",
                    "false",
                    &[],
                ),
                (
                    "service-account-token: mounted, and none set where missing",
                    "kind: Pod\nmetadata: {annotations: {lp/allow-service-account-token: 'true'}}\nspec: {containers: [{name: c}], volumes: [{name: t, projected: {sources: [{serviceAccountToken: {path: t}}]}}]}",
                    "spec",
                    "{containers: [{name: c, securityContext: {allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: {drop: [ALL]}}, volumeMounts: [{name: lp-tmp, mountPath: /tmp}]}], volumes: [{name: t, projected: {sources: [{serviceAccountToken: {path: t}}]}}, {name: lp-tmp, emptyDir: {}}], enableServiceLinks: false, securityContext: {runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: {type: RuntimeDefault}}}",
                    &[],
                ),
                (
                    "proc-mount",
                    "kind: Pod\nmetadata: {annotations: {lp/allow-proc-mount: 'true'}}\nspec: {containers: [{name: c, securityContext: {procMount: Unmasked}}]}",
                    "spec.containers[0].securityContext.procMount",
                    "Unmasked",
                    &[],
                ),
                (
                    "selinux",
                    "kind: Pod\nmetadata: {annotations: {lp/allow-selinux: 'true'}}\nspec: {securityContext: {seLinuxOptions: {type: spc_t, user: u}}, containers: [{name: c}]}",
                    "spec.securityContext.seLinuxOptions",
                    "{type: spc_t, user: u}",
                    &[],
                ),
                (
                    "apparmor: field and annotation",
                    "kind: Pod\nmetadata: {annotations: {lp/allow-apparmor: 'true', container.apparmor.security.beta.kubernetes.io/c: unconfined}}\nspec: {containers: [{name: c, securityContext: {appArmorProfile: {type: Unconfined}}}]}",
                    "spec.containers[0].securityContext.appArmorProfile",
                    "{type: Unconfined}",
                    &[],
                ),
                (
                    "sysctls",
                    "kind: Pod\nmetadata: {annotations: {lp/allow-sysctls: 'true'}}\nspec: {securityContext: {sysctls: [{name: kernel.msgmax, value: '1'}]}, containers: [{name: c}]}",
                    "spec.securityContext.sysctls",
                    "[{name: kernel.msgmax, value: '1'}]",
                    &[],
                ),
                (
                    "host-process",
                    "kind: Pod\nmetadata: {annotations: {lp/allow-host-process: 'true'}}\nspec: {containers: [{name: c, securityContext: {windowsOptions: {hostProcess: true}}}]}",
                    "spec.containers[0].securityContext.windowsOptions",
                    "{hostProcess: true}",
                    &[],
                ),
            ],
            PLAIN,
        );
    }

    /// Where opt-outs are read from, and what they cover.
    #[test]
    fn opt_out_annotations() {
        check(
            &[
                (
                    "on the workload",
                    "kind: Deployment\napiVersion: apps/v1\nmetadata: {annotations: {lp/allow-host-namespaces: 'true'}}\nspec: {template: {spec: {hostPID: true, containers: [{name: c}]}}}",
                    "spec.template.spec.hostPID",
                    "true",
                    &[],
                ),
                (
                    "on its pod template",
                    "kind: Deployment\napiVersion: apps/v1\nspec: {template: {metadata: {annotations: {lp/allow-host-namespaces: 'true'}}, spec: {hostPID: true, containers: [{name: c}]}}}",
                    "spec.template.spec.hostPID",
                    "true",
                    &[],
                ),
                (
                    "a pod template's opt-out covers that template only",
                    "kind: Thing\napiVersion: x.io/v1\nspec: {workers: [{template: {metadata: {annotations: {lp/allow-host-namespaces: 'true'}}, spec: {hostPID: true, containers: [{name: a}]}}}, {template: {spec: {hostPID: true, containers: [{name: b}]}}}]}",
                    "",
                    "",
                    &[
                        "error host-namespaces spec.workers[1].template.spec.hostPID: `hostPID: true` is not allowed by {baseline} [allow]",
                    ],
                ),
                (
                    "an opt-out covers its one rule only",
                    "kind: Pod\nmetadata: {annotations: {lp/allow-host-ports: 'true'}}\nspec: {hostPID: true, containers: [{name: c, ports: [{hostPort: 1}]}]}",
                    "",
                    "",
                    &[
                        "error host-namespaces spec.hostPID: `hostPID: true` is not allowed by {baseline} [allow]",
                    ],
                ),
                (
                    "an unknown rule is an error, not a silent default",
                    "kind: Pod\nmetadata: {annotations: {lp/allow-everything: 'true'}}\nspec: {containers: [{name: c}]}",
                    "",
                    "",
                    &[
                        "error malformed metadata.annotations[\"lp/allow-everything\"]: unknown opt-out `everything`; known: run-as-root, privileged, privilege-escalation, capabilities, host-namespaces, host-ports, volume-types, seccomp, writable-root-fs, service-account-token, proc-mount, selinux, apparmor, sysctls, host-process",
                    ],
                ),
                (
                    "the value must be the string \"true\" (an unquoted true is a boolean)",
                    "kind: Pod\nmetadata: {annotations: {lp/allow-privileged: true, lp/allow-seccomp: 'yes'}}\nspec: {containers: [{name: c}]}",
                    "",
                    "",
                    &[
                        "error malformed metadata.annotations[\"lp/allow-privileged\"]: must be \"true\" to opt out",
                        "error malformed metadata.annotations[\"lp/allow-seccomp\"]: must be \"true\" to opt out",
                    ],
                ),
                (
                    "a bad opt-out on an object with two pod specs is reported once",
                    "kind: Thing\napiVersion: x.io/v1\nmetadata: {annotations: {lp/allow-x: 'true'}}\nspec: {a: {containers: [{name: a}]}, b: {containers: [{name: b}]}}",
                    "",
                    "",
                    &[
                        "error malformed metadata.annotations[\"lp/allow-x\"]: unknown opt-out `x`; known: run-as-root, privileged, privilege-escalation, capabilities, host-namespaces, host-ports, volume-types, seccomp, writable-root-fs, service-account-token, proc-mount, selinux, apparmor, sysctls, host-process",
                    ],
                ),
                (
                    "other annotations are not opt-outs",
                    "kind: Pod\nmetadata: {annotations: {lp/scripts-sha256: abc, example.com/allow-privileged: 'true'}}\nspec: {containers: [{name: c, securityContext: {privileged: false}}]}",
                    "spec.containers[0].securityContext.privileged",
                    "false",
                    &[],
                ),
            ],
            PLAIN,
        );
    }

    /// An opt-out useless without another names the other as a finding of its own.
    #[test]
    fn companions() {
        check(
            &[
                (
                    "privileged alone: escalation and root still needed",
                    "kind: Pod\nmetadata: {annotations: {lp/allow-privileged: 'true'}}\nspec: {containers: [{name: c, securityContext: {privileged: true}}]}",
                    "",
                    "",
                    &[
                        "error privilege-escalation spec.containers[0].securityContext.allowPrivilegeEscalation: `privileged: true` needs `privilege-escalation` allowed too: Kubernetes rejects a privileged container with `allowPrivilegeEscalation: false`, which is set otherwise [allow]",
                        "error run-as-root spec.containers[0].securityContext.runAsUser: `privileged: true` needs `run-as-root` allowed too: the container is otherwise forced to run as UID 10001, where privileged mode grants no effective capabilities [allow]",
                    ],
                ),
                (
                    "privileged with root allowed: escalation still needed",
                    "kind: Pod\nmetadata: {annotations: {lp/allow-privileged: 'true', lp/allow-run-as-root: 'true'}}\nspec: {containers: [{name: c, securityContext: {privileged: true}}]}",
                    "",
                    "",
                    &[
                        "error privilege-escalation spec.containers[0].securityContext.allowPrivilegeEscalation: `privileged: true` needs `privilege-escalation` allowed too: Kubernetes rejects a privileged container with `allowPrivilegeEscalation: false`, which is set otherwise [allow]",
                    ],
                ),
                (
                    "capabilities alone: root still needed",
                    "kind: Pod\nmetadata: {annotations: {lp/allow-capabilities: 'true'}}\nspec: {containers: [{name: c, securityContext: {capabilities: {add: [NET_ADMIN, NET_RAW]}}}]}",
                    "",
                    "",
                    &[
                        "error run-as-root spec.containers[0].securityContext.runAsUser: adding NET_ADMIN, NET_RAW needs `run-as-root` allowed too: the container is otherwise forced to run as UID 10001, and a non-root process gets no effective capabilities from `add` [allow]",
                    ],
                ),
                (
                    "a rule already reported is not named again as a companion",
                    "kind: Pod\nmetadata: {annotations: {lp/allow-privileged: 'true', lp/allow-privilege-escalation: 'true'}}\nspec: {containers: [{name: c, securityContext: {privileged: true, runAsUser: 0}}]}",
                    "",
                    "",
                    &[
                        "error run-as-root spec.containers[0].securityContext.runAsUser: `runAsUser: 0` (root) is not allowed by {restricted} [allow]",
                    ],
                ),
                (
                    "NET_BIND_SERVICE needs no companion",
                    "kind: Pod\nspec: {containers: [{name: c, securityContext: {capabilities: {add: [NET_BIND_SERVICE]}}}]}",
                    "spec.containers[0].securityContext.capabilities",
                    "{add: [NET_BIND_SERVICE], drop: [ALL]}",
                    &[],
                ),
            ],
            HIGH,
        );
    }

    /// A field of the wrong type is refused (no opt-out allows it): Kubernetes would reject
    /// it, and the filter never passes on what it could not judge.
    #[test]
    fn wrong_types_are_refused() {
        check(
            &[
                (
                    "a boolean written as a string",
                    "kind: Pod\nspec: {containers: [{name: c, securityContext: {privileged: 'true'}}]}",
                    "",
                    "",
                    &[
                        "error malformed spec.containers[0].securityContext.privileged: must be true or false, not a string",
                    ],
                ),
                (
                    "a host namespace flag written as a string",
                    "kind: Pod\nspec: {hostNetwork: 'false', containers: [{name: c}]}",
                    "",
                    "",
                    &["error malformed spec.hostNetwork: must be true or false, not a string"],
                ),
                (
                    "a UID written as a string",
                    "kind: Pod\nspec: {securityContext: {runAsUser: '1000'}, containers: [{name: c}]}",
                    "",
                    "",
                    &[
                        "error malformed spec.securityContext.runAsUser: must be an integer, not a string",
                    ],
                ),
                (
                    "a security context that is not a mapping, pod and container",
                    "kind: Pod\nspec: {securityContext: [], containers: [{name: c, securityContext: x}]}",
                    "",
                    "",
                    &[
                        "error malformed spec.securityContext: must be a mapping, not a list",
                        "error malformed spec.containers[0].securityContext: must be a mapping, not a string",
                    ],
                ),
                (
                    "capabilities: lists of strings",
                    "kind: Pod\nspec: {containers: [{name: c, securityContext: {capabilities: {add: NET_ADMIN, drop: [ALL, 1]}}}]}",
                    "",
                    "",
                    &[
                        "error malformed spec.containers[0].securityContext.capabilities.add: must be a list, not a string",
                        "error malformed spec.containers[0].securityContext.capabilities.drop[1]: must be a string, not an integer",
                    ],
                ),
                (
                    "capabilities: a mapping",
                    "kind: Pod\nspec: {containers: [{name: c, securityContext: {capabilities: [ALL]}}]}",
                    "",
                    "",
                    &[
                        "error malformed spec.containers[0].securityContext.capabilities: must be a mapping, not a list",
                    ],
                ),
                (
                    "ports: a list of mappings, host ports integers",
                    "kind: Pod\nspec: {containers: [{name: a, ports: {p: 1}}, {name: b, ports: [80, {hostPort: '80'}]}]}",
                    "",
                    "",
                    &[
                        "error malformed spec.containers[0].ports: must be a list, not a mapping",
                        "error malformed spec.containers[1].ports[0]: must be a mapping, not an integer",
                        "error malformed spec.containers[1].ports[1].hostPort: must be an integer, not a string",
                    ],
                ),
                (
                    "volumes: mappings",
                    "kind: Pod\nspec: {containers: [{name: c}], volumes: [tmp]}",
                    "",
                    "",
                    &["error malformed spec.volumes[0]: a volume must be a mapping, not a string"],
                ),
                (
                    "seccomp, SELinux, AppArmor and Windows options: mappings with string types",
                    "kind: Pod\nspec: {securityContext: {seccompProfile: Unconfined, seLinuxOptions: [], appArmorProfile: {type: 1}, windowsOptions: {hostProcess: 'no'}}, containers: [{name: c}]}",
                    "",
                    "",
                    &[
                        "error malformed spec.securityContext.seccompProfile: must be a mapping, not a string",
                        "error malformed spec.securityContext.seLinuxOptions: must be a mapping, not a list",
                        "error malformed spec.securityContext.appArmorProfile.type: must be a string, not an integer",
                        "error malformed spec.securityContext.windowsOptions.hostProcess: must be true or false, not a string",
                    ],
                ),
                (
                    "sysctls: a list",
                    "kind: Pod\nspec: {securityContext: {sysctls: {kernel.msgmax: 1}}, containers: [{name: c}]}",
                    "",
                    "",
                    &[
                        "error malformed spec.securityContext.sysctls: must be a list, not a mapping",
                    ],
                ),
                (
                    "a malformed pod template (from pod::pod_specs), with field and message apart",
                    "kind: Deployment\napiVersion: apps/v1\nspec: {template: {spec: {containers: {name: c}}}}",
                    "",
                    "",
                    &[
                        "error malformed spec.template.spec.containers: must be a list of containers, not a mapping (malformed pod spec)",
                    ],
                ),
                (
                    "a field name holding `: ` stays in the field (pod::Malformed keeps them apart)",
                    "kind: Thing\napiVersion: x.io/v1\nspec: {'a: b': {containers: [1]}}",
                    "",
                    "",
                    &[
                        "error malformed spec[\"a: b\"].containers[0]: a container must be a mapping, not an integer",
                    ],
                ),
                (
                    "a pod template that is not a mapping",
                    "kind: Job\napiVersion: batch/v1\nspec: {template: [x]}",
                    "",
                    "",
                    &[
                        "error malformed spec.template: the pod template must be a mapping, not a list",
                    ],
                ),
            ],
            PLAIN,
        );
    }

    /// Settings stricter than the defaults stay as written.
    #[test]
    fn stricter_settings_are_kept() {
        check(
            &[
                (
                    "a non-root UID, a Localhost seccomp profile, extra dropped capabilities",
                    "kind: Pod\nspec: {securityContext: {runAsUser: 2000, runAsGroup: 3000, seccompProfile: {type: Localhost, localhostProfile: p.json}}, containers: [{name: c, securityContext: {capabilities: {drop: [NET_RAW, ALL]}}}]}",
                    "spec",
                    "{securityContext: {runAsUser: 2000, runAsGroup: 3000, seccompProfile: {type: Localhost, localhostProfile: p.json}, runAsNonRoot: true, fsGroup: 1000}, containers: [{name: c, securityContext: {capabilities: {drop: [NET_RAW, ALL]}, allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, runAsNonRoot: true}, volumeMounts: [{name: lp-tmp, mountPath: /tmp}]}], automountServiceAccountToken: false, enableServiceLinks: false, volumes: [{name: lp-tmp, emptyDir: {}}]}",
                    &[],
                ),
                (
                    "dropping some capabilities: ALL is added",
                    "kind: Pod\nspec: {containers: [{name: c, securityContext: {capabilities: {drop: [NET_RAW]}}}]}",
                    "spec.containers[0].securityContext.capabilities",
                    "{drop: [NET_RAW, ALL]}",
                    &[],
                ),
                (
                    "the baseline's allowed values",
                    "kind: Pod\nspec: {securityContext: {seLinuxOptions: {type: container_t, level: 's0:c1'}, sysctls: [{name: net.ipv4.ip_local_port_range, value: '1 2'}]}, containers: [{name: c, ports: [{containerPort: 80, hostPort: 0}], securityContext: {procMount: Default, appArmorProfile: {type: RuntimeDefault}, windowsOptions: {hostProcess: false}}}]}",
                    "spec.containers[0].securityContext",
                    "{procMount: Default, appArmorProfile: {type: RuntimeDefault}, windowsOptions: {hostProcess: false}, allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: {drop: [ALL]}}",
                    &[],
                ),
                (
                    "the explicit safe values",
                    "kind: Pod\nspec: {automountServiceAccountToken: false, hostNetwork: false, containers: [{name: c, securityContext: {allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, runAsNonRoot: true}}]}",
                    "spec.containers[0].securityContext",
                    "{allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: {drop: [ALL]}}",
                    &[],
                ),
            ],
            PLAIN,
        );
    }

    /// A ServiceAccount's token, and the accounts a binding in the stream keeps it for.
    #[test]
    fn service_account_tokens() {
        check(
            &[
                (
                    "an account's token is not mounted",
                    "kind: ServiceAccount\nmetadata: {name: sa}",
                    "",
                    "{kind: ServiceAccount, metadata: {name: sa}, automountServiceAccountToken: false}",
                    &[],
                ),
                (
                    "an account that mounts it is refused",
                    "kind: ServiceAccount\nmetadata: {name: sa}\nautomountServiceAccountToken: true",
                    "",
                    "",
                    &[
                        "error service-account-token automountServiceAccountToken: `automountServiceAccountToken: true` is not allowed by {own} [allow]",
                    ],
                ),
                (
                    "unless it opts out",
                    "kind: ServiceAccount\nmetadata: {name: sa, annotations: {lp/allow-service-account-token: 'true'}}\nautomountServiceAccountToken: true",
                    "automountServiceAccountToken",
                    "true",
                    &[],
                ),
                (
                    "an account a RoleBinding binds keeps it, with a warning",
                    "kind: RoleBinding\nmetadata: {name: b, namespace: ns}\nsubjects: [{kind: User, name: sa}, {kind: ServiceAccount, name: sa}]\n---\nkind: ServiceAccount\nmetadata: {name: sa, namespace: ns}",
                    "",
                    "{kind: ServiceAccount, metadata: {name: sa, namespace: ns}}",
                    &[
                        "warning service-account-token automountServiceAccountToken: the token is kept: RoleBinding b binds this ServiceAccount to a role, so its pods call the API",
                    ],
                ),
                (
                    "a ClusterRoleBinding's subject names its namespace",
                    "kind: ClusterRoleBinding\nmetadata: {name: c}\nsubjects: [{kind: ServiceAccount, name: sa, namespace: ns}]\n---\nkind: RoleBinding\nmetadata: {name: r}\nsubjects: [{kind: ServiceAccount, name: sa}]\n---\nkind: ServiceAccount\nmetadata: {name: sa, namespace: ns}",
                    "",
                    "{kind: ServiceAccount, metadata: {name: sa, namespace: ns}}",
                    &[
                        "warning service-account-token automountServiceAccountToken: the token is kept: ClusterRoleBinding c, RoleBinding r binds this ServiceAccount to a role, so its pods call the API",
                    ],
                ),
                (
                    "a binding in another namespace, or of a User, binds nothing here",
                    "kind: RoleBinding\nmetadata: {name: b, namespace: other}\nsubjects: [{kind: ServiceAccount, name: sa}]\n---\nkind: RoleBinding\nmetadata: {name: u, namespace: ns}\nsubjects: [{kind: User, name: sa}]\n---\nkind: ServiceAccount\nmetadata: {name: sa, namespace: ns}",
                    "automountServiceAccountToken",
                    "false",
                    &[],
                ),
                (
                    "a pod running as a bound account keeps its token",
                    "kind: RoleBinding\nmetadata: {name: b}\nsubjects: [{kind: ServiceAccount, name: sa}]\n---\nkind: Deployment\napiVersion: apps/v1\nspec: {template: {spec: {serviceAccountName: sa, containers: [{name: c}]}}}",
                    "spec.template.spec",
                    "{serviceAccountName: sa, containers: [{name: c, securityContext: {allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: {drop: [ALL]}}, volumeMounts: [{name: lp-tmp, mountPath: /tmp}]}], enableServiceLinks: false, securityContext: {runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: {type: RuntimeDefault}}, volumes: [{name: lp-tmp, emptyDir: {}}]}",
                    &[
                        "warning service-account-token spec.template.spec.automountServiceAccountToken: the service-account token is kept: the pod runs as ServiceAccount sa, which RoleBinding b binds to a role",
                    ],
                ),
                (
                    "the older serviceAccount field counts too",
                    "kind: RoleBinding\nmetadata: {name: b}\nsubjects: [{kind: ServiceAccount, name: sa}]\n---\nkind: Pod\nspec: {serviceAccount: sa, automountServiceAccountToken: true, containers: [{name: c}]}",
                    "spec.automountServiceAccountToken",
                    "true",
                    &[
                        "warning service-account-token spec.automountServiceAccountToken: the service-account token is kept: the pod runs as ServiceAccount sa, which RoleBinding b binds to a role",
                    ],
                ),
                (
                    "a pod of an unbound account does not mount it",
                    "kind: RoleBinding\nmetadata: {name: b}\nsubjects: [{kind: ServiceAccount, name: other}]\n---\nkind: Pod\nspec: {serviceAccountName: sa, containers: [{name: c}]}",
                    "spec.automountServiceAccountToken",
                    "false",
                    &[],
                ),
            ],
            PLAIN,
        );
    }

    /// `--high-uid`: UIDs of at least 10000 for scanners (CKV_K8S_40).
    #[test]
    fn high_uid_profile() {
        check(
            &[
                (
                    "missing: the high UID, and the groups",
                    "kind: Pod\nspec: {containers: [{name: c}]}",
                    "spec.securityContext",
                    "{runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: {type: RuntimeDefault}}",
                    &[],
                ),
                (
                    "a low UID is raised, pod and container; the groups set stay",
                    "kind: Pod\nspec: {securityContext: {runAsUser: 2000, runAsGroup: 2000}, containers: [{name: c, securityContext: {runAsUser: 9999}}]}",
                    "spec",
                    "{securityContext: {runAsUser: 10001, runAsGroup: 2000, runAsNonRoot: true, fsGroup: 10001, seccompProfile: {type: RuntimeDefault}}, containers: [{name: c, securityContext: {runAsUser: 10001, allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: {drop: [ALL]}}, volumeMounts: [{name: lp-tmp, mountPath: /tmp}]}], automountServiceAccountToken: false, enableServiceLinks: false, volumes: [{name: lp-tmp, emptyDir: {}}]}",
                    &[],
                ),
                (
                    "a high UID stays",
                    "kind: Pod\nspec: {securityContext: {runAsUser: 10000}, containers: [{name: c}]}",
                    "spec.securityContext.runAsUser",
                    "10000",
                    &[],
                ),
                (
                    "root is still refused",
                    "kind: Pod\nspec: {containers: [{name: c, securityContext: {runAsUser: 0}}]}",
                    "",
                    "",
                    &[
                        "error run-as-root spec.containers[0].securityContext.runAsUser: `runAsUser: 0` (root) is not allowed by {restricted} [allow]",
                    ],
                ),
            ],
            HIGH,
        );
        check(
            &[(
                "without it, a low non-root UID stays",
                "kind: Pod\nspec: {securityContext: {runAsUser: 2000}, containers: [{name: c, securityContext: {runAsUser: 1}}]}",
                "spec.containers[0].securityContext.runAsUser",
                "1",
                &[],
            )],
            PLAIN,
        );
    }

    /// Knative Serving: no pod-level security context is added (it admits one only behind a
    /// feature flag); each container gets the user, group and seccomp profile instead.
    #[test]
    fn knative_hardens_containers_only() {
        check(
            &[
                (
                    "a Service's template",
                    "kind: Service\napiVersion: serving.knative.dev/v1\nspec: {template: {spec: {containers: [{name: c, image: i}]}}}",
                    "spec.template.spec",
                    "{containers: [{name: c, image: i, securityContext: {allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: {drop: [ALL]}, runAsUser: 1000, runAsGroup: 1000, seccompProfile: {type: RuntimeDefault}}, volumeMounts: [{name: lp-tmp, mountPath: /tmp}]}], automountServiceAccountToken: false, enableServiceLinks: false, volumes: [{name: lp-tmp, emptyDir: {}}]}",
                    &[],
                ),
                (
                    "a Revision is its own template",
                    "kind: Revision\napiVersion: serving.knative.dev/v1\nspec: {containers: [{name: c}]}",
                    "spec",
                    "{containers: [{name: c, securityContext: {allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: {drop: [ALL]}, runAsUser: 1000, runAsGroup: 1000, seccompProfile: {type: RuntimeDefault}}, volumeMounts: [{name: lp-tmp, mountPath: /tmp}]}], automountServiceAccountToken: false, enableServiceLinks: false, volumes: [{name: lp-tmp, emptyDir: {}}]}",
                    &[],
                ),
                (
                    "a pod-level security context that is there is checked",
                    "kind: Configuration\napiVersion: serving.knative.dev/v1\nspec: {template: {spec: {securityContext: {runAsUser: 0}, containers: [{name: c}]}}}",
                    "",
                    "",
                    &[
                        "error run-as-root spec.template.spec.securityContext.runAsUser: `runAsUser: 0` (root) is not allowed by {restricted} [allow]",
                    ],
                ),
                (
                    "a Knative container's own settings are kept",
                    "kind: Service\napiVersion: serving.knative.dev/v1\nspec: {template: {spec: {containers: [{name: c, securityContext: {runAsUser: 2000, runAsGroup: 3000}}]}}}",
                    "spec.template.spec.containers[0].securityContext",
                    "{runAsUser: 2000, runAsGroup: 3000, allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: {drop: [ALL]}, seccompProfile: {type: RuntimeDefault}}",
                    &[],
                ),
                (
                    "a Service of the core group is a Service, not a pod",
                    "kind: Service\napiVersion: v1\nspec: {ports: [{port: 80}]}",
                    "",
                    "{kind: Service, apiVersion: v1, spec: {ports: [{port: 80}]}}",
                    &[],
                ),
            ],
            PLAIN,
        );
    }
}
