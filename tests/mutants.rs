//! The judge-based checks catch a broken hardener. The binary is built with a test-only feature
//! that breaks one rule on purpose (`mutant-skip-seccomp`: no seccomp rule;
//! `mutant-skip-statefulset`: no pod spec is found in a StatefulSet), each into its own target
//! directory in the test (dev) profile, and the same checks tests/postrender.rs runs with the real
//! binary (`judge_recorded_outputs`, `judge_test_chart_render`) must now fail, on Kubernetes'
//! Pod Security findings. A build without debug assertions refuses the features.
// Without `tools`, the helpers of the tool-driven tests below are unused.
#![cfg_attr(not(feature = "tools"), allow(dead_code, unused_imports))]

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The target directory this test was built into (its scratch directory's parent).
fn target_root() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// `cargo build --features FEATURE --target-dir target/FEATURE` with `extra` arguments.
fn cargo_build(feature: &str, extra: &[&str]) -> std::process::Output {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    Command::new(cargo)
        .args(["build", "--locked", "--offline", "--bin", "locust-planton"])
        .args(["--features", feature, "--target-dir"])
        .arg(target_root().join(feature))
        .args(extra)
        .current_dir(repo())
        .output()
        .unwrap()
}

/// The binary built with `feature`.
fn mutant(feature: &str) -> PathBuf {
    let out = cargo_build(feature, &[]);
    assert!(
        out.status.success(),
        "cargo build --features {feature}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    target_root().join(feature).join("debug/locust-planton")
}

#[cfg(feature = "tools")]
#[test]
fn without_the_seccomp_rule_every_recorded_output_fails_the_judge() {
    let binary = mutant("mutant-skip-seccomp");
    let found = judge_recorded_outputs(&binary);
    // Every render whose chart values set no seccomp profile of their own (all but `secured`)
    // comes out without one, and Kubernetes says so.
    let mut without = 0;
    for (name, path) in recorded_streams() {
        let expected = !read(&path).contains("seccompProfile");
        let reported = found.iter().any(|l| l.starts_with(&format!("{name}: ")));
        assert_eq!(reported, expected, "{name}:\n{}", found.join("\n"));
        without += usize::from(expected);
    }
    assert!(without >= 30, "{without} renders without a seccomp profile");
    // Nothing else is broken: the seccomp check is the only one each finding names.
    let only_seccomp = |l: &String| {
        l.split_once("violates PodSecurity \"restricted:latest\": ")
            .is_some_and(|(_, d)| d.starts_with("seccompProfile (") && !d.contains("), "))
    };
    assert!(found.iter().all(only_seccomp), "{}", found.join("\n"));
}

#[cfg(feature = "tools")]
#[test]
fn without_statefulsets_the_test_chart_render_fails_the_judge() {
    let binary = mutant("mutant-skip-statefulset");
    // The recorded DeliveryHero renders hold no StatefulSet: they still pass, so the mutant is
    // shown on the test chart, which has one (`demo-locust-mini-store`).
    let recorded = judge_recorded_outputs(&binary);
    assert!(recorded.is_empty(), "{}", recorded.join("\n"));
    let found = judge_test_chart_render(&binary);
    assert!(
        !found.is_empty() && found.iter().all(|l| l.starts_with("StatefulSet/")),
        "the judge should find the unhardened StatefulSet, and only it: {found:?}"
    );
    assert!(
        found[0].contains("violates PodSecurity \"restricted:latest\""),
        "{found:?}"
    );
}

#[test]
fn a_build_without_debug_assertions_refuses_a_mutant_feature() {
    // Only this crate changes profile, so no dependency is rebuilt for it.
    let out = cargo_build(
        "mutant-skip-statefulset",
        &[
            "--config",
            "profile.dev.package.locust-planton.debug-assertions=false",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("mutant-* features are test-only: they build only with debug assertions"),
        "{stderr}"
    );
}
