//! Spec → values for the pinned DeliveryHero chart, plus the script ConfigMaps those values
//! reference (shipped in the release through the chart's `extraObjects`). Pure functions.
//! docs/values.md "Values mapping" lists every spec field and the values it sets.

pub mod chart_keys;
pub mod configmaps;
pub mod extensions;
pub mod helm_values;
pub mod pod_paths;
mod security;

use crate::diag::Findings;
use crate::lock::chart_lock;
use crate::spec::{Container, LoadTestSpec, image};
use crate::yaml::{Map, Node};
pub use configmaps::{ScriptConfigMap, script_configmaps};
pub use security::{container_security_context, pod_security_context};

pub use crate::contract::{
    HOME_VOLUME, LOCUST_BIN, LOCUSTFILE_PATH, PIP_BIN, PIP_INIT_CONTAINER, PIP_TARGET, PIP_VOLUME,
    RUN_AS_USER, TMP_VOLUME,
};

pub struct Synthesized {
    pub values: Node,
    pub configmaps: Vec<ScriptConfigMap>,
    /// The one image every Locust container runs (and the Locust inside, when known).
    pub locust: image::LocustImage,
    /// Warnings (and errors from `helmValues`).
    pub findings: Findings,
}

pub fn synthesize(spec: &LoadTestSpec) -> Synthesized {
    let configmaps = script_configmaps(spec);
    let mut findings = Findings::default();
    // Its findings were reported when the spec was read.
    let locust = image::resolve(spec, &mut Findings::default());
    let mut v = Map::default();
    v.insert("fullnameOverride", Node::string(&spec.name));
    if let Some((repository, tag)) = &locust.repository_tag {
        let mut i = Map::default();
        i.insert("repository", Node::string(repository));
        i.insert("tag", Node::string(tag));
        v.insert("image", Node::Map(i));
    }
    v.insert("loadtest", loadtest_values(spec, &configmaps));
    v.insert("master", role_values(spec, &spec.master, true, &locust));
    v.insert("worker", role_values(spec, &spec.worker, false, &locust));
    v.insert("podSecurityContext", pod_security_context(RUN_AS_USER));
    v.insert("securityContext", container_security_context(RUN_AS_USER));
    if let Some(host) = &spec.ingress_host {
        v.insert("ingress", ingress_values(host));
    }
    let ext = &spec.extensions;
    if let Some(run) = &ext.run {
        let ui = ext.prometheus;
        extensions::apply_run(&mut v, &spec.name, run, spec.worker.replicas, ui);
    }
    if let Some(otel) = &ext.open_telemetry {
        extensions::apply_otel(&mut v, spec, otel, &configmaps);
    }
    if let Some(spot) = &ext.spot {
        extensions::apply_spot(&mut v, spot);
    }
    // Script content is escaped for `tpl`; our own objects use it for the release name.
    let mut objects: Vec<Node> = configmaps
        .iter()
        .map(|c| escape_tpl(c.manifest(spec)))
        .collect();
    if ext.prometheus {
        objects.extend(extensions::metrics_objects(spec));
    }
    if let Some(np) = &ext.network_policy {
        objects.extend(extensions::network_policies(spec, np));
    }
    v.insert("extraObjects", Node::Seq(objects));
    let mut values = Node::Map(v);
    helm_values::apply(&mut values, &spec.helm_values, &mut findings);
    write_image(&mut values, &locust);
    helm_values::check_bare(&values, &spec.helm_values, &mut findings);
    helm_values::check_templated(&spec.helm_values, &mut findings);
    helm_values::check_labels(&values, &spec.helm_values, &mut findings);
    warn_about_overrides(&spec.helm_values, &mut findings);
    pod_paths::warn_climbing_pod_paths(&spec.helm_values, &mut findings);
    Synthesized {
        values,
        configmaps,
        locust,
        findings,
    }
}

