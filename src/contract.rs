//! Names every stage shares: what `values` writes, the post-renderer enforces, `local` runs and
//! `ops` reads back. A leaf module: it imports nothing from the crate, so any stage may use it.
//! Changing one of these changes what the rendered pods look like (and so their golden files).

use std::path::PathBuf;

/// The image's `USER locust` is a name; kubelet needs a number to verify `runAsNonRoot`.
pub const RUN_AS_USER: i64 = 1000;
/// The UID of the high-UID profile (`--high-uid`), for scanners that want ≥ 10000.
pub const HIGH_UID: i64 = 10001;

/// Where the chart mounts the locustfile ConfigMap (its default); lib files go to `<this>/lib`.
pub const LOCUSTFILE_PATH: &str = "/mnt/locust";
/// Where the pip init container installs packages; the main container has it on PYTHONPATH.
pub const PIP_TARGET: &str = "/opt/locust-pip";
/// The image's Locust (the chart's `loadtest.locustCmd` default).
pub const LOCUST_BIN: &str = "/opt/venv/bin/locust";
pub const PIP_BIN: &str = "/opt/venv/bin/pip";
pub const PYTHON_BIN: &str = "/opt/venv/bin/python";

/// Writable directories for a read-only root file system: (volume, mount path).
pub const TMP_VOLUME: (&str, &str) = ("lp-tmp", "/tmp");
pub const HOME_VOLUME: (&str, &str) = ("lp-home", "/home/locust");
pub const PIP_VOLUME: (&str, &str) = ("lp-pip", PIP_TARGET);
/// The init container that installs `pipPackages` into `PIP_VOLUME`.
pub const PIP_INIT_CONTAINER: &str = "pip-install";

/// The line a headless run's master prints when the run ends: this prefix, then one JSON
/// object (`{"exitCode": N, …}`). `wait`, `status` and `local` look for it in the logs.
pub const RESULT_MARKER: &str = "locust-planton-result ";
/// Where the master writes a run's results: in its home emptyDir (`HOME_VOLUME`), so nothing
/// is added to the pod and the files live as long as the pod.
pub const RESULTS_DIR: &str = "/home/locust/results";
/// Files every headless run leaves in its results folder (Locust writes the CSVs only when it
/// got as far as running).
pub const RESULT_FILES: &[&str] = &[
    "report.html",
    "locust_stats.csv",
    "locust_stats_history.csv",
    "locust_failures.csv",
    "locust_exceptions.csv",
    "summary.json",
    "junit.xml",
];

/// The sha256 of the scripts a pod template uses; a changed script changes it and rolls pods.
pub const SCRIPTS_ANNOTATION: &str = "locust.project-planton.org/scripts-sha256";
/// `allow-<rule>: "true"` on an object or its pod template opts out of one hardening rule.
pub const OPT_OUT_PREFIX: &str = "locust.project-planton.org/allow-";
/// Names fields of a custom resource that are shaped like a pod spec but are not one.
pub const NOT_POD_SPECS_ANNOTATION: &str = "locust.project-planton.org/not-pod-specs";
/// Helm 4 marks each document with the template it came from; kept on rewritten documents.
pub const FILENAME_ANNOTATION: &str = "postrenderer.helm.sh/postrender-filename";

/// The user's cache folder for locust-planton: `$XDG_CACHE_HOME/locust-planton` or
/// `~/.cache/locust-planton` (verified charts, Locust virtualenvs).
pub fn cache_root() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|c| c.join("locust-planton"))
}
