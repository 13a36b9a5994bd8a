//! The manifest's JSON Schema (`locust-planton schema`, `schema/`): it is what the command prints,
//! it is a valid draft 2020-12 schema, every example and valid fixture passes it, every invalid
//! fixture fails it unless listed (with the reason) as a rule no schema can state, its patterns
//! agree with the reader's own rules on the reader's test strings, and its objects have exactly
//! the fields the reader knows (probed through the reader's unknown-field message).

mod common;
use assert_cmd::Command;
use common::*;
use locust_planton::spec::schema::{self, NOT_EXPRESSIBLE};
use locust_planton::yaml::parse_single;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Invalid fixtures the schema cannot reject, each with the rule of `NOT_EXPRESSIBLE` it
/// breaks. A new invalid fixture is either rejected by the schema or added here.
const SCHEMA_CANNOT_REJECT: &[(&str, &str)] = &[
    ("request-over-limit.yaml", "requests ≤ limits"),
    ("pip-duplicate.yaml", "pip packages listed twice"),
    ("malformed-yaml.yaml", "YAML syntax"),
    ("tab-indent.yaml", "YAML syntax"),
    ("duplicate-key.yaml", "duplicate keys"),
    (
        "helm-values-bare-injection.yaml",
        "what the post-renderer would refuse",
    ),
    (
        "helm-values-weaker-security-context.yaml",
        "what the post-renderer would refuse",
    ),
    (
        "helm-values-opt-out-one-role.yaml",
        "what the post-renderer would refuse",
    ),
    (
        "helm-values-extra-objects-pods.yaml",
        "what the post-renderer would refuse",
    ),
    (
        "helm-values-bare-keys.yaml",
        "what the post-renderer would refuse",
    ),
    // `{{` is found in the decoded value: YAML escapes (`\x7B`) hide it from a pattern.
    (
        "helm-values-templated.yaml",
        "what the post-renderer would refuse",
    ),
    // A label's text is inside the YAML of a helmValues string: beyond a schema.
    (
        "helm-values-labels.yaml",
        "what the post-renderer would refuse",
    ),
];

fn committed() -> Value {
    serde_json::from_str(&read(repo().join("schema").join(schema::FILE_NAME))).unwrap()
}

fn validator() -> jsonschema::Validator {
    jsonschema::draft202012::new(&committed()).unwrap()
}

/// The manifest as Go's YAML rules type it (the reader's typing), as JSON.
fn as_json(text: &str) -> Option<Value> {
    parse_single(text).ok().map(|n| n.to_json())
}

