"""Clean Graphics and Clean Structured Content done for real: a synthetic test set.

Names of third parties (physicians, relatives, other patients) and dates are typed into every
place where the profile keeps text a person wrote: SR and Key Object text values at any depth,
graphic annotation text in an image and in a Grayscale Softcopy Presentation State, the
descriptors Clean Descriptors keeps, the waveform annotations of an ECG, and every free-text
element of the data dictionary that Table E.1-1 does not list.  None of them may survive in
the output bytes; clinical text without PHI must.  All values are synthetic.
"""

from __future__ import annotations

import copy

import pydicom
import pytest
from pydicom import Dataset
from pydicom.datadict import DicomDictionary
from pydicom.dataset import FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from archive.deid import DeidResult, Policy, deidentify_bytes, verify
from archive.deid.engine import PIXELS_NOT_CHECKED
from archive.deid.freetext import REDACTED
from archive.deid.hints import PhiHints
from archive.deid.profile import FREE_TEXT_VRS, holds_free_text
from tests.deid.conftest import inject_phi, load, to_bytes

# Third parties, invented: a physician, a relative, another patient, and their dates/numbers.
PHYSICIAN = ("Zuvetek", "Kalomir")
RELATIVE = ("Belkova", "Tuvera")
OTHER_PATIENT = ("Drumkova", "Zelvina")
CZECH_PHYSICIAN = ("Černobelová", "Růžena")
SECRETS = [
    *PHYSICIAN,
    *RELATIVE,
    *OTHER_PATIENT,
    *CZECH_PHYSICIAN,
    "12.03.2024",
    "2024-03-12",
    "March 2024",
    "března",
    "603 123 456",
    "14:33",
    "4703121234",
]

SHORT_TEXTS = [  # fit a 64-character LO and the plain-text rule for SR and annotation text
    f"Dr. {PHYSICIAN[1]} {PHYSICIAN[0]} 12.03.2024",
    f"Discussed with wife {RELATIVE[1]} {RELATIVE[0]}",
    f"Same as in {OTHER_PATIENT[0]}^{OTHER_PATIENT[1]}",
    f"MUDr. {CZECH_PHYSICIAN[1]} {CZECH_PHYSICIAN[0]}, 12. března 2024",
    "Seen 2024-03-12 at 14:33",
]
LONG_TEXT = (
    f"Findings discussed with Dr. {PHYSICIAN[1]} {PHYSICIAN[0]} on 12 March 2024 at 14:33; "
    f"his wife {RELATIVE[1]} {RELATIVE[0]} (tel. +420 603 123 456) was present. Compare "
    f"Mrs. {OTHER_PATIENT[0]}, RČ 4703121234. Popsal MUDr. {CZECH_PHYSICIAN[0]}. "
    "Left lower lobe mass 23 mm."
)
CLINICAL = ["Left lower lobe mass 23 mm", "Tumor 23 mm", "T2 FLAIR hyperintense", "C5-C6"]


def _secret_forms(secret: str) -> list[bytes]:
    forms = [secret.upper().encode("utf-8")]
    try:
        forms.append(secret.upper().encode("latin-1"))
    except UnicodeEncodeError:
        pass
    return forms


def assert_no_third_party_phi(data: bytes) -> None:
    upper = data.upper()
    for secret in SECRETS:
        for form in _secret_forms(secret):
            assert form not in upper, "a synthetic third-party value survived in the output"


def _read(result: DeidResult) -> Dataset:
    return pydicom.dcmread(DicomBytesIO(result.to_bytes()))


def _codes(ds: Dataset) -> set[str]:
    return {str(item.CodeValue) for item in ds.DeidentificationMethodCodeSequence}


def _file_meta(ds: Dataset) -> Dataset:
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    return ds


def _code(value: str, meaning: str, scheme: str = "DCM") -> Sequence:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return Sequence([item])


