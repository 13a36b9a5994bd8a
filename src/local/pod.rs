//! The tool's own view of the pods the chart renders from our values: for master and worker, the
//! init containers and the `locust` container with command, args, env and mounts, following the
//! DeliveryHero chart's templates (0.35.0). `local` executes exactly this.

use crate::values::{ScriptConfigMap, Synthesized};
use crate::yaml::Node;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A ConfigMap's data, as files.
    ConfigMap(Vec<(String, String)>),
    EmptyDir,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    pub path: String,
    pub source: Source,
    /// The chart value that set `path` (`master.extraVolumeMounts[0].mountPath`).
    pub field: String,
}

/// The parts of a container's security context `local` enforces (pod values filled in where the
/// container leaves them out, then the post-renderer's defaults).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Security {
    pub run_as_user: i64,
    pub run_as_group: i64,
    pub read_only_root: bool,
    /// Capabilities added back after `drop: [ALL]` (the restricted profile allows only
    /// NET_BIND_SERVICE).
    pub add_caps: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerView {
    pub name: String,
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub mounts: Vec<Mount>,
    pub security: Security,
    /// The chart values (with the `helmValues` key that set them) whose command or args
    /// locust-planton did not generate ([`mark_foreign`]); empty for its own.
    pub foreign: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodView {
    pub role: &'static str,
    pub init_containers: Vec<ContainerView>,
    pub container: ContainerView,
}

fn strings(node: Option<&Node>) -> Vec<String> {
    node.and_then(Node::as_seq)
        .map(|s| {
            s.iter()
                .filter_map(|n| n.as_scalar().map(|s| s.text.clone()))
                .collect()
        })
        .unwrap_or_default()
}

fn str_at<'a>(values: &'a Node, path: &[&str]) -> Option<&'a str> {
    values
        .get_path(path)
        .and_then(|n| n.as_scalar())
        .map(|s| s.text.as_str())
}

fn env_map(node: Option<&Node>) -> Vec<(String, String)> {
    node.and_then(Node::as_map)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    (
                        k.key_text(),
                        v.as_scalar().map(|s| s.text.clone()).unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Volumes by name: the role's `extraVolumes` (emptyDirs) and the chart's script ConfigMaps.
fn volume_source(
    values: &Node,
    role: &str,
    name: &str,
    configmaps: &[ScriptConfigMap],
) -> Option<Source> {
    let extra = values
        .get_path(&[role, "extraVolumes"])
        .and_then(Node::as_seq)?;
    let v = extra
        .iter()
        .find(|v| v.get_path(&["name"]).and_then(Node::as_str) == Some(name))?;
    if v.get_path(&["emptyDir"]).is_some() {
        return Some(Source::EmptyDir);
    }
    let cm = v.get_path(&["configMap", "name"]).and_then(Node::as_str)?;
    configmaps
        .iter()
        .find(|c| c.name == cm)
        .map(|c| Source::ConfigMap(c.data.clone()))
}

fn mounts_of(
    values: &Node,
    role: &str,
    (list, at): (Option<&Node>, &str),
    configmaps: &[ScriptConfigMap],
) -> Vec<Mount> {
    list.and_then(Node::as_seq)
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, m)| {
            let name = m.get_path(&["name"]).and_then(Node::as_str)?;
            let path = m.get_path(&["mountPath"]).and_then(Node::as_str)?;
            Some(Mount {
                path: path.to_string(),
                source: volume_source(values, role, name, configmaps)?,
                field: format!("{at}[{i}].mountPath"),
            })
        })
        .collect()
}

/// A container's security context from its own `securityContext`, then the pod's, then what the
/// post-renderer sets when both leave a field out (UID 1000, read-only root).
fn security(container: Option<&Node>, pod: Option<&Node>) -> Security {
    let int = |k: &str| {
        container
            .and_then(|c| c.get_path(&[k]))
            .or_else(|| pod.and_then(|p| p.get_path(&[k])))
            .and_then(Node::as_i64)
    };
    let uid = int("runAsUser").unwrap_or(crate::contract::RUN_AS_USER);
    Security {
        run_as_user: uid,
        run_as_group: int("runAsGroup").unwrap_or(uid),
        read_only_root: container
            .and_then(|c| c.get_path(&["readOnlyRootFilesystem"]))
            .and_then(Node::as_bool)
            .unwrap_or(true),
        add_caps: strings(container.and_then(|c| c.get_path(&["capabilities", "add"]))),
    }
}

/// The master or worker pod for synthesized values.
pub fn pod_view(s: &Synthesized, role: &'static str) -> PodView {
    let v = &s.values;
    let mut args = vec![format!("--{role}")];
    args.extend(strings(v.get_path(&[role, "args"])));
    let pod_sc = v.get_path(&["podSecurityContext"]);
    PodView {
        role,
        init_containers: init_containers(s, role, pod_sc),
        container: ContainerView {
            name: "locust".into(),
            command: strings(v.get_path(&[role, "command"])),
            args,
            env: locust_env(v, role),
            mounts: locust_mounts(s, role),
            security: security(v.get_path(&["securityContext"]), pod_sc),
            foreign: Vec::new(),
        },
    }
}

