//! `template`, `install`: synthesized values in a temporary file, the pinned chart, and helm
//! with this binary as its post-renderer; then what Planton's stack outputs give. The release
//! arguments are shared with `uninstall` (its own file).

use super::output::{manifest_format, report_format};
use super::post_render::ProfileArgs;
use super::{
    ContextArg, Failure, FileOut, ImageMirror, Loaded, ManifestFormat, Output, ReportFormat,
    SpecFile, exit, manifests_as,
};
use crate::helm::{self, Helm, PostRendererWiring, chart, shell_line, wire_post_renderer};
use crate::kubectl::{Kubectl, KubectlError};
use crate::progress::Progress;
use crate::spec::LoadTestSpec;
use crate::values::render_values;
use serde::Serialize;

/// Which release, found how: shared by `template`, `install`, `uninstall`.
#[derive(clap::Args, Clone)]
pub struct ReleaseArgs {
    #[command(flatten)]
    pub spec: SpecFile,
    /// Release name [default: metadata.name].
    #[arg(long, value_name = "NAME")]
    pub release: Option<String>,
    /// Namespace [default: spec.namespace.value, the namespace label, or metadata.name].
    #[arg(short = 'n', long, value_name = "NS")]
    pub namespace: Option<String>,
    /// The helm binary [default: $HELM, else helm on PATH].
    #[arg(long, value_name = "PATH")]
    pub helm: Option<String>,
    /// Print the helm command line instead of running it.
    #[arg(long)]
    pub print_command: bool,
}

/// The chart and the post-renderer: `template` and `install`.
#[derive(clap::Args, Clone)]
pub struct RenderArgs {
    #[command(flatten)]
    pub release: ReleaseArgs,
    /// A local chart directory or archive (offline use); its content is checked against the
    /// pinned chart's (an archive that differs is refused; a directory warns, or is refused
    /// with --strict-chart).
    #[arg(long, value_name = "DIR|TGZ")]
    pub chart: Option<String>,
    /// Pull the pinned chart from this mirror instead of its OCI reference: an OCI registry
    /// path (oci://HOST/PATH; the chart at oci://HOST/PATH/locust; plain HTTP for a loopback
    /// host) or a classic chart repository URL.
    #[arg(
        long,
        value_name = "oci://HOST/PATH|URL",
        env = "LOCUST_PLANTON_CHART_REPO"
    )]
    pub chart_repo: Option<String>,
    #[command(flatten)]
    pub images: ImageMirror,
    #[command(flatten)]
    pub profile: ProfileArgs,
}

/// Render the whole hardened deployment with helm.   e.g. locust-planton template -f test.yaml
#[derive(clap::Args, Clone)]
#[command(
    after_help = exit::help(
        "Examples:\n  locust-planton template -f examples/checkout.yaml > manifests.yaml\n  \
    locust-planton template -f examples/checkout.yaml --chart ./locust-0.35.0.tgz --release demo -n perf\n  \
    locust-planton template -f examples/checkout.yaml -o json | jq '.items[].kind'\n  \
    locust-planton template -f examples/checkout.yaml --print-command\n\n\
    Runs `helm template` with generated values and this binary as post-renderer (Helm 3 or 4).\n\
    Offline: --chart DIR|TGZ (its content is checked against the pinned chart's); a mirror:\n\
    --chart-repo oci://HOST/PATH (or $LOCUST_PLANTON_CHART_REPO).",
        &[(exit::OK, "ok"), (exit::FAILED, "invalid input or helm missing"), (exit::USAGE, "usage"), (exit::TOOL_FAILED, "helm failed (its stderr is shown)")],
    )
)]
pub struct TemplateArgs {
    #[command(flatten)]
    pub render: RenderArgs,
    /// Output format (json: a v1 List, as kubectl prints several objects).
    #[arg(short = 'o', long = "output", value_name = "yaml|json", value_parser = manifest_format, default_value = "yaml")]
    pub output: ManifestFormat,
    #[command(flatten)]
    pub file_out: FileOut,
}

