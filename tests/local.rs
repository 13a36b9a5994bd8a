//! `local` with real Locust (from the test venv) against a tiny HTTP server on 127.0.0.1.
//! Load is bounded: a few users, a constant wait, a run time of seconds.
// Without `tools`, the helpers of the tool-driven tests below are unused.
#![cfg_attr(not(feature = "tools"), allow(dead_code, unused_imports))]

mod common;
use common::*;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

/// A keep-alive HTTP/1.1 server: `/fail…` answers 500, anything else 200. Lives as long as the
/// test process; serves loopback only.
fn target() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            std::thread::spawn(move || serve(stream));
        }
    });
    port
}

fn serve(stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut out = stream;
    loop {
        let mut request = String::new();
        if reader.read_line(&mut request).unwrap_or(0) == 0 {
            return;
        }
        let mut line = String::new();
        let mut body = 0usize;
        while reader.read_line(&mut line).unwrap_or(0) > 2 {
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                body = v.trim().parse().unwrap_or(0);
            }
            line.clear();
        }
        // POST bodies (the examples' checkout) are read, not mistaken for the next request.
        let mut skip = vec![0u8; body];
        if std::io::Read::read_exact(&mut reader, &mut skip).is_err() {
            return;
        }
        let path = request.split_whitespace().nth(1).unwrap_or("/");
        let status = if path.starts_with("/fail") {
            "500 Internal Server Error"
        } else {
            "200 OK"
        };
        if out
            .write_all(
                format!(
                    "HTTP/1.1 {status}\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"
                )
                .as_bytes(),
            )
            .is_err()
        {
            return;
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spec(port: u16, path: &str, script_extra: &str, pip: &str) -> String {
    format!(
        r#"apiVersion: kubernetes.project-planton.org/v1
kind: LocustKubernetes
metadata: {{name: local-test}}
spec:
  workerContainer: {{replicas: 2}}
  loadTest:
    name: local-test
    host: http://127.0.0.1:{port}
    mainPyContent: |
      from locust import HttpUser, task, constant
      from lib.paths import target_path
{script_extra}
      class U(HttpUser):
          wait_time = constant(0.1)
          @task
          def t(self):
              self.client.get(target_path("{path}"))
    libFilesContent:
      paths.py: |
        def target_path(p):
            return p
{pip}"#
    )
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    elapsed: Duration,
    ports: (u16, u16),
}

fn local(spec_text: &str, extra: &[&str]) -> Run {
    local_with(spec_text, extra, true, &[])
}

/// `local` on a spec with two workers; `explicit_ports` passes free ports, otherwise the
/// defaults (5557, 8089, moved when taken) are used and `Run::ports` is (0, 0).
fn local_with(spec_text: &str, extra: &[&str], explicit_ports: bool, env: &[(&str, &str)]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("spec.yaml");
    std::fs::write(&f, spec_text).unwrap();
    let (mut cmd, ports) = local_command(&f, extra, explicit_ports);
    cmd.envs(env.iter().copied());
    let start = Instant::now();
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
        elapsed: start.elapsed(),
        ports,
    }
}

fn local_command(
    spec: &std::path::Path,
    extra: &[&str],
    explicit_ports: bool,
) -> (Command, (u16, u16)) {
    let mut cmd = Command::new(bin());
    // Headless runs leave a results folder in the current directory: the test's own.
    cmd.current_dir(spec.parent().unwrap());
    cmd.args(["local", "-f"]).arg(spec).args([
        "--python",
        venv_bin("python").to_str().unwrap(),
        "--workers",
        "2",
    ]);
    let ports = if explicit_ports {
        let ports = (free_port(), free_port());
        cmd.args([
            "--master-port",
            &ports.0.to_string(),
            "--web-port",
            &ports.1.to_string(),
        ]);
        ports
    } else {
        (0, 0)
    };
    cmd.args(extra);
    (cmd, ports)
}

/// Processes whose command line mentions this run's master port: none may survive.
fn leftovers(master_port: u16) -> Vec<String> {
    let needle = format!("{master_port}");
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| std::fs::read(e.ok()?.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| {
            c.contains("locust")
                && c.contains(&needle)
                && (c.contains("--master-port") || c.contains("--master-bind-port"))
        })
        .collect()
}

fn request_count(csv_prefix: &std::path::Path) -> u64 {
    let stats = read(format!("{}_stats.csv", csv_prefix.display()));
    let agg = stats.lines().find(|l| l.contains(",Aggregated,")).unwrap();
    agg.split(',').nth(2).unwrap().parse().unwrap()
}

#[cfg(feature = "tools")]
#[test]
fn headless_run_with_lib_and_pip_package_passes_against_good_paths() {
    let port = target();
    let csv = tempfile::tempdir().unwrap();
    let prefix = csv.path().join("run");
    let wheels = local_wheel();
    let r = local_with(
        &spec(
            port,
            "/ok",
            "      import lpcheck  # from the pip init container's target\n",
            "    pipPackages: [\"lpcheck==1.0\"]\n",
        ),
        &[
            "--headless",
            "--users",
            "4",
            "--spawn-rate",
            "4",
            "--run-time",
            "5s",
            "--",
            "--csv",
            prefix.to_str().unwrap(),
        ],
        true,
        &[
            ("PIP_NO_INDEX", "1"),
            ("PIP_FIND_LINKS", wheels.path().to_str().unwrap()),
        ],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("[init pip-install] ") || r.stderr.contains("[init pip-install] "),
        "pip ran as the init container"
    );
    assert!(r.stdout.contains("[master] LPCHECK from "), "{}", r.stdout);
    assert!(
        r.stderr.contains("[worker-1] ") && r.stderr.contains("[worker-2] "),
        "two workers ran"
    );
    let n = request_count(&prefix);
    assert!(n > 0 && n < 10_000, "requests: {n}");
    assert!(
        leftovers(r.ports.0).is_empty(),
        "{:?}",
        leftovers(r.ports.0)
    );
}

#[cfg(feature = "tools")]
#[test]
fn headless_run_exits_1_when_requests_fail() {
    let port = target();
    let csv = tempfile::tempdir().unwrap();
    let prefix = csv.path().join("run");
    let r = local(
        &spec(port, "/fail", "", ""),
        &[
            "--headless",
            "--users",
            "2",
            "--run-time",
            "4s",
            "--",
            "--csv",
            prefix.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(request_count(&prefix) > 0);
    assert!(leftovers(r.ports.0).is_empty());
}

#[cfg(feature = "tools")]
#[test]
fn a_script_syntax_error_fails_fast_and_leaves_nothing_behind() {
    let port = target();
    let r = local(
        &spec(port, "/ok", "      def broken(:\n", ""),
        &["--headless", "--users", "1", "--run-time", "60s"],
    );
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("SyntaxError"), "{}", r.stderr);
    assert!(
        r.elapsed < Duration::from_secs(40),
        "should fail fast, took {:?}",
        r.elapsed
    );
    assert!(
        leftovers(r.ports.0).is_empty(),
        "{:?}",
        leftovers(r.ports.0)
    );
}

// Stopping (Ctrl-C, SIGTERM, SIGHUP, SIGKILL, a closed stdout) at every phase:
// tests/local_sandbox.rs, on the process tree.

#[cfg(feature = "tools")]
#[test]
fn missing_locust_says_how_to_get_it() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("spec.yaml");
    std::fs::write(&f, spec(9, "/ok", "", "")).unwrap();
    // A Python without Locust: a venv of the test venv's Python, without its packages.
    let bare = dir.path().join("bare");
    let made = Command::new(venv_bin("python"))
        .args(["-m", "venv", "--without-pip"])
        .arg(&bare)
        .status()
        .unwrap();
    assert!(made.success());
    let python = bare.join("bin/python");
    let out = Command::new(bin())
        .current_dir(f.parent().unwrap())
        .args(["local", "-f"])
        .arg(&f)
        .arg("--python")
        .arg(&python)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let p = python.display();
    assert!(stderr.ends_with(&format!("locust-planton: {p} cannot import locust; install it (`{p} -m pip install locust==2.32.2`) or pass --install-locust to use a cached virtualenv\n")), "{stderr}");
    // Not a Python at all.
    let out = Command::new(bin())
        .current_dir(f.parent().unwrap())
        .args(["local", "-f"])
        .arg(&f)
        .args(["--python", "/bin/false"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "locust-planton: /bin/false does not run as a Python here: (no output)\n"
    );
}

/// `spec.loadTest.run`: the pods' own headless flags and the result wrapper, with real Locust.
#[cfg(feature = "tools")]
#[test]
fn spec_headless_run_reports_through_the_wrapper() {
    let port = target();
    for (path, expected, verdict) in [("/ok", 0, "passed"), ("/fail", 1, "failed")] {
        let text = spec(port, path, "", "").replace(
            "    mainPyContent: |",
            "    run: {users: 2, spawnRate: 2, runTime: 3s}\n    mainPyContent: |",
        );
        let r = local(&text, &[]);
        assert_eq!(r.code, expected, "{path}\n{}\n{}", r.stdout, r.stderr);
        assert!(
            r.stdout.contains(&format!(
                "[master] locust-planton-result {{\"verdict\": \"{verdict}\", \"exitCode\": {expected}, "
            )),
            "{}",
            r.stdout
        );
        assert!(leftovers(r.ports.0).is_empty());
    }
}

// ---- The sandbox (bubblewrap): these tests fail when bwrap is missing (`--sandbox required`);
// scripts/install-tools.sh installs it.

/// A locustfile that reports what its process sees: UID/GID, whether `/` and the pod's `/tmp`
/// take a write, its effective capabilities, no_new_privs, and where the script lives.
const PROBE: &str = r#"      import os
      def _probe():
          def writes(path):
              try:
                  with open(path, "w") as f:
                      f.write("x")
                  os.remove(path)
                  return "yes"
              except OSError as e:
                  return "EROFS" if e.errno == 30 else f"errno{e.errno}"
          status = dict(l.split(":", 1) for l in open("/proc/self/status"))
          print("PROBE uid=%d gid=%d root=%s tmp=%s capeff=%s nnp=%s file=%s" % (
              os.getuid(), os.getgid(), writes("/lp-probe-%d" % os.getpid()),
              writes("/tmp/lp-probe"), status["CapEff"].strip(), status["NoNewPrivs"].strip(),
              __file__), flush=True)
      _probe()
"#;

fn probe_line(out: &str, role: &str) -> String {
    out.lines()
        .find(|l| l.starts_with(&format!("[{role}] PROBE ")))
        .unwrap_or_else(|| panic!("no probe line from {role}:\n{out}"))
        .split_once("PROBE ")
        .unwrap()
        .1
        .to_string()
}

fn headless(seconds: &str) -> Vec<&str> {
    vec![
        "--headless",
        "--users",
        "2",
        "--spawn-rate",
        "2",
        "--run-time",
        seconds,
    ]
}

#[cfg(feature = "tools")]
#[test]
fn the_sandbox_runs_the_pods_as_the_cluster_would() {
    let port = target();
    let text = spec(port, "/ok", PROBE, "");
    let mut args = headless("3s");
    args.extend(["--sandbox", "required"]);
    let r = local(&text, &args);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    for role in ["master", "worker-1", "worker-2"] {
        assert_eq!(
            probe_line(&r.stdout, role),
            "uid=1000 gid=1000 root=EROFS tmp=yes capeff=0000000000000000 nnp=1 file=/mnt/locust/main.py",
            "{role}"
        );
    }
    assert!(
        r.stderr.contains("pods sandboxed (bubblewrap)"),
        "{}",
        r.stderr
    );

    // The same run unsandboxed: the invoking user, the re-rooted script, the host's root.
    let mut args = headless("2s");
    args.push("--no-sandbox");
    let r = local(&text, &args);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let line = probe_line(&r.stdout, "master");
    // SAFETY: plain getters.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    assert!(line.starts_with(&format!("uid={uid} gid={gid} ")), "{line}");
    assert!(!line.contains("file=/mnt/locust/main.py"), "{line}");
    if uid == 0 {
        assert!(
            line.contains("root=yes") && !line.contains("capeff=0000000000000000"),
            "{line}"
        );
    }
}

#[cfg(feature = "tools")]
#[test]
fn a_write_outside_the_pod_volumes_fails_naming_path_and_setting() {
    let port = target();
    let text = spec(
        port,
        "/ok",
        "      open(\"/results.txt\", \"w\").write(\"x\")\n",
        "",
    );
    let mut args = headless("3s");
    args.extend(["--sandbox", "required"]);
    let r = local(&text, &args);
    assert_ne!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("locust-planton: master cannot write /results.txt: the pod's root file system is read-only (securityContext.readOnlyRootFilesystem: true); in the cluster it fails the same way. Writable here: /tmp, /home/locust"),
        "{}",
        r.stderr
    );
    assert_eq!(
        r.stderr.matches("cannot write /results.txt").count(),
        1,
        "said once"
    );
    assert!(leftovers(r.ports.0).is_empty());
    // The script's ConfigMap volume is read-only too, and named as such.
    let text = spec(
        port,
        "/ok",
        "      open(\"/mnt/locust/out.txt\", \"w\").write(\"x\")\n",
        "",
    );
    let r = local(&text, &args);
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains("cannot write /mnt/locust/out.txt: it is on the ConfigMap volume mounted at /mnt/locust (ConfigMap volumes are read-only)"),
        "{}",
        r.stderr
    );
}