def _text_object(text: str) -> Dataset:
    item = Dataset()
    item.UnformattedTextValue = text
    item.BoundingBoxAnnotationUnits = "PIXEL"
    item.BoundingBoxTopLeftHandCorner = [10.0, 10.0]
    item.BoundingBoxBottomRightHandCorner = [120.0, 30.0]
    item.BoundingBoxTextHorizontalJustification = "LEFT"
    return item


def _graphic_annotation(image: Dataset, texts: list[str]) -> Sequence:
    ref = Dataset()
    ref.ReferencedSOPClassUID = image.SOPClassUID
    ref.ReferencedSOPInstanceUID = image.SOPInstanceUID
    annotation = Dataset()
    annotation.GraphicLayer = "LAYER1"
    annotation.ReferencedImageSequence = Sequence([ref])
    annotation.TextObjectSequence = Sequence([_text_object(t) for t in texts])
    return Sequence([annotation])


def _image_with_annotations(texts: list[str]) -> Dataset:
    image = inject_phi(load("CT_small.dcm"))
    image.SpecificCharacterSet = "ISO_IR 192"
    image.GraphicAnnotationSequence = _graphic_annotation(image, texts)
    return image


def _gsps(image: Dataset, texts: list[str]) -> Dataset:
    """A Grayscale Softcopy Presentation State (PS3.3 A.33.1) annotating `image`."""
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.11.1"
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = image.StudyInstanceUID
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "PR"
    ds.PatientName = image.PatientName
    ds.PatientID = image.PatientID
    ds.InstanceNumber = 1
    ds.ContentLabel = "ANNOTATIONS"
    ds.ContentDescription = f"Marks by Dr. {PHYSICIAN[0]} 12.03.2024"
    ds.ContentCreatorName = f"{PHYSICIAN[0]}^{PHYSICIAN[1]}"
    ds.PresentationCreationDate = "20240312"
    ds.PresentationCreationTime = "143300"
    image_ref = Dataset()
    image_ref.ReferencedSOPClassUID = image.SOPClassUID
    image_ref.ReferencedSOPInstanceUID = image.SOPInstanceUID
    series_ref = Dataset()
    series_ref.SeriesInstanceUID = image.SeriesInstanceUID
    series_ref.ReferencedImageSequence = Sequence([image_ref])
    ds.ReferencedSeriesSequence = Sequence([series_ref])
    layer = Dataset()
    layer.GraphicLayer = "LAYER1"
    layer.GraphicLayerOrder = 1
    layer.GraphicLayerDescription = f"Layer of MUDr. {CZECH_PHYSICIAN[0]}"
    ds.GraphicLayerSequence = Sequence([layer])
    ds.GraphicAnnotationSequence = _graphic_annotation(image, texts)
    return _file_meta(ds)


def _text_item(text: str, meaning: str = "Finding") -> Dataset:
    item = Dataset()
    item.RelationshipType = "CONTAINS"
    item.ValueType = "TEXT"
    item.ConceptNameCodeSequence = _code("121071", meaning)
    item.TextValue = text
    return item


def _basic_text_sr(texts: list[str]) -> Dataset:
    """pydicom's Basic Text SR with the given text values, one of them two levels deep."""
    ds = load("reportsi.dcm")
    ds.SpecificCharacterSet = "ISO_IR 192"
    nested = _text_item(texts[0])
    nested.ContentSequence = Sequence([_text_item(t) for t in texts[1:]])
    ds.ContentSequence.append(nested)
    return ds


