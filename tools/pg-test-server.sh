#!/usr/bin/env bash
# Starts (start) or stops (stop) a throw-away PostgreSQL cluster on loopback for the test suite.
# Prints nothing on success; the connection string is
#   Host=127.0.0.1;Port=$PAN_PG_PORT;Username=postgres;Database=postgres
set -euo pipefail

dir="${PAN_PG_DIR:-/tmp/pan-test-pg}"
port="${PAN_PG_PORT:-55432}"
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
[ -x "$bin/pg_ctl" ] || { echo "PostgreSQL server binaries not found (run tools/ensure-packages.sh)" >&2; exit 1; }

# Why: initdb and postgres refuse to run as root; as root, run them as the postgres user.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-start}" in
  start)
    if [ ! -s "$dir/data/PG_VERSION" ]; then
      rm -rf "$dir"
      mkdir -p "$dir/data" "$dir/sock"
      [ "$(id -u)" -ne 0 ] || chown -R postgres:postgres "$dir"
      as_pg "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    if as_pg "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      # Already running (another test run on this machine owns it): leave it to its owner.
      echo "already-running"
    else
      as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/sock -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null \
        || { cat "$dir/server.log" >&2; exit 1; }
    fi
    ;;
  stop)
    as_pg "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
