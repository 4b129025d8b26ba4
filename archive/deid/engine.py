"""The de-identification engine: PS3.15 Annex E profile applied to one instance.

Flow (PS3.15 E.1.1 and the options of E.3 selected by :class:`Policy`):

1. the identifying values of the file meta are collected
   (:mod:`archive.deid.hints`);
2. one walk over every dataset level, at every sequence depth, collects the
   identifying values of each element before changing it, removes
   curves/overlays, ``X`` attributes and elements that cannot be decoded,
   applies the compiled Table E.1-1 (raw elements that need neither are left
   undecoded), removes person names, dates and numbers from kept free text
   (SR/KOS text values, graphic annotation text, other free-text elements; see
   :mod:`archive.deid.freetext`), and removes private groups in bulk;
3. descriptors and text values kept by the Clean Descriptors, Clean Graphics
   and Clean Structured Content Options are checked against all the collected
   values (known only after the walk);
4. pseudonymous patient identity, age, de-identification method attributes
   and new file meta are written;
5. the Clean Pixel Data hook runs; an instance with pixel data and no hook, or
   whose hook did not confirm the pixels clean, is quarantined;
6. the verifier scans the output; any residual value quarantines the instance.
"""

from __future__ import annotations

import copy
import io
import re
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from pydicom import Dataset, config, dcmread, dcmwrite
from pydicom.datadict import dictionary_has_tag, keyword_for_tag, repeater_has_tag
from pydicom.dataelem import DataElement
from pydicom.dataset import FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag, ItemTag
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID

from archive.deid.conformance import TYPE_1, TYPE_2, TYPE_3, AttributePath, attribute_types
from archive.deid.dates import age_between, cap_age, parse_da, shift_da, shift_dt
from archive.deid.elements import ASCII_VRS, RawDataElement, ascii_values, element_vr
from archive.deid.enums import (
    BurnedInAnnotationValues,
    DateModeValues,
    DeidentificationMethodCodeValues,
    DeidStatusValues,
    LongitudinalTemporalInformationModifiedValues,
    PatientIdentityRemovedValues,
)
from archive.deid.freetext import REDACTED, find_phi, redact_phi
from archive.deid.hints import (
    HINT_TAGS,
    HINT_VRS,
    PLACEHOLDER_TEXT,
    PhiHintCollector,
    PhiHints,
)
from archive.deid.limits import check_parsed, check_pixel_geometry, codec_failure
from archive.deid.private import (
    SAFE_PRIVATE,
    SafePrivateKindValues,
    creator_key,
    safe_private_kind,
)
from archive.deid.profile import (
    FREE_TEXT_VRS,
    KEEPABLE_DESCRIPTORS,
    Operation,
    compile_profile,
    holds_free_text,
)
from archive.deid.pseudonyms import PatientPseudonym, pseudonymize_patient
from archive.deid.reading import RejectedInput, read_dataset
from archive.deid.spool import Spool, rewound
from archive.deid.uids import CLASS_UID_TAGS, pseudonymize_uid
from archive.deid.verify import BINARY_VRS, verify, verify_bulk

if TYPE_CHECKING:
    from collections.abc import MutableMapping

    from archive.deid.policy import Policy

__all__ = ["METHOD_ACTION", "DeidResult", "deidentify_bytes", "deidentify_dataset"]

IMPLEMENTATION_VERSION_NAME = "TEACHARCH_DEID1"

_DUMMY: dict[str, Any] = {
    "AE": PLACEHOLDER_TEXT,
    "AS": "000Y",
    "CS": PLACEHOLDER_TEXT,
    "DA": "19000101",
    "DS": "0",
    "DT": "19000101000000",
    "IS": "0",
    "LO": PLACEHOLDER_TEXT,
    "LT": PLACEHOLDER_TEXT,
    "PN": PLACEHOLDER_TEXT,
    "SH": PLACEHOLDER_TEXT,
    "ST": PLACEHOLDER_TEXT,
    "TM": "000000",
    "UC": PLACEHOLDER_TEXT,
    "UT": PLACEHOLDER_TEXT,
    # Binary numbers: a Type 1 value the profile must not keep (rare; never identifying).
    "US": 0,
    "SS": 0,
    "UL": 0,
    "SL": 0,
    "FL": 0.0,
    "FD": 0.0,
}
# Type 1C attributes allowed only while another has a value (PS3.3 C.7.1.1: Responsible
# Person Role "shall not be present otherwise"): removed with it.
_CONDITIONAL_COMPANIONS = {0x00102297: (0x00102298,)}
# Replaced by the engine after the walk; their Type does not matter on the way.
_WRITTEN_AFRESH = frozenset({0x00120062, 0x00120063, 0x00120064, 0x00280303})

# (group, creator element) slots worth decoding: groups that have safe entries.
_SAFE_CREATOR_SLOTS = frozenset(
    (group, slot) for group in {key[0] for key in SAFE_PRIVATE} for slot in range(0x10, 0x100)
)
# Sequences of content items that Clean Structured Content keeps and cleans (PS3.15 E.3.4):
# Content, Acquisition Context and Specimen Preparation.
_CONTENT_SEQUENCES = frozenset({0x0040A730, 0x00400555, 0x00400610})
# VRs that get a VR-based operation even outside Table E.1-1 (see visit()).
_VISIT_VRS = frozenset({"UI", "DA", "DT", "PN", "UN", "SQ"})
_CLEAN_DESCRIPTOR_RE = re.compile(r"^[A-Za-z0-9 _\-+/().,:&%#*<>=]{0,64}$")
_DIGIT_RUN_RE = re.compile(r"\d{4,}")
_REFERENCE_DATES = ("StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate")
# Longest value of each text VR (PS3.5 Table 6.2-1); a value that redaction made longer is
# removed rather than written out of range.
_MAX_CHARS = {"SH": 16, "LO": 64, "ST": 1024, "LT": 10240}
_PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")
PIXELS_NOT_CHECKED = (
    "The pixel data was not checked for burned-in text (no pixel cleaner is configured), so "
    "the image was set aside instead of being published."
)


