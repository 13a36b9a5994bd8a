//! The pinned DeliveryHero chart (locust 0.35.0), modelled: the master and worker Deployments
//! its templates render from a set of values (metadata, and the pod template whole: labels,
//! annotations, service account, security contexts, init containers, the `locust` container
//! with its image, command, args, env, mounts, ports and probes, volumes, scheduling), and for
//! each field the chart value that set it. Every consumer of "what the chart renders" reads
//! this one model: the before-Helm check judges its objects with the policy, Flux builds its
//! patches from their containers, `local` runs their hardened containers, and the pod paths a
//! user can set are read off their mounts. `tests/chart_model.rs` compares it with every
//! recorded real render in `fixtures/reference/`.
//!
//! Not modelled: the `checksum/*` pod annotations (hashes of the chart's other templates'
//! renders); the Deployment's `spec` outside its pod template.

mod defaults;
pub mod go;

pub use defaults::{DEFAULTS, defaults};

use crate::yaml::{Map, Node};
use go::{bare, text, truthy};

/// The name of the chart's one container in each pod (`.Chart.Name`).
pub const CONTAINER: &str = "locust";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Master,
    Worker,
}

impl Role {
    pub const BOTH: [Role; 2] = [Role::Master, Role::Worker];

    /// The role's key in the values (`master`, `worker`), also its Deployment's suffix.
    pub fn key(self) -> &'static str {
        match self {
            Role::Master => "master",
            Role::Worker => "worker",
        }
    }
}

/// Where a field of a rendered object comes from: the chart value that sets it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// The field path in the object (`spec.template.spec.volumes[3]`).
    pub field: String,
    /// The chart value path (`master.extraVolumes[0]`).
    pub value: String,
    /// Whether the field holds the value as given (the same YAML below it), not text made from
    /// it (`"{{ path }}/lib"`).
    pub exact: bool,
}

/// One rendered Deployment and where its fields come from.
#[derive(Clone, Debug, PartialEq)]
pub struct Rendered {
    pub role: Role,
    pub object: Node,
    pub sources: Vec<Source>,
}

impl Rendered {
    /// The chart value that sets `field` (an object field path), and the rest of the path below
    /// it (`.runAsUser`, `[0].hostPath`): the longest source that is a prefix of the field.
    pub fn value_of(&self, field: &str) -> Option<(&Source, String)> {
        self.sources
            .iter()
            .filter(|s| {
                field == s.field
                    || field
                        .strip_prefix(&s.field)
                        .is_some_and(|rest| rest.starts_with(['.', '[']))
            })
            .max_by_key(|s| s.field.len())
            .map(|s| (s, field[s.field.len()..].to_string()))
    }

    /// The pod spec of the template.
    pub fn pod_spec(&self) -> Option<&Node> {
        self.object.get_path(&["spec", "template", "spec"])
    }
}

/// The chart's release-wide names for these values.
struct Names {
    fullname: String,
    name: String,
    release: String,
}

fn names(v: &Node, release: &str) -> Names {
    let name = go::dns_name(&non_empty(v, &["nameOverride"]).unwrap_or_else(|| CONTAINER.into()));
    let fullname = match non_empty(v, &["fullnameOverride"]) {
        Some(f) => go::dns_name(&f),
        // Sprig's `contains $name .Release.Name`: the release name already holds the chart's.
        None if release.contains(&name) => go::dns_name(release),
        None => go::dns_name(&format!("{release}-{name}")),
    };
    Names {
        fullname,
        name,
        release: release.to_string(),
    }
}

fn non_empty(v: &Node, path: &[&str]) -> Option<String> {
    truthy(v.get_path(path)).then(|| text(v.get_path(path)))
}

/// The master or worker Deployment the chart renders from `given` (the values handed to Helm,
/// coalesced here over the chart's defaults) for release `release`.
pub fn render(given: &Node, release: &str, role: Role) -> Rendered {
    let v = go::coalesce(defaults(), given);
    let names = names(&v, release);
    let mut b = Builder {
        v: &v,
        role,
        r: role.key(),
        names: &names,
        sources: Vec::new(),
    };
    let object = b.deployment();
    Rendered {
        role,
        object,
        sources: b.sources,
    }
}

/// Both Deployments, master first.
pub fn render_both(given: &Node, release: &str) -> [Rendered; 2] {
    Role::BOTH.map(|role| render(given, release, role))
}

