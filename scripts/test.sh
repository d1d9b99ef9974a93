#!/usr/bin/env bash
# Set up and run the whole test suite: lint, types, JavaScript unit tests, Python tests
# (unit, real server processes, Chromium end-to-end, Redis cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

echo "== ruff"; python3 -m ruff check docsync tests bench project
python3 -m ruff format --check docsync tests bench project
echo "== mypy"; python3 -m mypy docsync
echo "== import contracts"; lint-imports --no-cache
if [ -d tests/js ]; then echo "== node --test"; node --test tests/js/; fi
# Several workers (pytest-xdist), a module to each at a time: most of the suite waits on
# server processes, Redis, PostgreSQL and Chromium rather than on the CPU, so even two
# cores keep DOCSYNC_TEST_WORKERS (default 3) busy. DOCSYNC_TEST_WORKERS=0 runs serially.
echo "== pytest"
python3 -m pytest -q -p no:cacheprovider -n "${DOCSYNC_TEST_WORKERS:-3}" --dist loadfile "$@"
