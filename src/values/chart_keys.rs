//! The value paths the pinned chart (DeliveryHero locust 0.35.0) reads. The chart has no values
//! schema, so a misspelled key is silently ignored by Helm; this list (its defaults plus every
//! `.Values.…` its templates use, collected by hand from the 0.35.0 templates) lets us warn.
//! Entries ending in `.*` are open: any path below them is the user's (maps of labels, env, …).

const KNOWN: &[&str] = &[
    "affinity.*",
    "extraConfigMaps.*",
    "extraLabels.*",
    "extraObjects",
    "fullnameOverride",
    "hostAliases",
    "image.pullPolicy",
    "image.repository",
    "image.tag",
    "imagePullSecrets",
    "ingress.annotations.*",
    "ingress.className",
    "ingress.enabled",
    "ingress.hosts",
    "ingress.tls",
    "loadtest.environment.*",
    "loadtest.environment_external_secret.*",
    "loadtest.environment_load_from_secrets",
    "loadtest.environment_secret.*",
    "loadtest.excludeTags",
    "loadtest.headless",
    "loadtest.locustCmd",
    "loadtest.locust_host",
    "loadtest.locust_lib_configmap",
    "loadtest.locust_locustfile",
    "loadtest.locust_locustfile_configmap",
    "loadtest.locust_locustfile_path",
    "loadtest.locust_requirementsfile_path",
    "loadtest.mount_external_secret.*",
    "loadtest.name",
    "loadtest.pip_packages",
    "loadtest.pip_requirementsfile",
    "loadtest.pip_requirementsfile_configmap",
    "loadtest.tags",
    "nameOverride",
    "nodeSelector.*",
    "podSecurityContext.*",
    "securityContext.*",
    "service.annotations.*",
    "service.extraLabels.*",
    "service.loadBalancerIP",
    "service.nodePort",
    "service.port",
    "service.targetPort",
    "service.type",
    "tolerations",
    "master.affinity.*",
    "master.annotations.*",
    "master.args",
    "master.auth.enabled",
    "master.auth.password",
    "master.auth.username",
    "master.command",
    "master.deploymentAnnotations.*",
    "master.environment.*",
    "master.envs_include_default",
    "master.extraPorts",
    "master.extraVolumeMounts",
    "master.extraVolumes",
    "master.image",
    "master.image.tag",
    "master.initContainers",
    "master.lifecycle.*",
    "master.livenessProbe.*",
    "master.logLevel",
    "master.nodeSelector.*",
    "master.pdb.enabled",
    "master.readinessProbe.*",
    "master.replicas",
    "master.resources.*",
    "master.restartPolicy",
    "master.revisionHistoryLimit",
    "master.serviceAccountAnnotations.*",
    "master.startupProbe.*",
    "master.strategy.*",
    "master.terminationGracePeriodSeconds",
    "master.tolerations",
    "worker.affinity.*",
    "worker.annotations.*",
    "worker.args",
    "worker.command",
    "worker.config.configmapName",
    "worker.deploymentAnnotations.*",
    "worker.environment.*",
    "worker.envs_include_default",
    "worker.extraVolumeMounts",
    "worker.extraVolumes",
    "worker.hpa.enabled",
    "worker.hpa.maxReplicas",
    "worker.hpa.minReplicas",
    "worker.hpa.targetCPUUtilizationPercentage",
    "worker.image",
    "worker.image.tag",
    "worker.initContainers",
    "worker.keda.annotations.*",
    "worker.keda.cooldownPeriod",
    "worker.keda.enabled",
    "worker.keda.failureThreshold",
    "worker.keda.fallbackReplicas",
    "worker.keda.pollingInterval",
    "worker.keda.triggers",
    "worker.logLevel",
    "worker.nodeSelector.*",
    "worker.pdb.enabled",
    "worker.ports.*",
    "worker.replicas",
    "worker.resources.*",
    "worker.restartPolicy",
    "worker.revisionHistoryLimit",
    "worker.serviceAccountAnnotations.*",
    "worker.strategy.*",
    "worker.tolerations",
];

/// Whether the pinned chart reads `path` (a dotted value path). A prefix of a known path (a
/// whole block such as `worker.hpa`) counts as known.
pub fn is_known(path: &str) -> bool {
    KNOWN.iter().any(|k| match k.strip_suffix(".*") {
        Some(open) => {
            path == open
                || path.starts_with(&format!("{open}."))
                || open.starts_with(&format!("{path}."))
        }
        None => *k == path || k.starts_with(&format!("{path}.")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown() {
        assert!(is_known("worker.hpa.enabled"));
        assert!(is_known("worker.hpa"));
        assert!(is_known("master.resources.limits.cpu"));
        assert!(is_known("loadtest.environment.MY_VAR"));
        assert!(!is_known("worker.hpa.enable"));
        assert!(!is_known("master.replica"));
        assert!(!is_known("loadTest.name"));
    }
}
