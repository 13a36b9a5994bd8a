//! The run's ports: a taken default port moves up, a chosen one fails (`next_port`), and the
//! loopback ports of this machine the pods' network forwards (`forwarded_ports`).

use super::confinement::running;
use super::error::LocalError;
use super::options::{LocalOptions, PORT_TRIES, Port};
use super::pod::PodView;
use super::{net, sandbox};

/// Moves a taken default port up by one; a port the user chose fails instead.
pub(super) fn next_port(
    busy: bool,
    port: &mut u16,
    chosen: Port,
    flag: &'static str,
    what: &'static str,
) -> Result<bool, LocalError> {
    if !busy {
        return Ok(false);
    }
    if chosen.explicit {
        return Err(LocalError::PortInUse { flag, port: *port });
    }
    match port.checked_add(1) {
        Some(p) if p - chosen.port < PORT_TRIES => {
            eprintln!(
                "locust-planton: port {} is in use; trying {p} for the {what}",
                *port
            );
            *port = p;
            Ok(true)
        }
        _ => Err(LocalError::NoFreePort {
            what,
            from: chosen.port,
        }),
    }
}

/// Loopback ports of this machine the pods reach (their network forwards only these): the
/// target's (`--host`, each pod's `LOCUST_HOST`), an OpenTelemetry collector's
/// (`OTEL_EXPORTER_OTLP_ENDPOINT`) and those of proxies and package indexes
/// passed through to the pods.
pub(super) fn forwarded_ports(master: &PodView, worker: &PodView, opts: &LocalOptions) -> Vec<u16> {
    let mut urls: Vec<String> = opts.host.iter().cloned().collect();
    for c in running(master, worker) {
        urls.extend(
            c.env
                .iter()
                .filter(|(k, _)| k == "LOCUST_HOST" || k == "OTEL_EXPORTER_OTLP_ENDPOINT")
                .map(|(_, v)| v.clone()),
        );
    }
    for k in sandbox::PASSTHROUGH_ENV {
        urls.extend(std::env::var(k).ok());
    }
    let mut ports: Vec<u16> = urls
        .iter()
        .flat_map(|u| u.split([' ', ',']))
        .filter_map(net::loopback_port)
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_default_moves_up_a_chosen_one_fails() {
        struct Case {
            busy: bool,
            port: u16,
            chosen: Port,
            /// The port afterwards and whether it moved, or the error's text.
            want: Result<(u16, bool), &'static str>,
        }
        let default = |port| Port {
            port,
            explicit: false,
        };
        let cases = [
            Case {
                busy: false,
                port: 8089,
                chosen: default(8089),
                want: Ok((8089, false)),
            },
            Case {
                busy: true,
                port: 8089,
                chosen: default(8089),
                want: Ok((8090, true)),
            },
            // The last port tried: PORT_TRIES ports from the default, then no more.
            Case {
                busy: true,
                port: 8089 + PORT_TRIES - 2,
                chosen: default(8089),
                want: Ok((8089 + PORT_TRIES - 1, true)),
            },
            Case {
                busy: true,
                port: 8089 + PORT_TRIES - 1,
                chosen: default(8089),
                want: Err("no free port found from 8089 for web UI"),
            },
            Case {
                busy: true,
                port: u16::MAX,
                chosen: default(u16::MAX),
                want: Err("no free port found from 65535 for web UI"),
            },
            Case {
                busy: true,
                port: 8089,
                chosen: Port {
                    port: 8089,
                    explicit: true,
                },
                want: Err(
                    "--web-port 8089: the port is in use by another process; choose a free one, or leave --web-port out to use the first free port from its default",
                ),
            },
        ];
        for c in cases {
            let mut port = c.port;
            let got = next_port(c.busy, &mut port, c.chosen, "--web-port", "web UI")
                .map(|moved| (port, moved))
                .map_err(|e| e.to_string());
            assert_eq!(got, c.want.map_err(String::from), "port {}", c.port);
        }
    }
}