/// `loadtest.<key>` as text ("" when unset).
fn loadtest(v: &Node, key: &str) -> String {
    str_at(v, &["loadtest", key])
        .unwrap_or_default()
        .to_string()
}

/// The `locust` container's mounts: the locustfile and lib ConfigMaps at the script folder, then
/// the role's `extraVolumeMounts`.
fn locust_mounts(s: &Synthesized, role: &str) -> Vec<Mount> {
    let v = &s.values;
    let script_dir = loadtest(v, "locust_locustfile_path");
    let by_name = |name: String| {
        s.configmaps
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.data.clone())
    };
    let mut mounts = Vec::new();
    if let Some(data) = by_name(loadtest(v, "locust_locustfile_configmap")) {
        mounts.push(Mount {
            path: script_dir.clone(),
            source: Source::ConfigMap(data),
            field: "loadtest.locust_locustfile_path".into(),
        });
    }
    if let Some(data) = by_name(loadtest(v, "locust_lib_configmap")) {
        mounts.push(Mount {
            path: format!("{script_dir}/lib"),
            source: Source::ConfigMap(data),
            field: "loadtest.locust_locustfile_path".into(),
        });
    }
    mounts.extend(mounts_of(
        v,
        role,
        (
            v.get_path(&[role, "extraVolumeMounts"]),
            &format!("{role}.extraVolumeMounts"),
        ),
        &s.configmaps,
    ));
    mounts
}

/// The `locust` container's env in the chart's order: its own variables, the master's address
/// (workers), then `loadtest.environment` and the role's `environment`.
fn locust_env(v: &Node, role: &str) -> Vec<(String, String)> {
    let mut env = vec![
        ("LOCUST_HOST".to_string(), loadtest(v, "locust_host")),
        (
            "LOCUST_LOGLEVEL".to_string(),
            str_at(v, &[role, "logLevel"]).unwrap_or("INFO").to_string(),
        ),
        (
            "LOCUST_LOCUSTFILE".to_string(),
            format!(
                "{}/{}",
                loadtest(v, "locust_locustfile_path"),
                loadtest(v, "locust_locustfile")
            ),
        ),
    ];
    if role == "worker" {
        env.push((
            "LOCUST_MASTER_NODE_HOST".into(),
            str_at(v, &["fullnameOverride"])
                .unwrap_or_default()
                .to_string(),
        ));
        env.push(("LOCUST_MASTER_NODE_PORT".into(), "5557".into()));
    }
    env.extend(env_map(v.get_path(&["loadtest", "environment"])));
    env.extend(env_map(v.get_path(&[role, "environment"])));
    env
}

/// The role's `initContainers`, their security contexts completed from the pod's.
fn init_containers(s: &Synthesized, role: &str, pod_sc: Option<&Node>) -> Vec<ContainerView> {
    let v = &s.values;
    v.get_path(&[role, "initContainers"])
        .and_then(Node::as_seq)
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, c)| ContainerView {
            name: str_at(c, &["name"]).unwrap_or("init").to_string(),
            command: strings(c.get_path(&["command"])),
            args: strings(c.get_path(&["args"])),
            env: env_list(c.get_path(&["env"])),
            mounts: mounts_of(
                v,
                role,
                (
                    c.get_path(&["volumeMounts"]),
                    &format!("{role}.initContainers[{i}].volumeMounts"),
                ),
                &s.configmaps,
            ),
            security: security(c.get_path(&["securityContext"]), pod_sc),
            foreign: Vec::new(),
        })
        .collect()
}

/// A container's `env` list (`- name: …, value: …`); entries without a name are skipped.
fn env_list(node: Option<&Node>) -> Vec<(String, String)> {
    node.and_then(Node::as_seq)
        .into_iter()
        .flatten()
        .filter_map(|e| {
            Some((
                str_at(e, &["name"])?.to_string(),
                str_at(e, &["value"]).unwrap_or("").to_string(),
            ))
        })
        .collect()
}

/// Marks what in `pod` runs a command locust-planton did not generate: `own` is the same pod
/// from the spec without `helmValues` (the chart's Locust, the pip step, the run wrapper).
/// Init containers are compared by position; each difference names its chart value and the
/// `helmValues` key that set it.
pub fn mark_foreign(pod: &mut PodView, own: &PodView, overrides: &[(String, String)]) {
    let role = pod.role;
    let named = |field: String| {
        let key = field.split('[').next().unwrap_or(&field).to_string();
        let by = crate::values::helm_values::set_by(overrides, &key);
        format!("{field} (set by {by})")
    };
    let c = &mut pod.container;
    if c.command != own.container.command {
        c.foreign.push(named(format!("{role}.command")));
    }
    if c.args != own.container.args {
        c.foreign.push(named(format!("{role}.args")));
    }
    for (i, init) in pod.init_containers.iter_mut().enumerate() {
        let at = format!("{role}.initContainers[{i}]");
        match own.init_containers.get(i) {
            Some(o) if o.name == init.name => {
                if init.command != o.command {
                    init.foreign.push(named(format!("{at}.command")));
                }
                if init.args != o.args {
                    init.foreign.push(named(format!("{at}.args")));
                }
            }
            _ => init.foreign.push(named(at)),
        }
    }
}
