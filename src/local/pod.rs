//! The pods `local` runs: for master and worker, the chart model's Deployment (`crate::chart`)
//! for the synthesized values, hardened by the policy as the post-renderer hardens it, projected
//! to the init containers and the `locust` container with command, args, env, mounts and
//! security context. `local` executes exactly this.

use crate::chart::{self, Rendered, Role};
use crate::policy::harden::{BoundAccounts, harden};
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

/// The release name the pods are rendered under: `local` reaches the master on 127.0.0.1 and
/// names nothing after the release.
const RELEASE: &str = "local";

/// A volume of the pod by name: an emptyDir, or one of the tool's script ConfigMaps (any other
/// volume `local` does not provide, and the mount is left out).
fn volume_source(pod: &Node, name: &str, configmaps: &[ScriptConfigMap]) -> Option<Source> {
    let v = pod
        .get_path(&["volumes"])
        .and_then(Node::as_seq)?
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

/// A container's mounts `local` provides, each named by the chart value that set its path.
fn mounts_of(
    rendered: &Rendered,
    pod: &Node,
    (container, at): (&Node, &str),
    configmaps: &[ScriptConfigMap],
) -> Vec<Mount> {
    container
        .get_path(&["volumeMounts"])
        .and_then(Node::as_seq)
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, m)| {
            let name = m.get_path(&["name"]).and_then(Node::as_str)?;
            let path = m.get_path(&["mountPath"]).and_then(Node::as_str)?;
            let object_field = format!("{at}.volumeMounts[{i}].mountPath");
            let field = rendered
                .value_of(&object_field)
                .map_or(object_field.clone(), |(s, rest)| {
                    format!("{}{rest}", s.value)
                });
            Some(Mount {
                path: path.to_string(),
                source: volume_source(pod, name, configmaps)?,
                field,
            })
        })
        .collect()
}

/// A hardened container's security context: its own fields, then the pod's (hardening has
/// filled in what both leave out; the contract's UID and a read-only root stand for a field a
/// refused value left unset).
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

/// The master or worker pod for synthesized values: the chart model's Deployment for them,
/// hardened as the post-renderer hardens it, its containers as `local` runs them.
pub fn pod_view(s: &Synthesized, role: &'static str) -> PodView {
    let chart_role = if role == "master" {
        Role::Master
    } else {
        Role::Worker
    };
    let rendered = chart::render(&s.values, RELEASE, chart_role);
    let mut object = rendered.object.clone();
    // Its findings are `check`'s and the post-renderer's to report; `local` runs what
    // hardening leaves.
    let _ = harden(
        &mut object,
        crate::postrender::Options::default().profile,
        &BoundAccounts::default(),
    );
    let pod = object
        .get_path(&["spec", "template", "spec"])
        .cloned()
        .unwrap_or_else(Node::map);
    let view = |c: &Node, at: &str| ContainerView {
        name: str_at(c, &["name"]).unwrap_or("init").to_string(),
        command: strings(c.get_path(&["command"])),
        args: strings(c.get_path(&["args"])),
        env: env_list(c.get_path(&["env"])),
        mounts: mounts_of(&rendered, &pod, (c, at), &s.configmaps),
        security: security(
            c.get_path(&["securityContext"]),
            pod.get_path(&["securityContext"]),
        ),
        foreign: Vec::new(),
    };
    let list = |key: &str| -> Vec<Node> {
        pod.get_path(&[key])
            .and_then(Node::as_seq)
            .cloned()
            .unwrap_or_default()
    };
    let init_containers = list("initContainers")
        .iter()
        .enumerate()
        .map(|(i, c)| view(c, &format!("spec.template.spec.initContainers[{i}]")))
        .collect();
    let containers = list("containers");
    let main = containers
        .iter()
        .position(|c| str_at(c, &["name"]) == Some(chart::CONTAINER))
        .unwrap_or(0);
    let container = containers
        .get(main)
        .map(|c| view(c, &format!("spec.template.spec.containers[{main}]")))
        .unwrap_or_else(|| view(&Node::map(), "spec.template.spec.containers[0]"));
    PodView {
        role,
        init_containers,
        container,
    }
}

