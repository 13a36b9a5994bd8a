//! Confinement: the one place `local` decides what it refuses to run (pod paths that climb out
//! with `..`, commands locust-planton did not generate: `spec_pods` for a spec, `pod_refusals`
//! for the pods `run` is given, both from `path_refusal` and `command_refusal`), and how the
//! pods are isolated (`choose_sandbox`, `start_network`: what `--sandbox` asks for, and what
//! happens when bubblewrap or pasta is missing).

use super::error::LocalError;
use super::net;
use super::pod::{self, ContainerView, PodView};
use super::sandbox::{self, Sandbox, SandboxMode};
use std::path::Path;

/// A command line as a shell would need it typed (for display only; nothing runs a shell).
pub fn shell_line(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            let plain = !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
            if plain {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The containers `local` runs: the master's init containers, the master and the worker.
pub(super) fn running<'a>(master: &'a PodView, worker: &'a PodView) -> Vec<&'a ContainerView> {
    master
        .init_containers
        .iter()
        .chain([&master.container, &worker.container])
        .collect()
}

/// One thing `local` refuses to run: the spec field that set it, and the line saying why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// `spec.helmValues["master.args"]`, or `spec` when no helmValues key set it.
    pub by: String,
    pub line: String,
    /// A command locust-planton did not generate (`--allow-commands` runs it).
    pub command: bool,
}

/// A pod path that climbs out with `..`, refused; `field` names the chart value (and who set
/// it), `by` the spec field. `None` for a path that stays inside.
fn path_refusal(field: &str, path: &str, by: String) -> Option<Refusal> {
    let resolved = crate::values::pod_paths::climbs_out(path)?;
    Some(Refusal {
        by,
        line: climbing_line(field, path, &resolved),
        command: false,
    })
}

/// A container whose command locust-planton did not generate (marked by
/// `pod::mark_foreign`), refused; `by` names the spec field from the chart value. `None` for
/// its own.
fn command_refusal(c: &ContainerView, by: impl Fn(&str) -> String) -> Option<Refusal> {
    let first = c.foreign.first()?;
    let field = first.split(" (set by").next().unwrap_or_default();
    let mut argv = c.command.clone();
    argv.extend(c.args.iter().cloned());
    Some(Refusal {
        by: by(field),
        line: format!(
            "{}: `{}` is not a command locust-planton generated",
            c.foreign.join(", "),
            shell_line(&argv)
        ),
        command: true,
    })
}

/// Why a pod path with `..` is refused; `field` names the chart value (and who set it).
pub fn climbing_line(field: &str, path: &str, resolved: &str) -> String {
    format!(
        "{field}: `{path}` climbs out with `..`; local keeps every pod path inside its temporary folder and refuses it (a container resolves it to `{resolved}`: write that)"
    )
}

/// Everything in the pods `local` is given that it refuses (the guard of `run`, for pods not
/// made by [`spec_pods`]): pod paths of what runs that climb out with `..`, each named by its
/// chart value, then unless `allow_commands` the commands locust-planton did not generate.
pub fn pod_refusals(master: &PodView, worker: &PodView, allow_commands: bool) -> Vec<Refusal> {
    let mut out: Vec<Refusal> = Vec::new();
    for c in running(master, worker) {
        for m in &c.mounts {
            if let Some(r) = path_refusal(&m.field, &m.path, m.field.clone())
                && !out.contains(&r)
            {
                out.push(r);
            }
        }
    }
    if !allow_commands {
        out.extend(
            running(master, worker)
                .into_iter()
                .filter_map(|c| command_refusal(c, str::to_string)),
        );
    }
    out
}

/// The master and worker pods `local` runs for a spec, and everything in them it refuses: pod
/// paths that climb out with `..` (named from the values, as `check` names them), and unless
/// `allow_commands`, commands locust-planton did not generate (the pods of the same spec
/// without helmValues are its own). The one list both `local` (refusing) and `check`
/// (warning) use.
pub fn spec_pods(
    spec: &crate::spec::LoadTestSpec,
    s: &crate::values::Synthesized,
    allow_commands: bool,
) -> (PodView, PodView, Vec<Refusal>) {
    let by = |field: &str| {
        let key = field.split('[').next().unwrap_or(field);
        crate::values::helm_values::set_by(&spec.helm_values, key)
    };
    let mut refused: Vec<Refusal> = crate::values::pod_paths::pod_paths(&s.values)
        .into_iter()
        .filter_map(|(field, path)| {
            let set_by = by(&field);
            path_refusal(&format!("{field} (set by {set_by})"), &path, set_by)
        })
        .collect();
    let own = crate::values::synthesize(&crate::spec::LoadTestSpec {
        helm_values: Vec::new(),
        ..spec.clone()
    });
    let mut master = pod::pod_view(s, "master");
    let mut worker = pod::pod_view(s, "worker");
    pod::mark_foreign(
        &mut master,
        &pod::pod_view(&own, "master"),
        &spec.helm_values,
    );
    pod::mark_foreign(
        &mut worker,
        &pod::pod_view(&own, "worker"),
        &spec.helm_values,
    );
    if !allow_commands {
        refused.extend(
            running(&master, &worker)
                .into_iter()
                .filter_map(|c| command_refusal(c, by)),
        );
    }
    (master, worker, refused)
}

/// The refusals as `local` prints them, with what to do about commands last.
pub fn refusal_lines(refused: &[Refusal]) -> Vec<String> {
    let mut lines: Vec<String> = refused.iter().map(|r| r.line.clone()).collect();
    if refused.iter().any(|r| r.command) {
        lines.push(ALLOW_COMMANDS_HINT.into());
    }
    lines
}

const ALLOW_COMMANDS_HINT: &str = "local runs only the chart's Locust, the pip step and its own run wrapper; --allow-commands runs these too, printing each before it runs";

/// The sandbox to use, after saying once why there is none.
pub(super) fn choose_sandbox(mode: SandboxMode) -> Result<Option<Sandbox>, LocalError> {
    if mode == SandboxMode::Off {
        return Ok(None);
    }
    match sandbox::detect() {
        Ok(s) => Ok(Some(s)),
        Err(why) if mode == SandboxMode::Required => Err(LocalError::NoSandbox(why)),
        Err(why) => {
            eprintln!(
                "locust-planton: warning: {why}; the pods run unsandboxed (as you, with a writable root and your capabilities). --sandbox=required refuses instead; --no-sandbox silences this."
            );
            Ok(None)
        }
    }
}

/// The run's network namespace, or why there is none: `--sandbox required` refuses to run
/// without it, `auto` says so once and the pods share this machine's network.
pub(super) fn start_network(
    sandbox: &Sandbox,
    mode: SandboxMode,
    tmp: &Path,
    plan: &net::Plan,
    group: libc::pid_t,
) -> Result<Option<net::PodNetwork>, LocalError> {
    let started = match sandbox::find_in_path("pasta") {
        Some(pasta) => net::PodNetwork::start(&sandbox.bwrap, &pasta, tmp, plan, group),
        None => Err(LocalError::NoSandbox(
            "pasta (package passt) is not installed (Linux: `apt-get install passt`, `dnf install passt`), so the pods cannot get a network of their own".into(),
        )),
    };
    match started {
        Ok(n) => Ok(Some(n)),
        Err(LocalError::NoSandbox(why)) if mode != SandboxMode::Required => {
            eprintln!(
                "locust-planton: warning: {why}; the pods share this machine's network (its loopback services and abstract UNIX sockets are reachable from them). --sandbox=required refuses instead."
            );
            Ok(None)
        }
        Err(e) => Err(e),
    }
}
