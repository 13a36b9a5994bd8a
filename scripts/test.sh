#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs the pinned tools (cached in .tools/), then
# format check, clippy, and every test against real helm 3/4, kubectl, kubernetes-validate and checkov.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-tools.sh
# shellcheck disable=SC1091
source .tools/env
export LP_HELM3 LP_HELM4 LP_KUBECTL LP_VENV LP_HELMFILE LP_HELMFILE_HELM LP_YLS
cargo fmt --check
cargo clippy --all-targets --quiet -- -D warnings
cargo test
# Benchmarks are compiled (not run) here; see BENCHMARKS.md.
cargo bench --no-run --quiet
