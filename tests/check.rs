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
        let errors: Vec<&str> = stdout
            .lines()
            .filter(|l| !l.contains(": warning: "))
            .collect();
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
        assert_eq!(stdout.lines().collect::<Vec<_>>(), expected, "{label}");
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
        "<stdin>: spec.ingress.isEnabled: unknown field (did you mean `enabled`?)\n\
         <stdin>: spec.loadTest.host: warning: no target host: enter it in the web UI, or set `spec.loadTest.host` (a locust-planton extension field)\n"
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
