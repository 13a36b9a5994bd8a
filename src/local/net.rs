//! The run's network: one network namespace for all pods of a run (the master and its workers
//! reach each other on its 127.0.0.1, as pods of one Service do), connected to the outside by
//! pasta (package `passt`), a user-mode network stack that needs no privileges.
//!
//! - Outbound TCP/UDP to other machines works as from a pod (pip reaches its index, a remote
//!   target is loaded); names resolve through this machine's resolver (`--dns-forward`).
//! - This machine's own loopback is not reachable (`--no-map-gw`, `-T`/`-U` only as listed):
//!   only the loopback ports the run needs are forwarded — the target's, a proxy's or package
//!   index's named on 127.0.0.1 — so a locustfile cannot reach other local services.
//! - Abstract UNIX sockets belong to a network namespace: the host's are not there.
//! - The web UI is published on this machine's 127.0.0.1 only (`-t 127.0.0.1/PORT`).
//!
//! A holder process (bwrap, `cat` on a pipe from us) owns the user and network namespaces; every
//! pod process joins them before its own bwrap starts. The holder ends when `local` ends
//! (its stdin closes; `--die-with-parent`), pasta with it (`PR_SET_PDEATHSIG`).

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The address pods send DNS queries to; pasta answers with this machine's resolver.
pub const DNS_ADDRESS: &str = "169.254.1.1";

pub struct PodNetwork {
    holder: Child,
    pasta: Child,
    userns: File,
    netns: File,
    /// The `resolv.conf` pods get (pointing at [`DNS_ADDRESS`]).
    pub resolv_conf: PathBuf,
    /// The web UI's port on this machine (and in the pods' namespace), when published.
    pub web_port: Option<u16>,
}

/// What the run's network forwards.
pub struct Plan<'a> {
    /// Loopback ports of this machine the pods reach on their own 127.0.0.1.
    pub host_ports: &'a [u16],
    /// The web UI: the first port to try and whether the user chose it (a chosen port that is
    /// taken fails; a default one moves up).
    pub web: Option<super::options::Port>,
}

/// Why the run's network could not be made (the caller decides whether to go on without it).
type NetError = String;

/// The port of a URL whose host is this machine's loopback (`127.x.y.z`, `localhost`, `[::1]`):
/// its own, else the scheme's.
pub fn loopback_port(url: &str) -> Option<u16> {
    let (scheme, host, port) = crate::spec::otel::url_authority(url)?;
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|a| a.is_loopback());
    if !loopback {
        return None;
    }
    match port {
        Some(p) => p.parse().ok(),
        None => match scheme.to_ascii_lowercase().as_str() {
            "http" => Some(80),
            "https" => Some(443),
            _ => None,
        },
    }
}

