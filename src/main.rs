//! The `locust-planton` binary: parses arguments, calls the library, maps failures to exit codes.

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use locust_planton::commands::{self, Failure, exit};
use locust_planton::local::sandbox::SandboxMode;
use locust_planton::postrender::harden::HIGH_UID;
use locust_planton::postrender::{Options, Profile};
use locust_planton::values::RUN_AS_USER;
use std::io::IsTerminal;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "locust-planton",
    version,
    about = "Run Locust load tests on Kubernetes from one Project Planton LocustKubernetes manifest",
    long_about = "Run Locust load tests on Kubernetes from one Project Planton LocustKubernetes manifest.\n\n\
                  Turns the manifest into values for the DeliveryHero `locust` Helm chart, creates the\n\
                  script ConfigMaps itself, and hardens what Helm renders as a post-renderer.",
    after_help = "Examples:\n  \
        locust-planton check -f examples/checkout.yaml\n  \
        locust-planton values -f examples/checkout.yaml -o values.yaml\n  \
        helm install checkout-load oci://ghcr.io/deliveryhero/helm-charts/locust --version 0.35.0 -f values.yaml --post-renderer locust-planton\n\n\
        Exit codes: 0 ok, 1 invalid input or failure, 2 usage error, 3 timeout, 4 helm/kubectl failed."
)]
struct Cli {
    /// Without a subcommand and with stdin not a terminal, locust-planton post-renders (so
    /// `--post-renderer locust-planton` needs no arguments).
    #[command(subcommand)]
    command: Option<Command>,
    /// Post-render flags, also accepted without the subcommand (`--post-renderer-args`).
    #[command(flatten)]
    post_render: PostRenderArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Validate a manifest and list every problem.   e.g. locust-planton check -f test.yaml
    #[command(
        after_help = "Examples:\n  locust-planton check -f examples/checkout.yaml\n  locust-planton check -f - --output json < test.yaml\n\n\
        Prints `FILE: field.path: message` per problem (warnings say `warning:`).\n\
        Exit codes: 0 valid (warnings allowed), 1 invalid, 2 usage error."
    )]
    Check {
        /// The manifest (`-` reads stdin).
        #[arg(short = 'f', long = "file", value_name = "FILE")]
        file: String,
        /// Output format.
        #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputFormat::Text)]
        output: OutputFormat,
    },

    /// Chart values for a manifest.   e.g. locust-planton values -f test.yaml -o values.yaml
    #[command(
        after_help = "Examples:\n  locust-planton values -f examples/checkout.yaml\n  locust-planton values -f examples/checkout.yaml -o values.yaml\n  \
        helm template demo oci://ghcr.io/deliveryhero/helm-charts/locust --version 0.35.0 -f values.yaml\n\n\
        The values embed the script ConfigMaps (extraObjects), so the release owns them.\n\
        Nothing is written unless the whole output is valid. Exit codes: 0 ok, 1 invalid, 2 usage."
    )]
    Values {
        /// The manifest (`-` reads stdin).
        #[arg(short = 'f', long = "file", value_name = "FILE")]
        file: String,
        /// Write to FILE instead of stdout (atomically).
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<String>,
    },
    /// Every problem the post-renderer would find in a rendered stream, at once.   e.g. helm template x chart | locust-planton lint
    #[command(
        after_help = "Examples:\n  helm template prom prometheus-community/prometheus | locust-planton lint\n  \
        locust-planton lint -f manifests.yaml -o json | jq '.[] | select(.optOut) | .optOut'\n\n\
        Prints one line per finding (document, source, object, field, reason, the opt-out that allows it);\n\
        warnings say `warning:` (e.g. a ServiceAccount a RoleBinding binds keeps its token). Writes no manifest.\n\
        -o json: an array of {document, line, source, kind, name, namespace, field, rule, message, severity, optOut}.\n\
        Setting every optOut listed (value \"true\") on its object makes post-render pass.\n\
        Exit codes: 0 post-render would pass, 1 it would refuse, 2 usage error."
    )]
    Lint {
        /// The rendered stream (`-`: stdin).
        #[arg(short = 'f', long = "file", value_name = "FILE", default_value = "-")]
        file: String,
        /// Output format.
        #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputFormat::Text)]
        output: OutputFormat,
        #[command(flatten)]
        args: PostRenderArgs,
    },
    /// Helm post-renderer: harden and stamp the manifests on stdin.   e.g. helm install x chart --post-renderer locust-planton
    #[command(
        after_help = "Examples:\n  helm install load oci://ghcr.io/deliveryhero/helm-charts/locust --version 0.35.0 -f values.yaml --post-renderer locust-planton   (Helm 3)\n  \
        helm install load ... --post-renderer locust-planton   (Helm 4: the plugin; see README)\n  \
        helm template load chart -f values.yaml | locust-planton post-render --high-uid\n\n\
        Opt out of one rule for one workload with the annotation locust.project-planton.org/allow-<rule>: \"true\".\n\
        On failure: exit 1, nothing on stdout, the reason on stderr and in $LOCUST_PLANTON_LOG\n\
        (default ~/.local/state/locust-planton/post-render.log), since Helm 4 hides stderr."
    )]
    PostRender {
        #[command(flatten)]
        args: PostRenderArgs,
    },
    /// Render the whole hardened deployment with helm.   e.g. locust-planton template -f test.yaml
    #[command(
        after_help = "Examples:\n  locust-planton template -f examples/checkout.yaml > manifests.yaml\n  \
        locust-planton template -f examples/checkout.yaml --chart ./locust-0.35.0.tgz --release demo -n perf\n  \
        locust-planton template -f examples/checkout.yaml --print-command\n\n\
        Runs `helm template` with generated values and this binary as post-renderer (Helm 3 or 4).\n\
        Exit codes: 0 ok, 1 invalid input or helm missing, 2 usage, 4 helm failed (its stderr is shown)."
    )]
    Template {
        #[command(flatten)]
        opts: DeployOpts,
    },
    /// Install or upgrade the release with helm.   e.g. locust-planton install -f test.yaml --wait
    #[command(
        after_help = "Examples:\n  locust-planton install -f examples/checkout.yaml --wait --timeout 5m\n  \
        locust-planton install -f examples/checkout.yaml --print-command\n  \
        locust-planton install -f examples/checkout.yaml -o json | jq -r .portForwardCommand\n\n\
        Runs `helm upgrade --install` with generated values and this binary as post-renderer, then prints\n\
        namespace, service, endpoint and port-forward command. Exit codes: 0 ok, 1 invalid, 2 usage, 4 helm failed."
    )]
    Install {
        #[command(flatten)]
        opts: DeployOpts,
        #[command(flatten)]
        install: InstallOpts,
    },
    /// Uninstall the release (the script ConfigMaps go with it).   e.g. locust-planton uninstall -f test.yaml
    #[command(
        after_help = "Examples:\n  locust-planton uninstall -f examples/checkout.yaml\n  locust-planton uninstall -f examples/checkout.yaml --print-command"
    )]
    Uninstall {
        #[command(flatten)]
        opts: DeployOpts,
        #[command(flatten)]
        install: InstallOpts,
    },
    /// Print the pinned chart (charts-lock/).   e.g. locust-planton chart
    #[command(
        after_help = "Examples:\n  locust-planton chart\n  locust-planton chart --output json"
    )]
    Chart {
        #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputFormat::Text)]
        output: OutputFormat,
    },
    /// A helmfile release for the manifest.   e.g. locust-planton helmfile -f test.yaml > helmfile.yaml
    #[command(
        after_help = "Examples:\n  locust-planton values -f test.yaml -o checkout-load.values.yaml\n  \
        locust-planton helmfile -f test.yaml > helmfile.yaml && helmfile apply\n  \
        locust-planton helmfile -f test.yaml --exec-values > helmfile.yaml   (values rendered from test.yaml on every run)\n  \
        locust-planton helmfile -f test.yaml --print-exec-values > checkout-load.values.yaml.gotmpl\n\n\
        postRenderer: locust-planton works on Helm 3 (binary on PATH) and Helm 4 (the plugin)."
    )]
    Helmfile {
        /// The manifest (`-` reads stdin).
        #[arg(short = 'f', long = "file", value_name = "FILE")]
        file: String,
        /// The values file the release reads [default: <metadata.name>.values.yaml].
        #[arg(long, value_name = "PATH")]
        values_file: Option<String>,
        /// Namespace [default: from the manifest].
        #[arg(short = 'n', long, value_name = "NS")]
        namespace: Option<String>,
        /// A local chart directory or archive instead of the pinned OCI chart (air-gapped use).
        #[arg(long, value_name = "DIR|TGZ")]
        chart: Option<String>,
        /// Values from a `.gotmpl` file that runs `locust-planton values` through helmfile's
        /// `exec` on every run, so they never go stale [default file: <metadata.name>.values.yaml.gotmpl].
        #[arg(long)]
        exec_values: bool,
        /// Print the one line of that `.gotmpl` values file instead of the release.
        #[arg(long, conflicts_with_all = ["exec_values", "values_file", "chart", "namespace"])]
        print_exec_values: bool,
    },
    /// Flux OCIRepository + HelmRelease with the hardening as kustomize patches.   e.g. locust-planton flux -f test.yaml
    #[command(
        after_help = "Examples:\n  locust-planton flux -f examples/checkout.yaml > clusters/perf/checkout-load.yaml\n  \
        locust-planton flux -f examples/checkout.yaml --interval 1h --high-uid\n\n\
        Flux cannot run a post-renderer binary; the patches do the same, within the limits the output's comment lists."
    )]
    Flux {
        /// The manifest (`-` reads stdin).
        #[arg(short = 'f', long = "file", value_name = "FILE")]
        file: String,
        /// Namespace of the Flux objects and the release [default: from the manifest].
        #[arg(short = 'n', long, value_name = "NS")]
        namespace: Option<String>,
        /// Reconciliation interval.
        #[arg(long, default_value = "10m")]
        interval: String,
        #[command(flatten)]
        post_render: PostRenderArgs,
    },
    /// Run the test locally, exactly as the pods would.   e.g. locust-planton local -f test.yaml --headless --users 10
    #[command(
        after_help = "Examples:\n  locust-planton local -f examples/checkout.yaml --host http://127.0.0.1:8080\n  \
        locust-planton local -f examples/checkout.yaml --workers 2 --headless --users 20 --spawn-rate 5 --run-time 30s\n  \
        locust-planton local -f test.yaml --headless --users 5 --run-time 10s -- --csv results\n\n\
        Writes each pod's ConfigMaps and emptyDirs under a temporary directory, runs the pip init container,\n\
        then the master and workers with the pods' command, args and env (master host 127.0.0.1). Output is\n\
        prefixed by role. Where bubblewrap (`bwrap`) works, every process runs sandboxed as the pod would: its\n\
        UID/GID, read-only root, volumes at the pod's paths, no capabilities, no new privileges, the pod's env.\n\
        Default ports (5557, 8089) move to the next free one when taken; a port you pass must be free.\n\
        Needs Python with Locust (`python3 -m locust`); --install-locust makes a cached virtualenv.\n\
        Headless runs leave Locust's HTML report, its CSVs, summary.json and junit.xml in --results-dir\n\
        (default locust-results/<name>-<UTC time>/) and print a summary; spec.loadTest.run.thresholds decide.\n\
        Exit code: headless, the run's (1 when requests failed or a threshold was missed); otherwise 0 after Ctrl-C."
    )]
    Local {
        /// The manifest (`-` reads stdin).
        #[arg(short = 'f', long = "file", value_name = "FILE")]
        file: String,
        /// Worker processes [default: the spec's worker replicas, at most one per CPU].
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
        workers: Option<u16>,
        /// Target URL (overrides spec.loadTest.host).
        #[arg(long, value_name = "URL")]
        host: Option<String>,
        /// Run without the web UI and exit with the master's exit code.
        #[arg(long)]
        headless: bool,
        /// Users to simulate (headless).
        #[arg(long, value_name = "N", default_value_t = 1, requires = "headless")]
        users: u32,
        /// Users started per second (headless) [default: --users].
        #[arg(long, value_name = "R", requires = "headless")]
        spawn_rate: Option<f64>,
        /// How long to run (headless), e.g. 30s, 5m.
        #[arg(long, value_name = "T", default_value = "1m", requires = "headless")]
        run_time: String,
        /// The Python with Locust [default: $LOCUST_PLANTON_PYTHON, else python3].
        #[arg(long, value_name = "PATH")]
        python: Option<String>,
        /// Use (and create if needed) a cached virtualenv with the pods' Locust version
        /// (spec.loadTest.locustVersion or the image tag; else the chart's).
        #[arg(long)]
        install_locust: bool,
        /// Port the master listens on for workers [default: 5557, or the next free one].
        #[arg(long, value_name = "PORT")]
        master_port: Option<u16>,
        /// Port of the web UI (on 127.0.0.1) [default: 8089, or the next free one].
        #[arg(long, value_name = "PORT")]
        web_port: Option<u16>,
        /// Run each pod process in a bubblewrap sandbox with the pod's security context:
        /// `auto` where bwrap works (else a warning), `required` refuses to run without it.
        #[arg(long, value_enum, value_name = "MODE", default_value = "auto")]
        sandbox: SandboxArg,
        /// Same as --sandbox off.
        #[arg(long, conflicts_with = "sandbox")]
        no_sandbox: bool,
        /// Headless runs: the folder receiving the HTML report, CSVs, summary.json and junit.xml
        /// (created; must be empty) [default: a new locust-results/<name>-<UTC time>/ here].
        #[arg(long, value_name = "DIR")]
        results_dir: Option<String>,
        /// Extra Locust arguments for the master.
        #[arg(last = true, value_name = "LOCUST ARGS")]
        master_args: Vec<String>,
    },
    /// Show the state of a release's test.   e.g. locust-planton status checkout-load -n load-tests
    #[command(
        after_help = "Examples:\n  locust-planton status checkout-load -n load-tests\n  locust-planton status -f test.yaml -o json\n\n\
        Reads the master Deployment, the master and worker pods and the current master's log through kubectl\n\
        (only the current pod template's master counts: see `wait`). With thresholds, shows each verdict.\n\
        Phases: Pending, Running, Completed, Failed (with the reason). Exit codes: 0, 4 kubectl failed."
    )]
    Status {
        #[command(flatten)]
        target: RunTargetOpts,
        #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputFormat::Text)]
        output: OutputFormat,
    },
    /// Wait for a headless run to finish.   e.g. locust-planton wait checkout-load -n load-tests --timeout 30m
    #[command(
        after_help = "Examples:\n  locust-planton install -f ci.yaml --wait && locust-planton wait ci-run -n perf --timeout 20m\n\n\
        Prints Locust's final statistics, the run (master pod, script hash, rerun time) and each threshold's\n\
        verdict. Only the current run counts: a master pod of an earlier pod template (an outgoing pod after a\n\
        spec change or rerun) is never read. Exit codes: 0 passed, 1 requests failed or a threshold missed,\n\
        3 timeout or the cluster\n\
        could not run the test (unschedulable pods, image pull errors, failed pip install: the reason is printed),\n\
        4 kubectl failed."
    )]
    Wait {
        #[command(flatten)]
        target: RunTargetOpts,
        /// Give up after this long.
        #[arg(long, default_value = "30m")]
        timeout: String,
        /// How often to look.
        #[arg(long, default_value = "5s")]
        interval: String,
        /// Output format (json: the final status, with the threshold verdicts and the run).
        #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputFormat::Text)]
        output: OutputFormat,
    },
    /// Copy a finished run's results from the master pod.   e.g. locust-planton report -f test.yaml --results-dir results
    #[command(
        after_help = "Examples:\n  locust-planton report -f ci.yaml --results-dir locust-results/ci\n  locust-planton report ci-run -n perf\n\n\
        Copies Locust's HTML report, its CSVs, summary.json and junit.xml of the current run from the master\n\
        pod (kubectl exec with the image's Python; no tar needed) into a new or empty folder [default:\n\
        locust-results/<release>-<UTC time>/], after checking they are the current run's. A new run (a spec\n\
        change, `rerun`) replaces the previous run's results in the pod. Exit codes: 0 copied, 1 no finished run\n\
        or no results, 4 kubectl failed."
    )]
    Report {
        #[command(flatten)]
        target: RunTargetOpts,
        /// The folder to copy the results into (created; must be empty).
        #[arg(long, value_name = "DIR")]
        results_dir: Option<String>,
    },
    /// Start a new run of an unchanged spec (rollout restart).   e.g. locust-planton rerun -f test.yaml
    #[command(
        after_help = "Examples:\n  locust-planton rerun -f ci.yaml && locust-planton wait -f ci.yaml\n\n\
        `helm upgrade` of an unchanged spec rolls nothing, so the previous run stays the current one. rerun\n\
        restarts the release's Deployments (kubectl rollout restart): new master and workers, a new run\n\
        identity (kubectl.kubernetes.io/restartedAt), new results. Exit codes: 0, 4 kubectl failed."
    )]
    Rerun {
        #[command(flatten)]
        target: RunTargetOpts,
    },
    /// Suggest workers and resources for a load.   e.g. locust-planton plan --users 20000 --rps 15000
    #[command(
        after_help = "Examples:\n  locust-planton plan --users 5000\n  locust-planton plan --users 20000 --rps 15000"
    )]
    Plan {
        /// Concurrent users to simulate.
        #[arg(long, value_name = "N")]
        users: u64,
        /// Target requests per second.
        #[arg(long, value_name = "R")]
        rps: Option<f64>,
    },
    /// The script ConfigMaps as plain manifests.   e.g. locust-planton configmaps -f test.yaml
    #[command(
        after_help = "Examples:\n  locust-planton configmaps -f examples/checkout.yaml | kubectl apply -f -\n\n\
        For users who manage the ConfigMaps outside Helm; `values` already ships them in the release."
    )]
    Configmaps {
        /// The manifest (`-` reads stdin).
        #[arg(short = 'f', long = "file", value_name = "FILE")]
        file: String,
        /// Write to FILE instead of stdout (atomically).
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<String>,
    },
    /// The manifest's JSON Schema, for editors.   e.g. locust-planton schema -o locust-kubernetes.schema.json
    #[command(
        after_help = "Examples:\n  locust-planton schema -o locust-kubernetes.schema.json\n\n\
        JSON Schema draft 2020-12 of a LocustKubernetes/KubernetesLocust manifest (both spellings of every\n\
        field, the extension fields). Put `# yaml-language-server: $schema=locust-kubernetes.schema.json`\n\
        at the top of a manifest and editors with the YAML language server complete and validate it.\n\
        `check` remains the authority: README \"Schema\" lists the rules a schema cannot express."
    )]
    Schema {
        /// Write to FILE instead of stdout (atomically).
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<String>,
    },
    /// Start a manifest: a commented, working NAME.yaml.   e.g. locust-planton init checkout-load
    #[command(
        after_help = "Examples:\n  locust-planton init checkout-load\n  locust-planton init checkout-load --output-file load/checkout.yaml\n  \
        locust-planton init checkout-load --output-file - | less\n\n\
        The manifest passes `check` and runs with `local --headless`. An existing file is never overwritten\n\
        (exit 1, nothing written)."
    )]
    Init {
        /// metadata.name and loadTest.name: a DNS-1123 label of at most 47 characters.
        name: String,
        /// Where to write it [default: ./NAME.yaml]; `-` is stdout.
        #[arg(long = "output-file", value_name = "PATH")]
        output_file: Option<String>,
    },
    /// Shell completion script.   e.g. locust-planton completion bash > ~/.local/share/bash-completion/completions/locust-planton
    #[command(
        after_help = "Examples:\n  locust-planton completion bash > ~/.local/share/bash-completion/completions/locust-planton\n  \
        locust-planton completion zsh > ~/.zfunc/_locust-planton\n  \
        locust-planton completion fish > ~/.config/fish/completions/locust-planton.fish\n  \
        locust-planton completion powershell >> $PROFILE"
    )]
    Completion {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Man pages for the tool and each subcommand.   e.g. locust-planton man --dir /usr/local/share/man/man1
    #[command(
        after_help = "Examples:\n  locust-planton man --dir ~/.local/share/man/man1 && man locust-planton\n\n\
        Writes locust-planton.1 and locust-planton-<subcommand>.1 (each atomically), creating DIR."
    )]
    Man {
        /// The directory to write the pages to (created when missing).
        #[arg(long, value_name = "DIR")]
        dir: String,
    },
    /// The Helm 4 post-renderer plugin (never into Helm 3).   e.g. locust-planton plugin install
    #[command(
        after_help = "Examples:\n  locust-planton plugin install --dry-run\n  locust-planton plugin install --helm /usr/local/bin/helm4\n  \
        locust-planton plugin uninstall --helm helm   (also repairs Helm 3 after `helm plugin install <checkout>`)\n\n\
        Only for running Helm 4 yourself (`helm install … --post-renderer locust-planton`): `template` and\n\
        `install` need no plugin. Helm 3 cannot read a Helm 4 plugin and then loads none of its plugins, so\n\
        install refuses Helm 3 and a plugins folder a Helm 3 here loads by default. Exit codes: 0, 1 refused\n\
        or failed (the plugins folder is left as it was), 2 usage, 4 helm failed."
    )]
    Plugin {
        #[command(subcommand)]
        action: PluginAction,
    },
    /// Version, commit, pinned chart and supported Helm.   e.g. locust-planton version -o json
    #[command(after_help = "Examples:\n  locust-planton version\n  locust-planton version -o json")]
    Version {
        #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputFormat::Text)]
        output: OutputFormat,
    },
}

