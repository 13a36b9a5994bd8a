//! The hardener sees what Kubernetes sees. A bypass corpus (merge keys, tags, pod templates in
//! other kinds, baseline fields, malformed pods, parser parity), each input at top level and as
//! `kind: List` items, run through one differential harness:
//! - an output (exit 0) is read by kubectl, passes Kubernetes' own Pod Security checks at
//!   restricted (`psa-judge`), and kubectl's JSON passes the restricted + baseline check
//!   (`common::restricted`, which finds pod specs by shape on its own); either failing fails
//!   the case, naming both verdicts;
//! - every field the post-renderer does not own reads the same to kubectl in input and output;
//! - a refusal names the field, and nothing is printed (checked through the binary too);
//! - a document without pod specs comes out byte for byte, whatever it holds.
// Without `tools`, the helpers of the tool-driven tests below are unused.
#![cfg_attr(not(feature = "tools"), allow(dead_code, unused_imports))]

mod common;

#[path = "common/restricted.rs"]
mod restricted;

use common::{kubectl_objects, kubectl_read, not_hardened, strip_intended};
use locust_planton::postrender::{Options, post_render};

#[derive(Clone, Debug)]
enum Expect {
    /// Hardened: exit 0, compliant to kubectl, unowned fields unchanged.
    Harden,
    /// Refused, the message containing this.
    Refuse(&'static str),
    /// Passed through byte for byte.
    Identical,
}

struct Case {
    name: String,
    text: String,
    expect: Expect,
}

const OK_POD: &str = "{containers: [{name: c, image: busybox}]}";

/// A pod spec (flow YAML) placed where each kind keeps it.
fn in_kind(kind: &str, pod: &str) -> String {
    let meta = "metadata: {name: x, labels: {a: b}}";
    match kind {
        "Pod" => format!("apiVersion: v1\nkind: Pod\n{meta}\nspec: {pod}\n"),
        "PodTemplate" => {
            format!(
                "apiVersion: v1\nkind: PodTemplate\n{meta}\ntemplate:\n  metadata: {{labels: {{a: b}}}}\n  spec: {pod}\n"
            )
        }
        "CronJob" => format!(
            "apiVersion: batch/v1\nkind: CronJob\n{meta}\nspec:\n  schedule: '* * * * *'\n  jobTemplate:\n    spec:\n      template:\n        spec: {pod}\n"
        ),
        "Job" => format!(
            "apiVersion: batch/v1\nkind: Job\n{meta}\nspec:\n  template:\n    spec: {pod}\n"
        ),
        "Rollout" => format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\n{meta}\nspec:\n  selector: {{matchLabels: {{a: b}}}}\n  template:\n    metadata: {{labels: {{a: b}}}}\n    spec: {pod}\n"
        ),
        "KnativeService" => format!(
            "apiVersion: serving.knative.dev/v1\nkind: Service\n{meta}\nspec:\n  template:\n    spec: {pod}\n"
        ),
        "ScaledJob" => format!(
            "apiVersion: keda.sh/v1alpha1\nkind: ScaledJob\n{meta}\nspec:\n  jobTargetRef:\n    template:\n      spec: {pod}\n"
        ),
        "Custom" => format!(
            "apiVersion: example.com/v1\nkind: Pool\n{meta}\nspec:\n  workers:\n  - name: w\n    template:\n      spec: {pod}\n"
        ),
        workload => {
            // A ReplicationController's selector is a plain label map (the API server rejects
            // a `matchLabels` there).
            let (group, selector) = if workload == "ReplicationController" {
                ("v1", "{a: b}")
            } else {
                ("apps/v1", "{matchLabels: {a: b}}")
            };
            format!(
                "apiVersion: {group}\nkind: {workload}\n{meta}\nspec:\n  selector: {selector}\n  template:\n    metadata: {{labels: {{a: b}}}}\n    spec: {pod}\n"
            )
        }
    }
}

/// The same object as the only item of a `kind: List` (indented one level).
fn as_list_item(doc: &str) -> String {
    let mut out = String::from("apiVersion: v1\nkind: List\nitems:\n");
    for (i, line) in doc.lines().enumerate() {
        out.push_str(if i == 0 { "- " } else { "  " });
        out.push_str(line);
        out.push('\n');
    }
    out
}

