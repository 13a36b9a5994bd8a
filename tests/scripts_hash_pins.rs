//! The scripts hash (`locust.project-planton.org/scripts-sha256`) pinned on streams that put the
//! ConfigMaps and Secrets a pod template uses where a reader could lose them: inside a `List`,
//! under a name used twice, after the templates, with data that needs escaping in JSON or that
//! the fast reader declines. A new hash rolls every pod of every release on the next upgrade,
//! so the values are pinned, not recomputed: each was given by the post-renderer when it kept
//! every object's data in memory.

mod common;

use assert_cmd::Command;
use common::bin;

const ANNOTATION: &str = "locust.project-planton.org/scripts-sha256: ";

/// A Deployment whose one container takes `refs` (YAML flow items of `envFrom`) and whose pod
/// mounts `volumes` (flow items).
fn deploy(name: &str, refs: &str, volumes: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}}}\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        image: i\n        envFrom: [{refs}]\n      volumes: [{volumes}]\n"
    )
}

/// The hashes stamped on the pod templates of the post-rendered `stream`, in output order.
fn stamps(stream: &str) -> Vec<String> {
    let log = tempfile::NamedTempFile::new().unwrap();
    let out = Command::new(bin())
        .arg("post-render")
        .env("LOCUST_PLANTON_LOG", log.path())
        .write_stdin(stream.to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix(ANNOTATION))
        .map(|h| h.trim_matches('"').to_string())
        .collect()
}

/// Data whose JSON text needs escapes, at every position of an eight-byte run: control
/// characters, quotes, backslashes, DEL, line and paragraph separators, `<>&`, non-ASCII; in
/// `d` a quote, a backslash and a control character each alone in an eight-byte run.
const ESCAPES: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: esc}\ndata:\n  \"k\\x01\\\"\": \"\\x00a\\x01bc\\x1f\\\"\\\\de\\x7ffgh\\ti\\nj\\rk\\x08l\\x0cm\\x0bn\"\n  b: \"aaaaaaa\\x1baaaaaaaa\\u2028\\u2029<>&\\u00e9\\U0001F600 \\x85\\xa0\"\n  c: \"12345678\\\\12345678\\\"\"\n  d: \"0123456789\\\"0123456789\\\\0123456789\\x1f0123456789\"\n";

/// Typed scalars (what the hash covers is the JSON Kubernetes reads) in all three data fields.
const TYPED: &str = "apiVersion: v1\nkind: Secret\nmetadata: {name: typed}\nstringData: {i: 12, o: 0755, h: 0x1F, f: 1.5, e: 1e3, y: yes, n: ~, big: 123456789012345678901234567890, neg: -0.0}\nbinaryData: {z: AA==}\ndata: {t: dHJ1ZQ==, 1: one, true: t}\n";

/// Data only Go's full reading takes: anchors, aliases, a merge key, tags, folded and kept
/// block scalars.
const DECLINED: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: declined}\ndata:\n  a: &x \"q\\tt\"\n  b: *x\n  <<: {m: merged, a: ignored}\n  c: !!str 0755\n  d: >\n    folded\n    text\n  e: |+\n    kept\n\n  f: !!binary aGVsbG8=\n";

#[test]
fn scripts_hashes_are_pinned() {
    struct Row {
        what: &'static str,
        stream: String,
        hashes: &'static [&'static str],
    }
    let all_refs =
        "{configMapRef: {name: esc}}, {secretRef: {name: typed}}, {configMapRef: {name: declined}}";
    let rows = [
        Row {
            what: "data needing escapes, typed scalars, declined data, before the template",
            stream: [ESCAPES, TYPED, DECLINED, &deploy("a", all_refs, "")].join("---\n"),
            hashes: &[
                "a829b2d545c900bd6b7774d35ffecbea9ddd413d306e3d7b893594739f5270d6",
            ],
        },
        Row {
            what: "the same objects after the template, the stream in CRLF",
            stream: [&deploy("a", all_refs, "") as &str, ESCAPES, TYPED, DECLINED]
                .join("---\n")
                .replace('\n', "\r\n"),
            hashes: &[
                "a829b2d545c900bd6b7774d35ffecbea9ddd413d306e3d7b893594739f5270d6",
            ],
        },
        Row {
            what: "objects as the items of Lists, with a Secret and a ConfigMap of one name",
            stream: [
                "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: s}, data: {k: cm}}\n- {apiVersion: v1, kind: Secret, metadata: {name: s}, data: {k: c2Vj}}\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: other}, data: {k: \"\\u2028\"}}\n",
                "apiVersion: v1\nkind: ConfigMapList\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: listed}, binaryData: {b: AA==}}\n",
                &deploy(
                    "a",
                    "{configMapRef: {name: s}}, {secretRef: {name: s}}",
                    "{name: l, configMap: {name: listed}}, {name: p, projected: {sources: [{configMap: {name: other}}]}}",
                ),
            ]
            .join("---\n"),
            hashes: &[
                "544adf23ddd384124b8e267100b302b0b870bb08cd8c279e417fda593f49d7b3",
            ],
        },
        Row {
            what: "a name used twice (two namespaces, then a later copy): the last one counts",
            stream: [
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dup, namespace: a}\ndata: {v: first}\n",
                &deploy("a", "{configMapRef: {name: dup}}", "{name: d, configMap: {name: dup}}"),
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dup, namespace: b}\ndata: {v: second}\n",
                &deploy("b", "", "{name: d, configMap: {name: dup}}"),
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dup, namespace: b}\ndata: {v: third}\n",
            ]
            .join("---\n"),
            hashes: &[
                "348965a5fd9fd697f62981e8656e53d9d0f582dc974b6f7d8bf539aab7f28ed9",
                "348965a5fd9fd697f62981e8656e53d9d0f582dc974b6f7d8bf539aab7f28ed9",
            ],
        },
        Row {
            what: "one ConfigMap used by three templates (by one of them twice), a Secret by one, a missing one",
            stream: [
                &deploy("a", "{configMapRef: {name: esc}}", "{name: e, configMap: {name: esc}}") as &str,
                ESCAPES,
                &deploy(
                    "b",
                    "{configMapRef: {name: esc}}, {secretRef: {name: typed}}, {configMapRef: {name: missing}}",
                    "",
                ),
                &deploy("c", "", "{name: e, configMap: {name: esc}}"),
                TYPED,
            ]
            .join("---\n"),
            hashes: &[
                "2ec443f6cdd56d2c1523ddf3b17cd014b9c5ac9559644ea3cda4b6023889b243",
                "aef0e57b54bbb087dac1431a7dc50f97b5960628e6b1657dd3fc297bcb1f8b33",
                "2ec443f6cdd56d2c1523ddf3b17cd014b9c5ac9559644ea3cda4b6023889b243",
            ],
        },
        Row {
            what: "no ConfigMap or Secret in the stream: the hash of the empty array",
            stream: deploy("a", "{configMapRef: {name: missing}}", ""),
            hashes: &[
                "4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945",
            ],
        },
    ];
    let mut failed = Vec::new();
    for row in &rows {
        let got = stamps(&row.stream);
        if got != row.hashes {
            failed.push(format!("- {}: {got:?}", row.what));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
