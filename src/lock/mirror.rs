//! `--chart-repo`: where the pinned chart is pulled from instead of its OCI reference. An OCI
//! registry path `oci://HOST[:PORT]/PATH` (the chart at `oci://HOST/PATH/<name>`, where
//! `helm push` stores it) or a classic chart repository URL. A loopback registry is spoken to
//! over plain HTTP (helm `--plain-http`, Flux `spec.insecure`); any other over HTTPS.

/// The environment variable that gives `--chart-repo` its default.
pub const CHART_REPO_ENV: &str = "LOCUST_PLANTON_CHART_REPO";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mirror {
    Oci {
        /// `oci://HOST/PATH`, without a trailing slash.
        url: String,
        /// `HOST[:PORT]`.
        host: String,
        plain_http: bool,
    },
    Classic(String),
}

impl Mirror {
    pub fn parse(repo: &str) -> Mirror {
        let Some(rest) = repo.strip_prefix("oci://") else {
            return Mirror::Classic(repo.to_string());
        };
        let rest = rest.trim_end_matches('/');
        let host = rest.split('/').next().unwrap_or_default().to_string();
        Mirror::Oci {
            url: format!("oci://{rest}"),
            plain_http: is_loopback(&host),
            host,
        }
    }
}

/// `localhost`, `127.x.x.x` or `[::1]`, with or without a port.
pub fn is_loopback(host: &str) -> bool {
    let name = if let Some(v6) = host.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (what the row shows, --chart-repo, the mirror).
    #[test]
    fn mirrors() {
        let oci = |url: &str, host: &str, plain_http| Mirror::Oci {
            url: url.into(),
            host: host.into(),
            plain_http,
        };
        let rows: &[(&str, &str, Mirror)] = &[
            (
                "a loopback registry",
                "oci://127.0.0.1:5000/charts",
                oci("oci://127.0.0.1:5000/charts", "127.0.0.1:5000", true),
            ),
            (
                "localhost",
                "oci://localhost:5000/a/b/",
                oci("oci://localhost:5000/a/b", "localhost:5000", true),
            ),
            (
                "IPv6 loopback",
                "oci://[::1]:5000/charts",
                oci("oci://[::1]:5000/charts", "[::1]:5000", true),
            ),
            (
                "127/8",
                "oci://127.0.0.2/charts",
                oci("oci://127.0.0.2/charts", "127.0.0.2", true),
            ),
            (
                "a remote registry",
                "oci://registry.example:443/charts",
                oci(
                    "oci://registry.example:443/charts",
                    "registry.example:443",
                    false,
                ),
            ),
            (
                "a name that starts like localhost",
                "oci://localhost.example/c",
                oci("oci://localhost.example/c", "localhost.example", false),
            ),
            (
                "another address",
                "oci://10.0.0.1/c",
                oci("oci://10.0.0.1/c", "10.0.0.1", false),
            ),
            (
                "a classic repository",
                "https://charts.example/",
                Mirror::Classic("https://charts.example/".into()),
            ),
        ];
        let mut failed = Vec::new();
        for (what, repo, want) in rows {
            let got = Mirror::parse(repo);
            if &got != want {
                failed.push(format!("- {what}: {got:?}"));
            }
        }
        assert!(failed.is_empty(), "{}", failed.join("\n"));
    }
}
