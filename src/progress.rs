//! Progress on stderr for work that can take more than a second (a chart pull, `helm --wait`,
//! `wait`, installing Locust or pip packages): a live line on a terminal, plain timestamped
//! lines otherwise (CI logs), nothing with `--quiet`. Stdout is never touched.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

static QUIET: AtomicBool = AtomicBool::new(false);

/// `--quiet`: no progress at all.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

pub fn is_quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// One piece of long work.
pub struct Progress {
    live: Option<indicatif::ProgressBar>,
    quiet: bool,
    last: String,
}

/// `HH:MM:SSZ` of now, for plain lines.
fn clock() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let day = secs % 86_400;
    format!(
        "{:02}:{:02}:{:02}Z",
        day / 3600,
        (day % 3600) / 60,
        day % 60
    )
}

impl Progress {
    /// Starts showing `message`.
    pub fn start(message: impl Into<String>) -> Progress {
        let quiet = is_quiet();
        let live = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        let mut p = Progress {
            live,
            quiet,
            last: String::new(),
        };
        p.update(message);
        p
    }

    /// Replaces the message; a plain line is printed only when the text changes.
    pub fn update(&mut self, message: impl Into<String>) {
        let message = message.into();
        if self.quiet || message == self.last {
            return;
        }
        match &self.live {
            Some(bar) => bar.set_message(message.clone()),
            None => eprintln!("{} {message}", clock()),
        }
        self.last = message;
    }

    /// Ends the live line (a plain last line when `message` is given).
    pub fn finish(self, message: Option<&str>) {
        if let Some(bar) = &self.live {
            bar.finish_and_clear();
        }
        if let (false, Some(m)) = (self.quiet, message) {
            match self.live {
                Some(_) => eprintln!("{m}"),
                None => eprintln!("{} {m}", clock()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_is_a_utc_time_of_day() {
        let c = clock();
        assert_eq!(c.len(), 9, "{c}");
        assert!(c.ends_with('Z') && c.as_bytes()[2] == b':', "{c}");
    }
}
