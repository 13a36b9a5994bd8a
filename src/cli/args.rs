//! The command line: one struct of arguments per subcommand, so a flag a command cannot honour
//! is a usage error (exit 2), never silently dropped. Shared groups are flattened where the
//! meaning is the same (`-f`, the post-renderer's profile, the cluster flags).

pub use crate::commands::deploy::{
    InstallArgs, ReleaseArgs, RenderArgs, TemplateArgs, UninstallArgs,
};
pub use crate::commands::ops::{ReportRunArgs, RunTarget, StatusArgs, WaitArgs};
use crate::commands::output::{manifest_format, report_format};
pub use crate::commands::post_render::ProfileArgs;
pub use crate::commands::{ContextArg, FileOut, ImageMirror, SpecFile};
use crate::commands::{ManifestFormat, ReportFormat, exit};
use clap::{Args, Parser, Subcommand, ValueEnum};

/// `plugin`'s exit codes, the same for `plugin install` and `plugin uninstall`.
const PLUGIN_EXIT: &[(u8, &str)] = &[
    (exit::OK, ""),
    (
        exit::FAILED,
        "refused or failed (the plugins folder is left as it was)",
    ),
    (exit::USAGE, "usage"),
    (exit::TOOL_FAILED, "helm failed"),
];

#[derive(Parser)]
#[command(
    name = "locust-planton",
    version,
    about = "Run Locust load tests on Kubernetes from one Project Planton LocustKubernetes manifest",
    long_about = "Run Locust load tests on Kubernetes from one Project Planton LocustKubernetes manifest.\n\n\
                  Turns the manifest into values for the DeliveryHero `locust` Helm chart, creates the\n\
                  script ConfigMaps itself, and hardens what Helm renders as a post-renderer.",
    after_help = exit::help(
        "Examples:\n  \
        locust-planton check -f examples/checkout.yaml\n  \
        locust-planton values -f examples/checkout.yaml --output-file values.yaml\n  \
        helm install checkout-load oci://ghcr.io/deliveryhero/helm-charts/locust --version 0.35.0 -f values.yaml --post-renderer locust-planton\n\n\
        -o/--output picks a format (yaml|json for manifests and values, text|json for reports);\n\
        --output-file writes a file (atomically). Progress goes to stderr; --quiet silences it.",
        exit::CODES,
    )
)]
pub struct Cli {
    /// Without a subcommand and with stdin not a terminal, locust-planton post-renders (so
    /// `--post-renderer locust-planton` needs no arguments).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Post-render flags, also accepted without the subcommand (`--post-renderer-args`).
    #[command(flatten)]
    pub post_render: ProfileArgs,
    /// No progress, stdin prompt or summary line on stderr (warnings and errors are still
    /// printed).
    #[arg(short = 'q', long, global = true)]
    pub quiet: bool,
}

