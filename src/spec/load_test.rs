//! `spec.loadTest`: the test's name, its locustfile and lib files, the target host and the pip
//! packages, with the extension fields beside them.

use super::reader::{Fields, fields};
use super::{CONFIGMAP_LIMIT, LoadTest, extensions, pep508, pip, rules};
use crate::diag::Findings;
use crate::yaml::Node;

/// The load test and its extension fields (run, Locust release, OpenTelemetry).
pub(super) type LoadTestParts = (LoadTest, extensions::LoadTestExtensions);

pub(super) fn read_load_test(node: &Node, d: &mut Findings) -> Option<LoadTestParts> {
    let f = fields(
        node,
        "spec.loadTest",
        &[
            "name",
            "mainPyContent",
            "libFilesContent",
            "pipPackages",
            "host",
            "run",
            "locustVersion",
            "pipLiftPins",
            "openTelemetry",
        ],
        &[],
        d,
    )?;
    let name = read_test_name(&f, d);
    let main_py = read_main_py(&f, d);
    let lib_files = read_lib_files(&f, main_py.as_ref().map_or(0, String::len), d);
    let lift_pins = pip::read_lift_pins(&f, d);
    let pip_packages = read_pip_packages(&f, &lift_pins, d);
    let host = read_host(&f, d);
    let ext = extensions::read_load_test_extensions(&f, d);
    Some((
        LoadTest {
            name: name?,
            main_py: main_py?,
            lib_files,
            pip_packages,
            lift_pins,
            host,
        },
        ext,
    ))
}

fn read_test_name(f: &Fields, d: &mut Findings) -> Option<String> {
    let name = f.string("name", d);
    match &name {
        None if f.node("name").is_none() => d.error(f.path("name"), "required"),
        Some(n) if n.is_empty() => d.error(f.path("name"), "required"),
        Some(n) => {
            if let Err(e) = rules::label_value(n) {
                d.error(
                    f.path("name"),
                    format!("{e} (it is used in the Deployments' label selectors)"),
                );
            }
        }
        None => {}
    }
    name
}

fn read_main_py(f: &Fields, d: &mut Findings) -> Option<String> {
    let main_py = f.string("mainPyContent", d);
    match &main_py {
        None if f.node("mainPyContent").is_none() => d.error(f.path("mainPyContent"), "required"),
        Some(m) if m.trim().is_empty() => {
            d.error(f.path("mainPyContent"), "required: the locustfile is empty")
        }
        Some(m) if m.len() > CONFIGMAP_LIMIT => d.error(
            f.path("mainPyContent"),
            format!(
                "is {} bytes; a ConfigMap holds at most {CONFIGMAP_LIMIT} bytes (1 MiB)",
                m.len()
            ),
        ),
        _ => {}
    }
    main_py
}

/// The lib files, with a warning when they and `main.py` (`main_py_len` bytes) together
/// approach the size of the Secret Helm keeps a release in.
fn read_lib_files(f: &Fields, main_py_len: usize, d: &mut Findings) -> Vec<(String, String)> {
    let lib_files = f.string_map("libFilesContent", d);
    let lib_path = f.path("libFilesContent");
    for (key, _) in &lib_files {
        if let Err(e) = rules::configmap_key(key) {
            d.error(crate::diag::join(&lib_path, key), e);
        }
    }
    let lib_size: usize = lib_files.iter().map(|(_, v)| v.len()).sum();
    if lib_size > CONFIGMAP_LIMIT {
        d.error(lib_path, format!("lib files total {lib_size} bytes; a ConfigMap holds at most {CONFIGMAP_LIMIT} bytes (1 MiB)"));
    }
    let total = main_py_len + lib_size;
    if total > CONFIGMAP_LIMIT / 2 && total <= 2 * CONFIGMAP_LIMIT {
        d.warn(
            "spec.loadTest",
            format!("scripts total {total} bytes; Helm keeps values and manifests of a release in one Secret (1 MiB after compression), which large scripts may exceed"),
        );
    }
    lib_files
}

fn read_host(f: &Fields, d: &mut Findings) -> Option<String> {
    let host = f.string("host", d);
    match &host {
        Some(h) => {
            if let Err(e) = rules::http_url(h) {
                d.error(f.path("host"), e);
            }
        }
        None => d.warn(
            f.path("host"),
            "no target host: enter it in the web UI, or set `spec.loadTest.host` (a locust-planton extension field)",
        ),
    }
    host
}

