//! The command line as helm and kubectl users expect it: each subcommand takes only its own
//! flags, `-o` is a format, files go through `--output-file`, dry runs are passed on, and
//! nonsense is refused. Formats are judged against kubectl's reading of the YAML form.
// Without `tools`, the helpers of the tool-driven tests below are unused.
#![cfg_attr(not(feature = "tools"), allow(dead_code, unused_imports))]

mod common;
use assert_cmd::Command;
use common::*;
use std::path::{Path, PathBuf};

fn run(args: &[&str]) -> std::process::Output {
    Command::new(bin()).args(args).output().unwrap()
}

fn example() -> String {
    repo().join("examples/checkout.yaml").display().to_string()
}

/// A helm that answers the version probe as `version` and logs every other call's arguments.
fn recording_helm(dir: &Path, version: &str) -> (PathBuf, PathBuf) {
    let log = dir.join("helm-args.log");
    let script = dir.join("helm");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ncase \"$1\" in\n  version) echo '{version}' ;;\n  *) printf '%s\\n' \"$*\" >> '{log}'; echo 'release \"checkout-load\" uninstalled' ;;\nesac\n",
            log = log.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (script, log)
}

#[test]
fn uninstall_dry_run_is_passed_to_helm_never_dropped() {
    for version in ["v3.17.2", "v4.3.1"] {
        let dir = tempfile::tempdir().unwrap();
        let (helm, log) = recording_helm(dir.path(), version);
        let out = Command::new(bin())
            .args([
                "uninstall",
                "-f",
                &example(),
                "--dry-run",
                "--context",
                "perf",
                // No cluster here: the results check (tests/cluster.rs) is skipped.
                "--discard-results",
            ])
            .arg("--helm")
            .arg(&helm)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            read(&log),
            "uninstall checkout-load --namespace load-tests --kube-context perf --dry-run\n",
            "{version}"
        );
    }
}

