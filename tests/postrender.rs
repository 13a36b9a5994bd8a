//! The post-renderer on every recorded Helm 3/4 stream and end to end through real Helm:
//! restricted profile, checkov, strict schema validation, byte-identical untouched documents,
//! Go-parser equality outside the intended fields, idempotence, errors and opt-outs.
// Without `tools`, the helpers of the tool-driven tests below are unused.
#![cfg_attr(not(feature = "tools"), allow(dead_code, unused_imports))]

mod common;
#[path = "common/restricted.rs"]
mod restricted;

use assert_cmd::Command;
use common::*;
use serde_json::Value;

fn post_render(input: &str, args: &[&str]) -> std::process::Output {
    let log = tempfile::NamedTempFile::new().unwrap();
    Command::new(bin())
        .arg("post-render")
        .args(args)
        .env("LOCUST_PLANTON_LOG", log.path())
        .write_stdin(input.to_string())
        .output()
        .unwrap()
}

fn ok(input: &str, args: &[&str]) -> String {
    let out = post_render(input, args);
    assert!(
        out.status.success(),
        "post-render failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Documents split at `---` lines (test-side, independent of the crate's splitter).
fn documents(text: &str) -> Vec<String> {
    let mut docs = vec![String::new()];
    for line in text.split_inclusive('\n') {
        if line.trim_end() == "---" && !docs.last().unwrap().is_empty() {
            docs.push(String::new());
        }
        docs.last_mut().unwrap().push_str(line);
    }
    docs
}

#[cfg(feature = "tools")]
#[test]
fn every_recorded_stream_is_hardened_losslessly_and_idempotently() {
    for (name, path) in recorded_streams() {
        let input = read(&path);
        let output = ok(&input, &[]);
        assert!(!output.trim().is_empty(), "{name}");
        assert_eq!(ok(&output, &[]), output, "{name}: not idempotent");
        // Untouched documents are byte-identical.
        let (ins, outs) = (documents(&input), documents(&output));
        assert_eq!(ins.len(), outs.len(), "{name}: document count");
        for (i, o) in ins.iter().zip(&outs) {
            let touched = [
                "ServiceAccount",
                "Deployment",
                "StatefulSet",
                "DaemonSet",
                "Job",
                "CronJob",
                "Pod",
                "List",
            ]
            .iter()
            .any(|k| {
                i.contains(&format!("\nkind: {k}\n")) || i.starts_with(&format!("kind: {k}\n"))
            });
            if !touched {
                assert_eq!(i, o, "{name}: an untouched document changed");
            } else {
                assert!(
                    i.lines()
                        .filter(|l| l.starts_with("# Source:"))
                        .eq(o.lines().filter(|l| l.starts_with("# Source:"))),
                    "{name}: # Source lines"
                );
            }
        }
        // Go's reader sees the same objects but for the intended fields, and the profile holds.
        let (mut before, mut after) = (kubectl_objects(&input), kubectl_objects(&output));
        assert_eq!(before.len(), after.len());
        let ours: Vec<String> = after.iter().flat_map(restricted::violations).collect();
        assert_hardened(
            &name,
            &output,
            "restricted",
            "tests/common/restricted.rs",
            &ours,
        );
        if name.contains("helm4") {
            for obj in &after {
                assert!(
                    obj["metadata"]["annotations"]["postrenderer.helm.sh/postrender-filename"]
                        .is_string(),
                    "{name}: Helm 4 filename annotation lost"
                );
            }
        }
        before.iter_mut().for_each(strip_intended);
        after.iter_mut().for_each(strip_intended);
        assert_eq!(
            before, after,
            "{name}: fields other than the intended ones changed"
        );
    }
}

/// The judge-based checks tests/mutants.rs runs with broken builds must pass with this one.
#[cfg(feature = "tools")]
#[test]
fn judge_based_checks_pass_on_recorded_streams_and_the_test_chart() {
    let recorded = judge_recorded_outputs(&bin());
    assert!(recorded.is_empty(), "{}", recorded.join("\n"));
    let rendered = judge_test_chart_render(&bin());
    assert!(rendered.is_empty(), "{}", rendered.join("\n"));
}

#[cfg(feature = "tools")]
#[test]
fn recorded_outputs_pass_checkov_and_strict_schema_validation() {
    // checkov skips hidden directories, and tempfile's default names start with a dot.
    let dir = tempfile::Builder::new().prefix("lp-out").tempdir().unwrap();
    let raw = tempfile::Builder::new().prefix("lp-raw").tempdir().unwrap();
    let mut files = Vec::new();
    for (name, path) in recorded_streams() {
        let input = read(&path);
        let out = dir.path().join(format!("{name}.yaml"));
        std::fs::write(&out, ok(&input, &[])).unwrap();
        std::fs::write(raw.path().join(format!("{name}.yaml")), input).unwrap();
        files.push(out);
    }
    let (checked, raw_failures) = checkov_failures(raw.path());
    assert!(checked > 100, "checkov checked too little: {checked}");
    assert!(
        !raw_failures.is_empty(),
        "the raw chart output should fail these checks (sanity)"
    );
    let (checked, failed) = checkov_failures(dir.path());
    assert!(checked > 100, "checkov checked too little: {checked}");
    assert!(
        failed.is_empty(),
        "checkov failures after post-render:\n{}",
        failed.join("\n")
    );
    validate_strict(&files);
}

#[cfg(feature = "tools")]
#[test]
fn tricky_yaml_strings_stay_strings_for_go() {
    let input = read(fixture(
        "reference/0.35.0/tricky-yaml/helm3-postrenderer-stdin.yaml",
    ));
    let output = ok(&input, &[]);
    let objs = kubectl_objects(&output);
    let master = find(&objs, "Deployment", "demo-locust-master");
    let env = master
        .pointer("/spec/template/spec/containers/0/env")
        .unwrap()
        .as_array()
        .unwrap();
    let get = |n: &str| env.iter().find(|e| e["name"] == n).unwrap()["value"].clone();
    for (k, v) in [
        ("FLAG_YES", "yes"),
        ("FLAG_ON", "on"),
        ("FLAG_N", "n"),
        ("MODE_OCTAL", "0755"),
        ("SCI", "1e3"),
        ("TILDE", "~"),
        ("BOOL_TRUE", "true"),
        ("EMPTY", ""),
        ("VERSION", "1.10"),
        ("COLON", "a: b"),
        ("HASH", "x #y"),
        ("UNICODE", "grüße ✓"),
    ] {
        assert_eq!(get(k), Value::String(v.into()), "{k}");
    }
    assert_eq!(
        master
            .pointer("/spec/template/metadata/labels/enabled")
            .unwrap(),
        "yes"
    );
}

#[cfg(feature = "tools")]
#[test]
fn script_change_changes_the_hash_and_labels_do_not() {
    let input = read(fixture(
        "reference/0.35.0/default/helm3-postrenderer-stdin.yaml",
    ));
    let hash_of = |text: &str| -> Vec<String> {
        kubectl_objects(&ok(text, &[]))
            .iter()
            .filter(|o| o["kind"] == "Deployment")
            .map(|o| o.pointer("/spec/template/metadata/annotations").unwrap()["locust.project-planton.org/scripts-sha256"].as_str().unwrap().to_string())
            .collect()
    };
    let base = hash_of(&input);
    assert_eq!(base.len(), 2);
    assert_eq!(
        hash_of(&input.replace("load_test: example", "load_test: example2")),
        base,
        "labels do not matter"
    );
    assert_eq!(
        hash_of(&input.replace("replicas: 1", "replicas: 3")),
        base,
        "replicas do not matter"
    );
    let changed = hash_of(&input.replace("wait_time = between(1, 2)", "wait_time = between(1, 5)"));
    assert_ne!(changed, base, "a script change changes the hash");
}

fn deployment_with(extra_pod: &str, extra_container: &str, annotations: &str) -> String {
    format!(
        "---\n# Source: t/templates/d.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n{annotations}spec:\n  selector: {{matchLabels: {{a: b}}}}\n  template:\n    metadata: {{labels: {{a: b}}}}\n    spec:\n{extra_pod}      containers:\n      - name: c\n        image: busybox\n{extra_container}"
    )
}

#[test]
fn weaker_settings_fail_unless_that_one_rule_is_opted_out() {
    // (pod, container, rule, message, the companion opt-outs it is useless without)
    let cases: [(&str, &str, &str, &str, &[&str]); 10] = [
        (
            "",
            "        securityContext: {privileged: true}\n",
            "privileged",
            "spec.template.spec.containers[0].securityContext.privileged: `privileged: true`",
            &["privilege-escalation", "run-as-root"],
        ),
        (
            "      securityContext: {runAsUser: 0}\n",
            "",
            "run-as-root",
            "spec.template.spec.securityContext.runAsUser: `runAsUser: 0` (root)",
            &[],
        ),
        (
            "      hostNetwork: true\n",
            "",
            "host-namespaces",
            "spec.template.spec.hostNetwork: `hostNetwork: true`",
            &[],
        ),
        (
            "      volumes:\n      - name: h\n        hostPath: {path: /}\n",
            "",
            "volume-types",
            "spec.template.spec.volumes[0]: a `hostPath` volume",
            &[],
        ),
        (
            "",
            "        securityContext: {capabilities: {add: [SYS_ADMIN]}}\n",
            "capabilities",
            "spec.template.spec.containers[0].securityContext.capabilities.add[0]: adding capability `SYS_ADMIN`",
            &["run-as-root"],
        ),
        (
            "",
            "        securityContext: {allowPrivilegeEscalation: true}\n",
            "privilege-escalation",
            "allowPrivilegeEscalation: true",
            &[],
        ),
        (
            "",
            "        securityContext: {readOnlyRootFilesystem: false}\n",
            "writable-root-fs",
            "readOnlyRootFilesystem: false",
            &[],
        ),
        (
            "      automountServiceAccountToken: true\n",
            "",
            "service-account-token",
            "automountServiceAccountToken: true",
            &[],
        ),
        (
            "",
            "        ports: [{containerPort: 80, hostPort: 80}]\n",
            "host-ports",
            "a host port",
            &[],
        ),
        (
            "      securityContext: {seccompProfile: {type: Unconfined}}\n",
            "",
            "seccomp",
            "`Unconfined`",
            &[],
        ),
    ];
    for (pod, container, rule, message, companions) in cases {
        let bad = deployment_with(pod, container, "");
        let out = post_render(&bad, &[]);
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(1), "{rule}");
        assert!(out.stdout.is_empty(), "{rule}: stdout must stay empty");
        assert!(
            stderr.contains("document 1 (line 1, t/templates/d.yaml): Deployment d: "),
            "{rule}: {stderr}"
        );
        assert!(stderr.contains(message), "{rule}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "locust.project-planton.org/allow-{rule}: \"true\""
            )),
            "{stderr}"
        );
        let annotate = |rules: &[&str]| {
            let lines: String = rules
                .iter()
                .map(|r| format!("    locust.project-planton.org/allow-{r}: \"true\"\n"))
                .collect();
            format!("  annotations:\n{lines}")
        };
        // An opt-out that is useless without another names the other as a finding of its own …
        if !companions.is_empty() {
            let out = post_render(&deployment_with(pod, container, &annotate(&[rule])), &[]);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{rule}: {stderr}");
            for c in companions {
                assert!(
                    stderr.contains(&format!("locust.project-planton.org/allow-{c}: \"true\"")),
                    "{rule} needs {c}: {stderr}"
                );
            }
        }
        // … and opting out of this rule (with its companions) keeps the setting …
        let mut rules = vec![rule];
        rules.extend(companions);
        let allowed = deployment_with(pod, container, &annotate(&rules));
        let out = ok(&allowed, &[]);
        // … while every other rule is still enforced.
        assert!(
            out.contains("allowPrivilegeEscalation: false")
                || rules.contains(&"privilege-escalation"),
            "{rule}:\n{out}"
        );
        assert!(
            out.contains("automountServiceAccountToken: false") || rule == "service-account-token",
            "{rule}:\n{out}"
        );
        let other = "      hostPID: true\n";
        let both = deployment_with(&format!("{pod}{other}"), container, &annotate(&rules));
        if rule != "host-namespaces" {
            assert_eq!(
                post_render(&both, &[]).status.code(),
                Some(1),
                "{rule}: an opt-out covers one rule only"
            );
        }
    }
    let typo = deployment_with(
        "",
        "",
        "  annotations:\n    locust.project-planton.org/allow-everything: \"true\"\n",
    );
    let out = post_render(&typo, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown opt-out `everything`"));
}

