//! One Locust image for every container that runs Locust or installs packages for it: master,
//! workers, both pip init containers (and so the headless wrapper, which runs in master and
//! workers). Packages installed by one Python and imported by another break in subtle ways, and
//! a test should run the Locust its spec names.
//!
//! Precedence: `spec.loadTest.locustVersion` (the tag; `image.repository` still chooses the
//! registry) wins; otherwise `master.image`/`worker.image` (the chart's per-component full image
//! strings), otherwise `image.repository:image.tag`, otherwise the chart's default image. The
//! Locust version is known when the image is `locustio/locust` with an `X.Y.Z` tag (or from
//! `locustVersion`); a custom image or a digest is used as given, its Locust unknown.

use crate::diag::{Findings, join};
use crate::lock::chart_lock;
use crate::spec::LoadTestSpec;
use crate::spec::extensions::{release_key, valid_release};
use crate::yaml::{Node, parse_document};

const LOCUST_REPOSITORY: &str = "locustio/locust";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocustImage {
    /// The full reference every container uses.
    pub image: String,
    /// `image.repository` / `image.tag` for the chart (None for a digest-only reference).
    pub repository_tag: Option<(String, String)>,
    /// The chart's per-component strings must carry the image too (a component override was
    /// given, or the reference has no tag to split).
    pub per_component: bool,
    /// The Locust release inside, when known.
    pub version: Option<String>,
}

/// The overrides of the image in `spec.helmValues`, as their text.
#[derive(Default)]
struct Overrides {
    repository: Option<String>,
    tag: Option<String>,
    master: Option<String>,
    worker: Option<String>,
}

fn scalar_text(n: &Node) -> Option<String> {
    n.as_scalar()
        .map(|s| s.text.trim().to_string())
        .filter(|t| !t.is_empty())
}

fn overrides(spec: &LoadTestSpec) -> Overrides {
    let mut o = Overrides::default();
    for (path, raw) in &spec.helm_values {
        let Ok(Some(node)) = parse_document(raw) else {
            continue;
        };
        // Later entries win, as when Helm merges them.
        match path.as_str() {
            "image" => {
                if let Some(r) = node.get_path(&["repository"]).and_then(scalar_text) {
                    o.repository = Some(r);
                }
                if let Some(t) = node.get_path(&["tag"]).and_then(scalar_text) {
                    o.tag = Some(t);
                }
            }
            "image.repository" => o.repository = scalar_text(&node),
            "image.tag" => o.tag = scalar_text(&node),
            // Empty means "not set" to the chart (`if .Values.master.image`).
            "master.image" => o.master = scalar_text(&node),
            "worker.image" => o.worker = scalar_text(&node),
            _ => {}
        }
    }
    o
}

/// (name, tag, digest) of an image reference: the tag is after the last `:` that follows the last
/// `/` (a registry port is not a tag).
fn split_reference(image: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    let slash = rest.rfind('/').map_or(0, |i| i + 1);
    match rest[slash..].rfind(':') {
        Some(i) => (&rest[..slash + i], Some(&rest[slash + i + 1..]), digest),
        None => (rest, None, digest),
    }
}

/// The Locust release of an image: `locustio/locust` (on Docker Hub, however spelled) with a
/// release tag and no digest.
pub fn locust_version_of(image: &str) -> Option<String> {
    let (name, tag, digest) = split_reference(image);
    let name = name
        .trim_start_matches("docker.io/")
        .trim_start_matches("index.docker.io/");
    (digest.is_none() && name == LOCUST_REPOSITORY)
        .then_some(tag?)
        .filter(|t| valid_release(t))
        .map(str::to_string)
}

/// `reference` as pulled from the image mirror `registry` (`HOST[:PORT][/PATH]`): the mirror
/// takes the place of the reference's own registry host (`ghcr.io/a/b:1` →
/// `MIRROR/a/b:1`), or is put in front when it names none, i.e. Docker Hub
/// (`locustio/locust:2.32.2` → `MIRROR/locustio/locust:2.32.2`); `docker.io/` and
/// `docker.io/library/` spellings give the same path as the short one. The path, tag and digest
/// are kept, as `oras copy` or `crane copy` into `MIRROR/<path>` store them.
pub fn mirrored(reference: &str, registry: &str) -> String {
    let registry = registry.trim_end_matches('/');
    let path = match reference.split_once('/') {
        Some((first, rest)) if names_a_registry(first) => rest,
        _ => reference,
    };
    let path = path.strip_prefix("library/").unwrap_or(path);
    format!("{registry}/{path}")
}

/// Whether the first component of a reference is a registry host (Docker's rule: it has a
/// `.` or a `:`, or is `localhost`).
fn names_a_registry(first: &str) -> bool {
    first.contains(['.', ':']) || first == "localhost"
}

