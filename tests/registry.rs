//! The pinned chart pulled for real from an OCI registry: the suite's CNCF distribution registry
//! on loopback (`eval "$(scripts/registry.sh up)"` sets LP_REGISTRY). Charts are pushed with
//! real `helm push`; `template` and `install --print-command` pull them through
//! `--chart-repo oci://$LP_REGISTRY/…` (or `$LOCUST_PLANTON_CHART_REPO`) with Helm 3 and Helm 4.
#![cfg(feature = "tools")]

mod common;

use common::*;
use std::path::{Path, PathBuf};

/// `host:port` of the suite's registry; fails, naming the command that starts it, when unset.
fn registry() -> String {
    std::env::var("LP_REGISTRY").unwrap_or_else(|_| {
        panic!(
            "LP_REGISTRY is not set: start the suite's OCI registry with `eval \"$(scripts/registry.sh up)\"` (after scripts/install-tools.sh builds it)"
        )
    })
}

fn example() -> String {
    repo().join("examples/checkout.yaml").display().to_string()
}

/// A registry path of this test's own (`oci://$LP_REGISTRY/lp-tests/<name>-<unique>`), so runs
/// and tests never see each other's pushes.
fn mirror(home: &Path, name: &str) -> String {
    let unique = home
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_ascii_lowercase()
        .replace(|c: char| !c.is_ascii_alphanumeric(), "");
    format!("oci://{}/lp-tests/{name}-{unique}", registry())
}

/// `helm push ARCHIVE MIRROR --plain-http` with `helm`, asserted successful.
fn push(helm: &Path, home: &Path, archive: &Path, mirror: &str) {
    let out = helm_cmd(helm, home)
        .arg("push")
        .arg(archive)
        .args([mirror, "--plain-http"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "helm push {} {mirror}: {}",
        archive.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `locust-planton ARGS --helm HELM` with `home`'s Helm homes and chart cache: exit code,
/// stdout, stderr.
fn run(
    home: &Path,
    helm: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> (Option<i32>, String, String) {
    let mut cmd = lp(home);
    cmd.env_remove("LOCUST_PLANTON_CHART_REPO");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.args(args).arg("--helm").arg(helm).output().unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn cached(home: &Path) -> PathBuf {
    home.join("xdg-cache/locust-planton/charts/locust-0.35.0.tgz")
}

/// The real chart, packaged and pushed by Helm 3 and by Helm 4, is pulled by `template` (flag
/// or environment) and `install --print-command` through `--chart-repo`, with that helm:
/// rendered, cached, and the printed line names the mirror with `--plain-http`.
#[test]
fn the_real_chart_is_pulled_from_the_registry() {
    for helm in [helm3(), helm4()] {
        let work = tempfile::tempdir().unwrap();
        let tgz = helm_package(&helm, &real_locust_chart(), &work.path().join("pkg"));
        let mirror = mirror(work.path(), "real");
        push(&helm, work.path(), &tgz, &mirror);

        let home = tempfile::tempdir().unwrap();
        let (code, stdout, stderr) = run(
            home.path(),
            &helm,
            &[
                "template",
                "-f",
                &example(),
                "--chart-repo",
                &mirror,
                "--strict-chart",
            ],
            &[],
        );
        assert_eq!(code, Some(0), "{}: {stderr}", helm.display());
        assert!(stdout.contains("helm.sh/chart: locust-0.35.0"), "{stdout}");
        assert!(!stderr.contains("warning"), "{stderr}");
        assert!(cached(home.path()).is_file(), "a verified pull is cached");

        // The environment default, into another cache: pulled again, the same output.
        let other = tempfile::tempdir().unwrap();
        let (code, again, stderr) = run(
            other.path(),
            &helm,
            &["template", "-f", &example()],
            &[("LOCUST_PLANTON_CHART_REPO", &mirror)],
        );
        assert_eq!(code, Some(0), "{stderr}");
        assert_eq!(again, stdout);
        assert!(cached(other.path()).is_file());

        let bare = mirror.trim_start_matches("oci://");
        for command in ["template", "install"] {
            let fresh = tempfile::tempdir().unwrap();
            let (code, printed, stderr) = run(
                fresh.path(),
                &helm,
                &[
                    command,
                    "-f",
                    &example(),
                    "--chart-repo",
                    &mirror,
                    "--print-command",
                ],
                &[],
            );
            assert_eq!(code, Some(0), "{command}: {stderr}");
            let line = printed.lines().last().unwrap();
            assert!(
                line.contains(&format!(" oci://{bare}/locust --namespace load-tests"))
                    && line.contains(" --plain-http ")
                    && line.contains(" --version 0.35.0"),
                "{command}: {line}"
            );
        }
    }
}

/// Archives of the same files in other bytes (Python's tarfile: other order, mtimes, owners,
/// gzip level) are pulled and used; a push with one template changed is refused naming it, and
/// nothing is cached.
#[test]
fn content_decides_what_is_pulled() {
    let work = tempfile::tempdir().unwrap();
    let by_helm4 = helm_package(&helm4(), &real_locust_chart(), &work.path().join("pkg"));
    let repacked = work.path().join("repacked/locust-0.35.0.tgz");
    std::fs::create_dir_all(repacked.parent().unwrap()).unwrap();
    repack_chart_archive(&by_helm4, &repacked, 1_000_000_000, 1, "locust");
    assert_ne!(
        std::fs::read(&by_helm4).unwrap(),
        std::fs::read(&repacked).unwrap()
    );
    let same = mirror(work.path(), "repacked");
    push(&helm3(), work.path(), &repacked, &same);
    for helm in [helm3(), helm4()] {
        let home = tempfile::tempdir().unwrap();
        let (code, stdout, stderr) = run(
            home.path(),
            &helm,
            &["template", "-f", &example(), "--chart-repo", &same],
            &[],
        );
        assert_eq!(code, Some(0), "{}: {stderr}", helm.display());
        assert!(stdout.contains("kind: Deployment"));
        // The cache holds the pulled archive, byte for byte.
        assert_eq!(
            std::fs::read(cached(home.path())).unwrap(),
            std::fs::read(&repacked).unwrap()
        );
    }

    let changed = work.path().join("changed/locust");
    copy_chart(&real_locust_chart(), &changed);
    let template = changed.join("templates/master-deployment.yaml");
    std::fs::write(
        &template,
        read(&template).replacen("spec:", "spec:\n  # changed", 1),
    )
    .unwrap();
    let tgz = helm_package(&helm4(), &changed, &work.path().join("changed-pkg"));
    let bad = mirror(work.path(), "changed");
    push(&helm4(), work.path(), &tgz, &bad);
    for helm in [helm3(), helm4()] {
        let home = tempfile::tempdir().unwrap();
        let (code, stdout, stderr) = run(
            home.path(),
            &helm,
            &["template", "-f", &example(), "--chart-repo", &bad],
            &[],
        );
        assert_eq!(code, Some(1), "{}: {stderr}", helm.display());
        assert!(stdout.is_empty());
        assert!(
            stderr.contains("is not locust 0.35.0 as pinned: its files differ (changed: templates/master-deployment.yaml); refusing to use it"),
            "{stderr}"
        );
        assert!(
            !cached(home.path()).exists(),
            "a refused pull is not cached"
        );
    }
}
