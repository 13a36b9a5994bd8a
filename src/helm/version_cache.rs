//! Helm's version, remembered per binary so that `template`/`install` start one helm process,
//! not two (`helm version` alone costs as much as a small `helm template`).
//!
//! The cache (`$XDG_CACHE_HOME/locust-planton/helm-versions.json`, else
//! `~/.cache/locust-planton/…`) maps a binary, identified by its canonical path, size,
//! modification and change times and inode, to the version it printed. Replacing or touching
//! the binary changes the key, so it is probed again. A missing, unreadable, corrupt or
//! unwritable cache only means probing: it never fails a command.
//!
//! Not cached (probed every time), because one file serves several Helm versions:
//! a version manager's shim (a path through a `shims` folder: asdf, pyenv-style managers) and
//! a program whose real file is not named like helm (mise's and aqua's shims are links to the
//! manager's own binary, which picks the version per directory).

use serde::{Deserialize, Serialize};
use std::ffi::OsStr;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The cache keeps the most recently used binaries, at most this many.
const MAX_ENTRIES: usize = 16;
/// A cache file larger than this is ignored (and replaced).
const MAX_BYTES: usize = 64 * 1024;

/// What identifies one helm binary's content without reading it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Key {
    pub path: String,
    pub size: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
    pub dev: u64,
    pub ino: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    key: Key,
    helm_version: String,
}

#[derive(Serialize, Deserialize, Default)]
struct CacheFile {
    entries: Vec<Entry>,
}

/// The file, under the user's cache folder.
pub fn file() -> Option<PathBuf> {
    crate::contract::cache_root().map(|d| d.join("helm-versions.json"))
}

/// Where the program `name` runs from, as `exec` finds it: a name with a `/` is a path, a bare
/// name is looked up in `$PATH` (the first executable file).
pub fn resolve(name: &OsStr) -> Option<PathBuf> {
    let p = Path::new(name);
    if name.as_encoded_bytes().contains(&b'/') {
        return Some(p.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| {
            if d.as_os_str().is_empty() {
                PathBuf::from(".").join(p)
            } else {
                d.join(p)
            }
        })
        .find(|c| is_executable(c))
}

pub fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

impl Key {
    /// The key of the binary `name` runs, or `None` when it is not to be cached (not found,
    /// a version manager's shim, a multi-call binary).
    pub fn of(name: &OsStr) -> Option<Key> {
        let resolved = resolve(name)?;
        if resolved.components().any(|c| c.as_os_str() == "shims") {
            return None;
        }
        let canonical = std::fs::canonicalize(&resolved).ok()?;
        let file_name = canonical
            .file_name()?
            .to_string_lossy()
            .to_ascii_lowercase();
        if !file_name.contains("helm") {
            return None;
        }
        let m = std::fs::metadata(&canonical).ok()?;
        Some(Key {
            path: canonical.to_str()?.to_string(),
            size: m.size(),
            mtime_ns: m
                .mtime()
                .saturating_mul(1_000_000_000)
                .saturating_add(m.mtime_nsec()),
            ctime_ns: m
                .ctime()
                .saturating_mul(1_000_000_000)
                .saturating_add(m.ctime_nsec()),
            dev: m.dev(),
            ino: m.ino(),
        })
    }
}

fn read() -> CacheFile {
    let Some(f) = file() else {
        return CacheFile::default();
    };
    std::fs::File::open(&f)
        .and_then(|f| crate::limits::read_bounded(f, MAX_BYTES))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// The version this binary printed before, if the cache has it.
pub fn lookup(key: &Key) -> Option<String> {
    read()
        .entries
        .into_iter()
        .find(|e| &e.key == key)
        .map(|e| e.helm_version)
}

/// Remembers `version` for `key` (best effort: any error leaves the cache as it was). The file
/// is replaced atomically, so a concurrent reader sees the old or the new cache, whole.
pub fn store(key: &Key, version: &str) {
    let _ = try_store(key, version);
}

fn try_store(key: &Key, version: &str) -> Option<()> {
    let path = file()?;
    let dir = path.parent()?;
    let mut cache = read();
    // Entries of the same path are stale (the binary was replaced); the newest comes first.
    cache.entries.retain(|e| e.key.path != key.path);
    cache.entries.insert(
        0,
        Entry {
            key: key.clone(),
            helm_version: version.to_string(),
        },
    );
    cache.entries.truncate(MAX_ENTRIES);
    let text = serde_json::to_vec_pretty(&cache).ok()?;
    std::fs::create_dir_all(dir).ok()?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".helm-versions")
        .tempfile_in(dir)
        .ok()?;
    std::io::Write::write_all(&mut tmp, &text).ok()?;
    tmp.persist(&path).ok()?;
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_a_slash_are_paths_and_bare_names_are_looked_up_in_path() {
        assert_eq!(
            resolve(OsStr::new("./x/helm")),
            Some(PathBuf::from("./x/helm"))
        );
        // `sh` is on every PATH these tests run with.
        let sh = resolve(OsStr::new("sh")).expect("sh on PATH");
        assert!(sh.is_absolute() && is_executable(&sh), "{}", sh.display());
        assert_eq!(resolve(OsStr::new("no-such-program-lp")), None);
    }

    #[test]
    fn shims_and_binaries_not_named_helm_are_not_keyed() {
        let d = tempfile::tempdir().unwrap();
        let shims = d.path().join("shims");
        std::fs::create_dir(&shims).unwrap();
        let write_exe = |p: &Path| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::write(p, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
        };
        write_exe(&shims.join("helm"));
        assert_eq!(Key::of(shims.join("helm").as_os_str()), None);
        // A link named helm to a program that is not (mise, aqua-proxy).
        let manager = d.path().join("mise");
        write_exe(&manager);
        std::os::unix::fs::symlink(&manager, d.path().join("helm")).unwrap();
        assert_eq!(Key::of(d.path().join("helm").as_os_str()), None);
        // A real helm file is keyed by its canonical path, through links.
        let real = d.path().join("helm-v3");
        write_exe(&real);
        std::os::unix::fs::symlink(&real, d.path().join("h")).unwrap();
        let k = Key::of(d.path().join("h").as_os_str()).unwrap();
        assert_eq!(
            k.path,
            std::fs::canonicalize(&real).unwrap().to_str().unwrap()
        );
        assert_eq!(k.size, 10);
    }
}