def _free_of_phi_raw(raw: RawDataElement) -> bool:
    """Whether a raw free-text value is certainly free of :mod:`archive.deid.freetext`
    findings, read without decoding the element (ASCII only; other bytes need the
    character set, so the element is decoded)."""
    data = raw.value
    if not data:
        return True
    if not data.isascii():
        return False
    return not find_phi(data.decode("ascii"))


@lru_cache(maxsize=4096)
def _audit_key(tag: int) -> tuple[str, str]:
    """Keyword (empty for private tags) and ``(gggg,eeee)`` text of a tag."""
    base = BaseTag(tag)
    return ("" if base.is_private else keyword_for_tag(base)), str(base)


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
        what was changed, without values; then one record per option applied
        (action :data:`METHOD_ACTION`, with the CID 7050 ``code`` and ``meaning``,
        as written in De-identification Method Code Sequence).
    phi_hints : PhiHints
        Identifying values from the input, for the pixel text detector and
        the verifier.  Never log them.
    pixels_clean : bool or None
        ``None`` when no pixel cleaner ran (no pixel data; or no cleaner in the
        policy, and an instance with pixel data is then quarantined: burned-in
        text was not looked for), ``True`` when it reported success (Burned In
        Annotation (0028,0301) set to ``NO``), ``False`` when it failed (the
        instance is quarantined).
    pixel_report : dict
        What the pixel cleaner did, for the teacher's review: ``{"boxes": [[frame, x0, y0, x1,
        y1, reason], ...], "frames": n, "changed": bool, "fill": how boxes are filled}``
        (``archive.deid.pixels.FILL``); empty when no cleaner ran.
    """

    dataset: Dataset
    status: DeidStatusValues
    reasons: list[str]
    audit: list[dict[str, Any]]
    phi_hints: PhiHints = field(repr=False)
    pixels_clean: bool | None = None
    pixel_report: dict[str, Any] = field(default_factory=dict)
    _file: Spool | None = field(default=None, repr=False)

    @property
    def sop_instance_uid(self) -> str:
        """The pseudonymous SOP Instance UID (use it to name the output file)."""
        return str(self.dataset.SOPInstanceUID)

    def written(self) -> Spool:
        """The dataset encoded as a DICOM Part-10 file (PS3.10 7.1, zero preamble), positioned
        at its start: the file the verifier read back (``_verify_written``) and the one to
        store, streamed from it (``File(result.written())``).

        Written once, into a :class:`~archive.deid.spool.Spool`: in memory for a small file, in
        an unnamed temporary file for a large one, whose Pixel Data is copied in from the
        cleaner's own spool a piece at a time; the output is never in memory whole."""
        if self._file is None or self._file.closed:
            spool = Spool()
            with warnings.catch_warnings(), _pixel_data_streamed(self.dataset):
                warnings.simplefilter("ignore")
                with rewound(self.dataset):
                    dcmwrite(spool, self.dataset, enforce_file_format=True)
            self._file = spool
        self._file.seek(0)
        return self._file

    def to_bytes(self) -> bytes:
        """:meth:`written` as bytes (small files, tests: a cine's output is best streamed)."""
        return self.written().getvalue()

    def close(self) -> None:
        """Let go of the written file and of spooled Pixel Data (their temporary files)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        value = getattr(self.dataset._dict.get(BaseTag(0x7FE00010)), "value", None)
        if isinstance(value, io.BufferedIOBase):
            value.close()


#: Pixel Data longer than this is written from a buffer (``_pixel_data_streamed``).
STREAMED_PIXEL_BYTES = 1 << 20


@contextmanager
def _pixel_data_streamed(ds: Dataset) -> Iterator[None]:
    """Pixel Data written to the file piece by piece while the dataset is written.

    pydicom writes an element's value into a buffer of its own, then copies that into the file:
    two passing copies of a 160 MiB Pixel Data (a 4,000-frame cine) next to the dataset's and
    the file's.  A value given as a buffer is copied into the file piece by piece instead (a
    BytesIO of bytes shares them); the dataset gets its bytes back afterwards.  A cine's Pixel
    Data is a buffer already (the cleaner's spool, or a view of the received bytes).
    """
    raw = ds._dict.get(BaseTag(0x7FE00010))
    value = getattr(raw, "value", None)
    if not isinstance(value, bytes) or len(value) <= STREAMED_PIXEL_BYTES:
        yield
        return
    elem = ds[0x7FE00010]  # a raw element is converted, its bytes kept as they are
    value = elem.value
    elem.value = io.BytesIO(value)
    try:
        yield
    finally:
        elem.value = value


@lru_cache(maxsize=4096)
def _defined_tag(tag: int) -> bool:
    """Whether the standard's data dictionary (repeating groups included) defines ``tag``."""
    return dictionary_has_tag(tag) or repeater_has_tag(tag)


class _Deidentifier:
    """Per-instance state for the walk callbacks."""

    def __init__(self, root: Dataset, policy: Policy, pseudonym: PatientPseudonym) -> None:
        compiled = compile_profile(policy)
        self.root = root
        self.policy = policy
        self.collector = PhiHintCollector(
            skip_uids=policy.retain_uids,
            skip_dates=policy.date_mode == DateModeValues.KEEP,
            skip_tags=compiled.kept_hint_tags,
        )
        self.hints = PhiHints()  # complete only after the walk, see finish()
        self.pending: list[tuple[Dataset, DataElement, AttributePath]] = []
        self.pending_private: list[tuple[Dataset, BaseTag, BaseTag]] = []
        self.pseudonym = pseudonym
        self.operations = compiled.operations
        self.fallbacks = compiled.fallbacks
        self.shift = policy.retains_dates
        # Full Dates: dates go through the same path with no shift, so legacy forms are
        # rewritten in the standard form and invalid ones treated like any invalid value.
        self.days = pseudonym.date_shift_days if policy.shift_dates else 0
        # (tag, value) of every date written by a shift: the verifier's hints (PhiHints).
        self.shifted_dates: set[tuple[int, str]] = set()
        self.uid_op = Operation.KEEP if policy.retain_uids else Operation.REMAP_UID
        self.types = attribute_types(str(_uid_value(root, 0x00080016) or ""))
        self.audit: Counter[tuple[str, str, str]] = Counter()
        # Whether content items were kept and cleaned (PS3.15 E.3.4).
        self.structured_content = False

    # -- audit -----------------------------------------------------------
    def record(self, tag: int, action: str) -> None:
        keyword, text = _audit_key(int(tag))
        self.audit[(keyword, text, action)] += 1

    def audit_records(self) -> list[dict[str, Any]]:
        return [
            {"keyword": k, "tag": t, "action": a, "count": n}
            for (k, t, a), n in sorted(self.audit.items(), key=lambda i: (i[0][1], i[0][2]))
        ]

    # -- IOD conformance (archive.deid.conformance) ----------------------------------
    def type_of(self, path: AttributePath, tag: int) -> int | None:
        """Type (1, 2, 3) of the attribute in this instance's IOD, ``None`` if not listed."""
        types = self.types
        return types.get((*path, tag)) if types else None

    def _typed(self, op: Operation, path: AttributePath, tag: int, vr: str) -> Operation:
        """The operation that keeps the IOD valid where `op` removes or empties
        (PS3.15 E.1.1: combined codes are resolved "to maintain IOD conformance")."""
        kind = self.type_of(path, tag)
        if kind is None or tag in _WRITTEN_AFRESH:
            return op
        if op is Operation.REMOVE:
            if kind == TYPE_2:
                return Operation.EMPTY
            if kind == TYPE_1:
                return Operation.RECURSE if vr == "SQ" else Operation.DUMMY
        elif op is Operation.EMPTY:
            if kind == TYPE_3:
                return Operation.REMOVE
            if kind == TYPE_1:
                return Operation.RECURSE if vr == "SQ" else Operation.DUMMY
        return op

    def _drop(self, store: MutableMapping[BaseTag, Any], key: BaseTag, vr: str, path: AttributePath,
              reason: str) -> None:  # fmt: skip
        """Remove an element whose value cannot be written validly; where the IOD needs it,
        leave it empty (Type 2) or give it a dummy value (Type 1) instead."""
        tag = int(key)
        kind = self.type_of(path, tag)
        dummy = _DUMMY.get(vr)
        # Where the Basic Profile itself writes a dummy (action D), a dummy is always right.
        basic_dummy = kind is None and self.fallbacks.get(tag) is Operation.DUMMY
        if dummy is not None and (kind == TYPE_1 or basic_dummy):
            store[key] = DataElement(key, vr, dummy, validation_mode=config.IGNORE)
            self.record(tag, f"{reason}: dummy value")
        elif kind == TYPE_2 or (kind == TYPE_1 and dummy is None):
            store[key] = DataElement(key, vr, None, validation_mode=config.IGNORE)
            self.record(tag, f"{reason}: emptied (Type 2)")
        else:
            del store[key]
            self.record(tag, f"removed: {reason}")

    # -- single pass per dataset level -----------------------------------------
    def walk(self, ds: Dataset, path: AttributePath = ()) -> None:
        """One pass over a dataset level: collect the PHI hints of each element
        before changing it, remove curves/overlays, ``X`` attributes and broken
        elements, apply the compiled Table E.1-1 through :meth:`visit`, recurse
        into kept sequences, and remove private groups in bulk at the end.

        `path` is the tags of the sequences enclosing this level (for the
        attribute Types of :mod:`archive.deid.conformance`).

        Raw elements whose tag and VR need neither a hint nor a change are left
        undecoded (decoding dominates the cost); UIDs and dates are read and
        rewritten as raw bytes (they are ASCII, PS3.5 6.2); an element that
        cannot be decoded is removed instead of stopping the batch.
        """
        store = ds._dict
        operations = self.operations
        clean_graphics = self.policy.clean_graphics
        collector = self.collector
        typed = bool(self.types)
        private: list[BaseTag] = []
        for key in list(store):
            tag = int(key)
            group = tag >> 16
            if group & 1:
                private.append(key)
                continue
            element = tag & 0xFFFF
            if element == 0 and group != 0x0002:
                del store[key]  # group lengths (retired) would be wrong after changes
                continue
            item = store[key]
            raw = item if type(item) is RawDataElement else None
            vr = element_vr(tag, raw) if raw is not None else str(item.VR)
            needs_hint = tag in HINT_TAGS or vr in HINT_VRS
            action = None
            if 0x5000 <= group <= 0x50FF:
                action = "removed (curve)"
            elif 0x6000 <= group <= 0x60FF and (clean_graphics or element in (0x3000, 0x4000)):
                action = "removed (overlay)"
            op = operations.get(tag)
            if action is None and op is None and not _defined_tag(tag):
                # A public tag the standard does not define: nobody can say what it holds (the
                # fuzzer found the accession number under a damaged group number).
                action = "removed (not in the DICOM dictionary)"
            if op is Operation.REMOVE and typed and action is None:
                op = self._typed(op, path, tag, vr)
            if action is not None or op is Operation.REMOVE:
                if needs_hint:
                    self._collect_removed(ds, key)
                del store[key]
                self.record(tag, action or "removed")
                continue
            if raw is not None:
                if op is None or op is Operation.KEEP:
                    if vr not in _VISIT_VRS and not needs_hint:
                        if (
                            vr not in FREE_TEXT_VRS
                            or not holds_free_text(tag, vr)
                            or _free_of_phi_raw(raw)
                        ):
                            continue
                    if vr == "UI" and tag in CLASS_UID_TAGS:
                        continue  # a kind of thing, not an instance: no hint, kept
                if vr in ASCII_VRS and self._visit_raw(store, key, raw, vr, op, path):
                    continue
                try:
                    elem = ds[key]
                except Exception:
                    if (
                        (op is None or op is Operation.KEEP)
                        and vr not in _VISIT_VRS
                        and vr not in FREE_TEXT_VRS  # free text reaches here only when flagged
                    ):
                        continue  # kept as read, as the hint collector skips it
                    self._drop(store, key, vr, path, "value could not be decoded")
                    continue
                vr = str(elem.VR)  # e.g. UN read as SQ from the data dictionary
            else:
                elem = cast(DataElement, item)
            if needs_hint:
                collector.visit(elem)
            if vr != "SQ":
                self.visit(ds, elem, op, path)
                continue
            sequence = elem.value
            self.visit(ds, elem, op, path)
            # Emptied or removed: the items only give hints.
            kept = key in store and elem.value is sequence
            if kept and sequence and tag in _CONTENT_SEQUENCES:
                self.structured_content = True
            inner = (*path, tag)
            for child in sequence or ():
                if kept:
                    self.walk(child, inner)
                else:
                    collector.walk(child)
        if private:
            self._prune_private(ds, private)

    def _collect_removed(self, ds: Dataset, key: BaseTag) -> None:
        """Hints of an element about to be removed (and of its sequence items)."""
        try:
            elem = ds[key]
        except Exception:
            return
        self.collector.visit(elem)
        if elem.VR == "SQ":
            for child in elem.value or ():
                self.collector.walk(child)

    def _visit_raw(
        self,
        store: MutableMapping[BaseTag, DataElement | RawDataElement],
        key: BaseTag,
        raw: RawDataElement,
        vr: str,
        op: Operation | None,
        path: AttributePath,
    ) -> bool:
        """Collect and apply UID remapping or date shifting on raw bytes.

        Decodes as pydicom does for these VRs (ISO 8859-1, trailing NUL and
        space padding stripped, backslash-separated values), without building a
        :class:`DataElement`.  Returns ``False`` when the generic path must run.
        """
        if op is None:
            if vr == "UI":
                op = self.uid_op  # class UIDs were skipped by the caller
            elif vr in ("DA", "DT"):
                op = Operation.SHIFT_DATE if self.shift else Operation.EMPTY
        if op is Operation.KEEP and vr == "UI":
            self.collector.add_values(int(key), vr, ascii_values(raw))
            return True
        if op is not Operation.REMAP_UID and op is not Operation.SHIFT_DATE:
            return False
        tag = int(key)
        values = ascii_values(raw)
        self.collector.add_values(tag, vr, values)
        if op is Operation.REMAP_UID:
            if values:
                policy = self.policy
                new = "\\".join(pseudonymize_uid(v, policy) for v in values)
                data = new.encode("ascii")
                if len(data) & 1:
                    data += b"\x00"
                store[key] = raw._replace(value=data, length=len(data))
            self.record(tag, "UID remapped")
            return True
        if not values:
            return True
        shift = shift_da if vr == "DA" else shift_dt
        shifted = [shift(v, self.days) for v in values]
        if any(s is None for s in shifted):
            self._drop(store, key, vr, path, "invalid date")
            return True
        if self.days == 0 and shifted == values:
            return True  # Full Dates: already in the standard form, kept as read
        written = [s for s in shifted if s is not None]
        data = "\\".join(written).encode("ascii")
        if len(data) & 1:
            data += b" "
        store[key] = raw._replace(value=data, length=len(data))
        self._shifted(tag, written)
        return True

    def _prune_private(self, ds: Dataset, tags: list[BaseTag]) -> None:
        """Remove private elements, except (Retain Safe Private) those of Table E.3.10-1
        whose value is what the table says; text values among them are decided in
        :meth:`finish`, once every identifying value of the instance is known."""
        store = ds._dict
        kept: set[int] = set()
        if self.policy.retain_safe_private:
            creators: dict[int, str] = {}
            for tag in tags:
                element = tag & 0xFFFF
                if 0x10 <= element <= 0xFF and (tag >> 16, element) in _SAFE_CREATOR_SLOTS:
                    try:
                        creators[tag] = creator_key(str(ds[tag].value))
                    except Exception:
                        continue
            for tag in tags if creators else ():
                element = tag & 0xFFFF
                creator_tag = (tag & 0xFFFF0000) | (element >> 8)
                creator = creators.get(creator_tag)
                if element < 0x1000 or creator is None:
                    continue
                row = SAFE_PRIVATE.get((tag >> 16, creator, element & 0xFF))
                if row is None:
                    continue
                try:
                    elem = ds[tag]
                except Exception:
                    continue
                kind = safe_private_kind(row, str(elem.VR), elem.value)
                if kind is None:
                    continue
                kept.update((tag, creator_tag))
                if kind is SafePrivateKindValues.TEXT:
                    self.pending_private.append((ds, BaseTag(tag), BaseTag(creator_tag)))
        removed: Counter[int] = Counter()
        for tag in tags:
            if tag not in kept:
                del store[tag]
                removed[tag >> 16] += 1
        for group, count in removed.items():
            self.audit[("", f"({group:04X},xxxx)", "removed private group")] += count

    # -- walk callback -------------------------------------------------------
    def visit(
        self, ds: Dataset, elem: DataElement, op: Operation | None, path: AttributePath
    ) -> None:
        tag = elem.tag
        vr = elem.VR
        if op is None:
            if vr == "UI":
                op = Operation.KEEP if tag in CLASS_UID_TAGS else self.uid_op
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
                if vr in FREE_TEXT_VRS and holds_free_text(tag, vr):
                    self._clean_free_text(ds, elem, path)
                return
        if op is Operation.KEEP or op is Operation.RECURSE:
            return  # sequence items are walked by the caller
        if op is Operation.CLEAN_TEXT:
            if tag in KEEPABLE_DESCRIPTORS:
                texts = self._texts(elem.value)
                cleaned = [redact_phi(t) for t in texts]
                if self._is_plain(cleaned) and self._fits(str(vr), cleaned):
                    if cleaned != texts:
                        self._set_texts(elem, cleaned)
                        self.record(tag, "cleaned (names, dates or numbers removed)")
                    # Whether it holds an identifying value is known only once
                    # every hint of the instance is collected: decided in finish().
                    self.pending.append((ds, elem, path))
                    return
            op = self.fallbacks.get(tag, Operation.REMOVE)
            if op is Operation.RECURSE:
                return
        self.apply(ds, elem, op, path)

    def apply(self, ds: Dataset, elem: DataElement, op: Operation, path: AttributePath) -> None:
        """Apply a (non-keeping) operation to a decoded element."""
        tag = elem.tag
        vr = elem.VR
        if (op is Operation.EMPTY or op is Operation.REMOVE) and self.types:
            typed = self._typed(op, path, tag, str(vr))
            if typed is not op:
                self._apply_typed(ds, elem, typed)
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
            self._shift(ds, elem, path)
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
            if not elem.value:
                return
            text = str(elem.value)
            value, capped = cap_age(text)
            if value is None:
                self._drop(ds._dict, BaseTag(tag), "AS", path, "invalid age")
            elif capped:
                elem.value = value
                self.record(tag, "age above 89 reported as 090Y")
            elif value != text.strip(" \x00"):
                elem.value = value
                self.record(tag, "age written in the standard form")

    def _apply_typed(self, ds: Dataset, elem: DataElement, op: Operation) -> None:
        """Remove, empty or fill an element as its Type in the IOD requires."""
        tag = elem.tag
        if op is Operation.RECURSE:
            self.record(tag, "kept, items de-identified (Type 1)")
        elif op is Operation.REMOVE:
            del ds[tag]
            self.record(tag, "removed (Type 3)")
        elif op is Operation.EMPTY:
            self._empty(elem)
            self.record(tag, "emptied (Type 2)")
        else:
            dummy = _DUMMY.get(str(elem.VR))
            if dummy is None:
                self._empty(elem)
                self.record(tag, "emptied")
            else:
                elem.value = dummy
                self.record(tag, "replaced with dummy value (Type 1)")

    def finish(self, hints: PhiHints) -> None:
        """Decide what :meth:`walk` left pending, now that every identifying value of the
        instance is known: descriptors (PS3.15 E.3.5) are kept when free of them, else the
        Basic Profile action applies; safe private text (E.3.10) is kept when it passes the
        verifier's checks, else removed (with its creator when nothing else of the block is
        left)."""
        self.hints = hints
        for ds, elem, path in self.pending:
            tag = elem.tag
            if self._is_free_of_hints(elem.value):
                self.record(tag, "kept (clean descriptor)")
                continue
            op = self.fallbacks.get(tag, Operation.REMOVE)
            if op is not Operation.RECURSE:
                self.apply(ds, elem, op, path)
        self.pending = []
        failed: set[tuple[int, BaseTag]] = set()
        for ds, tag, creator in self.pending_private:
            if self._private_text_passes(ds[tag]):
                self.record(tag, "kept (safe private)")
                continue
            del ds[tag]
            self.record(tag, "removed: safe private value failed verification")
            failed.add((id(ds), creator))
        for ds, _tag, creator in self.pending_private:
            if (id(ds), creator) in failed and creator in ds:
                block = (int(creator) & 0xFF) << 8
                group = int(creator) & 0xFFFF0000
                if not any(group | block <= int(t) <= group | block | 0xFF for t in ds._dict):
                    del ds[creator]
        self.pending_private = []

    def _private_text_passes(self, elem: DataElement) -> bool:
        """The verifier's checks on one kept private text value (archive.deid.verify)."""
        value = elem.value
        if isinstance(value, bytes | bytearray):
            value = bytes(value).decode("latin-1").rstrip(" \x00")
        texts = self._texts(value)
        hints = self.hints
        for text in texts:
            upper = text.strip(" \x00").upper()
            if upper in hints.uids or upper in hints.exact or hints.search(upper) is not None:
                return False
            if find_phi(text):
                return False
        return True

    @staticmethod
    def _texts(value: object) -> list[str]:
        if value is None:
            return []
        return [str(v) for v in value] if isinstance(value, MultiValue | list) else [str(value)]

    @staticmethod
    def _is_plain(texts: list[str]) -> bool:
        """Short descriptor characters only, no long digit runs (no hints needed); the
        marker of removed spans does not count."""
        for text in texts:
            text = text.replace(REDACTED, "")
            if not _CLEAN_DESCRIPTOR_RE.match(text) or _DIGIT_RUN_RE.search(text):
                return False
        return True

    @staticmethod
    def _fits(vr: str, texts: list[str]) -> bool:
        limit = _MAX_CHARS.get(vr)
        return limit is None or all(len(t) <= limit for t in texts)

    @staticmethod
    def _set_texts(elem: DataElement, texts: list[str]) -> None:
        elem.value = texts[0] if len(texts) == 1 else texts

    def _clean_free_text(self, ds: Dataset, elem: DataElement, path: AttributePath) -> None:
        """Remove names, dates and numbers from kept free text (:mod:`archive.deid.freetext`);
        a value that would grow beyond its VR's length is removed instead."""
        texts = self._texts(elem.value)
        cleaned = [redact_phi(t) for t in texts]
        if cleaned == texts:
            return
        if self._fits(str(elem.VR), cleaned):
            self._set_texts(elem, cleaned)
            self.record(elem.tag, "cleaned (names, dates or numbers removed)")
        else:
            self._drop(
                ds._dict, elem.tag, str(elem.VR), path, "free text with names, dates or numbers"
            )

    def _is_free_of_hints(self, value: object) -> bool:
        hints = self.hints
        for text in self._texts(value):
            upper = text.strip().upper()
            if upper in hints.exact or hints.search(upper) is not None:
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

    def _shift(self, ds: Dataset, elem: DataElement, path: AttributePath) -> None:
        value = elem.value
        if not value:
            return
        shift = shift_da if elem.VR == "DA" else shift_dt
        values = [str(v) for v in value] if isinstance(value, MultiValue | list) else [str(value)]
        moved = [shift(v, self.days) for v in values]
        shifted = [s for s in moved if s is not None]
        if len(shifted) < len(moved):
            self._drop(ds._dict, elem.tag, str(elem.VR), path, "invalid date")
            return
        if self.days == 0 and shifted == values:
            return  # Full Dates: already in the standard form
        elem.value = shifted if len(shifted) > 1 else shifted[0]
        self._shifted(int(elem.tag), shifted)

    def _shifted(self, tag: int, written: list[str]) -> None:
        """Record a date element written (shifted, or in the standard form with Full Dates);
        the verifier knows the shifted values as the engine's own (PhiHints.shifted_dates)."""
        if self.days:
            self.shifted_dates.update((tag, v.strip(" \x00").upper()) for v in written)
        self.record(tag, "date shifted" if self.days else "date written in the standard form")


def _methods(
    policy: Policy, pixels_clean: bool | None, structured_content: bool
) -> list[DeidentificationMethodCodeValues]:
    """The options applied to this instance (PS3.16 CID 7050), in code order.

    Clean Graphics: overlays and curves removed, graphic annotation text cleaned like SR text
    (the text is cleaned whatever the option; the option also removes every overlay).  Clean
    Structured Content only when the instance had content items, kept and cleaned.
    """
    codes = DeidentificationMethodCodeValues
    applied = {
        codes.BASIC_PROFILE: True,
        codes.CLEAN_PIXEL_DATA: bool(pixels_clean),
        codes.CLEAN_GRAPHICS: policy.clean_graphics,
        codes.CLEAN_STRUCTURED_CONTENT: policy.clean_structured_content and structured_content,
        codes.CLEAN_DESCRIPTORS: policy.clean_descriptors,
        codes.RETAIN_LONGITUDINAL_FULL_DATES: policy.date_mode == DateModeValues.KEEP,
        codes.RETAIN_LONGITUDINAL_MODIFIED_DATES: policy.shift_dates,
        codes.RETAIN_PATIENT_CHARACTERISTICS: policy.retain_patient_characteristics,
        codes.RETAIN_DEVICE_IDENTITY: policy.retain_device_identity,
        codes.RETAIN_UIDS: policy.retain_uids,
        codes.RETAIN_SAFE_PRIVATE: policy.retain_safe_private,
        codes.RETAIN_INSTITUTION_IDENTITY: policy.retain_institution_identity,
    }
    return [code for code in codes if applied.get(code)]


METHOD_ACTION = "applied"
"""Action of the audit records that list the profile and options applied (one per CID 7050
code, keyword ``DeidentificationMethodCodeSequence``), so the audit shows the profile too."""


def _method_records(methods: list[DeidentificationMethodCodeValues]) -> list[dict[str, Any]]:
    return [
        {
            "keyword": "DeidentificationMethodCodeSequence",
            "tag": "(0012,0064)",
            "action": METHOD_ACTION,
            "code": method.code_value,
            "meaning": method.code_meaning,
            "count": 1,
        }
        for method in methods
    ]


def _uid_value(ds: Dataset, tag: int) -> object:
    """Value of a UI element; a raw single value is read from its bytes (no decoding
    into a validated :class:`pydicom.uid.UID`, whose text is the same)."""
    elem = ds._dict.get(BaseTag(tag))
    if type(elem) is RawDataElement:
        values = ascii_values(elem)
        if len(values) == 1:
            return values[0]
    return ds[tag].value


def _put(ds: Dataset, tag: int, vr: str, value: Any) -> None:
    # Values written here are constants or generated in valid form; skipping
    # pydicom's per-value validation keeps the per-instance cost low.
    ds[tag] = DataElement(tag, vr, value, validation_mode=config.IGNORE)


_CODE_VALUE, _CODING_SCHEME, _CODE_MEANING = (
    BaseTag(t) for t in (0x00080100, 0x00080102, 0x00080104)
)


def _code_item(method: DeidentificationMethodCodeValues) -> Dataset:
    # A new, public, non-pixel item: its elements go straight into the item's
    # store (Dataset.__setitem__ only adds checks that cannot apply here).
    item = Dataset()
    store = item._dict
    store[_CODE_VALUE] = DataElement(
        _CODE_VALUE, "SH", method.code_value, validation_mode=config.IGNORE
    )
    store[_CODING_SCHEME] = DataElement(_CODING_SCHEME, "SH", "DCM", validation_mode=config.IGNORE)
    store[_CODE_MEANING] = DataElement(
        _CODE_MEANING, "LO", method.code_meaning, validation_mode=config.IGNORE
    )
    return item


_METHOD_CODE_SEQUENCE = BaseTag(0x00120064)


@lru_cache(maxsize=64)
def _encoded_code_items(
    methods: tuple[DeidentificationMethodCodeValues, ...], implicit_vr: bool, little_endian: bool
) -> bytes:
    """The items of De-identification Method Code Sequence, encoded (PS3.5 7.5)."""
    out = DicomBytesIO()
    out.is_implicit_VR, out.is_little_endian = implicit_vr, little_endian
    for method in methods:
        body = DicomBytesIO()
        body.is_implicit_VR, body.is_little_endian = implicit_vr, little_endian
        write_dataset(body, _code_item(method))
        data = body.getvalue()
        out.write_tag(ItemTag)
        out.write_UL(len(data))
        out.write(data)
    return out.getvalue()


def _write_method(ds: Dataset, methods: list[DeidentificationMethodCodeValues]) -> None:
    """PS3.3 C.7.1.1 Patient Identity Removed, De-identification Method (Code Sequence)."""
    _put(ds, 0x00120062, "CS", PatientIdentityRemovedValues.YES.value)
    _put(ds, 0x00120063, "LO", [m.code_meaning for m in methods])
    implicit_vr, little_endian = ds.original_encoding
    if implicit_vr is None or little_endian is None:
        _put(ds, _METHOD_CODE_SEQUENCE, "SQ", Sequence([_code_item(m) for m in methods]))
        return
    # A parsed dataset: the sequence goes in as a raw element encoded like the
    # elements read with it (decoded by pydicom only if someone reads it), so
    # the same few constant items are not rebuilt as datasets for every file.
    value = _encoded_code_items(tuple(methods), implicit_vr, little_endian)
    ds._dict[_METHOD_CODE_SEQUENCE] = RawDataElement(
        _METHOD_CODE_SEQUENCE,
        None if implicit_vr else "SQ",
        len(value),
        value,
        0,
        implicit_vr,
        little_endian,
    )


def _pixel_report(outcome: object) -> dict[str, Any]:
    """The cleaner's boxes and counts as JSON-ready data (coordinates and reasons, no text)."""
    if outcome is None or isinstance(outcome, bool):
        return {}
    return {
        "boxes": [list(box) for box in getattr(outcome, "boxes", ()) or ()],
        "frames": int(getattr(outcome, "frames", 0) or 0),
        "changed": bool(getattr(outcome, "changed", False)),
        # How the boxes were filled (``archive.deid.pixels.FILL``), when the cleaner says.
        "fill": str(getattr(outcome, "fill", "") or ""),
    }


def _input_dates(ds: Dataset) -> tuple[str, str]:
    birth = str(ds.get("PatientBirthDate") or "")
    for keyword in _REFERENCE_DATES:
        value = ds.get(keyword)
        if value:
            return birth, str(value)
    return birth, ""


def _deidentify_owned(ds: Dataset, policy: Policy) -> DeidResult:
    """De-identify `ds` in place (the caller owns it) and build the result."""
    pseudonym = pseudonymize_patient(ds, policy)
    birth, reference = _input_dates(ds)
    had_age = bool(ds.get("PatientAge"))

    engine = _Deidentifier(ds, policy, pseudonym)
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        engine.collector.walk(meta)  # replaced below: hints only
    # One pass collects the hints and applies the profile (hints are taken
    # from each element before it is changed).
    engine.walk(ds)
    # A shifted date that falls on another date of the input is the engine's own value.
    hints = replace(engine.collector.finish(), shifted_dates=frozenset(engine.shifted_dates))
    engine.finish(hints)

    for tag, companions in _CONDITIONAL_COMPANIONS.items():
        holder = ds.get(tag)
        if (holder is None or not holder.value) and any(c in ds for c in companions):
            for companion in companions:
                if companion in ds:
                    del ds[companion]
                    engine.record(companion, "removed (its condition was removed)")
    _put(ds, 0x00100010, "PN", pseudonym.patient_name)
    _put(ds, 0x00100020, "LO", pseudonym.patient_id)
    if policy.retain_patient_characteristics and not had_age:
        birth_date, reference_date = parse_da(birth), parse_da(reference)
        if birth_date and reference_date:
            age = age_between(birth_date, reference_date)
            if age:
                ds.PatientAge = age
                engine.record(0x00101010, "computed from birth date")
    longitudinal = {
        DateModeValues.SHIFT: LongitudinalTemporalInformationModifiedValues.MODIFIED,
        DateModeValues.KEEP: LongitudinalTemporalInformationModifiedValues.UNMODIFIED,
        DateModeValues.REMOVE: LongitudinalTemporalInformationModifiedValues.REMOVED,
    }[DateModeValues(policy.date_mode)]
    _put(ds, 0x00280303, "CS", longitudinal.value)

    reasons: list[str] = []
    pixels_clean: bool | None = None
    pixel_report: dict[str, Any] = {}
    has_pixels = any(keyword in ds for keyword in _PIXEL_KEYWORDS)
    if has_pixels and policy.pixel_cleaner is None:
        # Fail closed: text burned into the pixels is invisible to the header profile.
        reasons.append(PIXELS_NOT_CHECKED)
    elif has_pixels and policy.pixel_cleaner is not None:
        try:
            outcome = policy.pixel_cleaner(ds, hints)
            pixels_clean = bool(getattr(outcome, "ok", outcome))
        except BaseException as exc:  # the hook must not stop the batch (a codec's panic too)
            if not codec_failure(exc):
                raise
            outcome = None
            pixels_clean = False
            reasons.append(f"Pixel cleaning failed ({type(exc).__name__}).")
        pixel_report = _pixel_report(outcome)
        if pixels_clean:
            ds.BurnedInAnnotation = BurnedInAnnotationValues.NO.value
        elif not reasons:
            reasons.append("Burned-in text could not be removed from the pixel data.")
            reasons.extend(str(r) for r in getattr(outcome, "reasons", None) or ())
    methods = _methods(policy, pixels_clean, engine.structured_content)
    _write_method(ds, methods)

    # Read only now: the pixel cleaner may have re-encoded the pixel data (lossy → lossless).
    transfer_syntax = ds.file_meta.get("TransferSyntaxUID") if "file_meta" in ds.__dict__ else None
    meta = FileMetaDataset()
    _put(meta, 0x00020002, "UI", _uid_value(ds, 0x00080016))
    _put(meta, 0x00020003, "UI", _uid_value(ds, 0x00080018))
    if transfer_syntax is not None:
        _put(meta, 0x00020010, "UI", transfer_syntax)
    _put(meta, 0x00020012, "UI", PYDICOM_IMPLEMENTATION_UID)
    _put(meta, 0x00020013, "SH", IMPLEMENTATION_VERSION_NAME)
    ds.file_meta = meta
    ds.preamble = b"\x00" * 128  # a preamble may carry a TIFF header or other data
    ds.filename = None

    reasons.extend(verify(ds, hints))
    status = DeidStatusValues.QUARANTINED if reasons else DeidStatusValues.ANONYMIZED
    result = DeidResult(
        dataset=ds,
        status=status,
        reasons=reasons,
        audit=engine.audit_records() + _method_records(methods),
        phi_hints=hints,
        pixels_clean=pixels_clean,
        pixel_report=pixel_report,
    )
    if status == DeidStatusValues.ANONYMIZED:
        written = _verify_written(result)
        if written:
            result.status = DeidStatusValues.QUARANTINED
            result.reasons.extend(written)
    return result


WRITTEN_UNREADABLE = (
    "The de-identified file could not be read back after writing, so it was not published."
)


#: Values of the written file longer than this are not read back into a dataset (a 4,000-frame
#: cine's Pixel Data is 160 MiB, a 600-frame native one 450 MiB): a binary one is searched
#: where it lies in the written file, a piece at a time, as :func:`verify` searches it.
READ_BACK_DEFER = 1 << 20


def _verify_written(result: DeidResult) -> list[str]:
    """Verify the file as written, not only the dataset in memory: a damaged length in the
    input can make the bytes written differ from what was checked (the fuzzer found a big-endian
    file whose name reappeared in Pixel Representation once written and read back).  The file
    is read from its spool (``DeidResult.written``), long binary values searched where they lie
    in it, a piece at a time."""
    try:
        data = result.written()
        size = data.size
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            back = dcmread(data, defer_size=READ_BACK_DEFER)
            # Only top-level values are deferred (items are parsed from their sequence's bytes).
            deferred = [
                (int(tag), raw)
                for tag, raw in back._dict.items()
                if isinstance(raw, RawDataElement) and raw.value is None
            ]
            if any(element_vr(tag, raw) not in BINARY_VRS for tag, raw in deferred):
                data.seek(0)
                back = dcmread(data)  # a long text, number or sequence: read it
                deferred = []
        reasons = verify(back, result.phi_hints)
        for tag, raw in deferred:
            # An undefined length (encapsulated Pixel Data) ends at its delimiter, somewhere
            # before the end of the file: the rest of the file is searched (also read above).
            end = size if raw.length == 0xFFFFFFFF else raw.value_tell + raw.length
            reasons += verify_bulk(tag, data, raw.value_tell, end, result.phi_hints)
        return reasons
    except Exception:  # noqa: BLE001 - anything unreadable is not published
        return [WRITTEN_UNREADABLE]


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
        check_parsed(ds, policy.limits)
        check_pixel_geometry(ds, policy.limits)
        out = ds if in_place else copy.deepcopy(ds)
        if not hasattr(out, "file_meta"):
            out.file_meta = FileMetaDataset()
        return _deidentify_owned(out, policy)


def deidentify_bytes(data: bytes | BinaryIO, policy: Policy) -> DeidResult:
    """Parse and de-identify an uploaded file.

    Parameters
    ----------
    data : bytes or binary file
        Part-10 file or bare dataset (see :func:`archive.deid.reading.read_dataset`): its
        bytes, or the file itself, seekable and open for reading, whose long Pixel Data is then
        read from it a frame at a time (the worker's way); such a file must stay open until the
        result is closed.
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
        ds = read_dataset(data, policy.limits)
        return _deidentify_owned(ds, policy)
