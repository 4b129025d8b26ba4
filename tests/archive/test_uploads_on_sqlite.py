"""The upload tests of issue 10 on the embedded SQLite setup, whatever database the suite runs on.

The locking finding (a login answered "database is locked" during a long upload) is SQLite's:
CI runs the suite on PostgreSQL, so these modules run again in a child pytest with
``DATABASE_URL`` pointing at a throw-away SQLite file, the whole project set up on it as
``make run`` does (a real worker included; it shares the suite's Redis broker). On SQLite itself
the modules already run directly, so the child runs are skipped.
"""

from __future__ import annotations

import pytest

from tests.sqlite import run_on_sqlite

FAST = ["tests/archive/test_upload_limits.py", "tests/archive/test_processing_claims.py"]
SLOW = [
    "tests/archive/test_login_during_processing_e2e.py",
    "tests/archive/test_upload_memory_e2e.py",
]


@pytest.mark.django_db
def test_upload_limits_and_claims_on_sqlite(tmp_path):
    run_on_sqlite(tmp_path, FAST)


@pytest.mark.e2e
@pytest.mark.django_db
def test_login_during_a_long_upload_and_memory_on_sqlite(tmp_path, capsys):
    out = run_on_sqlite(tmp_path, SLOW)
    with capsys.disabled():
        # The figures the child measured (login latency, worker RSS) on SQLite.
        print("".join(f"\n[sqlite] {line}" for line in out.splitlines() if " during " in line))
        print("".join(f"\n[sqlite] {line}" for line in out.splitlines() if "RSS growth" in line))
