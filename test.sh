#!/usr/bin/env bash
# Pan's whole test suite, from a fresh machine: installs what the tests need (PostgreSQL, an SMTP server,
# Node tools), starts PostgreSQL on loopback, lints the contract, and runs every test on SQLite and PostgreSQL.
# Usage: ./test.sh [extra dotnet test arguments, e.g. --filter FullyQualifiedName~Login]
set -euo pipefail
cd "$(dirname "$0")"
root="$(pwd)"

bash tools/ensure-packages.sh

export PAN_PG_PORT="${PAN_PG_PORT:-55432}"
# Why: stop PostgreSQL afterwards only if this run started it (another run on the machine may be using it).
if [ "$(bash tools/pg-test-server.sh start)" != "already-running" ]; then
  trap 'bash "$root/tools/pg-test-server.sh" stop' EXIT
fi
export PAN_TEST_POSTGRES="Host=127.0.0.1;Port=$PAN_PG_PORT;Username=postgres;Database=postgres;Timeout=30"

echo "== buf lint"
bash tools/buf-lint.sh

# Why here too: the OAuth tests run openid-client from tests/oidc-client (they also run npm ci when it is missing).
echo "== Node test client (openid-client)"
(cd tests/oidc-client && npm ci --no-audit --no-fund)

results="$root/artifacts/test-results"
rm -rf "$results"
echo "== dotnet test (SQLite and PostgreSQL)"
set +e
dotnet test Pan.slnx --logger "trx" --results-directory "$results" "$@"
status=$?
set -e

echo "== summary"
require=(); [ $# -gt 0 ] || require=(--require-postgres)
python3 tools/summarize-trx.py "$results" "${require[@]}" || status=1
exit $status
