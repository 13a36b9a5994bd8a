//! Reading a large manifest: parse + validate of a spec with a 900 KB script (target < 20 ms),
//! and `values` for 200 lib files plus a 900 KB script (target < 50 ms), each beside its
//! baseline: the bare YAML parse of the same text, and `cat` of the same file for the CLI.
//! Run: `cargo bench --bench spec`. Figures go in BENCHMARKS.md.

mod common;
use common::*;
use std::time::{Duration, Instant};

fn big_spec(lib_files: usize) -> String {
    let line =
        "        self.client.get(\"/checkout/{{cart}}\", name=\"checkout\")  # padding padding\n";
    let script: String = std::iter::repeat_n(line, 900 * 1024 / line.len()).collect();
    let mut s = format!(
        "apiVersion: kubernetes.project-planton.org/v1\nkind: LocustKubernetes\nmetadata: {{name: big}}\nspec:\n  loadTest:\n    name: big\n    host: https://t.example\n    mainPyContent: |\n      from locust import HttpUser, task\n      class U(HttpUser):\n        @task\n        def t(self):\n{script}"
    );
    if lib_files > 0 {
        s.push_str("    libFilesContent:\n");
        for i in 0..lib_files {
            s.push_str(&format!(
                "      mod{i}.py: |\n        def f{i}():\n            return {i}\n"
            ));
        }
    }
    s
}

fn median(mut f: impl FnMut(), runs: usize) -> Duration {
    let mut t: Vec<Duration> = (0..runs)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed()
        })
        .collect();
    t.sort();
    t[runs / 2]
}

fn main() {
    let runs = 31;
    println!("| operation | input | median | vs baseline |\n|---|---|---|---|");
    for (label, libs) in [("900 KB script", 0), ("900 KB script + 200 lib files", 200)] {
        let text = big_spec(libs);
        let parse = median(
            || drop(locust_planton::yaml::parse_single(&text).unwrap()),
            runs,
        );
        let read = median(|| drop(locust_planton::spec::read(&text).unwrap()), runs);
        let spec = locust_planton::spec::read(&text).unwrap().0;
        let values = median(
            || {
                let s = locust_planton::values::synthesize(&spec);
                drop(locust_planton::values::render_values(&s.values));
            },
            runs,
        );
        let kb = text.len() / 1024;
        println!(
            "| YAML parse only (baseline) | {label}, {kb} KB | {} | 1.0× |",
            ms(parse)
        );
        println!(
            "| parse + validate (`spec::read`) | {label}, {kb} KB | {} | {:.1}× |",
            ms(read),
            read.as_secs_f64() / parse.as_secs_f64()
        );
        println!(
            "| read + values + render | {label}, {kb} KB | {} | {:.1}× |",
            ms(read + values),
            (read + values).as_secs_f64() / parse.as_secs_f64()
        );
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("spec.yaml");
        std::fs::write(&f, &text).unwrap();
        let bin = release_bin();
        let cat = measure(&["cat", f.to_str().unwrap()], None, runs);
        let check = measure(
            &[bin.to_str().unwrap(), "check", "-f", f.to_str().unwrap()],
            None,
            runs,
        );
        let vals = measure(
            &[bin.to_str().unwrap(), "values", "-f", f.to_str().unwrap()],
            None,
            runs,
        );
        println!(
            "| `cat` (CLI baseline) | {label}, {kb} KB | {} | 1.0× |",
            ms(cat.median)
        );
        println!(
            "| `locust-planton check` (CLI) | {label}, {kb} KB | {} | {:.1}× |",
            ms(check.median),
            check.median.as_secs_f64() / cat.median.as_secs_f64()
        );
        println!(
            "| `locust-planton values` (CLI) | {label}, {kb} KB | {} | {:.1}× |",
            ms(vals.median),
            vals.median.as_secs_f64() / cat.median.as_secs_f64()
        );
    }
}
