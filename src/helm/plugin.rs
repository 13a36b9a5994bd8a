//! locust-planton's Helm 4 post-renderer plugin in a plugins folder, placed so that it can never
//! break a helm: Helm 3 cannot read a Helm 4 plugin manifest (`apiVersion` is an unknown field
//! to it) and then fails to load every plugin; Helm 4 fails to load every plugin when two
//! entries claim the same name. So:
//!
//! - the manifest is checked by Helm 4 itself in a folder of its own before anything is placed;
//! - earlier entries claiming the name (a `helm plugin install <checkout>` link) are moved
//!   aside, not left to clash;
//! - the entry is staged two levels down in the folder (where no helm looks) and renamed in;
//! - Helm 4 must then list it, or everything is put back as it was.

use super::{Helm, HelmError};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The plugin's name (`--post-renderer locust-planton`).
pub const NAME: &str = "locust-planton";

/// A plugin.yaml larger than this is not a plugin manifest.
const MAX_MANIFEST: usize = 64 * 1024;

/// Runs `helm args…` with HELM_PLUGINS set to `plugins` (`Some`) or removed (`None` in
/// `remove_plugins_env`); stdout on success.
fn helm_output(
    helm: &Helm,
    args: &[&str],
    plugins: Option<&std::ffi::OsStr>,
    remove_plugins_env: bool,
) -> Result<String, HelmError> {
    let mut cmd = duct::cmd(helm.path.as_os_str(), args)
        .stdout_capture()
        .stderr_capture()
        .unchecked();
    if let Some(p) = plugins {
        cmd = cmd.env("HELM_PLUGINS", p);
    } else if remove_plugins_env {
        cmd = cmd.env_remove("HELM_PLUGINS");
    }
    let out = cmd
        .run()
        .map_err(|e| HelmError::Missing(format!("{}: {e}", helm.path.display())))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(HelmError::Failed {
            code: out.status.code().unwrap_or(-1),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }
}

fn split_dirs(list: &str) -> Vec<PathBuf> {
    std::env::split_paths(&OsString::from(list.trim()))
        .filter(|p| !p.as_os_str().is_empty())
        .collect()
}

/// The folders `helm` loads plugins from in this environment (`helm env HELM_PLUGINS`, a path
/// list; the first is where plugins are installed).
pub fn plugin_dirs(helm: &Helm) -> Result<Vec<PathBuf>, HelmError> {
    helm_output(helm, &["env", "HELM_PLUGINS"], None, false).map(|s| split_dirs(&s))
}

/// The folders `helm` loads plugins from when `HELM_PLUGINS` is not set: its default, derived
/// from `HELM_DATA_HOME`/`XDG_DATA_HOME`/the home folder, the same for Helm 3 and Helm 4.
pub fn default_plugin_dirs(helm: &Helm) -> Result<Vec<PathBuf>, HelmError> {
    helm_output(helm, &["env", "HELM_PLUGINS"], None, true).map(|s| split_dirs(&s))
}

/// Two folder paths name the same folder (compared resolved where they exist).
pub fn same_dir(a: &Path, b: &Path) -> bool {
    let norm = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    norm(a) == norm(b)
}

/// The `name:` an entry's plugin.yaml declares (entries are folders or links to folders).
pub fn declared_name(entry: &Path) -> Option<String> {
    let text = std::fs::File::open(entry.join("plugin.yaml"))
        .and_then(|f| crate::limits::read_bounded(f, MAX_MANIFEST))
        .ok()?;
    let node = crate::yaml::parse_single(&String::from_utf8(text).ok()?).ok()?;
    node.get_path(&["name"])?.as_str().map(str::to_string)
}

/// The entries of `dirs` (folders or links) whose plugin.yaml declares `name: locust-planton`,
/// in folder order. Helm 4 refuses to load any plugin while two of them exist.
pub fn entries_claiming_the_name(dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for dir in dirs {
        let Ok(read) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut entries: Vec<PathBuf> = read.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        found.extend(
            entries
                .into_iter()
                .filter(|e| declared_name(e).as_deref() == Some(NAME)),
        );
    }
    found
}

/// `helm plugin list` (with HELM_PLUGINS set to `plugins`, else as it is): the listing, or why
/// helm failed to load its plugins.
pub fn plugin_list(helm: &Helm, plugins: Option<&std::ffi::OsStr>) -> Result<String, String> {
    helm_output(helm, &["plugin", "list"], plugins, false).map_err(|e| match e {
        HelmError::Failed { stderr, .. } => format!(
            "`{} plugin list` failed:\n{}",
            helm.path.display(),
            stderr.trim_end()
        ),
        other => other.to_string(),
    })
}

/// `Ok` when `helm plugin list` lists `locust-planton` as a `postrenderer/v1` plugin; otherwise
/// why not (helm's error, or what it listed).
pub fn check_listed(helm: &Helm, plugins: Option<&std::ffi::OsStr>) -> Result<(), String> {
    let listing = plugin_list(helm, plugins)?;
    let listed = listing.lines().skip(1).any(|l| {
        let cols: Vec<&str> = l.split_whitespace().collect();
        cols.first() == Some(&NAME) && cols.contains(&"postrenderer/v1")
    });
    if listed {
        Ok(())
    } else {
        Err(format!(
            "`{} plugin list` does not list {NAME} as a postrenderer/v1 plugin:\n{}",
            helm.path.display(),
            listing.trim_end()
        ))
    }
}

/// Helm 4 reads `manifest` in a plugins folder of its own (nothing of the user's is touched).
pub fn check_manifest(helm: &Helm, manifest: &str) -> Result<(), String> {
    let dir = tempfile::Builder::new()
        .prefix("locust-planton-plugin-check")
        .tempdir()
        .map_err(|e| e.to_string())?;
    std::fs::create_dir(dir.path().join(NAME)).map_err(|e| e.to_string())?;
    std::fs::write(dir.path().join(NAME).join("plugin.yaml"), manifest)
        .map_err(|e| e.to_string())?;
    check_listed(helm, Some(dir.path().as_os_str()))
}

/// An entry moved aside while the new one goes in, and where to.
struct Aside {
    from: PathBuf,
    to: PathBuf,
}

/// Puts moved entries back (the newest move first).
fn restore(moved: &[Aside]) -> Vec<String> {
    moved
        .iter()
        .rev()
        .filter_map(|a| {
            std::fs::rename(&a.to, &a.from).err().map(|e| {
                format!(
                    "could not put {} back (it is at {}): {e}",
                    a.from.display(),
                    a.to.display()
                )
            })
        })
        .collect()
}

/// Puts moved entries back (the newest move first); `why` the place failed, with what could not
/// be put back.
fn put_back(moved: &[Aside], why: String) -> String {
    let problems = restore(moved);
    if problems.is_empty() {
        why
    } else {
        format!("{why}\n{}", problems.join("\n"))
    }
}

fn at(p: &Path, e: std::io::Error) -> String {
    format!("{}: {e}", p.display())
}

/// Installs `manifest` as `dir/locust-planton`, replacing the entries `replace` (earlier
/// installs of the plugin, in any plugins folder); `verify` runs once it is in place. On any
/// failure, including `verify`'s, the folders are left as they were. Returns the new entry.
pub fn place(
    dir: &Path,
    manifest: &str,
    replace: &[PathBuf],
    verify: impl FnOnce() -> Result<(), String>,
) -> Result<PathBuf, String> {
    let (stage, staged) = stage_entry(dir, manifest)?;
    let entry = dir.join(NAME);
    // Folders for entries of other plugins folders (a rename stays within its file system).
    let mut other_stages = Vec::new();
    let mut moved: Vec<Aside> = Vec::new();
    for (i, old) in replace.iter().enumerate() {
        match move_aside(old, i, dir, stage.path(), &mut other_stages) {
            Ok(aside) => moved.push(aside),
            Err(why) => return Err(put_back(&moved, why)),
        }
    }
    if let Err(e) = std::fs::rename(&staged, &entry) {
        return Err(put_back(&moved, at(&entry, e)));
    }
    if let Err(mut why) = verify() {
        if let Err(e) = std::fs::remove_dir_all(&entry) {
            why.push_str(&format!("\ncould not remove {}: {e}", entry.display()));
        }
        return Err(put_back(&moved, why));
    }
    // Dropping the stages removes what was moved aside: links are removed, never followed.
    drop(other_stages);
    drop(stage);
    Ok(entry)
}

/// Writes the new entry into a stage folder in `dir`: the stage and the staged entry.
fn stage_entry(dir: &Path, manifest: &str) -> Result<(tempfile::TempDir, PathBuf), String> {
    std::fs::create_dir_all(dir).map_err(|e| at(dir, e))?;
    // Two levels down (`.locust-planton-install-…/locust-planton/plugin.yaml`): helm looks for
    // `*/plugin.yaml` only, so neither the staged entry nor the ones moved aside are loaded.
    let stage = tempfile::Builder::new()
        .prefix(".locust-planton-install-")
        .tempdir_in(dir)
        .map_err(|e| format!("cannot write in {}: {e}", dir.display()))?;
    let staged = stage.path().join(NAME);
    std::fs::create_dir(&staged).map_err(|e| at(&staged, e))?;
    std::fs::write(staged.join("plugin.yaml"), manifest).map_err(|e| at(&staged, e))?;
    Ok((stage, staged))
}

/// Moves `old` (the `i`th entry replaced) into a stage in its own folder: `stage` when that is
/// `dir`, else a new one kept in `other_stages`.
fn move_aside(
    old: &Path,
    i: usize,
    dir: &Path,
    stage: &Path,
    other_stages: &mut Vec<tempfile::TempDir>,
) -> Result<Aside, String> {
    let aside_dir = match old.parent() {
        Some(p) if same_dir(p, dir) => stage.to_path_buf(),
        Some(p) => {
            let t = tempfile::Builder::new()
                .prefix(".locust-planton-install-")
                .tempdir_in(p)
                .map_err(|e| format!("cannot write in {}: {e}", p.display()))?;
            let path = t.path().to_path_buf();
            other_stages.push(t);
            path
        }
        None => return Err(format!("{}: not in a folder", old.display())),
    };
    let to = aside_dir.join(format!("replaced-{i}"));
    std::fs::rename(old, &to).map_err(|e| format!("cannot move {} aside: {e}", old.display()))?;
    Ok(Aside {
        from: old.to_path_buf(),
        to,
    })
}

/// Removes plugin entries: a link is unlinked (what it points to stays), a folder is deleted.
pub fn remove(entries: &[PathBuf]) -> Result<(), String> {
    for e in entries {
        let is_link = std::fs::symlink_metadata(e).is_ok_and(|m| m.file_type().is_symlink());
        let r = if is_link {
            std::fs::remove_file(e)
        } else {
            std::fs::remove_dir_all(e)
        };
        r.map_err(|err| format!("{}: {err}", e.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_plugin(dir: &Path, name: &str) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(
            dir.join("plugin.yaml"),
            format!("apiVersion: v1\ntype: postrenderer/v1\nname: {name}\nversion: 0.1.0\n"),
        )
        .unwrap();
    }

    fn listing(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn entries_are_found_by_the_name_they_declare() {
        let d = tempfile::tempdir().unwrap();
        let plugins = d.path().join("plugins");
        write_plugin(&plugins.join("diff"), "diff");
        write_plugin(&d.path().join("checkout"), NAME);
        std::fs::create_dir_all(&plugins).unwrap();
        std::os::unix::fs::symlink(d.path().join("checkout"), plugins.join("checkout")).unwrap();
        // A dangling link and a folder without a manifest are not claims.
        std::os::unix::fs::symlink(d.path().join("gone"), plugins.join("gone")).unwrap();
        std::fs::create_dir(plugins.join("empty")).unwrap();
        assert_eq!(
            entries_claiming_the_name(&[plugins.clone(), d.path().join("missing")]),
            [plugins.join("checkout")]
        );
    }

    #[test]
    fn place_replaces_earlier_entries_and_removes_only_links() {
        let d = tempfile::tempdir().unwrap();
        let plugins = d.path().join("plugins");
        write_plugin(&d.path().join("checkout"), NAME);
        std::fs::create_dir_all(&plugins).unwrap();
        std::os::unix::fs::symlink(d.path().join("checkout"), plugins.join("checkout")).unwrap();
        write_plugin(&plugins.join("diff"), "diff");
        let entry = place(
            &plugins,
            "name: locust-planton\n",
            &[plugins.join("checkout")],
            || {
                // In place, and nothing else of ours is visible at helm's depth.
                assert_eq!(
                    listing(&plugins)
                        .iter()
                        .filter(|n| !n.starts_with('.'))
                        .count(),
                    2
                );
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(entry, plugins.join(NAME));
        assert_eq!(listing(&plugins), ["diff", NAME]);
        assert_eq!(read(&entry.join("plugin.yaml")), "name: locust-planton\n");
        // The link's target (a user's checkout) is untouched.
        assert!(d.path().join("checkout/plugin.yaml").is_file());
    }

    fn read(p: &Path) -> String {
        std::fs::read_to_string(p).unwrap()
    }

    #[test]
    fn a_failed_verification_puts_everything_back() {
        let d = tempfile::tempdir().unwrap();
        let plugins = d.path().join("plugins");
        let other = d.path().join("other");
        write_plugin(&plugins.join(NAME), NAME);
        std::fs::write(plugins.join(NAME).join("marker"), "old install").unwrap();
        write_plugin(&d.path().join("checkout"), NAME);
        std::fs::create_dir_all(&other).unwrap();
        std::os::unix::fs::symlink(d.path().join("checkout"), other.join("co")).unwrap();
        let before = (listing(&plugins), listing(&other));
        let err = place(
            &plugins,
            "name: locust-planton\nnew: true\n",
            &[plugins.join(NAME), other.join("co")],
            || Err("helm said no".into()),
        )
        .unwrap_err();
        assert_eq!(err, "helm said no");
        assert_eq!((listing(&plugins), listing(&other)), before);
        assert_eq!(read(&plugins.join(NAME).join("marker")), "old install");
        assert_eq!(
            std::fs::read_link(other.join("co")).unwrap(),
            d.path().join("checkout")
        );
    }

    #[test]
    fn remove_unlinks_links_and_deletes_folders() {
        let d = tempfile::tempdir().unwrap();
        write_plugin(&d.path().join("checkout"), NAME);
        write_plugin(&d.path().join("plugins/locust-planton"), NAME);
        std::os::unix::fs::symlink(d.path().join("checkout"), d.path().join("plugins/co")).unwrap();
        remove(&[
            d.path().join("plugins/co"),
            d.path().join("plugins/locust-planton"),
        ])
        .unwrap();
        assert!(listing(&d.path().join("plugins")).is_empty());
        assert!(d.path().join("checkout/plugin.yaml").is_file());
    }
}