/// A wheel `lpcheck-1.0` in a fresh directory outside /tmp (the pods' /tmp is their own), so
/// pip installs it offline (`PIP_NO_INDEX`, `PIP_FIND_LINKS`).
fn local_wheel() -> tempfile::TempDir {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    add_wheel(
        dir.path(),
        "lpcheck",
        "1.0",
        "print('LPCHECK from ' + __file__, flush=True)\n",
    );
    dir
}

/// Writes a pure-Python wheel `<name>-<version>` whose package `<name>` is `init_py`.
fn add_wheel(dir: &std::path::Path, name: &str, version: &str, init_py: &str) {
    let script = r#"
import base64, hashlib, sys, zipfile
folder, name, version, init_py = sys.argv[1:]
info = f"{name}-{version}.dist-info"
files = {
    f"{name}/__init__.py": init_py,
    f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
    f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
record = []
with zipfile.ZipFile(f"{folder}/{name}-{version}-py3-none-any.whl", "w") as z:
    for path, text in files.items():
        data = text.encode()
        z.writestr(path, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    z.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
"#;
    let st = Command::new(venv_bin("python"))
        .args(["-c", script])
        .arg(dir)
        .args([name, version, init_py])
        .status()
        .unwrap();
    assert!(st.success());
}

/// An example with a lib file and the local wheel added (or swapped for its package), both
/// imported by its locustfile, and a short, small headless `run` when it has one.
fn example_with_lib_and_pip(text: &str) -> String {
    let snake = text.contains("load_test:");
    let key = |camel: &str, snake_name: &str| {
        if snake {
            snake_name.to_string()
        } else {
            camel.to_string()
        }
    };
    let mut out = String::new();
    let lib_key = format!("    {}:\n", key("libFilesContent", "lib_files_content"));
    let pip_key = format!("    {}:\n", key("pipPackages", "pip_packages"));
    let main_key = format!("    {}: |\n", key("mainPyContent", "main_py_content"));
    let has_lib = text.contains(&lib_key);
    let has_pip = text.contains(&pip_key);
    let mut in_pip = false;
    let mut in_otel = false;
    for line in text.lines() {
        // `openTelemetry` needs its packages from the index: tests/metrics_otel.rs runs it.
        if line == "    openTelemetry:" {
            in_otel = true;
            continue;
        }
        if in_otel {
            if line.starts_with("      ") {
                continue;
            }
            in_otel = false;
        }
        if in_pip {
            if line.starts_with("      - ") {
                continue;
            }
            in_pip = false;
        }
        let line = line
            .replace("runTime: 10m", "runTime: 4s")
            .replace("users: 300", "users: 2")
            .replace("spawnRate: 30", "spawnRate: 2")
            // Two users cannot reach a cluster's rate; the thresholds are judged all the same.
            .replace("minRps: 100", "minRps: 0.1")
            .replace("replicas: 3", "replicas: 1")
            .replace("replicas: 4", "replicas: 2");
        out.push_str(&line);
        out.push('\n');
        if format!("{line}\n") == main_key {
            out.push_str("      import lpcheck, lib.lpcheck_lib\n");
        }
        if format!("{line}\n") == lib_key {
            out.push_str("      lpcheck_lib.py: \"print('LPLIB from ' + __file__, flush=True)\"\n");
        }
        if format!("{line}\n") == pip_key {
            out.push_str("      - lpcheck==1.0\n");
            in_pip = true;
        }
        if line.starts_with("    name: ") && !has_lib {
            out.push_str(&lib_key);
            out.push_str("      lpcheck_lib.py: \"print('LPLIB from ' + __file__, flush=True)\"\n");
        }
        if line.starts_with("    name: ") && !has_pip {
            out.push_str(&pip_key);
            out.push_str("      - lpcheck==1.0\n");
        }
    }
    out
}

#[cfg(feature = "tools")]
#[test]
fn every_example_runs_headless_in_the_sandbox_with_lib_and_pip() {
    let port = target();
    let wheels = local_wheel();
    let host = format!("http://127.0.0.1:{port}");
    let mut examples: Vec<_> = std::fs::read_dir(repo().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    examples.sort();
    assert!(examples.len() >= 4, "{examples:?}");
    for example in examples {
        let text = example_with_lib_and_pip(&read(&example));
        let has_run = text.contains("\n    run:\n");
        let mut args = vec!["--host", &host, "--sandbox", "required"];
        if !has_run {
            args.extend(headless("3s"));
        } else if text.contains("\n  metrics:\n") {
            // A run with metrics serves its final statistics 30 s after it ends: 1 s here.
            args.extend(["--", "--autoquit", "1"]);
        }
        let r = local_with(
            &text,
            &args,
            true,
            &[
                ("PIP_NO_INDEX", "1"),
                ("PIP_FIND_LINKS", wheels.path().to_str().unwrap()),
            ],
        );
        let name = example.display();
        assert_eq!(r.code, 0, "{name}\n{text}\n{}\n{}", r.stdout, r.stderr);
        let all = format!("{}{}", r.stdout, r.stderr);
        assert!(
            all.contains("[init pip-install] Successfully installed lpcheck-1.0"),
            "{name}: {all}"
        );
        assert!(
            all.contains("[master] LPCHECK from /opt/locust-pip/lpcheck/__init__.py")
                && all.contains("[worker-1] LPCHECK from /opt/locust-pip/lpcheck/__init__.py"),
            "{name}: the pip package at the pod's path in master and workers: {all}"
        );
        assert!(
            all.contains("[master] LPLIB from /mnt/locust/lib/lpcheck_lib.py"),
            "{name}: {all}"
        );
        assert!(all.contains("pods sandboxed (bubblewrap)"), "{name}");
        // pip wrote to the pod's /opt/locust-pip inside its sandbox, never to this machine's.
        assert!(!std::path::Path::new("/opt/locust-pip").exists(), "{name}");
        assert!(leftovers(r.ports.0).is_empty(), "{name}");
    }
}

fn master_port_of(stderr: &str) -> u16 {
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("locust-planton: master listens for workers on 127.0.0.1:"))
        .unwrap_or_else(|| panic!("no master port line:\n{stderr}"))
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[cfg(feature = "tools")]
#[test]
fn two_runs_at_once_on_default_ports_both_pass() {
    let port = target();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("spec.yaml");
    std::fs::write(&f, spec(port, "/ok", "", "")).unwrap();
    let children: Vec<_> = (0..2)
        .map(|_| {
            let (mut cmd, _) = local_command(&f, &headless("4s"), false);
            cmd.stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let mut ports = Vec::new();
    for o in &outs {
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}\n{stderr}",
            String::from_utf8_lossy(&o.stdout)
        );
        ports.push(master_port_of(&stderr));
    }
    // Each run has its own network: both masters hold 5557 there, each with its own workers.
    assert_eq!(ports, [5557, 5557]);
    for o in &outs {
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(
            stderr.contains("locust-planton: master listens for workers on 127.0.0.1:5557 (in the run's own network)"),
            "{stderr}"
        );
        assert!(!stderr.contains("is in use; trying"), "{stderr}");
        assert!(stderr.contains("2 workers connected"), "{stderr}");
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert_eq!(
            stdout.matches("locust-planton-result").count(),
            1,
            "{stdout}"
        );
    }
}

#[cfg(feature = "tools")]
#[test]
fn a_taken_default_web_port_moves_and_a_chosen_one_fails() {
    let port = target();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("spec.yaml");
    std::fs::write(&f, spec(port, "/ok", "", "")).unwrap();
    // Hold the default web port (when someone else already does, it is taken all the same).
    let _held = TcpListener::bind("127.0.0.1:8089");
    let (mut cmd, _) = local_command(&f, &[], false);
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let mut ui = None;
    for line in stderr.lines().map_while(Result::ok) {
        seen.push_str(&line);
        seen.push('\n');
        if let Some(rest) = line.strip_prefix("locust-planton: web UI on http://127.0.0.1:") {
            ui = rest.split('/').next().map(|p| p.parse::<u16>().unwrap());
            break;
        }
    }
    let ui = ui.unwrap_or_else(|| panic!("no web UI line:\n{seen}"));
    assert!(ui > 8089, "{seen}");
    assert!(
        seen.contains("port 8089 is in use; trying 8090 for the web UI"),
        "{seen}"
    );
    // The UI answers on the port it printed.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", ui)) {
            s.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
            let mut first = String::new();
            BufReader::new(s).read_line(&mut first).unwrap();
            if first.contains("200") {
                break;
            }
        }
        assert!(Instant::now() < deadline, "web UI never answered on {ui}");
        std::thread::sleep(Duration::from_millis(200));
    }
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    assert_eq!(child.wait().unwrap().code(), Some(0));

    // A port the user chose is never moved.
    let held = TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = held.local_addr().unwrap().port().to_string();
    let out = Command::new(bin())
        .current_dir(f.parent().unwrap())
        .args(["local", "-f"])
        .arg(&f)
        .args(["--python", venv_bin("python").to_str().unwrap()])
        .args(["--workers", "1", "--web-port", &taken])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.ends_with(&format!("locust-planton: --web-port {taken}: the port is in use by another process; choose a free one, or leave --web-port out to use the first free port from its default\n")),
        "{stderr}"
    );
    // The master's worker port is in the run's own network: one taken here does not matter.
    let out = Command::new(bin())
        .current_dir(f.parent().unwrap())
        .args(["local", "-f"])
        .arg(&f)
        .args(["--python", venv_bin("python").to_str().unwrap()])
        .args(["--workers", "1", "--master-port", &taken])
        .args(headless("2s"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !stderr.contains("[worker-1]"),
        "no worker started: {stderr}"
    );
}

/// `--install-locust` installs the spec's Locust (from PyPI, cached per version under
/// `$XDG_CACHE_HOME`, kept in the target directory so reruns reuse it) and runs it; the test
/// venv's 2.32.2 is named as differing.
#[cfg(feature = "tools")]
#[test]
fn install_locust_runs_the_version_the_spec_asks_for() {
    let port = target();
    let cache = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("xdg-cache");
    let text = spec(port, "/ok", "", "").replace(
        "    mainPyContent: |",
        "    locustVersion: \"2.37.0\"\n    mainPyContent: |",
    );
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("spec.yaml");
    std::fs::write(&f, &text).unwrap();
    let out = Command::new(bin())
        .current_dir(f.parent().unwrap())
        .args(["local", "-f"])
        .arg(&f)
        .args([
            "--install-locust",
            "--workers",
            "2",
            "--sandbox",
            "required",
        ])
        .args(headless("3s"))
        .env("XDG_CACHE_HOME", &cache)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let venv = cache.join("locust-planton/venv-locust-2.37.0");
    assert!(
        stderr.contains(&format!(
            "locust-planton: Locust 2.37.0 ({}/bin/python)",
            venv.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("[master] ") && l.contains("Starting Locust 2.37.0")),
        "{stderr}"
    );
    let version = Command::new(venv.join("bin/locust"))
        .arg("--version")
        .output()
        .unwrap();
    let version = String::from_utf8_lossy(&version.stdout);
    assert!(version.starts_with("locust 2.37.0 "), "{version}");

    // The test venv has 2.32.2: the run goes on, with the difference named.
    let r = local(&text, &headless("2s"));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "locust-planton: warning: {} has Locust 2.32.2, but the pods run Locust 2.37.0 (image locustio/locust:2.37.0); results may differ — --install-locust runs 2.37.0",
            venv_bin("python").display()
        )),
        "{}",
        r.stderr
    );
}

