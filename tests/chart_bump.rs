//! Places a chart bump must touch that no other test forces (found by following ARCHITECTURE.md's
//! "a new chart version" row for a real bump, to 0.31.5, on a scratch branch). Each test here
//! passes on the pinned chart and fails when a bump leaves its place behind, naming it:
//!
//! - the keys `values` writes: Helm ignores a key the chart's templates never read, without a
//!   word, so a bump to a chart that lacks `master.initContainers`, `master.extraVolumes`,
//!   `extraObjects` or the probes would drop the pip step, the writable folders or the script
//!   ConfigMaps from the pods while every golden file still matches;
//! - `LISTS` entries the chart no longer writes (`tests/chart_reading.rs` checks the other way);
//! - the lock's `image` and `verifiedVersions`, which nothing compares with the chart;
//! - where the tests find the real chart and the recorded renders: a path that names a version
//!   keeps testing the old chart after a bump, and passes.
//!
//! No tool is needed: the tables, the lock and the test sources are the repository's own.

mod common;

use common::repo;
use locust_planton::chart;
use locust_planton::lock::chart_lock;
use locust_planton::spec;
use locust_planton::values::chart_keys::{LISTS, Render, USES, is_known};
use locust_planton::values::synthesize;
use locust_planton::yaml::Node;
use std::path::{Path, PathBuf};

/// The `.yaml` files directly in `dir` (relative to the repository), sorted.
fn yaml_files(dir: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(repo().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    out.sort();
    out
}

/// The dotted path of every value in `node` that is not a non-empty mapping (a scalar, a list,
/// an empty mapping): the keys a mapping of values sets.
fn written(node: &Node, at: &str, out: &mut Vec<String>) {
    match node.as_map() {
        Some(m) if !m.is_empty() => {
            for (k, v) in m.iter() {
                let key = k.key_text();
                let here = if at.is_empty() {
                    key
                } else {
                    format!("{at}.{key}")
                };
                written(v, &here, out);
            }
        }
        _ => out.push(at.to_string()),
    }
}

#[test]
fn written_names_each_leaf_by_its_dotted_path() {
    struct Case {
        values: &'static str,
        keys: &'static [&'static str],
    }
    let table = [
        Case {
            values: "a: {b: 1, c: {}, d: [x]}\ne: ''\n",
            keys: &["a.b", "a.c", "a.d", "e"],
        },
        Case {
            values: "master: {resources: {limits: {cpu: 1}}}\n",
            keys: &["master.resources.limits.cpu"],
        },
        Case {
            values: "{}\n",
            keys: &[""],
        },
    ];
    for case in table {
        let node = locust_planton::yaml::parse_single(case.values).unwrap();
        let mut keys = Vec::new();
        written(&node, "", &mut keys);
        assert_eq!(keys, case.keys, "{}", case.values);
    }
}

/// The keys `values` writes for the spec at `path` (its own `helmValues` left out: `check`
/// warns about those, naming the line).
fn keys_written_for(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let (mut spec, _) =
        spec::read(&text).unwrap_or_else(|f| panic!("{}: {}", path.display(), f.render("spec")));
    spec.helm_values.clear();
    let mut keys = Vec::new();
    written(&synthesize(&spec).values, "", &mut keys);
    keys
}

#[test]
fn every_key_the_values_write_is_one_the_pinned_chart_reads() {
    let specs: Vec<PathBuf> = ["examples", "fixtures/specs/valid"]
        .iter()
        .flat_map(|d| yaml_files(d))
        .collect();
    assert!(specs.len() >= 12, "{specs:?}");
    let mut unread = Vec::new();
    for path in &specs {
        for key in keys_written_for(path) {
            if !is_known(&key) {
                unread.push(format!("{}: {key}", path.display()));
            }
        }
    }
    assert!(
        unread.is_empty(),
        "values writes keys chart {} does not read (src/values/chart_keys.rs USES); Helm drops them without a word:\n{}",
        chart_lock().version,
        unread.join("\n")
    );
}

/// The walk above reaches the keys a bump can lose, so it cannot pass by reading nothing.
#[test]
fn the_values_walk_reaches_the_keys_a_bump_can_lose() {
    let keys = keys_written_for(&repo().join("examples/checkout.yaml"));
    for key in [
        "extraObjects",
        "image.tag",
        "master.initContainers",
        "master.extraVolumes",
        "master.extraVolumeMounts",
        "master.readinessProbe.tcpSocket.port",
        "worker.initContainers",
    ] {
        assert!(keys.iter().any(|k| k == key), "{key} not in {keys:?}");
    }
}

#[test]
fn every_list_is_a_value_the_chart_writes_with_to_yaml() {
    for list in LISTS {
        let renders = USES
            .iter()
            .find(|(path, _)| path == list)
            .map(|(_, r)| *r)
            .unwrap_or_else(|| {
                panic!("{list}: in LISTS, not in USES (the chart does not read it)")
            });
        assert!(
            renders.contains(&Render::ToYaml),
            "{list}: in LISTS, but the chart renders it {renders:?}, not with toYaml"
        );
    }
}

