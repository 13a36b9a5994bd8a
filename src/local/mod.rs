//! `local`: runs the rendered pods on this machine. Each pod (the master, every worker) gets its
//! own directory holding its volumes at their mount paths (ConfigMaps as files, emptyDirs as empty
//! directories). The master pod's init containers (the real `pip install`) run first; each worker
//! pod's volumes start as copies of what they wrote, the same files its own init containers would
//! write. Then the master and N workers run with the pod's command, args and env (the master host
//! mapped to 127.0.0.1).
//!
//! Where bubblewrap works every process runs in a sandbox with the container's security context
//! and the volumes at the pod's own paths (`sandbox`); otherwise the mount paths, and the env
//! values naming them, are re-rooted into the pod's directory.

pub mod pod;
pub mod sandbox;

use pod::{ContainerView, PodView, Source};
use sandbox::{Sandbox, SandboxMode};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct Headless {
    pub users: u32,
    pub spawn_rate: f64,
    pub run_time: String,
}

/// A port and whether the user chose it: a chosen port that is taken is an error, a default one
/// moves up to the next free one.
#[derive(Clone, Copy, Debug)]
pub struct Port {
    pub port: u16,
    pub explicit: bool,
}

#[derive(Clone, Debug)]
pub struct LocalOptions {
    pub workers: usize,
    pub host: Option<String>,
    pub headless: Option<Headless>,
    /// The Python that runs Locust (`python3 -m locust`).
    pub python: String,
    pub master_port: Port,
    pub web_port: Port,
    /// Extra arguments for the master (after `--`), e.g. `--csv out`.
    pub master_args: Vec<String>,
    pub sandbox: SandboxMode,
    /// The Locust release the pods run (named when this Python has none).
    pub locust_version: String,
    /// Where a headless run's results are copied (docs/local.md "Results of a local run"); set by
    /// `commands::local` for headless runs.
    pub results_dir: Option<PathBuf>,
    /// metadata.name, for the results' summary.
    pub name: String,
    /// Run commands the spec set that locust-planton did not generate (each printed first);
    /// without it they are refused (docs/local.md "Confinement").
    pub allow_commands: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error(
        "{python} cannot import locust; install it (`{python} -m pip install locust=={version}`) or pass --install-locust to use a cached virtualenv"
    )]
    NoLocust { python: String, version: String },
    #[error("init container {name} failed (exit {code})")]
    InitFailed { name: String, code: i32 },
    #[error("--sandbox=required: {0}")]
    NoSandbox(String),
    #[error(
        "{flag} {port}: the port is in use by another process; choose a free one, or leave {flag} out to use the first free port from its default"
    )]
    PortInUse { flag: &'static str, port: u16 },
    #[error("no free port found from {from} for {what}")]
    NoFreePort { what: &'static str, from: u16 },
    /// A file, folder or process `local` needed failed; `what` names it.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Other(String),
    /// Everything in the pods `local` will not run, one line each.
    #[error("local refuses to run these pods:\n{}", .0.join("\n"))]
    Refused(Vec<String>),
}

/// An I/O failure on `what`, keeping the error as its source.
fn io_at(what: impl std::fmt::Display) -> impl FnOnce(std::io::Error) -> LocalError {
    let what = what.to_string();
    move |source| LocalError::Io { what, source }
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

/// The Locust version `python` imports.
pub fn installed_locust(python: &str) -> Option<String> {
    let out = Command::new(python)
        .args(["-c", "import locust; print(locust.__version__)"])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// A cached virtualenv with Locust `version`:
/// `$XDG_CACHE_HOME/locust-planton/venv-locust-<version>`, one per version.
pub fn install_locust(version: &str) -> Result<String, LocalError> {
    let cache = crate::contract::cache_root().ok_or_else(|| {
        LocalError::Other("no cache directory (set XDG_CACHE_HOME or HOME)".into())
    })?;
    let venv = cache.join(format!("venv-locust-{version}"));
    let python = venv.join("bin/python").display().to_string();
    if installed_locust(&python).as_deref() == Some(version) {
        return Ok(python);
    }
    let ok = |c: &mut Command| {
        c.status().map_err(io_at(format!("{c:?}"))).and_then(|s| {
            if s.success() {
                Ok(())
            } else {
                Err(LocalError::Other(format!("{c:?} failed ({s})")))
            }
        })
    };
    eprintln!(
        "locust-planton: installing Locust {version} into {}",
        venv.display()
    );
    let mut progress = crate::progress::Progress::start("creating the virtualenv");
    let installed = ok(Command::new("python3").arg("-m").arg("venv").arg(&venv)).and_then(|()| {
        progress.update(format!(
            "pip install locust=={version} (from the package index)"
        ));
        ok(Command::new(&python).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            &format!("locust=={version}"),
        ]))
    });
    progress.finish(installed.is_ok().then_some("Locust installed"));
    installed.map(|()| python)
}

/// The host directories a Python needs: `sys.prefix`, `sys.base_prefix` and its import path.
fn python_dirs(python: &str) -> Vec<PathBuf> {
    // Its prefixes, and every directory on its import path: a `.pth` file can add one that
    // lies outside both (a virtualenv sharing another's packages), and the pods must import
    // what this Python imports.
    Command::new(python)
        .args([
            "-c",
            "import os, sys; print(sys.prefix); print(sys.base_prefix); [print(p) for p in sys.path if os.path.isabs(p) and os.path.isdir(p)]",
        ])
        .stderr(Stdio::null())
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(PathBuf::from)
                .collect()
        })
        .unwrap_or_default()
}

