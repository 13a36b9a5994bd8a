//! The command line's root: the global flags and the list of subcommands. Each subcommand's
//! arguments, `about` line and help live with the code that runs it (`crate::commands`), as one
//! struct per command, so a flag a command cannot honour is a usage error (exit 2), never
//! silently dropped; `cli::run` dispatches.

use crate::commands::chart::ChartArgs;
use crate::commands::check::CheckArgs;
use crate::commands::completion::CompletionArgs;
use crate::commands::deploy::{InstallArgs, TemplateArgs};
use crate::commands::exit;
use crate::commands::gitops::{FluxArgs, HelmfileArgs};
use crate::commands::init::InitArgs;
use crate::commands::lint::{InventoryArgs, LintArgs};
use crate::commands::local::LocalArgs;
use crate::commands::man::ManArgs;
use crate::commands::ops::{RerunArgs, StatusArgs, WaitArgs};
use crate::commands::plan::PlanArgs;
use crate::commands::plugin::PluginArgs;
use crate::commands::post_render::PostRenderArgs;
use crate::commands::report::ReportArgs;
use crate::commands::schema::SchemaArgs;
use crate::commands::uninstall::UninstallArgs;
use crate::commands::values::{ConfigmapsArgs, ValuesArgs};
use crate::commands::version::VersionArgs;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "locust-planton",
    version,
    about = "Run Locust load tests on Kubernetes from one Project Planton LocustKubernetes manifest",
    long_about = "Run Locust load tests on Kubernetes from one Project Planton LocustKubernetes manifest.\n\n\
                  Turns the manifest into values for the DeliveryHero `locust` Helm chart, creates the\n\
                  script ConfigMaps itself, and hardens what Helm renders as a post-renderer.",
    after_help = exit::help(
        "Examples:\n  \
        locust-planton check -f examples/checkout.yaml\n  \
        locust-planton values -f examples/checkout.yaml --output-file values.yaml\n  \
        helm install checkout-load oci://ghcr.io/deliveryhero/helm-charts/locust --version 0.35.0 -f values.yaml --post-renderer locust-planton\n\n\
        -o/--output picks a format (yaml|json for manifests and values, text|json for reports);\n\
        --output-file writes a file (atomically). Progress goes to stderr; --quiet silences it.",
        exit::CODES,
    )
)]
pub struct Cli {
    /// Without a subcommand and with stdin not a terminal, locust-planton post-renders (so
    /// `--post-renderer locust-planton` needs no arguments).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Post-render flags, also accepted without the subcommand (`--post-renderer-args`).
    #[command(flatten)]
    pub post_render: PostRenderArgs,
    /// No progress, stdin prompt or summary line on stderr (warnings and errors are still
    /// printed).
    #[arg(short = 'q', long, global = true)]
    pub quiet: bool,
}

/// The subcommands, in the order `--help` lists them; each names its command's arguments.
#[derive(Subcommand)]
pub enum Command {
    Check(CheckArgs),
    Values(ValuesArgs),
    Lint(LintArgs),
    Inventory(InventoryArgs),
    PostRender(PostRenderArgs),
    Template(TemplateArgs),
    Install(InstallArgs),
    Uninstall(UninstallArgs),
    Chart(ChartArgs),
    Helmfile(HelmfileArgs),
    Flux(FluxArgs),
    Local(Box<LocalArgs>),
    Status(StatusArgs),
    Wait(WaitArgs),
    Report(ReportArgs),
    Rerun(RerunArgs),
    Plan(PlanArgs),
    Configmaps(ConfigmapsArgs),
    Schema(SchemaArgs),
    Init(InitArgs),
    Completion(CompletionArgs),
    Man(ManArgs),
    Plugin(PluginArgs),
    Version(VersionArgs),
}