fn read_pip_packages(f: &Fields, lift_pins: &[String], d: &mut Findings) -> Vec<String> {
    let lifted: Vec<String> = lift_pins.iter().map(|l| pep508::normalize(l)).collect();
    let mut seen: Vec<(String, String)> = Vec::new();
    let mut out = Vec::new();
    for (path, req) in f.string_list("pipPackages", d) {
        match pep508::validate(&req) {
            Ok(normalized) => {
                if let Some((first, _)) = seen.iter().find(|(_, n)| *n == normalized) {
                    d.error(&path, format!("`{req}` is listed twice (also at {first})"));
                    continue;
                }
                if !req.contains("==") && !req.contains('@') {
                    d.warn(&path, format!("`{req}` is not pinned (`name==version`): pods started at different times may get different versions"));
                }
                pip::warn_locust_dependency(&path, &req, &normalized, &lifted, d);
                seen.push((path, normalized));
                out.push(req);
            }
            Err(e) => d.error(&path, e),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::testing::value;

    /// A `loadTest` with `name`, `mainPyContent` and `host` set, and `extra` fields after them.
    fn load_test(extra: &str) -> Node {
        value(&format!(
            "{{name: checkout, mainPyContent: 'x = 1', host: 'http://shop:8080'{extra}}}"
        ))
    }

    fn findings(d: &Findings) -> Vec<String> {
        d.render("m").lines().map(str::to_string).collect()
    }

    #[test]
    fn each_field_is_checked_and_every_problem_said() {
        struct Case {
            what: &'static str,
            node: Node,
            read: bool,
            said: Vec<String>,
        }
        let big = "x".repeat(CONFIGMAP_LIMIT / 2 + 1);
        let bad_label = rules::label_value("-checkout").unwrap_err();
        let bad_url = rules::http_url("shop:8080").unwrap_err();
        for c in [
            Case {
                what: "a complete load test",
                node: load_test(", pipPackages: ['faker==30.0.0']"),
                read: true,
                said: vec![],
            },
            Case {
                what: "a missing name and locustfile are required; no host is a warning",
                node: value("{}"),
                read: false,
                said: vec![
                    "m: spec.loadTest.name: required".into(),
                    "m: spec.loadTest.mainPyContent: required".into(),
                    "m: spec.loadTest.host: warning: no target host: enter it in the web UI, or set `spec.loadTest.host` (a locust-planton extension field)".into(),
                ],
            },
            Case {
                what: "a name that cannot be a label, an empty locustfile, a host that is not a URL",
                node: value("{name: '-checkout', mainPyContent: '  ', host: 'shop:8080'}"),
                read: true,
                said: vec![
                    format!("m: spec.loadTest.name: {bad_label} (it is used in the Deployments' label selectors)"),
                    "m: spec.loadTest.mainPyContent: required: the locustfile is empty".into(),
                    format!("m: spec.loadTest.host: {bad_url}"),
                ],
            },
            Case {
                what: "a package listed twice is refused; an unpinned one warned about",
                node: load_test(", pipPackages: ['faker==30.0.0', 'Faker==30.0.0', 'tabulate']"),
                read: true,
                said: vec![
                    "m: spec.loadTest.pipPackages[1]: `Faker==30.0.0` is listed twice (also at spec.loadTest.pipPackages[0])".into(),
                    "m: spec.loadTest.pipPackages[2]: warning: `tabulate` is not pinned (`name==version`): pods started at different times may get different versions".into(),
                ],
            },
            Case {
                what: "scripts over half a ConfigMap warn about Helm's release Secret",
                node: load_test(&format!(", libFilesContent: {{big.py: '{big}'}}")),
                read: true,
                said: vec![format!(
                    "m: spec.loadTest: warning: scripts total {} bytes; Helm keeps values and manifests of a release in one Secret (1 MiB after compression), which large scripts may exceed",
                    big.len() + "x = 1".len()
                )],
            },
            Case {
                what: "lib files over a ConfigMap are refused",
                node: load_test(&format!(", libFilesContent: {{a.py: '{big}', b.py: '{big}'}}")),
                read: true,
                said: vec![
                    format!("m: spec.loadTest.libFilesContent: lib files total {} bytes; a ConfigMap holds at most {CONFIGMAP_LIMIT} bytes (1 MiB)", 2 * big.len()),
                    format!(
                        "m: spec.loadTest: warning: scripts total {} bytes; Helm keeps values and manifests of a release in one Secret (1 MiB after compression), which large scripts may exceed",
                        2 * big.len() + "x = 1".len()
                    ),
                ],
            },
        ] {
            let mut d = Findings::default();
            let read = read_load_test(&c.node, &mut d);
            assert_eq!(read.is_some(), c.read, "{}", c.what);
            assert_eq!(findings(&d), c.said, "{}", c.what);
        }
    }

    #[test]
    fn what_is_read_is_what_was_written() {
        let mut d = Findings::default();
        let (lt, _) = read_load_test(
            &load_test(", libFilesContent: {util.py: 'y = 2'}, pipPackages: ['faker==30.0.0']"),
            &mut d,
        )
        .expect("a valid load test");
        assert_eq!(
            (
                lt.name.as_str(),
                lt.main_py.as_str(),
                lt.lib_files,
                lt.pip_packages,
                lt.host.as_deref()
            ),
            (
                "checkout",
                "x = 1",
                vec![("util.py".to_string(), "y = 2".to_string())],
                vec!["faker==30.0.0".to_string()],
                Some("http://shop:8080")
            )
        );
    }
}
