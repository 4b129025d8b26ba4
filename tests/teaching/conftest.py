"""A teaching world: published cases with real anonymized images (one normal study, one quiz,
one whose key image carries the lesion's region, on an image with known Pixel Spacing), a
teacher's collection of them, a class of two students and an assignment."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone
from pydicom.uid import generate_uid

from archive.models import Diagnosis, KeyImage
from teaching.models import Assignment, Collection, CollectionEntry, Membership, TeachingClass
from tests.conftest import _user
from tests.viewer.factories import ct_stack, make_case, pneumothorax

# Pixel Spacing of the lesion case: 0.5 mm between rows, 0.8 mm between columns (not square).
ROW_SPACING, COLUMN_SPACING = 0.5, 0.8
# The lesion: an ellipse centred on the 128 × 128 image, 0.1 of its width and height across
# each semi-axis: 0.1 × 128 × 0.8 = 10.24 mm horizontally, 0.1 × 128 × 0.5 = 6.4 mm vertically.
LESION = {"type": "ellipse", "cx": 0.5, "cy": 0.5, "rx": 0.1, "ry": 0.1, "label": ""}


def own_study(spacing: tuple[float, float] | None = None):
    def hook(ds):
        ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
        if spacing:
            ds.PixelSpacing = [f"{spacing[0]:g}", f"{spacing[1]:g}"]

    return hook


def _case(owner, title: str, slices: int = 1, spacing=None, **fields):
    return make_case(owner, ct_stack(slices, hook=own_study(spacing)), title=title, **fields)


@pytest.fixture
def second_student(db) -> User:
    return _user("student2", "student")


@pytest.fixture
def outsider(db) -> User:
    """A student of another class."""
    return _user("student3", "student")


@pytest.fixture
def cases(teacher):
    nodule = Diagnosis.objects.create(name="Pulmonary nodule", icd10="R91.1")
    fracture = Diagnosis.objects.create(name="Rib fracture", icd10="S22.3", synonyms="Broken rib")
    effusion = Diagnosis.objects.create(name="Pleural effusion", icd10="J90")
    made = {
        "ptx": _case(
            teacher,
            "Pneumothorax after a long flight",
            2,
            spacing=(ROW_SPACING, COLUMN_SPACING),
            history="Tall young man, sudden chest pain.",
            findings="Visceral pleural line.",
            diagnosis=pneumothorax(),
            differential="Bulla\nSkin fold",
            teaching_points="Look for the pleural line.",
        ),
        "nodule": _case(
            teacher, "Solitary nodule", history="Smoker, cough.", diagnosis=nodule
        ),
        "fracture": _case(
            teacher, "Rib fracture after a fall", history="Fell from a ladder.", diagnosis=fracture
        ),
        "effusion": _case(
            teacher, "Quiz: dyspnoea", history="Breathless for a week.", diagnosis=effusion,
            quiz_mode=True,
        ),
        "normal": _case(
            teacher, "Chest CT without findings", history="Screening.", is_normal=True
        ),
    }  # fmt: skip
    instance = made["ptx"].instances().order_by("instance_number").first()
    KeyImage.objects.create(
        case=made["ptx"], instance=instance, caption="The pleural line", annotations=[LESION]
    )
    return made


@pytest.fixture
def collection(teacher, cases):
    c = Collection.objects.create(owner=teacher, title="Chest emergencies")
    for n, key in enumerate(["ptx", "nodule", "normal", "fracture", "effusion"]):
        CollectionEntry.objects.create(collection=c, case=cases[key], position=n)
    return c


@pytest.fixture
def klass(teacher, student, second_student):
    k = TeachingClass.objects.create(name="Year 4 radiology", created_by=teacher)
    k.teachers.add(teacher)
    Membership.objects.create(klass=k, student=student)
    Membership.objects.create(klass=k, student=second_student)
    return k


@pytest.fixture
def assignment(klass, collection, teacher):
    now = timezone.now()
    return Assignment.objects.create(
        klass=klass,
        collection=collection,
        title="Week 1",
        opens_at=now - dt.timedelta(hours=1),
        due_at=now + dt.timedelta(days=7),
        created_by=teacher,
    )


def group(name: str) -> Group:
    return Group.objects.get(name=name)