#[cfg(feature = "tools")]
#[test]
fn stricter_settings_are_kept_and_high_uid_raises_low_uids() {
    let text = deployment_with(
        "      securityContext: {runAsUser: 2000, seccompProfile: {type: Localhost, localhostProfile: p.json}}\n",
        "        securityContext: {capabilities: {drop: [ALL, NET_RAW]}}\n",
        "",
    );
    let out = ok(&text, &[]);
    let obj = &kubectl_objects(&out)[0];
    assert_eq!(
        obj.pointer("/spec/template/spec/securityContext/runAsUser")
            .unwrap(),
        2000
    );
    assert_eq!(
        obj.pointer("/spec/template/spec/securityContext/seccompProfile/type")
            .unwrap(),
        "Localhost"
    );
    assert_eq!(
        obj.pointer("/spec/template/spec/containers/0/securityContext/capabilities/drop")
            .unwrap(),
        &serde_json::json!(["ALL", "NET_RAW"])
    );
    let high = &kubectl_objects(&ok(&text, &["--high-uid"]))[0];
    assert_eq!(
        high.pointer("/spec/template/spec/securityContext/runAsUser")
            .unwrap(),
        10001
    );
    let plain = &kubectl_objects(&ok(&deployment_with("", "", ""), &["--high-uid"]))[0];
    assert_eq!(
        plain
            .pointer("/spec/template/spec/securityContext/runAsUser")
            .unwrap(),
        10001
    );
}

