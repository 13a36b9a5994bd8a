#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs the pinned tools (cached in .tools/), then
# format check, clippy, and every test against real helm 3/4, kubectl, kubernetes-validate and checkov,
# and a real cluster (etcd, kube-apiserver, controller manager, scheduler, kwok fake nodes, Flux's
# source- and helm-controller: scripts/kube.sh up --flux, 7 s more than --nodes), started once and
# stopped on exit whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-tools.sh
# shellcheck disable=SC1091
source .tools/env
export LP_HELM3 LP_HELM4 LP_KUBECTL LP_VENV LP_HELMFILE LP_HELMFILE_HELM LP_YLS LP_KCP LP_KWOK LP_KWOK_STAGES LP_KWOK_CRDS LP_FLUX_SOURCE_CONTROLLER LP_FLUX_HELM_CONTROLLER LP_FLUX_CRDS
# The traps are set before `up` so that a failed or interrupted start is cleaned up too: the OCI
# registry tests/registry.rs pulls charts from, and the cluster.
trap 'bash scripts/registry.sh down; bash scripts/kube.sh down' EXIT
kube_exports="$(bash scripts/kube.sh up --flux)"
eval "$kube_exports"
eval "$(bash scripts/registry.sh up)"
export LP_REGISTRY
cargo fmt --check
cargo clippy --all-targets --quiet -- -D warnings
cargo test
# Benchmarks are built (not run) here, in the test profile whose artifacts the tests already
# made: that proves they compile and link, without the optimised build that measuring needs and
# that costs CI ten minutes; BENCHMARKS.md runs them with `cargo bench`.
cargo build --benches --quiet
