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

pub mod net;
pub mod pod;
pub mod sandbox;

use pod::{ContainerView, PodView, Source};
use sandbox::{Sandbox, SandboxMode};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
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
    /// The Python that runs Locust (`python3 -m locust`), as given; `interpreter` is what it
    /// resolved to.
    pub python: String,
    pub interpreter: Interpreter,
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
    /// The Python cannot be used: not found, not a Python.
    #[error("{0}")]
    Python(String),
    #[error(
        "{python} runs here but not in the pods' sandbox (UID {uid}, where only the pods' volumes and the Python's own directories are visible): {detail}; pass --python with the absolute path of a Python the pods' user can read (a virtualenv outside a private home directory), or --install-locust to use a cached virtualenv"
    )]
    PodCannotRun {
        python: String,
        uid: i64,
        detail: String,
    },
    /// A signal (or a closed stdout, SIGPIPE) stopped the run; every process of it has ended.
    #[error("stopped by {}: every process of the run has ended", signal_name(*.0))]
    Stopped(i32),
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

/// The Python that runs Locust, resolved on the host before anything starts.
#[derive(Clone, Debug, Default)]
pub struct Interpreter {
    /// Absolute, symlinks kept: a venv's `bin/python` stays the venv's (its `pyvenv.cfg` is
    /// found next to the link's directory, not next to the base interpreter it points to).
    pub path: PathBuf,
    /// What it needs on the host: its prefixes, its import path, the directories of the shared
    /// libraries it maps once Locust is imported (a `libpython` or an extension's own `.libs`).
    pub dirs: Vec<PathBuf>,
    /// The Locust it imports, if any.
    pub locust: Option<String>,
}

/// `--python NAME` as the shell would run it: a name is looked up on this machine's `PATH` (an
/// activated venv's `bin` first), a relative path is taken from the current folder; neither is
/// resolved through symlinks.
pub fn resolve_python(given: &str) -> Result<PathBuf, LocalError> {
    let not_found = |why: &str| {
        LocalError::Python(format!(
            "--python {given}: {why}; pass an absolute path (--python /path/to/venv/bin/python) or --install-locust"
        ))
    };
    if given.contains('/') {
        let p = Path::new(given);
        let abs = if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir()
                .map_err(io_at("the current folder"))?
                .join(p)
        };
        return if is_executable(&abs) {
            Ok(abs)
        } else {
            Err(not_found("no such executable file"))
        };
    }
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|d| d.is_absolute())
        .map(|d| d.join(given))
        .find(|p| is_executable(p))
        .ok_or_else(|| not_found("not found on PATH"))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Run by the Python to be used, as the pods run it (no `PYTHONPATH`, the pod's `HOME`): its
/// prefixes, import path, Locust version and mapped libraries, as JSON.
const PROBE: &str = r#"import json, os, sys
dirs = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
        os.path.dirname(os.path.realpath(sys.executable))]
dirs += [p for p in sys.path if os.path.isabs(p) and os.path.isdir(p)]
try:
    import locust
    version = locust.__version__
except Exception:
    version = None
with open("/proc/self/maps") as f:
    for line in f:
        parts = line.split(None, 5)
        if len(parts) == 6 and parts[5].startswith("/"):
            dirs.append(os.path.dirname(parts[5].strip()))
print(json.dumps({"dirs": dirs, "locust": version}))
"#;

/// Asks `path` (on the host, once) what it needs and which Locust it imports.
pub fn probe_interpreter(path: &Path) -> Result<Interpreter, LocalError> {
    let out = Command::new(path)
        .args(["-c", PROBE])
        .env_clear()
        .env("PATH", pod_path(path))
        .env("HOME", crate::contract::HOME_VOLUME.1)
        .env("LANG", "C.UTF-8")
        .stdin(Stdio::null())
        .output()
        .map_err(io_at(path.display()))?;
    let parsed: Option<serde_json::Value> = out
        .status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).ok())
        .flatten();
    let Some(v) = parsed else {
        return Err(LocalError::Python(format!(
            "{} does not run as a Python here: {}",
            path.display(),
            last_line(&out.stderr)
        )));
    };
    let dirs = v["dirs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d.as_str().map(PathBuf::from))
        .collect();
    Ok(Interpreter {
        path: path.to_path_buf(),
        dirs: sandbox::minimal_dirs(dirs),
        locust: v["locust"].as_str().map(String::from),
    })
}

