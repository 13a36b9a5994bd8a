//! The commands that meet users in their shells: completion (sourced into a real bash and
//! asked to complete), man pages (rendered by groff), `--version` and `version -o json`.
// Without `tools`, the helpers of the tool-driven tests below are unused.
#![cfg_attr(not(feature = "tools"), allow(dead_code, unused_imports))]

mod common;
use assert_cmd::Command;
use common::*;

fn run(args: &[&str]) -> std::process::Output {
    Command::new(bin()).args(args).output().unwrap()
}

/// What bash's completion offers for `words` (the last one being completed), with the script
/// `locust-planton completion bash` printed, sourced into a real bash.
fn bash_complete(words: &[&str]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("locust-planton.bash");
    let out = run(&["completion", "bash"]);
    assert!(out.status.success());
    std::fs::write(&script, &out.stdout).unwrap();
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let cword = words.len() - 1;
    let program = format!(
        "source '{}'\n\
         COMP_WORDS=({})\nCOMP_CWORD={cword}\nCOMP_LINE=\"${{COMP_WORDS[*]}}\"\nCOMP_POINT=${{#COMP_LINE}}\n\
         spec=$(complete -p locust-planton) || exit 9\n\
         fn=${{spec#*-F }}; fn=${{fn%% *}}\n\
         \"$fn\" locust-planton '{}' '{}'\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        script.display(),
        quoted.join(" "),
        words[cword],
        words[cword.saturating_sub(1)],
    );
    let out = std::process::Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "bash: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut offered: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    offered.sort();
    offered
}

#[test]
fn bash_completes_subcommands_and_flags() {
    let subs = bash_complete(&["locust-planton", "ch"]);
    assert_eq!(subs, ["chart", "check"]);
    let subs = bash_complete(&["locust-planton", "i"]);
    assert_eq!(subs, ["init", "install", "inventory"]);
    let flags = bash_complete(&["locust-planton", "init", "demo", "--out"]);
    assert_eq!(flags, ["--output-file"]);
    let shells = bash_complete(&["locust-planton", "completion", "p"]);
    assert_eq!(shells, ["powershell"]);
}

