//! Shared bench helpers: run a command on an input file several times, report median wall time
//! and peak RSS (from wait4), so each row sits beside its baseline.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The optimised binary (`cargo bench` builds the crate in release mode first).
pub fn release_bin() -> PathBuf {
    let p = repo().join("target/release/locust-planton");
    assert!(p.exists(), "build it first: cargo build --release");
    p
}

pub fn tool(var: &str, rel: &str) -> PathBuf {
    std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools").join(rel))
}

pub struct Measure {
    pub median: Duration,
    pub max_rss_kb: i64,
}

/// Runs `cmd` with `stdin` from a file and stdout discarded, `runs` times.
pub fn measure(cmd: &[&str], stdin: Option<&Path>, runs: usize) -> Measure {
    let mut times = Vec::new();
    let mut rss = 0;
    for _ in 0..runs {
        let mut c = Command::new(cmd[0]);
        c.args(&cmd[1..])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c.stdin(match stdin {
            Some(p) => Stdio::from(std::fs::File::open(p).unwrap()),
            None => Stdio::null(),
        });
        let start = Instant::now();
        let child = c.spawn().unwrap();
        let (status, maxrss) = wait4(child.id() as i32);
        times.push(start.elapsed());
        assert!(status == 0, "{cmd:?} failed with status {status}");
        rss = rss.max(maxrss);
    }
    times.sort();
    Measure {
        median: times[times.len() / 2],
        max_rss_kb: rss,
    }
}

fn wait4(pid: i32) -> (i32, i64) {
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own child, not yet waited for; status and usage are valid out-pointers.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid);
    (libc::WEXITSTATUS(status), usage.ru_maxrss)
}

pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}
