//! Input limits (docs/limits.md "Input limits"): hostile or runaway input is refused with a message
//! naming the bound, nothing on stdout, before it can use up memory or the stack. Go's YAML
//! reader (kubectl) is the oracle for the alias rule.
// Without `tools`, the helpers of the tool-driven tests below are unused.
#![cfg_attr(not(feature = "tools"), allow(dead_code, unused_imports))]

mod common;

use common::*;
use locust_planton::limits::{MAX_DEPTH, MAX_DOCUMENT_BYTES, MAX_STREAM_BYTES};
use locust_planton::postrender::{Options, post_render};

/// A ConfigMap with a list of `n` scalars anchored once and aliased `uses` times, after `pad`
/// plain scalars (moving where Go's alias ratio tips).
fn aliased(n: usize, uses: usize, pad: usize) -> String {
    let mut s = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: \"1\"\nx-pad: [{}]\nx-anchor: &a [{}]\nx-uses:\n",
        vec!["p"; pad].join(","),
        vec!["v"; n].join(",")
    );
    s.push_str(&"- *a\n".repeat(uses));
    s
}

/// A Deployment whose pod spec carries a field nested so the whole document is `depth` deep.
fn nested_deployment(depth: usize) -> String {
    let mut s = String::from(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n name: d\nspec:\n template:\n  spec:\n   containers:\n   - name: c\n     image: i\n   x:\n",
    );
    // Levels so far: the document, spec, template, spec; `x` opens the fifth.
    for level in 0..depth - 5 {
        s.push_str(&" ".repeat(4 + level));
        s.push_str("a:\n");
    }
    s.push_str(&" ".repeat(depth - 1));
    s.push_str("b: c\n");
    s
}

/// Runs `post-render` on `stdin`; returns (exit code, stdout, stderr).
fn post_render_cli(stdin: impl Into<Vec<u8>>) -> (i32, Vec<u8>, String) {
    let home = tempfile::tempdir().unwrap();
    let out = lp(home.path())
        .arg("post-render")
        .write_stdin(stdin)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn kubectl_refuses_aliasing(text: &str) -> bool {
    let out = kubectl_read(text, "json");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() || stderr.contains("excessive aliasing"),
        "kubectl failed otherwise: {stderr}"
    );
    !out.status.success()
}

#[cfg(feature = "tools")]
#[test]
fn alias_rule_is_gos_exactly_at_the_tipping_points() {
    // (anchored scalars, padding, uses): the last use kubectl accepts and the first it refuses,
    // in the fixed 99% range (first two) and the scaled range above 400,000 visits (last).
    let cases = [
        (1000, 50, 117),
        (1000, 50, 118),
        (200, 0, 213),
        (200, 0, 214),
        (20_000, 100, 24),
        (20_000, 100, 25),
    ];
    let mut verdicts = Vec::new();
    for (n, pad, uses) in cases {
        let text = aliased(n, uses, pad);
        let go = kubectl_refuses_aliasing(&text);
        let (code, stdout, stderr) = post_render_cli(text);
        let ours = stderr.contains("excessive aliasing");
        assert_eq!(ours, go, "n={n} pad={pad} uses={uses}: {stderr}");
        assert_eq!(code == 1, ours, "{stderr}");
        assert_eq!(stdout.is_empty(), ours);
        verdicts.push(go);
    }
    // Both verdicts occur, so the comparison means something.
    assert_eq!(verdicts, [false, true, false, true, false, true]);
}

#[cfg(feature = "tools")]
#[test]
fn a_billion_laughs_is_refused_at_once_in_the_stream_and_in_a_spec() {
    let mut levels = String::from("  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..12 {
        let refs = vec![format!("*l{}", i - 1); 9].join(", ");
        levels.push_str(&format!("  l{i}: &l{i} [{refs}]\n"));
    }
    let stream = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: b\nx:\n{levels}"
    );
    assert!(kubectl_refuses_aliasing(&stream));
    let (code, stdout, stderr) = post_render_cli(stream);
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("<stdin>:11:37: invalid YAML: excessive aliasing")
            && stderr.contains("(document 1)"),
        "{stderr}"
    );

    // `check` reports on stdout (it is a linter); the finding names stdin and the line.
    let spec = read(fixture("specs/valid/minimal.yaml"));
    let spec = format!("{spec}\nx-bomb:\n{levels}");
    let home = tempfile::tempdir().unwrap();
    let out = lp(home.path())
        .args(["check", "-f", "-"])
        .write_stdin(spec)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(
        report.starts_with("<stdin>:") && report.contains(": invalid YAML: excessive aliasing"),
        "{report}"
    );
}

#[cfg(feature = "tools")]
#[test]
fn a_repeated_long_string_cannot_expand_past_the_document_bound() {
    // Go's rule counts nodes, and Go shares the string; 40 copies of 1 MB pass it.
    let mut text = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: &big \"{}\"\n",
        "x".repeat(1_000_000)
    );
    for i in 0..40 {
        text.push_str(&format!("  k{i}: *big\n"));
    }
    assert!(!kubectl_refuses_aliasing(&text));
    let (code, stdout, stderr) = post_render_cli(text.clone());
    assert_eq!(code, 1);
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("with its aliases expanded the document would be more than 16 MiB"),
        "{stderr}"
    );
    // Ten copies stay under the bound and are kept as written.
    let ten: String = text.lines().take(16).map(|l| format!("{l}\n")).collect();
    let (code, stdout, stderr) = post_render_cli(ten.clone());
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(String::from_utf8(stdout).unwrap(), ten);
}

