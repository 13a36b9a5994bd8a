//! Post-render throughput, side by side in interleaved runs with `cat` (the floor of any
//! process), the parser floor (libyaml-safer's events over the same bytes), Go's own reading
//! (`kubectl label --local -f - x=y -o json`) and `kubectl kustomize` applying the equivalent
//! patches (what Flux would do), on the recorded default render, that render plus a ConfigMap
//! of 20,000 keys, and generated streams of mixed documents. Run: `cargo bench --bench
//! postrender`. Figures go in BENCHMARKS.md.

mod common;
use common::*;
use std::fmt::Write as _;
use std::path::Path;

/// Strategic-merge patches doing what the post-renderer does to Deployments and ServiceAccounts.
const KUSTOMIZE_PATCHES: &str = r#"
patches:
- target: {kind: Deployment}
  patch: |-
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: any}
    spec:
      template:
        metadata:
          annotations: {locust.project-planton.org/scripts-sha256: "0000"}
        spec:
          automountServiceAccountToken: false
          enableServiceLinks: false
          securityContext: {runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: {type: RuntimeDefault}}
          volumes: [{name: lp-tmp, emptyDir: {}}, {name: lp-home, emptyDir: {}}]
- target: {kind: Deployment}
  patch: |-
    - {op: add, path: /spec/template/spec/containers/0/securityContext, value: {allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: {drop: [ALL]}}}
    - {op: add, path: /spec/template/spec/containers/0/volumeMounts/-, value: {name: lp-tmp, mountPath: /tmp}}
- target: {kind: ServiceAccount}
  patch: |-
    apiVersion: v1
    kind: ServiceAccount
    metadata: {name: any}
    automountServiceAccountToken: false
"#;

fn kustomize_dir(dir: &Path, stream: &Path) {
    std::fs::copy(stream, dir.join("stream.yaml")).unwrap();
    std::fs::write(
        dir.join("kustomization.yaml"),
        format!("resources: [stream.yaml]\n{KUSTOMIZE_PATCHES}"),
    )
    .unwrap();
}

/// Writes a deterministic stream of mixed documents to `path`, document by document (so this
/// process never holds the stream: a child's peak RSS counts its parent's at the time it
/// starts): Deployments, ConfigMaps with long block scalars, Services, Secrets, deeply nested
/// custom resources, ServiceAccounts.
pub fn write_stream(path: &Path, target_bytes: usize) {
    use std::io::Write as _;
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut written = 0;
    let mut i = 0;
    while written < target_bytes {
        let mut s = String::new();
        let n = i % 5;
        let _ = match n {
            0 => write!(
                s,
                "---\n# Source: gen/templates/deploy.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i}\n  labels: {{app: app-{i}, tier: \"on\"}}\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {{app: app-{i}}}\n  template:\n    metadata:\n      labels: {{app: app-{i}}}\n    spec:\n      containers:\n      - name: locust\n        image: locustio/locust:2.32.2\n        args: [--worker]\n        env:\n        - {{name: FLAG, value: \"yes\"}}\n        - {{name: MODE, value: \"0755\"}}\n        volumeMounts:\n        - {{name: scripts, mountPath: /mnt/locust}}\n      volumes:\n      - name: scripts\n        configMap: {{name: scripts-{}}}\n",
                i + 1
            ),
            1 => {
                let body: String = (0..120)
                    .map(|l| {
                        format!("    line {l} of script {i}: self.client.get(\"/p/{{{{x}}}}\")\n")
                    })
                    .collect();
                write!(
                    s,
                    "---\n# Source: gen/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: scripts-{i}\ndata:\n  main.py: |\n{body}"
                )
            }
            2 => write!(
                s,
                "---\n# Source: gen/templates/svc.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: svc-{i}\nspec:\n  ports:\n  - {{name: web, port: 8089, targetPort: 8089}}\n  selector: {{app: app-{}}}\n",
                i - 2
            ),
            3 => {
                let mut nested = String::from("spec:\n");
                for d in 0..12 {
                    let _ = writeln!(nested, "{}level{d}:", "  ".repeat(d + 1));
                }
                let _ = writeln!(nested, "{}leaf: [a, b, c]", "  ".repeat(13));
                write!(
                    s,
                    "---\n# Source: gen/templates/cr.yaml\napiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w-{i}\n{nested}---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: sec-{i}\ntype: Opaque\ndata:\n  token: c2VjcmV0LXZhbHVlLXtpfQ==\n"
                )
            }
            _ => write!(
                s,
                "---\n# Source: gen/templates/sa.yaml\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa-{i}\n"
            ),
        };
        i += 1;
        file.write_all(s.as_bytes()).unwrap();
        written += s.len();
    }
    file.flush().unwrap();
}

