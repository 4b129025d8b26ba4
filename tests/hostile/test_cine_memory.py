"""A long cine is de-identified one frame at a time: memory grows by about one decoded frame and
the file's own bytes, not by every frame decoded (issue #18, pathological input).

The child (``cine_child.py``) de-identifies a 300-frame 512x512 RGB cine with a label and the
patient's name burned in: 225 MiB decoded, 7 MiB as stored. Decoding every frame first (as the
cleaner did) grew the process by 240 MiB; frame by frame it grows by about 14 MiB.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CHILD = Path(__file__).with_name("cine_child.py")
FRAMES = 300


@pytest.mark.e2e
def test_a_long_cine_is_cleaned_in_memory_bounded_by_one_frame_and_the_file():
    done = subprocess.run(
        [sys.executable, str(CHILD), str(FRAMES)], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    # Published, and every frame was redacted (name and label: three boxes a frame), so the
    # frames went through detection, redaction, verification and re-encoding.
    assert report["status"] == "anonymized", report["reasons"]
    assert report["boxes"] == 3 * FRAMES
    growth = report["peak_mib"] - report["before_mib"]
    every_frame = FRAMES * report["frame_mib"]
    bound = 32 + 4 * (report["in_mib"] + report["out_mib"]) / 2
    assert bound < every_frame / 3  # the bound tells one frame at a time from all frames
    assert growth < bound, f"grew {growth:.0f} MiB (all frames decoded: {every_frame:.0f} MiB)"
