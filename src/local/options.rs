//! What a local run is asked to do: the options `commands::local` builds from the command line
//! and the spec.

use super::interpreter::Interpreter;
use super::sandbox::SandboxMode;
use std::path::PathBuf;

#[derive(Clone, Debug)]
pub struct Headless {
    pub users: u32,
    pub spawn_rate: f64,
    pub run_time: String,
}

/// How many ports past a taken default to try.
pub(super) const PORT_TRIES: u16 = 100;

/// A port and whether the user chose it: a chosen port that is taken is an error, a default one
/// moves up to the next free one.
#[derive(Clone, Copy, Debug)]
pub struct Port {
    pub port: u16,
    pub explicit: bool,
}

#[derive(Clone, Debug)]
pub struct LocalOptions {
    pub workers: usize,
    pub host: Option<String>,
    pub headless: Option<Headless>,
    /// The Python that runs Locust (`python3 -m locust`), as given; `interpreter` is what it
    /// resolved to.
    pub python: String,
    pub interpreter: Interpreter,
    pub master_port: Port,
    pub web_port: Port,
    /// Extra arguments for the master (after `--`), e.g. `--csv out`.
    pub master_args: Vec<String>,
    pub sandbox: SandboxMode,
    /// The Locust release the pods run (named when this Python has none).
    pub locust_version: String,
    /// Where a headless run's results are copied (docs/local.md "Results of a local run"); set by
    /// `commands::local` for headless runs.
    pub results_dir: Option<PathBuf>,
    /// metadata.name, for the results' summary.
    pub name: String,
    /// Run commands the spec set that locust-planton did not generate (each printed first);
    /// without it they are refused (docs/local.md "Confinement").
    pub allow_commands: bool,
}
