//! Shared bench helpers: run commands on an input file several times, interleaved (one run of
//! each command in turn, so a load change on the machine hits every row alike), and report each
//! command's median wall time and peak RSS (from wait4), so each row sits beside its baselines.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The optimised binary (`cargo bench` builds the crate in release mode first), or the one
/// `LP_BENCH_BIN` names (to measure an earlier build beside the same baselines).
pub fn release_bin() -> PathBuf {
    let p = std::env::var_os("LP_BENCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/release/locust-planton"));
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
    /// Median CPU time (user + system, from wait4): what the run cost, whatever else the
    /// machine was doing (wall time on a shared machine also counts waiting for a core).
    pub cpu_median: Duration,
    pub max_rss_kb: i64,
    /// The command was killed at the time limit; `median` is that limit.
    pub timed_out: bool,
}

/// Runs `cmd` with `stdin` from a file and stdout discarded, `runs` times.
pub fn measure(cmd: &[&str], stdin: Option<&Path>, runs: usize) -> Measure {
    measure_limited(cmd, stdin, runs, None)
}

/// Runs every command `runs` times, interleaved: run 1 of each command, then run 2 of each, …
/// Returns one [`Measure`] per command, in order.
pub fn measure_interleaved(cmds: &[Vec<String>], stdin: &Path, runs: usize) -> Vec<Measure> {
    let mut times: Vec<Vec<Duration>> = vec![Vec::with_capacity(runs); cmds.len()];
    let mut cpu: Vec<Vec<Duration>> = vec![Vec::with_capacity(runs); cmds.len()];
    let mut rss = vec![0; cmds.len()];
    for _ in 0..runs {
        for (i, cmd) in cmds.iter().enumerate() {
            let argv: Vec<&str> = cmd.iter().map(String::as_str).collect();
            let run = run_once(&argv, Some(stdin), None);
            times[i].push(run.wall);
            cpu[i].push(run.cpu);
            rss[i] = rss[i].max(run.max_rss_kb);
        }
    }
    times
        .into_iter()
        .zip(cpu)
        .zip(rss)
        .map(|((t, c), max_rss_kb)| Measure {
            median: median(t),
            cpu_median: median(c),
            max_rss_kb,
            timed_out: false,
        })
        .collect()
}

/// Like [`measure`], killing a run that takes longer than `limit`.
pub fn measure_limited(
    cmd: &[&str],
    stdin: Option<&Path>,
    runs: usize,
    limit: Option<Duration>,
) -> Measure {
    let mut times = Vec::new();
    let mut cpu = Vec::new();
    let mut rss = 0;
    for _ in 0..runs {
        let run = run_once(cmd, stdin, limit);
        if run.timed_out {
            return Measure {
                median: limit.unwrap(),
                cpu_median: run.cpu,
                max_rss_kb: run.max_rss_kb,
                timed_out: true,
            };
        }
        times.push(run.wall);
        cpu.push(run.cpu);
        rss = rss.max(run.max_rss_kb);
    }
    Measure {
        median: median(times),
        cpu_median: median(cpu),
        max_rss_kb: rss,
        timed_out: false,
    }
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

/// One run of a command.
struct Run {
    wall: Duration,
    /// User + system time.
    cpu: Duration,
    max_rss_kb: i64,
    /// Killed at the time limit.
    timed_out: bool,
}

/// One run, killed at `limit`. A run that fails (other than by the limit) fails the benchmark.
fn run_once(cmd: &[&str], stdin: Option<&Path>, limit: Option<Duration>) -> Run {
    let mut c = Command::new(cmd[0]);
    c.args(&cmd[1..])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c.stdin(match stdin {
        Some(p) => Stdio::from(std::fs::File::open(p).unwrap()),
        None => Stdio::null(),
    });
    let start = Instant::now();
    // Reaped by wait4 below, which also reports the peak RSS.
    #[allow(clippy::zombie_processes)]
    let child = c.spawn().unwrap();
    let pid = child.id() as i32;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    if let Some(l) = limit {
        let done = done.clone();
        std::thread::spawn(move || {
            std::thread::sleep(l);
            if !done.load(std::sync::atomic::Ordering::SeqCst) {
                // SAFETY: signalling our own child, which has not been reaped yet.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        });
    }
    let (status, usage) = wait4(pid);
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let wall = start.elapsed();
    let timed_out = limit.is_some_and(|l| wall >= l);
    assert!(
        timed_out || status == 0,
        "{cmd:?} failed with status {status}"
    );
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Run {
        wall,
        cpu: time(usage.ru_utime) + time(usage.ru_stime),
        max_rss_kb: usage.ru_maxrss,
        timed_out,
    }
}

fn wait4(pid: i32) -> (i32, libc::rusage) {
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own child, not yet waited for; status and usage are valid out-pointers.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid);
    (libc::WEXITSTATUS(status), usage)
}

pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// The load average over the last minute, for the report (other builds share the machine).
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}
