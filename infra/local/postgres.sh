#!/usr/bin/env bash
# Local PostgreSQL for the stack: our own cluster (not Debian's system cluster),
# data in $DATA_DIR/postgres, listening on 127.0.0.1:$PGPORT only, unix socket
# in $RUN_DIR/postgres, log in $LOG_DIR/postgres.log.
# Creates role xp/xp (LOGIN CREATEDB) and databases xp and schema_registry.
# Usage: postgres.sh install|start|stop|status|reset
PART=postgres
source "$(dirname "$0")/lib.sh"

PGDATA_DIR="$DATA_DIR/postgres"
PGSOCK_DIR="$RUN_DIR/postgres"
PG_OS_USER=postgres
XP_URL="postgresql://xp:xp@$XP_HOST:$PGPORT/xp"

# pg_bindir: newest /usr/lib/postgresql/*/bin holding a server binary.
pg_bindir() {
  local d best=""
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V); do
    [[ -x "$d/postgres" && -x "$d/initdb" ]] && best="$d"
  done
  [[ -n "$best" ]] && echo "$best"
}

BIN="$(pg_bindir || true)"
need_bin() { [[ -n "$BIN" ]] || die "PostgreSQL server binaries not found; run: $0 install"; }
# The cluster runs as the postgres OS user (PostgreSQL refuses root): switching needs root.
need_root() { [[ $EUID -eq 0 ]] || die "the local stack runs PostgreSQL as the postgres OS user, which needs root; run: sudo make up"; }

# as_pg CMD...: run CMD as the postgres OS user (from / so it never needs $PWD).
as_pg() { (cd / && runuser -u "$PG_OS_USER" -- "$@"); }

install_binaries() {
  if [[ -n "$BIN" ]]; then
    say "server binaries present: $BIN"
    return
  fi
  # postgresql: 15 on Debian 12, 16 on Ubuntu 24.04.
  apt_install "the PostgreSQL server" postgresql
  BIN="$(pg_bindir || true)"
  need_bin
  say "installed: $("$BIN/postgres" --version)"
}

# The Debian package creates (and, where services run, starts) a system cluster
# on 5432. Stop it and keep it from auto-starting so it never takes our port.
disable_system_clusters() {
  command -v pg_lsclusters >/dev/null 2>&1 || return 0
  local ver name port status
  while read -r ver name port status _; do
    [[ "$ver" =~ ^[0-9]+$ ]] || continue
    if [[ "$status" == online* ]]; then
      say "stopping Debian system cluster $ver/$name (port $port)"
      pg_ctlcluster "$ver" "$name" stop -m fast >/dev/null 2>&1 || true
    fi
    local sc="/etc/postgresql/$ver/$name/start.conf"
    if [[ -f "$sc" ]] && grep -qx 'auto' "$sc"; then
      say "setting Debian system cluster $ver/$name to start manually"
      sed -i 's/^auto$/manual/' "$sc"
    fi
  done < <(pg_lsclusters -h 2>/dev/null || true)
}

# The postgres user must be able to traverse every directory above its data.
ensure_traversable() {
  local d="$1"
  while [[ "$d" != "/" && -n "$d" ]]; do
    d="$(dirname "$d")"
    if ! runuser -u "$PG_OS_USER" -- test -x "$d"; then
      chmod o+x "$d"
    fi
  done
}

ensure_cluster() {
  need_bin
  id "$PG_OS_USER" >/dev/null 2>&1 || die "OS user $PG_OS_USER missing (installed by the postgresql package)"
  mkdir -p "$PGDATA_DIR" "$PGSOCK_DIR"
  chown "$PG_OS_USER:$PG_OS_USER" "$PGDATA_DIR" "$PGSOCK_DIR"
  chmod 700 "$PGDATA_DIR"
  chmod 755 "$PGSOCK_DIR"
  ensure_traversable "$PGDATA_DIR"
  if [[ ! -f "$PGDATA_DIR/PG_VERSION" ]]; then
    say "initdb $PGDATA_DIR"
    as_pg "$BIN/initdb" -D "$PGDATA_DIR" -U postgres -E UTF8 --locale=C.UTF-8 \
      --auth-local=peer --auth-host=scram-sha-256 >>"$(logfile postgres)" 2>&1 \
      || die "initdb failed; see $(logfile postgres)"
    cat >"$PGDATA_DIR/pg_hba.conf" <<'EOF'
# Local stack: peer auth on the unix socket, passwords (SCRAM) over TCP.
# TYPE  DATABASE  USER  ADDRESS        METHOD
local   all       all                  peer
host    all       all   127.0.0.1/32   scram-sha-256
EOF
    chown "$PG_OS_USER:$PG_OS_USER" "$PGDATA_DIR/pg_hba.conf"
    chmod 600 "$PGDATA_DIR/pg_hba.conf"
  fi
}

