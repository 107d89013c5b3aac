#!/usr/bin/env bash
# Runs one platform service from dist/ like the other parts of the stack:
#   service.sh NAME start|stop|status
# Local-only development settings (write key, bootstrap token) come from
# infra/local/dev.env; production configuration has no defaults for secrets.
source "$(dirname "$0")/lib.sh"
NAME="${1:?usage: service.sh NAME start|stop|status}"; PART="$NAME"
declare -A PORTS=([registry]=7070 [collector]=7071 [enricher]=7072 [sink]=7073 [results]=7074)
[[ -n "${PORTS[$NAME]:-}" ]] || die "unknown service $NAME"
PORT_VAR="${NAME^^}_PORT"           # e.g. COLLECTOR_PORT, as the service itself reads it
PORT="${!PORT_VAR:-${PORTS[$NAME]}}"
MAIN="$ROOT/dist/services/$NAME/main.js"

healthy() { curl -sf "http://$XP_HOST:$PORT/healthz" >/dev/null; }

case "${2:-status}" in
  start)
    if is_running "$NAME" && healthy; then say "already running on :$PORT"; exit 0; fi
    [[ -f "$MAIN" ]] || die "$MAIN not built; run make build"
    port_open "$PORT" && die "port $XP_HOST:$PORT is already in use"
    PATH="$(bash "$ROOT/infra/local/node.sh"):$PATH"
    set -a; source "$ROOT/infra/local/dev.env"; set +a
    # Addresses of the stack's parts follow its port variables (lib.sh).
    export "$PORT_VAR=$PORT"
    export KAFKA_BROKERS="${KAFKA_BROKERS:-$XP_HOST:$KAFKA_PORT}"
    export SCHEMA_REGISTRY_URL="${SCHEMA_REGISTRY_URL:-http://$XP_HOST:$SCHEMA_REGISTRY_PORT}"
    export DATABASE_URL="${DATABASE_URL:-postgresql://xp:xp@$XP_HOST:$PGPORT/xp}"
    export BIGQUERY_API_ENDPOINT="${BIGQUERY_API_ENDPOINT:-http://$XP_HOST:$BIGQUERY_PORT}"
    # The registry and the results service call each other (list experiments, record
    # summaries; refresh on demand).
    export RESULTS_REGISTRY_URL="${RESULTS_REGISTRY_URL:-http://$XP_HOST:${REGISTRY_PORT:-${PORTS[registry]}}}"
    export REGISTRY_RESULTS_URL="${REGISTRY_RESULTS_URL:-http://$XP_HOST:${RESULTS_PORT:-${PORTS[results]}}}"
    start_bg "$NAME" node --enable-source-maps "$MAIN"
    wait_until "$NAME" 60 healthy
    say "up: http://$XP_HOST:$PORT" ;;
  stop) stop_bg "$NAME" ;;
  status)
    if is_running "$NAME" && healthy; then printf '%-16s %-5s http://%s:%s\n' "$NAME" up "$XP_HOST" "$PORT"
    else printf '%-16s down\n' "$NAME"; exit 1; fi
    # The web console is served by the registry (console/dist, built by make build).
    if [[ "$NAME" == registry ]]; then
      if curl -sf "http://$XP_HOST:$PORT/console/" >/dev/null; then
        printf '%-16s %-5s http://%s:%s/console/\n' console up "$XP_HOST" "$PORT"
      else printf '%-16s down  (not built: make build)\n' console; fi
    fi ;;
  reset) stop_bg "$NAME" ;;
  *) die "usage: service.sh NAME start|stop|status" ;;
esac
