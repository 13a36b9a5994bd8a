//! `locust-planton check` on the fixture corpus: exact paths and messages, exit codes, formats.

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

/// `FILE:LINE:COL: path: message` → (the position, `FILE: path: message`).
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
    (Some((l, c)), format!("{label}: {rest}"))
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
            .into_iter()
            .map(|l| format!("{label}: {l}"))
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
        let (ours, _, code) = check(f.to_str().unwrap());
        assert_eq!(code, 1);
        assert!(
            ours.contains(&format!(": line {line} column ")),
            "kubectl says line {their_line}: {theirs}\nwe say: {ours}"
        );
        assert!(
            !text.lines().nth(line - 1).unwrap().trim().is_empty(),
            "{name}:{line}"
        );
    }
}

/// Duplicate keys are errors naming both lines, wherever they are (Go keeps the last silently).
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
