//! How containers become processes: `Exec` holds what every pod process of a run shares (the
//! run's process group, the sandbox and its network, the pods' `/etc`), and turns a container
//! into an argv and env, sandboxed at the pod's paths or re-rooted into the pod's directory.

use super::confinement::{shell_line, start_network};
use super::error::{LocalError, io_at};
use super::interpreter::{last_line, pod_path};
use super::net;
use super::observers::{Hints, Watch};
use super::options::LocalOptions;
use super::pod::ContainerView;
use super::pod_dir::{PodDir, pod_etc, pod_hostname};
use super::processes::{self, Placement, Proc, RunGroup, orphan_proof};
use super::sandbox::{self, Sandbox};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

/// How containers become processes: sandboxed at the pod's paths, or re-rooted.
pub(super) struct Exec<'a> {
    /// Declared first, dropped last: every process of the run is in it.
    group: RunGroup,
    pub sandbox: Option<Sandbox>,
    /// The run's network namespace (sandboxed, where pasta works).
    pub network: Option<net::PodNetwork>,
    /// The pods' own `/etc` files (`passwd`, `group`, `resolv.conf`).
    etc: Vec<(String, PathBuf)>,
    writable: Vec<PathBuf>,
    pub opts: &'a LocalOptions,
    hints_seen: Arc<Mutex<BTreeSet<String>>>,
}

impl<'a> Exec<'a> {
    /// How the pods run; `users` are the UID/GIDs they run as (named in their `/etc/passwd`),
    /// `plan` what their network forwards.
    pub(super) fn new(
        sandbox: Option<Sandbox>,
        opts: &'a LocalOptions,
        tmp: &Path,
        users: &[(i64, i64)],
        plan: &net::Plan,
    ) -> Result<Self, LocalError> {
        let cwd = std::env::current_dir().map_err(io_at("the current folder"))?;
        let group = RunGroup::start();
        let network = match &sandbox {
            Some(sb) => start_network(sb, opts.sandbox, tmp, plan, group.id())?,
            None => None,
        };
        let mut etc = if sandbox.is_some() {
            pod_etc(&tmp.join("etc"), users)?
        } else {
            Vec::new()
        };
        if let Some(n) = &network {
            etc.push(("resolv.conf".into(), n.resolv_conf.clone()));
        }
        Ok(Exec {
            group,
            writable: if sandbox.is_some() {
                sandbox::output_dirs(&opts.master_args, &cwd)
            } else {
                Vec::new()
            },
            network,
            etc,
            sandbox,
            opts,
            hints_seen: Arc::default(),
        })
    }

    /// The namespaces a pod process joins (the run's network), if any.
    fn netns(&self) -> Option<(i32, i32)> {
        self.network.as_ref().map(net::PodNetwork::fds)
    }

    /// Whether the pods' user can run the Python in the sandbox (its directories are bound,
    /// but bubblewrap cannot bind what this user cannot reach).
    pub(super) fn check_pods_can_run(
        &self,
        pod: &PodDir,
        c: &ContainerView,
    ) -> Result<(), LocalError> {
        if self.sandbox.is_none() {
            return Ok(());
        }
        let mut probe = c.clone();
        probe.command = vec![
            self.opts.python.clone(),
            "-c".into(),
            "import locust".into(),
        ];
        probe.args = Vec::new();
        let (argv, _) = self.process(pod, &probe, &[], self.opts.master_port.port);
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        orphan_proof(&mut cmd, libc::SIGKILL, self.netns(), self.group.id());
        let out = cmd.output().map_err(io_at(&argv[0]))?;
        if out.status.success() {
            return Ok(());
        }
        Err(LocalError::PodCannotRun {
            python: self.opts.python.clone(),
            uid: c.security.run_as_user,
            detail: last_line(&out.stderr),
        })
    }

    /// The image's venv binaries become this Python's modules.
    fn inner_command(&self, pod: &PodDir, c: &ContainerView) -> Vec<String> {
        let python = &self.opts.python;
        let path = |p: &str| {
            if self.sandbox.is_some() {
                p.to_string()
            } else {
                pod.reroot(p)
            }
        };
        let mut cmd: Vec<String> = match c.command.first().map(String::as_str) {
            Some(p) if p.ends_with("/locust") => vec![python.into(), "-m".into(), "locust".into()],
            Some(p) if p.ends_with("/pip") => vec![python.into(), "-m".into(), "pip".into()],
            Some(p) if p.ends_with("/python") || p.ends_with("/python3") => vec![python.into()],
            Some(p) => vec![path(p)],
            None => vec![python.into(), "-m".into(), "locust".into()],
        };
        cmd.extend(c.command.iter().skip(1).chain(&c.args).map(|a| path(a)));
        cmd
    }