#[test]
fn bad_streams_fail_with_location_and_empty_stdout() {
    let log = tempfile::NamedTempFile::new().unwrap();
    let cases = [
        (
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n# Source: x/t.yaml\nkind: Pod\nmetadata: [unclosed\n",
            "<stdin>:8:1: invalid YAML: while parsing a flow sequence: did not find expected ',' or ']' (document 2, x/t.yaml)",
        ),
        (
            "---\n- a\n- b\n",
            "document 1 (line 1): not a Kubernetes object: the document is a list",
        ),
        ("", "no Kubernetes objects on stdin"),
        (
            "---\n# only a comment\n---\n",
            "no Kubernetes objects on stdin",
        ),
        (
            "kind: List\nitems:\n- just a string\n",
            "document 1 (line 1): items[0]: a List item must be a mapping, not a string",
        ),
    ];
    for (input, message) in cases {
        let out = Command::new(bin())
            .arg("post-render")
            .env("LOCUST_PLANTON_LOG", log.path())
            .write_stdin(input)
            .output()
            .unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(1), "{input:?}");
        assert!(out.stdout.is_empty(), "{input:?}");
        assert!(stderr.contains(message), "{input:?}: {stderr}");
        // Helm 4 discards stderr: the same reason is in the log file, whose path stderr names.
        let logged = read(log.path());
        assert!(logged.contains(message), "log: {logged}");
        assert!(stderr.contains(&format!("(also written to {})", log.path().display())));
    }
    let out = Command::new(bin())
        .arg("post-render")
        .write_stdin(vec![0xff, 0xfe, b'a'])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
}

