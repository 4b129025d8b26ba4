"""Query results and metadata in the DICOM JSON Model (PS3.18 F.2), built with pydicom.

Attribute sets follow PS3.18 Table 10.6.3-3/-4/-5 (QIDO-RS study, series and instance
attributes). All values come from anonymized data: pseudonymous UIDs and patient IDs, shifted
dates, headers of the de-identified files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import pydicom
from pydicom import Dataset
from pydicom.tag import Tag

from archive.models import Instance, Series, Study
from archive.privacy import redact_dataset

__all__ = [
    "instance_json",
    "metadata_json",
    "read_header",
    "series_json",
    "sop_identity",
    "store_response",
    "study_json",
]

PIXEL_DATA = Tag(0x7FE00010)
# Patient/study attributes read from an anonymized header for study-level results.
_STUDY_HEADER_KEYWORDS = ["PatientName", "PatientSex", "PatientAge", "StudyTime", "StudyID",
                          "AccessionNumber", "ReferringPhysicianName"]  # fmt: skip


#: What ``includefield=all`` adds at each level (PS3.18 Table 10.6.3-3/-4), from a header.
STUDY_ALL = [
    "PatientName",
    "PatientID",
    "IssuerOfPatientID",
    "PatientBirthDate",
    "PatientSex",
    "PatientAge",
    "PatientSize",
    "PatientWeight",
    "StudyDate",
    "StudyTime",
    "AccessionNumber",
    "ReferringPhysicianName",
    "StudyID",
    "StudyDescription",
]
SERIES_ALL = ["Modality", "SeriesDescription", "SeriesNumber", "SeriesDate", "SeriesTime",
              "BodyPartExamined", "Laterality", "ProtocolName", "PatientPosition",
              "PerformedProcedureStepStartDate", "PerformedProcedureStepStartTime",
              "FrameOfReferenceUID", "Manufacturer", "ManufacturerModelName"]  # fmt: skip


def _include(ds: Dataset, source: Dataset, keywords: Iterable[str]) -> None:
    """Copy the requested attributes the result lacks from an anonymized header."""
    for keyword in keywords:
        if keyword not in ds and keyword in source and keyword != "PixelData":
            ds[keyword] = source[keyword]


def _include_everything(ds: Dataset, source: Dataset) -> None:
    for elem in source:
        if elem.tag.group >= 0x0008 and elem.tag != PIXEL_DATA and elem.tag not in ds:
            if elem.VR in ("OB", "OW", "OF", "OD", "OL", "OV", "UN"):
                continue  # binary: retrieve the instance or its metadata for those
            ds.add(elem)


def read_header(instance: Instance | None) -> Dataset:
    if instance is None:
        return Dataset()
    try:
        with instance.file.open("rb") as fh:
            return pydicom.dcmread(fh, stop_before_pixels=True)
    except (OSError, pydicom.errors.InvalidDicomError):
        return Dataset()


def study_json(
    study: Study,
    *,
    modalities: list[str],
    n_series: int,
    n_instances: int,
    first_instance: Instance | None,
    retrieve_url: str,
    hidden_terms: Sequence[str] = (),
    include: Iterable[str] = (),
    include_all: bool = False,
) -> dict:
    header = read_header(first_instance)
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.StudyDate = study.study_date.strftime("%Y%m%d") if study.study_date else ""
    for keyword in _STUDY_HEADER_KEYWORDS:
        if keyword in header:
            setattr(ds, keyword, header.data_element(keyword).value)
    ds.ModalitiesInStudy = sorted(m for m in set(modalities) if m)
    ds.StudyDescription = study.description
    ds.PatientID = study.pseudonymous_patient_id
    ds.StudyInstanceUID = study.study_uid
    ds.NumberOfStudyRelatedSeries = n_series
    ds.NumberOfStudyRelatedInstances = n_instances
    ds.RetrieveURL = retrieve_url
    _include(ds, header, [*include, *(STUDY_ALL if include_all else [])])
    redact_dataset(ds, hidden_terms)
    return ds.to_json_dict()


def series_json(
    series: Series,
    *,
    n_instances: int,
    retrieve_url: str,
    hidden_terms: Sequence[str] = (),
    include: Iterable[str] = (),
    include_all: bool = False,
    first_instance: Instance | None = None,
    study: Dataset | None = None,
) -> dict:
    """A series result; ``study`` adds the study's attributes (top-level ``/series``)."""
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.Modality = series.modality
    ds.SeriesDescription = series.description
    ds.StudyInstanceUID = series.study.study_uid
    ds.SeriesInstanceUID = series.series_uid
    if series.number is not None:
        ds.SeriesNumber = series.number
    ds.BodyPartExamined = series.body_part
    ds.NumberOfSeriesRelatedInstances = n_instances
    ds.RetrieveURL = retrieve_url
    if study is not None:
        _include(ds, study, [e.keyword for e in study if e.keyword])
    include = list(include)
    if include or include_all:
        _include(ds, read_header(first_instance), [*include, *(SERIES_ALL if include_all else [])])
    redact_dataset(ds, hidden_terms)
    return ds.to_json_dict()


