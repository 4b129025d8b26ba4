"""``manage.py anonymize`` command-line contract."""

from __future__ import annotations

import json
from pathlib import Path

import pydicom
from django.core.management import call_command

from archive.deid.engine import PIXELS_NOT_CHECKED
from tests.deid.conftest import PHI, inject_phi, load, load_bytes, to_bytes


def test_anonymize_command(tmp_path: Path) -> None:
    in_dir = tmp_path / "in"
    (in_dir / f"{PHI['name_family']}_study").mkdir(parents=True)
    (in_dir / f"{PHI['name_family']}_study" / f"{PHI['patient_id']}.dcm").write_bytes(
        to_bytes(inject_phi(load("CT_small.dcm")))
    )
    (in_dir / "rtstruct.dcm").write_bytes(load_bytes("rtstruct.dcm"))
    (in_dir / "truncated.dcm").write_bytes(load_bytes("MR_truncated.dcm"))
    (in_dir / "empty.dcm").write_bytes(b"")
    (in_dir / "notes.txt").write_text("not dicom")
    out_dir = tmp_path / "out"
    report = tmp_path / "report.json"

    call_command("anonymize", str(in_dir), "--out", str(out_dir), "--report", str(report))

    files = json.loads(report.read_text())["files"]
    by_name = {Path(f["input"]).name: f for f in files}
    assert len(files) == 5
    assert by_name[f"{PHI['patient_id']}.dcm"]["status"] == "anonymized"
    assert by_name["rtstruct.dcm"]["status"] == "anonymized"
    for name in ("truncated.dcm", "empty.dcm", "notes.txt"):
        assert by_name[name]["status"] == "rejected"
        assert by_name[name]["output"] is None
        assert by_name[name]["reason"]
    outputs = sorted(out_dir.iterdir())
    assert len(outputs) == 2
    for path in outputs:
        assert PHI["name_family"] not in path.name and PHI["patient_id"] not in path.name
        ds = pydicom.dcmread(path)
        assert path.name == f"{ds.SOPInstanceUID}.dcm"
        assert PHI["name_family"].encode() not in path.read_bytes()


def test_anonymize_command_without_pixel_cleaning_writes_no_image(tmp_path: Path) -> None:
    """``--no-pixels``: burned-in text is not looked for, so an image is not published."""
    in_dir = tmp_path / "in"
    in_dir.mkdir()
    (in_dir / "ct.dcm").write_bytes(to_bytes(inject_phi(load("CT_small.dcm"))))
    (in_dir / "rtstruct.dcm").write_bytes(load_bytes("rtstruct.dcm"))
    out_dir = tmp_path / "out"
    report = tmp_path / "report.json"

    call_command("anonymize", str(in_dir), "--out", str(out_dir), "--report", str(report),
                 "--no-pixels")  # fmt: skip

    by_name = {Path(f["input"]).name: f for f in json.loads(report.read_text())["files"]}
    assert by_name["ct.dcm"]["status"] == "quarantined"
    assert by_name["ct.dcm"]["output"] is None
    assert by_name["ct.dcm"]["reason"] == PIXELS_NOT_CHECKED
    assert by_name["rtstruct.dcm"]["status"] == "anonymized"  # no pixel data
    assert [p.name for p in out_dir.iterdir()] == [Path(by_name["rtstruct.dcm"]["output"]).name]


def test_anonymize_command_reads_a_cine_from_its_file(tmp_path: Path, monkeypatch) -> None:
    """The command opens each file rather than reading it whole: a cine's Pixel Data is read
    from the file a frame at a time (the worker's way) and comes out as it does from bytes."""
    from archive.deid import reading, spool

    in_dir = tmp_path / "in"
    in_dir.mkdir()
    (in_dir / "cine.dcm").write_bytes(to_bytes(inject_phi(load("examples_ybr_color.dcm"))))

    def run(out: str) -> pydicom.Dataset:
        report = tmp_path / f"{out}.json"
        call_command("anonymize", str(in_dir), "--out", str(tmp_path / out), "--report",
                     str(report))  # fmt: skip
        (entry,) = json.loads(report.read_text())["files"]
        assert entry["status"] == "anonymized", entry["reason"]
        return pydicom.dcmread(entry["output"])

    whole = run("whole")
    opened_as_views = []
    view = spool.FileView

    class Watched(view):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            opened_as_views.append(self)

    monkeypatch.setattr(spool, "SPOOL_MEMORY", 64)
    monkeypatch.setattr(reading, "SPOOL_MEMORY", 64)
    monkeypatch.setattr(reading, "FileView", Watched)
    monkeypatch.setattr(spool, "FileView", Watched)
    from_file = run("from_file")

    assert opened_as_views, "the Pixel Data was not read from the open file"
    assert int(from_file.NumberOfFrames) == int(whole.NumberOfFrames) == 30
    assert from_file.PixelData == whole.PixelData
    assert PHI["name_family"] not in str(from_file.PatientName)
