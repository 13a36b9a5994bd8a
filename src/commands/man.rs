//! `man --dir DIR`: man pages made by clap from the command line.

use super::{Failure, exit};

/// Man pages for the tool and each subcommand.   e.g. locust-planton man --dir /usr/local/share/man/man1
#[derive(clap::Args, Clone)]
#[command(
    after_help = exit::help(
        "Examples:\n  locust-planton man --dir ~/.local/share/man/man1 && man locust-planton\n\n\
    Writes locust-planton.1 and locust-planton-<subcommand>.1 (each atomically), creating DIR.",
        &[(exit::OK, "written"), (exit::FAILED, "a page cannot be written"), (exit::USAGE, "usage error")],
    )
)]
pub struct ManArgs {
    /// The directory to write the pages to (created when missing).
    #[arg(long, value_name = "DIR")]
    pub dir: String,
}

/// Man pages for `root` (the whole command line's definition): the tool's and one per visible
/// subcommand, each written atomically into `--dir`.
pub fn run(a: &ManArgs, root: clap::Command) -> Result<(), Failure> {
    let dir = a.dir.as_str();
    std::fs::create_dir_all(dir).map_err(|e| Failure::failed(format!("{dir}: {e}")))?;
    let version = root.get_version().unwrap_or_default().to_string();
    let mut pages = vec![("locust-planton".to_string(), root.clone())];
    // One page per subcommand, and per subcommand of those (`plugin install`), as their SEE
    // ALSO sections name them.
    let mut todo: Vec<(String, clap::Command)> = root
        .get_subcommands()
        .map(|s| ("locust-planton".to_string(), s.clone()))
        .collect();
    while let Some((parent, sub)) = todo.pop() {
        if sub.is_hide_set() || sub.get_name() == "help" {
            continue;
        }
        let name = format!("{parent}-{}", sub.get_name());
        todo.extend(sub.get_subcommands().map(|s| (name.clone(), s.clone())));
        pages.push((name.clone(), sub.name(name).version(version.clone())));
    }
    for (name, cmd) in pages {
        let mut page = Vec::new();
        clap_mangen::Man::new(cmd)
            .render(&mut page)
            .map_err(|e| Failure::failed(format!("{name}.1: {e}")))?;
        let text =
            String::from_utf8(page).map_err(|e| Failure::failed(format!("{name}.1: {e}")))?;
        let path = std::path::Path::new(dir).join(format!("{name}.1"));
        super::write_output(Some(&path.to_string_lossy()), &text)?;
    }
    Ok(())
}
