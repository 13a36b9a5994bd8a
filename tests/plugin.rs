//! `plugin install` / `plugin uninstall` with real Helm 3 and Helm 4 in throwaway homes: the
//! plugin never breaks Helm 3 (a stand-in for helm-diff stays loadable), Helm 4 post-renders
//! through what was installed, and a failure leaves the plugins folder exactly as it was.
// Without `tools`, the helpers of the tool-driven tests below are unused.
#![cfg_attr(not(feature = "tools"), allow(dead_code, unused_imports))]

mod common;
use common::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// A throwaway user: home, XDG folders, and a `bin` folder first on a PATH without any helm.
struct User {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl User {
    fn new() -> User {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        for d in ["home", "bin", "data", "config", "cache"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        User { _dir: dir, root }
    }

    /// Helm's default plugins folder for this user (both versions).
    fn plugins(&self) -> PathBuf {
        self.root.join("data/helm/plugins")
    }

    fn env(&self, cmd: &mut std::process::Command) {
        for v in [
            "HELM",
            "HELM_PLUGINS",
            "HELM_DATA_HOME",
            "HELM_CONFIG_HOME",
            "HELM_CACHE_HOME",
        ] {
            cmd.env_remove(v);
        }
        cmd.env("HOME", self.root.join("home"))
            .env("XDG_DATA_HOME", self.root.join("data"))
            .env("XDG_CONFIG_HOME", self.root.join("config"))
            .env("XDG_CACHE_HOME", self.root.join("cache"))
            .env("LOCUST_PLANTON_LOG", self.root.join("post-render.log"))
            .env(
                "PATH",
                format!("{}:/usr/bin:/bin", self.root.join("bin").display()),
            );
    }

    fn helm(&self, helm: &Path, args: &[&str]) -> std::process::Output {
        let mut cmd = std::process::Command::new(helm);
        self.env(&mut cmd);
        cmd.args(args).output().unwrap()
    }

    fn lp(&self, args: &[&str]) -> std::process::Output {
        let mut cmd = std::process::Command::new(bin());
        self.env(&mut cmd);
        cmd.args(args).output().unwrap()
    }

    /// Puts `helm` on this user's PATH as `name` (a link, as package managers do).
    fn on_path(&self, helm: &Path, name: &str) {
        std::os::unix::fs::symlink(helm, self.root.join("bin").join(name)).unwrap();
    }

    /// A Helm 3 plugin standing in for helm-diff.
    fn add_diff_plugin(&self) {
        let d = self.plugins().join("diff");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(
            d.join("plugin.yaml"),
            "name: \"diff\"\nversion: \"3.9.0\"\nusage: \"diff\"\ndescription: \"stand-in for helm-diff\"\ncommand: \"echo diff-ran\"\n",
        )
        .unwrap();
    }

    /// A checkout as the README's old step installed it: a folder holding the plugin manifest.
    fn old_checkout(&self) -> PathBuf {
        let c = self.root.join("src/locust-planton");
        std::fs::create_dir_all(&c).unwrap();
        std::fs::copy(
            repo().join("helm4-plugin/plugin.yaml"),
            c.join("plugin.yaml"),
        )
        .unwrap();
        c
    }
}

/// README.md and any docs/*.md, concatenated.
fn documentation() -> String {
    let mut text = read(repo().join("README.md"));
    if let Ok(docs) = std::fs::read_dir(repo().join("docs")) {
        let mut pages: Vec<_> = docs.map(|e| e.unwrap().path()).collect();
        pages.sort();
        for p in pages
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "md"))
        {
            text.push_str(&read(p));
        }
    }
    text
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Helm 3 loads its plugins: `plugin list` succeeds and shows the helm-diff stand-in.
fn assert_helm3_healthy(u: &User) {
    let out = u.helm(&helm3(), &["plugin", "list"]);
    assert!(out.status.success(), "helm 3: {}", text(&out.stderr));
    assert!(text(&out.stdout).contains("stand-in for helm-diff"));
    let out = u.helm(&helm3(), &["diff"]);
    assert_eq!(text(&out.stdout), "diff-ran\n", "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains("failed to load plugins"));
}

/// Everything under `dir` (hidden entries too): path, kind, and a link's target or a file's
/// content; links are not followed.
fn snapshot(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(listing) = std::fs::read_dir(dir) else {
        return vec!["<absent>".into()];
    };
    let mut entries: Vec<_> = listing.map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        let m = std::fs::symlink_metadata(&p).unwrap();
        if m.file_type().is_symlink() {
            out.push(format!(
                "{} -> {}",
                p.display(),
                std::fs::read_link(&p).unwrap().display()
            ));
        } else if m.is_dir() {
            out.push(format!("{}/", p.display()));
            out.extend(snapshot(&p));
        } else {
            out.push(format!("{} = {}", p.display(), read(&p)));
        }
    }
    out
}

/// `helm template` of the test chart with the installed plugin as post-renderer: hardened.
fn assert_helm4_post_renders(u: &User, plugins: Option<&Path>) {
    let values = u.root.join("values.yaml");
    let out = u.lp(&[
        "values",
        "-f",
        repo().join("examples/checkout.yaml").to_str().unwrap(),
        "--output-file",
        values.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let mut cmd = std::process::Command::new(helm4());
    u.env(&mut cmd);
    if let Some(p) = plugins {
        cmd.env("HELM_PLUGINS", p);
    }
    let out = cmd
        .args(["template", "checkout-load"])
        .arg(repo().join("tests/charts/locust-mini"))
        .args(["-f", values.to_str().unwrap()])
        .args(["--post-renderer", "locust-planton"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let kube = judge(&text(&out.stdout), "restricted");
    assert!(kube.is_empty(), "psa-judge: {kube:?}");
    let objs = kubectl_objects(&text(&out.stdout));
    let master = find(&objs, "Deployment", "checkout-load-master");
    assert!(
        master["spec"]["template"]["metadata"]["annotations"]
            ["locust.project-planton.org/scripts-sha256"]
            .is_string()
    );
    assert_eq!(
        master["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"],
        true
    );
}

/// The README's old step, `helm plugin install .` in a checkout, no longer breaks Helm 3: the
/// repository's root holds no plugin manifest, so Helm 3 refuses before linking anything.
#[cfg(feature = "tools")]
#[test]
fn helm3_plugin_install_of_the_checkout_no_longer_breaks_helm3() {
    let u = User::new();
    u.add_diff_plugin();
    let before = snapshot(&u.plugins());
    let out = u.helm(&helm3(), &["plugin", "install", repo().to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("plugin metadata (plugin.yaml) missing"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(snapshot(&u.plugins()), before);
    assert_helm3_healthy(&u);
}

/// A Helm 3 plugins folder broken the old way (Helm 3's `plugin install` of a checkout leaves
/// its link behind) is repaired by the README's recovery line and by `plugin uninstall`.
#[cfg(feature = "tools")]
#[test]
fn a_broken_helm3_plugins_folder_is_recovered() {
    for how in ["readme", "uninstall"] {
        let u = User::new();
        u.add_diff_plugin();
        let checkout = u.old_checkout();
        let out = u.helm(&helm3(), &["plugin", "install", checkout.to_str().unwrap()]);
        assert!(!out.status.success());
        assert!(text(&out.stderr).contains("plugin is installed but unusable"));
        // Broken: the link stays, and Helm 3 loses every plugin.
        let link = u.plugins().join("locust-planton");
        assert_eq!(std::fs::read_link(&link).unwrap(), checkout);
        let out = u.helm(&helm3(), &["plugin", "list"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(text(&out.stderr).contains("unknown field \"apiVersion\""));
        let out = u.helm(&helm3(), &["diff"]);
        assert!(text(&out.stderr).contains("failed to load plugins"));
        assert!(text(&out.stderr).contains("unknown command \"diff\""));

        match how {
            "readme" => {
                // The documented recovery line, with Helm 3 as `helm` on PATH.
                let line = r#"for f in "$(helm env HELM_PLUGINS)"/*/plugin.yaml; do grep -q '^name: locust-planton$' "$f" && rm -r "${f%/plugin.yaml}"; done"#;
                assert!(
                    documentation().contains(&format!("$ {line}\n")),
                    "the recovery line is no longer documented as tested here"
                );
                u.on_path(&helm3(), "helm");
                let mut cmd = std::process::Command::new("sh");
                u.env(&mut cmd);
                let out = cmd.args(["-c", line]).output().unwrap();
                assert!(out.status.success(), "{}", text(&out.stderr));
            }
            _ => {
                let h3 = helm3();
                let out = u.lp(&["plugin", "uninstall", "--helm", h3.to_str().unwrap()]);
                assert!(out.status.success(), "{}", text(&out.stderr));
                assert_eq!(
                    text(&out.stdout),
                    format!(
                        "remove {} (a link to {}, which stays)\n{h3} loads its plugins (`{h3} plugin list` succeeds)\n",
                        link.display(),
                        checkout.display(),
                        h3 = helm3().display()
                    )
                );
            }
        }
        assert!(link.symlink_metadata().is_err(), "{how}: the link is gone");
        assert!(
            checkout.join("plugin.yaml").is_file(),
            "{how}: the checkout stays"
        );
        assert_helm3_healthy(&u);
    }
}

#[cfg(feature = "tools")]
#[test]
fn install_refuses_helm3_and_changes_nothing() {
    let u = User::new();
    u.add_diff_plugin();
    let before = snapshot(&u.plugins());
    let h3 = helm3();
    for extra in [&[][..], &["--dry-run"][..]] {
        let mut args = vec!["plugin", "install", "--helm", h3.to_str().unwrap()];
        args.extend(extra);
        let out = u.lp(&args);
        assert_eq!(out.status.code(), Some(1));
        assert!(out.stdout.is_empty());
        assert_eq!(
            text(&out.stderr),
            format!(
                "locust-planton: {} is Helm v3.17.2: the plugin is a Helm 4 plugin (postrenderer/v1) and Helm 3 cannot read it; in Helm 3's plugins folder it would make every Helm 3 command fail to load its plugins. Nothing was installed. Helm 3 needs no plugin: `--post-renderer locust-planton` runs this binary from PATH. For Helm 4, point --helm or $HELM at it.\n",
                helm3().display()
            )
        );
    }
    assert_eq!(snapshot(&u.plugins()), before);
    assert_helm3_healthy(&u);
}

/// With Helm 3 on PATH loading the same (default) folder, install refuses and says how to keep
/// them apart; the folder of Helm 4's own that it suggests works for Helm 4 and leaves Helm 3
/// alone; --share-with-helm3 installs anyway (and uninstall through Helm 3 repairs that).
#[cfg(feature = "tools")]
#[test]
fn a_plugins_folder_shared_with_helm3_is_refused_and_a_separate_one_works() {
    let u = User::new();
    u.add_diff_plugin();
    u.on_path(&helm3(), "helm");
    u.on_path(&helm4(), "helm4");
    let before = snapshot(&u.plugins());
    let out = u.lp(&["plugin", "install", "--helm", "helm4"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "locust-planton: helm (Helm v3.17.2) loads plugins from {} too, and cannot read a Helm 4 plugin: with this one there, every Helm 3 command would print \"failed to load plugins\" and lose all its plugins (helm-diff, and helmfile with it). Nothing was installed.\n",
            u.plugins().display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("do without the plugin: `locust-planton template` and `locust-planton install` give Helm 4 a temporary one"));
    assert!(stderr.contains(
        "alias helm4='HELM_PLUGINS=\"$HOME/.local/share/helm4/plugins\" helm4'\n      HELM_PLUGINS=\"$HOME/.local/share/helm4/plugins\" locust-planton plugin install --helm helm4"
    ), "{stderr}");
    assert_eq!(snapshot(&u.plugins()), before);
    assert_helm3_healthy(&u);

    // Helm 4's own folder, as suggested: installed, with a warning that Helm 3 reads it only
    // while HELM_PLUGINS is set like this.
    let own = u.root.join("home/.local/share/helm4/plugins");
    let mut cmd = std::process::Command::new(bin());
    u.env(&mut cmd);
    let out = cmd
        .env("HELM_PLUGINS", &own)
        .args(["plugin", "install", "--helm", "helm4"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).starts_with(&format!(
            "locust-planton: warning: helm (Helm v3.17.2) loads plugins from {} too whenever HELM_PLUGINS is set as it is now, and then fails to load any.",
            own.display()
        )),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(snapshot(&u.plugins()), before);
    assert_helm3_healthy(&u);
    assert_helm4_post_renders(&u, Some(&own));

    // Shared on request: Helm 3 then breaks, as the warning says, until uninstall.
    let out = u.lp(&["plugin", "install", "--helm", "helm4", "--share-with-helm3"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("Installing anyway (--share-with-helm3); `locust-planton plugin uninstall --helm helm` repairs it."));
    assert_eq!(u.helm(&helm3(), &["plugin", "list"]).status.code(), Some(1));
    let out = u.lp(&["plugin", "uninstall", "--helm", "helm"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(snapshot(&u.plugins()), before);
    assert_helm3_healthy(&u);
}

/// No Helm 3 around: installed into the default folder with a warning; an earlier
/// `helm plugin install <checkout>` link (which would make Helm 4 refuse both: "two plugins
/// claim the name") is replaced, the checkout untouched; Helm 4 post-renders through it;
/// uninstall removes it.
#[cfg(feature = "tools")]
#[test]
fn install_for_helm4_replaces_an_earlier_link_and_post_renders() {
    let u = User::new();
    let checkout = u.old_checkout();
    let out = u.helm(&helm4(), &["plugin", "install", checkout.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let link = u.plugins().join("locust-planton");
    assert_eq!(std::fs::read_link(&link).unwrap(), checkout);

    let out = u.lp(&["plugin", "install", "--helm", helm4().to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let exe = std::fs::canonicalize(bin()).unwrap();
    assert_eq!(
        text(&out.stdout),
        format!(
            "replace {} (an earlier install of the plugin, a link to {c}; the link goes, {c} stays)\ninstalled the Helm 4 plugin locust-planton: {} (runs {} post-render)\nuse it: helm install RELEASE CHART … --post-renderer locust-planton\n",
            link.display(),
            link.display(),
            exe.display(),
            c = checkout.display()
        )
    );
    assert!(
        text(&out.stderr).starts_with(&format!(
            "locust-planton: warning: {} is also where Helm 3 loads plugins from by default (no Helm 3 was found here",
            u.plugins().display()
        )),
        "{}",
        text(&out.stderr)
    );
    // A folder of its own now, naming this binary by its absolute path.
    assert!(link.symlink_metadata().unwrap().is_dir());
    assert_eq!(
        snapshot(&u.plugins()),
        [
            format!("{}/", link.display()),
            format!(
                "{} = # Installed by `locust-planton plugin install`; `locust-planton plugin uninstall` removes it.\napiVersion: v1\ntype: postrenderer/v1\nname: locust-planton\nversion: 0.1.0\nruntime: subprocess\nruntimeConfig:\n  platformCommand:\n    - command: {}\n      args: [post-render]\n",
                link.join("plugin.yaml").display(),
                exe.display()
            )
        ]
    );
    assert!(checkout.join("plugin.yaml").is_file());
    let out = u.helm(&helm4(), &["plugin", "list"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).matches("locust-planton").count(), 1);
    assert_helm4_post_renders(&u, None);

    // Installing again replaces its own install.
    let out = u.lp(&["plugin", "install", "--helm", helm4().to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with(&format!(
        "replace {} (an earlier install of the plugin)\n",
        link.display()
    )));

    let out = u.lp(&["plugin", "uninstall", "--helm", helm4().to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(snapshot(&u.plugins()), Vec::<String>::new());
    let out = u.lp(&["plugin", "uninstall", "--helm", helm4().to_str().unwrap()]);
    assert_eq!(
        text(&out.stdout),
        format!(
            "locust-planton is not installed in {}; nothing to do\n",
            u.plugins().display()
        )
    );
}

#[cfg(feature = "tools")]
#[test]
fn dry_runs_print_the_plan_and_change_nothing() {
    let u = User::new();
    let checkout = u.old_checkout();
    assert!(
        u.helm(&helm4(), &["plugin", "install", checkout.to_str().unwrap()])
            .status
            .success()
    );
    let before = snapshot(&u.plugins());
    let link = u.plugins().join("locust-planton");
    let out = u.lp(&[
        "plugin",
        "install",
        "--helm",
        helm4().to_str().unwrap(),
        "--dry-run",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with(&format!(
            "dry run, nothing changed; locust-planton plugin install would:\nreplace {} (an earlier install of the plugin, a link to {c}; the link goes, {c} stays)\nwrite {}:\n  # Installed by",
            link.display(),
            link.join("plugin.yaml").display(),
            c = checkout.display()
        )),
        "{stdout}"
    );
    assert!(stdout.contains("\n  type: postrenderer/v1\n"));
    assert_eq!(snapshot(&u.plugins()), before);
    let out = u.lp(&[
        "plugin",
        "uninstall",
        "--helm",
        helm4().to_str().unwrap(),
        "--dry-run",
    ]);
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout),
        format!(
            "dry run, nothing changed; locust-planton plugin uninstall would:\nremove {} (a link to {}, which stays)\n",
            link.display(),
            checkout.display()
        )
    );
    assert_eq!(snapshot(&u.plugins()), before);
}

/// Helm 4 failing to load the folder once the plugin is in (here a stand-in passing everything
/// to the real Helm 4 but failing `plugin list` on the user's folder): the new entry goes, the
/// earlier link comes back, nothing staged is left.
#[cfg(feature = "tools")]
#[test]
fn a_failed_install_leaves_the_plugins_folder_as_it_was() {
    let u = User::new();
    u.add_diff_plugin();
    let checkout = u.old_checkout();
    std::os::unix::fs::symlink(&checkout, u.plugins().join("from-checkout")).unwrap();
    let before = snapshot(&u.plugins());
    let standin = u.root.join("standin/helm");
    std::fs::create_dir_all(standin.parent().unwrap()).unwrap();
    std::fs::write(
        &standin,
        format!(
            "#!/bin/sh\nif [ \"$1 $2\" = 'plugin list' ] && [ \"$({h} env HELM_PLUGINS)\" = '{p}' ]; then echo 'Error: stand-in: cannot load plugins' >&2; exit 1; fi\nexec {h} \"$@\"\n",
            h = helm4().display(),
            p = u.plugins().display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&standin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = u.lp(&["plugin", "install", "--helm", standin.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains(&format!(
            "locust-planton: installing the plugin failed; the plugins folder {} is as it was:\n`{} plugin list` failed:\nError: stand-in: cannot load plugins",
            u.plugins().display(),
            standin.display()
        )),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(snapshot(&u.plugins()), before);
}

/// The repository's manifest and the one `plugin install` writes describe the same plugin
/// (the installed one names this binary by its absolute path).
#[test]
fn the_repository_manifest_matches_the_generated_one() {
    let file = locust_planton::yaml::parse_single(&read(repo().join("helm4-plugin/plugin.yaml")))
        .unwrap()
        .to_json();
    let generated = locust_planton::yaml::parse_single(&locust_planton::helm::plugin_manifest(
        "locust-planton",
        &[],
    ))
    .unwrap()
    .to_json();
    assert_eq!(file, generated);
    assert!(!repo().join("plugin.yaml").exists());
}

/// `--helm3` names the Helm 3 to check when it is not `helm`/`helm3` on PATH; it must be one.
#[cfg(feature = "tools")]
#[test]
fn helm3_named_explicitly_is_checked() {
    let u = User::new();
    let (h3, h4) = (helm3(), helm4());
    let out = u.lp(&[
        "plugin",
        "install",
        "--helm",
        h4.to_str().unwrap(),
        "--helm3",
        h3.to_str().unwrap(),
        "--dry-run",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with(&format!(
            "locust-planton: {} (Helm v3.17.2) loads plugins from {} too",
            h3.display(),
            u.plugins().display()
        )),
        "{}",
        text(&out.stderr)
    );
    let out = u.lp(&[
        "plugin",
        "install",
        "--helm",
        h4.to_str().unwrap(),
        "--helm3",
        h4.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!(
            "locust-planton: --helm3 {} is the helm being installed for, not a Helm 3\n",
            h4.display()
        )
    );
    // Another Helm 4 is refused too.
    let copy = u.root.join("bin/other-helm");
    std::fs::copy(&h4, &copy).unwrap();
    let out = u.lp(&[
        "plugin",
        "install",
        "--helm",
        h4.to_str().unwrap(),
        "--helm3",
        copy.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!(
            "locust-planton: --helm3 {} is Helm v4.3.1, not Helm 3\n",
            copy.display()
        )
    );
    assert_eq!(snapshot(&u.plugins()), ["<absent>"]);
}