/// `plugin install` / `plugin uninstall`.
#[derive(Subcommand)]
enum PluginAction {
    /// Install the plugin into Helm 4's plugins folder (`helm env HELM_PLUGINS`).
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
    Uninstall {
        #[command(flatten)]
        common: PluginOpts,
    },
}

#[derive(Args)]
struct PluginOpts {
    /// The helm binary [default: $HELM, else helm on PATH].
    #[arg(long, value_name = "PATH")]
    helm: Option<String>,
    /// Print what would be done; change nothing.
    #[arg(long)]
    dry_run: bool,
}

impl PluginAction {
    fn run(self) -> Result<u8, Failure> {
        use commands::plugin::{PluginArgs, install, uninstall};
        let report = match self {
            PluginAction::Install {
                common,
                helm3,
                share_with_helm3,
            } => install(&PluginArgs {
                helm: common.helm,
                helm3,
                dry_run: common.dry_run,
                share_with_helm3,
            }),
            PluginAction::Uninstall { common } => uninstall(&PluginArgs {
                helm: common.helm,
                dry_run: common.dry_run,
                ..PluginArgs::default()
            }),
        }?;
        eprint!("{}", report.stderr);
        commands::write_output(None, &report.stdout).map(|_| exit::OK)
    }
}

#[derive(Args, Clone, Default)]
struct DeployOpts {
    /// The manifest (`-` reads stdin).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    file: String,
    /// A local chart directory, or an archive checked against charts-lock/'s digest.
    #[arg(long, value_name = "DIR|TGZ")]
    chart: Option<String>,
    /// Pull the pinned chart from this classic chart repository (a mirror) instead of its OCI reference.
    #[arg(long, value_name = "URL")]
    chart_repo: Option<String>,
    /// Release name [default: metadata.name].
    #[arg(long, value_name = "NAME")]
    release: Option<String>,
    /// Namespace [default: spec.namespace.value, the namespace label, or metadata.name].
    #[arg(short = 'n', long, value_name = "NS")]
    namespace: Option<String>,
    /// The helm binary [default: $HELM, else helm on PATH].
    #[arg(long, value_name = "PATH")]
    helm: Option<String>,
    /// Print the helm command line instead of running it.
    #[arg(long)]
    print_command: bool,
    #[command(flatten)]
    post_render: PostRenderArgs,
}

