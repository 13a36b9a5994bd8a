//! The command line ([`args`]) wired to the commands: each subcommand's arguments become the
//! command's inputs, its [`Output`] goes to stdout or `--output-file`, notes to stderr.

pub mod args;
pub mod reference;

use crate::commands::{self, ClosedStdout, Failure, Output};
use args::*;
use clap::CommandFactory;

/// The command line, with the version texts that name the commit and the pinned chart.
pub fn command() -> clap::Command {
    Cli::command()
        .version(commands::version::short())
        .long_version(commands::version::long().trim_end().to_string())
}

/// Runs one parsed command line; returns the exit code.
pub fn run(command: Command) -> Result<u8, Failure> {
    let closed = closed_stdout(&command);
    match produce(command)? {
        Outcome::Produced(produced) => deliver(produced, closed),
        Outcome::Done(code) => Ok(code),
    }
}

/// What running a command left to do: deliver its output, or nothing (it wrote its own).
enum Outcome {
    Produced(Produced),
    Done(u8),
}

impl From<Produced> for Outcome {
    fn from(produced: Produced) -> Outcome {
        Outcome::Produced(produced)
    }
}

/// Whether a closed stdout is an error for `command`: not for commands that only read and
/// print (their output is data, or a verdict the exit code carries anyway), as for
/// `values | head`; yes for those whose output records a change (`install`, `uninstall`,
/// `rerun`, `report`, `plugin`, `init`), which a user must not miss.
fn closed_stdout(command: &Command) -> ClosedStdout {
    match command {
        Command::Install(a) if a.render.release.print_command => ClosedStdout::Quiet,
        Command::Uninstall(a) if a.release.print_command => ClosedStdout::Quiet,
        Command::Install(_)
        | Command::Uninstall(_)
        | Command::Rerun(_)
        | Command::Report(_)
        | Command::Plugin(_)
        | Command::Init(_)
        | Command::Local(_)
        | Command::Man(_) => ClosedStdout::Report,
        Command::Check(_)
        | Command::Lint(_)
        | Command::Inventory(_)
        | Command::Values(_)
        | Command::Configmaps(_)
        | Command::Template(_)
        | Command::PostRender(_)
        | Command::Chart(_)
        | Command::Version(_)
        | Command::Plan(_)
        | Command::Schema(_)
        | Command::Helmfile(_)
        | Command::Flux(_)
        | Command::Status(_)
        | Command::Wait(_)
        | Command::Completion(_) => ClosedStdout::Quiet,
    }
}

/// What a command produced: its [`Output`], the `--output-file` it was given, and a summary
/// line for stderr after the output (`check`, `lint`), which `--quiet` drops.
struct Produced {
    output: Output,
    file: Option<String>,
    summary: String,
}

impl From<(Output, Option<String>)> for Produced {
    fn from((output, file): (Output, Option<String>)) -> Produced {
        Produced {
            output,
            file,
            summary: String::new(),
        }
    }
}

fn to_stdout(output: Output) -> Produced {
    (output, None).into()
}

fn summarized((output, summary): (Output, String)) -> Produced {
    Produced {
        summary,
        ..to_stdout(output)
    }
}