const KINDS: &[&str] = &[
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
    "PodTemplate",
    "Rollout",
    "KnativeService",
    "ScaledJob",
    "Custom",
];

/// Pod specs that must be refused, with what the refusal names.
fn pod_attacks() -> Vec<(&'static str, &'static str, &'static str)> {
    vec![
        (
            "merge-overrides-privileged",
            "{containers: [{name: c, image: i, securityContext: {privileged: false, <<: {privileged: true}}}]}",
            "privileged",
        ),
        (
            "merge-hostpid",
            "{<<: {hostPID: true}, containers: [{name: c, image: i}]}",
            "hostPID",
        ),
        (
            "merge-seq-earlier-wins",
            "{<<: [{hostIPC: true}, {hostIPC: false}], containers: [{name: c, image: i}]}",
            "hostIPC",
        ),
        (
            "merge-container",
            "{containers: [{<<: {name: c, image: i, securityContext: {allowPrivilegeEscalation: true}}}]}",
            "allowPrivilegeEscalation",
        ),
        (
            "merge-capabilities",
            "{containers: [{name: c, image: i, securityContext: {capabilities: {<<: {add: [SYS_ADMIN]}}}}]}",
            "SYS_ADMIN",
        ),
        (
            "explicit-merge-tag",
            "{!!merge <<: {hostNetwork: true}, containers: [{name: c, image: i}]}",
            "hostNetwork",
        ),
        (
            "tag-bool-privileged",
            "{containers: [{name: c, image: i, securityContext: !!map {privileged: !!bool \"true\"}}]}",
            "privileged",
        ),
        (
            "verbatim-bool",
            "{containers: [{name: c, image: i, securityContext: {privileged: !<tag:yaml.org,2002:bool> true}}]}",
            "privileged",
        ),
        (
            "tag-int-uid",
            "{containers: [{name: c, image: i, securityContext: {runAsUser: !!int \"0\"}}]}",
            "runAsUser",
        ),
        (
            "tag-float-uid",
            "{securityContext: {runAsUser: !!float \"0\"}, containers: [{name: c, image: i}]}",
            "runAsUser",
        ),
        (
            "float-uid",
            "{containers: [{name: c, image: i, securityContext: {runAsUser: 0.0}}]}",
            "runAsUser",
        ),
        (
            "exponent-hostport",
            "{containers: [{name: c, image: i, ports: [{containerPort: 80, hostPort: 8e1}]}]}",
            "hostPort",
        ),
        (
            "binary-key-hostnetwork",
            "{? !!binary aG9zdE5ldHdvcms= : true, containers: [{name: c, image: i}]}",
            "hostNetwork",
        ),
        (
            "binary-key-privileged",
            "{containers: [{name: c, image: i, securityContext: {? !!binary cHJpdmlsZWdlZA== : true}}]}",
            "privileged",
        ),
        (
            "yaml11-yes",
            "{hostPID: yes, containers: [{name: c, image: i}]}",
            "hostPID",
        ),
        (
            "bool-tag-yes-token",
            "{automountServiceAccountToken: !!bool yes, containers: [{name: c, image: i}]}",
            "automountServiceAccountToken",
        ),
        (
            "nonspecific-tag-string",
            "{hostNetwork: ! true, containers: [{name: c, image: i}]}",
            "must be true or false",
        ),
        (
            "quoted-privileged",
            "{containers: [{name: c, image: i, securityContext: {privileged: \"true\"}}]}",
            "must be true or false",
        ),
        (
            "str-tag-runasnonroot",
            "{containers: [{name: c, image: i, securityContext: {runAsNonRoot: !!str false}}]}",
            "must be true or false",
        ),
        (
            "proc-mount",
            "{containers: [{name: c, image: i, securityContext: {procMount: Unmasked}}]}",
            "procMount",
        ),
        (
            "selinux-type",
            "{securityContext: {seLinuxOptions: {type: spc_t}}, containers: [{name: c, image: i}]}",
            "seLinuxOptions.type",
        ),
        (
            "selinux-user",
            "{containers: [{name: c, image: i, securityContext: {seLinuxOptions: {user: system_u}}}]}",
            "seLinuxOptions.user",
        ),
        (
            "selinux-role",
            "{containers: [{name: c, image: i, securityContext: {seLinuxOptions: {role: sysadm_r}}}]}",
            "seLinuxOptions.role",
        ),
        (
            "apparmor-pod",
            "{securityContext: {appArmorProfile: {type: Unconfined}}, containers: [{name: c, image: i}]}",
            "appArmorProfile.type",
        ),
        (
            "apparmor-container",
            "{containers: [{name: c, image: i, securityContext: {appArmorProfile: {type: Unconfined}}}]}",
            "appArmorProfile.type",
        ),
        (
            "unsafe-sysctl",
            "{securityContext: {sysctls: [{name: kernel.msgmax, value: '1'}]}, containers: [{name: c, image: i}]}",
            "kernel.msgmax",
        ),
        (
            "host-process-pod",
            "{securityContext: {windowsOptions: {hostProcess: true}}, containers: [{name: c, image: i}]}",
            "hostProcess",
        ),
        (
            "host-process-container",
            "{containers: [{name: c, image: i, securityContext: {windowsOptions: {hostProcess: true}}}]}",
            "hostProcess",
        ),
        (
            "projected-token",
            "{containers: [{name: c, image: i}], volumes: [{name: t, projected: {sources: [{serviceAccountToken: {path: token}}]}}]}",
            "serviceAccountToken",
        ),
        (
            "host-path",
            "{containers: [{name: c, image: i}], volumes: [{name: h, hostPath: {path: /}}]}",
            "hostPath",
        ),
        (
            "seccomp-unconfined",
            "{containers: [{name: c, image: i, securityContext: {seccompProfile: {type: Unconfined}}}]}",
            "seccompProfile",
        ),
        (
            "init-privileged",
            "{initContainers: [{name: x, image: i, securityContext: {privileged: true}}], containers: [{name: c, image: i}]}",
            "initContainers[0].securityContext.privileged",
        ),
        (
            "ephemeral-privileged",
            "{containers: [{name: c, image: i}], ephemeralContainers: [{name: e, image: i, securityContext: {privileged: true}}]}",
            "ephemeralContainers[0]",
        ),
        (
            "containers-mapping",
            "{containers: {name: c, image: i, securityContext: {privileged: true}}, initContainers: [{name: x, image: i}]}",
            "malformed",
        ),
        (
            "container-scalar",
            "{containers: [privileged]}",
            "a container must be a mapping",
        ),
        (
            "init-mapping",
            "{containers: [{name: c, image: i}], initContainers: {name: x}}",
            "malformed",
        ),
        (
            "security-context-list",
            "{containers: [{name: c, image: i, securityContext: [privileged]}]}",
            "must be a mapping",
        ),
        (
            "capabilities-list",
            "{containers: [{name: c, image: i, securityContext: {capabilities: [SYS_ADMIN]}}]}",
            "must be a mapping",
        ),
        (
            "nan-uid",
            "{containers: [{name: c, image: i, securityContext: {runAsUser: .nan}}]}",
            "json: unsupported value",
        ),
        (
            "key-collision",
            "{containers: [{name: c, image: i}], 1: a, '1': b}",
            "both read as",
        ),
        (
            "null-key",
            "{containers: [{name: c, image: i}], ~: a}",
            "null mapping key",
        ),
        (
            "bad-binary",
            "{containers: [{name: c, image: !!binary '@@'}]}",
            "invalid base64",
        ),
    ]
}