/// A release named directly or by its manifest (`-f`: metadata.name and the manifest's namespace).
#[derive(Args, Clone, Default)]
struct RunTargetOpts {
    /// The release (metadata.name unless installed under another name).
    #[arg(required_unless_present = "file", conflicts_with = "file")]
    release: Option<String>,
    /// The manifest: its metadata.name is the release, its namespace the namespace.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    file: Option<String>,
    /// Namespace [default: the manifest's with -f, else the kubeconfig context's].
    #[arg(short = 'n', long, value_name = "NS")]
    namespace: Option<String>,
    /// kubeconfig context.
    #[arg(long, value_name = "NAME")]
    context: Option<String>,
    /// The kubectl binary [default: $KUBECTL, else kubectl on PATH].
    #[arg(long, value_name = "PATH")]
    kubectl: Option<String>,
}

impl RunTargetOpts {
    fn target(self) -> Result<commands::ops::Target, Failure> {
        let (release, namespace) = match (&self.file, self.release) {
            (Some(f), _) => {
                let (_, spec, _) = commands::load_spec(f)?;
                let ns = self
                    .namespace
                    .or_else(|| spec.namespace_value().map(str::to_string));
                (spec.name, ns)
            }
            (None, Some(r)) => (r, self.namespace),
            (None, None) => unreachable!("clap requires a release or -f"),
        };
        Ok(commands::ops::Target {
            release,
            namespace,
            context: self.context,
            kubectl: self.kubectl,
        })
    }
}