#[test]
fn stream_edge_cases_pass_through() {
    let input = "\u{feff}# leading comment\n---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\n--- # trailing comment\r\napiVersion: v1\r\nkind: ServiceAccount\r\nmetadata:\r\n  name: sa\r\n---\n\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {dup: 1, dup: 2}\n";
    let out = ok(input, &[]);
    assert!(out.starts_with("# leading comment\n---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\n--- # trailing comment\r\n"), "{out}");
    assert!(
        out.contains("automountServiceAccountToken: false\r\n"),
        "CRLF kept in the rewritten document: {out:?}"
    );
    assert!(out.ends_with("---\n\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {dup: 1, dup: 2}\n"), "unknown kinds pass through");
    assert_eq!(ok(&out, &[]), out);
}

#[test]
fn unverified_chart_warns_and_strict_chart_fails() {
    let input = read(fixture(
        "reference/0.35.0/default/helm3-postrenderer-stdin.yaml",
    ))
    .replace("locust-0.35.0", "locust-0.99.0");
    let out = post_render(&input, &[]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains(
        "warning: chart locust-0.99.0 is not verified with this locust-planton (verified: 0.35.0)"
    ));
    let out = post_render(&input, &["--strict-chart"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let out = post_render(
        &read(fixture(
            "reference/0.35.0/default/helm3-postrenderer-stdin.yaml",
        )),
        &["--strict-chart"],
    );
    assert!(out.status.success() && out.stderr.is_empty());
}

#[test]
fn no_subcommand_with_piped_stdin_post_renders() {
    let input = read(fixture(
        "reference/0.35.0/default/helm4-postrenderer-stdin.yaml",
    ));
    let out = Command::new(bin())
        .write_stdin(input.clone())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), ok(&input, &[]));
}