#[test]
fn the_locks_image_is_the_charts_default_image() {
    let d = chart::defaults();
    let text = |key: &str| {
        d.get_path(&["image", key])
            .and_then(Node::as_str)
            .unwrap_or_else(|| panic!("image.{key}: not in the model's defaults"))
            .to_string()
    };
    assert_eq!(
        chart_lock().image,
        format!("{}:{}", text("repository"), text("tag")),
        "charts-lock/locust.yaml `image` is not image.repository:image.tag of src/chart/defaults.rs"
    );
}

#[test]
fn the_pinned_version_is_a_verified_one() {
    let lock = chart_lock();
    assert!(
        lock.verified_versions.contains(&lock.version),
        "charts-lock/locust.yaml: verifiedVersions {:?} lacks the pinned {}",
        lock.verified_versions,
        lock.version
    );
}

/// Every chart version (`0.N.N`) written on `line`.
fn versions_on(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("0.") {
        let candidate = &rest[i..];
        let end = candidate
            .char_indices()
            .find(|(_, c)| !(c.is_ascii_digit() || *c == '.'))
            .map_or(candidate.len(), |(j, _)| j);
        let before = rest[..i].chars().last();
        let word = candidate[..end].trim_end_matches('.');
        let parts: Vec<&str> = word.split('.').collect();
        let is_version = parts.len() == 3 && parts.iter().all(|p| !p.is_empty());
        if is_version && !before.is_some_and(|c| c.is_ascii_digit() || c == '.') {
            out.push(word);
        }
        rest = &candidate[end.max(2)..];
    }
    out
}

#[test]
fn versions_on_finds_chart_versions_only() {
    struct Case {
        line: &'static str,
        versions: &'static [&'static str],
    }
    let table = [
        Case {
            line: r#"repo().join("../shared/reference/deliveryhero-locust/0.35.0/chart")"#,
            versions: &["0.35.0"],
        },
        Case {
            line: r#"REPO, "..", "deliveryhero-locust", "0.31.5", "chart""#,
            versions: &["0.31.5"],
        },
        Case {
            line: "locust 10.20.3 and 2.0.1, 0.4 or 0.35.",
            versions: &[],
        },
        Case {
            line: r#"fixture("reference/0.35.0"), and reference/0.31.5/default"#,
            versions: &["0.35.0", "0.31.5"],
        },
    ];
    for case in table {
        assert_eq!(versions_on(case.line), case.versions, "{}", case.line);
    }
}

/// The test and script sources, with their text.
fn sources() -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    for dir in ["tests", "tests/common", "scripts", "benches"] {
        for entry in std::fs::read_dir(repo().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let code = path
                .extension()
                .is_some_and(|e| e == "rs" || e == "py" || e == "sh");
            if code && path.file_name().is_some_and(|n| n != "chart_bump.rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                files.push((path, text));
            }
        }
    }
    files.sort();
    assert!(files.len() > 30, "{}", files.len());
    files
}

/// The real chart is found from the pinned version (`common::real_locust_chart`, or
/// `$LP_REAL_CHART`): a line that names the chart's reference folder with a version in it must
/// name the pinned one, or after a bump it keeps reading the old chart, and passes.
#[test]
fn real_chart_paths_name_the_pinned_version() {
    let pinned = &chart_lock().version;
    let mut stale = Vec::new();
    for (path, text) in sources() {
        for (n, line) in text.lines().enumerate() {
            if !line.contains("deliveryhero-locust") {
                continue;
            }
            for v in versions_on(line).into_iter().filter(|v| v != pinned) {
                stale.push(format!("{}:{}: {v}", path.display(), n + 1));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "the real chart's folder names a version other than the pinned {pinned} (use common::real_locust_chart()):\n{}",
        stale.join("\n")
    );
}

/// A test that reads a whole folder of recorded renders (`fixture("reference/X")`) checks
/// something of every case of a chart; it must read the pinned chart's, as
/// `tests/chart_model.rs` does. Single recorded files of older versions stay usable as inputs.
#[test]
fn whole_folders_of_recorded_renders_are_the_pinned_versions() {
    let pinned = &chart_lock().version;
    let mut stale = Vec::new();
    for (path, text) in sources() {
        for (n, line) in text.lines().enumerate() {
            for v in versions_on(line) {
                let whole = line.contains(&format!("\"reference/{v}\""));
                if whole && v != pinned {
                    stale.push(format!("{}:{}: reference/{v}", path.display(), n + 1));
                }
            }
        }
    }
    assert!(
        stale.is_empty(),
        "tests read every recorded case of a chart other than the pinned {pinned}:\n{}",
        stale.join("\n")
    );
}

/// The recorded streams every judge-based test post-renders include the pinned chart's.
#[test]
fn recorded_streams_include_the_pinned_charts() {
    let pinned = &chart_lock().version;
    let folder = repo().join("fixtures/reference").join(pinned);
    let ours: Vec<String> = common::recorded_streams()
        .into_iter()
        .filter(|(_, path)| path.starts_with(&folder))
        .map(|(name, _)| name)
        .collect();
    let cases = std::fs::read_dir(&folder)
        .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
        .count();
    assert_eq!(
        ours.len(),
        cases * 2,
        "tests/common/mod.rs recorded_streams() lacks chart {pinned}'s renders: {ours:?}"
    );
}