#[derive(Args, Clone, Default)]
struct InstallOpts {
    /// Wait until the pods are ready.
    #[arg(long)]
    wait: bool,
    /// How long helm waits (e.g. 5m).
    #[arg(long, value_name = "DURATION")]
    timeout: Option<String>,
    /// Roll back on failure (Helm 3 --atomic, Helm 4 --rollback-on-failure).
    #[arg(long)]
    atomic: bool,
    /// kubeconfig context.
    #[arg(long, value_name = "NAME")]
    kube_context: Option<String>,
    /// Render and validate client-side only (helm --dry-run=client).
    #[arg(long)]
    dry_run: bool,
    /// Output format of the deployment summary.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputFormat::Text)]
    output: OutputFormat,
}

impl PostRenderArgs {
    fn options(&self) -> Options {
        let uid = if self.high_uid {
            HIGH_UID
        } else {
            self.uid.unwrap_or(RUN_AS_USER)
        };
        Options {
            profile: Profile {
                uid,
                high_uid: self.high_uid,
            },
            strict_chart: self.strict_chart,
        }
    }
    /// The same flags, as arguments for the post-renderer helm runs.
    fn forwarded_args(self) -> Vec<String> {
        let mut a = Vec::new();
        if self.high_uid {
            a.push("--high-uid".into());
        }
        if let Some(u) = self.uid {
            a.extend(["--uid".into(), u.to_string()]);
        }
        if self.strict_chart {
            a.push("--strict-chart".into());
        }
        a
    }
}

