//! Each pod's own directory: its volumes at their mount paths (`materialise`), values naming
//! them re-rooted when unsandboxed (`PodDir::reroot`), the worker pods' copies of what the init
//! containers wrote (`copy_tree`), the results a headless master leaves (`copy_results`), and the
//! pods' own `/etc` files and host names.

use super::error::{LocalError, io_at};
use super::pod::{PodView, Source};
use std::path::{Path, PathBuf};

/// One pod's directory: a mount path `/p` is `<dir>/p`.
pub(super) struct PodDir {
    /// `master`, `worker-1`, … (its host name is the run's name and this).
    pub name: String,
    pub dir: PathBuf,
    pub mount_paths: Vec<String>,
}

impl PodDir {
    pub(super) fn host_path(&self, mount_path: &str) -> PathBuf {
        self.dir.join(mount_path.trim_start_matches('/'))
    }

    /// A value naming a path under a mount path, pointed at the pod directory (unsandboxed).
    pub(super) fn reroot(&self, value: &str) -> String {
        let under = |p: &str| {
            self.mount_paths
                .iter()
                .any(|m| p == m || p.starts_with(&format!("{}/", m.trim_end_matches('/'))))
        };
        value
            .split(':')
            .map(|part| {
                if part.starts_with('/') && under(part) {
                    self.host_path(part).display().to_string()
                } else {
                    part.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(":")
    }
}

/// The pod's directory `dir` with its volumes: every mount path a directory, each ConfigMap's
/// files written into it.
pub(super) fn materialise(pod: &PodView, dir: &Path) -> Result<PodDir, LocalError> {
    std::fs::create_dir_all(dir).map_err(io_at(dir.display()))?;
    let root = dir.canonicalize().map_err(io_at(dir.display()))?;
    let mut mount_paths = Vec::new();
    for c in pod
        .init_containers
        .iter()
        .chain(std::iter::once(&pod.container))
    {
        for m in &c.mounts {
            let target = dir.join(m.path.trim_start_matches('/'));
            std::fs::create_dir_all(&target).map_err(io_at(target.display()))?;
            // `refusals` turned down `..`; this also holds against anything else (a symlink).
            if !target
                .canonicalize()
                .map_err(io_at(target.display()))?
                .starts_with(&root)
            {
                return Err(LocalError::Refused(vec![format!(
                    "{}: `{}` resolves outside the pod's folder {}",
                    m.field,
                    m.path,
                    dir.display()
                )]));
            }
            if let Source::ConfigMap(files) = &m.source {
                for (name, content) in files {
                    let file = target.join(name);
                    std::fs::write(&file, content).map_err(io_at(file.display()))?;
                }
            }
            if !mount_paths.contains(&m.path) {
                mount_paths.push(m.path.clone());
            }
        }
    }
    Ok(PodDir {
        name: dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        dir: dir.to_path_buf(),
        mount_paths,
    })
}

/// Copies a directory tree (files, directories, symlinks).
pub(super) fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let (src, dst) = (e.path(), to.join(e.file_name()));
        let t = e.file_type()?;
        if t.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&src)?, &dst)?;
        } else if t.is_dir() {
            copy_tree(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}

/// Copies the master's results folder (files only: the wrapper writes no subfolders) to `dest`.
pub(super) fn copy_results(from: &Path, dest: &Path) -> Result<(), LocalError> {
    let Ok(entries) = std::fs::read_dir(from) else {
        return Ok(());
    };
    let mut names: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        // Regular files only: a symlink the pod left would copy a file from outside its folder.
        .filter(|p| {
            p.symlink_metadata().is_ok_and(|m| m.is_file())
                && !p.to_string_lossy().ends_with(".tmp")
        })
        .collect();
    names.sort();
    for p in names {
        let to = dest.join(p.file_name().unwrap_or_default());
        std::fs::copy(&p, &to).map_err(io_at(to.display()))?;
    }
    Ok(())
}

/// `/etc/passwd` and `/etc/group` naming only the pods' users (`locust`, as in the image).
pub(super) fn pod_etc(
    dir: &Path,
    users: &[(i64, i64)],
) -> Result<Vec<(String, PathBuf)>, LocalError> {
    std::fs::create_dir_all(dir).map_err(io_at(dir.display()))?;
    let mut files = Vec::new();
    for (name, text) in etc_files(users) {
        let file = dir.join(name);
        std::fs::write(&file, text).map_err(io_at(file.display()))?;
        files.push((name.to_string(), file));
    }
    Ok(files)
}

/// The text of `/etc/passwd` and `/etc/group` for `users` (UID, GID): the first is `locust`.
fn etc_files(users: &[(i64, i64)]) -> [(&'static str, String); 2] {
    let mut passwd = String::from("root:x:0:0:root:/root:/usr/sbin/nologin\n");
    let mut group = String::from("root:x:0:\n");
    for (i, (uid, gid)) in users.iter().enumerate() {
        let name = if i == 0 {
            "locust".to_string()
        } else {
            format!("locust{uid}")
        };
        passwd.push_str(&format!("{name}:x:{uid}:{gid}::/home/locust:/bin/sh\n"));
        if !group.contains(&format!(":x:{gid}:")) {
            group.push_str(&format!("{name}:x:{gid}:\n"));
        }
    }
    [("passwd", passwd), ("group", group)]
}

/// A pod's host name: the run's name and the pod's (`checkout-load-worker-1`), at most 63
/// characters as a DNS label.
pub(super) fn pod_hostname(run: &str, pod: &str) -> String {
    let name = if run.is_empty() {
        pod.to_string()
    } else {
        format!("{run}-{pod}")
    };
    name.chars().take(63).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_host_names() {
        struct Case {
            run: String,
            pod: &'static str,
            want: String,
        }
        let cases = [
            Case {
                run: "checkout-load".into(),
                pod: "worker-1",
                want: "checkout-load-worker-1".into(),
            },
            Case {
                run: String::new(),
                pod: "master",
                want: "master".into(),
            },
            Case {
                run: "x".repeat(70),
                pod: "master",
                want: "x".repeat(63),
            },
        ];
        for c in cases {
            assert_eq!(pod_hostname(&c.run, c.pod), c.want);
        }
    }

    #[test]
    fn values_under_mount_paths_are_rerooted() {
        struct Case {
            value: &'static str,
            want: &'static str,
        }
        let pod = PodDir {
            name: "master".into(),
            dir: PathBuf::from("/tmp/run/master"),
            mount_paths: vec!["/mnt/locust".into(), "/home/locust/".into()],
        };
        let cases = [
            Case {
                value: "/mnt/locust/main.py",
                want: "/tmp/run/master/mnt/locust/main.py",
            },
            Case {
                value: "/mnt/locust",
                want: "/tmp/run/master/mnt/locust",
            },
            // A mount path with a trailing slash still holds what is below it.
            Case {
                value: "/home/locust/.cache",
                want: "/tmp/run/master/home/locust/.cache",
            },
            // A sibling that only starts with the same letters is not under it.
            Case {
                value: "/mnt/locustfile.py",
                want: "/mnt/locustfile.py",
            },
            // PATH-like lists: each part on its own.
            Case {
                value: "/mnt/locust/lib:/usr/lib:relative",
                want: "/tmp/run/master/mnt/locust/lib:/usr/lib:relative",
            },
            Case {
                value: "http://127.0.0.1:8080/mnt/locust",
                want: "http://127.0.0.1:8080/mnt/locust",
            },
        ];
        for c in cases {
            assert_eq!(pod.reroot(c.value), c.want, "{}", c.value);
        }
    }

    #[test]
    fn etc_names_the_pods_users() {
        struct Case {
            users: &'static [(i64, i64)],
            passwd: &'static str,
            group: &'static str,
        }
        let cases = [
            Case {
                users: &[(1000, 1000)],
                passwd: "root:x:0:0:root:/root:/usr/sbin/nologin\nlocust:x:1000:1000::/home/locust:/bin/sh\n",
                group: "root:x:0:\nlocust:x:1000:\n",
            },
            // A second user gets its own name; a group already named is not repeated.
            Case {
                users: &[(1000, 1000), (2000, 1000), (3000, 3000)],
                passwd: "root:x:0:0:root:/root:/usr/sbin/nologin\nlocust:x:1000:1000::/home/locust:/bin/sh\nlocust2000:x:2000:1000::/home/locust:/bin/sh\nlocust3000:x:3000:3000::/home/locust:/bin/sh\n",
                group: "root:x:0:\nlocust:x:1000:\nlocust3000:x:3000:\n",
            },
        ];
        for c in cases {
            let [(passwd_name, passwd), (group_name, group)] = etc_files(c.users);
            assert_eq!((passwd_name, group_name), ("passwd", "group"));
            assert_eq!(passwd, c.passwd, "{:?}", c.users);
            assert_eq!(group, c.group, "{:?}", c.users);
        }
    }
}
