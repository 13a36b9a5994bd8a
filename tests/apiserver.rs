//! Every object locust-planton renders, sent to a real kube-apiserver v1.37 with etcd (started by
//! `scripts/kube.sh up`; `KUBECONFIG` names it): accepted by server-side apply with strict field
//! validation and no warning (Pod Security `warn` on the namespace), and every pod template,
//! instantiated as a Pod, admitted by Pod Security Admission `enforce` at the level `install`
//! labels the namespace with — and refused one level stricter where opt-outs lowered it.
//! The renders come from the real DeliveryHero chart (`../shared/reference/…/0.35.0/chart`, or
//! `LP_REAL_CHART`) through `template` with Helm 3 and Helm 4, and from the recorded chart renders
//! in `fixtures/reference/` through `post-render`.
#![cfg(feature = "tools")]

mod common;

use common::kube::{self, Cluster, Namespace, Psa};
use common::*;
use std::path::{Path, PathBuf};

/// The specs every render test covers: the examples and the valid spec fixtures.
fn specs() -> Vec<PathBuf> {
    let mut specs = Vec::new();
    for dir in [repo().join("examples"), fixture("specs/valid")] {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            if p.extension().is_some_and(|x| x == "yaml") {
                specs.push(p);
            }
        }
    }
    specs.sort();
    assert!(specs.len() >= 12, "{specs:?}");
    specs
}

/// The UID profiles: the default, `--high-uid`, `--uid 2000`.
const PROFILES: [&[&str]; 3] = [&[], &["--high-uid"], &["--uid", "2000"]];

fn profile_name(profile: &[&str]) -> String {
    if profile.is_empty() {
        "default".into()
    } else {
        profile.join("").trim_start_matches('-').to_string()
    }
}

/// `template -f SPEC --chart CHART -n NS --helm HELM PROFILE…`, asserted successful: its stdout.
fn template(
    home: &Path,
    spec: &Path,
    chart: &Path,
    ns: &str,
    helm: &Path,
    extra: &[&str],
) -> String {
    let out = lp(home)
        .args(["template", "-q", "-f"])
        .arg(spec)
        .arg("--chart")
        .arg(chart)
        .args(["-n", ns, "--helm"])
        .arg(helm)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "template {} {extra:?} with {}: {}",
        spec.display(),
        helm.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A label for a Pod's name: lower-case letters, digits and dashes.
fn slug(text: &str) -> String {
    text.chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9') => c,
            _ => '-',
        })
        .collect()
}

/// One rendered stream, where it came from, and its objects as kubectl reads them.
struct Render {
    origin: String,
    text: String,
    objects: Vec<serde_json::Value>,
}

impl Render {
    fn new(origin: String, text: String) -> Render {
        let objects = kubectl_objects(&text);
        Render {
            origin,
            text,
            objects,
        }
    }
}

/// The pods of every template in `renders`, named `pod-N` (a DNS label, as the server
/// recommends for Pods), each with where its template came from.
fn pods_of(renders: &[Render]) -> Vec<(serde_json::Value, String)> {
    let mut pods = Vec::new();
    for render in renders {
        let templates = kube::pod_templates(&render.objects);
        assert!(!templates.is_empty(), "{}: no pod template", render.origin);
        for (what, template) in templates {
            let name = format!("pod-{}", pods.len());
            pods.push((
                kube::pod_of(&name, &template),
                format!("{} {what}", render.origin),
            ));
        }
    }
    pods
}

