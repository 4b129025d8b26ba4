"""Child process of ``test_cine_memory``: de-identify a long cine and print, as JSON, the peak
resident memory before and after (``ru_maxrss``), and the input's and output's sizes.

    python tests/hostile/cine_child.py FRAMES

The cine: a 512x512 RGB ultrasound-like sequence (a grey sector whose disc moves from frame to
frame, a vendor's label and the synthetic patient's name burned in above it), RLE Lossless,
768 KiB a frame decoded: every frame is redacted and re-encoded. A fresh process, so that its
peak is its own.
"""

from __future__ import annotations

import io
import json
import os
import resource
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def build(frames: int) -> bytes:
    import cv2
    import numpy as np
    import pydicom
    from pydicom.data import get_testdata_file
    from pydicom.encaps import encapsulate
    from pydicom.pixels import get_encoder
    from pydicom.uid import RLELossless

    ds = pydicom.dcmread(get_testdata_file("examples_ybr_color.dcm"))  # a real echo's header
    rows = cols = 512
    y, x = np.mgrid[:rows, :cols]
    sector = ((x - 256) ** 2 + y**2 < 480**2) & (np.abs(x - 256) < y * 0.9)
    base = np.where(sector, 40 + (y // 8) % 30, 0).astype(np.uint8)
    for row, text in ((20, "SYNTHETIC^CINE"), (44, "ACME ECHO 3.5MHZ")):
        cv2.putText(base, text, (12, row), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 230, 1, cv2.LINE_AA)
    encoder = get_encoder(RLELossless)
    kwargs = {
        "rows": rows,
        "columns": cols,
        "number_of_frames": 1,
        "samples_per_pixel": 3,
        "bits_allocated": 8,
        "bits_stored": 8,
        "pixel_representation": 0,
        "photometric_interpretation": "RGB",
        "planar_configuration": 0,
    }
    distinct = []
    for k in range(8):  # a disc (a heart chamber) moving through the sector
        frame = base.copy()
        disc = (x - 200 - 15 * k) ** 2 + (y - 250) ** 2 < 60**2
        frame[disc & sector] = 150
        distinct.append(encoder.encode(np.repeat(frame[..., None], 3, axis=2), **kwargs))
    ds.PixelData = encapsulate([distinct[i % len(distinct)] for i in range(frames)])
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = RLELossless
    ds.Rows, ds.Columns = rows, cols
    ds.PhotometricInterpretation = "RGB"
    ds.PlanarConfiguration = 0
    ds.NumberOfFrames = frames
    for keyword in ("LossyImageCompression", "LossyImageCompressionRatio"):
        if keyword in ds:
            delattr(ds, keyword)
    ds.PatientName = "Synthetic^Cine"
    ds.PatientID = "SYNCINE1"
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def main() -> None:
    frames = int(sys.argv[1])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "teaching_archive.settings")
    import django

    django.setup()
    from archive.deid import deidentify_bytes
    from archive.services.policy import archive_policy, check_pixel_cleaner

    check_pixel_cleaner()  # the worker loads the models at start, not per file
    data = build(frames)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = deidentify_bytes(data, archive_policy())
    out = result.to_bytes()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "status": str(result.status),
                "reasons": result.reasons,
                "before_mib": before,
                "peak_mib": peak,
                "in_mib": len(data) / 1024**2,
                "out_mib": len(out) / 1024**2,
                "frame_mib": 512 * 512 * 3 / 1024**2,
                "boxes": len(result.pixel_report.get("boxes", [])),
            }
        )
    )


if __name__ == "__main__":
    main()
