#!/usr/bin/env bash
# Serve the site and run a Celery worker side by side; Ctrl-C (or either one dying) stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
VENV=.venv
# Plain http on this machine: no HTTPS redirect, HSTS or HTTPS-only cookies (production, where
# DEBUG is off, has them on by default; see TA_HTTPS in .env.example).
export TA_HTTPS="${TA_HTTPS:-0}"

# -B: the worker also runs the hourly housekeeping schedule (purging expired review originals).
# It consumes every queue (archive/scheduling.py); its two processes share each upload's chunks.
$VENV/bin/celery -A teaching_archive worker -B --loglevel=INFO --concurrency=2 -n "worker@%h" \
  -Q deidentify,redact,index,housekeeping &
WORKER=$!
$VENV/bin/gunicorn teaching_archive.wsgi:application --bind "$HOST:$PORT" --workers 2 \
  --timeout 300 --access-logfile - &
WEB=$!

stop() { kill -TERM "$WEB" "$WORKER" 2>/dev/null || true; wait "$WEB" "$WORKER" 2>/dev/null || true; }
trap stop INT TERM EXIT

echo
echo "  The teaching archive is at http://$HOST:$PORT/  (admin: http://$HOST:$PORT/admin/)"
echo "  Demo logins: curator, teacher, student — password in var/demo-password.txt"
echo "  Press Ctrl-C to stop the web server and the worker."
echo
wait -n "$WEB" "$WORKER"