#[derive(Subcommand)]
pub enum Command {
    /// Validate a manifest and list every problem.   e.g. locust-planton check -f test.yaml
    #[command(
        after_help = exit::help(
            "Examples:\n  locust-planton check -f examples/checkout.yaml\n  locust-planton check -f - -o json < test.yaml\n\n\
        Prints `FILE:LINE:COL: field.path: message` per problem (warnings say `warning:`), YAML syntax\n\
        errors as `FILE:LINE:COL: invalid YAML: ...`; a valid manifest ends with `FILE: valid` (or\n\
        `FILE: valid, N warnings`) on stderr (`<stdin>` for -f -; not with -q).",
            &[(exit::OK, "valid (warnings allowed)"), (exit::FAILED, "invalid"), (exit::USAGE, "usage error")],
        )
    )]
    Check(CheckArgs),
    /// Chart values for a manifest.   e.g. locust-planton values -f test.yaml --output-file values.yaml
    #[command(
        after_help = exit::help(
            "Examples:\n  locust-planton values -f examples/checkout.yaml\n  locust-planton values -f examples/checkout.yaml --output-file values.yaml\n  \
        locust-planton values -f examples/checkout.yaml -o json | jq .master\n\n\
        The values embed the script ConfigMaps (extraObjects), so the release owns them.\n\
        Nothing is written unless the whole output is valid.",
            &[(exit::OK, "ok"), (exit::FAILED, "invalid"), (exit::USAGE, "usage")],
        )
    )]
    Values(ValuesArgs),
    /// Every problem the post-renderer would find in a rendered stream, at once.   e.g. helm template x chart | locust-planton lint
    #[command(
        after_help = exit::help(
            "Examples:\n  helm template prom prometheus-community/prometheus | locust-planton lint\n  \
        locust-planton lint -f manifests.yaml -o json | jq '.[] | select(.optOut) | .optOut'\n\n\
        Prints one line per finding (document, source, object, field, reason, the opt-out that allows it);\n\
        warnings say `warning:` (e.g. a ServiceAccount a RoleBinding binds keeps its token). Writes no manifest.\n\
        -o json: an array of {document, line, column (YAML syntax errors), source, kind, name, namespace, field, rule, message, severity, optOut}.\n\
        Setting every optOut listed (value \"true\") on its object makes post-render pass.\n\
        Ends with `lint: N objects, M problems` on stderr (N: objects Kubernetes would create, M: findings listed; not with -q).",
            &[(exit::OK, "post-render would pass"), (exit::FAILED, "it would refuse"), (exit::USAGE, "usage error")],
        )
    )]
    Lint(LintArgs),
    /// The objects Kubernetes would create from a rendered stream.   e.g. helm template x chart | locust-planton inventory
    #[command(
        after_help = exit::help(
            "Examples:\n  helm template load chart -f values.yaml | locust-planton inventory\n  \
        locust-planton inventory -f manifests.yaml -o json | jq '.[] | select(.podSpecs != [])'\n\n\
        Prints one `KIND NAMESPACE NAME` line per object (`-`: not set), read as Kubernetes reads the stream:\n\
        split at its separator lines, the items of any list created and the list dropped.\n\
        -o json: an array of {kind, namespace, name, podSpecs} (podSpecs: paths of the pod templates).\n\
        A document Kubernetes would read differently than a plain object (an `items` field in a kind\n\
        that is not a list, a list inside a list, a kindless list item) is refused, as post-render refuses it.",
            &[(exit::OK, "ok"), (exit::FAILED, "a document cannot be placed"), (exit::USAGE, "usage error")],
        )
    )]
    Inventory(InventoryArgs),
    /// Helm post-renderer: harden and stamp the manifests on stdin.   e.g. helm install x chart --post-renderer locust-planton
    #[command(
        after_help = exit::help(
            "Examples:\n  helm install load oci://ghcr.io/deliveryhero/helm-charts/locust --version 0.35.0 -f values.yaml --post-renderer locust-planton   (Helm 3)\n  \
        helm install load ... --post-renderer locust-planton   (Helm 4: the plugin; see docs/post-renderer.md)\n  \
        helm template load chart -f values.yaml | locust-planton post-render --high-uid\n\n\
        Opt out of one rule for one workload with the annotation locust.project-planton.org/allow-<rule>: \"true\".\n\
        On failure: exit 1, nothing on stdout, the reason on stderr and in $LOCUST_PLANTON_LOG\n\
        (default ~/.local/state/locust-planton/post-render.log), since Helm 4 hides stderr.",
            &[(exit::OK, "ok"), (exit::FAILED, "refused (nothing on stdout)"), (exit::USAGE, "usage error")],
        )
    )]
    PostRender(ProfileArgs),
    /// Render the whole hardened deployment with helm.   e.g. locust-planton template -f test.yaml
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
    Template(TemplateArgs),
    /// Install or upgrade the release with helm.   e.g. locust-planton install -f test.yaml --wait
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
    Install(InstallArgs),
    /// Uninstall the release (the script ConfigMaps go with it).   e.g. locust-planton uninstall -f test.yaml
    #[command(
        after_help = exit::help(
            "Examples:\n  locust-planton uninstall -f examples/checkout.yaml\n  \
        locust-planton uninstall -f examples/checkout.yaml --dry-run\n  \
        locust-planton uninstall -f examples/checkout.yaml --print-command\n  \
        locust-planton uninstall -f ci.yaml --results-dir locust-results/ci   (copy the run's results first)\n  \
        locust-planton uninstall -f ci.yaml --discard-results\n\n\
        First reads the release's run through kubectl: when the current headless run has ended and its\n\
        results were not copied (`report`, `wait --results-dir`: the master Deployment's annotation\n\
        locust.project-planton.org/results-copied names the run), uninstall refuses. --results-dir copies\n\
        them first; --discard-results uninstalls without looking. A run still going, a web UI release or a\n\
        release without a master is not blocked. --dry-run is passed to helm (`helm uninstall --dry-run`):\n\
        helm only simulates it; the check runs and says what it would do, copying nothing.",
            &[(exit::OK, "ok"), (exit::FAILED, "invalid, or the current run's results were not copied (--results-dir DIR or --discard-results)"), (exit::USAGE, "usage"), (exit::TOOL_FAILED, "helm or kubectl failed")],
        )
    )]
    Uninstall(UninstallArgs),
    /// Print the pinned chart (charts-lock/).   e.g. locust-planton chart
    #[command(after_help = exit::help(
            "Examples:\n  locust-planton chart\n  locust-planton chart -o json",
            &[(exit::OK, "ok"), (exit::USAGE, "usage error")],
        ))]
    Chart(ReportArgs),
    /// A helmfile release for the manifest.   e.g. locust-planton helmfile -f test.yaml > helmfile.yaml
    #[command(
        after_help = exit::help(
            "Examples:\n  locust-planton values -f test.yaml --output-file checkout-load.values.yaml\n  \
        locust-planton helmfile -f test.yaml --output-file helmfile.yaml && helmfile apply\n  \
        locust-planton helmfile -f test.yaml --exec-values > helmfile.yaml   (values rendered from test.yaml on every run)\n  \
        locust-planton helmfile -f test.yaml --print-exec-values > checkout-load.values.yaml.gotmpl\n\n\
        postRenderer: locust-planton works on Helm 3 (binary on PATH) and Helm 4 (the plugin).",
            &[(exit::OK, "ok"), (exit::FAILED, "invalid"), (exit::USAGE, "usage error")],
        )
    )]
    Helmfile(HelmfileArgs),
    /// Flux OCIRepository + HelmRelease with the hardening as kustomize patches.   e.g. locust-planton flux -f test.yaml
    #[command(
        after_help = exit::help(
            "Examples:\n  locust-planton flux -f examples/checkout.yaml --output-file clusters/perf/checkout-load.yaml\n  \
        locust-planton flux -f examples/checkout.yaml --interval 1h --high-uid\n\n\
        Flux cannot run a post-renderer binary; the patches do the same, within the limits the output's comment lists.",
            &[(exit::OK, "ok"), (exit::FAILED, "invalid"), (exit::USAGE, "usage error")],
        )
    )]
    Flux(FluxArgs),
    /// Run the test locally, exactly as the pods would.   e.g. locust-planton local -f test.yaml --headless --users 10
    #[command(
        after_help = exit::help(
            "Examples:\n  locust-planton local -f examples/checkout.yaml --host http://127.0.0.1:8080\n  \
        locust-planton local -f examples/checkout.yaml --workers 2 --headless --users 20 --spawn-rate 5 --run-time 30s\n  \
        locust-planton local -f test.yaml --headless --users 5 --run-time 10s -- --csv results\n\n\
        Writes each pod's ConfigMaps and emptyDirs under a temporary directory, runs the pip init container,\n\
        then the master and workers with the pods' command, args and env (master host 127.0.0.1). Output is\n\
        prefixed by role. Where bubblewrap (`bwrap`) works, every process runs sandboxed as the pod would: its\n\
        UID/GID, read-only root, volumes at the pod's paths, no capabilities, no new privileges, the pod's env.\n\
        Default ports (5557, 8089) move to the next free one when taken; a port you pass must be free.\n\
        Needs Python with Locust (`python3 -m locust`); --install-locust makes a cached virtualenv.\n\
        Headless runs leave Locust's HTML report, its CSVs, summary.json and junit.xml in --results-dir\n\
        (default locust-results/<name>-<UTC time>/) and print a summary ending in the verdict: PASSED, FAILED\n\
        (spec.loadTest.run.thresholds, early aborts), REGRESSED (--baseline) or INVALID (the load generator\n\
        saturated its CPU or lost workers).",
            &[(exit::OK, "PASSED, or the web UI was stopped with Ctrl-C"), (exit::FAILED, "FAILED: requests failed or a threshold was missed (headless), or invalid input"), (exit::USAGE, "usage error"), (exit::REGRESSED, "REGRESSED against --baseline"), (exit::INVALID, "INVALID: the load generator was saturated or degraded")],
        )
    )]
    Local(Box<LocalArgs>),
    /// Show the state of a release's test.   e.g. locust-planton status -f test.yaml
    #[command(
        after_help = exit::help(
            "Examples:\n  locust-planton status -f test.yaml\n  locust-planton status checkout-load -n load-tests -o json\n\n\
        Reads the master Deployment, the master and worker pods and the current master's log through kubectl\n\
        (only the current pod template's master counts: see `wait`). With thresholds, shows each verdict.\n\
        Phases: Pending, Running, Completed, Failed (with the reason).",
            &[(exit::OK, ""), (exit::FAILED, "the release has no objects in the namespace"), (exit::TOOL_FAILED, "kubectl failed")],
        )
    )]
    Status(StatusArgs),
    /// Wait for a headless run to finish.   e.g. locust-planton wait -f test.yaml --timeout 30m
    #[command(
        after_help = exit::help(
            "Examples:\n  locust-planton install -f ci.yaml --wait && locust-planton wait -f ci.yaml --timeout 20m\n  \
        locust-planton wait ci-run -n perf -o json\n  \
        locust-planton wait -f ci.yaml --results-dir locust-results/ci-$BUILD --baseline last\n\n\
        Shows each poll on stderr (phase, workers, users, requests, failures, req/s). Prints Locust's final\n\
        statistics, the run (master pod, script hash, rerun time), each threshold's verdict and the run's\n\
        verdict (PASSED, FAILED, REGRESSED, INVALID). Only the current run counts: a master pod of an\n\
        earlier pod template is never read. --baseline reads the run's summary.json from the master pod.\n\
        --results-dir DIR copies the ended run's results as `report` does (a timeout copies nothing).",
            &[(exit::OK, "PASSED"), (exit::FAILED, "FAILED: requests failed, a threshold missed, or no such release"), (exit::TIMEOUT, "timeout or the cluster could not run the test (unschedulable pods, image pull errors, failed pip install: the reason is printed)"), (exit::TOOL_FAILED, "kubectl failed"), (exit::REGRESSED, "REGRESSED against --baseline"), (exit::INVALID, "INVALID: the load generator was saturated or degraded")],
        )
    )]
    Wait(WaitArgs),
    /// Copy a finished run's results from the master pod.   e.g. locust-planton report -f test.yaml --results-dir results
    #[command(
        after_help = exit::help(
            "Examples:\n  locust-planton report -f ci.yaml --results-dir locust-results/ci\n  locust-planton report ci-run -n perf\n\n\
        Copies Locust's HTML report, its CSVs, summary.json and junit.xml of the current run from the master\n\
        pod (kubectl exec with the image's Python; no tar needed) into a new or empty folder [default:\n\
        locust-results/<release>-<UTC time>/], after checking they are the current run's, and annotates the\n\
        master Deployment locust.project-planton.org/results-copied=<master pod> (uninstall then lets the\n\
        release go). With --baseline, compares the run with it and records the comparison in the copied\n\
        summary.json and junit.xml.",
            &[(exit::OK, "copied"), (exit::FAILED, "no finished run, no results or no such release"), (exit::TOOL_FAILED, "kubectl failed"), (exit::REGRESSED, "copied, REGRESSED against --baseline")],
        )
    )]
    Report(ReportRunArgs),
    /// Start a new run of an unchanged spec (rollout restart).   e.g. locust-planton rerun -f test.yaml
    #[command(
        after_help = exit::help(
            "Examples:\n  locust-planton rerun -f ci.yaml && locust-planton wait -f ci.yaml\n\n\
        `helm upgrade` of an unchanged spec rolls nothing, so the previous run stays the current one. rerun\n\
        restarts the release's Deployments (kubectl rollout restart): new master and workers, a new run\n\
        identity (kubectl.kubernetes.io/restartedAt), new results.",
            &[(exit::OK, ""), (exit::FAILED, "no such release"), (exit::TOOL_FAILED, "kubectl failed")],
        )
    )]
    Rerun(RunTarget),
    /// Suggest workers and resources for a load.   e.g. locust-planton plan --users 20000 --rps 15000
    #[command(
        after_help = exit::help(
            "Examples:\n  locust-planton plan --users 5000\n  locust-planton plan --users 20000 --rps 15000 -o json",
            &[(exit::OK, "ok"), (exit::USAGE, "usage error")],
        )
    )]
    Plan(PlanArgs),
    /// The script ConfigMaps as plain manifests.   e.g. locust-planton configmaps -f test.yaml
    #[command(
        after_help = exit::help(
            "Examples:\n  locust-planton configmaps -f examples/checkout.yaml | kubectl apply -f -\n\n\
        For users who manage the ConfigMaps outside Helm; `values` already ships them in the release.",
            &[(exit::OK, "ok"), (exit::FAILED, "invalid"), (exit::USAGE, "usage error")],
        )
    )]
    Configmaps(GenerateArgs),
    /// The manifest's JSON Schema, for editors.   e.g. locust-planton schema --output-file locust-kubernetes.schema.json
    #[command(
        after_help = exit::help(
            "Examples:\n  locust-planton schema --output-file locust-kubernetes.schema.json\n\n\
        JSON Schema draft 2020-12 of a LocustKubernetes/KubernetesLocust manifest (both spellings of every\n\
        field, the extension fields). Put `# yaml-language-server: $schema=locust-kubernetes.schema.json`\n\
        at the top of a manifest and editors with the YAML language server complete and validate it.\n\
        `check` remains the authority: docs/spec.md \"Schema\" lists the rules a schema cannot express.",
            &[(exit::OK, "ok"), (exit::FAILED, "the file cannot be written"), (exit::USAGE, "usage error")],
        )
    )]
    Schema(FileOut),
    /// Start a manifest: a commented, working NAME.yaml.   e.g. locust-planton init checkout-load
    #[command(
        after_help = exit::help(
            "Examples:\n  locust-planton init checkout-load\n  locust-planton init checkout-load --output-file load/checkout.yaml\n  \
        locust-planton init checkout-load --output-file - | less\n\n\
        The manifest passes `check` and runs with `local --headless`. An existing file is never overwritten\n\
        (exit 1, nothing written).",
            &[(exit::OK, "written"), (exit::FAILED, "an invalid name, or a file already there (nothing written)"), (exit::USAGE, "usage error")],
        )
    )]
    Init(InitArgs),
    /// Shell completion script.   e.g. locust-planton completion bash > ~/.local/share/bash-completion/completions/locust-planton
    #[command(
        after_help = exit::help(
            "Examples:\n  locust-planton completion bash > ~/.local/share/bash-completion/completions/locust-planton\n  \
        locust-planton completion zsh > ~/.zfunc/_locust-planton\n  \
        locust-planton completion fish > ~/.config/fish/completions/locust-planton.fish\n  \
        locust-planton completion powershell >> $PROFILE",
            &[(exit::OK, "ok"), (exit::USAGE, "usage error")],
        )
    )]
    Completion(CompletionArgs),
    /// Man pages for the tool and each subcommand.   e.g. locust-planton man --dir /usr/local/share/man/man1
    #[command(
        after_help = exit::help(
            "Examples:\n  locust-planton man --dir ~/.local/share/man/man1 && man locust-planton\n\n\
        Writes locust-planton.1 and locust-planton-<subcommand>.1 (each atomically), creating DIR.",
            &[(exit::OK, "written"), (exit::FAILED, "a page cannot be written"), (exit::USAGE, "usage error")],
        )
    )]
    Man(ManArgs),
    /// The Helm 4 post-renderer plugin (never into Helm 3).   e.g. locust-planton plugin install
    #[command(
        after_help = exit::help(
            "Examples:\n  locust-planton plugin install --dry-run\n  locust-planton plugin install --helm /usr/local/bin/helm4\n  \
        locust-planton plugin uninstall --helm helm   (also repairs Helm 3 after `helm plugin install <checkout>`)\n\n\
        Only for running Helm 4 yourself (`helm install … --post-renderer locust-planton`): `template` and\n\
        `install` need no plugin. Helm 3 cannot read a Helm 4 plugin and then loads none of its plugins, so\n\
        install refuses Helm 3 and a plugins folder a Helm 3 here loads by default.",
            PLUGIN_EXIT,
        )
    )]
    Plugin {
        #[command(subcommand)]
        action: PluginAction,
    },
    /// Version, commit, pinned chart and supported Helm.   e.g. locust-planton version -o json
    #[command(after_help = exit::help(
            "Examples:\n  locust-planton version\n  locust-planton version -o json",
            &[(exit::OK, "ok"), (exit::USAGE, "usage error")],
        ))]
    Version(ReportArgs),
}

