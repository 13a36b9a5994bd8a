//! `local` with real Locust (from the test venv) against a tiny HTTP server on 127.0.0.1.
//! Load is bounded: a few users, a constant wait, a run time of seconds.

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
        while reader.read_line(&mut line).unwrap_or(0) > 2 {
            line.clear();
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
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("spec.yaml");
    std::fs::write(&f, spec_text).unwrap();
    let ports = (free_port(), free_port());
    let start = Instant::now();
    let out = Command::new(bin())
        .args(["local", "-f"])
        .arg(&f)
        .args([
            "--python",
            venv_bin("python").to_str().unwrap(),
            "--workers",
            "2",
            "--master-port",
            &ports.0.to_string(),
            "--web-port",
            &ports.1.to_string(),
        ])
        .args(extra)
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
        elapsed: start.elapsed(),
        ports,
    }
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

#[test]
fn headless_run_with_lib_and_pip_package_passes_against_good_paths() {
    let port = target();
    let csv = tempfile::tempdir().unwrap();
    let prefix = csv.path().join("run");
    let r = local(
        &spec(
            port,
            "/ok",
            "      import six  # from the pip init container's target\n",
            "    pipPackages: [\"six==1.16.0\"]\n",
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
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("[init pip-install] ") || r.stderr.contains("[init pip-install] "),
        "pip ran as the init container"
    );
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

#[test]
fn ctrl_c_stops_every_process() {
    let port = target();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("spec.yaml");
    std::fs::write(&f, spec(port, "/ok", "", "")).unwrap();
    let (mp, wp) = (free_port(), free_port());
    let mut child = Command::new(bin())
        .args(["local", "-f"])
        .arg(&f)
        .args([
            "--python",
            venv_bin("python").to_str().unwrap(),
            "--workers",
            "2",
            "--master-port",
            &mp.to_string(),
            "--web-port",
            &wp.to_string(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait for the web UI, then interrupt like a terminal would.
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", wp)).is_err() {
        assert!(Instant::now() < deadline, "web UI never came up");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        leftovers(mp).len() >= 3,
        "master and two workers run: {:?}",
        leftovers(mp)
    );
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(leftovers(mp).is_empty(), "{:?}", leftovers(mp));
}

#[test]
fn missing_locust_says_how_to_get_it() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("spec.yaml");
    std::fs::write(&f, spec(9, "/ok", "", "")).unwrap();
    let out = Command::new(bin())
        .args(["local", "-f"])
        .arg(&f)
        .args(["--python", "/bin/false"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/bin/false cannot import locust; install it (`/bin/false -m pip install locust==2.32.2`) or pass --install-locust"), "{stderr}");
}

/// `spec.loadTest.run`: the pods' own headless flags and the result wrapper, with real Locust.
#[test]
fn spec_headless_run_reports_through_the_wrapper() {
    let port = target();
    for (path, expected) in [("/ok", 0), ("/fail", 1)] {
        let text = spec(port, path, "", "").replace(
            "    mainPyContent: |",
            "    run: {users: 2, spawnRate: 2, runTime: 3s}\n    mainPyContent: |",
        );
        let r = local(&text, &[]);
        assert_eq!(r.code, expected, "{path}\n{}\n{}", r.stdout, r.stderr);
        assert!(
            r.stdout
                .contains("[master] locust-planton-result {\"exitCode\": "),
            "{}",
            r.stdout
        );
        assert!(leftovers(r.ports.0).is_empty());
    }
}