/// Points every image in chart values at the mirror `registry`: `image.repository`,
/// `master.image`/`worker.image` when set, and the `image` of every item of a `containers` or
/// `initContainers` list anywhere in them (the pip init containers, the exporter in
/// `extraObjects`, containers from `helmValues`).
pub fn mirror_values(values: &mut Node, registry: &str) {
    let rewrite = |n: &mut Node| {
        if let Some(text) = n.as_str().filter(|t| !t.trim().is_empty()) {
            *n = Node::string(mirrored(text.trim(), registry));
        }
    };
    if let Some(map) = values.as_map_mut() {
        if let Some(repo) = map
            .get_mut("image")
            .and_then(Node::as_map_mut)
            .and_then(|i| i.get_mut("repository"))
        {
            rewrite(repo);
        }
        for role in ["master", "worker"] {
            if let Some(image) = map
                .get_mut(role)
                .and_then(Node::as_map_mut)
                .and_then(|r| r.get_mut("image"))
            {
                rewrite(image);
            }
        }
    }
    mirror_containers(values, &rewrite);
}

/// The `image` of every item of every `containers`/`initContainers` list under `node`.
fn mirror_containers(node: &mut Node, rewrite: &impl Fn(&mut Node)) {
    match node {
        Node::Map(map) => {
            let keys: Vec<String> = map.iter().map(|(k, _)| k.key_text()).collect();
            for key in keys {
                let Some(child) = map.get_mut(&key) else {
                    continue;
                };
                if matches!(key.as_str(), "containers" | "initContainers")
                    && let Some(items) = child.as_seq_mut()
                {
                    for item in items.iter_mut() {
                        if let Some(image) = item.as_map_mut().and_then(|c| c.get_mut("image")) {
                            rewrite(image);
                        }
                    }
                }
                mirror_containers(child, rewrite);
            }
        }
        Node::Seq(items) => items.iter_mut().for_each(|i| mirror_containers(i, rewrite)),
        Node::Scalar(_) => {}
    }
}

pub fn resolve(spec: &LoadTestSpec, d: &mut Findings) -> LocustImage {
    let lock = chart_lock();
    let (default_repo, _, _) = split_reference(&lock.image);
    let o = overrides(spec);
    let repository = o.repository.clone().unwrap_or(default_repo.to_string());
    let resolved = match &spec.extensions.locust_version {
        Some(v) => from_locust_version(v, repository, &o, d),
        None => from_overrides(repository, &o, &lock.app_version, d),
    };
    if let Some(v) = &resolved.version
        && release_key(v) < release_key(&lock.app_version)
    {
        d.warn(
            older_version_at(spec, &o),
            format!(
                "Locust {v} is older than {}, the version chart {} {} is tested with; its flags and locust-planton's headless wrapper may not work with it",
                lock.app_version, lock.name, lock.version
            ),
        );
    }
    resolved
}

fn helm_value(key: &str) -> String {
    join("spec.helmValues", key)
}

/// `locustVersion` decides the tag; the overrides it makes moot are warned about.
fn from_locust_version(
    v: &str,
    repository: String,
    o: &Overrides,
    d: &mut Findings,
) -> LocustImage {
    for (given, key) in [
        (o.tag.as_ref().filter(|t| *t != v), "image.tag"),
        (o.master.as_ref(), "master.image"),
        (o.worker.as_ref(), "worker.image"),
    ] {
        if let Some(given) = given {
            d.warn(
                helm_value(key),
                format!("`{given}` is not used: spec.loadTest.locustVersion ({v}) decides the image of every Locust container ({repository}:{v})"),
            );
        }
    }
    LocustImage {
        image: format!("{repository}:{v}"),
        repository_tag: Some((repository, v.to_string())),
        per_component: o.master.is_some() || o.worker.is_some(),
        version: Some(v.to_string()),
    }
}

/// Without `locustVersion`: a component's full image, else `repository:tag` (the chart's
/// `appVersion` for a missing tag); master and workers must not differ.
fn from_overrides(
    repository: String,
    o: &Overrides,
    app_version: &str,
    d: &mut Findings,
) -> LocustImage {
    if let (Some(m), Some(w)) = (&o.master, &o.worker)
        && m != w
    {
        d.error(
            helm_value("worker.image"),
            format!("`{w}` differs from master.image `{m}`: master, workers and the pip init containers run one Locust image; set one of them, image.repository/image.tag, or spec.loadTest.locustVersion"),
        );
    }
    let tag = o.tag.clone().unwrap_or(app_version.to_string());
    let image = o
        .master
        .clone()
        .or(o.worker.clone())
        .unwrap_or(format!("{repository}:{tag}"));
    let (name, tag, digest) = split_reference(&image);
    let repository_tag = match (tag, digest) {
        (Some(t), None) => Some((name.to_string(), t.to_string())),
        _ => None,
    };
    LocustImage {
        per_component: o.master.is_some() || o.worker.is_some() || repository_tag.is_none(),
        version: locust_version_of(&image),
        repository_tag,
        image,
    }
}

