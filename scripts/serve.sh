#!/usr/bin/env bash
# Set up and run the app on its embedded default: a virtual environment, the package, a SQLite database
# under instance/ created or upgraded, the checklists loaded, the demo province seeded once, the demo logins
# printed, and the server on http://127.0.0.1:${PORT:-5000}.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
[[ -x .venv/bin/python ]] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
export FLASK_APP=wsgi
.venv/bin/flask qa setup
echo "Serving on http://127.0.0.1:${PORT:-5000} (Ctrl+C to stop)"
exec .venv/bin/flask run --host 127.0.0.1 --port "${PORT:-5000}"
