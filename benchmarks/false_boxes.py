"""Boxes the redaction draws on pydicom's own test files, which carry no synthetic text.

    .venv/bin/python benchmarks/false_boxes.py before.json      # on the code before a change
    .venv/bin/python benchmarks/false_boxes.py after.json       # on the change
    .venv/bin/python benchmarks/false_boxes.py --cmp before.json after.json

Every readable file with Pixel Data goes through ``clean_pixels`` as an upload would (no header
hints); its boxes (frame, x0, y0, x1, y1, reason) are saved per file name.  A few of these files
carry a vendor's own burned-in text (ultrasound screens, a CT with a label), so a box is not a
false one by itself: what a change must not do is add or move boxes on files it was not meant
for.  ``--cmp`` lists every file whose boxes differ between two runs and exits 1 if any does.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _boxes() -> dict[str, list]:
    import pydicom
    from pydicom.data import get_testdata_files

    from archive.deid.pixels import clean_pixels

    out: dict[str, list] = {}
    for path in sorted(get_testdata_files("*")):
        try:
            ds = pydicom.dcmread(path)
            if "PixelData" not in ds:
                continue
            ds.pixel_array  # noqa: B018 (only files pydicom can decode)
        except Exception:  # noqa: BLE001 (a test file meant to be unreadable)
            continue
        try:
            result = clean_pixels(ds)
            out[Path(path).name] = [list(box) for box in result.boxes]
        except Exception as exc:  # noqa: BLE001 (reported per file, the run goes on)
            out[Path(path).name] = ["error", type(exc).__name__]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cmp", nargs=2, metavar=("BEFORE", "AFTER"))
    parser.add_argument("out", nargs="?", help="where to save this run's boxes (JSON)")
    args = parser.parse_args()
    if args.cmp:
        before, after = (json.loads(Path(p).read_text()) for p in args.cmp)
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        for name in changed:
            print(f"{name}\n  before {before.get(name)}\n  after  {after.get(name)}")
        boxed = (sum(1 for v in run.values() if v) for run in (before, after))
        print("files with boxes: {} -> {}; files changed: {}".format(*boxed, len(changed)))
        return 1 if changed else 0
    if not args.out:
        parser.error("give a file to save the boxes in, or --cmp BEFORE AFTER")
    warnings.filterwarnings("ignore")
    boxes = _boxes()
    Path(args.out).write_text(json.dumps(boxes, indent=0))
    print(f"{len(boxes)} files, {sum(1 for v in boxes.values() if v)} with boxes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
