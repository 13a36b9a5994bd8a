//! The `locust-planton` binary: parses arguments, calls the library, maps failures to exit codes.

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use locust_planton::commands::{self, Failure, exit};
use locust_planton::postrender::harden::HIGH_UID;
use locust_planton::postrender::{Options, Profile};
use locust_planton::values::RUN_AS_USER;
use std::io::IsTerminal;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "locust-planton",
    version,
    about = "Run Locust load tests on Kubernetes from one Project Planton LocustKubernetes manifest",
    long_about = "Run Locust load tests on Kubernetes from one Project Planton LocustKubernetes manifest.\n\n\
                  Turns the manifest into values for the DeliveryHero `locust` Helm chart, creates the\n\
                  script ConfigMaps itself, and hardens what Helm renders as a post-renderer.",
    after_help = "Examples:\n  \
        locust-planton check -f examples/checkout.yaml\n  \
        locust-planton values -f examples/checkout.yaml -o values.yaml\n  \
        helm install checkout-load oci://ghcr.io/deliveryhero/helm-charts/locust --version 0.35.0 -f values.yaml --post-renderer locust-planton\n\n\
        Exit codes: 0 ok, 1 invalid input or failure, 2 usage error, 3 timeout, 4 helm/kubectl failed."
)]
struct Cli {
    /// Without a subcommand and with stdin not a terminal, locust-planton post-renders (so
    /// `--post-renderer locust-planton` needs no arguments).
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Validate a manifest and list every problem.   e.g. locust-planton check -f test.yaml
    #[command(
        after_help = "Examples:\n  locust-planton check -f examples/checkout.yaml\n  locust-planton check -f - --output json < test.yaml\n\n\
        Prints `FILE: field.path: message` per problem (warnings say `warning:`).\n\
        Exit codes: 0 valid (warnings allowed), 1 invalid, 2 usage error."
    )]
    Check {
        /// The manifest (`-` reads stdin).
        #[arg(short = 'f', long = "file", value_name = "FILE")]
        file: String,
        /// Output format.
        #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputFormat::Text)]
        output: OutputFormat,
    },

    /// Chart values for a manifest.   e.g. locust-planton values -f test.yaml -o values.yaml
    #[command(
        after_help = "Examples:\n  locust-planton values -f examples/checkout.yaml\n  locust-planton values -f examples/checkout.yaml -o values.yaml\n  \
        helm template demo oci://ghcr.io/deliveryhero/helm-charts/locust --version 0.35.0 -f values.yaml\n\n\
        The values embed the script ConfigMaps (extraObjects), so the release owns them.\n\
        Nothing is written unless the whole output is valid. Exit codes: 0 ok, 1 invalid, 2 usage."
    )]
    Values {
        /// The manifest (`-` reads stdin).
        #[arg(short = 'f', long = "file", value_name = "FILE")]
        file: String,
        /// Write to FILE instead of stdout (atomically).
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<String>,
    },
    /// Helm post-renderer: harden and stamp the manifests on stdin.   e.g. helm install x chart --post-renderer locust-planton
    #[command(
        after_help = "Examples:\n  helm install load oci://ghcr.io/deliveryhero/helm-charts/locust --version 0.35.0 -f values.yaml --post-renderer locust-planton   (Helm 3)\n  \
        helm install load ... --post-renderer locust-planton   (Helm 4: the plugin; see README)\n  \
        helm template load chart -f values.yaml | locust-planton post-render --high-uid\n\n\
        Opt out of one rule for one workload with the annotation locust.project-planton.org/allow-<rule>: \"true\".\n\
        On failure: exit 1, nothing on stdout, the reason on stderr and in $LOCUST_PLANTON_LOG\n\
        (default ~/.local/state/locust-planton/post-render.log), since Helm 4 hides stderr."
    )]
    PostRender {
        #[command(flatten)]
        args: PostRenderArgs,
    },
    /// The script ConfigMaps as plain manifests.   e.g. locust-planton configmaps -f test.yaml
    #[command(
        after_help = "Examples:\n  locust-planton configmaps -f examples/checkout.yaml | kubectl apply -f -\n\n\
        For users who manage the ConfigMaps outside Helm; `values` already ships them in the release."
    )]
    Configmaps {
        /// The manifest (`-` reads stdin).
        #[arg(short = 'f', long = "file", value_name = "FILE")]
        file: String,
        /// Write to FILE instead of stdout (atomically).
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<String>,
    },
}

#[derive(Args, Clone, Copy, Default)]
struct PostRenderArgs {
    /// Run as UID/GID 10001 (and raise explicit UIDs below 10000), for scanners that demand it.
    #[arg(long)]
    high_uid: bool,
    /// The UID/GID pods run as where none is set [default: 1000, the image's `locust` user].
    #[arg(long, value_name = "UID", value_parser = clap::value_parser!(i64).range(1..))]
    uid: Option<i64>,
    /// Fail when the chart version is not one charts-lock/ lists as verified.
    #[arg(long)]
    strict_chart: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum OutputFormat {
    Text,
    Json,
}

/// Prints warnings to stderr and writes the output (stdout or an atomically replaced file).
fn emit(result: Result<(String, String), Failure>, output: Option<&str>) -> Result<u8, Failure> {
    let (out, warnings) = result?;
    eprint!("{warnings}");
    commands::write_output(output, &out)?;
    Ok(exit::OK)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = match cli.command {
        Some(c) => c,
        None if !std::io::stdin().is_terminal() => Command::PostRender {
            args: PostRenderArgs::default(),
        },
        None => {
            let _ = Cli::command().print_help();
            return ExitCode::from(exit::USAGE);
        }
    };
    let result = match command {
        Command::Check { file, output } => {
            let format = match output {
                OutputFormat::Text => commands::check::Format::Text,
                OutputFormat::Json => commands::check::Format::Json,
            };
            commands::check::run(&file, format).and_then(|(out, code)| {
                commands::write_output(None, &out)?;
                Ok(code)
            })
        }
        Command::PostRender { args } => {
            let uid = if args.high_uid {
                HIGH_UID
            } else {
                args.uid.unwrap_or(RUN_AS_USER)
            };
            let options = Options {
                profile: Profile {
                    uid,
                    high_uid: args.high_uid,
                },
                strict_chart: args.strict_chart,
            };
            commands::post_render::run(&options).map(|warnings| {
                eprint!("{warnings}");
                exit::OK
            })
        }
        Command::Values { file, output } => {
            emit(commands::values::values(&file), output.as_deref())
        }
        Command::Configmaps { file, output } => {
            emit(commands::values::configmaps(&file), output.as_deref())
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(Failure { code, message }) => {
            eprintln!("locust-planton: {message}");
            ExitCode::from(if code == exit::OK { exit::FAILED } else { code })
        }
    }
}