healthy() {
  "$BIN/pg_isready" -q -h "$XP_HOST" -p "$PGPORT" -U xp -d xp \
    && PGCONNECT_TIMEOUT=3 "$BIN/psql" "$XP_URL" -XAtqc 'select 1' >/dev/null 2>&1
}

socket_ready() { as_pg "$BIN/pg_isready" -q -h "$PGSOCK_DIR" -p "$PGPORT" -U postgres -d postgres; }

# Idempotent: role xp/xp and its two databases.
bootstrap_sql() {
  as_pg "$BIN/psql" -XAtq -v ON_ERROR_STOP=1 -h "$PGSOCK_DIR" -p "$PGPORT" -U postgres -d postgres <<'EOF' >/dev/null
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'xp') THEN
    CREATE ROLE xp LOGIN CREATEDB PASSWORD 'xp';
  END IF;
END $$;
ALTER ROLE xp LOGIN CREATEDB PASSWORD 'xp';
SELECT 'CREATE DATABASE xp OWNER xp' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'xp')\gexec
SELECT 'CREATE DATABASE schema_registry OWNER xp' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'schema_registry')\gexec
EOF
}

# Pid of a postmaster running on our data dir, from postmaster.pid (covers a
# lost pid file in $RUN_DIR).
data_dir_pid() {
  local f="$PGDATA_DIR/postmaster.pid" pid
  [[ -f "$f" ]] || return 1
  pid="$(head -n 1 "$f")"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null \
    && [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == postgres* ]] && echo "$pid"
}

cmd_install() {
  need_root
  install_binaries
  disable_system_clusters
  ensure_cluster
  say "installed ($("$BIN/postgres" --version))"
}

cmd_start() {
  need_root
  need_bin
  if is_running postgres; then
    wait_until postgres 30 healthy
    say "already running: $XP_URL"
    return 0
  fi
  local stray
  if stray="$(data_dir_pid)"; then
    echo "$stray" >"$(pidfile postgres)"
    wait_until postgres 30 healthy
    say "already running (adopted pid $stray): $XP_URL"
    return 0
  fi
  if port_open "$PGPORT"; then
    disable_system_clusters
    sleep 0.5
    port_open "$PGPORT" && die "port $XP_HOST:$PGPORT is taken by another process (not our cluster); free it or set PGPORT"
  fi
  ensure_cluster
  say "starting on $XP_HOST:$PGPORT"
  # setpriv execs (no intermediate process), so the pid file holds the postmaster.
  start_bg postgres setpriv --reuid="$PG_OS_USER" --regid="$PG_OS_USER" --init-groups \
    "$BIN/postgres" -D "$PGDATA_DIR" \
      -c listen_addresses="$XP_HOST" -c port="$PGPORT" \
      -c unix_socket_directories="$PGSOCK_DIR" \
      -c logging_collector=off -c log_destination=stderr \
      -c password_encryption=scram-sha-256
  wait_until postgres 60 socket_ready
  bootstrap_sql || die "creating role/databases failed; see $(logfile postgres)"
  wait_until postgres 30 healthy
  say "up: $XP_URL"
}

cmd_stop() {
  local pid f
  f="$(pidfile postgres)"
  pid=""
  [[ -f "$f" ]] && pid="$(cat "$f")"
  if ! { [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; }; then
    pid="$(data_dir_pid || true)"
  fi
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    say "stopping (fast shutdown, pid $pid)"
    kill -INT "$pid" 2>/dev/null || true          # SIGINT = fast shutdown
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      say "still running after 10s; immediate shutdown"
      kill -QUIT "$pid" 2>/dev/null || true        # SIGQUIT = immediate shutdown
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    kill -KILL -- "-$pid" 2>/dev/null || true      # leftovers in our session, if any
  fi
  rm -f "$f"
  say "stopped"
}

cmd_status() {
  if [[ -n "$BIN" ]] && { is_running postgres || data_dir_pid >/dev/null; } && healthy; then
    printf '%-16s %-5s %s\n' postgres up "$XP_URL"
  else
    printf '%-16s %s\n' postgres down
    return 1
  fi
}

cmd_reset() {
  cmd_stop
  say "deleting $PGDATA_DIR"
  rm -rf "$PGDATA_DIR" "$PGSOCK_DIR"
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  reset) cmd_reset ;;
  *) echo "usage: $0 install|start|stop|status|reset" >&2; exit 2 ;;
esac