fn corpus() -> Vec<Case> {
    let mut cases = Vec::new();
    // Each input at top level and as the item of a `kind: List`.
    fn add(cases: &mut Vec<Case>, name: String, text: String, expect: Expect) {
        cases.push(Case {
            name: format!("{name} (list)"),
            text: as_list_item(&text),
            expect: expect.clone(),
        });
        cases.push(Case { name, text, expect });
    }
    // Each attack in a core workload; the first dozen in every pod-bearing kind.
    for (i, (name, pod, want)) in pod_attacks().into_iter().enumerate() {
        // A custom resource whose `containers` is no list holds no pod spec (no controller could
        // decode one from it), so malformed shapes are tried where the kind says a pod must be.
        let kinds: &[&str] = match (i, want) {
            (0..12, _) => KINDS,
            (_, "malformed") => &["Pod", "Deployment", "Job"],
            _ => &["Pod", "Deployment", "Custom"],
        };
        for kind in kinds {
            add(
                &mut cases,
                format!("{name} in {kind}"),
                in_kind(kind, pod),
                Expect::Refuse(want),
            );
        }
    }
    // Whole-object tricks: the kind, the template, the list items.
    let privileged = "{containers: [{name: c, image: i, securityContext: {privileged: true}}]}";
    let deployment = in_kind("Deployment", privileged);
    for (name, text) in [
        (
            "kind-binary",
            deployment.replace("kind: Deployment", "kind: !!binary RGVwbG95bWVudA=="),
        ),
        (
            "kind-merge-after",
            deployment.replace(
                "kind: Deployment",
                "kind: ConfigMap\n<<: {kind: Deployment}",
            ),
        ),
        (
            "kind-str-tag",
            deployment.replace("kind: Deployment", "kind: !!str Deployment"),
        ),
        (
            "spec-via-merge",
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: x}}\nspec: {{<<: {{selector: {{matchLabels: {{a: b}}}}, template: {{metadata: {{labels: {{a: b}}}}, spec: {privileged}}}}}}}\n"
            ),
        ),
        (
            "template-via-anchor-merge",
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: x}}\nx-pod: &pod {{spec: {privileged}}}\nspec:\n  selector: {{matchLabels: {{a: b}}}}\n  template:\n    <<: *pod\n"
            ),
        ),
        (
            "list-item-merge-kind",
            format!(
                "apiVersion: v1\nkind: List\nitems:\n- <<: {{kind: Pod, apiVersion: v1}}\n  metadata: {{name: p}}\n  spec: {privileged}\n"
            ),
        ),
    ] {
        cases.push(Case {
            name: name.into(),
            text,
            expect: Expect::Refuse("privileged"),
        });
    }
    for (name, text, want) in [
        (
            "apparmor-annotation",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations: {container.apparmor.security.beta.kubernetes.io/c: unconfined}\nspec: {containers: [{name: c, image: i}]}\n".to_string(),
            "container.apparmor.security.beta.kubernetes.io/c",
        ),
        (
            "service-account-token-tag",
            "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: s}\nautomountServiceAccountToken: !!bool \"true\"\n".into(),
            "automountServiceAccountToken",
        ),
        (
            "service-account-token-merge",
            "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: s}\nautomountServiceAccountToken: false\n<<: {automountServiceAccountToken: true}\n".into(),
            "automountServiceAccountToken",
        ),
        (
            "tab-indentation",
            "apiVersion: v1\nkind: Pod\nmetadata:\n\tname: p\nspec: {containers: [{name: c, image: i}]}\n".into(),
            "invalid YAML",
        ),
        (
            "separator-with-content",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n--- {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: c, image: i, securityContext: {privileged: true}}]}}\n".into(),
            "invalid YAML document separator",
        ),
        (
            "several-documents-in-one",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n...\n%YAML 1.1\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: i, securityContext: {privileged: true}}]}\n".into(),
            "",
        ),
    ] {
        cases.push(Case { name: name.into(), text, expect: Expect::Refuse(want) });
    }
    // Controls: compliant pods in every kind are hardened, benign merge keys and tags included.
    let benign = "{<<: {enableServiceLinks: false}, containers: [{name: !!str c, image: ! busybox, args: [!!str 1, !!binary aGk=], env: [{name: A, value: !!str yes}]}]}";
    for kind in KINDS {
        add(
            &mut cases,
            format!("compliant {kind}"),
            in_kind(kind, OK_POD),
            Expect::Harden,
        );
        add(
            &mut cases,
            format!("benign tags and merges in {kind}"),
            in_kind(kind, benign),
            Expect::Harden,
        );
    }
    add(
        &mut cases,
        "flow sequence closed at its key's indent".into(),
        in_kind(
            "Deployment",
            "{containers: [{name: c, image: i, command: [\n      \"a\",\n      \"b\"\n    ]}]}",
        ),
        Expect::Harden,
    );
    // Documents without pods pass byte for byte, whatever they hold.
    for (name, text) in [
        (
            "configmap merges and tags",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: &m {name: c, labels: {a: b}}\ndata:\n  <<: {x: '1'}\n  y: !!str 2\n  z: ! yes\n  w: !custom tag\n",
        ),
        (
            "secret binary",
            "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {k: !!binary aGk=}\nstringData: {containers: x}\n",
        ),
        (
            "service anchors",
            "apiVersion: v1\nkind: Service\nmetadata: {name: s, labels: &l {a: b}}\nspec: {selector: *l, ports: [{port: !!int '80'}]}\n",
        ),
        (
            "crd with containers schema",
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: pools.example.com}\nspec:\n  group: example.com\n  names: {kind: Pool, plural: pools}\n  scope: Namespaced\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n          containers: {type: array, items: {type: object}}\n",
        ),
        (
            "merge key quoted is a plain key",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: q}\ndata: {'<<': x}\n",
        ),
    ] {
        add(&mut cases, name.into(), text.into(), Expect::Identical);
    }
    cases
}

