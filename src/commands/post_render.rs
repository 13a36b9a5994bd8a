//! `post-render`: stdin → hardened stdout, for `helm --post-renderer`. Helm 4 throws away a
//! post-renderer's stderr, so a failure is also written to a log file (docs/post-renderer.md
//! "Errors and the log"): `$LOCUST_PLANTON_LOG`, else
//! `$XDG_STATE_HOME/locust-planton/post-render.log`, else
//! `~/.local/state/locust-planton/post-render.log`.

use super::{Failure, exit};
use crate::contract::{HIGH_UID, RUN_AS_USER};
use crate::limits::{MAX_STREAM_BYTES, read_bounded};
use crate::postrender::{Options, Profile, post_render};
use std::io::Write;
use std::path::PathBuf;

/// The post-renderer's profile, shared by every command that hardens.
#[derive(clap::Args, Clone, Copy, Debug, Default, PartialEq)]
pub struct ProfileArgs {
    /// Run as UID/GID 10001 (and raise explicit UIDs below 10000), for scanners that demand it.
    #[arg(long)]
    pub high_uid: bool,
    /// The UID/GID pods run as where none is set [default: 1000, the image's `locust` user].
    #[arg(long, value_name = "UID", value_parser = clap::value_parser!(i64).range(1..))]
    pub uid: Option<i64>,
    /// Fail when the chart version is not one this locust-planton is verified with, or a
    /// --chart DIR is not the pinned chart.
    #[arg(long)]
    pub strict_chart: bool,
}

impl ProfileArgs {
    pub fn options(&self) -> Options {
        let uid = if self.high_uid {
            HIGH_UID
        } else {
            self.uid.unwrap_or(RUN_AS_USER)
        };
        Options {
            profile: Profile {
                uid,
                high_uid: self.high_uid,
            },
            strict_chart: self.strict_chart,
        }
    }

    /// The same flags, as arguments for the post-renderer helm runs.
    pub fn forwarded_args(&self) -> Vec<String> {
        let mut a = Vec::new();
        if self.high_uid {
            a.push("--high-uid".into());
        }
        if let Some(u) = self.uid {
            a.extend(["--uid".into(), u.to_string()]);
        }
        if self.strict_chart {
            a.push("--strict-chart".into());
        }
        a
    }
}

// Also the root command's flags: without a subcommand, with stdin piped, the binary
// post-renders (`--post-renderer locust-planton`).
/// Helm post-renderer: harden and stamp the manifests on stdin.   e.g. helm install x chart --post-renderer locust-planton
#[derive(clap::Args, Clone, Copy, Debug, Default, PartialEq)]
#[command(
    after_help = exit::help(
        "Examples:\n  helm install load oci://ghcr.io/deliveryhero/helm-charts/locust --version 0.35.0 -f values.yaml --post-renderer locust-planton   (Helm 3)\n  \
    helm install load ... --post-renderer locust-planton   (Helm 4: the plugin; see docs/post-renderer.md)\n  \
    helm template load chart -f values.yaml | locust-planton post-render --high-uid\n\n\
    Opt out of one rule for one workload with the annotation locust.project-planton.org/allow-<rule>: \"true\".\n\
    On failure: exit 1, nothing on stdout, the reason on stderr and in $LOCUST_PLANTON_LOG\n\
    (default ~/.local/state/locust-planton/post-render.log), since Helm 4 hides stderr.",
        &[(exit::OK, "ok"), (exit::FAILED, "refused (nothing on stdout)"), (exit::USAGE, "usage error")],
    )
)]
pub struct PostRenderArgs {
    #[command(flatten)]
    pub profile: ProfileArgs,
}

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

/// The log keeps the newest entries under this size: older ones are dropped whole.
pub const LOG_LIMIT: usize = 1024 * 1024;

