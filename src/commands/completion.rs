//! `completion SHELL`: the shell's completion script, made by clap from the command line.

use super::{Failure, exit};

/// Shell completion script.   e.g. locust-planton completion bash > ~/.local/share/bash-completion/completions/locust-planton
#[derive(clap::Args, Clone)]
#[command(
    after_help = exit::help(
        "Examples:\n  locust-planton completion bash > ~/.local/share/bash-completion/completions/locust-planton\n  \
    locust-planton completion zsh > ~/.zfunc/_locust-planton\n  \
    locust-planton completion fish > ~/.config/fish/completions/locust-planton.fish\n  \
    locust-planton completion powershell >> $PROFILE",
        &[(exit::OK, "ok"), (exit::USAGE, "usage error")],
    )
)]
pub struct CompletionArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// The script for `a.shell`, completing `command` (the whole command line's definition).
pub fn run(a: &CompletionArgs, mut command: clap::Command) -> Result<String, Failure> {
    let shell = a.shell;
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "locust-planton", &mut script);
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
