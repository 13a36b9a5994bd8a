//! The pod's confinement for a local process, through bubblewrap: the pod's UID/GID (a user
//! namespace maps them to the invoking user), its own PID namespace (it sees only its own
//! processes, and everything it started dies with its main process), its own IPC and UTS
//! namespaces, a new session, all capabilities dropped, no new privileges (bwrap always sets
//! it), and only the pod's environment.
//!
//! The file system is built, not inherited: an empty root holding only what an image would hold
//! (the host's `/usr` and its `/bin`, `/lib…` links, a few files of `/etc`), the Python's own
//! directories, and the pod's volumes at the pod's own paths (ConfigMaps read-only, emptyDirs
//! writable); the root is then made read-only. No home directory, no `/run`, no `/var`, no
//! host socket is there. The network is the run's own namespace (`super::net`).

use super::pod::{ContainerView, Source};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SandboxMode {
    /// Sandbox where bubblewrap works; otherwise say so once and run unsandboxed.
    Auto,
    /// Refuse to run without the sandbox.
    Required,
    Off,
}

#[derive(Clone, Debug)]
pub struct Sandbox {
    pub bwrap: PathBuf,
}

/// Variables from the invoking environment a pod process still gets: the machine's way out to
/// the network and to a package index (a pod gets these from its cluster; locally only the
/// invoking shell knows them).
pub const PASSTHROUGH_ENV: &[&str] = &[
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_FIND_LINKS",
    "PIP_NO_INDEX",
    "PIP_TRUSTED_HOST",
    "PIP_CERT",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
];

/// The host's system trees an image also has: programs and libraries, read-only.
pub const SYSTEM_ROOTS: &[&str] = &[
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/nix/store",
];

/// The files of the host's `/etc` a program needs to start, resolve names and check
/// certificates (an image has its own; none of these holds a user's secret).
pub const ETC_FILES: &[&str] = &[
    "alternatives",
    "ca-certificates",
    "ca-certificates.conf",
    "crypto-policies",
    "gai.conf",
    "host.conf",
    "hosts",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "mime.types",
    "nsswitch.conf",
    "os-release",
    "pip.conf",
    "pki",
    "protocols",
    "resolv.conf",
    "services",
    "ssl",
    "timezone",
];

