#!/usr/bin/env bash
# Fuzz the management API from its OpenAPI schema; any 5xx fails CI.
# Runs its own server on a throwaway SQLite database so it cannot touch the test databases.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
WORK=$(mktemp -d)
PORT=${SCHEMATHESIS_PORT:-18731}
export DEBUG=1 SECRET_KEY=schemathesis-only ALLOWED_HOSTS=127.0.0.1,localhost \
  MODELGATE_VAR_DIR="$WORK" MODELGATE_ADMIN_PASSWORD=schemathesis-admin-password \
  MODELGATE_POOL_AUTOSTART=0
unset DATABASE_URL
$PY manage.py migrate --noinput -v 0
$PY manage.py ensure_admin >/dev/null
KEY=$($PY manage.py create_api_key --user admin --scopes admin,read,deploy,predict --name schemathesis)
.venv/bin/granian --interface wsgi --host 127.0.0.1 --port "$PORT" --no-ws --log-level warning \
  console.wsgi:application >"$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null || { cat "$WORK/server.log"; exit 1; }
# /revoke and /rotate would revoke the very key the fuzzer authenticates with; unit tests cover them.
.venv/bin/st run "http://127.0.0.1:$PORT/api/schema/" \
  -H "Authorization: Bearer $KEY" \
  --checks not_a_server_error \
  --phases examples,fuzzing,stateful \
  --exclude-path-regex '/(revoke|rotate)$' \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-25}"
