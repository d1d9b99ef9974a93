#!/usr/bin/env bash
# Set up and run the demo site on the embedded defaults: SQLite, in-memory channel
# layer, daphne via runserver. Open http://127.0.0.1:8000/ afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q --disable-pip-version-check -e . 2>&1 | grep -v -e "^WARNING" -e "^\[notice\]" || true
python3 manage.py migrate -v0
exec python3 manage.py runserver "${1:-127.0.0.1:8000}"
