//! `local`: the rendered pods as local processes (see `crate::local`).

use super::{Failure, Loaded, SpecFile, exit};
use crate::local::pod::PodView;
use crate::local::sandbox::SandboxMode;
use crate::local::{
    Headless, Interpreter, LocalError, LocalOptions, Port, install_locust, probe_interpreter,
    refusal_lines, resolve_python, run, signal_exit_code, spec_pods, watch_signals,
};
use crate::results::Verdict;
use crate::spec::LoadTestSpec;
use crate::values::Synthesized;
use std::path::{Path, PathBuf};

/// `local --sandbox`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum SandboxArg {
    Auto,
    Required,
    Off,
}

/// Run the test locally, exactly as the pods would.   e.g. locust-planton local -f test.yaml --headless --users 10
#[derive(clap::Args, Clone)]
#[command(
    after_help = exit::help(
        "Examples:\n  locust-planton local -f examples/checkout.yaml --host http://127.0.0.1:8080\n  \
    locust-planton local -f examples/checkout.yaml --workers 2 --headless --users 20 --spawn-rate 5 --run-time 30s\n  \
    locust-planton local -f test.yaml --headless --users 5 --run-time 10s -- --csv results\n\n\
    Writes each pod's ConfigMaps and emptyDirs under a temporary directory, runs the pip init container,\n\
    then the master and workers with the pods' command, args and env (master host 127.0.0.1). Output is\n\
    prefixed by role. Where bubblewrap (`bwrap`) works, every process runs sandboxed as the pod would: its\n\
    UID/GID, read-only root, volumes at the pod's paths, no capabilities, no new privileges, the pod's env.\n\
    Default ports (5557, 8089) move to the next free one when taken; a port you pass must be free.\n\
    Needs Python with Locust (`python3 -m locust`); --install-locust makes a cached virtualenv.\n\
    Headless runs leave Locust's HTML report, its CSVs, summary.json and junit.xml in --results-dir\n\
    (default locust-results/<name>-<UTC time>/) and print a summary ending in the verdict: PASSED, FAILED\n\
    (spec.loadTest.run.thresholds, early aborts), REGRESSED (--baseline) or INVALID (the load generator\n\
    saturated its CPU or lost workers).",
        &[(exit::OK, "PASSED, or the web UI was stopped with Ctrl-C"), (exit::FAILED, "FAILED: requests failed or a threshold was missed (headless), or invalid input"), (exit::USAGE, "usage error"), (exit::REGRESSED, "REGRESSED against --baseline"), (exit::INVALID, "INVALID: the load generator was saturated or degraded")],
    )
)]
pub struct LocalArgs {
    #[command(flatten)]
    pub spec: SpecFile,
    /// Worker processes [default: the spec's worker replicas, at most one per CPU].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub workers: Option<u16>,
    /// Target URL (overrides spec.loadTest.host).
    #[arg(long, value_name = "URL")]
    pub host: Option<String>,
    /// Run without the web UI and exit with the master's exit code.
    #[arg(long)]
    pub headless: bool,
    /// Users to simulate (headless).
    #[arg(long, value_name = "N", default_value_t = 1, requires = "headless",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub users: u32,
    /// Users started per second (headless) [default: --users].
    #[arg(long, value_name = "R", requires = "headless")]
    pub spawn_rate: Option<f64>,
    /// How long to run (headless), e.g. 30s, 5m.
    #[arg(long, value_name = "T", default_value = "1m", requires = "headless")]
    pub run_time: String,
    /// The Python with Locust [default: $LOCUST_PLANTON_PYTHON, else python3].
    #[arg(long, value_name = "PATH")]
    pub python: Option<String>,
    /// Use (and create if needed) a cached virtualenv with the pods' Locust version
    /// (spec.loadTest.locustVersion or the image tag; else the chart's).
    #[arg(long)]
    pub install_locust: bool,
    /// Port the master listens on for workers [default: 5557, or the next free one].
    #[arg(long, value_name = "PORT")]
    pub master_port: Option<u16>,
    /// Port of the web UI (on 127.0.0.1) [default: 8089, or the next free one].
    #[arg(long, value_name = "PORT")]
    pub web_port: Option<u16>,
    /// Run each pod process in a bubblewrap sandbox with the pod's security context:
    /// `auto` where bwrap works (else a warning), `required` refuses to run without it.
    #[arg(long, value_enum, value_name = "MODE", default_value = "auto")]
    pub sandbox: SandboxArg,
    /// Same as --sandbox off.
    #[arg(long, conflicts_with = "sandbox")]
    pub no_sandbox: bool,
    /// Headless runs: the folder receiving the HTML report, CSVs, summary.json and junit.xml
    /// (created; must be empty) [default: a new locust-results/<name>-<UTC time>/ here].
    #[arg(long, value_name = "DIR")]
    pub results_dir: Option<String>,
    /// Headless runs: compare with an earlier run — a summary.json (or its folder), or `last`:
    /// the newest passed run of the same name beside this run's results folder. Worse by more
    /// than spec.loadTest.run.baseline's tolerances: REGRESSED, exit 5.
    #[arg(long, value_name = "FILE|last")]
    pub baseline: Option<String>,
    /// Also run commands the spec set (helmValues: master.command, master.args,
    /// master.initContainers, worker.command, …), printing each before it runs.
    #[arg(long)]
    pub allow_commands: bool,
    /// Extra Locust arguments for the master.
    #[arg(last = true, value_name = "LOCUST ARGS")]
    pub master_args: Vec<String>,
}