fn loadtest_values(spec: &LoadTestSpec, configmaps: &[ScriptConfigMap]) -> Node {
    let lt = &spec.load_test;
    let name_of = |role| {
        configmaps
            .iter()
            .find(|c| c.role == role)
            .map_or(String::new(), |c| c.name.clone())
    };
    let mut m = Map::default();
    m.insert("name", Node::string(&lt.name));
    m.insert(
        "locust_locustfile",
        Node::string(configmaps::LOCUSTFILE_KEY),
    );
    m.insert("locust_locustfile_path", Node::string(LOCUSTFILE_PATH));
    m.insert(
        "locust_locustfile_configmap",
        Node::string(name_of(crate::spec::MAIN_ROLE)),
    );
    m.insert(
        "locust_lib_configmap",
        Node::string(name_of(crate::spec::LIB_ROLE)),
    );
    // The chart's default targets a public site; an empty host makes the UI ask for one.
    m.insert(
        "locust_host",
        Node::string(lt.host.clone().unwrap_or_default()),
    );
    // Packages are installed by our init container, never by the chart's shell line.
    m.insert("pip_packages", Node::Seq(Vec::new()));
    if !crate::spec::pip::packages(spec).is_empty() {
        let mut env = Map::default();
        env.insert("PYTHONPATH", Node::string(PIP_TARGET));
        m.insert("environment", Node::Map(env));
    }
    Node::Map(m)
}

fn role_values(
    spec: &LoadTestSpec,
    c: &Container,
    master: bool,
    locust: &image::LocustImage,
) -> Node {
    let mut m = Map::default();
    m.insert("replicas", Node::int(c.replicas));
    m.insert("resources", resources(c));
    // Run Locust directly: the chart's `sh docker-entrypoint.sh` runs `pip install` on an
    // unquoted shell line and needs a writable root file system.
    m.insert("command", Node::Seq(vec![Node::string(LOCUST_BIN)]));
    if master {
        m.insert("readinessProbe", tcp_readiness_probe());
    }
    let packages = crate::spec::pip::packages(spec);
    let has_pip = !packages.is_empty();
    if has_pip {
        m.insert(
            "initContainers",
            Node::Seq(vec![pip_init_container(
                &packages,
                &spec.load_test.lift_pins,
                &locust.image,
            )]),
        );
    }
    let mut volumes = vec![TMP_VOLUME, HOME_VOLUME];
    if has_pip {
        volumes.push(PIP_VOLUME);
    }
    m.insert(
        "extraVolumes",
        Node::Seq(volumes.iter().map(|(name, _)| empty_dir(name)).collect()),
    );
    m.insert(
        "extraVolumeMounts",
        Node::Seq(
            volumes
                .iter()
                .map(|(name, path)| mount(name, path))
                .collect(),
        ),
    );
    Node::Map(m)
}

fn resources(c: &Container) -> Node {
    let pair = |cpu: &str, memory: &str| {
        let mut m = Map::default();
        m.insert("cpu", Node::string(cpu));
        m.insert("memory", Node::string(memory));
        Node::Map(m)
    };
    let r = &c.resources;
    let mut m = Map::default();
    m.insert("limits", pair(&r.limits_cpu, &r.limits_memory));
    m.insert("requests", pair(&r.requests_cpu, &r.requests_memory));
    Node::Map(m)
}

/// TCP on the worker port: ready in both UI and headless mode (the chart's HTTP probe on 8089
/// never succeeds headless, so workers could not reach the master through the Service). A run
/// with the web UI on (`--autostart`, for metrics) keeps it too: readiness is what puts the
/// master behind its Service, and what workers need from it is the worker port, which opens
/// before the run waits for them; the exporter scrapes the web UI through the same Service.
/// `httpGet: null` removes the chart's default handler when Helm merges values.
fn tcp_readiness_probe() -> Node {
    let mut tcp = Map::default();
    tcp.insert("port", Node::int(5557));
    let mut m = Map::default();
    m.insert("httpGet", Node::null());
    m.insert("tcpSocket", Node::Map(tcp));
    m.insert("initialDelaySeconds", Node::int(5));
    m.insert("periodSeconds", Node::int(10));
    m.insert("timeoutSeconds", Node::int(5));
    m.insert("failureThreshold", Node::int(3));
    m.insert("successThreshold", Node::int(1));
    Node::Map(m)
}