impl DeployOpts {
    fn args(self, json: bool) -> commands::deploy::DeployArgs {
        commands::deploy::DeployArgs {
            post_render_options: self.post_render.options(),
            post_render_args: self.post_render.forwarded_args(),
            file: self.file,
            chart: self.chart,
            chart_repo: self.chart_repo,
            release: self.release,
            namespace: self.namespace,
            helm: self.helm,
            print_command: self.print_command,
            json,
        }
    }
}

impl InstallOpts {
    fn args(&self) -> commands::deploy::InstallArgs {
        commands::deploy::InstallArgs {
            wait: self.wait,
            timeout: self.timeout.clone(),
            atomic: self.atomic,
            kube_context: self.kube_context.clone(),
            dry_run: self.dry_run,
        }
    }
}

#[derive(Args, Clone, Copy, Default)]
struct PostRenderArgs {
    /// Run as UID/GID 10001 (and raise explicit UIDs below 10000), for scanners that demand it.
    #[arg(long)]
    high_uid: bool,
    /// The UID/GID pods run as where none is set [default: 1000, the image's `locust` user].
    #[arg(long, value_name = "UID", value_parser = clap::value_parser!(i64).range(1..))]
    uid: Option<i64>,
    /// Fail when the chart version is not one charts-lock/ lists as verified.
    #[arg(long)]
    strict_chart: bool,
}

