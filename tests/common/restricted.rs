//! An independent check of the Pod Security Standards "restricted" profile plus this project's
//! bar (DESIGN §6), over objects as Kubernetes reads them (kubectl's JSON).

use serde_json::Value;

/// Written out again from DESIGN §6 on purpose rather than imported from `src/postrender`: an
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

pub fn pod_spec(obj: &Value) -> Option<&Value> {
    match obj["kind"].as_str()? {
        "Pod" => obj.get("spec"),
        "CronJob" => obj.pointer("/spec/jobTemplate/spec/template/spec"),
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job" => obj.pointer("/spec/template/spec"),
        _ => None,
    }
}

pub fn violations(obj: &Value) -> Vec<String> {
    let mut v = Vec::new();
    let name = format!("{} {}", obj["kind"], obj["metadata"]["name"]);
    if obj["kind"] == "ServiceAccount" && obj["automountServiceAccountToken"] != false {
        v.push(format!("{name}: ServiceAccount mounts a token"));
    }
    let Some(spec) = pod_spec(obj) else { return v };
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
    }
    let psc = &spec["securityContext"];
    let containers: Vec<&Value> = ["initContainers", "containers", "ephemeralContainers"]
        .iter()
        .flat_map(|f| spec[*f].as_array().into_iter().flatten())
        .collect();
    for c in &containers {
        let sc = &c["securityContext"];
        let cname = format!("{name} container {}", c["name"]);
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