#[cfg(feature = "tools")]
#[test]
fn nesting_up_to_the_bound_works_and_one_level_more_is_refused() {
    // At the bound, in a test thread (2 MiB of stack, less than a main thread's 8): every walk
    // (harden, hash, emit, parse again, drop) stays on the stack, and the result is a fixed point.
    let deepest = nested_deployment(MAX_DEPTH);
    let first = post_render(&deepest, &Options::default())
        .expect("a document at the bound is accepted")
        .text();
    let again = post_render(&first, &Options::default()).unwrap().text();
    assert_eq!(again, first);
    assert!(first.contains("runAsNonRoot: true"));
    locust_planton::invariants::post_render_holds(deepest.as_bytes());
    // Go reads the hardened output (serde_json's own depth limit keeps it out of kubectl_objects).
    let out = kubectl_read(&first, "name");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "deployment.apps/d\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let (code, stdout, stderr) = post_render_cli(nested_deployment(MAX_DEPTH + 1));
    assert_eq!(code, 1);
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("nested more than 1000 levels deep"),
        "{stderr}"
    );
}

#[test]
fn deeper_than_any_stack_is_refused_not_a_crash() {
    // Compact nested sequences (`- - - x`) nest a level every two bytes: 20,000 levels in 40 KB
    // overflowed the stack (abort, exit 134) before the bound existed.
    let text = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\nx:\n{}x\n",
        "- ".repeat(20_000)
    );
    let (code, stdout, stderr) = post_render_cli(text);
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.is_empty());
    assert!(
        stderr.contains(
            "<stdin>:6:1999: invalid YAML: nested more than 1000 levels deep (docs/limits.md) (document 1)"
        ),
        "{stderr}"
    );
}

#[test]
fn a_document_over_the_bound_is_refused_naming_it() {
    let big = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  a: {}\n",
        "x".repeat(MAX_DOCUMENT_BYTES)
    );
    let stream = format!(
        "{}---\n# Source: demo/templates/big.yaml\n{big}",
        read(fixture(
            "reference/0.35.0/default/helm3-postrenderer-stdin.yaml"
        ))
    );
    let (code, stdout, stderr) = post_render_cli(stream);
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("demo/templates/big.yaml")
            && stderr.contains("bytes), more than the 16 MiB a document may have"),
        "{stderr}"
    );
    // A spec file over the bound is refused without reading it all.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.yaml");
    std::fs::write(&path, format!("# {}\n", "x".repeat(MAX_DOCUMENT_BYTES))).unwrap();
    let out = lp(dir.path())
        .args(["check", "-f"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(
        stderr.contains("huge.yaml: cannot read: larger than 16 MiB"),
        "{stderr}"
    );
}

#[test]
fn a_document_that_would_be_written_back_over_the_bound_is_refused() {
    // 2.6 MB of flow mapping nested 40 levels deep in a pod spec: harden rewrites the Deployment
    // in block style, indenting every entry 80 spaces, which makes it over 16 MiB.
    let entries: Vec<String> = (0..200_000).map(|i| format!("k{i:07}: 1")).collect();
    let mut deep = format!("{{{}}}", entries.join(", "));
    for _ in 0..36 {
        deep = format!("{{n: {deep}}}");
    }
    let text = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    spec:\n      containers: [{{name: c, image: i}}]\n      x: {deep}\n"
    );
    assert!(text.len() < 3 * 1024 * 1024);
    let (code, stdout, stderr) = post_render_cli(text);
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("document 1 (line 1): Deployment d")
            || stderr.contains("document 1 (line 1): written back it would be "),
        "{stderr}"
    );
    assert!(
        stderr.contains("more than the 16 MiB a document may have"),
        "{stderr}"
    );
}

#[test]
fn a_stream_over_the_bound_is_refused_before_it_is_read_whole() {
    // Valid manifests, so only the size can be the reason.
    let doc = read(fixture(
        "reference/0.35.0/default/helm3-postrenderer-stdin.yaml",
    ));
    let mut stream = String::with_capacity(MAX_STREAM_BYTES + doc.len());
    while stream.len() <= MAX_STREAM_BYTES {
        stream.push_str(&doc);
    }
    let (code, stdout, stderr) = post_render_cli(stream);
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("stdin: larger than 256 MiB, the most locust-planton reads"),
        "{stderr}"
    );
}

/// Inputs on which the YAML reader library panics (libyaml-safer 0.3.0): through the CLI they
/// are refusals like any other unreadable YAML — exit 1, a message with the line, no panic text,
/// nothing on stdout — for `post-render`, `lint` and `check`.
#[test]
fn reader_library_panics_are_refusals() {
    for name in [
        "crash-reader-panic-escape-at-end.yaml",
        "crash-reader-panic-tag-comma.yaml",
        "crash-reader-panic-block-scalar-at-end.yaml",
    ] {
        let text = std::fs::read(repo().join("fuzz/regressions/post_render").join(name)).unwrap();
        for args in [
            &["post-render"][..],
            &["lint"][..],
            &["check", "-f", "-"][..],
        ] {
            let out = assert_cmd::Command::new(bin())
                .args(args)
                .env("LOCUST_PLANTON_LOG", "/dev/null")
                .write_stdin(text.clone())
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{name} {args:?}: {stderr}");
            assert!(!stderr.contains("panicked"), "{name} {args:?}: {stderr}");
            assert!(
                stderr.contains("cannot read the text after this point")
                    || String::from_utf8_lossy(&out.stdout)
                        .contains("cannot read the text after this point"),
                "{name} {args:?}: {stderr}"
            );
            if args[0] != "lint" && args[0] != "check" {
                assert!(out.stdout.is_empty());
            }
        }
    }
}