#[test]
fn every_shell_gets_a_script_naming_the_subcommands() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = run(&["completion", shell]);
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        for sub in ["check", "values", "init", "schema", "post-render"] {
            assert!(script.contains(sub), "{shell} script lacks {sub}");
        }
    }
    let out = run(&["completion", "tcsh"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}

#[test]
fn man_pages_render_with_groff_without_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let man = dir.path().join("man/man1");
    let out = run(&["man", "--dir", man.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut pages: Vec<String> = std::fs::read_dir(&man)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    for p in [
        "locust-planton.1",
        "locust-planton-check.1",
        "locust-planton-init.1",
        "locust-planton-post-render.1",
        "locust-planton-version.1",
    ] {
        assert!(pages.contains(&p.to_string()), "{p} in {pages:?}");
    }
    for p in ["locust-planton.1", "locust-planton-init.1"] {
        let out = std::process::Command::new("groff")
            .args(["-man", "-Tutf8", "-ww"])
            .arg(man.join(p))
            .output()
            .expect("groff (the man page renderer) is installed");
        assert!(out.status.success());
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "",
            "{p}: groff warnings"
        );
        let text = String::from_utf8_lossy(&out.stdout).replace(['\u{8}'], "");
        assert!(text.contains("locust-planton"), "{p}");
    }
    let init = read(man.join("locust-planton-init.1"));
    assert!(init.contains("output\\-file"), "{init}");
    // A file where the directory should be: exit 1, a message naming it.
    let file = dir.path().join("f");
    std::fs::write(&file, "").unwrap();
    let out = run(&["man", "--dir", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(file.to_str().unwrap()));
}

fn git_head() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(repo())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[test]
fn version_names_tool_commit_chart_and_helm() {
    let lock = locust_planton::lock::chart_lock();
    let long = String::from_utf8(run(&["--version"]).stdout).unwrap();
    assert!(long.starts_with(&format!("locust-planton {}\n", env!("CARGO_PKG_VERSION"))));
    assert!(
        long.contains(&format!("chart: locust {}", lock.version)),
        "{long}"
    );
    // The content digest is what a chart is checked against, not one archive's.
    assert!(
        long.contains(&format!("chart content: {}\n", lock.content_digest)),
        "{long}"
    );
    assert!(!long.contains(&lock.archive_digest), "{long}");
    assert!(long.contains("helm: 3.9+, 4"));
    let short = String::from_utf8(run(&["-V"]).stdout).unwrap();
    assert!(
        short.contains(&format!("chart locust {}", lock.version)),
        "{short}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&run(&["version", "-o", "json"]).stdout).unwrap();
    assert_eq!(json["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(json["chart"]["version"], lock.version.as_str());
    assert_eq!(json["chart"]["digest"], lock.digest.as_str());
    assert_eq!(json["chart"]["contentDigest"], lock.content_digest.as_str());
    assert_eq!(json["chart"]["archiveDigest"], lock.archive_digest.as_str());
    assert_eq!(json["helm"]["supported"], serde_json::json!(["3.9+", "4"]));
    // Built from this checkout: the commit is HEAD's (build.rs reruns when HEAD moves).
    if let Some(head) = git_head() {
        assert_eq!(json["commit"], head.as_str());
        assert!(long.contains(&format!("commit: {head}")));
        assert!(short.contains(&head[..12]));
    }
    let text = String::from_utf8(run(&["version"]).stdout).unwrap();
    assert_eq!(text, long, "`version` and `--version` say the same");
}

/// locust-planton or a printed line, in a Helm 4 setting of its own under `home`: Helm's
/// homes, a plugins folder (`HELM_PLUGINS`), the post-render log.
fn in_helm4_home(cmd: &mut std::process::Command, home: &std::path::Path) {
    cmd.env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_DATA_HOME", home.join("data"))
        .env("HELM_PLUGINS", home.join("plugins"))
        .env("XDG_CACHE_HOME", home.join("xdg-cache"))
        .env("LOCUST_PLANTON_LOG", home.join("post-render.log"))
        .env_remove("HELM");
}

fn lp_in(home: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut cmd = std::process::Command::new(bin());
    cmd.args(args);
    in_helm4_home(&mut cmd, home);
    cmd.output().unwrap()
}

/// A printed line run by `sh` as a user would paste it, with `<values.yaml>` replaced by the
/// file `values --output-file` wrote.
fn run_printed(
    home: &std::path::Path,
    line: &str,
    values: &std::path::Path,
) -> std::process::Output {
    let line = line.replace("<values.yaml>", &format!("'{}'", values.display()));
    let mut cmd = std::process::Command::new("sh");
    cmd.args(["-c", &line]);
    in_helm4_home(&mut cmd, home);
    cmd.output().unwrap()
}

/// `template --print-command` on Helm 4: while the plugin is not installed, a `plugin install`
/// line and a helm line naming the plugin; both run as printed (real Helm 4, a plugins folder
/// of the test's own) and helm's output reads (kubectl) exactly as `template`'s. Once the plugin
/// is installed, only the helm line. Post-renderer flags ride along as `--post-renderer-args`.
#[cfg(feature = "tools")]
#[test]
fn print_command_on_helm4_prints_lines_that_run() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("plugins")).unwrap();
    let spec = repo().join("examples/checkout.yaml").display().to_string();
    let chart = repo()
        .join("tests/charts/locust-mini")
        .display()
        .to_string();
    let (h4, me) = (helm4().display().to_string(), bin().display().to_string());
    let values = home.path().join("values.yaml");
    let out = lp_in(
        home.path(),
        &[
            "values",
            "-f",
            &spec,
            "--output-file",
            values.to_str().unwrap(),
        ],
    );
    assert!(out.status.success());
    for extra in [&[][..], &["--high-uid"][..]] {
        let mut args = vec!["template", "-f", &spec, "--chart", &chart, "--helm", &h4];
        args.extend(extra);
        let print = |home: &std::path::Path| {
            let mut a = args.clone();
            a.push("--print-command");
            let out = lp_in(home, &a);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap()
        };
        let helm_line = format!(
            "{h4} template checkout-load {chart} --namespace load-tests --values <values.yaml> --post-renderer locust-planton{}",
            extra
                .iter()
                .map(|a| format!(" --post-renderer-args {a}"))
                .collect::<String>()
        );
        let installed = home.path().join("plugins/locust-planton");
        let _ = std::fs::remove_dir_all(&installed);
        let printed = print(home.path());
        assert_eq!(
            printed,
            format!("{me} plugin install --helm {h4}\n{helm_line}\n")
        );
        assert!(!printed.contains("HELM_PLUGINS") && !printed.contains("<temporary"));
        // Both lines run as printed, in order.
        let lines: Vec<&str> = printed.lines().collect();
        let install = run_printed(home.path(), lines[0], &values);
        assert!(
            install.status.success(),
            "{}",
            String::from_utf8_lossy(&install.stderr)
        );
        assert!(installed.join("plugin.yaml").exists());
        let helm = run_printed(home.path(), lines[1], &values);
        assert!(
            helm.status.success(),
            "{}",
            String::from_utf8_lossy(&helm.stderr)
        );
        let ours = lp_in(home.path(), &args);
        assert!(ours.status.success());
        let (theirs, ours) = (
            String::from_utf8(helm.stdout).unwrap(),
            String::from_utf8(ours.stdout).unwrap(),
        );
        assert_eq!(
            kubectl_objects(&theirs),
            kubectl_objects(&ours),
            "{extra:?}"
        );
        assert_eq!(
            header_lines(&theirs, "# Source: "),
            header_lines(&ours, "# Source: ")
        );
        if extra.contains(&"--high-uid") {
            assert!(theirs.contains("runAsUser: 10001"), "{theirs}");
        }
        // Installed now: only the helm line, which still runs.
        assert_eq!(print(home.path()), format!("{helm_line}\n"));
    }
}