struct Builder<'a> {
    v: &'a Node,
    role: Role,
    r: &'static str,
    names: &'a Names,
    sources: Vec<Source>,
}

const TEMPLATE: &str = "spec.template";
const POD: &str = "spec.template.spec";
const MAIN: &str = "spec.template.spec.containers[0]";

impl<'a> Builder<'a> {
    fn get(&self, path: &str) -> Option<&'a Node> {
        let parts: Vec<&str> = path.split('.').collect();
        self.v.get_path(&parts)
    }

    fn role_path(&self, key: &str) -> String {
        format!("{}.{key}", self.r)
    }

    fn source(&mut self, field: impl Into<String>, value: impl Into<String>, exact: bool) {
        self.sources.push(Source {
            field: field.into(),
            value: value.into(),
            exact,
        });
    }

    /// A value copied whole (`toYaml`) into `field` when `value` is true in Go.
    fn copied(&mut self, m: &mut Map, key: &str, at: &str, value: &str) {
        if let Some(node) = self.get(value).filter(|n| truthy(Some(n))).cloned() {
            self.source(format!("{at}.{key}"), value, true);
            m.insert(key, node);
        }
    }

    /// A value copied whole, whatever it holds (`toYaml` with no `if`).
    fn copied_always(&mut self, m: &mut Map, key: &str, at: &str, value: &str) {
        let node = self.get(value).cloned().unwrap_or_else(Node::null);
        self.source(format!("{at}.{key}"), value, true);
        m.insert(key, node);
    }

    /// A role's value, else the release-wide one (`nodeSelector`, `affinity`, `tolerations`).
    fn scheduling(&mut self, m: &mut Map, key: &str) {
        let own = self.role_path(key);
        if truthy(self.get(&own)) {
            self.copied(m, key, POD, &own);
        } else {
            self.copied(m, key, POD, key);
        }
    }

    fn deployment(&mut self) -> Node {
        let mut meta = Map::default();
        meta.insert(
            "name",
            Node::string(format!("{}-{}", self.names.fullname, self.r)),
        );
        meta.insert("labels", self.labels());
        self.copied(
            &mut meta,
            "annotations",
            "metadata",
            &self.role_path("deploymentAnnotations"),
        );
        let template = Node::map_of(vec![
            ("metadata", self.template_metadata()),
            ("spec", self.pod()),
        ]);
        Node::map_of(vec![
            ("apiVersion", Node::string("apps/v1")),
            ("kind", Node::string("Deployment")),
            ("metadata", Node::Map(meta)),
            ("spec", Node::map_of(vec![("template", template)])),
        ])
    }

    /// `locust.labels`: the role, the chart, the selector labels, the version, `extraLabels`.
    fn labels(&mut self) -> Node {
        let lock = crate::lock::chart_lock();
        let mut m = Map::default();
        m.insert("component", Node::string(self.r));
        m.insert(
            "helm.sh/chart",
            bare(go::dns_name(
                &format!("{}-{}", lock.name, lock.version).replace('+', "_"),
            )),
        );
        m.insert("app.kubernetes.io/name", bare(&self.names.name));
        m.insert("app.kubernetes.io/instance", bare(&self.names.release));
        m.insert("load_test", bare(text(self.get("loadtest.name"))));
        m.insert("app.kubernetes.io/version", Node::string(&lock.app_version));
        m.insert("app.kubernetes.io/managed-by", bare("Helm"));
        for (k, value) in sorted(self.get("extraLabels")) {
            m.insert(&k, Node::string(text(Some(value))));
        }
        Node::Map(m)
    }

    fn template_metadata(&mut self) -> Node {
        let mut m = Map::default();
        let at = format!("{TEMPLATE}.metadata");
        self.copied(&mut m, "annotations", &at, &self.role_path("annotations"));
        m.insert("labels", self.labels());
        Node::Map(m)
    }

    fn pod(&mut self) -> Node {
        let mut m = Map::default();
        self.copied(&mut m, "imagePullSecrets", POD, "imagePullSecrets");
        self.copied_always(&mut m, "securityContext", POD, "podSecurityContext");
        m.insert(
            "serviceAccountName",
            bare(format!("{}-{}", self.names.fullname, self.r)),
        );
        if self.role == Role::Master {
            let grace = text(self.get("master.terminationGracePeriodSeconds"));
            m.insert("terminationGracePeriodSeconds", bare(grace));
        }
        self.copied(&mut m, "hostAliases", POD, "hostAliases");
        self.copied(
            &mut m,
            "initContainers",
            POD,
            &self.role_path("initContainers"),
        );
        let main = self.container();
        m.insert("containers", Node::Seq(vec![main]));
        let restart = text(self.get(&self.role_path("restartPolicy")));
        m.insert("restartPolicy", bare(restart));
        let volumes = self.volumes();
        m.insert("volumes", Node::Seq(volumes));
        for key in ["nodeSelector", "affinity", "tolerations"] {
            self.scheduling(&mut m, key);
        }
        Node::Map(m)
    }

    fn container(&mut self) -> Node {
        let mut m = Map::default();
        m.insert("name", bare(CONTAINER));
        self.copied_always(&mut m, "securityContext", MAIN, "securityContext");
        m.insert("image", Node::string(self.image()));
        self.copied(&mut m, "command", MAIN, &self.role_path("command"));
        let args = self.args();
        m.insert("args", Node::Seq(args));
        m.insert("imagePullPolicy", bare(text(self.get("image.pullPolicy"))));
        self.copied_always(&mut m, "resources", MAIN, &self.role_path("resources"));
        if self.role == Role::Worker {
            self.copied(&mut m, "ports", MAIN, "worker.ports");
        }
        let mounts = self.mounts();
        m.insert("volumeMounts", Node::Seq(mounts));
        if let Some(env) = self.env() {
            m.insert("env", Node::Seq(env));
        }
        let from = self.env_from();
        if !from.is_empty() {
            m.insert("envFrom", Node::Seq(from));
        }
        if self.role == Role::Master {
            let ports = self.master_ports();
            m.insert("ports", Node::Seq(ports));
            for probe in [
                "readinessProbe",
                "livenessProbe",
                "startupProbe",
                "lifecycle",
            ] {
                self.copied(&mut m, probe, MAIN, &format!("master.{probe}"));
            }
        }
        Node::Map(m)
    }

    fn image(&self) -> String {
        let own = self.role_path("image");
        if truthy(self.get(&own)) {
            text(self.get(&own))
        } else {
            format!(
                "{}:{}",
                text(self.get("image.repository")),
                text(self.get("image.tag"))
            )
        }
    }

    /// Items of a list value appended to `out` at `field[start..]`, each named as its item.
    fn items(&mut self, out: &mut Vec<Node>, field: &str, value: &str) {
        let items = self
            .get(value)
            .and_then(Node::as_seq)
            .cloned()
            .unwrap_or_default();
        for (i, item) in items.into_iter().enumerate() {
            self.source(
                format!("{field}[{}]", out.len()),
                format!("{value}[{i}]"),
                true,
            );
            out.push(item);
        }
    }

    fn args(&mut self) -> Vec<Node> {
        let at = format!("{MAIN}.args");
        let mut out = vec![bare(format!("--{}", self.r))];
        if truthy(self.get(&self.role_path("args"))) {
            let value = self.role_path("args");
            self.items(&mut out, &at, &value);
        }
        if self.role == Role::Worker {
            return out;
        }
        if truthy(self.get("loadtest.headless")) {
            out.push(bare("--headless"));
        }
        let port = text(self.get("service.targetPort"));
        if port != "8089" {
            self.source(format!("{at}[{}]", out.len()), "service.targetPort", false);
            out.push(bare(format!("--web-port {port}")));
        }
        if truthy(self.get("master.auth.enabled")) {
            out.push(self.auth_arg());
        }
        for (value, flag) in [
            ("loadtest.tags", "--tags"),
            ("loadtest.excludeTags", "--exclude-tags"),
        ] {
            if truthy(self.get(value)) {
                self.source(format!("{at}[{}]", out.len()), value, false);
                out.push(bare(format!("{flag} {}", text(self.get(value)))));
            }
        }
        out
    }

    /// `--web-login` for Locust 2.21 and later (any of the three image tags), else the old
    /// `--web-auth=USER:PASSWORD`.
    fn auth_arg(&self) -> Node {
        let new = ["image.tag", "master.image.tag", "worker.image.tag"]
            .iter()
            .any(|p| go::at_least(&text(self.get(p)), (2, 21, 0)));
        if new {
            bare("--web-login")
        } else {
            bare(format!(
                "--web-auth={}:{}",
                text(self.get("master.auth.username")),
                text(self.get("master.auth.password"))
            ))
        }
    }

    fn mounts(&mut self) -> Vec<Node> {
        let at = format!("{MAIN}.volumeMounts");
        let mut out = Vec::new();
        let path = text(self.get("loadtest.locust_locustfile_path"));
        let script_mounts = [
            (
                "loadtest.locust_locustfile_configmap",
                "locustfile",
                path.clone(),
                "loadtest.locust_locustfile_path",
                true,
            ),
            (
                "loadtest.locust_lib_configmap",
                "lib",
                format!("{path}/lib"),
                "loadtest.locust_locustfile_path",
                false,
            ),
            (
                "loadtest.pip_requirementsfile_configmap",
                "packages",
                text(self.get("loadtest.locust_requirementsfile_path")),
                "loadtest.locust_requirementsfile_path",
                true,
            ),
        ];
        for (when, name, mount_path, value, exact) in script_mounts {
            if truthy(self.get(when)) {
                self.source(format!("{at}[{}].mountPath", out.len()), value, exact);
                out.push(mount(bare(name), Node::string(mount_path)));
            }
        }
        out.push(mount(bare("config"), bare("/config")));
        for (k, value) in sorted(self.get("extraConfigMaps")) {
            let field = format!("{at}[{}].mountPath", out.len());
            self.source(field, format!("extraConfigMaps.{k}"), true);
            out.push(mount(bare(&k), bare(text(Some(value)))));
        }
        let extra = self.role_path("extraVolumeMounts");
        if truthy(self.get(&extra)) {
            self.items(&mut out, &at, &extra);
        }
        if truthy(self.get("loadtest.mount_external_secret")) {
            let value = "loadtest.mount_external_secret.mountPath";
            self.source(format!("{at}[{}].mountPath", out.len()), value, true);
            let mut m = Map::default();
            m.insert("name", bare("external-secrets"));
            m.insert("mountPath", bare(text(self.get(value))));
            m.insert("readOnly", bare("true"));
            out.push(Node::Map(m));
        }
        out
    }

    fn env(&mut self) -> Option<Vec<Node>> {
        let own_env = self.role_path("environment");
        let shared = "loadtest.environment";
        let defaults = truthy(self.get(&self.role_path("envs_include_default")));
        let any = defaults
            || [
                shared,
                &own_env,
                "loadtest.environment_secret",
                "loadtest.environment_external_secret",
            ]
            .iter()
            .any(|p| truthy(self.get(p)));
        if !any {
            return None;
        }
        let mut out = Vec::new();
        if defaults {
            out.extend(self.default_env());
        }
        // The master lists the release-wide variables first, the worker its own first; a name
        // in both takes the later value.
        let order = match self.role {
            Role::Master => [shared, own_env.as_str()],
            Role::Worker => [own_env.as_str(), shared],
        };
        for value in order {
            for (k, v) in sorted(self.get(value)) {
                let field = format!("{MAIN}.env[{}].value", out.len());
                self.source(field, format!("{value}.{k}"), false);
                out.push(Node::map_of(vec![
                    ("name", bare(&k)),
                    ("value", Node::string(text(Some(v)))),
                ]));
            }
        }
        let secret = self.names.fullname.clone();
        for (k, _) in sorted(self.get("loadtest.environment_secret")) {
            out.push(secret_env(&k, &secret, &k));
        }
        for (k, names) in sorted(self.get("loadtest.environment_external_secret")) {
            for name in each(names) {
                let name = text(Some(name));
                out.push(secret_env(&name, &k, &name));
            }
        }
        Some(out)
    }

    /// The chart's own variables (`envs_include_default`).
    fn default_env(&self) -> Vec<Node> {
        let path = text(self.get("loadtest.locust_locustfile_path"));
        let file = text(self.get("loadtest.locust_locustfile"));
        let host = ("LOCUST_HOST", text(self.get("loadtest.locust_host")));
        let level = (
            "LOCUST_LOGLEVEL",
            text(self.get(&self.role_path("logLevel"))),
        );
        let locustfile = ("LOCUST_LOCUSTFILE", format!("{path}/{file}"));
        let vars = match self.role {
            Role::Master => vec![host, level, locustfile],
            Role::Worker => vec![
                host,
                ("LOCUST_MASTER_NODE_HOST", self.names.fullname.clone()),
                ("LOCUST_MASTER_NODE_PORT", "5557".into()),
                level,
                locustfile,
            ],
        };
        vars.into_iter()
            .map(|(name, value)| {
                Node::map_of(vec![("name", bare(name)), ("value", Node::string(value))])
            })
            .collect()
    }

    fn env_from(&self) -> Vec<Node> {
        let secrets = self.get("loadtest.environment_load_from_secrets");
        if !truthy(secrets) {
            return Vec::new();
        }
        each(secrets.unwrap_or(&Node::null()))
            .map(|name| {
                Node::map_of(vec![(
                    "secretRef",
                    Node::map_of(vec![("name", bare(text(Some(name))))]),
                )])
            })
            .collect()
    }

    fn master_ports(&mut self) -> Vec<Node> {
        let web = text(self.get("service.targetPort"));
        let mut out: Vec<Node> = [
            (bare(web), "loc-master-web"),
            (bare("5557"), "loc-master-p1"),
            (bare("5558"), "loc-master-p2"),
        ]
        .into_iter()
        .map(|(port, name)| {
            Node::map_of(vec![
                ("containerPort", port),
                ("name", bare(name)),
                ("protocol", bare("TCP")),
            ])
        })
        .collect();
        if truthy(self.get("master.extraPorts")) {
            self.items(&mut out, &format!("{MAIN}.ports"), "master.extraPorts");
        }
        out
    }

    fn volumes(&mut self) -> Vec<Node> {
        let at = format!("{POD}.volumes");
        let mut out = Vec::new();
        for (when, name) in [
            ("loadtest.locust_lib_configmap", "lib"),
            ("loadtest.locust_locustfile_configmap", "locustfile"),
            ("loadtest.pip_requirementsfile_configmap", "packages"),
        ] {
            if truthy(self.get(when)) {
                out.push(config_map(name, bare(text(self.get(when)))));
            }
        }
        let config = format!("{}-config", self.names.fullname);
        out.push(config_map("config", bare(config)));
        for (k, _) in sorted(self.get("extraConfigMaps")) {
            out.push(config_map(&k, bare(&k)));
        }
        let extra = self.role_path("extraVolumes");
        if truthy(self.get(&extra)) {
            self.items(&mut out, &at, &extra);
        }
        if truthy(self.get("loadtest.mount_external_secret")) {
            out.push(self.external_secret_volume());
        }
        out
    }

    fn external_secret_volume(&self) -> Node {
        let mut sources = Vec::new();
        for (secret, keys) in sorted(self.get("loadtest.mount_external_secret.files")) {
            for key in each(keys) {
                let key = bare(text(Some(key)));
                let item = Node::map_of(vec![("key", key.clone()), ("path", key)]);
                sources.push(Node::map_of(vec![(
                    "secret",
                    Node::map_of(vec![
                        ("name", bare(&secret)),
                        ("items", Node::Seq(vec![item])),
                    ]),
                )]));
            }
        }
        Node::map_of(vec![
            ("name", bare("external-secrets")),
            (
                "projected",
                Node::map_of(vec![("sources", Node::Seq(sources))]),
            ),
        ])
    }
}

