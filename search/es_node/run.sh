#!/usr/bin/env bash
# Start one Elasticsearch 7.10 node (Maven artifacts of org.codelibs:elasticsearch-cluster-runner,
# no Docker) on 127.0.0.1:$TA_ES_PORT (default 9200).
#   search/es_node/run.sh               foreground (Ctrl-C stops it)
#   search/es_node/run.sh --background  start, write $TA_ES_NODE_DIR/node.pid, wait until it answers
#   search/es_node/run.sh --stop        stop the node started with --background
# Environment: TA_ES_PORT (9200), TA_ES_NODE_DIR (var/es-node: data, node.log, node.pid),
# ES_JAVA_OPTS (-Xms512m -Xmx1g). Needs Java 17 and Maven; the jars are copied to
# search/es_node/lib once (about 36 MB, from ~/.m2/repository).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
DATA=${TA_ES_NODE_DIR:-$REPO/var/es-node}
PORT=${TA_ES_PORT:-9200}
URL="http://127.0.0.1:$PORT"
PIDFILE=$DATA/node.pid

answers() { curl -fsS -m 2 "$URL" >/dev/null 2>&1; }

if [ "${1:-}" = "--stop" ]; then
  if [ -s "$PIDFILE" ]; then
    pid=$(cat "$PIDFILE")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$PIDFILE"
    echo "es-node: stopped (pid $pid)"
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
  # setsid: the node outlives the shell that started it and ignores its Ctrl-C.
  setsid nohup "${CMD[@]}" >"$DATA/node.log" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  for _ in $(seq 120); do
    if answers; then echo "es-node: ready at $URL (pid $(cat "$PIDFILE"))"; exit 0; fi
    kill -0 "$(cat "$PIDFILE")" 2>/dev/null || break
    sleep 0.5
  done
  echo "es-node: did not answer at $URL within 60 s; last log lines:" >&2
  tail -n 30 "$DATA/node.log" >&2 || true
  kill "$(cat "$PIDFILE")" 2>/dev/null || true
  rm -f "$PIDFILE"
  exit 1
fi

exec "${CMD[@]}"
