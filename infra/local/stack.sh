#!/usr/bin/env bash
# The local stack without Docker: `stack.sh up|down|status|reset|install [part...]`.
# Parts start in dependency order and stop in reverse.
source "$(dirname "$0")/lib.sh"
HERE="$(dirname "$0")"
PARTS=(postgres kafka schema-registry bigquery)

cmd="${1:-status}"; shift || true
parts=("${@:-${PARTS[@]}}")
[[ $# -gt 0 ]] || parts=("${PARTS[@]}")

reverse() { local i; for ((i=$#; i>0; i--)); do echo "${!i}"; done; }

case "$cmd" in
  install)
    for p in "${parts[@]}"; do bash "$HERE/$p.sh" install; done ;;
  up)
    start=$SECONDS
    for p in "${parts[@]}"; do bash "$HERE/$p.sh" install; bash "$HERE/$p.sh" start; done
    say "stack up in $((SECONDS - start))s"
    bash "$0" status "${parts[@]}" ;;
  down)
    for p in $(reverse "${parts[@]}"); do bash "$HERE/$p.sh" stop; done ;;
  status)
    rc=0
    for p in "${parts[@]}"; do bash "$HERE/$p.sh" status || rc=1; done
    echo "state and logs: $STACK_DIR"
    exit $rc ;;
  reset)
    for p in $(reverse "${parts[@]}"); do bash "$HERE/$p.sh" reset; done ;;
  *) die "usage: stack.sh up|down|status|reset|install [part...]" ;;
esac