def _key_object(image: Dataset, text: str) -> Dataset:
    """A Key Object Selection Document (PS3.3 A.35.4) with a Key Object Description."""
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.59"
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = image.StudyInstanceUID
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "KO"
    ds.PatientName = image.PatientName
    ds.PatientID = image.PatientID
    ds.ValueType = "CONTAINER"
    ds.ConceptNameCodeSequence = _code("113000", "Of Interest")
    ds.ContinuityOfContent = "SEPARATE"
    description = _text_item(text, "Key Object Description")
    description.ConceptNameCodeSequence = _code("113012", "Key Object Description")
    ref = Dataset()
    ref.ReferencedSOPClassUID = image.SOPClassUID
    ref.ReferencedSOPInstanceUID = image.SOPInstanceUID
    key = Dataset()
    key.RelationshipType = "CONTAINS"
    key.ValueType = "IMAGE"
    key.ReferencedSOPSequence = Sequence([ref])
    ds.ContentSequence = Sequence([description, key])
    return _file_meta(ds)


# -- the two cases of the issue (both leaked before) ---------------------------------------


def test_physician_name_and_date_in_graphic_annotation_text_do_not_survive(policy: Policy):
    image = _image_with_annotations([f"Dr. {PHYSICIAN[0]} 12.03.2024", "Tumor 23 mm"])

    result = deidentify_bytes(to_bytes(image), policy)

    assert_no_third_party_phi(result.to_bytes())
    texts = [
        obj.UnformattedTextValue
        for annotation in _read(result).GraphicAnnotationSequence
        for obj in annotation.TextObjectSequence
    ]
    assert texts == [f"{REDACTED} {REDACTED}", "Tumor 23 mm"]
    assert result.reasons == [PIXELS_NOT_CHECKED]  # the header has nothing left to find


def test_third_person_name_in_sr_text_value_does_not_survive(policy: Policy):
    sr = _basic_text_sr([f"Seen with wife {RELATIVE[1]} {RELATIVE[0]}", "Left lower lobe mass"])

    result = deidentify_bytes(to_bytes(sr), policy)

    assert result.status == "anonymized", result.reasons
    assert_no_third_party_phi(result.to_bytes())
    values = [e.value for e in _read(result).iterall() if e.keyword == "TextValue"]
    assert f"Seen with wife {REDACTED}" in values
    assert "Left lower lobe mass" in values


# -- every place the profile keeps text ------------------------------------------------------


def test_sr_text_values_at_every_depth(policy: Policy):
    sr = _basic_text_sr([*SHORT_TEXTS, LONG_TEXT, *CLINICAL])

    result = deidentify_bytes(to_bytes(sr), policy)

    assert result.status == "anonymized", result.reasons
    assert_no_third_party_phi(result.to_bytes())
    values = [e.value for e in _read(result).iterall() if e.keyword == "TextValue"]
    for clinical in CLINICAL:
        assert clinical in values
    assert "Clean Structured Content Option" in _read(result).DeidentificationMethod
    assert "113104" in _codes(_read(result))


def test_key_object_description(policy: Policy):
    image = inject_phi(load("CT_small.dcm"))
    kos = _key_object(image, f"Teaching file. Referring Dr. {PHYSICIAN[0]}, 12.03.2024")

    result = deidentify_bytes(to_bytes(kos), policy)

    assert result.status == "anonymized", result.reasons
    assert_no_third_party_phi(result.to_bytes())
    description = _read(result).ContentSequence[0].TextValue
    assert description == f"Teaching file. Referring {REDACTED}, {REDACTED}"
    assert "113104" in _codes(_read(result))


def test_presentation_state_text_is_cleaned_not_kept(policy: Policy):
    """A GSPS is de-identified like any instance; its annotation text, layer and content
    descriptions and creator are cleaned (PS3.15 E.3.3)."""
    image = inject_phi(load("CT_small.dcm"))
    gsps = _gsps(image, [*SHORT_TEXTS, LONG_TEXT, "Tumor 23 mm", "Ložisko 12 mm"])

    result = deidentify_bytes(to_bytes(gsps), policy)

    assert result.status == "anonymized", result.reasons
    assert_no_third_party_phi(result.to_bytes())
    out = _read(result)
    texts = [o.UnformattedTextValue for o in out.GraphicAnnotationSequence[0].TextObjectSequence]
    assert texts[-2] == "Tumor 23 mm"
    # Too long or not plain for annotation text: replaced by a dummy (Type 1 in a text object).
    assert texts[len(SHORT_TEXTS)] == "ANONYMIZED" and texts[-1] == "ANONYMIZED"
    assert out.ContentDescription == f"Marks by {REDACTED} {REDACTED}"
    assert out.GraphicLayerSequence[0].GraphicLayerDescription == f"Layer of {REDACTED}"
    assert out.ContentCreatorName == "ANONYMIZED"  # Table E.1-1: Z/D
    assert "113103" in _codes(out) and "113104" not in _codes(out)


