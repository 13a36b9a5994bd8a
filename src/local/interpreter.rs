//! The Python that runs Locust: `--python` resolved as a shell would (`resolve_python`), asked
//! once what it needs and which Locust it imports (`probe_interpreter`), or a cached virtualenv
//! with the pods' Locust (`install_locust`).

use super::error::{LocalError, io_at};
use super::processes::run_to_end;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The Python that runs Locust, resolved on the host before anything starts.
#[derive(Clone, Debug, Default)]
pub struct Interpreter {
    /// Absolute, symlinks kept: a venv's `bin/python` stays the venv's (its `pyvenv.cfg` is
    /// found next to the link's directory, not next to the base interpreter it points to).
    pub path: PathBuf,
    /// What it needs on the host: its prefixes, its import path, the directories of the shared
    /// libraries it maps once Locust is imported (a `libpython` or an extension's own `.libs`).
    pub dirs: Vec<PathBuf>,
    /// The Locust it imports, if any.
    pub locust: Option<String>,
}

/// `--python NAME` as the shell would run it: a name is looked up on this machine's `PATH` (an
/// activated venv's `bin` first), a relative path is taken from the current folder; neither is
/// resolved through symlinks.
pub fn resolve_python(given: &str) -> Result<PathBuf, LocalError> {
    let not_found = |why: &str| {
        LocalError::Python(format!(
            "--python {given}: {why}; pass an absolute path (--python /path/to/venv/bin/python) or --install-locust"
        ))
    };
    if given.contains('/') {
        let p = Path::new(given);
        let abs = if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir()
                .map_err(io_at("the current folder"))?
                .join(p)
        };
        return if is_executable(&abs) {
            Ok(abs)
        } else {
            Err(not_found("no such executable file"))
        };
    }
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|d| d.is_absolute())
        .map(|d| d.join(given))
        .find(|p| is_executable(p))
        .ok_or_else(|| not_found("not found on PATH"))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Run by the Python to be used, as the pods run it (no `PYTHONPATH`, the pod's `HOME`): its
/// prefixes, import path, Locust version and mapped libraries, as JSON.
const PROBE: &str = r#"import json, os, sys
dirs = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
        os.path.dirname(os.path.realpath(sys.executable))]
dirs += [p for p in sys.path if os.path.isabs(p) and os.path.isdir(p)]
try:
    import locust
    version = locust.__version__
except Exception:
    version = None
with open("/proc/self/maps") as f:
    for line in f:
        parts = line.split(None, 5)
        if len(parts) == 6 and parts[5].startswith("/"):
            dirs.append(os.path.dirname(parts[5].strip()))
print(json.dumps({"dirs": dirs, "locust": version}))
"#;

/// Asks `path` (on the host, once) what it needs and which Locust it imports.
pub fn probe_interpreter(path: &Path) -> Result<Interpreter, LocalError> {
    let out = Command::new(path)
        .args(["-c", PROBE])
        .env_clear()
        .env("PATH", pod_path(path))
        .env("HOME", crate::contract::HOME_VOLUME.1)
        .env("LANG", "C.UTF-8")
        .stdin(Stdio::null())
        .output()
        .map_err(io_at(path.display()))?;
    let parsed: Option<serde_json::Value> = out
        .status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).ok())
        .flatten();
    let Some(v) = parsed else {
        return Err(LocalError::Python(format!(
            "{} does not run as a Python here: {}",
            path.display(),
            last_line(&out.stderr)
        )));
    };
    let dirs = v["dirs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d.as_str().map(PathBuf::from))
        .collect();
    Ok(Interpreter {
        path: path.to_path_buf(),
        dirs: super::sandbox::minimal_dirs(dirs),
        locust: v["locust"].as_str().map(String::from),
    })
}

/// The last non-empty line of a process's output (its error, for a Python traceback).
pub(super) fn last_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("(no output)")
        .trim()
        .to_string()
}

/// The pods' `PATH`: the Python's own directory first (a venv's `bin`), then the image's.
pub(super) fn pod_path(python: &Path) -> String {
    let bin = python
        .parent()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    format!("{bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
}

/// A cached virtualenv with Locust `version`:
/// `$XDG_CACHE_HOME/locust-planton/venv-locust-<version>`, one per version.
pub fn install_locust(version: &str) -> Result<String, LocalError> {
    let cache = crate::contract::cache_root().ok_or_else(|| {
        LocalError::Other("no cache directory (set XDG_CACHE_HOME or HOME)".into())
    })?;
    let venv = cache.join(format!("venv-locust-{version}"));
    let python = venv.join("bin/python").display().to_string();
    if probe_interpreter(Path::new(&python)).is_ok_and(|i| i.locust.as_deref() == Some(version)) {
        return Ok(python);
    }
    let ok = |c: &mut Command| run_to_end(c);
    eprintln!(
        "locust-planton: installing Locust {version} into {}",
        venv.display()
    );
    let mut progress = crate::progress::Progress::start("creating the virtualenv");
    let installed = ok(Command::new("python3").arg("-m").arg("venv").arg(&venv)).and_then(|()| {
        progress.update(format!(
            "pip install locust=={version} (from the package index)"
        ));
        ok(Command::new(&python).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            &format!("locust=={version}"),
        ]))
    });
    progress.finish(installed.is_ok().then_some("Locust installed"));
    installed.map(|()| python)
}
