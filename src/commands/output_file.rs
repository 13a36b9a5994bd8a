//! Writing an output file (`-o FILE`, `--output-file FILE`, man pages) the way a careful editor
//! saves one: atomically (a temporary file beside the target, then a rename, so a reader or a
//! failed run never sees half a file), and otherwise as `>` would:
//!
//! - a new file gets the usual mode (0666 less the umask), not the temporary file's 0600;
//! - an existing file keeps its mode (and, where allowed, its owner);
//! - a symbolic link is written through: its target is replaced, the link stays (a dangling
//!   link creates its target);
//! - something that is not a regular file (`/dev/stdout`, a FIFO) is written to directly;
//! - errors name the path the user gave, never the temporary file.

use super::Failure;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Links followed at most (Linux's own limit).
const MAX_LINKS: usize = 40;

/// Replaces (or creates) the file at `path` with `content`.
pub fn replace(path: &str, content: &[u8]) -> Result<(), Failure> {
    let fail = |what: String| Failure::failed(format!("{path}: {what}"));
    let user = Path::new(path);
    match std::fs::metadata(user) {
        Ok(m) if m.is_dir() => Err(fail("is a directory".into())),
        Ok(m) if !m.is_file() => write_in_place(user, content).map_err(|e| fail(os_error(&e))),
        Ok(m) => {
            let target = follow_links(user).map_err(|e| fail(os_error(&e)))?;
            write_via_temp(&target, content, Some(&m), true).map_err(fail)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let target = follow_links(user).map_err(|e| fail(os_error(&e)))?;
            write_via_temp(&target, content, None, true).map_err(fail)
        }
        Err(e) => Err(fail(os_error(&e))),
    }
}

/// Creates a new file at `path`; fails, writing nothing, when anything is there already (a
/// file, a directory, a link, even a dangling one): `init` never overwrites a user's manifest.
pub fn create_new(path: &str, content: &[u8]) -> Result<(), Failure> {
    write_via_temp(Path::new(path), content, None, false)
        .map_err(|what| Failure::failed(format!("{path}: {what}")))
}

/// Where a chain of symbolic links at `path` ends (which need not exist yet).
fn follow_links(path: &Path) -> std::io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&current) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = std::fs::read_link(&current)?;
                current = match current.parent() {
                    Some(dir) if to.is_relative() => dir.join(to),
                    _ => to,
                };
            }
            _ => return Ok(current),
        }
    }
    Err(std::io::Error::from_raw_os_error(libc::ELOOP))
}

fn write_in_place(path: &Path, content: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new().write(true).open(path)?;
    f.write_all(content)?;
    f.flush()
}

/// A temporary file beside the target, removed unless it was renamed into place.
struct Temp {
    path: PathBuf,
    file: std::fs::File,
    placed: bool,
}