/// The pip step, in Python (no shell): every distribution the image's Python has is written as
/// a constraint (`name==version`, sorted; `importlib.metadata`, the first of a name on
/// `sys.path`), but for `--lift` names, then pip installs each requirement as its own argument
/// into `--target` with those constraints, so a package that would replace a version Locust
/// runs with fails here, named by pip. `local` runs the same text with its own Python.
pub const PIP_INSTALL_SCRIPT: &str = r#"import argparse, importlib.metadata, re, subprocess, sys
p = argparse.ArgumentParser(prog="locust-planton pip step")
p.add_argument("--target", required=True)
p.add_argument("--constraints", required=True)
p.add_argument("--lift", action="append", default=[])
p.add_argument("requirements", nargs="+")
a = p.parse_args()
def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()
lift = sorted({norm(n) for n in a.lift})
pins = {}
for d in importlib.metadata.distributions():
    name = (d.metadata or {}).get("Name")
    if name and d.version and norm(name) not in lift:
        pins.setdefault(norm(name), d.version)
pep440 = re.compile(r"([0-9]+!)?[0-9]+(\.[0-9]+)*((a|b|rc)[0-9]+)?(\.post[0-9]+)?(\.dev[0-9]+)?(\+[a-z0-9]+(\.[a-z0-9]+)*)?", re.I)
with open(a.constraints, "w") as f:
    for name, version in sorted(pins.items()):
        f.write(name + ("==" if pep440.fullmatch(version) else "===") + version + "\n")
print("locust-planton: pip installs with the %d distributions installed here as constraints (%s)%s" % (len(pins), a.constraints, "; not constrained (spec.loadTest.pipLiftPins): " + ", ".join(lift) if lift else ""), flush=True)
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check", "--no-input", "--target", a.target, "--constraint", a.constraints, "--"] + a.requirements))
"#;

/// Where the pip step writes its constraints: the init container's `/tmp` emptyDir.
pub const PIP_CONSTRAINTS: &str = "/tmp/locust-planton-pip-constraints.txt";

/// The pip init container: [`PIP_INSTALL_SCRIPT`] run by the image's Python, each requirement
/// its own argument (no shell), into an emptyDir.
fn pip_init_container(packages: &[String], lift: &[String], image: &str) -> Node {
    let mut command: Vec<Node> = [
        crate::contract::PYTHON_BIN,
        "-c",
        PIP_INSTALL_SCRIPT,
        "--target",
        PIP_TARGET,
        "--constraints",
        PIP_CONSTRAINTS,
    ]
    .into_iter()
    .map(Node::string)
    .collect();
    for l in lift {
        command.push(Node::string("--lift"));
        command.push(Node::string(l));
    }
    command.push(Node::string("--"));
    command.extend(packages.iter().map(Node::string));
    let mut env_home = Map::default();
    env_home.insert("name", Node::string("HOME"));
    env_home.insert("value", Node::string(TMP_VOLUME.1));
    let mut m = Map::default();
    m.insert("name", Node::string(PIP_INIT_CONTAINER));
    m.insert("image", Node::string(image));
    m.insert("imagePullPolicy", Node::string("IfNotPresent"));
    m.insert("command", Node::Seq(command));
    m.insert("env", Node::Seq(vec![Node::Map(env_home)]));
    m.insert("securityContext", container_security_context(RUN_AS_USER));
    m.insert(
        "volumeMounts",
        Node::Seq(vec![
            mount(PIP_VOLUME.0, PIP_VOLUME.1),
            mount(TMP_VOLUME.0, TMP_VOLUME.1),
        ]),
    );
    Node::Map(m)
}

fn empty_dir(name: &str) -> Node {
    let mut m = Map::default();
    m.insert("name", Node::string(name));
    m.insert("emptyDir", Node::map());
    Node::Map(m)
}

