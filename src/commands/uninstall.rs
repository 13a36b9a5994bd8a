//! `uninstall`: the release goes with helm, after a check that the current run's results are
//! not lost (`report::before_uninstall`).

use super::deploy::ReleaseArgs;
use super::{ContextArg, Failure, Output, exit, load_spec, namespace_for};
use crate::helm::{self, Helm, shell_line};
use crate::kubectl::Kubectl;

/// Uninstall the release (the script ConfigMaps go with it).   e.g. locust-planton uninstall -f test.yaml
#[derive(clap::Args, Clone)]
#[command(
    after_help = exit::help(
        "Examples:\n  locust-planton uninstall -f examples/checkout.yaml\n  \
    locust-planton uninstall -f examples/checkout.yaml --dry-run\n  \
    locust-planton uninstall -f examples/checkout.yaml --print-command\n  \
    locust-planton uninstall -f ci.yaml --results-dir locust-results/ci   (copy the run's results first)\n  \
    locust-planton uninstall -f ci.yaml --discard-results\n\n\
    First reads the release's run through kubectl: when the current headless run has ended and its\n\
    results were not copied (`report`, `wait --results-dir`: the master Deployment's annotation\n\
    locust.project-planton.org/results-copied names the run), uninstall refuses. --results-dir copies\n\
    them first; --discard-results uninstalls without looking. A run still going, a web UI release or a\n\
    release without a master is not blocked. --dry-run is passed to helm (`helm uninstall --dry-run`):\n\
    helm only simulates it; the check runs and says what it would do, copying nothing.",
        &[(exit::OK, "ok"), (exit::FAILED, "invalid, or the current run's results were not copied (--results-dir DIR or --discard-results)"), (exit::USAGE, "usage"), (exit::TOOL_FAILED, "helm or kubectl failed")],
    )
)]
pub struct UninstallArgs {
    #[command(flatten)]
    pub release: ReleaseArgs,
    #[command(flatten)]
    pub context: ContextArg,
    /// Wait until the release's objects are gone.
    #[arg(long)]
    pub wait: bool,
    /// How long helm waits (e.g. 5m).
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// Simulate the uninstall (passed to helm: `helm uninstall --dry-run`); the results check
    /// still runs and says what it would do.
    #[arg(long)]
    pub dry_run: bool,
    /// Uninstall even if the current run ended and nobody copied its results (they are lost).
    #[arg(long, conflicts_with = "results_dir")]
    pub discard_results: bool,
    /// Copy the current run's results into this folder first (created; must be empty), if it
    /// has ended, then uninstall.
    #[arg(long, value_name = "DIR")]
    pub results_dir: Option<String>,
}

/// `helm uninstall`, after the results check (`report::before_uninstall`: an ended run nobody
/// copied refuses, unless `--discard-results`; `--results-dir` copies first); `--dry-run` is
/// passed to helm, which then only simulates it.
pub fn uninstall(i: &UninstallArgs) -> Result<Output, Failure> {
    let a = &i.release;
    let (input, spec, _) = load_spec(&a.spec.file)?;
    let namespace = namespace_for(&input.label, &spec, a.namespace.as_deref())?;
    let release = a.release.clone().unwrap_or(spec.name.clone());

    let helm = Helm::find(a.helm.as_deref())?;
    let notes = if a.print_command || i.discard_results {
        String::new()
    } else {
        let target = super::ops::Target {
            release: release.clone(),
            kubectl: Kubectl::new(None, i.context.kube_context.as_deref(), Some(&namespace)),
        };
        super::report::before_uninstall(&target, i.results_dir.as_deref(), i.dry_run)?
    };
    let mut args: Vec<String> = vec!["uninstall".into(), release, "--namespace".into(), namespace];
    if i.wait {
        args.push("--wait".into());
    }
    if let Some(t) = &i.timeout {
        args.extend(["--timeout".into(), t.clone()]);
    }
    if let Some(c) = &i.context.kube_context {
        args.extend(["--kube-context".into(), c.clone()]);
    }
    if i.dry_run {
        args.push("--dry-run".into());
    }
    if a.print_command {
        return Ok(Output::ok(format!(
            "{}\n",
            shell_line(&[], &helm.path.display().to_string(), &args)
        )));
    }
    let out = helm::run(&helm, &args, &[])?;
    Ok(Output::ok(String::from_utf8_lossy(&out)).with_stderr(notes))
}
