#!/usr/bin/env bash
# Refresh the screenshots the README and docs show: run the browser tests, then copy
# what they took (build/screenshots/) over docs/screenshots/. The test command never
# writes tracked files; this is the one explicit step that does.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
python3 -m pytest -q -p no:cacheprovider tests/e2e "$@"
mkdir -p docs/screenshots
cp build/screenshots/*.png docs/screenshots/
git status --short docs/screenshots
