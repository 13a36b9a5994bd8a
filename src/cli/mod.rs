//! The command line ([`args`]) wired to the commands: each subcommand's arguments become the
//! command's inputs, its [`Output`] goes to stdout or `--output-file`, notes to stderr.

pub mod args;
pub mod reference;

use crate::commands::{self, ClosedStdout, Failure, Output, exit};
use crate::local::sandbox::SandboxMode;
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
        | Command::Plugin { .. }
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
    let produced: Produced = match command {
        Command::Local(a) => return local(*a).map(Outcome::Done),
        Command::Man(a) => return man_pages(&a.dir).map(|_| Outcome::Done(exit::OK)),
        Command::Init(a) => {
            let note = commands::init::run(&a.name, a.output_file.as_deref())?;
            eprint!("{note}");
            return Ok(Outcome::Done(exit::OK));
        }
        Command::PostRender(p) => {
            let warnings = commands::post_render::run(&p.options())?;
            eprint!("{warnings}");
            return Ok(Outcome::Done(exit::OK));
        }
        Command::Check(a) => summarized(commands::check::run(&a.spec.file, a.output)?),
        Command::Lint(a) => summarized(commands::lint::run(
            &a.file,
            &a.profile.options(),
            a.output,
        )?),
        Command::Inventory(a) => to_stdout(commands::lint::inventory(&a.file, a.output)?),
        Command::Values(a) => (
            commands::values::values(
                &a.generate.spec.file,
                a.images.image_registry.as_deref(),
                a.generate.output,
            )?,
            a.generate.file_out.output_file,
        )
            .into(),
        Command::Configmaps(a) => (
            commands::values::configmaps(&a.spec.file, a.output)?,
            a.file_out.output_file,
        )
            .into(),
        Command::Template(a) => (commands::deploy::template(&a)?, a.file_out.output_file).into(),
        Command::Install(a) => to_stdout(commands::deploy::install(&a)?),
        Command::Uninstall(a) => to_stdout(commands::deploy::uninstall(&a)?),
        Command::Chart(a) => to_stdout(commands::chart(a.output)?),
        Command::Version(a) => to_stdout(commands::version::output(a.output)?),
        Command::Plan(a) => to_stdout(commands::plan(a.users, a.rps, a.output)?),
        Command::Schema(f) => (Output::ok(crate::spec::schema::text()), f.output_file).into(),
        Command::Helmfile(a) => helmfile(a)?.into(),
        Command::Flux(a) => flux(a)?.into(),
        Command::Status(a) => to_stdout(commands::ops::status(&a.target.resolve()?, a.output)?),
        Command::Wait(a) => {
            let t = a.target.resolve()?;
            to_stdout(commands::ops::wait(
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
            to_stdout(commands::ops::report(
                &t,
                a.results_dir.as_deref(),
                a.baseline.as_deref(),
            )?)
        }
        Command::Rerun(t) => to_stdout(commands::ops::rerun(&t.resolve()?)?),
        Command::Completion(a) => to_stdout(Output::ok(completion(a.shell)?)),
        Command::Plugin { action } => to_stdout(plugin(action)?),
    };
    Ok(produced.into())
}

fn plugin(action: PluginAction) -> Result<Output, Failure> {
    use commands::plugin::{PluginArgs, install, uninstall};
    match action {
        PluginAction::Install {
            common,
            helm3,
            share_with_helm3,
        } => install(&PluginArgs {
            helm: common.helm,
            helm3,
            dry_run: common.dry_run,
            share_with_helm3,
        }),
        PluginAction::Uninstall { common } => uninstall(&PluginArgs {
            helm: common.helm,
            dry_run: common.dry_run,
            ..PluginArgs::default()
        }),
    }
}

fn helmfile(a: HelmfileArgs) -> Result<(Output, Option<String>), Failure> {
    let out = commands::gitops::helmfile(
        &a.spec.file,
        a.values_file.as_deref(),
        a.namespace.as_deref(),
        a.chart.as_deref(),
        a.chart_repo.as_deref(),
        a.exec_values,
        a.print_exec_values,
    )?;
    Ok((out, a.file_out.output_file))
}

fn flux(a: FluxArgs) -> Result<(Output, Option<String>), Failure> {
    let out = commands::gitops::flux(
        &a.spec.file,
        a.namespace.as_deref(),
        &a.interval,
        a.profile.options().profile,
        a.chart_repo.as_deref(),
        a.images.image_registry.as_deref(),
        a.output,
    )?;
    Ok((out, a.file_out.output_file))
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

/// A `local` port: the user's (fails when taken) or the default (moves to a free one).
fn local_port(chosen: Option<u16>, default: u16) -> crate::local::Port {
    crate::local::Port {
        port: chosen.unwrap_or(default),
        explicit: chosen.is_some(),
    }
}

fn local(a: LocalArgs) -> Result<u8, Failure> {
    let sandbox = match (a.no_sandbox, a.sandbox) {
        (true, _) | (_, SandboxArg::Off) => SandboxMode::Off,
        (_, SandboxArg::Auto) => SandboxMode::Auto,
        (_, SandboxArg::Required) => SandboxMode::Required,
    };
    let users = a.users;
    commands::local::local(commands::local::LocalArgs {
        file: a.spec.file,
        workers: a.workers.map(usize::from),
        install_locust: a.install_locust,
        results_dir: a.results_dir,
        baseline: a.baseline,
        options: crate::local::LocalOptions {
            workers: 0,
            host: a.host,
            headless: a.headless.then(|| crate::local::Headless {
                users,
                spawn_rate: a.spawn_rate.unwrap_or(f64::from(users)),
                run_time: a.run_time,
            }),
            python: a
                .python
                .or_else(|| std::env::var("LOCUST_PLANTON_PYTHON").ok())
                .unwrap_or_else(|| "python3".into()),
            // `commands::local` resolves `python` into it.
            interpreter: Default::default(),
            master_port: local_port(a.master_port, 5557),
            web_port: local_port(a.web_port, 8089),
            master_args: a.master_args,
            // The spec's version replaces it (`commands::local`).
            locust_version: String::new(),
            // `commands::local` fills these in.
            results_dir: None,
            name: String::new(),
            allow_commands: a.allow_commands,
            sandbox,
        },
    })
}

fn completion(shell: clap_complete::Shell) -> Result<String, Failure> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command(), "locust-planton", &mut script);
    let s = String::from_utf8(script)
        .map_err(|e| Failure::failed(format!("completion script: {e}")))?;
    Ok(match shell {
        // clap_complete 4.6 names the bash cases of subcommands after the binary with its `-`
        // turned into the subcommand separator (`locust__subcmd__planton__subcmd__init`) but
        // dispatches to `locust__planton__subcmd__init`, so no subcommand's flags would
        // complete; tests/cli_tools.rs completes `init --out` in a real bash.
        clap_complete::Shell::Bash => s.replace("locust__subcmd__planton", "locust__planton"),
        _ => s,
    })
}

