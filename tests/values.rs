//! `values` and `configmaps`: golden output, hash stability, kustomize-compatible hashes, and
//! script bytes reaching the pod unchanged through real Helm 3 and Helm 4.
// Without `tools`, the helpers of the tool-driven tests below are unused.
#![cfg_attr(not(feature = "tools"), allow(dead_code, unused_imports))]

mod common;
use assert_cmd::Command;
use common::*;
use locust_planton::spec;
use locust_planton::values::synthesize;
use proptest::prelude::*;
use std::path::Path;

fn run(args: &[&str]) -> std::process::Output {
    Command::new(bin()).args(args).output().unwrap()
}

fn golden(name: &str, actual: &str) {
    let path = fixture(&format!("golden/{name}"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    assert_eq!(
        actual,
        read(&path),
        "{name} differs (UPDATE_GOLDEN=1 rewrites it; review the diff)"
    );
}

#[test]
fn golden_values_and_configmaps_for_examples() {
    for ex in ["checkout", "kubernetes-locust"] {
        let f = repo().join(format!("examples/{ex}.yaml"));
        let out = run(&["values", "-f", f.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        golden(
            &format!("{ex}.values.yaml"),
            &String::from_utf8(out.stdout).unwrap(),
        );
        let out = run(&["configmaps", "-f", f.to_str().unwrap()]);
        assert!(out.status.success());
        golden(
            &format!("{ex}.configmaps.yaml"),
            &String::from_utf8(out.stdout).unwrap(),
        );
    }
}

#[test]
fn output_is_deterministic_and_written_atomically() {
    let f = repo().join("examples/checkout.yaml");
    let a = run(&["values", "-f", f.to_str().unwrap()]).stdout;
    let b = run(&["values", "-f", f.to_str().unwrap()]).stdout;
    assert_eq!(a, b);
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("values.yaml");
    let out = run(&[
        "values",
        "-f",
        f.to_str().unwrap(),
        "--output-file",
        target.to_str().unwrap(),
    ]);
    assert!(out.status.success() && out.stdout.is_empty());
    assert_eq!(std::fs::read(&target).unwrap(), a);
}

#[test]
fn invalid_spec_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("values.yaml");
    std::fs::write(&target, "previous: content\n").unwrap();
    let bad = fixture("specs/invalid/pip-shell.yaml");
    let out = run(&[
        "values",
        "-f",
        bad.to_str().unwrap(),
        "--output-file",
        target.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("spec.loadTest.pipPackages[0]: `requests; rm -rf /`"),
        "{stderr}"
    );
    assert_eq!(read(&target), "previous: content\n");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temp file left behind"
    );
    let out = run(&["values", "-f", bad.to_str().unwrap()]);
    assert!(out.stdout.is_empty());
}

#[test]
fn helm_values_warnings_and_errors() {
    let base = read(repo().join("examples/kubernetes-locust.yaml"));
    let spec_text = format!(
        "{base}  helmValues:\n    worker.hpa.enabled: \"true\"\n    worker.hpa.enable: \"true\"\n    master.nodeSelector: \"{{pool: on-demand}}\"\n"
    );
    let out = Command::new(bin())
        .args(["values", "-f", "-"])
        .write_stdin(spec_text.clone())
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    // Each warning names the line and column where its key is written.
    let line_of = |key: &str| {
        spec_text
            .lines()
            .position(|l| l.trim_start().starts_with(key))
            .unwrap()
            + 1
    };
    assert!(stderr.contains(&format!("<stdin>:{}:5: spec.helmValues[\"worker.hpa.enabled\"]: warning: worker autoscaling reacts only after load has started", line_of("worker.hpa.enabled:"))), "{stderr}");
    assert!(stderr.contains(&format!("<stdin>:{}:5: spec.helmValues[\"worker.hpa.enable\"]: warning: chart locust 0.35.0 does not read `worker.hpa.enable`", line_of("worker.hpa.enable:"))), "{stderr}");
    let values =
        locust_planton::yaml::parse_single(&String::from_utf8(out.stdout).unwrap()).unwrap();
    assert_eq!(
        values
            .get_path(&["worker", "hpa", "enabled"])
            .unwrap()
            .as_bool(),
        Some(true)
    );
    assert_eq!(
        values
            .get_path(&["master", "nodeSelector", "pool"])
            .unwrap()
            .as_str(),
        Some("on-demand")
    );
}

fn spec_from(text: &str) -> spec::LoadTestSpec {
    spec::read(text)
        .unwrap_or_else(|f| panic!("{}", f.render("spec")))
        .0
}

#[test]
fn configmap_names_follow_content_only() {
    let base = read(repo().join("examples/checkout.yaml"));
    let names = |text: &str| -> Vec<String> {
        synthesize(&spec_from(text))
            .configmaps
            .into_iter()
            .map(|c| c.name)
            .collect()
    };
    let original = names(&base);
    assert_eq!(original.len(), 2);
    assert_eq!(names(&base), original, "same spec, same names");
    assert_eq!(
        names(&base.replace("replicas: 4", "replicas: 9")),
        original,
        "replicas do not rename"
    );
    assert_eq!(
        names(&base.replace(
            "  name: checkout-load\n  labels:",
            "  name: checkout-load\n  labels:\n    team: perf"
        )),
        original
    );
    let script = names(&base.replace("wait_time = between(1, 2)", "wait_time = between(1, 3)"));
    assert_ne!(script[0], original[0], "script change renames main");
    assert_eq!(script[1], original[1], "lib unchanged");
    let lib = names(&base.replace("randint(1, 500)", "randint(1, 501)"));
    assert_eq!(lib[0], original[0]);
    assert_ne!(lib[1], original[1], "lib change renames lib");
    let pkgs = names(&base.replace("\"faker==19.0.0\"", "\"faker==19.0.1\""));
    assert_ne!(
        pkgs[0], original[0],
        "package change renames main (requirements.txt)"
    );
}

/// Our hash must equal kustomize's configMapGenerator suffix (the reference for hashed names).
#[cfg(feature = "tools")]
#[test]
fn hash_matches_kubectl_kustomize() {
    let spec = spec_from(&read(repo().join("examples/checkout.yaml")));
    let lib = synthesize(&spec)
        .configmaps
        .into_iter()
        .find(|c| c.role == "lib")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut kustomization = String::from("configMapGenerator:\n- name: x\n  files:\n");
    for (k, v) in &lib.data {
        std::fs::write(dir.path().join(k), v).unwrap();
        kustomization.push_str(&format!("  - {k}\n"));
    }
    std::fs::write(dir.path().join("kustomization.yaml"), kustomization).unwrap();
    let out = std::process::Command::new(kubectl())
        .arg("kustomize")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let suffix = lib.name.rsplit('-').next().unwrap();
    assert!(
        text.contains(&format!("name: x-{suffix}")),
        "kustomize named it differently:\n{text}"
    );
}

/// Renders values with real helm through the test chart; returns objects as JSON read by kubectl.
fn render(helm: &Path, values: &str) -> Vec<serde_json::Value> {
    let dir = tempfile::tempdir().unwrap();
    let vf = dir.path().join("values.yaml");
    std::fs::write(&vf, values).unwrap();
    let chart = repo().join("tests/charts/locust-mini");
    let out = helm_cmd(helm, dir.path())
        .arg("template")
        .arg("demo")
        .arg(&chart)
        .arg("-f")
        .arg(&vf)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "helm: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    kubectl_objects(&String::from_utf8(out.stdout).unwrap())
}

fn spec_with_scripts(main: &str, libs: &[String]) -> String {
    use locust_planton::yaml::quote_double;
    let mut s = format!(
        "apiVersion: kubernetes.project-planton.org/v1\nkind: LocustKubernetes\nmetadata: {{name: prop}}\nspec:\n  loadTest:\n    name: prop\n    host: https://t.example\n    mainPyContent: {}\n",
        quote_double(main)
    );
    if !libs.is_empty() {
        s.push_str("    libFilesContent:\n");
        for (i, l) in libs.iter().enumerate() {
            s.push_str(&format!("      f{i}.py: {}\n", quote_double(l)));
        }
    }
    s
}

/// Asserts that rendering `main`/`libs` through values → helm (3 and 4) → kubectl gives back the
/// exact bytes in the ConfigMaps the pods mount.
fn assert_scripts_survive(main: &str, libs: &[String]) {
    let spec_text = spec_with_scripts(main, libs);
    let out = Command::new(bin())
        .args(["values", "-f", "-"])
        .write_stdin(spec_text.clone())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{spec_text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let values = String::from_utf8(out.stdout).unwrap();
    let spec = spec_from(&spec_text);
    let cms = synthesize(&spec).configmaps;
    for helm in [helm3(), helm4()] {
        let objects = render(&helm, &values);
        for cm in &cms {
            let obj = objects
                .iter()
                .find(|o| o["kind"] == "ConfigMap" && o["metadata"]["name"] == cm.name.as_str())
                .unwrap_or_else(|| panic!("{} not rendered by {}", cm.name, helm.display()));
            for (k, v) in &cm.data {
                // What the kubelet writes to the file: `data` as is, `binaryData` decoded.
                let seen = match obj["binaryData"][k].as_str() {
                    Some(b64) => {
                        use base64::Engine;
                        String::from_utf8(
                            base64::engine::general_purpose::STANDARD
                                .decode(b64)
                                .unwrap(),
                        )
                        .unwrap()
                    }
                    None => obj["data"][k]
                        .as_str()
                        .unwrap_or_else(|| panic!("{k} missing"))
                        .to_string(),
                };
                assert_eq!(seen, *v, "{k} via {}", helm.display());
            }
        }
        let main_cm = &cms[0].name;
        let master = find(&objects, "Deployment", "prop-master");
        let vols = master["spec"]["template"]["spec"]["volumes"]
            .as_array()
            .unwrap();
        assert!(
            vols.iter()
                .any(|v| v["configMap"]["name"] == main_cm.as_str()),
            "the pod mounts {main_cm}"
        );
    }
}

#[cfg(feature = "tools")]
#[test]
fn tricky_script_content_reaches_the_pod_unchanged() {
    let tricky = [
        "{{ .Values.secret }}",
        "}}{{",
        "{{- trim -}}",
        "{{`raw`}}",
        "`backticks`",
        "'single' \"double\"",
        "\ttab\tindent",
        "crlf\r\nline\r\n",
        "trailing spaces   \n",
        "---\n",
        "...\n",
        "a\n---\nb\n",
        "  leading spaces\n",
        "emoji 🚀🔥\n",
        "",
        "\n\n\n",
        "# comment: yes\n",
        "key: value\n- item\n",
        "nel\u{85}ls\u{2028}bom\u{feff}",
        "bell\u{7}null\u{1}",
        "yes",
        "0755",
        "~",
        "x #y",
    ];
    let libs: Vec<String> = tricky.iter().map(|s| s.to_string()).collect();
    assert_scripts_survive("print('{{ x }}')\n# }} {{\n", &libs);
}

fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("{{".to_string()),
        Just("}}".to_string()),
        Just("{{-".to_string()),
        Just("`".to_string()),
        Just("'".to_string()),
        Just("\"".to_string()),
        Just("\t".to_string()),
        Just("\r\n".to_string()),
        Just("\n".to_string()),
        Just(" ".to_string()),
        Just("---".to_string()),
        Just("...".to_string()),
        Just("🚀".to_string()),
        Just("\\".to_string()),
        Just("#".to_string()),
        Just(": ".to_string()),
        Just("- ".to_string()),
        Just("&a *a !t %".to_string()),
        Just("\u{85}".to_string()),
        "[a-z]{1,8}",
        "\\PC{1,4}",
    ]
}

fn content() -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 0..16).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, .. ProptestConfig::default() })]
    #[cfg(feature = "tools")]
    #[test]
    fn arbitrary_script_content_reaches_the_pod_unchanged(
        main in content().prop_filter("locustfile must not be blank", |s| !s.trim().is_empty()),
        libs in prop::collection::vec(content(), 0..5),
    ) {
        assert_scripts_survive(&main, &libs);
    }
}