impl Drop for Temp {
    fn drop(&mut self) {
        if !self.placed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Temp {
    /// `.NAME.<pid>-<n>-<nanos>.tmp` in `dir`, created exclusively with mode 0666: the kernel
    /// takes the umask off, as for any new file.
    fn new_in(dir: &Path, name: &str) -> std::io::Result<Temp> {
        use std::os::unix::fs::OpenOptionsExt;
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        loop {
            let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            let path = dir.join(format!(".{name}.{}-{n}-{nanos:x}.tmp", std::process::id()));
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o666)
                .open(&path)
            {
                Ok(file) => {
                    return Ok(Temp {
                        path,
                        file,
                        placed: false,
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Renames onto `target`, replacing whatever file is there.
    fn replace(mut self, target: &Path) -> std::io::Result<()> {
        std::fs::rename(&self.path, target)?;
        self.placed = true;
        Ok(())
    }

    /// Moves to `target` only when nothing is there (`AlreadyExists` otherwise).
    fn place_new(mut self, target: &Path) -> std::io::Result<()> {
        #[cfg(target_os = "linux")]
        {
            use std::os::unix::ffi::OsStrExt;
            let c = |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes());
            let (from, to) = (c(&self.path)?, c(target)?);
            // SAFETY: two valid NUL-terminated paths.
            let r = unsafe {
                libc::renameat2(
                    libc::AT_FDCWD,
                    from.as_ptr(),
                    libc::AT_FDCWD,
                    to.as_ptr(),
                    libc::RENAME_NOREPLACE,
                )
            };
            if r == 0 {
                self.placed = true;
                return Ok(());
            }
            let e = std::io::Error::last_os_error();
            // Filesystems without RENAME_NOREPLACE: a hard link is just as exclusive.
            if !matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) {
                return Err(e);
            }
        }
        std::fs::hard_link(&self.path, target)
    }
}

/// Writes a temporary file in `target`'s directory and renames it onto `target` (`overwrite`)
/// or moves it there only when nothing is there. The error text never names the temporary file.
fn write_via_temp(
    target: &Path,
    content: &[u8],
    existing: Option<&std::fs::Metadata>,
    overwrite: bool,
) -> Result<(), String> {
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = Temp::new_in(dir, &name).map_err(|e| {
        format!(
            "cannot create a file in {} (the output is written beside it, then renamed): {}",
            dir.display(),
            os_error(&e)
        )
    })?;
    if let Some(m) = existing {
        let f = &tmp.file;
        let keep_mode = || f.set_permissions(std::fs::Permissions::from_mode(m.mode() & 0o7777));
        keep_mode().map_err(|e| os_error(&e))?;
        let made = f.metadata().map_err(|e| os_error(&e))?;
        if (made.uid(), made.gid()) != (m.uid(), m.gid()) {
            // Only root (or the owner, for its own groups) may; anyone else gets a file of
            // their own, as with any editor's atomic save.
            use std::os::fd::AsRawFd;
            // SAFETY: a valid open descriptor; fchown touches nothing else.
            if unsafe { libc::fchown(f.as_raw_fd(), m.uid(), m.gid()) } == 0 {
                // fchown clears the set-user/group-ID bits: the mode once more.
                keep_mode().map_err(|e| os_error(&e))?;
            }
        }
    }
    tmp.file
        .write_all(content)
        .and_then(|_| tmp.file.sync_all())
        .map_err(|e| os_error(&e))?;
    if overwrite {
        tmp.replace(target).map_err(|e| os_error(&e))
    } else {
        tmp.place_new(target).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                "already exists; nothing written (remove it or choose another path)".to_string()
            } else {
                os_error(&e)
            }
        })
    }
}

/// The operating system's reason (std's errors name no path).
fn os_error(e: &std::io::Error) -> String {
    e.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().mode() & 0o7777
    }

    /// Nothing but `names` in `dir` (no temporary file left behind).
    fn assert_only(dir: &Path, names: &[&str]) {
        let mut found: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        found.sort();
        let mut want: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(found, want);
    }

    fn umask() -> u32 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status.lines().find(|l| l.starts_with("Umask:")).unwrap();
        u32::from_str_radix(line.split_whitespace().nth(1).unwrap(), 8).unwrap()
    }

