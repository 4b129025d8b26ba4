"""The de-identification engine: PS3.15 Annex E profile applied to one instance.

Flow (PS3.15 E.1.1 and the options of E.3 selected by :class:`Policy`):

1. collect identifying values from the input (:mod:`archive.deid.hints`);
2. per dataset level, remove private groups, curves/overlays and ``X``
   attributes in bulk, and drop elements that cannot be decoded;
3. :meth:`pydicom.dataset.Dataset.walk` applies the compiled Table E.1-1 to the
   remaining elements at every sequence depth;
4. pseudonymous patient identity, age, de-identification method attributes
   and new file meta are written;
5. the optional Clean Pixel Data hook runs;
6. the verifier scans the output; any residual value quarantines the instance.
"""

from __future__ import annotations

import copy
import re
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydicom import Dataset, config, dcmwrite
from pydicom.datadict import keyword_for_tag, tag_for_keyword
from pydicom.dataelem import DataElement
from pydicom.dataset import FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID

from archive.deid.dates import age_between, cap_age, parse_da, shift_da, shift_dt
from archive.deid.elements import RawDataElement, element_vr
from archive.deid.enums import (
    BurnedInAnnotationValues,
    DeidentificationMethodCodeValues,
    DeidStatusValues,
    LongitudinalTemporalInformationModifiedValues,
    PatientIdentityRemovedValues,
)
from archive.deid.hints import PhiHints, collect_phi_hints
from archive.deid.private import SAFE_PRIVATE, is_numeric_value
from archive.deid.profile import Operation, compile_profile
from archive.deid.pseudonyms import PatientPseudonym, pseudonymize_patient
from archive.deid.reading import RejectedInput, read_dataset
from archive.deid.uids import CLASS_UID_TAGS, pseudonymize_uid
from archive.deid.verify import verify

if TYPE_CHECKING:
    from pydicom.dataelem import DataElement

    from archive.deid.policy import Policy

__all__ = ["DeidResult", "deidentify_bytes", "deidentify_dataset"]

IMPLEMENTATION_VERSION_NAME = "TEACHARCH_DEID1"

_DUMMY: dict[str, Any] = {
    "AE": "ANONYMIZED",
    "AS": "000Y",
    "CS": "ANONYMIZED",
    "DA": "19000101",
    "DS": "0",
    "DT": "19000101000000",
    "IS": "0",
    "LO": "ANONYMIZED",
    "LT": "ANONYMIZED",
    "PN": "ANONYMIZED",
    "SH": "ANONYMIZED",
    "ST": "ANONYMIZED",
    "TM": "000000",
    "UC": "ANONYMIZED",
    "UT": "ANONYMIZED",
}

# Short descriptors that the Clean Descriptors Option keeps when they contain no
# identifying value (PS3.15 E.3.5); all other "C" descriptors and every
# free-text comment are removed.
_KEEPABLE_DESCRIPTORS = frozenset(
    t
    for t in (
        tag_for_keyword(k)
        for k in (
            "StudyDescription",
            "SeriesDescription",
            "ProtocolName",
            "PerformedProcedureStepDescription",
            "RequestedProcedureDescription",
            "ScheduledProcedureStepDescription",
            "RequestedSeriesDescription",
            "AcquisitionDeviceProcessingDescription",
            "ContrastBolusAgent",
            "ROIName",
            "ROIObservationLabel",
            "RTPlanLabel",
            "RTPlanName",
            "StructureSetLabel",
            "StructureSetName",
            "TreatmentSite",
            "TextValue",
        )
    )
    if t is not None
)
# (group, creator element) slots worth decoding: groups that have safe entries.
_SAFE_CREATOR_SLOTS = frozenset(
    (group, slot) for group in {key[0] for key in SAFE_PRIVATE} for slot in range(0x10, 0x100)
)
# VRs that get a VR-based operation even outside Table E.1-1 (see visit()).
_VISIT_VRS = frozenset({"UI", "DA", "DT", "PN", "UN", "SQ"})
_CLEAN_DESCRIPTOR_RE = re.compile(r"^[A-Za-z0-9 _\-+/().,:&%#*<>=]{0,64}$")
_DIGIT_RUN_RE = re.compile(r"\d{4,}")
_REFERENCE_DATES = ("StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate")


def _tag_text(tag: int) -> str:
    return str(BaseTag(tag))