#[cfg(feature = "tools")]
#[test]
fn a_custom_image_says_its_locust_is_unknown() {
    let port = target();
    let text = format!(
        "{}  helmValues: {{master.image: \"registry.example.com/team/locust:custom\"}}\n",
        spec(port, "/ok", "", "")
    );
    let r = local(&text, &headless("2s"));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "locust-planton: warning: the pods run image `registry.example.com/team/locust:custom`, whose Locust version cannot be known (not locustio/locust with a release tag, or pinned by digest); local runs {}'s Locust",
            venv_bin("python").display()
        )),
        "{}",
        r.stderr
    );
}

/// Without bwrap on PATH: `auto` warns once and runs unsandboxed (the invoking user, re-rooted
/// paths); `required` refuses before starting anything.
#[cfg(feature = "tools")]
#[test]
fn without_bubblewrap_auto_warns_once_and_required_refuses() {
    let port = target();
    let empty = tempfile::tempdir().unwrap();
    let text = spec(port, "/ok", PROBE, "");
    let r = local_with(
        &text,
        &headless("2s"),
        true,
        &[("PATH", empty.path().to_str().unwrap())],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let warning = "locust-planton: warning: bubblewrap (`bwrap`) is not installed (Linux: `apt-get install bubblewrap`, `dnf install bubblewrap`); the pods run unsandboxed (as you, with a writable root and your capabilities). --sandbox=required refuses instead; --no-sandbox silences this.";
    assert_eq!(r.stderr.matches(warning).count(), 1, "{}", r.stderr);
    // SAFETY: a plain getter.
    let uid = unsafe { libc::geteuid() };
    assert!(
        probe_line(&r.stdout, "master").starts_with(&format!("uid={uid} ")),
        "{}",
        r.stdout
    );

    let mut args = headless("2s");
    args.extend(["--sandbox", "required"]);
    let r = local_with(
        &text,
        &args,
        true,
        &[("PATH", empty.path().to_str().unwrap())],
    );
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("--sandbox=required: bubblewrap (`bwrap`) is not installed"),
        "{}",
        r.stderr
    );
    assert!(!r.stdout.contains("PROBE"), "nothing ran: {}", r.stdout);
}

