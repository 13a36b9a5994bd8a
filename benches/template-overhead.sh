#!/usr/bin/env bash
# `locust-planton template` beside a bare `helm template` of the same chart and values, with
# Helm 3 and Helm 4: median wall time of RUNS runs each (interleaved, so load drifts hit all).
# A third row, helm itself running this binary as post-renderer (Helm 3: the path; Helm 4: the
# repository's plugin manifest through HELM_PLUGINS), shows what post-rendering costs inside helm.
# Run: cargo build --release && source .tools/env && benches/template-overhead.sh [RUNS]
# The chart is the local test chart (tests/charts/locust-mini): no network.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-31}
bin=${LP_BIN:-target/release/locust-planton}
example=${LP_EXAMPLE:-examples/checkout.yaml}
chart=${LP_CHART:-tests/charts/locust-mini}
[ -x "$bin" ] || { echo "build it first: cargo build --release" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Own Helm homes and caches: nothing of the user's is read or written.
export HOME="$work/home" XDG_CACHE_HOME="$work/cache" XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data"
export LOCUST_PLANTON_LOG="$work/post-render.log"
mkdir -p "$HOME"
"$bin" values -f "$example" --output-file "$work/values.yaml"
release=$(sed -n 's/^fullnameOverride: //p' "$work/values.yaml")
namespace=$("$bin" template -f "$example" --chart "$chart" --helm "${LP_HELM4:-helm}" 2>&1 >/dev/null | sed -n 's/^# namespace: //p')

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_ms() { # command… -> elapsed ms (3 decimals)
    local t0 t1
    t0=$(now); "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }; t1=$(now)
    awk -v d=$((t1 - t0)) 'BEGIN {printf "%.3f\n", d / 1e6}'
}

# The Helm 4 plugin, naming this binary by its absolute path.
mkdir -p "$work/plugins/locust-planton"
sed "s|command: locust-planton|command: $(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")|" \
    helm4-plugin/plugin.yaml >"$work/plugins/locust-planton/plugin.yaml"
abs_bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"

printf '%-8s %-34s %12s\n' helm command "median (ms)"
for helm in "${LP_HELM3:?source .tools/env}" "${LP_HELM4:?source .tools/env}"; do
    v=$("$helm" version --template '{{.Version}}')
    # One warm-up each (page cache; the version probe's cache is filled here).
    "$helm" template "$release" "$chart" --namespace "$namespace" --values "$work/values.yaml" >/dev/null
    "$bin" template -f "$example" --chart "$chart" --helm "$helm" >/dev/null 2>&1
    if "$helm" version --template '{{.Version}}' | grep -q '^v3'; then
        pr=(--post-renderer "$abs_bin" --post-renderer-args post-render); pr_env=()
    else
        pr=(--post-renderer locust-planton); pr_env=(env "HELM_PLUGINS=$work/plugins")
    fi
    : >"$work/bare"; : >"$work/lp"; : >"$work/pr"
    for _ in $(seq "$runs"); do
        time_ms "$helm" template "$release" "$chart" --namespace "$namespace" --values "$work/values.yaml" >>"$work/bare"
        time_ms "$bin" template -f "$example" --chart "$chart" --helm "$helm" >>"$work/lp"
        time_ms "${pr_env[@]}" "$helm" template "$release" "$chart" --namespace "$namespace" --values "$work/values.yaml" "${pr[@]}" >>"$work/pr"
    done
    bare=$(median <"$work/bare"); lp=$(median <"$work/lp"); pr_t=$(median <"$work/pr")
    printf '%-8s %-34s %12s\n' "$v" "helm template (bare)" "$bare"
    printf '%-8s %-34s %12s\n' "$v" "helm template --post-renderer" "$pr_t"
    printf '%-8s %-34s %12s\n' "$v" "locust-planton template" "$lp"
    awk -v a="$pr_t" -v b="$bare" -v v="$v" 'BEGIN {printf "%-8s %-34s %12.3f\n", v, "ratio helm+post-renderer / bare", a / b}'
    awk -v a="$lp" -v b="$bare" -v v="$v" 'BEGIN {printf "%-8s %-34s %12.3f\n", v, "ratio locust-planton / bare", a / b}'
done
echo "($runs runs each, $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg))"
