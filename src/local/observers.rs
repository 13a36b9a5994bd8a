//! What the pods' output says, read line by line as it is printed: the master's headless result,
//! that it holds its worker port, that a port was taken (`Watch`); writes the sandbox's read-only
//! root refused (`Hints`); and where each line goes (`route`).

use super::pod::ContainerView;
use super::sandbox;
use super::signals::request_stop;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex};

/// One line of a pod's output on our stdout; a closed stdout stops the run (as SIGPIPE would).
pub(super) fn print_stdout(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
        request_stop(libc::SIGPIPE);
    }
}

/// Where a pod's output line goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Route {
    /// Our stdout, after the pod's label.
    Stdout,
    /// Our stderr, after the pod's label.
    Stderr,
    /// Not yet: the master's result line, printed once this start is known to be the run's.
    Held,
}

/// Where `line` goes: a line from the process's stdout to ours, unless it is the result line of
/// a watched master; a line from its stderr to ours.
pub(super) fn route(line: &str, from_stdout: bool, watched: bool) -> Route {
    match (
        from_stdout,
        watched && line.starts_with(crate::contract::RESULT_MARKER),
    ) {
        (false, _) => Route::Stderr,
        (true, true) => Route::Held,
        (true, false) => Route::Stdout,
    }
}

/// No result line seen yet.
pub(super) const NO_RESULT: i32 = i32::MIN;

/// What one line of the master's output says, given the ports it was started on (worker port,
/// web UI).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Said {
    /// The exit code of a result line (1 when it carries none).
    pub result: Option<i32>,
    /// Locust has bound its worker port.
    pub ready: bool,
    pub master_port_busy: bool,
    pub web_port_busy: bool,
}

/// Reads one line of the master's output.
pub(super) fn said(line: &str, (master_port, web_port): (u16, u16)) -> Said {
    let result = line
        .strip_prefix(crate::contract::RESULT_MARKER)
        .map(|json| {
            serde_json::from_str::<serde_json::Value>(json)
                .ok()
                .and_then(|v| v["exitCode"].as_i64())
                .unwrap_or(1) as i32
        });
    let busy = line.contains("Address already in use");
    Said {
        result,
        // Locust logs these after its worker socket is bound (web UI, headless).
        ready: line.contains("Starting web interface at")
            || line.contains("Waiting for workers to be ready"),
        // ZeroMQ names the address as `addr='tcp://127.0.0.1:5557'`.
        master_port_busy: busy && line.contains(&format!(":{master_port}'")),
        // The web server as `('127.0.0.1', 8089)`.
        web_port_busy: busy && line.contains(&format!(", {web_port})")),
    }
}

/// What the master's output has said: its headless result, that it holds its worker port, that
/// a port was taken.
pub(super) struct Watch {
    pub ports: (u16, u16),
    pub result: AtomicI32,
    /// The result line itself, printed only once this start is known to be the run's (a start
    /// that lost its port to another process prints none).
    pub result_line: Mutex<Option<String>>,
    pub ready: AtomicBool,
    pub master_port_busy: AtomicBool,
    pub web_port_busy: AtomicBool,
}

impl Watch {
    pub(super) fn new(ports: (u16, u16)) -> Self {
        Watch {
            ports,
            result: AtomicI32::new(NO_RESULT),
            result_line: Mutex::new(None),
            ready: AtomicBool::new(false),
            master_port_busy: AtomicBool::new(false),
            web_port_busy: AtomicBool::new(false),
        }
    }

    pub(super) fn observe(&self, line: &str) {
        let said = said(line, self.ports);
        if let Some(code) = said.result {
            *self
                .result_line
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(line.to_string());
            self.result.store(code, Ordering::SeqCst);
        }
        for (flag, set) in [
            (&self.ready, said.ready),
            (&self.master_port_busy, said.master_port_busy),
            (&self.web_port_busy, said.web_port_busy),
        ] {
            if set {
                flag.store(true, Ordering::SeqCst);
            }
        }
    }
}

/// Explains writes the pod's read-only file system refused, once per path for the whole run.
#[derive(Clone)]
pub(super) struct Hints {
    pub container: ContainerView,
    pub seen: Arc<Mutex<BTreeSet<String>>>,
}

impl Hints {
    pub(super) fn observe(&self, label: &str, line: &str) {
        if let Some(hint) = self.hint(label, line) {
            eprintln!("{hint}");
        }
    }

