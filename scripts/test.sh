#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs the pinned tools (cached in .tools/), then
# format check, clippy, and every test against real helm 3/4, kubectl, kubernetes-validate and checkov.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-tools.sh
# shellcheck disable=SC1091
source .tools/env
export LP_HELM3 LP_HELM4 LP_KUBECTL LP_VENV LP_HELMFILE LP_HELMFILE_HELM LP_YLS
# The OCI registry tests/registry.rs pulls charts from; stopped however the suite ends.
trap 'scripts/registry.sh down' EXIT
eval "$(scripts/registry.sh up)"
export LP_REGISTRY
cargo fmt --check
cargo clippy --all-targets --quiet -- -D warnings
cargo test
# Benchmarks are built (not run) here, in the test profile whose artifacts the tests already
# made: that proves they compile and link, without the optimised build that measuring needs and
# that costs CI ten minutes; BENCHMARKS.md runs them with `cargo bench`.
cargo build --benches --quiet