fn errors(v: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    v.iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

fn yaml_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn committed_schema_is_what_the_command_prints() {
    let out = Command::new(bin()).arg("schema").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        read(repo().join("schema").join(schema::FILE_NAME)),
        "schema/{} is stale: run `locust-planton schema --output-file schema/{}`",
        schema::FILE_NAME,
        schema::FILE_NAME
    );
    // --output-file writes the same bytes.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.json");
    let out = Command::new(bin())
        .args(["schema", "--output-file"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(read(&path), schema::text());
}

#[test]
fn schema_is_valid_draft_2020_12() {
    let s = committed();
    assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema");
    jsonschema::draft202012::meta::validate(&s).unwrap();
}

#[test]
fn examples_and_valid_fixtures_pass_and_name_the_schema() {
    let v = validator();
    let mut files = yaml_files(&repo().join("examples"));
    assert!(files.len() >= 4);
    for f in &files {
        let first = read(f).lines().next().unwrap_or_default().to_string();
        assert_eq!(
            first,
            format!(
                "# yaml-language-server: $schema=../schema/{}",
                schema::FILE_NAME
            ),
            "{}: the first line points editors at the schema",
            f.display()
        );
    }
    files.extend(yaml_files(&fixture("specs/valid")));
    files.push(repo().join("examples/helmfile/checkout.yaml"));
    for f in files {
        let text = read(&f);
        assert!(
            locust_planton::spec::read(&text).is_ok(),
            "{}: the reader accepts it",
            f.display()
        );
        let instance = as_json(&text).unwrap();
        let e = errors(&v, &instance);
        assert!(e.is_empty(), "{}: {e:#?}", f.display());
    }
}

#[test]
fn invalid_fixtures_fail_unless_listed_as_beyond_a_schema() {
    let v = validator();
    let rules: BTreeSet<&str> = NOT_EXPRESSIBLE.iter().map(|(r, _)| *r).collect();
    for (file, rule) in SCHEMA_CANNOT_REJECT {
        assert!(
            rules.contains(rule),
            "{file}: `{rule}` is not in NOT_EXPRESSIBLE"
        );
    }
    let files = yaml_files(&fixture("specs/invalid"));
    assert!(files.len() >= 50);
    for f in files {
        let name = f.file_name().unwrap().to_str().unwrap();
        let text = read(&f);
        // `check` decides: rules on the chart values (docs/post-renderer.md "Before Helm runs, and
        // after") are
        // applied after the reader, to the values the spec makes.
        let check = std::process::Command::new(bin())
            .args(["check", "-f"])
            .arg(&f)
            .output()
            .unwrap();
        assert_eq!(check.status.code(), Some(1), "{name}: check rejects it");
        let listed = SCHEMA_CANNOT_REJECT.iter().any(|(n, _)| *n == name);
        match as_json(&text) {
            None => assert!(listed, "{name} does not parse; list it as `YAML syntax`"),
            Some(instance) => {
                let e = errors(&v, &instance);
                if listed {
                    assert!(
                        e.is_empty(),
                        "{name} is listed as beyond a schema, but the schema rejects it ({e:?}): remove it from SCHEMA_CANNOT_REJECT"
                    );
                } else {
                    assert!(
                        !e.is_empty(),
                        "{name}: the reader rejects it but the schema accepts it; make the schema say the rule, or list it in SCHEMA_CANNOT_REJECT with a NOT_EXPRESSIBLE reason"
                    );
                    same_place(name, &text, &v, &instance);
                }
            }
        }
    }
}

/// `spec.helmValues["a.b"].x[0]` → `spec`, `helmValues`, `a.b`, `x`, `0`; `(root)` → nothing.
fn reader_segments(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '.' => out.push(std::mem::take(&mut cur)),
            '[' => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                let quoted = chars.peek() == Some(&'"');
                if quoted {
                    chars.next();
                }
                for c in chars.by_ref() {
                    if (quoted && c == '"') || (!quoted && c == ']') {
                        break;
                    }
                    cur.push(c);
                }
                if quoted {
                    chars.next(); // ]
                }
                out.push(std::mem::take(&mut cur));
                if chars.peek() == Some(&'.') {
                    chars.next();
                }
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() && cur != "(root)" {
        out.push(cur);
    }
    out
}

/// The schema fails the fixture where the reader does: at the same field, or one level apart
/// (a missing or unknown field is the schema's error on the mapping holding it).
fn same_place(name: &str, text: &str, v: &jsonschema::Validator, instance: &Value) {
    let camel = |s: &str| {
        let mut out = String::new();
        let mut upper = false;
        for c in s.chars() {
            match c {
                '_' => upper = true,
                c if upper => {
                    out.extend(c.to_uppercase());
                    upper = false;
                }
                c => out.push(c),
            }
        }
        out
    };
    let reader: Vec<Vec<String>> = locust_planton::spec::read(text)
        .unwrap_err()
        .items
        .iter()
        .filter(|i| i.severity == locust_planton::diag::Severity::Error)
        .map(|i| reader_segments(&i.path).iter().map(|s| camel(s)).collect())
        .collect();
    let schema: Vec<Vec<String>> = v
        .iter_errors(instance)
        .map(|e| {
            e.instance_path()
                .to_string()
                .split('/')
                .skip(1)
                .map(|s| camel(&s.replace("~1", "/").replace("~0", "~")))
                .collect()
        })
        .collect();
    let related = |a: &[String], b: &[String]| {
        let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
        long.len() - short.len() <= 1 && long.starts_with(short)
    };
    assert!(
        reader.iter().any(|r| schema.iter().any(|s| related(r, s))),
        "{name}: the reader fails it at {reader:?}, the schema at {schema:?}"
    );
}

/// A schema pointer's pattern, checked like the validator does.
fn matches(schema: &Value, pointer: &str, s: &str) -> bool {
    let p = schema
        .pointer(pointer)
        .unwrap_or_else(|| panic!("{pointer}"));
    jsonschema::is_valid(&json!({"type": "string", "pattern": p}), &json!(s))
}

#[test]
fn patterns_agree_with_the_readers_rules() {
    use locust_planton::duration;
    use locust_planton::spec::{pep508, rules};
    let s = committed();
    let pip = "/$defs/loadTest/properties/pipPackages/items/pattern";
    for r in [
        "requests",
        "faker==19.0.0",
        "boto3>=1.28",
        "boto3[crt]>=1.28,<2",
        "Django (>=4.2, <5)",
        "pkg[a,b] ~= 1.4.2",
        "tomli; python_version < \"3.11\"",
        "pywin32 ; sys_platform == 'win32' and python_version >= '3.8'",
        "name @ https://example.test/name-1.0-py3-none-any.whl",
        "name @ https://example.test/x.whl ; os_name == 'posix'",
        "a.b_c-d",
        "x (==1.0.*)",
        "x; extra == \"test\" or (os_name in 'posix nt')",
        "x; python_version not in '2.7 3.5'",
        "",
        "  ",
        "--index-url=https://evil.test",
        "-r requirements.txt",
        "x; rm -rf /",
        "x; rm",
        "x && curl evil",
        "$(curl evil)",
        "`id`",
        "x | sh",
        "x==1.0 extra",
        "x @ not-a-url",
        "x @ https://evil.test/$(id)",
        "x; os_name == \"$(id)\"",
        "x; os_name == 'a;b'",
        "x==",
        "x[",
        "_x",
        "x-",
        "x @ https://e.test/a.whl; os_name == 'nt'",
    ] {
        assert_eq!(
            matches(&s, pip, r),
            pep508::validate(r).is_ok(),
            "pip requirement {r:?}: schema and reader disagree"
        );
    }
    let quantity = "/$defs/resources/properties/limits/properties/cpu/anyOf/0/pattern";
    let quantity = if s.pointer(quantity).is_some() {
        quantity
    } else {
        "/$defs/resources/properties/limits/properties/cpu/pattern"
    };
    for q in [
        "1", "250m", "0.5", ".5", "1.", "512Mi", "1Gi", "1e3", "1E-3", "+1", "-1", "1GB", "1 Gi",
        "", "m", "1.2.3", "1Ki", "2k", "1ei",
    ] {
        let reader = rules::quantity(q).is_ok_and(|v| v >= 0.0);
        assert_eq!(matches(&s, quantity, q), reader, "quantity {q:?}");
    }
    let run_time = "/$defs/run/properties/runTime/pattern";
    for d in [
        "30s", "5m", "1h30m", "2h", "1h2m3s", "5", "m", "5 m", "-5m", "1.5m", "30m1h", "1s1s",
        "1h30",
    ] {
        assert_eq!(
            matches(&s, run_time, d),
            duration::parse(d).is_ok(),
            "duration {d:?}"
        );
    }
    let name = "/$defs/metadata/properties/name/pattern";
    for n in ["a", "checkout-load", "Demo", "-a", "a-", "a.b", "a_b", "0a"] {
        assert_eq!(
            matches(&s, name, n),
            rules::dns_label(n).is_ok(),
            "name {n:?}"
        );
    }
    let label = "/$defs/loadTest/properties/name/pattern";
    for n in ["checkout-flow", "a.b_c", "checkout flow", "-a", "a.", "A"] {
        assert_eq!(
            matches(&s, label, n),
            rules::label_value(n).is_ok(),
            "label value {n:?}"
        );
    }
    let key = "/$defs/loadTest/properties/libFilesContent/propertyNames/pattern";
    for k in [
        "helpers.py",
        "__init__.py",
        ".env",
        ".",
        "..",
        "..hidden",
        "a/b.py",
        "a b",
        "-x",
    ] {
        assert_eq!(
            matches(&s, key, k),
            rules::configmap_key(k).is_ok(),
            "file name {k:?}"
        );
    }
}

fn base_locust_kubernetes() -> Value {
    json!({
        "apiVersion": "kubernetes.project-planton.org/v1",
        "kind": "LocustKubernetes",
        "metadata": {"name": "probe"},
        "spec": {
            "masterContainer": {"replicas": 1, "resources": {"limits": {"cpu": "1"}, "requests": {"cpu": "50m"}}},
            "workerContainer": {"replicas": 1, "resources": {"limits": {"cpu": "1"}, "requests": {"cpu": "50m"}},
                                "spot": {"provider": "gke"}},
            "ingress": {"enabled": false},
            "loadTest": {"name": "probe", "mainPyContent": "x = 1\n",
                         "run": {"users": 1, "runTime": "1m", "thresholds": {"minRps": 1},
                                 "baseline": {"rpsDecrease": 0.1}}},
            "metrics": {"prometheus": {"enabled": false}},
            "networkPolicy": {"enabled": true}
        }
    })
}

fn base_kubernetes_locust() -> Value {
    json!({
        "apiVersion": "kubernetes.project-planton.org/v1",
        "kind": "KubernetesLocust",
        "metadata": {"name": "probe"},
        "spec": {
            "namespace": {"valueFrom": {"name": "ns"}},
            "targetCluster": {"clusterName": "c"},
            "ingress": {"enabled": false},
            "loadTest": {"name": "probe", "mainPyContent": "x = 1\n"}
        }
    })
}

/// The fields the reader knows at `location` (a JSON pointer into the manifest), from its
/// message for an unknown field put there.
fn reader_fields(manifest: &Value, location: &str) -> BTreeSet<String> {
    let mut m = manifest.clone();
    let obj = m
        .pointer_mut(location)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("{location} is not an object of the probe manifest"));
    obj.insert("zzqxjv".into(), json!(1));
    let text = serde_json::to_string(&m).unwrap();
    let findings = locust_planton::spec::read(&text).unwrap_err();
    let message = findings
        .items
        .iter()
        .map(|f| f.message.clone())
        .find(|msg| msg.starts_with("unknown field; known fields here: "))
        .unwrap_or_else(|| panic!("{location}: no unknown-field message in {findings:?}"));
    message
        .trim_start_matches("unknown field; known fields here: ")
        .split(", ")
        .map(str::to_string)
        .collect()
}

/// The canonical field names of a schema object (each snake_case spelling folded into its
/// camelCase one, which must also be there).
fn schema_fields(object: &Value) -> BTreeSet<String> {
    let props = object["properties"].as_object().unwrap();
    let mut names = BTreeSet::new();
    for k in props.keys() {
        let camel: String = {
            let mut out = String::new();
            let mut upper = false;
            for c in k.chars() {
                if c == '_' {
                    upper = true;
                } else if upper {
                    out.extend(c.to_uppercase());
                    upper = false;
                } else {
                    out.push(c);
                }
            }
            out
        };
        assert!(props.contains_key(&camel), "{k} without {camel}");
        if &camel != k {
            assert_eq!(&schema::camel_to_snake(&camel), k);
        }
        names.insert(camel);
    }
    names
}

#[test]
fn schema_objects_have_exactly_the_readers_fields() {
    let s = committed();
    let lk = base_locust_kubernetes();
    let kl = base_kubernetes_locust();
    let mut otel = base_locust_kubernetes();
    otel["spec"]["loadTest"]["locustVersion"] = json!("2.47.0");
    otel["spec"]["loadTest"]["openTelemetry"] = json!({"endpoint": "http://c:4317"});
    // (probe manifest, location in it, the schema object there)
    let probes: &[(&Value, &str, &str)] = &[
        (&lk, "", ""),
        (&lk, "/metadata", "/$defs/metadata"),
        (&lk, "/spec", "/$defs/specLocustKubernetes"),
        (&lk, "/spec/masterContainer", "/$defs/masterContainer"),
        (&lk, "/spec/masterContainer/resources", "/$defs/resources"),
        (
            &lk,
            "/spec/masterContainer/resources/limits",
            "/$defs/resources/properties/limits",
        ),
        (
            &lk,
            "/spec/workerContainer/resources/requests",
            "/$defs/resources/properties/requests",
        ),
        (&lk, "/spec/workerContainer", "/$defs/workerContainer"),
        (&lk, "/spec/workerContainer/spot", "/$defs/spot"),
        (&lk, "/spec/ingress", "/$defs/ingressLocustKubernetes"),
        (&lk, "/spec/loadTest", "/$defs/loadTest"),
        (&lk, "/spec/loadTest/run", "/$defs/run"),
        (&lk, "/spec/loadTest/run/thresholds", "/$defs/thresholds"),
        (&lk, "/spec/loadTest/run/baseline", "/$defs/baseline"),
        (
            &otel,
            "/spec/loadTest/openTelemetry",
            "/$defs/openTelemetry",
        ),
        (&lk, "/spec/metrics", "/$defs/metrics"),
        (
            &lk,
            "/spec/metrics/prometheus",
            "/$defs/metrics/properties/prometheus",
        ),
        (&lk, "/spec/networkPolicy", "/$defs/networkPolicy"),
        (&kl, "/spec", "/$defs/specKubernetesLocust"),
        (&kl, "/spec/ingress", "/$defs/ingressKubernetesLocust"),
        (&kl, "/spec/namespace", "/$defs/namespace"),
        (
            &kl,
            "/spec/namespace/valueFrom",
            "/$defs/namespace/properties/valueFrom",
        ),
        (&kl, "/spec/targetCluster", "/$defs/targetCluster"),
    ];
    for (manifest, location, pointer) in probes {
        let object = s.pointer(pointer).unwrap_or_else(|| panic!("{pointer}"));
        assert_eq!(
            schema_fields(object),
            reader_fields(manifest, location),
            "fields at {location} (schema {pointer})"
        );
    }
    // Every object of the schema is probed: a new one needs a probe here.
    for (def, body) in s["$defs"].as_object().unwrap() {
        if body.get("properties").is_some() {
            let pointer = format!("/$defs/{def}");
            assert!(
                probes.iter().any(|(_, _, p)| *p == pointer),
                "{pointer} is not probed"
            );
        }
    }
}

#[test]
fn both_spellings_and_kinds_as_the_reader_reads_them() {
    let v = validator();
    let mut both = base_locust_kubernetes();
    both["spec"]["load_test"] = both["spec"]["loadTest"].clone();
    assert!(!errors(&v, &both).is_empty(), "both spellings are refused");
    let mut snake = base_locust_kubernetes();
    let lt = snake["spec"].as_object_mut().unwrap().remove("loadTest");
    snake["spec"]["load_test"] = lt.unwrap();
    assert!(errors(&v, &snake).is_empty(), "{:?}", errors(&v, &snake));
    for kind in ["locust-kubernetes", "LOCUST_KUBERNETES", "locustkubernetes"] {
        let mut m = base_locust_kubernetes();
        m["kind"] = json!(kind);
        assert!(errors(&v, &m).is_empty(), "{kind}");
        assert!(locust_planton::spec::read(&m.to_string()).is_ok(), "{kind}");
    }
    // Kind-specific fields follow the kind.
    let mut m = base_locust_kubernetes();
    m["spec"]["namespace"] = json!({"value": "x"});
    assert!(!errors(&v, &m).is_empty());
    let mut m = base_kubernetes_locust();
    m["spec"].as_object_mut().unwrap().remove("namespace");
    assert!(
        !errors(&v, &m).is_empty(),
        "KubernetesLocust needs namespace"
    );
}

/// Every single-field change of every example and valid fixture (a field renamed to an unknown
/// one, given in both spellings, set to null, a number, a boolean, a list, a mapping, an empty
/// string) gets the same verdict from the schema and the reader, but for the rules listed in
/// `NOT_EXPRESSIBLE`.
#[test]
fn schema_and_reader_agree_on_single_field_changes() {
    let v = validator();
    let mut files = yaml_files(&repo().join("examples"));
    files.extend(yaml_files(&fixture("specs/valid")));
    let mut checked = 0;
    let mut disagreements = Vec::new();
    for f in files {
        let base = as_json(&read(&f)).unwrap();
        let mut pointers = Vec::new();
        collect_pointers(&base, String::new(), &mut pointers);
        for pointer in pointers {
            for m in mutations(&base, &pointer) {
                let text = serde_json::to_string(&m.doc).unwrap();
                let reader = locust_planton::spec::read(&text);
                let reader_ok = match &reader {
                    Ok(_) => true,
                    // Only rules a schema cannot state: the schema may accept these.
                    Err(findings)
                        if findings
                            .items
                            .iter()
                            .filter(|i| i.severity == locust_planton::diag::Severity::Error)
                            .all(|i| {
                                i.message.contains("is more than the limit")
                                    || i.message.contains("is listed twice")
                                    || i.message.contains("does not work on Locust")
                            }) =>
                    {
                        if v.is_valid(&m.doc) {
                            checked += 1;
                            continue;
                        }
                        false
                    }
                    Err(_) => false,
                };
                checked += 1;
                if v.is_valid(&m.doc) != reader_ok {
                    disagreements.push(format!(
                        "{}: {} {}: reader {}, schema {}",
                        f.file_name().unwrap().to_string_lossy(),
                        m.what,
                        pointer,
                        if reader_ok { "accepts" } else { "rejects" },
                        if reader_ok { "rejects" } else { "accepts" },
                    ));
                }
            }
        }
    }
    eprintln!("{checked} single-field changes checked");
    assert!(checked > 1000, "{checked} changes");
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

fn collect_pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                collect_pointers(child, p, out);
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                collect_pointers(child, p, out);
            }
        }
        _ => {}
    }
}

