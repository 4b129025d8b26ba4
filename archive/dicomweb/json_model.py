"""Query results and metadata in the DICOM JSON Model (PS3.18 F.2), built with pydicom.

Attribute sets follow PS3.18 Table 10.6.3-3/-4/-5 (QIDO-RS study, series and instance
attributes). All values come from anonymized data: pseudonymous UIDs and patient IDs, shifted
dates, headers of the de-identified files.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pydicom
from pydicom import Dataset
from pydicom.tag import Tag

from archive.models import Instance, Series, Study
from archive.privacy import redact_dataset

__all__ = ["instance_json", "metadata_json", "series_json", "study_json"]

PIXEL_DATA = Tag(0x7FE00010)
# Patient/study attributes read from an anonymized header for study-level results.
_STUDY_HEADER_KEYWORDS = ["PatientName", "PatientSex", "PatientAge", "StudyTime", "StudyID",
                          "AccessionNumber", "ReferringPhysicianName"]  # fmt: skip


def _header(instance: Instance | None) -> Dataset:
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
) -> dict:
    header = _header(first_instance)
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
    redact_dataset(ds, hidden_terms)
    return ds.to_json_dict()


def series_json(
    series: Series, *, n_instances: int, retrieve_url: str, hidden_terms: Sequence[str] = ()
) -> dict:
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
    redact_dataset(ds, hidden_terms)
    return ds.to_json_dict()


def instance_json(instance: Instance, *, retrieve_url: str) -> dict:
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
    return ds.to_json_dict()


def metadata_json(
    instance: Instance, *, bulk_data_uri: Callable[[int], str], hidden_terms: Sequence[str] = ()
) -> dict:
    """All attributes of an anonymized instance, without ``hidden_terms`` (what the privacy
    policy hides from this user); Pixel Data as a BulkDataURI."""
    with instance.file.open("rb") as fh:
        ds = pydicom.dcmread(fh, stop_before_pixels=True)
    redact_dataset(ds, hidden_terms)
    out = ds.to_json_dict(bulk_data_threshold=10**9)
    if instance.has_pixels:
        vr = "OB" if ds.file_meta.TransferSyntaxUID.is_compressed else "OW"
        out["7FE00010"] = {"vr": vr, "BulkDataURI": bulk_data_uri(PIXEL_DATA)}
    return out