/// Install or upgrade the release with helm.   e.g. locust-planton install -f test.yaml --wait
#[derive(clap::Args, Clone)]
#[command(
    after_help = exit::help(
        "Examples:\n  locust-planton install -f examples/checkout.yaml --wait --timeout 5m\n  \
    locust-planton install -f examples/checkout.yaml --print-command\n  \
    locust-planton install -f examples/checkout.yaml -o json | jq -r .portForwardCommand\n\n\
    Runs `helm upgrade --install` with generated values and this binary as post-renderer, then prints\n\
    namespace, service, endpoint and port-forward command. --dry-run is helm's --dry-run=client.",
        &[(exit::OK, "ok"), (exit::FAILED, "invalid"), (exit::USAGE, "usage"), (exit::TOOL_FAILED, "helm failed")],
    )
)]
pub struct InstallArgs {
    #[command(flatten)]
    pub render: RenderArgs,
    #[command(flatten)]
    pub context: ContextArg,
    /// Wait until the pods are ready.
    #[arg(long)]
    pub wait: bool,
    /// How long helm waits (e.g. 5m).
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// Roll back on failure (Helm 3 --atomic, Helm 4 --rollback-on-failure).
    #[arg(long)]
    pub atomic: bool,
    /// Render and validate without changing the cluster (helm --dry-run=client; kubectl
    /// --dry-run=client); helm still reads the release from the cluster.
    #[arg(long)]
    pub dry_run: bool,
    /// Output format of the deployment summary.
    #[arg(short = 'o', long = "output", value_name = "text|json", value_parser = report_format, default_value = "text")]
    pub output: ReportFormat,
}

/// What Planton's stack outputs give, for the deployed test.
#[derive(Serialize, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Outputs {
    pub release: String,
    pub namespace: String,
    pub service: String,
    pub kube_endpoint: String,
    pub port_forward_command: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_hostname: Option<String>,
}

impl Outputs {
    pub fn new(spec: &LoadTestSpec, release: &str, namespace: &str) -> Outputs {
        // fullnameOverride is metadata.name, so the chart's Service has that name.
        let service = spec.name.clone();
        Outputs {
            release: release.to_string(),
            namespace: namespace.to_string(),
            kube_endpoint: format!("{service}.{namespace}.svc.cluster.local"),
            port_forward_command: format!(
                "kubectl port-forward -n {namespace} svc/{service} 8089:8089"
            ),
            external_hostname: spec.ingress_host.clone(),
            service,
        }
    }

    pub fn render(&self, format: ReportFormat) -> Result<String, Failure> {
        match format {
            ReportFormat::Json => super::json_text(self),
            ReportFormat::Text => Ok(self.text()),
        }
    }

    /// The summary as text: one `field: value` line each.
    fn text(&self) -> String {
        let mut s = format!(
            "release: {}\nnamespace: {}\nservice: {}\nkube endpoint: {}\nweb UI: {}  # then open http://localhost:8089\n",
            self.release,
            self.namespace,
            self.service,
            self.kube_endpoint,
            self.port_forward_command
        );
        if let Some(h) = &self.external_hostname {
            s.push_str(&format!("ingress: http://{h}/\n"));
        }
        s
    }
}

