//! The test control plane: a real kube-apiserver and etcd on loopback, started by
//! `scripts/kube.sh up` (scripts/test.sh does it once for the whole suite). Tests find it through
//! `KUBECONFIG` and fail, naming the command, when it is not set; nothing is skipped. Each test
//! works in namespaces of its own (`lp-<test>-<random>`), deleted when it ends.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// What starts the control plane for a shell that runs tests by hand.
pub const UP: &str = "eval \"$(scripts/kube.sh up)\"";

/// The API server `KUBECONFIG` names.
pub struct Cluster {
    kubeconfig: PathBuf,
}

/// The cluster the suite runs against; fails the test when `KUBECONFIG` is unset or names no file.
pub fn cluster() -> Cluster {
    let kubeconfig = std::env::var_os("KUBECONFIG")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!("KUBECONFIG is not set: these tests need the test control plane; start it with `{UP}` (scripts/test.sh does)")
        });
    assert!(
        kubeconfig.is_file(),
        "KUBECONFIG={} does not exist: start the test control plane with `{UP}`",
        kubeconfig.display()
    );
    Cluster { kubeconfig }
}

/// A Pod Security Admission mode (`enforce`, `warn`, `audit`) and level for a namespace label.
pub type Psa<'a> = (&'a str, &'a str);

/// The output of one kubectl run, as text.
pub struct Run {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(out: Output) -> Run {
        Run {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Cluster {
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// The v1.37 kubectl (`LP_KUBECTL`) pointed at this cluster.
    pub fn kubectl(&self) -> Command {
        let mut cmd = Command::new(super::kubectl());
        cmd.arg("--kubeconfig").arg(&self.kubeconfig);
        cmd
    }

    /// kubectl ARGS with `stdin` on its standard input.
    pub fn run(&self, args: &[&str], stdin: &str) -> Run {
        let mut child = self
            .kubectl()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("kubectl: {e}"));
        // A writer thread: kubectl may answer before reading all of a large input.
        let mut pipe = child.stdin.take().unwrap();
        let input = stdin.to_owned();
        let writer = std::thread::spawn(move || pipe.write_all(input.as_bytes()));
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        out.into()
    }

    /// kubectl ARGS, asserted to succeed with nothing on stderr; its stdout.
    pub fn ok(&self, args: &[&str], stdin: &str) -> String {
        let run = self.run(args, stdin);
        assert!(
            run.ok && run.stderr.is_empty(),
            "kubectl {}: {}{}",
            args.join(" "),
            run.stderr,
            run.stdout
        );
        run.stdout
    }

    /// A new namespace `lp-<test>-<random>` with the Pod Security labels given (version
    /// `latest`) and its `default` ServiceAccount (no controller manager runs to make it, and the
    /// ServiceAccount admission plugin refuses Pods without it). Deleted when dropped.
    pub fn namespace(&self, test: &str, psa: &[Psa]) -> Namespace<'_> {
        let name = namespace_name(test, random_suffix());
        let labels: String = psa
            .iter()
            .map(|(mode, level)| {
                format!(
                    "    pod-security.kubernetes.io/{mode}: {level}\n    pod-security.kubernetes.io/{mode}-version: latest\n"
                )
            })
            .collect();
        let labels = if labels.is_empty() {
            String::new()
        } else {
            format!("  labels:\n{labels}")
        };
        self.ok(
            &["apply", "--server-side", "-f", "-"],
            &format!(
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n{labels}---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\n  namespace: {name}\n"
            ),
        );
        Namespace {
            name,
            cluster: self,
        }
    }

    /// A guard that deletes namespace `name` (made by someone else, e.g. `install`) when dropped.
    pub fn adopt(&self, name: &str) -> Namespace<'_> {
        Namespace {
            name: name.to_string(),
            cluster: self,
        }
    }

    /// A fresh namespace name `lp-<test>-<random>`, for a namespace the code under test creates.
    pub fn fresh_name(&self, test: &str) -> String {
        namespace_name(test, random_suffix())
    }

