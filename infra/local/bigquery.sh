#!/usr/bin/env bash
# Local BigQuery emulator: bqemulator (PyPI, DuckDB-backed) on 127.0.0.1:$BIGQUERY_PORT.
#
#   bigquery.sh install | start | stop | status | reset
#
# bqemulator runs `INSTALL spatial; LOAD spatial` at start-up and refuses to
# start without DuckDB's spatial extension. extensions.duckdb.org is not
# reachable here, so the extension comes from PyPI instead: the
# duckdb-extension-spatial wheel ships the .duckdb_extension file, built for
# exactly one duckdb release, so duckdb is pinned to the same version. The file
# is copied to $BQ_HOME/.duckdb/extensions/<duckdb version>/<platform>/ and the
# emulator runs with HOME=$BQ_HOME, so DuckDB finds it there (DuckDB has no
# environment variable for its extension directory; it defaults to
# $HOME/.duckdb/extensions) and INSTALL becomes a no-op. The avro extension is
# handled the same way (optional for bqemulator; it enables AVRO load jobs).
#
# Data: a DuckDB file in $DATA_DIR/bigquery (bqemulator --persistent --data-dir).
# Clients: REST on http://127.0.0.1:$BIGQUERY_PORT (no auth), gRPC Storage
# Read/Write API on 127.0.0.1:$BIGQUERY_GRPC_PORT.
# shellcheck disable=SC2034  # PART is read by lib.sh (say/die)
PART=bigquery
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

: "${BIGQUERY_GRPC_PORT:=9060}"
: "${BIGQUERY_PROJECT:=xp-local}"

BQEMULATOR_VERSION=1.4.0
# Must equal the duckdb-extension-* wheel versions (an extension binary loads
# only into the duckdb release it was built for; duckdb 2.x has no wheel yet).
DUCKDB_VERSION=1.5.5
# bqemulator 1.4.0 needs numpy at start-up (duckdb's create_function) but does
# not declare it.
NUMPY_VERSION=2.4.6
INSTALL_ID="bqemulator==$BQEMULATOR_VERSION duckdb==$DUCKDB_VERSION numpy==$NUMPY_VERSION duckdb-extension-spatial==$DUCKDB_VERSION duckdb-extension-avro==$DUCKDB_VERSION"

VENV="$TOOLS_DIR/bq-venv"
BQ_HOME="$TOOLS_DIR/bq-home"          # HOME of the emulator process
MARKER="$VENV/.xp-installed"
BQ_DATA="$DATA_DIR/bigquery"
URL="http://$XP_HOST:$BIGQUERY_PORT"
HEALTH_URL="$URL/bigquery/v2/projects/$BIGQUERY_PROJECT/datasets"

installed() {
  [[ -f "$MARKER" && "$(cat "$MARKER")" == "$INSTALL_ID" && -x "$VENV/bin/bqemulator" ]] &&
    compgen -G "$BQ_HOME/.duckdb/extensions/v$DUCKDB_VERSION/*/spatial.duckdb_extension" >/dev/null
}

pick_python() {
  local py
  for py in "${PYTHON:-}" python3 python3.13 python3.12 python3.11; do
    [[ -n "$py" ]] || continue
    command -v "$py" >/dev/null 2>&1 || continue
    if "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$py"; return 0
    fi
  done
  return 1
}

