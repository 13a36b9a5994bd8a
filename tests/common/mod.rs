//! Shared test helpers: the real tools installed by `scripts/install-tools.sh`, found through
//! one mechanism (LP_* variables, defaulting to `.tools/`). A missing tool fails the test with
//! the command that installs it; tests never skip.
#![allow(dead_code)]

pub mod kube;

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
/// Kubernetes' own Pod Security judge (`tools/psa`, built into `.tools/bin/psa-judge`).
pub fn psa_judge() -> PathBuf {
    tool("LP_PSA_JUDGE", "bin/psa-judge")
}

/// `psa-judge` on `stream` with `args`: (exit code, stdout, stderr).
fn run_judge(stream: &str, args: &[&str]) -> (i32, String, String) {
    use std::io::Write;
    let mut child = std::process::Command::new(psa_judge())
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let text = stream.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(text.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    let code = out.status.code().expect("psa-judge killed by a signal");
    (
        code,
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Kubernetes' verdict on every pod template of `stream` at `level` (`restricted` or
/// `baseline`): one line per violating template, in the API server's wording; empty when all
/// pass. Panics when Kubernetes cannot read the stream (exit 2), with the judge's message.
pub fn judge(stream: &str, level: &str) -> Vec<String> {
    judge_result(stream, level).unwrap_or_else(|e| panic!("{e}\n--- stream:\n{stream}"))
}

/// [`judge`], with Err (the judge's message) when Kubernetes cannot read the stream.
pub fn judge_result(stream: &str, level: &str) -> Result<Vec<String>, String> {
    assert!(
        matches!(level, "restricted" | "baseline"),
        "judge level {level:?}"
    );
    let (code, stdout, stderr) = run_judge(stream, &["--level", level]);
    match code {
        0 | 1 => {
            let lines: Vec<String> = stdout.lines().map(str::to_string).collect();
            assert_eq!(
                code == 1,
                !lines.is_empty(),
                "psa-judge exit {code} with output {lines:?}"
            );
            Ok(lines)
        }
        2 => Err(format!("psa-judge cannot read the stream: {stderr}")),
        _ => panic!("psa-judge exit {code}: {stderr}"),
    }
}

/// The objects Kubernetes would create from `stream` (`KIND NAMESPACE NAME`, `-` for none), as
/// kubectl's and Helm's resource builder reads it; Err with the builder's message when it
/// cannot read the stream.
pub fn kube_inventory(stream: &str) -> Result<Vec<String>, String> {
    let (code, stdout, stderr) = run_judge(stream, &["--inventory"]);
    match code {
        0 => Ok(stdout.lines().map(str::to_string).collect()),
        2 => {
            assert!(stdout.is_empty(), "psa-judge exit 2 printed {stdout:?}");
            Err(stderr)
        }
        _ => panic!("psa-judge --inventory exit {code}: {stderr}"),
    }
}

/// Fails unless both verdicts on `what` are clean: Kubernetes' (`psa-judge` at `level`) and
/// another check's (`other` names it, `found` is what it found). A disagreement names both.
pub fn assert_hardened(what: &str, stream: &str, level: &str, other: &str, found: &[String]) {
    if let Some(problem) = not_hardened(stream, level, other, found) {
        panic!("{what}: {problem}");
    }
}

/// Why `stream` is not hardened, naming both verdicts (Kubernetes' at `level`, and `other`'s
/// `found`); None when both pass.
pub fn not_hardened(stream: &str, level: &str, other: &str, found: &[String]) -> Option<String> {
    let kube = judge_result(stream, level).unwrap_or_else(|e| vec![e]);
    if kube.is_empty() && found.is_empty() {
        return None;
    }
    Some(format!(
        "not hardened\n  psa-judge ({level}): {}\n  {other}: {}",
        verdict(&kube),
        verdict(found)
    ))
}

fn verdict(found: &[String]) -> String {
    if found.is_empty() {
        "passes".to_string()
    } else {
        format!("{} finding(s):\n    {}", found.len(), found.join("\n    "))
    }
}

/// Every recorded post-renderer stdin of the DeliveryHero chart (`fixtures/reference/`, Helm 3
/// and Helm 4): (case name, path).
pub fn recorded_streams() -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for version in ["0.35.0", "0.31.5"] {
        let dir = fixture(&format!("reference/{version}"));
        let mut cases: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        cases.sort();
        for case in cases {
            for h in ["helm3", "helm4"] {
                let name = format!(
                    "{version}-{}-{h}",
                    case.file_name().unwrap().to_str().unwrap()
                );
                out.push((name, case.join(format!("{h}-postrenderer-stdin.yaml"))));
            }
        }
    }
    assert!(out.len() >= 32);
    out
}

/// The judge-based check of the recorded streams: each post-rendered by `binary`, then judged
/// by Kubernetes at restricted. One line per problem (a refusal, or a violation); empty when
/// every output is hardened.
pub fn judge_recorded_outputs(binary: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, path) in recorded_streams() {
        let log = tempfile::NamedTempFile::new().unwrap();
        let out = std::process::Command::new(binary)
            .arg("post-render")
            .env("LOCUST_PLANTON_LOG", log.path())
            .stdin(std::fs::File::open(&path).unwrap())
            .output()
            .unwrap();
        if !out.status.success() {
            problems.push(format!(
                "{name}: post-render failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
            continue;
        }
        let output = String::from_utf8(out.stdout).unwrap();
        match judge_result(&output, "restricted") {
            Ok(lines) => problems.extend(lines.into_iter().map(|l| format!("{name}: {l}"))),
            Err(e) => problems.push(format!("{name}: {e}")),
        }
    }
    problems
}

/// Values for the test chart (`tests/charts/locust-mini`) from `examples/checkout.yaml`.
pub fn example_values(dir: &Path) -> PathBuf {
    let out = assert_cmd::Command::new(bin())
        .args(["values", "-f"])
        .arg(repo().join("examples/checkout.yaml"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let p = dir.join("values.yaml");
    std::fs::write(&p, out.stdout).unwrap();
    p
}

/// The judge-based check of a Helm 3 render of the test chart with every extra kind of object
/// (a StatefulSet, a CronJob, a `kind: List`, a hook) post-rendered by `binary`: Kubernetes'
/// findings at restricted, outside the hooks (Helm 3 post-renders no hook).
pub fn judge_test_chart_render(binary: &Path) -> Vec<String> {
    let home = tempfile::tempdir().unwrap();
    let values = example_values(home.path());
    let out = helm_cmd(&helm3(), home.path())
        .args(["template", "demo"])
        .arg(repo().join("tests/charts/locust-mini"))
        .arg("-f")
        .arg(&values)
        .args(["--set", "testExtras=true", "--post-renderer"])
        .arg(binary)
        .env("LOCUST_PLANTON_LOG", home.path().join("log"))
        .output()
        .unwrap();
    if !out.status.success() {
        return vec![format!(
            "helm 3 template failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )];
    }
    let text = String::from_utf8(out.stdout).unwrap();
    let (others, _hooks) = judge_split_hooks(&text, "restricted");
    others
}

/// Kubernetes' findings on `text` at `level`, split into (findings outside hooks, findings on
/// hooks); hooks are the objects with a `helm.sh/hook` annotation, as kubectl reads them.
pub fn judge_split_hooks(text: &str, level: &str) -> (Vec<String>, Vec<String>) {
    let hooks: Vec<String> = kubectl_objects(text)
        .iter()
        .filter(|o| o["metadata"]["annotations"]["helm.sh/hook"].is_string())
        .map(|o| {
            format!(
                "{}/{} ",
                o["kind"].as_str().unwrap_or(""),
                o["metadata"]["name"].as_str().unwrap_or("-")
            )
        })
        .collect();
    judge(text, level)
        .into_iter()
        .partition(|l| !hooks.iter().any(|h| l.starts_with(h.as_str())))
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

/// The object of this kind and name among `objs` (as returned by `kubectl_objects`).
pub fn find<'a>(objs: &'a [serde_json::Value], kind: &str, name: &str) -> &'a serde_json::Value {
    objs.iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

/// Go's YAML reader on `text` (`kubectl label --local -o OUTPUT`), whatever it says.
pub fn kubectl_read(text: &str, output: &str) -> std::process::Output {
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), text).unwrap();
    std::process::Command::new(kubectl())
        .args(["label", "--local", "-o", output, "oracle=1", "-f"])
        .arg(f.path())
        .output()
        .unwrap()
}

/// Objects as Go's YAML reader (kubectl) sees them: one JSON value per object (the items of a
/// `kind: List` one by one).
pub fn kubectl_objects(text: &str) -> Vec<serde_json::Value> {
    let out = kubectl_read(text, "json");
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

/// The repository's Helm 4 plugin (helm4-plugin/plugin.yaml) under `home/plugins`, with this binary first on
/// PATH: the environment (`HELM_PLUGINS`, `PATH`) a Helm 4 command needs to post-render through it.
pub fn helm4_plugin_env(home: &Path) -> [(&'static str, String); 2] {
    let plugins = home.join("plugins/locust-planton");
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::copy(
        repo().join("helm4-plugin/plugin.yaml"),
        plugins.join("plugin.yaml"),
    )
    .unwrap();
    [
        ("HELM_PLUGINS", home.join("plugins").display().to_string()),
        (
            "PATH",
            format!(
                "{}:{}",
                bin().parent().unwrap().display(),
                std::env::var("PATH").unwrap()
            ),
        ),
    ]
}

/// Helm with its own cache/config/data homes under `home` (tests never share Helm state).
pub fn helm_cmd(helm: &Path, home: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(helm);
    cmd.env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_DATA_HOME", home.join("data"));
    cmd
}

/// Removes what the post-renderer is meant to change, so the rest can be compared exactly:
/// a ServiceAccount's token setting, and in every pod spec (found by shape, as
/// `restricted::pod_specs` finds them) the security settings, the writable emptyDirs and the
/// script hash on its template.
pub fn strip_intended(obj: &mut serde_json::Value) {
    if obj["kind"] == "ServiceAccount" {
        obj.as_object_mut()
            .unwrap()
            .remove("automountServiceAccountToken");
    }
    if matches!(obj["kind"].as_str(), Some("ConfigMap" | "Secret")) {
        return;
    }
    strip_pods(obj);
}

fn strip_pods(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Object(m) => {
            if m.get("containers").is_some_and(Value::is_array) {
                strip_pod_spec(m);
                return;
            }
            if m.get("spec").is_some_and(|s| s["containers"].is_array())
                && let Some(a) = m
                    .get_mut("metadata")
                    .and_then(|md| md.get_mut("annotations"))
                    .and_then(Value::as_object_mut)
            {
                a.remove("locust.project-planton.org/scripts-sha256");
                if a.is_empty() {
                    m["metadata"].as_object_mut().unwrap().remove("annotations");
                }
                // A template that had no metadata gets some only for the hash.
                if m["metadata"].as_object().is_some_and(|md| md.is_empty()) {
                    m.remove("metadata");
                }
            }
            for (_, child) in m.iter_mut() {
                strip_pods(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_pods),
        _ => {}
    }
}

fn strip_pod_spec(spec: &mut serde_json::Map<String, serde_json::Value>) {
    for f in [
        "securityContext",
        "automountServiceAccountToken",
        "enableServiceLinks",
    ] {
        spec.remove(f);
    }
    let ours = |v: &serde_json::Value| matches!(v["name"].as_str(), Some("lp-tmp" | "lp-home"));
    if let Some(vols) = spec
        .get_mut("volumes")
        .and_then(serde_json::Value::as_array_mut)
    {
        vols.retain(|v| !ours(v));
        if vols.is_empty() {
            spec.remove("volumes");
        }
    }
    for f in ["initContainers", "containers", "ephemeralContainers"] {
        for c in spec
            .get_mut(f)
            .and_then(serde_json::Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            let Some(c) = c.as_object_mut() else { continue };
            c.remove("securityContext");
            if let Some(m) = c
                .get_mut("volumeMounts")
                .and_then(serde_json::Value::as_array_mut)
            {
                m.retain(|v| !ours(v));
                if m.is_empty() {
                    c.remove("volumeMounts");
                }
            }
        }
    }
}

/// The checkov checks the restricted profile maps to (docs/testing.md "Oracles").
pub const CHECKOV_CHECKS: &str = "CKV_K8S_20,CKV_K8S_22,CKV_K8S_23,CKV_K8S_28,CKV_K8S_29,CKV_K8S_30,CKV_K8S_31,CKV_K8S_37,CKV_K8S_38";

/// Runs checkov on a directory (not hidden: checkov skips those); returns (checks evaluated,
/// failures as `check resource file`).
pub fn checkov_failures(dir: &Path) -> (u64, Vec<String>) {
    let out = std::process::Command::new(venv_bin("checkov"))
        .arg("-d")
        .arg(dir)
        .args([
            "--framework",
            "kubernetes",
            "--skip-download",
            "--compact",
            "--quiet",
            "-o",
            "json",
            "--check",
            CHECKOV_CHECKS,
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("checkov: {e}: {}", String::from_utf8_lossy(&out.stderr)));
    let checked =
        v["summary"]["passed"].as_u64().unwrap_or(0) + v["summary"]["failed"].as_u64().unwrap_or(0);
    let failed = v["results"]["failed_checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{} {} {}", f["check_id"], f["resource"], f["file_path"]))
        .collect();
    (checked, failed)
}

/// `kubernetes-validate --strict` on files; fails the test with its report.
pub fn validate_strict(files: &[std::path::PathBuf]) {
    let out = std::process::Command::new(venv_bin("kubernetes-validate"))
        .args(["--strict", "--quiet"])
        .args(files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// locust-planton with its own Helm homes, chart cache and post-render log under `home`.
pub fn lp(home: &Path) -> assert_cmd::Command {
    let mut c = assert_cmd::Command::new(bin());
    c.env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_DATA_HOME", home.join("data"))
        .env("XDG_CACHE_HOME", home.join("xdg-cache"))
        .env("LOCUST_PLANTON_LOG", home.join("post-render.log"));
    c
}

/// A keep-alive HTTP/1.1 server on 127.0.0.1 for real Locust runs: `/fail…` and `/missing…`
/// answer 500, anything else 200. Lives as long as the test process; returns its port.
pub fn http_target() -> u16 {
    http_target_answering(|path| path.starts_with("/fail") || path.starts_with("/missing"))
}

/// A keep-alive HTTP/1.1 server on 127.0.0.1 answering each request with 500 when `fails`
/// says so for its path (which may also wait, to make the target slow), else 200. Lives as long
/// as the test process; returns its port.
pub fn http_target_answering(fails: impl Fn(&str) -> bool + Send + Sync + 'static) -> u16 {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let fails = std::sync::Arc::new(fails);
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let fails = fails.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut out = stream;
                loop {
                    let mut request = String::new();
                    if reader.read_line(&mut request).unwrap_or(0) == 0 {
                        return;
                    }
                    let (mut line, mut body) = (String::new(), 0usize);
                    while reader.read_line(&mut line).unwrap_or(0) > 2 {
                        if let Some((k, v)) = line.split_once(':')
                            && k.eq_ignore_ascii_case("content-length")
                        {
                            body = v.trim().parse().unwrap_or(0);
                        }
                        line.clear();
                    }
                    if reader.read_exact(&mut vec![0u8; body]).is_err() {
                        return;
                    }
                    let path = request.split_whitespace().nth(1).unwrap_or("/");
                    let status = if fails(path) {
                        "500 Internal Server Error"
                    } else {
                        "200 OK"
                    };
                    let reply = format!(
                        "HTTP/1.1 {status}\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"
                    );
                    if out.write_all(reply.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

/// A free loopback port (for `local --master-port/--web-port`).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A headless spec `name` against `127.0.0.1:port`: one request in ten to `/missing` (which
/// fails) when `failing`, run for `run_time`, with `thresholds` (YAML flow mapping, may be
/// empty).
pub fn results_spec(
    name: &str,
    port: u16,
    failing: bool,
    run_time: &str,
    thresholds: &str,
) -> String {
    let missing = if failing {
        "          @task(1)\n          def missing(self):\n              self.client.get(\"/missing\")\n"
    } else {
        ""
    };
    let thresholds = if thresholds.is_empty() {
        String::new()
    } else {
        format!("      thresholds: {thresholds}\n")
    };
    format!(
        r#"apiVersion: kubernetes.project-planton.org/v1
kind: LocustKubernetes
metadata: {{name: {name}}}
spec:
  workerContainer: {{replicas: 1}}
  loadTest:
    name: {name}
    host: http://127.0.0.1:{port}
    mainPyContent: |
      from locust import HttpUser, task, constant
      class Shopper(HttpUser):
          wait_time = constant(0.05)
          @task(9)
          def home(self):
              self.client.get("/")
{missing}    run:
      users: 3
      spawnRate: 3
      runTime: {run_time}
{thresholds}"#
    )
}

/// The real DeliveryHero chart of the version `charts-lock` pins: `LP_REAL_CHART`, or the
/// reference copy beside the repository (`../shared/reference/deliveryhero-locust/<version>/chart`).
pub fn real_locust_chart() -> PathBuf {
    let version = &locust_planton::lock::chart_lock().version;
    let chart = std::env::var_os("LP_REAL_CHART").map_or_else(
        || {
            repo().join(format!(
                "../shared/reference/deliveryhero-locust/{version}/chart"
            ))
        },
        PathBuf::from,
    );
    assert!(
        chart.join("Chart.yaml").is_file(),
        "the real chart (locust {version}) is missing at {} (set LP_REAL_CHART to a copy of it, e.g. what `helm pull oci://ghcr.io/deliveryhero/helm-charts/locust --version {version} --untar` gives)",
        chart.display()
    );
    chart
}

/// `helm package CHART --destination DEST` with `helm`, asserted successful: the archive.
pub fn helm_package(helm: &Path, chart: &Path, dest: &Path) -> PathBuf {
    std::fs::create_dir_all(dest).unwrap();
    let out = helm_cmd(helm, dest)
        .arg("package")
        .arg(chart)
        .arg("--destination")
        .arg(dest)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}: {stdout}{}",
        helm.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let saved = stdout
        .trim()
        .rsplit(": ")
        .next()
        .expect("helm package names the archive");
    PathBuf::from(saved)
}

/// A copy of the chart folder `from` at `to` (every file, as it is).
pub fn copy_chart(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_chart(&entry.path(), &target);
        } else {
            std::fs::create_dir_all(to).unwrap();
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Writes `to`, an archive of the same files as the archive `from` in other bytes: entries in
/// reverse order, each folder as an entry of its own, another mtime, owner and mode, the chart
/// folder named `top`, gzip at `level` (Python's tarfile and gzip).
pub fn repack_chart_archive(from: &Path, to: &Path, mtime: u64, level: u32, top: &str) {
    let script = r#"
import gzip, io, sys, tarfile
src, dst, mtime, level, top = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
with tarfile.open(src, "r:gz") as t:
    files = [(m.name.split("/", 1)[1], t.extractfile(m).read()) for m in t.getmembers() if m.isfile()]
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as out:
    dirs = sorted({"/".join(n.split("/")[:i]) for n, _ in files for i in range(1, n.count("/") + 1)})
    for d in [""] + dirs:
        info = tarfile.TarInfo(f"{top}/{d}".rstrip("/"))
        info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o700, mtime
        out.addfile(info)
    for name, data in reversed(files):
        info = tarfile.TarInfo(f"{top}/{name}")
        info.size, info.mode, info.mtime = len(data), 0o600, mtime
        info.uid, info.gid, info.uname, info.gname = 4242, 4242, "someone", "staff"
        out.addfile(info, io.BytesIO(data))
with open(dst, "wb") as f:
    f.write(gzip.compress(buf.getvalue(), compresslevel=level, mtime=mtime))
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(from)
        .arg(to)
        .args([&mtime.to_string(), &level.to_string(), top])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
