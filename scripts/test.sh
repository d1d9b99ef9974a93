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
# Several workers (pytest-xdist), a module to each at a time: a test waits on its server
# processes, Redis, PostgreSQL or Chromium, which run on the cores meanwhile, so
# DOCSYNC_TEST_WORKERS (default 3) on two cores keeps both about 90% busy (/proc/stat over
# a whole run): the suite is then bound by CPU, and more workers do not make it shorter.
# DOCSYNC_TEST_WORKERS=0 runs serially.
echo "== pytest"
python3 -m pytest -q -p no:cacheprovider -n "${DOCSYNC_TEST_WORKERS:-3}" --dist loadfile "$@"