/// Helm 3 sends hooks to no post-renderer (docs/post-renderer.md "The Helm contract"): on Helm 3
/// a chart's hooks stay as the
/// chart wrote them. The DeliveryHero chart has none; the test chart has one to show the limit.
fn check_rendered(text: &str, what: &str, hooks_post_rendered: bool) {
    let is_hook = |o: &Value| o["metadata"]["annotations"]["helm.sh/hook"].is_string();
    let all = kubectl_objects(text);
    let hooks: Vec<&Value> = all.iter().filter(|o| is_hook(o)).collect();
    assert_eq!(hooks.len(), 1, "{what}: the test chart's hook");
    // Kubernetes' verdict and restricted.rs's agree: the hook is hardened exactly when it was
    // post-rendered, and everything else is.
    let (others, on_hooks) = judge_split_hooks(text, "restricted");
    let ours_on_hook = restricted::violations(hooks[0]);
    assert!(
        on_hooks.is_empty() == hooks_post_rendered
            && ours_on_hook.is_empty() == hooks_post_rendered,
        "{what}: hook hardened: {hooks_post_rendered} expected\n  psa-judge: {on_hooks:?}\n  tests/common/restricted.rs: {ours_on_hook:?}"
    );
    let ours_elsewhere: Vec<String> = all
        .iter()
        .filter(|o| !is_hook(o))
        .flat_map(restricted::violations)
        .collect();
    assert!(
        others.is_empty() && ours_elsewhere.is_empty(),
        "{what}: not hardened\n  psa-judge: {others:?}\n  tests/common/restricted.rs: {ours_elsewhere:?}"
    );
    let objs: Vec<Value> = all.iter().filter(|o| !is_hook(o)).cloned().collect();
    let kinds: Vec<&str> = objs.iter().filter_map(|o| o["kind"].as_str()).collect();
    // kubectl lists the items of a `kind: List` one by one: the Pod comes from the List.
    for k in [
        "Deployment",
        "StatefulSet",
        "CronJob",
        "Pod",
        "ServiceAccount",
        "ConfigMap",
    ] {
        assert!(kinds.contains(&k), "{what}: no {k} in {kinds:?}");
    }
    let mut stamped = 0;
    for o in &objs {
        let items: Vec<&Value> = if o["kind"] == "List" {
            o["items"].as_array().unwrap().iter().collect()
        } else {
            vec![o]
        };
        for i in items {
            let v = restricted::violations(i);
            assert!(v.is_empty(), "{what}: {v:#?}");
            for (_, template) in restricted::pod_specs(i) {
                let t = template.expect("every pod spec here has a template");
                assert!(
                    t["metadata"]["annotations"]["locust.project-planton.org/scripts-sha256"]
                        .is_string(),
                    "{what}: {} not stamped",
                    i["kind"]
                );
                stamped += 1;
            }
        }
    }
    assert!(stamped >= 4, "{what}: {stamped} pod templates stamped");
}