pub fn find_in_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Why the sandbox cannot be used here, or the sandbox.
pub fn detect() -> Result<Sandbox, String> {
    let bwrap = find_in_path("bwrap").ok_or_else(|| {
        "bubblewrap (`bwrap`) is not installed (Linux: `apt-get install bubblewrap`, `dnf install bubblewrap`)".to_string()
    })?;
    // User namespaces can be disabled (sysctl, container runtimes): try the smallest sandbox.
    let out = Command::new(&bwrap)
        .args([
            "--ro-bind",
            "/",
            "/",
            "--unshare-user",
            "--unshare-pid",
            "--cap-drop",
            "ALL",
            "--",
            "true",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("{}: {e}", bwrap.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} cannot create a sandbox here: {}",
            bwrap.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(Sandbox { bwrap })
}

fn under(path: &str, dir: &str) -> bool {
    let dir = dir.trim_end_matches('/');
    path == dir || dir.is_empty() || path.starts_with(&format!("{dir}/"))
}

/// Whether `path` is visible anyway through one of the system trees.
fn in_system_roots(path: &Path) -> bool {
    let p = path.to_string_lossy();
    SYSTEM_ROOTS.iter().any(|r| under(&p, r))
}

/// The directories to bind for `dirs`: absolute, not in the system trees (visible anyway), and
/// none inside another (binding the outer one shows it), in order.
pub fn minimal_dirs(dirs: Vec<PathBuf>) -> Vec<PathBuf> {
    let mut wanted: Vec<PathBuf> = Vec::new();
    for d in dirs {
        if d.is_absolute() && d != Path::new("/") && !in_system_roots(&d) && !wanted.contains(&d) {
            wanted.push(d);
        }
    }
    wanted
        .iter()
        .filter(|d| !wanted.iter().any(|o| o != *d && d.starts_with(o)))
        .cloned()
        .collect()
}

/// What one sandboxed process sees, beyond the container itself.
pub struct View<'a> {
    /// The pod's own directory on the host: a mount path `/p` is `<pod_root>/p`.
    pub pod_root: &'a Path,
    /// Host directories the Python needs (`super::Interpreter::dirs`), read-only.
    pub python_dirs: &'a [PathBuf],
    /// Host directories the run writes to (`--csv` and the like), bound read-write over
    /// everything.
    pub writable: &'a [PathBuf],
    /// Files made for the pod, bound read-only at `/etc/<name>` (its `passwd`, `group`, and
    /// the `resolv.conf` of the run's network).
    pub etc: &'a [(String, PathBuf)],
    /// The pod's host name (its UTS namespace).
    pub hostname: &'a str,
    pub cwd: &'a Path,
    pub env: &'a [(String, String)],
}

impl Sandbox {
    /// bwrap's command line running `inner` as the container would run.
    pub fn argv(&self, c: &ContainerView, view: &View, inner: &[String]) -> Vec<String> {
        let mut a = self.identity_args(c, view);
        let mut mounts: Vec<&super::pod::Mount> = c.mounts.iter().collect();
        // Parents before children (`/mnt/locust` before `/mnt/locust/lib`).
        mounts.sort_by_key(|m| m.path.matches('/').count());
        let targets: Vec<&str> = mounts.iter().map(|m| m.path.as_str()).collect();
        let hidden = |p: &Path| targets.iter().any(|t| under(&p.to_string_lossy(), t));
        for root in SYSTEM_ROOTS {
            expose(Path::new(root), &targets, &mut a);
        }
        etc_args(&targets, view.etc, &mut a);
        a.extend(["--dev", "/dev", "--proc", "/proc"].map(String::from));
        let env_paths = env_paths(view.env);
        let read_only: Vec<&PathBuf> = view.python_dirs.iter().chain(env_paths.iter()).collect();
        // Outside the volumes first (a volume may be mounted below one); hidden ones after.
        for d in read_only.iter().filter(|d| !hidden(d)) {
            expose(d, &targets, &mut a);
        }
        volume_args(&mounts, view.pod_root, &mut a);
        for d in read_only.iter().filter(|d| hidden(d)) {
            let d = d.display().to_string();
            a.extend(["--ro-bind-try".to_string(), d.clone(), d]);
        }
        for d in view.writable {
            let d = d.display().to_string();
            a.extend(["--bind".to_string(), d.clone(), d]);
        }
        // Always: a writable root here would be a fresh tmpfs, not the image's root the pod
        // would write over (`local` warns about containers with readOnlyRootFilesystem: false).
        a.extend(["--remount-ro", "/"].map(String::from));
        a.extend(["--chdir".to_string(), view.cwd.display().to_string()]);
        a.push("--".into());
        a.extend(inner.iter().cloned());
        a
    }

    /// bwrap and who the process is: the container's UID/GID in its own PID, IPC and UTS
    /// namespaces and session, its capabilities, only `env`.
    fn identity_args(&self, c: &ContainerView, view: &View) -> Vec<String> {
        let mut a: Vec<String> = vec![self.bwrap.display().to_string()];
        let mut push = |items: &[&str]| a.extend(items.iter().map(|s| s.to_string()));
        let (uid, gid) = (
            c.security.run_as_user.to_string(),
            c.security.run_as_group.to_string(),
        );
        push(&["--unshare-user", "--uid", &uid, "--gid", &gid]);
        push(&["--unshare-pid", "--unshare-ipc", "--unshare-uts"]);
        push(&["--hostname", view.hostname]);
        push(&["--new-session", "--die-with-parent", "--cap-drop", "ALL"]);
        // The restricted profile (and the post-renderer) allow adding back this one only.
        if c.security
            .add_caps
            .iter()
            .any(|cap| cap.trim_start_matches("CAP_") == "NET_BIND_SERVICE")
        {
            push(&["--cap-add", "CAP_NET_BIND_SERVICE"]);
        }
        push(&["--clearenv"]);
        for (k, v) in view.env {
            push(&["--setenv", k, v]);
        }
        a
    }
}

/// The listed files of the host's `/etc`, then the pod's own over them.
fn etc_args(targets: &[&str], own: &[(String, PathBuf)], a: &mut Vec<String>) {
    if targets.iter().any(|t| under(t, "/etc")) {
        // A volume below /etc: its parents are made on the root, nothing of the host's shown.
        return;
    }
    for name in ETC_FILES {
        if own.iter().any(|(n, _)| n == name) {
            continue;
        }
        let host = format!("/etc/{name}");
        // Followed if a link (`resolv.conf` often points into /run, which is not there).
        a.extend(["--ro-bind-try".to_string(), host.clone(), host]);
    }
    for (name, file) in own {
        a.extend([
            "--ro-bind".to_string(),
            file.display().to_string(),
            format!("/etc/{name}"),
        ]);
    }
}

/// A host directory, read-only at its own path: a link stays a link, a directory holding a
/// volume's mount path is rebuilt entry by entry so the mount point can be made.
fn expose(path: &Path, targets: &[&str], a: &mut Vec<String>) {
    let s = path.display().to_string();
    let Ok(meta) = path.symlink_metadata() else {
        return;
    };
    if meta.is_symlink() && SYSTEM_ROOTS.contains(&s.as_str()) {
        if let Ok(to) = std::fs::read_link(path) {
            a.extend(["--symlink".to_string(), to.display().to_string(), s]);
        }
    } else if meta.is_dir() && targets.iter().any(|t| t.starts_with(&format!("{s}/"))) {
        mirror(path, targets, a);
    } else if !targets.contains(&s.as_str()) {
        a.extend(["--ro-bind-try".to_string(), s.clone(), s]);
    }
}

/// Each volume from the pod's folder at its mount path: ConfigMaps read-only, emptyDirs writable.
fn volume_args(mounts: &[&super::pod::Mount], pod_root: &Path, a: &mut Vec<String>) {
    for m in mounts {
        let host = pod_root.join(m.path.trim_start_matches('/'));
        let kind = match m.source {
            Source::ConfigMap(_) => "--ro-bind",
            Source::EmptyDir => "--bind",
        };
        a.extend([kind.to_string(), host.display().to_string(), m.path.clone()]);
    }
}

/// Local paths named by the environment passed into the sandbox: absolute paths and `file:`
/// URLs in the pip and CA variables (PIP_FIND_LINKS may list several, space-separated).
fn env_paths(env: &[(String, String)]) -> Vec<PathBuf> {
    env.iter()
        .filter(|(k, _)| {
            matches!(
                k.as_str(),
                "PIP_FIND_LINKS"
                    | "PIP_CERT"
                    | "SSL_CERT_FILE"
                    | "SSL_CERT_DIR"
                    | "REQUESTS_CA_BUNDLE"
            )
        })
        .flat_map(|(_, v)| v.split_whitespace())
        .filter_map(|t| {
            let t = t.strip_prefix("file://").unwrap_or(t);
            t.starts_with('/').then(|| PathBuf::from(t))
        })
        .collect()
}

/// Binds the host's `dir` read-only entry by entry; directories leading to a mount target are
/// made on the tmpfs root instead (and mirrored one level down), targets themselves are left
/// for their volume.
fn mirror(dir: &Path, targets: &[&str], a: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    a.extend(["--dir".to_string(), dir.display().to_string()]);
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
    paths.sort();
    for p in paths {
        let s = p.display().to_string();
        if targets.contains(&s.as_str()) {
            continue;
        }
        let is_link = p.symlink_metadata().is_ok_and(|m| m.is_symlink());
        let leads_to_target = targets.iter().any(|t| t.starts_with(&format!("{s}/")));
        if is_link {
            if let Ok(to) = std::fs::read_link(&p) {
                a.extend(["--symlink".to_string(), to.display().to_string(), s]);
            }
        } else if leads_to_target && p.is_dir() {
            mirror(&p, targets, a);
        } else {
            a.extend(["--ro-bind-try".to_string(), s.clone(), s]);
        }
    }
}

/// The host directories a master argument names as outputs (`--csv`, `--html`, `--logfile`,
/// `--json-file`): they must stay writable whatever the pod mounts over them.
const OUTPUTS: &[&str] = &["--csv", "--html", "--logfile", "--json-file"];

pub fn output_dirs(args: &[String], cwd: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    let mut it = args.iter().peekable();
    while let Some(arg) = it.next() {
        let value = match arg.split_once('=') {
            Some((k, v)) if OUTPUTS.contains(&k) => Some(v.to_string()),
            _ if OUTPUTS.contains(&arg.as_str()) => it.next().cloned(),
            _ => None,
        };
        let Some(value) = value else { continue };
        let file = cwd.join(value);
        if let Some(parent) = file.parent().filter(|p| p.is_dir() && *p != Path::new("/")) {
            let parent = parent.to_path_buf();
            if !out.contains(&parent) {
                out.push(parent);
            }
        }
    }
    out
}

/// `args` with the values of the output flags (`--csv`, `--html`, `--logfile`, `--json-file`)
/// made absolute against `cwd`: the sandboxed master starts in its own working directory.
pub fn absolute_outputs(args: &[String], cwd: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let abs = |v: &str| cwd.join(v).display().to_string();
        match arg.split_once('=') {
            Some((k, v)) if OUTPUTS.contains(&k) => out.push(format!("{k}={}", abs(v))),
            _ if OUTPUTS.contains(&arg.as_str()) => {
                out.push(arg.clone());
                out.extend(it.next().map(|v| abs(v)));
            }
            _ => out.push(arg.clone()),
        }
    }
    out
}

