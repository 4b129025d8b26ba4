#!/usr/bin/env bash
# Start one Elasticsearch node (from Maven artifacts, no Docker) on 127.0.0.1:9200.
#   search/es_node/run.sh               foreground (Ctrl-C stops it)
#   search/es_node/run.sh --background  start, write var/es-node/node.pid, wait until it answers
#   search/es_node/run.sh --stop        stop the node started with --background
# Needs Java 17 and Maven; the jars are copied to search/es_node/lib on first use.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
DATA=${TA_ES_NODE_DIR:-$REPO/var/es-node}
PORT=${TA_ES_NODE_PORT:-9200}
URL="http://127.0.0.1:$PORT"
PIDFILE=$DATA/node.pid

answers() { curl -fsS -m 2 "$URL" >/dev/null 2>&1; }

if [ "${1:-}" = "--stop" ]; then
  if [ -s "$PIDFILE" ]; then
    pid=$(cat "$PIDFILE")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    rm -f "$PIDFILE"
  fi
  exit 0
fi

if answers; then
  echo "es-node: something already answers at $URL; using it."
  exit 0
fi

if [ ! -d "$HERE/lib" ] || [ -z "$(ls -A "$HERE/lib" 2>/dev/null)" ]; then
  echo "es-node: fetching the Elasticsearch jars with Maven (once)…"
  (cd "$HERE" && mvn -q -B dependency:copy-dependencies -DoutputDirectory=lib) || {
    rm -rf "$HERE/lib"
    echo "es-node: Maven could not fetch org.codelibs:elasticsearch-cluster-runner; no node." >&2
    exit 3
  }
fi

mkdir -p "$DATA"
JAVA_OPTS=${ES_JAVA_OPTS:--Xms512m -Xmx1g}
# shellcheck disable=SC2086
CMD=(java $JAVA_OPTS -Des.http.port="$PORT" -cp "$HERE/lib/*" "$HERE/EsNode.java" "$DATA/data")

if [ "${1:-}" = "--background" ]; then
  nohup "${CMD[@]}" >"$DATA/node.log" 2>&1 &
  echo $! >"$PIDFILE"
  for _ in $(seq 240); do
    if answers; then echo "es-node: ready at $URL (pid $(cat "$PIDFILE"))"; exit 0; fi
    kill -0 "$(cat "$PIDFILE")" 2>/dev/null || break
    sleep 0.5
  done
  echo "es-node: did not answer at $URL; last log lines:" >&2
  tail -n 30 "$DATA/node.log" >&2 || true
  exit 1
fi

exec "${CMD[@]}"
