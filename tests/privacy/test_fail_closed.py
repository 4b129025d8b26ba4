"""Finding 8 of the privacy review: the pixel cleaner is not optional. A platform where OpenCV or
the OCR runtime is missing or broken gets no running site, no worker and a `check` that says
why, instead of a site that publishes images nobody looked at."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def broken_platform(tmp_path) -> dict[str, str]:
    """An environment whose `import cv2` fails, as on a platform without a working OpenCV."""
    (tmp_path / "cv2.py").write_text('raise ImportError("OpenCV cannot load on this platform")\n')
    return {**os.environ, "PYTHONPATH": str(tmp_path)}


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_says_why_the_archive_will_not_start(broken_platform):
    result = _run(["manage.py", "check"], broken_platform)
    assert result.returncode != 0
    assert "burned-in text cleaner" in result.stderr
    assert "does not start without it" in result.stderr


def test_the_web_application_refuses_to_load(broken_platform):
    result = _run(["-c", "import teaching_archive.wsgi"], broken_platform)
    assert result.returncode != 0
    assert "burned-in text cleaner" in result.stderr


def test_a_worker_refuses_to_start(broken_platform):
    result = _run(
        ["-m", "celery", "-A", "teaching_archive", "worker", "--pool=solo", "--without-mingle"],
        broken_platform,
    )
    assert result.returncode != 0
    assert "burned-in text cleaner" in result.stderr


def test_a_healthy_platform_passes_the_check():
    result = _run(["manage.py", "check"], dict(os.environ))
    assert result.returncode == 0, result.stderr


def test_the_anonymize_command_refuses_too(broken_platform, tmp_path):
    result = _run(
        ["manage.py", "anonymize", str(tmp_path), "--out", str(tmp_path / "out"),
         "--report", str(tmp_path / "r.json")],
        broken_platform,
    )  # fmt: skip
    assert result.returncode != 0
    assert "burned-in text cleaner" in result.stderr


def _ct():
    import pydicom
    from pydicom.data import get_testdata_file

    return pydicom.dcmread(get_testdata_file("CT_small.dcm"))


def _deidentify(ds):
    from django.conf import settings

    from archive.deid import Policy, deidentify_dataset
    from archive.services.policy import load_pixel_cleaner

    policy = Policy(
        uid_key=settings.DEID_UID_KEY.encode(),
        pseudonym_key=settings.DEID_PSEUDONYM_KEY.encode(),
        pixel_cleaner=load_pixel_cleaner(),
    )
    return deidentify_dataset(ds, policy)


def test_pixel_data_the_cleaner_cannot_scan_is_quarantined():
    import numpy as np
    from pydicom.pixels import pack_bits

    floats = _ct()
    pixels = floats.pixel_array.astype(np.float32)
    del floats.PixelData
    floats.BitsAllocated = 32
    floats.FloatPixelData = pixels.tobytes()
    result = _deidentify(floats)
    assert result.status == "quarantined"
    assert any("Float pixel data" in r for r in result.reasons)

    bitmap = _ct()
    bits = (bitmap.pixel_array > bitmap.pixel_array.mean()).astype(np.uint8)
    bitmap.BitsAllocated, bitmap.BitsStored, bitmap.HighBit = 1, 1, 0
    bitmap.PixelRepresentation = 0
    bitmap.PixelData = pack_bits(bits)
    result = _deidentify(bitmap)
    assert result.status == "quarantined"
    assert any("1-bit pixel data" in r for r in result.reasons)

    assert _deidentify(_ct()).status == "anonymized"  # a scannable image passes
