#!/usr/bin/env bash
# A real OCI registry on loopback for the test suite: the CNCF distribution registry from
# .tools/bin/registry (built by scripts/install-tools.sh from tools/registry), plain HTTP,
# filesystem storage. Tests push the chart to it with `helm push` and pull it through
# `--chart-repo oci://$LP_REGISTRY/charts`.
#
#   scripts/registry.sh up       start (or find running) and print its export
#   scripts/registry.sh status   print the export if it is up, else exit 1
#   scripts/registry.sh down     stop what `up` started, remove its state
#
# stdout carries only `export LP_REGISTRY=127.0.0.1:PORT` (eval it); progress goes to stderr.
# State (config, storage, log, pid) lives in LP_REGISTRY_DIR (default .tools/registry/run). A
# second `up` starts nothing and prints the same line. The registry runs in its own session
# (setsid); its pid and start time are recorded, and `down` ends its process group.
#
# Environment: LP_REGISTRY_DIR, LP_REGISTRY_BIN (default .tools/bin/registry),
# LP_REGISTRY_TIMEOUT (seconds to wait for readiness, default 60).
#
# Exit codes: 0 ok; 1 it failed, is down (status) or the binary is missing; 2 usage.
set -Eeuo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
run_dir="${LP_REGISTRY_DIR:-$root/.tools/registry/run}"
registry="${LP_REGISTRY_BIN:-$root/.tools/bin/registry}"
ready_timeout="${LP_REGISTRY_TIMEOUT:-60}"
# The marker that makes a directory ours: `down` removes nothing without it.
marker=.lp-registry-dir

exec 3>&2
log() { printf 'registry.sh: %s\n' "$*" >&3; }
die() { log "$*"; exit 1; }

usage() {
  sed -n '2,/^set -Eeuo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&3
  exit 2
}

# The state letter and start time (clock ticks since boot) of a pid, into proc_state and
# proc_started; the start time tells our process from an unrelated one that got its pid later.
proc_stat() {
  local stat
  proc_state="" proc_started=""
  { read -r stat < "/proc/$1/stat"; } 2>/dev/null || return 1
  stat="${stat##*) }"
  # shellcheck disable=SC2086 # split into fields on purpose
  set -- $stat
  proc_state="$1" proc_started="${20}"
}

alive() {
  local pid started
  [ -f "$run_dir/registry.pid" ] || return 1
  read -r pid started < "$run_dir/registry.pid"
  [ -n "$pid" ] && proc_stat "$pid" || return 1
  [ "$proc_started" = "$started" ] && [ "$proc_state" != Z ] && [ "$proc_state" != X ]
}

port() { cat "$run_dir/port"; }

exports() { printf 'export LP_REGISTRY=%q\n' "127.0.0.1:$(port)"; }

# The registry's API root answers 200 with the distribution API header.
ready() {
  curl -fsS -D "$run_dir/ready.headers" -o /dev/null "http://127.0.0.1:$(port)/v2/" &&
    grep -qi '^docker-distribution-api-version: registry/2.0' "$run_dir/ready.headers"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

stop() {
  local pid started i
  [ -f "$run_dir/registry.pid" ] || return 0
  read -r pid started < "$run_dir/registry.pid"
  if alive; then
    log "stopping the registry (pid $pid)"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      alive || break
      sleep 0.1
    done
    if alive; then
      log "the registry did not end on TERM; killing it"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$run_dir/registry.pid"
}

cmd_status() {
  [ -f "$run_dir/$marker" ] || { log "not running (no state in $run_dir); start it with scripts/registry.sh up"; return 1; }
  alive && ready || { log "down (state in $run_dir)"; return 1; }
  exports
}

cmd_down() {
  if [ ! -e "$run_dir" ]; then
    log "nothing to stop ($run_dir does not exist)"
    return 0
  fi
  [ -f "$run_dir/$marker" ] || die "$run_dir has no $marker: not a directory scripts/registry.sh made; not touching it"
  stop
  rm -rf "$run_dir"
  log "stopped; removed $run_dir"
}

up_failed() {
  trap - ERR INT TERM HUP
  if [ -f "$run_dir/registry.log" ]; then
    log "last 50 lines of $run_dir/registry.log:"
    tail -n 50 "$run_dir/registry.log" >&3 || true
  fi
  cmd_down >/dev/null 2>&1 || true
  log "up failed"
  exit 1
}

cmd_up() {
  [ "$#" -eq 0 ] || { log "unknown argument: $1"; usage; }
  if [ -f "$run_dir/$marker" ]; then
    if alive && ready; then
      log "already up (state in $run_dir)"
      exports
      return 0
    fi
    log "found a stopped registry in $run_dir; starting afresh"
    cmd_down
  fi
  [ -x "$registry" ] || die "the registry is not at $registry (run scripts/install-tools.sh, or set LP_REGISTRY_BIN)"
  command -v curl >/dev/null || die "curl is needed for the readiness check (apt-get install curl)"
  local began=$SECONDS
  mkdir -p "$run_dir/storage"
  : > "$run_dir/$marker"
  trap up_failed ERR
  trap up_failed INT TERM HUP
  free_port > "$run_dir/port"
  cat > "$run_dir/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $run_dir/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$(port)
EOF
  # No telemetry: the registry would otherwise try to export traces.
  OTEL_SDK_DISABLED=true OTEL_TRACES_EXPORTER=none \
    setsid "$registry" serve "$run_dir/config.yml" > "$run_dir/registry.log" 2>&1 < /dev/null &
  local pid=$!
  proc_stat "$pid" || { log "the registry exited at once"; false; }
  printf '%s %s\n' "$pid" "$proc_started" > "$run_dir/registry.pid"
  log "started the registry (pid $pid) on 127.0.0.1:$(port)"
  local deadline=$((SECONDS + ready_timeout))
  until ready 2>/dev/null; do
    alive || { log "the registry exited while starting"; false; }
    [ "$SECONDS" -lt "$deadline" ] || { log "the registry did not answer /v2/ after ${ready_timeout}s"; false; }
    sleep 0.2
  done
  trap - ERR INT TERM HUP
  log "up in $((SECONDS - began)) s"
  exports
}

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  status) cmd_status ;;
  down) cmd_down ;;
  *) usage ;;
esac