def test_kept_descriptors(policy: Policy):
    image = inject_phi(load("CT_small.dcm"))
    image.StudyDescription = f"CT CHEST Dr. {PHYSICIAN[0]}"
    image.SeriesDescription = "AXIAL 5MM Chest CTA"
    image.ProtocolName = f"Protocol of {OTHER_PATIENT[0]}^{OTHER_PATIENT[1]}"[:64]

    result = deidentify_bytes(to_bytes(image), policy)

    assert_no_third_party_phi(result.to_bytes())
    out = _read(result)
    assert out.StudyDescription == f"CT CHEST {REDACTED}"
    assert out.SeriesDescription == "AXIAL 5MM Chest CTA"
    assert result.reasons == [PIXELS_NOT_CHECKED]


def test_waveform_annotation_text(policy: Policy):
    ecg = inject_phi(load("waveform_ecg.dcm"))
    ecg.WaveformAnnotationSequence[0].UnformattedTextValue = f"Dr. {PHYSICIAN[0]} 14:33"
    kept = ecg.WaveformAnnotationSequence[1].get("UnformattedTextValue")

    result = deidentify_bytes(to_bytes(ecg), policy)

    assert result.status == "anonymized", result.reasons
    assert_no_third_party_phi(result.to_bytes())
    out = _read(result)
    assert out.WaveformAnnotationSequence[0].UnformattedTextValue == f"{REDACTED} {REDACTED}"
    assert out.WaveformAnnotationSequence[1].get("UnformattedTextValue") == kept


def _free_text_elements() -> list[tuple[int, str]]:
    """Every public element of a free-text VR that the profile keeps (see holds_free_text)."""
    found = []
    for tag, (vr, _vm, _name, _retired, keyword) in DicomDictionary.items():
        vr = vr.split(" or ")[0]
        in_dataset = tag >> 16 >= 0x0008  # not command, file meta or directory elements
        if keyword and in_dataset and vr in FREE_TEXT_VRS and holds_free_text(tag, vr):
            found.append((tag, vr))
    return found


def _fill(ds: Dataset, elements: list[tuple[int, str]]) -> None:
    for i, (tag, vr) in enumerate(elements):
        text = SHORT_TEXTS[i % len(SHORT_TEXTS)] if vr == "LO" else LONG_TEXT
        ds.add_new(tag, vr, text)


def test_every_kept_free_text_element_at_top_level_and_nested(policy: Policy):
    elements = _free_text_elements()
    assert len(elements) > 250  # the whole data dictionary, not a hand-picked list
    image = inject_phi(load("CT_small.dcm"))
    image.SpecificCharacterSet = "ISO_IR 192"
    _fill(image, elements)
    _fill(image.ReferencedImageSequence[0], elements)  # a sequence the profile keeps

    result = deidentify_bytes(to_bytes(image), policy)

    assert_no_third_party_phi(result.to_bytes())
    assert result.reasons == [PIXELS_NOT_CHECKED]  # the verifier found nothing else
    out = _read(result)
    assert "Left lower lobe mass 23 mm" in out.AcquisitionContextDescription  # ST, cleaned
    assert out.CommentsOnTheScheduledProcedureStep.endswith("Left lower lobe mass 23 mm.")
    nested = out.ReferencedImageSequence[0]
    assert nested.WindowCenterWidthExplanation.startswith(REDACTED)


