#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster on 127.0.0.1 for tests and benchmarks, and print its URL.
# Usage: eval "$(bash scripts/pg-throwaway.sh start DIR PORT)"; ...; bash scripts/pg-throwaway.sh stop DIR
# Needs Debian's postgresql package (installed by scripts/system-deps.sh when run as root).
set -euo pipefail
cmd=${1:?start|stop}; dir=${2:?data directory}; port=${3:-54329}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[[ -n $bin ]] || { echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }
as_pg() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case $cmd in
  start)
    mkdir -p "$dir"
    [[ $(id -u) -eq 0 ]] && chown postgres "$dir"
    if [[ ! -f $dir/PG_VERSION ]]; then
      as_pg "$bin/initdb" -D "$dir" --auth=trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    # Durability off: a throwaway test cluster trades crash safety for speed.
    as_pg "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
    as_pg "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "DROP DATABASE IF EXISTS qa_test" >/dev/null
    as_pg "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE qa_test" >/dev/null
    echo "export QA_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:$port/qa_test"
    ;;
  stop)
    as_pg "$bin/pg_ctl" -D "$dir" -m fast stop >/dev/null || true
    ;;
esac
