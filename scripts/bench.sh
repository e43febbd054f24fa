#!/usr/bin/env bash
# Run the benchmarks (scripts/bench.py) on SQLite and on a throwaway PostgreSQL cluster, and print the figures.
# Not part of the test suite: it takes several minutes and its figures depend on the machine.
# Extra arguments go to scripts/bench.py (e.g. --requests 50, --national, --json /tmp/bench.json).
# `bash scripts/bench.sh --only minutes` measures the minutes alone (no database, no server, seconds).
# QA_SKIP_POSTGRES=1 measures SQLite only. Needs Debian's nodejs/npm for Lighthouse (skipped without them).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
[[ -x .venv/bin/python ]] || "$PYTHON" -m venv .venv
# gunicorn (the load test's server) and psycopg come with the postgres extra; Playwright (the tablet walk) with test.
.venv/bin/python -m pip install --quiet -e ".[postgres,test]"

only_minutes=
for arg in "$@"; do [[ $arg == minutes ]] && only_minutes=1; done
if [[ -z ${QA_SKIP_POSTGRES:-} && -z $only_minutes ]]; then
  pgdir=$(mktemp -d /tmp/qa-bench-pg.XXXXXX)
  trap 'bash scripts/pg-throwaway.sh stop "$pgdir"; rm -rf "$pgdir"' EXIT
  eval "$(bash scripts/pg-throwaway.sh start "$pgdir" "${QA_BENCH_PG_PORT:-54339}")"
  export QA_BENCH_POSTGRES_URL=$QA_TEST_DATABASE_URL
fi
# Lighthouse from npm drives Debian's Chromium (version 12: version 13 needs Node 22). QA_SKIP_LIGHTHOUSE=1 skips it.
lighthouse=()
if [[ -z ${QA_SKIP_LIGHTHOUSE:-} && -z $only_minutes ]] && command -v npm >/dev/null; then
  lhdir=${QA_LIGHTHOUSE_DIR:-/tmp/qa-lighthouse}
  if [[ -x $lhdir/node_modules/.bin/lighthouse ]] ||
     npm install --silent --no-audit --no-fund --prefix "$lhdir" lighthouse@12 >/dev/null; then
    lighthouse=(--lighthouse "$lhdir/node_modules/.bin/lighthouse")
  else
    echo "Lighthouse could not be installed from npm: measuring without it" >&2
  fi
fi
.venv/bin/python scripts/bench.py "${lighthouse[@]}" "$@"
