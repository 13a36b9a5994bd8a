//! How a run is asked to stop: SIGINT, SIGTERM and SIGHUP once `watch_signals` is called, or a
//! closed stdout (counted as SIGPIPE). Every loop of the run polls `stop_requested`.

use super::error::{LocalError, io_at};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

/// The signal that stopped the run (SIGPIPE for a closed stdout), 0 while none has.
fn stop_cell() -> &'static Arc<AtomicUsize> {
    static STOP: OnceLock<Arc<AtomicUsize>> = OnceLock::new();
    STOP.get_or_init(Arc::default)
}

/// From now on SIGINT, SIGTERM and SIGHUP stop the run (every process of it ended) instead of
/// killing `local` on the spot.
pub fn watch_signals() -> Result<(), LocalError> {
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        signal_hook::flag::register_usize(signal, stop_cell().clone(), signal as usize)
            .map_err(io_at("installing a signal handler"))?;
    }
    Ok(())
}

/// The signal that asked the run to stop, if any; a closed stdout counts as SIGPIPE.
pub fn stop_requested() -> Option<i32> {
    if stdout_closed() {
        request_stop(libc::SIGPIPE);
    }
    match stop_cell().load(Ordering::SeqCst) {
        0 => None,
        s => Some(s as i32),
    }
}

/// Whether nobody reads our stdout any more (a pipe whose reader left, or no stdout at all):
/// noticed without waiting for the pods' next line.
fn stdout_closed() -> bool {
    let mut fd = libc::pollfd {
        fd: libc::STDOUT_FILENO,
        events: 0,
        revents: 0,
    };
    // SAFETY: one valid pollfd, no wait.
    let ready = unsafe { libc::poll(&mut fd, 1, 0) };
    ready == 1 && fd.revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0
}

pub(super) fn request_stop(signal: i32) {
    let _ = stop_cell().compare_exchange(0, signal as usize, Ordering::SeqCst, Ordering::SeqCst);
}
