//! Post-render throughput, side by side with `cat` (the floor) and `kubectl kustomize` applying
//! the equivalent patches (what Flux would do), on the recorded default render and on a
//! generated 50 MB stream of mixed documents. Run: `cargo bench --bench postrender`.
//! Figures go in BENCHMARKS.md.

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

/// A deterministic stream of mixed documents: Deployments, ConfigMaps with long block scalars,
/// Services, Secrets, deeply nested custom resources, ServiceAccounts.
pub fn generate_stream(target_bytes: usize) -> String {
    let mut s = String::with_capacity(target_bytes + 65536);
    let mut i = 0;
    while s.len() < target_bytes {
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
    }
    s
}

fn row(out: &mut String, name: &str, m: &Measure, base: &Measure, bytes: usize) {
    if m.timed_out {
        let _ = writeln!(
            out,
            "| {name} | > {} (killed) | > {:.0}× | < {:.2} MB/s | {} MB |",
            ms(m.median),
            m.median.as_secs_f64() / base.median.as_secs_f64(),
            bytes as f64 / 1e6 / m.median.as_secs_f64(),
            m.max_rss_kb / 1024
        );
        return;
    }
    let mbps = bytes as f64 / 1e6 / m.median.as_secs_f64();
    let _ = writeln!(
        out,
        "| {name} | {} | {:.1}× | {:.0} MB/s | {} MB |",
        ms(m.median),
        m.median.as_secs_f64() / base.median.as_secs_f64(),
        mbps,
        m.max_rss_kb / 1024
    );
}

fn bench_case(
    label: &str,
    stream: &Path,
    runs: usize,
    kustomize_runs: usize,
    kustomize_limit: Option<std::time::Duration>,
) -> String {
    let bytes = std::fs::metadata(stream).unwrap().len() as usize;
    let bin = release_bin();
    let kubectl = tool("LP_KUBECTL", "helm4/kubectl");
    let mut out = format!(
        "\n### {label} ({:.1} MB, {runs} runs, median)\n\n| command | wall | vs cat | throughput | peak RSS |\n|---|---|---|---|---|\n",
        bytes as f64 / 1e6
    );
    let cat = measure(&["cat"], Some(stream), runs);
    row(&mut out, "cat", &cat, &cat, bytes);
    let pr = measure(&[bin.to_str().unwrap(), "post-render"], Some(stream), runs);
    row(&mut out, "locust-planton post-render", &pr, &cat, bytes);
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
        kustomize_limit,
    );
    row(
        &mut out,
        "kubectl kustomize (same patches)",
        &kz,
        &cat,
        bytes,
    );
    let _ = writeln!(
        out,
        "\npost-render is {}{:.1}× faster than kustomize; peak RSS {:.2}× the input.",
        if kz.timed_out { "more than " } else { "" },
        kz.median.as_secs_f64() / pr.median.as_secs_f64(),
        (pr.max_rss_kb * 1024) as f64 / bytes as f64
    );
    out
}

fn main() {
    let recorded = repo().join("fixtures/reference/0.35.0/default/helm3-postrenderer-stdin.yaml");
    let mut report = bench_case(
        "recorded default render (Helm 3 stdin)",
        &recorded,
        51,
        11,
        None,
    );
    // One wide mapping: a repeated-key check that scans every earlier key is quadratic here
    // (9.3 s before keys were indexed; the generated streams' small mappings cannot show it).
    let wide_dir = tempfile::tempdir().unwrap();
    let wide = wide_dir.path().join("wide.yaml");
    let keys: Vec<String> = (0..20_000).map(|i| format!("  k{i:07}: v{i}\n")).collect();
    std::fs::write(
        &wide,
        format!(
            "{}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: wide\ndata:\n{}",
            std::fs::read_to_string(&recorded).unwrap(),
            keys.concat()
        ),
    )
    .unwrap();
    report.push_str(&bench_case(
        "recorded render + a ConfigMap with 20,000 keys",
        &wide,
        11,
        3,
        None,
    ));
    let sizes: Vec<usize> = std::env::var("LP_BENCH_SIZES_MB")
        .map(|s| s.split(',').map(|x| x.trim().parse().unwrap()).collect())
        .unwrap_or_else(|_| vec![50]);
    for mb in sizes {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stream.yaml");
        std::fs::write(&path, generate_stream(mb * 1_000_000)).unwrap();
        // kustomize needs minutes on large streams: one run, killed at the limit.
        let limit = std::env::var("LP_BENCH_KUSTOMIZE_LIMIT_S").map_or(120, |s| s.parse().unwrap());
        report.push_str(&bench_case(
            &format!("generated mixed stream, {mb} MB"),
            &path,
            3,
            1,
            Some(std::time::Duration::from_secs(limit)),
        ));
    }
    println!("{report}");
}