/// The sandbox takes the UID from the rendered pod, not a constant: a `helmValues` override of
/// the container's `runAsUser` is what the processes see.
#[cfg(feature = "tools")]
#[test]
fn the_sandbox_follows_the_pods_run_as_user() {
    let port = target();
    let text = format!(
        "{}  helmValues: {{securityContext.runAsUser: \"2000\"}}\n",
        spec(port, "/ok", PROBE, "")
    );
    let mut args = headless("2s");
    args.extend(["--sandbox", "required"]);
    let r = local(&text, &args);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        probe_line(&r.stdout, "worker-1").starts_with("uid=2000 gid=1000 root=EROFS tmp=yes "),
        "{}",
        r.stdout
    );
}

/// `local` of a headless spec with its results in `dir/results` (or the default folder when
/// `results_dir` is false), explicit free ports; (exit code, stderr, results folder).
fn results_run(
    dir: &std::path::Path,
    spec_text: &str,
    extra: &[&str],
    results_dir: bool,
) -> (i32, String, std::path::PathBuf) {
    let f = dir.join("spec.yaml");
    std::fs::write(&f, spec_text).unwrap();
    let (mut cmd, _) = local_command(&f, extra, true);
    cmd.current_dir(dir);
    let results = dir.join("results");
    if results_dir {
        cmd.arg("--results-dir").arg(&results);
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let folder = stderr
        .lines()
        .find_map(|l| l.strip_prefix("locust-planton: results in "))
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| panic!("no results folder printed:\n{stderr}"));
    (out.status.code().unwrap_or(-1), stderr, folder)
}

