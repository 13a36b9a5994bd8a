//! `locust-planton init NAME`: the starter manifest passes `check` and the schema, runs with
//! `local --headless` and real Locust against a loopback HTTP server this test starts, and is
//! never written over an existing file.
// Without `tools`, the helpers of the tool-driven tests below are unused.
#![cfg_attr(not(feature = "tools"), allow(dead_code, unused_imports))]

mod common;
use assert_cmd::Command;
use common::*;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A keep-alive HTTP/1.1 server on 127.0.0.1 answering 200 to everything; counts requests for
/// `/`, the path the starter's script requests. Lives as long as the test process.
fn target(hits: Arc<AtomicUsize>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let hits = hits.clone();
            std::thread::spawn(move || serve(stream, &hits));
        }
    });
    port
}

fn serve(stream: TcpStream, hits: &AtomicUsize) {
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
        if request.split_whitespace().nth(1) == Some("/") {
            hits.fetch_add(1, Ordering::SeqCst);
        }
        let reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok";
        if out.write_all(reply.as_bytes()).is_err() {
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

fn init(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(bin())
        .arg("init")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn entries(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn starter_passes_check_without_warnings_and_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let out = init(dir.path(), &["checkout-load"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(entries(dir.path()), ["checkout-load.yaml"]);
    let text = read(dir.path().join("checkout-load.yaml"));
    assert!(text.starts_with("# yaml-language-server: $schema=locust-kubernetes.schema.json\n"));
    assert!(text.contains("\nmetadata:\n  name: checkout-load\n"));
    let check = Command::new(bin())
        .args(["check", "-f", "checkout-load.yaml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(check.status.success());
    assert_eq!(
        String::from_utf8_lossy(&check.stdout),
        "",
        "no findings, not even warnings"
    );
    let schema: serde_json::Value =
        serde_json::from_str(&read(repo().join("schema/locust-kubernetes.schema.json"))).unwrap();
    let instance = locust_planton::yaml::parse_single(&text).unwrap().to_json();
    assert!(jsonschema::is_valid(&schema, &instance));
    // And it deploys: the values render.
    let values = Command::new(bin())
        .args(["values", "-f", "checkout-load.yaml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(values.status.success());
    assert_eq!(String::from_utf8_lossy(&values.stderr), "");
}

#[cfg(feature = "tools")]
#[test]
fn starter_runs_headless_with_real_locust() {
    let hits = Arc::new(AtomicUsize::new(0));
    let port = target(hits.clone());
    let dir = tempfile::tempdir().unwrap();
    assert!(
        init(dir.path(), &["smoke", "--output-file", "m.yaml"])
            .status
            .success()
    );
    let csv = dir.path().join("run");
    let out = std::process::Command::new(bin())
        .args(["local", "-f", "m.yaml", "--python"])
        .arg(venv_bin("python"))
        .args(["--host", &format!("http://127.0.0.1:{port}")])
        .args(["--workers", "1", "--master-port", &free_port().to_string()])
        .args(["--web-port", &free_port().to_string()])
        .args([
            "--headless",
            "--users",
            "2",
            "--spawn-rate",
            "2",
            "--run-time",
            "4s",
            "--",
            "--csv",
        ])
        .arg(&csv)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let stats = read(format!("{}_stats.csv", csv.display()));
    let aggregated = stats.lines().find(|l| l.contains(",Aggregated,")).unwrap();
    let requests: u64 = aggregated.split(',').nth(2).unwrap().parse().unwrap();
    let failures: u64 = aggregated.split(',').nth(3).unwrap().parse().unwrap();
    assert!(requests > 0, "{stats}");
    assert_eq!(failures, 0, "{stats}");
    assert!(
        hits.load(Ordering::SeqCst) as u64 >= requests,
        "the server saw the script's requests for / (through lib.pages)"
    );
}

#[test]
fn never_overwrites_and_writes_nothing_on_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mine.yaml"), "keep me\n").unwrap();
    let out = init(dir.path(), &["mine"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("mine.yaml: already exists; nothing written"),
        "{err}"
    );
    assert_eq!(read(dir.path().join("mine.yaml")), "keep me\n");
    assert_eq!(entries(dir.path()), ["mine.yaml"], "no temporary file left");
    for bad in ["Mine", "a_b", &"x".repeat(48)] {
        let out = init(dir.path(), &[bad]);
        assert_eq!(out.status.code(), Some(1), "{bad}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("NAME: "));
    }
    let out = init(dir.path(), &["ok", "--output-file", "no/such/dir/ok.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/dir/ok.yaml"));
    assert_eq!(entries(dir.path()), ["mine.yaml"]);
}

#[test]
fn output_file_dash_is_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let out = init(dir.path(), &["piped", "--output-file", "-"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("  name: piped\n"));
    assert!(text.contains("locust-planton check -f piped.yaml"));
    assert!(entries(dir.path()).is_empty());
    assert!(locust_planton::spec::read(&text).is_ok());
}