def test_clinical_free_text_is_kept_byte_for_byte(policy: Policy):
    image = inject_phi(load("CT_small.dcm"))
    image.WindowCenterWidthExplanation = ["LUNG", "MEDIASTINUM"]
    image.AcquisitionContextDescription = "Breath hold, arms up. Contrast 100 ml, delay 60 s."
    image.GraphicAnnotationSequence = _graphic_annotation(image, CLINICAL)

    result = deidentify_bytes(to_bytes(image), policy)

    out = _read(result)
    assert out.WindowCenterWidthExplanation == ["LUNG", "MEDIASTINUM"]
    assert out.AcquisitionContextDescription == image.AcquisitionContextDescription
    texts = [o.UnformattedTextValue for o in out.GraphicAnnotationSequence[0].TextObjectSequence]
    assert texts == CLINICAL
    assert not [a for a in result.audit if "cleaned" in a["action"]]


# -- the residual check ----------------------------------------------------------------------


def test_verifier_quarantines_names_in_kept_free_text_naming_the_element_only():
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.11"
    ds.SOPInstanceUID = "2.25.1"
    item = _text_item("Left lower lobe mass")
    nested = Dataset()
    nested.UnformattedTextValue = f"Dr. {PHYSICIAN[0]}"
    item.GraphicAnnotationSequence = Sequence([nested])  # anywhere, at any depth
    ds.ContentSequence = Sequence([item, _text_item(f"seen {LONG_TEXT[-40:]} on 12.03.2024")])
    ds.ContentDescription = "Marks"
    ds.StationName = f"Dr. {PHYSICIAN[0]}"  # SH: a label, not free text (dummied anyway)

    reasons = verify(ds, PhiHints())  # no header value to look for: shapes only

    assert reasons == [
        "Residual person name pattern found in the free text of UnformattedTextValue (0070,0006).",
        "Residual date pattern found in the free text of TextValue (0040,A160).",
    ]
    for reason in reasons:
        for secret in SECRETS:
            assert secret.upper() not in reason.upper()


def test_clean_graphics_declared_only_with_the_option(policy: Policy):
    image = _image_with_annotations(["Tumor 23 mm"])
    data = to_bytes(image)
    without = Policy(
        uid_key=policy.uid_key, pseudonym_key=policy.pseudonym_key, clean_graphics=False
    )

    assert "113103" in _codes(_read(deidentify_bytes(data, policy)))
    assert "113103" not in _codes(_read(deidentify_bytes(data, without)))
    # The text is cleaned whatever the option.
    image.GraphicAnnotationSequence = _graphic_annotation(image, [f"Dr. {PHYSICIAN[0]}"])
    assert_no_third_party_phi(deidentify_bytes(to_bytes(image), without).to_bytes())


def test_structured_content_not_declared_for_an_image(policy: Policy):
    result = deidentify_bytes(to_bytes(inject_phi(load("CT_small.dcm"))), policy)
    assert "113104" not in _codes(_read(result))


@pytest.mark.parametrize("charset", ["ISO_IR 100", "ISO_IR 192"])
def test_free_text_found_in_either_encoding(policy: Policy, charset: str):
    sr = copy.deepcopy(_basic_text_sr([f"Ošetřující lékař: {PHYSICIAN[0]}", "Tumor 23 mm"]))
    sr.SpecificCharacterSet = charset
    sr.ContentSequence[-1].TextValue = f"wife {RELATIVE[1]}, 12.03.2024"
    data = to_bytes(sr) if charset == "ISO_IR 192" else to_bytes(_latin1_only(sr))

    result = deidentify_bytes(data, policy)

    assert result.status == "anonymized", result.reasons
    assert_no_third_party_phi(result.to_bytes())


def _latin1_only(ds: Dataset) -> Dataset:
    for elem in ds.iterall():
        if elem.keyword == "TextValue":
            elem.value = elem.value.replace("Ošetřující lékař", "Referring physician")
    return ds