/// A container's `env` list (`- name: …, value: …`): a variable from a Secret
/// (`valueFrom`) `local` cannot read and leaves out; one without a name is skipped.
fn env_list(node: Option<&Node>) -> Vec<(String, String)> {
    node.and_then(Node::as_seq)
        .into_iter()
        .flatten()
        .filter(|e| e.get_path(&["valueFrom"]).is_none())
        .filter_map(|e| {
            Some((
                e.get_path(&["name"])?.key_text(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn synthesized(values: &str) -> Synthesized {
        Synthesized {
            values: crate::yaml::parse_single(values).unwrap(),
            configmaps: vec![ScriptConfigMap {
                role: "main",
                name: "x-main".into(),
                data: vec![("main.py".into(), "pass\n".into())],
            }],
            locust: crate::spec::image::LocustImage {
                image: "locustio/locust:2.32.2".into(),
                repository_tag: None,
                per_component: false,
                version: None,
            },
            findings: Default::default(),
        }
    }

    #[test]
    fn pods_are_the_chart_models_hardened_containers() {
        struct Case {
            role: &'static str,
            env: &'static [(&'static str, &'static str)],
            mounts: &'static [(&'static str, &'static str)],
            user_group: (i64, i64),
        }
        let s = synthesized(
            "{fullnameOverride: x, podSecurityContext: {runAsUser: 2000}, \
             loadtest: {locust_locustfile_configmap: x-main, locust_lib_configmap: '', environment: {B: b, A: a}, environment_secret: {S: s}}, \
             worker: {environment: {A: w}}, \
             master: {extraVolumes: [{name: t, emptyDir: {}}, {name: c, configMap: {name: other}}], \
             extraVolumeMounts: [{name: c, mountPath: /c}, {name: t, mountPath: /tmp}]}}",
        );
        let table = [
            Case {
                role: "master",
                env: &[
                    ("LOCUST_HOST", "https://www.google.com"),
                    ("LOCUST_LOGLEVEL", "INFO"),
                    ("LOCUST_LOCUSTFILE", "/mnt/locust/main.py"),
                    ("A", "a"),
                    ("B", "b"),
                ],
                // The ConfigMap `other` is not the tool's: left out. Hardening adds the writable
                // home the post-renderer gives a pod without one.
                mounts: &[
                    ("/mnt/locust", "loadtest.locust_locustfile_path"),
                    ("/tmp", "master.extraVolumeMounts[1].mountPath"),
                    (
                        "/home/locust",
                        "spec.template.spec.containers[0].volumeMounts[4].mountPath",
                    ),
                ],
                user_group: (2000, 1000),
            },
            // The chart's worker order: its own variables first, so `loadtest.environment`'s
            // `A` comes later and wins.
            Case {
                role: "worker",
                env: &[
                    ("LOCUST_HOST", "https://www.google.com"),
                    ("LOCUST_MASTER_NODE_HOST", "x"),
                    ("LOCUST_MASTER_NODE_PORT", "5557"),
                    ("LOCUST_LOGLEVEL", "INFO"),
                    ("LOCUST_LOCUSTFILE", "/mnt/locust/main.py"),
                    ("A", "w"),
                    ("A", "a"),
                    ("B", "b"),
                ],
                mounts: &[
                    ("/mnt/locust", "loadtest.locust_locustfile_path"),
                    (
                        "/tmp",
                        "spec.template.spec.containers[0].volumeMounts[2].mountPath",
                    ),
                    (
                        "/home/locust",
                        "spec.template.spec.containers[0].volumeMounts[3].mountPath",
                    ),
                ],
                user_group: (2000, 1000),
            },
        ];
        for c in table {
            let role = if c.role == "master" {
                "master"
            } else {
                "worker"
            };
            let pod = pod_view(&s, role);
            let env: Vec<(&str, &str)> = pod
                .container
                .env
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            assert_eq!(env, c.env, "{}", c.role);
            let mounts: Vec<(&str, &str)> = pod
                .container
                .mounts
                .iter()
                .map(|m| (m.path.as_str(), m.field.as_str()))
                .collect();
            assert_eq!(mounts, c.mounts, "{}", c.role);
            let sec = &pod.container.security;
            assert_eq!(
                (sec.run_as_user, sec.run_as_group),
                c.user_group,
                "{}",
                c.role
            );
            assert!(sec.read_only_root);
            assert_eq!(pod.container.args, [format!("--{}", c.role)]);
            assert_eq!(
                pod.container.command,
                ["sh", "/config/docker-entrypoint.sh"]
            );
        }
    }
}