/// Runs `command`: its [`Output`] to deliver, or, for the commands that write their own
/// (`local`, `man`, `init`, `post-render`), their exit code.
fn produce(command: Command) -> Result<Outcome, Failure> {
    use commands::*;
    let produced: Produced = match command {
        Command::Local(a) => return local::local(*a).map(Outcome::Done),
        Command::Man(a) => return man::run(&a, self::command()).map(|_| Outcome::Done(exit::OK)),
        Command::Init(a) => {
            let note = init::run(&a.name, a.output_file.as_deref())?;
            eprint!("{note}");
            return Ok(Outcome::Done(exit::OK));
        }
        Command::PostRender(p) => {
            let warnings = post_render::run(&p.profile.options())?;
            eprint!("{warnings}");
            return Ok(Outcome::Done(exit::OK));
        }
        Command::Check(a) => summarized(check::run(&a.spec.file, a.output)?),
        Command::Lint(a) => summarized(lint::run(&a.file, &a.profile.options(), a.output)?),
        Command::Inventory(a) => to_stdout(lint::inventory(&a.file, a.output)?),
        Command::Values(a) => (
            values::values(&a.spec.file, a.images.image_registry.as_deref(), a.output)?,
            a.file_out.output_file,
        )
            .into(),
        Command::Configmaps(a) => (
            values::configmaps(&a.spec.file, a.output)?,
            a.file_out.output_file,
        )
            .into(),
        Command::Template(a) => (deploy::template(&a)?, a.file_out.output_file).into(),
        Command::Install(a) => to_stdout(deploy::install(&a)?),
        Command::Uninstall(a) => to_stdout(uninstall::uninstall(&a)?),
        Command::Chart(a) => to_stdout(chart::run(&a)?),
        Command::Version(a) => to_stdout(version::output(a.output)?),
        Command::Plan(a) => to_stdout(plan::run(&a)?),
        Command::Schema(a) => (schema::run(), a.file_out.output_file).into(),
        Command::Helmfile(a) => (gitops::helmfile(&a)?, a.file_out.output_file).into(),
        Command::Flux(a) => (gitops::flux(&a)?, a.file_out.output_file).into(),
        Command::Status(a) => to_stdout(ops::status(&a.target.resolve()?, a.output)?),
        Command::Wait(a) => {
            let t = a.target.resolve()?;
            to_stdout(ops::wait(
                &t,
                &a.timeout,
                &a.interval,
                a.output,
                a.baseline.as_deref(),
                a.results_dir.as_deref(),
            )?)
        }
        Command::Report(a) => {
            let t = a.target.resolve()?;
            to_stdout(report::report(
                &t,
                a.results_dir.as_deref(),
                a.baseline.as_deref(),
            )?)
        }
        Command::Rerun(a) => to_stdout(ops::rerun(&a.target.resolve()?)?),
        Command::Completion(a) => to_stdout(Output::ok(completion::run(&a, self::command())?)),
        Command::Plugin(a) => to_stdout(plugin::run(&a)?),
    };
    Ok(produced.into())
}

/// Notes to stderr, then the output to stdout or the file, then the summary (unless
/// `--quiet`); returns the exit code.
fn deliver(produced: Produced, closed: ClosedStdout) -> Result<u8, Failure> {
    let Produced {
        output,
        file,
        summary,
    } = produced;
    eprint!("{}", output.stderr);
    commands::write_output_as(file.as_deref(), &output.stdout, closed)?;
    if !crate::progress::is_quiet() {
        eprint!("{summary}");
    }
    Ok(output.code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn a_closed_stdout_is_quiet_for_data_and_reported_for_changes() {
        struct Case {
            line: &'static str,
            closed: ClosedStdout,
        }
        let quiet = ClosedStdout::Quiet;
        let report = ClosedStdout::Report;
        for Case { line, closed } in [
            Case {
                line: "values -f x",
                closed: quiet,
            },
            Case {
                line: "configmaps -f x",
                closed: quiet,
            },
            Case {
                line: "schema",
                closed: quiet,
            },
            Case {
                line: "template -f x",
                closed: quiet,
            },
            Case {
                line: "post-render",
                closed: quiet,
            },
            Case {
                line: "completion bash",
                closed: quiet,
            },
            Case {
                line: "flux -f x",
                closed: quiet,
            },
            Case {
                line: "helmfile -f x",
                closed: quiet,
            },
            Case {
                line: "status r -o json",
                closed: quiet,
            },
            Case {
                line: "wait r",
                closed: quiet,
            },
            Case {
                line: "check -f x",
                closed: quiet,
            },
            Case {
                line: "lint",
                closed: quiet,
            },
            Case {
                line: "chart",
                closed: quiet,
            },
            Case {
                line: "version",
                closed: quiet,
            },
            Case {
                line: "plan --users 5",
                closed: quiet,
            },
            Case {
                line: "install -f x --print-command",
                closed: quiet,
            },
            Case {
                line: "uninstall -f x --print-command",
                closed: quiet,
            },
            Case {
                line: "install -f x",
                closed: report,
            },
            Case {
                line: "uninstall -f x",
                closed: report,
            },
            Case {
                line: "rerun r",
                closed: report,
            },
            Case {
                line: "report r",
                closed: report,
            },
            Case {
                line: "plugin install",
                closed: report,
            },
            Case {
                line: "init demo",
                closed: report,
            },
            Case {
                line: "local -f x",
                closed: report,
            },
            Case {
                line: "man --dir d",
                closed: report,
            },
        ] {
            let cli = Cli::try_parse_from(
                std::iter::once("locust-planton").chain(line.split_whitespace()),
            )
            .unwrap_or_else(|e| panic!("{line}: {e}"));
            assert_eq!(closed_stdout(&cli.command.unwrap()), closed, "{line}");
        }
    }
}