/// Man pages: the tool's and one per visible subcommand, each written atomically into `dir`.
fn man_pages(dir: &str) -> Result<(), Failure> {
    std::fs::create_dir_all(dir).map_err(|e| Failure::failed(format!("{dir}: {e}")))?;
    let root = command();
    let version = root.get_version().unwrap_or_default().to_string();
    let mut pages = vec![("locust-planton".to_string(), root.clone())];
    // One page per subcommand, and per subcommand of those (`plugin install`), as their SEE
    // ALSO sections name them.
    let mut todo: Vec<(String, clap::Command)> = root
        .get_subcommands()
        .map(|s| ("locust-planton".to_string(), s.clone()))
        .collect();
    while let Some((parent, sub)) = todo.pop() {
        if sub.is_hide_set() || sub.get_name() == "help" {
            continue;
        }
        let name = format!("{parent}-{}", sub.get_name());
        todo.extend(sub.get_subcommands().map(|s| (name.clone(), s.clone())));
        pages.push((name.clone(), sub.name(name).version(version.clone())));
    }
    for (name, cmd) in pages {
        let mut page = Vec::new();
        clap_mangen::Man::new(cmd)
            .render(&mut page)
            .map_err(|e| Failure::failed(format!("{name}.1: {e}")))?;
        let text =
            String::from_utf8(page).map_err(|e| Failure::failed(format!("{name}.1: {e}")))?;
        let path = std::path::Path::new(dir).join(format!("{name}.1"));
        commands::write_output(Some(&path.to_string_lossy()), &text)?;
    }
    Ok(())
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
