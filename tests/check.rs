//! `locust-planton check` on the fixture corpus: exact paths and messages, exit codes, formats.
// Without `tools`, the helpers of the tool-driven tests below are unused.
#![cfg_attr(not(feature = "tools"), allow(dead_code, unused_imports))]

mod common;
use assert_cmd::Command;
use common::*;

fn check(path: &str) -> (String, String, i32) {
    let out = Command::new(bin())
        .args(["check", "-f", path])
        .output()
        .unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.code().unwrap(),
    )
}

/// `FILE:LINE:COL: path: message` → (the position, `FILE: path: message`). A YAML syntax
/// error concerns no field, so its position is part of what is expected: it stays as it is.
fn unlocated(label: &str, line: &str) -> (Option<(usize, usize)>, String) {
    let rest = line
        .strip_prefix(label)
        .expect("a finding starts with its file");
    if let Some(rest) = rest.strip_prefix(": ") {
        return (None, format!("{label}: {rest}"));
    }
    let mut parts = rest[1..].splitn(3, ':');
    let l = parts.next().unwrap().parse().expect("a line number");
    let c = parts.next().unwrap().parse().expect("a column number");
    let rest = parts.next().unwrap().strip_prefix(' ').unwrap();
    if rest.starts_with("invalid YAML: ") {
        return (None, line.to_string());
    }
    (Some((l, c)), format!("{label}: {rest}"))
}

/// A `# expect:` line as the finding it names: `FILE: path: message`, or for a syntax error
/// written `LINE:COL: invalid YAML: …`, `FILE:LINE:COL: invalid YAML: …`.
fn expected_finding(label: &str, expect: &str) -> String {
    let positioned = expect
        .split_once(": invalid YAML: ")
        .is_some_and(|(at, _)| at.split(':').all(|n| n.parse::<usize>().is_ok()));
    if positioned {
        format!("{label}:{expect}")
    } else {
        format!("{label}: {expect}")
    }
}

/// `2]`: what an index leaves after splitting at `[`.
fn is_index(k: &str) -> bool {
    k.strip_suffix(']')
        .is_some_and(|n| n.parse::<usize>().is_ok())
}

/// A finding's position points at its field's key, or at the key of a written ancestor (a
/// missing field), in either spelling: the text at LINE:COL starts with one of the path's keys.
fn assert_points_at_its_field(label: &str, text: &str, pos: (usize, usize), finding: &str) {
    let line = text
        .lines()
        .nth(pos.0 - 1)
        .unwrap_or_else(|| panic!("{label}: no line {}", pos.0));
    let at: String = line.chars().skip(pos.1 - 1).collect();
    let path = finding.split(": ").nth(1).unwrap();
    // Keys: `a.b` and `a["b.c"]`; `[2]` is an index, not a key.
    let keys: Vec<String> = path
        .split('.')
        .flat_map(|part| part.split('['))
        .filter(|k| !k.is_empty() && !is_index(k))
        .map(|k| k.trim_end_matches(']').trim_matches('"').to_string())
        .collect();
    let snake = |k: &str| -> String {
        k.chars()
            .flat_map(|c| {
                if c.is_ascii_uppercase() {
                    vec!['_', c.to_ascii_lowercase()]
                } else {
                    vec![c]
                }
            })
            .collect()
    };
    let item = path.ends_with(']') && !at.trim().is_empty();
    assert!(
        item || keys.iter().any(
            |k| at.trim_start_matches(['"', '\'']).starts_with(k.as_str())
                || at.trim_start_matches(['"', '\'']).starts_with(&snake(k))
        ),
        "{label}:{}:{}: `{at}` is not where {path} is written",
        pos.0,
        pos.1
    );
}