/// `local --sandbox`.
#[derive(Clone, Copy, ValueEnum)]
enum SandboxArg {
    Auto,
    Required,
    Off,
}

/// A `local` port: the user's (fails when taken) or the default (moves to a free one).
fn local_port(chosen: Option<u16>, default: u16) -> locust_planton::local::Port {
    locust_planton::local::Port {
        port: chosen.unwrap_or(default),
        explicit: chosen.is_some(),
    }
}

#[derive(Clone, Copy, Default, ValueEnum)]
enum OutputFormat {
    #[default]
    Text,
    Json,
}

/// Prints warnings to stderr and writes the output (stdout or an atomically replaced file).
fn emit(result: Result<(String, String), Failure>, output: Option<&str>) -> Result<u8, Failure> {
    let (out, warnings) = result?;
    eprint!("{warnings}");
    commands::write_output(output, &out)?;
    Ok(exit::OK)
}

/// Writes stderr text, then stdout bytes.
fn bytes_out(result: Result<(Vec<u8>, String), Failure>) -> Result<u8, Failure> {
    use std::io::Write;
    let (out, err) = result?;
    eprint!("{err}");
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&out)
        .and_then(|_| stdout.flush())
        .map_err(|e| Failure::failed(format!("stdout: {e}")))?;
    Ok(exit::OK)
}