struct Prepared {
    spec: LoadTestSpec,
    helm: Helm,
    release: String,
    namespace: String,
    values: tempfile::NamedTempFile,
    warnings: String,
    /// The Pod Security Admission level the namespace can enforce, and why not `restricted`.
    admission: (&'static str, Option<String>),
}

fn prepare(a: &RenderArgs) -> Result<Prepared, Failure> {
    let l = Loaded::from_path(&a.release.spec.file)?
        .with_image_registry(a.images.image_registry.as_deref());
    let namespace = l.namespace(a.release.namespace.as_deref())?;
    let helm = Helm::find(a.release.helm.as_deref())?;
    let mut values = tempfile::Builder::new()
        .prefix("locust-planton-values")
        .suffix(".yaml")
        .tempfile()?;
    std::io::Write::write_all(&mut values, render_values(&l.synthesized.values).as_bytes())?;
    let mut warnings = l.warning_text();
    if let Some(dir) = a
        .chart
        .as_deref()
        .map(std::path::Path::new)
        .filter(|d| d.is_dir())
    {
        let strict = a.profile.strict_chart;
        if let Some(w) = chart::check_dir(&helm, dir, strict)? {
            warnings.push_str(&format!("locust-planton: warning: {w}\n"));
        }
    }
    Ok(Prepared {
        admission: crate::postrender::preflight::admission(&l.synthesized.values),
        release: a
            .release
            .release
            .clone()
            .unwrap_or_else(|| l.spec.name.clone()),
        namespace,
        warnings,
        spec: l.spec,
        helm,
        values,
    })
}

/// Runs (or prints) a helm command whose arguments are `head`, the chart, values and the
/// post-renderer. Returns helm's stdout, or the printed command line.
fn helm_with_post_renderer(
    p: &Prepared,
    a: &RenderArgs,
    head: Vec<String>,
    tail: Vec<String>,
) -> Result<Vec<u8>, Failure> {
    let exe = super::this_binary(false)?;
    let chart_arg = |resolved: String| {
        let mut args = head.clone();
        args.push(resolved);
        args.extend(["--namespace".into(), p.namespace.clone()]);
        args.extend(tail.clone());
        args
    };
    if a.release.print_command {
        return printed_command(p, a, &exe, chart_arg).map(String::into_bytes);
    }
    let (args, wiring) = helm_call(p, a, &exe, head, tail)?;
    run_showing_post_render_reason(p, &args, wiring.env.clone())
}

/// The arguments of a helm command with `head`, the resolved chart, the namespace, `tail`, the
/// values and the post-renderer, and the post-renderer's wiring (kept alive while helm runs).
fn helm_call(
    p: &Prepared,
    a: &RenderArgs,
    exe: &std::path::Path,
    head: Vec<String>,
    tail: Vec<String>,
) -> Result<(Vec<String>, PostRendererWiring), Failure> {
    let wiring = wire_post_renderer(&p.helm, exe, &a.profile.forwarded_args())?;
    let chart = chart::resolve(&p.helm, a.chart.as_deref(), a.chart_repo.as_deref())?;
    let mut args = head;
    args.push(chart.display().to_string());
    args.extend(["--namespace".into(), p.namespace.clone()]);
    args.extend(tail);
    args.extend(["--values".into(), p.values.path().display().to_string()]);
    args.extend(wiring.args.clone());
    Ok((args, wiring))
}

/// Helm 3 never sends chart hooks to a post-renderer, and a hook can arrive through the chart's
/// `extraObjects` and `tpl`. So before `helm upgrade --install` runs, the same call (same
/// chart, values, release, namespace, context, flags, post-renderer) runs with
/// `--dry-run=server --output json`, and its manifest and hooks are judged as `template` judges
/// helm's output; a refusal stops the install before anything reaches the cluster.
fn judge_server_dry_run(
    p: &Prepared,
    a: &RenderArgs,
    args: &[String],
    env: Vec<(String, String)>,
) -> Result<(), Failure> {
    if p.helm.major >= 4 {
        return Ok(());
    }
    let mut dry_run: Vec<String> = args
        .iter()
        .filter(|arg| !arg.starts_with("--dry-run"))
        .cloned()
        .collect();
    dry_run.extend(["--dry-run=server".into(), "--output".into(), "json".into()]);
    let out = run_showing_post_render_reason(p, &dry_run, env)?;
    let stream = release_stream(&out).map_err(|e| {
        Failure::failed(format!(
            "helm's dry run (`--dry-run=server --output json`) did not print a release: {e}"
        ))
    })?;
    post_render_as_helm_does(
        &stream,
        &a.profile.options(),
        p.helm.major,
        "refusing to install it (nothing was applied)",
    )
    .map(|_| ())
}

/// The hooks and the manifest of a release printed by `helm … --output json`, as one stream
/// (each hook headed by its `# Source:` path, as `helm template` prints it).
fn release_stream(json: &[u8]) -> Result<String, String> {
    let release: serde_json::Value = serde_json::from_slice(json).map_err(|e| e.to_string())?;
    if !release.is_object() {
        return Err("not a JSON object".into());
    }
    // Helm omits empty fields (`omitempty`): a release without objects has no `manifest`.
    let manifest = release["manifest"].as_str().unwrap_or_default();
    let mut stream = String::new();
    for hook in release["hooks"].as_array().into_iter().flatten() {
        let text = hook["manifest"]
            .as_str()
            .ok_or("a hook without `manifest`")?;
        stream.push_str(&format!(
            "---\n# Source: {}\n{}\n",
            hook["path"].as_str().unwrap_or_default(),
            text.trim_end_matches('\n')
        ));
    }
    stream.push_str(manifest);
    Ok(stream)
}

/// The lines `--print-command` shows, each runnable as printed (once `<values.yaml>` names
/// the file `values --output-file` wrote). Without --chart the tool pulls the pinned version
/// and checks its content; the equivalent helm invocation names the OCI reference (or the
/// `--chart-repo` mirror) and version.
/// Helm 3 runs this binary by its path. Helm 4 runs only installed plugins: the line names the
/// `locust-planton` plugin, preceded by the `plugin install` that installs it for this helm
/// when this helm does not list it (a temporary plugin folder, as `template` and `install`
/// use, would be gone when the line runs).
fn printed_command(
    p: &Prepared,
    a: &RenderArgs,
    exe: &std::path::Path,
    chart_arg: impl Fn(String) -> Vec<String>,
) -> Result<String, Failure> {
    let lock = crate::lock::chart_lock();
    let mut args = match &a.chart {
        Some(c) => chart_arg(c.clone()),
        None => {
            let mut reference = chart::chart_reference(a.chart_repo.as_deref()).into_iter();
            let mut args = chart_arg(reference.next().unwrap_or_default());
            args.extend(reference);
            args
        }
    };
    if a.chart.is_none() {
        args.extend(["--version".into(), lock.version.clone()]);
    }
    args.extend(["--values".into(), "<values.yaml>".into()]);
    let helm_path = p.helm.path.display().to_string();
    let mut lines = String::new();
    if p.helm.major == 3 {
        let wiring = wire_post_renderer(&p.helm, exe, &a.profile.forwarded_args())?;
        args.extend(wiring.args);
    } else {
        args.extend(helm4_post_renderer_args(&a.profile.forwarded_args()));
        if crate::helm::plugin::check_listed(&p.helm, None).is_err() {
            let install: Vec<String> = ["plugin", "install", "--helm", &helm_path]
                .map(String::from)
                .into();
            lines.push_str(&format!(
                "{}\n",
                shell_line(&[], &exe.display().to_string(), &install)
            ));
        }
    }
    lines.push_str(&format!("{}\n", shell_line(&[], &helm_path, &args)));
    Ok(lines)
}

/// Helm 4's post-renderer arguments: the plugin by name, then each extra flag, which Helm 4
/// appends after the plugin's own `post-render`.
fn helm4_post_renderer_args(extra: &[String]) -> Vec<String> {
    let mut args = vec![
        "--post-renderer".to_string(),
        crate::helm::plugin::NAME.into(),
    ];
    for a in extra {
        args.extend(["--post-renderer-args".into(), a.clone()]);
    }
    args
}

/// Runs helm with the post-renderer logging to a file of this run's own, named after the
/// release, so that a refusal can be shown here: Helm 4 discards a post-renderer's stderr.
fn run_showing_post_render_reason(
    p: &Prepared,
    args: &[String],
    mut env: Vec<(String, String)>,
) -> Result<Vec<u8>, Failure> {
    let log = tempfile::Builder::new()
        .prefix("locust-planton-post-render")
        .suffix(".log")
        .tempfile()?;
    env.push((
        "LOCUST_PLANTON_LOG".into(),
        log.path().display().to_string(),
    ));
    env.push(("LOCUST_PLANTON_RELEASE".into(), p.release.clone()));
    helm::run(&p.helm, args, &env).map_err(|e| {
        let reason = std::fs::read_to_string(log.path()).unwrap_or_default();
        let mut f = Failure::from(e);
        if reason.contains("post-render failed") && !f.message.contains("post-render failed") {
            f.message.push_str(&format!(
                "\nthe post-renderer's reason:\n{}",
                reason.trim_end()
            ));
        }
        f
    })
}

/// The hardened manifests (or the helm command line with `--print-command`). Helm renders
/// without a post-renderer and the post-renderer runs here, on helm's whole output, as helm would
/// run it: one helm process and one post-render, not helm starting this binary again.
pub fn template(t: &TemplateArgs) -> Result<Output, Failure> {
    let a = &t.render;
    let p = prepare(a)?;
    if a.release.print_command {
        let line = helm_with_post_renderer(
            &p,
            a,
            vec!["template".into(), p.release.clone()],
            Vec::new(),
        )?;
        return Ok(Output::ok(String::from_utf8_lossy(&line)).with_stderr(p.warnings));
    }
    let bare = helm_bare(&p, a, vec!["template".into(), p.release.clone()])?;
    let text = String::from_utf8(bare)
        .map_err(|e| Failure::failed(format!("helm's output is not UTF-8 text: {e}")))?;
    let (hardened, warnings) = post_render_as_helm_does(
        &text,
        &a.profile.options(),
        p.helm.major,
        "refusing to print it",
    )?;
    let mut stderr = p.warnings.clone();
    stderr.push_str(&warnings);
    stderr.push_str(
        &Outputs::new(&p.spec, &p.release, &p.namespace)
            .text()
            .lines()
            .map(|l| format!("# {l}\n"))
            .collect::<String>(),
    );
    Ok(Output::ok(manifests_as(t.output, &hardened, true)?).with_stderr(stderr))
}

/// Runs helm with `head`, the chart, namespace and values, without a post-renderer.
fn helm_bare(p: &Prepared, a: &RenderArgs, mut args: Vec<String>) -> Result<Vec<u8>, Failure> {
    let chart = chart::resolve(&p.helm, a.chart.as_deref(), a.chart_repo.as_deref())?;
    args.push(chart.display().to_string());
    args.extend(["--namespace".into(), p.namespace.clone()]);
    args.extend(["--values".into(), p.values.path().display().to_string()]);
    helm::run(&p.helm, &args, &[]).map_err(Failure::from)
}

/// The output of `helm template --post-renderer locust-planton` for helm's bare output `text`,
/// and the post-renderer's warnings.
/// Helm 4 post-renders every document; Helm 3 never sends chart hooks to a post-renderer but
/// prints them with the rest, so on Helm 3 a hook the post-renderer would change reaches the
/// cluster unhardened: that is refused, naming it.
/// `refusing` says what is not done (`refusing to print it`).
fn post_render_as_helm_does(
    text: &str,
    options: &crate::postrender::Options,
    helm_major: u32,
    refusing: &str,
) -> Result<(String, String), Failure> {
    let hooks = if helm_major >= 4 {
        Vec::new()
    } else {
        hook_documents(text)
    };
    let refuse_hooks = |why: String| {
        Failure::failed(format!(
            "helm's output holds objects the post-renderer never saw (Helm 3 does not send chart hooks to post-renderers) and they are not hardened: {why}; {refusing} (render with Helm 4, which post-renders hooks, or remove the hooks)"
        ))
    };
    let outcome = crate::postrender::post_render(text, options).map_err(|e| {
        let in_hooks = e.findings.iter().any(|f| hooks.contains(&f.document));
        if in_hooks {
            refuse_hooks(e.to_string())
        } else {
            Failure::failed(format!("post-render failed:\n{e}"))
        }
    })?;
    let warnings: String = outcome
        .warnings
        .iter()
        .map(|w| format!("locust-planton: warning: {w}\n"))
        .collect();
    let hardened = outcome.text();
    if !hooks.is_empty() {
        let before = crate::stream::split(text).unwrap_or_default();
        let after = crate::stream::split(&hardened).unwrap_or_default();
        let changed: Vec<String> = before
            .iter()
            .zip(&after)
            .filter(|(b, a)| hooks.contains(&b.index) && b.text != a.text)
            .map(|(b, _)| {
                let source = crate::stream::source_comment(b.text)
                    .map_or_else(|| format!("document {}", b.index), str::to_string);
                match object_name(b.text) {
                    Some(name) => format!("{source} ({name})"),
                    None => source,
                }
            })
            .collect();
        if !changed.is_empty() {
            return Err(refuse_hooks(format!(
                "{} would be changed",
                changed.join(", ")
            )));
        }
    }
    Ok((hardened, warnings))
}

/// `Kind name` of a document (Go's reading), when it has both.
fn object_name(document: &str) -> Option<String> {
    let node = crate::yaml::parse_document(document).ok().flatten()?;
    let kind = node.get_path(&["kind"])?.as_str()?.to_string();
    let name = node.get_path(&["metadata", "name"])?.as_str()?.to_string();
    Some(format!("{kind} {name}"))
}

/// The 1-based positions of the documents in `text` that are Helm hooks (Go's reading of their
/// `metadata.annotations["helm.sh/hook"]`).
fn hook_documents(text: &str) -> Vec<usize> {
    crate::stream::split(text)
        .unwrap_or_default()
        .iter()
        .filter(|d| {
            crate::yaml::parse_document(&d.yaml())
                .ok()
                .flatten()
                .is_some_and(|n| {
                    n.get_path(&["metadata", "annotations", "helm.sh/hook"])
                        .is_some()
                })
        })
        .map(|d| d.index)
        .collect()
}

/// The release's namespace with Pod Security Admission enforcing `level` (and warning and
/// auditing at it), so the API server itself rejects a pod that got past the post-renderer.
pub fn namespace_manifest(name: &str, level: &str) -> String {
    let mut labels = crate::yaml::Map::default();
    for mode in ["enforce", "warn", "audit"] {
        labels.insert(
            &format!("pod-security.kubernetes.io/{mode}"),
            crate::yaml::Node::string(level),
        );
        labels.insert(
            &format!("pod-security.kubernetes.io/{mode}-version"),
            crate::yaml::Node::string("latest"),
        );
    }
    crate::yaml::emit_document(&crate::yaml::Node::map_of(vec![
        ("apiVersion", crate::yaml::Node::string("v1")),
        ("kind", crate::yaml::Node::string("Namespace")),
        (
            "metadata",
            crate::yaml::Node::map_of(vec![
                ("name", crate::yaml::Node::string(name)),
                ("labels", crate::yaml::Node::Map(labels)),
            ]),
        ),
    ]))
}

/// `kubectl apply` of the labelled namespace, before helm creates anything in it.
fn namespace_step(
    p: &Prepared,
    i: &InstallArgs,
    print_only: bool,
) -> Result<(String, String), Failure> {
    let (level, why) = &p.admission;
    let manifest = namespace_manifest(&p.namespace, level);
    let runner = Kubectl::new(None, i.context.kube_context.as_deref(), None);
    let mut args: Vec<String> = vec!["apply".into(), "-f".into(), "-".into()];
    if i.dry_run {
        args.push("--dry-run=client".into());
    }
    let note = match why {
        None => format!(
            "# namespace {}: Pod Security Admission enforces `{level}`\n",
            p.namespace
        ),
        Some(why) => format!(
            "# namespace {}: Pod Security Admission enforces `{level}`, not `restricted`: {why}\n",
            p.namespace
        ),
    };
    let line = format!(
        "{} <<'EOF'\n{manifest}EOF\n",
        shell_line(&[], &runner.program, &runner.args(&args))
    );
    if print_only {
        return Ok((line, note));
    }
    runner
        .run(&args, Some(manifest.as_bytes()))
        .map_err(|e| match e {
            KubectlError::NotFound { program, source } => Failure::failed(format!(
                "kubectl not found ({program}: {source}); it labels the namespace the spec creates (createNamespace) for Pod Security Admission; install kubectl or point $KUBECTL at it"
            )),
            KubectlError::Failed { stderr } => Failure::new(
                exit::TOOL_FAILED,
                format!("kubectl failed creating namespace {}:\n{stderr}", p.namespace),
            ),
        })?;
    Ok((String::new(), note))
}

pub fn install(i: &InstallArgs) -> Result<Output, Failure> {
    let a = &i.render;
    let p = prepare(a)?;
    let head: Vec<String> = vec!["upgrade".into(), "--install".into(), p.release.clone()];
    let tail = install_flags(&p, i);
    if a.release.print_command {
        let (printed, notes) = namespace_or_hint(&p, i, true)?;
        let helm_line = helm_with_post_renderer(&p, a, head, tail)?;
        let out = format!("{printed}{}", String::from_utf8_lossy(&helm_line));
        return Ok(Output::ok(out).with_stderr(format!("{}{notes}", p.warnings)));
    }
    let exe = super::this_binary(false)?;
    let (args, wiring) = helm_call(&p, a, &exe, head, tail)?;
    // Before anything reaches the cluster (the namespace included).
    judge_server_dry_run(&p, a, &args, wiring.env.clone())?;
    let (_, notes) = namespace_or_hint(&p, i, false)?;
    let waiting = if i.wait {
        " (waiting for the pods)"
    } else {
        ""
    };
    let progress = Progress::start(format!(
        "helm upgrade --install {} in {}{waiting}",
        p.release, p.namespace
    ));
    let helm_out = run_showing_post_render_reason(&p, &args, wiring.env.clone());
    progress.finish(None);
    let helm_out = helm_out?;
    let mut stderr = p.warnings.clone();
    stderr.push_str(&notes);
    stderr.push_str(&String::from_utf8_lossy(&helm_out));
    Ok(
        Output::ok(Outputs::new(&p.spec, &p.release, &p.namespace).render(i.output)?)
            .with_stderr(stderr),
    )
}

/// The labelled namespace's `kubectl apply` (printed, or run) when the spec creates it, else
/// the hint to label it; and the note for stderr.
fn namespace_or_hint(
    p: &Prepared,
    i: &InstallArgs,
    print_only: bool,
) -> Result<(String, String), Failure> {
    if p.spec.create_namespace {
        namespace_step(p, i, print_only)
    } else {
        Ok((String::new(), label_namespace_hint(p)))
    }
}

/// For a namespace locust-planton does not create: how to have the API server enforce the
/// profile the opt-outs allow.
fn label_namespace_hint(p: &Prepared) -> String {
    let (level, _) = p.admission;
    format!(
        "# namespace {ns} is not created by locust-planton; to have the API server enforce the same profile:\n#   kubectl label namespace {ns} pod-security.kubernetes.io/enforce={level} pod-security.kubernetes.io/warn={level} pod-security.kubernetes.io/audit={level}\n",
        ns = p.namespace
    )
}

/// `helm upgrade --install`'s flags after the chart, as the user asked for them.
fn install_flags(p: &Prepared, i: &InstallArgs) -> Vec<String> {
    let mut tail = Vec::new();
    if p.spec.create_namespace {
        tail.push("--create-namespace".into());
    }
    if i.wait {
        tail.push("--wait".into());
    }
    if let Some(t) = &i.timeout {
        tail.extend(["--timeout".into(), t.clone()]);
    }
    if i.atomic {
        // Helm 4 renamed --atomic.
        tail.push(if p.helm.major >= 4 {
            "--rollback-on-failure".into()
        } else {
            "--atomic".into()
        });
    }
    if let Some(c) = &i.context.kube_context {
        tail.extend(["--kube-context".into(), c.clone()]);
    }
    if i.dry_run {
        tail.push("--dry-run=client".into());
    }
    tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helm4_names_the_plugin_and_appends_each_flag() {
        struct Case {
            extra: &'static [&'static str],
            args: &'static [&'static str],
        }
        for Case { extra, args } in [
            Case {
                extra: &[],
                args: &["--post-renderer", "locust-planton"],
            },
            Case {
                extra: &["--uid", "2000", "--strict-chart"],
                args: &[
                    "--post-renderer",
                    "locust-planton",
                    "--post-renderer-args",
                    "--uid",
                    "--post-renderer-args",
                    "2000",
                    "--post-renderer-args",
                    "--strict-chart",
                ],
            },
        ] {
            let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
            assert_eq!(helm4_post_renderer_args(&extra), args);
        }
    }

    #[test]
    fn a_release_is_read_as_its_hooks_then_its_manifest() {
        struct Case {
            json: &'static str,
            stream: Result<&'static str, &'static str>,
        }
        let table = [
            Case {
                json: r#"{"manifest": "---\n# Source: c/templates/a.yaml\nkind: A\n", "hooks": [{"path": "c/templates/h.yaml", "manifest": "kind: H\n"}]}"#,
                stream: Ok(
                    "---\n# Source: c/templates/h.yaml\nkind: H\n---\n# Source: c/templates/a.yaml\nkind: A\n",
                ),
            },
            Case {
                json: r#"{"name": "empty"}"#,
                stream: Ok(""),
            },
            Case {
                json: r#"{"hooks": [{"path": "c/templates/h.yaml"}]}"#,
                stream: Err("a hook without `manifest`"),
            },
            Case {
                json: r#"["not", "a", "release"]"#,
                stream: Err("not a JSON object"),
            },
        ];
        for c in table {
            assert_eq!(
                release_stream(c.json.as_bytes()).as_deref(),
                c.stream.map_err(str::to_string).as_deref(),
                "{}",
                c.json
            );
        }
    }

    #[test]
    fn objects_are_named_by_kind_and_name() {
        assert_eq!(
            object_name("kind: Pod\nmetadata: {name: sneaky}\n").as_deref(),
            Some("Pod sneaky")
        );
        assert_eq!(object_name("kind: Pod\n"), None);
    }
}