/// The real helms know `helm uninstall --dry-run`: against an unreachable API server they fail
/// on the connection, not on the flag.
#[cfg(feature = "tools")]
#[test]
fn real_helm_accepts_uninstall_dry_run() {
    for helm in [helm3(), helm4()] {
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(
            &kubeconfig,
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:9'}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\nusers:\n- name: u\n  user: {token: t}\n",
        )
        .unwrap();
        let out = Command::new(bin())
            .args([
                "uninstall",
                "-f",
                &example(),
                "--dry-run",
                "--discard-results",
            ])
            .arg("--helm")
            .arg(&helm)
            .env("KUBECONFIG", &kubeconfig)
            .env("HOME", dir.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{}: {stderr}", helm.display());
        assert!(!stderr.contains("unknown flag"), "{stderr}");
        assert!(stderr.contains("127.0.0.1:9"), "{stderr}");
    }
}

/// `uninstall` reads the release's run through kubectl before helm runs: when kubectl cannot
/// tell (here it fails), nothing is uninstalled, kubectl's error is passed on (exit 4) and the
/// message names the way to uninstall without looking.
#[test]
fn uninstall_without_a_readable_run_leaves_the_release_and_says_how_to_skip_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let (helm, log) = recording_helm(dir.path(), "v3.17.2");
    let kubectl = dir.path().join("kubectl");
    std::fs::write(
        &kubectl,
        "#!/bin/sh\necho 'error: You must be logged in to the server (Unauthorized)' >&2\nexit 1\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&kubectl, std::fs::Permissions::from_mode(0o755)).unwrap();
    for extra in [&[][..], &["--dry-run"][..], &["--results-dir", "kept"][..]] {
        let out = Command::new(bin())
            .current_dir(dir.path())
            .args(["uninstall", "-f", &example()])
            .args(extra)
            .arg("--helm")
            .arg(&helm)
            .env("KUBECTL", &kubectl)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{extra:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{extra:?}");
        assert!(
            stderr.contains("Unauthorized")
                && stderr.contains("--discard-results uninstalls without looking"),
            "{extra:?}: {stderr}"
        );
        assert!(!log.exists(), "{extra:?}: helm ran: {}", read(&log));
        assert!(!dir.path().join("kept").exists(), "{extra:?}");
    }
    // --discard-results: kubectl is never asked, helm uninstalls.
    let out = Command::new(bin())
        .args(["uninstall", "-f", &example(), "--discard-results"])
        .arg("--helm")
        .arg(&helm)
        .env("KUBECTL", &kubectl)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        read(&log),
        "uninstall checkout-load --namespace load-tests\n"
    );
}

#[test]
fn flags_a_command_cannot_honour_are_usage_errors() {
    let f = example();
    for args in [
        vec![
            "uninstall",
            "-f",
            &f,
            "--discard-results",
            "--results-dir",
            "x",
        ],
        vec!["wait", "r", "--discard-results"],
        vec!["uninstall", "-f", &f, "--atomic"],
        vec!["uninstall", "-f", &f, "--chart", "x.tgz"],
        vec!["uninstall", "-f", &f, "-o", "json"],
        vec!["uninstall", "-f", &f, "--high-uid"],
        vec!["template", "-f", &f, "--wait"],
        vec!["values", "-f", &f, "--namespace", "x"],
        vec!["check", "-f", &f, "--output-file", "x"],
        vec!["plan", "--users", "0"],
        vec!["plan", "--users", "10", "--rps", "0"],
        vec!["plan", "--users", "10", "--rps", "-5"],
        vec!["local", "-f", &f, "--headless", "--users", "0"],
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn dash_o_is_a_format_and_a_file_name_there_is_a_usage_error_naming_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(bin())
        .current_dir(dir.path())
        .args(["values", "-f", &example(), "-o", "values.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("`values.yaml` is not a format (yaml|json); to write a file use --output-file values.yaml"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
    for (command, formats) in [
        ("check", "text|json"),
        ("status", "text|json"),
        ("wait", "text|json"),
        ("plan", "text|json"),
        ("chart", "text|json"),
        ("lint", "text|json"),
        ("install", "text|json"),
        ("version", "text|json"),
        ("values", "yaml|json"),
        ("configmaps", "yaml|json"),
        ("template", "yaml|json"),
        ("flux", "yaml|json"),
    ] {
        let help = String::from_utf8(run(&[command, "--help"]).stdout).unwrap();
        assert!(
            help.contains(&format!("-o, --output <{formats}>")),
            "{command}:\n{help}"
        );
    }
}

/// `-o json` is Go's reading of the YAML form: kubectl reads the YAML, and its JSON equals ours.
#[cfg(feature = "tools")]
#[test]
fn json_output_is_what_kubectl_reads_from_the_yaml() {
    let f = example();
    // ConfigMaps and Flux objects: a List whose items are kubectl's objects.
    for command in ["configmaps", "flux"] {
        let yaml = String::from_utf8(run(&[command, "-f", &f]).stdout).unwrap();
        let json: serde_json::Value =
            serde_json::from_slice(&run(&[command, "-f", &f, "-o", "json"]).stdout).unwrap();
        assert_eq!(json["kind"], "List", "{command}");
        let theirs = kubectl_objects(&yaml);
        let ours = json["items"].as_array().unwrap();
        assert_eq!(ours.len(), theirs.len(), "{command}");
        for (o, t) in ours.iter().zip(&theirs) {
            let mut t = t.clone();
            t["metadata"]["labels"]
                .as_object_mut()
                .map(|l| l.remove("oracle"));
            if t["metadata"]["labels"]
                .as_object()
                .is_some_and(|l| l.is_empty())
            {
                t["metadata"].as_object_mut().unwrap().remove("labels");
            }
            assert_eq!(o, &t, "{command}");
        }
    }
    // Values: one object; kubectl reads it as the spec of an object of an unknown kind.
    let yaml = String::from_utf8(run(&["values", "-f", &f]).stdout).unwrap();
    let ours: serde_json::Value =
        serde_json::from_slice(&run(&["values", "-f", &f, "-o", "json"]).stdout).unwrap();
    let wrapped = format!(
        "apiVersion: example.com/v1\nkind: Values\nmetadata:\n  name: v\nspec:\n{}",
        yaml.lines().map(|l| format!("  {l}\n")).collect::<String>()
    );
    assert_eq!(kubectl_objects(&wrapped)[0]["spec"], ours);
}

#[test]
fn report_formats_parse_as_json() {
    for args in [
        vec!["plan", "--users", "2500", "-o", "json"],
        vec!["chart", "-o", "json"],
        vec!["version", "-o", "json"],
    ] {
        let out = run(&args);
        assert!(out.status.success(), "{args:?}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(v.is_object(), "{args:?}");
    }
    let plan: serde_json::Value =
        serde_json::from_slice(&run(&["plan", "--users", "2500", "-o", "json"]).stdout).unwrap();
    assert_eq!(plan["manifest"]["spec"]["workerContainer"]["replicas"], 3);
    let text = String::from_utf8(run(&["plan", "--users", "2500"]).stdout).unwrap();
    assert!(text.contains("replicas: 3"), "{text}");
}

/// Post-render flags before a subcommand would apply to nothing: a usage error naming where
/// they go, never a run without them. Without a subcommand they still configure post-render.
#[cfg(feature = "tools")]
#[test]
fn profile_flags_before_a_subcommand_are_refused() {
    let f = example();
    for args in [
        vec!["--high-uid", "values", "-f", &f],
        vec!["--uid", "2000", "template", "-f", &f],
        vec!["--strict-chart", "check", "-f", &f],
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("go after the subcommand"),
            "{args:?}"
        );
    }
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: x\n";
    let out = Command::new(bin())
        .arg("--high-uid")
        .write_stdin(pod)
        .output()
        .unwrap();
    assert!(out.status.success());
    let objs = kubectl_objects(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(objs[0]["spec"]["securityContext"]["runAsUser"], 10001);
}

/// Nested subcommands have man pages too (`plugin install`), as their parents' SEE ALSO name them.
#[test]
fn man_pages_cover_nested_subcommands() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["man", "--dir", dir.path().to_str().unwrap()]);
    assert!(out.status.success());
    for page in [
        "locust-planton-plugin-install.1",
        "locust-planton-plugin-uninstall.1",
    ] {
        let text = read(dir.path().join(page));
        assert!(
            text.contains("share\\-with\\-helm3") || page.contains("uninstall"),
            "{page}"
        );
        assert!(text.contains("dry\\-run"), "{page}");
    }
    let plugin = read(dir.path().join("locust-planton-plugin.1"));
    assert!(
        plugin.contains("locust\\-planton\\-plugin\\-install(1)"),
        "{plugin}"
    );
}

const STDIN_PROMPT: &str = "locust-planton: reading manifests from stdin (Ctrl-D ends)\n";

/// Runs locust-planton with stdin a real pseudo-terminal (openpty): `typed` is typed on it,
/// then Ctrl-D (end of input on a terminal). Stdout and stderr are pipes.
fn with_terminal_stdin(log: &Path, args: &[&str], typed: &str) -> std::process::Output {
    use std::io::Write;
    use std::os::fd::{FromRawFd, OwnedFd};
    assert!(
        typed.is_empty() || typed.ends_with('\n'),
        "Ctrl-D ends input only at the start of a line"
    );
    let (mut controller, mut terminal) = (-1, -1);
    // SAFETY: openpty writes two new descriptors, owned below; null name, termios and size
    // ask for the defaults (canonical mode: Ctrl-D is end of input).
    let rc = unsafe {
        libc::openpty(
            &mut controller,
            &mut terminal,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just created by openpty and are owned nowhere else.
    let (controller, terminal) = unsafe {
        (
            OwnedFd::from_raw_fd(controller),
            OwnedFd::from_raw_fd(terminal),
        )
    };
    let child = std::process::Command::new(bin())
        .args(args)
        .env("LOCUST_PLANTON_LOG", log)
        .stdin(std::process::Stdio::from(terminal))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut keyboard = std::fs::File::from(controller);
    keyboard.write_all(typed.as_bytes()).unwrap();
    keyboard.write_all(b"\x04").unwrap();
    // The controller stays open until the program has exited (closing it hangs the terminal up).
    let out = child.wait_with_output().unwrap();
    drop(keyboard);
    out
}

/// A command reading stdin says so on stderr when stdin is a terminal (real pseudo-terminal):
/// `post-render`, `lint`, and `-f -` of the spec commands; never on a pipe, never when it
/// reads a file, never with `-q`. The input typed is read as usual.
#[test]
fn reading_a_terminal_says_so_on_stderr_only_there() {
    let config_map = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n";
    let spec = "apiVersion: kubernetes.project-planton.org/v1\nkind: LocustKubernetes\nmetadata:\n  name: demo\nspec:\n  loadTest:\n    name: demo\n    host: http://127.0.0.1:8080\n    mainPyContent: \"x = 1\\n\"\n";
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("post-render.log");
    let stream_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(stream_file.path(), config_map).unwrap();
    let stream_path = stream_file.path().to_str().unwrap();
    struct Case<'a> {
        args: Vec<&'a str>,
        typed: &'a str,
        stderr: String,
        stdout_has: &'a str,
    }
    let cases = [
        Case {
            args: vec!["post-render"],
            typed: config_map,
            stderr: STDIN_PROMPT.into(),
            stdout_has: "name: a",
        },
        Case {
            args: vec!["lint"],
            typed: config_map,
            stderr: format!("{STDIN_PROMPT}lint: 1 object, 0 problems\n"),
            stdout_has: "",
        },
        Case {
            args: vec!["check", "-f", "-"],
            typed: spec,
            stderr: format!("{STDIN_PROMPT}<stdin>: valid\n"),
            stdout_has: "",
        },
        Case {
            args: vec!["values", "-f", "-"],
            typed: spec,
            stderr: STDIN_PROMPT.into(),
            stdout_has: "fullnameOverride: demo",
        },
        // Nothing typed: the prompt, then the usual refusal.
        Case {
            args: vec!["post-render"],
            typed: "",
            stderr: STDIN_PROMPT.into(),
            stdout_has: "",
        },
        // Reading a file, the terminal is not read: no prompt.
        Case {
            args: vec!["lint", "-f", stream_path],
            typed: "",
            stderr: "lint: 1 object, 0 problems\n".into(),
            stdout_has: "",
        },
        Case {
            args: vec!["-q", "post-render"],
            typed: config_map,
            stderr: String::new(),
            stdout_has: "name: a",
        },
    ];
    for Case {
        args,
        typed,
        stderr,
        stdout_has,
    } in cases
    {
        let out = with_terminal_stdin(&log, &args, typed);
        let err = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(err.starts_with(&stderr), "{args:?} typed {typed:?}: {err}");
        if typed.is_empty() && args == ["post-render"] {
            assert_eq!(out.status.code(), Some(1), "{err}");
            assert!(err.contains("no Kubernetes objects on stdin"), "{err}");
        } else {
            assert_eq!(err, stderr, "{args:?}");
            assert!(out.status.success(), "{args:?}: {err}");
        }
        assert!(stdout.contains(stdout_has), "{args:?}: {stdout}");
    }
    // On a pipe: the same commands, no prompt.
    for (args, input) in [
        (vec!["post-render"], config_map),
        (vec!["lint"], config_map),
        (vec!["check", "-f", "-"], spec),
        (vec!["values", "-f", "-"], spec),
    ] {
        let out = Command::new(bin())
            .args(&args)
            .env("LOCUST_PLANTON_LOG", &log)
            .write_stdin(input)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("reading manifests"), "{args:?}: {err}");
    }
}

/// A valid spec whose scripts make `values`, `configmaps`, `template` and `flux` print more
/// than 1 MiB (two scripts of 720,000 bytes, each under a ConfigMap's 1 MiB).
fn big_spec(dir: &Path) -> PathBuf {
    let script = serde_json::Value::String("x = 1\n".repeat(120_000)).to_string();
    let path = dir.join("big.yaml");
    std::fs::write(
        &path,
        format!(
            "apiVersion: kubernetes.project-planton.org/v1\nkind: LocustKubernetes\nmetadata:\n  name: big\nspec:\n  loadTest:\n    name: big\n    host: http://127.0.0.1:8080\n    mainPyContent: {script}\n    libFilesContent:\n      big.py: {script}\n"
        ),
    )
    .unwrap();
    path
}

/// A stand-in kubectl answering `status`'s reads from a kubectl recording (no cluster here).
fn recorded_kubectl(dir: &Path, scenario: &str) -> PathBuf {
    let rec = fixture(&format!("kubectl/{scenario}"));
    let script = dir.join("kubectl");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ncase \"$*\" in\n  *' get deployments '*) cat '{rec}/deployments-master.json' ;;\n  *'component=master -o json') cat '{rec}/pods-master.json' ;;\n  *'component=worker -o json') cat '{rec}/pods-worker.json' ;;\n  *' logs '*) cat '{rec}/logs-master.txt' ;;\n  *) echo \"unexpected: $*\" >&2; exit 1 ;;\nesac\n",
            rec = rec.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

/// How stdout is closed on a command.
#[derive(Clone, Copy, Debug)]
enum Closed {
    /// After the first 100 bytes are read, as `| head -c 100` does.
    AfterHead,
    /// Before the program writes anything: the pipe's reader is gone at start.
    BeforeFirstWrite,
}

/// Runs locust-planton (its own Helm homes under `home`) with `stdin`, stdout closed as
/// `closed` says; returns (exit code, stderr, bytes read from stdout).
fn with_closed_stdout(
    home: &Path,
    args: &[String],
    stdin: &[u8],
    closed: Closed,
) -> (Option<i32>, String, usize) {
    use std::io::{Read, Write};
    let mut cmd = std::process::Command::new(bin());
    cmd.args(args)
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_DATA_HOME", home.join("data"))
        .env("XDG_CACHE_HOME", home.join("xdg-cache"))
        .env("LOCUST_PLANTON_LOG", home.join("post-render.log"))
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    match closed {
        Closed::AfterHead => cmd.stdout(std::process::Stdio::piped()),
        Closed::BeforeFirstWrite => {
            let (reader, writer) = std::io::pipe().unwrap();
            drop(reader);
            cmd.stdout(writer)
        }
    };
    let mut child = cmd.spawn().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut s = String::new();
        stderr.read_to_string(&mut s).unwrap();
        s
    });
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        // A program that does not read stdin closes it: that is not the test's concern.
        let _ = input.write_all(&stdin);
    });
    let mut read = 0;
    if let Some(mut out) = child.stdout.take() {
        let mut head = [0u8; 100];
        out.read_exact(&mut head).unwrap();
        read = head.len();
        drop(out);
    }
    let status = child.wait().unwrap();
    feeder.join().unwrap();
    (status.code(), stderr.join().unwrap(), read)
}