/// The command line, with the version texts that name the commit and the pinned chart.
fn cli_command() -> clap::Command {
    Cli::command()
        .version(commands::version::short())
        .long_version(commands::version::long().trim_end().to_string())
}

/// Man pages: the tool's and one per visible subcommand, each written atomically into `dir`.
fn man_pages(dir: &str) -> Result<u8, Failure> {
    std::fs::create_dir_all(dir).map_err(|e| Failure::failed(format!("{dir}: {e}")))?;
    let root = cli_command();
    let mut pages = vec![("locust-planton".to_string(), root.clone())];
    for sub in root.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("locust-planton-{}", sub.get_name());
        pages.push((
            name.clone(),
            sub.clone()
                .name(name)
                .version(root.get_version().unwrap_or_default().to_string()),
        ));
    }
    for (name, cmd) in pages {
        let mut page = Vec::new();
        clap_mangen::Man::new(cmd)
            .render(&mut page)
            .map_err(|e| Failure::failed(format!("{name}.1: {e}")))?;
        let text =
            String::from_utf8(page).map_err(|e| Failure::failed(format!("{name}.1: {e}")))?;
        let path = std::path::Path::new(dir).join(format!("{name}.1"));
        commands::write_output(Some(&path.to_string_lossy()), &text)?;
    }
    Ok(exit::OK)
}