/// What `local` learns from the spec and this machine before it runs: with the flags, the rest
/// of a complete [`LocalOptions`].
struct Found {
    workers: usize,
    /// The Python that runs Locust, resolved to a path.
    python: PathBuf,
    interpreter: Interpreter,
    locust_version: String,
    /// Where a headless run's results go.
    results_dir: Option<PathBuf>,
    name: String,
}

impl LocalArgs {
    /// `--python`, else `$LOCUST_PLANTON_PYTHON`, else `python3`: the Python as the user named it.
    fn python(&self) -> String {
        self.python
            .clone()
            .or_else(|| std::env::var("LOCUST_PLANTON_PYTHON").ok())
            .unwrap_or_else(|| "python3".into())
    }

    fn sandbox(&self) -> SandboxMode {
        match (self.no_sandbox, self.sandbox) {
            (true, _) | (_, SandboxArg::Off) => SandboxMode::Off,
            (_, SandboxArg::Auto) => SandboxMode::Auto,
            (_, SandboxArg::Required) => SandboxMode::Required,
        }
    }

    /// `--headless` with its load: `--spawn-rate` defaults to `--users`.
    fn headless(&self) -> Option<Headless> {
        self.headless.then(|| Headless {
            users: self.users,
            spawn_rate: self.spawn_rate.unwrap_or(f64::from(self.users)),
            run_time: self.run_time.clone(),
        })
    }

    /// The run's complete options: these flags and what was `found`.
    fn options(self, found: Found) -> LocalOptions {
        LocalOptions {
            workers: found.workers,
            headless: self.headless(),
            sandbox: self.sandbox(),
            host: self.host,
            python: found.python.display().to_string(),
            interpreter: found.interpreter,
            master_port: port(self.master_port, 5557),
            web_port: port(self.web_port, 8089),
            master_args: self.master_args,
            locust_version: found.locust_version,
            results_dir: found.results_dir,
            name: found.name,
            allow_commands: self.allow_commands,
        }
    }
}

/// A `local` port: the user's (fails when taken) or the default (moves to a free one).
fn port(chosen: Option<u16>, default: u16) -> Port {
    Port {
        port: chosen.unwrap_or(default),
        explicit: chosen.is_some(),
    }
}

