#!/usr/bin/env bash
# in-root.sh TIMEOUT COMMAND...: inside the fresh root, as its user, in the
# clone: check that the machine is bare, run each COMMAND (a shell command
# line, e.g. "make demo") with its time, then `make down`. Writes
# /root/fresh-report/report.txt and one log per command beside it.
set -uo pipefail
TIMEOUT="$1"; shift
OUT=/root/fresh-report
mkdir -p "$OUT"
REPORT="$OUT/report.txt"
cd /root/xp || exit 1

fmt() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }
{
  echo "fresh root: $(. /etc/os-release && echo "$PRETTY_NAME"), $(dpkg-query -W -f '${Package}\n' | wc -l) packages, clone at $(git rev-parse --short HEAD)"
  # Nothing the project needs beyond the README's list may be here already.
  present=()
  for t in git make curl java mvn go node npm python3 psql gcc; do
    if command -v "$t" >/dev/null 2>&1; then present+=("$t"); fi
  done
  echo "on PATH before the first command: ${present[*]}"
} | tee "$REPORT"
for t in java mvn go node npm python3 psql; do
  if command -v "$t" >/dev/null 2>&1; then
    echo "NOT BARE: $t is already installed; the check would prove nothing" | tee -a "$REPORT"
    exit 1
  fi
done

# A command written "?CMD" runs only when the one before it failed (to see more
# of a failure, e.g. "make test;?make -k test-unit test-integration").
rc=0; n=0; last=0
for cmd in "$@"; do
  if [[ "$cmd" == '?'* ]]; then
    cmd="${cmd#?}"
    ((last != 0)) || continue
  fi
  n=$((n + 1))
  log="$cmd"; log="$OUT/$n-${log//[^A-Za-z0-9.]/-}.log"
  echo "=== $cmd (log: $log)"
  start=$SECONDS
  timeout --kill-after=30 "$TIMEOUT" bash -c "$cmd" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  took=$((SECONDS - start))
  last=$status
  if ((status == 0)); then result=passed; else result="FAILED (exit $status)"; rc=1; fi
  ((status == 124)) && result="TIMED OUT after $(fmt "$TIMEOUT")"
  printf '%-14s %-8s %s\n' "$cmd" "$(fmt "$took")" "$result" | tee -a "$REPORT"
done

echo "=== make down"
make down >"$OUT/make-down.log" 2>&1 || echo "make down failed (see $OUT/make-down.log)" | tee -a "$REPORT"
exit "$rc"