#[cfg(feature = "tools")]
#[test]
fn rendered_examples_pass_strict_schema_validation() {
    for ex in ["checkout", "kubernetes-locust"] {
        let f = repo().join(format!("examples/{ex}.yaml"));
        let values = String::from_utf8(run(&["values", "-f", f.to_str().unwrap()]).stdout).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let vf = dir.path().join("values.yaml");
        std::fs::write(&vf, values).unwrap();
        let out = std::process::Command::new(helm3())
            .args([
                "template",
                "demo",
                repo().join("tests/charts/locust-mini").to_str().unwrap(),
                "-f",
                vf.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(out.status.success());
        let rendered = dir.path().join("r.yaml");
        std::fs::write(&rendered, &out.stdout).unwrap();
        validate_strict(&[rendered]);
    }
}

/// A spec with a run of 2 workers × 2 processes and tags; `extra` is added under `spec`, and
/// `load_test_extra` under `spec.loadTest`.
fn run_spec(extra: &str, load_test_extra: &str) -> String {
    format!(
        "apiVersion: kubernetes.project-planton.org/v1
kind: LocustKubernetes
metadata: {{name: watched}}
spec:
  workerContainer: {{replicas: 2}}
{extra}  loadTest:
    name: watched
    host: http://10.20.0.5:8080
    mainPyContent: 'x = 1'
    run: {{users: 8, spawnRate: 4, runTime: 1m, tags: [a], processes: 2}}
{load_test_extra}"
    )
}

fn values_json(text: &str) -> serde_json::Value {
    synthesize(&spec_from(text)).values.to_json()
}

fn strings_at(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// `run` with `metrics`: the master runs the test with its web UI on (`--autostart`, and
/// `--autoquit` two scrape intervals long), every other flag as the headless run has it, the
/// same TCP readiness probe, the same wrapper; the exporter is there.
#[test]
fn a_run_with_metrics_keeps_the_web_ui_on_and_ends_by_itself() {
    let headless = values_json(&run_spec("", ""));
    let watched = values_json(&run_spec("  metrics: {prometheus: {enabled: true}}\n", ""));
    let args = strings_at(&watched["master"]["args"]);
    let headless_args = strings_at(&headless["master"]["args"]);
    assert_eq!(headless_args[0], "--headless");
    assert_eq!(args[..3], ["--autostart", "--autoquit", "30"]);
    assert!(!args.contains(&"--headless".to_string()), "{args:?}");
    assert_eq!(
        args[3..],
        headless_args[1..],
        "every other flag as headless"
    );
    assert_eq!(
        &args[3..],
        [
            "--users",
            "8",
            "--spawn-rate",
            "4",
            "--run-time",
            "1m",
            "--expect-workers",
            "4",
            "--tags",
            "a"
        ]
    );
    for key in ["readinessProbe", "command"] {
        assert_eq!(watched["master"][key], headless["master"][key], "{key}");
    }
    assert_eq!(
        watched["master"]["readinessProbe"]["tcpSocket"]["port"],
        5557
    );
    assert_eq!(watched["worker"], headless["worker"]);
    let kinds: Vec<&str> = watched["extraObjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["ConfigMap", "Deployment", "Service", "ServiceMonitor"]
    );
    let monitor = &watched["extraObjects"][3]["spec"]["endpoints"][0];
    assert_eq!(monitor["interval"], "15s", "autoquit is two of these");
}

/// `openTelemetry`: `--otel` on both roles after the run's flags, the OTLP environment with
/// the run's identity, the otel extra's packages in the pip step (a package the user pins
/// wins), and egress to the endpoint in both NetworkPolicies.
#[test]
fn open_telemetry_wires_flags_environment_packages_and_egress() {
    let otel = "    locustVersion: \"2.47.0\"
    pipPackages: [\"opentelemetry-sdk==1.40.0\"]
    openTelemetry:
      endpoint: http://10.9.8.7:4318
      protocol: http/protobuf
      resourceAttributes: {team: pay ments}
      env: [{name: OTEL_TRACES_SAMPLER, value: always_on}]
";
    let policy = "  networkPolicy: {enabled: true, targetCidrs: [10.20.0.0/16]}\n";
    let v = values_json(&run_spec(policy, otel));
    let master = strings_at(&v["master"]["args"]);
    assert_eq!(master[0], "--headless");
    assert_eq!(master.last().unwrap(), "--otel");
    assert_eq!(
        strings_at(&v["worker"]["args"]),
        ["--processes", "2", "--otel"]
    );
    let env = &v["loadtest"]["environment"];
    let scripts = v["loadtest"]["locust_locustfile_configmap"]
        .as_str()
        .unwrap();
    assert_eq!(
        env,
        &serde_json::json!({
            "PYTHONPATH": "/opt/locust-pip",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://10.9.8.7:4318",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_SERVICE_NAME": "watched",
            "OTEL_RESOURCE_ATTRIBUTES": format!("team=pay%20ments,locust_planton.name=watched,locust_planton.scripts={scripts}"),
            "OTEL_TRACES_SAMPLER": "always_on",
        })
    );
    assert!(scripts.starts_with("watched-main-"));
    for role in ["master", "worker"] {
        let cmd = strings_at(&v[role]["initContainers"][0]["command"]);
        let after = cmd.iter().position(|a| a == "--").unwrap();
        assert_eq!(
            cmd[after + 1..],
            [
                "opentelemetry-sdk==1.40.0",
                "opentelemetry-exporter-otlp-proto-grpc==1.45.1",
                "opentelemetry-exporter-otlp-proto-http==1.45.1",
                "opentelemetry-instrumentation-requests==0.66b1",
                "opentelemetry-instrumentation-urllib3==0.66b1",
            ],
            "{role}"
        );
    }
    let egress = |name: &str| -> serde_json::Value {
        v["extraObjects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["kind"] == "NetworkPolicy" && o["metadata"]["name"] == name)
            .unwrap()["spec"]["egress"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .clone()
    };
    let to_collector = serde_json::json!({"to": [{"ipBlock": {"cidr": "10.9.8.7/32"}}], "ports": [{"port": 4318, "protocol": "TCP"}]});
    assert_eq!(egress("watched-master"), to_collector);
    assert_eq!(egress("watched-worker"), to_collector);
    // A named endpoint: its port, to any address (a policy selects no DNS name).
    let named = otel.replace("http://10.9.8.7:4318", "https://collector.example");
    let v = values_json(&run_spec(policy, &named));
    let last = v["extraObjects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["metadata"]["name"] == "watched-master")
        .unwrap()["spec"]["egress"][1]
        .clone();
    assert_eq!(
        last,
        serde_json::json!({"ports": [{"port": 443, "protocol": "TCP"}]})
    );
    // Without openTelemetry: no `--otel`, no OTLP environment, no pip step.
    let plain = values_json(&run_spec(policy, ""));
    assert!(!strings_at(&plain["master"]["args"]).contains(&"--otel".to_string()));
    assert_eq!(plain["loadtest"].get("environment"), None);
    assert_eq!(plain["master"].get("initContainers"), None);
    assert_eq!(
        plain["extraObjects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["metadata"]["name"] == "watched-master")
            .unwrap()["spec"]["egress"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
