"""Child process of ``test_native_cine_memory``: de-identify a long NATIVE (uncompressed) cine and
print, as JSON, the peak resident memory (``ru_maxrss``) once the received bytes are in memory
and after de-identification, writing and verifying the output, and the sizes.

    python tests/hostile/native_cine_child.py FRAMES FOLDER

The cine: 512x512 RGB, Explicit VR Little Endian, 768 KiB a frame (600 frames: 450 MiB), a grey
sector whose disc moves from frame to frame, a vendor's label and the synthetic patient's name
burned in above it: every frame is redacted and written again. The input is built on disk a
frame at a time (pydicom writes a buffered Pixel Data in pieces) and read back whole, as the
worker reads a received file, before the first measurement: its bytes are the baseline, what
de-identification adds to them is the growth. A fresh process, so that its peak is its own.
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
    from archive.deid import deidentify_bytes
    from archive.services.policy import archive_policy, check_pixel_cleaner

    check_pixel_cleaner()  # the worker loads the models at start, not per file
    path = folder / "native-cine.dcm"
    build(frames, path)
    policy = archive_policy()
    if "--before-spool" not in sys.argv:  # the benchmark measures the code before spools too
        from archive.deid.spool import configure

        configure(folder)  # the output's temporary file: in the test's folder
    data = path.read_bytes()
    path.unlink()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = deidentify_bytes(data, policy)
    if hasattr(result, "written"):
        written = result.written()
        out_bytes, on_disk = written.size, written.rolled
    else:
        out_bytes, on_disk = len(result.to_bytes()), False
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if hasattr(result, "close"):
        result.close()
    print(
        json.dumps(
            {
                "status": str(result.status),
                "reasons": result.reasons,
                "before_mib": before,
                "peak_mib": peak,
                "in_mib": len(data) / 1024**2,
                "out_mib": out_bytes / 1024**2,
                "output_on_disk": on_disk,
                "frame_mib": FRAME_BYTES / 1024**2,
                "boxes": len(result.pixel_report.get("boxes", [])),
            }
        )
    )


if __name__ == "__main__":
    main()
