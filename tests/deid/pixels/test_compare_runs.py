"""The per-image comparison of two precision benchmark runs (benchmarks/compare_precision_runs.py)
catches what equal totals hide: a string lost on one image while another gains one."""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "compare_precision_runs.py"

BEFORE = """\
    ct-head          random 0: bright, sans 12 px at 5,5 removed 1/1 collateral 0.00%
    mr-mosaic        random 1: grey:0.6, bold 20 px at 9,9 removed 0/1 collateral 0.40%
clean_pixels (this archive):
    ct-head          random 0: bright, sans 12 px at 5,5 removed 0/1 collateral 0.00%
"""


def _compare(tmp_path, after: str) -> subprocess.CompletedProcess:
    (tmp_path / "before.log").write_text(BEFORE)
    (tmp_path / "after.log").write_text(after)
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path / "before.log"), str(tmp_path / "after.log")],
        capture_output=True,
        text=True,
    )


def test_a_string_lost_on_one_image_and_gained_on_another_fails_the_comparison(tmp_path):
    after = BEFORE.replace("removed 1/1 collateral 0.00%", "removed 0/1 collateral 0.00%", 1)
    after = after.replace("removed 0/1 collateral 0.40%", "removed 1/1 collateral 0.40%")
    done = _compare(tmp_path, after)
    assert done.returncode == 1
    assert "LOST   ct-head / random 0" in done.stdout
    assert "gained mr-mosaic / random 1" in done.stdout
    # equal totals, read from the cleaner's lines only (not the baseline's after its table)
    assert done.stdout.count("1/2 strings removed whole") == 2


def test_an_image_pushed_over_one_percent_fails_and_the_same_run_passes(tmp_path):
    done = _compare(tmp_path, BEFORE.replace("collateral 0.40%", "collateral 1.60%"))
    assert done.returncode == 1
    assert "OVER   mr-mosaic / random 1" in done.stdout
    same = _compare(tmp_path, BEFORE)
    assert same.returncode == 0
    assert "the same on every image" in same.stdout