/// One pod's directory: a mount path `/p` is `<dir>/p`.
struct PodDir {
    dir: PathBuf,
    mount_paths: Vec<String>,
}

impl PodDir {
    fn host_path(&self, mount_path: &str) -> PathBuf {
        self.dir.join(mount_path.trim_start_matches('/'))
    }

    /// A value naming a path under a mount path, pointed at the pod directory (unsandboxed).
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
                    self.host_path(part).display().to_string()
                } else {
                    part.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(":")
    }
}

fn materialise(pod: &PodView, dir: &Path) -> Result<PodDir, LocalError> {
    std::fs::create_dir_all(dir).map_err(io_at(dir.display()))?;
    let root = dir.canonicalize().map_err(io_at(dir.display()))?;
    let mut mount_paths = Vec::new();
    for c in pod
        .init_containers
        .iter()
        .chain(std::iter::once(&pod.container))
    {
        for m in &c.mounts {
            let target = dir.join(m.path.trim_start_matches('/'));
            std::fs::create_dir_all(&target).map_err(io_at(target.display()))?;
            // `refusals` turned down `..`; this also holds against anything else (a symlink).
            if !target
                .canonicalize()
                .map_err(io_at(target.display()))?
                .starts_with(&root)
            {
                return Err(LocalError::Refused(vec![format!(
                    "{}: `{}` resolves outside the pod's folder {}",
                    m.field,
                    m.path,
                    dir.display()
                )]));
            }
            if let Source::ConfigMap(files) = &m.source {
                for (name, content) in files {
                    let file = target.join(name);
                    std::fs::write(&file, content).map_err(io_at(file.display()))?;
                }
            }
            if !mount_paths.contains(&m.path) {
                mount_paths.push(m.path.clone());
            }
        }
    }
    Ok(PodDir {
        dir: dir.to_path_buf(),
        mount_paths,
    })
}

