//! Real charts bring many problems at once. A chart of our own (`tests/charts/violations`: several
//! violations per workload, six kinds, RBAC-bound ServiceAccounts) rendered by real Helm 3 and
//! Helm 4: `lint` lists everything in one run, one round of the opt-outs it names makes
//! post-rendering pass, each opt-out relaxes exactly its row, bound ServiceAccounts keep their
//! token and say so, and the log keeps every entry.
// Without `tools`, the helpers of the tool-driven tests below are unused.
#![cfg_attr(not(feature = "tools"), allow(dead_code, unused_imports))]

mod common;
#[path = "common/restricted.rs"]
mod restricted;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn chart() -> PathBuf {
    repo().join("tests/charts/violations")
}

/// The chart value holding each workload's pod-template annotations.
fn annotations_value(name: &str) -> &'static str {
    match name {
        "controller" => "controller.podAnnotations",
        "dns" => "dns.podAnnotations",
        "webhook-patch" => "webhook.podAnnotations",
        "store" => "store.podAnnotations",
        "cleanup" => "cleanup.podAnnotations",
        "probe" => "probe.annotations",
        other => panic!("no annotations value for {other}"),
    }
}

/// `helm template` of the chart, with extra values and optionally the post-renderer.
fn render(
    helm: &Path,
    home: &Path,
    values: Option<&Path>,
    post_render: bool,
) -> std::process::Output {
    let mut cmd = helm_cmd(helm, home);
    cmd.args(["template", "rel"])
        .arg(chart())
        .args(["-n", "ns"]);
    if let Some(v) = values {
        cmd.arg("-f").arg(v);
    }
    cmd.env("LOCUST_PLANTON_LOG", home.join("post-render.log"));
    if post_render {
        if helm == helm3() {
            cmd.arg("--post-renderer").arg(bin());
        } else {
            cmd.args(["--post-renderer", "locust-planton"])
                .envs(helm4_plugin_env(home));
        }
    }
    cmd.output().unwrap()
}

fn lint_json(stream: &[u8]) -> (Vec<Value>, i32) {
    let out = assert_cmd::Command::new(bin())
        .args(["lint", "-o", "json"])
        .write_stdin(stream.to_vec())
        .output()
        .unwrap();
    (
        serde_json::from_slice(&out.stdout).unwrap(),
        out.status.code().unwrap(),
    )
}

/// Which `restricted` violation lines an opted-out rule explains.
fn explained_by(rule: &str) -> &'static [&'static str] {
    match rule {
        "privileged" => &["privileged"],
        "host-namespaces" => &["hostNetwork", "hostPID", "hostIPC"],
        "host-ports" => &["hostPort"],
        "capabilities" => &["adds", "capabilities not dropped"],
        "run-as-root" => &["runAsNonRoot not set", "no numeric non-root runAsUser"],
        "privilege-escalation" => &["allowPrivilegeEscalation"],
        "volume-types" => &["volume type"],
        "writable-root-fs" => &["root file system writable"],
        "seccomp" => &["seccomp"],
        "proc-mount" => &["procMount"],
        "apparmor" => &["AppArmor"],
        "sysctls" => &["sysctl"],
        "service-account-token" => &["service-account token", "mounts a token"],
        other => panic!("unknown rule {other}"),
    }
}

/// Kubernetes' verdict on each object after one round of opt-outs, at the Pod Security level
/// the tool says its opt-outs leave (`admission_level`, what `deploy` labels the namespace
/// with): `restricted` and `baseline` must hold there, and the next stricter level must not (the
/// opt-outs were needed). Where the opt-outs leave neither profile (`privileged`: a hostPath, a
/// host port, `Unconfined` seccomp, …) nothing can be enforced, and Kubernetes must agree that
/// baseline fails. A disagreement names both verdicts.
fn judge_at_the_levels_left(what: &str, output: &str, objs: &[Value], opted: &[(String, String)]) {
    use locust_planton::policy::harden::{OPT_OUT_PREFIX, admission_level, rule_of_annotation};
    let restricted_findings = judge(output, "restricted");
    let baseline_findings = judge(output, "baseline");
    let of = |findings: &[String], who: &str| -> Vec<String> {
        findings
            .iter()
            .filter(|l| l.starts_with(who))
            .cloned()
            .collect()
    };
    let mut levels = std::collections::BTreeMap::new();
    for o in objs.iter().filter(|o| !restricted::pod_specs(o).is_empty()) {
        let name = o["metadata"]["name"].as_str().unwrap();
        let who = format!("{}/{name} ", o["kind"].as_str().unwrap());
        let rules: Vec<_> = opted
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, r)| rule_of_annotation(&format!("{OPT_OUT_PREFIX}{r}")).unwrap())
            .collect();
        let level = admission_level(&rules);
        let (at_level, stricter) = match level {
            "restricted" => (of(&restricted_findings, &who), None),
            "baseline" => (
                of(&baseline_findings, &who),
                Some(("restricted", of(&restricted_findings, &who))),
            ),
            _ => (Vec::new(), Some(("baseline", of(&baseline_findings, &who)))),
        };
        assert!(
            at_level.is_empty(),
            "{what}: {who}opts out of {rules:?}; locust-planton: meets {level}; psa-judge ({level}): {at_level:?}"
        );
        if let Some((stricter_level, found)) = stricter {
            assert!(
                !found.is_empty(),
                "{what}: {who}opts out of {rules:?}; locust-planton: cannot meet {stricter_level}; psa-judge ({stricter_level}): passes"
            );
        }
        levels.insert(who, level);
    }
    // The chart's workloads cover both profiles' judgements and the "neither" case.
    for l in ["baseline", "privileged"] {
        assert!(
            levels.values().any(|v| *v == l),
            "{what}: no object left at {l}: {levels:?}"
        );
    }
}