/// The parser floor: this bench binary run with `--parse-floor` reads stdin as the post-renderer
/// does and runs libyaml-safer's event stream over the same bytes, building nothing. It is what
/// any reader of the stream as YAML must at least spend.
fn parse_floor() {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::io::stdin().read_to_end(&mut bytes).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    let mut input = text.as_bytes();
    let mut parser = libyaml_safer::Parser::new();
    parser.set_input_string(&mut input);
    let mut events = 0usize;
    loop {
        let event = parser.parse().expect("the bench streams are valid YAML");
        events += 1;
        if matches!(event.data, libyaml_safer::EventData::StreamEnd) {
            break;
        }
    }
    // Used, so the loop cannot be optimised away.
    std::process::exit(i32::from(events == 0));
}

fn row(out: &mut String, name: &str, m: &Measure, base: &Measure, bytes: usize) {
    let secs = |d: std::time::Duration| d.as_secs_f64();
    if m.timed_out {
        let _ = writeln!(
            out,
            "| {name} | > {} (killed) | > {:.0}× | < {:.2} MB/s | | | {} MB |",
            ms(m.median),
            secs(m.median) / secs(base.median),
            bytes as f64 / 1e6 / secs(m.median),
            m.max_rss_kb / 1024
        );
        return;
    }
    let _ = writeln!(
        out,
        "| {name} | {} | {:.2}× | {:.0} MB/s | {} | {:.0} MB/s | {} MB ({:.2}× the input) |",
        ms(m.median),
        secs(m.median) / secs(base.median),
        bytes as f64 / 1e6 / secs(m.median),
        ms(m.cpu_median),
        bytes as f64 / 1e6 / secs(m.cpu_median).max(1e-6),
        m.max_rss_kb / 1024,
        (m.max_rss_kb * 1024) as f64 / bytes as f64
    );
}

fn bench_case(label: &str, stream: &Path, runs: usize, kustomize_runs: usize) -> String {
    let bytes = std::fs::metadata(stream).unwrap().len() as usize;
    let bin = release_bin();
    let kubectl = tool("LP_KUBECTL", "helm4/kubectl");
    let me = std::env::current_exe().unwrap();
    let mut out = format!(
        "\n### {label} ({:.2} MB, {runs} interleaved runs, median; load {} at the start)\n\n| command | wall | vs cat | throughput (wall) | CPU (user+sys) | throughput (CPU) | peak RSS |\n|---|---|---|---|---|---|---|\n",
        bytes as f64 / 1e6,
        load_average()
    );
    let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let cmds = [
        owned(&["cat"]),
        owned(&[me.to_str().unwrap(), "--parse-floor"]),
        owned(&[bin.to_str().unwrap(), "post-render"]),
        owned(&[
            kubectl.to_str().unwrap(),
            "label",
            "--local",
            "-f",
            "-",
            "x=y",
            "-o",
            "json",
        ]),
    ];
    let m = measure_interleaved(&cmds, stream, runs);
    let (cat, floor, pr, kubectl_read) = (&m[0], &m[1], &m[2], &m[3]);
    row(&mut out, "cat", cat, cat, bytes);
    row(
        &mut out,
        "parser floor (libyaml-safer events, no tree)",
        floor,
        cat,
        bytes,
    );
    row(&mut out, "locust-planton post-render", pr, cat, bytes);
    row(
        &mut out,
        "kubectl label --local -f - x=y -o json (Go's reading)",
        kubectl_read,
        cat,
        bytes,
    );
    let secs = |m: &Measure| m.median.as_secs_f64();
    let cpu = |m: &Measure| m.cpu_median.as_secs_f64();
    let _ = writeln!(
        out,
        "\npost-render, wall: {:.2}× cat, {:.2}× the parser floor, {:.1}× faster than kubectl's reading; CPU: {:.2}× the parser floor, {:.1}× less than kubectl's reading; peak RSS {:.2}× the input.",
        secs(pr) / secs(cat),
        secs(pr) / secs(floor),
        secs(kubectl_read) / secs(pr),
        cpu(pr) / cpu(floor),
        cpu(kubectl_read) / cpu(pr),
        (pr.max_rss_kb * 1024) as f64 / bytes as f64
    );
    // kustomize needs minutes on large streams: few runs, killed at the limit (0: skipped).
    let limit = std::env::var("LP_BENCH_KUSTOMIZE_LIMIT_S").map_or(120, |s| s.parse().unwrap());
    if limit > 0 {
        let dir = tempfile::tempdir().unwrap();
        kustomize_dir(dir.path(), stream);
        let kz = measure_limited(
            &[
                kubectl.to_str().unwrap(),
                "kustomize",
                dir.path().to_str().unwrap(),
            ],
            None,
            kustomize_runs,
            Some(std::time::Duration::from_secs(limit)),
        );
        row(
            &mut out,
            &format!("kubectl kustomize (same patches, {kustomize_runs} runs)"),
            &kz,
            cat,
            bytes,
        );
        let _ = writeln!(
            out,
            "\npost-render is {}{:.1}× faster than kustomize.",
            if kz.timed_out { "more than " } else { "" },
            secs(&kz) / secs(pr),
        );
    }
    out
}

