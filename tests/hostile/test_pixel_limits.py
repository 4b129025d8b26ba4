"""Declared pixel sizes are checked before a byte is decoded (issue #18).

The issue's file: JPEG 2000 Lossless, 40 frames, each a tiny codestream declaring 16384 x 16384
(10.7 GB decoded). It used to drive ``manage.py anonymize`` past 6 GB in 77 s.
"""

from __future__ import annotations

import json
import sys
import time
import tracemalloc
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

from archive.deid import RejectedInput, deidentify_bytes
from archive.deid.limits import InputLimits
from archive.services.policy import archive_policy
from tests.conftest import REPO, dicom_bytes
from tests.hostile.files import j2k_bomb

PER_FRAME = (
    "The image is too large to process: each frame declares 16384 x 16384 pixels "
    "(256.0 MiB decoded), over the limit of 200.0 MiB per frame."
)
MISMATCH = (
    "Frame 1 of the compressed pixel data declares 16384 x 16384 pixels where the header says "
    "64 x 64; the file is damaged or inconsistent and is not decoded."
)


def _rejected(data: bytes, policy) -> tuple[str, float, float]:
    """The reason, the seconds and the peak traced MiB of rejecting ``data``."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(RejectedInput) as caught:
            deidentify_bytes(data, policy)
        seconds = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1] / 1024**2
    finally:
        tracemalloc.stop()
    return str(caught.value), seconds, peak


def test_the_issues_file_is_rejected_in_under_a_second(settings):
    policy = archive_policy()
    reason, seconds, peak = _rejected(j2k_bomb(), policy)
    assert reason == PER_FRAME
    assert seconds < 1.0 and peak < 200


def test_fragments_declaring_another_size_than_the_header_are_not_decoded():
    """A header within the limits does not vouch for the codestreams: each declares its own."""
    reason, seconds, peak = _rejected(j2k_bomb(header_side=64), archive_policy())
    assert reason == MISMATCH
    assert seconds < 1.0 and peak < 200


def test_instance_limit_counts_every_frame(settings):
    settings.TA_MAX_INSTANCE_PIXEL_BYTES = 10 * 64 * 64
    reason, _, _ = _rejected(j2k_bomb(frames=11, side=64), archive_policy())
    assert reason == (
        "The image is too large to process: 11 frames of 64 x 64 pixels (44.0 KiB decoded), "
        "over the limit of 40.0 KiB per file."
    )


@pytest.mark.parametrize(
    ("name", "declares"),
    [
        ("SC_rgb_rle.dcm", "RLE segments"),  # RLE header: segment count
        ("JPGExtended.dcm", "pixels"),  # JPEG SOF
        ("MR_small_jpeg_ls_lossless.dcm", "pixels"),  # JPEG-LS SOF55
        ("MR_small_jp2klossless.dcm", "pixels"),  # JPEG 2000 SIZ
    ],
)
def test_every_codec_header_must_match(name, declares):
    ds = pydicom.dcmread(get_testdata_file(name))
    if declares == "RLE segments":
        ds.SamplesPerPixel = 1  # 1 segment needed, the RLE header says 3
        ds.PhotometricInterpretation = "MONOCHROME2"
    else:
        ds.Rows = int(ds.Rows) // 2
    with pytest.raises(RejectedInput, match="Frame 1 of the compressed pixel data declares.*"):
        deidentify_bytes(dicom_bytes(ds), archive_policy())


def test_every_image_of_pydicoms_test_files_passes_but_the_damaged_one():
    """62 real images in every codec pass the checks; the one whose codestream is damaged
    (its SIZ declares 3,722,445,056 columns: Pillow calls it a decompression bomb) does not."""
    import glob
    import warnings

    from archive.deid.limits import check_pixel_geometry

    folder = Path(pydicom.__file__).parent / "data" / "test_files"
    refused, passed = [], 0
    for path in sorted(glob.glob(str(folder / "**" / "*.dcm"), recursive=True)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                ds = pydicom.dcmread(path, force=True)
            except Exception:  # noqa: BLE001 - pydicom's deliberately unreadable files
                continue
        if "PixelData" not in ds or "Rows" not in ds:
            continue
        try:
            check_pixel_geometry(ds, InputLimits())
            passed += 1
        except RejectedInput:
            refused.append(Path(path).name)
    assert refused == ["JPEG2000-embedded-sequence-delimiter.dcm"]
    assert passed >= 60


def _measure(*argv: str) -> dict:
    import subprocess

    out = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("measure.py")), "--", *argv],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    )
    return json.loads(out.stdout)


@pytest.mark.e2e
def test_manage_py_anonymize_rejects_it_without_the_memory(tmp_path):
    """Through the command's real process: its peak resident memory with the file is within
    200 MiB of the same command on an empty folder (its imports: Django, OpenCV, ONNX)."""
    empty, full = tmp_path / "empty", tmp_path / "in"
    empty.mkdir()
    full.mkdir()
    (full / "bomb.dcm").write_bytes(j2k_bomb())
    command = [sys.executable, "manage.py", "anonymize"]
    baseline = _measure(*command, str(empty), "--out", str(tmp_path / "o1"),
                        "--report", str(tmp_path / "r1.json"))  # fmt: skip
    bomb = _measure(*command, str(full), "--out", str(tmp_path / "o2"),
                    "--report", str(tmp_path / "r2.json"))  # fmt: skip
    assert bomb["returncode"] == 0, bomb["stderr"]
    (entry,) = json.loads((tmp_path / "r2.json").read_text())["files"]
    assert entry["status"] == "rejected" and entry["reason"] == PER_FRAME
    assert entry["seconds"] < 1.0
    assert bomb["peak_rss_mib"] - baseline["peak_rss_mib"] < 200, (baseline, bomb)
    assert not list((tmp_path / "o2").iterdir())
