#!/usr/bin/env bash
# A real Kubernetes control plane on loopback for the test suite: etcd and kube-apiserver from
# .tools/bin/kcp (built by scripts/install-tools.sh), with generated certificates and
# service-account keys, RBAC and the default admission plugins (PodSecurity among them).
#
#   scripts/kube.sh up [--nodes] [--registry] [--flux]   start (or find running) and print exports
#   scripts/kube.sh status                                print the exports if all is up, else exit 1
#   scripts/kube.sh down                                  stop what `up` started, remove its state
#
# stdout carries only `export NAME=VALUE` lines (eval them); progress goes to stderr:
#   export KUBECONFIG=$LP_KUBE_DIR/admin.kubeconfig
#   export LP_KUBE_DIR=...            the state directory (default .tools/kube/run; set LP_KUBE_DIR to move it)
#   export LP_KUBE_NODES=lp-node-0    (with --nodes) the fake nodes kwok keeps Ready, comma-separated
#   export LP_FLUX_ARTIFACTS=http://127.0.0.1:PORT  (with --flux) source-controller's artifact server
# Later components add one line each (e.g. LP_REGISTRY=127.0.0.1:PORT); the shape never changes.
#
# `up` is ready only after a negative control: a privileged Pod in a namespace labelled
# pod-security.kubernetes.io/enforce=restricted must be refused by PodSecurity (and a restricted
# one admitted), so a server without admission can never pass. On failure it prints the failing
# component's last 50 log lines, stops what it started and exits 1. A second `up` starts nothing
# and prints the same lines. Every process runs in its own session (setsid); its pid and start
# time are recorded in LP_KUBE_DIR, and `down` ends each one's process group.
#
# --nodes adds kube-controller-manager and kube-scheduler (from the same kcp binary) and kwok
# (.tools/bin/kwok, the Kubernetes SIG's fake kubelet) managing one fake Node, lp-node-0: the Node
# is Ready, scheduled pods become Running/Ready with an IP from 10.0.0.0/24 (API data only, no
# container runs), deletions finish. kwok also serves the kubelet API on 127.0.0.1 (the API server
# reaches it with the admin client certificate): `kubectl logs` of any pod reads an empty log,
# unless a test creates a kwok `Logs` object (kwok.x-k8s.io/v1alpha1, named as the pod, in its
# namespace) naming a local log file; a kwok `Exec` object likewise runs `kubectl exec` locally,
# in kwok's own mount namespace where /opt/venv is LP_VENV and /home/locust/results is
# LP_KUBE_DIR/node/results (the image's Python and results folder: `report` reads them).
# Ready then also means: a restricted Deployment rolls out, and a non-compliant one gets a
# FailedCreate event naming PodSecurity. An `up` whose flags differ from the running control
# plane's restarts it.
#
# --flux (implies --nodes) adds Flux's source-controller and helm-controller (.tools/bin, the
# versions Flux v2.9.5 ships, built by install-tools.sh from tools/flux) after applying their CRDs
# (.tools/flux/crds.yaml). Outside a cluster they get: KUBECONFIG the admin one, no leader
# election, health and metrics on free loopback ports, and source-controller stores artifacts in
# LP_KUBE_DIR/flux-storage and serves them to helm-controller on 127.0.0.1 (--storage-addr and
# --storage-adv-addr, printed as LP_FLUX_ARTIFACTS). Ready then also means: a HelmRelease of a
# one-ConfigMap chart from a classic Helm repository (python3's http.server on loopback, stopped
# afterwards) reconciles Ready and its ConfigMap exists; the release is then uninstalled.
#
# Environment: LP_KUBE_DIR, LP_KCP (default .tools/bin/kcp), LP_KUBECTL (default
# .tools/helm4/kubectl), LP_KWOK (default .tools/bin/kwok), LP_KWOK_STAGES
# (default .tools/kwok/stages.yaml, kwok's own stages assembled by install-tools.sh), LP_KWOK_CRDS
# (default .tools/kwok/crds.yaml, kwok's Logs and Exec CRDs, likewise), LP_VENV (default
# .tools/venv, the fake node's /opt/venv), LP_KUBE_TIMEOUT (seconds
# to wait for readiness, default 180), LP_FLUX_SOURCE_CONTROLLER, LP_FLUX_HELM_CONTROLLER, LP_FLUX_CRDS
# (defaults .tools/bin/source-controller, .tools/bin/helm-controller, .tools/flux/crds.yaml),
# LP_HELM4 (default .tools/helm4/helm; --flux packages its readiness chart with it).
#
# Exit codes: 0 ok; 1 a component failed, is down (status) or a tool is missing; 2 usage.
set -Eeuo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
kube_dir="${LP_KUBE_DIR:-$root/.tools/kube/run}"
kcp="${LP_KCP:-$root/.tools/bin/kcp}"
kubectl="${LP_KUBECTL:-$root/.tools/helm4/kubectl}"
kwok="${LP_KWOK:-$root/.tools/bin/kwok}"
kwok_stages="${LP_KWOK_STAGES:-$root/.tools/kwok/stages.yaml}"
kwok_crds="${LP_KWOK_CRDS:-$root/.tools/kwok/crds.yaml}"
venv="${LP_VENV:-$root/.tools/venv}"
source_controller="${LP_FLUX_SOURCE_CONTROLLER:-$root/.tools/bin/source-controller}"
helm_controller="${LP_FLUX_HELM_CONTROLLER:-$root/.tools/bin/helm-controller}"
flux_crds="${LP_FLUX_CRDS:-$root/.tools/flux/crds.yaml}"
helm="${LP_HELM4:-$root/.tools/helm4/helm}"
ready_timeout="${LP_KUBE_TIMEOUT:-180}"
# The marker that makes a directory ours: `down` removes nothing without it.
marker=.lp-kube-dir
base_components=(etcd kube-apiserver)
node_components=(kube-controller-manager kube-scheduler kwok)
flux_components=(source-controller helm-controller)
# The components of the running control plane: written by `up` (LP_KUBE_DIR/components), read back
# by status/down.
components=("${base_components[@]}")
fake_node=lp-node-0
readiness_namespace=lp-kube-readiness