/// Copies a directory tree (files, directories, symlinks).
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let (src, dst) = (e.path(), to.join(e.file_name()));
        let t = e.file_type()?;
        if t.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&src)?, &dst)?;
        } else if t.is_dir() {
            copy_tree(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}

/// Whether a container runs the headless run wrapper.
fn is_wrapper(c: &ContainerView) -> bool {
    c.command.get(1).map(String::as_str) == Some("-c")
        && c.command.get(2).map(String::as_str) == Some(crate::values::extensions::HEADLESS_WRAPPER)
}

/// Copies the master's results folder (files only: the wrapper writes no subfolders) to `dest`.
fn copy_results(from: &Path, dest: &Path) -> Result<(), LocalError> {
    let Ok(entries) = std::fs::read_dir(from) else {
        return Ok(());
    };
    let mut names: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        // Regular files only: a symlink the pod left would copy a file from outside its folder.
        .filter(|p| {
            p.symlink_metadata().is_ok_and(|m| m.is_file())
                && !p.to_string_lossy().ends_with(".tmp")
        })
        .collect();
    names.sort();
    for p in names {
        let to = dest.join(p.file_name().unwrap_or_default());
        std::fs::copy(&p, &to).map_err(io_at(to.display()))?;
    }
    Ok(())
}

/// No result line seen yet.
const NO_RESULT: i32 = i32::MIN;

/// What the master's output has said: its headless result, that it holds its worker port, that
/// a port was taken.
struct Watch {
    ports: (u16, u16),
    result: AtomicI32,
    ready: AtomicBool,
    master_port_busy: AtomicBool,
    web_port_busy: AtomicBool,
}

impl Watch {
    fn new(ports: (u16, u16)) -> Self {
        Watch {
            ports,
            result: AtomicI32::new(NO_RESULT),
            ready: AtomicBool::new(false),
            master_port_busy: AtomicBool::new(false),
            web_port_busy: AtomicBool::new(false),
        }
    }

    fn observe(&self, line: &str) {
        if let Some(json) = line.strip_prefix(crate::contract::RESULT_MARKER) {
            let code = serde_json::from_str::<serde_json::Value>(json)
                .ok()
                .and_then(|v| v["exitCode"].as_i64())
                .unwrap_or(1);
            self.result.store(code as i32, Ordering::SeqCst);
        }
        // Locust logs these after its worker socket is bound (web UI, headless).
        if line.contains("Starting web interface at")
            || line.contains("Waiting for workers to be ready")
        {
            self.ready.store(true, Ordering::SeqCst);
        }
        if line.contains("Address already in use") {
            if line.contains(&format!(":{}'", self.ports.0)) {
                self.master_port_busy.store(true, Ordering::SeqCst);
            }
            if line.contains(&format!(", {})", self.ports.1)) {
                self.web_port_busy.store(true, Ordering::SeqCst);
            }
        }
    }
}

/// Explains writes the pod's read-only file system refused, once per path for the whole run.
#[derive(Clone)]
struct Hints {
    container: ContainerView,
    seen: Arc<Mutex<BTreeSet<String>>>,
}

impl Hints {
    fn observe(&self, label: &str, line: &str) {
        if let Some(path) = sandbox::read_only_path(line)
            && self.seen.lock().unwrap().insert(path.to_string())
        {
            eprintln!("{}", sandbox::read_only_hint(&self.container, label, path));
        }
    }
}

/// A running pod process: the child is bwrap when sandboxed.
struct Proc {
    child: Child,
    sandboxed: bool,
    threads: Vec<std::thread::JoinHandle<()>>,
}

/// Spawns a process whose output lines are printed with `[label] `; it dies with us.
fn spawn(
    label: String,
    argv: &[String],
    env: &[(String, String)],
    sandboxed: bool,
    watch: Option<Arc<Watch>>,
    hints: Option<Hints>,
) -> Result<Proc, LocalError> {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    // SAFETY: prctl and setpgid are async-signal-safe. The kernel SIGTERMs the child when this
    // process dies, so a killed `local` leaves no Locust behind; its own process group keeps a
    // terminal's Ctrl-C to us, so every process is stopped the same way (SIGTERM, see `stop`)
    // rather than a sandbox dying on SIGINT and taking Locust down with SIGKILL.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            libc::setpgid(0, 0);
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(io_at(&argv[0]))?;
    let out = child.stdout.take().unwrap();
    let err = child.stderr.take().unwrap();
    let reader = |stream: Box<dyn std::io::Read + Send>, to_stdout: bool| {
        let (label, watch, hints) = (label.clone(), watch.clone(), hints.clone());
        std::thread::spawn(move || {
            for l in BufReader::new(stream).lines().map_while(Result::ok) {
                if let Some(w) = &watch {
                    w.observe(&l);
                }
                if let Some(h) = &hints {
                    h.observe(&label, &l);
                }
                if to_stdout {
                    println!("[{label}] {l}");
                } else {
                    eprintln!("[{label}] {l}");
                }
            }
        })
    };
    let threads = vec![reader(Box::new(out), true), reader(Box::new(err), false)];
    Ok(Proc {
        child,
        sandboxed,
        threads,
    })
}

/// The processes whose parent is `pid` (the sandboxed process of a bwrap).
fn children_of(pid: u32) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| {
        let e = e.ok()?;
        let child: i32 = e.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
        // `pid (comm) state ppid …`: comm may hold spaces and parentheses.
        let ppid: u32 = stat
            .rsplit_once(')')?
            .1
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()?;
        (ppid == pid).then_some(child)
    })
    .collect()
}