struct Mutation {
    what: &'static str,
    doc: Value,
}

fn mutations(base: &Value, pointer: &str) -> Vec<Mutation> {
    let mut out = Vec::new();
    let (parent_ptr, last) = pointer.rsplit_once('/').unwrap();
    let key = last.replace("~1", "/").replace("~0", "~");
    for (what, value) in [
        ("null", Value::Null),
        ("number 7", json!(7)),
        ("number -1", json!(-1)),
        ("number 0.5", json!(0.5)),
        ("true", json!(true)),
        ("a list", json!(["x"])),
        ("a mapping", json!({"k": "v"})),
        ("an empty string", json!("")),
        ("a string", json!("x y")),
    ] {
        let mut doc = base.clone();
        *doc.pointer_mut(pointer).unwrap() = value;
        out.push(Mutation { what, doc });
    }
    if let Some(Value::Object(_)) = base.pointer(parent_ptr) {
        let mut doc = base.clone();
        let obj = doc
            .pointer_mut(parent_ptr)
            .unwrap()
            .as_object_mut()
            .unwrap();
        let value = obj.remove(&key).unwrap();
        obj.insert("zzUnknown".into(), value.clone());
        out.push(Mutation {
            what: "renamed to an unknown field",
            doc,
        });
        let mut doc = base.clone();
        doc.pointer_mut(parent_ptr)
            .unwrap()
            .as_object_mut()
            .unwrap()
            .remove(&key);
        out.push(Mutation {
            what: "removed",
            doc,
        });
        let other = if key.contains('_') {
            key.clone() // snake given: its camel twin is tested from the camel side
        } else {
            schema::camel_to_snake(&key)
        };
        if other != key {
            let mut doc = base.clone();
            doc.pointer_mut(parent_ptr)
                .unwrap()
                .as_object_mut()
                .unwrap()
                .insert(other, value);
            out.push(Mutation {
                what: "also given in the other spelling",
                doc,
            });
        }
    }
    out
}