    /// The hint for a refused write `line` reports, the first time its path is seen.
    fn hint(&self, label: &str, line: &str) -> Option<String> {
        let path = sandbox::read_only_path(line)?;
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(path.to_string())
            .then(|| sandbox::read_only_hint(&self.container, label, path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local::pod::{Mount, Security, Source};

    /// Lines Locust 2.32.2 wrote, recorded from real runs on this machine: with 127.0.0.1:47557
    /// held by another process (the master's worker port, ZeroMQ's two lines), with
    /// 127.0.0.1:47089 held (the web UI's), and starting with both free (web UI, headless).
    const MASTER_PORT_TAKEN: &str =
        "zmq.error.ZMQError: Address already in use (addr='tcp://127.0.0.1:47557')";
    const MASTER_PORT_TAKEN_RPC: &str = "locust.exception.RPCError: Socket bind failure: Address already in use (addr='tcp://127.0.0.1:47557')";
    const WEB_PORT_TAKEN: &str = "OSError: [Errno 98] Address already in use: ('127.0.0.1', 47089)";
    const WEB_UI_STARTS: &str = "[2026-12-05 16:26:12,928] vm/INFO/locust.main: Starting web interface at http://127.0.0.1:47089";
    const HEADLESS_WAITS: &str =
        "[2026-12-05 16:26:18,708] vm/INFO/root: Waiting for workers to be ready, 0 of 1 connected";
    const STARTS: &str = "[2026-12-05 16:26:12,920] vm/INFO/locust.main: Starting Locust 2.32.2";

    /// The master output of a real headless `local` run (the recording in fixtures/kubectl).
    const RECORDED_RUN: &str =
        include_str!("../../fixtures/kubectl/thresholds-missed/logs-master.txt");

    #[test]
    fn each_line_says_what_it_says() {
        struct Case {
            line: &'static str,
            ports: (u16, u16),
            want: Said,
        }
        let busy_master = Said {
            master_port_busy: true,
            ..Said::default()
        };
        let cases = [
            Case {
                line: MASTER_PORT_TAKEN,
                ports: (47557, 47089),
                want: busy_master.clone(),
            },
            Case {
                line: MASTER_PORT_TAKEN_RPC,
                ports: (47557, 47089),
                want: busy_master,
            },
            // A port named by a line that is not about it being taken (not recorded: an
            // address error of another kind, in the shape Python prints it).
            Case {
                line: "OSError: [Errno 99] Cannot assign requested address: ('127.0.0.1', 47089)",
                ports: (47089, 47089),
                want: Said::default(),
            },
            Case {
                line: "zmq.error.ZMQError: Cannot assign requested address (addr='tcp://127.0.0.1:47557')",
                ports: (47557, 47089),
                want: Said::default(),
            },
            // Another run's port, not ours.
            Case {
                line: MASTER_PORT_TAKEN,
                ports: (5557, 47557),
                want: Said::default(),
            },
            Case {
                line: WEB_PORT_TAKEN,
                ports: (47557, 47089),
                want: Said {
                    web_port_busy: true,
                    ..Said::default()
                },
            },
            Case {
                line: WEB_PORT_TAKEN,
                ports: (47089, 8089),
                want: Said::default(),
            },
            Case {
                line: WEB_UI_STARTS,
                ports: (47557, 47089),
                want: Said {
                    ready: true,
                    ..Said::default()
                },
            },
            Case {
                line: HEADLESS_WAITS,
                ports: (47557, 47089),
                want: Said {
                    ready: true,
                    ..Said::default()
                },
            },
            Case {
                line: STARTS,
                ports: (47557, 47089),
                want: Said::default(),
            },
            Case {
                line: "locust-planton-result {\"exitCode\": 0}",
                ports: (5557, 8089),
                want: Said {
                    result: Some(0),
                    ..Said::default()
                },
            },
            Case {
                line: "locust-planton-result {\"exitCode\": 3, \"locustExitCode\": 0}",
                ports: (5557, 8089),
                want: Said {
                    result: Some(3),
                    ..Said::default()
                },
            },
            // A result line without a readable exit code is a failure.
            Case {
                line: "locust-planton-result {\"pod\": \"m\"}",
                ports: (5557, 8089),
                want: Said {
                    result: Some(1),
                    ..Said::default()
                },
            },
            Case {
                line: "locust-planton-result not json",
                ports: (5557, 8089),
                want: Said {
                    result: Some(1),
                    ..Said::default()
                },
            },
            // The marker only counts at the start of a line.
            Case {
                line: "[master] locust-planton-result {\"exitCode\": 0}",
                ports: (5557, 8089),
                want: Said::default(),
            },
        ];
        for c in cases {
            assert_eq!(said(c.line, c.ports), c.want, "{}", c.line);
        }
    }

    #[test]
    fn a_recorded_run_reads_as_ready_and_failed() {
        let watch = Watch::new((5557, 8089));
        for line in RECORDED_RUN.lines() {
            watch.observe(line);
        }
        assert!(watch.ready.load(Ordering::SeqCst));
        assert_eq!(watch.result.load(Ordering::SeqCst), 1);
        let held = watch.result_line.lock().unwrap().clone().unwrap();
        assert_eq!(Some(held.as_str()), RECORDED_RUN.lines().last());
        assert!(!watch.master_port_busy.load(Ordering::SeqCst));
        assert!(!watch.web_port_busy.load(Ordering::SeqCst));
    }

    #[test]
    fn a_start_that_lost_its_ports_says_so() {
        let watch = Watch::new((47557, 47089));
        for line in [STARTS, MASTER_PORT_TAKEN_RPC, WEB_PORT_TAKEN] {
            watch.observe(line);
        }
        assert!(watch.master_port_busy.load(Ordering::SeqCst));
        assert!(watch.web_port_busy.load(Ordering::SeqCst));
        assert!(!watch.ready.load(Ordering::SeqCst));
        assert_eq!(watch.result.load(Ordering::SeqCst), NO_RESULT);
        assert!(watch.result_line.lock().unwrap().is_none());
    }

    #[test]
    fn lines_are_routed_by_stream_and_marker() {
        struct Case {
            line: &'static str,
            from_stdout: bool,
            watched: bool,
            want: Route,
        }
        let result = "locust-planton-result {\"exitCode\": 0}";
        let cases = [
            Case {
                line: result,
                from_stdout: true,
                watched: true,
                want: Route::Held,
            },
            // A worker's (unwatched) output is printed as it comes.
            Case {
                line: result,
                from_stdout: true,
                watched: false,
                want: Route::Stdout,
            },
            Case {
                line: result,
                from_stdout: false,
                watched: true,
                want: Route::Stderr,
            },
            Case {
                line: STARTS,
                from_stdout: true,
                watched: true,
                want: Route::Stdout,
            },
            Case {
                line: STARTS,
                from_stdout: false,
                watched: false,
                want: Route::Stderr,
            },
        ];
        for c in cases {
            assert_eq!(
                route(c.line, c.from_stdout, c.watched),
                c.want,
                "{} stdout={} watched={}",
                c.line,
                c.from_stdout,
                c.watched
            );
        }
    }

    #[test]
    fn a_refused_write_is_explained_once_per_path() {
        let container = ContainerView {
            name: "locust".into(),
            command: Vec::new(),
            args: Vec::new(),
            env: Vec::new(),
            mounts: vec![
                Mount {
                    path: "/mnt/locust".into(),
                    source: Source::ConfigMap(Vec::new()),
                    field: "loadtest.locust_locustfile_path".into(),
                },
                Mount {
                    path: "/home/locust".into(),
                    source: Source::EmptyDir,
                    field: "master.extraVolumeMounts[0].mountPath".into(),
                },
            ],
            security: Security {
                run_as_user: 1000,
                run_as_group: 1000,
                read_only_root: true,
                add_caps: Vec::new(),
            },
            foreign: Vec::new(),
        };
        let hints = Hints {
            container,
            seen: Arc::default(),
        };
        let refused = |path: &str| format!("OSError: [Errno 30] Read-only file system: '{path}'");
        let first = hints
            .hint("master", &refused("/mnt/locust/out.csv"))
            .unwrap();
        assert!(
            first.contains("master cannot write /mnt/locust/out.csv"),
            "{first}"
        );
        assert!(
            first.contains("ConfigMap volume mounted at /mnt/locust"),
            "{first}"
        );
        assert!(first.ends_with("Writable here: /home/locust"), "{first}");
        // The same path again, from any pod: already explained.
        assert_eq!(
            hints.hint("worker-1", &refused("/mnt/locust/out.csv")),
            None
        );
        let root = hints.hint("worker-1", &refused("/tmp/x")).unwrap();
        assert!(root.contains("root file system is read-only"), "{root}");
        assert_eq!(hints.hint("master", STARTS), None);
    }
}