fn json_file(p: std::path::PathBuf) -> serde_json::Value {
    serde_json::from_str(&read(p)).unwrap()
}

/// The Aggregated row of Locust's stats CSV: header → value.
fn aggregated_row(dir: &std::path::Path) -> std::collections::HashMap<String, String> {
    let text = read(dir.join("locust_stats.csv"));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row = lines.find(|l| l.starts_with(",Aggregated,")).unwrap();
    header
        .iter()
        .map(|h| h.to_string())
        .zip(row.split(',').map(str::to_string))
        .collect()
}

/// Checks the folder holds every result file and that they agree with each other: summary.json
/// is the stats CSV's Aggregated row, the HTML report is Locust's (its charts' data and the
/// same request count), junit.xml parses and has one failure per missed threshold. Returns
/// (summary, parsed junit test cases as (name, failure message), the load generator's left out).
fn check_results(dir: &std::path::Path) -> (serde_json::Value, Vec<(String, Option<String>)>) {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "junit.xml",
            "locust_exceptions.csv",
            "locust_failures.csv",
            "locust_stats.csv",
            "locust_stats_history.csv",
            "report.html",
            "summary.json"
        ]
    );
    let summary = json_file(dir.join("summary.json"));
    let row = aggregated_row(dir);
    let n = |k: &str| row[k].parse::<f64>().unwrap();
    let t = &summary["totals"];
    assert_eq!(t["requests"].as_f64().unwrap(), n("Request Count"));
    assert_eq!(t["failures"].as_f64().unwrap(), n("Failure Count"));
    assert_eq!(t["rps"].as_f64().unwrap(), n("Requests/s"));
    assert_eq!(
        t["avgResponseTimeMs"].as_f64().unwrap(),
        n("Average Response Time")
    );
    assert_eq!(summary["percentiles"]["95"].as_f64().unwrap(), n("95%"));
    assert!(n("Request Count") > 0.0);
    // The history CSV (written every few seconds) counts up to at most the final totals.
    let history = read(dir.join("locust_stats_history.csv"));
    let header: Vec<&str> = history.lines().next().unwrap().split(',').collect();
    let col = header
        .iter()
        .position(|h| *h == "Total Request Count")
        .unwrap();
    let counts: Vec<f64> = history
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(col).unwrap().parse().unwrap())
        .collect();
    assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");
    assert!(*counts.last().unwrap() <= n("Request Count"));
    // Locust's HTML report: its data (charts' history, request statistics) in templateArgs.
    let html = read(dir.join("report.html"));
    assert!(html.contains("echarts"), "the chart library is embedded");
    let args = html
        .lines()
        .find_map(|l| l.trim().strip_prefix("window.templateArgs = "))
        .expect("Locust's report data");
    let args: serde_json::Value = serde_json::from_str(args).unwrap();
    assert_eq!(args["is_report"], true);
    // Locust samples the history every 5 s while the test runs: runs here last 7 s.
    assert!(
        !args["history"].as_array().unwrap().is_empty(),
        "the charts have points"
    );
    let total: f64 = args["requests_statistics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["name"] != "Aggregated")
        .map(|r| r["num_requests"].as_f64().unwrap())
        .sum();
    assert_eq!(
        total,
        n("Request Count"),
        "the report counts the same requests"
    );
    // JUnit: valid XML, one test case per threshold (or "no request failed").
    let xml = read(dir.join("junit.xml"));
    let doc = roxmltree::Document::parse(&xml).expect("junit.xml is XML");
    let suites = doc.root_element();
    assert_eq!(suites.tag_name().name(), "testsuites");
    let cases: Vec<(String, Option<String>)> = suites
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .map(|c| {
            let failure = c
                .children()
                .find(|n| n.has_tag_name("failure"))
                .map(|f| f.attribute("message").unwrap().to_string());
            (c.attribute("name").unwrap().to_string(), failure)
        })
        .collect();
    let failed = cases.iter().filter(|(_, f)| f.is_some()).count();
    assert_eq!(suites.attribute("tests").unwrap(), cases.len().to_string());
    assert_eq!(suites.attribute("failures").unwrap(), failed.to_string());
    // The last case is the load generator's health (tests/results.rs makes it fail).
    let (name, failure) = cases.last().unwrap();
    assert_eq!(name, "load generator");
    assert!(failure.is_none(), "{failure:?}");
    assert_eq!(summary["generator"]["valid"], true);
    let cases = cases[..cases.len() - 1].to_vec();
    let thresholds = summary["thresholds"].as_array().unwrap();
    if !thresholds.is_empty() {
        assert_eq!(cases.len(), thresholds.len());
        for (t, (name, failure)) in thresholds.iter().zip(&cases) {
            assert_eq!(t["name"], name.as_str());
            assert_eq!(t["passed"] == true, failure.is_none(), "{name}");
            if let Some(m) = failure {
                assert_eq!(t["text"], m.as_str());
            }
        }
    }
    (summary, cases)
}