# Progress goes to fd 3, a copy of stderr made at start: a trap may run while a readiness
# probe's stderr is redirected away, and its message must still be seen.
exec 3>&2
log() { printf 'kube.sh: %s\n' "$*" >&3; }
die() { log "$*"; exit 1; }

usage() {
  sed -n '2,/^set -Eeuo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&3
  exit 2
}

# --- processes -------------------------------------------------------------------------------

# Reads a pid's state letter and start time (clock ticks since boot: fields 3 and 22 of
# /proc/PID/stat) into proc_state and proc_started, without a subshell: the readiness loops call
# it often, and a signal is handled at once only outside command substitutions. The start time
# tells a process we started from an unrelated one that got the same pid later.
proc_stat() {
  local stat
  proc_state="" proc_started=""
  { read -r stat < "/proc/$1/stat"; } 2>/dev/null || return 1
  stat="${stat##*) }"
  # After "pid (comm) " the state is the first field and the start time the 20th.
  # shellcheck disable=SC2086 # split into fields on purpose
  set -- $stat
  proc_state="$1" proc_started="${20}"
}

# Whether the component's recorded process is still the one we started, and not a zombie.
alive() {
  local record="$kube_dir/$1.pid" pid started
  [ -f "$record" ] || return 1
  read -r pid started < "$record"
  [ -n "$pid" ] && proc_stat "$pid" || return 1
  [ "$proc_started" = "$started" ] && [ "$proc_state" != Z ] && [ "$proc_state" != X ]
}

# Starts a component in a session of its own, logging to LP_KUBE_DIR/NAME.log, and records
# "pid start-time" in LP_KUBE_DIR/NAME.pid.
start() {
  local name="$1"; shift
  # setsid execs in place when its caller is not a group leader (a script's background job never
  # is), so $! is the component's own pid, and the session id equals it.
  # fd 3 (progress) is closed for it: a component holding it would keep a reader of our stderr
  # (a pipe) waiting after `up` returned.
  setsid "$@" > "$kube_dir/$name.log" 2>&1 < /dev/null 3>&- &
  local pid=$!
  proc_stat "$pid" || { log "$name exited at once"; return 1; }
  printf '%s %s\n' "$pid" "$proc_started" > "$kube_dir/$name.pid"
  log "started $name (pid $pid)"
}

