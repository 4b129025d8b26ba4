"""The SQLite FTS5 path of the database backend, checked whatever database the suite runs on.

CI runs the suite on PostgreSQL, so the embedded default (SQLite + FTS5) would go untested there.
This test runs the same contract module in a child pytest with ``DATABASE_URL`` pointing at a
throw-away SQLite file: the whole project (migrations included) is set up on SQLite exactly as
``make run`` does, rather than faking a second alias next to PostgreSQL. On SQLite itself the
contract already runs directly, so the child run is skipped.
"""

from __future__ import annotations

import pytest

from tests.sqlite import run_on_sqlite


@pytest.mark.django_db
def test_database_contract_on_sqlite_fts5(tmp_path):
    run_on_sqlite(
        tmp_path,
        [
            "tests/search/test_contract_database.py",
            "tests/search/test_api.py",
            "tests/search/test_database_facet_memory.py",
        ],
        CELERY_TASK_ALWAYS_EAGER="1",
    )