/// `plugin install` / `plugin uninstall`.
#[derive(Subcommand, Clone)]
pub enum PluginAction {
    /// Install the plugin into Helm 4's plugins folder (`helm env HELM_PLUGINS`).
    #[command(after_help = exit::line(PLUGIN_EXIT))]
    Install {
        #[command(flatten)]
        common: PluginOpts,
        /// A Helm 3 to check the plugins folder against [default: helm and helm3 on PATH, $HELM].
        #[arg(long, value_name = "PATH")]
        helm3: Option<String>,
        /// Install even into a folder a Helm 3 here loads by default (it then fails to load any
        /// plugin until `plugin uninstall`).
        #[arg(long)]
        share_with_helm3: bool,
    },
    /// Remove the plugin from the folder this helm loads (Helm 3 too, repairing it).
    #[command(after_help = exit::line(PLUGIN_EXIT))]
    Uninstall {
        #[command(flatten)]
        common: PluginOpts,
    },
}

#[derive(Args, Clone)]
pub struct PluginOpts {
    /// The helm binary [default: $HELM, else helm on PATH].
    #[arg(long, value_name = "PATH")]
    pub helm: Option<String>,
    /// Print what would be done; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Args, Clone)]
pub struct CheckArgs {
    #[command(flatten)]
    pub spec: SpecFile,
    /// Output format.
    #[arg(short = 'o', long = "output", value_name = "text|json", value_parser = report_format, default_value = "text")]
    pub output: ReportFormat,
}

/// `values`, `configmaps`: generated YAML (or JSON).
#[derive(Args, Clone)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub spec: SpecFile,
    /// Output format.
    #[arg(short = 'o', long = "output", value_name = "yaml|json", value_parser = manifest_format, default_value = "yaml")]
    pub output: ManifestFormat,
    #[command(flatten)]
    pub file_out: FileOut,
}

