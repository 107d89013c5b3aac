#!/usr/bin/env bash
# `make test-fresh`: the README's two commands on a bare Debian 12, timed.
#
#   1. debootstrap a minbase Debian 12 (bookworm) root from Debian's mirror, with
#      only what the README asks a user to install: git, make, curl (and the CA
#      certificates curl needs for https);
#   2. clone this repository (its HEAD) into /root/xp inside it;
#   3. run, as that machine's user (root), each command (default: `make demo`,
#      then `make test`), timing each, then `make down` (infra/fresh/in-root.sh);
#   4. print the report, keep the logs, delete the root.
#
# The root runs in its own PID and mount namespaces (unshare): when its first
# process ends, the kernel kills every process left in it and drops its
# mounts (/proc, /sys, /dev), so nothing outlives the run; cleanup() checks that
# too. It shares the host's network, so its stack listens on the default ports
# shifted by XP_FRESH_PORT_OFFSET (every port variable of infra/local/lib.sh and
# the services), next to a stack that may already run on the defaults.
#
# Env: XP_FRESH_DIR        work folder (default .stack/fresh); logs stay in it
#      XP_FRESH_COMMANDS   commands to run, separated by ';' (default "make demo;make test")
#      XP_FRESH_PORT_OFFSET  (default 10000)
#      XP_FRESH_MIRROR     Debian mirror (default http://deb.debian.org/debian)
#      XP_FRESH_SUITE      (default bookworm); XP_FRESH_KEEP=1 keeps the root
#      XP_FRESH_BASE       a tarball of a debootstrapped root to reuse (made on
#                          first use) — for iterating on this script only
#      XP_FRESH_TIMEOUT    seconds per command (default 3600)
PART=fresh
# shellcheck source-path=SCRIPTDIR source=../local/lib.sh
source "$(dirname "$0")/../local/lib.sh"
HERE="$(cd "$(dirname "$0")" && pwd)"

: "${XP_FRESH_DIR:=$STACK_DIR/fresh}"
: "${XP_FRESH_COMMANDS:=make demo;make test}"
: "${XP_FRESH_PORT_OFFSET:=10000}"
: "${XP_FRESH_MIRROR:=http://deb.debian.org/debian}"
: "${XP_FRESH_SUITE:=bookworm}"
: "${XP_FRESH_TIMEOUT:=3600}"
# What the README lists; ca-certificates comes with curl on any real install.
BASE_PACKAGES=git,make,curl,ca-certificates

[[ $EUID -eq 0 ]] || die "debootstrap, chroot and namespaces need root; run: sudo make test-fresh"
need_cmd debootstrap debootstrap
need_cmd unshare util-linux
[[ -f /usr/share/keyrings/debian-archive-keyring.gpg ]] || apt_install "Debian's archive keyring" debian-archive-keyring

RUN="$XP_FRESH_DIR/run-$(date +%Y%m%d-%H%M%S)"
R="$RUN/root"                      # the fresh machine's /
mkdir -p "$RUN"
RUN="$(cd "$RUN" && pwd)"; R="$RUN/root"
NS_PID=""

# ---------------------------------------------------------------- cleanup ---