    #[test]
    fn a_new_file_gets_0666_less_the_umask() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("values.yaml");
        replace(p.to_str().unwrap(), b"a: 1\n").unwrap();
        assert_eq!(mode(&p), 0o666 & !umask());
        let q = d.path().join("new.yaml");
        create_new(q.to_str().unwrap(), b"b: 2\n").unwrap();
        assert_eq!(mode(&q), 0o666 & !umask());
        assert_eq!(std::fs::read(&q).unwrap(), b"b: 2\n");
        assert_only(d.path(), &["values.yaml", "new.yaml"]);
    }

    #[test]
    fn an_existing_file_keeps_its_mode() {
        let d = tempfile::tempdir().unwrap();
        for m in [0o600, 0o640, 0o755, 0o444] {
            let p = d.path().join(format!("f{m:o}"));
            std::fs::write(&p, "old").unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(m)).unwrap();
            let ino = std::fs::metadata(&p).unwrap().ino();
            replace(p.to_str().unwrap(), b"new").unwrap();
            assert_eq!(mode(&p), m);
            assert_eq!(std::fs::read(&p).unwrap(), b"new");
            // Replaced by rename (atomic), not rewritten in place.
            assert_ne!(std::fs::metadata(&p).unwrap().ino(), ino);
        }
    }

    #[test]
    fn a_symlink_is_written_through_and_stays_a_link() {
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("real");
        std::fs::create_dir(&real).unwrap();
        let target = real.join("values.yaml");
        std::fs::write(&target, "old").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
        // A relative link to a relative link (resolved from each link's own folder).
        symlink("real/values.yaml", d.path().join("one")).unwrap();
        symlink("one", d.path().join("two")).unwrap();
        let two = d.path().join("two");
        replace(two.to_str().unwrap(), b"new").unwrap();
        assert_eq!(std::fs::read_link(&two).unwrap(), Path::new("one"));
        assert_eq!(
            std::fs::read_link(d.path().join("one")).unwrap(),
            Path::new("real/values.yaml")
        );
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        assert_eq!(mode(&target), 0o640);
        assert_only(&real, &["values.yaml"]);
        assert_only(d.path(), &["real", "one", "two"]);
    }

    #[test]
    fn a_dangling_link_creates_its_target_and_create_new_refuses_it() {
        let d = tempfile::tempdir().unwrap();
        let link = d.path().join("out.yaml");
        symlink("made.yaml", &link).unwrap();
        let err = create_new(link.to_str().unwrap(), b"x").unwrap_err();
        assert!(
            err.message
                .ends_with("already exists; nothing written (remove it or choose another path)"),
            "{}",
            err.message
        );
        assert!(!d.path().join("made.yaml").exists());
        replace(link.to_str().unwrap(), b"x").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read(d.path().join("made.yaml")).unwrap(), b"x");
        assert_eq!(mode(&d.path().join("made.yaml")), 0o666 & !umask());
    }

    #[test]
    fn a_link_loop_fails_naming_the_users_path() {
        let d = tempfile::tempdir().unwrap();
        symlink("b", d.path().join("a")).unwrap();
        symlink("a", d.path().join("b")).unwrap();
        let a = d.path().join("a");
        let err = replace(a.to_str().unwrap(), b"x").unwrap_err();
        assert!(
            err.message.starts_with(&format!("{}: ", a.display())),
            "{}",
            err.message
        );
        assert!(err.message.contains("symbolic links"), "{}", err.message);
    }

    #[test]
    fn errors_name_the_users_path_never_the_temporary_file() {
        let d = tempfile::tempdir().unwrap();
        let missing = d.path().join("no/such/dir/values.yaml");
        let err = replace(missing.to_str().unwrap(), b"x").unwrap_err();
        assert_eq!(
            err.message,
            format!(
                "{}: cannot create a file in {} (the output is written beside it, then renamed): No such file or directory (os error 2)",
                missing.display(),
                missing.parent().unwrap().display()
            )
        );
        // The temporary file would be `.values.yaml.XXXXXX.tmp`.
        assert!(!err.message.contains(".values.yaml."), "{}", err.message);
        let err = replace(d.path().to_str().unwrap(), b"x").unwrap_err();
        assert_eq!(
            err.message,
            format!("{}: is a directory", d.path().display())
        );
        let p = d.path().join("existing");
        std::fs::write(&p, "old").unwrap();
        let err = create_new(p.to_str().unwrap(), b"new").unwrap_err();
        assert_eq!(
            err.message,
            format!(
                "{}: already exists; nothing written (remove it or choose another path)",
                p.display()
            )
        );
        assert_eq!(std::fs::read(&p).unwrap(), b"old");
        assert_only(d.path(), &["existing"]);
    }

    #[test]
    fn a_fifo_is_written_to_not_replaced() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("pipe");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read(fifo).unwrap())
        };
        replace(fifo.to_str().unwrap(), b"through\n").unwrap();
        assert_eq!(reader.join().unwrap(), b"through\n");
        assert!(std::os::unix::fs::FileTypeExt::is_fifo(
            &std::fs::symlink_metadata(&fifo).unwrap().file_type()
        ));
        assert_only(d.path(), &["pipe"]);
    }
}
