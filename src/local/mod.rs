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
//!
//! By concern, each module using only those listed before it (`local_modules_depend_one_way`):
//! `error` (what stops a run), `pod` (the pods as the chart renders them), `signals` (what asks a
//! run to stop), `sandbox` (bubblewrap's argv for a container), `observers` (what the pods'
//! output says), `processes` (starting, finding through `/proc` and ending them), `interpreter`
//! (the Python that runs Locust), `pod_dir` (each pod's directory), `options` (what the run is
//! asked to do), `net` (the run's own network), `confinement` (what `local` refuses, and the
//! sandbox it chooses), `ports`, `exec` (containers as processes); this file orchestrates a run.

mod confinement;
mod error;
mod exec;
mod interpreter;
pub mod net;
mod observers;
mod options;
pub mod pod;
mod pod_dir;
mod ports;
mod processes;
pub mod sandbox;
mod signals;

pub use confinement::{Refusal, climbing_line, pod_refusals, refusal_lines, shell_line, spec_pods};
pub use error::{LocalError, signal_exit_code, signal_name};
pub use interpreter::{Interpreter, install_locust, probe_interpreter, resolve_python};
pub use options::{Headless, LocalOptions, Port};
pub use signals::{stop_requested, watch_signals};

use confinement::{choose_sandbox, running};
use error::io_at;
use exec::Exec;
use observers::{NO_RESULT, Watch, print_stdout};
use pod::{ContainerView, PodView, Source};
use pod_dir::{PodDir, copy_results, copy_tree, materialise};
use ports::{forwarded_ports, next_port};
use processes::{Proc, await_sandboxes_set_up, stop, tree_listens_on};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Runs master and workers; returns the master's exit code (headless) or 0 after Ctrl-C (web
/// UI). A signal (`watch_signals`) or a closed stdout at any phase ends every process of the run
/// and returns `LocalError::Stopped`; before Locust starts, it never starts.
pub fn run(master: &PodView, worker: &PodView, opts: &LocalOptions) -> Result<i32, LocalError> {
    let headless =
        opts.headless.is_some() || master.container.args.iter().any(|a| a == "--headless");
    // A spec's run with the web UI on (`--autostart`, for metrics) ends and is judged by itself
    // as a headless one does; it serves its web UI meanwhile.
    let ends = headless || master.container.args.iter().any(|a| a == "--autostart");
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
        Some(libc::SIGINT) if !ends => return Ok(0),
        Some(signal) => return Err(LocalError::Stopped(signal)),
        None => {}
    }
    if ends && let Some(dest) = &opts.results_dir {
        let from = master_dir.host_path(crate::contract::RESULTS_DIR);
        copy_results(&from, dest)?;
    }
    Ok(code)
}

/// `Stopped` once a signal asked the run to stop.
fn not_stopped() -> Result<(), LocalError> {
    stop_requested().map_or(Ok(()), |s| Err(LocalError::Stopped(s)))
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

/// Whether a container runs the headless run wrapper.
fn is_wrapper(c: &ContainerView) -> bool {
    c.command.get(1).map(String::as_str) == Some("-c")
        && c.command.get(2).map(String::as_str) == Some(crate::values::extensions::HEADLESS_WRAPPER)
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
    let refused = pod_refusals(master, worker, opts.allow_commands);
    if !refused.is_empty() {
        return Err(LocalError::Refused(refusal_lines(&refused)));
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
            if let Some(line) = watch
                .result_line
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take()
            {
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
    await_sandboxes_set_up(procs, Duration::from_secs(10));
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// The modules of `local` in the order they may use each other: each uses only modules
    /// before it; this file, which orchestrates a run, uses them all and none uses it.
    const ORDER: &[&str] = &[
        "error",
        "pod",
        "signals",
        "sandbox",
        "observers",
        "processes",
        "interpreter",
        "pod_dir",
        "options",
        "net",
        "confinement",
        "ports",
        "exec",
    ];

    /// What `text` names through `super::` in code before its tests (comments aside): sibling
    /// modules, or `mod.rs` for an item of this file (`super::LocalError`).
    fn uses(text: &str) -> BTreeSet<String> {
        let code: String = text
            .lines()
            .take_while(|l| !l.starts_with("#[cfg(test)]"))
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let mut found = BTreeSet::new();
        let mut rest = code.as_str();
        while let Some(i) = rest.find("super::") {
            let after = &rest[i + "super::".len()..];
            let heads: Vec<&str> = match after.strip_prefix('{') {
                Some(g) => g[..g.find('}').unwrap_or(g.len())].split(',').collect(),
                None => vec![after],
            };
            for head in heads {
                let name: String = head
                    .trim_start()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                match (ORDER.contains(&name.as_str()), name.is_empty()) {
                    (true, _) => found.insert(name),
                    (false, false) if name != "self" => found.insert("mod.rs".to_string()),
                    _ => false,
                };
            }
            rest = after;
        }
        found
    }

    #[test]
    fn local_modules_depend_one_way() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/local");
        let mut wrong = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            if name == "mod" {
                continue;
            }
            let Some(own) = ORDER.iter().position(|m| *m == name) else {
                wrong.push(format!("{name}.rs is not placed in ORDER"));
                continue;
            };
            for used in uses(&std::fs::read_to_string(&path).unwrap()) {
                if !ORDER[..own].contains(&used.as_str()) {
                    wrong.push(format!("{name}.rs uses {used}"));
                }
            }
        }
        assert!(wrong.is_empty(), "against the order:\n{}", wrong.join("\n"));
    }

    #[test]
    fn the_order_check_sees_uses() {
        struct Case {
            text: &'static str,
            want: &'static [&'static str],
        }
        let cases = [
            Case {
                text: "use super::error::{LocalError, io_at};\nuse super::{net, sandbox};",
                want: &["error", "net", "sandbox"],
            },
            Case {
                text: "let p = super::processes::children_of(1);\nuse super::pod::{self, Mount};",
                want: &["pod", "processes"],
            },
            // An item of mod.rs, not a module.
            Case {
                text: "fn f() -> super::LocalError { todo!() }",
                want: &["mod.rs"],
            },
            Case {
                text: "use super::{LocalOptions, ports};",
                want: &["mod.rs", "ports"],
            },
            // Comments and tests may name anything.
            Case {
                text: "/// As `super::Interpreter::dirs` says.\nuse super::pod::Mount;",
                want: &["pod"],
            },
            Case {
                text: "use super::pod::PodView;\n#[cfg(test)]\nmod tests {\n    use super::exec::Exec;\n}",
                want: &["pod"],
            },
        ];
        for c in cases {
            let got: Vec<String> = uses(c.text).into_iter().collect();
            assert_eq!(got, c.want, "{}", c.text);
        }
    }
}
