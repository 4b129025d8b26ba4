"""The committed viewer bundle (static/viewer/) is exactly what frontend/ builds from its
lockfile: `make run` serves it without Node, so a change to the sources that was not rebuilt,
or a hand-edited bundle, must fail here."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.e2e


def test_committed_bundle_is_what_the_lockfile_builds():
    assert shutil.which("node") and shutil.which("npm"), "Node 20 and npm are needed to check"
    result = subprocess.run(
        ["make", "--no-print-directory", "assets-check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "static/viewer is what frontend/ builds." in result.stdout


def test_bundle_ships_no_image_codec():
    """Frames come uncompressed from our WADO-RS: no WebAssembly decoder is bundled."""
    bundle = (REPO / "static/viewer/viewer.js").read_text(encoding="utf-8")
    worker = (REPO / "static/viewer/decodeImageFrameWorker.js").read_text(encoding="utf-8")
    assert "no image codec is shipped" in worker
    for text in (bundle, worker):
        assert not re.search(r"\.wasm['\"`]", text), "a WebAssembly module is referenced"
        for codec in ("charlswasm", "openjpegwasm", "libjpegturbowasm", "openjphjs"):
            assert codec not in text, codec
    assert not list((REPO / "static/viewer").glob("*.wasm"))
