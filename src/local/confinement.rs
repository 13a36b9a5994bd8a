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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local::pod::{Mount, Security, Source};

    fn container(name: &str, mounts: &[(&str, &str)], foreign: &[&str]) -> ContainerView {
        ContainerView {
            name: name.into(),
            command: vec!["sh".into(), "-c".into()],
            args: vec!["echo it's me".into()],
            env: Vec::new(),
            mounts: mounts
                .iter()
                .map(|(field, path)| Mount {
                    path: path.to_string(),
                    source: Source::EmptyDir,
                    field: field.to_string(),
                })
                .collect(),
            security: Security {
                run_as_user: 1000,
                run_as_group: 1000,
                read_only_root: true,
                add_caps: Vec::new(),
            },
            foreign: foreign.iter().map(|f| f.to_string()).collect(),
        }
    }

    fn pod(role: &'static str, init: Vec<ContainerView>, main: ContainerView) -> PodView {
        PodView {
            role,
            init_containers: init,
            container: main,
        }
    }

    const CLIMBING: (&str, &str) = ("master.extraVolumeMounts[0].mountPath", "/data/../../etc");
    const FOREIGN: &str = "worker.args (set by spec.helmValues[\"worker.args\"])";

    #[test]
    fn the_pods_run_is_given_are_refused_paths_first() {
        struct Case {
            name: &'static str,
            master: PodView,
            worker: PodView,
            allow_commands: bool,
            want: Vec<(&'static str, bool)>,
        }
        let plain = || {
            container(
                "locust",
                &[("loadtest.locust_locustfile_path", "/mnt/locust")],
                &[],
            )
        };
        let climbing_line = "master.extraVolumeMounts[0].mountPath: `/data/../../etc` climbs out with `..`; local keeps every pod path inside its temporary folder and refuses it (a container resolves it to `/etc`: write that)";
        let command_line = "worker.args (set by spec.helmValues[\"worker.args\"]): `sh -c 'echo it'\\''s me'` is not a command locust-planton generated";
        let cases = [
            Case {
                name: "nothing to refuse",
                master: pod("master", Vec::new(), plain()),
                worker: pod("worker", Vec::new(), plain()),
                allow_commands: false,
                want: Vec::new(),
            },
            Case {
                name: "a climbing path, once though two containers mount it",
                master: pod(
                    "master",
                    vec![container("pip-install", &[CLIMBING], &[])],
                    container("locust", &[CLIMBING], &[]),
                ),
                worker: pod("worker", Vec::new(), plain()),
                allow_commands: false,
                want: vec![("master.extraVolumeMounts[0].mountPath", false)],
            },
            Case {
                name: "a foreign command after the path",
                master: pod("master", Vec::new(), plain()),
                worker: pod(
                    "worker",
                    Vec::new(),
                    container("locust", &[CLIMBING], &[FOREIGN]),
                ),
                allow_commands: false,
                want: vec![
                    ("master.extraVolumeMounts[0].mountPath", false),
                    ("worker.args", true),
                ],
            },
            Case {
                name: "--allow-commands runs the command, never the path",
                master: pod("master", Vec::new(), plain()),
                worker: pod(
                    "worker",
                    Vec::new(),
                    container("locust", &[CLIMBING], &[FOREIGN]),
                ),
                allow_commands: true,
                want: vec![("master.extraVolumeMounts[0].mountPath", false)],
            },
        ];
        for c in cases {
            let got = pod_refusals(&c.master, &c.worker, c.allow_commands);
            let by: Vec<(&str, bool)> = got.iter().map(|r| (r.by.as_str(), r.command)).collect();
            assert_eq!(by, c.want, "{}", c.name);
            for r in &got {
                let want = if r.command {
                    command_line
                } else {
                    climbing_line
                };
                assert_eq!(r.line, want, "{}", c.name);
            }
        }
    }

    #[test]
    fn the_hint_follows_only_refused_commands() {
        let path = Refusal {
            by: "spec".into(),
            line: "a path".into(),
            command: false,
        };
        let command = Refusal {
            by: "spec".into(),
            line: "a command".into(),
            command: true,
        };
        assert_eq!(refusal_lines(&[]), Vec::<String>::new());
        assert_eq!(refusal_lines(std::slice::from_ref(&path)), ["a path"]);
        assert_eq!(
            refusal_lines(&[path, command]),
            ["a path", "a command", ALLOW_COMMANDS_HINT]
        );
    }

    #[test]
    fn a_spec_is_refused_naming_the_helm_values_key() {
        let text = format!(
            "{}    master.command: '[\"sh\", \"-c\", \"id\"]'\n",
            include_str!("../../fixtures/specs/valid/local-climbing-paths.yaml")
        );
        let (spec, _) = crate::spec::read(&text).unwrap();
        let s = crate::values::synthesize(&spec);
        let lines = |allow_commands| -> Vec<(String, String)> {
            spec_pods(&spec, &s, allow_commands)
                .2
                .into_iter()
                .map(|r| (r.by, r.line))
                .collect()
        };
        let key = |k: &str| format!("spec.helmValues[\"{k}\"]");
        let paths = vec![
            (
                key("loadtest.locust_locustfile_path"),
                format!(
                    "loadtest.locust_locustfile_path (set by {}): `/mnt/../../locust` climbs out with `..`; local keeps every pod path inside its temporary folder and refuses it (a container resolves it to `/locust`: write that)",
                    key("loadtest.locust_locustfile_path")
                ),
            ),
            (
                key("master.extraVolumeMounts"),
                format!(
                    "master.extraVolumeMounts[1].mountPath (set by {}): `/../../../home/locust` climbs out with `..`; local keeps every pod path inside its temporary folder and refuses it (a container resolves it to `/home/locust`: write that)",
                    key("master.extraVolumeMounts")
                ),
            ),
        ];
        assert_eq!(lines(true), paths);
        let mut all = paths;
        all.push((
            key("master.command"),
            format!("master.command (set by {}): `sh -c id --master` is not a command locust-planton generated", key("master.command")),
        ));
        assert_eq!(lines(false), all);
    }
}
