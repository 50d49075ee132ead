#!/usr/bin/env bash
# The production shape on one machine: gunicorn, one Celery worker and Celery beat,
# against PostgreSQL and Redis, configured only through KB_ environment variables.
# Defaults target the local servers; override any KB_ variable from the environment.
set -euo pipefail
cd "$(dirname "$0")/.."
# The virtualenv's bin directory (HINDSIGHT_BIN overrides, e.g. a shared venv).
BIN="${HINDSIGHT_BIN:-.venv/bin}"
mkdir -p var

export KB_DEBUG="${KB_DEBUG:-0}"
export KB_DATABASE_URL="${KB_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/hindsight}"
export KB_CELERY_BROKER_URL="${KB_CELERY_BROKER_URL:-redis://127.0.0.1:6379/0}"
export KB_CACHE_URL="${KB_CACHE_URL:-redis://127.0.0.1:6379/1}"
export KB_ALLOWED_HOSTS="${KB_ALLOWED_HOSTS:-127.0.0.1,localhost}"
# Plain HTTP on loopback: no TLS redirect or secure-only cookies here. Behind a
# TLS-terminating proxy leave both at their production defaults.
export KB_SECURE_SSL_REDIRECT="${KB_SECURE_SSL_REDIRECT:-0}"
export KB_SECURE_COOKIES="${KB_SECURE_COOKIES:-0}"
if [ -z "${KB_SECRET_KEY:-}" ]; then
  [ -s var/secret_key ] || $BIN/python -c "import secrets; print(secrets.token_urlsafe(64))" > var/secret_key
  KB_SECRET_KEY="$(cat var/secret_key)"
  export KB_SECRET_KEY
fi

db_name="${KB_DATABASE_URL##*/}"
psql "${KB_DATABASE_URL%/*}/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname='${db_name}'" | grep -q 1 \
  || psql "${KB_DATABASE_URL%/*}/postgres" -qc "CREATE DATABASE \"${db_name}\""

$BIN/python manage.py migrate --noinput
$BIN/python manage.py collectstatic --noinput -v0
# Over plain HTTP the TLS-only warnings (W008, W012, W016) are expected.
$BIN/python manage.py check --deploy --fail-level ERROR

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

$BIN/celery -A kb worker --loglevel=INFO --concurrency=1 --hostname="worker1@%h" &
pids+=($!)
$BIN/celery -A kb beat --loglevel=INFO --pidfile=var/celerybeat.pid &
pids+=($!)
$BIN/gunicorn -c deploy/gunicorn.conf.py &
pids+=($!)
echo "Hindsight (production shape) on http://${KB_BIND:-127.0.0.1:8000}/ : gunicorn, worker, beat"
wait -n "${pids[@]}"
