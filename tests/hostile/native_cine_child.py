"""Child process of ``test_native_cine_memory``: de-identify a long NATIVE (uncompressed) cine the
way the worker does — from the received file in the holding storage to the output stored in
the instance storage (``processing._deidentify`` and a save of what it staged) — and print, as
JSON, the peak resident memory (``ru_maxrss``) before and after, and the sizes.

    python tests/hostile/native_cine_child.py FRAMES FOLDER

The cine: 512x512 RGB, Explicit VR Little Endian, 768 KiB a frame (600 frames: 450 MiB), a grey
sector whose disc moves from frame to frame, a vendor's label and the synthetic patient's name
burned in above it: every frame is redacted and written again. The input is built in the
holding storage's folder a frame at a time (pydicom writes a buffered Pixel Data in pieces)
before the first measurement; the worker opens it as a file and reads its Pixel Data a frame
at a time, so the growth covers the whole task path, input included. A fresh process, so that
its peak is its own. The storages are folders under FOLDER (no database is touched: the item
is not saved).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

ROWS = COLUMNS = 512
FRAME_BYTES = ROWS * COLUMNS * 3


def build(frames: int, path: Path) -> None:
    import cv2
    import numpy as np
    import pydicom
    from pydicom.data import get_testdata_file
    from pydicom.uid import ExplicitVRLittleEndian

    ds = pydicom.dcmread(get_testdata_file("examples_ybr_color.dcm"))  # a real echo's header
    y, x = np.mgrid[:ROWS, :COLUMNS]
    sector = ((x - 256) ** 2 + y**2 < 480**2) & (np.abs(x - 256) < y * 0.9)
    base = np.where(sector, 40 + (y // 8) % 30, 0).astype(np.uint8)
    for row, text in ((20, "SYNTHETIC^NATIVE"), (44, "ACME ECHO 3.5MHZ")):
        cv2.putText(base, text, (12, row), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 230, 1, cv2.LINE_AA)
    distinct = []
    for k in range(8):  # a disc (a heart chamber) moving through the sector
        frame = base.copy()
        disc = (x - 200 - 15 * k) ** 2 + (y - 250) ** 2 < 60**2
        frame[disc & sector] = 150
        distinct.append(np.repeat(frame[..., None], 3, axis=2).tobytes())
    with tempfile.TemporaryFile(dir=path.parent) as pixels:
        for i in range(frames):
            pixels.write(distinct[i % len(distinct)])
        pixels.seek(0)
        ds.PixelData = pixels  # written from the file a piece at a time
        ds["PixelData"].VR = "OB"
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.Rows, ds.Columns = ROWS, COLUMNS
        ds.PhotometricInterpretation = "RGB"
        ds.PlanarConfiguration = 0
        ds.NumberOfFrames = frames
        for keyword in (
            "LossyImageCompression",
            "LossyImageCompressionRatio",
            "LossyImageCompressionMethod",
        ):
            if keyword in ds:
                delattr(ds, keyword)
        ds.PatientName = "Synthetic^Native"
        ds.PatientID = "SYNNATIVE1"
        ds.save_as(path, enforce_file_format=True)


def main() -> None:
    frames, folder = int(sys.argv[1]), Path(sys.argv[2])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "teaching_archive.settings")
    import django

    django.setup()
    from django.test import override_settings

    from archive.deid.spool import configure
    from archive.models import UploadItem
    from archive.services.policy import check_pixel_cleaner
    from archive.services.processing import _deidentify
    from archive.storage import AliasedStorage
    from teaching_archive.storages import filesystem_storages

    check_pixel_cleaner()  # the worker loads the models at start, not per file
    areas = {area: folder / area for area in ("media", "holding", "quarantine", "render")}
    incoming = folder / "incoming"
    for path in (*areas.values(), incoming):
        path.mkdir()
    storages = {
        **filesystem_storages(
            media=areas["media"],
            holding=areas["holding"],
            quarantine=areas["quarantine"],
            render_cache=areas["render"],
        ),
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages, INCOMING_ROOT=str(incoming)):
        configure(incoming)  # the spools' temporary files: the worker's incoming folder
        build(frames, areas["holding"] / "received.dcm")
        in_bytes = (areas["holding"] / "received.dcm").stat().st_size
        item = UploadItem(raw_file="received.dcm")
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        outcome = _deidentify(item)
        stored = None
        if outcome.staged is not None:
            stored = AliasedStorage("default").save("instances/1/out.dcm", outcome.staged)
            outcome.staged.close()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        out_bytes = (areas["media"] / stored).stat().st_size if stored else 0
        result = outcome.result
        left = sorted(p.name for p in incoming.iterdir())
    print(
        json.dumps(
            {
                "status": str(outcome.status),
                "reasons": [outcome.reason] if outcome.reason else [],
                "before_mib": before,
                "peak_mib": peak,
                "in_mib": in_bytes / 1024**2,
                "out_mib": out_bytes / 1024**2,
                "incoming_left": left,
                "frame_mib": FRAME_BYTES / 1024**2,
                "boxes": len(result.pixel_report.get("boxes", [])) if result else 0,
            }
        )
    )


if __name__ == "__main__":
    main()