#[cfg(feature = "tools")]
#[test]
fn helm3_template_with_post_renderer_path() {
    let home = tempfile::tempdir().unwrap();
    let values = example_values(home.path());
    let chart = repo().join("tests/charts/locust-mini");
    let run = |extra: &[&str]| {
        let mut cmd = helm_cmd(&helm3(), home.path());
        cmd.args(["template", "demo"])
            .arg(&chart)
            .arg("-f")
            .arg(&values)
            .args(["--set", "testExtras=true", "--post-renderer"])
            .arg(bin())
            .args(extra);
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "helm 3: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let all = run(&[]);
    assert!(all.contains("# Source: locust-mini/templates/deployments.yaml"));
    check_rendered(&all, "helm3", false);
    let only = run(&["--show-only", "templates/deployments.yaml"]);
    assert_eq!(
        kubectl_objects(&only).len(),
        2,
        "--show-only works after post-rendering"
    );
    assert!(only.contains("locust.project-planton.org/scripts-sha256"));
}

#[cfg(feature = "tools")]
#[test]
fn helm4_template_through_the_plugin() {
    let home = tempfile::tempdir().unwrap();
    let values = example_values(home.path());
    // The repository's own plugin manifest, with locust-planton found on PATH.
    let plugin_env = helm4_plugin_env(home.path());
    let chart = repo().join("tests/charts/locust-mini");
    let run = |extra: &[&str]| {
        let mut cmd = helm_cmd(&helm4(), home.path());
        cmd.args(["template", "demo"])
            .arg(&chart)
            .arg("-f")
            .arg(&values)
            .args([
                "--set",
                "testExtras=true",
                "--post-renderer",
                "locust-planton",
            ])
            .args(extra);
        cmd.envs(plugin_env.clone());
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "helm 4: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let all = run(&[]);
    check_rendered(&all, "helm4", true);
    assert!(
        all.contains("helm.sh/hook: pre-install"),
        "Helm 4 post-renders hooks too"
    );
    let only = run(&["--show-only", "templates/deployments.yaml"]);
    assert_eq!(kubectl_objects(&only).len(), 2);
}

/// Values the chart interpolates bare can carry YAML into the rendered pod (a line break and a
/// field, a merge key, a repeated key). `check` refuses such values (tests/check.rs fixtures
/// `helm-values-*`); here they are given to real Helm 3 and Helm 4 anyway, with the post-renderer
/// on, and no weaker pod may come out: helm fails with the post-renderer's refusal, or kubectl
/// reads a compliant output.
#[cfg(feature = "tools")]
#[test]
fn bare_value_injection_never_yields_a_weaker_pod() {
    let home = tempfile::tempdir().unwrap();
    let values = example_values(home.path());
    let chart = repo().join("tests/charts/locust-mini");
    let plugin_env = helm4_plugin_env(home.path());
    // The test chart renders the pod through `include … | nindent 4`, which indents injected
    // lines too: pod fields sit 2 spaces in, container fields 4.
    // (value, payload, the field a refusal names, whether it must be refused: a repeated key
    // that the chart's own later key overrides leaves a compliant pod, which may pass).
    let injections = [
        (
            "master.restartPolicy",
            "Always\n  hostPID: true",
            "hostPID",
            true,
        ),
        (
            "master.restartPolicy",
            "Always\n  <<: {hostNetwork: true}",
            "hostNetwork",
            true,
        ),
        (
            "image.pullPolicy",
            "IfNotPresent\n    securityContext: {privileged: true}",
            "privileged",
            false,
        ),
        (
            "image.pullPolicy",
            "IfNotPresent\n    ports: [{containerPort: 80, hostPort: 8e1}]",
            "hostPort",
            true,
        ),
        (
            "worker.restartPolicy",
            "Always\n  automountServiceAccountToken: !!bool yes",
            "automountServiceAccountToken",
            true,
        ),
    ];
    for (key, payload, field, must_refuse) in injections {
        let extra = home.path().join("inject.yaml");
        let (parent, leaf) = key.split_once('.').unwrap();
        std::fs::write(
            &extra,
            format!(
                "{parent}:\n  {leaf}: {}\n",
                serde_json::Value::String(payload.into())
            ),
        )
        .unwrap();
        for helm in ["helm3", "helm4"] {
            let mut cmd = helm_cmd(
                &if helm == "helm3" { helm3() } else { helm4() },
                home.path(),
            );
            cmd.args(["template", "demo"])
                .arg(&chart)
                .arg("-f")
                .arg(&values)
                .arg("-f")
                .arg(&extra)
                .arg("--post-renderer");
            if helm == "helm3" {
                cmd.arg(bin());
            } else {
                cmd.arg("locust-planton").envs(plugin_env.clone());
            }
            cmd.env("LOCUST_PLANTON_LOG", home.path().join("log"));
            let out = cmd.output().unwrap();
            let what = format!("{helm} {key}={payload:?}");
            if out.status.success() {
                let output = String::from_utf8(out.stdout).unwrap();
                let ours: Vec<String> = kubectl_objects(&output)
                    .iter()
                    .flat_map(restricted::violations)
                    .collect();
                // (No `testExtras` here: the render holds no hook.)
                if let Some(p) =
                    not_hardened(&output, "restricted", "tests/common/restricted.rs", &ours)
                {
                    panic!("{what}: BYPASS {p}");
                }
                assert!(
                    !must_refuse,
                    "{what}: a weaker explicit setting must be refused"
                );
            } else {
                // Helm 4 hides the post-renderer's stderr; the log file has the reason.
                let reason = format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stderr),
                    std::fs::read_to_string(home.path().join("log")).unwrap_or_default()
                );
                assert!(reason.contains(field), "{what}: {reason}");
            }
        }
    }
}
