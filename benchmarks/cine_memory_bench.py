"""Peak memory of a long ultrasound cine through the de-identification entry point.

    .venv/bin/python benchmarks/cine_memory_bench.py [--frames 4000]

The cine: the header of pydicom's ``examples_ybr_color.dcm`` (a real ultrasound echo, 320x240
YBR_FULL_422 JPEG baseline, 30 frames, with the vendor's labels burned in) and its 30 real
frames repeated to ``--frames`` (a synthetic sequence of real frames), 225 KiB decoded per
frame — within the declared-size limits (``archive/deid/limits.py``: 200 MiB a frame, 4 GiB a
file), so it is processed, not rejected. Each measurement runs in a fresh child process and
reports its wall time and peak resident memory (``ru_maxrss``):

* ``deidentify_bytes`` + ``to_bytes`` with the archive's policy (what the worker runs: header,
  burned-in text on every frame, re-encoding, verification);
* baseline, same run: plain pydicom read + decode of every frame (``pixel_array``) + write;
* both again at a tenth of the frames, which shows how memory grows with the frame count.

2026-12-01, shared 2-core machine at load 5-6 (wall times are the load's; CPU and memory are
not), the de-identification children only (the plain read+decode figures are the 2026-11-30
run's, they do not change):

==================  ===========================================  ==========================
                    de-identified (anonymized)                   plain pydicom read+decode
==================  ===========================================  ==========================
400 frames          peak 255 MiB, 13.4 s CPU                     peak 852 MiB
4,000 frames        **peak 580 MiB**, 105 s CPU (255 s wall)     peak 8,038 MiB
before              4,000: 1,626 MiB, 83 s CPU (at load 7-9);    -
                    400: 342 MiB, 10.3 s CPU (back to back with
                    the 400 above: 13.0 s CPU now)
==================  ===========================================  ==========================

The cleaner walks the frames one at a time (``archive/deid/pixels/cleaner.py``): one pass
compares each frame with the first, a second examines the scanned frames and those that
changed outside the moving image, a third redacts, verifies and re-encodes each frame and
appends it to the output; no decoded frame is kept between frames.  What still grows with the
frame count is the output: this lossy JPEG cine is stored losslessly (JPEG-LS, 160 MiB for
4,000 frames against 24 MiB in), once in the dataset and once as the written file
(``DeidResult.to_bytes``).  Over the loaded process (217 MiB) the 4,000 frames add 363 MiB:
twice the output and ~40 MiB.  The written file is verified without reading its Pixel Data
back and is written from a buffer (pydicom wrote every value through a second buffer: two
passing copies).  Before: all decoded frames (880 MiB) were held together.  The price is
CPU: every frame is decoded three times instead of once (2.5 ms a frame for this JPEG, +26 %
CPU on this cine, where detection is cheap; a single-frame image is decoded once).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def build(frames: int) -> bytes:
    import pydicom
    from pydicom.data import get_testdata_file
    from pydicom.encaps import encapsulate, generate_frames

    ds = pydicom.dcmread(get_testdata_file("examples_ybr_color.dcm"))
    source = list(generate_frames(ds.PixelData, number_of_frames=int(ds.NumberOfFrames)))
    ds.PixelData = encapsulate([source[i % len(source)] for i in range(frames)])
    ds["PixelData"].VR = "OB"
    ds.NumberOfFrames = frames
    ds.PatientName = "Synthetic^Cine"
    ds.PatientID = "SYN4000"
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def child(mode: str, frames: int) -> None:
    data = build(frames)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.monotonic()
    cpu = time.process_time()
    if mode == "deid":
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "teaching_archive.settings")
        import django

        django.setup()
        from archive.deid import deidentify_bytes
        from archive.services.policy import archive_policy, check_pixel_cleaner

        check_pixel_cleaner()  # the worker loads the models at start, not per file
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started, cpu = time.monotonic(), time.process_time()
        result = deidentify_bytes(data, archive_policy())
        out = result.to_bytes()
        status = result.status
    else:
        import pydicom

        ds = pydicom.dcmread(io.BytesIO(data))
        ds.pixel_array  # noqa: B018 - decodes every frame
        buffer = io.BytesIO()
        ds.save_as(buffer)
        out = buffer.getvalue()
        status = "read+decode+write"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "mode": mode,
                "frames": frames,
                "status": status,
                "seconds": time.monotonic() - started,
                "cpu_seconds": time.process_time() - cpu,
                "peak_mib": peak,
                "before_mib": before,
                "in_mib": len(data) / 1024**2,
                "out_mib": len(out) / 1024**2,
            }
        )
    )


def measure(mode: str, frames: int) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--frames", str(frames)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=4000)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.frames)
        return
    for frames in (args.frames // 10, args.frames):
        plain = measure("plain", frames)
        deid = measure("deid", frames)
        print(
            f"{frames} frames ({deid['in_mib']:.1f} MiB in): de-identified ({deid['status']}) "
            f"in {deid['seconds']:.1f} s ({deid['cpu_seconds']:.1f} s CPU), peak "
            f"{deid['peak_mib']:.0f} MiB ({deid['peak_mib'] - deid['before_mib']:.0f} MiB over "
            f"the loaded process); plain pydicom {plain['seconds']:.1f} s, peak "
            f"{plain['peak_mib']:.0f} MiB; ratio {deid['peak_mib'] / plain['peak_mib']:.2f}x"
        )


if __name__ == "__main__":
    main()
