//! `post-render`: stdin → hardened stdout, for `helm --post-renderer`. Helm 4 throws away a
//! post-renderer's stderr, so a failure is also written to a log file (README "Post-renderer
//! errors"): `$LOCUST_PLANTON_LOG`, else `$XDG_STATE_HOME/locust-planton/post-render.log`, else
//! `~/.local/state/locust-planton/post-render.log`.

use super::Failure;
use crate::limits::{MAX_STREAM_BYTES, read_bounded};
use crate::postrender::{Options, post_render};
use std::io::Write;
use std::path::PathBuf;

pub fn log_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("LOCUST_PLANTON_LOG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
    Some(state.join("locust-planton/post-render.log"))
}

/// Post-renders stdin to stdout; returns the warnings for stderr. Nothing reaches stdout unless
/// the whole stream was processed.
pub fn run(options: &Options) -> Result<String, Failure> {
    // Bounded: a runaway stream is refused before it is all in memory.
    let bytes = read_bounded(std::io::stdin(), MAX_STREAM_BYTES)
        .map_err(|e| fail(format!("stdin: {e}")))?;
    let input = String::from_utf8(bytes).map_err(|e| {
        fail(format!(
            "stdin is not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    let outcome =
        post_render(&input, options).map_err(|e| fail(format!("post-render failed: {e}")))?;
    let mut stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    outcome
        .segments
        .iter()
        .try_for_each(|s| stdout.write_all(s.as_bytes()))
        .and_then(|_| stdout.flush())
        .map_err(|e| Failure::failed(format!("stdout: {e}")))?;
    Ok(outcome
        .warnings
        .iter()
        .map(|w| format!("locust-planton: warning: {w}\n"))
        .collect())
}

/// A failure, recorded in the log file too; the message says where.
fn fail(message: String) -> Failure {
    let logged = log_path().and_then(|path| {
        let dir = path.parent()?;
        std::fs::create_dir_all(dir).ok()?;
        std::fs::write(&path, format!("{message}\n")).ok()?;
        Some(path)
    });
    match logged {
        Some(p) => Failure::failed(format!("{message}\n(also written to {})", p.display())),
        None => Failure::failed(message),
    }
}