/// `pid` and every process below it.
fn process_tree(pid: u32) -> Vec<u32> {
    let mut all = vec![pid];
    let mut i = 0;
    while i < all.len() {
        all.extend(children_of(all[i]).into_iter().map(|c| c as u32));
        i += 1;
    }
    all
}

/// Whether a process in `pid`'s tree listens on TCP `port`: `None` when that cannot be told
/// (another user's process files are unreadable). Asking who holds the socket, not whether
/// something answers, tells our master from another run's on the same port.
fn tree_listens_on(pid: u32, port: u16) -> Option<bool> {
    let mut inodes = Vec::new();
    let mut tables = 0;
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        tables += 1;
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            let local_port = f
                .get(1)
                .and_then(|a| a.rsplit_once(':'))
                .and_then(|(_, p)| u16::from_str_radix(p, 16).ok());
            // State 0A: LISTEN.
            if local_port == Some(port) && f.get(3) == Some(&"0A") {
                inodes.extend(f.get(9).map(|i| format!("socket:[{i}]")));
            }
        }
    }
    if tables == 0 {
        return None;
    }
    if inodes.is_empty() {
        return Some(false);
    }
    let mut readable = false;
    for p in process_tree(pid) {
        let Ok(fds) = std::fs::read_dir(format!("/proc/{p}/fd")) else {
            continue;
        };
        readable = true;
        for fd in fds.filter_map(Result::ok) {
            if std::fs::read_link(fd.path())
                .is_ok_and(|l| inodes.iter().any(|i| l.as_os_str() == i.as_str()))
            {
                return Some(true);
            }
        }
    }
    readable.then_some(false)
}

fn stop(procs: &mut [Proc], grace: Duration) {
    for p in procs.iter() {
        // bwrap dies on SIGTERM and SIGKILLs what it runs: signal the sandboxed process itself.
        let targets = if p.sandboxed {
            children_of(p.child.id())
        } else {
            vec![p.child.id() as i32]
        };
        for pid in targets {
            // SAFETY: signalling our own child (or the process our bwrap child runs).
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
    }
    let deadline = Instant::now() + grace;
    for p in procs.iter_mut() {
        while p.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = p.child.kill();
        let _ = p.child.wait();
    }
    for p in procs.iter_mut() {
        p.threads.drain(..).for_each(|t| drop(t.join()));
    }
}

/// How containers become processes: sandboxed at the pod's paths, or re-rooted.
struct Exec<'a> {
    sandbox: Option<Sandbox>,
    python_dirs: Vec<PathBuf>,
    writable: Vec<PathBuf>,
    cwd: PathBuf,
    opts: &'a LocalOptions,
    hints_seen: Arc<Mutex<BTreeSet<String>>>,
}

