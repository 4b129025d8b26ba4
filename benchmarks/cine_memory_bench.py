"""Peak memory of long cines (a YBR JPEG echo, a native RGB one) through de-identification.

    .venv/bin/python benchmarks/cine_memory_bench.py [--frames 4000] [--native-frames 600] [--plain]

The cine: the header of pydicom's ``examples_ybr_color.dcm`` (a real ultrasound echo, 320x240
YBR_FULL_422 JPEG baseline, 30 frames, with the vendor's labels burned in) and its 30 real
frames repeated to ``--frames`` (a synthetic sequence of real frames), 225 KiB decoded per
frame — within the declared-size limits (``archive/deid/limits.py``: 200 MiB a frame, 4 GiB a
file), so it is processed, not rejected. Each measurement runs in a fresh child process and
reports its wall time and peak resident memory (``ru_maxrss``):

* ``deidentify_bytes`` + ``written`` with the archive's policy (what the worker runs: header,
  burned-in text on every frame, re-encoding, writing the file and verifying it as written);
  at ``--frames`` and at a tenth of them, which shows how memory grows with the frame count;
* a native (uncompressed) cine, ``tests/hostile/native_cine_child.py``: 512x512 RGB,
  ``--native-frames`` 600 (450 MiB in and out), the name and a label burned in on every frame,
  the worker's whole way: from the received file in the holding storage (opened, its Pixel
  Data read a frame at a time) to the output stored in the instance storage;
* with ``--plain``, a plain pydicom read + decode of every frame (``pixel_array``) + write.

2026-12-01 03:13-03:21 UTC, shared 2-core machine at load 5.7-6.4 (wall times are the load's;
CPU and memory are not):

=====================  ==============================================  =========================
                       de-identified (anonymized)                      before the spools
=====================  ==============================================  =========================
YBR JPEG, 400 frames   peak 230 MiB (+34 MiB), 14.3 s CPU              peak 255 MiB
YBR JPEG, 4,000        **peak 259 MiB (+41 MiB)**, 109 s CPU           peak 580 MiB (+363 MiB)
native RGB, 600        **peak 223 MiB (+13 MiB)**, storage to storage  peak 1,566 MiB (+906 MiB
                       (04:03 UTC; read whole: 674 MiB, +17 MiB)       over the 450 MiB read)
plain pydicom          4,000 frames: peak 8,038 MiB; 400: 852 MiB      (2026-11-30)
=====================  ==============================================  =========================

The cleaner walks the frames one at a time (``archive/deid/pixels/cleaner.py``): one pass
compares each frame with the first, a second examines the scanned frames and those that
changed outside the moving image, a third redacts, verifies and re-encodes each frame and
appends it to a spool (``archive/deid/spool.py``): in memory up to 8 MiB, then an unnamed
temporary file, which becomes the dataset's Pixel Data as it is (pydicom decodes and writes a
buffered value in pieces).  The Part-10 file is written into another spool, read back and
searched where it lies a piece at a time (``engine._verify_written``), and streamed into
storage; the worker opens the received file and its Pixel Data is a view of the file
(``FileView``), read a frame at a time, never the received bytes whole.  Nothing
grows with the frame count any more: the 4,000-frame cine's output (JPEG-LS, 160 MiB) was held
twice before (dataset and written bytes: +363 MiB), the native cine's three times (the input's
copy in the dataset, the output in the dataset and as written bytes: +906 MiB).  The price is
CPU and disk: every frame is decoded three times (2.5 ms a frame for this JPEG; a single-frame
image is decoded once), and a large output is written to disk twice (the frames, then the file).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
NATIVE_CHILD = ROOT / "tests" / "hostile" / "native_cine_child.py"


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
        out_size = result.written().size  # the file to store (a spool: on disk past 8 MiB)
        status = result.status
        result.close()
    else:
        import pydicom

        ds = pydicom.dcmread(io.BytesIO(data))
        ds.pixel_array  # noqa: B018 - decodes every frame
        buffer = io.BytesIO()
        ds.save_as(buffer)
        out_size = len(buffer.getvalue())
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
                "out_mib": out_size / 1024**2,
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


def measure_native(frames: int) -> dict:
    """The native cine of ``tests/hostile/native_cine_child.py`` (its own fresh child)."""
    with tempfile.TemporaryDirectory() as folder:
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, str(NATIVE_CHILD), str(frames), folder],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    report = json.loads(done.stdout.strip().splitlines()[-1])
    report["seconds"] = time.monotonic() - started
    return report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=4000)
    parser.add_argument("--native-frames", type=int, default=600)
    parser.add_argument("--plain", action="store_true", help="also plain pydicom (8 GiB peak)")
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.frames)
        return
    for frames in (args.frames // 10, args.frames):
        deid = measure("deid", frames)
        line = (
            f"YBR JPEG cine, {frames} frames ({deid['in_mib']:.1f} MiB in, "
            f"{deid['out_mib']:.1f} MiB out): {deid['status']} in {deid['seconds']:.1f} s "
            f"({deid['cpu_seconds']:.1f} s CPU), peak {deid['peak_mib']:.0f} MiB "
            f"({deid['peak_mib'] - deid['before_mib']:.0f} MiB over the loaded process)"
        )
        if args.plain:
            plain = measure("plain", frames)
            line += (
                f"; plain pydicom {plain['seconds']:.1f} s, peak {plain['peak_mib']:.0f} MiB; "
                f"ratio {deid['peak_mib'] / plain['peak_mib']:.2f}x"
            )
        print(line, flush=True)
    native = measure_native(args.native_frames)
    print(
        f"native RGB cine, {args.native_frames} frames ({native['in_mib']:.0f} MiB in, "
        f"{native['out_mib']:.0f} MiB out): {native['status']} in {native['seconds']:.1f} s, "
        f"peak {native['peak_mib']:.0f} MiB ({native['peak_mib'] - native['before_mib']:.0f} "
        f"MiB over the loaded process, from the stored received file to the stored output)"
    )


if __name__ == "__main__":
    main()
