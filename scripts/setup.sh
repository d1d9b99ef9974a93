#!/usr/bin/env bash
# Install everything docsync's demo and tests need on a fresh machine (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null; then SUDO="sudo"; fi

need_apt=()
command -v chromium >/dev/null || [ -x /usr/bin/chromium ] || need_apt+=(chromium)
command -v redis-server >/dev/null || need_apt+=(redis-server)
# initdb and postgres (tests/persistence runs a private server of its own, as for Redis)
command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
# nginx: the scale-out guide's load balancer, run by tests/e2e/test_howto.py as the guide shows it
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need_apt+=(nginx)
command -v node >/dev/null || need_apt+=(nodejs)
command -v npm >/dev/null || need_apt+=(npm)
if [ "${#need_apt[@]}" -gt 0 ] && [ "${DOCSYNC_SKIP_APT:-0}" != "1" ]; then
  echo "installing with apt-get: ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

python3 -m pip install -q --disable-pip-version-check -e ".[test,docs]" 2>&1 | grep -v -e "^WARNING" -e "^\[notice\]" || true
python3 -c "import docsync, django, channels, daphne, numpy, orjson, playwright, channels_redis, psycopg, sphinx, myst_parser, furo, granian, hypercorn" \
  || { echo "python packages missing after install" >&2; exit 1; }

# axe-core, the accessibility checker the browser tests run in their pages: from the npm
# registry into build/node/ (untracked), once.
if [ ! -f build/node/node_modules/axe-core/axe.min.js ]; then
  npm install --prefix build/node --no-audit --no-fund --silent axe-core@4
fi
