//! The `locust-planton` binary: parses the command line (`cli::args`), runs the command
//! (`cli::run`) and maps a failure to its exit code (the table `commands::exit::CODES`).

use clap::FromArgMatches;
use locust_planton::cli::{self, args::Cli, args::Command};
use locust_planton::commands::{Failure, exit};
use std::io::IsTerminal;
use std::process::ExitCode;

fn main() -> ExitCode {
    let matches = cli::command().get_matches();
    let parsed = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    locust_planton::progress::set_quiet(parsed.quiet);
    let command = match parsed.command {
        // Post-render flags before a subcommand would otherwise be dropped silently.
        Some(_) if parsed.post_render != Default::default() => {
            eprintln!(
                "error: --high-uid, --uid and --strict-chart go after the subcommand (e.g. `locust-planton template --high-uid -f FILE`); before it they apply only to post-rendering stdin without a subcommand"
            );
            return ExitCode::from(exit::USAGE);
        }
        Some(c) => c,
        // `--post-renderer locust-planton` runs the binary with no arguments and stdin piped.
        None if !std::io::stdin().is_terminal() => Command::PostRender(parsed.post_render),
        None => {
            let _ = cli::command().print_help();
            return ExitCode::from(exit::USAGE);
        }
    };
    match cli::run(command) {
        Ok(code) => ExitCode::from(code),
        Err(Failure { code, message }) => {
            eprintln!("locust-planton: {message}");
            ExitCode::from(if code == exit::OK { exit::FAILED } else { code })
        }
    }
}