/// The last non-empty line of a process's output (its error, for a Python traceback).
fn last_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("(no output)")
        .trim()
        .to_string()
}

/// The pods' `PATH`: the Python's own directory first (a venv's `bin`), then the image's.
fn pod_path(python: &Path) -> String {
    let bin = python
        .parent()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    format!("{bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
}

/// A cached virtualenv with Locust `version`:
/// `$XDG_CACHE_HOME/locust-planton/venv-locust-<version>`, one per version.
pub fn install_locust(version: &str) -> Result<String, LocalError> {
    let cache = crate::contract::cache_root().ok_or_else(|| {
        LocalError::Other("no cache directory (set XDG_CACHE_HOME or HOME)".into())
    })?;
    let venv = cache.join(format!("venv-locust-{version}"));
    let python = venv.join("bin/python").display().to_string();
    if probe_interpreter(Path::new(&python)).is_ok_and(|i| i.locust.as_deref() == Some(version)) {
        return Ok(python);
    }
    let ok = |c: &mut Command| run_to_end(c);
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

/// Runs a host command to its end, or until a signal stops the run: then its process group
/// is ended (pip's own children too) and the run stops.
fn run_to_end(c: &mut Command) -> Result<(), LocalError> {
    orphan_proof(c, libc::SIGKILL, None, 0);
    let mut child = c.spawn().map_err(io_at(format!("{c:?}")))?;
    loop {
        if let Some(status) = child.try_wait().map_err(io_at(format!("{c:?}")))? {
            return if status.success() {
                Ok(())
            } else {
                Err(LocalError::Other(format!("{c:?} failed ({status})")))
            };
        }
        if let Some(signal) = stop_requested() {
            end_group(&mut child);
            return Err(LocalError::Stopped(signal));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// SIGTERM to a child's process group, SIGKILL to what is left after a moment.
fn end_group(child: &mut Child) {
    let group = child.id() as i32;
    // SAFETY: signalling the process group our child leads.
    unsafe { libc::kill(-group, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(5);
    while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: as above.
    unsafe { libc::kill(-group, libc::SIGKILL) };
    let _ = child.wait();
}

/// The signal that stopped the run (SIGPIPE for a closed stdout), 0 while none has.
fn stop_cell() -> &'static Arc<AtomicUsize> {
    static STOP: OnceLock<Arc<AtomicUsize>> = OnceLock::new();
    STOP.get_or_init(Arc::default)
}

/// From now on SIGINT, SIGTERM and SIGHUP stop the run (every process of it ended) instead of
/// killing `local` on the spot.
pub fn watch_signals() -> Result<(), LocalError> {
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        signal_hook::flag::register_usize(signal, stop_cell().clone(), signal as usize)
            .map_err(io_at("installing a signal handler"))?;
    }
    Ok(())
}

/// The signal that asked the run to stop, if any; a closed stdout counts as SIGPIPE.
pub fn stop_requested() -> Option<i32> {
    if stdout_closed() {
        request_stop(libc::SIGPIPE);
    }
    match stop_cell().load(Ordering::SeqCst) {
        0 => None,
        s => Some(s as i32),
    }
}

/// Whether nobody reads our stdout any more (a pipe whose reader left, or no stdout at all):
/// noticed without waiting for the pods' next line.
fn stdout_closed() -> bool {
    let mut fd = libc::pollfd {
        fd: libc::STDOUT_FILENO,
        events: 0,
        revents: 0,
    };
    // SAFETY: one valid pollfd, no wait.
    let ready = unsafe { libc::poll(&mut fd, 1, 0) };
    ready == 1 && fd.revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0
}

fn request_stop(signal: i32) {
    let _ = stop_cell().compare_exchange(0, signal as usize, Ordering::SeqCst, Ordering::SeqCst);
}

/// A shell's exit code for a process ended by `signal`.
pub fn signal_exit_code(signal: i32) -> u8 {
    (128 + signal).clamp(0, 255) as u8
}

pub fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGINT => "SIGINT",
        libc::SIGTERM => "SIGTERM",
        libc::SIGHUP => "SIGHUP",
        libc::SIGPIPE => "SIGPIPE (stdout closed)",
        _ => "a signal",
    }
}

/// One line of a pod's output on our stdout; a closed stdout stops the run (as SIGPIPE would).
fn print_stdout(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
        request_stop(libc::SIGPIPE);
    }
}

/// The child dies with us (SIGKILL when `local` dies, however it dies), has its own process
/// group (a terminal's Ctrl-C reaches only us, and we stop everything the same way), and joins
/// the run's network namespace when there is one.
///
/// `death_signal` is SIGTERM for what runs a pod (bwrap dies of it and SIGKILLs its sandbox;
/// unsandboxed, the run wrapper ends its Locust on it) and SIGKILL for everything else.
///
/// `group` is the run's process group (`RunGroup`), 0 for a group of its own.
pub(crate) fn orphan_proof(
    cmd: &mut Command,
    death_signal: i32,
    netns: Option<(i32, i32)>,
    group: libc::pid_t,
) {
    use std::os::unix::process::CommandExt;
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: prctl, setpgid, setns, getppid and _exit are async-signal-safe; the fds stay open
    // in the parent (owned by `net::PodNetwork`) until the child has exec'd.
    unsafe {
        cmd.pre_exec(move || {
            libc::setpgid(0, group);
            if let Some((user, net)) = netns
                && (libc::setns(user, libc::CLONE_NEWUSER) != 0
                    || libc::setns(net, libc::CLONE_NEWNET) != 0)
            {
                return Err(std::io::Error::last_os_error());
            }
            // After setns: entering a user namespace changes the credentials, which clears the
            // parent-death signal. A parent already gone would never send it: end now.
            libc::prctl(libc::PR_SET_PDEATHSIG, death_signal);
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
}

/// The run's process group, led by a `sh` that kills the whole group once its stdin (a pipe
/// from us) closes, that is when `local` ends, however it ends. The parent-death signal alone
/// does not hold: bwrap and pasta may change their credentials, which clears it.
pub(crate) struct RunGroup {
    watchdog: Option<Child>,
}

impl RunGroup {
    pub(crate) fn start() -> Self {
        let mut cmd = Command::new("/bin/sh");
        cmd.args(["-c", "read _ignored; kill -KILL 0"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        use std::os::unix::process::CommandExt;
        // SAFETY: setpgid is async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                libc::setpgid(0, 0);
                Ok(())
            });
        }
        RunGroup {
            watchdog: cmd.spawn().ok(),
        }
    }

    /// The group to join (0: none could be made, each process gets its own).
    pub(crate) fn id(&self) -> libc::pid_t {
        self.watchdog.as_ref().map_or(0, |w| w.id() as libc::pid_t)
    }
}

impl Drop for RunGroup {
    fn drop(&mut self) {
        if let Some(w) = &mut self.watchdog {
            // Only the watchdog: the run's processes have been stopped by then.
            let _ = w.kill();
            let _ = w.wait();
        }
    }
}

/// One pod's directory: a mount path `/p` is `<dir>/p`.
struct PodDir {
    /// `master`, `worker-1`, … (its host name is the run's name and this).
    name: String,
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
        name: dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
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
    /// The result line itself, printed only once this start is known to be the run's (a start
    /// that lost its port to another process prints none).
    result_line: Mutex<Option<String>>,
    ready: AtomicBool,
    master_port_busy: AtomicBool,
    web_port_busy: AtomicBool,
}

impl Watch {
    fn new(ports: (u16, u16)) -> Self {
        Watch {
            ports,
            result: AtomicI32::new(NO_RESULT),
            result_line: Mutex::new(None),
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
            *self.result_line.lock().unwrap() = Some(line.to_string());
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
/// Where a pod process runs: sandboxed or not, in the run's network, in the run's group.
struct Placement {
    sandboxed: bool,
    netns: Option<(i32, i32)>,
    group: libc::pid_t,
}

fn spawn(
    label: String,
    argv: &[String],
    env: &[(String, String)],
    Placement {
        sandboxed,
        netns,
        group,
    }: Placement,
    watch: Option<Arc<Watch>>,
    hints: Option<Hints>,
) -> Result<Proc, LocalError> {
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    // A sandbox's bwrap dies with us at once, taking its PID namespace; unsandboxed, the run
    // wrapper ends its Locust on SIGTERM.
    let death = if sandboxed {
        libc::SIGKILL
    } else {
        libc::SIGTERM
    };
    orphan_proof(&mut cmd, death, netns, group);
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
                let held = watch.is_some() && l.starts_with(crate::contract::RESULT_MARKER);
                if to_stdout && !held {
                    print_stdout(&format!("[{label}] {l}"));
                } else if !to_stdout {
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
pub(crate) fn children_of(pid: u32) -> Vec<i32> {
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
pub(crate) fn process_tree(pid: u32) -> Vec<u32> {
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
    // The tables of the process's own network namespace (the run's, when it has one).
    for table in ["tcp", "tcp6"] {
        let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")) else {
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

/// Ends every process of each pod: SIGTERM to what runs in it (a sandbox's processes below
/// its namespace's init, which ignores it), then after `grace` SIGKILL to the whole tree (a
/// sandbox's init takes its PID namespace with it: nothing the pod started survives).
fn stop(procs: &mut [Proc], grace: Duration) {
    for p in procs.iter() {
        let root = p.child.id();
        let inits: Vec<u32> = if p.sandboxed {
            children_of(root).into_iter().map(|c| c as u32).collect()
        } else {
            Vec::new()
        };
        for pid in process_tree(root)
            .into_iter()
            .filter(|pid| !(p.sandboxed && (*pid == root || inits.contains(pid))))
        {
            // SAFETY: signalling a process of our own child's tree.
            unsafe { libc::kill(pid as i32, libc::SIGTERM) };
        }
    }
    let deadline = Instant::now() + grace;
    let mut ended = Vec::new();
    for p in procs.iter_mut() {
        while p.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let tree = process_tree(p.child.id());
        for pid in tree.iter().rev() {
            // SAFETY: as above; the root is still our unreaped child, so its pid is not reused.
            unsafe { libc::kill(*pid as i32, libc::SIGKILL) };
        }
        let _ = p.child.wait();
        ended.extend(tree);
    }
    wait_gone(&ended);
    for p in procs.iter_mut() {
        p.threads.drain(..).for_each(|t| drop(t.join()));
    }
}

/// Waits (a few seconds at most) until none of `pids` runs any more: the kernel ends a PID
/// namespace's processes, and their new parent reaps them, a moment after its init dies.
pub(crate) fn wait_gone(pids: &[u32]) {
    let running = |pid: &u32| {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next())
                .is_some_and(|state| state != "Z" && state != "X")
        })
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while pids.iter().any(running) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// How containers become processes: sandboxed at the pod's paths, or re-rooted.
struct Exec<'a> {
    /// Declared first, dropped last: every process of the run is in it.
    group: RunGroup,
    sandbox: Option<Sandbox>,
    /// The run's network namespace (sandboxed, where pasta works).
    network: Option<net::PodNetwork>,
    /// The pods' own `/etc` files (`passwd`, `group`, `resolv.conf`).
    etc: Vec<(String, PathBuf)>,
    writable: Vec<PathBuf>,
    opts: &'a LocalOptions,
    hints_seen: Arc<Mutex<BTreeSet<String>>>,
}

impl<'a> Exec<'a> {
    /// How the pods run; `users` are the UID/GIDs they run as (named in their `/etc/passwd`),
    /// `plan` what their network forwards.
    fn new(
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
    fn check_pods_can_run(&self, pod: &PodDir, c: &ContainerView) -> Result<(), LocalError> {
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
        spawn(
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

/// The run's network namespace, or why there is none: `--sandbox required` refuses to run
/// without it, `auto` says so once and the pods share this machine's network.
fn start_network(
    sandbox: &Sandbox,
    mode: SandboxMode,
    tmp: &Path,
    plan: &net::Plan,
    group: libc::pid_t,
) -> Result<Option<net::PodNetwork>, LocalError> {
    let started = match sandbox::find_in_path("pasta") {
        Some(pasta) => net::PodNetwork::start(&sandbox.bwrap, &pasta, tmp, plan, group),
        None => Err(LocalError::NoSandbox(
            "pasta (package passt) is not installed (Linux: `apt-get install passt`, `dnf install passt`), so the pods cannot get a network of their own".into(),
        )),
    };
    match started {
        Ok(n) => Ok(Some(n)),
        Err(LocalError::NoSandbox(why)) if mode != SandboxMode::Required => {
            eprintln!(
                "locust-planton: warning: {why}; the pods share this machine's network (its loopback services and abstract UNIX sockets are reachable from them). --sandbox=required refuses instead."
            );
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// `/etc/passwd` and `/etc/group` naming only the pods' users (`locust`, as in the image).
fn pod_etc(dir: &Path, users: &[(i64, i64)]) -> Result<Vec<(String, PathBuf)>, LocalError> {
    std::fs::create_dir_all(dir).map_err(io_at(dir.display()))?;
    let mut passwd = String::from("root:x:0:0:root:/root:/usr/sbin/nologin\n");
    let mut group = String::from("root:x:0:\n");
    for (i, (uid, gid)) in users.iter().enumerate() {
        let name = if i == 0 {
            "locust".to_string()
        } else {
            format!("locust{uid}")
        };
        passwd.push_str(&format!("{name}:x:{uid}:{gid}::/home/locust:/bin/sh\n"));
        if !group.contains(&format!(":x:{gid}:")) {
            group.push_str(&format!("{name}:x:{gid}:\n"));
        }
    }
    let mut files = Vec::new();
    for (name, text) in [("passwd", passwd), ("group", group)] {
        let file = dir.join(name);
        std::fs::write(&file, text).map_err(io_at(file.display()))?;
        files.push((name.to_string(), file));
    }
    Ok(files)
}

/// A pod's host name: the run's name and the pod's (`checkout-load-worker-1`), at most 63
/// characters as a DNS label.
fn pod_hostname(run: &str, pod: &str) -> String {
    let name = if run.is_empty() {
        pod.to_string()
    } else {
        format!("{run}-{pod}")
    };
    name.chars().take(63).collect()
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

/// One thing `local` refuses to run: the spec field that set it, and the line saying why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// `spec.helmValues["master.args"]`, or `spec` when no helmValues key set it.
    pub by: String,
    pub line: String,
    /// A command locust-planton did not generate (`--allow-commands` runs it).
    pub command: bool,
}

/// The master and worker pods `local` runs for a spec, and everything in them it refuses: pod
/// paths that climb out with `..` (named from the values, as `check` names them), and unless
/// `allow_commands`, commands locust-planton did not generate (the pods of the same spec
/// without helmValues are its own). The one list both `local` (refusing) and `check`
/// (warning) use.
pub fn spec_pods(
    spec: &crate::spec::LoadTestSpec,
    s: &crate::values::Synthesized,
    allow_commands: bool,
) -> (PodView, PodView, Vec<Refusal>) {
    let by = |field: &str| {
        let key = field.split('[').next().unwrap_or(field);
        crate::values::helm_values::set_by(&spec.helm_values, key)
    };
    let mut refused: Vec<Refusal> = crate::values::pod_paths::pod_paths(&s.values)
        .into_iter()
        .filter_map(|(field, path)| {
            let resolved = crate::values::pod_paths::climbs_out(&path)?;
            let set_by = by(&field);
            Some(Refusal {
                line: climbing_line(&format!("{field} (set by {set_by})"), &path, &resolved),
                by: set_by,
                command: false,
            })
        })
        .collect();
    let own = crate::values::synthesize(&crate::spec::LoadTestSpec {
        helm_values: Vec::new(),
        ..spec.clone()
    });
    let mut master = pod::pod_view(s, "master");
    let mut worker = pod::pod_view(s, "worker");
    pod::mark_foreign(
        &mut master,
        &pod::pod_view(&own, "master"),
        &spec.helm_values,
    );
    pod::mark_foreign(
        &mut worker,
        &pod::pod_view(&own, "worker"),
        &spec.helm_values,
    );
    if !allow_commands {
        for c in running(&master, &worker)
            .into_iter()
            .filter(|c| !c.foreign.is_empty())
        {
            let field = c.foreign[0].split(" (set by").next().unwrap_or_default();
            refused.push(Refusal {
                by: by(field),
                line: command_line(c),
                command: true,
            });
        }
    }
    (master, worker, refused)
}

/// The refusals as `local` prints them, with what to do about commands last.
pub fn refusal_lines(refused: &[Refusal]) -> Vec<String> {
    let mut lines: Vec<String> = refused.iter().map(|r| r.line.clone()).collect();
    if refused.iter().any(|r| r.command) {
        lines.push(ALLOW_COMMANDS_HINT.into());
    }
    lines
}

const ALLOW_COMMANDS_HINT: &str = "local runs only the chart's Locust, the pip step and its own run wrapper; --allow-commands runs these too, printing each before it runs";

/// Why a container's command is refused.
fn command_line(c: &ContainerView) -> String {
    let mut argv = c.command.clone();
    argv.extend(c.args.iter().cloned());
    format!(
        "{}: `{}` is not a command locust-planton generated",
        c.foreign.join(", "),
        shell_line(&argv)
    )
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
        .map(command_line)
        .collect();
    if !out.is_empty() {
        out.push(ALLOW_COMMANDS_HINT.into());
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
pub(crate) const PORT_TRIES: u16 = 100;

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

/// Runs master and workers; returns the master's exit code (headless) or 0 after Ctrl-C (web
/// UI). A signal (`watch_signals`) or a closed stdout at any phase ends every process of the run
/// and returns `LocalError::Stopped`; before Locust starts, it never starts.
pub fn run(master: &PodView, worker: &PodView, opts: &LocalOptions) -> Result<i32, LocalError> {
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
    let master_dir = materialise(master, &tmp.path().join("master"))?;
    let worker_dirs = (1..=opts.workers)
        .map(|i| materialise(worker, &tmp.path().join(format!("worker-{i}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let host_ports = forwarded_ports(master, worker, opts);
    let plan = net::Plan {
        host_ports: &host_ports,
        web: (!headless).then_some(opts.web_port),
    };
    let exec = Exec::new(sandbox, opts, tmp.path(), &pod_users(master, worker), &plan)?;
    announce_pods(&exec, master, tmp.path());
    exec.check_pods_can_run(&master_dir, &master.container)?;
    not_stopped()?;
    run_init_containers(&exec, master, &master_dir)?;
    copy_init_output(master, &master_dir, &worker_dirs)?;
    not_stopped()?;
    let code = run_on_free_ports(
        &exec,
        (master, &master_dir),
        (worker, &worker_dirs),
        headless,
    )?;
    match stop_requested() {
        // The web UI's documented way out.
        Some(libc::SIGINT) if !headless => return Ok(0),
        Some(signal) => return Err(LocalError::Stopped(signal)),
        None => {}
    }
    if headless && let Some(dest) = &opts.results_dir {
        let from = master_dir.host_path(crate::contract::RESULTS_DIR);
        copy_results(&from, dest)?;
    }
    Ok(code)
}

/// `Stopped` once a signal asked the run to stop.
fn not_stopped() -> Result<(), LocalError> {
    stop_requested().map_or(Ok(()), |s| Err(LocalError::Stopped(s)))
}

/// Loopback ports of this machine the pods reach (their network forwards only these): the
/// target's (`--host`, each pod's `LOCUST_HOST`) and those of proxies and package indexes
/// passed through to the pods.
fn forwarded_ports(master: &PodView, worker: &PodView, opts: &LocalOptions) -> Vec<u16> {
    let mut urls: Vec<String> = opts.host.iter().cloned().collect();
    for c in running(master, worker) {
        urls.extend(
            c.env
                .iter()
                .filter(|(k, _)| k == "LOCUST_HOST")
                .map(|(_, v)| v.clone()),
        );
    }
    for k in sandbox::PASSTHROUGH_ENV {
        urls.extend(std::env::var(k).ok());
    }
    let mut ports: Vec<u16> = urls
        .iter()
        .flat_map(|u| u.split([' ', ',']))
        .filter_map(net::loopback_port)
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

/// The UID/GIDs the pods' containers run as.
fn pod_users(master: &PodView, worker: &PodView) -> Vec<(i64, i64)> {
    let mut users: Vec<(i64, i64)> = Vec::new();
    for c in running(master, worker) {
        let u = (c.security.run_as_user, c.security.run_as_group);
        if !users.contains(&u) {
            users.push(u);
        }
    }
    users
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
    if opts.interpreter.locust.is_none() {
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
        let status = loop {
            if let Some(status) = p
                .child
                .try_wait()
                .map_err(io_at(format!("init container {}", init.name)))?
            {
                break status;
            }
            if let Some(signal) = stop_requested() {
                stop(std::slice::from_mut(&mut p), Duration::from_secs(5));
                return Err(LocalError::Stopped(signal));
            }
            std::thread::sleep(Duration::from_millis(50));
        };
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
/// the run starts again (not once stopped). Returns the master's exit code.
fn run_on_free_ports(
    exec: &Exec,
    master: (&PodView, &PodDir),
    workers: (&PodView, &[PodDir]),
    headless: bool,
) -> Result<i32, LocalError> {
    let opts = exec.opts;
    let published = exec.network.as_ref().and_then(|n| n.web_port);
    let mut ports = (
        opts.master_port.port,
        published.unwrap_or(opts.web_port.port),
    );
    loop {
        let watch = Arc::new(Watch::new(ports));
        let code = run_once(exec, master, workers, &watch, headless)?;
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
        if !moved || stop_requested().is_some() {
            // Only the start that is the run's prints its result.
            if let Some(line) = watch.result_line.lock().unwrap().take() {
                print_stdout(&format!("[master] {line}"));
            }
            return Ok(code);
        }
    }
}

/// One start of the master, then (once it holds its worker port) the workers; returns the
/// master's exit code, or 128 + the signal that stopped the run.
fn run_once(
    exec: &Exec,
    (master, master_dir): (&PodView, &PodDir),
    (worker, worker_dirs): (&PodView, &[PodDir]),
    watch: &Arc<Watch>,
    headless: bool,
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
    if let Some(code) = wait_until_master_listens(&mut procs, watch, headless)? {
        stop(&mut procs, Duration::from_secs(5));
        return Ok(code);
    }
    eprintln!(
        "locust-planton: master listens for workers on 127.0.0.1:{master_port}{}",
        if exec.network.is_some() {
            " (in the run's own network)"
        } else {
            ""
        }
    );
    start_workers(exec, worker, worker_dirs, master_port, &mut procs)?;
    if !headless {
        eprintln!(
            "locust-planton: web UI on http://127.0.0.1:{web_port}/ — Ctrl-C stops every process"
        );
    }
    let code = loop {
        if let Some(signal) = stop_requested() {
            break 128 + signal;
        }
        if let Some(code) = finished(&mut procs, watch)? {
            break code;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    // Workers quit when the master does; give them a moment, then stop whatever is left.
    let grace = Duration::from_secs(if stop_requested().is_some() { 5 } else { 10 });
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
    // Output paths absolute: a sandboxed pod does not start in this folder.
    let cwd = std::env::current_dir().unwrap_or_default();
    args.extend(sandbox::absolute_outputs(&opts.master_args, &cwd));
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
) -> Result<Option<i32>, LocalError> {
    let (master_port, web_port) = watch.ports;
    let start = Instant::now();
    let master_pid = procs[0].child.id();
    let mut logged_at: Option<Instant> = None;
    loop {
        if let Some(signal) = stop_requested() {
            return Ok(Some(128 + signal));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_host_names() {
        struct Case {
            run: String,
            pod: &'static str,
            want: String,
        }
        let cases = [
            Case {
                run: "checkout-load".into(),
                pod: "worker-1",
                want: "checkout-load-worker-1".into(),
            },
            Case {
                run: String::new(),
                pod: "master",
                want: "master".into(),
            },
            Case {
                run: "x".repeat(70),
                pod: "master",
                want: "x".repeat(63),
            },
        ];
        for c in cases {
            assert_eq!(pod_hostname(&c.run, c.pod), c.want);
        }
    }

    #[test]
    fn signal_exit_codes() {
        assert_eq!(signal_exit_code(libc::SIGINT), 130);
        assert_eq!(signal_exit_code(libc::SIGTERM), 143);
        assert_eq!(signal_exit_code(libc::SIGHUP), 129);
        assert_eq!(signal_exit_code(libc::SIGPIPE), 141);
    }
}
