"""The upload tests of issue 10 on the embedded SQLite setup, whatever database the suite runs on.

The locking finding (a login answered "database is locked" during a long upload) is SQLite's:
CI runs the suite on PostgreSQL, so these modules run again in a child pytest with
``DATABASE_URL`` pointing at a throw-away SQLite file, the whole project set up on it as
``make run`` does (a real worker included; it shares the suite's Redis broker). On SQLite itself
the modules already run directly, so the child runs are skipped.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

REPO = Path(__file__).resolve().parents[2]

FAST = ["tests/archive/test_upload_limits.py", "tests/archive/test_processing_claims.py"]
SLOW = [
    "tests/archive/test_login_during_processing_e2e.py",
    "tests/archive/test_upload_memory_e2e.py",
]


def _run_on_sqlite(tmp_path: Path, modules: list[str]) -> str:
    if connection.vendor == "sqlite":
        pytest.skip("the suite already runs on SQLite: these modules ran directly")
    var = tmp_path / "var"
    var.mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{var / 'db.sqlite3'}",
        "TA_VAR_DIR": str(var),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", *modules],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    tail = (proc.stdout + proc.stderr)[-6000:]
    assert proc.returncode == 0, tail
    assert " passed" in proc.stdout and " failed" not in proc.stdout, tail
    return proc.stdout


@pytest.mark.django_db
def test_upload_limits_and_claims_on_sqlite(tmp_path):
    _run_on_sqlite(tmp_path, FAST)


@pytest.mark.e2e
@pytest.mark.django_db
def test_login_during_a_long_upload_and_memory_on_sqlite(tmp_path, capsys):
    out = _run_on_sqlite(tmp_path, SLOW)
    with capsys.disabled():
        # The figures the child measured (login latency, worker RSS) on SQLite.
        print("".join(f"\n[sqlite] {line}" for line in out.splitlines() if " during " in line))
        print("".join(f"\n[sqlite] {line}" for line in out.splitlines() if "RSS growth" in line))
