"""Image-by-image comparison of two ``redaction_precision_bench.py --verbose`` runs.

    .venv/bin/python benchmarks/redaction_precision_bench.py --random 12 --seed 8 \\
        --no-baseline --verbose > before.log      # on the code before a change
    .venv/bin/python benchmarks/redaction_precision_bench.py --random 12 --seed 8 \\
        --no-baseline --verbose > after.log       # on the change
    .venv/bin/python benchmarks/compare_precision_runs.py before.log after.log

A change to the redaction is judged per image, not by its totals: a string gained on one image
and lost on another leaves the totals equal and a name on a teaching slide.  Prints every image
where a string was lost (LOST) or gained, every image pushed over 1 % collateral (OVER) or
brought back under it, collateral moves of 0.3 points or more, and the totals of both runs.
Exits 1 if any string was lost or any image pushed over 1 %, so a script can stop on it.

Only the cleaner's lines are read (the whole-frame OCR baseline's lines that follow them are
not); images present in one run only (a base image added since) are listed apart.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import NamedTuple

_LINE = re.compile(
    r"^ {4}(?P<key>\S+)\s+(?P<scene>.+?)\s+removed (?P<removed>\d+)/(?P<strings>\d+)"
    r" collateral (?P<collateral>[\d.]+)%"
)
#: collateral at or under this share of non-text pixels is within the goal
GOAL = 1.0
#: collateral moves smaller than this (percentage points) are noise between runs
MOVE = 0.3


class Image(NamedTuple):
    removed: int
    strings: int
    collateral: float


def read_run(path: Path) -> dict[tuple[str, str], Image]:
    """The cleaner's per-image lines of one ``--verbose`` run, by (base image, scene)."""
    images: dict[tuple[str, str], Image] = {}
    for line in path.read_text().splitlines():
        if line.startswith("clean_pixels (this archive)"):
            break  # the cleaner's table; the whole-frame OCR baseline's lines come after it
        m = _LINE.match(line)
        if m:
            images[m["key"], m["scene"]] = Image(
                int(m["removed"]), int(m["strings"]), float(m["collateral"])
            )
    return images


def compare(before: dict, after: dict) -> tuple[list[str], bool]:
    """Report lines, and whether the change lost a string or pushed an image over the goal."""
    lines: list[str] = []
    worse = False
    for name in sorted(before.keys() & after.keys()):
        a, b = before[name], after[name]
        label = f"{name[0]} / {name[1]}"
        if b.removed < a.removed:
            lines.append(f"LOST   {label}: {a.removed} -> {b.removed} of {a.strings}")
            worse = True
        elif b.removed > a.removed:
            lines.append(f"gained {label}: {a.removed} -> {b.removed} of {a.strings}")
        if a.collateral <= GOAL < b.collateral:
            lines.append(f"OVER   {label}: collateral {a.collateral} -> {b.collateral} %")
            worse = True
        elif b.collateral <= GOAL < a.collateral:
            lines.append(f"under  {label}: collateral {a.collateral} -> {b.collateral} %")
        elif abs(b.collateral - a.collateral) >= MOVE:
            lines.append(f"moved  {label}: collateral {a.collateral} -> {b.collateral} %")
    for name in sorted(before.keys() ^ after.keys()):
        side = "first" if name in before else "second"
        lines.append(f"only in the {side} run: {name[0]} / {name[1]}")
    return lines, worse


def totals(images: dict) -> str:
    removed = sum(i.removed for i in images.values())
    strings = sum(i.strings for i in images.values())
    within = sum(1 for i in images.values() if i.collateral <= GOAL)
    return f"{removed}/{strings} strings removed whole, {within}/{len(images)} images within 1 %"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    args = ap.parse_args()
    before, after = read_run(args.before), read_run(args.after)
    if not before or not after:
        sys.exit("no per-image lines found: run the benchmark with --verbose")
    lines, worse = compare(before, after)
    print("\n".join(lines) if lines else "the same on every image")
    print(f"first run:  {totals(before)}")
    print(f"second run: {totals(after)}")
    sys.exit(1 if worse else 0)


if __name__ == "__main__":
    main()