#[cfg(feature = "tools")]
#[test]
fn one_lint_and_one_round_of_opt_outs_on_helm3_and_helm4() {
    for helm in [helm3(), helm4()] {
        let home = tempfile::tempdir().unwrap();
        let what = helm.display().to_string();
        let raw = render(&helm, home.path(), None, false);
        assert!(raw.status.success(), "{what}");
        // Every problem at once.
        let (findings, code) = lint_json(&raw.stdout);
        assert_eq!(code, 1, "{what}");
        let errors: Vec<&Value> = findings
            .iter()
            .filter(|f| f["severity"] == "error")
            .collect();
        let rules: std::collections::BTreeSet<&str> =
            errors.iter().map(|f| f["rule"].as_str().unwrap()).collect();
        for r in [
            "privileged",
            "privilege-escalation",
            "run-as-root",
            "host-namespaces",
            "host-ports",
            "capabilities",
            "volume-types",
            "writable-root-fs",
            "seccomp",
            "proc-mount",
            "apparmor",
            "sysctls",
        ] {
            assert!(rules.contains(r), "{what}: no {r} finding in {rules:?}");
        }
        for f in &errors {
            for key in [
                "kind", "name", "field", "rule", "message", "severity", "optOut",
            ] {
                assert!(f.get(key).is_some(), "{what}: {key} missing in {f}");
            }
        }
        // post-render refuses with exactly these errors, one line each, nothing on stdout.
        let out = assert_cmd::Command::new(bin())
            .arg("post-render")
            .env("LOCUST_PLANTON_LOG", home.path().join("log"))
            .write_stdin(raw.stdout.clone())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(out.stdout.is_empty());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            stderr
                .lines()
                .filter(|l| l.starts_with("document "))
                .count(),
            errors.len(),
            "{what}: {stderr}"
        );
        // Bound ServiceAccounts keep their token, and lint says so.
        let warnings: Vec<String> = findings
            .iter()
            .filter(|f| f["severity"] == "warning")
            .map(|f| format!("{} {}: {}", f["kind"], f["name"], f["message"]))
            .collect();
        for (object, binding) in [
            (
                "\"ServiceAccount\" \"controller\"",
                "ClusterRoleBinding rel-controller",
            ),
            ("\"ServiceAccount\" \"webhook\"", "RoleBinding webhook"),
            (
                "\"Deployment\" \"controller\"",
                "ClusterRoleBinding rel-controller",
            ),
            ("\"Job\" \"webhook-patch\"", "RoleBinding webhook"),
        ] {
            assert!(
                warnings
                    .iter()
                    .any(|w| w.starts_with(object) && w.contains(binding)),
                "{what}: {object}: {warnings:#?}"
            );
        }
        // One round: every optOut lint named, on its object's pod template.
        let mut values = serde_json::Map::new();
        let mut opted: Vec<(String, String)> = Vec::new();
        for f in &errors {
            let name = f["name"].as_str().unwrap();
            let (top, leaf) = annotations_value(name).split_once('.').unwrap();
            let opt = f["optOut"].as_str().unwrap_or_else(|| panic!("{f}"));
            values
                .entry(top)
                .or_insert_with(|| serde_json::json!({}))
                .as_object_mut()
                .unwrap()
                .entry(leaf)
                .or_insert_with(|| serde_json::json!({}))[opt] = "true".into();
            opted.push((name.to_string(), f["rule"].as_str().unwrap().to_string()));
        }
        let values_file = home.path().join("opt-outs.json");
        std::fs::write(&values_file, serde_json::to_string(&values).unwrap()).unwrap();
        let (again, code) =
            lint_json(&render(&helm, home.path(), Some(&values_file), false).stdout);
        assert_eq!(code, 0, "{what}: {again:#?}");
        let done = render(&helm, home.path(), Some(&values_file), true);
        assert!(
            done.status.success(),
            "{what}: {}",
            String::from_utf8_lossy(&done.stderr)
        );
        let output = String::from_utf8(done.stdout).unwrap();
        let objs = kubectl_objects(&output);
        judge_at_the_levels_left(&what, &output, &objs, &opted);
        // Go's reading of the output: what remains weaker is exactly what was opted out.
        for o in &objs {
            let name = o["metadata"]["name"].as_str().unwrap().to_string();
            let allowed: Vec<&str> = opted
                .iter()
                .filter(|(n, _)| *n == name)
                .flat_map(|(_, r)| explained_by(r).iter().copied())
                .chain(
                    match name.as_str() {
                        // The bound accounts' token is kept by design.
                        "controller" | "webhook" | "webhook-patch" => {
                            explained_by("service-account-token")
                        }
                        _ => &[],
                    }
                    .iter()
                    .copied(),
                )
                .collect();
            for v in restricted::violations(o) {
                assert!(
                    allowed.iter().any(|a| v.contains(a)),
                    "{what}: {v} is not explained by {name}'s opt-outs {allowed:?}"
                );
            }
        }
        let find = |kind: &str, name: &str| common::find(&objs, kind, name).clone();
        // Each opt-out relaxes its own row only.
        let dns = find("DaemonSet", "dns");
        let sc = &dns["spec"]["template"]["spec"]["containers"][0]["securityContext"];
        assert_eq!(sc["capabilities"]["add"], serde_json::json!(["NET_ADMIN"]));
        assert!(sc["capabilities"].get("drop").is_none(), "{what}: {sc}");
        assert_eq!(
            sc["readOnlyRootFilesystem"], true,
            "{what}: other rules still hold"
        );
        let psc = &dns["spec"]["template"]["spec"]["securityContext"];
        for f in ["runAsUser", "runAsGroup", "fsGroup"] {
            assert!(
                psc.get(f).is_none(),
                "{what}: run-as-root leaves {f} as the chart set it: {psc}"
            );
        }
        let controller = find("Deployment", "controller");
        let spec = &controller["spec"]["template"]["spec"];
        assert_eq!(spec["securityContext"]["runAsUser"], 0);
        assert!(
            spec.get("automountServiceAccountToken").is_none(),
            "{what}: token kept"
        );
        let csc = &spec["containers"][0]["securityContext"];
        assert_eq!(csc["privileged"], true);
        assert!(
            csc.get("allowPrivilegeEscalation").is_none(),
            "{what}: {csc}"
        );
        let store = find("StatefulSet", "store");
        let ssc = &store["spec"]["template"]["spec"];
        assert_eq!(
            ssc["containers"][0]["securityContext"]["readOnlyRootFilesystem"],
            false
        );
        assert_eq!(
            ssc["securityContext"]["runAsUser"], 1000,
            "{what}: other rules still hold"
        );
        assert!(
            find("ServiceAccount", "controller")
                .get("automountServiceAccountToken")
                .is_none()
        );
        assert_eq!(
            find("ServiceAccount", "plain")["automountServiceAccountToken"],
            false
        );
        assert_eq!(
            find("Job", "webhook-patch")["spec"]["template"]["spec"]["automountServiceAccountToken"],
            true
        );
    }
}

