"""dciodvfy (Debian package ``dicom3tools``) reports no new errors on our output."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from archive.deid import Policy, deidentify_bytes
from tests.deid.conftest import load_bytes

pytestmark = pytest.mark.skipif(
    shutil.which("dciodvfy") is None, reason="dciodvfy not installed (apt: dicom3tools)"
)


def _error_count(path: Path) -> int:
    run = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, timeout=60)
    return sum(line.startswith("Error") for line in (run.stdout + run.stderr).splitlines())


@pytest.mark.parametrize(
    "name", ["CT_small.dcm", "MR_small.dcm", "rtstruct.dcm", "rtplan.dcm", "test-SR.dcm"]
)
def test_no_new_dciodvfy_errors(tmp_path: Path, policy: Policy, name: str) -> None:
    data = load_bytes(name)
    source = tmp_path / "in.dcm"
    source.write_bytes(data)
    target = tmp_path / "out.dcm"
    target.write_bytes(deidentify_bytes(data, policy).to_bytes())
    assert _error_count(target) <= _error_count(source)
