#!/usr/bin/env bash
# Install (when missing) and start the services the test suite talks to: PostgreSQL and Redis on
# 127.0.0.1, plus the Debian tools the tests use (Chromium for the browser tests, Tesseract as an
# independent OCR check, fonts for rendering synthetic PHI, dcmtk/dicom3tools as real DICOM peers).
# Safe to run again: it only installs what is absent and only starts what is not answering.
set -euo pipefail

PG_PORT=${TA_PG_PORT:-5432}
REDIS_PORT=${TA_REDIS_PORT:-6379}
APT_PACKAGES=(postgresql redis-server chromium tesseract-ocr tesseract-ocr-eng fonts-dejavu-core
  fonts-liberation dcmtk dicom3tools gettext)

need=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
# A JDK and Maven run the Elasticsearch test node (search/es_node) and the S3 test server
# (archive/s3_node); most machines have them.
command -v javac >/dev/null && command -v mvn >/dev/null || need+=(openjdk-17-jdk-headless maven)
if [ ${#need[@]} -gt 0 ]; then
  echo "services: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${need[@]}"
fi

# PostgreSQL: Debian's own cluster when the package made one (started with pg_ctlcluster), or
# a cluster of our own otherwise; loopback TCP for the app, the local socket for admin work.
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
PG_VERSION=$(basename "$(dirname "$PG_BIN")")
PG_SOCKET=/var/run/postgresql
mkdir -p "$PG_SOCKET" && chown postgres:postgres "$PG_SOCKET"
if ! "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; then
  if [ -d "/etc/postgresql/$PG_VERSION/main" ]; then
    pg_ctlcluster "$PG_VERSION" main start
  else
    PG_DATA=${TA_PG_DATA:-/var/tmp/ta-pgdata}
    if [ ! -s "$PG_DATA/PG_VERSION" ]; then
      mkdir -p "$PG_DATA" && chown postgres:postgres "$PG_DATA"
      su postgres -c "$PG_BIN/initdb -D $PG_DATA -A trust -U postgres >/dev/null"
    fi
    su postgres -c "$PG_BIN/pg_ctl -D $PG_DATA -l $PG_DATA/server.log -w -o '-h 127.0.0.1 -p $PG_PORT -k $PG_SOCKET' start >/dev/null"
  fi
  for _ in $(seq 100); do "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" && break; sleep 0.2; done
fi
psql_run() { su postgres -c "psql -h $PG_SOCKET -p $PG_PORT -U postgres -tAc \"$1\""; }
[ "$(psql_run "SELECT 1 FROM pg_roles WHERE rolname='ta'")" = "1" ] || \
  psql_run "CREATE ROLE ta LOGIN SUPERUSER PASSWORD 'ta'" >/dev/null
[ "$(psql_run "SELECT 1 FROM pg_database WHERE datname='ta'")" = "1" ] || \
  psql_run "CREATE DATABASE ta OWNER ta" >/dev/null

# Redis: loopback only, no persistence needed for tests.
if ! redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; then
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no --daemonize yes \
    --logfile /var/tmp/ta-redis.log >/dev/null
  for _ in $(seq 50); do redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
fi
echo "services: PostgreSQL on 127.0.0.1:$PG_PORT (db/user ta), Redis on 127.0.0.1:$REDIS_PORT"
