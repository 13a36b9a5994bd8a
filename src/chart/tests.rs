use super::*;
use crate::yaml::parse_single;

fn values(text: &str) -> Node {
    parse_single(text).unwrap()
}

#[test]
fn names_follow_the_charts_fullname() {
    struct Case {
        values: &'static str,
        release: &'static str,
        deployment: &'static str,
    }
    let table = [
        Case {
            values: "{}",
            release: "demo",
            deployment: "demo-locust-master",
        },
        Case {
            values: "{}",
            release: "my-locust-run",
            deployment: "my-locust-run-master",
        },
        Case {
            values: "{fullnameOverride: load}",
            release: "demo",
            deployment: "load-master",
        },
        Case {
            values: "{nameOverride: swarm}",
            release: "demo",
            deployment: "demo-swarm-master",
        },
    ];
    for c in table {
        let r = render(&values(c.values), c.release, Role::Master);
        assert_eq!(
            r.object
                .get_path(&["metadata", "name"])
                .and_then(Node::as_str),
            Some(c.deployment),
            "{}",
            c.values
        );
        assert_eq!(
            r.pod_spec()
                .and_then(|p| p.get_path(&["serviceAccountName"]))
                .map(|n| n.key_text()),
            Some(c.deployment.to_string())
        );
    }
}

#[test]
fn fields_map_back_to_the_values_that_set_them() {
    struct Case {
        role: Role,
        field: &'static str,
        value: Option<(&'static str, &'static str, bool)>,
    }
    let given = values(
        "{master: {extraVolumes: [{name: a, emptyDir: {}}], extraVolumeMounts: [{name: a, mountPath: /a}], args: [--x]}, \
         worker: {initContainers: [{name: i}]}, loadtest: {environment: {B: b}, tags: t}}",
    );
    let table = [
        Case {
            role: Role::Master,
            field: "spec.template.spec.containers[0].securityContext.runAsUser",
            value: Some(("securityContext", ".runAsUser", true)),
        },
        Case {
            role: Role::Master,
            field: "spec.template.spec.securityContext",
            value: Some(("podSecurityContext", "", true)),
        },
        // After the chart's lib, locustfile and config volumes.
        Case {
            role: Role::Master,
            field: "spec.template.spec.volumes[3].hostPath",
            value: Some(("master.extraVolumes[0]", ".hostPath", true)),
        },
        Case {
            role: Role::Master,
            field: "spec.template.spec.volumes[2]",
            value: None,
        },
        Case {
            role: Role::Master,
            field: "spec.template.spec.containers[0].volumeMounts[0].mountPath",
            value: Some(("loadtest.locust_locustfile_path", "", true)),
        },
        Case {
            role: Role::Master,
            field: "spec.template.spec.containers[0].volumeMounts[1].mountPath",
            value: Some(("loadtest.locust_locustfile_path", "", false)),
        },
        Case {
            role: Role::Master,
            field: "spec.template.spec.containers[0].volumeMounts[3].mountPath",
            value: Some(("master.extraVolumeMounts[0]", ".mountPath", true)),
        },
        Case {
            role: Role::Master,
            field: "spec.template.spec.containers[0].args[1]",
            value: Some(("master.args[0]", "", true)),
        },
        Case {
            role: Role::Master,
            field: "spec.template.spec.containers[0].args[2]",
            value: Some(("loadtest.tags", "", false)),
        },
        Case {
            role: Role::Master,
            field: "spec.template.spec.containers[0].env[3].value",
            value: Some(("loadtest.environment.B", "", false)),
        },
        Case {
            role: Role::Worker,
            field: "spec.template.spec.initContainers[0].securityContext",
            value: Some(("worker.initContainers", "[0].securityContext", true)),
        },
        Case {
            role: Role::Worker,
            field: "metadata.annotations",
            value: None,
        },
        Case {
            role: Role::Worker,
            field: "spec.template.spec.containers[0].securityContextX",
            value: None,
        },
    ];
    for c in table {
        let r = render(&given, "demo", c.role);
        let got = r
            .value_of(c.field)
            .map(|(s, rest)| (s.value.clone(), rest, s.exact));
        let want = c
            .value
            .map(|(v, rest, exact)| (v.to_string(), rest.to_string(), exact));
        assert_eq!(got, want, "{}", c.field);
    }
}

#[test]
fn the_master_alone_takes_its_flags() {
    struct Case {
        values: &'static str,
        role: Role,
        args: &'static [&'static str],
    }
    let table = [
        Case {
            values: "{loadtest: {headless: true, tags: a b, excludeTags: c}, service: {targetPort: 9000}}",
            role: Role::Master,
            args: &[
                "--master",
                "--headless",
                "--web-port 9000",
                "--tags a b",
                "--exclude-tags c",
            ],
        },
        Case {
            values: "{loadtest: {headless: true}, worker: {args: [--x]}}",
            role: Role::Worker,
            args: &["--worker", "--x"],
        },
        Case {
            values: "{master: {auth: {enabled: true, username: u, password: p}}}",
            role: Role::Master,
            args: &["--master", "--web-login"],
        },
        Case {
            values: "{image: {tag: 2.20.0}, master: {auth: {enabled: true, username: u, password: p}}}",
            role: Role::Master,
            args: &["--master", "--web-auth=u:p"],
        },
    ];
    for c in table {
        let r = render(&values(c.values), "demo", c.role);
        let args: Vec<String> = r
            .object
            .get_path(&["spec", "template", "spec", "containers"])
            .and_then(Node::as_seq)
            .and_then(|s| s[0].get_path(&["args"]))
            .and_then(Node::as_seq)
            .unwrap()
            .iter()
            .map(|a| a.key_text())
            .collect();
        assert_eq!(args, c.args, "{}", c.values);
    }
}