#[cfg(feature = "tools")]
#[test]
fn kept_tokens_are_said_on_stderr_and_in_the_log() {
    let home = tempfile::tempdir().unwrap();
    let values = home.path().join("v.yaml");
    // Everything opted out but the tokens, so post-render passes and only warnings remain.
    let all = "{locust.project-planton.org/allow-privileged: 'true', locust.project-planton.org/allow-privilege-escalation: 'true', locust.project-planton.org/allow-run-as-root: 'true', locust.project-planton.org/allow-host-namespaces: 'true', locust.project-planton.org/allow-host-ports: 'true', locust.project-planton.org/allow-capabilities: 'true', locust.project-planton.org/allow-volume-types: 'true', locust.project-planton.org/allow-writable-root-fs: 'true', locust.project-planton.org/allow-seccomp: 'true', locust.project-planton.org/allow-proc-mount: 'true', locust.project-planton.org/allow-apparmor: 'true', locust.project-planton.org/allow-sysctls: 'true'}";
    std::fs::write(
        &values,
        format!(
            "controller: {{podAnnotations: {all}}}\ndns: {{podAnnotations: {all}}}\nwebhook: {{podAnnotations: {all}}}\nstore: {{podAnnotations: {all}}}\ncleanup: {{podAnnotations: {all}}}\nprobe: {{annotations: {all}}}\n"
        ),
    )
    .unwrap();
    let raw = render(&helm3(), home.path(), Some(&values), false);
    assert!(raw.status.success());
    let log = home.path().join("state/post-render.log");
    let out = assert_cmd::Command::new(bin())
        .arg("post-render")
        .env("LOCUST_PLANTON_LOG", &log)
        .write_stdin(raw.stdout)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("locust-planton: warning: ServiceAccount controller: automountServiceAccountToken: the token is kept: ClusterRoleBinding rel-controller binds"),
        "{stderr}"
    );
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.starts_with("--- 20") && logged.contains("Z release=rel\n"),
        "{logged}"
    );
    assert!(
        logged.contains("the token is kept: RoleBinding webhook"),
        "{logged}"
    );
}