/// `values`: the generated values, with images optionally from a mirror.
#[derive(Args, Clone)]
pub struct ValuesArgs {
    #[command(flatten)]
    pub generate: GenerateArgs,
    #[command(flatten)]
    pub images: ImageMirror,
}

#[derive(Args, Clone)]
pub struct LintArgs {
    /// The rendered stream (`-`: stdin).
    #[arg(short = 'f', long = "file", value_name = "FILE", default_value = "-")]
    pub file: String,
    /// Output format.
    #[arg(short = 'o', long = "output", value_name = "text|json", value_parser = report_format, default_value = "text")]
    pub output: ReportFormat,
    #[command(flatten)]
    pub profile: ProfileArgs,
}

#[derive(Args, Clone)]
pub struct InventoryArgs {
    /// The rendered stream (`-`: stdin).
    #[arg(short = 'f', long = "file", value_name = "FILE", default_value = "-")]
    pub file: String,
    /// Output format.
    #[arg(short = 'o', long = "output", value_name = "text|json", value_parser = report_format, default_value = "text")]
    pub output: ReportFormat,
}

/// `-o text|json` alone.
#[derive(Args, Clone)]
pub struct ReportArgs {
    /// Output format.
    #[arg(short = 'o', long = "output", value_name = "text|json", value_parser = report_format, default_value = "text")]
    pub output: ReportFormat,
}

