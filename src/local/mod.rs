//! `local`: runs the rendered pods on this machine — ConfigMaps written as files under a
//! temporary root, mount paths and the env values naming them re-rooted there, the pip init
//! container's real `pip install`, then the master and N workers with the pod's command, args and
//! env (the master host mapped to 127.0.0.1). All processes share one root, so the pip init
//! container runs once.

pub mod pod;

use pod::{ContainerView, PodView, Source};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct Headless {
    pub users: u32,
    pub spawn_rate: f64,
    pub run_time: String,
}

#[derive(Clone, Debug)]
pub struct LocalOptions {
    pub workers: usize,
    pub host: Option<String>,
    pub headless: Option<Headless>,
    /// The Python that runs Locust (`python3 -m locust`).
    pub python: String,
    pub master_port: u16,
    pub web_port: u16,
    /// Extra arguments for the master (after `--`), e.g. `--csv out`.
    pub master_args: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error(
        "{python} cannot import locust; install it (`{python} -m pip install locust==2.32.2`) or pass --install-locust to use a cached virtualenv"
    )]
    NoLocust { python: String },
    #[error("init container {name} failed (exit {code})")]
    InitFailed { name: String, code: i32 },
    #[error("{0}")]
    Io(String),
}

fn io(e: impl std::fmt::Display) -> LocalError {
    LocalError::Io(e.to_string())
}

