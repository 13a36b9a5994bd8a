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
test_log="$(mktemp)"
trap 'rm -f "$test_log"; bash scripts/registry.sh down; bash scripts/kube.sh down' EXIT
kube_exports="$(bash scripts/kube.sh up --flux)"
eval "$kube_exports"
eval "$(bash scripts/registry.sh up)"
export LP_REGISTRY
cargo fmt --check
# `tools`: the tests that drive the tools installed above (plain `cargo test` leaves them out).
cargo clippy --all-targets --features tools --quiet -- -D warnings
cargo test --features tools 2>&1 | tee "$test_log"
# A test lost (a file left out of the feature, a gate on the wrong test) must not pass
# unnoticed: the run executes at least the count docs/testing.md records.
ran="$(sed -n 's/^test result: ok\. \([0-9]*\) passed.*/\1/p' "$test_log" | awk '{n += $1} END {print n + 0}')"
recorded="$(sed -n 's/^test-count: \([0-9]*\)$/\1/p' docs/testing.md)"
if [ -z "$recorded" ]; then
  echo "scripts/test.sh: docs/testing.md has no 'test-count: N' line" >&2
  exit 1
fi
if [ "$ran" -lt "$recorded" ]; then
  echo "scripts/test.sh: cargo test ran $ran tests, fewer than the $recorded docs/testing.md records" >&2
  exit 1
fi
echo "scripts/test.sh: $ran tests passed (docs/testing.md records at least $recorded)" >&2
# Benchmarks are built (not run) here, in the test profile whose artifacts the tests already
# made: that proves they compile and link, without the optimised build that measuring needs and
# that costs CI ten minutes; BENCHMARKS.md runs them with `cargo bench`.
cargo build --benches --quiet