#[derive(Args, Clone)]
pub struct HelmfileArgs {
    #[command(flatten)]
    pub spec: SpecFile,
    /// The values file the release reads [default: <metadata.name>.values.yaml].
    #[arg(long, value_name = "PATH")]
    pub values_file: Option<String>,
    /// Namespace [default: from the manifest].
    #[arg(short = 'n', long, value_name = "NS")]
    pub namespace: Option<String>,
    /// A local chart directory or archive instead of the pinned OCI chart (air-gapped use).
    #[arg(long, value_name = "DIR|TGZ")]
    pub chart: Option<String>,
    /// The release's repository: a mirror of the pinned chart (oci://HOST/PATH, or a classic
    /// chart repository URL) instead of its OCI registry (--chart wins over it).
    #[arg(
        long,
        value_name = "oci://HOST/PATH|URL",
        env = "LOCUST_PLANTON_CHART_REPO"
    )]
    pub chart_repo: Option<String>,
    /// Values from a `.gotmpl` file that runs `locust-planton values` through helmfile's
    /// `exec` on every run, so they never go stale [default file: <metadata.name>.values.yaml.gotmpl].
    #[arg(long)]
    pub exec_values: bool,
    /// Print the one line of that `.gotmpl` values file instead of the release.
    #[arg(long, conflicts_with_all = ["exec_values", "values_file", "chart", "namespace"])]
    pub print_exec_values: bool,
    #[command(flatten)]
    pub file_out: FileOut,
}

