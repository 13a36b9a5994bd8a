//! Running Helm: finding it, telling Helm 3 from Helm 4 (remembered per binary:
//! [`version_cache`]), wiring this binary in as the post-renderer the way each version wants
//! it, and building the exact command lines.

pub mod chart;
pub mod content;
pub mod plugin;
pub mod version_cache;

use std::path::{Path, PathBuf};

/// A helm binary and its major version.
#[derive(Clone, Debug)]
pub struct Helm {
    pub path: PathBuf,
    pub version: String,
    pub major: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum HelmError {
    #[error(
        "helm not found ({0}); install Helm 3.9+ or 4 (https://helm.sh/docs/intro/install/), or point --helm / $HELM at it"
    )]
    Missing(String),
    /// helm ran and failed: its stderr, verbatim (a failed chart pull adds a hint line).
    #[error("helm failed (exit {code}):\n{stderr}")]
    Failed { code: i32, stderr: String },
    /// A file or folder locust-planton needed could not be used; `what` names it.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// Refused before or after helm ran (an unsupported Helm, a chart digest that does not match).
    #[error("{0}")]
    Refused(String),
}

impl HelmError {
    /// An I/O failure on `what`, keeping the error as its source.
    pub fn io(what: impl std::fmt::Display) -> impl FnOnce(std::io::Error) -> HelmError {
        let what = what.to_string();
        move |source| HelmError::Io { what, source }
    }
}

impl Helm {
    /// `--helm`, else `$HELM`, else `helm` on PATH. Its version comes from the version cache
    /// when the binary is unchanged since it was last probed, else from `helm version`.
    pub fn find(explicit: Option<&str>) -> Result<Helm, HelmError> {
        let name = explicit
            .map(str::to_string)
            .or_else(|| std::env::var("HELM").ok())
            .unwrap_or_else(|| "helm".into());
        Helm::at(&name)
    }

    /// The helm binary `name` (a path, or a name looked up in PATH).
    pub fn at(name: &str) -> Result<Helm, HelmError> {
        let key = version_cache::Key::of(std::ffi::OsStr::new(name));
        let version = match key.as_ref().and_then(version_cache::lookup) {
            Some(v) => v,
            None => {
                let v = probe_version(name)?;
                if let Some(k) = &key
                    && major_of(&v).is_some()
                {
                    version_cache::store(k, &v);
                }
                v
            }
        };
        let major = major_of(&version).unwrap_or(0);
        if major != 3 && major != 4 {
            return Err(HelmError::Refused(format!(
                "{name} is Helm {version}; locust-planton drives Helm 3 (3.9+) and Helm 4"
            )));
        }
        Ok(Helm {
            path: PathBuf::from(name),
            version,
            major,
        })
    }
}

