"""The privacy and security findings, checked on the embedded setup too.

CI runs the suite on PostgreSQL; `make run` serves SQLite with the embedded broker. As
``tests/search/test_sqlite_fts5.py`` does for search, this runs the privacy contract and the
security tests in a child pytest whose whole project (migrations included) is set up on a
throw-away SQLite file, so each finding of the privacy review is proved on both databases.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

REPO = Path(__file__).resolve().parents[2]
SUITES = ["tests/privacy", "tests/security"]


@pytest.mark.django_db
def test_privacy_and_security_on_sqlite(tmp_path):
    if connection.vendor == "sqlite":
        pytest.skip("the suite already runs on SQLite")
    (tmp_path / "var").mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "TA_VAR_DIR": str(tmp_path / "var"),
        "TA_SEARCH_BACKEND": "database",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SUITES,
         "--deselect", "tests/privacy/test_on_sqlite.py"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )  # fmt: skip
    tail = (proc.stdout + proc.stderr)[-6000:]
    assert proc.returncode == 0, tail
    assert " passed" in proc.stdout and " failed" not in proc.stdout, tail