# Ends the recorded process group of a component: TERM, then KILL after 10 s.
stop() {
  local name="$1" record="$kube_dir/$1.pid" pid started i
  [ -f "$record" ] || return 0
  read -r pid started < "$record"
  if alive "$name"; then
    log "stopping $name (pid $pid)"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      alive "$name" || break
      sleep 0.1
    done
    if alive "$name"; then
      log "$name did not end on TERM; killing it"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  # Whatever else is left in its group (the group id is the recorded pid).
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$record"
}

# --- state -----------------------------------------------------------------------------------

exports() {
  printf 'export KUBECONFIG=%q\n' "$kube_dir/admin.kubeconfig"
  printf 'export LP_KUBE_DIR=%q\n' "$kube_dir"
  if has_nodes; then printf 'export LP_KUBE_NODES=%q\n' "$fake_node"; fi
  if has_flux; then printf 'export LP_FLUX_ARTIFACTS=%q\n' "http://$(< "$kube_dir/flux-artifacts")"; fi
}

has_flux() {
  local name
  for name in "${components[@]}"; do [ "$name" = helm-controller ] && return 0; done
  return 1
}

has_nodes() {
  local name
  for name in "${components[@]}"; do [ "$name" = kwok ] && return 0; done
  return 1
}

load_components() {
  if [ -f "$kube_dir/components" ]; then read -r -a components < "$kube_dir/components"; fi
}

# Free loopback ports, bound all at once so they differ, then released for the components.
free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

last_log_lines() {
  local name="$1"
  log "last 50 lines of $kube_dir/$name.log:"
  tail -n 50 "$kube_dir/$name.log" >&3 2>/dev/null || true
}

# --- certificates ----------------------------------------------------------------------------

