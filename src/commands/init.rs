//! `init NAME`: a commented starter manifest that passes `check` and runs with `local`, so a
//! user starts from something that works rather than from a copied example.

use super::{Failure, exit, write_new_file, write_output};
use crate::spec::{MAX_NAME_LEN, rules, schema};

const TEMPLATE: &str = r#"# yaml-language-server: $schema=@SCHEMA@
# A LocustKubernetes manifest, started with `locust-planton init @NAME@`.
# Editor completion and validation: `locust-planton schema --output-file @SCHEMA@` next to this file.
#   check it:    locust-planton check -f @FILE@
#   try it here: locust-planton local -f @FILE@ --headless --users 5 --run-time 30s
#   deploy it:   locust-planton install -f @FILE@ --wait
# Every field is described in docs/spec.md of locust-planton.
apiVersion: kubernetes.project-planton.org/v1
kind: LocustKubernetes
metadata:
  name: @NAME@
  labels:
    # The namespace to deploy into [default: metadata.name].
    kubernetes.project-planton.org/namespace: @NAME@
spec:
  masterContainer:
    replicas: 1
    resources:
      limits: {cpu: 1000m, memory: 1Gi}
      requests: {cpu: 100m, memory: 256Mi}
  workerContainer:
    # One Locust process per pod drives about 1000 users: `locust-planton plan --users N`.
    replicas: 2
    resources:
      limits: {cpu: 1000m, memory: 1Gi}
      requests: {cpu: 500m, memory: 512Mi}
  # The web UI on an ingress, at http://@NAME@.<dnsDomain>/:
  # ingress:
  #   enabled: true
  #   dnsDomain: example.com
  loadTest:
    # In the Deployments' label selectors: changing it later means a new release.
    name: @NAME@
    # The system under test (an extension field; without it the web UI asks for one).
    host: http://127.0.0.1:8080
    mainPyContent: |
      from locust import HttpUser, between, task

      from lib.pages import home_path


      class Visitor(HttpUser):
          wait_time = between(1, 2)

          @task
          def home(self):
              self.client.get(home_path())
    # Modules the locustfile imports as `lib.<module>`; flat file names.
    libFilesContent:
      __init__.py: ""
      pages.py: |
        def home_path():
            return "/"
    # PEP 508 requirements, installed by pip before Locust starts; pin them with `==`:
    # pipPackages:
    #   - "faker==19.0.0"
  # Chart values on dotted paths, each written as a string:
  # helmValues:
  #   worker.logLevel: DEBUG
"#;

/// The starter manifest for `name`, or why `name` cannot be a manifest's name.
pub fn manifest(name: &str, file_label: &str) -> Result<String, Failure> {
    if let Err(e) = rules::dns_label(name) {
        return Err(Failure::failed(format!("NAME: {e}")));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(Failure::failed(format!(
            "NAME: must be at most {MAX_NAME_LEN} characters, is {} (derived names must stay within 63)",
            name.len()
        )));
    }
    // The path goes in last, so nothing in it is taken for a placeholder.
    Ok(TEMPLATE
        .replace("@NAME@", name)
        .replace("@SCHEMA@", schema::FILE_NAME)
        .replace("@FILE@", file_label))
}

/// Start a manifest: a commented, working NAME.yaml.   e.g. locust-planton init checkout-load
#[derive(clap::Args, Clone)]
#[command(
    after_help = exit::help(
        "Examples:\n  locust-planton init checkout-load\n  locust-planton init checkout-load --output-file load/checkout.yaml\n  \
    locust-planton init checkout-load --output-file - | less\n\n\
    The manifest passes `check` and runs with `local --headless`. An existing file is never overwritten\n\
    (exit 1, nothing written).",
        &[(exit::OK, "written"), (exit::FAILED, "an invalid name, or a file already there (nothing written)"), (exit::USAGE, "usage error")],
    )
)]
pub struct InitArgs {
    /// metadata.name and loadTest.name: a DNS-1123 label of at most 47 characters.
    pub name: String,
    /// Where to write it [default: ./NAME.yaml]; `-` is stdout.
    #[arg(long = "output-file", value_name = "PATH")]
    pub output_file: Option<String>,
}

/// Writes the starter manifest to `output` (default `./NAME.yaml`; `-` is stdout), never over
/// an existing file. Returns what to tell the user on stderr.
pub fn run(name: &str, output: Option<&str>) -> Result<String, Failure> {
    let default = format!("{name}.yaml");
    let path = output.unwrap_or(&default);
    let text = manifest(name, if path == "-" { &default } else { path })?;
    if path == "-" {
        write_output(None, &text)?;
        return Ok(String::new());
    }
    write_new_file(path, &text)?;
    Ok(format!(
        "wrote {path}; next: locust-planton check -f {path}\n"
    ))
}
