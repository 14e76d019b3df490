#!/usr/bin/env bash
# Starts a throwaway PostgreSQL 15 server for the test suite and prints the URL to export as
# TEST_DATABASE_URL. Usage: eval "$(scripts/test-postgres.sh start)"; ...; scripts/test-postgres.sh stop
set -euo pipefail

PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
PGPORT=${TEST_PG_PORT:-55432}
PGROOT=${TEST_PG_DIR:-/tmp/rest-api-test-pg}
RUN_AS=()
# PostgreSQL refuses to run as root; use the postgres system user when we are root.
if [ "$(id -u)" = 0 ]; then RUN_AS=(runuser -u postgres --); fi

case "${1:-}" in
  start)
    if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
      echo "PostgreSQL server binaries not found (install: apt-get install postgresql)" >&2
      exit 1
    fi
    rm -rf "$PGROOT" && mkdir -p "$PGROOT"
    [ ${#RUN_AS[@]} -gt 0 ] && chown postgres "$PGROOT"
    "${RUN_AS[@]}" "$PGBIN/initdb" -D "$PGROOT/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$PGROOT/initdb.log"
    "${RUN_AS[@]}" "$PGBIN/pg_ctl" -D "$PGROOT/data" -l "$PGROOT/server.log" -w \
      -o "-p $PGPORT -c listen_addresses=127.0.0.1 -k $PGROOT -c fsync=off" start >&2
    echo "export TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$PGPORT/postgres"
    ;;
  stop)
    "${RUN_AS[@]}" "$PGBIN/pg_ctl" -D "$PGROOT/data" -m fast stop >&2 || true
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
