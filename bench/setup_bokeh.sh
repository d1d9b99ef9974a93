#!/usr/bin/env bash
# Create bench/.venv-bokeh: the newest Bokeh that installs on this Python, plus the
# load generator's needs (websockets, numpy, uvloop: the same client as docsync's). Bokeh lives only here,
# never as a docsync dependency.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv-bokeh"
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
# pip picks the newest release whose requirements this Python satisfies.
latest="$("$venv/bin/python" -m pip index versions bokeh 2>/dev/null | sed -n 's/^bokeh (\(.*\))$/\1/p')"
echo "newest bokeh on the index: ${latest:-unknown}"
"$venv/bin/python" -m pip install --quiet --upgrade "bokeh${latest:+==$latest}" websockets numpy uvloop \
    || "$venv/bin/python" -m pip install --quiet --upgrade bokeh websockets numpy uvloop
"$venv/bin/python" -c "import bokeh, tornado, websockets, numpy; print('bokeh', bokeh.__version__, 'tornado', tornado.version, 'websockets', websockets.__version__)"