fn mount(name: &str, path: &str) -> Node {
    let mut m = Map::default();
    m.insert("name", Node::string(name));
    m.insert("mountPath", Node::string(path));
    Node::Map(m)
}

fn ingress_values(host: &str) -> Node {
    let mut h = Map::default();
    h.insert("host", Node::string(host));
    h.insert("path", Node::string("/"));
    h.insert("pathType", Node::string("Prefix"));
    let mut m = Map::default();
    m.insert("enabled", Node::bool(true));
    m.insert("hosts", Node::Seq(vec![Node::Map(h)]));
    Node::Map(m)
}

/// `extraObjects` items go through Helm's `tpl`: every `{{` in a string becomes the template
/// action {{`{{`}}, which renders as `{{` again.
pub fn escape_tpl(node: Node) -> Node {
    match node {
        Node::Scalar(mut s) => {
            if s.text.contains("{{") {
                s.text = s.text.replace("{{", "{{`{{`}}");
            }
            Node::Scalar(s)
        }
        Node::Seq(items) => Node::Seq(items.into_iter().map(escape_tpl).collect()),
        Node::Map(m) => {
            let mut out = Map::default();
            for (k, v) in m.iter() {
                out.insert_node(escape_tpl(k.clone()), escape_tpl(v.clone()));
            }
            Node::Map(out)
        }
    }
}

fn warn_about_overrides(overrides: &[(String, String)], d: &mut Findings) {
    for (path, raw) in overrides {
        let at = crate::diag::join("spec.helmValues", path);
        let enabled = matches!(raw.trim(), "true" | "True" | "TRUE" | "yes" | "on");
        if (path == "worker.hpa.enabled" || path == "worker.keda.enabled") && enabled {
            d.warn(
                at,
                "worker autoscaling reacts only after load has started: new workers join mid-test and Locust rebalances users onto them, so the ramp-up is uneven; size `spec.workerContainer.replicas` for the test instead (static pre-scaling)",
            );
        } else if matches!(
            path.as_str(),
            "loadtest.tags"
                | "loadtest.excludeTags"
                | "loadtest.pip_packages"
                | "master.command"
                | "worker.command"
                | "loadtest.locustCmd"
        ) {
            d.warn(
                at,
                "locust-planton runs Locust without the chart's shell entrypoint and installs packages with its own init container; this value would not take effect as the chart documents",
            );
        }
    }
}

/// The values as YAML text, with a header naming the chart they are for.
pub fn render_values(values: &Node) -> String {
    let lock = chart_lock();
    format!(
        "# Values for chart {} {} ({}), generated by locust-planton {}.\n{}",
        lock.name,
        lock.version,
        lock.repository,
        env!("CARGO_PKG_VERSION"),
        crate::yaml::emit_document(values)
    )
}

/// The script ConfigMaps as a multi-document manifest stream, in the spec's namespace when it
/// names one (for `kubectl apply`; inside a release Helm sets the namespace).
pub fn render_configmaps(spec: &LoadTestSpec, configmaps: &[ScriptConfigMap]) -> String {
    configmaps
        .iter()
        .map(|c| {
            let mut cm = c.manifest(spec);
            if let (Some(ns), Some(meta)) = (
                spec.namespace_value(),
                cm.as_map_mut()
                    .and_then(|m| m.get_mut("metadata"))
                    .and_then(Node::as_map_mut),
            ) {
                meta.insert("namespace", Node::string(ns));
            }
            format!("---\n{}", crate::yaml::emit_document(&cm))
        })
        .collect()
}

/// Writes the image into the values (after `spec.helmValues`, so the resolution wins).
fn write_image(values: &mut Node, image: &image::LocustImage) {
    if let Some((repository, tag)) = &image.repository_tag {
        helm_values::set_path(values, "image.repository", Node::string(repository));
        helm_values::set_path(values, "image.tag", Node::string(tag));
    }
    if image.per_component {
        for role in ["master", "worker"] {
            helm_values::set_path(values, &format!("{role}.image"), Node::string(&image.image));
        }
    }
}