#[cfg(feature = "tools")]
#[test]
fn thresholds_met_pass_and_leave_every_result() {
    let port = http_target();
    let dir = tempfile::tempdir().unwrap();
    let (code, stderr, folder) = results_run(
        dir.path(),
        &results_spec(
            "met",
            port,
            false,
            "7s",
            r#"{maxFailRatio: 0, max_avg_response_time_ms: 5000, maxPercentileResponseTimeMs: {"95": 5000, "99.9": 10000}, minRps: 1}"#,
        ),
        &[],
        true,
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(folder, dir.path().join("results"));
    let (summary, cases) = check_results(&folder);
    assert_eq!(summary["exitCode"], 0);
    assert_eq!(summary["name"], "met");
    assert_eq!(
        cases.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        [
            "maxFailRatio",
            "maxAvgResponseTimeMs",
            "maxPercentileResponseTimeMs[95]",
            "maxPercentileResponseTimeMs[99.9]",
            "minRps"
        ]
    );
    assert!(cases.iter().all(|(_, f)| f.is_none()));
    // The summary table on stderr.
    assert!(
        stderr.contains("locust-planton: results of met:\nrequests ")
            && stderr.contains("PASS maxFailRatio: 0 <= 0\n")
            && stderr.contains("\nPASSED: exit code 0 (Locust's 0)\n"),
        "{stderr}"
    );
}

#[cfg(feature = "tools")]
#[test]
fn a_missed_threshold_fails_the_run_and_is_named() {
    let port = http_target();
    let dir = tempfile::tempdir().unwrap();
    let (code, stderr, folder) = results_run(
        dir.path(),
        &results_spec(
            "missed",
            port,
            true,
            "7s",
            "{maxFailRatio: 0.5, minRps: 100000}",
        ),
        &[],
        true,
    );
    assert_eq!(code, 1, "{stderr}");
    let (summary, cases) = check_results(&folder);
    // Failures below maxFailRatio are tolerated; minRps is missed.
    assert_eq!(cases[0], ("maxFailRatio".to_string(), None));
    let rps = summary["totals"]["rps"].as_f64().unwrap();
    let (name, message) = &cases[1];
    let message = message.as_deref().expect("minRps failed");
    assert_eq!(name, "minRps");
    // Named with its measured value: `minRps: 31.5 < 100000`.
    let shown: f64 = message
        .strip_prefix("minRps: ")
        .and_then(|m| m.strip_suffix(" < 100000"))
        .unwrap_or_else(|| panic!("{message}"))
        .parse()
        .unwrap();
    assert!((shown - rps).abs() < 0.006, "{shown} vs {rps}");
    assert!(stderr.contains(&format!("FAIL {message}\n")), "{stderr}");
    assert!(summary["totals"]["failures"].as_u64().unwrap() > 0);
    assert_eq!(
        summary["locustExitCode"], 1,
        "Locust itself saw failed requests"
    );
}

#[cfg(feature = "tools")]
#[test]
fn a_command_line_headless_run_leaves_results_in_a_new_folder_here() {
    let port = http_target();
    let dir = tempfile::tempdir().unwrap();
    let spec = results_spec("adhoc", port, true, "3s", "").replace(
        "    run:\n      users: 3\n      spawnRate: 3\n      runTime: 3s\n",
        "",
    );
    assert!(!spec.contains("run:"));
    let (code, stderr, folder) = results_run(
        dir.path(),
        &spec,
        &["--headless", "--users", "2", "--run-time", "7s"],
        false,
    );
    assert_eq!(code, 1, "requests failed: {stderr}");
    let name = folder.file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(folder.parent().unwrap(), dir.path().join("locust-results"));
    assert!(name.starts_with("adhoc-2") && name.ends_with('Z'), "{name}");
    let (_, cases) = check_results(&folder);
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].0, "no request failed");
    assert!(
        cases[0]
            .1
            .as_ref()
            .unwrap()
            .contains("requests failed; Locust exited 1")
    );

    // A folder that is not empty is refused before anything runs.
    let (mut cmd, _) = local_command(&dir.path().join("spec.yaml"), &["--headless"], true);
    let out = cmd.arg("--results-dir").arg(&folder).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--results-dir ") && stderr.contains("not empty"),
        "{stderr}"
    );
    assert!(!stderr.contains("[master]"), "nothing ran: {stderr}");
}

// ---- pip constraints (docs/local.md "pip packages never replace what Locust runs with") and confinement (docs/local.md "Confinement").

/// The environment that makes pip install from `wheels` only.
fn offline(wheels: &std::path::Path) -> [(&'static str, &str); 2] {
    [
        ("PIP_NO_INDEX", "1"),
        ("PIP_FIND_LINKS", wheels.to_str().unwrap()),
    ]
}

/// `python`'s version of the installed distribution `name`.
fn installed_version(python: &std::path::Path, name: &str) -> String {
    let out = Command::new(python)
        .args([
            "-c",
            "import importlib.metadata, sys; print(importlib.metadata.version(sys.argv[1]))",
        ])
        .arg(name)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The bug this closes: `werkzeug==2.0.0` used to install into the pip target, which comes
/// first on PYTHONPATH, and Locust then crashed on its own `import flask`. Now the pip step
/// installs against the distributions of the Python that runs Locust as constraints: it fails,
/// with pip's message naming werkzeug, and Locust never starts. (The wheel installs fine
/// without the constraints: the failure is the constraint's.)
#[cfg(feature = "tools")]
#[test]
fn a_pip_package_replacing_a_locust_dependency_fails_at_install_naming_it() {
    let port = target();
    let wheels = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    add_wheel(wheels.path(), "werkzeug", "2.0.0", "");
    let unconstrained = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let st = Command::new(venv_bin("python"))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--target",
        ])
        .arg(unconstrained.path())
        .arg("werkzeug==2.0.0")
        .envs(offline(wheels.path()))
        .status()
        .unwrap();
    assert!(st.success(), "the wheel installs without constraints");

    let installed = installed_version(&venv_bin("python"), "werkzeug");
    assert_ne!(installed, "2.0.0");
    let text = spec(port, "/ok", "", "    pipPackages: [\"werkzeug==2.0.0\"]\n");
    let mut args = headless("3s");
    args.extend(["--sandbox", "required"]);
    let r = local_with(&text, &args, true, &offline(wheels.path()));
    let all = format!("{}{}", r.stdout, r.stderr);
    assert_eq!(r.code, 1, "{all}");
    assert!(
        all.contains("[init pip-install] ERROR: Cannot install werkzeug==2.0.0 because these package versions have conflicting dependencies."),
        "{all}"
    );
    assert!(
        all.contains(&format!(
            "[init pip-install]     The user requested (constraint) werkzeug=={installed}"
        )),
        "{all}"
    );
    assert!(
        r.stderr
            .contains("locust-planton: init container pip-install failed (exit 1)"),
        "{}",
        r.stderr
    );
    // `check`'s warning, shown by `local` too, named the package before anything ran.
    assert!(
        r.stderr.contains(": spec.loadTest.pipPackages[0]: warning: `werkzeug==2.0.0` names one of Locust's own dependencies (Locust 2.32.2 requires `Werkzeug (>=2.0.0)`)"),
        "{}",
        r.stderr
    );
    assert!(!all.contains("[master]"), "Locust never started: {all}");
}

/// A virtualenv standing in for an image that has `lpcheck 1.0` installed beside Locust (the
/// test venv's packages through a `.pth` file): (its python, its folder).
fn image_venv(wheels: &std::path::Path) -> (std::path::PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let venv = dir.path().join("venv");
    let st = Command::new(venv_bin("python"))
        .args(["-m", "venv", "--without-pip"])
        .arg(&venv)
        .status()
        .unwrap();
    assert!(st.success());
    let purelib = |python: &std::path::Path| {
        let out = Command::new(python)
            .args([
                "-c",
                "import sysconfig; print(sysconfig.get_paths()['purelib'])",
            ])
            .output()
            .unwrap();
        std::path::PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
    };
    let python = venv.join("bin/python");
    std::fs::write(
        purelib(&python).join("lp-test-venv.pth"),
        format!("{}\n", purelib(&venv_bin("python")).display()),
    )
    .unwrap();
    let st = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "lpcheck==1.0",
        ])
        .envs(offline(wheels))
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(installed_version(&python, "lpcheck"), "1.0");
    (python, dir)
}

