"""Header de-identification throughput: our engine vs dicognito, same files, same run.

Usage::

    python benchmarks/deid_bench.py [--rounds N]

Two figures, each best of ``--repeat`` runs:

1. bytes in: both sides start from the same in-memory bytes and parse them
   (``deidentify_bytes`` parses, collects hints, de-identifies and verifies;
   dicognito gets ``dcmread`` + ``Anonymizer.anonymize``);
2. parsed dataset in (header path): both get the same freshly parsed datasets
   (``deidentify_dataset(..., in_place=True)`` vs ``Anonymizer.anonymize``).

Encoding the output is excluded on both sides; pixel cleaning is not part of
the header path.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pydicom  # noqa: E402
from dicognito.anonymizer import Anonymizer  # noqa: E402
from pydicom.data import get_testdata_file  # noqa: E402

from archive.deid import Policy, deidentify_bytes, deidentify_dataset  # noqa: E402

FILES = [
    "CT_small.dcm",
    "MR_small.dcm",
    "MR_small_RLE.dcm",
    "JPEG2000.dcm",
    "JPGExtended.dcm",
    "image_dfl.dcm",
    "examples_overlay.dcm",
    "rtstruct.dcm",
    "rtplan.dcm",
    "rtdose.dcm",
    "test-SR.dcm",
    "waveform_ecg.dcm",
    "SC_rgb_rle_2frame.dcm",
    "MR_small_bigendian.dcm",
    "MR_small_implicit.dcm",
]


def _load() -> list[bytes]:
    blobs = []
    for name in FILES:
        path = get_testdata_file(name)
        if path:
            blobs.append(Path(path).read_bytes())
    return blobs


def _ours(blobs: list[bytes], rounds: int) -> float:
    policy = Policy(uid_key=b"bench-uid-key-0123456789", pseudonym_key=b"bench-pseudo-0123456789")
    start = time.perf_counter()
    for _ in range(rounds):
        for data in blobs:
            deidentify_bytes(data, policy)
    return rounds * len(blobs) / (time.perf_counter() - start)


def _dicognito(blobs: list[bytes], rounds: int) -> float:
    anonymizer = Anonymizer(seed="bench")
    start = time.perf_counter()
    for _ in range(rounds):
        for data in blobs:
            ds = pydicom.dcmread(io.BytesIO(data), force=True)
            anonymizer.anonymize(ds)
    return rounds * len(blobs) / (time.perf_counter() - start)


def _parsed(blobs: list[bytes], rounds: int) -> list[pydicom.Dataset]:
    return [pydicom.dcmread(io.BytesIO(d), force=True) for _ in range(rounds) for d in blobs]


def _ours_parsed(datasets: list[pydicom.Dataset]) -> float:
    policy = Policy(uid_key=b"bench-uid-key-0123456789", pseudonym_key=b"bench-pseudo-0123456789")
    start = time.perf_counter()
    for ds in datasets:
        deidentify_dataset(ds, policy, in_place=True)
    return len(datasets) / (time.perf_counter() - start)


def _dicognito_parsed(datasets: list[pydicom.Dataset]) -> float:
    anonymizer = Anonymizer(seed="bench")
    start = time.perf_counter()
    for ds in datasets:
        anonymizer.anonymize(ds)
    return len(datasets) / (time.perf_counter() - start)


def _report(label: str, ours: float, theirs: float) -> None:
    print(f"{label}")
    print(f"  archive.deid : {ours:8.1f} files/s")
    print(f"  dicognito    : {theirs:8.1f} files/s")
    print(f"  ratio        : {ours / theirs:8.2f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    blobs = _load()
    _ours(blobs, 1)  # warm caches (compiled table, imports) on both sides
    _dicognito(blobs, 1)
    print(f"files: {len(blobs)} x {args.rounds} rounds (best of {args.repeat})")
    ours = max(_ours(blobs, args.rounds) for _ in range(args.repeat))
    theirs = max(_dicognito(blobs, args.rounds) for _ in range(args.repeat))
    _report("bytes in (parse + de-identify + verify; dicognito: parse + anonymize)", ours, theirs)
    # Header path only: both get freshly parsed, not yet decoded datasets.
    ours = max(_ours_parsed(_parsed(blobs, args.rounds)) for _ in range(args.repeat))
    theirs = max(_dicognito_parsed(_parsed(blobs, args.rounds)) for _ in range(args.repeat))
    _report("parsed dataset in (header path only)", ours, theirs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