@dataclass
class DeidResult:
    """Outcome of de-identifying one instance.

    Attributes
    ----------
    dataset : pydicom.Dataset
        The new de-identified dataset, with new file meta.
    status : DeidStatusValues
        ``"anonymized"`` or ``"quarantined"`` (residual PHI or failed pixel
        cleaning); a quarantined dataset must not be published.
    reasons : list of str
        Human-readable reasons for quarantine (and notes); never contain PHI.
    audit : list of dict
        JSON-serializable ``{"keyword", "tag", "action", "count"}`` records of
        what was changed, without values.
    phi_hints : PhiHints
        Identifying values from the input, for the pixel text detector and
        the verifier.  Never log them.
    pixels_clean : bool or None
        ``None`` when no pixel cleaner ran (Burned In Annotation (0028,0301)
        is then left as in the input and the caller decides), ``True`` when it
        reported success (Burned In Annotation set to ``NO``), ``False`` when
        it failed (the instance is quarantined).
    pixel_report : dict
        What the pixel cleaner did, for the teacher's review: ``{"boxes": [[frame, x0, y0, x1,
        y1, reason], ...], "frames": n, "changed": bool}``; empty when no cleaner ran.
    """

    dataset: Dataset
    status: DeidStatusValues
    reasons: list[str]
    audit: list[dict[str, Any]]
    phi_hints: PhiHints = field(repr=False)
    pixels_clean: bool | None = None
    pixel_report: dict[str, Any] = field(default_factory=dict)
    _bytes: bytes | None = field(default=None, repr=False)

    @property
    def sop_instance_uid(self) -> str:
        """The pseudonymous SOP Instance UID (use it to name the output file)."""
        return str(self.dataset.SOPInstanceUID)

    def to_bytes(self) -> bytes:
        """Encode the dataset as a DICOM Part-10 file (PS3.10 7.1), zero preamble."""
        if self._bytes is None:
            buffer = DicomBytesIO()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                dcmwrite(buffer, self.dataset, enforce_file_format=True)
            self._bytes = buffer.getvalue()
        return self._bytes