/// Whether `python` can import Locust.
pub fn has_locust(python: &str) -> bool {
    Command::new(python)
        .args(["-c", "import locust"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A cached virtualenv with the chart's Locust version: `$XDG_CACHE_HOME/locust-planton/venv-locust-<v>`.
pub fn install_locust() -> Result<String, LocalError> {
    let version = &crate::lock::chart_lock().app_version;
    let cache = crate::helm::chart::cache_dir()
        .ok_or_else(|| io("no cache directory (set XDG_CACHE_HOME or HOME)"))?;
    let venv = cache
        .parent()
        .unwrap_or(&cache)
        .join(format!("venv-locust-{version}"));
    let python = venv.join("bin/python").display().to_string();
    if has_locust(&python) {
        return Ok(python);
    }
    let ok = |c: &mut Command| {
        c.status().map_err(io).and_then(|s| {
            if s.success() {
                Ok(())
            } else {
                Err(io(format!("{c:?} failed")))
            }
        })
    };
    ok(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    ok(Command::new(&python).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        &format!("locust=={version}"),
    ]))?;
    Ok(python)
}

/// Maps container paths into the local root.
struct Root {
    dir: PathBuf,
    mount_paths: Vec<String>,
}

impl Root {
    fn reroot(&self, value: &str) -> String {
        let under = |p: &str| {
            self.mount_paths
                .iter()
                .any(|m| p == m || p.starts_with(&format!("{}/", m.trim_end_matches('/'))))
        };
        value
            .split(':')
            .map(|part| {
                if part.starts_with('/') && under(part) {
                    self.dir.join(&part[1..]).display().to_string()
                } else {
                    part.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(":")
    }

    /// The image's venv binaries become this Python's modules.
    fn command(&self, c: &ContainerView, python: &str) -> Vec<String> {
        let mut cmd: Vec<String> = match c.command.first().map(String::as_str) {
            Some(p) if p.ends_with("/locust") => vec![python.into(), "-m".into(), "locust".into()],
            Some(p) if p.ends_with("/pip") => vec![python.into(), "-m".into(), "pip".into()],
            Some(p) if p.ends_with("/python") || p.ends_with("/python3") => vec![python.into()],
            Some(p) => vec![self.reroot(p)],
            None => vec![python.into(), "-m".into(), "locust".into()],
        };
        cmd.extend(
            c.command
                .iter()
                .skip(1)
                .chain(&c.args)
                .map(|a| self.reroot(a)),
        );
        cmd
    }
}

fn materialise(pods: &[&PodView], dir: &Path) -> Result<Root, LocalError> {
    let mut mount_paths = Vec::new();
    for pod in pods {
        for c in pod
            .init_containers
            .iter()
            .chain(std::iter::once(&pod.container))
        {
            for m in &c.mounts {
                let target = dir.join(m.path.trim_start_matches('/'));
                std::fs::create_dir_all(&target).map_err(io)?;
                if let Source::ConfigMap(files) = &m.source {
                    for (name, content) in files {
                        std::fs::write(target.join(name), content).map_err(io)?;
                    }
                }
                if !mount_paths.contains(&m.path) {
                    mount_paths.push(m.path.clone());
                }
            }
        }
    }
    Ok(Root {
        dir: dir.to_path_buf(),
        mount_paths,
    })
}

/// Spawns a process whose output lines are printed with `[label] `; it dies with us.
/// No result line seen yet.
const NO_RESULT: i32 = i32::MIN;

fn spawn(
    label: String,
    argv: &[String],
    env: &[(String, String)],
    result: Option<Arc<AtomicI32>>,
) -> Result<(Child, Vec<std::thread::JoinHandle<()>>), LocalError> {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    // SAFETY: prctl is async-signal-safe; it only asks the kernel to SIGTERM the child when this
    // process dies, so a killed `local` leaves no Locust behind.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(|e| io(format!("{}: {e}", argv[0])))?;
    let out = child.stdout.take().unwrap();
    let err = child.stderr.take().unwrap();
    let (l1, l2) = (label.clone(), label);
    // A headless pod's wrapper stays up after Locust exits and prints its result line instead.
    let t1 = std::thread::spawn(move || {
        for l in BufReader::new(out).lines().map_while(Result::ok) {
            if let (Some(r), Some(json)) = (
                &result,
                l.strip_prefix(crate::values::extensions::RESULT_MARKER),
            ) {
                let code = serde_json::from_str::<serde_json::Value>(json)
                    .ok()
                    .and_then(|v| v["exitCode"].as_i64())
                    .unwrap_or(1);
                r.store(code as i32, Ordering::SeqCst);
            }
            println!("[{l1}] {l}");
        }
    });
    let t2 = std::thread::spawn(move || {
        BufReader::new(err)
            .lines()
            .map_while(Result::ok)
            .for_each(|l| eprintln!("[{l2}] {l}"))
    });
    Ok((child, vec![t1, t2]))
}

fn process_env(root: &Root, c: &ContainerView, opts: &LocalOptions) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = c
        .env
        .iter()
        .map(|(k, v)| (k.clone(), root.reroot(v)))
        .collect();
    for (k, v) in env.iter_mut() {
        match k.as_str() {
            "LOCUST_MASTER_NODE_HOST" => *v = "127.0.0.1".into(),
            "LOCUST_MASTER_NODE_PORT" => *v = opts.master_port.to_string(),
            "LOCUST_HOST" if opts.host.is_some() => *v = opts.host.clone().unwrap(),
            _ => {}
        }
    }
    if root
        .mount_paths
        .iter()
        .any(|m| m == crate::values::HOME_VOLUME.1)
    {
        env.push(("HOME".into(), root.reroot(crate::values::HOME_VOLUME.1)));
    }
    env
}

fn stop(children: &mut [(String, Child)], grace: Duration) {
    for (_, c) in children.iter() {
        // SAFETY: signalling our own, not yet reaped, children.
        unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
    }
    let deadline = Instant::now() + grace;
    for (_, c) in children.iter_mut() {
        while c.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = c.kill();
        let _ = c.wait();
    }
}

/// Runs master and workers; returns the master's exit code (headless) or 0 after Ctrl-C.
pub fn run(
    master: &PodView,
    worker: &PodView,
    opts: &LocalOptions,
    interrupted: Arc<AtomicBool>,
) -> Result<i32, LocalError> {
    if !has_locust(&opts.python) {
        return Err(LocalError::NoLocust {
            python: opts.python.clone(),
        });
    }
    let tmp = tempfile::Builder::new()
        .prefix("locust-planton-local-")
        .tempdir()
        .map_err(io)?;
    let root = materialise(&[master, worker], tmp.path())?;
    eprintln!("locust-planton: pod files under {}", tmp.path().display());
    for init in &master.init_containers {
        let (mut child, threads) = spawn(
            format!("init {}", init.name),
            &root.command(init, &opts.python),
            &process_env(&root, init, opts),
            None,
        )?;
        let status = child.wait().map_err(io)?;
        threads.into_iter().for_each(|t| drop(t.join()));
        if !status.success() {
            return Err(LocalError::InitFailed {
                name: init.name.clone(),
                code: status.code().unwrap_or(-1),
            });
        }
    }
    let mut master_argv = root.command(&master.container, &opts.python);
    master_argv.extend(
        [
            "--master-bind-host",
            "127.0.0.1",
            "--master-bind-port",
            &opts.master_port.to_string(),
            "--web-host",
            "127.0.0.1",
            "--web-port",
            &opts.web_port.to_string(),
        ]
        .map(String::from),
    );
    if let Some(h) = &opts.headless {
        master_argv.extend(
            [
                "--headless",
                "--users",
                &h.users.to_string(),
                "--spawn-rate",
                &h.spawn_rate.to_string(),
                "--run-time",
                &h.run_time,
                "--expect-workers",
                &opts.workers.to_string(),
            ]
            .map(String::from),
        );
    }
    master_argv.extend(opts.master_args.iter().cloned());
    let mut threads = Vec::new();
    let result = Arc::new(AtomicI32::new(NO_RESULT));
    let (master_child, t) = spawn(
        "master".into(),
        &master_argv,
        &process_env(&root, &master.container, opts),
        Some(result.clone()),
    )?;
    threads.extend(t);
    let mut children = vec![("master".to_string(), master_child)];
    let mut worker_argv = root.command(&worker.container, &opts.python);
    worker_argv.extend(
        [
            "--master-host",
            "127.0.0.1",
            "--master-port",
            &opts.master_port.to_string(),
        ]
        .map(String::from),
    );
    for i in 1..=opts.workers {
        match spawn(
            format!("worker-{i}"),
            &worker_argv,
            &process_env(&root, &worker.container, opts),
            None,
        ) {
            Ok((c, t)) => {
                children.push((format!("worker-{i}"), c));
                threads.extend(t);
            }
            Err(e) => {
                stop(&mut children, Duration::from_secs(5));
                return Err(e);
            }
        }
    }
    if opts.headless.is_none() && !master.container.args.iter().any(|a| a == "--headless") {
        eprintln!(
            "locust-planton: web UI on http://127.0.0.1:{}/ — Ctrl-C stops every process",
            opts.web_port
        );
    }
    let code = loop {
        if interrupted.load(Ordering::SeqCst) {
            break 130;
        }
        if let Some(status) = children[0].1.try_wait().map_err(io)? {
            break status.code().unwrap_or(1);
        }
        let reported = result.load(Ordering::SeqCst);
        if reported != NO_RESULT {
            break reported;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    // Workers quit when the master does; give them a moment, then stop whatever is left.
    stop(
        &mut children,
        Duration::from_secs(if code == 130 { 5 } else { 10 }),
    );
    threads.into_iter().for_each(|t| drop(t.join()));
    let headless =
        opts.headless.is_some() || master.container.args.iter().any(|a| a == "--headless");
    Ok(if code == 130 && !headless { 0 } else { code })
}
