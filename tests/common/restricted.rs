//! An independent check of the Pod Security Standards "restricted" profile plus this project's
//! bar (docs/post-renderer.md "What is set and checked"), over objects as Kubernetes reads them
//! (kubectl's JSON).

use serde_json::Value;

/// Written out again from the Pod Security Standards on purpose (docs/testing.md "Oracles")
/// rather than imported from `src/postrender`: an
/// oracle that shares the implementation's list would agree with any mistake in it.
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

/// Sysctls the baseline profile allows (Kubernetes documentation, Pod Security Standards).
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

/// Every pod spec in an object, by shape: any JSON object whose `containers` is an array,
/// wherever it is (ConfigMap and Secret data aside), with the template holding it (the object
/// whose `spec` it is), if any.
pub fn pod_specs(obj: &Value) -> Vec<(&Value, Option<&Value>)> {
    fn walk<'a>(
        v: &'a Value,
        parent: Option<&'a Value>,
        key: &str,
        out: &mut Vec<(&'a Value, Option<&'a Value>)>,
    ) {
        match v {
            Value::Object(m) => {
                if m.get("containers").is_some_and(Value::is_array) {
                    out.push((v, parent.filter(|_| key == "spec")));
                    return;
                }
                for (k, child) in m {
                    walk(child, Some(v), k, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, None, "", out)),
            _ => {}
        }
    }
    if matches!(obj["kind"].as_str(), Some("ConfigMap" | "Secret")) {
        return Vec::new();
    }
    let mut out = Vec::new();
    walk(obj, None, "", &mut out);
    out
}

pub fn violations(obj: &Value) -> Vec<String> {
    let mut v = Vec::new();
    let name = format!("{} {}", obj["kind"], obj["metadata"]["name"]);
    if obj["kind"] == "ServiceAccount" && obj["automountServiceAccountToken"] != false {
        v.push(format!("{name}: ServiceAccount mounts a token"));
    }
    for (spec, template) in pod_specs(obj) {
        v.extend(pod_violations(&name, spec, template));
    }
    v
}

fn pod_violations(name: &str, spec: &Value, template: Option<&Value>) -> Vec<String> {
    let mut v = Vec::new();
    for (k, val) in template
        .and_then(|t| t["metadata"]["annotations"].as_object())
        .into_iter()
        .flatten()
    {
        if k.starts_with("container.apparmor.security.beta.kubernetes.io/") && val == "unconfined" {
            v.push(format!("{name}: AppArmor annotation unconfined"));
        }
    }
    for f in ["hostNetwork", "hostPID", "hostIPC"] {
        if spec[f] == true {
            v.push(format!("{name}: {f}"));
        }
    }
    if spec["automountServiceAccountToken"] != false {
        v.push(format!("{name}: pod mounts a service-account token"));
    }
    for vol in spec["volumes"].as_array().into_iter().flatten() {
        for k in vol.as_object().unwrap().keys().filter(|k| *k != "name") {
            if !ALLOWED_VOLUMES.contains(&k.as_str()) {
                v.push(format!("{name}: volume type {k}"));
            }
        }
        for src in vol["projected"]["sources"].as_array().into_iter().flatten() {
            if src.get("serviceAccountToken").is_some() {
                v.push(format!("{name}: projected service-account token"));
            }
        }
    }
    let psc = &spec["securityContext"];
    v.extend(baseline_options(name, psc));
    for s in psc["sysctls"].as_array().into_iter().flatten() {
        if !s["name"]
            .as_str()
            .is_some_and(|n| SAFE_SYSCTLS.contains(&n))
        {
            v.push(format!("{name}: sysctl {}", s["name"]));
        }
    }
    let containers: Vec<&Value> = ["initContainers", "containers", "ephemeralContainers"]
        .iter()
        .flat_map(|f| spec[*f].as_array().into_iter().flatten())
        .collect();
    for c in &containers {
        let sc = &c["securityContext"];
        let cname = format!("{name} container {}", c["name"]);
        v.extend(baseline_options(&cname, sc));
        if sc.get("procMount").is_some_and(|p| p != "Default") {
            v.push(format!("{cname}: procMount {}", sc["procMount"]));
        }
        if sc["allowPrivilegeEscalation"] != false {
            v.push(format!("{cname}: allowPrivilegeEscalation not false"));
        }
        if sc["privileged"] == true {
            v.push(format!("{cname}: privileged"));
        }
        if sc["readOnlyRootFilesystem"] != true {
            v.push(format!("{cname}: root file system writable"));
        }
        let drops = sc["capabilities"]["drop"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if !drops.iter().any(|d| d == "ALL") {
            v.push(format!("{cname}: capabilities not dropped"));
        }
        for a in sc["capabilities"]["add"].as_array().into_iter().flatten() {
            if a != "NET_BIND_SERVICE" {
                v.push(format!("{cname}: adds {a}"));
            }
        }
        let non_root = sc["runAsNonRoot"] == true
            || (psc["runAsNonRoot"] == true && sc["runAsNonRoot"] != false);
        if !non_root {
            v.push(format!("{cname}: runAsNonRoot not set"));
        }
        let uid = sc["runAsUser"].as_i64().or(psc["runAsUser"].as_i64());
        if uid.is_none_or(|u| u == 0) {
            v.push(format!("{cname}: no numeric non-root runAsUser"));
        }
        let seccomp = sc["seccompProfile"]["type"]
            .as_str()
            .or(psc["seccompProfile"]["type"].as_str());
        if !matches!(seccomp, Some("RuntimeDefault" | "Localhost")) {
            v.push(format!("{cname}: seccomp {seccomp:?}"));
        }
        for p in c["ports"].as_array().into_iter().flatten() {
            if p["hostPort"].as_i64().is_some_and(|h| h != 0) {
                v.push(format!("{cname}: hostPort"));
            }
        }
    }
    v
}

/// SELinux, AppArmor and Windows host-process settings the baseline profile forbids.
fn baseline_options(name: &str, sc: &Value) -> Vec<String> {
    let mut v = Vec::new();
    let se = &sc["seLinuxOptions"];
    if let Some(t) = se["type"].as_str()
        && !matches!(
            t,
            "" | "container_t" | "container_init_t" | "container_kvm_t" | "container_engine_t"
        )
    {
        v.push(format!("{name}: SELinux type {t}"));
    }
    for f in ["user", "role"] {
        if se[f].as_str().is_some_and(|s| !s.is_empty()) {
            v.push(format!("{name}: SELinux {f}"));
        }
    }
    if let Some(t) = sc["appArmorProfile"]["type"].as_str()
        && !matches!(t, "RuntimeDefault" | "Localhost")
    {
        v.push(format!("{name}: AppArmor {t}"));
    }
    if sc["windowsOptions"]["hostProcess"] == true {
        v.push(format!("{name}: hostProcess"));
    }
    v
}