# A CA, the API server's serving certificate (for 127.0.0.1 and localhost), an admin client
# certificate in system:masters, and the service-account signing key. Valid for 7 days: the
# state lives no longer than a test run.
make_pki() {
  local pki="$kube_dir/pki"
  mkdir -p "$pki"
  (
    cd "$pki"
    openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj /CN=lp-kube-ca \
      -keyout ca.key -out ca.crt 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj /CN=kube-apiserver \
      -keyout apiserver.key -out apiserver.csr 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:10.96.0.1\nextendedKeyUsage=serverAuth\n' > apiserver.ext
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 7 \
      -extfile apiserver.ext -out apiserver.crt 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj '/O=system:masters/CN=lp-admin' \
      -keyout admin.key -out admin.csr 2>/dev/null
    printf 'extendedKeyUsage=clientAuth\n' > admin.ext
    openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 7 \
      -extfile admin.ext -out admin.crt 2>/dev/null
    openssl genrsa -out sa.key 2048 2>/dev/null
    rm -f ./*.csr ./*.ext ca.srl
    chmod 600 ./*.key
  )
}

write_kubeconfig() {
  local port="$1" pki="$kube_dir/pki"
  umask 077
  cat > "$kube_dir/admin.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: lp-kube
  cluster:
    server: https://127.0.0.1:$port
    certificate-authority-data: $(base64 -w0 < "$pki/ca.crt")
users:
- name: lp-admin
  user:
    client-certificate-data: $(base64 -w0 < "$pki/admin.crt")
    client-key-data: $(base64 -w0 < "$pki/admin.key")
contexts:
- name: lp-kube
  context:
    cluster: lp-kube
    user: lp-admin
current-context: lp-kube
EOF
}

# --- readiness -------------------------------------------------------------------------------

# Polls CHECK (a command) every 0.5 s until it succeeds; fails if the component dies or the
# timeout passes.
await() {
  local name="$1" what="$2"; shift 2
  local deadline=$((SECONDS + ready_timeout))
  until "$@" >/dev/null 2>&1; do
    alive "$name" || { log "$name exited while waiting for $what"; return 1; }
    [ "$SECONDS" -lt "$deadline" ] || { log "$name: no $what after ${ready_timeout}s"; return 1; }
    sleep 0.5
  done
}

etcd_healthy() { curl -fsS "http://127.0.0.1:$1/health" | grep -q '"health":"true"'; }
# The answer goes through a file, not a command substitution (see proc_stat).
apiserver_ready() {
  "$kubectl" --kubeconfig "$kube_dir/admin.kubeconfig" get --raw=/readyz > "$kube_dir/readyz" 2>/dev/null &&
    [ "$(< "$kube_dir/readyz")" = ok ]
}

kube() { "$kubectl" --kubeconfig "$kube_dir/admin.kubeconfig" "$@"; }

# `kubectl wait` on a CRD created a moment ago fails outright ("accessor error") while the CRD
# has no status yet, instead of waiting: each try is short and await repeats it.
established() { kube wait --for=condition=Established --timeout=2s "${@/#/crd/}"; }

# A Pod with the given container securityContext (JSON), for the admission controls.
control_pod() {
  cat <<EOF
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"$1","namespace":"$readiness_namespace"},
 "spec":{"containers":[{"name":"c","image":"registry.invalid/pause:1","securityContext":$2}]}}
EOF
}

# PodSecurity must be live: in an enforce=restricted namespace a privileged Pod is refused with
# PodSecurity's own message, and a restricted-clean one is admitted (so the refusal is PodSecurity's,
# not some other check's). Both are server-side dry runs: nothing is stored but the namespace.
admission_control() {
  kube apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Namespace
metadata:
  name: $readiness_namespace
  labels:
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/enforce-version: latest
---
# No controller manager runs to create it; the ServiceAccount admission plugin needs it.
apiVersion: v1
kind: ServiceAccount
metadata:
  name: default
  namespace: $readiness_namespace
EOF
  local out
  if out="$(control_pod privileged '{"privileged":true}' | kube create --dry-run=server -f - 2>&1)"; then
    log "negative control failed: a privileged Pod was admitted in an enforce=restricted namespace"
    return 1
  fi
  case "$out" in
    *'violates PodSecurity "restricted:latest"'*) ;;
    *) log "negative control: the privileged Pod was refused, but not by PodSecurity: $out"; return 1 ;;
  esac
  local restricted='{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]},"runAsNonRoot":true,"runAsUser":1000,"seccompProfile":{"type":"RuntimeDefault"}}'
  if ! out="$(control_pod restricted "$restricted" | kube create --dry-run=server -f - 2>&1)"; then
    log "positive control failed: a restricted Pod was refused: $out"
    return 1
  fi
  log "admission controls passed (privileged Pod refused by PodSecurity, restricted Pod admitted)"
}

# --- nodes (--nodes) --------------------------------------------------------------------------

# The fake Node kwok manages (it manages Nodes carrying the annotation below). Big enough for
# any test release; no taint, so the chart's pods need no toleration.
fake_node_manifest() {
  cat <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $fake_node
  annotations:
    kwok.x-k8s.io/node: fake
  labels:
    kubernetes.io/hostname: $fake_node
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
status:
  allocatable: {cpu: "32", memory: 256Gi, pods: "110"}
  capacity: {cpu: "32", memory: 256Gi, pods: "110"}
EOF
}

kcm_healthy() { curl -fsSk "https://127.0.0.1:$1/healthz" | grep -qx ok; }
default_service_account() { kube -n default get serviceaccount default; }
node_ready() { kube wait --for=condition=Ready "node/$fake_node" --timeout=2s; }

# The bwrap arguments of the fake node's filesystem, into the array node_mounts: tmpfs over /opt
# and /home with their entries bound back (bwrap reads bind sources from the old root, so a
# hidden path is still a source), then the image's two paths.
node_mounts=()
set_node_mounts() {
  local top entry
  for top in /opt /home; do
    node_mounts+=(--tmpfs "$top")
    for entry in "$top"/*; do
      if [ -e "$entry" ]; then node_mounts+=(--bind "$entry" "$entry"); fi
    done
  done
  node_mounts+=(--bind "$venv" /opt/venv --bind "$kube_dir/node/results" /home/locust/results)
}

# kube-controller-manager, kube-scheduler and kwok, each awaited; then the fake Node, Ready.
start_nodes() {
  local kcm_port="$1" scheduler_port="$2" kubelet_port="$3" pki="$kube_dir/pki"
  local kubeconfig="$kube_dir/admin.kubeconfig"
  failing=kube-controller-manager
  start kube-controller-manager "$kcp" kube-controller-manager \
    --kubeconfig="$kubeconfig" --authentication-kubeconfig="$kubeconfig" --authorization-kubeconfig="$kubeconfig" \
    --leader-elect=false --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
    --use-service-account-credentials=false --bind-address=127.0.0.1 --secure-port="$kcm_port" \
    --cert-dir="$kube_dir/kcm-certs" --kube-api-qps=100 --kube-api-burst=200 --v=1
  await kube-controller-manager "/healthz on port $kcm_port" kcm_healthy "$kcm_port"
  await kube-controller-manager "the default ServiceAccount" default_service_account
  log "kube-controller-manager ready ($((SECONDS - began)) s)"

  failing=kube-scheduler
  start kube-scheduler "$kcp" kube-scheduler \
    --kubeconfig="$kubeconfig" --authentication-kubeconfig="$kubeconfig" --authorization-kubeconfig="$kubeconfig" \
    --leader-elect=false --bind-address=127.0.0.1 --secure-port="$scheduler_port" \
    --cert-dir="$kube_dir/scheduler-certs" --v=1
  await kube-scheduler "/healthz on port $scheduler_port" kcm_healthy "$scheduler_port"
  log "kube-scheduler ready ($((SECONDS - began)) s)"

  failing=kwok
  kube apply --server-side -f "$kwok_crds" >/dev/null
  await kube-apiserver "kwok's CRDs Established" established logs.kwok.x-k8s.io execs.kwok.x-k8s.io
  : > "$kube_dir/empty.log"
  cat > "$kube_dir/kwok-logs.yaml" <<EOF
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata:
  name: lp-empty-logs
spec:
  logs:
  - logsFile: $kube_dir/empty.log
EOF
  # Its kubelet API (logs, exec) on loopback; the Node advertises that address and port. It serves
  # with the API server's certificate (valid for 127.0.0.1); the API server, as with any kubelet
  # given no --kubelet-certificate-authority, does not verify it.
  # kwok runs `kubectl exec` commands on this machine: in a mount namespace of its own (bwrap)
  # where the paths of the locust image the tool execs into exist — /opt/venv is the suite's
  # Python venv (Python and Locust, as in the image), /home/locust/results the fake node's
  # results folder, LP_KUBE_DIR/node/results, which a test fills with a real run's files. The
  # host's /opt and /home entries are bound back, so nothing outside changes.
  mkdir -p "$kube_dir/node/results"
  set_node_mounts
  start kwok bwrap --dev-bind / / "${node_mounts[@]}" -- "$kwok" --kubeconfig="$kubeconfig" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --manage-nodes-with-label-selector= --manage-single-node= \
    --cidr=10.0.0.0/24 --node-ip=127.0.0.1 --node-port="$kubelet_port" \
    --server-address="127.0.0.1:$kubelet_port" --node-lease-duration-seconds=40 \
    --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
    --config="$kwok_stages" --config="$kube_dir/kwok-logs.yaml" --enable-crds=Logs,Exec
  fake_node_manifest | kube apply -f - >/dev/null
  await kwok "node $fake_node Ready" node_ready
  log "kwok: node $fake_node Ready, kubelet API on 127.0.0.1:$kubelet_port ($((SECONDS - began)) s)"
}

control_deployment() {
  cat <<EOF
{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"$1","namespace":"$readiness_namespace"},
 "spec":{"replicas":1,"selector":{"matchLabels":{"app":"$1"}},
  "template":{"metadata":{"labels":{"app":"$1"}},
   "spec":{"automountServiceAccountToken":false,
    "containers":[{"name":"c","image":"registry.invalid/pause:1","securityContext":$2}]}}}}
EOF
}

rolled_out() { kube -n "$readiness_namespace" rollout status deployment/restricted --timeout=2s; }
# The answer goes through a file, not a command substitution (see proc_stat).
refused_by_pod_security() {
  kube -n "$readiness_namespace" get events --field-selector reason=FailedCreate \
    -o jsonpath='{range .items[*]}{.involvedObject.name}{" "}{.message}{"\n"}{end}' > "$kube_dir/events" &&
    grep -q '^privileged-.*violates PodSecurity "restricted:latest"' "$kube_dir/events"
}

# The whole chain: the deployment controller makes a ReplicaSet, the replicaset controller a Pod,
# PodSecurity admits it, the scheduler binds it to the fake Node and kwok makes it Ready. Then
# the negative control: a privileged template's Pods are refused, and the ReplicaSet records it.
rollout_control() {
  local restricted='{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]},"runAsNonRoot":true,"runAsUser":1000,"seccompProfile":{"type":"RuntimeDefault"}}'
  control_deployment restricted "$restricted" | kube apply -f - >/dev/null
  control_deployment privileged '{"privileged":true}' | kube apply -f - >/dev/null 2>&1
  await kube-controller-manager "the rollout of a restricted Deployment" rolled_out
  await kube-controller-manager "a FailedCreate event naming PodSecurity" refused_by_pod_security
  kube -n "$readiness_namespace" delete deployment restricted privileged --wait=false >/dev/null
  log "rollout controls passed (restricted Deployment Available on $fake_node, privileged one FailedCreate by PodSecurity)"
}

# --- Flux (--flux) ----------------------------------------------------------------------------

controller_ready() { curl -fsS "http://127.0.0.1:$1/readyz" | grep -qx ok; }

# source-controller and helm-controller against this cluster, each awaited on its /readyz.
# RUNTIME_NAMESPACE is where a controller in a cluster would run (its events name it); watching
# stays on all namespaces.
start_flux() {
  local artifacts_port="$1" sc_health="$2" sc_metrics="$3" hc_health="$4" hc_metrics="$5"
  failing="source-controller"
  kube apply --server-side -f "$flux_crds" >/dev/null
  await kube-apiserver "Flux's CRDs Established" established helmreleases.helm.toolkit.fluxcd.io \
    ocirepositories.source.toolkit.fluxcd.io helmrepositories.source.toolkit.fluxcd.io
  mkdir -p "$kube_dir/flux-storage"
  echo "127.0.0.1:$artifacts_port" > "$kube_dir/flux-artifacts"
  KUBECONFIG="$kube_dir/admin.kubeconfig" RUNTIME_NAMESPACE=flux-system start source-controller "$source_controller" \
    --enable-leader-election=false --storage-path="$kube_dir/flux-storage" \
    --storage-addr="127.0.0.1:$artifacts_port" --storage-adv-addr="127.0.0.1:$artifacts_port" \
    --health-addr="127.0.0.1:$sc_health" --metrics-addr="127.0.0.1:$sc_metrics" \
    --artifact-retention-ttl=10m
  await source-controller "/readyz on port $sc_health" controller_ready "$sc_health"
  log "source-controller ready, artifacts on http://127.0.0.1:$artifacts_port ($((SECONDS - began)) s)"

  failing="helm-controller"
  KUBECONFIG="$kube_dir/admin.kubeconfig" RUNTIME_NAMESPACE=flux-system start helm-controller "$helm_controller" \
    --enable-leader-election=false --health-addr="127.0.0.1:$hc_health" --metrics-addr="127.0.0.1:$hc_metrics"
  await helm-controller "/readyz on port $hc_health" controller_ready "$hc_health"
  log "helm-controller ready ($((SECONDS - began)) s)"
}

flux_readiness_namespace=lp-flux-readiness
release_ready() { kube -n "$flux_readiness_namespace" wait --for=condition=Ready helmrelease/readiness --timeout=2s; }
release_gone() { ! kube -n "$flux_readiness_namespace" get helmrelease/readiness; }

# The whole chain once: source-controller fetches a chart from a Helm repository and serves it
# as an artifact; helm-controller downloads that artifact and installs the release (its
# ConfigMap must exist); deleting the HelmRelease uninstalls it. The repository is a one-chart
# directory served by python3 on loopback for this check only.
flux_control() {
  local repo_port="$1" dir="$kube_dir/flux-readiness"
  mkdir -p "$dir/chart/templates" "$dir/repo"
  printf 'apiVersion: v2\nname: lp-flux-readiness\nversion: 0.1.0\n' > "$dir/chart/Chart.yaml"
  printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-installed\n' > "$dir/chart/templates/configmap.yaml"
  "$helm" package "$dir/chart" -d "$dir/repo" >/dev/null
  "$helm" repo index "$dir/repo"
  failing="flux-readiness-repo"
  start flux-readiness-repo python3 -m http.server --bind 127.0.0.1 --directory "$dir/repo" "$repo_port"
  kube apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Namespace
metadata:
  name: $flux_readiness_namespace
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: readiness
  namespace: $flux_readiness_namespace
spec:
  url: http://127.0.0.1:$repo_port
  interval: 1h
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: readiness
  namespace: $flux_readiness_namespace
spec:
  interval: 1h
  chart:
    spec:
      chart: lp-flux-readiness
      version: 0.1.0
      sourceRef:
        kind: HelmRepository
        name: readiness
EOF
  failing="helm-controller"
  await helm-controller "a Ready HelmRelease" release_ready
  kube -n "$flux_readiness_namespace" get configmap readiness-installed >/dev/null
  kube -n "$flux_readiness_namespace" delete helmrelease readiness --wait=false >/dev/null
  await helm-controller "the HelmRelease's uninstall" release_gone
  kube delete namespace "$flux_readiness_namespace" --wait=false >/dev/null
  stop flux-readiness-repo
  failing=""
  log "Flux control passed (a HelmRelease from a Helm repository installed, then uninstalled)"
}

# --- commands --------------------------------------------------------------------------------

all_up() {
  local name
  load_components
  for name in "${components[@]}"; do alive "$name" || return 1; done
  apiserver_ready
}

cmd_status() {
  local name down=()
  load_components
  if [ ! -f "$kube_dir/$marker" ]; then
    log "not running (no state in $kube_dir); start it with scripts/kube.sh up"
    return 1
  fi
  for name in "${components[@]}"; do alive "$name" || down+=("$name"); done
  if [ "${#down[@]}" -eq 0 ] && ! apiserver_ready; then down+=("kube-apiserver (not ready)"); fi
  if [ "${#down[@]}" -gt 0 ]; then
    log "down: ${down[*]} (state in $kube_dir)"
    return 1
  fi
  exports
}

cmd_down() {
  if [ ! -e "$kube_dir" ]; then
    log "nothing to stop ($kube_dir does not exist)"
    return 0
  fi
  [ -f "$kube_dir/$marker" ] || die "$kube_dir has no $marker: not a directory scripts/kube.sh made; not touching it"
  local i
  load_components
  # The readiness chart's server, if a failed `up` left it; then in reverse start order: Flux,
  # kwok and the controllers first, then the API server, then etcd.
  stop flux-readiness-repo
  for ((i = ${#components[@]} - 1; i >= 0; i--)); do stop "${components[$i]}"; done
  rm -rf "$kube_dir"
  log "stopped; removed $kube_dir"
}

# Runs on any failure or signal during `up`: show why, stop everything started, remove state.
up_failed() {
  local failing="$1"
  trap - ERR INT TERM HUP
  [ -n "$failing" ] && last_log_lines "$failing"
  cmd_down >/dev/null 2>&1 || true
  log "up failed${failing:+ ($failing)}"
  exit 1
}

cmd_up() {
  local flag nodes="" flux="" want=("${base_components[@]}")
  for flag in "$@"; do
    case "$flag" in
      --nodes) nodes=1 ;;
      --flux) flux=1 ;;
      --registry) die "$flag is not available yet: the registry is started by scripts/registry.sh up" ;;
      *) log "unknown flag: $flag"; usage ;;
    esac
  done
  # --flux implies --nodes: helm-controller's releases need pods to be made and scheduled.
  if [ -n "$nodes$flux" ]; then want+=("${node_components[@]}"); fi
  if [ -n "$flux" ]; then want+=("${flux_components[@]}"); fi
  if [ -f "$kube_dir/$marker" ]; then
    load_components
    if [ "${components[*]}" != "${want[*]}" ]; then
      log "running with components (${components[*]}), asked for (${want[*]}); restarting"
      cmd_down
    elif all_up; then
      log "already up (state in $kube_dir)"
      exports
      return 0
    fi
    log "found a partial control plane in $kube_dir; stopping it and starting afresh"
    cmd_down
  fi
  [ -x "$kcp" ] || die "kcp not found at $kcp (run scripts/install-tools.sh, or set LP_KCP)"
  components=("${want[@]}")
  if has_nodes; then
    [ -x "$kwok" ] || die "kwok not found at $kwok (run scripts/install-tools.sh, or set LP_KWOK)"
    [ -f "$kwok_stages" ] || die "kwok's stages not found at $kwok_stages (run scripts/install-tools.sh, or set LP_KWOK_STAGES)"
    [ -f "$kwok_crds" ] || die "kwok's CRDs not found at $kwok_crds (run scripts/install-tools.sh, or set LP_KWOK_CRDS)"
    [ -x "$venv/bin/python" ] || die "the venv the fake node serves as /opt/venv is missing at $venv (run scripts/install-tools.sh, or set LP_VENV)"
    command -v bwrap >/dev/null 2>&1 || die "bwrap (bubblewrap) not found: kwok runs in its mount namespace (run scripts/install-tools.sh)"
  fi
  if has_flux; then
    [ -x "$source_controller" ] || die "source-controller not found at $source_controller (run scripts/install-tools.sh, or set LP_FLUX_SOURCE_CONTROLLER)"
    [ -x "$helm_controller" ] || die "helm-controller not found at $helm_controller (run scripts/install-tools.sh, or set LP_FLUX_HELM_CONTROLLER)"
    [ -f "$flux_crds" ] || die "Flux's CRDs not found at $flux_crds (run scripts/install-tools.sh, or set LP_FLUX_CRDS)"
    [ -x "$helm" ] || die "helm not found at $helm (run scripts/install-tools.sh, or set LP_HELM4)"
  fi
  [ -x "$kubectl" ] || die "kubectl not found at $kubectl (run scripts/install-tools.sh, or set LP_KUBECTL)"
  command -v openssl >/dev/null || die "openssl is needed for the certificates (apt-get install openssl)"

  local began=$SECONDS failing=""
  mkdir -p "$kube_dir"
  : > "$kube_dir/$marker"
  echo "${components[*]}" > "$kube_dir/components"
  trap 'up_failed "$failing"' ERR
  trap 'failing=""; up_failed ""' INT TERM HUP

  make_pki
  local etcd_client etcd_peer apiserver_port kcm_port scheduler_port kubelet_port flux_ports
  read -r etcd_client etcd_peer apiserver_port kcm_port scheduler_port kubelet_port flux_ports <<< "$(free_ports 12)"
  write_kubeconfig "$apiserver_port"

  failing=etcd
  start etcd "$kcp" etcd \
    --name=lp-kube --data-dir="$kube_dir/etcd" \
    --listen-client-urls="http://127.0.0.1:$etcd_client" --advertise-client-urls="http://127.0.0.1:$etcd_client" \
    --listen-peer-urls="http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls="http://127.0.0.1:$etcd_peer" \
    --initial-cluster="lp-kube=http://127.0.0.1:$etcd_peer" \
    --unsafe-no-fsync --quota-backend-bytes=1073741824 --log-level=warn
  await etcd "health on port $etcd_client" etcd_healthy "$etcd_client"
  log "etcd healthy on 127.0.0.1:$etcd_client ($((SECONDS - began)) s)"

  failing=kube-apiserver
  local pki="$kube_dir/pki"
  # --advertise-address and --endpoint-reconciler-type=none: the machine may have no default
  # route, and the `kubernetes` Endpoints would otherwise hold a loopback address.
  # --allow-privileged: as on real clusters, so a privileged Pod reaches PodSecurity instead of
  # being refused by validation first. No --enable-admission-plugins: the defaults include
  # PodSecurity and ServiceAccount.
  start kube-apiserver "$kcp" kube-apiserver \
    --etcd-servers="http://127.0.0.1:$etcd_client" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$apiserver_port" \
    --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
    --client-ca-file="$pki/ca.crt" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$pki/sa.key" --service-account-signing-key-file="$pki/sa.key" \
    --service-cluster-ip-range=10.96.0.0/16 --authorization-mode=Node,RBAC \
    --allow-privileged=true --endpoint-reconciler-type=none --enable-priority-and-fairness=false \
    --kubelet-client-certificate="$pki/admin.crt" --kubelet-client-key="$pki/admin.key" \
    --cert-dir="$kube_dir/apiserver-certs" --v=1
  await kube-apiserver "/readyz" apiserver_ready
  log "kube-apiserver ready on https://127.0.0.1:$apiserver_port ($((SECONDS - began)) s)"
  admission_control
  if has_nodes; then
    start_nodes "$kcm_port" "$scheduler_port" "$kubelet_port"
    failing=""
    rollout_control
  fi
  if has_flux; then
    # shellcheck disable=SC2086 # the six Flux ports, split on purpose
    start_flux $flux_ports
    flux_control "${flux_ports##* }"
  fi

  trap - ERR INT TERM HUP
  log "up in $((SECONDS - began)) s; server $(kube version -o json 2>/dev/null | sed -n 's/.*"gitVersion": "\(v[^"]*\)".*/\1/p' | tail -1)"
  exports
}

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  status) shift; [ $# -eq 0 ] || usage; cmd_status ;;
  down) shift; [ $# -eq 0 ] || usage; cmd_down ;;
  *) usage ;;
esac