class _Deidentifier:
    """Per-instance state for the walk callbacks."""

    def __init__(
        self, root: Dataset, policy: Policy, hints: PhiHints, pseudonym: PatientPseudonym
    ) -> None:
        compiled = compile_profile(policy)
        self.root = root
        self.policy = policy
        self.hints = hints
        self.pseudonym = pseudonym
        self.operations = compiled.operations
        self.fallbacks = compiled.fallbacks
        self.shift = policy.shift_dates
        self.days = pseudonym.date_shift_days
        self.audit: Counter[tuple[str, str, str]] = Counter()

    # -- audit -----------------------------------------------------------
    def record(self, tag: int, action: str) -> None:
        tag = BaseTag(tag)
        keyword = "" if tag.is_private else keyword_for_tag(tag)
        self.audit[(keyword, _tag_text(tag), action)] += 1

    def audit_records(self) -> list[dict[str, Any]]:
        return [
            {"keyword": k, "tag": t, "action": a, "count": n}
            for (k, t, a), n in sorted(self.audit.items(), key=lambda i: i[0][1])
        ]

    # -- bulk pass per dataset level ------------------------------------
    def prune(self, ds: Dataset) -> None:
        """Remove private groups, curves/overlays, ``X`` attributes and broken
        elements of one dataset level in bulk (no per-element dispatch)."""
        store = ds._dict
        operations = self.operations
        clean_graphics = self.policy.clean_graphics
        private: list[int] = []
        for tag in list(store):
            group = tag >> 16
            if group & 1:
                private.append(tag)
                continue
            element = tag & 0xFFFF
            if element == 0 and group != 0x0002:
                del store[tag]  # group lengths (retired) would be wrong after changes
                continue
            if 0x5000 <= group <= 0x50FF:
                del store[tag]
                self.record(tag, "removed (curve)")
                continue
            if 0x6000 <= group <= 0x60FF and (clean_graphics or element in (0x3000, 0x4000)):
                del store[tag]
                self.record(tag, "removed (overlay)")
                continue
            if operations.get(tag) is Operation.REMOVE:
                del store[tag]
                self.record(tag, "removed")
                continue
        if private:
            self._prune_private(ds, private)

    def _prune_private(self, ds: Dataset, tags: list[int]) -> None:
        store = ds._dict
        kept: set[int] = set()
        if self.policy.retain_safe_private:
            creators: dict[int, str] = {}
            for tag in tags:
                element = tag & 0xFFFF
                if 0x10 <= element <= 0xFF and (tag >> 16, element) in _SAFE_CREATOR_SLOTS:
                    try:
                        creators[tag] = str(ds[tag].value).strip(" \x00").upper()
                    except Exception:
                        continue
            for tag in tags if creators else ():
                element = tag & 0xFFFF
                creator_tag = (tag & 0xFFFF0000) | (element >> 8)
                creator = creators.get(creator_tag)
                if element < 0x1000 or creator is None:
                    continue
                if (tag >> 16, creator, element & 0xFF) not in SAFE_PRIVATE:
                    continue
                try:
                    elem = ds[tag]
                except Exception:
                    continue
                if is_numeric_value(elem.VR, elem.value):
                    kept.update((tag, creator_tag))
        removed: Counter[int] = Counter()
        for tag in tags:
            if tag not in kept:
                del store[tag]
                removed[tag >> 16] += 1
        for group, count in removed.items():
            self.audit[("", f"({group:04X},xxxx)", "removed private group")] += count
        for tag in kept:
            if tag & 0xFFFF >= 0x1000:
                self.record(tag, "kept (safe private)")

    # -- traversal -------------------------------------------------------------
    def walk(self, ds: Dataset) -> None:
        """:meth:`Dataset.walk` with :meth:`visit` as callback, except that raw
        elements whose tag and VR need no change are left undecoded (decoding
        dominates the cost), and an element that cannot be decoded is removed
        instead of stopping the batch."""
        store = ds._dict
        operations = self.operations
        for tag in sorted(store):
            elem = store.get(tag)
            if elem is None:
                continue
            if type(elem) is RawDataElement:
                op = operations.get(tag)
                if (op is None or op is Operation.KEEP) and element_vr(tag, elem) not in _VISIT_VRS:
                    continue
                try:
                    elem = ds[tag]
                except Exception:
                    del store[tag]
                    self.record(tag, "removed: value could not be decoded")
                    continue
            self.visit(ds, elem)
            if elem.VR == "SQ" and tag in store:
                for item in elem.value:
                    self.walk(item)

    # -- walk callback -------------------------------------------------------
    def visit(self, ds: Dataset, elem: DataElement) -> None:
        tag = elem.tag
        vr = elem.VR
        op = self.operations.get(tag)
        if op is None:
            if vr == "UI":
                op = Operation.KEEP if tag in CLASS_UID_TAGS else Operation.REMAP_UID
            elif vr in ("DA", "DT"):
                op = Operation.SHIFT_DATE if self.shift else Operation.EMPTY
            elif vr == "PN":
                op = Operation.EMPTY  # a person's name outside the table
            elif vr == "UN":
                del ds[tag]
                self.record(tag, "removed: unknown value representation")
                return
            elif vr == "SQ":
                op = Operation.RECURSE
            else:
                return
        if op is Operation.KEEP or op is Operation.RECURSE:
            if vr == "SQ":
                for item in elem.value:
                    self.prune(item)
            return
        if op is Operation.CLEAN_TEXT:
            if tag in _KEEPABLE_DESCRIPTORS and self._is_clean(elem.value):
                self.record(tag, "kept (clean descriptor)")
                return
            op = self.fallbacks.get(tag, Operation.REMOVE)
            if op is Operation.RECURSE:
                return
        if op is Operation.REMOVE:
            del ds[tag]
            self.record(tag, "removed")
        elif op is Operation.EMPTY:
            self._empty(elem)
            self.record(tag, "emptied")
        elif op is Operation.REMAP_UID:
            self._remap_uids(elem)
            self.record(tag, "UID remapped")
        elif op is Operation.SHIFT_DATE:
            self._shift(ds, elem)
        elif op is Operation.DUMMY:
            dummy = _DUMMY.get(str(vr))
            if dummy is None:
                self._empty(elem)
                self.record(tag, "emptied")
            else:
                elem.value = dummy
                self.record(tag, "replaced with dummy value")
        elif op is Operation.PSEUDONYM_NAME or op is Operation.PSEUDONYM_ID:
            if ds is self.root:
                elem.value = (
                    self.pseudonym.patient_name
                    if op is Operation.PSEUDONYM_NAME
                    else self.pseudonym.patient_id
                )
                self.record(tag, "replaced with pseudonym")
            else:
                self._empty(elem)
                self.record(tag, "emptied")
        elif op is Operation.AGE:
            value, capped = cap_age(str(elem.value or ""))
            if not elem.value:
                return
            if value is None:
                del ds[tag]
                self.record(tag, "removed: invalid age")
            elif capped:
                elem.value = value
                self.record(tag, "age above 89 reported as 090Y")

    def _is_clean(self, value: object) -> bool:
        if value is None:
            return True
        texts = [str(v) for v in value] if isinstance(value, MultiValue | list) else [str(value)]
        pattern = self.hints.pattern
        for text in texts:
            if not _CLEAN_DESCRIPTOR_RE.match(text) or _DIGIT_RUN_RE.search(text):
                return False
            upper = text.strip().upper()
            if upper in self.hints.exact or (pattern is not None and pattern.search(upper)):
                return False
        return True

    @staticmethod
    def _empty(elem: DataElement) -> None:
        elem.value = Sequence() if elem.VR == "SQ" else elem.empty_value

    def _remap_uids(self, elem: DataElement) -> None:
        value = elem.value
        policy = self.policy
        if isinstance(value, MultiValue | list):
            elem.value = [pseudonymize_uid(str(v), policy) for v in value]
        elif value:
            elem.value = pseudonymize_uid(str(value), policy)

    def _shift(self, ds: Dataset, elem: DataElement) -> None:
        value = elem.value
        if not value:
            return
        shift = shift_da if elem.VR == "DA" else shift_dt
        values = list(value) if isinstance(value, MultiValue | list) else [value]
        shifted = [shift(str(v), self.days) for v in values]
        if any(s is None for s in shifted):
            del ds[elem.tag]
            self.record(elem.tag, "removed: invalid date")
            return
        elem.value = shifted if len(shifted) > 1 else shifted[0]
        self.record(elem.tag, "date shifted")


