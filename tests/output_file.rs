//! Output files through the real binary: a new file respects the caller's umask, an existing
//! file keeps its mode, a symbolic link is written through and stays a link, and a failure
//! names the user's path (`values -o`, `init --output-file`).

mod common;
use common::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

/// `locust-planton ARGS` started by `sh` after `umask MASK`, in `dir`.
fn with_umask(dir: &Path, mask: &str, args: &str) -> std::process::Output {
    std::process::Command::new("sh")
        .current_dir(dir)
        .arg("-c")
        .arg(format!("umask {mask} && exec \"$0\" {args}"))
        .arg(bin())
        .output()
        .unwrap()
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().mode() & 0o7777
}

#[test]
fn new_files_respect_the_umask_and_existing_ones_keep_their_mode() {
    let d = tempfile::tempdir().unwrap();
    let example = repo().join("examples/checkout.yaml");
    for (mask, expected) in [("022", 0o644), ("027", 0o640), ("002", 0o664)] {
        let out = with_umask(
            d.path(),
            mask,
            &format!(
                "values -f '{}' --output-file v{mask}.yaml",
                example.display()
            ),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            mode(&d.path().join(format!("v{mask}.yaml"))),
            expected,
            "umask {mask}"
        );
        let out = with_umask(
            d.path(),
            mask,
            &format!("init n{mask} --output-file n{mask}.yaml"),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            mode(&d.path().join(format!("n{mask}.yaml"))),
            expected,
            "umask {mask}"
        );
    }
    // An existing 0600 file stays 0600 under umask 022; a 0664 one stays 0664 under 077.
    for (start, mask) in [(0o600, "022"), (0o664, "077")] {
        let p = d.path().join(format!("keep{start:o}.yaml"));
        std::fs::write(&p, "old").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(start)).unwrap();
        let out = with_umask(
            d.path(),
            mask,
            &format!(
                "values -f '{}' --output-file keep{start:o}.yaml",
                example.display()
            ),
        );
        assert!(out.status.success());
        assert_eq!(mode(&p), start);
        assert!(read(&p).starts_with("# Values for chart locust"));
    }
}

#[test]
fn a_symlinked_output_is_written_through() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("shared")).unwrap();
    let target = d.path().join("shared/values.yaml");
    std::fs::write(&target, "old").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
    std::os::unix::fs::symlink("shared/values.yaml", d.path().join("values.yaml")).unwrap();
    let out = assert_cmd::Command::new(bin())
        .current_dir(d.path())
        .args(["schema", "--output-file", "values.yaml"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_link(d.path().join("values.yaml")).unwrap(),
        Path::new("shared/values.yaml")
    );
    assert!(read(&target).contains("\"$schema\""));
    assert_eq!(mode(&target), 0o640);
    let names: Vec<_> = std::fs::read_dir(d.path().join("shared"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["values.yaml"]);
}

#[test]
fn a_failure_names_the_users_path() {
    let d = tempfile::tempdir().unwrap();
    let out = assert_cmd::Command::new(bin())
        .current_dir(d.path())
        .args(["schema", "--output-file", "missing/dir/schema.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "locust-planton: missing/dir/schema.json: cannot create a file in missing/dir (the output is written beside it, then renamed): No such file or directory (os error 2)\n"
    );
    assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0);
}