/// Runs one case through the harness; returns what went wrong.
fn judge(case: &Case) -> Vec<String> {
    let mut problems = Vec::new();
    let result = post_render(&case.text, &Options::default());
    match (&result, &case.expect) {
        (Ok(out), expect) => {
            let output = out.text();
            let read = kubectl_read(&output, "json");
            if !read.status.success() {
                problems.push(format!(
                    "kubectl cannot read the output: {}",
                    String::from_utf8_lossy(&read.stderr)
                ));
                return problems;
            }
            let after = kubectl_objects(&output);
            let ours: Vec<String> = after.iter().flat_map(restricted::violations).collect();
            if let Some(p) =
                not_hardened(&output, "restricted", "tests/common/restricted.rs", &ours)
            {
                problems.push(format!("BYPASS: {p}"));
            }
            match expect {
                Expect::Refuse(want) => problems.push(format!("not refused (wanted `{want}`)")),
                Expect::Identical if output != case.text => {
                    problems.push(format!("not byte-identical:\n{output}"))
                }
                _ => {}
            }
            // Fields the post-renderer does not own read the same before and after.
            let mut before = kubectl_objects(&case.text);
            let mut after = after;
            before.iter_mut().chain(after.iter_mut()).for_each(|o| {
                strip_intended(o);
                if let Some(l) = o
                    .pointer_mut("/metadata/labels")
                    .and_then(|l| l.as_object_mut())
                {
                    l.remove("oracle");
                }
            });
            if before != after {
                problems.push(format!(
                    "unowned fields changed:\n before {}\n after  {}",
                    serde_json::to_string(&before).unwrap(),
                    serde_json::to_string(&after).unwrap()
                ));
            }
        }
        (Err(e), Expect::Refuse(want)) => {
            let msg = e.to_string();
            if !msg.contains(want) {
                problems.push(format!(
                    "refused, but the reason does not name `{want}`: {msg}"
                ));
            }
        }
        (Err(e), _) => problems.push(format!("refused: {e}")),
    }
    problems
}

