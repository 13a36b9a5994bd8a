//! The documentation follows the code where the code has the one definition: the README's
//! exit-code table lists exactly the codes of `commands::exit::CODES` (and `local`'s signal
//! codes), so a new exit code cannot be added without its row; and every file ARCHITECTURE.md's
//! "Where to change what" names exists, so a moved or split file cannot leave its row behind.

use locust_planton::commands::exit;
use std::collections::BTreeSet;
use std::path::Path;

/// `local`'s own codes, beside the table: a process ended by a signal, as a shell reports it.
const SIGNAL_CODES: &[u16] = &[129, 130, 141, 143];

/// The codes of the table under `### Exit codes` in `markdown`: the numbers in each row's first
/// cell (`| 129, 130, 143 | …`).
fn exit_code_rows(markdown: &str) -> BTreeSet<u16> {
    markdown
        .lines()
        .skip_while(|l| l.trim() != "### Exit codes")
        .skip(1)
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| l.split('|').nth(1))
        .flat_map(|cell| {
            cell.split(',')
                .filter_map(|n| n.trim().parse::<u16>().ok())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn the_readme_lists_every_exit_code_and_no_other() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let listed = exit_code_rows(&readme);
    let codes: BTreeSet<u16> = exit::CODES
        .iter()
        .map(|(code, _)| u16::from(*code))
        .chain(SIGNAL_CODES.iter().copied())
        .collect();
    assert_eq!(
        listed, codes,
        "README.md \"Exit codes\" and commands::exit::CODES (with local's signal codes) differ"
    );
}

#[test]
fn the_table_reader_reads_rows_and_stops_at_the_table() {
    struct Case {
        text: &'static str,
        codes: &'static [u16],
    }
    for case in [
        Case {
            text: "### Exit codes\n\n| code | meaning |\n|---|---|\n| 0 | ok |\n| 129, 130 | signals |\n\n| 7 | another table |\n",
            codes: &[0, 129, 130],
        },
        Case {
            text: "| 3 | before the heading |\n### Exit codes\n| 1 | failed |\n",
            codes: &[1],
        },
        Case {
            text: "### Exit\n| 1 | another heading |\n",
            codes: &[],
        },
    ] {
        let got: Vec<u16> = exit_code_rows(case.text).into_iter().collect();
        assert_eq!(got, case.codes, "{}", case.text);
    }
}

/// The repository paths written in backticks in `markdown`'s section `heading` (up to the next
/// `## `): those under the folders a maintainer edits, without placeholders (`<version>`).
fn named_paths(markdown: &str, heading: &str) -> Vec<String> {
    const ROOTS: &[&str] = &[
        "src/",
        "tests/",
        "scripts/",
        "fixtures/",
        "docs/",
        "charts-lock/",
        "examples/",
        "schema/",
        "benches/",
        "tools/",
    ];
    let section: String = markdown
        .lines()
        .skip_while(|l| l.trim() != heading)
        .skip(1)
        .take_while(|l| !l.starts_with("## "))
        .collect::<Vec<_>>()
        .join("\n");
    section
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|t| ROOTS.iter().any(|r| t.starts_with(r)))
        .filter(|t| !t.contains(['<', ' ', '*']))
        .map(|t| t.trim_end_matches([',', ':']).to_string())
        .collect()
}

#[test]
fn every_file_the_where_to_change_rows_name_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let named = named_paths(&text, "## Where to change what");
    assert!(named.len() > 40, "{named:?}");
    let missing: Vec<&String> = named.iter().filter(|p| !root.join(p).exists()).collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md \"Where to change what\" names files that do not exist: {missing:?}"
    );
}

#[test]
fn the_path_reader_takes_repository_paths_of_its_section_only() {
    struct Case {
        text: &'static str,
        paths: &'static [&'static str],
    }
    for case in [
        Case {
            text: "## Where\n| a | `src/a.rs` (`fn`), `tests/b.rs`, `fixtures/reference/<version>/` |\n## Next\n`src/c.rs`\n",
            paths: &["src/a.rs", "tests/b.rs"],
        },
        Case {
            text: "`src/x.rs`\n## Where\n`LP_REAL_CHART`, `../shared/x`, `src/spec/schema/`\n",
            paths: &["src/spec/schema/"],
        },
    ] {
        assert_eq!(
            named_paths(case.text, "## Where"),
            case.paths,
            "{}",
            case.text
        );
    }
}