impl<'a> Exec<'a> {
    fn new(sandbox: Option<Sandbox>, opts: &'a LocalOptions) -> Result<Self, LocalError> {
        let cwd = std::env::current_dir().map_err(io_at("the current folder"))?;
        Ok(Exec {
            python_dirs: if sandbox.is_some() {
                python_dirs(&opts.python)
            } else {
                Vec::new()
            },
            writable: sandbox::output_dirs(&opts.master_args, &cwd),
            cwd,
            sandbox,
            opts,
            hints_seen: Arc::default(),
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
                "LOCUST_HOST" if self.opts.host.is_some() => *v = self.opts.host.clone().unwrap(),
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
        let venv_bin = Path::new(&self.opts.python)
            .parent()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let mut full = vec![
            (
                "PATH".to_string(),
                format!("{venv_bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
            ),
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
        let view = sandbox::View {
            pod_root: &pod.dir,
            python_dirs: &self.python_dirs,
            writable: &self.writable,
            cwd: &self.cwd,
            env: &full,
        };
        (sb.argv(c, &view, &inner), Vec::new())
    }

    fn spawn(
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
        spawn(label, &argv, &env, self.sandbox.is_some(), watch, hints)
    }
}

/// A command line as a shell would need it typed (for display only; nothing runs a shell).
pub fn shell_line(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            let plain = !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
            if plain {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The containers `local` runs: the master's init containers, the master and the worker.
fn running<'a>(master: &'a PodView, worker: &'a PodView) -> Vec<&'a ContainerView> {
    master
        .init_containers
        .iter()
        .chain([&master.container, &worker.container])
        .collect()
}

/// Pod paths of what runs that climb out of the pod's folder with `..`, one line each (README
/// "Confinement"; `commands::local` names them from the values first, as `check` does).
pub fn path_refusals(master: &PodView, worker: &PodView) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in running(master, worker) {
        for m in &c.mounts {
            if let Some(resolved) = crate::values::pod_paths::climbs_out(&m.path) {
                let line = climbing_line(&m.field, &m.path, &resolved);
                if !out.contains(&line) {
                    out.push(line);
                }
            }
        }
    }
    out
}

/// Why a pod path with `..` is refused; `field` names the chart value (and who set it).
pub fn climbing_line(field: &str, path: &str, resolved: &str) -> String {
    format!(
        "{field}: `{path}` climbs out with `..`; local keeps every pod path inside its temporary folder and refuses it (a container resolves it to `{resolved}`: write that)"
    )
}

/// Without `--allow-commands`, the commands of what runs that locust-planton did not generate
/// (marked by `pod::mark_foreign`), one line each, then what to do.
pub fn command_refusals(master: &PodView, worker: &PodView, allow_commands: bool) -> Vec<String> {
    if allow_commands {
        return Vec::new();
    }
    let mut out: Vec<String> = running(master, worker)
        .into_iter()
        .filter(|c| !c.foreign.is_empty())
        .map(|c| {
            let mut argv = c.command.clone();
            argv.extend(c.args.iter().cloned());
            format!(
                "{}: `{}` is not a command locust-planton generated",
                c.foreign.join(", "),
                shell_line(&argv)
            )
        })
        .collect();
    if !out.is_empty() {
        out.push(
            "local runs only the chart's Locust, the pip step and its own run wrapper; --allow-commands runs these too, printing each before it runs".into(),
        );
    }
    out
}

/// The sandbox to use, after saying once why there is none.
fn choose_sandbox(mode: SandboxMode) -> Result<Option<Sandbox>, LocalError> {
    if mode == SandboxMode::Off {
        return Ok(None);
    }
    match sandbox::detect() {
        Ok(s) => Ok(Some(s)),
        Err(why) if mode == SandboxMode::Required => Err(LocalError::NoSandbox(why)),
        Err(why) => {
            eprintln!(
                "locust-planton: warning: {why}; the pods run unsandboxed (as you, with a writable root and your capabilities). --sandbox=required refuses instead; --no-sandbox silences this."
            );
            Ok(None)
        }
    }
}

/// How many ports past a taken default to try.
const PORT_TRIES: u16 = 100;

/// Moves a taken default port up by one; a port the user chose fails instead.
fn next_port(
    busy: bool,
    port: &mut u16,
    chosen: Port,
    flag: &'static str,
    what: &'static str,
) -> Result<bool, LocalError> {
    if !busy {
        return Ok(false);
    }
    if chosen.explicit {
        return Err(LocalError::PortInUse { flag, port: *port });
    }
    match port.checked_add(1) {
        Some(p) if p - chosen.port < PORT_TRIES => {
            eprintln!(
                "locust-planton: port {} is in use; trying {p} for the {what}",
                *port
            );
            *port = p;
            Ok(true)
        }
        _ => Err(LocalError::NoFreePort {
            what,
            from: chosen.port,
        }),
    }
}

/// Runs master and workers; returns the master's exit code (headless) or 0 after Ctrl-C.
pub fn run(
    master: &PodView,
    worker: &PodView,
    opts: &LocalOptions,
    interrupted: Arc<AtomicBool>,
) -> Result<i32, LocalError> {
    let headless =
        opts.headless.is_some() || master.container.args.iter().any(|a| a == "--headless");
    let master = wrapped_master(master, opts, headless);
    let master = &*master;
    check_runnable(master, worker, opts)?;
    let sandbox = choose_sandbox(opts.sandbox)?;
    let tmp = tempfile::Builder::new()
        .prefix("locust-planton-local-")
        .tempdir()
        .map_err(io_at("a temporary folder for the pods"))?;
    let exec = Exec::new(sandbox, opts)?;
    let master_dir = materialise(master, &tmp.path().join("master"))?;
    let worker_dirs = (1..=opts.workers)
        .map(|i| materialise(worker, &tmp.path().join(format!("worker-{i}"))))
        .collect::<Result<Vec<_>, _>>()?;
    announce_pods(&exec, master, tmp.path());
    run_init_containers(&exec, master, &master_dir)?;
    copy_init_output(master, &master_dir, &worker_dirs)?;
    let code = run_on_free_ports(
        &exec,
        (master, &master_dir),
        (worker, &worker_dirs),
        headless,
        &interrupted,
    )?;
    if headless && let Some(dest) = &opts.results_dir {
        let from = master_dir.host_path(crate::contract::RESULTS_DIR);
        copy_results(&from, dest)?;
    }
    Ok(if code == 130 && !headless { 0 } else { code })
}

/// A spec's run already has the wrapper as the master's command; a headless run asked for on
/// the command line gets it too, so every headless run leaves the same results (a command the
/// spec set there does not run).
fn wrapped_master<'a>(
    master: &'a PodView,
    opts: &LocalOptions,
    headless: bool,
) -> std::borrow::Cow<'a, PodView> {
    if !(headless && opts.results_dir.is_some() && !is_wrapper(&master.container)) {
        return std::borrow::Cow::Borrowed(master);
    }
    let mut m = master.clone();
    m.container.command =
        crate::values::extensions::wrapper_command(crate::contract::RESULTS_DIR, &opts.name, None);
    m.container
        .foreign
        .retain(|f| !f.starts_with(&format!("{}.command ", m.role)));
    std::borrow::Cow::Owned(m)
}

/// Refuses pod paths that climb out and commands locust-planton did not generate, and a Python
/// without Locust, before anything is written.
fn check_runnable(
    master: &PodView,
    worker: &PodView,
    opts: &LocalOptions,
) -> Result<(), LocalError> {
    let mut refused = path_refusals(master, worker);
    refused.extend(command_refusals(master, worker, opts.allow_commands));
    if !refused.is_empty() {
        return Err(LocalError::Refused(refused));
    }
    if !has_locust(&opts.python) {
        return Err(LocalError::NoLocust {
            python: opts.python.clone(),
            version: opts.locust_version.clone(),
        });
    }
    Ok(())
}

/// Says how the pods run and where their files are, and what of their security context is
/// kept differently here.
fn announce_pods(exec: &Exec, master: &PodView, tmp: &Path) {
    match &exec.sandbox {
        Some(_) => eprintln!(
            "locust-planton: pods sandboxed (bubblewrap) as in the cluster: UID/GID {}/{}, read-only root, volumes at the pods' paths, no capabilities; pod files under {}",
            master.container.security.run_as_user,
            master.container.security.run_as_group,
            tmp.display()
        ),
        None => eprintln!(
            "locust-planton: pod files under {} (unsandboxed)",
            tmp.display()
        ),
    }
    for c in [&master.container]
        .into_iter()
        .chain(&master.init_containers)
        .filter(|c| !c.security.read_only_root)
    {
        if exec.sandbox.is_some() {
            eprintln!(
                "locust-planton: warning: container {} sets readOnlyRootFilesystem: false; locally its root stays read-only (only its volumes are writable)",
                c.name
            );
        }
    }
}

/// The master pod's init containers, one after the other; the first that fails stops the run.
fn run_init_containers(
    exec: &Exec,
    master: &PodView,
    master_dir: &PodDir,
) -> Result<(), LocalError> {
    for init in &master.init_containers {
        if !crate::progress::is_quiet() {
            eprintln!("locust-planton: init container {} starts", init.name);
        }
        let started = std::time::Instant::now();
        let mut p = exec.spawn(
            format!("init {}", init.name),
            master_dir,
            init,
            &[],
            exec.opts.master_port.port,
            None,
        )?;
        let status = p
            .child
            .wait()
            .map_err(io_at(format!("init container {}", init.name)))?;
        p.threads.drain(..).for_each(|t| drop(t.join()));
        if !status.success() {
            return Err(LocalError::InitFailed {
                name: init.name.clone(),
                code: status.code().unwrap_or(-1),
            });
        }
        if !crate::progress::is_quiet() {
            eprintln!(
                "locust-planton: init container {} done in {:.1}s",
                init.name,
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}

/// Each worker pod's init containers would write the same files: copy them.
fn copy_init_output(
    master: &PodView,
    master_dir: &PodDir,
    worker_dirs: &[PodDir],
) -> Result<(), LocalError> {
    for init in &master.init_containers {
        for m in init.mounts.iter().filter(|m| m.source == Source::EmptyDir) {
            for w in worker_dirs {
                copy_tree(&master_dir.host_path(&m.path), &w.host_path(&m.path))
                    .map_err(io_at(w.host_path(&m.path).display()))?;
            }
        }
    }
    Ok(())
}

/// Runs until a run ends on ports nobody else holds: a default port found taken moves up and
/// the run starts again (not after Ctrl-C). Returns the master's exit code, or 130.
fn run_on_free_ports(
    exec: &Exec,
    master: (&PodView, &PodDir),
    workers: (&PodView, &[PodDir]),
    headless: bool,
    interrupted: &AtomicBool,
) -> Result<i32, LocalError> {
    let opts = exec.opts;
    let mut ports = (opts.master_port.port, opts.web_port.port);
    loop {
        let watch = Arc::new(Watch::new(ports));
        let code = run_once(exec, master, workers, &watch, headless, interrupted)?;
        let moved = next_port(
            watch.master_port_busy.load(Ordering::SeqCst),
            &mut ports.0,
            opts.master_port,
            "--master-port",
            "master's worker port",
        )? | next_port(
            watch.web_port_busy.load(Ordering::SeqCst),
            &mut ports.1,
            opts.web_port,
            "--web-port",
            "web UI",
        )?;
        if !moved || code == 130 {
            return Ok(code);
        }
    }
}

/// One start of the master, then (once it holds its worker port) the workers; returns the
/// master's exit code, or 130 when interrupted.
fn run_once(
    exec: &Exec,
    (master, master_dir): (&PodView, &PodDir),
    (worker, worker_dirs): (&PodView, &[PodDir]),
    watch: &Arc<Watch>,
    headless: bool,
    interrupted: &AtomicBool,
) -> Result<i32, LocalError> {
    let (master_port, web_port) = watch.ports;
    let master_proc = exec.spawn(
        "master".into(),
        master_dir,
        &master.container,
        &master_args(exec.opts, watch.ports),
        master_port,
        Some(watch.clone()),
    )?;
    let mut procs = vec![master_proc];
    if let Some(code) = wait_until_master_listens(&mut procs, watch, headless, interrupted)? {
        stop(&mut procs, Duration::from_secs(5));
        return Ok(code);
    }
    eprintln!("locust-planton: master listens for workers on 127.0.0.1:{master_port}");
    start_workers(exec, worker, worker_dirs, master_port, &mut procs)?;
    if !headless {
        eprintln!(
            "locust-planton: web UI on http://127.0.0.1:{web_port}/ — Ctrl-C stops every process"
        );
    }
    let code = loop {
        if interrupted.load(Ordering::SeqCst) {
            break 130;
        }
        if let Some(code) = finished(&mut procs, watch)? {
            break code;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    // Workers quit when the master does; give them a moment, then stop whatever is left.
    let grace = Duration::from_secs(if code == 130 { 5 } else { 10 });
    stop(&mut procs, grace);
    Ok(code)
}

/// The master's arguments beyond its container's: bound to 127.0.0.1 on `ports` (worker port,
/// web UI), `--headless` and its settings, then the user's.
fn master_args(opts: &LocalOptions, (master_port, web_port): (u16, u16)) -> Vec<String> {
    let mut args: Vec<String> = [
        "--master-bind-host",
        "127.0.0.1",
        "--master-bind-port",
        &master_port.to_string(),
        "--web-host",
        "127.0.0.1",
        "--web-port",
        &web_port.to_string(),
    ]
    .map(String::from)
    .to_vec();
    if let Some(h) = &opts.headless {
        args.extend(
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
    args.extend(opts.master_args.iter().cloned());
    args
}

/// The master's exit code once it has exited or reported its result (`procs[0]` is the master).
fn finished(procs: &mut [Proc], watch: &Watch) -> Result<Option<i32>, LocalError> {
    if let Some(status) = procs[0].child.try_wait().map_err(io_at("the master"))? {
        return Ok(Some(status.code().unwrap_or(1)));
    }
    let reported = watch.result.load(Ordering::SeqCst);
    Ok((reported != NO_RESULT).then_some(reported))
}

/// Waits until the master (`procs[0]`) holds its port; `Some` exit code when it ended (or
/// Ctrl-C, 130) first.
///
/// Workers wait until the master holds its port: started earlier, they could join another
/// run's master on the same port. The UI is announced once the master holds that port too
/// (it binds it a moment after the worker port; when taken, the master exits and the run
/// starts again on the next port). Where sockets cannot be attributed, Locust's own log
/// lines (written after it binds the worker port) and a short wait decide; a master that
/// logs nothing (level above INFO) gets the benefit of the doubt after a while.
fn wait_until_master_listens(
    procs: &mut [Proc],
    watch: &Watch,
    headless: bool,
    interrupted: &AtomicBool,
) -> Result<Option<i32>, LocalError> {
    let (master_port, web_port) = watch.ports;
    let start = Instant::now();
    let master_pid = procs[0].child.id();
    let mut logged_at: Option<Instant> = None;
    loop {
        if interrupted.load(Ordering::SeqCst) {
            return Ok(Some(130));
        }
        if let Some(code) = finished(procs, watch)? {
            return Ok(Some(code));
        }
        if watch.ready.load(Ordering::SeqCst) && logged_at.is_none() {
            logged_at = Some(Instant::now());
        }
        let holds = |port| tree_listens_on(master_pid, port);
        let ready = match (holds(master_port), headless) {
            (Some(true), true) => true,
            (Some(true), false) => holds(web_port) != Some(false),
            (None, _) => logged_at.is_some_and(|t| t.elapsed() > Duration::from_secs(2)),
            (Some(false), _) => false,
        };
        if ready || start.elapsed() > Duration::from_secs(30) {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One process per worker pod, joined to the master on `master_port`; if one cannot start,
/// everything started is stopped.
fn start_workers(
    exec: &Exec,
    worker: &PodView,
    worker_dirs: &[PodDir],
    master_port: u16,
    procs: &mut Vec<Proc>,
) -> Result<(), LocalError> {
    let worker_extra: Vec<String> = [
        "--master-host",
        "127.0.0.1",
        "--master-port",
        &master_port.to_string(),
    ]
    .map(String::from)
    .to_vec();
    for (i, dir) in worker_dirs.iter().enumerate() {
        match exec.spawn(
            format!("worker-{}", i + 1),
            dir,
            &worker.container,
            &worker_extra,
            master_port,
            None,
        ) {
            Ok(p) => procs.push(p),
            Err(e) => {
                stop(procs, Duration::from_secs(5));
                return Err(e);
            }
        }
    }
    Ok(())
}