/// `spec.loadTest.pipLiftPins`: the "image" has lpcheck 1.0; the spec asks for lpcheck 2.0. As
/// a constraint, 1.0 fails the pip step naming lpcheck; with its pin lifted (warned about by
/// `check` and `local`), pip installs 2.0 and master and workers import it from the pip target.
#[cfg(feature = "tools")]
#[test]
fn a_lifted_pin_lets_pip_upgrade_an_installed_distribution_and_warns() {
    let port = target();
    let wheels = local_wheel();
    add_wheel(
        wheels.path(),
        "lpcheck",
        "2.0",
        "print('LPCHECK 2.0 from ' + __file__, flush=True)\n",
    );
    let (python, _venv) = image_venv(wheels.path());
    let base = spec(
        port,
        "/ok",
        "      import lpcheck\n",
        "    pipPackages: [\"lpcheck==2.0\"]\n",
    );
    let mut args = headless("3s");
    args.extend(["--sandbox", "required"]);
    // `local` with the "image" venv's Python instead of the test venv's.
    let run = |text: &str| {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("spec.yaml");
        std::fs::write(&f, text).unwrap();
        let (mp, wp) = (free_port(), free_port());
        let out = Command::new(bin())
            .current_dir(dir.path())
            .args(["local", "-f"])
            .arg(&f)
            .arg("--python")
            .arg(&python)
            .args(["--workers", "2", "--master-port", &mp.to_string()])
            .args(["--web-port", &wp.to_string()])
            .args(&args)
            .envs(offline(wheels.path()))
            .output()
            .unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into(),
            stderr: String::from_utf8_lossy(&out.stderr).into(),
            elapsed: Duration::ZERO,
            ports: (mp, wp),
        }
    };

    let r = run(&base);
    let all = format!("{}{}", r.stdout, r.stderr);
    assert_eq!(r.code, 1, "{all}");
    assert!(
        all.contains("[init pip-install] ERROR: Cannot install lpcheck==2.0 because these package versions have conflicting dependencies.")
            && all.contains("[init pip-install]     The user requested (constraint) lpcheck==1.0"),
        "{all}"
    );

    let lifted = base.replace(
        "    pipPackages:",
        "    pipLiftPins: [lpcheck]\n    pipPackages:",
    );
    let warning = "spec.loadTest.pipLiftPins[0]: warning: the image's installed `lpcheck` no longer constrains the pip packages: pip may put another version ahead of the one Locust runs with, and Locust may fail to start or behave differently; lift a pin only for a deliberate upgrade (a security fix) and try it with `local` first";
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("spec.yaml");
    std::fs::write(&f, &lifted).unwrap();
    let out = Command::new(bin())
        .args(["check", "-f"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    // Named where the lifted name is written: `    pipLiftPins: [lpcheck]`.
    let line = lifted
        .lines()
        .position(|l| l.contains("pipLiftPins: [lpcheck]"))
        .unwrap()
        + 1;
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{}:{line}:19: {warning}\n", f.display())
    );
    let r = run(&lifted);
    let all = format!("{}{}", r.stdout, r.stderr);
    assert_eq!(r.code, 0, "{all}");
    assert!(r.stderr.contains(warning), "{}", r.stderr);
    assert!(
        all.contains("; not constrained (spec.loadTest.pipLiftPins): lpcheck")
            && all.contains("[init pip-install] Successfully installed lpcheck-2.0"),
        "{all}"
    );
    for role in ["master", "worker-1", "worker-2"] {
        assert!(
            all.contains(&format!(
                "[{role}] LPCHECK 2.0 from /opt/locust-pip/lpcheck/__init__.py"
            )),
            "{role}: {all}"
        );
    }
    assert!(leftovers(r.ports.0).is_empty());
}

/// The pod's pip init container is the image's Python running locust-planton's script: no shell
/// anywhere, each requirement its own argument, the lifted pins as `--lift`. The script, run as
/// the pod runs it, writes the Python's installed distributions (less the lifted ones) as
/// `name==version` constraints, the same on every run.
#[cfg(feature = "tools")]
#[test]
fn the_pip_init_container_is_python_without_a_shell() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("spec.yaml");
    let text = spec(
        9,
        "/ok",
        "",
        "    pipLiftPins: [Werkzeug]\n    pipPackages: [\"lpcheck==1.0\", \"faker==19.0.0\"]\n",
    );
    std::fs::write(&f, &text).unwrap();
    let out = Command::new(bin())
        .args(["values", "-f"])
        .arg(&f)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let values =
        locust_planton::yaml::parse_single(&String::from_utf8(out.stdout).unwrap()).unwrap();
    let strings = |n: &locust_planton::yaml::Node| -> Vec<String> {
        n.as_seq()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    let mut script = String::new();
    for role in ["master", "worker"] {
        let inits = values
            .get_path(&[role, "initContainers"])
            .and_then(|n| n.as_seq())
            .unwrap();
        assert_eq!(inits.len(), 1);
        let c = &inits[0];
        assert_eq!(
            c.get_path(&["name"]).and_then(|n| n.as_str()),
            Some("pip-install")
        );
        assert!(
            c.get_path(&["args"]).is_none(),
            "{role}: the command is whole"
        );
        let command = strings(c.get_path(&["command"]).unwrap());
        assert_eq!(command[..2], ["/opt/venv/bin/python", "-c"], "{role}");
        assert_eq!(
            command[3..],
            [
                "--target",
                "/opt/locust-pip",
                "--constraints",
                "/tmp/locust-planton-pip-constraints.txt",
                "--lift",
                "Werkzeug",
                "--",
                "lpcheck==1.0",
                "faker==19.0.0"
            ],
            "{role}"
        );
        for arg in &command {
            let base = arg.rsplit('/').next().unwrap();
            assert!(
                !matches!(base, "sh" | "bash" | "dash" | "ash"),
                "{role}: {arg}"
            );
        }
        script = command[2].clone();
        assert!(
            script.contains("importlib.metadata.distributions()")
                && script.contains("subprocess.call([sys.executable, \"-m\", \"pip\", \"install\"")
                && !script.contains("shell=True")
                && !script.contains("os.system")
                && !script.contains("os.popen"),
            "{script}"
        );
    }

    // Run it as the pod does (with the test venv's Python, offline): twice the same constraints,
    // the venv's own versions, werkzeug lifted.
    let wheels = local_wheel();
    let mut constraints = Vec::new();
    for _ in 0..2 {
        let work = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let file = work.path().join("constraints.txt");
        let out = Command::new(venv_bin("python"))
            .args(["-c", &script, "--target"])
            .arg(work.path().join("target"))
            .arg("--constraints")
            .arg(&file)
            .args(["--lift", "Werkzeug", "--", "lpcheck==1.0"])
            .envs(offline(wheels.path()))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains("Successfully installed lpcheck-1.0"),
            "{stdout}"
        );
        constraints.push(read(&file));
    }
    assert_eq!(constraints[0], constraints[1]);
    let lines: Vec<&str> = constraints[0].lines().collect();
    let names: Vec<&str> = lines
        .iter()
        .map(|l| l.split_once("==").unwrap().0)
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(names, sorted, "sorted by name, one line each");
    for name in ["locust", "flask", "gevent", "pyzmq"] {
        let line = format!("{name}=={}", installed_version(&venv_bin("python"), name));
        assert!(lines.contains(&line.as_str()), "{line} in {lines:?}");
    }
    assert!(
        !lines.iter().any(|l| l.starts_with("werkzeug")),
        "{lines:?}"
    );
}

/// A spec whose `helmValues` set `extra` (YAML lines under `helmValues:`).
fn spec_with_helm_values(port: u16, extra: &str) -> String {
    format!("{}  helmValues:\n{extra}", spec(port, "/ok", "", ""))
}