fn main() -> ExitCode {
    let matches = cli_command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let command = match cli.command {
        Some(c) => c,
        None if !std::io::stdin().is_terminal() => Command::PostRender {
            args: cli.post_render,
        },
        None => {
            let _ = cli_command().print_help();
            return ExitCode::from(exit::USAGE);
        }
    };
    let result = match command {
        Command::Check { file, output } => {
            let format = match output {
                OutputFormat::Text => commands::check::Format::Text,
                OutputFormat::Json => commands::check::Format::Json,
            };
            commands::check::run(&file, format).and_then(|(out, code)| {
                commands::write_output(None, &out)?;
                Ok(code)
            })
        }
        Command::Lint { file, output, args } => {
            let format = match output {
                OutputFormat::Text => commands::lint::Format::Text,
                OutputFormat::Json => commands::lint::Format::Json,
            };
            commands::lint::run(&file, &args.options(), format).and_then(|(out, code)| {
                commands::write_output(None, &out)?;
                Ok(code)
            })
        }
        Command::PostRender { args } => {
            let options = args.options();
            commands::post_render::run(&options).map(|warnings| {
                eprint!("{warnings}");
                exit::OK
            })
        }
        Command::Template { opts } => bytes_out(commands::deploy::template(&opts.args(false))),
        Command::Install { opts, install } => {
            let json = matches!(install.output, OutputFormat::Json);
            bytes_out(commands::deploy::install(&opts.args(json), &install.args()))
        }
        Command::Uninstall { opts, install } => bytes_out(commands::deploy::uninstall(
            &opts.args(false),
            &install.args(),
        )),
        Command::Chart { output } => {
            commands::write_output(None, &commands::chart(matches!(output, OutputFormat::Json)))
                .map(|_| exit::OK)
        }
        Command::Helmfile {
            file,
            values_file,
            namespace,
            chart,
            exec_values,
            print_exec_values,
        } => emit(
            commands::gitops::helmfile(
                &file,
                values_file.as_deref(),
                namespace.as_deref(),
                chart.as_deref(),
                exec_values,
                print_exec_values,
            ),
            None,
        ),
        Command::Flux {
            file,
            namespace,
            interval,
            post_render,
        } => emit(
            commands::gitops::flux(
                &file,
                namespace.as_deref(),
                &interval,
                post_render.options().profile,
            ),
            None,
        ),
        Command::Local {
            file,
            workers,
            host,
            headless,
            users,
            spawn_rate,
            run_time,
            python,
            install_locust,
            master_port,
            web_port,
            sandbox,
            no_sandbox,
            results_dir,
            master_args,
        } => commands::local::local(commands::local::LocalArgs {
            file,
            workers: workers.map(usize::from),
            install_locust,
            results_dir,
            options: locust_planton::local::LocalOptions {
                workers: 0,
                host,
                headless: headless.then(|| locust_planton::local::Headless {
                    users,
                    spawn_rate: spawn_rate.unwrap_or(f64::from(users)),
                    run_time,
                }),
                python: python
                    .or_else(|| std::env::var("LOCUST_PLANTON_PYTHON").ok())
                    .unwrap_or_else(|| "python3".into()),
                master_port: local_port(master_port, 5557),
                web_port: local_port(web_port, 8089),
                master_args,
                // The spec's version replaces it (`commands::local`).
                locust_version: String::new(),
                // `commands::local` fills these in.
                results_dir: None,
                name: String::new(),
                sandbox: if no_sandbox {
                    SandboxMode::Off
                } else {
                    match sandbox {
                        SandboxArg::Auto => SandboxMode::Auto,
                        SandboxArg::Required => SandboxMode::Required,
                        SandboxArg::Off => SandboxMode::Off,
                    }
                },
            },
        }),
        Command::Status { target, output } => target
            .target()
            .and_then(|t| commands::ops::status(&t, matches!(output, OutputFormat::Json)))
            .and_then(|out| commands::write_output(None, &out).map(|_| exit::OK)),
        Command::Wait {
            target,
            timeout,
            interval,
            output,
        } => target
            .target()
            .and_then(|t| {
                commands::ops::wait(
                    &t,
                    &timeout,
                    &interval,
                    matches!(output, OutputFormat::Json),
                )
            })
            .and_then(|(out, code)| commands::write_output(None, &out).map(|_| code)),
        Command::Report {
            target,
            results_dir,
        } => target
            .target()
            .and_then(|t| commands::ops::report(&t, results_dir.as_deref()))
            .and_then(|out| commands::write_output(None, &out).map(|_| exit::OK)),
        Command::Rerun { target } => target
            .target()
            .and_then(|t| commands::ops::rerun(&t))
            .and_then(|out| commands::write_output(None, &out).map(|_| exit::OK)),
        Command::Plan { users, rps } => {
            commands::write_output(None, &locust_planton::spec::sizing::plan(users, rps))
                .map(|_| exit::OK)
        }
        Command::Values { file, output } => {
            emit(commands::values::values(&file), output.as_deref())
        }
        Command::Configmaps { file, output } => {
            emit(commands::values::configmaps(&file), output.as_deref())
        }
        Command::Schema { output } => {
            commands::write_output(output.as_deref(), &locust_planton::spec::schema::text())
                .map(|_| exit::OK)
        }
        Command::Init { name, output_file } => commands::init::run(&name, output_file.as_deref())
            .map(|note| {
                eprint!("{note}");
                exit::OK
            }),
        Command::Completion { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cli_command(), "locust-planton", &mut script);
            String::from_utf8(script)
                .map_err(|e| Failure::failed(format!("completion script: {e}")))
                .map(|s| match shell {
                    // clap_complete 4.6 names the bash cases of subcommands after the binary
                    // with its `-` turned into the subcommand separator (`locust__subcmd__planton__subcmd__init`)
                    // but dispatches to `locust__planton__subcmd__init`, so no subcommand's flags
                    // would complete; tests/cli_tools.rs completes `init --out` in a real bash.
                    clap_complete::Shell::Bash => {
                        s.replace("locust__subcmd__planton", "locust__planton")
                    }
                    _ => s,
                })
                .and_then(|s| commands::write_output(None, &s))
                .map(|_| exit::OK)
        }
        Command::Man { dir } => man_pages(&dir),
        Command::Plugin { action } => action.run(),
        Command::Version { output } => {
            let text = match output {
                OutputFormat::Text => format!("locust-planton {}", commands::version::long()),
                OutputFormat::Json => commands::version::json(),
            };
            commands::write_output(None, &text).map(|_| exit::OK)
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(Failure { code, message }) => {
            eprintln!("locust-planton: {message}");
            ExitCode::from(if code == exit::OK { exit::FAILED } else { code })
        }
    }
}
