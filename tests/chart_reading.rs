//! How the pinned chart renders each value, three ways that must agree: the table the product
//! carries (`src/values/chart_keys.rs`), a reading of the real chart's templates
//! (`scripts/chart-values-usage.py`), and real renders (Helm 3 and 4 with the real chart, the
//! output read by kubectl). The real chart is the pinned version's reference copy beside the checkout, or
//! `$LP_REAL_CHART` (`common::real_locust_chart`).
// Without `tools`, the helpers of the tool-driven tests below are unused.
#![cfg_attr(not(feature = "tools"), allow(dead_code, unused_imports))]

mod common;
use common::*;
use locust_planton::values::chart_keys::{LISTS, Render, USES};
use locust_planton::yaml::parse_single;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// `scripts/chart-values-usage.py CHART`: path → renderings.
fn read_chart(chart: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let out = std::process::Command::new(venv_bin("python3"))
        .arg(repo().join("scripts/chart-values-usage.py"))
        .arg(chart)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chart-values-usage.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (path, renders) = l.split_once('\t').unwrap();
            (
                path.to_string(),
                renders.split(',').map(str::to_string).collect(),
            )
        })
        .collect()
}

fn table() -> BTreeMap<String, BTreeSet<String>> {
    USES.iter()
        .map(|(path, renders)| {
            (
                path.to_string(),
                renders.iter().map(|r| r.word().to_string()).collect(),
            )
        })
        .collect()
}

fn words(set: Option<&BTreeSet<String>>) -> String {
    set.map_or("(not listed)".into(), |s| {
        s.iter().cloned().collect::<Vec<_>>().join(",")
    })
}

/// The product's table is the chart's reading: the same paths, each rendered the same ways.
#[cfg(feature = "tools")]
#[test]
fn the_table_is_the_real_charts_reading() {
    let chart = read_chart(&real_locust_chart());
    let ours = table();
    let drift: Vec<String> = chart
        .keys()
        .chain(ours.keys())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter(|p| chart.get(*p) != ours.get(*p))
        .map(|p| {
            format!(
                "{p}: the chart's templates render it {}; src/values/chart_keys.rs says {}",
                words(chart.get(p)),
                words(ours.get(p))
            )
        })
        .collect();
    assert!(drift.is_empty(), "drift:\n{}", drift.join("\n"));
    assert!(ours.len() > 100, "{} paths", ours.len());
}

/// The `toYaml` paths the product treats as lists are exactly those whose default in the real
/// chart's values.yaml is a list (or null); the others are mappings whose keys are the user's.
#[test]
fn lists_are_the_toyaml_paths_with_a_list_default() {
    let defaults = parse_single(&read(real_locust_chart().join("values.yaml"))).unwrap();
    for (path, renders) in USES {
        if !renders.contains(&Render::ToYaml) {
            continue;
        }
        let parts: Vec<&str> = path.split('.').collect();
        let default = defaults.get_path(&parts);
        let is_list = default.is_some_and(|d| d.as_seq().is_some() || d.is_null());
        assert_eq!(LISTS.contains(path), is_list, "{path}: default {default:?}");
    }
}