def _methods(policy: Policy, pixels_clean: bool | None) -> list[DeidentificationMethodCodeValues]:
    codes = DeidentificationMethodCodeValues
    methods = [codes.BASIC_PROFILE]
    if pixels_clean:
        methods.append(codes.CLEAN_PIXEL_DATA)
    if policy.clean_graphics:
        methods.append(codes.CLEAN_GRAPHICS)
    if policy.clean_descriptors:
        methods.append(codes.CLEAN_DESCRIPTORS)
    if policy.shift_dates:
        methods.append(codes.RETAIN_LONGITUDINAL_MODIFIED_DATES)
    if policy.retain_patient_characteristics:
        methods.append(codes.RETAIN_PATIENT_CHARACTERISTICS)
    if policy.retain_safe_private:
        methods.append(codes.RETAIN_SAFE_PRIVATE)
    return methods


def _put(ds: Dataset, tag: int, vr: str, value: Any) -> None:
    # Values written here are constants or generated in valid form; skipping
    # pydicom's per-value validation keeps the per-instance cost low.
    ds[tag] = DataElement(tag, vr, value, validation_mode=config.IGNORE)


def _write_method(ds: Dataset, methods: list[DeidentificationMethodCodeValues]) -> None:
    """PS3.3 C.7.1.1 Patient Identity Removed, De-identification Method (Code Sequence)."""
    _put(ds, 0x00120062, "CS", PatientIdentityRemovedValues.YES.value)
    _put(ds, 0x00120063, "LO", [m.code_meaning for m in methods])
    items = []
    for method in methods:
        item = Dataset()
        _put(item, 0x00080100, "SH", method.code_value)
        _put(item, 0x00080102, "SH", "DCM")
        _put(item, 0x00080104, "LO", method.code_meaning)
        items.append(item)
    _put(ds, 0x00120064, "SQ", Sequence(items))


def _pixel_report(outcome: object) -> dict[str, Any]:
    """The cleaner's boxes and counts as JSON-ready data (coordinates and reasons, no text)."""
    if outcome is None or isinstance(outcome, bool):
        return {}
    return {
        "boxes": [list(box) for box in getattr(outcome, "boxes", ()) or ()],
        "frames": int(getattr(outcome, "frames", 0) or 0),
        "changed": bool(getattr(outcome, "changed", False)),
    }


def _input_dates(ds: Dataset) -> tuple[str, str]:
    birth = str(ds.get("PatientBirthDate") or "")
    for keyword in _REFERENCE_DATES:
        value = ds.get(keyword)
        if value:
            return birth, str(value)
    return birth, ""


