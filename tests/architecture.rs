//! The stages depend one way (ARCHITECTURE.md): a top-level module may import only modules in
//! layers before its own. Read from the source text (`crate::<module>` paths), so a new import
//! that points downstream, or a new top-level module not placed in a layer, fails here.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Layers in data-flow order; a module may use any module of an earlier layer.
const LAYERS: &[&[&str]] = &[
    // Leaves: shared names, limits, findings, durations, run results.
    &[
        "contract", "limits", "diag", "duration", "results", "progress",
    ],
    // Go's reading of YAML.
    &["yaml"],
    // The pinned chart; what a hardened pod is.
    &["lock", "policy"],
    // What the pinned chart renders from values (reads the lock for its name and version).
    &["chart"],
    // The stages.
    &["spec"],
    &["values"],
    &["stream"],
    &["postrender"],
    // The sinks: each on its own, none imports another.
    &["helm", "kubectl", "gitops", "local", "ops", "invariants"],
    &["commands"],
    &["cli"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules `text` names as `crate::<module>`.
fn imports(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        // `crate::{a, b::c}`: each item's first segment.
        let group = after
            .strip_prefix('{')
            .map(|g| &g[..g.find('}').unwrap_or(g.len())]);
        let heads: Vec<&str> = match group {
            Some(g) => g.split(',').collect(),
            None => vec![after],
        };
        for head in heads {
            let name: String = head
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
        rest = after;
    }
    found
}

/// Every top-level module of the library with the files that make it up.
fn modules() -> Vec<(String, Vec<PathBuf>)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    lib.lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
        .map(|m| m.trim_end_matches(';').to_string())
        .map(|m| {
            let mut files = Vec::new();
            let file = src.join(format!("{m}.rs"));
            if file.exists() {
                files.push(file);
            } else {
                rust_files(&src.join(&m), &mut files);
            }
            (m, files)
        })
        .collect()
}

#[test]
fn every_module_has_a_layer() {
    let unplaced: Vec<String> = modules()
        .into_iter()
        .map(|(m, _)| m)
        .filter(|m| layer_of(m).is_none())
        .collect();
    assert!(
        unplaced.is_empty(),
        "top-level modules not placed in a layer of tests/architecture.rs: {unplaced:?}"
    );
}

#[test]
fn stages_depend_one_way() {
    let mut wrong = Vec::new();
    for (module, files) in modules() {
        let Some(own) = layer_of(&module) else {
            continue;
        };
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for used in imports(&text) {
                if used == module {
                    continue;
                }
                match layer_of(&used) {
                    Some(l) if l < own => {}
                    _ => wrong.push(format!("{} uses crate::{used}", file.display())),
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the flow:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_checker_sees_imports() {
    // The scan itself: grouped and nested paths are found, other text is not.
    let found = imports(
        "use crate::values::{a, b};\nuse crate::{spec, helm::run};\nlet x = crate::policy::pod::f(); // crate",
    );
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        ["helm", "policy", "spec", "values"]
    );
}

/// Most lines a source file may have before its `#[cfg(test)]` section (issue 28): a file
/// longer than this mixes concerns and is split along its seams.
const MAX_LINES: usize = 800;

/// The lines of `text` before its first `#[cfg(test)]` at the start of a line.
fn lines_before_tests(text: &str) -> usize {
    text.lines()
        .take_while(|l| !l.starts_with("#[cfg(test)]"))
        .count()
}

#[test]
fn no_source_file_is_over_800_lines_before_its_tests() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut wrong = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let lines = lines_before_tests(&text);
        let name = file
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap()
            .display()
            .to_string();
        if lines > MAX_LINES {
            wrong.push(format!(
                "{name}: {lines} lines before its tests (at most {MAX_LINES})"
            ));
        }
    }
    assert!(wrong.is_empty(), "files to split:\n{}", wrong.join("\n"));
}

#[test]
fn the_line_count_stops_at_the_tests() {
    struct Case {
        text: &'static str,
        lines: usize,
    }
    let cases = [
        Case {
            text: "a\nb\n#[cfg(test)]\nmod tests {}\n",
            lines: 2,
        },
        Case {
            text: "a\n    #[cfg(test)]\nb\n",
            lines: 3,
        },
        Case {
            text: "a\nb\nc",
            lines: 3,
        },
    ];
    for case in cases {
        assert_eq!(lines_before_tests(case.text), case.lines, "{:?}", case.text);
    }
}