    /// Installs the third-party CRDs of `fixtures/crds/` (server-side apply, so every test may
    /// call it) and waits until the API server serves them.
    pub fn install_crds(&self) {
        let dir = super::fixture("crds");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        files.sort();
        let mut apply = vec!["apply", "--server-side", "--force-conflicts"];
        let paths: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
        for p in &paths {
            apply.extend(["-f", p]);
        }
        let applied = self.ok(&apply, "");
        let names: Vec<&str> = applied
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        assert_eq!(names.len(), files.len(), "{applied}");
        let mut wait = vec!["wait", "--for=condition=Established", "--timeout=60s"];
        wait.extend(names.iter().copied());
        self.ok(&wait, "");
    }
}

/// A namespace of one test, deleted (without waiting: no namespace controller runs to finish
/// it) when dropped, whether the test passed or not.
pub struct Namespace<'a> {
    pub name: String,
    cluster: &'a Cluster,
}

impl Drop for Namespace<'_> {
    fn drop(&mut self) {
        let _ = self
            .cluster
            .kubectl()
            .args(["delete", "namespace", &self.name, "--wait=false"])
            .args(["--ignore-not-found"])
            .output();
    }
}

/// `lp-<test>-<suffix>`: the test name in a DNS label's alphabet, short enough that the whole
/// stays within 63 characters.
pub fn namespace_name(test: &str, suffix: u32) -> String {
    let mut slug: String = test
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9') => c,
            _ => '-',
        })
        .collect();
    slug.truncate(40);
    let slug = slug.trim_matches('-');
    format!("lp-{slug}-{suffix:08x}")
}

fn random_suffix() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    h.finish() as u32
}

/// Every pod template in `objs` (objects as kubectl reads them), where Pod Security Admission
/// finds them: a Pod's own spec, `spec.template` of the workload kinds, a CronJob's job
/// template. Each as (`kind/name`, the template).
pub fn pod_templates(objs: &[serde_json::Value]) -> Vec<(String, serde_json::Value)> {
    objs.iter()
        .filter_map(|o| {
            let kind = o["kind"].as_str()?;
            let template = match kind {
                "Pod" => serde_json::json!({"metadata": o["metadata"], "spec": o["spec"]}),
                "Deployment"
                | "ReplicaSet"
                | "StatefulSet"
                | "DaemonSet"
                | "Job"
                | "ReplicationController"
                | "PodTemplate" => {
                    if kind == "PodTemplate" {
                        o["template"].clone()
                    } else {
                        o["spec"]["template"].clone()
                    }
                }
                "CronJob" => o["spec"]["jobTemplate"]["spec"]["template"].clone(),
                _ => return None,
            };
            Some((
                format!("{kind}/{}", o["metadata"]["name"].as_str()?),
                template,
            ))
        })
        .collect()
}

/// A Pod made from a pod template, named `name`, as a controller would create it.
pub fn pod_of(name: &str, template: &serde_json::Value) -> serde_json::Value {
    let mut metadata = serde_json::json!({"name": name});
    for field in ["labels", "annotations"] {
        if let Some(v) = template["metadata"].get(field) {
            metadata[field] = v.clone();
        }
    }
    serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": template["spec"]})
}

/// The ServiceAccounts `pods` run as (`default` when unset).
pub fn service_accounts(pods: &[serde_json::Value]) -> Vec<String> {
    let mut names: Vec<String> = pods
        .iter()
        .map(|p| {
            p["spec"]["serviceAccountName"]
                .as_str()
                .unwrap_or("default")
                .to_string()
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

impl Namespace<'_> {
    /// Creates `pods` with `kubectl create --dry-run=server` in one run (after creating, for
    /// real, the ServiceAccounts they run as: admission looks them up). Returns the names the
    /// server admitted and kubectl's stderr, which holds each refusal.
    pub fn dry_run_pods(&self, pods: &[serde_json::Value]) -> (Vec<String>, String) {
        let accounts: String = service_accounts(pods)
            .iter()
            .map(|sa| {
                format!("---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {sa}\n")
            })
            .collect();
        self.cluster.ok(
            &["apply", "--server-side", "-n", &self.name, "-f", "-"],
            &accounts,
        );
        let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": pods});
        let run = self.cluster.run(
            &[
                "create",
                "--dry-run=server",
                "-n",
                &self.name,
                "-o",
                "name",
                "-f",
                "-",
            ],
            &list.to_string(),
        );
        let admitted = run
            .stdout
            .lines()
            .filter_map(|l| l.strip_prefix("pod/"))
            .map(str::to_string)
            .collect();
        (admitted, run.stderr)
    }
}