fn corpus(dir: &str) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(fixture(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

#[test]
fn invalid_manifests_report_every_error_exactly() {
    let files = corpus("specs/invalid");
    assert!(
        files.len() >= 30,
        "the invalid corpus must have at least 30 cases"
    );
    for f in files {
        let label = f.to_str().unwrap();
        let text = read(&f);
        let expected: Vec<String> = header_lines(&text, "# expect: ")
            .iter()
            .map(|l| expected_finding(label, l))
            .collect();
        assert!(!expected.is_empty(), "{label} has no `# expect:` line");
        let (stdout, stderr, code) = check(label);
        assert_eq!(code, 1, "{label}: exit code\n{stdout}{stderr}");
        let mut errors = Vec::new();
        for line in stdout.lines().filter(|l| !l.contains(": warning: ")) {
            let (pos, finding) = unlocated(label, line);
            if let Some(pos) = pos {
                assert_points_at_its_field(label, &text, pos, &finding);
            }
            errors.push(finding);
        }
        assert_eq!(errors, expected, "{label}");
    }
}

#[test]
fn valid_manifests_pass_with_their_warnings() {
    let files = corpus("specs/valid");
    assert!(files.len() >= 5);
    for f in files {
        let label = f.to_str().unwrap();
        let expected: Vec<String> = header_lines(&read(&f), "# expect-warning: ")
            .into_iter()
            .map(|l| format!("{label}: {l}"))
            .collect();
        let (stdout, stderr, code) = check(label);
        assert_eq!(code, 0, "{label}\n{stdout}{stderr}");
        let text = read(&f);
        let found: Vec<String> = stdout
            .lines()
            .map(|line| {
                let (pos, finding) = unlocated(label, line);
                if let Some(pos) = pos {
                    assert_points_at_its_field(label, &text, pos, &finding);
                }
                finding
            })
            .collect();
        assert_eq!(found, expected, "{label}");
    }
}

#[test]
fn examples_are_valid() {
    for f in corpus("../examples")
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
    {
        let (stdout, stderr, code) = check(f.to_str().unwrap());
        assert_eq!(code, 0, "{}\n{stdout}{stderr}", f.display());
    }
}

#[test]
fn json_output_lists_the_same_findings() {
    let f = fixture("specs/invalid/multiple-errors.yaml");
    let out = Command::new(bin())
        .args(["check", "-f", f.to_str().unwrap(), "--output", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let items = v.as_array().unwrap();
    let errors: Vec<_> = items.iter().filter(|i| i["severity"] == "error").collect();
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[1]["path"], "spec.workerContainer.replicas");
    assert_eq!(errors[1]["message"], "must be 0 or more, got -2");
    assert_eq!(errors[0]["file"], f.to_str().unwrap());
}

#[test]
fn stdin_is_read_with_dash() {
    let text = read(fixture("specs/invalid/upstream-is-enabled.yaml"));
    let out = Command::new(bin())
        .args(["check", "-f", "-"])
        .write_stdin(text)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "<stdin>:16:5: spec.ingress.isEnabled: unknown field (did you mean `enabled`?)\n\
         <stdin>:7:3: spec.loadTest.host: warning: no target host: enter it in the web UI, or set `spec.loadTest.host` (a locust-planton extension field)\n"
    );
}

#[test]
fn unreadable_file_names_it() {
    let (stdout, stderr, code) = check("/nonexistent/spec.yaml");
    assert_eq!(code, 1);
    assert!(stdout.is_empty());
    assert!(
        stderr.starts_with("locust-planton: /nonexistent/spec.yaml: cannot read:"),
        "{stderr}"
    );
}

#[test]
fn usage_errors_exit_2() {
    let out = Command::new(bin()).args(["check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(bin())
        .args(["no-such-command"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn help_lists_subcommands_with_examples_and_version_works() {
    let out = Command::new(bin()).arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success());
    assert!(
        help.contains("check") && help.contains("Examples:") && help.contains("Exit codes"),
        "{help}"
    );
    // The first line names the tool's version; the rest (commit, chart, Helm) is tested in
    // tests/cli_tools.rs.
    let out = Command::new(bin()).arg("--version").output().unwrap();
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .starts_with(&format!("locust-planton {}\n", env!("CARGO_PKG_VERSION")))
    );
}

/// A YAML syntax error names the line kubectl's reader (Go's yaml.v2) finds it on. Go prints
/// that line 1-based for scanner errors (a tab) but 0-based for parser errors (an unclosed flow
/// list: `yaml: line 14` for a problem on line 15), so for those we name Go's line + 1, which is
/// where the problem is.
#[cfg(feature = "tools")]
#[test]
fn syntax_errors_name_the_line_kubectl_finds_them_on() {
    for (name, go_is_zero_based) in [("tab-indent.yaml", false), ("malformed-yaml.yaml", true)] {
        let f = fixture(&format!("specs/invalid/{name}"));
        let text = read(&f);
        let theirs = String::from_utf8(kubectl_read(&text, "json").stderr).unwrap();
        let their_line: usize = theirs
            .split("yaml: line ")
            .nth(1)
            .and_then(|r| r.split(':').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("kubectl named no line: {theirs}"));
        let line = their_line + usize::from(go_is_zero_based);
        let label = f.to_str().unwrap();
        let (ours, _, code) = check(label);
        assert_eq!(code, 1);
        assert!(
            ours.starts_with(&format!("{label}:{line}:")) && ours.contains(": invalid YAML: "),
            "kubectl says line {their_line}: {theirs}\nwe say: {ours}"
        );
        assert!(
            !text.lines().nth(line - 1).unwrap().trim().is_empty(),
            "{name}:{line}"
        );
    }
}

/// Duplicate keys are errors naming both lines, wherever they are (Go keeps the last silently).
#[cfg(feature = "tools")]
#[test]
fn duplicate_keys_name_both_lines_and_point_at_the_second() {
    let f = fixture("specs/invalid/duplicate-key.yaml");
    let (out, _, code) = check(f.to_str().unwrap());
    assert_eq!(code, 1);
    let label = f.to_str().unwrap();
    assert!(out.contains(&format!("{label}:14:5: spec.loadTest.host: duplicate key: written at line 13 and again at line 14")), "{out}");
    // What Go reads: the last one wins, which is why the spec refuses it.
    let objs = kubectl_objects(&read(&f));
    assert_eq!(
        objs[0]["spec"]["loadTest"]["host"],
        "http://production.internal"
    );
}

/// `check`'s table of Locust's direct requirements (`spec::pip::LOCUST_REQUIRES`) is what the
/// test virtualenv's Locust (the pinned chart's release) declares.
#[cfg(feature = "tools")]
#[test]
fn locust_requires_table_is_the_charts_locust() {
    use locust_planton::spec::pip::{LOCUST_REQUIRES, LOCUST_REQUIRES_VERSION};
    assert_eq!(
        LOCUST_REQUIRES_VERSION,
        locust_planton::lock::chart_lock().app_version
    );
    let out = std::process::Command::new(venv_bin("python"))
        .args([
            "-c",
            "import importlib.metadata as m; print(m.version('locust')); print('\\n'.join(m.requires('locust')))",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(LOCUST_REQUIRES_VERSION));
    assert_eq!(lines.collect::<Vec<_>>(), LOCUST_REQUIRES);
}

fn check_with(args: &[&str], stdin: Option<&str>) -> (String, String, i32) {
    let mut cmd = Command::new(bin());
    cmd.arg("check").args(args);
    if let Some(text) = stdin {
        cmd.write_stdin(text);
    }
    let out = cmd.output().unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.code().unwrap(),
    )
}

/// A valid manifest: exactly one summary line on stderr, after the findings, counting the
/// warnings (`1 warning`, `N warnings`); `-` is `<stdin>`; `-q` drops it; `-o json` keeps it on
/// stderr and stdout pure JSON; an invalid manifest gets none (its errors say it).
#[test]
fn a_valid_manifest_gets_a_summary_on_stderr() {
    let example = repo().join("examples/checkout.yaml");
    let example = example.to_str().unwrap();
    let one_warning = fixture("specs/invalid/upstream-is-enabled.yaml");
    let spec = "apiVersion: kubernetes.project-planton.org/v1\nkind: LocustKubernetes\nmetadata:\n  name: demo\nspec:\n  loadTest:\n    name: demo\n    mainPyContent: \"x = 1\\n\"\n";
    let two_warnings = format!("{spec}  helmValues:\n    worker.notAKey: \"1\"\n");
    let one = spec.to_string();
    struct Case<'a> {
        args: Vec<&'a str>,
        stdin: Option<&'a str>,
        warnings_on_stdout: usize,
        stderr: String,
    }
    let cases = [
        Case {
            args: vec!["-f", example],
            stdin: None,
            warnings_on_stdout: 0,
            stderr: format!("{example}: valid\n"),
        },
        Case {
            args: vec!["-f", "-"],
            stdin: Some(&one),
            warnings_on_stdout: 1,
            stderr: "<stdin>: valid, 1 warning\n".into(),
        },
        Case {
            args: vec!["-f", "-"],
            stdin: Some(&two_warnings),
            warnings_on_stdout: 2,
            stderr: "<stdin>: valid, 2 warnings\n".into(),
        },
        Case {
            args: vec!["-q", "-f", example],
            stdin: None,
            warnings_on_stdout: 0,
            stderr: String::new(),
        },
        Case {
            args: vec!["--quiet", "-f", "-"],
            stdin: Some(&two_warnings),
            warnings_on_stdout: 2,
            stderr: String::new(),
        },
    ];
    for Case {
        args,
        stdin,
        warnings_on_stdout,
        stderr,
    } in cases
    {
        let (out, err, code) = check_with(&args, stdin);
        assert_eq!(code, 0, "{args:?}: {out}{err}");
        assert_eq!(err, stderr, "{args:?}");
        assert_eq!(
            out.lines().filter(|l| l.contains(": warning: ")).count(),
            warnings_on_stdout,
            "{args:?}: {out}"
        );
    }
    // JSON: the same summary on stderr, stdout one JSON array of the warnings.
    let (out, err, code) = check_with(&["-f", "-", "-o", "json"], Some(&two_warnings));
    assert_eq!(code, 0);
    assert_eq!(err, "<stdin>: valid, 2 warnings\n");
    let v: serde_json::Value = serde_json::from_str(&out).expect("stdout is pure JSON");
    assert_eq!(v.as_array().unwrap().len(), 2);
    // Invalid: no summary, and none of its words.
    let (_, err, code) = check(one_warning.to_str().unwrap());
    assert_eq!(code, 1);
    assert!(!err.contains("valid"), "{err}");
}

/// A YAML syntax error reads `FILE:LINE:COL: invalid YAML: …` like every other finding, from a
/// file and from stdin, and `-o json` gives the same line and column.
#[cfg(feature = "tools")]
#[test]
fn syntax_errors_read_file_line_col() {
    let text = "apiVersion: kubernetes.project-planton.org/v1\nkind: LocustKubernetes\nmetadata:\n  name: demo\nspec:\n  loadTest:\n    name: demo\n     mainPyContent: x\n";
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("syntax.yaml");
    std::fs::write(&f, text).unwrap();
    let label = f.to_str().unwrap();
    let message = "invalid YAML: mapping values are not allowed in this context";
    let (out, err, code) = check(label);
    assert_eq!((code, err.as_str()), (1, ""));
    assert_eq!(out, format!("{label}:8:19: {message}\n"));
    let (out, _, code) = check_with(&["-f", "-"], Some(text));
    assert_eq!(code, 1);
    assert_eq!(out, format!("<stdin>:8:19: {message}\n"));
    let (out, _, _) = check_with(&["-f", label, "-o", "json"], None);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&out).unwrap(),
        serde_json::json!([{"file": label, "line": 8, "column": 19, "path": "", "severity": "error", "message": message}])
    );
    // kubectl (Go's reader) finds the same line.
    let theirs = String::from_utf8(kubectl_read(text, "json").stderr).unwrap();
    assert!(theirs.contains("line 8: mapping values"), "{theirs}");
}

/// A key written twice with a block value: Go keeps the second block, so a finding about a
/// field of that block names the second block's lines, not the first's.
#[cfg(feature = "tools")]
#[test]
fn findings_in_a_duplicated_block_point_at_the_second_block() {
    let text = "apiVersion: kubernetes.project-planton.org/v1\nkind: LocustKubernetes\nmetadata:\n  name: demo\nspec:\n  loadTest:\n    name: first\n    mainPyContent: \"x = 1\\n\"\n    host: http://a.example\n  loadTest:\n    name: second\n    mainPyContent: \"x = 1\\n\"\n    pipPackages: [\"not a requirement!!\"]\n";
    let (out, _, code) = check_with(&["-f", "-"], Some(text));
    assert_eq!(code, 1);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "<stdin>:10:3: spec.loadTest: duplicate key: written at line 6 and again at line 10 (Kubernetes' reader would silently keep the last)"
    );
    // The package of the second block, on its own line (13), not the first block's.
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("<stdin>:13:") && l.contains("spec.loadTest.pipPackages[0]")),
        "{out}"
    );
    // The host only the first block sets is gone to Go: its warning names the second block.
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("<stdin>:10:3: spec.loadTest.host: warning: no target host")),
        "{out}"
    );
    let objs = kubectl_objects(text);
    assert_eq!(objs[0]["spec"]["loadTest"]["name"], "second");
    assert!(objs[0]["spec"]["loadTest"].get("host").is_none());
}

