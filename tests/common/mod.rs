//! Shared test helpers: the real tools installed by `scripts/install-tools.sh`, found through
//! one mechanism (LP_* variables, defaulting to `.tools/`). A missing tool fails the test with
//! the command that installs it; tests never skip.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(rel: &str) -> PathBuf {
    repo().join("fixtures").join(rel)
}

fn tool(var: &str, default_rel: &str) -> PathBuf {
    let path = std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools").join(default_rel));
    assert!(
        path.exists(),
        "{} not found at {} (set {var} or run scripts/install-tools.sh)",
        default_rel,
        path.display()
    );
    path
}

pub fn helm3() -> PathBuf {
    tool("LP_HELM3", "helm3/helm")
}
pub fn helm4() -> PathBuf {
    tool("LP_HELM4", "helm4/helm")
}
pub fn kubectl() -> PathBuf {
    tool("LP_KUBECTL", "helm4/kubectl")
}
pub fn venv_bin(name: &str) -> PathBuf {
    let venv = std::env::var_os("LP_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools/venv"));
    let p = venv.join("bin").join(name);
    assert!(
        p.exists(),
        "{} not found (set LP_VENV or run scripts/install-tools.sh)",
        p.display()
    );
    p
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_locust-planton"))
}

pub fn read(p: impl AsRef<Path>) -> String {
    std::fs::read_to_string(p.as_ref()).unwrap_or_else(|e| panic!("{}: {e}", p.as_ref().display()))
}

/// `# expect: …` style header lines of a fixture.
pub fn header_lines(text: &str, prefix: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix(prefix))
        .map(str::to_string)
        .collect()
}

/// Objects as Go's YAML reader (kubectl) sees them: one JSON value per object (the items of a
/// `kind: List` one by one).
pub fn kubectl_objects(text: &str) -> Vec<serde_json::Value> {
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), text).unwrap();
    let out = std::process::Command::new(kubectl())
        .args(["label", "--local", "-o", "json", "oracle=1", "-f"])
        .arg(f.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kubectl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::Deserializer::from_slice(&out.stdout)
        .into_iter::<serde_json::Value>()
        .map(Result::unwrap)
        .flat_map(|v| match v.get("items") {
            Some(items) if v["kind"] == "List" => items.as_array().unwrap().clone(),
            _ => vec![v],
        })
        .collect()
}

/// Helm with its own cache/config/data homes under `home` (tests never share Helm state).
pub fn helm_cmd(helm: &Path, home: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(helm);
    cmd.env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_DATA_HOME", home.join("data"));
    cmd
}