/// `helm version --template {{.Version}}`: one helm process.
fn probe_version(name: &str) -> Result<String, HelmError> {
    let out = duct::cmd(name, ["version", "--template", "{{.Version}}"])
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()
        .map_err(|e| HelmError::Missing(format!("{name}: {e}")))?;
    if !out.status.success() {
        return Err(HelmError::Missing(format!(
            "`{name} version` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The major version of `v3.17.2+gcc0bbbd`.
fn major_of(version: &str) -> Option<u32> {
    version
        .strip_prefix('v')
        .unwrap_or(version)
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
}

/// How helm reaches this binary as its post-renderer.
pub struct PostRendererWiring {
    /// Arguments to add to the helm command.
    pub args: Vec<String>,
    /// Environment for helm (Helm 4: `HELM_PLUGINS` pointing at a temporary plugin).
    pub env: Vec<(String, String)>,
    /// Keeps the temporary plugin directory alive while helm runs.
    _plugin_dir: Option<tempfile::TempDir>,
}

/// Helm 3 takes a path plus `--post-renderer-args`; Helm 4 takes only plugin names, so a
/// temporary plugin (this binary, absolute path) is made visible through `HELM_PLUGINS`.
pub fn wire_post_renderer(
    helm: &Helm,
    exe: &Path,
    extra_args: &[String],
) -> Result<PostRendererWiring, HelmError> {
    if helm.major == 3 {
        let mut args = vec![
            "--post-renderer".into(),
            exe.display().to_string(),
            "--post-renderer-args".into(),
            "post-render".into(),
        ];
        for a in extra_args {
            args.push("--post-renderer-args".into());
            args.push(a.clone());
        }
        return Ok(PostRendererWiring {
            args,
            env: Vec::new(),
            _plugin_dir: None,
        });
    }
    let dir = tempfile::Builder::new()
        .prefix("locust-planton-plugins")
        .tempdir()
        .map_err(HelmError::io("a temporary plugins folder"))?;
    let plugin = dir.path().join("locust-planton");
    std::fs::create_dir_all(&plugin).map_err(HelmError::io(plugin.display()))?;
    std::fs::write(
        plugin.join("plugin.yaml"),
        plugin_manifest(&exe.display().to_string(), extra_args),
    )
    .map_err(HelmError::io(plugin.join("plugin.yaml").display()))?;
    Ok(PostRendererWiring {
        args: vec!["--post-renderer".into(), "locust-planton".into()],
        env: vec![("HELM_PLUGINS".into(), dir.path().display().to_string())],
        _plugin_dir: Some(dir),
    })
}

/// A Helm 4 `postrenderer/v1` plugin manifest running `command post-render [extra…]`.
pub fn plugin_manifest(command: &str, extra_args: &[String]) -> String {
    use crate::yaml::emit_scalar_string as q;
    let args: Vec<String> = std::iter::once("post-render".to_string())
        .chain(extra_args.iter().cloned())
        .map(|a| q(&a))
        .collect();
    format!(
        "apiVersion: v1\ntype: postrenderer/v1\nname: locust-planton\nversion: {}\nruntime: subprocess\nruntimeConfig:\n  platformCommand:\n    - command: {}\n      args: [{}]\n",
        env!("CARGO_PKG_VERSION"),
        q(command),
        args.join(", ")
    )
}

/// Runs helm; stdout on success, `Failed` with its stderr otherwise.
pub fn run(helm: &Helm, args: &[String], env: &[(String, String)]) -> Result<Vec<u8>, HelmError> {
    // As an OsStr, not a Path: duct would turn a bare `helm` Path into `./helm`.
    let mut cmd = duct::cmd(helm.path.as_os_str(), args)
        .stdout_capture()
        .stderr_capture()
        .unchecked();
    for (k, v) in env {
        cmd = cmd.env(k, v);
    }
    let out = cmd
        .run()
        .map_err(|e| HelmError::Missing(format!("{}: {e}", helm.path.display())))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(HelmError::Failed {
            code: out.status.code().unwrap_or(-1),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }
}

/// A command line as a user would type it, quoted for POSIX shells by `shlex`.
pub fn shell_line(env: &[(String, String)], program: &str, args: &[String]) -> String {
    let quote = |s: &str| -> String {
        // `<…>` placeholders stand for temporary files and are shown as they are.
        if s.starts_with('<') && s.ends_with('>') && !s.contains(['\'', ' ']) {
            return s.to_string();
        }
        // Only a NUL byte cannot be quoted, and no argument or environment value holds one.
        shlex::try_quote(s).map_or_else(|_| s.escape_default().to_string(), |q| q.into_owned())
    };
    env.iter()
        .map(|(k, v)| format!("{k}={}", quote(v)))
        .chain(std::iter::once(quote(program)))
        .chain(args.iter().map(|a| quote(a)))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        let line = shell_line(
            &[],
            "helm",
            &[
                "a b".into(),
                "it's".into(),
                "--x=1".into(),
                "<values.yaml>".into(),
            ],
        );
        assert_eq!(line, "helm 'a b' \"it's\" '--x=1' <values.yaml>");
    }

    /// A real shell reads the quoted line back into the same arguments.
    #[test]
    fn quoting_round_trips_through_sh() {
        let args: Vec<String> = [
            "a b",
            "it's",
            "\"quoted\"",
            "$HOME",
            "`id`",
            "x;y",
            "tab\there",
            "new\nline",
            "",
            "ünïcode",
            "--set=a.b[0]=c",
            "*",
            "~",
            "!x",
        ]
        .map(String::from)
        .to_vec();
        // The program is a shell function printing each argument NUL-terminated; the
        // environment value must reach it too.
        let line = shell_line(&[("E".into(), "v w'x".into())], "show", &args);
        let script = format!(
            "show() {{ printf '%s\\0' \"$E\"; for a in \"$@\"; do printf '%s\\0' \"$a\"; done; }}\n{line}"
        );
        let out = std::process::Command::new("sh")
            .args(["-c", &script])
            .output()
            .unwrap();
        assert!(out.status.success());
        let got: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .split_terminator('\0')
            .map(String::from)
            .collect();
        assert_eq!(got[0], "v w'x");
        assert_eq!(&got[1..], &args[..]);
    }

    #[test]
    fn plugin_manifest_is_valid_yaml_with_quoted_args() {
        let m = plugin_manifest("/opt/bin/locust-planton", &["--high-uid".into()]);
        let node = crate::yaml::parse_single(&m).unwrap();
        assert_eq!(
            node.get_path(&["type"]).unwrap().as_str(),
            Some("postrenderer/v1")
        );
        let pc = &node
            .get_path(&["runtimeConfig", "platformCommand"])
            .unwrap()
            .as_seq()
            .unwrap()[0];
        assert_eq!(
            pc.get_path(&["command"]).unwrap().as_str(),
            Some("/opt/bin/locust-planton")
        );
        let args: Vec<_> = pc
            .get_path(&["args"])
            .unwrap()
            .as_seq()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(args, ["post-render", "--high-uid"]);
    }
}
