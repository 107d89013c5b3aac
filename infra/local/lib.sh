# Shared helpers for the local stack scripts (sourced, not run).
# Conventions: every part keeps tools, data, logs and pid files under $STACK_DIR
# (git-ignored), binds to 127.0.0.1 and takes its port from the environment.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STACK_DIR="${XP_STACK_DIR:-$ROOT/.stack}"
TOOLS_DIR="$STACK_DIR/tools"
DATA_DIR="$STACK_DIR/data"
LOG_DIR="$STACK_DIR/logs"
RUN_DIR="$STACK_DIR/run"
mkdir -p "$TOOLS_DIR" "$DATA_DIR" "$LOG_DIR" "$RUN_DIR"

# Ports and versions (defaults from docs/local-stack.md).
: "${XP_HOST:=127.0.0.1}"
: "${KAFKA_PORT:=9092}"
: "${KAFKA_CONTROLLER_PORT:=9093}"
: "${SCHEMA_REGISTRY_PORT:=8081}"
: "${PGPORT:=5432}"
: "${BIGQUERY_PORT:=9050}"
: "${KAFKA_VERSION:=4.4.0}"

say() { printf '\033[1m[%s]\033[0m %s\n' "${PART:-stack}" "$*" >&2; }
die() { printf '\033[31m[%s] error:\033[0m %s\n' "${PART:-stack}" "$*" >&2; exit 1; }

# apt_install WHAT PKG...: install the Debian/Ubuntu packages PKG... that provide
# WHAT. As root with apt-get, it just does it (refreshing stale package lists
# once); otherwise it stops with the one command that does it.
apt_install() {
  local what="$1"; shift
  command -v apt-get >/dev/null 2>&1 \
    || die "$what is missing and this is not a Debian/Ubuntu system; install $what (Debian package: $*) and run again"
  [[ $EUID -eq 0 ]] || die "$what is missing; run: sudo apt-get install -y $*"
  export DEBIAN_FRONTEND=noninteractive
  local log; log="$(logfile apt)"
  # Lists older than a day (or none, as on a fresh debootstrap) give 404s.
  if [[ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null | head -n 1)" ]]; then
    say "apt-get update"
    apt-get update -qq >>"$log" 2>&1 || die "apt-get update failed; see $log"
  fi
  say "installing $what from apt: $*"
  apt-get install -y -qq --no-install-recommends "$@" >>"$log" 2>&1 \
    || die "apt-get install failed; see $log; run: apt-get update && apt-get install -y $*"
}

# need_cmd CMD PKG...: CMD must be on PATH; installs PKG... with apt if it is not.
need_cmd() {
  local cmd="$1"; shift
  command -v "$cmd" >/dev/null 2>&1 && return 0
  apt_install "$cmd" "$@"
  command -v "$cmd" >/dev/null 2>&1 || die "$cmd still missing after installing $*"
}

pidfile() { echo "$RUN_DIR/$1.pid"; }
logfile() { echo "$LOG_DIR/$1.log"; }

# is_running NAME: the pid in NAME's pid file is alive.
is_running() {
  local f; f="$(pidfile "$1")"
  [[ -f "$f" ]] && kill -0 "$(cat "$f")" 2>/dev/null
}

# port_open PORT: something accepts TCP connections on $XP_HOST:PORT.
port_open() { (exec 3<>"/dev/tcp/$XP_HOST/$1") 2>/dev/null; }

# start_bg NAME CMD...: run CMD detached in its own session, log to NAME's log.
start_bg() {
  local name="$1"; shift
  setsid nohup "$@" >>"$(logfile "$name")" 2>&1 < /dev/null &
  echo $! >"$(pidfile "$name")"
}

# wait_until NAME SECONDS CHECK...: poll CHECK until it succeeds; on timeout
# fail with a message naming the part and its log.
wait_until() {
  local name="$1" secs="$2"; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if ! is_running "$name"; then
      die "$name exited during start-up; see $(logfile "$name") (last lines below)
$(tail -n 15 "$(logfile "$name")" 2>/dev/null)"
    fi
    (( SECONDS < deadline )) || die "$name not healthy after ${secs}s; see $(logfile "$name")"
    sleep 0.3
  done
}

# stop_bg NAME: SIGTERM the process group, then SIGKILL after a grace period.
stop_bg() {
  local name="$1" f pid
  f="$(pidfile "$name")"
  [[ -f "$f" ]] || return 0
  pid="$(cat "$f")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}
