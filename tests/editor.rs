//! What an editor shows: the real yaml-language-server (installed by scripts/install-tools.sh,
//! `LP_YLS`), driven over LSP by tests/editor/yls.py, reads each file's
//! `# yaml-language-server: $schema=…` line (a relative path) and validates and completes
//! with the committed schema.
#![cfg(feature = "tools")]

mod common;
use assert_cmd::Command;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn server() -> PathBuf {
    let path = std::env::var_os("LP_YLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            repo().join(".tools/yls/node_modules/yaml-language-server/bin/yaml-language-server")
        });
    assert!(
        path.exists(),
        "yaml-language-server not found at {} (set LP_YLS or run scripts/install-tools.sh)",
        path.display()
    );
    path
}

/// The server's diagnostics per file, and completion labels at `complete` in the first file.
fn ask(files: &[&Path], complete: Option<(u32, u32)>) -> Value {
    let mut cmd = std::process::Command::new("python3");
    cmd.arg(repo().join("tests/editor/yls.py"))
        .arg(server())
        .args(files);
    if let Some((line, col)) = complete {
        cmd.args(["--complete", &format!("{line}:{col}")]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "yls.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn messages(answer: &Value, file: &Path) -> Vec<(u64, String)> {
    answer["diagnostics"][file.to_str().unwrap()]
        .as_array()
        .unwrap_or_else(|| panic!("no diagnostics for {}: {answer}", file.display()))
        .iter()
        .map(|d| {
            (
                d["line"].as_u64().unwrap(),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn examples_are_clean_in_an_editor() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.push(repo().join("examples/helmfile/checkout.yaml"));
    files.sort();
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let answer = ask(&refs, None);
    for f in &files {
        assert_eq!(messages(&answer, f), [], "{}", f.display());
    }
}

/// A broken manifest beside a schema/ directory, as in this repository: the editor marks the
/// unknown field and the unquoted number where `check` does, and completes loadTest's fields.
#[test]
fn an_editor_marks_errors_and_completes_fields() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("schema")).unwrap();
    std::fs::create_dir_all(dir.path().join("tests")).unwrap();
    std::fs::copy(
        repo().join("schema/locust-kubernetes.schema.json"),
        dir.path().join("schema/locust-kubernetes.schema.json"),
    )
    .unwrap();
    let good = read(repo().join("examples/checkout.yaml"));
    let bad = good
        .replace("    pipPackages:\n", "    pipPackage:\n")
        .replacen("limits: {cpu: 1000m,", "limits: {cpu: 1,", 1);
    assert_ne!(good, bad);
    let file = dir.path().join("tests/bad.yaml");
    std::fs::write(&file, &bad).unwrap();
    let line_of = |needle: &str| bad.lines().position(|l| l.contains(needle)).unwrap() as u64;
    let host_line = line_of("    host: ") as u32;
    let answer = ask(&[&file], Some((host_line, 4)));
    let found = messages(&answer, &file);
    assert!(
        found.contains(&(
            line_of("pipPackage:"),
            "Property pipPackage is not allowed.".into()
        )),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|(l, m)| *l == line_of("limits: {cpu: 1,") && m.contains("Incorrect type")),
        "{found:?}"
    );
    assert_eq!(found.len(), 2, "{found:?}");
    // `check` agrees on both.
    let check = Command::new(bin())
        .args(["check", "-f"])
        .arg(&file)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&check.stdout);
    assert!(
        report.contains("spec.loadTest.pipPackage: unknown field"),
        "{report}"
    );
    assert!(report.contains("spec.masterContainer.resources.limits.cpu: must be a string"));
    let labels: Vec<&str> = answer["completions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    for expected in ["pipPackages", "run", "libFilesContent"] {
        let offered = labels.contains(&expected)
            || (expected == "libFilesContent" && labels.contains(&"lib_files_content"));
        assert!(offered, "{expected} not offered: {labels:?}");
    }
}

/// `init`'s manifest names `locust-kubernetes.schema.json` beside it; with the file there
/// (`locust-planton schema --output-file …`), an editor finds nothing to mark.
#[test]
fn the_starter_manifest_is_clean_in_an_editor() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["init", "starter"][..],
        &["schema", "--output-file", "locust-kubernetes.schema.json"][..],
    ] {
        let out = Command::new(bin())
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(out.status.success());
    }
    let file = dir.path().join("starter.yaml");
    assert_eq!(messages(&ask(&[&file], None), &file), []);
}