def _deidentify_owned(ds: Dataset, policy: Policy, hints: PhiHints) -> DeidResult:
    """De-identify `ds` in place (the caller owns it) and build the result."""
    pseudonym = pseudonymize_patient(ds, policy)
    birth, reference = _input_dates(ds)
    had_age = bool(ds.get("PatientAge"))

    engine = _Deidentifier(ds, policy, hints, pseudonym)
    engine.prune(ds)
    engine.walk(ds)

    _put(ds, 0x00100010, "PN", pseudonym.patient_name)
    _put(ds, 0x00100020, "LO", pseudonym.patient_id)
    if policy.retain_patient_characteristics and not had_age:
        birth_date, reference_date = parse_da(birth), parse_da(reference)
        if birth_date and reference_date:
            age = age_between(birth_date, reference_date)
            if age:
                ds.PatientAge = age
                engine.record(0x00101010, "computed from birth date")
    _put(
        ds,
        0x00280303,
        "CS",
        LongitudinalTemporalInformationModifiedValues.MODIFIED.value
        if policy.shift_dates
        else LongitudinalTemporalInformationModifiedValues.REMOVED.value,
    )

    reasons: list[str] = []
    pixels_clean: bool | None = None
    pixel_report: dict[str, Any] = {}
    if policy.pixel_cleaner is not None and ("PixelData" in ds or "FloatPixelData" in ds):
        try:
            outcome = policy.pixel_cleaner(ds, hints)
            pixels_clean = bool(getattr(outcome, "ok", outcome))
        except Exception as exc:  # the hook must not stop the batch
            outcome = None
            pixels_clean = False
            reasons.append(f"Pixel cleaning failed ({type(exc).__name__}).")
        pixel_report = _pixel_report(outcome)
        if pixels_clean:
            ds.BurnedInAnnotation = BurnedInAnnotationValues.NO.value
        elif not reasons:
            reasons.append("Burned-in text could not be removed from the pixel data.")
            reasons.extend(str(r) for r in getattr(outcome, "reasons", None) or ())
    _write_method(ds, _methods(policy, pixels_clean))

    # Read only now: the pixel cleaner may have re-encoded the pixel data (lossy → lossless).
    transfer_syntax = ds.file_meta.get("TransferSyntaxUID") if "file_meta" in ds.__dict__ else None
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    if transfer_syntax is not None:
        meta.TransferSyntaxUID = transfer_syntax
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
    ds.file_meta = meta
    ds.preamble = b"\x00" * 128  # a preamble may carry a TIFF header or other data
    ds.filename = None  # type: ignore[assignment]

    reasons.extend(verify(ds, hints))
    status = DeidStatusValues.QUARANTINED if reasons else DeidStatusValues.ANONYMIZED
    return DeidResult(
        dataset=ds,
        status=status,
        reasons=reasons,
        audit=engine.audit_records(),
        phi_hints=hints,
        pixels_clean=pixels_clean,
        pixel_report=pixel_report,
    )


def deidentify_dataset(ds: Dataset, policy: Policy, *, in_place: bool = False) -> DeidResult:
    """De-identify a dataset (PS3.15 E.1.1 Basic Profile plus the policy's options).

    Parameters
    ----------
    ds : pydicom.Dataset
        Input; not modified (the result holds a new dataset) unless `in_place`.
    policy : Policy
    in_place : bool
        De-identify `ds` itself instead of a deep copy (saves time and memory
        when the caller owns the dataset and discards the original).

    Returns
    -------
    DeidResult

    Raises
    ------
    RejectedInput
        If `ds` has no SOP Class UID or SOP Instance UID.
    """
    if "SOPInstanceUID" not in ds or "SOPClassUID" not in ds:
        raise RejectedInput(
            "The DICOM file has no SOP Class or SOP Instance UID, so it is not a storable "
            "image or document."
        )
    # pydicom warnings can quote element values; keep them out of the logs.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hints = collect_phi_hints(ds)
        out = ds if in_place else copy.deepcopy(ds)
        if not hasattr(out, "file_meta"):
            out.file_meta = FileMetaDataset()
        return _deidentify_owned(out, policy, hints)


def deidentify_bytes(data: bytes, policy: Policy) -> DeidResult:
    """Parse and de-identify an uploaded file.

    Parameters
    ----------
    data : bytes
        Part-10 file or bare dataset (see :func:`archive.deid.reading.read_dataset`).
    policy : Policy

    Returns
    -------
    DeidResult

    Raises
    ------
    RejectedInput
        Empty, non-DICOM, truncated or malformed input; ``str(exc)`` is a
        readable reason without PHI.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = read_dataset(data)
        hints = collect_phi_hints(ds)
        return _deidentify_owned(ds, policy, hints)
