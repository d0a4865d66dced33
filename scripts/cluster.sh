#!/usr/bin/env bash
# A skymap-scanner cluster on one machine, every process from the image: one server and N clients that
# share nothing but the broker (RabbitMQ) and the output folder (the server's only).
#
#   scripts/cluster.sh EVENT_FILE [--clients N] [--reco-algo NAME] [--nsides "8:0 64:12"] [--geometry CSV]
#                      [--output DIR] [--scan-id ID] [--broker URL] [--image TAG] [--runner docker|podman|buildah]
#                      [--own-broker] [-- extra server options]
#
# Broker: --broker URL, else amqp://guest:guest@127.0.0.1:5672/ when it answers, else (or with --own-broker)
# a private RabbitMQ started here (the Debian rabbitmq-server, on a free loopback port, stopped at the end).
# Runner: docker run / podman run (--network host), or -- where those are refused (no daemon; sandboxes
# refusing podman's setrlimit) -- `buildah run --isolation chroot`, which uses the host's network.
# Clients find the scan by broker URL + scan id; the event and settings reach them as the startup
# payload through the broker, so they start before or after the server and need no input files.
# Logs: DIR/logs/server.log, DIR/logs/client-<i>.log; the exit code is the server's (or the first
# failing client's).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)

IMAGE=localhost/skymap-scanner:latest
CLIENTS=2
RECO=dummy
NSIDES="8:0"
GEOMETRY=
OUTPUT=
SCAN_ID=
BROKER=
RUNNER=
EVENT=
EXTRA=()
OWN_BROKER=0
die() { echo "cluster: $*" >&2; exit 1; }
log() { echo "cluster: $*" >&2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --clients) CLIENTS=$2; shift 2 ;;
    --reco-algo) RECO=$2; shift 2 ;;
    --nsides) NSIDES=$2; shift 2 ;;
    --geometry) GEOMETRY=$2; shift 2 ;;
    --output|-o) OUTPUT=$2; shift 2 ;;
    --scan-id) SCAN_ID=$2; shift 2 ;;
    --broker) BROKER=$2; shift 2 ;;
    --own-broker) OWN_BROKER=1; shift ;;
    --image) IMAGE=$2; shift 2 ;;
    --runner) RUNNER=$2; shift 2 ;;
    --) shift; EXTRA=("$@"); break ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) [ -z "$EVENT" ] || die "one event file only"; EVENT=$1; shift ;;
  esac
done
[ -n "$EVENT" ] && [ -f "$EVENT" ] || die "usage: scripts/cluster.sh EVENT_FILE [options] (see --help)"
EVENT=$(cd "$(dirname "$EVENT")" && pwd)/$(basename "$EVENT")
SCAN_ID=${SCAN_ID:-cluster-$(date +%s)-$$}
OUTPUT=${OUTPUT:-$ROOT/cluster-output/$SCAN_ID}
mkdir -p "$OUTPUT/logs"
OUTPUT=$(cd "$OUTPUT" && pwd)
# the image runs as uid 10001 (gid 0): let it write the output folder
if [ "$(id -u)" = 0 ]; then chown -R 10001:0 "$OUTPUT"; else chmod -R a+rwX "$OUTPUT"; fi