/// The field that chose the Locust release of `spec`: where findings about the release go.
pub fn version_field(spec: &LoadTestSpec) -> String {
    older_version_at(spec, &overrides(spec))
}

/// The field that chose the version: where a too-old Locust is reported.
fn older_version_at(spec: &LoadTestSpec, o: &Overrides) -> String {
    if spec.extensions.locust_version.is_some() {
        "spec.loadTest.locustVersion".to_string()
    } else if o.master.is_some() {
        helm_value("master.image")
    } else if o.worker.is_some() {
        helm_value("worker.image")
    } else {
        helm_value("image.tag")
    }
}

#[cfg(test)]
mod mirror_tests {
    use super::*;

    /// (what the row shows, reference, mirror, the mirrored reference).
    #[test]
    fn mirrored_references() {
        let rows: &[(&str, &str, &str, &str)] = &[
            (
                "Docker Hub, short",
                "locustio/locust:2.32.2",
                "mirror.example/hub",
                "mirror.example/hub/locustio/locust:2.32.2",
            ),
            (
                "Docker Hub, spelled out",
                "docker.io/locustio/locust:2.32.2",
                "mirror.example",
                "mirror.example/locustio/locust:2.32.2",
            ),
            (
                "an official image",
                "docker.io/library/python:3.12",
                "m.example",
                "m.example/python:3.12",
            ),
            (
                "another registry's host replaced",
                "ghcr.io/org/img:1",
                "127.0.0.1:5000/",
                "127.0.0.1:5000/org/img:1",
            ),
            (
                "a port is a registry",
                "localhost:5000/x/y@sha256:ab",
                "m.example",
                "m.example/x/y@sha256:ab",
            ),
            (
                "the exporter",
                "containersol/locust_exporter:v0.5.0",
                "m.example/images",
                "m.example/images/containersol/locust_exporter:v0.5.0",
            ),
        ];
        let mut failed = Vec::new();
        for (what, reference, registry, want) in rows {
            let got = mirrored(reference, registry);
            if got != *want {
                failed.push(format!("- {what}: {got}"));
            }
        }
        assert!(failed.is_empty(), "{}", failed.join("\n"));
    }

    #[test]
    fn every_image_of_the_values_is_mirrored() {
        let mut values = crate::yaml::parse_single(
            "image: {repository: locustio/locust, tag: 2.32.2}\n\
             master: {image: '', initContainers: [{name: pip-install, image: 'locustio/locust:2.32.2'}]}\n\
             worker: {image: 'locustio/locust:2.32.2'}\n\
             extraObjects:\n\
             - {kind: Deployment, spec: {template: {spec: {containers: [{name: exporter, image: 'containersol/locust_exporter:v0.5.0'}]}}}}\n\
             - {kind: ConfigMap, data: {image: 'not/an-image:1'}}\n",
        )
        .unwrap();
        mirror_values(&mut values, "m.example");
        let json = values.to_json();
        assert_eq!(json["image"]["repository"], "m.example/locustio/locust");
        assert_eq!(json["image"]["tag"], "2.32.2");
        assert_eq!(json["master"]["image"], "");
        assert_eq!(
            json["master"]["initContainers"][0]["image"],
            "m.example/locustio/locust:2.32.2"
        );
        assert_eq!(json["worker"]["image"], "m.example/locustio/locust:2.32.2");
        assert_eq!(
            json["extraObjects"][0]["spec"]["template"]["spec"]["containers"][0]["image"],
            "m.example/containersol/locust_exporter:v0.5.0"
        );
        assert_eq!(json["extraObjects"][1]["data"]["image"], "not/an-image:1");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        assert_eq!(
            split_reference("locustio/locust:2.37.0"),
            ("locustio/locust", Some("2.37.0"), None)
        );
        assert_eq!(
            split_reference("registry:5000/team/locust"),
            ("registry:5000/team/locust", None, None)
        );
        assert_eq!(
            split_reference("registry:5000/locust:1.0@sha256:ab"),
            ("registry:5000/locust", Some("1.0"), Some("sha256:ab"))
        );
        assert_eq!(
            locust_version_of("docker.io/locustio/locust:2.37.0").as_deref(),
            Some("2.37.0")
        );
        for unknown in [
            "locustio/locust:latest",
            "locustio/locust:2.37.0@sha256:ab",
            "example.com/locust:2.37.0",
            "locustio/locust",
        ] {
            assert_eq!(locust_version_of(unknown), None, "{unknown}");
        }
    }
}
