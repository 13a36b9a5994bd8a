//! `plugin install` / `plugin uninstall`: locust-planton's Helm 4 post-renderer plugin, for
//! users who run Helm 4 themselves (`helm install … --post-renderer locust-planton`).
//! `template` and `install` need no plugin: they give Helm 4 a temporary one.
//!
//! Helm 3 cannot read a Helm 4 plugin manifest, and a plugins folder holding one makes every
//! Helm 3 command fail to load all of its plugins. Both versions use the same folder by
//! default. So `install` refuses Helm 3, refuses a folder a Helm 3 on this machine loads by
//! default (unless told to share it), warns where Helm 3 would load it in this environment, and
//! leaves nothing behind when it fails. `uninstall` works with either version, so that it also
//! repairs a Helm 3 plugins folder an earlier `helm plugin install <checkout>` broke.

use super::{Failure, Output, exit};
use crate::helm::plugin::{
    NAME, check_listed, check_manifest, default_plugin_dirs, entries_claiming_the_name, place,
    plugin_dirs, plugin_list, remove, same_dir,
};
use crate::helm::{Helm, plugin_manifest, version_cache};
use std::path::{Path, PathBuf};

/// `plugin`'s exit codes, the same for `plugin install` and `plugin uninstall`.
const PLUGIN_EXIT: &[(u8, &str)] = &[
    (exit::OK, ""),
    (
        exit::FAILED,
        "refused or failed (the plugins folder is left as it was)",
    ),
    (exit::USAGE, "usage"),
    (exit::TOOL_FAILED, "helm failed"),
];

/// The Helm 4 post-renderer plugin (never into Helm 3).   e.g. locust-planton plugin install
#[derive(clap::Args, Clone)]
#[command(
    after_help = exit::help(
        "Examples:\n  locust-planton plugin install --dry-run\n  locust-planton plugin install --helm /usr/local/bin/helm4\n  \
    locust-planton plugin uninstall --helm helm   (also repairs Helm 3 after `helm plugin install <checkout>`)\n\n\
    Only for running Helm 4 yourself (`helm install … --post-renderer locust-planton`): `template` and\n\
    `install` need no plugin. Helm 3 cannot read a Helm 4 plugin and then loads none of its plugins, so\n\
    install refuses Helm 3 and a plugins folder a Helm 3 here loads by default.",
        PLUGIN_EXIT,
    )
)]
pub struct PluginArgs {
    #[command(subcommand)]
    pub action: PluginAction,
}

/// `plugin install` / `plugin uninstall`.
#[derive(clap::Subcommand, Clone)]
pub enum PluginAction {
    Install(PluginInstallArgs),
    Uninstall(PluginUninstallArgs),
}