/// The script itself, on a chart of each construct it reads: map keys and values of a range,
/// list items, `with`, helpers called and not, `tpl`, `quote`, `toYaml`, `b64enc`, `set`,
/// NOTES.txt.
#[cfg(feature = "tools")]
#[test]
fn the_script_reads_each_template_construct() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("templates");
    std::fs::create_dir_all(&t).unwrap();
    std::fs::write(
        dir.path().join("Chart.yaml"),
        "apiVersion: v2\nname: c\nversion: 1.0.0\n",
    )
    .unwrap();
    std::fs::write(
        t.join("_helpers.tpl"),
        "{{- define \"c.name\" -}}\n{{ .Values.name | trunc 63 }}\n{{- end -}}\n{{- define \"c.never\" -}}{{ .Values.ghost }}{{- end -}}\n",
    )
    .unwrap();
    std::fs::write(
        t.join("a.yaml"),
        r#"{{/* a comment with {{ .Values.commented }} */}}
metadata:
  name: {{ include "c.name" . }}
  {{- with .Values.annotations }}
  annotations: {{- toYaml . | nindent 4 }}
  {{- end }}
env:
{{- range $key, $value := .Values.env }}
  - name: {{ $key }}
    value: {{ $value | quote }}
{{- end }}
{{- range .Values.hosts }}
  - host: {{ .host | quote }}
    path: {{ .path }}
{{- end }}
secret: {{ .Values.secret | b64enc | quote }}
{{- if eq .Values.mode "x" }}
replicas: {{ .Values.replicas | default 1 }}
{{- end }}
{{- $_ := set .Values.annotations "k" .Values.copied }}
{{ range .Values.objects }}
{{ tpl (toYaml .) $ }}
{{ end }}
"#,
    )
    .unwrap();
    std::fs::write(
        t.join("NOTES.txt"),
        "{{ .Values.name }} {{ .Values.url }}\n",
    )
    .unwrap();
    let got: Vec<String> = read_chart(dir.path())
        .into_iter()
        .map(|(p, r)| format!("{p} {}", words(Some(&r))))
        .collect();
    assert_eq!(
        got,
        [
            "annotations test,toYaml",
            "copied set",
            "env.* quote",
            "env.<key> bare",
            "ghost unused",
            "hosts[].host quote",
            "hosts[].path bare",
            "mode test",
            "name bare",
            "objects[] tpl",
            "replicas bare",
            "secret b64enc",
            "url notes",
        ]
    );
    // Syntax it does not know stops it, naming where.
    std::fs::write(t.join("b.yaml"), "x: {{ .Values.y | someNewFunction }}\n").unwrap();
    let out = std::process::Command::new(venv_bin("python3"))
        .arg(repo().join("scripts/chart-values-usage.py"))
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "chart-values-usage: b.yaml:1: unknown function `someNewFunction`\n"
    );
}

// ---- real renders -------------------------------------------------------------------------

/// A hostile text: `: `, both quotes, `#`, template syntax and a line break that would add a
/// field if written bare.
const HOSTILE: &str = "lp-probe: 'x' \"y\" #z {{ \"tpl\" }}\nhostPID: true";

/// `helm template` of the real chart with `values` (JSON), read by kubectl; None when helm or
/// kubectl refuses the render.
fn render(helm: &Path, home: &Path, values: &serde_json::Value) -> Option<Vec<serde_json::Value>> {
    let file = home.join("probe-values.json");
    std::fs::write(&file, values.to_string()).unwrap();
    let out = helm_cmd(helm, home)
        .args(["template", "probe"])
        .arg(real_locust_chart())
        .arg("--values")
        .arg(&file)
        .output()
        .unwrap();
    if !out.status.success() {
        return None;
    }
    let read = kubectl_read(&String::from_utf8(out.stdout).unwrap(), "json");
    if !read.status.success() {
        return None;
    }
    Some(
        serde_json::Deserializer::from_slice(&read.stdout)
            .into_iter::<serde_json::Value>()
            .map(Result::unwrap)
            .collect(),
    )
}

/// Every text the objects carry: keys, strings, numbers, and Secret data decoded.
fn texts(objects: &[serde_json::Value]) -> Vec<String> {
    use base64::Engine;
    fn walk(v: &serde_json::Value, secret_data: bool, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, child) in m {
                    out.push(k.clone());
                    walk(child, secret_data || k == "data", out);
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| walk(i, secret_data, out)),
            serde_json::Value::String(s) => {
                out.push(s.clone());
                if secret_data
                    && let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(s)
                {
                    out.push(String::from_utf8_lossy(&bytes).into_owned());
                }
            }
            other => out.push(other.to_string()),
        }
    }
    let mut out = Vec::new();
    for o in objects {
        walk(o, o["kind"] == "Secret", &mut out);
    }
    out
}

