//! `local`: the rendered pods as local processes (see `crate::local`).

use super::{Failure, Loaded};
use crate::local::pod::PodView;
use crate::local::{
    LocalError, LocalOptions, install_locust, probe_interpreter, refusal_lines, resolve_python,
    run, signal_exit_code, spec_pods, watch_signals,
};
use crate::results::Verdict;
use crate::spec::LoadTestSpec;
use crate::values::Synthesized;
use std::path::{Path, PathBuf};

pub struct LocalArgs {
    pub file: String,
    pub workers: Option<usize>,
    pub install_locust: bool,
    /// `--results-dir` (headless runs).
    pub results_dir: Option<String>,
    /// `--baseline FILE|last` (headless runs).
    pub baseline: Option<String>,
    pub options: LocalOptions,
}

/// Returns the exit code to use (the master's, headless).
pub fn local(a: LocalArgs) -> Result<u8, Failure> {
    let l = Loaded::from_path(&a.file)?;
    // A baseline file that cannot be read is refused before anything runs.
    if let Some(file) = a.baseline.as_deref().filter(|b| *b != "last") {
        crate::results::baseline::read(Path::new(file))
            .map_err(|e| Failure::failed(format!("--baseline {e}")))?;
    }
    eprint!("{}", l.warning_text());
    let (spec, s) = (&l.spec, &l.synthesized);
    let mut options = a.options;
    let (master, worker) = confined_pods(spec, s, options.allow_commands)?;
    // From here on a signal ends every process started and the run exits 128 + its number.
    watch_signals()?;
    options.workers = worker_count(a.workers, spec);
    options.locust_version = pods_locust(s, a.install_locust, &options.python);
    let python = if a.install_locust {
        install_locust(&options.locust_version)?
    } else {
        options.python.clone()
    };
    let resolved = resolve_python(&python)?;
    options.python = resolved.display().to_string();
    options.interpreter = probe_interpreter(&resolved)?;
    compare_installed_locust(s, &options);
    let headless = options.headless.is_some() || spec.extensions.run.is_some();
    options.name = spec.name.clone();
    if headless {
        let cwd = std::env::current_dir()?;
        let dir = crate::results::prepare_dir(a.results_dir.as_deref(), &spec.name, &cwd)
            .map_err(|e| Failure::failed(format!("--results-dir {e}")))?;
        options.results_dir = Some(dir);
    } else if a.results_dir.is_some() || a.baseline.is_some() {
        eprintln!(
            "locust-planton: warning: --results-dir and --baseline apply to headless runs only (--headless or spec.loadTest.run); this run has the web UI"
        );
    }
    let result = run(&master, &worker, &options);
    let mut verdict = None;
    match (&result, &options.results_dir) {
        (Ok(_), Some(dir)) => verdict = report_results(dir, &spec.name, a.baseline.as_deref())?,
        // The cause comes first (printed by the caller); an empty folder is not left behind,
        // nor the default one's `locust-results/` when this run made it and nothing else is there.
        (Err(_), Some(dir)) => {
            remove_if_empty(dir);
            if a.results_dir.is_none()
                && let Some(parent) = dir.parent()
            {
                remove_if_empty(&parent.to_path_buf());
            }
        }
        _ => {}
    }
    match (result, verdict) {
        (Ok(_), Some(Verdict::Regressed)) => Ok(super::exit::REGRESSED),
        (Ok(code), _) => Ok(u8::try_from(code).unwrap_or(1)),
        (Err(e), _) => Err(Failure::from(e)),
    }
}

/// A `local` error as the command's failure: a stopped run exits 128 + the signal's number.
/// A run stopped by a signal exits 128 + the signal, as a shell reports it; any other
/// failure is exit 1.
impl From<LocalError> for Failure {
    fn from(e: LocalError) -> Self {
        match e {
            LocalError::Stopped(signal) => Failure {
                code: signal_exit_code(signal),
                message: e.to_string(),
            },
            e => Failure::failed(e.to_string()),
        }
    }
}

fn remove_if_empty(dir: &PathBuf) {
    if std::fs::read_dir(dir).is_ok_and(|mut e| e.next().is_none()) {
        let _ = std::fs::remove_dir(dir);
    }
}