/// The flags both actions take.
#[derive(clap::Args, Clone)]
pub struct PluginOpts {
    /// The helm binary [default: $HELM, else helm on PATH].
    #[arg(long, value_name = "PATH")]
    pub helm: Option<String>,
    /// Print what would be done; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Install the plugin into Helm 4's plugins folder (`helm env HELM_PLUGINS`).
#[derive(clap::Args, Clone)]
#[command(after_help = exit::line(PLUGIN_EXIT))]
pub struct PluginInstallArgs {
    #[command(flatten)]
    pub common: PluginOpts,
    /// A Helm 3 to check the plugins folder against [default: helm and helm3 on PATH, $HELM].
    #[arg(long, value_name = "PATH")]
    pub helm3: Option<String>,
    /// Install even into a folder a Helm 3 here loads by default (it then fails to load any
    /// plugin until `plugin uninstall`).
    #[arg(long)]
    pub share_with_helm3: bool,
}

/// Remove the plugin from the folder this helm loads (Helm 3 too, repairing it).
#[derive(clap::Args, Clone)]
#[command(after_help = exit::line(PLUGIN_EXIT))]
pub struct PluginUninstallArgs {
    #[command(flatten)]
    pub common: PluginOpts,
}

/// `plugin install` or `plugin uninstall`.
pub fn run(a: &PluginArgs) -> Result<Output, Failure> {
    match &a.action {
        PluginAction::Install(i) => install(i),
        PluginAction::Uninstall(u) => uninstall(u),
    }
}

/// How to keep Helm 4's plugins apart from Helm 3's (or do without the plugin).
fn how_to_avoid(helm4: &Helm) -> String {
    let h4 = helm4.path.display();
    format!(
        "To keep Helm 3 working, either:\n  \
         - do without the plugin: `locust-planton template` and `locust-planton install` give Helm 4 a temporary one; or\n  \
         - give Helm 4 a plugins folder of its own, set for Helm 4 only (never in a profile Helm 3 reads too):\n      \
         alias helm4='HELM_PLUGINS=\"$HOME/.local/share/helm4/plugins\" {h4}'\n      \
         HELM_PLUGINS=\"$HOME/.local/share/helm4/plugins\" locust-planton plugin install --helm {h4}"
    )
}

/// A Helm 3 and the folders it loads plugins from (by default, and in this environment).
struct Helm3 {
    helm: Helm,
    default_dirs: Vec<PathBuf>,
    dirs_here: Vec<PathBuf>,
}

/// The Helm 3 binaries to check: `--helm3`, else `helm`, `helm3` and `$HELM` where they are
/// Helm 3 and not the Helm 4 being installed for.
fn helm3s(helm4: &Helm, explicit: Option<&str>) -> Result<Vec<Helm3>, Failure> {
    let names: Vec<String> = match explicit {
        Some(e) => vec![e.to_string()],
        None => ["helm", "helm3"]
            .into_iter()
            .map(String::from)
            .chain(std::env::var("HELM").ok())
            .collect(),
    };
    let canonical = |name: &str| {
        version_cache::resolve(std::ffi::OsStr::new(name))
            .and_then(|p| std::fs::canonicalize(p).ok())
    };
    let mine = canonical(&helm4.path.to_string_lossy());
    let mut seen: Vec<PathBuf> = Vec::new();
    let mut found = Vec::new();
    for name in names {
        let Some(c) = canonical(&name) else {
            if explicit.is_some() {
                return Err(Failure::failed(format!("--helm3 {name}: not found")));
            }
            continue;
        };
        if Some(&c) == mine.as_ref() || seen.contains(&c) {
            if explicit.is_some() {
                return Err(Failure::failed(format!(
                    "--helm3 {name} is the helm being installed for, not a Helm 3"
                )));
            }
            continue;
        }
        seen.push(c);
        let helm = match Helm::at(&name) {
            Ok(h) if h.major == 3 => h,
            Ok(h) if explicit.is_some() => {
                return Err(Failure::failed(format!(
                    "--helm3 {name} is Helm {}, not Helm 3",
                    h.version
                )));
            }
            Err(e) if explicit.is_some() => return Err(Failure::from(e)),
            _ => continue,
        };
        found.push(Helm3 {
            default_dirs: default_plugin_dirs(&helm)?,
            dirs_here: plugin_dirs(&helm)?,
            helm,
        });
    }
    Ok(found)
}

fn contains(dirs: &[PathBuf], dir: &Path) -> bool {
    dirs.iter().any(|d| same_dir(d, dir))
}

pub fn install(a: &PluginInstallArgs) -> Result<Output, Failure> {
    let helm = helm4(a.common.helm.as_deref())?;
    let (dir, earlier) = install_folder(&helm)?;
    let warnings = check_helm3s(&helm, &dir, a)?;
    let exe = super::this_binary(true)?;
    let manifest = format!(
        "# Installed by `locust-planton plugin install`; `locust-planton plugin uninstall` removes it.\n{}",
        plugin_manifest(&exe.display().to_string(), &[])
    );
    let plan = replace_plan(&earlier);
    if a.common.dry_run {
        return Ok(Output {
            stdout: format!(
                "dry run, nothing changed; locust-planton plugin install would:\n{plan}write {}:\n{}",
                dir.join(NAME).join("plugin.yaml").display(),
                manifest
                    .lines()
                    .map(|l| format!("  {l}\n"))
                    .collect::<String>()
            ),
            stderr: warnings,
            ..Output::default()
        });
    }
    check_manifest(&helm, &manifest).map_err(|why| {
        Failure::failed(format!(
            "Helm 4 does not load the plugin manifest; nothing was installed:\n{why}"
        ))
    })?;
    let placed = place(&dir, &manifest, &earlier, || check_listed(&helm, None)).map_err(|why| {
        Failure::failed(format!(
            "installing the plugin failed; the plugins folder {} is as it was:\n{why}",
            dir.display()
        ))
    })?;
    Ok(Output {
        stdout: format!(
            "{plan}installed the Helm 4 plugin {NAME}: {} (runs {} post-render)\n\
             use it: helm install RELEASE CHART … --post-renderer {NAME}\n",
            placed.display(),
            exe.display()
        ),
        stderr: warnings,
        ..Output::default()
    })
}

/// The helm to install for, refused unless it is Helm 4.
fn helm4(explicit: Option<&str>) -> Result<Helm, Failure> {
    let helm = Helm::find(explicit)?;
    if helm.major != 4 {
        return Err(Failure::failed(format!(
            "{} is Helm {}: the plugin is a Helm 4 plugin (postrenderer/v1) and Helm 3 cannot read it; \
             in Helm 3's plugins folder it would make every Helm 3 command fail to load its plugins. \
             Nothing was installed. Helm 3 needs no plugin: `--post-renderer locust-planton` runs this binary from PATH. \
             For Helm 4, point --helm or $HELM at it.",
            helm.path.display(),
            helm.version
        )));
    }
    Ok(helm)
}

/// The folder Helm 4 installs plugins into, and the entries already claiming the name there or
/// in its other plugins folders (they are replaced). Something else named like the plugin in
/// that folder is refused, not replaced.
fn install_folder(helm: &Helm) -> Result<(PathBuf, Vec<PathBuf>), Failure> {
    let dirs = plugin_dirs(helm)?;
    let Some(dir) = dirs.first().cloned() else {
        return Err(Failure::failed(format!(
            "`{} env HELM_PLUGINS` names no folder",
            helm.path.display()
        )));
    };
    let entry = dir.join(NAME);
    let earlier = entries_claiming_the_name(&dirs);
    if entry.symlink_metadata().is_ok() && !earlier.contains(&entry) {
        return Err(Failure::failed(format!(
            "{} exists and is not locust-planton's plugin; nothing was installed (move it away first)",
            entry.display()
        )));
    }
    Ok((dir, earlier))
}

/// Refuses `dir` when a Helm 3 here loads it by default (unless `--share-with-helm3`); the
/// warnings for the ways a Helm 3 could still load it.
fn check_helm3s(helm: &Helm, dir: &Path, a: &PluginInstallArgs) -> Result<String, Failure> {
    let mut warnings = String::new();
    let helm3s = helm3s(helm, a.helm3.as_deref())?;
    for h3 in &helm3s {
        let who = format!("{} (Helm {})", h3.helm.path.display(), h3.helm.version);
        if contains(&h3.default_dirs, dir) {
            let message = format!(
                "{who} loads plugins from {} too, and cannot read a Helm 4 plugin: with this one there, \
                 every Helm 3 command would print \"failed to load plugins\" and lose all its plugins \
                 (helm-diff, and helmfile with it).",
                dir.display()
            );
            if !a.share_with_helm3 {
                return Err(Failure::failed(format!(
                    "{message} Nothing was installed.\n{}\n  \
                     - or install anyway with --share-with-helm3 (`locust-planton plugin uninstall --helm {}` repairs Helm 3 later).",
                    how_to_avoid(helm),
                    h3.helm.path.display()
                )));
            }
            warnings.push_str(&format!(
                "locust-planton: warning: {message} Installing anyway (--share-with-helm3); `locust-planton plugin uninstall --helm {}` repairs it.\n",
                h3.helm.path.display()
            ));
        } else if contains(&h3.dirs_here, dir) {
            warnings.push_str(&format!(
                "locust-planton: warning: {who} loads plugins from {} too whenever HELM_PLUGINS is set as it is now, and then fails to load any. {}\n",
                dir.display(),
                how_to_avoid(helm)
            ));
        }
    }
    if helm3s.is_empty() && std::env::var_os("HELM_PLUGINS").is_none() {
        warnings.push_str(&format!(
            "locust-planton: warning: {} is also where Helm 3 loads plugins from by default (no Helm 3 was found here: \
             `helm` and `helm3` on PATH, $HELM); a Helm 3 run with this environment would fail to load any plugin. {}\n",
            dir.display(),
            how_to_avoid(helm)
        ));
    }
    Ok(warnings)
}

/// One line per earlier entry the install replaces.
fn replace_plan(earlier: &[PathBuf]) -> String {
    let mut plan = String::new();
    for old in earlier {
        plan.push_str(&format!(
            "replace {} (an earlier install of the plugin{})\n",
            old.display(),
            match std::fs::read_link(old) {
                Ok(to) => format!(
                    ", a link to {}; the link goes, {} stays",
                    to.display(),
                    to.display()
                ),
                Err(_) => String::new(),
            }
        ));
    }
    plan
}

pub fn uninstall(a: &PluginUninstallArgs) -> Result<Output, Failure> {
    let helm = Helm::find(a.common.helm.as_deref())?;
    let dirs = plugin_dirs(&helm)?;
    let entries = entries_claiming_the_name(&dirs);
    let shown = dirs
        .iter()
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(":");
    if entries.is_empty() {
        return Ok(Output {
            stdout: format!("{NAME} is not installed in {shown}; nothing to do\n"),
            stderr: String::new(),
            ..Output::default()
        });
    }
    let what: String = entries
        .iter()
        .map(|e| match std::fs::read_link(e) {
            Ok(to) => format!(
                "remove {} (a link to {}, which stays)\n",
                e.display(),
                to.display()
            ),
            Err(_) => format!("remove {}\n", e.display()),
        })
        .collect();
    if a.common.dry_run {
        return Ok(Output {
            stdout: format!(
                "dry run, nothing changed; locust-planton plugin uninstall would:\n{what}"
            ),
            stderr: String::new(),
            ..Output::default()
        });
    }
    remove(&entries)
        .map_err(|why| Failure::failed(format!("uninstalling the plugin failed: {why}")))?;
    // The folder must load again (on Helm 3: what the removed entry broke).
    let helm_cmd = helm.path.display();
    match plugin_list(&helm, None) {
        Err(why) => Err(Failure::new(
            exit::TOOL_FAILED,
            format!(
                "{what}but {helm_cmd} still fails to load its plugins (another entry is broken):\n{why}"
            ),
        )),
        Ok(_) => Ok(Output {
            stdout: format!(
                "{what}{helm_cmd} loads its plugins (`{helm_cmd} plugin list` succeeds)\n"
            ),
            stderr: String::new(),
            ..Output::default()
        }),
    }
}