/// Values that switch on every block the chart renders conditionally, so each position is
/// reached: KEDA, PodDisruptionBudgets, the Ingress with TLS, mounted and environment secrets,
/// a requirements ConfigMap, tags.
fn enabling_values() -> serde_json::Value {
    serde_json::json!({
        "loadtest": {
            "pip_requirementsfile_configmap": "reqs",
            "environment_secret": {"S": "v"},
            "mount_external_secret": {"mountPath": "/mnt/s", "files": {"sec": ["k"]}},
            "tags": "t",
            "excludeTags": "e",
            "pip_packages": ["p"],
        },
        "master": {"pdb": {"enabled": true}},
        "worker": {"pdb": {"enabled": true}, "keda": {"enabled": true}},
        "ingress": {
            "enabled": true,
            "className": "nginx",
            "hosts": [{"host": "h.example", "path": "/", "pathType": "Prefix"}],
            "tls": [{"hosts": ["h.example"], "secretName": "tls"}],
        },
        "extraConfigMaps": {"cm": "/mnt/cm"},
        "extraLabels": {"team": "t"},
    })
}

/// What a position needs besides the enabling values to be rendered at all.
fn overlay_for(path: &str) -> serde_json::Value {
    use serde_json::json;
    if path.starts_with("master.auth.") {
        // `--web-auth` is written for Locust before 2.21; the chart then reads
        // `master.image.tag` and `worker.image.tag`, so those images are maps here.
        json!({"image": {"tag": "2.20.0"}, "master": {"auth": {"enabled": true}, "image": {"tag": "2.20.0"}},
               "worker": {"image": {"tag": "2.20.0"}}})
    } else if path.starts_with("worker.hpa.") {
        json!({"worker": {"hpa": {"enabled": true}}})
    } else if path == "service.loadBalancerIP" {
        json!({"service": {"type": "LoadBalancer"}})
    } else if path == "service.nodePort" {
        json!({"service": {"type": "NodePort"}})
    } else {
        json!({})
    }
}

