#!/usr/bin/env bash
# Start a local S3 API server for the tests: S3Proxy (Maven Central org.gaul:s3proxy, no Docker)
# with its filesystem backend, on 127.0.0.1:$TA_S3_PORT (default 8333).
#   archive/s3_node/run.sh               foreground (Ctrl-C stops it)
#   archive/s3_node/run.sh --background  start, write $TA_S3_NODE_DIR/node.pid, wait until it answers
#   archive/s3_node/run.sh --stop        stop the server started with --background
# Environment: TA_S3_PORT (8333), TA_S3_NODE_DIR (var/s3-node: data/, node.log, node.pid),
# TA_S3_ACCESS_KEY_ID / TA_S3_SECRET_ACCESS_KEY (the only identity it accepts; test values by
# default: this server holds synthetic test data on the loopback only), S3_JAVA_OPTS.
# Needs Java 17 and Maven; the jars are copied to archive/s3_node/lib once (about 43 MB).
# Requests without a valid signature are refused (403): buckets and objects are private.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
DATA=${TA_S3_NODE_DIR:-$REPO/var/s3-node}
PORT=${TA_S3_PORT:-8333}
URL="http://127.0.0.1:$PORT"
PIDFILE=$DATA/node.pid
IDENTITY=${TA_S3_ACCESS_KEY_ID:-ta-s3-node}
CREDENTIAL=${TA_S3_SECRET_ACCESS_KEY:-ta-s3-node-test-secret}

# An anonymous request gets an S3 error document (403) from S3Proxy, and nothing from others.
answers() { curl -sS -m 2 "$URL/" 2>/dev/null | grep -q "<Error>"; }

if [ "${1:-}" = "--stop" ]; then
  if [ -s "$PIDFILE" ]; then
    pid=$(cat "$PIDFILE")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$PIDFILE"
    echo "s3-node: stopped (pid $pid)"
  fi
  exit 0
fi

if answers; then
  echo "s3-node: something already answers at $URL; using it."
  exit 0
fi

if [ ! -d "$HERE/lib" ] || [ -z "$(ls -A "$HERE/lib" 2>/dev/null)" ]; then
  echo "s3-node: fetching S3Proxy with Maven (once)…"
  (cd "$HERE" && mvn -q -B dependency:copy-dependencies -DoutputDirectory=lib) || {
    rm -rf "$HERE/lib"
    echo "s3-node: Maven could not fetch org.gaul:s3proxy; no server." >&2
    exit 3
  }
fi

mkdir -p "$DATA/data"
chmod 700 "$DATA"
CONF=$DATA/s3proxy.conf
(
  umask 077
  cat >"$CONF" <<CONF
s3proxy.endpoint=$URL
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=$IDENTITY
s3proxy.credential=$CREDENTIAL
jclouds.provider=filesystem
jclouds.filesystem.basedir=$DATA/data
CONF
)
JAVA_OPTS=${S3_JAVA_OPTS:--Xms64m -Xmx384m}
# shellcheck disable=SC2086
CMD=(java $JAVA_OPTS -Dlogback.configurationFile="$HERE/logback.xml" -cp "$HERE/lib/*"
     org.gaul.s3proxy.Main --properties "$CONF")

if [ "${1:-}" = "--background" ]; then
  # setsid: the server outlives the shell that started it and ignores its Ctrl-C.
  setsid nohup "${CMD[@]}" >"$DATA/node.log" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  for _ in $(seq 120); do
    if answers; then echo "s3-node: ready at $URL (pid $(cat "$PIDFILE"))"; exit 0; fi
    kill -0 "$(cat "$PIDFILE")" 2>/dev/null || break
    sleep 0.5
  done
  echo "s3-node: did not answer at $URL within 60 s; last log lines:" >&2
  tail -n 30 "$DATA/node.log" >&2 || true
  kill "$(cat "$PIDFILE")" 2>/dev/null || true
  rm -f "$PIDFILE"
  exit 1
fi

exec "${CMD[@]}"