fn main() {
    if std::env::args().any(|a| a == "--parse-floor") {
        parse_floor();
        return;
    }
    let runs =
        |var: &str, default: usize| std::env::var(var).map_or(default, |s| s.parse().unwrap());
    let recorded = repo().join("fixtures/reference/0.35.0/default/helm3-postrenderer-stdin.yaml");
    // The cases as files, for profiling by hand (BENCHMARKS.md): nothing is measured.
    if let Some(dir) = std::env::var_os("LP_BENCH_WRITE_CASES") {
        let dir = Path::new(&dir);
        std::fs::create_dir_all(dir).unwrap();
        std::fs::copy(&recorded, dir.join("default.yaml")).unwrap();
        std::fs::write(dir.join("wide.yaml"), wide_stream(&recorded)).unwrap();
        for mb in [50, 200] {
            write_stream(&dir.join(format!("mixed-{mb}mb.yaml")), mb * 1_000_000);
        }
        return;
    }
    let mut report = format!(
        "machine: {} cores; load average {} at the start\n",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average()
    );
    report.push_str(&bench_case(
        "recorded default render (Helm 3 stdin)",
        &recorded,
        runs("LP_BENCH_RUNS_SMALL", 101),
        11,
    ));
    // One wide mapping: a repeated-key check that scans every earlier key is quadratic here
    // (9.3 s before keys were indexed; the generated streams' small mappings cannot show it).
    let wide_dir = tempfile::tempdir().unwrap();
    let wide = wide_dir.path().join("wide.yaml");
    std::fs::write(&wide, wide_stream(&recorded)).unwrap();
    report.push_str(&bench_case(
        "recorded render + a ConfigMap with 20,000 keys",
        &wide,
        runs("LP_BENCH_RUNS_WIDE", 31),
        3,
    ));
    let sizes: Vec<usize> = std::env::var("LP_BENCH_SIZES_MB")
        .map(|s| s.split(',').map(|x| x.trim().parse().unwrap()).collect())
        .unwrap_or_else(|_| vec![50]);
    for mb in sizes {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stream.yaml");
        write_stream(&path, mb * 1_000_000);
        report.push_str(&bench_case(
            &format!("generated mixed stream, {mb} MB"),
            &path,
            runs("LP_BENCH_RUNS_LARGE", 5),
            1,
        ));
    }
    println!("{report}");
}

/// The recorded render plus one ConfigMap of 20,000 short keys.
fn wide_stream(recorded: &Path) -> String {
    let keys: Vec<String> = (0..20_000).map(|i| format!("  k{i:07}: v{i}\n")).collect();
    format!(
        "{}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: wide\ndata:\n{}",
        std::fs::read_to_string(recorded).unwrap(),
        keys.concat()
    )
}
