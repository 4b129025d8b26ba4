"""The SQLite FTS5 path of the database backend, checked whatever database the suite runs on.

CI runs the suite on PostgreSQL, so the embedded default (SQLite + FTS5) would go untested there.
This test runs the same contract module in a child pytest with ``DATABASE_URL`` pointing at a
throw-away SQLite file: the whole project (migrations included) is set up on SQLite exactly as
``make run`` does, rather than faking a second alias next to PostgreSQL. On SQLite itself the
contract already runs directly, so the child run is skipped.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_database_contract_on_sqlite_fts5(tmp_path):
    if connection.vendor == "sqlite":
        pytest.skip("the suite already runs on SQLite: test_contract_database covers FTS5")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "TA_VAR_DIR": str(tmp_path / "var"),
        "TA_SEARCH_BACKEND": "database",
        "CELERY_TASK_ALWAYS_EAGER": "1",
    }
    (tmp_path / "var").mkdir()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/search/test_contract_database.py",
            "tests/search/test_api.py",
            "tests/search/test_database_facet_memory.py",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    tail = (proc.stdout + proc.stderr)[-6000:]
    assert proc.returncode == 0, tail
    assert " passed" in proc.stdout and " failed" not in proc.stdout, tail