    /// The pod's env for this container, the master reached on 127.0.0.1.
    fn pod_env(&self, pod: &PodDir, c: &ContainerView, master_port: u16) -> Vec<(String, String)> {
        let sandboxed = self.sandbox.is_some();
        let mut env: Vec<(String, String)> = c
            .env
            .iter()
            .map(|(k, v)| {
                let v = if sandboxed { v.clone() } else { pod.reroot(v) };
                (k.clone(), v)
            })
            .collect();
        for (k, v) in env.iter_mut() {
            match k.as_str() {
                "LOCUST_MASTER_NODE_HOST" => *v = "127.0.0.1".into(),
                "LOCUST_MASTER_NODE_PORT" => *v = master_port.to_string(),
                "LOCUST_HOST" => {
                    if let Some(host) = &self.opts.host {
                        *v = host.clone();
                    }
                }
                _ => {}
            }
        }
        let home = crate::contract::HOME_VOLUME.1;
        if !env.iter().any(|(k, _)| k == "HOME") && pod.mount_paths.iter().any(|m| m == home) {
            let v = if sandboxed {
                home.to_string()
            } else {
                pod.reroot(home)
            };
            env.push(("HOME".into(), v));
        }
        env
    }

    /// argv and extra env of a container's process with `extra` arguments.
    fn process(
        &self,
        pod: &PodDir,
        c: &ContainerView,
        extra: &[String],
        master_port: u16,
    ) -> (Vec<String>, Vec<(String, String)>) {
        let mut inner = self.inner_command(pod, c);
        inner.extend(extra.iter().cloned());
        let env = self.pod_env(pod, c, master_port);
        let Some(sb) = &self.sandbox else {
            return (inner, env);
        };
        // What the image would provide (its venv first on PATH, the user's home, a UTF-8
        // locale), then what reaches the network, then the pod's own env.
        let mut full = vec![
            ("PATH".to_string(), pod_path(Path::new(&self.opts.python))),
            ("HOME".into(), crate::contract::HOME_VOLUME.1.into()),
            ("LANG".into(), "C.UTF-8".into()),
        ];
        for k in sandbox::PASSTHROUGH_ENV {
            if let Ok(v) = std::env::var(k) {
                full.push((k.to_string(), v));
            }
        }
        for (k, v) in env {
            full.retain(|(f, _)| *f != k);
            full.push((k, v));
        }
        // The image's working directory (Locust's is its home); output paths in the master's
        // arguments are made absolute (`master_args`).
        let home = crate::contract::HOME_VOLUME.1;
        let cwd = if c.mounts.iter().any(|m| m.path == home) {
            home
        } else {
            "/"
        };
        let hostname = pod_hostname(&self.opts.name, &pod.name);
        let view = sandbox::View {
            pod_root: &pod.dir,
            python_dirs: &self.opts.interpreter.dirs,
            writable: &self.writable,
            etc: &self.etc,
            hostname: &hostname,
            cwd: Path::new(cwd),
            env: &full,
        };
        (sb.argv(c, &view, &inner), Vec::new())
    }

    pub(super) fn spawn(
        &self,
        label: String,
        pod: &PodDir,
        c: &ContainerView,
        extra: &[String],
        master_port: u16,
        watch: Option<Arc<Watch>>,
    ) -> Result<Proc, LocalError> {
        if !c.foreign.is_empty() {
            let mut inner = self.inner_command(pod, c);
            inner.extend(extra.iter().cloned());
            eprintln!(
                "locust-planton: --allow-commands: {label} runs {}: {}",
                c.foreign.join(" and "),
                shell_line(&inner)
            );
        }
        let (argv, env) = self.process(pod, c, extra, master_port);
        let hints = self.sandbox.as_ref().map(|_| Hints {
            container: c.clone(),
            seen: self.hints_seen.clone(),
        });
        processes::spawn(
            label,
            &argv,
            &env,
            Placement {
                sandboxed: self.sandbox.is_some(),
                netns: self.netns(),
                group: self.group.id(),
            },
            watch,
            hints,
        )
    }
}