/// Returns the exit code to use (the master's, headless).
pub fn local(a: LocalArgs) -> Result<u8, Failure> {
    let l = Loaded::from_path(&a.spec.file)?;
    // A baseline file that cannot be read is refused before anything runs.
    if let Some(file) = a.baseline.as_deref().filter(|b| *b != "last") {
        crate::results::baseline::read(Path::new(file)).map_err(Failure::flag("--baseline"))?;
    }
    eprint!("{}", l.warning_text());
    let (spec, s) = (&l.spec, &l.synthesized);
    let (master, worker) = confined_pods(spec, s, a.allow_commands)?;
    // From here on a signal ends every process started and the run exits 128 + its number.
    watch_signals()?;
    let workers = worker_count(a.workers.map(usize::from), spec);
    let named = a.python();
    let locust_version = pods_locust(s, a.install_locust, &named);
    let python = if a.install_locust {
        install_locust(&locust_version)?
    } else {
        named
    };
    let python = resolve_python(&python)?;
    let interpreter = probe_interpreter(&python)?;
    compare_installed_locust(s, &locust_version, &python, &interpreter);
    let headless = a.headless || spec.extensions.run.is_some();
    let results_dir = if headless {
        let cwd = std::env::current_dir()?;
        let dir = crate::results::prepare_dir(a.results_dir.as_deref(), &spec.name, &cwd)
            .map_err(Failure::flag("--results-dir"))?;
        Some(dir)
    } else {
        if a.results_dir.is_some() || a.baseline.is_some() {
            eprintln!(
                "locust-planton: warning: --results-dir and --baseline apply to headless runs only (--headless or spec.loadTest.run); this run has the web UI"
            );
        }
        None
    };
    let (chosen_dir, baseline) = (a.results_dir.is_some(), a.baseline.clone());
    let options = a.options(Found {
        workers,
        python,
        interpreter,
        locust_version,
        results_dir,
        name: spec.name.clone(),
    });
    let result = run(&master, &worker, &options);
    let mut verdict = None;
    match (&result, &options.results_dir) {
        (Ok(_), Some(dir)) => verdict = report_results(dir, &spec.name, baseline.as_deref())?,
        // The cause comes first (printed by the caller); an empty folder is not left behind,
        // nor the default one's `locust-results/` when this run made it and nothing else is there.
        (Err(_), Some(dir)) => {
            remove_if_empty(dir);
            if !chosen_dir && let Some(parent) = dir.parent() {
                remove_if_empty(&parent.to_path_buf());
            }
        }
        _ => {}
    }
    match (result, verdict) {
        (Ok(_), Some(Verdict::Regressed)) => Ok(exit::REGRESSED),
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
        return Err(Failure::from(LocalError::Refused(refusal_lines(&refused))));
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

/// Names the Locust that will run (`python`'s), warning when it is not the pods' (`wanted`).
fn compare_installed_locust(
    s: &Synthesized,
    wanted: &str,
    python: &Path,
    interpreter: &Interpreter,
) {
    let python = python.display();
    match interpreter.locust.clone() {
        Some(v) if s.locust.version.as_ref().is_some_and(|w| *w != v) => eprintln!(
            "locust-planton: warning: {python} has Locust {v}, but the pods run Locust {wanted} (image {}); results may differ — --install-locust runs {wanted}",
            s.locust.image
        ),
        Some(v) => eprintln!("locust-planton: Locust {v} ({python})"),
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
            .map_err(Failure::flag("--baseline"))?
        {
            Some((summary, against)) => {
                let (v, table) =
                    crate::results::apply_baseline(dir, &summary, &against, exit::REGRESSED)
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    /// `local`'s flags alone, parsed as clap parses them.
    #[derive(Parser)]
    struct Line {
        #[command(flatten)]
        local: LocalArgs,
    }

    fn found() -> Found {
        Found {
            workers: 3,
            python: PathBuf::from("/opt/venv/bin/python3"),
            interpreter: Interpreter::default(),
            locust_version: "2.32.2".into(),
            results_dir: Some(PathBuf::from("locust-results/demo")),
            name: "demo".into(),
        }
    }

    #[test]
    fn the_flags_and_what_was_found_make_complete_options() {
        struct Case {
            line: &'static str,
            sandbox: SandboxMode,
            /// `None`: the web UI.
            spawn_rate: Option<f64>,
            /// Master port, chosen; web port, chosen.
            ports: (u16, bool, u16, bool),
        }
        let cases = [
            Case {
                line: "-f t.yaml",
                sandbox: SandboxMode::Auto,
                spawn_rate: None,
                ports: (5557, false, 8089, false),
            },
            Case {
                line: "-f t.yaml --headless --users 20",
                sandbox: SandboxMode::Auto,
                spawn_rate: Some(20.0),
                ports: (5557, false, 8089, false),
            },
            Case {
                line: "-f t.yaml --headless --users 20 --spawn-rate 2.5 --sandbox required",
                sandbox: SandboxMode::Required,
                spawn_rate: Some(2.5),
                ports: (5557, false, 8089, false),
            },
            Case {
                line: "-f t.yaml --no-sandbox --master-port 6000 --web-port 8089",
                sandbox: SandboxMode::Off,
                spawn_rate: None,
                ports: (6000, true, 8089, true),
            },
            Case {
                line: "-f t.yaml --sandbox off",
                sandbox: SandboxMode::Off,
                spawn_rate: None,
                ports: (5557, false, 8089, false),
            },
        ];
        for case in cases {
            let args =
                Line::try_parse_from(std::iter::once("local").chain(case.line.split_whitespace()))
                    .unwrap_or_else(|e| panic!("{}: {e}", case.line))
                    .local;
            let o = args.options(found());
            let line = case.line;
            assert_eq!(o.sandbox, case.sandbox, "{line}");
            assert_eq!(o.headless.map(|h| h.spawn_rate), case.spawn_rate, "{line}");
            let ports = (
                o.master_port.port,
                o.master_port.explicit,
                o.web_port.port,
                o.web_port.explicit,
            );
            assert_eq!(ports, case.ports, "{line}");
            // What was found is carried over whole, nothing left to fill in later.
            assert_eq!(
                (o.workers, o.python.as_str(), o.locust_version.as_str()),
                (3, "/opt/venv/bin/python3", "2.32.2"),
                "{line}"
            );
            assert_eq!(o.name, "demo", "{line}");
            assert_eq!(
                o.results_dir,
                Some(PathBuf::from("locust-results/demo")),
                "{line}"
            );
        }
    }
}