/// Commands whose output is data exit 0 quietly when their reader goes away (`| head -c 100`
/// on outputs over 1 MiB, and a stdout whose reader is gone before the first write): no
/// "Broken pipe", the command's own exit code. Commands whose output records a change keep
/// reporting a closed stdout (exit 1, naming stdout).
#[cfg(feature = "tools")]
#[test]
fn a_closed_stdout_ends_data_commands_quietly() {
    let home = tempfile::tempdir().unwrap();
    let big = big_spec(home.path()).display().to_string();
    let chart = repo()
        .join("tests/charts/locust-mini")
        .display()
        .to_string();
    let h4 = helm4().display().to_string();
    let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<String>>();
    // The stream: the big spec's ConfigMaps, over 1 MiB, post-rendered.
    let stream = lp(home.path())
        .args(["configmaps", "-f", &big])
        .output()
        .unwrap()
        .stdout;
    let large: Vec<(Vec<String>, &[u8])> = vec![
        (s(&["values", "-f", &big]), b""),
        (s(&["values", "-f", &big, "-o", "json"]), b""),
        (s(&["configmaps", "-f", &big]), b""),
        (
            s(&["template", "-f", &big, "--chart", &chart, "--helm", &h4]),
            b"",
        ),
        (s(&["flux", "-f", &big]), b""),
        (s(&["post-render"]), &stream),
    ];
    for (args, stdin) in &large {
        let whole = lp(home.path())
            .args(args)
            .write_stdin(stdin.to_vec())
            .output()
            .unwrap();
        assert!(whole.status.success(), "{args:?}");
        assert!(
            whole.stdout.len() > 1 << 20,
            "{args:?}: {} bytes",
            whole.stdout.len()
        );
        for closed in [Closed::AfterHead, Closed::BeforeFirstWrite] {
            let (code, err, read) = with_closed_stdout(home.path(), args, stdin, closed);
            assert_eq!(code, Some(0), "{args:?} {closed:?}: {err}");
            assert!(
                !err.contains("Broken pipe") && !err.contains("stdout:"),
                "{args:?} {closed:?}: {err}"
            );
            if let Closed::AfterHead = closed {
                assert_eq!(read, 100);
            }
        }
    }
    // Small data: the first write already fails.
    let dir = tempfile::tempdir().unwrap();
    let kubectl = recorded_kubectl(dir.path(), "completed-pass")
        .display()
        .to_string();
    let example = example();
    let small: Vec<(Vec<String>, Option<i32>)> = vec![
        (s(&["schema"]), Some(0)),
        (s(&["completion", "bash"]), Some(0)),
        (s(&["chart", "-o", "json"]), Some(0)),
        (s(&["version"]), Some(0)),
        (s(&["plan", "--users", "100"]), Some(0)),
        (s(&["helmfile", "-f", &example]), Some(0)),
        (s(&["check", "-f", &example, "-o", "json"]), Some(0)),
        (
            s(&[
                "status",
                "ci-run",
                "-n",
                "perf-ci",
                "--kubectl",
                &kubectl,
                "-o",
                "json",
            ]),
            Some(0),
        ),
        (
            s(&["template", "-f", &example, "--helm", &h4, "--print-command"]),
            Some(0),
        ),
        // A verdict keeps its code: an invalid manifest is still exit 1.
        (
            s(&[
                "check",
                "-f",
                fixture("specs/invalid/bad-kind.yaml").to_str().unwrap(),
            ]),
            Some(1),
        ),
    ];
    for (args, expected) in &small {
        let (code, err, _) = with_closed_stdout(home.path(), args, b"", Closed::BeforeFirstWrite);
        assert_eq!(code, *expected, "{args:?}: {err}");
        assert!(!err.contains("Broken pipe"), "{args:?}: {err}");
    }
    // `init` records a change (a manifest written): a closed stdout is reported.
    let (code, err, _) = with_closed_stdout(
        home.path(),
        &s(&["init", "demo", "--output-file", "-"]),
        b"",
        Closed::BeforeFirstWrite,
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.starts_with("locust-planton: stdout: Broken pipe"),
        "{err}"
    );
    // A stdout closed by the shell (`>&-`) reads as /dev/null: the data is dropped, exit 0.
    let out = std::process::Command::new("sh")
        .args(["-c", "\"$0\" schema >&-"])
        .arg(bin())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The command table of docs/commands.md is clap's: a flag, subcommand or exit code added,
/// renamed or removed without the table following fails here. `LP_UPDATE_DOCS=1` writes the
/// table into the document instead (the prose around it stays as written).
#[test]
fn the_command_table_in_the_docs_is_clap_s() {
    use locust_planton::cli::reference::{command_table, with_table};
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/commands.md");
    let document = std::fs::read_to_string(&path).unwrap();
    let table = command_table();
    let expected = with_table(&document, &table)
        .expect("docs/commands.md has the generated table's begin and end markers, in order");
    if std::env::var_os("LP_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &expected).unwrap();
        return;
    }
    assert!(
        document == expected,
        "docs/commands.md's command table differs from clap's; run `LP_UPDATE_DOCS=1 cargo test --test cli` and commit. The table:\n{table}"
    );
}