/// Pod paths with `..` would make `local` write outside its temporary folder: `check` warns at
/// the helmValues key (the cluster resolves them below `/`), `local` refuses them naming the
/// chart value and that key, sandboxed or not, before anything runs or is written.
#[cfg(feature = "tools")]
#[test]
fn pod_paths_climbing_out_are_refused_naming_the_field() {
    let port = target();
    let escape = format!("lp-escape-{}", std::process::id());
    let text = spec_with_helm_values(
        port,
        &format!(
            "    master.extraVolumeMounts: '[{{name: lp-tmp, mountPath: /tmp}}, {{name: lp-home, mountPath: \"/../../../{escape}\"}}]'\n    loadtest.locust_locustfile_path: /../../{escape}-script\n"
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("spec.yaml");
    std::fs::write(&f, &text).unwrap();
    let out = Command::new(bin())
        .args(["check", "-f"])
        .arg(&f)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains(&format!("spec.helmValues[\"master.extraVolumeMounts\"]: warning: `master.extraVolumeMounts[1].mountPath` is `/../../../{escape}`: a container resolves it to `/{escape}`, but `local` refuses a pod path with `..`")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("spec.helmValues[\"loadtest.locust_locustfile_path\"]: warning: `loadtest.locust_locustfile_path` is `/../../{escape}-script`")),
        "{stdout}"
    );
    for sandbox in [["--sandbox", "required"], ["--sandbox", "off"]] {
        let mut args = headless("2s");
        args.extend(sandbox);
        let r = local(&text, &args);
        assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
        assert!(
            r.stderr.contains(&format!("local refuses to run these pods:\nloadtest.locust_locustfile_path (set by spec.helmValues[\"loadtest.locust_locustfile_path\"]): `/../../{escape}-script` climbs out with `..`; local keeps every pod path inside its temporary folder and refuses it (a container resolves it to `/{escape}-script`: write that)\nmaster.extraVolumeMounts[1].mountPath (set by spec.helmValues[\"master.extraVolumeMounts\"]): `/../../../{escape}` climbs out with `..`")),
            "{}",
            r.stderr
        );
        assert!(
            !r.stderr.contains("pod files under"),
            "nothing written: {}",
            r.stderr
        );
        assert!(!r.stdout.contains("[master]") && !r.stderr.contains("[master]"));
        for p in [
            format!("/{escape}"),
            format!("/{escape}-script"),
            format!("/tmp/{escape}"),
        ] {
            assert!(!std::path::Path::new(&p).exists(), "{p}");
        }
    }
}

/// A spec whose helmValues set the master's command and add an init container.
fn spec_with_user_commands(port: u16) -> String {
    spec_with_helm_values(
        port,
        "    master.command: '[\"/bin/echo\", \"USER-CMD\"]'\n    master.initContainers: '[{name: setup, image: busybox, command: [/bin/echo, INIT-CMD]}]'\n",
    )
}

/// `local` runs only what locust-planton generated; a command the spec set is refused, named by
/// its chart value and the helmValues key, before anything runs.
#[cfg(feature = "tools")]
#[test]
fn a_command_the_spec_set_is_refused_naming_the_field() {
    let port = target();
    let mut args = headless("2s");
    args.extend(["--sandbox", "required"]);
    let r = local(&spec_with_user_commands(port), &args);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("local refuses to run these pods:\nmaster.initContainers[0] (set by spec.helmValues[\"master.initContainers\"]): `/bin/echo INIT-CMD` is not a command locust-planton generated\nmaster.command (set by spec.helmValues[\"master.command\"]): `/bin/echo USER-CMD --master` is not a command locust-planton generated\nlocal runs only the chart's Locust, the pip step and its own run wrapper; --allow-commands runs these too, printing each before it runs"),
        "{}",
        r.stderr
    );
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(
        !all.contains("INIT-CMD\n") && !all.contains("[init setup]") && !all.contains("[master]"),
        "{all}"
    );
    assert!(!r.stderr.contains("pod files under"), "{}", r.stderr);

    // Arguments count as much as commands: the worker's are the chart's plus locust-planton's.
    let text = spec_with_helm_values(
        port,
        "    worker.args: '[\"--locustfile\", \"/etc/hostname\"]'\n",
    );
    let r = local(&text, &args);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("worker.args (set by spec.helmValues[\"worker.args\"]): `/opt/venv/bin/locust --worker --locustfile /etc/hostname` is not a command locust-planton generated"),
        "{}",
        r.stderr
    );
}

/// `--allow-commands` runs what the spec set, printing each command (as it runs here) on stderr
/// before it runs: both streams go to one file, in order.
#[cfg(feature = "tools")]
#[test]
fn allow_commands_runs_them_and_prints_each_first() {
    let port = target();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("spec.yaml");
    std::fs::write(&f, spec_with_user_commands(port)).unwrap();
    let (mut cmd, (_, web)) =
        local_command(&f, &["--sandbox", "required", "--allow-commands"], true);
    let log = dir.path().join("out.log");
    let file = std::fs::File::create(&log).unwrap();
    // Web UI mode: the master (here `echo`) exits at once and the run ends with it.
    let status = cmd
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .status()
        .unwrap();
    let all = read(&log);
    assert_eq!(status.code(), Some(0), "{all}");
    let at = |needle: &str| {
        all.find(needle)
            .unwrap_or_else(|| panic!("`{needle}` not in:\n{all}"))
    };
    let printed_init = at(
        "locust-planton: --allow-commands: init setup runs master.initContainers[0] (set by spec.helmValues[\"master.initContainers\"]): /bin/echo INIT-CMD\n",
    );
    let ran_init = at("[init setup] INIT-CMD\n");
    let printed_master = at(
        "locust-planton: --allow-commands: master runs master.command (set by spec.helmValues[\"master.command\"]): /bin/echo USER-CMD --master --master-bind-host 127.0.0.1 --master-bind-port ",
    );
    let ran_master = at("[master] USER-CMD --master --master-bind-host 127.0.0.1");
    assert!(
        printed_init < ran_init && ran_init < printed_master && printed_master < ran_master,
        "{all}"
    );
    assert!(all.contains(&format!("--web-port {web}\n")), "{all}");
}

/// `check` warns (exit 0: the cluster takes it) about what `local` refuses, from the same list,
/// with `local`'s own line after `local would refuse: `.
#[test]
fn check_warns_what_local_would_refuse() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("spec.yaml");
    std::fs::write(
        &f,
        spec_with_helm_values(9, "    master.args: '[\"--foo\"]'\n"),
    )
    .unwrap();
    let check = Command::new(bin())
        .args(["check", "-f"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&check.stdout);
    let line = stdout
        .lines()
        .find(|l| l.contains("local would refuse:"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        line.ends_with(": spec.helmValues[\"master.args\"]: warning: local would refuse: master.args (set by spec.helmValues[\"master.args\"]): `/opt/venv/bin/locust --master --foo` is not a command locust-planton generated"),
        "{line}"
    );
    // `local` refuses with the same line, before anything runs.
    let local = Command::new(bin())
        .current_dir(dir.path())
        .args(["local", "-f"])
        .arg(&f)
        .arg("--headless")
        .output()
        .unwrap();
    assert_eq!(local.status.code(), Some(1));
    let refused = line.split("local would refuse: ").nth(1).unwrap();
    assert!(
        String::from_utf8_lossy(&local.stderr).contains(&format!("\n{refused}\n")),
        "{}",
        String::from_utf8_lossy(&local.stderr)
    );
}
