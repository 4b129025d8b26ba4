"""Viewer speed in a real browser: first image after the page's load event (30-slice 512×512 CT),
further slices from memory, and window/level drag on a 2140×1760 radiograph, next to the
former viewer's cost of one window step (a server-rendered PNG) measured in the same run.

Usage::

    python benchmarks/viewer_bench.py

Runs ``tests/browser/bench_viewer.py`` with pytest (Django's live server, PostgreSQL from
``DATABASE_URL``, Debian's Chromium driven by Playwright) and prints its figures.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

if __name__ == "__main__":
    sys.exit(
        pytest.main(
            [
                str(REPO / "tests/browser/bench_viewer.py"),
                "-q",
                "-s",
                "-p",
                "no:cacheprovider",
                "--rootdir",
                str(REPO),
            ]  # fmt: skip
        )
    )