fn names(pods: &[(serde_json::Value, String)]) -> Vec<String> {
    let mut names: Vec<String> = pods
        .iter()
        .map(|(p, _)| p["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

/// `pod-N (origin)` for each name, for messages.
fn described(names: &[String], pods: &[(serde_json::Value, String)]) -> Vec<String> {
    names
        .iter()
        .map(|n| {
            let origin = pods
                .iter()
                .find(|(p, _)| p["metadata"]["name"] == n.as_str())
                .map_or("?", |(_, o)| o.as_str());
            format!("{n} ({origin})")
        })
        .collect()
}

/// The one warning the API server gives on a recorded render: the `long-names` case names its
/// release close to 63 characters, so the chart's Deployment names (release + `-master`/`-worker`)
/// exceed the DNS-label length the server recommends for what becomes Pod names. The
/// post-renderer renames nothing; the names are the chart's.
const LONG_NAME_WARNING: &str = "Warning: metadata.name: this is used in Pod names and hostnames, which can result in surprising behavior; a DNS label is recommended: [must be no more than 63 characters]\n";

fn expected_warnings(origin: &str) -> &'static str {
    if origin.contains("/long-names/") {
        LONG_NAME_WARNING
    } else {
        ""
    }
}

/// Applies each render with server-side apply, strict field validation and a server-side dry
/// run in `ns` (whose `warn` label makes Pod Security warn about any pod template below its
/// level): kubectl must succeed with nothing on stderr (but a warning listed in
/// `expected_warnings`). Renders whose objects share names are applied one by one, so every
/// object is judged as it was rendered.
fn apply_dry_run(cluster: &Cluster, ns: &Namespace, renders: &[Render]) {
    for render in renders {
        let run = cluster.run(
            &[
                "apply",
                "--server-side",
                "--dry-run=server",
                "--validate=strict",
                "--field-manager=locust-planton-test",
                "-n",
                &ns.name,
                "-f",
                "-",
            ],
            &render.text,
        );
        let expected = expected_warnings(&render.origin);
        let warnings = run.stderr.matches("Warning: ").count();
        assert!(
            run.ok
                && warnings == expected.matches("Warning: ").count()
                && run.stderr.replace(expected, "").is_empty(),
            "{}: kubectl apply --server-side --dry-run=server --validate=strict:\n{}{}",
            render.origin,
            run.stderr,
            run.stdout
        );
        let applied = run.stdout.lines().count();
        assert_eq!(
            applied,
            render.objects.len(),
            "{}: {}",
            render.origin,
            run.stdout
        );
    }
}

/// The project's Pod Security judge (`tools/psa`: Kubernetes' own checks as a program), from
/// `LP_PSA_JUDGE` or `.tools/bin/psa-judge`.
fn psa_judge() -> PathBuf {
    let judge = std::env::var_os("LP_PSA_JUDGE")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools/bin/psa-judge"));
    assert!(
        judge.is_file(),
        "psa-judge not found at {} (set LP_PSA_JUDGE or run scripts/install-tools.sh)",
        judge.display()
    );
    judge
}

/// The names of the Pods psa-judge finds in violation of `level` (none at `privileged`, which
/// has no checks).
fn judged_violations(level: &str, pods: &[serde_json::Value]) -> Vec<String> {
    if level == "privileged" {
        return Vec::new();
    }
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": pods});
    let out = assert_cmd::Command::new(psa_judge())
        .args(["--level", level])
        .write_stdin(list.to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "psa-judge: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut names: Vec<String> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("Pod/")?.split([' ', ':']).next())
        .map(str::to_string)
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Every pod of `renders` is admitted by a dry-run create in `ns` (enforcing `level`), and the
/// PSA judge agrees.
fn assert_admitted(ns: &Namespace, renders: &[Render], level: &str) {
    let pods = pods_of(renders);
    let objects: Vec<serde_json::Value> = pods.iter().map(|(p, _)| p.clone()).collect();
    let judged = judged_violations(level, &objects);
    assert!(
        judged.is_empty(),
        "psa-judge at {level}: {:?}",
        described(&judged, &pods)
    );
    let (admitted, stderr) = ns.dry_run_pods(&objects);
    let refused: Vec<String> = names(&pods)
        .into_iter()
        .filter(|n| !admitted.contains(n))
        .collect();
    assert!(
        refused.is_empty(),
        "refused in {}: {:?}\n{stderr}",
        ns.name,
        described(&refused, &pods)
    );
    assert!(stderr.is_empty(), "{stderr}");
}

/// Every pod of `renders` is refused in `ns`, by Pod Security at `level`, and the PSA judge
/// finds each in violation too.
fn assert_refused(ns: &Namespace, renders: &[Render], level: &str) {
    let pods = pods_of(renders);
    let objects: Vec<serde_json::Value> = pods.iter().map(|(p, _)| p.clone()).collect();
    assert_eq!(
        judged_violations(level, &objects),
        names(&pods),
        "psa-judge at {level}"
    );
    let (admitted, stderr) = ns.dry_run_pods(&objects);
    assert!(
        admitted.is_empty(),
        "admitted at {level}: {:?}",
        described(&admitted, &pods)
    );
    for name in names(&pods) {
        let refusal =
            format!("pods \"{name}\" is forbidden: violates PodSecurity \"{level}:latest\"");
        assert!(
            stderr.contains(&refusal),
            "{:?}: {stderr}",
            described(&[name], &pods)
        );
    }
}

#[test]
fn namespace_names_are_dns_labels_within_63_characters() {
    struct Case {
        test: &'static str,
        want: &'static str,
    }
    for case in [
        Case {
            test: "renders_are_admitted",
            want: "lp-renders-are-admitted-0000002a",
        },
        Case {
            test: "A_very_long_test_name_that_goes_on_and_on_and_on_forever",
            want: "lp-a-very-long-test-name-that-goes-on-and-o-0000002a",
        },
        Case {
            test: "_x_",
            want: "lp-x-0000002a",
        },
    ] {
        let got = kube::namespace_name(case.test, 42);
        assert_eq!(got, case.want);
        assert!(got.len() <= 63);
    }
}

const RESTRICTED: [Psa; 2] = [("enforce", "restricted"), ("warn", "restricted")];

/// Renders of every example and valid spec fixture, with each UID profile, on Helm 3 and Helm 4,
/// from the real chart.
fn spec_renders(helm: &Path, ns: &str) -> Vec<Render> {
    let home = tempfile::tempdir().unwrap();
    let chart = real_locust_chart();
    let mut renders = Vec::new();
    for spec in specs() {
        for profile in PROFILES {
            let text = template(home.path(), &spec, &chart, ns, helm, profile);
            let origin = format!(
                "{}-{}",
                spec.file_stem().unwrap().to_string_lossy(),
                profile_name(profile)
            );
            renders.push(Render::new(origin, text));
        }
    }
    renders
}

/// The project's test chart (same values interface as the DeliveryHero chart, plus a hook Job, a
/// `kind: List` with a Pod, a StatefulSet and a CronJob when `testExtras` is set).
fn test_chart() -> PathBuf {
    repo().join("tests/charts/locust-mini")
}

fn renders_are_accepted_and_admitted(test: &str, helm: &Path) {
    let cluster = kube::cluster();
    cluster.install_crds();
    let ns = cluster.namespace(test, &RESTRICTED);
    let renders = spec_renders(helm, &ns.name);
    apply_dry_run(&cluster, &ns, &renders);
    assert_admitted(&ns, &renders, "restricted");
}

#[test]
fn helm3_renders_of_every_spec_and_profile_are_accepted_and_admitted() {
    renders_are_accepted_and_admitted("helm3-renders", &helm3());
}

#[test]
fn helm4_renders_of_every_spec_and_profile_are_accepted_and_admitted() {
    renders_are_accepted_and_admitted("helm4-renders", &helm4());
}

/// The test chart, every spec with each profile on Helm 3 and Helm 4, and with its extras (a hook
/// Job, a Pod inside a `kind: List`, a StatefulSet, a CronJob) on Helm 4, which sends hooks to
/// post-renderers: accepted and admitted like the real chart's renders (but the one object the
/// chart writes invalid on purpose).
#[test]
fn test_chart_renders_with_hooks_lists_and_other_workloads_are_accepted_and_admitted() {
    let cluster = kube::cluster();
    cluster.install_crds();
    let ns = cluster.namespace("test-chart", &RESTRICTED);
    let home = tempfile::tempdir().unwrap();
    let mut renders = Vec::new();
    for (helm_name, helm) in [("helm3", helm3()), ("helm4", helm4())] {
        for spec in specs() {
            for profile in PROFILES {
                let text = template(home.path(), &spec, &test_chart(), &ns.name, &helm, profile);
                let origin = format!(
                    "mini-{helm_name}-{}-{}",
                    spec.file_stem().unwrap().to_string_lossy(),
                    profile_name(profile)
                );
                renders.push(Render::new(origin, text));
            }
        }
    }
    let example = read(repo().join("examples/checkout.yaml"));
    assert!(example.contains("  helmValues:\n"));
    let extras = home.path().join("extras.yaml");
    std::fs::write(
        &extras,
        example.replacen(
            "  helmValues:\n",
            "  helmValues:\n    testExtras: \"true\"\n",
            1,
        ),
    )
    .unwrap();
    let mut extras_renders = Vec::new();
    for profile in PROFILES {
        let text = template(
            home.path(),
            &extras,
            &test_chart(),
            &ns.name,
            &helm4(),
            profile,
        );
        extras_renders.push(Render::new(
            format!("mini-extras-{}", profile_name(profile)),
            text,
        ));
    }
    let kinds: std::collections::BTreeSet<String> = renders
        .iter()
        .chain(&extras_renders)
        .flat_map(|r| kube::pod_templates(&r.objects))
        .map(|(what, _)| what.split('/').next().unwrap().to_string())
        .collect();
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        ["CronJob", "Deployment", "Job", "Pod", "StatefulSet"]
    );
    apply_dry_run(&cluster, &ns, &renders);
    // The extras (a hook Job, a Pod in a `kind: List`, a StatefulSet, a CronJob) are accepted
    // like the rest, and their pods admitted.
    apply_dry_run(&cluster, &ns, &extras_renders);
    renders.extend(extras_renders);
    assert_admitted(&ns, &renders, "restricted");
}

/// The level `install` would label the spec's namespace with: the `enforce` label of the
/// Namespace in its `--print-command` kubectl step.
fn install_level(home: &Path, spec: &Path) -> String {
    let out = lp(home)
        .args(["install", "-f"])
        .arg(spec)
        .args(["--print-command", "--helm"])
        .arg(helm3())
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (kubectl_step, _) = stdout.split_once("EOF\n").unwrap();
    let manifest = &kubectl_step[kubectl_step.find('\n').unwrap() + 1..];
    let ns = &kubectl_objects(manifest)[0];
    ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
        .as_str()
        .unwrap()
        .to_string()
}

/// examples/kubernetes-locust.yaml (which creates its namespace) with `helm_values` appended.
fn opt_out_spec(dir: &Path, name: &str, helm_values: &str) -> PathBuf {
    let text = read(repo().join("examples/kubernetes-locust.yaml"));
    assert!(text.contains("create_namespace: true"));
    let p = dir.join(format!("{name}.yaml"));
    std::fs::write(
        &p,
        format!("{}\n  helm_values:\n{helm_values}", text.trim_end()),
    )
    .unwrap();
    p
}

/// Specs that use what their opt-outs allow (not just the annotations): root, and privileged
/// containers. `install` lowers the namespace's level for them; the server must admit their
/// pods at that level and refuse every one a level stricter.
#[test]
fn opt_out_profiles_are_admitted_at_the_install_level_and_refused_one_stricter() {
    struct Case {
        name: &'static str,
        helm_values: String,
        level: &'static str,
        stricter: &'static str,
    }
    let both = |opt_outs: &str| {
        let list: Vec<String> = opt_outs
            .split(',')
            .map(|o| format!("locust.project-planton.org/allow-{o}: \"true\""))
            .collect();
        format!(
            "    master.annotations: '{{{0}}}'\n    worker.annotations: '{{{0}}}'\n",
            list.join(", ")
        )
    };
    let root = both("run-as-root");
    let privileged = both("privileged,privilege-escalation,run-as-root");
    let cases = [
        Case {
            name: "root",
            helm_values: format!(
                "{root}    securityContext.runAsUser: \"0\"\n    securityContext.runAsNonRoot: \"false\"\n"
            ),
            level: "baseline",
            stricter: "restricted",
        },
        Case {
            name: "privileged",
            helm_values: format!(
                "{privileged}    securityContext.runAsUser: \"0\"\n    securityContext.runAsNonRoot: \"false\"\n    securityContext.privileged: \"true\"\n    securityContext.allowPrivilegeEscalation: \"true\"\n"
            ),
            level: "privileged",
            stricter: "baseline",
        },
    ];
    let cluster = kube::cluster();
    let home = tempfile::tempdir().unwrap();
    for case in cases {
        let spec = opt_out_spec(home.path(), case.name, &case.helm_values);
        assert_eq!(
            install_level(home.path(), &spec),
            case.level,
            "{}",
            case.name
        );
        let at_level = cluster.namespace(
            &format!("opt-out-{}", case.name),
            &[("enforce", case.level), ("warn", case.level)],
        );
        let stricter = cluster.namespace(
            &format!("opt-out-{}-stricter", case.name),
            &[("enforce", case.stricter)],
        );
        let mut renders = Vec::new();
        for (helm_name, helm) in [("helm3", helm3()), ("helm4", helm4())] {
            for profile in PROFILES {
                let text = template(
                    home.path(),
                    &spec,
                    &real_locust_chart(),
                    &at_level.name,
                    &helm,
                    profile,
                );
                let origin = format!("{}-{helm_name}-{}", case.name, profile_name(profile));
                renders.push(Render::new(origin, text));
            }
        }
        apply_dry_run(&cluster, &at_level, &renders);
        assert_admitted(&at_level, &renders, case.level);
        assert_refused(&stricter, &renders, case.stricter);
    }
}

/// Every recorded render of the real chart (`fixtures/reference/`, Helm 3 and Helm 4
/// post-renderer input, charts 0.31.5 and 0.35.0) after `post-render`, applied and its pods
/// created in a restricted namespace. The one object without a CRD here (KEDA's ScaledObject,
/// whose schema is not among the recorded ones) is the only thing kubectl reports.
#[test]
fn reference_renders_after_post_render_are_accepted_and_admitted() {
    let cluster = kube::cluster();
    cluster.install_crds();
    let ns = cluster.namespace("reference-renders", &RESTRICTED);
    let home = tempfile::tempdir().unwrap();
    let mut renders = Vec::new();
    let mut inputs: Vec<PathBuf> = Vec::new();
    for version in std::fs::read_dir(fixture("reference")).unwrap() {
        let version = version.unwrap().path();
        if !version.is_dir() {
            continue;
        }
        for case in std::fs::read_dir(&version).unwrap() {
            for helm in ["helm3", "helm4"] {
                inputs.push(
                    case.as_ref()
                        .unwrap()
                        .path()
                        .join(format!("{helm}-postrenderer-stdin.yaml")),
                );
            }
        }
    }
    inputs.sort();
    assert_eq!(inputs.len(), 32, "{inputs:?}");
    for input in &inputs {
        let out = lp(home.path())
            .arg("post-render")
            .write_stdin(read(input))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            input.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let rel = input
            .strip_prefix(fixture("reference"))
            .unwrap()
            .display()
            .to_string();
        renders.push(Render::new(
            rel.replace("-postrenderer-stdin.yaml", ""),
            String::from_utf8(out.stdout).unwrap(),
        ));
    }
    let (keda, rest): (Vec<Render>, Vec<Render>) = renders
        .into_iter()
        .partition(|r| r.text.contains("kind: ScaledObject"));
    assert_eq!(keda.len(), 2, "the keda case, Helm 3 and 4");
    apply_dry_run(&cluster, &ns, &rest);
    for render in &keda {
        let run = cluster.run(
            &[
                "apply",
                "--server-side",
                "--dry-run=server",
                "--validate=strict",
                "-n",
                &ns.name,
                "-f",
                "-",
            ],
            &render.text,
        );
        let errors: Vec<&str> = run
            .stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        assert_eq!(errors.len(), 2, "{}: {}", render.origin, run.stderr);
        assert!(
            errors[0]
                .contains("no matches for kind \"ScaledObject\" in version \"keda.sh/v1alpha1\"")
                && errors[1].contains("ensure CRDs are installed first"),
            "{}: {}",
            render.origin,
            run.stderr
        );
        let others = render.objects.len() - 1;
        assert_eq!(run.stdout.lines().count(), others, "{}", run.stdout);
    }
    let all: Vec<Render> = rest.into_iter().chain(keda).collect();
    assert_admitted(&ns, &all, "restricted");
    // The control: the same renders before `post-render` (the chart's own pods) are refused,
    // every one, by the server and by the judge.
    let raw: Vec<Render> = inputs
        .iter()
        .map(|input| Render::new(input.display().to_string(), read(input)))
        .collect();
    assert_refused(&ns, &raw, "restricted");
}

// ---- install / upgrade / uninstall for real (no nodes: no pods run) ----

/// `locust-planton ARGS…` with `home`'s Helm homes, `KUBECONFIG` the test cluster's and the
/// v1.37 kubectl as `KUBECTL`: (exit code, stdout, stderr).
fn lp_on(cluster: &Cluster, home: &Path, args: &[&str]) -> (i32, String, String) {
    let out = lp(home)
        .args(args)
        .env("KUBECONFIG", cluster.kubeconfig())
        .env("KUBECTL", kubectl())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Every object of the kinds a release of the chart can hold in `ns`, with its uid and version
/// (so a change shows, not only a deletion), and the Helm release records. Deployments carry
/// (and PodDisruptionBudgets and HorizontalPodAutoscalers) carry their `generation`, which only a
/// change of the object bumps: with controllers running (`kube.sh up --nodes`), their status, and
/// so their resourceVersion, changes by itself.
fn object_list(cluster: &Cluster, ns: &str) -> Vec<String> {
    let list = |kinds: &str, version: &str| {
        cluster.ok(
            &[
                "get",
                kinds,
                "-n",
                ns,
                "-o",
                &format!("custom-columns=KIND:.kind,NAME:.metadata.name,UID:.metadata.uid,VERSION:{version}"),
                "--no-headers",
            ],
            "",
        )
    };
    let out = list(
        "deployments,poddisruptionbudgets,horizontalpodautoscalers",
        ".metadata.generation",
    ) + &list(
        "services,configmaps,secrets,serviceaccounts,ingresses,networkpolicies,roles,rolebindings,servicemonitors",
        ".metadata.resourceVersion",
    );
    let mut lines: Vec<String> = out
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    lines.sort();
    lines
}

fn get_json(cluster: &Cluster, ns: &str, what: &[&str]) -> serde_json::Value {
    let mut args = vec!["get", "-n", ns, "-o", "json"];
    args.extend(what);
    serde_json::from_str(&cluster.ok(&args, "")).unwrap()
}

/// A spec that creates its namespace (examples/kubernetes-locust.yaml) with this script.
fn script_spec(dir: &Path, script: &str, extra_values: &str) -> PathBuf {
    let text = read(repo().join("examples/kubernetes-locust.yaml"));
    let text = text.replace("q=locust", script);
    let text = if extra_values.is_empty() {
        text
    } else {
        format!("{}\n  helm_values:\n{extra_values}", text.trim_end())
    };
    let p = dir.join(format!("spec-{}.yaml", slug(script)));
    std::fs::write(&p, text).unwrap();
    p
}

const SCRIPTS_HASH: &str = "locust.project-planton.org/scripts-sha256";

/// The script ConfigMaps of release `release` in `ns` (names), and the scripts hash on each
/// Deployment's pod template.
fn scripts_state(cluster: &Cluster, ns: &str) -> (Vec<String>, Vec<String>) {
    let cms = get_json(cluster, ns, &["configmaps"]);
    let mut names: Vec<String> = cms["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["metadata"]["name"].as_str().unwrap().to_string())
        .filter(|n| n != "kube-root-ca.crt")
        .collect();
    names.sort();
    let deployments = get_json(cluster, ns, &["deployments"]);
    let hashes = deployments["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            d["spec"]["template"]["metadata"]["annotations"][SCRIPTS_HASH]
                .as_str()
                .unwrap_or_else(|| panic!("no scripts hash on {}", d["metadata"]["name"]))
                .to_string()
        })
        .collect();
    (names, hashes)
}

/// `install` with Helm 3 and Helm 4 into a namespace it creates: the Namespace carries the Pod
/// Security labels, and the server enforces them; `install` of a changed script replaces the
/// hashed ConfigMap and the pod templates' hash; `uninstall --dry-run` changes nothing;
/// `uninstall` leaves no object of the release.
#[test]
fn install_upgrade_uninstall_for_real_with_helm3_and_helm4() {
    let cluster = kube::cluster();
    for (helm_name, helm) in [("helm3", helm3()), ("helm4", helm4())] {
        let home = tempfile::tempdir().unwrap();
        let ns = cluster.adopt(&cluster.fresh_name(&format!("install-{helm_name}")));
        let chart = real_locust_chart().display().to_string();
        let helm = helm.display().to_string();
        let install = |spec: &Path| {
            let spec = spec.display().to_string();
            lp_on(
                &cluster,
                home.path(),
                &[
                    "install", "-f", &spec, "-n", &ns.name, "--chart", &chart, "--helm", &helm,
                ],
            )
        };
        let first = script_spec(home.path(), "q=first", "");
        let (code, _, stderr) = install(&first);
        assert_eq!(code, 0, "{helm_name}: {stderr}");
        // The Namespace the tool created carries the labels it promises...
        let namespace = get_json(&cluster, &ns.name, &["namespace", &ns.name]);
        for mode in ["enforce", "warn", "audit"] {
            let labels = &namespace["metadata"]["labels"];
            assert_eq!(
                labels[format!("pod-security.kubernetes.io/{mode}")],
                "restricted"
            );
            assert_eq!(
                labels[format!("pod-security.kubernetes.io/{mode}-version")],
                "latest"
            );
        }
        // ...and the server enforces them: a privileged Pod is refused by PodSecurity.
        // Made here when no controller manager runs; with one (`up --nodes`) it already exists.
        cluster.ok(
            &["apply", "--server-side", "-f", "-"],
            &format!("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\n  namespace: {}\n", ns.name),
        );
        let privileged = serde_json::json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "privileged"},
            "spec": {"containers": [{"name": "c", "image": "registry.invalid/x:1",
                "securityContext": {"privileged": true}}]}});
        let (admitted, refusals) = ns.dry_run_pods(&[privileged]);
        assert!(admitted.is_empty(), "{helm_name}: admitted");
        assert!(
            refusals.contains("violates PodSecurity \"restricted:latest\": privileged"),
            "{refusals}"
        );
        let (configmaps_1, hashes_1) = scripts_state(&cluster, &ns.name);
        assert_eq!(hashes_1.len(), 2, "{helm_name}: master and worker");
        assert!(hashes_1.iter().all(|h| h == &hashes_1[0]));

        // A changed script: a new hashed ConfigMap, the old one gone, the new hash on both
        // pod templates.
        let second = script_spec(home.path(), "q=second", "");
        let (code, _, stderr) = install(&second);
        assert_eq!(code, 0, "{helm_name}: {stderr}");
        let (configmaps_2, hashes_2) = scripts_state(&cluster, &ns.name);
        assert_eq!(
            configmaps_2.len(),
            configmaps_1.len(),
            "{configmaps_1:?} → {configmaps_2:?}"
        );
        let gone: Vec<_> = configmaps_1
            .iter()
            .filter(|c| !configmaps_2.contains(c))
            .collect();
        let new: Vec<_> = configmaps_2
            .iter()
            .filter(|c| !configmaps_1.contains(c))
            .collect();
        assert_eq!(
            gone.len(),
            1,
            "{helm_name}: {configmaps_1:?} → {configmaps_2:?}"
        );
        assert_eq!(
            new.len(),
            1,
            "{helm_name}: {configmaps_1:?} → {configmaps_2:?}"
        );
        assert!(
            hashes_2
                .iter()
                .all(|h| h == &hashes_2[0] && h != &hashes_1[0])
        );
        let script = get_json(&cluster, &ns.name, &["configmap", new[0]]);
        assert!(
            script["data"]
                .as_object()
                .unwrap()
                .values()
                .any(|v| v.as_str().unwrap().contains("q=second")),
            "{script}"
        );

        // uninstall --dry-run changes nothing; uninstall leaves no object of the release.
        let spec = second.display().to_string();
        let before = object_list(&cluster, &ns.name);
        assert!(
            before.iter().any(|l| l.starts_with("Deployment ")),
            "{before:?}"
        );
        let (code, _, stderr) = lp_on(
            &cluster,
            home.path(),
            &[
                "uninstall",
                "-f",
                &spec,
                "-n",
                &ns.name,
                "--dry-run",
                "--helm",
                &helm,
            ],
        );
        assert_eq!(code, 0, "{helm_name}: {stderr}");
        assert_eq!(
            object_list(&cluster, &ns.name),
            before,
            "{helm_name}: uninstall --dry-run changed objects"
        );
        let (code, _, stderr) = lp_on(
            &cluster,
            home.path(),
            &["uninstall", "-f", &spec, "-n", &ns.name, "--helm", &helm],
        );
        assert_eq!(code, 0, "{helm_name}: {stderr}");
        let left: Vec<String> = object_list(&cluster, &ns.name)
            .into_iter()
            .filter(|l| {
                !l.starts_with("ServiceAccount default ")
                    && !l.starts_with("ConfigMap kube-root-ca.crt ")
            })
            .collect();
        assert!(
            left.is_empty(),
            "{helm_name}: left after uninstall: {left:?}"
        );
    }
}

/// Into a namespace that exists (the spec does not create it): `install` prints the label
/// command and changes no label.
#[test]
fn install_into_an_existing_namespace_prints_the_label_command_and_changes_no_label() {
    let cluster = kube::cluster();
    cluster.install_crds();
    let ns = cluster.namespace("existing-ns", &[("warn", "baseline")]);
    let home = tempfile::tempdir().unwrap();
    let labels =
        |c: &Cluster| get_json(c, &ns.name, &["namespace", &ns.name])["metadata"]["labels"].clone();
    let before = labels(&cluster);
    let spec = repo().join("examples/checkout.yaml").display().to_string();
    let chart = real_locust_chart().display().to_string();
    let helm = helm4().display().to_string();
    let (code, _, stderr) = lp_on(
        &cluster,
        home.path(),
        &[
            "install", "-f", &spec, "-n", &ns.name, "--chart", &chart, "--helm", &helm,
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!("kubectl label namespace {} pod-security.kubernetes.io/enforce=restricted pod-security.kubernetes.io/warn=restricted pod-security.kubernetes.io/audit=restricted", ns.name)),
        "{stderr}"
    );
    assert_eq!(labels(&cluster), before);
}

/// A release whose pods cannot run (a node selector no node carries; no nodes at all here):
/// `status` says Pending, `wait` gives up with exit 3, from the real objects; `rerun` patches
/// the Deployments the server holds (a new restartedAt on both pod templates).
#[test]
fn status_wait_and_rerun_on_a_release_whose_pods_cannot_run() {
    let cluster = kube::cluster();
    let home = tempfile::tempdir().unwrap();
    let ns = cluster.adopt(&cluster.fresh_name("pending"));
    let spec = script_spec(
        home.path(),
        "q=pending",
        "    master.nodeSelector: '{lp-test/no-such-node: \"true\"}'\n    worker.nodeSelector: '{lp-test/no-such-node: \"true\"}'\n",
    )
    .display()
    .to_string();
    let chart = real_locust_chart().display().to_string();
    let helm = helm3().display().to_string();
    let (code, _, stderr) = lp_on(
        &cluster,
        home.path(),
        &[
            "install", "-f", &spec, "-n", &ns.name, "--chart", &chart, "--helm", &helm,
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let deployments = get_json(&cluster, &ns.name, &["deployments"]);
    for d in deployments["items"].as_array().unwrap() {
        assert_eq!(
            d["spec"]["template"]["spec"]["nodeSelector"]["lp-test/no-such-node"], "true",
            "{}",
            d["metadata"]["name"]
        );
    }
    let (code, stdout, stderr) = lp_on(
        &cluster,
        home.path(),
        &["status", "-f", &spec, "-n", &ns.name, "-o", "json"],
    );
    assert_eq!(code, 0, "{stderr}");
    let status: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(status["phase"], "Pending", "{stdout}");
    let (code, _, stderr) = lp_on(
        &cluster,
        home.path(),
        &[
            "wait",
            "-f",
            &spec,
            "-n",
            &ns.name,
            "--timeout",
            "1s",
            "--interval",
            "1s",
        ],
    );
    assert_eq!(code, 3, "{stderr}");

    let restarted = |c: &Cluster| -> Vec<Option<String>> {
        get_json(c, &ns.name, &["deployments"])["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                d["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
                    .as_str()
                    .map(str::to_string)
            })
            .collect()
    };
    assert_eq!(restarted(&cluster), vec![None, None]);
    let (code, _, stderr) = lp_on(
        &cluster,
        home.path(),
        &["rerun", "-f", &spec, "-n", &ns.name],
    );
    assert_eq!(code, 0, "{stderr}");
    let after = restarted(&cluster);
    assert!(after.iter().all(Option::is_some), "{after:?}");
}

/// The recorded kubectl scenarios `not-installed` and `no-pods` (fixtures/kubectl/), live: a
/// namespace without the release is "not found", exit 1; an installed release with no pods yet
/// (no controller manager runs here) is Pending, "no master pod yet".
#[test]
fn recorded_scenarios_not_installed_and_no_pods_live() {
    let cluster = kube::cluster();
    let home = tempfile::tempdir().unwrap();
    let empty = cluster.namespace("not-installed", &[]);
    for command in ["status", "wait"] {
        let (code, stdout, stderr) = lp_on(
            &cluster,
            home.path(),
            &[command, "ci-run", "-n", &empty.name],
        );
        assert_eq!(code, 1, "{command}: {stderr}");
        assert!(stdout.is_empty(), "{command}: {stdout}");
        assert!(
            stderr.ends_with(&format!(
                "locust-planton: release ci-run not found in namespace {}\n",
                empty.name
            )),
            "{command}: {stderr}"
        );
    }
    // A namespace whose ResourceQuota allows no pods: the Deployments are observed and their
    // ReplicaSets made (with a controller manager, `up --nodes`), but no pod is ever created —
    // the recording's state, reproducible whether or not controllers run. The spec must not
    // create the namespace then.
    let ns = cluster.namespace("no-pods", &[]);
    cluster.ok(
        &[
            "create",
            "quota",
            "no-pods",
            "--hard=pods=0",
            "-n",
            &ns.name,
        ],
        "",
    );
    let spec = script_spec(home.path(), "q=no-pods", "");
    std::fs::write(
        &spec,
        read(&spec).replace("create_namespace: true", "create_namespace: false"),
    )
    .unwrap();
    let spec = spec.display().to_string();
    let chart = real_locust_chart().display().to_string();
    let helm = helm4().display().to_string();
    let (code, _, stderr) = lp_on(
        &cluster,
        home.path(),
        &[
            "install", "-f", &spec, "-n", &ns.name, "--chart", &chart, "--helm", &helm,
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let with_controllers = std::env::var("LP_KUBE_NODES").is_ok_and(|n| !n.is_empty());
    if with_controllers {
        // The recording's moment: the deployment controller has seen both Deployments.
        cluster.ok(
            &[
                "wait",
                "--for=jsonpath={.status.observedGeneration}=1",
                "deployments",
                "--all",
                "-n",
                &ns.name,
                "--timeout=60s",
            ],
            "",
        );
    }
    let (code, stdout, stderr) = lp_on(
        &cluster,
        home.path(),
        &["status", "-f", &spec, "-n", &ns.name, "-o", "json"],
    );
    assert_eq!(code, 0, "{stderr}");
    // The recording's Deployment has been seen by the deployment controller (observedGeneration
    // 1) and has no pods: "no master pod yet". Without a controller manager the live Deployment
    // has no status yet and the same Pending comes with the reason for an unobserved one.
    let status: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(status["phase"], "Pending", "{stdout}");
    let reason = if with_controllers {
        "no master pod yet"
    } else {
        "the master Deployment changed; its new pods are not created yet"
    };
    assert_eq!(status["reason"], reason, "{stdout}");
    assert_eq!(status["workersReady"], "0/0", "{stdout}");
}