/// The master and worker pods, refused (docs/local.md "Confinement") before anything runs or is
/// written when `crate::local::spec_pods` finds anything to refuse (`check` warns about the
/// same list).
fn confined_pods(
    spec: &LoadTestSpec,
    s: &Synthesized,
    allow_commands: bool,
) -> Result<(PodView, PodView), Failure> {
    let (master, worker, refused) = spec_pods(spec, s, allow_commands);
    if !refused.is_empty() {
        return Err(Failure::failed(
            LocalError::Refused(refusal_lines(&refused)).to_string(),
        ));
    }
    Ok((master, worker))
}

/// `--workers`, else the spec's worker replicas up to the CPUs here. A headless spec run waits
/// for exactly its worker pods (× processes): that many are started whatever `--workers` says.
fn worker_count(asked: Option<usize>, spec: &LoadTestSpec) -> usize {
    let spec_workers = spec
        .extensions
        .run
        .as_ref()
        .map(|_| spec.worker.replicas.max(1) as usize);
    match (asked, spec_workers) {
        (Some(w), Some(expected)) if w != expected => {
            eprintln!(
                "locust-planton: warning: the spec's run expects {expected} worker pod(s); the master waits for them, so {expected} are started, not {w}"
            );
            expected
        }
        (Some(w), _) => w,
        (None, Some(expected)) => expected,
        (None, None) => {
            let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
            (spec.worker.replicas.max(1) as usize).min(cpus)
        }
    }
}

/// The pods' Locust: what `--install-locust` installs and what `python` is compared with; the
/// chart's when the image does not tell.
fn pods_locust(s: &Synthesized, install_locust: bool, python: &str) -> String {
    let chart_version = &crate::lock::chart_lock().app_version;
    match &s.locust.version {
        Some(v) => v.clone(),
        None => {
            eprintln!(
                "locust-planton: warning: the pods run image `{}`, whose Locust version cannot be known (not locustio/locust with a release tag, or pinned by digest); local runs {}",
                s.locust.image,
                if install_locust {
                    format!("Locust {chart_version} (the chart's)")
                } else {
                    format!("{python}'s Locust")
                }
            );
            chart_version.clone()
        }
    }
}

/// Names the Locust that will run, warning when it is not the pods'.
fn compare_installed_locust(s: &Synthesized, options: &LocalOptions) {
    let wanted = &options.locust_version;
    match options.interpreter.locust.clone() {
        Some(v) if s.locust.version.as_ref().is_some_and(|w| *w != v) => eprintln!(
            "locust-planton: warning: {} has Locust {v}, but the pods run Locust {wanted} (image {}); results may differ — --install-locust runs {wanted}",
            options.python, s.locust.image
        ),
        Some(v) => eprintln!("locust-planton: Locust {v} ({})", options.python),
        None => {}
    }
}

/// Prints the summary (after comparing with `--baseline`, which updates the folder's files);
/// the run's verdict when it left a summary.
fn report_results(
    dir: &Path,
    name: &str,
    baseline: Option<&str>,
) -> Result<Option<Verdict>, Failure> {
    let mut verdict = None;
    let mut compared = String::new();
    if let Some(arg) = baseline
        && crate::results::read_summary(dir).is_some()
    {
        let under = dir.parent().unwrap_or(dir);
        match crate::results::resolve_baseline(arg, name, under, Some(dir))
            .map_err(|e| Failure::failed(format!("--baseline {e}")))?
        {
            Some((summary, against)) => {
                let (v, table) =
                    crate::results::apply_baseline(dir, &summary, &against, super::exit::REGRESSED)
                        .map_err(Failure::failed)?;
                verdict = Some(v);
                compared = table;
            }
            None => {
                compared = format!(
                    "no earlier passed run of {name} in {}: nothing to compare with (this run can be the next one's baseline)\n",
                    under.display()
                )
            }
        }
    }
    match crate::results::read_summary(dir) {
        Some(summary) => {
            verdict = Some(crate::results::Verdict::of(&summary));
            eprint!(
                "locust-planton: results of {name}:\n{compared}{}",
                crate::results::table(&summary)
            )
        }
        None => eprintln!("locust-planton: the run left no summary.json (it did not finish)"),
    }
    // A run that wrote nothing leaves no empty folder behind.
    remove_if_empty(&dir.to_path_buf());
    if dir.exists() {
        eprintln!("locust-planton: results in {}", dir.display());
    }
    Ok(verdict)
}