#[test]
fn the_log_keeps_every_entry_with_time_and_release_and_stays_bounded() {
    let home = tempfile::tempdir().unwrap();
    let log = home.path().join("post-render.log");
    let bad = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels:\n    app.kubernetes.io/instance: load\nspec: {hostPID: true, containers: [{name: c, image: i}]}\n";
    // Twenty failures at once: twenty whole entries.
    let runs: Vec<_> = (0..20)
        .map(|_| {
            let mut c = std::process::Command::new(bin());
            c.arg("post-render")
                .env("LOCUST_PLANTON_LOG", &log)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null());
            let mut child = c.spawn().unwrap();
            std::io::Write::write_all(&mut child.stdin.take().unwrap(), bad.as_bytes()).unwrap();
            child
        })
        .collect();
    for mut r in runs {
        assert_eq!(r.wait().unwrap().code(), Some(1));
    }
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.matches("\n--- ").count() + 1, 20, "{text}");
    assert_eq!(
        text.matches("release=load\npost-render failed:").count(),
        20
    );
    // A success is logged too, so the newest entry is always the latest run's.
    let good = bad.replace("hostPID: true, ", "");
    let out = assert_cmd::Command::new(bin())
        .arg("post-render")
        .env("LOCUST_PLANTON_LOG", &log)
        .write_stdin(good)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.trim_end().ends_with("post-rendered 1 document(s)"),
        "{text}"
    );
    // Bounded: past 1 MiB the log moves to `.1` and starts again.
    std::fs::write(&log, "--- old\n".repeat(150_000)).unwrap();
    let out = assert_cmd::Command::new(bin())
        .arg("post-render")
        .env("LOCUST_PLANTON_LOG", &log)
        .write_stdin(bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let rotated = log.with_extension("log.1");
    assert!(rotated.exists());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains(&format!("(also written to {})", rotated.display()))
    );
    let out = assert_cmd::Command::new(bin())
        .arg("post-render")
        .env("LOCUST_PLANTON_LOG", &log)
        .write_stdin(bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(std::fs::metadata(&log).unwrap().len() < 4096);
}

#[cfg(feature = "tools")]
#[test]
fn template_shows_the_post_renderers_reason_on_both_helms() {
    let home = tempfile::tempdir().unwrap();
    for helm in [helm3(), helm4()] {
        let out = lp(home.path())
            .args(["template", "-f"])
            .arg(repo().join("examples/checkout.yaml"))
            .arg("--chart")
            .arg(chart())
            .arg("--helm")
            .arg(&helm)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        // `template` post-renders helm's output itself: a refusal is the post-renderer's (exit
        // 1, every finding), not a helm failure.
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(out.stdout.is_empty());
        assert!(stderr.contains("post-render failed:"), "{stderr}");
        assert!(
            stderr.contains("Deployment controller: spec.template.spec.hostNetwork"),
            "{}: {stderr}",
            helm.display()
        );
    }
}

fn lint_cli(args: &[&str], stdin: &[u8]) -> (String, String, i32) {
    let out = assert_cmd::Command::new(bin())
        .arg("lint")
        .args(args)
        .write_stdin(stdin.to_vec())
        .output()
        .unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.code().unwrap(),
    )
}