/// The `path` of an `[Errno 30] Read-only file system: 'path'` line.
pub fn read_only_path(line: &str) -> Option<&str> {
    let rest = line.split_once("Read-only file system: '")?.1;
    rest.split_once('\'').map(|(p, _)| p)
}

/// Why the pod cannot write `path`, naming the pod setting.
pub fn read_only_hint(c: &ContainerView, label: &str, path: &str) -> String {
    let writable: Vec<&str> = c
        .mounts
        .iter()
        .filter(|m| m.source == Source::EmptyDir)
        .map(|m| m.path.as_str())
        .collect();
    let cause = match c
        .mounts
        .iter()
        .find(|m| matches!(m.source, Source::ConfigMap(_)) && under(path, &m.path))
    {
        Some(m) => format!(
            "it is on the ConfigMap volume mounted at {} (ConfigMap volumes are read-only)",
            m.path
        ),
        None => {
            "the pod's root file system is read-only (securityContext.readOnlyRootFilesystem: true)"
                .into()
        }
    };
    format!(
        "locust-planton: {label} cannot write {path}: {cause}; in the cluster it fails the same way. Writable here: {}",
        writable.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_dirs_of_master_args() {
        let cwd = std::env::temp_dir();
        let args: Vec<String> = ["--csv", "run", "--html=x/report.html", "--users", "3"]
            .map(String::from)
            .to_vec();
        // `x/` does not exist: Locust could not write there either, nothing is bound.
        assert_eq!(output_dirs(&args, &cwd), vec![cwd.clone()]);
    }

    #[test]
    fn read_only_lines() {
        assert_eq!(
            read_only_path("OSError: [Errno 30] Read-only file system: '/data/out.txt'"),
            Some("/data/out.txt")
        );
        assert_eq!(read_only_path("Permission denied: '/x'"), None);
    }

    fn window(a: &[String], items: &[&str]) -> Option<usize> {
        a.windows(items.len())
            .position(|w| w.iter().zip(items).all(|(x, y)| x == y))
    }

    #[test]
    fn argv_puts_the_pod_volumes_at_their_paths_over_a_read_only_root() {
        use super::super::pod::{Mount, Security};
        let c = ContainerView {
            name: "locust".into(),
            command: vec![],
            args: vec![],
            env: vec![],
            mounts: vec![
                Mount {
                    path: "/mnt/locust/lib".into(),
                    source: Source::ConfigMap(vec![]),
                    field: String::new(),
                },
                Mount {
                    path: "/mnt/locust".into(),
                    source: Source::ConfigMap(vec![]),
                    field: String::new(),
                },
                Mount {
                    path: "/tmp".into(),
                    source: Source::EmptyDir,
                    field: String::new(),
                },
            ],
            security: Security {
                run_as_user: 1000,
                run_as_group: 3000,
                read_only_root: true,
                add_caps: vec!["SYS_ADMIN".into()],
            },
            foreign: Vec::new(),
        };
        let sb = Sandbox {
            bwrap: "/usr/bin/bwrap".into(),
        };
        let env = vec![("A".to_string(), "b".to_string())];
        let etc = [("passwd".to_string(), PathBuf::from("/pods/etc/passwd"))];
        let view = View {
            pod_root: Path::new("/pods/master"),
            // A directory that exists (exposing skips missing ones).
            python_dirs: &[PathBuf::from(env!("CARGO_MANIFEST_DIR"))],
            writable: &[PathBuf::from("/tmp/results")],
            etc: &etc,
            hostname: "run-master",
            cwd: Path::new("/home/locust"),
            env: &env,
        };
        let a = sb.argv(
            &c,
            &view,
            &["python".to_string(), "-m".into(), "locust".into()],
        );
        assert!(window(&a, &["--uid", "1000", "--gid", "3000"]).is_some());
        assert!(window(&a, &["--unshare-pid", "--unshare-ipc", "--unshare-uts"]).is_some());
        assert!(window(&a, &["--hostname", "run-master", "--new-session"]).is_some());
        assert!(window(&a, &["--ro-bind", "/pods/etc/passwd", "/etc/passwd"]).is_some());
        let python = env!("CARGO_MANIFEST_DIR");
        assert!(window(&a, &["--ro-bind-try", python, python]).is_some());
        assert!(window(&a, &["--chdir", "/home/locust"]).is_some());
        // Only what is listed: no home directory, no /run, /var or the host's /opt.
        for hidden in ["/root", "/home", "/run", "/var", "/opt", "/srv", "/etc"] {
            assert!(
                !a.windows(2)
                    .any(|w| w[0].starts_with("--") && w[0].contains("bind") && w[1] == hidden),
                "{hidden} bound: {a:?}"
            );
        }
        assert!(window(&a, &["--cap-drop", "ALL"]).is_some());
        // Only NET_BIND_SERVICE may be added back.
        assert!(!a.iter().any(|x| x == "--cap-add"), "{a:?}");
        assert!(window(&a, &["--clearenv", "--setenv", "A", "b"]).is_some());
        // The host's /tmp is not mirrored: the pod's volume takes its place.
        assert!(
            window(&a, &["--ro-bind-try", "/tmp", "/tmp"]).is_none(),
            "{a:?}"
        );
        let parent = window(&a, &["--ro-bind", "/pods/master/mnt/locust", "/mnt/locust"]).unwrap();
        let child = window(
            &a,
            &[
                "--ro-bind",
                "/pods/master/mnt/locust/lib",
                "/mnt/locust/lib",
            ],
        )
        .unwrap();
        let tmp = window(&a, &["--bind", "/pods/master/tmp", "/tmp"]).unwrap();
        let results = window(&a, &["--bind", "/tmp/results", "/tmp/results"]).unwrap();
        let ro = window(&a, &["--remount-ro", "/"]).unwrap();
        assert!(parent < child && tmp < results && results < ro, "{a:?}");
        assert!(a.ends_with(&["--".into(), "python".into(), "-m".into(), "locust".into()]));
    }

    #[test]
    fn env_paths_are_local_paths_of_the_pip_and_ca_variables() {
        let env = [
            (
                "PIP_FIND_LINKS".to_string(),
                "/tmp/wheels file:///tmp/more https://x/simple".to_string(),
            ),
            ("SSL_CERT_FILE".into(), "/etc/ssl/cert.pem".into()),
            ("LOCUST_HOST".into(), "/not/a/path/var".into()),
        ];
        assert_eq!(
            env_paths(&env),
            [
                PathBuf::from("/tmp/wheels"),
                "/tmp/more".into(),
                "/etc/ssl/cert.pem".into()
            ]
        );
    }

    #[test]
    fn minimal_dirs_drop_system_trees_nested_and_repeated_dirs() {
        struct Case {
            dirs: &'static [&'static str],
            want: &'static [&'static str],
        }
        let cases = [
            Case {
                dirs: &["/usr/lib/python3.11", "/usr/lib/python3/dist-packages"],
                want: &[],
            },
            Case {
                dirs: &[
                    "/home/a/venv",
                    "/home/a/venv/lib/python3.11/site-packages",
                    "/home/a/venv",
                ],
                want: &["/home/a/venv"],
            },
            Case {
                dirs: &[
                    "/opt/venv/lib/site",
                    "/opt/venv",
                    "/root/.pyenv/versions/3.11.7",
                ],
                want: &["/opt/venv", "/root/.pyenv/versions/3.11.7"],
            },
            Case {
                dirs: &["/", "relative", "/usrx"],
                want: &["/usrx"],
            },
        ];
        for c in cases {
            let got = minimal_dirs(c.dirs.iter().map(PathBuf::from).collect());
            let want: Vec<PathBuf> = c.want.iter().map(PathBuf::from).collect();
            assert_eq!(got, want, "{:?}", c.dirs);
        }
    }

    #[test]
    fn output_arguments_become_absolute() {
        let args: Vec<String> = [
            "--csv",
            "run",
            "--html=out/r.html",
            "--users",
            "3",
            "--logfile",
            "/abs/l",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            absolute_outputs(&args, Path::new("/work/x")),
            [
                "--csv",
                "/work/x/run",
                "--html=/work/x/out/r.html",
                "--users",
                "3",
                "--logfile",
                "/abs/l"
            ]
        );
    }

    #[test]
    fn mount_prefixes() {
        assert!(under("/mnt/locust/lib", "/mnt/locust") && under("/tmp", "/tmp"));
        assert!(!under("/tmpx", "/tmp"));
    }
}
