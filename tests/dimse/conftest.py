"""A DICOM listener on a free port in this process, a registered node, and peers to call it."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

from archive.dimse.listener import DicomListener
from archive.models import RemoteNode
from tests.conftest import dicom_bytes
from tests.phi import SyntheticPatient, inject_phi, unique_copy

CALLING_AET = "TESTPACS"
CALLED_AET = "TEACHARCHIVE"


@pytest.fixture
def listener(transactional_db, storage_dirs) -> Iterator[DicomListener]:
    server = DicomListener(ae_title=CALLED_AET, host="127.0.0.1", port=0, network_timeout=5)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def node(teacher) -> RemoteNode:
    return RemoteNode.objects.create(ae_title=CALLING_AET, teacher=teacher)


def phi_dataset(name: str, patient: SyntheticPatient) -> pydicom.Dataset:
    ds = pydicom.dcmread(get_testdata_file(name))
    inject_phi(ds, patient)
    return ds


def write_series(folder: Path, name: str, patient: SyntheticPatient, count: int = 1) -> list[Path]:
    """``count`` instances of one series (unique SOP Instance UIDs), as files with PHI."""
    folder.mkdir(parents=True, exist_ok=True)
    base = phi_dataset(name, patient)
    paths = []
    for number in range(1, count + 1):
        ds = unique_copy(base, number) if count > 1 else base
        path = folder / f"{patient.family}_{number:03d}.dcm"  # names carry PHI, as exports do
        path.write_bytes(dicom_bytes(ds))
        paths.append(path)
    return paths


def storescu(
    port: int, paths: list[Path], *, calling: str = CALLING_AET
) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["storescu", "-aet", calling, "-aec", CALLED_AET, "127.0.0.1", str(port), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def echoscu(port: int, *, calling: str = CALLING_AET) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["echoscu", "-aet", calling, "-aec", CALLED_AET, "127.0.0.1", str(port)],
        capture_output=True,
        text=True,
        timeout=30,
    )


def holding_files(storage_dirs) -> list[Path]:
    return [p for p in storage_dirs["holding"].rglob("*") if p.is_file()]
