//! Sizing guidance: about 1 CPU and 2 GiB of master for every ~100 workers (~20k RPS), and one
//! core per Locust process on workers. Used for warnings and by `plan`.

use super::extensions::Extensions;
use super::{Container, rules};
use crate::diag::Findings;

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
/// Worker processes one master core (and 2 GiB) keeps up with.
pub const WORKERS_PER_MASTER_CORE: f64 = 100.0;
/// Conservative per-process capacity of Locust's HttpUser (FastHttpUser does several times more).
pub const USERS_PER_PROCESS: f64 = 1000.0;
pub const RPS_PER_PROCESS: f64 = 500.0;

/// Master CPU (cores) and memory (bytes) for a number of worker processes.
pub fn master_needs(worker_processes: f64) -> (f64, f64) {
    let share = worker_processes / WORKERS_PER_MASTER_CORE;
    (share.max(0.5), (share * 2.0 * GIB).max(0.5 * GIB))
}

pub fn warn(master: &Container, worker: &Container, ext: &Extensions, d: &mut Findings) {
    let processes = ext.run.as_ref().map_or(1, |r| r.processes) as f64;
    let worker_processes = worker.replicas.max(0) as f64 * processes;
    let (cpu, mem) = master_needs(worker_processes);
    let limit = |q: &str| rules::quantity(q).ok();
    if worker_processes > 50.0 {
        if limit(&master.resources.limits_cpu).is_some_and(|c| c < cpu) {
            d.warn(
                "spec.masterContainer.resources.limits.cpu",
                format!(
                    "`{}` looks small for {worker_processes} worker processes: allow about 1 CPU per 100 (here {cpu:.1})",
                    master.resources.limits_cpu
                ),
            );
        }
        if limit(&master.resources.limits_memory).is_some_and(|m| m < mem) {
            d.warn(
                "spec.masterContainer.resources.limits.memory",
                format!(
                    "`{}` looks small for {worker_processes} worker processes: allow about 2Gi per 100 (here {:.1}Gi)",
                    master.resources.limits_memory,
                    mem / GIB
                ),
            );
        }
    }
    if limit(&worker.resources.limits_cpu).is_some_and(|c| c < processes) {
        d.warn(
            "spec.workerContainer.resources.limits.cpu",
            format!(
                "`{}` is less than one core per Locust process ({processes} per pod): Locust uses one core per process",
                worker.resources.limits_cpu
            ),
        );
    }
}

/// `plan`: workers and resources for a target load, with the reasoning.
pub fn plan(users: u64, rps: Option<f64>) -> String {
    let by_users = (users as f64 / USERS_PER_PROCESS).ceil();
    let by_rps = rps.map_or(0.0, |r| (r / RPS_PER_PROCESS).ceil());
    let workers = by_users.max(by_rps).max(1.0);
    let (cpu, mem) = master_needs(workers);
    let mut out = format!("# Plan for {users} users");
    if let Some(r) = rps {
        out.push_str(&format!(" at {r} requests/s"));
    }
    out.push_str(&format!(
        ".\n# One Locust process per core; a process drives about {USERS_PER_PROCESS} users or {RPS_PER_PROCESS} requests/s with HttpUser\n\
         # (FastHttpUser several times more): {by_users} worker(s) for the users"
    ));
    if rps.is_some() {
        out.push_str(&format!(", {by_rps} for the rate"));
    }
    out.push_str(&format!(
        ".\n# The master needs about 1 CPU and 2Gi per {WORKERS_PER_MASTER_CORE} workers (at least 500m/512Mi).\n\
         spec:\n  masterContainer:\n    replicas: 1\n    resources:\n      limits: {{cpu: {}m, memory: {}Mi}}\n      requests: {{cpu: {}m, memory: {}Mi}}\n  \
         workerContainer:\n    replicas: {workers}\n    resources:\n      limits: {{cpu: 1000m, memory: 1Gi}}\n      requests: {{cpu: 1000m, memory: 512Mi}}\n",
        (cpu * 1000.0).ceil() as u64,
        (mem / 1024.0 / 1024.0).ceil() as u64,
        (cpu * 1000.0).ceil() as u64,
        (mem / 1024.0 / 1024.0).ceil() as u64,
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_scales_workers_and_master() {
        let p = plan(20_000, Some(15_000.0));
        assert!(p.contains("replicas: 30"), "{p}");
        assert!(p.contains("limits: {cpu: 500m, memory: 615Mi}"), "{p}");
        let big = plan(250_000, None);
        assert!(
            big.contains("replicas: 250") && big.contains("limits: {cpu: 2500m, memory: 5120Mi}"),
            "{big}"
        );
    }
}