/// The `-T`/`-t` argument for a port list (`none` when empty).
fn port_list(ports: &[u16]) -> String {
    if ports.is_empty() {
        return "none".into();
    }
    ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

impl PodNetwork {
    /// Makes the namespace in `dir` (pasta's pid file, log and the pods' `resolv.conf` go there).
    /// A taken web port is `PortInUse`/`NoFreePort`; anything else is `NoSandbox` (the caller
    /// may go on without the namespace).
    pub fn start(
        bwrap: &Path,
        pasta: &Path,
        dir: &Path,
        plan: &Plan,
        group: libc::pid_t,
    ) -> Result<Self, super::error::LocalError> {
        use super::error::LocalError;
        let (holder, holder_pid) = start_holder(bwrap, group).map_err(LocalError::NoSandbox)?;
        let open = |kind: &str| {
            File::open(format!("/proc/{holder_pid}/ns/{kind}"))
                .map_err(|e| LocalError::NoSandbox(format!("the run's {kind} namespace: {e}")))
        };
        let (userns, netns) = (open("user")?, open("net")?);
        let mut web = plan.web;
        let mut tries = 0;
        let pasta = loop {
            match start_pasta(
                pasta,
                dir,
                holder_pid,
                plan.host_ports,
                web.map(|w| w.port),
                group,
            ) {
                Ok(p) => break p,
                Err((busy, why)) => {
                    let Some(w) = web.as_mut().filter(|w| busy && !w.explicit) else {
                        return Err(match web {
                            Some(w) if busy => LocalError::PortInUse {
                                flag: "--web-port",
                                port: w.port,
                            },
                            _ => LocalError::NoSandbox(why),
                        });
                    };
                    tries += 1;
                    if tries >= super::options::PORT_TRIES {
                        return Err(LocalError::NoFreePort {
                            what: "web UI",
                            from: w.port + 1 - tries,
                        });
                    }
                    eprintln!(
                        "locust-planton: port {} is in use; trying {} for the web UI",
                        w.port,
                        w.port + 1
                    );
                    w.port += 1;
                }
            }
        };
        let resolv_conf = dir.join("resolv.conf");
        std::fs::write(&resolv_conf, resolv_conf_text()).map_err(|source| LocalError::Io {
            what: resolv_conf.display().to_string(),
            source,
        })?;
        Ok(PodNetwork {
            holder,
            pasta,
            userns,
            netns,
            resolv_conf,
            web_port: web.map(|w| w.port),
        })
    }

    /// The namespaces a pod process joins before it starts (`setns` in the forked child).
    pub fn fds(&self) -> (i32, i32) {
        (self.userns.as_raw_fd(), self.netns.as_raw_fd())
    }
}

impl Drop for PodNetwork {
    fn drop(&mut self) {
        let mut ended = Vec::new();
        for child in [&mut self.pasta, &mut self.holder] {
            ended.extend(super::processes::process_tree(child.id()));
            let _ = child.kill();
            let _ = child.wait();
        }
        super::processes::wait_gone(&ended);
    }
}

/// The pods' `resolv.conf`: pasta's DNS address, then this machine's search domains.
fn resolv_conf_text() -> String {
    let host = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let mut text = format!("nameserver {DNS_ADDRESS}\n");
    for line in host.lines() {
        let word = line.split_whitespace().next().unwrap_or("");
        if matches!(word, "search" | "domain" | "options") {
            text.push_str(line);
            text.push('\n');
        }
    }
    text
}

/// bwrap in new user and network namespaces running `cat` on a pipe from us; returns it and
/// the pid of the process inside (the namespaces' holder).
fn start_holder(bwrap: &Path, group: libc::pid_t) -> Result<(Child, u32), NetError> {
    let cat = super::sandbox::find_in_path("cat").unwrap_or_else(|| "/bin/cat".into());
    let mut cmd = Command::new(bwrap);
    cmd.args(["--unshare-user", "--unshare-net", "--die-with-parent"])
        .args(["--ro-bind", "/", "/", "--"])
        .arg(&cat)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    super::processes::orphan_proof(&mut cmd, libc::SIGKILL, None, group);
    let mut holder = cmd
        .spawn()
        .map_err(|e| format!("{}: {e}", bwrap.display()))?;
    let own = std::fs::read_link("/proc/self/ns/net").ok();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        // In its namespaces, and mapped: a process joining a user namespace before bwrap has
        // written its uid_map would have no user there (and could not make its own sandbox).
        let mapped = |pid: i32| {
            ["uid_map", "gid_map"].iter().all(|m| {
                std::fs::read_to_string(format!("/proc/{pid}/{m}"))
                    .is_ok_and(|t| !t.trim().is_empty())
            })
        };
        let inside = super::processes::children_of(holder.id())
            .into_iter()
            .find(|pid| {
                std::fs::read_link(format!("/proc/{pid}/ns/net")).ok() != own && mapped(*pid)
            });
        if let Some(pid) = inside {
            return Ok((holder, pid as u32));
        }
        if holder.try_wait().ok().flatten().is_some() || Instant::now() > deadline {
            let _ = holder.kill();
            let _ = holder.wait();
            return Err(format!(
                "{} could not make a network namespace",
                bwrap.display()
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// pasta attached to the holder's namespaces, in the foreground (our child); returns once it
/// has configured the namespace. An error says whether the web port was taken.
fn start_pasta(
    pasta: &Path,
    dir: &Path,
    holder_pid: u32,
    host_ports: &[u16],
    web_port: Option<u16>,
    group: libc::pid_t,
) -> Result<Child, (bool, NetError)> {
    let pid_file = dir.join("pasta.pid");
    let log = dir.join("pasta.log");
    let _ = std::fs::remove_file(&pid_file);
    let log_file = File::create(&log).map_err(|e| (false, format!("{}: {e}", log.display())))?;
    let mut cmd = Command::new(pasta);
    // As root pasta would switch to `nobody`, who may not enter the namespaces we made.
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        cmd.args(["--runas", "0:0"]);
    }
    let publish = web_port.map_or("none".into(), |p| format!("127.0.0.1/{p}"));
    cmd.args(["--config-net", "--foreground", "--quiet"])
        .args(["--tcp-ports", &publish, "--udp-ports", "none"])
        .args(["--tcp-ns", &port_list(host_ports), "--udp-ns", "none"])
        .args(["--no-map-gw", "--dns-forward", DNS_ADDRESS])
        .arg("--pid")
        .arg(&pid_file)
        .arg(holder_pid.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file);
    // pasta enters a user namespace of its own (clearing the parent-death signal) and outlives
    // a namespace named by PID: the run's group ends it with `local`.
    super::processes::orphan_proof(&mut cmd, libc::SIGKILL, None, group);
    let mut child = cmd
        .spawn()
        .map_err(|e| (false, format!("{}: {e}", pasta.display())))?;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if std::fs::metadata(&pid_file).is_ok_and(|m| m.len() > 0) {
            return Ok(child);
        }
        let exited = child.try_wait().ok().flatten().is_some();
        if exited || Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let why: Vec<&str> = text
                .lines()
                .filter(|l| !l.contains("syslog") && !l.trim().is_empty())
                .collect();
            let busy = text.contains("Failed to bind");
            return Err((
                busy,
                format!(
                    "pasta could not connect the pods' network: {}",
                    if why.is_empty() {
                        "it stopped without a message".to_string()
                    } else {
                        why.join("; ")
                    }
                ),
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_ports_of_urls() {
        struct Case {
            url: &'static str,
            port: Option<u16>,
        }
        let cases = [
            Case {
                url: "http://127.0.0.1:8080",
                port: Some(8080),
            },
            Case {
                url: "http://127.0.0.1:8080/path?q=1",
                port: Some(8080),
            },
            Case {
                url: "http://localhost/",
                port: Some(80),
            },
            Case {
                url: "https://LOCALHOST",
                port: Some(443),
            },
            Case {
                url: "http://[::1]:9000/x",
                port: Some(9000),
            },
            Case {
                url: "http://127.1.2.3:81",
                port: Some(81),
            },
            Case {
                url: "http://user:pw@127.0.0.1:3128",
                port: Some(3128),
            },
            Case {
                url: "http://10.0.0.1:8080",
                port: None,
            },
            Case {
                url: "https://shop.example.com",
                port: None,
            },
            Case {
                url: "127.0.0.1:8080",
                port: None,
            },
            Case {
                url: "ftp://127.0.0.1",
                port: None,
            },
        ];
        for c in cases {
            assert_eq!(loopback_port(c.url), c.port, "{}", c.url);
        }
    }

    #[test]
    fn port_lists() {
        assert_eq!(port_list(&[]), "none");
        assert_eq!(port_list(&[8080, 3128]), "8080,3128");
    }
}
