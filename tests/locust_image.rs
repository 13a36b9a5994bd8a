//! One Locust image everywhere (docs/values.md): for each way a spec names the image,
//! real Helm 3 and Helm 4 renders (through `template`, post-renderer included) give the master,
//! the workers and both pip init containers the same image.
// Without `tools`, the helpers of the tool-driven tests below are unused.
#![cfg_attr(not(feature = "tools"), allow(dead_code, unused_imports))]

mod common;
use common::*;

fn mini_chart() -> String {
    repo()
        .join("tests/charts/locust-mini")
        .display()
        .to_string()
}

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn spec(load_test_extra: &str, helm_values: &str) -> String {
    format!(
        r#"apiVersion: kubernetes.project-planton.org/v1
kind: LocustKubernetes
metadata: {{name: img}}
spec:
  workerContainer: {{replicas: 2}}
  loadTest:
    name: img
    host: http://127.0.0.1:9
{load_test_extra}    mainPyContent: |
      from locust import HttpUser, task
      class U(HttpUser):
          @task
          def t(self):
              self.client.get("/")
    pipPackages: ["six==1.16.0"]
{helm_values}"#
    )
}

/// Every container image of the master and worker Deployments, by `<deployment>/<container>`.
fn images(helm: &std::path::Path, spec_text: &str) -> (Vec<(String, String)>, String) {
    let home = tempfile::tempdir().unwrap();
    let f = home.path().join("spec.yaml");
    std::fs::write(&f, spec_text).unwrap();
    let out = lp(home.path())
        .args(["template", "-f"])
        .arg(&f)
        .args(["--chart", &mini_chart(), "--helm"])
        .arg(helm)
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{}: {stderr}", helm.display());
    let objs = kubectl_objects(&String::from_utf8(out.stdout).unwrap());
    let mut seen = Vec::new();
    for d in objs.iter().filter(|o| o["kind"] == "Deployment") {
        let name = d["metadata"]["name"].as_str().unwrap();
        for list in ["initContainers", "containers"] {
            for c in d["spec"]["template"]["spec"][list]
                .as_array()
                .into_iter()
                .flatten()
            {
                seen.push((
                    format!("{name}/{}", c["name"].as_str().unwrap()),
                    c["image"].as_str().unwrap().to_string(),
                ));
            }
        }
    }
    (seen, stderr)
}

#[cfg(feature = "tools")]
#[test]
fn every_override_form_gives_one_image_to_every_locust_container() {
    let cases: Vec<(&str, String, String, &str)> = vec![
        ("default", String::new(), String::new(), "locustio/locust:2.32.2"),
        (
            "locustVersion",
            "    locustVersion: \"2.37.0\"\n".into(),
            String::new(),
            "locustio/locust:2.37.0",
        ),
        (
            "snake_case locust_version",
            "    locust_version: \"2.37.0\"\n".into(),
            String::new(),
            "locustio/locust:2.37.0",
        ),
        (
            "image.tag",
            String::new(),
            "  helmValues: {image.tag: \"2.37.0\"}\n".into(),
            "locustio/locust:2.37.0",
        ),
        (
            "image map",
            String::new(),
            "  helmValues: {image: \"{repository: registry.example.com/mirror/locust, tag: 2.36.1}\"}\n"
                .into(),
            "registry.example.com/mirror/locust:2.36.1",
        ),
        (
            "locustVersion wins over image.tag, keeps the repository",
            "    locustVersion: \"2.37.0\"\n".into(),
            "  helmValues: {image.repository: registry.example.com/mirror/locust, image.tag: \"2.36.1\", worker.image: other/locust:9}\n".into(),
            "registry.example.com/mirror/locust:2.37.0",
        ),
        (
            "master.image",
            String::new(),
            "  helmValues: {master.image: \"registry.example.com:5000/team/locust:custom\"}\n".into(),
            "registry.example.com:5000/team/locust:custom",
        ),
        (
            "worker.image digest",
            String::new(),
            format!("  helmValues: {{worker.image: \"locustio/locust@{DIGEST}\"}}\n"),
            "locustio/locust@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ),
    ];
    for helm in [helm3(), helm4()] {
        for (name, lt, hv, expected) in &cases {
            let (seen, stderr) = images(&helm, &spec(lt, hv));
            // master and worker: `locust` and `pip-install` each.
            assert_eq!(seen.len(), 4, "{name}: {seen:?}");
            for (container, image) in &seen {
                assert_eq!(
                    image,
                    expected,
                    "{name} via {}: {container}\n{stderr}",
                    helm.display()
                );
            }
            assert!(
                seen.iter().any(|(c, _)| c == "img-master/pip-install")
                    && seen.iter().any(|(c, _)| c == "img-worker/locust"),
                "{seen:?}"
            );
        }
    }
}

#[test]
fn conflicting_or_bad_versions_are_refused_and_old_ones_warned() {
    let home = tempfile::tempdir().unwrap();
    let check = |text: String| {
        let f = home.path().join("spec.yaml");
        std::fs::write(&f, text).unwrap();
        let out = std::process::Command::new(bin())
            .args(["check", "-f"])
            .arg(&f)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8(out.stderr).unwrap() + &String::from_utf8(out.stdout).unwrap(),
        )
    };
    let (code, text) = check(spec(
        "",
        "  helmValues: {master.image: \"a/locust:1\", worker.image: \"b/locust:2\"}\n",
    ));
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("spec.helmValues[\"worker.image\"]: `b/locust:2` differs from master.image `a/locust:1`: master, workers and the pip init containers run one Locust image"),
        "{text}"
    );
    for bad in ["2.37", "latest", "v2.37.0", "2.37.0rc1"] {
        let (code, text) = check(spec(&format!("    locustVersion: \"{bad}\"\n"), ""));
        assert_eq!(code, Some(1), "{bad}: {text}");
        assert!(
            text.contains(&format!("spec.loadTest.locustVersion: `{bad}` is not a Locust release such as `2.32.2` (X.Y.Z")),
            "{text}"
        );
    }
    let (code, text) = check(spec("    locustVersion: \"2.20.0\"\n", ""));
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("spec.loadTest.locustVersion: warning: Locust 2.20.0 is older than 2.32.2, the version chart locust 0.35.0 is tested with"),
        "{text}"
    );
    let (_, text) = check(spec("", "  helmValues: {image.tag: \"2.31.0\"}\n"));
    assert!(
        text.contains(
            "spec.helmValues[\"image.tag\"]: warning: Locust 2.31.0 is older than 2.32.2"
        ),
        "{text}"
    );
    let (_, text) = check(spec("    locustVersion: \"2.37.0\"\n", ""));
    assert!(!text.contains("older than"), "{text}");

    // A refused spec writes no values.
    let out_file = home.path().join("values.yaml");
    let f = home.path().join("bad.yaml");
    std::fs::write(&f, spec("    locustVersion: \"2.x\"\n", "")).unwrap();
    let out = std::process::Command::new(bin())
        .args(["values", "-f"])
        .arg(&f)
        .arg("--output-file")
        .arg(&out_file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!out_file.exists());
}
