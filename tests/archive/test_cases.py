import pytest

from archive.models import AgeGroup
from archive.services.cases import age_group_from_dicom_age


@pytest.mark.parametrize(
    ("age", "group"),
    [
        ("003D", AgeGroup.NEONATE),
        ("002W", AgeGroup.NEONATE),
        ("006W", AgeGroup.CHILD),
        ("000Y", AgeGroup.UNKNOWN),  # what systems write when they do not know the age
        ("000D", AgeGroup.UNKNOWN),
        ("001Y", AgeGroup.CHILD),
        ("011M", AgeGroup.CHILD),
        ("017Y", AgeGroup.CHILD),
        ("018Y", AgeGroup.ADULT),
        ("064Y", AgeGroup.ADULT),
        ("065Y", AgeGroup.ELDERLY),
        ("090Y", AgeGroup.ELDERLY),
        ("", AgeGroup.UNKNOWN),
        ("45", AgeGroup.UNKNOWN),
        ("045X", AgeGroup.UNKNOWN),
    ],
)
def test_dicom_age_maps_to_the_age_group_facet(age, group):
    assert age_group_from_dicom_age(age) == group
