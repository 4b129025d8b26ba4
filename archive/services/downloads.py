"""The anonymized study as a zip of DICOM files, streamed while it is written.

Members are named by sequence (``series-01/image-0001.dcm``), never by an original file name,
and a README.txt says what was done to the images. For a quiz case the headers are scrubbed of
every way of writing the diagnosis (descriptions the Clean Descriptors option kept because they
looked clinical, e.g. "CT chest pneumothorax"), so a download cannot give the answer away.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator

import pydicom

from archive.models import Case, Instance
from archive.privacy import redact_dataset

CHUNK = 256 * 1024

README = """\
Anonymized teaching case {case_number}
=====================================

These DICOM files come from an anonymous teaching archive. Before anything was stored they were
de-identified with the DICOM PS3.15 Basic Application Level Confidentiality Profile (with the
Clean Descriptors option): names, identifiers, addresses and free-text comments were removed or
replaced, dates were shifted by a per-patient offset (intervals are kept), UIDs were replaced by
pseudonymous ones (references between the files still resolve), private tags and overlays were
removed, and burned-in text found in the pixels was blacked out. Each file passed a check for
residual personal data.

The files are named by sequence only: series-NN/image-NNNN.dcm, in series and instance order.

Use them for teaching and learning only. If you find anything that could identify a patient,
do not share the files and tell a curator of the archive at once.
"""


class _Sink(io.RawIOBase):
    """A write-only, unseekable stream whose bytes are taken out after every write."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._written = 0

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:  # type: ignore[override]
        data = bytes(b)
        self._parts.append(data)
        self._written += len(data)
        return len(data)

    def tell(self) -> int:
        return self._written

    def take(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


def ordered_instances(case: Case) -> list[Instance]:
    return list(
        Instance.objects.filter(series__study__case=case)
        .select_related("series")
        .order_by("series__study_id", "series__number", "series_id", "instance_number", "pk")
    )


def instance_bytes(instance: Instance, terms: Iterable[str] = ()) -> Iterator[bytes]:
    """The stored file, or, when there are terms to hide, the file re-written without them."""
    terms = list(terms)
    with instance.file.open("rb") as fh:
        if not terms:
            while chunk := fh.read(CHUNK):
                yield chunk
            return
        ds = pydicom.dcmread(fh)
    redact_dataset(ds, terms)
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    yield out.getvalue()


def member_names(instances: list[Instance]) -> list[str]:
    names, series_numbers = [], {}
    per_series: dict[int, int] = {}
    for inst in instances:
        number = series_numbers.setdefault(inst.series_id, len(series_numbers) + 1)
        per_series[inst.series_id] = per_series.get(inst.series_id, 0) + 1
        names.append(f"series-{number:02d}/image-{per_series[inst.series_id]:04d}.dcm")
    return names


def study_zip_name(case: Case) -> str:
    return f"case-{case.pk}-anonymized.zip"


def stream_study_zip(case: Case, terms: Iterable[str] = ()) -> Iterator[bytes]:
    """Yield the zip of all anonymized instances of the case, a piece at a time, with ``terms``
    (what ``archive.privacy`` hides from the user downloading it) scrubbed from the headers."""
    terms = list(terms)
    instances = ordered_instances(case)
    sink = _Sink()
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("README.txt", README.format(case_number=case.pk))
        for inst, name in zip(instances, member_names(instances), strict=True):
            with zf.open(name, mode="w", force_zip64=True) as member:
                for chunk in instance_bytes(inst, terms):
                    member.write(chunk)
                    if data := sink.take():
                        yield data
            if data := sink.take():
                yield data
    if data := sink.take():
        yield data
