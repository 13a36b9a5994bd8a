//! `local`'s sandbox is the pod (docs/local.md "The sandbox: a pod, not a process with your
//! keys"): real Locust, real bubblewrap, real pasta. Which Python runs (an activated venv, a
//! name on PATH, a base interpreter under a home directory), what a hostile locustfile can
//! reach (nothing of the invoking user's), and how a run stops (every process of it ended, the
//! exit code of the signal), checked on the process tree, not on names.
// Without `tools`, the helpers of the tool-driven tests below are unused.
#![cfg_attr(not(feature = "tools"), allow(dead_code, unused_imports))]

mod common;
use common::*;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A spec loading `/` on `127.0.0.1:port` with `script_extra` at the top of its locustfile
/// (indented by 6 spaces in the YAML) and `pip` lines under `loadTest`.
fn spec(port: u16, script_extra: &str, pip: &str) -> String {
    let extra: String = script_extra
        .lines()
        .map(|l| format!("      {l}\n"))
        .collect();
    format!(
        r#"apiVersion: kubernetes.project-planton.org/v1
kind: LocustKubernetes
metadata: {{name: sandbox-test}}
spec:
  loadTest:
    name: sandbox-test
    host: http://127.0.0.1:{port}
    mainPyContent: |
{extra}      from locust import HttpUser, task, constant
      class U(HttpUser):
          wait_time = constant(0.1)
          @task
          def t(self):
              self.client.get("/ok")
{pip}"#
    )
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// `local` in `dir` on `spec_text` with `args`, the environment changed by `env` (`None`
/// removes a variable).
fn local(dir: &Path, spec_text: &str, args: &[&str], env: &[(&str, Option<&str>)]) -> Run {
    let out = local_cmd(dir, spec_text, args, env).output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

fn local_cmd(dir: &Path, spec_text: &str, args: &[&str], env: &[(&str, Option<&str>)]) -> Command {
    std::fs::write(dir.join("spec.yaml"), spec_text).unwrap();
    let mut cmd = Command::new(bin());
    cmd.current_dir(dir)
        .args(["local", "-f", "spec.yaml", "--workers", "1"])
        .args(args)
        .stdin(Stdio::null());
    for (k, v) in env {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd
}

const HEADLESS: &[&str] = &["--headless", "--users", "2", "--run-time", "2s"];

fn venv() -> PathBuf {
    venv_bin("python")
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf()
}

/// PATH and VIRTUAL_ENV as the venv's `activate` sets them.
fn activated(venv: &Path) -> (String, String) {
    let path = format!(
        "{}:{}",
        venv.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    (path, venv.display().to_string())
}

fn passed(r: &Run) {
    assert_eq!(r.code, 0, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    let result = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("[master] locust-planton-result "))
        .collect::<Vec<_>>();
    assert_eq!(result.len(), 1, "exactly one result line:\n{}", r.stdout);
    assert!(result[0].contains("\"exitCode\": 0"), "{}", result[0]);
}

#[cfg(feature = "tools")]
#[test]
fn an_activated_venv_runs_with_a_bare_python3() {
    let port = http_target();
    let dir = tempfile::tempdir().unwrap();
    let venv = venv();
    let (path, virtual_env) = activated(&venv);
    let r = local(
        dir.path(),
        &spec(port, "", ""),
        HEADLESS,
        &[
            ("PATH", Some(&path)),
            ("VIRTUAL_ENV", Some(&virtual_env)),
            ("LOCUST_PLANTON_PYTHON", None),
        ],
    );
    passed(&r);
    // The venv's own python3, not the interpreter its link points to.
    let expected = format!(
        "locust-planton: Locust 2.32.2 ({})",
        venv.join("bin/python3").display()
    );
    assert!(r.stderr.contains(&expected), "{}", r.stderr);
}

#[cfg(feature = "tools")]
#[test]
fn python_names_are_looked_up_on_the_host_path() {
    let port = http_target();
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = activated(&venv());
    let r = local(
        dir.path(),
        &spec(port, "", ""),
        &[&["--python", "python"], HEADLESS].concat(),
        &[("PATH", Some(&path))],
    );
    passed(&r);
    assert!(
        r.stderr
            .contains(&format!("({})", venv().join("bin/python").display())),
        "{}",
        r.stderr
    );
    let dir = tempfile::tempdir().unwrap();
    let r = local(
        dir.path(),
        &spec(port, "", ""),
        &[&["--python", "no-such-python3"], HEADLESS].concat(),
        &[("PATH", Some(&path))],
    );
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        "locust-planton: --python no-such-python3: not found on PATH; pass an absolute path (--python /path/to/venv/bin/python) or --install-locust\n"
    );
    assert_eq!(r.stdout, "");
    assert!(!dir.path().join("locust-results").exists());
}

/// The base interpreter of the test venv, hard-linked under `home` (a home directory of its
/// own), and a venv made from it that imports the test venv's Locust (a `.pth`).
fn base_python_under(home: &Path) -> PathBuf {
    let out = Command::new(venv_bin("python"))
        .args([
            "-c",
            "import sys, sysconfig; print(sys.base_prefix); print(sysconfig.get_path('purelib'))",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let (base, site) = (lines.next().unwrap(), lines.next().unwrap());
    let copy = home.join("py");
    let cp = Command::new("cp")
        .args(["-al", base])
        .arg(&copy)
        .status()
        .unwrap();
    assert!(
        cp.success(),
        "cp -al {base} (same file system as the test's target folder)"
    );
    let version = std::fs::read_dir(copy.join("bin"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("python3.") && !n.contains('-'))
        .min()
        .unwrap();
    let venv = home.join("venv");
    let made = Command::new(copy.join("bin").join(&version))
        .args(["-m", "venv", "--without-pip"])
        .arg(&venv)
        .status()
        .unwrap();
    assert!(made.success());
    let site_packages = std::fs::read_dir(venv.join("lib"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("site-packages");
    std::fs::write(site_packages.join("test-locust.pth"), format!("{site}\n")).unwrap();
    venv.join("bin/python")
}

fn chown_chmod(path: &Path, uid: u32, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::os::unix::fs::chown(path, Some(uid), None).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(feature = "tools")]
#[test]
fn a_venv_whose_base_python_lives_in_a_private_home_directory() {
    let port = http_target();
    // Not under /tmp (a pod volume there would hide it anyway): the target folder.
    let root = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let home = root.path().join("home/alice");
    std::fs::create_dir_all(&home).unwrap();
    let python = base_python_under(&home);
    let dir = tempfile::tempdir().unwrap();
    let args = [&["--python", python.to_str().unwrap()], HEADLESS].concat();

    // The invoking user's own 0700 home: its directories are bound, the run passes.
    // SAFETY: getuid has no preconditions.
    chown_chmod(&home, unsafe { libc::getuid() }, 0o700);
    passed(&local(dir.path(), &spec(port, "", ""), &args, &[]));

    // Another user's 0700 home: this user (root here) runs it, the pod's user cannot.
    chown_chmod(&home, 4242, 0o700);
    let r = local(dir.path(), &spec(port, "", ""), &args, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let first = format!(
        "locust-planton: {} runs here but not in the pods' sandbox (UID 1000, where only the pods' volumes and the Python's own directories are visible): ",
        python.display()
    );
    let last = "; pass --python with the absolute path of a Python the pods' user can read (a virtualenv outside a private home directory), or --install-locust to use a cached virtualenv\n";
    let refusal = r.stderr.lines().last().unwrap_or_default().to_string() + "\n";
    assert!(
        refusal.starts_with(&first) && refusal.ends_with(last),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("Starting Locust"), "{}", r.stderr);
    assert_eq!(r.stdout, "");
    chown_chmod(&home, unsafe { libc::getuid() }, 0o700);
}

/// Every escape a locustfile could try against the invoking user, each printing
/// `ESCAPE <name> blocked` or `ESCAPE <name> OPEN <what it got>`.
const HOSTILE: &str = r#"import os, socket, subprocess
def attempt(name, f):
    try:
        got = f()
        print("ESCAPE", name, "OPEN", repr(got)[:200], flush=True)
    except Exception as e:
        print("ESCAPE", name, "blocked", type(e).__name__, flush=True)
def connect(family, address):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(address)
    return address
def host_process():
    found = [p for p in os.listdir("/proc") if p.isdigit()
             and b"MARKER" in open("/proc/%s/cmdline" % p, "rb").read()]
    if not found:
        raise LookupError("no such process")
    return found
attempt("kube-config", lambda: open("HOME/.kube/config").read())
attempt("ssh-key", lambda: open("HOME/.ssh/id_rsa").read())
attempt("aws-credentials", lambda: open("HOME/.aws/credentials").read())
attempt("home-listing", lambda: os.listdir("HOME"))
attempt("run", lambda: os.listdir("/run"))
attempt("unix-socket", lambda: connect(socket.AF_UNIX, "HOME/agent.sock"))
attempt("abstract-socket", lambda: connect(socket.AF_UNIX, "\0ABSTRACT"))
attempt("host-loopback", lambda: connect(socket.AF_INET, ("127.0.0.1", OTHERPORT)))
attempt("host-proc", host_process)
attempt("signal-host", lambda: os.kill(MARKERPID, 0) or "signalled")
# Starts (in the pod); the test checks it does not outlive the run.
attempt("daemon", lambda: subprocess.Popen(["sleep", "DAEMON"], start_new_session=True,
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).pid)
"#;

#[cfg(feature = "tools")]
#[test]
fn a_hostile_locustfile_reaches_nothing_of_the_invoking_user() {
    let port = http_target();
    // The fake home outside /tmp (a pod volume would hide /tmp anyway).
    let root = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let home = root.path().join("home/me");
    for (file, text) in [
        (".kube/config", "apiVersion: v1\nkind: Config\n"),
        (".ssh/id_rsa", "-----BEGIN OPENSSH PRIVATE KEY-----\n"),
        (
            ".aws/credentials",
            "[default]\naws_access_key_id = AKIAFAKE\n",
        ),
    ] {
        let p = home.join(file);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    // A path socket and an abstract one, both listening here, and another loopback service.
    let path_socket = std::os::unix::net::UnixListener::bind(home.join("agent.sock")).unwrap();
    let nonce = std::process::id();
    let abstract_name = format!("locust-planton-test-{nonce}");
    let abstract_socket = {
        use std::os::linux::net::SocketAddrExt;
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(&abstract_name).unwrap();
        std::os::unix::net::UnixListener::bind_addr(&addr).unwrap()
    };
    let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let marker = format!("4242.{nonce}");
    let mut marker_proc = Command::new("sleep").arg(&marker).spawn().unwrap();
    let daemon = format!("4343.{nonce}");
    let script = HOSTILE
        .replace("HOME", home.to_str().unwrap())
        .replace("ABSTRACT", &abstract_name)
        .replace("OTHERPORT", &other.local_addr().unwrap().port().to_string())
        .replace("MARKERPID", &marker_proc.id().to_string())
        .replace("MARKER", &marker)
        .replace("DAEMON", &daemon);
    let dir = tempfile::tempdir_in(&home).unwrap();
    let r = local(
        dir.path(),
        &spec(port, &script, ""),
        &[
            &["--python", venv_bin("python").to_str().unwrap()],
            HEADLESS,
        ]
        .concat(),
        &[("HOME", Some(home.to_str().unwrap()))],
    );
    passed(&r);
    let escapes: Vec<&str> = r
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("[master] ESCAPE "))
        .collect();
    let names = [
        "kube-config",
        "ssh-key",
        "aws-credentials",
        "home-listing",
        "run",
        "unix-socket",
        "abstract-socket",
        "host-loopback",
        "host-proc",
        "signal-host",
        "daemon",
    ];
    for name in names {
        let line = escapes
            .iter()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} not tried:\n{}", r.stdout));
        // The daemon starts (inside the pod) and must not outlive it: checked below.
        if name != "daemon" {
            assert!(line.starts_with(&format!("{name} blocked")), "{line}");
        }
    }
    // Nothing connected to the listeners, the marker process still runs, no daemon is left.
    for l in [&path_socket as &dyn AsRawFdExt, &abstract_socket, &other] {
        assert!(!l.has_pending(), "a pod connected to a host socket");
    }
    assert!(marker_proc.try_wait().unwrap().is_none());
    assert!(
        !host_cmdlines().iter().any(|c| c.contains(&daemon)),
        "a daemon started by the locustfile outlived the run"
    );
    let _ = marker_proc.kill();
    let _ = marker_proc.wait();
}

/// Whether a listening socket has a connection waiting (non-blocking accept).
trait AsRawFdExt {
    fn has_pending(&self) -> bool;
}
impl<T: std::os::fd::AsRawFd> AsRawFdExt for T {
    fn has_pending(&self) -> bool {
        let mut fd = libc::pollfd {
            fd: self.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, no wait.
        unsafe { libc::poll(&mut fd, 1, 0) == 1 }
    }
}

fn host_cmdlines() -> Vec<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| std::fs::read(e.ok()?.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .collect()
}

// ---- stopping -------------------------------------------------------------------------------

/// `pid` and every process below it (by parent pid, from /proc).
fn tree(pid: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| {
            let e = e.ok()?;
            let p: u32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            let ppid = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            Some((p, ppid))
        })
        .collect();
    let mut all = vec![pid];
    let mut i = 0;
    while i < all.len() {
        let p = all[i];
        all.extend(parents.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    all
}

/// Which of `pids` still run (a zombie runs nothing; its new parent reaps it).
fn running(pids: &[u32]) -> Vec<u32> {
    pids.iter()
        .copied()
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/stat")).is_ok_and(|s| {
                s.rsplit_once(')')
                    .and_then(|(_, r)| r.split_whitespace().next())
                    .is_some_and(|state| state != "Z" && state != "X")
            })
        })
        .collect()
}

/// Reads the child's stderr until `needle` shows up; returns everything read.
fn wait_for(stderr: &mut impl Read, needle: &str) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains(needle) {
        let n = stderr.read(&mut buf).unwrap();
        assert!(
            n > 0,
            "ended before {needle:?}:\n{}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&seen).into()
}

#[derive(Clone, Copy, Debug)]
enum Stop {
    Signal(i32),
    CloseStdout,
}

/// Starts `cmd`, waits for `phase` on its stderr, stops it as `how`, and checks that every
/// process it had started has ended; returns its exit code (None when killed) and its stdout
/// and stderr.
fn stop_at(mut cmd: Command, phase: &str, how: Stop) -> (Option<i32>, String, String) {
    let mut child: Child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let mut err = wait_for(&mut stderr, phase);
    let mut stdout = child.stdout.take();
    // The phase's line comes just before its process starts.
    let deadline = Instant::now() + Duration::from_secs(30);
    while tree(child.id()).len() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let before = tree(child.id());
    assert!(before.len() > 1, "{phase}: nothing started yet");
    match how {
        Stop::Signal(s) => {
            // SAFETY: signalling our own child.
            unsafe { libc::kill(child.id() as i32, s) };
        }
        Stop::CloseStdout => drop(stdout.take()),
    }
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        if let Some(mut s) = stdout {
            let _ = s.read_to_string(&mut out);
        }
        out
    });
    let mut rest = String::new();
    let _ = stderr.read_to_string(&mut rest);
    err.push_str(&rest);
    let status = child.wait().unwrap();
    // After SIGKILL the kernel ends the rest (PR_SET_PDEATHSIG, the PID namespaces' inits)
    // a moment later: wait for it, bounded.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !running(&before[1..]).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        running(&before[1..]),
        Vec::<u32>::new(),
        "{phase} {how:?}: processes of the run left: {:?}\n{err}",
        running(&before[1..])
            .iter()
            .map(|p| {
                let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
                let cmd = std::fs::read(format!("/proc/{p}/cmdline"))
                    .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
                    .unwrap_or_default();
                format!(
                    "{} {}",
                    stat.rsplit_once(')')
                        .map_or("", |x| x.1)
                        .split_whitespace()
                        .take(2)
                        .collect::<Vec<_>>()
                        .join(" "),
                    &cmd[..cmd.len().min(60)]
                )
            })
            .collect::<Vec<_>>()
    );
    (status.code(), reader.join().unwrap(), err)
}

const SIGNALS: [(i32, i32); 3] = [
    (libc::SIGINT, 130),
    (libc::SIGTERM, 143),
    (libc::SIGHUP, 129),
];

/// A package index on 127.0.0.1 that accepts connections and never answers: pip waits there.
fn hanging_index() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().map_while(Result::ok) {
            held.push(s);
        }
    });
    port
}

fn stopped_line(signal: &str) -> String {
    format!("locust-planton: stopped by {signal}: every process of the run has ended\n")
}

#[cfg(feature = "tools")]
#[test]
fn a_signal_during_the_pip_step_ends_it_and_no_test_runs() {
    let port = http_target();
    let index = format!("http://127.0.0.1:{}/simple", hanging_index());
    let text = spec(port, "", "    pipPackages: [\"nothing-here==1.0\"]\n");
    let python = venv_bin("python");
    for (signal, code) in SIGNALS {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = local_cmd(
            dir.path(),
            &text,
            &[&["--python", python.to_str().unwrap()], HEADLESS].concat(),
            &[("PIP_INDEX_URL", Some(&index))],
        );
        cmd.env_remove("PIP_FIND_LINKS").env_remove("PIP_NO_INDEX");
        let (got, stdout, stderr) = stop_at(
            cmd,
            "init container pip-install starts",
            Stop::Signal(signal),
        );
        assert_eq!(got, Some(code), "{stderr}");
        assert!(!stderr.contains("Starting Locust"), "{stderr}");
        assert!(!stdout.contains("locust-planton-result"), "{stdout}");
        assert!(
            stderr.ends_with(&stopped_line(match signal {
                libc::SIGINT => "SIGINT",
                libc::SIGTERM => "SIGTERM",
                _ => "SIGHUP",
            })),
            "{stderr}"
        );
        // The cause is the last word; no empty results folder is left.
        assert!(!stderr.contains("left no summary.json"), "{stderr}");
        assert!(!dir.path().join("locust-results").exists());
    }
    // A closed stdout (pip prints where it looks first) and SIGKILL end it too.
    for how in [Stop::CloseStdout, Stop::Signal(libc::SIGKILL)] {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = local_cmd(
            dir.path(),
            &text,
            &[&["--python", python.to_str().unwrap()], HEADLESS].concat(),
            &[("PIP_INDEX_URL", Some(&index))],
        );
        cmd.env_remove("PIP_FIND_LINKS").env_remove("PIP_NO_INDEX");
        let (got, _, stderr) = stop_at(cmd, "init container pip-install starts", how);
        match how {
            Stop::CloseStdout => {
                assert_eq!(got, Some(141), "{stderr}");
                assert!(
                    stderr.ends_with(&stopped_line("SIGPIPE (stdout closed)")),
                    "{stderr}"
                );
            }
            _ => assert_eq!(got, None),
        }
    }
}

#[test]
fn a_signal_during_install_locust_ends_pip() {
    let index = format!("http://127.0.0.1:{}/simple", hanging_index());
    let port = http_target();
    for (signal, code) in [SIGNALS[0], SIGNALS[1], SIGNALS[2], (libc::SIGKILL, -1)] {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = local_cmd(
            dir.path(),
            &spec(port, "", "    locustVersion: \"2.37.0\"\n"),
            &[&["--install-locust"], HEADLESS].concat(),
            &[
                ("PIP_INDEX_URL", Some(&index)),
                (
                    "XDG_CACHE_HOME",
                    Some(dir.path().join("cache").to_str().unwrap()),
                ),
            ],
        );
        cmd.env_remove("PIP_FIND_LINKS").env_remove("PIP_NO_INDEX");
        let (got, _, stderr) = stop_at(cmd, "pip install locust==2.37.0", Stop::Signal(signal));
        if signal == libc::SIGKILL {
            assert_eq!(got, None);
        } else {
            assert_eq!(got, Some(code), "{stderr}");
            assert!(!stderr.contains("Starting Locust"), "{stderr}");
        }
    }
}

#[cfg(feature = "tools")]
#[test]
fn a_signal_during_a_headless_run_ends_every_process() {
    let port = http_target();
    let python = venv_bin("python");
    let long = ["--headless", "--users", "2", "--run-time", "5m"];
    for how in [
        Stop::Signal(libc::SIGINT),
        Stop::Signal(libc::SIGTERM),
        Stop::Signal(libc::SIGHUP),
        Stop::Signal(libc::SIGKILL),
        Stop::CloseStdout,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let cmd = local_cmd(
            dir.path(),
            &spec(port, "", ""),
            &[&["--python", python.to_str().unwrap()], &long[..]].concat(),
            &[],
        );
        let (got, stdout, stderr) = stop_at(cmd, "reported as ready", how);
        let expected = match how {
            Stop::Signal(libc::SIGKILL) => None,
            Stop::Signal(s) => Some(128 + s),
            Stop::CloseStdout => Some(141),
        };
        assert_eq!(got, expected, "{how:?}\n{stderr}");
        assert!(!stdout.contains("locust-planton-result"), "{stdout}");
        if expected.is_some() {
            assert!(!dir.path().join("locust-results").exists(), "{stderr}");
        }
    }
}

#[cfg(feature = "tools")]
#[test]
fn the_web_ui_stops_with_0_on_ctrl_c_and_128_plus_the_signal_otherwise() {
    let port = http_target();
    let python = venv_bin("python");
    for (how, expected) in [
        (Stop::Signal(libc::SIGINT), Some(0)),
        (Stop::Signal(libc::SIGTERM), Some(143)),
        (Stop::Signal(libc::SIGHUP), Some(129)),
        (Stop::Signal(libc::SIGKILL), None),
        (Stop::CloseStdout, Some(141)),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let cmd = local_cmd(
            dir.path(),
            &spec(port, "", ""),
            &["--python", python.to_str().unwrap()],
            &[],
        );
        let (got, _, stderr) = stop_at(cmd, "web UI on http://127.0.0.1:", how);
        assert_eq!(got, expected, "{how:?}\n{stderr}");
    }
}

#[cfg(feature = "tools")]
#[test]
fn the_web_ui_is_published_on_this_machines_loopback() {
    let port = http_target();
    let dir = tempfile::tempdir().unwrap();
    let cmd = local_cmd(
        dir.path(),
        &spec(port, "", ""),
        &["--python", venv_bin("python").to_str().unwrap()],
        &[],
    );
    let mut child = {
        let mut cmd = cmd;
        cmd.stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut stderr = child.stderr.take().unwrap();
    let seen = wait_for(&mut stderr, "— Ctrl-C stops every process");
    let url = seen
        .lines()
        .find_map(|l| l.strip_prefix("locust-planton: web UI on "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_string();
    let web_port: u16 = url
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let mut s = std::net::TcpStream::connect(("127.0.0.1", web_port)).unwrap();
    s.write_all(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    assert!(
        reply.starts_with("HTTP/1.0 200") || reply.starts_with("HTTP/1.1 200"),
        "{reply}"
    );
    assert!(reply.contains("Locust"), "{reply}");
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let _ = stderr.read_to_string(&mut String::new());
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

/// docs/local.md's first example as written (its run time shortened), against the target it
/// names: `examples/target.py` answers the example's GETs and POSTs, the pip step installs
/// faker from the package index through the run's network, every request passes.
#[cfg(feature = "tools")]
#[test]
fn the_docs_example_runs_as_written() {
    let port = free_port();
    let mut target = Command::new(venv_bin("python"))
        .arg(repo().join("examples/target.py"))
        .arg(port.to_string())
        .spawn()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(bin())
        .current_dir(repo())
        .args(["local", "-f", "examples/checkout.yaml"])
        .args(["--host", &format!("http://127.0.0.1:{port}")])
        .args([
            "--workers",
            "2",
            "--headless",
            "--users",
            "10",
            "--spawn-rate",
            "5",
        ])
        .args([
            "--run-time",
            "5s",
            "--python",
            venv_bin("python").to_str().unwrap(),
        ])
        .args(["--results-dir", dir.path().join("out").to_str().unwrap()])
        .env_remove("PIP_NO_INDEX")
        .output()
        .unwrap();
    let _ = target.kill();
    let _ = target.wait();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("[init pip-install] Successfully installed faker-19.0.0"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Sending spawn jobs of 10 users at 5.00 spawn rate to 2 ready workers"),
        "{stderr}"
    );
    let summary: serde_json::Value =
        serde_json::from_str(&read(dir.path().join("out/summary.json"))).unwrap();
    assert!(
        summary["totals"]["requests"].as_u64().unwrap() > 0,
        "{summary}"
    );
    assert_eq!(summary["totals"]["failures"], 0, "{summary}");
}

/// Without pasta, `--sandbox required` refuses before anything runs and `auto` says once that
/// the pods share this machine's network (and the run still passes, sandboxed otherwise).
#[cfg(feature = "tools")]
#[test]
fn without_pasta_auto_warns_once_and_required_refuses() {
    let port = http_target();
    let tools = tempfile::tempdir().unwrap();
    let bwrap = std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|d| d.join("bwrap"))
        .find(|p| p.is_file())
        .expect("bwrap on PATH (scripts/install-tools.sh installs it)");
    std::os::unix::fs::symlink(&bwrap, tools.path().join("bwrap")).unwrap();
    // The rest of a machine's PATH, without the directory pasta is in.
    for tool in ["true", "cat"] {
        let found = ["/usr/bin", "/bin"]
            .iter()
            .map(|d| Path::new(d).join(tool))
            .find(|p| p.is_file())
            .unwrap();
        std::os::unix::fs::symlink(found, tools.path().join(tool)).unwrap();
    }
    let path = tools.path().display().to_string();
    let python = venv_bin("python");
    let text = spec(port, "", "");
    let dir = tempfile::tempdir().unwrap();
    let r = local(
        dir.path(),
        &text,
        &[&["--python", python.to_str().unwrap()], HEADLESS].concat(),
        &[("PATH", Some(&path))],
    );
    passed(&r);
    let warning = "locust-planton: warning: pasta (package passt) is not installed (Linux: `apt-get install passt`, `dnf install passt`), so the pods cannot get a network of their own; the pods share this machine's network (its loopback services and abstract UNIX sockets are reachable from them). --sandbox=required refuses instead.\n";
    assert_eq!(r.stderr.matches(warning).count(), 1, "{}", r.stderr);
    let dir = tempfile::tempdir().unwrap();
    let r = local(
        dir.path(),
        &text,
        &[
            &[
                "--python",
                python.to_str().unwrap(),
                "--sandbox",
                "required",
            ],
            HEADLESS,
        ]
        .concat(),
        &[("PATH", Some(&path))],
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.ends_with("locust-planton: --sandbox=required: pasta (package passt) is not installed (Linux: `apt-get install passt`, `dnf install passt`), so the pods cannot get a network of their own\n"), "{}", r.stderr);
    assert!(!r.stderr.contains("Starting Locust"), "{}", r.stderr);
}
