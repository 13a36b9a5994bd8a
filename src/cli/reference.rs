//! The command table of docs/commands.md, made from the command line's own definition (clap):
//! every subcommand with what it does, its flags and its exit codes. `tests/cli.rs` fails when
//! the table in the document differs from this one (`LP_UPDATE_DOCS=1` writes it there).

/// The line before the generated table in docs/commands.md.
pub const BEGIN: &str =
    "<!-- generated from clap by tests/cli.rs (LP_UPDATE_DOCS=1 cargo test --test cli): begin -->";
/// The line after it.
pub const END: &str = "<!-- generated: end -->";

/// Arguments every subcommand has, said once in the document's prose instead.
const EVERYWHERE: &[&str] = &["help", "version", "quiet"];

/// The table: one row per subcommand (a nested one as `plugin install`), in clap's order.
pub fn command_table() -> String {
    let mut top = super::command();
    top.build();
    let mut out =
        String::from("| command | what it does | flags | exit codes |\n|---|---|---|---|\n");
    for sub in top.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        out.push_str(&row(sub.get_name(), sub));
        for nested in sub.get_subcommands().filter(|n| n.get_name() != "help") {
            out.push_str(&row(
                &format!("{} {}", sub.get_name(), nested.get_name()),
                nested,
            ));
        }
    }
    out
}

/// One row: the name, the first sentence of `about` (its `e.g.` example left to `--help`), the
/// flags and the exit codes of the help text.
fn row(name: &str, command: &clap::Command) -> String {
    let about = command
        .get_about()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let what = about.split("   e.g.").next().unwrap_or("").trim();
    let flags: Vec<String> = command
        .get_arguments()
        .filter(|a| !a.is_hide_set() && !EVERYWHERE.contains(&a.get_id().as_str()))
        .map(flag)
        .collect();
    let help = command
        .get_after_help()
        .map(|h| h.to_string())
        .unwrap_or_default();
    let codes = help
        .lines()
        .find_map(|l| l.strip_prefix("Exit codes: "))
        .map(|l| l.trim_end_matches('.'))
        .unwrap_or("");
    format!(
        "| `{name}` | {} | {} | {} |\n",
        cell(what),
        flags.join(" "),
        cell(codes)
    )
}

/// How a flag is written: `-f/--file`, `--wait`, or `NAME` for a positional argument.
fn flag(arg: &clap::Arg) -> String {
    match (arg.get_short(), arg.get_long()) {
        (Some(s), Some(l)) => format!("`-{s}/--{l}`"),
        (None, Some(l)) => format!("`--{l}`"),
        (Some(s), None) => format!("`-{s}`"),
        (None, None) => format!("`{}`", arg.get_id().as_str().to_uppercase()),
    }
}

/// Text made safe for a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// `document` with the text between [`BEGIN`] and [`END`] replaced by `table`; `None` when the
/// markers are missing or out of order.
pub fn with_table(document: &str, table: &str) -> Option<String> {
    let start = document.find(BEGIN)? + BEGIN.len();
    let end = start + document[start..].find(END)?;
    Some(format!(
        "{}\n{table}{}",
        &document[..start],
        &document[end..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subcommand_has_a_row() {
        let table = command_table();
        for name in [
            "check",
            "values",
            "local",
            "plugin install",
            "plugin uninstall",
            "version",
        ] {
            assert!(table.contains(&format!("| `{name}` |")), "{name}:\n{table}");
        }
        assert!(!table.contains("| `help` |"));
        assert!(table.contains("`-f/--file`"), "{table}");
        assert!(!table.contains("--quiet"), "said once in the prose");
    }

    #[test]
    fn the_table_goes_between_the_markers() {
        struct Case {
            document: String,
            result: Option<String>,
        }
        let cases = [
            Case {
                document: format!("a\n{BEGIN}\nold\n{END}\nb\n"),
                result: Some(format!("a\n{BEGIN}\nnew\n{END}\nb\n")),
            },
            Case {
                document: format!("a\n{END}\n{BEGIN}\n"),
                result: None,
            },
            Case {
                document: "no markers".into(),
                result: None,
            },
        ];
        for case in cases {
            assert_eq!(
                with_table(&case.document, "new\n"),
                case.result,
                "{}",
                case.document
            );
        }
    }
}
