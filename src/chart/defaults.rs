//! The pinned chart's defaults for every value the master and worker Deployments read (its
//! `values.yaml`, reduced to those). Helm coalesces the given values over them before the
//! templates run; `tests/chart_model.rs` holds each one to the real chart's `values.yaml`.

pub const DEFAULTS: &str = r#"
loadtest:
  name: example
  locust_locustfile: main.py
  locust_locustfile_path: /mnt/locust
  locust_locustfile_configmap: example-locustfile
  locust_lib_configmap: example-lib
  locust_host: https://www.google.com
  pip_requirementsfile_configmap: ""
  locust_requirementsfile_path: /packages
  environment: {}
  environment_secret: {}
  environment_external_secret: {}
  environment_load_from_secrets: []
  mount_external_secret: {}
  headless: false
  tags: ""
  excludeTags: ""
image:
  repository: locustio/locust
  tag: 2.32.2
  pullPolicy: IfNotPresent
service:
  targetPort: 8089
master:
  image: ""
  logLevel: INFO
  terminationGracePeriodSeconds: 30
  lifecycle: {}
  resources: {}
  deploymentAnnotations: {}
  envs_include_default: true
  environment: {}
  args: []
  command:
    - sh
    - /config/docker-entrypoint.sh
  initContainers: []
  auth:
    enabled: false
    username: ""
    password: ""
  extraPorts: null
  readinessProbe:
    initialDelaySeconds: 5
    periodSeconds: 30
    timeoutSeconds: 30
    failureThreshold: 2
    successThreshold: 1
    httpGet:
      path: /
      port: 8089
      scheme: HTTP
  livenessProbe: {}
  startupProbe: {}
  restartPolicy: Always
  nodeSelector: {}
  tolerations: []
  affinity: {}
  extraVolumes: []
  extraVolumeMounts: []
worker:
  image: ""
  logLevel: INFO
  resources: {}
  ports: {}
  deploymentAnnotations: {}
  envs_include_default: true
  environment: {}
  args: []
  command:
    - sh
    - /config/docker-entrypoint.sh
  initContainers: []
  restartPolicy: Always
  nodeSelector: {}
  tolerations: []
  affinity: {}
  extraVolumes: []
  extraVolumeMounts: []
nameOverride: ""
fullnameOverride: ""
imagePullSecrets: []
hostAliases: []
podSecurityContext: {}
securityContext: {}
extraConfigMaps: {}
nodeSelector: {}
tolerations: []
affinity: {}
extraLabels: {}
"#;

/// The defaults, read once (`the_defaults_read` holds the text to valid YAML, so the empty
/// mapping in its place is never used).
pub fn defaults() -> &'static crate::yaml::Node {
    static DEFAULTS_NODE: std::sync::OnceLock<crate::yaml::Node> = std::sync::OnceLock::new();
    DEFAULTS_NODE.get_or_init(|| {
        crate::yaml::parse_single(DEFAULTS).unwrap_or_else(|_| crate::yaml::Node::map())
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_defaults_read() {
        assert!(crate::yaml::parse_single(super::DEFAULTS).is_ok());
        let d = super::defaults();
        assert_eq!(
            d.get_path(&["master", "logLevel"]).and_then(|n| n.as_str()),
            Some("INFO")
        );
        assert!(d.get_path(&["master", "extraPorts"]).unwrap().is_null());
    }
}