/// After `lint`, one line on stderr: `lint: N objects, M problems`, N the objects Kubernetes
/// creates from the stream (counted by kubectl, List items one by one), M the findings listed
/// (errors and warnings: the lines of the text output, the items of `-o json`). `-o json` keeps
/// stdout pure JSON; `-q` drops the line.
#[cfg(feature = "tools")]
#[test]
fn lint_ends_with_a_summary_of_objects_and_problems() {
    let home = tempfile::tempdir().unwrap();
    let rendered = render(&helm4(), home.path(), None, false);
    assert!(
        rendered.status.success(),
        "{}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    let stream = rendered.stdout;
    let objects = kubectl_objects(std::str::from_utf8(&stream).unwrap()).len();
    let (findings, code) = lint_json(&stream);
    assert_eq!(code, 1);
    assert!(findings.len() > 5 && objects > 5);
    let summary = format!("lint: {objects} objects, {} problems\n", findings.len());
    let (out, err, code) = lint_cli(&[], &stream);
    assert_eq!(code, 1);
    assert_eq!(out.lines().count(), findings.len());
    assert!(err.ends_with(&summary), "{err}");
    assert_eq!(err.matches("lint: ").count(), 1, "{err}");
    let (out, err, _) = lint_cli(&["-o", "json"], &stream);
    let json: Value = serde_json::from_str(&out).expect("stdout stays pure JSON");
    assert_eq!(json.as_array().unwrap().len(), findings.len());
    assert!(err.ends_with(&summary), "{err}");
    let (_, err, _) = lint_cli(&["-q"], &stream);
    assert!(!err.contains("lint: "), "{err}");

    // A clean stream: the summary alone, exit 0; a List counts its items.
    let clean = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n# empty\n---\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}\n";
    assert_eq!(kubectl_objects(clean).len(), 3);
    let (out, err, code) = lint_cli(&[], clean.as_bytes());
    assert_eq!(
        (out.as_str(), err.as_str(), code),
        ("", "lint: 3 objects, 0 problems\n", 0)
    );
    let one = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n";
    let (_, err, _) = lint_cli(&[], one.as_bytes());
    assert_eq!(err, "lint: 1 object, 0 problems\n");
    // A stream Kubernetes refuses whole creates nothing.
    let (_, err, code) = lint_cli(&[], b"--- {a: 1}\n");
    assert_eq!((err.as_str(), code), ("lint: 0 objects, 1 problem\n", 1));
}

/// A YAML syntax error in a stream reads `FILE:LINE:COL: invalid YAML: …` (`<stdin>` for
/// stdin) with its document and template, at the line kubectl names; `-o json` gives the same
/// line and column; `post-render` says it the same way.
#[cfg(feature = "tools")]
#[test]
fn stream_syntax_errors_read_file_line_col() {
    let stream = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n# Source: x/templates/dep.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n   labels: x\n";
    let message = "invalid YAML: mapping values are not allowed in this context";
    let theirs = String::from_utf8(kubectl_read(stream, "json").stderr).unwrap();
    // kubectl counts lines from the document, after its `---` on line 4: 4 + 6 = 10.
    assert!(theirs.contains("line 6: mapping values"), "{theirs}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rendered.yaml");
    std::fs::write(&file, stream).unwrap();
    let label = file.to_str().unwrap();
    let (out, _, code) = lint_cli(&["-f", label], b"");
    assert_eq!(code, 1);
    assert_eq!(
        out,
        format!("{label}:10:10: {message} (document 2, x/templates/dep.yaml)\n")
    );
    let (out, _, _) = lint_cli(&[], stream.as_bytes());
    assert_eq!(
        out,
        format!("<stdin>:10:10: {message} (document 2, x/templates/dep.yaml)\n")
    );
    let (json, _) = lint_json(stream.as_bytes());
    assert_eq!(
        json,
        [
            serde_json::json!({"document": 2, "line": 10, "column": 10, "source": "x/templates/dep.yaml", "field": "", "rule": "yaml", "message": message, "severity": "error"})
        ]
    );
    let out = assert_cmd::Command::new(bin())
        .arg("post-render")
        .env("LOCUST_PLANTON_LOG", dir.path().join("log"))
        .write_stdin(stream)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!(
            "\n<stdin>:10:10: {message} (document 2, x/templates/dep.yaml)\n"
        )),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A separator Kubernetes refuses: its line, column 1.
    let (out, _, code) = lint_cli(
        &[],
        b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n--- |\n",
    );
    assert_eq!(code, 1);
    assert_eq!(
        out,
        "<stdin>:4:1: invalid YAML document separator: `--- |` (Kubernetes' reader allows only a comment after `---`) (document 2)\n"
    );
}
