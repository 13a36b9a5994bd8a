//! The master and worker containers: replicas and resources, with the Planton API's defaults
//! filling whatever the manifest leaves out.

use super::reader::{Fields, fields};
use super::{Container, Resources, extensions, rules};
use crate::diag::Findings;
use crate::yaml::Node;

pub(super) fn check_replicas(master: &Container, worker: &Container, d: &mut Findings) {
    if master.replicas < 0 || master.replicas > 1 {
        d.error(
            "spec.masterContainer.replicas",
            format!("must be 0 or 1 (0 parks the test), got {}", master.replicas),
        );
    } else if master.replicas == 0 {
        d.warn(
            "spec.masterContainer.replicas",
            "0 parks the test: no master runs, workers wait",
        );
    }
    if worker.replicas < 0 {
        d.error(
            "spec.workerContainer.replicas",
            format!("must be 0 or more, got {}", worker.replicas),
        );
    }
}

/// Upstream proto defaults fill whatever is missing.
pub(super) fn read_container(
    node: Option<&Node>,
    path: &str,
    spot_allowed: bool,
    d: &mut Findings,
) -> (Container, Option<extensions::Spot>) {
    let mut c = Container {
        replicas: 1,
        resources: Resources {
            limits_cpu: "1000m".into(),
            limits_memory: "1Gi".into(),
            requests_cpu: "50m".into(),
            requests_memory: "100Mi".into(),
        },
    };
    let known: &[&str] = if spot_allowed {
        &["replicas", "resources", "spot"]
    } else {
        &["replicas", "resources"]
    };
    let hints: &[(&str, &str)] = &[(
        "spot",
        "only workers go on spot nodes (`spec.workerContainer.spot`); the master stays on regular nodes",
    )];
    let Some(f) = node.and_then(|n| fields(n, path, known, hints, d)) else {
        return (c, None);
    };
    if let Some(r) = f.int("replicas", d) {
        c.replicas = r;
    }
    let spot = if spot_allowed {
        extensions::read_spot(&f, d)
    } else {
        None
    };
    if let Some(res) = f
        .node("resources")
        .and_then(|n| fields(n, &f.path("resources"), &["limits", "requests"], &[], d))
    {
        read_resources(&res, &mut c.resources, d);
        check_requests_within_limits(&c.resources, path, d);
    }
    (c, spot)
}

/// Overwrites the defaults in `r` with each valid quantity given under `limits` and `requests`.
fn read_resources(res: &Fields, r: &mut Resources, d: &mut Findings) {
    for (block, cpu, memory) in [
        ("limits", &mut r.limits_cpu, &mut r.limits_memory),
        ("requests", &mut r.requests_cpu, &mut r.requests_memory),
    ] {
        let hint: &[(&str, &str)] = &[(
            "ephemeralStorage",
            "only `cpu` and `memory` are part of the Planton API",
        )];
        let Some(b) = res
            .node(block)
            .and_then(|n| fields(n, &res.path(block), &["cpu", "memory"], hint, d))
        else {
            continue;
        };
        for (field, slot) in [("cpu", cpu), ("memory", memory)] {
            if let Some(q) = b.string(field, d) {
                match rules::quantity(&q) {
                    Ok(v) if v < 0.0 => {
                        d.error(b.path(field), format!("`{q}` must not be negative"))
                    }
                    Ok(_) => *slot = q,
                    Err(e) => d.error(b.path(field), e),
                }
            }
        }
    }
}

