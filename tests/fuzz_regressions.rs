//! Inputs the fuzzers (fuzz/, FUZZING.md) once broke, replayed through the same invariants.

use std::path::PathBuf;

fn cases(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.sort();
    files
        .into_iter()
        .filter(|p| p.is_file())
        .map(|p| (p.clone(), std::fs::read(&p).unwrap()))
        .collect()
}

#[test]
fn post_render_regressions() {
    for (p, bytes) in cases("post_render") {
        eprintln!("{}", p.display());
        locust_planton::invariants::post_render_holds(&bytes);
    }
}

#[test]
fn spec_regressions() {
    for (p, bytes) in cases("spec") {
        eprintln!("{}", p.display());
        locust_planton::invariants::spec_holds(&bytes);
    }
}

#[test]
fn emit_regressions() {
    for (p, bytes) in cases("emit") {
        eprintln!("{}", p.display());
        locust_planton::invariants::emit_round_trip_holds(&bytes);
    }
}
