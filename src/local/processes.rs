//! The run's processes: how each is started so that it ends with `local` (`orphan_proof`, the
//! run's process group `RunGroup`), a pod process with its output read line by line (`spawn`),
//! and how they are found and ended through `/proc` (`children_of`, `process_tree`,
//! `tree_listens_on`, `stop`, `wait_gone`). The `/proc` text is read by pure functions
//! (`parent_in_stat`, `running_in_stat`, `listening_sockets`, `tree_below`) tested on canned
//! text.

use super::error::{LocalError, io_at};
use super::observers::{Hints, Route, Watch, print_stdout, route};
use super::signals::stop_requested;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Runs a host command to its end, or until a signal stops the run: then its process group
/// is ended (pip's own children too) and the run stops.
pub(super) fn run_to_end(c: &mut Command) -> Result<(), LocalError> {
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

/// The child dies with us (SIGKILL when `local` dies, however it dies), has its own process
/// group (a terminal's Ctrl-C reaches only us, and we stop everything the same way), and joins
/// the run's network namespace when there is one.
///
/// `death_signal` is SIGTERM for what runs a pod (bwrap dies of it and SIGKILLs its sandbox;
/// unsandboxed, the run wrapper ends its Locust on it) and SIGKILL for everything else.
///
/// `group` is the run's process group (`RunGroup`), 0 for a group of its own.
pub(super) fn orphan_proof(
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
pub(super) struct RunGroup {
    watchdog: Option<Child>,
}

impl RunGroup {
    pub(super) fn start() -> Self {
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
    pub(super) fn id(&self) -> libc::pid_t {
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

/// A running pod process: the child is bwrap when sandboxed.
pub(super) struct Proc {
    pub child: Child,
    sandboxed: bool,
    pub threads: Vec<std::thread::JoinHandle<()>>,
}

/// Where a pod process runs: sandboxed or not, in the run's network, in the run's group.
pub(super) struct Placement {
    pub sandboxed: bool,
    pub netns: Option<(i32, i32)>,
    pub group: libc::pid_t,
}

/// Spawns a process whose output lines are printed with `[label] `; it dies with us.
pub(super) fn spawn(
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
    // Both are piped above, so both are there.
    let out: Option<Box<dyn std::io::Read + Send>> = child.stdout.take().map(|s| Box::new(s) as _);
    let err: Option<Box<dyn std::io::Read + Send>> = child.stderr.take().map(|s| Box::new(s) as _);
    let reader = |stream: Option<Box<dyn std::io::Read + Send>>, to_stdout: bool| {
        let (label, watch, hints) = (label.clone(), watch.clone(), hints.clone());
        std::thread::spawn(move || {
            let lines = stream
                .into_iter()
                .flat_map(|s| BufReader::new(s).lines().map_while(Result::ok));
            for l in lines {
                if let Some(w) = &watch {
                    w.observe(&l);
                }
                if let Some(h) = &hints {
                    h.observe(&label, &l);
                }
                match route(&l, to_stdout, watch.is_some()) {
                    Route::Stdout => print_stdout(&format!("[{label}] {l}")),
                    Route::Stderr => eprintln!("[{label}] {l}"),
                    Route::Held => {}
                }
            }
        })
    };
    let threads = vec![reader(out, true), reader(err, false)];
    Ok(Proc {
        child,
        sandboxed,
        threads,
    })
}

/// The processes whose parent is `pid` (the sandboxed process of a bwrap).
pub(super) fn children_of(pid: u32) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| {
        let e = e.ok()?;
        let child: i32 = e.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
        (parent_in_stat(&stat)? == pid).then_some(child)
    })
    .collect()
}

/// The fields of a `/proc/PID/stat` text after `pid (comm)`: `state ppid …`. The command name
/// may hold spaces and parentheses, so the fields start after its last `)`.
fn stat_fields(stat: &str) -> Option<std::str::SplitWhitespace<'_>> {
    Some(stat.rsplit_once(')')?.1.split_whitespace())
}

/// The parent's pid in a `/proc/PID/stat` text.
fn parent_in_stat(stat: &str) -> Option<u32> {
    stat_fields(stat)?.nth(1)?.parse().ok()
}

/// Whether a `/proc/PID/stat` text is of a process still running (not a zombie, not dead).
fn running_in_stat(stat: &str) -> bool {
    stat_fields(stat)
        .and_then(|mut f| f.next())
        .is_some_and(|state| state != "Z" && state != "X")
}

/// `pid` and every process below it.
pub(super) fn process_tree(pid: u32) -> Vec<u32> {
    tree_below(pid, |p| {
        children_of(p).into_iter().map(|c| c as u32).collect()
    })
}

/// Waits, at most `bound`, until every sandboxed process has reached its payload: a process
/// below its bwrap that is not bwrap. Until then bwrap is still making the sandbox, and a
/// `local` killed in that moment (SIGKILL, nothing of ours runs) could leave the sandbox's init
/// behind: it has made a session of its own, so the run group's kill misses it, and the
/// parent-death signal it asks for is only set once it gets that far.
pub(super) fn await_sandboxes_set_up(procs: &mut [Proc], bound: Duration) {
    let deadline = Instant::now() + bound;
    for p in procs.iter_mut().filter(|p| p.sandboxed) {
        while Instant::now() < deadline && p.child.try_wait().ok().flatten().is_none() {
            let names: Vec<String> = process_tree(p.child.id())
                .into_iter()
                .map(|pid| {
                    std::fs::read_to_string(format!("/proc/{pid}/comm"))
                        .unwrap_or_default()
                        .trim_end()
                        .to_string()
                })
                .collect();
            if reached_payload(&names) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Whether a bwrap's process tree (its command names, bwrap's first) holds more than bwrap:
/// an unreadable name (a process already gone) counts as bwrap.
fn reached_payload(names: &[String]) -> bool {
    names.iter().skip(1).any(|n| !n.is_empty() && n != "bwrap")
}

/// `pid` and every process below it, breadth first, given each process's children.
fn tree_below(pid: u32, children: impl Fn(u32) -> Vec<u32>) -> Vec<u32> {
    let mut all = vec![pid];
    let mut i = 0;
    while i < all.len() {
        all.extend(children(all[i]));
        i += 1;
    }
    all
}

/// The sockets (as their `/proc/PID/fd` links read, `socket:[INODE]`) listening on TCP `port`
/// in a `/proc/PID/net/tcp` or `tcp6` table.
fn listening_sockets(table: &str, port: u16) -> Vec<String> {
    let mut inodes = Vec::new();
    for line in table.lines().skip(1) {
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
    inodes
}

/// Whether a process in `pid`'s tree listens on TCP `port`: `None` when that cannot be told
/// (another user's process files are unreadable). Asking who holds the socket, not whether
/// something answers, tells our master from another run's on the same port.
pub(super) fn tree_listens_on(pid: u32, port: u16) -> Option<bool> {
    let mut inodes = Vec::new();
    let mut tables = 0;
    // The tables of the process's own network namespace (the run's, when it has one).
    for table in ["tcp", "tcp6"] {
        let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")) else {
            continue;
        };
        tables += 1;
        inodes.extend(listening_sockets(&text, port));
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
pub(super) fn stop(procs: &mut [Proc], grace: Duration) {
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
pub(super) fn wait_gone(pids: &[u32]) {
    let running = |pid: &u32| {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| running_in_stat(&s))
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while pids.iter().any(running) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sandbox_has_reached_its_payload_when_more_than_bwrap_runs() {
        struct Case {
            name: &'static str,
            tree: &'static [&'static str],
            reached: bool,
        }
        let cases = [
            Case {
                name: "bwrap alone",
                tree: &["bwrap"],
                reached: false,
            },
            Case {
                name: "bwrap and the sandbox's init, still setting up",
                tree: &["bwrap", "bwrap"],
                reached: false,
            },
            Case {
                name: "the payload runs",
                tree: &["bwrap", "bwrap", "python"],
                reached: true,
            },
            Case {
                name: "a process gone while read counts as bwrap",
                tree: &["bwrap", ""],
                reached: false,
            },
            Case {
                name: "the root itself is not the payload",
                tree: &["python"],
                reached: false,
            },
        ];
        for Case {
            name,
            tree,
            reached,
        } in cases
        {
            let names: Vec<String> = tree.iter().map(|n| n.to_string()).collect();
            assert_eq!(reached_payload(&names), reached, "{name}");
        }
    }

    /// `/proc/net/tcp` as this machine wrote it, trimmed to five rows: 127.0.0.1:47557 (B9C5)
    /// listening (0A), the connection it accepted (01, same local port), an earlier one in
    /// TIME_WAIT (06, no inode), the client's end (its remote port is B9C5), and another
    /// listener.
    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:B9C5 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2727284 1 00000000eeb83b4e 100 0 0 10 0
   1: 0100007F:B9C5 0100007F:8DAA 01 00000000:00000000 00:00000000 00000000     0        0 2727287 2 00000000fd7fa597 20 4 31 12 -1
  25: 0100007F:B9C5 0100007F:B29D 06 00000000:00000000 03:00000D43 00000000     0        0 0 3 00000000f56580f6
 234: 0100007F:8DAA 0100007F:B9C5 01 00000000:00000000 00:00000000 00000000     0        0 2727286 2 000000001d4e7412 20 0 0 10 -1
   9: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1202 1 00000000684dce55 100 0 0 10 0
";

    /// `/proc/net/tcp6` as this machine wrote it: [::1]:47089 (B7F1) listening.
    const TCP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:B7F1 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2727285 1 000000001b65f475 100 0 0 10 0
";

    #[test]
    fn listening_sockets_are_found_by_port_and_state() {
        struct Case {
            table: &'static str,
            port: u16,
            want: &'static [&'static str],
        }
        let cases = [
            Case {
                table: TCP,
                port: 47557,
                want: &["socket:[2727284]"],
            },
            Case {
                table: TCP,
                port: 2024,
                want: &["socket:[1202]"],
            },
            // Only a remote end or a connection on it: nobody listens.
            Case {
                table: TCP,
                port: 0x8DAA,
                want: &[],
            },
            Case {
                table: TCP6,
                port: 47089,
                want: &["socket:[2727285]"],
            },
            Case {
                table: TCP6,
                port: 47557,
                want: &[],
            },
            // The header alone.
            Case {
                table: "  sl  local_address rem_address   st\n",
                port: 47557,
                want: &[],
            },
        ];
        for c in cases {
            assert_eq!(
                listening_sockets(c.table, c.port),
                c.want,
                "port {}",
                c.port
            );
        }
    }

    #[test]
    fn stat_text_gives_parent_and_state() {
        struct Case {
            stat: &'static str,
            parent: Option<u32>,
            running: bool,
        }
        let cases = [
            // As this machine wrote it.
            Case {
                stat: "29399 (python3) R 29333 29333 5556 0 -1 4194304 2848 6514 0 0 2 1 3 1 20 0 1 0",
                parent: Some(29333),
                running: true,
            },
            Case {
                stat: "12 (bwrap) S 1 12 12 0 -1",
                parent: Some(1),
                running: true,
            },
            // A command name with spaces and parentheses: the fields start after the last `)`.
            Case {
                stat: "77 (a) S 9 (b)) Z 42 77 77 0",
                parent: Some(42),
                running: false,
            },
            Case {
                stat: "78 (locust) X 3 78",
                parent: Some(3),
                running: false,
            },
            Case {
                stat: "no fields at all",
                parent: None,
                running: false,
            },
            Case {
                stat: "5 (sh) S notapid",
                parent: None,
                running: true,
            },
        ];
        for c in cases {
            assert_eq!(parent_in_stat(c.stat), c.parent, "{}", c.stat);
            assert_eq!(running_in_stat(c.stat), c.running, "{}", c.stat);
        }
    }

    #[test]
    fn the_tree_holds_every_descendant_once() {
        struct Case {
            root: u32,
            want: &'static [u32],
        }
        // 1 ─ 2 ─ 4 ─ 6
        //   └ 3 └ 5
        let children = |p: u32| match p {
            1 => vec![2, 3],
            2 => vec![4, 5],
            4 => vec![6],
            _ => Vec::new(),
        };
        let cases = [
            Case {
                root: 1,
                want: &[1, 2, 3, 4, 5, 6],
            },
            Case {
                root: 2,
                want: &[2, 4, 5, 6],
            },
            Case {
                root: 6,
                want: &[6],
            },
        ];
        for c in cases {
            assert_eq!(tree_below(c.root, children), c.want, "root {}", c.root);
        }
    }
}
