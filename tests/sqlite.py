"""Running test modules again on the embedded SQLite setup, whatever database the suite runs on.

CI runs the suite on PostgreSQL; `make run` serves SQLite. A child pytest whose whole project
(migrations included) is set up on a throw-away SQLite file, exactly as ``make run`` does, runs
the given modules; on SQLite itself they already ran directly, so the caller is skipped.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

REPO = Path(__file__).resolve().parent.parent


def run_on_sqlite(
    tmp_path: Path, modules: list[str], *, extra: tuple[str, ...] = (), **env: str
) -> str:
    """Run ``modules`` in a child pytest on SQLite; fail with its output's tail. Returns stdout."""
    if connection.vendor == "sqlite":
        pytest.skip("the suite already runs on SQLite: these modules ran directly")
    var = tmp_path / "var"
    var.mkdir()
    child_env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{var / 'db.sqlite3'}",
        "TA_VAR_DIR": str(var),
        "TA_SEARCH_BACKEND": "database",
        **env,
    }
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", *modules, *extra],
        cwd=REPO,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    tail = (proc.stdout + proc.stderr)[-6000:]
    assert proc.returncode == 0, tail
    assert " passed" in proc.stdout and " failed" not in proc.stdout, tail
    return proc.stdout