def instance_json(
    instance: Instance,
    *,
    retrieve_url: str,
    hidden_terms: Sequence[str] = (),
    include: Iterable[str] = (),
    include_all: bool = False,
    parents: Dataset | None = None,
) -> dict:
    """An instance result; ``parents`` adds study and series attributes (top-level
    ``/instances``)."""
    ds = Dataset()
    ds.SOPClassUID = instance.sop_class_uid
    ds.SOPInstanceUID = instance.sop_uid
    ds.StudyInstanceUID = instance.series.study.study_uid
    ds.SeriesInstanceUID = instance.series.series_uid
    if instance.instance_number is not None:
        ds.InstanceNumber = instance.instance_number
    if instance.has_pixels:
        ds.Rows = instance.rows
        ds.Columns = instance.columns
        ds.NumberOfFrames = instance.frames
    ds.RetrieveURL = retrieve_url
    if parents is not None:
        _include(ds, parents, [e.keyword for e in parents if e.keyword])
    include = list(include)
    if include or include_all:
        own = read_header(instance)
        _include(ds, own, include)
        if include_all:
            _include_everything(ds, own)
    redact_dataset(ds, hidden_terms)
    return ds.to_json_dict()


def metadata_json(
    instance: Instance, *, bulk_data_uri: Callable[[int], str], hidden_terms: Sequence[str] = ()
) -> dict:
    """All attributes of an anonymized instance, without ``hidden_terms`` (what the privacy
    policy hides from this user); Pixel Data as a BulkDataURI."""
    with instance.file.open("rb") as fh:
        ds = pydicom.dcmread(fh, stop_before_pixels=True)
    # The description the teacher gave the series (the archive's pages show it), not the
    # header's: the file keeps what the scanner wrote.
    ds.SeriesDescription = instance.series.description
    redact_dataset(ds, hidden_terms)
    out = ds.to_json_dict(bulk_data_threshold=10**9)
    if instance.has_pixels:
        vr = "OB" if ds.file_meta.TransferSyntaxUID.is_compressed else "OW"
        out["7FE00010"] = {"vr": vr, "BulkDataURI": bulk_data_uri(PIXEL_DATA)}
    return out


#: Failure Reason (0008,1197) for a part that is not a DICOM instance (PS3.4 Table GG.4-1).
CANNOT_UNDERSTAND = 0xC000


def sop_identity(stream) -> tuple[str, str] | None:
    """(SOP Class UID, SOP Instance UID) of a received part, or None if it is not DICOM.

    Only these two UIDs are read, to be echoed to the sender that sent them."""
    try:
        ds = pydicom.dcmread(
            stream, stop_before_pixels=True, specific_tags=["SOPClassUID", "SOPInstanceUID"]
        )
        return str(ds.SOPClassUID), str(ds.SOPInstanceUID)
    except (AttributeError, OSError, ValueError, EOFError, pydicom.errors.InvalidDicomError):
        return None


def store_response(retrieve_url: str, identities: Sequence[tuple[str, str] | None]) -> dict:
    """The STOW-RS response (PS3.18 10.5.3): where to follow the upload, the instances accepted
    for de-identification (Referenced SOP Sequence: the sender's own UIDs; the archive's are
    pseudonymous and known only once processed) and the parts refused as not DICOM (Failed SOP
    Sequence, Failure Reason C000)."""
    ds = Dataset()
    ds.RetrieveURL = retrieve_url
    referenced, failed = [], []
    for identity in identities:
        item = Dataset()
        if identity is None:
            item.FailureReason = CANNOT_UNDERSTAND
            failed.append(item)
            continue
        item.ReferencedSOPClassUID, item.ReferencedSOPInstanceUID = identity
        referenced.append(item)
    if referenced:
        ds.ReferencedSOPSequence = referenced
    if failed:
        ds.FailedSOPSequence = failed
    return ds.to_json_dict()