cmd_install() {
  if installed; then say "already installed ($VENV)"; return 0; fi
  local py t0=$SECONDS
  if ! py="$(pick_python)"; then
    # Debian 12's python3 is 3.11, Ubuntu 24.04's 3.12.
    apt_install "Python >= 3.11" python3 python3-venv
    py="$(pick_python)" || die "needs Python >= 3.11; install one and set PYTHON=/path/to/python3.11"
  fi
  # Debian splits venv's pip bootstrap (ensurepip) into python3-venv.
  "$py" -c 'import ensurepip, venv' 2>/dev/null || apt_install "Python's venv module" python3-venv
  say "installing $INSTALL_ID into $VENV (python: $("$py" -V 2>&1))"
  rm -rf "$VENV"
  "$py" -m venv "$VENV" || die "python -m venv failed"
  # shellcheck disable=SC2086  # INSTALL_ID is a list of requirement specs
  "$VENV/bin/pip" install --disable-pip-version-check --no-input -q $INSTALL_ID \
    || die "pip install failed"

  # Place the extension files where DuckDB looks for them under HOME=$BQ_HOME.
  local ext_dir src ext
  ext_dir="$(HOME="$BQ_HOME" "$VENV/bin/python" - <<'EOF'
import os, duckdb
c = duckdb.connect()
version = c.execute("PRAGMA version").fetchone()[0]      # e.g. v1.5.5
platform = c.execute("PRAGMA platform").fetchone()[0]    # e.g. linux_amd64
print(os.path.join(os.environ["HOME"], ".duckdb", "extensions", version, platform))
EOF
)" || die "could not ask duckdb for its version/platform"
  mkdir -p "$ext_dir"
  for ext in spatial avro; do
    src="$(find "$VENV"/lib/python3*/site-packages/duckdb_extension_$ext -name "$ext.duckdb_extension" | head -n 1)"
    [[ -n "$src" ]] || die "duckdb-extension-$ext wheel has no $ext.duckdb_extension"
    cp -f "$src" "$ext_dir/$ext.duckdb_extension"
  done

  # Prove both load offline, the way bqemulator does it.
  HOME="$BQ_HOME" "$VENV/bin/python" - <<'EOF' || die "DuckDB cannot load the bundled extensions"
import duckdb
c = duckdb.connect()
for ext in ("spatial", "avro"):
    c.execute(f"INSTALL {ext}"); c.execute(f"LOAD {ext}")
c.execute("SELECT ST_AsText(ST_Point(1, 2))").fetchall()
EOF
  echo "$INSTALL_ID" >"$MARKER"
  say "installed in $((SECONDS - t0))s; extensions in $ext_dir"
}

# healthy: a real REST call (datasets.list) answers 200.
healthy() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsS -m 5 -o /dev/null "$HEALTH_URL"
  else
    "$VENV/bin/python" -c 'import sys, urllib.request as u; u.urlopen(sys.argv[1], timeout=5)' "$HEALTH_URL"
  fi
}

cmd_start() {
  if is_running bigquery; then
    wait_until bigquery 30 healthy
    say "already running at $URL"; return 0
  fi
  installed || cmd_install
  local p
  for p in "$BIGQUERY_PORT" "$BIGQUERY_GRPC_PORT"; do
    port_open "$p" && die "port $XP_HOST:$p is already in use by another process"
  done
  mkdir -p "$BQ_DATA/uploads" "$BQ_DATA/gcs"
  say "starting bqemulator $BQEMULATOR_VERSION on $URL (gRPC :$BIGQUERY_GRPC_PORT, data $BQ_DATA)"
  # env -C: a .bqemu.toml in the working directory would be read as config.
  # bqemulator_launch.py: bqemulator with its concurrency defects worked around (see there).
  start_bg bigquery env -C "$BQ_DATA" \
    HOME="$BQ_HOME" \
    BQEMU_UPLOAD_STAGING_DIR="$BQ_DATA/uploads" \
    BQEMU_GCS_LOCAL_ROOT="$BQ_DATA/gcs" \
    "$VENV/bin/python" "$ROOT/infra/local/bqemulator_launch.py" start \
      --rest-host "$XP_HOST" --rest-port "$BIGQUERY_PORT" \
      --grpc-host "$XP_HOST" --grpc-port "$BIGQUERY_GRPC_PORT" \
      --persistent --data-dir "$BQ_DATA" \
      --project "$BIGQUERY_PROJECT" \
      --log-format json --log-level info
  wait_until bigquery 90 healthy
  say "up at $URL (project $BIGQUERY_PROJECT); log $(logfile bigquery)"
}

cmd_stop() {
  if is_running bigquery; then say "stopping"; fi
  stop_bg bigquery
}

cmd_status() {
  if is_running bigquery && healthy >/dev/null 2>&1; then
    printf '%-16s %-5s %s\n' bigquery up "$URL"
  else
    printf '%-16s %s\n' bigquery down
    return 1
  fi
}

cmd_reset() {
  cmd_stop
  rm -rf "$BQ_DATA"
  say "data deleted ($BQ_DATA)"
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  reset) cmd_reset ;;
  *) echo "usage: $0 install|start|stop|status|reset" >&2; exit 2 ;;
esac
