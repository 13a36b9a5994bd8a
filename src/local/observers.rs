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
            *self.result_line.lock().unwrap() = Some(line.to_string());
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
            .unwrap()
            .insert(path.to_string())
            .then(|| sandbox::read_only_hint(&self.container, label, path))
    }
}