/// `openTelemetry` wires `--otel`: on the chart's own Locust (2.32.2) `check` refuses it at the
/// field's line, naming the release, and every command reading the spec refuses it the same
/// way; with `locustVersion` 2.47.0 it passes. A run together with `metrics` passes too.
#[test]
fn open_telemetry_on_a_locust_without_otel_is_refused_naming_the_release() {
    let spec = |version: &str| {
        format!(
            "apiVersion: kubernetes.project-planton.org/v1
kind: LocustKubernetes
metadata: {{name: demo}}
spec:
  metrics: {{prometheus: {{enabled: true}}}}
  loadTest:
    name: demo
    host: http://a.example
    mainPyContent: \"x = 1\\n\"
{version}    openTelemetry:
      endpoint: http://collector:4317
    run: {{users: 1, runTime: 10s}}
"
        )
    };
    let (out, _, code) = check_with(&["-f", "-"], Some(&spec("")));
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "<stdin>:10:5: spec.loadTest.openTelemetry: `--otel` does not work on Locust 2.32.2: it works from 2.42.4 on (earlier releases exit at start with `unrecognized arguments`); choose a newer one with spec.loadTest.locustVersion"
        ]
    );
    let values = Command::new(bin())
        .args(["values", "-f", "-"])
        .write_stdin(spec(""))
        .output()
        .unwrap();
    assert_eq!(values.status.code(), Some(1));
    assert!(values.stdout.is_empty(), "nothing half-written");
    assert!(
        String::from_utf8_lossy(&values.stderr).contains("Locust 2.32.2: it works from 2.42.4 on"),
        "{}",
        String::from_utf8_lossy(&values.stderr)
    );
    let (out, _, code) = check_with(&["-f", "-"], Some(&spec("    locustVersion: \"2.47.0\"\n")));
    assert_eq!((code, out.as_str()), (0, ""));
}
