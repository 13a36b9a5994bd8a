//! What can stop a local run, as the user reads it: `LocalError`, and how a run stopped by a
//! signal is named and exits.

#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error(
        "{python} cannot import locust; install it (`{python} -m pip install locust=={version}`) or pass --install-locust to use a cached virtualenv"
    )]
    NoLocust { python: String, version: String },
    /// The Python cannot be used: not found, not a Python.
    #[error("{0}")]
    Python(String),
    #[error(
        "{python} runs here but not in the pods' sandbox (UID {uid}, where only the pods' volumes and the Python's own directories are visible): {detail}; pass --python with the absolute path of a Python the pods' user can read (a virtualenv outside a private home directory), or --install-locust to use a cached virtualenv"
    )]
    PodCannotRun {
        python: String,
        uid: i64,
        detail: String,
    },
    /// A signal (or a closed stdout, SIGPIPE) stopped the run; every process of it has ended.
    #[error("stopped by {}: every process of the run has ended", signal_name(*.0))]
    Stopped(i32),
    #[error("init container {name} failed (exit {code})")]
    InitFailed { name: String, code: i32 },
    #[error("--sandbox=required: {0}")]
    NoSandbox(String),
    #[error(
        "{flag} {port}: the port is in use by another process; choose a free one, or leave {flag} out to use the first free port from its default"
    )]
    PortInUse { flag: &'static str, port: u16 },
    #[error("no free port found from {from} for {what}")]
    NoFreePort { what: &'static str, from: u16 },
    /// A file, folder or process `local` needed failed; `what` names it.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Other(String),
    /// Everything in the pods `local` will not run, one line each.
    #[error("local refuses to run these pods:\n{}", .0.join("\n"))]
    Refused(Vec<String>),
}

/// An I/O failure on `what`, keeping the error as its source.
pub(super) fn io_at(what: impl std::fmt::Display) -> impl FnOnce(std::io::Error) -> LocalError {
    let what = what.to_string();
    move |source| LocalError::Io { what, source }
}

/// A shell's exit code for a process ended by `signal`.
pub fn signal_exit_code(signal: i32) -> u8 {
    (128 + signal).clamp(0, 255) as u8
}

pub fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGINT => "SIGINT",
        libc::SIGTERM => "SIGTERM",
        libc::SIGHUP => "SIGHUP",
        libc::SIGPIPE => "SIGPIPE (stdout closed)",
        _ => "a signal",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_exit_codes() {
        assert_eq!(signal_exit_code(libc::SIGINT), 130);
        assert_eq!(signal_exit_code(libc::SIGTERM), 143);
        assert_eq!(signal_exit_code(libc::SIGHUP), 129);
        assert_eq!(signal_exit_code(libc::SIGPIPE), 141);
    }
}