# pids_in_root: processes whose root directory is inside $R (none once the
# namespace has ended; checked anyway).
pids_in_root() {
  local p link
  for p in /proc/[0-9]*; do
    link="$(readlink "$p/root" 2>/dev/null)" || continue
    [[ "$link" == "$R" || "$link" == "$R"/* ]] && echo "${p#/proc/}"
  done
  return 0
}
mounts_in_root() { awk -v r="$R" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r; }

cleanup() {
  local rc=$? pid m
  trap - EXIT INT TERM
  if [[ -n "$NS_PID" ]] && kill -0 "$NS_PID" 2>/dev/null; then
    kill -TERM "$NS_PID" 2>/dev/null || true   # unshare --kill-child takes the namespace down
    for _ in $(seq 1 50); do kill -0 "$NS_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$NS_PID" 2>/dev/null || true
  fi
  for pid in $(pids_in_root); do kill -KILL "$pid" 2>/dev/null || true; done
  for m in $(mounts_in_root); do umount -l "$m" 2>/dev/null || true; done
  local left_p left_m
  left_p="$(pids_in_root | xargs)"; left_m="$(mounts_in_root | xargs)"
  if [[ -n "$left_p$left_m" ]]; then
    say "left behind: processes [$left_p] mounts [$left_m]; root kept at $R"
    rc=1
  elif [[ "${XP_FRESH_KEEP:-0}" == 1 ]]; then
    say "no process or mount left; root kept at $R"
  elif [[ -d "$R" ]]; then
    rm -rf --one-file-system "$R"
    say "no process or mount left; root deleted (logs in $RUN)"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------- the machine ---

# Ports: every default shifted by the offset, all free on this host.
declare -A PORTS=(
  [PGPORT]=5432 [KAFKA_PORT]=9092 [KAFKA_CONTROLLER_PORT]=9093 [SCHEMA_REGISTRY_PORT]=8081
  [BIGQUERY_PORT]=9050 [BIGQUERY_GRPC_PORT]=9060 [REGISTRY_PORT]=7070 [COLLECTOR_PORT]=7071
  [ENRICHER_PORT]=7072 [SINK_PORT]=7073 [RESULTS_PORT]=7074
)
ENV=()
for v in "${!PORTS[@]}"; do
  p=$((PORTS[$v] + XP_FRESH_PORT_OFFSET))
  port_open "$p" && die "port $p ($v) is in use on this host; set XP_FRESH_PORT_OFFSET to another offset"
  ENV+=("$v=$p")
done
# Some clients read an address rather than a port (scripts/demo.ts reads only
# these): set every address too, so nothing can reach the host's stack.
o=$XP_FRESH_PORT_OFFSET
ENV+=("XP_REGISTRY_URL=http://127.0.0.1:$((7070 + o))" "XP_COLLECTOR_URL=http://127.0.0.1:$((7071 + o))"
      "KAFKA_BROKERS=127.0.0.1:$((9092 + o))" "SCHEMA_REGISTRY_URL=http://127.0.0.1:$((8081 + o))"
      "DATABASE_URL=postgresql://xp:xp@127.0.0.1:$((5432 + o))/xp"
      "BIGQUERY_API_ENDPOINT=http://127.0.0.1:$((9050 + o))")

t0=$SECONDS
if [[ -n "${XP_FRESH_BASE:-}" && -f "$XP_FRESH_BASE" ]]; then
  say "unpacking the base root $XP_FRESH_BASE"
  mkdir -p "$R" && tar -xzf "$XP_FRESH_BASE" -C "$R"
else
  say "debootstrap --variant=minbase $XP_FRESH_SUITE ($BASE_PACKAGES) from $XP_FRESH_MIRROR into $R"
  debootstrap --variant=minbase --include="$BASE_PACKAGES" "$XP_FRESH_SUITE" "$R" "$XP_FRESH_MIRROR" \
    >"$RUN/debootstrap.log" 2>&1 || die "debootstrap failed; see $RUN/debootstrap.log
$(tail -n 5 "$RUN/debootstrap.log")"
  [[ -n "${XP_FRESH_BASE:-}" ]] && tar -czf "$XP_FRESH_BASE" -C "$R" .
fi
say "bare root ready in $((SECONDS - t0))s"
bash "$HERE/prepare-root.sh" "$R" "$XP_FRESH_MIRROR" "$XP_FRESH_SUITE" >"$RUN/prepare.log" 2>&1 \
  || die "preparing the root failed; see $RUN/prepare.log
$(tail -n 5 "$RUN/prepare.log")"
# The sandbox's TLS-inspecting egress: prepare-root.sh trusted the host's extra CA
# certificates; Node (and pip in a venv) read their own stores, so point them at
# the system's. On an ordinary network there are none and nothing is set.
if [[ -s "$R/usr/local/share/ca-certificates/.host-extra" ]]; then
  ENV+=("NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt" "PIP_CERT=/etc/ssl/certs/ca-certificates.crt")
fi

say "cloning $(git -C "$ROOT" rev-parse --short HEAD) of $ROOT into /root/xp"
git clone -q --no-hardlinks "$ROOT" "$R/root/xp" || die "git clone failed"
cp "$HERE/in-root.sh" "$R/root/.in-root.sh"   # this copy, even if HEAD's differs

# ---------------------------------------------------------------- the run ---

IFS=';' read -ra CMDS <<<"$XP_FRESH_COMMANDS"
say "running in the fresh root: ${CMDS[*]} (ports +$XP_FRESH_PORT_OFFSET; log $RUN/run.log)"
unshare --pid --mount --propagation private --fork --kill-child=SIGKILL -- \
  bash "$HERE/namespace.sh" "$R" "$XP_FRESH_TIMEOUT" "${ENV[@]}" -- "${CMDS[@]}" \
  > >(tee "$RUN/run.log") 2>&1 &
NS_PID=$!
rc=0; wait "$NS_PID" || rc=$?
NS_PID=""

cp -r "$R/root/fresh-report" "$RUN/" 2>/dev/null || true
[[ -d "$R/root/xp/.stack/logs" ]] && cp -r "$R/root/xp/.stack/logs" "$RUN/stack-logs"
echo
cat "$RUN/fresh-report/report.txt" 2>/dev/null || say "no report (the run ended early; see $RUN/run.log)"
echo "logs: $RUN"
exit "$rc"
