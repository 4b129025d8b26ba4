"""A long native (uncompressed) cine goes the worker's whole way — from the received file in the
holding storage to the verified output stored in the instance storage — in memory bounded by a
few frames and a constant, whatever its length (issue #18, pathological input).

The child (``native_cine_child.py``) de-identifies a 600-frame 512x512 RGB native cine with a
label and the patient's name burned in on every frame: 450 MiB in, 450 MiB out. Before the
spools the worker read the received file whole, then held the output twice (the dataset's Pixel
Data and the written file) next to a copy of the input's: +906 MiB over the 450 MiB received.
Now the worker opens the received file and the engine reads its Pixel Data a frame at a time
(``FileView``), each redacted frame goes to a temporary file as it is done, the file is written
and verified from there and streamed into storage: the process grows by a few frames and a
constant, input and output included.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CHILD = Path(__file__).with_name("native_cine_child.py")
FRAMES = 600


@pytest.mark.e2e  # 12 s alone, 22 s on a busy machine
def test_a_long_native_cine_goes_from_storage_to_storage_in_memory_bounded_by_a_few_frames(
    tmp_path,
):
    folder = tmp_path / "spool"
    folder.mkdir()
    done = subprocess.run(
        [sys.executable, str(CHILD), str(FRAMES), str(folder)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    # Published, every frame redacted (name and label: three boxes a frame), every frame
    # written: the output is as long as the input, and it went to disk, not memory.
    assert report["status"] == "anonymized", report["reasons"]
    assert report["boxes"] == 3 * FRAMES
    assert report["in_mib"] >= FRAMES * report["frame_mib"]
    assert report["out_mib"] >= FRAMES * report["frame_mib"]
    growth = report["peak_mib"] - report["before_mib"]
    # A few frames (the frame decoded, its copy before redaction, detection views) and a
    # constant: the 8 MiB a spool keeps in memory and the pieces the verifier reads (4 MiB).
    # The received file and the output are each 450 MiB: neither is in memory.
    bound = 16 * report["frame_mib"] + 48
    assert bound < report["in_mib"] / 5  # the bound tells a few frames from the file
    assert growth < bound, (
        f"grew {growth:.0f} MiB for a file of {report['in_mib']:.0f} MiB in and "
        f"{report['out_mib']:.0f} MiB out"
    )
    # Nothing left behind: the staged output was moved into storage, the spools' temporary
    # files have no name and are gone once closed.
    assert report["incoming_left"] == []