#[derive(Args, Clone)]
pub struct FluxArgs {
    #[command(flatten)]
    pub spec: SpecFile,
    /// Namespace of the Flux objects and the release [default: from the manifest].
    #[arg(short = 'n', long, value_name = "NS")]
    pub namespace: Option<String>,
    /// Reconciliation interval.
    #[arg(long, default_value = "10m")]
    pub interval: String,
    /// The OCIRepository's registry: a mirror of the pinned chart (oci://HOST/PATH; the chart
    /// at oci://HOST/PATH/locust; `insecure: true` for a loopback host).
    #[arg(
        long,
        value_name = "oci://HOST/PATH",
        env = "LOCUST_PLANTON_CHART_REPO"
    )]
    pub chart_repo: Option<String>,
    #[command(flatten)]
    pub images: ImageMirror,
    #[command(flatten)]
    pub profile: ProfileArgs,
    /// Output format (json: a v1 List).
    #[arg(short = 'o', long = "output", value_name = "yaml|json", value_parser = manifest_format, default_value = "yaml")]
    pub output: ManifestFormat,
    #[command(flatten)]
    pub file_out: FileOut,
}

/// `local --sandbox`.
#[derive(Clone, Copy, ValueEnum)]
pub enum SandboxArg {
    Auto,
    Required,
    Off,
}

