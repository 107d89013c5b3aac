#!/usr/bin/env bash
# The local stack without Docker: `stack.sh up|down|status|reset|install [part...]`.
# Parts start in dependency order and stop in reverse.
source "$(dirname "$0")/lib.sh"
HERE="$(dirname "$0")"
PARTS=(postgres kafka schema-registry bigquery)
# Platform services join the stack once they exist (their main.ts is in the tree).
for svc in registry collector enricher sink results; do
  [[ -f "$ROOT/services/$svc/main.ts" ]] && PARTS+=("$svc")
done

# part PART CMD: run CMD for an infrastructure part or a service.
part() {
  if [[ -f "$HERE/$1.sh" ]]; then bash "$HERE/$1.sh" "$2"
  elif [[ "$2" == install ]]; then :  # services are built by `make build`
  else bash "$HERE/service.sh" "$1" "$2"; fi
}

cmd="${1:-status}"; shift || true
parts=("${@:-${PARTS[@]}}")
[[ $# -gt 0 ]] || parts=("${PARTS[@]}")

reverse() { local i; for ((i=$#; i>0; i--)); do echo "${!i}"; done; }

case "$cmd" in
  install)
    for p in "${parts[@]}"; do part "$p" install; done ;;
  up)
    start=$SECONDS
    # A failed (or interrupted) `up` stops, in reverse order, what it started;
    # parts that were already running are left alone.
    started=()
    stop_started() {
      local rc=$?
      trap - EXIT INT TERM
      if ((rc != 0 && ${#started[@]} > 0)); then
        say "start-up failed: stopping what this run started (${started[*]})"
        for p in $(reverse "${started[@]}"); do part "$p" stop >/dev/null 2>&1 || true; done
      fi
      exit "$rc"
    }
    trap stop_started EXIT
    trap 'exit 130' INT TERM
    for p in "${parts[@]}"; do
      part "$p" status >/dev/null 2>&1 || started+=("$p")
      part "$p" install
      part "$p" start
    done
    trap - EXIT INT TERM
    say "stack up in $((SECONDS - start))s"
    bash "$0" status "${parts[@]}" ;;
  down)
    for p in $(reverse "${parts[@]}"); do part "$p" stop; done ;;
  status)
    rc=0
    for p in "${parts[@]}"; do part "$p" status || rc=1; done
    echo "state and logs: $STACK_DIR"
    exit $rc ;;
  reset)
    for p in $(reverse "${parts[@]}"); do part "$p" reset; done ;;
  *) die "usage: stack.sh up|down|status|reset|install [part...]" ;;
esac
