"""The privacy and security findings, checked on the embedded setup too.

CI runs the suite on PostgreSQL; `make run` serves SQLite with the embedded broker. As
``tests/search/test_sqlite_fts5.py`` does for search, this runs the privacy contract and the
security tests in a child pytest whose whole project (migrations included) is set up on a
throw-away SQLite file, so each finding of the privacy review is proved on both databases.
"""

from __future__ import annotations

import pytest

from tests.sqlite import run_on_sqlite

SUITES = ["tests/privacy", "tests/security"]


@pytest.mark.django_db
def test_privacy_and_security_on_sqlite(tmp_path):
    run_on_sqlite(tmp_path, SUITES, extra=("--deselect", "tests/privacy/test_on_sqlite.py"))
