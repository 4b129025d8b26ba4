"""Cases with anonymized images (processed in-process), and a DICOM JSON Model checker."""

from __future__ import annotations

import base64
import functools
import re

import pytest

from archive.models import Case
from archive.services.cases import publish_case
from archive.services.intake import receive_files, received_from_bytes
from archive.services.processing import process_upload

TAG_RE = re.compile(r"^[0-9A-F]{8}$")
VALUE_KEYS = {"Value", "InlineBinary", "BulkDataURI"}


def assert_dicom_json(dataset: dict) -> None:
    """PS3.18 F.2: keys are 8 upper-case hex digits, each has a "vr" and at most one of
    Value / InlineBinary / BulkDataURI; sequences hold datasets, person names objects."""
    assert isinstance(dataset, dict)
    for tag, attribute in dataset.items():
        assert TAG_RE.match(tag), tag
        assert isinstance(attribute.get("vr"), str) and len(attribute["vr"]) == 2, (tag, attribute)
        assert set(attribute) <= {"vr"} | VALUE_KEYS, (tag, attribute)
        assert len(set(attribute) & VALUE_KEYS) <= 1, (tag, attribute)
        if "Value" in attribute:
            assert isinstance(attribute["Value"], list) and attribute["Value"], (tag, attribute)
            if attribute["vr"] == "SQ":
                for item in attribute["Value"]:
                    assert_dicom_json(item)
            elif attribute["vr"] == "PN":
                for name in attribute["Value"]:
                    assert set(name) <= {"Alphabetic", "Ideographic", "Phonetic"}, name
        if "InlineBinary" in attribute:
            base64.b64decode(attribute["InlineBinary"], validate=True)
        if "BulkDataURI" in attribute:
            assert attribute["BulkDataURI"].startswith("http"), attribute


@pytest.fixture(autouse=True)
def _fast_setup(settings, monkeypatch):
    """Cheap password hashes; burned-in text detection without the OCR confirmer, which these
    API tests do not need (an image whose pixels were not checked at all is never published)."""
    from archive.deid import Policy
    from archive.deid.pixels import ClassicalTextDetector, clean_pixels

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    policy = Policy(
        uid_key=settings.DEID_UID_KEY.encode(),
        pseudonym_key=settings.DEID_PSEUDONYM_KEY.encode(),
        pixel_cleaner=functools.partial(
            clean_pixels, detector=ClassicalTextDetector(confirmer=None)
        ),
    )
    monkeypatch.setattr("archive.services.processing.archive_policy", lambda: policy)


def basic(user) -> dict[str, str]:
    token = base64.b64encode(f"{user.username}:pw-{user.username}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def case_with_images(owner, files: list[bytes], **fields) -> Case:
    defaults = {"title": "Pneumothorax", "modality": "CT", "body_region": "chest"}
    case = Case.objects.create(owner=owner, **{**defaults, **fields})
    upload = receive_files(case=case, user=owner, files=[received_from_bytes(f) for f in files])
    process_upload(upload.pk)
    assert case.instances().count() == len(files), [i.reason for i in upload.items.all()]
    return case


@pytest.fixture
def published_case(teacher, phi_file) -> Case:
    case = case_with_images(teacher, [phi_file("CT_small.dcm"), phi_file("MR_small.dcm")])
    return publish_case(case=case)


@pytest.fixture
def draft_case(other_teacher, phi_file) -> Case:
    return case_with_images(other_teacher, [phi_file("SC_rgb_rle_2frame.dcm")], modality="OT")