fn mount(name: Node, path: Node) -> Node {
    Node::map_of(vec![("name", name), ("mountPath", path)])
}

fn config_map(name: &str, config_map: Node) -> Node {
    Node::map_of(vec![
        ("name", bare(name)),
        ("configMap", Node::map_of(vec![("name", config_map)])),
    ])
}

fn secret_env(name: &str, secret: &str, key: &str) -> Node {
    Node::map_of(vec![
        ("name", bare(name)),
        (
            "valueFrom",
            Node::map_of(vec![(
                "secretKeyRef",
                Node::map_of(vec![("name", bare(secret)), ("key", bare(key))]),
            )]),
        ),
    ])
}

/// A mapping's entries in key order, as Go's `range` gives them.
fn sorted(node: Option<&Node>) -> Vec<(String, &Node)> {
    let mut entries: Vec<(String, &Node)> = node
        .and_then(Node::as_map)
        .map(|m| m.iter().map(|(k, v)| (k.key_text(), v)).collect())
        .unwrap_or_default();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries
}

/// What Go's `range` gives over a list (its items) or a mapping (its values in key order).
fn each(node: &Node) -> Box<dyn Iterator<Item = &Node> + '_> {
    match node {
        Node::Seq(items) => Box::new(items.iter()),
        Node::Map(_) => Box::new(sorted(Some(node)).into_iter().map(|(_, v)| v)),
        Node::Scalar(_) => Box::new(std::iter::empty()),
    }
}

#[cfg(test)]
mod tests;