# ---- broker -----------------------------------------------------------------------------------------------
PIDS=()
WORK=$(mktemp -d "${TMPDIR:-/tmp}/skymap-cluster.XXXXXX")
CONTAINERS=()
kill_tree() {  # a process this script started, and its descendants (buildah run's children are host processes)
  local child
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do kill_tree "$child"; done
  kill "$1" 2>/dev/null || true
}
cleanup() {
  local p c
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill_tree "$p"; done
  for c in "${CONTAINERS[@]:-}"; do [ -n "$c" ] && buildah rm "$c" >/dev/null 2>&1 || true; done
  for p in "${BROKER_PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
BROKER_PIDS=()
answers() {  # host port
  timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
start_rabbitmq() {
  local server=/usr/lib/rabbitmq/bin/rabbitmq-server port dist epmd_port
  [ -x "$server" ] || { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null 2>&1; } ||
    die "no broker answers and rabbitmq-server is not installed (apt-get install rabbitmq-server, or --broker URL)"
  port=$(free_port); dist=$(free_port); epmd_port=$(free_port)
  local d=$WORK/rabbitmq
  mkdir -p "$d"
  echo "listeners.tcp.default = 127.0.0.1:$port" > "$d/rabbitmq.conf"
  echo "[]." > "$d/enabled_plugins"; : > "$d/rabbitmq-env.conf"
  export HOME_SAVED=$HOME
  (
    export HOME=$d RABBITMQ_MNESIA_BASE=$d/mnesia RABBITMQ_LOG_BASE=$d/log RABBITMQ_CONFIG_FILE=$d/rabbitmq.conf \
      RABBITMQ_ENABLED_PLUGINS_FILE=$d/enabled_plugins RABBITMQ_CONF_ENV_FILE=$d/rabbitmq-env.conf \
      RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$port RABBITMQ_DIST_PORT=$dist \
      RABBITMQ_NODENAME=skyscan-cluster-$$@localhost ERL_EPMD_PORT=$epmd_port ERL_EPMD_ADDRESS=127.0.0.1 \
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
    /usr/bin/epmd -address 127.0.0.1 -port "$epmd_port" &
    echo $! > "$d/epmd.pid"
    exec "$server" > "$d/rabbitmq.out" 2>&1
  ) &
  BROKER_PIDS+=($!)
  for _ in $(seq 90); do answers 127.0.0.1 "$port" && break; sleep 1; done
  BROKER_PIDS+=("$(cat "$d/epmd.pid")")
  answers 127.0.0.1 "$port" || { tail -20 "$d/rabbitmq.out" >&2; die "the private RabbitMQ did not start"; }
  BROKER=amqp://guest:guest@127.0.0.1:$port/
  log "started a private RabbitMQ at $BROKER"
}
if [ -z "$BROKER" ]; then
  if [ "$OWN_BROKER" = 0 ] && answers 127.0.0.1 5672; then BROKER=amqp://guest:guest@127.0.0.1:5672/; else start_rabbitmq; fi
fi
log "broker $BROKER, scan id $SCAN_ID, output $OUTPUT"

# ---- runner -----------------------------------------------------------------------------------------------
if [ -z "$RUNNER" ]; then
  if command -v docker >/dev/null && timeout 20 docker info >/dev/null 2>&1; then RUNNER=docker
  elif command -v podman >/dev/null && timeout 60 podman run --rm --network host --entrypoint true "$IMAGE" >/dev/null 2>&1; then RUNNER=podman
  elif command -v buildah >/dev/null; then RUNNER=buildah
  else die "none of docker, podman, buildah can run $IMAGE here"; fi
fi
# run_in_image NAME LOGFILE ARGS...   (in the background; mounts: output rw at /data, the inputs ro at /input:
# copies, readable by the image's user wherever the originals are)
mkdir -p "$WORK/input"
cp "$EVENT" "$WORK/input/"
[ -z "$GEOMETRY" ] || cp "$GEOMETRY" "$WORK/input/"
# the scan's secret (every broker message is authenticated with it, docs/brokers.md): made here and handed
# to the server and the clients through the read-only input mount, never through the broker
python3 -c 'import secrets; print(secrets.token_hex(32))' > "$WORK/input/scan-secret"
chmod -R a+rX "$WORK/input"
MOUNTS=(-v "$OUTPUT:/data" -v "$WORK/input:/input:ro")
run_in_image() {
  local name=$1 logfile=$2; shift 2
  case "$RUNNER" in
    docker|podman)
      "$RUNNER" run --rm --name "$SCAN_ID-$name" --network host "${MOUNTS[@]}" "$IMAGE" "$@" > "$logfile" 2>&1 & ;;
    buildah)
      local c; c=$(buildah from --quiet --name "$SCAN_ID-$name" "$IMAGE")
      CONTAINERS+=("$c")
      buildah run --isolation chroot "${MOUNTS[@]}" "$c" -- /usr/local/bin/skymap-scanner-entrypoint "$@" \
        > "$logfile" 2>&1 & ;;
  esac
  PIDS+=($!)
  LAST_PID=$!
}

# ---- server, then clients (they wait for the startup payload; the order does not matter) -----------------
SERVER_ARGS=(server "/input/$(basename "$EVENT")" --broker "$BROKER" --scan-id "$SCAN_ID" --reco-algo "$RECO"
             --nsides "$NSIDES" --output-dir /data --scan-secret-file /input/scan-secret)
[ -z "$GEOMETRY" ] || SERVER_ARGS+=(--geometry "/input/$(basename "$GEOMETRY")")
start=$(date +%s)
run_in_image server "$OUTPUT/logs/server.log" "${SERVER_ARGS[@]}" "${EXTRA[@]}"
server_pid=$LAST_PID
client_pids=()
for i in $(seq 1 "$CLIENTS"); do
  run_in_image "client-$i" "$OUTPUT/logs/client-$i.log" client --broker "$BROKER" --scan-id "$SCAN_ID" \
    --scan-secret-file /input/scan-secret --name "client-$i"
  client_pids+=("$LAST_PID")
done
log "$RUNNER: server + $CLIENTS client(s) started"
rc=0
wait "$server_pid" || rc=$?
log "server exited with $rc after $(( $(date +%s) - start )) s"
if [ "$rc" != 0 ]; then  # the clients would wait for a scan that never starts: stop them
  for p in "${client_pids[@]}"; do kill_tree "$p"; done
fi
for i in "${!client_pids[@]}"; do
  crc=0
  wait "${client_pids[$i]}" || crc=$?
  [ "$crc" = 0 ] || { log "client-$((i + 1)) exited with $crc"; [ "$rc" != 0 ] || rc=$crc; }
done
PIDS=()
tail -n 3 "$OUTPUT/logs/server.log" >&2 || true
echo "$OUTPUT"
exit "$rc"
