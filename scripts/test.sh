#!/usr/bin/env bash
# Install everything the tests need and run the whole suite: once on SQLite (with the browser tests),
# then once more on a throwaway PostgreSQL cluster. Extra arguments go to both pytest runs.
# QA_SKIP_POSTGRES=1 skips the second run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
[[ -x .venv/bin/python ]] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test]"

echo "== Import rules (docs/architecture.md) =="
.venv/bin/lint-imports

echo "== Test suite on SQLite =="
.venv/bin/python -m pytest "$@"

if [[ -z ${QA_SKIP_POSTGRES:-} ]]; then
  pgdir=$(mktemp -d /tmp/qa-pg.XXXXXX)
  trap 'bash scripts/pg-throwaway.sh stop "$pgdir"; rm -rf "$pgdir"' EXIT
  eval "$(bash scripts/pg-throwaway.sh start "$pgdir" "${QA_PG_PORT:-54329}")"
  echo "== Test suite on PostgreSQL =="
  # The browser tests exercise the UI, which is the same on both databases; they run once, above.
  .venv/bin/python -m pytest -m "not e2e" "$@"
fi
