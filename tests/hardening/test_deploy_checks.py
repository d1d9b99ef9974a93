"""``manage.py check --deploy`` names docsync's insecure settings, and only those."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .harness import ROOT, SECRET_KEY

SAFE = {
    "DJANGO_DEBUG": "0",
    "DJANGO_ALLOWED_HOSTS": "docs.example.com",
    "DOCSYNC_ALLOWED_ORIGINS": "https://embed.example.com,https://*.partner.example",
}
#: DEBUG on a machine no one else reaches is development, not a risk.
DEVELOPMENT = {"DJANGO_DEBUG": "1", "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1", "DOCSYNC_ALLOWED_ORIGINS": ""}
INSECURE = {
    "DJANGO_DEBUG": "1",
    "DJANGO_ALLOWED_HOSTS": "docs.example.com,localhost",
    "DOCSYNC_ALLOWED_ORIGINS": "embed.example.com,*",
    "DOCSYNC_SESSION_TOKEN_EXPIRATION": "7200",
}


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The output of ``check --deploy`` under each configuration, run side by side."""
    db = Path(tmp_path_factory.mktemp("checks")) / "db.sqlite3"
    configurations = {"safe": SAFE, "development": DEVELOPMENT, "insecure": INSECURE}
    running = {}
    for name, env in configurations.items():
        running[name] = subprocess.Popen(
            [sys.executable, "manage.py", "check", "--deploy"],
            cwd=ROOT,
            env={
                **os.environ,
                # The demo's settings: the test settings hold a broken app on purpose.
                "DJANGO_SETTINGS_MODULE": "project.settings",
                "DJANGO_SECRET_KEY": SECRET_KEY,
                "DOCSYNC_SQLITE": str(db),
                **env,
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    outputs = {}
    for name, process in running.items():
        out, _ = process.communicate(timeout=120)
        assert process.returncode == 0, out
        outputs[name] = out
    return outputs


def _docsync_ids(output: str) -> set[str]:
    return set(re.findall(r"\((docsync\.[EW]\d+)\)", output))


@pytest.mark.parametrize("configuration", ["safe", "development"])
def test_safe_settings_raise_no_docsync_warning(reports: dict[str, str], configuration: str) -> None:
    assert _docsync_ids(reports[configuration]) == set(), reports[configuration]


def test_insecure_settings_raise_each_warning(reports: dict[str, str]) -> None:
    output = reports["insecure"]
    assert _docsync_ids(output) == {"docsync.W101", "docsync.W102", "docsync.W103", "docsync.W104"}, output
    # Each message names the setting and the fix.
    assert "DOCSYNC['ALLOWED_ORIGINS'] contains '*'" in output and "List the origins" in output
    assert "DEBUG is on while ALLOWED_HOSTS names public hosts" in output and "Set DEBUG = False" in output
    assert "DOCSYNC['SESSION_TOKEN_EXPIRATION'] is over an hour" in output
    assert "lists ['embed.example.com'] without a scheme" in output and "'https://embed.example.com'" in output
