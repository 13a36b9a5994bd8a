//! The `locust-planton` binary: parses the command line (`cli::args`), runs the command
//! (`cli::run`) and maps a failure to its exit code (the table `commands::exit::CODES`).

use clap::FromArgMatches;
use locust_planton::cli::{self, args::Cli, args::Command};
use locust_planton::commands::{Failure, exit};
use std::ffi::OsString;
use std::io::IsTerminal;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let stdin_is_terminal = || std::io::stdin().is_terminal();
    let (quiet, command) = match helm_line(&args, stdin_is_terminal) {
        Some(quiet) => (quiet, Command::PostRender(Default::default())),
        None => match parse() {
            Ok(parsed) => parsed,
            Err(code) => return code,
        },
    };
    locust_planton::progress::set_quiet(quiet);
    match cli::run(command) {
        Ok(code) => ExitCode::from(code),
        Err(Failure { code, message }) => {
            eprintln!("locust-planton: {message}");
            ExitCode::from(if code == exit::OK { exit::FAILED } else { code })
        }
    }
}

/// The command line through clap: `--quiet` and the command, or the exit code of a usage error
/// or of the help printed.
fn parse() -> Result<(bool, Command), ExitCode> {
    let matches = cli::command().get_matches();
    let parsed = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let command = match parsed.command {
        // Post-render flags before a subcommand would otherwise be dropped silently.
        Some(_) if parsed.post_render != Default::default() => {
            eprintln!(
                "error: --high-uid, --uid and --strict-chart go after the subcommand (e.g. `locust-planton template --high-uid -f FILE`); before it they apply only to post-rendering stdin without a subcommand"
            );
            return Err(ExitCode::from(exit::USAGE));
        }
        Some(c) => c,
        // `--post-renderer locust-planton` runs the binary with no arguments and stdin piped.
        None if !std::io::stdin().is_terminal() => Command::PostRender(parsed.post_render),
        None => {
            let _ = cli::command().print_help();
            return Err(ExitCode::from(exit::USAGE));
        }
    };
    Ok((parsed.quiet, command))
}

/// `Some(quiet)` when `args` is a command line Helm runs the post-renderer with and clap would
/// read as `post-render` with default flags: no arguments with stdin not a terminal (Helm 3's
/// `--post-renderer locust-planton`), or `post-render` (the Helm 4 plugin), each with at most
/// one `-q`/`--quiet`. Building clap's command costs more than post-rendering a small render,
/// and Helm runs the post-renderer on every install and reconcile. Any other line (help,
/// version, flags, a second `-q`, anything clap would refuse) goes through clap.
fn helm_line(args: &[OsString], stdin_is_terminal: impl FnOnce() -> bool) -> Option<bool> {
    let (mut subcommand, mut quiet) = (false, false);
    for arg in args {
        match arg.to_str()? {
            "post-render" if !subcommand => subcommand = true,
            "-q" | "--quiet" if !quiet => quiet = true,
            _ => return None,
        }
    }
    (subcommand || !stdin_is_terminal()).then_some(quiet)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Which command lines skip clap, and that clap reads each of them the same way.
    #[test]
    fn helm_lines_skip_clap_and_mean_what_clap_reads() {
        struct Row {
            args: &'static [&'static str],
            terminal: bool,
            /// `Some(quiet)`: the fast path; `None`: clap.
            fast: Option<bool>,
        }
        let rows = [
            Row {
                args: &[],
                terminal: false,
                fast: Some(false),
            },
            Row {
                args: &[],
                terminal: true,
                fast: None,
            },
            Row {
                args: &["-q"],
                terminal: false,
                fast: Some(true),
            },
            Row {
                args: &["--quiet"],
                terminal: false,
                fast: Some(true),
            },
            Row {
                args: &["-q"],
                terminal: true,
                fast: None,
            },
            Row {
                args: &["post-render"],
                terminal: false,
                fast: Some(false),
            },
            Row {
                args: &["post-render"],
                terminal: true,
                fast: Some(false),
            },
            Row {
                args: &["post-render", "-q"],
                terminal: false,
                fast: Some(true),
            },
            Row {
                args: &["-q", "post-render"],
                terminal: false,
                fast: Some(true),
            },
            Row {
                args: &["--quiet", "post-render"],
                terminal: true,
                fast: Some(true),
            },
            Row {
                args: &["post-render", "--quiet"],
                terminal: false,
                fast: Some(true),
            },
            Row {
                args: &["-q", "-q"],
                terminal: false,
                fast: None,
            },
            Row {
                args: &["-q", "--quiet", "post-render"],
                terminal: false,
                fast: None,
            },
            Row {
                args: &["-qq"],
                terminal: false,
                fast: None,
            },
            Row {
                args: &["post-render", "post-render"],
                terminal: false,
                fast: None,
            },
            Row {
                args: &["post-render", "--high-uid"],
                terminal: false,
                fast: None,
            },
            Row {
                args: &["--high-uid"],
                terminal: false,
                fast: None,
            },
            Row {
                args: &["post-render", "--help"],
                terminal: false,
                fast: None,
            },
            Row {
                args: &["--version"],
                terminal: false,
                fast: None,
            },
            Row {
                args: &["-V"],
                terminal: false,
                fast: None,
            },
            Row {
                args: &["post-render", "-h"],
                terminal: false,
                fast: None,
            },
            Row {
                args: &["post-render", "--"],
                terminal: false,
                fast: None,
            },
            Row {
                args: &["lint"],
                terminal: false,
                fast: None,
            },
            Row {
                args: &["post_render"],
                terminal: false,
                fast: None,
            },
            Row {
                args: &["Post-render"],
                terminal: false,
                fast: None,
            },
            Row {
                args: &[""],
                terminal: false,
                fast: None,
            },
            Row {
                args: &["-"],
                terminal: false,
                fast: None,
            },
        ];
        let mut failed = Vec::new();
        for row in &rows {
            let args: Vec<OsString> = row.args.iter().map(OsString::from).collect();
            let got = helm_line(&args, || row.terminal);
            if got != row.fast {
                failed.push(format!(
                    "- {:?} (terminal {}): {got:?}",
                    row.args, row.terminal
                ));
            }
            // What the fast path decides, clap decides too.
            if let Some(quiet) = got {
                let argv = std::iter::once("locust-planton").chain(row.args.iter().copied());
                let parsed = cli::command()
                    .try_get_matches_from(argv)
                    .and_then(|m| Cli::from_arg_matches(&m));
                match parsed {
                    Ok(cli) => {
                        let command_is_default_post_render = match cli.command {
                            Some(Command::PostRender(p)) => p == Default::default(),
                            None => !row.terminal,
                            Some(_) => false,
                        };
                        if cli.quiet != quiet
                            || cli.post_render != Default::default()
                            || !command_is_default_post_render
                        {
                            failed.push(format!("- {:?}: clap reads it otherwise", row.args));
                        }
                    }
                    Err(e) => failed.push(format!("- {:?}: clap refuses it: {e}", row.args)),
                }
            }
        }
        assert!(failed.is_empty(), "{}", failed.join("\n"));
    }

    /// A command line that is not text never takes the fast path (clap reports it).
    #[cfg(unix)]
    #[test]
    fn arguments_that_are_not_text_go_through_clap() {
        use std::os::unix::ffi::OsStringExt;
        let args = [OsString::from_vec(b"post-render\xff".to_vec())];
        assert_eq!(helm_line(&args, || false), None);
    }
}