/// Post-renders stdin to stdout; returns the warnings for stderr. Nothing reaches stdout unless
/// the whole stream was processed. Every run appends an entry to the log (docs/post-renderer.md
/// "Errors and the log"): the reasons of a failure, or the warnings and a success line, with
/// the UTC time and the release, so the newest entry is always this run's.
pub fn run(options: &Options) -> Result<String, Failure> {
    super::stdin_prompt();
    // Bounded: a runaway stream is refused before it is all in memory.
    let bytes = read_bounded(std::io::stdin(), MAX_STREAM_BYTES)
        .map_err(|e| fail("", format!("stdin: {e}")))?;
    let input = String::from_utf8(bytes).map_err(|e| {
        fail(
            "",
            format!(
                "stdin is not UTF-8 text (byte {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })?;
    let release = release_of(&input);
    let outcome = post_render(&input, options).map_err(|e| {
        fail(
            &release,
            format!("post-render failed:\n{}", e.located("<stdin>")),
        )
    })?;
    let mut stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let written = outcome
        .segments
        .iter()
        .try_for_each(|s| stdout.write_all(s.as_bytes()))
        .and_then(|_| stdout.flush());
    // Output for a reader: one that has gone away (`| head`) is not an error.
    super::stdout_result(written, super::ClosedStdout::Quiet)?;
    let warnings: String = outcome
        .warnings
        .iter()
        .map(|w| format!("locust-planton: warning: {w}\n"))
        .collect();
    log(
        &release,
        &format!(
            "post-rendered {} document(s)\n{warnings}",
            outcome.segments.len()
        ),
    );
    Ok(warnings)
}

/// The release, for the log: `$LOCUST_PLANTON_RELEASE` (set by `template`/`install`), else the
/// first `app.kubernetes.io/instance` label in the stream (Helm tells a post-renderer nothing
/// about the release: Helm 4 passes a plugin only `HELM_PLUGIN_NAME` and `HELM_PLUGIN_DIR`).
fn release_of(input: &str) -> String {
    if let Ok(r) = std::env::var("LOCUST_PLANTON_RELEASE")
        && !r.is_empty()
    {
        return r;
    }
    const LABEL: &str = "app.kubernetes.io/instance:";
    // The first line that starts with the label (after white space), found by searching for the
    // label: reading a large stream line by line cost 3% of post-rendering it.
    memchr::memmem::find_iter(input.as_bytes(), LABEL)
        .find_map(|at| {
            let start = input[..at].rfind('\n').map_or(0, |i| i + 1);
            let end = input[at..].find('\n').map_or(input.len(), |i| at + i);
            input[start..end].trim().strip_prefix(LABEL)
        })
        .map(|v| v.trim().trim_matches(['"', '\'']).to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// Appends an entry in one write to a file opened for appending, so that post-renderers running
/// in parallel (helm-diff, Helm 4's strategies, several releases) each leave their entry whole.
/// Past [`LOG_LIMIT`] the file is renamed to `<log>.1` (replacing an older one): the newest
/// entries are always in the log, and the two files together stay under twice the limit.
/// Returns the log's path when the entry was written.
fn log(release: &str, text: &str) -> Option<PathBuf> {
    let path = log_path()?;
    std::fs::create_dir_all(path.parent()?).ok()?;
    let entry = format!("--- {} release={release}\n{}\n", utc_now(), text.trim_end());
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .ok()?;
    file.write_all(entry.as_bytes()).ok()?;
    if file.metadata().is_ok_and(|m| m.len() > LOG_LIMIT as u64) {
        let mut old = path.clone().into_os_string();
        old.push(".1");
        // A concurrent run may have rotated it already; either way the entry is kept.
        if std::fs::rename(&path, &old).is_ok() {
            return Some(PathBuf::from(old));
        }
    }
    Some(path)
}

/// `2026-11-29T12:00:00Z`.
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Days since 1970-01-01 to a civil date (proleptic Gregorian).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// A failure, logged too; the message says where.
fn fail(release: &str, message: String) -> Failure {
    let release = if release.is_empty() {
        "unknown"
    } else {
        release
    };
    match log(release, &message) {
        Some(p) => Failure::failed(format!("{message}\n(also written to {})", p.display())),
        None => Failure::failed(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (what the row shows, the stream, the release the log names).
    #[test]
    fn the_release_is_the_first_line_starting_with_the_instance_label() {
        let rows: &[(&str, &str, &str)] = &[
            ("no label", "kind: ConfigMap\n", "unknown"),
            (
                "indented, quoted",
                "metadata:\n  labels:\n    app.kubernetes.io/instance: \"load\"\n",
                "load",
            ),
            (
                "the label inside a line is not one; the next line's is",
                "x: app.kubernetes.io/instance: no\n  app.kubernetes.io/instance: yes-this\n",
                "yes-this",
            ),
            (
                "the first of two",
                "app.kubernetes.io/instance: a\napp.kubernetes.io/instance: b\n",
                "a",
            ),
            (
                "CRLF, last line without an ending",
                "k: v\r\n\tapp.kubernetes.io/instance: 'w'\r\n",
                "w",
            ),
            (
                "at the end of the stream",
                "k: v\napp.kubernetes.io/instance: end",
                "end",
            ),
            (
                "text before the label on its line, then no other",
                "a app.kubernetes.io/instance: x\n",
                "unknown",
            ),
        ];
        let mut failed = Vec::new();
        for (what, input, want) in rows {
            let got = release_of(input);
            if got != *want {
                failed.push(format!("- {what}: {got}"));
            }
        }
        assert!(failed.is_empty(), "{}", failed.join("\n"));
    }
}