fn check_requests_within_limits(r: &Resources, path: &str, d: &mut Findings) {
    for (what, req, lim) in [
        ("cpu", &r.requests_cpu, &r.limits_cpu),
        ("memory", &r.requests_memory, &r.limits_memory),
    ] {
        if let (Ok(rq), Ok(lm)) = (rules::quantity(req), rules::quantity(lim))
            && rq > lm
        {
            d.error(
                format!("{path}.resources.requests.{what}"),
                format!("request `{req}` is more than the limit `{lim}`"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::testing::value;

    #[test]
    fn a_container_is_the_defaults_overwritten_by_what_is_given() {
        struct Case {
            what: &'static str,
            yaml: Option<&'static str>,
            spot_allowed: bool,
            replicas: i64,
            resources: [&'static str; 4],
            spot: bool,
            said: &'static [&'static str],
        }
        let defaults = ["1000m", "1Gi", "50m", "100Mi"];
        for c in [
            Case {
                what: "no container: the Planton API's defaults",
                yaml: None,
                spot_allowed: false,
                replicas: 1,
                resources: defaults,
                spot: false,
                said: &[],
            },
            Case {
                what: "a quantity given replaces only its default",
                yaml: Some(
                    "{replicas: 3, resources: {limits: {cpu: '2'}, requests: {memory: 200Mi}}}",
                ),
                spot_allowed: false,
                replicas: 3,
                resources: ["2", "1Gi", "50m", "200Mi"],
                spot: false,
                said: &[],
            },
            Case {
                what: "a negative quantity is refused and the default kept",
                yaml: Some("{resources: {limits: {memory: -1Gi}}}"),
                spot_allowed: false,
                replicas: 1,
                resources: defaults,
                spot: false,
                said: &[
                    "m: spec.workerContainer.resources.limits.memory: `-1Gi` must not be negative",
                ],
            },
            Case {
                what: "a request above its limit is refused",
                yaml: Some("{resources: {limits: {cpu: 100m}, requests: {cpu: 200m}}}"),
                spot_allowed: false,
                replicas: 1,
                resources: ["100m", "1Gi", "200m", "100Mi"],
                spot: false,
                said: &[
                    "m: spec.workerContainer.resources.requests.cpu: request `200m` is more than the limit `100m`",
                ],
            },
            Case {
                what: "spot where it is not allowed is an unknown field with a hint",
                yaml: Some("{spot: {provider: gke}}"),
                spot_allowed: false,
                replicas: 1,
                resources: defaults,
                spot: false,
                said: &[
                    "m: spec.workerContainer.spot: unknown field; only workers go on spot nodes (`spec.workerContainer.spot`); the master stays on regular nodes",
                ],
            },
            Case {
                what: "spot where it is allowed is read",
                yaml: Some("{spot: {provider: gke}}"),
                spot_allowed: true,
                replicas: 1,
                resources: defaults,
                spot: true,
                said: &[],
            },
        ] {
            let node = c.yaml.map(value);
            let mut d = Findings::default();
            let (container, spot) = read_container(
                node.as_ref(),
                "spec.workerContainer",
                c.spot_allowed,
                &mut d,
            );
            assert_eq!(container.replicas, c.replicas, "{}", c.what);
            let r = &container.resources;
            assert_eq!(
                [
                    r.limits_cpu.as_str(),
                    &r.limits_memory,
                    &r.requests_cpu,
                    &r.requests_memory
                ],
                c.resources,
                "{}",
                c.what
            );
            assert_eq!(spot.is_some(), c.spot, "{}", c.what);
            assert_eq!(
                d.render("m").lines().collect::<Vec<_>>(),
                c.said,
                "{}",
                c.what
            );
        }
    }

    #[test]
    fn replicas_are_checked_per_role() {
        struct Case {
            master: i64,
            worker: i64,
            said: &'static [&'static str],
        }
        let container = |replicas| Container {
            replicas,
            resources: Resources {
                limits_cpu: String::new(),
                limits_memory: String::new(),
                requests_cpu: String::new(),
                requests_memory: String::new(),
            },
        };
        for c in [
            Case {
                master: 1,
                worker: 0,
                said: &[],
            },
            Case {
                master: 0,
                worker: 2,
                said: &[
                    "m: spec.masterContainer.replicas: warning: 0 parks the test: no master runs, workers wait",
                ],
            },
            Case {
                master: 2,
                worker: -1,
                said: &[
                    "m: spec.masterContainer.replicas: must be 0 or 1 (0 parks the test), got 2",
                    "m: spec.workerContainer.replicas: must be 0 or more, got -1",
                ],
            },
        ] {
            let mut d = Findings::default();
            check_replicas(&container(c.master), &container(c.worker), &mut d);
            assert_eq!(
                d.render("m").lines().collect::<Vec<_>>(),
                c.said,
                "master {} worker {}",
                c.master,
                c.worker
            );
        }
    }
}