#[derive(Args, Clone)]
pub struct LocalArgs {
    #[command(flatten)]
    pub spec: SpecFile,
    /// Worker processes [default: the spec's worker replicas, at most one per CPU].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub workers: Option<u16>,
    /// Target URL (overrides spec.loadTest.host).
    #[arg(long, value_name = "URL")]
    pub host: Option<String>,
    /// Run without the web UI and exit with the master's exit code.
    #[arg(long)]
    pub headless: bool,
    /// Users to simulate (headless).
    #[arg(long, value_name = "N", default_value_t = 1, requires = "headless",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub users: u32,
    /// Users started per second (headless) [default: --users].
    #[arg(long, value_name = "R", requires = "headless")]
    pub spawn_rate: Option<f64>,
    /// How long to run (headless), e.g. 30s, 5m.
    #[arg(long, value_name = "T", default_value = "1m", requires = "headless")]
    pub run_time: String,
    /// The Python with Locust [default: $LOCUST_PLANTON_PYTHON, else python3].
    #[arg(long, value_name = "PATH")]
    pub python: Option<String>,
    /// Use (and create if needed) a cached virtualenv with the pods' Locust version
    /// (spec.loadTest.locustVersion or the image tag; else the chart's).
    #[arg(long)]
    pub install_locust: bool,
    /// Port the master listens on for workers [default: 5557, or the next free one].
    #[arg(long, value_name = "PORT")]
    pub master_port: Option<u16>,
    /// Port of the web UI (on 127.0.0.1) [default: 8089, or the next free one].
    #[arg(long, value_name = "PORT")]
    pub web_port: Option<u16>,
    /// Run each pod process in a bubblewrap sandbox with the pod's security context:
    /// `auto` where bwrap works (else a warning), `required` refuses to run without it.
    #[arg(long, value_enum, value_name = "MODE", default_value = "auto")]
    pub sandbox: SandboxArg,
    /// Same as --sandbox off.
    #[arg(long, conflicts_with = "sandbox")]
    pub no_sandbox: bool,
    /// Headless runs: the folder receiving the HTML report, CSVs, summary.json and junit.xml
    /// (created; must be empty) [default: a new locust-results/<name>-<UTC time>/ here].
    #[arg(long, value_name = "DIR")]
    pub results_dir: Option<String>,
    /// Headless runs: compare with an earlier run — a summary.json (or its folder), or `last`:
    /// the newest passed run of the same name beside this run's results folder. Worse by more
    /// than spec.loadTest.run.baseline's tolerances: REGRESSED, exit 5.
    #[arg(long, value_name = "FILE|last")]
    pub baseline: Option<String>,
    /// Also run commands the spec set (helmValues: master.command, master.args,
    /// master.initContainers, worker.command, …), printing each before it runs.
    #[arg(long)]
    pub allow_commands: bool,
    /// Extra Locust arguments for the master.
    #[arg(last = true, value_name = "LOCUST ARGS")]
    pub master_args: Vec<String>,
}

fn positive_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err(format!(
            "`{s}` is not a positive number of requests per second"
        )),
    }
}

#[derive(Args, Clone)]
pub struct PlanArgs {
    /// Concurrent users to simulate (at least 1).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub users: u64,
    /// Target requests per second (more than 0).
    #[arg(long, value_name = "R", value_parser = positive_rate)]
    pub rps: Option<f64>,
    /// Output format.
    #[arg(short = 'o', long = "output", value_name = "text|json", value_parser = report_format, default_value = "text")]
    pub output: ReportFormat,
}

#[derive(Args, Clone)]
pub struct InitArgs {
    /// metadata.name and loadTest.name: a DNS-1123 label of at most 47 characters.
    pub name: String,
    /// Where to write it [default: ./NAME.yaml]; `-` is stdout.
    #[arg(long = "output-file", value_name = "PATH")]
    pub output_file: Option<String>,
}

#[derive(Args, Clone)]
pub struct CompletionArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Args, Clone)]
pub struct ManArgs {
    /// The directory to write the pages to (created when missing).
    #[arg(long, value_name = "DIR")]
    pub dir: String,
}