#[cfg(feature = "tools")]
#[test]
fn bypass_corpus_through_the_differential_harness() {
    let cases = corpus();
    let refusals = cases
        .iter()
        .filter(|c| matches!(c.expect, Expect::Refuse(_)))
        .count();
    assert!(refusals >= 60, "the bypass corpus has {refusals} inputs");
    let mut failures = Vec::new();
    for case in &cases {
        for p in judge(case) {
            failures.push(format!("{}: {p}", case.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn refusals_print_nothing_and_name_the_document() {
    let text = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: a}}\n---\n# Source: chart/templates/d.yaml\n{}",
        in_kind(
            "Deployment",
            "{<<: {hostPID: true}, containers: [{name: c, image: i}]}"
        )
    );
    let out = assert_cmd::Command::new(common::bin())
        .arg("post-render")
        .write_stdin(text)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("document 2 (line 4, chart/templates/d.yaml)")
            && err.contains("spec.template.spec.hostPID"),
        "{err}"
    );
}

#[cfg(feature = "tools")]
#[test]
fn knative_pods_get_container_level_settings_only() {
    let out = post_render(&in_kind("KnativeService", OK_POD), &Options::default())
        .unwrap()
        .text();
    let objs = kubectl_objects(&out);
    let ours: Vec<String> = objs.iter().flat_map(restricted::violations).collect();
    common::assert_hardened(
        "knative",
        &out,
        "restricted",
        "tests/common/restricted.rs",
        &ours,
    );
    let spec = &objs[0]["spec"]["template"]["spec"];
    assert!(spec.get("securityContext").is_none(), "{spec}");
    assert_eq!(spec["automountServiceAccountToken"], false);
    let sc = &spec["containers"][0]["securityContext"];
    assert_eq!(sc["runAsUser"], 1000);
    assert_eq!(sc["runAsNonRoot"], true);
    assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault");
}

#[cfg(feature = "tools")]
#[test]
fn rewritten_documents_keep_go_reading_of_tags_and_merges() {
    // A pod with tags and merge keys that the hardener rewrites: every value keeps Go's reading
    // (`! 123` the string "123", an empty `!!str` the empty string, a `!!binary` key decoded).
    let pod = "{containers: [{name: c, image: i, args: [! 123, !<tag:yaml.org,2002:str> 123, ! yes, !!str , !!float '2']}], <<: {nodeSelector: {? !!binary a2V5 : v}}}";
    let text = in_kind("Pod", pod);
    let out = post_render(&text, &Options::default()).unwrap().text();
    assert!(!out.contains("<<") && !out.contains('!'), "{out}");
    let objs = kubectl_objects(&out);
    assert_eq!(
        objs[0]["spec"]["containers"][0]["args"],
        serde_json::json!(["123", "123", "yes", "", 2])
    );
    assert_eq!(
        objs[0]["spec"]["nodeSelector"],
        serde_json::json!({"key": "v"})
    );
    // And post-rendering again changes nothing.
    assert_eq!(post_render(&out, &Options::default()).unwrap().text(), out);
}

mod generated {
    //! Generated pods: random pod-bearing kinds, a random set of pod and container fields, each
    //! written in a random one of Go's spellings (plain, tagged, verbatim-tagged, behind a merge
    //! key, as a `!!binary` key, a YAML 1.1 word), at top level or as a List item. Whatever the
    //! post-renderer does, kubectl's reading of a success must pass the check.
    use super::*;
    use proptest::prelude::*;

    /// A field and its weak value, spelled each way Go reads the same.
    fn spellings(key: &str, weak: &str) -> Vec<String> {
        let b64 = |s: &str| {
            use std::fmt::Write;
            // Base64 without a dependency: the few keys used here are short ASCII.
            const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            let bytes = s.as_bytes();
            let mut out = String::new();
            for chunk in bytes.chunks(3) {
                let n = chunk
                    .iter()
                    .enumerate()
                    .fold(0u32, |n, (i, b)| n | (*b as u32) << (16 - 8 * i));
                for i in 0..4 {
                    if i <= chunk.len() {
                        let _ = write!(out, "{}", T[(n >> (18 - 6 * i) & 63) as usize] as char);
                    } else {
                        out.push('=');
                    }
                }
            }
            out
        };
        let tagged = match weak {
            "true" => vec![
                "!!bool \"true\"".to_string(),
                "yes".into(),
                "!<tag:yaml.org,2002:bool> on".into(),
            ],
            "0" => vec![
                "!!int \"0\"".to_string(),
                "0.0".into(),
                "!!float \"0\"".into(),
                "-0".into(),
                "0x0".into(),
            ],
            "80" => vec!["8e1".to_string(), "!!int \"80\"".into(), "0o120".into()],
            other => vec![format!("!!str {other}"), format!("! {other}")],
        };
        let mut out = vec![format!("{key}: {weak}")];
        for t in tagged {
            out.push(format!("{key}: {t}"));
            out.push(format!("<<: {{{key}: {t}}}"));
        }
        out.push(format!("? !!binary {} : {weak}", b64(key)));
        out.push(format!("<<: [{{{key}: {weak}}}, {{{key}: {weak}}}]"));
        out
    }

    /// (where: "pod" or "container" or "securityContext", field, weak value)
    const WEAK: &[(&str, &str, &str)] = &[
        ("pod", "hostPID", "true"),
        ("pod", "hostNetwork", "true"),
        ("pod", "hostIPC", "true"),
        ("pod", "automountServiceAccountToken", "true"),
        ("podsc", "runAsUser", "0"),
        ("podsc", "runAsNonRoot", "false"),
        ("sc", "privileged", "true"),
        ("sc", "allowPrivilegeEscalation", "true"),
        ("sc", "runAsUser", "0"),
        ("sc", "readOnlyRootFilesystem", "false"),
        ("sc", "procMount", "Unmasked"),
        ("port", "hostPort", "80"),
    ];

    fn pod_strategy() -> impl Strategy<Value = String> {
        let weak = prop::sample::select(WEAK.to_vec());
        (
            prop::collection::vec((weak, 0usize..16), 1..4),
            any::<bool>(),
        )
            .prop_map(|(picks, benign_merge)| {
                let mut pod = Vec::new();
                let mut podsc = Vec::new();
                let mut sc = Vec::new();
                let mut port = Vec::new();
                for ((at, key, value), n) in picks {
                    let forms = spellings(key, value);
                    let form = forms[n % forms.len()].clone();
                    match at {
                        "pod" => pod.push(form),
                        "podsc" => podsc.push(form),
                        "sc" => sc.push(form),
                        _ => port.push(form),
                    }
                }
                // Repeated merge keys in one mapping are one key to Go: keep one per mapping.
                let flow = |items: Vec<String>| {
                    let mut seen_merge = false;
                    let kept: Vec<String> = items
                        .into_iter()
                        .filter(|i| {
                            !i.starts_with("<<") || !std::mem::replace(&mut seen_merge, true)
                        })
                        .collect();
                    format!("{{{}}}", kept.join(", "))
                };
                let mut container = vec!["name: c".to_string(), "image: busybox".into()];
                if !sc.is_empty() {
                    container.push(format!("securityContext: {}", flow(sc)));
                }
                if !port.is_empty() {
                    port.push("containerPort: 80".into());
                    container.push(format!("ports: [{}]", flow(port)));
                }
                if benign_merge {
                    pod.push("<<: {enableServiceLinks: false}".into());
                }
                if !podsc.is_empty() {
                    pod.push(format!("securityContext: {}", flow(podsc)));
                }
                pod.push(format!("containers: [{}]", flow(container)));
                flow(pod)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]
        #[cfg(feature = "tools")]
        #[test]
        fn generated_pods_never_come_out_weaker(
            pod in pod_strategy(),
            kind in prop::sample::select(KINDS.to_vec()),
            listed in any::<bool>(),
        ) {
            let doc = in_kind(kind, &pod);
            let text = if listed { as_list_item(&doc) } else { doc };
            let go = kubectl_read(&text, "json");
            match post_render(&text, &Options::default()) {
                Ok(out) => {
                    let output = out.text();
                    let ours: Vec<String> =
                        kubectl_objects(&output).iter().flat_map(restricted::violations).collect();
                    let problem =
                        not_hardened(&output, "restricted", "tests/common/restricted.rs", &ours);
                    prop_assert!(problem.is_none(), "BYPASS {problem:?}\n{text}\n{output}");
                    // Every generated pod sets something weaker as Go reads it.
                    prop_assert!(false, "not refused:\n{text}\n{output}");
                }
                Err(e) => {
                    // Refused: because Go refuses the document too, or naming a weak field.
                    let named = WEAK.iter().any(|(_, key, _)| e.to_string().contains(key));
                    prop_assert!(!go.status.success() || named, "{e}\n{text}");
                }
            }
        }
    }
}