fn merge(into: &mut serde_json::Value, from: &serde_json::Value) {
    match (into, from) {
        (serde_json::Value::Object(a), serde_json::Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(k) {
                    Some(existing) if existing.is_object() && v.is_object() => merge(existing, v),
                    _ => {
                        a.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (into, from) => *into = from.clone(),
    }
}

/// The values that put `probe` at `path` (a `USES` path: `.<key>`, `.*`, `[]`, `[].x`), as a
/// JSON value to merge over the enabling ones. The two templated positions take a probe in the
/// shape they render: an object for `extraObjects`, YAML text for the KEDA triggers.
fn placed(path: &str, probe: &serde_json::Value) -> serde_json::Value {
    use serde_json::json;
    if path == "extraObjects[]" {
        return json!({"extraObjects": [
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "probe"}, "data": {"k": probe}}
        ]});
    }
    if path == "worker.keda.triggers" {
        let text = match probe {
            serde_json::Value::String(s) if s == HOSTILE => s.clone(),
            other => format!("- type: {}", other.as_str().unwrap()),
        };
        return json!({"worker": {"keda": {"triggers": text}}});
    }
    // Built from the innermost step outwards.
    let mut steps: Vec<&str> = Vec::new();
    for segment in path.split('.') {
        let name = segment.trim_end_matches("[]");
        steps.push(name);
        steps.extend(std::iter::repeat_n("[]", (segment.len() - name.len()) / 2));
    }
    let mut value = probe.clone();
    let mut key_probe = false;
    for step in steps.iter().rev() {
        value = match *step {
            "<key>" => {
                key_probe = true;
                value
            }
            "*" if key_probe => {
                key_probe = false;
                value
            }
            "*" => json!({"lpk": value}),
            "[]" => match path {
                p if p.starts_with("ingress.hosts[]") => {
                    let mut host = json!({"host": "h.example", "path": "/", "pathType": "Prefix"});
                    merge(&mut host, &value);
                    json!([host])
                }
                p if p.starts_with("ingress.tls[]") => {
                    let mut tls = json!({"hosts": ["h.example"], "secretName": "tls"});
                    merge(&mut tls, &value);
                    json!([tls])
                }
                _ => json!([value]),
            },
            field if key_probe => {
                key_probe = false;
                let key = value
                    .as_str()
                    .map_or_else(|| value.to_string(), str::to_string);
                // Maps whose values the chart ranges over again hold lists.
                let base = path.trim_end_matches(".<key>");
                let inner = if USES.iter().any(|(p, _)| *p == format!("{base}.*[]")) {
                    json!(["lpv"])
                } else {
                    json!("lpv")
                };
                json!({field: {key: inner}})
            }
            field => json!({field: value}),
        };
    }
    value
}

/// The renderings under which a value comes out as exactly itself.
fn keeps_text(renders: &[Render]) -> bool {
    !renders.contains(&Render::Bare) && !renders.contains(&Render::Tpl)
}

/// Real Helm 3 and the real chart decide "quoted or bare" for every written position: a plain
/// probe placed there is found in the output (the position is reached), and a hostile one
/// comes out as the same text (kubectl's reading) exactly when the table says no use writes it
/// bare or through `tpl`.
#[cfg(feature = "tools")]
#[test]
fn real_renders_agree_with_the_table_on_every_written_position() {
    let home = tempfile::tempdir().unwrap();
    let helm = helm3();
    let mut disagreements = Vec::new();
    let mut probed = 0;
    for (i, (path, renders)) in USES.iter().enumerate() {
        let written = renders.iter().any(|r| {
            matches!(
                r,
                Render::Bare | Render::Quote | Render::B64enc | Render::Tpl
            )
        });
        if !written {
            continue;
        }
        probed += 1;
        let is_int = locust_planton::values::chart_keys::BARE_TYPES
            .iter()
            .any(|(p, k)| p == path && *k == locust_planton::values::chart_keys::BareType::Int);
        let is_enum = locust_planton::values::chart_keys::BARE_TYPES
            .iter()
            .find(|(p, _)| p == path)
            .and_then(|(_, k)| match k {
                locust_planton::values::chart_keys::BareType::Enum(words) => Some(words[0]),
                _ => None,
            });
        let plain = match (is_int, is_enum) {
            (true, _) => serde_json::json!(4200 + i),
            (_, Some(word)) => serde_json::json!(word),
            _ => serde_json::json!(format!("lpplain{i}")),
        };
        let values = |probe: &serde_json::Value| {
            let mut v = enabling_values();
            merge(&mut v, &overlay_for(path));
            merge(&mut v, &placed(path, probe));
            v
        };
        let plain_text = plain
            .as_str()
            .map_or_else(|| plain.to_string(), str::to_string);
        let reached = render(&helm, home.path(), &values(&plain))
            .is_some_and(|objs| texts(&objs).iter().any(|t| t.contains(&plain_text)));
        if !reached {
            disagreements.push(format!(
                "{path}: a plain probe ({plain_text}) never reaches the output"
            ));
            continue;
        }
        let survives = render(&helm, home.path(), &values(&serde_json::json!(HOSTILE)))
            .is_some_and(|objs| texts(&objs).iter().any(|t| t.contains(HOSTILE)));
        if survives != keeps_text(renders) {
            disagreements.push(format!(
                "{path}: real Helm {} the text; src/values/chart_keys.rs says {}",
                if survives { "keeps" } else { "does not keep" },
                renders
                    .iter()
                    .map(|r| r.word())
                    .collect::<Vec<_>>()
                    .join(",")
            ));
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    assert!(probed > 50, "only {probed} positions probed");
}

/// `loadtest.environment.FEATURE_FLAG: "'on'"` is accepted (the chart quotes environment
/// values) and reaches both Deployments as the string `on`, with real Helm 3 and 4 and the real
/// chart, read by kubectl; so do a quoted label value and an environment value full of YAML
/// syntax.
#[cfg(feature = "tools")]
#[test]
fn values_the_chart_quotes_reach_the_pods_as_written() {
    let spec = fixture("specs/valid/helm-values-quoted-by-the-chart.yaml");
    for helm in [helm3(), helm4()] {
        let home = tempfile::tempdir().unwrap();
        let out = std::process::Command::new(bin())
            .args(["template", "-f"])
            .arg(&spec)
            .arg("--chart")
            .arg(real_locust_chart())
            .arg("--helm")
            .arg(&helm)
            .env("HELM_CACHE_HOME", home.path().join("cache"))
            .env("HELM_CONFIG_HOME", home.path().join("config"))
            .env("HELM_DATA_HOME", home.path().join("data"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            helm.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let objs = kubectl_objects(&String::from_utf8(out.stdout).unwrap());
        for role in ["master", "worker"] {
            let d = find(&objs, "Deployment", &format!("demo-{role}"));
            let env = d
                .pointer("/spec/template/spec/containers/0/env")
                .and_then(|e| e.as_array())
                .unwrap();
            let value = |name: &str| {
                env.iter()
                    .find(|e| e["name"] == name)
                    .map(|e| e["value"].clone())
            };
            assert_eq!(
                value("FEATURE_FLAG"),
                Some("on".into()),
                "{} {role}",
                helm.display()
            );
            let greeting = (role == "master").then(|| serde_json::json!("say \"hi\": #1"));
            assert_eq!(value("GREETING"), greeting, "{} {role}", helm.display());
            assert_eq!(d["metadata"]["labels"]["team"], "on");
        }
    }
}

/// What the `tpl` refusal closes, shown with real Helm 3 and 4 and the real chart: the values a
/// spec with these `extraObjects` would give, if they were not refused, render a Pod from
/// `kind: "{{ print \"Pod\" }}"` and a Helm hook Pod from a templated `helm.sh/hook` key, while
/// the checks before Helm, which read the text before templating, see neither. `check` and
/// `values` refuse the spec, naming the key.
#[cfg(feature = "tools")]
#[test]
fn templated_extra_objects_would_become_hook_pods() {
    let attack = "- apiVersion: v1\n  kind: \"{{ print \\\"Pod\\\" }}\"\n  metadata: {name: sneaky}\n  spec: {containers: [{name: c, image: busybox, securityContext: {privileged: true}}]}\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: hook\n    annotations: {'{{ print \"helm.sh/hook\" }}': pre-install}\n  spec: {containers: [{name: c, image: busybox}]}\n";
    let base = read(fixture("specs/valid/minimal.yaml"));
    let spec = format!(
        "{base}  helmValues:\n    extraObjects: {}\n",
        locust_planton::yaml::quote_double(attack)
    );
    for command in ["check", "values"] {
        let out = std::process::Command::new(bin())
            .args([command, "-f", "-"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child.stdin.take().unwrap().write_all(spec.as_bytes())?;
                child.wait_with_output()
            })
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{command}");
        let report = String::from_utf8_lossy(if command == "check" {
            &out.stdout
        } else {
            &out.stderr
        })
        .into_owned();
        for place in [
            "`extraObjects[0].kind`",
            "a key of `extraObjects[1].metadata.annotations`",
        ] {
            assert!(
                report.contains(&format!(
                    "spec.helmValues.extraObjects: {place} holds template syntax"
                )),
                "{command}: {report}"
            );
        }
        if command == "values" {
            assert!(out.stdout.is_empty());
        }
    }

    // Without the refusal: the spec's values with the attack in `extraObjects`.
    let out = std::process::Command::new(bin())
        .args(["values", "-f"])
        .arg(fixture("specs/valid/minimal.yaml"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut values = parse_single(&String::from_utf8(out.stdout).unwrap()).unwrap();
    let items = parse_single(attack).unwrap();
    values
        .as_map_mut()
        .unwrap()
        .get_mut("extraObjects")
        .and_then(|e| e.as_seq_mut())
        .unwrap()
        .extend(items.as_seq().unwrap().iter().cloned());
    let before_helm = locust_planton::postrender::preflight::findings(&values, &[]);
    assert!(
        !before_helm.render("v").contains("Helm hook"),
        "the text before templating already shows a hook: {}",
        before_helm.render("v")
    );
    for helm in [helm3(), helm4()] {
        let home = tempfile::tempdir().unwrap();
        let file = home.path().join("values.yaml");
        std::fs::write(&file, locust_planton::yaml::emit_document(&values)).unwrap();
        let out = helm_cmd(&helm, home.path())
            .args(["template", "minimal"])
            .arg(real_locust_chart())
            .arg("--values")
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let objs = kubectl_objects(&String::from_utf8(out.stdout).unwrap());
        let sneaky = find(&objs, "Pod", "sneaky");
        assert_eq!(
            sneaky.pointer("/spec/containers/0/securityContext/privileged"),
            Some(&serde_json::json!(true)),
            "{}",
            helm.display()
        );
        let hook = find(&objs, "Pod", "hook");
        assert_eq!(
            hook["metadata"]["annotations"]["helm.sh/hook"],
            "pre-install",
            "{}",
            helm.display()
        );
    }
}
